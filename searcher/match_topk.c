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

static void match_topk_sift_down(match_topk *t, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && match_topk_worse(&t->h[l], &t->h[m])) m = l;
        if (r < t->n && match_topk_worse(&t->h[r], &t->h[m])) m = r;
        if (m == i) return;
        match_hit x = t->h[i];
        t->h[i] = t->h[m];
        t->h[m] = x;
        i = m;
    }
}

void match_topk_insert(match_topk *t, uint32_t seg, uint32_t doc, double score)
{
    match_hit h = {seg, doc, score};
    if (t->n < t->cap) {
        uint32_t i = t->n++;
        t->h[i] = h;
        while (i && match_topk_worse(&t->h[i], &t->h[(i - 1) / 2])) {
            match_hit x = t->h[i];
            t->h[i] = t->h[(i - 1) / 2];
            t->h[(i - 1) / 2] = x;
            i = (i - 1) / 2;
        }
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

void match_topk_finish(match_topk *t, uint32_t offset, match_result *out)
{
    qsort(t->h, t->n, sizeof *t->h, match_topk_better_cmp);
    out->total = t->matched;
    out->n_hits = 0;
    if (t->n > offset) {
        out->n_hits = t->n - offset;
        memmove(t->h, t->h + offset, out->n_hits * sizeof *t->h);
    }
    out->hits = t->h;
    t->h = NULL;
    match_topk_free(t);
}
