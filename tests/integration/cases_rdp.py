"""
cases_rdp.py - integration cases for the Remote Desktop front-end (protocol = rdp).

Imported by run.py after cases.py; every @case here is appended to cases.ALL.

nmap -sV names Microsoft Terminal Services, and its rdp-ntlm-info script reads the sensor's
Windows names out of our NTLM CHALLENGE (they must be the identity's windows_hostname);
rdp-enum-encryption sees CredSSP offered.  A CredSSP client (xfreerdp +auth-only when an X
display is available, else impacket's rdp_check) authenticates as CORP\\bob: one login.failed
with user, domain and a NetNTLMv2 hashcat line that is verified here with the password.  Raw
X.224 requests check the negotiation answers byte for byte and the logged cookie.
"""
import os
import re
import shutil
import socket
import subprocess

from harness import T, Service, Skip, by
from cases import case, stop_and_read
from cases_mssql import identity, verify_netntlmv2


def cr(cookie=b"", protocols=None):
    body = b"\xe0\0\0\0\0\0" + cookie
    if protocols is not None:
        body += b"\x01\x00\x08\x00" + protocols.to_bytes(4, "little")
    x = bytes([len(body)]) + body
    return b"\x03\x00" + (len(x) + 4).to_bytes(2, "big") + x


def exchange(port, data, want=19):
    s = socket.create_connection(("127.0.0.1", port), timeout=T(5))
    s.sendall(data)
    out = b""
    try:
        while len(out) < want:
            d = s.recv(64)
            if not d:
                break
            out += d
    finally:
        s.close()
    return out


@case
def rdp_negotiation_bytes(ctx):
    svc = Service("rdp", protocol="rdp")
    d = ctx.daemon("rdp-neg", [svc])
    d.start()
    cc = b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00"
    assert exchange(svc.port, cr(b"Cookie: mstshash=Test\r\n", 0)) == cc + b"\x03\x00\x08\x00\x01\x00\x00\x00"
    assert exchange(svc.port, cr(b"Cookie: mstshash=administrator\r\n", 1)) == cc + b"\x03\x00\x08\x00\x05\x00\x00\x00"
    assert exchange(svc.port, cr(b"", 3))[:19] == cc + b"\x02\x1f\x08\x00\x02\x00\x00\x00"
    assert exchange(svc.port, cr(b"Cookie: msts=3640205228.15629.0000\r\n"), 11) == b"\x03\x00\x00\x0b\x06\xd0\x00\x00\x12\x34\x00"
    d.wait_event(lambda e: e["eventid"] == "rdp.connect_request", count=4, timeout=T(10), what="4 requests")
    evs = stop_and_read(d)
    reqs = by(evs, "rdp.connect_request")
    assert [r.get("username") for r in reqs] == ["Test", "administrator", None, None], reqs
    assert [r["answer"] for r in reqs] == ["ssl_required", "hybrid_required", "hybrid", "legacy"], reqs
    assert reqs[2]["protocols"] == ["ssl", "hybrid"] and reqs[3]["routing_token"] == "3640205228.15629.0000", reqs


@case
def rdp_nmap(ctx):
    if not shutil.which("nmap"):
        raise Skip("nmap not installed")
    svc = Service("rdp", protocol="rdp")
    d = ctx.daemon("rdp-nmap", [svc])
    d.start()
    r = subprocess.run(["nmap", "-Pn", "-n", "-sV", "--script", "rdp-ntlm-info,rdp-enum-encryption",
                        "-p", str(svc.port), "127.0.0.1"],
                       capture_output=True, stdin=subprocess.DEVNULL, timeout=T(120))
    out = r.stdout.decode("utf-8", "replace")
    assert "honeypot" not in out.lower(), out
    line = [l for l in out.splitlines() if l.startswith("%d/tcp" % svc.port)]
    assert line and "ms-wbt-server" in line[0] and "Microsoft Terminal Service" in line[0], out
    host = identity(d, "windows_hostname")
    assert re.search(r"NetBIOS_Computer_Name: %s\b" % re.escape(host), out), out
    build = identity(d, "windows_build")
    assert "Product_Version: %s" % build in out, out
    assert "CredSSP (NLA): SUCCESS" in out, out
    ctx.note("nmap: %s; computer %s, %s" % (re.sub(r"\s+", " ", line[0]), host, build))
    stop_and_read(d)


def credssp_client(port, tmp):
    """Run a CredSSP client as CORP\\bob / Secret123; returns its name."""
    if os.environ.get("DISPLAY") and shutil.which("xfreerdp"):
        subprocess.run(["xfreerdp", "/v:127.0.0.1:%d" % port, "/u:bob", "/p:Secret123", "/d:CORP",
                        "/cert:ignore", "+auth-only"], capture_output=True, stdin=subprocess.DEVNULL, timeout=T(30))
        return "xfreerdp"
    src = "/usr/share/doc/python3-impacket/examples/rdp_check.py"
    if not os.path.exists(src):
        raise Skip("neither an X display for xfreerdp nor impacket's rdp_check.py")
    with open(src) as f:
        code = f.read()
    assert "s.connect((host,3389))" in code
    script = os.path.join(tmp, "rdp_check.py")
    with open(script, "w") as f:
        f.write(code.replace("s.connect((host,3389))", "s.connect((host,%d))" % port))
    subprocess.run(["/usr/bin/python3", script, "CORP/bob:Secret123@127.0.0.1"], capture_output=True,
                   stdin=subprocess.DEVNULL, timeout=T(30))
    return "impacket rdp_check"


@case
def rdp_credssp_ntlm_login(ctx):
    svc = Service("rdp", protocol="rdp")
    d = ctx.daemon("rdp-credssp", [svc])
    d.start()
    client = credssp_client(svc.port, d.tmp)
    d.wait_event(lambda e: e["eventid"] == "login.failed", timeout=T(10), what="login.failed")
    evs = stop_and_read(d)
    failed = by(evs, "login.failed")
    assert len(failed) == 1, failed
    e = failed[0]
    assert (e["protocol"], e["username"], e["domain"], e["method"]) == ("rdp", "bob", "CORP", "ntlm"), e
    assert e["hash_format"] == "hashcat:5600", e
    verify_netntlmv2(e["hash"], "bob", "CORP", "Secret123")
    neg = by(evs, "rdp.ntlm_negotiate")
    assert len(neg) == 1 and neg[0]["session"] == e["session"], neg
    assert by(evs, "tls.client_hello"), "no ClientHello fingerprint"
    ctx.note("%s: login.failed CORP\\bob, hashcat 5600 line verified" % client)
