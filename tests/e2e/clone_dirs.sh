#!/bin/sh
# git tracks files, not directories: a clone of a workspace with no table
# has no .pv/tables, one with no large value no .pv/blobs, and a checkout
# of a commit without blobs removes .pv/blobs. Writing must work anyway
# (a fresh clone could not create a table, and a large value after such a
# checkout failed with "cannot create '.pv/blobs/9d'": found by testing).
set -eu
. "$(dirname "$0")/../lib.sh"
big=$(python3 -c 'print("a" * 2000)')
pv_git_repo "$T/origin"
git add -A && git commit -qm init
[ -z "$(git ls-files .pv/tables .pv/blobs)" ] || fail "setup: directories tracked"
git clone -q "$T/origin" "$T/clone"
cd "$T/clone"
[ ! -d .pv/tables ] && [ ! -d .pv/blobs ] || fail "setup: the clone has the directories"
pvdev sql "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)" "INSERT INTO t VALUES (1, 'one')" 2>err ||
    fail "create table in a fresh clone: $(cat err)"
pvdev sql "INSERT INTO t VALUES (2, '$big')" 2>err || fail "a large value in a fresh clone: $(cat err)"
[ "$(pvdev sql "SELECT k, length(v) FROM t ORDER BY k")" = "$(printf '1|3\n2|2000')" ] || fail "rows in the clone"
pvdev fsck >/dev/null 2>&1 || fail "fsck in the clone"
# a checkout of a commit without blobs removes .pv/blobs
cd "$T/origin"
pvdev sql "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)" "INSERT INTO t VALUES (1, 'one')"
git add -A && git commit -qm small
pvdev sql "INSERT INTO t VALUES (2, '$big')" && git add -A && git commit -qm big
git checkout -q HEAD~1
[ ! -d .pv/blobs ] || fail "setup: git kept .pv/blobs"
pvdev sql "INSERT INTO t VALUES (3, '$big b')" 2>err || fail "a large value after checkout: $(cat err)"
[ "$(pvdev sql "SELECT length(v) FROM t WHERE k = 3")" = 2002 ] || fail "the large value after checkout"
echo "clone_dirs e2e: ok"
