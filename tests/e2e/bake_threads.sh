#!/bin/sh
# A cold bake (no checkpoint, no bake cache: a fresh clone in CI) reads and
# decodes chunk files on several threads and applies them in chunk order,
# building the column vectors directly while the records allow
# (docs/LOADING.md 7). Whatever the thread count and whichever way the
# rows went, the bake has the bytes, and a query the answer, of the plain
# record-by-record replay into rows (PV_LOAD_PLAIN=1, one thread), and a
# default bake writes the checkpoint meanwhile, from which the next bake
# finds every chunk by origin: after an import, updates (in place),
# deletes and a re-insert, a new last key, a new key in the middle (the
# vectors handed over to rows), a schema change between chunks, values in
# the blob store; with errors in two chunks the earlier one is reported.
set -eu
. "$(dirname "$0")/../lib.sh"
cd "$T"
pvdev init >/dev/null 2>&1
# ~4 MB of chunk text (four chunks): text keys, NULLs, quotes, newlines,
# non-ASCII text, reals, and two values for the blob store (chunks 1 and 3)
python3 - <<'EOF' >rows.csv
import csv, sys
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["k", "n", "r", "s"])
for i in range(0, 200000, 2):
    s = ["", "plain", 'say "hi"', "two\nlines", "Zürich ✓", "x" * 40][i % 6]
    if i in (0, 100000):
        s = "long %d " % i + "y" * 1500
    w.writerow(["%07d" % i, "" if i % 7 == 0 else str(i * 3 - 5000), "%.3f" % (i / 7), s])
EOF
pvdev import t rows.csv --key k >/dev/null 2>&1
[ "$(ls .pv/tables/t/ | grep -c jsonl)" -ge 4 ] || fail "expected several chunks"
export PV_BAKE_GROUP_ROWS=7000
Q="SELECT k, n, r, s, typeof(n), length(s) FROM t"

# check NAME WAY: cold bakes on 1, 2 and 4 threads and a query on 3 have
# the bytes and rows of the plain replay; the 4-thread bake's trace says
# WAY ("into column vectors" or "into rows")
check() {
    rm -rf .pv/cache
    PV_NO_LOAD_CACHE=1 PV_LOAD_PLAIN=1 pvbake --no-cache -j 1 -o "$1.plain.pvdb" >/dev/null 2>&1
    PV_NO_LOAD_CACHE=1 PV_LOAD_PLAIN=1 PV_LOAD_THREADS=1 pvdev sql --json "$Q" >"$1.plain.json" 2>/dev/null
    for j in 1 2 4; do
        PV_NO_LOAD_CACHE=1 PV_LOAD_CACHE_TRACE=1 pvbake --no-cache -v -j $j -o "$1.j$j.pvdb" \
            >/dev/null 2>"$1.j$j.err" || fail "$1: bake -j $j: $(cat "$1.j$j.err")"
        cmp -s "$1.plain.pvdb" "$1.j$j.pvdb" || fail "$1: the bake on $j threads differs from the plain replay"
    done
    grep -q "^pv: table t: rows loaded from the chunks (.*) on 4 threads, .*$2" "$1.j4.err" ||
        fail "$1: expected the rows $2: $(cat "$1.j4.err")"
    grep -q "^pvbake: table t: cold: rows loaded from the chunks (.*) on 2 threads, .*$2" "$1.j2.err" ||
        fail "$1: pvbake -v does not say the way: $(cat "$1.j2.err")"
    PV_NO_LOAD_CACHE=1 PV_LOAD_THREADS=3 pvdev sql --json "$Q" >"$1.json" 2>/dev/null
    same "$1.plain.json" "$1.json" "$1: rows differ from the plain replay"
    # and the default bake, which writes the checkpoint alongside (on
    # another thread); the next bake reads it and finds every chunk by
    # origin: the replay's vectors and the checkpoint name their rows alike
    rm -rf .pv/cache
    PV_LOAD_CACHE_MIN_BYTES=0 pvbake -v -o "$1.default.pvdb" >/dev/null 2>"$1.default.err"
    cmp -s "$1.plain.pvdb" "$1.default.pvdb" || fail "$1: the default bake differs from the plain replay"
    grep -q "checkpoint written alongside the bake" "$1.default.err" || fail "$1: $(cat "$1.default.err")"
    [ -f .pv/cache/load/t.pvck ] || fail "$1: no checkpoint written"
    pvbake -v -o "$1.again.pvdb" >/dev/null 2>"$1.again.err"
    cmp -s "$1.plain.pvdb" "$1.again.pvdb" || fail "$1: the bake from the checkpoint differs"
    grep -q "^pvbake: table t: checkpoint: " "$1.again.err" || fail "$1: not from the checkpoint: $(cat "$1.again.err")"
    grep -q '(\([0-9]*\) of \1 chunks from the cache, \1 by origin)' "$1.again.err" ||
        fail "$1: not every chunk by origin: $(cat "$1.again.err")"
    rm -rf .pv/cache
}

check import "into column vectors"
grep -q "on 1 thread, " import.j1.err || fail "one thread: $(cat import.j1.err)"
pvdev sql "UPDATE t SET s = 'updated' WHERE k IN ('0000100', '0150000')" >/dev/null 2>&1
pvdev sql "DELETE FROM t WHERE k IN ('0000300', '0100000', '0199998')" >/dev/null 2>&1
pvdev sql "INSERT INTO t VALUES ('0100000', 1, 2.5, 'back')" >/dev/null 2>&1
pvdev sql "INSERT INTO t VALUES ('0999999', NULL, NULL, NULL)" >/dev/null 2>&1
check edits "into column vectors"
pvdev sql "INSERT INTO t VALUES ('0100001', 7, 7.5, 'between')" >/dev/null 2>&1
pvdev sql "UPDATE t SET n = -1 WHERE k = '0000002'" >/dev/null 2>&1
check middle "into rows"
pvdev sql "ALTER TABLE t ADD COLUMN extra INTEGER DEFAULT 42" >/dev/null 2>&1
pvdev sql "INSERT INTO t VALUES ('1000000', 1, 1.5, 'after alter', 9)" >/dev/null 2>&1
Q="SELECT k, n, r, s, extra FROM t"
check alter "into rows"

# errors in the second and the third chunk: the second's is reported,
# whatever the thread count
rm -rf .pv/cache
second=$(ls .pv/tables/t/*.jsonl | sed -n 2p)
third=$(ls .pv/tables/t/*.jsonl | sed -n 3p)
python3 - "$second" "$third" <<'EOF'
import sys
for path, line in ((sys.argv[1], 5), (sys.argv[2], 3)):
    rows = open(path, encoding="utf-8").read().split("\n")
    rows[line - 1] = '["broken",'
    open(path, "w", encoding="utf-8").write("\n".join(rows))
EOF
for j in 1 4; do
    expect_fail "$(basename "$second")' line 5" env PV_NO_LOAD_CACHE=1 pvbake --no-cache -j $j -o bad.pvdb
done
