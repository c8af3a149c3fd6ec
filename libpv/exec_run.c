/*
 * exec_run.c: run a plan over the batches of its source (docs/SQL.md).
 *
 * Streaming (no aggregate, no ORDER BY): each batch is filtered into a
 * selection vector and its selected rows are handed out one by one; the
 * scan stops as soon as LIMIT is met. When every output is a bare column
 * of a `.pvdb` table (no DISTINCT) and the caller reads rows in place
 * (pv_run_step), a row is only its number: the outputs' vectors are set once per batch and
 * nothing is copied per row. Otherwise a row is projected into values
 * when it is asked for.
 * Otherwise every output row is materialized (aggregated first if needed),
 * sorted, and then handed out through OFFSET/LIMIT.
 */
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "sql_lex.h"

struct pv_run {
    const pv_plan *plan;
    const pv_expr *where; /* the plan's WHERE, or where_rest when the key
                             index enforces the rest exactly */
    int *outslot;         /* per output: its scan slot when it is a bare
                             column (copied without evaluation), else -1 */
    int can_place;        /* every output is a bare column, no DISTINCT */
    int in_place;         /* the caller reads rows in place (pv_run_step) */
    int placed;           /* the current batch's rows are read in place */
    pv_row cur;           /* the row pv_run_step hands out */
    const pv_vec **ocols; /* placed: per output, its vector of the batch */
    uint8_t *oterm;       /* placed: per output, its text is NUL-terminated */
    int src_fixed;        /* src found and checked once for the statement's
                             life (a .pvdb mapping never changes) */
    pv_eval cx;
    pv_source src;
    pv_scan *scan;
    pv_lookup *lookup;    /* PV_ACCESS_LOOKUP, or a key index, instead of the scan */
    int point;            /* lookup is a point lookup of one whole key whose
                             row is read in place: point_step */
    const pv_vec *pcols;  /* point: the lookup's vectors the outputs point
                             into (NULL: none yet) */
    int direct;           /* point, and every row the lookup finds is the
                             run's (no WHERE left, LIMIT or OFFSET), its
                             key a parameter: pv_run_point */
    int eof;              /* the source has no more batches */
    pv_batch one;         /* the current batch (SELECT without FROM: one
                             row of no columns) */
    uint32_t sel[PV_BATCH_ROWS];
    uint32_t ident;       /* sel[0..ident) holds 0..ident-1: a batch read
                             without WHERE or key bounds reuses it */
    pv_arena tmp;         /* text made while evaluating the current batch */
    int64_t limit;        /* rows still allowed; -1 = no limit */
    int64_t skip;         /* OFFSET rows still to skip */
    int distinct;
    pv_hset seen;         /* DISTINCT output rows */
    /* streaming */
    pv_value *proj;       /* the current output row (nout values) */
    uint32_t nsel, pos;   /* selected rows of the batch, next one */
    /* materialized */
    int materialized;     /* rows[] are ready */
    pv_arena store;
    pv_value **rows;
    size_t nrows, rowcap, cursor;
    pv_value *scratch;    /* one row of nout + nextra values */
    pv_budget budget;     /* what the run holds, against the memory limit */
};

static int nomem(void) { return pv_err(PV_ENOMEM, "out of memory running a query"); }

/* Runs that took point_step on this thread, for tests (tests/unit/
 * test_getter.c test_point_fast_path says when the fast path must and
 * must not apply; a thread's own counter: no shared line to write). */
_Thread_local uint64_t pv_run_point_steps;
_Thread_local uint64_t pv_run_direct_steps;

/* ---- memory budget ------------------------------------------------------------------- */

int pv_budget_charge(pv_budget *b, uint64_t n, const char *op)
{
    if (!b || n <= b->limit - b->used) {
        if (b) b->used += n;
        return 0;
    }
    return pv_err(PV_ELIMIT,
                  "%s needs more than the query memory limit of %llu bytes (%.1f MiB); "
                  "raise it with pv_stmt_set_mem_limit",
                  op, (unsigned long long)b->limit, (double)b->limit / 1048576.0);
}

void pv_budget_release(pv_budget *b, uint64_t n)
{
    if (b) b->used -= n < b->used ? n : b->used;
}

void pv_run_set_mem_limit(pv_run *r, uint64_t bytes) { r->budget.limit = bytes; }

/* ---- batches and filtering -------------------------------------------------------- */

/* Next batch of the source: 1, 0 at the end, or an error. */
static int next_batch(pv_run *r, const pv_batch **out)
{
    int rc;
    pv_arena_free(&r->tmp);
    if (r->eof) return 0;
    if (!r->plan->has_from) {
        r->eof = 1;
        r->one.nrows = 1;
        r->one.ncols = 0;
        r->one.cols = NULL;
        *out = &r->one;
        return 1;
    }
    rc = r->lookup ? pv_lookup_next(r->lookup, &r->one) : r->src.ops->scan_next(r->scan, &r->one);
    if (rc <= 0) {
        r->eof = 1;
        return rc;
    }
    *out = &r->one;
    return 1;
}

/* 0 .. PV_BATCH_ROWS-1, copied into a selection that starts whole. */
#define ID4(b) (b), (b) + 1, (b) + 2, (b) + 3
#define ID16(b) ID4(b), ID4((b) + 4), ID4((b) + 8), ID4((b) + 12)
#define ID64(b) ID16(b), ID16((b) + 16), ID16((b) + 32), ID16((b) + 48)
#define ID256(b) ID64(b), ID64((b) + 64), ID64((b) + 128), ID64((b) + 192)
static const uint32_t all_rows[PV_BATCH_ROWS] = {ID256(0), ID256(256), ID256(512), ID256(768)};
#undef ID4
#undef ID16
#undef ID64
#undef ID256

/* Is the bound conjunct true on row `row`? 1, 0 (false or NULL), <0 error. */
static int bound_true(pv_run *r, const pv_expr *e, uint32_t row)
{
    pv_value v;
    int rc;
    r->cx.row = row;
    if ((rc = pv_eval_expr(&r->cx, e, &v))) return rc;
    return pv_value_truth(&v) == 1;
}

/* First row of [lo, hi) where the bound is not `want`, given it holds on a
 * prefix; hi when it holds everywhere. */
static int bound_search(pv_run *r, const pv_expr *e, int want, uint32_t lo, uint32_t hi,
                        uint32_t *out)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int t = bound_true(r, e, mid);
        if (t < 0) return t;
        if (t == want) lo = mid + 1;
        else hi = mid;
    }
    *out = lo;
    return 0;
}

/* Rows [*lo, *hi) of the batch can satisfy the key bounds; past the upper
 * bound the scan ends (rows come in key order). */
static int apply_bounds(pv_run *r, const pv_batch *b, uint32_t *lo, uint32_t *hi)
{
    const pv_plan *p = r->plan;
    int rc;
    *lo = 0;
    *hi = b->nrows;
    if (p->upper && (rc = bound_true(r, p->upper, b->nrows - 1)) != 1) {
        if (rc < 0 || (rc = bound_search(r, p->upper, 1, 0, b->nrows, hi))) return rc;
        r->eof = 1;
    }
    if (p->lower && *lo < *hi) {
        if ((rc = bound_true(r, p->lower, *hi - 1)) != 1) {
            if (rc < 0) return rc;
            *lo = *hi; /* the whole batch is below the lower bound */
        } else if ((rc = bound_search(r, p->lower, 0, 0, *hi, lo))) {
            return rc;
        }
    }
    return 0;
}

static int filter(pv_run *r, const pv_batch *b, uint32_t *n)
{
    uint32_t i, lo = 0, hi = b->nrows;
    int rc;
    r->cx.batch = b;
    r->cx.group_row = NULL;
    r->cx.aggs = NULL;
    /* (rows read through a lookup or a key index are already within the bounds) */
    if ((r->plan->upper || r->plan->lower) && !r->lookup && b->nrows &&
        (rc = apply_bounds(r, b, &lo, &hi)))
        return rc;
    *n = hi - lo;
    if (lo == 0 && !r->where) { /* (filling sel was a fifth of SUM's time) */
        for (i = r->ident; i < hi; i++) r->sel[i] = i;
        if (hi > r->ident) r->ident = hi;
        return 0;
    }
    memcpy(r->sel, all_rows + lo, (hi - lo) * sizeof *r->sel);
    r->ident = 0; /* pv_filter narrows sel in place */
    return r->where && *n ? pv_filter(&r->cx, r->where, b, r->sel, n) : 0;
}

/* Row r of v into *o, field by field: building a pv_value on the stack
 * and copying it whole (pv_vec_get) stalls on store forwarding, which was
 * half the time of a 1,000-row range. */
static inline void copy_cell(const pv_vec *v, uint32_t r, pv_value *o)
{
    if (v->nulls && v->nulls[r]) {
        o->type = PV_NULL;
        return;
    }
    o->type = v->type;
    switch (v->type) {
    case PV_REAL: o->u.f = v->u.f[r]; break;
    case PV_TEXT:
    case PV_BLOB:
        o->u.s.p = v->u.s[r].p;
        o->u.s.n = v->u.s[r].n;
        break;
    default: o->u.i = v->u.i[r]; break;
    }
}

/* Evaluate outputs (and `extra` ORDER BY keys when asked) into `row`.
 * A bare column is copied, through pv_batch_get when the batch holds it
 * encoded (the run asked for encoded batches: pv_batch_ask_enc). */
static int project(pv_run *r, pv_value *row, int with_extra)
{
    const pv_plan *p = r->plan;
    const pv_batch *b = r->cx.batch;
    uint32_t i;
    int rc, enc = b && b->enc && b->enc_cols == b->cols;
    for (i = 0; i < p->nout; i++) {
        if (r->outslot[i] >= 0 && !r->cx.group_row) {
            uint32_t slot = (uint32_t)r->outslot[i];
            if (enc && b->enc[slot].form != PV_VEC_PLAIN) row[i] = pv_batch_get(b, slot, r->cx.row);
            else copy_cell(&b->cols[slot], r->cx.row, &row[i]);
            continue;
        }
        if ((rc = pv_eval_expr(&r->cx, p->out[i], &row[i]))) return rc;
    }
    for (i = 0; with_extra && i < p->nextra; i++)
        if ((rc = pv_eval_expr(&r->cx, p->extra[i], &row[p->nout + i]))) return rc;
    return 0;
}

/* DISTINCT: 1 if the output row is new, 0 if seen, <0 error. */
static int row_is_new(pv_run *r, const pv_value *row)
{
    uint32_t id;
    if (!r->distinct) return 1;
    return pv_hset_add(&r->seen, row, &id);
}

/* ---- streaming ----------------------------------------------------------------------- */

/* Is column c of b's text followed by a NUL byte (batch.h, pv_venc.term)? */
static inline int text_term(const pv_batch *b, uint32_t c)
{
    return b->enc && b->enc_cols == b->cols && b->enc[c].term;
}

/* pv_batch_form, inline: the form of column c of b. */
static inline int form_of(const pv_batch *b, uint32_t c)
{
    return b->enc && b->enc_cols == b->cols ? b->enc[c].form : PV_VEC_PLAIN;
}

/* Point the outputs at the batch's vectors (encoded ones decoded whole). */
static void place_cols(pv_run *r, const pv_batch *b)
{
    uint32_t i;
    for (i = 0; i < r->plan->nout; i++) {
        uint32_t slot = (uint32_t)r->outslot[i];
        if (form_of(b, slot) != PV_VEC_PLAIN) pv_batch_flatten(b, slot);
        r->ocols[i] = &b->cols[slot];
        r->oterm[i] = (uint8_t)text_term(b, slot);
    }
}

/* Point the outputs at the batch's vectors so that its rows are read in
 * place: 1, or 0 when an encoded output column should rather be read row
 * by row (few rows selected: decoding the whole column would cost more). */
static int place_batch(pv_run *r, const pv_batch *b)
{
    const pv_plan *p = r->plan;
    uint32_t i;
    for (i = 0; i < p->nout; i++)
        if (form_of(b, (uint32_t)r->outslot[i]) != PV_VEC_PLAIN && r->nsel * 4 < b->nrows)
            return 0;
    place_cols(r, b);
    return 1;
}

/* The next batch, filtered: its selected rows are r->sel[0..nsel). */
static int stream_batch(pv_run *r)
{
    const pv_batch *b;
    uint32_t n;
    int rc;
    r->nsel = r->pos = 0;
    if ((rc = next_batch(r, &b)) <= 0) return rc;
    /* Rows are read through filter and project only, so later batches may
     * come encoded; not for a lookup or key range, whose few rows cost
     * less than decoding a chunk's dictionaries (a 1,000-row range: 49 ->
     * 73 us when asked). */
    if (!r->lookup) pv_batch_ask_enc(b);
    if ((rc = filter(r, b, &n))) return rc;
    r->nsel = n;
    r->placed = r->in_place && n && place_batch(r, b);
    if (r->placed) r->cur.batch++;
    return 1;
}

/* The rest of a batch read in place, handed to pv_run_step's caller
 * (pv_row.more) up to the LIMIT, and taken out of the run; pv_run_next
 * takes rows one by one. */
static void place_more(pv_run *r)
{
    uint32_t n = 0;
    if (r->in_place) {
        n = r->nsel - r->pos;
        if (r->limit >= 0 && (uint64_t)n > (uint64_t)r->limit) n = (uint32_t)r->limit;
        if (r->limit > 0) r->limit -= n;
    }
    r->cur.more = r->sel + r->pos;
    r->cur.nmore = n;
    r->pos += n;
}

/* Rows are read in place (r->cur.row), or projected one at a time, when
 * asked for, into r->proj (one row): a 1,000-row range writes no batch of
 * projected rows, and rows past LIMIT are never evaluated. */
static int stream_next(pv_run *r)
{
    int rc;
    for (;;) {
        while (r->pos < r->nsel) {
            if (r->limit == 0) return 0;
            r->cx.row = r->sel[r->pos++];
            if (!r->distinct && r->skip > 0) { /* OFFSET without evaluating */
                r->skip--;
                continue;
            }
            if (r->placed) { /* (no DISTINCT, OFFSET done) */
                if (r->limit > 0) r->limit--;
                r->cur.vals = NULL;
                r->cur.row = r->cx.row;
                place_more(r);
                return 1;
            }
            if ((rc = project(r, r->proj, 0))) return rc;
            if ((rc = row_is_new(r, r->proj)) <= 0) {
                if (rc < 0) return rc;
                continue;
            }
            if (r->skip > 0) {
                r->skip--;
                continue;
            }
            if (r->limit > 0) r->limit--;
            r->cur.vals = r->proj;
            return 1;
        }
        if (r->eof || r->limit == 0) return 0;
        if ((rc = stream_batch(r)) <= 0) return rc;
    }
}

/* The lookup's row (r->one) made the run's current row, read in place.
 * A point lookup hands out the same vectors (the same array of pv_vec,
 * set once, exec_access.c) from key to key, only their values and
 * whether each text is NUL-terminated change: the outputs are pointed at
 * them when the array is new, and the row's batch then changes only when
 * it is or a `term` does, so pv_stmt keeps its view of them. */
static void point_row(pv_run *r)
{
    const pv_plan *p = r->plan;
    const pv_batch *b = &r->one;
    const pv_venc *enc = b->enc && b->enc_cols == b->cols ? b->enc : NULL; /* (as text_term, form_of) */
    uint32_t i;
    int changed = 0;
    if (b->cols != r->pcols || !enc) { /* new vectors */
        place_cols(r, b);
        r->pcols = enc ? b->cols : NULL;
        changed = 1;
    } else { /* (in locals: the stores to oterm may alias r for the compiler) */
        const int *slot = r->outslot;
        uint8_t *oterm = r->oterm;
        const uint32_t n = p->nout;
        for (i = 0; i < n; i++) {
            uint8_t term = enc[slot[i]].term;
            changed |= term != oterm[i];
            oterm[i] = term;
        }
    }
    if (changed) r->cur.batch++;
    r->cur.vals = NULL;
    r->cur.row = 0;
    r->cur.more = NULL;
    r->cur.nmore = 0;
}

/* The row of a point lookup of one whole key (r->point), read in place,
 * the way stream_next would hand it out but without its per-batch work
 * (selection, placing, the next batch asked for): a run of a prepared
 * `SELECT ... WHERE key = ?` costs little more than the lookup itself. At
 * most one row: the WHERE left over, OFFSET and LIMIT still apply. */
static int point_step(pv_run *r)
{
    uint32_t n = 1;
    int rc;
    if (r->eof) return 0;
    r->eof = 1; /* one key: one batch at most */
    pv_run_point_steps++;
    if ((rc = pv_lookup_next(r->lookup, &r->one)) <= 0) return rc;
    if (r->where && ((rc = filter(r, &r->one, &n)) || n == 0)) return rc;
    if (r->skip > 0) { /* (OFFSET n >= 1 skips the only row) */
        r->skip--;
        return 0;
    }
    if (r->limit > 0) r->limit--;
    point_row(r);
    return 1;
}

int pv_run_point(pv_run *r, const pv_row **row)
{
    const pv_value *key;
    int rc;
    if (!r->direct) return PV_RUN_GENERAL;
    key = &r->cx.params[r->plan->kvals[0][0]->param];
    if (key->type != PV_INTEGER) return PV_RUN_GENERAL; /* (key_value converts it) */
    r->eof = 1;
    pv_run_point_steps++;
    pv_run_direct_steps++;
    if ((rc = pv_lookup_point(r->lookup, key, &r->one)) <= 0) return rc;
    point_row(r);
    *row = &r->cur;
    return 1;
}

/* ---- materialized ----------------------------------------------------------------------- */

/* Copy the scratch row into the store, unless DISTINCT has seen it. */
static int keep_row(pv_run *r)
{
    const pv_plan *p = r->plan;
    uint32_t i, w = p->nout + p->nextra;
    pv_value *row;
    const char *op = !p->aggregate ? "ORDER BY" : p->ngroup ? "GROUP BY" : "aggregate";
    size_t before = r->store.total;
    int rc;
    if ((rc = row_is_new(r, r->scratch)) <= 0) return rc;
    if (r->nrows == r->rowcap) {
        size_t nc = r->rowcap ? r->rowcap * 2 : 256;
        pv_value **nr;
        /* (and the sort's room for as many pointers) */
        if ((rc = pv_budget_charge(&r->budget, (uint64_t)(nc - r->rowcap) * 2 * sizeof *nr, op)))
            return rc;
        nr = realloc(r->rows, nc * sizeof *nr);
        if (!nr) return nomem();
        r->rows = nr;
        r->rowcap = nc;
    }
    if (!(row = pv_arena_alloc(&r->store, (w ? w : 1) * sizeof *row))) return nomem();
    for (i = 0; i < w; i++)
        if ((rc = pv_value_copy(&r->store, &r->scratch[i], &row[i]))) return rc;
    if ((rc = pv_budget_charge(&r->budget, r->store.total - before, op))) return rc;
    r->rows[r->nrows++] = row;
    return 0;
}

static int collect_rows(pv_run *r)
{
    const pv_batch *b;
    uint32_t n, i;
    int rc;
    while ((rc = next_batch(r, &b)) > 0) {
        if (!r->lookup) pv_batch_ask_enc(b); /* (as stream_batch) */
        if ((rc = filter(r, b, &n))) return rc;
        for (i = 0; i < n; i++) {
            r->cx.row = r->sel[i];
            if ((rc = project(r, r->scratch, 1)) || (rc = keep_row(r))) return rc;
        }
    }
    return rc;
}

static int emit_groups(pv_run *r, pv_groups *g)
{
    const pv_plan *p = r->plan;
    uint32_t i;
    int rc;
    for (i = 0; i < pv_groups_count(g); i++) {
        const pv_value *row, *aggs;
        pv_arena_free(&r->tmp);
        if ((rc = pv_groups_get(g, i, &row, &aggs))) return rc;
        r->cx.batch = NULL;
        r->cx.group_row = row;
        r->cx.aggs = aggs;
        if (p->having) {
            pv_value v;
            if ((rc = pv_eval_expr(&r->cx, p->having, &v))) return rc;
            if (pv_value_truth(&v) != 1) continue;
        }
        if ((rc = project(r, r->scratch, 1)) || (rc = keep_row(r))) return rc;
    }
    return 0;
}

static int aggregate_rows(pv_run *r)
{
    pv_groups *g = NULL;
    const pv_batch *b;
    uint32_t n;
    int rc;
    if ((rc = pv_groups_new(r->plan, &r->budget, &g))) return rc;
    while ((rc = next_batch(r, &b)) > 0) {
        if ((rc = filter(r, b, &n)) || (rc = pv_groups_add(g, b, r->sel, n, &r->cx))) goto done;
    }
    if (rc < 0 || (rc = pv_groups_finish(g))) goto done;
    rc = emit_groups(r, g);
done:
    pv_groups_free(g);
    return rc;
}

static int materialize(pv_run *r)
{
    const pv_plan *p = r->plan;
    void **tmp;
    int rc = p->aggregate ? aggregate_rows(r) : collect_rows(r);
    if (rc) return rc;
    if (p->nkeys && r->nrows > 1) {
        if (!(tmp = malloc(r->nrows * sizeof *tmp))) return nomem();
        pv_msort((void **)r->rows, r->nrows, tmp, pv_row_cmp, p);
        free(tmp);
    }
    r->cursor = r->skip > 0 ? (size_t)r->skip : 0;
    r->materialized = 1;
    return 0;
}

static int materialized_next(pv_run *r)
{
    int rc;
    if (!r->materialized && (rc = materialize(r))) return rc;
    if (r->cursor >= r->nrows || r->limit == 0) return 0;
    if (r->limit > 0) r->limit--;
    r->cur.vals = r->rows[r->cursor++];
    return 1;
}

/* ---- open / next / close ------------------------------------------------------------------ */

/* LIMIT and OFFSET must be integers (SQLite: "datatype mismatch"). */
static int eval_count(pv_run *r, const pv_expr *e, const char *what, int64_t *out)
{
    pv_value v, n;
    int pure = 1, rc;
    if ((rc = pv_eval_expr(&r->cx, e, &v))) return rc;
    if (v.type == PV_TEXT) n = pv_text_numeric(v.u.s.p, v.u.s.n, &pure);
    else n = pv_value_numeric(&v);
    if (pure && n.type == PV_REAL && n.u.f == (double)pv_real_to_int64(n.u.f))
        n = pv_v_int(pv_real_to_int64(n.u.f));
    if (!pure || n.type != PV_INTEGER)
        return pv_err_at(PV_ETYPE, e->off, "datatype mismatch in %s", what);
    *out = n.u.i;
    return 0;
}

/* The columns the plan reads must still be where they were at prepare
 * (an ALTER TABLE or DROP + CREATE in between moves them). */
static int check_shape(const pv_plan *p, const pv_source *src)
{
    const pv_schema *s = src->schema;
    uint32_t i;
    for (i = 0; i < p->nslots; i++) {
        const pv_column *c = p->slot_col[i] < s->ncols ? &s->cols[p->slot_col[i]] : NULL;
        if (!c || c->type != p->slot_type[i] ||
            !pv_ident_eq(c->name, strlen(c->name), p->slot_name[i], strlen(p->slot_name[i])))
            return pv_err(PV_EMISUSE, "table %s changed since the statement was prepared: prepare it again",
                          p->table);
    }
    return 0;
}

/* Open the access path, or start the kept one again. */
static int open_access(pv_run *r, pv_db *db)
{
    const pv_plan *p = r->plan;
    const pv_source_index_ops *ix;
    int rc;
    if (r->lookup) {
        rc = pv_lookup_restart(r->lookup, &r->src, &r->cx);
    } else if (p->access == PV_ACCESS_LOOKUP) {
        return pv_lookup_open(p, db, &r->src, &r->cx, &r->lookup);
    } else if (p->index && (ix = pv_source_index(&r->src))) {
        rc = pv_index_open(p, &r->src, ix, &r->cx, &r->lookup);
        /* (the lookup is then a point lookup: pv_index_open) */
        r->point = rc == 0 && r->can_place && p->index == PV_INDEX_KEYS && !p->has_sec && p->npk == 1 &&
                   p->nkvals[0] == 1 && r->src.schema->npk == 1;
        r->direct = r->point && !p->limit && !p->offset && p->pk_type[0] == PV_INTEGER &&
                    p->kvals[0][0]->kind == PV_X_PARAM &&
                    (!p->where || (p->has_rest && !p->where_rest && pv_lookup_exact(r->lookup)));
    } else {
        return r->src.ops->scan_open(&r->src, p->slot_col, p->nslots, &r->scan);
    }
    if (rc == 0 && p->has_rest && pv_lookup_exact(r->lookup)) r->where = p->where_rest;
    return rc;
}

/* LIMIT and OFFSET of this run, and its WHERE before the access path
 * narrows it: 1 when LIMIT leaves no row to read (eof), 0, or an error. */
static int run_counts(pv_run *r)
{
    const pv_plan *p = r->plan;
    int rc;
    r->limit = -1;
    r->skip = 0;
    r->where = p->where;
    if (p->limit && (rc = eval_count(r, p->limit, "LIMIT", &r->limit))) return rc;
    if (r->limit < 0) r->limit = -1;
    if (p->offset && (rc = eval_count(r, p->offset, "OFFSET", &r->skip))) return rc;
    if (r->skip < 0) r->skip = 0;
    if (r->tmp.head) pv_arena_free(&r->tmp);
    if (r->limit == 0) r->eof = 1;
    return r->limit == 0;
}

/* pv_run_restart of a point run (r->point): its table is fixed, and it
 * has no scan, no stored rows and no DISTINCT to drop; the lookup takes
 * the new key. */
static int point_restart(pv_run *r)
{
    int rc;
    r->eof = 0;
    if ((rc = run_counts(r))) return rc < 0 ? rc : 0;
    if ((rc = pv_lookup_restart(r->lookup, &r->src, &r->cx))) return rc;
    if (r->plan->has_rest && pv_lookup_exact(r->lookup)) r->where = r->plan->where_rest;
    return 0;
}

static int run_start(pv_run *r, pv_db *db)
{
    const pv_plan *p = r->plan;
    int rc;
    if ((rc = run_counts(r))) return rc < 0 ? rc : 0;
    if (!p->has_from) return 0;
    if (!r->src_fixed) {
        rc = p->as_of ? pv_db_find_table_at_sql(db, p->as_of, p->as_of_off, p->table, strlen(p->table), &r->src)
                      : pv_db_find_table_sql(db, p->map, p->table, strlen(p->table), p->table_off, &r->src);
        if (rc || (rc = check_shape(p, &r->src))) return rc;
        /* the statement's .pvdb mapping is immutable: the table and its
         * columns found now are those of every later run */
        r->src_fixed = p->map && !p->as_of;
    }
    return open_access(r, db);
}

int pv_run_open(const pv_plan *plan, pv_db *db, const pv_value *params, pv_run **out)
{
    pv_run *r = calloc(1, sizeof *r);
    size_t w = plan->nout + plan->nextra;
    uint32_t i;
    int rc;
    *out = NULL;
    if (!r) return nomem();
    r->plan = plan;
    r->cx.params = params;
    r->cx.arena = &r->tmp;
    r->distinct = plan->distinct;
    pv_hset_init(&r->seen, plan->nout);
    pv_hset_set_budget(&r->seen, &r->budget, "DISTINCT");
    r->budget.limit = PV_QUERY_MEM_DEFAULT;
    if (!(r->scratch = calloc(w ? w : 1, sizeof *r->scratch)) ||
        !(r->proj = calloc(plan->nout ? plan->nout : 1, sizeof *r->proj)) ||
        !(r->outslot = malloc((plan->nout ? plan->nout : 1) * sizeof *r->outslot)) ||
        !(r->ocols = calloc(plan->nout ? plan->nout : 1, sizeof *r->ocols)) ||
        !(r->oterm = calloc(plan->nout ? plan->nout : 1, 1))) {
        rc = nomem();
        goto fail;
    }
    /* in place on a .pvdb only: its batches stay put until the next step,
     * while a workspace write between pv_step and pv_column_* may move the
     * table's vectors (a row projected at pv_step keeps its numbers) */
    r->can_place = plan->has_from && plan->map && !plan->as_of && !plan->distinct &&
                   !plan->aggregate && !plan->nkeys;
    for (i = 0; i < plan->nout; i++) {
        r->outslot[i] = plan->out[i]->kind == PV_X_COL && plan->out[i]->slot >= 0 ? plan->out[i]->slot : -1;
        if (r->outslot[i] < 0) r->can_place = 0;
    }
    r->cur.cols = r->ocols;
    r->cur.term = r->oterm;
    if ((rc = run_start(r, db))) goto fail;
    *out = r;
    return 0;
fail:
    pv_run_close(r);
    return rc;
}

void pv_run_finish(pv_run *r)
{
    if (!r) return;
    if (r->scan) r->src.ops->scan_close(r->scan);
    r->scan = NULL;
    pv_lookup_finish(r->lookup);
}

int pv_run_restart(pv_run *r, pv_db *db)
{
    if (r->point) return point_restart(r);
    pv_run_finish(r);
    r->eof = 0;
    r->nsel = r->pos = 0;
    r->placed = 0;
    r->materialized = 0;
    r->nrows = r->cursor = 0;
    pv_arena_reset(&r->store);
    if (r->distinct) pv_hset_free(&r->seen); /* (keeps its budget) */
    /* what the run still holds: the store's first block, the rows array */
    r->budget.used = r->store.total + r->rowcap * 2 * sizeof *r->rows;
    return run_start(r, db);
}

int pv_run_next(pv_run *r, const pv_value **row)
{
    int rc;
    r->in_place = 0;
    rc = r->plan->aggregate || r->plan->nkeys ? materialized_next(r) : stream_next(r);
    if (rc == 1 && !r->cur.vals) { /* a batch taken in place before */
        if ((rc = project(r, r->proj, 0))) return rc;
        r->cur.vals = r->proj;
        rc = 1;
    }
    if (rc == 1) *row = r->cur.vals;
    return rc;
}

int pv_run_step(pv_run *r, const pv_row **row)
{
    int rc;
    if (r->point) {
        if ((rc = point_step(r)) == 1) *row = &r->cur;
        return rc;
    }
    r->in_place = r->can_place;
    rc = r->plan->aggregate || r->plan->nkeys ? materialized_next(r) : stream_next(r);
    if (rc == 1) *row = &r->cur;
    return rc;
}

void pv_run_close(pv_run *r)
{
    if (!r) return;
    if (r->scan) r->src.ops->scan_close(r->scan);
    pv_lookup_close(r->lookup);
    pv_arena_free(&r->tmp);
    pv_arena_free(&r->store);
    pv_hset_free(&r->seen);
    free(r->rows);
    free(r->proj);
    free(r->scratch);
    free(r->outslot);
    free(r->ocols);
    free(r->oterm);
    free(r);
}
