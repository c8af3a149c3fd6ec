/*
 * schema.c: building and checking table schemas.
 */
#include <stdlib.h>
#include <string.h>

#include "pv.h"
#include "schema.h"
#include "util.h"
#include "value.h"

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

int pv_table_name_ok(const char *name, size_t len)
{
    size_t i;
    if (len == 0 || len > PV_MAX_TABLE_NAME) return 0;
    for (i = 0; i < len; i++) {
        char c = name[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return 0;
    }
    return 1;
}

int pv_column_name_ok(const char *name, size_t len)
{
    size_t i;
    if (len == 0 || len > PV_MAX_COLUMN_NAME) return 0;
    if (!pv_utf8_valid(name, len, NULL)) return 0;
    for (i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7F) return 0;
    return 1;
}

pv_schema *pv_schema_new(const char *name, size_t len)
{
    pv_schema *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->name = dup_n(name, len);
    if (!s->name) {
        free(s);
        return NULL;
    }
    return s;
}

void pv_schema_free(pv_schema *s)
{
    uint32_t i;
    if (!s) return;
    for (i = 0; i < s->ncols; i++) free(s->cols[i].name);
    free(s->cols);
    free(s->pk);
    free(s->name);
    free(s);
}

pv_schema *pv_schema_clone(const pv_schema *s)
{
    pv_schema *c = pv_schema_new(s->name, strlen(s->name));
    uint32_t i;
    if (!c) return NULL;
    c->cols = calloc(s->ncols ? s->ncols : 1, sizeof *c->cols);
    c->pk = calloc(s->npk ? s->npk : 1, sizeof *c->pk);
    if (!c->cols || !c->pk) goto fail;
    for (i = 0; i < s->ncols; i++) {
        c->cols[i] = s->cols[i];
        c->cols[i].name = dup_n(s->cols[i].name, strlen(s->cols[i].name));
        c->ncols = i + 1;
        if (!c->cols[i].name) goto fail;
    }
    if (s->npk) memcpy(c->pk, s->pk, s->npk * sizeof *c->pk);
    c->npk = s->npk;
    return c;
fail:
    pv_schema_free(c);
    return NULL;
}

int pv_schema_find(const pv_schema *s, const char *name, size_t len)
{
    uint32_t i;
    for (i = 0; i < s->ncols; i++)
        if (pv_ident_eq(s->cols[i].name, strlen(s->cols[i].name), name, len))
            return (int)i;
    return -1;
}

int pv_schema_add_column(pv_schema *s, const char *name, size_t len, int type,
                         int not_null)
{
    pv_column *cols;
    if (!pv_column_name_ok(name, len))
        return pv_err(PV_EINPUT, "table %s: bad column name '%.*s'", s->name,
                      (int)(len > 64 ? 64 : len), name);
    if (pv_schema_find(s, name, len) >= 0)
        return pv_err(PV_EEXISTS, "table %s: duplicate column name '%.*s'",
                      s->name, (int)len, name);
    if (s->ncols >= PV_MAX_COLUMNS)
        return pv_err(PV_ELIMIT, "table %s: more than %d columns", s->name,
                      PV_MAX_COLUMNS);
    if (type < PV_INTEGER || type > PV_BOOLEAN)
        return pv_err(PV_ETYPE, "table %s: bad type for column '%.*s'", s->name,
                      (int)len, name);
    cols = realloc(s->cols, (s->ncols + 1) * sizeof *cols);
    if (!cols) return pv_err(PV_ENOMEM, "out of memory");
    s->cols = cols;
    memset(&cols[s->ncols], 0, sizeof cols[0]);
    cols[s->ncols].name = dup_n(name, len);
    if (!cols[s->ncols].name) return pv_err(PV_ENOMEM, "out of memory");
    cols[s->ncols].type = type;
    cols[s->ncols].not_null = not_null ? 1 : 0;
    cols[s->ncols].pk_pos = -1;
    s->ncols++;
    return PV_OK;
}

int pv_schema_set_pk(pv_schema *s, const uint32_t *cols, uint32_t n)
{
    uint32_t i;
    if (s->npk) return pv_err(PV_EEXISTS, "table %s has more than one primary key", s->name);
    if (n == 0) return pv_err(PV_ERANGE, "table %s: empty primary key", s->name);
    for (i = 0; i < n; i++) {
        if (cols[i] >= s->ncols)
            return pv_err(PV_ERANGE, "table %s: primary key column out of range", s->name);
        if (s->cols[cols[i]].pk_pos >= 0)
            return pv_err(PV_EEXISTS, "table %s: column %s twice in the primary key",
                          s->name, s->cols[cols[i]].name);
        s->cols[cols[i]].pk_pos = (int)i;
    }
    s->pk = malloc(n * sizeof *s->pk);
    if (!s->pk) return pv_err(PV_ENOMEM, "out of memory");
    memcpy(s->pk, cols, n * sizeof *s->pk);
    s->npk = n;
    for (i = 0; i < n; i++) s->cols[cols[i]].not_null = 1;
    return PV_OK;
}

int pv_schema_finish(pv_schema *s)
{
    uint32_t key;
    int rc;
    if (s->ncols == 0) return pv_err(PV_EINPUT, "table %s has no columns", s->name);
    if (s->npk) return PV_OK;
    rc = pv_schema_add_column(s, PV_HIDDEN_KEY_NAME, strlen(PV_HIDDEN_KEY_NAME),
                              PV_TEXT, 1);
    if (rc) return rc;
    s->cols[s->ncols - 1].hidden = 1;
    key = s->ncols - 1;
    return pv_schema_set_pk(s, &key, 1);
}
