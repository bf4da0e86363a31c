/* The disjunction root: MaxScore over SHOULD clauses (match_root.h). */
#include <stdlib.h>
#include <string.h>

#include "searcher/match_root.h"

static int cmp_max_score(const void *a, const void *b)
{
    const match_sc *x = *(match_sc *const *)a, *y = *(match_sc *const *)b;
    return (x->max_score > y->max_score) - (x->max_score < y->max_score);
}

/* Disjunction: MaxScore (Turtle & Flood) with block-max bounds per candidate. */
void match_maxscore_run(match_ctx *e, match_root *r, match_topk *t)
{
    uint32_t n = r->n_should;
    match_sc **ord = r->ord;
    double *ub = r->ub; /* ub[i]: sum of max scores of ord[0..i] */
    memcpy(ord, r->should, n * sizeof *ord);
    qsort(ord, n, sizeof *ord, cmp_max_score);
    for (uint32_t i = 0; i < n; i++)
        ub[i] = ord[i]->max_score + (i ? ub[i - 1] : 0);
    int exhaustive = e->o->exhaustive;
    while (!e->rc) {
        /* While the total is counted every match is visited: no list is
         * non-essential, no block skipped, no phrase pruned; only a
         * candidate that cannot enter the top k goes unscored. */
        int counting = match_root_exhaustive(e, t);
        double theta = exhaustive ? -INFINITY : match_topk_threshold(t);
        e->theta = counting ? -INFINITY : theta;
        e->count_bar = theta;
        uint32_t p = 0; /* ord[0..p) are non-essential */
        if (!counting)
            while (p < n && match_cannot_beat(ub[p], theta))
                p++;
        if (p == n) break;
        uint32_t d = SEG_END;
        for (uint32_t i = p; i < n; i++)
            if (ord[i]->doc < d) d = ord[i]->doc;
        if (d == SEG_END) break;
        int skip = 0;
        if (counting && !exhaustive && match_topk_full(t)) {
            /* The lists' maximum scores: the block bounds would cost more
             * than the scoring they spare (a phrase's frequency bound does not:
             * its scoring decodes positions). */
            double bound = 0;
            for (uint32_t i = 0; i < n; i++)
                if (ord[i]->doc == d) bound += match_sc_doc_bound(e, ord[i]);
            skip = match_cannot_beat(bound, theta);
        } else if (!exhaustive && match_topk_full(t)) {
            /* Block-max over a range: if no list's block can lift any
             * document in [d, end of the shortest block] above theta, jump
             * past that block in every essential list at once. */
            uint32_t upto_min;
            double range = match_root_range_bound(e, ord, n, d, 0, &upto_min);
            if (match_cannot_beat(range, theta)) {
                if (upto_min == SEG_END) break;
                for (uint32_t i = p; i < n; i++)
                    if (ord[i]->doc <= upto_min) match_sc_next(e, ord[i], upto_min + 1);
                continue;
            }
            /* Then this candidate alone: lists not on d add nothing (with
             * one list, or all on d, that is the range bound again). */
            double bound = 0;
            uint32_t on_d = 0;
            for (uint32_t i = 0; i < n; i++) {
                if (i >= p && ord[i]->doc != d) continue;
                uint32_t upto;
                bound += match_sc_block_bound(e, ord[i], d, &upto);
                on_d++;
            }
            if (on_d < n && match_cannot_beat(bound, theta)) {
                skip = 1;
            } else if (p) {
                double partial = 0;
                for (uint32_t i = p; i < n; i++)
                    if (ord[i]->doc == d) partial += match_sc_score(e, ord[i]);
                for (uint32_t i = p; i-- > 0 && !skip;) {
                    if (match_cannot_beat(partial + ub[i], theta)) {
                        skip = 1;
                        break;
                    }
                    match_sc_next(e, ord[i], d);
                    if (ord[i]->doc == d) partial += match_sc_score(e, ord[i]);
                }
            }
        }
        if (!skip)
            match_root_collect(e, r, t, d);
        else if (counting)
            match_root_count(e, r, t, d);
        for (uint32_t i = p; i < n; i++)
            if (ord[i]->doc == d) match_sc_next(e, ord[i], d + 1);
    }
}
