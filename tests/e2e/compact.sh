#!/bin/sh
# pvdev compact and pvdev gc: the same rows afterwards, the history gone
# from the work tree, unreferenced blobs removed and referenced ones kept.
set -eu
. "$(dirname "$0")/../lib.sh"
cd "$T"
git init -q -b main .
pvdev init >/dev/null 2>&1
big1=$(python3 -c 'print("a" * 2000)'); big2=$(python3 -c 'print("b" * 2000)')
pvdev sql "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"
pvdev sql "INSERT INTO t VALUES (1, 'one'), (2, '$big1'), (3, '$big2'), (4, 'four')"
pvdev sql "UPDATE t SET v = 'ONE' WHERE k = 1; DELETE FROM t WHERE k = 2; UPDATE t SET v = 'x' WHERE k = 4"
before=$(pvdev sql "SELECT k, length(v), substr(v, 1, 3) FROM t ORDER BY k")
[ "$(ls .pv/blobs/*/* | wc -l)" = 2 ] || fail "expected two blobs"
git add -A && git commit -qm edits
# gc keeps both: the history still names blob a
pvdev gc | grep -qx "removed 0 blobs (0 bytes)" || fail "gc removed a referenced blob"
pvdev compact t | grep -qx "compacted 1 table" || fail "compact output"
[ "$(pvdev sql "SELECT k, length(v), substr(v, 1, 3) FROM t ORDER BY k")" = "$before" ] || fail "rows changed"
[ ! -f .pv/tables/t/00000001.jsonl ] || fail "the old chunk is still there"
[ "$(cat .pv/tables/t/00000002.jsonl | wc -l)" = 4 ] || fail "new chunk: $(cat .pv/tables/t/00000002.jsonl)"
grep -q '"delete"' .pv/tables/t/00000002.jsonl && fail "a delete record survived compaction"
ls .pv/journal/moved-* 2>/dev/null && fail "moved chunks left behind"
pvdev gc | grep -qx "removed 1 blob (2000 bytes)" || fail "gc after compact"
[ "$(ls .pv/blobs/*/* | wc -l)" = 1 ] || fail "expected one blob left"
pvdev fsck 2>/dev/null || fail "fsck after compact and gc"
git add -A && git commit -qm "compact t"
# rows written after a compaction append as usual
pvdev sql "INSERT INTO t VALUES (5, 'five')"
[ "$(pvdev sql "SELECT COUNT(*) FROM t")" = 4 ] || fail "insert after compact"
expect_fail "no such table" pvdev compact nope
# A merge of a branch that compacted a table with one that edited it: git
# stops on the chunk compact removed (modified/deleted) without running
# the merge driver, so the table's rows are not merged. 'pvdev conflicts'
# says so, naming the file (it said "no conflicts": found by exploratory
# testing).
pv_git_repo "$T/m"
pvdev sql "CREATE TABLE m (k TEXT PRIMARY KEY, t TEXT, r REAL)" \
    "INSERT INTO m VALUES ('00501', 'zip', 0.1), ('501', '', -0.0), ('nl', 'x', 2.5)"
pvdev sql "UPDATE m SET r = 1.5 WHERE k = 'nl'"
git add -A && git commit -qm base
git checkout -qb ours && pvdev sql "UPDATE m SET t = 'ours' WHERE k = '00501'" "UPDATE m SET t = 'ours nl' WHERE k = 'nl'"
pvdev compact >/dev/null && git add -A && git commit -qm "ours + compact"
git checkout -q main && git checkout -qb theirs
pvdev sql "UPDATE m SET r = 0.5 WHERE k = '00501'" "UPDATE m SET t = 'theirs nl' WHERE k = 'nl'" "DELETE FROM m WHERE k = '501'"
git add -A && git commit -qm theirs
git checkout -q ours
if git merge -q theirs -m merge >/dev/null 2>&1; then fail "compact merge: git should stop"; fi
pvdev conflicts > c.out
grep -qF ".pv/tables/m/00000001.jsonl: deleted on our side, changed on theirs: git did not run the merge driver" c.out ||
    fail "compact merge: conflicts lacks the unmerged chunk: $(cat c.out)"
grep -q "no conflicts" c.out && fail "compact merge: 'no conflicts' printed: $(cat c.out)"
echo "compact e2e: ok"
