/*
 * exec_ddl.c: CREATE TABLE, CREATE INDEX, DROP, ALTER TABLE and the
 * transaction statements (docs/SQL.md, "Schema changes"), plus the
 * pv_change entry points shared with exec_dml.c.
 */
#include <stdlib.h>
#include <string.h>

#include "exec_change.h"

static int nomem(void) { return pv_err(PV_ENOMEM, "out of memory preparing a statement"); }

/* ---- column definitions -------------------------------------------------------- */

/* A DEFAULT must be a constant; DEFAULT NULL is no default. Its value,
 * converted to the column's type, goes into the schema (which also gives
 * it to rows in chunks written before the column existed). */
static int column_default(const char *sql, pv_schema *s, uint32_t i, pv_expr *e)
{
    pv_arena a = PV_ARENA_INIT;
    pv_eval cx;
    pv_value v;
    int rc;
    if (!e || (e->kind == PV_X_LIT && e->lit.type == PV_NULL)) return 0;
    if (!pv_expr_is_const(e))
        return pv_err(PV_ESQL, "default value of column [%s] is not constant", s->cols[i].name);
    if ((rc = pv_bind_const(sql, e))) return rc;
    memset(&cx, 0, sizeof cx);
    cx.arena = &a;
    rc = pv_eval_expr(&cx, e, &v);
    if (!rc) rc = pv_schema_set_default(s, i, &v);
    pv_arena_free(&a);
    return rc;
}

static int add_coldef(const char *sql, pv_schema *s, const pv_coldef *d)
{
    int type = pv_type_parse(d->type.p, d->type.n), rc;
    if (type < 0)
        return pv_err(PV_ESQL, "unknown type \"%.*s\" for column %.*s at offset %u", (int)d->type.n,
                      d->type.p, (int)d->name.n, d->name.p, d->type_off);
    if ((rc = pv_schema_add_column(s, d->name.p, d->name.n, type, d->not_null))) return rc;
    return column_default(sql, s, s->ncols - 1, d->dflt);
}

/* ---- CREATE TABLE ------------------------------------------------------------------ */

static int set_primary_key(const pv_create *c, pv_schema *s, uint32_t *pk, uint32_t npk)
{
    uint32_t i;
    if (npk > 1 || (npk && c->npk))
        return pv_err(PV_ESQL, "table %.*s has more than one primary key", (int)c->table.n, c->table.p);
    for (i = 0; i < c->npk; i++) {
        int k = pv_schema_find(s, c->pk[i].p, c->pk[i].n);
        if (k < 0)
            return pv_err(PV_ENOTFOUND, "no such column: %.*s at offset %u", (int)c->pk[i].n,
                          c->pk[i].p, c->pk_off[i]);
        pk[npk++] = (uint32_t)k;
    }
    return npk ? pv_schema_set_pk(s, pk, npk) : 0;
}

/* UNIQUE is accepted where it restates the primary key; anything else needs
 * unique constraints in the schema, which it does not have yet. */
static int check_uniques(const pv_create *c, const pv_schema *s)
{
    uint32_t i, j;
    for (i = 0; i < c->ncols; i++) {
        int k = pv_schema_find(s, c->cols[i].name.p, c->cols[i].name.n);
        if (c->cols[i].unique && !(s->npk == 1 && s->cols[k].pk_pos == 0))
            return pv_err(PV_ESQL, "UNIQUE constraints are not supported yet (column %s of table %s): "
                          "only the primary key is unique", s->cols[k].name, s->name);
    }
    for (i = 0; i < c->nuniques; i++) {
        const pv_namelist *u = &c->uniques[i];
        int same = u->n == s->npk;
        for (j = 0; j < u->n; j++) {
            int k = pv_schema_find(s, u->names[j].p, u->names[j].n);
            if (k < 0)
                return pv_err(PV_ENOTFOUND, "no such column: %.*s at offset %u", (int)u->names[j].n,
                              u->names[j].p, u->offs[j]);
            if (s->cols[k].pk_pos < 0) same = 0;
        }
        if (!same)
            return pv_err(PV_ESQL, "UNIQUE constraints are not supported yet (table %s): only the "
                          "primary key is unique", s->name);
    }
    return 0;
}

static int prepare_create(pv_change *ch)
{
    const pv_create *c = &ch->st->u.create;
    uint32_t *pk = NULL, npk = 0, i;
    pv_schema *s;
    int rc = 0;
    if (!(s = pv_schema_new(c->table.p, c->table.n))) return nomem();
    if (!(pk = malloc((c->ncols + c->npk + 1) * sizeof *pk))) {
        rc = nomem();
        goto done;
    }
    for (i = 0; i < c->ncols && !rc; i++) {
        rc = add_coldef(ch->st->sql, s, &c->cols[i]);
        if (!rc && c->cols[i].pk) pk[npk++] = i;
    }
    if (rc || (rc = set_primary_key(c, s, pk, npk)) || (rc = check_uniques(c, s)) ||
        (rc = pv_schema_finish(s)))
        goto done;
    ch->schema = s;
    s = NULL;
done:
    free(pk);
    pv_schema_free(s);
    return rc;
}

static int run_create(pv_change *c)
{
    pv_schema *s = pv_schema_clone(c->schema);
    if (!s) return pv_err(PV_ENOMEM, "out of memory creating table %s", c->schema->name);
    return pv_db_create_table(c->db, s, c->st->u.create.if_not_exists);
}

/* ---- CREATE INDEX, DROP ------------------------------------------------------------ */

static int prepare_create_index(pv_change *c)
{
    const pv_create_index *x = &c->st->u.index;
    const pv_schema *s;
    pv_source src;
    uint32_t i;
    int rc;
    if ((rc = pv_db_find_table(c->db, x->table.p, x->table.n, &src))) return rc;
    s = src.schema;
    for (i = 0; i < x->cols.n; i++)
        if (pv_schema_find(s, x->cols.names[i].p, x->cols.names[i].n) < 0)
            return pv_err(PV_ENOTFOUND, "no such column: %.*s at offset %u", (int)x->cols.names[i].n,
                          x->cols.names[i].p, x->cols.offs[i]);
    return pv_err(PV_ESQL, "CREATE INDEX is not supported yet: the schema has no index definitions "
                  "(index %.*s on %s)", (int)x->name.n, x->name.p, s->name);
}

static int prepare_drop(pv_change *c)
{
    const pv_drop *d = &c->st->u.drop;
    pv_source src;
    int rc;
    if (d->index) {
        /* no index can exist yet: only IF EXISTS succeeds */
        if (d->if_exists) return 0;
        return pv_err(PV_ENOTFOUND, "no such index: %.*s", (int)d->name.n, d->name.p);
    }
    rc = pv_db_find_table(c->db, d->name.p, d->name.n, &src);
    if (rc == PV_ENOTFOUND && d->if_exists) rc = 0;
    else if (!rc && !(c->table = pv_arena_dup(c->arena, src.schema->name, strlen(src.schema->name))))
        rc = nomem();
    if (rc) return rc;
    if (!c->table && !(c->table = pv_arena_dup(c->arena, d->name.p, d->name.n))) return nomem();
    return 0;
}

static int run_drop(pv_change *c)
{
    const pv_drop *d = &c->st->u.drop;
    if (d->index) return 0;
    return pv_db_drop_table(c->db, c->table, d->if_exists);
}

/* ---- ALTER TABLE ------------------------------------------------------------------- */

static int find_visible(const pv_schema *s, pv_str name, uint32_t off)
{
    int k = pv_schema_find(s, name.p, name.n);
    if (k < 0 || s->cols[k].hidden) {
        pv_err(PV_ENOTFOUND, "no such column: \"%.*s\" at offset %u", (int)name.n, name.p, off);
        return -1;
    }
    return k;
}

/* Checks SQLite makes before touching anything. */
static int check_alter(const pv_alter *a, const pv_schema *s)
{
    uint32_t i, visible = 0;
    int k;
    for (i = 0; i < s->ncols; i++) visible += !s->cols[i].hidden;
    switch (a->action) {
    case PV_ALTER_ADD:
        if (pv_schema_find(s, a->col.name.p, a->col.name.n) >= 0)
            return pv_err(PV_EEXISTS, "duplicate column name: %.*s", (int)a->col.name.n, a->col.name.p);
        if (a->col.pk) return pv_err(PV_ESQL, "Cannot add a PRIMARY KEY column");
        if (a->col.unique) return pv_err(PV_ESQL, "Cannot add a UNIQUE column");
        if (a->col.not_null &&
            (!a->col.dflt || (a->col.dflt->kind == PV_X_LIT && a->col.dflt->lit.type == PV_NULL)))
            return pv_err(PV_ECONSTRAINT, "Cannot add a NOT NULL column with default value NULL");
        return 0;
    case PV_ALTER_RENAME:
        if (find_visible(s, a->from, a->from_off) < 0) return PV_ENOTFOUND;
        k = pv_schema_find(s, a->to.p, a->to.n);
        if (k >= 0 && !pv_ident_eq(a->from.p, a->from.n, a->to.p, a->to.n))
            return pv_err(PV_EEXISTS, "duplicate column name: %.*s", (int)a->to.n, a->to.p);
        return 0;
    default:
        if ((k = find_visible(s, a->from, a->from_off)) < 0) return PV_ENOTFOUND;
        if (s->cols[k].pk_pos >= 0)
            return pv_err(PV_ESQL, "cannot drop PRIMARY KEY column: \"%s\"", s->cols[k].name);
        if (visible == 1)
            return pv_err(PV_ESQL, "cannot drop column \"%s\": no other columns exist", s->cols[k].name);
        return 0;
    }
}

static int prepare_alter(pv_change *c)
{
    const pv_alter *a = &c->st->u.alter;
    pv_source src;
    int rc;
    if ((rc = pv_db_find_table(c->db, a->table.p, a->table.n, &src)) ||
        (rc = check_alter(a, src.schema)))
        return rc;
    if (a->action == PV_ALTER_ADD) {
        /* the new column's definition is checked as CREATE TABLE would */
        pv_schema *t = pv_schema_new("t", 1);
        if (!t) return nomem();
        rc = add_coldef(c->st->sql, t, &a->col);
        pv_schema_free(t);
        if (rc) return rc;
    }
    if (!(c->table = pv_arena_dup(c->arena, src.schema->name, strlen(src.schema->name))))
        return nomem();
    return 0;
}

/* The altered schema and where each of its columns comes from. */
/* The new schema: a copy of the old one changed in place, so that it keeps
 * its column history (earlier and dropped names) and old chunks still read.
 * from[i] is the old column of new column i, -1 for an added column. */
static int altered_schema(const pv_change *c, const pv_schema *old, pv_schema **out, int *from)
{
    const pv_alter *a = &c->st->u.alter;
    pv_schema *s = pv_schema_clone(old);
    uint32_t i, n = old->ncols;
    int col, rc = 0;
    *out = NULL;
    if (!s) return nomem();
    for (i = 0; i < n; i++) from[i] = (int)i;
    switch (a->action) {
    case PV_ALTER_DROP:
        col = pv_schema_find(s, a->from.p, a->from.n);
        if (!(rc = pv_schema_drop_column(s, (uint32_t)col))) {
            memmove(&from[col], &from[col + 1], (n - (uint32_t)col - 1) * sizeof *from);
            n--;
        }
        break;
    case PV_ALTER_RENAME:
        col = pv_schema_find(s, a->from.p, a->from.n);
        rc = pv_schema_rename_column(s, (uint32_t)col, a->to.p, a->to.n);
        break;
    case PV_ALTER_ADD:
        if (!(rc = add_coldef(c->st->sql, s, &a->col))) from[n++] = -1;
        break;
    }
    if (rc) {
        pv_schema_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int run_alter(pv_change *c)
{
    const pv_alter *a = &c->st->u.alter;
    pv_schema *s = NULL;
    pv_source src;
    int *from = NULL, rc;
    if ((rc = pv_db_find_table(c->db, c->table, strlen(c->table), &src)) ||
        (rc = check_alter(a, src.schema)))
        return rc;
    if (!(from = malloc((src.schema->ncols + 2) * sizeof *from))) return nomem();
    if (!(rc = altered_schema(c, src.schema, &s, from))) rc = pv_db_alter_table(c->db, c->table, s, from);
    free(from);
    return rc;
}

/* ---- pv_change ---------------------------------------------------------------------- */

int pv_ddl_prepare(pv_change *c)
{
    switch (c->st->kind) {
    case PV_SQL_CREATE: return prepare_create(c);
    case PV_SQL_CREATE_INDEX: return prepare_create_index(c);
    case PV_SQL_DROP: return prepare_drop(c);
    case PV_SQL_ALTER: return prepare_alter(c);
    default: return 0; /* BEGIN, COMMIT, ROLLBACK */
    }
}

int pv_ddl_run(pv_change *c)
{
    switch (c->st->kind) {
    case PV_SQL_CREATE: return run_create(c);
    case PV_SQL_DROP: return run_drop(c);
    case PV_SQL_ALTER: return run_alter(c);
    case PV_SQL_BEGIN: return pv_db_begin(c->db);
    case PV_SQL_COMMIT: return pv_db_commit(c->db);
    case PV_SQL_ROLLBACK: return pv_db_rollback(c->db);
    default: return pv_err(PV_ERROR, "statement kind %d cannot run", c->st->kind);
    }
}

int pv_change_prepare(pv_db *db, pv_arena *arena, pv_sql_stmt *st, pv_change **out)
{
    pv_change *c = calloc(1, sizeof *c);
    int rc;
    *out = NULL;
    if (!c) return nomem();
    c->db = db;
    c->arena = arena;
    c->st = st;
    switch (st->kind) {
    case PV_SQL_INSERT:
    case PV_SQL_UPDATE:
    case PV_SQL_DELETE: rc = pv_dml_prepare(c); break;
    default: rc = pv_ddl_prepare(c); break;
    }
    if (rc) {
        pv_change_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int pv_change_run(pv_change *c, const pv_value *params)
{
    switch (c->st->kind) {
    case PV_SQL_INSERT:
    case PV_SQL_UPDATE:
    case PV_SQL_DELETE: return pv_dml_run(c, params);
    default: return pv_ddl_run(c);
    }
}

const pv_plan *pv_change_plan(const pv_change *c) { return c ? c->plan : NULL; }

void pv_change_free(pv_change *c)
{
    if (!c) return;
    pv_schema_free(c->schema);
    free(c);
}
