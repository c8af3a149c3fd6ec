/*
 * cmd_sql.c: `pvdev sql`: run SQL on the workspace or on a baked .pvdb.
 *
 * Output is the sqlite3 shell's list mode (values joined by '|', NULL as an
 * empty field), so results can be compared with sqlite3 line for line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "pv.h"

struct sql_opts {
    const char *db_path;     /* --db FILE, else the workspace in "." */
    const char *separator;   /* between values */
    int header;              /* print column names first */
};

static void sql_usage(FILE *to)
{
    fprintf(to,
            "usage: pvdev sql [--db FILE.pvdb] [--header] [--separator S] [STATEMENTS]\n\n"
            "Run SQL statements (from the argument, or from standard input) on\n"
            "the workspace in the current directory, or on a baked .pvdb file\n"
            "with --db. Rows print as values joined by '|' (NULL is empty), as\n"
            "the sqlite3 shell prints them.\n\n"
            "  --db FILE       query a .pvdb file (read-only)\n"
            "  --header        print the column names first\n"
            "  --separator S   join values with S instead of '|'\n");
}

static int print_rows(pv_stmt *st, const struct sql_opts *o, int *printed_header)
{
    int rc, i, n = pv_column_count(st);
    while ((rc = pv_step(st)) == PV_ROW) {
        if (o->header && !*printed_header) {
            for (i = 0; i < n; i++) printf("%s%s", i ? o->separator : "", pv_column_name(st, i));
            putchar('\n');
            *printed_header = 1;
        }
        for (i = 0; i < n; i++) {
            if (i) fputs(o->separator, stdout);
            if (pv_column_type(st, i) == PV_BLOB)
                fwrite(pv_column_blob(st, i), 1, pv_column_bytes(st, i), stdout);
            else if (pv_column_type(st, i) != PV_NULL)
                fputs(pv_column_text(st, i), stdout);
        }
        putchar('\n');
    }
    return rc;
}

/* Run every statement of `sql`; stop at the first error. */
static int run_script(pv_db *db, const char *sql, const struct sql_opts *o)
{
    const char *p = sql, *end = sql + strlen(sql);
    while (p < end) {
        pv_stmt *st = NULL;
        const char *tail = NULL;
        int rc, printed_header = 0;
        if (pv_prepare(db, p, (size_t)(end - p), &st, &tail) != PV_OK) return pvdev_fail(NULL);
        if (!st) break; /* only blanks and comments left */
        rc = print_rows(st, o, &printed_header);
        pv_finalize(st);
        if (rc < 0) return pvdev_fail(NULL);
        if (!tail || tail <= p) break;
        p = tail;
    }
    return PVDEV_EXIT_OK;
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

int cmd_sql(int argc, char **argv)
{
    struct sql_opts o = {NULL, "|", 0};
    pv_db *db = NULL;
    char *script = NULL;
    const char *sql = NULL;
    int i, rc;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            sql_usage(stdout);
            return PVDEV_EXIT_OK;
        } else if (!strcmp(argv[i], "--db") && i + 1 < argc) {
            o.db_path = argv[++i];
        } else if (!strcmp(argv[i], "--header")) {
            o.header = 1;
        } else if (!strcmp(argv[i], "--separator") && i + 1 < argc) {
            o.separator = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "pvdev sql: unknown option '%s'\n", argv[i]);
            sql_usage(stderr);
            return PVDEV_EXIT_USAGE;
        } else if (!sql) {
            sql = argv[i];
        } else {
            fprintf(stderr, "pvdev sql: give the statements as one argument\n");
            return PVDEV_EXIT_USAGE;
        }
    }
    if (!sql) {
        if (!(script = read_stdin())) {
            fprintf(stderr, "pvdev sql: out of memory reading standard input\n");
            return PVDEV_EXIT_FAIL;
        }
        sql = script;
    }
    if (pv_open(o.db_path ? o.db_path : ".", o.db_path ? PV_OPEN_READONLY : PV_OPEN_READWRITE, &db) != PV_OK) {
        free(script);
        return pvdev_fail(NULL);
    }
    rc = run_script(db, sql, &o);
    pv_close(db);
    free(script);
    return rc;
}
