/*
 * merge_keys.h: the primary keys of chunk lines, cut out of the text
 * without decoding the rows where possible, and a set of them. The merge
 * driver collects the keys of the chunks that differ between base, ours
 * and theirs, then keeps only those keys' lines from the chunks the three
 * sides share (docs/GIT.md, "Reading only what changed").
 */
#ifndef PVGIT_MERGE_KEYS_H
#define PVGIT_MERGE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "schema.h"
#include "util.h"

/* A set of canonical key texts (the key values' chunk-line texts joined by
 * ','). */
typedef struct pvgit_keyset {
    struct keyslot *slots;
    uint8_t *filter;         /* cap bytes: a bit filter over the keys' hashes */
    size_t cap, n;
    pv_arena text;
} pvgit_keyset;

#define PVGIT_KEYSET_INIT {NULL, NULL, 0, 0, PV_ARENA_INIT}

/* Add a key text (copied). Errors: PV_ENOMEM. */
int pvgit_keyset_add(pvgit_keyset *ks, const char *key, size_t len);
/* 1 when the set holds the key text, else 0. */
int pvgit_keyset_has(const pvgit_keyset *ks, const char *key, size_t len);
void pvgit_keyset_free(pvgit_keyset *ks);

/* The key cutter of one chunk: its header mapped to a schema. */
typedef struct pvgit_keycut {
    const pv_schema *s;      /* borrowed */
    int have_header;
    uint32_t ntypes;
    int *types;              /* per header position: the column's type, PV_NULL if dropped */
    uint32_t *kpos;          /* header position of each key part */
    int *ktypes;             /* type of each key part */
    int simple;              /* key types whose canonical text can be cut out (not REAL, BLOB) */
    pv_arena tmp;
    pv_buf kb;               /* the last key text */
} pvgit_keycut;

/* Start a chunk whose rows are read with schema `s` (borrowed). */
void pvgit_keycut_init(pvgit_keycut *c, const pv_schema *s);
void pvgit_keycut_free(pvgit_keycut *c);

/* The key of one line (without its '\n'). The first line of a chunk must
 * be its header; a continuation header after it maps the lines after it.
 * Returns 1 with the key text in c->kb (a row or a delete), 0 for a line
 * without a key (a header, a conflict record), or an error:
 * PV_ECORRUPT (a line that does not decode, a header naming a column the
 * schema does not have; the caller prefixes file and line), PV_ENOMEM. */
int pvgit_keycut_line(pvgit_keycut *c, const char *line, size_t len);

#endif
