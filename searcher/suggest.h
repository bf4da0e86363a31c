/* suggest: "did you mean" spelling suggestions for query text (docs/QUERY.md).
 *
 * Modelled on Lucene's DirectSpellChecker: a query word is corrected only
 * when it is absent from the index or rare (in under 1% of the documents),
 * by a term of the collection-wide lexicon within edit distance 2 (1 for a
 * stem under 6 letters; Damerau:
 * a transposition is one edit) that keeps its first letter and is much more
 * frequent; candidates rank by distance, then document frequency, then byte
 * order. The lexicon holds stems, so the word is compared as its stem
 * (`goverment` -> gover, near govern), and the correction is written as a
 * surface word whose stem is the candidate (`government`). A word whose
 * stem is in the index but which none of the first SUGGEST_ATTEST_DOCS
 * articles of that stem spells so is taken for a misspelling that stems
 * like a real word (`goverment` like `governess`); one they do spell is
 * fine as it is and never corrected.
 *
 * Only plain words are corrected: ASCII letters, at least 4 of them, not an
 * operator, not excluded (`-word`), not scoped to author: or category:, not
 * a prefix (`word*`). Everything else of the query is kept byte for byte.
 * Both engines: the xapian engine's database terms are the same stems
 * (common/xap.h's xap_terms, xap_termfreq, xap_term_docs).
 *
 * Library code: never prints; the analyzer is the caller's (it must be the
 * index's, index_ana_new) and is used for folding and stemming. */
#ifndef IDX_SUGGEST_H
#define IDX_SUGGEST_H

#include <stddef.h>

#include "common/analyze.h"
#include "common/buf.h"
#include "common/index.h"
#include "common/status.h"

#define SUGGEST_MIN_WORD 4        /* letters; shorter words are never corrected */
#define SUGGEST_MAX_EDITS 2       /* edit distance between the stems */
#define SUGGEST_TWO_EDITS_FROM 6  /* letters of the stem; shorter ones: 1 edit */
#define SUGGEST_RARE_PER_MILLE 10 /* words in fewer than 1% of documents may be corrected */
#define SUGGEST_MORE_FREQUENT 50  /* a present word needs a candidate in 50x its documents */

#define SUGGEST_ATTEST_DOCS 8 /* articles searched for a present word's own spelling */

/* Writes the corrected query for text[0..len) to out (replacing its
 * contents) and returns 1, or returns 0 (out emptied) when no word needs
 * correcting; <0 on error (IDX_ENOMEM, IDX_EDATA). */
int suggest_query(idx_index *ix, ana *a, const char *text, size_t len, buf *out, idx_err *err);

#endif
