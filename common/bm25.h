/* bm25: idx's ranking function, shared by the indexer (block upper bounds)
 * and the searcher (scores), so both compute exactly the same numbers.
 *
 * BM25F-style: per-field term frequencies are length-normalised per field,
 * weighted, summed into one pseudo-frequency, and saturated once:
 *
 *   norm_f = 1 - b + b * len_f / avglen_f
 *   tfw    = w_title * tf_title / norm_title + tf_body / norm_body
 *   score  = idf * tfw * (k1 + 1) / (tfw + k1)
 *   idf    = log(1 + (N - df + 0.5) / (df + 0.5))      (Lucene's)
 *
 * Saturating once (rather than summing two BM25 scores) keeps a word that
 * appears in both title and body from scoring as two words; docs/RANKING.md
 * has the figures behind the choice. Terms of the author and category fields
 * have no length normalisation (tfw = tf): those fields are short labels. */
#ifndef IDX_BM25_H
#define IDX_BM25_H

#include <math.h>
#include <stdint.h>

#include "common/status.h"

typedef struct bm25_params {
    double k1, b, title_weight;
} bm25_params;

/* The ranges bm25_params_check accepts. k1 = 0 makes every term's tf
 * irrelevant (presence only), b = 0 turns length normalisation off and a
 * title weight of 0 ignores titles: all legitimate experiments. Beyond 1000
 * k1 and the title weight only lose precision in the saturation. */
#define BM25_K1_MAX 1000.0
#define BM25_TITLE_WEIGHT_MAX 1000.0

#define BM25_K1 1.2
#define BM25_B 0.75
#define BM25_TITLE_WEIGHT 3.0 /* docs/RANKING.md: best mean MAP and nDCG@10 */

static inline bm25_params bm25_default(void)
{
    return (bm25_params){BM25_K1, BM25_B, BM25_TITLE_WEIGHT};
}

/* The one check of a parameter set, wherever one comes from (flags, build
 * options, an index's meta file): each finite, k1 in [0, BM25_K1_MAX], b in
 * [0, 1], title_weight in [0, BM25_TITLE_WEIGHT_MAX]. 0, or IDX_EUSAGE naming
 * the parameter (a reader of a meta file re-codes it as damage). */
static inline int bm25_params_check(const bm25_params *p, idx_err *err)
{
    /* !(x >= 0) also rejects NaN */
    if (!(p->k1 >= 0) || !(p->k1 <= BM25_K1_MAX))
        return err_set(err, IDX_EUSAGE, "BM25 k1 must be a number from 0 to %g, not %g",
                       BM25_K1_MAX, p->k1);
    if (!(p->b >= 0) || !(p->b <= 1))
        return err_set(err, IDX_EUSAGE, "BM25 b must be a number from 0 to 1, not %g", p->b);
    if (!(p->title_weight >= 0) || !(p->title_weight <= BM25_TITLE_WEIGHT_MAX))
        return err_set(err, IDX_EUSAGE, "BM25 title weight must be a number from 0 to %g, not %g",
                       BM25_TITLE_WEIGHT_MAX, p->title_weight);
    return 0;
}

/* df above n_docs happens between merges, where df still counts deleted
 * documents and N does not (docs/RANKING.md): capped, idf stays positive,
 * which the evaluator's score bounds rely on. */
static inline double bm25_idf(double n_docs, double df)
{
    if (df > n_docs) df = n_docs;
    /* cppcheck-suppress unpreciseMathCall ; Lucene's expression, which the tests' oracles repeat:
     * log1p would move scores in the last bits, and x >= 0.5 / N never needs its precision */
    return log(1.0 + (n_docs - df + 0.5) / (df + 0.5));
}

static inline double bm25_norm(const bm25_params *p, double len, double avg)
{
    return avg > 0 ? 1.0 - p->b + p->b * len / avg : 1.0;
}

/* The weighted, length-normalised frequency of a title/body term. */
static inline double bm25_tfw(const bm25_params *p, uint32_t tf_title, uint32_t tf_body,
                              double norm_title, double norm_body)
{
    return p->title_weight * tf_title / norm_title + tf_body / norm_body;
}

/* The idf-free part of the score; bounded above by k1 + 1. */
static inline double bm25_sat(const bm25_params *p, double tfw)
{
    return tfw > 0 ? tfw * (p->k1 + 1.0) / (tfw + p->k1) : 0.0;
}

#endif
