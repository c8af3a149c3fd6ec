/*
 * merge_vbase.c: the virtual base of a criss-cross merge (merge_vbase.h).
 *
 * With two merge bases, git first merges them into a virtual base, running
 * the driver for the files both changed, and then hands the outer merge's
 * driver that virtual base's version as %O: a blob no commit holds. Merging
 * the outer file alone loses changes whose records live in other chunks (a
 * delete of a row in a sealed chunk came back), so the driver rebuilds the
 * virtual base of the table the same way git built it, and uses it once its
 * version of the file is exactly the %O git handed over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "merge.h"
#include "merge_schema.h"
#include "merge_vbase.h"
#include "pvgit.h"
#include "util.h"

typedef struct vside {
    git_commit *commit;
    git_tree *root;
    git_tree *dir;    /* <prefix>.pv/tables/<table>, NULL when absent */
} vside;

int pvgit_objects_in_memory(git_repository *repo)
{
    git_odb *odb = NULL;
    git_odb_backend *mp = NULL;
    int rc;
    if ((rc = git_repository_odb(&odb, repo))) return pvgit_fail(rc, "the object database");
    if (!(rc = git_mempack_new(&mp)) && (rc = git_odb_add_backend(odb, mp, 1000)) != 0) mp->free(mp);
    git_odb_free(odb);
    return rc ? pvgit_fail(rc, "an in-memory object store") : PV_OK;
}

static int open_vside(git_repository *repo, const git_oid *id, const char *dirpath, vside *out)
{
    git_tree_entry *e = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    if ((rc = git_commit_lookup(&out->commit, repo, id)) || (rc = git_commit_tree(&out->root, out->commit)))
        return pvgit_fail(rc, "a merge base");
    if (git_tree_entry_bypath(&e, out->root, dirpath) == 0) {
        if (git_tree_entry_type(e) == GIT_OBJECT_TREE && (rc = git_tree_lookup(&out->dir, repo, git_tree_entry_id(e))))
            rc = pvgit_fail(rc, dirpath);
        git_tree_entry_free(e);
    }
    return rc;
}

static void vside_free(vside *s)
{
    git_tree_free(s->dir);
    git_tree_free(s->root);
    git_commit_free(s->commit);
}

static const git_oid *vid(const vside *s, const char *name)
{
    const git_tree_entry *e = s->dir ? git_tree_entry_byname(s->dir, name) : NULL;
    return e && git_tree_entry_type(e) == GIT_OBJECT_BLOB ? git_tree_entry_id(e) : NULL;
}

static int same(const git_oid *a, const git_oid *b) { return a && b ? git_oid_equal(a, b) : a == b; }

/* schema.jsonl changed on both sides: merged as the driver merges it
 * (conflicts settled as ours has them; ours' text when even that fails). */
static int schema_both(git_repository *repo, const char *table, const git_oid *const ids[3], git_oid *out)
{
    git_blob *blob[3] = {NULL, NULL, NULL};
    const char *texts[3] = {NULL, NULL, NULL};
    size_t lens[3] = {0, 0, 0}, len = 0;
    pv_buf conflicts = PV_BUF_INIT;
    char *merged = NULL;
    int k, rc = PV_OK;
    for (k = 0; k < 3 && !rc; k++)
        if (ids[k]) {
            if ((rc = git_blob_lookup(&blob[k], repo, ids[k]))) rc = pvgit_fail(rc, "a schema");
            else texts[k] = git_blob_rawcontent(blob[k]), lens[k] = (size_t)git_blob_rawsize(blob[k]);
        }
    if (!rc) rc = pvgit_schema_merge_ours(table, texts, lens, &merged, &len, &conflicts);
    if (rc == PV_ECONSTRAINT && merged) rc = PV_OK; /* written so by the inner run too */
    if (rc == PV_ECONSTRAINT) {
        git_oid_cpy(out, ids[1]);
        rc = PV_OK;
    } else if (!rc && (rc = git_blob_create_from_buffer(out, repo, merged, len))) {
        rc = pvgit_fail(rc, "writing the virtual base's schema");
    }
    for (k = 0; k < 3; k++) git_blob_free(blob[k]);
    pv_buf_free(&conflicts);
    free(merged);
    return rc;
}

typedef struct updates {
    git_tree_update *v;
    char **paths;
    size_t n, cap;
} updates;

static int add_update(updates *u, const char *dirpath, const char *name, const git_oid *id)
{
    git_tree_update *t;
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 64;
        git_tree_update *v = realloc(u->v, cap * sizeof *v);
        char **p = v ? realloc(u->paths, cap * sizeof *p) : NULL;
        if (v) u->v = v;
        if (!p) return pv_err(PV_ENOMEM, "out of memory");
        u->paths = p;
        u->cap = cap;
    }
    t = &u->v[u->n];
    memset(t, 0, sizeof *t);
    if (asprintf(&u->paths[u->n], "%s/%s", dirpath, name) < 0) return pv_err(PV_ENOMEM, "out of memory");
    t->path = u->paths[u->n++];
    t->action = id ? GIT_TREE_UPDATE_UPSERT : GIT_TREE_UPDATE_REMOVE;
    t->filemode = GIT_FILEMODE_BLOB;
    if (id) git_oid_cpy(&t->id, id);
    return PV_OK;
}

static void updates_free(updates *u)
{
    size_t i;
    for (i = 0; i < u->n; i++) free(u->paths[i]);
    free(u->paths);
    free(u->v);
}

/* blobs/ of the virtual base: the union of x's and y's, as git's inner
 * merge makes it (a blob file is named by its content, so one both added
 * is the same file). x's tree holds x's already; y's files x lacks are
 * added: a row y brought may refer to them. */
typedef struct blob_walk {
    git_repository *repo;
    git_tree *x_blobs;      /* x's <prefix>.pv/blobs, NULL when absent */
    const char *dirpath;    /* "<prefix>.pv/blobs" */
    updates *u;
    int rc;
} blob_walk;

static int blob_entry(const char *root, const git_tree_entry *e, void *payload)
{
    blob_walk *w = payload;
    git_tree_entry *have = NULL;
    char rel[600];
    if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) return 0;
    snprintf(rel, sizeof rel, "%s%s", root, git_tree_entry_name(e));
    if (w->x_blobs && git_tree_entry_bypath(&have, w->x_blobs, rel) == 0) {
        git_tree_entry_free(have);
        return 0;
    }
    if ((w->rc = add_update(w->u, w->dirpath, rel, git_tree_entry_id(e)))) return -1;
    return 0;
}

static int blobs_union(git_repository *repo, const char *prefix, const vside *x, const vside *y, updates *u)
{
    git_tree_entry *ex = NULL, *ey = NULL;
    git_tree *tx = NULL, *ty = NULL;
    char dirpath[4400];
    blob_walk w;
    int rc = PV_OK;
    snprintf(dirpath, sizeof dirpath, "%s.pv/blobs", prefix);
    if (git_tree_entry_bypath(&ey, y->root, dirpath)) return PV_OK; /* y has none */
    (void)git_tree_entry_bypath(&ex, x->root, dirpath);
    if (ex && git_oid_equal(git_tree_entry_id(ex), git_tree_entry_id(ey))) goto done;
    if (git_tree_entry_type(ey) != GIT_OBJECT_TREE || (rc = git_tree_lookup(&ty, repo, git_tree_entry_id(ey)))) {
        rc = rc ? pvgit_fail(rc, dirpath) : PV_OK;
        goto done;
    }
    if (ex && git_tree_entry_type(ex) == GIT_OBJECT_TREE && (rc = git_tree_lookup(&tx, repo, git_tree_entry_id(ex)))) {
        rc = pvgit_fail(rc, dirpath);
        goto done;
    }
    memset(&w, 0, sizeof w);
    w.repo = repo;
    w.x_blobs = tx;
    w.dirpath = dirpath;
    w.u = u;
    rc = git_tree_walk(ty, GIT_TREEWALK_PRE, blob_entry, &w);
    rc = w.rc ? w.rc : rc ? pvgit_fail(rc, dirpath) : PV_OK;
done:
    git_tree_free(tx);
    git_tree_free(ty);
    git_tree_entry_free(ex);
    git_tree_entry_free(ey);
    return rc;
}

/* One file of the table: which version the virtual base holds, as git's
 * inner merge picks it; an update where that is not x's. */
static int pick(git_repository *repo, const char *table, const char *dirpath, const char *name, const vside s[3],
                const char *hfile, const git_oid *hblob, updates *u)
{
    const git_oid *ids[3] = {vid(&s[0], name), vid(&s[1], name), vid(&s[2], name)}, *use;
    git_oid merged;
    int rc;
    if (same(ids[1], ids[2]) || same(ids[2], ids[0])) use = ids[1];
    else if (same(ids[1], ids[0])) use = ids[2];
    else if (!ids[1] || !ids[2]) use = ids[0]; /* modify/delete: an inner merge keeps the base's (merge-ort) */
    else if (!strcmp(name, "schema.jsonl")) {
        if ((rc = schema_both(repo, table, ids, &merged))) return rc;
        use = &merged;
    } else use = hfile && !strcmp(name, hfile) ? hblob : ids[1];
    return same(use, ids[1]) ? PV_OK : add_update(u, dirpath, name, use);
}

static int each_name(git_repository *repo, const char *table, const char *dirpath, const vside s[3],
                     const char *hfile, const git_oid *hblob, updates *u)
{
    size_t i, n;
    int k, rc = PV_OK;
    for (k = 0; k < 3 && !rc; k++) {
        n = s[k].dir ? git_tree_entrycount(s[k].dir) : 0;
        for (i = 0; i < n && !rc; i++) {
            const char *name = git_tree_entry_name(git_tree_entry_byindex(s[k].dir, i));
            int seen = 0, m;
            for (m = 0; m < k; m++) seen |= vid(&s[m], name) != NULL;
            if (!seen) rc = pick(repo, table, dirpath, name, s, hfile, hblob, u);
        }
    }
    return rc;
}

int pvgit_vbase_make(git_repository *repo, const char *prefix, const char *table, const git_oid *base,
                     const git_oid *x, const git_oid *y, git_oid *out)
{
    pvgit_commits c;
    vside s[3];
    updates u = {NULL, NULL, 0, 0};
    git_signature *sig = NULL;
    git_tree *tree = NULL;
    git_oid tree_id, hblob;
    const git_commit *parents[2];
    char dirpath[4400], *hpath = NULL, *bytes = NULL;
    const char *hfile = NULL;
    size_t len = 0;
    int k, rc;
    memset(s, 0, sizeof s);
    memset(&c, 0, sizeof c);
    git_oid_cpy(&c.base, base);
    git_oid_cpy(&c.ours, x);
    git_oid_cpy(&c.theirs, y);
    snprintf(dirpath, sizeof dirpath, "%s.pv/tables/%s", prefix, table);
    for (k = 0, rc = PV_OK; k < 3 && !rc; k++) rc = open_vside(repo, k == 0 ? &c.base : k == 1 ? x : y, dirpath, &s[k]);
    if (!rc) {
        rc = pvgit_merge_table_at(repo, &c, prefix, table, &hpath, &bytes, &len);
        if (rc == PV_ECONSTRAINT) rc = PV_OK; /* the schema conflicts: git's inner merge kept ours' chunk */
    }
    if (!rc && hpath) {
        hfile = strrchr(hpath, '/') + 1;
        if ((rc = git_blob_create_from_buffer(&hblob, repo, bytes, len))) rc = pvgit_fail(rc, "writing the virtual base");
    }
    if (!rc) rc = each_name(repo, table, dirpath, s, hfile, &hblob, &u);
    if (!rc) rc = blobs_union(repo, prefix, &s[1], &s[2], &u);
    if (!rc && (rc = git_tree_create_updated(&tree_id, repo, s[1].root, u.n, u.v)))
        rc = pvgit_fail(rc, "writing the virtual base's tree");
    if (!rc && (rc = git_tree_lookup(&tree, repo, &tree_id))) rc = pvgit_fail(rc, "the virtual base's tree");
    if (!rc && (rc = git_signature_new(&sig, "pvdev", "pvdev@localhost", 0, 0))) rc = pvgit_fail(rc, "a signature");
    parents[0] = s[1].commit;
    parents[1] = s[2].commit;
    if (!rc && (rc = git_commit_create(out, repo, NULL, sig, sig, NULL, "virtual merge base", tree, 2, parents)))
        rc = pvgit_fail(rc, "writing the virtual base");
    updates_free(&u);
    git_signature_free(sig);
    git_tree_free(tree);
    for (k = 0; k < 3; k++) vside_free(&s[k]);
    free(hpath);
    free(bytes);
    return rc;
}
