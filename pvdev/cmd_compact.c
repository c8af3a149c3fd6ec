/*
 * cmd_compact.c: `pvdev compact [TABLE]`: rewrite tables to their live rows
 * (one atomic commit), dropping the superseded and deleted versions from the
 * work tree. git keeps the history; commit the result on its own.
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
                "Rewrite TABLE (or every table) to its current rows: the old chunk files,\n"
                "with every superseded and deleted row version, are replaced by new ones\n"
                "in one atomic commit. git keeps the history: commit this change on its\n"
                "own (\"compact airports\"), so reviewers know the diff is a rewrite.\n\n"
                "The rows are written under the open chunk's own name (or the next number\n"
                "when it is full), so that a merge with a branch that wrote to the table\n"
                "meanwhile runs the pv merge driver. A branch that wrote more than 1 MiB\n"
                "to the table before compacting can still meet a modify/delete git does\n"
                "not drive; 'pvdev conflicts' lists it (docs/GIT.md).\n");
        return argc == 2 ? PVDEV_EXIT_OK : PVDEV_EXIT_USAGE;
    }
    if (pv_open(".", PV_OPEN_READWRITE, &db) != PV_OK) return pvdev_fail(NULL);
    rc = pv_ws_compact(db->ws, argc == 2 ? argv[1] : NULL, &n);
    pv_close(db);
    if (rc) return pvdev_fail(NULL);
    printf("compacted %zu table%s\n", n, n == 1 ? "" : "s");
    return PVDEV_EXIT_OK;
}
