#include "searcher/match_topk.h"

#include <stdlib.h>
#include <string.h>

int match_topk_init(match_topk *t, uint32_t cap, idx_err *err)
{
    memset(t, 0, sizeof *t);
    t->h = malloc((cap ? cap : 1) * sizeof *t->h);
    if (!t->h) return err_set(err, IDX_ENOMEM, "out of memory");
    t->cap = cap;
    return 0;
}

void match_topk_free(match_topk *t)
{
    free(t->h);
    memset(t, 0, sizeof *t);
}

static void match_topk_swap(match_topk *t, uint32_t i, uint32_t j)
{
    match_hit x = t->h[i];
    t->h[i] = t->h[j];
    t->h[j] = x;
    if (t->co) collapse_swap(t->co, i, j);
}

static void match_topk_sift_down(match_topk *t, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && match_topk_worse(&t->h[l], &t->h[m])) m = l;
        if (r < t->n && match_topk_worse(&t->h[r], &t->h[m])) m = r;
        if (m == i) return;
        match_topk_swap(t, i, m);
        i = m;
    }
}

static void match_topk_sift_up(match_topk *t, uint32_t i)
{
    while (i && match_topk_worse(&t->h[i], &t->h[(i - 1) / 2])) {
        match_topk_swap(t, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

/* A hit that the plain queue would consider, into groups by key. */
static void match_topk_insert_collapsed(match_topk *t, match_hit h)
{
    collapse *co = t->co;
    uint64_t key = collapse_key_of(co, h.doc);
    uint32_t i = key != CKEY_NONE ? collapse_find(co, key) : COLLAPSE_NOT_FOUND;
    if (i != COLLAPSE_NOT_FOUND) {
        (*collapse_count(co, i))++;
        if (!match_topk_worse(&t->h[i], &h)) return;
        /* The group's new best: a better hit moves away from the min-heap's root. */
        t->h[i] = h;
        match_topk_sift_down(t, i);
    } else if (t->n < t->cap) {
        i = t->n++;
        t->h[i] = h;
        collapse_add(co, i, key);
        match_topk_sift_up(t, i);
    } else if (t->cap && match_topk_worse(&t->h[0], &h)) {
        collapse_replace(co, 0, key); /* the worst group leaves, and its count with it */
        t->h[0] = h;
        match_topk_sift_down(t, 0);
    }
}

void match_topk_insert(match_topk *t, uint32_t seg, uint32_t doc, double score)
{
    match_hit h = {seg, doc, score};
    if (t->co) {
        match_topk_insert_collapsed(t, h);
    } else if (t->n < t->cap) {
        t->h[t->n++] = h;
        match_topk_sift_up(t, t->n - 1);
    } else if (t->cap && match_topk_worse(&t->h[0], &h)) {
        t->h[0] = h;
        match_topk_sift_down(t, 0);
    }
}

static int match_topk_better_cmp(const void *a, const void *b)
{
    const match_hit *x = a, *y = b;
    return match_topk_worse(y, x) ? -1 : match_topk_worse(x, y) ? 1 : 0;
}

/* The heap sorted best first in place by heap sort (the worst left goes
 * last), so that the groups' counts travel with their hits; then counts[]. */
static void match_topk_sort_collapsed(match_topk *t, uint32_t *counts)
{
    uint32_t n = t->n;
    for (; t->n > 1; t->n--) {
        match_topk_swap(t, 0, t->n - 1);
        t->n--;
        match_topk_sift_down(t, 0);
        t->n++;
    }
    t->n = n;
    for (uint32_t i = 0; i < n; i++)
        counts[i] = *collapse_count(t->co, i);
}

int match_topk_finish(match_topk *t, uint32_t offset, match_result *out, idx_err *err)
{
    uint32_t *counts = NULL;
    if (t->co) {
        counts = malloc((t->n ? t->n : 1) * sizeof *counts);
        if (!counts) {
            match_topk_free(t);
            return err_set(err, IDX_ENOMEM, "out of memory");
        }
        match_topk_sort_collapsed(t, counts);
    } else {
        qsort(t->h, t->n, sizeof *t->h, match_topk_better_cmp);
    }
    out->total = t->matched;
    out->n_hits = 0;
    if (t->n > offset) {
        out->n_hits = t->n - offset;
        memmove(t->h, t->h + offset, out->n_hits * sizeof *t->h);
        if (counts) memmove(counts, counts + offset, out->n_hits * sizeof *counts);
    }
    out->hits = t->h;
    out->collapsed = counts;
    t->h = NULL;
    match_topk_free(t);
    return 0;
}
