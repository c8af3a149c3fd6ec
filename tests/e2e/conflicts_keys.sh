#!/bin/sh
# `pvdev conflicts` and `pvdev resolve` after a real git merge: a key part
# holding a comma or a quote is printed quoted, as `pvdev diff` and `pvdev
# log` print it, so the composite keys ('x,y','z') and ('x','y,z') no
# longer both read x,y,z, and resolve takes that quoted form and settles
# the one key it names (before, 'x,y,z' settled both and '"x,y",z' was
# refused). A value over the blob threshold is printed as its reference
# {"sha256":...,"size":N}, as diff prints it (before, in full: 1 MB a line).
set -eu
. "$(dirname "$0")/../lib.sh"

q() { pvdev sql "$1"; }
# big CHAR: the SQL of a 1 MiB TEXT of CHAR for key ('p','o'); ref CHAR:
# the reference text diff prints for it
big() { python3 -c "import sys; print(\"UPDATE c SET v = '\" + sys.argv[1] * 1048576 + \"' WHERE a = 'p'\")" "$1"; }
ref() {
    python3 -c "import hashlib, sys; print('{\"sha256\":\"%s\",\"size\":1048576}' % hashlib.sha256(sys.argv[1].encode() * 1048576).hexdigest())" "$1"
}
keys_of() { sed -n 's/^c \(.*\)  (chunk .*/\1/p' | sort; }

# A merge in progress: both sides changed v of every row. The base holds
# a large value already, so every commit has a .pv/blobs directory.
pv_git_repo "$T/r"
q "CREATE TABLE c (a TEXT, b TEXT, v TEXT, PRIMARY KEY (a, b));
   INSERT INTO c VALUES ('x,y', 'z', '0'), ('x', 'y,z', '0'), ('q\"r', 's', '0'), ('p', 'o', '0')"
big A | pvdev sql
commit base
git checkout -qb side
q "UPDATE c SET v = 'theirs'"
big T | pvdev sql
commit side
git checkout -q main
q "UPDATE c SET v = 'ours'"
commit main
if git merge -q side -m merge >"$T/merge.out" 2>&1; then fail "setup: the merge should conflict"; fi

# 1. the keys as diff prints them, each once
pvdev conflicts >"$T/conflicts.out"
keys_of <"$T/conflicts.out" >"$T/keys.got"
printf '%s\n' '"q\"r",s' '"x,y",z' 'p,o' 'x,"y,z"' | sort >"$T/keys.want"
same "$T/keys.want" "$T/keys.got" "pvdev conflicts: the keys"
pvdev diff main side | sed -n 's/^~ \([^ ]*\)  .*/\1/p' | sort >"$T/keys.diff"
same "$T/keys.diff" "$T/keys.got" "pvdev conflicts: the keys as pvdev diff prints them"

# 2. a large value as its reference, as diff prints it
grep -qF "    v:  base $(ref A)  ours \"ours\"  theirs $(ref T)" "$T/conflicts.out" ||
    fail "pvdev conflicts: the 1 MiB values: $(cut -c1-200 "$T/conflicts.out")"
pvdev diff main side | grep -qF "$(ref T)" || fail "pvdev diff: no reference for the 1 MiB value"
[ "$(wc -c <"$T/conflicts.out")" -lt 2000 ] || fail "pvdev conflicts: $(wc -c <"$T/conflicts.out") bytes of output"

# 3. one quoted key settles that key alone; its twin stays in conflict
pvdev resolve --theirs c '"x,y",z' >"$T/resolve.out" 2>"$T/resolve.err" ||
    fail "resolve '\"x,y\",z': $(cat "$T/resolve.err")"
grep -qx 'c "x,y",z: theirs' "$T/resolve.out" || fail "resolve '\"x,y\",z': $(cat "$T/resolve.out")"
grep -qx 'resolved 1 conflict; .*' "$T/resolve.out" || fail "resolve '\"x,y\",z': $(cat "$T/resolve.out")"
pvdev conflicts | keys_of >"$T/keys.got"
printf '%s\n' '"q\"r",s' 'p,o' 'x,"y,z"' | sort >"$T/keys.want"
same "$T/keys.want" "$T/keys.got" "after resolving '\"x,y\",z': the conflicts left"
expect_sql "SELECT a, b, v FROM c WHERE a LIKE 'x%' ORDER BY a" "x|y,z|ours x,y|z|theirs " "after '\"x,y\",z'"

# 4. the old ambiguous text names one key only: unquoted, a comma belongs
#    to the last part (as diff and log read a key)
expect_fail "no matching conflict" pvdev resolve --theirs c '"x,y",z'
pvdev resolve --ours c 'x,y,z' >"$T/resolve.out" || fail "resolve 'x,y,z' failed"
grep -qx 'c x,"y,z": ours' "$T/resolve.out" || fail "resolve 'x,y,z': $(cat "$T/resolve.out")"
grep -qx 'resolved 1 conflict; .*' "$T/resolve.out" || fail "resolve 'x,y,z': $(cat "$T/resolve.out")"
expect_sql "SELECT a, b, v FROM c WHERE a LIKE 'x%' ORDER BY a" "x|y,z|ours x,y|z|theirs " "after 'x,y,z'"

# 5. a quote in a key part, and a plain key, as printed
expect_fail "has a key of 2 columns" pvdev resolve --theirs c 'p'
pvdev resolve --theirs c '"q\"r",s' >"$T/resolve.out" || fail "resolve '\"q\\\"r\",s' failed"
grep -qx 'c "q\\"r",s: theirs' "$T/resolve.out" || fail "resolve '\"q\\\"r\",s': $(cat "$T/resolve.out")"
pvdev resolve --theirs c 'p,o' >"$T/resolve.out" || fail "resolve 'p,o' failed"
grep -qx 'c p,o: theirs' "$T/resolve.out" || fail "resolve 'p,o': $(cat "$T/resolve.out")"
[ "$(pvdev conflicts)" = "no conflicts" ] || fail "conflicts left: $(pvdev conflicts)"
expect_sql "SELECT a, b, v FROM c WHERE a NOT LIKE 'p%' ORDER BY a" "q\"r|s|theirs x|y,z|ours x,y|z|theirs " "settled"
expect_sql "SELECT length(v), substr(v, 1, 3) FROM c WHERE a = 'p'" "1048576|TTT " "settled: the 1 MiB value"
commit merge
pvdev fsck >/dev/null 2>&1 || fail "fsck refuses the settled merge"
echo "conflicts_keys: ok"
