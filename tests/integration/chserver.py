"""
chserver.py - a throw-away ClickHouse server for the fleet tests and bench/fleet.sh.

    ch = ClickHouse().start()        # Debian's clickhouse-server on free loopback ports, own directory
    ch.create_table()                # hanipo.events as the ClickHouse output writes it (docs/fleet.md)
    ch.load_events(events)           # event dicts (the sensor's JSONL lines) -> rows, JSONEachRow
    ch.query("SELECT count() FROM hanipo.events")
    ch.stop()

Two shards: reserve() both servers' ports first, then start each with cluster={"fleet": [a, b]}
(a <remote_servers> entry), create_table("events_local") on both and create_distributed() on one.

Also a command line for shell scripts:  chserver.py start DIR  (prints the HTTP port, leaves it
running; DIR/pid holds its pid)  |  chserver.py stop DIR  |  chserver.py load PORT FILE.jsonl...

The events are loaded here, not by the ClickHouse output, so the report tests do not depend on it.
"""
import calendar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

SERVER = shutil.which("clickhouse-server") or "/usr/sbin/clickhouse-server"

# The table as `hanipo clickhouse init` makes it (TABLE: the hot columns of src/store/chschema.c,
# DEFAULT expressions over data), as the previous release made it (MAT_TABLE: MATERIALIZED hot
# columns) and as releases before them made it (OLD_TABLE: reports and the dashboard must still
# read both, and init must upgrade them).
MAT_TABLE = r"""CREATE TABLE IF NOT EXISTS hanipo.events (
  ts Int64,
  day Date,
  sensor String,
  uid String,
  eventid String,
  session String,
  protocol String,
  src_ip String,
  src_port UInt16,
  dst_port UInt16,
  batch String,
  data String,
  username Nullable(String) MATERIALIZED if(visitParamHas(data, 'username'), visitParamExtractString(data, 'username'), NULL),
  password Nullable(String) MATERIALIZED if(visitParamHas(data, 'password'), visitParamExtractString(data, 'password'), NULL),
  input Nullable(String) MATERIALIZED if(visitParamHas(data, 'input'), visitParamExtractString(data, 'input'), NULL),
  url Nullable(String) MATERIALIZED if(visitParamHas(data, 'url'), visitParamExtractString(data, 'url'), NULL),
  shasum Nullable(String) MATERIALIZED if(visitParamHas(data, 'shasum'), visitParamExtractString(data, 'shasum'), NULL),
  type Nullable(String) MATERIALIZED if(visitParamHas(data, 'type'), visitParamExtractString(data, 'type'), NULL),
  family Nullable(String) MATERIALIZED if(visitParamHas(data, 'family'), visitParamExtractString(data, 'family'), NULL),
  uri Nullable(String) MATERIALIZED if(visitParamHas(data, 'uri'), visitParamExtractString(data, 'uri'), NULL),
  user_agent Nullable(String) MATERIALIZED if(visitParamHas(data, 'user_agent'), visitParamExtractString(data, 'user_agent'), NULL),
  ja3 Nullable(String) MATERIALIZED if(visitParamHas(data, 'ja3'), visitParamExtractString(data, 'ja3'), NULL),
  ja4 Nullable(String) MATERIALIZED if(visitParamHas(data, 'ja4'), visitParamExtractString(data, 'ja4'), NULL),
  hassh Nullable(String) MATERIALIZED if(visitParamHas(data, 'hassh'), visitParamExtractString(data, 'hassh'), NULL),
  client Nullable(String) MATERIALIZED if(visitParamHas(data, 'client'), visitParamExtractString(data, 'client'), NULL),
  src_cc Nullable(String) MATERIALIZED if(visitParamHas(data, 'src_cc'), visitParamExtractString(data, 'src_cc'), NULL),
  src_country Nullable(String) MATERIALIZED if(visitParamHas(data, 'src_country'), visitParamExtractString(data, 'src_country'), NULL),
  src_asn Nullable(Int64) MATERIALIZED if(visitParamHas(data, 'src_asn'), visitParamExtractInt(data, 'src_asn'), NULL),
  src_as_org Nullable(String) MATERIALIZED if(visitParamHas(data, 'src_as_org'), visitParamExtractString(data, 'src_as_org'), NULL),
  cred_device Nullable(String) MATERIALIZED if(visitParamHas(data, 'cred_device'), visitParamExtractString(data, 'cred_device'), NULL),
  cred_botnets Nullable(String) MATERIALIZED if(visitParamHas(data, 'cred_botnets'), arrayStringConcat(extractAll(visitParamExtractRaw(data, 'cred_botnets'), '"([^"\\\\]*)"'), ', '), NULL),
  attack_classes Array(String) MATERIALIZED extractAll(visitParamExtractRaw(data, 'attack_classes'), '"([^"\\\\]*)"'),
  cves Array(String) MATERIALIZED extractAll(visitParamExtractRaw(data, 'cves'), '"([^"\\\\]*)"'),
  owasp_iot Array(String) MATERIALIZED extractAll(visitParamExtractRaw(data, 'owasp_iot'), '"([^"\\\\]*)"')
)
ENGINE = MergeTree PARTITION BY day ORDER BY (sensor, eventid, ts)"""

# As init makes it now: the hot columns DEFAULT (the sensors send their values).
TABLE = MAT_TABLE.replace(" MATERIALIZED ", " DEFAULT ")

OLD_TABLE = """CREATE TABLE IF NOT EXISTS hanipo.events (
  ts Int64, day Date, sensor String, uid String, eventid String, session String, protocol String,
  src_ip String, src_port UInt16, dst_port UInt16, batch String, data String
) ENGINE = MergeTree PARTITION BY day ORDER BY (sensor, ts, uid)"""

CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/server.err.log</errorlog></logger>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <timezone>UTC</timezone>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <profiles><default><max_memory_usage>{mem}</max_memory_usage></default></profiles>
  <quotas><default></default></quotas>
{remote}
</yandex>
"""


def available():
    return os.path.exists(SERVER)


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


ROW_COLUMNS = "ts, day, sensor, uid, eventid, session, protocol, src_ip, src_port, dst_port, batch, data"


def event_row(ev, batch="test"):
    """The table row of one event, as the ClickHouse output writes it."""
    t = ev["timestamp"]                  # 2026-12-04T10:11:12.123456Z
    secs = calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S"))
    frac = t[20:-1] if len(t) > 20 else ""
    us = secs * 1000000 + int((frac + "000000")[:6] or 0)
    return {"ts": us, "day": t[:10], "sensor": ev.get("sensor", ""), "uid": ev.get("uid", ""),
            "eventid": ev.get("eventid", ""), "session": ev.get("session", "") or "",
            "protocol": ev.get("protocol", "") or "", "src_ip": ev.get("src_ip", "") or "",
            "src_port": ev.get("src_port", 0) or 0, "dst_port": ev.get("dst_port", 0) or 0, "batch": batch,
            "data": json.dumps(ev, ensure_ascii=False, separators=(",", ":"))}


class ClickHouse:
    def __init__(self, directory=None, mem=4000000000):
        self.dir = directory or tempfile.mkdtemp(prefix="hanipo-ch-")
        self.mem = mem
        self.proc = None
        self.http = self.tcp = None
        self.reserved = False

    def reserve(self):
        """Choose the ports now (another server's cluster configuration needs them)."""
        self.http, self.tcp = _free_port(), _free_port()
        self.reserved = True
        return self

    def start(self, timeout=30, cluster=None):
        remote = ""
        if cluster:
            remote = "<remote_servers>" + "".join(
                "<%s>%s</%s>" % (name, "".join(
                    "<shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>" % ch.tcp
                    for ch in shards), name) for name, shards in cluster.items()) + "</remote_servers>"
        for _ in range(1 if self.reserved else 5):
            if not self.reserved:
                self.http, self.tcp = _free_port(), _free_port()
            with open(os.path.join(self.dir, "config.xml"), "w") as f:
                f.write(CONFIG.format(d=self.dir, http=self.http, tcp=self.tcp, mem=self.mem, remote=remote))
            self.proc = subprocess.Popen([SERVER, "--config-file=" + os.path.join(self.dir, "config.xml")],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, cwd=self.dir, start_new_session=True)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self.query("SELECT 1").strip() == "1":
                        return self
                except OSError:
                    time.sleep(0.1)
            self.stop()
        raise AssertionError("clickhouse-server did not start (see %s/server.err.log)" % self.dir)

    @property
    def url(self):
        return "http://127.0.0.1:%d/" % self.http

    def query(self, sql, body=None, timeout=600):
        """Run sql (with body as INSERT data, if given); the answer as text."""
        if body is None:
            req = urllib.request.Request(self.url, data=sql.encode())
        else:
            req = urllib.request.Request(self.url + "?" + urllib.parse.urlencode({"query": sql}), data=body)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            raise AssertionError("ClickHouse: %s: %s" % (sql[:200], e.read()[:500].decode("utf-8", "replace")))

    def create_table(self, name="events", old=False):
        self.query("CREATE DATABASE IF NOT EXISTS hanipo")
        self.query((OLD_TABLE if old else TABLE).replace("hanipo.events", "hanipo." + name))

    def create_distributed(self, cluster, local="events_local"):
        """hanipo.events as a Distributed table over hanipo.<local> on every shard of cluster."""
        self.query("CREATE DATABASE IF NOT EXISTS hanipo")
        # as `hanipo clickhouse init --cluster` makes it: the hot columns DEFAULT there too
        cols = TABLE[TABLE.index("("):TABLE.index("\n)\nENGINE") + 2]
        self.query("CREATE TABLE hanipo.events %s ENGINE = Distributed(%s, hanipo, %s, rand())" % (
            cols, cluster, local))

    def load_events(self, events, batch="test", table="events"):
        body = "".join(json.dumps(event_row(e, batch), ensure_ascii=False) + "\n" for e in events).encode()
        if body:
            # The columns named: ClickHouse computes the DEFAULT (hot) columns only for columns an
            # INSERT leaves out of its list (18.16 fills keys missing from JSONEachRow with NULL).
            self.query("INSERT INTO hanipo.%s (%s) FORMAT JSONEachRow" % (table, ROW_COLUMNS), body)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def main(argv):
    if len(argv) >= 2 and argv[0] == "start":
        ch = ClickHouse(argv[1]).start()
        with open(os.path.join(argv[1], "pid"), "w") as f:
            f.write("%d\n" % ch.proc.pid)
        print(ch.http)
        return 0
    if len(argv) >= 2 and argv[0] == "stop":
        with open(os.path.join(argv[1], "pid")) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            try:
                os.kill(pid, 0)
            except OSError:
                return 0
            time.sleep(0.1)
        return 1
    if len(argv) >= 3 and argv[0] == "load":
        ch = ClickHouse(directory=".")
        ch.http = int(argv[1])
        ch.create_table()
        for path in argv[2:]:
            with open(path, encoding="utf-8") as f:
                ch.load_events([json.loads(l) for l in f if l.strip()])
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
