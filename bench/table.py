#!/usr/bin/env python3
"""bench/table.py - one table from the RESULT lines of every bench (make bench).

Each bench/*.sh ends with machine-readable lines "RESULT <bench> key=value ...".
This reads the logs `make bench` kept (build/bench/<name>.log) and prints, per
figure: hanipo's value, the reference measured in the same run, the ratio and
the goal, so one screen says where the project stands.  A bench whose log has
no RESULT line (it failed or was skipped) is listed as such.  Benches this
script does not know yet are printed with their raw key=value pairs.

Usage: bench/table.py LOG...
"""
import sys


def parse(path):
    rows = []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.startswith("RESULT "):
                continue
            words = line.split()
            kv = dict(w.split("=", 1) for w in words[2:] if "=" in w)
            rows.append((words[1], kv))
    return rows


def num(kv, k):
    try:
        return float(kv[k])
    except (KeyError, ValueError):
        return None


def fmt(v, unit=""):
    if v is None:
        return "-"
    if abs(v) >= 100:
        s = "{:,.0f}".format(v)
    elif abs(v) >= 10:
        s = "{:.1f}".format(v)
    else:
        s = "{:.2f}".format(v)
    return s + unit


def verdict(ok):
    return "" if ok is None else ("ok" if ok else "MISSED")


def rows_for(bench, kv):
    """(figure, value, reference, ratio, goal, ok) tuples for one RESULT line."""
    if bench == "http":
        mode = kv.get("mode", "?")
        ratio = num(kv, "ratio")
        goal = 1.0 if mode in ("keepalive", "close") else None
        nogoal = "(cost of TLS)" if mode == "tls" else "(cost of SQLite)"
        return [("http %s req/s (ref: nginx)" % mode, fmt(num(kv, "hanipo_rps")), fmt(num(kv, "nginx_rps")),
                 fmt(ratio, "x"), ">= 1.0x" if goal else nogoal,
                 None if goal is None or ratio is None else ratio >= goal)]
    if bench == "trap":
        ratio = num(kv, "ratio")
        rss = num(kv, "idle_rss_kb")
        return [("trap %s conn/s (ref: epoll loop)" % kv.get("kind", ""), fmt(num(kv, "hanipo_cps")),
                 fmt(num(kv, "ref_cps")), fmt(ratio, "x"), ">= 0.80x", None if ratio is None else ratio >= 0.8),
                ("trap idle RSS", fmt(rss, " KB"), "-", "-", "<= 8192 KB", None if rss is None else rss <= 8192)]
    if bench == "ssh":
        cps = num(kv, "cycles_per_sec")
        kb = num(kv, "kb_per_idle_session")
        return [("ssh login cycles/s (ref: Cowrie 195/s)", fmt(cps), "195", fmt(num(kv, "ratio_vs_cowrie"), "x"),
                 ">= 1500/s", None if cps is None else cps >= 1500),
                ("ssh memory per idle session", fmt(kb, " KB"), "-", "-", "<= 20 KB", None if kb is None else kb <= 20)]
    if bench == "report":
        s = num(kv, "report_s")
        ratio = num(kv, "ratio")
        rss = num(kv, "max_rss_kb")
        return [("report over %s events (ref: jq pipelines)" % kv.get("n", "?"), fmt(s, " s"),
                 fmt(num(kv, "jq_s"), " s"), fmt(ratio, "x"), "<= 10 s, >= 20x",
                 None if s is None or ratio is None else s <= 10 and ratio >= 20),
                ("report max RSS", fmt(rss / 1024 if rss else None, " MB"), "-", "-", "<= 200 MB",
                 None if rss is None else rss <= 200 * 1024)]
    if bench == "dashboard":
        mx = num(kv, "max_ms")
        over = num(kv, "over_goal")
        return [("dashboard slowest /api/ call, %s events" % kv.get("n", "?"), fmt(mx, " ms"), "-", "-",
                 "<= 200 ms", None if over is None else over == 0)]
    if bench == "clickhouse_ingest":
        eps = num(kv, "hanipo_eps")
        rate, p50, p99 = num(kv, "rate"), num(kv, "lat_p50_ms"), num(kv, "lat_p99_ms")
        return [("clickhouse output events/s (ref: clickhouse-client rows/s)", fmt(eps), fmt(num(kv, "ref_eps")),
                 fmt(num(kv, "ratio"), "x"), ">= 100,000/s", None if eps is None else eps >= 100000),
                ("clickhouse output latency at %s events/s, p50 / p99" % fmt(rate), "%s / %s" % (
                    fmt(p50, " ms"), fmt(p99, " ms")), "-", "-", "p99 <= 1000 ms", None if p99 is None else p99 <= 1000)]
    if bench == "store":
        return [("SQLite store CPU per close-mode event (ref: bare SQLite insert)",
                 fmt(num(kv, "hanipo_us_per_event"), " us"), fmt(num(kv, "ref_us_per_event"), " us"),
                 fmt(num(kv, "ratio"), "x"), "(cost of indexes and roll-ups)", None)]
    if bench == "fleet":
        return [("fleet report, %s events in ClickHouse (ref: SQLite, %s events)" % (
                    fmt(num(kv, "ch_events")), fmt(num(kv, "sqlite_events"))),
                 "%s, %s rows/s" % (fmt(num(kv, "ch_s"), " s"), fmt(num(kv, "ch_rows_per_s"))),
                 "%s, %s rows/s" % (fmt(num(kv, "sqlite_s"), " s"), fmt(num(kv, "sqlite_rows_per_s"))),
                 fmt(num(kv, "ratio"), "x"), "(rows/s compared)", None)]
    return [("%s %s" % (bench, " ".join("%s=%s" % x for x in kv.items())), "", "", "", "", None)]


def main(paths):
    table = [("figure", "hanipo", "reference", "ratio", "goal", "")]
    for p in paths:
        results = parse(p)
        if not results:
            table.append((p.rsplit("/", 1)[-1].replace(".log", "") + ": no RESULT (failed or skipped)",
                          "", "", "", "", "MISSED"))
        for bench, kv in results:
            for r in rows_for(bench, kv):
                table.append(r[:5] + (verdict(r[5]),))
    widths = [max(len(r[i]) for r in table) for i in range(6)]
    for i, r in enumerate(table):
        print("  ".join(c.ljust(widths[k]) if k == 0 else c.rjust(widths[k]) if k < 4 else c.ljust(widths[k])
                        for k, c in enumerate(r)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
