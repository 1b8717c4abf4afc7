"""
cases_knowledge.py - integration case of the compiled-in knowledge files (src/intel/knowledge.c,
data/knowledge/), run by run.py.

A real SSH client (OpenSSH ssh driven by sshpass) logs in with Mirai's first pair, root/xc3511, and a
pair nobody ships; the login events must carry the annotation for the first (cred_device naming
Xiongmai, cred_botnets with "mirai", cred_match "pair") and none for the second, in JSONL and SQLite.
"""
from harness import T, by
from cases import check_stores_agree, stop_and_read
from cases_ssh import REFUSE_ALL, need, ssh_daemon, ssh_service, sshpass_ssh

ALL = []


def case(fn):
    ALL.append((fn.__name__, fn))
    return fn


@case
def knowledge_ssh_login_annotated(ctx):
    need("ssh", "sshpass")
    d = ssh_daemon(ctx, "sshknow", [ssh_service(userdb=REFUSE_ALL)])
    port = d.svc("ssh").port
    for password in ("xc3511", "not-a-default-7Qz"):
        r = sshpass_ssh(port, password, ["true"])
        assert r.returncode != 0, "the sensor refuses every login, ssh exited 0"
    d.wait_event(lambda e: e["eventid"] == "login.failed", count=2, timeout=T(10), what="2 login.failed")
    evs = stop_and_read(d)
    failed = {e["password"]: e for e in by(evs, "login.failed")}
    assert set(failed) == {"xc3511", "not-a-default-7Qz"}, failed
    known = failed["xc3511"]
    assert known["username"] == "root", known
    assert "Xiongmai" in known.get("cred_device", ""), known
    assert "mirai" in known.get("cred_botnets", []), known
    assert known.get("cred_match") == "pair", known
    ctx.note("root/xc3511: %s %s" % (known["cred_device"], known["cred_botnets"]))
    unknown = failed["not-a-default-7Qz"]
    assert not any(k.startswith("cred_") for k in unknown), unknown
    check_stores_agree(d, evs)
