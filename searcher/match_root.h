/* match_root: the top of the native evaluator (internal: only
 * searcher/match*.c include it). The query's top-level clauses, split into
 * MUST, SHOULD and MUST_NOT scorers (match_scorer.h), are driven over one
 * segment by one root algorithm, chosen by match_root_run:
 *
 *   - match_maxscore_run (match_maxscore.c): no MUST clause — a disjunction,
 *     MaxScore (Turtle & Flood) with block-max bounds per candidate;
 *   - match_leapfrog_run (match_leapfrog.c): some MUST clause — leapfrog
 *     from the rarest list with block skipping, SHOULDs adding to the score.
 *
 * Every algorithm hands each candidate document to match_root_collect and
 * nothing else reaches the top-k: per-document rules every path must obey
 * live there. Every algorithm must return exactly what exhaustive
 * evaluation (match_options.exhaustive) returns; pruning may only skip
 * documents that cannot enter the top k, and only once the count has passed
 * match_options.count_limit (match_root_exhaustive), so that the total is
 * exact up to it on every page. ctx->theta is kept at the current
 * threshold so that phrase scorers can prune their own second phase.
 *
 * A new root algorithm is one unit beside these plus one line in
 * match_root_run. */
#ifndef IDX_MATCH_ROOT_H
#define IDX_MATCH_ROOT_H

#include <stdint.h>

#include "common/deletes.h"
#include "searcher/match.h"
#include "searcher/match_scorer.h"
#include "searcher/match_topk.h"
#include "searcher/qparse.h"

typedef struct match_root {
    match_sc **must, **should, **not_;
    uint32_t n_must, n_should, n_not;
    int musts_match; /* some MUST clause is more than a filter: SHOULDs are optional */
    match_sc **all;  /* positive clauses in tree order: the canonical score order */
    uint32_t n_all;
    /* scratch for the algorithms: one block for all arrays above and below */
    match_sc **ord; /* one per top-level clause */
    double *ub;     /* one per top-level clause */
} match_root;

/* Builds the scorers of q's top-level clauses (a node other than a boolean
 * group is one SHOULD clause) in the context's segment. Returns e->rc; on
 * error too, *r must be freed with match_root_free. */
int match_root_build(match_ctx *e, const qparse_node *q, match_root *r);
void match_root_free(match_root *r);

/* Runs the root algorithm that fits r over the context's segment, offering
 * every matching document to t (through match_root_collect). Errors: e->rc. */
void match_root_run(match_ctx *e, match_root *r, match_topk *t);

/* The native engine's match_search (match.h's contract; k + offset already
 * checked): every segment's root, run into one top-k. */
int match_root_search(idx_index *ix, const qparse_tree *q, const match_options *o,
                      match_result *out, idx_err *err);

/* match_search for o->sort by date (match_sort.c): matches are enumerated
 * without scoring into a top-k by date, visiting runs of documents whose
 * date range can still place first and stopping when none can; only the
 * hits returned are scored. */
int match_sort_search(idx_index *ix, const qparse_tree *q, const match_options *o,
                      match_result *out, idx_err *err);

void match_maxscore_run(match_ctx *e, match_root *r, match_topk *t);
void match_leapfrog_run(match_ctx *e, match_root *r, match_topk *t);

/* Whether every match must still be counted: exhaustive evaluation, or a
 * count not yet past the limit (match.h's total rule) unless the segment's
 * count is already known (ctx->seg_counted). No document may be skipped
 * unseen before, whatever the page; the disjunction root still leaves the
 * ones that cannot enter the top k unscored (match_root_count). */
static inline int match_root_exhaustive(const match_ctx *e, const match_topk *t)
{
    return e->o->exhaustive || (!e->seg_counted && t->matched <= e->o->count_limit);
}

/* start plus the block-max bounds of sc[0..n) at d: no document in
 * [d, *upto] scores above it (*upto: the end of the shortest block). */
static inline double match_root_range_bound(match_ctx *e, match_sc *const *sc, uint32_t n,
                                            uint32_t d, double start, uint32_t *upto)
{
    double bound = start;
    *upto = SEG_END;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t last;
        bound += match_sc_block_bound(e, sc[i], d, &last);
        if (last < *upto) *upto = last;
    }
    return bound;
}

/* Whether a MUST_NOT clause matches d (they move to d). */
static inline int match_root_excluded(match_ctx *e, match_root *r, uint32_t d)
{
    for (uint32_t i = 0; i < r->n_not; i++) {
        if (r->not_[i]->doc < d) match_sc_next(e, r->not_[i], d);
        if (r->not_[i]->doc == d) return 1;
    }
    return 0;
}

/* Whether a SHOULD clause matches d, when only filters are required. */
static inline int match_root_any_should(match_ctx *e, match_root *r, uint32_t d)
{
    for (uint32_t i = 0; i < r->n_should; i++) {
        match_sc *k = r->should[i];
        if (k->doc < d) match_sc_approx(e, k, d);
        if (k->doc == d && match_sc_confirm(e, k)) return 1;
    }
    return 0;
}

/* Canonical score of d: every positive clause positioned at or past d, summed
 * in tree order, so that a score never depends on the algorithm. */
static inline double match_root_score(match_ctx *e, match_root *r, uint32_t d)
{
    double v = 0;
    for (uint32_t i = 0; i < r->n_all; i++) {
        match_sc *k = r->all[i];
        if (k->doc < d) match_sc_approx(e, k, d);
        if (k->doc == d && match_sc_confirm(e, k)) v += match_sc_score(e, k);
    }
    return v;
}

/* A candidate d that the positive clauses match but that cannot enter t
 * (a bound says so): counted as match_root_collect would, not scored. */
static inline void match_root_count(match_ctx *e, match_root *r, match_topk *t, uint32_t d)
{
    if (e->deleted && del_has(e->deleted, d)) return;
    if (!match_root_excluded(e, r, d)) t->matched++;
}

/* A candidate d that the positive clauses match (and no bound ruled out):
 * unless it is deleted or a MUST_NOT clause matches it, it is scored and
 * offered to t (which counts it). The only way into a result, so deleted
 * documents are never returned nor counted. */
static inline void match_root_collect(match_ctx *e, match_root *r, match_topk *t, uint32_t d)
{
    if (e->deleted && del_has(e->deleted, d)) return;
    if (!match_root_excluded(e, r, d)) match_topk_add(t, e->seg_no, d, match_root_score(e, r, d));
}

#endif
