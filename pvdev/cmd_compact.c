/*
 * cmd_compact.c: `pvdev compact [TABLE]`: drop from each chunk the
 * superseded and deleted row versions (one atomic commit), rewriting chunks
 * in place, so that a merge with a branch that wrote meanwhile still runs
 * the merge driver. git keeps the history; commit the result on its own.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "db.h"
#include "pv.h"
#include "ws.h"

int cmd_compact(int argc, char **argv)
{
    pv_db *db = NULL;
    size_t n = 0;
    int rc;
    if (argc > 2 || (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: pvdev compact [TABLE]\n\n"
                "Drop the history of edits from TABLE (or every table): in each chunk file,\n"
                "every row version a later one replaced and every deleted row (with its\n"
                "delete record) go, in one atomic commit. Each chunk that loses a line is\n"
                "rewritten under its own name, its other lines in their order (the\n"
                "continuation headers an ALTER TABLE left among them too), under a\n"
                "header naming the bytes it replaced; no chunk file is removed or renamed\n"
                "(one left with no row keeps its header lines). git keeps the history:\n"
                "commit this change on its own (\"compact airports\"), so reviewers know\n"
                "the diff is a rewrite.\n\n"
                "Merging: a branch that edited the table meanwhile appended to chunks this\n"
                "one rewrote, so git sees both sides change them and runs the pv merge\n"
                "driver, which merges rows and cells as for any other pair of edits and\n"
                "keeps the compaction (docs/GIT.md, \"Compacting and merging\"). Then run\n"
                "'pvdev gc' to remove the blobs no row refers to any more.\n");
        return argc == 2 ? PVDEV_EXIT_OK : PVDEV_EXIT_USAGE;
    }
    if (pv_open(".", PV_OPEN_READWRITE, &db) != PV_OK) return pvdev_fail(NULL);
    rc = pv_ws_compact(db->ws, argc == 2 ? argv[1] : NULL, &n);
    pv_close(db);
    if (rc) return pvdev_fail(NULL);
    printf("compacted %zu table%s\n", n, n == 1 ? "" : "s");
    return PVDEV_EXIT_OK;
}
