#!/bin/sh
# make demo: the main job end to end on the real airports data, in a fresh
# temporary directory: git init, pvdev init, import, git commit, pvbake, and
# a C program (examples/lookup.c, built against the installed libpv through
# pkg-config) answering questions from the baked file.
#
# Usage: scripts/demo.sh BUILD_DIR
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$top/${1:-build}" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pv-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
step() { printf '\n== %s\n' "$*"; }

step "install libpv, pvdev and pvbake into $tmp/prefix"
make -s -C "$top" install PREFIX="$tmp/prefix" BUILD="${1:-build}" >/dev/null
export PATH="$tmp/prefix/bin:$PATH"
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
export LD_LIBRARY_PATH="$tmp/prefix/lib"

step "a git repository with a PicoVolt workspace"
mkdir "$tmp/repo" && cd "$tmp/repo"
git init -q -b main .
git config user.name "PicoVolt Demo"
git config user.email "demo@picovolt.invalid"
pvdev init

step "import the real airports table (3,376 rows), keyed by iata"
pvdev import airports "$top/examples/data/airports.csv" --key iata
pvdev sql "SELECT COUNT(*) FROM airports"

step "commit it"
git add .pv
git commit -q -m "Add airports (Data.gov, via vega-datasets)"
git log --oneline --stat | head -n 8

step "bake the committed workspace into airports.pvdb"
pvbake -o "$tmp/airports.pvdb"
pvbake inspect "$tmp/airports.pvdb"

step "build examples/lookup.c against the installed libpv (pkg-config)"
cc -Wall -Wextra -Werror "$top/examples/lookup.c" $(pkg-config --cflags --libs libpv) -o "$tmp/lookup"

step "ask the baked file"
"$tmp/lookup" "$tmp/airports.pvdb" SFO JFK ORD 00M DBN XYZ

step "the same question through pvdev sql --db"
pvdev sql --db "$tmp/airports.pvdb" --header \
    "SELECT iata, name, city FROM airports WHERE state = 'HI' AND latitude > 21 ORDER BY iata LIMIT 5"
echo
echo "demo: ok"
