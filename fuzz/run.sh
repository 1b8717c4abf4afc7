#!/bin/sh
# Run libFuzzer harnesses and report what each did.
#
#   fuzz/run.sh SECONDS HARNESS...      run each harness for SECONDS seconds
#   fuzz/run.sh -minimize HARNESS...    minimise each committed seed corpus
#
# Each harness fuzzes a scratch copy of its seed corpus (fuzz/corpus/<name>/,
# name = harness minus "fuzz_") in build-fuzz/corpus/<name>/, so a run never
# edits the tree by itself.  With FUZZ_MERGE=1 (make fuzz) the inputs a run
# found are merged back into fuzz/corpus/<name>/ with libFuzzer's -merge=1,
# which adds only inputs that reach new coverage: the committed corpus grows
# by what is new, not by everything the run tried.  -minimize rebuilds each
# seed corpus from scratch with -merge=1 into a fresh directory and replaces
# the old one only when the merge succeeded and kept something.
#
# Environment:
#   FUZZ_JOBS   harnesses run at the same time (default 1)
#   FUZZ_ONLY   extended regex; only harnesses whose name matches run
#   FUZZ_MERGE  1: merge new finds into fuzz/corpus/<name>/ after the run
#   FUZZ_QUIET  1: print nothing but failures and one summary line (make test's smoke)
#   FUZZ_REPORT where the per-harness table goes (default build/fuzz/report.tsv)
#   FUZZ_TIMEOUT seconds one input may take before libFuzzer calls it a timeout
#               (default 10).  libFuzzer counts wall time: a run at nice 19
#               beside a busy machine waits for a CPU, so long runs there want
#               more (60); a real hang still shows.
#
# The table has one row per harness: seconds run, executions (libFuzzer's
# final stat::number_of_executed_units, -print_final_stats=1), executions per
# second, corpus size after the run (files), crash artifacts, and the status.
# Exit status: 0 when every harness ran clean, 1 otherwise.
set -u
mode=run
secs=0
if [ "${1:-}" = -minimize ]; then
    mode=minimize
else
    secs=$1
fi
shift
jobs=${FUZZ_JOBS:-1}
quiet=${FUZZ_QUIET:-0}
merge=${FUZZ_MERGE:-0}
report=${FUZZ_REPORT:-build/fuzz/report.tsv}
pass=0; fail=0

# Keep only the harnesses FUZZ_ONLY names (all of them when it is empty).
sel=""
for h in "$@"; do
    n=$(basename "$h"); n=${n#fuzz_}
    if [ -n "${FUZZ_ONLY:-}" ] && ! printf '%s\n' "$n" | grep -Eq -- "$FUZZ_ONLY"; then
        continue
    fi
    sel="$sel $h"
done
# shellcheck disable=SC2086
set -- $sel
if [ $# -eq 0 ]; then
    echo "fuzz: no harness matches FUZZ_ONLY='${FUZZ_ONLY:-}'" >&2
    exit 1
fi
mkdir -p build-fuzz "$(dirname "$report")"

say() { [ "$quiet" = 1 ] || echo "$@"; }

# count DIR: files in DIR (0 when it does not exist)
count() { [ -d "$1" ] && find "$1" -maxdepth 1 -type f | wc -l | tr -d ' ' || echo 0; }

# fstat NAME KEY: a libFuzzer final stat from the harness's log (empty when absent)
fstat() { sed -n "s/^stat::$2: *//p" "build-fuzz/$1.log" | tail -1; }

# run_one HARNESS: one harness; exit status in build-fuzz/NAME.rc, seconds in NAME.secs
run_one() {
    name=$(basename "$1"); name=${name#fuzz_}
    seed="fuzz/corpus/$name"
    work="build-fuzz/corpus/$name"
    crashes="build-fuzz/crashes/$name"
    rm -rf "$crashes"
    mkdir -p "$work" "$crashes"
    [ -d "$seed" ] && cp -n "$seed"/* "$work"/ 2>/dev/null
    t0=$(date +%s)
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$1" -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=1024 -print_final_stats=1 \
             -artifact_prefix="$crashes/" "$work" >"build-fuzz/$name.log" 2>&1
    rc=$?
    echo $(($(date +%s) - t0)) > "build-fuzz/$name.secs"
    if [ "$rc" = 0 ] && [ "$merge" = 1 ]; then
        # Only what reaches new coverage goes into the committed corpus.
        mkdir -p "$seed"
        if ! ASAN_OPTIONS=detect_leaks=1 "$1" -merge=1 -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=1024 \
                "$seed" "$work" >"build-fuzz/$name.merge.log" 2>&1; then
            echo "fuzz: $name: merging into $seed failed, see build-fuzz/$name.merge.log" >&2
            rc=2
        fi
    fi
    echo "$rc" > "build-fuzz/$name.rc"
}

# report HARNESS: count its result, print its failure, add its row to the table
report() {
    name=$(basename "$1"); name=${name#fuzz_}
    rc=$(cat "build-fuzz/$name.rc" 2>/dev/null || echo 1)
    execs=$(fstat "$name" number_of_executed_units)
    eps=$(fstat "$name" average_exec_per_sec)
    s=$(cat "build-fuzz/$name.secs" 2>/dev/null || echo 0)
    if [ "$merge" = 1 ]; then size=$(count "fuzz/corpus/$name"); else size=$(count "build-fuzz/corpus/$name"); fi
    ncrash=$(count "build-fuzz/crashes/$name")
    if [ "$rc" = 0 ]; then
        pass=$((pass + 1)); status=ok
    else
        fail=$((fail + 1)); status=FAILED
        echo "fuzz: $name FAILED, see build-fuzz/$name.log and build-fuzz/crashes/$name/" >&2
        tail -40 "build-fuzz/$name.log" >&2
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$s" "${execs:-0}" "${eps:-0}" "$size" "$ncrash" "$status" >> "$report"
}

# minimize HARNESS: rebuild fuzz/corpus/NAME with -merge=1 into a fresh directory.
# Seeds with a given name (anything but libFuzzer's 40-hex SHA-1 names) are kept
# as they are: fuzz/corpus/http_parse/curl-get documents what it is; the found
# inputs are kept only when they add coverage to those and to each other.
minimize() {
    name=$(basename "$1"); name=${name#fuzz_}
    seed="fuzz/corpus/$name"
    fresh="build-fuzz/min/$name"
    [ -d "$seed" ] || { say "fuzz: $name has no corpus"; return 0; }
    rm -rf "$fresh"; mkdir -p "$fresh"
    for f in "$seed"/*; do
        basename "$f" | grep -Eqx '[0-9a-f]{40}' || cp "$f" "$fresh"/
    done
    before=$(count "$seed")
    if ASAN_OPTIONS=detect_leaks=1 "$1" -merge=1 -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=1024 \
            "$fresh" "$seed" >"build-fuzz/$name.min.log" 2>&1 && [ "$(count "$fresh")" -gt 0 ]; then
        rm -rf "$seed"; mkdir -p "$seed"
        cp "$fresh"/* "$seed"/
        pass=$((pass + 1))
        say "fuzz: $name corpus $before -> $(count "$seed") files"
    else
        fail=$((fail + 1))
        echo "fuzz: $name: minimising failed, corpus kept; see build-fuzz/$name.min.log" >&2
    fi
}

if [ "$mode" = minimize ]; then
    for h in "$@"; do minimize "$h"; done
    echo "fuzz-minimize: $pass corpora minimised, $fail failed"
    [ "$fail" -eq 0 ]
    exit
fi

printf 'harness\tseconds\texecs\texec_per_s\tcorpus\tcrashes\tstatus\n' > "$report"
# In batches of $jobs: every harness runs for the same time, so batches cost no idle.
while [ $# -gt 0 ]; do
    batch=""
    n=0
    while [ $# -gt 0 ] && [ $n -lt "$jobs" ]; do
        batch="$batch $1"
        say "fuzz: $(basename "$1" | sed 's/^fuzz_//') for ${secs}s"
        run_one "$1" &
        shift
        n=$((n + 1))
    done
    wait
    for h in $batch; do
        report "$h"
    done
done
if [ "$quiet" != 1 ]; then
    echo
    column -t -s "$(printf '\t')" "$report" 2>/dev/null || cat "$report"
    awk -F '\t' 'NR > 1 { s += $2; e += $3 } END { printf "total: %d harness-seconds, %d executions\n", s, e }' "$report"
    echo "(table in $report)"
fi
echo "fuzz harnesses: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
