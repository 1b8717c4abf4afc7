"""
cases_geo.py - GeoIP / ASN enrichment (docs/geo.md), run by run.py.

Expected values never come from hanipo:
  * country: Debian's `mmdblookup --file country.mmdb --ip IP country_code` (libmaxminddb's own
    tool) for every address;
  * ASN and organisation: a plain Python reading of @ip-location-db/asn's CSV rows, which
    tools/geoip.sh keeps (gzipped) beside the converted asn.bin;
  * the build dates in sensor.start: `mmdblookup --verbose` ("Build epoch") and the npm version
    stamp in the install's VERSION file.
Addresses: a fixed list of well-known public resolvers and services (IPv4 and IPv6) plus a
deterministic random sample drawn from the CSV ranges.  Everything is offline: the databases are
local files and the daemon case only talks to 127.0.0.1.  Without the installed databases (or
mmdb-bin) the comparison cases are skipped; the loopback case always runs.
"""
import bisect
import csv
import datetime
import gzip
import ipaddress
import json
import os
import random
import re
import shutil
import socket
import subprocess

from harness import HANIPO_BIN, Service, Skip, T, by

ALL = []

GEO_DIR = os.environ.get("HANIPO_GEO_DIR") or "/var/lib/hanipo/geo"
COUNTRY_DB = os.path.join(GEO_DIR, "country.mmdb")
ASN_DB = os.path.join(GEO_DIR, "asn.bin")

PUBLIC = ["8.8.8.8", "1.1.1.1", "9.9.9.9", "208.67.222.222", "4.2.2.2", "13.107.42.14",
          "17.253.144.10", "31.13.72.36", "77.88.8.8", "94.140.14.14", "114.114.114.114",
          "180.76.76.76", "185.220.101.1", "193.0.14.129", "202.12.27.33", "210.171.224.1",
          "2001:4860:4860::8888", "2606:4700:4700::1111", "2620:fe::fe", "2a02:6b8::feed:ff",
          "2001:500:2f::f", "2001:200:dff:fff1:216:3eff:feb1:44d7"]
SPECIAL = {"10.1.2.3": "private", "192.168.1.1": "private", "172.16.0.1": "private",
           "127.0.0.1": "loopback", "::1": "loopback", "169.254.169.254": "link-local",
           "fe80::1": "link-local", "100.64.0.1": "cgnat", "224.0.0.251": "multicast",
           "ff02::1": "multicast", "192.0.2.1": "reserved", "2001:db8::1": "reserved",
           "fd12:3456::1": "private", "::ffff:10.0.0.1": "private", "not-an-ip": "invalid"}


def case(fn):
    ALL.append((fn.__name__, fn))
    return fn


def need_dbs():
    if not (os.path.exists(COUNTRY_DB) and os.path.exists(ASN_DB)):
        raise Skip("GeoIP databases not installed in %s (tools/geoip.sh)" % GEO_DIR)
    if not shutil.which("mmdblookup"):
        raise Skip("mmdblookup (mmdb-bin) not installed")


def hanipo_geo(addrs, info=False):
    """hanipo geo on the installed databases: {ip: record} (and the --info record)."""
    args = [HANIPO_BIN, "geo", "--country", COUNTRY_DB, "--asn", ASN_DB] + (["--info"] if info else [])
    p = subprocess.run(args + list(addrs), capture_output=True, text=True, timeout=T(60))
    assert p.returncode == 0, "hanipo geo: rc %d, stderr %s" % (p.returncode, p.stderr)
    out, head = {}, None
    for line in p.stdout.splitlines():
        j = json.loads(line)
        if "geoip" in j:
            head = j["geoip"]
        else:
            out[j["ip"]] = j
    assert len(out) == len(set(addrs)), (len(out), len(addrs), p.stdout[-500:])
    return (out, head) if info else out


def mmdb_country(ip):
    p = subprocess.run(["mmdblookup", "--file", COUNTRY_DB, "--ip", ip, "country_code"],
                       capture_output=True, text=True, timeout=T(10))
    m = re.search(r'"([^"]*)" <utf8_string>', p.stdout)
    if p.returncode != 0 or not m:
        return None
    return m.group(1)


def ipint(af, text):
    # socket.inet_pton is ~10x faster than ipaddress over half a million rows
    return int.from_bytes(socket.inet_pton(af, text), "big")


class CsvAsn:
    """The CSV rows as sorted ranges per family, looked up with bisect."""

    def __init__(self):
        self.tables = {}
        for fam, af in ((4, socket.AF_INET), (6, socket.AF_INET6)):
            path = os.path.join(GEO_DIR, "asn-ipv%d.csv.gz" % fam)
            if not os.path.exists(path):
                raise Skip("%s missing (re-run tools/geoip.sh --update)" % path)
            rows = []
            with gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="") as f:
                for r in csv.reader(f):
                    if len(r) >= 3:
                        rows.append((ipint(af, r[0]), ipint(af, r[1]), int(r[2]), r[3] if len(r) > 3 else ""))
            rows.sort()
            self.tables[fam] = (rows, [r[0] for r in rows])

    def lookup(self, ip):
        a = ipaddress.ip_address(ip)
        if a.version == 6 and a.ipv4_mapped:
            a = a.ipv4_mapped
        rows, starts = self.tables[a.version]
        i = bisect.bisect_right(starts, int(a)) - 1
        if i >= 0 and rows[i][0] <= int(a) <= rows[i][1]:
            return rows[i][2], rows[i][3]
        return 0, ""

    def sample(self, fam, n, rnd):
        rows = self.tables[fam][0]
        out = []
        for r in rnd.sample(rows, n):
            out.append(str(ipaddress.ip_address(rnd.randint(r[0], r[1]))) if fam == 4 else
                       str(ipaddress.IPv6Address(rnd.randint(r[0], r[1]))))
        return out


def check_asn(rec, want_asn, want_org, problems):
    ip = rec["ip"]
    if rec.get("asn", 0) != want_asn:
        problems.append("%s: asn %r, CSV says %r" % (ip, rec.get("asn"), want_asn))
        return
    got = rec.get("as_org", "")
    # hanipo keeps 127 bytes of a name (cut on a character boundary)
    if got != want_org and not (len(got.encode()) >= 124 and want_org.startswith(got)):
        problems.append("%s: as_org %r, CSV says %r" % (ip, got, want_org))


@case
def geo_public_addresses_match_mmdblookup_and_csv(ctx):
    """22 well-known public addresses plus 150 drawn from the CSV ranges: the country code equals
    mmdblookup's, the name is the English name of that code, the ASN and organisation equal the
    CSV row's."""
    need_dbs()
    table = CsvAsn()
    rnd = random.Random(7)
    sample = table.sample(4, 100, rnd) + table.sample(6, 50, rnd)
    addrs = PUBLIC + [a for a in sample if a not in PUBLIC]
    got = hanipo_geo(addrs)
    problems, specials, with_cc, with_asn = [], 0, 0, 0
    for ip in addrs:
        rec = got[ip]
        if "special" in rec:
            if ip in PUBLIC:
                problems.append("%s: labelled %s" % (ip, rec["special"]))
            specials += 1
            continue
        cc = mmdb_country(ip)
        if rec.get("cc") != cc:
            problems.append("%s: cc %r, mmdblookup says %r" % (ip, rec.get("cc"), cc))
        if cc:
            with_cc += 1
            if not rec.get("country") and cc not in ("EU", "AP", "ZZ"):
                problems.append("%s: no country name for %s" % (ip, cc))
        want_asn, want_org = table.lookup(ip)
        with_asn += want_asn != 0
        check_asn(rec, want_asn, want_org, problems)
    assert not problems, "%d problem(s):\n  %s" % (len(problems), "\n  ".join(problems[:40]))
    # a reader that labels or misses everything would pass the loop: demand real answers
    assert specials <= len(sample) // 10, "%d of the sampled addresses labelled special" % specials
    assert with_cc >= len(addrs) * 9 // 10 and with_asn >= len(addrs) * 9 // 10, (with_cc, with_asn, len(addrs))
    assert got["8.8.8.8"]["asn"] == 15169 and got["8.8.8.8"]["cc"] == "US", got["8.8.8.8"]
    ctx.note("%d addresses: %d with a country, %d with an ASN, %d special (sampled)" % (
        len(addrs), with_cc, with_asn, specials))


@case
def geo_special_addresses_not_looked_up(ctx):
    """Private, loopback, link-local, CGNAT, multicast, documentation and malformed addresses get a
    label and nothing else, with or without databases."""
    p = subprocess.run([HANIPO_BIN, "geo", "--country", "/nonexistent/c.mmdb", "--asn", "/nonexistent/a.bin"]
                       + list(SPECIAL), capture_output=True, text=True, timeout=T(20))
    assert p.returncode == 0, p.stderr
    assert "country lookups off" in p.stderr, p.stderr
    recs = [json.loads(l) for l in p.stdout.splitlines()]
    assert [r["ip"] for r in recs] == list(SPECIAL), p.stdout
    for r in recs:
        assert r == {"ip": r["ip"], "special": SPECIAL[r["ip"]]}, r
    p = subprocess.run([HANIPO_BIN, "geo"], capture_output=True, text=True, timeout=T(20))
    assert p.returncode == 64, (p.returncode, p.stderr)


def mmdb_build_date(path):
    p = subprocess.run(["mmdblookup", "--file", path, "--ip", "8.8.8.8", "--verbose"],
                       capture_output=True, text=True, timeout=T(10))
    m = re.search(r"Build epoch:\s+(\d+)", p.stdout)
    assert m, p.stdout[:500]
    return datetime.datetime.fromtimestamp(int(m.group(1)), datetime.timezone.utc).strftime("%Y-%m-%d")


def session_connects(ctx, label, sensor=None):
    """A daemon with TCP and UDP; one connection and one datagram from 127.0.0.1.  Returns
    (sensor.start, [tcp session.connect, udp session.connect])."""
    d = ctx.daemon(label, [Service("trap", tcp=1, udp=1, handover="none")], sensor=sensor).start()
    s = d.svc("trap")
    c = socket.create_connection(("127.0.0.1", s.port), timeout=T(5))
    c.sendall(b"hello\r\n")
    tcp_port = c.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    u.sendto(b"ping", ("127.0.0.1", s.uport))
    udp_port = u.getsockname()[1]
    d.wait_event(lambda e: e["eventid"] == "session.connect", count=2, what="2 session.connect")
    c.close()
    u.close()
    d.stop()
    evs = d.events(strict=True)
    start = by(evs, "sensor.start")
    assert len(start) == 1, start
    tcp = by(evs, "session.connect", transport="tcp", src_port=tcp_port)
    udp = by(evs, "session.connect", transport="udp", src_port=udp_port)
    assert len(tcp) == 1 and len(udp) == 1, (tcp, udp)
    return start[0], tcp + udp


@case
def geo_daemon_loopback_and_build_dates(ctx):
    """session.connect (TCP and UDP) from 127.0.0.1 carries src_special "loopback" and no country
    or ASN; sensor.start records the databases' build dates (mmdblookup's build epoch for the
    country file, the npm version stamp for the ASN file; null when not open)."""
    start, conns = session_connects(ctx, "geo")
    for ev in conns:
        assert ev.get("src_special") == "loopback", ev
        for k in ("src_cc", "src_country", "src_asn", "src_as_org", "src_region", "src_city"):
            assert k not in ev, (k, ev)
    g = start.get("geoip")
    assert isinstance(g, dict) and set(g) == {"country_db", "asn_db", "city_db"}, start
    assert g["city_db"] is None, g
    if os.path.exists(COUNTRY_DB) and shutil.which("mmdblookup"):
        assert g["country_db"] == mmdb_build_date(COUNTRY_DB), g
    if os.path.exists(ASN_DB) and os.path.exists(os.path.join(GEO_DIR, "VERSION")):
        with open(os.path.join(GEO_DIR, "VERSION")) as f:
            stamp = [l.split()[1] for l in f if l.startswith("asn ")][0].rsplit(".", 1)[1]
        assert g["asn_db"] == "%s-%s-%s" % (stamp[:4], stamp[4:6], stamp[6:8]), (g, stamp)
    ctx.note("sensor.start geoip: %s" % json.dumps(g))

    # Databases configured away or missing: the sensor starts, the dates are null, labels remain.
    start, conns = session_connects(ctx, "geo-off", sensor={"geoip_country": "/nonexistent/country.mmdb",
                                                            "geoip_asn": ""})
    assert start["geoip"] == {"country_db": None, "asn_db": None, "city_db": None}, start
    for ev in conns:
        assert ev.get("src_special") == "loopback", ev
