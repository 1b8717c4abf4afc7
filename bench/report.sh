#!/bin/sh
# bench/report.sh - `hanipo report` over N events vs. the jq pipelines operators use today.
#
# Goal (issue 7): the full default report over 10 M events in <= 10 s, at
# least 20x faster than answering the same top-N questions with
# jq | sort | uniq -c | sort -rn | head on the JSONL, in <= 200 MB (max RSS).
#
# The data set (bench/report_gen.py: sessions of scans, SSH/Telnet logins
# with commands and downloads, HTTP exploits, TLS and SSH fingerprints, from
# 50k source addresses with country/ASN, over the 7 UTC days from D0) is
# written both as the sensor's JSONL day files and as its SQLite store, and
# cached: a rerun with the same N reuses it.  It takes about 1 KB of disk
# per event (10 GB for 10 M).
#
# The report reads the roll-up tables (src/store/rollup.h) that the sensor's
# SQLite writer keeps as it stores events; the generated store gets them from
# `hanipo rollup --rebuild` once, untimed, as a sensor would have built them
# over the week.
#
# Before timing, the top-N answers of the report (--json) are checked
# against those of jq: the counts of each ranking must be the same (values
# too where a count is not tied).
#
# Environment:
#   N=10000000      events to generate
#   CACHE=/var/tmp/hanipo-bench-report-N   where the data set is kept
#   RUNS=3          report runs (median)
#   JQ_RUNS=1       runs of the whole jq set (median; it is slow)
#   TOP=10          rows per ranking (report --top and head -n)
#   SEED=7          generator seed
#   HANIPO_CMD=./hanipo   the sensor binary (invoked as: $HANIPO_CMD report -c CONF ...)
#   CHECK=0         skip the report-vs-jq comparison
#
# Exit status: 0 when measured (even if a goal fails), 1 when the report and
# jq disagree or on a setup failure.  Last line is machine-readable:
#   RESULT report n=... report_s=... jq_s=... ratio=... max_rss_kb=...

cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
. bench/lib.sh

N=${N:-10000000}
CACHE=${CACHE:-/var/tmp/hanipo-bench-report-$N}
RUNS=${RUNS:-3}
JQ_RUNS=${JQ_RUNS:-1}
TOP=${TOP:-10}
SEED=${SEED:-7}
CHECK=${CHECK:-1}
HANIPO_CMD=${HANIPO_CMD:-./hanipo}
D0=2026-11-01
D7=2026-11-08

die() { echo "report.sh: $*" >&2; exit 1; }

[ -x "$BL_PYTHON" ] || die "$BL_PYTHON is needed to generate the data set"
command -v jq >/dev/null 2>&1 || die "jq is needed (make deps)"
[ -x /usr/bin/time ] || die "/usr/bin/time is needed (apt-get install time)"
# shellcheck disable=SC2086  # HANIPO_CMD may carry a wrapper and arguments
set -- $HANIPO_CMD
command -v "$1" >/dev/null 2>&1 || die "sensor not found: $1 (run make hanipo first)"

T=$(mktemp -d "${TMPDIR:-/tmp}/hanipo-bench-report.XXXXXX") || die "mktemp failed"
# shellcheck disable=SC2317  # invoked by trap
cleanup() { rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the data set (cached) ---------------------------------------------------
# The store's schema comes from src/store/sqlite.c: a new one makes a new data set.
STAMP=$(bl_data_stamp "$N" "$SEED" "$D0") || die "cannot read the store's schema"
if [ "$(cat "$CACHE/.complete" 2>/dev/null)" != "$STAMP" ]; then
    avail_kb=$(df -Pk "$(dirname "$CACHE")" | awk 'NR == 2 { print $4 }')
    need_kb=$((N + 102400))   # about 1 KB per event, and some room
    [ "${avail_kb:-0}" -gt "$need_kb" ] || die "about $need_kb KB needed in $(dirname "$CACHE"), $avail_kb free"
    echo "generating $N events into $CACHE (about $((need_kb / 1024)) MB; cached for reruns)"
    rm -rf "$CACHE"
    mkdir -p "$CACHE" || die "cannot create $CACHE"
    t0=$(date +%s)
    "$BL_PYTHON" bench/report_gen.py "$N" "$CACHE/data.tmp" "$D0" "$SEED" || die "generation failed"
    mv "$CACHE/data.tmp" "$CACHE/data" || die "cannot move the data set into place"
    echo "$STAMP" > "$CACHE/.complete"
    echo "generated in $(( $(date +%s) - t0 )) s"
fi
DATA=$CACHE/data
CONF=$T/hanipo.ini
cat > "$CONF" <<EOF
[sensor]
name = bench
data_dir = $DATA
log_level = warn

[output sqlite]
enabled = true

[service trap]
protocol = trap
bind = 127.0.0.1
tcp_ports = 2323
EOF

# The generator writes the events table only; the sensor's writer would have
# kept the roll-up tables as it stored them.  Build them once (cached).
bl_rollups "$CACHE" "$CONF" "$STAMP" "$HANIPO_CMD" || die "hanipo rollup --rebuild failed"

# ---- the jq questions: id | jq filter | report section | report value key(s) | count key
QUESTIONS='ips|select(.eventid=="session.connect") | .src_ip|ips|ip|connections
countries|select(.eventid=="session.connect") | .src_cc|countries|cc|connections
ports|select(.eventid=="session.connect") | .dst_port|ports|port|connections
usernames|select(.eventid=="login.failed" or .eventid=="login.success") | .username|usernames|username|attempts
passwords|select(.eventid=="login.failed" or .eventid=="login.success") | .password|passwords|password|attempts
pairs|select(.eventid=="login.failed" or .eventid=="login.success") | [.username, .password] | @tsv|pairs|username,password|attempts
commands|select(.eventid=="command.input") | .input|commands|command|count
urls|select(.eventid=="session.file_download") | .url|downloads|url|downloads
http_paths|select(.eventid=="http.request") | .uri|http_paths|uri|requests
cves|select(.eventid=="http.request") | .cves[]?|cves|cve|requests'

# jq_one ID FILTER : one pipeline, its answer in $T/jq.ID, its seconds on stdout
# shellcheck disable=SC2016  # the pipeline's $1..$3 are sh -c's own arguments
jq_one() {
    /usr/bin/time -f '%e' -o "$T/time" sh -c '
        jq -r "$1" "$2"/log/events-*.jsonl | LC_ALL=C sort | LC_ALL=C uniq -c | LC_ALL=C sort -rn | head -n "$3"
    ' sh "$2" "$DATA" "$TOP" > "$T/jq.$1" || return 1
    tail -n 1 "$T/time"
}

# jq_all : every pipeline once; prints the total seconds
jq_all() {
    _total=0
    _old_ifs=$IFS
    IFS='
'
    for _q in $QUESTIONS; do
        IFS=$_old_ifs
        _id=${_q%%|*}
        _rest=${_q#*|}
        # the filter may itself contain '|': it ends before the last three fields
        _filter=$(printf '%s\n' "$_rest" | awk -F'|' '{ for (i = 1; i <= NF - 3; i++) printf "%s%s", (i > 1 ? "|" : ""), $i }')
        _s=$(jq_one "$_id" "$_filter") || return 1
        echo "  jq $_id: ${_s} s" >&2
        _total=$(bl_calc "$_total + $_s")
    done
    IFS=$_old_ifs
    echo "$_total"
}

# check_answers : compare each jq answer with the report's --json ranking.
check_answers() {
    "$HANIPO_CMD" report -c "$CONF" --since "$D0" --until "$D7" --top "$TOP" --json > "$T/report.json" 2> /dev/null ||
        die "hanipo report --json failed"
    printf '%s\n' "$QUESTIONS" | "$BL_PYTHON" -c '
import json, sys
tdir = sys.argv[1]
rep = {s["id"]: s for s in json.load(open(tdir + "/report.json"))["sections"]}
bad = 0
for line in sys.stdin:
    f = line.rstrip("\n").split("|")
    qid, sec, keys, ckey = f[0], f[-3], f[-2].split(","), f[-1]
    jq = []
    for row in open(tdir + "/jq." + qid, encoding="utf-8", errors="replace"):
        row = row.rstrip("\n").lstrip(" ")
        n, _, v = row.partition(" ")
        jq.append((int(n), v))
    rp = []
    for row in rep[sec]["rows"]:
        v = "\t".join("" if row.get(k) is None else str(row.get(k)) for k in keys)
        rp.append((int(row[ckey]), v))
    ok = [n for n, _ in jq] == [n for n, _ in rp]
    counts = [n for n, _ in jq]
    for (jn, jv), (rn, rv) in zip(jq, rp):
        # ties (also with rows past the cut) may be ordered differently
        if counts.count(jn) == 1 and jn != counts[-1] and jv != rv:
            ok = False
    if not ok:
        bad += 1
        print("MISMATCH %s: jq %s" % (qid, jq[:5]))
        print("MISMATCH %s: report %s" % (qid, rp[:5]))
    else:
        print("  check %-10s ok (top count %s)" % (qid, counts[0] if counts else "-"))
sys.exit(1 if bad else 0)
' "$T"
}

echo "report bench: n=$N runs=$RUNS jq_runs=$JQ_RUNS top=$TOP range=$D0..$D7 data=$DATA sensor='$HANIPO_CMD'"

# ---- jq (first: its answers are needed by the check) ---------------------------
JQ_ALL=''
i=1
while [ "$i" -le "$JQ_RUNS" ]; do
    s=$(jq_all) || die "a jq pipeline failed"
    echo "jq run $i/$JQ_RUNS: $s s (10 pipelines)"
    JQ_ALL="$JQ_ALL $s"
    i=$((i + 1))
done

if [ "$CHECK" != 0 ]; then
    check_answers || { echo "report.sh: hanipo report and jq disagree (above)" >&2; exit 1; }
fi

# ---- hanipo report ---------------------------------------------------------------
REP_ALL='' RSS_ALL=''
i=1
while [ "$i" -le "$RUNS" ]; do
    /usr/bin/time -f '%e %M' -o "$T/time" "$HANIPO_CMD" report -c "$CONF" --since "$D0" --until "$D7" \
        > /dev/null 2> "$T/report.err" || { cat "$T/report.err" >&2; die "hanipo report failed"; }
    read -r s kb < "$T/time"
    printf 'report run %d/%d: %s s, max RSS %s KB\n' "$i" "$RUNS" "$s" "$kb"
    REP_ALL="$REP_ALL $s" RSS_ALL="$RSS_ALL $kb"
    i=$((i + 1))
done

# shellcheck disable=SC2086
REP_MED=$(bl_median $REP_ALL)
# shellcheck disable=SC2086
RSS_MAX=$(printf '%s\n' $RSS_ALL | sort -n | tail -n 1)
# shellcheck disable=SC2086
JQ_MED=$(bl_median $JQ_ALL)
# a report faster than /usr/bin/time's 10 ms resolution counts as 10 ms
RATIO=$(bl_calc "$JQ_MED / ($REP_MED > 0.01 ? $REP_MED : 0.01)")

pf() { if "$@"; then echo PASS; else echo FAIL; fi; }
G_TIME=$(pf bl_ge 10 "$REP_MED")
G_RATIO=$(pf bl_ge "$RATIO" 20)
G_RSS=$(pf bl_ge 204800 "$RSS_MAX")

echo
printf '  events              %10s\n' "$N"
printf '  report s (median)   %10.2f\n' "$REP_MED"
printf '  jq s (sum, median)  %10.2f\n' "$JQ_MED"
printf '  ratio jq/report     %10.1f\n' "$RATIO"
printf '  report max RSS KB   %10s\n' "$RSS_MAX"
echo "goal (issue 7, for 10 M events): report <= 10 s, ratio >= 20, max RSS <= 200 MB"
printf '  report   %.2f s  %s\n' "$REP_MED" "$G_TIME"
printf '  ratio    %.1f  %s\n' "$RATIO" "$G_RATIO"
printf '  memory   %s KB  %s\n' "$RSS_MAX" "$G_RSS"
printf 'RESULT report n=%s report_s=%.2f jq_s=%.2f ratio=%.1f max_rss_kb=%s\n' \
    "$N" "$REP_MED" "$JQ_MED" "$RATIO" "$RSS_MAX"
exit 0
