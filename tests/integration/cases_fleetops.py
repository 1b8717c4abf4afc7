"""
cases_fleetops.py - running sensors in production (issue 12): the syslog output against
Debian's rsyslog, `hanipo status`, and the shipped deployment files (contrib/).

Imported by run.py; every @case here is appended to cases.ALL.

rsyslog is started by the test on a random loopback port with its own configuration (imtcp,
imudp, or imtcp with the ossl TLS driver) and writes every message it receives from app-name
"hanipo" to a file, one line per message: PRI|HOSTNAME|APP-NAME|MSGID|MSG.  Each MSG must parse
as JSON and equal, field for field, the event with the same uid in the sensor's own JSONL.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import harness
from harness import HANIPO_BIN, KEEP, ROOT, T, Service, Skip, _listening, free_port, wait_for
from cases import case, stop_and_read


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            raise Skip("%s is not installed" % t)


RSYSLOG_CONF = """
$MaxMessageSize 1m
global(workDirectory="%(dir)s" processInternalMessages="on")
%(modules)s
template(name="hp" type="string" string="%%pri%%|%%hostname%%|%%app-name%%|%%msgid%%|%%msg%%\\n")
if $app-name == "hanipo" then {
  action(type="omfile" file="%(out)s" template="hp")
  stop
}
action(type="omfile" file="%(dir)s/other.log")
"""


class Rsyslog:
    """One rsyslogd in the foreground, listening on 127.0.0.1:port (udp, tcp or tls)."""

    def __init__(self, ctx, transport, port=None):
        need("rsyslogd")
        self.transport = transport
        self.dir = tempfile.mkdtemp(prefix="hanipo-it-rsyslog-")
        os.chmod(self.dir, 0o755)
        self.port = port or free_port()
        self.out = os.path.join(self.dir, "out.log")
        self.proc = None
        ctx.defer(self.cleanup)
        if transport == "tls":
            self._make_certs()

    def _make_certs(self):
        need("openssl")
        d = self.dir
        run = lambda *a: subprocess.run(a, check=True, capture_output=True, cwd=d, timeout=T(30))
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=hanipo test CA",
            "-keyout", "ca.key", "-out", "ca.pem")
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "srv.key",
            "-out", "srv.csr")
        with open(os.path.join(d, "ext.cnf"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        run("openssl", "x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", "ext.cnf", "-out", "srv.pem")
        # another CA, which did not sign the receiver's certificate
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=other CA",
            "-keyout", "other.key", "-out", "other.pem")
        for f in os.listdir(d):
            os.chmod(os.path.join(d, f), 0o644)
        self.ca = os.path.join(d, "ca.pem")
        self.other_ca = os.path.join(d, "other.pem")

    def modules(self):
        p = self.port
        if self.transport == "udp":
            return 'module(load="imudp")\ninput(type="imudp" address="127.0.0.1" port="%d")' % p
        if self.transport == "tcp":
            return 'module(load="imtcp")\ninput(type="imtcp" address="127.0.0.1" port="%d")' % p
        return ('global(DefaultNetstreamDriverCAFile="%(d)s/ca.pem" DefaultNetstreamDriverCertFile="%(d)s/srv.pem"'
                ' DefaultNetstreamDriverKeyFile="%(d)s/srv.key")\n'
                'module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")\n'
                'input(type="imtcp" address="127.0.0.1" port="%(p)d")' % {"d": self.dir, "p": p})

    def start(self):
        conf = os.path.join(self.dir, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write(RSYSLOG_CONF % {"dir": self.dir, "out": self.out, "modules": self.modules()})
        self.err = open(os.path.join(self.dir, "stderr.txt"), "ab")
        self.proc = subprocess.Popen(["rsyslogd", "-n", "-f", conf, "-i", os.path.join(self.dir, "pid")],
                                     stdin=subprocess.DEVNULL, stdout=self.err, stderr=self.err)
        tcp, udp = ([], [self.port]) if self.transport == "udp" else ([self.port], [])

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("rsyslogd exited with %s: %s" % (self.proc.returncode, self.stderr()))
            try:
                return _listening(self.proc.pid, tcp, udp)
            except OSError:
                return False
        wait_for(up, T(10), what="rsyslogd listening on %d" % self.port)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(T(10))
        if self.proc:
            self.err.close()
        self.proc = None

    def stderr(self):
        try:
            with open(os.path.join(self.dir, "stderr.txt"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-2000:]
        except OSError:
            return ""

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not KEEP:
            shutil.rmtree(self.dir, ignore_errors=True)

    def messages(self):
        """[(pri, hostname, app, msgid, event)] in arrival order; every MSG must be JSON."""
        try:
            with open(self.out, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        out = []
        for line in data.split(b"\n")[:-1]:
            pri, host, app, msgid, msg = line.decode("utf-8").split("|", 4)
            try:
                ev = json.loads(msg)
            except ValueError as e:
                raise AssertionError("rsyslog got a message that is not JSON (%s): %r" % (e, msg[:300]))
            out.append((int(pri), host, app, msgid, ev))
        return out

    def wait_uids(self, uids, timeout=None):
        uids = set(uids)

        def got():
            have = {m[4].get("uid") for m in self.messages()}
            return uids <= have
        wait_for(got, timeout or T(10), what="%d events at rsyslog" % len(uids))


def syslog_output(rs, **extra):
    o = {"enabled": "true", "host": "127.0.0.1", "port": str(rs.port), "transport": rs.transport}
    if rs.transport == "tls":
        o["ca_file"] = rs.ca
    o.update(extra)
    return o


def traffic(port, n, tag):
    """n trap connections with payloads that need escaping (quotes, UTF-8, control bytes)."""
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=T(5))
        s.sendall(("GET /%s-%d \"quoted\" h\u00e9llo \x01\x02\r\n" % (tag, i)).encode("utf-8"))
        s.shutdown(socket.SHUT_WR)
        s.close()


def check_same(d, rs, evs, skip=()):
    """Every JSONL event reached rsyslog once, equal to the JSONL object, with the right header."""
    want = {e["uid"]: e for e in evs if e["eventid"] not in skip}
    rs.wait_uids(want)
    msgs = rs.messages()
    seen = {}
    for pri, host, app, msgid, ev in msgs:
        assert ev["uid"] not in seen, "uid %s delivered twice" % ev["uid"]
        seen[ev["uid"]] = ev
        assert host == "itest" and app == "hanipo" and msgid == ev["eventid"], (pri, host, app, msgid)
        assert pri == 16 * 8 + (4 if ev["eventid"] in ("login.success", "command.input") else 6), (pri, ev)
        if ev["uid"] in want:
            assert ev == want[ev["uid"]], "syslog %r != jsonl %r" % (ev, want[ev["uid"]])
    return msgs


def hanipo_status(d, *args):
    r = subprocess.run([HANIPO_BIN, "status", "-c", d.config_path] + list(args), capture_output=True,
                       timeout=T(10))
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


LAST_STATUS = {}


def status_json(d):
    rc, out, err = hanipo_status(d, "--json")
    assert rc == 0, "hanipo status --json: exit %d: %s" % (rc, err)
    st = json.loads(out)
    LAST_STATUS[d.label] = st
    return st, {o["name"]: o for o in st["outputs"]}


def wait_status(d, pred, what):
    """wait_for over status_json(d); the last document seen is in the failure message."""
    try:
        return wait_for(lambda: pred(*status_json(d)), T(10), what=what)
    except AssertionError as e:
        raise AssertionError("%s; last status: %s" % (e, json.dumps(LAST_STATUS.get(d.label))))


@case
def syslog_tcp_rsyslog_and_status(ctx):
    """TCP (octet counting) to rsyslog: every event arrives once, as the JSONL has it; `hanipo status`
    follows the counters; a receiver outage pauses accepting, then everything arrives."""
    rs = Rsyslog(ctx, "tcp").start()
    d = ctx.daemon("syslog-tcp", [Service("trap", tcp=1, flush_after="200ms")],
                   outputs={"jsonl": {"enabled": "true"}, "sqlite": {"enabled": "true"},
                            "syslog": syslog_output(rs)}).start()
    port = d.svc("trap").port

    # status: running, all three outputs, idle queues
    wait_for(lambda: os.path.exists(os.path.join(d.data_dir, "status.json")), T(5), what="status.json")
    st, outs = status_json(d)
    assert st["pid"] == d.pid and st["sensor"] == "itest" and st["accepting"] is True, st
    assert sorted(outs) == ["jsonl", "sqlite", "syslog"], st
    rc, table, err = hanipo_status(d)
    assert rc == 0 and "syslog" in table and "sqlite" in table and "accepting    yes" in table, (rc, table, err)
    before = outs["jsonl"]["written"]

    traffic(port, 10, "a")
    d.wait_event(lambda e: e["eventid"] == "session.closed", count=10, what="10 sessions")
    uids = [e["uid"] for e in d.events()]
    rs.wait_uids(uids)

    st, outs = wait_status(d, lambda s, o: (
        o["jsonl"]["written"] >= before + 30 and o["syslog"]["written"] >= before + 30 and
        all(x["queued"] == x["inflight"] == 0 for x in o.values()) and o["syslog"]["connected"] is True) and (s, o),
        "status shows the traffic written, queues empty")
    assert outs["syslog"]["errors"] == 0 and outs["syslog"]["last_ok_us"] > st["started_us"], outs

    # outage: the receiver stops; events wait, errors count, accepting pauses
    rs.stop()
    traffic(port, 3, "b")
    time.sleep(1.5)                   # the first wave is the batch being retried; the second queues
    traffic(port, 2, "c")
    time.sleep(1)                     # congestion is judged when an event is queued: this one sees the
    traffic(port, 1, "d")             # second wave waiting > 500 ms, and accepting pauses
    st, outs = wait_status(d, lambda s, o: (
        o["syslog"]["queued"] > 0 and o["syslog"]["inflight"] > 0 and o["syslog"]["errors"] > 0 and
        o["syslog"]["connected"] is False and s["accepting"] is False and s["paused_reason"] == "outputs") and (s, o),
        "status shows the syslog backlog and paused accepting")
    rc, table, _ = hanipo_status(d)
    assert rc == 0 and "PAUSED (outputs)" in table and "connected=false" in table, table
    assert outs["jsonl"]["queued"] == 0 and outs["jsonl"]["inflight"] == 0, outs
    ctx.note("outage: syslog queued %d + %d retrying, errors %d" % (
        outs["syslog"]["queued"], outs["syslog"]["inflight"], outs["syslog"]["errors"]))

    time.sleep(1)
    rs.start()                        # same port, same output file
    wait_status(d, lambda s, o: (
        o["syslog"]["queued"] == 0 and o["syslog"]["inflight"] == 0 and o["syslog"]["connected"] is True and
        s["accepting"] is True), "syslog output recovered")
    d.wait_event(lambda e: e["eventid"] == "session.closed", count=16, what="16 sessions")
    evs = stop_and_read(d, allow_errors=("syslog",))      # the outage's failed writes (retried)
    assert evs[-1]["outputs"]["syslog"]["shed"] == 0, evs[-1]["outputs"]
    msgs = check_same(d, rs, evs)
    assert msgs[-1][4]["eventid"] == "sensor.stop", msgs[-1]     # shipped while the outputs drained
    # quotes, UTF-8 and control bytes from the attacker survive the trip (as JSON escapes)
    raws = [m[4].get("raw", "") for m in msgs if m[4]["eventid"] == "http.bad_request"]
    assert len(raws) == 16 and all('"quoted" h\u00e9llo \x01\x02' in r for r in raws), raws
    # a clean stop removes the status file: `hanipo status` says not running
    rc, _, err = hanipo_status(d)
    assert rc == 3 and "not running" in err, (rc, err)


@case
def syslog_udp_and_tls_rsyslog(ctx):
    """UDP (an event over udp_max arrives as a valid JSON stub with its uid), TLS (ossl driver,
    checked against the configured CA; a wrong CA delivers nothing and counts errors; after kill -9
    `hanipo status` says the pid is gone) and TCP with LF framing and another facility."""
    ru = Rsyslog(ctx, "udp").start()
    rt = Rsyslog(ctx, "tls").start()
    d = ctx.daemon("syslog-udp-tls", [Service("trap", tcp=1, flush_after="200ms")],
                   outputs={"jsonl": {"enabled": "true"}, "sqlite": {"enabled": "true"},
                            "syslog": syslog_output(ru, udp_max="2048")}).start()
    port = d.svc("trap").port
    traffic(port, 3, "u")
    s = socket.create_connection(("127.0.0.1", port), timeout=T(5))
    s.sendall(b"B" * 6000)
    s.shutdown(socket.SHUT_WR)
    s.close()
    d.wait_event(lambda e: e["eventid"] == "session.closed", count=4, what="4 sessions")
    evs = stop_and_read(d)
    size = lambda e: len(json.dumps(e, separators=(",", ":"), ensure_ascii=False).encode())
    big = [e for e in evs if size(e) > 2048]
    assert len(big) == 1 and "session" in big[0], [(e["eventid"], size(e)) for e in big]
    small = [e for e in evs if e is not big[0]]
    ru.wait_uids([e["uid"] for e in evs])
    got = {m[4]["uid"]: m[4] for m in ru.messages()}
    for e in small:
        assert got[e["uid"]] == e, (got[e["uid"]], e)
    stub = got[big[0]["uid"]]
    assert stub["syslog_truncated"] is True and stub["eventid"] == big[0]["eventid"], stub
    assert stub["length"] >= size(big[0]) - 16 and len(stub) == 8, stub
    assert stub["session"] == big[0]["session"] and stub["timestamp"] == big[0]["timestamp"], stub

    # TLS, verified against the right CA
    d2 = ctx.daemon("syslog-tls", [Service("trap", tcp=1, flush_after="200ms")],
                    outputs={"jsonl": {"enabled": "true"}, "sqlite": {"enabled": "true"}, "syslog": syslog_output(rt)}).start()
    traffic(d2.svc("trap").port, 3, "t")
    d2.wait_event(lambda e: e["eventid"] == "session.closed", count=3, what="3 sessions")
    evs2 = stop_and_read(d2)
    check_same(d2, rt, evs2)

    # TLS with a CA that did not sign the receiver's certificate: nothing is delivered
    n_before = len(rt.messages())
    d3 = ctx.daemon("syslog-badca", [Service("trap", tcp=1, flush_after="200ms")],
                    outputs={"jsonl": {"enabled": "true"}, "sqlite": {"enabled": "true"},
                            "syslog": syslog_output(rt, ca_file=rt.other_ca)}).start()
    traffic(d3.svc("trap").port, 1, "x")

    wait_status(d3, lambda s, o: (
        o["syslog"]["errors"] > 0 and o["syslog"]["queued"] + o["syslog"]["inflight"] > 0 and
        o["syslog"]["connected"] is False and o["syslog"]["written"] == 0), "TLS with the wrong CA refused")
    assert "certificate verify failed" in d3.stderr() or "TLS handshake failed" in d3.stderr(), d3.stderr()[-1500:]
    d3.kill()                         # SIGKILL: the status file stays behind, its pid is gone
    assert len(rt.messages()) == n_before, "a sensor with the wrong CA delivered messages"
    rc, _, err = hanipo_status(d3)
    assert rc == 3 and "is gone" in err, (rc, err)

    # TCP with LF framing (non-transparent, RFC 6587 3.4.2) to a plain imtcp
    rl = Rsyslog(ctx, "tcp").start()
    d4 = ctx.daemon("syslog-lf", [Service("trap", tcp=1, flush_after="200ms")],
                    outputs={"jsonl": {"enabled": "true"}, "sqlite": {"enabled": "true"},
                             "syslog": syslog_output(rl, framing="lf", facility="daemon")}).start()
    traffic(d4.svc("trap").port, 2, "l")
    d4.wait_event(lambda e: e["eventid"] == "session.closed", count=2, what="2 sessions")
    evs4 = stop_and_read(d4)
    want = {e["uid"]: e for e in evs4}
    rl.wait_uids(want)
    msgs = rl.messages()
    assert len(msgs) == len(want), (len(msgs), len(want))
    for pri, host, app, msgid, ev in msgs:
        assert ev == want[ev["uid"]] and pri == 3 * 8 + 6 and msgid == ev["eventid"], (pri, msgid, ev)


@case
def contrib_files_verify(ctx):
    """contrib/hanipo.service passes systemd-analyze verify; contrib/nftables.conf loads (nft -c)
    in a private network namespace; contrib/logrotate names the files the docs name."""
    unit = os.path.join(ROOT, "contrib", "hanipo.service")
    nft = os.path.join(ROOT, "contrib", "nftables.conf")
    rot = os.path.join(ROOT, "contrib", "logrotate")
    for p in (unit, nft, rot):
        assert os.path.exists(p), p
    checked = []
    if shutil.which("systemd-analyze"):
        tmp = tempfile.mkdtemp(prefix="hanipo-it-unit-")
        ctx.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
        # ExecStart must name an existing executable for verify: point it at this build.
        with open(unit) as f:
            text = f.read()
        assert "ExecStart=/usr/local/bin/hanipo run" in text, "unit's ExecStart changed: update this test"
        with open(os.path.join(tmp, "hanipo.service"), "w") as f:
            f.write(text.replace("/usr/local/bin/hanipo", HANIPO_BIN))
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", os.path.join(tmp, "hanipo.service")],
                           capture_output=True, timeout=T(60))
        msgs = [l for l in r.stderr.decode().splitlines() if "hanipo.service" in l]
        assert r.returncode == 0 and not msgs, "systemd-analyze verify: %d %s" % (r.returncode, r.stderr.decode())
        checked.append("systemd-analyze")
    else:
        ctx.note("systemd-analyze not installed: unit not verified")
    if os.geteuid() == 0 and shutil.which("ip") and shutil.which("nft"):
        ns = "hanipo-it-%d-%s" % (os.getpid(), uuid.uuid4().hex[:6])
        r = subprocess.run(["ip", "netns", "add", ns], capture_output=True)
        if r.returncode == 0:
            ctx.defer(lambda: subprocess.run(["ip", "netns", "del", ns], capture_output=True))
            r = subprocess.run(["ip", "netns", "exec", ns, "nft", "-c", "-f", nft], capture_output=True,
                               timeout=T(30))
            assert r.returncode == 0, "nft -c -f contrib/nftables.conf: %s" % r.stderr.decode()
            checked.append("nft -c")
        else:
            ctx.note("cannot create a network namespace: nftables.conf not checked")
    else:
        ctx.note("not root or no ip/nft: nftables.conf not checked")
    with open(rot) as f:
        conf = [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]
    assert conf[0] == "/var/log/hanipo/hanipo.log {" and "copytruncate" not in conf, conf
    assert any("HUP" in l and "hanipo.service" in l for l in conf), conf
    ctx.note("checked: %s" % ", ".join(checked))


@case
def contrib_unit_capabilities(ctx):
    """Started as root with only the unit's CapabilityBoundingSet (setpriv, as systemd would), the
    sensor binds a port below 1024, drops to its user and stops cleanly; `hanipo status` sees it."""
    if os.geteuid() != 0:
        raise Skip("not root")
    need("setpriv", "ip")
    with open(os.path.join(ROOT, "contrib", "hanipo.service")) as f:
        line = [l for l in f.read().splitlines() if l.startswith("CapabilityBoundingSet=")]
    assert len(line) == 1, line
    caps = line[0].split("=", 1)[1].split()
    bset = "-all," + ",".join("+" + c[len("CAP_"):].lower() for c in caps)
    ns = "hanipo-it-%d-%s" % (os.getpid(), uuid.uuid4().hex[:6])
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode != 0:
        raise Skip("cannot create a network namespace")
    ctx.defer(lambda: subprocess.run(["ip", "netns", "del", ns], capture_output=True))
    subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
    tmp = tempfile.mkdtemp(prefix="hanipo-it-caps-")
    os.chmod(tmp, 0o755)
    ctx.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    wrapper = os.path.join(tmp, "hanipo-bounded")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec setpriv --bounding-set %s --inh-caps=-all %s \"$@\"\n" % (bset, HANIPO_BIN))
    os.chmod(wrapper, 0o755)
    saved = harness.HANIPO_BIN
    harness.HANIPO_BIN = wrapper      # Daemon.start runs harness.HANIPO_BIN
    try:
        d = ctx.daemon("caps", [Service("low", tcp_ports=[23])], netns=ns).start()
    finally:
        harness.HANIPO_BIN = saved
    wait_for(lambda: os.path.exists(os.path.join(d.data_dir, "status.json")), T(5), what="status.json")
    rc, out, err = hanipo_status(d)
    assert rc == 0 and "itest" in out, (rc, out, err)
    assert "running as user nobody" in d.stderr(), d.stderr()[-1500:]
    with open("/proc/%d/status" % d.pid) as f:
        st = f.read()
    # after the drop: no capability at all, whatever the bounding set allowed at start
    eff = [l for l in st.splitlines() if l.startswith(("CapEff:", "CapPrm:"))]
    assert all(l.split()[1] == "0000000000000000" for l in eff), eff
    evs = stop_and_read(d)
    assert evs[0]["services"][0]["tcp_ports"] == [23], evs[0]
    ctx.note("bounding set %s" % bset)
