#!/bin/sh
# `pvdev sql --param`: values for `?` parameters from the command line,
# bound as TEXT so nothing changes on the way in; compared with what
# sqlite3 gives for the same statements with the same text values bound
# (sqlite3's `.parameter set ?N "'text'"`: its argument is an SQL
# expression, quoted so it is a string), on a real workspace and its bake.
set -eu
. "$(dirname "$0")/../lib.sh"

cd "$T"
mkdir ws && cd ws && pvdev init > /dev/null
setup="CREATE TABLE t (id INTEGER PRIMARY KEY, zip TEXT, v REAL);
INSERT INTO t VALUES (42, '00501', 1.5), (7, '501', 2.0), (9, NULL, -3.25);"
pvdev sql "$setup"
sqlite3 -batch ../ref.db "$setup"

# check SQL VALUE...: pvdev's rows equal sqlite3's with the same values
check() {
    sql=$1; shift
    args="" set=""
    i=1
    for v in "$@"; do
        args="$args -p $v"
        set="$set.parameter set ?$i \"'$v'\"
"
        i=$((i + 1))
    done
    # shellcheck disable=SC2086  # values in these tests have no blanks
    pvdev sql $args "$sql" > got.txt
    printf '%s%s\n' "$set" "$sql" | sqlite3 -batch ../ref.db > want.txt
    same want.txt got.txt "--param $*: $sql"
}
check "SELECT * FROM t WHERE id = ?" 42           # INTEGER affinity: '42' finds 42
check "SELECT id FROM t WHERE zip = ?" 00501      # TEXT stays text: no leading zero lost
check "SELECT id FROM t WHERE zip = ?" 501
check "SELECT id FROM t WHERE v = ?" 2.0
check "SELECT id FROM t WHERE v < ? ORDER BY id" 2
check "SELECT ? || ?, ? + 1" a b 41
check "SELECT id FROM t WHERE id IN (?, ?) ORDER BY id" 9 7

# every statement of a script binds ?1.. from the same list; a write too
pvdev sql -p 8 -p 'x y' "INSERT INTO t VALUES (?, ?, NULL); SELECT id, zip, typeof(id) FROM t WHERE id = ?" > w.txt
[ "$(cat w.txt)" = "8|x y|integer" ] || fail "insert through --param: $(cat w.txt)"

# too few values: an error naming the statement, not a silent NULL
expect_fail "uses 2 parameters; 1 value was given with --param" pvdev sql -p 1 "SELECT * FROM t WHERE id = ? AND zip = ?"
expect_fail "uses 1 parameter; 0 values were given" pvdev sql "SELECT 1; SELECT ?"

# on the bake too
pvbake -o ../t.pvdb > /dev/null 2>&1 || fail "bake"
[ "$(pvdev sql --db ../t.pvdb -p 00501 "SELECT id FROM t WHERE zip = ?")" = 42 ] || fail "--param on a .pvdb"
echo "sql --param e2e: ok"
