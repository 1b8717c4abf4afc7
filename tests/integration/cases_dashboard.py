"""
cases_dashboard.py - the web dashboard (issue 8, docs/api.md) in a real headless Chromium.

A sensor with telnet, http and the dashboard on free ports; events are planted with XSS payloads
as usernames, passwords, commands, URLs, User-Agents and an SNI; then tests/integration/
dash_browser.js (playwright-core from tools/webdeps.sh, Debian's chromium) logs in, opens every
view, watches the live feed and checks that nothing planted ever runs.  Screenshots go to
tests/artifacts/dashboard/.
"""
import base64
import hashlib
import http.client
import io
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import zipfile

from harness import T, Service, Skip, connect, free_port, wait_for

ALL = []
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHOTS = os.path.join(ROOT, "tests", "artifacts", "dashboard")
WEBDEPS = os.environ.get("HANIPO_WEBDEPS_DIR", "/var/lib/hanipo/webdeps")

XSS_IMG = "<img src=x onerror=window.__xss=1>"
XSS_SCRIPT = "\"><script>window.__xss=1</script>"
XSS_SVG = "<svg/onload=window.__xss=1>"          # no space: telnet takes the first word as user


def case(fn):
    ALL.append((fn.__name__, fn))
    return fn


def dash_daemon(ctx, label, password="dash-password-1"):
    port = free_port()
    d = ctx.daemon(label, [Service("telnet", protocol="telnet"), Service("web", protocol="http")])
    base_text = d.config_text

    def config_text():
        return base_text() + "\n[dashboard]\nenabled = true\nbind = 127.0.0.1\nport = %d\npassword = %s\n" % (
            port, password)
    d.config_text = config_text
    d.start()
    d.dash_url = "http://127.0.0.1:%d" % port

    def listening():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    # the dashboard binds after the services: wait for it too
    wait_for(listening, T(10), what="the dashboard port")
    wait_for(lambda: os.path.exists(os.path.join(d.data_dir, "dashboard.token")), T(5), what="the token file")
    with open(os.path.join(d.data_dir, "dashboard.token")) as f:
        d.token = f.read().strip()
    return d


def get(d, path, token=None, cookie=None):
    req = urllib.request.Request(d.dash_url + path)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if cookie:
        req.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(req, timeout=T(10)) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def api(d, path):
    st, h, body = get(d, "/api/" + path, token=d.token)
    assert st == 200, (path, st, body[:300])
    return json.loads(body)


def telnet_session(port, logins, commands):
    """logins: [(user, password), ...] tried in order (the last one should be accepted)."""
    s = connect(port)
    s.settimeout(T(2))

    def pause():
        time.sleep(0.4)
        try:
            s.recv(65536)
        except OSError:
            pass
    pause()
    for line in [x for pair in logins for x in pair] + commands + ["exit"]:
        s.sendall(line.encode() + b"\r\n")
        pause()
    s.close()


def http_request(port, path, ua, user, password, tls_sni=None):
    auth = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    req = ("GET %s HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: %s\r\nAuthorization: Basic %s\r\n"
           "Connection: close\r\n\r\n" % (path, ua, auth)).encode()
    raw = socket.create_connection(("127.0.0.1", port), timeout=T(5))
    s = raw
    if tls_sni:
        c = ssl.create_default_context()
        c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE
        s = c.wrap_socket(raw, server_hostname=tls_sni)
    s.sendall(req)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()


@case
def dashboard_api_auth_and_headers(ctx):
    """401 without or with a wrong token; JSON answers with nosniff, no-store and the CSP; bad
    parameters are 400; the login form sets an HttpOnly SameSite=Strict cookie; a stored payload is
    only served as an 'infected' zip and a hex view."""
    d = dash_daemon(ctx, "dash-api")
    for path in ("/api/overview", "/api/sessions", "/api/stream", "/api/status"):
        st, h, _ = get(d, path)
        assert st == 401, (path, st)
        st, h, _ = get(d, path, token="0" * 64)
        assert st == 401, (path, st)
    st, h, body = get(d, "/")
    assert st == 401 and b'action="/login"' in body, st
    st, h, body = get(d, "/api/overview?last=1h", token=d.token)
    assert st == 200, (st, body)
    assert h["Content-Type"] == "application/json", h
    assert h["X-Content-Type-Options"] == "nosniff" and h["Cache-Control"] == "no-store", h
    assert "script-src 'self'" in h["Content-Security-Policy"] and "frame-ancestors 'none'" in h[
        "Content-Security-Policy"], h
    # the live feed (attacker text too) has the same headers; it never ends, so only they are read
    conn = http.client.HTTPConnection(d.dash_url[len("http://"):], timeout=T(5))
    conn.request("GET", "/api/stream", headers={"Authorization": "Bearer " + d.token})
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Content-Type").startswith("text/event-stream"), r.status
    assert r.getheader("X-Content-Type-Options") == "nosniff" and r.getheader("Cache-Control") == "no-store", \
        r.getheaders()
    assert "frame-ancestors 'none'" in (r.getheader("Content-Security-Policy") or ""), r.getheaders()
    conn.close()
    for bad in ("last=1y", "from=yesterday", "limit=100000", "nope=1", "ip=1.2.3", "cc=xx", "last=1h&last=1d"):
        st, _, body = get(d, "/api/sessions?" + bad, token=d.token)
        assert st == 400, (bad, st, body)
    # login form: password and token both work, cookie flags
    for secret in ("dash-password-1", d.token):
        req = urllib.request.Request(d.dash_url + "/login", data=("secret=" + secret).encode(), method="POST")

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **kw):
                return None
        try:
            urllib.request.build_opener(NoRedirect).open(req, timeout=T(5))
            raise AssertionError("no redirect")
        except urllib.error.HTTPError as e:
            assert e.code == 303, e.code
            cookie = e.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
        st, _, _ = get(d, "/api/status", cookie=cookie.split(";")[0])
        assert st == 200, st
    # payload zip + hex, never raw
    data = b"\x7fELF" + os.urandom(3000) + b"<script>window.__xss=1</script>"
    sha = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(d.data_dir, "payloads"), exist_ok=True)
    with open(os.path.join(d.data_dir, "payloads", sha), "wb") as f:
        f.write(data)
    st, h, body = get(d, "/api/payload/%s/zip" % sha, token=d.token)
    assert st == 200 and h["Content-Type"] == "application/zip", (st, h)
    z = zipfile.ZipFile(io.BytesIO(body))
    assert z.infolist()[0].flag_bits & 1, "zip entry is not encrypted"
    try:
        z.read(z.namelist()[0])
        raise AssertionError("zip opened without the password")
    except RuntimeError:
        pass
    assert z.read(z.namelist()[0], pwd=b"infected") == data
    hx = api(d, "payload/%s/hex?pos=0" % sha)
    assert hx["size"] == len(data) and hx["rows"][0]["hex"].startswith("7f 45 4c 46"), hx["rows"][0]
    st, _, _ = get(d, "/api/payload/%s" % sha, token=d.token)
    assert st == 404
    st, _, _ = get(d, "/api/payload/../../etc/passwd/zip", token=d.token)
    assert st in (400, 404)
    d.stop()


def stream_clients(d):
    return api(d, "status")["stream"]["clients"]


@case
def dashboard_stream_head_holds_no_slot(ctx):
    """HEAD /api/stream is answered with the head a GET gets (200, event-stream, the security
    headers) and holds none of the 32 live-feed slots, even with its connection left open: a GET
    after 40 open HEADs still gets the feed."""
    d = dash_daemon(ctx, "dash-head")
    host = d.dash_url[len("http://"):]
    heads = []
    for _ in range(40):
        conn = http.client.HTTPConnection(host, timeout=T(5))
        conn.request("HEAD", "/api/stream", headers={"Authorization": "Bearer " + d.token})
        r = conn.getresponse()
        assert r.status == 200 and r.getheader("Content-Type").startswith("text/event-stream"), r.status
        assert r.getheader("X-Content-Type-Options") == "nosniff", r.getheaders()
        r.read()
        heads.append(conn)                  # left open: a slot would stay taken
    assert stream_clients(d) == 0, stream_clients(d)
    conn = http.client.HTTPConnection(host, timeout=T(5))
    conn.request("GET", "/api/stream", headers={"Authorization": "Bearer " + d.token})
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Content-Type").startswith("text/event-stream"), r.status
    wait_for(lambda: stream_clients(d) == 1, T(5), what="the GET's live-feed slot")
    conn.close()
    for c in heads:
        c.close()
    d.stop()


DASH_CONNS_MAX = 64                         # src/web/dash.c CONNS_MAX, docs/api.md


def answered(s, wait):
    """The status line of the answer on s, or None when none comes within wait seconds."""
    s.settimeout(wait)
    try:
        data = s.recv(4096)
    except socket.timeout:
        return None
    return data.split(b"\r\n", 1)[0] if data else b"closed"


@case
def dashboard_connection_cap(ctx):
    """At most 64 open dashboard connections: with 74 opened (keep-alive, each sends a request),
    64 are answered, the other 10 wait unaccepted in the kernel's backlog (no descriptor of ours)
    while the sensor's services still accept; closing 10 lets the waiting ones in."""
    d = dash_daemon(ctx, "dash-cap")
    time.sleep(0.5)                         # the start-up probes' connections are gone
    port = int(d.dash_url.rsplit(":", 1)[1])
    req = ("GET /api/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % d.token).encode()
    socks = []
    for _ in range(DASH_CONNS_MAX + 10):
        s = connect(port)
        s.sendall(req)
        socks.append(s)
    lines = [answered(s, T(5)) for s in socks[:DASH_CONNS_MAX]]
    assert lines == [b"HTTP/1.1 200 OK"] * DASH_CONNS_MAX, lines
    time.sleep(1.0)
    extra = [answered(s, 0.01) for s in socks[DASH_CONNS_MAX:]]
    assert extra == [None] * 10, extra
    t = connect(d.svc("telnet").port)
    t.settimeout(T(5))
    assert t.recv(100), "no telnet greeting"
    t.close()
    for s in socks[:10]:
        s.close()
    lines = [answered(s, T(5)) for s in socks[DASH_CONNS_MAX:]]
    assert lines == [b"HTTP/1.1 200 OK"] * 10, lines
    for s in socks[10:]:
        s.close()
    d.stop()


def find_session(d, pred, what):
    """(session, ts_us) of the first session.connect whose session has an event matching pred."""
    found = {}

    def check():
        for e in d.sqlite_events():
            if pred(e):
                found["s"] = e["session"]
                return True
        return False
    wait_for(check, T(10), what=what)
    for row in d.sqlite_rows():
        if row["session"] == found["s"] and row["eventid"] == "session.connect":
            return found["s"], row["ts"]
    raise AssertionError("no session.connect for " + found["s"])


@case
def dashboard_views_in_chromium_xss_inert(ctx):
    """Headless Chromium (playwright-core): login page without credentials, every view renders with
    drawn charts, the live feed shows a login made during the test, a session replay plays, and XSS
    payloads planted as username, password, command, URL, User-Agent and SNI show as text and never run."""
    if not shutil.which("node") or not os.path.exists("/usr/bin/chromium"):
        raise Skip("node or chromium missing")
    if not os.path.isdir(os.path.join(WEBDEPS, "node_modules", "playwright-core")):
        raise Skip("playwright-core not installed (tools/webdeps.sh)")
    d = dash_daemon(ctx, "dash-ui")
    tport, wport = d.svc("telnet").port, d.svc("web").port
    telnet_session(tport, [(XSS_SVG, XSS_SCRIPT), ("root", "xc3511")], ["echo " + XSS_IMG, "uname -a"])
    http_request(wport, "/cgi-bin/<script>window.__xss=1</script>", XSS_IMG, XSS_IMG, XSS_SCRIPT)
    http_request(wport, "/tls-path", "tls-agent", "admin", "admin", tls_sni="svg.onload.example" + XSS_SVG)
    tel_s, tel_t = find_session(d, lambda e: e.get("eventid") == "log.closed", "a telnet recording")
    tls_s, tls_t = find_session(d, lambda e: e.get("eventid") == "tls.client_hello", "a TLS client hello")
    wait_for(lambda: api(d, "credentials?last=1h")["http_cred"], T(10), what="roll-ups to show the logins")
    conf = {
        "base": d.dash_url, "token": d.token, "telnet_port": tport, "shots": SHOTS,
        "xss_user": XSS_SVG,
        "xss_visible": [XSS_SVG, XSS_SCRIPT, XSS_IMG, "echo " + XSS_IMG,
                        "/cgi-bin/<script>window.__xss=1</script>", "svg.onload.example" + XSS_SVG],
        "sessions": [{"id": tel_s, "t": tel_t, "cast": True}, {"id": tls_s, "t": tls_t, "cast": False}],
    }
    cpath = os.path.join(d.tmp, "browser.json")
    with open(cpath, "w") as f:
        json.dump(conf, f)
    r = subprocess.run(["node", os.path.join(HERE, "dash_browser.js"), cpath], capture_output=True,
                       timeout=T(180), env=dict(os.environ, HANIPO_WEBDEPS_DIR=WEBDEPS))
    out = r.stdout.decode(errors="replace").strip().splitlines()
    assert out, "dash_browser.js printed nothing: " + r.stderr.decode(errors="replace")[-2000:]
    res = json.loads(out[-1])
    for n in res["notes"]:
        ctx.note(n)
    ctx.note("screenshots in " + os.path.relpath(SHOTS, ROOT))
    assert res["ok"], "\n".join(res["failures"])
    d.stop()
