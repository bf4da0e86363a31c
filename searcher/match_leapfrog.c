/* The conjunction root: leapfrog over MUST clauses (match_root.h). */
#include <stdlib.h>
#include <string.h>

#include "searcher/match_root.h"

static int cmp_doc_desc(const void *a, const void *b)
{
    const match_sc *x = *(match_sc *const *)a, *y = *(match_sc *const *)b;
    return (x->doc > y->doc) - (x->doc < y->doc);
}

/* Conjunction of MUST clauses, SHOULD clauses adding to the score. */
void match_leapfrog_run(match_ctx *e, match_root *r, match_topk *t)
{
    match_sc **m = r->ord;
    uint32_t n = r->n_must;
    memcpy(m, r->must, n * sizeof *m);
    /* The list starting furthest ahead is likely the rarest: lead with it. */
    qsort(m, n, sizeof *m, cmp_doc_desc);
    double should_max = 0;
    for (uint32_t i = 0; i < r->n_should; i++)
        should_max += r->should[i]->max_score;
    uint32_t d = 0;
    while (!e->rc) {
        int exhaustive = match_root_exhaustive(e, t);
        e->theta = exhaustive ? -INFINITY : match_topk_threshold(t);
        uint32_t i = 0;
        for (; i < n; i++) {
            if (m[i]->doc < d) match_sc_approx(e, m[i], d);
            if (m[i]->doc == SEG_END) return;
            if (m[i]->doc > d) {
                d = m[i]->doc;
                break;
            }
        }
        if (i < n) continue;
        for (i = 0; i < n && match_sc_confirm(e, m[i]); i++)
            ;
        if (i < n || (!r->musts_match && r->n_should && !match_root_any_should(e, r, d))) {
            d++;
            continue;
        }
        double theta = match_topk_threshold(t);
        if (!exhaustive && match_topk_full(t)) {
            uint32_t upto_min;
            double bound = match_root_range_bound(e, m, n, d, should_max, &upto_min);
            if (match_cannot_beat(bound, theta)) {
                /* No document up to the end of the shortest block can win. */
                d = upto_min == SEG_END ? SEG_END : upto_min + 1;
                if (d == SEG_END) return;
                continue;
            }
        }
        match_root_collect(e, r, t, d);
        d++;
    }
}
