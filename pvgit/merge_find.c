/*
 * merge_find.c: which commits is git merging? While a merge driver runs,
 * git has not written MERGE_HEAD and friends yet (docs/GIT.md), so every
 * hint is tried and each candidate is verified against the blob ids of the
 * three file versions git handed the driver.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge_find.h"
#include "util.h"

/* The blob at `path` in a commit's tree; *present 0 when there is none. */
static int blob_at(git_repository *repo, const git_oid *commit, const char *path, git_oid *out, int *present)
{
    git_commit *c = NULL;
    git_tree *tree = NULL;
    git_tree_entry *e = NULL;
    int rc;
    *present = 0;
    if ((rc = git_commit_lookup(&c, repo, commit))) return rc;
    if (!(rc = git_commit_tree(&tree, c))) {
        rc = git_tree_entry_bypath(&e, tree, path);
        if (rc == GIT_ENOTFOUND) {
            rc = 0;
        } else if (!rc) {
            if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
                git_oid_cpy(out, git_tree_entry_id(e));
                *present = 1;
            }
            git_tree_entry_free(e);
        }
        git_tree_free(tree);
    }
    git_commit_free(c);
    return rc;
}

/* Does `commit` hold exactly this version of `path`? */
static int holds(git_repository *repo, const git_oid *commit, const char *path, const pvgit_version *v)
{
    git_oid oid;
    int present;
    if (blob_at(repo, commit, path, &oid, &present)) return 0;
    if (!v->present) return !present;
    return present && git_oid_equal(&oid, &v->oid);
}

static void add_candidate(git_oid *list, size_t *n, size_t cap, const git_oid *id)
{
    size_t i;
    for (i = 0; i < *n; i++)
        if (git_oid_equal(&list[i], id)) return;
    if (*n < cap) git_oid_cpy(&list[(*n)++], id);
}

/* Hints: GITHEAD_<id> (git merge), the pick being replayed (rebase), and
 * the *_HEAD files (set by some commands, or left by earlier stops). */
static size_t theirs_hints(git_repository *repo, git_oid *list, size_t cap)
{
    extern char **environ;
    static const char *const heads[] = {"MERGE_HEAD", "CHERRY_PICK_HEAD", "REBASE_HEAD", "REVERT_HEAD"};
    char **e, path[4200], *text = NULL, line[256];
    size_t n = 0, len, i;
    git_oid id;
    for (e = environ; *e; e++)
        if (!strncmp(*e, "GITHEAD_", 8) && strlen(*e) > 8 + GIT_OID_HEXSZ && (*e)[8 + GIT_OID_HEXSZ] == '=' &&
            git_oid_fromstrn(&id, *e + 8, GIT_OID_HEXSZ) == 0)
            add_candidate(list, &n, cap, &id);
    snprintf(path, sizeof path, "%srebase-merge/done", git_repository_path(repo));
    if (pv_read_file(path, 1u << 24, &text, &len) == PV_OK) {
        /* the last non-empty line: "pick <id> subject" */
        char *last = NULL, *p;
        for (p = strtok(text, "\n"); p; p = strtok(NULL, "\n")) last = p;
        if (last && sscanf(last, "%*s %255s", line) == 1 && git_oid_fromstrp(&id, line) == 0)
            add_candidate(list, &n, cap, &id);
        free(text);
    }
    for (i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        snprintf(path, sizeof path, "%s%s", git_repository_path(repo), heads[i]);
        if (pv_read_file(path, 4096, &text, &len) == PV_OK) {
            if (git_oid_fromstrn(&id, text, GIT_OID_HEXSZ) == 0) add_candidate(list, &n, cap, &id);
            free(text);
        }
    }
    return n;
}

/* The virtual base of a criss-cross merge, made from merge bases x and y
 * (both orders: git's is not known), when it holds the base version. */
static int find_virtual(git_repository *repo, const git_oidarray *bases, const char *path, const pvgit_version *o,
                        pvgit_vbase_fn vbase, void *ctx, git_oid *out)
{
    size_t x, y;
    git_oid v;
    if (!vbase || bases->count < 2) return 0;
    for (x = 0; x < bases->count; x++)
        for (y = 0; y < bases->count; y++)
            if (x != y && vbase(ctx, &bases->ids[x], &bases->ids[y], &v) == PV_OK && holds(repo, &v, path, o)) {
                git_oid_cpy(out, &v);
                return 1;
            }
    return 0;
}

/* A base for ours and theirs holding the base version: a merge base, the
 * virtual base of two of them, or theirs' parent (a cherry-pick or rebase
 * step). */
static int find_base(git_repository *repo, const git_oid *ours, const git_oid *theirs, const char *path,
                     const pvgit_version *o, pvgit_vbase_fn vbase, void *ctx, git_oid *out)
{
    git_oidarray bases = {0};
    git_commit *c = NULL;
    size_t i;
    int found = 0;
    if (git_merge_bases(&bases, repo, ours, theirs) == 0) {
        for (i = 0; i < bases.count && !found; i++)
            if (holds(repo, &bases.ids[i], path, o)) {
                git_oid_cpy(out, &bases.ids[i]);
                found = 1;
            }
        if (!found) found = find_virtual(repo, &bases, path, o, vbase, ctx, out);
        git_oidarray_dispose(&bases);
    }
    if (!found && git_commit_lookup(&c, repo, theirs) == 0) {
        for (i = 0; i < git_commit_parentcount(c) && !found; i++)
            if (holds(repo, git_commit_parent_id(c, (unsigned)i), path, o)) {
                git_oid_cpy(out, git_commit_parent_id(c, (unsigned)i));
                found = 1;
            }
        git_commit_free(c);
    }
    return found;
}

/* Last resort for a cherry-pick: a commit reachable from a ref that holds
 * theirs' version while its parent holds the base version. */
static int search_refs(git_repository *repo, const git_oid *ours, const char *path, const pvgit_version *o,
                       const pvgit_version *b, git_oid *theirs, git_oid *base)
{
    git_revwalk *w = NULL;
    git_oid id;
    int found = 0, seen = 0;
    if (git_revwalk_new(&w, repo)) return 0;
    git_revwalk_sorting(w, GIT_SORT_TIME);
    git_revwalk_push_glob(w, "refs/*");
    while (!found && seen++ < 5000 && git_revwalk_next(&id, w) == 0)
        if (!git_oid_equal(&id, ours) && holds(repo, &id, path, b) &&
            find_base(repo, ours, &id, path, o, NULL, NULL, base)) {
            git_oid_cpy(theirs, &id);
            found = 1;
        }
    git_revwalk_free(w);
    return found;
}

#define CAND_MAX 64

/* Ref tips, as candidates for either side (git merge-tree names two
 * commits and exposes neither). */
static int add_tip(git_reference *ref, void *payload)
{
    struct tips { git_oid *list; size_t *n; } *t = payload;
    git_reference *peeled = NULL;
    if (git_reference_resolve(&peeled, ref) == 0 && git_reference_target(peeled))
        add_candidate(t->list, t->n, CAND_MAX, git_reference_target(peeled));
    git_reference_free(peeled);
    git_reference_free(ref);
    return 0;
}

/* Commits that may be a side, best first. Stage 0: HEAD and the hints
 * (every ordinary merge, rebase and cherry-pick stops there). Stage 1 adds
 * the merge bases of HEAD and each hint (the two sides of the inner merge
 * git makes for the virtual base of a criss-cross merge) and every ref tip
 * (`git merge-tree A B` names two commits and exposes neither). */
static size_t candidates(git_repository *repo, int stage, git_oid *list, size_t n)
{
    git_oid hints[16], head;
    size_t nh, i, k;
    struct tips { git_oid *list; size_t *n; } t = {list, &n};
    int have_head = git_reference_name_to_id(&head, repo, "HEAD") == 0;
    if (have_head) add_candidate(list, &n, CAND_MAX, &head);
    nh = theirs_hints(repo, hints, sizeof hints / sizeof hints[0]);
    for (i = 0; i < nh; i++) add_candidate(list, &n, CAND_MAX, &hints[i]);
    if (stage == 0) return n;
    for (i = 0; i < nh && have_head; i++) {
        git_oidarray bases = {0};
        if (git_merge_bases(&bases, repo, &head, &hints[i]) != 0) continue;
        for (k = 0; k < bases.count; k++) add_candidate(list, &n, CAND_MAX, &bases.ids[k]);
        git_oidarray_dispose(&bases);
    }
    git_reference_foreach(repo, add_tip, &t);
    return n;
}

int pvgit_find_merge(git_repository *repo, const char *path, const pvgit_version *o, const pvgit_version *a,
                     const pvgit_version *b, pvgit_vbase_fn vbase, void *ctx, pvgit_commits *out)
{
    git_oid cand[CAND_MAX];
    char has_a[CAND_MAX], has_b[CAND_MAX];
    size_t n = 0, done = 0, i, k;
    int stage;
    for (stage = 0; stage < 2; stage++) {
        n = candidates(repo, stage, cand, n);
        for (i = done; i < n; i++) {
            has_a[i] = (char)holds(repo, &cand[i], path, a);
            has_b[i] = (char)holds(repo, &cand[i], path, b);
        }
        for (i = 0; i < n; i++)
            for (k = 0; k < n && has_a[i]; k++)
                if (k != i && has_b[k] && (i >= done || k >= done) &&
                    find_base(repo, &cand[i], &cand[k], path, o, vbase, ctx, &out->base)) {
                    git_oid_cpy(&out->ours, &cand[i]);
                    git_oid_cpy(&out->theirs, &cand[k]);
                    return 1;
                }
        done = n;
    }
    /* a cherry-pick of a commit no hint names: HEAD is ours */
    if (!n || !has_a[0] || git_reference_name_to_id(&out->ours, repo, "HEAD")) return 0;
    return search_refs(repo, &out->ours, path, o, b, &out->theirs, &out->base);
}
