#!/bin/sh
# The workspace layout version across branches (issue 5): `.pv/format` is
# 1 on a branch that never made an index and 2 on one that did (index
# lines in schema.jsonl, docs/FORMAT.md). git merges it as a text file
# that one side changed, so it must end at 2 after a merge either way and
# a rebase, with every row and the index working.
set -eu
. "$(dirname "$0")/../lib.sh"

q() { pvdev sql "$1"; }

new_repo() {
    pv_git_repo "$T/r"
    pv_base_t
    [ "$(format)" = 1 ] || fail "a new workspace has format $(format)"
    # A: an index (format 2) and a row; B: no index (format 1) and rows
    git checkout -qb A && q "CREATE INDEX ia ON t (a)" && q "INSERT INTO t VALUES (4, 'four', 40)" &&
        git add -A && git commit -qm A
    [ "$(format)" = 2 ] || fail "CREATE INDEX left format $(format)"
    git checkout -qb B main && q "INSERT INTO t VALUES (5, 'five', 50)" && q "UPDATE t SET b = 22 WHERE k = 2" &&
        git add -A && git commit -qm B
    [ "$(format)" = 1 ] || fail "branch B has format $(format)"
}
format() { sed -n 's/.* \([0-9]*\)$/\1/p' .pv/format; }
# check WHAT: format 2, fsck clean, the rows exactly, the index there and used
check() {
    [ "$(format)" = 2 ] || fail "$1: .pv/format is '$(cat .pv/format)', expected version 2"
    pvdev fsck >"$T/fsck.out" 2>&1 || fail "$1: fsck: $(cat "$T/fsck.out")"
    got=$(q "SELECT k, a, b FROM t ORDER BY k" | tr '\n' ' ')
    [ "$got" = "1|one|10 2|two|22 3|three|30 4|four|40 5|five|50 " ] || fail "$1: rows '$got'"
    grep -q '"index":"ia"' .pv/tables/t/schema.jsonl || fail "$1: the index is gone: $(cat .pv/tables/t/schema.jsonl)"
    q "EXPLAIN QUERY PLAN SELECT k FROM t WHERE a = 'five'" | grep -q "ia" ||
        fail "$1: the plan does not use ia: $(q "EXPLAIN QUERY PLAN SELECT k FROM t WHERE a = 'five'")"
    [ "$(q "SELECT k FROM t WHERE a = 'five'")" = 5 ] || fail "$1: the index misses B's row"
    [ "$(q "SELECT k FROM t WHERE a = 'two'")" = 2 ] || fail "$1: the index misses row 2"
    # the merged workspace takes writes, found through the index
    q "INSERT INTO t VALUES (6, 'six', 60)"
    [ "$(q "SELECT k FROM t WHERE a = 'six'")" = 6 ] || fail "$1: a write after it is not in the index"
    git checkout -q -- .pv
}

# 1. merge A (format 2) into B (format 1)
new_repo
git checkout -q B
git merge -q A -m merge 2>"$T/merge.err" || fail "A into B: merge failed: $(cat "$T/merge.err")"
check "A into B"

# 2. merge B (format 1) into A (format 2)
new_repo
git checkout -q A
git merge -q B -m merge 2>"$T/merge.err" || fail "B into A: merge failed: $(cat "$T/merge.err")"
check "B into A"

# 3. rebase B onto A, and A onto B
new_repo
git checkout -q B
git rebase -q A 2>"$T/rebase.err" || fail "B onto A: rebase failed: $(cat "$T/rebase.err")"
check "B onto A"
new_repo
git checkout -q A
git rebase -q B 2>"$T/rebase.err" || fail "A onto B: rebase failed: $(cat "$T/rebase.err")"
check "A onto B"

echo "merge_format e2e: ok"
