#!/bin/sh
# A criss-cross merge under real git: two merge bases, so git (ort)
# first merges the bases into a virtual one, calling the pv driver for it,
# then merges against that. The rows must be those of a straightforward
# merge of the same changes.
set -eu
. "$(dirname "$0")/../lib.sh"

q() { pvdev sql "$1"; }

new_repo() {
    pv_git_repo "$T/$1"
    pv_base_t
}
# The changes of each side, in two steps: inserts, an update of a row the
# other side also edits (another column), a delete.
main1() { q "INSERT INTO t VALUES (4, 'four', 40)"; q "UPDATE t SET a = 'TWO' WHERE k = 2"; }
side1() { q "INSERT INTO t VALUES (5, 'five', 50)"; q "UPDATE t SET b = 22 WHERE k = 2"; }
main2() { q "INSERT INTO t VALUES (6, 'six', 60)"; q "DELETE FROM t WHERE k = 1"; }
side2() { q "INSERT INTO t VALUES (7, 'seven', 70)"; q "UPDATE t SET b = 33 WHERE k = 3"; }

# straightforward: each side makes both steps, then one merge
new_repo straight
git checkout -qb side && side1 && side2 && commit side
git checkout -q main && main1 && main2 && commit main
git merge -q side -m merge 2>"$T/merge.err" || fail "straight merge failed: $(cat "$T/merge.err")"
want=$(rows)
[ "$want" = "2|TWO|22 3|three|33 4|four|40 5|five|50 6|six|60 7|seven|70 " ] ||
    fail "straight merge: rows are '$want'"

# criss-cross: after step 1 each side merges the other's step 1, then both
# make step 2 and main merges side: merge bases main1 and side1
new_repo cross
git checkout -qb side && side1 && commit side1
git checkout -q main && main1 && commit main1
git tag m1 && git merge -q side -m "main merges side1" 2>"$T/merge.err" || fail "cross: first merge: $(cat "$T/merge.err")"
git checkout -q side && git merge -q m1 -m "side merges main1" 2>"$T/merge.err" || fail "cross: second merge: $(cat "$T/merge.err")"
side2 && commit side2
git checkout -q main && main2 && commit main2
[ "$(git merge-base --all main side | wc -l)" = 2 ] || fail "cross: expected two merge bases"
git merge -q side -m "criss-cross merge" 2>"$T/merge.err" || fail "criss-cross merge failed: $(cat "$T/merge.err")"
got=$(rows)
[ "$got" = "$want" ] || fail "criss-cross merge: rows are '$got', expected '$want'"
! grep -q '"conflict"' .pv/tables/t/*.jsonl || fail "criss-cross merge: conflict records"
pvdev fsck >/dev/null 2>&1 || fail "criss-cross merge: fsck refuses the result"

# A table of two chunks whose merge bases both changed the open chunk, and
# whose tips changed it again: git hands the driver, for that chunk, the
# virtual base it built from the two merge bases, a blob no commit holds.
# Theirs deletes a row and updates another whose records are in the sealed
# chunk 1: merged from that one file, the delete and the update were lost
# (the row came back, exit 0). The rows must be those of a straightforward
# merge, and neither invocation may fall back to merging the file alone.
python3 -c "
print('k,a,b')
for k in range(100, 20100): print(f'{k},row {k} {\"x\" * 48},{k}')" > "$T/big.csv"
new_big() {
    new_repo "$1"
    pvdev import t "$T/big.csv" 2>/dev/null
    [ -f .pv/tables/t/00000002.jsonl ] || fail "$1: expected a second chunk"
    commit big
}
main1() { q "INSERT INTO t VALUES (4, 'four', 40)"; }
side1() { q "INSERT INTO t VALUES (5, 'five', 50)"; }
side1b() { q "INSERT INTO t VALUES (7, 'seven', 70)"; }
main2() { q "INSERT INTO t VALUES (6, 'six', 60)"; }
side2() { q "DELETE FROM t WHERE k = 1"; q "UPDATE t SET b = 22 WHERE k = 2"; q "UPDATE t SET b = 1 WHERE k = 100"; }
big_rows() { q "SELECT k, a, b FROM t WHERE k < 10 OR k = 100 ORDER BY k" | tr '\n' ' '; q "SELECT COUNT(*), SUM(b) FROM t"; }

new_big straight2
git checkout -qb side && side1 && side1b && side2 && commit side
git checkout -q main && main1 && main2 && commit main
git merge -q side -m merge 2>"$T/merge.err" || fail "straight merge (2 chunks) failed: $(cat "$T/merge.err")"
want=$(big_rows)

new_big cross2
git checkout -qb side && side1 && commit side1
git checkout -q main && main1 && commit main1
git tag m1 && git merge -q side -m "main merges side1" 2>"$T/merge.err" || fail "cross2: first merge: $(cat "$T/merge.err")"
git checkout -q side && git merge -q m1 -m "side merges main1" 2>"$T/merge.err" || fail "cross2: second merge: $(cat "$T/merge.err")"
side1b && commit side1b
side2 && commit side2
git checkout -q main && main2 && commit main2
[ "$(git merge-base --all main side | wc -l)" = 2 ] || fail "cross2: expected two merge bases"
git merge -q side -m "criss-cross merge" 2>"$T/merge.err" || fail "cross2: criss-cross merge failed: $(cat "$T/merge.err")"
got=$(big_rows)
[ "$got" = "$want" ] || fail "cross2: criss-cross merge: rows are '$got', expected '$want'"
! grep -q "merging this file alone" "$T/merge.err" || fail "cross2: the driver fell back to one file: $(cat "$T/merge.err")"
! grep -q '"conflict"' .pv/tables/t/*.jsonl || fail "cross2: conflict records"
pvdev fsck >/dev/null 2>&1 || fail "cross2: fsck refuses the result"

# Three merge bases (issue 5): x1, x2 and x3 each insert a row and edit a
# row of the sealed chunk 1 in the open chunk 2; main and side both merge
# all three (separate merge commits), then each makes one more change and
# main merges side. git (ort) merges the bases pairwise into a virtual base
# (newest first, reversed: x1 with x2, that with x3 -- over their own
# merge bases), calling the driver for chunk 2 in each inner merge, whose
# ours is the virtual commit made so far: a blob no commit holds. Before,
# every one of those runs merged the file alone (exit 0). The rows must
# be a straightforward merge's, with no fallback and no conflict.
n=0
tick() { n=$((n + 1)); d="2026-01-01T00:00:$(printf %02d "$n")Z"; export GIT_COMMITTER_DATE="$d" GIT_AUTHOR_DATE="$d"; }
tcommit() { tick; commit "$1"; }
tmerge() { tick; git merge -q "$1" -m "$2" 2>>"$T/merge.err" || fail "$2: $(cat "$T/merge.err")"; }
x1() { q "INSERT INTO t VALUES (11, 'x1', 11)"; q "DELETE FROM t WHERE k = 1"; }
x2() { q "INSERT INTO t VALUES (12, 'x2', 12)"; q "UPDATE t SET b = 1 WHERE k = 100"; }
x3() { q "INSERT INTO t VALUES (13, 'x3', 13)"; q "UPDATE t SET a = 'TWO' WHERE k = 2"; }
main3() { q "INSERT INTO t VALUES (14, 'main', 14)"; q "UPDATE t SET a = 'main' WHERE k = 101"; }
side3() { q "INSERT INTO t VALUES (15, 'side', 15)"; q "DELETE FROM t WHERE k = 3"; q "UPDATE t SET b = 22 WHERE k = 2"; }
rows3() { q "SELECT k, a, b FROM t WHERE k < 20 OR k BETWEEN 100 AND 101 ORDER BY k" | tr '\n' ' '; q "SELECT COUNT(*), SUM(b) FROM t"; }

new_big straight3
x1 && x2 && x3 && side3 && main3 && commit all
want=$(rows3)
case "$want" in "2|TWO|22 11|x1|11 12|x2|12 13|x3|13 14|main|14 15|side|15 100|"*"|1 101|main|101 "*) ;;
    *) fail "straight3: rows are '$want'" ;; esac

# the history of three merge bases, in repository $1
history3() {
    new_big "$1"
    : >"$T/merge.err"
    git checkout -qb x1 && x1 && tcommit x1
    git checkout -q main && git checkout -qb x2 && x2 && tcommit x2
    git checkout -q main && git checkout -qb x3 && x3 && tcommit x3
    git checkout -q x1 && git checkout -qb side && tmerge x2 "side merges x2" && tmerge x3 "side merges x3"
    side3 && tcommit side3
    git checkout -q main && git merge -q --ff-only x1 && tmerge x2 "main merges x2" && tmerge x3 "main merges x3"
    main3 && tcommit main3
    [ "$(git merge-base --all main side | wc -l)" = 3 ] || fail "$1: expected three merge bases"
}
history3 cross3
: >"$T/merge.err"
tick
git merge -q side -m "criss-cross merge of three bases" 2>"$T/merge.err" ||
    fail "cross3: the merge failed: $(cat "$T/merge.err")"
got=$(rows3)
[ "$got" = "$want" ] || fail "cross3: rows are '$got', expected '$want'"
! grep -q "merging this file alone\|CONFLICT" "$T/merge.err" || fail "cross3: the driver fell back: $(cat "$T/merge.err")"
! grep -q '"conflict"' .pv/tables/t/*.jsonl || fail "cross3: conflict records"
pvdev fsck >/dev/null 2>&1 || fail "cross3: fsck refuses the result"

# When git builds the virtual base with another driver for its inner
# merges (merge.pv.recursive = binary: each inner merge keeps the base's
# file), %O is no virtual base the driver can rebuild: it must not merge
# the file alone and exit 0, but report a conflict naming the table.
history3 cross3b
git config merge.pv.recursive binary
tick
if git merge -q side -m "criss-cross merge, binary inner merges" >"$T/merge.out" 2>"$T/merge.err"; then
    fail "cross3b: the merge should stop with a conflict: $(cat "$T/merge.err")"
fi
grep -q "table t: CONFLICT: a criss-cross merge: git merged the 3 merge bases into a virtual base" "$T/merge.err" ||
    fail "cross3b: no conflict message naming the table: $(cat "$T/merge.err")"
git diff --name-only --diff-filter=U | grep -q '^.pv/tables/t/00000002.jsonl$' ||
    fail "cross3b: git does not list the chunk as conflicted: $(git status --short)"

echo "merge_crisscross e2e: ok"
