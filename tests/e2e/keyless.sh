#!/bin/sh
# A table without PRIMARY KEY returns its rows in insertion order, as
# SQLite's rowid tables do: the hidden key _pv_id grows (a time-ordered id,
# never below the table's largest; docs/FORMAT.md), through INSERT,
# multi-row INSERT, transactions, import and reopening, and rows inserted
# on two git branches merge without a clash.
set -eu
. "$(dirname "$0")/../lib.sh"

q() { pvdev sql "$1"; }
line() { tr '\n' ' '; }

mkdir "$T/w" && cd "$T/w"
pvdev init >/dev/null

# 1. INSERT one row at a time (each its own process: a reopen each time),
#    several rows in one statement, and in a transaction
q "CREATE TABLE t (a INTEGER, b TEXT)"
for i in 5 3 1 4 2; do q "INSERT INTO t VALUES ($i, 'r$i')"; done
q "INSERT INTO t VALUES (9, 'x'), (7, 'y'), (8, 'z')"
printf 'BEGIN;\nINSERT INTO t VALUES (0, NULL);\nINSERT INTO t VALUES (6, NULL);\nCOMMIT;\n' | pvdev sql >/dev/null
got=$(q "SELECT a FROM t" | line)
[ "$got" = "5 3 1 4 2 9 7 8 0 6 " ] || fail "insert order: got '$got'"
# every id is 32 lower-case hex digits, and they ascend with the rows
q "SELECT _pv_id FROM t" >ids
[ "$(grep -c '^[0-9a-f]\{32\}$' ids)" = 10 ] || fail "ids are not 32 hex digits: $(cat ids)"
sort -c ids || fail "ids do not ascend in insertion order"

# 2. an UPDATE keeps a row's place; a DELETE removes it; later rows still go last
q "UPDATE t SET b = 'upd' WHERE a = 3"
q "DELETE FROM t WHERE a = 9"
q "INSERT INTO t VALUES (10, 'last')"
got=$(q "SELECT a || ':' || coalesce(b, '-') FROM t" | line)
[ "$got" = "5:r5 3:upd 1:r1 4:r4 2:r2 7:y 8:z 0:- 6:- 10:last " ] || fail "after update/delete: got '$got'"

# 3. import and export of a keyless CSV round-trip byte for byte, over
#    several chunks and with the load cache (checkpoint) in the way
{
    echo 'name,n,note'
    awk 'BEGIN { for (i = 0; i < 30000; i++) printf "k%d,%d,%s\n", (i * 7919) % 30000, (i * 104729) % 1000, (i % 3 ? "x" : "") }'
} >in.csv
pvdev import f in.csv >/dev/null
pvdev export -o out.csv f
same in.csv out.csv "export of an imported keyless CSV"
# a second import appends after the first
{ echo 'name,n,note'; echo 'zz,1,'; echo 'aa,2,""'; } >more.csv
pvdev import f more.csv >/dev/null
pvdev export -o out2.csv f
{ cat in.csv; tail -n 2 more.csv; } >want2.csv
same want2.csv out2.csv "a second import goes after the first"
# an INSERT after the imports goes last too, and the order holds with the
# checkpoint gone (a full replay of the chunks)
q "INSERT INTO f VALUES ('new', 3, NULL)"
rm -rf .pv/cache
[ "$(q "SELECT name FROM f" | tail -n 3 | line)" = "zz aa new " ] || fail "insert after import is not last"
[ "$(q "SELECT name FROM f LIMIT 2" | line)" = "k0 k7919 " ] || fail "replayed order: $(q "SELECT name FROM f LIMIT 2")"

# 4. a table written before time-ordered ids (random ids, some above any
#    time id): new rows still come after every existing one
q "CREATE TABLE old (a INTEGER)"
q "INSERT INTO old (a, _pv_id) VALUES (1, 'f0000000000000000000000000000000'), (2, '10000000000000000000000000000000'), (3, '00000000000000000000000000000001')"
q "INSERT INTO old VALUES (4)"
q "INSERT INTO old VALUES (5), (6)"
got=$(q "SELECT a FROM old" | line)
[ "$got" = "3 2 1 4 5 6 " ] || fail "rows after random ids: got '$got'"
# a hand-given id that is not hex does not count, and one at the very top
# (no room above it) gives a time id instead of failing
q "INSERT INTO old (a, _pv_id) VALUES (7, 'zzz'), (8, 'ffffffffffffffffffffffffffffffff')"
q "INSERT INTO old VALUES (9)"
[ "$(q "SELECT count(DISTINCT _pv_id) FROM old")" = 9 ] || fail "ids not distinct"

# 5. two git branches insert into the same keyless table: the merge keeps
#    every row, no two share an id, and each side's rows keep their order
pv_git_repo "$T/r"
q "CREATE TABLE t (side TEXT, n INTEGER); INSERT INTO t VALUES ('base', 1), ('base', 2)"
git add -A && git commit -qm base
values() { awk -v s="$1" 'BEGIN { for (i = 1; i <= 200; i++) printf "%s(\x27%s\x27, %d)", (i > 1 ? ", " : ""), s, i }'; }
git checkout -qb side
q "INSERT INTO t VALUES $(values theirs)"
q "INSERT INTO t VALUES ('theirs', 201)"
git add -A && git commit -qm side
git checkout -q main
q "INSERT INTO t VALUES $(values ours)"
q "INSERT INTO t VALUES ('ours', 201)"
git add -A && git commit -qm main
git merge -q side -m merge 2>merge.err || fail "merge failed: $(cat merge.err)"
! grep -q '"conflict"' .pv/tables/t/*.jsonl || fail "the merge recorded conflicts"
[ "$(q "SELECT count(*), count(DISTINCT _pv_id) FROM t")" = "404|404" ] ||
    fail "merged rows: $(q "SELECT count(*), count(DISTINCT _pv_id) FROM t")"
for s in base ours theirs; do
    q "SELECT n FROM t WHERE side = '$s'" >got.$s
    sort -n -c got.$s || fail "rows of $s are out of order after the merge"
done
[ "$(q "SELECT side FROM t LIMIT 2" | line)" = "base base " ] || fail "the base rows are not first"
pvdev fsck >/dev/null || fail "fsck after the merge"

# 6. an id given by hand near the top of the 128-bit range (an import that
#    carried _pv_id): "largest + a step up to 2^63" would pass 2^128, so
#    the steps shrink to the room left instead of falling back to time ids,
#    which sort below it and, within one millisecond, at random (before:
#    30 single-row statements came back 2 1 4 3 8 7 9 ...)
q "CREATE TABLE top (a INTEGER)"
q "INSERT INTO top (_pv_id, a) VALUES ('ffffffffffffffff0000000000000000', 0)"
i=1
while [ $i -le 30 ]; do echo "INSERT INTO top (a) VALUES ($i);"; i=$((i + 1)); done | pvdev sql
q "INSERT INTO top (a) VALUES (31), (32), (33)"
want=$(i=0; while [ $i -le 33 ]; do printf '%s ' $i; i=$((i + 1)); done)
[ "$(q "SELECT a FROM top" | line)" = "$want" ] || fail "order after an id near 2^128: $(q "SELECT a FROM top" | line)"
echo ok
