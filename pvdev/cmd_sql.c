/*
 * cmd_sql.c: `pvdev sql`: run SQL on the workspace or on a baked .pvdb,
 * from the argument, from standard input, or at an interactive prompt.
 *
 * Output modes are output.h's. The default is list mode (values joined by
 * '|', NULL empty: the sqlite3 shell's, so results compare with sqlite3
 * line for line) when standard output is not a terminal, and an aligned
 * table when it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "output.h"
#include "pv.h"
#include "resolver.h"
#include "shell.h"

struct sql_opts {
    const char *db_path;     /* --db FILE, else the workspace in "." */
    pv_out_opts out;
    int mode_set;            /* a mode option was given */
    int interactive;         /* --interactive: the shell even on a pipe */
    const char **params;     /* --param values, in order (argv's strings) */
    int nparams;
    const char **texts;      /* the statement arguments, in order */
    int ntexts;
};

static void sql_usage(FILE *to)
{
    fprintf(to,
            "usage: pvdev sql [--db FILE.pvdb] [--csv|--json|--table|--box|--line|--list]\n"
            "                 [--header] [--separator S] [--null TEXT] [--param VALUE]...\n"
            "                 [--interactive] [STATEMENTS]...\n\n"
            "Run SQL statements on the workspace in the current directory, or on a\n"
            "baked .pvdb file with --db. Statements come from the arguments, run in\n"
            "order, else from standard input. An argument, or a line of standard\n"
            "input where a statement may start, that begins with '.' is a dot-command\n"
            "(as with sqlite3: pvdev sql .tables '.schema T'). The first error stops\n"
            "the run; it says where it is as <stdin>:LINE:COLUMN (or <argument N>:...\n"
            "for the N-th statement argument; columns count characters from 1).\n"
            "Outside BEGIN ... COMMIT, each statement (and .tables, .schema) reads\n"
            "the workspace's latest commit, other processes' included; with --db,\n"
            "the file now at FILE (one renamed over it, as pvbake does, is read from\n"
            "the next statement on). When the file there cannot be opened the shell\n"
            "says so and answers from the file it had; a script stops.\n"
            "With no argument and a terminal on standard input (or\n"
            "with --interactive) an interactive shell starts: line editing, history\n"
            "in ~/.pvdev_history, statements up to ';', and .tables, .schema [T],\n"
            ".mode M, .headers on|off, .timer on|off, .parameter, .help, .quit.\n\n"
            "  --db FILE       query a .pvdb file (read-only)\n"
            "  --csv           CSV as the sqlite3 shell writes it ('' as \"\", NULL empty)\n"
            "  --json          a JSON array of objects, one per row\n"
            "  --table, --box  aligned columns in an ASCII or Unicode frame (the\n"
            "                  default when standard output is a terminal)\n"
            "  --line          one 'column = value' line per value\n"
            "  --list          values joined by '|', NULL empty (the default otherwise)\n"
            "  --mode M        any of the above by name\n"
            "  --header        print the column names first (list and csv)\n"
            "  --separator S   join values with S instead of '|' (list)\n"
            "  --null TEXT     show NULL as TEXT (list, table, box, line)\n"
            "  -p, --param V   the value of the next '?' parameter, as TEXT (compared\n"
            "                  with a typed column it takes the column's affinity:\n"
            "                  --param 42 finds id 42); repeat for ?2, ?3, ...; every\n"
            "                  statement of the script binds ?1.. from the same list\n"
            "  --interactive   read statements and dot-commands as the shell does,\n"
            "                  even when standard input is not a terminal\n");
    if (!pvdev_shell_has_editor())
        fprintf(to, "\n(this pvdev was built without line editing: no history)\n");
}

static char *read_stdin(void)
{
    size_t cap = 4096, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    if (buf) buf[len] = '\0';
    return buf;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct sql_opts *o)
{
    static const struct { const char *flag; int mode; } modes[] = {
        {"--csv", PV_OUT_CSV}, {"--json", PV_OUT_JSON}, {"--table", PV_OUT_TABLE},
        {"--box", PV_OUT_BOX}, {"--line", PV_OUT_LINE}, {"--list", PV_OUT_LIST},
    };

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        size_t k;
        for (k = 0; k < sizeof modes / sizeof modes[0]; k++)
            if (!strcmp(a, modes[k].flag))
                break;
        if (k < sizeof modes / sizeof modes[0]) {
            o->out.mode = modes[k].mode;
            o->mode_set = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            sql_usage(stdout);
            return PVDEV_EXIT_OK;
        } else if (!strcmp(a, "--db") && i + 1 < argc) {
            o->db_path = argv[++i];
        } else if (!strcmp(a, "--mode") && i + 1 < argc) {
            int m = pv_out_mode_parse(argv[++i]);
            if (m < 0 || m == PV_OUT_NDJSON) {
                fprintf(stderr, "pvdev sql: unknown mode '%s'\n", argv[i]);
                return PVDEV_EXIT_USAGE;
            }
            o->out.mode = m;
            o->mode_set = 1;
        } else if (!strcmp(a, "--header") || !strcmp(a, "--headers")) {
            o->out.header = 1;
        } else if (!strcmp(a, "--separator") && i + 1 < argc) {
            o->out.separator = argv[++i];
        } else if (!strcmp(a, "--null") && i + 1 < argc) {
            o->out.null_text = argv[++i];
        } else if ((!strcmp(a, "--param") || !strcmp(a, "-p")) && i + 1 < argc) {
            o->params[o->nparams++] = argv[++i];
        } else if (!strcmp(a, "--interactive") || !strcmp(a, "-i")) {
            o->interactive = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "pvdev sql: unknown option '%s'\n", a);
            sql_usage(stderr);
            return PVDEV_EXIT_USAGE;
        } else {
            o->texts[o->ntexts++] = a;
        }
    }
    return -1;
}

int cmd_sql(int argc, char **argv)
{
    struct sql_opts o;
    pv_out_opts init = PV_OUT_OPTS_INIT;
    pv_db *db = NULL;
    char *script = NULL;
    int rc, shell;

    memset(&o, 0, sizeof o);
    o.out = init;
    if (!(o.params = calloc((size_t)argc + 1, sizeof *o.params)) ||
        !(o.texts = calloc((size_t)argc + 1, sizeof *o.texts))) {
        fprintf(stderr, "pvdev sql: out of memory\n");
        rc = PVDEV_EXIT_FAIL;
        goto done;
    }
    if ((rc = parse_args(argc, argv, &o)) >= 0)
        goto done;
    if (o.nparams && !o.ntexts && (o.interactive || isatty(STDIN_FILENO))) {
        fprintf(stderr, "pvdev sql: --param is for statements given as an argument or on standard input\n");
        rc = PVDEV_EXIT_USAGE;
        goto done;
    }
    if (!o.mode_set && isatty(STDOUT_FILENO))
        o.out.mode = PV_OUT_TABLE;
    shell = !o.ntexts && (o.interactive || isatty(STDIN_FILENO));
    if (!o.ntexts && !shell) {
        if (!(script = read_stdin())) {
            fprintf(stderr, "pvdev sql: out of memory reading standard input\n");
            rc = PVDEV_EXIT_FAIL;
            goto done;
        }
        o.texts[o.ntexts++] = script;
    }
    if (pv_open(o.db_path ? o.db_path : ".", o.db_path ? PV_OPEN_READONLY : PV_OPEN_READWRITE, &db) != PV_OK ||
        /* SELECT ... FROM t AS OF 'REV' reads the workspace at a git revision */
        (!o.db_path && pvgit_install_resolver(db, ".") != PV_OK)) {
        rc = pvdev_fail(NULL);
        goto done;
    }
    if (shell) {
        pvdev_shell_opts so;
        so.out = o.out;
        so.editor = isatty(STDIN_FILENO);
        so.in = stdin;
        rc = pvdev_shell(db, &so);
    } else {
        pvdev_params params = {o.params, o.nparams};
        static const char *const from_stdin[] = {"<stdin>"};
        rc = pvdev_run_script(db, o.texts, script ? from_stdin : NULL, o.ntexts, &params, &o.out) < 0
                 ? pvdev_fail(NULL)
                 : PVDEV_EXIT_OK;
    }
done:
    pv_close(db);
    free(script);
    free(o.params);
    free(o.texts);
    return rc;
}
