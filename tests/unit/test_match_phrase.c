/* Phrase matching equals a brute-force scan: for phrases sampled from the
 * corpus text (2 and 3 adjacent words, words a few positions apart, in order
 * and reversed, with and without ~N, title-scoped or not), the documents the
 * evaluator returns (exhaustive, k = every document) are exactly those whose
 * analysed title or body token stream contains the phrase under the rule of
 * docs/QUERY.md: the terms in order, each at least its phrase distance after
 * the previous one, the matched span at most N positions longer than the
 * phrase's own (N = 0: consecutive). A phrase never spans title and body.
 * Exact phrases also have their frequency checked through match_explain.
 * Pruned searches (k 1 and 10, counting every match or none) return the
 * exhaustive top k exactly, scores bit-for-bit.
 *
 * Unordered proximity (`a NEAR/N b`, also title-scoped, three words, a word
 * twice) likewise: a document matches when some window of N + (words - 1)
 * positions holds every word as often as the query names it, in any order;
 * its frequency (checked too) is the number of positions of the words that
 * start such a window.
 *
 * The oracle analyses every stored title and body with ana_run and searches
 * every combination of positions; it shares nothing with the evaluator. The
 * phrases go in turn to the index in one, 2 and 7 segments (docids over
 * the whole index). */
#include "match_oracle.h"
#include "tests/unit/testutil.h"

#define PHRASE_MAX 3 /* terms in a sampled phrase */

typedef struct phrase {
    uint32_t t[PHRASE_MAX], n, slop;
    uint32_t rel[PHRASE_MAX];
    int title_only, unordered;
    char text[256];
} phrase;

/* Does a match of terms k..n-1 exist after position prev (term k-1's), within
 * limit? Counts every choice, so it is the definition, not an algorithm. */
static int match_from(const eo_field *f, const phrase *p, uint32_t k, uint32_t prev, uint64_t limit)
{
    /* n <= PHRASE_MAX, but only the second test shows the optimiser the end of the
     * arrays: unrolling the recursion at -O3 it otherwise warns about rel[3..7]. */
    if (k == p->n || k == PHRASE_MAX) return 1;
    uint64_t lo = (uint64_t)prev + (p->rel[k] - p->rel[k - 1]);
    for (uint32_t j = 0; j < f->n; j++) {
        uint64_t q = f->t[j].pos;
        if (q < lo || q > limit || f->t[j].term != p->t[k]) continue;
        if (match_from(f, p, k + 1, f->t[j].pos, limit)) return 1;
    }
    return 0;
}

/* NEAR occurrences: positions j of a query term whose window [j, j + n - 1 +
 * slop] holds every query term at least as often as the query names it. */
static uint32_t count_near(const eo_field *f, const phrase *p)
{
    uint32_t c = 0;
    for (uint32_t j = 0; j < f->n; j++) {
        int in_query = 0;
        for (uint32_t k = 0; k < p->n; k++)
            in_query |= f->t[j].term == p->t[k];
        if (!in_query) continue;
        uint64_t limit = (uint64_t)f->t[j].pos + p->n - 1 + p->slop;
        int ok = 1;
        for (uint32_t k = 0; k < p->n && ok; k++) {
            uint32_t want = 0, have = 0;
            for (uint32_t i = 0; i < p->n; i++)
                want += p->t[i] == p->t[k];
            for (uint32_t i = 0; i < f->n; i++)
                have +=
                    f->t[i].term == p->t[k] && f->t[i].pos >= f->t[j].pos && f->t[i].pos <= limit;
            ok = have >= want;
        }
        c += (uint32_t)ok;
    }
    return c;
}

/* Occurrences: positions of the first term that start a match. */
static uint32_t count_field(const eo_field *f, const phrase *p)
{
    if (p->unordered) return count_near(f, p);
    uint32_t c = 0;
    for (uint32_t j = 0; j < f->n; j++) {
        if (f->t[j].term != p->t[0]) continue;
        uint64_t limit = (uint64_t)f->t[j].pos + p->rel[p->n - 1] + p->slop;
        c += (uint32_t)match_from(f, p, 1, f->t[j].pos, limit);
    }
    return c;
}

typedef struct stats {
    uint32_t queries, matched_docs, empty, sloppy, freq_checked, near, pruned;
} stats;

/* The pruned top k (k 1 and 10) equals the top of res, the exhaustive run:
 * counting every match up to the default limit (candidates that cannot enter
 * the top k are only found to occur, not counted) and counting nothing
 * (candidates are rejected by their frequency bound). Same documents, scores
 * bit-for-bit, totals by match.h's rule. */
static void check_pruned(idx_index *ix, const qparse_tree *t, const char *q,
                         const match_result *res, stats *st)
{
    static const uint32_t ks[2] = {1, 10};
    static const uint64_t limits[2] = {MATCH_COUNT_LIMIT, 0};
    for (int i = 0; i < 2; i++)
        for (int l = 0; l < 2; l++) {
            match_result pr;
            eo_search_limit(ix, t, ks[i], 0, 0, limits[l], &pr, q);
            uint32_t n = res->n_hits < ks[i] ? res->n_hits : ks[i];
            EO_REQUIRE(pr.n_hits == n, "query [%s] k=%u limit %llu: %u hits, want %u", q, ks[i],
                       (unsigned long long)limits[l], pr.n_hits, n);
            for (uint32_t h = 0; h < n; h++)
                EO_REQUIRE(pr.hits[h].seg == res->hits[h].seg &&
                               pr.hits[h].doc == res->hits[h].doc &&
                               pr.hits[h].score == res->hits[h].score,
                           "query [%s] k=%u limit %llu rank %u: doc %u %.17g, want doc %u %.17g", q,
                           ks[i], (unsigned long long)limits[l], h + 1, pr.hits[h].doc,
                           pr.hits[h].score, res->hits[h].doc, res->hits[h].score);
            int exact = res->total <= limits[l];
            EO_REQUIRE(pr.total_exact == exact && pr.total == (exact ? res->total : limits[l]),
                       "query [%s] k=%u limit %llu: total %llu, %llu matches", q, ks[i],
                       (unsigned long long)limits[l], (unsigned long long)pr.total,
                       (unsigned long long)res->total);
            match_result_free(&pr);
        }
    st->pruned += res->total > 10;
}

static void check_phrase(idx_index *ix, eo_model *m, ana *a, phrase *p, stats *st)
{
    int rc;
    qparse_tree *t = eo_parse(a, p->text, 0, &rc);
    EO_REQUIRE(rc == 0, "query [%s] rejected", p->text);
    const qparse_node *r = t->root;
    EO_REQUIRE(r->kind == Q_PHRASE && r->nterms == p->n && r->slop == p->slop &&
                   r->unordered == p->unordered,
               "query [%s]: not parsed as the phrase meant", p->text);
    for (uint32_t i = 0; i < p->n; i++)
        EO_REQUIRE(r->terms[i].pos == p->rel[i], "query [%s]: positions", p->text);
    uint32_t N = m->n_docs;
    match_result res;
    eo_search(ix, t, N, 0, 1, &res, p->text);
    /* Brute force: every document containing the first term (a NEAR needs
     * it too). */
    uint8_t *want = calloc(N, 1);
    uint32_t *pf = calloc(2 * (size_t)N, sizeof *pf);
    uint32_t n_want = 0;
    const eo_term *t0 = &m->ti[p->t[0]];
    for (uint32_t i = 0; i < t0->df; i++) {
        uint32_t d = t0->docs[i];
        pf[2 * d] = count_field(&m->docs[d].f[EO_TITLE], p);
        pf[2 * d + 1] = p->title_only ? 0 : count_field(&m->docs[d].f[EO_BODY], p);
        want[d] = pf[2 * d] + pf[2 * d + 1] > 0;
        n_want += want[d];
    }
    uint8_t *got = calloc(N, 1);
    for (uint32_t i = 0; i < res.n_hits; i++) {
        uint32_t d = (uint32_t)eo_global_doc(ix, &res.hits[i]);
        EO_REQUIRE(!got[d], "query [%s]: doc %u returned twice", p->text, d);
        got[d] = 1;
        EO_REQUIRE(want[d], "query [%s]: doc %u is a hit but does not contain the phrase", p->text,
                   d);
    }
    for (uint32_t d = 0; d < N; d++)
        EO_REQUIRE(got[d] || !want[d], "query [%s]: doc %u contains the phrase but is missed",
                   p->text, d);
    EO_REQUIRE(res.total == n_want && res.total_exact, "query [%s]: total %llu, want %u", p->text,
               (unsigned long long)res.total, n_want);
    /* Phrase frequencies of exact phrases and NEARs (match_explain reports them). */
    for (uint32_t i = 0; i < res.n_hits && i < 3 && (p->slop == 0 || p->unordered); i++) {
        match_options o = match_options_default(ix);
        match_part *parts = NULL;
        size_t np = 0;
        idx_err err = {0};
        uint32_t d = (uint32_t)eo_global_doc(ix, &res.hits[i]);
        rc = match_explain(ix, t, &o, res.hits[i].seg, res.hits[i].doc, &parts, &np, &err);
        EO_REQUIRE(rc == 0 && np == 1, "query [%s]: explain %d, %zu parts", p->text, rc, np);
        EO_REQUIRE(parts[0].tf_title == pf[2 * d] && parts[0].tf_body == pf[2 * d + 1],
                   "query [%s] doc %u: phrase frequency %u/%u, want %u/%u", p->text, d,
                   parts[0].tf_title, parts[0].tf_body, pf[2 * d], pf[2 * d + 1]);
        st->freq_checked++;
        free(parts);
    }
    check_pruned(ix, t, p->text, &res, st);
    st->queries++;
    st->matched_docs += n_want;
    st->empty += n_want == 0;
    st->sloppy += p->slop > 0;
    st->near += p->unordered;
    free(want);
    free(pf);
    free(got);
    match_result_free(&res);
    qparse_free(t);
}

/* Writes p->text from the words of the chosen tokens. */
static void phrase_text(eo_model *m, phrase *p, const uint32_t *words)
{
    if (p->unordered) {
        size_t at = (size_t)snprintf(p->text, sizeof p->text, "%s", p->title_only ? "title:" : "");
        for (uint32_t k = 0; k < p->n; k++) {
            if (k && p->slop == QPARSE_NEAR_DEFAULT)
                at += (size_t)snprintf(p->text + at, sizeof p->text - at, " NEAR ");
            else if (k)
                at += (size_t)snprintf(p->text + at, sizeof p->text - at, " NEAR/%u ", p->slop);
            at += (size_t)snprintf(p->text + at, sizeof p->text - at, "%s", m->words.s[words[k]]);
        }
        return;
    }
    size_t at = (size_t)snprintf(p->text, sizeof p->text, "%s\"", p->title_only ? "title:" : "");
    for (uint32_t k = 0; k < p->n; k++)
        at += (size_t)snprintf(p->text + at, sizeof p->text - at, "%s%s", k ? " " : "",
                               m->words.s[words[k]]);
    if (p->slop)
        snprintf(p->text + at, sizeof p->text - at, "\"~%u", p->slop);
    else
        snprintf(p->text + at, sizeof p->text - at, "\"");
}

/* One random phrase; 0 if the draw found nothing usable. */
static int gen_phrase(eo_model *m, eo_rng *r, phrase *p)
{
    memset(p, 0, sizeof *p);
    uint32_t x = eo_below(r, 100), d, at, words[PHRASE_MAX];
    int f = eo_below(r, 4) == 0 ? EO_TITLE : EO_BODY;
    p->title_only = f == EO_TITLE && eo_below(r, 2);
    if (x < 70) { /* adjacent words, sometimes with slack */
        p->n = 2 + eo_below(r, 2);
        if (!eo_pick_run(m, r, f, p->n, &d, &at)) return 0;
        for (uint32_t k = 0; k < p->n; k++) {
            const eo_tok *t = &m->docs[d].f[f].t[at + k];
            p->t[k] = t->term;
            p->rel[k] = k;
            words[k] = t->word;
        }
        if (x >= 50) p->slop = 1 + eo_below(r, 4);
        /* A 3-word phrase with its last two words swapped: in order only. */
        if (p->n == 3 && eo_below(r, 3) == 0) {
            uint32_t tt = p->t[1], w = words[1];
            p->t[1] = p->t[2], words[1] = words[2];
            p->t[2] = tt, words[2] = w;
        }
    } else { /* two words 1..6 positions apart, in order or reversed */
        uint32_t gap = 1 + eo_below(r, 6);
        if (!eo_pick_run(m, r, f, 1, &d, &at)) return 0;
        const eo_field *fl = &m->docs[d].f[f];
        uint32_t j = at + gap;
        if (j >= fl->n || fl->t[j].word == UINT32_MAX ||
            eo_word_term(m, m->words.s[fl->t[j].word], "") != fl->t[j].term)
            return 0;
        int rev = eo_below(r, 3) == 0;
        const eo_tok *a = &fl->t[rev ? j : at], *b = &fl->t[rev ? at : j];
        p->n = 2;
        p->t[0] = a->term, p->t[1] = b->term;
        p->rel[0] = 0, p->rel[1] = 1;
        words[0] = a->word, words[1] = b->word;
        p->slop = eo_below(r, 7);
    }
    /* A quarter become NEARs of the same words (each must be one term on
     * its own), some reversed, some with a word twice. */
    if (eo_below(r, 4) == 0) {
        for (uint32_t k = 0; k < p->n; k++)
            if (eo_word_term(m, m->words.s[words[k]], "") != p->t[k]) return 0;
        p->unordered = 1;
        p->slop = eo_below(r, 4) == 0 ? QPARSE_NEAR_DEFAULT : eo_below(r, 7);
        if (eo_below(r, 2)) {
            uint32_t tt = p->t[0], w = words[0];
            p->t[0] = p->t[p->n - 1], words[0] = words[p->n - 1];
            p->t[p->n - 1] = tt, words[p->n - 1] = w;
        }
        if (eo_below(r, 6) == 0) p->t[1] = p->t[0], words[1] = words[0];
        for (uint32_t k = 0; k < p->n; k++)
            p->rel[k] = k;
    }
    phrase_text(m, p, words);
    return 1;
}

static void run_corpus(idx_index *const *all, const char *name, uint32_t n_queries, uint64_t seed)
{
    idx_index *ix = all[0]; /* the model's */
    eo_model m;
    eo_model_build(&m, ix);
    ana *a = NULL;
    idx_err err = {0};
    ck_assert_int_eq(ana_new(&ix->meta.ana, &a, &err), 0);
    eo_rng r = {seed};
    stats st = {0};
    uint32_t misses = 0;
    while (st.queries < n_queries) {
        phrase p;
        if (!gen_phrase(&m, &r, &p)) {
            EO_REQUIRE(++misses < 20 * n_queries, "%s: no phrases to draw", name);
            continue;
        }
        check_phrase(all[st.queries % EO_N_LAYOUTS], &m, a, &p, &st);
    }
    ck_assert_uint_gt(st.sloppy, n_queries / 5);
    ck_assert_uint_gt(st.empty, 0);
    ck_assert_uint_lt(st.empty, n_queries / 2);
    ck_assert_uint_gt(st.near, n_queries / 10);
    ck_assert_uint_gt(st.pruned, n_queries / 10);
    printf("%s: %u phrases (%u with ~N, %u NEAR, %u matching nothing), %u matching documents, "
           "%u frequencies checked, %u with more than 10 matches pruned\n",
           name, st.queries, st.sloppy, st.near, st.empty, st.matched_docs, st.freq_checked,
           st.pruned);
    ana_free(a);
    eo_model_free(&m);
}

static char tmp[512];

static void corpus_test(const char *name, uint32_t n, uint64_t seed)
{
    char path[600];
    if (!eo_corpus(name, path, sizeof path)) {
        printf("SKIP: corpus %s not found\n", name);
        return;
    }
    const char *in[1] = {path};
    idx_index *all[EO_N_LAYOUTS];
    eo_build_all(tmp, name, in, 1, eo_build(tmp, name, in, 1), all);
    run_corpus(all, name, n, seed);
    eo_close_all(all);
}

START_TEST(phrase_cranfield)
{
    corpus_test("cranfield", EO_SANITIZED ? 500 : 1500, 0x8EBC6AF09C88C6E3ULL);
}
END_TEST

START_TEST(phrase_cacm)
{
    corpus_test("cacm", EO_SANITIZED ? 500 : 1500, 0x589965CC75374CC3ULL);
}
END_TEST

START_TEST(phrase_bbc)
{
    corpus_test("bbc", EO_SANITIZED ? 300 : 1000, 0x1D8E4E27C47D124FULL);
}
END_TEST

static void setup(void)
{
    eo_tmpdir(tmp, sizeof tmp, "eval-phrase");
}

static void teardown(void)
{
    eo_rmrf(tmp);
}

int main(void)
{
    Suite *s = suite_create("eval_phrase");
    TCase *tc = tcase_create("phrase_brute_force");
    /* In the parent: the directory goes even when a test fails. */
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, phrase_cranfield);
    tcase_add_test(tc, phrase_cacm);
    tcase_add_test(tc, phrase_bbc);
    suite_add_tcase(s, tc);
    return test_run(s);
}
