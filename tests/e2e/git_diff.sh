#!/bin/sh
# Reading history with real git: `git diff`/`log -p`/`show` through the
# textconv driver, `pvdev diff` (work tree, two commits, a bare clone,
# --stat, --json, a table), and `pvdev log` of a table and of one row.
set -eu
. "$(dirname "$0")/../lib.sh"

q() { pvdev sql "$1"; }
mkdir "$T/r" && cd "$T/r"
git init -q -b main .
pvdev init > /dev/null
q "CREATE TABLE a (code TEXT PRIMARY KEY, name TEXT, n INTEGER);
   INSERT INTO a VALUES ('SFO', 'San Francisco', 1), ('JFK', 'Kennedy', 2), ('00M', 'Thigpen', 3)"
git add -A && git commit -qm one
q "DELETE FROM a WHERE code = 'JFK'; UPDATE a SET name = 'SF Intl', n = 10 WHERE code = 'SFO';
   INSERT INTO a VALUES ('ORD', 'O''Hare', 4)"

# the work tree against HEAD
pvdev diff > d.out
cat > d.want <<'OUT'
table a
- JFK  name="Kennedy" n=2
+ ORD  name="O'Hare" n=4
~ SFO  name: "San Francisco" → "SF Intl"  n: 1 → 10
OUT
same d.want d.out "pvdev diff (work tree)"
pvdev diff --color > c.out
printf '\033[1mtable a\033[0m\n\033[31m- JFK  name="Kennedy" n=2\033[0m\n' > c.want
head -n 2 c.out > c.head
same c.want c.head "pvdev diff --color"

# git diff goes through the textconv driver
git diff -- .pv/tables/a/00000001.jsonl | tail -n 4 > g.out
cat > g.want <<'OUT'
 code="00M" name="Thigpen" n=3
+delete JFK
+code="SFO" name="SF Intl" n=10
+code="ORD" name="O'Hare" n=4
OUT
same g.want g.out "git diff with textconv"
git add -A && git commit -qm two
git show HEAD -- .pv/tables/a/00000001.jsonl | tail -n 3 > s.out
tail -n 3 g.want > s.want
same s.want s.out "git show with textconv"
git log -p --format=%s -- .pv/tables/a/schema.jsonl | grep '^+' > ls.out
printf '+++ b/.pv/tables/a/schema.jsonl\n+# schema of table a, primary key (code)\n+column code TEXT NOT NULL\n+column name TEXT\n+column n INTEGER\n' > ls.want
same ls.want ls.out "git log -p of a schema file"

# two commits, from a bare clone (no work tree, no checkout)
q "INSERT INTO a VALUES ('LAX', 'Los Angeles', 5); CREATE TABLE b (k INTEGER PRIMARY KEY, v REAL);
   INSERT INTO b VALUES (1, 0.5)"
git add -A && git commit -qm three
git clone -q --bare "$T/r" "$T/bare.git"
cd "$T/bare.git"
pvdev diff HEAD~2 HEAD > b.out
cat > b.want <<'OUT'
table a
- JFK  name="Kennedy" n=2
+ LAX  name="Los Angeles" n=5
+ ORD  name="O'Hare" n=4
~ SFO  name: "San Francisco" → "SF Intl"  n: 1 → 10
table b (new)
+ column k INTEGER NOT NULL (key)
+ column v REAL
+ 1  v=0.5
OUT
same b.want b.out "pvdev diff in a bare clone"
pvdev diff HEAD~2 HEAD a > ba.out
head -n 5 b.want > ba.want
same ba.want ba.out "pvdev diff REV REV TABLE"
pvdev diff --stat HEAD~2 HEAD > st.out
cat > st.want <<'OUT'
 a | 2 added, 1 deleted, 1 changed
 b | 1 added, 0 deleted, 0 changed (new table)
 2 tables changed, 3 rows added, 1 deleted, 1 changed
OUT
same st.want st.out "pvdev diff --stat"
pvdev diff --json HEAD~1 HEAD > j.out
cat > j.want <<'OUT'
{"from":"HEAD~1","to":"HEAD","tables":[
{"table":"a","status":"modified","key":["code"],"schema":[],"added":1,"deleted":0,"changed":0,"rows":[
{"op":"added","key":["LAX"],"new":{"code":"LAX","name":"Los Angeles","n":5}}]},
{"table":"b","status":"added","key":["k"],"schema":[],"added":1,"deleted":0,"changed":0,"rows":[
{"op":"added","key":[1],"new":{"k":1,"v":0.5}}]}
]}
OUT
same j.want j.out "pvdev diff --json"
pvdev diff --json --stat HEAD~2 HEAD~1 > js.out
cat > js.want <<'OUT'
{"from":"HEAD~2","to":"HEAD~1","tables":[
{"table":"a","status":"modified","key":["code"],"schema":[],"added":1,"deleted":1,"changed":1}
]}
OUT
same js.want js.out "pvdev diff --json --stat"
expect_fail "a bare repository has no work tree" pvdev diff HEAD
expect_fail "no table 'zz'" pvdev diff HEAD~1 HEAD -- zz
pvdev diff --exit-code HEAD HEAD > /dev/null || fail "--exit-code without differences"
set +e
pvdev diff --exit-code HEAD~1 HEAD > /dev/null
[ $? -eq 1 ] || fail "--exit-code with differences"
set -e

# schema changes in the work tree
cd "$T/r"
q "ALTER TABLE a ADD COLUMN gate TEXT; UPDATE a SET gate = 'G7' WHERE code = 'LAX'"
pvdev diff a > sc.out
printf 'table a\n+ column gate TEXT\n~ LAX  gate: null → "G7"\n' > sc.want
same sc.want sc.out "pvdev diff of a schema change"
git add -A && git commit -qm four

# history of a table and of one row
id() { git rev-parse --short=7 "$1"; }
day=$(git log -1 --format=%cd --date=format:%Y-%m-%d)
pvdev log a > la.out
cat > la.want <<OUT
$(id HEAD) $day four
    0 added, 0 deleted, 1 changed, schema changed
$(id HEAD~1) $day three
    1 added, 0 deleted, 0 changed
$(id HEAD~2) $day two
    1 added, 1 deleted, 1 changed
$(id HEAD~3) $day one
    3 added, 0 deleted, 0 changed (new table)
OUT
same la.want la.out "pvdev log TABLE"
pvdev log a SFO > lk.out
cat > lk.want <<OUT
$(id HEAD~2) $day two
    ~ SFO  name: "San Francisco" → "SF Intl"  n: 1 → 10
$(id HEAD~3) $day one
    + SFO  name="San Francisco" n=1
OUT
same lk.want lk.out "pvdev log TABLE KEY"
pvdev log -n 1 -p b > lb.out
cat > lb.want <<OUT
$(id HEAD~1) $day three
    1 added, 0 deleted, 0 changed (new table)
    + column k INTEGER NOT NULL (key)
    + column v REAL
    + 1  v=0.5
OUT
same lb.want lb.out "pvdev log -p"
pvdev log a JFK > lj.out
printf '%s %s two\n    - JFK  name="Kennedy" n=2\n%s %s one\n    + JFK  name="Kennedy" n=2\n' \
    "$(id HEAD~2)" "$day" "$(id HEAD~3)" "$day" > lj.want
same lj.want lj.out "pvdev log of a deleted row"
expect_fail "is not a valid INTEGER" pvdev log b notanumber
# a merge: first parent only by default, every commit with --all-parents
git checkout -q -b side HEAD~1
q "INSERT INTO b VALUES (2, 1.5)"
git commit -qam side-b
git checkout -q main
git merge -q --no-edit side
pvdev log b > m1.out
cat > m1.want <<OUT
$(id HEAD) $day Merge branch 'side'
    1 added, 0 deleted, 0 changed
$(id HEAD~2) $day three
    1 added, 0 deleted, 0 changed (new table)
OUT
same m1.want m1.out "pvdev log across a merge"
pvdev log --all-parents b > m2.out
grep -c ' side-b$' m2.out | grep -qx 1 || fail "--all-parents lacks the side commit: $(cat m2.out)"

# indexes and defaults are part of a reviewable schema diff
q "CREATE INDEX a_name ON a (name, n); ALTER TABLE a ADD COLUMN terminal TEXT DEFAULT 'T1'"
git diff -- .pv/tables/a/schema.jsonl | grep '^[+-][^+-]' > ix.out
printf '+column terminal TEXT DEFAULT "T1"\n+index a_name (name, n)\n' > ix.want
same ix.want ix.out "git diff of CREATE INDEX and a DEFAULT"

# a table with no rows has no chunk file: the diff sorted a NULL chunk list
# (undefined behaviour: make test SANITIZE=1 stopped here; found by
# fuzz_rowdiff)
q "CREATE TABLE e (k INTEGER PRIMARY KEY)"
pvdev diff e > e.out
printf 'table e (new)\n+ column k INTEGER NOT NULL (key)\n' > e.want
same e.want e.out "pvdev diff of a table without rows"
git add -A && git commit -qm empty-table
pvdev diff HEAD~1 HEAD e > e2.out
same e.want e2.out "pvdev diff HEAD~1 HEAD of a table without rows"

# rows written before ADD COLUMN ... DEFAULT read as the default in diff and
# log, as in SQL (found by exploratory testing: they read NULL, and a change
# from the default to NULL was not shown at all)
q "CREATE TABLE d (k TEXT PRIMARY KEY, v TEXT); INSERT INTO d VALUES ('00501', 'a'), ('b', 'b')"
git add -A && git commit -qm d-base
q "ALTER TABLE d ADD COLUMN x TEXT DEFAULT 'd'"
git add -A && git commit -qm d-alter
q "UPDATE d SET x = NULL WHERE k = '00501'; UPDATE d SET x = 'new' WHERE k = 'b'"
git add -A && git commit -qm d-update
pvdev diff HEAD~1 HEAD d > d.out
printf 'table d\n~ 00501  x: "d" → null\n~ b  x: "d" → "new"\n' > d.want
same d.want d.out "pvdev diff of rows written before ADD COLUMN ... DEFAULT"
pvdev log d 00501 > dl.out
cat > dl.want <<OUT
$(id HEAD) $day d-update
    ~ 00501  x: "d" → null
$(id HEAD~2) $day d-base
    + 00501  v="a"
OUT
same dl.want dl.out "pvdev log of a row written before ADD COLUMN ... DEFAULT"
echo ok
