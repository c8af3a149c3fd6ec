/*
 * setup.h: a repository's set-up for PicoVolt (docs/GIT.md, "Set-up"):
 * the tracked `.gitattributes` line, the repository-local merge and diff
 * drivers, and the hooks. Shared by `pvdev init` and `pvdev git-setup`.
 */
#ifndef PVGIT_SETUP_H
#define PVGIT_SETUP_H

#include <stdio.h>

/* The `.gitattributes` line written beside `.pv/`. */
#define PVGIT_ATTR_LINE ".pv/tables/** merge=pv diff=pv"

/* The configured commands. The textconv command carries a version: git
 * keys its cached conversions (diff.pv.cachetextconv) by the command, so a
 * new version of the output format must change it. */
#define PVGIT_MERGE_NAME "PicoVolt: three-way merge of tables by primary key"
#define PVGIT_MERGE_DRIVER "pvdev merge-driver %O %A %B %L %P"
#define PVGIT_TEXTCONV "pvdev textconv --v1"

/* The line that marks a hook as written by pvdev (and so replaceable). */
#define PVGIT_HOOK_MARKER "# pvdev-managed-hook"

/* The texts of hooks/pre-commit and hooks/pre-merge-commit. */
extern const char pvgit_hook_pre_commit[];
extern const char pvgit_hook_pre_merge_commit[];

/* pvgit_setup flags. */
#define PVGIT_SETUP_UNINSTALL 1u /* undo: remove what set-up writes */
#define PVGIT_SETUP_FORCE     2u /* replace config values the user set */

/* Set up (or, with PVGIT_SETUP_UNINSTALL, undo) the repository around
 * `dir`, the directory holding `.pv/`: `.gitattributes` in `dir` (other
 * lines kept), the local config through libgit2, and the hooks in the
 * directory git runs them from (core.hooksPath, else the common git
 * directory's hooks/), never replacing a hook pvdev did not write. A config
 * value the user set (one no pvdev writes, e.g. a wrapper script as
 * merge.pv.driver) is kept and reported, unless PVGIT_SETUP_FORCE; one an
 * older pvdev wrote (another textconv version) is updated. Idempotent.
 * Reports what it did, one line per item, on `msg`.
 * Errors: PV_EMISUSE (both flags), PV_ENOTFOUND (not in a git repository),
 * PV_EIO, PV_ENOMEM. */
int pvgit_setup(const char *dir, unsigned flags, FILE *msg);

/* Warn on stderr, once, when `.gitattributes` sends the workspace of
 * `dir` to the pv merge driver but the repository's config has no
 * merge.pv.driver (a fresh clone: git would merge chunk files as text).
 * Quiet outside a workspace or a repository, and for the commands that
 * fix it (`command` "init" and "git-setup"). */
void pvgit_setup_warn(const char *dir, const char *command);

#endif
