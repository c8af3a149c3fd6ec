/*
 * test_pair_util.h: one workspace and its bake, open side by side, for
 * tests that compare the two storage shapes (test_sql_pvdb.c, test_agg.c,
 * test_getter.c).
 */
#ifndef PV_TEST_PAIR_UTIL_H
#define PV_TEST_PAIR_UTIL_H

#include "pvdb.h"
#include "test_sql_util.h"
#include "ws.h"

typedef struct pair_fixture {
    fixture ws;     /* the workspace, open read-write */
    char path[96];  /* its .pvdb */
    pv_db *pdb;     /* the .pvdb, open */
} pair_fixture;

/* Tables s (TEXT key 'k00000', 'k00003', ..., 3000 rows) and c (key
 * (a, b), 40 x 100 rows) of the differential query sets (test_sql_pvdb.c,
 * test_span.c): created and filled inside the caller's transaction. */
static inline void fill_s_and_c(pv_db *db)
{
    pv_buf b = PV_BUF_INIT;
    int i;
    exec_ok(db, "CREATE TABLE s (k TEXT PRIMARY KEY, n INTEGER)");
    exec_ok(db, "CREATE TABLE c (a INTEGER, b TEXT, v INTEGER, PRIMARY KEY (a, b))");
    for (i = 0; i < 3000; i += 500) {
        b.len = 0;
        pv_buf_printf(&b, "INSERT INTO s VALUES ");
        for (int j = i; j < i + 500; j++) pv_buf_printf(&b, "%s('k%05d', %d)", j == i ? "" : ",", j * 3, j);
        pv_buf_putc(&b, 0);
        exec_ok(db, b.p);
    }
    for (i = 0; i < 40; i++) {
        b.len = 0;
        pv_buf_printf(&b, "INSERT INTO c VALUES ");
        for (int j = 0; j < 100; j++)
            pv_buf_printf(&b, "%s(%d, 'b%02d', %d)", j ? "," : "", i * 2, j, i * 100 + j);
        pv_buf_putc(&b, 0);
        exec_ok(db, b.p);
    }
    pv_buf_free(&b);
}

/* A workspace filled by `fill`, baked with `rows_per_group` rows per row
 * group (small, so tests cross groups and dictionaries), both open. */
static inline int setup_pair(void **state, void (*fill)(pv_db *), uint32_t rows_per_group)
{
    pair_fixture *f = calloc(1, sizeof *f);
    void *ws_state = NULL;
    pv_bake_opts o = PV_BAKE_OPTS_INIT;
    pv_bake_table tables[8];
    pv_ws *ws = NULL;
    uint32_t n, i;
    if (!f || setup_ws(&ws_state)) return -1;
    f->ws = *(fixture *)ws_state;
    free(ws_state);
    fill(f->ws.db);
    snprintf(f->path, sizeof f->path, "%s/t.pvdb", f->ws.dir);
    if (pv_ws_open(f->ws.dir, 0, &ws)) return -1;
    n = pv_ws_table_count(ws);
    if (n > 8) return -1;
    for (i = 0; i < n; i++)
        if (pv_ws_table_bake(ws, i, &tables[i])) return -1;
    o.rows_per_group = rows_per_group;
    if (pv_bake_write_opts(f->path, tables, n, NULL, &o)) return -1;
    pv_ws_close(ws);
    if (pv_open(f->path, PV_OPEN_READONLY, &f->pdb)) {
        fprintf(stderr, "open: %s\n", pv_errmsg());
        return -1;
    }
    *state = f;
    return 0;
}

static inline int teardown_pair(void **state)
{
    pair_fixture *f = *state;
    fixture *w = malloc(sizeof *w);
    void *ws_state = w;
    int rc = pv_close(f->pdb);
    *w = f->ws;
    free(f);
    return teardown_ws(&ws_state) || rc ? -1 : 0;
}

#endif
