/*
 * stmt.c: the statement half of pv.h: prepare, bind, step, column access.
 *
 * pv_prepare parses one statement into the statement's arena and binds it
 * (names resolved, so unknown tables and columns fail at prepare as in
 * SQLite). Statements that write run on the first pv_step (exec_dml.c,
 * exec_ddl.c); SELECT opens a run (exec.h) and hands out its rows; EXPLAIN
 * hands out the rows of pv_explain.
 */
#include <stddef.h>
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

/* A result column's span arrays (pv_column_span) when the span is not
 * handed out of a batch as it is: rows gathered out of a batch, or
 * copied from projected rows. Allocated on first use. */
typedef struct span_buf {
    void *vals;        /* PV_SPAN_MAX slots of the column's type: an array of
                          int64_t, double or pv_str (room for pv_str) */
    uint8_t *nulls;    /* PV_SPAN_MAX bytes, 1 = NULL */
    uint64_t id;       /* the claim (sp_id) they hold; 0: none */
    int type;          /* PV_NULL while only NULLs were seen */
    int any_null;
} span_buf;

/* What the next pv_step does after a span copied from projected rows
 * ran the statement on (pv_step_span): the state of the last row it
 * read is kept in pv_stmt.res meanwhile. */
enum { RES_NONE, RES_NEXT, RES_THIS, RES_DONE };

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
    int run_active;        /* counted by pv_db_count_run: the run started
                              and is not done, reset or finalized */
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
    /* spans (pv_step_span, pv_column_span) */
    uint64_t sp_gen;       /* rowgen when the span was claimed */
    int sp_valid;          /* a span was claimed (current if sp_gen == rowgen) */
    int sp_copied;         /* its values are in sb[] (projected rows) */
    int sp_contig;         /* in place: its rows are consecutive in the batch */
    uint32_t sp_n;         /* rows in the span */
    uint32_t sp_first;     /* in place: its first row (= r) */
    const uint32_t *sp_more; /* in place: its other sp_n - 1 rows */
    uint64_t sp_id;        /* claims made so far (span_buf.id) */
    span_buf *sb;          /* per result column, or NULL */
    pv_value *fvals;       /* copied span: its first row's values ... */
    pv_row frow;           /* ... as the current row */
    pv_arena sarena;       /* copied span: its text and blob bytes */
    int resume;            /* RES_*: pending after a copied span */
    struct {
        const pv_row *row;
        uint32_t nplace, r;
        const uint32_t *more, *more_end;
    } res;                 /* the statement at the last row a copied span read */
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

/* The run is active from its start (the first pv_step) until it is done,
 * reset or finalized: while it is, the workspace keeps the tables it may
 * read (pv_ws_runs). An idle prepared statement holds none. */
static void set_run_active(pv_stmt *st, int on)
{
    if (st->run_active == on) return;
    st->run_active = on;
    pv_db_count_run(st->db, on ? 1 : -1);
}

static void stmt_free(pv_stmt *st)
{
    uint32_t i;
    set_run_active(st, 0);
    pv_run_close(st->run);
    pv_change_free(st->change);
    pv_arena_free(&st->xarena);
    for (i = 0; st->pbytes && i < st->nparams; i++) free(st->pbytes[i]);
    for (i = 0; st->text && i < st->ncols; i++) pv_buf_free(&st->text[i]);
    for (i = 0; st->sb && i < st->ncols; i++) {
        free(st->sb[i].vals);
        free(st->sb[i].nulls);
    }
    free(st->sb);
    free(st->fvals);
    pv_arena_free(&st->sarena);
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
    set_run_active(st, 0);
    st->rerun = st->run != NULL;
    st->row = NULL;
    st->nplace = 0;
    st->more = st->more_end = NULL;
    st->resume = RES_NONE;
    st->sp_valid = 0;
    st->state = ST_READY;
    st->xrows = NULL;
    st->nxrows = st->xpos = 0;
    if (st->xarena.head) pv_arena_free(&st->xarena);
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
    if (st->pbytes[idx - 1]) { /* (a text or blob bound before) */
        free(st->pbytes[idx - 1]);
        st->pbytes[idx - 1] = NULL;
    }
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
    st->more_end = row->more ? row->more + row->nmore : NULL; /* (NULL + 0 is undefined) */
}

static int step_select(pv_stmt *st)
{
    int rc;
    st->rowgen++; /* every text[] made before is stale */
    if (st->ast->explain) return step_explain(st);
    /* a prepared point lookup by key, run again: its key straight to the
     * lookup (nothing else in the run to start again) */
    if (st->rerun && (rc = pv_run_point(st->run, &st->row)) != PV_RUN_GENERAL) {
        st->rerun = 0;
        if (rc != 1) return rc; /* (no row, or failed: the lookup holds nothing) */
        set_run_active(st, 1);
        take_place(st, st->row);
        return PV_ROW;
    }
    /* (before the run starts: a failed start may hold what it found) */
    if (!st->run || st->rerun) set_run_active(st, 1);
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
    if (rc == 0) {
        pv_run_finish(st->run); /* release the scan as soon as it is done */
        set_run_active(st, 0);
    }
    return rc;
}

/* pv_step after a copied span (pv_step_span): back to the last row the
 * span read, then on from there; RESUME_GO: go on as pv_step does. */
#define RESUME_GO 2
static int step_resume(pv_stmt *st)
{
    int kind = st->resume;
    st->resume = RES_NONE;
    st->row = st->res.row;
    st->nplace = st->res.nplace;
    st->r = st->res.r;
    st->more = st->res.more;
    st->more_end = st->res.more_end;
    if (kind == RES_DONE) {
        st->state = ST_DONE;
        return PV_DONE;
    }
    if (kind == RES_THIS) { /* the row the span stopped before */
        st->rowgen++;
        return PV_ROW;
    }
    if (st->more != st->more_end) {
        st->r = *st->more++;
        st->rowgen++;
        return PV_ROW;
    }
    return RESUME_GO;
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
    if (st->resume && (rc = step_resume(st)) != RESUME_GO) return rc;
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
        /* an error's offset counts from the start of the whole text */
        if (rc) return pv_err_rebase(rc, (size_t)(p - sql));
        if (st) {
            while ((rc = pv_step(st)) == PV_ROW) {}
            pv_finalize(st);
            if (rc < 0) return pv_err_rebase(rc, (size_t)(p - sql));
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

/* ---- spans ------------------------------------------------------------------------------- */

/* pv_bytes is pv_str, so that a batch's TEXT/BLOB vector is a span as it is. */
_Static_assert(sizeof(pv_bytes) == sizeof(pv_str) && offsetof(pv_bytes, p) == offsetof(pv_str, p) &&
                   offsetof(pv_bytes, n) == offsetof(pv_str, n),
               "pv_bytes and pv_str differ");
_Static_assert(sizeof(int64_t) <= sizeof(pv_str) && sizeof(double) <= sizeof(pv_str),
               "span slots are too small");

static int span_nomem(void) { return pv_err(PV_ENOMEM, "out of memory reading a span"); }

/* Is the claimed span the current one (claimed since the last pv_step)? */
static inline int span_current(const pv_stmt *st) { return st->sp_valid && st->sp_gen == st->rowgen; }

/* Column col's span arrays, allocated on first use. */
static span_buf *span_buf_get(pv_stmt *st, uint32_t col)
{
    span_buf *b;
    if (!st->sb && !(st->sb = calloc(st->ncols, sizeof *st->sb))) return NULL;
    b = &st->sb[col];
    if (!b->vals) b->vals = malloc(PV_SPAN_MAX * sizeof(pv_str));
    if (!b->nulls) b->nulls = malloc(PV_SPAN_MAX);
    return b->vals && b->nulls ? b : NULL;
}

/* Can the current row join the copied span: is each of its
 * non-NULL values of its column's type so far? */
static int span_fits(const pv_stmt *st)
{
    uint32_t c;
    for (c = 0; c < st->ncols; c++) {
        pv_value v;
        cell(st, c, &v);
        if (v.type != PV_NULL && st->sb[c].type != PV_NULL && st->sb[c].type != v.type) return 0;
    }
    return 1;
}

/* Copy the current row into slot k of the span arrays (bytes into
 * sarena: the run's own may move at its next row); slot 0 also into
 * fvals, the span's first row. */
static int span_append(pv_stmt *st, uint32_t k)
{
    uint32_t c;
    for (c = 0; c < st->ncols; c++) {
        span_buf *b = &st->sb[c];
        pv_value v;
        cell(st, c, &v);
        b->nulls[k] = v.type == PV_NULL;
        if (v.type == PV_NULL) { /* (its slot is left as it is: unspecified) */
            b->any_null = 1;
        } else {
            if (b->type == PV_NULL) b->type = v.type;
            switch (v.type) {
            case PV_REAL: ((double *)b->vals)[k] = v.u.f; break;
            case PV_TEXT:
            case PV_BLOB:
                if (v.u.s.n && !(v.u.s.p = pv_arena_dup(&st->sarena, v.u.s.p, v.u.s.n))) return span_nomem();
                if (!v.u.s.n) v.u.s.p = "";
                ((pv_str *)b->vals)[k] = v.u.s;
                break;
            default: ((int64_t *)b->vals)[k] = v.u.i; break;
            }
        }
        if (k == 0) st->fvals[c] = v;
    }
    return 0;
}

/* The next row of the run, as pv_step (without its state changes). */
static int span_advance(pv_stmt *st)
{
    int rc;
    if (st->more != st->more_end) {
        st->r = *st->more++;
        return PV_ROW;
    }
    st->nplace = 0;
    if ((rc = step_select(st)) != PV_ROW) st->row = NULL;
    return rc;
}

/* Claim a span of projected rows (st->row has values): the current row
 * and up to max - 1 more run to here, all copied. The statement is left
 * at the last row read (kept in res for the next pv_step) and its current
 * row is the copy of the first one. */
static int claim_copied(pv_stmt *st, uint32_t max)
{
    uint64_t gen = st->rowgen;
    uint32_t c, k = 1;
    int rc, kind = RES_NEXT;
    int can_run = st->ast->kind == PV_SQL_SELECT || st->ast->explain;
    if (!st->fvals && !(st->fvals = calloc(st->ncols, sizeof *st->fvals))) return span_nomem();
    for (c = 0; c < st->ncols; c++) {
        if (!span_buf_get(st, c)) return span_nomem();
        st->sb[c].type = PV_NULL;
        st->sb[c].any_null = 0;
        st->sb[c].id = st->sp_id;
    }
    pv_arena_reset(&st->sarena);
    if ((rc = span_append(st, 0))) return rc;
    st->sp_n = 1;
    if (!can_run || max == 1) return 0; /* the current row alone: nothing moves */
    while (k < max) {
        rc = span_advance(st);
        if (rc == 0) {
            kind = RES_DONE;
            break;
        }
        if (rc == PV_ROW && !span_fits(st)) { /* the next pv_step returns it */
            kind = RES_THIS;
            break;
        }
        if (rc < 0 || (rc = span_append(st, k)) < 0) {
            /* rows were taken out of the run: the statement cannot go on */
            st->state = ST_FAILED;
            st->row = NULL;
            st->nplace = 0;
            st->more = st->more_end = NULL;
            return rc;
        }
        k++;
    }
    st->sp_n = k;
    st->resume = kind;
    st->res.row = st->row;
    st->res.nplace = st->nplace;
    st->res.r = st->r;
    st->res.more = st->more;
    st->res.more_end = st->more_end;
    st->more = st->more_end = NULL;
    st->nplace = 0;
    st->frow.vals = st->fvals;
    st->row = &st->frow;
    st->rowgen = gen; /* pv_column_* still read the first row, and its text[] */
    return 0;
}

/* Claim a span of at most max rows from the current row. */
static int span_claim(pv_stmt *st, uint32_t max)
{
    int rc;
    st->sp_valid = 0;
    st->sp_id++;
    if (st->row->vals) {
        st->sp_copied = 1;
        if ((rc = claim_copied(st, max))) return rc;
    } else { /* in place: the rest of the batch is in more[] */
        uint32_t k = (uint32_t)(st->more_end - st->more);
        if (k > max - 1) k = max - 1;
        st->sp_copied = 0;
        st->sp_first = st->r;
        st->sp_more = st->more;
        st->sp_n = k + 1;
        st->sp_contig = k == 0 || st->more[k - 1] - st->r == k; /* (rows ascend) */
        st->more += k;
    }
    st->sp_gen = st->rowgen;
    st->sp_valid = 1;
    return 0;
}

PV_API int pv_step_span(pv_stmt *st, int max_rows, int *n)
{
    int rc;
    if (n) *n = 0;
    if (!st || !n) return pv_err(PV_EMISUSE, "pv_step_span: statement and n must not be NULL");
    if (!st->row)
        return pv_err(PV_EMISUSE, "pv_step_span: no current row (call it after pv_step returned PV_ROW)");
    if (max_rows < 1) return pv_err(PV_ERANGE, "pv_step_span: max_rows %d is less than 1", max_rows);
    if (!span_current(st) &&
        (rc = span_claim(st, max_rows > PV_SPAN_MAX ? PV_SPAN_MAX : (uint32_t)max_rows)))
        return rc;
    *n = (int)st->sp_n;
    return PV_OK;
}

/* The rows of an in-place span with gaps, gathered from vector v into
 * column col's span arrays (once per claim). */
static const span_buf *span_gather(pv_stmt *st, uint32_t col, const pv_vec *v)
{
    span_buf *b = span_buf_get(st, col);
    uint32_t k, n = st->sp_n;
    if (!b || b->id == st->sp_id) return b;
    b->any_null = v->nulls != NULL;
    for (k = 0; k < n; k++) {
        uint32_t r = k ? st->sp_more[k - 1] : st->sp_first;
        if (v->nulls) b->nulls[k] = v->nulls[r];
        switch (v->type) {
        case PV_REAL: ((double *)b->vals)[k] = v->u.f[r]; break;
        case PV_TEXT:
        case PV_BLOB: ((pv_str *)b->vals)[k] = v->u.s[r]; break;
        default: ((int64_t *)b->vals)[k] = v->u.i[r]; break;
        }
    }
    b->type = v->type;
    b->id = st->sp_id;
    return b;
}

PV_API int pv_column_span(pv_stmt *st, int col, pv_span *out)
{
    const span_buf *b;
    const pv_vec *v;
    uint32_t first;
    int rc;
    if (out) memset(out, 0, sizeof *out);
    if (!st || !out) return pv_err(PV_EMISUSE, "pv_column_span: statement and out must not be NULL");
    if (!st->row)
        return pv_err(PV_EMISUSE, "pv_column_span: no current row (call it after pv_step returned PV_ROW)");
    if (col < 0 || (uint32_t)col >= st->ncols)
        return pv_err(PV_ERANGE, "pv_column_span: column %d out of range (statement has %u)", col, st->ncols);
    if (!span_current(st) && (rc = span_claim(st, 1))) return rc;
    out->n = st->sp_n;
    if (st->sp_copied) {
        b = &st->sb[col];
        out->type = b->type;
        out->nulls = b->any_null ? b->nulls : NULL;
        out->u.s = b->vals;
        return PV_OK;
    }
    v = st->row->cols[col];
    out->type = v->type;
    if (!st->sp_contig) {
        if (!(b = span_gather(st, (uint32_t)col, v))) return span_nomem();
        out->nulls = b->any_null ? b->nulls : NULL;
        out->u.s = b->vals;
        return PV_OK;
    }
    first = st->sp_first; /* consecutive rows: the batch's vectors as they are */
    out->nulls = v->nulls ? v->nulls + first : NULL;
    switch (v->type) {
    case PV_REAL: out->u.f = v->u.f + first; break;
    case PV_TEXT:
    case PV_BLOB: out->u.s = (const pv_bytes *)(const void *)(v->u.s + first); break;
    default: out->u.i = v->u.i + first; break;
    }
    return PV_OK;
}
