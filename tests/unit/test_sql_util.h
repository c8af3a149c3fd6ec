/*
 * test_sql_util.h: the workspace fixture and query helpers shared by the
 * SQL test binaries (test_sql.c, test_sql_dml.c, test_sql_diff.c). Include
 * after <cmocka.h>.
 */
#ifndef PV_TEST_SQL_UTIL_H
#define PV_TEST_SQL_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pv.h"
#include "util.h"

/* ---- workspace fixture -------------------------------------------------------------- */

typedef struct fixture {
    char dir[64];
    pv_db *db;
} fixture;

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline int setup_ws(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/pv_test_sql_XXXXXX");
    if (!mkdtemp(f->dir) || pv_workspace_init(f->dir) || pv_open(f->dir, PV_OPEN_READWRITE, &f->db)) {
        fprintf(stderr, "fixture: %s\n", pv_errmsg());
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static inline int teardown_ws(void **state)
{
    fixture *f = *state;
    int rc = pv_close(f->db);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc == 0 ? 0 : -1;
}

static inline void exec_ok(pv_db *db, const char *sql)
{
    int rc = pv_exec(db, sql);
    if (rc) fail_msg("%s: %d %s", sql, rc, pv_errmsg());
}

/* INSERT INTO `table` rows 0 .. n-1, as multi-row statements of 500 rows
 * (so a test fills thousands of rows in a few statements); row(b, i, ctx)
 * appends row i's "(...)" to b. */
static inline void insert_rows(pv_db *db, const char *table, int n,
                               void (*row)(pv_buf *b, int i, void *ctx), void *ctx)
{
    pv_buf b = PV_BUF_INIT;
    int i;
    for (i = 0; i < n; i++) {
        if (i % 500 == 0) {
            b.len = 0;
            pv_buf_printf(&b, "INSERT INTO %s VALUES ", table);
        } else {
            pv_buf_putc(&b, ',');
        }
        row(&b, i, ctx);
        if (i % 500 == 499 || i == n - 1) {
            pv_buf_putc(&b, 0);
            exec_ok(db, b.p);
        }
    }
    pv_buf_free(&b);
}

/* Rows as sqlite3 -batch prints them: cells joined by '|', NULL empty. */
static inline char *query(pv_db *db, const char *sql, int *rc_out)
{
    pv_stmt *st = NULL;
    pv_buf b = PV_BUF_INIT;
    char *out;
    int rc = pv_prepare(db, sql, (size_t)-1, &st, NULL);
    while (rc >= 0 && st && (rc = pv_step(st)) == PV_ROW) {
        int c;
        for (c = 0; c < pv_column_count(st); c++) {
            const char *t = pv_column_text(st, c);
            if (c) pv_buf_putc(&b, '|');
            if (t) pv_buf_append(&b, t, strlen(t));
        }
        pv_buf_putc(&b, '\n');
    }
    pv_finalize(st);
    if (rc_out) *rc_out = rc;
    pv_buf_putc(&b, 0);
    out = strdup(b.p);
    pv_buf_free(&b);
    return out;
}

static inline void check_query(pv_db *db, const char *sql, const char *want)
{
    int rc;
    char *got = query(db, sql, &rc);
    if (rc < 0) fail_msg("%s: %d %s", sql, rc, pv_errmsg());
    if (strcmp(got, want)) fail_msg("%s:\n--- got\n%s--- want\n%s", sql, got, want);
    free(got);
}

static inline void check_query_error(pv_db *db, const char *sql, int code, const char *msg)
{
    int rc;
    char *got = query(db, sql, &rc);
    free(got);
    if (rc != code) fail_msg("%s: want %d, got %d (%s)", sql, code, rc, pv_errmsg());
    if (msg && strcmp(pv_errmsg(), msg)) fail_msg("%s: message '%s', want '%s'", sql, pv_errmsg(), msg);
}

#endif
