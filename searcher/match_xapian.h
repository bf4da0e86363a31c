/* match_xapian: evaluates a parsed query over an index of the xapian engine
 * (common/xap.h): the query tree becomes a Xapian query with the native
 * engine's matching rules and BM25F, so both engines rank alike; where
 * Xapian cannot follow them exactly (phrase scores, phrases holding dropped
 * words) docs/ENGINES.md says how they differ.
 *
 * match_search hands xapian indexes over to it, with match_search's contract:
 * hits are (segment 0, Xapian docid), best first, ties by docid; the caller
 * frees the result with match_result_free. Thread safety as xap.h's. */
#ifndef IDX_MATCH_XAPIAN_H
#define IDX_MATCH_XAPIAN_H

#include "common/index.h"
#include "common/status.h"
#include "searcher/match.h"
#include "searcher/qparse.h"

int match_xapian_search(idx_index *ix, const qparse_tree *q, const match_options *o,
                        match_result *out, idx_err *err);

/* q's matches counted per stored value of the slots in want
 * (xap_query_value_counts: fn once per slot and distinct value with its
 * count), *matches all of them. For facets.h. */
int match_xapian_value_counts(idx_index *ix, const qparse_tree *q, unsigned want, xap_value_fn fn,
                              void *ctx, uint64_t *matches, idx_err *err);

#endif
