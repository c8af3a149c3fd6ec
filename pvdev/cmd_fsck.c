/*
 * cmd_fsck.c: `pvdev fsck [--rev REV]`: check the workspace (or the
 * workspace as it is at a git revision) and print one line per problem.
 * Exit 0 when clean, 1 when anything is wrong. The work tree is checked
 * as one committed state (pv_ws_fsck_worktree), whatever commits meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "pvgit.h"
#include "reader.h"
#include "ws.h"

static void print_problem(void *ctx, const char *msg)
{
    (void)ctx;
    printf("%s\n", msg);
}

int cmd_fsck(int argc, char **argv)
{
    const char *rev = NULL;
    pv_ws_reader r;
    pv_fsck_stats st;
    pvgit_tree *tree = NULL;
    git_repository *repo = NULL;
    char *prefix = NULL;
    int i, rc;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: pvdev fsck [--rev REV]\n\n"
                   "Check every schema, chunk line, blob reference and blob file of the\n"
                   "workspace (or of the workspace at git revision REV) and print one line\n"
                   "per problem, naming its file and line. Exit 1 if there is any.\n"
                   "The work tree is checked as one committed state: other processes may\n"
                   "commit meanwhile (a compaction or DROP TABLE makes it check again).\n");
            return PVDEV_EXIT_OK;
        } else if (!strcmp(argv[i], "--rev") && i + 1 < argc) {
            rev = argv[++i];
        } else {
            fprintf(stderr, "usage: pvdev fsck [--rev REV]\n");
            return PVDEV_EXIT_USAGE;
        }
    }
    if (rev) {
        if ((rc = pvgit_repo_open(".", &repo, &prefix)) || (rc = pvgit_tree_open(repo, rev, prefix, &tree))) {
            free(prefix);
            git_repository_free(repo);
            return pvdev_fail(NULL);
        }
        pvgit_tree_reader(tree, &r);
    }
    /* the work tree as one committed state, whatever commits meanwhile */
    rc = rev ? pv_ws_fsck(&r, print_problem, NULL, &st) : pv_ws_fsck_worktree(".", print_problem, NULL, &st);
    pvgit_tree_free(tree);
    git_repository_free(repo);
    free(prefix);
    if (rc) return pvdev_fail(NULL);
    fprintf(stderr, "%s: %zu table%s, %zu chunk%s, %zu records, %zu blob references, %zu blob files: %zu problem%s\n",
            rev ? rev : "worktree", st.tables, st.tables == 1 ? "" : "s", st.chunks, st.chunks == 1 ? "" : "s",
            st.records, st.refs, st.blobs, st.problems, st.problems == 1 ? "" : "s");
    return st.problems ? PVDEV_EXIT_FAIL : PVDEV_EXIT_OK;
}
