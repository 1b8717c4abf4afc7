"""
cases_pgsql.py - the PostgreSQL look-alike (issue 9), run by run.py.

psql with PGPASSWORD (the first attempt refused with the real FATAL 28P01 text, the second, with
accept_after = 2, logged in and its statements logged), MD5 authentication (the hash logged in
hashcat 11100 form verifies against the password), hydra's postgres module with a 3x3 list (one
login event per attempt), nmap -sV naming PostgreSQL, and libpq's extended query protocol
(PQexecParams) running the cmd_exec dropper with its statements logged, parameters substituted.
"""
import ctypes
import ctypes.util
import hashlib
import os
import re
import shutil
import subprocess

from harness import T, Service, Skip
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
    return [e for e in evs if e["eventid"] in ("login.success", "login.failed") and e["protocol"] == "postgresql"]


def psql(port, user, password, db, sql):
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="10", PGAPPNAME="itest-psql")
    return subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", db, "-X", "-A", "-t",
                           "-c", sql], env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=T(20))


@case
def pgsql_psql_cleartext(ctx):
    need("psql")
    d = ctx.daemon("pg-psql", [Service("pg", protocol="postgresql", accept_after="2")]).start()
    port = d.svc("pg").port
    r = psql(port, "postgres", "wr0ng pw", "postgres", "select 1")
    err = r.stderr.decode()
    assert r.returncode != 0 and 'FATAL:  password authentication failed for user "postgres"' in err, err
    r = psql(port, "postgres", "p@ss", "postgres", "select version(); select current_user")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().split("\n")
    assert lines[0].startswith("PostgreSQL ") and "postgres" in lines[1:], lines
    d.wait_event(lambda e: e["eventid"] == "command.input" and e["protocol"] == "postgresql", count=2,
                 what="two statements")
    # a transaction block, as psql runs a script: after an error only its end is taken (25P02)
    env = dict(os.environ, PGPASSWORD="p@ss", PGCONNECT_TIMEOUT="10", PGAPPNAME="itest-psql")
    script = "BEGIN;\nselect 7;\nbogus;\nselect 8;\nROLLBACK;\nselect 9;\n"
    r = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres", "-X", "-A",
                        "-t", "-e"], env=env, input=script.encode(), capture_output=True, timeout=T(20))
    out, err = r.stdout.decode(), r.stderr.decode()
    assert out.split("\n") == ["BEGIN;", "BEGIN", "select 7;", "7", "bogus;", "select 8;", "ROLLBACK;", "ROLLBACK",
                               "select 9;", "9", ""], (out, err)
    assert "current transaction is aborted, commands ignored until end of transaction block" in err, err
    evs = stop_and_read(d)
    lg = logins(evs)
    assert [(e["eventid"], e["password"]) for e in lg[:2]] == [("login.failed", "wr0ng pw"), ("login.success", "p@ss")], lg
    for e in lg:
        check_common(e)
        assert e["username"] == "postgres" and e["database"] == "postgres" and e["method"] == "cleartext", e
        assert e["client_app"] == "itest-psql" and e["params"]["application_name"] == "itest-psql", e
    cmds = [e["input"] for e in evs if e["eventid"] == "command.input" and e["protocol"] == "postgresql"]
    assert cmds[:2] == ["select version()", "select current_user"], cmds


@case
def pgsql_md5_hash(ctx):
    need("psql")
    d = ctx.daemon("pg-md5", [Service("pg", protocol="postgresql", auth="md5", accept_after="0")]).start()
    r = psql(d.svc("pg").port, "admin", "Summer2024", "postgres", "select 1")
    assert r.returncode != 0 and "password authentication failed" in r.stderr.decode(), r.stderr
    d.wait_event(lambda e: e["eventid"] == "login.failed", what="login event")
    evs = stop_and_read(d)
    lg = logins(evs)
    assert len(lg) == 1 and lg[0]["method"] == "md5" and lg[0]["hash_format"] == "hashcat:11100", lg
    m = re.match(r"^\$postgres\$admin\*([0-9a-f]{8})\*([0-9a-f]{32})$", lg[0]["hash"])
    assert m, lg[0]
    inner = hashlib.md5(b"Summer2024admin").hexdigest().encode()
    assert hashlib.md5(inner + bytes.fromhex(m.group(1))).hexdigest() == m.group(2)


@case
def pgsql_hydra_3x3(ctx):
    need("hydra")
    d = ctx.daemon("pg-hydra", [Service("pg", protocol="postgresql")]).start()
    port = d.svc("pg").port
    users, pws = ["postgres", "admin", "pgsql"], ["123456", "postgres", "qwerty"]
    ul, pl = os.path.join(d.tmp, "u.txt"), os.path.join(d.tmp, "p.txt")
    with open(ul, "w") as f:
        f.write("\n".join(users) + "\n")
    with open(pl, "w") as f:
        f.write("\n".join(pws) + "\n")
    # hydra 9.4's postgres module leaves the port out of its libpq conninfo (-s only sets the port of
    # its TCP pre-check): libpq takes it from PGPORT.
    r = subprocess.run(["hydra", "-I", "-L", ul, "-P", pl, "-t", "1", "-s", str(port), "127.0.0.1", "postgres"],
                       cwd=d.tmp, capture_output=True, stdin=subprocess.DEVNULL, timeout=T(60),
                       env=dict(os.environ, PGPORT=str(port)))
    out = r.stdout.decode("utf-8", "replace")
    assert "1 valid password found" in out, out[-2000:]
    d.wait_event(lambda e: e["eventid"].startswith("login.") and e["protocol"] == "postgresql", count=9,
                 what="nine attempts")
    evs = stop_and_read(d)
    lg = logins(evs)
    pairs = sorted((e["username"], e["password"]) for e in lg)
    assert pairs == sorted((u, p) for u in users for p in pws), pairs
    assert [(e["username"], e["password"]) for e in lg if e["eventid"] == "login.success"] == [("postgres", "qwerty")]


@case
def pgsql_nmap_version(ctx):
    need("nmap")
    d = ctx.daemon("pg-nmap", [Service("pg", protocol="postgresql")]).start()
    port = d.svc("pg").port
    r = subprocess.run(["nmap", "-Pn", "-n", "-sV", "-p", str(port), "127.0.0.1"], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=T(90))
    out = r.stdout.decode()
    line = [l for l in out.splitlines() if l.startswith("%d/tcp" % port)]
    assert line and re.search(r"open\s+postgresql\s+PostgreSQL DB \d", line[0]), out
    assert "honeypot" not in out.lower(), out
    ctx.note(line[0])
    stop_and_read(d)


NOTICE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)
QUIET = NOTICE_FN(lambda arg, msg: None)      # DROP TABLE IF EXISTS's NOTICE: not to stderr


def libpq():
    """libpq (postgresql-client's libpq5) through ctypes: PQexecParams speaks the extended query
    protocol (Parse/Bind/Describe/Execute/Sync), as pgx, JDBC and psycopg 3 do."""
    name = ctypes.util.find_library("pq")
    if not name:
        raise Skip("libpq is not installed")
    lib = ctypes.CDLL(name)
    P, S, I = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    sigs = {"PQconnectdb": (P, [S]), "PQstatus": (I, [P]), "PQerrorMessage": (S, [P]), "PQfinish": (None, [P]),
            "PQexecParams": (P, [P, S, I, P, ctypes.POINTER(S), P, P, I]), "PQresultStatus": (I, [P]),
            "PQresultErrorMessage": (S, [P]), "PQntuples": (I, [P]), "PQftype": (ctypes.c_uint, [P, I]),
            "PQgetvalue": (S, [P, I, I]), "PQcmdStatus": (S, [P]), "PQclear": (None, [P]),
            "PQsetNoticeProcessor": (P, [P, NOTICE_FN, P])}
    for fn, (res, args) in sigs.items():
        getattr(lib, fn).restype, getattr(lib, fn).argtypes = res, args
    return lib


def pq_exec(lib, conn, sql, params=(), binary=False):
    """(command status, [(type oid, first value)], error message) of one PQexecParams."""
    vals = (ctypes.c_char_p * len(params))(*[p.encode() for p in params]) if params else None
    r = lib.PQexecParams(conn, sql.encode(), len(params), None, vals, None, None, 1 if binary else 0)
    rows = [(lib.PQftype(r, 0), lib.PQgetvalue(r, 0, 0)) for _ in range(min(lib.PQntuples(r), 1))]
    out = (lib.PQcmdStatus(r).decode(), rows, lib.PQresultErrorMessage(r).decode())
    lib.PQclear(r)
    return out


@case
def pgsql_extended_libpq(ctx):
    lib = libpq()
    d = ctx.daemon("pg-ext", [Service("pg", protocol="postgresql", accept_after="1",
                                      version="15.18 (Debian 15.18-0+deb12u1)")]).start()
    conn = lib.PQconnectdb(("host=127.0.0.1 port=%d user=postgres password=pw dbname=postgres "
                            "sslmode=disable connect_timeout=10" % d.svc("pg").port).encode())
    try:
        assert lib.PQstatus(conn) == 0, lib.PQerrorMessage(conn)
        lib.PQsetNoticeProcessor(conn, QUIET, None)
        assert pq_exec(lib, conn, "select $1", ["42"]) == ("SELECT 1", [(25, b"42")], ""), "select $1"
        tag, rows, _ = pq_exec(lib, conn, "select version()", binary=True)
        assert rows[0][1].startswith(b"PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64"), rows
        for sql, want in (("DROP TABLE IF EXISTS cmd_exec", "DROP TABLE"),
                          ("CREATE TABLE cmd_exec(cmd_output text)", "CREATE TABLE"),
                          ("COPY cmd_exec FROM PROGRAM 'id'", "COPY 1")):
            assert pq_exec(lib, conn, sql)[0] == want, sql
        # what the dropper reads back: id's line, from the emulated shell (nothing ran)
        tag, rows, _ = pq_exec(lib, conn, "SELECT * FROM cmd_exec")
        assert tag == "SELECT 1" and rows[0][0] == 25 and rows[0][1].startswith(b"uid=") and \
            b"(postgres)" in rows[0][1], (tag, rows)
        err = pq_exec(lib, conn, "COPY t FROM PROGRAM $1", ["id"])[2]   # no parameter there (15.18 too)
        assert 'syntax error at or near "$1"' in err, err
    finally:
        lib.PQfinish(conn)
    d.wait_event(lambda e: e["eventid"] == "command.input" and e["protocol"] == "postgresql", count=7,
                 what="seven statements")
    evs = stop_and_read(d)
    cmds = [e["input"] for e in evs if e["eventid"] == "command.input" and e["protocol"] == "postgresql"]
    assert cmds == ["select '42'", "select version()", "DROP TABLE IF EXISTS cmd_exec",
                    "CREATE TABLE cmd_exec(cmd_output text)", "COPY cmd_exec FROM PROGRAM 'id'",
                    "SELECT * FROM cmd_exec", "COPY t FROM PROGRAM $1"], cmds
    progs = [e["program"] for e in evs if e["eventid"] == "pgsql.copy_program"]
    assert progs == ["id", "$1"], progs
