/*
 * cmd_init.c: `pvdev init`: create `.pv/` in the current directory.
 */
#include <git2.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "pv.h"

/* The work tree of the git repository around `dir`, if any (libgit2). */
static int git_workdir(const char *dir, char *out, size_t cap)
{
    git_repository *repo = NULL;
    const char *wd;
    int found = 0;
    git_libgit2_init();
    if (git_repository_open_ext(&repo, dir, 0, NULL) == 0) {
        wd = git_repository_workdir(repo);
        if (wd) {
            snprintf(out, cap, "%s", wd);
            found = 1;
        }
        git_repository_free(repo);
    }
    git_libgit2_shutdown();
    return found;
}

int cmd_init(int argc, char **argv)
{
    char cwd[4096], wd[4096];
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: pvdev init\n\n"
               "Create a PicoVolt workspace (.pv/) in the current directory,\n"
               "inside a git repository or not. Local state (lock, journal,\n"
               "caches) is listed in .pv/.gitignore and never committed.\n");
        return PVDEV_EXIT_OK;
    }
    if (argc > 1) {
        fprintf(stderr, "usage: pvdev init\n");
        return PVDEV_EXIT_USAGE;
    }
    if (!getcwd(cwd, sizeof cwd)) {
        perror("pvdev: getcwd");
        return PVDEV_EXIT_FAIL;
    }
    if (pv_workspace_init(".") != PV_OK) return pvdev_fail(NULL);
    if (git_workdir(".", wd, sizeof wd))
        printf("initialized PicoVolt workspace in %s/.pv (git work tree %s)\n", cwd, wd);
    else
        printf("initialized PicoVolt workspace in %s/.pv\n", cwd);
    return PVDEV_EXIT_OK;
}
