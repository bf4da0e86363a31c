/* update: deleting articles by id from an existing index (idx delete), for
 * every engine.
 *
 * One update is one transaction (common/txn.h): update_begin locks the
 * index (a second writer is IDX_EBUSY) and opens the engine's writer on it
 * through the sink table (sink.h): native marks documents deleted in the
 * next generation; xapian deletes them from its database, whose totals
 * follow in the same Xapian commit. update_commit makes one new generation
 * for all the deletions, or none when nothing was deleted; update_abort
 * drops them. On error nothing is deleted (xapian: unless the Xapian commit
 * itself succeeded and only meta's failed; meta then lags behind the
 * database, whose own totals readers use: docs/ENGINES.md).
 *
 * Library code: nothing is printed; single-threaded. */
#ifndef IDX_UPDATE_H
#define IDX_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

typedef struct update update;

int update_begin(const char *dir, update **out, idx_err *err);

/* Deletes the live article with this id: 1 deleted, 0 no live article has
 * it (an unknown id is not an error), <0 on error. */
int update_delete_id(update *u, const char *id, size_t len, idx_err *err);

/* Commits the deletions as a new generation (*generation, may be NULL); when
 * nothing was deleted, changes nothing and gives the current generation.
 * Frees u whatever the outcome. */
int update_commit(update *u, uint64_t *generation, idx_err *err);

/* Drops the deletions and frees u; NULL is a no-op. */
void update_abort(update *u);

#endif
