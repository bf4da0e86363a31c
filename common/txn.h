/* txn: one change of an index in place (idx build --append, idx delete,
 * idx merge): the writer lock, the next generation's segment list and
 * deletions, and its atomic commit (docs/FORMAT.md, "Generations").
 *
 * An index directory holds segments, their deletion files and one `meta`,
 * the manifest of the current generation. A change never rewrites a file a
 * reader may be using: it writes new segment files and new deletion files
 * beside the old ones, then the next generation's meta into a temporary file,
 * syncs it, renames it over `meta` and syncs the directory. A reader that
 * opened the previous generation keeps its mapped files (an unlinked file
 * lives on while it is mapped); files that the new generation no longer
 * references are removed after the commit. A crash at any moment leaves
 * either the old generation or the new one; leftovers of a crashed writer
 * are removed by the next commit.
 *
 * One writer at a time: txn_begin takes an exclusive, non-blocking lock on
 * INDEX/write.lock; a second writer gets IDX_EBUSY naming the holder. A full
 * rebuild (idx build without --append) takes the same lock before it swaps
 * the directory.
 *
 * Not thread-safe: one thread drives a transaction. Library code: errors fill
 * the caller's idx_err; nothing is printed. */
#ifndef IDX_TXN_H
#define IDX_TXN_H

#include <stddef.h>
#include <stdint.h>

#include "common/index.h"
#include "common/status.h"

typedef struct idx_txn idx_txn;

/* Locks dir and opens its current generation. The caller ends the
 * transaction with txn_commit or txn_abort, which free it. */
int txn_begin(const char *dir, idx_txn **out, idx_err *err);

/* The generation being changed, as opened (its deletions are those it was
 * opened with, not the ones this transaction adds). Owned by the txn. */
idx_index *txn_index(idx_txn *t);

/* The next generation's meta, as opened until changed here. For the native
 * engine txn_commit computes the segment list and the live totals (docs,
 * tokens, terms, postings, positions) from the segments; an engine without
 * segments (xapian) sets its totals here before txn_commit. Owned by the txn. */
index_meta *txn_meta(idx_txn *t);

/* The directory new segment files go to (the index directory itself) and an
 * unused segment name for them (s0001, s0002, ... never reused while any
 * generation may reference the name). */
const char *txn_dir(const idx_txn *t);
int txn_new_segment_name(idx_txn *t, char name[32], idx_err *err);

/* Marks document doc of segment seg deleted in the next generation: 1 if it
 * was live, 0 if it was already deleted. seg is an index of txn_index's
 * segments, or txn_index's segment count + k for the k-th segment added by
 * txn_add_segment or txn_replace_segments (in the order they were added). */
int txn_delete(idx_txn *t, uint32_t seg, uint32_t doc, idx_err *err);

/* Deletes the live document with this external id, searching the newest
 * segment first (including segments added by this transaction): 1 deleted,
 * 0 no live document has the id. */
int txn_delete_id(idx_txn *t, const char *id, size_t len, idx_err *err);

/* A finished segment (its files synced in txn_dir) joins the next
 * generation after the existing ones, with its totals for meta. */
typedef struct txn_segment {
    const char *name;
    uint64_t docs; /* documents in the segment's files */
    uint64_t tokens_title, tokens_body;
    uint64_t terms, postings, positions;
} txn_segment;
int txn_add_segment(idx_txn *t, const txn_segment *s, idx_err *err);

/* Replaces the consecutive segments [first, first + n) of the opened
 * generation by one merged segment (idx merge); their deletions are gone
 * with them, since a merge drops deleted documents. merged may be NULL
 * when nothing of them survives (every document deleted). */
int txn_replace_segments(idx_txn *t, uint32_t first, uint32_t n, const txn_segment *merged,
                         idx_err *err);

/* Writes the deletion files and the next generation's meta, makes it
 * current atomically, then removes unreferenced files. *generation (may be
 * NULL) receives the new generation number. Frees t whatever the outcome;
 * on error the old generation is intact and current. */
int txn_commit(idx_txn *t, uint64_t *generation, idx_err *err);

/* Drops the transaction: files it wrote are removed, the lock released. */
void txn_abort(idx_txn *t);

#endif
