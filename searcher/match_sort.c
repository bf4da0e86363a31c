/* The date-sorted root (match_root.h's match_sort_search).
 *
 * Documents are mostly appended in date order, so runs of INDEX_DATE_CHUNK
 * documents cover narrow date ranges. The runs are visited best first (the
 * newest range first for -date) and the search stops at the first run that
 * cannot place a document before the worst hit kept: "newest 10" reads
 * about one run per segment. Matching uses the scorer tree's iterators
 * without scoring; only the hits returned are scored, in a second pass. */
#include <stdlib.h>
#include <string.h>

#include "common/engine.h"
#include "searcher/match_root.h"

/* A document's place in date order; date 0: undated. */
typedef struct sort_key {
    uint32_t date, seg, doc;
} sort_key;

/* 1 when a comes before b: dated before undated, then by date (newest first
 * when desc), then index order. */
static int sort_before(sort_key a, sort_key b, int desc)
{
    if ((a.date == 0) != (b.date == 0)) return b.date == 0;
    if (a.date != b.date) return desc ? a.date > b.date : a.date < b.date;
    if (a.seg != b.seg) return a.seg < b.seg;
    return a.doc < b.doc;
}

/* Documents [best.doc, end) of segment best.seg; best: the place the best of them could take. */
typedef struct sort_run {
    sort_key best;
    uint32_t end;
    int done; /* visited out of turn, by a segment's forward pass (sort_collect) */
} sort_run;

/* Runs visited against the direction of a segment's cursors (newest first
 * over documents appended oldest first) cost a new root each: its term
 * lookups, first blocks and the positions skipped to reach the run. A
 * query that needs a second run of a segment (few matches, or counting
 * them up to the limit) visits the segment's remaining runs in document
 * order instead, under one root. */
#define SORT_MAX_REBUILDS 1

/* qsort orders of sort_run and sort_hit, which both begin with their key. */
static int cmp_key_asc(const void *a, const void *b)
{
    const sort_key *x = a, *y = b;
    return sort_before(*x, *y, 0) ? -1 : sort_before(*y, *x, 0);
}

static int cmp_key_desc(const void *a, const void *b)
{
    const sort_key *x = a, *y = b;
    return sort_before(*x, *y, 1) ? -1 : sort_before(*y, *x, 1);
}

typedef struct sort_hit {
    sort_key k;
    double score;
} sort_hit;

static int cmp_hit_index(const void *a, const void *b)
{
    const sort_key *x = &((const sort_hit *)a)->k, *y = &((const sort_hit *)b)->k;
    if (x->seg != y->seg) return x->seg < y->seg ? -1 : 1;
    return (x->doc > y->doc) - (x->doc < y->doc);
}

/* The segment's run table (index.h, date_chunks), built on first use. */
static const uint32_t *sort_date_runs(idx_index *ix, uint32_t s)
{
    uint32_t *t = atomic_load_explicit(&ix->date_chunks[s], memory_order_acquire);
    if (t) return t;
    seg *sg = ix->segs[s];
    uint32_t n = seg_ndocs(sg), nr = (n + INDEX_DATE_CHUNK - 1) / INDEX_DATE_CHUNK;
    t = malloc(3 * sizeof *t * (nr ? nr : 1));
    if (!t) return NULL;
    for (uint32_t c = 0; c < nr; c++) {
        uint32_t lo = UINT32_MAX, hi = 0, undated = 0;
        uint32_t end = n - c * INDEX_DATE_CHUNK < INDEX_DATE_CHUNK ? n : (c + 1) * INDEX_DATE_CHUNK;
        for (uint32_t d = c * INDEX_DATE_CHUNK; d < end; d++) {
            uint32_t v = seg_doc_date(sg, d);
            if (!v) {
                undated++;
                continue;
            }
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        uint32_t *row = t + 3 * (size_t)c;
        row[0] = lo;
        row[1] = hi;
        row[2] = undated;
    }
    uint32_t *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(&ix->date_chunks[s], &none, t,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        free(t); /* another thread published the same table first */
        t = none;
    }
    return t;
}

/* The first document in [d, end) the root matches (not deleted, no MUST_NOT
 * clause), or SEG_END. The same matching rules as the root algorithms, but
 * nothing is scored. */
static uint32_t sort_next(match_ctx *e, match_root *r, uint32_t d, uint32_t end)
{
    while (!e->rc && d < end) {
        if (r->n_must) {
            uint32_t i = 0;
            for (; i < r->n_must; i++) {
                match_sc *k = r->must[i];
                if (k->doc < d) match_sc_approx(e, k, d);
                if (k->doc > d) {
                    d = k->doc;
                    break;
                }
            }
            if (i < r->n_must) continue;
            for (i = 0; i < r->n_must && match_sc_confirm(e, r->must[i]); i++)
                ;
            if (i < r->n_must ||
                (!r->musts_match && r->n_should && !match_root_any_should(e, r, d))) {
                d++;
                continue;
            }
        } else {
            uint32_t m = SEG_END;
            for (uint32_t i = 0; i < r->n_should; i++) {
                match_sc_next(e, r->should[i], d);
                if (r->should[i]->doc < m) m = r->should[i]->doc;
            }
            if (m != d) {
                d = m;
                continue;
            }
        }
        if ((e->deleted && del_has(e->deleted, d)) || match_root_excluded(e, r, d)) {
            d++;
            continue;
        }
        return d;
    }
    return SEG_END;
}

/* Bounded queue of the first `cap` documents in date order: a max-heap
 * with the last one kept at h[0]. */
typedef struct sort_heap {
    sort_hit *h;
    uint32_t n, cap;
    int desc;
} sort_heap;

static void sort_heap_add(sort_heap *q, sort_key k)
{
    uint32_t i;
    if (q->n < q->cap) {
        i = q->n++;
        while (i && sort_before(q->h[(i - 1) / 2].k, k, q->desc)) {
            q->h[i] = q->h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
    } else {
        if (!q->cap || !sort_before(k, q->h[0].k, q->desc)) return;
        i = 0;
        for (;;) {
            uint32_t c = 2 * i + 1;
            if (c >= q->n) break;
            if (c + 1 < q->n && sort_before(q->h[c].k, q->h[c + 1].k, q->desc)) c++;
            if (!sort_before(k, q->h[c].k, q->desc)) break;
            q->h[i] = q->h[c];
            i = c;
        }
    }
    q->h[i] = (sort_hit){k, 0};
}

/* A run that cannot place a hit in hq: it is only counted. */
static int sort_hopeless(const sort_heap *hq, const sort_run *run)
{
    return hq->n == hq->cap && (!hq->cap || !sort_before(run->best, hq->h[0].k, hq->desc));
}

/* Feeds run's matches under root r (its cursors at or before the run) to
 * hq, or only counts them when the run is hopeless; returns them. */
static uint64_t sort_visit(match_ctx *e, match_root *r, const sort_run *run, sort_heap *hq)
{
    uint64_t n = 0;
    int hopeless = sort_hopeless(hq, run);
    seg *sg = e->ix->segs[run->best.seg];
    for (uint32_t d = run->best.doc; (d = sort_next(e, r, d, run->end)) != SEG_END; d++) {
        n++;
        if (!hopeless) sort_heap_add(hq, (sort_key){seg_doc_date(sg, d), run->best.seg, d});
    }
    return n;
}

static int cmp_run_doc(const void *a, const void *b)
{
    uint32_t x = (*(sort_run *const *)a)->best.doc, y = (*(sort_run *const *)b)->best.doc;
    return (x > y) - (x < y);
}

/* The forward pass of segment s: its runs from runs[from] on not yet
 * visited, in document order under one new root r. *total: the matches
 * seen so far; once past the count limit, hopeless runs are skipped. */
static void sort_forward(match_ctx *e, const qparse_tree *q, sort_run *runs, size_t from, size_t n,
                         uint32_t s, match_root *r, sort_heap *hq, uint64_t *total)
{
    size_t m = 0;
    for (size_t j = from; j < n; j++)
        m += runs[j].best.seg == s && !runs[j].done;
    sort_run **order = malloc((m ? m : 1) * sizeof *order);
    if (!order) {
        e->rc = err_set(e->err, IDX_ENOMEM, "out of memory");
        return;
    }
    m = 0;
    for (size_t j = from; j < n; j++)
        if (runs[j].best.seg == s && !runs[j].done) order[m++] = &runs[j];
    qsort(order, m, sizeof *order, cmp_run_doc);
    match_ctx_segment(e, s);
    if (!match_root_build(e, q->root, r))
        for (size_t j = 0; j < m && !e->rc; j++) {
            order[j]->done = 1;
            if (sort_hopeless(hq, order[j]) && !e->o->exhaustive && *total > e->o->count_limit)
                continue;
            *total += sort_visit(e, r, order[j], hq);
        }
    free(order);
}

/* Visits the runs in order, feeding every match to q; returns matches seen.
 * Stops at the first run that cannot place a document once more than the
 * count limit were seen (before, hopeless runs are only counted). */
static uint64_t sort_collect(match_ctx *e, const qparse_tree *q, sort_run *runs, size_t n,
                             sort_heap *hq)
{
    uint64_t total = 0;
    match_root r;
    memset(&r, 0, sizeof r);
    uint32_t cur = UINT32_MAX, pos = 0;
    uint32_t *rebuilds = calloc(e->ix->n_segs ? e->ix->n_segs : 1, sizeof *rebuilds);
    if (!rebuilds) {
        e->rc = err_set(e->err, IDX_ENOMEM, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < n && !e->rc; i++) {
        sort_run *run = &runs[i];
        if (run->done) continue;
        if (sort_hopeless(hq, run) && !e->o->exhaustive && total > e->o->count_limit) break;
        if (run->best.seg != cur || run->best.doc < pos) {
            /* cursors only move forward: a run behind them needs new ones */
            if (cur != UINT32_MAX) match_root_free(&r);
            cur = run->best.seg;
            if (++rebuilds[cur] > SORT_MAX_REBUILDS) {
                sort_forward(e, q, runs, i, n, cur, &r, hq, &total);
                pos = UINT32_MAX; /* the segment is done: any run of it needs a new root */
                continue;
            }
            match_ctx_segment(e, cur);
            if (match_root_build(e, q->root, &r)) break;
        }
        total += sort_visit(e, &r, run, hq);
        pos = run->end;
    }
    if (cur != UINT32_MAX) match_root_free(&r);
    free(rebuilds);
    return total;
}

/* Scores the kept hits, segment by segment in docid order. */
static void sort_score(match_ctx *e, const qparse_tree *q, sort_hit *h, uint32_t n)
{
    qsort(h, n, sizeof *h, cmp_hit_index);
    for (uint32_t i = 0; i < n && !e->rc;) {
        uint32_t s = h[i].k.seg;
        match_ctx_segment(e, s);
        match_root r;
        int rc = match_root_build(e, q->root, &r);
        for (; i < n && h[i].k.seg == s; i++)
            if (!rc) h[i].score = match_root_score(e, &r, h[i].k.doc);
        match_root_free(&r);
    }
}

int match_sort_search(idx_index *ix, const qparse_tree *q, const match_options *o,
                      match_result *out, idx_err *err)
{
    int desc = o->sort == MATCH_SORT_DATE_DESC;
    size_t n_runs = 0;
    for (uint32_t s = 0; s < ix->n_segs; s++)
        n_runs += (seg_ndocs(ix->segs[s]) + INDEX_DATE_CHUNK - 1) / INDEX_DATE_CHUNK;
    sort_run *runs = malloc((n_runs ? n_runs : 1) * sizeof *runs);
    sort_heap hq = {malloc(((size_t)o->offset + o->k + 1) * sizeof *hq.h), 0, o->offset + o->k,
                    desc};
    int rc = runs && hq.h ? 0 : err_set(err, IDX_ENOMEM, "out of memory");
    size_t n = 0;
    for (uint32_t s = 0; s < ix->n_segs && !rc; s++) {
        const uint32_t *t = sort_date_runs(ix, s);
        if (!t) {
            rc = err_set(err, IDX_ENOMEM, "out of memory");
            break;
        }
        uint32_t docs = seg_ndocs(ix->segs[s]);
        for (uint32_t c = 0; c * INDEX_DATE_CHUNK < docs; c++) {
            uint32_t start = c * INDEX_DATE_CHUNK;
            const uint32_t *row = t + 3 * (size_t)c;
            int dated = row[1] != 0;
            runs[n++] =
                (sort_run){{dated ? row[desc] : 0, s, start},
                           docs - start < INDEX_DATE_CHUNK ? docs : start + INDEX_DATE_CHUNK,
                           0};
        }
    }
    /* Exhaustive counting visits everything anyway, in index order. */
    if (!rc && !o->exhaustive) qsort(runs, n, sizeof *runs, desc ? cmp_key_desc : cmp_key_asc);
    if (!rc) {
        match_ctx e;
        match_ctx_init(&e, ix, o, err);
        match_result_set_total(out, sort_collect(&e, q, runs, n, &hq), o);
        sort_score(&e, q, hq.h, hq.n);
        match_ctx_fini(&e);
        rc = e.rc;
    }
    free(runs);
    if (rc) {
        free(hq.h);
        return rc;
    }
    qsort(hq.h, hq.n, sizeof *hq.h, desc ? cmp_key_desc : cmp_key_asc);
    uint32_t keep = hq.n > o->offset ? hq.n - o->offset : 0;
    out->hits = malloc((keep ? keep : 1) * sizeof *out->hits);
    if (!out->hits) {
        free(hq.h);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < keep; i++) {
        const sort_hit *h = &hq.h[o->offset + i];
        out->hits[i] = (match_hit){h->k.seg, h->k.doc, h->score};
    }
    out->n_hits = keep;
    free(hq.h);
    return 0;
}

int match_each(idx_index *ix, const qparse_tree *q, match_each_fn fn, void *ctx, idx_err *err)
{
    if (ix->ops->id != ENGINE_NATIVE)
        return err_set(err, IDX_EUSAGE, "matching without ranking needs the native engine");
    match_options o = match_options_default(ix);
    o.exhaustive = 1;
    match_ctx e;
    match_ctx_init(&e, ix, &o, err);
    uint32_t batch[256];
    for (uint32_t s = 0; s < ix->n_segs && !e.rc; s++) {
        match_ctx_segment(&e, s);
        match_root r;
        if (!match_root_build(&e, q->root, &r)) {
            uint32_t n = 0, end = seg_ndocs(ix->segs[s]);
            for (uint32_t d = 0; (d = sort_next(&e, &r, d, end)) != SEG_END; d++) {
                batch[n++] = d;
                if (n == sizeof batch / sizeof batch[0]) {
                    fn(ctx, s, batch, n);
                    n = 0;
                }
            }
            if (n && !e.rc) fn(ctx, s, batch, n);
        }
        match_root_free(&r);
    }
    match_ctx_fini(&e);
    return e.rc;
}
