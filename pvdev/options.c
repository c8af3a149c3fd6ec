/*
 * options.c: usage, help and lookup from a subcommand's option table.
 */
#include <string.h>

#include "cmds.h"
#include "options.h"

void pvdev_print_usage(FILE *f, const pvdev_command *c)
{
    size_t i;
    fprintf(f, "usage: pvdev %s", c->name);
    for (i = 0; i < c->noptions; i++) {
        const pvdev_option *o = &c->options[i];
        if (o->id == c->help_id) continue;
        fprintf(f, " [%s%s%s]", o->shortname ? o->shortname : o->longname, o->arg ? " " : "",
                o->arg ? o->arg : "");
    }
    fprintf(f, " %s\n", c->operands);
}

int pvdev_print_help(const pvdev_command *c)
{
    size_t i;
    pvdev_print_usage(stdout, c);
    printf("\n%s\nOptions:\n", c->text);
    for (i = 0; i < c->noptions; i++) {
        const pvdev_option *o = &c->options[i];
        char left[64];
        snprintf(left, sizeof left, "%s%s%s%s%s", o->shortname ? o->shortname : "",
                 o->shortname && o->longname ? ", " : "", o->longname ? o->longname : "",
                 o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-22s %s\n", left, o->help);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "pvdev: cannot write the help text\n");
        return PVDEV_EXIT_FAIL;
    }
    return PVDEV_EXIT_OK;
}

int pvdev_usage_error(const pvdev_command *c, const char *msg, const char *what)
{
    if (what) fprintf(stderr, "pvdev %s: %s '%s'\n", c->name, msg, what);
    else fprintf(stderr, "pvdev %s: %s\n", c->name, msg);
    pvdev_print_usage(stderr, c);
    fprintf(stderr, "Try 'pvdev %s --help' for details.\n", c->name);
    return PVDEV_EXIT_USAGE;
}

int pvdev_next_arg(const pvdev_command *c, int argc, char **argv, pvdev_args *it, const pvdev_option **o,
                   const char **val)
{
    const char *arg;
    for (;;) {
        if (it->i >= argc) return PVDEV_ARG_END;
        arg = argv[it->i++];
        if (it->operands_only || arg[0] != '-' || strcmp(arg, "-") == 0) {
            *val = arg;
            return PVDEV_ARG_OPERAND;
        }
        if (strcmp(arg, "--") != 0) break;
        it->operands_only = 1;
    }
    if (!(*o = pvdev_find_option(c, arg, val))) return pvdev_usage_error(c, "unknown option", arg);
    if ((*o)->arg && !*val) {
        if (it->i >= argc) return pvdev_usage_error(c, "missing value for", arg);
        *val = argv[it->i++];
    } else if (!(*o)->arg && *val) {
        return pvdev_usage_error(c, "no value expected for", arg);
    }
    return PVDEV_ARG_OPTION;
}

const pvdev_option *pvdev_find_option(const pvdev_command *c, const char *arg, const char **val)
{
    size_t i;
    *val = NULL;
    for (i = 0; i < c->noptions; i++) {
        const pvdev_option *o = &c->options[i];
        size_t n = o->longname ? strlen(o->longname) : 0;
        if (o->longname && strncmp(arg, o->longname, n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
            *val = arg[n] == '=' ? arg + n + 1 : NULL;
            return o;
        }
        if (o->shortname && strncmp(arg, o->shortname, 2) == 0 && (arg[2] == '\0' || o->arg)) {
            *val = arg[2] ? arg + 2 : NULL;
            return o;
        }
    }
    return NULL;
}
