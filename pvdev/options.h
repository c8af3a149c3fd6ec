/*
 * options.h: a subcommand's option table, and what it generates: the usage
 * line, the --help text, usage errors and option lookup. The table is the
 * one place an option is described, so help never drifts from parsing.
 */
#ifndef PVDEV_OPTIONS_H
#define PVDEV_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

typedef struct pvdev_option {
    int id;
    const char *shortname;  /* "-C", or NULL */
    const char *longname;   /* "--key", or NULL */
    const char *arg;        /* the value's name, or NULL for a flag */
    const char *help;
} pvdev_option;

typedef struct pvdev_command {
    const char *name;             /* "import" */
    const char *operands;         /* "TABLE FILE", after the options */
    const char *text;             /* the paragraphs of --help */
    const pvdev_option *options;
    size_t noptions;
    int help_id;                  /* the id of -h/--help, left out of the usage line */
} pvdev_command;

/* "usage: pvdev NAME [-o FILE] [--key COL] OPERANDS" */
void pvdev_print_usage(FILE *f, const pvdev_command *c);
/* The usage line, the text and the option list on stdout; the exit code. */
int pvdev_print_help(const pvdev_command *c);
/* "pvdev NAME: MSG 'WHAT'", the usage line and a hint on stderr; returns
 * the usage exit code (2). */
int pvdev_usage_error(const pvdev_command *c, const char *msg, const char *what);
/* The option `arg` names ("--key", "--key=a", "-C", "-Cdir"), with its
 * attached value in *val (NULL when none); NULL for an unknown option. */
const pvdev_option *pvdev_find_option(const pvdev_command *c, const char *arg, const char **val);

/* Walking argv: `it` starts as PVDEV_ARGS_INIT. Each call returns
 * PVDEV_ARG_OPERAND (*val the operand: a word not starting with '-', "-",
 * or anything after "--"), PVDEV_ARG_OPTION (*o, and *val its value: attached,
 * or the next word when the option takes one), PVDEV_ARG_END, or a usage
 * exit code already reported (unknown option, missing or unexpected value). */
typedef struct pvdev_args {
    int i;
    int operands_only;
} pvdev_args;
#define PVDEV_ARGS_INIT {1, 0}
#define PVDEV_ARG_END 0
#define PVDEV_ARG_OPERAND (-1)
#define PVDEV_ARG_OPTION (-2)
int pvdev_next_arg(const pvdev_command *c, int argc, char **argv, pvdev_args *it, const pvdev_option **o,
                   const char **val);

#endif
