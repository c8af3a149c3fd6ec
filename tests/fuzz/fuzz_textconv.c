/*
 * fuzz_textconv.c: libFuzzer target for git's diff driver (`pvdev textconv
 * FILE`, pvgit_textconv), which git runs on every version of a `.pv/` file
 * that `git diff`, `git log -p` or `git show` prints, a stranger's pull
 * request included.
 *
 * Input: the bytes of one chunk or schema file.
 *
 * Oracles besides "no crash, no leak, no UB":
 *   - the output depends on the bytes alone (git caches it by blob): a
 *     second conversion gives the same bytes;
 *   - a successful conversion is whole lines: empty, or ending with '\n';
 *   - on error nothing is promised of the output, but the call returns a
 *     PV_E* code, never a positive value.
 */
#include "fuzz_common.h"

#include "pv.h"
#include "rowdiff.h"
#include "util.h"

static void fail(const char *why, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_textconv: %s\n--- input (%zu bytes):\n%.*s\n", why, size, (int)size, (const char *)data);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_buf a = PV_BUF_INIT, b = PV_BUF_INIT;
    int ra, rb;
    if (size > 1 << 18) return 0;
    ra = pvgit_textconv(&a, (const char *)data, size);
    rb = pvgit_textconv(&b, (const char *)data, size);
    if (ra > 0 || rb > 0) fail("a positive return", data, size);
    if (ra != rb) fail("two conversions of the same bytes disagree on success", data, size);
    if (!ra && (a.len != b.len || (a.len && memcmp(a.p, b.p, a.len))))
        fail("two conversions of the same bytes differ", data, size);
    if (!ra && a.len && a.p[a.len - 1] != '\n') fail("the output does not end with a newline", data, size);
    pv_buf_free(&a);
    pv_buf_free(&b);
    return 0;
}
