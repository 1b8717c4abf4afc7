#!/bin/sh
# bench/clickhouse_ingest.sh - sustained events/s from one sensor into ClickHouse.
#
# Goal (issue 12): >= 100,000 events/s from one sensor with <= 1 s added
# latency at that rate.
#
# Generating 100,000 events/s through the network is not possible on a
# 2-core machine that also runs ClickHouse, so the sensor's network side is
# left out: bench/ch_ingest.c links build/libhanipo.a and pushes synthetic
# events (about 450 bytes of JSON each) through [output clickhouse]'s ops
# exactly as the sensor's writer thread does: write() into the disk spool,
# the output's own shipper thread INSERTs into ClickHouse.  An event counts
# when ClickHouse acknowledged its INSERT.
#
# Reference, in the same run and against the same server: clickhouse-client
# inserting the same number of rows, in the same format (RowBinary with the
# hot columns' values, built by the same row code), from a file.  ratio = hanipo events/s / reference rows/s.
#
# Measured per run (medians of RUNS):
#   max    push as fast as write() takes them for DURATION s; events/s =
#          events / time until the last one is acknowledged
#   rate   push RATE events/s for DURATION s; latency = push to acknowledgement
#          per event (p50 / p99 / max), and whether the rate was sustained
#
# Environment:
#   RUNS=3  DURATION=5  RATE=100000  (RATE for the latency run)
#   KEEP=1  keep the temporary directory
#
# Needs clickhouse-server and clickhouse-client (tools/deps.sh), a built
# build/libhanipo.a (make hanipo).  Exit status: 0 when measured (even if a
# goal fails), 1 on a setup failure or rows missing.  Last line:
#   RESULT clickhouse_ingest ratio=... hanipo_eps=... ref_eps=... rate=... rate_eps=... lat_p50_ms=... lat_p99_ms=...

cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
RATE=${RATE:-100000}
BB=build/bench
die() { echo "clickhouse_ingest: $*" >&2; exit 1; }

command -v clickhouse-client >/dev/null 2>&1 && [ -x /usr/sbin/clickhouse-server ] ||
    die "clickhouse-server/clickhouse-client missing (tools/deps.sh)"
bl_build_lib bench/ch_ingest.c "$BB/ch_ingest" || die "cannot build ch_ingest"

T=$(mktemp -d /tmp/hanipo-bench-ch.XXXXXX) || die "mktemp"
CH_PID=""
cleanup() {
    [ -n "$CH_PID" ] && kill -KILL "$CH_PID" 2>/dev/null && wait "$CH_PID" 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

HTTP=$(bl_free_port); TCP=$(bl_free_port); INTER=$(bl_free_port)
cat > "$T/config.xml" <<EOF
<yandex>
  <logger><level>warning</level><log>$T/server.log</log><errorlog>$T/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$HTTP</http_port><tcp_port>$TCP</tcp_port><interserver_http_port>$INTER</interserver_http_port>
  <path>$T/ch/</path><tmp_path>$T/tmp/</tmp_path><user_files_path>$T/uf/</user_files_path>
  <format_schema_path>$T/fs/</format_schema_path>
  <users_config>$T/users.xml</users_config>
  <default_profile>default</default_profile><default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size><mlock_executable>false</mlock_executable>
</yandex>
EOF
cat > "$T/users.xml" <<EOF
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
EOF
/usr/sbin/clickhouse-server --config-file="$T/config.xml" > "$T/server.out" 2>&1 &
CH_PID=$!
bl_wait_port "$HTTP" 30 "$CH_PID" || die "clickhouse-server did not start (see $T/error.log)"
sleep 0.5

mkdir -p "$T/data"
cat > "$T/hanipo.ini" <<EOF
[sensor]
name = bench
data_dir = $T/data
disk_floor = 0
[output clickhouse]
url = http://127.0.0.1:$HTTP
spool_dir = $T/spool
spool_max = 4G
[service trap]
protocol = trap
tcp_ports = $(bl_free_port)
EOF
./hanipo clickhouse init -c "$T/hanipo.ini" >/dev/null || die "hanipo clickhouse init failed"

q() { clickhouse-client --port "$TCP" --query "$1"; }

REF="" MAX="" REPS="" P50="" P99="" LMAX=""
i=1
while [ $i -le "$RUNS" ]; do
    # hanipo, as fast as it goes
    q "TRUNCATE TABLE hanipo.events"
    out=$("$BB/ch_ingest" run "$T/hanipo.ini" 0 "$DURATION") || die "ch_ingest run failed: $out"
    n=$(echo "$out" | sed 's/.*events=\([0-9]*\).*/\1/')
    eps=$(echo "$out" | sed 's/.*eps=\([0-9]*\).*/\1/')
    got=$(q "SELECT count() FROM hanipo.events")
    [ "$got" = "$n" ] || die "run $i: $n events pushed, $got rows in ClickHouse"
    MAX="$MAX $eps"
    # the reference: the same number of rows from a file
    "$BB/ch_ingest" rows "$T/rows.bin" "$n" || die "cannot write rows"
    q "TRUNCATE TABLE hanipo.events"
    t0=$(date +%s.%N)
    # Blocks of 100,000 rows, as the output's INSERTs (batch_size) are at most.
    clickhouse-client --port "$TCP" --max_insert_block_size=100000 \
        --query "INSERT INTO hanipo.events ($("$BB/ch_ingest" columns)) FORMAT RowBinary" < "$T/rows.bin" ||
        die "clickhouse-client insert failed"
    t1=$(date +%s.%N)
    rm -f "$T/rows.bin"
    ref=$(bl_calc "$n / ($t1 - $t0)")
    REF="$REF $ref"
    # hanipo at RATE: latency
    q "TRUNCATE TABLE hanipo.events"
    out=$("$BB/ch_ingest" run "$T/hanipo.ini" "$RATE" "$DURATION") || die "ch_ingest rate run failed: $out"
    REPS="$REPS $(echo "$out" | sed 's/.*eps=\([0-9]*\).*/\1/')"
    P50="$P50 $(echo "$out" | sed 's/.*lat_p50_ms=\([0-9.]*\).*/\1/')"
    P99="$P99 $(echo "$out" | sed 's/.*lat_p99_ms=\([0-9.]*\).*/\1/')"
    LMAX="$LMAX $(echo "$out" | sed 's/.*lat_max_ms=\([0-9.]*\).*/\1/')"
    printf 'run %d: hanipo %s ev/s, clickhouse-client %.0f rows/s; at %s ev/s: %s\n' "$i" "$eps" "$ref" "$RATE" "$out"
    i=$((i + 1))
done

# shellcheck disable=SC2086
{
    HM=$(bl_median $MAX); RM=$(bl_median $REF); RE=$(bl_median $REPS)
    L50=$(bl_median $P50); L99=$(bl_median $P99); LM=$(bl_median $LMAX)
}
RATIO=$(bl_calc "$HM / $RM")
printf '\n  clickhouse-client (reference)  %10.0f rows/s\n' "$RM"
printf '  hanipo output, max            %10.0f events/s  (ratio %.3f)\n' "$HM" "$RATIO"
printf '  hanipo output at %s/s       %10.0f events/s, latency p50 %s ms, p99 %s ms, max %s ms\n' \
    "$RATE" "$RE" "$L50" "$L99" "$LM"
printf '  machine: %s cores, load average %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
if bl_ge "$HM" 100000 && bl_ge 1000 "$L99"; then g=met; else g=missed; fi
printf '  goal (>= 100000 events/s, p99 latency <= 1000 ms): %s\n' "$g"
printf 'RESULT clickhouse_ingest ratio=%.3f hanipo_eps=%.0f ref_eps=%.0f rate=%s rate_eps=%.0f lat_p50_ms=%s lat_p99_ms=%s\n' \
    "$RATIO" "$HM" "$RM" "$RATE" "$RE" "$L50" "$L99"
