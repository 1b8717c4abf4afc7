#!/bin/sh
# bench/http.sh - hanipo's HTTP engine vs. nginx serving a static page.
#
# Goal: hanipo requests/s >= 1.0 x nginx requests/s, with keep-alive and with
# Connection: close, while hanipo records (JSONL + SQLite) and classifies every
# request.  Also the cost of TLS: a TLS 1.3 handshake per request (Connection:
# close over https; wrk resumes its session, so a PSK handshake with a fresh
# X25519 exchange, no RSA signature) with JA3/JA4 on hanipo's side, vs. nginx
# TLS 1.3.
#
# nginx (Debian's, started by this script) runs ONE worker process, with
# access logging to a file: hanipo's network thread is one thread too, so
# the ratio compares the same amount of CPU for the request path.  nginx is
# set up at its fastest for each mode: for Connection: close (and TLS) with
# Debian's packaged "sendfile on; tcp_nopush on;", which corks the answer so
# that it leaves with the FIN in one segment (8% more req/s than without);
# for keep-alive without them (nginx's own default), as a sendfile() per
# request of a small page costs it 10% there.
#
# Environment:
#   RUNS=3          interleaved nginx/hanipo pairs per mode (medians reported)
#   DURATION=5      seconds per wrk run
#   CONC=64         connections (wrk -c), THREADS=2 (wrk -t)
#   MODES="keepalive close tls close-jsonl varied browser"   which modes to measure
#
# close-jsonl is close with hanipo's SQLite store turned off (JSONL only, as
# nginx's one log line): no goal, it shows what the default store costs.
# varied is keep-alive with every request different (its query names the
# wrk thread and a counter): hanipo then decides each one afresh instead of
# reusing the verdict on an identical request (src/proto/http_memo.h), as
# for traffic that never repeats.  No goal: it shows what deciding costs.
# browser is varied with a browser's headers (Chrome's User-Agent, Accept,
# Accept-Language): every header value is a text the classifier's rules look
# at, as in real traffic, where wrk's requests carry only Host.  No goal.
#   HANIPO_CMD=./hanipo
#   KEEP=1          keep the temp directory
#
# With the SQLite store on, it reads what the JSONL output wrote, at idle CPU
# priority (docs/events.md#sqlite): under wrk's load it falls behind, and
# catches up once wrk has finished.  Each run prints how long that took
# ("store caught up N s after wrk", with the store thread's CPU per request
# catching up included) and checks, after the sensor stopped,
# that the store holds every http.request the JSONL files hold.
#
# Exit status 0 when measured (even if a goal fails), 1 on a setup failure.
# Last lines are machine-readable: RESULT http mode=... ratio=... nginx_rps=... hanipo_rps=...

cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

RUNS=${RUNS:-3}
MODES=${MODES:-keepalive close tls close-jsonl varied browser}
DURATION=${DURATION:-5}
CONC=${CONC:-64}
THREADS=${THREADS:-2}
HANIPO_CMD=${HANIPO_CMD:-./hanipo}

die() { echo "http.sh: $*" >&2; exit 1; }
command -v wrk > /dev/null || die "wrk is not installed (apt-get install wrk)"
command -v nginx > /dev/null || [ -x /usr/sbin/nginx ] || die "nginx is not installed (apt-get install nginx-light)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "${HANIPO_CMD%% *}" ] || die "$HANIPO_CMD not built (make)"

T=$(mktemp -d /tmp/hanipo-bench-http.XXXXXX) || die "mktemp"
chmod 755 "$T"
SRV_PID=
cleanup() {
    [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null
    [ -f "$T/nginx.pid" ] && kill "$(cat "$T/nginx.pid")" 2>/dev/null
    [ -n "$KEEP" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

# The page both serve, byte for byte: hanipo's default page is nginx's own
# index.html (615 bytes).  The size matters beyond the copy: an answer
# longer than 536 bytes makes the client acknowledge it at once, a shorter
# one lets that ACK ride on the client's FIN, one packet fewer per
# Connection: close request.
mkdir -p "$T/www" "$T/nginx"
cp data/http/files/nginx-index.html "$T/www/index.html" || die "data/http/files/nginx-index.html is missing"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=bench" -keyout "$T/nginx/key.pem" \
    -out "$T/nginx/cert.pem" > /dev/null 2>&1 || die "openssl req"

nginx_conf() {  # PORT TLSPORT SENDFILE(on|off)
    cat > "$T/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $T/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 4096; }
http {
    sendfile $3;
    tcp_nopush $3;
    access_log $T/nginx/access.log;
    client_body_temp_path $T/nginx;
    proxy_temp_path $T/nginx;
    fastcgi_temp_path $T/nginx;
    uwsgi_temp_path $T/nginx;
    scgi_temp_path $T/nginx;
    server {
        listen 127.0.0.1:$1;
        listen 127.0.0.1:$2 ssl;
        # Debian 12's nginx 1.22 leaves TLS 1.3 out of its default protocols;
        # hanipo speaks 1.3 (as current servers do), so nginx must too, or the
        # reference does cheaper TLS 1.2 ticket resumptions (no key exchange).
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate $T/nginx/cert.pem;
        ssl_certificate_key $T/nginx/key.pem;
        root $T/www;
    }
}
EOF
}

hanipo_conf() {  # PORT SQLITE(true|false)
    cat > "$T/hanipo.ini" <<EOF
[sensor]
name = bench
data_dir = $T/data
log_level = warn
[limits]
max_connections = 20000
max_per_source = 20000
[capture]
fetch = false
[output jsonl]
enabled = true
[output sqlite]
enabled = $2
[service web]
protocol = http
bind = 127.0.0.1
tcp_ports = $1
keepalive_requests = 100000
EOF
}

# catch_up DATA_DIR -> seconds until the SQLite store holds every http.request
# of the JSONL files (they are complete within 10 ms of wrk's end).
catch_up() {
    /usr/bin/python3 - "$1" <<'EOF'
import glob, sqlite3, sys, time
d, t0 = sys.argv[1], time.monotonic()
time.sleep(0.05)
want = sum(open(f, "rb").read().count(b'"eventid":"http.request"') for f in glob.glob(d + "/log/*.jsonl"))
while True:
    try:
        con = sqlite3.connect("file:%s/hanipo.sqlite?mode=ro" % d, uri=True, timeout=10)
        got = con.execute("SELECT count(*) FROM events WHERE eventid = 'http.request'").fetchone()[0]
        con.close()
    except sqlite3.Error:
        got = -1
    if got >= want or time.monotonic() - t0 > 600:
        break
    time.sleep(0.05)
print("%.1f" % (time.monotonic() - t0))
EOF
}

# stored DATA_DIR -> http.request rows in the SQLite store
stored() {
    /usr/bin/python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1] + "/hanipo.sqlite").execute("SELECT count(*) FROM events WHERE eventid = ?", ("http.request",)).fetchone()[0])' "$1"
}

# Every request of the varied mode its own: /?t=THREAD&n=COUNTER.
cat > "$T/varied.lua" <<'EOF'
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end
function init(args)
    n = 0
end
function request()
    n = n + 1
    return wrk.format(nil, "/?t=" .. tid .. "&n=" .. n)
end
EOF

# wrk PORT SCHEME MODE -> "REQ_PER_S REQUESTS WRK_US_PER_REQUEST" (MODE:
# keepalive | close | varied | browser).  wrk runs in a shell of its own whose
# cutime/cstime, once wrk is reaped, are wrk's CPU: the load generator's share
# of the machine.
run_wrk() {
    # wrk drops a header without a space after the colon ("Connection:close"),
    # so the header is passed as one quoted word.
    if [ "$3" = close ]; then
        set -- -H "Connection: close" "$2://127.0.0.1:$1/"
    elif [ "$3" = varied ]; then
        set -- -s "$T/varied.lua" "$2://127.0.0.1:$1/"
    elif [ "$3" = browser ]; then
        set -- -s "$T/varied.lua" \
            -H "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36" \
            -H "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8" \
            -H "Accept-Language: en-US,en;q=0.9" "$2://127.0.0.1:$1/"
    else
        set -- "$2://127.0.0.1:$1/"
    fi
    sh -c 'out=$1; shift; "$@" > "$out" 2> /dev/null; sed "s/^.*) //" /proc/$$/stat | awk "{ print \$14 + \$15 }"' \
        sh "$T/wrk.out" wrk -t"$THREADS" -c"$CONC" -d"${DURATION}s" "$@" > "$T/wrk.cpu"
    awk -v cpu="$(cat "$T/wrk.cpu")" -v hz="$(getconf CLK_TCK)" \
        '/^Requests\/sec:/ { rps = $2 } / requests in / { n = $1 }
        END { if (rps != "" && n > 0) print rps, n, cpu * 1e6 / hz / n }' "$T/wrk.out"
}

echo "http bench: runs=$RUNS duration=${DURATION}s conc=$CONC threads=$THREADS sensor='$HANIPO_CMD' nginx='$NGINX' (1 worker)"
for MODE in $MODES; do
    V=$(echo "$MODE" | tr - _)
    eval "NG_$V=''; HA_$V=''; RA_$V=''; CNG_$V=''; CNK_$V=''; CHN_$V=''; CHO_$V=''; CHA_$V=''; CHK_$V=''"
done
i=1
while [ "$i" -le "$RUNS" ]; do
    for MODE in $MODES; do
        scheme=http
        wmode=$MODE
        [ "$MODE" = tls ] && scheme=https && wmode=close
        sqlite=true
        [ "$MODE" = close-jsonl ] && sqlite=false && wmode=close
        # nginx
        P=$(bl_free_port) || die "no free port"
        PT=$(bl_free_port) || die "no free port"
        sendfile=off
        [ "$wmode" = close ] && sendfile=on
        nginx_conf "$P" "$PT" "$sendfile"
        "$NGINX" -c "$T/nginx/nginx.conf" -p "$T/nginx" > /dev/null 2>&1 &
        SRV_PID=$!
        bl_wait_port "$P" 10 "$SRV_PID" || die "nginx did not start ($(tail -n 3 "$T/nginx/error.log"))"
        port=$P
        [ "$MODE" = tls ] && port=$PT
        w=; tries=100
        while [ -z "$w" ] && [ $tries -gt 0 ]; do w=$(bl_children "$SRV_PID"); tries=$((tries - 1)); sleep 0.05; done
        [ -n "$w" ] || die "no nginx worker process"
        c0=$(bl_cpu_threads $w)
        set -- $(run_wrk "$port" "$scheme" "$wmode")
        c1=$(bl_cpu_threads $w)
        ng=$1
        [ -n "$ng" ] || die "wrk gave no figure ($MODE: nginx)"
        cng=$(bl_cpu_get "$(bl_cpu_delta "$c0" "$c1" "$2")" "*")
        cnk=$3
        kill "$SRV_PID" 2> /dev/null
        wait "$SRV_PID" 2> /dev/null
        SRV_PID=
        # hanipo (TLS is detected on the same port)
        P=$(bl_free_port) || die "no free port"
        rm -rf "$T/data"
        hanipo_conf "$P" "$sqlite"
        $HANIPO_CMD run -c "$T/hanipo.ini" > "$T/hanipo.out" 2>&1 &
        SRV_PID=$!
        bl_wait_port "$P" 20 "$SRV_PID" || { tail -n 5 "$T/hanipo.out" >&2; die "hanipo did not start"; }
        c0=$(bl_cpu_threads "$SRV_PID")
        set -- $(run_wrk "$P" "$scheme" "$wmode")
        c1=$(bl_cpu_threads "$SRV_PID")
        ha=$1
        [ -n "$ha" ] || die "wrk gave no figure ($MODE: hanipo)"
        d=$(bl_cpu_delta "$c0" "$c1" "$2")
        chn=$(bl_cpu_get "$d" main)
        cho=$(bl_cpu_get "$d" "out-*")
        cha=$(bl_cpu_get "$d" "*")
        chk=$3
        store=
        if [ "$sqlite" = true ]; then
            store=$(catch_up "$T/data")
            c2=$(bl_cpu_threads "$SRV_PID")
            store="$store s after wrk (its thread: $(bl_cpu_get "$(bl_cpu_delta "$c0" "$c2" "$2")" out-sqlite) us/request, catching up included)"
        fi
        bl_stop "$SRV_PID" 60 > /dev/null
        SRV_PID=
        n=$(cat "$T"/data/log/*.jsonl 2> /dev/null | grep -c '"eventid":"http.request"')
        ratio=$(bl_calc "$ha / $ng")
        printf 'run %d/%d %-11s nginx %9.0f req/s   hanipo %9.0f req/s   ratio %.3f   http.request events %s\n' \
            "$i" "$RUNS" "$MODE" "$ng" "$ha" "$ratio" "$n"
        if [ -n "$store" ]; then
            rows=$(stored "$T/data")
            printf '    SQLite store caught up %s; %s http.request rows%s\n' "$store" "$rows" \
                "$([ "$rows" = "$n" ] || echo " - NOT the $n of the JSONL files")"
        fi
        printf '    CPU us/request: nginx worker %.1f, wrk %.1f | hanipo %s (all %.1f), wrk %.1f\n' \
            "$cng" "$cnk" "$d" "$cha" "$chk"
        V=$(echo "$MODE" | tr - _)
        eval "NG_$V=\"\$NG_$V $ng\"; HA_$V=\"\$HA_$V $ha\"; RA_$V=\"\$RA_$V $ratio\""
        eval "CNG_$V=\"\$CNG_$V $cng\"; CNK_$V=\"\$CNK_$V $cnk\"; CHN_$V=\"\$CHN_$V $chn\""
        eval "CHO_$V=\"\$CHO_$V $cho\"; CHA_$V=\"\$CHA_$V $cha\"; CHK_$V=\"\$CHK_$V $chk\""
    done
    i=$((i + 1))
done

echo
echo "medians                nginx req/s   hanipo req/s   ratio   goal"
for MODE in $MODES; do
    V=$(echo "$MODE" | tr - _)
    eval "ng=\$(bl_median \$NG_$V); ha=\$(bl_median \$HA_$V); ra=\$(bl_median \$RA_$V)"
    case $MODE in
    tls) goal="(no goal: cost of TLS + JA3/JA4)" ;;
    close-jsonl) goal="(no goal: close without the SQLite store)" ;;
    varied) goal="(no goal: keep-alive, no two requests alike)" ;;
    browser) goal="(no goal: varied with a browser's headers)" ;;
    *) if bl_ge "$ra" 1.0; then goal="PASS >= 1.0"; else goal="FAIL < 1.0"; fi ;;
    esac
    printf '  %-18s %12.0f %14.0f %7.3f   %s\n' "$MODE" "$ng" "$ha" "$ra" "$goal"
    printf 'RESULT http mode=%s ratio=%.3f nginx_rps=%.0f hanipo_rps=%.0f\n' "$MODE" "$ra" "$ng" "$ha" >> "$T/results"
done
echo
echo "CPU per request, us (medians; user + system time of each thread while wrk ran)"
echo "                      nginx:  worker    wrk   hanipo:  network  writers  all    wrk"
for MODE in $MODES; do
    V=$(echo "$MODE" | tr - _)
    eval "a=\$(bl_median \$CNG_$V); b=\$(bl_median \$CNK_$V); c=\$(bl_median \$CHN_$V)"
    eval "e=\$(bl_median \$CHO_$V); f=\$(bl_median \$CHA_$V); g=\$(bl_median \$CHK_$V)"
    printf '  %-18s %14.1f %6.1f %16.1f %8.1f %6.1f %6.1f\n' "$MODE" "$a" "$b" "$c" "$e" "$f" "$g"
done
cat "$T/results"
exit 0
