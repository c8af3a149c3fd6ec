/*
 * shell_param.c: the values of `?N` parameters for `pvdev sql` (--param)
 * and its shell's .parameter command, with sqlite3's semantics: a value is
 * an SQL expression evaluated once when set, listed quoted, bound as it is.
 */
#include "shell_param.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

int pvdev_param_name(const char *name, int *idx)
{
    long v = 0;
    const char *p = name + 1;
    if (name[0] != '?' || !*p || *p == '0') return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
        if (v > PVDEV_PARAM_MAX) return -1;
    }
    *idx = (int)v;
    return 0;
}

static void param_free(pvdev_param *p)
{
    free(p->bytes);
    free(p->shown);
}

/* The slot of ?idx: found, or made (empty) in order. NULL: out of memory. */
static pvdev_param *slot(pvdev_param_set *ps, int idx)
{
    int k;
    pvdev_param *v;
    for (k = 0; k < ps->n && ps->v[k].idx < idx; k++) {}
    if (k < ps->n && ps->v[k].idx == idx) {
        param_free(&ps->v[k]);
    } else {
        if (!(v = realloc(ps->v, ((size_t)ps->n + 1) * sizeof *v))) return NULL;
        ps->v = v;
        memmove(&v[k + 1], &v[k], (size_t)(ps->n - k) * sizeof *v);
        ps->n++;
    }
    memset(&ps->v[k], 0, sizeof ps->v[k]);
    ps->v[k].idx = idx;
    return &ps->v[k];
}

/* `text` as an SQL string literal: 'it''s'. */
static char *quote_text(const char *text, size_t n)
{
    size_t i, k = 0, q = 0;
    char *s;
    for (i = 0; i < n; i++) q += text[i] == '\'';
    if (!(s = malloc(n + q + 3))) return NULL;
    s[k++] = '\'';
    for (i = 0; i < n; i++) {
        s[k++] = text[i];
        if (text[i] == '\'') s[k++] = '\'';
    }
    s[k++] = '\'';
    s[k] = '\0';
    return s;
}

static char *quote_blob(const unsigned char *b, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    char *s = malloc(2 * n + 4);
    size_t i;
    if (!s) return NULL;
    s[0] = 'X';
    s[1] = '\'';
    for (i = 0; i < n; i++) {
        s[2 + 2 * i] = hex[b[i] >> 4];
        s[3 + 2 * i] = hex[b[i] & 15];
    }
    s[2 + 2 * n] = '\'';
    s[3 + 2 * n] = '\0';
    return s;
}

static int set_bytes(pvdev_param *p, int type, const void *data, size_t n)
{
    p->type = type;
    p->n = n;
    if (!(p->bytes = malloc(n + 1))) return pv_err(PV_ENOMEM, "out of memory");
    if (n) memcpy(p->bytes, data, n);
    p->bytes[n] = '\0';
    p->shown = type == PV_TEXT ? quote_text(data, n) : quote_blob(data, n);
    return p->shown ? 0 : pv_err(PV_ENOMEM, "out of memory");
}

int pvdev_param_set_text(pvdev_param_set *ps, int idx, const char *text, size_t n)
{
    pvdev_param *p = slot(ps, idx);
    if (!p) return pv_err(PV_ENOMEM, "out of memory");
    return set_bytes(p, PV_TEXT, text, n);
}

/* The first column of the statement's row as the parameter's value. */
static int take_value(pvdev_param *p, pv_stmt *st)
{
    const char *t;
    p->type = pv_column_type(st, 0);
    switch (p->type) {
    case PV_NULL:
        p->shown = strdup("NULL");
        break;
    case PV_INTEGER:
    case PV_BOOLEAN:
    case PV_REAL:
        p->i = pv_column_int64(st, 0);
        p->d = pv_column_double(st, 0);
        t = pv_column_text(st, 0); /* INTEGER's digits, REAL's shortest round trip */
        p->shown = t ? strdup(t) : NULL;
        break;
    case PV_TEXT:
        t = pv_column_text(st, 0);
        return set_bytes(p, PV_TEXT, t ? t : "", pv_column_bytes(st, 0));
    default:
        return set_bytes(p, PV_BLOB, pv_column_blob(st, 0), pv_column_bytes(st, 0));
    }
    return p->shown ? 0 : pv_err(PV_ENOMEM, "out of memory");
}

int pvdev_param_set_expr(pvdev_param_set *ps, pv_db *db, int idx, const char *expr)
{
    size_t n = strlen(expr);
    char *sql = malloc(n + 8);
    pv_stmt *st = NULL;
    pvdev_param *p;
    int rc;
    if (!sql) return pv_err(PV_ENOMEM, "out of memory");
    memcpy(sql, "SELECT ", 7);
    memcpy(sql + 7, expr, n + 1);
    /* one expression giving one value, else the text as written */
    rc = pv_prepare(db, sql, n + 7, &st, NULL);
    if (rc == 0 && st && pv_column_count(st) == 1 && pv_bind_count(st) == 0 && pv_step(st) == PV_ROW) {
        if (!(p = slot(ps, idx))) rc = pv_err(PV_ENOMEM, "out of memory");
        else rc = take_value(p, st);
    } else {
        rc = pvdev_param_set_text(ps, idx, expr, n);
    }
    pv_finalize(st);
    free(sql);
    return rc;
}

void pvdev_param_unset(pvdev_param_set *ps, int idx)
{
    int k;
    for (k = 0; k < ps->n; k++)
        if (ps->v[k].idx == idx) {
            param_free(&ps->v[k]);
            memmove(&ps->v[k], &ps->v[k + 1], (size_t)(ps->n - k - 1) * sizeof ps->v[k]);
            ps->n--;
            return;
        }
}

void pvdev_param_clear(pvdev_param_set *ps)
{
    int k;
    for (k = 0; k < ps->n; k++) param_free(&ps->v[k]);
    free(ps->v);
    ps->v = NULL;
    ps->n = 0;
}

/* Names in text order, as sqlite3 lists its parameter table's keys. */
static int cmp_name(const void *a, const void *b)
{
    char x[16], y[16];
    snprintf(x, sizeof x, "?%d", (*(const pvdev_param *const *)a)->idx);
    snprintf(y, sizeof y, "?%d", (*(const pvdev_param *const *)b)->idx);
    return strcmp(x, y);
}

void pvdev_param_list(const pvdev_param_set *ps, FILE *f)
{
    const pvdev_param **order;
    int k, width = 0;
    if (!ps->n || !(order = malloc((size_t)ps->n * sizeof *order))) return;
    for (k = 0; k < ps->n; k++) {
        char name[16];
        int w = snprintf(name, sizeof name, "?%d", ps->v[k].idx);
        if (w > width) width = w;
        order[k] = &ps->v[k];
    }
    qsort(order, (size_t)ps->n, sizeof *order, cmp_name);
    for (k = 0; k < ps->n; k++) {
        char name[16];
        snprintf(name, sizeof name, "?%d", order[k]->idx);
        fprintf(f, "%-*s %s\n", width, name, order[k]->shown);
    }
    free(order);
}

static const pvdev_param *find(const pvdev_param_set *ps, int idx)
{
    int k;
    for (k = 0; k < ps->n; k++)
        if (ps->v[k].idx == idx) return &ps->v[k];
    return NULL;
}

static int bind_one(pv_stmt *st, int i, const pvdev_param *p)
{
    switch (p->type) {
    case PV_NULL: return pv_bind_null(st, i);
    case PV_INTEGER: return pv_bind_int64(st, i, p->i);
    case PV_BOOLEAN: return pv_bind_bool(st, i, (int)p->i);
    case PV_REAL: return pv_bind_double(st, i, p->d);
    case PV_TEXT: return pv_bind_text(st, i, p->bytes, p->n);
    default: return pv_bind_blob(st, i, p->bytes, p->n);
    }
}

int pvdev_param_bind(const pvdev_param_set *ps, pv_stmt *st, int strict)
{
    int n = pv_bind_count(st), i, rc;
    for (i = 1; i <= n; i++) {
        const pvdev_param *p = find(ps, i);
        if (!p && strict)
            return pv_err(PV_ERANGE,
                          "the statement uses %d parameter%s; %d value%s given with --param (?%d has none)",
                          n, n == 1 ? "" : "s", ps->n, ps->n == 1 ? " was" : "s were", i);
        if (p && (rc = bind_one(st, i, p)) < 0) return pv_err(rc, "parameter ?%d: %s", i, pv_errmsg());
    }
    return 0;
}
