/*
 * fuzz_sql.c: libFuzzer target for the SQL front end and executor.
 *
 * The input is SQL text: up to MAX_STMTS statements are prepared, their
 * `?` parameters bound, and each is stepped to completion (at most MAX_ROWS
 * rows), every column read through every pv_column_* getter.
 *
 * The same text runs twice, on one small workspace opened read-only and on
 * the .pvdb baked from it (both made once per process in a temporary
 * directory). The two stores must answer identically (DESIGN.md: "dev mode
 * and production mode return identical results"): a transcript of each run
 * (result codes, column names, value types and texts) is compared, and a
 * difference aborts. Writes fail cleanly on both (PV_EREADONLY). Two
 * differences are by design and left out of the transcript: the codes of
 * refused writes (see note_rc), and the text of EXPLAIN's detail column and
 * its access operator's name (SCAN, LOOKUP, INDEX LOOKUP, INDEX RANGE).
 */
#include "fuzz_common.h"

#include <inttypes.h>

#include "pv.h"
#include "pvdb.h"
#include "util.h"
#include "ws.h"

#define MAX_STMTS 4
#define MAX_ROWS 2000
#define MAX_BIND 64

static pv_db *ws_db, *file_db;

static void buf_puts(pv_buf *b, const char *s) { pv_buf_append(b, s, strlen(s)); }

static const char setup_sql[] =
    "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, x REAL, flag BOOLEAN, data BLOB, n INTEGER);"
    "INSERT INTO t VALUES"
    " (1, 'alpha', 1.5, TRUE, X'00ff', 10),"
    " (2, 'Beta', -0.0, FALSE, NULL, NULL),"
    " (3, NULL, NULL, NULL, X'', -9223372036854775808),"
    " (4, '', 1e300, TRUE, X'41', 9223372036854775807),"
    " (5, 'Z\xc3\xbcrich', 0.1, FALSE, X'', 3),"
    " (6, '%_x', -2.5, NULL, NULL, 3),"
    " (7, '12abc', 12.0, TRUE, X'3132', -1);"
    "CREATE TABLE kv(k TEXT NOT NULL, v INTEGER, PRIMARY KEY(k));"
    "INSERT INTO kv VALUES ('a', 1), ('b', NULL), ('B', 2), ('\xe6\x97\xa5', -7), ('', 0);"
    "CREATE TABLE pair(a INTEGER, b TEXT, c REAL, PRIMARY KEY(a, b));"
    "INSERT INTO pair VALUES (1, 'x', 0.5), (1, 'y', NULL), (2, 'x', -1.25), (-3, '', 1e-5);"
    "CREATE TABLE empty(id INTEGER PRIMARY KEY, s TEXT);";

/* `big`: more rows than one batch (1024), so batch boundaries are crossed. */
static int make_big(pv_db *db)
{
    pv_buf b = PV_BUF_INIT;
    int i, rc;
    buf_puts(&b, "CREATE TABLE big(id INTEGER PRIMARY KEY, g INTEGER, s TEXT, r REAL);"
                    "INSERT INTO big VALUES ");
    for (i = 0; i < 1100; i++) {
        char row[96];
        if (i % 5 == 4)
            snprintf(row, sizeof row, "%s(%d, NULL, NULL, NULL)", i ? "," : "", i);
        else
            snprintf(row, sizeof row, "%s(%d, %d, 'v%d', %d.25)", i ? "," : "", i, i % 7,
                     i % 37, i - 550);
        buf_puts(&b, row);
    }
    pv_buf_putc(&b, '\0');
    rc = b.p ? pv_exec(db, b.p) : PV_ENOMEM;
    pv_buf_free(&b);
    return rc;
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz_sql setup: %s: %s\n", what, pv_errmsg());
    abort();
}

static void setup(void)
{
    const char *dir = fz_tmpdir();
    char path[512];
    pv_db *db;
    pv_ws *ws;
    pv_bake_table tables[8];
    pv_bake_info info = {"fuzz", "fuzz_sql"};
    uint32_t i, n;

    if (pv_workspace_init(dir)) die("init");
    if (pv_open(dir, PV_OPEN_READWRITE, &db)) die("open");
    if (pv_exec(db, setup_sql)) die("setup sql");
    if (make_big(db)) die("big");
    pv_close(db);
    if (pv_ws_open(dir, 0, &ws)) die("ws open");
    n = pv_ws_table_count(ws);
    if (n > 8) abort();
    for (i = 0; i < n; i++)
        if (pv_ws_table_bake(ws, i, &tables[i])) die("bake table");
    snprintf(path, sizeof path, "%s/db.pvdb", dir);
    if (pv_bake_write(path, tables, n, &info)) die("bake");
    pv_ws_close(ws);
    if (pv_open(dir, PV_OPEN_READONLY, &ws_db)) die("open workspace");
    if (pv_open(path, PV_OPEN_READONLY, &file_db)) die("open pvdb");
}

/* Bind parameter i to one of a few values of every type. */
static void bind_param(pv_stmt *st, int i)
{
    switch (i % 6) {
    case 0: pv_bind_null(st, i); break;
    case 1: pv_bind_int64(st, i, 3); break;
    case 2: pv_bind_text(st, i, "alpha", 5); break;
    case 3: pv_bind_double(st, i, -2.5); break;
    case 4: pv_bind_blob(st, i, "\0\xff", 2); break;
    default: pv_bind_bool(st, i, 1); break;
    }
}

/* Codes go into the transcript as they are, except the two ways a store
 * refuses a write: a read-only workspace says PV_EREADONLY to BEGIN and
 * then PV_EMISUSE to COMMIT (no transaction), a .pvdb PV_EREADONLY to both;
 * the stores may differ there, and only there. */
static void note_rc(pv_buf *tr, const char *what, int rc)
{
    char b[64];
    if (rc == PV_EREADONLY || rc == PV_EMISUSE) snprintf(b, sizeof b, "%s refused\n", what);
    else snprintf(b, sizeof b, "%s %d\n", what, rc);
    buf_puts(tr, b);
}

/* Run the statements of sql[0..len) on db, appending a transcript. */
static void run(pv_db *db, const char *sql, size_t len, pv_buf *tr)
{
    const char *p = sql, *end = sql + len;
    int s;
    for (s = 0; s < MAX_STMTS && p < end; s++) {
        pv_stmt *st = NULL;
        const char *tail = NULL;
        int rc, i, ncols, nbind, rows = 0, explain;
        rc = pv_prepare(db, p, (size_t)(end - p), &st, &tail);
        note_rc(tr, "prepare", rc);
        if (rc != PV_OK || !st) {
            pv_finalize(st);
            break;
        }
        nbind = pv_bind_count(st);
        for (i = 1; i <= nbind && i <= MAX_BIND; i++) bind_param(st, i);
        ncols = pv_column_count(st);
        explain = ncols == 3;
        for (i = 0; i < ncols; i++) {
            static const char *const plan_cols[3] = {"id", "op", "detail"};
            const char *name = pv_column_name(st, i);
            buf_puts(tr, name ? name : "(null)");
            pv_buf_putc(tr, '|');
            if (explain && (!name || strcmp(name, plan_cols[i]) != 0)) explain = 0;
        }
        while (rows < MAX_ROWS && (rc = pv_step(st)) == PV_ROW) {
            rows++;
            for (i = 0; i < ncols; i++) {
                int type = pv_column_type(st, i);
                const char *text = pv_column_text(st, i);
                size_t n = pv_column_bytes(st, i);
                const unsigned char *blob = pv_column_blob(st, i);
                char num[96];
                size_t k;
                snprintf(num, sizeof num, "%d:%" PRId64 ":%zu:", type, pv_column_int64(st, i), n);
                /* EXPLAIN's detail names the store: its type only. */
                if (explain && i == 2) {
                    buf_puts(tr, "plan|");
                    continue;
                }
                /* and the access path is the store's (a .pvdb reads through
                 * its key index, a workspace looks keys up or scans) */
                if (explain && i == 1 && text &&
                    (!strcmp(text, "SCAN") || !strcmp(text, "LOOKUP") ||
                     !strcmp(text, "INDEX LOOKUP") || !strcmp(text, "INDEX RANGE"))) {
                    buf_puts(tr, "access|");
                    continue;
                }
                buf_puts(tr, num);
                (void)pv_column_double(st, i);
                /* Touch every byte (ASan checks the lengths given). */
                if (type == PV_BLOB) {
                    for (k = 0; k < n; k++) pv_buf_putc(tr, (char)(blob ? blob[k] : 0));
                } else if (text) {
                    if (text[n] != '\0') abort(); /* documented NUL terminator */
                    buf_puts(tr, text);
                }
                pv_buf_putc(tr, '|');
            }
            pv_buf_putc(tr, '\n');
        }
        note_rc(tr, "step", rows == MAX_ROWS ? 99 : rc);
        /* A finished statement steps to DONE again; a reset runs anew. */
        if (rc == PV_DONE && pv_step(st) != PV_DONE) abort();
        pv_reset(st);
        pv_finalize(st);
        if (!tail || tail <= p || tail > end) break;
        p = tail;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_buf a = PV_BUF_INIT, b = PV_BUF_INIT;
    if (!ws_db) setup();
    run(ws_db, (const char *)data, size, &a);
    run(file_db, (const char *)data, size, &b);
    if (a.len != b.len || (a.len && memcmp(a.p, b.p, a.len) != 0)) {
        fprintf(stderr, "fuzz_sql: workspace and .pvdb disagree on:\n%.*s\n"
                        "--- workspace:\n%.*s\n--- pvdb:\n%.*s\n",
                (int)size, (const char *)data, (int)a.len, a.p ? a.p : "", (int)b.len,
                b.p ? b.p : "");
        abort();
    }
    if (getenv("PV_FUZZ_VERBOSE")) fprintf(stderr, "%.*s", (int)a.len, a.p ? a.p : "");
    pv_buf_free(&a);
    pv_buf_free(&b);
    return 0;
}
