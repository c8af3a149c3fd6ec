#!/bin/sh
# End to end on the real airports file, through the real tools, git and the
# sqlite3 shell:
#   - every row read back from the workspace equals the CSV (sqlite3 parses
#     the CSV independently, as TEXT, so REAL columns must keep their text);
#   - every row read from the baked .pvdb equals the workspace;
#   - a set of SELECTs give the sqlite3 shell's answers on the same CSV;
#   - bad input fails with file and line, and loses nothing committed.
set -eu
. "$(dirname "$0")/../lib.sh"

csv="$PV_TOP/examples/data/airports.csv"
cd "$T"
git init -q .
pvdev init >/dev/null
pvdev import airports "$csv" --key iata 2>import.err || fail "import: $(cat import.err)"
grep -q "3376 rows" import.err || fail "import summary: $(cat import.err)"
git add .pv && git commit -q -m airports

# --- the workspace equals the CSV -----------------------------------------
sqlite3 -batch ref-text.db <<EOF
.mode csv
.import $csv airports
EOF
sqlite3 -batch ref-text.db "SELECT * FROM airports ORDER BY iata" >expect.txt
pvdev sql "SELECT * FROM airports ORDER BY iata" >got.txt
same expect.txt got.txt "workspace rows vs CSV"
[ "$(wc -l <got.txt)" -eq 3376 ] || fail "expected 3376 rows, got $(wc -l <got.txt)"

# --- the .pvdb equals the workspace ----------------------------------------
pvbake -o airports.pvdb 2>bake.err || fail "pvbake: $(cat bake.err)"
pvdev sql --db airports.pvdb "SELECT * FROM airports ORDER BY iata" >baked.txt
same got.txt baked.txt "pvdb rows vs workspace"
# Rows come back in primary-key order without ORDER BY too.
pvdev sql --db airports.pvdb "SELECT * FROM airports" >baked-scan.txt
same got.txt baked-scan.txt "pvdb scan order"

# --- SELECTs agree with sqlite3 on a typed table ---------------------------
sqlite3 -batch ref.db <<EOF
CREATE TABLE airports(iata TEXT PRIMARY KEY, name TEXT, city TEXT, state TEXT,
                      country TEXT, latitude REAL, longitude REAL);
.mode csv
.import --skip 1 $csv airports
EOF
n=0
while IFS= read -r q; do
    [ -n "$q" ] || continue
    n=$((n + 1))
    sqlite3 -batch ref.db "$q" >"q$n.expect"
    pvdev sql "$q" >"q$n.ws" || fail "workspace: $q"
    pvdev sql --db airports.pvdb "$q" >"q$n.pvdb" || fail "pvdb: $q"
    same "q$n.expect" "q$n.ws" "workspace: $q"
    same "q$n.expect" "q$n.pvdb" "pvdb: $q"
done <<'EOF'
SELECT COUNT(*) FROM airports
SELECT state, COUNT(*) FROM airports GROUP BY state ORDER BY state
SELECT iata, name FROM airports WHERE state = 'CA' AND latitude > 37 ORDER BY iata
SELECT iata, city FROM airports WHERE city = 'Chicago' OR city = 'Houston' ORDER BY iata DESC LIMIT 5
SELECT COUNT(*) FROM airports WHERE latitude < 30 OR longitude > -80
SELECT iata, latitude FROM airports ORDER BY latitude DESC, iata LIMIT 10
SELECT name FROM airports WHERE iata = 'DBN'
SELECT state, COUNT(*) FROM airports WHERE country = 'USA' GROUP BY state ORDER BY COUNT(*) DESC, state LIMIT 5
SELECT iata FROM airports WHERE name = 'Thigpen' AND city = 'Bay Springs'
SELECT COUNT(*) FROM airports WHERE state = 'XX'
SELECT iata, state FROM airports WHERE latitude >= 64 AND latitude < 65 ORDER BY longitude LIMIT 7
EOF
[ "$n" -ge 10 ] || fail "ran only $n queries"

# --- bad input: clear errors, nothing committed lost -----------------------
cp -r .pv pv-before
before=$(git status --porcelain .pv)

printf 'iata,name\nAAA,one\nBBB,two,extra\n' >ragged.csv
expect_fail "ragged.csv:3" pvdev import more ragged.csv --key iata
printf 'iata,name\nAAA,ok\nBBB,bad \377 byte\n' >badutf8.csv
expect_fail "badutf8.csv:3" pvdev import more badutf8.csv --key iata
printf 'iata,name,city,state,country,latitude,longitude\nZZ1,A,B,CA,USA,1.5,2.5\nSFO,Dup,X,CA,USA,1.0,2.0\n' >dup.csv
expect_fail "SFO" pvdev import airports dup.csv
expect_fail "duplicate" pvdev sql "INSERT INTO airports VALUES ('SFO','x','y','CA','USA',1.0,2.0)"

# local state (.gitignore: lock, journal, cache) may change; committed files may not
diff -r -x lock -x journal -x cache pv-before .pv >/dev/null || fail "a failed import changed .pv/"
[ "$(git status --porcelain .pv)" = "$before" ] || fail "git sees changes after failed imports"
pvdev sql "SELECT COUNT(*) FROM airports" | grep -qx 3376 || fail "rows lost"

# --- damaged .pvdb files: an error, never a crash ---------------------------
size=$(wc -c <airports.pvdb)
for cut in 0 7 8 63 64 100 1000 $((size / 2)) $((size - 9)) $((size - 1)); do
    head -c "$cut" airports.pvdb >cut.pvdb
    expect_fail "" pvdev sql --db cut.pvdb "SELECT COUNT(*), MAX(name) FROM airports"
done
for off in 0 9 17 30 45 70 200 $((size / 3)) $((size / 2)) $((size - 20)); do
    cp airports.pvdb flip.pvdb
    printf '\377' | dd of=flip.pvdb bs=1 seek="$off" conv=notrunc 2>/dev/null
    # A flip may land in padding that no check covers; what must never happen
    # is a crash or a wrong answer presented as right.
    if pvdev sql --db flip.pvdb "SELECT * FROM airports ORDER BY iata" >flip.txt 2>flip.err; then
        same got.txt flip.txt "flipped byte at $off gave different rows without an error"
    else
        code=$?
        [ "$code" -eq 1 ] || fail "flipped byte at $off: exit $code ($(cat flip.err))"
    fi
done
echo "airports e2e: ok ($n queries compared with sqlite3)"
