/*
 * test_sql_diff.c: differential test of the SQL engine against SQLite.
 *
 * Each round makes a fresh workspace and an in-memory SQLite database with
 * the same generated tables (INTEGER, REAL, TEXT and BOOLEAN columns with
 * NULLs, duplicates, negative numbers, empty strings and non-ASCII text;
 * INTEGER, TEXT, composite or no primary key; a few tables larger than one
 * batch), then runs generated queries from the supported subset through
 * both and compares the results, then generated writes (UPDATE, DELETE,
 * INSERT OR REPLACE/IGNORE, upsert) and compares the tables after each.
 *
 * Results compare as multisets of typed rows (BOOLEAN counts as INTEGER;
 * REAL by value with a relative tolerance of 1e-12); when the query has an
 * ORDER BY that fixes the order (every output column is a tie-breaker) the
 * sequence must also agree, with numbers that compare equal counting as
 * ties. LIMIT/OFFSET only appear with such an ORDER BY. Both failing is
 * agreement; one failing is a mismatch.
 *
 * The generator avoids the differences docs/SQL.md lists as deliberate
 * (REAL as text, CAST AS BOOLEAN, typeof of a BOOLEAN, bare columns of an
 * aggregate query, values a STRICT column refuses, UPDATEs that move keys
 * onto keys the statement also moves).
 *
 * SQLite is the system library, loaded with dlopen (libsqlite3.so.0), so
 * the test needs no link flag. Environment:
 *   PV_DIFF_QUERIES  queries to run (default 10000; `make fuzz-sql` runs more)
 *   PV_DIFF_SEED     the generator's seed (default 20240601)
 *   PV_DIFF_VERBOSE  1: print each round's setup SQL with a mismatch
 */
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "pv.h"
#include "test_sql_util.h"

/* ---- SQLite through dlopen ---------------------------------------------------------- */

static struct {
    void *lib;
    int (*open)(const char *, sqlite3 **);
    int (*close)(sqlite3 *);
    int (*exec)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **);
    int (*prepare)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **);
    int (*step)(sqlite3_stmt *);
    int (*finalize)(sqlite3_stmt *);
    int (*column_count)(sqlite3_stmt *);
    int (*column_type)(sqlite3_stmt *, int);
    sqlite3_int64 (*column_int64)(sqlite3_stmt *, int);
    double (*column_double)(sqlite3_stmt *, int);
    const unsigned char *(*column_text)(sqlite3_stmt *, int);
    int (*column_bytes)(sqlite3_stmt *, int);
    const char *(*errmsg)(sqlite3 *);
    void (*free)(void *);
} sq;

static int sqlite_load(void)
{
    if (sq.lib) return 0;
    if (!(sq.lib = dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_LOCAL))) {
        fprintf(stderr, "cannot load libsqlite3.so.0: %s\n", dlerror());
        return -1;
    }
#define SQ(field, name)                                                   \
    do {                                                                  \
        void *sym = dlsym(sq.lib, name);                                  \
        if (!sym) return fprintf(stderr, "libsqlite3: no %s\n", name), -1; \
        memcpy(&sq.field, &sym, sizeof sym);                              \
    } while (0)
    SQ(open, "sqlite3_open");
    SQ(close, "sqlite3_close");
    SQ(exec, "sqlite3_exec");
    SQ(prepare, "sqlite3_prepare_v2");
    SQ(step, "sqlite3_step");
    SQ(finalize, "sqlite3_finalize");
    SQ(column_count, "sqlite3_column_count");
    SQ(column_type, "sqlite3_column_type");
    SQ(column_int64, "sqlite3_column_int64");
    SQ(column_double, "sqlite3_column_double");
    SQ(column_text, "sqlite3_column_text");
    SQ(column_bytes, "sqlite3_column_bytes");
    SQ(errmsg, "sqlite3_errmsg");
    SQ(free, "sqlite3_free");
#undef SQ
    return 0;
}

/* ---- results --------------------------------------------------------------------- */

enum { C_NULL, C_INT, C_REAL, C_TEXT, C_BLOB };

typedef struct cell {
    int cls;
    int64_t i;
    double f;
    char *s;
    size_t n;
} cell;

typedef struct result {
    int failed;      /* the statement failed */
    char err[160];
    int ncols;
    size_t nrows, cap;
    cell *cells;     /* nrows * ncols */
} result;

static cell *add_row(result *r)
{
    if (r->nrows == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 16;
        cell *n = realloc(r->cells, nc * (size_t)(r->ncols ? r->ncols : 1) * sizeof *n);
        assert_non_null(n);
        r->cells = n;
        r->cap = nc;
    }
    return &r->cells[r->nrows++ * (size_t)r->ncols];
}

static void set_text(cell *c, int cls, const void *p, size_t n)
{
    c->cls = cls;
    c->s = malloc(n + 1);
    assert_non_null(c->s);
    if (n) memcpy(c->s, p, n);
    c->s[n] = 0;
    c->n = n;
}

static void result_free(result *r)
{
    size_t i;
    for (i = 0; i < r->nrows * (size_t)r->ncols; i++) free(r->cells[i].s);
    free(r->cells);
    memset(r, 0, sizeof *r);
}

static void run_pv(pv_db *db, const char *sql, result *r)
{
    pv_stmt *st = NULL;
    int rc, c;
    memset(r, 0, sizeof *r);
    rc = pv_prepare(db, sql, (size_t)-1, &st, NULL);
    if (rc == 0 && st) {
        r->ncols = pv_column_count(st);
        while ((rc = pv_step(st)) == PV_ROW) {
            cell *row = add_row(r);
            for (c = 0; c < r->ncols; c++) {
                cell *x = &row[c];
                memset(x, 0, sizeof *x);
                switch (pv_column_type(st, c)) {
                case PV_NULL: x->cls = C_NULL; break;
                case PV_INTEGER:
                case PV_BOOLEAN: x->cls = C_INT; x->i = pv_column_int64(st, c); break;
                case PV_REAL: x->cls = C_REAL; x->f = pv_column_double(st, c); break;
                case PV_TEXT: set_text(x, C_TEXT, pv_column_text(st, c), pv_column_bytes(st, c)); break;
                default: set_text(x, C_BLOB, pv_column_blob(st, c), pv_column_bytes(st, c)); break;
                }
            }
        }
    }
    pv_finalize(st);
    if (rc < 0) {
        r->failed = 1;
        snprintf(r->err, sizeof r->err, "%s", pv_errmsg());
    }
}

static void run_sq(sqlite3 *db, const char *sql, result *r)
{
    sqlite3_stmt *st = NULL;
    int rc, c;
    memset(r, 0, sizeof *r);
    rc = sq.prepare(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && st) {
        r->ncols = sq.column_count(st);
        while ((rc = sq.step(st)) == SQLITE_ROW) {
            cell *row = add_row(r);
            for (c = 0; c < r->ncols; c++) {
                cell *x = &row[c];
                memset(x, 0, sizeof *x);
                switch (sq.column_type(st, c)) {
                case SQLITE_NULL: x->cls = C_NULL; break;
                case SQLITE_INTEGER: x->cls = C_INT; x->i = sq.column_int64(st, c); break;
                case SQLITE_FLOAT: x->cls = C_REAL; x->f = sq.column_double(st, c); break;
                case SQLITE_TEXT:
                    set_text(x, C_TEXT, sq.column_text(st, c), (size_t)sq.column_bytes(st, c));
                    break;
                default: set_text(x, C_BLOB, sq.column_text(st, c), (size_t)sq.column_bytes(st, c)); break;
                }
            }
        }
        if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) {
        r->failed = 1;
        snprintf(r->err, sizeof r->err, "%s", sq.errmsg(db));
    }
    sq.finalize(st);
}

/* Relative tolerance 1e-12, and an absolute one for sums that cancel to
 * about zero: libpv sums REALs with compensation, SQLite 3.40 does not
 * (docs/SQL.md), so 0.0 against -3.5e-18 is agreement. */
static int real_eq(double a, double b)
{
    double d;
    if (a == b) return 1;
    d = fabs(a - b);
    return d <= 1e-12 * fmax(fabs(a), fabs(b)) || d <= 1e-12;
}

/* Typed equality. */
static int cell_eq(const cell *a, const cell *b)
{
    if (a->cls != b->cls) return 0;
    switch (a->cls) {
    case C_NULL: return 1;
    case C_INT: return a->i == b->i;
    case C_REAL: return real_eq(a->f, b->f);
    default: return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
    }
}

/* SQLite's order: NULL, numbers by value, text, blob. `loose` makes
 * numbers within the tolerance equal (ties of an ORDER BY). */
static int cell_cmp(const cell *a, const cell *b, int loose)
{
    int ca = a->cls == C_REAL ? C_INT : a->cls, cb = b->cls == C_REAL ? C_INT : b->cls;
    if (ca != cb) return ca < cb ? -1 : 1;
    if (ca == C_NULL) return 0;
    if (ca == C_INT) {
        double x, y;
        if (a->cls == C_INT && b->cls == C_INT) return a->i < b->i ? -1 : a->i > b->i;
        x = a->cls == C_INT ? (double)a->i : a->f;
        y = b->cls == C_INT ? (double)b->i : b->f;
        if (loose && real_eq(x, y)) return 0;
        if (x != y) return x < y ? -1 : 1;
        return loose ? 0 : (a->cls > b->cls) - (a->cls < b->cls);
    }
    {
        size_t n = a->n < b->n ? a->n : b->n;
        int c = memcmp(a->s, b->s, n);
        if (c) return c;
        return a->n < b->n ? -1 : a->n > b->n;
    }
}

static int g_ncols;
static int row_cmp(const void *x, const void *y)
{
    const cell *a = *(cell *const *)x, *b = *(cell *const *)y;
    int i, c;
    for (i = 0; i < g_ncols; i++)
        if ((c = cell_cmp(&a[i], &b[i], 0))) return c;
    return 0;
}

static cell **sorted_rows(const result *r)
{
    cell **rows = malloc((r->nrows + 1) * sizeof *rows);
    size_t i;
    assert_non_null(rows);
    for (i = 0; i < r->nrows; i++) rows[i] = &r->cells[i * (size_t)r->ncols];
    g_ncols = r->ncols;
    qsort(rows, r->nrows, sizeof *rows, row_cmp);
    return rows;
}

/* 1 when the results agree. */
static int results_agree(const result *a, const result *b, int ordered)
{
    cell **x, **y;
    size_t i;
    int c, ok = 1;
    if (a->failed || b->failed) return a->failed && b->failed;
    if (a->ncols != b->ncols || a->nrows != b->nrows) return 0;
    if (ordered) {
        for (i = 0; i < a->nrows && ok; i++)
            for (c = 0; c < a->ncols && ok; c++)
                ok = cell_cmp(&a->cells[i * a->ncols + c], &b->cells[i * b->ncols + c], 1) == 0;
        if (!ok) return 0;
    }
    x = sorted_rows(a);
    y = sorted_rows(b);
    for (i = 0; i < a->nrows && ok; i++)
        for (c = 0; c < a->ncols && ok; c++) ok = cell_eq(&x[i][c], &y[i][c]);
    free(x);
    free(y);
    return ok;
}

static void print_result(const char *who, const result *r)
{
    size_t i;
    int c;
    if (r->failed) {
        fprintf(stderr, "  %s: error: %s\n", who, r->err);
        return;
    }
    fprintf(stderr, "  %s: %zu rows\n", who, r->nrows);
    for (i = 0; i < r->nrows && i < 12; i++) {
        fprintf(stderr, "    ");
        for (c = 0; c < r->ncols; c++) {
            const cell *x = &r->cells[i * r->ncols + c];
            if (c) fputc('|', stderr);
            switch (x->cls) {
            case C_NULL: fprintf(stderr, "NULL"); break;
            case C_INT: fprintf(stderr, "%lld", (long long)x->i); break;
            case C_REAL: fprintf(stderr, "%.17g(r)", x->f); break;
            default: fprintf(stderr, "'%s'", x->s); break;
            }
        }
        fputc('\n', stderr);
    }
}

/* ---- random ---------------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int rn(int n) { return (int)(rnd() % (uint64_t)n); }
static int chance(int pct) { return rn(100) < pct; }

/* ---- schema and data ------------------------------------------------------------- */

enum { T_INT, T_REAL, T_TEXT, T_BOOL };
static const char *const TYPE_SQL[] = {"INTEGER", "REAL", "TEXT", "BOOLEAN"};

#define MAX_COLS 8
#define NTABLES 3

typedef struct tdef {
    char name[16];
    int ncols;
    char cols[MAX_COLS][16];
    int type[MAX_COLS];
    int pk[2];        /* key columns, -1 unused */
    int npk;          /* 0: no PRIMARY KEY (hidden key) */
    int nrows;
    int64_t next_key; /* fresh INTEGER keys for inserts */
} tdef;

typedef struct round {
    pv_db *db;
    sqlite3 *sq;
    char dir[64];
    tdef t[NTABLES];
    pv_buf setup;     /* the round's CREATE and INSERT text */
    int moves;        /* key-moving UPDATEs so far (fresh key ranges) */
} round_t;

static const char *const TEXTS[] = {
    "", "a", "A", "abc", "Abc", "b", "ab%", "a_c", "x y", " lead", "trail ", "10", "9", "-5",
    "0.5", "1e3", "NULL", "it''s", "\xc3\xa9", "\xc3\xbc" "ber", "\xe6\x97\xa5\xe6\x9c\xac", "zzz", "Bo", "bob",
};
#define NTEXTS (int)(sizeof TEXTS / sizeof TEXTS[0])

static void lit_int(pv_buf *b)
{
    static const int64_t pool[] = {0, 1, -1, 2, 3, 5, 7, 10, -7, 42, 100, -100, 1000000, 1099511627776};
    if (chance(60)) pv_buf_printf(b, "%d", rn(41) - 20);
    else pv_buf_printf(b, "%lld", (long long)pool[rn((int)(sizeof pool / sizeof pool[0]))]);
}

/* Reals that are multiples of 1/4 (exact sums) and a few large ones. */
static void lit_real(pv_buf *b)
{
    static const char *const pool[] = {"0.0", "0.5", "1.5", "-2.25", "3.0", "2.5", "100.0", "1e10", "-0.75", "12.25"};
    if (chance(50)) pv_buf_printf(b, "%.2f", (rn(161) - 80) / 4.0);
    else pv_buf_printf(b, "%s", pool[rn((int)(sizeof pool / sizeof pool[0]))]);
}

static void lit_text(pv_buf *b) { pv_buf_printf(b, "'%s'", TEXTS[rn(NTEXTS)]); }

static void lit_of(pv_buf *b, int type)
{
    switch (type) {
    case T_INT: lit_int(b); break;
    case T_REAL: lit_real(b); break;
    case T_TEXT: lit_text(b); break;
    default: pv_buf_printf(b, "%s", chance(50) ? (chance(50) ? "TRUE" : "1") : (chance(50) ? "FALSE" : "0"));
    }
}

static void value_of(pv_buf *b, int type, int nullable)
{
    if (nullable && chance(15)) pv_buf_printf(b, "NULL");
    else lit_of(b, type);
}

static void make_schema(tdef *t, int idx)
{
    int i, kind = rn(4), big = chance(8);
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "t%d", idx);
    t->ncols = 2 + rn(5);
    t->pk[0] = t->pk[1] = -1;
    for (i = 0; i < t->ncols; i++) {
        snprintf(t->cols[i], sizeof t->cols[i], "c%d", i);
        t->type[i] = rn(4);
    }
    switch (kind) {
    case 0: t->type[0] = T_INT, t->pk[0] = 0, t->npk = 1; break;  /* INTEGER key */
    case 1: t->type[0] = T_TEXT, t->pk[0] = 0, t->npk = 1; break; /* TEXT key */
    case 2:                                                       /* composite */
        t->type[0] = T_TEXT, t->type[1] = T_INT, t->pk[0] = 0, t->pk[1] = 1, t->npk = 2;
        if (t->ncols < 3) t->ncols = 3, snprintf(t->cols[2], sizeof t->cols[2], "c2"), t->type[2] = rn(4);
        break;
    default: t->npk = 0; break; /* hidden key */
    }
    t->nrows = big ? 1100 + rn(2500) : rn(40);
}

static int is_pk(const tdef *t, int c) { return c == t->pk[0] || c == t->pk[1]; }

/* Key values: INTEGER keys from a range with gaps; TEXT keys from the
 * text pool or numbered; composite from a small grid. */
static void key_sql(pv_buf *b, const tdef *t, int row, int part)
{
    if (t->type[t->pk[part]] == T_INT) {
        pv_buf_printf(b, "%d", t->npk == 2 ? row % 7 - 3 : row * 3 - 40);
    } else if (t->npk == 2) {
        if (row / 7 < NTEXTS) pv_buf_printf(b, "'%s'", TEXTS[row / 7]);
        else pv_buf_printf(b, "'g%d'", row / 7);
    } else if (row < NTEXTS) {
        pv_buf_printf(b, "'%s'", TEXTS[row]);
    } else {
        pv_buf_printf(b, "'k%d'", row);
    }
}

static void create_sql(pv_buf *b, const tdef *t)
{
    int i;
    pv_buf_printf(b, "CREATE TABLE %s (", t->name);
    for (i = 0; i < t->ncols; i++)
        pv_buf_printf(b, "%s%s %s", i ? ", " : "", t->cols[i], TYPE_SQL[t->type[i]]);
    if (t->npk == 1) pv_buf_printf(b, ", PRIMARY KEY (%s)", t->cols[t->pk[0]]);
    if (t->npk == 2) pv_buf_printf(b, ", PRIMARY KEY (%s, %s)", t->cols[t->pk[0]], t->cols[t->pk[1]]);
    pv_buf_printf(b, ");\n");
}

static void insert_sql(pv_buf *b, const tdef *t)
{
    int r, i;
    if (!t->nrows) return;
    pv_buf_printf(b, "INSERT INTO %s VALUES ", t->name);
    for (r = 0; r < t->nrows; r++) {
        pv_buf_printf(b, "%s(", r ? ", " : "");
        for (i = 0; i < t->ncols; i++) {
            if (i) pv_buf_printf(b, ", ");
            if (is_pk(t, i)) key_sql(b, t, r, i == t->pk[0] ? 0 : 1);
            else value_of(b, t->type[i], 1);
        }
        pv_buf_printf(b, ")");
    }
    pv_buf_printf(b, ";\n");
}

/* ---- expressions ------------------------------------------------------------------- */

/* Expression kinds the generator tracks, so it never asks for a REAL's
 * text (deliberately different: shortest round trip vs %.15g). */
enum { K_INT, K_REAL, K_TEXT };

typedef struct qctx qctx;
static void gen_num(pv_buf *b, const qctx *q, int depth, int *kind);
static void gen_text(pv_buf *b, const qctx *q, int depth);
static void gen_cond(pv_buf *b, const qctx *q, int depth);

struct qctx {
    const tdef *t;
    const char *qual;  /* "" or "x." / "t0." */
    int allow_agg;
    /* Under DISTINCT and in aggregates, an expression whose value may be
     * INTEGER on one row and an equal REAL on another (CASE 7 ... ELSE 7.0)
     * keeps whichever row comes first, and SQLite's scan order (rowid) is
     * not libpv's (key): the branches are made both REAL. */
    int no_mix;
};

/* Two numeric operands into `b` as "a<sep>b", made both REAL under no_mix
 * when their kinds differ. */
static void mixed_pair(pv_buf *b, const qctx *q, int depth, const char *sep, int *kind)
{
    pv_buf x = PV_BUF_INIT, y = PV_BUF_INIT;
    int k1, k2;
    gen_num(&x, q, depth, &k1);
    gen_num(&y, q, depth, &k2);
    pv_buf_putc(&x, 0);
    pv_buf_putc(&y, 0);
    if (q->no_mix && k1 != k2)
        pv_buf_printf(b, k1 == K_INT ? "(%s) * 1.0%s%s" : "%s%s(%s) * 1.0", x.p, sep, y.p);
    else
        pv_buf_printf(b, "%s%s%s", x.p, sep, y.p);
    *kind = k1 == K_REAL || k2 == K_REAL ? K_REAL : K_INT;
    pv_buf_free(&x);
    pv_buf_free(&y);
}


/* A column of the wanted kind, or -1. BOOLEAN counts as INTEGER. */
static int pick_col(const tdef *t, int kind)
{
    int tries;
    for (tries = 0; tries < 12 && t->ncols; tries++) {
        int c = rn(t->ncols), k = t->type[c] == T_REAL ? K_REAL : t->type[c] == T_TEXT ? K_TEXT : K_INT;
        if (k == kind || (kind == K_REAL && k == K_INT)) return c;
    }
    return -1;
}

static void col_ref(pv_buf *b, const qctx *q, int c) { pv_buf_printf(b, "%s%s", q->qual, q->t->cols[c]); }

static void gen_num(pv_buf *b, const qctx *q, int depth, int *kind)
{
    int c, k1, k2, r = depth <= 0 ? rn(3) : rn(16);
    *kind = K_INT;
    switch (r) {
    case 0:
        if ((c = pick_col(q->t, chance(50) ? K_INT : K_REAL)) >= 0) {
            col_ref(b, q, c);
            *kind = q->t->type[c] == T_REAL ? K_REAL : K_INT;
            return;
        }
        /* fall through */
    case 1: lit_int(b); return;
    case 2:
        if (chance(30)) {
            lit_real(b);
            *kind = K_REAL;
        } else {
            lit_int(b);
        }
        return;
    case 3:
    case 4:
    case 5: {
        static const char *const ops[] = {"+", "-", "*", "/", "%"};
        pv_buf_printf(b, "(");
        gen_num(b, q, depth - 1, &k1);
        pv_buf_printf(b, " %s ", ops[rn(5)]);
        gen_num(b, q, depth - 1, &k2);
        pv_buf_printf(b, ")");
        *kind = k1 == K_REAL || k2 == K_REAL ? K_REAL : K_INT;
        return;
    }
    case 6: /* "- -7", never "--7" (a comment) */
        pv_buf_printf(b, "- ");
        gen_num(b, q, depth - 1, kind);
        return;
    case 7:
        pv_buf_printf(b, "abs(");
        gen_num(b, q, depth - 1, kind);
        pv_buf_printf(b, ")");
        return;
    case 8:
        pv_buf_printf(b, "length(");
        gen_text(b, q, depth - 1);
        pv_buf_printf(b, ")");
        return;
    case 9:
        pv_buf_printf(b, "round(");
        gen_num(b, q, depth - 1, &k1);
        if (chance(50)) pv_buf_printf(b, ", %d", rn(4));
        pv_buf_printf(b, ")");
        *kind = K_REAL;
        return;
    case 10: {
        static const char *const fns[] = {"coalesce", "ifnull", "nullif", "min", "max"};
        pv_buf_printf(b, "%s(", fns[rn(5)]);
        mixed_pair(b, q, depth - 1, ", ", kind);
        pv_buf_printf(b, ")");
        return;
    }
    case 11:
        pv_buf_printf(b, "CASE WHEN ");
        gen_cond(b, q, depth - 1);
        pv_buf_printf(b, " THEN ");
        mixed_pair(b, q, depth - 1, " ELSE ", kind);
        pv_buf_printf(b, " END");
        return;
    case 12:
        pv_buf_printf(b, "CAST(");
        if (chance(50)) gen_text(b, q, depth - 1);
        else gen_num(b, q, depth - 1, &k1);
        *kind = chance(50) ? K_INT : K_REAL;
        pv_buf_printf(b, " AS %s)", *kind == K_INT ? "INTEGER" : "REAL");
        return;
    case 13:
        pv_buf_printf(b, "(");
        gen_cond(b, q, depth - 1);
        pv_buf_printf(b, ")");
        return;
    default:
        if (q->allow_agg && depth > 0) {
            static const char *const aggs[] = {"count", "sum", "min", "max", "total", "avg"};
            int a = rn(6);
            if (a == 0 && chance(30)) {
                pv_buf_printf(b, "count(*)");
                return;
            }
            pv_buf_printf(b, "%s(%s", aggs[a], chance(15) ? "DISTINCT " : "");
            gen_num(b, &(qctx){q->t, q->qual, 0, 1}, depth - 1, &k1);
            pv_buf_printf(b, ")");
            *kind = a == 0 ? K_INT : a >= 4 ? K_REAL : k1;
            return;
        }
        lit_int(b);
        return;
    }
}

static void gen_text(pv_buf *b, const qctx *q, int depth)
{
    int c, k, r = depth <= 0 ? rn(2) : rn(10);
    switch (r) {
    case 0:
        if ((c = pick_col(q->t, K_TEXT)) >= 0) {
            col_ref(b, q, c);
            return;
        }
        /* fall through */
    case 1: lit_text(b); return;
    case 2:
        pv_buf_printf(b, "%s(", chance(50) ? "lower" : "upper");
        gen_text(b, q, depth - 1);
        pv_buf_printf(b, ")");
        return;
    case 3:
        pv_buf_printf(b, "(");
        gen_text(b, q, depth - 1);
        pv_buf_printf(b, " || ");
        if (chance(50)) {
            gen_text(b, q, depth - 1);
        } else {
            /* integers only: a REAL's text is a deliberate difference */
            int c2 = pick_col(q->t, K_INT);
            if (c2 >= 0 && q->t->type[c2] == T_INT) col_ref(b, q, c2);
            else lit_int(b);
        }
        pv_buf_printf(b, ")");
        return;
    case 4:
        pv_buf_printf(b, "substr(");
        gen_text(b, q, depth - 1);
        pv_buf_printf(b, ", %d", rn(7) - 3);
        if (chance(60)) pv_buf_printf(b, ", %d", rn(6) - 2);
        pv_buf_printf(b, ")");
        return;
    case 5: {
        static const char *const fns[] = {"trim", "ltrim", "rtrim"};
        pv_buf_printf(b, "%s(", fns[rn(3)]);
        gen_text(b, q, depth - 1);
        if (chance(40)) pv_buf_printf(b, ", 'a '");
        pv_buf_printf(b, ")");
        return;
    }
    case 6: {
        static const char *const fns[] = {"coalesce", "ifnull", "nullif"};
        pv_buf_printf(b, "%s(", fns[rn(3)]);
        gen_text(b, q, depth - 1);
        pv_buf_printf(b, ", ");
        gen_text(b, q, depth - 1);
        pv_buf_printf(b, ")");
        return;
    }
    case 7:
        pv_buf_printf(b, "CASE ");
        gen_text(b, q, depth - 1);
        pv_buf_printf(b, " WHEN ");
        gen_text(b, q, depth - 1);
        pv_buf_printf(b, " THEN ");
        gen_text(b, q, depth - 1);
        if (chance(60)) {
            pv_buf_printf(b, " ELSE ");
            gen_text(b, q, depth - 1);
        }
        pv_buf_printf(b, " END");
        return;
    case 8:
        pv_buf_printf(b, "CAST(");
        c = pick_col(q->t, K_INT);
        if (c >= 0 && q->t->type[c] == T_INT) col_ref(b, q, c);
        else gen_text(b, q, depth - 1);
        pv_buf_printf(b, " AS TEXT)");
        return;
    default:
        if (q->allow_agg && depth > 0) {
            pv_buf_printf(b, "%s(", chance(50) ? "min" : "max");
            gen_text(b, &(qctx){q->t, q->qual, 0, 1}, depth - 1);
            pv_buf_printf(b, ")");
            return;
        }
        (void)k;
        lit_text(b);
        return;
    }
}

/* Any scalar: numeric or text. */
static void gen_any(pv_buf *b, const qctx *q, int depth, int *kind)
{
    if (chance(35)) {
        gen_text(b, q, depth);
        *kind = K_TEXT;
    } else {
        gen_num(b, q, depth, kind);
    }
}

static void gen_like_pattern(pv_buf *b)
{
    static const char *const pats[] = {"'a%'", "'%b%'", "'_'", "'%'", "''", "'A_c'", "'%\xc3\xa9%'", "'1%'",
                                       "'%e'", "'b_b'", "'%a%c%'"};
    pv_buf_printf(b, "%s", pats[rn((int)(sizeof pats / sizeof pats[0]))]);
}

/* A key predicate on the table's first key column, to exercise lookups and
 * bounds. */
static void gen_key_pred(pv_buf *b, const qctx *q)
{
    const tdef *t = q->t;
    int c = t->pk[0], k, i, n;
    if (c < 0) {
        gen_cond(b, q, 1);
        return;
    }
    k = t->type[c] == T_INT ? K_INT : K_TEXT;
    switch (rn(6)) {
    case 0:
    case 1:
        col_ref(b, q, c);
        pv_buf_printf(b, " = ");
        if (k == K_INT) lit_int(b);
        else lit_text(b);
        break;
    case 2:
        col_ref(b, q, c);
        pv_buf_printf(b, " IN (");
        for (i = 0, n = 1 + rn(5); i < n; i++) {
            if (i) pv_buf_printf(b, ", ");
            if (chance(10)) pv_buf_printf(b, "NULL");
            else if (k == K_INT) (chance(80) ? lit_int(b) : lit_text(b));
            else (chance(80) ? lit_text(b) : lit_int(b));
        }
        pv_buf_printf(b, ")");
        break;
    case 3: {
        static const char *const ops[] = {"<", "<=", ">", ">="};
        col_ref(b, q, c);
        pv_buf_printf(b, " %s ", ops[rn(4)]);
        if (k == K_INT) pv_buf_printf(b, "%d", rn(900) - 100);
        else lit_text(b);
        break;
    }
    case 4:
        col_ref(b, q, c);
        if (k == K_INT) pv_buf_printf(b, " BETWEEN %d AND %d", rn(300) - 50, rn(900) - 50);
        else pv_buf_printf(b, " BETWEEN '%s' AND '%s'", TEXTS[rn(NTEXTS)], TEXTS[rn(NTEXTS)]);
        break;
    default:
        pv_buf_printf(b, "%d %s ", rn(600) - 50, chance(50) ? ">" : "<=");
        col_ref(b, q, c);
        break;
    }
}

static void gen_cond(pv_buf *b, const qctx *q, int depth)
{
    int k1, k2, i, n, r = depth <= 0 ? rn(3) : rn(14);
    switch (r) {
    case 0:
    case 1:
    case 2: {
        static const char *const ops[] = {"=", "!=", "<>", "<", "<=", ">", ">=", "=="};
        gen_any(b, q, depth - 1, &k1);
        pv_buf_printf(b, " %s ", ops[rn(8)]);
        if (k1 == K_TEXT && chance(70)) gen_text(b, q, depth - 1);
        else if (k1 != K_TEXT && chance(80)) gen_num(b, q, depth - 1, &k2);
        else gen_any(b, q, depth - 1, &k2);
        return;
    }
    case 3:
        gen_any(b, q, depth - 1, &k1);
        pv_buf_printf(b, chance(50) ? " IS NULL" : " IS NOT NULL");
        return;
    case 4:
        gen_any(b, q, depth - 1, &k1);
        pv_buf_printf(b, " %s ", chance(50) ? "IS" : "IS NOT");
        gen_any(b, q, depth - 1, &k2);
        return;
    case 5:
        gen_any(b, q, depth - 1, &k1);
        pv_buf_printf(b, "%s IN (", chance(30) ? " NOT" : "");
        for (i = 0, n = rn(5); i < n; i++) {
            if (i) pv_buf_printf(b, ", ");
            if (chance(10)) pv_buf_printf(b, "NULL");
            else if (k1 == K_TEXT) lit_text(b);
            else lit_of(b, chance(70) ? T_INT : T_REAL);
        }
        pv_buf_printf(b, ")");
        return;
    case 6:
        gen_num(b, q, depth - 1, &k1);
        pv_buf_printf(b, "%s BETWEEN ", chance(30) ? " NOT" : "");
        gen_num(b, q, depth - 1, &k2);
        pv_buf_printf(b, " AND ");
        gen_num(b, q, depth - 1, &k2);
        return;
    case 7:
        gen_text(b, q, depth - 1);
        pv_buf_printf(b, "%s LIKE ", chance(30) ? " NOT" : "");
        gen_like_pattern(b);
        return;
    case 8:
    case 9:
        pv_buf_printf(b, "(");
        gen_cond(b, q, depth - 1);
        pv_buf_printf(b, " %s ", r == 8 ? "AND" : "OR");
        gen_cond(b, q, depth - 1);
        pv_buf_printf(b, ")");
        return;
    case 10:
        pv_buf_printf(b, "NOT (");
        gen_cond(b, q, depth - 1);
        pv_buf_printf(b, ")");
        return;
    case 11:
        gen_key_pred(b, q);
        return;
    case 12: {
        /* a BOOLEAN or INTEGER column as a truth value */
        int c = pick_col(q->t, K_INT);
        if (c >= 0) col_ref(b, q, c);
        else pv_buf_printf(b, "%s", chance(50) ? "TRUE" : "FALSE");
        return;
    }
    default:
        gen_any(b, q, depth - 1, &k1);
        pv_buf_printf(b, " %s ", chance(50) ? "=" : "<");
        gen_any(b, q, depth - 1, &k2);
        return;
    }
}

/* WHERE: often a key predicate ANDed with something else. */
static void gen_where(pv_buf *b, const qctx *q)
{
    pv_buf_printf(b, " WHERE ");
    if (q->t->npk && chance(45)) {
        gen_key_pred(b, q);
        if (chance(50)) {
            pv_buf_printf(b, " AND ");
            gen_cond(b, q, 2);
        }
    } else {
        gen_cond(b, q, 2 + rn(2));
    }
}

/* ORDER BY the given terms then every output by ordinal, so the order is
 * total (rows tied on every output are indistinguishable). */
static void gen_total_order(pv_buf *b, const qctx *q, int nout, int exprs_ok)
{
    int i, k;
    pv_buf_printf(b, " ORDER BY ");
    if (exprs_ok && chance(40)) {
        gen_any(b, q, 1, &k);
        pv_buf_printf(b, "%s, ", chance(50) ? " DESC" : "");
    }
    for (i = 0; i < nout; i++) {
        int o = (i + rn(nout)) % nout; /* some order of the ordinals, maybe repeated */
        pv_buf_printf(b, "%s%d%s", i ? ", " : "", o + 1, chance(40) ? " DESC" : "");
    }
    for (i = 0; i < nout; i++) pv_buf_printf(b, ", %d", i + 1);
}

/* One SELECT on table t; *ordered says whether its ORDER BY is total. */
static void gen_select(pv_buf *b, const tdef *t, int *ordered)
{
    qctx q = {t, "", 0, 0};
    int nout = 1 + rn(4), i, k, agg = chance(30), grouped = agg && chance(60), ngroup = 0, distinct;
    int groupcol[3], want_order, want_limit;
    char alias[8] = "";
    *ordered = 0;
    if (chance(20)) {
        snprintf(alias, sizeof alias, "x");
        q.qual = "x.";
    } else if (chance(15)) {
        static char qual[12];
        snprintf(qual, sizeof qual, "%s.", t->name);
        q.qual = qual;
    }
    distinct = !agg && chance(15);
    want_order = chance(55);
    want_limit = want_order && chance(40);
    /* a LIMIT cuts between rows tied under ORDER BY as well */
    q.no_mix = distinct || want_limit;
    pv_buf_printf(b, "SELECT %s", distinct ? "DISTINCT " : chance(5) ? "ALL " : "");
    if (grouped) {
        ngroup = 1 + rn(2);
        for (i = 0; i < ngroup; i++) groupcol[i] = rn(t->ncols);
    }
    if (!agg && !distinct && chance(8)) {
        pv_buf_printf(b, "*");
        nout = 0;
        for (i = 0; i < t->ncols; i++) nout++;
    } else {
        for (i = 0; i < nout; i++) {
            if (i) pv_buf_printf(b, ", ");
            if (grouped && i < ngroup) {
                col_ref(b, &q, groupcol[i]);
                continue;
            }
            q.allow_agg = agg;
            if (agg) {
                /* only aggregates and grouped columns: no bare columns */
                qctx qa = {t, q.qual, 0, 1};
                static const char *const aggs[] = {"count", "sum", "min", "max", "total", "avg"};
                int a = rn(6);
                if (a == 0 && chance(40)) {
                    pv_buf_printf(b, "count(*)");
                } else {
                    pv_buf_printf(b, "%s(%s", aggs[a], chance(15) ? "DISTINCT " : "");
                    if (a >= 2 && a <= 3 && chance(30)) gen_text(b, &qa, 1);
                    else gen_num(b, &qa, 1 + rn(2), &k);
                    pv_buf_printf(b, ")");
                }
                if (chance(20)) pv_buf_printf(b, " %s 2", chance(50) ? "*" : "+");
            } else {
                gen_any(b, &q, 1 + rn(2), &k);
            }
            if (chance(15)) pv_buf_printf(b, " AS o%d", i);
        }
    }
    pv_buf_printf(b, " FROM %s", t->name);
    if (alias[0]) pv_buf_printf(b, " AS %s", alias);
    q.allow_agg = 0;
    if (chance(75)) gen_where(b, &q);
    if (grouped) {
        pv_buf_printf(b, " GROUP BY ");
        for (i = 0; i < ngroup; i++) {
            pv_buf_printf(b, "%s", i ? ", " : "");
            col_ref(b, &q, groupcol[i]);
        }
        if (chance(35)) {
            pv_buf_printf(b, " HAVING count(*) %s %d", chance(50) ? ">" : "<=", rn(4));
            if (chance(40)) {
                pv_buf_printf(b, " OR sum(");
                gen_num(b, &q, 1, &k);
                pv_buf_printf(b, ") > %d", rn(40) - 10);
            }
        }
    }
    if (want_order) {
        gen_total_order(b, &q, nout, !agg && !distinct);
        *ordered = 1;
        if (want_limit) {
            pv_buf_printf(b, " LIMIT %d", rn(12) - 1);
            if (chance(50)) pv_buf_printf(b, " OFFSET %d", rn(6));
        }
    }
}

/* A SELECT without FROM: scalar semantics. */
static void gen_scalar(pv_buf *b)
{
    static const tdef none = {"", 0, {{0}}, {0}, {-1, -1}, 0, 0, 0};
    qctx q = {&none, "", 0, 0};
    int i, n = 1 + rn(4), k;
    pv_buf_printf(b, "SELECT ");
    for (i = 0; i < n; i++) {
        if (i) pv_buf_printf(b, ", ");
        if (chance(40)) gen_cond(b, &q, 3);
        else gen_any(b, &q, 3, &k);
    }
}

/* ---- writes ------------------------------------------------------------------------ */

/* A value of the column's type for SET: type-correct so STRICT accepts it
 * (a REAL into an INTEGER column is a deliberate difference). */
static void gen_set_value(pv_buf *b, const tdef *t, int c)
{
    const char *n = t->cols[c];
    switch (t->type[c]) {
    case T_INT:
        switch (rn(5)) {
        case 0: pv_buf_printf(b, "%s + 1", n); break;
        case 1: pv_buf_printf(b, "-%s", n); break;
        case 2: pv_buf_printf(b, "coalesce(%s, 0) * 2", n); break;
        case 3: pv_buf_printf(b, "NULL"); break;
        default: lit_int(b); break;
        }
        break;
    case T_REAL:
        switch (rn(4)) {
        case 0: pv_buf_printf(b, "%s * 2", n); break;
        case 1: pv_buf_printf(b, "%s + 0.5", n); break;
        case 2: pv_buf_printf(b, "NULL"); break;
        default: lit_real(b); break;
        }
        break;
    case T_TEXT:
        switch (rn(5)) {
        case 0: pv_buf_printf(b, "%s || 'x'", n); break;
        case 1: pv_buf_printf(b, "upper(%s)", n); break;
        case 2: pv_buf_printf(b, "substr(%s, 2)", n); break;
        case 3: pv_buf_printf(b, "NULL"); break;
        default: lit_text(b); break;
        }
        break;
    default:
        switch (rn(3)) {
        case 0: pv_buf_printf(b, "NOT %s", n); break;
        case 1: pv_buf_printf(b, "NULL"); break;
        default: lit_of(b, T_BOOL); break;
        }
    }
}

static void gen_row_values(pv_buf *b, const tdef *t, int fresh)
{
    int i;
    pv_buf_printf(b, "(");
    for (i = 0; i < t->ncols; i++) {
        if (i) pv_buf_printf(b, ", ");
        if (is_pk(t, i)) {
            if (fresh && t->type[i] == T_INT) pv_buf_printf(b, "%d", 5000 + rn(200));
            else key_sql(b, t, rn(t->nrows + 5), i == t->pk[0] ? 0 : 1);
        } else {
            value_of(b, t->type[i], 1);
        }
    }
    pv_buf_printf(b, ")");
}

static void gen_write(pv_buf *b, round_t *rd, const tdef *t)
{
    qctx q = {t, "", 0, 0};
    int i, n, c;
    switch (rn(t->npk ? 6 : 3)) {
    case 0: /* UPDATE of non-key columns */
        pv_buf_printf(b, "UPDATE %s SET ", t->name);
        for (i = 0, n = 1 + rn(2); i < n; i++) {
            do c = rn(t->ncols);
            while (is_pk(t, c));
            pv_buf_printf(b, "%s%s = ", i ? ", " : "", t->cols[c]);
            gen_set_value(b, t, c);
        }
        if (chance(80)) gen_where(b, &q);
        break;
    case 1: /* DELETE */
        pv_buf_printf(b, "DELETE FROM %s", t->name);
        if (chance(92)) gen_where(b, &q);
        break;
    case 2: /* plain INSERT of fresh rows (hidden keys, or new INTEGER keys) */
        pv_buf_printf(b, "INSERT INTO %s VALUES ", t->name);
        if (t->npk && t->type[t->pk[0]] != T_INT) {
            /* TEXT keys: fresh names */
            pv_buf_printf(b, "(");
            for (i = 0; i < t->ncols; i++) {
                if (i) pv_buf_printf(b, ", ");
                if (is_pk(t, i)) {
                    if (t->type[i] == T_TEXT) pv_buf_printf(b, "'new%d'", rd->moves++);
                    else pv_buf_printf(b, "%d", rn(1000));
                } else {
                    value_of(b, t->type[i], 1);
                }
            }
            pv_buf_printf(b, ")");
        } else {
            pv_buf_printf(b, "(");
            for (i = 0; i < t->ncols; i++) {
                if (i) pv_buf_printf(b, ", ");
                if (is_pk(t, i)) pv_buf_printf(b, "%d", 100000 + rd->moves++);
                else value_of(b, t->type[i], 1);
            }
            pv_buf_printf(b, ")");
        }
        break;
    case 3: /* INSERT OR REPLACE / OR IGNORE over existing and new keys */
        pv_buf_printf(b, "INSERT OR %s INTO %s VALUES ", chance(50) ? "REPLACE" : "IGNORE", t->name);
        for (i = 0, n = 1 + rn(3); i < n; i++) {
            if (i) pv_buf_printf(b, ", ");
            gen_row_values(b, t, chance(30));
        }
        break;
    case 4: /* upsert */
        pv_buf_printf(b, "INSERT INTO %s VALUES ", t->name);
        for (i = 0, n = 1 + rn(3); i < n; i++) {
            if (i) pv_buf_printf(b, ", ");
            gen_row_values(b, t, chance(30));
        }
        pv_buf_printf(b, " ON CONFLICT (%s", t->cols[t->pk[0]]);
        if (t->npk == 2) pv_buf_printf(b, ", %s", t->cols[t->pk[1]]);
        pv_buf_printf(b, ") DO ");
        if (chance(30)) {
            pv_buf_printf(b, "NOTHING");
            break;
        }
        do c = rn(t->ncols);
        while (is_pk(t, c));
        pv_buf_printf(b, "UPDATE SET %s = ", t->cols[c]);
        if (chance(50)) pv_buf_printf(b, "excluded.%s", t->cols[c]);
        else gen_set_value(b, t, c);
        if (chance(30)) pv_buf_printf(b, " WHERE %s IS NOT NULL", t->cols[c]);
        break;
    default: /* UPDATE that moves INTEGER keys to a fresh range */
        if (t->type[t->pk[0]] != T_INT) {
            pv_buf_printf(b, "DELETE FROM %s WHERE ", t->name);
            gen_key_pred(b, &q);
            break;
        }
        pv_buf_printf(b, "UPDATE %s SET %s = %s + %d", t->name, t->cols[t->pk[0]], t->cols[t->pk[0]],
                      1000000 * ++rd->moves);
        gen_where(b, &q);
        break;
    }
}

/* ---- the test ------------------------------------------------------------------------ */

typedef struct stats {
    long queries, writes, both_failed, mismatches;
} stats;

static int env_int(const char *name, long dflt, long *out)
{
    const char *v = getenv(name);
    char *end;
    *out = dflt;
    if (!v || !*v) return 0;
    *out = strtol(v, &end, 10);
    return *end ? -1 : 0;
}

static void report(round_t *rd, const char *what, const char *sql, const result *a, const result *b,
                   stats *s, long seed, int round_no)
{
    s->mismatches++;
    if (s->mismatches > 20) return;
    fprintf(stderr, "MISMATCH (seed %ld, round %d) %s:\n  %s\n", seed, round_no, what, sql);
    print_result("libpv ", a);
    print_result("sqlite", b);
    if (getenv("PV_DIFF_VERBOSE")) fprintf(stderr, "-- setup:\n%s\n", rd->setup.p);
}

static int round_open(round_t *rd)
{
    int i;
    memset(rd, 0, sizeof *rd);
    strcpy(rd->dir, "/tmp/pv_test_diff_XXXXXX");
    if (!mkdtemp(rd->dir) || pv_workspace_init(rd->dir) || pv_open(rd->dir, PV_OPEN_READWRITE, &rd->db)) {
        fprintf(stderr, "workspace: %s\n", pv_errmsg());
        return -1;
    }
    if (sq.open(":memory:", &rd->sq) != SQLITE_OK) return -1;
    for (i = 0; i < NTABLES; i++) {
        make_schema(&rd->t[i], i);
        create_sql(&rd->setup, &rd->t[i]);
        insert_sql(&rd->setup, &rd->t[i]);
    }
    pv_buf_putc(&rd->setup, 0);
    return 0;
}

static void round_close(round_t *rd)
{
    pv_close(rd->db);
    sq.close(rd->sq);
    nftw(rd->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    pv_buf_free(&rd->setup);
}

static void run_round(round_t *rd, long seed, int round_no, long nq, stats *s)
{
    char *err = NULL;
    pv_buf b = PV_BUF_INIT;
    result a, c;
    long i;
    int ordered, t;
    if (pv_exec(rd->db, rd->setup.p)) fail_msg("setup: %s\n%s", pv_errmsg(), rd->setup.p);
    if (sq.exec(rd->sq, rd->setup.p, NULL, NULL, &err) != SQLITE_OK) fail_msg("sqlite setup: %s", err);
    for (i = 0; i < nq; i++) {
        b.len = 0;
        if (i % 10 == 9) {
            /* a write, then the whole table compared */
            tdef *td = &rd->t[rn(NTABLES)];
            gen_write(&b, rd, td);
            pv_buf_putc(&b, 0);
            run_pv(rd->db, b.p, &a);
            run_sq(rd->sq, b.p, &c);
            s->writes++;
            if (a.failed != c.failed) {
                report(rd, "write", b.p, &a, &c, s, seed, round_no);
                result_free(&a);
                result_free(&c);
                break; /* the databases differ from here on */
            }
            result_free(&a);
            result_free(&c);
            b.len = 0;
            pv_buf_printf(&b, "SELECT * FROM %s", td->name);
            ordered = 0;
        } else if (chance(4)) {
            gen_scalar(&b);
            ordered = 0;
        } else {
            t = rn(NTABLES);
            gen_select(&b, &rd->t[t], &ordered);
        }
        pv_buf_putc(&b, 0);
        run_pv(rd->db, b.p, &a);
        run_sq(rd->sq, b.p, &c);
        s->queries++;
        if (a.failed && c.failed) {
            s->both_failed++;
            if (getenv("PV_DIFF_VERBOSE") && !strcmp(getenv("PV_DIFF_VERBOSE"), "2"))
                fprintf(stderr, "both fail: %s\n  libpv: %s\n  sqlite: %s\n", b.p, a.err, c.err);
        }
        if (!results_agree(&a, &c, ordered)) report(rd, "query", b.p, &a, &c, s, seed, round_no);
        result_free(&a);
        result_free(&c);
    }
    pv_buf_free(&b);
}

static void test_differential(void **state)
{
    long nq = 0, seed = 0, done = 0;
    stats s;
    int round_no = 0;
    (void)state;
    if (env_int("PV_DIFF_QUERIES", 10000, &nq) || env_int("PV_DIFF_SEED", 20240601, &seed))
        fail_msg("PV_DIFF_QUERIES and PV_DIFF_SEED must be integers");
    if (sqlite_load()) fail_msg("the differential test needs libsqlite3.so.0 (apt-get install libsqlite3-0)");
    setenv("PV_DURABILITY", "fast", 1); /* no fsync: the test is about results */
    rng_state = (uint64_t)seed;
    memset(&s, 0, sizeof s);
    while (done < nq) {
        round_t rd;
        long per = nq - done < 400 ? nq - done : 400;
        if (round_open(&rd)) fail_msg("cannot open round %d", round_no);
        run_round(&rd, seed, round_no, per, &s);
        round_close(&rd);
        done += per;
        round_no++;
    }
    printf("differential: seed %ld, %d rounds, %ld queries (%ld failing in both), %ld writes, "
           "%ld mismatches\n",
           seed, round_no, s.queries, s.both_failed, s.writes, s.mismatches);
    if (s.mismatches) fail_msg("%ld mismatches with sqlite (first ones above)", s.mismatches);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differential),
    };
    return cmocka_run_group_tests_name("sql differential vs sqlite", tests, NULL, NULL) ? 1 : 0;
}
