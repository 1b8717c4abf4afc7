"""
cases_adb.py - integration cases for the Android Debug Bridge service (protocol = adb, issue 10).

Imported by run.py after cases.py; every @case here is appended to cases.ALL.

Debian's adb client drives the sensor (adb connect, adb shell with a command and with a
script on stdin, adb push, adb pull, adb root/remount), each test with its own ADB server
port (-P) and HOME, killed at the end; nmap -sV must call it an Android Debug Bridge; a
raw client speaks the old checksummed protocol byte for byte (CNXN, shell:, exec:,
refused services, a bad checksum and a bad magic ending the connection).
"""
import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time

from harness import T, Service, Skip, by, free_port, wait_for, identity
from cases import case, stop_and_read

DEVICES = {   # ro.product.name -> (model, device, has features)
    "p281": ("MXQ Pro 4K", "p281", True),
    "q201_9377": ("X96mini", "q201_9377", True),
    "rk322x_box": ("MXQ-4K", "rk322x_box", True),
    "rk3328_box": ("rk3328_box", "rk3328_box", True),
    "rk3318_box": ("H96 MAX", "rk3318_box", True),
    "u212": ("X96Max", "u212", True),
    "trident": ("TX6", "trident", True),
    "ampere": ("X96 Air", "ampere", True),
    "b860h": ("B860H", "b860h", False),
}


class Adb:
    """The adb client with a private server port and HOME."""

    def __init__(self, ctx):
        if not shutil.which("adb"):
            raise Skip("adb not installed")
        self.sport = free_port()
        self.home = tempfile.mkdtemp(prefix="hanipo-adb-home-")
        self.env = dict(os.environ, HOME=self.home, ANDROID_ADB_SERVER_PORT=str(self.sport))
        self.env.pop("ADB_SERVER_SOCKET", None)
        ctx.defer(self.kill)

    def run(self, *args, stdin=None, timeout=None):
        r = subprocess.run(["adb", "-P", str(self.sport)] + list(args), env=self.env, capture_output=True,
                           input=stdin if stdin is not None else b"", timeout=timeout or T(30))
        return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")

    def kill(self):
        try:
            subprocess.run(["adb", "-P", str(self.sport), "kill-server"], env=self.env, capture_output=True,
                           timeout=T(10))
        except Exception:
            pass
        shutil.rmtree(self.home, ignore_errors=True)


def adb_session(ctx, label, **opts):
    svc = Service("adb", protocol="adb", tcp=1, **opts)
    d = ctx.daemon(label, [svc])
    d.start()
    a = Adb(ctx)
    target = "127.0.0.1:%d" % svc.port
    rc, out, err = a.run("connect", target)
    assert rc == 0 and "connected to %s" % target in out, (rc, out, err)
    wait_for(lambda: re.search(re.escape(target) + r"\s+device\b", a.run("devices")[1]), T(10),
             what="device online")
    return svc, d, a, target


def shell_push(ctx, device=None):
    opts = {"device": device} if device else {}
    svc, d, a, target = adb_session(ctx, "adb-client-%s" % (device or "drawn"), **opts)
    name = identity(d, "adb_device") if not device else device
    assert name in DEVICES, name
    model = DEVICES[name][0]
    cmd = "uname -a; id; getprop ro.product.model"
    rc, out, err = a.run("-s", target, "shell", cmd)
    assert rc == 0, (rc, out, err)
    if DEVICES[name][2]:      # shell_v2 carries the exit status
        assert a.run("-s", target, "shell", "exit 3")[0] == 3
    lines = out.splitlines()
    assert re.match(r"^Linux \S+ \S+ ", lines[0]), out
    assert lines[1].startswith("uid=0(root) gid=0(root)"), out
    assert lines[2] == model, out
    # a dropper pushed to /data/local/tmp, then made executable and listed from a shell
    blob = os.urandom(70000) + b"\x7fELF trinity dropper"
    src = os.path.join(a.home, "dropper.bin")
    with open(src, "wb") as f:
        f.write(blob)
    rc, out, err = a.run("-s", target, "push", src, "/data/local/tmp/x")
    assert rc == 0 and "1 file pushed" in out + err, (rc, out, err)
    rc, out, err = a.run("-s", target, "shell", "chmod 755 /data/local/tmp/x; ls -l /data/local/tmp/x")
    assert rc == 0 and "rwxr-xr-x" in out and str(len(blob)) in out, (rc, out, err)
    back = os.path.join(a.home, "back.bin")
    rc, out, err = a.run("-s", target, "pull", "/data/local/tmp/x", back)
    assert rc == 0, (rc, out, err)
    with open(back, "rb") as f:
        assert f.read() == blob
    rc, out, err = a.run("-s", target, "pull", "/data/local/tmp/nothere", back)
    assert rc != 0 and ("No such file or directory" in out + err or "does not exist" in out + err), (rc, out, err)
    # shell_v2 without a tty: the shell reads stdin as a script; a pre-N device has no way to
    # pass EOF and runs an interactive shell on a pty: "exit" ends both
    rc, out, err = a.run("-s", target, "shell", stdin=b"echo scripted-$((6*7))\ncd /data/local/tmp && pwd\nexit\n")
    assert "scripted-42" in out and "/data/local/tmp" in out, (rc, out, err)
    if DEVICES[name][2]:      # a forced pty (adb shell -tt): the interactive shell with its prompt and echo
        rc, out, err = a.run("-s", target, "shell", "-tt", stdin=b"echo pty-$((2+3))\nexit\n")
        assert "pty-5\r\n" in out and "# " in out, (rc, out, err)
    rc, out, err = a.run("-s", target, "root")
    assert "adbd is already running as root" in out + err, (rc, out, err)
    evs = stop_and_read(d)
    con = by(evs, "adb.connect")
    assert con and con[0]["banner"].startswith("host::") and "shell_v2" in con[0].get("features", ""), con
    assert by(evs, "adb.open", kind="shell", shell_v2=True) if DEVICES[name][2] else \
        not by(evs, "adb.open", shell_v2=True)
    assert con[0]["device"] == name
    assert by(evs, "command.input", input=cmd), [e for e in evs if e["eventid"] == "command.input"]
    assert by(evs, "command.input", input="echo scripted-$((6*7))")
    opens = by(evs, "adb.open")
    kinds = {e["kind"] for e in opens}
    assert {"shell", "sync", "root"} <= kinds, opens
    assert by(evs, "adb.open", kind="shell", command=cmd, accepted=True), opens
    up = by(evs, "session.file_upload", protocol_detail="adb")
    assert len(up) == 1, up
    assert up[0]["filename"] == "/data/local/tmp/x" and up[0]["shasum"] == hashlib.sha256(blob).hexdigest(), up
    assert up[0]["size"] == len(blob)
    assert os.path.exists(os.path.join(d.data_dir, "payloads", up[0]["shasum"]))
    miss = by(evs, "adb.sync", path="/data/local/tmp/nothere")
    assert miss and miss[0]["error"] == "No such file or directory", miss
    assert by(evs, "adb.sync", op="recv", path="/data/local/tmp/x")
    ctx.note("%s (%s): %d events" % (name, model, len(evs)))


@case
def adb_shell_push(ctx):
    """The sensor's drawn device."""
    shell_push(ctx)


@case
def adb_shell_push_kitkat(ctx):
    """A pre-N adbd: version 0x01000000 (checksums), 4 KiB payloads, no shell_v2, no stat_v2."""
    shell_push(ctx, "b860h")


@case
def adb_shell_push_nougat(ctx):
    """Android 7: shell_v2 but STAT/LIST v1."""
    shell_push(ctx, "p281")


def nmap_datadir(port):
    """nmap's own probes, with the adbConnect probe (rarity 8, "ports 5555") also sent to
    our test port: the sensor then answers exactly what nmap sees on a real 5555."""
    with open("/usr/share/nmap/nmap-service-probes") as f:
        text = f.read()
    i = text.index("Probe TCP adbConnect")
    j = text.index("ports 5555", i)
    text = text[:j] + "ports 5555,%d" % port + text[j + len("ports 5555"):]
    d = tempfile.mkdtemp(prefix="hanipo-adb-nmap-")
    with open(os.path.join(d, "nmap-service-probes"), "w") as f:
        f.write(text)
    return d


@case
def adb_nmap(ctx):
    if not shutil.which("nmap") or not os.path.exists("/usr/share/nmap/nmap-service-probes"):
        raise Skip("nmap not installed")
    for dev in ("p281", "b860h"):
        svc = Service("adb", protocol="adb", tcp=1, device=dev)
        d = ctx.daemon("adb-nmap-" + dev, [svc])
        d.start()
        dd = nmap_datadir(svc.port)
        ctx.defer(lambda dd=dd: shutil.rmtree(dd, ignore_errors=True))
        r = subprocess.run(["nmap", "-Pn", "-n", "--datadir", dd, "-sV", "-p", str(svc.port), "127.0.0.1"],
                           capture_output=True, stdin=subprocess.DEVNULL, timeout=T(120))
        out = r.stdout.decode("utf-8", "replace")
        assert "honeypot" not in out.lower(), out
        line = [l for l in out.splitlines() if l.startswith("%d/tcp" % svc.port)]
        model, device, _ = DEVICES[dev]
        assert line and "Android Debug Bridge device" in line[0], out
        assert "name: %s; model: %s; device: %s" % (dev, model, device) in line[0], out
        ctx.note("nmap: " + re.sub(r"\s+", " ", line[0]))
        d.stop()


# ---- a raw client: the old checksummed protocol, byte for byte ---------------------------------------

def msg(cmd, a0, a1, data=b"", check=True):
    c = struct.unpack("<I", cmd)[0]
    return struct.pack("<6I", c, a0, a1, len(data), sum(data) if check else 0, c ^ 0xffffffff) + data


def read_msg(s):
    hdr = b""
    while len(hdr) < 24:
        b = s.recv(24 - len(hdr))
        if not b:
            return None
        hdr += b
    c, a0, a1, n, chk, magic = struct.unpack("<6I", hdr)
    assert magic == c ^ 0xffffffff, hdr
    data = b""
    while len(data) < n:
        b = s.recv(n - len(data))
        assert b, "short data"
        data += b
    assert chk == sum(data), "the device checksums for a v1.0.0.0 client"
    return struct.pack("<I", c), a0, a1, data


def read_until_close(s, local):
    """Collect WRTE data of a stream (acknowledging each) until its CLSE."""
    out = b""
    while True:
        m = read_msg(s)
        assert m is not None, "connection closed before CLSE"
        if m[0] == b"WRTE":
            out += m[3]
            s.sendall(msg(b"OKAY", local, m[1]))
        elif m[0] == b"CLSE":
            return out


@case
def adb_raw_protocol(ctx):
    svc = Service("adb", protocol="adb", tcp=1, device="b860h")
    d = ctx.daemon("adb-raw", [svc])
    d.start()
    s = socket.create_connection(("127.0.0.1", svc.port), timeout=T(10))
    s.sendall(msg(b"OPEN", 1, 0, b"shell:id\0"))                  # before CNXN: ignored
    s.sendall(msg(b"CNXN", 0x01000000, 4096, b"host::\0"))
    m = read_msg(s)
    assert m == (b"CNXN", 0x01000000, 4096,
                 b"device::ro.product.name=b860h;ro.product.model=B860H;ro.product.device=b860h;\0"), m
    s.sendall(msg(b"OPEN", 7, 0, b"shell:echo one; echo two\0"))
    m = read_msg(s)
    assert m[0] == b"OKAY" and m[2] == 7 and m[1] != 0, m
    assert read_until_close(s, 7) == b"one\ntwo\n"
    s.sendall(msg(b"OPEN", 8, 0, b"exec:cat /proc/version\0"))
    m = read_msg(s)
    assert m[0] == b"OKAY", m
    assert read_until_close(s, 8).startswith(b"Linux version ")
    for svcname in (b"tcp:22\0", b"localabstract:foo\0", b"jdwp:1\0", b"bogus\0"):
        s.sendall(msg(b"OPEN", 9, 0, svcname))
        assert read_msg(s) == (b"CLSE", 0, 9, b""), svcname
    s.sendall(msg(b"OPEN", 10, 0, b"remount:\0"))
    assert read_msg(s)[0] == b"OKAY"
    assert read_until_close(s, 10) == b"remount succeeded\n"
    bad = bytearray(msg(b"OPEN", 11, 0, b"shell:id\0"))
    bad[16] ^= 1                                                  # wrong checksum: adbd drops us
    s.sendall(bytes(bad))
    assert read_msg(s) is None
    s.close()
    s = socket.create_connection(("127.0.0.1", svc.port), timeout=T(10))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n" + b"x" * 8)               # not ADB: bad magic
    assert s.recv(100) == b""
    s.close()
    s = socket.create_connection(("127.0.0.1", svc.port), timeout=T(10))
    s.sendall(msg(b"CNXN", 0x01000000, 4096, b"host::\0"))
    read_msg(s)
    s.sendall(msg(b"OPEN", 3, 0, b"reboot:\0"))
    assert read_msg(s)[0] == b"OKAY"
    while read_msg(s) is not None:                                 # the device goes away
        pass
    s.close()
    evs = stop_and_read(d)
    assert by(evs, "command.input", input="echo one; echo two")
    assert by(evs, "command.input", input="cat /proc/version")
    assert not by(evs, "command.input", input="id")
    refused = by(evs, "adb.open", accepted=False)
    assert {e["service"] for e in refused} == {"tcp:22", "localabstract:foo", "jdwp:1", "bogus"}, refused
    assert by(evs, "adb.open", kind="reboot", accepted=True)
    reasons = [e["reason"] for e in evs if e["eventid"] == "session.closed"]
    assert reasons == ["bad_checksum", "bad_magic", "reboot"], reasons
