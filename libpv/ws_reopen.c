/*
 * ws_reopen.c: a fresh snapshot for a workspace handle (pv_reopen).
 *
 * A handle reads from the snapshot it took at open (ws_snap.c), so it
 * never sees later commits of other processes. pv_reopen asks whether
 * anything was committed since; when something was, the workspace is
 * opened again and the new handle replaces the old, so the next reads see
 * the latest commit. The check reads no chunk: directory times, the
 * newest chunk's size per table and the rewrite count, the same test a
 * writer makes at BEGIN (ws_snapshot_stale), so an unchanged workspace
 * costs a few stat calls and keeps every table the handle has read.
 *
 * Opening anew rather than reloading in place keeps the old handle whole
 * when the open fails (a newer layout version, a damaged schema, no
 * memory): the caller reads on from its old snapshot.
 */
#include <sys/types.h>

#include "ws_internal.h"

/* Has another process committed since the handle's snapshot? Asked under
 * the shared commit lock, so no commit is half done meanwhile. */
static int ws_changed(pv_ws *ws, int *changed)
{
    int rc;
    *changed = 0;
    if ((rc = ws_commit_lock(ws, 0))) return rc;
    rc = ws_snapshot_stale(ws, changed);
    /* a compaction may leave every size and time as it was: the count
     * says it came */
    if (!rc && !*changed) *changed = ws_gen_moved(ws);
    ws_commit_unlock(ws);
    return rc;
}

int pv_ws_reopen(pv_ws **wsp, int users, int *changed)
{
    pv_ws *ws = *wsp, *fresh;
    int rc, moved;
    if (changed) *changed = 0;
    /* a statement or getter holds the tables (rows, vectors, sources) the
     * old handle loaded; a transaction holds its writes */
    if (users > 0)
        return pv_err(PV_EMISUSE, "pv_reopen: %d statement(s) or getter(s) of workspace '%s' not finalized",
                      users, ws->root);
    if (ws->txn.open)
        return pv_err(PV_EMISUSE, "pv_reopen: a transaction is open on workspace '%s': COMMIT or ROLLBACK first",
                      ws->root);
    if (!ws->posix) return PV_OK; /* a git revision does not move */
    if ((rc = ws_changed(ws, &moved)) || !moved) return rc;
    if ((rc = pv_ws_open_ex(ws->root, ws->writable, ws->sync ? PV_WS_SYNC : PV_WS_FAST, &fresh))) return rc;
    /* what the caller set on the handle, not read from the files */
    fresh->load_threads = ws->load_threads;
    fresh->no_ckpt_read = ws->no_ckpt_read;
    fresh->rev_ckpt = ws->rev_ckpt;
    pv_ws_close(ws);
    *wsp = fresh;
    if (changed) *changed = 1;
    return PV_OK;
}
