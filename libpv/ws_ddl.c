/*
 * ws_ddl.c: CREATE, DROP and ALTER TABLE on a workspace. Like row writes,
 * they change the catalog in memory, log what they replaced, and reach the
 * files at commit (ws_txn.c), so a schema change can be rolled back.
 */
#include <stdlib.h>
#include <string.h>

#include "ws_index.h"
#include "ws_internal.h"

int pv_ws_create_table(pv_ws *ws, pv_schema *schema, int if_not_exists)
{
    ws_table *t = NULL;
    const char *name = schema->name;
    int rc, began;

    if ((rc = pv_ws_check_writable(ws))) goto fail;
    if (!pv_table_name_ok(name, strlen(name))) {
        rc = pv_err(PV_EINPUT, "bad table name '%s' (letters, digits and _, at most %d bytes, not starting with a digit)",
                    name, PV_MAX_TABLE_NAME);
        goto fail;
    }
    if ((rc = ws_txn_auto_begin(ws, &began))) goto fail;
    if (ws_find(ws, name)) {
        rc = if_not_exists ? PV_OK : pv_err(PV_EEXISTS, "table %s already exists", name);
        pv_schema_free(schema);
        return ws_txn_auto_end(ws, began, rc);
    }
    if ((rc = ws_table_new(ws, schema, &t))) {
        pv_schema_free(schema);
        return ws_txn_auto_end(ws, began, rc);
    }
    t->loaded = 1; /* nothing to replay */
    t->txn_created = 1;
    if ((rc = ws_catalog_add(ws, t))) {
        ws_table_free(t);
        return ws_txn_auto_end(ws, began, rc);
    }
    if ((rc = ws_txn_log(ws, WS_UNDO_CREATE, t, NULL))) {
        ws_catalog_remove(ws, t);
        ws_table_free(t);
    }
    return ws_txn_auto_end(ws, began, rc);
fail:
    pv_schema_free(schema);
    return rc;
}

int pv_ws_drop_table(pv_ws *ws, const char *table, int if_exists)
{
    ws_table *t;
    int rc, began;
    if ((rc = pv_ws_check_writable(ws))) return rc;
    if ((rc = ws_txn_auto_begin(ws, &began))) return rc;
    if (!(t = ws_find(ws, table))) {
        rc = if_exists ? PV_OK : pv_err(PV_ENOTFOUND, "no such table: %s", table);
        return ws_txn_auto_end(ws, began, rc);
    }
    if (!(rc = ws_txn_log(ws, WS_UNDO_DROP, t, NULL))) ws_catalog_remove(ws, t);
    return ws_txn_auto_end(ws, began, rc);
}

/* The primary key must stay: same columns, same order. */
static int same_key(const ws_table *old, const pv_schema *s, const int *from)
{
    uint32_t k;
    if (s->npk != old->schema->npk) return 0;
    for (k = 0; k < s->npk; k++)
        if (from[s->pk[k]] < 0 || (uint32_t)from[s->pk[k]] != old->schema->pk[k]) return 0;
    return 1;
}

/* Copy every row slot of `old` into `t` at the same index (dead ones too),
 * column i from old column from[i], so the transaction's undo entries for
 * `old` name the same rows of `t`. */
static int copy_rows(ws_table *old, ws_table *t, const int *from)
{
    const pv_schema *s = t->schema;
    pv_value *row = malloc((s->ncols + 1) * sizeof *row);
    size_t r, idx;
    uint32_t c;
    int rc = PV_OK;
    if (!row) return pv_err(PV_ENOMEM, "out of memory");
    for (r = 0; r < old->nrows && !rc; r++) {
        const pv_value *src = &old->vals[r * old->schema->ncols];
        for (c = 0; c < s->ncols; c++) {
            row[c] = from[c] >= 0 ? src[from[c]] : s->cols[c].dflt ? *s->cols[c].dflt : pv_v_null();
            if (old->live[r] && row[c].type == PV_NULL && s->cols[c].not_null) {
                rc = pv_err(PV_ECONSTRAINT, "table %s: new column %s is NOT NULL but the table has rows",
                            s->name, s->cols[c].name);
                break;
            }
        }
        if (!rc) rc = ws_row_append(t, row, &idx);
        if (!rc) rc = ws_key_set(t, idx, ws_key_hash(s, row));
        if (!rc && !old->live[r]) {
            t->live[idx] = 0;
            t->nlive--;
        }
    }
    free(row);
    return rc;
}

static int copy_snapshot(const ws_table *old, ws_table *t)
{
    t->snap_n = old->snap_n;
    t->snap_num = malloc((old->snap_n + 1) * sizeof *t->snap_num);
    t->snap_size = malloc((old->snap_n + 1) * sizeof *t->snap_size);
    if (!t->snap_num || !t->snap_size) return pv_err(PV_ENOMEM, "out of memory");
    if (old->snap_n) {
        memcpy(t->snap_num, old->snap_num, old->snap_n * sizeof *t->snap_num);
        memcpy(t->snap_size, old->snap_size, old->snap_n * sizeof *t->snap_size);
    }
    t->last_chunk = old->last_chunk;
    t->last_size = old->last_size;
    return PV_OK;
}

/* Does some column of `old` have no place in `s` (DROP COLUMN)? */
static int drops_column(const pv_schema *old, const pv_schema *s, const int *from)
{
    uint32_t o, c;
    for (o = 0; o < old->ncols; o++) {
        for (c = 0; c < s->ncols && from[c] != (int)o; c++) continue;
        if (c == s->ncols) return 1;
    }
    return 0;
}

/* Same columns, same order (an index was created or dropped): appends may
 * go on in the open chunk, whose header still lists them. */
static int same_columns(const pv_schema *old, const pv_schema *s, const int *from)
{
    uint32_t c;
    if (old->ncols != s->ncols) return 0;
    for (c = 0; c < s->ncols; c++)
        if (from[c] != (int)c || strcmp(old->cols[c].name, s->cols[c].name) != 0) return 0;
    return 1;
}

/* A unique index the ALTER adds (CREATE UNIQUE INDEX) must hold on the
 * rows already there: name the first duplicate, as SQLite's "UNIQUE
 * constraint failed: t.a" does. */
static int check_new_indexes(ws_table *old, ws_table *t)
{
    const pv_schema *s = t->schema;
    uint32_t i, c;
    for (i = 0; i < s->nindexes; i++) {
        const pv_index_def *x = &s->indexes[i];
        size_t a, b;
        int v;
        if (!x->unique || pv_schema_find_index(old->schema, x->name, strlen(x->name)) >= 0) continue;
        if ((v = ws_index_violation(t, i, &a, &b)) < 0) return v;
        if (v) {
            pv_buf m = PV_BUF_INIT;
            int rc;
            for (c = 0; c < x->ncols; c++)
                pv_buf_printf(&m, "%s%s.%s", c ? ", " : "", s->name, s->cols[x->cols[c]].name);
            pv_buf_append(&m, ": value ", 8);
            for (c = 0; c < x->ncols; c++) {
                if (c) pv_buf_putc(&m, ',');
                pv_chunk_encode_value(&m, &t->vals[a * s->ncols + x->cols[c]]);
            }
            pv_buf_append(&m, " is in the rows with keys ", 26);
            for (c = 0; c < s->npk; c++) {
                if (c) pv_buf_putc(&m, ',');
                pv_chunk_encode_value(&m, &t->vals[a * s->ncols + s->pk[c]]);
            }
            pv_buf_append(&m, " and ", 5);
            for (c = 0; c < s->npk; c++) {
                if (c) pv_buf_putc(&m, ',');
                pv_chunk_encode_value(&m, &t->vals[b * s->ncols + s->pk[c]]);
            }
            rc = pv_err(PV_ECONSTRAINT, "UNIQUE constraint failed: %s (cannot create unique index %s)",
                        m.p ? m.p : "?", x->name);
            pv_buf_free(&m);
            return rc;
        }
    }
    return PV_OK;
}

int pv_ws_alter_table(pv_ws *ws, const char *table, pv_schema *schema, const int *from)
{
    ws_table *old, *t = NULL;
    uint32_t c;
    int rc, began;
    if ((rc = pv_ws_check_writable(ws))) {
        pv_schema_free(schema);
        return rc;
    }
    if ((rc = ws_txn_auto_begin(ws, &began))) {
        pv_schema_free(schema);
        return rc;
    }
    if (!(old = ws_find(ws, table))) {
        rc = pv_err(PV_ENOTFOUND, "no such table: %s", table);
        goto fail;
    }
    if (strcmp(old->schema->name, schema->name) != 0 || !schema->npk) {
        rc = pv_err(PV_EMISUSE, "pv_ws_alter_table: the new schema must be finished and keep the name %s", table);
        goto fail;
    }
    for (c = 0; c < schema->ncols; c++)
        if (from[c] >= (int)old->schema->ncols ||
            (from[c] >= 0 && old->schema->cols[from[c]].type != schema->cols[c].type)) {
            rc = pv_err(PV_EMISUSE, "pv_ws_alter_table: column %s maps to a bad old column", schema->cols[c].name);
            goto fail;
        }
    if (!same_key(old, schema, from)) {
        rc = pv_err(PV_ECONSTRAINT, "table %s: ALTER TABLE cannot change the primary key", table);
        goto fail;
    }
    if ((rc = ws_table_load(ws, old))) goto fail;
    if ((rc = ws_table_new(ws, schema, &t))) goto fail;
    schema = NULL;
    t->loaded = 1;
    t->txn_created = old->txn_created;
    t->txn_altered = 1;
    t->prev = old;
    /* rows from now on go behind a header listing the new columns (a
     * continuation header in the open chunk), unless only the indexes
     * changed */
    t->last_header_ok = same_columns(old->schema, t->schema, from) ? old->last_header_ok : 0;
    t->txn_dropped = old->txn_dropped || drops_column(old->schema, t->schema, from);
    if ((rc = copy_snapshot(old, t)) || (rc = copy_rows(old, t, from)) || (rc = check_new_indexes(old, t)))
        goto fail;
    if ((rc = ws_txn_log(ws, WS_UNDO_ALTER, t, old))) goto fail;
    ws_catalog_remove(ws, old);
    if ((rc = ws_catalog_add(ws, t))) {
        ws->txn.nundo--; /* the log entry that would free t on rollback */
        ws_catalog_add(ws, old);
        goto fail;
    }
    return ws_txn_auto_end(ws, began, PV_OK);
fail:
    pv_schema_free(schema);
    ws_table_free(t);
    return ws_txn_auto_end(ws, began, rc);
}
