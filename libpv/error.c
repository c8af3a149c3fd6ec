/*
 * error.c: result code names and the thread-local detailed message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define PV_ERRMSG_MAX 1024

/* Thread-local so many reader threads can fail independently. */
static _Thread_local char errmsg[PV_ERRMSG_MAX];
/* The byte offset in the SQL text of the error errmsg describes, or -1:
 * set by pv_err_at, reset by every other new error. */
static _Thread_local int64_t erroff = -1;

PV_API const char *pv_errmsg(void) { return errmsg; }

PV_API int64_t pv_error_offset(void) { return erroff; }

PV_API const char *pv_version(void) { return PV_VERSION_STRING; }

PV_API const char *pv_errstr(int code)
{
    switch (code) {
    case PV_OK: return "PV_OK: success";
    case PV_ROW: return "PV_ROW: a row is ready";
    case PV_ERROR: return "PV_ERROR: internal error";
    case PV_ENOMEM: return "PV_ENOMEM: out of memory";
    case PV_EIO: return "PV_EIO: input/output error";
    case PV_ECORRUPT: return "PV_ECORRUPT: file is damaged";
    case PV_EFORMAT: return "PV_EFORMAT: not a PicoVolt file or unsupported version";
    case PV_ESQL: return "PV_ESQL: SQL error";
    case PV_ENOTFOUND: return "PV_ENOTFOUND: not found";
    case PV_EEXISTS: return "PV_EEXISTS: already exists";
    case PV_ECONSTRAINT: return "PV_ECONSTRAINT: constraint violated";
    case PV_ETYPE: return "PV_ETYPE: value does not fit the column type";
    case PV_ERANGE: return "PV_ERANGE: index out of range";
    case PV_EMISUSE: return "PV_EMISUSE: API misuse";
    case PV_EREADONLY: return "PV_EREADONLY: database is read-only";
    case PV_ELOCKED: return "PV_ELOCKED: workspace is locked";
    case PV_EINPUT: return "PV_EINPUT: bad input data";
    case PV_ELIMIT: return "PV_ELIMIT: limit exceeded";
    case PV_EBUSY: return "PV_EBUSY: workspace changed under the handle; reopen it";
    default: return "unknown error";
    }
}

static void set_msg(const char *fmt, va_list ap)
{
    vsnprintf(errmsg, sizeof errmsg, fmt, ap);
}

/* Join "a: b" into the message, cutting it at the buffer's end: a long
 * message loses its tail, never the object it names first. */
static void set_joined(const char *a, const char *b, const char *sep)
{
    size_t na = strlen(a), ns = strlen(sep), nb = strlen(b), cap = sizeof errmsg - 1;
    char out[PV_ERRMSG_MAX];
    size_t len = 0;
    memcpy(out, a, na < cap ? na : cap);
    len = na < cap ? na : cap;
    if (len + ns < cap) {
        memcpy(out + len, sep, ns);
        len += ns;
        memcpy(out + len, b, nb < cap - len ? nb : cap - len);
        len += nb < cap - len ? nb : cap - len;
    }
    out[len] = '\0';
    memcpy(errmsg, out, len + 1);
}

int pv_err(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_msg(fmt, ap);
    va_end(ap);
    erroff = -1;
    return code;
}

#define AT_OFFSET " at offset "

int pv_err_at(int code, size_t off, const char *fmt, ...)
{
    char what[PV_ERRMSG_MAX - 32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(errmsg, sizeof errmsg, "%s" AT_OFFSET "%zu", what, off);
    erroff = (int64_t)off;
    return code;
}

int pv_err_locate(int code, size_t off)
{
    char what[PV_ERRMSG_MAX];
    if (erroff >= 0) return code;
    snprintf(what, sizeof what, "%s", errmsg);
    return pv_err_at(code, off, "%s", what);
}

int pv_err_rebase(int code, size_t base)
{
    char old[48];
    size_t n, k;
    if (erroff < 0 || base == 0) return code;
    /* the message ends with pv_err_at's " at offset N" unless a long
     * prefix cut it off; only then is it left as it is */
    n = strlen(errmsg);
    k = (size_t)snprintf(old, sizeof old, AT_OFFSET "%lld", (long long)erroff);
    erroff += (int64_t)base;
    if (n >= k && memcmp(errmsg + n - k, old, k) == 0)
        snprintf(errmsg + n - k, sizeof errmsg - (n - k), AT_OFFSET "%lld", (long long)erroff);
    return code;
}

void pv_err_save(pv_err_saved *s)
{
    snprintf(s->msg, sizeof s->msg, "%s", errmsg);
    s->off = erroff;
}

int pv_err_restore(int code, const pv_err_saved *s)
{
    snprintf(errmsg, sizeof errmsg, "%s", s->msg);
    erroff = s->off < 0 ? -1 : s->off;
    return code;
}

int pv_err_also(int code, const pv_err_saved *s, const char *what, const char *advice)
{
    char why[PV_ERRMSG_MAX / 2]; /* (a long one cut: the saved error comes first) */
    snprintf(why, sizeof why, "%.*s", (int)sizeof why - 1, errmsg);
    return pv_err(code, "%s; %s failed too (%s): %s", s->msg, what, why, advice);
}

int pv_err_errno(const char *fmt, ...)
{
    int e = errno;
    char what[PV_ERRMSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    set_joined(what, strerror(e), ": ");
    erroff = -1;
    if (e == ENOENT) return PV_ENOTFOUND;
    if (e == ENOMEM) return PV_ENOMEM;
    return PV_EIO;
}

int pv_err_corrupt(const char *src_file, int src_line, const char *fmt, ...)
{
    char what[PV_ERRMSG_MAX], where[128];
    va_list ap;
    const char *base = strrchr(src_file, '/');
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(where, sizeof where, "(detected at %s:%d)", base ? base + 1 : src_file, src_line);
    set_joined(what, where, " ");
    erroff = -1;
    return PV_ECORRUPT;
}

void pv_err_prefix(const char *fmt, ...)
{
    char prefix[PV_ERRMSG_MAX / 2];
    char old[PV_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, errmsg, sizeof old);
    set_joined(prefix, old, ": ");
}
