/*
 * test_stderr.h: what the calls of a test printed on stderr, for tests
 * that check libpv says nothing (or says exactly something) there: a file
 * holds it meanwhile. Shared by test_faults.c and test_txn.c. Include
 * after <cmocka.h>.
 */
#ifndef PV_TEST_STDERR_H
#define PV_TEST_STDERR_H

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

typedef struct stderr_capture {
    int saved;      /* the real stderr, while captured */
    char path[300]; /* the file that holds what was printed */
} stderr_capture;

/* stderr into `path` until stderr_capture_end. */
static void stderr_capture_begin(stderr_capture *c, const char *path)
{
    int fd;
    snprintf(c->path, sizeof c->path, "%s", path);
    fflush(stderr);
    c->saved = dup(2);
    fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(c->saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
}

/* stderr back, and what was printed since stderr_capture_begin into out
 * (NUL-terminated, cut at cap - 1 bytes); the file is removed. */
static void stderr_capture_end(stderr_capture *c, char *out, size_t cap)
{
    FILE *f;
    size_t n = 0;
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    c->saved = -1;
    if ((f = fopen(c->path, "r"))) {
        n = fread(out, 1, cap - 1, f);
        fclose(f);
    }
    out[n] = '\0';
    unlink(c->path);
}

#endif
