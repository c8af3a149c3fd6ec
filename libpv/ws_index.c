/*
 * ws_index.c: secondary indexes of a workspace table in memory (UNIQUE
 * constraints and CREATE INDEX), built from the table's loaded rows.
 */
#include "ws_internal.h"

void ws_index_unload(ws_table *t)
{
    (void)t; /* no index state exists yet */
}
