/* update: deleting articles by id from an existing index (idx delete), for
 * every engine.
 *
 * update_delete runs one transaction (common/txn.h): it locks the index
 * (a second writer is IDX_EBUSY), opens the engine's writer on it through
 * the sink table (sink.h: native marks the documents deleted in the next
 * generation; xapian deletes them from the database, whose totals follow in
 * the same Xapian commit), and commits one new generation for all the ids.
 * An id no live article has is not an error: it is counted and passed to
 * the `unknown` callback. On error nothing is deleted (xapian: unless the
 * Xapian commit itself succeeded; meta's generation then lags, see
 * docs/ENGINES.md).
 *
 * Library code: nothing is printed; single-threaded. */
#ifndef IDX_UPDATE_H
#define IDX_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

typedef struct update_summary {
    uint64_t deleted, unknown;
    uint64_t generation; /* the generation committed */
} update_summary;

/* Called once per id no live article has (id is NUL-terminated). */
typedef void (*update_unknown_fn)(void *ctx, const char *id);

/* Deletes the live articles with the n ids (NUL-terminated; repeats are
 * unknown the second time) from the index at dir. */
int update_delete(const char *dir, const char *const *ids, size_t n, update_unknown_fn unknown,
                  void *ctx, update_summary *sum, idx_err *err);

#endif
