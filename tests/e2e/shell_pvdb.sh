#!/bin/sh
# An open `pvdev sql --db X.pvdb` shell sees a new X.pvdb renamed over the
# path (pvbake's hot swap), as shell_refresh.sh's sees a workspace's
# commits: before each statement, .tables and .schema it takes the file now
# at the path (pv_reopen). One shell process stays open while new bakes of
# a workspace are moved over X.pvdb. A damaged file moved there, or none
# at all, is an error that names the file, and the shell answers from the
# file it had (pv_reopen keeps it) until a good one is back.
set -eu
. "$(dirname "$0")/../lib.sh"

cd "$T"
mkdir ws && (cd ws && pvdev init >/dev/null)
pvdev -C ws sql "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b')"
db="$T/x.pvdb"
# bake: the workspace baked to a temporary file, renamed over $db
bake() {
    pvbake -o "$T/new.pvdb" -C ws 2>"$T/bake.err" || fail "pvbake: $(cat "$T/bake.err")"
    mv "$T/new.pvdb" "$db"
}
bake

shell_start --db "$db"
# errors: how many error lines the shell has printed
errors() { grep -c '^Error: ' "$T/err" || true; }

ask "SELECT COUNT(*) FROM t;" 2 "start"

# 1. a new bake renamed over the path: the next statement reads it
pvdev -C ws sql "INSERT INTO t VALUES (3, 'c')"
bake
ask "SELECT COUNT(*) FROM t;" 3 "after a new file was renamed over the path"

# 2. .tables, .schema, a multi-statement line and a .parameter value all
#    read the file now at the path
pvdev -C ws sql "CREATE TABLE u (k INTEGER PRIMARY KEY, w TEXT); INSERT INTO u VALUES (1, 'x');
                 UPDATE t SET v = 'B' WHERE k = 2"
bake
ask ".tables" "t u" ".tables of a new table" 2
ask ".schema u" "CREATE TABLE u(k INTEGER, w TEXT, PRIMARY KEY(k));" ".schema of a new table"
echo ".parameter set ?1 2" >&3
ask "SELECT v FROM t WHERE k = ?1;" B "a parameter's statement on a new file"
pvdev -C ws sql "INSERT INTO u VALUES (2, 'y'); INSERT INTO t VALUES (4, 'd')"
bake
ask "SELECT COUNT(*) FROM t; SELECT COUNT(*) FROM u;" "4 2" "a line of two statements on a new file" 2
echo ".mode csv" >&3
echo ".headers on" >&3
ask "SELECT k, v FROM t WHERE k = ?1;" "k,v 2,B" ".mode, .headers and a parameter kept across a new file" 2
echo ".headers off" >&3
[ "$(errors)" = 0 ] || fail "errors before any damaged file: $(cat "$T/err")"

# 3. a truncated file renamed over the path: each statement says so,
#    naming the file, and answers from the file the shell had
good=$(wc -c <"$db")
head -c $((good / 2)) "$db" >"$T/bad.pvdb"
mv "$T/bad.pvdb" "$db"
ask "SELECT COUNT(*) FROM t;" 4 "a truncated file at the path"
[ "$(errors)" = 1 ] || fail "no error for the truncated file: $(cat "$T/err")"
grep -qF "$db: corrupt file: " "$T/err" || fail "the error does not name the file: $(cat "$T/err")"
grep -qF "reading on from the file opened before" "$T/err" ||
    fail "the error does not say where the answer comes from: $(cat "$T/err")"
ask "SELECT COUNT(*) FROM u;" 2 "the truncated file still at the path"
ask ".tables" "t u" ".tables with the truncated file at the path" 2
[ "$(errors)" = 3 ] || fail "expected an error for each of 3 commands, got: $(cat "$T/err")"

# 4. no file at the path: the same
rm "$db"
ask "SELECT COUNT(*) FROM t;" 4 "no file at the path"
grep -qF "cannot open '$db': No such file or directory" "$T/err" ||
    fail "no error naming the missing file: $(cat "$T/err")"
[ "$(errors)" = 4 ] || fail "expected one more error for the missing file: $(cat "$T/err")"

# 5. a good file back at the path, by pvbake itself (it writes a
#    temporary file and renames it over its output): read, and no error
#    any more
pvdev -C ws sql "INSERT INTO t VALUES (5, 'e')"
pvbake -o "$db" -C ws 2>"$T/bake.err" || fail "pvbake: $(cat "$T/bake.err")"
ask "SELECT COUNT(*) FROM t;" 5 "a good file back at the path"
ask "SELECT MAX(k) FROM t;" 5 "the good file, once more"
[ "$(errors)" = 4 ] || fail "errors after the good file came back: $(cat "$T/err")"

# The shell read its input to the end; its errors make it exit 1 (input
# not a terminal), as every error of a piped shell does.
echo ".quit" >&3
exec 3>&-
set +e
wait $shell
code=$?
set -e
[ "$code" = 1 ] || fail "the shell exited $code after printing errors, expected 1: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" = 4 ] || fail "the shell printed more than its 4 errors: $(cat "$T/err")"
