"""
cases_ics.py - integration cases for the industrial and car services of issue 10:
Modbus/TCP (protocol = modbus), S7comm (protocol = s7comm) and the ELM327
OBD-II adapter (protocol = elm327).

Imported by run.py after cases.py; every @case here is appended to cases.ALL.

Real clients drive the sensor: nmap (-sV, modbus-discover, s7-info) and
python3-pymodbus; the ELM327 dialogue of the data sheet is scripted over a
socket with the exact bytes checked.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

from harness import T, Service, Skip, by, wait_for, identity
from cases import case, stop_and_read


def nmap(args):
    if not shutil.which("nmap"):
        raise Skip("nmap not installed")
    r = subprocess.run(["nmap", "-Pn", "-n"] + args + ["127.0.0.1"], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=T(120))
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, r.stderr[-500:]
    assert "honeypot" not in out.lower(), out
    return out


# ---- Modbus ------------------------------------------------------------------------------------------

MODBUS_PROFILES = {
    "m340": ("Schneider Electric", "BMX P34 2020", "v2.7"),
    "m340v3": ("Schneider Electric", "BMX P34 2020", "v3.10"),
    "m221": ("Schneider Electric", "TM221CE24R", "V1.6.2.0"),
    "pac3200": ("Siemens", "7KM2112-0BA00-3AA0", "V2.4.2"),
    "ac500": ("ABB", "PM573-ETH", "V2.5.2"),
    "pfc200": ("WAGO", "750-8202", "03.01.07(13)"),
}

# Debian's python3-pymodbus imports pyserial modules even for TCP; stand-ins
# let the TCP client load where python3-serial(-asyncio) are not installed.
PYMODBUS_PRELUDE = r'''
import sys, types
for name in ("serial", "serial_asyncio"):
    try:
        __import__(name)
    except ImportError:
        m = types.ModuleType(name)
        m.PARITY_NONE = "N"
        m.create_serial_connection = None
        sys.modules[name] = m
from pymodbus.client import ModbusTcpClient
from pymodbus.mei_message import ReadDeviceInformationRequest
'''

PYMODBUS_SCRIPT = PYMODBUS_PRELUDE + r'''
port = int(sys.argv[1])
c = ModbusTcpClient("127.0.0.1", port=port, timeout=5)
assert c.connect()
rr = c.read_holding_registers(0, 10, slave=1)
assert not rr.isError(), rr
print("HR", " ".join(str(v) for v in rr.registers))
wr = c.write_register(40, 1234, slave=1)
assert not wr.isError(), wr
print("WR", wr.address, wr.value)
rr = c.read_holding_registers(40, 1, slave=1)
print("HR40", rr.registers[0])
rr = c.read_coils(0, 8, slave=1)
print("CO", " ".join(str(int(b)) for b in rr.bits[:8]))
rr = c.read_holding_registers(60000, 2, slave=1)
print("EXC", rr.exception_code)
di = c.execute(ReadDeviceInformationRequest(read_code=1, object_id=0, slave=1))
print("ID", "|".join(di.information[k].decode() for k in sorted(di.information)))
c.close()
'''


@case
def modbus_pymodbus(ctx):
    svc = Service("modbus", protocol="modbus", tcp=1, profile="m340")
    d = ctx.daemon("modbus-py", [svc])
    d.start()
    r = subprocess.run(["/usr/bin/python3", "-c", PYMODBUS_SCRIPT, str(svc.port)], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=T(60))
    out = r.stdout.decode("utf-8", "replace")
    if r.returncode != 0 and "No module named 'pymodbus'" in r.stderr.decode():
        raise Skip("python3-pymodbus not installed")
    assert r.returncode == 0, out + r.stderr.decode()[-1500:]
    lines = dict(l.split(" ", 1) for l in out.splitlines() if " " in l)
    regs = [int(v) for v in lines["HR"].split()]
    assert len(regs) == 10 and 1000 <= regs[0] <= 4000, regs       # tank level, mm
    assert lines["WR"] == "40 1234" and lines["HR40"] == "1234", out
    assert lines["EXC"] == "2", out                                  # illegal data address
    assert lines["ID"] == "Schneider Electric|BMX P34 2020|v2.7", out
    wait_for(lambda: by(d.events(), "modbus.write"), T(5), what="modbus.write")
    evs = stop_and_read(d)
    w = by(evs, "modbus.write")
    assert len(w) == 1, w
    assert w[0]["address"] == 40 and w[0]["values"] == [1234] and w[0]["unit"] == 1, w[0]
    assert w[0]["function"] == "write_single_register" and w[0]["function_code"] == 6, w[0]
    inputs = [e["input"] for e in by(evs, "command.input")]
    assert "read_holding_registers unit=1 addr=0 count=10" in inputs, inputs
    assert "write_single_register unit=1 addr=40 value=1234" in inputs, inputs
    assert [i for i in inputs if re.match(r"^read_device_identification unit=\d+ code=1 object=0$", i)], inputs
    exc = [e for e in by(evs, "command.input") if e.get("exception")]
    assert len(exc) == 1 and exc[0]["exception"] == 2 and exc[0]["address"] == 60000, exc
    ctx.note("pymodbus: %d requests, registers %s" % (len(inputs), regs[:4]))


@case
def modbus_nmap(ctx):
    svc = Service("modbus", protocol="modbus", tcp=1)
    d = ctx.daemon("modbus-nmap", [svc])
    d.start()
    prof = identity(d, "modbus_device").split(":")[0]
    vendor, product, rev = MODBUS_PROFILES[prof]
    out = nmap(["-sV", "--script", "+modbus-discover", "-p", str(svc.port)])
    line = [l for l in out.splitlines() if l.startswith("%d/tcp" % svc.port)]
    assert line and re.match(r"^%d/tcp\s+open\s+modbus\s+Modbus TCP" % svc.port, line[0]), out
    assert "Device identification: %s %s %s" % (vendor, product, rev) in out, out
    ctx.note("nmap (%s): %s" % (prof, re.sub(r"\s+", " ", line[0])))
    evs = stop_and_read(d)
    assert by(evs, "command.input", command="read_device_identification"), evs
    d.start()                                                # the profile survives a restart
    d.wait_event(lambda e: e["eventid"] == "sensor.start", count=2, timeout=T(10), what="second sensor.start")
    assert identity(d, "modbus_device").split(":")[0] == prof
    d.stop()


# ---- S7comm ------------------------------------------------------------------------------------------

S7_PROFILES = {
    "cpu315pn": ("CPU 315-2 PN/DP", "6ES7 315-2EH14-0AB0", "3.2.6"),
    "cpu317pn": ("CPU 317-2 PN/DP", "6ES7 317-2EK14-0AB0", "3.2.8"),
    "cpu314c": ("CPU 314C-2 PN/DP", "6ES7 314-6EH04-0AB0", "3.3.10"),
    "cpu315dp": ("CPU 315-2 DP", "6ES7 315-2AG10-0AB0", "2.6.11"),
    "cpu319": ("CPU 319-3 PN/DP", "6ES7 318-3EL01-0AB0", "3.2.8"),
}


def s7_info(out):
    info = {}
    for l in out.splitlines():
        m = re.match(r"^\|[_ ]\s+([A-Za-z ]+): (.*)$", l)
        if m:
            info[m.group(1)] = m.group(2).strip()
    return info


@case
def s7_nmap(ctx):
    svc = Service("s7", protocol="s7comm", tcp=1)
    d = ctx.daemon("s7-nmap", [svc])
    d.start()
    prof = identity(d, "s7_plc").split(":")[0]
    mtype, order, fw = S7_PROFILES[prof]
    # '+' runs the script on a port that is not 102 (its port rule).
    out = nmap(["-sV", "--script", "+s7-info", "-p", str(svc.port)])
    info = s7_info(out)
    assert info.get("Module") == order and info.get("Basic Hardware") == order, out
    assert info.get("Version") == fw, out
    assert re.match(r"^S C-[A-Z]\d[A-Z]\d{5}20[01]\d$", info.get("Serial Number", "")), out
    assert info.get("Copyright") == "Original Siemens Equipment", out
    assert info.get("Plant Identification") and info.get("System Name"), out
    assert info.get("Module Type") in (mtype,) or info.get("Module Type", "").startswith("PLC_"), out
    line = [l for l in out.splitlines() if l.startswith("%d/tcp" % svc.port)]
    assert line and "Siemens S7 PLC" in line[0], out
    ctx.note("nmap (%s): %s; serial %s, plant %r" % (prof, re.sub(r"\s+", " ", line[0]), info["Serial Number"],
                                                     info["Plant Identification"]))
    evs = stop_and_read(d)
    ins = [e["input"] for e in by(evs, "command.input")]
    assert "read_szl id=0x0011 index=0x0001" in ins and "read_szl id=0x001C index=0x0001" in ins, ins
    con = by(evs, "command.input", command="cotp_connect")
    assert [c for c in con if c["dst_tsap"] == "0102" and c["src_tsap"] == "0100"], con   # -sV probes connect too
    # The same PLC after a restart.
    d.start()
    out2 = nmap(["--script", "+s7-info", "-p", str(svc.port)])
    assert s7_info(out2).get("Serial Number") == info["Serial Number"], out2
    assert s7_info(out2).get("Plant Identification") == info["Plant Identification"], out2
    d.stop()


def tpkt(payload):
    return b"\x03\x00" + (len(payload) + 4).to_bytes(2, "big") + payload


def recv_tpkt(s):
    hdr = b""
    while len(hdr) < 4:
        c = s.recv(4 - len(hdr))
        if not c:
            return b""
        hdr += c
    n = int.from_bytes(hdr[2:4], "big")
    body = b""
    while len(body) < n - 4:
        c = s.recv(n - 4 - len(body))
        assert c, "closed inside a TPKT"
        body += c
    return hdr + body


@case
def s7_jobs(ctx):
    svc = Service("s7", protocol="s7comm", tcp=1, profile="cpu315pn", plant="Wasserwerk Ost")
    d = ctx.daemon("s7-jobs", [svc])
    d.start()
    with socket.create_connection(("127.0.0.1", svc.port), timeout=T(5)) as s:
        s.sendall(bytes.fromhex("0300001611e00000000100c0010ac1020100c2020102"))
        cc = recv_tpkt(s)
        assert cc == bytes.fromhex("0300001611d00001004400c0010ac1020100c2020102"), cc.hex()
        s.sendall(bytes.fromhex("0300001902f08032010000000100080000f0000001000101e0"))
        r = recv_tpkt(s)
        assert r == bytes.fromhex("0300001b02f080320300000001000800000000f0000001000100f0"), r.hex()
        # read var DB1.DBB0 x4: object does not exist
        s.sendall(bytes.fromhex("0300001f02f080320100000002000e00000401120a10020004000184000000"))
        r = recv_tpkt(s)
        assert r == bytes.fromhex("0300001902f0803203000000020002000400000401" + "0a000000"), r.hex()
        # PLC stop: refused with 0x8104
        s.sendall(bytes.fromhex("0300002102f0803201000000030010000029000000000009505f50524f4752414d"))
        r = recv_tpkt(s)
        assert r[8] == 3 and r[17:19] == b"\x81\x04" and r[19] == 0x29, r.hex()
        # garbage: closed without an answer
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert recv_tpkt(s) == b""
    evs = stop_and_read(d)
    ins = [e["input"] for e in by(evs, "command.input")]
    assert ins == ["cotp_connect src_tsap=0100 dst_tsap=0102 tpdu_size=1024", "setup_communication pdu_size=480",
                   "read_var DB1.0.0*4/t2", "plc_stop P_PROGRAM"], ins
    closed = [e for e in by(evs, "session.closed")]
    assert closed and closed[0]["reason"] == "s7_bad_tpkt", closed


# ---- ELM327 ------------------------------------------------------------------------------------------

def vin_check_digit(vin):
    """ISO 3779 / 49 CFR 565 check digit, computed here independently of the sensor."""
    tr = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9]))
    w = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    total = sum((int(c) if c.isdigit() else tr[c]) * wt for c, wt in zip(vin, w))
    return "X" if total % 11 == 10 else str(total % 11)


class Elm:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=T(5))

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\r")
        out = b""
        while not out.endswith(b">"):
            c = self.s.recv(4096)
            assert c, "closed after %r" % out
            out += c
        return out.decode("latin-1")

    def close(self):
        self.s.close()


@case
def elm327_dialogue(ctx):
    svc = Service("obd", protocol="elm327", tcp=1)
    d = ctx.daemon("elm327", [svc])
    d.start()
    veh, vin = identity(d, "elm327_vehicle").split(":")
    e = Elm(svc.port)
    assert e.cmd("ATZ") == "ATZ\r\r\rELM327 v1.5\r\r>"           # echo is on after a reset
    assert e.cmd("ATE0") == "ATE0\rOK\r\r>"
    assert e.cmd("ATL0") == "OK\r\r>"
    assert e.cmd("ATI") == "ELM327 v1.5\r\r>"
    assert e.cmd("ATSP0") == "OK\r\r>"
    assert e.cmd("ATDP") == "AUTO\r\r>"
    assert e.cmd("0100") == "SEARCHING...\r41 00 BE 3F A0 13 \r\r>"
    assert e.cmd("ATDP") == "AUTO, ISO 15765-4 (CAN 11/500)\r\r>"
    assert e.cmd("ATDPN") == "A6\r\r>"
    assert re.match(r"^1[0-9]\.\dV\r\r>$", e.cmd("ATRV"))

    def rpm():
        m = re.match(r"^41 0C ([0-9A-F]{2}) ([0-9A-F]{2}) \r\r>$", e.cmd("010C"))
        assert m, "bad 010C answer"
        return (int(m.group(1), 16) * 256 + int(m.group(2), 16)) / 4
    r1 = rpm()
    m = re.match(r"^41 0D ([0-9A-F]{2}) \r\r>$", e.cmd("010D"))
    assert m
    speed = int(m.group(1), 16)
    assert 0 <= speed <= 130 and 600 <= r1 <= 6000, (speed, r1)
    time.sleep(2.5)
    r2 = rpm()
    assert 600 <= r2 <= 6000 and r2 != r1, (r1, r2)
    # The VIN, as the adapter prints a multi-frame answer.
    out = e.cmd("0902")
    m = re.match(r"^014\r0: 49 02 01 ((?:[0-9A-F]{2} ){3})\r1: ((?:[0-9A-F]{2} ){7})\r2: ((?:[0-9A-F]{2} ){7})\r\r>$",
                 out)
    assert m, repr(out)
    got = bytes.fromhex("".join(m.groups()).replace(" ", "")).decode()
    assert got == vin and len(vin) == 17 and vin_check_digit(vin) == vin[8], (got, vin)
    # Spaces off, headers on: raw CAN frames from 7E8.
    assert e.cmd("ATS0") == "OK\r\r>" and e.cmd("ATH1") == "OK\r\r>"
    assert re.match(r"^7E803410D[0-9A-F]{2}\r\r>$", e.cmd("010D"))
    out = e.cmd("0902")
    assert re.match(r"^7E81014490201[0-9A-F]{6}\r7E821([0-9A-F]{14})\r7E822([0-9A-F]{14})\r\r>$", out), repr(out)
    assert e.cmd("HELLO") == "?\r\r>"
    assert e.cmd("0104" + "0" * 200) == "?\r\r>"                 # longer than the adapter's buffer
    assert e.cmd("04") == "7E80144\r\r>"
    e.close()
    ctx.note("elm327 (%s): VIN %s, RPM %d -> %d, %d km/h" % (veh, vin, r1, r2, speed))
    wait_for(lambda: by(d.events(), "elm327.clear_dtc"), T(5), what="elm327.clear_dtc")
    evs = stop_and_read(d)
    ins = [x["input"] for x in by(evs, "command.input")]
    assert ins[:6] == ["ATZ", "ATE0", "ATL0", "ATI", "ATSP0", "ATDP"], ins
    assert ins.count("010C") == 2 and "0902" in ins and "HELLO" in ins, ins
    clr = by(evs, "elm327.clear_dtc")
    assert len(clr) == 1 and clr[0]["vin"] == vin, clr
    d.start()                                                    # the same car after a restart
    d.wait_event(lambda e: e["eventid"] == "sensor.start", count=2, timeout=T(10), what="second sensor.start")
    assert identity(d, "elm327_vehicle") == "%s:%s" % (veh, vin)
    d.stop()
