/*
 * ws_maint.c: keeping a workspace tidy: `pvdev compact` (rewrite tables to
 * their live rows) and `pvdev gc` (remove blobs no record refers to).
 * Both hold the writer lock for their whole run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ws_internal.h"

int pv_ws_compact(pv_ws *ws, const char *table, size_t *tables)
{
    uint32_t i;
    int rc, any = 0;
    *tables = 0;
    if (!ws->writable) return pv_err(PV_EREADONLY, "workspace '%s' is open read-only", ws->root);
    if (ws->txn.open) return pv_err(PV_EMISUSE, "compact cannot run inside a transaction");
    if ((rc = pv_ws_begin(ws))) return rc;
    for (i = 0; i < ws->ntables && !rc; i++) {
        ws_table *t = ws->tables[i];
        if (table && !pv_ident_eq(t->schema->name, strlen(t->schema->name), table, strlen(table))) continue;
        any = 1;
        if ((rc = ws_table_load(ws, t))) break;
        if (t->nconflicts) {
            rc = pv_err(PV_ECONSTRAINT, "table %s has unresolved merge conflicts (see 'pvdev conflicts')",
                        t->schema->name);
            break;
        }
        if (!t->snap_n) continue; /* nothing written yet */
        t->txn_compact = 1;
        if ((rc = ws_txn_log(ws, WS_UNDO_COMPACT, t, NULL))) break;
        (*tables)++;
    }
    if (!rc && table && !any) rc = pv_err(PV_ENOTFOUND, "no such table: %s", table);
    if (rc) {
        pv_ws_rollback(ws);
        return rc;
    }
    return pv_ws_commit(ws);
}

/* ---- gc ------------------------------------------------------------------ */

static int hex_cmp(const void *a, const void *b) { return memcmp(a, b, 64); }

typedef struct refset {
    char (*hex)[64];
    size_t n, cap;
} refset;

static int add_ref(refset *r, const char *hex)
{
    if (r->n == r->cap) {
        char(*g)[64] = realloc(r->hex, (r->cap = r->cap ? r->cap * 2 : 256) * sizeof *g);
        if (!g) return pv_err(PV_ENOMEM, "out of memory");
        r->hex = g;
    }
    memcpy(r->hex[r->n++], hex, 64);
    return PV_OK;
}

static int add_refs(refset *r, const pv_blobref *refs, uint32_t n)
{
    uint32_t i;
    int rc = PV_OK;
    for (i = 0; refs && i < n && !rc; i++)
        if (refs[i].present) rc = add_ref(r, refs[i].hex);
    return rc;
}

/* Every blob any line of the table's chunks refers to, history included. */
static int table_refs(pv_ws *ws, ws_table *t, refset *set)
{
    int types[PV_MAX_COLUMNS], ktypes[PV_MAX_COLUMNS];
    uint32_t ntypes = 0, k;
    size_t c;
    int rc = PV_OK;
    for (k = 0; k < t->schema->npk; k++) ktypes[k] = t->schema->cols[t->schema->pk[k]].type;
    for (c = 0; c < t->snap_n && !rc; c++) {
        char rel[PV_MAX_TABLE_NAME + 32], *text = NULL;
        const char *p, *end;
        size_t len;
        ws_chunk_rel(rel, sizeof rel, t, t->snap_num[c]);
        if ((rc = ws->rd.read(ws->rd.ctx, rel, (size_t)1 << 30, &text, &len))) break;
        for (p = text, end = text + len; p < end && !rc;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            pv_arena a = PV_ARENA_INIT;
            pv_chunk_rec r;
            if (!nl) break;
            if (pv_chunk_decode(p, (size_t)(nl - p), types, ntypes, ktypes, t->schema->npk, &a, &r) == PV_OK) {
                if (r.kind == PV_REC_HEADER) {
                    for (k = 0; k < r.nvals && k < PV_MAX_COLUMNS; k++) {
                        int col = pv_schema_find_history(t->schema, r.names[k], strlen(r.names[k]));
                        types[k] = col >= 0 ? t->schema->cols[col].type : PV_NULL;
                    }
                    ntypes = r.nvals < PV_MAX_COLUMNS ? r.nvals : PV_MAX_COLUMNS;
                } else {
                    rc = add_refs(set, r.refs, r.nvals);
                    for (k = 0; k < 3 && !rc; k++) rc = add_refs(set, r.side_refs[k], r.nvals);
                }
            } else {
                /* a line gc cannot read could refer to anything: keep every blob */
                rc = pv_err(PV_ECORRUPT, "'%s/%s': a line does not decode (%s); run 'pvdev fsck' first",
                            ws->pvdir, rel, pv_errmsg());
            }
            pv_arena_free(&a);
            p = nl + 1;
        }
        free(text);
    }
    return rc;
}

static int sweep(pv_ws *ws, const refset *set, size_t *removed, uint64_t *bytes)
{
    char **dirs = NULL, **files = NULL;
    size_t nd = 0, nf, i, k;
    int rc = ws->rd.list(ws->rd.ctx, "blobs", &dirs, &nd);
    for (i = 0; i < nd && !rc; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "blobs/%.2s", dirs[i]);
        if (strlen(dirs[i]) != 2 || (rc = ws->rd.list(ws->rd.ctx, rel, &files, &nf))) continue;
        for (k = 0; k < nf && !rc; k++) {
            char hex[64], path[4400];
            struct stat st;
            if (strlen(files[k]) != 62 || strspn(files[k], "0123456789abcdef") != 62) continue;
            memcpy(hex, dirs[i], 2);
            memcpy(hex + 2, files[k], 62);
            if (bsearch(hex, set->hex, set->n, 64, hex_cmp)) continue;
            snprintf(path, sizeof path, "%s/%s/%s", ws->pvdir, rel, files[k]);
            if (lstat(path, &st) == 0) *bytes += (uint64_t)st.st_size;
            if (unlink(path) != 0 && errno != ENOENT) rc = pv_err_errno("cannot remove '%s'", path);
            else (*removed)++;
        }
        pv_names_free(files, nf);
    }
    pv_names_free(dirs, nd);
    return rc;
}

int pv_ws_gc(pv_ws *ws, size_t *removed, uint64_t *bytes)
{
    refset set = {NULL, 0, 0};
    uint32_t i;
    int rc;
    *removed = 0;
    *bytes = 0;
    if (!ws->writable) return pv_err(PV_EREADONLY, "workspace '%s' is open read-only", ws->root);
    if (ws->txn.open) return pv_err(PV_EMISUSE, "gc cannot run inside a transaction");
    /* the writer lock: a writer stores a blob before the row that refers to
     * it is committed, and must not lose it meanwhile */
    if ((rc = pv_ws_begin(ws))) return rc;
    for (i = 0; i < ws->ntables && !rc; i++) rc = table_refs(ws, ws->tables[i], &set);
    if (!rc) {
        qsort(set.hex, set.n, 64, hex_cmp);
        rc = sweep(ws, &set, removed, bytes);
    }
    free(set.hex);
    pv_ws_rollback(ws); /* nothing to commit: only files no record names went */
    return rc;
}
