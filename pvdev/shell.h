/*
 * shell.h: running SQL text with a result formatter, and the interactive
 * shell of `pvdev sql` (line editing and history through libedit when
 * pvdev is built with it).
 */
#ifndef PVDEV_SHELL_H
#define PVDEV_SHELL_H

#include <stddef.h>
#include <stdio.h>

#include "output.h"
#include "pv.h"

/* Values for the `?` parameters of every statement run (`pvdev sql
 * --param`): statement parameter i (1-based) gets params[i - 1], bound as
 * TEXT, so the value is never changed on the way in (comparisons with a
 * typed column apply its affinity, as SQLite's do). */
typedef struct pvdev_params {
    const char *const *v;
    int n;
} pvdev_params;

/* Run scripts, as `pvdev sql` does its arguments (each a text) or its
 * standard input (one text): in each text, a line starting with '.' where
 * a statement may start is a dot-command (those of pvdev_shell; .mode,
 * .headers, .timer and .parameter last for the texts after it), everything
 * else SQL statements, printed on stdout with `opts` as changed by the
 * dot-commands. `params` (may be NULL) gives ?1.. as TEXT; a statement's
 * parameter without a value (from params or .parameter set) is PV_ERANGE.
 * Each statement, .tables and .schema first read the database as it is
 * now (pv_reopen): on a workspace, outside a transaction, its latest
 * commit, and a statement that fails with PV_EBUSY before its first row
 * runs once more after another; on a `.pvdb`, the file now at its path
 * (one renamed over it), and a file there that fails to open is the
 * command's error.
 * Stops at the first error and returns it, or at .quit; 0 when all ran.
 * pv_errmsg says the error after where it is, "NAME:LINE:COLUMN: ": the
 * text's name (names[i]; "<argument I>", I from 1, when names or names[i]
 * is NULL), the line in it and the column (1-based, in characters) of
 * libpv's pv_error_offset() (the message's "at offset N" is then left
 * out), else where the statement (or the dot-command) starts. */
int pvdev_run_script(pv_db *db, const char *const *texts, const char *const *names, int ntexts,
                     const pvdev_params *params, const pv_out_opts *opts);

/* Does sql[0..n) end with a complete statement: a ';' outside quotes
 * ('..', "..", `..`, [..]) and comments, followed only by blanks and
 * comments? (sqlite3_complete's question, for multi-line input.) */
int pvdev_sql_complete(const char *sql, size_t n);

/* The tables of the database, one name a line, in name order. */
int pvdev_print_tables(pv_db *db, FILE *f);

/* CREATE TABLE statements rebuilt from the schemas: all tables, or only
 * `table` (ASCII case-insensitive). PV_ENOTFOUND when there is no such
 * table. The hidden generated key is not shown. */
int pvdev_print_schema(pv_db *db, const char *table, FILE *f);

typedef struct pvdev_shell_opts {
    pv_out_opts out;    /* the starting mode; .mode and .headers change it */
    int editor;         /* 1: read through libedit with prompts and history
                         * (~/.pvdev_history); 0: plain lines from `in` */
    FILE *in;           /* input when editor == 0 */
} pvdev_shell_opts;

/* The interactive shell: SQL statements (one or several lines, up to a
 * ';') and dot-commands (.tables, .schema [T], .mode M, .headers on|off,
 * .timer on|off, .parameter clear|list|set ?N VALUE|unset ?N, .help,
 * .quit), each reading the latest commit, or the `.pvdb` now at the path,
 * as pvdev_run_script's do, except that a `.pvdb` that fails to open there
 * is printed as an error and the command reads the file the handle had
 * (pv_reopen keeps it). A `?N` with no .parameter value is NULL, as in
 * sqlite3. Errors
 * are printed, naming where they are as pvdev_run_script's do (lines of
 * the input counted from 1: "<stdin>:3:10: ..."), and the shell goes on.
 * Returns the exit code: 0, or 1 when any statement failed and input was
 * not a terminal (so a piped script's failure is seen). */
int pvdev_shell(pv_db *db, const pvdev_shell_opts *opts);

/* Was pvdev built with line editing? */
int pvdev_shell_has_editor(void);

#endif
