#!/bin/sh
# The merge driver under git's other ways of replaying a commit: the pick
# found from git's command line (pvgit/merge_pick.c) with -x, -c config,
# --no-commit; git revert (a merge of REV^ onto HEAD over REV, never read
# as a pick of REV); git rebase -i with picks reordered; git am -3. Each
# gives the rows a plain row merge gives, or a loud conflict naming the
# table, never a silent wrong row.
set -eu
. "$(dirname "$0")/../lib.sh"

q() { pvdev sql "$1"; }
driver="pvdev merge-driver %O %A %B %L %P"
new_repo() {
    rm -rf "$T/patches"
    pv_git_repo "$T/r"
    pv_base_t
}
clean_tree() { [ -z "$(git status --porcelain .pv)" ] || fail "$1: work tree differs from HEAD: $(git status --porcelain .pv)"; }
small() { q "SELECT k, a, b FROM t WHERE k < 10 ORDER BY k" | tr '\n' ' '; q "SELECT COUNT(*) FROM t"; }
picked="1|one|10 2|two|20 3|three|30 7|seven|70 8|eight|80 20005"

# 1. merge.sh 14's commit below a ref tip (X inserts row 7 and seals chunk
#    1; the tip Y updates row 7 in chunk 2), picked onto main (row 8)
#    with the options people use: each gives exactly X's rows on main's
new_repo
big_csv 100 10000 > "$T/base.csv"
big_csv 20000 10000 > "$T/more.csv"
pvdev import t "$T/base.csv" 2>/dev/null && commit big
git checkout -qb side
q "INSERT INTO t VALUES (7, 'seven', 70)"
pvdev import t "$T/more.csv" 2>"$T/imp.err" || fail "setup: import failed: $(cat "$T/imp.err")"
commit X
[ -f .pv/tables/t/00000002.jsonl ] || fail "setup: X should seal chunk 1"
q "UPDATE t SET b = 77 WHERE k = 7" && git commit -qam Y
git checkout -q main && q "INSERT INTO t VALUES (8, 'eight', 80)" && git commit -qam main
# ... -x (the message gains a line; the options before REV are skipped)
git cherry-pick -x side~1 >"$T/cp.out" 2>&1 || fail "pick -x: should be clean: $(cat "$T/cp.out")"
[ "$(small | tr '\n' ' ')" = "$picked " ] || fail "pick -x: rows $(small)"
git log -1 --format=%B | grep -q "cherry picked from commit $(git rev-parse side~1)" || fail "pick -x: no -x line"
no_conflict_lines "pick -x" && clean_tree "pick -x"
# ... the driver given only on git's command line (git -c ... cherry-pick)
git reset -q --hard HEAD~1
git config --unset merge.pv.driver
git -c merge.pv.driver="$driver" cherry-pick side~1 >"$T/cp.out" 2>&1 || fail "pick -c: should be clean: $(cat "$T/cp.out")"
[ "$(small | tr '\n' ' ')" = "$picked " ] || fail "pick -c: rows $(small)"
no_conflict_lines "pick -c" && clean_tree "pick -c"
git config merge.pv.driver "$driver"
# ... --no-commit: the rows in the work tree and the index, HEAD unchanged
git reset -q --hard HEAD~1
head=$(git rev-parse HEAD)
git cherry-pick --no-commit side~1 >"$T/cp.out" 2>&1 || fail "pick -n: should be clean: $(cat "$T/cp.out")"
[ "$(git rev-parse HEAD)" = "$head" ] || fail "pick -n: HEAD moved"
[ "$(small | tr '\n' ' ')" = "$picked " ] || fail "pick -n: rows $(small)"
[ -z "$(git diff --name-only)" ] || fail "pick -n: work tree differs from the index: $(git diff --name-only)"
no_conflict_lines "pick -n"
git commit -qm "X again" && clean_tree "pick -n"
[ "$(small | tr '\n' ' ')" = "$picked " ] || fail "pick -n, committed: rows $(small)"

# 2. git revert REV: git merges REV^ onto HEAD over REV. Not a pick of
#    REV: the inverse of REV's change on HEAD's rows.
# ... an INSERT reverted under a later INSERT into the same chunk
new_repo
q "INSERT INTO t VALUES (7, 'seven', 70)" && commit C1
q "INSERT INTO t VALUES (9, 'nine', 90)" && commit C2
git revert --no-edit HEAD~1 >"$T/rv.out" 2>&1 || fail "revert insert: should be clean: $(cat "$T/rv.out")"
expect_rows "1|one|10 2|two|20 3|three|30 9|nine|90 " "revert insert"
no_conflict_lines "revert insert" && clean_tree "revert insert"
# ... an UPDATE reverted under a later INSERT: the old value comes back
new_repo
q "UPDATE t SET b = 22 WHERE k = 2" && commit U
q "INSERT INTO t VALUES (9, 'nine', 90)" && commit C2
git revert --no-edit HEAD~1 >"$T/rv.out" 2>&1 || fail "revert update: should be clean: $(cat "$T/rv.out")"
expect_rows "1|one|10 2|two|20 3|three|30 9|nine|90 " "revert update"
# ... a DELETE reverted: the row comes back as it was
q "DELETE FROM t WHERE k = 3" && commit D
q "UPDATE t SET a = 'ONE' WHERE k = 1" && commit U1
git revert --no-edit HEAD~1 >"$T/rv.out" 2>&1 || fail "revert delete: should be clean: $(cat "$T/rv.out")"
expect_rows "1|ONE|10 2|two|20 3|three|30 9|nine|90 " "revert delete"
# ... an UPDATE reverted when a later commit changed the same cell: a
#     conflict naming the table and key, HEAD's value kept until resolved
new_repo
q "UPDATE t SET b = 22 WHERE k = 2" && commit U
q "UPDATE t SET b = 222 WHERE k = 2" && commit U2
if git revert --no-edit HEAD~1 >"$T/rv.out" 2>&1; then fail "revert same cell: should conflict"; fi
grep -q "CONFLICT (content): Merge conflict in .pv/tables/t/00000001.jsonl" "$T/rv.out" || fail "revert same cell: $(cat "$T/rv.out")"
pvdev conflicts | grep -q '^t 2 ' || fail "revert same cell: pvdev conflicts: $(pvdev conflicts)"
pvdev conflicts | grep -q 'b:  base 22  ours 222  theirs 20' || fail "revert same cell: values: $(pvdev conflicts)"
expect_rows "1|one|10 2|two|222 3|three|30 " "revert same cell (ours until resolved)"
pvdev resolve --theirs >/dev/null && git add .pv && GIT_EDITOR=true git revert --continue >/dev/null 2>&1 ||
    fail "revert same cell: cannot settle and continue"
expect_rows "1|one|10 2|two|20 3|three|30 " "revert same cell, resolved --theirs"
clean_tree "revert same cell"

# 3. git rebase -i with the picks reordered
reorder() { # reorder ORDER: GIT_SEQUENCE_EDITOR printing the picks in ORDER (1-based)
    printf '#!/bin/sh\nawk -v order="%s" '\''/^pick/ { p[++n] = $0; next } { rest = rest $0 "\\n" }
      END { k = split(order, o, " "); for (i = 1; i <= k; i++) print p[o[i]]; printf "%%s", rest }'\'' "$1" >"$1.new" && mv "$1.new" "$1"\n' "$1" \
        >"$T/seq-editor"
    chmod +x "$T/seq-editor"
}
side3() {
    new_repo
    git checkout -qb side
    q "INSERT INTO t VALUES (7, 'seven', 70)" && commit P1
    q "UPDATE t SET b = 71 WHERE k = 7" && commit P2
    q "INSERT INTO t VALUES (9, 'nine', 90)" && commit P3
    git checkout -q main && q "INSERT INTO t VALUES (8, 'eight', 80)" && commit M
    git checkout -q side
}
# ... P3 first: every pick clean, the rows of all three on main's
side3 && reorder "3 1 2"
GIT_SEQUENCE_EDITOR="$T/seq-editor" git rebase -i main >"$T/rb.out" 2>&1 || fail "rebase -i 3 1 2: $(cat "$T/rb.out")"
[ "$(git log --format=%s main..HEAD | tr '\n' ' ')" = "P2 P1 P3 " ] || fail "rebase -i 3 1 2: order $(git log --format=%s main..HEAD)"
expect_rows "1|one|10 2|two|20 3|three|30 7|seven|71 8|eight|80 9|nine|90 " "rebase -i 3 1 2"
no_conflict_lines "rebase -i 3 1 2" && clean_tree "rebase -i 3 1 2"
git checkout -q HEAD~2
expect_rows "1|one|10 2|two|20 3|three|30 8|eight|80 9|nine|90 " "rebase -i 3 1 2: P3 alone on main"
git checkout -q side
# ... the UPDATE of row 7 before its INSERT: a conflict (updated on
#     theirs, absent on ours) naming the table, never a silent row
side3 && reorder "2 1 3"
if GIT_SEQUENCE_EDITOR="$T/seq-editor" git rebase -i main >"$T/rb.out" 2>&1; then
    fail "rebase -i 2 1 3: should stop"
fi
grep -q "CONFLICT (content): Merge conflict in .pv/tables/t/00000001.jsonl" "$T/rb.out" || fail "rebase -i 2 1 3: $(cat "$T/rb.out")"
grep -q "could not apply .* P2" "$T/rb.out" || fail "rebase -i 2 1 3: not P2: $(cat "$T/rb.out")"
pvdev conflicts | grep -q '^t 7 ' || fail "rebase -i 2 1 3: pvdev conflicts: $(pvdev conflicts)"
expect_rows "1|one|10 2|two|20 3|three|30 8|eight|80 " "rebase -i 2 1 3 (no row 7 until resolved)"
git rebase --abort

# 4. git am -3: the patches do not apply to main's chunk (main appended a
#    row), git falls back to a three-way merge through the driver
new_repo
git checkout -qb side
q "INSERT INTO t VALUES (7, 'seven', 70)" && commit P1
q "UPDATE t SET b = 22 WHERE k = 2" && commit P2
git format-patch -q -o "$T/patches" main
git checkout -q main && q "INSERT INTO t VALUES (8, 'eight', 80)" && commit M
git am -3 "$T"/patches/*.patch >"$T/am.out" 2>&1 || fail "am -3: $(cat "$T/am.out")"
grep -q "Falling back to patching base and 3-way merge" "$T/am.out" || fail "am -3: no three-way fallback: $(cat "$T/am.out")"
[ "$(git log --format=%s | tr '\n' ' ')" = "P2 P1 M base " ] || fail "am -3: history $(git log --format=%s)"
expect_rows "1|one|10 2|two|22 3|three|30 7|seven|70 8|eight|80 " "am -3"
no_conflict_lines "am -3" && clean_tree "am -3"
# ... a patch changing a cell main changed too: the conflict names the table
new_repo
git checkout -qb side && q "UPDATE t SET b = 22 WHERE k = 2" && commit P
git format-patch -q -o "$T/patches" main
git checkout -q main && q "UPDATE t SET b = 23 WHERE k = 2" && commit M
if git am -3 "$T"/patches/*.patch >"$T/am.out" 2>&1; then fail "am -3 same cell: should stop"; fi
grep -q "CONFLICT (content): Merge conflict in .pv/tables/t/00000001.jsonl" "$T/am.out" || fail "am -3 same cell: $(cat "$T/am.out")"
pvdev conflicts | grep -q 'b:  base 20  ours 23  theirs 22' || fail "am -3 same cell: $(pvdev conflicts)"
expect_rows "1|one|10 2|two|23 3|three|30 " "am -3 same cell (ours until resolved)"
git am --abort
echo "merge_pick e2e: ok"
