#!/bin/sh
# An open `pvdev sql` shell sees what other processes commit, as the
# sqlite3 shell does: before each statement outside a transaction it takes
# the workspace's latest commit (pv_reopen). Other pvdev processes insert,
# create a table and compact while one shell process stays open; inside
# the shell's own transaction nothing changes under it.
set -eu
. "$(dirname "$0")/../lib.sh"

cd "$T"
mkdir ws && cd ws && pvdev init >/dev/null
pvdev sql "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a');
           CREATE TABLE u (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO u VALUES (1, 'x')"

shell_start
# tell SQL: a statement without result, done once a SELECT after it answers
tell() { echo "$1" >&3; }

ask "SELECT COUNT(*) FROM t;" 1 "start"

# 1. a row committed by another process
pvdev sql "INSERT INTO t VALUES (2, 'b')"
ask "SELECT COUNT(*) FROM t;" 2 "after another process's INSERT"

# 2. a compaction by another process rewrites u's chunk after the shell
#    read t: the old handle could only say PV_EBUSY ("reopen")
pvdev sql "DELETE FROM u WHERE k = 1; INSERT INTO u VALUES (2, 'y')"
pvdev compact >/dev/null
ask "SELECT MAX(k) FROM u;" 2 "after another process's compaction"

# 3. a table created by another process: queries and .tables see it
pvdev sql "CREATE TABLE w (k INTEGER PRIMARY KEY); INSERT INTO w VALUES (7)"
ask "SELECT k FROM w;" 7 "a table another process created"
ask ".tables" t "the .tables of a new table"
lines=$((lines + 2))  # (t, u, w)
wait_lines $lines ".tables"
[ "$(sed -n "$((lines - 2)),${lines}p" "$T/out" | tr '\n' ' ')" = "t u w " ] ||
    fail ".tables after another process's CREATE TABLE: $(tail -n 3 "$T/out")"

# 4. inside the shell's transaction its own writes stay, and no other
#    process commits (it holds the writer lock)
tell "BEGIN; INSERT INTO t VALUES (10, 'z');"
ask "SELECT COUNT(*) FROM t;" 3 "inside a transaction"
expect_fail "locked" pvdev sql "INSERT INTO t VALUES (11, 'o')"
ask "SELECT COUNT(*) FROM t;" 3 "inside a transaction, after another process tried to write"
tell "ROLLBACK;"
ask "SELECT COUNT(*) FROM t;" 2 "after ROLLBACK"
pvdev sql "INSERT INTO t VALUES (3, 'c')"
ask "SELECT COUNT(*) FROM t;" 3 "after ROLLBACK and another process's INSERT"

tell ".quit"
exec 3>&-
wait $shell || fail "the shell failed: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "the shell printed errors: $(cat "$T/err")"
