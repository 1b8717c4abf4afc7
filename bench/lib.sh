# bench/lib.sh - shared helpers for bench/*.sh (POSIX sh; source it, do not run it).
#
#   . "$(dirname "$0")/lib.sh"
#
# Everything is prefixed bl_.  Functions print their result on stdout and
# return non-zero on failure.  Running this file directly (make bench runs
# every bench/*.sh) does nothing.

BL_PYTHON=${BL_PYTHON:-/usr/bin/python3}

# bl_median N... : median of the numbers (mean of the two middle ones when
# the count is even).  Prints nothing and returns 1 when given none.
bl_median() {
    [ $# -gt 0 ] || return 1
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
              printf "%.6g\n", m }'
}

# bl_calc EXPR : evaluate an awk arithmetic expression, e.g. bl_calc "3 / 4".
bl_calc() {
    awk "BEGIN { printf \"%.6g\n\", ($1) }"
}

# bl_ge A B : true if number A >= number B.
bl_ge() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'
}

# bl_cpu_threads PID... : "NAME TICKS" for every thread of the processes,
# TICKS its user+system CPU in clock ticks (getconf CLK_TCK per second),
# NAME its thread name (hanipo names its threads: out-NAME an output's
# writer), except the process's main thread, always "main" (hanipo's network
# thread, named after the binary, which HANIPO_CMD may rename).  Snapshot it
# before and after a run and give both to bl_cpu_delta.
bl_cpu_threads() {
    for _bl_p in "$@"; do
        for _bl_t in /proc/"$_bl_p"/task/*; do
            [ -r "$_bl_t/stat" ] || continue
            _bl_n=$(cat "$_bl_t/comm" | tr ' ' _)
            [ "${_bl_t##*/}" = "$_bl_p" ] && _bl_n=main
            # the name is in parentheses and may hold spaces: count fields after it
            sed 's/^.*) //' "$_bl_t/stat" | awk -v n="$_bl_n" '{ print n, $12 + $13 }'
        done
    done
}

# bl_cpu_delta BEFORE AFTER REQUESTS : microseconds of CPU per request of each
# thread name (threads of the same name summed), as "name=us name=us ...".
bl_cpu_delta() {
    printf '%s\n%s\n' "$1" "$2" | awk -v r="$3" -v hz="$(getconf CLK_TCK)" -v nb="$(printf '%s\n' "$1" | wc -l)" '
        NR <= nb { b[$1] += $2; next }
        { a[$1] += $2; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
        END { for (i = 1; i <= k; i++) { n = order[i]; printf "%s%s=%.2f", (i > 1 ? " " : ""), n, (a[n] - b[n]) * 1e6 / hz / r }
              printf "\n" }'
}

# bl_cpu_get DELTA NAME : the figure of thread NAME in a bl_cpu_delta line;
# NAME "out-*" sums the outputs' writers, "*" every thread.  0 when absent.
bl_cpu_get() {
    printf '%s\n' "$1" | tr ' ' '\n' | awk -F= -v n="$2" '
        (n == "*" || $1 == n || (n == "out-*" && $1 ~ /^out-/)) { s += $2 }
        END { printf "%.2f\n", s }'
}

# bl_children PID : the PIDs whose parent is PID (one per line).
bl_children() {
    grep -l "^PPid:[[:space:]]*$1\$" /proc/[0-9]*/status 2> /dev/null | cut -d/ -f3
}

# bl_port_listening PORT : true if something listens on TCP PORT (any
# address, IPv4 or IPv6).  Reads /proc/net/tcp*, so it never connects - a
# probe connection would show up in a honeypot's event counts.
bl_port_listening() {
    _bl_hex=$(printf '%04X' "$1")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk -v p="$_bl_hex" '$4 == "0A" { n = split($2, a, ":"); if (a[n] == p) f = 1 }
                             END { exit !f }'
}

# bl_free_port : print a TCP port that is currently free on 127.0.0.1.
bl_free_port() {
    if [ -x "$BL_PYTHON" ]; then
        "$BL_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>/dev/null && return 0
    fi
    # Fallback: pseudo-random candidates in 20000-32767 that nothing uses.
    _bl_used=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk 'NR > 1 { n = split($2, a, ":"); print a[n] }' | sort -u)
    _bl_i=0
    while [ $_bl_i -lt 200 ]; do
        _bl_p=$(( 20000 + ($$ * 7919 + _bl_i * 104729 + $(date +%N 2>/dev/null | sed 's/^0*//;s/^$/0/') ) % 12768 ))
        _bl_hex=$(printf '%04X' "$_bl_p")
        if ! printf '%s\n' "$_bl_used" | grep -qx "$_bl_hex"; then
            echo "$_bl_p"
            return 0
        fi
        _bl_i=$((_bl_i + 1))
    done
    return 1
}

# bl_alive PID : true if PID exists and is not a zombie.
bl_alive() {
    [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# bl_wait_port PORT [TIMEOUT_S=10] [PID] : wait until PORT is listening.
# Fails early if PID (the server) dies.
bl_wait_port() {
    _bl_tries=$(( ${2:-10} * 20 ))
    while [ $_bl_tries -gt 0 ]; do
        bl_port_listening "$1" && return 0
        if [ -n "$3" ] && ! bl_alive "$3"; then return 1; fi
        sleep 0.05
        _bl_tries=$((_bl_tries - 1))
    done
    return 1
}

# bl_status_kb PID FIELD : a kB field of /proc/PID/status (VmRSS, VmHWM, ...).
bl_status_kb() {
    awk -v f="$2:" '$1 == f { print $2; found = 1 } END { exit !found }' "/proc/$1/status" 2>/dev/null
}

# bl_rss_kb PID : current resident set size in kB (VmRSS).
bl_rss_kb() { bl_status_kb "$1" VmRSS; }

# bl_peak_rss_kb PID : peak resident set size in kB (VmHWM).  Read it
# before the process exits.
bl_peak_rss_kb() { bl_status_kb "$1" VmHWM; }

# bl_stop PID [TIMEOUT_S=30] : SIGTERM, wait for the exit (the process must be
# a child of this shell to reap it), SIGKILL after TIMEOUT.  Returns the
# process's exit status, or 124 if it had to be killed.
bl_stop() {
    kill -TERM "$1" 2>/dev/null
    _bl_tries=$(( ${2:-30} * 20 ))
    while bl_alive "$1" && [ $_bl_tries -gt 0 ]; do
        sleep 0.05
        _bl_tries=$((_bl_tries - 1))
    done
    if bl_alive "$1"; then
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        return 124
    fi
    wait "$1" 2>/dev/null
}

# bl_build SRC OUT [CFLAGS...] : compile a single-file C program with
# ${CC:-cc} if OUT is missing or older than SRC.
bl_build() {
    _bl_src=$1 _bl_out=$2
    shift 2
    if [ ! -x "$_bl_out" ] || [ -n "$(find "$_bl_src" -newer "$_bl_out" 2>/dev/null)" ]; then
        mkdir -p "$(dirname "$_bl_out")" || return 1
        ${CC:-cc} -O2 -Wall -Wextra "$@" -o "$_bl_out" "$_bl_src" || return 1
    fi
}

# bl_build_lib SRC OUT : compile a driver that links build/libhanipo.a with
# the libraries the Makefile names (make print-pkgs), if OUT is missing or
# older than SRC or the archive; make brings the archive up to date first.
bl_build_lib() {
    make -s build/libhanipo.a > /dev/null || return 1
    if [ ! -x "$2" ] || [ -n "$(find "$1" build/libhanipo.a -newer "$2" 2>/dev/null)" ]; then
        _bl_pkgs=$(make -s --no-print-directory print-pkgs) || return 1
        mkdir -p "$(dirname "$2")" || return 1
        # shellcheck disable=SC2046
        ${CC:-cc} -O2 -Wall -Wextra -std=c11 -D_GNU_SOURCE -Isrc -Isrc/core $(pkg-config --cflags $_bl_pkgs) \
            -o "$2" "$1" build/libhanipo.a $(pkg-config --libs $_bl_pkgs) -lpthread -lm || return 1
    fi
}

# bl_data_stamp N SEED D0 : what report_gen.py's data set of N events depends
# on: its arguments, the generator, and the store's schema as src/store/
# sqlite.c makes it (page size, tables, indexes).  A cached data set whose
# stamp differs is generated again.
bl_data_stamp() {
    _bl_schema=$("$BL_PYTHON" bench/report_gen.py --schema) || return 1
    echo "n=$1 seed=$2 d0=$3 gen=$(cksum < bench/report_gen.py | cut -d' ' -f1)" \
        "schema=$(printf '%s' "$_bl_schema" | cksum | cut -d' ' -f1)"
}

# bl_rollups CACHE CONF STAMP CMD : build the roll-up tables of the store in
# CACHE once (CMD rollup --rebuild -c CONF, untimed: a sensor keeps them as it
# stores events), unless CACHE/.rollup says they were built for STAMP (the data
# set's) and the current src/store/rollup.c.
bl_rollups() {
    _bl_rs="$3 $(cksum < src/store/rollup.c | cut -d' ' -f1)"
    [ "$(cat "$1/.rollup" 2>/dev/null)" = "$_bl_rs" ] && return 0
    echo "building the roll-up tables (hanipo rollup --rebuild; not timed, cached)"
    _bl_t0=$(date +%s)
    # shellcheck disable=SC2086  # CMD may carry a wrapper and arguments
    $4 rollup --rebuild -c "$2" || return 1
    echo "$_bl_rs" > "$1/.rollup"
    echo "roll-ups built in $(( $(date +%s) - _bl_t0 )) s"
}
