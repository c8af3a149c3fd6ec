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

# .parameter in the shell, fed the same lines as sqlite3: set (VALUE is an SQL
# expression; one that does not evaluate is text as written), list, unset,
# clear, and an unbound ? is NULL in the shell, as in sqlite3
cat > params.txt <<'EOF'
.parameter set ?1 42
.parameter set ?2 abc
.parameter set ?10 00501
.parameter set ?3 "'00501'"
.parameter set ?4 1.50
.parameter set ?5 NULL
.parameter set ?6 x'00ff'
.parameter set ?7 1+2
.parameter set ?8 "'it''s'"
.parameter set ?9 "'a b'"
.parameter list
SELECT ?1, ?2, ?3, typeof(?4), ?5, ?7, ?8, ?9, ?10, typeof(?10);
SELECT id, v FROM t WHERE id = ?1;
.parameter set ?1 "'00501'"
SELECT id FROM t WHERE zip = ?1;
.param set ?1 7
SELECT zip FROM t WHERE id = ?1;
.parameter unset ?2
.parameter list
.parameter clear
.parameter list
SELECT ?1 IS NULL, ?2;
EOF
sqlite3 -batch ../ref.db < params.txt > want.txt
pvdev sql --interactive < params.txt > got.txt
same want.txt got.txt ".parameter against sqlite3"
[ "$(grep -c . got.txt)" -ge 20 ] || fail ".parameter: too little output: $(cat got.txt)"
# a bad name or a missing value is an error, the shell goes on
printf '.parameter set :a 1\n.parameter set ?1\nSELECT 5;\n' | pvdev sql --interactive > bad.txt 2> bad.err && fail "bad .parameter exited 0"
grep -q "':a' is not a parameter name" bad.err || fail "bad .parameter name: $(cat bad.err)"
grep -q "invalid arguments: 'parameter'" bad.err || fail ".parameter set without a value: $(cat bad.err)"
[ "$(cat bad.txt)" = 5 ] || fail "the shell stopped after a bad .parameter"
# in a script (standard input, arguments) .parameter works too, and a
# parameter left without a value is still an error, not NULL
[ "$(printf '.parameter set ?1 7\nSELECT zip FROM t WHERE id = ?;\n' | pvdev sql)" = 501 ] || fail ".parameter on standard input"
[ "$(pvdev sql '.parameter set ?1 9' 'SELECT ?1 + 1')" = 10 ] || fail ".parameter as an argument"
expect_fail "(?2 has none)" pvdev sql '.parameter set ?1 9' 'SELECT ?1, ?2'

# on the bake too
pvbake -o ../t.pvdb > /dev/null 2>&1 || fail "bake"
[ "$(pvdev sql --db ../t.pvdb -p 00501 "SELECT id FROM t WHERE zip = ?")" = 42 ] || fail "--param on a .pvdb"
echo "sql --param e2e: ok"
