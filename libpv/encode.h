/*
 * encode.h: column chunk encodings of the `.pvdb` file, format version 2
 * (docs/FORMAT.md part 3, "Column chunk payloads"; docs/BAKE.md says why).
 *
 * An encoding turns the values of one column chunk (the rows of one column
 * inside one row group) into a "values section" and back. The null bitmap
 * in front of it is common to every encoding and handled by the caller;
 * encodings see which rows are NULL, and read NULL rows as some value.
 *
 * Each encoding is one pv_encoder in a registry indexed by its id (one
 * file encode_<name>.c each). The chooser plans every encoding that
 * accepts the column's type and role and keeps the smallest exact plan, so
 * the choice is a pure function of the input (reproducible files).
 *
 * Integer streams (encode_pack.c): FOR, DELTA, RLE and LINEAR are layouts
 * of a sequence of 64-bit values, used as the values section of INTEGER
 * (and RLE: REAL, BOOLEAN) chunks and as the codes of a dictionary.
 *
 * Reading never trusts the bytes. open() is O(1) and checks the header;
 * read() and get() check every block header, offset and code they use
 * (O(1) per block or per row); check() is the full O(chunk) validation of
 * `pvdb_verify` (exact lengths, zero padding, sorted dictionaries...).
 * They return 0, 1 for malformed data (with `*why`), or a negative PV_E*.
 */
#ifndef PV_ENCODE_H
#define PV_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "util.h"
#include "value.h"

/* Encoding ids as stored in a chunk record (one byte). */
#define PV_ENC_PLAIN  0
#define PV_ENC_DICT   1
#define PV_ENC_FOR    2
#define PV_ENC_DELTA  3
#define PV_ENC_RLE    4
#define PV_ENC_LINEAR 5
#define PV_ENC_BITMAP 6
#define PV_ENC_ZSTR   7
#define PV_ENC_COUNT  8

/* Rows per block of the blocked encodings (= PV_BATCH_ROWS). */
#define PV_BLOCK_SHIFT 10
#define PV_BLOCK_ROWS  (1u << PV_BLOCK_SHIFT)

/* Bytes of a block entry of a FOR and of a DELTA stream, and of ZSTR. */
#define PV_FOR_ENTRY   16
#define PV_DELTA_ENTRY 24
#define PV_ZSTR_ENTRY  16

/* plan() result meaning "this encoding cannot represent this input". */
#define PV_ENC_UNSUITABLE 1

/* pv_enc_in.flags */
#define PV_ENC_KEY     0x1u  /* a primary key column: O(1) row access only */
#define PV_ENC_NO_ZSTD 0x2u  /* never compress (tests reach the decoders) */

/* The input of one chunk. */
typedef struct pv_enc_in {
    pv_vec v;             /* the column's vector, from the chunk's first row */
    uint32_t nrows;
    uint32_t null_count;
    unsigned flags;       /* PV_ENC_* */
    /* Set by pv_enc_prepare: INTEGER, BOOLEAN, REAL: the value bits of
     * every row (REAL as IEEE-754 bits), NULL rows repeating the previous
     * non-NULL value (leading NULLs the first one; 0 when all are NULL).
     * TEXT, BLOB: NULL. */
    const uint64_t *u;
    uint64_t str_bytes;   /* TEXT, BLOB: bytes of the non-NULL values */
} pv_enc_in;

/* Scratch memory kept between plan() and write() and reused from chunk to
 * chunk, so a bake does not allocate per chunk. */
typedef struct pv_enc_scratch {
    void *p;
    size_t cap;       /* bytes allocated at p */
} pv_enc_scratch;

/* What an encoder's plan() leaves for its write(). */
typedef struct pv_enc_plan {
    uint64_t a, b, c; /* encoder-defined */
    uint32_t count;
    uint8_t kind, fmt;
} pv_enc_plan;

typedef struct pv_enc_ctx {
    pv_enc_scratch u;              /* pv_enc_in.u */
    pv_enc_scratch s[PV_ENC_COUNT][3];
    pv_enc_plan plan[PV_ENC_COUNT];
    void *zstd;                    /* ZSTD_CCtx, created on first use */
} pv_enc_ctx;

#define PV_ENC_CTX_INIT {{NULL, 0}, {{{NULL, 0}}}, {{0, 0, 0, 0, 0, 0}}, NULL}
void pv_enc_ctx_free(pv_enc_ctx *ctx);

/* ---- integer streams (encode_pack.c) ------------------------------------ */

/* A blocked bit-packed stream: `n` values in blocks of PV_BLOCK_ROWS, a
 * table of `esz`-byte block entries, then the packed words. */
typedef struct pv_pack {
    uint32_t n, nblocks, esz;
    const uint8_t *tab;
    const uint8_t *data;
    uint64_t data_len;
    uint8_t settled;     /* FOR, DELTA: every block entry passed its checks
                            (pv_dec_settle), so one value's get skips them */
} pv_pack;

typedef struct pv_istream {
    uint8_t kind;        /* PV_ENC_FOR, _DELTA, _RLE or _LINEAR */
    uint32_t n;
    pv_pack a;           /* FOR, DELTA: the values; RLE: the run ends */
    pv_pack b;           /* RLE: the run values */
    uint32_t nruns;      /* RLE */
    int64_t base, step;  /* LINEAR */
} pv_istream;

/* Exact size of the stream of `kind` over v[0..n) into *out; returns 0,
 * PV_ENC_UNSUITABLE (LINEAR on values that are not), or PV_ENOMEM (RLE
 * keeps its runs in `sc`). */
int pv_is_plan(uint8_t kind, const uint64_t *v, uint32_t n, pv_enc_scratch *sc,
               uint64_t *out);
/* Write exactly the planned bytes to dst (zeroed by the caller), right
 * after pv_is_plan on the same input and scratch. */
void pv_is_write(uint8_t kind, const uint64_t *v, uint32_t n, pv_enc_scratch *sc,
                 uint8_t *dst);
/* The smallest of the kinds allowed by `flags` (PV_ENC_KEY: no DELTA) for
 * v[0..n): *kind and *size. */
int pv_is_choose(const uint64_t *v, uint32_t n, unsigned flags, pv_enc_scratch *sc,
                 uint8_t *kind, uint64_t *size);
/* O(1) header checks of a stream of n values in p[0..len). 0 or 1. */
int pv_is_open(pv_istream *s, uint8_t kind, const uint8_t *p, uint64_t len, uint32_t n);
/* Value i (< n), checking what it touches. 0 or 1. */
int pv_is_get(const pv_istream *s, uint32_t i, uint64_t *out);
/* Values [i0, i0 + n) into out. 0 or 1. */
int pv_is_read(const pv_istream *s, uint32_t i0, uint32_t n, uint64_t *out);
/* Full layout check: exact block offsets and lengths, zero padding bits,
 * RLE run ends strictly increasing and ending at n. 0 or 1. */
int pv_is_check(const pv_istream *s);
const char *pv_is_name(uint8_t kind);

/* Bits needed for x (0 for 0). */
static inline unsigned pv_bits(uint64_t x) { return x ? 64u - (unsigned)__builtin_clzll(x) : 0u; }
/* Bytes of `m` values of `w` bits packed in 64-bit words. */
static inline uint64_t pv_packed_len(uint32_t m, unsigned w)
{
    return (((uint64_t)m * w + 63) / 64) * 8;
}
/* pv_unpack1 (value j of `w` bits from packed words) is in batch.h. */
/* Values [j0, j0 + m) of a block into out (w 0..64; loads stay inside
 * the pv_packed_len(j0 + m, w) bytes at q). */
void pv_unpack(const uint8_t *q, uint32_t j0, uint32_t m, unsigned w, uint64_t *out);
/* Set (by a test) before any reading thread starts: unpack with the
 * scalar loops even where the CPU has AVX2, so that both are tested. */
extern int pv_unpack_scalar;
/* The same with ref added to each value (modulo 2^64): a FOR block decoded
 * in one pass. */
void pv_unpack_ref(const uint8_t *q, uint32_t j0, uint32_t m, unsigned w, uint64_t ref,
                   uint64_t *out);
/* Sum of values [j0, j0 + m) of a block (wrapping modulo 2^64; exact
 * when m * (2^w - 1) < 2^64, as for m <= 1024 and w <= 54). */
uint64_t pv_packed_sum(const uint8_t *q, uint32_t j0, uint32_t m, unsigned w);
/* Pack x[0..m) of at most w bits into zeroed words at dst. */
void pv_pack_bits(uint8_t *dst, const uint64_t *x, uint32_t m, unsigned w);

/* ---- decoding ------------------------------------------------------------ */

/* A values section being read. The caller sets type, nrows, null_count,
 * p, n, mem, arena and tmp, then calls pv_dec_open(). Not shared between
 * threads: read() caches a decompressed block or dictionary entries. */
typedef struct pv_dec {
    int type;
    uint32_t nrows, null_count;
    uint8_t enc;
    const uint8_t *p;          /* the values section */
    uint64_t n;
    pv_buf *mem;               /* ZSTR: the decompressed block (read()) */
    pv_arena *arena;           /* DICT front-coded: decoded entries (read()) */
    uint64_t *tmp;             /* PV_BLOCK_ROWS values of scratch (read(), check()) */
    /* set by open() */
    pv_istream is;             /* FOR, DELTA, RLE, LINEAR; DICT: the codes */
    const uint8_t *vals;       /* PLAIN: values or string offsets; DICT: entries */
    const uint8_t *bytes;      /* strings: their bytes */
    uint64_t bytes_len;
    uint32_t count;            /* DICT: entries; ZSTR: blocks */
    uint8_t fmt;               /* DICT: 0 array, 1 front-coded */
    uint8_t tabled;            /* DICT: a small array of strings read through a
                                * NUL-terminated copy (set by open() when an
                                * arena is given, scans, or with may_hold) */
    uint8_t may_hold;          /* PV_DEC_HOLD_* bits (0 without cache), set before open():
                                * get() may keep cached blocks, which the caller
                                * releases (pv_dec_release) before it opens the
                                * decoder again (the decoders of a reader's row cache) */
    /* read() state */
    uint32_t cached;           /* ZSTR: block in *mem + 1, 0 if none */
    uint32_t zlen;             /* ZSTR: its raw length */
    const uint8_t *zraw;       /* ZSTR: its raw bytes */
    pv_str **fc_groups;        /* DICT front-coded without the block cache (or a page too large
                                * for it): each group's entries, NULL until decoded */
    const pv_str *table;       /* DICT tabled: the count entries, NUL-terminated, once a
                                * read() made them (in arena, or in held) */
    uint64_t *table_ok;        /* DICT with FOR codes read through the cache: a bit per
                                * code block whose codes were all checked below count
                                * (after a tabled table, or in held for numbers) */
    /* The shared block cache (pvdb_blockcache.h), or NULL: set by the
     * caller before open() for a decoder whose read() may keep blocks
     * (a scan), which then calls pv_dec_release before the next open()
     * and when done. Keys: (gen, chunk, block). */
    struct pv_blockcache *cache;
    uint64_t gen;
    uint32_t chunk;
    const struct pv_block *held;          /* ZSTR: the cached block read() points into;
                                           * DICT tabled: the cached table */
    struct pv_fc_hold *fc_held;           /* DICT: per page of 256 entries, in arena (or
                                           * malloc'ed by a may_hold get(); freed by
                                           * pv_dec_release) */
} pv_dec;

/* A decoded page of a front-coded dictionary that a decoder holds: the
 * cached block (NULL: not held), and where its entries are, so that a
 * point read goes from here to the entry's bytes without reading the
 * block first (encode_dict.c, "Decoded pages"). */
typedef struct pv_fc_hold {
    const struct pv_block *block;
    const void *at;     /* stride 0: the page's pv_str array; else its entries' bytes */
    uint32_t stride;    /* 0: entries of several lengths; else every length + 1 */
} pv_fc_hold;

/* pv_dec.may_hold: what get() may take from the shared block cache and
 * keep. PAGES: a front-coded entry from its decoded page (NUL-terminated,
 * not copied into mem). TABLES: a small array dictionary's entry from its
 * NUL-terminated table (instead of the mapping, which outlives it). */
#define PV_DEC_HOLD_PAGES  1u
#define PV_DEC_HOLD_TABLES 2u

/* Release the cached blocks a decoder holds (it then points into none of
 * them: call before resetting its arena or opening another section). */
void pv_dec_release(pv_dec *d);

/* Where read() puts values: the member matching the column type. */
typedef union pv_dec_out {
    int64_t *i;
    double *f;
    pv_str *s;
} pv_dec_out;

typedef struct pv_encoder {
    uint8_t id;
    const char *name;          /* as `pvbake inspect` shows it */
    unsigned types;            /* bit (1 << PV_type) per accepted type */
    /* Exact byte size of the values section into *out. 0,
     * PV_ENC_UNSUITABLE or PV_ENOMEM. */
    int (*plan)(pv_enc_ctx *ctx, const pv_enc_in *in, uint64_t *out);
    /* Write exactly the planned bytes to dst (zeroed), right after plan(). */
    int (*write)(pv_enc_ctx *ctx, const pv_enc_in *in, uint8_t *dst);
    int (*open)(pv_dec *d, const char **why);
    /* Rows [r0, r0 + n) (inside one block for TEXT and BLOB) into out;
     * strings point into the section or into *d->mem until the next call. */
    int (*read)(pv_dec *d, uint32_t r0, uint32_t n, pv_dec_out out, const char **why);
    /* Row r into *out (typed as the column). A string is either in the
     * section (*moff = UINT64_MAX) or appended to `mem` at *moff. */
    int (*get)(pv_dec *d, uint32_t r, pv_value *out, pv_buf *mem, uint64_t *moff,
               const char **why);
    int (*check)(pv_dec *d, const char **why);
    /* Optional: start loading what get() of row r will read (a point read
     * prefetches every column before decoding any, so their cache misses
     * overlap). May read headers, never faults on a bad file. */
    void (*prefetch)(const pv_dec *d, uint32_t r);
} pv_encoder;

/* The encoders by id (encode_choose.c; a new encoding adds its row there). */
extern const pv_encoder *const pv_encoders[PV_ENC_COUNT];

/* The encoder of id `id`, or NULL when unknown. (Inline: a point read asks
 * twice per column.) */
static inline const pv_encoder *pv_encoder_get(unsigned id)
{
    return id < PV_ENC_COUNT ? pv_encoders[id] : NULL;
}

/* Fill in->u and in->str_bytes (in->v, nrows, null_count set). */
int pv_enc_prepare(pv_enc_ctx *ctx, pv_enc_in *in);

/* Choose the encoding of a prepared chunk: the smallest exact plan among
 * the encoders accepting its type and role (docs/BAKE.md 2), ties to the
 * lower id. Errors: PV_ELIMIT (no encoding can hold it), PV_ENOMEM. */
int pv_enc_choose(pv_enc_ctx *ctx, const pv_enc_in *in, const pv_encoder **out,
                  uint64_t *size);

/* Open a section for reading with encoder d->enc (checks it accepts the
 * type). 0 or 1. */
int pv_dec_open(pv_dec *d, const char **why);

/* An opened decoder about to serve many one-value gets (a reader's row
 * cache): the block entries of its FOR or DELTA stream (a FOR or DELTA
 * column's values, a DICTIONARY's codes) are checked once, all of them,
 * so that each get reads its block entry unchecked. A bad entry leaves
 * the stream as it was: gets then check, and report, as before. Other
 * encodings: no-op. O(blocks): 64 entries for a 65,536-row chunk. */
void pv_dec_settle(pv_dec *d);

/* ---- encoded access (a scan handing out encoded batches, batch.h) ------- */

/* Ask memory for the packed words rows [r, r + n) of a DICTIONARY (its
 * codes), FOR or DELTA chunk will read (no more than r's block), so that a
 * scan's columns miss at once instead of in turn. Other encodings: no-op.
 * Never reads past the chunk; a malformed block entry prefetches nothing. */
void pv_dec_prefetch_rows(const pv_dec *d, uint32_t r, uint32_t n);

/* FOR: the block holding row r0: its reference (minimum), width and
 * packed words, checked to lie inside the section. 0, or 1 (not FOR, or
 * a bad block header). */
int pv_dec_for_block(const pv_dec *d, uint32_t r0, int64_t *ref, unsigned *width,
                     const uint8_t **words);
/* DICT: the codes of rows [r0, r0 + n) (inside one block, n <= 1024),
 * each checked below the entry count. 0 or 1 (with *why). */
int pv_dict_codes(pv_dec *d, uint32_t r0, uint32_t n, uint32_t *out, const char **why);
/* DICT: entry c as a value of the column type; a front-coded string is
 * decoded into d->arena (valid until it is reset). 0, 1 (with *why) or
 * PV_ENOMEM. */
int pv_dict_entry(pv_dec *d, uint32_t c, pv_value *out, const char **why);

/* Encoders, defined in encode_<name>.c. */
extern const pv_encoder pv_enc_plain, pv_enc_dict, pv_enc_for, pv_enc_delta,
    pv_enc_rle, pv_enc_linear, pv_enc_bitmap, pv_enc_zstr;

/* ---- helpers shared by the encoders (encode_choose.c) --------------------- */
static inline int pv_enc_is_null(const pv_enc_in *in, uint32_t r)
{
    return in->v.nulls && in->v.nulls[r];
}
static inline int pv_enc_is_str(int type) { return type == PV_TEXT || type == PV_BLOB; }
/* A key of a double whose unsigned order is IEEE-754 totalOrder. */
static inline uint64_t pv_enc_f64_key(double f)
{
    uint64_t u;
    memcpy(&u, &f, 8);
    return (u & 0x8000000000000000ull) ? ~u : (u | 0x8000000000000000ull);
}
static inline uint64_t pv_enc_align8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }
/* Grow scratch to at least `n` bytes. 0 or PV_ENOMEM. */
int pv_enc_scratch_reserve(pv_enc_scratch *sc, size_t n);
/* Write the u32 offsets + bytes layout of `n` strings; rows with nulls[i]
 * set (nulls may be NULL) are written empty. */
void pv_enc_put_strings(uint8_t *dst, const pv_str *s, const uint8_t *nulls, uint32_t n);
/* Full check of u32 offsets + bytes of `count` strings filling p[0..len)
 * exactly; on success *bytes points at the string bytes. 0 or 1. */
int pv_enc_check_strings(const uint8_t *p, uint64_t len, uint32_t count,
                         const uint8_t **bytes);
/* String i of an offsets + bytes layout whose bytes are `blen` long,
 * checked (O(1)): 0, or 1 when its offsets are out of order or range. */
static inline int pv_enc_str_at(const uint8_t *offs, const uint8_t *bytes, uint64_t blen,
                                uint32_t i, pv_str *out)
{
    uint32_t a = pv_get_u32(offs + 4 * (size_t)i);
    uint32_t b = pv_get_u32(offs + 4 * ((size_t)i + 1));
    if (a > b || b > blen) return 1;
    out->p = (const char *)bytes + a;
    out->n = b - a;
    return 0;
}
/* Bytewise order of strings (memcmp, the shorter first on a tie). */
int pv_enc_str_cmp(pv_str a, pv_str b);
/* The value of a NULL-free 64-bit slot as a typed pv_value. */
static inline pv_value pv_enc_num_value(int type, uint64_t bits)
{
    pv_value v;
    v.type = type;
    if (type == PV_REAL) memcpy(&v.u.f, &bits, 8);
    else v.u.i = (int64_t)bits;
    return v;
}
/* Store 64-bit slot values into a typed output vector. */
void pv_enc_store_bits(int type, const uint64_t *bits, uint32_t n, pv_dec_out out);

#endif
