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
# the open chunk is written anew under its own name (so that a merge with
# a branch that appended to it runs the merge driver: below)
[ "$(ls .pv/tables/t)" = "$(printf '00000001.jsonl\nschema.jsonl')" ] || fail "chunks after compact: $(ls .pv/tables/t)"
[ "$(cat .pv/tables/t/00000001.jsonl | wc -l)" = 4 ] || fail "new chunk: $(cat .pv/tables/t/00000001.jsonl)"
grep -q '"delete"' .pv/tables/t/00000001.jsonl && fail "a delete record survived compaction"
ls .pv/journal/moved-* 2>/dev/null && fail "moved chunks left behind"
pvdev gc | grep -qx "removed 1 blob (2000 bytes)" || fail "gc after compact"
[ "$(ls .pv/blobs/*/* | wc -l)" = 1 ] || fail "expected one blob left"
pvdev fsck 2>/dev/null || fail "fsck after compact and gc"
git add -A && git commit -qm "compact t"
# rows written after a compaction append as usual
pvdev sql "INSERT INTO t VALUES (5, 'five')"
[ "$(pvdev sql "SELECT COUNT(*) FROM t")" = 4 ] || fail "insert after compact"
expect_fail "no such table" pvdev compact nope
# A table emptied and compacted keeps its open chunk, header only: no rows
pvdev sql "CREATE TABLE e (k INTEGER PRIMARY KEY)" "INSERT INTO e VALUES (1), (2)" "DELETE FROM e"
pvdev compact e >/dev/null
[ "$(cat .pv/tables/e/00000001.jsonl)" = '{"pv":1,"columns":["k"]}' ] || fail "emptied table: $(ls .pv/tables/e)"
[ "$(pvdev sql "SELECT COUNT(*) FROM e")" = 0 ] || fail "emptied table has rows"
pvdev sql "INSERT INTO e VALUES (3)"
[ "$(pvdev sql "SELECT k FROM e")" = 3 ] || fail "insert after compacting to no rows"
# A merge of a branch that compacted a table with one that edited it: the
# compacted chunk keeps the open chunk's name, so git sees a modify/modify
# and runs the merge driver, which merges rows and cells (it was a
# modify/delete git merged without the driver, leaving theirs' edits
# hidden: found by exploratory testing). Both directions.
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
for side in ours theirs; do
    other=theirs; [ $side = ours ] || other=ours
    git checkout -q -B into-$side $side
    if git merge -q $other -m merge >/dev/null 2>&1; then fail "compact merge into $side: the t cell conflicts"; fi
    # 00501: ours' t with theirs' r (a cell merge); 501: deleted; nl: both
    # changed t, a conflict with this side's row kept
    [ "$(pvdev sql "SELECT k, t, r FROM m ORDER BY k")" = "$(printf '00501|ours|0.5\nnl|%s nl|1.5' $side)" ] ||
        fail "compact merge into $side: rows $(pvdev sql "SELECT k, t, r FROM m ORDER BY k")"
    pvdev conflicts >c.out
    [ "$(grep -c '^m ' c.out)" = 1 ] && grep -q '^m nl ' c.out || fail "compact merge into $side: $(cat c.out)"
    pvdev resolve --theirs m nl >/dev/null
    [ "$(pvdev sql "SELECT t FROM m WHERE k = 'nl'")" = "$other nl" ] || fail "resolve after compact merge into $side"
    git add -A && git commit -qm "merged $other"
done
git checkout -q ours
# The open chunk when the other branch forked was sealed since and then
# compacted away: git stops on a modify/delete without running the merge
# driver, so the rows are not merged; 'pvdev conflicts' says so, naming the
# file (it said "no conflicts": found by exploratory testing).
pv_git_repo "$T/s"
pvdev sql "CREATE TABLE m (k INTEGER PRIMARY KEY, v TEXT)" "INSERT INTO m VALUES (1, 'one'), (2, 'two')"
git add -A && git commit -qm base
git checkout -qb ours
python3 -c "
print('INSERT INTO m VALUES ' + ', '.join('(%d, \'%s\')' % (k, 'x' * 100) for k in range(10, 11000)))" >fill.sql
pvdev sql <fill.sql
rm fill.sql
[ -f .pv/tables/m/00000002.jsonl ] || fail "setup: chunk 1 was not sealed"
pvdev compact >/dev/null && git add -A && git commit -qm "ours + compact"
git checkout -q main && git checkout -qb theirs
pvdev sql "UPDATE m SET v = 'theirs' WHERE k = 1"
git add -A && git commit -qm theirs
git checkout -q ours
if git merge -q theirs -m merge >/dev/null 2>&1; then fail "sealed compact merge: git should stop"; fi
pvdev conflicts > c.out
grep -qF ".pv/tables/m/00000001.jsonl: deleted on our side, changed on theirs: git did not run the merge driver" c.out ||
    fail "sealed compact merge: conflicts lacks the unmerged chunk: $(cat c.out)"
grep -q "no conflicts" c.out && fail "sealed compact merge: 'no conflicts' printed: $(cat c.out)"
git merge --abort
# A branch that did not compact merging one that did (the base's chunk 1
# sealed, chunk 2 open): the driver starts the receiving chunk from the
# compacted side's bytes, so the merge keeps the compaction; it appended
# the 11,000 rows of the removed chunk 1 to chunk 2 again.
pv_git_repo "$T/c"
python3 -c "
print('CREATE TABLE m (k INTEGER PRIMARY KEY, v TEXT);')
print('INSERT INTO m VALUES ' + ', '.join('(%d, \'%s\')' % (k, 'x' * 100) for k in range(1, 11001)) + ';')
print('UPDATE m SET v = \'one\' WHERE k = 1;')" | pvdev sql
[ -f .pv/tables/m/00000002.jsonl ] || fail "setup: chunk 1 was not sealed"
git add -A && git commit -qm base
git checkout -qb comp && pvdev compact >/dev/null && git add -A && git commit -qm compact
[ ! -f .pv/tables/m/00000001.jsonl ] || fail "setup: compact kept the sealed chunk"
comp_lines=$(cat .pv/tables/m/0*.jsonl | wc -l)
git checkout -q main && pvdev sql "UPDATE m SET v = 'edits' WHERE k = 2" && git add -A && git commit -qm edits
git merge -q comp -m merge 2>merge.err || fail "merge of a compaction: $(cat merge.err)"
[ "$(pvdev sql "SELECT COUNT(*), SUM(k) FROM m")" = "11000|60505500" ] || fail "merge of a compaction: rows lost"
[ "$(pvdev sql "SELECT k, v FROM m WHERE k <= 2 ORDER BY k")" = "$(printf '1|one\n2|edits')" ] ||
    fail "merge of a compaction: $(pvdev sql "SELECT k, v FROM m WHERE k <= 2 ORDER BY k")"
[ ! -f .pv/tables/m/00000001.jsonl ] || fail "merge of a compaction: the removed chunk came back"
[ "$(cat .pv/tables/m/0*.jsonl | wc -l)" -le $((comp_lines + 1)) ] ||
    fail "merge of a compaction: $(cat .pv/tables/m/0*.jsonl | wc -l) chunk lines, the compaction's $comp_lines"
echo "compact e2e: ok"
