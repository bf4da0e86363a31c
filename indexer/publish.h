/* publish: how a build replaces an index directory atomically.
 *
 * Everything is written into a temporary sibling directory (OUT.tmp-PID),
 * synced, and swapped into place with one rename (RENAME_EXCHANGE when OUT
 * exists), so readers see the old index or the new one, never none, and a
 * build killed at any moment leaves the previous index intact. Temporary
 * directories left by builds whose process is gone are removed by the next
 * build; a running build's (kill(pid, 0) succeeds) is left alone.
 *
 * An append (build.h) changes the index in place but uses the temporary
 * directory too, for its scratch files: a killed append's are removed with
 * it by the next build.
 *
 * Only an idx index (a directory with a meta file) or an empty directory is
 * ever replaced. Single-threaded; the caller owns the publish struct. */
#ifndef IDX_PUBLISH_H
#define IDX_PUBLISH_H

#include <signal.h>
#include <stddef.h>

#include "common/status.h"

typedef struct publish {
    char out[4096];      /* the target, without trailing slashes */
    char tmp[4096 + 32]; /* OUT.tmp-PID, where the build writes */
    int exists;          /* OUT exists (an index or an empty directory) */
    int made;            /* tmp was created and not yet published or removed */
} publish;

/* Checks the target, removes dead builds' leftovers and creates the
 * temporary directory. IDX_EDATA if OUT is something else than an index or
 * an empty directory. */
int publish_begin(publish *p, const char *out, idx_err *err);

/* IDX_EDATA if an input lies inside the target directory, or the target
 * inside an input directory (paths resolved): the build would read the
 * index it replaces, or its own temporary files. */
int publish_check_inputs(const publish *p, const char *const *inputs, size_t n, idx_err *err);

/* Syncs the temporary directory and swaps it into place; the old index is
 * removed. The swap waits for the old index's writer lock (INDEX/write.lock,
 * common/txn.h), so it never lands in the middle of an append, delete or
 * merge, whose writer finds the directory swapped when it retries. While it
 * waits, *stop becoming non-zero (stop may be NULL) ends the wait with
 * IDX_EINTR and nothing swapped. */
int publish_commit(publish *p, const volatile sig_atomic_t *stop, idx_err *err);

/* Removes the temporary directory (after an error or a refusal). */
void publish_abort(publish *p);

/* Removes path, a file or a directory tree; 0 or -1 (errno). */
int publish_remove_tree(const char *path);

#endif
