#!/bin/sh
# bench/run.sh: the driver of `make bench`.
#
# Usage: sh bench/run.sh BUILD_DIR [full|quick]
#
#   1. finds the flights data (../shared/data next to the repository, or the
#      directory in $PV_BENCH_DATA) and decompresses it once into
#      bench/cache/ (quick mode: the first 300,000 rows);
#   2. installs DuckDB's npm package into bench/cache/ if it is not there
#      (skipped, with the reason in the table, when npm cannot);
#   3. builds the harness with -O2 against BUILD_DIR/libpv.a and the peers;
#   4. runs it: the table goes to stdout and to bench/results.md.
#
# Nothing here is timed: every figure comes from the harness's monotonic
# clock. See bench/README.md for the method.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build_arg=${1:-build}
mode=${2:-full}
case "$mode" in
full|quick) ;;
*) echo "usage: sh bench/run.sh BUILD_DIR [full|quick]" >&2; exit 2 ;;
esac
case "$build_arg" in
/*) build=$build_arg ;;
*) build=$top/$build_arg ;;
esac
cache=$top/bench/cache
mkdir -p "$cache"
log() { printf 'bench: %s\n' "$*" >&2; }

# ---- 1. data -----------------------------------------------------------------
src=""
for d in ${PV_BENCH_DATA:+"$PV_BENCH_DATA"} "$top/../shared/data"; do
    if [ -f "$d/flights-3m.csv.zst" ]; then src=$d/flights-3m.csv.zst; break; fi
done
if [ -z "$src" ]; then
    cat >&2 <<EOF
bench: missing data: no flights-3m.csv.zst in ${PV_BENCH_DATA:+\$PV_BENCH_DATA ($PV_BENCH_DATA) nor in }$top/../shared/data
bench: the benchmark needs the flights data set (3,000,000 rows; columns
bench: id,date,delay,distance,origin,destination) as flights-3m.csv.zst.
bench: Put it in ../shared/data/ next to the repository, or set
bench: PV_BENCH_DATA to the directory that holds it, e.g.
bench:     PV_BENCH_DATA=/path/to/data make bench
EOF
    exit 1
fi
command -v zstd >/dev/null 2>&1 || { log "zstd not found (Debian package zstd)"; exit 1; }

# A decompressed copy is reused when its stamp names the same source file
# (path, size, mtime) and its size matches what the stamp recorded.
stamp_of() { echo "$1 $(stat -c '%s %Y' "$1")"; }
reuse_ok() {   # reuse_ok FILE STAMP
    [ -f "$1" ] && [ -f "$1.stamp" ] &&
        [ "$(sed -n 1p "$1.stamp")" = "$2" ] &&
        [ "$(sed -n 2p "$1.stamp")" = "$(stat -c %s "$1")" ]
}
full_csv=$cache/flights-3m.csv
want=$(stamp_of "$src")
if reuse_ok "$full_csv" "$want"; then
    log "reusing $full_csv"
else
    log "decompressing $src into $full_csv"
    rm -f "$full_csv" "$full_csv.stamp"
    zstd -q -d -c "$src" > "$full_csv.tmp"
    mv "$full_csv.tmp" "$full_csv"
    printf '%s\n%s\n' "$want" "$(stat -c %s "$full_csv")" > "$full_csv.stamp"
fi
csv=$full_csv
# What each system builds (workspaces, .pvdb, SQLite and LMDB files) goes to
# $work: quick mode's 300k-row builds get their own directory, so a quick
# run never replaces the 3M-row workspace and files a full run (and anyone
# measuring by hand) uses in bench/cache.
work=$cache
if [ "$mode" = quick ]; then
    work=$cache/quick
    mkdir -p "$work"
    csv=$cache/flights-300k.csv
    want=$(stamp_of "$full_csv")
    if ! reuse_ok "$csv" "$want"; then
        rm -f "$csv" "$csv.stamp"
        head -n 300001 "$full_csv" > "$csv.tmp"
        mv "$csv.tmp" "$csv"
        printf '%s\n%s\n' "$want" "$(stat -c %s "$csv")" > "$csv.stamp"
    fi
fi

# ---- 2. DuckDB (npm) ------------------------------------------------------------
find_duckdb() { find "$cache/node_modules/@duckdb" -name libduckdb.so 2>/dev/null | head -n 1; }
duckdb_so=$(find_duckdb)
duckdb_why=""
if [ -z "$duckdb_so" ]; then
    if command -v npm >/dev/null 2>&1; then
        log "installing @duckdb/node-api into $cache (npm)"
        if npm install --prefix "$cache" --no-audit --no-fund @duckdb/node-api > "$cache/npm.log" 2>&1; then
            duckdb_so=$(find_duckdb)
            [ -n "$duckdb_so" ] || duckdb_why="npm installed @duckdb/node-api but no libduckdb.so came with it for $(uname -m)"
        else
            duckdb_why="npm install @duckdb/node-api failed: $(grep -v '^\s*$' "$cache/npm.log" | tail -n 1 | tr '|' '/')"
        fi
    else
        duckdb_why="npm not found (install Node.js and npm to include DuckDB)"
    fi
fi

# ---- 3. the harness ---------------------------------------------------------------
# Other work may rebuild BUILD_DIR while the run goes on: the run uses a
# snapshot of the library and the tools taken now, so all its figures come
# from one build.
snap=$cache/tools
rm -rf "$snap"
mkdir -p "$snap"
for f in libpv.a libpv.so pvdev pvbake; do
    [ -e "$build/$f" ] && cp -L "$build/$f" "$snap/$f"
done
# BENCH_SOURCE names the source when the tree is not a git checkout (e.g. a
# `git archive` export).
if [ -n "${BENCH_SOURCE:-}" ]; then
    source_desc=$BENCH_SOURCE
else
    source_desc="$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    dirty=$(git -C "$top" status --porcelain --untracked-files=no -- libpv pvdev pvbake 2>/dev/null | wc -l)
    [ "$dirty" -gt 0 ] && source_desc="$source_desc + $dirty uncommitted change(s) in libpv/ pvdev/ pvbake/"
fi

CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla \
-Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith -Wundef"
peer_cflags=$(pkg-config --cflags sqlite3 lmdb)
peer_libs="$(pkg-config --libs sqlite3 lmdb) -lcdb -ldl -lm -lpthread"
srcs="$top/bench/bench.c $top/bench/sys_pv.c $top/bench/sys_sqlite.c $top/bench/sys_lmdb.c \
$top/bench/sys_cdb.c $top/bench/sys_duckdb.c $top/bench/sys_gitcsv.c $top/bench/sys_airports.c"
bin=$cache/bench
pv_why=""
if [ -f "$snap/libpv.a" ]; then
    # shellcheck disable=SC2086
    if ! cc $CFLAGS -I"$top/libpv" $peer_cflags -o "$bin" $srcs "$snap/libpv.a" \
            $(pkg-config --libs libzstd libxxhash libmd) $peer_libs 2> "$cache/cc.log"; then
        cat "$cache/cc.log" >&2
        log "WARNING: the harness does not build against $build/libpv.a: PicoVolt rows will be n/a"
        pv_why="the harness does not link against libpv.a: $(grep -m1 'error' "$cache/cc.log" | tr '|' '/' | cut -c1-150)"
    fi
else
    pv_why="libpv not built ($build/libpv.a missing): run make"
fi
if [ -n "$pv_why" ]; then
    # shellcheck disable=SC2086
    cc $CFLAGS -DBENCH_NO_LIBPV $peer_cflags -o "$bin" $srcs $peer_libs
fi

# ---- 4. run --------------------------------------------------------------------------
# A subset (BENCH_ONLY=sqlite,pv,..., for development) never replaces results.md.
out=$top/bench/results.md
[ -n "${BENCH_ONLY:-}" ] && out=$cache/results-subset.md
set -- --top "$top" --build "$snap" --cache "$work" --csv "$csv" --mode "$mode" --out "$out" \
    --source "$source_desc"
[ -n "$duckdb_so" ] && set -- "$@" --duckdb "$duckdb_so"
[ -n "$duckdb_why" ] && set -- "$@" --no-duckdb "$duckdb_why"
[ -n "$pv_why" ] && set -- "$@" --pv-missing "$pv_why"
[ -n "${BENCH_ONLY:-}" ] && set -- "$@" --only "$BENCH_ONLY"
exec "$bin" "$@"
