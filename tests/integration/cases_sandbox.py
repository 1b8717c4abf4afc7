"""
cases_sandbox.py - the sandbox (src/core/sandbox.c) and disk-full behaviour (issue 13).

  sandbox_strict_probes     the test-only binary (HANIPO_DEBUG_BIN, tests/hooks/debughook.c) with the
                            default [sensor] sandbox = strict, started as root, dropping to nobody.
                            Every thread is under the filter and has its name (network thread
                            hanipo, out-jsonl, out-sqlite, capture).
                            SIGUSR2 runs, on the event loop, what an exploited module would try: create a
                            file in /tmp (world-writable: only Landlock refuses it, EACCES), getpriority
                            and personality (harmless, allowed for anyone, but outside the seccomp
                            allowlist: EPERM), mount, ptrace(TRACEME) (EPERM; ptrace is kept in sanitizer
                            builds for LeakSanitizer and not probed there), execve (EPERM).  Afterwards an
                            SSH login (paramiko) and an HTTP request are served and recorded.
  sandbox_denylist_mode     the same probes with sandbox = denylist: getpriority and the /tmp file
                            now succeed (so the strict case's probes can fail), execve is still
                            refused.
  disk_full_*               data_dir on a 2 MiB tmpfs; a filler file takes the rest of the space; the
                            sensor keeps serving SSH, HTTP and the trap, reports the condition (log,
                            `hanipo status`), and once the filler is deleted writes every event of the
                            connections made meanwhile exactly once to JSONL (whole lines) and SQLite.
                            With [limits] queue_events = 64, events beyond the bound are shed and
                            counted: every uid issued is in the file or in the output's shed count.

Every case needs root (dropping to nobody, mounting the tmpfs).
"""
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

import harness
from harness import T, Service, Skip, send_and_close, wait_for
from cases import case, check_stores_agree
from cases_harden import DebugDaemon, HOOK_RE, proc_status
from cases_ssh import paramiko_transport, ssh_service, try_password

PROBE_RE = re.compile(r"debug hook: (.+?) returned (-?\d+) errno=(\w+)")


def need_root():
    if os.geteuid() != 0:
        raise Skip("not root: the privilege drop and the tmpfs mount need root")


def sanitized():
    return bool(os.environ.get("HANIPO_SANITIZED"))


def probes(d):
    """Send SIGUSR2, wait for the execve line (the last probe); {probe: (rc, errno name)}."""
    d.send_signal(signal.SIGUSR2)
    m = wait_for(lambda: HOOK_RE.search(d.stderr()) or (not d.alive() and "died"), T(10),
                 what="the debug hook's lines")
    assert m != "died", "the sensor is gone after the probes (status %s)" % (d.proc.poll(),)
    out = {}
    for what, rc, err in PROBE_RE.findall(d.stderr()):
        out[what.split("(")[0].split(" ")[0]] = (int(rc), err)
    return out


def http_get(port, path="/"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=T(10)) as r:
        return r.status, r.read()


def ssh_login(port, password="Winter2024!"):
    t = paramiko_transport(port)
    try:
        return try_password(t, "root", password)
    finally:
        t.close()


def still_serves(d):
    """An SSH login and an HTTP request, both answered; returns the SSH client's source port."""
    assert ssh_login(d.svc("ssh").port), "the SSH login was refused"
    status, body = http_get(d.svc("web").port)
    assert status == 200 and body, (status, body[:200])


def sandbox_daemon(ctx, label, sandbox=None):
    svcs = [ssh_service("ssh"), Service("web", protocol="http"), Service("trap", tcp=1)]
    d = DebugDaemon(label, svcs, sensor={"sandbox": sandbox} if sandbox else None)
    ctx.daemons.append(d)
    d.start(timeout=T(20))
    d.wait_event(lambda e: e["eventid"] == "sensor.start", what="sensor.start")
    return d


@case
def sandbox_strict_probes(ctx):
    """strict: Landlock refuses a file outside data_dir, seccomp refuses what is not allowlisted."""
    need_root()
    d = sandbox_daemon(ctx, "sbstrict")
    err = d.stderr()
    assert "sandbox: seccomp allowlist" in err, err
    assert re.search(r"sandbox: landlock ABI \d+", err), "Landlock was not applied:\n" + err
    assert "threads were already running" not in err, err
    names = set()
    for tid in os.listdir("/proc/%d/task" % d.pid):
        t = proc_status(d.pid, tid)
        assert t.get("Seccomp") == ["2"] and t.get("NoNewPrivs") == ["1"], (tid, t.get("Seccomp"))
        with open("/proc/%d/task/%s/comm" % (d.pid, tid)) as f:
            names.add(f.read().strip())
    # every thread names itself (top -H), also under the allowlist
    assert {"hanipo", "out-jsonl", "out-sqlite", "capture"} <= names, names
    got = probes(d)
    want = {"open": "EACCES", "getpriority": "EPERM", "personality": "EPERM", "mount": "EPERM",
            "execve": "EPERM"}
    if not sanitized():
        want["ptrace"] = "EPERM"
    for what, errname in want.items():
        assert what in got, "probe %s did not report: %r\n%s" % (what, got, d.stderr())
        assert got[what] == (-1, errname), "%s answered %r, expected -1 %s" % (what, got[what], errname)
    assert not os.path.exists("/tmp/hanipo-sandbox-probe-%d" % d.pid), "the probe file was created"
    still_serves(d)
    d.wait_event(lambda e: e["eventid"] == "login.success" and e.get("protocol") == "ssh", what="ssh login")
    d.wait_event(lambda e: e["eventid"].startswith("http.") , what="http request")
    d.stop()
    ctx.note("probes: %s" % ", ".join("%s=%s" % (k, v[1]) for k, v in sorted(got.items())))


@case
def sandbox_denylist_mode(ctx):
    """denylist: the probes the allowlist and Landlock refuse succeed; execve is still refused."""
    need_root()
    d = sandbox_daemon(ctx, "sbdeny", sandbox="denylist")
    assert "sandbox: seccomp deny-list" in d.stderr()
    got = probes(d)
    assert got["open"][0] >= 0, "open in /tmp: %r (no Landlock in denylist mode)" % (got["open"],)
    assert got["getpriority"][0] >= 0, got       # personality is on the deny-list too
    assert got["personality"] == (-1, "EPERM"), got
    assert got["execve"] == (-1, "EPERM"), got
    still_serves(d)
    d.stop()


# ---- disk full -----------------------------------------------------------------------------------

def fill(path):
    """Write zeros to path until the file system is full; returns the bytes written."""
    n = 0
    block = b"\0" * 4096
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                n += f.write(block) or 0
            except OSError:
                break
    return n


def status_json(d):
    r = subprocess.run([harness.HANIPO_BIN, "status", "-c", d.config_path, "--json"], capture_output=True,
                       timeout=T(10))
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)


def status_text(d):
    r = subprocess.run([harness.HANIPO_BIN, "status", "-c", d.config_path], capture_output=True, timeout=T(10))
    return r.stdout.decode("utf-8", "replace")


@case
def disk_full_keeps_serving_and_loses_nothing(ctx):
    need_root()
    svcs = [ssh_service("ssh"), Service("web", protocol="http"), Service("trap", tcp=1)]
    d = ctx.daemon("diskfull", svcs)
    os.makedirs(d.data_dir)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", d.data_dir], check=True)
    ctx.defer(lambda: subprocess.run(["umount", "-l", d.data_dir]))
    d.start(timeout=T(20))
    d.wait_event(lambda e: e["eventid"] == "sensor.start", what="sensor.start")
    # Before: one of each, written.
    still_serves(d)
    d.wait_event(lambda e: e["eventid"] == "login.success", what="login before the disk filled")
    filler = os.path.join(d.data_dir, "filler")
    filled = fill(filler)
    ctx.note("filler took %d KiB" % (filled >> 10))
    # While full: every client is still answered; events are held in memory.
    full_ports = []
    for i in range(40):
        sport, _ = send_and_close(d.svc("trap").port, b"while the disk is full %d\n" % i)
        full_ports.append(sport)
    for _ in range(3):
        still_serves(d)
    st = wait_for(lambda: (lambda s: s if s and s.get("disk_full") else None)(status_json(d)), T(15),
                  what="hanipo status reporting disk_full")
    assert st["accepting"] is True, st
    failing = [o for o in st["outputs"] if o.get("failing_reason") == "disk full"]
    assert failing, st["outputs"]
    assert "FULL" in status_text(d)
    assert "disk full: events are held in memory" in d.stderr(), d.stderr()
    # Still serving after the report too.
    still_serves(d)
    sport, _ = send_and_close(d.svc("trap").port, b"last while full\n")
    full_ports.append(sport)
    time.sleep(1)
    assert d.alive()
    # Space returns: the held events are written, the condition clears.
    os.unlink(filler)
    wait_for(lambda: (lambda s: s if s and not s.get("disk_full") and
                      all(o["queued"] == 0 and o["inflight"] == 0 for o in s["outputs"]) else None)(status_json(d)),
             T(20), what="hanipo status: disk no longer full, queues empty")
    assert "disk space is back" in d.stderr(), d.stderr()
    d.stop()
    evs = d.events(strict=True)                  # whole lines only
    assert evs[-1]["eventid"] == "sensor.stop", evs[-1]["eventid"]
    stop = evs[-1]
    assert stop["disk_full"] is False and stop["disk_full_episodes"] >= 1, stop
    for name in ("jsonl", "sqlite"):
        assert stop["outputs"][name]["shed"] == 0, stop["outputs"][name]
    uids = [e["uid"] for e in evs]
    assert len(uids) == len(set(uids)), "duplicate events in JSONL"
    for sport in full_ports:
        closed = [e for e in evs if e["eventid"] == "session.closed" and e.get("src_port") == sport
                  and e.get("dst_port") == d.svc("trap").port]
        assert len(closed) == 1, "connection from port %d: %d session.closed" % (sport, len(closed))
    logins = [e for e in evs if e["eventid"] == "login.success"]
    assert len(logins) >= 5, len(logins)
    check_stores_agree(d, evs)
    ctx.note("%d events, %d connections while full, %d write errors retried" % (
        len(evs), len(full_ports), sum(stop["outputs"][n]["errors"] for n in ("jsonl", "sqlite"))))


@case
def disk_full_sheds_beyond_queue_bound_and_counts(ctx):
    """A long outage: the queue bound holds, what is beyond it is shed and counted, serving goes on."""
    need_root()
    d = ctx.daemon("diskshed", [Service("web", protocol="http"), Service("trap", tcp=1)],
                   limits={"queue_events": 64})
    os.makedirs(d.data_dir)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", d.data_dir], check=True)
    ctx.defer(lambda: subprocess.run(["umount", "-l", d.data_dir]))
    d.start(timeout=T(20))
    d.wait_event(lambda e: e["eventid"] == "sensor.start", what="sensor.start")
    filler = os.path.join(d.data_dir, "filler")
    fill(filler)
    t0 = time.monotonic()
    for i in range(120):                          # about 3 events each: far beyond 64
        send_and_close(d.svc("trap").port, b"flood %d\n" % i)
    status, _ = http_get(d.svc("web").port)
    assert status == 200
    took = time.monotonic() - t0
    st = wait_for(lambda: (lambda s: s if s and s.get("disk_full") else None)(status_json(d)), T(15),
                  what="disk_full in status")
    shed = {o["name"]: o["shed"] for o in st["outputs"]}
    # The SQLite store reads the JSONL file (ingest = jsonl): it has no queue to shed from.
    assert shed["jsonl"] > 0 and shed["sqlite"] == 0, shed
    assert all(o["queued"] <= 64 for o in st["outputs"]), st["outputs"]
    os.unlink(filler)
    wait_for(lambda: (lambda s: s if s and not s.get("disk_full") else None)(status_json(d)), T(20),
             what="disk no longer full")
    d.stop()
    evs = d.events(strict=True)
    stop = evs[-1]
    assert stop["eventid"] == "sensor.stop"
    # Every uid the sensor issued is either in the file or counted as shed by jsonl.
    seqs = sorted(int(e["uid"].rsplit("-", 1)[1]) for e in evs)
    assert len(seqs) == len(set(seqs)), "duplicate events"
    missing = seqs[-1] - len(seqs)
    assert missing == stop["outputs"]["jsonl"]["shed"], (missing, stop["outputs"]["jsonl"])
    assert stop["outputs"]["sqlite"]["shed"] == 0, stop["outputs"]["sqlite"]
    check_stores_agree(d, evs)                    # the store holds what the file holds, each once
    ctx.note("120 connections in %.2f s while full; shed %r" % (took, shed))
