/*
 * main.c: pvbake, the bake compiler. A table of subcommands whose rows
 * generate the usage text (git's git.c), so help never drifts from the code.
 * Without a command name, `pvbake -o OUT.pvdb` runs `bake`.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "pv.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *args;
    const char *help;
};

static const struct command commands[] = {
    {"bake", cmd_bake, "-o OUT.pvdb [-C DIR] [--rev REV] [-j N] [--no-cache] [-v]",
     "bake the workspace in DIR (default .), or as it is at git revision REV\n"
     "           (from the object database: no checkout), into OUT.pvdb (the default command);\n"
     "           -j: encoding threads (default: all CPUs); --no-cache: do not use\n"
     "           DIR/.pv/cache/bake; -v: timings"},
    {"inspect", cmd_inspect, "FILE [--json] [--chunks]",
     "show a .pvdb file's tables, columns, encodings, sizes and zone maps"},
    {"verify", cmd_verify, "FILE",
     "check every checksum, offset, zone map and key of a .pvdb file"},
    {"diff", cmd_diff, "A.pvdb B.pvdb",
     "which tables and row counts changed from A to B"},
    {"bench", cmd_bench, "FILE [TABLE] [-n N]",
     "time key lookups, ranges, open (warm and cold) and lookups after the\n"
     "           file left the page cache, on FILE (an INTEGER key)"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *to)
{
    size_t i;
    fprintf(to, "usage: pvbake <command> [<args>]\n"
                "       pvbake -o OUT.pvdb [-C DIR] [--rev REV] [-j N] [--no-cache] [-v]\n\ncommands:\n");
    for (i = 0; i < NCOMMANDS; i++)
        fprintf(to, "  %-8s %s\n           %s\n", commands[i].name, commands[i].args,
                commands[i].help);
    fprintf(to, "\n'pvbake <command> --help' describes a command. pvbake %s\n",
            PV_VERSION_STRING);
}

/* A command's help as its own page: the lines after the first lose the
 * indent they carry for the command list. */
static void print_help(FILE *to, const char *help)
{
    const char *nl;
    while ((nl = strchr(help, '\n'))) {
        fprintf(to, "%.*s\n", (int)(nl - help), help);
        help = nl + 1;
        help += strspn(help, " ");
    }
    fprintf(to, "%s\n", help);
}

int pvbake_usage(const char *name, int error)
{
    FILE *to = error ? stderr : stdout;
    size_t i;
    for (i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, name) != 0) continue;
        fprintf(to, "usage: pvbake %s %s\n\n", commands[i].name, commands[i].args);
        print_help(to, commands[i].help);
        return error ? PVBAKE_EXIT_USAGE : PVBAKE_EXIT_OK;
    }
    usage(to);
    return error ? PVBAKE_EXIT_USAGE : PVBAKE_EXIT_OK;
}

int pvbake_fail(void)
{
    fprintf(stderr, "pvbake: %s\n", pv_errmsg());
    return PVBAKE_EXIT_FAIL;
}

static int finish(int rc)
{
    /* A full disk or closed pipe on stdout is a failure too (git's usage.c). */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("pvbake: cannot write to standard output");
        return PVBAKE_EXIT_FAIL;
    }
    return rc;
}

int main(int argc, char **argv)
{
    size_t i;
    if (argc < 2) {
        usage(stderr);
        return PVBAKE_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return finish(PVBAKE_EXIT_OK);
    }
    if (!strcmp(argv[1], "--version")) {
        printf("pvbake %s\n", PV_VERSION_STRING);
        return finish(PVBAKE_EXIT_OK);
    }
    for (i = 0; i < NCOMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return finish(commands[i].fn(argc - 1, argv + 1));
    if (argv[1][0] == '-') {
        argv[0] = (char *)"bake"; /* options without a command: bake */
        return finish(cmd_bake(argc, argv));
    }
    fprintf(stderr, "pvbake: '%s' is not a pvbake command\n", argv[1]);
    usage(stderr);
    return PVBAKE_EXIT_USAGE;
}
