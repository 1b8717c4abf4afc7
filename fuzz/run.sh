#!/bin/sh
# Run each libFuzzer harness for SECONDS seconds on a scratch copy of its seed
# corpus (fuzz/corpus/<name>/, name = harness minus "fuzz_"); new inputs found
# go to build-fuzz/corpus/<name>/ so the committed corpus stays minimal.
# Usage: fuzz/run.sh SECONDS HARNESS...
set -u
secs=$1; shift
pass=0; fail=0
for h in "$@"; do
    name=$(basename "$h"); name=${name#fuzz_}
    seed="fuzz/corpus/$name"
    work="build-fuzz/corpus/$name"
    mkdir -p "$work" "build-fuzz/crashes/$name"
    [ -d "$seed" ] && cp -n "$seed"/* "$work"/ 2>/dev/null
    echo "fuzz: $name for ${secs}s"
    if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
             -artifact_prefix="build-fuzz/crashes/$name/" "$work" >"build-fuzz/$name.log" 2>&1; then
        pass=$((pass + 1))
        grep -E '^stat::number_of_executed_units' "build-fuzz/$name.log" | sed "s/^/  $name /"
    else
        fail=$((fail + 1))
        echo "fuzz: $name FAILED, see build-fuzz/$name.log and build-fuzz/crashes/$name/" >&2
        tail -40 "build-fuzz/$name.log" >&2
    fi
done
echo "fuzz harnesses: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
