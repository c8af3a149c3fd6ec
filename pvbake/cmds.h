/*
 * cmds.h: the pvbake subcommands (cmd_<name>, one file per concern) and what
 * they share. Each returns the process exit code.
 */
#ifndef PVBAKE_CMDS_H
#define PVBAKE_CMDS_H

#define PVBAKE_EXIT_OK 0
#define PVBAKE_EXIT_FAIL 1     /* the work failed: "pvbake: <pv_errmsg()>" */
#define PVBAKE_EXIT_USAGE 2    /* bad command line */

/* argv[0] is the command name; options follow. */
int cmd_bake(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* Print "pvbake: " + the last libpv error message to stderr; returns 1. */
int pvbake_fail(void);

/* Print the usage line of command `name`, generated from the command table
 * (main.c), to stdout (help, returns 0) or stderr (error, returns 2). */
int pvbake_usage(const char *name, int error);

#endif
