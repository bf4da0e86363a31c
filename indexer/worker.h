/* worker: the analysis of a batch (ring.h), run by each worker thread.
 *
 * Per record: the title, body, author and category fields are analysed
 * (author and category terms carry segment.h's field prefixes); the tokens
 * are grouped by term into the record's document bundle (bundle.h), and its
 * field lengths and date are noted. Optionally, the records are also put in
 * docstore blocks and deflated here, in parallel, so the writer only appends
 * them (docstore.h).
 *
 * One worker per thread: a worker is not shared. */
#ifndef IDX_WORKER_H
#define IDX_WORKER_H

#include <stdint.h>

#include "common/analyze.h"
#include "common/status.h"
#include "indexer/ring.h"

typedef struct worker_cfg {
    const ana_config *ana;
    int pack_store; /* fill batch.store/store_meta with deflated docstore blocks */
    /* With pack_store: a store block never holds records on both sides of a
     * multiple of store_cut (an input record number), so the writer can cut
     * segments there; 0 for no such limit. */
    uint64_t store_cut;
} worker_cfg;

typedef struct worker worker;

int worker_new(const worker_cfg *cfg, worker **out, idx_err *err);
void worker_free(worker *w);

/* Analyses b in place (a ring_work_fn; ctx is a worker). */
int worker_batch(void *ctx, batch *b, idx_err *err);

#endif
