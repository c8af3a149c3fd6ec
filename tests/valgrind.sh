#!/bin/sh
# `make valgrind`: the end-to-end scripts (tests/e2e/*.sh) with every run
# of pvdev and pvbake under valgrind's memcheck (tests/lib.sh puts wrappers
# on PATH, so the runs git starts are checked too).
#
# Usage: tests/valgrind.sh BUILD_DIR [SCRIPT_NAME...]   (default: every script)
#
# A run that makes an error (invalid read or write, use of an uninitialised
# value, a bad free, a definitely lost block) exits with 99, which no test
# expects, and leaves its report in BUILD_DIR/valgrind/<script>/vg.<pid>.log;
# the script fails, and so does this run if any log holds an error, even
# one a test ignored the exit code of. A script that fails with no valgrind
# error is reported as such: tests with time limits can miss them under
# valgrind (tests/e2e/shell.sh's pty runner waits 60 s). PV_VALGRIND is in
# the environment of every script, for tests that need to know. "Still reachable" memory at exit and
# "possibly lost" blocks (libgit2's global caches) are not errors.
set -u
build=${1:-build}
shift 2>/dev/null || true
top=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
command -v valgrind >/dev/null 2>&1 || { echo "valgrind.sh: valgrind is not installed (sh scripts/deps.sh valgrind)" >&2; exit 1; }

export PV_BUILD="$build" PV_TOP="$top"
export PATH="$build:$PATH"
export GIT_CONFIG_NOSYSTEM=1 HOME="${TMPDIR:-/tmp}/pv-valgrind-home.$$"
mkdir -p "$HOME"
git config --global user.name "PicoVolt Test"
git config --global user.email "test@picovolt.invalid"
git config --global init.defaultBranch main

scripts=""
if [ $# -gt 0 ]; then
    for n in "$@"; do scripts="$scripts $top/tests/e2e/$n.sh"; done
else
    scripts=$(ls "$top"/tests/e2e/*.sh)
fi

logs="$build/valgrind"
rm -rf "$logs"
pass=0 fail=0 failed="" errors=0
for t in $scripts; do
    name=$(basename "$t" .sh)
    mkdir -p "$logs/$name"
    PV_VALGRIND="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
--show-leak-kinds=definite --track-origins=yes --log-file=$logs/$name/vg.%p.log"
    export PV_VALGRIND
    start=$(date +%s)
    if sh "$t" >"$logs/$name/test.log" 2>&1; then status=ok; else status=FAIL; fi
    # with -q valgrind logs nothing but problems: every log that is not
    # empty fails the script, whatever the test made of the exit code
    bad=$(find "$logs/$name" -name 'vg.*.log' -size +0 | sort)
    if [ -n "$bad" ]; then
        status="FAIL: valgrind errors in $(echo "$bad" | wc -l) runs"
    elif [ "$status" = FAIL ]; then
        status="FAIL: the test failed, with no valgrind error (a time limit?)"
    fi
    runs=$(ls "$logs/$name"/vg.*.log 2>/dev/null | wc -l)
    printf '%-20s %s (%s runs, %ss)\n' "e2e/$name" "$status" "$runs" "$(($(date +%s) - start))"
    errors=$((errors + $(echo "$bad" | grep -c .)))
    if [ "$status" = ok ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)) failed="$failed $name"
        tail -n 20 "$logs/$name/test.log" | sed 's/^/    | /'
        for f in $bad; do sed 's/^/    vg| /' "$f" | head -n 40; done
    fi
done
rm -rf "$HOME"
echo "valgrind: $pass scripts passed, $fail failed; $errors runs with valgrind errors"
[ "$fail" -eq 0 ] || { echo "failed:$failed"; exit 1; }
