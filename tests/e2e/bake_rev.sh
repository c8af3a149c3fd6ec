#!/bin/sh
# pvbake --rev: bake a revision straight from the object database (no
# checkout), also in a bare clone; the same rows give the same bytes from
# the work tree and from --rev, provenance included; checkpoints of
# revisions keyed by blob id, and what makes them unusable.
set -eu
. "$(dirname "$0")/../lib.sh"
cd "$T"
git init -q -b main repo && cd repo
pvdev init >/dev/null 2>&1
pvdev import airports "$PV_TOP/examples/data/airports.csv" --key iata 2>/dev/null
git add -A && git commit -qm one
pvdev sql "UPDATE airports SET name = 'SFO renamed' WHERE iata = 'SFO'; DELETE FROM airports WHERE iata = 'JFK'"
git add -A && git commit -qm two

pvbake -o ../wt.pvdb 2>/dev/null                 # the work tree, clean: HEAD's
pvbake -o ../head.pvdb --rev HEAD 2>/dev/null
cmp ../wt.pvdb ../head.pvdb || fail "work tree and --rev HEAD differ"
pvbake inspect ../head.pvdb | grep -q "source *$(git rev-parse HEAD)" || fail "provenance: $(pvbake inspect ../head.pvdb | head -5)"
pvbake -o ../old.pvdb --rev HEAD~1 2>/dev/null
[ "$(pvdev sql --db ../old.pvdb "SELECT name FROM airports WHERE iata IN ('SFO', 'JFK') ORDER BY iata" | tr '\n' ' ')" = \
  "John F Kennedy Intl San Francisco International " ] || fail "HEAD~1 rows"
[ "$(pvdev sql --db ../head.pvdb "SELECT COUNT(*) FROM airports")" = 3375 ] || fail "HEAD rows"

# checkpoints of revisions (.pv/cache/load-rev/, chunks known by git blob
# id): a --rev bake after one of a close revision replays only what
# differs, and every bake has the bytes of a bake with no cache at all
rm -rf .pv/cache
export PV_LOAD_CACHE_TRACE=1
PV_LOAD_CACHE_MIN_BYTES=0 pvbake -o ../r1.pvdb --rev HEAD~1 2>r1.err
grep -q "checkpoint written (3376 rows" r1.err || fail "no checkpoint of HEAD~1: $(cat r1.err)"
[ -f .pv/cache/load-rev/airports.pvck ] || fail "no .pv/cache/load-rev/airports.pvck"
[ -z "$(ls .pv/cache/load 2>/dev/null)" ] || fail "a --rev bake wrote the work tree's checkpoint"
cmp ../r1.pvdb ../old.pvdb || fail "HEAD~1 through its checkpoint differs"
pvbake -o ../r2.pvdb --rev HEAD 2>r2.err
grep -q "rows for the bake from the checkpoint and its tail (3375 rows, [1-9][0-9]* bytes" r2.err ||
    fail "HEAD did not start from HEAD~1's checkpoint: $(cat r2.err)"
PV_NO_LOAD_CACHE=1 pvbake --no-cache -o ../r2n.pvdb --rev HEAD 2>/dev/null
cmp ../r2n.pvdb ../r2.pvdb || fail "HEAD through the checkpoint differs from a bake with no cache"
cmp ../head.pvdb ../r2.pvdb || fail "HEAD through the checkpoint differs from its first bake"
pvbake -o ../r1b.pvdb --rev HEAD~1 2>r1b.err
grep -q "from the checkpoint and its tail (3376 rows, 0 bytes" r1b.err || fail "HEAD~1 again: $(cat r1b.err)"
cmp ../r1b.pvdb ../old.pvdb || fail "HEAD~1 again differs"
# a covered chunk rewritten to the same size in a commit: its blob id
# differs, its bytes are compared, the checkpoint is not used
sed -i 's/San Francisco International/San Francisco Internat1onal/' .pv/tables/airports/00000001.jsonl
git add -A && git commit -qm "same size"
pvbake -o ../r3.pvdb --rev HEAD 2>r3.err
grep -q "rows loaded from the chunks" r3.err || fail "a changed chunk was taken from the checkpoint: $(cat r3.err)"
PV_NO_LOAD_CACHE=1 pvbake --no-cache -o ../r3n.pvdb --rev HEAD 2>/dev/null
cmp ../r3n.pvdb ../r3.pvdb || fail "the rewritten chunk: bytes differ"
# a damaged checkpoint never gives a wrong byte (docs/FORMAT.md 4.1): a
# bake reads no row it takes from the bake cache by origin, so damage there
# goes unseen; rows it reads are checked, and damage there makes it start
# again without checkpoints. (HEAD's own checkpoint first: the one of
# HEAD~1 no longer matches the rewritten chunk.)
PV_LOAD_CACHE_MIN_BYTES=0 pvbake -o ../r3c.pvdb --rev HEAD 2>r3c.err
grep -q "checkpoint written (3375 rows" r3c.err || fail "no checkpoint of HEAD: $(cat r3c.err)"
python3 "$PV_TOP/tests/e2e/ckpt_edit.py" .pv/cache/load-rev/airports.pvck damage 1 100
pvbake -o ../r4.pvdb --rev HEAD 2>r4.err
grep -q "from the checkpoint" r4.err || fail "the checkpoint was not used: $(cat r4.err)"
grep -q " 7 by origin" r4.err || fail "damage in rows not read: $(cat r4.err)"
cmp ../r3n.pvdb ../r4.pvdb || fail "the damaged checkpoint, rows not read: bytes differ"
pvdev sql "UPDATE airports SET city = 'Burlingame' WHERE iata = 'SFO'"
git add -A && git commit -qm "one more change"
pvbake -o ../r5.pvdb --rev HEAD 2>r5.err
grep -q "do not match their checksum; baking again without checkpoints" r5.err || fail "damage in rows read: $(cat r5.err)"
PV_NO_LOAD_CACHE=1 pvbake --no-cache -o ../r5n.pvdb --rev HEAD 2>/dev/null
cmp ../r5n.pvdb ../r5.pvdb || fail "the damaged checkpoint, rows read: bytes differ"
unset PV_LOAD_CACHE_TRACE
git reset -q --hard HEAD~2

# an uncommitted change: the bake says worktree
pvdev sql "INSERT INTO airports (iata, name) VALUES ('ZZZ', 'new')"
pvbake -o ../dirty.pvdb 2>/dev/null
pvbake inspect ../dirty.pvdb | grep -q "source *worktree" || fail "dirty provenance"

# a bare clone: same bytes as from the work tree
cd "$T" && git clone -q --bare repo bare.git
pvbake -o bare.pvdb --rev HEAD -C bare.git 2>/dev/null
cmp bare.pvdb head.pvdb || fail "bare clone bake differs"
[ ! -d bare.git/.pv ] || fail "the bake wrote a cache into the bare repository"
expect_fail "unknown revision" pvbake -o x.pvdb --rev nope -C bare.git
echo "bake_rev e2e: ok"
