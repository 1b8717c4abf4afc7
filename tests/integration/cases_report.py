"""
cases_report.py - `hanipo report` (issue 7) over a real sensor's SQLite store, run by run.py.

The HTTP exploit corpus is sent to a trap port; after the sensor stops, the
report's JSON is compared with tallies computed here from the JSONL events
(the same events, the other output), the Markdown and CSV are checked for
their table structure, and the HTML page is opened in headless chromium
(when installed): every chart must be in the DOM and a screenshot is saved
in the daemon's directory (kept with HANIPO_KEEP_TMP=1).
"""
import collections
import datetime
import json
import os
import shutil
import subprocess

from harness import HANIPO_BIN, ROOT, T, send_and_close, wait_for
from cases import stop_and_read
from cases_http import load_corpus, requests_of, web_daemon

ALL = []


def case(fn):
    ALL.append((fn.__name__, fn))
    return fn


def report(d, *args):
    r = subprocess.run([HANIPO_BIN, "report", "-c", d.config_path] + list(args), capture_output=True,
                       timeout=T(60))
    assert r.returncode == 0, "report %r: rc %d: %s" % (args, r.returncode, r.stderr[-500:])
    return r.stdout


def ranked(counter, top):
    """Counts ordered as the report orders them: count descending, then value."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


@case
def report_matches_events_in_every_format(ctx):
    """hanipo report's sections agree with the events; Markdown/CSV keep their tables; HTML has its charts."""
    corpus = load_corpus()
    d = web_daemon(ctx, "report")
    port = d.svc("trap").port
    for _, _, raw in corpus:
        send_and_close(port, raw)
    # an exploit the parser refuses (as nginx does) is an http.bad_request, ranked with the requests
    judged = ("http.request", "http.bad_request")
    wait_for(lambda: sum(e["eventid"] in judged for e in d.events()) >= len(corpus), T(20),
             what="every corpus request")
    evs = stop_and_read(d)
    day = evs[0]["timestamp"][:10]
    since = datetime.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
    rng = ["--since", day, "--until", (since + datetime.timedelta(days=2)).strftime("%Y-%m-%d"), "--top", "50"]
    rep = json.loads(report(d, "--json", *rng))
    secs = {s["id"]: s for s in rep["sections"]}
    # the roll-up tables the sensor's writer kept give what the events table gives
    raw = json.loads(report(d, "--json", "--no-rollup", *rng))
    for a, b in zip(rep["sections"], raw["sections"]):
        if a != b:
            diff = [(x, y) for x, y in zip(a["rows"], b["rows"]) if x != y]
            assert a == b, "section %s: first differing rows (roll-ups, events) %r" % (a["id"], diff[:2])
    assert len(rep["sections"]) == len(raw["sections"]) == 23
    problems = []

    def check(sec_id, key, count_key, want):
        got = [(r[key], r[count_key]) for r in secs[sec_id]["rows"]]
        if got != want:
            problems.append("%s: got %r, want %r" % (sec_id, got[:8], want[:8]))

    reqs = requests_of(evs)
    check("eventids", "eventid", "events",
          ranked(collections.Counter(e["eventid"] for e in evs), 1000))
    # a key is cut at 1024 bytes (HP_ROLLUP_KEY_MAX), from the roll-ups and from the events alike
    check("http_paths", "uri", "requests",
          ranked(collections.Counter(e["uri"].encode()[:1024].decode("utf-8", "replace") for e in reqs), 50))
    attacks = [e for e in evs if e["eventid"] in judged]
    assert len(attacks) > len(reqs), "no refused exploit in the corpus: the bad_request ranking is untested"
    check("attack_classes", "class", "attempts",
          ranked(collections.Counter(c for e in attacks for c in e.get("attack_classes", [])), 50))
    check("cves", "cve", "attempts", ranked(collections.Counter(c for e in attacks for c in e.get("cves", [])), 50))
    # each CVE named from data/knowledge/cves.tsv (every CVE of the classifier has a line there)
    tsv = {}
    with open(os.path.join(ROOT, "data/knowledge/cves.tsv")) as f:
        for line in f:
            if line.startswith("CVE-"):
                cve, product, name = line.rstrip("\n").split("\t")[:3]
                tsv.setdefault(cve, "%s: %s" % (product, name))
    for r in secs["cves"]["rows"]:
        if r.get("vulnerability") != tsv.get(r["cve"]):
            problems.append("cves: %s is named %r, cves.tsv says %r" % (r["cve"], r.get("vulnerability"), tsv.get(r["cve"])))
    conns = [e for e in evs if e["eventid"] == "session.connect"]
    check("ports", "port", "connections", ranked(collections.Counter(e["dst_port"] for e in conns), 50))
    creds = [e for e in evs if e["eventid"] == "http.credentials"]
    got = sum(r["count"] for r in secs["http_credentials"]["rows"])
    if got != len(creds):
        problems.append("http_credentials: %d, want %d" % (got, len(creds)))

    # masked: no full 127.0.0.1 anywhere, the /16 kept
    masked = report(d, "--json", "--mask-ips", *rng).decode()
    if "127.0.0.1" in masked or "127.0.x.x" not in masked:
        problems.append("--mask-ips left an address or masked nothing")

    # Markdown: every table row has the heading's number of unescaped pipes
    md = report(d, "--markdown", *rng).decode()
    cols = None
    for line in md.splitlines():
        if not line.startswith("|"):
            cols = None
            continue
        n, i = 0, 0
        while i < len(line):
            if line[i] == "\\":
                i += 2
                continue
            n += line[i] == "|"
            i += 1
        if cols is None:
            cols = n
        elif n != cols:
            problems.append("markdown row with %d pipes, heading %d: %r" % (n, cols, line[:120]))
            break

    # ... and a real CommonMark/GFM renderer (Debian cmark-gfm) turns it into one HTML table per
    # section, every row with the heading's number of cells, no attacker markup surviving as tags
    if shutil.which("cmark-gfm"):
        r = subprocess.run(["cmark-gfm", "-e", "table"], input=md.encode(), capture_output=True, timeout=T(30))
        html = r.stdout.decode()
        tables = md.count("\n| ---") + md.count("\n|---") + (1 if md.startswith("| ---") else 0)
        if html.count("<table>") == 0 or html.count("<table>") != tables:
            problems.append("cmark-gfm rendered %d tables, the markdown has %d" % (html.count("<table>"), tables))
        for t in html.split("<table>")[1:]:
            t = t.split("</table>")[0]
            rows = [row.count("<td") + row.count("<th") for row in t.split("<tr>")[1:]]
            if rows and any(n != rows[0] for n in rows):
                problems.append("cmark-gfm table with ragged rows: %r" % rows[:10])
                break
        if "<script" in html:
            problems.append("a <script> tag survived the markdown")

    # CSV: every block parses with its heading's number of fields
    import csv
    import io
    for block in report(d, "--csv", *rng).decode().split("\r\n\r\n"):
        rows = list(csv.reader(io.StringIO(block)))
        if rows and any(len(r) != len(rows[0]) for r in rows if r):
            problems.append("csv block %s: ragged" % rows[0][:2])

    html_path = os.path.join(d.tmp, "report.html")
    with open(html_path, "wb") as f:
        f.write(report(d, "--html", *rng))
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        prof = os.path.join(d.tmp, "chromium")
        r = subprocess.run([binary, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                            "--user-data-dir=%s" % prof, "--dump-dom", "file://" + html_path],
                           capture_output=True, timeout=T(60))
        dom = r.stdout.decode("utf-8", "replace")
        for chart in ("countries", "ports", "daily", "credentials"):
            if 'id="chart-%s"' % chart not in dom:
                problems.append("html: chart %s missing from the DOM" % chart)
        shot = os.path.join(d.tmp, "report.png")
        subprocess.run([binary, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                        "--user-data-dir=%s" % prof, "--window-size=1200,1600", "--screenshot=%s" % shot,
                        "file://" + html_path], capture_output=True, timeout=T(60))
        if not os.path.exists(shot) or os.path.getsize(shot) < 1000:
            problems.append("html: no screenshot")
        ctx.note("html report and screenshot in %s" % d.tmp)
    else:
        ctx.note("chromium not installed: HTML not rendered")
    ctx.note("%d events, %d sections" % (len(evs), len(secs)))
    assert not problems, "\n".join(problems)
