/*
 * exec_agg.c: aggregate accumulators and GROUP BY.
 *
 * Each batch is processed column-wise: first every selected row gets its
 * group id, then each aggregate runs over the whole selection. Group ids
 * come from one hash lookup per row; when the only GROUP BY term is a
 * dictionary-coded column (an encoded batch, batch.h), from an array
 * indexed by code instead, filled with one lookup per distinct code of
 * each chunk: no string is compared or hashed per row. COUNT, SUM, TOTAL
 * and AVG over an INTEGER column run as typed loops, with or without
 * groups; without groups, SUM over a bit-packed block is n * ref plus the
 * sum of the packed values, and over dictionary codes the sum of their
 * entries in one loop, when no prefix of it can overflow.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "exec.h"

typedef struct agg_state {
    int64_t cnt;       /* non-NULL inputs (all rows for COUNT(*)) */
    int64_t isum;      /* SUM while every input is an integer */
    double rsum, rerr; /* Kahan-Babuska-Neumaier sum once approx */
    int approx;        /* a REAL was seen or the integer sum overflowed */
    int ovrfl;         /* the integer sum overflowed (SUM reports it) */
    pv_value best;     /* MIN/MAX so far; bytes in buf */
    char *buf;
    size_t cap;
    pv_hset *seen;     /* DISTINCT inputs */
} agg_state;

struct pv_groups {
    const pv_plan *plan;
    pv_hset keys;        /* GROUP BY values -> group id */
    uint32_t ngroups, cap;
    pv_value **first;    /* per group: the first row's values by slot */
    int *has_first;
    agg_state **st;      /* per group: nagg states */
    pv_arena arena;      /* first rows and states */
    uint32_t *order;     /* output order, after finish */
    pv_value *result;    /* finalized aggregates of the group last got */
    uint32_t gid[PV_BATCH_ROWS];
    pv_value *keybuf;
    /* GROUP BY one dictionary-coded column: code -> group id for the
     * dictionary of id map_id, NO_GROUP until the code is first met */
    uint64_t map_id;
    uint32_t *map;
    uint32_t mapcap;
    uint32_t null_gid;   /* the NULL key's group, NO_GROUP until met */
    uint32_t mapped;     /* codes of map_id's dictionary with a group */
    /* Per-code accumulators (code_acc_add): for aggregate a, acc[2a] and
     * acc[2a + 1] hold per code of dictionary map_id the inputs counted
     * and their integer sum, folded into the groups' states when the
     * dictionary changes and at the end. */
    int64_t **acc;
    uint32_t acccap;     /* codes each acc array holds */
    uint8_t *acc_live;   /* per aggregate: its arrays hold something */
    /* Per aggregate: a bound on the sum of |x| of every integer fed to any
     * of its groups (saturating). Below 2^63 no group's running sum can
     * have overflowed, so sums may be added in any order. */
    uint64_t *absbound;
    pv_budget *budget;   /* what growth is charged to (NULL: none) */
    const char *op;      /* its name there: "GROUP BY", or "aggregate" */
};

#define NO_GROUP UINT32_MAX

__extension__ typedef __int128 pv_i128;

static int nomem(void) { return pv_err(PV_ENOMEM, "out of memory aggregating"); }

/* Charge what the groups' arena grew by since `before`. */
static int charge_arena(pv_groups *g, size_t before)
{
    return pv_budget_charge(g->budget, g->arena.total - before, g->op);
}

static int new_group(pv_groups *g)
{
    const pv_plan *p = g->plan;
    uint32_t i, id = g->ngroups;
    size_t before = g->arena.total;
    int rc;
    if (id == g->cap) {
        uint32_t nc = g->cap ? g->cap * 2 : 16;
        pv_value **nf;
        if ((rc = pv_budget_charge(g->budget, (uint64_t)(nc - g->cap) * (sizeof *nf + sizeof *g->st +
                                                                         sizeof *g->has_first),
                                   g->op)))
            return rc;
        nf = realloc(g->first, nc * sizeof *nf);
        if (nf) g->first = nf;
        agg_state **ns = nf ? realloc(g->st, nc * sizeof *ns) : NULL;
        if (ns) g->st = ns;
        int *nh = ns ? realloc(g->has_first, nc * sizeof *nh) : NULL;
        if (!nh) return nomem();
        g->has_first = nh;
        g->cap = nc;
    }
    g->first[id] = pv_arena_alloc(&g->arena, (p->nslots ? p->nslots : 1) * sizeof(pv_value));
    g->st[id] = pv_arena_alloc(&g->arena, (p->nagg ? p->nagg : 1) * sizeof(agg_state));
    if (!g->first[id] || !g->st[id]) return nomem();
    if ((rc = charge_arena(g, before))) return rc;
    for (i = 0; i < p->nslots; i++) g->first[id][i] = pv_v_null();
    memset(g->st[id], 0, (p->nagg ? p->nagg : 1) * sizeof(agg_state));
    for (i = 0; i < p->nagg; i++) g->st[id][i].best = pv_v_null();
    g->has_first[id] = 0;
    g->ngroups++;
    return 0;
}

int pv_groups_new(const pv_plan *plan, pv_budget *budget, pv_groups **out)
{
    pv_groups *g = calloc(1, sizeof *g);
    *out = NULL;
    if (!g) return nomem();
    g->plan = plan;
    g->budget = budget;
    g->op = plan->ngroup ? "GROUP BY" : "aggregate";
    g->null_gid = NO_GROUP;
    pv_hset_init(&g->keys, plan->ngroup);
    pv_hset_set_budget(&g->keys, budget, g->op);
    g->result = calloc(plan->nagg ? plan->nagg : 1, sizeof *g->result);
    g->keybuf = calloc(plan->ngroup ? plan->ngroup : 1, sizeof *g->keybuf);
    g->absbound = calloc(plan->nagg ? plan->nagg : 1, sizeof *g->absbound);
    g->acc = calloc(2 * (size_t)(plan->nagg ? plan->nagg : 1), sizeof *g->acc);
    g->acc_live = calloc(plan->nagg ? plan->nagg : 1, 1);
    if (!g->result || !g->keybuf || !g->absbound || !g->acc || !g->acc_live || (plan->ngroup == 0 && new_group(g))) {
        pv_groups_free(g);
        return nomem();
    }
    *out = g;
    return 0;
}

void pv_groups_free(pv_groups *g)
{
    uint32_t i, a;
    if (!g) return;
    for (i = 0; i < g->ngroups; i++) {
        for (a = 0; a < g->plan->nagg; a++) {
            free(g->st[i][a].buf);
            if (g->st[i][a].seen) {
                pv_hset_free(g->st[i][a].seen);
                free(g->st[i][a].seen);
            }
        }
    }
    pv_hset_free(&g->keys);
    pv_arena_free(&g->arena);
    free(g->first);
    free(g->has_first);
    free(g->st);
    free(g->order);
    free(g->result);
    free(g->keybuf);
    free(g->map);
    for (a = 0; g->acc && a < 2 * g->plan->nagg; a++) free(g->acc[a]);
    free(g->acc);
    free(g->acc_live);
    free(g->absbound);
    free(g);
}

/* ---- accumulation ---------------------------------------------------------------- */

static void kbn_add(agg_state *s, double x)
{
    double t = s->rsum + x;
    if (fabs(s->rsum) > fabs(x)) s->rerr += (s->rsum - t) + x;
    else s->rerr += (x - t) + s->rsum;
    s->rsum = t;
}

/* Large integers are added in two parts so no bits are lost (SQLite). */
static void kbn_add_int(agg_state *s, int64_t i)
{
    if (i <= -4503599627370496LL || i >= 4503599627370496LL) {
        int64_t small = i % 16384;
        kbn_add(s, (double)(i - small));
        kbn_add(s, (double)small);
    } else {
        kbn_add(s, (double)i);
    }
}

static void go_approx(agg_state *s)
{
    s->approx = 1;
    s->rsum = 0.0;
    s->rerr = 0.0;
    kbn_add_int(s, s->isum);
}

/* SQLite's sumStep: integers add exactly until a REAL or an overflow. */
static void sum_step(agg_state *s, const pv_value *v)
{
    pv_value n;
    int pure = 1;
    if (v->type == PV_TEXT || v->type == PV_BLOB) n = pv_text_numeric(v->u.s.p, v->u.s.n, &pure);
    else n = pv_value_numeric(v);
    if (!pure && n.type == PV_INTEGER) n = pv_v_real((double)n.u.i); /* not a number: REAL */
    if (n.type == PV_INTEGER) {
        int64_t r;
        if (!s->approx && !__builtin_add_overflow(s->isum, n.u.i, &r)) {
            s->isum = r;
            return;
        }
        if (!s->approx) {
            s->ovrfl = 1;
            go_approx(s);
        }
        kbn_add_int(s, n.u.i);
        return;
    }
    if (!s->approx) go_approx(s);
    s->ovrfl = 0;
    kbn_add(s, n.u.f);
}

static int set_best(agg_state *s, const pv_value *v, pv_budget *budget)
{
    int rc;
    if ((v->type == PV_TEXT || v->type == PV_BLOB) && v->u.s.n > s->cap &&
        (rc = pv_budget_charge(budget, v->u.s.n * 2 - s->cap, "MIN/MAX")))
        return rc;
    s->best = *v;
    if (v->type != PV_TEXT && v->type != PV_BLOB) return 0;
    if (v->u.s.n > s->cap) {
        size_t nc = v->u.s.n * 2;
        char *nb = realloc(s->buf, nc);
        if (!nb) return nomem();
        s->buf = nb;
        s->cap = nc;
    }
    if (v->u.s.n) memcpy(s->buf, v->u.s.p, v->u.s.n);
    s->best.u.s.p = s->buf;
    return 0;
}

/* Is v new for this DISTINCT aggregate? 1 new, 0 seen, <0 error. */
static int distinct_new(agg_state *s, const pv_value *v, pv_budget *budget)
{
    uint32_t id;
    if (!s->seen) {
        if (!(s->seen = malloc(sizeof *s->seen))) return nomem();
        pv_hset_init(s->seen, 1);
        pv_hset_set_budget(s->seen, budget, "aggregate DISTINCT");
    }
    return pv_hset_add(s->seen, v, &id);
}

static int feed(agg_state *s, const pv_agg_def *d, const pv_value *v, pv_budget *budget)
{
    int rc, c;
    if (d->fn == PV_FN_COUNT_STAR) {
        s->cnt++;
        return 0;
    }
    if (v->type == PV_NULL) return 0;
    if (d->distinct && (rc = distinct_new(s, v, budget)) <= 0) return rc;
    s->cnt++;
    switch (d->fn) {
    case PV_FN_SUM:
    case PV_FN_TOTAL:
    case PV_FN_AVG: sum_step(s, v); return 0;
    case PV_FN_MIN:
    case PV_FN_MAX:
        c = s->best.type == PV_NULL ? 1 : pv_value_cmp(v, &s->best);
        if (s->best.type == PV_NULL || (d->fn == PV_FN_MIN ? c < 0 : c > 0)) return set_best(s, v, budget);
        return 0;
    default: return 0; /* COUNT */
    }
}

/* Typed loops for one group over an INTEGER vector: COUNT(x), SUM(x). */
static int feed_fast(agg_state *s, const pv_agg_def *d, const pv_vec *v, const uint32_t *sel,
                     uint32_t n)
{
    uint32_t k;
    if (d->fn == PV_FN_COUNT) {
        if (!v->nulls) s->cnt += n;
        else for (k = 0; k < n; k++) s->cnt += !v->nulls[sel[k]];
        return 1;
    }
    if (d->fn != PV_FN_SUM && d->fn != PV_FN_AVG && d->fn != PV_FN_TOTAL) return 0;
    if (s->approx) return 0;
    for (k = 0; k < n; k++) {
        uint32_t r = sel[k];
        int64_t x;
        if (v->nulls && v->nulls[r]) continue;
        if (__builtin_add_overflow(s->isum, v->u.i[r], &x)) {
            /* leave the rest to the general path, which handles overflow */
            pv_value val;
            for (; k < n; k++) {
                val = pv_vec_get(v, sel[k]);
                if (val.type != PV_NULL) s->cnt++, sum_step(s, &val);
            }
            return 1;
        }
        s->isum = x;
        s->cnt++;
    }
    return 1;
}

static int copy_first(pv_groups *g, uint32_t id, const pv_batch *b, uint32_t row)
{
    uint32_t i;
    size_t before = g->arena.total;
    int rc;
    for (i = 0; i < g->plan->nslots; i++) {
        pv_value v = pv_batch_get(b, i, row);
        if ((rc = pv_value_copy(&g->arena, &v, &g->first[id][i]))) return rc;
    }
    g->has_first[id] = 1;
    return charge_arena(g, before);
}

/* Add aggregate a's per-code accumulators into the states of their
 * groups (map[] still describes their dictionary) and clear them: before
 * the dictionary changes, at the end, and before anything else feeds a. */
static void code_acc_fold_one(pv_groups *g, uint32_t a)
{
    int64_t *n = g->acc[2 * a], *sum = g->acc[2 * a + 1];
    uint32_t c;
    if (!g->acc_live[a]) return;
    for (c = 0; c < g->acccap; c++) {
        agg_state *st;
        if (!n[c]) continue;
        st = &g->st[g->map[c]][a];
        st->cnt += n[c];
        st->isum += sum[c]; /* absbound < 2^63: exact, no running sum overflowed */
    }
    memset(n, 0, g->acccap * sizeof *n);
    memset(sum, 0, g->acccap * sizeof *sum);
    g->acc_live[a] = 0;
}

static void code_acc_fold(pv_groups *g)
{
    uint32_t a;
    for (a = 0; a < g->plan->nagg; a++) code_acc_fold_one(g, a);
}

/* The group of row r whose only key is column `slot`: *out. */
static int find_group(pv_groups *g, const pv_batch *b, uint32_t slot, uint32_t r, uint32_t *out)
{
    pv_value key = pv_batch_get(b, slot, r);
    uint32_t id;
    int rc = pv_hset_add(&g->keys, &key, &id);
    if (rc < 0) return rc;
    if (rc == 1 && ((rc = new_group(g)) || (rc = copy_first(g, id, b, r)))) return rc;
    *out = id;
    return 0;
}

/* Group ids when the only key is a dictionary-coded column: by code.
 * gids 0: only give every code met a group (code_acc_add needs no id per
 * row), and once every code of the dictionary has one, read no row. */
static int assign_dict(pv_groups *g, const pv_batch *b, const uint32_t *sel, uint32_t nsel,
                       uint32_t slot, int gids)
{
    const pv_venc *z = &b->enc[slot];
    const uint8_t *nulls = b->cols[slot].nulls;
    uint32_t k;
    int rc;
    if (z->dict->id != g->map_id) {
        code_acc_fold(g);
        if (z->dict->count > g->mapcap) {
            uint32_t *nm;
            if ((rc = pv_budget_charge(g->budget, (uint64_t)(z->dict->count - g->mapcap) * sizeof *nm,
                                       g->op)))
                return rc;
            nm = realloc(g->map, (size_t)z->dict->count * sizeof *nm);
            if (!nm) return nomem();
            g->map = nm;
            g->mapcap = z->dict->count;
        }
        memset(g->map, 0xff, (size_t)z->dict->count * sizeof *g->map); /* NO_GROUP */
        g->map_id = z->dict->id;
        g->mapped = 0;
    }
    if (!gids && !nulls && g->mapped == z->dict->count) return 0;
    for (k = 0; k < nsel; k++) {
        uint32_t r = sel[k], *id = nulls && nulls[r] ? &g->null_gid : &g->map[z->codes[r]];
        if (*id == NO_GROUP) {
            if ((rc = find_group(g, b, slot, r, id))) return rc;
            g->mapped += id != &g->null_gid;
        }
        if (gids) g->gid[k] = *id;
    }
    return 0;
}

/* Group id of every selected row. */
static int assign_groups(pv_groups *g, const pv_batch *b, const uint32_t *sel, uint32_t nsel,
                         pv_eval *cx)
{
    const pv_plan *p = g->plan;
    uint32_t k, i, id;
    int rc;
    if (p->ngroup == 0) {
        memset(g->gid, 0, nsel * sizeof *g->gid);
        if (nsel && !g->has_first[0]) return copy_first(g, 0, b, sel[0]);
        return 0;
    }
    if (p->ngroup == 1 && p->group[0]->kind == PV_X_COL &&
        pv_batch_form(b, (uint32_t)p->group[0]->slot) == PV_VEC_DICT)
        return assign_dict(g, b, sel, nsel, (uint32_t)p->group[0]->slot, 1);
    for (k = 0; k < nsel; k++) {
        cx->row = sel[k];
        for (i = 0; i < p->ngroup; i++)
            if ((rc = pv_eval_expr(cx, p->group[i], &g->keybuf[i]))) return rc;
        if ((rc = pv_hset_add(&g->keys, g->keybuf, &id)) < 0) return rc;
        if (rc == 1 && ((rc = new_group(g)) || (rc = copy_first(g, id, b, sel[k])))) return rc;
        g->gid[k] = id;
    }
    return 0;
}

/* SUM, TOTAL, AVG without groups over a whole bit-packed block with no
 * NULL: n * ref + the packed values' sum, when every prefix of the block
 * keeps the integer sum in range (values lie in [ref, ref + 2^w - 1]), so
 * the overflow SQLite would report cannot happen inside it. 1 done, 0 not
 * applicable (the caller takes the row loop). */
static int sum_packed(agg_state *s, const pv_agg_def *d, const pv_batch *b, uint32_t slot,
                      uint32_t nsel)
{
    const pv_venc *z = &b->enc[slot];
    uint32_t n = b->nrows;
    pv_i128 lo, hi, top;
    if (d->fn != PV_FN_SUM && d->fn != PV_FN_TOTAL && d->fn != PV_FN_AVG) return 0;
    if (s->approx || nsel != n || b->cols[slot].nulls || z->width > 54) return 0;
    top = (pv_i128)z->ref + (pv_i128)((1ull << z->width) - 1);
    lo = (pv_i128)s->isum + (z->ref < 0 ? (pv_i128)n * z->ref : 0);
    hi = (pv_i128)s->isum + (top > 0 ? (pv_i128)n * top : 0);
    if (lo < INT64_MIN || hi > INT64_MAX) return 0;
    s->isum += (int64_t)((pv_i128)n * z->ref + (pv_i128)pv_packed_sum(z->words, z->off, n, z->width));
    s->cnt += n;
    return 1;
}

/* SUM, TOTAL, AVG without groups over a dictionary-coded INTEGER column
 * with no NULL: the entries of the selected rows' codes added in one loop
 * (no values written out, no check per row), when every prefix keeps the
 * integer sum in range (entries are sorted: the first is the least, the
 * last the greatest), as for sum_packed. 1 done, 0 not applicable. */
static int sum_dict(agg_state *s, const pv_agg_def *d, const pv_batch *b, uint32_t slot,
                    const uint32_t *sel, uint32_t nsel)
{
    const pv_venc *z = &b->enc[slot];
    const int64_t *ent = z->dict->u.i;
    const uint32_t *codes = z->codes;
    int64_t lo_e = ent[0], hi_e = ent[z->dict->count - 1], sum = 0;
    pv_i128 lo, hi;
    uint32_t k;
    if (d->fn != PV_FN_SUM && d->fn != PV_FN_TOTAL && d->fn != PV_FN_AVG) return 0;
    if (s->approx || b->cols[slot].nulls) return 0;
    lo = (pv_i128)s->isum + (lo_e < 0 ? (pv_i128)nsel * lo_e : 0);
    hi = (pv_i128)s->isum + (hi_e > 0 ? (pv_i128)nsel * hi_e : 0);
    if (lo < INT64_MIN || hi > INT64_MAX) return 0;
    if (nsel == b->nrows)
        for (k = 0; k < nsel; k++) sum += ent[codes[k]];
    else
        for (k = 0; k < nsel; k++) sum += ent[codes[sel[k]]];
    s->isum += sum;
    s->cnt += nsel;
    return 1;
}

/* absbound[a] += n * m, saturating. */
static void bound_add(pv_groups *g, uint32_t a, uint64_t m, uint64_t n)
{
    uint64_t t;
    if (__builtin_mul_overflow(m, n, &t) || __builtin_add_overflow(g->absbound[a], t, &g->absbound[a]))
        g->absbound[a] = UINT64_MAX;
}

/* Is aggregate d COUNT(*), or COUNT, SUM, TOTAL, AVG of an INTEGER column
 * (the aggregates the typed loops run)? */
static int typed_agg(const pv_agg_def *d, const pv_batch *b)
{
    if (d->fn == PV_FN_COUNT_STAR) return 1;
    return !d->distinct && d->arg && d->arg->kind == PV_X_COL &&
           b->cols[d->arg->slot].type == PV_INTEGER &&
           (d->fn == PV_FN_COUNT || d->fn == PV_FN_SUM || d->fn == PV_FN_TOTAL || d->fn == PV_FN_AVG);
}

static uint64_t uabs(int64_t x) { return x < 0 ? -(uint64_t)x : (uint64_t)x; }

/* The largest |x| of the selected rows of INTEGER column c: from the
 * block's range or the dictionary's ends when encoded (no row read),
 * else from the rows. */
static uint64_t col_maxabs(const pv_batch *b, uint32_t c, const uint32_t *sel, uint32_t nsel)
{
    const pv_venc *z = &b->enc[c];
    const pv_vec *v = &b->cols[c];
    uint64_t m = 0, top;
    uint32_t k;
    switch (pv_batch_form(b, c)) {
    case PV_VEC_PACKED:
        top = z->width >= 64 ? UINT64_MAX : (uint64_t)z->ref + ((1ull << z->width) - 1);
        if (z->width >= 63 || (int64_t)top < z->ref) return UINT64_MAX;
        m = uabs((int64_t)top);
        return uabs(z->ref) > m ? uabs(z->ref) : m;
    case PV_VEC_DICT: /* INTEGER entries are sorted */
        m = uabs(z->dict->u.i[z->dict->count - 1]);
        return uabs(z->dict->u.i[0]) > m ? uabs(z->dict->u.i[0]) : m;
    default:
        for (k = 0; k < nsel; k++) {
            uint64_t x = uabs(v->u.i[sel[k]]); /* (NULL rows hold some value: harmless) */
            m = x > m ? x : m;
        }
        return m;
    }
}

/* Room in g->acc for aggregate a over a dictionary of `count` codes. */
static int acc_room(pv_groups *g, uint32_t a, uint32_t count)
{
    uint32_t i, k;
    int rc;
    if (count > g->acccap) { /* (code_acc_fold emptied every array) */
        for (i = 0; i < 2 * g->plan->nagg; i++) {
            if (g->acc[i]) pv_budget_release(g->budget, (uint64_t)g->acccap * sizeof **g->acc);
            free(g->acc[i]);
            g->acc[i] = NULL;
        }
        g->acccap = count;
    }
    for (k = 2 * a; k < 2 * a + 2; k++) {
        if (g->acc[k]) continue;
        if ((rc = pv_budget_charge(g->budget, (uint64_t)g->acccap * sizeof **g->acc, g->op)))
            return rc;
        if (!(g->acc[k] = calloc(g->acccap, sizeof **g->acc))) return nomem();
    }
    return 0;
}

/* Typed aggregate a of a batch grouped by one dictionary-coded column
 * without NULLs, into per-code arrays (no group id per row, no state
 * pointer chase). 1 done, 0 not applicable, <0 error. */
static int code_acc_add(pv_groups *g, uint32_t a, const pv_batch *b, const uint32_t *sel,
                        uint32_t nsel, uint32_t keyslot)
{
    const pv_agg_def *d = &g->plan->aggs[a];
    const pv_venc *kz = &b->enc[keyslot];
    const uint32_t *codes = kz->codes;
    const pv_vec *v;
    int64_t *n, *sum;
    uint32_t k;
    int rc;
    if (!typed_agg(d, b)) return 0;
    if (d->fn != PV_FN_COUNT_STAR) {
        uint32_t slot = (uint32_t)d->arg->slot;
        bound_add(g, a, col_maxabs(b, slot, sel, nsel), nsel);
        if (g->absbound[a] >= (uint64_t)INT64_MAX) return 0; /* exact order from here on */
        pv_batch_flatten(b, slot);
    }
    if ((rc = acc_room(g, a, kz->dict->count))) return rc;
    n = g->acc[2 * a];
    sum = g->acc[2 * a + 1];
    g->acc_live[a] = 1;
    if (d->fn == PV_FN_COUNT_STAR) {
        for (k = 0; k < nsel; k++) n[codes[sel[k]]]++;
        return 1;
    }
    v = &b->cols[d->arg->slot];
    if (v->nulls) {
        for (k = 0; k < nsel; k++) {
            uint32_t r = sel[k], c = codes[r], keep = !v->nulls[r];
            n[c] += keep;
            sum[c] += keep ? v->u.i[r] : 0;
        }
    } else {
        for (k = 0; k < nsel; k++) {
            uint32_t r = sel[k], c = codes[r];
            n[c]++;
            sum[c] += v->u.i[r];
        }
    }
    return 1;
}

/* COUNT(*), and COUNT, SUM, TOTAL, AVG of an INTEGER column, per group:
 * typed loops. 1 done, 0 not applicable. */
static int feed_grouped(pv_groups *g, uint32_t a, const pv_batch *b, const uint32_t *sel,
                        uint32_t nsel)
{
    const pv_agg_def *d = &g->plan->aggs[a];
    const pv_vec *v;
    uint32_t k;
    if (d->fn == PV_FN_COUNT_STAR) {
        for (k = 0; k < nsel; k++) g->st[g->gid[k]][a].cnt++;
        return 1;
    }
    if (d->distinct || !d->arg || d->arg->kind != PV_X_COL ||
        b->cols[d->arg->slot].type != PV_INTEGER ||
        (d->fn != PV_FN_COUNT && d->fn != PV_FN_SUM && d->fn != PV_FN_TOTAL && d->fn != PV_FN_AVG))
        return 0;
    pv_batch_flatten(b, (uint32_t)d->arg->slot);
    v = &b->cols[d->arg->slot];
    for (k = 0; k < nsel; k++) {
        uint32_t r = sel[k];
        agg_state *s = &g->st[g->gid[k]][a];
        int64_t x = v->u.i[r], t;
        if (v->nulls && v->nulls[r]) continue;
        bound_add(g, a, uabs(x), 1);
        s->cnt++;
        if (d->fn == PV_FN_COUNT) continue;
        if (!s->approx && !__builtin_add_overflow(s->isum, x, &t)) {
            s->isum = t;
        } else {
            pv_value val = pv_v_int(x);
            sum_step(s, &val);
        }
    }
    return 1;
}

int pv_groups_add(pv_groups *g, const pv_batch *b, const uint32_t *sel, uint32_t nsel,
                  pv_eval *cx)
{
    const pv_plan *p = g->plan;
    uint32_t a, k;
    int rc, dict_key = -1; /* the one GROUP BY column, when code_acc_add applies */
    int have_gid = 1;      /* g->gid[] holds the selected rows' groups */
    pv_batch_ask_enc(b); /* values are read through pv_batch_get from here on */
    cx->batch = b;
    cx->group_row = NULL;
    cx->aggs = NULL;
    if (p->ngroup == 1 && p->group[0]->kind == PV_X_COL &&
        pv_batch_form(b, (uint32_t)p->group[0]->slot) == PV_VEC_DICT &&
        !b->cols[p->group[0]->slot].nulls)
        dict_key = p->group[0]->slot;
    if (dict_key >= 0) { /* ids per row only if an aggregate takes another path */
        if ((rc = assign_dict(g, b, sel, nsel, (uint32_t)dict_key, 0))) return rc;
        have_gid = 0;
    } else if ((rc = assign_groups(g, b, sel, nsel, cx))) {
        return rc;
    }
    for (a = 0; a < p->nagg; a++) {
        const pv_agg_def *d = &p->aggs[a];
        if (p->ngroup == 0 && d->fn == PV_FN_COUNT_STAR) {
            g->st[0][a].cnt += nsel;
            continue;
        }
        if (p->ngroup == 0 && !d->distinct && d->arg && d->arg->kind == PV_X_COL &&
            b->cols[d->arg->slot].type == PV_INTEGER) {
            uint32_t slot = (uint32_t)d->arg->slot;
            if (pv_batch_form(b, slot) == PV_VEC_PACKED && sum_packed(&g->st[0][a], d, b, slot, nsel))
                continue;
            if (pv_batch_form(b, slot) == PV_VEC_DICT && sum_dict(&g->st[0][a], d, b, slot, sel, nsel))
                continue;
            pv_batch_flatten(b, slot);
            if (feed_fast(&g->st[0][a], d, &b->cols[slot], sel, nsel)) continue;
        }
        if (dict_key >= 0 && (rc = code_acc_add(g, a, b, sel, nsel, (uint32_t)dict_key))) {
            if (rc < 0) return rc;
            continue;
        }
        if (!have_gid) {
            for (k = 0; k < nsel; k++) g->gid[k] = g->map[b->enc[dict_key].codes[sel[k]]];
            have_gid = 1;
        }
        if (p->ngroup > 0) code_acc_fold_one(g, a); /* states before the next values */
        if (p->ngroup > 0 && feed_grouped(g, a, b, sel, nsel)) continue;
        for (k = 0; k < nsel; k++) {
            pv_value v = pv_v_null();
            cx->row = sel[k];
            if (d->arg && (rc = pv_eval_expr(cx, d->arg, &v))) return rc;
            if ((rc = feed(&g->st[g->gid[k]][a], d, &v, g->budget))) return rc;
        }
    }
    return 0;
}

/* ---- results ------------------------------------------------------------------------ */

/* A REAL result; NaN (Inf - Inf) is NULL, as everywhere in SQLite. */
static pv_value real_out(double r) { return r != r ? pv_v_null() : pv_v_real(r); }

static int final_value(const agg_state *s, const pv_agg_def *d, pv_value *out)
{
    double r = (double)s->isum;
    if (s->approx) /* an infinite sum stays infinite: its compensation is NaN */
        r = isfinite(s->rsum) ? s->rsum + s->rerr : s->rsum;
    switch (d->fn) {
    case PV_FN_COUNT_STAR:
    case PV_FN_COUNT: *out = pv_v_int(s->cnt); return 0;
    case PV_FN_TOTAL: *out = real_out(s->cnt ? r : 0.0); return 0;
    case PV_FN_AVG: *out = s->cnt ? real_out(r / (double)s->cnt) : pv_v_null(); return 0;
    case PV_FN_SUM:
        if (!s->cnt) *out = pv_v_null();
        else if (s->ovrfl) return pv_err(PV_ERANGE, "integer overflow");
        else *out = s->approx ? real_out(r) : pv_v_int(s->isum);
        return 0;
    default: *out = s->best; return 0;
    }
}

static int key_cmp(const void *ctx, const void *a, const void *b)
{
    const pv_groups *g = ctx;
    const pv_value *x = g->keys.keys[*(const uint32_t *)a], *y = g->keys.keys[*(const uint32_t *)b];
    uint32_t i;
    for (i = 0; i < g->plan->ngroup; i++) {
        int c = pv_value_cmp(&x[i], &y[i]);
        if (c) return c;
    }
    return 0;
}

/* Output groups in key order, as SQLite's sorter-based GROUP BY does. */
int pv_groups_finish(pv_groups *g)
{
    void **items = NULL, **tmp = NULL;
    uint32_t i;
    int rc = 0;
    code_acc_fold(g);
    if ((rc = pv_budget_charge(g->budget, (uint64_t)g->ngroups * 20, g->op))) /* order, sort */
        return rc;
    if (!(g->order = malloc((g->ngroups ? g->ngroups : 1) * sizeof *g->order))) return nomem();
    for (i = 0; i < g->ngroups; i++) g->order[i] = i;
    if (g->plan->ngroup == 0 || g->ngroups < 2) return 0;
    items = malloc(g->ngroups * sizeof *items);
    tmp = malloc(g->ngroups * sizeof *tmp);
    if (!items || !tmp) {
        rc = nomem();
        goto done;
    }
    for (i = 0; i < g->ngroups; i++) items[i] = &g->order[i];
    pv_msort(items, g->ngroups, tmp, key_cmp, g);
    /* items point into order[]: read the ids out before overwriting */
    for (i = 0; i < g->ngroups; i++) tmp[i] = (void *)(uintptr_t)*(uint32_t *)items[i];
    for (i = 0; i < g->ngroups; i++) g->order[i] = (uint32_t)(uintptr_t)tmp[i];
done:
    free(items);
    free(tmp);
    return rc;
}

uint32_t pv_groups_count(const pv_groups *g) { return g->ngroups; }

int pv_groups_get(pv_groups *g, uint32_t i, const pv_value **row, const pv_value **aggs)
{
    uint32_t id = g->order[i], a;
    int rc;
    for (a = 0; a < g->plan->nagg; a++)
        if ((rc = final_value(&g->st[id][a], &g->plan->aggs[a], &g->result[a]))) return rc;
    *row = g->first[id];
    *aggs = g->result;
    return 0;
}
