/*
 * util.c: buffers, arenas, whole-file reads and full writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* ---- pv_buf -------------------------------------------------------------- */

int pv_buf_reserve(pv_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;
    if (extra > SIZE_MAX - b->len - 1) return pv_err(PV_ENOMEM, "buffer too large");
    need = b->len + extra + 1; /* room for a terminator */
    if (need <= b->cap) return PV_OK;
    cap = b->cap ? b->cap : 256;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->p, cap);
    if (!p) return pv_err(PV_ENOMEM, "out of memory (%zu bytes)", cap);
    b->p = p;
    b->cap = cap;
    return PV_OK;
}

int pv_buf_append(pv_buf *b, const void *p, size_t n)
{
    int rc = pv_buf_reserve(b, n);
    if (rc) return rc;
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return PV_OK;
}

int pv_buf_putc(pv_buf *b, char c)
{
    if (PV_UNLIKELY(b->len + 1 >= b->cap)) {
        int rc = pv_buf_reserve(b, 1);
        if (rc) return rc;
    }
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
    return PV_OK;
}

int pv_buf_printf(pv_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, rc;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return pv_err(PV_ERROR, "bad format");
    rc = pv_buf_reserve(b, (size_t)n);
    if (rc) return rc;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return PV_OK;
}

int pv_buf_zeros(pv_buf *b, size_t n)
{
    int rc = pv_buf_reserve(b, n);
    if (rc) return rc;
    memset(b->p + b->len, 0, n + 1);
    b->len += n;
    return PV_OK;
}

int pv_buf_align(pv_buf *b, size_t align)
{
    size_t pad = (align - (b->len & (align - 1))) & (align - 1);
    return pad ? pv_buf_zeros(b, pad) : PV_OK;
}

void pv_buf_free(pv_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- pv_arena ------------------------------------------------------------ */

struct pv_arena_block {
    pv_arena_block *next;
    size_t size;
    /* then `size` bytes, 16-byte aligned by the union below */
    union { max_align_t a; char c[1]; } data[];
};

#define PV_ARENA_BLOCK 65536
#define PV_ARENA_FIRST 4096

/* Blocks start at 4 KiB and double up to 64 KiB. Why not 64 KiB at once:
 * a short statement (a point query) then holds 4-8 KiB instead of 64, and
 * two arenas freed together no longer leave more than glibc's trim
 * threshold (128 KiB) free at the top of the heap, which made every
 * open+query+close give the memory back to the kernel and fault it in
 * again (four brk calls per query). */
static size_t next_block_size(const pv_arena *a, size_t n)
{
    size_t size = !a->head ? PV_ARENA_FIRST
                  : a->head->size >= PV_ARENA_BLOCK / 2 ? PV_ARENA_BLOCK
                  : a->head->size * 2;
    while (size < n) size *= 2;   /* n <= PV_ARENA_BLOCK / 4 here */
    return size;
}

void *pv_arena_alloc(pv_arena *a, size_t n)
{
    pv_arena_block *blk;
    size_t size;
    n = (n + 7) & ~(size_t)7;
    if (a->head && a->head->size - a->used >= n) {
        void *p = (char *)a->head->data + a->used;
        a->used += n;
        return p;
    }
    size = n > PV_ARENA_BLOCK / 4 ? n : next_block_size(a, n);
    if (size > SIZE_MAX - sizeof *blk) return NULL;
    blk = malloc(sizeof *blk + size);
    if (!blk) return NULL;
    blk->size = size;
    a->total += size;
    if (a->head && size > PV_ARENA_BLOCK) {
        /* A big allocation gets its own block behind the current one, so the
         * free space left in the current block is not wasted. */
        blk->next = a->head->next;
        a->head->next = blk;
        return blk->data;
    }
    blk->next = a->head;
    a->head = blk;
    a->used = n;
    return blk->data;
}

char *pv_arena_dup(pv_arena *a, const void *p, size_t n)
{
    char *d;
    if (n == SIZE_MAX) return NULL;
    d = pv_arena_alloc(a, n + 1);
    if (!d) return NULL;
    if (n) memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

void pv_arena_free(pv_arena *a)
{
    pv_arena_block *b = a->head;
    while (b) {
        pv_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = a->total = 0;
}

void pv_arena_reset(pv_arena *a)
{
    pv_arena_block *b = a->head, *keep = NULL;
    while (b) {
        pv_arena_block *next = b->next;
        if (!keep && b->size <= PV_ARENA_BLOCK) keep = b; /* reused: the newest, so the largest, standard block */
        else free(b);
        b = next;
    }
    if (keep) keep->next = NULL;
    a->head = keep;
    a->used = 0;
    a->total = keep ? keep->size : 0;
}

/* ---- misc ---------------------------------------------------------------- */

int pv_ident_eq(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i;
    if (an != bn) return 0;
    for (i = 0; i < an; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
        if (x != y) return 0;
    }
    return 1;
}

static int open_file(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno == ELOOP && (flags & O_NOFOLLOW))
        return pv_err(PV_ECORRUPT, "'%s' is a symbolic link; a workspace holds plain files only", path);
    return pv_err_errno("cannot open '%s'", path);
}

int pv_truncate_nofollow(const char *path, uint64_t size)
{
    int fd = open_file(path, O_WRONLY | O_NOFOLLOW), rc = PV_OK;
    if (fd < 0) return fd;
    if (ftruncate(fd, (off_t)size) != 0) rc = pv_err_errno("cannot truncate '%s'", path);
    close(fd);
    return rc;
}

static int read_file(const char *path, int flags, size_t max_bytes, char **out, size_t *out_len);

int pv_read_file(const char *path, size_t max_bytes, char **out, size_t *out_len)
{
    return read_file(path, 0, max_bytes, out, out_len);
}

int pv_read_file_nofollow(const char *path, size_t max_bytes, char **out, size_t *out_len)
{
    return read_file(path, O_NOFOLLOW, max_bytes, out, out_len);
}

static int read_file(const char *path, int flags, size_t max_bytes, char **out, size_t *out_len)
{
    int fd, rc = PV_OK;
    struct stat st;
    char *p = NULL;
    size_t got = 0;

    *out = NULL;
    *out_len = 0;
    fd = open_file(path, O_RDONLY | flags);
    if (fd < 0) return fd;
    if (fstat(fd, &st) != 0) {
        rc = pv_err_errno("cannot stat '%s'", path);
        goto done;
    }
    if ((uint64_t)st.st_size > max_bytes) {
        rc = pv_err(PV_ELIMIT, "'%s' is too large (%lld bytes, limit %zu)", path,
                    (long long)st.st_size, max_bytes);
        goto done;
    }
    p = malloc((size_t)st.st_size + 1);
    if (!p) {
        rc = pv_err(PV_ENOMEM, "out of memory reading '%s'", path);
        goto done;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, p + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = pv_err_errno("cannot read '%s'", path);
            goto done;
        }
        if (n == 0) break; /* file shrank under us: return what is there */
        got += (size_t)n;
    }
    p[got] = '\0';
    *out = p;
    *out_len = got;
    p = NULL;
done:
    free(p);
    close(fd);
    return rc;
}

int pv_write_all(int fd, const void *p, size_t n, const char *what)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return pv_err_errno("cannot write '%s'", what);
        c += w;
        n -= (size_t)w;
    }
    return PV_OK;
}
