#!/bin/sh
# Regenerate the seed corpus of fuzz_pvdb (tests/fuzz/corpus/pvdb/) from
# small workspaces made with the real tools. Run it again whenever the
# .pvdb format changes, and commit what it writes:
#
#   make && sh tests/fuzz/make_pvdb_seeds.sh [BUILD_DIR]
#
# Shapes: airports (head of the real file); one table with every type and
# NULL pattern; an empty table; several tables (composite key, hidden key);
# low-cardinality columns (dictionary encoding, zstd). Baked by pvbake, plus
# two made by tests/fuzz/pvdb_seed.c with tiny row groups and no zstd, so
# that mutations reach the decoders and the row-group walk.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
pvdev="$build/pvdev"
pvbake="$build/pvbake"
out="$top/tests/fuzz/corpus/pvdb"
[ -x "$pvdev" ] && [ -x "$pvbake" ] || { echo "build the tools first (make)" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/pv-seeds.XXXXXX")
trap 'rm -rf "$T"' EXIT

# The helper links libpv's internal writer (pvdb_write_ex).
cc -std=c11 -D_GNU_SOURCE -O1 -I"$top/libpv" -o "$T/pvdb_seed" "$top/tests/fuzz/pvdb_seed.c" \
    "$build/libpv.a" -lzstd -lxxhash -lmd -lm -lpthread

ws() {  # ws NAME SQL: a fresh workspace $T/NAME holding what SQL makes
    mkdir -p "$T/$1"
    (cd "$T/$1" && "$pvdev" init >/dev/null && "$pvdev" sql "$2" >/dev/null)
}
bake() {  # bake NAME: $out/NAME.pvdb from $T/NAME
    "$pvbake" -o "$out/$1.pvdb" -C "$T/$1" 2>/dev/null
}

rm -f "$out"/*.pvdb  # the seeds this script makes; fuzzer finds stay
mkdir -p "$out"

# airports: the first 300 rows of the real file, imported as the demo does.
mkdir -p "$T/airports"
head -n 301 "$top/examples/data/airports.csv" >"$T/airports.csv"
(cd "$T/airports" && "$pvdev" init >/dev/null &&
    "$pvdev" import airports "$T/airports.csv" --key iata 2>/dev/null)
bake airports

# Every type, NULLs in every nullable column, edge values, a long text.
long=$(printf '%01200d' 7)
zu=$(printf 'Z\303\274rich')
ja=$(printf '\346\227\245')
ws types "CREATE TABLE every(id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, f BOOLEAN, nn TEXT NOT NULL);
INSERT INTO every VALUES
 (1, 0, 0.0, '', X'', FALSE, 'a'),
 (2, NULL, NULL, NULL, NULL, NULL, 'b'),
 (3, 9223372036854775807, -0.0, '$zu', X'00ff00', TRUE, ''),
 (4, -9223372036854775808, 1e999, '$long', X'deadbeef', FALSE, 'a'),
 (5, 42, -1e999, 'x', NULL, TRUE, '$ja'),
 (6, NULL, 1.5e-300, NULL, X'41', NULL, 'b'),
 (7, -1, 3.25, 'text with \"quotes\"', X'', TRUE, 'a')"
bake types
"$T/pvdb_seed" "$T/types" "$out/types_groups3_plain.pvdb" 3 nozstd

# An empty table.
ws empty "CREATE TABLE vacant(id INTEGER PRIMARY KEY, name TEXT)"
bake empty

# Several tables: composite key, hidden generated key, one row only.
ws several "CREATE TABLE a(x INTEGER, y TEXT, z REAL, PRIMARY KEY(x, y));
INSERT INTO a VALUES (1, 'p', 0.5), (1, 'q', NULL), (2, 'p', -2.0);
CREATE TABLE hidden(name TEXT, n INTEGER);
INSERT INTO hidden VALUES ('one', 1), ('two', 2), (NULL, NULL);
CREATE TABLE one(k TEXT PRIMARY KEY);
INSERT INTO one VALUES ('only')"
bake several

# Low cardinality over more rows: dictionary chunks, compressed.
sql="CREATE TABLE dict(id INTEGER PRIMARY KEY, g INTEGER, s TEXT, r REAL, f BOOLEAN);
INSERT INTO dict VALUES "
i=0
while [ $i -lt 400 ]; do
    [ $i -gt 0 ] && sql="$sql,"
    if [ $((i % 9)) -eq 8 ]; then
        sql="$sql($i, NULL, NULL, NULL, NULL)"
    else
        sql="$sql($i, $((i % 5)), 'group$((i % 3))', $((i % 4)).5, $((i % 2)))"
    fi
    i=$((i + 1))
done
ws dict "$sql"
bake dict
"$T/pvdb_seed" "$T/dict" "$out/dict_groups64_plain.pvdb" 64 nozstd

for f in "$out"/*.pvdb; do
    "$pvbake" verify "$f" >/dev/null || { echo "seed $f does not verify" >&2; exit 1; }
done
ls -l "$out"
