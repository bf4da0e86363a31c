/* invert: accumulates postings in memory within a budget, spills sorted runs
 * to temporary files, and finally merges runs and memory into a segment.
 *
 * Input is one "document bundle" per document, made by the analysis workers
 * (build.c): varint n_terms, then per distinct term: varint length, the term
 * bytes, varint tf_title, varint tf_body, then tf_title + tf_body position
 * varints (title first; each field's first position absolute, then gaps).
 * Documents must arrive in increasing provisional docid order. */
#ifndef IDX_INVERT_H
#define IDX_INVERT_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "indexer/segwrite.h"

typedef struct inv inv;

/* budget: bytes of postings + dictionary held before a run is spilled.
 * Runs are written into tmpdir (the build's temporary index directory). */
int inv_new(size_t budget, const char *tmpdir, inv **out, idx_err *err);
void inv_free(inv *v);

int inv_add_doc(inv *v, uint32_t docid, const uint8_t *bundle, size_t len, idx_err *err);

/* Bytes currently held in memory (for progress and accounting). */
size_t inv_mem(const inv *v);
uint32_t inv_runs(const inv *v);

/* Merges every run and the in-memory postings into w. remap[provisional
 * docid] gives the final docid, or UINT32_MAX for a superseded document. */
int inv_finish(inv *v, segw *w, const uint32_t *remap, idx_err *err);

#endif
