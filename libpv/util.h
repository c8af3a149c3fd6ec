/*
 * util.h: small internal helpers shared by every libpv module: error
 * reporting, growable buffers, an arena for strings, and explicit
 * little-endian codecs (never cast a pointer into a mapping).
 */
#ifndef PV_UTIL_H
#define PV_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pv.h"

#if defined(__GNUC__)
#define PV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define PV_LIKELY(x) __builtin_expect(!!(x), 1)
#define PV_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define PV_PRINTF(f, a)
#define PV_LIKELY(x) (x)
#define PV_UNLIKELY(x) (x)
#endif

/* ---- errors -------------------------------------------------------------
 * pv_err records a thread-local message for pv_errmsg() and returns `code`,
 * so callers write `return pv_err(PV_EINPUT, "%s:%d: ...", file, line);`.
 * Messages: lower case, no full stop, object at fault first or quoted.
 */
int pv_err(int code, const char *fmt, ...) PV_PRINTF(2, 3);

/* Like pv_err, with ": strerror(errno)" appended; returns PV_EIO (or
 * PV_ENOTFOUND for ENOENT, PV_ENOMEM for ENOMEM). */
int pv_err_errno(const char *fmt, ...) PV_PRINTF(1, 2);

/* Corruption, recorded with the source line that detected it (SQLite's
 * CORRUPT_BKPT): debugging a crafted file starts from there. */
int pv_err_corrupt(const char *src_file, int src_line, const char *fmt, ...)
    PV_PRINTF(3, 4);
#define PV_CORRUPT(...) pv_err_corrupt(__FILE__, __LINE__, __VA_ARGS__)

/* Prefix the current message with "prefix: " (adds context on the way up).
 * The error keeps its offset (pv_error_offset). */
void pv_err_prefix(const char *fmt, ...) PV_PRINTF(1, 2);

/* An error at byte `off` of the SQL text given to pv_prepare: the message
 * is fmt's followed by " at offset OFF", and pv_error_offset() returns
 * `off` until the next error. Every other pv_err* sets it to -1. */
int pv_err_at(int code, size_t off, const char *fmt, ...) PV_PRINTF(3, 4);

/* Give the current error, one raised where the SQL text is unknown (the
 * schema, the workspace, a revision resolver), the position `off`: as if
 * raised by pv_err_at. An error that has a position keeps it. Returns code. */
int pv_err_locate(int code, size_t off);

/* The current error's offset counted from `base` bytes earlier (the
 * statement began there in a longer text, as in pv_exec): the offset and
 * the message's " at offset N" both move. No effect without an offset.
 * Returns code. */
int pv_err_rebase(int code, size_t base);

/* The current error, kept across a cleanup that may replace it (the
 * cleanup after a failed write must not hide the write's error). */
typedef struct pv_err_saved {
    char msg[1024];
    int64_t off;
} pv_err_saved;
void pv_err_save(pv_err_saved *s);
/* Put the saved error back, offset and all. Returns code. */
int pv_err_restore(int code, const pv_err_saved *s);
/* The saved error first, then the cleanup's (the current one) after it:
 * "MSG; WHAT failed too (WHY): ADVICE", no offset. Returns code. */
int pv_err_also(int code, const pv_err_saved *s, const char *what, const char *advice);

/* ---- growable byte buffer ----------------------------------------------- */
typedef struct pv_buf {
    char *p;      /* bytes; NUL-terminated after every append when len < cap */
    size_t len;   /* bytes used */
    size_t cap;   /* bytes allocated */
} pv_buf;

#define PV_BUF_INIT {NULL, 0, 0}
int pv_buf_reserve(pv_buf *b, size_t extra);           /* PV_ENOMEM */
int pv_buf_append(pv_buf *b, const void *p, size_t n);  /* PV_ENOMEM */
int pv_buf_putc(pv_buf *b, char c);                     /* PV_ENOMEM */
int pv_buf_printf(pv_buf *b, const char *fmt, ...) PV_PRINTF(2, 3);
int pv_buf_zeros(pv_buf *b, size_t n);                  /* append n zero bytes */
void pv_buf_free(pv_buf *b);
/* Pads with zero bytes up to a multiple of `align` (a power of two). */
int pv_buf_align(pv_buf *b, size_t align);

/* ---- arena: many small allocations freed at once ------------------------ */
typedef struct pv_arena_block pv_arena_block;
typedef struct pv_arena {
    pv_arena_block *head;
    size_t used;   /* bytes used in head */
    size_t total;  /* bytes allocated in all blocks (for limits) */
} pv_arena;

#define PV_ARENA_INIT {NULL, 0, 0}
/* 8-byte aligned memory, NULL on allocation failure. */
void *pv_arena_alloc(pv_arena *a, size_t n);
/* A copy of n bytes plus a NUL terminator; NULL on failure. */
char *pv_arena_dup(pv_arena *a, const void *p, size_t n);
void pv_arena_free(pv_arena *a);
/* Forget every allocation but keep the first block for reuse, so a loop
 * that fills and empties an arena does not call malloc each time. */
void pv_arena_reset(pv_arena *a);

/* ---- little-endian codecs ----------------------------------------------- */
static inline void pv_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void pv_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void pv_put_u64(uint8_t *p, uint64_t v)
{
    pv_put_u32(p, (uint32_t)v);
    pv_put_u32(p + 4, (uint32_t)(v >> 32));
}
static inline uint16_t pv_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t pv_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static inline uint64_t pv_get_u64(const uint8_t *p)
{
    return (uint64_t)pv_get_u32(p) | ((uint64_t)pv_get_u32(p + 4) << 32);
}
static inline void pv_put_f64(uint8_t *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    pv_put_u64(p, u);
}
static inline double pv_get_f64(const uint8_t *p)
{
    uint64_t u = pv_get_u64(p);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* ---- misc ---------------------------------------------------------------- */
/* ASCII case-insensitive equality of two byte strings (SQL identifiers). */
int pv_ident_eq(const char *a, size_t an, const char *b, size_t bn);

/* Read a whole file into *out (caller frees with free()); PV_ENOTFOUND,
 * PV_EIO, PV_ENOMEM, PV_ELIMIT (over max_bytes). */
int pv_read_file(const char *path, size_t max_bytes, char **out, size_t *out_len);

/* pv_read_file for files that must not be symbolic links (a workspace's):
 * a link is PV_ECORRUPT. */
int pv_read_file_nofollow(const char *path, size_t max_bytes, char **out, size_t *out_len);

/* Cut a file to `size` bytes without following a symbolic link (a link is
 * PV_ECORRUPT). A missing file is PV_ENOTFOUND. */
int pv_truncate_nofollow(const char *path, uint64_t size);

/* Write all n bytes to fd, retrying on EINTR and short writes; PV_EIO. */
int pv_write_all(int fd, const void *p, size_t n, const char *what);

#endif
