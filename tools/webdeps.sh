#!/bin/sh
# webdeps.sh - vendor the dashboard's third-party front-end files (docs/api.md).
#
#   tools/webdeps.sh            install when missing (fast no-op when already installed)
#   tools/webdeps.sh --update   install the newest versions even when installed
#
# Into $HANIPO_WEBDEPS_DIR (default /var/lib/hanipo/webdeps, beside the GeoIP data, so it
# survives `make clean` and is shared by every build directory):
#   echarts.min.js                  Apache ECharts (Apache-2.0), the charts
#   asciinema-player.min.js, .css   asciinema-player (Apache-2.0), session replays
#   world.geo.json                  world-atlas countries-110m (Natural Earth, public domain),
#                                   converted from TopoJSON to GeoJSON with topojson-client
#   node_modules/                   the npm packages themselves (playwright-core drives the
#                                   browser tests; nothing of it is served)
#   VERSION, LICENSES
# The sensor reads the four served files at start ([dashboard] assets); without them the
# dashboard still works, with tables instead of charts.  Everything comes from the npm
# registry through npm itself (package-lock integrity checks).  Called by tools/deps.sh;
# a failure there is a warning.
set -eu

DIR=${HANIPO_WEBDEPS_DIR:-/var/lib/hanipo/webdeps}
UPDATE=0
[ "${1:-}" = "--update" ] && UPDATE=1
PKGS="echarts@5 asciinema-player@3 world-atlas@2 topojson-client@3 playwright-core@1"

if [ $UPDATE = 0 ] && [ -s "$DIR/echarts.min.js" ] && [ -s "$DIR/asciinema-player.min.js" ] &&
   [ -s "$DIR/world.geo.json" ] && [ -d "$DIR/node_modules/playwright-core" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "webdeps: npm and node are needed (apt-get install npm)" >&2
    exit 1
fi
mkdir -p "$DIR" 2>/dev/null || true
if [ ! -w "$DIR" ]; then
    echo "webdeps: $DIR is not writable; run as root or set HANIPO_WEBDEPS_DIR" >&2
    exit 1
fi
cd "$DIR"
[ -f package.json ] || echo '{"name":"hanipo-webdeps","private":true}' >package.json
echo "webdeps: installing into $DIR"
# --ignore-scripts: no package code runs at install time.
# shellcheck disable=SC2086
npm install --no-audit --no-fund --ignore-scripts --loglevel=error $PKGS >/dev/null

NM=$DIR/node_modules
install -m 644 "$NM/echarts/dist/echarts.min.js" echarts.min.js.tmp && mv -f echarts.min.js.tmp echarts.min.js
AP=$NM/asciinema-player/dist/bundle
install -m 644 "$AP/asciinema-player.min.js" asciinema-player.min.js.tmp
install -m 644 "$AP/asciinema-player.css" asciinema-player.css.tmp
mv -f asciinema-player.min.js.tmp asciinema-player.min.js
mv -f asciinema-player.css.tmp asciinema-player.css
# Features carry ISO numeric ids; the API speaks alpha-2 (src_cc): add it as properties.cc
# from Debian's iso-codes (the map is drawn with nameProperty "cc").
ISO=/usr/share/iso-codes/json/iso_3166-1.json
[ -s $ISO ] || { echo "webdeps: $ISO missing (apt-get install iso-codes)" >&2; exit 1; }
node -e '
const topo = require(process.argv[1] + "/topojson-client");
const t = require(process.argv[1] + "/world-atlas/countries-110m.json");
const iso = require(process.argv[2])["3166-1"];
const num = {};
for (const c of iso) num[String(Number(c.numeric))] = c.alpha_2;
const g = topo.feature(t, t.objects.countries);
for (const f of g.features) f.properties.cc = num[String(Number(f.id))] || ("X" + f.id);
process.stdout.write(JSON.stringify(g));' "$NM" "$ISO" >world.geo.json.tmp
chmod 644 world.geo.json.tmp && mv -f world.geo.json.tmp world.geo.json
{
    for p in echarts asciinema-player world-atlas topojson-client playwright-core; do
        v=$(node -p "require('$NM/$p/package.json').version")
        l=$(node -p "require('$NM/$p/package.json').license || ''")
        echo "== $p $v: $l"
        cat "$NM/$p"/LICENSE* 2>/dev/null | head -250 || true
        echo
    done
} >LICENSES
for p in echarts asciinema-player world-atlas topojson-client playwright-core; do
    printf '%s %s\n' "$p" "$(node -p "require('$NM/$p/package.json').version")"
done >VERSION
chmod 644 LICENSES VERSION
echo "webdeps: installed $(tr '\n' ' ' <VERSION)"
