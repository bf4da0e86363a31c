/* match: the query evaluator (the matcher). Evaluates a parsed query over an
 * open index and returns the top hits. This header is the public API; the
 * native engine's units behind it are internal (docs/ARCHITECTURE.md):
 *
 *   match_topk     the bounded top-k queue and its tie rule
 *   match_scorer   the scorer tree over one segment, and match_ctx
 *   match_terms    one search's term lookups in every segment (collection df)
 *   match_root     the top-level clauses, the choice of root algorithm and
 *                  the one way a document reaches the top-k; the algorithms
 *                  are match_maxscore.c and match_leapfrog.c
 *   match_explain  --explain
 *
 * Document-at-a-time over the compressed posting blocks of every segment.
 * Disjunctions use MaxScore with per-block upper bounds (block-max) to skip
 * documents that cannot enter the top k; conjunctions leapfrog from the
 * rarest list with block skipping; phrases are candidates of a conjunction
 * whose positions are decoded only for those candidates. Pruning never
 * changes the result: hits and scores equal exhaustive evaluation exactly
 * (scores are always computed in one canonical order), which
 * match_options.exhaustive lets a test check.
 *
 * Ranking (docs/RANKING.md): BM25F as common/bm25.h, Lucene idf over the
 * whole index; a phrase scores as one pseudo-term with its phrase frequency
 * and the sum of its terms' idf; a prefix scores as the best of its
 * expansions; date ranges filter and never score. Ties break by (segment,
 * docid).
 *
 * An index of the xapian engine is evaluated by match_xapian.h instead, with
 * the same ranking; match.c's dispatch is the only code that knows both
 * engines. match_explain is native only.
 *
 * Threading: an index may be searched by any number of threads at once;
 * every call keeps its state on its own. */
#ifndef IDX_MATCH_H
#define IDX_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/bm25.h"
#include "common/index.h"
#include "common/status.h"
#include "searcher/qparse.h"

#define MATCH_PREFIX_MAX_TERMS 128 /* prefix expansion keeps the most frequent terms */
#define MATCH_PHRASE_MAX_TERMS 64  /* longer phrases are rejected (exit 2) */
/* Scorers (terms after prefix expansion, phrases, operators) one query may
 * open in a segment; more is rejected (exit 2). Each holds a decoded posting
 * block, about 2 KB: without the bound, 10,000 prefixes took 2.7 GB. */
#define MATCH_MAX_SCORERS 32768
/* Matches a ranked search counts exactly (match_options.count_limit's
 * default): past it the total is "more than 10,000", as Elasticsearch's
 * track_total_hits. Counting means visiting every match until the limit is
 * passed, which costs unions about a third at p50 (bench/RESULTS.md). */
#define MATCH_COUNT_LIMIT 10000

/* Result order (docs/QUERY.md, "Sorting"). By date, undated documents come
 * last in both directions and equal dates keep index order (segment, docid
 * ascending); scores are still computed, for the hits returned only. */
typedef enum match_sort {
    MATCH_SORT_RELEVANCE,
    MATCH_SORT_DATE,     /* oldest first */
    MATCH_SORT_DATE_DESC /* newest first */
} match_sort;

/* "relevance", "date", "-date" -> the order; -1 for anything else. */
int match_sort_parse(const char *name);
const char *match_sort_name(match_sort s);

typedef struct match_options {
    uint32_t k;      /* hits wanted after `offset` */
    uint32_t offset; /* hits to skip (paging) */
    int exhaustive;  /* 1: score every match, exact total (--count, tests) */
    bm25_params bm25;
    match_sort sort;
    /* Otherwise the total is exact up to this many matches and "more than
     * count_limit" beyond (match_result.total) */
    uint64_t count_limit;
    /* 1: one hit per collapse key (docs/QUERY.md "Duplicates"); relevance
     * order on the native engine with keys, ignored otherwise */
    int collapse;
} match_options;

/* Defaults: k 10, offset 0, pruning on, the index's recorded BM25
 * parameters, totals exact up to MATCH_COUNT_LIMIT, collapsing on. */
match_options match_options_default(const idx_index *ix);

typedef struct match_hit {
    uint32_t seg, doc; /* segment number and docid within it */
    double score;
} match_hit;

typedef struct match_result {
    match_hit *hits; /* best first: the ranks offset+1 .. offset+n_hits */
    uint32_t n_hits;
    /* Matching documents. The same for every page of a query: exact (1 in
     * total_exact) when there are at most o->count_limit, or always when
     * o->exhaustive; else count_limit and total_exact 0, meaning "more than
     * count_limit". */
    uint64_t total;
    int total_exact;
    /* per hit: other matches of its collapse key folded into it (at least
     * that many); NULL when the search did not collapse */
    uint32_t *collapsed;
} match_result;

/* Sets r's total from `counted` matches, which must be exact whenever they
 * are at most o->count_limit (match_result's rule): the one place that
 * rule lives for every engine and order. */
void match_result_set_total(match_result *r, uint64_t counted, const match_options *o);

/* Runs the query. On success the caller frees the result with match_result_free.
 * IDX_EDATA when a damaged page of the index is met (the message names it). */
int match_search(idx_index *ix, const qparse_tree *q, const match_options *o, match_result *out,
                 idx_err *err);
void match_result_free(match_result *r);

/* Every document q matches (deleted ones and MUST_NOT matches excluded), in
 * segment and docid order, handed to fn in batches of up to 256 docids of
 * one segment. Nothing is scored and nothing is pruned: the cost of an
 * exhaustive count. For per-match aggregates (facets.h). Native engine only:
 * IDX_EUSAGE for the others. */
typedef void (*match_each_fn)(void *ctx, uint32_t seg, const uint32_t *docs, uint32_t n);
int match_each(idx_index *ix, const qparse_tree *q, match_each_fn fn, void *ctx, idx_err *err);

/* The stored form of a query term in `field` (author:/category: terms get
 * their prefix) into out[0..cap); -1 when it does not fit. */
int match_term_key(qparse_field field, const char *t, size_t len, char *out, size_t cap,
                   size_t *out_len);

/* One additive part of a hit's score, for --explain. */
typedef struct match_part {
    char what[160];             /* e.g. `run`, `title:run`, `"new york"`, `econom*->economi` */
    uint32_t tf_title, tf_body; /* term or phrase frequency per field */
    double idf, score;
} match_part;

/* Recomputes the score of (seg_no, doc) part by part; *out is malloc'd (free it), *n_out parts.
 * The parts sum to the hit's score. */
int match_explain(idx_index *ix, const qparse_tree *q, const match_options *o, uint32_t seg_no,
                  uint32_t doc, match_part **out, size_t *n_out, idx_err *err);

#endif
