/* feedback: the distinctive terms of some stored articles, and a ranked
 * query made of them. One term selection serves two features
 * (docs/QUERY.md): similar articles (`idx similar`, the terms of one
 * article) and query expansion (`--expand`, pseudo-relevance feedback over
 * a query's top hits).
 *
 * Selection is tf·idf over the articles' analysed text, as Lucene's
 * MoreLikeThis does: each article's title and body go through the index's
 * own analyzer (so its terms are the index's), a term's frequency in one
 * article is title_weight * tf_title + tf_body divided by the article's
 * length (so that every feedback article counts alike, Rocchio's centroid),
 * the articles' frequencies are summed and multiplied by the term's BM25
 * idf over the index. Terms in fewer than min_df articles (nothing else
 * shares them) or in more than max_df_frac of them (too common to say
 * anything) are skipped; the n_terms best are kept, best first, ties by
 * the term's bytes so that the choice never depends on hashing.
 *
 * On an index of the xapian engine feedback_expand and feedback_similar
 * let Xapian choose instead: its ESet over the articles as the relevance
 * set (xap_eset), with the same term counts and df bounds, its expand
 * weights as the scores; the analyzer is not used there.
 *
 * feedback_query turns the selection into a ranked OR of weighted terms
 * (qparse_node.weight), optionally joined to an original query whose
 * clauses keep their weight of 1.
 *
 * Ownership: feedback_new allocates, feedback_free frees; selected terms
 * point into the feedback and stay valid until the next feedback_add,
 * feedback_clear or feedback_free. The analyzer is borrowed. Not
 * thread-safe: one per search context. Library code: errors fill err. */
#ifndef IDX_FEEDBACK_H
#define IDX_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

#include "common/analyze.h"
#include "common/buf.h"
#include "common/index.h"
#include "common/status.h"
#include "searcher/match.h"
#include "searcher/qparse.h"

typedef struct feedback_opts {
    uint32_t n_terms;   /* terms kept, at most FEEDBACK_MAX_TERMS */
    uint64_t min_df;    /* fewer articles than this hold the term: skipped */
    double max_df_frac; /* a larger share of the index's articles holds it: skipped */
} feedback_opts;

#define FEEDBACK_MAX_TERMS 100

/* The defaults of `idx similar`: 25 terms (Lucene's MoreLikeThis keeps
 * 25, Xapian's Omega 20-40), in at least 2 articles and at most a fifth of
 * them (in a large index idf alone would let a few common words in; in a
 * small one a topic's words are in more than a tenth). */
feedback_opts feedback_opts_default(void);

typedef struct feedback_term {
    const char *text; /* NUL-terminated; len excludes the NUL */
    uint32_t len;
    uint64_t df;
    double score; /* the selection score, tf·idf */
} feedback_term;

/* A term's document frequency (summed over the index); negative on error. */
typedef int (*feedback_df_fn)(void *ctx, const char *term, size_t len, uint64_t *df, idx_err *err);

typedef struct feedback feedback;

/* NULL on allocation failure. */
feedback *feedback_new(ana *a, double title_weight);
void feedback_free(feedback *f);
/* Forgets the added articles (and the selection). */
void feedback_clear(feedback *f);

/* Adds one article's text. IDX_ENOMEM or the analyzer's error. */
int feedback_add(feedback *f, const char *title, size_t title_len, const char *body,
                 size_t body_len, idx_err *err);

/* Selects the best terms of the articles added so far among an index of
 * n_docs articles, their df from df_fn: *out (owned by f) and *n_out.
 * Terms for which skip(skip_ctx, term, len) is non-zero are never chosen
 * (skip may be NULL). Errors: df_fn's, IDX_ENOMEM. */
int feedback_select(feedback *f, const feedback_opts *o, uint64_t n_docs, feedback_df_fn df_fn,
                    void *df_ctx, int (*skip)(void *ctx, const char *term, size_t len),
                    void *skip_ctx, const feedback_term **out, size_t *n_out, idx_err *err);

/* feedback_df_fn over a native index (ctx is the idx_index): the lexicons'
 * df summed over its segments, deleted articles included as BM25's idf
 * counts them. */
int feedback_index_df(void *ctx, const char *term, size_t len, uint64_t *df, idx_err *err);

/* A query tree built here rather than parsed: terms[0..n) as SHOULD
 * clauses of weight scale * score / terms[0].score, after the clauses of
 * `orig` (its root's clauses when it is a BOOL, else the root as one
 * SHOULD clause; NULL for none). The terms and orig must outlive it. */
typedef struct feedback_query {
    qparse_tree tree; /* what match_search and the snippets read */
    qparse_node *nodes_;
    qparse_clause *clauses_;
    qparse_term *terms_;
} feedback_query;

int feedback_query_build(feedback_query *q, const qparse_tree *orig, const feedback_term *terms,
                         size_t n, double scale, idx_err *err);
void feedback_query_free(feedback_query *q);

/* Pseudo-relevance feedback (--expand): the FEEDBACK_EXPAND_TERMS best
 * terms of q's FEEDBACK_EXPAND_DOCS best hits under o's BM25 parameters
 * that q lacks, as *fq: q's clauses with weight 1 and the terms' at most
 * FEEDBACK_EXPAND_WEIGHT. The three were chosen on the seven judged
 * collections together (docs/RELEVANCE.md, "Query expansion"). *terms / *n_terms: the terms added
 * (f's). The feedback is cleared first; scratch is for the stored articles. With no hits, *fq is
 * q's root alone. The index's errors. On error *fq needs no freeing. */
#define FEEDBACK_EXPAND_DOCS 3
#define FEEDBACK_EXPAND_TERMS 30
#define FEEDBACK_EXPAND_WEIGHT 0.3
int feedback_expand(feedback *f, idx_index *ix, buf *scratch, const qparse_tree *q,
                    const match_options *o, feedback_query *fq, const feedback_term **terms,
                    size_t *n_terms, idx_err *err);

/* Similar articles: the terms of article (seg, doc) as *fq, weighted by
 * their scores (the best 1). Otherwise as feedback_expand. */
int feedback_similar(feedback *f, idx_index *ix, buf *scratch, uint32_t seg, uint32_t doc,
                     feedback_query *fq, const feedback_term **terms, size_t *n_terms,
                     idx_err *err);

/* The terms as one string, "a b c", appended to out (for "expanded"). */
void feedback_terms_string(buf *out, const feedback_term *terms, size_t n);

#endif
