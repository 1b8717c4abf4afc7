#!/bin/sh
# bench/fleet.sh - the fleet report (`hanipo report --store clickhouse://...`) over N_CH events
# in ClickHouse vs. the same report over the SQLite store of bench/report.sh (issue 12).
#
# Compared: report rows/s = events in the range / seconds for the whole report (every
# section, text output), ClickHouse vs. SQLite, medians of RUNS runs each; the absolute
# seconds are printed beside.  Same range (the 7 UTC days from 2026-11-01), same --top.
# The SQLite report reads its roll-up tables (docs/report.md); the ClickHouse report
# scans the events (every section is a query over hanipo.events), so the ratio says how
# a central store of a whole fleet compares with one sensor's pre-aggregated store.
# The table is the one `hanipo clickhouse init` makes: hot fields as DEFAULT columns,
# ORDER BY (sensor, eventid, ts) (docs/fleet.md#the-table); the base rows go into a plain
# table (chserver.OLD_TABLE) so the columns are computed once, when copied into hanipo.events.
#
# The ClickHouse data set: a throw-away clickhouse-server (Debian's package; tests/
# integration/chserver.py) in CACHE_CH, its data kept for reruns.  Rows are made by
# ClickHouse itself: bench/fleet_gen.sql builds BASE realistic events (10 sensors, 400
# source addresses with countries and ASNs, SSH/Telnet logins with 8 usernames and 12
# passwords, commands, HTTP exploits with URIs, CVEs and attack classes, HASSH/JA3,
# downloads) spread over the week; copies of them, shifted in time (and with new uids),
# fill the rest of the week up to N_CH rows (building every row from scratch costs about
# 20 s per million rows on 2 CPUs; copying is several times faster).  The "timestamp" text
# inside a copied row's JSON is the original's; the report reads the ts column.
# Disk: about 110 bytes per event compressed (11 GB for 100 M); checked first.
#
# The SQLite store: bench/report.sh's cached data set (N_SQLITE events, default 10 M, in
# /var/tmp/hanipo-bench-report-N_SQLITE); run bench/report.sh once first if it is missing.
#
# Environment:
#   N_CH=100000000    events in ClickHouse     BASE=2000000  rows generated, then copied
#   N_SQLITE=10000000 events in the SQLite store (bench/report.sh's cache)
#   CACHE_CH=/var/tmp/hanipo-bench-fleet-N_CH     RUNS=3     TOP=10
#   HANIPO_CMD=./hanipo
#
# Exit status 0 when measured, 1 on a setup failure.  Last line:
#   RESULT fleet ch_events=... ch_s=... ch_rows_per_s=... sqlite_events=... sqlite_s=...
#          sqlite_rows_per_s=... ratio=...

cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
. bench/lib.sh

N_CH=${N_CH:-100000000}
BASE=${BASE:-2000000}
N_SQLITE=${N_SQLITE:-10000000}
CACHE_CH=${CACHE_CH:-/var/tmp/hanipo-bench-fleet-$N_CH}
CACHE_SQLITE=${CACHE_SQLITE:-/var/tmp/hanipo-bench-report-$N_SQLITE}
RUNS=${RUNS:-3}
TOP=${TOP:-10}
HANIPO_CMD=${HANIPO_CMD:-./hanipo}
D0=2026-11-01
D7=2026-11-08
D0_US=1793491200000000
WEEK_US=604800000000

die() { echo "fleet.sh: $*" >&2; exit 1; }

[ -x "$BL_PYTHON" ] || die "$BL_PYTHON is needed"
[ -x /usr/bin/time ] || die "/usr/bin/time is needed (apt-get install time)"
command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ] ||
    die "clickhouse-server is needed (make deps)"
# shellcheck disable=SC2086  # HANIPO_CMD may carry a wrapper and arguments
set -- $HANIPO_CMD
command -v "$1" >/dev/null 2>&1 || die "sensor not found: $1 (run make hanipo first)"
[ "$(cat "$CACHE_SQLITE/.complete" 2>/dev/null)" ] ||
    die "no SQLite data set in $CACHE_SQLITE: run 'N=$N_SQLITE sh bench/report.sh' once first"
[ "$BASE" -le "$N_CH" ] || BASE=$N_CH

T=$(mktemp -d "${TMPDIR:-/tmp}/hanipo-bench-fleet.XXXXXX") || die "mktemp failed"
mkdir -p "$CACHE_CH" || die "cannot create $CACHE_CH"
# shellcheck disable=SC2317  # invoked by trap
cleanup() {
    [ -f "$CACHE_CH/pid" ] && "$BL_PYTHON" tests/integration/chserver.py stop "$CACHE_CH" >/dev/null 2>&1
    rm -f "$CACHE_CH/pid"
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$("$BL_PYTHON" tests/integration/chserver.py start "$CACHE_CH") || die "clickhouse-server did not start"
ch() { curl -sS --fail-with-body "http://127.0.0.1:$PORT/" --data-binary "$1"; }
ch_file() { curl -sS --fail-with-body "http://127.0.0.1:$PORT/" --data-binary "@$1"; }

# ---- the ClickHouse data set (cached) ---------------------------------------------------------
# the table's schema (tests/integration/chserver.py TABLE, as `hanipo clickhouse init` makes it) is part
# of the stamp: a data set made with another schema is made again
SCHEMA=$("$BL_PYTHON" -c 'import sys, zlib; sys.path.insert(0, "tests/integration"); import chserver
print(zlib.crc32(chserver.TABLE.encode()))') || die "cannot read the table schema"
STAMP="n=$N_CH base=$BASE gen=$(cksum < bench/fleet_gen.sql | cut -d' ' -f1) schema=$SCHEMA"
if [ "$(cat "$CACHE_CH/.complete" 2>/dev/null)" != "$STAMP" ]; then
    avail_kb=$(df -Pk "$CACHE_CH" | awk 'NR == 2 { print $4 }')
    need_kb=$((N_CH * 130 / 1024 + 1048576))   # ~130 B per event, and 1 GB
    [ "${avail_kb:-0}" -gt "$need_kb" ] ||
        die "about $need_kb KB needed in $CACHE_CH, $avail_kb free: scale down with N_CH=..."
    echo "generating $N_CH events in ClickHouse ($BASE built, the rest copied; cached in $CACHE_CH)"
    t0=$(date +%s)
    ch "DROP TABLE IF EXISTS hanipo.events" >/dev/null && ch "DROP TABLE IF EXISTS hanipo.base" >/dev/null
    "$BL_PYTHON" -c 'import sys; sys.path.insert(0, "tests/integration"); import chserver
c = chserver.ClickHouse(directory="."); c.http = int(sys.argv[1]); c.create_table()
c.query(chserver.OLD_TABLE.replace("hanipo.events", "hanipo.base"))' "$PORT" || die "cannot create the tables"
    # the base rows cover BASE/N_CH of the week; copy r is shifted by r times that
    sed -e "s/@D0@/$D0_US/; s/@N@/$N_CH/; s/@START@/0/; s/@COUNT@/$BASE/; s/hanipo\.events/hanipo.base/" \
        bench/fleet_gen.sql > "$T/gen.sql"
    ch_file "$T/gen.sql" || die "generating the base rows failed"
    done_rows=0 r=0
    while [ "$done_rows" -lt "$N_CH" ]; do
        take=$((N_CH - done_rows < BASE ? N_CH - done_rows : BASE))
        ch "INSERT INTO hanipo.events (ts, day, sensor, uid, eventid, session, protocol, src_ip, src_port, dst_port,
              batch, data) SELECT ts + toInt64($r) * intDiv(toInt64($WEEK_US) * $BASE, $N_CH) AS t,
              toDate(intDiv(t, 1000000)), sensor, concat(uid, '-$r'), eventid, session, protocol, src_ip, src_port,
              dst_port, batch, data FROM hanipo.base LIMIT $take" || die "copy $r failed"
        done_rows=$((done_rows + take)) r=$((r + 1))
        printf '\r  %s / %s rows' "$done_rows" "$N_CH"
    done
    echo
    ch "DROP TABLE hanipo.base" >/dev/null
    ch "OPTIMIZE TABLE hanipo.events" >/dev/null 2>&1 || true      # fewer parts, as a long-lived table has
    echo "$STAMP" > "$CACHE_CH/.complete"
    echo "generated in $(( $(date +%s) - t0 )) s"
fi
got=$(ch "SELECT count() FROM hanipo.events WHERE ts >= $D0_US AND ts < $D0_US + $WEEK_US") || die "count failed"
[ "$got" = "$N_CH" ] || die "ClickHouse holds $got events in the week, want $N_CH"
disk=$(ch "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'hanipo' AND table = 'events'" 2>/dev/null ||
       ch "SELECT sum(bytes) FROM system.parts WHERE active AND database = 'hanipo' AND table = 'events'")

CONF=$T/hanipo.ini
cat > "$CONF" <<EOF
[sensor]
name = bench
data_dir = $CACHE_SQLITE/data
log_level = warn

[output sqlite]
enabled = true

[service trap]
protocol = trap
bind = 127.0.0.1
tcp_ports = 2323
EOF

# The SQLite report reads the roll-up tables; report.sh builds them, but only
# when it has run since the data set or src/store/rollup.c changed.
bl_rollups "$CACHE_SQLITE" "$CONF" "$(cat "$CACHE_SQLITE/.complete")" "$HANIPO_CMD" ||
    die "hanipo rollup --rebuild failed"

echo "fleet bench: clickhouse n=$N_CH ($disk bytes on disk), sqlite n=$N_SQLITE, runs=$RUNS top=$TOP range=$D0..$D7"

# run_report LABEL ARGS... : RUNS timed runs; the median seconds on stdout
run_report() {
    _label=$1; shift
    _all=''
    _i=1
    while [ "$_i" -le "$RUNS" ]; do
        /usr/bin/time -f '%e %M' -o "$T/time" "$HANIPO_CMD" report "$@" --since "$D0" --until "$D7" --top "$TOP" \
            > "$T/out.$_label" 2> "$T/err" || { cat "$T/err" >&2; return 1; }
        read -r _s _kb < "$T/time"
        printf '%s run %d/%d: %s s, max RSS %s KB\n' "$_label" "$_i" "$RUNS" "$_s" "$_kb" >&2
        _all="$_all $_s"
        _i=$((_i + 1))
    done
    # shellcheck disable=SC2086
    bl_median $_all
}

CH_S=$(run_report clickhouse --store "clickhouse://127.0.0.1:$PORT/hanipo") || die "the ClickHouse report failed"
SQ_S=$(run_report sqlite -c "$CONF") || die "the SQLite report failed"
grep -q "Per sensor" "$T/out.clickhouse" || die "the ClickHouse report has no per-sensor section"

floor() { bl_calc "$1 > 0.01 ? $1 : 0.01"; }
CH_RPS=$(bl_calc "$N_CH / $(floor "$CH_S")")
SQ_RPS=$(bl_calc "$N_SQLITE / $(floor "$SQ_S")")
RATIO=$(bl_calc "$CH_RPS / $SQ_RPS")

echo
printf '  clickhouse events        %12s\n' "$N_CH"
printf '  clickhouse report s      %12.2f   (median of %s)\n' "$CH_S" "$RUNS"
printf '  clickhouse rows/s        %12.0f\n' "$CH_RPS"
printf '  sqlite events            %12s\n' "$N_SQLITE"
printf '  sqlite report s          %12.2f   (median of %s, roll-ups)\n' "$SQ_S" "$RUNS"
printf '  sqlite rows/s            %12.0f\n' "$SQ_RPS"
printf '  ratio rows/s ch/sqlite   %12.2f\n' "$RATIO"
printf 'RESULT fleet ch_events=%s ch_s=%.2f ch_rows_per_s=%.0f sqlite_events=%s sqlite_s=%.2f sqlite_rows_per_s=%.0f ratio=%.2f\n' \
    "$N_CH" "$CH_S" "$CH_RPS" "$N_SQLITE" "$SQ_S" "$SQ_RPS" "$RATIO"
exit 0
