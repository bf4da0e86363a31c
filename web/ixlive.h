/* ixlive: the index a long-running reader serves, following the index
 * directory as writers change it (docs/WEB.md "New generations").
 *
 * Every commit of a writer (an append, a delete, a merge, a full rebuild
 * swapping the directory) replaces INDEX/meta by a rename, so the identity
 * of the file the path names (device, inode, modification time with
 * nanoseconds, size, and a hash of its few kilobytes) changes with every
 * generation. ixlive_acquire looks at that identity at most once per check
 * interval per ixlive (an open, fstat and read of meta, done by whichever
 * caller comes first after the interval; the others do not wait for it), and
 * when it changed, that caller opens the new generation while the others
 * keep being served the current one. Only once the new one is
 * open and a search context could be made for it does it become current:
 * requests acquired afterwards get it; requests holding the old one finish
 * on it, and the old one is closed when the last of them releases it.
 *
 * A new generation that fails to open (damaged, or changed again while it
 * was being opened) is not switched to: the current one stays. The failure
 * is reported once per meta identity (IXLIVE_FAILED); the same identity is
 * tried again at most once per IXLIVE_RETRY_MS, a new one at the next check.
 *
 * Threads: every function but ixlive_free may be called from any number of
 * threads at once. Library code: never prints; events go to the caller. */
#ifndef IDX_IXLIVE_H
#define IDX_IXLIVE_H

#include <stdint.h>

#include "common/index.h"
#include "common/status.h"

#define IXLIVE_CHECK_MS 50   /* default interval between two looks at meta */
#define IXLIVE_RETRY_MS 1000 /* between two opens of the same failing meta */

typedef struct ixlive ixlive;

/* One generation as served. */
typedef struct ixlive_gen {
    idx_index *ix;   /* read-only, shared by every holder */
    uint64_t serial; /* 1 for the generation opened by ixlive_open, +1 per switch */
    /* private: holders (the ixlive itself while current, and every acquirer) */
    uint64_t refs_;
} ixlive_gen;

/* What an ixlive_acquire call did besides acquiring. */
enum {
    IXLIVE_SAME = 0,     /* nothing */
    IXLIVE_SWITCHED = 1, /* this call opened a new generation, now current */
    IXLIVE_FAILED = 2    /* this call could not open a new generation (err says why) */
};

/* Opens dir's current generation (IDX_EDATA etc. as index_open).
 * check_ms: the interval between two looks at meta (0: on every acquire).
 * The caller frees with ixlive_free. */
int ixlive_open(const char *dir, int check_ms, ixlive **out, idx_err *err);

/* Releases the current generation (closed once no request holds it); no
 * generation may be held any more. */
void ixlive_free(ixlive *l);

/* The current generation, held until ixlive_release; never NULL. First
 * looks for a new one if the check interval has passed (see the top);
 * *event tells what this call did, and on IXLIVE_FAILED err says why. */
ixlive_gen *ixlive_acquire(ixlive *l, int *event, idx_err *err);

void ixlive_release(ixlive *l, ixlive_gen *g);

#endif
