#!/usr/bin/python3
"""gen-flowfp-seeds.py - seed corpus of fuzz/fuzz_flowfp.c from real captures.

    tools/gen-flowfp-seeds.py PCAP_DIR OUT_DIR

PCAP_DIR: the shared FoxIO captures (../shared/testdata/fingerprints/foxio-ja4/pcap).
Writes two kinds of seeds (see the harness's comment for the formats):
  - "flows" seeds: the first ten packets of up to four TLS, SSH, QUIC or DTLS
    streams of a capture, payloads as tshark reads them, with the client /
    server bit, UDP bit and SYN bit set from the packet;
  - "frames" seeds: the first 24 frames of each classic pcap file as they are
    (Ethernet), and the same frames rewritten under the other link types the
    decoder knows (Linux cooked v1 and v2, BSD loopback, raw IP).
Needs tshark (and editcap for pcapng).
"""
import os
import struct
import subprocess
import sys
import tempfile

FIELDS = ["tcp.stream", "udp.stream", "ip.src", "ipv6.src", "tcp.srcport", "udp.srcport",
          "tcp.flags.syn", "tcp.payload", "udp.payload"]


def tshark_rows(path, flt):
    out = subprocess.run(["tshark", "-r", path, "-Y", flt, "-T", "fields", "-E", "separator=\t"]
                         + sum([["-e", f] for f in FIELDS], []),
                         capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        v = line.split("\t")
        v += [""] * (len(FIELDS) - len(v))
        yield dict(zip(FIELDS, (x.split(",")[-1] for x in v)))      # a tunnel: the inner one


def flow_seeds(path, flt, udp):
    """Every packet of the streams where flt matches once (a hello cut in two
    segments is dissected on its last one), in capture order."""
    field = "udp.stream" if udp else "tcp.stream"
    wanted = set(r[field] for r in tshark_rows(path, flt) if r[field])
    streams = {}
    for r in tshark_rows(path, "udp" if udp else "tcp"):
        key = r[field]
        if key not in wanted:
            continue
        src = (r["ip.src"] or r["ipv6.src"], r["udp.srcport"] if udp else r["tcp.srcport"])
        st = streams.setdefault(key, {"client": src, "recs": []})
        if len(st["recs"]) >= 10:
            continue
        pay = bytes.fromhex((r["udp.payload"] if udp else r["tcp.payload"]).replace(":", ""))[:2048]
        syn = r["tcp.flags.syn"] in ("1", "True")
        if not pay and not syn:
            continue
        ctl = (4 if src != st["client"] else 0) | (8 if udp else 0) | (0x40 if syn else 0)
        st["recs"].append(struct.pack(">BH", ctl, len(pay)) + pay)
    chosen = [s for s in streams.values() if s["recs"]][:4]
    if not chosen:
        return None
    body = b""
    for i, s in enumerate(chosen):
        body += b"".join(bytes([rec[0] | i]) + rec[1:] for rec in s["recs"])
    return b"\x01" + body                          # mode 1: flows over IPv4


def pcap_frames(path, limit=24):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    link = struct.unpack(end + "I", data[20:24])[0]
    off, frames = 24, []
    while off + 16 <= len(data) and len(frames) < limit:
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return link, frames


def frames_seed(link_index, frames):
    return b"\x00" + bytes([link_index]) + b"".join(struct.pack(">H", len(f)) + f for f in frames)


def relink(frames):
    """Ethernet frames (no VLAN) under the other link types: index -> frames."""
    out = {1: [], 2: [], 3: [], 5: []}
    for f in frames:
        if len(f) < 14:
            continue
        et, ip = f[12:14], f[14:]
        out[1].append(b"\x00\x00\x00\x01\x00\x06" + f[6:12] + b"\x00\x00" + et + ip)     # SLL v1
        out[2].append(et + b"\x00\x00" + b"\x00\x00\x00\x01" + b"\x00\x01\x00\x06" + f[6:12] + b"\x00\x00" + ip)
        fam = 2 if et == b"\x08\x00" else 30
        out[3].append(struct.pack("<I", fam) + ip)                                      # BSD loopback
        out[5].append(ip)                                                               # raw IP
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    n = 0
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        base = os.path.splitext(name)[0]
        for tag, flt, udp in (("tls", "tls.handshake.type == 1 or tls.handshake.type == 2", False),
                              ("ssh", "ssh", False), ("quic", "quic", True), ("dtls", "dtls", True)):
            seed = flow_seeds(path, flt, udp)
            if seed and len(seed) < 64 * 1024:
                with open(os.path.join(dst, "flows-%s-%s" % (base, tag)), "wb") as f:
                    f.write(seed)
                n += 1
        with tempfile.NamedTemporaryFile(suffix=".pcap") as tmp:
            if subprocess.run(["editcap", "-F", "pcap", path, tmp.name], capture_output=True).returncode != 0:
                continue
            link, frames = pcap_frames(tmp.name)
            if link != 1 or not frames:
                continue
            seeds = {0: frames}
            seeds.update(relink(frames))
            for idx, fr in seeds.items():
                with open(os.path.join(dst, "frames-%s-%d" % (base, idx)), "wb") as f:
                    f.write(frames_seed(idx, fr))
                n += 1
    print("%d seeds in %s" % (n, dst))


if __name__ == "__main__":
    main()
