/*
 * pvdb_format.h: private constants of the `.pvdb` layout, versions 2 and 3.
 *
 * docs/FORMAT.md part 3 is the authority; every offset below is a row of one
 * of its tables. All integers are little-endian and go through the
 * pv_get_* / pv_put_* helpers of util.h: nothing here is a C struct laid
 * over the mapping.
 */
#ifndef PV_PVDB_FORMAT_H
#define PV_PVDB_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "pvdb.h"

/* ---- file header (offset 0, PVDB_HEADER_SIZE bytes) ---------------------- */
#define PVDB_MAGIC            "\x89PVDB\r\n\x1a"  /* 8 bytes, no NUL */
#define PVDB_MAGIC_LEN        8
#define PVDB_VERSION          2u
/* Version 3 adds baked secondary indexes (FORMAT.md 3.12); a file without
 * any is written as version 2, byte for byte as before. Readers read both. */
#define PVDB_VERSION_INDEXES  3u
#define PVDB_HEADER_SIZE      128u

#define PVDB_H_MAGIC          0    /* u8[8] */
#define PVDB_H_VERSION        8    /* u32 */
#define PVDB_H_HEADER_SIZE    12   /* u32, = PVDB_HEADER_SIZE */
#define PVDB_H_REQUIRED       16   /* u32 required features: unknown bit -> refuse */
#define PVDB_H_COMPAT         20   /* u32 optional features: unknown bits ignored */
#define PVDB_H_FILE_SIZE      24   /* u64 */
#define PVDB_H_DIR_OFFSET     32   /* u64 */
#define PVDB_H_DIR_LENGTH     40   /* u64 */
#define PVDB_H_DIR_CHECKSUM   48   /* u64 XXH3-64 of the directory bytes */
#define PVDB_H_RESERVED       56   /* u8[64], zero */
#define PVDB_H_RESERVED_LEN   64
#define PVDB_H_CHECKSUM       120  /* u64 XXH3-64 of header bytes [0, 120) */

/* Feature bits known to this reader (none yet in version 2). */
#define PVDB_REQUIRED_KNOWN   0u

/* ---- directory header (at dir_offset) ------------------------------------ */
#define PVDB_DIR_HEADER_SIZE  128u
#define PVDB_D_TABLE_COUNT    0    /* u32 */
#define PVDB_D_TABLE_RECSZ    4    /* u32 */
#define PVDB_D_COLUMN_COUNT   8    /* u32 */
#define PVDB_D_COLUMN_RECSZ   12   /* u32 */
#define PVDB_D_CHUNK_COUNT    16   /* u32 */
#define PVDB_D_CHUNK_RECSZ    20   /* u32 */
#define PVDB_D_MAX_GROUP_ROWS 24   /* u32 bound on any chunk's row count */
#define PVDB_D_BLOCK_ROWS     28   /* u32 = PV_BLOCK_ROWS (1024) */
#define PVDB_D_TABLES_OFF     32   /* u64, from the directory start */
#define PVDB_D_COLUMNS_OFF    40   /* u64 */
#define PVDB_D_CHUNKS_OFF     48   /* u64 */
#define PVDB_D_STRINGS_OFF    56   /* u64 */
#define PVDB_D_STRINGS_LEN    64   /* u64 */
#define PVDB_D_SOURCE         72   /* string ref: u32 offset, u32 length */
#define PVDB_D_TOOL           80   /* string ref */
#define PVDB_D_INDEX_COUNT    88   /* u32 secondary indexes: 0 in version 2 */
#define PVDB_D_INDEX_RECSZ    92   /* u32, 0 while index_count is 0 */
#define PVDB_D_INDEXES_OFF    96   /* u64, 0 while index_count is 0 */

/* ---- index record (version 3; FORMAT.md 3.12) ----------------------------- */
#define PVDB_INDEX_RECSZ      80u
#define PVDB_I_NAME           0    /* string ref */
#define PVDB_I_TABLE          8    /* u32 table number; records in table order */
#define PVDB_I_FLAGS          12   /* u32 PVDB_INDEX_* */
#define PVDB_I_COLUMN_COUNT   16   /* u32 1..PVDB_INDEX_MAX_COLS */
#define PVDB_I_RESERVED       20   /* u32, zero */
#define PVDB_I_COLUMNS        24   /* u16[8] column numbers, unused 0xFFFF */
#define PVDB_I_OFFSET         40   /* u64 absolute offset of the section, 8-aligned */
#define PVDB_I_LENGTH         48   /* u64 bytes of the section */
#define PVDB_I_CHECKSUM       56   /* u64 XXH3-64 of the section */
#define PVDB_I_KEY_COUNT      64   /* u64 distinct keys */
#define PVDB_I_ENTRY_COUNT    72   /* u64 rows listed */
#define PVDB_INDEX_UNIQUE     0x1u
#define PVDB_INDEX_FLAGS_KNOWN 0x1u
#define PVDB_INDEX_MAX_COLS   8
#define PVDB_D_RESERVED       104  /* u8[24], zero */
#define PVDB_D_RESERVED_LEN   24

/* ---- table record -------------------------------------------------------- */
#define PVDB_TABLE_RECSZ      64u
#define PVDB_T_NAME           0    /* string ref */
#define PVDB_T_ROW_COUNT      8    /* u64 */
#define PVDB_T_FIRST_COLUMN   16   /* u32 index into the column records */
#define PVDB_T_COLUMN_COUNT   20   /* u32 */
#define PVDB_T_FIRST_CHUNK    24   /* u32 index into the chunk records */
#define PVDB_T_GROUP_COUNT    28   /* u32 row groups */
#define PVDB_T_PK_COUNT       32   /* u32 primary key columns */
#define PVDB_T_RESERVED       36   /* u8[28], zero */
#define PVDB_T_RESERVED_LEN   28

/* ---- column record ------------------------------------------------------- */
#define PVDB_COLUMN_RECSZ     16u
#define PVDB_C_NAME           0    /* string ref */
#define PVDB_C_TYPE           8    /* u8 PV_INTEGER .. PV_BOOLEAN */
#define PVDB_C_FLAGS          9    /* u8 PVDB_COL_* */
#define PVDB_C_PK_POS         10   /* u16 key position, PVDB_NO_PK if none */
#define PVDB_C_RESERVED       12   /* u32, zero */
#define PVDB_COL_NOT_NULL     0x01u
#define PVDB_COL_HIDDEN       0x02u
#define PVDB_COL_KNOWN        0x03u
#define PVDB_NO_PK            0xFFFFu

/* ---- column chunk record ------------------------------------------------- */
#define PVDB_CHUNK_RECSZ      64u
#define PVDB_K_OFFSET         0    /* u64 absolute file offset, 8-aligned */
#define PVDB_K_LENGTH         8    /* u64 bytes of the payload */
#define PVDB_K_STORED_LEN     PVDB_K_LENGTH  /* its version 1 name (same offset) */
#define PVDB_K_ROW_COUNT      16   /* u32 rows of the row group */
#define PVDB_K_NULL_COUNT     20   /* u32 */
#define PVDB_K_ENCODING       24   /* u8 PV_ENC_* (encode.h) */
#define PVDB_K_ZONE_FLAGS     25   /* u8 PVDB_ZONE_* */
#define PVDB_K_RESERVED       26   /* u8[6], zero */
#define PVDB_K_CHECKSUM       32   /* u64 XXH3-64 of the payload */
#define PVDB_K_MIN            40   /* u8[8] zone map minimum */
#define PVDB_K_MAX            48   /* u8[8] zone map maximum */
#define PVDB_K_PLAIN_LEN      56   /* u64 bytes the chunk takes as PLAIN (inspect) */

#define PVDB_ZONE_MINMAX      0x01u /* min/max hold the non-NULL range */
#define PVDB_ZONE_NAN         0x02u /* REAL: a NaN is present (not in min/max) */
#define PVDB_ZONE_KNOWN       0x03u

/* ---- limits -------------------------------------------------------------- */
/* Rows per row group written by pv_bake_write (docs/BAKE.md explains why). */
#define PVDB_ROWS_PER_GROUP   65536u
/* What a reader accepts in the directory (checked before any use). */
#define PVDB_MAX_ROWS_PER_GROUP (1u << 20)
#define PVDB_MAX_RECSZ        4096u           /* any record size field */
#define PVDB_MAX_CHUNK_LEN    0xFFFFFFFFull   /* u32 offsets inside a chunk */
#define PVDB_MAX_PROVENANCE   4096u           /* bytes of source or tool */

/* Size of the null bitmap of a chunk of `rows` rows: one bit per row, LSB
 * first, padded with zero bytes to a multiple of 8. */
static inline uint64_t pvdb_bitmap_len(uint32_t rows)
{
    return (((uint64_t)rows + 7) / 8 + 7) & ~(uint64_t)7;
}

static inline uint64_t pvdb_align8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

/* pv_bake_write with a chosen row-group size and flags (tests use small
 * groups to get many of them cheaply, and files without zstd to reach the
 * decoders with crafted bytes). rows_per_group in [1, PVDB_MAX_ROWS_PER_GROUP]. */
int pvdb_write_ex(const char *path, const pv_bake_table *tables, size_t ntables,
                  const pv_bake_info *info, uint32_t rows_per_group, unsigned flags);

#endif
