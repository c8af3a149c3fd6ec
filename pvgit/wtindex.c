/*
 * wtindex.c: clean work tree files from git's index (wtindex.h).
 */
#include <sys/stat.h>

#include "wtindex.h"

void pvgit_wtindex_open(pvgit_wtindex *w, git_repository *repo)
{
    struct stat st;
    w->index = NULL;
    if (!repo || git_repository_is_bare(repo) || git_repository_index(&w->index, repo) != 0) {
        w->index = NULL;
        return;
    }
    if (!git_index_path(w->index) || stat(git_index_path(w->index), &st) != 0) {
        git_index_free(w->index);
        w->index = NULL;
        return;
    }
    w->mtime = st.st_mtim;
}

void pvgit_wtindex_free(pvgit_wtindex *w)
{
    git_index_free(w->index);
    w->index = NULL;
}

int pvgit_wtindex_clean_id(const pvgit_wtindex *w, const char *rel, const char *path, git_oid *id)
{
    const git_index_entry *e;
    struct stat st;
    if (!w->index || !(e = git_index_get_bypath(w->index, rel, 0)) || stat(path, &st) != 0) return 0;
    if (e->file_size != (uint32_t)st.st_size || e->mtime.seconds != (int32_t)st.st_mtim.tv_sec ||
        e->mtime.nanoseconds != (uint32_t)st.st_mtim.tv_nsec || e->ino != (uint32_t)st.st_ino)
        return 0;
    if (!((int64_t)e->mtime.seconds < (int64_t)w->mtime.tv_sec ||
          ((int64_t)e->mtime.seconds == (int64_t)w->mtime.tv_sec && (long)e->mtime.nanoseconds < w->mtime.tv_nsec)))
        return 0; /* racily clean: the file may have changed after the index looked */
    git_oid_cpy(id, &e->id);
    return 1;
}
