#!/bin/sh
# pvbake --rev: bake a revision straight from the object database (no
# checkout), also in a bare clone; the same rows give the same bytes from
# the work tree and from --rev, provenance included.
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
