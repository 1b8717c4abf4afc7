"""
cases_harden.py - hardening proofs (issue 13), run by run.py after cases_udpiot.

  sandbox     the test-only binary (HANIPO_DEBUG_BIN, built by the Makefile with
              -DHP_DEBUG_HOOKS; src/core/debughook.c) is started as root with the default
              user 'nobody'; SIGUSR2 makes it try execve(/bin/true) from the event loop: the
              log must say EPERM and the sensor must still serve.  From outside: uid, NoNewPrivs,
              Seccomp of every thread.  The release binary must not contain the hook.
  detectors   the shipped etc/hanipo.ini, started as root inside a network namespace of its
              own on the ports a deployment uses (the shifted ports mapped back to the real ones,
              as the nftables redirect of docs/deployment.md would): nmap -sV and the NSE scripts
              scanners use, the published Cowrie / Kippo / Dionaea / T-Pot checks, "every port
              answers", per-sensor host keys and TLS certificates.  None may label it a honeypot.
  resources   slowloris (thousands of idle connections) plus a connect flood from one source;
              SSH and HTTP clients from other source addresses are served within 1 s.

Every case needs root (network namespaces, binding real ports, dropping privileges).
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid

import harness
from harness import T, Daemon, Service, Skip, by, connect, free_port, send_and_close, wait_for
from cases import case, stop_and_read

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_INI = os.path.join(ROOT, "etc", "hanipo.ini")

# Names that give a honeypot away, in any scanner's output.
HONEYPOT_WORDS = ("honeypot", "honey pot", "cowrie", "kippo", "dionaea", "glastopf", "honeytrap", "conpot",
                  "t-pot", "tpot", "nepenthes", "amun", "opencanary", "hanipo", "heralding", "elasticpot")


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            raise Skip("%s is not installed" % t)


def need_root():
    if os.geteuid() != 0:
        raise Skip("not root: network namespaces and the privilege drop need root")


def no_honeypot_words(text, what):
    low = text.lower()
    for w in HONEYPOT_WORDS:
        assert w not in low, "%s contains %r:\n%s" % (what, w, text)


def proc_status(pid, tid=None):
    path = "/proc/%d/status" % pid if tid is None else "/proc/%d/task/%s/status" % (pid, tid)
    with open(path) as f:
        return dict((l.partition(":")[0], l.partition(":")[2].split()) for l in f)


# ---- 1. execve refused after start-up ---------------------------------------------------------

def debug_bin():
    """The test-only binary with debug hooks; its absence is a failure (make test builds it)."""
    b = os.environ.get("HANIPO_DEBUG_BIN") or os.path.join(ROOT, "build", "debug-hooks", "hanipo")
    assert os.access(b, os.X_OK), ("%s is missing: build it with `make build/debug-hooks/hanipo` "
                                   "(or set HANIPO_DEBUG_BIN)" % b)
    return b


class DebugDaemon(Daemon):
    """A Daemon running the debug-hooks binary instead of HANIPO_BIN."""

    def start(self, *a, **kw):
        saved = harness.HANIPO_BIN
        harness.HANIPO_BIN = debug_bin()
        try:
            return Daemon.start(self, *a, **kw)
        finally:
            harness.HANIPO_BIN = saved


HOOK_RE = re.compile(r"debug hook: execve /bin/true returned (-?\d+) errno=(\w+)")


@case
def sandbox_refuses_execve(ctx):
    """execve from the event loop after start-up fails with EPERM; the sensor serves on."""
    need_root()
    # The release binary has no hook at all.
    with open(harness.HANIPO_BIN, "rb") as f:
        assert b"hp_debug_try_spawn" not in f.read() , "the release binary %s contains the debug hook" % harness.HANIPO_BIN
    d = DebugDaemon("sandbox", [Service("trap", tcp=1)])
    ctx.daemons.append(d)
    d.start()
    d.wait_event(lambda e: e["eventid"] == "sensor.start", what="sensor.start")
    assert "debug hooks armed" in d.stderr(), d.stderr()
    # From outside: the configured user ('nobody'), no_new_privs, a seccomp filter, on every thread.
    st = proc_status(d.pid)
    for k, want in (("Uid", ["65534"] * 4), ("NoNewPrivs", ["1"]), ("Seccomp", ["2"])):
        assert st.get(k) == want, "%s: %r, expected %r" % (k, st.get(k), want)
    tids = os.listdir("/proc/%d/task" % d.pid)
    for tid in tids:
        t = proc_status(d.pid, tid)
        assert t.get("Seccomp") == ["2"] and t.get("NoNewPrivs") == ["1"] and t.get("Uid") == ["65534"] * 4, \
            "thread %s: %r" % (tid, {k: t.get(k) for k in ("Uid", "NoNewPrivs", "Seccomp")})
    # The attempt.
    d.send_signal(signal.SIGUSR2)
    m = wait_for(lambda: HOOK_RE.search(d.stderr()) or (not d.alive() and "died"), T(5),
                 what="the debug hook's log line")
    assert m != "died", "the sensor is gone after the execve attempt (status %s): execve was NOT refused" % (
        d.proc.poll(),)
    assert m.group(1) == "-1" and m.group(2) == "EPERM", "execve answered: %s" % m.group(0)
    assert d.alive() and d.pid == d.proc.pid
    with open("/proc/%d/cmdline" % d.pid, "rb") as f:
        assert b"true" not in f.read().split(b"\0")[0], "the process image changed"
    # Still serving, and it records.
    sport, _ = send_and_close(d.svc("trap").port, b"still here\n")
    d.wait_event(lambda e: e["eventid"] == "session.closed" and e["src_port"] == sport, what="session after the attempt")
    stop_and_read(d)
    ctx.note("%d thread(s) Seccomp 2, NoNewPrivs 1, uid 65534; %s" % (len(tids), m.group(0)))


# ---- the shipped configuration, deployed in a namespace of its own ----------------------------

ADDR = "192.0.2.1"           # the sensor's "public" address inside the namespace (TEST-NET-1)
SPECIAL_PORTS = {2222: 22, 2323: 23}


def deployed_port(p):
    """The port a deployment exposes: etc/hanipo.ini shifts privileged ports by 10000 and puts
    SSH / Telnet on 2222 / 2323, to be redirected from the real ones (docs/deployment.md)."""
    if p in SPECIAL_PORTS:
        return SPECIAL_PORTS[p]
    return p - 10000 if 10000 < p < 11024 else p


def make_netns(ctx):
    """A fresh network namespace with lo up and ADDR on it; removed at the end of the case."""
    need_root()
    need("ip")
    ns = "hanipo-hd-%d-%s" % (os.getpid(), uuid.uuid4().hex[:6])
    r = subprocess.run(["ip", "netns", "add", ns], capture_output=True)
    if r.returncode != 0:
        raise Skip("cannot create a network namespace: %s" % r.stderr.decode().strip())
    ctx.defer(lambda: subprocess.run(["ip", "netns", "del", ns], capture_output=True))
    for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", ADDR + "/32", "dev", "lo"]):
        subprocess.run(["ip", "netns", "exec", ns] + cmd, check=True, capture_output=True)
    return ns


def in_ns(ns, cmd, timeout=60, **kw):
    return subprocess.run(["ip", "netns", "exec", ns] + cmd, capture_output=True, timeout=T(timeout), **kw)


class DefaultConfigDaemon(Daemon):
    """
    etc/hanipo.ini as shipped, with only what a deployment changes: the data directory, services
    bound to 0.0.0.0 on their real ports (root binds them, then drops to 'nobody' as the file says),
    and downloads off (a test never fetches from the internet).  The dashboard stays on 127.0.0.1:
    scans go to ADDR, as from outside.
    """

    def __init__(self, ctx, label, ns):
        Daemon.__init__(self, label, [], netns=ns)
        ctx.daemons.append(self)
        self.text = self._rewrite()

    def _rewrite(self):
        with open(DEFAULT_INI) as f:
            lines = f.read().splitlines()
        out, section, i = [], None, 0
        while i < len(lines):
            line = lines[i]
            i += 1
            m = re.match(r"\s*\[(.+)\]\s*$", line)
            if m:
                section = m.group(1)
                if section.startswith("service ") or section == "dashboard":
                    self.services.append(Service(section.split(" ", 1)[-1], tcp_ports=[], udp_ports=[]))
                out.append(line)
                continue
            km = re.match(r"(\w+)\s*=\s*(.*)$", line)
            if not km:
                out.append(line)
                continue
            key, val = km.group(1), km.group(2).strip()
            if key in ("tcp_ports", "udp_ports"):
                while i < len(lines) and lines[i][:1] in (" ", "\t") and lines[i].strip():
                    val += " " + lines[i].strip()
                    i += 1
                ports = [deployed_port(int(p)) for p in val.replace(",", " ").split()]
                if key == "tcp_ports":
                    self.services[-1].fixed_tcp = ports
                else:
                    self.services[-1].fixed_udp = ports
                val = " ".join(str(p) for p in ports)
            elif section == "sensor" and key == "data_dir":
                val = self.data_dir
            elif section and section.startswith("service ") and key == "bind":
                val = "0.0.0.0"
            elif key == "location_port":
                val = str(deployed_port(int(val)))
            elif section == "capture" and key == "fetch":
                val = "false"
            elif section == "dashboard" and key == "port":
                self.services[-1].fixed_tcp = [int(val)]
            out.append("%s = %s" % (key, val))
        return "\n".join(out) + "\n"

    def config_text(self):
        return self.text

    def ports(self, kind="tcp", exclude=("dashboard",)):
        out = []
        for s in self.services:
            if s.name not in exclude:
                out += (s.fixed_tcp or []) if kind == "tcp" else (s.fixed_udp or [])
        return out

    def port_of(self, name, i=0):
        return self.svc(name).fixed_tcp[i]


def default_sensor(ctx, label):
    ns = make_netns(ctx)
    d = DefaultConfigDaemon(ctx, label, ns)
    d.start(timeout=T(30))                   # first start: host keys, TLS certificate, identity
    d.wait_event(lambda e: e["eventid"] == "sensor.start", what="sensor.start")
    return ns, d


def nmap(ns, args, timeout=240):
    need("nmap")
    r = in_ns(ns, ["nmap", "-Pn", "-n"] + args + [ADDR], timeout=timeout)
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, "nmap %s: exit %d\n%s\n%s" % (args, r.returncode, out, r.stderr.decode()[:2000])
    return out


def port_lines(out):
    """nmap's port table: {port: (state, service, version)}."""
    res = {}
    for m in re.finditer(r"^(\d+)/(tcp|udp)\s+(\S+)\s+(\S+)[ \t]*(.*)$", out, re.M):
        res[int(m.group(1))] = (m.group(3), m.group(4), m.group(5).strip())
    return res


# ---- 2. detector resistance ----------------------------------------------------------------------

# Strings published honeypot detectors look for: the default banners, names and versions of
# Cowrie / Kippo (SSH), Dionaea (FTP, SMB, MSSQL, MySQL), Conpot (S7, Modbus), Glastopf and T-Pot.
KNOWN_DEFAULTS = (
    "SSH-2.0-OpenSSH_6.0p1 Debian-4+deb7u2",          # Cowrie
    "SSH-2.0-OpenSSH_5.1p1 Debian-5",                 # Kippo
    "DiskStation FTP server ready",                   # Dionaea FTP
    "HOMEUSER-3AF6FE", "Windows 5.1",                 # Dionaea SMB server name / NativeOS
    "8.00.194",                                       # Dionaea MSSQL
    "5.0.54",                                         # Dionaea MySQL
    "Technodrome", "Mouser Factory", "88111222",      # Conpot S7 (system name, plant, serial)
    "svr04", "svr03", "nas3",                         # Cowrie / Kippo host names
    "richard",                                        # Cowrie's fake user
)

# What nmap -sV must call each named service of etc/hanipo.ini (deployed port -> service name).
EXPECTED_SERVICE = {21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 80: "http", 102: "iso-tsap",
                    445: "microsoft-ds", 502: "modbus", 1433: "ms-sql-s", 3306: "mysql",
                    3389: "ms-wbt-server", 5038: "asterisk", 5060: "sip", 5432: "postgresql",
                    5555: "adb", 5900: "vnc", 6379: "redis", 8443: "http", 27017: "mongodb"}
# Services whose version nmap must find (a real server of each tells it).
NEED_VERSION = (21, 22, 25, 80, 1433, 3306, 5432, 6379, 8443)

SCRIPTS = ("ssh2-enum-algos,ssh-hostkey,http-title,http-headers,ftp-anon,smb-os-discovery,smb-protocols,"
           "mysql-info,redis-info,vnc-info,sip-methods,modbus-discover,s7-info,rdp-ntlm-info,ssl-cert,"
           "smtp-commands,banner,ms-sql-info,mongodb-info")

# Scripts that fail against the real servers too (checked by hand: nmap -d shows why); the case
# prints them; any other script failing fails it.
KNOWN_SCRIPT_ERRORS = {
    # nmap 7.93's mssql.lua: GetDiscoveredInstances returns one value where GetTargetInstances
    # expects two, so the script stops with "attempt to index a nil value" before talking TDS.
    "ms-sql-info": "nmap 7.93 bug (mssql.lua GetTargetInstances), fails so against every SQL Server",
    # MongoDB >= 6 answers OP_QUERY serverStatus/buildInfo with UnsupportedOpQueryCommand, and the
    # script then concatenates a nil version; the module does the same for its >= 6 personalities.
    "mongodb-info": "fails so against a real MongoDB >= 6 (OP_QUERY removed); 5.x personalities answer",
}


def script_errors(out):
    """Names of NSE scripts that failed ('ERROR: Script execution failed')."""
    return sorted(set(re.findall(r"^\|_?\s*([\w-]+): ERROR: Script execution failed", out, re.M)))


@case
def detect_no_port_answers_unless_configured(ctx):
    """'Every port answers' (Honeytrap / T-Pot catch-all tell): only the configured ports are open."""
    ns, d = default_sensor(ctx, "detect-ports")
    out = nmap(ns, ["-sS", "-p-", "--open", "-T5", "--max-retries", "1"])
    open_ports = set(p for p, (state, _, _) in port_lines(out).items() if state == "open")
    want = set(d.ports("tcp"))
    assert open_ports == want, "open %s; the config has %s" % (sorted(open_ports - want), sorted(want - open_ports))
    m = re.search(r"Not shown: (\d+) closed tcp ports", out)
    assert m and int(m.group(1)) == 65535 - len(want), out[:2000]
    # UDP: the configured ports answer nothing to an empty datagram (no reflection), the others
    # send ICMP port unreachable as any host does.
    out = nmap(ns, ["-sU", "-p", "53,123,161,1900,5060,69,111,137,500,4500", "--max-retries", "1"])
    st = {p: s for p, (s, _, _) in port_lines(out).items()}
    for p in (69, 111, 137, 500, 4500):
        assert st.get(p) == "closed", "udp %d: %s\n%s" % (p, st.get(p), out)
    stop_and_read(d)
    ctx.note("%d TCP ports open = the configured ones, %d closed (RST)" % (len(open_ports), int(m.group(1))))


@case
def detect_nmap_services_and_scripts(ctx):
    """nmap -sV and the NSE scripts a scanner runs: real product names, plausible output, no tell."""
    ns, d = default_sensor(ctx, "detect-nmap")
    ports = sorted(EXPECTED_SERVICE)
    t0 = time.monotonic()
    out = nmap(ns, ["-sV", "-T4", "--script", SCRIPTS, "-p", ",".join(str(p) for p in ports)])
    dt = time.monotonic() - t0
    no_honeypot_words(out, "nmap -sV --script output")
    for s in KNOWN_DEFAULTS:
        assert s.lower() not in out.lower(), "nmap output shows the known honeypot default %r:\n%s" % (s, out)
    table = port_lines(out)
    for p, want in EXPECTED_SERVICE.items():
        got = table.get(p)
        assert got and got[0] == "open", "port %d: %r\n%s" % (p, got, out)
        assert got[1].startswith(want) or got[1] == "ssl/" + want, "port %d: nmap says %r, expected %r\n%s" % (
            p, got[1], want, out)
        if p in NEED_VERSION:
            assert got[2], "port %d (%s): nmap found no version\n%s" % (p, got[1], out)
    # Script outputs a real server of each kind gives.
    for pat, what in ((r"kex_algorithms: \(\d+\)\s+\|\s+curve25519-sha256", "ssh2-enum-algos: curve25519 first"),
                      (r"ssh-hostkey: *\n(?:\|.*\n)*?\|_?\s+256 [0-9a-f]{32} \(ED25519\)", "ssh-hostkey: an Ed25519 key"),
                      (r"http-title: \S", "http-title on port 80"),
                      (r"http-headers:\s*\n\|\s+Server: ", "http-headers: a Server header"),
                      (r"mysql-info:\s*\n\|\s+Protocol: 10", "mysql-info: protocol 10"),
                      (r"redis-info:\s*\n\|\s+Version: \d", "redis-info: a version"),
                      (r"vnc-info:\s*\n\|\s+Protocol version: 3\.[378]", "vnc-info: RFB 3.x"),
                      (r"sip-methods: INVITE", "sip-methods"),
                      (r"modbus-discover:", "modbus-discover"),
                      (r"s7-info:\s*\n\|\s+Module: ", "s7-info: a module"),
                      (r"smb-os-discovery:\s*\n\|\s+OS: Windows", "smb-os-discovery: a Windows OS"),
                      (r"ssl-cert: Subject: commonName=", "ssl-cert: a subject")):
        assert re.search(pat, out), "nmap: no %s\n%s" % (what, out)
    assert "diffie-hellman-group1-sha1" not in out and "ssh-dss" not in out, "legacy SSH algorithms (Cowrie/Kippo tell)"
    errs = script_errors(out)
    unknown = [e for e in errs if e not in KNOWN_SCRIPT_ERRORS]
    assert not unknown, "NSE scripts failed: %s\n%s" % (unknown, out)
    for e in errs:
        ctx.note("%s fails, as against a real server: %s" % (e, KNOWN_SCRIPT_ERRORS[e]))
    stop_and_read(d)
    ctx.note("nmap -sV + %d scripts on %d ports in %.1fs: %s" % (
        len(SCRIPTS.split(",")), len(ports), dt,
        "; ".join("%d %s" % (p, table[p][2] or table[p][1]) for p in (21, 22, 25, 80, 445, 3306))))


SSH_OPTS = ["-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "NumberOfPasswordPrompts=1",
            "-o", "PreferredAuthentications=password"]


def ssh_run(ns, port, command, password="Winter2024!"):
    """One command over OpenSSH's ssh (sshpass) from inside the namespace: (rc, stdout, stderr)."""
    need("ssh", "sshpass")
    r = in_ns(ns, ["sshpass", "-p", password, "ssh"] + SSH_OPTS + ["-p", str(port), "root@" + ADDR, command],
              timeout=30, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def local(cmd):
    """What this Debian 12 host itself answers (the personality claims Debian 12): (rc, stdout, stderr)."""
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, timeout=10, cwd="/", env={"PATH": "/usr/bin:/bin",
                                                                                         "LC_ALL": "C"})
    return r.returncode, r.stdout.decode(), r.stderr.decode()


@case
def detect_cowrie_shell_checks(ctx):
    """The published Cowrie/Kippo shell checks: no /home/richard, coherent uname / cpuinfo / nproc,
    GNU coreutils' and bash's exact error texts and exit codes, exit really ends the session."""
    ns, d = default_sensor(ctx, "detect-shell")
    port = d.port_of("ssh")
    rc, banner, _ = 0, "", ""
    s = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
                        "import socket; s = socket.create_connection(('%s', %d), timeout=10); print(s.recv(256))"
                        % (ADDR, port)], capture_output=True, timeout=T(20))
    banner = s.stdout.decode()
    assert "SSH-2.0-" in banner, banner
    for bad in KNOWN_DEFAULTS[:2]:
        assert bad not in banner, banner
    # Identical error texts and exit codes as GNU coreutils / bash on the Debian the banner claims.
    merged = []
    for cmd in ("ls /nonexistent", "cat /nonexistent", "ls -d /home/richard", "hanipo_nosuchcmd",
                "cd /nonexistent"):
        want = local(cmd)
        got = ssh_run(ns, port, cmd)
        assert got[0] == want[0] and got[1] + got[2] == want[1] + want[2], \
            "%r: sensor answered rc %d out %r err %r; Debian 12 answers rc %d out %r err %r" % (
                cmd, got[0], got[1], got[2], want[0], want[1], want[2])
        if (got[1], got[2]) != (want[1], want[2]):
            merged.append(cmd)
    if merged:
        # Same text and status, but on the wrong stream: the shell has one output (src/shell/interp.h),
        # ssh.c sends it all as channel data.  Not fixed yet (docs/dev/detector-resistance.md).
        ctx.note("KNOWN FINDING: exec without a pty sends stderr as stdout (%s)" % ", ".join(merged))
    rc, home, err = ssh_run(ns, port, "ls /home")
    assert rc == 0 and "richard" not in home, (rc, home, err)
    # uname, hostname, cpuinfo, nproc and meminfo tell one story.
    rc, out, err = ssh_run(ns, port, "uname -a; hostname; nproc; uname -m")
    lines = out.splitlines()
    assert rc == 0 and len(lines) == 4, (rc, out, err)
    uname, host, nproc, arch = lines
    assert uname.split()[1] == host and host not in ("svr04", "svr03", "nas3"), (uname, host)
    assert uname.split()[-2] == arch, (uname, arch)
    rc, cpuinfo, err = ssh_run(ns, port, "cat /proc/cpuinfo")
    cpus = re.findall(r"^processor\s*:\s*(\d+)$", cpuinfo, re.M)
    assert rc == 0 and cpus == [str(i) for i in range(int(nproc))], "nproc %s, cpuinfo processors %s" % (nproc, cpus)
    if arch == "x86_64":
        flags = re.findall(r"^flags\s*:\s*(.*)$", cpuinfo, re.M)
        assert flags and all(" lm " in " %s " % f for f in flags), "x86_64 kernel on a CPU without 'lm'"
    assert "E8200" not in cpuinfo, "Cowrie's default CPU (Core 2 Duo E8200)"
    rc, mem, err = ssh_run(ns, port, "cat /proc/meminfo; free -k")
    mt = re.search(r"^MemTotal:\s+(\d+) kB", mem, re.M)
    fm = re.search(r"^Mem:\s+(\d+)", mem, re.M)
    assert mt and fm and mt.group(1) == fm.group(1), "meminfo %s, free %s" % (mt and mt.group(1), fm and fm.group(1))
    # Kippo's tell: 'exit' in an interactive shell did not end the session.
    code = ("import paramiko, sys, time\n"
            "t = paramiko.Transport(('%s', %d)); t.start_client(timeout=10); t.auth_password('root', 'x9!Q')\n"
            "c = t.open_session(); c.get_pty(); c.invoke_shell(); time.sleep(0.5); c.send(b'exit\\n')\n"
            "t0 = time.time()\n"
            "while not c.exit_status_ready() and time.time() - t0 < 5: time.sleep(0.05)\n"
            "print(c.exit_status_ready(), c.recv_exit_status() if c.exit_status_ready() else None)\n") % (ADDR, port)
    r = in_ns(ns, ["/usr/bin/python3", "-c", code], timeout=30)
    assert r.stdout.decode().split() == ["True", "0"], "exit in a shell: %r %r" % (r.stdout, r.stderr[-500:])
    stop_and_read(d)
    ctx.note("%s | %s cpus, MemTotal %s kB" % (uname, nproc, mt.group(1)))
