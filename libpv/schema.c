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

static void free_names(char **names, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* A copy of n names; NULL on failure (or when n is 0 and names NULL). */
static char **dup_names(char **names, uint32_t n, int *fail)
{
    char **d;
    uint32_t i;
    *fail = 0;
    if (!n) return NULL;
    if (!(d = calloc(n, sizeof *d))) return *fail = 1, NULL;
    for (i = 0; i < n; i++)
        if (!(d[i] = dup_n(names[i], strlen(names[i])))) {
            free_names(d, i);
            return *fail = 1, NULL;
        }
    return d;
}

static int push_name(char ***names, uint32_t *n, const char *name)
{
    char **g = realloc(*names, (*n + 1) * sizeof *g);
    if (!g) return pv_err(PV_ENOMEM, "out of memory");
    *names = g;
    if (!(g[*n] = dup_n(name, strlen(name)))) return pv_err(PV_ENOMEM, "out of memory");
    (*n)++;
    return PV_OK;
}

void pv_schema_free(pv_schema *s)
{
    uint32_t i;
    if (!s) return;
    for (i = 0; i < s->ncols; i++) {
        free(s->cols[i].name);
        free_names(s->cols[i].aliases, s->cols[i].naliases);
        free(s->cols[i].dflt);
    }
    free_names(s->dropped, s->ndropped);
    for (i = 0; i < s->nindexes; i++) {
        free(s->indexes[i].name);
        free(s->indexes[i].cols);
    }
    free(s->indexes);
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
        int bad;
        c->cols[i] = s->cols[i];
        c->cols[i].dflt = NULL;
        c->cols[i].aliases = dup_names(s->cols[i].aliases, s->cols[i].naliases, &bad);
        c->cols[i].name = dup_n(s->cols[i].name, strlen(s->cols[i].name));
        c->ncols = i + 1;
        if (!bad && s->cols[i].dflt && pv_schema_set_default(c, i, s->cols[i].dflt)) bad = 1;
        if (!c->cols[i].name || bad) goto fail;
    }
    if (s->npk) memcpy(c->pk, s->pk, s->npk * sizeof *c->pk);
    c->npk = s->npk;
    {
        int bad;
        c->dropped = dup_names(s->dropped, s->ndropped, &bad);
        if (bad) goto fail;
        c->ndropped = s->ndropped;
    }
    for (i = 0; i < s->nindexes; i++) {
        const pv_index_def *x = &s->indexes[i];
        if (pv_schema_add_index(c, x->name, strlen(x->name), x->unique, x->cols, x->ncols)) goto fail;
    }
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

static int name_in(char **names, uint32_t n, const char *name, size_t len)
{
    uint32_t i;
    for (i = 0; i < n; i++)
        if (pv_ident_eq(names[i], strlen(names[i]), name, len)) return 1;
    return 0;
}

int pv_schema_find_history(const pv_schema *s, const char *name, size_t len)
{
    uint32_t i;
    int c = pv_schema_find(s, name, len);
    if (c >= 0) return c;
    for (i = 0; i < s->ncols; i++)
        if (name_in(s->cols[i].aliases, s->cols[i].naliases, name, len)) return (int)i;
    return name_in(s->dropped, s->ndropped, name, len) ? PV_SCHEMA_DROPPED : -1;
}

const char *pv_column_first_name(const pv_column *c) { return c->naliases ? c->aliases[0] : c->name; }

int pv_schema_find_first(const pv_schema *s, const char *first)
{
    uint32_t i;
    for (i = 0; i < s->ncols; i++) {
        const char *f = pv_column_first_name(&s->cols[i]);
        if (pv_ident_eq(f, strlen(f), first, strlen(first))) return (int)i;
    }
    return -1;
}

/* A name is free when no column uses it now and no old chunk may use it. */
static int name_free(const pv_schema *s, const char *name, size_t len)
{
    int c = pv_schema_find_history(s, name, len);
    if (c == -1) return PV_OK;
    if (c >= 0 && pv_schema_find(s, name, len) < 0)
        return pv_err(PV_EEXISTS, "table %s: '%.*s' is an earlier name of column %s (old chunks use it)",
                      s->name, (int)len, name, s->cols[c].name);
    if (c == PV_SCHEMA_DROPPED)
        return pv_err(PV_EEXISTS, "table %s: a dropped column was called '%.*s' (old chunks use it); choose another name",
                      s->name, (int)len, name);
    return pv_err(PV_EEXISTS, "table %s: duplicate column name '%.*s'", s->name, (int)len, name);
}

int pv_schema_set_default(pv_schema *s, uint32_t col, const pv_value *v)
{
    pv_value conv, *d;
    char scratch[32];
    size_t n;
    if (col >= s->ncols) return pv_err(PV_ERANGE, "column %u out of range", col);
    free(s->cols[col].dflt);
    s->cols[col].dflt = NULL;
    if (!v || v->type == PV_NULL) return PV_OK;
    if (pv_value_convert(v, s->cols[col].type, &conv, scratch) != PV_OK || conv.type == PV_NULL)
        return pv_err(PV_ETYPE, "table %s: the default of column %s is not a %s", s->name, s->cols[col].name,
                      pv_type_name(s->cols[col].type));
    n = conv.type == PV_TEXT || conv.type == PV_BLOB ? conv.u.s.n : 0;
    /* one allocation: the value, then its bytes */
    if (!(d = malloc(sizeof *d + n + 1))) return pv_err(PV_ENOMEM, "out of memory");
    *d = conv;
    if (conv.type == PV_TEXT || conv.type == PV_BLOB) {
        char *bytes = (char *)(d + 1);
        if (n) memcpy(bytes, conv.u.s.p, n);
        bytes[n] = '\0';
        d->u.s.p = bytes;
    }
    s->cols[col].dflt = d;
    return PV_OK;
}

int pv_schema_rename_column(pv_schema *s, uint32_t col, const char *name, size_t len)
{
    pv_column *c;
    int rc;
    if (col >= s->ncols) return pv_err(PV_ERANGE, "column %u out of range", col);
    c = &s->cols[col];
    if (!pv_column_name_ok(name, len))
        return pv_err(PV_EINPUT, "table %s: bad column name '%.*s'", s->name, (int)(len > 64 ? 64 : len), name);
    if ((rc = name_free(s, name, len))) return rc;
    if ((rc = push_name(&c->aliases, &c->naliases, c->name))) return rc;
    free(c->name);
    if (!(c->name = dup_n(name, len))) return pv_err(PV_ENOMEM, "out of memory");
    return PV_OK;
}

int pv_schema_drop_column(pv_schema *s, uint32_t col)
{
    pv_column *c;
    uint32_t i, k;
    int rc, ix;
    if (col >= s->ncols) return pv_err(PV_ERANGE, "column %u out of range", col);
    c = &s->cols[col];
    if (c->pk_pos >= 0 || c->hidden)
        return pv_err(PV_ECONSTRAINT, "table %s: cannot drop column %s: it is part of the primary key", s->name, c->name);
    if ((ix = pv_schema_index_using(s, col)) >= 0)
        return pv_err(PV_ECONSTRAINT, "table %s: cannot drop column %s: index %s uses it (drop the index first)",
                      s->name, c->name, s->indexes[ix].name);
    if ((rc = push_name(&s->dropped, &s->ndropped, c->name))) return rc;
    for (i = 0; i < c->naliases; i++)
        if ((rc = push_name(&s->dropped, &s->ndropped, c->aliases[i]))) return rc;
    free(c->name);
    free_names(c->aliases, c->naliases);
    free(c->dflt);
    memmove(c, c + 1, (s->ncols - col - 1) * sizeof *c);
    s->ncols--;
    for (k = 0; k < s->npk; k++)
        if (s->pk[k] > col) s->pk[k]--;
    for (k = 0; k < s->nindexes; k++)
        for (i = 0; i < s->indexes[k].ncols; i++)
            if (s->indexes[k].cols[i] > col) s->indexes[k].cols[i]--;
    return PV_OK;
}

/* ---- indexes ------------------------------------------------------------- */

int pv_schema_find_index(const pv_schema *s, const char *name, size_t len)
{
    uint32_t i;
    for (i = 0; i < s->nindexes; i++)
        if (pv_ident_eq(s->indexes[i].name, strlen(s->indexes[i].name), name, len)) return (int)i;
    return -1;
}

int pv_index_is_auto(const pv_index_def *ix)
{
    return strncmp(ix->name, PV_AUTOINDEX_PREFIX, strlen(PV_AUTOINDEX_PREFIX)) == 0;
}

int pv_schema_index_using(const pv_schema *s, uint32_t col)
{
    uint32_t i, j;
    for (i = 0; i < s->nindexes; i++)
        for (j = 0; j < s->indexes[i].ncols; j++)
            if (s->indexes[i].cols[j] == col) return (int)i;
    return -1;
}

int pv_schema_add_index(pv_schema *s, const char *name, size_t len, int unique,
                        const uint32_t *cols, uint32_t n)
{
    pv_index_def *g, *x;
    uint32_t i;
    if (!pv_column_name_ok(name, len))
        return pv_err(PV_EINPUT, "table %s: bad index name '%.*s'", s->name, (int)(len > 64 ? 64 : len), name);
    if (pv_schema_find_index(s, name, len) >= 0)
        return pv_err(PV_EEXISTS, "index %.*s already exists", (int)len, name);
    if (n == 0 || n > PV_MAX_COLUMNS) return pv_err(PV_ERANGE, "index %.*s: no columns", (int)len, name);
    for (i = 0; i < n; i++)
        if (cols[i] >= s->ncols) return pv_err(PV_ERANGE, "index %.*s: column %u out of range", (int)len, name, cols[i]);
    if (s->nindexes >= PV_MAX_INDEXES)
        return pv_err(PV_ELIMIT, "table %s: more than %d indexes", s->name, PV_MAX_INDEXES);
    if (!(g = realloc(s->indexes, (s->nindexes + 1) * sizeof *g))) return pv_err(PV_ENOMEM, "out of memory");
    s->indexes = g;
    x = &g[s->nindexes];
    memset(x, 0, sizeof *x);
    x->name = dup_n(name, len);
    x->cols = malloc(n * sizeof *x->cols);
    if (!x->name || !x->cols) {
        free(x->name);
        free(x->cols);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    memcpy(x->cols, cols, n * sizeof *x->cols);
    x->ncols = n;
    x->unique = unique ? 1 : 0;
    s->nindexes++;
    return PV_OK;
}

int pv_schema_drop_index(pv_schema *s, uint32_t i)
{
    if (i >= s->nindexes) return pv_err(PV_ERANGE, "index %u out of range", i);
    free(s->indexes[i].name);
    free(s->indexes[i].cols);
    memmove(&s->indexes[i], &s->indexes[i + 1], (s->nindexes - i - 1) * sizeof *s->indexes);
    s->nindexes--;
    return PV_OK;
}

int pv_schema_add_column(pv_schema *s, const char *name, size_t len, int type,
                         int not_null)
{
    pv_column *cols;
    int rc;
    if (!pv_column_name_ok(name, len))
        return pv_err(PV_EINPUT, "table %s: bad column name '%.*s'", s->name,
                      (int)(len > 64 ? 64 : len), name);
    if ((rc = name_free(s, name, len))) return rc;
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

int pv_rows_pk_cmp(const void *pa, const void *pb, void *ctx)
{
    const pv_schema *s = ctx;
    const pv_value *a = *(const pv_value *const *)pa, *b = *(const pv_value *const *)pb;
    uint32_t k;
    for (k = 0; k < s->npk; k++) {
        int c = pv_value_cmp(&a[s->pk[k]], &b[s->pk[k]]);
        if (c) return c;
    }
    return 0;
}
