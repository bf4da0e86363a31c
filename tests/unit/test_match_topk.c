/* The top-k queue alone (searcher/match_topk.h), against a model: every hit
 * offered, sorted best first by (score desc, seg asc, doc asc), sliced to
 * [offset, offset + k). Scores are drawn from a handful of values so that
 * most hits tie and the (seg, doc) rule decides; hits are offered in random
 * order and in the evaluator's increasing (seg, doc) order. Also the
 * threshold's meaning, k = 0 and k = 1, and pages that add up to the whole
 * ranking. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "searcher/match_topk.h"
#include "tests/unit/testutil.h"

static int model_cmp(const void *a, const void *b)
{
    const match_hit *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    if (x->seg != y->seg) return x->seg < y->seg ? -1 : 1;
    return (x->doc > y->doc) - (x->doc < y->doc);
}

/* n distinct (seg, doc) pairs over 3 segments, scores among `levels`
 * values (a few of them negative, as no rule forbids). */
static match_hit *random_hits(uint64_t *rnd, uint32_t n, uint32_t levels)
{
    match_hit *h = malloc((n ? n : 1) * sizeof *h);
    ck_assert_ptr_nonnull(h);
    for (uint32_t i = 0; i < n; i++) {
        h[i].seg = i % 3;
        h[i].doc = i / 3 * 2 + (uint32_t)(test_rnd(rnd) % 2);
        h[i].score = (double)(test_rnd(rnd) % levels) * 0.25 - 0.5;
    }
    return h;
}

static void shuffle(uint64_t *rnd, match_hit *h, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)(test_rnd(rnd) % i);
        match_hit x = h[i - 1];
        h[i - 1] = h[j];
        h[j] = x;
    }
}

/* Offers h[0..n) to a queue for (k, offset) and checks the result against
 * the model's sorted[offset .. offset + k). */
static void check_against_model(const match_hit *h, const match_hit *sorted, uint32_t n, uint32_t k,
                                uint32_t offset)
{
    match_topk t;
    idx_err err = {0};
    ck_assert_int_eq(match_topk_init(&t, offset + k, &err), 0);
    for (uint32_t i = 0; i < n; i++)
        match_topk_add(&t, h[i].seg, h[i].doc, h[i].score);
    EQ(t.matched, n);
    EQ(t.n, n < offset + k ? n : offset + k);
    match_result r = {0};
    ck_assert_int_eq(match_topk_finish(&t, offset, &r, &err), 0);
    ck_assert_ptr_null(t.h);
    EQ(r.total, n);
    uint32_t want = n > offset ? (n - offset < k ? n - offset : k) : 0;
    EQ(r.n_hits, want);
    for (uint32_t i = 0; i < want; i++) {
        const match_hit *a = &r.hits[i], *e = &sorted[offset + i];
        OKM(a->seg == e->seg && a->doc == e->doc && a->score == e->score,
            "k %u offset %u rank %u: got (%u,%u,%g) want (%u,%u,%g)", k, offset, offset + i + 1,
            a->seg, a->doc, a->score, e->seg, e->doc, e->score);
    }
    match_result_free(&r);
}

START_TEST(random_ties_against_model)
{
    uint64_t rnd = 0x9E3779B97F4A7C15ull;
    static const uint32_t ns[] = {0, 1, 2, 7, 64, 1000};
    static const uint32_t ks[] = {0, 1, 2, 3, 10, 63, 64, 65, 2000};
    static const uint32_t offsets[] = {0, 1, 5, 999};
    for (size_t a = 0; a < sizeof ns / sizeof *ns; a++) {
        for (uint32_t levels = 1; levels <= 9; levels += 4) {
            uint32_t n = ns[a];
            match_hit *h = random_hits(&rnd, n, levels);
            match_hit *sorted = malloc((n ? n : 1) * sizeof *sorted);
            ck_assert_ptr_nonnull(sorted);
            memcpy(sorted, h, n * sizeof *h);
            qsort(sorted, n, sizeof *sorted, model_cmp);
            for (size_t b = 0; b < sizeof ks / sizeof *ks; b++)
                for (size_t c = 0; c < sizeof offsets / sizeof *offsets; c++) {
                    /* the evaluator's order: (seg, doc) ascending */
                    match_hit *inc = malloc((n ? n : 1) * sizeof *inc);
                    ck_assert_ptr_nonnull(inc);
                    memcpy(inc, h, n * sizeof *h);
                    for (uint32_t i = 1; i < n; i++)
                        for (uint32_t j = i; j > 0 && (inc[j].seg < inc[j - 1].seg ||
                                                       (inc[j].seg == inc[j - 1].seg &&
                                                        inc[j].doc < inc[j - 1].doc));
                             j--) {
                            match_hit x = inc[j];
                            inc[j] = inc[j - 1];
                            inc[j - 1] = x;
                        }
                    check_against_model(inc, sorted, n, ks[b], offsets[c]);
                    /* and any order */
                    shuffle(&rnd, inc, n);
                    check_against_model(inc, sorted, n, ks[b], offsets[c]);
                    free(inc);
                }
            free(sorted);
            free(h);
        }
    }
}
END_TEST

/* The threshold is -inf until the queue is full, then the worst kept
 * score; a newcomer below it, or equal to it with a later (seg, doc), is
 * counted and not kept; equal with an earlier (seg, doc) displaces it. */
START_TEST(threshold_semantics)
{
    match_topk t;
    idx_err err = {0};
    ck_assert_int_eq(match_topk_init(&t, 3, &err), 0);
    ck_assert(match_topk_threshold(&t) == -INFINITY);
    ck_assert(!match_topk_full(&t));
    match_topk_add(&t, 0, 10, 5.0);
    match_topk_add(&t, 0, 11, 1.0);
    ck_assert(match_topk_threshold(&t) == -INFINITY);
    match_topk_add(&t, 0, 12, 3.0);
    ck_assert(match_topk_full(&t));
    ck_assert(match_topk_threshold(&t) == 1.0);
    match_topk_add(&t, 0, 13, 0.5); /* below: counted only */
    match_topk_add(&t, 1, 0, 1.0);  /* ties the worst, later (seg, doc): loses */
    ck_assert(match_topk_threshold(&t) == 1.0);
    EQ(t.matched, 5);
    match_topk_add(&t, 0, 2, 1.0); /* ties the worst, earlier doc: displaces (0,11) */
    ck_assert(match_topk_threshold(&t) == 1.0);
    match_topk_add(&t, 0, 20, 4.0); /* beats: the worst is now 3.0 */
    ck_assert(match_topk_threshold(&t) == 3.0);
    EQ(t.matched, 7);
    match_result r = {0};
    ck_assert_int_eq(match_topk_finish(&t, 0, &r, &err), 0);
    EQ(r.n_hits, 3);
    EQ(r.total, 7);
    EQ(r.hits[0].doc, 10);
    EQ(r.hits[1].doc, 20);
    EQ(r.hits[2].doc, 12);
    match_result_free(&r);

    /* the tie rule itself: score first, then segment, then document */
    match_hit a = {0, 5, 2.0}, b = {0, 6, 2.0}, c = {1, 0, 2.0}, d = {2, 9, 2.5};
    ck_assert(match_topk_worse(&b, &a) && !match_topk_worse(&a, &b));
    ck_assert(match_topk_worse(&c, &b) && !match_topk_worse(&b, &c));
    ck_assert(match_topk_worse(&a, &d) && !match_topk_worse(&d, &a));
    ck_assert(!match_topk_worse(&a, &a));
}
END_TEST

/* k = 0 keeps nothing and never prunes (-inf threshold), but counts. */
START_TEST(k_zero)
{
    match_topk t;
    idx_err err = {0};
    ck_assert_int_eq(match_topk_init(&t, 0, &err), 0);
    for (uint32_t d = 0; d < 50; d++) {
        match_topk_add(&t, 0, d, (double)(d % 4));
        ck_assert(match_topk_threshold(&t) == -INFINITY);
        EQ(t.n, 0);
    }
    match_topk_insert(&t, 0, 99, 100.0); /* even the slow path keeps nothing */
    EQ(t.n, 0);
    match_result r = {0};
    ck_assert_int_eq(match_topk_finish(&t, 0, &r, &err), 0);
    EQ(r.n_hits, 0);
    EQ(r.total, 50);
    match_result_free(&r);
}
END_TEST

/* k = 1: the single best, the earliest among equals. */
START_TEST(k_one)
{
    match_topk t;
    idx_err err = {0};
    ck_assert_int_eq(match_topk_init(&t, 1, &err), 0);
    match_topk_add(&t, 1, 7, 2.0);
    ck_assert(match_topk_threshold(&t) == 2.0);
    match_topk_add(&t, 0, 30, 2.0);
    match_topk_add(&t, 1, 3, 2.0);
    match_topk_add(&t, 2, 0, 1.0);
    match_result r = {0};
    ck_assert_int_eq(match_topk_finish(&t, 0, &r, &err), 0);
    EQ(r.n_hits, 1);
    EQ(r.total, 4);
    EQ(r.hits[0].seg, 0);
    EQ(r.hits[0].doc, 30);
    match_result_free(&r);
}
END_TEST

/* Pages of k at offsets 0, k, 2k, ... add up to the whole ranking, and a
 * page past the end is empty with the full total. */
START_TEST(offset_paging)
{
    uint64_t rnd = 42;
    const uint32_t n = 500, k = 7;
    match_hit *h = random_hits(&rnd, n, 5);
    match_hit *sorted = malloc(n * sizeof *sorted);
    ck_assert_ptr_nonnull(sorted);
    memcpy(sorted, h, n * sizeof *h);
    qsort(sorted, n, sizeof *sorted, model_cmp);
    shuffle(&rnd, h, n);
    uint32_t seen = 0;
    for (uint32_t off = 0; off <= n; off += k) {
        match_topk t;
        idx_err err = {0};
        ck_assert_int_eq(match_topk_init(&t, off + k, &err), 0);
        for (uint32_t i = 0; i < n; i++)
            match_topk_add(&t, h[i].seg, h[i].doc, h[i].score);
        match_result r = {0};
        ck_assert_int_eq(match_topk_finish(&t, off, &r, &err), 0);
        EQ(r.total, n);
        for (uint32_t i = 0; i < r.n_hits; i++) {
            EQ(r.hits[i].seg, sorted[seen].seg);
            EQ(r.hits[i].doc, sorted[seen].doc);
            OK(r.hits[i].score == sorted[seen].score);
            seen++;
        }
        match_result_free(&r);
    }
    EQ(seen, n);
    free(sorted);
    free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("match_topk");
    TCase *tc = tcase_create("match_topk");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, random_ties_against_model);
    tcase_add_test(tc, threshold_semantics);
    tcase_add_test(tc, k_zero);
    tcase_add_test(tc, k_one);
    tcase_add_test(tc, offset_paging);
    suite_add_tcase(s, tc);
    return test_run(s);
}
