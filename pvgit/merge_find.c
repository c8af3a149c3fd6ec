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
#include "merge_pick.h"
#include "pvgit.h"
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

/* ---- git's merge base, virtual when there are several -------------------- */

#define BASES_MAX 16      /* merge bases of one pair */
#define DEPTH_MAX 8       /* nested virtual merges */
#define VMERGES_MAX 64    /* virtual merges made by one driver run */
#define PAIRS_MAX 64

typedef struct finder {
    git_repository *repo;
    const char *path;
    const pvgit_version *o;
    pvgit_vbase_fn vbase;
    void *ctx;
    int budget;                   /* virtual merges still allowed */
    git_oid pairs[PAIRS_MAX][2];  /* the inner merges made (ours, theirs), when recording */
    size_t npairs;
    int record;
    size_t nhints;                /* commits git hints at */
} finder;

/* The merge bases of a and b in git's order: get_merge_bases() sorts them
 * newest commit first (commit_list_insert_by_date: equal times keep the
 * order found, here libgit2's). A virtual commit's time is 0, as git's. */
static int ordered_bases(git_repository *repo, const git_oid *a, const git_oid *b, git_oid *out, size_t *n)
{
    git_oidarray bases = {0};
    git_time_t t[BASES_MAX];
    size_t i, k;
    int rc = git_merge_bases(&bases, repo, a, b);
    *n = 0;
    if (rc == GIT_ENOTFOUND) return PV_ENOTFOUND;
    if (rc) return pvgit_fail(rc, "the merge bases");
    if (bases.count > BASES_MAX) {
        git_oidarray_dispose(&bases);
        return pv_err(PV_ELIMIT, "%zu merge bases (at most %d are merged into a virtual base)", bases.count,
                      BASES_MAX);
    }
    for (i = 0; i < bases.count; i++) {
        git_commit *c = NULL;
        git_time_t ti = git_commit_lookup(&c, repo, &bases.ids[i]) == 0 ? git_commit_time(c) : 0;
        git_commit_free(c);
        for (k = *n; k > 0 && t[k - 1] < ti; k--) { /* insertion sort, stable */
            t[k] = t[k - 1];
            git_oid_cpy(&out[k], &out[k - 1]);
        }
        t[k] = ti;
        git_oid_cpy(&out[k], &bases.ids[i]);
        (*n)++;
    }
    git_oidarray_dispose(&bases);
    return PV_OK;
}

static int git_base(finder *f, const git_oid *x, const git_oid *y, int depth, git_oid *out);

/* git's virtual base of merge bases b[order[0..n-1]] (merge-ort's
 * merge_ort_internal: the list is reversed, the first popped, and merged
 * in turn, as ours, with each next one as theirs; each of those merges has
 * its own base, found the same way). */
static int chain(finder *f, const git_oid *b, const size_t *order, size_t n, int depth, git_oid *out)
{
    git_oid merged, base;
    size_t i;
    int rc;
    git_oid_cpy(&merged, &b[order[n - 1]]);
    for (i = n - 1; i-- > 0;) {
        const git_oid *y = &b[order[i]];
        if (f->record && f->npairs < PAIRS_MAX) {
            git_oid_cpy(&f->pairs[f->npairs][0], &merged);
            git_oid_cpy(&f->pairs[f->npairs++][1], y);
        }
        if (!f->vbase) return PV_ENOTFOUND;
        if (f->budget-- <= 0) return pv_err(PV_ELIMIT, "more than %d virtual merges", VMERGES_MAX);
        if ((rc = git_base(f, &merged, y, depth + 1, &base)) || (rc = f->vbase(f->ctx, &base, &merged, y, &merged)))
            return rc;
    }
    git_oid_cpy(out, &merged);
    return PV_OK;
}

/* The base git merges x and y over: their merge base, or the virtual base
 * of several. */
static int git_base(finder *f, const git_oid *x, const git_oid *y, int depth, git_oid *out)
{
    git_oid b[BASES_MAX];
    size_t n, order[BASES_MAX], i;
    int rc;
    if (depth > DEPTH_MAX) return pv_err(PV_ELIMIT, "virtual merge bases nested more than %d deep", DEPTH_MAX);
    if ((rc = ordered_bases(f->repo, x, y, b, &n))) return rc;
    if (n == 0) return PV_ENOTFOUND; /* git would merge over an empty tree */
    for (i = 0; i < n; i++) order[i] = i;
    return chain(f, b, order, n, depth, out);
}

static int next_permutation(size_t *a, size_t n)
{
    size_t i = n - 1, k = n - 1, t;
    while (i > 0 && a[i - 1] >= a[i]) i--;
    if (i == 0) return 0;
    while (a[k] <= a[i - 1]) k--;
    t = a[i - 1], a[i - 1] = a[k], a[k] = t;
    for (k = n - 1; i < k; i++, k--) t = a[i], a[i] = a[k], a[k] = t;
    return 1;
}

/* With several merge bases: the virtual base holding the base version, in
 * git's order first, then (up to 4 bases: commits made in the same second
 * have no order git and libgit2 agree on) in the others. */
static int find_virtual(finder *f, const git_oid *b, size_t n, git_oid *out)
{
    size_t order[BASES_MAX], i;
    git_oid v;
    for (i = 0; i < n; i++) order[i] = i;
    do {
        if (chain(f, b, order, n, 0, &v) == PV_OK && holds(f->repo, &v, f->path, f->o)) {
            git_oid_cpy(out, &v);
            return 1;
        }
    } while (n <= 4 && next_permutation(order, n));
    return 0;
}

/* A base for ours and theirs holding the base version: their one merge
 * base, the virtual base of several, or theirs' parent (a cherry-pick or
 * rebase step). *nbases: how many merge bases they have. */
static int find_base(finder *f, const git_oid *ours, const git_oid *theirs, git_oid *out, size_t *nbases)
{
    git_oid b[BASES_MAX];
    git_commit *c = NULL;
    size_t i, n = 0;
    int found = 0;
    if (ordered_bases(f->repo, ours, theirs, b, &n) == PV_OK) {
        /* with several, git merges over the virtual base, never one of
         * them: a merge base holding the same file may differ in another
         * chunk of the table */
        if (n == 1 && holds(f->repo, &b[0], f->path, f->o)) {
            git_oid_cpy(out, &b[0]);
            found = 1;
        }
        if (n >= 2) found = find_virtual(f, b, n, out);
    }
    if (nbases) *nbases = n;
    if (!found && git_commit_lookup(&c, f->repo, theirs) == 0) {
        for (i = 0; i < git_commit_parentcount(c) && !found; i++)
            if (holds(f->repo, git_commit_parent_id(c, (unsigned)i), f->path, f->o)) {
                git_oid_cpy(out, git_commit_parent_id(c, (unsigned)i));
                found = 1;
            }
        git_commit_free(c);
    }
    return found;
}

/* Last resort for a cherry-pick: a commit reachable from a ref that holds
 * theirs' version while its parent holds the base version (the parent is
 * the base: not a merge base, which may hold the same file). */
static int search_refs(finder *f, const git_oid *ours, const pvgit_version *b, git_oid *theirs, git_oid *base)
{
    git_revwalk *w = NULL;
    git_oid id;
    unsigned i;
    int found = 0, seen = 0;
    if (git_revwalk_new(&w, f->repo)) return 0;
    git_revwalk_sorting(w, GIT_SORT_TIME);
    git_revwalk_push_glob(w, "refs/*");
    while (!found && seen++ < 5000 && git_revwalk_next(&id, w) == 0) {
        git_commit *c = NULL;
        if (git_oid_equal(&id, ours) || !holds(f->repo, &id, f->path, b) || git_commit_lookup(&c, f->repo, &id))
            continue;
        for (i = 0; i < git_commit_parentcount(c) && !found; i++)
            if (holds(f->repo, git_commit_parent_id(c, i), f->path, f->o)) {
                git_oid_cpy(base, git_commit_parent_id(c, i));
                git_oid_cpy(theirs, &id);
                found = 1;
            }
        git_commit_free(c);
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
 * the sides of every inner merge git makes for the virtual base of HEAD and
 * each hint (a criss-cross merge: the merge bases, and with three or more,
 * the virtual commits merged so far, rebuilt in memory), and every ref tip
 * (`git merge-tree A B` names two commits and exposes neither). */
static size_t candidates(finder *f, int stage, git_oid *list, size_t n)
{
    git_oid hints[16], head, v;
    size_t nh, i, k;
    struct tips { git_oid *list; size_t *n; } t = {list, &n};
    int have_head = git_reference_name_to_id(&head, f->repo, "HEAD") == 0;
    if (have_head) add_candidate(list, &n, CAND_MAX, &head);
    nh = theirs_hints(f->repo, hints, sizeof hints / sizeof hints[0]);
    f->nhints = nh;
    for (i = 0; i < nh; i++) add_candidate(list, &n, CAND_MAX, &hints[i]);
    if (stage == 0) return n;
    for (i = 0; i < nh && have_head; i++) {
        f->record = 1;
        f->npairs = 0;
        (void)git_base(f, &head, &hints[i], 0, &v); /* whatever it could build: an error is reported later */
        f->record = 0;
        for (k = 0; k < f->npairs; k++) {
            add_candidate(list, &n, CAND_MAX, &f->pairs[k][0]);
            add_candidate(list, &n, CAND_MAX, &f->pairs[k][1]);
        }
    }
    git_reference_foreach(f->repo, add_tip, &t);
    return n;
}

/* The tree id of the directory holding `path` (the table's) in a commit;
 * all zeros when there is none. */
static void table_dir(git_repository *repo, const git_oid *commit, const char *path, git_oid *out)
{
    git_commit *c = NULL;
    git_tree *tree = NULL;
    git_tree_entry *e = NULL;
    const char *slash = strrchr(path, '/');
    char dir[4200];
    memset(out, 0, sizeof *out);
    if (!slash || (size_t)(slash - path) >= sizeof dir) return;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = 0;
    if (git_commit_lookup(&c, repo, commit) == 0 && git_commit_tree(&tree, c) == 0 &&
        git_tree_entry_bypath(&e, tree, dir) == 0)
        git_oid_cpy(out, git_tree_entry_id(e));
    git_tree_entry_free(e);
    git_tree_free(tree);
    git_commit_free(c);
}

/* No commit git hints at, and theirs found among the ref tips: a
 * cherry-pick (or revert) exposes nothing either, and its theirs may be a
 * commit below a tip that holds the same file while the tip changed the
 * table's other files since (merging the tip would bring those changes in,
 * or drop rows the picked commit wrote into them). Both readings are
 * possible; when the commit a pick would be (holding %B, its parent %O)
 * gives the table's files otherwise than the found triple, the merge is
 * ambiguous: 1, and that pick and its parent (the caller merges both
 * ways and compares). */
static int ambiguous_pick(finder *f, const pvgit_commits *c, const pvgit_version *b, git_oid *pick,
                          git_oid *pick_base)
{
    git_oid x, xbase, t1, t2;
    if (!search_refs(f, &c->ours, b, &x, &xbase) || git_oid_equal(&x, &c->theirs)) return 0;
    table_dir(f->repo, &x, f->path, &t1);
    table_dir(f->repo, &c->theirs, f->path, &t2);
    if (!git_oid_equal(&t1, &t2)) goto differ;
    table_dir(f->repo, &xbase, f->path, &t1);
    table_dir(f->repo, &c->base, f->path, &t2);
    if (!git_oid_equal(&t1, &t2)) goto differ;
    return 0;
differ:
    git_oid_cpy(pick, &x);
    git_oid_cpy(pick_base, &xbase);
    return 1;
}

int pvgit_find_merge(git_repository *repo, const char *path, const pvgit_version *o, const pvgit_version *a,
                     const pvgit_version *b, pvgit_vbase_fn vbase, void *ctx, pvgit_commits *out)
{
    git_oid cand[CAND_MAX];
    char has_a[CAND_MAX], has_b[CAND_MAX];
    size_t n = 0, done = 0, i, k, nb;
    int stage;
    finder *f = calloc(1, sizeof *f);
    out->unbuilt_bases = 0;
    out->ambiguous = 0;
    if (!f) return 0;
    f->repo = repo;
    f->path = path;
    f->o = o;
    f->vbase = vbase;
    f->ctx = ctx;
    f->budget = VMERGES_MAX;
    /* a cherry-pick that git's command line or sequencer names: HEAD over
     * the picked commit's parent, never a merge base (the pick brings only
     * that commit's changes, whatever came before it on its branch) */
    if (pvgit_pick_hint(repo, &out->theirs, &out->base) &&
        !git_reference_name_to_id(&out->ours, repo, "HEAD") && holds(repo, &out->ours, path, a) &&
        holds(repo, &out->theirs, path, b) && holds(repo, &out->base, path, o)) {
        free(f);
        return 1;
    }
    for (stage = 0; stage < 2; stage++) {
        n = candidates(f, stage, cand, n);
        for (i = done; i < n; i++) {
            has_a[i] = (char)holds(repo, &cand[i], path, a);
            has_b[i] = (char)holds(repo, &cand[i], path, b);
        }
        for (i = 0; i < n; i++)
            for (k = 0; k < n && has_a[i]; k++) {
                if (k == i || !has_b[k] || (i < done && k < done)) continue;
                if (find_base(f, &cand[i], &cand[k], &out->base, &nb)) {
                    git_oid_cpy(&out->ours, &cand[i]);
                    git_oid_cpy(&out->theirs, &cand[k]);
                    if (stage == 1 && f->nhints == 0 && i == 0)
                        out->ambiguous = ambiguous_pick(f, out, b, &out->pick, &out->pick_base);
                    free(f);
                    return 1;
                }
                /* HEAD and a hint hold ours and theirs, but the virtual
                 * base of their merge bases is not the one git built */
                if (stage == 0 && i == 0 && nb >= 2 && !out->unbuilt_bases) out->unbuilt_bases = nb;
            }
        done = n;
    }
    /* a cherry-pick of a commit no hint names: HEAD is ours */
    k = n && has_a[0] && !git_reference_name_to_id(&out->ours, repo, "HEAD") &&
        search_refs(f, &out->ours, b, &out->theirs, &out->base);
    free(f);
    return (int)k;
}
