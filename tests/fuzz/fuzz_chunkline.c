/*
 * fuzz_chunkline.c: libFuzzer target for the chunk line decoder, the parser
 * of records that arrive in strangers' pull requests.
 *
 * The first input byte picks a schema shape (the types the header maps to);
 * the rest is one line. A decoded row must re-encode to a line that decodes
 * to the same values (the codec is canonical), and nothing may crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunkline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int shapes[4][4] = {
    {PV_INTEGER, PV_TEXT, PV_REAL, PV_BOOLEAN},
    {PV_TEXT, PV_TEXT, PV_TEXT, PV_TEXT},
    {PV_BLOB, PV_INTEGER, PV_TEXT, PV_REAL},
    {PV_REAL, PV_BOOLEAN, PV_BLOB, PV_INTEGER},
};

static void check_round_trip(const int *types, const pv_chunk_rec *r)
{
    pv_schema *s = pv_schema_new("t", 1);
    pv_buf line = PV_BUF_INIT;
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec again;
    uint32_t i;
    static const char *names[4] = {"a", "b", "c", "d"};
    uint32_t key = 0;
    if (!s) return;
    for (i = 0; i < 4; i++) pv_schema_add_column(s, names[i], 1, types[i], 0);
    pv_schema_set_pk(s, &key, 1);
    if (pv_chunk_encode_row(&line, s, r->vals, r->refs) == PV_OK) {
        if (pv_chunk_decode(line.p, line.len - 1, types, 4, types, 1, &a, &again) != PV_OK)
            abort(); /* our own canonical output must read back */
        for (i = 0; i < 4; i++) {
            if (r->refs && r->refs[i].present) continue;
            if (pv_value_cmp(&r->vals[i], &again.vals[i]) != 0 &&
                !(r->vals[i].type == PV_REAL && r->vals[i].u.f != r->vals[i].u.f))
                abort();
        }
    }
    pv_buf_free(&line);
    pv_arena_free(&a);
    pv_schema_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec r;
    const int *types;
    if (size < 1) return 0;
    types = shapes[data[0] & 3];
    if (pv_chunk_decode((const char *)data + 1, size - 1, types, 4, types, 1, &a, &r) == PV_OK &&
        r.kind == PV_REC_ROW)
        check_round_trip(types, &r);
    pv_arena_free(&a);
    return 0;
}
