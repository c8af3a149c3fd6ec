/*
 * vtree.h: a virtual `.pv/` made of chosen file contents, read through the
 * workspace reader interface. The merge driver builds one for each side and
 * for the merged result, then lets the ordinary loader replay it.
 */
#ifndef PVGIT_VTREE_H
#define PVGIT_VTREE_H

#include <stddef.h>

#include "reader.h"

typedef struct pvgit_vtree pvgit_vtree;

/* A new empty tree; reads it cannot answer (blobs/) go to `fallback`
 * (may be NULL). `label` names it in messages. NULL on allocation failure. */
pvgit_vtree *pvgit_vtree_new(const char *label, const pv_ws_reader *fallback);
void pvgit_vtree_free(pvgit_vtree *v);

/* Add (or replace) a file; the bytes are copied. Errors: PV_ENOMEM. */
int pvgit_vtree_put(pvgit_vtree *v, const char *path, const char *data, size_t len);
/* The bytes of a file, or NULL. */
const char *pvgit_vtree_get(const pvgit_vtree *v, const char *path, size_t *len);

void pvgit_vtree_reader(pvgit_vtree *v, pv_ws_reader *out);

#endif
