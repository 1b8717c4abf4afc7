#!/usr/bin/python3
"""Generate tests/unit/hassh_vectors.h for tests/unit/test_sshsniff.c.

usage: tools/gen-hassh-vectors.py [--shared DIR] [-o FILE] [--corpus DIR]

DIR defaults to ../shared/testdata/fingerprints (shared/ lives beside the
clone).  Needs tshark (any 4.x) for the capture vectors.

Three tables are written, all with expected values taken from the reference
data, never from hanipo's own code:

  hassh_pcap_vectors   for every ssh_client_kexinit / ssh_server_kexinit row
                       of foxio-ja4/tshark-4.4.18-reference.tsv that has an
                       md5: the start of that direction of the TCP stream, as
                       the sniffer would see it (everything up to the end of
                       the first binary packet, the KEXINIT, plus up to
                       TRAILER bytes of whatever followed), with the expected
                       hasshAlgorithms string and MD5 from the TSV.
  hassh_json_vectors   salesforce-hassh/hassh_fingerprints.json (JSON lines):
                       the four client lists and the expected string and MD5.
  hassh_spec_vectors   spec-vectors.tsv rows of kind hassh_md5 (client) and
                       hasshserver_md5 (server).

The stream bytes come from tshark's TCP reassembly (-z follow,tcp,raw), so
segmentation in the capture does not matter.  Slicing the stream needs to
know where the identification line and the first packet end; that is done
here independently of src/intel/sshsniff.c (plain RFC 4253 framing), and a
stream whose first packet is not a KEXINIT stops the generator rather than
being silently dropped.

--corpus DIR also writes seeds for fuzz/fuzz_sshsniff.c there: one control
byte (split pattern) followed by a stream start or a bare KEXINIT payload,
one per distinct fingerprint.
"""

import argparse
import csv
import json
import os
import subprocess
import sys

TRAILER = 48          # bytes after the KEXINIT kept to test "ignore the rest"
SIZE_LIMIT = 300_000  # keep the generated header reviewable


def follow_stream(pcap, stream):
    """Return {port: bytes} for both directions of one TCP stream."""
    out = subprocess.run(
        ["tshark", "-r", pcap, "-q", "-z", "follow,tcp,raw,%d" % stream],
        check=True, capture_output=True, text=True).stdout
    nodes, data = [], {0: bytearray(), 1: bytearray()}
    for line in out.splitlines():
        if line.startswith("Node "):
            nodes.append(int(line.rsplit(":", 1)[1]))
        elif line and not line.startswith(("=", "Follow:", "Filter:")):
            node = 1 if line.startswith("\t") else 0
            data[node] += bytes.fromhex(line.strip())
    if len(nodes) != 2 or nodes[0] == nodes[1]:
        sys.exit("%s stream %d: cannot tell the two directions apart" % (pcap, stream))
    return {nodes[0]: bytes(data[0]), nodes[1]: bytes(data[1])}


def stream_prefix(raw, where):
    """Split one direction into (prefix up to the end of the first packet, version line)."""
    off = 0
    while True:
        nl = raw.find(b"\n", off)
        if nl < 0:
            sys.exit("%s: no identification line" % where)
        line = raw[off:nl]
        off = nl + 1
        if line.startswith(b"SSH-"):
            version = line[:-1] if line.endswith(b"\r") else line
            break
    if len(raw) < off + 6:
        sys.exit("%s: stream ends before the first packet" % where)
    plen = int.from_bytes(raw[off:off + 4], "big")
    end = off + 4 + plen
    if raw[off + 5] != 20 or end > len(raw):
        sys.exit("%s: first packet is not a complete KEXINIT" % where)
    return raw[:min(end + TRAILER, len(raw))], end, version


def c_bytes(b):
    """A C string literal for arbitrary bytes (octal escapes: never run on)."""
    out, width = ['"'], 0
    for c in b:
        piece = chr(c) if 0x20 <= c < 0x7f and c not in b'"\\?' else "\\%03o" % c
        if width + len(piece) > 72:
            out.append('"\n        "')
            width = 0
        out.append(piece)
        width += len(piece)
    out.append('"')
    return "".join(out)


def c_str(s):
    return c_bytes(s.encode())


def pcap_vectors(shared):
    base = os.path.join(shared, "foxio-ja4")
    rows = []
    with open(os.path.join(base, "tshark-4.4.18-reference.tsv"), newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if r["type"] in ("ssh_client_kexinit", "ssh_server_kexinit") and r["md5"]:
                rows.append(r)
    cache, vecs = {}, []
    for r in rows:
        key = (r["pcap"], int(r["tcp_stream"]))
        if key not in cache:
            cache[key] = follow_stream(os.path.join(base, "pcap", r["pcap"]), key[1])
        where = "%s stream %d %s" % (r["pcap"], key[1], r["type"])
        prefix, kex_end, version = stream_prefix(cache[key][int(r["src_port"])], where)
        vecs.append(dict(pcap=r["pcap"], stream=key[1], frame=int(r["frame"]),
                         server=r["type"] == "ssh_server_kexinit", bytes=prefix,
                         kex_end=kex_end, version=version, algos=r["full"], md5=r["md5"]))
    return vecs


def json_vectors(shared):
    vecs = []
    with open(os.path.join(shared, "salesforce-hassh", "hassh_fingerprints.json")) as f:
        for line in f:
            if line.strip():
                vecs.append(json.loads(line))
    return vecs


def spec_vectors(shared):
    vecs = []
    with open(os.path.join(shared, "spec-vectors.tsv"), newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if r["kind"] in ("hassh_md5", "hasshserver_md5"):
                vecs.append(dict(server=r["kind"] == "hasshserver_md5",
                                 algos=r["input"], md5=r["expected"]))
    return vecs


def render(pv, jv, sv):
    o = ["/* Generated by tools/gen-hassh-vectors.py from ../shared/testdata/fingerprints;",
         " * do not edit.  Expected values are the reference data's, not hanipo's. */",
         "#ifndef HASSH_VECTORS_H", "#define HASSH_VECTORS_H", "",
         "#include <stddef.h>", "",
         "struct hassh_pcap_vector {",
         "    const char *pcap; int stream, frame, server;",
         "    const char *bytes; size_t len;   /* stream start through the KEXINIT, plus a trailer */",
         "    size_t kex_end;                  /* offset just past the KEXINIT packet */",
         "    const char *version; size_t version_len;",
         "    const char *algos, *md5;",
         "};", "",
         "struct hassh_json_vector { const char *client, *kex, *enc, *mac, *comp, *algos, *md5; };",
         "struct hassh_spec_vector { int server; const char *algos, *md5; };", "",
         "static const struct hassh_pcap_vector hassh_pcap_vectors[] = {"]
    for v in pv:
        o.append("    { %s, %d, %d, %d,\n      %s, %d, %d,\n      %s, %d,\n      %s,\n      %s }," % (
            c_str(v["pcap"]), v["stream"], v["frame"], int(v["server"]),
            c_bytes(v["bytes"]), len(v["bytes"]), v["kex_end"],
            c_bytes(v["version"]), len(v["version"]), c_str(v["algos"]), c_str(v["md5"])))
    o += ["};", "", "static const struct hassh_json_vector hassh_json_vectors[] = {"]
    for v in jv:
        o.append("    { %s,\n      %s,\n      %s,\n      %s,\n      %s,\n      %s,\n      %s }," % tuple(
            c_str(v[k]) for k in ("clientIdentificationString", "ckex", "ceacts", "cmacts",
                                  "ccacts", "hasshAlgorithms", "hassh")))
    o += ["};", "", "static const struct hassh_spec_vector hassh_spec_vectors[] = {"]
    for v in sv:
        o.append("    { %d, %s,\n      %s }," % (int(v["server"]), c_str(v["algos"]), c_str(v["md5"])))
    o += ["};", "", "#endif", ""]
    return "\n".join(o)


def write_corpus(pv, d):
    """Seeds: control byte + stream start, or + bare payload (no version line)."""
    os.makedirs(d, exist_ok=True)
    seen, n = set(), 0
    ctls = [0, 1, 7, 33, 200]
    for v in pv:
        if v["md5"] in seen:
            continue
        seen.add(v["md5"])
        ctl = ctls[n % len(ctls)]
        name = "%s-%d-%s" % (v["pcap"].split(".")[0], v["stream"], "server" if v["server"] else "client")
        with open(os.path.join(d, name), "wb") as f:
            f.write(bytes([ctl]) + v["bytes"])
        if n < 4:
            b = v["bytes"]
            start = b.index(b"\n", b.index(v["version"])) + 1
            plen = int.from_bytes(b[start:start + 4], "big")
            pad = b[start + 4]
            with open(os.path.join(d, name + "-payload"), "wb") as f:
                f.write(bytes([0]) + b[start + 5:start + 4 + plen - pad])
        n += 1
    seeds = {"prebanner": b"\x05Hello\r\nplease wait\n\nSSH-2.0-x\r\n\x00\x00\x00\x0c\x0a\x14",
             "ssh1": b"\x00SSH-1.5-1.2.27\n\x00\x00\x01\x08\x00",
             "longline": b"\x03SSH-2.0-" + b"v" * 300 + b"\r\n"}
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    return len(os.listdir(d))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(repo, "..", "shared", "testdata", "fingerprints"))
    ap.add_argument("-o", "--output", default=os.path.join(repo, "tests", "unit", "hassh_vectors.h"))
    ap.add_argument("--corpus", help="also write fuzz seeds into this directory")
    a = ap.parse_args()
    pv, jv, sv = pcap_vectors(a.shared), json_vectors(a.shared), spec_vectors(a.shared)
    text = render(pv, jv, sv)
    if len(text) > SIZE_LIMIT:
        sys.exit("generated header is %d bytes, over %d" % (len(text), SIZE_LIMIT))
    with open(a.output, "w") as f:
        f.write(text)
    print("%s: %d capture, %d salesforce, %d spec vectors, %d bytes"
          % (a.output, len(pv), len(jv), len(sv), len(text)))
    if a.corpus:
        print("%s: %d seeds" % (a.corpus, write_corpus(pv, a.corpus)))


if __name__ == "__main__":
    main()
