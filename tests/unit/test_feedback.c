/* feedback: term selection (tf·idf, the df bounds, the title weight, length
 * normalisation across articles, the skip callback, the cap and its tie
 * rule) against document frequencies from a table, so every expected
 * choice is worked out by hand; the query it builds (weights, the original
 * query's clauses kept); and, on a small index, that a term's weight scales
 * its score exactly and that similar articles / expansion pick the terms
 * the fixture was written to have. */
#include <math.h>
#include <string.h>

#include "match_oracle.h"
#include "searcher/feedback.h"
#include "searcher/search.h"
#include "tests/unit/testutil.h"

/* df of the table's words (stemmed forms); anything else is in 1 article */
static const struct {
    const char *term;
    uint64_t df;
} dfs[] = {{"zebra", 3}, {"quark", 3}, {"the", 60},   {"rare", 2}, {"lone", 1},
           {"boson", 5}, {"gluon", 5}, {"lepton", 5}, {"meson", 5}};

static int table_df(void *ctx, const char *term, size_t len, uint64_t *df, idx_err *err)
{
    (void)ctx;
    (void)err;
    *df = 1;
    for (size_t i = 0; i < sizeof dfs / sizeof dfs[0]; i++)
        if (strlen(dfs[i].term) == len && !memcmp(dfs[i].term, term, len)) *df = dfs[i].df;
    return 0;
}

static ana *A;

static void setup_ana(void)
{
    ana_config cfg = ana_config_default();
    idx_err err = {0};
    ck_assert_int_eq(ana_new(&cfg, &A, &err), 0);
}

static void teardown_ana(void)
{
    ana_free(A);
}

/* Selects from f with n_terms and the defaults' df bounds over 100 articles
 * and returns the terms as "a b c". */
static const char *pick(feedback *f, uint32_t n_terms, int (*skip)(void *, const char *, size_t))
{
    static char out[512];
    feedback_opts o = feedback_opts_default();
    o.n_terms = n_terms;
    const feedback_term *t;
    size_t n;
    idx_err err = {0};
    ck_assert_int_eq(feedback_select(f, &o, 100, table_df, NULL, skip, NULL, &t, &n, &err), 0);
    buf b = {0};
    feedback_terms_string(&b, t, n);
    for (size_t i = 1; i < n; i++)
        ck_assert(t[i - 1].score >= t[i].score);
    snprintf(out, sizeof out, "%.*s", (int)b.len, b.p ? (const char *)b.p : "");
    buf_free(&b);
    return out;
}

static void add(feedback *f, const char *title, const char *body)
{
    idx_err err = {0};
    ck_assert_int_eq(feedback_add(f, title, strlen(title), body, strlen(body), &err), 0);
}

START_TEST(tf_idf_and_df_bounds)
{
    feedback *f = feedback_new(A, 1.0);
    ck_assert_ptr_nonnull(f);
    /* zebra twice beats quark once (same df); boson (df 5) below quark;
     * "the" is in 60 of 100 (over a fifth), "lone" in this article only */
    add(f, "", "the zebra zebra quark boson the the lone");
    ck_assert_str_eq(pick(f, 10, NULL), "zebra quark boson");
    ck_assert_str_eq(pick(f, 2, NULL), "zebra quark");
    ck_assert_str_eq(pick(f, 0, NULL), "");
    feedback_free(f);
}
END_TEST

START_TEST(title_weight_counts)
{
    /* quark once in the title at weight 3 outweighs zebra twice in the body */
    feedback *f = feedback_new(A, 3.0);
    add(f, "quark", "zebra zebra");
    ck_assert_str_eq(pick(f, 10, NULL), "quark zebra");
    feedback_clear(f);
    add(f, "", "quark zebra zebra");
    ck_assert_str_eq(pick(f, 10, NULL), "zebra quark");
    feedback_free(f);
}
END_TEST

START_TEST(ties_by_bytes)
{
    /* four terms of equal df and tf: the cap keeps the first by bytes,
     * whatever order the map holds them in */
    feedback *f = feedback_new(A, 1.0);
    add(f, "", "meson lepton gluon boson");
    ck_assert_str_eq(pick(f, 2, NULL), "boson gluon");
    ck_assert_str_eq(pick(f, 4, NULL), "boson gluon lepton meson");
    feedback_free(f);
}
END_TEST

START_TEST(articles_count_alike)
{
    /* a long article full of boson does not drown a short one about quark:
     * each article's frequencies are divided by its length */
    feedback *f = feedback_new(A, 1.0);
    add(f, "",
        "boson boson boson boson boson boson boson boson boson boson gluon gluon gluon "
        "gluon gluon gluon gluon gluon gluon gluon");
    add(f, "", "quark");
    /* boson 10/20 = 0.5 against quark 1/1 (unnormalised, boson's 10
     * against quark's 1 would win over quark's somewhat higher idf) */
    ck_assert_str_eq(pick(f, 1, NULL), "quark");
    feedback_free(f);
}
END_TEST

static int skip_zebra(void *ctx, const char *t, size_t len)
{
    (void)ctx;
    return len == 5 && !memcmp(t, "zebra", 5);
}

START_TEST(skip_callback)
{
    feedback *f = feedback_new(A, 1.0);
    add(f, "", "zebra zebra quark rare");
    ck_assert_str_eq(pick(f, 10, skip_zebra), "rare quark");
    feedback_free(f);
}
END_TEST

START_TEST(query_shape)
{
    feedback *f = feedback_new(A, 1.0);
    add(f, "", "zebra zebra quark");
    feedback_opts o = feedback_opts_default();
    const feedback_term *t;
    size_t n;
    idx_err err = {0};
    ck_assert_int_eq(feedback_select(f, &o, 100, table_df, NULL, NULL, NULL, &t, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    /* alone: an OR of the two terms, the best at weight `scale` */
    feedback_query q;
    ck_assert_int_eq(feedback_query_build(&q, NULL, t, n, 0.5, &err), 0);
    char dump[256];
    qparse_dump(&q.tree, dump, sizeof dump);
    ck_assert_str_eq(dump, "(OR zebra quark)");
    ck_assert_double_eq(q.tree.root->clauses[0].node->weight, 0.5);
    ck_assert_double_eq_tol(q.tree.root->clauses[1].node->weight, 0.5 * t[1].score / t[0].score,
                            1e-12);
    feedback_query_free(&q);
    /* after a query's clauses, which keep their occur flags and weight 1 */
    qparse_tree *orig = NULL;
    ck_assert_int_eq(qparse_parse(A, "+cat -dog", 9, NULL, &orig, &err), 0);
    ck_assert_int_eq(feedback_query_build(&q, orig, t, n, 0.5, &err), 0);
    qparse_dump(&q.tree, dump, sizeof dump);
    ck_assert_str_eq(dump, "(BOOL +cat -dog zebra quark)");
    ck_assert_double_eq(q.tree.root->clauses[0].node->weight, 0);
    feedback_query_free(&q);
    /* a single-leaf query stays a clause of its own; no terms: the query */
    qparse_free(orig);
    ck_assert_int_eq(qparse_parse(A, "cat", 3, NULL, &orig, &err), 0);
    ck_assert_int_eq(feedback_query_build(&q, orig, t, 0, 0.5, &err), 0);
    ck_assert_ptr_eq(q.tree.root, orig->root);
    feedback_query_free(&q);
    qparse_free(orig);
    feedback_free(f);
}
END_TEST

/* ---- on an index ---- */

static const char *const fixture[][3] = {
    /* id, title, body: two topical groups and filler */
    {"a1", "Volcano eruption", "The volcano erupted; lava and ash covered the village."},
    {"a2", "Lava flows", "Lava from the volcano reached the sea; ash fell for days."},
    {"a3", "Ash cloud", "An ash cloud from the volcano grounded flights; lava glowed."},
    {"b1", "Chess final", "The chess champion won the final with a rook endgame."},
    {"b2", "Rook endgame", "A rook endgame decided the chess match for the champion."},
    {"c1", "Gardening", "Tomatoes need sun and water in the garden."},
    {"c2", "Baking bread", "Flour, water and yeast make bread in the oven."},
    {"c3", "Sailing", "The boat sailed across the bay in the wind."},
    {"c4", "Cycling", "The cyclist rode up the hill in the rain."},
    {"c5", "Music", "The orchestra played the symphony in the hall."},
    {"c6", "Trains", "The train left the station in the morning."},
    {"c7", "Birds", "The birds sang in the trees of the park."},
    {"c8", "Rivers", "The river flows to the sea past the town."},
    {"c9", "Stars", "The stars shine at night over the desert."},
    {"c10", "Bees", "The bees make honey in the hive."},
    {"c11", "Snow", "The snow fell on the mountain in winter."},
};
#define N_FIX (sizeof fixture / sizeof *fixture)

static char tmp[512];
static idx_index *ix;

static void setup_ix(void)
{
    setup_ana();
    eo_tmpdir(tmp, sizeof tmp, "feedback");
    char in[600];
    snprintf(in, sizeof in, "%s/fixture.jsonl", tmp);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    for (size_t d = 0; d < N_FIX; d++)
        fprintf(f, "{\"id\":\"%s\",\"title\":\"%s\",\"body\":\"%s\"}\n", fixture[d][0],
                fixture[d][1], fixture[d][2]);
    ck_assert_int_eq(fclose(f), 0);
    const char *inputs[1] = {in};
    ix = eo_build(tmp, "ix", inputs, 1);
}

static void teardown_ix(void)
{
    index_close(ix);
    eo_rmrf(tmp);
    teardown_ana();
}

/* The score of the fixture's best hit for tree q. */
static double top_score(const qparse_tree *q)
{
    match_options o = match_options_default(ix);
    o.exhaustive = 1;
    match_result r;
    idx_err err = {0};
    ck_assert_int_eq(match_search(ix, q, &o, &r, &err), 0);
    ck_assert_uint_ge(r.n_hits, 1);
    double s = r.hits[0].score;
    match_result_free(&r);
    return s;
}

START_TEST(weight_scales_score)
{
    qparse_tree *q = NULL;
    idx_err err = {0};
    ck_assert_int_eq(qparse_parse(A, "rook", 4, NULL, &q, &err), 0);
    double plain = top_score(q);
    feedback_term t = {"rook", 4, 2, 1.0};
    feedback_query fq;
    ck_assert_int_eq(feedback_query_build(&fq, NULL, &t, 1, 2.5, &err), 0);
    ck_assert_double_eq_tol(top_score(&fq.tree), 2.5 * plain, 1e-9 * plain);
    feedback_query_free(&fq);
    qparse_free(q);
}
END_TEST

/* The ids of search_similar(id)'s hits, "x y z". */
static const char *similar_ids(search_ctx *s, const char *id)
{
    static char out[256];
    idx_err err = {0};
    ck_assert_int_eq(search_similar(s, id, strlen(id), &err), 0);
    size_t at = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < s->n_hits; i++)
        at += (size_t)snprintf(out + at, sizeof out - at, "%s%.*s", i ? " " : "",
                               (int)s->hits[i].id_len, s->hits[i].id);
    return out;
}

START_TEST(similar_on_index)
{
    search_ctx s;
    idx_err err = {0};
    ck_assert_int_eq(search_init(&s, ix, 1, &err), 0);
    s.eo.k = 2;
    const char *got = similar_ids(&s, "a1");
    ck_assert_msg(!strcmp(got, "a2 a3") || !strcmp(got, "a3 a2"), "similar a1: %s", got);
    s.eo.k = 1;
    ck_assert_str_eq(similar_ids(&s, "b1"), "b2");
    /* paging continues where the first page stopped, still without a1 */
    s.eo.k = 10;
    s.eo.offset = 1;
    got = similar_ids(&s, "a1");
    ck_assert_msg(strstr(got, "a1") == NULL && (!strncmp(got, "a2", 2) || !strncmp(got, "a3", 2)),
                  "page 2 of similar a1: %s", got);
    ck_assert_int_eq(search_similar(&s, "nope", 4, &err), SEARCH_ENOID);
    search_fini(&s);
}
END_TEST

START_TEST(expand_on_index)
{
    search_ctx s;
    idx_err err = {0};
    ck_assert_int_eq(search_init(&s, ix, 1, &err), 0);
    /* "eruption" is only in a1; its feedback brings lava and ash, so a2 and
     * a3 follow it though they lack the word */
    s.expand = 1;
    ck_assert_int_eq(search_run(&s, "eruption", 8, &err), 0);
    ck_assert_uint_ge(s.n_hits, 3);
    char top[64];
    snprintf(top, sizeof top, "%.*s %.*s %.*s", (int)s.hits[0].id_len, s.hits[0].id,
             (int)s.hits[1].id_len, s.hits[1].id, (int)s.hits[2].id_len, s.hits[2].id);
    ck_assert_msg(!strcmp(top, "a1 a2 a3") || !strcmp(top, "a1 a3 a2"), "expanded: %s", top);
    ck_assert_ptr_nonnull(s.expanded);
    ck_assert_ptr_nonnull(strstr(s.expanded, "lava"));
    ck_assert_ptr_null(strstr(s.expanded, "erupt"));
    s.expand = 0;
    ck_assert_int_eq(search_run(&s, "eruption", 8, &err), 0);
    ck_assert_uint_eq(s.n_hits, 1);
    ck_assert_ptr_null(s.expanded);
    search_fini(&s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("feedback");
    TCase *tc = tcase_create("select");
    tcase_add_checked_fixture(tc, setup_ana, teardown_ana);
    tcase_add_test(tc, tf_idf_and_df_bounds);
    tcase_add_test(tc, title_weight_counts);
    tcase_add_test(tc, ties_by_bytes);
    tcase_add_test(tc, articles_count_alike);
    tcase_add_test(tc, skip_callback);
    tcase_add_test(tc, query_shape);
    suite_add_tcase(s, tc);
    TCase *ti = tcase_create("index");
    tcase_add_checked_fixture(ti, setup_ix, teardown_ix);
    tcase_add_test(ti, weight_scales_score);
    tcase_add_test(ti, similar_on_index);
    tcase_add_test(ti, expand_on_index);
    suite_add_tcase(s, ti);
    return s;
}

int main(void)
{
    return test_run(suite());
}
