#!/bin/sh
# geoip.sh - install the GeoIP country and ASN databases hanipo reads (docs/geo.md).
#
#   tools/geoip.sh            install when missing (fast no-op when already installed)
#   tools/geoip.sh --update   fetch the latest release even when installed
#
# Into $HANIPO_GEO_DIR (default /var/lib/hanipo/geo, the shipped configuration's default):
#   country.mmdb   @ip-location-db/geo-whois-asn-country-mmdb (CC0), the combined IPv4+IPv6 file
#   asn.bin        @ip-location-db/asn (CC BY 4.0: RouteViews, DB-IP, NRO) converted by
#                  tools/geoip_asn.py into hanipo's sorted range file
#   asn-ipv4.csv.gz, asn-ipv6.csv.gz   the ASN source rows (start,end,asn,org), compressed
#   VERSION        the npm versions installed, LICENSES the packages' licence files
# Both come from the npm registry as tarballs; the sha512 the registry publishes is checked.
# Called at the end of tools/deps.sh; a failure there is a warning (lookups are then off).
set -eu

DIR=${HANIPO_GEO_DIR:-/var/lib/hanipo/geo}
REGISTRY=https://registry.npmjs.org
HERE=$(cd "$(dirname "$0")" && pwd)
UPDATE=0
[ "${1:-}" = "--update" ] && UPDATE=1

if [ $UPDATE = 0 ] && [ -s "$DIR/country.mmdb" ] && [ -s "$DIR/asn.bin" ]; then
    exit 0
fi

mkdir -p "$DIR" 2>/dev/null || true
if [ ! -w "$DIR" ]; then
    echo "geoip: $DIR is not writable; run as root or set HANIPO_GEO_DIR" >&2
    exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

# fetch PACKAGE -> unpacks into $TMP/PACKAGE-NAME/package, prints the version
fetch() {
    pkg=$1
    short=${pkg##*/}
    curl -fsS --max-time 60 "$REGISTRY/$pkg/latest" -o "$TMP/$short.json"
    set -- $(/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["version"], d["dist"]["tarball"], d["dist"]["integrity"])' "$TMP/$short.json")
    version=$1 url=$2 integrity=$3
    case $url in
        https://registry.npmjs.org/*) ;;
        *) echo "geoip: unexpected tarball URL $url" >&2; return 1 ;;
    esac
    curl -fsS --max-time 600 "$url" -o "$TMP/$short.tgz"
    want=${integrity#sha512-}
    got=$(openssl dgst -sha512 -binary "$TMP/$short.tgz" | base64 -w0)
    if [ "$integrity" = "$want" ] || [ "$got" != "$want" ]; then
        echo "geoip: $pkg $version: sha512 mismatch" >&2
        return 1
    fi
    mkdir -p "$TMP/$short"
    tar -xzf "$TMP/$short.tgz" -C "$TMP/$short" --no-same-owner --no-same-permissions
    echo "$version"
}

echo "geoip: downloading into $DIR"
cv=$(fetch @ip-location-db/geo-whois-asn-country-mmdb)
av=$(fetch @ip-location-db/asn)
CP=$TMP/geo-whois-asn-country-mmdb/package
AP=$TMP/asn/package

# The version is MAJOR.MINOR.YYYYMMDDHH: the hour the data was built.
stamp=${av##*.}
epoch=$(date -u -d "$(echo "$stamp" | sed -E 's/^(....)(..)(..)(..)$/\1-\2-\3 \4:00:00/')" +%s 2>/dev/null || date -u +%s)
/usr/bin/python3 "$HERE/geoip_asn.py" --build-epoch "$epoch" "$AP/asn-ipv4.csv" "$AP/asn-ipv6.csv" "$DIR/asn.bin"

# The CSVs stay beside it, compressed: the source of truth (the integration tests check asn.bin
# against them; operators can grep them).
for f in asn-ipv4.csv asn-ipv6.csv; do
    gzip -9 -c "$AP/$f" >"$DIR/$f.gz.tmp" && chmod 644 "$DIR/$f.gz.tmp" && mv -f "$DIR/$f.gz.tmp" "$DIR/$f.gz"
done
install -m 644 "$CP/geo-whois-asn-country.mmdb" "$DIR/country.mmdb.tmp"
mv -f "$DIR/country.mmdb.tmp" "$DIR/country.mmdb"
{
    echo "== @ip-location-db/geo-whois-asn-country-mmdb $cv: CC0-1.0"
    cat "$CP"/*LICENSE* 2>/dev/null || true
    echo
    echo "== @ip-location-db/asn $av: CC-BY-4.0 (attribution: routeviews.org, db-ip.com, nro.net)"
    cat "$AP"/*LICENSE* "$AP/MODIFICATIONS" 2>/dev/null || true
} >"$DIR/LICENSES"
printf 'geo-whois-asn-country-mmdb %s\nasn %s\n' "$cv" "$av" >"$DIR/VERSION"
chmod 644 "$DIR/LICENSES" "$DIR/VERSION"
echo "geoip: installed country $cv, asn $av"
