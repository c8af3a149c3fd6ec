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

#include "schema_file.h"
#include "ws_internal.h"

#define FORMAT_MAGIC "picovolt-workspace"

/* Local state that must never be committed (DESIGN rule 7). */
static const char gitignore_text[] =
    "# pvdev's local state: the writer lock, the commit journal, caches\n"
    "/lock\n"
    "/journal/\n"
    "/cache/\n";

int ws_chunk_path(char *out, size_t cap, const ws_table *t, uint32_t n)
{
    int len = snprintf(out, cap, "%s/%08u.jsonl", t->dir, n);
    if (len < 0 || (size_t)len >= cap) return pv_err(PV_ELIMIT, "path too long: '%s'", t->dir);
    return PV_OK;
}

/* Write a small file whole through a temporary name, so readers see the old
 * or the new content, never a mix. */
static int write_file_atomic(const char *path, const char *data, size_t n)
{
    char tmp[4200];
    int fd, rc;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return pv_err_errno("cannot create '%s'", tmp);
    rc = pv_write_all(fd, data, n, tmp);
    if (!rc && fsync(fd) != 0) rc = pv_err_errno("cannot sync '%s'", tmp);
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
    if ((rc = write_file_atomic(sub, gitignore_text, sizeof gitignore_text - 1))) return rc;
    snprintf(sub, sizeof sub, "%s/format", path);
    {
        char text[64];
        int n = snprintf(text, sizeof text, FORMAT_MAGIC " %d\n", PV_WS_FORMAT_VERSION);
        rc = write_file_atomic(sub, text, (size_t)n);
    }
    return rc;
}

static int check_format(const char *pvdir)
{
    char path[4200], *text = NULL;
    size_t n;
    int ver = 0, rc;
    snprintf(path, sizeof path, "%s/format", pvdir);
    rc = pv_read_file(path, 4096, &text, &n);
    if (rc) return rc;
    if (sscanf(text, FORMAT_MAGIC " %d", &ver) != 1) {
        rc = PV_CORRUPT("'%s' is not a PicoVolt workspace format file", path);
    } else if (ver > PV_WS_FORMAT_VERSION || ver < 1) {
        rc = pv_err(PV_EFORMAT, "'%s': workspace layout version %d; this pvdev reads version %d (upgrade pvdev)",
                    path, ver, PV_WS_FORMAT_VERSION);
    }
    free(text);
    return rc;
}

static void table_free(ws_table *t)
{
    if (!t) return;
    ws_table_unload(t);
    pv_schema_free(t->schema);
    free(t->dir);
    free(t);
}

static int table_open(pv_ws *ws, const char *name, ws_table **out)
{
    char path[4400], *text = NULL;
    size_t n;
    int rc;
    ws_table *t = calloc(1, sizeof *t);
    if (!t) return pv_err(PV_ENOMEM, "out of memory");
    t->vec_dirty = 1;
    if (asprintf(&t->dir, "%s/tables/%s", ws->pvdir, name) < 0) {
        t->dir = NULL;
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(path, sizeof path, "%s/schema.jsonl", t->dir);
    rc = pv_read_file(path, 16u << 20, &text, &n);
    if (rc == PV_ENOTFOUND) rc = PV_CORRUPT("table directory '%s' has no schema.jsonl", t->dir);
    if (rc) goto done;
    rc = pv_schema_decode(text, n, name, path, &t->schema);
done:
    free(text);
    if (rc) {
        table_free(t);
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

static int load_catalog(pv_ws *ws)
{
    char path[4200];
    DIR *d;
    struct dirent *e;
    int rc = PV_OK;
    snprintf(path, sizeof path, "%s/tables", ws->pvdir);
    d = opendir(path);
    if (!d) return errno == ENOENT ? PV_OK : pv_err_errno("cannot read '%s'", path);
    while ((e = readdir(d))) {
        ws_table *t = NULL, **grown;
        if (e->d_name[0] == '.') continue;
        if (!pv_table_name_ok(e->d_name, strlen(e->d_name))) {
            fprintf(stderr, "pv: warning: ignoring '%s/%s': not a valid table name\n", path, e->d_name);
            continue;
        }
        if (ws->ntables >= PV_MAX_TABLES) {
            rc = pv_err(PV_ELIMIT, "'%s': more than %d tables", path, PV_MAX_TABLES);
            break;
        }
        if ((rc = table_open(ws, e->d_name, &t))) break;
        grown = realloc(ws->tables, (ws->ntables + 1) * sizeof *grown);
        if (!grown) {
            table_free(t);
            rc = pv_err(PV_ENOMEM, "out of memory");
            break;
        }
        ws->tables = grown;
        ws->tables[ws->ntables++] = t;
    }
    closedir(d);
    if (!rc && ws->ntables > 1)
        qsort(ws->tables, ws->ntables, sizeof *ws->tables, name_cmp);
    return rc;
}

/* The number of the newest chunk file of a table (NNNNNNNN.jsonl, as
 * ws_load.c lists them), or 0 when it has none. */
static int newest_chunk(const ws_table *t, uint32_t *out)
{
    DIR *d = opendir(t->dir);
    struct dirent *e;
    *out = 0;
    if (!d) return errno == ENOENT ? PV_OK : pv_err_errno("cannot read '%s'", t->dir);
    while ((e = readdir(d))) {
        unsigned num;
        char tail[8];
        if (strlen(e->d_name) != 14 || sscanf(e->d_name, "%8u.jsonl%1s", &num, tail) != 1 ||
            strspn(e->d_name, "0123456789") != 8 || num == 0)
            continue;
        if (num > *out) *out = num;
    }
    closedir(d);
    return PV_OK;
}

/* A torn last line (a crash mid-append) is found when the workspace is
 * opened, by looking at the last byte of each table's newest chunk: it is
 * reported when read-only, and cut when writable (loading the table
 * repairs it, ws_load.c). */
static int check_tail(pv_ws *ws, ws_table *t)
{
    char path[4400], last = '\n';
    struct stat st;
    uint32_t num;
    int fd, rc;
    if ((rc = newest_chunk(t, &num)) || !num) return rc;
    if ((rc = ws_chunk_path(path, sizeof path, t, num))) return rc;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pv_err_errno("cannot open '%s'", path);
    if (fstat(fd, &st) != 0) rc = pv_err_errno("cannot stat '%s'", path);
    else if (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
        rc = pv_err_errno("cannot read '%s'", path);
    close(fd);
    if (rc || last == '\n') return rc;
    if (!ws->writable)
        return PV_CORRUPT("'%s': the last line is incomplete (byte %lld); open the workspace with pvdev to repair it",
                          path, (long long)st.st_size);
    return ws_table_load(ws, t);
}

int pv_ws_open(const char *dir, int writable, pv_ws **out)
{
    uint32_t i;
    struct stat st;
    int rc;
    pv_ws *ws = calloc(1, sizeof *ws);
    *out = NULL;
    if (!ws) return pv_err(PV_ENOMEM, "out of memory");
    ws->writable = writable;
    ws->root = strdup(dir);
    if (!ws->root || asprintf(&ws->pvdir, "%s/.pv", dir) < 0) {
        ws->pvdir = NULL;
        pv_ws_close(ws);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    if (stat(ws->pvdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = pv_err(PV_ENOTFOUND, "no workspace in '%s' (no .pv directory; run 'pvdev init')", dir);
        goto fail;
    }
    if ((rc = check_format(ws->pvdir))) goto fail;
    if ((rc = load_catalog(ws))) goto fail;
    for (i = 0; i < ws->ntables; i++)
        if ((rc = check_tail(ws, ws->tables[i]))) goto fail;
    *out = ws;
    return PV_OK;
fail:
    pv_ws_close(ws);
    return rc;
}

void pv_ws_close(pv_ws *ws)
{
    uint32_t i;
    if (!ws) return;
    for (i = 0; i < ws->ntables; i++) table_free(ws->tables[i]);
    free(ws->tables);
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
    if ((rc = ws_table_vectors(ws, t))) return rc;
    out->schema = t->schema;
    out->nrows = t->vec_rows;
    out->ops = &ws_source_ops;
    out->impl = t;
    return PV_OK;
}

int pv_ws_table_bake(pv_ws *ws, uint32_t i, pv_bake_table *out)
{
    ws_table *t;
    int rc;
    if (i >= ws->ntables) return pv_err(PV_ERANGE, "table index %u out of range", i);
    t = ws->tables[i];
    if ((rc = ws_table_vectors(ws, t))) return rc;
    out->schema = t->schema;
    out->nrows = t->vec_rows;
    out->cols = t->vecs;
    return PV_OK;
}

int pv_ws_create_table(pv_ws *ws, pv_schema *schema, int if_not_exists)
{
    char path[4400];
    pv_buf text = PV_BUF_INIT;
    ws_table *t = NULL, **grown;
    int rc;
    const char *name = schema->name;

    if (!ws->writable) {
        rc = pv_err(PV_EREADONLY, "workspace '%s' is open read-only", ws->root);
        goto fail;
    }
    if (!pv_table_name_ok(name, strlen(name))) {
        rc = pv_err(PV_EINPUT, "bad table name '%s' (letters, digits and _, at most %d bytes, not starting with a digit)",
                    name, PV_MAX_TABLE_NAME);
        goto fail;
    }
    if (pv_ws_table_find(ws, name, strlen(name)) >= 0) {
        rc = if_not_exists ? PV_OK : pv_err(PV_EEXISTS, "table %s already exists", name);
        goto fail;
    }
    t = calloc(1, sizeof *t);
    if (!t || asprintf(&t->dir, "%s/tables/%s", ws->pvdir, name) < 0) {
        if (t) t->dir = NULL;
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto fail;
    }
    t->schema = schema;
    t->vec_dirty = 1;
    t->loaded = 1; /* a new table has no rows to replay */
    schema = NULL;
    if ((rc = make_dir(t->dir))) goto fail;
    if ((rc = pv_schema_encode(&text, t->schema))) goto fail;
    snprintf(path, sizeof path, "%s/schema.jsonl", t->dir);
    if ((rc = write_file_atomic(path, text.p, text.len))) goto fail;
    grown = realloc(ws->tables, (ws->ntables + 1) * sizeof *grown);
    if (!grown) {
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto fail;
    }
    ws->tables = grown;
    ws->tables[ws->ntables++] = t;
    qsort(ws->tables, ws->ntables, sizeof *ws->tables, name_cmp);
    pv_buf_free(&text);
    return PV_OK;
fail:
    pv_buf_free(&text);
    table_free(t);
    pv_schema_free(schema);
    return rc;
}
