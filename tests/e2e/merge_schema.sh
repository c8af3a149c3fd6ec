#!/bin/sh
# The pv merge driver on schema changes under real git: columns added on
# both sides merge, conflicting column changes are reported by table and
# column, and every clean scenario checks the final rows exactly.
set -eu
. "$(dirname "$0")/../lib.sh"

q() { pvdev sql "$1"; }

new_repo() {
    pv_git_repo "$T/r"
    pv_base_t
}
columns() { q "SELECT * FROM t WHERE k = 0" >/dev/null; sed -n 's/^{"column":"\([^"]*\)".*/\1/p' .pv/tables/t/schema.jsonl | tr '\n' ' '; }

# 1. each side adds a different column and writes rows with it: both
#    columns; each side's rows keep their values, the other column reads
#    as its default
new_repo
git checkout -qb side
q "ALTER TABLE t ADD COLUMN y INTEGER DEFAULT 7"
q "INSERT INTO t (k, a, b, y) VALUES (5, 'five', 50, 55)"
q "UPDATE t SET y = 22 WHERE k = 2"
commit side
git checkout -q main
q "ALTER TABLE t ADD COLUMN x TEXT"
q "INSERT INTO t (k, a, b, x) VALUES (4, 'four', 40, 'xx')"
q "UPDATE t SET x = 'one-x' WHERE k = 1"
commit main
git merge -q side -m merge 2>"$T/merge.err" || fail "add/add columns: merge failed: $(cat "$T/merge.err")"
[ "$(columns)" = "k a b x y " ] || fail "add/add columns: merged columns are '$(columns)'"
expect_sql "SELECT k, a, b, x, y FROM t ORDER BY k" \
    "1|one|10|one-x|7 2|two|20||22 3|three|30||7 4|four|40|xx|7 5|five|50||55 " "add/add columns"
no_conflict_lines "add/add columns"
pvdev fsck >/dev/null 2>&1 || fail "add/add columns: fsck refuses the merged workspace"
# the merged workspace takes writes (under the merged header)
q "INSERT INTO t VALUES (6, 'six', 60, 'x6', 66)"
expect_sql "SELECT k, x, y FROM t WHERE k >= 5 ORDER BY k" "5||55 6|x6|66 " "write after the merge"

# 2. a rename on one side, a new column and a cell edit on the other: clean
new_repo
git checkout -qb side
q "ALTER TABLE t RENAME COLUMN a TO alpha"
q "UPDATE t SET b = 21 WHERE k = 2"
commit side
git checkout -q main
q "ALTER TABLE t ADD COLUMN c INTEGER"
q "UPDATE t SET a = 'TWO', c = 2 WHERE k = 2"
commit main
git merge -q side -m merge 2>"$T/merge.err" || fail "rename + add: merge failed: $(cat "$T/merge.err")"
[ "$(columns)" = "k alpha b c " ] || fail "rename + add: merged columns are '$(columns)'"
grep -q '"column":"alpha","type":"TEXT","renamed_from":\["a"\]' .pv/tables/t/schema.jsonl ||
    fail "rename + add: the rename's history is lost: $(cat .pv/tables/t/schema.jsonl)"
expect_sql "SELECT k, alpha, b, c FROM t ORDER BY k" "1|one|10| 2|TWO|21|2 3|three|30| " "rename + add"

# 3. the same column added on both sides with different types: a conflict
#    naming the table, the column and each side's type; ours' schema kept
new_repo
git checkout -qb side && q "ALTER TABLE t ADD COLUMN y INTEGER" && commit side
git checkout -q main && q "ALTER TABLE t ADD COLUMN y TEXT" && commit main
if git merge -q side -m merge >"$T/merge.out" 2>&1; then fail "column types: the merge should conflict"; fi
grep -q "table t, column y: added on both sides with different types (ours TEXT, theirs INTEGER)" "$T/merge.out" ||
    fail "column types: no clear message: $(cat "$T/merge.out")"
grep -q "CONFLICT (content): Merge conflict in .pv/tables/t/schema.jsonl" "$T/merge.out" || fail "column types: git saw no conflict"
grep -q '"column":"y","type":"TEXT"' .pv/tables/t/schema.jsonl || fail "column types: ours' schema not kept"
grep -q '^<<<<<<<' .pv/tables/t/schema.jsonl && fail "column types: text conflict markers"
git merge --abort

# 3b. ... and the rows of both sides are still merged under ours' type,
#     where each value converts without change (theirs' INTEGER 5 is TEXT
#     '5'): before, the chunk kept ours' rows only (theirs' insert and
#     update were lost, the receiving chunk's invocation failed)
new_repo
git checkout -qb side && q "ALTER TABLE t ADD COLUMN y INTEGER" && q "INSERT INTO t VALUES (5, 'five', 50, 5)" &&
    q "UPDATE t SET b = 22 WHERE k = 2" && commit side
git checkout -q main && q "ALTER TABLE t ADD COLUMN y TEXT" && q "INSERT INTO t VALUES (4, 'four', 40, 'x')" && commit main
if git merge -q side -m merge >"$T/merge.out" 2>&1; then fail "retyped rows: the merge should conflict"; fi
[ "$(git diff --name-only --diff-filter=U | tr '\n' ' ')" = ".pv/tables/t/00000001.jsonl .pv/tables/t/schema.jsonl " ] ||
    [ "$(git diff --name-only --diff-filter=U | tr '\n' ' ')" = ".pv/tables/t/schema.jsonl " ] ||
    fail "retyped rows: conflicted paths: $(git diff --name-only --diff-filter=U)"
expect_sql "SELECT k, a, b, y FROM t ORDER BY k" "1|one|10| 2|two|22| 3|three|30| 4|four|40|x 5|five|50|5 " "retyped rows"
expect_sql "SELECT k FROM t WHERE y = '5'" "5 " "retyped rows: theirs' 5 is the TEXT '5'"
[ "$(pvdev conflicts)" = "no conflicts" ] || fail "retyped rows: row conflicts: $(pvdev conflicts)"
git add -A && git commit -qm merge || fail "retyped rows: cannot commit the settled merge"
pvdev fsck >/dev/null 2>&1 || fail "retyped rows: fsck refuses the result"

# 3c. ours INTEGER, theirs TEXT: '7' converts, 'seven' does not: its row
#     is a conflict listed by pvdev conflicts (never a silent NULL)
new_repo
git checkout -qb side && q "ALTER TABLE t ADD COLUMN y TEXT" &&
    q "INSERT INTO t VALUES (5, 'five', 50, 'seven'), (6, 'six', 60, '7')" && commit side
git checkout -q main && q "ALTER TABLE t ADD COLUMN y INTEGER" && q "INSERT INTO t VALUES (4, 'four', 40, 4)" && commit main
if git merge -q side -m merge >"$T/merge.out" 2>&1; then fail "unconvertible: the merge should conflict"; fi
grep -q "table t, column y, key 5: the value on theirs (theirs:.pv/tables/t/00000001.jsonl line 6) does not convert to INTEGER" \
    "$T/merge.out" || fail "unconvertible: no message naming the cell: $(cat "$T/merge.out")"
expect_sql "SELECT k, y FROM t ORDER BY k" "1| 2| 3| 4|4 6|7 " "unconvertible (ours kept for 5 until resolved)"
expect_sql "SELECT k FROM t WHERE y = 7" "6 " "unconvertible: theirs' '7' is the INTEGER 7"
pvdev conflicts | grep -q '^t 5 ' || fail "unconvertible: pvdev conflicts does not list key 5: $(pvdev conflicts)"
schema_sql() { printf '.schema t\n' | pvdev sql --interactive | tr '\n' ' '; }
ours_schema="CREATE TABLE t(k INTEGER, a TEXT, b INTEGER, y INTEGER, PRIMARY KEY(k)); "
theirs_schema="CREATE TABLE t(k INTEGER, a TEXT, b INTEGER, y TEXT, PRIMARY KEY(k)); "
[ "$(schema_sql)" = "$ours_schema" ] || fail "unconvertible: provisional schema $(schema_sql)"
rm -rf "$T/saved" && cp -r .pv "$T/saved"
# resolve --theirs: theirs' schema for y (TEXT) and theirs' values, like
# 'git checkout --theirs' on the conflicted things; ours' rows are
# converted to TEXT (4 -> '4'), theirs' '7' is '7' again. Before, y stayed
# INTEGER and key 5 read NULL.
pvdev resolve --theirs t 5 >"$T/resolve.out" || fail "unconvertible: resolve --theirs failed"
grep -q "^t schema: theirs (1 chunk file converted" "$T/resolve.out" || fail "unconvertible: $(cat "$T/resolve.out")"
[ "$(pvdev conflicts)" = "no conflicts" ] || fail "unconvertible: resolve left conflicts"
[ "$(schema_sql)" = "$theirs_schema" ] || fail "unconvertible --theirs: schema $(schema_sql)"
expect_sql "SELECT k, a, b, y FROM t ORDER BY k" "1|one|10| 2|two|20| 3|three|30| 4|four|40|4 5|five|50|seven 6|six|60|7 " \
    "unconvertible --theirs"
expect_sql "SELECT k FROM t WHERE y = '4' OR y = '7' OR y = 'seven' ORDER BY k" "4 5 6 " "unconvertible --theirs: TEXT values"
grep -qx '\[4,"four",40,"4"\]' .pv/tables/t/00000001.jsonl || fail "unconvertible --theirs: ours' row 4 is not TEXT: $(cat .pv/tables/t/00000001.jsonl)"
git add -A && git commit -qm merge || fail "unconvertible --theirs: cannot commit"
[ -z "$(git diff --name-only --diff-filter=U)" ] || fail "unconvertible --theirs: paths still conflicted"
pvdev fsck >/dev/null 2>&1 || fail "unconvertible --theirs: fsck refuses the result"
# ... resolve --ours on the same merge: ours' schema (y INTEGER) and rows
git reset -q --hard HEAD~1 && git merge -q side -m merge >/dev/null 2>&1 && fail "unconvertible --ours: merge should conflict"
pvdev resolve --ours >"$T/resolve.out" || fail "unconvertible --ours: resolve failed"
grep -q "^t schema: ours" "$T/resolve.out" || fail "unconvertible --ours: $(cat "$T/resolve.out")"
[ "$(schema_sql)" = "$ours_schema" ] || fail "unconvertible --ours: schema $(schema_sql)"
expect_sql "SELECT k, a, b, y FROM t ORDER BY k" "1|one|10| 2|two|20| 3|three|30| 4|four|40|4 6|six|60|7 " "unconvertible --ours"
expect_sql "SELECT k FROM t WHERE y = 7" "6 " "unconvertible --ours: y INTEGER"
[ "$(pvdev conflicts)" = "no conflicts" ] || fail "unconvertible --ours: resolve left conflicts"
git add -A && git commit -qm merge && pvdev fsck >/dev/null 2>&1 || fail "unconvertible --ours: fsck refuses the result"

# 3d. resolve --theirs where one of ours' rows (not in conflict) holds a
#     value theirs' type cannot take (ours TEXT 'x', theirs INTEGER):
#     refused, naming the cell, and nothing changed; --ours then settles it
new_repo
git checkout -qb side && q "ALTER TABLE t ADD COLUMN y INTEGER" && q "INSERT INTO t VALUES (5, 'five', 50, 5)" && commit side
git checkout -q main && q "ALTER TABLE t ADD COLUMN y TEXT" && q "INSERT INTO t VALUES (4, 'four', 40, 'x')" && commit main
git merge -q side -m merge >/dev/null 2>&1 && fail "ours' value: the merge should conflict"
cp .pv/tables/t/00000001.jsonl "$T/chunk1" && cp .pv/tables/t/schema.jsonl "$T/schema"
expect_fail "table t: cannot take theirs' schema: column y, key 4 (.pv/tables/t/00000001.jsonl line 6) does not convert to INTEGER" \
    pvdev resolve --theirs
same "$T/chunk1" .pv/tables/t/00000001.jsonl "ours' value: a refused resolve changed the chunk"
same "$T/schema" .pv/tables/t/schema.jsonl "ours' value: a refused resolve changed the schema"
ls .pv/tables/t | grep -q resolve && fail "ours' value: temporary files left: $(ls .pv/tables/t)"
pvdev resolve --ours >/dev/null || fail "ours' value: resolve --ours failed"
expect_sql "SELECT k, y FROM t ORDER BY k" "1| 2| 3| 4|x 5|5 " "ours' value --ours"

# 4. the same column added with different defaults: a conflict
new_repo
git checkout -qb side && q "ALTER TABLE t ADD COLUMN y INTEGER DEFAULT 1" && commit side
git checkout -q main && q "ALTER TABLE t ADD COLUMN y INTEGER DEFAULT 2" && commit main
if git merge -q side -m merge >"$T/merge.out" 2>&1; then fail "defaults: the merge should conflict"; fi
grep -q "table t, column y: added on both sides with different defaults (ours 2, theirs 1)" "$T/merge.out" ||
    fail "defaults: no clear message: $(cat "$T/merge.out")"
git merge --abort
# ... and the same column added alike on both sides is one column
new_repo
git checkout -qb side && q "ALTER TABLE t ADD COLUMN y INTEGER DEFAULT 1" && q "UPDATE t SET y = 3 WHERE k = 3" &&
    commit side
git checkout -q main && q "ALTER TABLE t ADD COLUMN y INTEGER DEFAULT 1" && q "UPDATE t SET y = 2 WHERE k = 2" &&
    commit main
git merge -q side -m merge 2>"$T/merge.err" || fail "same column: merge failed: $(cat "$T/merge.err")"
[ "$(columns)" = "k a b y " ] || fail "same column: merged columns are '$(columns)'"
expect_sql "SELECT k, y FROM t ORDER BY k" "1|1 2|2 3|3 " "same column"

# 5. renamed on one side, dropped on the other: a conflict. schema.jsonl
#    gets ours' choice for that column (dropped) and stays conflicted for
#    git; the rows of both sides are still merged under it (before, the
#    chunk kept ours' rows only, and theirs' row 5 had to be copied by hand)
new_repo
git checkout -qb side && q "ALTER TABLE t RENAME COLUMN a TO alpha" && q "INSERT INTO t VALUES (5, 'five', 50)" &&
    q "UPDATE t SET b = 22 WHERE k = 2" && commit side
git checkout -q main && q "ALTER TABLE t DROP COLUMN a" && q "INSERT INTO t VALUES (4, 40)" && commit main
if git merge -q side -m merge >"$T/merge.out" 2>&1; then fail "rename/drop: the merge should conflict"; fi
grep -q "table t, column a: dropped on ours, renamed to 'alpha' on theirs" "$T/merge.out" ||
    fail "rename/drop: no clear message: $(cat "$T/merge.out")"
grep -q "ours' side kept" "$T/merge.out" || fail "rename/drop: the schema's fate is not said: $(cat "$T/merge.out")"
[ "$(git diff --name-only --diff-filter=U | tr '\n' ' ')" = ".pv/tables/t/schema.jsonl " ] ||
    fail "rename/drop: conflicted paths: $(git diff --name-only --diff-filter=U)"
[ "$(columns)" = "k b " ] || fail "rename/drop: provisional columns are '$(columns)'"
expect_sql "SELECT * FROM t ORDER BY k" "1|10 2|22 3|30 4|40 5|50 " "rename/drop"
git add -A && git commit -qm merge || fail "rename/drop: cannot commit the settled merge"
pvdev fsck >/dev/null 2>&1 || fail "rename/drop: fsck refuses the result"
# ... and theirs edits the renamed column's cell of row 2: beside the
# schema conflict, row 2 is a row conflict (the edit has no place under
# ours' settlement; it was merged away before), named by its new name
new_repo
git checkout -qb side && q "ALTER TABLE t RENAME COLUMN a TO alpha" && q "UPDATE t SET alpha = 'TWO' WHERE k = 2" &&
    commit side
git checkout -q main && q "ALTER TABLE t DROP COLUMN a" && q "INSERT INTO t VALUES (4, 40)" && commit main
if git merge -q side -m merge >"$T/merge.out" 2>&1; then fail "rename/drop, edit: the merge should conflict"; fi
grep -q "table t, column alpha, key 2: changed on theirs, dropped on ours" "$T/merge.out" ||
    fail "rename/drop, edit: no word of row 2: $(cat "$T/merge.out")"
[ "$(pvdev conflicts | grep '^t ' | cut -d' ' -f2)" = 2 ] || fail "rename/drop, edit: conflicts: $(pvdev conflicts)"
git merge --abort

# 6. dropped on one side, unchanged on the other (which writes rows): dropped
new_repo
git checkout -qb side && q "INSERT INTO t VALUES (5, 'five', 50)" && commit side
git checkout -q main && q "ALTER TABLE t DROP COLUMN a" && q "INSERT INTO t VALUES (4, 40)" && commit main
git merge -q side -m merge 2>"$T/merge.err" || fail "drop: merge failed: $(cat "$T/merge.err")"
[ "$(columns)" = "k b " ] || fail "drop: merged columns are '$(columns)'"
expect_sql "SELECT * FROM t ORDER BY k" "1|10 2|20 3|30 4|40 5|50 " "drop"

# 7. an index created on each side: both kept; one created under the same
#    name on different columns: a conflict
new_repo
git checkout -qb side && q "CREATE INDEX ia ON t (a)" && commit side
git checkout -q main && q "ALTER TABLE t ADD COLUMN c INTEGER" && q "CREATE INDEX ib ON t (b)" && commit main
git merge -q side -m merge 2>"$T/merge.err" || fail "indexes: merge failed: $(cat "$T/merge.err")"
[ "$(sed -n 's/^{"index":"\([^"]*\)".*/\1/p' .pv/tables/t/schema.jsonl | tr '\n' ' ')" = "ib ia " ] ||
    fail "indexes: $(cat .pv/tables/t/schema.jsonl)"
expect_sql "SELECT k FROM t WHERE a = 'two'" "2 " "indexes"
new_repo
git checkout -qb side && q "CREATE INDEX ix ON t (a)" && commit side
git checkout -q main && q "CREATE INDEX ix ON t (b)" && commit main
if git merge -q side -m merge >"$T/merge.out" 2>&1; then fail "index names: the merge should conflict"; fi
grep -q "table t, index ix: created on ours, created on theirs" "$T/merge.out" ||
    fail "index names: no clear message: $(cat "$T/merge.out")"
git merge --abort

echo "merge_schema e2e: ok"
