#!/bin/sh
# Regenerate the seed corpus of fuzz_merge (tests/fuzz/corpus/merge/) from
# small merges made with the real tool: each scenario makes a base
# workspace, copies it to "ours" and "theirs", runs SQL (or appends records,
# as tests/e2e/merge.sh does) on each, and writes the three versions of
# chunk 00000001.jsonl as BASE \0 OURS \0 THEIRS [\0 SCHEMA] (the schema
# only when it is not fuzz_merge's default t(k, a, b)). Run it again when
# the chunk format changes, and commit what it writes:
#
#   make && sh tests/fuzz/make_merge_seeds.sh [BUILD_DIR]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
pvdev="$build/pvdev"
out="$top/tests/fuzz/corpus/merge"
[ -x "$pvdev" ] || { echo "build the tools first (make)" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/pv-seeds.XXXXXX")
trap 'rm -rf "$T"' EXIT
chunk=.pv/tables/t/00000001.jsonl
default_create="CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT, b INTEGER);
INSERT INTO t VALUES (1, 'one', 10), (2, 'two', 20), (3, 'three', 30)"
long=$(printf '%01500d' 0 | tr 0 L)   # the blob fuzz_merge's work tree holds

sql() { (cd "$1" && "$pvdev" sql "$2" >/dev/null); }
append() { printf '%s\n' "$2" >>"$1/$chunk"; }

# scenario NAME: $T/base is made (by base_sql) and copied to $T/ours and
# $T/theirs before the caller edits them; emit writes the seed.
begin() {
    rm -rf "$T/base" "$T/ours" "$T/theirs"
    mkdir "$T/base"
    (cd "$T/base" && "$pvdev" init >/dev/null)
    [ -n "$1" ] && sql "$T/base" "$1"
    cp -r "$T/base" "$T/ours"
    cp -r "$T/base" "$T/theirs"
}
emit() {   # emit NAME [schema]: the seed; "empty-base" when base has no chunk
    {
        [ -f "$T/base/$chunk" ] && cat "$T/base/$chunk"
        printf '\0'
        cat "$T/ours/$chunk"
        printf '\0'
        cat "$T/theirs/$chunk"
        if [ "${2:-}" = schema ]; then
            printf '\0'
            cat "$T/ours/.pv/tables/t/schema.jsonl"
        fi
    } >"$out/$1"
}

rm -rf "$out"
mkdir -p "$out"

# The scenarios of tests/e2e/merge.sh.
begin "$default_create"
sql "$T/theirs" "INSERT INTO t VALUES (5, 'five', 50)"
sql "$T/ours" "INSERT INTO t VALUES (4, 'four', 40)"
emit inserts

begin "$default_create"
append "$T/theirs" '[2,"two",22]'
append "$T/ours" '[2,"TWO",20]'
emit cells

begin "$default_create"
append "$T/theirs" '[2,"deux",20]'
append "$T/ours" '[2,"dos",20]'
emit same-cell-conflict

begin "$default_create"
append "$T/theirs" '{"delete":[3]}'
append "$T/ours" '[3,"three",33]'
emit delete-update-conflict

begin "$default_create"
sql "$T/theirs" "INSERT INTO t VALUES (7, 'seven', 70)"
sql "$T/ours" "INSERT INTO t VALUES (7, 'SEVEN', 70)"
emit insert-insert-conflict

begin "$default_create"
sql "$T/theirs" "INSERT INTO t VALUES (7, 'seven', 70)"
sql "$T/ours" "INSERT INTO t VALUES (7, 'seven', 70); INSERT INTO t VALUES (8, 'eight', 80)"
emit equal-inserts

# More: deletes, updates through SQL, a long value (a blob reference).
begin "$default_create"
sql "$T/theirs" "DELETE FROM t WHERE k = 1; UPDATE t SET b = b + 1 WHERE k = 3"
sql "$T/ours" "DELETE FROM t WHERE k = 2; UPDATE t SET a = 'x' WHERE k = 3"
emit deletes-and-updates

begin "$default_create"
sql "$T/theirs" "UPDATE t SET a = '$long' WHERE k = 2; INSERT INTO t VALUES (9, '$long', 9)"
sql "$T/ours" "UPDATE t SET b = 0 WHERE k = 2"
emit long-text

# add/add: no base file, both sides created the table's first chunk
begin ""
sql "$T/ours" "$default_create"
sql "$T/theirs" "$default_create; INSERT INTO t VALUES (4, 'four', 40)"
emit add-add-empty-base

# every type, a composite key, NULLs
begin "CREATE TABLE t (k TEXT NOT NULL, n INTEGER NOT NULL, r REAL, x BLOB, f BOOLEAN, PRIMARY KEY (k, n));
INSERT INTO t VALUES ('a', 1, 0.5, X'00ff', TRUE), ('a', 2, NULL, NULL, NULL), ('b', 1, -0.0, X'', FALSE)"
sql "$T/ours" "UPDATE t SET r = 1e300 WHERE k = 'a' AND n = 1; DELETE FROM t WHERE k = 'b'"
sql "$T/theirs" "UPDATE t SET x = X'41', f = FALSE WHERE k = 'a' AND n = 1; INSERT INTO t VALUES ('c', -9223372036854775808, NULL, NULL, TRUE)"
emit types-composite-key schema

# a table without a primary key (generated keys)
begin "CREATE TABLE t (a TEXT, b INTEGER); INSERT INTO t VALUES ('p', 1), ('q', 2)"
sql "$T/ours" "INSERT INTO t VALUES ('r', 3)"
sql "$T/theirs" "INSERT INTO t VALUES ('s', 4); DELETE FROM t WHERE a = 'p'"
emit hidden-key schema

ls -l "$out"
