#!/bin/sh
# Longer runs of the SQL differential test (tests/unit/test_sql_diff.c):
# generated tables, queries and writes through libpv and SQLite, compared.
#
#   sh tests/fuzz-sql.sh BUILD_DIR [QUERIES_PER_SEED] [FIRST_SEED] [SEEDS]
#
# Defaults: 200000 queries per seed, a seed from the clock, 4 seeds run in
# parallel. Every mismatch prints the seed, the round and the statement;
# rerun one with PV_DIFF_SEED=S PV_DIFF_QUERIES=N PV_DIFF_VERBOSE=1
# BUILD_DIR/tests/test_sql_diff to see the round's tables.
set -u
build=${1:-build}
queries=${2:-200000}
seed=${3:-$(date +%s)}
seeds=${4:-4}
bin="$build/tests/test_sql_diff"
[ -x "$bin" ] || { echo "fuzz-sql: $bin not built (make $bin)" >&2; exit 2; }
logdir="$build/fuzz-sql"
mkdir -p "$logdir"
i=0 pids=""
while [ "$i" -lt "$seeds" ]; do
    s=$((seed + i))
    PV_DIFF_SEED=$s PV_DIFF_QUERIES=$queries "$bin" >"$logdir/seed-$s.log" 2>&1 &
    pids="$pids $!:$s"
    i=$((i + 1))
done
fail=0
for p in $pids; do
    pid=${p%%:*} s=${p#*:}
    if wait "$pid"; then
        grep '^differential:' "$logdir/seed-$s.log"
    else
        fail=1
        echo "fuzz-sql: seed $s FAILED (log $logdir/seed-$s.log):"
        grep -A12 'MISMATCH\|^differential:\|ERROR' "$logdir/seed-$s.log" | head -60
    fi
done
exit $fail
