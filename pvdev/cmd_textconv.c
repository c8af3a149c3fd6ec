/*
 * cmd_textconv.c: `pvdev textconv FILE`: git's diff driver for `.pv/`
 * files (diff.pv.textconv): a chunk or schema file as one readable line per
 * record, so `git diff`, `git log -p` and `git show` show row changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "rowdiff.h"

/* A file bigger than this is shown as it is, without conversion. */
#define TEXTCONV_MAX ((size_t)1 << 30)

int cmd_textconv(int argc, char **argv)
{
    const char *path = NULL;
    char *text = NULL;
    size_t len = 0;
    pv_buf out = PV_BUF_INIT;
    int i, rc;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: pvdev textconv FILE\n\n"
                   "Print a .pv/ chunk or schema file as one readable line per record,\n"
                   "for git's diff driver (pvdev git-setup configures diff.pv.textconv).\n"
                   "Options of the form --vN are accepted and ignored: the version in the\n"
                   "configured command makes git redo its cached conversions.\n");
            return PVDEV_EXIT_OK;
        }
        if (!strncmp(argv[i], "--v", 3)) continue;
        if (path) {
            fprintf(stderr, "usage: pvdev textconv FILE\n");
            return PVDEV_EXIT_USAGE;
        }
        path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: pvdev textconv FILE\n");
        return PVDEV_EXIT_USAGE;
    }
    if (pv_read_file(path, TEXTCONV_MAX, &text, &len) != PV_OK) return pvdev_fail("textconv");
    rc = pvgit_textconv(&out, text, len);
    free(text);
    if (rc) {
        pv_buf_free(&out);
        return pvdev_fail("textconv");
    }
    if (out.len && fwrite(out.p, 1, out.len, stdout) != out.len) {
        pv_buf_free(&out);
        perror("pvdev: textconv");
        return PVDEV_EXIT_FAIL;
    }
    pv_buf_free(&out);
    return PVDEV_EXIT_OK;
}
