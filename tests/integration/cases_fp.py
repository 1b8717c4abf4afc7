"""
cases_fp.py - `hanipo fingerprint FILE` (JA3 / JA4 / JA3S / HASSH / HASSHServer), run by run.py.

Expected values never come from hanipo:
  * the FoxIO ja4 captures in ../shared/testdata/fingerprints/foxio-ja4/ against tshark 4.4.18's
    reference table (JA3, JA3 string, JA3S, JA4, HASSH, HASSHServer per stream) and against FoxIO's
    own Python expected output (JA4 of each stream's first ClientHello, hassh, hassh_server);
  * live captures made here: `tshark -i lo` records curl, openssl s_client (TLS 1.2 / 1.3, ALPN,
    SNI, cipher lists), Python's ssl module and headless chromium talking to `openssl s_server`,
    and hanipo's JA3 must equal tshark's tls.handshake.ja3 for every ClientHello.  tshark 4.0 has
    no JA4, so live JA4s are checked for the parts the client options fix (version, SNI, ALPN).
Clients that are not installed are skipped.
"""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

from harness import HANIPO_BIN, Service, Skip, T, by, can_connect, free_port, wait_for

ALL = []

def _testdata():
    """The shared fingerprint vectors: $HANIPO_SHARED, ../shared beside the checkout, or /work/shared."""
    here = os.path.dirname(os.path.abspath(__file__))
    for base in (os.environ.get("HANIPO_SHARED"), os.path.join(here, "..", "..", "..", "shared"), "/work/shared"):
        if base and os.path.isdir(os.path.join(base, "testdata", "fingerprints")):
            return os.path.normpath(os.path.join(base, "testdata", "fingerprints"))
    return os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "testdata", "fingerprints"))


TESTDATA = _testdata()
FOXIO = os.path.join(TESTDATA, "foxio-ja4")
# Captures hanipo cannot read (none: GRE, Geneve, HTTP CONNECT and SOCKS are unwrapped).
TUNNELLED = set()
JA4_RE = re.compile(r"^t(13|12|11|10|s3|00)[di]\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$")


def case(fn):
    ALL.append((fn.__name__, fn))
    return fn


def need_testdata():
    if not os.path.isdir(FOXIO):
        raise Skip("no %s" % FOXIO)


def capture_tmp(ctx, prefix):
    """What a live-capture case needs: tshark, root (to capture on lo) and a scratch directory
    removed afterwards, whose path it returns."""
    if not shutil.which("tshark"):
        raise Skip("tshark is not installed")
    if os.geteuid() != 0:
        raise Skip("capturing on lo needs root")
    tmp = tempfile.mkdtemp(prefix=prefix)
    ctx.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    return tmp


def fingerprint(path):
    """Run hanipo fingerprint; {(client_port, server_port): record} (a UDP flow's key ends in "udp")."""
    p = subprocess.run([HANIPO_BIN, "fingerprint", path], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "hanipo fingerprint %s: rc %d, stderr %s" % (path, p.returncode, p.stderr)
    out = {}
    for line in p.stdout.splitlines():
        j = json.loads(line)
        key = (int(j["src"].rsplit(":", 1)[1]), int(j["dst"].rsplit(":", 1)[1]))
        if j.get("transport"):
            key += ("udp",)
        assert key not in out, "two records for %s in %s" % (key, path)
        out[key] = j
    return out


def reference_rows(tcp=True):
    """tshark-4.4.18-reference.tsv as dicts: the TCP rows, or (tcp=False) the QUIC ones."""
    rows = []
    with open(os.path.join(FOXIO, "tshark-4.4.18-reference.tsv")) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(head, line.rstrip("\n").split("\t")))
            if (r["tcp_stream"] != "-") == tcp:
                rows.append(r)
    return rows


@case
def fp_public_pcaps_match_tshark(ctx):
    """Every TCP ClientHello / ServerHello / KEXINIT of the FoxIO captures (first per stream) gives
    tshark 4.4.18's JA3, JA3 string, JA4, JA3S, HASSH, HASSH string and HASSHServer, and the
    ClientHello sent again after a HelloRetryRequest its JA3 and JA4 (ja3_retry, ja4_retry)."""
    need_testdata()
    by_pcap = {}
    for r in reference_rows():
        by_pcap.setdefault(r["pcap"], []).append(r)
    checked, bad, retries = 0, [], 0
    for pcap in sorted(by_pcap):
        if pcap in TUNNELLED:
            continue
        got = fingerprint(os.path.join(FOXIO, "pcap", pcap))
        seen = set()
        for r in by_pcap[pcap]:
            typ = r["type"]
            second = (r["tcp_stream"], typ) in seen     # after a HelloRetryRequest
            seen.add((r["tcp_stream"], typ))
            if second and typ != "tls_client_hello":
                continue                                # the retried ServerHello: only the first's JA3S
            sp, dp = int(r["src_port"]), int(r["dst_port"])
            key = (sp, dp) if typ in ("tls_client_hello", "ssh_client_kexinit") else (dp, sp)
            fields = {"tls_client_hello": [("ja3", "md5"), ("ja3_string", "full"), ("ja4", "ja4")],
                      "tls_server_hello": [("ja3s", "md5"), ("ja3s_string", "full")],
                      "ssh_client_kexinit": [("hassh", "md5"), ("hassh_string", "full")],
                      "ssh_server_kexinit": [("hasshServer", "md5")]}[typ]
            if second:
                retries += 1
                fields = [("ja3_retry", "md5"), ("ja3_retry_string", "full"), ("ja4_retry", "ja4")]
            for ours, theirs in fields:
                checked += 1
                if got.get(key, {}).get(ours) != r[theirs]:
                    bad.append("%s stream %s %s: want %s, got %s" % (
                        pcap, r["tcp_stream"], ours, r[theirs][:50], str(got.get(key, {}).get(ours))[:50]))
    ctx.note("%d values from %d captures compared with tshark 4.4.18 (%d hellos after a HelloRetryRequest)" % (
        checked, len(by_pcap) - len(TUNNELLED), retries))
    assert not bad, "%d mismatches:\n  %s" % (len(bad), "\n  ".join(bad[:20]))
    assert checked > 600 and retries >= 5


@case
def fp_public_quic_and_dtls_pcaps(ctx):
    """The QUIC captures' ClientHellos (decrypted from their Initial packets, CRYPTO frames split and
    shuffled across packets) give tshark 4.4.18's JA3, JA3 string and JA4 ("q13...") and their
    ServerHellos its JA3S; the DTLS capture gives the JA4 the shared README quotes from tshark 4.4.18
    and the JA3 / JA3S this machine's tshark computes."""
    need_testdata()
    by_pcap = {}
    for r in reference_rows(tcp=False):
        by_pcap.setdefault(r["pcap"], []).append(r)
    checked, bad = 0, []
    for pcap in sorted(by_pcap):
        got = [j for k, j in fingerprint(os.path.join(FOXIO, "pcap", pcap)).items() if k[-1] == "udp"]
        want_ch = sorted((r["md5"], r["full"], r["ja4"]) for r in by_pcap[pcap] if r["type"] == "tls_client_hello")
        want_sh = sorted((r["md5"], r["full"]) for r in by_pcap[pcap] if r["type"] == "tls_server_hello")
        have_ch = sorted((j.get("ja3"), j.get("ja3_string"), j.get("ja4")) for j in got if j.get("ja3"))
        have_sh = sorted((j.get("ja3s"), j.get("ja3s_string")) for j in got if j.get("ja3s"))
        checked += len(want_ch) + len(want_sh)
        if have_ch != want_ch or have_sh != want_sh:
            bad.append("%s: client hellos want %s got %s; server hellos want %s got %s" % (
                pcap, want_ch, have_ch, want_sh, have_sh))
        if any(j.get("transport") != "quic" for j in got):
            bad.append("%s: transport %s" % (pcap, [j.get("transport") for j in got]))
    assert checked >= 4, by_pcap
    dtls = os.path.join(FOXIO, "pcap", "dtls-udp.notest.cap")
    got = [j for k, j in fingerprint(dtls).items() if k[-1] == "udp"]
    assert len(got) == 1 and got[0]["transport"] == "dtls", got
    if got[0].get("ja4") != "dd1i440200_49bcda3e7ebf_18d1e47e0978":
        bad.append("dtls ja4 %s" % got[0].get("ja4"))
    if shutil.which("tshark"):
        for typ, fields in ((1, ("ja3", "ja3_string")), (2, ("ja3s", "ja3s_string"))):
            p = subprocess.run(["tshark", "-r", dtls, "-Y", "dtls.handshake.type == %d" % typ, "-T", "fields",
                                "-e", "dtls.handshake." + fields[0], "-e", "dtls.handshake.%s_full" % fields[0]],
                               capture_output=True, text=True, timeout=60)
            ref = p.stdout.splitlines()[0].split("\t")
            checked += 1
            if [got[0].get(fields[0]), got[0].get(fields[1])] != ref:
                bad.append("dtls %s: want %s, got %s" % (fields[0], ref, [got[0].get(f) for f in fields]))
    ctx.note("%d QUIC / DTLS hellos compared with tshark" % (checked + 1))
    assert not bad, "\n  ".join(bad)


@case
def fp_public_pcaps_match_foxio_python(ctx):
    """JA4 of the first ClientHello and hassh / hassh_server of each stream equal FoxIO's Python
    expected output (except the documented non-ASCII ALPN case, where JA4.md's current rule and
    tshark give 'bd')."""
    need_testdata()
    exp_dir = os.path.join(FOXIO, "expected-python")
    checked, bad = 0, []
    for name in sorted(os.listdir(exp_dir)):
        pcap = name[:-len(".json")]
        if pcap in TUNNELLED:
            continue
        with open(os.path.join(exp_dir, name)) as f:
            expected = json.load(f)
        got = fingerprint(os.path.join(FOXIO, "pcap", pcap))
        for e in expected:
            if "srcport" not in e or "dstport" not in e:
                continue
            rec = got.get((int(e["srcport"]), int(e["dstport"])), {})
            want = []
            if "JA4.1" in e:
                ja4 = e["JA4.1"]
                if pcap == "tls-non-ascii-alpn.pcapng":
                    ja4 = "t13d1516bd_8daaf6152771_e5627efa2ab1"
                want.append(("ja4", ja4))
            ssh = e.get("ssh_extras") or {}
            if ssh.get("hassh"):
                want.append(("hassh", ssh["hassh"]))
            if ssh.get("hassh_server"):
                want.append(("hasshServer", ssh["hassh_server"]))
            for k, v in want:
                checked += 1
                if rec.get(k) != v:
                    bad.append("%s %s:%s %s: want %s, got %s" % (pcap, e["srcport"], e["dstport"], k, v, rec.get(k)))
    ctx.note("%d JA4 / HASSH values compared with FoxIO's expected output" % checked)
    assert not bad, "%d mismatches:\n  %s" % (len(bad), "\n  ".join(bad[:20]))
    assert checked > 150


@case
def fp_cli_errors(ctx):
    """No file: usage (64).  A missing or non-capture file: 1 and a message.  An empty capture: nothing."""
    p = subprocess.run([HANIPO_BIN, "fingerprint"], capture_output=True, text=True)
    assert p.returncode == 64 and "usage" in p.stderr
    p = subprocess.run([HANIPO_BIN, "fingerprint", "/nonexistent.pcap"], capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        f.write(b"this is not a capture file at all\n" * 10)
        f.flush()
        p = subprocess.run([HANIPO_BIN, "fingerprint", f.name], capture_output=True, text=True)
        assert p.returncode == 1 and p.stderr
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        # a pcap global header (LINKTYPE_ETHERNET) and no packets
        f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
        f.flush()
        p = subprocess.run([HANIPO_BIN, "fingerprint", f.name], capture_output=True, text=True)
        assert p.returncode == 0 and p.stdout == "", (p.returncode, p.stdout, p.stderr)


# ---- live captures -------------------------------------------------------------------------

class TlsServer:
    """openssl s_server -www on a free loopback port, with a throw-away certificate."""

    def __init__(self, tmp):
        if not shutil.which("openssl"):
            raise Skip("openssl is not installed")
        self.port = free_port()
        key, crt = os.path.join(tmp, "key.pem"), os.path.join(tmp, "crt.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", key, "-out", crt, "-subj", "/CN=localhost", "-days", "2"],
                       check=True, capture_output=True, timeout=30)
        self.proc = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % self.port, "-www",
                                      "-key", key, "-cert", crt, "-alpn", "http/1.1", "-quiet"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for(lambda: can_connect(self.port), 10, what="s_server listening")

    def close(self):
        self.proc.kill()
        self.proc.wait()




class LoCapture:
    """tshark -i lo -w FILE -f 'tcp port P' (or udp) around one client run."""

    def __init__(self, path, port, transport="tcp"):
        self.path = path
        self.err = open(path + ".err", "w+")
        self.proc = subprocess.Popen(["tshark", "-i", "lo", "-w", path, "-f", "%s port %d" % (transport, port)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.err)
        wait_for(lambda: "Capturing on" in open(path + ".err").read(), 20, what="tshark capturing")
        time.sleep(1.0)                                 # the message comes a little before the filter is live

    def stop(self):
        time.sleep(0.3)                                 # let the last packets reach the file
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


def tshark_ja3(path, port):
    """{client_port: (ja3, ja3_full)} for the first ClientHello of each flow, from tshark.  The server
    port is decoded as TLS by name: left to its port table, tshark may take the client's ephemeral
    port for another protocol's (48898 is ADS/AMS) and never see the ClientHello."""
    p = subprocess.run(["tshark", "-r", path, "-d", "tcp.port==%d,tls" % port, "-Y", "tls.handshake.type == 1", "-T", "fields",
                        "-e", "tcp.srcport", "-e", "tls.handshake.ja3", "-e", "tls.handshake.ja3_full"],
                       capture_output=True, text=True, timeout=60)
    out = {}
    for line in p.stdout.splitlines():
        f = line.split("\t")
        if len(f) == 3 and f[1] and int(f[0]) not in out:
            out[int(f[0])] = (f[1], f[2])
    return out


def _python_client(port, sni, alpn, maxver):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    if maxver:
        c.maximum_version = maxver
    if alpn:
        c.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with c.wrap_socket(s, server_hostname=sni) as t:
            t.sendall(b"GET / HTTP/1.0\r\n\r\n")
            t.recv(100)


GO_HTTPS_GET = """package main

import (
	"net/http"
	"os"
)

func main() {
	if r, err := http.Get(os.Args[1]); err == nil {
		r.Body.Close()
	}
}
"""


def _go_https_get(url, tmp):
    """Go's net/http default client (Go-http-client, the commonest bot), built offline; the
    certificate check fails after the ClientHello, which is all that is measured."""
    src, exe = os.path.join(tmp, "gohttps.go"), os.path.join(tmp, "gohttps")
    if not os.path.exists(exe):
        with open(src, "w") as f:
            f.write(GO_HTTPS_GET)
        env = dict(os.environ, GO111MODULE="off", GOCACHE=os.path.join(tmp, "gocache"), HOME=tmp)
        r = subprocess.run(["go", "build", "-o", exe, src], env=env, capture_output=True, timeout=240)
        assert r.returncode == 0, r.stderr.decode()[-800:]
    subprocess.run([exe, url], capture_output=True, timeout=30)


def live_clients(port, tmp):
    """(name, run) pairs plus the JA4 prefix (version, SNI flag) and ALPN chars each must give."""
    url = "https://127.0.0.1:%d/" % port
    sc = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port]
    cl = [
        ("curl", ["curl", "-sk", "-m", "10", "-o", "/dev/null", url], "t13i", "h2"),
        ("curl-http1.1-tls1.2", ["curl", "-sk", "-m", "10", "--http1.1", "--tlsv1.2", "--tls-max", "1.2", "-o", "/dev/null", url],
         "t12i", "h1"),
        ("s_client-tls1_2", sc + ["-tls1_2"], "t12i", "00"),
        ("s_client-tls1_3", sc + ["-tls1_3"], "t13i", "00"),
        ("s_client-alpn-h2-sni", sc + ["-alpn", "h2,http/1.1", "-servername", "x.example"], "t13d", "h2"),
        ("s_client-cipher-list", sc + ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256:AES128-SHA",
                                       "-servername", "y.example"], "t12d", "00"),
        ("python-ssl", lambda: _python_client(port, "py.example", ["http/1.1"], None), "t13d", "h1"),
        ("python-ssl-tls1.2", lambda: _python_client(port, None, None, ssl.TLSVersion.TLSv1_2), "t12i", "00"),
    ]
    requests_get = "import requests, urllib3; urllib3.disable_warnings(); requests.get(%r, verify=False, timeout=5)" % url
    cl += [
        ("wget", ["wget", "-q", "-T", "10", "-t", "1", "--no-check-certificate", "-O", "/dev/null", url], "t13i", "00"),
        ("python-requests", ["/usr/bin/python3", "-c", requests_get], "t13i", "h1"),
        # '+' runs the script whatever the port; it sends a TLS 1.3 hello and, after the
        # server's answer, may retry with TLS 1.2
        ("nmap-ssl-cert", ["nmap", "-Pn", "-n", "-p", str(port), "--script", "+ssl-cert", "127.0.0.1"], "t1", "00"),
    ]
    if shutil.which("go"):
        cl.append(("go-net-http", lambda: _go_https_get(url, tmp), "t13i", "h2"))
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        cl.append(("chromium", [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--ignore-certificate-errors",
                                "--user-data-dir=" + os.path.join(tmp, "chromium"), "--dump-dom", url],
                   "t13i", "h2"))
    return cl


def _run_client(run):
    if callable(run):
        run()
        return
    if not shutil.which(run[0]):
        raise Skip("%s is not installed" % run[0])
    subprocess.run(run, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=30)


@case
def fp_live_clients_match_tshark(ctx):
    """curl, openssl s_client, Python ssl and requests, wget, nmap, Go's net/http and headless chromium
    against openssl s_server, each captured with tshark on lo: hanipo's JA3 and JA3 string equal
    tshark's for every ClientHello, every flow has a JA3S, the JA4's version / SNI / ALPN parts are
    what the client was told to send, and data/fingerprints/ja4.tsv names the clients it lists."""
    tmp = capture_tmp(ctx, "hanipo-fp-")
    srv = TlsServer(tmp)
    ctx.defer(srv.close)
    # the names data/fingerprints/ja4.tsv gives these clients' JA4s (the others are not listed)
    names = {"curl": "curl 7.88.1", "curl-http1.1-tls1.2": "curl 7.88.1",
             "python-ssl": "Python 3.11 ssl", "wget": "Wget 1.21.3", "python-requests": "python-requests 2.28",
             "nmap-ssl-cert": "Nmap 7.93 ssl-cert", "go-net-http": "Go 1.19 net/http"}
    ran, skipped, bad = [], [], []
    for name, run, ja4a, alpn in live_clients(srv.port, tmp):
        path = os.path.join(tmp, name + ".pcapng")
        cap = LoCapture(path, srv.port)
        try:
            _run_client(run)
        except Skip as e:
            skipped.append(str(e))
            continue
        finally:
            cap.stop()
        ref = tshark_ja3(path, srv.port)
        got = {k[0]: v for k, v in fingerprint(path).items() if k[1] == srv.port}
        if not ref:
            bad.append("%s: tshark saw no ClientHello (%s)" % (name, subprocess.run(["tshark", "-r", path], capture_output=True, text=True).stdout[-300:]))
            continue
        for cport, (ja3, full) in ref.items():
            g = got.get(cport, {})
            if (g.get("ja3"), g.get("ja3_string")) != (ja3, full):
                bad.append("%s port %d: ja3 want %s %s, got %s %s" % (name, cport, ja3, full, g.get("ja3"),
                                                                       g.get("ja3_string")))
            ja4 = g.get("ja4", "")
            if not JA4_RE.match(ja4) or not ja4.startswith(ja4a) or ja4[8:10] != alpn:
                bad.append("%s port %d: ja4 %r, want %s....%s" % (name, cport, ja4, ja4a, alpn))
            if not g.get("ja3s"):
                bad.append("%s port %d: no ja3s" % (name, cport))
            if name in names and not (g.get("client") or "").startswith(names[name]):
                bad.append("%s port %d: ja4 %s is named %r, want %r (data/fingerprints/ja4.tsv)" % (
                    name, cport, ja4, g.get("client"), names[name]))
        ran.append("%s %s" % (name, sorted({got.get(p, {}).get("ja4") for p in ref})))
    ctx.note("clients (JA4s): " + "; ".join(ran))
    if skipped:
        ctx.note("skipped: " + "; ".join(skipped))
    assert not bad, "\n  ".join(bad)
    assert len(ran) >= 6, ran


# ---- QUIC (the quic service, live) -----------------------------------------------------------

def _tshark_quic_hellos(path, port):
    """{client_port: [ja3, ja3_full, sni, initials]} from tshark (which decrypts QUIC Initials):
    the first ClientHello of each client port, and how many Initial packets that port sent."""
    out = {}
    p = subprocess.run(["tshark", "-r", path, "-d", "udp.port==%d,quic" % port, "-Y", "tls.handshake.type == 1",
                        "-T", "fields", "-e", "udp.srcport", "-e", "tls.handshake.ja3", "-e", "tls.handshake.ja3_full",
                        "-e", "tls.handshake.extensions_server_name"], capture_output=True, text=True, timeout=60)
    for line in p.stdout.splitlines():
        f = line.split("\t")
        if len(f) == 4 and f[1] and int(f[0]) not in out:
            out[int(f[0])] = [f[1], f[2], f[3], 0]
    p = subprocess.run(["tshark", "-r", path, "-d", "udp.port==%d,quic" % port, "-Y",
                        "udp.dstport == %d && quic.long.packet_type == 0" % port, "-T", "fields", "-e", "udp.srcport"],
                       capture_output=True, text=True, timeout=60)
    for line in p.stdout.splitlines():
        if line.strip() and int(line) in out:
            out[int(line)][3] += 1
    return out


@case
def fp_quic_clients_fingerprinted_live(ctx):
    """ngtcp2's gtlsclient and headless chromium (QUIC forced on) talk HTTP/3 to the quic service,
    captured with tshark on lo.  Each client's ClientHello, decrypted from its Initial packets, is one
    tls.client_hello (protocol quic, transport udp) however often the client retransmits it, with
    tshark's JA3, JA3 string and SNI, a JA4 "q13d....h3" named by data/fingerprints/ja4.tsv and
    quic_version 0x00000001; and
    `hanipo fingerprint` on the capture gives the same JA3 and JA4."""
    tmp = capture_tmp(ctx, "hanipo-quic-")
    if not shutil.which("gtlsclient"):
        raise Skip("gtlsclient (ngtcp2-client) is not installed")
    d = ctx.daemon("quic", [Service("q", protocol="quic", tcp=0, udp=1)]).start()
    port = d.svc("q").uport
    # gtlsclient names "localhost" when given an address
    clients = [("gtlsclient", ["gtlsclient", "-q", "--handshake-timeout=3s",
                               "127.0.0.1", str(port), "https://ngtcp2.example/"], "localhost")]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        clients.append(("chromium", [chromium, "--headless", "--disable-gpu", "--no-sandbox",
                                     "--user-data-dir=" + os.path.join(tmp, "chromium"), "--enable-quic",
                                     "--origin-to-force-quic-on=h3.example:443",
                                     "--host-resolver-rules=MAP h3.example 127.0.0.1:%d" % port,
                                     "--dump-dom", "https://h3.example/"], "h3.example"))
    path = os.path.join(tmp, "quic.pcapng")
    cap = LoCapture(path, port, transport="udp")
    try:
        for name, argv, sni in clients:
            subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=T(40))
    finally:
        cap.stop()
    d.wait_event(lambda e: e["eventid"] == "tls.client_hello", count=len(clients), what="one hello per client")
    ref = _tshark_quic_hellos(path, port)
    offline = {k[0]: j for k, j in fingerprint(path).items() if k[1] == port}
    hellos = by(d.events(), "tls.client_hello")
    assert len(ref) == len(clients), ("tshark saw", ref)
    assert max(r[3] for r in ref.values()) >= 2, ("no client retransmitted its Initial", ref)
    bad = []
    for cport, (ja3, full, sni, initials) in ref.items():
        mine = [e for e in hellos if e["src_port"] == cport]
        if len(mine) != 1:
            bad.append("port %d (%d Initials): %d tls.client_hello events" % (cport, initials, len(mine)))
            continue
        e = mine[0]
        if (e["ja3"], e["ja3_string"], e.get("sni")) != (ja3, full, sni):
            bad.append("port %d: want %s %s %s, got %s %s %s" % (cport, ja3, full, sni, e["ja3"], e["ja3_string"],
                                                                 e.get("sni")))
        if not (e["ja4"].startswith("q13d") and e["ja4"][8:10] == "h3" and JA4_RE.match("t" + e["ja4"][1:])):
            bad.append("port %d: ja4 %s" % (cport, e["ja4"]))
        if (e["protocol"], e["transport"], e["quic_version"], e.get("alpn", "").split(",")[0]) != \
                ("quic", "udp", "0x00000001", "h3"):
            bad.append("port %d: %s" % (cport, e))
        named = {"localhost": "ngtcp2 0.12 gtlsclient", "h3.example": "Chromium "}.get(sni, "?")
        if not e["client"].startswith(named):
            bad.append("port %d: ja4 %s named %r, want %r (data/fingerprints/ja4.tsv)" % (cport, e["ja4"], e["client"], named))
        o = offline.get(cport, {})
        if (o.get("ja3"), o.get("ja4"), o.get("transport")) != (e["ja3"], e["ja4"], "quic"):
            bad.append("port %d: hanipo fingerprint %s" % (cport, o))
    assert {r[2] for r in ref.values()} == {c[2] for c in clients}, ref
    ctx.note("JA4s: " + ", ".join(sorted(e["ja4"] for e in hellos)))
    assert not bad, "\n  ".join(bad)


@case
def quic_version_negotiation_and_other_datagrams(ctx):
    """A long-header packet of a version the service does not read gets a Version Negotiation
    naming QUIC v1 and v2, with the client's connection IDs swapped (gtlsclient, told to offer a
    reserved version, parses it as VN) - but only for a datagram of 1200 bytes or more, and never
    larger than it.  Every such datagram and anything that is not QUIC is a quic.packet event."""
    if not shutil.which("gtlsclient"):
        raise Skip("gtlsclient (ngtcp2-client) is not installed")
    d = ctx.daemon("quicvn", [Service("q", protocol="quic", tcp=0, udp=1)]).start()
    port = d.svc("q").uport
    p = subprocess.run(["gtlsclient", "-v", "0x1a2a3a4a", "--handshake-timeout=2s", "127.0.0.1", str(port),
                        "https://127.0.0.1/"], capture_output=True, text=True, timeout=T(20))
    assert re.search(r"pkt rx .*version=0x00000000 type=VN", p.stdout + p.stderr), (p.stdout + p.stderr)[-1500:]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ctx.defer(u.close)
    u.settimeout(T(2))
    dcid, scid = bytes.fromhex("0102030405060708"), bytes.fromhex("a1a2a3a4")
    probe = bytes([0xc3]) + bytes.fromhex("babababa") + bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid
    u.sendto(probe + b"\0" * (1200 - len(probe)), ("127.0.0.1", port))
    vn = u.recv(2048)
    assert vn[0] & 0x80 and vn[1:5] == b"\0\0\0\0", vn.hex()
    assert vn[5] == len(scid) and vn[6:6 + len(scid)] == scid, vn.hex()
    rest = vn[6 + len(scid):]
    assert rest[0] == len(dcid) and rest[1:1 + len(dcid)] == dcid, vn.hex()
    versions = {rest[i:i + 4].hex() for i in range(1 + len(dcid), len(rest), 4)}
    assert versions == {"00000001", "6b3343cf"} and len(vn) < 1200, vn.hex()
    u.sendto(probe + b"\0" * 100, ("127.0.0.1", port))          # too short to be answered
    u.sendto(b"GET / HTTP/1.0\r\n\r\n", ("127.0.0.1", port))
    try:
        extra = u.recv(2048)
        raise AssertionError("answered a short or non-QUIC datagram: %s" % extra.hex())
    except socket.timeout:
        pass
    d.wait_event(lambda e: e["eventid"] == "quic.packet", count=4, what="quic.packet events")
    pk = by(d.events(), "quic.packet")
    kinds = sorted(e["kind"] for e in pk)
    assert kinds.count("unknown_version") >= 3 and "short_header" in kinds, kinds
    mine = [e for e in pk if e.get("quic_version") == "0xbabababa"]
    assert sorted(e["size"] for e in mine) == [len(probe) + 100, 1200], mine
    assert all(e["dcid"] == dcid.hex() and e["scid"] == scid.hex() for e in mine), mine
    junk = [e for e in pk if e["kind"] == "short_header"][0]
    assert junk["preview_hex"] == b"GET / HTTP/1.0\r\n\r\n".hex(), junk
    assert not by(d.events(), "tls.client_hello")


@case
def quic_client_on_a_trap_port(ctx):
    """QUIC on any UDP port: gtlsclient against a trap's UDP port gives trap.payload events guessed
    "quic" and one tls.client_hello (protocol trap) with the JA4 the quic service gives it."""
    if not shutil.which("gtlsclient"):
        raise Skip("gtlsclient (ngtcp2-client) is not installed")
    d = ctx.daemon("quictrap", [Service("trap", tcp=0, udp=1)]).start()
    port = d.svc("trap").uport
    subprocess.run(["gtlsclient", "-q", "--handshake-timeout=3s", "127.0.0.1", str(port), "https://x/"],
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=T(20))
    d.wait_event(lambda e: e["eventid"] == "tls.client_hello", what="tls.client_hello from the trap")
    evs = d.events()
    hellos = by(evs, "tls.client_hello")
    assert len(hellos) == 1, hellos
    h = hellos[0]
    assert (h["protocol"], h["transport"], h["quic_version"], h["sni"]) == ("trap", "udp", "0x00000001", "localhost"), h
    assert h["ja4"].startswith("q13d") and h["ja4"][8:10] == "h3" and h["client"].startswith("ngtcp2"), h
    pay = [e for e in by(evs, "trap.payload") if e["src_port"] == h["src_port"]]
    assert len(pay) >= 2 and all(e["proto_guess"] == "quic" and e["guess_confidence"] >= 95 for e in pay), pay


# ---- SSH -----------------------------------------------------------------------------------

FAKE_KEX = ["curve25519-sha256,diffie-hellman-group14-sha256", "ssh-ed25519",
            "aes128-ctr,aes256-ctr", "aes128-ctr,aes256-gcm@openssh.com",
            "hmac-sha2-256", "hmac-sha2-512,hmac-sha2-256", "none", "none,zlib@openssh.com", "", ""]
GO_SSH_CLIENT = """package main

import (
	"os"
	"time"

	"golang.org/x/crypto/ssh"
)

func main() {
	cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.Password("x")},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second}
	if c, err := ssh.Dial("tcp", os.Args[1], cfg); err == nil {
		c.Close()
	}
}
"""
# HASSHServer of that KEXINIT by the salesforce definition: kex;enc_s2c;mac_s2c;comp_s2c
FAKE_HASSH_SERVER = __import__("hashlib").md5(";".join(FAKE_KEX[i] for i in (0, 3, 5, 7)).encode()).hexdigest()


def _kexinit_packet():
    """An unencrypted SSH packet holding a server KEXINIT (RFC 4253 7.1)."""
    lists = FAKE_KEX
    payload = bytes([20]) + os.urandom(16)
    for s in lists:
        payload += len(s).to_bytes(4, "big") + s.encode()
    payload += b"\0" + b"\0\0\0\0"
    pad = 8 - (len(payload) + 5) % 8
    pad += 8 if pad < 4 else 0
    return (len(payload) + pad + 1).to_bytes(4, "big") + bytes([pad]) + payload + b"\0" * pad


class FakeSshServer:
    """Sends an identification line and a KEXINIT, reads the client's up to its KEXINIT, then hangs up."""

    def __init__(self):
        import threading
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.port = free_port()
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(4)
        self.sock.settimeout(0.5)
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            try:
                c.settimeout(3)
                c.sendall(b"SSH-2.0-OpenSSH_9.9 fake\r\n" + _kexinit_packet())
                deadline, got = time.monotonic() + 3, b""
                while time.monotonic() < deadline:
                    d = c.recv(4096)
                    if not d:
                        break
                    got += d
                    # hang up once the client's KEXINIT packet is whole (after its banner line):
                    # clients waiting for the key exchange to go on need not wait 3 s each
                    rest = got.split(b"\r\n", 1)[1] if b"\r\n" in got else b""
                    if len(rest) >= 4 and len(rest) >= 4 + int.from_bytes(rest[:4], "big"):
                        time.sleep(0.1)
                        break
            except OSError:
                pass
            finally:
                c.close()

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def tshark_hassh(path, port):
    """(hassh, hassh_algorithms, hasshserver) as tshark 4.0 computes them (first of each)."""
    p = subprocess.run(["tshark", "-r", path, "-d", "tcp.port==%d,ssh" % port, "-Y", "ssh.message_code == 20", "-T", "fields",
                        "-e", "ssh.kex.hassh", "-e", "ssh.kex.hassh_algorithms", "-e", "ssh.kex.hasshserver"],
                       capture_output=True, text=True, timeout=60)
    hassh = algos = server = None
    for line in p.stdout.splitlines():
        f = (line.split("\t") + ["", "", ""])[:3]
        if f[0] and not hassh:
            hassh, algos = f[0], f[1]
        if f[2] and not server:
            server = f[2]
    return hassh, algos, server


@case
def fp_live_ssh_clients_match_tshark(ctx):
    """Debian's SSH clients (OpenSSH, paramiko, AsyncSSH, PuTTY's plink, Dropbear's dbclient, curl's
    libssh2, hydra's libssh, nmap's ssh2-enum-algos) against a fake server that sends a KEXINIT:
    hanipo's HASSH and HASSH string equal tshark's, its HASSHServer the MD5 of the lists the server
    sent, and each client gets its name from data/fingerprints/hassh.tsv."""
    tmp = capture_tmp(ctx, "hanipo-fpssh-")
    srv = FakeSshServer()
    ctx.defer(srv.close)

    def paramiko_client():
        try:
            import paramiko
        except ImportError:
            raise Skip("python3-paramiko is not installed")
        t = paramiko.Transport(("127.0.0.1", srv.port))
        try:
            t.start_client(timeout=3)
        except Exception:
            pass
        finally:
            t.close()

    def asyncssh_client():
        try:
            import asyncio
            import asyncssh
        except ImportError:
            raise Skip("python3-asyncssh is not installed")

        async def go():
            try:
                await asyncio.wait_for(asyncssh.connect("127.0.0.1", srv.port, username="nobody", password="x",
                                                        known_hosts=None), 5)
            except Exception:
                pass
        asyncio.run(go())

    def go_client():
        # Go's x/crypto/ssh, the library most SSH bots are written with: Debian's source
        # (golang-golang-x-crypto-dev) built in GOPATH mode, offline
        if not shutil.which("go") or not os.path.isdir("/usr/share/gocode/src/golang.org/x/crypto/ssh"):
            raise Skip("golang-go / golang-golang-x-crypto-dev are not installed")
        src = os.path.join(tmp, "gossh.go")
        with open(src, "w") as f:
            f.write(GO_SSH_CLIENT)
        env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOCACHE=os.path.join(tmp, "gocache"),
                   HOME=tmp)
        exe = os.path.join(tmp, "gossh")
        r = subprocess.run(["go", "build", "-o", exe, src], env=env, capture_output=True, timeout=240)
        assert r.returncode == 0, r.stderr.decode()[-800:]
        subprocess.run([exe, "127.0.0.1:%d" % srv.port], capture_output=True, timeout=30)

    port = str(srv.port)
    # (name, how to run it, the name data/fingerprints/hassh.tsv gives its HASSH): the SSH clients
    # Debian 12 ships that bots and scanners are built on, measured and named there.
    clients = [("openssh", ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                            "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5",
                            "-p", port, "nobody@127.0.0.1", "true"], "OpenSSH 9.2p1"),
               ("paramiko", paramiko_client, "paramiko 2.12.0"),
               ("asyncssh", asyncssh_client, "AsyncSSH 2.10.1"),
               ("plink", ["plink", "-ssh", "-batch", "-P", port, "nobody@127.0.0.1", "true"], "PuTTY 0.78"),
               ("dbclient", ["dbclient", "-y", "-y", "-p", port, "nobody@127.0.0.1", "true"], "Dropbear 2022.83"),
               ("curl-sftp", ["curl", "-s", "-k", "--connect-timeout", "5", "-u", "nobody:x",
                              "sftp://127.0.0.1:%s/x" % port], "libssh2 1.10.0"),
               ("hydra", ["hydra", "-l", "root", "-p", "x", "-t", "1", "-s", port, "ssh://127.0.0.1"], "libssh 0.10.6"),
               ("nmap", ["nmap", "-Pn", "-n", "-sV", "--version-intensity", "0", "-p", port,
                         "--script", "ssh2-enum-algos", "127.0.0.1"], "Nmap 7.93 ssh2-enum-algos"),
               ("go-x-crypto-ssh", go_client, "Go x/crypto/ssh 0.4")]
    ran, bad = [], []
    for name, run, want_client in clients:
        path = os.path.join(tmp, name + ".pcapng")
        t0 = time.monotonic()
        cap = LoCapture(path, srv.port)
        try:
            _run_client(run)
        except Skip as e:
            ctx.note("skipped: %s" % e)
            continue
        finally:
            cap.stop()
        hassh, algos, server = tshark_hassh(path, srv.port)
        # flows where the client sent a KEXINIT (nmap's version probe only reads the banner;
        # hydra may connect more than once, each time with the same lists)
        got = [v for k, v in fingerprint(path).items() if k[1] == srv.port and v.get("hassh")]
        if not hassh or not got or any(x.get("hassh") != got[0].get("hassh") for x in got):
            bad.append("%s: tshark %s, hanipo %s" % (name, hassh, got))
            continue
        g = got[0]
        if not (g.get("client") or "").startswith(want_client):
            bad.append("%s: hassh %s is named %r, want %r (data/fingerprints/hassh.tsv)" % (
                name, g.get("hassh"), g.get("client"), want_client))
        # tshark does not always dissect the server KEXINIT that shares a segment with the
        # banner; the value is known anyway (FAKE_HASSH_SERVER), and must agree when tshark has it.
        if server and server != FAKE_HASSH_SERVER:
            bad.append("%s: tshark's HASSHServer %s is not %s" % (name, server, FAKE_HASSH_SERVER))
        server = FAKE_HASSH_SERVER
        if (g.get("hassh"), g.get("hassh_string"), g.get("hasshServer")) != (hassh, algos, server):
            bad.append("%s: want %s %s %s, got %s %s %s" % (name, hassh, algos, server, g.get("hassh"),
                                                            g.get("hassh_string"), g.get("hasshServer")))
        ran.append("%s %s (%s) %.1fs" % (name, g.get("hassh"), g.get("client"), time.monotonic() - t0))
    ctx.note("; ".join(ran))
    assert not bad, "\n  ".join(bad)
    assert len(ran) >= 6, ran


@case
def fp_real_ssh_servers_hasshserver(ctx):
    """Debian's OpenSSH sshd and Dropbear server, each captured with tshark on lo while ssh
    connects: hanipo fingerprint's HASSHServer equals tshark's, and data/fingerprints/hasshserver.tsv
    names the server (a capture of real servers, not only the fake one above)."""
    tmp = capture_tmp(ctx, "hanipo-fpsrv-")
    key = os.path.join(tmp, "rsa")
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", key], check=True,
                   capture_output=True, timeout=60)
    servers = []
    if os.path.exists("/usr/sbin/sshd"):
        os.makedirs("/run/sshd", exist_ok=True)       # sshd will not start without it (empty /run)
        servers.append(("sshd", lambda p: ["/usr/sbin/sshd", "-D", "-f", "/dev/null", "-h", key, "-p", str(p),
                                           "-o", "ListenAddress=127.0.0.1", "-o", "PidFile=none"],
                        "OpenSSH 9.2p1 Debian 12"))
    if shutil.which("dropbear") and shutil.which("dropbearconvert"):
        dkey = os.path.join(tmp, "rsa.dropbear")
        subprocess.run(["dropbearconvert", "openssh", "dropbear", key, dkey], capture_output=True, timeout=60)
        servers.append(("dropbear", lambda p: ["dropbear", "-F", "-E", "-r", dkey, "-p", "127.0.0.1:%d" % p],
                        "Dropbear 2022.83"))
    ran, bad = [], []
    for name, argv, want in servers:
        # tshark's SSH dissector misses a server KEXINIT that shares a segment with the banner
        # (Dropbear sends them together when it is quick); such a capture proves nothing either
        # way, so the connection is made again, up to three times, until tshark has the value.
        for attempt in range(3):
            port = free_port()
            srv = subprocess.Popen(argv(port), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            ctx.defer(srv.kill)
            wait_for(lambda: can_connect(port), 20, what="%s listening" % name)
            path = os.path.join(tmp, "%s-%d.pcapng" % (name, attempt))
            cap = LoCapture(path, port)
            try:
                subprocess.run(["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o",
                                "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-p", str(port),
                                "nobody@127.0.0.1", "true"], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
            finally:
                cap.stop()
                srv.kill()
                srv.wait(10)
            _, _, server = tshark_hassh(path, port)
            if server:
                break
        got = [v for k, v in fingerprint(path).items() if k[1] == port and v.get("hasshServer")]
        if not server or len(got) != 1 or got[0]["hasshServer"] != server:
            bad.append("%s: tshark %s, hanipo %s" % (name, server, got))
            continue
        if not (got[0].get("server") or "").startswith(want):
            bad.append("%s: hasshServer %s is named %r, want %r" % (name, server, got[0].get("server"), want))
        ran.append("%s %s (%s)" % (name, server, got[0].get("server")))
    ctx.note("; ".join(ran))
    assert not bad, "\n  ".join(bad)
    assert len(ran) == 2, ran

