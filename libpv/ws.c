/*
 * ws.c: the workspace catalog: creating `.pv/`, opening it, the table list
 * and the schema files (docs/FORMAT.md part 1).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "schema_file.h"
#include "ws_internal.h"

#define FORMAT_MAGIC "picovolt-workspace"

/* Local state that must never be committed (DESIGN rule 7). */
static const char gitignore_text[] =
    "# pvdev's local state: the writer lock, the commit journal, caches,\n"
    "# files `pvdev resolve` writes before renaming them into place\n"
    "/lock\n"
    "/journal/\n"
    "/cache/\n"
    "/tables/*/*.resolve\n";

int ws_chunk_path(char *out, size_t cap, const ws_table *t, uint32_t n)
{
    int len = snprintf(out, cap, "%s/%08u.jsonl", t->dir, n);
    if (len < 0 || (size_t)len >= cap) return pv_err(PV_ELIMIT, "path too long: '%s'", t->dir);
    return PV_OK;
}

/* Write a small file whole through a temporary name, so readers see the old
 * or the new content, never a mix. */
int ws_write_file_atomic(const char *path, const char *data, size_t n, int sync)
{
    char tmp[4200];
    int fd, rc;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return pv_err_errno("cannot create '%s'", tmp);
    rc = pv_write_all(fd, data, n, tmp);
    if (!rc && sync && fsync(fd) != 0) rc = pv_err_errno("cannot sync '%s'", tmp);
    if (close(fd) != 0 && !rc) rc = pv_err_errno("cannot close '%s'", tmp);
    if (!rc && rename(tmp, path) != 0) rc = pv_err_errno("cannot rename '%s'", tmp);
    if (rc) unlink(tmp);
    return rc;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return pv_err_errno("cannot create directory '%s'", path);
    return PV_OK;
}

int ws_format_upgrade(pv_ws *ws, int ver)
{
    char path[4200], text[64];
    int n, rc;
    if (ws->format >= ver) return PV_OK;
    snprintf(path, sizeof path, "%s/format", ws->pvdir);
    n = snprintf(text, sizeof text, FORMAT_MAGIC " %d\n", ver);
    if ((rc = ws_write_file_atomic(path, text, (size_t)n, ws->sync))) return rc;
    if (ws->sync && (rc = ws_fsync_dir(ws->pvdir))) return rc;
    ws->format = ver;
    return PV_OK;
}

int pv_ws_init(const char *dir)
{
    char path[4096], sub[4200];
    int rc;
    snprintf(path, sizeof path, "%s/.pv", dir);
    if (mkdir(path, 0777) != 0) {
        if (errno == EEXIST) return pv_err(PV_EEXISTS, "'%s' already exists", path);
        return pv_err_errno("cannot create directory '%s'", path);
    }
    snprintf(sub, sizeof sub, "%s/tables", path);
    if ((rc = make_dir(sub))) return rc;
    snprintf(sub, sizeof sub, "%s/blobs", path);
    if ((rc = make_dir(sub))) return rc;
    snprintf(sub, sizeof sub, "%s/.gitignore", path);
    if ((rc = ws_write_file_atomic(sub, gitignore_text, sizeof gitignore_text - 1, 1))) return rc;
    snprintf(sub, sizeof sub, "%s/format", path);
    {
        char text[64];
        int n = snprintf(text, sizeof text, FORMAT_MAGIC " %d\n", PV_WS_FORMAT_VERSION);
        rc = ws_write_file_atomic(sub, text, (size_t)n, 1);
    }
    return rc;
}

static int check_format(pv_ws *ws)
{
    char path[4200], *text = NULL;
    size_t n;
    int ver = 0, rc;
    snprintf(path, sizeof path, "%s/format", ws->pvdir);
    rc = ws->rd.read(ws->rd.ctx, "format", 4096, &text, &n);
    if (rc == PV_ENOTFOUND) return pv_err(PV_ENOTFOUND, "no workspace in '%s' (no .pv/format)", ws->root);
    if (rc) return rc;
    if (sscanf(text, FORMAT_MAGIC " %d", &ver) != 1) {
        rc = PV_CORRUPT("'%s' is not a PicoVolt workspace format file", path);
    } else if (ver > WS_FORMAT_MAX || ver < 1) {
        rc = pv_err(PV_EFORMAT, "'%s': workspace layout version %d; this pvdev reads versions 1 to %d (upgrade pvdev)",
                    path, ver, WS_FORMAT_MAX);
    } else {
        ws->format = ver;
    }
    free(text);
    return rc;
}

void ws_table_free(ws_table *t)
{
    if (!t) return;
    ws_table_unload(t);
    pv_schema_free(t->schema);
    free(t->snap_num);
    free(t->snap_size);
    free(t->lookup_row);
    ws_point_free(t);
    ws_append_close(t);
    free(t->dir);
    free(t);
}

/* A table object for `schema` (owned on success), not yet in the catalog. */
int ws_table_new(pv_ws *ws, pv_schema *schema, ws_table **out)
{
    ws_table *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t || asprintf(&t->dir, "%s/tables/%s", ws->pvdir, schema->name) < 0) {
        free(t);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    t->ws = ws;
    t->schema = schema;
    t->vec_dirty = 1;
    *out = t;
    return PV_OK;
}

static int table_open(pv_ws *ws, const char *name, ws_table **out)
{
    char path[4400], *text = NULL;
    size_t n;
    int rc;
    ws_table *t = calloc(1, sizeof *t);
    if (!t) return pv_err(PV_ENOMEM, "out of memory");
    t->ws = ws;
    t->vec_dirty = 1;
    if (asprintf(&t->dir, "%s/tables/%s", ws->pvdir, name) < 0) {
        t->dir = NULL;
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(path, sizeof path, "tables/%s/schema.jsonl", name);
    rc = ws->rd.read(ws->rd.ctx, path, 16u << 20, &text, &n);
    snprintf(path, sizeof path, "%s/schema.jsonl", t->dir);
    if (rc == PV_ENOTFOUND) rc = PV_CORRUPT("table directory '%s' has no schema.jsonl", t->dir);
    if (rc) goto done;
    rc = pv_schema_decode(text, n, name, path, &t->schema);
    t->schema_hash = XXH3_64bits(text, n) | 1; /* (0 means none) */
done:
    free(text);
    if (rc) {
        ws_table_free(t);
        t = NULL;
    }
    *out = t;
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    const ws_table *x = *(ws_table *const *)a, *y = *(ws_table *const *)b;
    return strcmp(x->schema->name, y->schema->name);
}

/* Append a table to the list (unsorted). */
static int catalog_push(pv_ws *ws, ws_table *t)
{
    ws_table **grown = realloc(ws->tables, (ws->ntables + 1) * sizeof *grown);
    if (!grown) return pv_err(PV_ENOMEM, "out of memory");
    ws->tables = grown;
    ws->tables[ws->ntables++] = t;
    return PV_OK;
}

static int load_catalog(pv_ws *ws)
{
    char path[4200], **names;
    size_t n, i;
    int rc;
    snprintf(path, sizeof path, "%s/tables", ws->pvdir);
    if ((rc = ws->rd.list(ws->rd.ctx, "tables", &names, &n))) return rc;
    for (i = 0; i < n; i++) {
        const char *name = names[i];
        ws_table *t = NULL;
        if (name[0] == '.') continue;
        if (!pv_table_name_ok(name, strlen(name))) {
            fprintf(stderr, "pv: warning: ignoring '%s/%s': not a valid table name\n", path, name);
            continue;
        }
        if (ws->ntables >= PV_MAX_TABLES) {
            rc = pv_err(PV_ELIMIT, "'%s': more than %d tables", path, PV_MAX_TABLES);
            break;
        }
        if ((rc = table_open(ws, name, &t))) break;
        if ((rc = catalog_push(ws, t))) {
            ws_table_free(t);
            break;
        }
    }
    pv_names_free(names, n);
    if (!rc && ws->ntables > 1)
        qsort(ws->tables, ws->ntables, sizeof *ws->tables, name_cmp);
    return rc;
}

/* A torn last line (a crash mid-append with no journal to undo it) is
 * found when the workspace is opened, from the last byte of each table's
 * newest chunk as the snapshot sees it (the caller holds the commit lock):
 * reported when read-only; writable, *torn is set, and loading the table
 * repairs it (ws_load.c). */
static int check_tail(pv_ws *ws, ws_table *t, int *torn)
{
    char path[4400], last = '\n';
    uint64_t size;
    int fd, rc = PV_OK;
    *torn = 0;
    if (!t->snap_n || !ws->posix) return PV_OK; /* a git tree is read whole: replay checks it */
    size = t->snap_size[t->snap_n - 1];
    if ((rc = ws_chunk_path(path, sizeof path, t, t->snap_num[t->snap_n - 1]))) return rc;
    if (size == 0) return PV_OK;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pv_err_errno("cannot open '%s'", path);
    if (pread(fd, &last, 1, (off_t)size - 1) != 1) rc = pv_err_errno("cannot read '%s'", path);
    close(fd);
    if (rc || last == '\n') return rc;
    if (!ws->writable)
        return PV_CORRUPT("'%s': the last line is incomplete (byte %llu); open the workspace with pvdev to repair it",
                          path, (unsigned long long)size);
    *torn = 1;
    return PV_OK;
}

ws_table *ws_find(pv_ws *ws, const char *name)
{
    int i = pv_ws_table_find(ws, name, strlen(name));
    return i < 0 ? NULL : ws->tables[i];
}

int ws_catalog_add(pv_ws *ws, ws_table *t)
{
    int rc = catalog_push(ws, t);
    if (!rc) qsort(ws->tables, ws->ntables, sizeof *ws->tables, name_cmp);
    return rc;
}

void ws_catalog_remove(pv_ws *ws, ws_table *t)
{
    uint32_t i;
    for (i = 0; i < ws->ntables; i++) {
        if (ws->tables[i] != t) continue;
        memmove(&ws->tables[i], &ws->tables[i + 1], (ws->ntables - i - 1) * sizeof *ws->tables);
        ws->ntables--;
        return;
    }
}

/* The n tables of *v freed, and the array (the catalog or the retired). */
static void tables_free(ws_table ***v, uint32_t *n)
{
    uint32_t i;
    for (i = 0; i < *n; i++) ws_table_free((*v)[i]);
    free(*v);
    *v = NULL;
    *n = 0;
}

static void catalog_free(pv_ws *ws) { tables_free(&ws->tables, &ws->ntables); }
static void retired_free(pv_ws *ws) { tables_free(&ws->retired, &ws->nretired); }

/* Take the tables out of the catalog: freed now when no statement's run
 * is active, else kept (ws->retired) for the runs that may read them. */
static int catalog_retire(pv_ws *ws)
{
    ws_table **grown;
    if (!ws->nruns) {
        catalog_free(ws);
        retired_free(ws);
        return PV_OK;
    }
    if (ws->ntables) {
        grown = realloc(ws->retired, (ws->nretired + ws->ntables) * sizeof *grown);
        if (!grown) return pv_err(PV_ENOMEM, "out of memory");
        memcpy(grown + ws->nretired, ws->tables, ws->ntables * sizeof *grown);
        ws->retired = grown;
        ws->nretired += ws->ntables;
    }
    free(ws->tables);
    ws->tables = NULL;
    ws->ntables = 0;
    return PV_OK;
}

void pv_ws_runs(pv_ws *ws, int delta)
{
    if (!ws) return;
    ws->nruns += delta;
    if (ws->nruns <= 0) {
        ws->nruns = 0;
        retired_free(ws);
    }
}

/* Read the tables, their schemas and their chunk sizes anew (at open, or
 * another process committed), all under the shared commit lock: no commit
 * comes between a schema and the chunks it reads. */
int ws_catalog_reload(pv_ws *ws)
{
    uint32_t i;
    int rc, locked = 0;
    uint8_t *torn = NULL;
    /* a statement's run started on the old snapshot reads on from its
     * tables: they are retired, not freed, while it may (pv_ws_runs) */
    if ((rc = catalog_retire(ws))) return rc;
    ws->snap_read = 0;
    if (ws->posix) { /* (a git tree does not move) */
        if ((rc = ws_commit_lock(ws, 0))) return rc;
        locked = 1;
    }
    rc = load_catalog(ws);
    if (!rc) rc = ws_snapshot_locked(ws);
    /* A commit that crashed left its journal: read around it. */
    if (!rc && locked && !ws->writable) rc = ws_journal_clip(ws);
    if (!rc && ws->ntables && !(torn = calloc(ws->ntables, 1))) rc = pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < ws->ntables && !rc; i++) {
        int one;
        rc = check_tail(ws, ws->tables[i], &one);
        torn[i] = (uint8_t)one;
    }
    if (locked) ws_commit_unlock(ws);
    /* writable: a load cuts the torn line off (ws_replay.c) */
    for (i = 0; i < ws->ntables && !rc; i++)
        if (torn[i]) rc = ws_load_read(ws, ws->tables[i]);
    free(torn);
    return rc;
}

/* PV_WS_SYNC or PV_WS_FAST for an open asking for `durability`; the
 * environment is the fallback. */
static int choose_durability(int durability, int writable, int *sync)
{
    const char *env = getenv("PV_DURABILITY");
    *sync = 1;
    if (durability == PV_WS_SYNC || durability == PV_WS_FAST) {
        *sync = durability == PV_WS_SYNC;
        return PV_OK;
    }
    if (durability != PV_WS_DURABILITY_DEFAULT)
        return pv_err(PV_EMISUSE, "pv_ws_open: unknown durability %d", durability);
    if (!env || !*env || !strcmp(env, "sync")) return PV_OK;
    if (!strcmp(env, "fast")) {
        *sync = 0;
        return PV_OK;
    }
    /* a typo must not silently pick a durability the user did not ask for */
    return writable ? pv_err(PV_EMISUSE, "PV_DURABILITY='%.40s' in the environment: expected 'sync' or 'fast'", env)
                    : PV_OK;
}

int pv_ws_open(const char *dir, int writable, pv_ws **out)
{
    return pv_ws_open_ex(dir, writable, PV_WS_DURABILITY_DEFAULT, out);
}

int pv_ws_durability(const pv_ws *ws) { return ws->sync ? PV_WS_SYNC : PV_WS_FAST; }

int ws_new(const char *dir, pv_ws **out)
{
    pv_ws *ws;
    *out = NULL;
    if (!(ws = calloc(1, sizeof *ws))) return pv_err(PV_ENOMEM, "out of memory");
    ws->txn.lock_fd = -1;
    ws->txn.pv_fd = -1;
    ws->fork_gen = ws_fork_gen();
    ws->commit_fd = -1;
    ws->tables_fd = -1;
    ws->posix = 1;
    ws->root = strdup(dir);
    if (!ws->root || asprintf(&ws->pvdir, "%s/.pv", dir) < 0) {
        ws->pvdir = NULL;
        pv_ws_close(ws);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    pv_ws_reader_posix(&ws->rd, ws->pvdir);
    *out = ws;
    return PV_OK;
}

int pv_ws_open_ex(const char *dir, int writable, int durability, pv_ws **out)
{
    struct stat st;
    int rc, sync;
    pv_ws *ws;
    *out = NULL;
    if ((rc = choose_durability(durability, writable, &sync))) return rc;
    if ((rc = ws_new(dir, &ws))) return rc;
    ws->writable = writable;
    ws->sync = sync;
    if (stat(ws->pvdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = pv_err(PV_ENOTFOUND, "no workspace in '%s' (no .pv directory; run 'pvdev init')", dir);
        goto fail;
    }
    if ((rc = check_format(ws))) goto fail;
    /* A writer undoes an interrupted commit before reading anything; the
     * lock keeps a live writer's commit from being mistaken for one. */
    if (writable) {
        if ((rc = ws_commit_lock(ws, 1))) goto fail;
        rc = ws_journal_recover(ws, 1);
        ws_commit_unlock(ws);
        if (rc) goto fail;
    }
    if ((rc = ws_catalog_reload(ws))) goto fail;
    *out = ws;
    return PV_OK;
fail:
    pv_ws_close(ws);
    return rc;
}

int pv_ws_open_reader(const pv_ws_reader *r, pv_ws **out)
{
    int rc;
    pv_ws *ws = calloc(1, sizeof *ws);
    *out = NULL;
    if (!ws) return pv_err(PV_ENOMEM, "out of memory");
    ws->txn.lock_fd = -1;
    ws->txn.pv_fd = -1;
    ws->fork_gen = ws_fork_gen();
    ws->commit_fd = -1;
    ws->tables_fd = -1;
    ws->rd = *r;
    /* Files are named as git names them: REV:.pv/tables/t/00000001.jsonl */
    if (!(ws->root = strdup(r->label)) || asprintf(&ws->pvdir, "%s:.pv", r->label) < 0) {
        ws->pvdir = NULL;
        pv_ws_close(ws);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    if ((rc = check_format(ws)) || (rc = ws_catalog_reload(ws))) {
        pv_ws_close(ws);
        return rc;
    }
    *out = ws;
    return PV_OK;
}

void pv_ws_close(pv_ws *ws)
{
    if (!ws) return;
    if (ws->txn.open) pv_ws_rollback(ws);
    if (ws->txn.lock_fd >= 0) close(ws->txn.lock_fd);
    if (ws->txn.pv_fd >= 0) close(ws->txn.pv_fd);
    if (ws->commit_fd >= 0) close(ws->commit_fd);
    if (ws->tables_fd >= 0) close(ws->tables_fd);
    catalog_free(ws);
    retired_free(ws);
    free(ws->txn.undo);
    pv_arena_free(&ws->txn.arena);
    free(ws->root);
    free(ws->pvdir);
    free(ws);
}

uint32_t pv_ws_table_count(const pv_ws *ws) { return ws->ntables; }

const pv_schema *pv_ws_table_schema(const pv_ws *ws, uint32_t i)
{
    return i < ws->ntables ? ws->tables[i]->schema : NULL;
}

int pv_ws_table_find(const pv_ws *ws, const char *name, size_t len)
{
    uint32_t i;
    for (i = 0; i < ws->ntables; i++) {
        const char *n = ws->tables[i]->schema->name;
        if (pv_ident_eq(n, strlen(n), name, len)) return (int)i;
    }
    return -1;
}

int pv_ws_table_source(pv_ws *ws, uint32_t i, pv_source *out)
{
    ws_table *t;
    int rc;
    if (i >= ws->ntables) return pv_err(PV_ERANGE, "table index %u out of range", i);
    t = ws->tables[i];
    /* the key-ordered vectors are built when a scan starts, not here: an
     * INSERT or a point query must not pay for them. With a checkpoint the
     * row count comes from it and its tail (ws_point.c); without one, the
     * rows are loaded. */
    if (t->loaded || (t->vecs && !t->vec_dirty)) {
        out->nrows = t->loaded ? t->nlive : t->vec_rows;
    } else if ((rc = ws_point_read(ws, t)) > 0) {
        out->nrows = ws_point_rows(t);
    } else if (rc < 0 || (rc = ws_rows_read(ws, t))) {
        return rc;
    } else {
        out->nrows = t->loaded ? t->nlive : t->vec_rows;
    }
    out->schema = t->schema;
    out->ops = &ws_source_ops;
    out->impl = t;
    return PV_OK;
}

long pv_ws_conflicts(pv_ws *ws, uint32_t i, const pv_ws_conflict **out)
{
    int rc;
    *out = NULL;
    if (i >= ws->ntables) return pv_err(PV_ERANGE, "table index %u out of range", i);
    if ((rc = ws_load_read(ws, ws->tables[i]))) return rc;
    *out = ws->tables[i]->conflicts;
    return (long)ws->tables[i]->nconflicts;
}

int pv_ws_table_rows(pv_ws *ws, uint32_t i, pv_bake_table *out)
{
    ws_table *t;
    int rc;
    if (i >= ws->ntables) return pv_err(PV_ERANGE, "table index %u out of range", i);
    t = ws->tables[i];
    if ((rc = ws_rows_read(ws, t)) || (rc = ws_table_vectors(ws, t))) return rc;
    out->schema = t->schema;
    out->nrows = t->vec_rows;
    out->cols = t->vecs;
    return PV_OK;
}

int pv_ws_table_bake(pv_ws *ws, uint32_t i, pv_bake_table *out)
{
    int rc = pv_ws_table_rows(ws, i, out);
    ws_table *t = rc ? NULL : ws->tables[i];
    if (t && t->nconflicts)
        return pv_err(PV_ECONSTRAINT, "table %s has %zu unresolved merge conflict%s (see 'pvdev conflicts')",
                      t->schema->name, t->nconflicts, t->nconflicts == 1 ? "" : "s");
    return rc;
}
