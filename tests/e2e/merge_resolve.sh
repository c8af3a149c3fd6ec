#!/bin/sh
# `pvdev resolve` after a schema/type conflict, under real git merges:
# the schema switch of --theirs takes the workspace's writer lock, is
# rolled back whole when the process dies between its renames (and a rerun
# then gives theirs' schema and rows exactly), and a per-key resolve may
# not choose the schema of a table whose other rows are still in conflict.
set -eu
. "$(dirname "$0")/../lib.sh"

q() { pvdev sql "$1"; }
schema_sql() { printf '.schema t\n' | pvdev sql --interactive | tr '\n' ' '; }
ours_schema="CREATE TABLE t(k INTEGER, a TEXT, b INTEGER, y INTEGER, PRIMARY KEY(k)); "
theirs_schema="CREATE TABLE t(k INTEGER, a TEXT, b INTEGER, y TEXT, PRIMARY KEY(k)); "

# A merge in progress: ours added y INTEGER, theirs y TEXT; key 5 ('seven')
# does not convert to INTEGER (a row conflict), key 8 is changed on both
# sides (a row conflict). MAIN_ROWS: what ours committed.
new_merge() {
    pv_git_repo "$T/r"
    q "CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT, b INTEGER);
       INSERT INTO t VALUES (1, 'one', 10), (2, 'two', 20), (3, 'three', 30), (8, 'eight', 80)"
    commit base
    git checkout -qb side && q "ALTER TABLE t ADD COLUMN y TEXT" &&
        q "INSERT INTO t VALUES (5, 'five', 50, 'seven'), (6, 'six', 60, '7')" &&
        q "UPDATE t SET a = 'EIGHT' WHERE k = 8" && commit side
    git checkout -q main && q "ALTER TABLE t ADD COLUMN y INTEGER" && q "INSERT INTO t VALUES (4, 'four', 40, 4)" &&
        q "UPDATE t SET a = 'huit' WHERE k = 8" && commit main
    if git merge -q side -m merge >"$T/merge.out" 2>&1; then fail "setup: the merge should conflict"; fi
    [ "$(schema_sql)" = "$ours_schema" ] || fail "setup: provisional schema $(schema_sql)"
    [ "$(pvdev conflicts | grep -c '^t ')" = 2 ] || fail "setup: expected 2 row conflicts: $(pvdev conflicts)"
}
theirs_rows="1|one|10| 2|two|20| 3|three|30| 4|four|40|4 5|five|50|seven 6|six|60|7 8|EIGHT|80| "
ours_rows="1|one|10| 2|two|20| 3|three|30| 4|four|40|4 6|six|60|7 8|huit|80| "

# finish WHAT: the settled merge commits, nothing is conflicted, fsck agrees
finish() {
    [ "$(pvdev conflicts)" = "no conflicts" ] || fail "$1: conflicts left: $(pvdev conflicts)"
    ls .pv/tables/t | grep -q 'resolve' && fail "$1: temporary files left: $(ls .pv/tables/t)"
    ls .pv/journal 2>/dev/null | grep -qv "^lock$" && fail "$1: journal left: $(ls .pv/journal)"
    git add -A && git commit -qm merge || fail "$1: cannot commit the settled merge"
    [ -z "$(git diff --name-only --diff-filter=U)" ] || fail "$1: paths still conflicted"
    pvdev fsck >/dev/null 2>&1 || fail "$1: fsck refuses the result"
}

# 1. killed after the N-th rename of the switch (1: the old chunk moved
#    aside, the new one not in; 2: the new chunk in, the old schema; 3:
#    the new schema, the journal not yet removed). Readers refuse the
#    half-done state; the rerun rolls it back and switches again: theirs'
#    schema and rows exactly, ours' committed rows all there.
for n in 1 2 3; do
    new_merge
    cp .pv/tables/t/00000001.jsonl "$T/chunk1" && cp .pv/tables/t/schema.jsonl "$T/schema"
    resolve_killed PV_FAULTS_RESOLVE_CRASH $n "crash $n"
    resolve_rerun "crash $n"
    grep -q "^t schema: theirs (1 chunk file converted" "$T/resolve.out" || fail "crash $n: $(cat "$T/resolve.out")"
    [ "$(schema_sql)" = "$theirs_schema" ] || fail "crash $n: schema $(schema_sql)"
    expect_sql "SELECT k, a, b, y FROM t ORDER BY k" "$theirs_rows" "crash $n"
    expect_sql "SELECT k FROM t WHERE y = '4' OR y = '7' OR y = 'seven' ORDER BY k" "4 5 6 " "crash $n: TEXT values"
    finish "crash $n"
done

# 1b. killed, then the other side chosen: the rollback gives back ours'
#     settlement, and --ours keeps it
new_merge
resolve_killed PV_FAULTS_RESOLVE_CRASH 2 "crash then --ours"
pvdev resolve --ours t >"$T/resolve.out" 2>/dev/null || fail "crash then --ours: resolve failed"
grep -q "^t schema: ours" "$T/resolve.out" || fail "crash then --ours: $(cat "$T/resolve.out")"
[ "$(schema_sql)" = "$ours_schema" ] || fail "crash then --ours: schema $(schema_sql)"
expect_sql "SELECT k, a, b, y FROM t ORDER BY k" "$ours_rows" "crash then --ours"
finish "crash then --ours"

# 1c. killed in the row phase, after theirs' switch committed (the schema
#     is theirs', the conflict rows not yet settled). While the merge is
#     unfinished the last choice wins: --ours switches back to ours'
#     settlement, the chunks converted back to ours' types (exactly: the
#     files are those of a plain --ours), the conflict rows as --ours gives
#     them. Before, the schema stayed theirs' (y TEXT, row 4's y the TEXT
#     '4') under "t schema: ours (as the merge wrote it)".
new_merge
pvdev resolve --ours t >/dev/null 2>&1 || fail "plain --ours: resolve failed"
rm -rf "$T/plain" && cp -r .pv/tables/t "$T/plain"
for n in 1 2; do
    new_merge
    resolve_killed PV_FAULTS_RESOLVE_ROWS_CRASH $n "rows crash $n"
    grep -q '"type":"TEXT"' .pv/tables/t/schema.jsonl || fail "rows crash $n: theirs' schema not in: $(cat .pv/tables/t/schema.jsonl)"
    pvdev resolve --ours t >"$T/resolve.out" 2>"$T/resolve.err" || fail "rows crash $n then --ours: $(cat "$T/resolve.err")"
    grep -q "^t schema: ours (1 chunk file converted back to ours' column types)" "$T/resolve.out" ||
        fail "rows crash $n then --ours: $(cat "$T/resolve.out")"
    [ "$(schema_sql)" = "$ours_schema" ] || fail "rows crash $n then --ours: schema $(schema_sql)"
    expect_sql "SELECT k, a, b, y FROM t ORDER BY k" "$ours_rows" "rows crash $n then --ours"
    expect_sql "SELECT k FROM t WHERE y = 4 OR y = 7 ORDER BY k" "4 6 " "rows crash $n then --ours: INTEGER values"
    for f in "$T"/plain/*; do
        same "$f" ".pv/tables/t/${f##*/}" "rows crash $n then --ours: ${f##*/} differs from a plain --ours"
    done
    [ "$(ls .pv/tables/t)" = "$(ls "$T/plain")" ] || fail "rows crash $n then --ours: files $(ls .pv/tables/t)"
    finish "rows crash $n then --ours"
done

# 1d. the same crash, then --theirs again: the switch stays, the rows take
#     theirs' values (theirs' 'seven' for key 5)
for n in 1 2; do
    new_merge
    resolve_killed PV_FAULTS_RESOLVE_ROWS_CRASH $n "rows crash $n then --theirs"
    pvdev resolve --theirs t >"$T/resolve.out" 2>"$T/resolve.err" || fail "rows crash $n then --theirs: $(cat "$T/resolve.err")"
    grep -q "^t schema: theirs (switched by an earlier run)" "$T/resolve.out" ||
        fail "rows crash $n then --theirs: $(cat "$T/resolve.out")"
    [ "$(schema_sql)" = "$theirs_schema" ] || fail "rows crash $n then --theirs: schema $(schema_sql)"
    expect_sql "SELECT k, a, b, y FROM t ORDER BY k" "$theirs_rows" "rows crash $n then --theirs"
    expect_sql "SELECT k FROM t WHERE y = '4' OR y = '7' OR y = 'seven' ORDER BY k" "4 5 6 " \
        "rows crash $n then --theirs: TEXT values"
    # ... settled with its rows: a later --ours keeps theirs' settlement
    pvdev resolve --ours t >"$T/resolve.out" 2>&1 || fail "rows crash $n, settled, then --ours: $(cat "$T/resolve.out")"
    grep -q "^t schema: theirs, kept (settled with its rows" "$T/resolve.out" ||
        fail "rows crash $n, settled, then --ours: $(cat "$T/resolve.out")"
    [ "$(schema_sql)" = "$theirs_schema" ] || fail "rows crash $n, settled, then --ours: schema $(schema_sql)"
    expect_sql "SELECT k, a, b, y FROM t ORDER BY k" "$theirs_rows" "rows crash $n, settled, then --ours"
    finish "rows crash $n then --theirs"
done

# 1e. the same crash, then a row written under theirs' schema that ours'
#     type cannot take, then --ours: refused naming the cell, nothing
#     changed; --theirs then settles with that row
new_merge
resolve_killed PV_FAULTS_RESOLVE_ROWS_CRASH 1 "unconvertible back"
q "INSERT INTO t VALUES (9, 'nine', 90, 'nine')" 2>/dev/null
rm -rf "$T/before" && cp -r .pv/tables/t "$T/before" && rm -f "$T"/before/*.resolve # the killed run's temporary files
expect_fail "table t: cannot take ours' schema back: column y, key 9 (.pv/tables/t/" pvdev resolve --ours t
grep -q "line [0-9]*) does not convert to INTEGER" "$T/.err" || fail "unconvertible back: $(cat "$T/.err")"
for f in "$T"/before/*; do same "$f" ".pv/tables/t/${f##*/}" "unconvertible back: ${f##*/} changed"; done
[ "$(ls .pv/tables/t)" = "$(ls "$T/before")" ] || fail "unconvertible back: files $(ls .pv/tables/t)"
pvdev resolve --theirs t >/dev/null || fail "unconvertible back: --theirs failed"
expect_sql "SELECT k, a, b, y FROM t ORDER BY k" "${theirs_rows}9|nine|90|nine " "unconvertible back then --theirs"
finish "unconvertible back then --theirs"

# 2. another writer holds the workspace (a transaction open in pvdev sql):
#    the switch is refused with the writers' message, nothing changed
new_merge
cp .pv/tables/t/00000001.jsonl "$T/chunk1" && cp .pv/tables/t/schema.jsonl "$T/schema"
mkfifo "$T/fifo"
pvdev sql --interactive <"$T/fifo" >/dev/null 2>&1 &
writer=$!
exec 3>"$T/fifo"
printf 'BEGIN;\nUPDATE t SET b = 11 WHERE k = 1;\n' >&3
i=0
until grep -q "^ *$writer " .pv/lock 2>/dev/null; do
    i=$((i + 1)) && [ $i -lt 100 ] || fail "locked: the writer never took the lock"
    sleep 0.05
done
expect_fail "is locked by pid $writer" pvdev resolve --theirs t
same "$T/chunk1" .pv/tables/t/00000001.jsonl "locked: the chunk changed"
same "$T/schema" .pv/tables/t/schema.jsonl "locked: the schema changed"
printf 'COMMIT;\n' >&3
exec 3>&-
wait $writer
pvdev resolve --theirs t >/dev/null || fail "locked: resolve after the writer failed"
[ "$(schema_sql)" = "$theirs_schema" ] || fail "locked: schema $(schema_sql)"
expect_sql "SELECT k, a, b, y FROM t ORDER BY k" "1|one|11| 2|two|20| 3|three|30| 4|four|40|4 5|five|50|seven 6|six|60|7 8|EIGHT|80| " \
    "locked: the writer's row and theirs"
finish "locked"

# 3. a per-key resolve while the schema is in conflict and other rows are
#    too: refused, naming the way out, nothing changed (before, --theirs t
#    5 switched the whole table's schema, and a later --ours t 8 kept
#    theirs' schema)
new_merge
cp .pv/tables/t/00000001.jsonl "$T/chunk1" && cp .pv/tables/t/schema.jsonl "$T/schema"
expect_fail "table t: its schema is in conflict, as is 1 other row of it: settle the schema and every row at once with 'pvdev resolve --ours t' or 'pvdev resolve --theirs t'" \
    pvdev resolve --theirs t 5
expect_fail "its schema is in conflict" pvdev resolve --ours t 8
same "$T/chunk1" .pv/tables/t/00000001.jsonl "per key: the chunk changed"
same "$T/schema" .pv/tables/t/schema.jsonl "per key: the schema changed"
[ "$(pvdev conflicts | grep -c '^t ')" = 2 ] || fail "per key: conflicts changed: $(pvdev conflicts)"
# ... the table as a whole: theirs' schema and rows
pvdev resolve --theirs t >/dev/null || fail "per key: resolve --theirs t failed"
[ "$(schema_sql)" = "$theirs_schema" ] || fail "per key then table: schema $(schema_sql)"
expect_sql "SELECT k, a, b, y FROM t ORDER BY k" "$theirs_rows" "per key then table"
finish "per key then table"
# 4. negative INTEGER keys, as 'pvdev conflicts' prints them: a key is
#    not an option (before, '-5' and '-- -5' printed the usage alone), and
#    an unknown option is named
pv_git_repo "$T/neg"
q "CREATE TABLE n (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO n VALUES (-5, 'a'), (-9223372036854775808, 'b'), (7, 'c')"
commit base
git checkout -qb side && q "UPDATE n SET v = 'theirs' WHERE k < 0" && commit side
git checkout -q main && q "UPDATE n SET v = 'ours' WHERE k < 0" && commit main
if git merge -q side -m merge >"$T/merge.out" 2>&1; then fail "negative keys: the merge should conflict"; fi
[ "$(pvdev conflicts | grep -c '^n ')" = 2 ] || fail "negative keys: expected 2 conflicts: $(pvdev conflicts)"
[ "$(pvdev resolve --theirs n -5 | head -1)" = "n -5: theirs" ] || fail "negative keys: resolve n -5"
[ "$(pvdev resolve --ours n -- -9223372036854775808 | head -1)" = "n -9223372036854775808: ours" ] ||
    fail "negative keys: resolve n -- INT64_MIN"
expect_sql "SELECT k, v FROM n ORDER BY k" "-9223372036854775808|ours -5|theirs 7|c " "negative keys"
set +e
pvdev resolve --mine n >/dev/null 2>"$T/usage.err"
code=$?
set -e
[ "$code" = 2 ] && grep -qF "pvdev resolve: unknown option '--mine'" "$T/usage.err" ||
    fail "negative keys: an unknown option: exit $code, $(cat "$T/usage.err")"
finish_neg() {
    [ "$(pvdev conflicts)" = "no conflicts" ] || fail "negative keys: conflicts left: $(pvdev conflicts)"
    git add -A && git commit -qm merge || fail "negative keys: cannot commit the settled merge"
}
finish_neg
echo "merge_resolve e2e: ok"
