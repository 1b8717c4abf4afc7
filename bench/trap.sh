#!/bin/sh
# bench/trap.sh - hanipo trap service vs. a minimal epoll reference server.
#
# Goal: trap conn/s >= 0.80 x ref_epoll conn/s with every connection logged
# (JSONL and SQLite session.connect counts == connections completed by the
# client), and idle RSS <= 8192 KB.
#
# Environment:
#   RUNS=5          interleaved ref/hanipo run pairs
#   DURATION=5      measured seconds per tcpflood run (after WARMUP)
#   WARMUP=1        warmup seconds per run (excluded from the rate, still logged)
#   CONC=32         concurrent connections
#   PAYLOAD=100     bytes sent per connection
#   KIND=rdp        payload kind (tcpflood -k): rdp = an X.224 probe with an mstshash
#                   cookie, recorded silently by the trap, the same work the
#                   reference does; http = a GET, which the trap also answers (404)
#   SRCS=8          client source addresses 127.0.0.1..127.0.0.SRCS (tcpflood -S).
#                   The client closes first, so each connection leaves a
#                   TIME_WAIT behind; from a single source address the kernel
#                   caps the rate near 14k conn/s (port reuse once per
#                   tcp_tw_reuse_delay) and ref and sensor would look the
#                   same.  SRCS=1 gives strictly 127.0.0.1 -> 127.0.0.1.
#   HANIPO_CMD=./hanipo   the sensor, invoked as: $HANIPO_CMD run -c CONFIG
#   KEEP=1          keep the temp directory
#
# Exit status: 0 when measured (even if a goal fails), 1 on an event-count
# mismatch, client errors or a setup failure.  Last line is machine-readable:
#   RESULT trap ratio=... ref_cps=... hanipo_cps=... idle_rss_kb=... peak_rss_kb=...

cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
. bench/lib.sh

RUNS=${RUNS:-5}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONC=${CONC:-32}
PAYLOAD=${PAYLOAD:-100}
KIND=${KIND:-rdp}
SRCS=${SRCS:-8}
HANIPO_CMD=${HANIPO_CMD:-./hanipo}
BB=build/bench

die() { echo "trap.sh: $*" >&2; exit 1; }

bl_build bench/ref_epoll.c "$BB/ref_epoll" || die "cannot build ref_epoll"
bl_build bench/tcpflood.c "$BB/tcpflood" || die "cannot build tcpflood"
command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 (the CLI) is needed to count SQLite events"
# shellcheck disable=SC2086  # HANIPO_CMD may carry a wrapper and arguments
set -- $HANIPO_CMD
command -v "$1" >/dev/null 2>&1 || die "sensor not found: $1 (run make hanipo first)"

T=$(mktemp -d "${TMPDIR:-/tmp}/hanipo-bench-trap.XXXXXX") || die "mktemp failed"
SRV_PID=
# shellcheck disable=SC2317  # invoked by trap
cleanup() {
    if [ -n "$SRV_PID" ] && bl_alive "$SRV_PID"; then
        kill -KILL "$SRV_PID" 2>/dev/null
        wait "$SRV_PID" 2>/dev/null
    fi
    if [ "${KEEP:-0}" = 1 ] || [ -f "$T/.keep" ]; then
        echo "trap.sh: temp files kept in $T" >&2
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {  # keep the evidence
    : > "$T/.keep"
    echo "MISMATCH: $*"
    exit 1
}

# kv KEY LINE : value of KEY in a key=value line
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

flood() {  # flood PORT -> prints tcpflood's line
    "$BB/tcpflood" -h 127.0.0.1 -p "$1" -c "$CONC" -d "$DURATION" -s "$PAYLOAD" -w "$WARMUP" -S "$SRCS" -k "$KIND"
}

check_flood() {  # check_flood WHO LINE
    case $(kv errors "$2") in
        0) ;;
        *) fail "$1: client errors: $2" ;;
    esac
}

write_conf() {  # write_conf PORT
    cat > "$T/hanipo.ini" <<EOF
[sensor]
name = bench
data_dir = $T/data
log_level = warn

[capture]
fetch = false

[output jsonl]
enabled = true

[output sqlite]
enabled = true

[service trap]
protocol = trap
bind = 127.0.0.1
tcp_ports = $1
EOF
}

echo "trap bench: runs=$RUNS duration=${DURATION}s warmup=${WARMUP}s conc=$CONC payload=${PAYLOAD}B kind=$KIND srcs=$SRCS sensor='$HANIPO_CMD'"

REF_ALL='' HAN_ALL='' RATIO_ALL='' PEAK_ALL='' IDLE_RSS=''
i=1
while [ "$i" -le "$RUNS" ]; do
    # --- (a) reference server
    PORT=$(bl_free_port) || die "no free port"
    : > "$T/ref.log"
    "$BB/ref_epoll" "$PORT" "$T/ref.log" 2> "$T/ref.err" &
    SRV_PID=$!
    bl_wait_port "$PORT" 10 "$SRV_PID" || { cat "$T/ref.err" >&2; die "ref_epoll did not listen on $PORT"; }
    R=$(flood "$PORT")
    bl_stop "$SRV_PID" 10 || die "ref_epoll did not exit cleanly"
    SRV_PID=
    check_flood ref "$R"
    ref_total=$(kv total_completed "$R")
    ref_lines=$(wc -l < "$T/ref.log")
    [ "$ref_lines" -eq "$ref_total" ] || fail "ref: logged $ref_lines, client completed $ref_total"
    ref_cps=$(kv conns_per_sec "$R")

    # --- (b) hanipo
    PORT=$(bl_free_port) || die "no free port"
    rm -rf "$T/data"
    write_conf "$PORT"
    $HANIPO_CMD run -c "$T/hanipo.ini" > "$T/hanipo.out" 2>&1 &
    SRV_PID=$!
    if ! bl_wait_port "$PORT" 15 "$SRV_PID"; then
        tail -n 20 "$T/hanipo.out" >&2
        die "hanipo did not listen on $PORT"
    fi
    if [ "$i" -eq 1 ]; then
        sleep 1
        IDLE_RSS=$(bl_rss_kb "$SRV_PID") || die "cannot read idle RSS"
    fi
    H=$(flood "$PORT")
    peak=$(bl_peak_rss_kb "$SRV_PID") || peak=0
    bl_stop "$SRV_PID" 30
    rc=$?
    SRV_PID=
    [ "$rc" -eq 0 ] || { tail -n 20 "$T/hanipo.out" >&2; echo "trap.sh: warning: hanipo exit status $rc" >&2; }
    check_flood hanipo "$H"
    han_total=$(kv total_completed "$H")
    n_jsonl=$(cat "$T"/data/log/*.jsonl 2>/dev/null | grep -c '"eventid": *"session\.connect"')
    n_sql=$(sqlite3 "$T/data/hanipo.sqlite" "select count(*) from events where eventid='session.connect'" 2>/dev/null)
    [ -n "$n_sql" ] || n_sql=none
    han_cps=$(kv conns_per_sec "$H")
    ratio=$(bl_calc "$han_cps / $ref_cps")
    printf 'run %d/%d: ref %8.0f c/s   hanipo %8.0f c/s   ratio %.3f   peak_rss %s KB   events jsonl=%s sqlite=%s client=%s\n' \
        "$i" "$RUNS" "$ref_cps" "$han_cps" "$ratio" "$peak" "$n_jsonl" "$n_sql" "$han_total"
    [ "$n_jsonl" = "$han_total" ] || fail "hanipo: $n_jsonl session.connect in JSONL, client completed $han_total"
    [ "$n_sql" = "$han_total" ] || fail "hanipo: $n_sql session.connect in SQLite, client completed $han_total"

    REF_ALL="$REF_ALL $ref_cps" HAN_ALL="$HAN_ALL $han_cps"
    RATIO_ALL="$RATIO_ALL $ratio" PEAK_ALL="$PEAK_ALL $peak"
    i=$((i + 1))
done

# shellcheck disable=SC2086
REF_MED=$(bl_median $REF_ALL)
# shellcheck disable=SC2086
HAN_MED=$(bl_median $HAN_ALL)
# shellcheck disable=SC2086
RATIO_MED=$(bl_median $RATIO_ALL)   # median of the paired per-run ratios
# shellcheck disable=SC2086
PEAK_MED=$(bl_median $PEAK_ALL)

pf() { if "$@"; then echo PASS; else echo FAIL; fi; }
G_RATIO=$(pf bl_ge "$RATIO_MED" 0.80)
G_RSS=$(pf bl_ge 8192 "$IDLE_RSS")

echo
echo "                      median"
printf '  ref_epoll conn/s    %10.0f\n' "$REF_MED"
printf '  hanipo    conn/s    %10.0f\n' "$HAN_MED"
printf '  ratio (per-run)     %10.3f\n' "$RATIO_MED"
printf '  idle RSS KB         %10s   (first run, 1 s after listen)\n' "$IDLE_RSS"
printf '  peak RSS KB         %10.0f\n' "$PEAK_MED"
echo "  every connection logged: yes (JSONL and SQLite session.connect == client completed)"
echo "goal: ratio >= 0.80, idle RSS <= 8192 KB"
printf '  ratio    %.3f  %s\n' "$RATIO_MED" "$G_RATIO"
printf '  idle RSS %s KB  %s\n' "$IDLE_RSS" "$G_RSS"
printf 'RESULT trap kind=%s ratio=%.3f ref_cps=%.0f hanipo_cps=%.0f idle_rss_kb=%s peak_rss_kb=%.0f\n' \
    "$KIND" "$RATIO_MED" "$REF_MED" "$HAN_MED" "$IDLE_RSS" "$PEAK_MED"
exit 0
