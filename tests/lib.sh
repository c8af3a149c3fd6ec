# Helpers for the end-to-end scripts (sourced). Every script gets a fresh
# temporary directory $T, removed on exit.
T=$(mktemp -d "${TMPDIR:-/tmp}/pv-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# same EXPECTED GOT WHAT: the two files are identical, else show the diff.
same() {
    if ! cmp -s "$1" "$2"; then
        echo "FAIL: $3" >&2
        diff "$1" "$2" | head -n 20 >&2
        exit 1
    fi
}

# expect_fail TEXT CMD...: CMD exits 1 (a failure, not a crash or a usage
# error) and its stderr contains TEXT.
expect_fail() {
    want=$1
    shift
    set +e
    "$@" >"$T/.out" 2>"$T/.err"
    code=$?
    set -e
    [ "$code" -eq 1 ] || fail "expected exit 1 from '$*', got $code: $(cat "$T/.err")"
    grep -qF -- "$want" "$T/.err" || fail "'$*': stderr lacks '$want': $(cat "$T/.err")"
}

# pv_git_repo DIR: DIR made afresh (removed first if there) as a git
# repository on branch main with a workspace in it, and the shell in DIR.
# The pv merge driver is configured by hand before `pvdev init`, as these
# scripts always did: merge.pv.name and merge.pv.driver in .git/config, and
# a .gitattributes of the one line '.pv/tables/** merge=pv' (no diff=pv).
# init keeps that .gitattributes line as it is (it already covers
# .pv/tables/**), but rewrites merge.pv.name and merge.pv.driver with its
# own values and adds diff.pv.* and the pre-commit hook: the driver git
# runs is the one init configures (git_setup.sh checks init's output).
pv_git_repo() {
    rm -rf "$1"
    mkdir "$1"
    cd "$1"
    git init -q -b main .
    git config merge.pv.name "PicoVolt tables"
    git config merge.pv.driver "pvdev merge-driver %O %A %B %L %P"
    echo '.pv/tables/** merge=pv' >.gitattributes
    pvdev init >/dev/null
}

# commit MSG: everything in the work tree (git add -A) committed as MSG.
commit() { git add -A && git commit -qm "$1"; }

# pv_base_t: the merge tests' base, committed as "base": table
# t (k INTEGER PRIMARY KEY, a TEXT, b INTEGER) with (1, 'one', 10),
# (2, 'two', 20), (3, 'three', 30).
pv_base_t() {
    pvdev sql "CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT, b INTEGER);
       INSERT INTO t VALUES (1, 'one', 10), (2, 'two', 20), (3, 'three', 30)"
    commit base
}

# rows: the k, a, b of table t by k, on one line, each row and a space.
rows() { pvdev sql "SELECT k, a, b FROM t ORDER BY k" | tr '\n' ' '; }

# expect_rows ROWS WHAT: rows gives ROWS.
expect_rows() {
    got=$(rows)
    [ "$got" = "$1" ] || fail "$2: rows are '$got', expected '$1'"
}

# no_conflict_lines WHAT: no chunk file of table t holds a conflict record.
no_conflict_lines() { ! grep -q '"conflict"' .pv/tables/t/*.jsonl || fail "$1: conflict records left"; }

# big_csv FIRST COUNT: a CSV of header k,a,b and COUNT rows from key FIRST
# on, each with a ~60-byte text a (enough rows fill and seal a chunk).
big_csv() {
    python3 -c "
import sys
f, n = int(sys.argv[1]), int(sys.argv[2])
print('k,a,b')
for k in range(f, f + n): print(f'{k},row {k} {\"x\" * 48},{k}')
" "$1" "$2"
}

# expect_sql SQL EXPECTED WHAT: the query's output, lines joined by ' ',
# is EXPECTED.
expect_sql() {
    got=$(pvdev sql "$1" | tr '\n' ' ')
    [ "$got" = "$2" ] || fail "$3: '$1' gave '$got', expected '$2'"
}

# resolve_killed FAULT N WHAT: `pvdev resolve --theirs t` run with the
# fault point FAULT=N (a PV_FAULTS_* variable) ends as if killed (exit 137)
# and leaves the rollback journal .pv/journal/commit; its output is in
# $T/crash.out.
resolve_killed() {
    set +e
    env "$1=$2" pvdev resolve --theirs t >"$T/crash.out" 2>&1
    code=$?
    set -e
    [ "$code" = 137 ] || fail "$3: expected the fault point to end pvdev (137), got $code: $(cat "$T/crash.out")"
    [ -f .pv/journal/commit ] || fail "$3: no journal left by the interrupted resolve"
}

# resolve_rerun WHAT: after resolve_killed, readers refuse the half-done
# state, and `pvdev resolve --theirs t` again succeeds and says that it
# rolled the interrupted commit back (stdout in $T/resolve.out, stderr in
# $T/resolve.err).
resolve_rerun() {
    expect_fail "was interrupted" pvdev conflicts
    pvdev resolve --theirs t >"$T/resolve.out" 2>"$T/resolve.err" || fail "$1: rerun failed: $(cat "$T/resolve.err")"
    grep -q "rolled back a commit that was interrupted" "$T/resolve.err" ||
        fail "$1: the rerun did not say it rolled back: $(cat "$T/resolve.err")"
}

# Under `make valgrind` (tests/valgrind.sh), PV_VALGRIND holds the valgrind
# command line: pvdev and pvbake are then wrappers early on PATH, so every
# run of them is checked, the ones git starts (merge driver, textconv,
# hooks) included.
if [ -n "${PV_VALGRIND:-}" ]; then
    mkdir -p "$T/.valgrind-bin"
    for tool in pvdev pvbake; do
        printf '#!/bin/sh\nexec %s "%s/%s" "$@"\n' "$PV_VALGRIND" "$PV_BUILD" "$tool" \
            >"$T/.valgrind-bin/$tool"
        chmod +x "$T/.valgrind-bin/$tool"
    done
    PATH="$T/.valgrind-bin:$PATH"
    export PATH
fi

# shell_start ARGS...: one `pvdev sql ARGS --interactive` process in the
# background, reading what the script writes to fd 3 (`echo SQL >&3`), its
# stdout in $T/out and stderr in $T/err; ask and wait_lines read them.
shell_start() {
    mkfifo "$T/in"
    # (the shell's redirections open the fifo first, which waits for a
    # writer: $T/out must exist before wait_lines reads it)
    : >"$T/out"
    pvdev sql "$@" --interactive <"$T/in" >"$T/out" 2>"$T/err" &
    shell=$!
    exec 3>"$T/in"
    trap 'exec 3>&-; kill $shell 2>/dev/null || true; rm -rf "$T"' EXIT
    lines=0
}

# wait_lines N WHAT: until the shell has printed N lines in all.
wait_lines() {
    i=0
    while [ "$(wc -l <"$T/out")" -lt "$1" ]; do
        i=$((i + 1))
        [ $i -lt 200 ] || fail "$2: no answer; stdout: $(cat "$T/out"); stderr: $(cat "$T/err")"
        sleep 0.05
    done
}

# ask SQL WANT WHAT [N]: the shell's answer to SQL, its N lines of output
# (1 unless given) joined by ' ', is WANT.
ask() {
    echo "$1" >&3
    n=${4:-1}
    lines=$((lines + n))
    wait_lines $lines "$3: '$1'"
    got=$(sed -n "$((lines - n + 1)),${lines}p" "$T/out" | tr '\n' ' ')
    [ "$got" = "$2 " ] || fail "$3: '$1' gave '$got', expected '$2'; stderr: $(cat "$T/err")"
}
