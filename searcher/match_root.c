#include "searcher/match_root.h"

#include <stdlib.h>
#include <string.h>

int match_root_build(match_ctx *e, const qparse_node *q, match_root *r)
{
    memset(r, 0, sizeof *r);
    const qparse_clause one = {Q_SHOULD, q};
    const qparse_clause *cl = &one;
    uint32_t ncl = 1;
    if (q->kind == Q_BOOL) {
        cl = q->clauses;
        ncl = q->nclauses;
    }
    /* Five clause arrays and the bounds share one allocation. */
    size_t n = ncl ? ncl : 1;
    void *block = calloc(n, 5 * sizeof(match_sc *) + sizeof(double));
    if (!block) return match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
    match_sc **p = block;
    r->must = p;
    r->should = p + n;
    r->not_ = p + 2 * n;
    r->all = p + 3 * n;
    r->ord = p + 4 * n;
    r->ub = (double *)(p + 5 * n);
    for (uint32_t i = 0; i < ncl && !e->rc; i++) {
        match_sc *k = match_sc_build(e, cl[i].node);
        if (!k) break;
        if (cl[i].occur == Q_MUST_NOT) {
            r->not_[r->n_not++] = k;
            continue;
        }
        r->all[r->n_all++] = k;
        if (cl[i].occur == Q_MUST) {
            r->must[r->n_must++] = k;
            r->musts_match |= !k->filter;
        } else {
            r->should[r->n_should++] = k;
        }
    }
    double total = 0;
    for (uint32_t i = 0; i < r->n_all; i++)
        total += r->all[i]->max_score;
    for (uint32_t i = 0; i < r->n_all; i++)
        if (r->all[i]->kind == MATCH_SC_PHRASE) r->all[i]->other_max = total - r->all[i]->max_score;
    return e->rc;
}

void match_root_free(match_root *r)
{
    for (uint32_t i = 0; i < r->n_all; i++)
        match_sc_free(r->all[i]);
    for (uint32_t i = 0; i < r->n_not; i++)
        match_sc_free(r->not_[i]);
    free(r->must);
}

/* 1 and *df when r is a single term (not title-scoped: title:x skips the
 * documents holding x only in the body) in a segment without deletions:
 * then its matches are the term's documents. */
static int match_root_df(const match_ctx *e, const match_root *r, uint64_t *df)
{
    if (e->deleted || r->n_not || r->n_all != 1 || r->all[0]->kind != MATCH_SC_TERM ||
        r->all[0]->field == QF_TITLE)
        return 0;
    *df = r->all[0]->doc == SEG_END ? 0 : r->all[0]->cur.t.df;
    return 1;
}

void match_root_run(match_ctx *e, match_root *r, match_topk *t)
{
    if (r->n_must)
        match_leapfrog_run(e, r, t);
    else if (r->n_should)
        match_maxscore_run(e, r, t);
}

/* Collapsing is worth its state only when some segment has keys. */
static int match_root_collapses(const idx_index *ix, const match_options *o)
{
    if (!o->collapse) return 0;
    for (uint32_t s = 0; s < ix->n_segs; s++)
        if (seg_has_ckeys(ix->segs[s])) return 1;
    return 0;
}

int match_root_search(idx_index *ix, const qparse_tree *q, const match_options *o,
                      match_result *out, idx_err *err)
{
    match_ctx e;
    match_ctx_init(&e, ix, o, err);
    match_topk t;
    int rc = match_topk_init(&t, o->offset + o->k, err);
    if (rc) return rc;
    collapse co = {0};
    if (match_root_collapses(ix, o)) {
        if ((rc = collapse_init(&co, t.cap, err))) {
            match_topk_free(&t);
            return rc;
        }
        match_topk_collapse(&t, &co);
    }
    for (uint32_t s = 0; s < ix->n_segs && !e.rc; s++) {
        match_ctx_segment(&e, s);
        if (t.co) {
            const uint8_t *col = seg_ckeys(e.s, err);
            if (!col && seg_has_ckeys(e.s)) {
                e.rc = IDX_EDATA; /* a damaged key column */
                break;
            }
            collapse_segment(&co, col);
        }
        match_root r;
        if (!match_root_build(&e, q->root, &r)) {
            /* One term's count in a segment without deletions is its df:
             * counted here, the run prunes from the start. */
            uint64_t counted = t.matched, df = 0;
            e.seg_counted = !o->exhaustive && match_root_df(&e, &r, &df);
            t.matched += df;
            match_root_run(&e, &r, &t);
            if (e.seg_counted) t.matched = counted + df;
            e.seg_counted = 0;
        }
        match_root_free(&r);
    }
    match_ctx_fini(&e);
    if (e.rc) {
        match_topk_free(&t);
        collapse_free(&co);
        return e.rc;
    }
    uint64_t counted = t.matched;
    rc = match_topk_finish(&t, o->offset, out, err);
    collapse_free(&co);
    if (!rc) match_result_set_total(out, counted, o);
    return rc;
}
