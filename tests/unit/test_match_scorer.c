/* The scorer tree alone (searcher/match_scorer.h), on a real corpus (cacm)
 * and random queries of every node kind (terms of every df, title: terms,
 * phrases with and without slop, prefixes, boolean groups, date ranges):
 *
 *   - the tree of the query's root, moved with match_sc_next from document
 *     to document, visits exactly the documents an exhaustive match_search
 *     returns, with the same scores bit for bit (no root algorithm, no
 *     top-k, no pruning in between);
 *   - the two-phase moves (match_sc_approx + match_sc_confirm) visit the
 *     same documents;
 *   - max_score bounds every score, and a term's block bound holds for every
 *     document of its range [target, upto], whether the cursor lags behind
 *     the target (the skip data's bound) or stands on or past it (the bound
 *     of the run it is in): the pruning's safety rests on these.
 *
 * Fixed seed: a failure prints the query and reproduces. */
#include "match_oracle.h"
#include "searcher/match_scorer.h"
#include "tests/unit/testutil.h"

typedef struct visit {
    uint32_t doc;
    double score;
} visit;

/* Every (doc, score) the tree of q visits with match_sc_next; *n of them,
 * and the tree's max_score. */
static visit *walk_next(match_ctx *e, const qparse_tree *q, uint32_t *n, double *max_score)
{
    match_sc *s = match_sc_build(e, q->root);
    ck_assert_ptr_nonnull(s);
    *max_score = s->max_score;
    visit *v = malloc((seg_ndocs(e->s) + 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    *n = 0;
    while (s->doc != SEG_END && !e->rc) {
        v[*n].doc = s->doc;
        v[*n].score = match_sc_score(e, s);
        (*n)++;
        match_sc_next(e, s, s->doc + 1);
    }
    match_sc_free(s);
    return v;
}

/* The documents the two-phase moves accept, checked against v[0..n). */
static void walk_two_phase(match_ctx *e, const qparse_tree *q, const visit *v, uint32_t n,
                           const char *text)
{
    match_sc *s = match_sc_build(e, q->root);
    ck_assert_ptr_nonnull(s);
    uint32_t i = 0;
    while (s->doc != SEG_END && !e->rc) {
        if (match_sc_confirm(e, s)) {
            EO_REQUIRE(i < n && v[i].doc == s->doc, "[%s]: two-phase accepts doc %u, next gives %u",
                       text, s->doc, i < n ? v[i].doc : SEG_END);
            i++;
        }
        match_sc_approx(e, s, s->doc + 1);
    }
    EO_REQUIRE(i == n, "[%s]: two-phase accepts %u documents, next %u", text, i, n);
    match_sc_free(s);
}

/* Bound checks on a term or title: term (the only scorers with block
 * bounds) at random increasing targets, each before and after moving the
 * cursor to the target: the cursor may then lag behind it (the skip data's
 * bound) or stand on or past it (the bound of the run it is in). */
static void check_block_bounds(match_ctx *e, const qparse_tree *q, const visit *v, uint32_t n,
                               eo_rng *r, const char *text)
{
    match_sc *s = match_sc_build(e, q->root);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(s->kind, MATCH_SC_TERM);
    uint32_t nd = seg_ndocs(e->s), t = 0, i = 0;
    while (t < nd) {
        for (int lag = 1; lag >= 0; lag--) {
            if (!lag) match_sc_next(e, s, t);
            uint32_t upto;
            double b = match_sc_block_bound(e, s, t, &upto);
            EO_REQUIRE(upto >= t, "[%s]: bound at %u ends before it (%u)", text, t, upto);
            for (uint32_t j = i; j < n && v[j].doc <= upto; j++)
                EO_REQUIRE(!match_cannot_beat(b, v[j].score),
                           "[%s]: %s bound %.17g at target %u (up to %u) below doc %u's %.17g",
                           text, lag ? "before the move" : "after the move", b, t, upto, v[j].doc,
                           v[j].score);
        }
        t += 1 + eo_below(r, eo_below(r, 2) ? 40 : 400);
        while (i < n && v[i].doc < t)
            i++;
    }
    match_sc_free(s);
}

static const char *word_of(eo_model *m, const eo_vocab *voc, eo_rng *r)
{
    return eo_term_word(m, eo_draw_term(m, voc, r));
}

/* A random query: kind 0 a term, 1 a title: term, 2 a phrase, 3 a prefix,
 * 4 a boolean group, 5 a date range with a word. */
static int gen_query(eo_model *m, const eo_vocab *voc, eo_rng *r, char *q, size_t cap)
{
    int kind = (int)eo_below(r, 6);
    uint32_t d, at;
    switch (kind) {
    case 0:
        snprintf(q, cap, "%s", word_of(m, voc, r));
        break;
    case 1:
        if (eo_pick_run(m, r, EO_TITLE, 1, &d, &at))
            snprintf(q, cap, "title:%s", m->words.s[m->docs[d].f[EO_TITLE].t[at].word]);
        else
            snprintf(q, cap, "title:%s", word_of(m, voc, r));
        break;
    case 2: {
        uint32_t len = 2 + eo_below(r, 2);
        if (!eo_pick_run(m, r, EO_BODY, len, &d, &at)) {
            snprintf(q, cap, "%s", word_of(m, voc, r));
            return 0;
        }
        size_t o = (size_t)snprintf(q, cap, "\"");
        for (uint32_t k = 0; k < len; k++)
            o += (size_t)snprintf(q + o, cap - o, "%s%s", k ? " " : "",
                                  m->words.s[m->docs[d].f[EO_BODY].t[at + k].word]);
        if (eo_below(r, 3) == 0)
            snprintf(q + o, cap - o, "\"~%u", 1 + eo_below(r, 3));
        else
            snprintf(q + o, cap - o, "\"");
        break;
    }
    case 3: {
        const char *w = word_of(m, voc, r);
        int cut = 2 + (int)eo_below(r, 3);
        snprintf(q, cap, "%.*s*", cut, w);
        break;
    }
    case 4: {
        static const char *const ops[4] = {" ", " AND ", " OR ", " NOT "};
        snprintf(q, cap, "%s%s%s%s(%s OR %s)", eo_below(r, 2) ? "+" : "", word_of(m, voc, r),
                 ops[eo_below(r, 4)], eo_below(r, 2) ? "" : "+", word_of(m, voc, r),
                 word_of(m, voc, r));
        break;
    }
    default:
        snprintf(q, cap, "%s date:19%02u..19%02u", word_of(m, voc, r), 60 + eo_below(r, 10),
                 70 + eo_below(r, 10));
        break;
    }
    return kind;
}

static char tmp[512];

START_TEST(scorer_tree_alone)
{
    char path[600];
    if (!eo_corpus("cacm", path, sizeof path)) {
        printf("SKIP: corpus cacm not found\n");
        return;
    }
    const char *in[1] = {path};
    idx_index *ix = eo_build(tmp, "cacm", in, 1);
    eo_model m;
    eo_model_build(&m, ix);
    eo_vocab voc;
    eo_vocab_build(&m, &voc);
    ck_assert_uint_gt(voc.n, 100);
    ana *a = NULL;
    idx_err err = {0};
    ck_assert_int_eq(ana_new(&ix->meta.ana, &a, &err), 0);
    match_options o = match_options_default(ix);
    o.exhaustive = 1;
    o.k = ix->meta.docs;
    eo_rng r = {0x5DEECE66DULL};
    uint32_t queries = 0, with_docs = 0, bounded = 0;
    for (int it = 0; it < (EO_SANITIZED ? 150 : 600); it++) {
        char q[512];
        int kind = gen_query(&m, &voc, &r, q, sizeof q);
        int rc;
        qparse_tree *t = eo_parse(a, q, 0, &rc);
        if (rc) continue;
        queries++;
        match_ctx e;
        match_ctx_init(&e, ix, &o, &err);
        ck_assert(e.bounds_ok);
        match_ctx_segment(&e, 0);
        uint32_t n;
        double max_score;
        visit *v = walk_next(&e, t, &n, &max_score);
        EO_REQUIRE(e.rc == 0, "[%s]: %s", q, err.msg);
        with_docs += n > 0;

        /* the evaluator's exhaustive answer, in document order */
        match_result res;
        eo_search(ix, t, o.k, 0, 1, &res, q);
        EO_REQUIRE(res.n_hits == n, "[%s]: the tree visits %u documents, match_search %u", q, n,
                   res.n_hits);
        uint8_t *seen = calloc(ix->meta.docs, 1);
        double *score = calloc(ix->meta.docs, sizeof *score);
        ck_assert(seen && score);
        for (uint32_t i = 0; i < res.n_hits; i++) {
            seen[res.hits[i].doc] = 1;
            score[res.hits[i].doc] = res.hits[i].score;
        }
        for (uint32_t i = 0; i < n; i++) {
            EO_REQUIRE(seen[v[i].doc] && score[v[i].doc] == v[i].score,
                       "[%s]: doc %u scored %.17g by the tree, %.17g by match_search (%s)", q,
                       v[i].doc, v[i].score, score[v[i].doc], seen[v[i].doc] ? "hit" : "no hit");
            EO_REQUIRE(!match_cannot_beat(max_score, v[i].score),
                       "[%s]: max_score %.17g below doc %u's %.17g", q, max_score, v[i].doc,
                       v[i].score);
        }
        free(seen);
        free(score);
        match_result_free(&res);

        walk_two_phase(&e, t, v, n, q);
        if ((kind == 0 || kind == 1) && t->root->kind == Q_TERM) {
            check_block_bounds(&e, t, v, n, &r, q);
            bounded++;
        }
        EO_REQUIRE(e.rc == 0, "[%s]: %s", q, err.msg);
        match_ctx_fini(&e);
        free(v);
        qparse_free(t);
    }
    /* the generator must exercise something */
    ck_assert_uint_gt(queries, (EO_SANITIZED ? 150 : 600) / 2);
    ck_assert_uint_gt(with_docs, queries / 2);
    ck_assert_uint_gt(bounded, queries / 5);
    printf("scorer: %u queries, %u matching something, %u with block bounds checked\n", queries,
           with_docs, bounded);
    ana_free(a);
    free(voc.t);
    eo_model_free(&m);
    index_close(ix);
}
END_TEST

/* match_terms on 7 segments: for terms of every segment's lexicon and for
 * absent ones, each segment's answer is that segment's own seg_lookup, and
 * the df is their sum, also when asked again (answered from the cache). */
START_TEST(terms_over_segments)
{
    char path[600];
    if (!eo_corpus("cacm", path, sizeof path)) {
        printf("SKIP: corpus cacm not found\n");
        return;
    }
    const char *in[1] = {path};
    idx_index *ix = eo_build_segs(tmp, "cacm7", in, 1, 500);
    ck_assert_uint_ge(ix->n_segs, 6);
    match_terms *mt = match_terms_new(ix);
    ck_assert_ptr_nonnull(mt);
    idx_err err = {0};
    uint32_t checked = 0, partial = 0;
    for (uint32_t s = 0; s < ix->n_segs; s++) {
        seg_lex_iter it;
        seg_term t;
        ck_assert_int_eq(seg_lex_seek(ix->segs[s], "", 0, &it, &err), 0);
        for (uint32_t k = 0; seg_lex_next(&it, &t, &err) == 1; k++) {
            if (k % 13) continue;
            /* the term, and a longer one no segment has */
            for (int absent = 0; absent < 2; absent++) {
                char key[SEG_MAX_TERM + 2];
                size_t len = it.term_len;
                memcpy(key, it.term, len);
                if (absent) key[len++] = '\x01';
                uint64_t sum = 0, df = 0;
                uint32_t have = 0;
                for (uint32_t i = 0; i < ix->n_segs; i++) {
                    seg_term want, got;
                    int w = seg_lookup(ix->segs[i], key, len, &want, &err);
                    int g = match_terms_get(mt, i, key, len, &got, &df, &err);
                    ck_assert_int_ge(w, 0);
                    ck_assert_int_eq(g, w);
                    if (w) {
                        ck_assert_uint_eq(got.df, want.df);
                        ck_assert_uint_eq(got.cf, want.cf);
                        ck_assert_uint_eq(got.post_off, want.post_off);
                        ck_assert_uint_eq(got.pos_off, want.pos_off);
                        sum += want.df;
                        have++;
                    }
                }
                ck_assert_uint_eq(df, sum);
                ck_assert_uint_eq(absent ? have == 0 : have > 0, 1);
                partial += have > 0 && have < ix->n_segs;
                checked++;
            }
        }
    }
    ck_assert_uint_gt(checked, 1000);
    ck_assert_uint_gt(partial, 100); /* terms some segments lack */
    match_terms_free(mt);
    index_close(ix);
}
END_TEST

static void setup(void)
{
    eo_tmpdir(tmp, sizeof tmp, "match-scorer");
}

static void teardown(void)
{
    eo_rmrf(tmp);
}

int main(void)
{
    Suite *s = suite_create("match_scorer");
    TCase *tc = tcase_create("match_scorer");
    /* In the parent: the directory goes even when a test fails. */
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, scorer_tree_alone);
    tcase_add_test(tc, terms_over_segments);
    suite_add_tcase(s, tc);
    return test_run(s);
}
