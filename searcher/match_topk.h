/* match_topk: the bounded queue of the best hits seen so far, the one place
 * that decides which documents a search returns and in which order.
 *
 * Order: a higher score first; equal scores by (seg, doc) ascending
 * (match_topk_worse). The queue keeps the `cap` best hits it was given, in
 * any insertion order, and counts every hit offered (`matched`, the total a
 * search reports). The evaluator offers documents in increasing (seg, doc)
 * order, so a newcomer that only ties the worst kept hit always loses:
 * match_topk_threshold is a strict bar, which the pruning relies on.
 *
 * Collapsing (match_topk_collapse): the queue then keeps the `cap` best
 * *groups*, one hit per collapse key (collapse.h), the key's best hit, and
 * counts per kept hit the other hits of its key that reach the slow path
 * (a hit below the threshold is rejected by the one comparison, as without
 * collapsing, and not looked up). The threshold is the cap-th group's best
 * score, so pruning stays exact: a document that cannot beat it can neither
 * enter as a new group nor become a kept group's best (it can only be one
 * of the group's others, which the count then misses: counts are lower
 * bounds, docs/QUERY.md).
 *
 * The caller owns the struct; match_topk_init allocates the heap and
 * match_topk_finish hands it to a match_result (or match_topk_free frees
 * it). Not thread-safe; no I/O. */
#ifndef IDX_MATCH_TOPK_H
#define IDX_MATCH_TOPK_H

#include <math.h>
#include <stdint.h>

#include "common/status.h"
#include "searcher/collapse.h"
#include "searcher/match.h"

typedef struct match_topk {
    match_hit *h; /* min-heap: the worst hit kept at h[0] */
    uint32_t n, cap;
    uint64_t matched; /* hits offered, kept or not */
    collapse *co;     /* NULL: no collapsing */
} match_topk;

/* An empty queue keeping at most cap hits (0 is allowed: it only counts).
 * IDX_ENOMEM on failure (*t is then empty and needs no free). */
int match_topk_init(match_topk *t, uint32_t cap, idx_err *err);
void match_topk_free(match_topk *t);

/* Collapses by key from now on (before the first hit); co, initialised for
 * the same cap, stays the caller's and must outlive t's use. */
static inline void match_topk_collapse(match_topk *t, collapse *co)
{
    t->co = co;
}

/* 1 when a ranks below b: a lower score, or an equal one and a later
 * (seg, doc). */
static inline int match_topk_worse(const match_hit *a, const match_hit *b)
{
    if (a->score != b->score) return a->score < b->score;
    if (a->seg != b->seg) return a->seg > b->seg;
    return a->doc > b->doc;
}

/* 1 when the queue holds cap hits: a newcomer must displace one. */
static inline int match_topk_full(const match_topk *t)
{
    return t->n == t->cap;
}

/* The score a new hit must beat to be kept; -inf while there is room (and
 * with cap 0, where nothing is kept and no bound may prune). */
static inline double match_topk_threshold(const match_topk *t)
{
    return t->cap && t->n == t->cap ? t->h[0].score : -INFINITY;
}

/* Heap insertion of a hit that may be kept (match_topk_add's slow path). */
void match_topk_insert(match_topk *t, uint32_t seg, uint32_t doc, double score);

/* Offers one scored document. Called once per scored document: most lose
 * to the worst hit kept and cost one comparison. */
static inline void match_topk_add(match_topk *t, uint32_t seg, uint32_t doc, double score)
{
    t->matched++;
    if (t->n == t->cap && (t->cap == 0 || score < t->h[0].score)) return;
    match_topk_insert(t, seg, doc, score);
}

/* Sorts the kept hits best first, drops the first `offset` (paging) and
 * hands the rest to out->hits / out->n_hits (out->total = matched; the
 * caller sets total_exact); when collapsing, out->collapsed gets each hit's
 * count. *t is left empty. IDX_ENOMEM (out untouched, t freed). */
int match_topk_finish(match_topk *t, uint32_t offset, match_result *out, idx_err *err);

#endif
