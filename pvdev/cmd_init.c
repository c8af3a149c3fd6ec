/*
 * cmd_init.c: `pvdev init`: create `.pv/` in the current directory.
 */
#include <git2.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "pv.h"
#include "setup.h"

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
               "caches) is listed in .pv/.gitignore and never committed.\n"
               "In a git work tree it also does what 'pvdev git-setup' does:\n"
               ".gitattributes, the merge and diff drivers, the hooks.\n");
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
    if (!git_workdir(".", wd, sizeof wd)) {
        printf("initialized PicoVolt workspace in %s/.pv\n", cwd);
        return PVDEV_EXIT_OK;
    }
    printf("initialized PicoVolt workspace in %s/.pv (git work tree %s)\n", cwd, wd);
    /* the git set-up that `pvdev git-setup` does in a fresh clone */
    if (pvgit_setup(".", 0, stdout) != PV_OK) return pvdev_fail("init: git set-up");
    return PVDEV_EXIT_OK;
}
