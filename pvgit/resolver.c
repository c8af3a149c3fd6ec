/*
 * resolver.c: the AS OF resolver (resolver.h): revision -> workspace read
 * from git -> table source, one workspace per distinct commit, cached until
 * pv_close. A mutex serializes lookups: one pv_db may serve many threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pvgit.h"
#include "resolver.h"
#include "util.h"

typedef struct rev_ws {
    git_oid commit;
    pvgit_tree *tree;
    pv_ws *ws;
} rev_ws;

typedef struct resolver {
    char *dir;
    git_repository *repo;   /* opened on first use */
    char *prefix;
    rev_ws *revs;
    size_t n, cap;
    pthread_mutex_t mu;
} resolver;

static void resolver_free(void *ctx)
{
    resolver *r = ctx;
    size_t i;
    if (!r) return;
    for (i = 0; i < r->n; i++) {
        pv_ws_close(r->revs[i].ws);
        pvgit_tree_free(r->revs[i].tree);
    }
    free(r->revs);
    git_repository_free(r->repo);
    free(r->prefix);
    free(r->dir);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* The workspace at the commit `rev` names, opened once. */
static int rev_workspace(resolver *r, const char *rev, pv_ws **out)
{
    git_object *obj = NULL, *commit = NULL;
    git_oid id;
    pvgit_tree *tree = NULL;
    pv_ws_reader rd;
    pv_ws *ws = NULL;
    size_t i;
    int rc;
    if (!r->repo && (rc = pvgit_repo_open(r->dir, &r->repo, &r->prefix))) return rc;
    rc = git_revparse_single(&obj, r->repo, rev);
    if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC || rc == GIT_EAMBIGUOUS)
        return pv_err(PV_ENOTFOUND, "AS OF '%s': unknown revision", rev);
    if (rc) return pvgit_fail(rc, rev);
    rc = git_object_peel(&commit, obj, GIT_OBJECT_COMMIT);
    git_object_free(obj);
    if (rc) return pvgit_fail(rc, rev);
    git_oid_cpy(&id, git_object_id(commit));
    git_object_free(commit);
    for (i = 0; i < r->n; i++)
        if (git_oid_equal(&r->revs[i].commit, &id)) {
            *out = r->revs[i].ws;
            return PV_OK;
        }
    if ((rc = pvgit_tree_open(r->repo, rev, r->prefix, &tree))) return rc;
    pvgit_tree_reader(tree, &rd);
    if ((rc = pv_ws_open_reader(&rd, &ws))) {
        pvgit_tree_free(tree);
        return rc;
    }
    if (r->n == r->cap) {
        rev_ws *b = realloc(r->revs, (r->cap = r->cap ? r->cap * 2 : 4) * sizeof *b);
        if (!b) {
            pv_ws_close(ws);
            pvgit_tree_free(tree);
            return pv_err(PV_ENOMEM, "out of memory");
        }
        r->revs = b;
    }
    git_oid_cpy(&r->revs[r->n].commit, &id);
    r->revs[r->n].tree = tree;
    r->revs[r->n].ws = ws;
    r->n++;
    *out = ws;
    return PV_OK;
}

static int resolve(void *ctx, const char *rev, const char *table, size_t len, pv_source *out)
{
    resolver *r = ctx;
    pv_ws *ws = NULL;
    int rc, i;
    pthread_mutex_lock(&r->mu);
    rc = rev_workspace(r, rev, &ws);
    if (!rc) {
        i = pv_ws_table_find(ws, table, len);
        if (i < 0) rc = pv_err(PV_ENOTFOUND, "no such table: %.*s (AS OF '%s')", (int)len, table, rev);
        else rc = pv_ws_table_source(ws, (uint32_t)i, out);
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int pvgit_install_resolver(pv_db *db, const char *dir)
{
    resolver *r = calloc(1, sizeof *r);
    if (!r || !(r->dir = strdup(dir))) {
        free(r);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&r->mu, NULL);
    pv_db_set_resolver(db, resolve, r, resolver_free);
    return PV_OK;
}
