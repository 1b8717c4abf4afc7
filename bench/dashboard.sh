#!/bin/sh
# bench/dashboard.sh - time every dashboard API endpoint on a store of N events.
#
# Goal (issue 8): every /api/ call answers in <= 200 ms on 1 M events.
#
# The data set is bench/report_gen.py's (sessions of scans, SSH/Telnet logins
# with commands and downloads, HTTP exploits, TLS/SSH fingerprints, 50k
# sources over the 7 UTC days from D0), cached in $CACHE; its roll-up tables
# come from `hanipo rollup --rebuild` once (untimed, cached), as the sensor's
# writer would have kept them.  The sensor then runs on that store with the
# dashboard on a free port (and a trap nobody connects to), and each endpoint
# is requested RUNS times after one warm-up request; the median wall time of
# curl (connect to last byte, on 127.0.0.1) is printed in milliseconds.
# Ranges are absolute (the data set lies in the past): 1 hour, 1 day, 7 days.
#
# Environment:
#   N=1000000       events
#   CACHE=/var/tmp/hanipo-bench-dash-N
#   RUNS=5          timed requests per endpoint (median)
#   SEED=7
#   HANIPO_CMD=./hanipo
#   GOAL_MS=200
#
# Exit status 0 when measured (even if the goal is missed), 1 on a setup
# failure.  Last line: RESULT dashboard n=N endpoints=K over_goal=M max_ms=X

cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
. bench/lib.sh

N=${N:-1000000}
CACHE=${CACHE:-/var/tmp/hanipo-bench-dash-$N}
RUNS=${RUNS:-5}
SEED=${SEED:-7}
GOAL_MS=${GOAL_MS:-200}
HANIPO_CMD=${HANIPO_CMD:-./hanipo}
D0=2026-11-01

die() { echo "dashboard.sh: $*" >&2; exit 1; }

[ -x "$BL_PYTHON" ] || die "$BL_PYTHON is needed to generate the data set"
command -v curl >/dev/null 2>&1 || die "curl is needed"
command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 is needed"
[ -x "$HANIPO_CMD" ] || die "sensor not found: $HANIPO_CMD (run make hanipo first)"

T=$(mktemp -d "${TMPDIR:-/tmp}/hanipo-bench-dash.XXXXXX") || die "mktemp failed"
PID=
# shellcheck disable=SC2317  # invoked by trap
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the data set (cached) --------------------------------------------------------
# The store's schema comes from src/store/sqlite.c: a new one makes a new data set.
STAMP=$(bl_data_stamp "$N" "$SEED" "$D0") || die "cannot read the store's schema"
if [ "$(cat "$CACHE/.complete" 2>/dev/null)" != "$STAMP" ]; then
    echo "generating $N events into $CACHE (cached for reruns)"
    rm -rf "$CACHE"
    mkdir -p "$CACHE" || die "cannot create $CACHE"
    "$BL_PYTHON" bench/report_gen.py "$N" "$CACHE/data.tmp" "$D0" "$SEED" || die "generation failed"
    rm -rf "$CACHE/data.tmp/log"            # JSONL copies: not needed here
    mv "$CACHE/data.tmp" "$CACHE/data" || die "cannot move the data set into place"
    echo "$STAMP" > "$CACHE/.complete"
fi
DATA=$CACHE/data
DPORT=$(bl_free_port) || die "no free port"
TPORT=$(bl_free_port) || die "no free port"
while [ "$TPORT" = "$DPORT" ]; do TPORT=$(bl_free_port); done
CONF=$T/hanipo.ini
cat > "$CONF" <<EOF2
[sensor]
name = bench
data_dir = $DATA
user = $(id -un)
log_level = warn
log_file = $T/sensor.log
# The data set has fixed dates (the week from $D0): with the default 30-day
# retention the sensor would delete most of it once that week is a month old,
# and the API would be timed on a shrunken, fragmented store.
retention_days = 0

[output sqlite]
enabled = true

[dashboard]
enabled = true
bind = 127.0.0.1
port = $DPORT

[service trap]
protocol = trap
bind = 127.0.0.1
tcp_ports = $TPORT
EOF2

bl_rollups "$CACHE" "$CONF" "$STAMP" "$HANIPO_CMD" || die "hanipo rollup --rebuild failed"

# ---- the sensor with its dashboard ---------------------------------------------------
"$HANIPO_CMD" run -c "$CONF" 2>"$T/stderr" &
PID=$!
i=0
until bl_port_listening "$DPORT" && [ -s "$DATA/dashboard.token" ]; do
    i=$((i + 1))
    [ $i -lt 200 ] || { cat "$T/stderr" "$T/sensor.log" >&2; die "the dashboard did not start"; }
    kill -0 "$PID" 2>/dev/null || { cat "$T/stderr" "$T/sensor.log" >&2; die "the sensor exited"; }
    sleep 0.05
done
TOKEN=$(head -c 64 "$DATA/dashboard.token")
BASE=http://127.0.0.1:$DPORT/api

# search values that exist in the data set
DB=$DATA/hanipo.sqlite
q() { sqlite3 -readonly "$DB" "$1"; }
USER1=$(q "SELECT key FROM rollup_day WHERE dim = 'username' GROUP BY key ORDER BY sum(n) DESC LIMIT 1")
IP1=$(q "SELECT key FROM rollup_day WHERE dim = 'ip' GROUP BY key ORDER BY sum(n) DESC LIMIT 1")
SHA1=$(q "SELECT key FROM rollup_day WHERE dim = 'sha256' LIMIT 1")
SESS=$(q "SELECT session || ' ' || ts FROM events WHERE eventid = 'session.connect' AND ts >= 1794009600000000 AND ts < 1794096000000000 AND protocol IN ('ssh', 'telnet') ORDER BY ts DESC LIMIT 1")
SID=${SESS% *}
STS=${SESS#* }
enc() { "$BL_PYTHON" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

H1="from=2026-11-07T12:00&to=2026-11-07T13:00"
D1="from=2026-11-07&to=2026-11-08"
W1="from=2026-11-01&to=2026-11-08"
ENDPOINTS="overview?$H1
overview?$D1
overview?$W1
credentials?$D1
credentials?$W1
web?$D1
web?$W1
fingerprints?$D1
fingerprints?$W1
payloads?$W1
top?dim=ip&$W1
top?dim=command&$W1
sessions?$D1
sessions?$W1&offset=1000
sessions?$W1&ip=$IP1
sessions?$W1&username=$(enc "$USER1")
sessions?$D1&command=wget
sessions?$W1&cc=CN&protocol=ssh
session/$SID?t=$STS
status"

# time ENDPOINT : one request; prints milliseconds, fails unless 200
time_one() {
    curl -s -o "$T/body" -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $TOKEN" "$BASE/$1" > "$T/w" ||
        return 1
    read -r code secs < "$T/w"
    [ "$code" = 200 ] || { echo "dashboard.sh: $1: HTTP $code: $(head -c 300 "$T/body")" >&2; return 1; }
    bl_calc "$secs * 1000"
}

# Searching sessions by username/password is fast only with the partial expression
# indexes events_login_username/_password (json_extract(data, '$.username'), ts, session
# over the login events); say whether this store has them.
idx=$(q "SELECT count(*) FROM sqlite_master WHERE name IN ('events_login_username', 'events_login_password')")
echo "dashboard API on $N events (median of $RUNS, ms; goal <= $GOAL_MS ms; credential indexes: $idx/2)"
over=0 count=0 max=0
old_ifs=$IFS
IFS='
'
for ep in $ENDPOINTS; do
    IFS=$old_ifs
    time_one "$ep" > /dev/null || die "request failed"
    set --
    r=0
    while [ $r -lt "$RUNS" ]; do
        set -- "$@" "$(time_one "$ep")" || die "request failed"
        r=$((r + 1))
    done
    ms=$(bl_median "$@")
    flag=ok
    bl_ge "$GOAL_MS" "$ms" || { flag=SLOW; over=$((over + 1)); }
    bl_ge "$max" "$ms" || max=$ms
    count=$((count + 1))
    printf '%8.1f  %-4s  %s\n' "$ms" "$flag" "$ep"
done
IFS=$old_ifs
echo "RESULT dashboard n=$N endpoints=$count over_goal=$over max_ms=$max"
