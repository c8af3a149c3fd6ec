/*
 * cmd_git_setup.c: `pvdev git-setup [--uninstall]`: set up (or undo) a
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
    "usage: pvdev git-setup [--uninstall]\n"
    "\n"
    "Set up the git repository around the workspace (.pv/ in the current\n"
    "directory) for PicoVolt; run it once in every fresh clone:\n"
    "  .gitattributes   '" PVGIT_ATTR_LINE "' (tracked: commit it)\n"
    "  .git/config      merge.pv.driver = " PVGIT_MERGE_DRIVER "\n"
    "                   diff.pv.textconv = " PVGIT_TEXTCONV ", diff.pv.cachetextconv\n"
    "  hooks            pre-commit (never over a hook pvdev did not write)\n"
    "Running it again changes nothing. --uninstall removes what it wrote.\n";

int cmd_git_setup(int argc, char **argv)
{
    int uninstall = 0, i;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--uninstall")) {
            uninstall = 1;
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
    if (pvgit_setup(".", uninstall, stdout) != PV_OK) return pvdev_fail("git-setup");
    return PVDEV_EXIT_OK;
}
