/*
 * stmt.c: the statement half of pv.h: prepare, bind, step, column access.
 *
 * pv_prepare parses one statement into the statement's arena and binds it
 * (names resolved, so unknown tables and columns fail at prepare as in
 * SQLite). Statements that write run on the first pv_step (exec_dml.c,
 * exec_ddl.c); SELECT opens a run (exec.h) and hands out its rows; EXPLAIN
 * hands out the rows of pv_explain.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "exec.h"
#include "sql_ast.h"
#include "util.h"
#include "value.h"

enum { ST_READY, ST_ROW, ST_DONE, ST_FAILED };

/* A result column of the current batch when rows are read in place, as
 * pv_column_* read it: one pointer per storage kind, set only for the
 * column's type, so that the common calls are a test and a load. */
typedef struct place_col {
    const int64_t *ints;    /* INTEGER, BOOLEAN */
    const double *reals;    /* REAL */
    const pv_str *strs;     /* TEXT, BLOB */
    const pv_str *cstrs;    /* = strs when each value is followed by a NUL */
    const uint8_t *nulls;   /* NULL when the batch has none */
    int type;
} place_col;

/* Result columns a statement reads in place through place[] (the rest go
 * through the row's vectors): inline in the statement, so a pv_column_*
 * call is one load less. */
#define PLACE_COLS 16

struct pv_stmt {
    /* (first: what pv_step and pv_column_* read for every row) */
    /* Rows read in place: nplace = min(ncols, PLACE_COLS) while the
     * current row is one (else 0), r its row of place[]'s vectors; [more,
     * more_end) the rows that follow it in the batch, which pv_step hands
     * out itself. (Two pointers: a count stored next to r was merged with
     * it into one store that a cache line could split, and the next
     * pv_step's load of the count then waited for it.) */
    const uint32_t *more, *more_end;
    uint32_t nplace, r;
    uint64_t rowgen;       /* rows handed out so far (text_gen's clock) */
    place_col place[PLACE_COLS];
    pv_db *db;
    pv_db_map *map;        /* .pvdb: the mapping prepared on (a reference) */
    pv_arena arena;        /* statement text, AST, plan, names */
    pv_sql_stmt *ast;
    pv_plan *plan;         /* SELECT, and the scan of UPDATE / DELETE */
    pv_change *change;     /* every statement but SELECT */
    uint32_t ncols;        /* result columns */
    char **names;          /* result column names */
    uint32_t nparams;
    pv_value *params;
    char **pbytes;         /* owned bytes of text/blob parameters */
    int state;
    pv_run *run;           /* kept across pv_reset: a re-run allocates nothing */
    int rerun;             /* run has been used: pv_run_restart before stepping */
    uint64_t mem_limit;    /* pv_stmt_set_mem_limit; 0: PV_QUERY_MEM_DEFAULT */
    pv_value *xrows;       /* EXPLAIN: rows of PV_EXPLAIN_COLS values */
    uint32_t nxrows, xpos;
    pv_arena xarena;       /* EXPLAIN rows */
    const pv_row *row;     /* the current row (ST_ROW): values, or read in place */
    uint64_t place_batch;  /* the pv_row.batch place[] was read from */
    int placed_once;       /* place[] has been read from a batch */
    pv_row xrow;           /* EXPLAIN: the current row's values */
    pv_buf *text;          /* per result column: NUL-terminated text */
    uint64_t *text_gen;    /* per result column: text[] holds row rowgen's */
};

static int nomem(void) { return pv_err(PV_ENOMEM, "out of memory preparing a statement"); }

/* ---- prepare / finalize --------------------------------------------------------------- */

static char *explain_names[PV_EXPLAIN_COLS] = {"id", "op", "detail"};

static int prepare_kind(pv_stmt *st)
{
    int rc;
    if (st->ast->kind == PV_SQL_SELECT) {
        if ((rc = pv_plan_build(st->db, st->map, &st->arena, st->ast, &st->plan))) return rc;
        st->ncols = st->plan->nout;
        st->names = st->plan->names;
    } else {
        if ((rc = pv_change_prepare(st->db, &st->arena, st->ast, &st->change))) return rc;
        st->plan = (pv_plan *)pv_change_plan(st->change);
    }
    if (st->ast->explain) {
        st->ncols = PV_EXPLAIN_COLS;
        st->names = explain_names;
    }
    if (!(st->text = calloc(st->ncols ? st->ncols : 1, sizeof *st->text)) ||
        !(st->text_gen = calloc(st->ncols ? st->ncols : 1, sizeof *st->text_gen)))
        return nomem();
    return 0;
}

static void stmt_free(pv_stmt *st)
{
    uint32_t i;
    pv_run_close(st->run);
    pv_change_free(st->change);
    pv_arena_free(&st->xarena);
    for (i = 0; st->pbytes && i < st->nparams; i++) free(st->pbytes[i]);
    for (i = 0; st->text && i < st->ncols; i++) pv_buf_free(&st->text[i]);
    free(st->pbytes);
    free(st->params);
    free(st->text);
    free(st->text_gen);
    pv_arena_free(&st->arena);
    pv_db_map_release(st->map);
    free(st);
}

static int new_stmt(pv_db *db, uint32_t nparams, pv_stmt **out)
{
    pv_stmt *st = calloc(1, sizeof *st);
    uint32_t i;
    *out = st;
    if (!st) return nomem();
    st->db = db;
    st->map = pv_db_map_acquire(db);
    st->nparams = nparams;
    st->params = calloc(nparams ? nparams : 1, sizeof *st->params);
    st->pbytes = calloc(nparams ? nparams : 1, sizeof *st->pbytes);
    if (!st->params || !st->pbytes) return nomem();
    for (i = 0; i < nparams; i++) st->params[i] = pv_v_null();
    return 0;
}

PV_API int pv_prepare(pv_db *db, const char *sql, size_t len, pv_stmt **out, const char **tail)
{
    pv_arena arena = PV_ARENA_INIT;
    pv_sql_stmt *ast = NULL;
    pv_stmt *st = NULL;
    size_t end, pend = 0;
    char *copy;
    int rc;
    if (out) *out = NULL;
    if (tail) *tail = sql;
    if (!db || !sql || !out) return pv_err(PV_EMISUSE, "pv_prepare: db, sql and out must not be NULL");
    if (len == (size_t)-1) len = strlen(sql);
    /* the statement's text is copied: names and spans point into the copy */
    end = pv_sql_stmt_end(sql, len);
    if (!(copy = pv_arena_dup(&arena, sql, end))) {
        rc = nomem();
        goto fail;
    }
    if ((rc = pv_sql_parse(&arena, copy, end, &ast, &pend))) goto fail;
    if (tail) *tail = sql + (ast ? end : pend);
    if (!ast) {
        pv_arena_free(&arena);
        return PV_OK;
    }
    if ((rc = new_stmt(db, ast->nparams, &st))) goto fail;
    st->arena = arena;
    arena = (pv_arena)PV_ARENA_INIT;
    st->ast = ast;
    if ((rc = prepare_kind(st))) goto fail;
    pv_db_count_user(db, 1);
    *out = st;
    return PV_OK;
fail:
    if (tail) *tail = sql;
    if (st) stmt_free(st);
    pv_arena_free(&arena);
    return rc;
}

PV_API int pv_reset(pv_stmt *st)
{
    if (!st) return pv_err(PV_EMISUSE, "pv_reset: statement is NULL");
    pv_run_finish(st->run); /* the run itself is kept for the next step */
    st->rerun = st->run != NULL;
    st->row = NULL;
    st->nplace = 0;
    st->more = st->more_end = NULL;
    st->state = ST_READY;
    st->xrows = NULL;
    st->nxrows = st->xpos = 0;
    pv_arena_free(&st->xarena);
    return PV_OK;
}

PV_API int pv_finalize(pv_stmt *st)
{
    if (!st) return PV_OK;
    pv_db_count_user(st->db, -1);
    stmt_free(st);
    return PV_OK;
}

/* ---- bind ------------------------------------------------------------------------------ */

static int bind_check(pv_stmt *st, int idx)
{
    if (!st) return pv_err(PV_EMISUSE, "pv_bind: statement is NULL");
    if (st->state != ST_READY)
        return pv_err(PV_EMISUSE, "pv_bind: statement is running; call pv_reset first");
    if (idx < 1 || (uint32_t)idx > st->nparams)
        return pv_err(PV_ERANGE, "parameter index %d out of range (statement has %u)", idx, st->nparams);
    free(st->pbytes[idx - 1]);
    st->pbytes[idx - 1] = NULL;
    return 0;
}

static int bind_value(pv_stmt *st, int idx, pv_value v)
{
    int rc = bind_check(st, idx);
    if (!rc) st->params[idx - 1] = v;
    return rc;
}

PV_API int pv_bind_null(pv_stmt *st, int idx) { return bind_value(st, idx, pv_v_null()); }
PV_API int pv_bind_int64(pv_stmt *st, int idx, int64_t v) { return bind_value(st, idx, pv_v_int(v)); }
PV_API int pv_bind_bool(pv_stmt *st, int idx, int v) { return bind_value(st, idx, pv_v_bool(v)); }

PV_API int pv_bind_double(pv_stmt *st, int idx, double v)
{
    return bind_value(st, idx, v != v ? pv_v_null() : pv_v_real(v)); /* NaN is NULL, as SQLite */
}

static int bind_bytes(pv_stmt *st, int idx, const void *p, size_t n, int type)
{
    char *copy;
    int rc = bind_check(st, idx);
    if (rc) return rc;
    if (n && !p) return pv_err(PV_EMISUSE, "pv_bind: NULL data with length %zu", n);
    if (!(copy = malloc(n ? n : 1))) return pv_err(PV_ENOMEM, "out of memory binding parameter %d", idx);
    if (n) memcpy(copy, p, n);
    st->pbytes[idx - 1] = copy;
    st->params[idx - 1] = type == PV_TEXT ? pv_v_text(copy, n) : pv_v_blob(copy, n);
    return 0;
}

PV_API int pv_bind_text(pv_stmt *st, int idx, const char *text, size_t len)
{
    size_t bad;
    if (text && len == (size_t)-1) len = strlen(text);
    if (text && !pv_utf8_valid(text, len, &bad))
        return pv_err(PV_EINPUT, "parameter %d: invalid utf-8 at byte %zu", idx, bad);
    if (!text) return pv_bind_null(st, idx);
    return bind_bytes(st, idx, text, len, PV_TEXT);
}

PV_API int pv_bind_blob(pv_stmt *st, int idx, const void *data, size_t len)
{
    if (!data && len == 0) return bind_bytes(st, idx, "", 0, PV_BLOB);
    return bind_bytes(st, idx, data, len, PV_BLOB);
}

PV_API int pv_bind_count(const pv_stmt *st) { return st ? (int)st->nparams : 0; }

PV_API int pv_stmt_set_mem_limit(pv_stmt *st, uint64_t bytes)
{
    if (!st) return pv_err(PV_EMISUSE, "pv_stmt_set_mem_limit: statement is NULL");
    if (st->state == ST_ROW)
        return pv_err(PV_EMISUSE, "pv_stmt_set_mem_limit: the statement is running; call pv_reset first");
    st->mem_limit = bytes;
    return PV_OK;
}

/* ---- step ------------------------------------------------------------------------------- */

static int step_explain(pv_stmt *st)
{
    int rc;
    if (!st->xrows &&
        (rc = pv_explain(st->plan, st->ast->kind == PV_SQL_SELECT ? NULL
                                   : st->ast->kind == PV_SQL_UPDATE ? "UPDATE" : "DELETE",
                         &st->xarena, &st->xrows, &st->nxrows)))
        return rc;
    if (st->xpos >= st->nxrows) return PV_DONE;
    st->xrow.vals = &st->xrows[(size_t)st->xpos++ * PV_EXPLAIN_COLS];
    st->row = &st->xrow;
    return PV_ROW;
}

/* Read the vectors of a row handed out in place (once per batch), and
 * take the rows that follow it. */
static void take_place(pv_stmt *st, const pv_row *row)
{
    uint32_t i, n = st->ncols < PLACE_COLS ? st->ncols : PLACE_COLS;
    if (!st->placed_once || row->batch != st->place_batch) {
        for (i = 0; i < n; i++) {
            const pv_vec *v = row->cols[i];
            place_col *c = &st->place[i];
            memset(c, 0, sizeof *c);
            c->type = v->type;
            c->nulls = v->nulls;
            switch (v->type) {
            case PV_REAL: c->reals = v->u.f; break;
            case PV_TEXT:
            case PV_BLOB:
                c->strs = v->u.s;
                c->cstrs = row->term[i] ? v->u.s : NULL;
                break;
            default: c->ints = v->u.i; break;
            }
        }
        st->place_batch = row->batch;
        st->placed_once = 1;
    }
    st->nplace = n;
    st->r = row->row;
    st->more = row->more;
    st->more_end = row->more + row->nmore;
}

static int step_select(pv_stmt *st)
{
    int rc;
    st->rowgen++; /* every text[] made before is stale */
    if (st->ast->explain) return step_explain(st);
    if (!st->run) {
        if ((rc = pv_run_open(st->plan, st->db, st->params, &st->run))) return rc;
        pv_run_set_mem_limit(st->run, st->mem_limit ? st->mem_limit : PV_QUERY_MEM_DEFAULT);
    } else if (st->rerun) {
        st->rerun = 0;
        if ((rc = pv_run_restart(st->run, st->db))) {
            st->rerun = 1;
            return rc;
        }
        pv_run_set_mem_limit(st->run, st->mem_limit ? st->mem_limit : PV_QUERY_MEM_DEFAULT);
    }
    st->row = NULL;
    rc = pv_run_step(st->run, &st->row);
    if (rc == 1) {
        if (!st->row->vals) take_place(st, st->row);
        return PV_ROW;
    }
    if (rc == 0) pv_run_finish(st->run); /* release the scan as soon as it is done */
    return rc;
}

PV_API int pv_step(pv_stmt *st)
{
    int rc;
    if (!st) return pv_err(PV_EMISUSE, "pv_step: statement is NULL");
    if (st->more != st->more_end) { /* the next row of the batch read in place (ST_ROW) */
        st->r = *st->more++;
        st->rowgen++;
        return PV_ROW;
    }
    st->nplace = 0;
    if (st->state == ST_DONE) return PV_DONE;
    if (st->state == ST_FAILED)
        return pv_err(PV_EMISUSE, "pv_step: the statement failed; call pv_reset to run it again");
    if (st->ast->kind == PV_SQL_SELECT || st->ast->explain) rc = step_select(st);
    else rc = pv_change_run(st->change, st->params);
    st->state = rc == PV_ROW ? ST_ROW : rc == 0 ? ST_DONE : ST_FAILED;
    if (st->state != ST_ROW) st->row = NULL;
    return rc;
}

PV_API int pv_exec(pv_db *db, const char *sql)
{
    const char *p = sql, *tail;
    if (!db || !sql) return pv_err(PV_EMISUSE, "pv_exec: db and sql must not be NULL");
    while (*p) {
        pv_stmt *st;
        int rc = pv_prepare(db, p, (size_t)-1, &st, &tail);
        if (rc) return rc;
        if (st) {
            while ((rc = pv_step(st)) == PV_ROW) {}
            pv_finalize(st);
            if (rc < 0) return rc;
        }
        if (tail <= p) break;
        p = tail;
    }
    return PV_OK;
}

/* ---- columns ------------------------------------------------------------------------------ */

PV_API int pv_column_count(const pv_stmt *st) { return st ? (int)st->ncols : 0; }

PV_API const char *pv_column_name(const pv_stmt *st, int col)
{
    if (!st || col < 0 || (uint32_t)col >= st->ncols) return NULL;
    return st->names[col];
}

/* Is there a cell `col` in the current row? (st->row is set in ST_ROW
 * only; a negative col is a large unsigned one) */
static inline int has_cell(const pv_stmt *st, int col)
{
    return st && st->row && (uint32_t)col < st->ncols;
}

/* The vector of cell `col` when the row is read in place (has_cell),
 * else NULL; *r receives the row within it. */
static inline const pv_vec *cell_vec(const pv_stmt *st, int col, uint32_t *r)
{
    *r = st->r;
    return st->row->vals ? NULL : st->row->cols[col];
}

/* The column of a row read in place (a cell of it), else NULL. */
static inline const place_col *placed(const pv_stmt *st, int col)
{
    return st && (uint32_t)col < st->nplace ? &st->place[col] : NULL;
}

static inline int placed_null(const place_col *c, uint32_t r) { return c->nulls && c->nulls[r]; }

/* The value of a cell (has_cell): the row's value, or the vector's slot
 * (field by field, as exec_run.c's copy_cell). */
static inline void cell(const pv_stmt *st, int col, pv_value *o)
{
    uint32_t r;
    const pv_vec *v = cell_vec(st, col, &r);
    if (!v) {
        *o = st->row->vals[col];
        return;
    }
    memset(o, 0, sizeof *o);
    if (v->nulls && v->nulls[r]) {
        o->type = PV_NULL;
        return;
    }
    o->type = v->type;
    switch (v->type) {
    case PV_REAL: o->u.f = v->u.f[r]; break;
    case PV_TEXT:
    case PV_BLOB: o->u.s = v->u.s[r]; break;
    default: o->u.i = v->u.i[r]; break;
    }
}

PV_API int pv_column_type(const pv_stmt *st, int col)
{
    uint32_t r;
    const pv_vec *v;
    const place_col *c = placed(st, col);
    if (c) return placed_null(c, st->r) ? PV_NULL : c->type;
    if (!has_cell(st, col)) return PV_NULL;
    if (!(v = cell_vec(st, col, &r))) return st->row->vals[col].type;
    return v->nulls && v->nulls[r] ? PV_NULL : v->type;
}

PV_API int64_t pv_column_int64(pv_stmt *st, int col)
{
    const place_col *c = placed(st, col);
    pv_value x;
    if (c && c->ints) return placed_null(c, st->r) ? 0 : c->ints[st->r]; /* (the common case) */
    if (!has_cell(st, col)) return 0;
    cell(st, col, &x);
    return pv_value_int64(&x);
}

PV_API double pv_column_double(pv_stmt *st, int col)
{
    const place_col *c = placed(st, col);
    pv_value x;
    if (c && c->reals) return placed_null(c, st->r) ? 0.0 : c->reals[st->r];
    if (!has_cell(st, col)) return 0.0;
    cell(st, col, &x);
    return pv_value_double(&x);
}

/* The NUL-terminated text of a cell (has_cell) copied into text[col],
 * made once per row: numbers formatted, text and blobs whose bytes are
 * not known to be followed by a NUL. NULL for a NULL value. */
static const pv_buf *cell_text(pv_stmt *st, int col)
{
    pv_value v;
    pv_buf *b;
    char num[32];
    const char *p = num;
    size_t n;
    cell(st, col, &v);
    if (v.type == PV_NULL) return NULL;
    b = &st->text[col];
    if (st->text_gen[col] == st->rowgen) return b;
    switch (v.type) {
    case PV_TEXT:
    case PV_BLOB: p = v.u.s.p; n = v.u.s.n; break;
    case PV_REAL: n = (size_t)pv_real_format(v.u.f == 0.0 ? 0.0 : v.u.f, num); break; /* as SQLite: "0.0" */
    default: n = (size_t)pv_int_format(v.u.i, num); break;
    }
    b->len = 0;
    if (b->cap < n + 1 && pv_buf_reserve(b, n + 1)) return NULL;
    if (n) memcpy(b->p, p, n);
    b->p[n] = 0;
    b->len = n;
    st->text_gen[col] = st->rowgen;
    return b;
}

/* The bytes of a TEXT/BLOB cell read in place, when they can be handed
 * out as they are (`term`: they must also be followed by a NUL): 1 with
 * *s, 0 when cell_text must make them. */
static inline int cell_str(const pv_stmt *st, int col, int term, pv_str *s)
{
    uint32_t r;
    const pv_vec *v = cell_vec(st, col, &r);
    if (!v || (v->type != PV_TEXT && v->type != PV_BLOB) || (v->nulls && v->nulls[r])) return 0;
    *s = v->u.s[r];
    /* (an empty value may have no bytes at all: made, so never NULL) */
    return s->n && (!term || st->row->term[col]);
}

PV_API const char *pv_column_text(pv_stmt *st, int col)
{
    const place_col *c = placed(st, col);
    const pv_buf *b;
    pv_str s;
    /* (a NUL-terminated value as it is; an empty one has maybe no bytes) */
    if (c && c->cstrs && !placed_null(c, st->r) && c->cstrs[st->r].n) return c->cstrs[st->r].p;
    if (!has_cell(st, col)) return NULL;
    if (cell_str(st, col, 1, &s)) return s.p;
    b = cell_text(st, col);
    return b ? b->p : NULL;
}

PV_API const void *pv_column_blob(pv_stmt *st, int col)
{
    const pv_buf *b;
    pv_str s;
    if (!has_cell(st, col)) return NULL;
    if (cell_str(st, col, 0, &s)) return s.p;
    b = cell_text(st, col);
    return b ? b->p : NULL;
}

PV_API size_t pv_column_bytes(pv_stmt *st, int col)
{
    const place_col *c = placed(st, col);
    const pv_buf *b;
    pv_str s;
    if (c && c->strs) return placed_null(c, st->r) ? 0 : c->strs[st->r].n;
    if (!has_cell(st, col)) return 0;
    if (cell_str(st, col, 0, &s)) return s.n;
    b = cell_text(st, col);
    return b ? b->len : 0;
}
