/* invert: accumulates postings in memory within a budget, spills sorted runs
 * to temporary files, and finally merges runs and memory into a segment.
 *
 * Input is one document bundle (bundle.h) per document, made by the analysis
 * workers (worker.h). Documents must arrive in increasing provisional docid
 * order. */
#ifndef IDX_INVERT_H
#define IDX_INVERT_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "indexer/bundle.h"
#include "indexer/segwrite.h"

typedef struct inv inv;

/* budget: bytes of postings + dictionary held before a run is spilled.
 * Runs are written into tmpdir (the build's temporary index directory). */
int inv_new(size_t budget, const char *tmpdir, inv **out, idx_err *err);
void inv_free(inv *v);

/* vocab: whose term ids the bundle carries. Per vocabulary the inverter
 * keeps an array from those ids to its own terms (4 bytes per id, outside
 * the budget: bounded by the workers' term maps, worker.c), so a term is
 * looked up by its text once per vocabulary and run, not once per posting. */
int inv_add_doc(inv *v, uint32_t docid, const uint8_t *bundle, size_t len, bundle_vocab vocab,
                idx_err *err);

/* Bytes currently held in memory (for progress and accounting). */
size_t inv_mem(const inv *v);
uint32_t inv_runs(const inv *v);

/* Where inv_finish writes: provisional docid d goes to segment w[d / span]
 * (w[0] when n_w is 1) as docid remap[d] of that segment, or nowhere if
 * remap[d] is UINT32_MAX (a superseded document). */
typedef struct inv_out {
    segw *const *w;
    uint32_t n_w;
    uint32_t span;
    const uint32_t *remap;
} inv_out;

/* Merges every run and the in-memory postings into the segment writers. */
int inv_finish(inv *v, const inv_out *out, idx_err *err);

#endif
