/*
 * test_shell.h: run a shell command line made like printf's, and fail the
 * test unless it exits 0, naming the command. Shared by test_race.c,
 * test_txn.c, test_pvgit.c and test_rowdiff.c. Include after <cmocka.h>.
 */
#ifndef PV_TEST_SHELL_H
#define PV_TEST_SHELL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void shell(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0) fail_msg("command failed: %s", cmd);
}

#endif
