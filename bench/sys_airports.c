/*
 * sys_airports.c: the small table, examples/data/airports.csv (3,376 rows,
 * quoted fields), keyed by a TEXT primary key (iata). PicoVolt (pvdev
 * import --key iata + pvbake) against SQLite (`sqlite3` shell `.import` into
 * a table with `iata TEXT PRIMARY KEY`): the build, where fixed costs
 * dominate, and point lookups by a text key, whole row read out.
 */
#include "bench.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BENCH_NO_LIBPV
#include "pv.h"
#endif

#define AP_SQL "SELECT iata, name, city, state, country, latitude, longitude FROM airports WHERE iata = ?"
#define AP_NKEYS 100000

struct ap_row { char text[5][96]; double lat, lon; };

struct ap {
    struct bench *b;
    char csv[4096], log[4096];
    char (*codes)[8];
    long ncodes;
    const char **keys; /* AP_NKEYS picks from codes, fixed seed */
    long next;
    sqlite3 *db;
    sqlite3_stmt *st;
#ifndef BENCH_NO_LIBPV
    pv_db *pdb;
    pv_stmt *pst;
#endif
    uint64_t sink;
};

static void cp(char *dst, size_t cap, const char *s, size_t n)
{
    if (!s) n = 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, s, n);
    dst[n] = 0;
}

static uint64_t ap_hash(const struct ap_row *r)
{
    struct rowhash h;
    char num[64];
    rh_begin(&h);
    for (int i = 0; i < 5; i++) rh_text(&h, r->text[i], strlen(r->text[i]));
    rh_text(&h, num, (size_t)snprintf(num, sizeof num, "%.6f", r->lat));
    rh_text(&h, num, (size_t)snprintf(num, sizeof num, "%.6f", r->lon));
    return rh_end(&h);
}

/* ---- SQLite ------------------------------------------------------------------ */

static int sq_get(struct ap *a, const char *code, struct ap_row *r)
{
    int rc;
    sqlite3_bind_text(a->st, 1, code, -1, SQLITE_STATIC);
    rc = sqlite3_step(a->st);
    if (rc == SQLITE_ROW) {
        for (int i = 0; i < 5; i++)
            cp(r->text[i], sizeof r->text[i], (const char *)sqlite3_column_text(a->st, i),
               (size_t)sqlite3_column_bytes(a->st, i));
        r->lat = sqlite3_column_double(a->st, 5);
        r->lon = sqlite3_column_double(a->st, 6);
    }
    sqlite3_reset(a->st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static long sq_ops(void *ctx, long max, uint64_t deadline)
{
    struct ap *a = ctx;
    struct ap_row r;
    long i;
    for (i = 0; i < max; i++) {
        int rc = sq_get(a, a->keys[a->next++ % AP_NKEYS], &r);
        if (rc < 0) return -1;
        a->sink += (uint64_t)r.lat + (uint8_t)r.text[1][0];
        if ((i & 63) == 63 && now_ns() > deadline) return i + 1;
    }
    return i;
}

#ifndef BENCH_NO_LIBPV
static int pv_get1(struct ap *a, const char *code, struct ap_row *r)
{
    int rc;
    pv_reset(a->pst);
    if (pv_bind_text(a->pst, 1, code, strlen(code)) != PV_OK) return -1;
    rc = pv_step(a->pst);
    if (rc == PV_ROW) {
        for (int i = 0; i < 5; i++)
            cp(r->text[i], sizeof r->text[i], pv_column_text(a->pst, i), pv_column_bytes(a->pst, i));
        r->lat = pv_column_double(a->pst, 5);
        r->lon = pv_column_double(a->pst, 6);
    }
    return rc == PV_ROW ? 1 : rc == PV_DONE ? 0 : -1;
}

static long pv_ops(void *ctx, long max, uint64_t deadline)
{
    struct ap *a = ctx;
    struct ap_row r;
    long i;
    for (i = 0; i < max; i++) {
        int rc = pv_get1(a, a->keys[a->next++ % AP_NKEYS], &r);
        if (rc < 0) return -1;
        a->sink += (uint64_t)r.lat + (uint8_t)r.text[1][0];
        if (now_ns() > deadline) return i + 1;
    }
    return i;
}
#endif

/* The answer check: the first 32 keys and one that is absent. */
static uint64_t verify(struct ap *a, int (*get)(struct ap *, const char *, struct ap_row *), int *err)
{
    uint64_t h = 0x1234;
    struct ap_row r;
    for (int i = 0; i <= 32; i++) {
        const char *k = i < 32 ? a->keys[i] : "ZZZZ";
        int rc = get(a, k, &r);
        if (rc < 0) {
            *err = 1;
            return 0;
        }
        h = check_mix(h ^ (rc ? ap_hash(&r) : 77));
    }
    return h;
}

static void set_check(struct bench *b, enum op_id op, enum sys_col col, uint64_t h)
{
    struct cell *c = &b->cells[op][col];
    if (c->state != CELL_OK) return;
    c->has_check = 1;
    c->check = h;
    c->answer_rows = 33;
}

static int load_codes(struct ap *a)
{
    FILE *f = fopen(a->csv, "r");
    char line[1024];
    long cap = 0;
    if (!f) return -1;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, ",\r\n");
        if (n == 0 || n >= 8 || line[0] == '"') continue;
        if (a->ncodes == cap) {
            cap = cap ? cap * 2 : 4096;
            a->codes = realloc(a->codes, (size_t)cap * sizeof *a->codes);
            if (!a->codes) die("out of memory");
        }
        memcpy(a->codes[a->ncodes], line, n);
        a->codes[a->ncodes++][n] = 0;
    }
    fclose(f);
    return a->ncodes > 0 ? 0 : -1;
}

void sys_airports(struct bench *b)
{
    struct ap a;
    char db[4096], script[4096];
    double t[8];
    int runs = b->runs, bruns = b->quick ? 2 : b->runs, err = 0;
    uint64_t x = 0xa1a2a3a4a5a6a7a8ULL;

    memset(&a, 0, sizeof a);
    a.b = b;
    snprintf(a.csv, sizeof a.csv, "%s/examples/data/airports.csv", b->top);
    snprintf(a.log, sizeof a.log, "%s/airports.log", b->cache);
    remove(a.log);
    if (load_codes(&a) != 0) {
        cell_na(b, OP_AP_BUILD, COL_PV, "cannot read '%s'", a.csv);
        cell_na(b, OP_AP_BUILD, COL_SQLITE_MMAP, "cannot read '%s'", a.csv);
        return;
    }
    a.keys = malloc(AP_NKEYS * sizeof *a.keys);
    if (!a.keys) die("out of memory");
    for (long i = 0; i < AP_NKEYS; i++) {
        x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
        a.keys[i] = a.codes[(x * 0x2545F4914F6CDD1DULL) % (uint64_t)a.ncodes];
    }
    b->ap_rows = a.ncodes;
    say("airports: %ld rows, builds and text-key lookups", a.ncodes);

    /* SQLite: shell .import, then the lookups on the file it made */
    snprintf(db, sizeof db, "%s/airports.db", b->cache);
    snprintf(script, sizeof script, "%s/airports-import.sql", b->cache);
    {
        FILE *f = fopen(script, "w");
        if (!f) die("cannot write '%s'", script);
        fprintf(f, ".bail on\nCREATE TABLE airports(iata TEXT PRIMARY KEY, name TEXT, city TEXT, "
                   "state TEXT, country TEXT, latitude REAL, longitude REAL);\n"
                   ".import --csv --skip 1 '%s' airports\n", a.csv);
        fclose(f);
    }
    for (int i = -1; i < bruns; i++) {
        char *argv[] = {"sqlite3", db, NULL};
        remove(db);
        if (run_cmd(NULL, script, a.log, &t[i < 0 ? 0 : i], argv) != 0) {
            cell_na(b, OP_AP_BUILD, COL_SQLITE_MMAP, "sqlite3 .import failed: %s", log_tail(a.log));
            goto pv;
        }
    }
    cell_values(b, OP_AP_BUILD, COL_SQLITE_MMAP, t, bruns);
    if (sqlite3_open_v2(db, &a.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_exec(a.db, "PRAGMA mmap_size=1000000000", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(a.db, AP_SQL, -1, &a.st, NULL) != SQLITE_OK) {
        cell_na(b, OP_AP_LOOKUP, COL_SQLITE_MMAP, "%s", sqlite3_errmsg(a.db));
    } else {
        uint64_t h = verify(&a, sq_get, &err);
        if (err) cell_na(b, OP_AP_LOOKUP, COL_SQLITE_MMAP, "lookup failed");
        else {
            measure_ops(b, OP_AP_LOOKUP, COL_SQLITE_MMAP, sq_ops, &a, AP_NKEYS, b->quick ? 0.05 : 1, runs);
            set_check(b, OP_AP_LOOKUP, COL_SQLITE_MMAP, h);
        }
    }
    sqlite3_finalize(a.st);
    sqlite3_close(a.db);
pv:
#ifdef BENCH_NO_LIBPV
    cell_na(b, OP_AP_BUILD, COL_PV, "%s", b->pv_why ? b->pv_why : "libpv not linked into the harness");
    cell_na(b, OP_AP_LOOKUP, COL_PV, "%s", b->pv_why ? b->pv_why : "libpv not linked into the harness");
#else
    {
        char pvdev[4096], pvbake[4096], ws[4096], pvdb[4096];
        snprintf(pvdev, sizeof pvdev, "%s/pvdev", b->build);
        snprintf(pvbake, sizeof pvbake, "%s/pvbake", b->build);
        snprintf(ws, sizeof ws, "%s/pv-airports", b->cache);
        snprintf(pvdb, sizeof pvdb, "%s/airports.pvdb", b->cache);
        char *init[] = {pvdev, "init", NULL};
        char *import[] = {pvdev, "import", "airports", a.csv, "--key", "iata", NULL};
        char *bake[] = {pvbake, "-o", pvdb, NULL};
        for (int i = -1; i < bruns; i++) {
            double t1, t2, t3;
            rm_rf(ws);
            char *ginit[] = {"git", "init", "-q", NULL};
            if (mkdir_p(ws) != 0 || run_cmd(ws, NULL, a.log, &t1, ginit) != 0 ||
                run_cmd(ws, NULL, a.log, &t1, init) != 0 ||
                run_cmd(ws, NULL, a.log, &t2, import) != 0 || run_cmd(ws, NULL, a.log, &t3, bake) != 0) {
                cell_na(b, OP_AP_BUILD, COL_PV, "pvdev/pvbake failed: %s", log_tail(a.log));
                cell_na(b, OP_AP_LOOKUP, COL_PV, "pvdev/pvbake failed: %s", log_tail(a.log));
                goto done;
            }
            if (i >= 0) t[i] = t1 + t2 + t3;
        }
        cell_values(b, OP_AP_BUILD, COL_PV, t, bruns);
        if (pv_open(pvdb, PV_OPEN_READONLY, &a.pdb) != PV_OK ||
            pv_prepare(a.pdb, AP_SQL, (size_t)-1, &a.pst, NULL) != PV_OK) {
            cell_na(b, OP_AP_LOOKUP, COL_PV, "%s", pv_errmsg());
        } else {
            uint64_t h = verify(&a, pv_get1, &err);
            if (err) cell_na(b, OP_AP_LOOKUP, COL_PV, "lookup failed: %s", pv_errmsg());
            else {
                measure_ops(b, OP_AP_LOOKUP, COL_PV, pv_ops, &a, AP_NKEYS, b->quick ? 0.05 : 1, runs);
                set_check(b, OP_AP_LOOKUP, COL_PV, h);
            }
        }
        pv_finalize(a.pst);
        pv_close(a.pdb);
    }
done:
#endif
    bench_sink += a.sink;
    free(a.keys);
    free(a.codes);
}
