/*
 * provenance.c: what a bake of the work tree records as its source.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvgit.h"
#include "util.h"

/* HEAD's commit id when the workspace's .pv/ is exactly HEAD's (no change,
 * staged or not, and no untracked file), so that baking the work tree and
 * baking --rev HEAD give the same bytes; else "worktree". */
void pvgit_worktree_source(const char *dir, char *out, size_t cap)
{
    git_repository *repo = NULL;
    git_status_list *list = NULL;
    git_status_options opts;
    git_oid head;
    char *prefix = NULL, *spec = NULL;
    snprintf(out, cap, "worktree");
    if (pvgit_repo_open(dir, &repo, &prefix) != PV_OK) return;
    if (git_repository_is_bare(repo) || asprintf(&spec, "%s.pv", prefix) < 0) spec = NULL;
    if (spec && git_reference_name_to_id(&head, repo, "HEAD") == 0 &&
        git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION) == 0) {
        opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
        opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
        opts.pathspec.strings = &spec;
        opts.pathspec.count = 1;
        if (git_status_list_new(&list, repo, &opts) == 0 && git_status_list_entrycount(list) == 0)
            git_oid_tostr(out, cap, &head);
    }
    git_status_list_free(list);
    free(spec);
    free(prefix);
    git_repository_free(repo);
}
