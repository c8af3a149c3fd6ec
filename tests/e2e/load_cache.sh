#!/bin/sh
# Table checkpoints (.pv/cache/load, docs/LOADING.md): with the checkpoint
# and without it, every query and every bake give the same answer and the
# same bytes, through edits after it (updates, deletes, inserts before,
# between and after its keys), writes on top of it, a damaged checkpoint, a
# rewritten chunk, a schema change and a symlinked cache directory. A bake
# that takes its rows from the checkpoint, a row group at a time, and its
# unchanged row groups from the bake cache by origin, gives the bytes of a
# bake with neither cache, through every kind of edit.
set -eu
. "$(dirname "$0")/../lib.sh"
cd "$T"
pvdev init >/dev/null 2>&1
# ~2.4 MB of chunk text (three chunks): text keys with leading zeros, NULL
# next to empty strings, quotes, newlines and non-ASCII text, reals.
python3 - <<'EOF' >rows.csv
import csv, sys
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["k", "n", "r", "s"])
for i in range(0, 60000, 2):
    s = ["", "plain", 'say "hi"', "two\nlines", "Zürich ✓", "x" * 40][i % 6]
    w.writerow(["%06d" % i, "" if i % 7 == 0 else str(i * 3 - 5000), "%.3f" % (i / 7), s])
EOF
PV_LOAD_CACHE_TRACE=1 pvdev import t rows.csv --key k >/dev/null 2>import.err
grep -q "checkpoint written (30000 rows" import.err || fail "the import wrote no checkpoint: $(cat import.err)"
export PV_LOAD_CACHE_MIN_BYTES=0 PV_LOAD_CACHE_TRACE=1
[ "$(ls .pv/tables/t/ | grep -c jsonl)" -ge 3 ] || fail "expected several chunks"

Q="SELECT k, n, r, s, typeof(n), length(s) FROM t"
# dump NAME: the rows through the cache (its trace in NAME.err) and without it
dump() {
    pvdev sql --json "$Q" >"$1.json" 2>"$1.err"
    PV_NO_LOAD_CACHE=1 pvdev sql --json "$Q" >"$1.nocache.json" 2>/dev/null
    same "$1.nocache.json" "$1.json" "$1: rows differ with the checkpoint"
}
# bake_both NAME: a bake through both caches (its stderr in NAME.bake.err)
# has the bytes of a bake with no checkpoint and an empty bake cache
bake_both() {
    pvbake -v -o "$1.pvdb" >/dev/null 2>"$1.bake.err" || fail "$1: bake: $(cat "$1.bake.err")"
    PV_NO_LOAD_CACHE=1 pvbake --no-cache -o "$1.nocache.pvdb" >/dev/null 2>&1
    cmp -s "$1.nocache.pvdb" "$1.pvdb" || fail "$1: the bake differs with the caches"
}
# with 2,000-row groups (PV_BAKE_GROUP_ROWS) a one-row edit leaves most of
# the 15 groups unchanged: bake_origin NAME MIN says at least MIN chunks
# came from the cache without their rows being read
export PV_BAKE_GROUP_ROWS=2000
bake_origin() {
    bake_both "$1"
    got=$(sed -n 's/.* \([0-9]*\) by origin.*/\1/p' "$1.bake.err")
    [ "${got:-0}" -ge "$2" ] || fail "$1: $got chunks by origin, expected $2: $(cat "$1.bake.err")"
}

dump first
grep -q "vectors from the checkpoint (" first.err || fail "the import's checkpoint not used: $(cat first.err)"
rm .pv/cache/load/t.pvck
dump replayed
grep -q "checkpoint written" replayed.err || fail "no checkpoint written: $(cat replayed.err)"
[ -f .pv/cache/load/t.pvck ] || fail "no .pv/cache/load/t.pvck"
dump again
grep -q "vectors from the checkpoint (" again.err || fail "checkpoint not used: $(cat again.err)"
bake_both clean
grep -q "rows for the bake from the checkpoint" clean.bake.err || fail "the bake did not read the checkpoint: $(cat clean.bake.err)"
grep -q "^pvbake: table t: checkpoint: rows for the bake from the checkpoint and its tail (30000 rows" clean.bake.err ||
    fail "pvbake -v does not say the way: $(cat clean.bake.err)"
bake_origin clean2 60 # (the first bake after the checkpoint put the origins)
# a damaged bake cache (every entry, origin entries included) is not read
python3 -c "
import os; d='.pv/cache/bake'
for f in os.listdir(d):
    p=os.path.join(d, f); b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)"
bake_both damaged_cache
grep -q " 0 by origin" damaged_cache.bake.err || fail "a damaged cache entry was used: $(cat damaged_cache.bake.err)"
bake_origin clean3 60

# one edit at a time, each baked through both caches and compared (the
# checkpoint is kept: the edits are its tail)
export PV_LOAD_CACHE_MIN_BYTES=100000000
pvdev sql "INSERT INTO t VALUES ('999990', 1, 2.5, 'appended')" 2>/dev/null
bake_origin insert_end 56
pvdev sql "UPDATE t SET s = 'middle' WHERE k = '030002'" 2>/dev/null
bake_origin update_middle 56
pvdev sql "DELETE FROM t WHERE k = '045000'" 2>/dev/null
bake_origin delete 28
pvdev sql "INSERT INTO t VALUES ('045000', NULL, NULL, NULL)" 2>/dev/null
bake_origin reinsert 28
pvdev sql "INSERT INTO t VALUES ('000003', 7, 0.5, 'before the rest')" 2>/dev/null
bake_both insert_first

# edits after the checkpoint: the tail is merged into its rows
pvdev sql "UPDATE t SET s = 'changed', n = NULL WHERE k IN ('000010', '031000', '059998');
           DELETE FROM t WHERE k IN ('000000', '030000', '059996');
           INSERT INTO t VALUES ('', 1, 1.5, 'empty key first'), ('030001', 2, NULL, 'between'),
                                ('999999', 3, 0.25, NULL), ('0300010', 4, 4.5, 'prefix');
           INSERT INTO t VALUES ('000000', 5, 5.5, 'deleted, then back');
           DELETE FROM t WHERE k = '030001'" 2>/dev/null
export PV_LOAD_CACHE_MIN_BYTES=100000000 # keep this checkpoint: the tail path is under test
dump tail
grep -q "vectors from the checkpoint and its tail" tail.err || fail "tail path not taken: $(cat tail.err)"
grep -q '"k":"030001"' tail.json && fail "a key deleted in the tail is back"
grep -q '"k":"030000"' tail.json && fail "a deleted checkpoint key is back"
grep -q '"s":"deleted, then back"' tail.json || fail "a re-inserted key is missing"
bake_both tail
grep -q "rows for the bake from the checkpoint and its tail" tail.bake.err || fail "the bake did not merge the tail: $(cat tail.bake.err)"

# writes on top of a checkpoint (rows loaded from it, then the tail)
pvdev sql "INSERT INTO t VALUES ('000001', 6, 6.5, 'odd key'); UPDATE t SET r = -1 WHERE k = '059998'" \
    2>write.err
grep -q "rows loaded from the checkpoint" write.err || fail "write did not load from the checkpoint: $(cat write.err)"
dump written
grep -q '"k":"000001"' written.json || fail "the new row is missing"

# a damaged checkpoint is ignored, never read
python3 -c "
import sys; p='.pv/cache/load/t.pvck'; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=0x40; open(p,'wb').write(b)"
dump damaged
grep -q "checkpoint" damaged.err && fail "a damaged checkpoint was used: $(cat damaged.err)"
export PV_LOAD_CACHE_MIN_BYTES=0
dump rewritten # (writes a good one again)
[ -f .pv/cache/load/t.pvck ] || fail "checkpoint not rewritten"
truncate -s 1000 .pv/cache/load/t.pvck
dump truncated

# a covered chunk that changed (a checkout, a hand edit) makes it stale
dump fresh
sed -i 's/"000002",/"000002x",/' .pv/tables/t/00000001.jsonl
dump edited
grep -q '"k":"000002x"' edited.json || fail "the edited chunk was not read"
grep -q "vectors from the checkpoint" edited.err && fail "a stale checkpoint was used"

# a schema change makes it stale too
pvdev sql "ALTER TABLE t ADD COLUMN extra INTEGER DEFAULT 7" 2>/dev/null
Q="SELECT k, extra, s FROM t"
dump altered
grep -q '"extra":7' altered.json || fail "the new column's default is missing"
bake_both altered
bake_both altered_again

# version 3 (docs/FORMAT.md 4.1): rows checked by segments of 16384 rows.
# A whole checkpoint of another version is ignored, never misread, and
# rebuilt.
CK=.pv/cache/load/t.pvck
edit() { python3 "$PV_TOP/tests/e2e/ckpt_edit.py" "$CK" "$@"; }
dump v3 # (PV_LOAD_CACHE_MIN_BYTES=0: a checkpoint of every chunk)
edit version 2
dump old_version
grep -q "from the checkpoint" old_version.err && fail "a version 2 checkpoint was used: $(cat old_version.err)"
grep -q "checkpoint written" old_version.err || fail "the version 2 checkpoint was not rebuilt: $(cat old_version.err)"
dump v3_again
grep -q "vectors from the checkpoint (" v3_again.err || fail "the rebuilt checkpoint was not used: $(cat v3_again.err)"

# A bake checks the rows it reads, segment by segment, as it reads them.
# Damage in rows it takes from the bake cache by origin goes unseen (it
# reads nothing there); damage in rows it reads makes it start again
# without checkpoints; damage in keys the merge with the tail reads makes
# it load the table. Every time the bytes are those of a bake with no
# cache. (Columns: k 0, n 1, r 2, s 3, extra 4; 2000-row groups.)
export PV_LOAD_CACHE_MIN_BYTES=100000000 # (keep the damaged checkpoint)
bake_both seg_warm # (the origins of this checkpoint's rows)
pvdev sql "INSERT INTO t (k, n, s) VALUES ('999993', 1, 'last')" 2>/dev/null
edit damage 2 100 # column r, row 100: segment 0, row group 0
bake_origin seg_skipped 70
grep -q "rows for the bake from the checkpoint" seg_skipped.bake.err ||
    fail "damage in rows the bake does not read: checkpoint not used: $(cat seg_skipped.bake.err)"
grep -q "baking again" seg_skipped.bake.err && fail "damage in rows not read was seen: $(cat seg_skipped.bake.err)"
dump seg_load
grep -q "from the checkpoint" seg_load.err && fail "a load used a damaged checkpoint: $(cat seg_load.err)"
pvdev sql "UPDATE t SET n = 5 WHERE k = '000200'" 2>/dev/null # (row group 0 is read)
bake_both seg_read
grep -q "column r, rows 0\.\.[0-9]* do not match their checksum; baking again without checkpoints" seg_read.bake.err ||
    fail "damage in rows the bake reads: $(cat seg_read.bake.err)"
PV_LOAD_CACHE_MIN_BYTES=0 dump seg_fresh # (a good checkpoint again)
grep -q "checkpoint written" seg_fresh.err || fail "no checkpoint after the damaged one: $(cat seg_fresh.err)"
bake_both seg_warm2
pvdev sql "INSERT INTO t (k, n, s) VALUES ('999994', 1, 'last')" 2>/dev/null
edit damage 0 29000 # key k, row 29000: segment 1, where the merge searches
bake_both seg_key
grep -q "rows for the bake from the checkpoint" seg_key.bake.err &&
    fail "a checkpoint with a damaged key was merged: $(cat seg_key.bake.err)"
grep -q "rows loaded from the chunks" seg_key.bake.err || fail "seg_key: $(cat seg_key.bake.err)"
export PV_LOAD_CACHE_MIN_BYTES=0
dump seg_done
grep -q "checkpoint written" seg_done.err || fail "seg_done: $(cat seg_done.err)"

# A point query reads the segments its binary search probes and those of
# the row it returns, nothing else (ws_point.c): damage elsewhere goes
# unseen; damage in a segment it reads makes it load the table (which
# ignores the damaged checkpoint). Either way the answer is the one
# without a checkpoint. (2 segments: rows 0..16383, 16384..)
# point NAME KEY: the row of KEY with the checkpoint (trace in NAME.err)
# and without it, compared
point() {
    pvdev sql --json "SELECT k, n, r, s, extra FROM t WHERE k = '$2'" >"$1.json" 2>"$1.err"
    PV_NO_LOAD_CACHE=1 pvdev sql --json "SELECT k, n, r, s, extra FROM t WHERE k = '$2'" >"$1.nocache.json" 2>/dev/null
    same "$1.nocache.json" "$1.json" "$1: the row of '$2' differs with the checkpoint"
    grep -q "\"k\":\"$2\"" "$1.json" || fail "$1: no row for '$2': $(cat "$1.json")"
}
key_at() { PV_NO_LOAD_CACHE=1 pvdev sql --csv "SELECT k FROM t ORDER BY k LIMIT 1 OFFSET $1" 2>/dev/null; }
export PV_LOAD_CACHE_MIN_BYTES=100000000 # (keep the damaged checkpoints)
K100=$(key_at 100) K29000=$(key_at 29000) K29001=$(key_at 29001)
point pt_clean "$K29000"
[ -s pt_clean.err ] && fail "a point query loaded the table: $(cat pt_clean.err)"
edit damage 3 100 # column s, row 100: segment 0, which a search for row 29000 does not read
point pt_unread "$K29000"
[ -s pt_unread.err ] && fail "damage in a segment the lookup does not read was seen: $(cat pt_unread.err)"
point pt_value "$K100" # (its row's s is the damaged one)
grep -q "rows loaded from the chunks" pt_value.err || fail "pt_value: the damaged value was not seen: $(cat pt_value.err)"
PV_LOAD_CACHE_MIN_BYTES=0 dump pt_fresh # (a good checkpoint again)
grep -q "checkpoint written" pt_fresh.err || fail "pt_fresh: $(cat pt_fresh.err)"
edit damage 0 29000 # key k, row 29000: segment 1, which the search for row 29001 reads
point pt_key "$K29001"
grep -q "rows loaded from the chunks" pt_key.err || fail "pt_key: the damaged key was not seen: $(cat pt_key.err)"
out=$(pvdev sql --csv "SELECT k FROM t WHERE k = '029001'" 2>&1) # (absent: odd)
[ -z "$(echo "$out" | grep -v "rows loaded from the chunks")" ] || fail "an absent key in a damaged segment: $out"
export PV_LOAD_CACHE_MIN_BYTES=0
dump pt_done
grep -q "checkpoint written" pt_done.err || fail "pt_done: $(cat pt_done.err)"

# secondary indexes: an indexed table's column chunks come from the
# checkpoint, unchanged ones by origin, and its index sections are built
# from the indexed columns' vectors: the bytes of a bake with no cache
pvdev sql "CREATE INDEX t_n ON t(n)" 2>/dev/null
pvdev sql "CREATE INDEX t_s_extra ON t(s, extra)" 2>/dev/null
dump indexed
bake_both indexed
grep -q "rows for the bake from the checkpoint" indexed.bake.err || fail "indexed: not from the checkpoint: $(cat indexed.bake.err)"
bake_origin indexed2 60
export PV_LOAD_CACHE_MIN_BYTES=100000000
pvdev sql "INSERT INTO t (k, n, s) VALUES ('999991', 5, 'indexed')" 2>/dev/null
bake_origin indexed_insert 56
pvdev sql "UPDATE t SET n = 12345, s = 'moved' WHERE k = '030004'" 2>/dev/null
bake_origin indexed_update 56
pvbake verify indexed_update.pvdb >/dev/null 2>&1 || fail "indexed_update.pvdb does not verify"
export PV_LOAD_CACHE_MIN_BYTES=0

# A copy of the workspace (cp -a, a CI cache restore) has other inodes, so
# the checkpoint's stat hints do not match and every covered chunk is
# hashed. The first load that hashed them records their new stat in the
# checkpoint (in place, docs/LOADING.md 1): the next ones hash nothing,
# the checkpoint stays valid and the answers and bakes stay the same.
dump pre_copy # (a checkpoint of every chunk, whole)
mkdir copy && cp -a .pv copy/
stale() { python3 "$PV_TOP/tests/e2e/ckpt_edit.py" "$1/.pv/cache/load/t.pvck" stale "$1/.pv/tables/t"; }
[ -z "$(stale .)" ] || fail "stale hints in the original: $(stale .)"
[ "$(stale copy | wc -l)" -eq "$(ls .pv/tables/t | grep -c '^[0-9]*\.jsonl$')" ] ||
    fail "the copy's hints already match: $(stale copy)"
pvdev -C copy sql --json "$Q" >copy.json 2>copy.err
same pre_copy.json copy.json "the copy's rows differ"
grep -q "vectors from the checkpoint (" copy.err || fail "the copy's checkpoint was not used: $(cat copy.err)"
[ -z "$(stale copy)" ] || fail "hints not refreshed after the copy's chunks were hashed: $(stale copy)"
pvdev -C copy sql --json "$Q" >copy2.json 2>copy2.err
same pre_copy.json copy2.json "the copy's rows differ after the refresh"
grep -q "vectors from the checkpoint (" copy2.err || fail "the refreshed checkpoint was not used: $(cat copy2.err)"
(cd copy && bake_both copy_bake)
grep -q "rows for the bake from the checkpoint" copy/copy_bake.bake.err || fail "copy_bake: $(cat copy/copy_bake.bake.err)"
rm -rf copy && mkdir copy && cp -a .pv copy/ # (the same through a bake)
(cd copy && bake_both copy_bake2)
[ -z "$(stale copy)" ] || fail "hints not refreshed by a bake: $(stale copy)"
rm -rf copy

# the cache directory must be a directory of ours, not a planted link
rm -rf .pv/cache/load && mkdir "$T/elsewhere" && ln -s "$T/elsewhere" .pv/cache/load
pvdev sql "INSERT INTO t (k, s) VALUES ('x1', 'y')" 2>/dev/null
dump linked
[ -z "$(ls "$T/elsewhere")" ] || fail "a checkpoint was written through a symlink"
pvdev fsck >/dev/null 2>&1 || fail "fsck with a cache directory"
echo "load_cache e2e: ok"
