/*
 * vtree.c: a virtual `.pv/` of chosen file contents (see vtree.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vtree.h"

typedef struct vfile {
    char *path;
    char *data;
    size_t len;
} vfile;

struct pvgit_vtree {
    vfile *files;
    size_t n, cap;
    char label[256];
    pv_ws_reader fallback;
    int has_fallback;
};

pvgit_vtree *pvgit_vtree_new(const char *label, const pv_ws_reader *fallback)
{
    pvgit_vtree *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    snprintf(v->label, sizeof v->label, "%s", label);
    if (fallback) {
        v->fallback = *fallback;
        v->has_fallback = 1;
    }
    return v;
}

void pvgit_vtree_free(pvgit_vtree *v)
{
    size_t i;
    if (!v) return;
    for (i = 0; i < v->n; i++) {
        free(v->files[i].path);
        free(v->files[i].data);
    }
    free(v->files);
    free(v);
}

static vfile *find(const pvgit_vtree *v, const char *path)
{
    size_t i;
    for (i = 0; i < v->n; i++)
        if (!strcmp(v->files[i].path, path)) return &v->files[i];
    return NULL;
}

int pvgit_vtree_put(pvgit_vtree *v, const char *path, const char *data, size_t len)
{
    vfile *f = find(v, path);
    char *copy = malloc(len + 1);
    if (!copy) return pv_err(PV_ENOMEM, "out of memory");
    if (len) memcpy(copy, data, len);
    copy[len] = '\0';
    if (!f) {
        if (v->n == v->cap) {
            vfile *g = realloc(v->files, (v->cap = v->cap ? v->cap * 2 : 16) * sizeof *g);
            if (!g) {
                free(copy);
                return pv_err(PV_ENOMEM, "out of memory");
            }
            v->files = g;
        }
        f = &v->files[v->n];
        if (!(f->path = strdup(path))) {
            free(copy);
            return pv_err(PV_ENOMEM, "out of memory");
        }
        f->data = NULL;
        v->n++;
    }
    free(f->data);
    f->data = copy;
    f->len = len;
    return PV_OK;
}

const char *pvgit_vtree_get(const pvgit_vtree *v, const char *path, size_t *len)
{
    vfile *f = find(v, path);
    if (!f) return NULL;
    *len = f->len;
    return f->data;
}

static int v_read(void *ctx, const char *path, size_t max, char **data, size_t *len)
{
    pvgit_vtree *v = ctx;
    vfile *f = find(v, path);
    if (!f) {
        if (v->has_fallback && !strncmp(path, "blobs/", 6))
            return v->fallback.read(v->fallback.ctx, path, max, data, len);
        return pv_err(PV_ENOTFOUND, "%s:.pv/%s: no such file", v->label, path);
    }
    if (f->len > max) return pv_err(PV_ELIMIT, "%s:.pv/%s is too large", v->label, path);
    if (!(*data = malloc(f->len + 1))) return pv_err(PV_ENOMEM, "out of memory");
    memcpy(*data, f->data, f->len + 1);
    *len = f->len;
    return PV_OK;
}

/* The direct children of `dir` among the file paths. */
static int v_list(void *ctx, const char *dir, char ***names, size_t *n)
{
    pvgit_vtree *v = ctx;
    size_t dl = strlen(dir), i, k;
    *names = calloc(v->n + 1, sizeof **names);
    *n = 0;
    if (!*names) return pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < v->n; i++) {
        const char *p = v->files[i].path, *rest, *slash;
        size_t len;
        int dup = 0;
        if (strncmp(p, dir, dl) != 0 || p[dl] != '/') continue;
        rest = p + dl + 1;
        slash = strchr(rest, '/');
        len = slash ? (size_t)(slash - rest) : strlen(rest);
        for (k = 0; k < *n && !dup; k++) dup = strlen((*names)[k]) == len && !strncmp((*names)[k], rest, len);
        if (dup) continue;
        if (!((*names)[*n] = strndup(rest, len))) {
            pv_names_free(*names, *n);
            *names = NULL;
            *n = 0;
            return pv_err(PV_ENOMEM, "out of memory");
        }
        (*n)++;
    }
    return PV_OK;
}

static int v_size(void *ctx, const char *path, uint64_t *size)
{
    pvgit_vtree *v = ctx;
    vfile *f = find(v, path);
    if (!f) {
        if (v->has_fallback && !strncmp(path, "blobs/", 6)) return v->fallback.size(v->fallback.ctx, path, size);
        return pv_err(PV_ENOTFOUND, "%s:.pv/%s: no such file", v->label, path);
    }
    *size = f->len;
    return PV_OK;
}

void pvgit_vtree_reader(pvgit_vtree *v, pv_ws_reader *out)
{
    out->ctx = v;
    out->label = v->label;
    out->read = v_read;
    out->list = v_list;
    out->size = v_size;
}
