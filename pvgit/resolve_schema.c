/*
 * resolve_schema.c: settle a conflicted schema file for `pvdev resolve`
 * (resolve_schema.h).
 *
 * git's index keeps the three versions of a conflicted path (stages 1, 2
 * and 3) until `git add`: the same three the driver merged. Running the
 * schema merge again from them tells whether the work tree still holds the
 * driver's ours' settlement, and gives theirs' settlement, without any
 * state of our own.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunkline.h"
#include "merge_retype.h"
#include "merge_schema.h"
#include "resolve_schema.h"
#include "schema_file.h"

/* A staged version's bytes (NULL entry: no such stage, *text NULL). */
static int stage_text(git_repository *repo, const git_index_entry *e, char **text, size_t *len)
{
    git_blob *b = NULL;
    int rc;
    *text = NULL;
    *len = 0;
    if (!e) return PV_OK;
    if ((rc = git_blob_lookup(&b, repo, &e->id))) return pvgit_fail(rc, "a staged schema.jsonl");
    *len = (size_t)git_blob_rawsize(b);
    if (!(*text = malloc(*len + 1))) rc = pv_err(PV_ENOMEM, "out of memory");
    else memcpy(*text, git_blob_rawcontent(b), *len), (*text)[*len] = 0;
    git_blob_free(b);
    return rc;
}

/* The commit of the operation in progress whose tree holds `blob` at
 * `path`: the one theirs' rows come from. "" when none does. */
static void find_theirs(git_repository *repo, const char *path, const git_oid *blob, char *out, size_t cap)
{
    static const char *const heads[] = {"MERGE_HEAD", "CHERRY_PICK_HEAD", "REBASE_HEAD"};
    size_t i;
    out[0] = 0;
    for (i = 0; i < sizeof heads / sizeof *heads && !out[0]; i++) {
        git_object *o = NULL;
        git_commit *c = NULL;
        git_tree *t = NULL;
        git_tree_entry *e = NULL;
        if (!git_revparse_single(&o, repo, heads[i]) && !git_object_peel((git_object **)&c, o, GIT_OBJECT_COMMIT) &&
            !git_commit_tree(&t, c) && !git_tree_entry_bypath(&e, t, path) && git_oid_equal(git_tree_entry_id(e), blob))
            snprintf(out, cap, "%s", heads[i]);
        git_tree_entry_free(e);
        git_tree_free(t);
        git_commit_free(c);
        git_object_free(o);
    }
}

static int is_chunk_name(const char *n)
{
    size_t i;
    for (i = 0; i < 8; i++)
        if (n[i] < '0' || n[i] > '9') return 0;
    return strcmp(n + 8, ".jsonl") == 0;
}

static int key_chosen(const pv_buf *chosen, const char *key, size_t n)
{
    const char *p = chosen ? chosen->p : NULL, *end = p ? p + chosen->len : NULL;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        if ((size_t)(nl - p) == n && memcmp(p, key, n) == 0) return 1;
        p = nl + 1;
    }
    return 0;
}

/* Is every key in bad->keys one of `chosen`? */
static int bad_all_chosen(const pvgit_retype_keys *bad, const pv_buf *chosen)
{
    const char *p = bad->keys.p, *end = p ? p + bad->keys.len : NULL;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!key_chosen(chosen, p, (size_t)(nl - p))) return 0;
        p = nl + 1;
    }
    return 1;
}

/* Theirs' settlement must keep every column and the key as they are in
 * the work tree apart from attributes: the merge brought no values for a
 * column ours dropped. */
static int check_shape(const pv_schema *cur, const pv_schema *next)
{
    uint32_t c;
    for (c = 0; c < next->ncols; c++) {
        const pv_column *col = &next->cols[c];
        const char *first = col->naliases ? col->aliases[0] : col->name;
        int at = pv_schema_find_history(cur, first, strlen(first));
        if (at < 0)
            return pv_err(PV_ECONSTRAINT, "table %s, column %s: theirs keeps a column ours dropped, and the merge "
                          "brought none of its values: settle it by hand (docs/GIT.md, Conflicts)", cur->name, col->name);
    }
    if (cur->npk != next->npk) return pv_err(PV_ECONSTRAINT, "table %s: theirs has another primary key", cur->name);
    for (c = 0; c < cur->npk; c++)
        if (strcmp(cur->cols[cur->pk[c]].name, next->cols[next->pk[c]].name) != 0)
            return pv_err(PV_ECONSTRAINT, "table %s: theirs has another primary key", cur->name);
    return PV_OK;
}

typedef struct rewrite {
    char **paths;        /* chunk files to replace, then the schema */
    size_t n, cap;
} rewrite;

static int add_file(rewrite *w, const char *path, const char *text, size_t len)
{
    char tmp[600];
    FILE *f;
    if (w->n == w->cap) {
        char **g = realloc(w->paths, (w->cap = w->cap ? w->cap * 2 : 16) * sizeof *g);
        if (!g) return pv_err(PV_ENOMEM, "out of memory");
        w->paths = g;
    }
    if (!(w->paths[w->n] = strdup(path))) return pv_err(PV_ENOMEM, "out of memory");
    w->n++;
    snprintf(tmp, sizeof tmp, "%s.resolve", path);
    if (!(f = fopen(tmp, "wb"))) return pv_err_errno("cannot write '%s'", tmp);
    if ((len && fwrite(text, 1, len, f) != len) | (fclose(f) != 0)) return pv_err_errno("cannot write '%s'", tmp);
    return PV_OK;
}

static int commit_files(rewrite *w, int keep)
{
    size_t i;
    int rc = PV_OK;
    for (i = 0; i < w->n; i++) {
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%s.resolve", w->paths[i]);
        if (keep && !rc && rename(tmp, w->paths[i]) != 0) rc = pv_err_errno("cannot replace '%s'", w->paths[i]);
        if (!keep || rc) remove(tmp);
        free(w->paths[i]);
    }
    free(w->paths);
    return rc;
}

/* Convert every chunk of the table from `cur` to `next` (temporary files). */
static int convert_chunks(const char *table, const pv_schema *cur, const pv_schema *next, const pv_buf *chosen,
                          rewrite *w, size_t *count)
{
    char dir[300], path[600];
    struct dirent *d;
    DIR *dh;
    pv_buf out = PV_BUF_INIT;
    pvgit_retype_keys bad;
    int rc = PV_OK;
    memset(&bad, 0, sizeof bad);
    snprintf(dir, sizeof dir, ".pv/tables/%s", table);
    if (!(dh = opendir(dir))) return pv_err_errno("cannot read '%s'", dir);
    while (!rc && (d = readdir(dh))) {
        char *text = NULL;
        size_t len;
        if (!is_chunk_name(d->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, d->d_name);
        if ((rc = pv_read_file_nofollow(path, (size_t)1 << 30, &text, &len))) break;
        rc = pvgit_retype_chunk_quiet(cur, next, text, len, path, &out, &bad);
        if (!rc && bad.cells && !bad_all_chosen(&bad, chosen))
            rc = pv_err(PV_ECONSTRAINT, "table %s: cannot take theirs' schema: %s, in a row that is not in conflict "
                        "(an older record of it counts too); resolve with --ours, or edit the schema and rows by hand",
                        table, bad.first.p);
        if (!rc && (out.len != len || memcmp(out.p, text, len) != 0)) {
            rc = add_file(w, path, out.p, out.len);
            ++*count;
        }
        free(text);
    }
    closedir(dh);
    pv_buf_free(&out);
    pvgit_retype_keys_free(&bad);
    return rc;
}

static int switch_to_theirs(const char *table, const char *const texts[3], const size_t lens[3],
                            const char *wt, size_t wtlen, const pv_buf *chosen, pvgit_schema_resolution *out)
{
    char *ours = NULL, *theirs = NULL, path[600];
    size_t olen = 0, tlen = 0;
    pv_schema *next = NULL;
    rewrite w = {NULL, 0, 0};
    pv_buf said = PV_BUF_INIT; /* the driver printed the conflicts already */
    int rc = pvgit_schema_merge_ours(table, texts, lens, &ours, &olen, &said);
    if (rc == PV_ECONSTRAINT && ours) rc = PV_OK;
    /* not the driver's settlement any more: switched before, or edited */
    if (rc || olen != wtlen || memcmp(ours, wt, wtlen) != 0) goto done;
    rc = pvgit_schema_merge_theirs(table, texts, lens, &theirs, &tlen, NULL);
    if (rc == PV_ECONSTRAINT && theirs) rc = PV_OK;
    else if (rc == PV_ECONSTRAINT) rc = pv_err(PV_ECONSTRAINT, "table %s: theirs' schema cannot be settled "
                                               "(a key column dropped): settle it by hand", table);
    if (rc) goto done;
    if ((rc = pv_schema_decode(wt, wtlen, table, ".pv/tables/schema.jsonl", &out->before)) ||
        (rc = pv_schema_decode(theirs, tlen, table, "theirs' settlement", &next)) ||
        (rc = check_shape(out->before, next)))
        goto done;
    if (pvgit_retype_needed(out->before, next) &&
        (rc = convert_chunks(table, out->before, next, chosen, &w, &out->rewritten)))
        goto done;
    snprintf(path, sizeof path, ".pv/tables/%s/schema.jsonl", table);
    if (!(rc = add_file(&w, path, theirs, tlen))) out->switched = 1;
done:
    rc = commit_files(&w, !rc) ? (rc ? rc : PV_EIO) : rc;
    if (rc) out->switched = 0;
    pv_schema_free(next);
    pv_buf_free(&said);
    free(ours);
    free(theirs);
    return rc;
}

int pvgit_resolve_schema(const char *table, int side, const pv_buf *chosen, pvgit_schema_resolution *out)
{
    git_repository *repo = NULL;
    git_index *index = NULL;
    const git_index_entry *st[3] = {NULL, NULL, NULL};
    char *prefix = NULL, *path = NULL, *texts[3] = {NULL, NULL, NULL}, *wt = NULL, wtpath[600];
    size_t lens[3] = {0, 0, 0}, wtlen = 0;
    int rc, k;
    memset(out, 0, sizeof *out);
    if ((rc = pvgit_repo_open(".", &repo, &prefix))) return rc == PV_ENOTFOUND ? PV_OK : rc;
    if (asprintf(&path, "%s.pv/tables/%s/schema.jsonl", prefix, table) < 0) {
        path = NULL;
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = git_repository_index(&index, repo))) {
        rc = pvgit_fail(rc, "git's index");
        goto done;
    }
    if (git_index_conflict_get(&st[0], &st[1], &st[2], index, path) != 0 || !st[1] || !st[2]) goto done;
    out->conflicted = 1;
    if (side != PV_SIDE_THEIRS) goto done;
    for (k = 0; k < 3 && !rc; k++) rc = stage_text(repo, st[k], &texts[k], &lens[k]);
    snprintf(wtpath, sizeof wtpath, ".pv/tables/%s/schema.jsonl", table);
    if (!rc) rc = pv_read_file_nofollow(wtpath, (size_t)1 << 24, &wt, &wtlen);
    if (!rc) rc = switch_to_theirs(table, (const char *const *)texts, lens, wt, wtlen, chosen, out);
    if (!rc && out->switched) find_theirs(repo, path, &st[2]->id, out->theirs, sizeof out->theirs);
done:
    for (k = 0; k < 3; k++) free(texts[k]);
    free(wt);
    free(path);
    free(prefix);
    git_index_free(index);
    git_repository_free(repo);
    return rc;
}

void pvgit_schema_resolution_free(pvgit_schema_resolution *r)
{
    if (!r) return;
    pv_schema_free(r->before);
    r->before = NULL;
}
