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
echo "compact e2e: ok"
