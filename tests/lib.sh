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
