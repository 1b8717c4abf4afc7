"""
harness.py - start hanipo daemons for integration tests and read what they record.

Everything here uses the Python standard library only (the suite runs with
/usr/bin/python3 on a bare Debian 12).

  Daemon        one `hanipo run` in its own temporary directory, with a generated
                configuration, on free ports of 127.0.0.1; events are read back
                from the JSONL files and from the SQLite database.
  free_port()   a port nothing uses now (see the comment there)
  wait_for()    poll a predicate with a deadline
  T(seconds)    a timeout scaled for sanitizer builds (HANIPO_SANITIZED=1: x3)

Every daemon started is registered so that the runner can kill whatever a
failing test left behind (and print its stderr), and an atexit hook kills any
survivor should the runner itself die.
"""
import atexit
import base64
import datetime
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
HANIPO_BIN = os.environ.get("HANIPO_BIN") or os.path.join(ROOT, "hanipo")
SANITIZED = os.environ.get("HANIPO_SANITIZED", "") not in ("", "0")
SCALE = 3.0 if SANITIZED else 1.0
KEEP = os.environ.get("HANIPO_KEEP_TMP", "") not in ("", "0")


def daemon_env():
    """
    Environment of a running sensor.  Under ASan the daemon keeps leak
    detection: sanitizer builds leave ptrace allowed and the process dumpable
    (src/core/privs.c) so that LeakSanitizer can stop the world at exit.
    HANIPO_DAEMON_LEAKS=0 turns it off for `hanipo run`.
    """
    env = os.environ.copy()
    if SANITIZED and os.environ.get("HANIPO_DAEMON_LEAKS", "") == "0":
        opts = env.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "detect_leaks=0"
    if SANITIZED:
        # The sandbox also stops ASan from exec'ing llvm-symbolizer: reports are
        # symbolized afterwards by symbolize() instead.
        for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            opts = env.get(var, "")
            env[var] = (opts + ":" if opts else "") + "symbolize=0"
    return env


_FRAME_RE = re.compile(r"\((/[^()\s]+)\+0x([0-9a-fA-F]+)\)")


def symbolize(text):
    """Add function and file:line (addr2line) to raw sanitizer frames of the hanipo binary."""
    binary = os.path.realpath(HANIPO_BIN)
    addrs = []
    for m in _FRAME_RE.finditer(text):
        if os.path.realpath(m.group(1)) == binary and m.group(2) not in addrs:
            addrs.append(m.group(2))
    if not addrs or not shutil.which("addr2line"):
        return text
    try:
        r = subprocess.run(["addr2line", "-f", "-C", "-e", binary] + ["0x" + a for a in addrs],
                           capture_output=True, timeout=30)
        out = r.stdout.decode("utf-8", "replace").splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return text
    names = {}
    for i, a in enumerate(addrs):
        if 2 * i + 1 < len(out):
            names[a] = "%s %s" % (out[2 * i], out[2 * i + 1].replace(ROOT + "/", ""))
    lines = []
    for line in text.splitlines():
        m = _FRAME_RE.search(line)
        if m and m.group(2) in names and os.path.realpath(m.group(1)) == binary:
            line = line[:m.start()] + "in " + names[m.group(2)]
        lines.append(line)
    return "\n".join(lines)


def T(seconds):
    """A timeout, scaled for slow (sanitized) builds."""
    return seconds * SCALE


class Skip(Exception):
    """Raised by a test that cannot run here (reason in the message)."""


class DaemonFailed(AssertionError):
    pass


def wait_for(pred, timeout, interval=0.05, what="condition"):
    """Call pred() until it returns something truthy; return that, or raise AssertionError."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except (OSError, ValueError, sqlite3.Error) as e:     # file not there yet, db locked...
            last_exc = e
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s%s" % (
                timeout, what, " (last error: %r)" % last_exc if last_exc else ""))
        time.sleep(interval)


# ---- ports ---------------------------------------------------------------------

_used_ports = set()


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def _port_free(port, host="127.0.0.1"):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as the daemon does
            s.bind((host, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_port(host="127.0.0.1"):
    """
    A port free for both TCP and UDP on host.

    Candidates are taken below the kernel's ephemeral range (ip_local_port_range)
    and checked by binding them: a port handed out by bind(port 0) lies inside
    that range, where any outgoing connection on this busy machine may take it
    between our probe and the daemon's bind.  Under run.py -jN each worker
    takes its own slice of them (HANIPO_IT_WORKER=k/N), so two workers never
    pick the same port before either daemon binds it.  Falls back to bind(0).
    Ports already handed out in this run are never reused.
    """
    lo, _ = _ephemeral_range()
    first, last = 10000, lo - 1
    try:                                        # run.py -jN: this worker's slice of the range
        k, n = (int(x) for x in os.environ.get("HANIPO_IT_WORKER", "0/1").split("/"))
    except ValueError:
        k, n = 0, 1
    if n > 1 and 0 <= k < n and last - first > 1000 * n:
        span = (last - first + 1) // n
        first, last = first + k * span, first + (k + 1) * span - 1
    if lo > 12000:
        for _ in range(200):
            p = random.randint(first, last)
            if p in _used_ports:
                continue
            if _port_free(p, host):
                _used_ports.add(p)
                return p
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((host, 0))
        p = s.getsockname()[1]
        s.close()
        if p not in _used_ports and _port_free(p, host):
            _used_ports.add(p)
            return p
    raise RuntimeError("no free port found")


def socket_inodes(pid):
    """The inodes (as in /proc/net/tcp's column 10) of the sockets the process holds open."""
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out


def _listening(pid, tcp_ports, udp_ports):
    """True when the process's network namespace has every port bound (from /proc/PID/net).
    An entry is a port, or (address, port): then that IPv4 address exactly, since the
    namespace's table also lists other daemons' sockets (two cases may bind the same
    fixed port on different loopback addresses at once).  Only the process's own sockets
    count (their inodes among its open files): another daemon already listening on the
    port would otherwise pass for it, and the case would talk to that daemon while this
    one fails to bind."""
    try:
        mine = socket_inodes(pid)
    except OSError:
        return False
    def bound(fname, state):
        out = set()
        with open("/proc/%d/net/%s" % (pid, fname)) as f:
            next(f)
            for line in f:
                parts = line.split()
                if len(parts) > 9 and parts[3] == state and parts[9] in mine:
                    addr, port = parts[1].rsplit(":", 1)
                    out.add((addr, int(port, 16)))
                    out.add(int(port, 16))
        return out
    def key(entry):
        if isinstance(entry, int):
            return entry
        ip, port = entry
        try:
            packed = socket.inet_aton(ip)
        except OSError:
            return port                                 # IPv6 or a name: the port alone
        if ip == "0.0.0.0":
            return port
        return ("%08X" % struct.unpack("<I", packed)[0], port)
    def all_bound(entries, have):
        for e in entries:
            k = key(e)
            # a wildcard socket listens on every address too (a config may bind 0.0.0.0)
            if k not in have and not (isinstance(k, tuple) and ("00000000", k[1]) in have):
                return False
        return True
    if tcp_ports and not all_bound(tcp_ports, bound("tcp", "0A")):      # LISTEN
        return False
    if udp_ports and not all_bound(udp_ports, bound("udp", "07")):      # unconnected, bound
        return False
    return True


# ---- events ---------------------------------------------------------------------

ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def parse_ts(s):
    """Parse an event timestamp; returns microseconds since the epoch (raises on a bad format)."""
    if not isinstance(s, str) or not ISO_RE.match(s):
        raise AssertionError("timestamp %r is not ISO 8601 UTC with microseconds" % (s,))
    dt = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp()) * 1000000 + dt.microsecond


def payload_bytes(ev):
    """The exact bytes a trap.payload event recorded (payload_b64 when present, else payload)."""
    if "payload_b64" in ev:
        return base64.b64decode(ev["payload_b64"], validate=True)
    return ev["payload"].encode("utf-8")


def by(events, eventid=None, **fields):
    out = []
    for e in events:
        if eventid is not None and e.get("eventid") != eventid:
            continue
        if all(e.get(k) == v for k, v in fields.items()):
            out.append(e)
    return out


# ---- the daemon -------------------------------------------------------------------

_all_daemons = []


def identity(d, key):
    """A value of the sensor's DATA_DIR/identity (drawn at its first start): host names, banners,
    the personalities' choices; None when the key is absent."""
    with open(os.path.join(d.data_dir, "identity")) as f:
        for line in f:
            if line.startswith(key + "="):
                return line.rstrip("\n").split("=", 1)[1]
    return None


class Service:
    def __init__(self, name, protocol="trap", tcp=1, udp=0, bind="127.0.0.1", tcp_ports=None,
                 udp_ports=None, **opts):
        self.name = name
        self.protocol = protocol
        self.ntcp = tcp
        self.nudp = udp
        self.bind = bind
        self.fixed_tcp = tcp_ports          # explicit ports (not reallocated)
        self.fixed_udp = udp_ports
        self.opts = opts
        self.tcp_ports = []
        self.udp_ports = []

    def allocate(self):
        self.tcp_ports = list(self.fixed_tcp) if self.fixed_tcp is not None else \
            [free_port() for _ in range(self.ntcp)]
        self.udp_ports = list(self.fixed_udp) if self.fixed_udp is not None else \
            [free_port() for _ in range(self.nudp)]

    @property
    def port(self):
        return self.tcp_ports[0]

    @property
    def uport(self):
        return self.udp_ports[0]

    def ini(self):
        lines = ["[service %s]" % self.name, "protocol = %s" % self.protocol, "bind = %s" % self.bind]
        if self.tcp_ports:
            lines.append("tcp_ports = %s" % " ".join(str(p) for p in self.tcp_ports))
        if self.udp_ports:
            lines.append("udp_ports = %s" % " ".join(str(p) for p in self.udp_ports))
        opts = {"idle_timeout": "60s"}
        opts.update(self.opts)
        for k, v in opts.items():
            lines.append("%s = %s" % (k, v))
        return "\n".join(lines) + "\n"


class Daemon:
    """
    One hanipo sensor in a fresh temporary directory.

      d = Daemon("name", services=[Service("trap", tcp=2, udp=1, flush_after="300ms")])
      d.start()                 # waits until every port is bound
      ... connect to d.svc("trap").port ...
      d.stop()                  # SIGTERM, asserts exit status 0
      d.events()                # JSONL events (all files), d.sqlite_events() the same from SQLite
    """

    def __init__(self, label, services, sensor=None, limits=None, outputs=None, netns=None,
                 user="nobody", capture=None):
        self.label = label
        # [capture] keys.  Tests never fetch from the network unless they ask:
        # the default turns downloads off (URLs are still logged).
        self.capture = capture if capture is not None else {"fetch": "false"}
        self.services = services
        self.sensor_extra = sensor or {}
        self.limits = {"max_connections": 4096, "max_per_source": 64, "stats_interval": "60s"}
        self.limits.update(limits or {})
        self.outputs = outputs or {"jsonl": {"enabled": "true"}, "sqlite": {"enabled": "true"}}
        self.netns = netns
        self.user = user
        self.tmp = tempfile.mkdtemp(prefix="hanipo-it-%s-" % label)
        # The sensor drops to 'nobody': it must be able to reach data_dir (SIGHUP reopens files).
        os.chmod(self.tmp, 0o755)
        self.data_dir = os.path.join(self.tmp, "data")
        self.log_dir = os.path.join(self.data_dir, "log")
        self.db_path = os.path.join(self.data_dir, "hanipo.sqlite")
        self.config_path = os.path.join(self.tmp, "hanipo.ini")
        self.stderr_path = os.path.join(self.tmp, "stderr.txt")
        self.proc = None
        self.returncode = None
        _all_daemons.append(self)

    # -- configuration
    def svc(self, name):
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(name)

    def config_text(self):
        sensor = {"name": "itest", "data_dir": self.data_dir, "user": self.user, "log_level": "info",
                  "disk_floor": "0"}
        sensor.update(self.sensor_extra)
        out = ["[sensor]"] + ["%s = %s" % kv for kv in sensor.items()]
        out += ["", "[limits]"] + ["%s = %s" % kv for kv in self.limits.items()]
        if self.capture is not None:
            out += ["", "[capture]"] + ["%s = %s" % kv for kv in self.capture.items()]
        for name, opts in self.outputs.items():
            out += ["", "[output %s]" % name] + ["%s = %s" % kv for kv in opts.items()]
        text = "\n".join(out) + "\n"
        for s in self.services:
            text += "\n" + s.ini()
        return text

    # -- life cycle
    def start(self, timeout=None, attempts=5):
        timeout = timeout or T(10)
        for attempt in range(attempts):
            for s in self.services:
                s.allocate()
            with open(self.config_path, "w") as f:
                f.write(self.config_text())
            cmd = [HANIPO_BIN, "run", "-c", self.config_path]
            if self.netns:
                cmd = ["ip", "netns", "exec", self.netns] + cmd
            self.stderr_file = open(self.stderr_path, "ab")
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.stderr_file,
                                         stderr=self.stderr_file, cwd=self.tmp, env=daemon_env())
            self.returncode = None
            tcp = [(s.bind, p) for s in self.services for p in s.tcp_ports]
            udp = [(s.bind, p) for s in self.services for p in s.udp_ports]
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                rc = self.proc.poll()
                if rc is not None:
                    self.returncode = rc
                    break
                try:
                    if _listening(self.proc.pid, tcp, udp):
                        return self
                except OSError:
                    pass
                time.sleep(0.02)
            else:
                self.kill()
                raise DaemonFailed("daemon %s did not listen on %s/%s within %.1fs" % (
                    self.label, tcp, udp, timeout))
            err = self.stderr()
            if "Address already in use" in err and attempt + 1 < attempts:
                continue                       # someone took a port: new ports, try again
            raise DaemonFailed("daemon %s exited with status %s at start-up" % (self.label, self.returncode))
        raise DaemonFailed("daemon %s could not start" % self.label)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=None, expect_rc=0):
        """SIGTERM; wait; assert the exit status (0: a clean stop)."""
        timeout = timeout or T(15)
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("daemon %s did not stop within %.1fs of SIGTERM" % (self.label, timeout))
        self.returncode = self.proc.returncode
        self._close_stderr()
        if expect_rc is not None and self.returncode != expect_rc:
            raise AssertionError("daemon %s exited with status %s after SIGTERM, expected %s" % (
                self.label, self.returncode, expect_rc))
        err = self.stderr()
        for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if bad in err:
                raise AssertionError("daemon %s: sanitizer report in stderr (%s)" % (self.label, bad))
        return self.returncode

    def kill(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
                self.proc.wait(T(10))
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.proc is not None:
            self.returncode = self.proc.poll()
        self._close_stderr()

    def _close_stderr(self):
        f = getattr(self, "stderr_file", None)
        if f and not f.closed:
            f.close()

    def cleanup(self):
        self.kill()
        if not KEEP:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def describe(self):
        """Config and stderr, for a failure report."""
        err = self.stderr()
        if "Sanitizer" in err or "runtime error" in err:
            kept, skipping = [], False
            for l in symbolize(err).splitlines():
                if "Shadow bytes around" in l:          # the shadow map and its legend: noise here
                    skipping = True
                elif re.match(r"==\d+==", l):
                    skipping = False
                if not skipping:
                    kept.append(l)
            err = "\n".join(kept)
        lines = err.splitlines()
        if len(lines) > 80:
            lines = ["... (%d lines cut)" % (len(lines) - 80)] + lines[-80:]
        return "---- daemon %s (dir %s, exit status %s)\n---- config:\n%s---- stderr:\n%s\n" % (
            self.label, self.tmp, self.returncode if self.proc and self.proc.poll() is not None else "running",
            self.config_text(), "\n".join(lines))

    # -- reading events
    def jsonl_files(self):
        return sorted(glob.glob(os.path.join(self.log_dir, "events-*.jsonl")))

    def jsonl_path_for_today(self):
        day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        return os.path.join(self.log_dir, "events-%s.jsonl" % day)

    @staticmethod
    def read_jsonl(path, strict=False):
        """Events of one file.  strict: every line must parse and the file end with a newline;
        otherwise a last line still being written is ignored."""
        with open(path, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        tail = lines.pop()                    # after the last '\n': '' when the file ends cleanly
        if tail and strict:
            raise AssertionError("%s does not end with a newline (last %d bytes: %r)" % (
                path, len(tail), tail[:200]))
        out = []
        for i, line in enumerate(lines, 1):
            try:
                out.append(json.loads(line.decode("utf-8")))
            except (UnicodeDecodeError, ValueError) as e:
                raise AssertionError("%s:%d: not a JSON line (%s): %r" % (path, i, e, line[:300]))
        return out

    def events(self, strict=False):
        out = []
        for p in self.jsonl_files():
            out.extend(self.read_jsonl(p, strict))
        return out

    def wait_event(self, pred, timeout=None, what="event", count=1):
        """Wait until at least `count` JSONL events satisfy pred; returns them."""
        timeout = timeout or T(5)

        def check():
            found = [e for e in self.events() if pred(e)]
            if len(found) >= count:
                return found
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("daemon %s exited (status %s) while waiting for %s" % (
                    self.label, self.proc.returncode, what))
            return None
        return wait_for(check, timeout, what="%s in %s" % (what, self.label))

    def sqlite_rows(self):
        """Rows of table events as dicts, with 'json' = parsed data column."""
        con = sqlite3.connect("file:%s?mode=ro" % self.db_path, uri=True, timeout=10)
        try:
            con.row_factory = sqlite3.Row
            rows = [dict(r) for r in con.execute(
                "SELECT id, ts, eventid, session, protocol, src_ip, src_port, dst_port, data "
                "FROM events ORDER BY id")]
        finally:
            con.close()
        for r in rows:
            r["json"] = json.loads(r["data"])
        return rows

    def sqlite_events(self):
        return [r["json"] for r in self.sqlite_rows()]


def kill_all():
    for d in list(_all_daemons):
        try:
            d.kill()
        except Exception:
            pass


atexit.register(kill_all)


# ---- clients -----------------------------------------------------------------------

def can_connect(port, host="127.0.0.1"):
    """Whether something accepts TCP connections on host:port now (a reference server started
    beside the sensor, to wait for)."""
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def connect(port, host="127.0.0.1", source=None, timeout=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout or T(5))
    if source:
        s.bind((source, 0))
    s.connect((host, port))
    return s


def recv_until_eof(s, timeout=None, limit=1 << 20):
    """Read until the server closes; returns the bytes (raises socket.timeout on a hang)."""
    s.settimeout(timeout or T(5))
    out = b""
    while len(out) < limit:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            break
        if not b:
            break
        out += b
    return out


def send_and_close(port, data, host="127.0.0.1", source=None, timeout=None):
    """connect, send, half-close, read until the server closes.  Returns (src_port, reply)."""
    s = connect(port, host, source, timeout)
    try:
        sport = s.getsockname()[1]
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        reply = recv_until_eof(s, timeout)
    finally:
        s.close()
    return sport, reply


def run_hydra(d, args, timeout=None):
    """Run hydra ARGS against daemon d; returns (completed process, stdout text, login.failed events
    logged before the run that counts).  Under load hydra 9.4 sometimes ends before one of its own
    workers ("1 final worker threads did not complete", "1 target did not resolve or could not be
    connected", exit 255) with every attempt answered: it is run once more then, after the failed
    run's events are in, and a sensor that refuses connections is refused twice."""
    for attempt in range(2):
        before = len(by(d.events(), "login.failed"))
        r = subprocess.run(["hydra"] + args, cwd=d.tmp, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout or T(60))
        out = r.stdout.decode("utf-8", "replace")
        if attempt or r.returncode == 0 or "did not complete" not in out + r.stderr.decode("utf-8", "replace"):
            return r, out, before
        time.sleep(T(0.5))                              # the failed run's events, logged within 10 ms
