#!/bin/sh
# pvdev sql's output modes and its interactive shell, through the real tool:
#   - every output mode gives the sqlite3 shell's bytes on the same typed
#     table (list, csv, table, box, line; JSON parsed and compared);
#   - the shell's dot-commands and multi-line statements, piped with
#     --interactive;
#   - the shell on a real pseudo-terminal (python3's pty): prompts, the
#     table default, history in ~/.pvdev_history when built with libedit;
#   - the import progress line shows on a terminal and nowhere else.
set -eu
. "$(dirname "$0")/../lib.sh"

csv="$PV_TOP/examples/data/airports.csv"
cd "$T"
mkdir ws && (cd ws && pvdev init >/dev/null)
pvdev import -C ws airports "$csv" --key iata 2>/dev/null || fail "import"
sqlite3 -batch ref.db <<SQL
CREATE TABLE airports(iata TEXT PRIMARY KEY, name TEXT, city TEXT, state TEXT,
                      country TEXT, latitude REAL, longitude REAL);
.mode csv
.import --skip 1 $csv airports
SQL

# --- output modes against sqlite3 -------------------------------------------
q="SELECT iata, name, latitude, NULL AS n, '' AS e, city FROM airports WHERE state IN ('CA','PR','HI') ORDER BY iata"
for m in list csv table box line; do
    sqlite3 -batch -$m -header ref.db "$q" >"want.$m"
    pvdev -C ws sql --$m --header "$q" >"got.$m" || fail "sql --$m"
    same "want.$m" "got.$m" "--$m vs sqlite3 -$m -header"
    pvdev -C ws sql --mode $m --header "$q" >"got2.$m"
    same "want.$m" "got2.$m" "--mode $m"
done
[ "$(wc -l <got.list)" -gt 100 ] || fail "too few rows compared"
pvdev -C ws sql --separator ';' --null NULL "SELECT 1, NULL, 'x'" | grep -qx '1;NULL;x' || fail "--separator/--null"
# JSON: sqlite3 prints reals with 17+ digits, pvdev the shortest exact text;
# both must parse to the same values.
sqlite3 -batch -json ref.db "$q" >want.json
pvdev -C ws sql --json "$q" >got.json
python3 - want.json got.json <<'PY' || fail "--json differs from sqlite3 -json"
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
sys.exit(0 if a == b and len(a) > 100 else 1)
PY
pvdev -C ws sql --json "SELECT 1 AS x WHERE 0" >empty.json
[ ! -s empty.json ] || fail "--json of no rows prints '$(cat empty.json)'"
# Not a terminal: list mode, so scripts keep comparing with sqlite3.
pvdev -C ws sql "SELECT iata, state FROM airports WHERE iata = 'SFO'" | grep -qx 'SFO|CA' || fail "default list mode"
# An empty statement (a lone ';') is skipped, as sqlite3 skips it: the
# statements after it still run, from arguments, a script and the shell.
[ "$(pvdev -C ws sql 'SELECT 1;;SELECT 2; ;SELECT 3;')" = "$(printf '1\n2\n3')" ] ||
    fail "empty statement in an argument: $(pvdev -C ws sql 'SELECT 1;;SELECT 2; ;SELECT 3;' 2>&1)"
printf 'SELECT 1;;SELECT 2;\n;\n -- c\n ; SELECT 3;\n' >semi.sql
[ "$(pvdev -C ws sql <semi.sql)" = "$(printf '1\n2\n3')" ] || fail "empty statement in a script: $(pvdev -C ws sql <semi.sql 2>&1)"
[ "$(pvdev -C ws sql --interactive <semi.sql)" = "$(printf '1\n2\n3')" ] ||
    fail "empty statement in the shell: $(pvdev -C ws sql --interactive <semi.sql 2>&1)"

# --- the shell, piped -----------------------------------------------------------
cat >in.txt <<'SQL'
.help
.tables
.schema airports
.mode csv
.headers on
SELECT iata,
       name
  FROM airports
 WHERE iata IN ('SFO', 'OAK') -- a comment; with a semicolon
 ORDER BY iata;
.headers off
.mode json
SELECT 'a;b' AS s; SELECT 2 AS two;
.mode nosuch
SELECT nosuch FROM airports;
.mode list
.timer on
SELECT COUNT(*) FROM airports;
.timer off
.quit
SELECT 'not reached';
SQL
set +e
pvdev -C ws sql --interactive <in.txt >out.txt 2>err.txt
code=$?
set -e
[ "$code" -eq 1 ] || fail "piped shell with errors: exit $code, want 1"
grep -q '^\.schema \[TABLE\]' out.txt || fail ".help: $(cat out.txt)"
grep -qx 'airports' out.txt || fail ".tables"
grep -qx 'CREATE TABLE airports(iata TEXT, name TEXT, city TEXT, state TEXT, country TEXT, latitude REAL, longitude REAL, PRIMARY KEY(iata));' out.txt ||
    fail ".schema: $(grep CREATE out.txt)"
grep -qx 'iata,name' out.txt || fail ".headers on with .mode csv"
grep -qx 'OAK,"Metropolitan Oakland International"' out.txt || fail "multi-line statement"
grep -qx '\[{"s":"a;b"}\]' out.txt || fail ".mode json: $(cat out.txt)"
grep -qx '\[{"two":2}\]' out.txt || fail "two statements on a line"
grep -qx '3376' out.txt || fail ".mode list"
grep -q '^Run Time: real [0-9.]* user [0-9.]* sys [0-9.]*$' out.txt || fail ".timer on"
[ "$(grep -c '^Run Time' out.txt)" -eq 1 ] || fail ".timer off"
grep -q "unknown mode 'nosuch'" err.txt || fail "bad .mode: $(cat err.txt)"
grep -q "nosuch" err.txt || fail "SQL error shown"
grep -q 'not reached' out.txt && fail ".quit did not stop"
# A statement the input ends inside still runs; a clean script exits 0.
printf 'SELECT 40 + 2' | pvdev -C ws sql --interactive >eof.txt || fail "clean piped shell failed"
grep -qx 42 eof.txt || fail "statement at end of input"
# .schema of a .pvdb, and of an unknown table.
pvbake -C ws -o "$T/a.pvdb" 2>/dev/null || pvbake -o "$T/a.pvdb" 2>/dev/null || (cd ws && pvbake -o "$T/a.pvdb" 2>/dev/null)
printf '.schema\n.schema nosuch\n' | pvdev sql --db a.pvdb --interactive >pvdb.txt 2>pvdb.err || true
grep -qx 'CREATE TABLE airports(iata TEXT, name TEXT, city TEXT, state TEXT, country TEXT, latitude REAL, longitude REAL, PRIMARY KEY(iata));' pvdb.txt ||
    fail ".schema on a .pvdb: $(cat pvdb.txt pvdb.err)"
grep -q 'no such table: nosuch' pvdb.err || fail ".schema nosuch"

# --- dot-commands as arguments and in piped scripts, as sqlite3 takes them ----------
# each argument is a dot-command or SQL, in order; a .mode lasts for the rest
sqlite3 -batch ref.db .tables ".schema airports" >want.args
pvdev -C ws sql .tables ".schema airports" >got.args || fail "dot-commands as arguments"
grep -qx airports got.args || fail ".tables as an argument: $(cat got.args)"
# sqlite3 keeps the declared text of CREATE TABLE; compare the table lists only
[ "$(head -n 1 want.args)" = "$(head -n 1 got.args)" ] || fail ".tables: sqlite3 '$(head -n 1 want.args)'"
q2="SELECT iata, latitude, '' AS e FROM airports WHERE state = 'HI' ORDER BY iata"
# (sqlite3's .mode csv, unlike its -csv, ends rows with CR LF; pvdev's with LF)
sqlite3 -batch ref.db ".mode csv" ".headers on" "$q2" "SELECT count(*) FROM airports" | tr -d '\r' >want.args2
pvdev -C ws sql ".mode csv" ".headers on" "$q2" "SELECT count(*) FROM airports" >got.args2
same want.args2 got.args2 "'.mode csv' '.headers on' SQL SQL as arguments"
# a script on standard input mixes dot-commands with statements
printf '.mode csv\n%s;\n.headers on\nSELECT count(*)\n  FROM airports;\n' "$q2" >mixed.sql
sqlite3 -batch ref.db <mixed.sql | tr -d '\r' >want.mixed
pvdev -C ws sql <mixed.sql >got.mixed || fail "dot-commands on standard input"
same want.mixed got.mixed "dot-commands mixed with statements on standard input"
# a '.' inside a statement is SQL; .quit stops; an unknown command fails
printf 'SELECT\n.5;\n' | pvdev -C ws sql | grep -qx 0.5 || fail "a line starting with '.' inside a statement"
[ "$(pvdev -C ws sql 'SELECT 1' .quit 'SELECT 2')" = 1 ] || fail ".quit as an argument"
expect_fail "unknown command or invalid arguments: 'nosuch'" pvdev -C ws sql "SELECT 1" .nosuch
[ "$(cat "$T/.out")" = 1 ] || fail "output before the failing dot-command: $(cat "$T/.out")"
# a dot-command must start its line: after SQL on the same line it is SQL, as in sqlite3
expect_fail "syntax error" pvdev -C ws sql .tables "SELECT 1; .tables"

# --- where in the script an error is ---------------------------------------------
# An error names the input and its line and column (1-based, characters) as
# import errors name file and line: it gave the byte offset from the end of
# the statement before, "offset 10" for line 3, column 10 (found by
# exploratory testing). An error with no position in its statement names
# where the statement starts; a dot-command's, its '.'.
printf 'SELECT 1;\nSELECT 2;\nSELECT * FORM one;\n' >e1.sql
expect_fail 'pvdev: <stdin>:3:10: near "FORM": syntax error' sh -c 'pvdev -C ws sql <e1.sql'
printf 'SELECT 1;\n.mode csv\nSELECT 2;\n\n  SELECT 1 +;\n' >e2.sql
expect_fail '<stdin>:5:13: incomplete input' sh -c 'pvdev -C ws sql <e2.sql'
printf 'SELECT\n  1 +\n  * 2;\n' >e3.sql
expect_fail '<stdin>:3:3: near "*": syntax error' sh -c 'pvdev -C ws sql <e3.sql'
printf "SELECT 'é', 2;\nSELECT 'é', * FORM t;\n" >e4.sql
expect_fail '<stdin>:2:15: near "FORM"' sh -c 'pvdev -C ws sql <e4.sql'
printf 'SELECT 1;\n-- a comment\n  SELECT * FROM nosuch;\n' >e5.sql
expect_fail '<stdin>:3:17: no such table: nosuch' sh -c 'pvdev -C ws sql <e5.sql'
# names the planner cannot bind are where they are written (they were at the
# statement's start), on a workspace and on a .pvdb alike
printf "SELECT 1;\nSELECT iata,\n  nope FROM airports;\n" >e10.sql
expect_fail '<stdin>:3:3: no such column: nope' sh -c 'pvdev -C ws sql <e10.sql'
grep -q "offset" "$T/.err" && fail "a byte offset: $(cat "$T/.err")"
expect_fail '<stdin>:3:3: no such column: nope' sh -c 'pvdev sql --db a.pvdb <e10.sql'
expect_fail "<argument 1>:1:35: no such table: nosuch" \
    pvdev sql --db a.pvdb "SELECT 1; SELECT 2; SELECT * FROM nosuch"
expect_fail "<argument 1>:2:33: misuse of aggregate function max()" pvdev -C ws sql "SELECT 1;
SELECT * FROM airports GROUP BY max(name)"
# so are a name the statement defines that is taken and VALUES of the wrong
# width (they were at the statement's start: 2:1 and 3:1)
printf 'SELECT 1;\nCREATE TABLE\n  airports (a INTEGER);\n' >e11.sql
expect_fail '<stdin>:3:3: table airports already exists' sh -c 'pvdev -C ws sql <e11.sql'
grep -q "offset" "$T/.err" && fail "a byte offset: $(cat "$T/.err")"
expect_fail "<argument 1>:2:29: table airports has 7 columns but 2 values were supplied" pvdev -C ws sql "SELECT 1;
INSERT INTO airports VALUES ('ZZZ', 'z')"
expect_fail "<argument 1>:1:26: duplicate column name: city" pvdev -C ws sql "ALTER TABLE airports ADD city TEXT"
# a second primary key and a column ADD COLUMN cannot add: the keyword (were 1:1)
printf 'CREATE TABLE t (a INTEGER PRIMARY KEY,\n  b INTEGER PRIMARY KEY);\n' >e12.sql
expect_fail '<stdin>:2:13: table t has more than one primary key' sh -c 'pvdev -C ws sql <e12.sql'
expect_fail "<argument 1>:2:14: Cannot add a NOT NULL column with default value NULL" pvdev -C ws sql "ALTER TABLE airports
ADD zip TEXT NOT NULL"
printf 'SELECT 1;\n.nosuch\n' >e6.sql
expect_fail "<stdin>:2:1: unknown command or invalid arguments: 'nosuch'" sh -c 'pvdev -C ws sql <e6.sql'
grep -q "offset" "$T/.err" && fail "a byte offset: $(cat "$T/.err")"
# each argument is a script of its own
expect_fail '<argument 2>:2:11: no such function: nosuchfn' pvdev -C ws sql 'SELECT 1;' 'SELECT 1;
SELECT 1, nosuchfn(2)'
expect_fail '<argument 1>:1:11: the statement uses 1 parameter; 0 values were given' pvdev -C ws sql "SELECT 1; SELECT ?"
# an error of the run (pv_step), after rows were printed, has its position too
expect_fail "<argument 1>:2:16: datatype mismatch in LIMIT" pvdev -C ws sql "SELECT 1;
SELECT 2 LIMIT 'x'"
grep -q "offset" "$T/.err" && fail "a byte offset: $(cat "$T/.err")"
grep -q "offset" "$T/.err" && fail "a byte offset: $(cat "$T/.err")"
# a block comment left open is an error at its '/*' (it was taken as blank to
# the end, so the script's tail was dropped in silence); a closed one at the
# end of a script is fine
expect_fail '<argument 1>:1:11: unterminated comment' pvdev -C ws sql "SELECT 1; /* open"
[ "$(cat "$T/.out")" = 1 ] || fail "the statement before an open comment: $(cat "$T/.out")"
printf 'SELECT 1;\nSELECT 2 /* two\n  lines\n' >e8.sql
expect_fail '<stdin>:2:10: unterminated comment' sh -c 'pvdev -C ws sql <e8.sql'
expect_fail '<stdin>:2:10: unterminated comment' sh -c 'pvdev -C ws sql --interactive <e8.sql'
printf 'SELECT 1; /* closed */\n-- a line comment\n  /* and\n another */\n' >e9.sql
[ "$(pvdev -C ws sql <e9.sql)" = 1 ] || fail "a script ending in closed comments"
[ "$(pvdev -C ws sql --interactive <e9.sql)" = 1 ] || fail "the shell on a script ending in closed comments"
# the shell on a pipe: lines of its input, dot-commands counted
printf 'SELECT 1;\n.mode list\nSELECT 2; SELECT * FORM one;\nSELECT 3;\n' >e7.sql
expect_fail 'Error: <stdin>:3:20: near "FORM": syntax error' sh -c 'pvdev -C ws sql --interactive <e7.sql'
grep -q "offset" "$T/.err" && fail "a byte offset: $(cat "$T/.err")"
[ "$(tr '\n' ' ' <"$T/.out")" = "1 2 3 " ] || fail "the shell goes on after an error: $(cat "$T/.out")"

# --- the shell on a pseudo-terminal ----------------------------------------------
# ptyrun.py CMD...: run CMD with stdin, stdout and stderr on a new pty, type the
# lines of $PTY_INPUT one by one, print everything it wrote.
cat >ptyrun.py <<'PY'
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
def drain(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return False
            if not data:
                return False
            out += data
    return True
drain(0.5)
for line in os.environ.get("PTY_INPUT", "").split("\n"):
    if not line:
        continue
    os.write(fd, line.encode() + b"\r")
    drain(0.3)
# under `make valgrind` every run is ~30x slower: allow for it
deadline = time.time() + (1800 if os.environ.get("PV_VALGRIND") else 60)
while time.time() < deadline and drain(0.2):
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
PTY_INPUT=$(printf '%s\n' ".tables" "SELECT iata, state" "  FROM airports WHERE iata = 'SFO';" ".quit")
export PTY_INPUT
(cd ws && python3 "$T/ptyrun.py" pvdev sql) >tty.txt || fail "shell on a pty: $(cat tty.txt)"
grep -q 'pvdev> ' tty.txt || fail "no prompt on a terminal: $(cat tty.txt)"
grep -q '\.\.\.> ' tty.txt || fail "no continuation prompt: $(cat tty.txt)"
grep -q '| SFO  | CA    |' tty.txt || fail "table mode on a terminal: $(cat tty.txt)"
if pvdev sql --help | grep -q 'built without line editing'; then
    echo "SKIP: history (pvdev built without libedit)"
else
    grep -q 'SFO' "$HOME/.pvdev_history" || fail "history lacks the statement"
fi
# Table mode by default on a terminal, list when stdout is not one.
PTY_INPUT=
(cd ws && python3 "$T/ptyrun.py" pvdev sql "SELECT 7 AS seven") >tty2.txt
grep -q '| seven |' tty2.txt || fail "table default on a tty: $(cat tty2.txt)"

# --- progress line --------------------------------------------------------------
awk 'BEGIN { print "id,name,value"; for (i = 1; i <= 400000; i++) printf "%d,name %d,%d.5\n", i, i, i }' >big.csv
python3 "$T/ptyrun.py" pvdev import -C ws big big.csv --key id >prog-tty.txt || fail "import on a pty: $(cat prog-tty.txt)"
grep -q 'rows/s' prog-tty.txt || fail "no progress line on a terminal: $(cat prog-tty.txt)"
grep -q 'imported 400000 rows' prog-tty.txt || fail "import summary on a pty"
pvdev import -C ws big2 big.csv --key id 2>prog-file.txt || fail "import big2"
grep -q 'rows/s' prog-file.txt && fail "progress line written to a file"
pvdev -C ws export big 2>exp.err | tail -n 1 | grep -qx '400000,"name 400000",400000.5' || fail "export big"
grep -q 'rows/s' exp.err && fail "export progress written to a file"
echo "shell e2e: ok"
