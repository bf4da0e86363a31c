/* Scores are BM25F as specified (docs/FORMAT.md §10, common/bm25.h): every
 * hit's score equals a straightforward computation written here from first
 * principles, over a model of the collection built by analysing every stored
 * title, body and author with ana_run (tf per field, field lengths, df, N,
 * averages), to 1e-5 relative; the set of hits equals the set of documents
 * the query matches in the model. Nothing of the evaluator is reused: the formulas
 * below are the spec's.
 *
 * Clauses: words (title+body), title:word, author:word, exact phrases (title
 * and body, or title:), prefixes (the best of the 128 most frequent
 * expansions), each SHOULD, MUST (+) or MUST_NOT (-). Runs on cranfield (the
 * queries in turn on its 1-, 2- and 7-segment builds: one model) and on
 * a small fixture with known fields, which also pins ties: identical
 * documents score equally and come out in docid order. */
#include <math.h>

#include "match_oracle.h"
#include "tests/unit/testutil.h"

/* BM25 parameters: the ones the index records (its defaults are tuned). */
static double K1, B, WT;

static void use_params(const idx_index *ix)
{
    K1 = ix->meta.bm25.k1;
    B = ix->meta.bm25.b;
    WT = ix->meta.bm25.title_weight;
    EO_REQUIRE(K1 > 0 && B >= 0 && B <= 1 && WT > 0, "odd BM25 parameters %g %g %g", K1, B, WT);
}

enum { C_TERM, C_TITLE, C_AUTHOR, C_PHRASE, C_TPHRASE, C_PREFIX, C_TPREFIX };

typedef struct clause {
    int kind, occur;      /* occur: 0 SHOULD, 1 MUST, 2 MUST_NOT */
    uint32_t t[3], n;     /* term ids (phrases: n terms in order) */
    char word[3][32];     /* the query words */
    uint32_t *exp, n_exp; /* prefix expansions */
} clause;

typedef struct oracle {
    eo_model *m;
    double *idf; /* per term id */
} oracle;

static double idf_of(const oracle *o, uint32_t t)
{
    double n = o->m->n_docs, df = o->m->ti[t].df;
    return log(1.0 + (n - df + 0.5) / (df + 0.5));
}

static double sat(double tfw)
{
    return tfw > 0 ? tfw * (K1 + 1) / (tfw + K1) : 0;
}

static double norm(double len, double avg)
{
    return avg > 0 ? 1 - B + B * len / avg : 1;
}

static uint32_t count_term(const eo_field *f, uint32_t t)
{
    uint32_t c = 0;
    for (uint32_t i = 0; i < f->n; i++)
        c += f->t[i].term == t;
    return c;
}

/* Occurrences of the phrase t[0..n) at consecutive positions. */
static uint32_t count_phrase(const eo_field *f, const uint32_t *t, uint32_t n)
{
    uint32_t c = 0;
    for (uint32_t i = 0; i < f->n; i++) {
        if (f->t[i].term != t[0]) continue;
        uint32_t k = 1;
        /* tokens are in position order; the next positions must follow */
        for (; k < n; k++) {
            int found = 0;
            for (uint32_t j = i + 1; j < f->n && f->t[j].pos <= f->t[i].pos + k; j++)
                if (f->t[j].pos == f->t[i].pos + k && f->t[j].term == t[k]) found = 1;
            if (!found) break;
        }
        c += k == n;
    }
    return c;
}

/* Title/body term score of (tf_title, tf_body) in doc d. */
static double tb_score(const oracle *o, uint32_t d, double idf, uint32_t tft, uint32_t tfb,
                       int title_only)
{
    const eo_doc *doc = &o->m->docs[d];
    double nt = norm(doc->f[EO_TITLE].n, o->m->avg_title);
    double nb = norm(doc->f[EO_BODY].n, o->m->avg_body);
    double tfw = WT * tft / nt + (title_only ? 0 : tfb / nb);
    return idf * sat(tfw);
}

/* The clause's score in d, or -1 if it does not match. */
static double clause_score(const oracle *o, const clause *c, uint32_t d)
{
    const eo_doc *doc = &o->m->docs[d];
    switch (c->kind) {
    case C_TERM:
    case C_TITLE: {
        uint32_t tft = count_term(&doc->f[EO_TITLE], c->t[0]);
        uint32_t tfb = c->kind == C_TITLE ? 0 : count_term(&doc->f[EO_BODY], c->t[0]);
        if (tft + tfb == 0) return -1;
        return tb_score(o, d, o->idf[c->t[0]], tft, tfb, c->kind == C_TITLE);
    }
    case C_AUTHOR: {
        uint32_t tf = count_term(&doc->f[EO_AUTHOR], c->t[0]);
        return tf ? o->idf[c->t[0]] * sat(tf) : -1;
    }
    case C_PHRASE:
    case C_TPHRASE: {
        uint32_t pt = count_phrase(&doc->f[EO_TITLE], c->t, c->n);
        uint32_t pb = c->kind == C_TPHRASE ? 0 : count_phrase(&doc->f[EO_BODY], c->t, c->n);
        if (pt + pb == 0) return -1;
        double idf = 0;
        for (uint32_t i = 0; i < c->n; i++)
            idf += o->idf[c->t[i]];
        return tb_score(o, d, idf, pt, pb, c->kind == C_TPHRASE);
    }
    case C_PREFIX:
    case C_TPREFIX: {
        double best = -1;
        for (uint32_t i = 0; i < c->n_exp; i++) {
            uint32_t t = c->exp[i];
            uint32_t tft = count_term(&doc->f[EO_TITLE], t);
            uint32_t tfb = c->kind == C_TPREFIX ? 0 : count_term(&doc->f[EO_BODY], t);
            if (tft + tfb == 0) continue;
            double v = tb_score(o, d, o->idf[t], tft, tfb, c->kind == C_TPREFIX);
            if (v > best) best = v;
        }
        return best;
    }
    }
    return -1;
}

static eo_model *cf_model;
static int cmp_cf_desc(const void *a, const void *b)
{
    uint64_t x = cf_model->ti[*(const uint32_t *)a].cf, y = cf_model->ti[*(const uint32_t *)b].cf;
    return (x < y) - (x > y);
}

/* The 128 most frequent terms (collection frequency) starting with pre;
 * returns 0 when the 128th and 129th tie (the cut would be arbitrary). */
static int expand(eo_model *m, const char *pre, clause *c)
{
    size_t pl = strlen(pre);
    free(c->exp);
    c->exp = malloc((m->terms.n ? m->terms.n : 1) * sizeof *c->exp);
    c->n_exp = 0;
    for (uint32_t t = 0; t < m->terms.n; t++)
        if (m->terms.len[t] >= pl && memcmp(m->terms.s[t], pre, pl) == 0 &&
            !memchr(m->terms.s[t], ':', m->terms.len[t]))
            c->exp[c->n_exp++] = t;
    cf_model = m;
    qsort(c->exp, c->n_exp, sizeof *c->exp, cmp_cf_desc);
    if (c->n_exp > MATCH_PREFIX_MAX_TERMS) {
        if (m->ti[c->exp[MATCH_PREFIX_MAX_TERMS - 1]].cf ==
            m->ti[c->exp[MATCH_PREFIX_MAX_TERMS]].cf)
            return 0;
        c->n_exp = MATCH_PREFIX_MAX_TERMS;
    }
    return 1;
}

/* Draws one clause; 0 if none could be made. */
static int gen_clause(eo_model *m, const eo_vocab *v, eo_rng *r, int has_author, clause *c)
{
    memset(c, 0, sizeof *c);
    uint32_t x = eo_below(r, 100), d, at;
    c->occur = eo_below(r, 10) < 6 ? 0 : eo_below(r, 2) ? 1 : 2;
    c->n = 1;
    if (x < 45) {
        c->kind = C_TERM;
        c->t[0] = eo_draw_term(m, v, r);
        snprintf(c->word[0], sizeof c->word[0], "%s", eo_term_word(m, c->t[0]));
        return 1;
    }
    if (x < 60 || (x >= 88 && x < 94 && !has_author)) {
        if (!eo_pick_run(m, r, EO_TITLE, 1, &d, &at)) return 0;
        c->kind = C_TITLE;
        c->t[0] = m->docs[d].f[EO_TITLE].t[at].term;
        snprintf(c->word[0], sizeof c->word[0], "%s",
                 m->words.s[m->docs[d].f[EO_TITLE].t[at].word]);
        return 1;
    }
    if (x < 80) {
        int f = eo_below(r, 3) == 0 ? EO_TITLE : EO_BODY;
        c->n = 2 + eo_below(r, 2);
        if (!eo_pick_run(m, r, f, c->n, &d, &at)) return 0;
        c->kind = f == EO_TITLE && eo_below(r, 2) ? C_TPHRASE : C_PHRASE;
        for (uint32_t k = 0; k < c->n; k++) {
            const eo_tok *t = &m->docs[d].f[f].t[at + k];
            c->t[k] = t->term;
            snprintf(c->word[k], sizeof c->word[k], "%s", m->words.s[t->word]);
        }
        return 1;
    }
    if (x < 88) {
        const char *w = eo_term_word(m, eo_draw_term(m, v, r));
        size_t cut = 2 + eo_below(r, 4);
        snprintf(c->word[0], sizeof c->word[0], "%.*s", (int)cut, w);
        c->kind = eo_below(r, 4) == 0 ? C_TPREFIX : C_PREFIX;
        return 1; /* expanded once parsed: the parser decides the prefix */
    }
    if (x < 94) {
        if (!eo_pick_run(m, r, EO_AUTHOR, 1, &d, &at)) return 0;
        c->kind = C_AUTHOR;
        c->t[0] = m->docs[d].f[EO_AUTHOR].t[at].term;
        snprintf(c->word[0], sizeof c->word[0], "%s",
                 m->words.s[m->docs[d].f[EO_AUTHOR].t[at].word]);
        return 1;
    }
    c->kind = C_TERM;
    c->t[0] = eo_draw_term(m, v, r);
    snprintf(c->word[0], sizeof c->word[0], "%s", eo_term_word(m, c->t[0]));
    return 1;
}

static void clause_text(const clause *c, char *out, size_t cap)
{
    const char *mod = c->occur == 1 ? "+" : c->occur == 2 ? "-" : "";
    switch (c->kind) {
    case C_TERM:
        snprintf(out, cap, "%s%s", mod, c->word[0]);
        break;
    case C_TITLE:
        snprintf(out, cap, "%stitle:%s", mod, c->word[0]);
        break;
    case C_AUTHOR:
        snprintf(out, cap, "%sauthor:%s", mod, c->word[0]);
        break;
    case C_PHRASE:
    case C_TPHRASE:
        snprintf(out, cap, "%s%s\"%s %s%s%s\"", mod, c->kind == C_TPHRASE ? "title:" : "",
                 c->word[0], c->word[1], c->n > 2 ? " " : "", c->n > 2 ? c->word[2] : "");
        break;
    case C_PREFIX:
    case C_TPREFIX:
        snprintf(out, cap, "%s%s%s*", mod, c->kind == C_TPREFIX ? "title:" : "", c->word[0]);
        break;
    }
}

typedef struct stats {
    uint32_t queries, hits, docs_checked;
} stats;

static int close_enough(double got, double want)
{
    return fabs(got - want) <= 1e-5 * fabs(want) + 1e-12;
}

/* Runs one query of clauses and checks every hit against the model. */
static void check_clauses(idx_index *ix, oracle *o, ana *a, clause *cl, uint32_t n, stats *st)
{
    char q[1024];
    size_t at = 0;
    int positive = 0;
    for (uint32_t i = 0; i < n; i++) {
        positive |= cl[i].occur != 2;
        clause_text(&cl[i], q + at, sizeof q - at);
        at += strlen(q + at);
        if (i + 1 < n && at + 1 < sizeof q) q[at++] = ' ', q[at] = 0;
    }
    if (!positive) return;
    int rc;
    qparse_tree *t = eo_parse(a, q, 0, &rc);
    EO_REQUIRE(rc == 0, "query [%s] rejected", q);
    /* Prefixes: the parser decides the folded prefix (qparse's business, not
     * the evaluator's); expand what it produced. Root clauses are ours, in order. */
    const qparse_node *root = t->root;
    EO_REQUIRE(n == 1 || (root->kind == Q_BOOL && root->nclauses == n),
               "query [%s]: unexpected tree shape", q);
    for (uint32_t i = 0; i < n; i++) {
        if (cl[i].kind != C_PREFIX && cl[i].kind != C_TPREFIX) continue;
        const qparse_node *x = n == 1 ? root : root->clauses[i].node;
        EO_REQUIRE(x->kind == Q_PREFIX, "query [%s]: clause %u is no prefix", q, i);
        if (!expand(o->m, x->terms[0].text, &cl[i])) {
            qparse_free(t);
            return; /* an arbitrary cut among equally frequent expansions */
        }
    }
    uint32_t N = o->m->n_docs;
    match_result res;
    eo_search(ix, t, N, 0, 1, &res, q);
    /* The model's answer. */
    uint32_t n_must = 0, n_should = 0;
    for (uint32_t i = 0; i < n; i++)
        n_must += cl[i].occur == 1, n_should += cl[i].occur == 0;
    double *want = malloc(N * sizeof *want);
    uint32_t n_match = 0;
    for (uint32_t d = 0; d < N; d++) {
        double sum = 0;
        int ok = 1, any = 0;
        for (uint32_t i = 0; i < n && ok; i++) {
            double s = clause_score(o, &cl[i], d);
            if (cl[i].occur == 2)
                ok = s < 0;
            else if (cl[i].occur == 1)
                ok = s >= 0, sum += s > 0 ? s : 0;
            else if (s >= 0)
                any = 1, sum += s;
        }
        if (ok && !n_must && !any) ok = 0;
        want[d] = ok ? sum : -1;
        n_match += ok;
    }
    st->queries++;
    st->docs_checked += N;
    EO_REQUIRE(res.total == n_match && res.n_hits == n_match,
               "query [%s]: %llu hits (%u returned), model says %u", q,
               (unsigned long long)res.total, res.n_hits, n_match);
    for (uint32_t i = 0; i < res.n_hits; i++) {
        const match_hit *h = &res.hits[i];
        uint32_t d = (uint32_t)eo_global_doc(ix, h);
        EO_REQUIRE(want[d] >= 0, "query [%s]: doc %u is a hit but does not match", q, d);
        EO_REQUIRE(close_enough(h->score, want[d]),
                   "query [%s]: doc %u scores %.12g, BM25F says %.12g", q, d, h->score, want[d]);
        if (i) {
            const match_hit *p = &res.hits[i - 1];
            EO_REQUIRE(p->score > h->score || (p->score == h->score && eo_global_doc(ix, p) < d),
                       "query [%s]: ranks %u/%u out of order", q, i, i + 1);
        }
        st->hits++;
    }
    /* --explain: the parts add up to the score. */
    for (uint32_t i = 0; i < res.n_hits && i < 3; i++) {
        match_options eo = match_options_default(ix);
        match_part *parts = NULL;
        size_t np = 0;
        idx_err err = {0};
        rc = match_explain(ix, t, &eo, res.hits[i].seg, res.hits[i].doc, &parts, &np, &err);
        EO_REQUIRE(rc == 0, "query [%s]: explain: %s", q, err.msg);
        double sum = 0;
        for (size_t k = 0; k < np; k++)
            sum += parts[k].score;
        EO_REQUIRE(close_enough(sum, res.hits[i].score),
                   "query [%s]: explain of doc %u sums to %.12g, score %.12g", q, res.hits[i].doc,
                   sum, res.hits[i].score);
        free(parts);
    }
    free(want);
    match_result_free(&res);
    qparse_free(t);
}

/* all[0] gives the model; the queries go in turn to each of the n_ix indexes
 * (the same documents in other segment layouts). */
static void run_random(idx_index *const *all, int n_ix, const char *name, uint32_t n_queries,
                       uint64_t seed)
{
    idx_index *ix = all[0];
    use_params(ix);
    eo_model m;
    eo_model_build(&m, ix);
    /* The model's view of the collection agrees with the index's. */
    ck_assert_uint_eq(m.n_docs, ix->meta.docs);
    EO_REQUIRE(fabs(m.avg_title - ix->avg_title) < 1e-9 && fabs(m.avg_body - ix->avg_body) < 1e-9,
               "%s: averages %g/%g, index %g/%g", name, m.avg_title, m.avg_body, ix->avg_title,
               ix->avg_body);
    oracle o = {&m, malloc(m.terms.n * sizeof(double))};
    for (uint32_t t = 0; t < m.terms.n; t++)
        o.idf[t] = idf_of(&o, t);
    eo_vocab v;
    eo_vocab_build(&m, &v);
    int has_author = 0;
    for (uint32_t d = 0; d < m.n_docs; d++)
        has_author |= m.docs[d].f[EO_AUTHOR].n > 0;
    eo_rng r = {seed};
    stats st = {0};
    uint32_t kinds[7] = {0};
    while (st.queries < n_queries) {
        clause cl[5];
        uint32_t n = 1 + eo_below(&r, 4), made = 0;
        for (uint32_t i = 0; i < n; i++)
            if (gen_clause(&m, &v, &r, has_author, &cl[made])) kinds[cl[made++].kind]++;
        if (made) check_clauses(all[st.queries % (uint32_t)n_ix], &o, m.a, cl, made, &st);
        for (uint32_t i = 0; i < made; i++)
            free(cl[i].exp);
    }
    for (int k = 0; k < 7; k++)
        EO_REQUIRE(kinds[k] > 0 || (k == C_AUTHOR && !has_author), "%s: no clause of kind %d", name,
                   k);
    ck_assert_uint_gt(st.hits, n_queries);
    printf("%s: %u queries, %u hits checked (clauses: %u term, %u title, %u author, %u phrase, "
           "%u title phrase, %u prefix, %u title prefix)\n",
           name, st.queries, st.hits, kinds[0], kinds[1], kinds[2], kinds[3], kinds[4], kinds[5],
           kinds[6]);
    free(v.t);
    free(o.idf);
    eo_model_free(&m);
}

static char tmp[512];

START_TEST(bm25_cranfield)
{
    char path[600];
    if (!eo_corpus("cranfield", path, sizeof path)) {
        printf("SKIP: corpus cranfield not found\n");
        return;
    }
    const char *in[1] = {path};
    idx_index *all[EO_N_LAYOUTS];
    eo_build_all(tmp, "cranfield", in, 1, eo_build(tmp, "cranfield", in, 1), all);
    run_random(all, EO_N_LAYOUTS, "cranfield (1, 2 and 7 segments)", EO_SANITIZED ? 250 : 700,
               0xA0761D6478BD642FULL);
    eo_close_all(all);
}
END_TEST

/* A fixture with every field known; docs 3 and 4 are identical but for their id. */
static const char *const fixture[] = {
    "{\"id\":\"d0\",\"title\":\"Solar wind and the heliosphere\",\"body\":\"The solar wind "
    "streams from the sun. Wind speeds vary with solar activity and the solar cycle.\","
    "\"author\":\"Ada Lovelace\",\"category\":\"physics\"}",
    "{\"id\":\"d1\",\"title\":\"Wind turbines\",\"body\":\"Turbines convert wind into power. A "
    "turbine farm needs steady wind and good maintenance of every turbine.\","
    "\"author\":\"Grace Hopper\",\"category\":\"engineering\"}",
    "{\"id\":\"d2\",\"title\":\"The sun\",\"body\":\"The sun is a star. Solar physics studies the "
    "sun, its wind, its magnetic field and its cycle.\",\"author\":\"Ada Lovelace; Alan "
    "Turing\"}",
    "{\"id\":\"d3\",\"title\":\"Zebra crossings\",\"body\":\"A zebra crossing helps pedestrians "
    "cross the road safely.\",\"author\":\"Edsger Dijkstra\"}",
    "{\"id\":\"d4\",\"title\":\"Zebra crossings\",\"body\":\"A zebra crossing helps pedestrians "
    "cross the road safely.\",\"author\":\"Edsger Dijkstra\"}",
    "{\"id\":\"d5\",\"title\":\"Power of the wind\",\"body\":\"Wind power wind power wind power: a "
    "long repetitive body about wind power, power lines, power grids and the power of "
    "storms.\",\"author\":\"Grace Hopper\"}",
    "{\"id\":\"d6\",\"title\":\"\",\"body\":\"An untitled note on solar panels and solar "
    "power.\"}",
    "{\"id\":\"d7\",\"title\":\"Storms\",\"body\":\"Storm winds can exceed the speed of sound? No; "
    "but storms bring strong wind, rain and power cuts.\",\"author\":\"Alan Turing\"}",
    "{\"id\":\"d8\",\"title\":\"Solar solar solar\",\"body\":\"Short.\",\"author\":\"Ada\"}",
    "{\"id\":\"d9\",\"title\":\"Cycling in the wind\",\"body\":\"Cyclists hate head wind and love "
    "tail wind. The cycle of seasons changes the wind.\",\"author\":\"Lovelace\"}",
    "{\"id\":\"d10\",\"title\":\"Zebra\",\"body\":\"\",\"author\":\"Zebra Zebra\"}",
};

static idx_index *fixture_index(const char *name)
{
    char in[600];
    snprintf(in, sizeof in, "%s/%s.jsonl", tmp, name);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < sizeof fixture / sizeof *fixture; i++)
        fprintf(f, "%s\n", fixture[i]);
    ck_assert_int_eq(fclose(f), 0);
    const char *inputs[1] = {in};
    return eo_build(tmp, name, inputs, 1);
}

START_TEST(bm25_fixture_random)
{
    idx_index *ix = fixture_index("fixture-random");
    run_random(&ix, 1, "fixture", 400, 0xE7037ED1A0B428DBULL);
    index_close(ix);
}
END_TEST

/* Hand-written expectations on the fixture, from the formulas with the
 * fixture's own numbers. */
START_TEST(bm25_fixture_known)
{
    idx_index *ix = fixture_index("fixture-known");
    use_params(ix);
    ana *a = NULL;
    idx_err err = {0};
    ck_assert_int_eq(ana_new(&ix->meta.ana, &a, &err), 0);
    double N = 11;
    /* Title lengths: 5 2 2 2 2 4 0 1 3 4 1 = 26; bodies: see below. */
    uint32_t tl[11] = {5, 2, 2, 2, 2, 4, 0, 1, 3, 4, 1};
    double at = 26.0 / N;
    EO_REQUIRE(fabs(ix->avg_title - at) < 1e-12, "avg title %g, want %g", ix->avg_title, at);
    for (uint32_t d = 0; d < 11; d++) {
        uint32_t lt, lb;
        seg_doc_lens(ix->segs[0], d, &lt, &lb);
        ck_assert_uint_eq(lt, tl[d]);
    }
    /* Ties: identical documents 3 and 4 score equally, lower docid first. */
    int rc;
    qparse_tree *t = eo_parse(a, "crossing pedestrians", 0, &rc);
    ck_assert_int_eq(rc, 0);
    match_result res;
    eo_search(ix, t, 10, 0, 0, &res, "crossing pedestrians");
    ck_assert_uint_eq(res.n_hits, 2);
    ck_assert_uint_eq(res.hits[0].doc, 3);
    ck_assert_uint_eq(res.hits[1].doc, 4);
    ck_assert(res.hits[0].score == res.hits[1].score);
    match_result_free(&res);
    qparse_free(t);
    /* k = 1 on a tie keeps the lower docid. */
    t = eo_parse(a, "zebra crossing", 0, &rc);
    eo_search(ix, t, 1, 0, 0, &res, "zebra crossing");
    ck_assert_uint_eq(res.n_hits, 1);
    ck_assert_uint_eq(res.hits[0].doc, 3);
    ck_assert_uint_eq(res.total_exact ? res.total : 3, 3);
    match_result_free(&res);
    qparse_free(t);
    /* author:zebra: label term, tf 2, no length normalisation; df 1. */
    t = eo_parse(a, "author:zebra", 0, &rc);
    eo_search(ix, t, 10, 0, 1, &res, "author:zebra");
    ck_assert_uint_eq(res.n_hits, 1);
    ck_assert_uint_eq(res.hits[0].doc, 10);
    double idf1 = log(1 + (N - 1 + 0.5) / (1 + 0.5));
    double want = idf1 * 2 * (K1 + 1) / (2 + K1);
    EO_REQUIRE(close_enough(res.hits[0].score, want), "author:zebra %.12g want %.12g",
               res.hits[0].score, want);
    match_result_free(&res);
    qparse_free(t);
    /* title:solar on doc 8 (title "Solar solar solar", 3 tokens): tf_title 3;
     * df(solar) = docs 0, 2, 6, 8 = 4. */
    t = eo_parse(a, "title:solar", 0, &rc);
    eo_search(ix, t, 10, 0, 1, &res, "title:solar");
    ck_assert_uint_eq(res.n_hits, 2); /* docs 8 and 0 */
    ck_assert_uint_eq(res.hits[0].doc, 8);
    ck_assert_uint_eq(res.hits[1].doc, 0);
    double idf4 = log(1 + (N - 4 + 0.5) / (4 + 0.5));
    double tfw = WT * 3 / (1 - B + B * 3 / at);
    EO_REQUIRE(close_enough(res.hits[0].score, idf4 * sat(tfw)), "title:solar %.12g want %.12g",
               res.hits[0].score, idf4 * sat(tfw));
    match_result_free(&res);
    qparse_free(t);
    ana_free(a);
    index_close(ix);
}
END_TEST

static void setup(void)
{
    eo_tmpdir(tmp, sizeof tmp, "eval-bm25");
}

static void teardown(void)
{
    eo_rmrf(tmp);
}

int main(void)
{
    Suite *s = suite_create("eval_bm25");
    TCase *tc = tcase_create("bm25f");
    /* In the parent: the directory goes even when a test fails. */
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, bm25_fixture_known);
    tcase_add_test(tc, bm25_fixture_random);
    tcase_add_test(tc, bm25_cranfield);
    suite_add_tcase(s, tc);
    return test_run(s);
}
