/*
 * resolver.h: SELECT ... AS OF 'REV' for the tools (libpv/db.h's
 * pv_rev_resolver, through pvgit).
 */
#ifndef PVGIT_RESOLVER_H
#define PVGIT_RESOLVER_H

#include "db.h"

/* Install on `db` the resolver that reads a table as it is at any git
 * revision of the repository around `dir` (the directory holding `.pv/`),
 * straight from the object database. Each distinct commit is opened once,
 * on first use, and kept until pv_close. The repository is looked for on
 * first use too, so this never fails for lack of one: AS OF then fails
 * with PV_ENOTFOUND ("... is not in a git repository").
 * Errors: PV_ENOMEM. */
int pvgit_install_resolver(pv_db *db, const char *dir);

#endif
