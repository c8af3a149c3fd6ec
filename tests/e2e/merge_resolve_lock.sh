#!/bin/sh
# `pvdev resolve` holds the workspace's writer lock for its whole run, and
# its row phase (conflict records out, chosen rows in) is one commit of the
# rollback journal. Before, the rows were committed and then each chunk
# rewritten without the lock: a writer appending to the chunk between the
# rewrite's read and its rename lost its committed row.
set -eu
. "$(dirname "$0")/../lib.sh"

q() { pvdev sql "$1"; }

# A merge in progress with row conflicts only (no schema conflict): keys 2
# and 3 changed on both sides; key 4 added by theirs (clean). Then one row
# committed by a writer after the merge stopped: it must survive.
new_merge() {
    pv_git_repo "$T/r"
    q "CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT);
       INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')"
    commit base
    git checkout -qb side && q "UPDATE t SET a = 'DEUX' WHERE k = 2" && q "UPDATE t SET a = 'TROIS' WHERE k = 3" &&
        q "INSERT INTO t VALUES (4, 'four')" && commit side
    git checkout -q main && q "UPDATE t SET a = 'deux' WHERE k = 2" && q "UPDATE t SET a = 'trois' WHERE k = 3" &&
        commit main
    if git merge -q side -m merge >"$T/merge.out" 2>&1; then fail "setup: the merge should conflict"; fi
    [ "$(pvdev conflicts | grep -c '^t ')" = 2 ] || fail "setup: expected 2 row conflicts: $(pvdev conflicts)"
    q "INSERT INTO t VALUES (5, 'five')"
}

finish() {
    [ "$(pvdev conflicts)" = "no conflicts" ] || fail "$1: conflicts left: $(pvdev conflicts)"
    ls .pv/tables/t | grep -q 'resolve' && fail "$1: temporary files left: $(ls .pv/tables/t)"
    ls .pv/journal 2>/dev/null | grep -qv "^lock$" && fail "$1: journal left: $(ls .pv/journal)"
    pvdev fsck >/dev/null 2>&1 || fail "$1: fsck refuses the result"
    git add -A && git commit -qm merge || fail "$1: cannot commit the settled merge"
}

# wait_stopped PID: until the process stops itself (SIGSTOP fault point)
wait_stopped() {
    i=0
    until [ "$(ps -o stat= -p "$1" | cut -c1)" = T ]; do
        i=$((i + 1)) && [ $i -lt 200 ] || fail "pvdev resolve never reached its pause point"
        sleep 0.05
    done
}

# 1. a writer tries to commit while resolve is in its row phase (paused
#    after reading the chunks, before writing them): refused with resolve's
#    pid, nothing of it written; its commit after resolve is kept. Per
#    table, per key, --ours and --theirs.
for args in "--theirs t" "--ours t" "--theirs t 2" "--ours" ; do
    new_merge
    PV_FAULTS_RESOLVE_ROWS_PAUSE=1 pvdev resolve $args >"$T/resolve.out" 2>&1 &
    pid=$!
    wait_stopped $pid
    expect_fail "is locked by pid $pid" pvdev sql "INSERT INTO t VALUES (9, 'nine')"
    kill -CONT $pid
    wait $pid || fail "$args: resolve failed after the pause: $(cat "$T/resolve.out")"
    q "INSERT INTO t VALUES (9, 'nine')"
    case "$args" in
    "--theirs t") want="1|one 2|DEUX 3|TROIS 4|four 5|five 9|nine " ;;
    "--theirs t 2") want="1|one 2|DEUX 3|trois 4|four 5|five 9|nine " ;;
    *) want="1|one 2|deux 3|trois 4|four 5|five 9|nine " ;;
    esac
    expect_sql "SELECT k, a FROM t ORDER BY k" "$want" "paused $args"
    if [ "$args" = "--theirs t 2" ]; then
        [ "$(pvdev conflicts | grep -c '^t ')" = 1 ] || fail "per key: expected key 3 left: $(pvdev conflicts)"
        pvdev resolve --ours t 3 >/dev/null || fail "per key: resolving key 3 failed"
    fi
    finish "paused $args"
done

# 2. killed in the row phase after the N-th file change (1: the chunk
#    moved aside; 2: its rewritten copy in): readers refuse the half-done
#    state; the rerun rolls it back and settles exactly, keeping the row
#    committed after the merge
for n in 1 2; do
    new_merge
    resolve_killed PV_FAULTS_RESOLVE_ROWS_CRASH $n "rows crash $n"
    resolve_rerun "rows crash $n"
    expect_sql "SELECT k, a FROM t ORDER BY k" "1|one 2|DEUX 3|TROIS 4|four 5|five " "rows crash $n"
    finish "rows crash $n"
done
echo "merge_resolve_lock e2e: ok"
