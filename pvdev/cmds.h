/*
 * cmds.h: the pvdev subcommands, one file each (cmd_<name>.c), and what
 * they share. Each returns the process exit code: 0 success, 1 failure,
 * 2 usage error.
 */
#ifndef PVDEV_CMDS_H
#define PVDEV_CMDS_H

#define PVDEV_EXIT_OK 0
#define PVDEV_EXIT_FAIL 1
#define PVDEV_EXIT_USAGE 2

int cmd_init(int argc, char **argv);
int cmd_sql(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_merge_driver(int argc, char **argv);
int cmd_conflicts(int argc, char **argv);
int cmd_resolve(int argc, char **argv);
int cmd_fsck(int argc, char **argv);
int cmd_compact(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_git_setup(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_textconv(int argc, char **argv);
int cmd_hook(int argc, char **argv);

/* Print "pvdev: " + the last libpv error message to stderr; returns 1. */
int pvdev_fail(const char *what);

#endif
