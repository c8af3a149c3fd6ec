/*
 * pvgit.h: git access shared by pvdev and pvbake (libgit2). libpv never
 * links libgit2: production binaries must not pull in git.
 *
 * The main service is reading a workspace as it is in any revision, straight
 * from the object database (no checkout, works in a bare clone): a
 * pv_ws_reader (libpv/reader.h) over the tree REV:<prefix>.pv.
 */
#ifndef PVGIT_H
#define PVGIT_H

#include <git2.h>

#include "reader.h"
#include "ws.h"

/* A workspace directory's repository, and the path from the repository's
 * top to that directory ("" at the top, "data/" below it; always "" in a
 * bare repository). Errors: PV_ENOTFOUND ("not in a git repository"),
 * PV_EIO (the libgit2 message). The caller frees *repo with
 * git_repository_free and *prefix with free. */
int pvgit_repo_open(const char *dir, git_repository **repo, char **prefix);

/* The tree of `.pv/` at revision `rev` (anything git rev-parse takes:
 * "HEAD~1", a branch, a tag, a commit id). */
typedef struct pvgit_tree pvgit_tree;

/* Errors: PV_ENOTFOUND (unknown revision, or no .pv at that revision),
 * PV_EIO, PV_ENOMEM. *out is freed with pvgit_tree_free after every
 * workspace opened over it is closed. */
int pvgit_tree_open(git_repository *repo, const char *rev, const char *prefix,
                    pvgit_tree **out);
/* The same from a commit object id. */
int pvgit_tree_open_oid(git_repository *repo, const git_oid *commit, const char *prefix,
                        pvgit_tree **out);
void pvgit_tree_free(pvgit_tree *t);

/* A reader over the tree (its label is the revision as given). */
void pvgit_tree_reader(pvgit_tree *t, pv_ws_reader *out);

/* The commit id the tree comes from, 40 hex digits. */
const char *pvgit_tree_commit(const pvgit_tree *t);

/* Open the workspace of directory `dir` as it is at revision `rev`,
 * read-only. *tree must outlive *ws: close *ws, then free *tree. Only
 * objects are read, so repositories owned by another user are accepted
 * (libgit2's owner validation is turned off for the process). */
int pvgit_ws_open(const char *dir, const char *rev, pv_ws **ws, pvgit_tree **tree,
                  git_repository **repo);

/* The provenance of a work-tree bake: HEAD's commit id when `.pv/` is
 * exactly HEAD's (so baking the work tree and --rev HEAD give identical
 * files), else "worktree" (also outside a repository). */
void pvgit_worktree_source(const char *dir, char *out, size_t cap);

/* The `.pv` tree of a commit, at `prefix` (see pvgit_repo_open).
 * Errors: PV_ENOTFOUND (no workspace there: "LABEL has no workspace at
 * 'PATH'"), PV_EIO. *out is freed with git_tree_free. */
int pvgit_commit_pv_tree(git_repository *repo, git_commit *commit, const char *prefix, const char *label,
                         git_tree **out);

/* A copy of blob b's bytes, NUL-terminated (*len excludes the NUL); the
 * caller frees *text. Errors: PV_ELIMIT when it is larger than `max`
 * bytes (the message names `what`), PV_ENOMEM. */
int pvgit_blob_copy(git_blob *b, size_t max, const char *what, char **text, size_t *len);
/* The same for the blob with id `id`; also PV_EIO or PV_ENOTFOUND when
 * it cannot be read (pvgit_fail, naming `what`). */
int pvgit_blob_read(git_repository *repo, const git_oid *id, size_t max, const char *what,
                    char **text, size_t *len);

/* Record libgit2's last error as a libpv error (pv_errmsg) and return
 * PV_EIO, or PV_ENOTFOUND for GIT_ENOTFOUND. */
int pvgit_fail(int git_rc, const char *what);

#endif
