/*
 * getter.c: pv_get, the direct key lookup of pv.h (docs/SQL.md, "Direct
 * key lookup").
 *
 * A getter is bound to one table at open and holds everything a lookup
 * needs, so pv_get allocates nothing once its buffer has grown:
 *   - `.pvdb`: a reference to the mapping current at open (a later
 *     pv_reopen does not move it), the table's index in it, and the
 *     column list 0..ncols-1; a lookup is pvdb_find_row (the key index,
 *     docs/BAKE.md 4) then pvdb_read_row (one value per column, straight
 *     from the mapping, misses of all columns overlapped), with the
 *     getter's row cache (the chunks of row groups read before stay open).
 *   - workspace: the table name; a lookup is pv_db_lookup (the in-memory
 *     key index), the values borrowed from the loaded table.
 * Key cells are converted to the key column's type first (key_cell), as
 * both stores' indexes compare typed values: numbers by value whatever
 * their type (5.0 finds the INTEGER key 5, 5.5 finds nothing), TEXT and
 * BLOB by bytes, and no text/number conversion.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pvdb.h"
#include "pvdb_impl.h"
#include "util.h"

struct pv_getter {
    pv_db *db;
    pv_db_map *map;          /* .pvdb: the mapping read (a reference) */
    uint32_t table;          /* .pvdb: table index in map->file */
    char *name;              /* the table name as given (workspace lookups) */
    const pv_schema *schema; /* .pvdb: lives with map */
    uint32_t ncols, npk;
    uint32_t *cols;          /* 0 .. ncols-1 */
    pv_value *vals;          /* ncols values of the last row read */
    pv_value *key;           /* npk values */
    int *ktype;              /* type of each key column (fixed for a table's life) */
    pv_buf buf;              /* decoded strings of the last row */
    pvdb_rowcache *rowcache; /* .pvdb: chunks kept opened between lookups */
};

PV_API int pv_getter_open(pv_db *db, const char *table, pv_getter **out)
{
    pv_getter *g;
    pv_source src;
    uint32_t i;
    int rc;
    if (out) *out = NULL;
    if (!db || !table || !out) return pv_err(PV_EMISUSE, "pv_getter_open: db, table and out must not be NULL");
    if (!(g = calloc(1, sizeof *g))) return pv_err(PV_ENOMEM, "out of memory opening a getter");
    g->db = db;
    g->map = pv_db_map_acquire(db);
    rc = pv_db_find_table_in(db, g->map, table, strlen(table), &src);
    if (rc) goto fail;
    g->schema = src.schema;
    g->ncols = src.schema->ncols;
    g->npk = src.schema->npk;
    if (g->map) g->table = (uint32_t)pvdb_table_index(g->map->file, table, strlen(table));
    g->name = strdup(table);
    g->cols = malloc(g->ncols * sizeof *g->cols + 1);
    g->vals = malloc(g->ncols * sizeof *g->vals + 1);
    g->key = malloc(g->npk * sizeof *g->key + 1);
    g->ktype = malloc(g->npk * sizeof *g->ktype + 1);
    if (!g->name || !g->cols || !g->vals || !g->key || !g->ktype) {
        rc = pv_err(PV_ENOMEM, "out of memory opening a getter on table %s", table);
        goto fail;
    }
    for (i = 0; i < g->ncols; i++) g->cols[i] = i;
    for (i = 0; i < g->npk; i++) g->ktype[i] = src.schema->cols[src.schema->pk[i]].type;
    if (!g->map) g->schema = NULL; /* a workspace schema may change: fetched per call */
    /* front-coded strings out of their cached pages, held until a later
     * pv_get moves on; array dictionaries' stay in the mapping, which
     * pv_get promises until pv_getter_close */
    if (g->map && (rc = pvdb_rowcache_hold(&g->rowcache, PV_DEC_HOLD_PAGES))) goto fail;
    pv_db_count_user(db, 1);
    *out = g;
    return PV_OK;
fail:
    pvdb_rowcache_free(g->rowcache);
    pv_db_map_release(g->map);
    free(g->name);
    free(g->cols);
    free(g->vals);
    free(g->key);
    free(g->ktype);
    free(g);
    return rc;
}

PV_API int pv_getter_close(pv_getter *g)
{
    if (!g) return PV_OK;
    pv_db_count_user(g->db, -1);
    pv_db_map_release(g->map);
    pv_buf_free(&g->buf);
    pvdb_rowcache_free(g->rowcache);
    free(g->name);
    free(g->cols);
    free(g->vals);
    free(g->key);
    free(g->ktype);
    free(g);
    return PV_OK;
}

PV_API int pv_getter_columns(const pv_getter *g)
{
    return g ? (int)g->ncols : 0;
}

/* A key cell as the value a key column of `type` would hold if it were
 * equal: 1, or 0 when no stored key can equal the cell (NULL, NaN, a
 * number that the column's type cannot hold exactly, a string against a
 * number column or the reverse). Numbers compare by value: a REAL of
 * integer value finds an INTEGER key (which then takes the fast path:
 * LINEAR arithmetic, packed-block search) and an INTEGER a REAL key. */
static int key_cell(const pv_cell *c, int idx, int type, pv_value *out)
{
    int64_t i;
    double f;
    switch (c->type) {
    case PV_NULL: return 0;
    case PV_INTEGER:
    case PV_BOOLEAN:
    case PV_REAL:
        if (type != PV_INTEGER && type != PV_REAL && type != PV_BOOLEAN) return 0;
        if (c->type == PV_REAL) {
            f = c->u.f;
            if (f != f) return 0; /* NaN: stored as NULL, never a key */
            if (type == PV_REAL) {
                *out = pv_v_real(f);
                return 1;
            }
            if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0) || (double)(int64_t)f != f)
                return 0;
            i = (int64_t)f;
        } else {
            i = c->type == PV_BOOLEAN ? c->u.i != 0 : c->u.i;
        }
        if (type == PV_REAL) {
            f = (double)i;
            if (!(f < 9223372036854775808.0) || (int64_t)f != i) return 0; /* not exact */
            *out = pv_v_real(f);
        } else if (type == PV_BOOLEAN) {
            if (i != 0 && i != 1) return 0;
            *out = pv_v_bool((int)i);
        } else {
            *out = pv_v_int(i);
        }
        return 1;
    case PV_TEXT:
    case PV_BLOB:
        if (c->u.s.n && !c->u.s.p)
            return pv_err(PV_EMISUSE, "pv_get: key %d: NULL pointer with length %zu", idx, c->u.s.n);
        if (c->type != type) return 0;
        *out = c->type == PV_TEXT ? pv_v_text(c->u.s.p, c->u.s.n) : pv_v_blob(c->u.s.p, c->u.s.n);
        return 1;
    default: return pv_err(PV_EMISUSE, "pv_get: key %d has no type %d", idx, c->type);
    }
}

static void to_cell(const pv_value *v, pv_cell *c)
{
    c->type = v->type;
    switch (v->type) {
    case PV_NULL: c->u.i = 0; break;
    case PV_REAL: c->u.f = v->u.f; break;
    case PV_TEXT:
    case PV_BLOB:
        c->u.s.p = v->u.s.p;
        c->u.s.n = v->u.s.n;
        break;
    default: c->u.i = v->u.i; break;
    }
}

/* The row through the workspace's key index: 1 with *row, 0, or an error. */
static int ws_get(pv_getter *g, const pv_value **row, uint32_t *ncols)
{
    pv_source src;
    int rc = pv_db_find_table(g->db, g->name, strlen(g->name), &src);
    if (rc) return rc;
    if (src.schema->npk != g->npk)
        return pv_err(PV_EMISUSE, "table %s changed since the getter was opened: open it again", g->name);
    *ncols = src.schema->ncols;
    return pv_db_lookup(g->db, g->name, g->key, row);
}

PV_API int pv_get(pv_getter *g, const pv_cell *key, int nkey, pv_cell *row, int ncols)
{
    const pv_value *vals = NULL;
    uint32_t k, have = 0;
    uint64_t r;
    int rc, i;
    if (!g) return pv_err(PV_EMISUSE, "pv_get: getter is NULL");
    if (nkey < 0 || (uint32_t)nkey != g->npk)
        return pv_err(PV_ERANGE, "pv_get: table %s has a key of %u columns, %d given", g->name,
                      g->npk, nkey);
    if (ncols < 0 || (uint32_t)ncols > g->ncols)
        return pv_err(PV_ERANGE, "pv_get: table %s has %u columns, %d asked", g->name, g->ncols, ncols);
    if ((nkey && !key) || (ncols && !row))
        return pv_err(PV_EMISUSE, "pv_get: key and row must not be NULL");
    for (k = 0; k < g->npk; k++) {
        rc = key_cell(&key[k], (int)k, g->ktype[k], &g->key[k]);
        if (rc <= 0) return rc; /* a NULL key cell finds nothing */
    }
    if (g->map) {
        rc = pvdb_find_row_cached(g->map->file, g->table, g->key, g->npk, &r, &g->rowcache);
        if (rc <= 0) return rc;
        rc = pvdb_read_row_cached(g->map->file, g->table, r, g->cols, (uint32_t)ncols, g->vals,
                                  &g->buf, &g->rowcache);
        if (rc) return rc;
        vals = g->vals;
    } else {
        rc = ws_get(g, &vals, &have);
        if (rc <= 0) return rc;
        if ((uint32_t)ncols > have)
            return pv_err(PV_ERANGE, "pv_get: table %s has %u columns, %d asked", g->name, have, ncols);
    }
    for (i = 0; i < ncols; i++) to_cell(&vals[i], &row[i]);
    return PV_ROW;
}
