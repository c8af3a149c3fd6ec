/*
 * ws_snap.c: what a reader may read: the chunk files of each table and
 * their sizes, taken together under a shared lock that a committing writer
 * holds exclusively while it appends. A reader therefore sees each commit
 * whole or not at all, and waits at most for one commit's appends.
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

#include "ws_internal.h"

static int num_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int ws_list_chunks(const ws_table *t, uint32_t **out, size_t *n)
{
    DIR *d = opendir(t->dir);
    struct dirent *e;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (!d) return errno == ENOENT ? PV_OK : pv_err_errno("cannot read '%s'", t->dir);
    while ((e = readdir(d))) {
        unsigned num;
        if (strlen(e->d_name) != 14 || strspn(e->d_name, "0123456789") != 8 ||
            strcmp(e->d_name + 8, ".jsonl") != 0 || sscanf(e->d_name, "%8u", &num) != 1 || num == 0)
            continue;
        if (*n == cap) {
            uint32_t *g = realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof *g);
            if (!g) {
                closedir(d);
                free(*out);
                *out = NULL;
                return pv_err(PV_ENOMEM, "out of memory");
            }
            *out = g;
        }
        (*out)[(*n)++] = num;
    }
    closedir(d);
    if (*n > 1) qsort(*out, *n, sizeof **out, num_cmp);
    return PV_OK;
}

int ws_commit_lock(const pv_ws *ws, int exclusive, int *fd)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/journal", ws->pvdir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        /* A read-only checkout (CI, another user's repository): there can
         * be no writer either, so no lock is needed. */
        if (!exclusive && (errno == EACCES || errno == EROFS)) {
            *fd = -1;
            return PV_OK;
        }
        return pv_err_errno("cannot create '%s'", path);
    }
    snprintf(path, sizeof path, "%s/journal/lock", ws->pvdir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0) {
        if (!exclusive && (errno == EACCES || errno == EROFS)) return PV_OK;
        return pv_err_errno("cannot open '%s'", path);
    }
    while (flock(*fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
        if (errno == EINTR) continue;
        close(*fd);
        *fd = -1;
        return pv_err_errno("cannot lock '%s'", path);
    }
    return PV_OK;
}

void ws_commit_unlock(int fd)
{
    if (fd >= 0) close(fd); /* closing releases the flock */
}

/* Record the chunk numbers and sizes of one table. */
static int snap_table(ws_table *t)
{
    uint32_t *nums;
    uint64_t *sizes;
    size_t n, i;
    int rc = ws_list_chunks(t, &nums, &n);
    if (rc) return rc;
    sizes = malloc((n ? n : 1) * sizeof *sizes);
    if (!sizes) {
        free(nums);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    for (i = 0; i < n; i++) {
        char path[4400];
        struct stat st;
        ws_chunk_path(path, sizeof path, t, nums[i]);
        if (stat(path, &st) != 0) {
            rc = pv_err_errno("cannot stat '%s'", path);
            break;
        }
        sizes[i] = (uint64_t)st.st_size;
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

int ws_snapshot_locked(pv_ws *ws)
{
    uint32_t i;
    int rc = PV_OK;
    for (i = 0; i < ws->ntables && !rc; i++) rc = snap_table(ws->tables[i]);
    return rc;
}

int ws_snapshot(pv_ws *ws)
{
    int fd, rc = ws_commit_lock(ws, 0, &fd);
    if (rc) return rc;
    rc = ws_snapshot_locked(ws);
    /* A commit that crashed left its journal: read around it. */
    if (!rc && !ws->writable) rc = ws_journal_clip(ws);
    ws_commit_unlock(fd);
    return rc;
}

/* Has another process committed to a loaded table since our snapshot?
 * Called by a writer holding `.pv/lock`, so nothing moves meanwhile. */
int ws_snapshot_stale(pv_ws *ws, int *stale)
{
    uint32_t i;
    *stale = 0;
    for (i = 0; i < ws->ntables && !*stale; i++) {
        ws_table *t = ws->tables[i];
        uint32_t *nums;
        size_t n, k;
        int rc;
        if (!t->loaded || t->txn_created) continue;
        if ((rc = ws_list_chunks(t, &nums, &n))) return rc;
        if (n != t->snap_n || (n && memcmp(nums, t->snap_num, n * sizeof *nums) != 0)) *stale = 1;
        for (k = 0; k < n && !*stale; k++) {
            char path[4400];
            struct stat st;
            ws_chunk_path(path, sizeof path, t, nums[k]);
            if (stat(path, &st) != 0 || (uint64_t)st.st_size != t->snap_size[k]) *stale = 1;
        }
        free(nums);
    }
    return PV_OK;
}
