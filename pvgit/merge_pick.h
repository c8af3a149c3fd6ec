/*
 * merge_pick.h: which commit `git cherry-pick` is picking, seen from
 * inside a merge driver (merge_pick.c; docs/GIT.md, "Finding the three
 * commits").
 */
#ifndef PVGIT_MERGE_PICK_H
#define PVGIT_MERGE_PICK_H

#include <git2.h>

/* The commit a cherry-pick in progress is picking, and the parent it is
 * picked over (the first, or the one `-m N` names), when git says so:
 * the first line of `sequencer/todo` ("pick <id> ...", written before each
 * pick of a multi-commit cherry-pick), else the command line of the `git
 * cherry-pick REV` process the driver runs under (Linux /proc: git exposes
 * nothing else during a single pick; CHERRY_PICK_HEAD is written only
 * after the merge). Only the nearest git process counts: a driver under
 * `git merge` or `git rebase` gets nothing here. Returns 1 with *pick and
 * *base set, or 0 (unknown: an alias, a range, no /proc, a root commit). */
int pvgit_pick_hint(git_repository *repo, git_oid *pick, git_oid *base);

#endif
