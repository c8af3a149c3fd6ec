#!/bin/sh
# Crash consistency: a writer is killed with SIGKILL at random moments, then
# the workspace is reopened and checked.
#
#   - even iterations: a writer running `pvdev sql "INSERT ..."` in a loop,
#     one row per statement, logging each id once pvdev exited 0, with a
#     CREATE TABLE every fourth row;
#   - odd iterations: `pvdev import` of a CSV big enough to span several
#     chunk files, into an existing table (one transaction per import).
#
# After each kill:
#   1. a read-only open (pvbake) either works or reports the torn tail with
#      exit 1, never a crash;
#   2. the workspace opens (pvdev sql, a writable open, which rolls back an
#      interrupted commit), `pvdev fsck` finds no problem, and every row
#      whose INSERT reported success is there with its value; a row that
#      never reported success may only be the one in flight when the writer
#      died;
#   3. every import that reported success is there whole.
# At the end the workspace bakes and the .pvdb verifies.
#
# An import is one transaction: an interrupted one must leave nothing (the
# commit journal is rolled back by the next writable open).
#
# PV_CRASH_ITERS (default 16) sets the number of kills (`make stress` runs
# many more). Kill times are random, over the time one whole import takes
# on this machine (up to 3 times what the first one took), so kills land
# in every phase.
set -eu
. "$(dirname "$0")/../lib.sh"

iters=${PV_CRASH_ITERS:-16}
cd "$T"
pvdev init >/dev/null
pvdev sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)"
pvdev sql "CREATE TABLE imp(batch INTEGER, n INTEGER, pad TEXT, PRIMARY KEY(batch, n))"
: >committed
: >attempted
: >imports_ok

# A random number in [0, $1).
rnd() {
    echo $(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % $1 ))
}

# The CSV of import batch $1: 12000 rows of ~100 bytes (over one 1 MiB chunk).
make_csv() {
    awk -v b="$1" 'BEGIN {
        print "batch,n,pad";
        for (i = 0; i < 12000; i++)
            printf "%d,%d,%s-%d-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", b, i, "row", i
    }' >"batch.csv"
}

cat >writer.sh <<'EOF'
i=$1
while :; do
    echo "$i" >>attempted
    pvdev sql "INSERT INTO t VALUES ($i, 'v$i')" 2>>writer.err || exit 0
    echo "$i" >>committed
    # Some DDL too: a kill inside CREATE TABLE must not break the workspace.
    if [ $((i % 4)) -eq 0 ]; then
        pvdev sql "CREATE TABLE d$i(k INTEGER PRIMARY KEY, v TEXT)" 2>>writer.err || exit 0
    fi
    i=$((i + 1))
done
EOF

# Milliseconds since the epoch.
now_ms() {
    echo $(( $(date +%s%N) / 1000000 ))
}

# One import without a kill: it must work, and gives the time scale.
make_csv 0
t0=$(now_ms)
pvdev import imp batch.csv 2>import.err || fail "import: $(cat import.err)"
import_ms=$(( $(now_ms) - t0 ))
[ "$import_ms" -ge 20 ] || import_ms=20
echo 0 >>imports_ok
echo 0 >imports_present

next=1
k=1
rollbacks=0
while [ "$k" -le "$iters" ]; do
    if [ $((k % 2)) -eq 0 ]; then
        setsid sh writer.sh "$next" &
        pid=$!
        ms=$(rnd 400)
    else
        make_csv "$k"
        setsid sh -c "pvdev import imp batch.csv 2>import.err && echo $k >>imports_ok" &
        pid=$!
        ms=$(rnd $((import_ms * 3)))
    fi
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    kill -KILL "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true

    # 1. A read-only open before any repair: works, or exit 1 with a message.
    set +e
    pvbake -o ro.pvdb 2>ro.err
    code=$?
    set -e
    [ "$code" -le 1 ] || fail "iteration $k: pvbake crashed (exit $code): $(cat ro.err)"

    # 2. Every committed row is there with its value; nothing else but the
    #    row in flight.
    pvdev sql "SELECT id, v FROM t ORDER BY id" >rows 2>open.err ||
        fail "iteration $k: the workspace does not open after a kill: $(cat open.err)"
    if grep -q "rolled back" open.err; then rollbacks=$((rollbacks + 1)); fi
    pvdev fsck >fsck.out 2>&1 || fail "iteration $k: pvdev fsck after the kill: $(cat fsck.out)"
    sed -n 's/^\([0-9]*\)|v\1$/\1/p' rows >ids
    [ "$(wc -l <ids)" -eq "$(wc -l <rows)" ] || fail "iteration $k: a row has a wrong value: $(grep -v '^\([0-9]*\)|v\1$' rows | head -n 3)"
    sort -n committed >c.sorted
    sort -n ids >i.sorted
    missing=$(comm -23 c.sorted i.sorted | head -n 5)
    [ -z "$missing" ] || fail "iteration $k: committed rows lost: $missing"
    last=$(tail -n 1 attempted 2>/dev/null || echo 0)
    extra=$(comm -13 c.sorted i.sorted | grep -vx "$last" || true)
    [ -z "$extra" ] || fail "iteration $k: rows that were never inserted: $extra"
    # The in-flight row counts as committed from now on (it is there), and
    # the next writer starts after it.
    if grep -qx "$last" i.sorted && ! grep -qx "$last" c.sorted; then echo "$last" >>committed; fi
    next=$((last + 1))

    # 3. Imports: whole when they reported success, all or nothing otherwise.
    if [ $((k % 2)) -eq 1 ]; then
        got=$(pvdev sql "SELECT count(*) FROM imp WHERE batch = $k")
        if grep -qx "$k" imports_ok; then
            [ "$got" -eq 12000 ] || fail "iteration $k: a committed import has $got rows of 12000"
        elif [ "$got" -ne 0 ] && [ "$got" -ne 12000 ]; then
            fail "iteration $k: an interrupted import left $got rows of 12000"
        fi
        # Killed after its commit but before it could say so: whole, fine.
        [ "$got" -eq 0 ] || echo "$k" >>imports_present
    fi
    k=$((k + 1))
done

pvbake -o final.pvdb 2>bake.err || fail "bake after $iters kills: $(cat bake.err)"
pvbake verify final.pvdb >/dev/null || fail "the baked file does not verify"
[ "$(pvdev sql --db final.pvdb 'SELECT count(*) FROM t')" -eq "$(wc -l <ids)" ] ||
    fail "the .pvdb and the workspace disagree on the row count"
[ "$(pvdev sql --db final.pvdb 'SELECT count(*) FROM imp')" -eq $(( $(wc -l <imports_present) * 12000 )) ] ||
    fail "the .pvdb does not hold exactly the imports found whole"
echo "crash loop: $iters kills, $(wc -l <committed) rows committed, $(( $(wc -l <imports_ok) - 1 )) of $((iters / 2 + iters % 2)) killed imports committed, $rollbacks interrupted commits rolled back (an import takes ${import_ms} ms)"
