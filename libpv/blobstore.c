/*
 * blobstore.c: the content-addressed value store (see blobstore.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobstore.h"
#include "ws.h"

/* Values over this size are refused on read: a reference in a hostile chunk
 * must not make us allocate without bound. */
#define PV_BLOB_MAX ((size_t)1 << 31)

void pv_sha256_hex(const void *p, size_t n, char hex[65])
{
    SHA2_CTX ctx;
    SHA256Init(&ctx);
    SHA256Update(&ctx, p, n);
    SHA256End(&ctx, hex); /* lower-case hex, NUL-terminated */
}

static void blob_path(char *out, size_t cap, const char *pvdir, const char *hex)
{
    snprintf(out, cap, "%s/blobs/%.2s/%s", pvdir, hex, hex + 2);
}

int pv_blob_by_ref(const pv_value *v)
{
    return (v->type == PV_TEXT || v->type == PV_BLOB) && v->u.s.n > PV_BLOB_THRESHOLD;
}

void pv_blobref_of(const void *p, size_t n, pv_blobref *out)
{
    pv_sha256_hex(p, n, out->hex);
    out->size = n;
    out->present = 1;
}

int pv_blob_encode_row(const char *pvdir, int sync, const pv_schema *s, const pv_value *row, pv_blobref *refs,
                       pv_buf *out)
{
    uint32_t c;
    int any = 0, rc;
    for (c = 0; c < s->ncols; c++) {
        refs[c].present = 0;
        if (pv_blob_by_ref(&row[c])) {
            if ((rc = pv_blob_put(pvdir, row[c].u.s.p, row[c].u.s.n, sync, &refs[c]))) return rc;
            any = 1;
        }
    }
    return pv_chunk_encode_row(out, s, row, any ? refs : NULL);
}

int pv_blob_put(const char *pvdir, const void *p, size_t n, int sync, pv_blobref *out)
{
    char path[4096], dir[4096], tmp[4200];
    struct stat st;
    int fd, rc, made;

    pv_blobref_of(p, n, out);
    blob_path(path, sizeof path, pvdir, out->hex);
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == n) return PV_OK;

    snprintf(dir, sizeof dir, "%s/blobs/%.2s", pvdir, out->hex);
    made = mkdir(dir, 0777) == 0 || errno == EEXIST;
    if (!made && errno == ENOENT) {
        /* git keeps no empty directory: .pv/blobs is missing in a clone
         * without large values and after a checkout of one */
        snprintf(tmp, sizeof tmp, "%s/blobs", pvdir);
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return pv_err_errno("cannot create '%s'", tmp);
        made = mkdir(dir, 0777) == 0 || errno == EEXIST;
    }
    if (!made) return pv_err_errno("cannot create '%s'", dir);
    snprintf(tmp, sizeof tmp, "%s/.tmp-XXXXXX", dir);
    fd = mkstemp(tmp);
    if (fd < 0) return pv_err_errno("cannot create a file in '%s'", dir);
    rc = pv_write_all(fd, p, n, tmp);
    if (!rc && sync && fsync(fd) != 0) rc = pv_err_errno("cannot sync '%s'", tmp);
    if (close(fd) != 0 && !rc) rc = pv_err_errno("cannot close '%s'", tmp);
    /* mkstemp makes 0600; blobs are shared files like the chunks. */
    if (!rc && chmod(tmp, 0644) != 0) rc = pv_err_errno("cannot chmod '%s'", tmp);
    if (!rc && rename(tmp, path) != 0) rc = pv_err_errno("cannot rename '%s'", tmp);
    if (rc) unlink(tmp);
    return rc;
}

int pv_blob_get(const pv_ws_reader *r, const pv_blobref *ref, pv_arena *a, pv_str *out)
{
    char path[128], hex[65];
    char *data = NULL, *copy;
    size_t n;
    int rc;

    snprintf(path, sizeof path, "blobs/%.2s/%s", ref->hex, ref->hex + 2);
    if (ref->size > PV_BLOB_MAX)
        return PV_CORRUPT("blob %s: size %llu over the %zu-byte limit", ref->hex,
                          (unsigned long long)ref->size, PV_BLOB_MAX);
    rc = r->read(r->ctx, path, PV_BLOB_MAX, &data, &n);
    if (rc == PV_ENOTFOUND)
        return PV_CORRUPT("%s: missing blob '.pv/%s' (is the blob store complete?)", r->label, path);
    if (rc) return rc;
    if (n != ref->size) {
        rc = PV_CORRUPT("blob '.pv/%s' has %zu bytes, the record says %llu", path, n,
                        (unsigned long long)ref->size);
        goto done;
    }
    pv_sha256_hex(data, n, hex);
    if (memcmp(hex, ref->hex, 64) != 0) {
        rc = PV_CORRUPT("blob '.pv/%s' does not match its SHA-256 digest", path);
        goto done;
    }
    copy = pv_arena_dup(a, data, n);
    if (!copy) {
        rc = pv_err(PV_ENOMEM, "out of memory reading '%s'", path);
        goto done;
    }
    out->p = copy;
    out->n = n;
done:
    free(data);
    return rc;
}
