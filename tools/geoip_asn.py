#!/usr/bin/python3
"""
geoip_asn.py - convert @ip-location-db/asn's CSV files into hanipo's compact
sorted ASN file (read by src/intel/geo.c with mmap + binary search).

    geoip_asn.py [--build-epoch SECONDS] asn-ipv4.csv asn-ipv6.csv OUT

CSV rows are "start,end,asn,org" (org quoted when it holds a comma).  The
output (all integers little-endian, addresses big-endian = network order so
that a byte compare orders them):

    header, 64 bytes
      0  8  magic "HPASNDB1"
      8  4  header size (64)
     12  4  n4: IPv4 ranges
     16  4  n6: IPv6 ranges
     20  4  string table size in bytes
     24  8  build epoch (seconds since 1970, UTC) of the source data
     32  4  offset of the IPv4 table
     36  4  offset of the IPv6 table
     40  4  offset of the string table
     44 20  zero
    IPv4 table: n4 x 16 bytes   start[4] end[4] asn u32 org u32
    IPv6 table: n6 x 40 bytes   start[16] end[16] asn u32 org u32
    string table: NUL-terminated UTF-8 organisation names, deduplicated;
                  offset 0 is the empty string.

Ranges are sorted by start and do not overlap (checked here and again by
the reader).  The file is written to OUT.tmp and renamed, so a sensor never
maps a half-written file.  Standard library only.
"""
import csv
import ipaddress
import os
import struct
import sys
import time

MAGIC = b"HPASNDB1"
HEADER = 64


def read_ranges(path, version):
    rows = []
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        for lineno, r in enumerate(csv.reader(f), 1):
            if not r:
                continue
            if len(r) < 3:
                raise SystemExit("%s:%d: expected start,end,asn,org" % (path, lineno))
            a = ipaddress.ip_address(r[0])
            b = ipaddress.ip_address(r[1])
            if a.version != version or b.version != version or int(a) > int(b):
                raise SystemExit("%s:%d: bad range %s-%s" % (path, lineno, r[0], r[1]))
            org = r[3] if len(r) > 3 else ""
            rows.append((int(a), int(b), int(r[2]), org.replace("\0", "")))
    rows.sort()
    # The source has no overlaps; if a future one does, the later range loses its overlapping part
    # so that the binary search stays exact.
    out = []
    for a, b, asn, org in rows:
        if out and a <= out[-1][1]:
            a = out[-1][1] + 1
            if a > b:
                continue
        if asn > 0xFFFFFFFF:
            continue
        out.append((a, b, asn, org))
    return out


def convert(v4csv, v6csv, dst, epoch):
    v4 = read_ranges(v4csv, 4)
    v6 = read_ranges(v6csv, 6)
    strtab = bytearray(b"\0")
    offs = {"": 0}

    def name_off(org):
        o = offs.get(org)
        if o is None:
            o = len(strtab)
            strtab.extend(org.encode("utf-8")[:255].decode("utf-8", "ignore").encode("utf-8") + b"\0")
            offs[org] = o
        return o

    t4 = bytearray()
    for a, b, asn, org in v4:
        t4 += struct.pack(">II", a, b) + struct.pack("<II", asn, name_off(org))
    t6 = bytearray()
    for a, b, asn, org in v6:
        t6 += a.to_bytes(16, "big") + b.to_bytes(16, "big") + struct.pack("<II", asn, name_off(org))
    off4 = HEADER
    off6 = off4 + len(t4)
    offs_ = off6 + len(t6)
    if offs_ + len(strtab) >= 1 << 32:
        raise SystemExit("geoip_asn: output would exceed 4 GiB")
    hdr = MAGIC + struct.pack("<IIIIQIII", HEADER, len(v4), len(v6), len(strtab), epoch, off4, off6, offs_)
    hdr += b"\0" * (HEADER - len(hdr))
    tmp = dst + ".tmp"
    with open(tmp, "wb") as f:
        f.write(hdr)
        f.write(t4)
        f.write(t6)
        f.write(strtab)
    os.chmod(tmp, 0o644)
    os.rename(tmp, dst)
    print("geoip_asn: %s: %d IPv4 + %d IPv6 ranges, %d organisations, %d bytes" % (
        dst, len(v4), len(v6), len(offs), os.path.getsize(dst)))


def main(argv):
    epoch = int(time.time())
    if len(argv) >= 2 and argv[0] == "--build-epoch":
        epoch = int(argv[1])
        argv = argv[2:]
    if len(argv) != 3:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 64
    convert(argv[0], argv[1], argv[2], epoch)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
