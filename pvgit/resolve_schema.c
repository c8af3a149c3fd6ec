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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chunkline.h"
#include "merge_retype.h"
#include "merge_schema.h"
#include "resolve_rows.h"
#include "resolve_schema.h"
#include "schema_file.h"
#include "ws_internal.h"

/* A staged version's bytes (NULL entry: no such stage, *text NULL). */
static int stage_text(git_repository *repo, const git_index_entry *e, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    return e ? pvgit_blob_read(repo, &e->id, SIZE_MAX, "a staged schema.jsonl", text, len) : PV_OK;
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

/* Is every key in bad->keys one of `chosen`? */
static int bad_all_chosen(const pvgit_retype_keys *bad, const pv_buf *chosen)
{
    const char *p = bad->keys.p, *end = p ? p + bad->keys.len : NULL;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!pvgit_keys_has(chosen, p, (size_t)(nl - p))) return 0;
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
        const char *first = pv_column_first_name(col);
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

/* The files a switch replaces: chunk files (by name inside the table
 * directory), then the schema. Each new version is written whole to
 * NAME.resolve first. */
typedef struct rewrite {
    char **names;
    size_t n, cap;
} rewrite;

static int add_file(rewrite *w, const char *dir, const char *name, const char *text, size_t len)
{
    char tmp[600];
    int fd, rc;
    if (w->n == w->cap) {
        char **g = realloc(w->names, (w->cap = w->cap ? w->cap * 2 : 16) * sizeof *g);
        if (!g) return pv_err(PV_ENOMEM, "out of memory");
        w->names = g;
    }
    if (!(w->names[w->n] = strdup(name))) return pv_err(PV_ENOMEM, "out of memory");
    w->n++;
    snprintf(tmp, sizeof tmp, "%s/%s.resolve", dir, name);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        return pv_err_errno("cannot write '%s'", tmp);
    rc = pv_write_all(fd, text, len, tmp);
    /* on disk before the journal says the old files may go */
    if (!rc && fsync(fd) != 0) rc = pv_err_errno("cannot sync '%s'", tmp);
    if (close(fd) != 0 && !rc) rc = pv_err_errno("cannot close '%s'", tmp);
    return rc;
}

static void rewrite_free(rewrite *w, const char *dir)
{
    size_t i;
    for (i = 0; i < w->n; i++) {
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%s/%s.resolve", dir, w->names[i]);
        unlink(tmp); /* gone already when renamed */
        free(w->names[i]);
    }
    free(w->names);
}


/* The switch of file i of a rewrite: an old chunk moved aside (its
 * journal op says where), then the new text renamed into place. */
typedef struct switch_ctx {
    pv_ws *ws;
    const char *dir;
    const rewrite *w;
    const ws_jop *ops;
    int renames;
} switch_ctx;

static int switch_file(void *ctx, size_t i)
{
    switch_ctx *x = ctx;
    char path[600];
    snprintf(path, sizeof path, "%s/%s", x->dir, x->w->names[i]);
    /* test hook (tests/e2e/merge_resolve.sh): PV_FAULTS_RESOLVE_CRASH=N
     * ends the process right after the N-th rename of the switch */
    return pvgit_resolve_replace(x->ws, x->ops[i].path, path, x->ops[i].kind == WS_J_MOVED,
                                 "PV_FAULTS_RESOLVE_CRASH", &x->renames);
}

/* Replace the files of `w` (schema last) as one commit of the workspace's
 * rollback journal (docs/FORMAT.md, "Transactions"): each old chunk is
 * journaled as moved aside and the old schema's bytes are kept, so a crash
 * anywhere leaves a journal the next writable open (this command run
 * again, any pvdev writer) undoes, and readers are refused meanwhile. The
 * caller holds the writer lock. The directory is synced whatever the
 * workspace's durability: a schema switch is rare and rewrites every
 * chunk. */
static int commit_files(pv_ws *ws, const char *table, const char *dir, rewrite *w, const char *old_schema,
                        size_t old_len)
{
    ws_jop *ops = calloc(w->n + 1, sizeof *ops);
    switch_ctx x = {ws, dir, w, ops, 0};
    size_t i;
    int rc = ops ? PV_OK : pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < w->n && !rc; i++) {
        int schema = i + 1 == w->n;
        ops[i].kind = schema ? WS_J_SCHEMA : WS_J_MOVED;
        if (asprintf(&ops[i].path, "tables/%s/%s", table, w->names[i]) < 0) {
            ops[i].path = NULL;
            rc = pv_err(PV_ENOMEM, "out of memory");
        }
        if (schema) ops[i].data = old_schema, ops[i].len = old_len;
    }
    if (!rc) rc = ws_journal_run(ws, ops, w->n, switch_file, &x, &dir, 1);
    for (i = 0; ops && i < w->n; i++) free(ops[i].path);
    free(ops);
    return rc;
}

/* Convert every chunk of the table from `cur` to `next`, the settlement
 * of `side` (temporary files). */
static int convert_chunks(const char *table, int side, const pv_schema *cur, const pv_schema *next,
                          const pv_buf *chosen, rewrite *w, size_t *count)
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
        if (!pv_chunk_file_number(d->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, d->d_name);
        if ((rc = pv_read_file_nofollow(path, (size_t)1 << 30, &text, &len))) break;
        rc = pvgit_retype_chunk_quiet(cur, next, text, len, path, &out, &bad);
        if (!rc && bad.cells && !bad_all_chosen(&bad, chosen))
            rc = pv_err(PV_ECONSTRAINT, "table %s: cannot take %s schema%s: %s, in a row that is not in conflict "
                        "(an older record of it counts too); resolve with --%s, or edit the schema and rows by hand",
                        table, side == PV_SIDE_THEIRS ? "theirs'" : "ours'", side == PV_SIDE_THEIRS ? "" : " back",
                        bad.first.p, side == PV_SIDE_THEIRS ? "ours" : "theirs");
        if (!rc && (out.len != len || memcmp(out.p, text, len) != 0)) {
            rc = add_file(w, dir, d->d_name, out.p, out.len);
            ++*count;
        }
        free(text);
    }
    closedir(dh);
    pv_buf_free(&out);
    pvgit_retype_keys_free(&bad);
    return rc;
}

/* Does the work tree hold exactly `text`? */
static int same_text(const char *text, size_t len, const char *wt, size_t wtlen)
{
    return len == wtlen && memcmp(text, wt, wtlen) == 0;
}

/* Make the work tree's schema the settlement of `side`: `from` (the other
 * settlement, the work tree's) becomes out->before and `to` is written,
 * every chunk converted, as one journaled commit. */
static int switch_to(pv_ws *ws, const char *table, int side, const char *from, size_t flen, const char *to,
                     size_t tlen, const pv_buf *chosen, pvgit_schema_resolution *out)
{
    char dir[300];
    pv_schema *next = NULL;
    rewrite w = {NULL, 0, 0};
    int rc;
    snprintf(dir, sizeof dir, ".pv/tables/%s", table);
    if (!(rc = pv_schema_decode(from, flen, table, ".pv/tables/schema.jsonl", &out->before)) &&
        !(rc = pv_schema_decode(to, tlen, table, side == PV_SIDE_THEIRS ? "theirs' settlement" : "ours' settlement",
                                &next)) &&
        !(rc = check_shape(out->before, next)) && pvgit_retype_needed(out->before, next))
        rc = convert_chunks(table, side, out->before, next, chosen, &w, &out->rewritten);
    if (!rc && !(rc = add_file(&w, dir, "schema.jsonl", to, tlen)) &&
        !(rc = commit_files(ws, table, dir, &w, from, flen)))
        out->switched = 1;
    rewrite_free(&w, dir);
    pv_schema_free(next);
    return rc;
}

/* The work tree holds `wt`; ours' and theirs' settlements are merged again
 * from git's stages. --theirs switches from ours' settlement; --ours
 * switches back from theirs' while rows of the table are still in conflict
 * (`chosen` not empty: a --theirs run stopped before its rows; the last
 * choice wins while the merge is unfinished), and with rows settled under
 * theirs' keeps it. Either way the chosen rows then take the retyped
 * columns' values from the chosen side's commit (out->before, ->rows_from;
 * the conflict record holds them converted, or NULL where they did not
 * convert). */
static int switch_side(pv_ws *ws, const char *table, int side, const char *const texts[3], const size_t lens[3],
                       const char *wt, size_t wtlen, const pv_buf *chosen, pvgit_schema_resolution *out)
{
    char *ours = NULL, *theirs = NULL;
    size_t olen = 0, tlen = 0;
    pv_schema *os = NULL;
    pv_buf said = PV_BUF_INIT; /* the driver printed the conflicts already */
    int rc = pvgit_schema_merge_ours(table, texts, lens, &ours, &olen, &said), wt_ours, wt_theirs;
    if (rc == PV_ECONSTRAINT && ours) rc = PV_OK;
    if (!rc) rc = pvgit_schema_merge_theirs(table, texts, lens, &theirs, &tlen);
    if (rc == PV_ECONSTRAINT && theirs) rc = PV_OK;
    else if (rc == PV_ECONSTRAINT) rc = pv_err(PV_ECONSTRAINT, "table %s: theirs' schema cannot be settled "
                                               "(a key column dropped): settle it by hand", table);
    if (rc) goto done;
    wt_ours = same_text(ours, olen, wt, wtlen);
    wt_theirs = !wt_ours && same_text(theirs, tlen, wt, wtlen);
    out->edited = !wt_ours && !wt_theirs;
    out->is_theirs = wt_theirs;
    if (side == PV_SIDE_THEIRS && wt_ours) {
        rc = switch_to(ws, table, side, ours, olen, theirs, tlen, chosen, out);
        out->is_theirs = out->switched;
    } else if (side == PV_SIDE_THEIRS && wt_theirs) {
        /* switched by an earlier run (which may have stopped before its rows) */
        rc = pv_schema_decode(ours, olen, table, "ours' settlement", &out->before);
    } else if (side == PV_SIDE_OURS && wt_theirs && chosen && chosen->len) {
        rc = switch_to(ws, table, side, theirs, tlen, ours, olen, chosen, out);
        out->is_theirs = !out->switched;
    } else if (side == PV_SIDE_OURS && wt_ours) {
        /* as the merge wrote it, or switched back by an earlier run whose
         * conflict records may hold NULL where a value went to theirs' type
         * and did not convert: the retyped columns come from HEAD */
        if (!(rc = pv_schema_decode(ours, olen, table, "ours' settlement", &os)) &&
            !(rc = pv_schema_decode(theirs, tlen, table, "theirs' settlement", &out->before)) &&
            !pvgit_retype_needed(out->before, os)) {
            pv_schema_free(out->before);
            out->before = NULL;
        }
    }
    if (!rc && side == PV_SIDE_OURS && out->before) snprintf(out->rows_from, sizeof out->rows_from, "HEAD");
done:
    if (rc) {
        out->switched = 0;
        pv_schema_free(out->before);
        out->before = NULL;
    }
    pv_schema_free(os);
    pv_buf_free(&said);
    free(ours);
    free(theirs);
    return rc;
}

/* Under the workspace's writer lock, which the caller holds on `ws` (a
 * transaction open, nothing written through it), with the temporary files
 * an interrupted run left removed: the switch to `side`'s settlement. */
static int switch_locked(pv_ws *ws, const char *table, int side, const char *const texts[3], const size_t lens[3],
                         const pv_buf *chosen, pvgit_schema_resolution *out)
{
    char *wt = NULL, wtpath[600];
    size_t wtlen = 0;
    int rc;
    if (!ws || !pv_ws_in_txn(ws)) return pv_err(PV_EMISUSE, "pvgit_resolve_schema: the writer lock is not held");
    snprintf(wtpath, sizeof wtpath, ".pv/tables/%s", table);
    pvgit_resolve_leftovers(wtpath);
    snprintf(wtpath, sizeof wtpath, ".pv/tables/%s/schema.jsonl", table);
    rc = pv_read_file_nofollow(wtpath, (size_t)1 << 24, &wt, &wtlen);
    if (!rc) rc = switch_side(ws, table, side, texts, lens, wt, wtlen, chosen, out);
    free(wt);
    return rc;
}

int pvgit_resolve_schema(pv_ws *ws, const char *table, int side, const pv_buf *chosen, pvgit_schema_resolution *out)
{
    git_repository *repo = NULL;
    git_index *index = NULL;
    const git_index_entry *st[3] = {NULL, NULL, NULL};
    char *prefix = NULL, *path = NULL, *texts[3] = {NULL, NULL, NULL};
    size_t lens[3] = {0, 0, 0};
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
    if (side != PV_SIDE_THEIRS && side != PV_SIDE_OURS) goto done;
    for (k = 0; k < 3 && !rc; k++) rc = stage_text(repo, st[k], &texts[k], &lens[k]);
    if (!rc) rc = switch_locked(ws, table, side, (const char *const *)texts, lens, chosen, out);
    if (!rc && side == PV_SIDE_THEIRS && out->before)
        find_theirs(repo, path, &st[2]->id, out->rows_from, sizeof out->rows_from);
done:
    for (k = 0; k < 3; k++) free(texts[k]);
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
