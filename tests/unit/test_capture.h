/*
 * test_capture.h: what the calls of a test printed on stdout or stderr,
 * for tests that check libpv says nothing (or says exactly something)
 * there, or read what a command printed: a file holds it meanwhile.
 * Shared by test_faults.c, test_txn.c and test_race.c. Include after
 * <cmocka.h>.
 */
#ifndef PV_TEST_CAPTURE_H
#define PV_TEST_CAPTURE_H

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

typedef struct fd_capture {
    int fd;         /* 1 (stdout) or 2 (stderr) */
    int saved;      /* the real one, while captured */
    char path[300]; /* the file that holds what was printed */
} fd_capture;

static void fd_capture_flush(int fd) { fflush(fd == 1 ? stdout : stderr); }

/* File descriptor fd (1 or 2) into `path` until fd_capture_end. */
static void fd_capture_begin(fd_capture *c, int fd, const char *path)
{
    int to;
    snprintf(c->path, sizeof c->path, "%s", path);
    c->fd = fd;
    fd_capture_flush(fd);
    c->saved = dup(fd);
    to = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(c->saved >= 0 && to >= 0);
    dup2(to, fd);
    close(to);
}

/* The descriptor back, and what was printed since fd_capture_begin into
 * out (NUL-terminated, cut at cap - 1 bytes); the file is removed. */
static void fd_capture_end(fd_capture *c, char *out, size_t cap)
{
    FILE *f;
    size_t n = 0;
    fd_capture_flush(c->fd);
    dup2(c->saved, c->fd);
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
