/*
 * merge_dropped.c: the cells of a column one side dropped that the other
 * side changed (merge_dropped.h).
 *
 * 1. The schemas: base's and each side's own (from the commits' trees),
 *    the merged one (from the side trees). A base column whose first name
 *    the merged schema lacks and exactly one side still has, with base's
 *    type, was dropped by the other side.
 * 2. The wide schema: the merged one with those columns appended (their
 *    names taken back from the dropped names, so chunk headers map to
 *    them).
 * 3. Base and each keeping side are replayed under it; the merge join asks
 *    per key whether a keeping side's cell differs from base's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge_dropped.h"
#include "schema_file.h"
#include "util.h"

#define SCHEMA_MAX ((size_t)1 << 24)

/* Side k's own schema from its commit; NULL when it has no such table. */
static int own_schema(pvgit_tree *tree, const char *rel, const char *table, pv_schema **out)
{
    pv_ws_reader r;
    char *text = NULL;
    size_t len;
    int rc;
    *out = NULL;
    if (!tree) return PV_OK;
    pvgit_tree_reader(tree, &r);
    if ((rc = r.read(r.ctx, rel, SCHEMA_MAX, &text, &len))) return rc == PV_ENOTFOUND ? PV_OK : rc;
    rc = pv_schema_decode(text, len, table, rel, out);
    free(text);
    return rc;
}

/* Take `name` out of the schema's dropped names (ASCII case-insensitive). */
static void undrop(pv_schema *s, const char *name)
{
    uint32_t i;
    for (i = 0; i < s->ndropped; i++)
        if (pv_ident_eq(s->dropped[i], strlen(s->dropped[i]), name, strlen(name))) {
            free(s->dropped[i]);
            s->dropped[i--] = s->dropped[--s->ndropped];
        }
}

/* Append column `c` (a side's) to the wide schema, under all its names. */
static int put_back(pv_schema *w, const pv_column *c)
{
    uint32_t i, at = w->ncols;
    int rc;
    undrop(w, c->name);
    for (i = 0; i < c->naliases; i++) undrop(w, c->aliases[i]);
    if ((rc = pv_schema_add_column(w, c->name, strlen(c->name), c->type, 0))) return rc;
    if (c->naliases) {
        pv_column *n = &w->cols[at];
        if (!(n->aliases = calloc(c->naliases, sizeof *n->aliases))) return pv_err(PV_ENOMEM, "out of memory");
        for (i = 0; i < c->naliases; i++, n->naliases++)
            if (!(n->aliases[i] = strdup(c->aliases[i]))) return pv_err(PV_ENOMEM, "out of memory");
    }
    return c->dflt ? pv_schema_set_default(w, at, c->dflt) : PV_OK;
}

/* Step 1 and 2: the columns to check, and the wide schema. */
static int find_columns(pvgit_dropped *d, pv_schema *const own[3], const pv_schema *merged)
{
    uint32_t i;
    int rc = PV_OK;
    if (!own[0]) return PV_OK;
    for (i = 0; i < own[0]->ncols && !rc; i++) {
        const pv_column *b = &own[0]->cols[i];
        const char *first = pv_column_first_name(b);
        int c1 = own[1] ? pv_schema_find_first(own[1], first) : -1;
        int c2 = own[2] ? pv_schema_find_first(own[2], first) : -1;
        int k = c1 >= 0 ? 1 : 2;
        const pv_column *kept = c1 >= 0 ? &own[1]->cols[c1] : c2 >= 0 ? &own[2]->cols[c2] : NULL;
        if (pv_schema_find_first(merged, first) >= 0 || (c1 >= 0) == (c2 >= 0) || kept->type != b->type) continue;
        if (!d->wide && !(d->wide = pv_schema_clone(merged))) return pv_err(PV_ENOMEM, "out of memory");
        d->col[d->n] = d->wide->ncols;
        d->keeper[d->n++] = k;
        rc = put_back(d->wide, kept);
    }
    return rc;
}

/* Step 3: side k's tree replayed under the wide schema, its own schema
 * file put back afterwards. */
static int read_wide(pvgit_dropped *d, pvgit_vtree *vt, const char *rel, const char *table, int k)
{
    pv_buf text = PV_BUF_INIT;
    pv_ws_reader r;
    size_t len;
    const char *was = vt ? pvgit_vtree_get(vt, rel, &len) : NULL;
    char *keep;
    int rc, i;
    if (!was) return PV_OK; /* the side lacks the table */
    if (!(keep = malloc(len + 1))) return pv_err(PV_ENOMEM, "out of memory");
    memcpy(keep, was, len);
    rc = pv_schema_encode(&text, d->wide);
    if (!rc) rc = pvgit_vtree_put(vt, rel, text.p, text.len);
    pvgit_vtree_reader(vt, &r);
    if (!rc) rc = pv_ws_open_reader(&r, &d->ws[k]);
    if (!rc && (i = pv_ws_table_find(d->ws[k], table, strlen(table))) >= 0)
        rc = pv_ws_table_rows(d->ws[k], (uint32_t)i, &d->t[k]);
    if (pvgit_vtree_put(vt, rel, keep, len) && !rc) rc = pv_err(PV_ENOMEM, "out of memory");
    free(keep);
    pv_buf_free(&text);
    return rc;
}

int pvgit_dropped_open(pvgit_dropped *d, const char *table, pvgit_tree *const tree[3], pvgit_vtree *const vt[3])
{
    pv_schema *own[3] = {NULL, NULL, NULL}, *merged = NULL;
    char rel[160];
    const char *text;
    size_t len;
    int k, rc = PV_OK;
    memset(d, 0, sizeof *d);
    snprintf(rel, sizeof rel, "tables/%s/schema.jsonl", table);
    text = vt[1] ? pvgit_vtree_get(vt[1], rel, &len) : NULL;
    if (!text && vt[2]) text = pvgit_vtree_get(vt[2], rel, &len);
    if (!text || !vt[0]) return PV_OK; /* no base, or the table on one side only */
    for (k = 0; k < 3 && !rc; k++) rc = own_schema(tree[k], rel, table, &own[k]);
    if (!rc) rc = pv_schema_decode(text, len, table, "the merged schema.jsonl", &merged);
    if (!rc) rc = find_columns(d, own, merged);
    if (!rc && d->n) rc = read_wide(d, vt[0], rel, table, 0);
    for (k = 1; k < 3 && !rc; k++) {
        uint32_t i;
        int kept = 0;
        for (i = 0; i < d->n; i++) kept |= d->keeper[i] == k;
        if (kept) rc = read_wide(d, vt[k], rel, table, k);
    }
    for (k = 0; k < 3; k++) pv_schema_free(own[k]);
    pv_schema_free(merged);
    return rc;
}

/* Advance side k's cursor to `key`: its row there, or NULL. */
static int seek(pvgit_dropped *d, int k, const pv_schema *s, const pv_value *key, uint64_t *row)
{
    const pv_bake_table *t = &d->t[k];
    for (; d->pos[k] < t->nrows; d->pos[k]++) {
        int c = 0;
        uint32_t p;
        for (p = 0; p < s->npk && !c; p++) {
            pv_value v = pv_vec_get(&t->cols[s->pk[p]], (uint32_t)d->pos[k]);
            c = pv_value_cmp(&v, &key[s->pk[p]]);
        }
        if (c > 0) return 0;
        if (c == 0) {
            *row = d->pos[k];
            return 1;
        }
    }
    return 0;
}

int pvgit_dropped_changed(pvgit_dropped *d, const pv_schema *s, const pv_value *key, int *keeper)
{
    uint64_t at[3];
    int has[3], k;
    uint32_t i;
    if (!d->n) return -1;
    for (k = 0; k < 3; k++) has[k] = d->ws[k] && seek(d, k, s, key, &at[k]);
    for (i = 0; i < d->n; i++) {
        uint32_t c = d->col[i];
        int kk = d->keeper[i];
        pv_value now, was;
        /* a row the keeping side inserted (or deleted) holds no edit of
         * the column: its values go with the column, as the old ones do */
        if (!has[0] || !has[kk]) continue;
        now = pv_vec_get(&d->t[kk].cols[c], (uint32_t)at[kk]);
        was = pv_vec_get(&d->t[0].cols[c], (uint32_t)at[0]);
        if (!pv_value_identical(&now, &was)) {
            *keeper = kk;
            return (int)c;
        }
    }
    return -1;
}

void pvgit_dropped_free(pvgit_dropped *d)
{
    int k;
    for (k = 0; k < 3; k++) pv_ws_close(d->ws[k]);
    pv_schema_free(d->wide);
    memset(d, 0, sizeof *d);
}
