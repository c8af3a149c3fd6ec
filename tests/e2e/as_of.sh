#!/bin/sh
# SELECT ... FROM t AS OF 'REV': a table as it was at a git revision, read
# from the object database (no checkout), through pvdev sql.
set -eu
. "$(dirname "$0")/../lib.sh"
cd "$T"
git init -q -b main .
pvdev init >/dev/null 2>&1
pvdev sql "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one'), (2, 'two')"
git add -A && git commit -qm one
pvdev sql "UPDATE t SET v = 'TWO' WHERE k = 2; INSERT INTO t VALUES (3, 'three'); DELETE FROM t WHERE k = 1"
git add -A && git commit -qm two

[ "$(pvdev sql "SELECT k, v FROM t ORDER BY k" | tr '\n' ' ')" = "2|TWO 3|three " ] || fail "current rows"
got=$(pvdev sql "SELECT k, v FROM t AS OF 'HEAD~1' ORDER BY k" | tr '\n' ' ')
[ "$got" = "1|one 2|two " ] || fail "AS OF HEAD~1: '$got'"
# a key predicate must read the old version too (no lookup in today's rows)
[ "$(pvdev sql "SELECT v FROM t AS OF 'HEAD~1' WHERE k = 2")" = "two" ] || fail "AS OF with a key predicate"
[ "$(pvdev sql "SELECT x.v FROM t AS OF 'main~1' x WHERE x.k IN (1, 3)")" = "one" ] || fail "AS OF with an alias"
[ "$(pvdev sql "SELECT COUNT(*) FROM t AS OF 'HEAD'")" = 2 ] || fail "AS OF HEAD"
# an error names the revision's line and column (it was the statement's
# start: 1:1, 2:1, 1:1)
expect_fail "<argument 1>:1:23: AS OF 'nope': unknown revision" pvdev sql "SELECT * FROM t AS OF 'nope'"
grep -q "offset" "$T/.err" && fail "a byte offset: $(cat "$T/.err")"
pvdev sql "CREATE TABLE u (k INTEGER PRIMARY KEY)"
git add -A && git commit -qm three
expect_fail "<argument 1>:3:3: no such table: u (AS OF 'HEAD~1')" pvdev sql "SELECT 1;
SELECT k FROM u AS OF
  'HEAD~1'"
pvbake -o t.pvdb 2>/dev/null
expect_fail "<argument 1>:1:23: AS OF 'HEAD': reading past revisions needs a git repository" \
    pvdev sql --db t.pvdb "SELECT * FROM t AS OF 'HEAD'"
echo "as_of e2e: ok"
