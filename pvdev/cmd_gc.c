/*
 * cmd_gc.c: `pvdev gc`: remove the blob files no chunk line refers to.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "db.h"
#include "pv.h"
#include "ws.h"

int cmd_gc(int argc, char **argv)
{
    pv_db *db = NULL;
    size_t removed;
    uint64_t bytes;
    int rc;
    if (argc > 1) {
        int help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
        fprintf(help ? stdout : stderr,
                "usage: pvdev gc\n\n"
                "Remove the files of .pv/blobs/ that no line of any chunk refers to (the\n"
                "history in the chunks and conflict records count as references). Run it\n"
                "after 'pvdev compact' to drop the values of rows that are gone.\n");
        return help ? PVDEV_EXIT_OK : PVDEV_EXIT_USAGE;
    }
    if (pv_open(".", PV_OPEN_READWRITE, &db) != PV_OK) return pvdev_fail(NULL);
    rc = pv_ws_gc(db->ws, &removed, &bytes);
    pv_close(db);
    if (rc) return pvdev_fail(NULL);
    printf("removed %zu blob%s (%llu bytes)\n", removed, removed == 1 ? "" : "s", (unsigned long long)bytes);
    return PVDEV_EXIT_OK;
}
