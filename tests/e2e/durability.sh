#!/bin/sh
# Durability reaches the workspace: `pvdev --durability sync|fast` and the
# PV_DURABILITY variable (the fallback) decide whether a commit fsyncs.
# Counted with strace: an INSERT in sync mode fsyncs (the chunk it appends
# to), in fast mode it makes no fsync at all; the option wins over the
# variable; a bad value is refused, by the option as a usage error (exit 2)
# and in the variable by the open, naming it.
set -eu
. "$(dirname "$0")/../lib.sh"

cd "$T"
pvdev init >/dev/null
pvdev sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"
pvdev sql "INSERT INTO t VALUES (0, 'first')" # the chunk exists: later inserts are one-line appends

if ! command -v strace >/dev/null 2>&1 || ! strace -f -qq -e trace=none true 2>/dev/null; then
    echo "strace cannot run here: only the option parsing is checked" >&2
    STRACE=
else
    STRACE=yes
fi

echo 1 >"$T/n"
# fsyncs ENV_VALUE OPTION...: the fsync and fdatasync calls of one INSERT
# (run in a subshell: the row counter lives in a file).
fsyncs() {
    env=$1
    shift
    n=$(($(cat "$T/n") + 1))
    echo "$n" >"$T/n"
    # LeakSanitizer cannot run under ptrace (make test SANITIZE=1)
    env ${env:+PV_DURABILITY=$env} ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        strace -f -qq -c -e trace=fsync,fdatasync -o "$T/st" \
        pvdev "$@" sql "INSERT INTO t VALUES ($n, 'v$n')" >/dev/null || fail "insert $n ($env $*)"
    awk '$NF == "fsync" || $NF == "fdatasync" { s += $4 } END { print s + 0 }' "$T/st"
}

if [ -n "$STRACE" ]; then
    [ "$(fsyncs '')" -gt 0 ] || fail "the default (sync) made no fsync"
    [ "$(fsyncs '' --durability sync)" -gt 0 ] || fail "--durability sync made no fsync"
    [ "$(fsyncs '' --durability fast)" -eq 0 ] || fail "--durability fast fsynced"
    [ "$(fsyncs '' --durability=fast)" -eq 0 ] || fail "--durability=fast fsynced"
    [ "$(fsyncs fast)" -eq 0 ] || fail "PV_DURABILITY=fast fsynced"
    [ "$(fsyncs sync)" -gt 0 ] || fail "PV_DURABILITY=sync made no fsync"
    [ "$(fsyncs fast --durability sync)" -gt 0 ] || fail "--durability sync did not win over PV_DURABILITY=fast"
    [ "$(fsyncs sync --durability fast)" -eq 0 ] || fail "--durability fast did not win over PV_DURABILITY=sync"
    # every insert is there
    [ "$(pvdev sql --csv "SELECT COUNT(*) FROM t")" = "$(cat "$T/n")" ] || fail "rows: $(pvdev sql --csv "SELECT COUNT(*) FROM t")"
fi

set +e
pvdev --durability slow sql "SELECT 1" >/dev/null 2>"$T/err"
code=$?
set -e
[ "$code" -eq 2 ] || fail "--durability slow: exit $code, want 2"
grep -q "expected 'sync' or 'fast'" "$T/err" || fail "--durability slow: $(cat "$T/err")"
set +e
pvdev --durability >/dev/null 2>"$T/err"
code=$?
set -e
[ "$code" -eq 2 ] || fail "--durability without a value: exit $code, want 2"
PV_DURABILITY=fsat expect_fail "PV_DURABILITY='fsat'" pvdev sql "INSERT INTO t VALUES (100, 'x')"
# the option replaces a bad variable
PV_DURABILITY=fsat pvdev --durability fast sql "INSERT INTO t VALUES (100, 'x')"
pvdev --help | grep -q -- "--durability sync|fast" || fail "--help does not describe --durability"
echo ok
