/*
 * fail.c: reporting a libpv failure the same way from every subcommand.
 */
#include <stdio.h>

#include "cmds.h"
#include "pv.h"

int pvdev_fail(const char *what)
{
    if (what) fprintf(stderr, "pvdev: %s: %s\n", what, pv_errmsg());
    else fprintf(stderr, "pvdev: %s\n", pv_errmsg());
    return PVDEV_EXIT_FAIL;
}
