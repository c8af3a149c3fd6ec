/*
 * db.c: opening a database of either shape and routing the engine's table
 * requests to its store.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "pvdb.h"
#include "util.h"
#include "ws.h"

PV_API int pv_workspace_init(const char *dir)
{
    if (!dir) return pv_err(PV_EMISUSE, "pv_workspace_init: dir is NULL");
    return pv_ws_init(dir);
}

PV_API int pv_open(const char *path, unsigned flags, pv_db **out)
{
    struct stat st;
    pv_db *db;
    int rc;

    if (!out || !path) return pv_err(PV_EMISUSE, "pv_open: path and out must not be NULL");
    *out = NULL;
    if (flags & ~PV_OPEN_READWRITE) return pv_err(PV_EMISUSE, "pv_open: unknown flags 0x%x", flags);
    if (stat(path, &st) != 0) return pv_err_errno("cannot open '%s'", path);
    db = calloc(1, sizeof *db);
    if (!db || !(db->path = strdup(path))) {
        free(db);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    db->flags = flags;
    if (S_ISDIR(st.st_mode)) {
        db->kind = PV_DB_WORKSPACE;
        rc = pv_ws_open(path, (flags & PV_OPEN_READWRITE) != 0, &db->ws);
    } else if (flags & PV_OPEN_READWRITE) {
        rc = pv_err(PV_EREADONLY, "'%s': a .pvdb file is read-only; edit the workspace and bake again", path);
    } else {
        db->kind = PV_DB_PVDB;
        rc = pvdb_open(path, &db->file);
    }
    if (rc) {
        free(db->path);
        free(db);
        return rc;
    }
    *out = db;
    return PV_OK;
}

PV_API int pv_close(pv_db *db)
{
    if (!db) return PV_OK;
    if (db->nstmts > 0)
        return pv_err(PV_EMISUSE, "pv_close: %d statement(s) not finalized", db->nstmts);
    if (db->resolver_free) db->resolver_free(db->resolver_ctx);
    pv_ws_close(db->ws);
    pvdb_close(db->file);
    free(db->path);
    free(db);
    return PV_OK;
}

int pv_db_find_table(pv_db *db, const char *name, size_t len, pv_source *out)
{
    if (db->kind == PV_DB_PVDB) return pvdb_find_table(db->file, name, len, out);
    {
        int i = pv_ws_table_find(db->ws, name, len);
        if (i < 0) return pv_err(PV_ENOTFOUND, "no such table: %.*s", (int)len, name);
        return pv_ws_table_source(db->ws, (uint32_t)i, out);
    }
}

void pv_db_set_resolver(pv_db *db, pv_rev_resolver fn, void *ctx, void (*free_ctx)(void *))
{
    if (db->resolver_free) db->resolver_free(db->resolver_ctx);
    db->resolver = fn;
    db->resolver_ctx = ctx;
    db->resolver_free = free_ctx;
}

int pv_db_find_table_at(pv_db *db, const char *rev, const char *name, size_t len, pv_source *out)
{
    if (!db->resolver)
        return pv_err(PV_EMISUSE, "AS OF '%s': reading past revisions needs a git repository and pvdev", rev);
    return db->resolver(db->resolver_ctx, rev, name, len, out);
}

int pv_db_create_table(pv_db *db, pv_schema *schema, int if_not_exists)
{
    if (db->kind != PV_DB_WORKSPACE) {
        pv_schema_free(schema);
        return pv_err(PV_EREADONLY, "'%s' is a baked .pvdb file: it cannot be changed", db->path);
    }
    return pv_ws_create_table(db->ws, schema, if_not_exists);
}


/* Writes need a workspace: a .pvdb never changes after it is baked. */
static int need_ws(pv_db *db)
{
    if (db->kind == PV_DB_WORKSPACE) return PV_OK;
    return pv_err(PV_EREADONLY, "'%s' is a baked .pvdb file: it cannot be changed", db->path);
}

int pv_db_write(pv_db *db, const char *table, const pv_value *rows, size_t nrows, size_t ncols,
                int mode, const char *origin, size_t first_line, size_t *nwritten)
{
    int rc = need_ws(db);
    if (rc) return rc;
    return pv_ws_write(db->ws, table, rows, nrows, ncols, mode, origin, first_line, nwritten);
}

int pv_db_insert(pv_db *db, const char *table, const pv_value *rows, size_t nrows,
                 size_t ncols, const char *origin, size_t first_line)
{
    return pv_db_write(db, table, rows, nrows, ncols, PV_WRITE_INSERT, origin, first_line, NULL);
}

int pv_db_delete(pv_db *db, const char *table, const pv_value *keys, size_t nkeys, size_t *ndeleted)
{
    int rc = need_ws(db);
    return rc ? rc : pv_ws_delete(db->ws, table, keys, nkeys, ndeleted);
}

int pv_db_lookup(pv_db *db, const char *table, const pv_value *key, const pv_value **row)
{
    if (db->kind != PV_DB_WORKSPACE)
        return pv_err(PV_EMISUSE, "pv_db_lookup: a .pvdb has its own key index (not through this call)");
    return pv_ws_lookup(db->ws, table, key, row);
}

int pv_db_drop_table(pv_db *db, const char *table, int if_exists)
{
    int rc = need_ws(db);
    return rc ? rc : pv_ws_drop_table(db->ws, table, if_exists);
}

int pv_db_alter_table(pv_db *db, const char *table, pv_schema *schema, const int *from)
{
    int rc = need_ws(db);
    if (rc) {
        pv_schema_free(schema);
        return rc;
    }
    return pv_ws_alter_table(db->ws, table, schema, from);
}

int pv_db_begin(pv_db *db)
{
    int rc = need_ws(db);
    return rc ? rc : pv_ws_begin(db->ws);
}

int pv_db_commit(pv_db *db)
{
    int rc = need_ws(db);
    return rc ? rc : pv_ws_commit(db->ws);
}

int pv_db_rollback(pv_db *db)
{
    int rc = need_ws(db);
    return rc ? rc : pv_ws_rollback(db->ws);
}

int pv_db_in_txn(const pv_db *db)
{
    return db->kind == PV_DB_WORKSPACE && pv_ws_in_txn(db->ws);
}

size_t pv_db_savepoint(pv_db *db)
{
    return db->kind == PV_DB_WORKSPACE ? pv_ws_savepoint(db->ws) : 0;
}

int pv_db_rollback_to(pv_db *db, size_t mark)
{
    int rc = need_ws(db);
    return rc ? rc : pv_ws_rollback_to(db->ws, mark);
}
