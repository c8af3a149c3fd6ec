/*
 * exec_filter.c: WHERE over a batch: narrows a selection vector (row
 * numbers of the batch, ascending) to the rows where the predicate is true.
 * Conjuncts of the shape `column op constant` run as tight loops over the
 * column vector; anything else is evaluated row by row (exec_expr.c).
 */
#include "exec.h"
#include "sql_lex.h"

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
    if (e->kind == PV_X_BINARY && e->op == KW_AND) {
        if ((rc = pv_filter(cx, e->args[0], b, sel, n)) || !*n) return rc;
        return pv_filter(cx, e->args[1], b, sel, n);
    }
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

