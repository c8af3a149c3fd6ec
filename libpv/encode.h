/*
 * encode.h: column chunk encodings of the `.pvdb` file (docs/FORMAT.md,
 * part 3, "Column chunk payloads").
 *
 * An encoding turns the values of one column chunk (rows [0, nrows) of a
 * column inside one row group) into a "values section" and back. The null
 * bitmap in front of it is common to every encoding and handled by the
 * caller; encodings only see which rows are NULL.
 *
 * Each encoding is one pv_encoder in a registry indexed by its id, so adding
 * frame-of-reference, delta or RLE is: one encode_<name>.c, one id, one row
 * in encode_choose.c. The chooser plans every encoding that accepts the
 * column type and keeps the smallest; plans are exact, so the choice is a
 * pure function of the input (reproducible files).
 */
#ifndef PV_ENCODE_H
#define PV_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "util.h"
#include "value.h"

/* Encoding ids as stored in a chunk record (one byte). Ids at or above
 * PV_ENC_COUNT are unknown to this reader: a file using them is corrupt for
 * version 1 (a new encoding comes with a required-feature bit). */
#define PV_ENC_PLAIN 0
#define PV_ENC_DICT  1
#define PV_ENC_COUNT 2
/* Reserved for later: 2 frame-of-reference + bit-packing, 3 delta, 4 RLE. */

/* plan() result meaning "this encoding cannot represent this input"
 * (e.g. a dictionary whose strings pass the 4 GiB offset range). */
#define PV_ENC_UNSUITABLE 1

/* The input of one chunk: a view of a column's vector starting at the
 * chunk's first row (v.nulls and v.u point at that row). */
typedef struct pv_enc_in {
    pv_vec v;
    uint32_t nrows;
    uint32_t null_count;
} pv_enc_in;

/* Scratch memory an encoder keeps between plan() and write(), reused from
 * chunk to chunk so a bake does not allocate per chunk. One slot per id. */
typedef struct pv_enc_scratch {
    void *p;
    size_t cap;       /* bytes allocated at p */
    uint32_t count;   /* encoder-defined (the dictionary's size) */
    uint64_t bytes;   /* encoder-defined (the dictionary's string bytes) */
} pv_enc_scratch;

typedef struct pv_enc_ctx {
    pv_enc_scratch s[PV_ENC_COUNT];
} pv_enc_ctx;

#define PV_ENC_CTX_INIT {{{NULL, 0, 0, 0}}}
void pv_enc_ctx_free(pv_enc_ctx *ctx);

/* A values section checked by open() and ready for read(). */
typedef struct pv_dec {
    int type;                 /* column type */
    uint32_t nrows;
    uint32_t null_count;
    const uint8_t *vals;      /* plain: values or string offsets; dict: codes */
    const uint8_t *bytes;     /* plain strings: their bytes */
    const uint8_t *dict;      /* dict: values or string offsets */
    const uint8_t *dict_bytes;/* dict strings: their bytes */
    uint32_t dict_count;
    uint8_t width;            /* dict: bytes per code (1, 2 or 4) */
} pv_dec;

/* Where read() puts values: the member matching the column type. */
typedef union pv_dec_out {
    int64_t *i;
    double *f;
    pv_str *s;
} pv_dec_out;

typedef struct pv_encoder {
    uint8_t id;
    const char *name;   /* as `pvbake inspect` shows it */
    /* Exact byte size of the values section for `in` into *out.
     * Returns 0, PV_ENC_UNSUITABLE, or PV_ENOMEM. */
    int (*plan)(pv_enc_scratch *sc, const pv_enc_in *in, uint64_t *out);
    /* Append the values section (exactly the planned size) to `out`; called
     * right after plan() on the same input. Returns 0 or PV_ENOMEM. */
    int (*write)(pv_enc_scratch *sc, const pv_enc_in *in, pv_buf *out);
    /* Check that p[0..n) is a well-formed values section for d->type,
     * d->nrows and d->null_count (preset by the caller) and fill `d`. Every
     * byte read() will touch is checked here, once per chunk.
     * Returns 0, or 1 when malformed: the caller reports PV_ECORRUPT with
     * the file offset, `*why` says what was wrong. */
    int (*open)(pv_dec *d, const uint8_t *p, uint64_t n, const char **why);
    /* Decode rows [r0, r0 + n) into out[0..n). Never fails; NULL rows get
     * some value of the column type. Strings point into the section. */
    void (*read)(const pv_dec *d, uint32_t r0, uint32_t n, pv_dec_out out);
} pv_encoder;

/* The encoder of id `id`, or NULL when unknown. */
const pv_encoder *pv_encoder_get(unsigned id);

/* Choose the encoding of a chunk: the smallest exact plan among the
 * encoders, ties going to the lower id. *size is the planned values section
 * size. Errors: PV_ELIMIT (no encoding can hold it), PV_ENOMEM. */
int pv_enc_choose(pv_enc_ctx *ctx, const pv_enc_in *in,
                  const pv_encoder **out, uint64_t *size);

/* Encoders, defined in encode_<name>.c. */
extern const pv_encoder pv_enc_plain;
extern const pv_encoder pv_enc_dict;

/* Helpers shared by the encoders (encode_choose.c). */
static inline int pv_enc_is_null(const pv_enc_in *in, uint32_t r)
{
    return in->v.nulls && in->v.nulls[r];
}
static inline int pv_enc_is_str(int type) { return type == PV_TEXT || type == PV_BLOB; }
/* A key of a double whose unsigned order is IEEE-754 totalOrder: distinct
 * bit patterns stay distinct, so sorting by it is deterministic. */
static inline uint64_t pv_enc_f64_key(double f)
{
    uint64_t u;
    memcpy(&u, &f, 8);
    return (u & 0x8000000000000000ull) ? ~u : (u | 0x8000000000000000ull);
}
static inline uint64_t pv_enc_align8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }
/* Grow scratch to at least `n` bytes. Returns 0 or PV_ENOMEM. */
int pv_enc_scratch_reserve(pv_enc_scratch *sc, size_t n);
/* Write the u32 offsets + bytes layout of `n` strings (FORMAT.md part 3);
 * rows with nulls[i] set (when nulls is not NULL) are written empty. */
void pv_enc_put_strings(uint8_t *dst, const pv_str *s, const uint8_t *nulls,
                        uint32_t n);
/* Check u32 offsets + bytes of `count` strings fill p[0..len) exactly;
 * on success *bytes points at the string bytes. Returns 0 or 1. */
int pv_enc_check_strings(const uint8_t *p, uint64_t len, uint32_t count,
                         const uint8_t **bytes);
/* String i of an offsets + bytes layout checked by pv_enc_check_strings. */
static inline pv_str pv_enc_get_string(const uint8_t *offs, const uint8_t *bytes,
                                       uint32_t i)
{
    pv_str s;
    uint32_t a = pv_get_u32(offs + 4 * (size_t)i);
    uint32_t b = pv_get_u32(offs + 4 * ((size_t)i + 1));
    s.p = (const char *)bytes + a;
    s.n = b - a;
    return s;
}

#endif
