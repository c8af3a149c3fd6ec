/*
 * merge_sides.c: the sides of a table merge, reading only what changed
 * (merge_sides.h; the argument is in docs/GIT.md, "Reading only what
 * changed").
 *
 * 1. List the table's files on base, ours and theirs from the trees (blob
 *    ids only, nothing read).
 * 2. The schema every side is read with: the merged one.
 * 3. Chunks that are not one blob on all three sides ("differing") go into
 *    the side trees whole, and every key they mention into a key set.
 * 4. Chunks that are ("shared") are read once, and only their lines of
 *    those keys are kept, in all four trees at the same chunk number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunkline.h"
#include "merge_keys.h"
#include "merge_retype.h"
#include "merge_sides.h"
#include "schema_file.h"
#include "util.h"
#include "wtindex.h"

#define FILE_MAX ((size_t)1 << 30)

typedef struct shared_chunk {
    unsigned num;
    git_oid id;
    char name[16];
} shared_chunk;

typedef struct chunk_list {
    shared_chunk *v;
    size_t n, cap;
} chunk_list;

typedef struct build {
    git_repository *repo;
    const char *table;
    char dir[128];                /* "tables/<t>" */
    git_tree *sub[3];             /* tables/<t> on each side, NULL when absent */
    pv_schema *schema;            /* the merged schema */
    pv_schema *own[3];            /* each side's schema when both changed it (values may need converting) */
    pvgit_keyset keys;
    chunk_list shared, differing;  /* chunk files, by blob ids */
    unsigned hnum;                 /* the receiving chunk's number */
    int theirs_compacted;          /* theirs removed a chunk ours kept as the base had it */
    pvgit_wtindex wt;              /* the work tree's clean files (none in a bare repository) */
    char wtpv[4200], relpv[300];   /* "<work tree>/<prefix>.pv/", "<prefix>.pv/" */
    pvgit_merge_sides *o;
} build;

static const char *const side_label[3] = {"base", "ours", "theirs"};

/* ---- trees and blobs -------------------------------------------------------- */

static int open_side(build *b, int k, const git_oid *commit, const char *prefix)
{
    git_commit *cm = NULL;
    git_tree *pvt = NULL;
    git_tree_entry *e = NULL;
    pv_ws_reader r;
    char *fmt = NULL;
    size_t len;
    int rc;
    if ((rc = pvgit_tree_open_oid(b->repo, commit, prefix, &b->o->tree[k])))
        return rc == PV_ENOTFOUND && k == 0 ? PV_OK : rc; /* the base may predate the workspace */
    if ((rc = git_commit_lookup(&cm, b->repo, commit))) return pvgit_fail(rc, side_label[k]);
    rc = pvgit_commit_pv_tree(b->repo, cm, prefix, side_label[k], &pvt);
    git_commit_free(cm);
    if (rc) return rc;
    if (git_tree_entry_bypath(&e, pvt, b->dir) == 0) {
        if (git_tree_entry_type(e) == GIT_OBJECT_TREE && (rc = git_tree_lookup(&b->sub[k], b->repo, git_tree_entry_id(e))))
            rc = pvgit_fail(rc, b->dir);
        git_tree_entry_free(e);
    }
    git_tree_free(pvt);
    if (rc) return rc;
    pvgit_tree_reader(b->o->tree[k], &r);
    if (!(b->o->vt[k] = pvgit_vtree_new(side_label[k], &r))) return pv_err(PV_ENOMEM, "out of memory");
    if ((rc = r.read(r.ctx, "format", 4096, &fmt, &len))) return rc;
    rc = pvgit_vtree_put(b->o->vt[k], "format", fmt, len);
    free(fmt);
    return rc;
}

/* The blob id of a file of the table on side k; NULL when absent. */
static const git_oid *file_id(const build *b, int k, const char *name)
{
    const git_tree_entry *e = b->sub[k] ? git_tree_entry_byname(b->sub[k], name) : NULL;
    return e && git_tree_entry_type(e) == GIT_OBJECT_BLOB ? git_tree_entry_id(e) : NULL;
}

static int same_id(const git_oid *a, const git_oid *b) { return a && b ? git_oid_equal(a, b) : a == b; }

static int blob_get(build *b, const git_oid *id, git_blob **out, const char **p, size_t *n)
{
    int rc = git_blob_lookup(out, b->repo, id);
    if (rc) return pvgit_fail(rc, "reading a chunk");
    *p = git_blob_rawcontent(*out);
    *n = (size_t)git_blob_rawsize(*out);
    return PV_OK;
}

/* ---- the schema ----------------------------------------------------------------- */

static int merged_schema(build *b, pvgit_schema_merge_fn fn, void *ctx)
{
    const git_oid *id[3];
    git_blob *blob[3] = {NULL, NULL, NULL};
    const char *text[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0};
    char *mine = NULL, rel[160];
    const char *use;
    size_t uselen;
    int k, rc = PV_OK;
    for (k = 0; k < 3 && !rc; k++)
        if ((id[k] = file_id(b, k, "schema.jsonl"))) rc = blob_get(b, id[k], &blob[k], &text[k], &len[k]);
    if (rc) goto done;
    if (!text[1] || !text[2]) {
        rc = pv_err(PV_ECONSTRAINT, "table %s: dropped on one side and changed on the other", b->table);
        goto done;
    }
    if (same_id(id[1], id[2]) || same_id(id[2], id[0])) use = text[1], uselen = len[1];
    else if (same_id(id[1], id[0])) use = text[2], uselen = len[2];
    else {
        b->o->schema_both = 1;
        if ((rc = fn(ctx, text, len, &mine, &uselen))) goto done;
        use = mine;
        /* a column the sides typed differently (settled as ours): its
         * values are converted when a chunk is read (merge_retype.c) */
        for (k = 0; k < 3 && !rc; k++)
            if (text[k] && (rc = pv_schema_decode(text[k], len[k], b->table, side_label[k], &b->own[k])))
                pv_err_prefix("%s:.pv/%s/schema.jsonl", side_label[k], b->dir);
        if (rc) goto done;
    }
    snprintf(rel, sizeof rel, "%s/schema.jsonl", b->dir);
    for (k = 0; k < 3 && !rc; k++)
        if (b->o->vt[k] && text[k]) rc = pvgit_vtree_put(b->o->vt[k], rel, use, uselen);
    if (!rc) rc = pvgit_vtree_put(b->o->merged, rel, use, uselen);
    if (!rc) rc = pv_schema_decode(use, uselen, b->table, "the merged schema.jsonl", &b->schema);
done:
    for (k = 0; k < 3; k++) git_blob_free(blob[k]);
    free(mine);
    return rc;
}

/* ---- differing chunks --------------------------------------------------------------- */

/* Each line of a chunk; a torn last line (no newline) is left out, as the
 * loader leaves it out of the newest chunk. */
typedef int (*line_fn)(build *b, void *ctx, const char *line, size_t len, size_t lineno);

static int each_line(build *b, const char *p, size_t n, line_fn fn, void *ctx, const char *what)
{
    const char *end = p + n, *nl;
    size_t lineno = 0;
    int rc;
    for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1)
        if ((rc = fn(b, ctx, p, (size_t)(nl - p), ++lineno)) < 0) {
            if (rc != PV_ENOMEM) pv_err_prefix("%s line %zu", what, lineno);
            return rc;
        }
    return PV_OK;
}

static int collect_key(build *b, void *ctx, const char *line, size_t len, size_t lineno)
{
    pvgit_keycut *c = ctx;
    int rc = pvgit_keycut_line(c, line, len);
    (void)lineno;
    if (rc == 1) rc = pvgit_keyset_add(&b->keys, c->kb.p, c->kb.len);
    return rc;
}

static int collect_keys(build *b, const char *p, size_t n, const char *what)
{
    pvgit_keycut c;
    int rc;
    pvgit_keycut_init(&c, b->schema);
    rc = each_line(b, p, n, collect_key, &c, what);
    pvgit_keycut_free(&c);
    return rc;
}

/* Is `now` `was` with lines appended (or the same)? Not when `was` is
 * absent. */
static int appended(const char *was, size_t nwas, const char *now, size_t nnow)
{
    return was && now && nnow >= nwas && memcmp(was, now, nwas) == 0;
}

/* Does the chunk start with the header of a compaction (version 2)? */
static int compacted(const char *text, size_t len)
{
    static const char v2[] = "{\"pv\":2,";
    return text && len >= sizeof v2 - 1 && memcmp(text, v2, sizeof v2 - 1) == 0;
}

/* A chunk that is not the same blob on all three sides: each side's
 * version into its tree, the merged set's choice (as git makes it) into
 * the merged tree, and its keys into the set. */
static int differing_chunk(build *b, const char *name, const git_oid *const id[3])
{
    char rel[160], what[300];
    const char *text[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0};
    git_blob *blob[3] = {NULL, NULL, NULL};
    pv_buf conv[3] = {PV_BUF_INIT, PV_BUF_INIT, PV_BUF_INIT};
    int k, from, rc = PV_OK;
    snprintf(rel, sizeof rel, "%s/%s", b->dir, name);
    if (same_id(id[1], id[2]) || same_id(id[2], id[0])) from = 1;  /* ours */
    else if (same_id(id[1], id[0])) from = 2;                      /* theirs */
    else from = 3;                                                 /* both changed */
    if (from == 3 && !id[1]) return pv_err(PV_ECONSTRAINT, "%s: deleted on our side and changed on theirs", rel);
    for (k = 0; k < 3 && !rc; k++) {
        if (!id[k] || !b->o->vt[k]) continue;
        if ((rc = blob_get(b, id[k], &blob[k], &text[k], &len[k]))) break;
        snprintf(what, sizeof what, "%s:.pv/%s", side_label[k], rel);
        if (b->own[k] && pvgit_retype_needed(b->own[k], b->schema)) {
            rc = pvgit_retype_chunk(b->own[k], b->schema, text[k], len[k], what, side_label[k], &conv[k],
                                    &b->o->retype);
            if (rc) break;
            /* git takes this file as it is: the result could not read it */
            if (k == from && (conv[k].len != len[k] || memcmp(conv[k].p, text[k], len[k]) != 0)) {
                rc = pv_err(PV_ECONSTRAINT, "table %s: %s comes from %s unchanged, with values in a type the settled "
                            "schema does not give their column (rows not merged: resolve by hand)",
                            b->table, what, side_label[k]);
                break;
            }
            text[k] = conv[k].p ? conv[k].p : "";
            len[k] = conv[k].len;
        }
        rc = pvgit_vtree_put(b->o->vt[k], rel, text[k], len[k]);
        /* a version seen on an earlier side has given its keys already */
        if (!rc && !(k > 0 && same_id(id[k], id[k - 1])) && !(k == 2 && same_id(id[2], id[0])))
            rc = collect_keys(b, text[k], len[k], what);
    }
    /* Git keeps ours' bytes of a file both sides changed, but the
     * receiving chunk's are the driver's to write: after theirs compacted
     * the table, theirs' bytes hold what the compaction kept (or, from a
     * pvdev that removed chunks, the rows of the chunks git removes),
     * which would otherwise all be appended again. Theirs compacted this
     * chunk when it rewrote it under a compacted header (chunk version 2)
     * while ours only appended to it. */
    k = 1;
    if (from != 3) k = from;
    else if (b->o->hpath && !strcmp(rel, b->o->hpath) &&
             (b->theirs_compacted || (appended(text[0], len[0], text[1], len[1]) &&
                                      !appended(text[0], len[0], text[2], len[2]) && compacted(text[2], len[2]))))
        k = 2;
    if (!rc && text[k]) rc = pvgit_vtree_put(b->o->merged, rel, text[k], len[k]);
    for (k = 0; k < 3; k++) {
        git_blob_free(blob[k]);
        pv_buf_free(&conv[k]);
    }
    return rc;
}

/* ---- shared chunks ------------------------------------------------------------------ */

typedef struct filter {
    pvgit_keycut cut;
    pv_buf out;
    size_t kept;             /* records kept (headers aside) */
} filter;

/* The header lines stay (a continuation header names the columns of the
 * lines after it), and the records of the keys in the set. */
static int keep_line(build *b, void *ctx, const char *line, size_t len, size_t lineno)
{
    filter *f = ctx;
    int rc = pvgit_keycut_line(&f->cut, line, len), keep;
    if (rc < 0) return rc;
    keep = rc == 1 && pvgit_keyset_has(&b->keys, f->cut.kb.p, f->cut.kb.len);
    f->kept += (size_t)keep;
    if (keep || lineno == 1 || (rc == 0 && pv_chunk_line_is_header(line, len))) {
        if ((rc = pv_buf_append(&f->out, line, len)) || (rc = pv_buf_putc(&f->out, '\n'))) return rc;
    }
    return PV_OK;
}

/* The work tree's copy of a chunk when git's index says it is clean and
 * holds blob `id`: 1 and *out (malloc'd), else 0. Reading the file costs
 * less than inflating the object (the shared chunks are most of a big
 * table); during a merge the work tree is ours', which holds every shared
 * chunk. */
static int clean_copy(build *b, const char *rel, const git_oid *id, char **out, size_t *len)
{
    char irel[4400], path[4400];
    git_oid wid;
    if (!b->wt.index) return 0;
    snprintf(irel, sizeof irel, "%s%s", b->relpv, rel);
    snprintf(path, sizeof path, "%s%s", b->wtpv, rel);
    if (!pvgit_wtindex_clean_id(&b->wt, irel, path, &wid) || !git_oid_equal(&wid, id)) return 0;
    return pv_read_file(path, FILE_MAX, out, len) == PV_OK;
}

static int shared_chunk_scan(build *b, const shared_chunk *sc)
{
    char rel[160], what[300], *copy = NULL;
    git_blob *blob = NULL;
    const char *text = NULL;
    size_t len = 0;
    filter f;
    int k, rc;
    snprintf(rel, sizeof rel, "%s/%s", b->dir, sc->name);
    snprintf(what, sizeof what, "ours:.pv/%s", rel);
    if (clean_copy(b, rel, &sc->id, &copy, &len)) {
        text = copy;
        b->o->from_worktree++;
    } else if ((rc = blob_get(b, &sc->id, &blob, &text, &len))) {
        return rc;
    }
    memset(&f, 0, sizeof f);
    pvgit_keycut_init(&f.cut, b->schema);
    rc = each_line(b, text, len, keep_line, &f, what);
    /* a chunk holding none of the keys changes no state: left out */
    if (!rc && f.kept)
        for (k = 0; k < 4 && !rc; k++) {
            pvgit_vtree *vt = k < 3 ? b->o->vt[k] : b->o->merged;
            if (vt) rc = pvgit_vtree_put(vt, rel, f.out.p, f.out.len);
        }
    pvgit_keycut_free(&f.cut);
    pv_buf_free(&f.out);
    git_blob_free(blob);
    free(copy);
    return rc;
}

static int add_chunk(chunk_list *l, const char *name, const git_oid *id)
{
    shared_chunk *sc;
    if (l->n == l->cap) {
        shared_chunk *g = realloc(l->v, (l->cap = l->cap ? l->cap * 2 : 64) * sizeof *g);
        if (!g) return pv_err(PV_ENOMEM, "out of memory");
        l->v = g;
    }
    sc = &l->v[l->n++];
    sc->num = pv_chunk_file_number(name);
    if (id) git_oid_cpy(&sc->id, id);
    snprintf(sc->name, sizeof sc->name, "%s", name);
    return PV_OK;
}

/* Every chunk file name on any side, once, sorted into shared and
 * differing by blob id alone; the receiving chunk is chosen here. */
static int each_chunk(build *b)
{
    int k, s, rc = PV_OK;
    size_t i;
    for (k = 0; k < 3 && !rc; k++) {
        if (!b->sub[k]) continue;
        for (i = 0; i < git_tree_entrycount(b->sub[k]) && !rc; i++) {
            const char *name = git_tree_entry_name(git_tree_entry_byindex(b->sub[k], i));
            const git_oid *id[3];
            int seen = 0;
            if (!pv_chunk_file_number(name)) continue;
            for (s = 0; s < k; s++) seen |= file_id(b, s, name) != NULL;
            if (seen) continue;
            for (s = 0; s < 3; s++) id[s] = file_id(b, s, name);
            if (id[0] && same_id(id[0], id[1]) && same_id(id[0], id[2])) {
                rc = add_chunk(&b->shared, name, id[0]);
                continue;
            }
            if (id[0] && same_id(id[0], id[1]) && !id[2]) b->theirs_compacted = 1;
            rc = add_chunk(&b->differing, name, id[0]);
            if (!rc && !same_id(id[1], id[2]) && !same_id(id[2], id[0]) && !same_id(id[1], id[0]) &&
                pv_chunk_file_number(name) > b->hnum) { /* changed on both sides */
                b->hnum = pv_chunk_file_number(name);
                free(b->o->hpath);
                if (asprintf(&b->o->hpath, "%s/%s", b->dir, name) < 0) {
                    b->o->hpath = NULL;
                    rc = pv_err(PV_ENOMEM, "out of memory");
                }
            }
        }
    }
    return rc;
}

static int read_differing(build *b)
{
    size_t i;
    int s, rc = PV_OK;
    for (i = 0; i < b->differing.n && !rc; i++) {
        const git_oid *id[3];
        for (s = 0; s < 3; s++) id[s] = file_id(b, s, b->differing.v[i].name);
        rc = differing_chunk(b, b->differing.v[i].name, id);
    }
    return rc;
}

/* The merged set's blob files: ours' tree, then theirs'. */
static int chain_read(void *ctx, const char *path, size_t max, char **data, size_t *len)
{
    pv_ws_reader *r = ctx;
    int rc = r[0].read(r[0].ctx, path, max, data, len);
    return rc == PV_ENOTFOUND ? r[1].read(r[1].ctx, path, max, data, len) : rc;
}

static int chain_size(void *ctx, const char *path, uint64_t *size)
{
    pv_ws_reader *r = ctx;
    int rc = r[0].size(r[0].ctx, path, size);
    return rc == PV_ENOTFOUND ? r[1].size(r[1].ctx, path, size) : rc;
}

int pvgit_merge_sides_build(git_repository *repo, const pvgit_commits *c, const char *prefix,
                            const char *table, const char *only_if, pvgit_schema_merge_fn merge_schema,
                            void *ctx, pvgit_merge_sides *out)
{
    build b;
    const git_oid *commit[3];
    const char *fmt;
    size_t i, len;
    int k, rc = PV_OK;
    memset(out, 0, sizeof *out);
    memset(&b, 0, sizeof b);
    b.repo = repo;
    b.table = table;
    b.o = out;
    snprintf(b.dir, sizeof b.dir, "tables/%s", table);
    commit[0] = &c->base;
    commit[1] = &c->ours;
    commit[2] = &c->theirs;
    /* The blobs are named by the trees git is merging; hashing every byte
     * again on reading (libgit2's strict verification, SHA-1DC) would cost
     * more than inflating them. git itself does not verify on reading. */
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
    for (k = 0; k < 3 && !rc; k++) rc = open_side(&b, k, commit[k], prefix);
    if (!rc) {
        pv_ws_reader blobs = {out->chain, "merged", chain_read, NULL, chain_size};
        pvgit_tree_reader(out->tree[1], &out->chain[0]);
        pvgit_tree_reader(out->tree[2], &out->chain[1]);
        fmt = pvgit_vtree_get(out->vt[1], "format", &len);
        if (!(out->merged = pvgit_vtree_new("merged", &blobs))) rc = pv_err(PV_ENOMEM, "out of memory");
        else rc = pvgit_vtree_put(out->merged, "format", fmt, len);
    }
    if (!rc) rc = each_chunk(&b);
    /* only the receiving chunk's invocation reads rows */
    if (!rc && only_if && (!out->hpath || strcmp(out->hpath, only_if) != 0)) goto done;
    if (!rc) rc = merged_schema(&b, merge_schema, ctx);
    if (!rc) rc = read_differing(&b);
    out->keys = b.keys.n;
    out->differing = b.differing.n;
    out->shared = b.shared.n;
    if (!rc && b.keys.n && b.shared.n && git_repository_workdir(repo)) {
        snprintf(b.wtpv, sizeof b.wtpv, "%s%s.pv/", git_repository_workdir(repo), prefix);
        snprintf(b.relpv, sizeof b.relpv, "%s.pv/", prefix);
        pvgit_wtindex_open(&b.wt, repo);
    }
    for (i = 0; i < b.shared.n && !rc; i++)
        if (b.keys.n) rc = shared_chunk_scan(&b, &b.shared.v[i]);
done:
    for (k = 0; k < 3; k++) {
        git_tree_free(b.sub[k]);
        pv_schema_free(b.own[k]);
    }
    pvgit_wtindex_free(&b.wt);
    pv_schema_free(b.schema);
    pvgit_keyset_free(&b.keys);
    free(b.shared.v);
    free(b.differing.v);
    return rc;
}

void pvgit_merge_sides_free(pvgit_merge_sides *s)
{
    int k;
    for (k = 0; k < 3; k++) pvgit_vtree_free(s->vt[k]);
    pvgit_vtree_free(s->merged);
    for (k = 0; k < 3; k++) pvgit_tree_free(s->tree[k]);
    free(s->hpath);
    pvgit_retype_keys_free(&s->retype);
    memset(s, 0, sizeof *s);
}
