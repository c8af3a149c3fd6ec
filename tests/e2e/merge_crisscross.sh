#!/bin/sh
# A criss-cross merge under real git: two merge bases, so git (ort)
# first merges the bases into a virtual one, calling the pv driver for it,
# then merges against that. The rows must be those of a straightforward
# merge of the same changes.
set -eu
. "$(dirname "$0")/../lib.sh"

q() { pvdev sql "$1"; }
commit() { git add -A && git commit -qm "$1"; }
rows() { q "SELECT k, a, b FROM t ORDER BY k" | tr '\n' ' '; }

new_repo() {
    rm -rf "$T/$1" && mkdir "$T/$1" && cd "$T/$1"
    git init -q -b main .
    git config merge.pv.name "PicoVolt tables"
    git config merge.pv.driver "pvdev merge-driver %O %A %B %L %P"
    echo '.pv/tables/** merge=pv' > .gitattributes
    pvdev init >/dev/null
    q "CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT, b INTEGER);
       INSERT INTO t VALUES (1, 'one', 10), (2, 'two', 20), (3, 'three', 30)"
    commit base
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

echo "merge_crisscross e2e: ok"
