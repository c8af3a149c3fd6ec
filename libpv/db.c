/*
 * db.c: opening a database of either shape and routing the engine's table
 * requests to its store.
 *
 * A `.pvdb` is held through a refcounted pv_db_map: the pv_db has one
 * reference to its current mapping, and every statement and getter takes
 * one at prepare/open (pv_db_map_acquire) for its whole life, so pv_reopen
 * can swap in a new file while old statements finish on the old mapping;
 * the last release unmaps it. The db's lock covers only the swap of the
 * current pointer and taking a reference: nothing on the read path of a
 * running statement or pv_get takes a lock.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "pvdb.h"
#include "pvdb_blockcache.h"
#include "pvdb_impl.h"
#include "util.h"
#include "ws.h"

PV_API int pv_workspace_init(const char *dir)
{
    if (!dir) return pv_err(PV_EMISUSE, "pv_workspace_init: dir is NULL");
    return pv_ws_init(dir);
}

/* ---- mappings (hot swap) ----------------------------------------------------------- */

/* Map `path` as a pv_db_map with one reference, recording the identity of
 * the file mapped (so pv_reopen can tell a replaced file). */
static int map_open(const char *path, struct pv_blockcache *cache, pv_db_map **out)
{
    pv_db_map *m = calloc(1, sizeof *m);
    int rc;
    *out = NULL;
    if (!m) return pv_err(PV_ENOMEM, "out of memory");
    if ((rc = pvdb_open(path, &m->file))) {
        free(m);
        return rc;
    }
    /* the identity of the very file mapped (fstat of its descriptor): a
     * file renamed over the path since is seen as changed by the next
     * pv_reopen, never missed */
    m->dev = m->file->dev;
    m->ino = m->file->ino;
    m->size = m->file->size;
    m->mtime_ns = m->file->mtime_ns;
    m->file->cache = cache; /* before any reader sees the file */
    m->refs = 1;
    *out = m;
    return PV_OK;
}

pv_db_map *pv_db_map_acquire(pv_db *db)
{
    pv_db_map *m;
    if (db->kind != PV_DB_PVDB) return NULL;
    pthread_mutex_lock(&db->lock);
    m = db->map;
    __atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&db->lock);
    return m;
}

void pv_db_map_release(pv_db_map *m)
{
    if (!m) return;
    if (__atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    /* the cache forgets the file's blocks; readers' parked scans release
     * theirs as pvdb_close frees them */
    pv_blockcache_drop_gen(m->file->cache, m->file->gen);
    pvdb_close(m->file);
    free(m);
}

void pv_db_count_user(pv_db *db, int delta)
{
    __atomic_add_fetch(&db->nstmts, delta, __ATOMIC_RELAXED);
}

void pv_db_count_run(pv_db *db, int delta)
{
    if (db->kind == PV_DB_WORKSPACE) pv_ws_runs(db->ws, delta);
}

/* ---- open / close -------------------------------------------------------------------- */

static int ws_durability(unsigned flags)
{
    return flags & PV_OPEN_SYNC ? PV_WS_SYNC : flags & PV_OPEN_FAST ? PV_WS_FAST : PV_WS_DURABILITY_DEFAULT;
}

PV_API int pv_open(const char *path, unsigned flags, pv_db **out)
{
    pv_open_options o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.flags = flags;
    return pv_open_ex(path, &o, out);
}

PV_API int pv_open_ex(const char *path, const pv_open_options *opts, pv_db **out)
{
    struct stat st;
    unsigned flags = opts ? opts->flags : 0;
    pv_db *db;
    int rc;

    if (!out || !path) return pv_err(PV_EMISUSE, "pv_open: path and out must not be NULL");
    *out = NULL;
    if (opts && opts->size != sizeof *opts)
        return pv_err(PV_EMISUSE, "pv_open_ex: options size %zu, this library knows %zu",
                      opts->size, sizeof *opts);
    if (flags & ~(PV_OPEN_READWRITE | PV_OPEN_SYNC | PV_OPEN_FAST))
        return pv_err(PV_EMISUSE, "pv_open: unknown flags 0x%x", flags);
    if ((flags & PV_OPEN_SYNC) && (flags & PV_OPEN_FAST))
        return pv_err(PV_EMISUSE, "pv_open: PV_OPEN_SYNC and PV_OPEN_FAST together");
    if (stat(path, &st) != 0) return pv_err_errno("cannot open '%s'", path);
    db = calloc(1, sizeof *db);
    if (!db || !(db->path = strdup(path))) {
        free(db);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    db->flags = flags;
    db->cache_bytes = !opts || opts->cache_bytes == 0 ? PV_CACHE_BYTES_DEFAULT
                      : opts->cache_bytes == UINT64_MAX ? 0 : opts->cache_bytes;
    if (S_ISDIR(st.st_mode)) {
        db->kind = PV_DB_WORKSPACE;
        rc = pv_ws_open_ex(path, (flags & PV_OPEN_READWRITE) != 0, ws_durability(flags), &db->ws);
    } else if (flags & PV_OPEN_READWRITE) {
        rc = pv_err(PV_EREADONLY, "'%s': a .pvdb file is read-only; edit the workspace and bake again", path);
    } else {
        db->kind = PV_DB_PVDB;
        rc = db->cache_bytes ? pv_blockcache_new(db->cache_bytes, &db->cache) : PV_OK;
        if (rc == PV_OK) rc = map_open(path, db->cache, &db->map);
        if (rc == PV_OK) db->file = db->map->file;
    }
    if (rc == PV_OK && pthread_mutex_init(&db->lock, NULL) != 0) {
        pv_db_map_release(db->map);
        pv_ws_close(db->ws);
        rc = pv_err(PV_ENOMEM, "cannot create a mutex");
    }
    if (rc) {
        pv_blockcache_free(db->cache);
        free(db->path);
        free(db);
        return rc;
    }
    *out = db;
    return PV_OK;
}

PV_API int pv_reopen(pv_db *db, int *changed)
{
    pv_db_map *m, *old;
    struct stat st;
    int rc;
    if (changed) *changed = 0;
    if (!db) return pv_err(PV_EMISUSE, "pv_reopen: db is NULL");
    if (db->kind != PV_DB_PVDB)
        return pv_ws_reopen(&db->ws, __atomic_load_n(&db->nstmts, __ATOMIC_RELAXED), changed);
    if (stat(db->path, &st) != 0) return pv_err_errno("cannot open '%s'", db->path);
    pthread_mutex_lock(&db->lock);
    old = db->map;
    if ((uint64_t)st.st_dev == old->dev && (uint64_t)st.st_ino == old->ino &&
        (uint64_t)st.st_size == old->size &&
        (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec == old->mtime_ns) {
        pthread_mutex_unlock(&db->lock);
        return PV_OK;
    }
    pthread_mutex_unlock(&db->lock);
    /* map and check the new file outside the lock: prepares go on meanwhile */
    if ((rc = map_open(db->path, db->cache, &m))) return rc;
    pthread_mutex_lock(&db->lock);
    old = db->map;
    db->map = m;
    db->file = m->file;
    pthread_mutex_unlock(&db->lock);
    pv_db_map_release(old); /* unmapped now, or by its last statement */
    if (changed) *changed = 1;
    return PV_OK;
}

/* The first problem pv_ws_fsck_worktree reports, and how many it does. */
typedef struct verify_acc {
    char *first;
    size_t count;
} verify_acc;

static void verify_problem(void *ctx, const char *problem)
{
    verify_acc *a = ctx;
    if (a->count++ == 0) a->first = strdup(problem);
}

static int verify_workspace(const pv_db *db)
{
    verify_acc a = {NULL, 0};
    pv_fsck_stats st;
    int rc = pv_ws_fsck_worktree(db->path, verify_problem, &a, &st);
    if (rc == PV_OK && a.count > 0) {
        if (!a.first) rc = pv_err(PV_ENOMEM, "out of memory");
        else if (a.count == 1) rc = pv_err(PV_ECORRUPT, "%s: %s", db->path, a.first);
        else
            rc = pv_err(PV_ECORRUPT, "%s: %s (%zu problems in all; `pvdev fsck` lists them)", db->path,
                        a.first, a.count);
    }
    free(a.first);
    return rc;
}

PV_API int pv_verify(pv_db *db)
{
    pv_db_map *m;
    int rc;
    if (!db) return pv_err(PV_EMISUSE, "pv_verify: db is NULL");
    if (db->kind != PV_DB_PVDB) return verify_workspace(db);
    m = pv_db_map_acquire(db); /* (the file of this moment, kept through a pv_reopen) */
    rc = pvdb_verify(m->file);
    pv_db_map_release(m);
    return rc;
}

PV_API int pv_close(pv_db *db)
{
    int n;
    if (!db) return PV_OK;
    n = __atomic_load_n(&db->nstmts, __ATOMIC_RELAXED);
    if (n > 0)
        return pv_err(PV_EMISUSE, "pv_close: %d statement(s) or getter(s) not finalized", n);
    if (db->resolver_free) db->resolver_free(db->resolver_ctx);
    pv_ws_close(db->ws);
    pv_db_map_release(db->map); /* the last mapping: statements are gone */
    pv_blockcache_free(db->cache);
    pthread_mutex_destroy(&db->lock);
    free(db->path);
    free(db);
    return PV_OK;
}

int pv_db_find_table_in(pv_db *db, pv_db_map *map, const char *name, size_t len, pv_source *out)
{
    if (map) return pvdb_find_table(map->file, name, len, out);
    return pv_db_find_table(db, name, len, out);
}

int pv_db_find_table_sql(pv_db *db, pv_db_map *map, const char *name, size_t len, uint32_t off,
                         pv_source *out)
{
    struct pvdb_file *f = map ? map->file : db->kind == PV_DB_PVDB ? db->file : NULL;
    int i = f ? pvdb_table_index(f, name, len) : pv_ws_table_find(db->ws, name, len);
    if (i < 0)
        return pv_err_at(PV_ENOTFOUND, off, "no such table: %.*s", (int)(len > 256 ? 256 : len), name);
    return f ? pvdb_table_source(f, (uint32_t)i, out) : pv_ws_table_source(db->ws, (uint32_t)i, out);
}

int pv_source_get_row(const pv_source *src, const pv_value *key, uint32_t nkey,
                      const uint32_t *cols, uint32_t ncols, pv_value *out, pv_buf *buf,
                      struct pvdb_rowcache **cache)
{
    return pvdb_source_get_row_cached(src, key, nkey, cols, ncols, out, buf, cache);
}

void pv_rowcache_free(struct pvdb_rowcache *cache)
{
    pvdb_rowcache_free(cache);
}

int pv_rowcache_hold(struct pvdb_rowcache **cache)
{
    return pvdb_rowcache_hold(cache, PV_DEC_HOLD_PAGES | PV_DEC_HOLD_TABLES);
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

int pv_db_has_table(pv_db *db, const char *name, size_t len)
{
    return (db->kind == PV_DB_PVDB ? pvdb_table_index(db->file, name, len) : pv_ws_table_find(db->ws, name, len)) >= 0;
}

uint32_t pv_db_table_count(pv_db *db)
{
    return db->kind == PV_DB_PVDB ? pvdb_table_count(db->file) : pv_ws_table_count(db->ws);
}

const pv_schema *pv_db_table_schema(pv_db *db, uint32_t i)
{
    pv_source src;
    if (i >= pv_db_table_count(db)) return NULL;
    if (db->kind != PV_DB_PVDB) return pv_ws_table_schema(db->ws, i);
    return pvdb_table_source(db->file, i, &src) == 0 ? src.schema : NULL;
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

int pv_db_find_table_at_sql(pv_db *db, const char *rev, uint32_t rev_off, const char *name, size_t len,
                            pv_source *out)
{
    /* the resolver knows git, not the statement: its errors are placed
     * here; an I/O error or a damaged object is no fault of the text */
    int rc = pv_db_find_table_at(db, rev, name, len, out);
    return rc == PV_ENOTFOUND || rc == PV_EMISUSE ? pv_err_locate(rc, rev_off) : rc;
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

int pv_db_check_writable(pv_db *db)
{
    int rc = need_ws(db);
    return rc ? rc : pv_ws_check_writable(db->ws);
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
