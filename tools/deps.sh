#!/bin/sh
# Install what hanipo needs to build, run and test on Debian 12; do nothing
# when everything is present.  Called by 'make deps' (and so by make run / make test).
set -eu

# Build and run-time libraries, test clients and tools.
PKGS="build-essential pkg-config clang libclang-rt-14-dev
libevent-dev libinih-dev libsqlite3-dev libssl-dev libseccomp-dev libcmocka-dev libssh-dev libpcre2-dev libxxhash-dev zlib1g-dev
libjansson-dev libcurl4-openssl-dev libyara-dev libmagic-dev libpcap-dev libmaxminddb-dev mmdb-bin
sqlite3 python3 curl openssl netcat-openbsd socat nftables iproute2 procps
openssh-client openssh-server sshpass python3-paramiko hydra nmap ssh-audit tshark inetutils-telnet busybox asciinema
python3-pyftpdlib tftpd-hpa wrk nginx-light chromium ngtcp2-client wget cmark-gfm jq
lftp swaks mariadb-client libdbd-mariadb-perl freetds-bin redis-tools python3-pymongo postgresql-client freerdp2-x11 smbclient python3-impacket
sipvicious sip-tester python3-pymodbus adb libnet-ssleay-perl iso-codes nodejs
python3-serial python3-serial-asyncio python3-pymemcache libmemcached-tools php8.2-fpm python3-docker
putty-tools dropbear-bin python3-asyncssh golang-go golang-golang-x-crypto-dev
rsyslog rsyslog-openssl clickhouse-server clickhouse-client
sqlmap wapiti whatweb gobuster ffuf dirb"

# Hyperscan (the HTTP classifier's literal prefilter, src/core/litset.c):
# Intel's library, which Debian builds for amd64 only; elsewhere the sensor
# builds without it and tests literals one at a time.  Not vectorscan:
# Debian 12's 5.4.9 misses literal matches on AVX-512 machines (its issue
# 317), which would make the classifier skip rules.
if [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ]; then
    PKGS="$PKGS libhyperscan-dev"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing packages:$missing" >&2
        echo "deps: run 'make deps' as root (or: sudo apt-get install$missing)" >&2
        exit 1
    fi
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    # The tests start their own servers (ClickHouse, nginx, php-fpm, sshd,
    # tftpd) on random ports or in network namespaces; the packages' system
    # services (8123/9000, 80, 22, 69, ...) are not needed, and those this
    # script installed are stopped and disabled again.
    for pair in clickhouse-server:clickhouse-server nginx-light:nginx php8.2-fpm:php8.2-fpm \
                openssh-server:ssh tftpd-hpa:tftpd-hpa; do
        pkg=${pair%%:*} svc=${pair#*:}
        case " $missing " in
        *" $pkg "*)
            if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
                systemctl disable --now "$svc" >/dev/null 2>&1 || true
            elif command -v service >/dev/null 2>&1; then
                service "$svc" stop >/dev/null 2>&1 || true
            fi ;;
        esac
    done
fi

# npm for the dashboard's front-end libraries: Debian's package unless an npm
# (e.g. the one bundled with another Node.js build) is already there.
if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "deps: installing npm"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
    else
        echo "deps: npm is missing (apt-get install npm)" >&2
    fi
fi

# GeoIP country + ASN databases (docs/geo.md); optional: without them lookups are off.
sh "$(dirname "$0")/geoip.sh" || echo "deps: GeoIP databases not installed (lookups off)" >&2
# The dashboard's charts, map and replay player, and playwright-core for its browser tests.
sh "$(dirname "$0")/webdeps.sh" || echo "deps: dashboard front-end libraries not installed (charts and replays off)" >&2
