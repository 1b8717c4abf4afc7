#!/bin/bash
# sandbox-trace.sh - re-derive the seccomp allowlist (src/core/sandbox.c).
#
#   tools/sandbox-trace.sh OUTDIR BINARY -- run.py filters...
#
# Runs the integration cases named by the filters with HANIPO_BIN=BINARY while a
# poller attaches `strace -f -qq` to every new process of that binary (so the
# sandbox is already loaded or about to be), then prints the system calls
# seen and every call that failed with EPERM/EACCES/ENOSYS: with the strict
# sandbox on, a call missing from the allowlist shows up there.  Sanitizer
# builds: LeakSanitizer cannot run under strace, so their stops fail; the
# traces are still complete.  Root only (strace -p on a sensor that dropped
# to another user).
set -eu
out=$1; bin=$(readlink -f "$2"); shift 2
[ "${1:-}" = "--" ] && shift
command -v strace >/dev/null || { echo "strace is not installed" >&2; exit 1; }
mkdir -p "$out"
flag=$(mktemp)
(
    declare -A seen
    while [ -e "$flag" ]; do
        for p in $(pgrep -x hanipo || true); do
            [ -n "${seen[$p]:-}" ] && continue
            seen[$p]=1
            [ "$(readlink /proc/$p/exe 2>/dev/null)" = "$bin" ] &&
                strace -f -qq -o "$out/t.$p" -p "$p" 2>/dev/null &
        done
        sleep 0.02
    done
) &
poller=$!
HANIPO_BIN=$bin /usr/bin/python3 "$(dirname "$0")/../tests/integration/run.py" "$@" > "$out/run.log" 2>&1 || true
rm -f "$flag"
wait "$poller" 2>/dev/null || true
/usr/bin/python3 - "$out" <<'PY'
import collections, glob, re, sys
names, bad = collections.Counter(), {}
for fn in glob.glob(sys.argv[1] + "/t.*"):
    for l in open(fn, errors="replace"):
        m = re.match(r"^\d+\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()", l)
        if not m:
            continue
        n = m.group(1) or m.group(2)
        names[n] += 1
        if re.search(r"= -1 (EPERM|EACCES|ENOSYS)", l):
            bad.setdefault(n, l.strip()[:200])
print("system calls seen:", " ".join(sorted(names)))
print("refused (check each against the allowlist and Landlock rules):")
for n, l in sorted(bad.items()):
    print("  " + l)
PY
