/*
 * ws_reader.c: reading `.pv/` from the work tree (see reader.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reader.h"
#include "util.h"

void pv_names_free(char **names, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) free(names[i]);
    free(names);
}

static int posix_read(void *ctx, const char *path, size_t max, char **data, size_t *len)
{
    char full[4400];
    snprintf(full, sizeof full, "%s/%s", (const char *)ctx, path);
    return pv_read_file_nofollow(full, max, data, len);
}

static int posix_list(void *ctx, const char *dir, char ***names, size_t *n)
{
    char full[4400];
    size_t cap = 0;
    DIR *d;
    struct dirent *e;
    *names = NULL;
    *n = 0;
    snprintf(full, sizeof full, "%s/%s", (const char *)ctx, dir);
    if (!(d = opendir(full))) return errno == ENOENT ? PV_OK : pv_err_errno("cannot read '%s'", full);
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        /* a link could lead anywhere: a workspace holds plain files only */
        if (e->d_type == DT_LNK || e->d_type == DT_UNKNOWN) {
            char entry[4700];
            struct stat st;
            snprintf(entry, sizeof entry, "%s/%s", full, e->d_name);
            if (lstat(entry, &st) == 0 && S_ISLNK(st.st_mode)) {
                closedir(d);
                pv_names_free(*names, *n);
                *names = NULL;
                *n = 0;
                return pv_err(PV_ECORRUPT, "'%s' is a symbolic link; a workspace holds plain files only", entry);
            }
        }
        if (*n == cap) {
            char **g = realloc(*names, (cap = cap ? cap * 2 : 32) * sizeof *g);
            if (!g) goto nomem;
            *names = g;
        }
        if (!((*names)[*n] = strdup(e->d_name))) goto nomem;
        (*n)++;
    }
    closedir(d);
    return PV_OK;
nomem:
    closedir(d);
    pv_names_free(*names, *n);
    *names = NULL;
    *n = 0;
    return pv_err(PV_ENOMEM, "out of memory");
}

static int posix_size(void *ctx, const char *path, uint64_t *size)
{
    char full[4400];
    struct stat st;
    snprintf(full, sizeof full, "%s/%s", (const char *)ctx, path);
    if (lstat(full, &st) != 0) return pv_err_errno("cannot stat '%s'", full);
    if (S_ISLNK(st.st_mode))
        return pv_err(PV_ECORRUPT, "'%s' is a symbolic link; a workspace holds plain files only", full);
    *size = (uint64_t)st.st_size;
    return PV_OK;
}

void pv_ws_reader_posix(pv_ws_reader *r, const char *pvdir)
{
    r->ctx = (void *)pvdir;
    r->label = "worktree";
    r->read = posix_read;
    r->list = posix_list;
    r->size = posix_size;
}
