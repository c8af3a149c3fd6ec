/*
 * cmd_git_setup.c: `pvdev git-setup [--uninstall | --force]`: set up (or undo) a
 * clone for PicoVolt: .gitattributes, the merge and diff drivers in the
 * local config, the hooks (pvgit/setup.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "pv.h"
#include "setup.h"

static const char git_setup_usage[] =
    "usage: pvdev git-setup [--uninstall | --force]\n"
    "\n"
    "Set up the git repository around the workspace (.pv/ in the current\n"
    "directory) for PicoVolt; run it once in every fresh clone:\n"
    "  .gitattributes   '" PVGIT_ATTR_LINE "' (tracked: commit it)\n"
    "  .git/config      merge.pv.driver = " PVGIT_MERGE_DRIVER "\n"
    "                   diff.pv.textconv = " PVGIT_TEXTCONV ", diff.pv.cachetextconv\n"
    "  hooks            pre-commit, pre-merge-commit (never over a hook pvdev\n"
    "                   did not write)\n"
    "A config value you set yourself (a wrapper as merge.pv.driver, say) is\n"
    "kept and reported; --force replaces it. Running it again changes nothing.\n"
    "--uninstall removes what it wrote.\n";

int cmd_git_setup(int argc, char **argv)
{
    unsigned flags = 0;
    int i;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--uninstall")) {
            flags |= PVGIT_SETUP_UNINSTALL;
        } else if (!strcmp(argv[i], "--force")) {
            flags |= PVGIT_SETUP_FORCE;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("%s", git_setup_usage);
            return PVDEV_EXIT_OK;
        } else {
            fprintf(stderr, "%s", git_setup_usage);
            return PVDEV_EXIT_USAGE;
        }
    }
    if (access(".pv", F_OK) != 0) {
        fprintf(stderr, "pvdev: git-setup: no workspace here: run it in the directory that holds .pv/\n");
        return PVDEV_EXIT_FAIL;
    }
    if (flags == (PVGIT_SETUP_UNINSTALL | PVGIT_SETUP_FORCE)) {
        fprintf(stderr, "pvdev: git-setup: --uninstall and --force do not go together\n%s", git_setup_usage);
        return PVDEV_EXIT_USAGE;
    }
    if (pvgit_setup(".", flags, stdout) != PV_OK) return pvdev_fail("git-setup");
    return PVDEV_EXIT_OK;
}
