#!/bin/sh
# bench/store.sh - CPU per event of the SQLite store, apart from the network.
#
# No goal of its own: it isolates the part of bench/http.sh's close mode
# that decides it (the SQLite writer, about 12 us of CPU per Connection:
# close request on the development VM) from that bench's noise, so a change
# to the store can be measured in seconds.  bench/store_write.c feeds the
# store the three events one close-mode connection leaves (session.connect,
# http.request, session.closed), CONNS connections per batch (7,000: what
# the writer gathers in its 200 ms at 35k requests/s), and times the write
# calls alone.
#
# Reference, in the same run: the same rows (the eight columns and the event
# JSON) inserted by plain SQLite into a table without indexes or roll-ups, one
# transaction per batch, the same WAL settings: what SQLite itself costs
# for the bytes.  ratio = reference us / hanipo us (1.0: the store costs no
# more than a bare insert; below: what the indexes and roll-ups add).
#
# Environment:
#   RUNS=3  BATCHES=20  CONNS=7000
#   KEEP=1  keep the temporary directory
#
# Needs a built build/libhanipo.a (make hanipo builds its objects; this
# script runs make for the archive).  Exit status 0 when measured, 1 on a
# setup failure.  Last line:
#   RESULT store ratio=... hanipo_us_per_event=... ref_us_per_event=... hanipo_us_per_conn=...

cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

RUNS=${RUNS:-3}
BATCHES=${BATCHES:-20}
CONNS=${CONNS:-7000}
BB=build/bench
die() { echo "store: $*" >&2; exit 1; }

bl_build_lib bench/store_write.c "$BB/store_write" || die "cannot build store_write"

T=$(mktemp -d /tmp/hanipo-bench-store.XXXXXX) || die "mktemp"
cleanup() { [ -n "${KEEP:-}" ] || rm -rf "$T"; }
trap cleanup EXIT INT TERM

# run WHICH : us per event of one run in a fresh directory
run() {
    rm -rf "$T/$1" && mkdir -p "$T/$1" || die "mkdir"
    out=$("$BB/store_write" "$1" "$T/$1" "$BATCHES" "$CONNS") || die "store_write $1 failed"
    echo "$out" | sed -n 's/.*us_per_event=\([0-9.]*\).*/\1/p'
}

HA=
REF=
i=1
while [ $i -le "$RUNS" ]; do
    h=$(run hanipo)
    r=$(run bare)
    printf 'run %d/%d  hanipo %.3f us/event (%.2f us per connection)   bare SQLite %.3f us/event   ratio %.3f\n' \
        "$i" "$RUNS" "$h" "$(bl_calc "$h * 3")" "$r" "$(bl_calc "$r / $h")"
    HA="$HA $h"
    REF="$REF $r"
    i=$((i + 1))
done
h=$(bl_median $HA)
r=$(bl_median $REF)
ratio=$(bl_calc "$r / $h")
echo
echo "medians            hanipo us/event   bare SQLite us/event   ratio"
printf '  close-mode rows  %15.3f %22.3f %7.3f   (no goal: %.2f us of writer CPU per connection)\n' \
    "$h" "$r" "$ratio" "$(bl_calc "$h * 3")"
printf 'RESULT store ratio=%.3f hanipo_us_per_event=%.3f ref_us_per_event=%.3f hanipo_us_per_conn=%.3f\n' \
    "$ratio" "$h" "$r" "$(bl_calc "$h * 3")"
