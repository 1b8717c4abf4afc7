#!/bin/sh
# Run each libFuzzer harness for SECONDS seconds on a scratch copy of its seed
# corpus (fuzz/corpus/<name>/, name = harness minus "fuzz_"); new inputs found
# go to build-fuzz/corpus/<name>/ so the committed corpus stays minimal.
# FUZZ_JOBS harnesses (default: the number of CPUs) run at the same time.
# Usage: fuzz/run.sh SECONDS HARNESS...
set -u
secs=$1; shift
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
pass=0; fail=0

# run_one HARNESS: one harness; its exit status in build-fuzz/NAME.rc
run_one() {
    name=$(basename "$1"); name=${name#fuzz_}
    seed="fuzz/corpus/$name"
    work="build-fuzz/corpus/$name"
    mkdir -p "$work" "build-fuzz/crashes/$name"
    [ -d "$seed" ] && cp -n "$seed"/* "$work"/ 2>/dev/null
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$1" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
             -artifact_prefix="build-fuzz/crashes/$name/" "$work" >"build-fuzz/$name.log" 2>&1
    echo $? > "build-fuzz/$name.rc"
}

# report HARNESS: print its result and count it
report() {
    name=$(basename "$1"); name=${name#fuzz_}
    if [ "$(cat "build-fuzz/$name.rc" 2>/dev/null)" = 0 ]; then
        pass=$((pass + 1))
        grep -E '^stat::number_of_executed_units' "build-fuzz/$name.log" | sed "s/^/  $name /"
    else
        fail=$((fail + 1))
        echo "fuzz: $name FAILED, see build-fuzz/$name.log and build-fuzz/crashes/$name/" >&2
        tail -40 "build-fuzz/$name.log" >&2
    fi
}

# In batches of $jobs: every harness runs for the same time, so batches cost no idle.
while [ $# -gt 0 ]; do
    batch=""
    n=0
    while [ $# -gt 0 ] && [ $n -lt "$jobs" ]; do
        batch="$batch $1"
        echo "fuzz: $(basename "$1" | sed 's/^fuzz_//') for ${secs}s"
        run_one "$1" &
        shift
        n=$((n + 1))
    done
    wait
    for h in $batch; do
        report "$h"
    done
done
echo "fuzz harnesses: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
