/*
 * exec_filter.c: WHERE over a batch: narrows a selection vector (row
 * numbers of the batch, ascending) to the rows where the predicate is true.
 * Conjuncts of the shape `column op constant` run as tight loops over the
 * column vector; anything else is evaluated row by row (exec_expr.c).
 *
 * On encoded batches (batch.h; an aggregate asks the store for them):
 * - a conjunct that reads one dictionary-coded column only (`origin =
 *   'SFO'`, IN, LIKE, a function of it...) is evaluated once per entry
 *   of the chunk's dictionary, memoized on the dictionary, and rows are
 *   then kept by their code: no string is compared per row;
 * - `column op constant` on a bit-packed INTEGER block first checks the
 *   block's range [ref, ref + 2^width - 1] (a zone map per 1024 rows):
 *   a block that cannot match is dropped, one that must is kept, without
 *   decoding a value; otherwise only the selected rows are decoded.
 */
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "sql_lex.h"

/* ---- dictionary conjuncts ------------------------------------------------------ */

/* Truth of a conjunct per dictionary entry: 0 false or NULL, 1 true,
 * MAYBE when evaluating the entry failed (the rows holding it are then
 * evaluated one by one, so an error surfaces only if such a row is
 * selected); truth[count] is the truth for a NULL row. */
#define MAYBE 2
typedef struct dict_memo {
    uint32_t ntrue, nmaybe;
    uint8_t truth[];
} dict_memo;

/* The one column slot e reads, or -1 when it reads none, several, or
 * something that is not a plain value of the row. */
static int only_slot(const pv_expr *e, int slot)
{
    uint32_t i;
    if (e->kind == PV_X_COL) return slot < 0 || slot == e->slot ? e->slot : -2;
    if (e->kind == PV_X_OUTREF || (e->kind == PV_X_FUNC && pv_fn_is_agg(e->fn))) return -2;
    for (i = 0; i < e->nargs && slot != -2; i++)
        if (e->args[i]) slot = only_slot(e->args[i], slot);
    return slot;
}

/* Evaluate e once per entry of the dictionary of column `slot` (and once
 * for NULL) into m. */
static int memo_fill(pv_eval *cx, const pv_expr *e, uint32_t slot, const pv_batch *b,
                     const pv_vdict *d, dict_memo *m)
{
    static const uint8_t one_null = 1;
    pv_vec *cols = calloc(slot + 1, sizeof *cols);
    pv_batch fake;
    pv_eval ecx = *cx;
    uint32_t c;
    if (!cols) return pv_err(PV_ENOMEM, "out of memory filtering");
    cols[slot].type = b->cols[slot].type;
    cols[slot].u.i = d->u.i; /* entries as a plain vector: row c = entry c */
    if (cols[slot].type == PV_TEXT || cols[slot].type == PV_BLOB) cols[slot].u.s = d->u.s;
    else if (cols[slot].type == PV_REAL) cols[slot].u.f = d->u.f;
    memset(&fake, 0, sizeof fake);
    fake.nrows = d->count;
    fake.ncols = slot + 1;
    fake.cols = cols;
    ecx.batch = &fake;
    for (c = 0; c <= d->count; c++) {
        pv_value v;
        if (c == d->count) { /* the NULL row */
            cols[slot].nulls = &one_null;
            ecx.row = 0;
        } else {
            ecx.row = c;
        }
        if (pv_eval_expr(&ecx, e, &v)) {
            m->truth[c] = MAYBE;
            m->nmaybe++;
        } else if (pv_value_truth(&v) == 1) {
            m->truth[c] = 1;
            m->ntrue += c < d->count;
        }
    }
    free(cols);
    return 0;
}

/* A conjunct over one dictionary-coded column, by code; 0 when it does
 * not have that shape (or the dictionary is too large to pay off). */
static int filter_dict(pv_eval *cx, const pv_expr *e, const pv_batch *b, uint32_t *sel,
                       uint32_t *n, int *rc)
{
    int slot = only_slot(e, -1), fresh;
    const pv_venc *z;
    const uint8_t *nulls;
    dict_memo *m;
    uint32_t i, out = 0;
    *rc = 0;
    if (slot < 0 || (uint32_t)slot >= b->ncols || pv_batch_form(b, (uint32_t)slot) != PV_VEC_DICT)
        return 0;
    z = &b->enc[slot];
    if (z->dict->count > 4096 && z->dict->count > z->dict->rows / 2) return 0;
    m = pv_vdict_memo(z->dict, e, sizeof *m + z->dict->count + 1, &fresh);
    if (!m) return 0;
    if (fresh && (*rc = memo_fill(cx, e, (uint32_t)slot, b, z->dict, m))) return 1;
    nulls = b->cols[slot].nulls;
    if (!m->ntrue && !m->nmaybe && (!nulls || m->truth[z->dict->count] != 1)) {
        *n = 0; /* no entry of this chunk matches: a zone map by dictionary */
        return 1;
    }
    if (!m->nmaybe && !nulls) { /* truth is 0 or 1: keep rows without a branch */
        const uint32_t *codes = z->codes;
        const uint8_t *truth = m->truth;
        if (*n == b->nrows) { /* every row selected: sel is 0 .. n-1 */
            for (i = 0; i < *n; i++) {
                sel[out] = i;
                out += truth[codes[i]];
            }
        } else {
            for (i = 0; i < *n; i++) {
                uint32_t row = sel[i];
                sel[out] = row;
                out += truth[codes[row]];
            }
        }
        *n = out;
        return 1;
    }
    for (i = 0; i < *n; i++) {
        uint32_t row = sel[i];
        uint8_t t = nulls && nulls[row] ? m->truth[z->dict->count] : m->truth[z->codes[row]];
        if (t == MAYBE) {
            pv_value v;
            cx->row = row;
            if ((*rc = pv_eval_expr(cx, e, &v))) return 1;
            t = pv_value_truth(&v) == 1;
        }
        if (t == 1) sel[out++] = row;
    }
    *n = out;
    return 1;
}

/* ---- typed loops ------------------------------------------------------------------ */

/* Can `v op x` hold for some (*some) and for every (*all) v in [lo, hi]? */
static void range_test(int op, int64_t lo, int64_t hi, int64_t x, int *some, int *all)
{
    switch (op) {
    case TK_EQ: *some = lo <= x && x <= hi; *all = lo == x && hi == x; break;
    case TK_NE: *some = !(lo == x && hi == x); *all = x < lo || x > hi; break;
    case TK_LT: *some = lo < x; *all = hi < x; break;
    case TK_LE: *some = lo <= x; *all = hi <= x; break;
    case TK_GT: *some = hi > x; *all = lo > x; break;
    default: *some = hi >= x; *all = lo >= x; break;
    }
}

/* A bit-packed block against its range: 1 settled (*n updated), 0 when
 * rows must be looked at. */
static int packed_zone(const pv_venc *z, const pv_vec *v, int op, int64_t x, uint32_t *sel,
                       uint32_t *n)
{
    int64_t hi;
    int some, all;
    uint32_t i, out = 0;
    if (z->width >= 63 || __builtin_add_overflow(z->ref, (int64_t)((1ull << z->width) - 1), &hi))
        return 0;
    range_test(op, z->ref, hi, x, &some, &all);
    if (!some) {
        *n = 0;
        return 1;
    }
    if (!all) return 0;
    if (v->nulls) { /* every value matches: only NULL rows go */
        for (i = 0; i < *n; i++)
            if (!v->nulls[sel[i]]) sel[out++] = sel[i];
        *n = out;
    }
    return 1;
}

/* `col op x` over the selected rows of a bit-packed block, decoding them
 * one by one (for a sparse selection). */
static void packed_rows(const pv_venc *z, const pv_vec *v, int op, int64_t x, uint32_t *sel,
                        uint32_t *n)
{
    uint32_t i, out = 0;
    for (i = 0; i < *n; i++) {
        uint32_t row = sel[i];
        int64_t y = (int64_t)((uint64_t)z->ref + pv_unpack1(z->words, z->off + row, z->width));
        int keep;
        if (v->nulls && v->nulls[row]) continue;
        switch (op) {
        case TK_EQ: keep = y == x; break;
        case TK_NE: keep = y != x; break;
        case TK_LT: keep = y < x; break;
        case TK_LE: keep = y <= x; break;
        case TK_GT: keep = y > x; break;
        default: keep = y >= x; break;
        }
        if (keep) sel[out++] = row;
    }
    *n = out;
}

/* `col op constant` on an INTEGER/BOOLEAN vector as a tight loop; returns
 * 0 when the conjunct does not have that shape. */
static int filter_fast(pv_eval *cx, const pv_expr *e, const pv_batch *b, uint32_t *sel, uint32_t *n)
{
    const pv_expr *c, *k;
    const pv_vec *v;
    pv_value kv;
    int op = e->op;
    uint32_t i, m = *n, out = 0;
    int64_t x;
    if (e->kind != PV_X_BINARY || op < TK_EQ || op > TK_GE) return 0;
    c = e->args[0];
    k = e->args[1];
    if (c->kind != PV_X_COL) {
        const pv_expr *t = c;
        c = k;
        k = t;
        op = op == TK_LT ? TK_GT : op == TK_GT ? TK_LT : op == TK_LE ? TK_GE : op == TK_GE ? TK_LE : op;
    }
    if (c->kind != PV_X_COL || (k->kind != PV_X_LIT && k->kind != PV_X_PARAM)) return 0;
    v = &b->cols[c->slot];
    kv = k->kind == PV_X_LIT ? k->lit : cx->params[k->param];
    if ((v->type != PV_INTEGER && v->type != PV_BOOLEAN) ||
        (kv.type != PV_INTEGER && kv.type != PV_BOOLEAN))
        return 0;
    x = kv.u.i;
    if (pv_batch_form(b, (uint32_t)c->slot) == PV_VEC_PACKED) {
        const pv_venc *z = &b->enc[c->slot];
        if (packed_zone(z, v, op, x, sel, n)) return 1;
        if ((uint64_t)m * 4 < b->nrows) {
            packed_rows(z, v, op, x, sel, n);
            return 1;
        }
    }
    pv_batch_flatten(b, (uint32_t)c->slot);
#define PV_FILTER_LOOP(OP)                                                   \
    for (i = 0; i < m; i++) {                                                \
        uint32_t row = sel[i];                                               \
        if ((!v->nulls || !v->nulls[row]) && v->u.i[row] OP x) sel[out++] = row; \
    }                                                                        \
    break
    switch (op) {
    case TK_EQ: PV_FILTER_LOOP(==);
    case TK_NE: PV_FILTER_LOOP(!=);
    case TK_LT: PV_FILTER_LOOP(<);
    case TK_LE: PV_FILTER_LOOP(<=);
    case TK_GT: PV_FILTER_LOOP(>);
    default: PV_FILTER_LOOP(>=);
    }
#undef PV_FILTER_LOOP
    *n = out;
    return 1;
}

/* Narrow the selection to rows where e is true, conjunct by conjunct. */
int pv_filter(pv_eval *cx, const pv_expr *e, const pv_batch *b, uint32_t *sel, uint32_t *n)
{
    uint32_t i, out = 0;
    int rc;
    /* (no pv_batch_ask_enc: a streaming projection reads the plain
     * vectors; an aggregate asks in pv_groups_add, and the filter then
     * takes the encoded forms it meets) */
    if (e->kind == PV_X_BINARY && e->op == KW_AND) {
        if ((rc = pv_filter(cx, e->args[0], b, sel, n)) || !*n) return rc;
        return pv_filter(cx, e->args[1], b, sel, n);
    }
    if (filter_dict(cx, e, b, sel, n, &rc)) return rc;
    if (filter_fast(cx, e, b, sel, n)) return 0;
    for (i = 0; i < *n; i++) {
        pv_value v;
        cx->row = sel[i];
        if ((rc = pv_eval_expr(cx, e, &v))) return rc;
        if (pv_value_truth(&v) == 1) sel[out++] = sel[i];
    }
    *n = out;
    return 0;
}

