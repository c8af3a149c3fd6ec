/*
 * fuzz_common.h: helpers shared by the fuzz targets (included, not linked:
 * each target is one translation unit plus libpv and pvdev's modules).
 *
 *   fz_tmpdir()       a private directory, made once per process (in
 *                     /dev/shm when it exists, so files cost no disk I/O)
 *                     and removed at exit;
 *   fz_rmtree(path)   remove a tree (nftw, depth first);
 *   fz_write(path,..) write a whole file;
 *   fz_quiet_begin/end  send stderr to /dev/null around a call that
 *                     reports on stderr (pvdev's subcommands), unless
 *                     PV_FUZZ_VERBOSE is set in the environment; a
 *                     sanitizer's report still goes to the real stderr
 *                     (without that, a crash inside the call left an
 *                     artifact and no stack).
 */
#ifndef PV_FUZZ_COMMON_H
#define PV_FUZZ_COMMON_H

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[256];

static inline int fz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void fz_rmtree(const char *path)
{
    nftw(path, fz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void fz_cleanup(void)
{
    if (fz_dir[0]) fz_rmtree(fz_dir);
}

static inline const char *fz_tmpdir(void)
{
    struct stat st;
    const char *base;
    if (fz_dir[0]) return fz_dir;
    base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
               ? "/dev/shm"
               : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(fz_dir, sizeof fz_dir, "%s/pv-fuzz.XXXXXX", base);
    if (!mkdtemp(fz_dir)) {
        perror("mkdtemp");
        abort();
    }
    atexit(fz_cleanup);
    return fz_dir;
}

static inline void fz_write(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t done = 0;
    if (fd < 0) {
        perror(path);
        abort();
    }
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            perror(path);
            abort();
        }
        done += (size_t)n;
    }
    close(fd);
}

static int fz_saved_stderr = -1;

/* sanitizer_common's interface (ASan, UBSan; gcc's and clang's): where
 * reports go. Weak: absent from a build without sanitizers. */
void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

static inline void fz_quiet_begin(void)
{
    int devnull;
    if (getenv("PV_FUZZ_VERBOSE")) return;
    fflush(stderr);
    devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0) return;
    fz_saved_stderr = dup(2);
    dup2(devnull, 2);
    close(devnull);
    if (__sanitizer_set_report_fd && fz_saved_stderr >= 0)
        __sanitizer_set_report_fd((void *)(intptr_t)fz_saved_stderr);
}

static inline void fz_quiet_end(void)
{
    if (fz_saved_stderr < 0) return;
    fflush(stderr);
    dup2(fz_saved_stderr, 2);
    if (__sanitizer_set_report_fd) __sanitizer_set_report_fd((void *)(intptr_t)2);
    close(fz_saved_stderr);
    fz_saved_stderr = -1;
}

#endif
