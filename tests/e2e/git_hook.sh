#!/bin/sh
# The pre-commit hook under real git: it refuses staged chunks with git
# conflict markers, unresolved merge conflict records or broken lines
# (naming file and line), checks the staged blob rather than the work tree,
# and does nothing harmful without pvdev. The pre-merge-commit hook: a
# clean merge whose rows break a unique index, or that leaves a table's
# chunk without its schema, is not committed.
set -eu
. "$(dirname "$0")/../lib.sh"

mkdir "$T/r" && cd "$T/r"
git init -q -b main .
pvdev init > /dev/null
pvdev sql "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b')"
git add -A && git commit -qm base
chunk=.pv/tables/t/00000001.jsonl
cp "$chunk" "$T/good"
head0=$(git rev-parse HEAD)

refused() {   # refused WHAT EXPECTED-STDERR-LINE
    set +e
    git commit -qm "$1" 2> "$T/commit.err"
    code=$?
    set -e
    [ "$code" -ne 0 ] || fail "$1: the commit went through"
    [ "$(git rev-parse HEAD)" = "$head0" ] || fail "$1: HEAD moved"
    grep -qF -- "$2" "$T/commit.err" || fail "$1: stderr lacks '$2': $(cat "$T/commit.err")"
    grep -q "pvdev: commit refused: 1 staged .pv/ file above is broken" "$T/commit.err" || fail "$1: no summary line"
}

# git conflict markers (a merge without the driver)
printf '<<<<<<< HEAD\n[3,"c"]\n=======\n[3,"d"]\n>>>>>>> side\n' >> "$chunk"
git add "$chunk"
refused "markers" "pvdev: hook pre-commit: '.pv/tables/t/00000001.jsonl' line 4: git conflict marker: the pv merge driver was not used (run 'pvdev git-setup', then redo the merge)"

# a broken line
cp "$T/good" "$chunk" && printf '[3,"c"\n' >> "$chunk" && git add "$chunk"
refused "broken" "pvdev: hook pre-commit: '.pv/tables/t/00000001.jsonl' line 4: expected ']' after 2 values at byte 6"

# a value of the wrong type
cp "$T/good" "$chunk" && printf '["x","c"]\n' >> "$chunk" && git add "$chunk"
refused "type" "pvdev: hook pre-commit: '.pv/tables/t/00000001.jsonl' line 4: string in a INTEGER column at byte 1"

# an unresolved merge conflict record
cp "$T/good" "$chunk" && printf '{"conflict":{"key":[2],"base":[2,"b"],"ours":[2,"x"],"theirs":[2,"y"]}}\n' >> "$chunk"
git add "$chunk"
refused "conflict" "pvdev: hook pre-commit: '.pv/tables/t/00000001.jsonl' line 4: unresolved merge conflict (see 'pvdev conflicts', settle it with 'pvdev resolve')"

# a last line without its newline
cp "$T/good" "$chunk" && printf '[3,"c"]' >> "$chunk" && git add "$chunk"
refused "torn" "pvdev: hook pre-commit: '.pv/tables/t/00000001.jsonl' line 4: the last line has no newline (an interrupted write?)"

# what counts is the index: a broken work tree file with a good staged blob passes
cp "$T/good" "$chunk" && printf '[3,"c"]\n' >> "$chunk" && git add "$chunk"
printf 'garbage\n' >> "$chunk"
git commit -qm good 2> "$T/ok.err" || fail "a good staged chunk was refused: $(cat "$T/ok.err")"
[ "$(git show HEAD:$chunk | tail -n 1)" = '[3,"c"]' ] || fail "the commit lacks the new row"
git checkout -q -- "$chunk"

# a broken schema
printf '{"table":"t","primary_key":["k"]}\n{"column":"k"}\n' > .pv/tables/t/schema.jsonl
git add .pv/tables/t/schema.jsonl
set +e
git commit -qm schema 2> "$T/schema.err"
code=$?
set -e
[ "$code" -ne 0 ] || fail "a broken schema was committed"
grep -q "pvdev: hook pre-commit: .*schema.jsonl" "$T/schema.err" || fail "schema: $(cat "$T/schema.err")"
git reset -q --hard

# a file a killed `pvdev resolve` left beside a chunk is ignored by git
# (.pv/.gitignore), so `git add -A` never stages it; fsck still names it
cp "$chunk" "$chunk.resolve"
git add -A
[ -z "$(git status --porcelain --ignored=no -- .pv)" ] || fail "a .resolve file is not ignored: $(git status --porcelain -- .pv)"
if pvdev fsck > "$T/fsck.out" 2>&1; then fail "fsck passed a .resolve file"; fi
grep -qF "$chunk.resolve': not a file of the workspace layout" "$T/fsck.out" || fail "fsck: $(cat "$T/fsck.out")"
rm -f "$chunk.resolve"

# without pvdev on PATH the hook lets the commit through, with a note
pvdev sql "INSERT INTO t VALUES (9, 'z')"
git add -A
gitdir=$(dirname "$(command -v git)")
PATH="$gitdir:/usr/bin:/bin" sh -c 'command -v pvdev >/dev/null && exit 3; git commit -qm nopvdev' 2> "$T/np.err" \
    || fail "commit without pvdev failed: $(cat "$T/np.err")"
printf 'pre-commit: pvdev is not on PATH: staged .pv/ files not checked\n' > "$T/np.want"
same "$T/np.want" "$T/np.err" "the hook without pvdev"

# pre-merge-commit: each branch adds a row with the same value of a UNIQUE
# column. The driver merges the rows cleanly; the merge is not committed
# (before, the merge commit was made and every later write to the table
# failed), git commit refuses too while it still breaks the index, and
# deleting one row (then inserting it again with another value) lets it
# through. Both ways.
mkdir "$T/u" && cd "$T/u"
git init -q -b main .
pvdev init > /dev/null
pvdev sql "CREATE TABLE p (k INTEGER PRIMARY KEY, email TEXT UNIQUE, n INTEGER)" \
    "INSERT INTO p VALUES (1, 'a@x', 1), (2, 'b@x', 2)"
git add -A && git commit -qm base
git checkout -qb a && pvdev sql "INSERT INTO p VALUES (3, 'c@x', 3)" && git add -A && git commit -qm a
git checkout -q main && git checkout -qb b && pvdev sql "INSERT INTO p VALUES (4, 'c@x', 4)" "UPDATE p SET n = 20 WHERE k = 2" &&
    git add -A && git commit -qm b
for into in a b; do
    from=b; [ $into = a ] || from=a
    git checkout -q -B "into-$into" "$into"
    tip=$(git rev-parse HEAD)
    if git merge -q "$from" -m "merge $from" > "$T/m.out" 2>&1; then fail "unique ($from into $into): the merge was committed"; fi
    [ "$(git rev-parse HEAD)" = "$tip" ] && [ -f .git/MERGE_HEAD ] || fail "unique ($from into $into): no merge in progress"
    grep -qF "pvdev: hook pre-merge-commit: '.pv/tables/p': unique index pv_autoindex_p_1: the rows with keys 3 and 4 share the value \"c@x\"" "$T/m.out" ||
        fail "unique ($from into $into): $(cat "$T/m.out")"
    grep -q "pvdev: merge commit refused: the merged rows break a unique index (1 pair above)" "$T/m.out" ||
        fail "unique ($from into $into): no summary: $(cat "$T/m.out")"
    if git commit -qm "merge $from" 2> "$T/c.err"; then fail "unique ($from into $into): git commit went through"; fi
    grep -q "hook pre-commit: .*share the value" "$T/c.err" || fail "unique ($from into $into): commit: $(cat "$T/c.err")"
    pvdev sql "DELETE FROM p WHERE k = 4" "INSERT INTO p VALUES (4, 'd@x', 4)"
    git add -A && git commit -qm "merge $from" 2> "$T/c.err" || fail "unique ($from into $into): the fixed merge: $(cat "$T/c.err")"
    git rev-parse -q --verify HEAD^2 > /dev/null || fail "unique ($from into $into): not a merge commit"
    expect_sql "SELECT k, email, n FROM p ORDER BY k" "1|a@x|1 2|b@x|20 3|c@x|3 4|d@x|4 " "unique ($from into $into)"
done
# a workspace in a subdirectory: the same refusal, and the hook run by
# hand from below the top of the work tree finds the same pair
mkdir -p "$T/s/data" && cd "$T/s"
git init -q -b main .
cd data && pvdev init > /dev/null
pvdev sql "CREATE TABLE p (k INTEGER PRIMARY KEY, email TEXT UNIQUE)" "INSERT INTO p VALUES (1, 'a@x')"
git add -A && git commit -qm base
git checkout -qb a && pvdev sql "INSERT INTO p VALUES (3, 'c@x')" && git commit -qam a
git checkout -q main && git checkout -qb b && pvdev sql "INSERT INTO p VALUES (4, 'c@x')" && git commit -qam b
git checkout -q a
if git merge -q b -m "merge b" > "$T/m.out" 2>&1; then fail "subdirectory: the merge was committed"; fi
grep -q "the rows with keys 3 and 4 share the value" "$T/m.out" || fail "subdirectory: $(cat "$T/m.out")"
mkdir -p deeper && cd deeper
if pvdev hook pre-commit 2> "$T/h.err"; then fail "subdirectory: pvdev hook pre-commit passed the merge"; fi
grep -q "the rows with keys 3 and 4 share the value" "$T/h.err" || fail "subdirectory, by hand: $(cat "$T/h.err")"
cd "$T/u"

# a table one branch dropped while the other wrote its first chunk: git
# keeps the chunk only that side added, without its schema; the merge is
# not committed, the message says both ways out, and each works
mkdir "$T/d" && cd "$T/d"
git init -q -b main .
pvdev init > /dev/null
pvdev sql "CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT)" "CREATE TABLE u (k INTEGER PRIMARY KEY)"
git add -A && git commit -qm base
git checkout -qb a && pvdev sql "DROP TABLE t" && git add -A && git commit -qm a
git checkout -q main && git checkout -qb b && pvdev sql "INSERT INTO t VALUES (7, 'seven')" && git add -A && git commit -qm b
git checkout -q a
tip=$(git rev-parse HEAD)
if git merge -q b -m "merge b" > "$T/m.out" 2>&1; then fail "dropped table: the merge was committed"; fi
grep -qF "table t has no staged schema.jsonl (one side of the merge dropped the table while the other wrote to it: keep the drop with 'git rm -rf .pv/tables/t', or the table as the other side has it with 'git checkout MERGE_HEAD -- .pv/tables/t'" "$T/m.out" ||
    fail "dropped table: $(cat "$T/m.out")"
git checkout MERGE_HEAD -- .pv/tables/t && git commit -qm "merge b" || fail "dropped table: keeping the table"
expect_sql "SELECT * FROM t" "7|seven " "dropped table, kept"
git reset -q --hard "$tip"
if git merge -q b -m "merge b" > /dev/null 2>&1; then fail "dropped table: the merge was committed (2)"; fi
git rm -rfq .pv/tables/t && git commit -qm "merge b" || fail "dropped table: keeping the drop"
[ ! -e .pv/tables/t ] && pvdev fsck > /dev/null 2>&1 || fail "dropped table: the drop kept"
cd "$T/u"

# a clean merge that breaks nothing is committed as before
git checkout -q main && git checkout -qb e && pvdev sql "INSERT INTO p VALUES (5, 'e@x', 5)" && git add -A && git commit -qm e
git checkout -q -B into-e a
git merge -q e -m "merge e" > /dev/null 2> "$T/m.err" || fail "a merge with nothing to refuse: $(cat "$T/m.err")"
git rev-parse -q --verify HEAD^2 > /dev/null || fail "merge e: not a merge commit"
echo ok
