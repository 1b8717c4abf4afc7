"""
cases_shell.py - the attacker-session corpus (tests/corpus/) replayed end to end.

Imported by run.py after cases.py; tools/corpus-report.py imports it too and
reuses everything but the @case.

One daemon, four shell services (ssh+debian, ssh+busybox, telnet+busybox,
telnet+linux, the last being the Debian shell behind a Linux telnetd).  Each
corpus session is typed, one line at a time, into the service(s) of its
personality: over SSH with paramiko on a pty (the line, Enter, wait for the
prompt), over Telnet with a raw socket that negotiates like a bot
(cases_telnet.BotClient).  Sessions run 8 at a time against the one daemon.

What a session must show, read back from the daemon's events (JSONL, after a
clean stop):
  - every line it sent has its command.input event, with that exact input,
    and the prompt came back after each line (a bot waits for it);
  - no command.failed names a command that the real box of that personality
    has (tests/corpus/present.txt): `busybox ECCHI` may fail, `wget` may not;
  - every URL of its header appears as the url of a session.file_download(.failed);
  - the last line printed the header's `final: output:` marker.
A failure names the session, the way in, the line, what was expected and what
came instead; the assertion is never relaxed to fit the emulation.
"""
import base64
import concurrent.futures
import os
import re
import socket
import threading
import time
import urllib.parse

from harness import T, Service, Skip, ROOT, DaemonFailed
from cases import case, stop_and_read

CORPUS_DIR = os.path.join(ROOT, "tests", "corpus")
_BOT_LOCK = threading.Lock()         # _bot_client swaps socket.create_connection for a moment
PRESENT_FILE = os.path.join(CORPUS_DIR, "present.txt")
PASSWORD = "Corpus-Replay-1"
PARALLEL = 8
LINE_TIMEOUT = T(4)              # the prompt after one line; a bot would give up too
HEADER_KEYS = ("name", "family", "source", "personality", "via", "urls", "final")
PERSONALITIES = ("debian", "busybox")
# (service name, protocol, personality of the shell behind it, service options)
SERVICES = (
    ("ssh-debian", "ssh", "debian", {"personality": "debian"}),
    ("ssh-busybox", "ssh", "busybox", {"personality": "busybox"}),
    ("tel-busybox", "telnet", "busybox", {"personality": "busybox"}),
    ("tel-linux", "telnet", "debian", {"personality": "linux"}),
)

ANSI_RE = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]")
PROMPT_RE = re.compile(rb"(?:[#$] |> )$")


# ---- the corpus ------------------------------------------------------------------------------

class CorpusSession:
    """One tests/corpus/*.txt file: its header and the lines it sends."""

    def __init__(self, path):
        self.path = path
        self.id = os.path.splitext(os.path.basename(path))[0]
        self.header = {}
        self.lines = []
        with open(path, "rb") as f:
            data = f.read()
        for raw in data.split(b"\n"):
            if raw.startswith(b"#@ "):
                key, _, value = raw[3:].decode("utf-8").partition(":")
                self.header[key.strip()] = value.strip()
            elif raw:
                self.lines.append(raw.decode("utf-8"))
        self._validate()
        self.personality = self.header["personality"]
        # "via" says how the bot came (documentation); every session is replayed
        # through both SSH and Telnet on its personality's services, since a bot
        # that logs in either way must reach the same last step.
        self.came_via = ("ssh", "telnet") if self.header["via"] == "both" else (self.header["via"],)
        self.via = ("ssh", "telnet")
        self.urls = self.header["urls"].split()
        kind, _, text = self.header["final"].partition(":")
        self.final_kind, self.final_text = kind.strip(), text.strip()

    def _validate(self):
        where = os.path.relpath(self.path, ROOT)
        for k in HEADER_KEYS:
            assert k in self.header, "%s: header #@ %s: is missing" % (where, k)
        assert self.header["personality"] in PERSONALITIES, "%s: personality %r" % (where, self.header["personality"])
        assert self.header["via"] in ("ssh", "telnet", "both"), "%s: via %r" % (where, self.header["via"])
        assert self.lines, "%s: no lines" % where
        kind, _, text = self.header["final"].partition(":")
        assert kind.strip() in ("output", "note") and text.strip(), "%s: final %r" % (where, self.header["final"])
        if kind.strip() == "output":
            assert text.strip() not in self.lines[-1], \
                "%s: the final marker %r occurs in the last line itself" % (where, text.strip())
        text = "\n".join(self.lines)
        for tok in re.findall(r"[A-Za-z0-9+/]{24,}={0,2}", text):     # base64 droppers hide their URLs
            try:
                text += "\n" + base64.b64decode(tok + "=" * (-len(tok) % 4)).decode("utf-8", "replace")
            except ValueError:
                pass
        for u in self.header["urls"].split():
            host = re.sub(r"^[a-z]+://([^/:]+).*$", r"\1", u)
            path = re.sub(r"^[a-z]+://[^/]+/", "", u)
            assert host in text and os.path.basename(path) in text, \
                "%s: url %s is in the header but not in the session's lines" % (where, u)
            assert re.match(r"^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$", host) or \
                host.endswith(("example.com", "example.net")), "%s: %s is not a documentation address" % (where, u)


DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "tftp": 69}


def norm_url(u):
    """A URL as compared: scheme and host lower-case, no user:password@, no default port
    (RFC 3986 6.2.3), so that ftp://anonymous:anonymous@h/f and tftp://h:69/f match ftp://h/f
    and tftp://h/f.  Anything that does not parse is compared as it is."""
    try:
        p = urllib.parse.urlsplit(u)
        port = p.port
        host = p.hostname or ""
    except ValueError:
        return u
    if not p.scheme or not host:
        return u
    netloc = host if port in (None, DEFAULT_PORTS.get(p.scheme.lower())) else "%s:%d" % (host, port)
    return urllib.parse.urlunsplit((p.scheme.lower(), netloc, p.path or "/", p.query, p.fragment))


def load_corpus(directory=CORPUS_DIR):
    names = sorted(n for n in os.listdir(directory) if n.endswith(".txt") and n != "present.txt")
    return [CorpusSession(os.path.join(directory, n)) for n in names]


def load_present(path=PRESENT_FILE):
    """personality -> set of command names a real box of it has."""
    out, cur = {}, None
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].rstrip()
            if not line:
                continue
            m = re.match(r"^(\w+):\s*(.*)$", line)
            if m and not line[0].isspace():
                cur = m.group(1)
                out.setdefault(cur, set()).update(m.group(2).split())
            elif cur:
                out[cur].update(line.split())
    return out


def failed_name(text):
    """The command a command.failed input names: `/bin/busybox ECCHI` names ECCHI."""
    words = [w for w in text.split() if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)]
    if not words:
        return ""
    name = words[0].rsplit("/", 1)[-1]
    if name == "busybox" and len(words) > 1 and re.match(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$", words[1]):
        return words[1]
    return name


# ---- the daemon ------------------------------------------------------------------------------

class ShellSensor:
    """The one daemon with the four shell services; which personalities SSH really got."""

    def __init__(self, daemon_factory, label="shell-corpus"):
        self.factory = daemon_factory
        self.label = label
        self.notes = []
        self.ssh_personality = True
        self.crash = None          # how the daemon ended when that was not a clean stop
        self.d = None

    def _services(self):
        out = []
        for name, proto, _, opts in SERVICES:
            o = dict(opts)
            if proto == "ssh" and not self.ssh_personality:
                o.pop("personality", None)
            o.update({"auth_fail_delay": "0", "idle_timeout": "120s"})
            out.append(Service(name, protocol=proto, tcp=1, **o))
        return out

    def start(self):
        for attempt in (1, 2):
            d = self.factory(self.label, self._services())
            path = os.path.join(d.tmp, "userdb.txt")
            with open(path, "w") as f:
                f.write("root:x:*\n")
            os.chmod(path, 0o644)
            for s in d.services:
                s.opts["userdb"] = path
            try:
                self.d = d.start(timeout=T(20))
                return self
            except DaemonFailed:
                err = d.stderr()
                if attempt == 1 and "personality" in err and "ssh" in err.lower():
                    # The SSH front-end does not take the key yet: say so, and go on with its
                    # default shell so that the rest of the corpus still runs.
                    self.ssh_personality = False
                    self.notes.append("ssh rejects 'personality': %s" % err.strip().splitlines()[-1][:200])
                    d.kill()
                    continue
                raise

    def port(self, proto, personality):
        for name, p, pers, _ in SERVICES:
            if p == proto and pers == personality:
                return self.d.svc(name).port
        raise KeyError((proto, personality))


# ---- typing a session ------------------------------------------------------------------------

class Replay:
    """What one session sent and saw through one front-end."""

    def __init__(self, sess, proto):
        self.sess = sess
        self.proto = proto
        self.src_ip = "127.0.0.1"
        self.src_port = None
        self.outputs = []          # per line: output between the echo of the line and the next prompt
        self.no_prompt = []        # (line index, what the terminal showed) where the prompt did not come back
        self.error = None          # the client could not log in / lost the connection
        self.seconds = 0.0

    @property
    def label(self):
        return "%s via %s (%s)" % (self.sess.id, self.proto, self.sess.personality)


def _clean(b):
    # Linux telnetd sends "\r\0" for a bare CR: both go, as a terminal shows nothing for them.
    return ANSI_RE.sub(b"", b).replace(b"\r", b"").replace(b"\x00", b"")


class _Terminal:
    """Bytes from the server; waits for the shell's prompt at the end of what came."""

    def __init__(self, recv):
        self.recv = recv           # recv(timeout) -> bytes, b"" at EOF, None on timeout
        self.buf = b""
        self.eof = False

    def read_until_prompt(self, timeout, need_newline):
        """Everything up to a quiet prompt; (text, True) or (text so far, False)."""
        end = time.monotonic() + timeout
        while True:
            # Only the tail can hold the prompt: cleaning the whole buffer at every
            # chunk would be quadratic when a line prints a whole binary (Mirai's
            # `cat /bin/busybox`).
            raw = self.buf
            nl = raw.find(b"\n")
            if need_newline:
                body = _clean(raw[max(nl + 1, len(raw) - 512):]) if nl >= 0 else None
            else:
                body = _clean(raw[-512:])
            if body is not None and PROMPT_RE.search(body):
                # quiet for a moment: a chunk that merely ended in "# " is not the prompt
                more = self.recv(0.08)
                if more:
                    self.buf += more
                    continue
                if more == b"":
                    self.eof = True
                out, self.buf = self.buf, b""
                return _clean(out), True
            left = end - time.monotonic()
            if left <= 0 or self.eof:
                out, self.buf = self.buf, b""
                return _clean(out), False
            d = self.recv(min(left, 0.5))
            if d == b"":
                self.eof = True
            elif d:
                self.buf += d


def _output_of(text, line):
    """The output of a line: what follows the echo of the line, up to the prompt's own line."""
    i = text.find(b"\n")
    out = text[i + 1:] if i >= 0 else text
    if PROMPT_RE.search(out):
        out = out[:out.rfind(b"\n") + 1]
    return out.decode("utf-8", "replace")


def _type_lines(rep, term, send, enter):
    for i, line in enumerate(rep.sess.lines):
        send(line.encode("utf-8") + enter)
        text, ok = term.read_until_prompt(LINE_TIMEOUT, need_newline=True)
        rep.outputs.append(_output_of(text, line))
        if not ok:
            rep.no_prompt.append((i, text.decode("utf-8", "replace")[-300:]))
            if term.eof:
                rep.error = "connection closed after line %d" % (i + 1)
                return


def replay_ssh(port, sess, source):
    import paramiko
    rep = Replay(sess, "ssh")
    rep.src_ip = source
    t0 = time.monotonic()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)   # not create_connection: see _bot_client
    try:
        sock.settimeout(T(10))
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
    except OSError as e:
        sock.close()
        rep.error = "ssh: cannot connect: %s" % e
        return rep
    rep.src_port = sock.getsockname()[1]
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=T(10))
        t.auth_password("root", PASSWORD)
        ch = t.open_session(timeout=T(10))
        ch.get_pty(term="xterm", width=1000, height=50)
        ch.invoke_shell()

        def recv(timeout):
            ch.settimeout(timeout)
            try:
                return ch.recv(65536)
            except socket.timeout:
                return None
        term = _Terminal(recv)
        _, ok = term.read_until_prompt(T(10), need_newline=False)
        if not ok:
            rep.error = "no first prompt"
        else:
            _type_lines(rep, term, ch.sendall, b"\r")
    except (paramiko.SSHException, OSError, EOFError) as e:
        rep.error = "ssh: %r" % (e,)
    finally:
        t.close()
        sock.close()
    rep.seconds = time.monotonic() - t0
    return rep


def _bot_client(port, source):
    """cases_telnet.BotClient (answers negotiation like a bot), from a chosen source address."""
    from cases_telnet import BotClient
    real = socket.create_connection

    def sourced(addr, timeout=None, source_address=None):
        return real(addr, timeout, (source, 0))
    socket.create_connection = sourced
    try:
        return BotClient(port, naws=(1000, 50), ttype=b"xterm", env=b"")
    finally:
        socket.create_connection = real


def replay_telnet(port, sess, source):
    rep = Replay(sess, "telnet")
    rep.src_ip = source
    t0 = time.monotonic()
    try:
        with _BOT_LOCK:
            bot = _bot_client(port, source)
    except OSError as e:
        rep.error = "telnet: cannot connect: %s" % e
        return rep
    rep.src_port = bot.s.getsockname()[1]

    def recv(timeout):
        if not bot.data and not bot.pump(timeout):
            return b"" if bot.eof else None
        d, bot.data = bot.data, b""
        return d or None
    try:
        bot.expect(b"login: ", timeout=T(10))
        bot.send(b"root\r\n")
        bot.expect(b"Password: ", timeout=T(10))
        bot.send(PASSWORD.encode() + b"\r\n")
        bot.data = b""
        term = _Terminal(recv)
        _, ok = term.read_until_prompt(T(10), need_newline=False)
        if not ok:
            rep.error = "no first prompt"
        else:
            _type_lines(rep, term, lambda b: bot.send(b.replace(b"\xff", b"\xff\xff")), b"\r\n")
    except (AssertionError, OSError) as e:
        rep.error = "telnet: %s" % (e,)
    finally:
        bot.close()
    rep.seconds = time.monotonic() - t0
    return rep


def replay_all(sensor, sessions, parallel=PARALLEL):
    """Every session through each of its ways in; returns the Replay list (corpus order).

    Each replay comes from its own loopback address (127.77.x.y): the shell keeps what a source
    wrote for its later connections (vfs.h), and sessions from one address would see each other's
    files (a Gafgyt `rm -rf *` in /tmp, a Kinsing crontab) - as two bots behind one NAT would."""
    jobs = []
    for s in sessions:
        for proto in s.via:
            jobs.append((s, proto, "127.77.%d.%d" % (1 + len(jobs) // 250, 1 + len(jobs) % 250)))

    def run(job):
        s, proto, source = job
        port = sensor.port(proto, s.personality)
        return (replay_ssh if proto == "ssh" else replay_telnet)(port, s, source)
    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as ex:
        return list(ex.map(run, jobs))


# ---- judging from the events -----------------------------------------------------------------

class Verdict:
    """The checks of one replay: failures (strings), and the command counts for the report."""

    def __init__(self, rep):
        self.rep = rep
        self.failures = []
        self.present_run = 0       # simple commands run whose name the real box has
        self.present_failed = []   # command.failed names among those

    @property
    def reached(self):
        return not self.failures


def session_events(evs, rep):
    proto = rep.proto
    ids = [e["session"] for e in evs if e.get("eventid") == "session.connect"
           and e.get("protocol") == proto and e.get("src_port") == rep.src_port
           and e.get("src_ip") == rep.src_ip]
    if not ids:
        return []
    sid = ids[-1]
    return [e for e in evs if e.get("session") == sid]


def _argv_names(ev):
    """Command names of a command.input's structured argv (None when the event has none)."""
    cmds = ev.get("commands")
    if cmds is None:
        return None
    names = []
    for c in cmds:
        argv = c.get("argv") if isinstance(c, dict) else c
        if isinstance(argv, str):
            argv = argv.split()
        if argv:
            names.append(str(argv[0]).rsplit("/", 1)[-1])
    return names


def _static_names(line):
    """Rough command names of a line when the event has no argv: first words of simple commands."""
    names = []
    for part in re.split(r"\|\||&&|[;|&()`\n]|\$\(", line):
        words = [w for w in part.split() if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)]
        if words and not words[0].startswith(("<", ">", "'", '"')) and words[0] not in (
                "if", "then", "else", "fi", "do", "done", "for", "while", "in", "{", "}", "!"):
            names.append(words[0].rsplit("/", 1)[-1])
    return names


def judge(rep, evs, present):
    """The verdict of one replay against the daemon's events."""
    v = Verdict(rep)
    sess, lines = rep.sess, rep.sess.lines
    have = present.get(sess.personality, set())
    if rep.error:
        v.failures.append("%s: %s" % (rep.label, rep.error))
    for i, shown in rep.no_prompt:
        v.failures.append("%s: line %d %r: no prompt within %.0fs; terminal shows %r" % (
            rep.label, i + 1, lines[i][:80], LINE_TIMEOUT, shown[-200:]))
    sev = session_events(evs, rep)
    if not sev:
        v.failures.append("%s: no session from %s:%s in the events" % (rep.label, rep.src_ip, rep.src_port))
        return v
    # 1. every line, in order, as a command.input; command.failed mapped to the line before it
    inputs = [e for e in sev if e["eventid"] == "command.input"]
    pos, line_of_input, missing = 0, {}, []
    for i, line in enumerate(lines):
        j = pos
        while j < len(inputs) and inputs[j].get("input") != line:
            j += 1
        if j == len(inputs):
            missing.append(i)
            if len(missing) == 1:
                got = inputs[pos]["input"] if pos < len(inputs) else None
                v.failures.append("%s: line %d: expected a command.input %r, got %r" % (
                    rep.label, i + 1, line[:120], got if got is None else got[:120]))
            continue
        line_of_input[id(inputs[j])] = i
        pos = j + 1
    if len(missing) > 1:
        v.failures.append("%s: %d more lines without their command.input (lines %s)" % (
            rep.label, len(missing) - 1, ", ".join(str(i + 1) for i in missing[1:])))
    cur = None
    static_count = True
    for e in sev:
        if e["eventid"] == "command.input":
            cur = line_of_input.get(id(e))
            names = _argv_names(e)
            if names is not None:
                static_count = False
                v.present_run += sum(1 for n in names if n in have)
        elif e["eventid"] == "command.failed":
            name = failed_name(e.get("input", ""))
            if name in have:
                v.present_failed.append(name)
                v.failures.append("%s: line %s %r: command.failed %r, but a real %s box has `%s`" % (
                    rep.label, "?" if cur is None else cur + 1, "" if cur is None else lines[cur][:80],
                    e.get("input", "")[:80], sess.personality, name))
    if static_count:
        v.present_run = sum(1 for line in lines for n in _static_names(line) if n in have)
    v.present_run = max(v.present_run, len(v.present_failed))
    # 2. URLs
    # fetching is off in tests: each URL is logged as session.file_download.failed (reason disabled)
    asked = [e.get("url") for e in sev if e["eventid"] in ("session.file_download", "session.file_download.failed")]
    asked_norm = {norm_url(a) for a in asked if isinstance(a, str)}
    for u in sess.urls:
        if norm_url(u) not in asked_norm:
            v.failures.append("%s: url %s was never requested (session.file_download urls: %r)" % (
                rep.label, u, asked))
    # 3. the final step's output
    if sess.final_kind == "output" and len(rep.outputs) == len(lines):
        out = rep.outputs[-1]
        if sess.final_text not in out:
            v.failures.append("%s: last line %d %r: expected output containing %r, got %r" % (
                rep.label, len(lines), lines[-1][:80], sess.final_text, out[-300:]))
    return v


def run_corpus(daemon_factory, sessions=None, parallel=PARALLEL):
    """Start the sensor, replay, stop, judge.  Returns (sensor, verdicts)."""
    sessions = sessions if sessions is not None else load_corpus()
    present = load_present()
    sensor = ShellSensor(daemon_factory).start()
    try:
        reps = replay_all(sensor, sessions, parallel)
    except BaseException:
        sensor.d.kill()
        raise
    try:
        evs = stop_and_read(sensor.d)
    except AssertionError as e:
        # The daemon died or a sanitizer spoke: judge what was recorded, and say so first.
        err = [l.strip() for l in sensor.d.stderr().splitlines()
               if "runtime error" in l or "ERROR: " in l or "SUMMARY" in l]
        sensor.crash = "%s%s" % (e, "".join("\n    " + l for l in err[:6]))
        evs = sensor.d.events()
    return sensor, [judge(r, evs, present) for r in reps]


def summary(verdicts):
    """The two figures of issue 4, per personality and overall: lines of text."""
    out = []
    for pers in PERSONALITIES + (None,):
        vs = [v for v in verdicts if pers is None or v.rep.sess.personality == pers]
        if not vs:
            continue
        ok = sum(1 for v in vs if v.reached)
        run = sum(v.present_run for v in vs)
        nf = sum(len(v.present_failed) for v in vs)
        out.append("%-8s sessions reaching their final step: %d/%d (%.1f%%); present commands "
                   "answered \"not found\": %d/%d (%.1f%%)" % (
                       pers or "overall", ok, len(vs), 100.0 * ok / len(vs), nf, run,
                       100.0 * nf / run if run else 0.0))
    return out


# ---- the integration case ------------------------------------------------------------------------

def _corpus_is_sound():
    sessions = load_corpus()
    present = load_present()
    assert len(sessions) >= 45, "the corpus has %d sessions, at least 45 wanted" % len(sessions)
    assert set(present) == set(PERSONALITIES), present.keys()
    return sessions


@case
def shell_corpus_replay(ctx):
    try:
        import paramiko  # noqa: F401
    except ImportError:
        raise Skip("python3-paramiko is not installed")
    sessions = _corpus_is_sound()
    t0 = time.monotonic()
    sensor, verdicts = run_corpus(ctx.daemon, sessions)
    for n in sensor.notes:
        ctx.note(n)
    for line in summary(verdicts):
        ctx.note(line)
    ctx.note("%d replays of %d sessions in %.1fs" % (len(verdicts), len(sessions), time.monotonic() - t0))
    failures = [f for v in verdicts for f in v.failures]
    if sensor.crash:
        failures.insert(0, "the daemon did not stop cleanly: %s" % sensor.crash)
    if not sensor.ssh_personality:
        failures.insert(0, "the ssh service rejects `personality = debian|busybox`: busybox sessions over "
                           "SSH ran on the default shell")
    assert not failures, "%d replay(s) of %d failed:\n  %s" % (
        sum(1 for v in verdicts if not v.reached), len(verdicts), "\n  ".join(failures))


if __name__ == "__main__":
    # `tests/integration/cases_shell.py`: check the corpus files alone (headers, URLs, markers).
    _s = _corpus_is_sound()
    print("corpus: %d sessions, %d lines, %d replays: ok" % (
        len(_s), sum(len(x.lines) for x in _s), sum(len(x.via) for x in _s)))
