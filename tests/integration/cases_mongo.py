"""
cases_mongo.py - integration cases for the MongoDB emulation (protocol = mongodb, issue 9).

Imported by run.py; every @case here is appended to cases.ALL.

Real clients: /usr/bin/python3 with pymongo (its OP_QUERY handshake and OP_MSG commands:
list_database_names, a ransom note inserted and read back, SCRAM-SHA-256 and SCRAM-SHA-1
logins failed like a real server with the username logged), nmap -sV.
"""
import re
import shutil
import subprocess

from harness import T, Service, Skip, by
from cases import case, stop_and_read

try:
    import pymongo
    import pymongo.errors
except ImportError:               # the case says so when it runs
    pymongo = None

NOTE = ("All your data is backed up. You must pay 0.0058 BTC to bc1qhnipo2x5example to recover it. "
        "After 48 hours expiration we will leak and delete your data.")


def need_pymongo():
    if pymongo is None:
        raise Skip("python3-pymongo is not installed")


@case
def mongo_pymongo_ransom_note(ctx):
    """pymongo lists databases, drops one and inserts a ransom note: every command one command.input,
    the note in mongodb.insert, and it reads back."""
    need_pymongo()
    d = ctx.daemon("mongo-ransom", [Service("mongo", protocol="mongodb", version="5.0.26")]).start()
    port = d.svc("mongo").port
    c = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=int(T(5) * 1000))
    assert c.server_info()["version"] == "5.0.26"
    names = c.list_database_names()
    assert {"admin", "config", "local"} <= set(names) and len(names) == 4, names
    app = [n for n in names if n not in ("admin", "config", "local")][0]
    assert c[app].list_collection_names(), "the application database looks empty"
    c.drop_database(app)
    assert app not in c.list_database_names()
    r = c["READ__ME_TO_RECOVER_YOUR_DATA"]["README"].insert_one({"content": NOTE, "BitCoin": "bc1qhnipo2x5example"})
    got = c["READ__ME_TO_RECOVER_YOUR_DATA"]["README"].find_one()
    assert got and got["content"] == NOTE and got["_id"] == r.inserted_id, got
    try:
        c.admin.command("definitelyNotACommand")
        raise AssertionError("an unknown command succeeded")
    except pymongo.errors.OperationFailure as e:
        assert e.code == 59 and "no such command: 'definitelyNotACommand'" in str(e), e.details
    c.close()
    d.wait_event(lambda e: e["eventid"] == "mongodb.insert", what="mongodb.insert")
    evs = stop_and_read(d)
    ins = by(evs, "mongodb.insert")[0]
    assert ins["database"] == "READ__ME_TO_RECOVER_YOUR_DATA" and ins["collection"] == "README", ins
    assert ins["count"] == 1 and NOTE in ins["documents"] and str(r.inserted_id) in ins["documents"], ins
    cmds = [e["command"] for e in by(evs, "command.input")]
    for want in ("isMaster", "listDatabases", "listCollections", "dropDatabase", "insert", "find",
                 "definitelyNotACommand"):
        assert want in cmds or want.lower() in cmds, (want, cmds)
    ld = [e for e in by(evs, "command.input") if e["command"] == "listDatabases"][0]
    assert ld["input"].startswith('listDatabases {"listDatabases":1') and ld["database"] == "admin", ld


@case
def mongo_pymongo_auth(ctx):
    """Username/password from pymongo: SCRAM carried to the proof, then 'Authentication failed.'
    (code 18); one login.failed per attempt with the username and mechanism."""
    need_pymongo()
    d = ctx.daemon("mongo-auth", [Service("mongo", protocol="mongodb")]).start()
    port = d.svc("mongo").port
    tries = [("admin", "admin123", None), ("root", "toor", "SCRAM-SHA-1"), ("dbuser", "hunter2", "SCRAM-SHA-256")]
    for user, pw, mech in tries:
        kw = {"authMechanism": mech} if mech else {}
        c = pymongo.MongoClient("127.0.0.1", port, username=user, password=pw, appname="ransombot",
                                serverSelectionTimeoutMS=int(T(5) * 1000), **kw)
        try:
            c.list_database_names()
            raise AssertionError("authentication succeeded")
        except pymongo.errors.OperationFailure as e:
            assert e.code == 18 and "Authentication failed." in str(e), e.details
        finally:
            c.close()
    d.wait_event(lambda e: e["eventid"] == "login.failed", count=3, what="3 login.failed")
    evs = stop_and_read(d)
    lf = by(evs, "login.failed")
    assert [(e["username"], e["method"]) for e in lf] == [
        ("admin", "scram-sha-256"), ("root", "scram-sha-1"), ("dbuser", "scram-sha-256")], lf
    for e in lf:
        assert e["database"] == "admin" and e.get("client_app") == "ransombot", e
        assert e["scram_client_first"].startswith("n=%s,r=" % e["username"]) and e.get("scram_proof"), e


@case
def mongo_nmap_version(ctx):
    """nmap -sV identifies MongoDB and its version (its serverStatus probe over OP_QUERY), never a honeypot."""
    if not shutil.which("nmap"):
        raise Skip("nmap is not installed")
    d = ctx.daemon("mongo-nmap", [Service("mongo", protocol="mongodb", version="4.4.29")]).start()
    port = d.svc("mongo").port
    r = subprocess.run(["nmap", "-sV", "-Pn", "-n", "-p", str(port), "127.0.0.1"], capture_output=True, timeout=T(120))
    out = r.stdout.decode("utf-8", "replace")
    line = [l for l in out.splitlines() if l.startswith("%d/tcp" % port)]
    assert line and re.match(r"^%d/tcp\s+open\s+mongodb\s+MongoDB 4\.4\.29$" % port, line[0]), out
    assert "honeypot" not in out.lower(), out
    ctx.note("nmap: " + re.sub(r"\s+", " ", line[0]))
    d.stop()
