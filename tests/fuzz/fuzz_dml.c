/*
 * fuzz_dml.c: libFuzzer target for the workspace write path: INSERT (OR
 * REPLACE/IGNORE, ON CONFLICT), UPDATE, DELETE, CREATE/DROP/ALTER TABLE,
 * BEGIN/COMMIT/ROLLBACK, on a writable workspace.
 *
 * Each input runs on a fresh copy of a small template workspace (made once
 * per process): up to MAX_STMTS statements are prepared, bound and stepped
 * to the end. Then any open transaction is rolled back and three views of
 * every table must be identical (DESIGN.md: one engine, two stores):
 *   A. SELECT * on the handle that did the writes (its memory),
 *   B. SELECT * after pv_close and a fresh read-only pv_open (the files),
 *   C. SELECT * on the .pvdb baked from the files (the production reader).
 * A difference, a close that fails, or a workspace that no longer opens or
 * bakes aborts.
 */
#include "fuzz_common.h"

#include <errno.h>
#include <inttypes.h>

#include "db.h"
#include "pv.h"
#include "pvdb.h"
#include "util.h"
#include "ws.h"

#define MAX_STMTS 8
#define MAX_ROWS 500
#define MAX_TABLES 32

static char tmpl_dir[300], work_dir[300], pvdb_path[320];

static void die(const char *what)
{
    fprintf(stderr, "fuzz_dml: %s: %s\n", what, pv_errmsg());
    abort();
}

static void buf_puts(pv_buf *b, const char *s) { pv_buf_append(b, s, strlen(s)); }

static const char setup_sql[] =
    "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, x REAL, flag BOOLEAN, data BLOB);"
    "INSERT INTO t VALUES (1, 'alpha', 1.5, TRUE, X'00ff'), (2, 'Beta', -0.0, FALSE, NULL),"
    " (3, NULL, NULL, NULL, X''), (4, '', 1e300, TRUE, X'41'), (5, 'Z\xc3\xbcrich', 0.1, FALSE, NULL);"
    "CREATE TABLE kv(k TEXT NOT NULL, v INTEGER, PRIMARY KEY(k));"
    "INSERT INTO kv VALUES ('a', 1), ('b', NULL), ('B', 2), ('', 0);"
    "CREATE TABLE pair(a INTEGER, b TEXT, c REAL, PRIMARY KEY(a, b));"
    "INSERT INTO pair VALUES (1, 'x', 0.5), (1, 'y', NULL), (2, 'x', -1.25);";

/* ---- copying the template --------------------------------------------------- */

static size_t tmpl_len;

static int copy_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    char to[700];
    (void)ftw;
    snprintf(to, sizeof to, "%s%s", work_dir, path + tmpl_len);
    if (flag == FTW_D) return mkdir(to, 0777) != 0 && errno != EEXIST;
    if (flag == FTW_F) {
        char *text = NULL;
        size_t n;
        if (pv_read_file(path, (size_t)st->st_size + 1, &text, &n)) return 1;
        fz_write(to, (const uint8_t *)text, n);
        free(text);
        return 0;
    }
    return 1;
}

static void fresh_copy(void)
{
    fz_rmtree(work_dir);
    tmpl_len = strlen(tmpl_dir);
    if (nftw(tmpl_dir, copy_one, 16, FTW_PHYS) != 0) die("copy template");
}

static void setup(void)
{
    pv_db *db;
    snprintf(tmpl_dir, sizeof tmpl_dir, "%s/tmpl", fz_tmpdir());
    snprintf(work_dir, sizeof work_dir, "%s/work", fz_tmpdir());
    snprintf(pvdb_path, sizeof pvdb_path, "%s/work.pvdb", fz_tmpdir());
    if (mkdir(tmpl_dir, 0777) != 0) die("mkdir");
    if (pv_workspace_init(tmpl_dir)) die("init");
    if (pv_open(tmpl_dir, PV_OPEN_READWRITE, &db)) die("open");
    if (pv_exec(db, setup_sql)) die("setup sql");
    if (pv_close(db)) die("close");
}

/* ---- running the input ------------------------------------------------------ */

static void bind_param(pv_stmt *st, int i)
{
    switch (i % 5) {
    case 0: pv_bind_null(st, i); break;
    case 1: pv_bind_int64(st, i, 2); break;
    case 2: pv_bind_text(st, i, "a", 1); break;
    case 3: pv_bind_double(st, i, 0.5); break;
    default: pv_bind_blob(st, i, "\0\xff", 2); break;
    }
}

static void run(pv_db *db, const char *sql, size_t len)
{
    const char *p = sql, *end = sql + len;
    int s;
    for (s = 0; s < MAX_STMTS && p < end; s++) {
        pv_stmt *st = NULL;
        const char *tail = NULL;
        int rc, i, rows = 0, nbind;
        rc = pv_prepare(db, p, (size_t)(end - p), &st, &tail);
        if (rc != PV_OK || !st) {
            pv_finalize(st);
            break;
        }
        nbind = pv_bind_count(st);
        for (i = 1; i <= nbind && i <= 32; i++) bind_param(st, i);
        while (rows++ < MAX_ROWS && (rc = pv_step(st)) == PV_ROW)
            for (i = 0; i < pv_column_count(st); i++) (void)pv_column_text(st, i);
        pv_finalize(st);
        if (!tail || tail <= p || tail > end) break;
        p = tail;
    }
}

/* ---- the three views ---------------------------------------------------------- */

static void quote_ident(pv_buf *b, const char *name)
{
    pv_buf_putc(b, '"');
    for (; *name; name++) {
        if (*name == '"') pv_buf_putc(b, '"');
        pv_buf_putc(b, *name);
    }
    pv_buf_putc(b, '"');
}

/* Every row of every table named in `names`, as text, into `out`. */
static void dump(pv_db *db, char names[][80], uint32_t n, pv_buf *out, const char *view)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        pv_buf sql = PV_BUF_INIT;
        pv_stmt *st = NULL;
        int rc, c;
        buf_puts(&sql, "SELECT * FROM ");
        quote_ident(&sql, names[i]);
        if (!sql.p || pv_prepare(db, sql.p, sql.len, &st, NULL)) {
            fprintf(stderr, "fuzz_dml: %s: cannot select from %s: %s\n", view, names[i], pv_errmsg());
            abort();
        }
        buf_puts(out, names[i]);
        buf_puts(out, ":\n");
        while ((rc = pv_step(st)) == PV_ROW) {
            for (c = 0; c < pv_column_count(st); c++) {
                char num[48];
                int type = pv_column_type(st, c);
                snprintf(num, sizeof num, "%d:", type);
                buf_puts(out, num);
                if (type == PV_BLOB) {
                    const unsigned char *b = pv_column_blob(st, c);
                    size_t k, len = pv_column_bytes(st, c);
                    for (k = 0; k < len; k++) {
                        snprintf(num, sizeof num, "%02x", b[k]);
                        buf_puts(out, num);
                    }
                } else if (type != PV_NULL) {
                    buf_puts(out, pv_column_text(st, c));
                }
                pv_buf_putc(out, '|');
            }
            pv_buf_putc(out, '\n');
        }
        if (rc != PV_DONE) {
            fprintf(stderr, "fuzz_dml: %s: scan of %s failed: %s\n", view, names[i], pv_errmsg());
            abort();
        }
        pv_finalize(st);
        pv_buf_free(&sql);
    }
}

static void must_equal(const pv_buf *a, const pv_buf *b, const char *what, const uint8_t *data, size_t size)
{
    if (a->len == b->len && (!a->len || memcmp(a->p, b->p, a->len) == 0)) return;
    fprintf(stderr, "fuzz_dml: %s differ after:\n%.*s\n--- first:\n%.*s--- second:\n%.*s", what, (int)size,
            (const char *)data, (int)a->len, a->p ? a->p : "", (int)b->len, b->p ? b->p : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char names[MAX_TABLES][80];
    pv_db *db = NULL;
    pv_ws *ws = NULL;
    pv_bake_table tables[MAX_TABLES];
    pv_bake_info info = {"fuzz", "fuzz_dml"};
    pv_buf mem = PV_BUF_INIT, files = PV_BUF_INIT, baked = PV_BUF_INIT;
    uint32_t n, i;

    if (!tmpl_dir[0]) setup();
    fresh_copy();
    if (pv_open(work_dir, PV_OPEN_READWRITE, &db)) die("open the copy");
    fz_quiet_begin();
    run(db, (const char *)data, size);
    (void)pv_exec(db, "ROLLBACK"); /* an unfinished transaction */
    fz_quiet_end();

    /* A: the writer's own view. */
    n = pv_ws_table_count(db->ws);
    if (n > MAX_TABLES) n = MAX_TABLES;
    for (i = 0; i < n; i++) snprintf(names[i], sizeof names[i], "%s", pv_ws_table_schema(db->ws, i)->name);
    dump(db, names, n, &mem, "writer");
    if (pv_close(db)) die("close");

    /* B: the files, read by a fresh handle. */
    if (pv_open(work_dir, PV_OPEN_READONLY, &db)) die("reopen");
    if (pv_ws_table_count(db->ws) != n && n < MAX_TABLES) {
        fprintf(stderr, "fuzz_dml: %u tables after reopen, %u before\n", pv_ws_table_count(db->ws), n);
        abort();
    }
    dump(db, names, n, &files, "reopened");
    pv_close(db);
    must_equal(&mem, &files, "the writer's rows and the reopened workspace's", data, size);

    /* C: the .pvdb baked from the files. */
    if (n < MAX_TABLES) {
        if (pv_ws_open(work_dir, 0, &ws)) die("ws open for bake");
        for (i = 0; i < n; i++)
            if (pv_ws_table_bake(ws, i, &tables[i])) die("bake table");
        if (pv_bake_write(pvdb_path, tables, n, &info)) die("bake");
        pv_ws_close(ws);
        if (pv_open(pvdb_path, PV_OPEN_READONLY, &db)) die("open the .pvdb");
        dump(db, names, n, &baked, "pvdb");
        pv_close(db);
        must_equal(&files, &baked, "the workspace's rows and the .pvdb's", data, size);
    }
    pv_buf_free(&mem);
    pv_buf_free(&files);
    pv_buf_free(&baked);
    return 0;
}
