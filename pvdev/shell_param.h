/*
 * shell_param.h: the values `pvdev sql` binds to `?N` parameters, given
 * with --param (TEXT) or with the shell's .parameter command (any type:
 * VALUE is evaluated as SQL, as the sqlite3 shell does).
 */
#ifndef PVDEV_SHELL_PARAM_H
#define PVDEV_SHELL_PARAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pv.h"

/* One value: parameter ?idx. `bytes` (TEXT, BLOB; NUL-terminated) and
 * `shown` (the value as SQL's quote() writes it, for .parameter list) are
 * malloc'ed and owned by the set. */
typedef struct pvdev_param {
    int idx;
    int type;           /* PV_NULL, PV_INTEGER, PV_REAL, PV_TEXT, PV_BLOB, PV_BOOLEAN */
    int64_t i;          /* INTEGER, BOOLEAN */
    double d;           /* REAL */
    char *bytes;        /* TEXT, BLOB */
    size_t n;           /* their length in bytes */
    char *shown;
} pvdev_param;

/* The values, sorted by idx; {NULL, 0} is the empty set. */
typedef struct pvdev_param_set {
    pvdev_param *v;
    int n;
} pvdev_param_set;

#define PVDEV_PARAM_MAX 32766 /* the largest N of ?N, as SQLite's default */

/* The N of a parameter name "?N" (1..PVDEV_PARAM_MAX) into *idx; -1 when
 * the name is not one (pvdev has no :name, @name or $name parameters). */
int pvdev_param_name(const char *name, int *idx);

/* Set ?idx to `n` bytes of TEXT (copied), replacing any value it had.
 * Errors: PV_ENOMEM. */
int pvdev_param_set_text(pvdev_param_set *ps, int idx, const char *text, size_t n);

/* Set ?idx to the value of the SQL expression `expr`, evaluated on `db`
 * (SELECT expr): `.parameter set ?1 42` is INTEGER 42, `1.50` REAL 1.5,
 * `'00501'` TEXT, `x'00ff'` a BLOB. An `expr` that does not evaluate
 * (`abc`: no such column) is TEXT as written, as in sqlite3.
 * Errors: PV_ENOMEM. */
int pvdev_param_set_expr(pvdev_param_set *ps, pv_db *db, int idx, const char *expr);

/* Remove ?idx's value; 0 also when it had none. */
void pvdev_param_unset(pvdev_param_set *ps, int idx);

/* Remove every value and free the set's memory (the set stays usable). */
void pvdev_param_clear(pvdev_param_set *ps);

/* Print "?N VALUE" lines as sqlite3's .parameter list does: names in text
 * order (?1, ?10, ?2), padded to the longest, values quoted. */
void pvdev_param_list(const pvdev_param_set *ps, FILE *f);

/* Bind the set's values to the statement's parameters. A parameter with
 * no value stays NULL, unless `strict`: then it is PV_ERANGE (a script
 * must not silently compare with NULL; the caller says which statement).
 * Errors: PV_ERANGE, PV_EINPUT (TEXT not UTF-8), PV_ENOMEM. */
int pvdev_param_bind(const pvdev_param_set *ps, pv_stmt *st, int strict);

#endif
