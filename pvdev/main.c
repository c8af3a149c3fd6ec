/*
 * main.c: pvdev, the workspace tool. A table of subcommands, one file each
 * (cmd_<name>.c); the table generates the usage text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "pv.h"
#include "setup.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"init", cmd_init, "create a workspace (.pv/) in the current directory"},
    {"sql", cmd_sql, "run SQL statements on the workspace or a .pvdb file"},
    {"import", cmd_import, "load a CSV or NDJSON file into a table, in one transaction"},
    {"merge-driver", cmd_merge_driver, "git's merge driver: merge tables by row and cell"},
    {"conflicts", cmd_conflicts, "list the merge conflicts recorded in the chunks"},
    {"resolve", cmd_resolve, "settle merge conflicts: --ours or --theirs"},
    {"fsck", cmd_fsck, "check every chunk line, schema and blob; one line per problem"},
    {"compact", cmd_compact, "rewrite tables to their current rows (an explicit commit)"},
    {"gc", cmd_gc, "remove blob files no chunk line refers to"},
    {"export", cmd_export, "write a table or a query as CSV or NDJSON"},
    {"git-setup", cmd_git_setup, "set up this clone for PicoVolt: attributes, drivers, hooks"},
    {"diff", cmd_diff, "row-level differences between revisions and the work tree"},
    {"log", cmd_log, "the commits that changed a table or one row"},
    {"textconv", cmd_textconv, "a .pv/ file as readable records (git's diff driver)"},
    {"hook", cmd_hook, "what the git hooks run: pvdev hook pre-commit|pre-merge-commit"},
};

static void usage(FILE *to)
{
    size_t i;
    fprintf(to, "usage: pvdev [-C DIR] [--durability sync|fast] <command> [<args>]\n\ncommands:\n");
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  %-13s %s\n", commands[i].name, commands[i].help);
    fprintf(to,
            "\noptions:\n"
            "  -C DIR        run in DIR\n"
            "  --durability sync|fast\n"
            "                what a commit waits for (default: $PV_DURABILITY, else sync)\n"
            "                sync: before a commit returns, every file it wrote and the\n"
            "                directories it changed are fsynced: it survives a power loss.\n"
            "                fast: no fsync. A crash of pvdev loses nothing; a power loss or\n"
            "                OS crash can lose the last commits and leave the last multi-row\n"
            "                commit partly written (a one-row commit is whole or absent).\n"
            "\n'pvdev <command> --help' describes a command. pvdev %s\n",
            pv_version());
}

/* --durability: commands open the workspace through pv_open, which takes
 * the durability from PV_DURABILITY (libpv/ws.h), so the option sets it
 * for this process, over any value inherited. */
static int set_durability(const char *mode)
{
    if (strcmp(mode, "sync") != 0 && strcmp(mode, "fast") != 0) {
        fprintf(stderr, "pvdev: --durability '%s': expected 'sync' or 'fast'\n", mode);
        return PVDEV_EXIT_USAGE;
    }
    if (setenv("PV_DURABILITY", mode, 1) != 0) {
        perror("pvdev: --durability");
        return PVDEV_EXIT_FAIL;
    }
    return PVDEV_EXIT_OK;
}

static int finish(int rc)
{
    /* A full disk or closed pipe on stdout is a failure too (git's usage.c). */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("pvdev: cannot write to standard output");
        return PVDEV_EXIT_FAIL;
    }
    return rc;
}

int main(int argc, char **argv)
{
    size_t i;
    argv++, argc--;
    while (argc > 0 && argv[0][0] == '-') {
        if (!strcmp(argv[0], "-C") && argc > 1) {
            if (chdir(argv[1]) != 0) {
                fprintf(stderr, "pvdev: cannot change to '%s': ", argv[1]);
                perror(NULL);
                return PVDEV_EXIT_FAIL;
            }
            argv += 2, argc -= 2;
        } else if (!strcmp(argv[0], "--durability") || !strncmp(argv[0], "--durability=", 13)) {
            int eq = argv[0][12] == '=', rc;
            if (!eq && argc < 2) {
                fprintf(stderr, "pvdev: --durability needs a value: sync or fast\n");
                return PVDEV_EXIT_USAGE;
            }
            if ((rc = set_durability(eq ? argv[0] + 13 : argv[1])) != PVDEV_EXIT_OK) return rc;
            argv += eq ? 1 : 2, argc -= eq ? 1 : 2;
        } else if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
            usage(stdout);
            return finish(PVDEV_EXIT_OK);
        } else if (!strcmp(argv[0], "--version")) {
            printf("pvdev %s\n", pv_version());
            return finish(PVDEV_EXIT_OK);
        } else {
            fprintf(stderr, "pvdev: unknown option '%s'\n", argv[0]);
            usage(stderr);
            return PVDEV_EXIT_USAGE;
        }
    }
    if (argc == 0) {
        usage(stderr);
        return PVDEV_EXIT_USAGE;
    }
    pvgit_setup_warn(".", argv[0]); /* a clone without the merge driver */
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[0], commands[i].name)) return finish(commands[i].fn(argc, argv));
    fprintf(stderr, "pvdev: '%s' is not a pvdev command\n", argv[0]);
    usage(stderr);
    return PVDEV_EXIT_USAGE;
}
