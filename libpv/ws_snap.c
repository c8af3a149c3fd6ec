/*
 * ws_snap.c: what a reader may read: the chunk files of each table and
 * their sizes, taken together (with the schemas) under a shared lock that
 * a committing writer holds exclusively from its journal to its end. A
 * reader therefore sees each commit whole or not at all, and waits at most
 * for one commit.
 *
 * The reader reads the chunks later, without the lock, each only up to its
 * size in the snapshot: appends land past it. A commit that rewrites or
 * removes chunk bytes (a compaction, DROP TABLE, pvdev resolve) first adds
 * one to the rewrite count in the lock's file; a reader checks the count
 * after reading (ws_read) and, when it moved, reads again from a renewed
 * snapshot or fails with PV_EBUSY, never keeping what it read
 * (docs/FORMAT.md part 1, "Commit lock").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "ws_internal.h"

/* No rewrite count: a snapshot that failed half-way matches none. */
#define GEN_NONE UINT64_MAX
/* Reads of one table that may each find the snapshot rewritten under
 * them before the reader gives up (PV_EBUSY). */
#define READ_TRIES 8

static int num_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int ws_list_chunks(pv_ws *ws, const ws_table *t, uint32_t **out, size_t *n)
{
    char dir[PV_MAX_TABLE_NAME + 16], **names;
    size_t count, i, cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    snprintf(dir, sizeof dir, "tables/%s", t->schema->name);
    if ((rc = ws->rd.list(ws->rd.ctx, dir, &names, &count))) return rc;
    for (i = 0; i < count; i++) {
        const char *name = names[i];
        unsigned num = pv_chunk_file_number(name);
        if (!num) continue;
        if (*n == cap) {
            uint32_t *g = realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof *g);
            if (!g) {
                pv_names_free(names, count);
                free(*out);
                *out = NULL;
                return pv_err(PV_ENOMEM, "out of memory");
            }
            *out = g;
        }
        (*out)[(*n)++] = num;
    }
    pv_names_free(names, count);
    if (*n > 1) qsort(*out, *n, sizeof **out, num_cmp);
    return PV_OK;
}

void ws_chunk_rel(char *out, size_t cap, const ws_table *t, uint32_t n)
{
    snprintf(out, cap, "tables/%s/%08u.jsonl", t->schema->name, n);
}

/* The commit lock's file is opened once per handle; -1 where it cannot be
 * (a read-only checkout: there can be no writer either, so no lock). */
static int commit_fd(pv_ws *ws)
{
    char path[4200];
    if (ws->commit_fd >= 0) return PV_OK;
    snprintf(path, sizeof path, "%s/journal", ws->pvdir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        if (!ws->writable && (errno == EACCES || errno == EROFS)) return PV_OK;
        return pv_err_errno("cannot create '%s'", path);
    }
    snprintf(path, sizeof path, "%s/journal/lock", ws->pvdir);
    ws->commit_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (ws->commit_fd < 0) {
        if (!ws->writable && (errno == EACCES || errno == EROFS)) return PV_OK;
        return pv_err_errno("cannot open '%s'", path);
    }
    return PV_OK;
}

int ws_commit_lock(pv_ws *ws, int exclusive)
{
    int rc;
    ws_fork_check(ws);
    if ((rc = commit_fd(ws)) || ws->commit_fd < 0) return rc;
    while (flock(ws->commit_fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
        if (errno == EINTR) continue;
        return pv_err_errno("cannot lock '%s/journal/lock'", ws->pvdir);
    }
    return PV_OK;
}

void ws_commit_unlock(pv_ws *ws)
{
    if (ws->commit_fd >= 0) flock(ws->commit_fd, LOCK_UN);
}

/* ---- the rewrite count ------------------------------------------------------ */

/* The count in the lock's file (decimal, then a newline; empty or absent:
 * 0). Read with the commit lock held, so never half written. */
static uint64_t gen_read(pv_ws *ws)
{
    char buf[32];
    ssize_t n;
    uint64_t g = 0;
    ssize_t i;
    if (ws->commit_fd < 0) return 0;
    n = pread(ws->commit_fd, buf, sizeof buf, 0);
    for (i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) g = g * 10 + (uint64_t)(buf[i] - '0');
    return g;
}

uint64_t ws_gen_read(pv_ws *ws) { return gen_read(ws); }

int ws_gen_bump(pv_ws *ws)
{
    char buf[32];
    uint64_t g;
    int n;
    if (ws->commit_fd < 0) return PV_OK; /* (no lock file: no reader to tell) */
    g = gen_read(ws) + 1;
    /* (the count only grows, so the new text covers the old) */
    n = snprintf(buf, sizeof buf, "%llu\n", (unsigned long long)g);
    if (pwrite(ws->commit_fd, buf, (size_t)n, 0) != n)
        return pv_err_errno("cannot write '%s/journal/lock'", ws->pvdir);
    ws->snap_gen = g;
    return PV_OK;
}

int ws_gen_moved(pv_ws *ws)
{
    if (!ws->posix) return 0;
    if (ws_fork_check(ws) || commit_fd(ws) != PV_OK) return 1;
    return gen_read(ws) != ws->snap_gen;
}

int ws_snap_busy(pv_ws *ws, const char *why)
{
    return pv_err(PV_EBUSY,
                  "workspace '%s' changed under this handle: another process rewrote chunks it had not read yet "
                  "(a compaction, DROP TABLE or pvdev resolve)%s; close and reopen it to read the new state",
                  ws->root, why);
}

/* Record the chunk numbers and sizes of one table. */
static int snap_table(pv_ws *ws, ws_table *t)
{
    uint32_t *nums;
    uint64_t *sizes;
    size_t n, i;
    struct stat dst;
    int rc;
    /* The directory's time first: a file added after it is seen as a
     * change by the next staleness check. */
    if (ws->posix && stat(t->dir, &dst) == 0) t->snap_dir_mtime = dst.st_mtim;
    if ((rc = ws_list_chunks(ws, t, &nums, &n))) return rc;
    sizes = malloc((n ? n : 1) * sizeof *sizes);
    if (!sizes) {
        free(nums);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    for (i = 0; i < n && !rc; i++) {
        char path[PV_MAX_TABLE_NAME + 32];
        ws_chunk_rel(path, sizeof path, t, nums[i]);
        rc = ws->rd.size(ws->rd.ctx, path, &sizes[i]);
    }
    if (rc) {
        free(nums);
        free(sizes);
        return rc;
    }
    free(t->snap_num);
    free(t->snap_size);
    t->snap_num = nums;
    t->snap_size = sizes;
    t->snap_n = n;
    return PV_OK;
}

/* A directory's time through a descriptor when there is one (no path walk:
 * the staleness check runs at every BEGIN), else its path. A directory
 * removed since the descriptor was opened has no links: it reads as zero,
 * a time no snapshot holds, so whatever took its place is seen as new. */
static void dir_mtime(int fd, const char *path, struct timespec *out)
{
    struct stat st;
    memset(out, 0, sizeof *out);
    if ((fd >= 0 ? fstat(fd, &st) : stat(path, &st)) == 0 && st.st_nlink > 0) *out = st.st_mtim;
}

static void tables_mtime(pv_ws *ws, struct timespec *out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/tables", ws->pvdir);
    dir_mtime(ws->tables_fd, path, out);
}

int ws_snapshot_locked(pv_ws *ws)
{
    uint32_t i;
    int rc = PV_OK;
    ws->snap_gen = GEN_NONE;
    if (ws->posix) {
        /* the directory as it is now, also if it was replaced since */
        char path[4200];
        snprintf(path, sizeof path, "%s/tables", ws->pvdir);
        if (ws->tables_fd >= 0) close(ws->tables_fd);
        ws->tables_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        tables_mtime(ws, &ws->tables_mtime);
    }
    for (i = 0; i < ws->ntables && !rc; i++) rc = snap_table(ws, ws->tables[i]);
    if (!rc) ws->snap_gen = gen_read(ws);
    return rc;
}

/* Our own commit wrote chunk `num` up to `size` bytes. */
int ws_snap_set(ws_table *t, uint32_t num, uint64_t size)
{
    size_t k;
    for (k = t->snap_n; k-- > 0;)
        if (t->snap_num[k] == num) {
            t->snap_size[k] = size;
            return PV_OK;
        }
    {
        uint32_t *nn = realloc(t->snap_num, (t->snap_n + 1) * sizeof *nn);
        uint64_t *ns;
        if (!nn) return pv_err(PV_ENOMEM, "out of memory");
        t->snap_num = nn;
        ns = realloc(t->snap_size, (t->snap_n + 1) * sizeof *ns);
        if (!ns) return pv_err(PV_ENOMEM, "out of memory");
        t->snap_size = ns;
    }
    t->snap_num[t->snap_n] = num;
    t->snap_size[t->snap_n] = size;
    t->snap_n++;
    return PV_OK;
}

/* After our own commit: the directory times our writes changed. */
void ws_snap_times(pv_ws *ws, ws_table *t)
{
    if (t) dir_mtime(t->dir_fd1 - 1, t->dir, &t->snap_dir_mtime);
    else tables_mtime(ws, &ws->tables_mtime);
}

static int same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Has another process committed since our snapshot? Called by a writer
 * holding `.pv/lock`, so nothing moves meanwhile. A commit adds a chunk
 * (the table directory's time changes), grows the newest one, or creates
 * or drops a table (the tables directory's time changes); git checkouts
 * and merges replace files, which changes directory times too. */
int ws_snapshot_stale(pv_ws *ws, int *stale)
{
    struct timespec now;
    uint32_t i;
    *stale = 0;
    tables_mtime(ws, &now);
    if (!same_time(now, ws->tables_mtime)) {
        *stale = 1;
        return PV_OK;
    }
    for (i = 0; i < ws->ntables && !*stale; i++) {
        ws_table *t = ws->tables[i];
        struct stat st;
        struct timespec dir_now;
        if (t->txn_created) continue;
        dir_mtime(t->dir_fd1 - 1, t->dir, &dir_now);
        if (!same_time(dir_now, t->snap_dir_mtime)) {
            *stale = 1;
            break;
        }
        if (t->snap_n && t->append_fd1 && t->append_num == t->snap_num[t->snap_n - 1]) {
            /* the directory is unchanged, so its name still leads to the
             * file we keep open: no path to walk */
            if (fstat(t->append_fd1 - 1, &st) != 0 || st.st_nlink == 0 ||
                (uint64_t)st.st_size != t->snap_size[t->snap_n - 1])
                *stale = 1;
        } else if (t->snap_n) {
            char path[4400];
            ws_chunk_path(path, sizeof path, t, t->snap_num[t->snap_n - 1]);
            if (stat(path, &st) != 0 || (uint64_t)st.st_size != t->snap_size[t->snap_n - 1]) *stale = 1;
        }
    }
    return PV_OK;
}

/* ---- reading what the snapshot holds --------------------------------------- */

/* Is the rewrite count still the snapshot's? *cur 1 or 0. */
static int snap_current(pv_ws *ws, int *cur)
{
    int rc;
    *cur = 1;
    if ((rc = ws_commit_lock(ws, 0))) return rc;
    *cur = gen_read(ws) == ws->snap_gen;
    ws_commit_unlock(ws);
    return PV_OK;
}

/* Are the tables on disk the catalog's, with the same schema files? The
 * caller holds the commit lock. */
static int catalog_same(pv_ws *ws, int *same)
{
    char **names, path[PV_MAX_TABLE_NAME + 32];
    size_t n, i, tables = 0;
    int rc, ok = 1;
    *same = 0;
    if ((rc = ws->rd.list(ws->rd.ctx, "tables", &names, &n))) return rc;
    for (i = 0; i < n && ok && !rc; i++) {
        ws_table *t = NULL;
        uint32_t k;
        char *text = NULL;
        size_t len;
        if (names[i][0] == '.' || !pv_table_name_ok(names[i], strlen(names[i]))) continue;
        tables++;
        for (k = 0; k < ws->ntables && !t; k++)
            if (!strcmp(ws->tables[k]->schema->name, names[i])) t = ws->tables[k];
        if (!t || !t->schema_hash) {
            ok = 0;
            break;
        }
        snprintf(path, sizeof path, "tables/%s/schema.jsonl", names[i]);
        rc = ws->rd.read(ws->rd.ctx, path, 16u << 20, &text, &len);
        if (rc == PV_ENOTFOUND) rc = PV_OK, ok = 0;
        else if (!rc) ok = (XXH3_64bits(text, len) | 1) == t->schema_hash;
        free(text);
    }
    pv_names_free(names, n);
    if (!rc) *same = ok && tables == ws->ntables;
    return rc;
}

/* Take the snapshot again for the same catalog: nothing has been read from
 * the old one. PV_EBUSY when the tables or schemas changed too. */
static int snap_renew(pv_ws *ws)
{
    uint32_t i;
    int rc, same;
    for (i = 0; i < ws->ntables; i++) {
        ws_point_free(ws->tables[i]);
        ws_table_unload(ws->tables[i]);
    }
    if ((rc = ws_commit_lock(ws, 0))) return rc;
    rc = catalog_same(ws, &same);
    if (!rc && !same) rc = ws_snap_busy(ws, ", and its tables or their schemas changed too");
    if (!rc) rc = ws_snapshot_locked(ws);
    if (!rc && !ws->writable) rc = ws_journal_clip(ws);
    ws_commit_unlock(ws);
    return rc;
}

static int has_rows(const ws_table *t) { return t->loaded || (t->vecs && !t->vec_dirty) || t->point; }

int ws_read(pv_ws *ws, ws_table *t, int what, int (*fn)(pv_ws *ws, ws_table *t, void *ctx),
            void (*undo)(void *ctx), void *ctx)
{
    int tries, rc;
    if (!ws->posix || ws->txn.open) {
        rc = fn(ws, t, ctx);
        if (has_rows(t)) ws->snap_read = 1;
        return rc;
    }
    for (tries = 1;; tries++) {
        int before = ws->snap_read, cur, lrc;
        rc = fn(ws, t, ctx);
        lrc = snap_current(ws, &cur);
        if (!lrc && cur) {
            if (has_rows(t)) ws->snap_read = 1;
            return rc;
        }
        /* what fn read may mix the chunks before and after a rewrite, or
         * cut a rewritten one anywhere: its result, rows, error or
         * "corruption", is not the snapshot's. Drop it. (Unchecked, for
         * the lock's error, it is dropped too.) */
        if (undo) undo(ctx);
        if (what & WS_READ_POINT) ws_point_free(t);
        if (what & WS_READ_ROWS) ws_table_unload(t);
        if (lrc) return rc < 0 ? rc : lrc;
        if (before) return ws_snap_busy(ws, " after it had read others from its snapshot");
        if (tries == READ_TRIES) return ws_snap_busy(ws, ", again at each of 8 reads");
        if ((rc = snap_renew(ws))) return rc;
    }
}
