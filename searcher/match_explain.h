/* match_explain: the native engine's --explain (internal: only
 * searcher/match*.c include it). Rebuilds the scorer tree in one segment,
 * moves it to one document and lists the additive parts of its score, each
 * computed by the same scorer code (match_scorer.h) that ranked the hit, so
 * the parts sum to the hit's score. */
#ifndef IDX_MATCH_EXPLAIN_H
#define IDX_MATCH_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "common/index.h"
#include "common/status.h"
#include "searcher/match.h"
#include "searcher/qparse.h"

/* match_explain's contract, for an index of the native engine. */
int match_explain_doc(idx_index *ix, const qparse_tree *q, const match_options *o, uint32_t seg_no,
                      uint32_t doc, match_part **out, size_t *n_out, idx_err *err);

#endif
