/*
 * lookup.c: a tiny application of libpv, built with nothing but pv.h and
 * pkg-config:
 *
 *     cc lookup.c $(pkg-config --cflags --libs libpv) -o lookup
 *     ./lookup airports.pvdb SFO JFK 00M
 *
 * It prints the airport for each IATA code given, then the ten states with
 * the most airports. Values enter the query only as `?` parameters.
 */
#include <pv.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what)
{
    fprintf(stderr, "lookup: %s: %s\n", what, pv_errmsg());
    return 1;
}

/* One airport by its code, through a prepared statement reused per code. */
static int show_airport(pv_stmt *st, const char *code)
{
    int rc;
    pv_reset(st);
    if (pv_bind_text(st, 1, code, strlen(code)) != PV_OK) return fail("bind");
    rc = pv_step(st);
    if (rc == PV_ROW)
        printf("%-4s %s, %s, %s (%.4f, %.4f)\n", code, pv_column_text(st, 0),
               pv_column_text(st, 1), pv_column_text(st, 2), pv_column_double(st, 3),
               pv_column_double(st, 4));
    else if (rc == PV_DONE)
        printf("%-4s no such airport\n", code);
    else
        return fail("lookup");
    return 0;
}

static int per_state(pv_db *db)
{
    pv_stmt *st = NULL;
    int rc;
    const char *sql = "SELECT state, COUNT(*) AS airports FROM airports "
                      "GROUP BY state ORDER BY airports DESC, state LIMIT 10";
    if (pv_prepare(db, sql, (size_t)-1, &st, NULL) != PV_OK) return fail("prepare");
    printf("\nairports per state (top 10):\n");
    while ((rc = pv_step(st)) == PV_ROW)
        printf("  %-3s %5lld\n", pv_column_text(st, 0), (long long)pv_column_int64(st, 1));
    pv_finalize(st);
    return rc == PV_DONE ? 0 : fail("per state");
}

int main(int argc, char **argv)
{
    pv_db *db = NULL;
    pv_stmt *st = NULL;
    int i, rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: lookup FILE.pvdb [IATA...]\n");
        return 2;
    }
    if (pv_open(argv[1], PV_OPEN_READONLY, &db) != PV_OK) return fail(argv[1]);
    if (pv_prepare(db, "SELECT name, city, state, latitude, longitude FROM airports WHERE iata = ?",
                   (size_t)-1, &st, NULL) != PV_OK) {
        pv_close(db);
        return fail("prepare");
    }
    for (i = 2; i < argc && rc == 0; i++) rc = show_airport(st, argv[i]);
    pv_finalize(st);
    if (rc == 0) rc = per_state(db);
    pv_close(db);
    return rc;
}
