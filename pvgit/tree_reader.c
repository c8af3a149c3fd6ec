/*
 * tree_reader.c: reading `.pv/` from a git tree through libgit2.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvgit.h"
#include "util.h"

struct pvgit_tree {
    git_repository *repo;   /* borrowed */
    git_tree *pv;           /* the .pv tree */
    char label[256];
    char commit[GIT_OID_HEXSZ + 1];
};

int pvgit_fail(int git_rc, const char *what)
{
    const git_error *e = git_error_last();
    return pv_err(git_rc == GIT_ENOTFOUND ? PV_ENOTFOUND : PV_EIO, "%s: %s", what,
                  e && e->message ? e->message : "libgit2 error");
}

int pvgit_repo_open(const char *dir, git_repository **repo, char **prefix)
{
    char here[PATH_MAX], top[PATH_MAX];
    const char *wd;
    int rc;
    *repo = NULL;
    *prefix = NULL;
    git_libgit2_init();
    rc = git_repository_open_ext(repo, dir, 0, NULL);
    if (rc == GIT_ENOTFOUND) return pv_err(PV_ENOTFOUND, "'%s' is not in a git repository", dir);
    if (rc) return pvgit_fail(rc, dir);
    wd = git_repository_workdir(*repo);
    if (!wd) { /* bare: the workspace is at the top of the tree */
        *prefix = strdup("");
    } else if (!realpath(dir, here) || !realpath(wd, top)) {
        git_repository_free(*repo);
        *repo = NULL;
        return pv_err_errno("cannot resolve '%s'", dir);
    } else {
        size_t n = strlen(top);
        const char *rest = strncmp(here, top, n) == 0 ? here + n : "";
        while (*rest == '/') rest++;
        if (asprintf(prefix, "%s%s", rest, *rest ? "/" : "") < 0) *prefix = NULL;
    }
    if (!*prefix) {
        git_repository_free(*repo);
        *repo = NULL;
        return pv_err(PV_ENOMEM, "out of memory");
    }
    return PV_OK;
}

int pvgit_commit_pv_tree(git_repository *repo, git_commit *commit, const char *prefix, const char *label,
                         git_tree **out)
{
    git_tree *root = NULL;
    git_tree_entry *e = NULL;
    char path[PATH_MAX];
    int rc;
    *out = NULL;
    if ((rc = git_commit_tree(&root, commit))) return pvgit_fail(rc, label);
    snprintf(path, sizeof path, "%s.pv", prefix);
    rc = git_tree_entry_bypath(&e, root, path);
    if (rc || git_tree_entry_type(e) != GIT_OBJECT_TREE)
        rc = pv_err(PV_ENOTFOUND, "%s has no workspace at '%s'", label, path);
    else if ((rc = git_tree_lookup(out, repo, git_tree_entry_id(e))))
        rc = pvgit_fail(rc, label);
    git_tree_entry_free(e);
    git_tree_free(root);
    return rc;
}

static int open_commit_tree(git_repository *repo, git_commit *commit, const char *prefix,
                            const char *label, pvgit_tree **out)
{
    pvgit_tree *t;
    int rc;
    *out = NULL;
    if (!(t = calloc(1, sizeof *t))) return pv_err(PV_ENOMEM, "out of memory");
    if ((rc = pvgit_commit_pv_tree(repo, commit, prefix, label, &t->pv))) {
        free(t);
        return rc;
    }
    t->repo = repo;
    snprintf(t->label, sizeof t->label, "%s", label);
    git_oid_tostr(t->commit, sizeof t->commit, git_commit_id(commit));
    *out = t;
    return PV_OK;
}

int pvgit_tree_open(git_repository *repo, const char *rev, const char *prefix, pvgit_tree **out)
{
    git_object *obj = NULL;
    git_commit *commit = NULL;
    int rc = git_revparse_single(&obj, repo, rev);
    *out = NULL;
    if (rc == GIT_ENOTFOUND) return pv_err(PV_ENOTFOUND, "unknown revision '%s'", rev);
    if (rc) return pvgit_fail(rc, rev);
    rc = git_object_peel((git_object **)&commit, obj, GIT_OBJECT_COMMIT);
    git_object_free(obj);
    if (rc) return pvgit_fail(rc, rev);
    rc = open_commit_tree(repo, commit, prefix, rev, out);
    git_commit_free(commit);
    return rc;
}

int pvgit_tree_open_oid(git_repository *repo, const git_oid *id, const char *prefix, pvgit_tree **out)
{
    git_commit *commit = NULL;
    char label[GIT_OID_HEXSZ + 1];
    int rc = git_commit_lookup(&commit, repo, id);
    git_oid_tostr(label, sizeof label, id);
    *out = NULL;
    if (rc) return pvgit_fail(rc, label);
    rc = open_commit_tree(repo, commit, prefix, label, out);
    git_commit_free(commit);
    return rc;
}

void pvgit_tree_free(pvgit_tree *t)
{
    if (!t) return;
    git_tree_free(t->pv);
    free(t);
}

const char *pvgit_tree_commit(const pvgit_tree *t) { return t->commit; }

/* The blob at a path below .pv, or PV_ENOTFOUND. */
static int lookup_blob(pvgit_tree *t, const char *path, git_blob **out)
{
    git_tree_entry *e = NULL;
    int rc = git_tree_entry_bypath(&e, t->pv, path);
    *out = NULL;
    if (rc == GIT_ENOTFOUND) return pv_err(PV_ENOTFOUND, "%s:.pv/%s: no such file", t->label, path);
    if (rc) return pvgit_fail(rc, path);
    if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
        git_tree_entry_free(e);
        return pv_err(PV_ENOTFOUND, "%s:.pv/%s is not a file", t->label, path);
    }
    rc = git_blob_lookup(out, t->repo, git_tree_entry_id(e));
    git_tree_entry_free(e);
    return rc ? pvgit_fail(rc, path) : PV_OK;
}

int pvgit_blob_copy(git_blob *b, size_t max, const char *what, char **text, size_t *len)
{
    git_object_size_t n = git_blob_rawsize(b);
    *text = NULL;
    *len = 0;
    if (n > max)
        return pv_err(PV_ELIMIT, "%s is too large (%llu bytes, limit %zu)", what,
                      (unsigned long long)n, max);
    if (!(*text = malloc((size_t)n + 1))) return pv_err(PV_ENOMEM, "out of memory");
    memcpy(*text, git_blob_rawcontent(b), (size_t)n);
    (*text)[n] = '\0';
    *len = (size_t)n;
    return PV_OK;
}

int pvgit_blob_read(git_repository *repo, const git_oid *id, size_t max, const char *what,
                    char **text, size_t *len)
{
    git_blob *b = NULL;
    int rc = git_blob_lookup(&b, repo, id);
    *text = NULL;
    *len = 0;
    if (rc) return pvgit_fail(rc, what);
    rc = pvgit_blob_copy(b, max, what, text, len);
    git_blob_free(b);
    return rc;
}

static int tree_read(void *ctx, const char *path, size_t max, char **data, size_t *len)
{
    pvgit_tree *t = ctx;
    git_blob *b;
    char what[4200];
    int rc = lookup_blob(t, path, &b);
    *data = NULL;
    *len = 0;
    if (rc) return rc;
    snprintf(what, sizeof what, "%s:.pv/%s", t->label, path);
    rc = pvgit_blob_copy(b, max, what, data, len);
    git_blob_free(b);
    return rc;
}

static int tree_list(void *ctx, const char *dir, char ***names, size_t *n)
{
    pvgit_tree *t = ctx;
    git_tree *sub = NULL;
    git_tree_entry *e = NULL;
    size_t i, count;
    int rc;
    *names = NULL;
    *n = 0;
    rc = git_tree_entry_bypath(&e, t->pv, dir);
    if (rc == GIT_ENOTFOUND) return PV_OK;
    if (rc) return pvgit_fail(rc, dir);
    if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
        git_tree_entry_free(e);
        return PV_OK;
    }
    rc = git_tree_lookup(&sub, t->repo, git_tree_entry_id(e));
    git_tree_entry_free(e);
    if (rc) return pvgit_fail(rc, dir);
    count = git_tree_entrycount(sub);
    if (!(*names = calloc(count + 1, sizeof **names))) {
        git_tree_free(sub);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    for (i = 0; i < count; i++) {
        if (!((*names)[i] = strdup(git_tree_entry_name(git_tree_entry_byindex(sub, i))))) {
            pv_names_free(*names, i);
            *names = NULL;
            git_tree_free(sub);
            return pv_err(PV_ENOMEM, "out of memory");
        }
    }
    *n = count;
    git_tree_free(sub);
    return PV_OK;
}

static int tree_size(void *ctx, const char *path, uint64_t *size)
{
    pvgit_tree *t = ctx;
    git_tree_entry *e = NULL;
    git_odb *odb = NULL;
    size_t len = 0;
    git_object_t type;
    int rc = git_tree_entry_bypath(&e, t->pv, path);
    if (rc) return rc == GIT_ENOTFOUND ? pv_err(PV_ENOTFOUND, "%s:.pv/%s: no such file", t->label, path)
                                       : pvgit_fail(rc, path);
    if (!(rc = git_repository_odb(&odb, t->repo))) rc = git_odb_read_header(&len, &type, odb, git_tree_entry_id(e));
    git_odb_free(odb);
    git_tree_entry_free(e);
    if (rc) return pvgit_fail(rc, path);
    *size = len;
    return PV_OK;
}

void pvgit_tree_reader(pvgit_tree *t, pv_ws_reader *out)
{
    out->ctx = t;
    out->label = t->label;
    out->read = tree_read;
    out->list = tree_list;
    out->size = tree_size;
}

int pvgit_ws_open(const char *dir, const char *rev, pv_ws **ws, pvgit_tree **tree, git_repository **repo)
{
    char *prefix = NULL;
    pv_ws_reader r;
    int rc;
    *ws = NULL;
    *tree = NULL;
    /* Reading objects runs nothing from the repository's config, so a
     * repository owned by another user (a CI container's checkout) is fine
     * to read: git's safe.directory guards against configured commands. */
    git_libgit2_init();
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    if ((rc = pvgit_repo_open(dir, repo, &prefix))) return rc;
    rc = pvgit_tree_open(*repo, rev, prefix, tree);
    free(prefix);
    if (rc) goto fail;
    pvgit_tree_reader(*tree, &r);
    if ((rc = pv_ws_open_reader(&r, ws))) goto fail;
    return PV_OK;
fail:
    pvgit_tree_free(*tree);
    *tree = NULL;
    git_repository_free(*repo);
    *repo = NULL;
    return rc;
}
