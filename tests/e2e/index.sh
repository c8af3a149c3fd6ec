#!/bin/sh
# Indexes under real git: CREATE INDEX is a line added to the schema file
# in `git diff`; a merge of two branches that each took the same unique
# value is not committed (the pre-merge-commit hook), its work tree still
# opens and reads, `pvdev fsck` names the two rows, writes fail until one
# is deleted, and the merge then commits; `.schema` shows the indexes.
set -eu
. "$(dirname "$0")/../lib.sh"

q() { pvdev sql "$1"; }
pv_git_repo "$T/r"
q "CREATE TABLE p (id INTEGER PRIMARY KEY, email TEXT UNIQUE, city TEXT);
   INSERT INTO p VALUES (1, 'a@x', 'Oslo'), (2, 'b@x', 'Rome')"
git add -A && git commit -qm base
# a schema file with index lines (UNIQUE is one) raises the layout to
# version 2, so a pvdev from before index lines asks to be upgraded instead
# of calling the schema corrupt; fsck accepts it; a workspace without
# indexes stays at version 1
[ "$(cat .pv/format)" = "picovolt-workspace 2" ] || fail "layout after UNIQUE: $(cat .pv/format)"
pvdev fsck > /dev/null || fail "pvdev fsck on layout version 2"
mkdir "$T/plain" && (cd "$T/plain" && pvdev init > /dev/null &&
    pvdev sql "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'x')" &&
    [ "$(cat .pv/format)" = "picovolt-workspace 1" ]) || fail "a workspace without indexes left layout 1"

# the index is one added line of the schema file (raw, without textconv)
q "CREATE INDEX p_city ON p (city)"
git diff --no-textconv -- .pv/tables/p/schema.jsonl | grep '^[-+][^-+]' > d.out
printf '+{"index":"p_city","columns":["city"]}\n' > d.want
same d.want d.out "git diff of CREATE INDEX"
printf '.schema p\n' | pvdev sql --interactive > s.out
cat > s.want <<'OUT'
CREATE TABLE p(id INTEGER, email TEXT, city TEXT, PRIMARY KEY(id), UNIQUE(email));
CREATE INDEX p_city ON p(city);
OUT
same s.want s.out ".schema with indexes"
expect_fail "UNIQUE constraint failed: p.email" pvdev sql "INSERT INTO p VALUES (3, 'a@x', 'Lima')"
git commit -qam index

# two branches take the same unique value under different keys
git checkout -qb side && q "INSERT INTO p VALUES (3, 'c@x', 'Kyiv')" && git commit -qam side
git checkout -q main && q "INSERT INTO p VALUES (4, 'c@x', 'Baku')" && git commit -qam main
if git merge -q side -m merge > merge.err 2>&1; then fail "a merge that breaks a unique index was committed"; fi
grep -q "merge commit refused: the merged rows break a unique index" merge.err || fail "merge: $(cat merge.err)"
[ -f .git/MERGE_HEAD ] || fail "the refused merge is not in progress"
[ "$(q "SELECT id FROM p WHERE email = 'c@x' ORDER BY id" | tr '\n' ' ')" = "3 4 " ] || fail "merged rows"
set +e; pvdev fsck > f.out 2>/dev/null; code=$?; set -e
[ "$code" -eq 1 ] || fail "fsck exit $code on a broken unique index"
grep -qF "unique index pv_autoindex_p_1: the rows with keys 3 and 4 share the value \"c@x\"" f.out || fail "fsck: $(cat f.out)"
expect_fail "already share a value of unique index pv_autoindex_p_1" pvdev sql "INSERT INTO p VALUES (5, 'e@x', 'Pune')"
q "DELETE FROM p WHERE id = 4"
pvdev fsck > /dev/null || fail "fsck after the fix"
git add -A && git commit -qm merge || fail "the fixed merge does not commit"
git rev-parse -q --verify HEAD^2 > /dev/null || fail "the fixed merge is not a merge commit"
q "INSERT INTO p VALUES (5, 'e@x', 'Pune')"
