/* match_terms: one search's term lookups over every segment (internal to the
 * native evaluator, like match_scorer.h).
 *
 * The evaluator builds its scorer tree once per segment, and a term's idf
 * needs its collection df, the sum over all segments. Looking the term up in
 * every segment again for each segment costs S * (S + 1) lexicon lookups per
 * term over S segments, which made a 20-segment index an order of magnitude
 * slower than one segment. Here the first request for a term looks it up in
 * every segment once and keeps the S entries and the summed df; the other
 * segments' requests are answered from memory, so a term costs S lookups per
 * search, one per segment, as on a merged index. On more than one segment,
 * each segment's term filter (FORMAT.md §4.1) is asked first, and segments
 * it rules out are not searched: a rare term is in few of them. The other
 * lookups go step by step over all segments (seg_lookup_prepare, _prefetch,
 * _finish), so that their cache misses overlap instead of adding up.
 *
 * Ownership: match_terms_new allocates, match_terms_free frees; the index
 * must outlive it. Not thread-safe: one per search (match_ctx). Errors: a
 * damaged lexicon is IDX_EDATA in err and nothing is cached for the term. */
#ifndef IDX_MATCH_TERMS_H
#define IDX_MATCH_TERMS_H

#include <stddef.h>
#include <stdint.h>

#include "common/index.h"
#include "common/segment.h"
#include "common/status.h"

typedef struct match_terms match_terms;

/* NULL on allocation failure. */
match_terms *match_terms_new(idx_index *ix);
void match_terms_free(match_terms *t);

/* Term `key` (as stored, field prefix included) in segment seg_no: 1 and
 * *out filled when the segment has it, 0 when not, negative on error. *df
 * receives the collection df (summed over all segments) in every case but
 * an error. */
int match_terms_get(match_terms *t, uint32_t seg_no, const char *key, size_t len, seg_term *out,
                    uint64_t *df, idx_err *err);

#endif
