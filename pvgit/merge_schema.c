/*
 * merge_schema.c: the three-way merge of a schema, column by column
 * (merge_schema.h; docs/GIT.md, "Merging schemas").
 *
 * A column is the same column on every side when its first name (the
 * oldest of its earlier names, else its name) is the same: RENAME COLUMN
 * keeps the earlier names, and no name of a table's history is ever given
 * to another column. Per column and per attribute (name, type, NOT NULL,
 * DEFAULT) the side that changed it wins; both changed to different values
 * is a conflict. A column dropped on one side is dropped unless the other
 * side changed it (a conflict). Columns added on both sides under the same
 * name are one column when they agree, else a conflict. The merged column
 * order is ours', then the columns only theirs added, in theirs' order.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunkline.h"
#include "merge_schema.h"
#include "schema.h"
#include "schema_file.h"

static const char *const side_name[3] = {"base", "ours", "theirs"};

typedef struct merger {
    const char *table;
    pv_schema *in[3];          /* NULL: the side has no schema (base of an add/add) */
    pv_schema *out;
    const char **ident;        /* per merged column: its first name */
    const char **dropped;      /* names the merge drops */
    size_t ndropped, capdropped;
    pv_buf *conflicts;
    size_t nconflicts;
    int ours_wins;             /* settle each conflict as ours has it (still listed) */
    int no_key;                /* ours_wins could not keep a key */
} merger;

static const pv_column *find_ident(const pv_schema *s, const char *id)
{
    int c = s ? pv_schema_find_first(s, id) : -1;
    return c >= 0 ? &s->cols[c] : NULL;
}

static int dflt_eq(const pv_value *a, const pv_value *b)
{
    if (!a || !b) return a == b;
    return a->type == b->type && pv_value_cmp(a, b) == 0;
}

/* ---- messages -------------------------------------------------------------- */

static void conflict(merger *m, const char *col, const char *fmt, ...) PV_PRINTF(3, 4);
static void conflict(merger *m, const char *col, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    m->nconflicts++;
    if (col) pv_buf_printf(m->conflicts, "table %s, column %s: %s\n", m->table, col, text);
    else pv_buf_printf(m->conflicts, "table %s: %s\n", m->table, text);
}

static void value_text(const pv_value *v, char *out, size_t cap)
{
    pv_buf b = PV_BUF_INIT;
    if (!v) snprintf(out, cap, "none");
    else if (pv_chunk_encode_value(&b, v) == 0) snprintf(out, cap, "%.*s", (int)b.len, b.p);
    else snprintf(out, cap, "?");
    pv_buf_free(&b);
}

/* What a side did to a column of the base ("renamed to 'x', type REAL"). */
static void describe_change(const pv_column *b, const pv_column *c, char *out, size_t cap)
{
    char v[256];
    size_t n = 0;
    out[0] = '\0';
    if (strcmp(b->name, c->name) != 0) n += (size_t)snprintf(out + n, cap - n, "renamed to '%s'", c->name);
    if (n < cap && b->type != c->type)
        n += (size_t)snprintf(out + n, cap - n, "%stype changed to %s", n ? ", " : "", pv_type_name(c->type));
    if (n < cap && b->not_null != c->not_null)
        n += (size_t)snprintf(out + n, cap - n, "%sNOT NULL %s", n ? ", " : "", c->not_null ? "added" : "removed");
    if (n < cap && !dflt_eq(b->dflt, c->dflt)) {
        value_text(c->dflt, v, sizeof v);
        snprintf(out + n, cap - n, "%sdefault changed to %s", n ? ", " : "", v);
    }
}

static int col_changed(const pv_column *b, const pv_column *c)
{
    return strcmp(b->name, c->name) != 0 || b->type != c->type || b->not_null != c->not_null ||
           !dflt_eq(b->dflt, c->dflt);
}

/* ---- building the merged schema ------------------------------------------------- */

/* 1: take ours, 2: theirs, 0: both changed it differently. */
static int pick(int base_eq_ours, int base_eq_theirs, int ours_eq_theirs, int has_base)
{
    if (ours_eq_theirs) return 1;
    if (!has_base) return 0;
    if (base_eq_ours) return 2;
    if (base_eq_theirs) return 1;
    return 0;
}

static int note_dropped(merger *m, const char *name)
{
    if (m->ndropped == m->capdropped) {
        const char **g = realloc(m->dropped, (m->capdropped = m->capdropped ? m->capdropped * 2 : 16) * sizeof *g);
        if (!g) return pv_err(PV_ENOMEM, "out of memory");
        m->dropped = g;
    }
    m->dropped[m->ndropped++] = name;
    return PV_OK;
}

/* Every name the column had on any side, oldest first, then `name` last:
 * added as the first, renamed through the others. */
static int add_column(merger *m, const pv_column *const c[3], const char *name, int type, int not_null,
                      const pv_value *dflt, int hidden)
{
    const char *hist[PV_MAX_COLUMNS];
    uint32_t nh = 0, i, a, idx;
    int k, rc;
    for (k = 0; k < 3; k++) {
        if (!c[k]) continue;
        for (a = 0; a <= c[k]->naliases; a++) {
            const char *n = a < c[k]->naliases ? c[k]->aliases[a] : c[k]->name;
            int dup = pv_ident_eq(n, strlen(n), name, strlen(name));
            for (i = 0; i < nh && !dup; i++) dup = pv_ident_eq(n, strlen(n), hist[i], strlen(hist[i]));
            if (!dup && nh < PV_MAX_COLUMNS - 1) hist[nh++] = n;
        }
    }
    hist[nh++] = name;
    idx = m->out->ncols;
    rc = pv_schema_add_column(m->out, hist[0], strlen(hist[0]), type, not_null);
    for (i = 1; i < nh && !rc; i++) rc = pv_schema_rename_column(m->out, idx, hist[i], strlen(hist[i]));
    if (rc == PV_EEXISTS) {
        conflict(m, name, "its name is also used by another column of the merged table");
        return PV_OK;
    }
    if (rc) return rc;
    m->out->cols[idx].hidden = hidden;
    if (dflt && (rc = pv_schema_set_default(m->out, idx, dflt))) return rc;
    m->ident[idx] = hist[0];
    return PV_OK;
}

/* A column of the base: kept (attributes merged), dropped, or a conflict. */
static int merge_base_column(merger *m, const pv_column *b)
{
    const char *first = pv_column_first_name(b);
    const pv_column *c[3] = {b, find_ident(m->in[1], first), find_ident(m->in[2], first)};
    const pv_column *name_from, *type_from, *nn_from, *dflt_from;
    char what[512], v1[256], v2[256];
    int k, p, ok = 1;
    if (!c[1] || !c[2]) {
        /* dropped on one side (or both): dropped, unless the other changed it */
        k = c[1] ? 1 : 2;
        if (c[1] || c[2]) {
            if (col_changed(b, c[k])) {
                describe_change(b, c[k], what, sizeof what);
                conflict(m, b->name, "dropped on %s, %s on %s", side_name[3 - k], what, side_name[k]);
                if (!m->ours_wins) return PV_OK;
                if (k == 1) /* ours changed it, theirs dropped it: ours' column */
                    return add_column(m, c, c[1]->name, c[1]->type, c[1]->not_null, c[1]->dflt, b->hidden);
                /* ours dropped it: dropped, every name of it */
            }
        }
        for (k = 0; k < 3; k++)
            if (c[k]) {
                uint32_t a;
                int rc;
                for (a = 0; a < c[k]->naliases; a++)
                    if ((rc = note_dropped(m, c[k]->aliases[a]))) return rc;
                if ((rc = note_dropped(m, c[k]->name))) return rc;
            }
        return PV_OK;
    }
    p = pick(!strcmp(b->name, c[1]->name), !strcmp(b->name, c[2]->name), !strcmp(c[1]->name, c[2]->name), 1);
    if (!p) conflict(m, b->name, "renamed to '%s' on ours and to '%s' on theirs", c[1]->name, c[2]->name), ok = 0;
    name_from = c[p ? p : 1];
    p = pick(b->type == c[1]->type, b->type == c[2]->type, c[1]->type == c[2]->type, 1);
    if (!p)
        conflict(m, b->name, "type changed to %s on ours and to %s on theirs", pv_type_name(c[1]->type),
                 pv_type_name(c[2]->type)), ok = 0;
    type_from = c[p ? p : 1];
    p = pick(b->not_null == c[1]->not_null, b->not_null == c[2]->not_null, c[1]->not_null == c[2]->not_null, 1);
    nn_from = c[p ? p : 1];
    p = pick(dflt_eq(b->dflt, c[1]->dflt), dflt_eq(b->dflt, c[2]->dflt), dflt_eq(c[1]->dflt, c[2]->dflt), 1);
    if (!p) {
        value_text(c[1]->dflt, v1, sizeof v1);
        value_text(c[2]->dflt, v2, sizeof v2);
        conflict(m, b->name, "default changed to %s on ours and to %s on theirs", v1, v2), ok = 0;
    }
    dflt_from = c[p ? p : 1]; /* (ours' attribute on a conflict) */
    if (!ok && !m->ours_wins) return PV_OK;
    return add_column(m, c, name_from->name, type_from->type, nn_from->not_null, dflt_from->dflt, b->hidden);
}

/* A column that one side (or both) added. */
static int merge_added_column(merger *m, const pv_column *o, const pv_column *t)
{
    const pv_column *c[3] = {NULL, o, t}, *x = o ? o : t;
    char v1[256], v2[256];
    if (o && t) {
        int ok = 1;
        if (strcmp(o->name, t->name) != 0)
            conflict(m, pv_column_first_name(o), "added on both sides, named '%s' on ours and '%s' on theirs", o->name,
                     t->name),
                ok = 0;
        if (o->type != t->type)
            conflict(m, o->name, "added on both sides with different types (ours %s, theirs %s)",
                     pv_type_name(o->type), pv_type_name(t->type)), ok = 0;
        if (o->not_null != t->not_null)
            conflict(m, o->name, "added on both sides, NOT NULL on %s only", o->not_null ? "ours" : "theirs"), ok = 0;
        if (!dflt_eq(o->dflt, t->dflt)) {
            value_text(o->dflt, v1, sizeof v1);
            value_text(t->dflt, v2, sizeof v2);
            conflict(m, o->name, "added on both sides with different defaults (ours %s, theirs %s)", v1, v2), ok = 0;
        }
        if (!ok && !m->ours_wins) return PV_OK; /* else x is ours' */
    }
    return add_column(m, c, x->name, x->type, x->not_null, x->dflt, x->hidden);
}

/* The first name of key part k. */
static const char *key_first(const pv_schema *s, uint32_t k) { return pv_column_first_name(&s->cols[s->pk[k]]); }

/* The key, by first names: the side that changed it wins. */
static int merge_key(merger *m)
{
    const pv_schema *from;
    uint32_t k, i;
    int same_ot = m->in[1]->npk == m->in[2]->npk, same_bo = 0, same_bt = 0, rc;
    uint32_t idx[PV_MAX_COLUMNS];
    for (k = 0; same_ot && k < m->in[1]->npk; k++)
        same_ot = !strcmp(key_first(m->in[1], k), key_first(m->in[2], k));
    if (m->in[0]) {
        same_bo = m->in[0]->npk == m->in[1]->npk;
        same_bt = m->in[0]->npk == m->in[2]->npk;
        for (k = 0; same_bo && k < m->in[0]->npk; k++)
            same_bo = !strcmp(key_first(m->in[0], k), key_first(m->in[1], k));
        for (k = 0; same_bt && k < m->in[0]->npk; k++)
            same_bt = !strcmp(key_first(m->in[0], k), key_first(m->in[2], k));
    }
    switch (pick(same_bo, same_bt, same_ot, m->in[0] != NULL)) {
    case 1: from = m->in[1]; break;
    case 2: from = m->in[2]; break;
    default:
        conflict(m, NULL, "the primary key differs between ours and theirs");
        if (!m->ours_wins) return PV_OK;
        from = m->in[1];
    }
    for (k = 0; k < from->npk; k++) {
        const char *id = pv_column_first_name(&from->cols[from->pk[k]]);
        for (i = 0; i < m->out->ncols; i++)
            if (m->ident[i] && pv_ident_eq(m->ident[i], strlen(m->ident[i]), id, strlen(id))) break;
        if (i == m->out->ncols) {
            if (!m->nconflicts) conflict(m, id, "a key column, dropped on one side");
            m->no_key = 1;
            return PV_OK;
        }
        idx[k] = i;
    }
    if (m->nconflicts && !m->ours_wins) return PV_OK; /* the schema is not written */
    if ((rc = pv_schema_set_pk(m->out, idx, from->npk))) return rc;
    return PV_OK;
}

/* An index's columns as first names, compared across sides. */
static int index_same(const pv_schema *a, const pv_index_def *x, const pv_schema *b, const pv_index_def *y)
{
    uint32_t k;
    if (x->unique != y->unique || x->ncols != y->ncols) return 0;
    for (k = 0; k < x->ncols; k++) {
        const char *fa = pv_column_first_name(&a->cols[x->cols[k]]), *fb = pv_column_first_name(&b->cols[y->cols[k]]);
        if (!pv_ident_eq(fa, strlen(fa), fb, strlen(fb))) return 0;
    }
    return 1;
}

static const pv_index_def *find_index(const pv_schema *s, const char *name)
{
    int i = s ? pv_schema_find_index(s, name, strlen(name)) : -1;
    return i >= 0 ? &s->indexes[i] : NULL;
}

/* One index, named on some side: kept, added, dropped, or a conflict. */
static int merge_index(merger *m, const char *name)
{
    const pv_index_def *x[3];
    uint32_t cols[PV_MAX_COLUMNS], k, i;
    int from, eq_bo, eq_bt, eq_ot;
    for (k = 0; k < 3; k++) x[k] = find_index(m->in[k], name);
    eq_ot = x[1] && x[2] ? index_same(m->in[1], x[1], m->in[2], x[2]) : x[1] == x[2];
    eq_bo = x[0] && x[1] ? index_same(m->in[0], x[0], m->in[1], x[1]) : x[0] == x[1];
    eq_bt = x[0] && x[2] ? index_same(m->in[0], x[0], m->in[2], x[2]) : x[0] == x[2];
    from = pick(eq_bo, eq_bt, eq_ot, m->in[0] != NULL);
    if (!from) {
        pv_buf_printf(m->conflicts, "table %s, index %s: %s on ours, %s on theirs\n", m->table, name,
                      x[1] ? (x[0] ? "changed" : "created") : "dropped", x[2] ? (x[0] ? "changed" : "created") : "dropped");
        m->nconflicts++;
        if (!m->ours_wins) return PV_OK;
        from = 1;
    }
    if (!x[from]) return PV_OK; /* dropped */
    for (k = 0; k < x[from]->ncols; k++) {
        const char *id = pv_column_first_name(&m->in[from]->cols[x[from]->cols[k]]);
        for (i = 0; i < m->out->ncols; i++)
            if (m->ident[i] && pv_ident_eq(m->ident[i], strlen(m->ident[i]), id, strlen(id))) break;
        if (i == m->out->ncols) {
            pv_buf_printf(m->conflicts, "table %s, index %s: uses column %s, which the other side dropped\n",
                          m->table, name, id);
            m->nconflicts++;
            return PV_OK;
        }
        cols[k] = i;
    }
    return pv_schema_add_index(m->out, name, strlen(name), x[from]->unique, cols, x[from]->ncols);
}

/* Indexes: ours' order, then those only theirs has. */
static int merge_indexes(merger *m)
{
    int k, rc = PV_OK;
    uint32_t i;
    for (k = 1; k <= 3 && !rc; k++) {
        const pv_schema *s = m->in[k % 3];
        for (i = 0; s && i < s->nindexes && !rc; i++) {
            const char *n = s->indexes[i].name;
            if ((k != 1 && find_index(m->in[1], n)) || (k == 3 && find_index(m->in[2], n))) continue;
            rc = merge_index(m, n);
        }
    }
    return rc;
}

/* Dropped names: every side's, and the merge's; a dropped name is added as
 * a column and dropped at once (the only way to put it in the history). */
static int add_dropped(merger *m)
{
    int k, rc;
    uint32_t i;
    for (k = 0; k < 3; k++)
        for (i = 0; m->in[k] && i < m->in[k]->ndropped; i++)
            if ((rc = note_dropped(m, m->in[k]->dropped[i]))) return rc;
    for (i = 0; i < m->ndropped; i++) {
        const char *n = m->dropped[i];
        int at = pv_schema_find_history(m->out, n, strlen(n));
        if (at == PV_SCHEMA_DROPPED) continue;
        if (at >= 0) {
            conflict(m, n, "dropped on one side, and the name is used by a column on the other");
            continue;
        }
        if ((rc = pv_schema_add_column(m->out, n, strlen(n), PV_INTEGER, 0)) ||
            (rc = pv_schema_drop_column(m->out, m->out->ncols - 1)))
            return rc;
    }
    return PV_OK;
}

static int merge_columns(merger *m)
{
    const pv_schema *o = m->in[1], *t = m->in[2], *b = m->in[0];
    uint32_t i;
    int rc = PV_OK;
    /* ours' order: base columns merged, columns ours added */
    for (i = 0; i < o->ncols && !rc; i++) {
        const pv_column *bc = find_ident(b, pv_column_first_name(&o->cols[i]));
        if (bc) rc = merge_base_column(m, bc);
        else rc = merge_added_column(m, &o->cols[i], find_ident(t, pv_column_first_name(&o->cols[i])));
    }
    /* base columns ours dropped */
    for (i = 0; b && i < b->ncols && !rc; i++)
        if (!find_ident(o, pv_column_first_name(&b->cols[i]))) rc = merge_base_column(m, &b->cols[i]);
    /* columns only theirs added */
    for (i = 0; i < t->ncols && !rc; i++)
        if (!find_ident(b, pv_column_first_name(&t->cols[i])) && !find_ident(o, pv_column_first_name(&t->cols[i])))
            rc = merge_added_column(m, NULL, &t->cols[i]);
    return rc;
}

static int schema_merge(const char *table, const char *const texts[3], const size_t lens[3], char **out,
                        size_t *outlen, pv_buf *conflicts, int ours_wins)
{
    merger m;
    pv_buf text = PV_BUF_INIT;
    int k, rc = PV_OK, clash;
    memset(&m, 0, sizeof m);
    m.table = table;
    m.conflicts = conflicts;
    m.ours_wins = ours_wins;
    *out = NULL;
    *outlen = 0;
    for (k = 0; k < 3 && !rc; k++) {
        char label[64];
        snprintf(label, sizeof label, "%s:schema.jsonl", side_name[k]);
        if (texts[k]) rc = pv_schema_decode(texts[k], lens[k], table, label, &m.in[k]);
        else if (k) rc = pv_err(PV_EINPUT, "table %s: no schema on %s", table, side_name[k]);
    }
    if (!rc && (!(m.out = pv_schema_new(table, strlen(table))) ||
                !(m.ident = calloc(m.in[1]->ncols + m.in[2]->ncols + 1, sizeof *m.ident))))
        rc = pv_err(PV_ENOMEM, "out of memory");
    if (!rc) rc = merge_columns(&m);
    if (!rc) rc = merge_key(&m);
    if (!rc && (!m.nconflicts || ours_wins)) rc = merge_indexes(&m);
    if (!rc && (!m.nconflicts || ours_wins)) rc = add_dropped(&m);
    clash = !rc && m.nconflicts;
    if (clash && (!ours_wins || m.no_key)) /* nothing to write */
        rc = pv_err(PV_ECONSTRAINT, "table %s: %zu conflicting schema change%s", table, m.nconflicts,
                    m.nconflicts == 1 ? "" : "s");
    if (!rc) rc = pv_schema_encode(&text, m.out);
    if (!rc) {
        *out = text.p;
        *outlen = text.len;
        text.p = NULL;
        if (clash)
            rc = pv_err(PV_ECONSTRAINT, "table %s: %zu conflicting schema change%s, settled as ours has them",
                        table, m.nconflicts, m.nconflicts == 1 ? "" : "s");
    }
    pv_buf_free(&text);
    for (k = 0; k < 3; k++) pv_schema_free(m.in[k]);
    pv_schema_free(m.out);
    free(m.ident);
    free(m.dropped);
    return rc;
}

int pvgit_schema_merge(const char *table, const char *const texts[3], const size_t lens[3], char **out,
                       size_t *outlen, pv_buf *conflicts)
{
    return schema_merge(table, texts, lens, out, outlen, conflicts, 0);
}

int pvgit_schema_merge_ours(const char *table, const char *const texts[3], const size_t lens[3], char **out,
                            size_t *outlen, pv_buf *conflicts)
{
    return schema_merge(table, texts, lens, out, outlen, conflicts, 1);
}

int pvgit_schema_merge_theirs(const char *table, const char *const texts[3], const size_t lens[3], char **out,
                              size_t *outlen)
{
    /* theirs as "ours" of a merge settled by ours: theirs' choices, theirs'
     * column order (conflict lines name the sides swapped: not shown) */
    const char *const swapped[3] = {texts[0], texts[2], texts[1]};
    const size_t swapped_lens[3] = {lens[0], lens[2], lens[1]};
    pv_buf scratch = PV_BUF_INIT;
    int rc = schema_merge(table, swapped, swapped_lens, out, outlen, &scratch, 1);
    pv_buf_free(&scratch);
    return rc;
}
