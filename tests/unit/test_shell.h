/*
 * test_shell.h: run a shell command line made like printf's, and fail the
 * test unless it exits 0. Shared by test_race.c and test_txn.c. Include
 * after <cmocka.h>.
 */
#ifndef PV_TEST_SHELL_H
#define PV_TEST_SHELL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void shell(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

#endif
