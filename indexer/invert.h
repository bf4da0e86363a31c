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

/* Ends the current segment: the postings held go to a run of their own, so
 * that every run belongs to one segment and inv_finish can write the
 * segments one after another, each holding only its own documents' state.
 * Segments are numbered from 0 in the order they are cut. */
int inv_cut(inv *v, idx_err *err);

/* Where inv_finish writes a segment: provisional docid d of the segment goes
 * to w as docid remap[d - base], or nowhere if that is UINT32_MAX (a
 * superseded document). */
typedef struct inv_out {
    segw *w;
    uint32_t base;
    const uint32_t *remap;
} inv_out;

/* Merges the runs of segment seg (and for the last segment, the in-memory
 * postings) into its writer; the runs are deleted. Each segment once, in
 * order. */
int inv_finish(inv *v, uint32_t seg, const inv_out *out, idx_err *err);

#endif
