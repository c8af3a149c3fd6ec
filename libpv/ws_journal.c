/*
 * ws_journal.c: the rollback journal that makes a commit atomic.
 *
 * Before a commit changes any file, it writes `.pv/journal/commit` (text,
 * docs/FORMAT.md part 1) saying how to put every file back: the length each
 * chunk had (or that it is new), the old bytes of a rewritten schema, the
 * tables created and dropped. The journal ends with a checksum line; the
 * commit is done when the journal is deleted. A crash before that leaves a
 * complete journal, and the next writable open undoes the commit from it; a
 * crash while the journal itself is written leaves an incomplete one, which
 * means no file was touched yet and is simply removed.
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

#include "ws_internal.h"

#define JOURNAL_MAGIC "pv-journal 1\n"
#define JOURNAL_MAX ((size_t)64 << 20)

void ws_journal_path(const pv_ws *ws, char *out, size_t cap)
{
    snprintf(out, cap, "%s/journal/commit", ws->pvdir);
}

int ws_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = PV_OK;
    if (fd < 0) return pv_err_errno("cannot open directory '%s'", dir);
    if (fsync(fd) != 0 && errno != EINVAL) rc = pv_err_errno("cannot sync directory '%s'", dir);
    close(fd);
    return rc;
}

int ws_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = PV_OK;
    if (!d) return errno == ENOENT ? PV_OK : pv_err_errno("cannot read '%s'", dir);
    while ((e = readdir(d)) && !rc) {
        char path[4400];
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) rc = ws_remove_tree(path);
        else if (unlink(path) != 0 && errno != ENOENT) rc = pv_err_errno("cannot remove '%s'", path);
    }
    closedir(d);
    if (!rc && rmdir(dir) != 0 && errno != ENOENT) rc = pv_err_errno("cannot remove '%s'", dir);
    return rc;
}

void ws_moved_path(const pv_ws *ws, const char *rel, char *out, size_t cap)
{
    /* tables/t/00000003.jsonl -> journal/moved-t-00000003.jsonl */
    const char *name = rel + 7, *slash = strchr(name, '/');
    snprintf(out, cap, "%s/journal/moved-%.*s-%s", ws->pvdir, slash ? (int)(slash - name) : 0, name,
             slash ? slash + 1 : name);
}

int ws_journal_write(pv_ws *ws, const ws_jop *ops, size_t n)
{
    pv_buf b = PV_BUF_INIT;
    char path[4200], dir[4200];
    size_t i;
    int rc = pv_buf_append(&b, JOURNAL_MAGIC, sizeof JOURNAL_MAGIC - 1);
    for (i = 0; i < n && !rc; i++) {
        const ws_jop *o = &ops[i];
        switch (o->kind) {
        case WS_J_SIZE: rc = pv_buf_printf(&b, "size %lld %s\n", (long long)o->size, o->path); break;
        case WS_J_SCHEMA:
            rc = pv_buf_printf(&b, "schema %zu %s\n", o->len, o->path);
            if (!rc) rc = pv_buf_append(&b, o->data, o->len);
            if (!rc) rc = pv_buf_putc(&b, '\n');
            break;
        case WS_J_CREATED: rc = pv_buf_printf(&b, "created %s\n", o->path); break;
        case WS_J_DROPPED: rc = pv_buf_printf(&b, "dropped %s\n", o->path); break;
        case WS_J_MOVED: rc = pv_buf_printf(&b, "moved %s\n", o->path); break;
        }
    }
    if (!rc) rc = pv_buf_printf(&b, "end %016llx\n", (unsigned long long)XXH3_64bits(b.p, b.len));
    snprintf(dir, sizeof dir, "%s/journal", ws->pvdir);
    ws_journal_path(ws, path, sizeof path);
    if (!rc) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) rc = pv_err_errno("cannot create '%s'", path);
        else {
            rc = pv_write_all(fd, b.p, b.len, path);
            if (!rc && ws->sync && fsync(fd) != 0) rc = pv_err_errno("cannot sync '%s'", path);
            if (close(fd) != 0 && !rc) rc = pv_err_errno("cannot close '%s'", path);
        }
    }
    if (!rc && ws->sync) rc = ws_fsync_dir(dir);
    pv_buf_free(&b);
    return rc;
}

int ws_journal_clear(pv_ws *ws)
{
    char path[4200], dir[4200];
    ws_journal_path(ws, path, sizeof path);
    if (unlink(path) != 0 && errno != ENOENT) return pv_err_errno("cannot remove '%s'", path);
    snprintf(dir, sizeof dir, "%s/journal", ws->pvdir);
    return ws->sync ? ws_fsync_dir(dir) : PV_OK;
}

int ws_journal_run(pv_ws *ws, const ws_jop *ops, size_t n, int (*step)(void *ctx, size_t i),
                   void *ctx, const char *const *dirs, size_t ndirs)
{
    size_t i;
    int rc = ws_commit_lock(ws, 1), journaled = 0;
    if (rc) return rc;
    /* a chunk rewritten or a table removed: readers are told first */
    for (i = 0; i < n && !rc; i++)
        if (ops[i].kind == WS_J_MOVED || ops[i].kind == WS_J_DROPPED) {
            rc = ws_gen_bump(ws);
            break;
        }
    if (!rc && !(rc = ws_journal_write(ws, ops, n))) journaled = 1;
    for (i = 0; i < n && !rc; i++) rc = step(ctx, i);
    for (i = 0; i < ndirs && !rc; i++) rc = ws_fsync_dir(dirs[i]);
    if (!rc) rc = ws_journal_clear(ws); /* the commit point */
    if (rc && journaled) rc = ws_journal_undo_own(ws, rc);
    ws_commit_unlock(ws);
    if (!rc) ws_journal_remove_trash(ws);
    return rc;
}

/* A path inside `.pv/tables/` as the journal names it: "tables/NAME" or
 * "tables/NAME/FILE", with nothing that could lead elsewhere. */
static int safe_path(const char *p)
{
    const char *name, *slash;
    if (strncmp(p, "tables/", 7) != 0) return 0;
    name = p + 7;
    slash = strchr(name, '/');
    if (!pv_table_name_ok(name, slash ? (size_t)(slash - name) : strlen(name))) return 0;
    if (slash && (strchr(slash + 1, '/') || !slash[1] || slash[1] == '.')) return 0;
    return 1;
}

/* Parse a complete journal into ops (pointing into `text`). Returns 1 when
 * complete, 0 when torn (no valid end line), negative on error. */
static int parse(char *text, size_t len, ws_jop **out, size_t *nout)
{
    size_t cap = 16, n = 0;
    char *p = text, *end = text + len, *endline;
    ws_jop *ops;
    unsigned long long sum;
    *out = NULL;
    *nout = 0;
    /* The last 21 bytes are "end " + 16 hex digits + "\n". */
    if (len < sizeof JOURNAL_MAGIC - 1 + 21 || memcmp(text, JOURNAL_MAGIC, sizeof JOURNAL_MAGIC - 1))
        return 0;
    endline = end - 21;
    if (endline[-1] != '\n' || memcmp(endline, "end ", 4) != 0 || end[-1] != '\n' ||
        sscanf(endline, "end %16llx", &sum) != 1 ||
        sum != (unsigned long long)XXH3_64bits(text, (size_t)(endline - text)))
        return 0;
    if (!(ops = calloc(cap, sizeof *ops))) return pv_err(PV_ENOMEM, "out of memory");
    p += sizeof JOURNAL_MAGIC - 1;
    while (p < endline) {
        char *nl = memchr(p, '\n', (size_t)(endline - p)), *sp;
        ws_jop o = {0, NULL, 0, NULL, 0};
        long long v;
        if (!nl) break;
        *nl = '\0';
        if (sscanf(p, "size %lld ", &v) == 1 && (sp = strchr(p + 5, ' '))) {
            o.kind = WS_J_SIZE, o.size = v, o.path = sp + 1;
        } else if (sscanf(p, "schema %lld ", &v) == 1 && v >= 0 && (sp = strchr(p + 7, ' ')) &&
                   (size_t)(endline - nl) > (size_t)v + 1) {
            o.kind = WS_J_SCHEMA, o.path = sp + 1, o.data = nl + 1, o.len = (size_t)v;
            nl = nl + 1 + v; /* the bytes, then their newline */
        } else if (!strncmp(p, "created ", 8)) {
            o.kind = WS_J_CREATED, o.path = p + 8;
        } else if (!strncmp(p, "dropped ", 8)) {
            o.kind = WS_J_DROPPED, o.path = p + 8;
        } else if (!strncmp(p, "moved ", 6)) {
            o.kind = WS_J_MOVED, o.path = p + 6;
        }
        if (!o.kind || !safe_path(o.path)) {
            free(ops);
            return PV_CORRUPT("journal line '%.60s' is not understood", p);
        }
        if (n == cap) {
            ws_jop *g = realloc(ops, (cap *= 2) * sizeof *g);
            if (!g) {
                free(ops);
                return pv_err(PV_ENOMEM, "out of memory");
            }
            ops = g;
        }
        ops[n++] = o;
        p = nl + 1;
    }
    *out = ops;
    *nout = n;
    return 1;
}

static int read_journal(pv_ws *ws, char **text, ws_jop **ops, size_t *n)
{
    char path[4200];
    size_t len;
    int rc;
    ws_journal_path(ws, path, sizeof path);
    *text = NULL;
    rc = pv_read_file(path, JOURNAL_MAX, text, &len);
    if (rc == PV_ENOTFOUND) return 0;
    if (rc) return rc;
    rc = parse(*text, len, ops, n);
    if (rc < 0) pv_err_prefix("'%s'", path);
    return rc == 1 ? 2 : (rc == 0 ? 1 : rc); /* 2 complete, 1 torn */
}

/* Does the journal move `path` aside (a compaction writing its chunk
 * under the name of the open chunk it moved)? */
static int moved_too(const ws_jop *ops, size_t n, const char *path)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (ops[i].kind == WS_J_MOVED && !strcmp(ops[i].path, path)) return 1;
    return 0;
}

static int undo_op(pv_ws *ws, const ws_jop *ops, size_t n, const ws_jop *o)
{
    char path[4400], trash[4400];
    snprintf(path, sizeof path, "%s/%s", ws->pvdir, o->path);
    switch (o->kind) {
    case WS_J_SIZE:
        /* A new file under a name the commit also moved aside: removing
         * it is the restore's job (the rename replaces it). Removed here,
         * a crash before the move would lose the original, which is
         * still in place then. */
        if (o->size < 0 && moved_too(ops, n, o->path)) return PV_OK;
        if (o->size < 0) {
            if (unlink(path) != 0 && errno != ENOENT) return pv_err_errno("cannot remove '%s'", path);
        } else {
            int rc = pv_truncate_nofollow(path, (uint64_t)o->size);
            if (rc && rc != PV_ENOTFOUND) return rc;
        }
        return PV_OK;
    case WS_J_SCHEMA: return ws_write_file_atomic(path, o->data, o->len, 1);
    case WS_J_CREATED: return ws_remove_tree(path);
    case WS_J_MOVED:
        ws_moved_path(ws, o->path, trash, sizeof trash);
        if (rename(trash, path) != 0 && errno != ENOENT) return pv_err_errno("cannot restore '%s'", path);
        return PV_OK;
    case WS_J_DROPPED:
        snprintf(trash, sizeof trash, "%s/journal/dropped-%s", ws->pvdir, o->path + 7);
        if (rename(trash, path) != 0 && errno != ENOENT) return pv_err_errno("cannot restore '%s'", path);
        return PV_OK;
    }
    return PV_OK;
}

/* Dropped tables wait in journal/dropped-NAME until their commit is done;
 * with no journal left, what remains there is garbage of a finished one. */
int ws_journal_remove_trash(pv_ws *ws)
{
    char dir[4200];
    DIR *d;
    struct dirent *e;
    int rc = PV_OK;
    snprintf(dir, sizeof dir, "%s/journal", ws->pvdir);
    if (!(d = opendir(dir))) return PV_OK;
    while ((e = readdir(d)) && !rc) {
        char path[4200 + 1 + 256];
        if (strncmp(e->d_name, "dropped-", 8) != 0 && strncmp(e->d_name, "moved-", 6) != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (!strncmp(e->d_name, "moved-", 6)) {
            if (unlink(path) != 0 && errno != ENOENT) rc = pv_err_errno("cannot remove '%s'", path);
        } else {
            rc = ws_remove_tree(path);
        }
    }
    closedir(d);
    return rc;
}

/* Undo the commit the journal describes, if there is one; `crash`: it was
 * left by a commit that never finished (a crash), which is said on
 * stderr, rather than by our own commit failing a moment ago. */
static int undo_journal(pv_ws *ws, int sweep, int crash)
{
    char *text = NULL;
    ws_jop *ops = NULL;
    size_t n = 0, i;
    int rc = PV_OK, had = read_journal(ws, &text, &ops, &n);
    if (had < 0) rc = had;
    if (had == 2) {
        for (i = n; i-- > 0 && !rc;) rc = undo_op(ws, ops, n, &ops[i]);
        if (!rc && crash)
            fprintf(stderr, "pv: '%s': rolled back a commit that was interrupted (%zu file changes undone)\n",
                    ws->root, n);
    }
    if (!rc && had > 0) rc = ws_journal_clear(ws); /* complete and undone, or torn */
    if (!rc && (had > 0 || sweep)) rc = ws_journal_remove_trash(ws);
    free(ops);
    free(text);
    return rc;
}

int ws_journal_recover(pv_ws *ws, int sweep) { return undo_journal(ws, sweep, 1); }

int ws_journal_undo_own(pv_ws *ws, int rc)
{
    pv_err_saved first;
    pv_err_save(&first);
    if (!undo_journal(ws, 0, 0)) return pv_err_restore(rc, &first);
    /* the journal stays, and the next writable open or transaction rolls
     * the commit back */
    return pv_err_also(rc, &first, "undoing the commit", "the next writable open rolls it back");
}

/* Read-only: an interrupted commit is hidden by reading each chunk only up
 * to its length before the commit. Schema changes cannot be hidden that
 * way: those ask for a writable open. */
int ws_journal_clip(pv_ws *ws)
{
    char *text = NULL;
    ws_jop *ops = NULL;
    size_t n = 0, i, k;
    int rc = read_journal(ws, &text, &ops, &n);
    if (rc != 2) goto done;
    rc = PV_OK;
    for (i = 0; i < n && !rc; i++) {
        const ws_jop *o = &ops[i];
        const char *name = o->path + 7, *slash = strchr(name, '/');
        ws_table *t;
        unsigned num;
        if (o->kind != WS_J_SIZE) {
            rc = PV_CORRUPT("'%s': a commit that changed more than chunk ends (a schema change or a compaction) "
                            "was interrupted; open the workspace with pvdev to roll it back",
                            ws->root);
            break;
        }
        if (!slash || sscanf(slash + 1, "%8u", &num) != 1) continue;
        {
            char tname[PV_MAX_TABLE_NAME + 1];
            snprintf(tname, sizeof tname, "%.*s", (int)(slash - name), name);
            if (!(t = ws_find(ws, tname))) continue;
        }
        for (k = 0; k < t->snap_n; k++) {
            if (t->snap_num[k] != num) continue;
            if (o->size < 0) { /* hide the new file */
                memmove(&t->snap_num[k], &t->snap_num[k + 1], (t->snap_n - k - 1) * sizeof *t->snap_num);
                memmove(&t->snap_size[k], &t->snap_size[k + 1], (t->snap_n - k - 1) * sizeof *t->snap_size);
                t->snap_n--;
            } else if ((uint64_t)o->size < t->snap_size[k]) {
                t->snap_size[k] = (uint64_t)o->size;
            }
            break;
        }
    }
done:
    free(ops);
    free(text);
    return rc < 0 ? rc : PV_OK;
}
