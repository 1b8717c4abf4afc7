"""
cases_vnc.py - integration cases for the VNC front-end (protocol = vnc).

Imported by run.py after cases.py; every @case here is appended to cases.ALL.

hydra's vnc module and nmap (-sV and the vnc-info script) drive the sensor,
and a small Python RFB client checks the exact bytes of the 3.3 and 3.8
handshakes.  Every VNC authentication must be one login.failed event with
the challenge and response, and the password where the shipped wordlist
holds it (computed here independently of the sensor: the DES response of a
password is checked against what the sensor recovered).
"""
import collections
import os
import re
import shutil
import socket
import subprocess
import time

from harness import T, Service, Skip, by, run_hydra, wait_for, identity
from cases import case, stop_and_read


def vnc_svc(name, **opts):
    return Service(name, protocol="vnc", tcp=1, **opts)


def recv_exact(s, n, timeout=None):
    s.settimeout(timeout or T(5))
    out = b""
    while len(out) < n:
        d = s.recv(n - len(out))
        if not d:
            raise AssertionError("connection closed after %r (wanted %d bytes)" % (out, n))
        out += d
    return out


def recv_eof(s, timeout=None):
    """Everything until the server closes."""
    s.settimeout(timeout or T(5))
    out = b""
    while True:
        d = s.recv(4096)
        if not d:
            return out
        out += d


def john_vnc(ev):
    m = re.match(r"^\$vnc\$\*([0-9a-f]{32})\*([0-9a-f]{32})$", ev["hash"])
    assert m, ev
    assert m.group(1) == ev["challenge"] and m.group(2) == ev["response"], ev
    assert ev["hash_format"] == "john:vnc", ev


# ---- 1. hydra: one event per attempt, passwords recovered ------------------------------------------

@case
def vnc_hydra_attempts(ctx):
    if not shutil.which("hydra"):
        raise Skip("hydra not installed")
    svc = vnc_svc("vnc", personality="tigervnc")
    d = ctx.daemon("vnc-hydra", [svc])
    d.start()
    # Two are in data/knowledge/vnc_passwords.txt, one is not.
    passwords = ["letmein", "raspberry", "Qz7-kw9!"]
    plist = os.path.join(d.tmp, "passwords.txt")
    with open(plist, "w") as f:
        f.write("\n".join(passwords) + "\n")
    r, out, before = run_hydra(d, ["-I", "-P", plist, "-t", "3", "-V", "-s", str(svc.port), "127.0.0.1", "vnc"])
    attempts = re.findall(r'^\[(?:RE-)?ATTEMPT\] target \S+ - login "(.*)" - pass "(.*)" - \d+ of \d+', out, re.M)
    assert r.returncode == 0 and "0 valid password" in out, out[-2000:] + r.stderr.decode()[-1000:]
    assert sorted(p for _, p in attempts) == sorted(passwords), out
    d.wait_event(lambda e: e["eventid"] == "login.failed", count=before + len(passwords), timeout=T(10),
                 what="%d login.failed" % len(passwords))
    time.sleep(T(0.5))                     # nothing more may come
    evs = d.events()
    failed = by(evs, "login.failed")[before:]
    assert len(failed) == len(passwords), failed
    assert len({e["session"] for e in failed}) == len(failed)          # one attempt per connection
    got = collections.Counter(e.get("password") for e in failed)
    # VNC keys DES with the first 8 bytes: "raspberry" is recovered as "raspberr".
    assert got == collections.Counter(["letmein", "raspberr", None]), got
    for e in failed:
        assert e["protocol"] == "vnc" and e["method"] == "vnc" and e["username"] == "", e
        assert e["password_recovered"] == ("password" in e), e
        assert e["rfb_version"] == "3.7", e                  # hydra answers a 3.8 server with 3.7
        john_vnc(e)
    sessions = {e["session"] for e in failed}      # those of the run that counts (run_hydra)
    versions = [v for v in by(evs, "vnc.client_version") if v["session"] in sessions]
    assert len(versions) == len(passwords) and all(v["client_version"] == "RFB 003.007" for v in versions)
    ctx.note("hydra: %d attempts, %d login.failed, recovered %s" % (
        len(attempts), len(failed), sorted(p for p in got if p)))
    stop_and_read(d)


# ---- 2. nmap -sV and vnc-info -----------------------------------------------------------------------

@case
def vnc_nmap(ctx):
    if not shutil.which("nmap"):
        raise Skip("nmap not installed")
    svc = vnc_svc("vnc")                   # the identity's server family
    d = ctx.daemon("vnc-nmap", [svc])
    d.start()
    fam = identity(d, "vnc_server")
    assert fam in ("tigervnc", "x11vnc", "tightvnc", "rfb33"), fam
    r = subprocess.run(["nmap", "-Pn", "-n", "-sV", "--script", "vnc-info", "-p", str(svc.port), "127.0.0.1"],
                       capture_output=True, stdin=subprocess.DEVNULL, timeout=T(120))
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, r.stderr[-500:]
    assert "honeypot" not in out.lower(), out
    minor = "3" if fam == "rfb33" else "8"
    line = [l for l in out.splitlines() if l.startswith("%d/tcp" % svc.port)]
    assert line and re.match(r"^%d/tcp\s+open\s+vnc\s+VNC \(protocol 3\.%s\)$" % (svc.port, minor), line[0]), out
    assert "Protocol version: 3.%s" % minor in out, out
    if fam != "rfb33":
        # TigerVNC (Xvnc's default) lists VeNCrypt first, and nmap walks its sub-types.
        assert re.search(r"Security types:\s*\n(\|\s+VeNCrypt \(19\)\n)?\|_?\s+VNC Authentication \(2\)", out), out
        if fam == "tigervnc":
            assert "VNC auth, Anonymous TLS (258)" in out, out
    ctx.note("nmap (%s): %s" % (fam, re.sub(r"\s+", " ", line[0])))
    d.stop()
    # The family stays the same across restarts.
    d.start()
    d.wait_event(lambda e: e["eventid"] == "sensor.start", count=2, timeout=T(10), what="second sensor.start")
    assert identity(d, "vnc_server") == fam
    d.stop()


# ---- 3. the exact bytes -------------------------------------------------------------------------------

def des_response(challenge, password):
    """VNC's DES response, computed with the openssl command line (independent of the sensor)."""
    if not shutil.which("openssl"):
        raise Skip("openssl not installed")
    key = bytes(int("{:08b}".format(c)[::-1], 2) for c in password.encode()[:8]).ljust(8, b"\0")
    r = subprocess.run(["openssl", "enc", "-des-ecb", "-nopad", "-K", key.hex(), "-provider", "legacy",
                        "-provider", "default"], input=challenge, capture_output=True, timeout=30)
    if r.returncode != 0:
        raise Skip("openssl has no des-ecb: %r" % r.stderr[-200:])
    return r.stdout


@case
def vnc_wire_bytes(ctx):
    x11 = vnc_svc("x11", personality="x11vnc")
    old = vnc_svc("old", personality="rfb33")
    d = ctx.daemon("vnc-wire", [x11, old])
    d.start()
    # 3.8: the list, the challenge, the failure with x11vnc's reason, then close.
    with socket.create_connection(("127.0.0.1", x11.port), timeout=T(5)) as s:
        assert recv_exact(s, 12) == b"RFB 003.008\n"
        s.sendall(b"RFB 003.008\n")
        assert recv_exact(s, 2) == b"\x01\x02"
        s.sendall(b"\x02")
        chal = recv_exact(s, 16)
        s.sendall(des_response(chal, "admin"))
        rest = recv_eof(s)
        assert rest == b"\0\0\0\1\0\0\0\x16password check failed!", rest
    # 3.3 server: type 2 imposed with the challenge, no reason.
    with socket.create_connection(("127.0.0.1", old.port), timeout=T(5)) as s:
        assert recv_exact(s, 12) == b"RFB 003.003\n"
        s.sendall(b"RFB 003.008\n")
        hdr = recv_exact(s, 20)
        assert hdr[:4] == b"\0\0\0\2", hdr
        s.sendall(b"\x11" * 16)
        assert recv_eof(s) == b"\0\0\0\1"
    # Not an RFB client: closed without an answer.
    with socket.create_connection(("127.0.0.1", x11.port), timeout=T(5)) as s:
        recv_exact(s, 12)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert recv_eof(s) == b""
    wait_for(lambda: len(by(d.events(), "login.failed")) >= 2, T(5), what="2 login.failed")
    evs = stop_and_read(d)
    failed = by(evs, "login.failed")
    assert len(failed) == 2, failed
    a = [e for e in failed if e["dst_port"] == x11.port][0]
    assert a["password"] == "admin" and a["password_recovered"] and a["rfb_version"] == "3.8", a
    assert a["challenge"] == chal.hex(), a
    john_vnc(a)
    b = [e for e in failed if e["dst_port"] == old.port][0]
    assert "password" not in b and b["response"] == "11" * 16 and b["rfb_version"] == "3.3", b
    bad = [e for e in by(evs, "vnc.client_version") if "rfb_version" not in e]
    assert len(bad) == 1 and bad[0]["client_version"] == "GET / HTTP/1", bad
    closed = [e for e in by(evs, "session.closed") if e.get("session") == bad[0]["session"]]
    assert closed and closed[0].get("reason") == "vnc_bad_version", closed
