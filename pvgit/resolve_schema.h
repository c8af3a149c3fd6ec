/*
 * resolve_schema.h: `pvdev resolve` on a table whose schema file git holds
 * as conflicted (resolve_schema.c; docs/GIT.md, "Conflicts").
 *
 * The merge driver writes a conflicted schema settled as ours has it and
 * merges the rows under it (merge_schema.c, merge_retype.c). `resolve
 * --ours` keeps that, or switches back to it from theirs' settlement while
 * rows are still in conflict. `resolve --theirs` makes the schema theirs'
 * settlement (what a git user gets from `git checkout --theirs` for the
 * conflicted things) and rewrites the table's chunk files where a column's
 * type changes, so every value already there reads under the new type.
 */
#ifndef PVGIT_RESOLVE_SCHEMA_H
#define PVGIT_RESOLVE_SCHEMA_H

#include "pvgit.h"
#include "schema.h"
#include "util.h"

typedef struct pvgit_schema_resolution {
    int conflicted;      /* git's index holds the table's schema.jsonl as conflicted */
    int switched;        /* this call made the work tree's schema the settlement of
                            the side asked for (theirs', or ours' back from theirs') */
    int is_theirs;       /* the work tree's schema is theirs' settlement now (switched
                            now or by an earlier run, or kept by --ours: rows settled) */
    int edited;          /* the work tree's schema is neither settlement (edited by
                            hand): left as it is */
    size_t rewritten;    /* chunk files rewritten under the new types */
    pv_schema *before;   /* when the chosen rows take retyped columns from `rows_from`:
                            the other side's settlement (a column whose type differs
                            in it is retyped); NULL when they need not */
    char rows_from[48];  /* the commit those values are read from: for --theirs
                            MERGE_HEAD, CHERRY_PICK_HEAD or REBASE_HEAD (the one whose
                            tree holds git's theirs version of the schema; "" if none
                            does), for --ours HEAD */
} pvgit_schema_resolution;

/* Settle the schema conflict of table `table` of the workspace in the
 * current directory for `side` (PV_SIDE_OURS or PV_SIDE_THEIRS; 0: only
 * look whether git holds it as conflicted). Nothing is done when git does
 * not hold the schema as conflicted (out->conflicted 0), or when the work
 * tree's schema is neither the driver's ours' settlement nor theirs'
 * (edited by hand: out->edited). ours' and theirs' settlements are merged
 * again from git's stages 1-3. --theirs on ours' settlement writes theirs'
 * with every chunk converted (pvgit_retype_chunk_quiet); --ours on theirs'
 * settlement while `chosen` is not empty (rows still in conflict: a
 * --theirs run stopped before its rows) writes ours' back the same way
 * (values that were ours' convert back exactly); --ours on theirs' with no
 * row left in conflict keeps it (settled with its rows). A value that does
 * not convert is refused (PV_ECONSTRAINT naming table, column, key, file
 * and line) unless its key is one of `chosen` (keys in pvgit_retype_key
 * text, one a line: rows that resolve replaces right after). The caller
 * holds the workspace's writer lock on `ws` (a transaction open, nothing
 * written through it; PV_EMISUSE otherwise; `ws` may be NULL for side 0)
 * for its whole run, rows included, and reloads ws's catalog after a
 * switch. The switch is one commit of the workspace's rollback
 * journal: the new files are written and fsynced beside the old ones as
 * NAME.resolve, the journal names every old chunk (moved aside to
 * .pv/journal/) and keeps the old schema's bytes, then the files are
 * renamed in, the schema last, and the journal removed. Killed halfway,
 * the next writable open (this call again, any pvdev writer) rolls the
 * switch back whole; readers refuse the workspace until then. The
 * environment variable PV_FAULTS_RESOLVE_CRASH=N (tests) ends the
 * process right after the N-th rename. Errors: PV_ELOCKED, PV_ECONSTRAINT (a value that does not convert: table,
 * column, key, file and line; theirs' settlement keeps a column ours
 * dropped, whose values the merge did not bring; a different primary
 * key), PV_ECORRUPT, PV_EIO, PV_ENOMEM. Free *out with
 * pvgit_schema_resolution_free. */
int pvgit_resolve_schema(pv_ws *ws, const char *table, int side, const pv_buf *chosen, pvgit_schema_resolution *out);

void pvgit_schema_resolution_free(pvgit_schema_resolution *r);

#endif
