"""
cases_udpiot.py - integration cases for the UDP services of issue 10: SIP (protocol = sip),
SSDP/UPnP (protocol = ssdp, with the HTTP engine serving the description) and the UDP core's
reflection guard.

Real clients: sipvicious (svmap finds the PBX and prints its Server header, svwar enumerates
extensions with REGISTER), nmap's upnp-info script (needs UDP port 1900: skipped when it is taken),
and python sockets for the exact bytes and the 10,000-datagram reflection test.
"""
import os
import re
import shutil
import socket
import subprocess
import time

from harness import T, Service, Skip, by, wait_for, identity
from cases import case, stop_and_read


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            raise Skip("%s is not installed" % t)


def rx_queued(port):
    """Bytes waiting unread in the daemon's receive buffer on this UDP port."""
    total = 0
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if int(cols[1].split(":")[1], 16) == port:
                        total += int(cols[4].split(":")[1], 16)
        except OSError:
            pass
    return total


def kernel_drops(port):
    """Datagrams the kernel dropped at the daemon's socket on this UDP port (receive buffer full):
    they never reached the sensor, so they cannot be in its accounting."""
    total = 0
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if int(cols[1].split(":")[1], 16) == port:
                        total += int(cols[-1])
        except OSError:
            pass
    return total


def port_free(kind, port):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def udp_ask(port, data, timeout=2.0, src=("127.0.0.1", 0)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(src)
    s.settimeout(T(timeout))
    s.sendto(data, ("127.0.0.1", port))
    try:
        return s.recv(65536)
    except socket.timeout:
        return None
    finally:
        s.close()


def sip_request(method, user="100", ua="Linphone/3.6.1 (belle-sip/1.4.2)", extra="", body="", lport=5062,
                caller=None):
    head = ("%s sip:%s@127.0.0.1 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%d;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:%s@127.0.0.1>;tag=a1b2c3\r\n"
            "To: <sip:%s@127.0.0.1>\r\n"
            "Call-ID: c%d@127.0.0.1\r\n"
            "CSeq: 1 %s\r\n"
            "Contact: <sip:%s@127.0.0.1:%d>\r\n"
            "User-Agent: %s\r\n%s"
            "Content-Length: %d\r\n\r\n") % (method, user, lport, time.time_ns() % 10 ** 9, caller or user, user,
                                              time.time_ns() % 10 ** 9, method, user, lport, ua, extra, len(body))
    return (head + body).encode()


MSEARCH = (b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 2\r\n'
           b'ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n'
           b'USER-AGENT: Linux/5.10 UPnP/1.1 MiniUPnPc/2.2.4\r\n\r\n')


@case
def sip_svmap_svwar(ctx):
    need("svmap", "svwar", "nmap")
    # nmap -sV tries its SIPOptions probe early only on port 5060 (else after 40 s of other probes).
    t5060 = port_free(socket.SOCK_STREAM, 5060)
    sip = Service("sip", protocol="sip", tcp=1, udp=1, extensions="100-102", tcp_ports=[5060] if t5060 else None)
    d = ctx.daemon("sip", [sip]).start()
    server = identity(d, "sip_server")
    assert server and "honeypot" not in server.lower(), server
    out = subprocess.run(["svmap", "-p%d" % sip.uport, "127.0.0.1"], capture_output=True, text=True,
                         timeout=T(30)).stdout
    assert re.search(r"127\.0\.0\.1:%d\s*\|\s*%s" % (sip.uport, re.escape(server)), out), out
    out = subprocess.run(["svwar", "-p%d" % sip.uport, "-e98-104", "127.0.0.1"], capture_output=True,
                         text=True, timeout=T(60)).stdout
    found = re.findall(r"\|\s*(\d+)\s*\|\s*reqauth", out)
    assert found == ["100", "101", "102"], out

    if t5060:
        out = subprocess.run(["nmap", "-sV", "-Pn", "-n", "-p5060", "127.0.0.1"], capture_output=True,
                             text=True, timeout=T(60)).stdout
        assert re.search(r"5060/tcp\s+open\s+sip", out), out
        assert "honeypot" not in out.lower(), out
        if server.startswith("Asterisk PBX"):
            assert server in out, out

    # OPTIONS over TCP: the full answer (no size rule on TCP).
    c = socket.create_connection(("127.0.0.1", sip.port), timeout=T(5))
    c.sendall(sip_request("OPTIONS", ua="friendly-scanner"))
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += c.recv(4096)
    c.close()
    assert buf.startswith(b"SIP/2.0 200 OK\r\n"), buf
    for h in (b"Allow: INVITE", b"Supported: ", b"Accept: application/sdp", b"Server: " + server.encode()):
        assert h in buf, buf

    # REGISTER with credentials: login.failed with a hashcat line, then 403.
    auth = ('Authorization: Digest username="100", realm="asterisk", nonce="4e1a9b2c", '
            'uri="sip:127.0.0.1", response="6b8a2f7e9d0c1b3a5f4e6d7c8b9a0f1e", algorithm=MD5\r\n')
    r = udp_ask(sip.uport, sip_request("REGISTER", extra=auth, ua="sipcli/v1.8"))
    assert r and r.startswith(b"SIP/2.0 403 Forbidden\r\n"), r
    # INVITE: logged with the SDP, challenged, never connected.
    sdp = "v=0\r\no=- 1 1 IN IP4 203.0.113.9\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\nm=audio 18000 RTP/AVP 0 8\r\n"
    r = udp_ask(sip.uport, sip_request("INVITE", user="0046812345678", caller="100", extra="Content-Type: application/sdp\r\n",
                                       body=sdp))
    assert r and r.startswith(b"SIP/2.0 407 Proxy Authentication Required\r\n"), r

    evs = stop_and_read(d)
    evs = [e for e in evs if e.get("protocol") == "sip"]
    inputs = by(evs, "command.input")
    regs = [e for e in inputs if e.get("command") == "REGISTER"]
    assert len(regs) >= 7, regs                  # svwar: 98..104 (+ its probe of a random user)
    assert all(e.get("scanner") == "friendly-scanner" for e in regs if e.get("user_agent") == "friendly-scanner")
    assert any(e.get("command") == "OPTIONS" and e.get("scanner") for e in inputs), inputs
    lf = by(evs, "login.failed")
    assert len(lf) == 1, lf
    e = lf[0]
    assert e["username"] == "100" and e["realm"] == "asterisk" and e["nonce"] == "4e1a9b2c", e
    assert e["uri"] == "sip:127.0.0.1" and e["response"] == "6b8a2f7e9d0c1b3a5f4e6d7c8b9a0f1e", e
    assert e["algorithm"] == "MD5" and e["hash_format"] == "hashcat:11400" and e["scanner"] == "sipcli", e
    assert e["hash"] == ("$sip$*127.0.0.1*127.0.0.1*100*asterisk*REGISTER*sip*127.0.0.1**4e1a9b2c"
                         "****MD5*6b8a2f7e9d0c1b3a5f4e6d7c8b9a0f1e"), e["hash"]
    inv = by(evs, "sip.invite")
    assert len(inv) == 1 and inv[0]["callee"] == "0046812345678" and inv[0]["caller"] == "100", inv
    assert inv[0]["sdp_connection"] == ["IN IP4 203.0.113.9"], inv
    assert inv[0]["sdp_media"] == ["audio 18000 RTP/AVP 0 8"], inv


@case
def ssdp_msearch_upnp_info(ctx):
    need("nmap")
    web = Service("web", protocol="http", tcp=1)
    # upnp-info only runs against UDP port 1900.
    port1900 = port_free(socket.SOCK_DGRAM, 1900)
    ssdp = Service("ssdp", protocol="ssdp", tcp=0, udp=1, udp_ports=[1900] if port1900 else None,
                   personality="router")
    d = ctx.daemon("ssdp", [ssdp, web]).start()

    r = udp_ask(ssdp.uport, MSEARCH)
    assert r is not None, "no M-SEARCH answer"
    assert len(r) <= len(MSEARCH), (len(r), len(MSEARCH), r)
    m = re.search(rb"LOCATION: *(http://127\.0\.0\.1:(\d+)(/\S+))\r\n", r, re.I)
    assert m and int(m.group(2)) == web.port and m.group(3) == b"/rootDesc.xml", r
    assert b"ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1" in r or \
        b"ST:urn:schemas-upnp-org:device:InternetGatewayDevice:1" in r, r
    # A target that is not ours: no answer, as a real device.
    assert udp_ask(ssdp.uport, MSEARCH.replace(b"InternetGatewayDevice:1", b"MediaRenderer:1"), 0.5) is None

    name, manuf, model = identity(d, "upnp_friendly_name"), identity(d, "upnp_manufacturer"), \
        identity(d, "upnp_model_name")
    if port1900:
        out = subprocess.run(["nmap", "-sU", "-v", "-Pn", "-n", "--script", "upnp-info",
                              "--script-args", "upnp-info.override=false", "-p1900", "127.0.0.1"],
                             capture_output=True, text=True, timeout=T(60)).stdout
        for want in ("Name: %s" % name, "Manufacturer: %s" % manuf, "Model Name: %s" % model):
            assert want in out, out
        assert "honeypot" not in out.lower(), out

    # SOAP on the control URL of the description.
    soap = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            '<u:AddPortMapping xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewRemoteHost></NewRemoteHost>'
            '<NewExternalPort>4444</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>22</NewInternalPort>'
            '<NewInternalClient>192.168.1.10</NewInternalClient><NewEnabled>1</NewEnabled>'
            '<NewPortMappingDescription>x</NewPortMappingDescription><NewLeaseDuration>0</NewLeaseDuration>'
            '</u:AddPortMapping></s:Body></s:Envelope>').encode()
    c = socket.create_connection(("127.0.0.1", web.port), timeout=T(5))
    c.sendall(b"POST /ctl/IPConn HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
              b"SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\"\r\n"
              b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(soap) + soap)
    resp = b""
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        resp += chunk
    c.close()
    assert resp.startswith(b"HTTP/1.1 200 OK") and b"AddPortMappingResponse" in resp, resp

    # NOTIFY: logged, not answered.
    notify = (b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
              b"LOCATION: http://198.51.100.7:5000/desc.xml\r\nUSN: uuid:x::upnp:rootdevice\r\n\r\n")
    assert udp_ask(ssdp.uport, notify, 0.5) is None
    d.wait_event(lambda e: e["eventid"] == "ssdp.notify", what="ssdp.notify")
    evs = stop_and_read(d)
    ins = [e for e in by(evs, "command.input") if e.get("protocol") == "ssdp"]
    assert any(e.get("st") == "urn:schemas-upnp-org:device:InternetGatewayDevice:1" for e in ins), ins
    n = by(evs, "ssdp.notify")
    assert n and n[0]["location"] == "http://198.51.100.7:5000/desc.xml" and n[0]["nts"] == "ssdp:alive", n
    reqs = [e for e in by(evs, "http.request") if e.get("uri") == "/ctl/IPConn"]
    assert reqs and reqs[0].get("rule") == "upnp-soap-addportmapping", reqs
    assert "ssrf" in reqs[0]["attack_classes"] and "upnp-portmapping" in reqs[0]["class_rules"], reqs[0]


@case
def udp_reflection(ctx):
    """10,000 small spoofed-looking requests to each UDP service: total reply bytes <= request bytes,
    and every datagram is accounted for in session.closed (nothing silently dropped)."""
    sip = Service("sip", protocol="sip", tcp=0, udp=1)
    ssdp = Service("ssdp", protocol="ssdp", tcp=0, udp=1, personality="router")
    trap = Service("trap", protocol="trap", tcp=0, udp=1)
    d = ctx.daemon("reflect", [sip, ssdp, trap]).start()
    reqs = {"sip": sip_request("OPTIONS", ua="x"), "ssdp": MSEARCH, "trap": b"\x00\x01\x00\x00\x00\x01stats\r\n"}
    sent_bytes = recv_bytes = 0
    sent = {}
    for svc in (sip, ssdp, trap):
        data = reqs[svc.name]
        socks = []
        # 8,000 from 20 addresses (4 ports each, 100 identical requests per port) and 2,000 from
        # one address over 200 source ports: the two shapes of a reflection attack.
        for i in range(20):
            for _ in range(4):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("127.0.0.%d" % (2 + i), 0))
                s.setblocking(False)
                socks.append((s, 100))
        for _ in range(200):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            socks.append((s, 10))
        n = 0
        for s, count in socks:
            for _ in range(count):
                s.sendto(data, ("127.0.0.1", svc.uport))
                n += 1
                sent_bytes += len(data)
                if n % 100 == 0:
                    time.sleep(T(0.01))    # stay within the kernel's receive buffer (longer when sanitized)
        sent[svc.name] = n
        time.sleep(T(0.5))
        for s, _ in socks:
            while True:
                try:
                    recv_bytes += len(s.recv(65536))
                except (BlockingIOError, ConnectionRefusedError):
                    break
            s.close()
    assert sent_bytes == sum(sent[k] * len(reqs[k]) for k in sent)
    assert recv_bytes <= sent_bytes, (recv_bytes, sent_bytes)
    assert recv_bytes <= sent_bytes // 20, "flood guard did not hold: %d of %d bytes" % (recv_bytes, sent_bytes)
    # a slow (sanitized) daemon may still have datagrams queued: let it read them before stopping
    wait_for(lambda: all(rx_queued(svc.uport) == 0 for svc in (sip, ssdp, trap)), T(20),
             what="the receive queues drained")
    lost_by = {svc.name: kernel_drops(svc.uport) for svc in (sip, ssdp, trap)}
    evs = stop_and_read(d)
    for name, n in sent.items():
        closed = [e for e in by(evs, "session.closed") if e.get("service") == name]
        got = sum(e["datagrams"] for e in closed)
        lost = lost_by[name]
        assert got + lost == n and got >= n // 2, "%s: %d of %d datagrams accounted for, %d lost in the kernel" % (
            name, got, n, lost)
        inputs = [e for e in evs if e.get("service") == name and e["eventid"] in ("command.input", "trap.payload")]
        dropped = sum(e.get("datagrams_dropped", 0) for e in closed)
        assert len(inputs) + dropped == got, (name, len(inputs), dropped, got)
        if name != "trap":
            supp = sum(e.get("replies_suppressed", 0) for e in closed)
            assert supp > (got - dropped) * 0.9, (name, supp, got, dropped)
            assert any(e.get("flood") for e in closed), name
