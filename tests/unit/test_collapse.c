/* Collapsing duplicates (common/ckey.h, searcher/collapse.h, the collapsing
 * top-k of searcher/match_topk.h) against brute-force models:
 *   - the key rules: identical text, same title and first paragraph, and
 *     what must not collapse;
 *   - the top-k alone: random scores and keys offered in the evaluator's
 *     order, compared with "best hit per key, groups ranked by their best,
 *     sliced to [offset, offset + k)"; counts exact when no group is
 *     evicted, never above the truth; a queue that skips every hit not above
 *     its threshold (what pruning does) keeps exactly the same hits;
 *   - a real index of three segments with planted duplicates: match_search
 *     with collapsing, pruned and exhaustive, at several k and offsets,
 *     equals the model built from the exhaustive uncollapsed ranking and
 *     the stored keys, pages follow on from each other, and --no-collapse
 *     (collapse 0) gives the plain ranking;
 *   - the same index with a segment written before keys existed (its key
 *     section removed): it opens, checks and searches, and merges into a
 *     segment without keys. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfile.h"
#include "common/ckey.h"
#include "common/index.h"
#include "common/segfmt.h"
#include "indexer/build.h"
#include "indexer/merge.h"
#include "searcher/collapse.h"
#include "searcher/match.h"
#include "searcher/match_topk.h"
#include "searcher/qparse.h"
#include "tests/unit/testutil.h"

static uint64_t key_of(const char *title, const char *body)
{
    return ckey_of(title, strlen(title), body, strlen(body));
}

#define LEAD                                                                                       \
    "The central bank raised its main interest rate by a quarter point on Thursday, the "          \
    "third rise this year, citing strong growth."

START_TEST(key_rules)
{
    uint64_t a = key_of("Rates rise again", LEAD "\n\nAnalysts had expected it.");
    ck_assert_uint_ne(a, CKEY_NONE);
    /* identical text */
    ck_assert_uint_eq(a, key_of("Rates rise again", LEAD "\n\nAnalysts had expected it."));
    /* same title and first paragraph, another tail; case, punctuation and
     * spacing do not count */
    ck_assert_uint_eq(a, key_of("RATES RISE -- AGAIN", LEAD "\n \nMarkets fell. Reuter"));
    ck_assert_uint_eq(a, key_of("Rates rise again", LEAD));
    /* another title, another first paragraph */
    ck_assert_uint_ne(a, key_of("Rates rise once more", LEAD "\n\nAnalysts had expected it."));
    ck_assert_uint_ne(a, key_of("Rates rise again", "A different opening paragraph, long enough "
                                                    "to count as a lead on its own terms, "
                                                    "about the same decision.\n\nAnalysts."));
    /* a short first paragraph says too little: only identical text collapses */
    uint64_t s = key_of("Re: rates", "Bob writes:\n\nI think rates will rise.");
    ck_assert_uint_ne(s, key_of("Re: rates", "Bob writes:\n\nI think rates will fall."));
    ck_assert_uint_eq(s, key_of("Re: rates", "Bob writes:\n\nI think rates will rise."));
    /* the exact rule alone sees bytes */
    ck_assert_uint_ne(ckey_exact("a", 1, "bc", 2), ckey_exact("ab", 2, "c", 1));
    ck_assert_uint_eq(ckey_exact("a", 1, "bc", 2), ckey_exact("a", 1, "bc", 2));
    /* empty articles have a key too */
    ck_assert_uint_ne(key_of("", ""), CKEY_NONE);
}
END_TEST

/* ---- the top-k alone ---- */

typedef struct khit {
    match_hit h;
    uint64_t key; /* CKEY_NONE: a group of its own */
} khit;

static int better(const match_hit *a, const match_hit *b)
{
    return match_topk_worse(b, a);
}

static int khit_cmp(const void *a, const void *b)
{
    const khit *x = a, *y = b;
    return better(&x->h, &y->h) ? -1 : better(&y->h, &x->h) ? 1 : 0;
}

/* The model: hits sorted best first; a hit whose key an earlier one had is
 * folded into it. groups[] gets the kept ones, sizes[] their other members. */
static uint32_t model(khit *all, uint32_t n, khit *groups, uint32_t *sizes)
{
    qsort(all, n, sizeof *all, khit_cmp);
    uint32_t ng = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t g = 0;
        while (g < ng && !(all[i].key != CKEY_NONE && groups[g].key == all[i].key))
            g++;
        if (g < ng) {
            sizes[g]++;
            continue;
        }
        groups[ng] = all[i];
        sizes[ng++] = 0;
    }
    return ng;
}

/* Keys read by the queue come from a column like a segment's: one per doc. */
static uint8_t *key_column(const khit *h, uint32_t n, uint32_t n_docs)
{
    uint8_t *col = calloc(n_docs ? n_docs : 1, 8);
    ck_assert_ptr_nonnull(col);
    for (uint32_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            col[(size_t)8 * h[i].h.doc + b] = (uint8_t)(h[i].key >> (8 * b));
    return col;
}

/* Offers h (in docid order) to a collapsing queue of cap offset + k;
 * `prune`: hits not above the threshold are not offered, as a bound would
 * skip them. */
static void run_topk(const khit *h, uint32_t n, const uint8_t *col, uint32_t k, uint32_t offset,
                     int prune, match_result *r)
{
    idx_err err = {0};
    match_topk t;
    collapse co;
    ck_assert_int_eq(match_topk_init(&t, offset + k, &err), 0);
    ck_assert_int_eq(collapse_init(&co, offset + k, &err), 0);
    match_topk_collapse(&t, &co);
    collapse_segment(&co, col);
    for (uint32_t i = 0; i < n; i++) {
        if (prune && !(h[i].h.score > match_topk_threshold(&t))) continue;
        match_topk_add(&t, 0, h[i].h.doc, h[i].h.score);
    }
    ck_assert_int_eq(match_topk_finish(&t, offset, r, &err), 0);
    collapse_free(&co);
    ck_assert_ptr_nonnull(r->collapsed);
}

START_TEST(topk_against_model)
{
    uint64_t rnd = 42;
    for (int round = 0; round < 300; round++) {
        uint32_t n = (uint32_t)(test_rnd(&rnd) % 200);
        uint32_t n_keys = 1 + (uint32_t)(test_rnd(&rnd) % 40);
        uint32_t levels = 1 + (uint32_t)(test_rnd(&rnd) % 12);
        khit *h = malloc((n ? n : 1) * sizeof *h), *sorted = malloc((n ? n : 1) * sizeof *h);
        khit *groups = malloc((n ? n : 1) * sizeof *h);
        uint32_t *sizes = malloc((n ? n : 1) * sizeof *sizes);
        ck_assert(h && sorted && groups && sizes);
        for (uint32_t i = 0; i < n; i++) {
            h[i].h = (match_hit){0, i * 2 + (uint32_t)(test_rnd(&rnd) % 2),
                                 (double)(test_rnd(&rnd) % levels) * 0.5};
            uint32_t kk = (uint32_t)(test_rnd(&rnd) % (n_keys + 3));
            /* keys with many low bits alike stress the table's probing */
            h[i].key = kk >= n_keys ? CKEY_NONE : ((uint64_t)kk << 40) + (kk & 3);
        }
        uint8_t *col = key_column(h, n, n * 2 + 2);
        memcpy(sorted, h, n * sizeof *h);
        uint32_t ng = model(sorted, n, groups, sizes);
        for (uint32_t k = 0; k <= 12; k += 3 + (uint32_t)(test_rnd(&rnd) % 3)) {
            for (uint32_t offset = 0; offset <= 20; offset += 7) {
                match_result r, p;
                run_topk(h, n, col, k, offset, 0, &r);
                run_topk(h, n, col, k, offset, 1, &p);
                uint32_t want = ng > offset ? ng - offset : 0;
                if (want > k) want = k;
                EQ(r.n_hits, want);
                EQ(p.n_hits, want);
                EQ(r.total, n);
                for (uint32_t i = 0; i < want; i++) {
                    const khit *g = &groups[offset + i];
                    OKM(r.hits[i].doc == g->h.doc && r.hits[i].score == g->h.score,
                        "round %d k %u offset %u rank %u: doc %u, model %u", round, k, offset, i,
                        r.hits[i].doc, g->h.doc);
                    OKM(p.hits[i].doc == g->h.doc, "pruned: round %d rank %u", round, i);
                    OK(r.collapsed[i] <= sizes[offset + i]);
                    OK(p.collapsed[i] <= r.collapsed[i]);
                    /* no group ever left a queue with room for all: exact */
                    if (ng <= offset + k) EQ(r.collapsed[i], sizes[offset + i]);
                }
                match_result_free(&r);
                match_result_free(&p);
            }
        }
        free(col);
        free(h);
        free(sorted);
        free(groups);
        free(sizes);
    }
}
END_TEST

/* Every hit of one key: one group, the best hit, all the others counted. */
START_TEST(topk_one_story)
{
    khit h[50];
    for (uint32_t i = 0; i < 50; i++)
        h[i] = (khit){{0, i, (double)((i * 7) % 13)}, 99};
    uint8_t *col = key_column(h, 50, 50);
    match_result r;
    run_topk(h, 50, col, 10, 0, 0, &r);
    EQ(r.n_hits, 1);
    EQ(r.hits[0].doc, 11); /* the first to score 12: 7 * 11 = 77 = 5 * 13 + 12 */
    EQ(r.collapsed[0], 49);
    match_result_free(&r);
    free(col);
}
END_TEST

/* ---- a real index ---- */

#define N_DOCS 240
static char tmpdir[64], dir[128];

/* Documents in three segments; every 8th doc is a byte-identical copy of the
 * doc 3 before it, every 8th + 5 shares title and lead with the doc 5 before
 * it but ends differently. */
static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/idx-test-collapse-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    char in[128];
    snprintf(in, sizeof in, "%s/in.jsonl", tmpdir);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    static const char *const words[] = {"solar", "wind", "river", "stone", "cloud", "engine"};
    for (int d = 0; d < N_DOCS; d++) {
        int src = d % 8 == 3 && d >= 3 ? d - 3 : d % 8 == 5 && d >= 5 ? d - 5 : d;
        fprintf(f,
                "{\"id\":\"doc-%03d\",\"title\":\"%s story %d\",\"body\":\"The %s report number "
                "%d says that %s and %s matter a great deal to everyone who reads this lead "
                "paragraph.\\n\\nTail %d %s.\"}\n",
                d, words[src % 6], src, words[(src / 6) % 6], src, words[src % 5],
                words[(src * 7) % 6], d % 8 == 5 ? d : src, d % 2 ? "river" : "stone");
    }
    fclose(f);
    snprintf(dir, sizeof dir, "%s/ix", tmpdir);
    const char *inputs[] = {in};
    build_opts o = build_opts_default(dir, inputs, 1);
    o.engine = BUILD_ENGINE_NATIVE;
    o.mem_bytes = 64u << 20;
    o.threads = 2;
    o.segment_docs = 80;
    build_summary s;
    idx_err err = {0};
    OKM(build_run(&o, &s, &err) == 0, "build: %s", err.msg);
}

static void teardown(void)
{
    EQ(test_rmtree(tmpdir), 0);
}

static void search(idx_index *ix, const qparse_tree *t, uint32_t k, uint32_t offset, int collapse,
                   int exhaustive, match_result *r)
{
    match_options o = match_options_default(ix);
    o.k = k;
    o.offset = offset;
    o.collapse = collapse;
    o.exhaustive = exhaustive;
    idx_err err = {0};
    OKM(match_search(ix, t, &o, r, &err) == 0, "search: %s", err.msg);
}

/* The key match_search sees for a hit: CKEY_NONE in a segment without keys. */
static uint64_t hit_key(idx_index *ix, const match_hit *h)
{
    idx_err err = {0};
    seg *sg = ix->segs[h->seg];
    if (!seg_has_ckeys(sg)) return CKEY_NONE;
    const uint8_t *col = seg_ckeys(sg, &err);
    ck_assert_ptr_nonnull(col);
    return seg_ckey_at(col, h->doc);
}

/* Collapsed searches of q, pruned and exhaustive, at several k and offsets,
 * against the model built from the exhaustive uncollapsed ranking; returns
 * how many hits the model folds. */
static uint32_t check_query(idx_index *ix, ana *a, const char *q)
{
    idx_err err = {0};
    qparse_tree *t;
    OKM(qparse_parse(a, q, strlen(q), NULL, &t, &err) == 0, "parse: %s", err.msg);
    match_result all;
    search(ix, t, N_DOCS, 0, 0, 1, &all);
    ck_assert_ptr_null(all.collapsed);
    size_t cap = all.n_hits ? all.n_hits : 1;
    khit *h = malloc(cap * sizeof *h), *groups = malloc(cap * sizeof *h);
    uint32_t *sizes = malloc(cap * sizeof *sizes);
    ck_assert(h && groups && sizes);
    for (uint32_t i = 0; i < all.n_hits; i++)
        h[i] = (khit){all.hits[i], hit_key(ix, &all.hits[i])};
    uint32_t ng = model(h, all.n_hits, groups, sizes);
    for (uint32_t k = 1; k <= 25; k += 6)
        for (uint32_t offset = 0; offset <= 30; offset += k)
            for (int exhaustive = 0; exhaustive < 2; exhaustive++) {
                match_result r;
                search(ix, t, k, offset, 1, exhaustive, &r);
                uint32_t want = ng > offset ? ng - offset : 0;
                if (want > k) want = k;
                OKM(r.n_hits == want, "[%s] k %u offset %u: %u hits, model %u", q, k, offset,
                    r.n_hits, want);
                for (uint32_t i = 0; i < want; i++) {
                    const match_hit *m = &groups[offset + i].h;
                    OKM(r.hits[i].seg == m->seg && r.hits[i].doc == m->doc &&
                            r.hits[i].score == m->score,
                        "[%s] k %u offset %u%s rank %u: (%u,%u), model (%u,%u)", q, k, offset,
                        exhaustive ? " exhaustive" : "", offset + i + 1, r.hits[i].seg,
                        r.hits[i].doc, m->seg, m->doc);
                    OK(!r.collapsed || r.collapsed[i] <= sizes[offset + i]);
                }
                match_result_free(&r);
            }
    /* uncollapsed: the plain ranking */
    match_result plain;
    search(ix, t, 10, 0, 0, 0, &plain);
    ck_assert_ptr_null(plain.collapsed);
    for (uint32_t i = 0; i < plain.n_hits; i++)
        OK(plain.hits[i].doc == all.hits[i].doc && plain.hits[i].seg == all.hits[i].seg);
    uint32_t folded = all.n_hits - ng;
    match_result_free(&plain);
    match_result_free(&all);
    free(h);
    free(groups);
    free(sizes);
    qparse_free(t);
    return folded;
}

static const char *const queries[] = {"river",         "solar wind", "stone OR cloud",
                                      "+engine story", "report",     "\"lead paragraph\" river",
                                      "tail"};

START_TEST(index_against_model)
{
    idx_index *ix;
    idx_err err = {0};
    OKM(index_open(dir, &ix, &err) == 0, "open: %s", err.msg);
    EQ(ix->n_segs, 3);
    ana *a;
    OK(index_ana_new(ix, &a, &err) == 0);
    uint64_t planted = 0;
    for (size_t qi = 0; qi < sizeof queries / sizeof *queries; qi++)
        planted += check_query(ix, a, queries[qi]);
    /* the planted copies did collapse */
    OKM(planted > 20, "only %llu hits folded", (unsigned long long)planted);
    EQ(atomic_load(&ix->ckeys_repeat), 1); /* the search knows copies exist */
    ana_free(a);
    index_close(ix);
}
END_TEST

/* Rewrites a segment's doc table without its collapse-key section, as an idx
 * from before keys wrote it: the section lies between by_id and the trailer,
 * and every offset in the trailer is below it. */
static void strip_keys(const char *name)
{
    char path[256], tmp[300];
    snprintf(path, sizeof path, "%s/%s.docs", dir, name);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    idx_err err = {0};
    cfr *r;
    OKM(cfr_open(path, "docs", &r, &err) == 0, "%s", err.msg);
    uint64_t end = cfr_body_end(r), trailer = end - SEGFMT_DOCS_TRAILER_SIZE;
    const uint8_t *t = cfr_get(r, trailer, SEGFMT_DOCS_TRAILER_SIZE, &err);
    ck_assert_ptr_nonnull(t);
    uint64_t keys = trailer - segfmt_ckey_size(rd_u64(t + SEGFMT_DOCS_TRAILER_DOCS));
    const uint8_t *body = cfr_get(r, CFILE_HEADER, keys - CFILE_HEADER, &err);
    ck_assert_ptr_nonnull(body);
    ck_assert_int_eq(memcmp(body + (keys - CFILE_HEADER), SEGFMT_CKEY_MAGIC, 4), 0);
    cfw *w;
    OK(cfw_create(tmp, "docs", &w, &err) == 0);
    cfw_write(w, body, keys - CFILE_HEADER);
    cfw_write(w, t, SEGFMT_DOCS_TRAILER_SIZE);
    OKM(cfw_close(w, &err) == 0, "%s", err.msg);
    cfr_close(r);
    OK(rename(tmp, path) == 0);
}

/* An index whose first segment was written before keys existed: it opens,
 * checks and searches (that segment's documents never collapse), and a
 * merge with it keeps no keys. */
START_TEST(segment_without_keys)
{
    strip_keys("s0001");
    idx_index *ix;
    idx_err err = {0};
    OKM(index_open(dir, &ix, &err) == 0, "open: %s", err.msg);
    OK(!seg_has_ckeys(ix->segs[0]) && seg_has_ckeys(ix->segs[1]));
    ck_assert_ptr_null(seg_ckeys(ix->segs[0], &err));
    OKM(index_check(ix, &err) == 0, "check: %s", err.msg);
    ana *a;
    OK(index_ana_new(ix, &a, &err) == 0);
    for (size_t qi = 0; qi < sizeof queries / sizeof *queries; qi++)
        check_query(ix, a, queries[qi]);
    index_close(ix);
    merge_summary sum;
    OKM(merge_run(dir, 1, &sum, &err) == 0, "merge: %s", err.msg);
    OKM(index_open(dir, &ix, &err) == 0, "open: %s", err.msg);
    EQ(ix->n_segs, 1);
    OK(!seg_has_ckeys(ix->segs[0]));
    OKM(index_check(ix, &err) == 0, "check: %s", err.msg);
    for (size_t qi = 0; qi < sizeof queries / sizeof *queries; qi++)
        EQ(check_query(ix, a, queries[qi]), 0);
    ana_free(a);
    index_close(ix);
}
END_TEST

/* An index without copies: the first collapsing search finds that no key
 * repeats and records it in the index, and collapsing searches then return
 * the plain ranking, nothing folded. */
START_TEST(index_without_copies)
{
    char in[160], udir[160];
    snprintf(in, sizeof in, "%s/unique.jsonl", tmpdir);
    snprintf(udir, sizeof udir, "%s/unique", tmpdir);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    for (int d = 0; d < 60; d++)
        fprintf(f, "{\"id\":\"u-%d\",\"title\":\"story %d\",\"body\":\"river %d stone\"}\n", d, d,
                d * 7);
    fclose(f);
    const char *inputs[] = {in};
    build_opts o = build_opts_default(udir, inputs, 1);
    o.engine = BUILD_ENGINE_NATIVE;
    o.segment_docs = 25;
    build_summary bs;
    idx_err err = {0};
    OKM(build_run(&o, &bs, &err) == 0, "build: %s", err.msg);
    idx_index *ix;
    OKM(index_open(udir, &ix, &err) == 0, "open: %s", err.msg);
    EQ(atomic_load(&ix->ckeys_repeat), 0);
    ana *a;
    OK(index_ana_new(ix, &a, &err) == 0);
    qparse_tree *t;
    OK(qparse_parse(a, "river stone", 11, NULL, &t, &err) == 0);
    match_result c, p;
    search(ix, t, 10, 5, 1, 0, &c);
    EQ(atomic_load(&ix->ckeys_repeat), 2);
    search(ix, t, 10, 5, 0, 0, &p);
    EQ(c.n_hits, 10);
    EQ(c.total, 60);
    ck_assert_ptr_null(c.collapsed);
    for (uint32_t i = 0; i < c.n_hits; i++)
        OK(c.hits[i].seg == p.hits[i].seg && c.hits[i].doc == p.hits[i].doc &&
           c.hits[i].score == p.hits[i].score);
    match_result_free(&c);
    match_result_free(&p);
    qparse_free(t);
    ana_free(a);
    index_close(ix);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("collapse");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, key_rules);
    tcase_add_test(tc, topk_against_model);
    tcase_add_test(tc, topk_one_story);
    suite_add_tcase(s, tc);
    TCase *ti = tcase_create("index");
    tcase_add_checked_fixture(ti, setup, teardown);
    tcase_set_timeout(ti, 60);
    tcase_add_test(ti, index_against_model);
    tcase_add_test(ti, segment_without_keys);
    tcase_add_test(ti, index_without_copies);
    suite_add_tcase(s, ti);
    return test_run(s);
}
