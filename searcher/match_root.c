#include "searcher/match_root.h"

#include <stdatomic.h>
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

/* Documents the repeat check below hashes at most: beyond, the first
 * collapsing search would pay too much (16 to 32 bytes of table a document). */
#define MATCH_REPEAT_CHECK_MAX (1u << 22)

/* Whether two documents of ix share a collapse key (deleted ones included):
 * one pass over every segment's keys into a hash set. 1 also when there
 * are too many documents to check or memory is short, so that the search
 * collapses; -1 on a damaged key column (err set). */
static int match_root_keys_repeat(idx_index *ix, idx_err *err)
{
    uint64_t n = 0;
    for (uint32_t s = 0; s < ix->n_segs; s++)
        n += seg_ndocs(ix->segs[s]);
    if (n > MATCH_REPEAT_CHECK_MAX) return 1;
    uint64_t size = 2;
    while (size < 2 * n)
        size *= 2;
    uint64_t *set = calloc(size, sizeof *set); /* CKEY_NONE (0) marks a free entry */
    if (!set) return 1;
    int repeat = 0;
    for (uint32_t s = 0; s < ix->n_segs && !repeat; s++) {
        if (!seg_has_ckeys(ix->segs[s])) continue;
        const uint8_t *col = seg_ckeys(ix->segs[s], err);
        if (!col) {
            repeat = -1;
            break;
        }
        for (uint32_t d = 0; d < seg_ndocs(ix->segs[s]) && !repeat; d++) {
            uint64_t k = seg_ckey_at(col, d), i = k & (size - 1);
            if (k == CKEY_NONE) continue;
            while (set[i] && set[i] != k)
                i = (i + 1) & (size - 1);
            repeat = set[i] == k;
            set[i] = k;
        }
    }
    free(set);
    return repeat;
}

/* 1 when the search must collapse: o asks for it and some documents share
 * a key. Whether any do is worked out on the index's first collapsing
 * search and kept in it (idx_index.ckeys_repeat): on a collection without
 * copies a search then reads no key at all. -1 on a damaged key column. */
static int match_root_collapses(idx_index *ix, const match_options *o, idx_err *err)
{
    if (!o->collapse) return 0;
    int known = atomic_load_explicit(&ix->ckeys_repeat, memory_order_relaxed);
    if (known) return known == 1;
    int has_keys = 0;
    for (uint32_t s = 0; s < ix->n_segs; s++)
        has_keys |= seg_has_ckeys(ix->segs[s]);
    int repeat = has_keys ? match_root_keys_repeat(ix, err) : 0;
    if (repeat < 0) return -1;
    /* Two threads racing here compute the same answer; either store wins. */
    atomic_store_explicit(&ix->ckeys_repeat, repeat ? 1 : 2, memory_order_relaxed);
    return repeat;
}

int match_root_search(idx_index *ix, const qparse_tree *q, const match_options *o,
                      match_result *out, idx_err *err)
{
    int collapsing = match_root_collapses(ix, o, err);
    if (collapsing < 0) return IDX_EDATA;
    match_ctx e;
    match_ctx_init(&e, ix, o, err);
    match_topk t;
    int rc = match_topk_init(&t, o->offset + o->k, err);
    if (rc) return rc;
    collapse co = {0};
    if (collapsing) {
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
