#!/bin/sh
# ALTER TABLE on a branch, then rows written, merged under real git with a
# branch (forked before the ALTER) that wrote the same rows: an edit on
# each side is kept when they touch different cells, and the same cell
# changed on both sides is a conflict `pvdev conflicts` lists, never a
# silent choice. Every case merges in both directions.
#
# The bug this guards: the rows after an ALTER went to a new chunk file
# (its header listing the new columns), while the other branch appended to
# the chunk that was open at the fork. No file changed on both sides, so
# git merged without the pv driver and the ALTER side's later chunk
# replayed last: its row won whole, the other side's edit was lost without
# a word (docs/GIT.md, "Changing columns").
set -eu
. "$(dirname "$0")/../lib.sh"

q() { pvdev sql "$@"; }

# new_repo: a repository on main whose table t (k, a, b, x) has rows 1-3
# in its open chunk 1, committed as "base"; the shell stays in it.
n=0
new_repo() {
    n=$((n + 1))
    pv_git_repo "$T/r$n"
    q "CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT, b INTEGER, x TEXT)" \
        "INSERT INTO t VALUES (1, 'one', 10, 'x1'), (2, 'two', 20, 'x2'), (3, 'three', 30, 'x3')"
    commit base
}

# side NAME SQL...: branch NAME from main with the statements committed.
side() {
    name=$1
    shift
    git checkout -q main
    git checkout -qb "$name"
    q "$@"
    commit "$name"
}

# merged WHAT SQL EXPECTED: merging b into a and a into b (each on a new
# branch) runs clean, the rows are EXPECTED ('|' between cells, ' ' after
# each row), no conflict record is left, fsck accepts the result and a
# write after the merge reads back.
merged() {
    for into in a b; do
        from=b; [ $into = a ] || from=a
        git checkout -q -B "into-$into" "$into"
        git merge -q "$from" -m "merge $from" >"$T/merge.out" 2>&1 ||
            fail "$1 ($from into $into): the merge failed: $(cat "$T/merge.out")"
        expect_sql "$2" "$3" "$1 ($from into $into)"
        [ "$(pvdev conflicts)" = "no conflicts" ] || fail "$1 ($from into $into): $(pvdev conflicts)"
        pvdev fsck >/dev/null 2>&1 || fail "$1 ($from into $into): fsck refuses the merge: $(pvdev fsck 2>&1)"
        q "INSERT INTO t (k) VALUES (100)"
        expect_sql "SELECT COUNT(*) FROM t WHERE k = 100" "1 " "$1 ($from into $into): a write after the merge"
        git reset -q --hard && git clean -qfd .pv/tables
    done
}

# conflicted WHAT KEY CELL A_VALUE B_VALUE SQL EXPECTED: merging either
# way stops with one row conflict, on KEY, which `pvdev conflicts` lists
# with CELL as each side has it (ours first); the key's row is ours'
# meanwhile; SQL (the other rows) gives EXPECTED.
conflicted() {
    for into in a b; do
        from=b ours=$4 theirs=$5
        [ $into = a ] || { from=a ours=$5 theirs=$4; }
        git checkout -q -B "into-$into" "$into"
        if git merge -q "$from" -m "merge $from" >"$T/merge.out" 2>&1; then
            fail "$1 ($from into $into): the merge should conflict on key $2; rows: $(q "SELECT * FROM t" | tr '\n' ' ')"
        fi
        pvdev conflicts >"$T/c.out" || true
        [ "$(grep -c '^t ' "$T/c.out")" = 1 ] && grep -q "^t $2 " "$T/c.out" ||
            fail "$1 ($from into $into): conflicts: $(cat "$T/c.out")"
        grep -qF "$3:  base" "$T/c.out" && grep -qF "ours $ours  theirs $theirs" "$T/c.out" ||
            fail "$1 ($from into $into): the conflict's cells: $(cat "$T/c.out")"
        ! grep -q "no cell here changed two ways" "$T/c.out" ||
            fail "$1 ($from into $into): a cell changed two ways, yet conflicts says none did: $(cat "$T/c.out")"
        expect_sql "$6" "$7" "$1 ($from into $into)"
        git merge --abort
    done
}

# 1. ADD COLUMN and an edit on one side, an edit of another cell of the
#    same row on the other (the case found): both edits kept.
new_repo
side a "ALTER TABLE t ADD COLUMN c INTEGER" "UPDATE t SET a = 'A' WHERE k = 1"
side b "UPDATE t SET b = 11 WHERE k = 1"
merged "add column, other cell" "SELECT k, a, b, x, c FROM t ORDER BY k" \
    "1|A|11|x1| 2|two|20|x2| 3|three|30|x3| "

# 2. ... the same cell: a conflict.
new_repo
side a "ALTER TABLE t ADD COLUMN c INTEGER" "UPDATE t SET a = 'A' WHERE k = 1"
side b "UPDATE t SET a = 'B' WHERE k = 1"
conflicted "add column, same cell" 1 a '"A"' '"B"' "SELECT k, a, b, x, c FROM t WHERE k <> 1 ORDER BY k" \
    "2|two|20|x2| 3|three|30|x3| "

# 3. the new column's cell on one side (with a DEFAULT the other rows
#    read), another cell of the row on the other.
new_repo
side a "ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 5" "UPDATE t SET c = 7 WHERE k = 1" "UPDATE t SET c = 8 WHERE k = 2"
side b "UPDATE t SET a = 'B' WHERE k = 1"
merged "new column's cell" "SELECT k, a, b, x, c FROM t ORDER BY k" \
    "1|B|10|x1|7 2|two|20|x2|8 3|three|30|x3|5 "

# 4. the same column added on both sides, edits of different cells of a
#    row, then the same cell.
new_repo
side a "ALTER TABLE t ADD COLUMN c INTEGER" "UPDATE t SET a = 'A' WHERE k = 1"
side b "ALTER TABLE t ADD COLUMN c INTEGER" "UPDATE t SET b = 11 WHERE k = 1" "UPDATE t SET c = 3 WHERE k = 3"
merged "same column on both sides" "SELECT k, a, b, x, c FROM t ORDER BY k" \
    "1|A|11|x1| 2|two|20|x2| 3|three|30|x3|3 "
new_repo
side a "ALTER TABLE t ADD COLUMN c INTEGER" "UPDATE t SET c = 1 WHERE k = 1"
side b "ALTER TABLE t ADD COLUMN c INTEGER" "UPDATE t SET c = 2 WHERE k = 1"
conflicted "same column on both sides, same cell" 1 c 1 2 "SELECT k, a, b, x, c FROM t WHERE k <> 1 ORDER BY k" \
    "2|two|20|x2| 3|three|30|x3| "

# 5. different columns added on each side, each with an edit of the row.
new_repo
side a "ALTER TABLE t ADD COLUMN c INTEGER" "UPDATE t SET a = 'A', c = 1 WHERE k = 1"
side b "ALTER TABLE t ADD COLUMN d TEXT" "UPDATE t SET b = 11, d = 'd' WHERE k = 1"
merged "different columns" "SELECT k, a, b, x, c, d FROM t ORDER BY k" \
    "1|A|11|x1|1|d 2|two|20|x2|| 3|three|30|x3|| "
new_repo
side a "ALTER TABLE t ADD COLUMN c INTEGER" "UPDATE t SET a = 'A' WHERE k = 1"
side b "ALTER TABLE t ADD COLUMN d TEXT" "UPDATE t SET a = 'B' WHERE k = 1"
conflicted "different columns, same cell" 1 a '"A"' '"B"' "SELECT k, a, b, x FROM t WHERE k <> 1 ORDER BY k" \
    "2|two|20|x2 3|three|30|x3 "

# 6. DROP COLUMN and an edit on one side, an edit of another cell on the
#    other; then the same cell.
new_repo
side a "ALTER TABLE t DROP COLUMN x" "UPDATE t SET a = 'A' WHERE k = 1"
side b "UPDATE t SET b = 11 WHERE k = 1"
merged "drop column" "SELECT * FROM t ORDER BY k" "1|A|11 2|two|20 3|three|30 "
new_repo
side a "ALTER TABLE t DROP COLUMN x" "UPDATE t SET a = 'A' WHERE k = 1"
side b "UPDATE t SET a = 'B' WHERE k = 1"
conflicted "drop column, same cell" 1 a '"A"' '"B"' "SELECT * FROM t WHERE k <> 1 ORDER BY k" "2|two|20 3|three|30 "

# 6b. DROP COLUMN (and a write) on one side; on the other, the dropped
#     column's cell edited (key 1), another cell edited (key 3), rows
#     inserted with and without a value in it (keys 5, 4); and the dropping
#     side deletes the row whose cell the other edited (key 2). The edits
#     of the dropped column have no place in the merged schema: each such
#     row is a conflict the driver names, never a silent loss (they were
#     merged away before). The rest merges; an inserted row's value goes
#     with the column, as every other row's does.
#     dropped_edit INTO: merge the other branch into INTO.
new_repo
side a "ALTER TABLE t DROP COLUMN x" "UPDATE t SET a = 'A' WHERE k = 3" "DELETE FROM t WHERE k = 2"
side b "UPDATE t SET x = 'X' WHERE k = 1" "UPDATE t SET x = 'Y' WHERE k = 2" "UPDATE t SET b = 33 WHERE k = 3" \
    "INSERT INTO t VALUES (4, 'four', 40, NULL), (5, 'five', 50, 'x5')"
for into in a b; do
    from=b; [ $into = a ] || from=a
    git checkout -q -B "into-$into" "$into"
    if git merge -q "$from" -m "merge $from" >"$T/merge.out" 2>&1; then
        fail "dropped column edited ($from into $into): the merge should conflict; rows: $(q "SELECT * FROM t" | tr '\n' ' ')"
    fi
    for key in 1 2; do
        grep -q "table t, column x, key $key: " "$T/merge.out" ||
            fail "dropped column edited ($from into $into): no word of key $key: $(cat "$T/merge.out")"
    done
    pvdev conflicts >"$T/c.out" || true
    [ "$(grep '^t ' "$T/c.out" | cut -d' ' -f2 | tr '\n' ' ')" = "1 2 " ] ||
        fail "dropped column edited ($from into $into): conflicts: $(cat "$T/c.out")"
    grep -q "no cell here changed two ways" "$T/c.out" ||
        fail "dropped column edited ($from into $into): conflicts does not say why key 1 is one: $(cat "$T/c.out")"
    # (key 2's deleted row is said once, "(no row)"; the cells base and the
    # other side agree on are not listed as if they differed)
    grep -q "(no row)" "$T/c.out" && ! grep -q "^    [kab]:" "$T/c.out" ||
        fail "dropped column edited ($from into $into): cells listed that no two rows disagree on: $(cat "$T/c.out")"
    expect_sql "SELECT * FROM t WHERE k > 2 ORDER BY k" "3|A|33 4|four|40 5|five|50 " "dropped column edited ($from into $into)"
    git merge --abort
done
# ... and with the DROP COLUMN alone on its side (no write after it): it
# writes a continuation header to the open chunk, so git still runs the
# driver there (before, only schema.jsonl changed on that side, git merged
# without the driver and the edit was gone).
new_repo
side a "ALTER TABLE t DROP COLUMN x"
[ "$(tail -n 1 .pv/tables/t/00000001.jsonl)" = '{"pv":3,"columns":["k","a","b"]}' ] ||
    fail "DROP COLUMN alone: the open chunk ends with $(tail -n 1 .pv/tables/t/00000001.jsonl)"
pvdev fsck >/dev/null 2>&1 || fail "DROP COLUMN alone: fsck refuses the chunk: $(pvdev fsck 2>&1)"
side b "UPDATE t SET x = 'X' WHERE k = 1" "UPDATE t SET b = 22 WHERE k = 2"
for into in a b; do
    from=b; [ $into = a ] || from=a
    git checkout -q -B "into-$into" "$into"
    if git merge -q "$from" -m "merge $from" >"$T/merge.out" 2>&1; then
        fail "DROP COLUMN alone ($from into $into): the merge should conflict; rows: $(q "SELECT * FROM t" | tr '\n' ' ')"
    fi
    grep -q "table t, column x, key 1: " "$T/merge.out" || fail "DROP COLUMN alone ($from into $into): $(cat "$T/merge.out")"
    [ "$(pvdev conflicts | grep '^t ' | cut -d' ' -f2)" = 1 ] ||
        fail "DROP COLUMN alone ($from into $into): conflicts: $(pvdev conflicts)"
    expect_sql "SELECT * FROM t WHERE k > 1 ORDER BY k" "2|two|22 3|three|30 " "DROP COLUMN alone ($from into $into)"
    git merge --abort
done

# 7. RENAME COLUMN and an edit of the renamed column on one side, another
#    cell on the other; then the same cell (by either name).
new_repo
side a "ALTER TABLE t RENAME COLUMN a TO alpha" "UPDATE t SET alpha = 'A' WHERE k = 1"
side b "UPDATE t SET b = 11 WHERE k = 1"
merged "rename column" "SELECT k, alpha, b, x FROM t ORDER BY k" "1|A|11|x1 2|two|20|x2 3|three|30|x3 "
new_repo
side a "ALTER TABLE t RENAME COLUMN a TO alpha" "UPDATE t SET alpha = 'A' WHERE k = 1"
side b "UPDATE t SET a = 'B' WHERE k = 1"
conflicted "rename column, same cell" 1 alpha '"A"' '"B"' "SELECT k, alpha, b, x FROM t WHERE k <> 1 ORDER BY k" \
    "2|two|20|x2 3|three|30|x3 "

# 8. an ALTER with inserts, updates and deletes on one side, inserts,
#    updates and deletes on the other; a delete against an update after
#    the ALTER is a conflict (it was the ALTER side's, silently).
new_repo
side a "ALTER TABLE t ADD COLUMN c INTEGER" "UPDATE t SET a = 'A', c = 1 WHERE k = 1" \
    "INSERT INTO t VALUES (4, 'four', 40, 'x4', 4)" "DELETE FROM t WHERE k = 2"
side b "INSERT INTO t VALUES (5, 'five', 50, 'x5')" "UPDATE t SET b = 33 WHERE k = 3" "UPDATE t SET x = 'B' WHERE k = 1"
merged "inserts, updates and deletes" "SELECT k, a, b, x, c FROM t ORDER BY k" \
    "1|A|10|B|1 3|three|33|x3| 4|four|40|x4|4 5|five|50|x5| "
new_repo
side a "ALTER TABLE t ADD COLUMN c INTEGER" "INSERT INTO t VALUES (4, 'four', 40, 'x4', 4)"
side b "UPDATE t SET b = 11 WHERE k = 1" "DELETE FROM t WHERE k = 3"
merged "inserts after the ALTER" "SELECT k, a, b, x, c FROM t ORDER BY k" \
    "1|one|11|x1| 2|two|20|x2| 4|four|40|x4|4 "
new_repo
side a "ALTER TABLE t ADD COLUMN c INTEGER" "DELETE FROM t WHERE k = 1"
side b "UPDATE t SET b = 11 WHERE k = 1"
for into in a b; do
    from=b; [ $into = a ] || from=a
    git checkout -q -B "into-$into" "$into"
    if git merge -q "$from" -m "merge $from" >"$T/merge.out" 2>&1; then
        fail "delete after an ALTER ($from into $into): the merge should conflict; rows: $(q "SELECT * FROM t" | tr '\n' ' ')"
    fi
    pvdev conflicts >"$T/c.out" || true
    [ "$(grep -c '^t ' "$T/c.out")" = 1 ] && grep -q "^t 1 " "$T/c.out" ||
        fail "delete after an ALTER ($from into $into): conflicts: $(cat "$T/c.out")"
    git merge --abort
done
# (an ALTER alone on one side, an edit on the other: the edit stays)
new_repo
side a "ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 9"
side b "UPDATE t SET b = 11 WHERE k = 1"
merged "an ALTER alone" "SELECT k, a, b, x, c FROM t ORDER BY k" "1|one|11|x1|9 2|two|20|x2|9 3|three|30|x3|9 "

# (a second commit after the ALTER's: its lines go under the continuation
#  header the first one wrote, which the pre-commit hook reads them by)
new_repo
side a "ALTER TABLE t ADD COLUMN c INTEGER" "UPDATE t SET c = 1 WHERE k = 2"
q "UPDATE t SET a = 'A', c = 2 WHERE k = 1"
commit "a, again" || fail "a second commit after the ALTER's was refused"
[ "$(grep -c '^{"pv":3,' .pv/tables/t/00000001.jsonl)" = 1 ] || fail "a second continuation header: $(cat .pv/tables/t/00000001.jsonl)"
side b "UPDATE t SET b = 11 WHERE k = 1" "UPDATE t SET x = 'B' WHERE k = 2"
merged "two commits after the ALTER" "SELECT k, a, b, x, c FROM t ORDER BY k" \
    "1|A|11|x1|2 2|two|20|B|1 3|three|30|x3| "

# 9. The open chunk at the 1 MiB seal at the fork: both sides' writes go
#    to the next chunk number (the ALTER side's under its new columns), an
#    add/add git hands to the driver.
new_repo
python3 -c "
import os
size = os.path.getsize('.pv/tables/t/00000001.jsonl')
rows, k = [], 1000
while size < 1048576:
    line = '[%d,\"%s\",%d,\"x\"]\n' % (k, 'y' * 990, k)
    rows.append('(%d, \'%s\', %d, \'x\')' % (k, 'y' * 990, k))
    size += len(line)
    k += 1
print('INSERT INTO t VALUES ' + ', '.join(rows) + ';')" | q
[ "$(ls .pv/tables/t)" = "$(printf '00000001.jsonl\nschema.jsonl')" ] &&
    [ "$(wc -c <.pv/tables/t/00000001.jsonl)" -ge 1048576 ] || fail "setup: chunk 1 should be sealed and the newest: $(ls -l .pv/tables/t)"
commit "fill chunk 1"
side a "ALTER TABLE t ADD COLUMN c INTEGER" "UPDATE t SET a = 'A', c = 1 WHERE k = 1"
side b "UPDATE t SET b = 11 WHERE k = 1"
[ -f .pv/tables/t/00000002.jsonl ] || fail "setup: b's update should start chunk 2"
merged "sealed chunk" "SELECT k, a, b, x, c FROM t WHERE k < 1000 ORDER BY k" "1|A|11|x1|1 2|two|20|x2| 3|three|30|x3| "
git checkout -q a && git branch -q -D b && side b "UPDATE t SET a = 'B' WHERE k = 1"
conflicted "sealed chunk, same cell" 1 a '"A"' '"B"' "SELECT k, a, b, x, c FROM t WHERE k < 1000 AND k <> 1 ORDER BY k" \
    "2|two|20|x2| 3|three|30|x3| "
# ... and a DROP COLUMN alone there: its header starts chunk 2 (header
# only), where the other side's edit of the column goes too: an add/add
# the driver makes a conflict, both ways
side da "ALTER TABLE t DROP COLUMN x"
[ "$(cat .pv/tables/t/00000002.jsonl)" = '{"pv":1,"columns":["k","a","b"]}' ] ||
    fail "sealed chunk, DROP COLUMN alone: chunk 2 is '$(cat .pv/tables/t/00000002.jsonl 2>&1)'"
side db "UPDATE t SET x = 'X' WHERE k = 1"
for into in da db; do
    from=db; [ $into = da ] || from=da
    git checkout -q "$into"
    if git merge -q "$from" -m "merge $from" > "$T/merge.out" 2>&1; then
        fail "sealed chunk, DROP COLUMN alone ($from into $into): the merge should conflict"
    fi
    grep -q "table t, column x, key 1: " "$T/merge.out" || fail "sealed chunk, DROP COLUMN alone: $(cat "$T/merge.out")"
    git merge --abort
done
echo "merge_alter e2e: ok"
