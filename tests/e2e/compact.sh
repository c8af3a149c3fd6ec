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
# (the header of a rewritten chunk: version 2, naming the bytes it replaced)
pvdev sql "CREATE TABLE e (k INTEGER PRIMARY KEY)" "INSERT INTO e VALUES (1), (2)" "DELETE FROM e"
old=$(python3 -c "import sys; print(open('.pv/tables/e/00000001.jsonl','rb').read().hex())")
pvdev compact e >/dev/null
grep -Eqx '\{"pv":2,"columns":\["k"\],"compacted":"[0-9a-f]{16}"\}' .pv/tables/e/00000001.jsonl &&
    [ "$(wc -l <.pv/tables/e/00000001.jsonl)" = 1 ] || fail "emptied table: $(cat .pv/tables/e/00000001.jsonl)"
# ... the XXH3-64 of those bytes, when python3 has xxhash (not needed)
if python3 -c 'import xxhash' 2>/dev/null; then
    [ "$(python3 -c "import xxhash; print(xxhash.xxh3_64_hexdigest(bytes.fromhex('$old')))")" = \
        "$(sed 's/.*"compacted":"\([0-9a-f]*\)".*/\1/' .pv/tables/e/00000001.jsonl)" ] || fail "emptied table: compacted hash"
fi
# compacting again changes nothing: no record to drop
pvdev compact e | grep -qx "compacted 0 tables" || fail "compact of a compacted table"
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
# The open chunk when the other branch forked was filled and sealed since
# by the compacting branch, which then compacted: compact rewrites each
# chunk in place (never removes one), so git sees that chunk changed on
# both sides and runs the merge driver, and the merge keeps both sides'
# edits: cells merge, the same cell changed on both sides is a conflict.
# (It removed the chunk: git stopped on a modify/delete without the
# driver, and after 'git add' the compacted rows hid theirs' edits.)
# Both directions, with real git merges.
pv_git_repo "$T/s"
pvdev sql "CREATE TABLE m (k INTEGER PRIMARY KEY, v TEXT, w TEXT)" \
    "INSERT INTO m VALUES (1, 'one', 'a'), (2, 'two', 'b'), (3, 'three', 'c'), (4, 'four', 'd'), (5, 'five', 'e'), (6, 'six', 'f')"
git add -A && git commit -qm base
git checkout -qb ours
# before the fill (in chunk 1): 4's v; the fill seals chunk 1; then, in
# chunk 2: 1's v, 3's v, 6 deleted, 10 deleted, 11 updated twice
pvdev sql "UPDATE m SET v = 'ours4' WHERE k = 4"
python3 -c "
print('INSERT INTO m VALUES ' + ', '.join('(%d, \'%s\', \'x\')' % (k, 'x' * 100) for k in range(10, 11000)))" >fill.sql
pvdev sql <fill.sql
rm fill.sql
[ -f .pv/tables/m/00000002.jsonl ] || fail "setup: chunk 1 was not sealed"
pvdev sql "UPDATE m SET v = 'ours1' WHERE k = 1" "UPDATE m SET v = 'ours3' WHERE k = 3" "DELETE FROM m WHERE k = 6" \
    "DELETE FROM m WHERE k = 10" "UPDATE m SET v = 'y' WHERE k = 11" "UPDATE m SET v = 'z' WHERE k = 11"
before=$(du -b .pv/tables/m | cut -f1)
pvdev compact >/dev/null
[ "$(ls .pv/tables/m)" = "$(printf '00000001.jsonl\n00000002.jsonl\nschema.jsonl')" ] ||
    fail "sealed compact: chunks $(ls .pv/tables/m)"
[ "$(du -b .pv/tables/m | cut -f1)" -lt "$before" ] || fail "sealed compact: the table did not shrink"
pvdev fsck >/dev/null 2>&1 || fail "sealed compact: fsck"
git add -A && git commit -qm "ours + compact"
git checkout -q main && git checkout -qb theirs
# all in chunk 1, after the base's lines: 2's v, 3's v (the same cell as
# ours), 4's w (another cell than ours), 5 deleted
pvdev sql "UPDATE m SET v = 'theirs2' WHERE k = 2" "UPDATE m SET v = 'theirs3' WHERE k = 3" \
    "UPDATE m SET w = 'theirs4' WHERE k = 4" "DELETE FROM m WHERE k = 5"
git add -A && git commit -qm theirs
for side in ours theirs; do
    other=theirs; [ $side = ours ] || other=ours
    git checkout -q -B into-$side $side
    if git merge -q $other -m merge >merge.out 2>&1; then fail "sealed compact merge into $side: the v cell of 3 conflicts"; fi
    grep -q 'CONFLICT (modify/delete)' merge.out && fail "sealed compact merge into $side: git did not run the driver: $(cat merge.out)"
    # 1, 2: each side's edit; 4: ours' v and theirs' w; 5, 6, 10: deleted;
    # 3: a conflict (its row as the sealed-chunk case leaves it: ours' v,
    # which lives in the later chunk 2)
    got=$(pvdev sql "SELECT k, v, w FROM m WHERE k < 12 ORDER BY k")
    [ "$got" = "$(printf '1|ours1|a\n2|theirs2|b\n3|ours3|c\n4|ours4|theirs4\n11|z|x')" ] ||
        fail "sealed compact merge into $side: rows $got"
    [ "$(pvdev sql "SELECT COUNT(*), SUM(k) FROM m")" = "10993|60494455" ] ||
        fail "sealed compact merge into $side: $(pvdev sql "SELECT COUNT(*), SUM(k) FROM m") rows"
    pvdev conflicts >c.out
    grep -q 'git did not run the merge driver' c.out && fail "sealed compact merge into $side: $(cat c.out)"
    [ "$(grep -c '^m ' c.out)" = 1 ] && grep -q '^m 3 ' c.out || fail "sealed compact merge into $side: conflicts $(cat c.out)"
    grep -q "ours3" c.out && grep -q "theirs3" c.out || fail "sealed compact merge into $side: conflict cells $(cat c.out)"
    pvdev resolve --theirs m 3 >/dev/null
    [ "$(pvdev sql "SELECT v FROM m WHERE k = 3")" = "${other}3" ] || fail "resolve after sealed compact merge into $side"
    git add -A && git commit -qm "merged $other"
    pvdev fsck >/dev/null 2>&1 || fail "sealed compact merge into $side: fsck"
done
git checkout -q ours
# The newest chunk sealed (1 MiB) and brought under the bound by the
# compaction: the next number is created, header only, so the newest chunk
# stays sealed and both a branch forked before and this one append to that
# next number (an add/add git drives). Without it, ours' edit would go to
# the small chunk 1 and theirs' to their new chunk 2, each file changed on
# one side only: no driver, theirs' row silently over ours'.
pv_git_repo "$T/n"
pvdev sql "CREATE TABLE m (k INTEGER PRIMARY KEY, v TEXT)"
# 500 rows, then 549 of them updated: 1049 lines of 1000 bytes, the last
# one taking chunk 1 past 1 MiB, with nothing after it
python3 -c "
print('INSERT INTO m VALUES ' + ', '.join('(%d, \'%s\')' % (k, 'x' * 990) for k in range(1000, 1500)) + ';')" | pvdev sql
python3 -c "
print('UPDATE m SET v = \'%s\' WHERE k < 1549;' % ('y' * 990))" | pvdev sql
python3 -c "
print('UPDATE m SET v = \'%s\' WHERE k >= 1000 AND k < 1049;' % ('z' * 990))" | pvdev sql
[ "$(ls .pv/tables/m)" = "$(printf '00000001.jsonl\nschema.jsonl')" ] && [ "$(wc -c <.pv/tables/m/00000001.jsonl)" -ge 1048576 ] ||
    fail "setup: chunk 1 should be the only one, sealed: $(ls -l .pv/tables/m)"
git add -A && git commit -qm base
git checkout -qb ours && pvdev compact >/dev/null
[ "$(ls .pv/tables/m)" = "$(printf '00000001.jsonl\n00000002.jsonl\nschema.jsonl')" ] ||
    fail "sealed newest chunk: $(ls .pv/tables/m)"
[ "$(cat .pv/tables/m/00000002.jsonl)" = '{"pv":1,"columns":["k","v"]}' ] || fail "sealed newest chunk: chunk 2 $(cat .pv/tables/m/00000002.jsonl)"
[ "$(wc -c <.pv/tables/m/00000001.jsonl)" -lt 600000 ] || fail "sealed newest chunk: not compacted"
pvdev sql "UPDATE m SET v = 'ours' WHERE k = 1200"
[ "$(wc -l <.pv/tables/m/00000002.jsonl)" = 2 ] || fail "sealed newest chunk: the update did not go to chunk 2"
git add -A && git commit -qm "ours + compact"
git checkout -q main && git checkout -qb theirs && pvdev sql "UPDATE m SET v = 'theirs' WHERE k = 1200" "UPDATE m SET v = 't' WHERE k = 1300"
git add -A && git commit -qm theirs
git checkout -q ours
if git merge -q theirs -m merge >merge.out 2>&1; then fail "sealed newest chunk: merge should conflict on 1200"; fi
pvdev conflicts >c.out
[ "$(grep -c '^m ' c.out)" = 1 ] && grep -q '^m 1200 ' c.out || fail "sealed newest chunk: conflicts $(cat c.out)"
[ "$(pvdev sql "SELECT k, v FROM m WHERE k IN (1200, 1300) ORDER BY k")" = "$(printf '1200|ours\n1300|t')" ] ||
    fail "sealed newest chunk: rows $(pvdev sql "SELECT k, v FROM m WHERE k IN (1200, 1300) ORDER BY k")"
[ "$(pvdev sql "SELECT COUNT(*) FROM m")" = 500 ] || fail "sealed newest chunk: row count"
git merge --abort
# A chunk deleted on one side (as an older pvdev's compact did) and
# changed on the other: git stops on a modify/delete without running the
# merge driver; 'pvdev conflicts' names the file.
pv_git_repo "$T/d"
pvdev sql "CREATE TABLE m (k INTEGER PRIMARY KEY, v TEXT)" "INSERT INTO m VALUES (1, 'one'), (2, 'two')"
git add -A && git commit -qm base
git checkout -qb ours && git rm -q .pv/tables/m/00000001.jsonl && git commit -qm "delete the chunk"
git checkout -q main && pvdev sql "UPDATE m SET v = 'theirs' WHERE k = 1" && git add -A && git commit -qm theirs
git checkout -q ours
if git merge -q main -m merge >/dev/null 2>&1; then fail "modify/delete: git should stop"; fi
pvdev conflicts > c.out
grep -qF ".pv/tables/m/00000001.jsonl: deleted on our side, changed on theirs: git did not run the merge driver" c.out ||
    fail "modify/delete: conflicts lacks the unmerged chunk: $(cat c.out)"
grep -q "no conflicts" c.out && fail "modify/delete: 'no conflicts' printed: $(cat c.out)"
git merge --abort
# A branch that did not compact merging one that did (the base's chunk 1
# sealed, chunk 2 open, both holding superseded versions): git takes the
# compacted chunk 1 as it is, and drives chunk 2, changed on both sides;
# the driver starts it from the compacted side's bytes and appends the
# other side's edit, so the merge keeps the compaction (it started from
# the appending side's bytes, the superseded versions with them).
pv_git_repo "$T/c"
python3 -c "
print('CREATE TABLE m (k INTEGER PRIMARY KEY, v TEXT);')
print('INSERT INTO m VALUES ' + ', '.join('(%d, \'%s\')' % (k, 'x' * 100) for k in range(1, 11001)) + ';')
print('UPDATE m SET v = \'one\' WHERE k = 1;')
print('UPDATE m SET v = \'a\' WHERE k = 11000;')
print('UPDATE m SET v = \'b\' WHERE k = 11000;')" | pvdev sql
[ -f .pv/tables/m/00000002.jsonl ] || fail "setup: chunk 1 was not sealed"
git add -A && git commit -qm base
git checkout -qb comp && pvdev compact >/dev/null && git add -A && git commit -qm compact
[ "$(git diff --name-status HEAD~1 HEAD -- .pv/tables/m | awk '{print $1}' | tr -d '\n')" = MM ] ||
    fail "setup: compact changed $(git diff --name-status HEAD~1 HEAD)"
comp_lines=$(cat .pv/tables/m/0*.jsonl | wc -l)
git checkout -q main && pvdev sql "UPDATE m SET v = 'edits' WHERE k = 2" && git add -A && git commit -qm edits
git merge -q comp -m merge 2>merge.err || fail "merge of a compaction: $(cat merge.err)"
[ "$(pvdev sql "SELECT COUNT(*), SUM(k) FROM m")" = "11000|60505500" ] || fail "merge of a compaction: rows lost"
[ "$(pvdev sql "SELECT k, v FROM m WHERE k <= 2 OR k = 11000 ORDER BY k")" = "$(printf '1|one\n2|edits\n11000|b')" ] ||
    fail "merge of a compaction: $(pvdev sql "SELECT k, v FROM m WHERE k <= 2 OR k = 11000 ORDER BY k")"
[ "$(git show comp:.pv/tables/m/00000001.jsonl | git hash-object --stdin)" = "$(git hash-object .pv/tables/m/00000001.jsonl)" ] ||
    fail "merge of a compaction: chunk 1 is not the compacted one"
head -n 1 .pv/tables/m/00000002.jsonl | grep -q '"compacted"' || fail "merge of a compaction: chunk 2 lost its compaction"
[ "$(cat .pv/tables/m/0*.jsonl | wc -l)" -le $((comp_lines + 1)) ] ||
    fail "merge of a compaction: $(cat .pv/tables/m/0*.jsonl | wc -l) chunk lines, the compaction's $comp_lines"
pvdev fsck >/dev/null 2>&1 || fail "merge of a compaction: fsck"
echo "compact e2e: ok"
