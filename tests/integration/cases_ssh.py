"""
cases_ssh.py - integration cases of the SSH front-end (protocol = ssh), run by run.py.

Real clients and scanners against the sensor: OpenSSH's ssh (with sshpass),
paramiko, hydra, nmap, ssh-audit; tshark recomputes HASSH from a capture and
asciinema reads the session recordings.  Every case asserts what an operator
would check: what the client sees, and the events in JSONL and SQLite.

A case skips only when a tool it drives is not installed.
"""
import base64
import errno
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import termios
import threading
import time

from harness import T, Service, Skip, by, connect, free_port, run_hydra, socket_inodes, wait_for
from cases import check_common, check_stores_agree, one, stop_and_read

ALL = []


def case(fn):
    ALL.append((fn.__name__, fn))
    return fn


# What the default profile (debian12) announces, and what scanners must read from it.
DEBIAN12_VERSION = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
UBUNTU2204_VERSION = "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.13"
PROFILE_KEX = ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
               "ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
               "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256"]
PROFILE_CIPHERS = ["chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
                   "aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]
PROFILE_MACS = ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com",
                "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1"]

SSH_OPTS = ["-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "NumberOfPasswordPrompts=1"]
REFUSE_ALL = "# refuses everything: no rule matches\n"
# "libssh" anywhere but in the algorithm name curve25519-sha256@libssh.org (which OpenSSH offers too).
LIBSSH_RE = re.compile(r"libssh(?!\.org)", re.I)


# ---- helpers ------------------------------------------------------------------------------

def need(*tools):
    for t in tools:
        if not shutil.which(t):
            raise Skip("%s is not installed" % t)


def need_paramiko():
    try:
        import paramiko
    except ImportError:
        raise Skip("python3-paramiko is not installed")
    return paramiko


def ssh_service(name="ssh", userdb=None, **opts):
    """A [service] with protocol ssh; userdb is the file's text (written at daemon creation)."""
    opts.setdefault("auth_fail_delay", "0")
    svc = Service(name, protocol="ssh", **opts)
    svc.userdb_text = userdb
    return svc


def ssh_daemon(ctx, label, services, **kw):
    """Create, write each service's userdb file into the daemon's directory, start."""
    d = ctx.daemon(label, services, **kw)
    for s in services:
        text = getattr(s, "userdb_text", None)
        if text is not None:
            path = os.path.join(d.tmp, "userdb-%s.txt" % s.name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o644)
            s.opts["userdb"] = path
    return d.start(timeout=T(20))              # first start generates three host keys


def hostname_of(d):
    """The sensor's generated host name (DATA_DIR/identity)."""
    with open(os.path.join(d.data_dir, "identity")) as f:
        for line in f:
            if line.startswith("hostname="):
                return line.strip().split("=", 1)[1]
    raise AssertionError("no hostname= in %s/identity" % d.data_dir)


def sshpass_ssh(port, password, args, user="root", method="password", timeout=None, extra=(), **kw):
    """sshpass + OpenSSH ssh; returns CompletedProcess (bytes)."""
    cmd = ["sshpass", "-p", password, "ssh"] + SSH_OPTS + [
        "-o", "PreferredAuthentications=%s" % method, "-p", str(port)] + list(extra) + [
        "%s@127.0.0.1" % user] + list(args)
    return subprocess.run(cmd, capture_output=True, timeout=timeout or T(30), stdin=subprocess.DEVNULL, **kw)


def sessions_of(evs):
    """session id -> its events, in file order."""
    out = {}
    for e in evs:
        if "session" in e:
            out.setdefault(e["session"], []).append(e)
    return out


def check_ssh_session(sevs, service="ssh"):
    """Every event of an SSH session carries the connection fields; it starts and ends properly."""
    for e in sevs:
        check_common(e)
        assert e["protocol"] == "ssh" and e["service"] == service and e["transport"] == "tcp", e
        assert e["src_ip"] == "127.0.0.1" and type(e["src_port"]) is int, e
    assert sevs[0]["eventid"] == "session.connect", [e["eventid"] for e in sevs]
    assert sevs[-1]["eventid"] == "session.closed", [e["eventid"] for e in sevs]
    ids = [e["eventid"] for e in sevs]
    assert ids.count("session.connect") == 1 and ids.count("session.closed") == 1, ids


def ids_in_order(sevs, wanted):
    """Assert that the event ids in wanted occur in this order within the session."""
    ids = [e["eventid"] for e in sevs]
    pos = -1
    for w in wanted:
        try:
            pos = ids.index(w, pos + 1)
        except ValueError:
            raise AssertionError("%s missing or out of order in %s" % (w, ids))


def ssh_client_version():
    """'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10' from `ssh -V` ('OpenSSH_..., OpenSSL ...' on stderr)."""
    r = subprocess.run(["ssh", "-V"], capture_output=True, timeout=10)
    text = (r.stderr + r.stdout).decode().strip()
    m = re.match(r"^(OpenSSH_\S+(?: [^,]+)?),", text)
    assert m, "cannot parse ssh -V: %r" % text
    return "SSH-2.0-" + m.group(1)


class Capture:
    """dumpcap on lo for one TCP port, for tshark to read afterwards."""

    def __init__(self, ctx, port):
        self.path = os.path.join(tempfile.mkdtemp(prefix="hanipo-it-cap-"), "cap.pcapng")
        ctx.defer(lambda: shutil.rmtree(os.path.dirname(self.path), ignore_errors=True))
        self.err = open(self.path + ".err", "wb")
        self.proc = subprocess.Popen(["dumpcap", "-q", "-i", "lo", "-f", "tcp port %d" % port, "-w", self.path],
                                     stdin=subprocess.DEVNULL, stdout=self.err, stderr=self.err)
        ctx.defer(self.kill)
        wait_for(lambda: (self.proc.poll() is None or self._died()) and os.path.exists(self.path)
                 and os.path.getsize(self.path) > 0, T(10), what="dumpcap to start capturing")
        time.sleep(0.3)        # the capture filter is in place once the file header is out; margin

    def _died(self):
        raise AssertionError("dumpcap exited: %s" % open(self.path + ".err", "rb").read().decode("utf-8", "replace"))

    def stop(self):
        time.sleep(0.3)        # the last packets reach the ring buffer
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(T(10))
        self.err.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.err.closed:
            self.err.close()


def tshark_hassh(path, port):
    """{client port: {"hassh", "hassh_algorithms"}} and {client port: {"hasshserver", ...}} from a capture."""
    r = subprocess.run(["tshark", "-r", path, "-d", "tcp.port==%d,ssh" % port, "-Y",
                        "ssh.kex.hassh || ssh.kex.hasshserver", "-T", "fields", "-E", "separator=|",
                        "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "ssh.kex.hassh",
                        "-e", "ssh.kex.hassh_algorithms", "-e", "ssh.kex.hasshserver",
                        "-e", "ssh.kex.hasshserver_algorithms"], capture_output=True, timeout=T(60))
    assert r.returncode == 0, "tshark failed: %r" % r.stderr[-500:]
    client, server = {}, {}
    for line in r.stdout.decode().splitlines():
        sport, dport, h, halg, hs, hsalg = line.split("|")
        if h:
            client[int(sport)] = {"hassh": h, "algorithms": halg}
        if hs:
            server[int(dport)] = {"hassh": hs, "algorithms": hsalg}
    return client, server


# ---- raw SSH transport bits (clear-text phase only) -------------------------------------------

def ssh_string(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def ssh_packet(payload, block=8):
    pad = block - (len(payload) + 5) % block
    if pad < 4:
        pad += block
    return struct.pack(">IB", len(payload) + 1 + pad, pad) + payload + os.urandom(pad)


def kexinit_payload(kex, hostkey="ssh-ed25519,rsa-sha2-256", enc="aes128-ctr", mac="hmac-sha2-256", comp="none"):
    p = bytes([20]) + os.urandom(16)
    for nl in (kex, hostkey, enc, enc, mac, mac, comp, comp, "", ""):
        p += ssh_string(nl)
    return p + b"\x00" + struct.pack(">I", 0)


def kexinit_names(payload):
    """The ten name-lists of a KEXINIT payload, each as a list."""
    off, out = 17, []
    for _ in range(10):
        n = struct.unpack(">I", payload[off:off + 4])[0]
        out.append([x for x in payload[off + 4:off + 4 + n].decode().split(",") if x and not x.startswith("kex-strict-")])
        off += 4 + n
    return out


def read_line(s, limit=1024):
    out = b""
    while not out.endswith(b"\n") and len(out) < limit:
        b = s.recv(1)
        if not b:
            break
        out += b
    return out


def read_packet(s):
    """One clear-text packet's payload; None on EOF."""
    def exact(n):
        buf = b""
        while len(buf) < n:
            b = s.recv(n - len(buf))
            if not b:
                return None
            buf += b
        return buf
    head = exact(5)
    if head is None:
        return None
    length, pad = struct.unpack(">IB", head)
    assert 5 <= length < 300000, "implausible packet length %d" % length
    rest = exact(length - 1)
    if rest is None:
        return None
    return rest[:length - 1 - pad]


# ---- 1. exec with OpenSSH, password and keyboard-interactive; HASSH against tshark -------------

UNAME_RE = re.compile(r"^Linux (\S+) (\d+\.\d+\.\d+-\d+-amd64) #1 SMP PREEMPT_DYNAMIC Debian \S+ \(\d{4}-\d\d-\d\d\) "
                      r"x86_64 GNU/Linux\n$")


@case
def ssh_exec_password(ctx):
    need("ssh", "sshpass", "dumpcap", "tshark")
    d = ssh_daemon(ctx, "sshexec", [ssh_service(keyboard_interactive="true")])
    port = d.svc("ssh").port
    host = hostname_of(d)
    cap = Capture(ctx, port)
    runs = [("password", "S3cure-Pass!"), ("keyboard-interactive", "an0ther pass")]
    for method, password in runs:
        r = sshpass_ssh(port, password, ["uname -a"], method=method)
        out = r.stdout.decode("utf-8", "replace")
        assert r.returncode == 0, "ssh (%s) exited %d: stdout %r stderr %r" % (method, r.returncode, out, r.stderr)
        m = UNAME_RE.match(out)
        assert m, "uname -a over ssh (%s) printed %r" % (method, out)
        assert m.group(1) == host, "uname host %r, the sensor's identity says %r" % (m.group(1), host)
    cap.stop()
    d.wait_event(lambda e: e["eventid"] == "session.closed", count=2, timeout=T(10), what="2 session.closed")
    evs = stop_and_read(d)
    expect_version = ssh_client_version()
    tclient, tserver = tshark_hassh(cap.path, port)
    sess = sessions_of(evs)
    assert len(sess) == 2, "expected 2 sessions, got %d" % len(sess)
    seen_methods = []
    for sid, sevs in sess.items():
        check_ssh_session(sevs)
        ids_in_order(sevs, ["session.connect", "client.version", "client.kex", "login.success", "command.input",
                            "session.closed"])
        sport = sevs[0]["src_port"]
        v = one(sevs, "client.version")
        assert v["version"] == expect_version, "client.version %r, ssh -V gives %r" % (v["version"], expect_version)
        k = one(sevs, "client.kex")
        assert re.match(r"^[0-9a-f]{32}$", k["hassh"]), k
        assert sport in tclient, "tshark saw no client KEXINIT from port %d (it saw %s)" % (sport, sorted(tclient))
        assert k["hassh"] == tclient[sport]["hassh"], "hassh %s, tshark computes %s" % (
            k["hassh"], tclient[sport]["hassh"])
        assert k["hasshAlgorithms"] == tclient[sport]["algorithms"], (k["hasshAlgorithms"], tclient[sport])
        assert k["hassh"] == hashlib.md5(k["hasshAlgorithms"].encode()).hexdigest(), k
        # Debian 12's ssh is in data/fingerprints/hassh.tsv
        assert k["client"].startswith("OpenSSH 9.2p1"), k["client"]
        kex_s, enc_s, mac_s, comp_s = k["hasshAlgorithms"].split(";")
        assert k["kexAlgs"] == kex_s.split(",") and k["encCS"] == enc_s.split(",") and \
            k["macCS"] == mac_s.split(",") and k["compCS"] == comp_s.split(","), k
        assert "curve25519-sha256" in k["kexAlgs"] and "ssh-ed25519" in k["keyAlgs"], k
        assert k["langCS"] == [], k
        if "hasshServer" in k:
            assert sport in tserver, "tshark saw no server KEXINIT to port %d" % sport
            assert k["hasshServer"] == tserver[sport]["hassh"], "hasshServer %s, tshark computes %s" % (
                k["hasshServer"], tserver[sport]["hassh"])
            ctx.note("port %d: hassh %s hasshServer %s (both = tshark)" % (sport, k["hassh"], k["hasshServer"]))
        else:
            ctx.note("port %d: hassh %s = tshark; no hasshServer in the event (tshark: %s)" % (
                sport, k["hassh"], tserver.get(sport, {}).get("hassh")))
        ok = one(sevs, "login.success")
        assert ok["username"] == "root" and ok["attempt"] == 1, ok
        method = ok["method"]
        assert method in dict(runs), ok
        assert ok["password"] == dict(runs)[method], "password %r for method %s" % (ok["password"], method)
        seen_methods.append(method)
        assert not by(sevs, "login.failed"), by(sevs, "login.failed")
        ci = one(sevs, "command.input")
        assert ci["input"] == "uname -a", ci
        closed = sevs[-1]
        assert closed["bytes_in"] > 1000 and closed["bytes_out"] > 1000, closed
        assert closed["reason"] in ("eof", "closed"), closed
    assert sorted(seen_methods) == sorted(dict(runs)), seen_methods
    check_stores_agree(d, evs)


# ---- 2. interactive shell on a pty, recorded -------------------------------------------------

class PtyClient:
    """A command on a fresh pty of the given size; output collected by a thread."""

    def __init__(self, ctx, cmd, cols=100, rows=30, env=None):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                                     env=env, close_fds=True)
        os.close(slave)
        self.out = b""
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        ctx.defer(self.close)

    def _read(self):
        while True:
            try:
                b = os.read(self.master, 4096)
            except OSError:
                return
            if not b:
                return
            with self.lock:
                self.out += b

    def text(self):
        with self.lock:
            return self.out.decode("utf-8", "replace")

    def wait_text(self, pred, what, timeout=None):
        return wait_for(lambda: pred(self.text()), timeout or T(10), what="%s; output so far: %r" % (
            what, self.text()[-600:]))

    def type(self, s):
        os.write(self.master, s.encode())

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        try:
            os.close(self.master)
        except OSError:
            pass


@case
def ssh_exec_output_pipe_or_pty(ctx):
    """ssh host 'cmd' writes to a pipe: ls lists a name a line and tty says "not a tty"; ssh -tt
    host 'cmd' runs on a pty: ls lays out columns, lines end in \\r\\n, tty names /dev/pts/0 -
    as OpenSSH's sshd runs them."""
    need("ssh", "sshpass")
    d = ssh_daemon(ctx, "sshexecpty", [ssh_service()])
    port = d.svc("ssh").port
    cmd = "mkdir -p /tmp/q && cd /tmp/q && touch a b c && ls; tty"
    r = sshpass_ssh(port, "pipe-pass", [cmd])
    assert r.stdout == b"a\nb\nc\nnot a tty\n", (r.stdout, r.stderr)
    r = sshpass_ssh(port, "pty-pass", [cmd], extra=["-tt"])
    assert r.stdout == b"a  b  c\r\n/dev/pts/0\r\n", (r.stdout, r.stderr)
    stop_and_read(d)


@case
def ssh_pty_shell(ctx):
    need("ssh", "sshpass", "asciinema", "script")
    d = ssh_daemon(ctx, "sshpty", [ssh_service()])
    port = d.svc("ssh").port
    host = hostname_of(d)
    prompt = "root@%s:~# " % host
    env = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8")
    cmd = ["sshpass", "-p", "tty-pass", "ssh", "-tt"] + SSH_OPTS + [
        "-o", "PreferredAuthentications=password", "-p", str(port), "root@127.0.0.1"]
    c = PtyClient(ctx, cmd, cols=100, rows=30, env=env)
    c.wait_text(lambda t: t.count(prompt) >= 1, "the first prompt %r" % prompt)
    c.type("whoami\r")
    c.wait_text(lambda t: t.count(prompt) >= 2, "the prompt after whoami")
    c.type("echo hello\r")
    c.wait_text(lambda t: t.count(prompt) >= 3, "the prompt after echo hello")
    c.type("exit\r")
    wait_for(lambda: c.proc.poll() is not None, T(10), what="ssh to end after exit")
    c.t.join(T(5))
    out = c.text()
    assert c.proc.returncode == 0, "ssh -tt exited %s; output %r" % (c.proc.returncode, out[-600:])
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out).replace("\r", "")
    assert "%swhoami\nroot\n" % prompt in plain, plain
    assert "%secho hello\nhello\n" % prompt in plain, plain
    assert "%sexit\nlogout\n" % prompt in plain, plain
    d.wait_event(lambda e: e["eventid"] == "session.closed", timeout=T(10), what="session.closed")
    evs = stop_and_read(d)
    sess = sessions_of(evs)
    assert len(sess) == 1, sess.keys()
    sevs = list(sess.values())[0]
    check_ssh_session(sevs)
    ids_in_order(sevs, ["login.success", "client.size", "command.input", "command.input", "command.input",
                        "log.closed", "session.closed"])
    size = one(sevs, "client.size")
    assert (size["width"], size["height"], size["term"]) == (100, 30, "xterm-256color"), size
    assert [e["input"] for e in by(sevs, "command.input")] == ["whoami", "echo hello", "exit"], \
        by(sevs, "command.input")
    assert not by(sevs, "command.failed"), by(sevs, "command.failed")
    lc = one(sevs, "log.closed")
    path = lc["ttylog"]
    assert path.startswith(os.path.join(d.data_dir, "tty") + "/") and path.endswith(".cast"), lc
    assert os.path.isfile(path), "ttylog %s does not exist" % path
    assert lc["size"] == os.path.getsize(path), "log.closed size %r, file has %d bytes" % (
        lc["size"], os.path.getsize(path))
    assert 0 < lc["duration"] < 60, lc
    with open(path) as f:
        header = json.loads(f.readline())
        frames = [json.loads(line) for line in f]
    assert header["version"] == 2 and header["width"] == 100 and header["height"] == 30, header
    assert header.get("env", {}).get("TERM") == "xterm-256color", header
    times = [fr[0] for fr in frames]
    assert times == sorted(times), "asciicast frame times go backwards"
    recorded = "".join(fr[2] for fr in frames if fr[1] == "o")
    assert "hello" in recorded and prompt in recorded, recorded
    # asciinema cat needs a terminal (/dev/tty): script(1) gives it one.
    r = subprocess.run(["script", "-qec", "asciinema cat %s" % path, "/dev/null"], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=T(30))
    cat = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, "asciinema cat %s: exit %d, %r %r" % (path, r.returncode, cat[-300:], r.stderr)
    assert "hello" in cat and prompt in cat, "asciinema cat output: %r" % cat[-600:]
    check_stores_agree(d, evs)


# ---- 3. login policy: userdb rules, accept_after, max_auth_tries, auth_fail_delay -------------

class PLogCapture:
    """paramiko's log (where a server's disconnect text shows) from now until stop()."""
    def __init__(self):
        import io, logging
        self.buf = io.StringIO()
        self.h = logging.StreamHandler(self.buf)
        self.lg = logging.getLogger("paramiko")
        self.level = self.lg.level
        self.lg.addHandler(self.h)
        self.lg.setLevel(logging.INFO)

    def stop(self):
        self.lg.removeHandler(self.h)
        self.lg.setLevel(self.level)

    def text(self):
        return self.buf.getvalue()


def paramiko_transport(port):
    paramiko = need_paramiko()
    sock = socket.create_connection(("127.0.0.1", port), timeout=T(10))
    t = paramiko.Transport(sock)
    t.start_client(timeout=T(10))
    return t


def try_password(t, user, password):
    """True (accepted) / False (refused) for one password attempt on transport t."""
    paramiko = need_paramiko()
    try:
        t.auth_password(user, password)
        return True
    except paramiko.AuthenticationException:
        return False


@case
def ssh_login_policy(ctx):
    paramiko = need_paramiko()
    policy = ssh_service("policy", userdb="root:x:!root\nroot:x:*\nadmin:x:admin\n")
    accept3 = ssh_service("accept3", userdb=REFUSE_ALL, accept_after="3")
    maxtries = ssh_service("maxtries", userdb=REFUSE_ALL, max_auth_tries="3", auth_fail_delay="400ms")
    d = ssh_daemon(ctx, "sshpolicy", [policy, accept3, maxtries])

    # userdb rules: first matching rule decides ('!' refuses, '*' is anything); one connection each.
    tries = [("root", "root", False), ("root", "anything", True), ("admin", "admin", True), ("admin", "x", False)]
    ports = {}
    for user, pw, expect in tries:
        t = paramiko_transport(policy.port)
        ports[(user, pw)] = t.sock.getsockname()[1]
        try:
            got = try_password(t, user, pw)
            assert got == expect, "%s/%s: %s, expected %s" % (user, pw, "accepted" if got else "refused",
                                                              "accepted" if expect else "refused")
            if got:            # a real session works after the login
                ch = t.open_session()
                ch.exec_command("whoami")
                ch.settimeout(T(10))
                assert ch.makefile().read().decode().strip() == user
                assert ch.recv_exit_status() == 0
        finally:
            t.close()

    # accept_after = 3 with a userdb refusing everything: the third attempt of a connection gets in.
    t = paramiko_transport(accept3.port)
    a3_port = t.sock.getsockname()[1]
    try:
        results = [try_password(t, "root", "p%d" % i) for i in (1, 2)]
        assert results == [False, False], results
        assert try_password(t, "oracle", "p3"), "attempt 3 refused despite accept_after = 3"
        ch = t.open_session()
        ch.exec_command("whoami")
        ch.settimeout(T(10))
        assert ch.makefile().read().decode().strip() == "oracle"
    finally:
        t.close()

    # max_auth_tries = 3: the connection ends after the third failure; each failure answered after
    # auth_fail_delay.  The third is answered as sshd answers it (Debian 12's OpenSSH 9.2p1, six
    # wrong passwords): no failure but a disconnect, "Too many authentication failures".
    plog = PLogCapture()
    t = paramiko_transport(maxtries.port)
    mt_port = t.sock.getsockname()[1]
    answered = []
    try:
        for i in range(1, 6):
            if i > 1:
                time.sleep(0.1)        # a disconnect after the last failure has arrived by now
            if not t.is_active():
                break
            t0 = time.monotonic()
            try:
                ok = try_password(t, "root", "m%d" % i)
            except (paramiko.SSHException, EOFError, OSError):
                break
            answered.append(time.monotonic() - t0)
            assert not ok
        alive_after = t.is_active()
    finally:
        t.close()
        plog.stop()
    assert "Disconnect (code 11): Too many authentication failures" in plog.text(), \
        (answered, plog.text()[-500:])
    assert answered and min(answered) >= 0.38, "failed logins answered after %s s (auth_fail_delay = 400ms)" % (
        ["%.3f" % a for a in answered])

    d.wait_event(lambda e: e["eventid"] == "session.closed", count=len(tries) + 2, timeout=T(10),
                 what="all sessions closed")
    evs = stop_and_read(d)
    sess = sessions_of(evs)
    for sid, sevs in sess.items():
        check_ssh_session(sevs, service=sevs[0]["service"])
    for user, pw, expect in tries:
        sevs = [e for e in evs if e.get("src_port") == ports[(user, pw)] and e.get("service") == "policy"]
        ev = one(sevs, "login.success" if expect else "login.failed")
        assert (ev["username"], ev["password"], ev["method"], ev["attempt"]) == (user, pw, "password", 1), ev
        assert not by(sevs, "login.failed" if expect else "login.success"), sevs
    a3 = [e for e in evs if e.get("src_port") == a3_port and e.get("service") == "accept3"]
    got = [(e["eventid"], e["username"], e["password"], e["attempt"]) for e in a3
           if e["eventid"].startswith("login.")]
    assert got == [("login.failed", "root", "p1", 1), ("login.failed", "root", "p2", 2),
                   ("login.success", "oracle", "p3", 3)], got
    mt = [e for e in evs if e.get("src_port") == mt_port and e.get("service") == "maxtries"]
    failed = [(e["password"], e["attempt"]) for e in by(mt, "login.failed")]
    closed = one(mt, "session.closed")
    # OpenSSH (MaxAuthTries 3) disconnects at the third failure; so must the sensor.
    assert failed == [("m1", 1), ("m2", 2), ("m3", 3)], \
        "max_auth_tries = 3 but the connection took %d password attempts %r (%d answered, client still " \
        "connected after them: %s); session.closed reason %r" % (
            len(failed), failed, len(answered), alive_after, closed["reason"])
    assert closed["reason"] == "max_auth_tries", closed
    check_stores_agree(d, evs)


# ---- 4. paramiko: keyboard-interactive, public key, env, forwarding, subsystem ---------------

def ed25519_key():
    """A fresh paramiko Ed25519Key (paramiko 2.x cannot generate one: via cryptography)."""
    paramiko = need_paramiko()
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    pem = Ed25519PrivateKey.generate().private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH,
                                                     ser.NoEncryption()).decode()
    return paramiko.Ed25519Key(file_obj=io.StringIO(pem)), pem


def sha256_fingerprint(blob):
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def tcp_conns_to(host, port):
    """Sockets of this host (its network namespace) whose remote end is host:port (from /proc/net/tcp)."""
    want = "%s:%04X" % ("".join("%02X" % int(x) for x in reversed(host.split("."))), port)
    out = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[2] == want:
                out.append(parts[3])
    return out


def daemon_tcp_sockets(pid):
    """(local, remote, state) of every TCP socket the process holds, addresses as 'a.b.c.d:port'."""
    inodes = socket_inodes(pid)

    def addr(hexaddr):
        ip, port = hexaddr.split(":")
        return "%s:%d" % (".".join(str(int(ip[i:i + 2], 16)) for i in (6, 4, 2, 0)), int(port, 16))
    out = []
    for table in ("/proc/%d/net/tcp" % pid, "/proc/%d/net/tcp6" % pid):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[9] in inodes:
                        out.append((addr(parts[1]) if "tcp6" not in table else parts[1],
                                    addr(parts[2]) if "tcp6" not in table else parts[2], parts[3]))
        except OSError:
            pass
    return out


@case
def ssh_paramiko_features(ctx):
    paramiko = need_paramiko()
    d = ssh_daemon(ctx, "sshparamiko", [ssh_service(keyboard_interactive="true")])
    port = d.svc("ssh").port
    key, pem = ed25519_key()
    fp = sha256_fingerprint(key.asbytes())

    # A listener that would see any connection the sensor made on the client's behalf.
    trapdoor = socket.socket()
    trapdoor.bind(("127.0.0.1", 0))
    trapdoor.listen(8)
    ctx.defer(trapdoor.close)
    tport = trapdoor.getsockname()[1]

    t = paramiko_transport(port)
    sport = t.sock.getsockname()[1]
    prompts_seen = []
    try:
        # Public key (paramiko signs at once, no query first): refused, fingerprint logged.
        try:
            t.auth_publickey("root", key)
            raise AssertionError("public-key login was accepted")
        except paramiko.AuthenticationException:
            pass

        # keyboard-interactive: one "Password: " prompt, answered like a password.
        def handler(answer):
            def h(title, instructions, prompts):
                prompts_seen.append(list(prompts))
                return [answer for _ in prompts]
            return h
        try:
            t.auth_interactive("root", handler("honeypot"))        # refused by the built-in rules
            raise AssertionError("keyboard-interactive with password 'honeypot' was accepted")
        except paramiko.AuthenticationException:
            pass
        assert t.auth_interactive("root", handler("kbd-Secret1")) == [] and t.is_authenticated()
        assert prompts_seen == [[("Password: ", False)]] * 2, prompts_seen

        # env requests, then exec.
        ch = t.open_session()
        ch.set_environment_variable("LANG", "C.UTF-8")
        ch.set_environment_variable("HANIPO_TEST", "x y=z")
        ch.exec_command("echo done")
        ch.settimeout(T(10))
        assert ch.makefile().read() == b"done\n"
        assert ch.recv_exit_status() == 0

        # direct-tcpip: accepted, logged, never connected.
        req = b"GET / HTTP/1.0\r\n\r\n"
        fwd = t.open_channel("direct-tcpip", ("10.1.2.3", 8080), ("127.0.0.1", 5555), timeout=T(10))
        fwd.sendall(req)
        fwd2 = t.open_channel("direct-tcpip", ("127.0.0.1", tport), ("192.0.2.7", 40000), timeout=T(10))
        fwd2.sendall(b"\x00\x01binary\xff")
        time.sleep(0.3)
        conns = tcp_conns_to("10.1.2.3", 8080)
        assert not conns, "a socket to 10.1.2.3:8080 exists (states %s)" % conns
        # The sensor holds its listening socket and our connection, nothing else.
        socks = daemon_tcp_sockets(d.pid)
        others = [x for x in socks if x[2] != "0A" and x[1] != "127.0.0.1:%d" % sport]
        assert not others, "the sensor holds other TCP sockets (local, remote, state): %r" % others
        assert ("127.0.0.1:%d" % port, "127.0.0.1:%d" % sport, "01") in socks, socks
        fwd.settimeout(0.3)
        try:
            got = fwd.recv(100)
            assert got == b"", "the tunnel answered %r" % got
        except socket.timeout:
            pass
        fwd.close()
        fwd2.close()

        # Remote forwarding: logged and refused; nothing listens.
        lport = free_port()
        for host, p in (("", 0), ("0.0.0.0", lport)):
            try:
                r = t.request_port_forward(host, p)
                raise AssertionError("tcpip-forward %s:%d was granted (port %r)" % (host, p, r))
            except paramiko.SSHException:
                pass
        s = socket.socket()
        try:
            assert s.connect_ex(("127.0.0.1", lport)) != 0, "something listens on the forwarded port %d" % lport
        finally:
            s.close()

        # A subsystem the sensor does not serve: logged, refused.
        ch = t.open_session()
        try:
            ch.invoke_subsystem("netconf")
            raise AssertionError("the netconf subsystem was granted")
        except paramiko.SSHException:
            pass
    finally:
        t.close()

    trapdoor.settimeout(0.2)
    try:
        c, addr = trapdoor.accept()
        c.close()
        raise AssertionError("the sensor connected to the direct-tcpip destination 127.0.0.1:%d from %s" % (
            tport, addr))
    except socket.timeout:
        pass

    # OpenSSH asks first (publickey query without signature): also logged.
    ssh_key_fp = None
    if shutil.which("ssh") and shutil.which("ssh-keygen"):
        kdir = tempfile.mkdtemp(prefix="hanipo-it-key-")
        ctx.defer(lambda: shutil.rmtree(kdir, ignore_errors=True))
        kpath = os.path.join(kdir, "id_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", kpath], check=True,
                       capture_output=True, timeout=T(10))
        r = subprocess.run(["ssh-keygen", "-l", "-f", kpath + ".pub"], capture_output=True, timeout=T(10))
        ssh_key_fp = r.stdout.decode().split()[1]
        r = subprocess.run(["ssh"] + SSH_OPTS + ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", kpath,
                                                 "-o", "PreferredAuthentications=publickey", "-p", str(port),
                                                 "admin@127.0.0.1", "true"],
                           capture_output=True, stdin=subprocess.DEVNULL, timeout=T(30))
        assert r.returncode == 255 and b"Permission denied" in r.stderr, (r.returncode, r.stderr)

    d.wait_event(lambda e: e["eventid"] == "session.closed", count=2 if ssh_key_fp else 1, timeout=T(10),
                 what="session.closed")
    evs = stop_and_read(d)
    sess = sessions_of(evs)
    mine = [sevs for sevs in sess.values() if sevs[0]["src_port"] == sport]
    assert len(mine) == 1
    sevs = mine[0]
    check_ssh_session(sevs)
    v = one(sevs, "client.version")
    assert v["version"] == "SSH-2.0-paramiko_%s" % paramiko.__version__, v
    fps = by(sevs, "client.fingerprint")
    assert [(e["username"], e["fingerprint"], e["key_type"]) for e in fps] == [("root", fp, "ssh-ed25519")], \
        "client.fingerprint events %r, expected one for root %s ssh-ed25519 (paramiko signs without " \
        "querying first)" % (fps, fp)
    logins = [(e["eventid"], e["username"], e["password"], e["method"], e["attempt"])
              for e in sevs if e["eventid"].startswith("login.")]
    assert logins[-2:] == [("login.failed", "root", "honeypot", "keyboard-interactive", logins[-2][4]),
                           ("login.success", "root", "kbd-Secret1", "keyboard-interactive", logins[-1][4])], logins
    assert [e[4] for e in logins] == list(range(logins[0][4], logins[0][4] + len(logins))), \
        "attempt numbers %r" % [e[4] for e in logins]
    assert all(e[3] == "keyboard-interactive" for e in logins), \
        "a public-key attempt logged as a login event: %r" % logins
    vars_ = [(e["name"], e["value"]) for e in by(sevs, "client.var")]
    assert vars_ == [("LANG", "C.UTF-8"), ("HANIPO_TEST", "x y=z")], vars_
    assert [e["input"] for e in by(sevs, "command.input")] == ["echo done"], by(sevs, "command.input")
    reqs = [(e["dest_host"], e["dest_port"], e["orig_host"], e["orig_port"]) for e in by(sevs, "direct-tcpip.request")]
    assert reqs == [("10.1.2.3", 8080, "127.0.0.1", 5555), ("127.0.0.1", tport, "192.0.2.7", 40000)], reqs
    data = {}
    for e in by(sevs, "direct-tcpip.data"):
        raw = base64.b64decode(e["data_b64"]) if "data_b64" in e else e["data"].encode()
        data.setdefault((e["dest_host"], e["dest_port"]), b"")
        data[(e["dest_host"], e["dest_port"])] += raw
    assert data == {("10.1.2.3", 8080): req, ("127.0.0.1", tport): b"\x00\x01binary\xff"}, data
    fwds = [(e["bind_host"], e["bind_port"]) for e in by(sevs, "tcpip-forward.request")]
    assert fwds == [("", 0), ("0.0.0.0", lport)], fwds
    assert [e["subsystem"] for e in by(sevs, "client.subsystem")] == ["netconf"], by(sevs, "client.subsystem")
    if ssh_key_fp:
        other = [sevs for sevs in sess.values() if sevs[0]["src_port"] != sport]
        assert len(other) == 1
        fps = [(e["username"], e["fingerprint"], e["key_type"]) for e in by(other[0], "client.fingerprint")]
        assert fps == [("admin", ssh_key_fp, "ssh-ed25519")], fps
        assert not [e for e in other[0] if e["eventid"].startswith("login.")], other[0]
    check_stores_agree(d, evs)


# ---- 5. hydra: one login event per attempt ------------------------------------------------------

ATTEMPT_RE = re.compile(r'^\[(?:RE-)?ATTEMPT\] target 127\.0\.0\.1 - login "(.*)" - pass "(.*)" - \d+ of \d+')


@case
def ssh_hydra_counts(ctx):
    """One login.failed per hydra attempt, per (user, password).  max_auth_tries is raised above the
    twelve passwords: a hydra child that tries a sixth password on one connection gets sshd's
    "Too many authentication failures" disconnect for an answer, and hydra 9.4 then waits 32 s and
    tries that password again on a new connection without printing it (Debian 12's sshd logs 14
    "Failed password" lines for 12 [ATTEMPT] lines with -t 1, and so does the sensor); under load one
    child can take six of the twelve."""
    need("hydra")
    d = ssh_daemon(ctx, "sshhydra", [ssh_service(userdb=REFUSE_ALL, max_auth_tries="20")])
    port = d.svc("ssh").port
    work = tempfile.mkdtemp(prefix="hanipo-it-hydra-")
    ctx.defer(lambda: shutil.rmtree(work, ignore_errors=True))
    passwords = ["123456", "password", "admin", "root", "toor", "qwerty", "letmein", "P@ssw0rd", "dragon",
                 "monkey", "abc123", "raspberry"]
    with open(os.path.join(work, "pass.txt"), "w") as f:
        f.write("\n".join(passwords) + "\n")
    r, out, before = run_hydra(d, ["-I", "-V", "-l", "root", "-P", os.path.join(work, "pass.txt"), "-t", "4",
                                   "-s", str(port), "ssh://127.0.0.1"])
    assert r.returncode == 0, "hydra exited %d: %s %r" % (r.returncode, out[-800:], r.stderr[-400:])
    attempts = [ATTEMPT_RE.match(l).groups() for l in out.splitlines() if ATTEMPT_RE.match(l)]
    assert attempts, "no [ATTEMPT] lines in hydra's output: %s" % out[-800:]
    assert "0 valid password" in out and "[ssh] host:" not in out, "hydra found a password: %s" % out[-800:]
    d.wait_event(lambda e: e["eventid"] == "login.failed", count=before + len(attempts), timeout=T(10),
                 what="%d login.failed" % len(attempts))
    wait_for(lambda: len(by(d.events(), "session.closed")) == len(by(d.events(), "session.connect")), T(10),
             what="every hydra connection closed")
    evs = stop_and_read(d)
    failed = by(evs, "login.failed")[before:]
    ctx.note("hydra: %d [ATTEMPT] lines, %d login.failed, %d connections" % (
        len(attempts), len(failed), len(by(evs, "session.connect"))))
    assert len(failed) == len(attempts), "hydra made %d attempts, the sensor logged %d login.failed" % (
        len(attempts), len(failed))
    assert not by(evs, "login.success")
    want = {}
    for a in attempts:
        want[a] = want.get(a, 0) + 1
    got = {}
    for e in failed:
        assert e["method"] == "password", e
        got[(e["username"], e["password"])] = got.get((e["username"], e["password"]), 0) + 1
    assert got == want, "per (user, password): hydra %r, sensor %r" % (want, got)
    assert sorted(p for _, p in want) == sorted(passwords)
    for sid, sevs in sessions_of(evs).items():
        check_ssh_session(sevs)
        att = [e["attempt"] for e in by(sevs, "login.failed")]
        assert att == list(range(1, len(att) + 1)), "attempt numbers of session %s: %r" % (sid, att)
        for v in by(sevs, "client.version"):
            assert v["version"].startswith("SSH-2.0-libssh"), v       # hydra's ssh module is libssh
    check_stores_agree(d, evs)


# ---- 6. nmap: version detection and ssh2-enum-algos ------------------------------------------

def nmap_section(out, port):
    """The lines of nmap's report for one port (its line and the script lines under it)."""
    lines = out.splitlines()
    for i, l in enumerate(lines):
        if l.startswith("%d/tcp " % port):
            sec = [l]
            for l2 in lines[i + 1:]:
                if not l2.startswith("|"):
                    break
                sec.append(l2)
            return sec
    raise AssertionError("no line for port %d in nmap's output:\n%s" % (port, out))


def enum_algos(section):
    """ssh2-enum-algos lines -> {"kex_algorithms": [...], ...}"""
    out, cur = {}, None
    for l in section[1:]:
        m = re.match(r"^\|[ _]  ([a-z_]+): \(\d+\)$", l)
        if m:
            cur = out.setdefault(m.group(1), [])
            continue
        m = re.match(r"^\|[ _]      (\S+)$", l)
        if m and cur is not None:
            cur.append(m.group(1))
    return out


@case
def ssh_nmap(ctx):
    need("nmap")
    deb = ssh_service("deb")
    ubu = ssh_service("ubu", profile="ubuntu2204")
    d = ssh_daemon(ctx, "sshnmap", [deb, ubu])
    r = subprocess.run(["nmap", "-Pn", "-n", "-sV", "--version-intensity", "5", "--script", "ssh2-enum-algos",
                        "-p", "%d,%d" % (deb.port, ubu.port), "127.0.0.1"], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=T(120))
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, "nmap exited %d: %r" % (r.returncode, r.stderr[-500:])
    assert not LIBSSH_RE.search(out), "nmap's output mentions libssh:\n%s" % out
    sec_deb, sec_ubu = nmap_section(out, deb.port), nmap_section(out, ubu.port)
    ctx.note("nmap: " + re.sub(r"\s+", " ", sec_deb[0]))
    ctx.note("nmap: " + re.sub(r"\s+", " ", sec_ubu[0]))
    assert re.match(r"^%d/tcp\s+open\s+ssh\s+OpenSSH 9\.2p1 Debian 2\+deb12u3 \(protocol 2\.0\)$" % deb.port,
                    sec_deb[0]), sec_deb[0]
    assert re.match(r"^%d/tcp\s+open\s+ssh\s+OpenSSH 8\.9p1 Ubuntu 3ubuntu0\.13 \(Ubuntu Linux; protocol 2\.0\)$"
                    % ubu.port, sec_ubu[0]), sec_ubu[0]
    for svc, sec in ((deb, sec_deb), (ubu, sec_ubu)):
        algos = enum_algos(sec)
        if not algos:
            # nmap sends its banner and KEXINIT at once and offers only ssh-rsa/ssh-dss host keys: the
            # sensor then sometimes closes before its own KEXINIT is out (ssh_kexinit_sent_before_failing
            # tests that deterministically).  Once more, so that this case checks the lists themselves.
            ctx.note("port %d: ssh2-enum-algos got no KEXINIT; retried" % svc.port)
            for _ in range(5):
                r = subprocess.run(["nmap", "-Pn", "-n", "-sV", "--version-intensity", "0", "--script",
                                    "ssh2-enum-algos", "-p", "%d" % svc.port, "127.0.0.1"],
                                   capture_output=True, stdin=subprocess.DEVNULL, timeout=T(120))
                algos = enum_algos(nmap_section(r.stdout.decode("utf-8", "replace"), svc.port))
                if algos:
                    break
        assert algos, "no ssh2-enum-algos output:\n%s" % "\n".join(sec)
        kex = [a for a in algos.get("kex_algorithms", []) if not a.startswith("kex-strict-")]
        assert kex == PROFILE_KEX, "kex_algorithms %r" % algos.get("kex_algorithms")
        assert "curve25519-sha256" in kex
        assert algos.get("encryption_algorithms") == PROFILE_CIPHERS, algos.get("encryption_algorithms")
        assert "chacha20-poly1305@openssh.com" in algos["encryption_algorithms"]
        assert algos.get("mac_algorithms") == PROFILE_MACS, algos.get("mac_algorithms")
        assert algos.get("server_host_key_algorithms") == ["rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256",
                                                           "ssh-ed25519"], algos.get("server_host_key_algorithms")
        assert algos.get("compression_algorithms") == ["none", "zlib@openssh.com"], algos.get(
            "compression_algorithms")
    stop_and_read(d)


# ---- 7. ssh-audit ----------------------------------------------------------------------------------

@case
def ssh_audit_identifies_openssh(ctx):
    need("ssh-audit")
    deb = ssh_service("deb")
    ubu = ssh_service("ubu", profile="ubuntu2204")
    d = ssh_daemon(ctx, "sshaudit", [deb, ubu])
    # -t 1: the DH group-exchange probes with small moduli wait for the timeout (see
    # ssh_gex_small_modulus_disconnects); both audits run at once.
    procs = {name: subprocess.Popen(["ssh-audit", "-n", "-t", "1", "-p", str(s.port), "127.0.0.1"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
             for name, s in (("deb", deb), ("ubu", ubu))}
    outs = {}
    for name, p in procs.items():
        try:
            o, e = p.communicate(timeout=T(60))
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise AssertionError("ssh-audit against %s did not finish in %.0fs" % (name, T(60)))
        outs[name] = o.decode("utf-8", "replace")
        # exit status: 0 good, 1 warnings, 2 failures (weak curves etc. as on a real Debian), 3 unknown
        # algorithm (kex-strict-s-v00@openssh.com is newer than this ssh-audit); never a crash.
        assert "Traceback" not in outs[name] + e.decode("utf-8", "replace"), outs[name] + e.decode()
        assert p.returncode in (0, 1, 2, 3), "ssh-audit exit %d: %s" % (p.returncode, outs[name][-500:])
    for name, banner, software in (("deb", DEBIAN12_VERSION, "OpenSSH 9.2p1"),
                                   ("ubu", UBUNTU2204_VERSION, "OpenSSH 8.9p1")):
        out = outs[name]
        gen = [l for l in out.splitlines() if l.startswith("(gen) ")]
        for l in gen[:2]:
            ctx.note("ssh-audit %s: %s" % (name, l))
        assert "(gen) banner: %s" % banner in gen, gen
        assert "(gen) software: %s" % software in gen, gen
        assert not LIBSSH_RE.search(out), "ssh-audit mentions libssh:\n%s" % out
        assert "(kex) curve25519-sha256 " in out and "(enc) chacha20-poly1305@openssh.com " in out, out
        assert re.search(r"^\(fin\) ssh-ed25519: SHA256:\S+$", out, re.M), out
        assert re.search(r"^\(key\) rsa-sha2-512 \(3072-bit\)", out, re.M), out
    stop_and_read(d)


# ---- 8. DH group exchange below 2048 bits is refused at once, as by OpenSSH ------------------------

@case
def ssh_gex_small_modulus_disconnects(ctx):
    d = ssh_daemon(ctx, "sshgex", [ssh_service()])
    port = d.svc("ssh").port

    def gex(bits_min, bits_n, bits_max):
        s = connect(port, timeout=T(5))
        try:
            assert read_line(s).startswith(b"SSH-2.0-OpenSSH_9.2p1")
            s.sendall(b"SSH-2.0-OpenSSH_8.2\r\n")
            s.sendall(ssh_packet(kexinit_payload("diffie-hellman-group-exchange-sha256")))
            srv = read_packet(s)
            assert srv and srv[0] == 20, "no server KEXINIT: %r" % srv
            s.sendall(ssh_packet(bytes([34]) + struct.pack(">III", bits_min, bits_n, bits_max)))
            s.settimeout(T(2))
            t0 = time.monotonic()
            try:
                p = read_packet(s)
            except (socket.timeout, TimeoutError):
                return "timeout", time.monotonic() - t0
            except ConnectionResetError:
                return "closed", time.monotonic() - t0
            if p is None:
                return "closed", time.monotonic() - t0
            if p[0] == 1:                      # SSH_MSG_DISCONNECT
                return "disconnect", time.monotonic() - t0
            return "type %d" % p[0], time.monotonic() - t0
        finally:
            s.close()

    ok, _ = gex(2048, 3072, 8192)
    assert ok == "type 31", "a valid DH GEX request got %s, expected KEX_DH_GEX_GROUP (31)" % ok
    # OpenSSH (DH_GRP_MIN 2048) disconnects when max < 2048; ssh-audit probes exactly this, and a
    # sensor that keeps silent for its timeout (5 s per probe) is easy to tell apart.
    for req in ((1024, 1024, 1024), (512, 1024, 1536)):
        what, dt = gex(*req)
        assert what in ("closed", "disconnect"), \
            "DH GEX request %s: %s after %.1fs; OpenSSH closes the connection at once" % (req, what, dt)
    stop_and_read(d)


# ---- 8b. the server's KEXINIT goes out even when negotiation fails --------------------------------

@case
def ssh_kexinit_sent_before_failing(ctx):
    """
    OpenSSH sends its KEXINIT as soon as it has read the client's identification line, before it
    reads the client's KEXINIT; a client offering nothing in common (old bots and nmap's
    ssh2-enum-algos offer only ssh-rsa/ssh-dss host keys) still gets the server's lists, then the
    connection ends.  The client here sends its identification line and KEXINIT in one segment.
    """
    d = ssh_daemon(ctx, "sshkexfail", [ssh_service()])
    port = d.svc("ssh").port
    results = []
    for together in (False, True):
        for i in range(5):
            s = connect(port, timeout=T(5))
            try:
                read_line(s)
                pkt = ssh_packet(kexinit_payload("curve25519-sha256,diffie-hellman-group14-sha1",
                                                 hostkey="ssh-rsa,ssh-dss"))
                if together:
                    s.sendall(b"SSH-2.0-OldBot_1.0\r\n" + pkt)
                else:
                    s.sendall(b"SSH-2.0-OldBot_1.0\r\n")
                    time.sleep(0.05)
                    s.sendall(pkt)
                try:
                    p = read_packet(s)
                except ConnectionResetError:
                    p = None
                results.append((together, p is not None and p[0] == 20))
                if p is not None and p[0] == 20:
                    assert kexinit_names(p)[0] == PROFILE_KEX, kexinit_names(p)[0]
                    try:
                        rest = read_packet(s)              # then the connection ends
                    except ConnectionResetError:
                        rest = None
                    assert rest is None or rest[0] == 1, "after a failed negotiation: %r" % rest[:40]
            finally:
                s.close()
    missing = [t for t, ok in results if not ok]
    assert not missing, "no server KEXINIT before the close in %d of %d connections (%d of them with the " \
        "identification line and KEXINIT in one segment, %d sent apart)" % (
            len(missing), len(results), sum(1 for t in missing if t), sum(1 for t in missing if not t))
    stop_and_read(d)


# ---- 9. robustness ------------------------------------------------------------------------------------

@case
def ssh_robustness(ctx):
    need("ssh", "sshpass")
    d = ssh_daemon(ctx, "sshrobust", [ssh_service()], limits={"max_per_source": 128})
    port = d.svc("ssh").port

    # Garbage instead of an identification line.
    s = connect(port, timeout=T(5))
    g_port = s.getsockname()[1]
    banner = read_line(s)
    assert banner == (DEBIAN12_VERSION + "\r\n").encode(), banner
    try:
        s.sendall(bytes(range(256)) * 4 + b"\r\nGET / HTTP/1.0\r\n\r\n")
        rest = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            rest += b
    except ConnectionResetError:
        rest = b""
    except socket.timeout:
        raise AssertionError("the sensor kept a connection open after a garbage identification line")
    finally:
        s.close()
    assert b"SSH-" not in rest, rest

    # A valid identification line, then 1 MiB of junk.
    s = connect(port, timeout=T(10))
    j_port = s.getsockname()[1]
    read_line(s)
    s.sendall(b"SSH-2.0-junker_1.0\r\n")
    sent = 0
    junk = os.urandom(64 * 1024)
    try:
        while sent < (1 << 20):
            s.sendall(junk)
            sent += len(junk)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except socket.timeout:
        raise AssertionError("the sensor kept a connection open after 1 MiB of junk")
    except OSError as e:              # reset, broken pipe, or already gone (ENOTCONN) when it cut us off
        if e.errno not in (errno.ECONNRESET, errno.EPIPE, errno.ENOTCONN):
            raise
    finally:
        s.close()

    # Disconnects in the middle of the key exchange: after the KEXINIT, and inside a packet.
    mid_ports = []
    for cut in ("after_kexinit", "inside_packet", "after_kexdh_init_header"):
        s = connect(port, timeout=T(5))
        mid_ports.append(s.getsockname()[1])
        read_line(s)
        s.sendall(b"SSH-2.0-midkex_" + cut.encode() + b"\r\n")
        pkt = ssh_packet(kexinit_payload("curve25519-sha256"))
        if cut == "inside_packet":
            s.sendall(pkt[:40])
        else:
            s.sendall(pkt)
            assert read_packet(s)[0] == 20
            if cut == "after_kexdh_init_header":
                s.sendall(struct.pack(">IB", 44, 6) + bytes([30]))
        time.sleep(0.05)
        s.close()

    # 50 parallel logins with sshpass + ssh.
    n = 50
    procs = []
    for i in range(n):
        cmd = ["sshpass", "-p", "par-%d" % i, "ssh"] + SSH_OPTS + [
            "-o", "PreferredAuthentications=password", "-p", str(port), "root@127.0.0.1", "echo par-%d" % i]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL))
    bad = []
    for i, p in enumerate(procs):
        try:
            o, e = p.communicate(timeout=T(60))
        except subprocess.TimeoutExpired:
            p.kill()
            o, e = p.communicate()
            bad.append((i, "timeout", o, e))
            continue
        if p.returncode != 0 or o != b"par-%d\n" % i:
            bad.append((i, p.returncode, o, e[-200:]))
    assert not bad, "%d of %d parallel logins failed: %r" % (len(bad), n, bad[:5])

    # Still up, and a normal login works.
    assert d.alive(), "the daemon died"
    r = sshpass_ssh(port, "after-all", ["uname -a"])
    assert r.returncode == 0 and UNAME_RE.match(r.stdout.decode()), (r.returncode, r.stdout, r.stderr)

    total = 2 + len(mid_ports) + n + 1
    d.wait_event(lambda e: e["eventid"] == "session.closed", count=total, timeout=T(15),
                 what="%d session.closed" % total)
    evs = stop_and_read(d)
    sess = sessions_of(evs)
    assert len(sess) == total, "%d sessions, expected %d" % (len(sess), total)
    for sevs in sess.values():
        check_ssh_session(sevs)
    by_port = {sevs[0]["src_port"]: sevs for sevs in sess.values()}
    g = by_port[g_port]
    assert not by(g, "client.version") and not by(g, "login.success"), g
    j = by_port[j_port]
    assert one(j, "client.version")["version"] == "SSH-2.0-junker_1.0"
    assert not by(j, "login.success") and not by(j, "client.kex"), j
    assert j[-1]["bytes_in"] <= (1 << 20) + 64, j[-1]
    for p, cut in zip(mid_ports, ("after_kexinit", "inside_packet", "after_kexdh_init_header")):
        m = by_port[p]
        assert one(m, "client.version")["version"] == "SSH-2.0-midkex_" + cut
        assert len(by(m, "client.kex")) == (0 if cut == "inside_packet" else 1), m
        assert m[-1]["reason"] in ("eof", "reset", "closed"), m[-1]
    ok = by(evs, "login.success")
    assert len(ok) == n + 1, "%d login.success, expected %d" % (len(ok), n + 1)
    assert sorted(e["password"] for e in ok) == sorted(["par-%d" % i for i in range(n)] + ["after-all"])
    check_stores_agree(d, evs)


@case
def ssh_uploads_scp_sftp(ctx):
    # What bots do after login: push a binary with scp (OpenSSH 9 uses SFTP
    # underneath), legacy scp -O, or sftp put.  Each file is stored under its
    # SHA-256 (mode 0400) and reported as session.file_upload; an upload past
    # the per-file cap is stored cut, flagged truncated.
    need("sshpass", "scp", "sftp")
    import hashlib
    d = ssh_daemon(ctx, "uploads", [ssh_service(userdb="root:x:*\n")])
    port = d.svc("ssh").port
    files = {}
    for name, size in (("f1.bin", 70000), ("f2.bin", 3000), ("f3.bin", 123457), ("big.bin", 9 * 1024 * 1024)):
        data = os.urandom(size)
        path = os.path.join(d.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        files[name] = (path, data)
    base = ["sshpass", "-p", "x"]
    opts = SSH_OPTS + ["-o", "PreferredAuthentications=password"]
    r1 = subprocess.run(base + ["scp"] + opts + ["-P", str(port), files["f1.bin"][0], "root@127.0.0.1:/tmp/"],
                        capture_output=True, timeout=T(60), stdin=subprocess.DEVNULL)
    assert r1.returncode == 0, r1.stderr
    r2 = subprocess.run(base + ["scp", "-O"] + opts + ["-P", str(port), files["f2.bin"][0], "root@127.0.0.1:/tmp/"],
                        capture_output=True, timeout=T(60), stdin=subprocess.DEVNULL)
    assert r2.returncode == 0, r2.stderr
    script = "put %s /usr/local/bin/f3.bin\nput %s /tmp/big.bin\nls /usr/local/bin\n" % (
        files["f3.bin"][0], files["big.bin"][0])
    r3 = subprocess.run(base + ["sftp"] + opts + ["-P", str(port), "root@127.0.0.1"], input=script.encode(),
                        capture_output=True, timeout=T(60))
    assert r3.returncode == 0, r3.stderr
    assert b"f3.bin" in r3.stdout, r3.stdout
    evs = stop_and_read(d)
    ups = {os.path.basename(e["filename"]): e for e in evs if e["eventid"] == "session.file_upload"}
    assert set(ups) == set(files), sorted(ups)
    want = {"f1.bin": ("sftp", "/tmp/f1.bin"), "f2.bin": ("scp", "/tmp/f2.bin"),
            "f3.bin": ("sftp", "/usr/local/bin/f3.bin"), "big.bin": ("sftp", "/tmp/big.bin")}
    for name, (path, data) in files.items():
        e = ups[name]
        assert e["protocol_detail"] == want[name][0] and e["filename"] == want[name][1], e
        assert e["size"] == len(data), e
        stored = data if name != "big.bin" else data[:8 * 1024 * 1024]
        assert e["shasum"] == hashlib.sha256(stored).hexdigest(), e
        out = os.path.join(d.data_dir, e["outfile"])
        assert oct(os.stat(out).st_mode & 0o777) == "0o400", oct(os.stat(out).st_mode)
        with open(out, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == e["shasum"]
        assert bool(e.get("truncated")) == (name == "big.bin"), e
    assert any(e["eventid"] == "command.input" and e["input"].startswith("scp -t") for e in evs)


@case
def ssh_request_caps(ctx):
    # Requests that only make events are bounded per connection: public keys
    # count towards max_auth_tries as in sshd (the client is cut off after the
    # 6th), and a flood of env requests ends with one sensor.limit event and a
    # closed connection instead of an unbounded stream of client.var events.
    paramiko = need_paramiko()
    d = ssh_daemon(ctx, "reqcaps", [ssh_service(userdb="root:x:*\n")])
    port = d.svc("ssh").port
    t = paramiko_transport(port)
    offered = 0
    try:
        for _ in range(10):
            key, _pem = ed25519_key()
            try:
                t.auth_publickey("root", key)
            except paramiko.AuthenticationException:
                pass
            offered += 1
    except (paramiko.SSHException, EOFError, OSError):
        pass
    t.close()
    # cut off after the 6th; under load paramiko may still send a 7th before it reads the disconnect
    assert offered <= 7, "offered %d keys without being cut off" % offered
    t = paramiko_transport(port)
    t.auth_password("root", "x")
    ch = t.open_session()
    sent = 0
    try:
        for i in range(400):
            ch.set_environment_variable("V%d" % i, "x")
            sent += 1
    except (paramiko.SSHException, EOFError, OSError):
        pass
    wait_for(lambda: not t.is_active(), T(10), what="the sensor to close the flooding connection")
    t.close()
    # The "none" method's answer names what sshd has on by default: Debian's sshd_config ships
    # KbdInteractiveAuthentication no, and Debian 12's sshd (OpenSSH_9.2p1 Debian-2+deb12u10)
    # answered "publickey,password" (scanners such as nmap's ssh-auth-methods list it).
    t = paramiko_transport(port)
    try:
        t.auth_none("root")
        raise AssertionError("the none method was accepted")
    except paramiko.BadAuthenticationType as e:
        assert e.allowed_types == ["publickey", "password"], e.allowed_types
    finally:
        t.close()
    evs = stop_and_read(d)
    fps = [e for e in evs if e["eventid"] == "client.fingerprint"]
    assert 1 <= len(fps) <= 6, len(fps)
    closed = [e for e in evs if e["eventid"] == "session.closed"]
    assert closed[0]["reason"] == "max_auth_tries", closed[0]
    assert len([e for e in evs if e["eventid"] == "client.var"]) <= 256
    lim = [e for e in evs if e["eventid"] == "sensor.limit" and e.get("limit") == "ssh_requests"]
    assert len(lim) == 1 and lim[0]["session"] == closed[1]["session"], lim
    assert closed[1]["reason"] == "request_limit", closed[1]


def _ident_reply(port, line, until=None):
    """What a server sends to one client identification line (sent whole, nothing after it), up to
    EOF (or until the bytes contain 'until')."""
    s = connect(port)
    s.sendall(line)
    s.settimeout(T(5))
    out = b""
    try:
        while until is None or until not in out:
            b = s.recv(4096)
            if not b:
                break
            out += b
    except OSError:
        pass
    s.close()
    return out


def _reference_sshd(tmp, key):
    """Debian's sshd on a free port, answering; (process, port).  A port that another test took
    between free_port() and sshd's bind makes sshd exit: then it is started again on another."""
    log = os.path.join(tmp, "log")
    # sshd refuses to start without its privilege separation directory, which only
    # the packaged service creates (systemd's tmpfiles), and /run is empty after a boot
    os.makedirs("/run/sshd", exist_ok=True)
    for attempt in range(3):
        sport = free_port()
        sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", "/dev/null", "-p", str(sport), "-o",
                                 "ListenAddress=127.0.0.1", "-h", key, "-o", "PidFile=" + os.path.join(tmp, "pid"),
                                 "-E", log])
        try:
            wait_for(lambda: sshd.poll() is not None or
                     _ident_reply(sport, b"SSH-2.0-probe\r\n", until=b"\n").startswith(b"SSH-2.0-OpenSSH"),
                     T(10), what="the reference sshd")
        except AssertionError:
            sshd.terminate()
            sshd.wait()
            raise
        if sshd.poll() is None:
            return sshd, sport
        sshd.wait()
    with open(log, errors="replace") as f:
        raise AssertionError("the reference sshd exited three times: %s" % f.read()[-500:])


@case
def ssh_bad_identification_answered_as_sshd(ctx):
    """A client identification line sshd refuses gets sshd's words from hanipo too (Debian's sshd
    run beside it as the reference): after the server's own identification line, "Invalid SSH
    identification string." for junk, a missing software version or an empty line, "Protocol major
    versions differ." for SSH-1 and SSH-3; then the connection closes.  A line that is a version
    (even a refused one) is still logged as client.version."""
    need("/usr/sbin/sshd", "ssh-keygen")
    tmp = tempfile.mkdtemp(prefix="hanipo-it-sshdref-")
    key = os.path.join(tmp, "k")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    sshd, sport = _reference_sshd(tmp, key)
    try:
        d = ssh_daemon(ctx, "sshident", [ssh_service()])
        port = d.svc("ssh").port
        # and, refused before any newline (sshd reads byte by byte): a TLS ClientHello's start, a
        # line too long, a CR not followed by LF
        probes = [b"SSH-1.5-x\r\n", b"SSH-3.0-x\r\n", b"\r\n", b"SSH-2.0\r\n", b"SSH-2.0-\r\n", b"SSH-x.0-y\r\n",
                  b"GET / HTTP/1.0\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                  b"SSH-2.0-" + b"A" * 9000 + b"\r\n", b"SSH-2.0-x\ry"]
        for line in probes:
            want, got = _ident_reply(sport, line), _ident_reply(port, line)
            wb, _, wrest = want.partition(b"\r\n")
            gb, _, grest = got.partition(b"\r\n")
            assert wb.startswith(b"SSH-2.0-OpenSSH") and gb.startswith(b"SSH-2.0-OpenSSH"), (line, want, got)
            assert wrest in (b"Invalid SSH identification string.\r\n", b"Protocol major versions differ.\r\n"), (line, want)
            assert grest == wrest, "%r: sshd sent %r after its identification, hanipo %r" % (line, wrest, grest)
        # a good line still gets the key exchange
        assert b"curve25519" in _ident_reply(port, b"SSH-2.0-OpenSSH_9.2\r\n", until=b"curve25519")
        # A clear-text packet of type 0 or 192..255 (before or after the client's KEXINIT): sshd
        # answers after its KEXINIT with a disconnect, reason 2 "Invalid ssh2 packet type: N", zero
        # padded, and closes; libssh answered UNIMPLEMENTED and waited.  The bytes must be sshd's.
        kex = ssh_packet(kexinit_payload("curve25519-sha256"))
        for pre, typ in ((b"", 200), (kex, 255), (ssh_packet(b"\x02" + ssh_string("x")), 0)):
            want, got = (_ident_reply(p, b"SSH-2.0-x\r\n" + pre + ssh_packet(bytes([typ]) + b"abc"))
                         for p in (sport, port))
            tails = []
            for out in (want, got):
                rest = out.partition(b"\r\n")[2]
                tails.append(rest[4 + struct.unpack(">I", rest[:4])[0]:])    # after the KEXINIT
            assert tails[0] == tails[1] and b"Invalid ssh2 packet type: %d" % typ in tails[0], (typ, tails)
        evs = stop_and_read(d)
        vers = [e["version"] for e in by(evs, "client.version")]
        assert "SSH-1.5-x" in vers and "SSH-2.0" in vers and "GET / HTTP/1.0" not in vers, vers
        reasons = [e["reason"] for e in by(evs, "session.closed")]
        assert reasons.count("ssh_protocol_mismatch") == 2 and reasons.count("ssh_bad_version") == 8, reasons
        assert reasons.count("ssh_bad_packet") == 3, reasons
    finally:
        sshd.terminate()
        sshd.wait()
        shutil.rmtree(tmp, ignore_errors=True)
