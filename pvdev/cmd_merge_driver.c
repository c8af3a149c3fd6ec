/*
 * cmd_merge_driver.c: `pvdev merge-driver %O %A %B %L %P`, git's merge
 * driver for `.pv/` files (docs/GIT.md). Exit 0: merged cleanly; 1:
 * conflicts recorded in the chunk (never text markers); 2: usage.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "merge.h"
#include "pv.h"

int cmd_merge_driver(int argc, char **argv)
{
    pvgit_merge_stats st;
    int rc;
    if (argc != 6 || !strcmp(argv[1], "--help")) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: pvdev merge-driver BASE OURS THEIRS MARKER-SIZE PATH\n\n"
                "git's merge driver for PicoVolt workspaces; configured by 'pvdev git-setup' as\n"
                "  merge.pv.driver = pvdev merge-driver %%O %%A %%B %%L %%P\n"
                "It merges tables row by row and cell by cell; conflicts are recorded in\n"
                "the chunk ('pvdev conflicts' lists them, 'pvdev resolve' settles them).\n");
        return argc == 2 && !strcmp(argv[1], "--help") ? PVDEV_EXIT_OK : PVDEV_EXIT_USAGE;
    }
    rc = pvgit_merge_file(argv[1], argv[2], argv[3], argv[5], &st);
    if (rc < 0) {
        fprintf(stderr, "pvdev merge-driver: %s: %s\n", argv[5], pv_errmsg());
        return PVDEV_EXIT_FAIL; /* git keeps ours and marks the path conflicted */
    }
    if (st.schema_conflicts && st.schema_settled)
        fprintf(stderr, "pvdev merge-driver: %s: %zu conflicting schema change%s; ours' side kept for each, and the "
                "rows of both sides are merged under that schema (theirs' values of a column it drops are not; of a "
                "column it types otherwise, those that convert without change are, the rows of the others are "
                "conflicts): check it, edit it if needed, then 'git add' it\n", argv[5],
                st.schema_conflicts, st.schema_conflicts == 1 ? "" : "s");
    else if (st.schema_conflicts)
        fprintf(stderr, "pvdev merge-driver: %s: %zu conflicting schema change%s; ours' schema kept: edit it, or take "
                "one side (git checkout --ours/--theirs), then 'git add' it\n", argv[5],
                st.schema_conflicts, st.schema_conflicts == 1 ? "" : "s");
    if (st.conflicts)
        fprintf(stderr, "pvdev merge-driver: %s: %zu conflict%s recorded; see 'pvdev conflicts'\n", argv[5],
                st.conflicts, st.conflicts == 1 ? "" : "s");
    return rc ? PVDEV_EXIT_FAIL : PVDEV_EXIT_OK;
}
