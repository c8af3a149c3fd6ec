#!/bin/sh
# pvdev fsck: a clean workspace passes; each kind of damage is reported with
# its file and line, all of them in one run, and the exit code says so.
set -eu
. "$(dirname "$0")/../lib.sh"
cd "$T"
git init -q -b main .
pvdev init >/dev/null 2>&1
big=$(python3 -c 'print("z" * 3000)')
pvdev sql "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one'), (2, '$big')"
pvdev fsck 2>fsck.err || fail "a clean workspace: $(cat fsck.err)"
grep -q "1 table, 1 chunk, 3 records, 1 blob references, 1 blob files: 0 problems" fsck.err ||
    fail "summary: $(cat fsck.err)"
git add -A && git commit -qm clean
c=.pv/tables/t/00000001.jsonl
blob=$(ls .pv/blobs/*/*)
printf '<<<<<<< HEAD\n' >> "$c"
printf '[3,42]\n' >> "$c"
printf '{"conflict":{"key":[4],"base":null,"ours":[4,"a"],"theirs":[4,"b"]}}\n' >> "$c"
printf 'x' >> "$blob"
printf '[5,"torn' >> "$c"
if pvdev fsck >fsck.out 2>fsck.err; then fail "a damaged workspace passed fsck"; fi
grep -q "00000001.jsonl' line 4: git conflict marker" fsck.out || fail "marker: $(cat fsck.out)"
grep -q "00000001.jsonl' line 5: .*string in a\|line 5: .*number in a TEXT column" fsck.out || fail "type: $(cat fsck.out)"
grep -q "line 6: unresolved merge conflict" fsck.out || fail "conflict record: $(cat fsck.out)"
grep -q "line 7: no final newline" fsck.out || fail "torn line: $(cat fsck.out)"
grep -q "line 3: .*has 3001 bytes, the record says 3000" fsck.out || fail "blob size: $(cat fsck.out)"
[ "$(wc -l <fsck.out)" -ge 6 ] || fail "expected every problem listed: $(cat fsck.out)"
# the committed revision is still clean, read from the object database
pvdev fsck --rev HEAD 2>/dev/null || fail "fsck --rev HEAD"
echo "fsck e2e: ok"
