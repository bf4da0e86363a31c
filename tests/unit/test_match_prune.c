/* Pruning never changes the answer: for thousands of random queries over real
 * corpora (cranfield, cacm, a subset of enwiki-2015-sample), the top k of the
 * pruned evaluator (MaxScore, block-max, leapfrog) equals exhaustive
 * evaluation exactly: the same (segment, docid) in the same order, scores
 * bit-for-bit equal. Totals follow match.h's rule on every page: exact up
 * to the count limit, the limit marked inexact past it (checked at limits
 * below, at and above each query's count, offsets 0, 10, 20, ...).
 *
 * The same documents built as 2 and 7 segments (a test-only build option)
 * give the same answers: the same documents in the same order, scores
 * bit-for-bit equal to the one-segment index's, pruned or not. The 7-segment
 * layout with deletions (a second generation; the live averages differ from
 * every segment's own, so the stored bounds are scaled by the bound factor)
 * prunes to exactly its own exhaustive answers too.
 *
 * Queries are made of words drawn from the documents' own text across the
 * document-frequency range (rare, medium, frequent), phrases of adjacent
 * words (and the same words reversed as NEAR/0, NEAR/1), title:, author:
 * and date: clauses, prefixes, +/- modifiers and
 * AND/OR/NOT with parentheses; k is 1, 10 or 100. Fixed seeds: a failure
 * prints the query and reproduces. */
#include <stdarg.h>

#include "common/txn.h"
#include "match_oracle.h"
#include "tests/unit/testutil.h"

typedef struct sbuf {
    char s[4096];
    size_t n;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (b->n < sizeof b->s) {
        int r = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
        if (r > 0) b->n += (size_t)r;
        if (b->n >= sizeof b->s) b->n = sizeof b->s - 1;
    }
    va_end(ap);
}

typedef struct gen {
    eo_model *m;
    eo_vocab v;
    eo_rng r;
    int has_author, has_date;
    uint32_t date_lo, date_hi; /* years */
} gen;

static const char *word_of(gen *g)
{
    return eo_term_word(g->m, eo_draw_term(g->m, &g->v, &g->r));
}

static void gen_phrase(gen *g, sbuf *b)
{
    uint32_t n = 2 + eo_below(&g->r, 2), d, at;
    int f = eo_below(&g->r, 4) == 0 ? EO_TITLE : EO_BODY;
    if (!eo_pick_run(g->m, &g->r, f, n, &d, &at) &&
        !eo_pick_run(g->m, &g->r, f = EO_BODY, n = 2, &d, &at)) {
        sb_add(b, "%s", word_of(g));
        return;
    }
    if (f == EO_TITLE && eo_below(&g->r, 2)) sb_add(b, "title:");
    if (eo_below(&g->r, 4) == 0) { /* the same words NEAR each other, reversed */
        uint32_t dist = eo_below(&g->r, 4);
        for (uint32_t k = n; k-- > 0;)
            sb_add(b, "%s%s", k + 1 < n ? (dist ? " NEAR/1 " : " NEAR/0 ") : "",
                   g->m->words.s[g->m->docs[d].f[f].t[at + k].word]);
        return;
    }
    sb_add(b, "\"");
    for (uint32_t k = 0; k < n; k++)
        sb_add(b, "%s%s", k ? " " : "", g->m->words.s[g->m->docs[d].f[f].t[at + k].word]);
    sb_add(b, "\"");
    if (eo_below(&g->r, 4) == 0) sb_add(b, "~%u", 1 + eo_below(&g->r, 4));
}

static void gen_leaf(gen *g, sbuf *b)
{
    uint32_t x = eo_below(&g->r, 100);
    if (x < 60) {
        sb_add(b, "%s", word_of(g));
    } else if (x < 70) {
        uint32_t d, at;
        if (eo_pick_run(g->m, &g->r, EO_TITLE, 1, &d, &at))
            sb_add(b, "title:%s", g->m->words.s[g->m->docs[d].f[EO_TITLE].t[at].word]);
        else
            sb_add(b, "title:%s", word_of(g));
    } else if (x < 82) {
        gen_phrase(g, b);
    } else if (x < 92) {
        const char *w = word_of(g);
        size_t n = strlen(w), cut = 2 + eo_below(&g->r, 4);
        sb_add(b, "%.*s*", (int)(cut < n ? cut : n), w);
    } else if (x < 97 && g->has_author) {
        uint32_t d, at;
        if (eo_pick_run(g->m, &g->r, EO_AUTHOR, 1, &d, &at))
            sb_add(b, "author:%s", g->m->words.s[g->m->docs[d].f[EO_AUTHOR].t[at].word]);
        else
            sb_add(b, "%s", word_of(g));
    } else if (g->has_date) {
        uint32_t span = g->date_hi - g->date_lo + 1, y = g->date_lo + eo_below(&g->r, span);
        uint32_t form = eo_below(&g->r, 3);
        if (form == 0)
            sb_add(b, "date:%u..%u-%02u", y, y + eo_below(&g->r, 4), 1 + eo_below(&g->r, 12));
        else if (form == 1)
            sb_add(b, "date:%u..", y);
        else
            sb_add(b, "date:..%u", y);
    } else {
        sb_add(b, "%s", word_of(g));
    }
}

static void gen_expr(gen *g, sbuf *b, int depth)
{
    uint32_t x = eo_below(&g->r, 10);
    if (depth >= 3 || x < 4) {
        gen_leaf(g, b);
        return;
    }
    sb_add(b, "(");
    gen_expr(g, b, depth + 1);
    static const char *const ops[5] = {" AND ", " OR ", " ", " AND NOT ", " NOT "};
    uint32_t nops = 1 + eo_below(&g->r, 2);
    for (uint32_t i = 0; i < nops; i++) {
        sb_add(b, "%s", ops[eo_below(&g->r, 5)]);
        gen_expr(g, b, depth + 1);
    }
    sb_add(b, ")");
}

/* A random query; *all says whether to parse with --all. */
static void gen_query(gen *g, sbuf *b, int *all)
{
    b->n = 0;
    b->s[0] = 0;
    *all = 0;
    uint32_t kind = eo_below(&g->r, 100), n = 1 + eo_below(&g->r, 5);
    if (kind < 35) { /* ranked OR */
        for (uint32_t i = 0; i < n; i++) {
            sb_add(b, "%s", i ? " " : "");
            gen_leaf(g, b);
        }
    } else if (kind < 60) { /* +required -excluded optional */
        for (uint32_t i = 0; i < n; i++) {
            uint32_t mod = eo_below(&g->r, 3);
            sb_add(b, "%s%s", i ? " " : "", mod == 0 ? "+" : mod == 1 ? "-" : "");
            gen_leaf(g, b);
        }
    } else if (kind < 85) { /* AND / OR / NOT with parentheses */
        gen_expr(g, b, 0);
        if (eo_below(&g->r, 2)) {
            sb_add(b, " ");
            gen_leaf(g, b);
        }
    } else { /* --all */
        *all = 1;
        for (uint32_t i = 0; i < n; i++) {
            sb_add(b, "%s", i ? " " : "");
            gen_leaf(g, b);
        }
    }
}

static void same_hits(const char *q, uint32_t k, const match_result *p, const match_hit *exp,
                      uint32_t n_exp)
{
    EO_REQUIRE(p->n_hits == n_exp, "query [%s] k=%u: pruned %u hits, exhaustive %u", q, k,
               p->n_hits, n_exp);
    for (uint32_t i = 0; i < n_exp; i++) {
        const match_hit *a = &p->hits[i], *e = &exp[i];
        EO_REQUIRE(a->seg == e->seg && a->doc == e->doc && a->score == e->score,
                   "query [%s] k=%u rank %u: pruned (%u,%u) %.17g, exhaustive (%u,%u) %.17g", q, k,
                   i + 1, a->seg, a->doc, a->score, e->seg, e->doc, e->score);
    }
}

typedef struct stats {
    uint32_t queries, rejected, with_hits, pruned_inexact;
} stats;

/* The query on a multi-segment build of the same documents: the hits of the
 * one-segment index's exhaustive run `ex`, as global docids, same scores. */
static void check_split(idx_index *ix, const qparse_tree *t, const char *q, const match_result *ex)
{
    for (int exhaustive = 0; exhaustive < 2; exhaustive++) {
        match_result r;
        eo_search(ix, t, 100, 0, exhaustive, &r, q);
        EO_REQUIRE(r.n_hits == ex->n_hits, "query [%s] %u segments%s: %u hits, one segment %u", q,
                   ix->n_segs, exhaustive ? " exhaustive" : "", r.n_hits, ex->n_hits);
        for (uint32_t i = 0; i < r.n_hits; i++) {
            uint64_t d = eo_global_doc(ix, &r.hits[i]);
            EO_REQUIRE(d == ex->hits[i].doc && r.hits[i].score == ex->hits[i].score,
                       "query [%s] %u segments%s rank %u: doc %llu %.17g, one segment doc %u %.17g",
                       q, ix->n_segs, exhaustive ? " exhaustive" : "", i + 1, (unsigned long long)d,
                       r.hits[i].score, ex->hits[i].doc, ex->hits[i].score);
        }
        if (exhaustive || r.total_exact)
            EO_REQUIRE(r.total == ex->total, "query [%s] %u segments: total %llu, expected %llu", q,
                       ix->n_segs, (unsigned long long)r.total, (unsigned long long)ex->total);
        match_result_free(&r);
    }
}

static void check_total(const char *q, uint32_t k, uint32_t offset, uint64_t limit,
                        const match_result *r, uint64_t exact);

/* Pruned runs of t on ix at k = 1, 10, 100 return the top of ex, ix's
 * exhaustive run (k 100). They count nothing exactly (limit 0), so that
 * pruning starts at the first match, as past the limit on a large
 * collection. */
static void check_pruned(idx_index *ix, const qparse_tree *t, const char *q, const match_result *ex,
                         stats *st)
{
    static const uint32_t ks[3] = {1, 10, 100};
    for (int i = 0; i < 3; i++) {
        uint32_t k = ks[i];
        match_result pr;
        eo_search_limit(ix, t, k, 0, 0, 0, &pr, q);
        same_hits(q, k, &pr, ex->hits, ex->n_hits < k ? ex->n_hits : k);
        check_total(q, k, 0, 0, &pr, ex->total);
        st->pruned_inexact += !pr.total_exact;
        match_result_free(&pr);
    }
}

/* match.h's total rule: up to the limit the exact count, past it the limit,
 * marked inexact. */
static void check_total(const char *q, uint32_t k, uint32_t offset, uint64_t limit,
                        const match_result *r, uint64_t exact)
{
    int want_exact = exact <= limit;
    EO_REQUIRE(r->total_exact == want_exact && r->total == (want_exact ? exact : limit),
               "query [%s] k=%u offset %u limit %llu: total %llu%s, %llu matches", q, k, offset,
               (unsigned long long)limit, (unsigned long long)r->total,
               r->total_exact ? " exact" : "", (unsigned long long)exact);
}

/* Every page of t (k 10) reports the same total, by the count rule, under
 * limits below, at and above ex's total; the hits stay the exhaustive
 * ones. */
static void check_pages(idx_index *ix, const qparse_tree *t, const char *q, const match_result *ex)
{
    const uint64_t limits[4] = {0, ex->total / 2, ex->total, MATCH_COUNT_LIMIT};
    for (int l = 0; l < 4; l++)
        for (uint32_t off = 0; off < ex->n_hits + 10 && off <= 60; off += 10) {
            match_result pr;
            eo_search_limit(ix, t, 10, off, 0, limits[l], &pr, q);
            check_total(q, 10, off, limits[l], &pr, ex->total);
            uint32_t n = ex->n_hits > off ? ex->n_hits - off : 0;
            same_hits(q, 10 + off, &pr, ex->hits + (off < ex->n_hits ? off : ex->n_hits),
                      n < 10 ? n : 10);
            match_result_free(&pr);
        }
}

/* all[0] is the one-segment index; the others the same documents split;
 * del the 7-segment layout with deletions (build_deleted). */
static void check_query(idx_index *const *all, idx_index *del, ana *a, const char *q, int all_req,
                        gen *g, stats *st)
{
    idx_index *ix = all[0];
    int rc;
    qparse_tree *t = eo_parse(a, q, all_req, &rc);
    if (getenv("EO_VERBOSE")) printf("%s%s -> %d\n", all_req ? "--all " : "", q, rc);
    if (rc) {
        st->rejected++;
        return;
    }
    st->queries++;
    match_result ex;
    eo_search(ix, t, 100, 0, 1, &ex, q);
    EO_REQUIRE(ex.total_exact, "query [%s]: exhaustive total not exact", q);
    EO_REQUIRE(ex.n_hits == (ex.total < 100 ? ex.total : 100), "query [%s]: %u hits of %llu", q,
               ex.n_hits, (unsigned long long)ex.total);
    st->with_hits += ex.n_hits > 0;
    /* The exhaustive order itself: by score, then (seg, doc). */
    for (uint32_t i = 1; i < ex.n_hits; i++) {
        const match_hit *x = &ex.hits[i - 1], *y = &ex.hits[i];
        EO_REQUIRE(x->score > y->score ||
                       (x->score == y->score &&
                        (x->seg < y->seg || (x->seg == y->seg && x->doc < y->doc))),
                   "query [%s]: exhaustive ranks %u/%u out of order", q, i, i + 1);
    }
    check_pruned(ix, t, q, &ex, st);
    if (eo_below(&g->r, 4) == 0) check_pages(ix, t, q, &ex);
    /* Paging: offset o, k 10 is ranks o+1..o+10 of the full order. */
    if (eo_below(&g->r, 8) == 0 && ex.n_hits > 5) {
        uint32_t off = 1 + eo_below(&g->r, 60);
        match_result pr;
        eo_search_limit(ix, t, 10, off, 0, 0, &pr, q);
        uint32_t n = ex.n_hits > off ? ex.n_hits - off : 0;
        same_hits(q, 10 + off, &pr, ex.hits + (off < ex.n_hits ? off : ex.n_hits), n < 10 ? n : 10);
        match_result_free(&pr);
    }
    for (int i = 1; i < EO_N_LAYOUTS; i++)
        check_split(all[i], t, q, &ex);
    match_result_free(&ex);
    eo_search(del, t, 100, 0, 1, &ex, q);
    check_pruned(del, t, q, &ex, st);
    if (eo_below(&g->r, 4) == 0) check_pages(del, t, q, &ex);
    match_result_free(&ex);
    qparse_free(t);
}

static void run_corpus(idx_index *const *all, idx_index *del, const char *name, uint32_t n_queries,
                       uint64_t seed)
{
    idx_index *ix = all[0];
    eo_model m;
    eo_model_build(&m, ix);
    gen g = {0};
    g.m = &m;
    g.r.s = seed;
    eo_vocab_build(&m, &g.v);
    ck_assert_uint_gt(g.v.n, 100);
    g.date_lo = 9999;
    for (uint32_t d = 0; d < m.n_docs; d++) {
        g.has_author |= m.docs[d].f[EO_AUTHOR].n > 0;
        uint32_t y = m.docs[d].date / 10000;
        if (y) {
            g.has_date = 1;
            if (y < g.date_lo) g.date_lo = y;
            if (y > g.date_hi) g.date_hi = y;
        }
    }
    ana *a = NULL;
    idx_err err = {0};
    ck_assert_int_eq(ana_new(&ix->meta.ana, &a, &err), 0);
    stats st = {0};
    sbuf b;
    while (st.queries < n_queries) {
        int all_req;
        gen_query(&g, &b, &all_req);
        check_query(all, del, a, b.s, all_req, &g, &st);
        EO_REQUIRE(st.rejected < n_queries, "too many rejected queries, last [%s]", b.s);
    }
    /* The generator must actually exercise something. */
    ck_assert_uint_gt(st.with_hits, n_queries / 2);
    printf("%s: %u docs, %u queries (%u rejected by the parser), %u with hits, %u pruned "
           "runs with an inexact total\n",
           name, m.n_docs, st.queries, st.rejected, st.with_hits, st.pruned_inexact);
    ana_free(a);
    free(g.v.t);
    eo_model_free(&m);
}

static char tmp[512];

/* The 7-segment layout of ix1's documents again, in a second generation
 * with deletions: one document in nine of every segment, and the third
 * segment's short ones (so the live averages grow past the segments' own
 * and the bound factor exceeds 1). */
static idx_index *build_deleted(const char *name, const char *const *in, const idx_index *ix1)
{
    char sub[64], path[700];
    snprintf(sub, sizeof sub, "%.40s-del", name);
    index_close(eo_build_split(tmp, sub, in, 1, ix1, 7));
    snprintf(path, sizeof path, "%s/%s", tmp, sub);
    idx_err err = {0};
    idx_txn *t;
    ck_assert_msg(txn_begin(path, &t, &err) == 0, "txn_begin: %s", err.msg);
    idx_index *ix = txn_index(t);
    for (uint32_t s = 0; s < ix->n_segs; s++)
        for (uint32_t d = 0; d < seg_ndocs(ix->segs[s]); d++) {
            uint32_t lt, lb;
            seg_doc_lens(ix->segs[s], d, &lt, &lb);
            if (d % 9 == s || (s == 2 && lb < 40)) ck_assert_int_eq(txn_delete(t, s, d, &err), 1);
        }
    ck_assert_msg(txn_commit(t, NULL, &err) == 0, "txn_commit: %s", err.msg);
    ck_assert_msg(index_open(path, &ix, &err) == 0, "open: %s", err.msg);
    ck_assert_double_gt(ix->bound_scale[2], 1.0);
    return ix;
}

static uint32_t n_queries(void)
{
    return EO_SANITIZED ? 600 : 2000;
}

START_TEST(prune_small_corpora)
{
    static const char *const names[2] = {"cranfield", "cacm"};
    char path[600];
    for (int i = 0; i < 2; i++) {
        if (!eo_corpus(names[i], path, sizeof path)) {
            printf("SKIP: corpus %s not found\n", names[i]);
            continue;
        }
        const char *in[1] = {path};
        idx_index *all[EO_N_LAYOUTS];
        eo_build_all(tmp, names[i], in, 1, eo_build(tmp, names[i], in, 1), all);
        idx_index *del = build_deleted(names[i], in, all[0]);
        run_corpus(all, del, names[i], n_queries(), 0x9E3779B97F4A7C15ULL + (uint64_t)i);
        index_close(del);
        eo_close_all(all);
    }
}
END_TEST

START_TEST(prune_enwiki_subset)
{
    char path[600], sub[600];
    if (!eo_corpus("enwiki-2015-sample", path, sizeof path)) {
        printf("SKIP: corpus enwiki-2015-sample not found\n");
        return;
    }
    snprintf(sub, sizeof sub, "%s/enwiki.jsonl", tmp);
    eo_head_lines(path, sub, EO_SANITIZED ? 500 : 1500);
    const char *in[1] = {sub};
    idx_index *all[EO_N_LAYOUTS];
    eo_build_all(tmp, "enwiki", in, 1, eo_build(tmp, "enwiki", in, 1), all);
    idx_index *del = build_deleted("enwiki", in, all[0]);
    run_corpus(all, del, "enwiki subset", EO_SANITIZED ? 400 : 1500, 0xD1B54A32D192ED03ULL);
    index_close(del);
    eo_close_all(all);
}
END_TEST

static void setup(void)
{
    eo_tmpdir(tmp, sizeof tmp, "eval-prune");
}

static void teardown(void)
{
    eo_rmrf(tmp);
}

int main(void)
{
    Suite *s = suite_create("eval_prune");
    TCase *tc = tcase_create("prune_equals_exhaustive");
    /* In the parent: the directory goes even when a test fails. */
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, prune_small_corpora);
    tcase_add_test(tc, prune_enwiki_subset);
    suite_add_tcase(s, tc);
    return test_run(s);
}
