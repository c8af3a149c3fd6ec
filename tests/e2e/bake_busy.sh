#!/bin/sh
# pvbake of a work tree reads one committed state. Another process that
# compacts the workspace while the bake is reading it (after the first
# table, before the second) makes the bake's next read fail with PV_EBUSY:
# pvbake bakes again on a new snapshot, and gives up, naming the
# workspace, only when every one of its 3 attempts was interrupted.
# The bake is stopped there with its test hook PV_FAULTS_BAKE_PAUSE.
set -eu
. "$(dirname "$0")/../lib.sh"

# wait_stopped PID: until the process has stopped itself (SIGSTOP)
wait_stopped() {
    i=0
    until [ "$(ps -o stat= -p "$1" | cut -c1)" = T ]; do
        i=$((i + 1))
        [ $i -lt 400 ] || fail "pvbake did not stop at its pause"
        kill -0 "$1" 2>/dev/null || fail "pvbake ended before its pause: $(cat "$T/bake.err")"
        sleep 0.05
    done
}

# history N: rows of b replaced, for the next compaction to drop
history() { pvdev sql "UPDATE b SET v = v + $1; DELETE FROM b WHERE k = $1"; }

cd "$T"
mkdir ws && cd ws && pvdev init >/dev/null
pvdev sql "CREATE TABLE a (k INTEGER PRIMARY KEY, v INTEGER); INSERT INTO a VALUES (1, 10), (2, 20);
           CREATE TABLE b (k INTEGER PRIMARY KEY, v INTEGER);
           INSERT INTO b VALUES (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6)"
history 1

# 1. one compaction during the bake: baked again, the new state
PV_FAULTS_BAKE_PAUSE=1 pvbake -o "$T/out.pvdb" 2>"$T/bake.err" &
bake=$!
wait_stopped $bake
pvdev compact >/dev/null
history 2
kill -CONT $bake
wait $bake || fail "the bake failed: $(cat "$T/bake.err")"
grep -q "was rewritten by another process during the bake" "$T/bake.err" ||
    fail "the bake did not say it baked again: $(cat "$T/bake.err")"
got=$(pvdev sql --db "$T/out.pvdb" "SELECT COUNT(*), SUM(v) FROM b; SELECT SUM(v) FROM a" | tr '\n' ' ')
[ "$got" = "4|30 30 " ] || fail "the baked file holds '$got', expected the latest state '4|30 30 '"

# 2. a compaction during each of the 3 attempts: pvbake gives up, naming
#    the workspace, and leaves no output file
rm -f "$T/out.pvdb"
PV_FAULTS_BAKE_PAUSE=3 pvbake -o "$T/out.pvdb" 2>"$T/bake.err" &
bake=$!
for n in 3 4 5; do
    wait_stopped $bake
    history $n
    pvdev compact >/dev/null
    kill -CONT $bake
done
set +e
wait $bake
code=$?
set -e
[ "$code" = 1 ] || fail "expected pvbake to fail (1) after 3 interrupted bakes, got $code: $(cat "$T/bake.err")"
grep -q "workspace '.' was rewritten by another process during each of 3 bakes" "$T/bake.err" ||
    fail "the failure does not name the workspace: $(cat "$T/bake.err")"
[ ! -e "$T/out.pvdb" ] || fail "a failed bake left $T/out.pvdb"

# 3. left alone, it bakes
pvbake -o "$T/out.pvdb" 2>"$T/bake.err" || fail "the bake failed: $(cat "$T/bake.err")"
got=$(pvdev sql --db "$T/out.pvdb" "SELECT COUNT(*) FROM b" | tr '\n' ' ')
[ "$got" = "1 " ] || fail "the last bake holds '$got' rows of b, expected '1 '"
