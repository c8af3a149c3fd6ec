/*
 * exec_ddl.c: CREATE TABLE, CREATE INDEX, DROP, ALTER TABLE and the
 * transaction statements (docs/SQL.md, "Schema changes"), plus the
 * pv_change entry points shared with exec_dml.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_change.h"
#include "ws.h"

static int nomem(void) { return pv_err(PV_ENOMEM, "out of memory preparing a statement"); }

/* The schema and the workspace check a name they are given (taken, once
 * used, refused) without the SQL text: their error points at the name as
 * the statement writes it, at byte `off`. */
static int at_name(int rc, uint32_t off)
{
    return rc == PV_EEXISTS || rc == PV_EINPUT ? pv_err_locate(rc, off) : rc;
}

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
        return pv_err_at(PV_ESQL, e->off, "default value of column [%s] is not constant", s->cols[i].name);
    if ((rc = pv_bind_const(sql, e))) return rc;
    memset(&cx, 0, sizeof cx);
    cx.arena = &a;
    rc = pv_eval_expr(&cx, e, &v);
    /* a value the column's type cannot hold: the schema's error, at the DEFAULT */
    if (!rc && (rc = pv_schema_set_default(s, i, &v)) == PV_ETYPE) rc = pv_err_locate(rc, e->off);
    pv_arena_free(&a);
    return rc;
}

static int add_coldef(const char *sql, pv_schema *s, const pv_coldef *d)
{
    int type = pv_type_parse(d->type.p, d->type.n), rc;
    if (type < 0)
        return pv_err_at(PV_ESQL, d->type_off, "unknown type \"%.*s\" for column %.*s", (int)d->type.n,
                         d->type.p, (int)d->name.n, d->name.p);
    if ((rc = pv_schema_add_column(s, d->name.p, d->name.n, type, d->not_null))) return at_name(rc, d->name_off);
    return column_default(sql, s, s->ncols - 1, d->dflt);
}

/* ---- CREATE TABLE ------------------------------------------------------------------ */

/* The columns pk[0..npk) say PRIMARY KEY themselves, and the table
 * constraint may name more. A second primary key is the error, at the
 * PRIMARY that declares it: a column's second, the second column's, else
 * the constraint's (table constraints follow the columns). */
static int more_than_one_pk(const pv_create *c, uint32_t off)
{
    return pv_err_at(PV_ESQL, off, "table %.*s has more than one primary key", (int)c->table.n, c->table.p);
}

static int set_primary_key(const pv_create *c, pv_schema *s, uint32_t *pk, uint32_t npk)
{
    uint32_t i;
    for (i = 0; i < npk; i++) /* (a column that says it twice: at its second, the one kept) */
        if (c->cols[pk[i]].pk > 1) return more_than_one_pk(c, c->cols[pk[i]].primary_off);
    if (npk > 1 || (npk && c->npk))
        return more_than_one_pk(c, npk > 1 ? c->cols[pk[1]].primary_off : c->primary_off);
    for (i = 0; i < c->npk; i++) {
        int k = pv_schema_find(s, c->pk[i].p, c->pk[i].n);
        if (k < 0)
            return pv_err_at(PV_ENOTFOUND, c->pk_off[i], "no such column: %.*s", (int)c->pk[i].n,
                             c->pk[i].p);
        pk[npk++] = (uint32_t)k;
    }
    return npk ? pv_schema_set_pk(s, pk, npk) : 0;
}

/* ---- index names ------------------------------------------------------------------- */

/* Index names are unique in the database, as in SQLite. Returns the schema
 * of the table holding index `name` (and its position), or NULL; a .pvdb's
 * too (its tables keep their index definitions), so that DDL of an index
 * there is a no-op or refused as read-only, never "no such index". */
static const pv_schema *find_index(pv_db *db, const char *name, size_t len, uint32_t *pos)
{
    uint32_t i, n = pv_db_table_count(db);
    for (i = 0; i < n; i++) {
        const pv_schema *s = pv_db_table_schema(db, i);
        int k = s ? pv_schema_find_index(s, name, len) : -1;
        if (k >= 0) {
            *pos = (uint32_t)k;
            return s;
        }
    }
    return NULL;
}

/* A new table may not take an index's name, nor a new index a table's;
 * the error points at the name, written at byte `off`. */
static int name_taken(pv_db *db, const char *name, size_t len, uint32_t off, int for_index)
{
    pv_source src;
    uint32_t k;
    if (find_index(db, name, len, &k)) {
        if (for_index) return pv_err_at(PV_EEXISTS, off, "index %.*s already exists", (int)len, name);
        return pv_err_at(PV_EEXISTS, off, "there is already an index named %.*s", (int)len, name);
    }
    if (for_index && pv_db_find_table(db, name, len, &src) == 0)
        return pv_err_at(PV_EEXISTS, off, "there is already a table named %.*s", (int)len, name);
    return 0;
}

/* ---- UNIQUE constraints -------------------------------------------------------------- */

/* Does the column list restate the primary key (the same set of columns)?
 * It is unique already: no index is made for it. */
static int is_key(const pv_schema *s, const uint32_t *cols, uint32_t n)
{
    uint32_t i, j;
    if (n != s->npk) return 0;
    for (i = 0; i < n; i++) {
        if (s->cols[cols[i]].pk_pos < 0) return 0;
        for (j = 0; j < i; j++)
            if (cols[j] == cols[i]) return 0;
    }
    return 1;
}

/* One UNIQUE constraint becomes the unique index pv_autoindex_<table>_<n>,
 * unless it restates the key or an earlier constraint (SQLite makes one
 * index for those too). */
static int add_unique(pv_schema *s, const uint32_t *cols, uint32_t n)
{
    char name[PV_MAX_TABLE_NAME + 32];
    uint32_t i;
    if (is_key(s, cols, n)) return 0;
    for (i = 0; i < s->nindexes; i++)
        if (s->indexes[i].ncols == n && memcmp(s->indexes[i].cols, cols, n * sizeof *cols) == 0) return 0;
    snprintf(name, sizeof name, PV_AUTOINDEX_PREFIX "%s_%u", s->name, s->nindexes + 1);
    return pv_schema_add_index(s, name, strlen(name), 1, cols, n);
}

/* Column constraints first (in column order), then table constraints, the
 * order SQLite numbers its autoindexes in. */
static int add_uniques(const pv_create *c, pv_schema *s)
{
    uint32_t i, j, *cols;
    int rc = 0;
    for (i = 0; i < c->ncols && !rc; i++)
        if (c->cols[i].unique) rc = add_unique(s, &i, 1);
    for (i = 0; i < c->nuniques && !rc; i++) {
        const pv_namelist *u = &c->uniques[i];
        if (!(cols = malloc((u->n + 1) * sizeof *cols))) return nomem();
        for (j = 0; j < u->n && !rc; j++) {
            int k = pv_schema_find(s, u->names[j].p, u->names[j].n);
            if (k < 0)
                rc = pv_err_at(PV_ENOTFOUND, u->offs[j], "no such column: %.*s", (int)u->names[j].n,
                               u->names[j].p);
            else cols[j] = (uint32_t)k;
        }
        if (!rc) rc = add_unique(s, cols, u->n);
        free(cols);
    }
    return rc;
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
    if (rc || (rc = set_primary_key(c, s, pk, npk)) || (rc = pv_schema_finish(s)) || (rc = add_uniques(c, s)))
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
    const pv_create *x = &c->st->u.create;
    pv_schema *s;
    int rc;
    if ((rc = name_taken(c->db, c->schema->name, strlen(c->schema->name), x->table_off, 0))) return rc;
    /* a no-op writes nothing, so a read-only store takes it too, as
     * SQLite's read-only mode does */
    if (x->if_not_exists && pv_db_has_table(c->db, c->schema->name, strlen(c->schema->name))) return 0;
    if (!(s = pv_schema_clone(c->schema))) return pv_err(PV_ENOMEM, "out of memory creating table %s", c->schema->name);
    return at_name(pv_db_create_table(c->db, s, x->if_not_exists), x->table_off);
}

/* ---- CREATE INDEX, DROP ------------------------------------------------------------ */

/* The indexed columns, checked at prepare and again at run (the table may
 * have changed in between). */
static int index_columns(const pv_create_index *x, const pv_schema *s, uint32_t *cols)
{
    uint32_t i;
    for (i = 0; i < x->cols.n; i++) {
        int k = pv_schema_find(s, x->cols.names[i].p, x->cols.names[i].n);
        if (k < 0 || s->cols[k].hidden)
            return pv_err_at(PV_ENOTFOUND, x->cols.offs[i], "no such column: %.*s (table %s)",
                             (int)x->cols.names[i].n, x->cols.names[i].p, s->name);
        cols[i] = (uint32_t)k;
    }
    return 0;
}

static int prepare_create_index(pv_change *c)
{
    const pv_create_index *x = &c->st->u.index;
    uint32_t *cols;
    pv_source src;
    int rc;
    if (x->name.n >= strlen(PV_AUTOINDEX_PREFIX) &&
        pv_ident_eq(x->name.p, strlen(PV_AUTOINDEX_PREFIX), PV_AUTOINDEX_PREFIX, strlen(PV_AUTOINDEX_PREFIX)))
        return pv_err_at(PV_ESQL, x->name_off, "object name reserved for internal use: %.*s", (int)x->name.n,
                         x->name.p);
    if (!pv_column_name_ok(x->name.p, x->name.n))
        return pv_err_at(PV_ESQL, x->name_off, "bad index name '%.*s' (1 to %d bytes of UTF-8, no control characters)",
                         (int)(x->name.n > 64 ? 64 : x->name.n), x->name.p, PV_MAX_COLUMN_NAME);
    if ((rc = pv_db_find_table_sql(c->db, NULL, x->table.p, x->table.n, x->table_off, &src))) return rc;
    c->table_off = x->table_off;
    if (!(cols = malloc((x->cols.n + 1) * sizeof *cols))) return nomem();
    rc = index_columns(x, src.schema, cols);
    free(cols);
    if (!rc && !(c->table = pv_arena_dup(c->arena, src.schema->name, strlen(src.schema->name)))) rc = nomem();
    return rc;
}

/* CREATE INDEX and DROP INDEX change the table's schema (its index lines),
 * through the same path as ALTER TABLE: the column mapping is the identity. */
static int alter_indexes(pv_change *c, const char *table, pv_schema *s)
{
    int *from = malloc((s->ncols + 1) * sizeof *from), rc;
    uint32_t i;
    if (!from) {
        pv_schema_free(s);
        return nomem();
    }
    for (i = 0; i < s->ncols; i++) from[i] = (int)i;
    rc = pv_db_alter_table(c->db, table, s, from);
    free(from);
    return rc;
}

static int run_create_index(pv_change *c)
{
    const pv_create_index *x = &c->st->u.index;
    pv_schema *s = NULL;
    pv_source src;
    uint32_t *cols = NULL, k;
    int rc;
    if (find_index(c->db, x->name.p, x->name.n, &k) && x->if_not_exists) return 0;
    if ((rc = name_taken(c->db, x->name.p, x->name.n, x->name_off, 1)) ||
        (rc = pv_db_find_table_sql(c->db, NULL, c->table, strlen(c->table), c->table_off, &src)))
        return rc;
    if (!(cols = malloc((x->cols.n + 1) * sizeof *cols)) || !(s = pv_schema_clone(src.schema))) {
        free(cols);
        return nomem();
    }
    if (!(rc = index_columns(x, s, cols)) && !(rc = pv_schema_add_index(s, x->name.p, x->name.n, x->unique, cols, x->cols.n))) {
        free(cols);
        return alter_indexes(c, c->table, s);
    }
    free(cols);
    pv_schema_free(s);
    return rc;
}

static int run_drop_index(pv_change *c)
{
    const pv_drop *d = &c->st->u.drop;
    const pv_schema *t;
    pv_schema *s;
    uint32_t k;
    if (!(t = find_index(c->db, d->name.p, d->name.n, &k))) {
        if (d->if_exists) return 0;
        return pv_err_at(PV_ENOTFOUND, d->name_off, "no such index: %.*s", (int)d->name.n, d->name.p);
    }
    if (pv_index_is_auto(&t->indexes[k]))
        return pv_err_at(PV_ESQL, d->name_off, "index associated with UNIQUE or PRIMARY KEY constraint cannot "
                         "be dropped (index %s of table %s)", t->indexes[k].name, t->name);
    if (!(s = pv_schema_clone(t))) return nomem();
    pv_schema_drop_index(s, k);
    return alter_indexes(c, t->name, s);
}

static int prepare_drop(pv_change *c)
{
    const pv_drop *d = &c->st->u.drop;
    pv_source src;
    int rc;
    if (d->index) return 0; /* found by name when it runs */
    rc = pv_db_find_table_sql(c->db, NULL, d->name.p, d->name.n, d->name_off, &src);
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
    if (d->index) return run_drop_index(c);
    /* (a no-op: no write, as for CREATE TABLE IF NOT EXISTS) */
    if (d->if_exists && !pv_db_has_table(c->db, c->table, strlen(c->table))) return 0;
    return pv_db_drop_table(c->db, c->table, d->if_exists);
}

/* ---- ALTER TABLE ------------------------------------------------------------------- */

static int find_visible(const pv_schema *s, pv_str name, uint32_t off)
{
    int k = pv_schema_find(s, name.p, name.n);
    if (k < 0 || s->cols[k].hidden) {
        pv_err_at(PV_ENOTFOUND, off, "no such column: \"%.*s\"", (int)name.n, name.p);
        return -1;
    }
    return k;
}

/* DROP COLUMN of column k: why it may not go points at its name. */
static int check_drop(const pv_alter *a, const pv_schema *s, uint32_t k, uint32_t visible)
{
    int ix;
    if (s->cols[k].pk_pos >= 0)
        return pv_err_at(PV_ESQL, a->from_off, "cannot drop PRIMARY KEY column: \"%s\"", s->cols[k].name);
    if ((ix = pv_schema_index_using(s, k)) >= 0) {
        if (pv_index_is_auto(&s->indexes[ix]))
            return pv_err_at(PV_ESQL, a->from_off, "cannot drop UNIQUE column: \"%s\"", s->cols[k].name);
        return pv_err_at(PV_ESQL, a->from_off, "cannot drop column \"%s\": index %s uses it (drop the index first)",
                         s->cols[k].name, s->indexes[ix].name);
    }
    if (visible == 1)
        return pv_err_at(PV_ESQL, a->from_off, "cannot drop column \"%s\": no other columns exist",
                         s->cols[k].name);
    return 0;
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
            return pv_err_at(PV_EEXISTS, a->col.name_off, "duplicate column name: %.*s", (int)a->col.name.n,
                             a->col.name.p);
        /* a constraint old rows cannot meet: its keyword */
        if (a->col.pk) return pv_err_at(PV_ESQL, a->col.primary_off, "Cannot add a PRIMARY KEY column");
        if (a->col.unique) return pv_err_at(PV_ESQL, a->col.unique_off, "Cannot add a UNIQUE column");
        if (a->col.not_null &&
            (!a->col.dflt || (a->col.dflt->kind == PV_X_LIT && a->col.dflt->lit.type == PV_NULL)))
            return pv_err_at(PV_ECONSTRAINT, a->col.not_off,
                             "Cannot add a NOT NULL column with default value NULL");
        return 0;
    case PV_ALTER_RENAME:
        if (find_visible(s, a->from, a->from_off) < 0) return PV_ENOTFOUND;
        k = pv_schema_find(s, a->to.p, a->to.n);
        if (k >= 0 && !pv_ident_eq(a->from.p, a->from.n, a->to.p, a->to.n))
            return pv_err_at(PV_EEXISTS, a->to_off, "duplicate column name: %.*s", (int)a->to.n, a->to.p);
        return 0;
    default:
        if ((k = find_visible(s, a->from, a->from_off)) < 0) return PV_ENOTFOUND;
        return check_drop(a, s, (uint32_t)k, visible);
    }
}

static int prepare_alter(pv_change *c)
{
    const pv_alter *a = &c->st->u.alter;
    pv_source src;
    int rc;
    if ((rc = pv_db_find_table_sql(c->db, NULL, a->table.p, a->table.n, a->table_off, &src)) ||
        (rc = check_alter(a, src.schema)))
        return rc;
    c->table_off = a->table_off;
    if (a->action == PV_ALTER_ADD) {
        /* the new column's definition is checked as CREATE TABLE would, in
         * a scratch schema named as the table, which the errors name */
        pv_schema *t = pv_schema_new(src.schema->name, strlen(src.schema->name));
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
        rc = at_name(pv_schema_rename_column(s, (uint32_t)col, a->to.p, a->to.n), a->to_off);
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
    if ((rc = pv_db_find_table_sql(c->db, NULL, c->table, strlen(c->table), c->table_off, &src)) ||
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
    case PV_SQL_CREATE_INDEX: return run_create_index(c);
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
