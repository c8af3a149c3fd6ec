/*
 * pvdb_impl.h: the reader's in-memory view of an open `.pvdb`, shared by
 * pvdb_read.c (open), pvdb_scan.c (scans, chunk loading), pvdb_index.c
 * (keys and rows) and pvdb_verify.c.
 */
#ifndef PV_PVDB_IMPL_H
#define PV_PVDB_IMPL_H

#include <stdint.h>

#include "encode.h"
#include "pvdb.h"
#include "pvdb_format.h"
#include "schema.h"

/* A corrupt file: the message names the file, what and the byte offset. */
#define PVDB_BAD(f, at, what)                                                \
    PV_CORRUPT("%s: corrupt file: %s at byte offset %llu", (f)->path, (what), \
               (unsigned long long)(at))

typedef struct pvdb_chunk {
    uint64_t off, len, checksum, plain;
    uint32_t rows, nulls;
    uint8_t enc, zflags;
    uint8_t zmin[8], zmax[8];
} pvdb_chunk;

typedef struct pvdb_table {
    struct pvdb_file *file;
    pv_schema schema;          /* names, columns and key in the file's arena */
    uint64_t nrows;
    uint32_t ngroups;
    uint32_t rpg;              /* rows of every group but the last, or 0 */
    const pvdb_chunk *chunks;  /* ngroups * ncols, row group by row group */
    uint64_t *gfirst;          /* ngroups + 1 first rows (the last = nrows) */
    /* An INTEGER first key column: its zone map bounds per row group,
     * dense (the key search reads them without striding over the chunk
     * records), else NULL */
    int64_t *kzmin, *kzmax;
    /* groups per key unit, ngroups / (last max - first min + 1): the key
     * search's first guess of a key's group (0 when kzmin is NULL) */
    double kzscale;
} pvdb_table;

/* Closed scans a file keeps for reuse (pvdb_scan.c): enough for the
 * threads that usually read one file at once; a thread that finds none
 * free allocates its own. */
#define PVDB_SPARE_SCANS 8

struct pvdb_file {
    char *path;
    uint64_t gen;              /* unique per pvdb_open in this process (never 0):
                                  cache keys outlive the struct's address */
    struct pv_scan *spare[PVDB_SPARE_SCANS]; /* parked scans (atomic slots) */
    struct pv_blockcache *cache; /* decoded blocks shared by the pv_db's readers
                                  (set by db.c after open; NULL: none) */
    const uint8_t *map;
    size_t size;
    uint64_t dev, ino;         /* identity of the file mapped (fstat of the fd */
    int64_t mtime_ns;          /*  mapped: pv_reopen compares the path's) */
    uint32_t version;
    int cold;                  /* point reads left to advise (atomic; pvdb_cold) */
    uint64_t slow_read_ns;     /* a sampled point read this slow re-arms cold
                                  (PVDB_SLOW_READ_NS; tests set it) */
    int fd;                    /* during pvdb_open only */
    uint8_t hdr[128];          /* the header, read with pread (open faults no page) */
    uint8_t *dir;              /* the directory read with pread, during open only */
    uint64_t dir_off, dir_len;
    uint32_t max_group_rows;
    uint32_t ntables;
    pvdb_table *tables;
    uint32_t nchunks;
    pvdb_chunk *chunks;
    char *source, *tool;       /* provenance, in the arena */
    pv_arena arena;
};

static inline const pvdb_chunk *pvdb_chunk_at(const pvdb_table *t, uint32_t g, uint32_t c)
{
    return &t->chunks[(size_t)g * t->schema.ncols + c];
}

/* Row group holding row `row` (< t->nrows). */
uint32_t pvdb_group_of(const pvdb_table *t, uint64_t row);

/* Open chunk (g, c) for reading into d (d->mem set by the caller or NULL
 * for no string memory), *bitmap = its null bitmap or NULL. flags:
 * PVDB_LOAD_CHECKSUM, PVDB_LOAD_BITMAP (check the bitmap), PVDB_LOAD_FULL
 * (the encoder's full check), PVDB_LOAD_CACHE. PV_ECORRUPT names the
 * chunk. */
#define PVDB_LOAD_CHECKSUM 0x1u
#define PVDB_LOAD_BITMAP   0x2u
#define PVDB_LOAD_FULL     0x4u
/* Use the file's block cache (if any): get() then copies out of shared
 * blocks, and read() may hold blocks until pv_dec_release, which the
 * caller must call before loading another chunk into d and when done. */
#define PVDB_LOAD_CACHE    0x8u
/* With PVDB_LOAD_CACHE and a cache, d->may_hold = `bits` (PV_DEC_HOLD_*):
 * get() of a front-coded dictionary hands out entries of its cached
 * decoded pages (PAGES), of a small array dictionary of strings those of
 * its cached NUL-terminated table (TABLES), and holds them until the
 * caller's pv_dec_release. */
#define PVDB_LOAD_HOLD_SHIFT 4
#define PVDB_LOAD_HOLD(bits) ((unsigned)(bits) << PVDB_LOAD_HOLD_SHIFT)
int pvdb_load_chunk(const pvdb_table *t, uint32_t g, uint32_t c, unsigned flags, pv_dec *d,
                    const uint8_t **bitmap);
/* 1 when every string an opened decoder yields (read(), get(), DICT
 * entries) is followed by a NUL byte that is not part of it: a DICT of
 * TEXT or BLOB that is front-coded (decoded into memory, each entry
 * NUL-terminated), a small array one opened with an arena (a scan's: its
 * entries copied once into the arena, each NUL-terminated: d->tabled; or
 * a point read's, loaded holding PV_DEC_HOLD_TABLES: the cached table), or one
 * with no entries ("" for every row). Strings that point into the
 * mapping (PLAIN, array dictionaries of point reads) or into a
 * decompressed block (ZSTR) are not (encode_dict.c makes the NULs). */
static inline int pv_dec_terminated(const pv_dec *d)
{
    return pv_enc_is_str(d->type) && d->enc == PV_ENC_DICT &&
           (d->fmt == 1 || d->count == 0 || d->tabled);
}
/* ---- a file opened cold (pvdb_read.c) ----------------------------------
 * When the page cache did not hold the header at open, the file is cold:
 * every page a point read touches would be a read from the device, one
 * after the other (the mapping is MADV_RANDOM: no read-ahead). The first
 * PVDB_COLD_READS point reads of such a file therefore tell the kernel
 * each stage's pages at once (MADV_WILLNEED), so that their reads overlap:
 * the key's row group's chunk starts (headers, dictionaries, block
 * tables) while the key is searched, then the row's packed words. After
 * them, or on a warm file, nothing is asked (no system call per read).
 * A file warm at open may lose its rows from the page cache later (memory
 * pressure, or only its first pages were ever read): each reader times
 * one point read in PVDB_PROBE_EVERY (its first included), and one slower
 * than f->slow_read_ns makes the next PVDB_COLD_READS reads of the file
 * cold again; while reads stay that slow, the sampled ones keep it so.
 * Threshold: on the reference VM a whole flights row read from a cached
 * file through a fresh mapping (minor faults, chunks opened) takes 15 -
 * 42 us, from evicted pages without advice 450 - 700 us (5 - 6 faults one
 * after the other); an NVMe fault costs 10 - 20 us. */
#define PVDB_COLD_READS  32
#define PVDB_PROBE_EVERY 8u
#define PVDB_SLOW_READ_NS 100000u
#define PVDB_COLD_WHOLE  (48u << 10) /* a chunk up to this size is advised whole, */
#define PVDB_COLD_PREFIX (16u << 10) /* a larger one its first bytes */
/* 1 while point reads of f should advise their pages. */
static inline int pvdb_cold(const pvdb_file *f)
{
    return __atomic_load_n(&f->cold, __ATOMIC_RELAXED) > 0;
}
/* One cold point read done. */
void pvdb_cold_done(pvdb_file *f);
/* CLOCK_MONOTONIC in ns (the probe of slow reads). */
uint64_t pvdb_clock_ns(void);
/* A sampled point read that began at t0 (pvdb_clock_ns) has ended: when
 * it took longer than f->slow_read_ns, the file is cold again. */
void pvdb_cold_probe(pvdb_file *f, uint64_t t0);
/* Ask for the pages of bytes [off, off + len) of f (clipped to the file)
 * to be read now, without waiting for them. */
void pvdb_advise(const pvdb_file *f, uint64_t off, uint64_t len);

/* ---- point reads of one reader (pvdb_index.c) ----------------------------
 * The chunks a reader (a getter, a statement's key lookups) opened for
 * earlier point reads, kept opened: a read in a row group seen before
 * neither re-reads the chunk headers nor checks them again (they were
 * checked when opened, and the file never changes). Row group g lives in
 * slot g % nslots (a power of two, up to 64); at most 128 KiB of decoders
 * per reader, or one row group's for a very wide table. Owned by one
 * reader (not shared between threads); tied to one file and table (gen):
 * a read on another starts it afresh. */
typedef struct pvdb_rowcache {
    uint64_t gen;              /* pvdb_file.gen of the chunks held */
    uint32_t table, ncols;     /* table index; its columns */
    uint32_t nslots, vwords;   /* slots; 64-bit words of a slot's bitmap */
    uint32_t *tag;             /* per slot: row group + 1, 0 empty */
    uint64_t *valid;           /* per slot: bitmap of the columns opened */
    pv_dec **dec;              /* per slot: its ncols decoders, allocated when the
                                * slot is first used (a point query uses one) */
    uint32_t reads;            /* point reads done (one in PVDB_PROBE_EVERY is timed) */
    unsigned hold;             /* PV_DEC_HOLD_* of its decoders (what they hold is
                                * released when their slot is reused, the cache is
                                * emptied or freed) */
} pvdb_rowcache;
/* Free a row cache (NULL accepted). */
void pvdb_rowcache_free(pvdb_rowcache *rc);
/* Make *rcp (NULL: the reader has none yet) an empty cache whose
 * decoders hold what `what` (PV_DEC_HOLD_* bits) says, for a reader whose
 * strings need only live until its next point read: they then come
 * NUL-terminated out of the shared block cache (with TABLES, also those a
 * reader without gets in the mapping, valid as long as it). PV_ENOMEM,
 * PV_EMISUSE (*rcp not NULL). */
int pvdb_rowcache_hold(pvdb_rowcache **rcp, unsigned what);
/* pvdb_read_row, pvdb_find_row and pvdb_source_get_row with the reader's
 * cache *rcp (NULL when it has none yet: made on first use and left in
 * *rcp; rcp NULL: no cache). An allocation failure only reads without a
 * cache. */
int pvdb_read_row_cached(const pvdb_file *f, uint32_t table, uint64_t row, const uint32_t *cols,
                         uint32_t ncols, pv_value *out, pv_buf *buf, pvdb_rowcache **rcp);
int pvdb_find_row_cached(const pvdb_file *f, uint32_t table, const pv_value *key, uint32_t npk,
                         uint64_t *out, pvdb_rowcache **rcp);
int pvdb_source_get_row_cached(const pv_source *src, const pv_value *key, uint32_t nkey,
                               const uint32_t *cols, uint32_t ncols, pv_value *out,
                               pv_buf *buf, pvdb_rowcache **rcp);

/* Free the scans parked on f (pvdb_close: no scan of f is running). */
void pvdb_scan_spares_free(pvdb_file *f);
/* A new value for pvdb_file.gen. */
uint64_t pvdb_next_gen(void);

/* PV_ECORRUPT for chunk (g, c) with `why`. */
int pvdb_bad_chunk(const pvdb_table *t, uint32_t g, uint32_t c, const char *why);

/* Zone map of a chunk as values (see pvdb_chunk_info). */
void pvdb_zone_values(const pvdb_table *t, uint32_t c, const pvdb_chunk *k, pv_value *min,
                      pv_value *max);

/* ---- zone maps (pvdb_zone.c): computed by the writer, checked by verify -- */
typedef struct pvdb_zone {
    int type;
    uint8_t flags;             /* PVDB_ZONE_* */
    int64_t imin, imax;
    double fmin, fmax;
    uint8_t smin[8], smax[8];  /* zero-padded 8-byte prefixes */
} pvdb_zone;
void pvdb_zone_init(pvdb_zone *z, int type);
/* Add rows [0, n) of v (nulls skipped). */
void pvdb_zone_add(pvdb_zone *z, const pv_vec *v, uint32_t n);
/* The chunk record's zone fields. */
void pvdb_zone_put(const pvdb_zone *z, uint8_t *flags, uint8_t min[8], uint8_t max[8]);

#endif
