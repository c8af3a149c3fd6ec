/*
 * exec_explain.c: EXPLAIN: the plan as rows (id, op, detail), one per
 * operator in the order data flows through them (docs/SQL.md, "EXPLAIN").
 */
#include <string.h>

#include "exec.h"
#include "sql_lex.h"

typedef struct out {
    pv_arena *arena;
    pv_value *rows;
    uint32_t n, cap;
    pv_buf b;
    int rc;
} out;

static void emit(out *o, const char *op)
{
    pv_value *row;
    char *d;
    if (o->rc) return;
    if (o->n == o->cap) {
        uint32_t nc = o->cap ? o->cap * 2 : 16;
        pv_value *nr = pv_arena_alloc(o->arena, (size_t)nc * PV_EXPLAIN_COLS * sizeof *nr);
        if (!nr) {
            o->rc = pv_err(PV_ENOMEM, "out of memory in EXPLAIN");
            return;
        }
        if (o->n) memcpy(nr, o->rows, (size_t)o->n * PV_EXPLAIN_COLS * sizeof *nr);
        o->rows = nr;
        o->cap = nc;
    }
    if (!(d = pv_arena_dup(o->arena, o->b.len ? o->b.p : "", o->b.len))) {
        o->rc = pv_err(PV_ENOMEM, "out of memory in EXPLAIN");
        return;
    }
    row = &o->rows[(size_t)o->n * PV_EXPLAIN_COLS];
    row[0] = pv_v_int(o->n + 1);
    row[1] = pv_v_text(op, strlen(op));
    row[2] = pv_v_text(d, o->b.len);
    o->n++;
    o->b.len = 0;
}

static void put(out *o, const char *s)
{
    if (!o->rc) o->rc = pv_buf_append(&o->b, s, strlen(s));
}

static void put_expr(out *o, const pv_expr *e)
{
    if (!o->rc) o->rc = pv_sql_print_expr(&o->b, e);
}

static void put_list(out *o, pv_expr *const *e, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        if (i) put(o, ", ");
        put_expr(o, e[i]);
    }
}

static const char *kind_name(int kind)
{
    return kind == PV_DB_WORKSPACE ? "workspace" : kind == PV_DB_PVDB ? "pvdb" : "?";
}

static void put_columns(out *o, const pv_plan *p)
{
    uint32_t i;
    put(o, "; columns ");
    if (!p->nslots) put(o, "(none: rows counted)");
    for (i = 0; i < p->nslots; i++) {
        if (i) put(o, ", ");
        put(o, p->slot_name[i]);
    }
}

/* LOOKUP through a secondary index: the index, then the conjuncts pushed
 * into it (pinned columns, then the bounds of the next one). */
static void explain_sec(out *o, const pv_plan *p)
{
    uint32_t i;
    if (!o->rc) o->rc = pv_buf_printf(&o->b, " by index %s:", p->sec_name);
    for (i = 0; i < p->nsec; i++) {
        uint32_t s;
        put(o, i ? " AND " : " ");
        /* the column's name: the WHERE refers to it, so it has a slot */
        for (s = 0; s < p->nslots && p->slot_col[s] != p->sec_col[i]; s++) {}
        put(o, s < p->nslots ? p->slot_name[s] : "?");
        if (p->nsvals[i] == 1) {
            put(o, " = ");
            put_expr(o, p->svals[i][0]);
        } else {
            put(o, " IN (");
            put_list(o, p->svals[i], p->nsvals[i]);
            put(o, ")");
        }
    }
    if (p->sec_lower) {
        put(o, p->nsec ? " AND " : " ");
        put_expr(o, p->sec_lower);
    }
    if (p->sec_upper) {
        put(o, p->nsec || p->sec_lower ? " AND " : " ");
        put_expr(o, p->sec_upper);
    }
    put(o, "; rows in key order");
    /* a baked index: the count that chose it, or the choice left to the run */
    if (p->db_kind == PV_DB_PVDB && p->sec_est >= 0 && !o->rc)
        o->rc = pv_buf_printf(&o->b, "; the index lists %lld of %llu rows (a full scan above 1/%u)",
                              (long long)p->sec_est, (unsigned long long)p->est_rows, pv_sec_row_cost);
    else if (p->db_kind == PV_DB_PVDB && !o->rc)
        o->rc = pv_buf_printf(&o->b, "; each run reads the table instead when the index lists over 1/%u of its rows",
                              pv_sec_row_cost);
    put_columns(o, p);
    emit(o, "INDEX SEARCH");
}

static void explain_access(out *o, const pv_plan *p)
{
    uint32_t i;
    if (!p->has_from) {
        put(o, "one row, no table");
        emit(o, "ROW");
        return;
    }
    if (!o->rc) o->rc = pv_buf_printf(&o->b, "table %s (%s, %llu rows at prepare)", p->table,
                                      kind_name(p->db_kind), (unsigned long long)p->est_rows);
    if (p->access == PV_ACCESS_LOOKUP && p->has_sec) {
        explain_sec(o, p);
        return;
    }
    if (p->access == PV_ACCESS_LOOKUP || (p->has_index && p->index == PV_INDEX_KEYS)) {
        put(o, p->access == PV_ACCESS_LOOKUP ? " by primary key with pv_db_lookup:"
                                             : " by its key index, each key's rows:");
        for (i = 0; i < p->npk; i++) {
            uint32_t s;
            put(o, i ? " AND " : " ");
            /* the key column's name: the WHERE refers to it, so it has a slot */
            for (s = 0; s < p->nslots && p->slot_col[s] != p->pk_col[i]; s++) {}
            put(o, s < p->nslots ? p->slot_name[s] : "?");
            if (p->nkvals[i] == 1) {
                put(o, " = ");
                put_expr(o, p->kvals[i][0]);
            } else {
                put(o, " IN (");
                put_list(o, p->kvals[i], p->nkvals[i]);
                put(o, ")");
            }
        }
        put_columns(o, p);
        emit(o, p->access == PV_ACCESS_LOOKUP ? "LOOKUP" : "INDEX LOOKUP");
        return;
    }
    if (p->has_index && p->index == PV_INDEX_RANGE) {
        put(o, " by its key index, the rows of ");
        if (p->lower) put_expr(o, p->lower);
        if (p->lower && p->upper) put(o, " AND ");
        if (p->upper) put_expr(o, p->upper);
        put_columns(o, p);
        emit(o, "INDEX RANGE");
        return;
    }
    put(o, " in key order");
    if (p->sec_skipped && !o->rc)
        o->rc = pv_buf_printf(&o->b, "; not index %s: it lists %llu of the rows, over 1/%u", p->sec_skipped,
                              (unsigned long long)p->sec_skipped_rows, pv_sec_row_cost);
    if (p->upper) {
        put(o, "; stops at the first row past ");
        put_expr(o, p->upper);
    }
    if (p->lower) {
        put(o, "; skips batches below ");
        put_expr(o, p->lower);
    }
    put_columns(o, p);
    emit(o, "SCAN");
}

static void explain_filter(out *o, const pv_expr *e, int *first)
{
    if (e->kind == PV_X_BINARY && e->op == KW_AND) {
        explain_filter(o, e->args[0], first);
        explain_filter(o, e->args[1], first);
        return;
    }
    if (!*first) put(o, "; ");
    *first = 0;
    put_expr(o, e);
    put(o, pv_filter_is_typed(e) ? " [typed loop]" : " [per row]");
}

static void explain_aggregate(out *o, const pv_plan *p)
{
    uint32_t i;
    if (p->ngroup) {
        put(o, "hash groups by ");
        put_list(o, p->group, p->ngroup);
        put(o, ", output in key order");
    } else {
        put(o, "one group");
    }
    for (i = 0; i < p->nagg; i++) {
        put(o, i ? ", " : ": ");
        put_expr(o, p->aggs[i].call);
    }
    emit(o, "AGGREGATE");
    if (p->having) {
        put_expr(o, p->having);
        emit(o, "HAVING");
    }
}

static void explain_sort(out *o, const pv_plan *p)
{
    uint32_t i;
    put(o, "stable merge sort by ");
    for (i = 0; i < p->nkeys; i++) {
        int c = p->keys[i].col;
        if (i) put(o, ", ");
        if ((uint32_t)c < p->nout) {
            if (!o->rc) o->rc = pv_buf_printf(&o->b, "output %d (%s)", c + 1, p->names[c]);
        } else {
            put_expr(o, p->extra[(uint32_t)c - p->nout]);
        }
        if (p->keys[i].desc) put(o, " DESC");
    }
    emit(o, "SORT");
}

int pv_explain(const pv_plan *p, const char *verb, pv_arena *arena, pv_value **rows,
               uint32_t *nrows)
{
    out o;
    uint32_t i;
    int first = 1;
    memset(&o, 0, sizeof o);
    o.arena = arena;
    explain_access(&o, p);
    if (p->where) {
        explain_filter(&o, p->where, &first);
        emit(&o, "FILTER");
    }
    if (p->aggregate) explain_aggregate(&o, p);
    if (!verb) {
        for (i = 0; i < p->nout; i++) {
            if (i) put(&o, ", ");
            put(&o, p->names[i]);
        }
        emit(&o, "PROJECT");
    }
    if (p->distinct) emit(&o, "DISTINCT");
    if (p->nkeys) explain_sort(&o, p);
    else if (!p->aggregate && !verb) {
        put(&o, "rows stream batch by batch");
        if (p->limit) put(&o, "; the scan stops at LIMIT");
        emit(&o, "STREAM");
    }
    if (p->limit || p->offset) {
        if (p->limit) {
            put(&o, "LIMIT ");
            put_expr(&o, p->limit);
        }
        if (p->offset) {
            put(&o, p->limit ? " OFFSET " : "OFFSET ");
            put_expr(&o, p->offset);
        }
        emit(&o, "LIMIT");
    }
    if (verb) {
        put(&o, strcmp(verb, "DELETE") == 0
                    ? "collect the keys, then one pv_db_delete"
                    : "collect the rows, then pv_db_write REPLACE (delete + insert when a key changes)");
        emit(&o, verb);
    }
    pv_buf_free(&o.b);
    if (o.rc) return o.rc;
    *rows = o.rows;
    *nrows = o.n;
    return 0;
}
