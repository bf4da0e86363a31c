#include "searcher/match.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/segment.h"
#include "searcher/match_xapian.h"

/* ---- scorers: one per query-tree node, over one segment ---- */

typedef enum { SC_TERM, SC_PHRASE, SC_PREFIX, SC_BOOL, SC_DATE, SC_NONE } sc_kind;

typedef struct sc sc;

typedef struct ev {
    idx_index *ix;
    seg *s;
    uint32_t seg_no;
    const match_options *o;
    bm25_params p;
    double n_docs;
    int bounds_ok; /* stored block bounds are valid for these parameters */
    double theta;  /* the score a new hit must beat now; -inf when none (or exhaustive) */
    int pruned;    /* some document was skipped by a bound: totals are lower bounds */
    int rc;        /* sticky first error */
    idx_err *err;
    /* per-document length norms, cached for the document being scored */
    uint32_t norm_doc;
    double inv_title, inv_body;
    const double *inv_norm; /* index_open's inverse norms, when they fit these parameters */
    /* positions scratch for phrases */
    uint32_t *pos;
    size_t pos_cap;
    uint32_t n_scorers; /* opened in this segment, bounded by MATCH_MAX_SCORERS */
} ev;

struct sc {
    sc_kind kind;
    qparse_field field;
    int filter;       /* matches without scoring: a date range, or a group of them */
    uint32_t doc;     /* current document, SEG_END when exhausted */
    double max_score; /* no document scores above this */
    double other_max; /* root phrases: the most the other root clauses can add */
    /* cached score of `doc` */
    uint32_t scored_doc;
    double score;
    /* SC_TERM */
    seg_cursor cur;
    uint32_t blk_from, blk_upto; /* cached block-max bound for docs in [from, upto] */
    double blk_bound;
    double idf;
    int label_term;             /* author:/category: terms: no length normalisation */
    char key[SEG_MAX_TERM + 1]; /* the term as stored, for --explain */
    size_t key_len;
    /* SC_PHRASE */
    sc **terms;    /* SC_TERM children, in phrase order */
    sc **by_df;    /* the same, rarest first: the order the leapfrog moves them in */
    uint32_t *rel; /* relative positions */
    uint32_t n_terms, slop;
    uint32_t pf_title, pf_body;
    int confirmed; /* positions checked at `doc` (two-phase matching) */
    /* SC_PREFIX and SC_BOOL children */
    sc **kids;
    qparse_occur *occur;
    uint32_t n_kids;
    uint32_t n_must;
    int musts_match; /* some MUST clause is more than a filter: SHOULDs are optional */
    /* SC_DATE */
    uint32_t lo, hi;
};

static int match_fail(ev *e, int rc)
{
    if (!e->rc) e->rc = rc ? rc : IDX_EINTERNAL;
    return e->rc;
}

/* The document's inverse length norms (title, body): precomputed by
 * index_open for the index's own b, computed here for another. */
static void match_norms(ev *e, uint32_t doc)
{
    if (e->norm_doc == doc) return;
    if (e->inv_norm) {
        e->inv_title = e->inv_norm[2 * (size_t)doc];
        e->inv_body = e->inv_norm[2 * (size_t)doc + 1];
    } else {
        uint32_t lt, lb;
        seg_doc_lens(e->s, doc, &lt, &lb);
        e->inv_title = 1.0 / bm25_norm(&e->p, lt, e->ix->avg_title);
        e->inv_body = 1.0 / bm25_norm(&e->p, lb, e->ix->avg_body);
    }
    e->norm_doc = doc;
}

/* The idf-free score of frequencies in `field` scope (bm25.h's formula,
 * multiplying by inverse norms). */
static double match_sat(ev *e, qparse_field field, int label, uint32_t doc, uint32_t tf_title,
                     uint32_t tf_body)
{
    if (label) return bm25_sat(&e->p, (double)tf_body);
    match_norms(e, doc);
    double tfw = e->p.title_weight * tf_title * e->inv_title;
    if (field != QF_TITLE) tfw += tf_body * e->inv_body;
    return bm25_sat(&e->p, tfw);
}

static sc *sc_alloc(ev *e, sc_kind kind, qparse_field field)
{
    if (++e->n_scorers > MATCH_MAX_SCORERS) {
        match_fail(e, err_set(e->err, IDX_EUSAGE,
                           "query: too large: more than %u terms and operators after prefix "
                           "expansion",
                           MATCH_MAX_SCORERS));
        return NULL;
    }
    sc *s = calloc(1, sizeof *s);
    if (!s) {
        match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
        return NULL;
    }
    s->kind = kind;
    s->field = field;
    s->doc = SEG_END;
    s->blk_from = 1;
    s->blk_upto = 0; /* empty range: nothing cached */
    s->other_max = INFINITY;
    s->scored_doc = SEG_END;
    return s;
}

static void sc_free(sc *s)
{
    if (!s) return;
    for (uint32_t i = 0; i < s->n_terms; i++)
        sc_free(s->terms[i]);
    for (uint32_t i = 0; i < s->n_kids; i++)
        sc_free(s->kids[i]);
    free(s->terms);
    free(s->by_df);
    free(s->rel);
    free(s->kids);
    free(s->occur);
    free(s);
}

/* Total df of a term over all segments, for a collection-wide idf. */
static int match_global_df(ev *e, const char *t, size_t len, uint64_t *df)
{
    *df = 0;
    for (uint32_t i = 0; i < e->ix->n_segs; i++) {
        seg_term st;
        int r = seg_lookup(e->ix->segs[i], t, len, &st, e->err);
        if (r < 0) return match_fail(e, r);
        if (r) *df += st.df;
    }
    return 0;
}

static int sc_next(ev *e, sc *s, uint32_t target);
static void phrase_advance(ev *e, sc *s, uint32_t target);
static void bool_advance(ev *e, sc *s, uint32_t target);
static void date_advance(ev *e, sc *s, uint32_t target);

/* A term scorer; `key` is the term as stored (field prefix included). */
static sc *sc_term(ev *e, const char *key, size_t len, qparse_field field)
{
    sc *s = sc_alloc(e, SC_TERM, field);
    if (!s) return NULL;
    s->label_term = field == QF_AUTHOR || field == QF_CATEGORY;
    if (len > SEG_MAX_TERM) return s; /* longer than any stored term: matches nothing */
    memcpy(s->key, key, len);
    s->key_len = len;
    seg_term t;
    int r = seg_lookup(e->s, key, len, &t, e->err);
    if (r < 0) {
        match_fail(e, r);
        return s;
    }
    if (r == 0) return s; /* absent here: matches nothing in this segment */
    uint64_t df = t.df;
    /* With one segment its df is the collection's: no second lookup. */
    if (e->ix->n_segs > 1 && match_global_df(e, key, len, &df)) return s;
    s->idf = bm25_idf(e->n_docs, (double)df);
    s->max_score = s->idf * (e->bounds_ok ? (double)t.bound : e->p.k1 + 1.0);
    r = seg_cursor_open(e->s, &t, &s->cur, e->err);
    if (r) {
        match_fail(e, r);
        return s;
    }
    s->doc = s->cur.doc;
    if (field == QF_TITLE && s->doc != SEG_END && s->cur.tf_title == 0) sc_next(e, s, s->doc + 1);
    return s;
}

int match_term_key(qparse_field field, const char *t, size_t len, char *out, size_t cap,
                size_t *out_len)
{
    const char *prefix = field == QF_AUTHOR     ? SEG_PREFIX_AUTHOR
                         : field == QF_CATEGORY ? SEG_PREFIX_CATEGORY
                                                : "";
    size_t pl = strlen(prefix);
    if (pl + len > cap) return -1;
    memcpy(out, prefix, pl);
    memcpy(out + pl, t, len);
    *out_len = pl + len;
    return 0;
}

static sc *sc_build(ev *e, const qparse_node *n);

static int cmp_df(const void *a, const void *b)
{
    const sc *x = *(sc *const *)a, *y = *(sc *const *)b;
    return (x->cur.t.df > y->cur.t.df) - (x->cur.t.df < y->cur.t.df);
}

static sc *sc_phrase(ev *e, const qparse_node *n)
{
    sc *s = sc_alloc(e, SC_PHRASE, n->field);
    if (!s) return NULL;
    if (n->nterms > MATCH_PHRASE_MAX_TERMS) {
        match_fail(e, err_set(e->err, IDX_EUSAGE, "query: a phrase may have at most %d words",
                           MATCH_PHRASE_MAX_TERMS));
        return s;
    }
    s->terms = calloc(n->nterms, sizeof *s->terms);
    s->rel = calloc(n->nterms, sizeof *s->rel);
    if (!s->terms || !s->rel) {
        match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
        return s;
    }
    double idf = 0;
    int absent = 0;
    for (uint32_t i = 0; i < n->nterms; i++) {
        char key[SEG_MAX_TERM + 8];
        size_t kl;
        if (match_term_key(n->field, n->terms[i].text, n->terms[i].len, key, sizeof key, &kl))
            absent = 1;
        s->terms[i] = absent ? NULL : sc_term(e, key, kl, n->field == QF_TITLE ? QF_ANY : n->field);
        s->n_terms = i + 1;
        if (!s->terms[i] || s->terms[i]->doc == SEG_END)
            absent = 1;
        else
            idf += s->terms[i]->idf;
        s->rel[i] = n->terms[i].pos;
        if (absent) break;
    }
    s->slop = n->slop;
    if (!absent && !e->rc) {
        s->by_df = malloc(s->n_terms * sizeof *s->by_df);
        if (!s->by_df) {
            match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
            return s;
        }
        memcpy(s->by_df, s->terms, s->n_terms * sizeof *s->by_df);
        qsort(s->by_df, s->n_terms, sizeof *s->by_df, cmp_df);
    }
    s->idf = idf;
    s->label_term = n->field == QF_AUTHOR || n->field == QF_CATEGORY;
    s->max_score = idf * (e->p.k1 + 1.0);
    if (!absent && !e->rc) phrase_advance(e, s, 0);
    return s;
}

static int prefix_cmp_cf(const void *a, const void *b)
{
    const seg_term *x = a, *y = b;
    return (x->cf < y->cf) - (x->cf > y->cf);
}

typedef struct prefix_cand {
    seg_term t; /* cf (over all segments) used for ranking */
    char term[SEG_MAX_TERM + 1];
    size_t len;
} prefix_cand;

/* Ties break by byte order, so which expansions are kept never depends on
 * qsort's order (and the Xapian engine keeps the same ones). */
static int cand_cmp(const void *a, const void *b)
{
    const prefix_cand *x = a, *y = b;
    int c = prefix_cmp_cf(&x->t, &y->t);
    if (c) return c;
    c = memcmp(x->term, y->term, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* The lexicons of all segments merged in byte order, from a start term, with
 * each term's cf summed over them: every segment then expands a prefix to
 * the same, collection-wide most frequent terms. */
typedef struct lex_merge {
    uint32_t n;
    seg_lex_iter it[INDEX_MAX_SEGMENTS];
    seg_term t[INDEX_MAX_SEGMENTS];
    int live[INDEX_MAX_SEGMENTS];
    char term[SEG_MAX_TERM + 1]; /* the current merged term */
    size_t len;
    uint64_t cf;
} lex_merge;

static int lex_merge_seek(const idx_index *ix, lex_merge *m, const char *from, size_t len,
                          idx_err *err)
{
    m->n = ix->n_segs;
    for (uint32_t i = 0; i < m->n; i++) {
        int r = seg_lex_seek(ix->segs[i], from, len, &m->it[i], err);
        if (!r) r = seg_lex_next(&m->it[i], &m->t[i], err);
        if (r < 0) return r;
        m->live[i] = r;
    }
    return 0;
}

static int lex_cmp(const seg_lex_iter *a, const seg_lex_iter *b)
{
    int c = memcmp(a->term, b->term, a->term_len < b->term_len ? a->term_len : b->term_len);
    return c ? c : (a->term_len > b->term_len) - (a->term_len < b->term_len);
}

/* 1 with the next term in m->term/len/cf, 0 at the end, <0 on damage. */
static int lex_merge_next(lex_merge *m, idx_err *err)
{
    const seg_lex_iter *min = NULL;
    for (uint32_t i = 0; i < m->n; i++)
        if (m->live[i] && (!min || lex_cmp(&m->it[i], min) < 0)) min = &m->it[i];
    if (!min) return 0;
    memcpy(m->term, min->term, min->term_len);
    m->len = min->term_len;
    m->cf = 0;
    for (uint32_t i = 0; i < m->n; i++) {
        if (!m->live[i] || m->it[i].term_len != m->len || memcmp(m->it[i].term, m->term, m->len))
            continue;
        m->cf += m->t[i].cf;
        int r = seg_lex_next(&m->it[i], &m->t[i], err);
        if (r < 0) return r;
        m->live[i] = r;
    }
    return 1;
}

/* Expands a prefix against the lexicon of the whole index: the
 * MATCH_PREFIX_MAX_TERMS most frequent matching terms; rarer expansions are
 * dropped (docs/QUERY.md). */
static sc *sc_prefix(ev *e, const qparse_node *n)
{
    sc *s = sc_alloc(e, SC_PREFIX, n->field);
    if (!s) return NULL;
    char key[SEG_MAX_TERM + 8];
    size_t kl;
    if (match_term_key(n->field, n->terms[0].text, n->terms[0].len, key, sizeof key, &kl)) return s;
    size_t cap = 256, nc = 0;
    prefix_cand *c = malloc(cap * sizeof *c);
    if (!c) {
        match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
        return s;
    }
    lex_merge *it = malloc(sizeof *it);
    int r = it ? lex_merge_seek(e->ix, it, key, kl, e->err)
               : err_set(e->err, IDX_ENOMEM, "out of memory");
    while (!r && (r = lex_merge_next(it, e->err)) == 1) {
        r = 0;
        if (it->len < kl || memcmp(it->term, key, kl)) break;
        /* Unscoped prefixes must not reach into author:/category: terms. */
        if ((n->field == QF_ANY || n->field == QF_TITLE) && memchr(it->term, ':', it->len))
            continue;
        if (nc == cap) {
            /* Keep the list bounded: sort and keep the best half. */
            qsort(c, nc, sizeof *c, cand_cmp);
            nc = MATCH_PREFIX_MAX_TERMS;
        }
        c[nc].t.cf = it->cf;
        memcpy(c[nc].term, it->term, it->len);
        c[nc].len = it->len;
        nc++;
    }
    free(it);
    if (r < 0) {
        free(c);
        match_fail(e, r);
        return s;
    }
    qsort(c, nc, sizeof *c, cand_cmp);
    if (nc > MATCH_PREFIX_MAX_TERMS) nc = MATCH_PREFIX_MAX_TERMS;
    s->kids = calloc(nc ? nc : 1, sizeof *s->kids);
    if (!s->kids) {
        free(c);
        match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
        return s;
    }
    uint32_t min = SEG_END;
    for (size_t i = 0; i < nc && !e->rc; i++) {
        sc *k = sc_term(e, c[i].term, c[i].len, n->field);
        if (!k) break;
        s->kids[s->n_kids++] = k;
        if (k->max_score > s->max_score) s->max_score = k->max_score;
        if (k->doc < min) min = k->doc;
    }
    free(c);
    s->doc = min;
    return s;
}

static sc *sc_bool(ev *e, const qparse_node *n)
{
    sc *s = sc_alloc(e, SC_BOOL, QF_ANY);
    if (!s) return NULL;
    s->kids = calloc(n->nclauses ? n->nclauses : 1, sizeof *s->kids);
    s->occur = calloc(n->nclauses ? n->nclauses : 1, sizeof *s->occur);
    if (!s->kids || !s->occur) {
        match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
        return s;
    }
    int all_filters = 1;
    for (uint32_t i = 0; i < n->nclauses && !e->rc; i++) {
        sc *k = sc_build(e, n->clauses[i].node);
        if (!k) break;
        s->kids[s->n_kids] = k;
        s->occur[s->n_kids++] = n->clauses[i].occur;
        if (n->clauses[i].occur == Q_MUST) s->n_must++;
        if (n->clauses[i].occur != Q_MUST_NOT) {
            s->max_score += k->max_score;
            all_filters &= k->filter;
        }
    }
    s->filter = all_filters;
    /* Filters alone do not make a match when there are words to match too:
     * `cats date:2019` means cats from 2019 (docs/QUERY.md). */
    for (uint32_t i = 0; i < s->n_kids; i++)
        if (s->occur[i] == Q_MUST && !s->kids[i]->filter) s->musts_match = 1;
    if (!e->rc && s->n_kids) bool_advance(e, s, 0);
    return s;
}

static sc *sc_date(ev *e, const qparse_node *n)
{
    sc *s = sc_alloc(e, SC_DATE, QF_ANY);
    if (!s) return NULL;
    s->lo = n->date_lo;
    s->hi = n->date_hi;
    s->filter = 1;
    date_advance(e, s, 0);
    return s;
}

static sc *sc_build(ev *e, const qparse_node *n)
{
    switch (n->kind) {
    case Q_TERM: {
        char key[SEG_MAX_TERM + 8];
        size_t kl;
        if (match_term_key(n->field, n->terms[0].text, n->terms[0].len, key, sizeof key, &kl))
            return sc_alloc(e, SC_NONE, n->field);
        return sc_term(e, key, kl, n->field);
    }
    case Q_PHRASE:
        return sc_phrase(e, n);
    case Q_PREFIX:
        return sc_prefix(e, n);
    case Q_BOOL:
        return sc_bool(e, n);
    case Q_DATE:
        return sc_date(e, n);
    }
    return sc_alloc(e, SC_NONE, QF_ANY);
}

/* ---- iteration ---- */

static void term_advance(ev *e, sc *s, uint32_t target)
{
    int r = seg_cursor_seek(&s->cur, target, e->err);
    while (!r && s->field == QF_TITLE && s->cur.doc != SEG_END && s->cur.tf_title == 0)
        r = seg_cursor_next(&s->cur, e->err);
    if (r) match_fail(e, r);
    s->doc = r ? SEG_END : s->cur.doc;
}

/* Counts phrase occurrences among sorted position lists (docs/QUERY.md): a
 * position p of the first term starts one when the other terms follow in
 * order, each at least its phrase distance after the previous one, and the
 * whole match spans at most `slop` positions more than the phrase. Choosing
 * the earliest position for every term gives the shortest span, and since p
 * only grows, each term's cursor only moves forward. */
static uint32_t phrase_count(uint32_t n, uint32_t *const *pos, const uint32_t *cnt,
                             const uint32_t *rel, uint32_t slop)
{
    uint32_t found = 0;
    uint32_t at[MATCH_PHRASE_MAX_TERMS] = {0};
    for (uint32_t a = 0; a < cnt[0]; a++) {
        uint64_t p = pos[0][a], prev = p;
        uint64_t limit = p + rel[n - 1] + slop;
        int ok = 1;
        for (uint32_t i = 1; i < n && ok; i++) {
            uint64_t lo = prev + (rel[i] - rel[i - 1]);
            while (at[i] < cnt[i] && pos[i][at[i]] < lo)
                at[i]++;
            ok = at[i] < cnt[i] && pos[i][at[i]] <= limit - (rel[n - 1] - rel[i]);
            if (ok) prev = pos[i][at[i]];
        }
        found += (uint32_t)ok;
    }
    return found;
}

/* The largest position term i can need when the pivot's last position is
 * `last`: last - rel_pivot + rel_i, saturating (a field where even that is
 * below 0 needs nothing, and position 0 stays decodable, so 0 is safe). */
static uint32_t pos_limit(uint32_t last, uint32_t rel_i, uint32_t rel_pivot)
{
    uint64_t v = (uint64_t)last + rel_i;
    return v < rel_pivot ? 0 : (uint32_t)(v - rel_pivot > UINT32_MAX ? UINT32_MAX : v - rel_pivot);
}

/* Exact-phrase occurrences, driven by the pivot term (the one with the fewest
 * positions here): each of its positions fixes where every other term must
 * be, which a binary search checks. Costs pivot positions x log(others)
 * instead of walking every list, which matters when a phrase holds "the". */
static uint32_t phrase_count_exact(uint32_t n, uint32_t *const *pos, const uint32_t *cnt,
                                   const uint32_t *rel, uint32_t pivot)
{
    uint32_t found = 0;
    for (uint32_t a = 0; a < cnt[pivot]; a++) {
        if (pos[pivot][a] < rel[pivot]) continue;
        uint64_t start = pos[pivot][a] - rel[pivot];
        uint32_t i = 0;
        for (; i < n; i++) {
            if (i == pivot) continue;
            uint64_t want = start + rel[i];
            uint32_t lo = 0, hi = cnt[i];
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (pos[i][mid] < want)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo == cnt[i] || pos[i][lo] != want) break;
        }
        found += i == n;
    }
    return found;
}

static int phrase_positions(ev *e, sc *s)
{
    size_t need = 0;
    uint32_t pivot = 0;
    for (uint32_t i = 0; i < s->n_terms; i++) {
        seg_cursor *c = &s->terms[i]->cur;
        need += (size_t)c->tf_title + c->tf_body;
        seg_cursor *pc = &s->terms[pivot]->cur;
        if (c->tf_title + c->tf_body < pc->tf_title + pc->tf_body) pivot = i;
    }
    if (need > e->pos_cap) {
        uint32_t *p = realloc(e->pos, need * sizeof *p);
        if (!p) return match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
        e->pos = p;
        e->pos_cap = need;
    }
    uint32_t *tp[MATCH_PHRASE_MAX_TERMS], *bp[MATCH_PHRASE_MAX_TERMS];
    uint32_t tc[MATCH_PHRASE_MAX_TERMS], bc[MATCH_PHRASE_MAX_TERMS];
    size_t at = 0;
    for (uint32_t i = 0; i < s->n_terms; i++) {
        seg_cursor *c = &s->terms[i]->cur;
        tp[i] = e->pos + at;
        bp[i] = e->pos + at + c->tf_title;
        at += (size_t)c->tf_title + c->tf_body;
    }
    /* The pivot first: its last positions bound how far the others matter. A phrase has at
     * least two terms, so tp[pivot] is set. NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
    int r = seg_cursor_positions_upto(&s->terms[pivot]->cur, UINT32_MAX, UINT32_MAX, tp[pivot],
                                      &tc[pivot], bp[pivot], &bc[pivot], e->err);
    if (r) return match_fail(e, r);
    for (uint32_t i = 0; i < s->n_terms; i++) {
        if (i == pivot) continue;
        uint32_t tmax = UINT32_MAX, bmax = UINT32_MAX;
        if (s->slop == 0) {
            /* Term i sits at pivot position - rel[pivot] + rel[i]; an empty
             * field of the pivot needs nothing of the others (max below 0). */
            tmax = tc[pivot] ? pos_limit(tp[pivot][tc[pivot] - 1], s->rel[i], s->rel[pivot]) : 0;
            bmax = bc[pivot] ? pos_limit(bp[pivot][bc[pivot] - 1], s->rel[i], s->rel[pivot]) : 0;
        }
        r = seg_cursor_positions_upto(&s->terms[i]->cur, tmax, bmax, tp[i], &tc[i], bp[i], &bc[i],
                                      e->err);
        if (r) return match_fail(e, r);
    }
    if (s->slop == 0) {
        s->pf_title = phrase_count_exact(s->n_terms, tp, tc, s->rel, pivot);
        s->pf_body =
            s->field == QF_TITLE ? 0 : phrase_count_exact(s->n_terms, bp, bc, s->rel, pivot);
    } else {
        s->pf_title = phrase_count(s->n_terms, tp, tc, s->rel, s->slop);
        s->pf_body = s->field == QF_TITLE ? 0 : phrase_count(s->n_terms, bp, bc, s->rel, s->slop);
    }
    return 0;
}

/* Moves to the next document >= target holding every phrase term, without
 * looking at positions: the cheap first phase of phrase matching. */
static void phrase_approx(ev *e, sc *s, uint32_t target)
{
    uint32_t d = target;
    s->confirmed = 0;
    for (;;) {
        uint32_t i = 0;
        for (; i < s->n_terms; i++) {
            sc *t = s->by_df[i];
            if (t->doc < d) term_advance(e, t, d);
            if (t->doc == SEG_END || e->rc) {
                s->doc = SEG_END;
                return;
            }
            if (t->doc > d) {
                d = t->doc;
                break;
            }
        }
        if (i == s->n_terms) {
            s->doc = d;
            return;
        }
    }
}

static int cannot_beat(double bound, double theta);

/* The second phase: decodes positions at the current candidate, unless even
 * the best phrase frequency the term frequencies allow (the smallest of
 * them) cannot lift the document into the top k. */
static int phrase_confirm(ev *e, sc *s)
{
    if (s->confirmed || s->doc == SEG_END) return 1;
    if (s->other_max < INFINITY && e->theta > -INFINITY) {
        uint32_t tft = UINT32_MAX, tfb = UINT32_MAX;
        for (uint32_t i = 0; i < s->n_terms; i++) {
            const seg_cursor *c = &s->terms[i]->cur;
            tft = c->tf_title < tft ? c->tf_title : tft;
            tfb = c->tf_body < tfb ? c->tf_body : tfb;
        }
        double bound = s->idf * match_sat(e, s->field, s->label_term, s->doc, tft, tfb);
        if (cannot_beat(bound + s->other_max, e->theta)) {
            e->pruned = 1;
            return 0;
        }
    }
    if (phrase_positions(e, s)) {
        s->doc = SEG_END;
        return 0;
    }
    s->confirmed = s->pf_title + s->pf_body > 0;
    return s->confirmed;
}

static void phrase_advance(ev *e, sc *s, uint32_t target)
{
    for (phrase_approx(e, s, target); s->doc != SEG_END && !phrase_confirm(e, s);)
        phrase_approx(e, s, s->doc + 1);
}

static int bool_matches_not(ev *e, sc *s, uint32_t d)
{
    for (uint32_t i = 0; i < s->n_kids; i++) {
        if (s->occur[i] != Q_MUST_NOT) continue;
        if (s->kids[i]->doc < d) sc_next(e, s->kids[i], d);
        if (s->kids[i]->doc == d) return 1;
    }
    return 0;
}

/* Whether some SHOULD clause of s matches d (clauses before d move to it). */
static int bool_any_should(ev *e, sc *s, uint32_t d)
{
    int any = 0, shoulds = 0;
    for (uint32_t i = 0; i < s->n_kids; i++) {
        if (s->occur[i] != Q_SHOULD) continue;
        sc *k = s->kids[i];
        shoulds++;
        if (k->doc < d) sc_next(e, k, d);
        any |= k->doc == d;
    }
    return any || !shoulds;
}

static void bool_advance(ev *e, sc *s, uint32_t target)
{
    uint32_t d = target;
    for (;;) {
        if (e->rc) {
            s->doc = SEG_END;
            return;
        }
        if (s->n_must) {
            int moved = 0;
            for (uint32_t i = 0; i < s->n_kids; i++) {
                if (s->occur[i] != Q_MUST) continue;
                sc *k = s->kids[i];
                if (k->doc < d) sc_next(e, k, d);
                if (k->doc == SEG_END) {
                    s->doc = SEG_END;
                    return;
                }
                if (k->doc > d) {
                    d = k->doc;
                    moved = 1;
                    break;
                }
            }
            if (moved) continue;
            if (!s->musts_match && !bool_any_should(e, s, d)) {
                d++;
                continue;
            }
        } else {
            uint32_t min = SEG_END;
            for (uint32_t i = 0; i < s->n_kids; i++) {
                if (s->occur[i] != Q_SHOULD) continue;
                sc *k = s->kids[i];
                if (k->doc < d) sc_next(e, k, d);
                if (k->doc < min) min = k->doc;
            }
            if (min == SEG_END) {
                s->doc = SEG_END;
                return;
            }
            d = min;
        }
        if (!bool_matches_not(e, s, d)) {
            s->doc = d;
            return;
        }
        d++;
    }
}

static void date_advance(ev *e, sc *s, uint32_t target)
{
    uint32_t n = seg_ndocs(e->s);
    for (uint32_t d = target; d < n; d++) {
        uint32_t date = seg_doc_date(e->s, d);
        if (date && date >= s->lo && date <= s->hi) {
            s->doc = d;
            return;
        }
    }
    s->doc = SEG_END;
}

/* Moves s to its first matching document >= target (no-op if already there). */
static int sc_next(ev *e, sc *s, uint32_t target)
{
    /* Already there (SEG_END is for good), unless a phrase stopped at an
     * unconfirmed candidate. */
    if (s->doc >= target && (s->kind != SC_PHRASE || s->confirmed || s->doc == SEG_END)) return 0;
    if (s->kind == SC_PHRASE && s->doc >= target) target = s->doc;
    if (target == SEG_END) {
        s->doc = SEG_END;
        return 0;
    }
    switch (s->kind) {
    case SC_TERM:
        term_advance(e, s, target);
        break;
    case SC_PHRASE:
        phrase_advance(e, s, target);
        break;
    case SC_PREFIX: {
        uint32_t min = SEG_END;
        for (uint32_t i = 0; i < s->n_kids; i++) {
            if (s->kids[i]->doc < target) sc_next(e, s->kids[i], target);
            if (s->kids[i]->doc < min) min = s->kids[i]->doc;
        }
        s->doc = min;
        break;
    }
    case SC_BOOL:
        if (s->n_kids) bool_advance(e, s, target);
        break;
    case SC_DATE:
        date_advance(e, s, target);
        break;
    case SC_NONE:
        s->doc = SEG_END;
        break;
    }
    return e->rc;
}

/* Two-phase iteration: approximate moves may stop on candidates that
 * sc_confirm then accepts or rejects; only phrases have a costly phase. */
static void sc_approx(ev *e, sc *s, uint32_t target)
{
    if (s->kind == SC_PHRASE && s->doc < target)
        phrase_approx(e, s, target);
    else
        sc_next(e, s, target);
}

static int sc_confirm(ev *e, sc *s)
{
    return s->kind == SC_PHRASE ? phrase_confirm(e, s) : 1;
}

/* Score of s at its current document (which must match). */
static double sc_score(ev *e, sc *s)
{
    if (s->scored_doc == s->doc) return s->score;
    double v = 0;
    switch (s->kind) {
    case SC_TERM:
        v = s->idf * match_sat(e, s->field, s->label_term, s->doc, s->cur.tf_title, s->cur.tf_body);
        break;
    case SC_PHRASE:
        v = s->idf * match_sat(e, s->field, s->label_term, s->doc, s->pf_title, s->pf_body);
        break;
    case SC_PREFIX:
        /* The best expansion: a prefix is one query word, however many
         * index terms it reaches. */
        for (uint32_t i = 0; i < s->n_kids; i++)
            if (s->kids[i]->doc == s->doc) {
                double k = sc_score(e, s->kids[i]);
                if (k > v) v = k;
            }
        break;
    case SC_BOOL:
        for (uint32_t i = 0; i < s->n_kids; i++) {
            if (s->occur[i] == Q_MUST_NOT) continue;
            sc *k = s->kids[i];
            if (k->doc < s->doc) sc_next(e, k, s->doc);
            if (k->doc == s->doc) v += sc_score(e, k);
        }
        break;
    case SC_DATE:
    case SC_NONE:
        break;
    }
    s->scored_doc = s->doc;
    s->score = v;
    return v;
}

/* An upper bound of s's score for documents in [target, *upto]. */
static double sc_block_bound(ev *e, sc *s, uint32_t target, uint32_t *upto)
{
    if (s->kind == SC_TERM && e->bounds_ok) {
        if (s->doc == SEG_END) {
            *upto = SEG_END;
            return 0;
        }
        if (target < s->blk_from || target > s->blk_upto) {
            uint32_t last;
            if (s->doc >= target) {
                /* The cursor is on or past target: the run of 32 it is in
                 * bounds every document of this list up to the run's end. */
                double b;
                seg_cursor_sub_bound(&s->cur, &last, &b);
                s->blk_bound = s->idf * b;
            } else {
                float b;
                if (!seg_cursor_block_info(&s->cur, target, &last, &b)) {
                    *upto = SEG_END;
                    return 0;
                }
                s->blk_bound = s->idf * (double)b;
            }
            s->blk_from = target;
            s->blk_upto = last;
        }
        *upto = s->blk_upto;
        return s->blk_bound;
    }
    *upto = SEG_END;
    return s->max_score;
}

/* ---- top-k ---- */

typedef struct topk {
    match_hit *h; /* min-heap: the worst hit at h[0] */
    uint32_t n, cap;
    uint64_t matched;
} topk;

/* Worse = lower score, or equal score and later document. */
static int hit_worse(const match_hit *a, const match_hit *b)
{
    if (a->score != b->score) return a->score < b->score;
    if (a->seg != b->seg) return a->seg > b->seg;
    return a->doc > b->doc;
}

static void topk_sift_down(topk *t, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && hit_worse(&t->h[l], &t->h[m])) m = l;
        if (r < t->n && hit_worse(&t->h[r], &t->h[m])) m = r;
        if (m == i) return;
        match_hit x = t->h[i];
        t->h[i] = t->h[m];
        t->h[m] = x;
        i = m;
    }
}

static void topk_add(topk *t, uint32_t seg_no, uint32_t doc, double score)
{
    t->matched++;
    /* Most scored documents lose to the worst hit kept: no heap work. */
    if (t->n == t->cap && (t->cap == 0 || score < t->h[0].score)) return;
    match_hit h = {seg_no, doc, score};
    if (t->n < t->cap) {
        uint32_t i = t->n++;
        t->h[i] = h;
        while (i && hit_worse(&t->h[i], &t->h[(i - 1) / 2])) {
            match_hit x = t->h[i];
            t->h[i] = t->h[(i - 1) / 2];
            t->h[(i - 1) / 2] = x;
            i = (i - 1) / 2;
        }
    } else if (hit_worse(&t->h[0], &h)) {
        t->h[0] = h;
        topk_sift_down(t, 0);
    }
}

/* The score a document must beat to enter; -inf while the heap has room. */
static double topk_threshold(const topk *t)
{
    return t->cap && t->n == t->cap ? t->h[0].score : -INFINITY;
}

/* Pruning compares bounds computed in another summation order than the
 * canonical score, so it keeps a small margin on the safe side. */
static int cannot_beat(double bound, double theta)
{
    return bound + 1e-9 * (1.0 + fabs(theta)) <= theta;
}

/* ---- the root: MaxScore over SHOULD clauses, leapfrog over MUST ones ---- */

typedef struct root {
    sc **must, **should, **not_;
    uint32_t n_must, n_should, n_not;
    int musts_match; /* some MUST clause is more than a filter: SHOULDs are optional */
    sc **all;        /* positive clauses in tree order: the canonical score order */
    uint32_t n_all;
    /* scratch for the algorithms: one block for all arrays above and below */
    sc **ord;
    double *ub;
} root;

static int root_excluded(ev *e, root *r, uint32_t d)
{
    for (uint32_t i = 0; i < r->n_not; i++) {
        if (r->not_[i]->doc < d) sc_next(e, r->not_[i], d);
        if (r->not_[i]->doc == d) return 1;
    }
    return 0;
}

/* Whether a SHOULD clause matches d, when only filters are required. */
static int root_any_should(ev *e, root *r, uint32_t d)
{
    for (uint32_t i = 0; i < r->n_should; i++) {
        sc *k = r->should[i];
        if (k->doc < d) sc_approx(e, k, d);
        if (k->doc == d && sc_confirm(e, k)) return 1;
    }
    return 0;
}

/* Canonical score of d: every positive clause positioned at or past d. */
static double root_score(ev *e, root *r, uint32_t d)
{
    double v = 0;
    for (uint32_t i = 0; i < r->n_all; i++) {
        sc *k = r->all[i];
        if (k->doc < d) sc_approx(e, k, d);
        if (k->doc == d && sc_confirm(e, k)) v += sc_score(e, k);
    }
    return v;
}

static int cmp_max_score(const void *a, const void *b)
{
    const sc *x = *(sc *const *)a, *y = *(sc *const *)b;
    return (x->max_score > y->max_score) - (x->max_score < y->max_score);
}

/* Disjunction: MaxScore (Turtle & Flood) with block-max bounds per candidate. */
static void run_should(ev *e, root *r, topk *t)
{
    uint32_t n = r->n_should;
    sc **ord = r->ord;
    double *ub = r->ub; /* ub[i]: sum of max scores of ord[0..i] */
    memcpy(ord, r->should, n * sizeof *ord);
    qsort(ord, n, sizeof *ord, cmp_max_score);
    for (uint32_t i = 0; i < n; i++)
        ub[i] = ord[i]->max_score + (i ? ub[i - 1] : 0);
    int exhaustive = e->o->exhaustive;
    while (!e->rc) {
        double theta = exhaustive ? -INFINITY : topk_threshold(t);
        e->theta = theta;
        uint32_t p = 0; /* ord[0..p) are non-essential */
        if (!exhaustive)
            while (p < n && cannot_beat(ub[p], theta))
                p++;
        if (p) e->pruned = 1;
        if (p == n) break;
        uint32_t d = SEG_END;
        for (uint32_t i = p; i < n; i++)
            if (ord[i]->doc < d) d = ord[i]->doc;
        if (d == SEG_END) break;
        int skip = 0;
        if (!exhaustive && t->n == t->cap) {
            /* Block-max over a range: if no list's block can lift any
             * document in [d, end of the shortest block] above theta, jump
             * past that block in every essential list at once. */
            double range = 0;
            uint32_t upto_min = SEG_END;
            for (uint32_t i = 0; i < n; i++) {
                uint32_t upto;
                range += sc_block_bound(e, ord[i], d, &upto);
                if (upto < upto_min) upto_min = upto;
            }
            if (cannot_beat(range, theta)) {
                e->pruned = 1;
                if (upto_min == SEG_END) break;
                for (uint32_t i = p; i < n; i++)
                    if (ord[i]->doc <= upto_min) sc_next(e, ord[i], upto_min + 1);
                continue;
            }
            /* Then this candidate alone: lists not on d add nothing (with
             * one list, or all on d, that is the range bound again). */
            double bound = 0;
            uint32_t on_d = 0;
            for (uint32_t i = 0; i < n; i++) {
                if (i >= p && ord[i]->doc != d) continue;
                uint32_t upto;
                bound += sc_block_bound(e, ord[i], d, &upto);
                on_d++;
            }
            if (on_d < n && cannot_beat(bound, theta)) {
                skip = 1;
                e->pruned = 1;
            } else if (p) {
                double partial = 0;
                for (uint32_t i = p; i < n; i++)
                    if (ord[i]->doc == d) partial += sc_score(e, ord[i]);
                for (uint32_t i = p; i-- > 0 && !skip;) {
                    if (cannot_beat(partial + ub[i], theta)) {
                        skip = 1;
                        e->pruned = 1;
                        break;
                    }
                    sc_next(e, ord[i], d);
                    if (ord[i]->doc == d) partial += sc_score(e, ord[i]);
                }
            }
        }
        if (!skip && !root_excluded(e, r, d)) topk_add(t, e->seg_no, d, root_score(e, r, d));
        for (uint32_t i = p; i < n; i++)
            if (ord[i]->doc == d) sc_next(e, ord[i], d + 1);
    }
}

static int cmp_doc_desc(const void *a, const void *b)
{
    const sc *x = *(sc *const *)a, *y = *(sc *const *)b;
    return (x->doc > y->doc) - (x->doc < y->doc);
}

/* Conjunction of MUST clauses, SHOULD clauses adding to the score. */
static void run_must(ev *e, root *r, topk *t)
{
    sc **m = r->ord;
    uint32_t n = r->n_must;
    memcpy(m, r->must, n * sizeof *m);
    /* The list starting furthest ahead is likely the rarest: lead with it. */
    qsort(m, n, sizeof *m, cmp_doc_desc);
    double should_max = 0;
    for (uint32_t i = 0; i < r->n_should; i++)
        should_max += r->should[i]->max_score;
    uint32_t d = 0;
    while (!e->rc) {
        e->theta = e->o->exhaustive ? -INFINITY : topk_threshold(t);
        uint32_t i = 0;
        for (; i < n; i++) {
            if (m[i]->doc < d) sc_approx(e, m[i], d);
            if (m[i]->doc == SEG_END) return;
            if (m[i]->doc > d) {
                d = m[i]->doc;
                break;
            }
        }
        if (i < n) continue;
        for (i = 0; i < n && sc_confirm(e, m[i]); i++)
            ;
        if (i < n || (!r->musts_match && r->n_should && !root_any_should(e, r, d))) {
            d++;
            continue;
        }
        double theta = topk_threshold(t);
        if (!e->o->exhaustive && t->n == t->cap) {
            double bound = should_max;
            uint32_t upto_min = SEG_END;
            for (uint32_t k = 0; k < n; k++) {
                uint32_t upto;
                bound += sc_block_bound(e, m[k], d, &upto);
                if (upto < upto_min) upto_min = upto;
            }
            if (cannot_beat(bound, theta)) {
                /* No document up to the end of the shortest block can win. */
                e->pruned = 1;
                d = upto_min == SEG_END ? SEG_END : upto_min + 1;
                if (d == SEG_END) return;
                continue;
            }
        }
        if (!root_excluded(e, r, d)) topk_add(t, e->seg_no, d, root_score(e, r, d));
        d++;
    }
}

static int root_build(ev *e, const qparse_node *q, root *r)
{
    memset(r, 0, sizeof *r);
    const qparse_clause one = {Q_SHOULD, q};
    const qparse_clause *cl = &one;
    uint32_t ncl = 1;
    if (q->kind == Q_BOOL) {
        cl = q->clauses;
        ncl = q->nclauses;
    }
    /* Five clause arrays and the bounds share one allocation. */
    size_t n = ncl ? ncl : 1;
    void *block = calloc(n, 5 * sizeof(sc *) + sizeof(double));
    if (!block) return match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
    sc **p = block;
    r->must = p;
    r->should = p + n;
    r->not_ = p + 2 * n;
    r->all = p + 3 * n;
    r->ord = p + 4 * n;
    r->ub = (double *)(p + 5 * n);
    for (uint32_t i = 0; i < ncl && !e->rc; i++) {
        sc *k = sc_build(e, cl[i].node);
        if (!k) break;
        if (cl[i].occur == Q_MUST_NOT) {
            r->not_[r->n_not++] = k;
            continue;
        }
        r->all[r->n_all++] = k;
        if (cl[i].occur == Q_MUST) {
            r->must[r->n_must++] = k;
            r->musts_match |= !k->filter;
        } else {
            r->should[r->n_should++] = k;
        }
    }
    double total = 0;
    for (uint32_t i = 0; i < r->n_all; i++)
        total += r->all[i]->max_score;
    for (uint32_t i = 0; i < r->n_all; i++)
        if (r->all[i]->kind == SC_PHRASE) r->all[i]->other_max = total - r->all[i]->max_score;
    return e->rc;
}

static void root_free(root *r)
{
    for (uint32_t i = 0; i < r->n_all; i++)
        sc_free(r->all[i]);
    for (uint32_t i = 0; i < r->n_not; i++)
        sc_free(r->not_[i]);
    free(r->must);
}

match_options match_options_default(const idx_index *ix)
{
    return (match_options){10, 0, 0, ix->meta.bm25};
}

static void match_init(ev *e, idx_index *ix, const match_options *o, idx_err *err)
{
    memset(e, 0, sizeof *e);
    e->ix = ix;
    e->o = o;
    e->p = o->bm25;
    e->err = err;
    e->theta = -INFINITY;
    e->n_docs = (double)ix->meta.docs;
    /* Stored bounds hold for the parameters and averages they were computed
     * with: the index's own, in a single segment. */
    e->bounds_ok = ix->n_segs == 1 && o->bm25.k1 == ix->meta.bm25.k1 &&
                   o->bm25.b == ix->meta.bm25.b &&
                   o->bm25.title_weight == ix->meta.bm25.title_weight;
}

static int match_segment(ev *e, uint32_t seg_no)
{
    e->s = e->ix->segs[seg_no];
    e->seg_no = seg_no;
    e->n_scorers = 0; /* the previous segment's are freed */
    e->norm_doc = SEG_END;
    e->inv_norm = e->p.b == e->ix->meta.bm25.b ? e->ix->inv_norm[seg_no] : NULL;
    return 0;
}

static int hit_better_cmp(const void *a, const void *b)
{
    const match_hit *x = a, *y = b;
    return hit_worse(y, x) ? -1 : hit_worse(x, y) ? 1 : 0;
}

int match_search(idx_index *ix, const qparse_tree *q, const match_options *o, match_result *out,
              idx_err *err)
{
    memset(out, 0, sizeof *out);
    uint64_t want = (uint64_t)o->offset + o->k;
    if (want > 1000000) return err_set(err, IDX_EUSAGE, "k + offset too large");
    if (ix->xap) return match_xapian_search(ix, q, o, out, err);
    ev e;
    match_init(&e, ix, o, err);
    topk t = {0};
    t.cap = (uint32_t)want;
    t.h = malloc((t.cap ? t.cap : 1) * sizeof *t.h);
    if (!t.h) return err_set(err, IDX_ENOMEM, "out of memory");
    for (uint32_t s = 0; s < ix->n_segs && !e.rc; s++) {
        match_segment(&e, s);
        root r;
        if (!root_build(&e, q->root, &r)) {
            if (r.n_must)
                run_must(&e, &r, &t);
            else if (r.n_should)
                run_should(&e, &r, &t);
        }
        root_free(&r);
    }
    free(e.pos);
    if (e.rc) {
        free(t.h);
        return e.rc;
    }
    qsort(t.h, t.n, sizeof *t.h, hit_better_cmp);
    out->total = t.matched;
    out->total_exact = !e.pruned;
    if (t.n > o->offset) {
        out->n_hits = t.n - o->offset;
        memmove(t.h, t.h + o->offset, out->n_hits * sizeof *t.h);
    }
    out->hits = t.h;
    return 0;
}

void match_result_free(match_result *r)
{
    free(r->hits);
    memset(r, 0, sizeof *r);
}

/* ---- explain ---- */

typedef struct parts {
    match_part *p;
    size_t n, cap;
} parts;

static void parts_add(ev *e, parts *ps, const char *what, uint32_t tft, uint32_t tfb, double idf,
                      double score)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 8;
        match_part *p = realloc(ps->p, cap * sizeof *p);
        if (!p) {
            match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
            return;
        }
        ps->p = p;
        ps->cap = cap;
    }
    match_part *x = &ps->p[ps->n++];
    snprintf(x->what, sizeof x->what, "%s", what);
    x->tf_title = tft;
    x->tf_body = tfb;
    x->idf = idf;
    x->score = score;
}

static void explain_node(ev *e, const qparse_node *n, sc *s, uint32_t d, parts *ps)
{
    char what[160];
    const char *scope = n->field == QF_ANY ? "" : qparse_field_name(n->field);
    const char *colon = n->field == QF_ANY ? "" : ":";
    if (s->doc < d) sc_next(e, s, d);
    if (s->doc != d) return;
    switch (s->kind) {
    case SC_TERM:
        snprintf(what, sizeof what, "%s%s%.*s", scope, colon, (int)n->terms[0].len,
                 n->terms[0].text);
        parts_add(e, ps, what, s->cur.tf_title, s->cur.tf_body, s->idf, sc_score(e, s));
        break;
    case SC_PHRASE: {
        size_t at = (size_t)snprintf(what, sizeof what, "%s%s\"", scope, colon);
        for (uint32_t i = 0; i < n->nterms && at < sizeof what; i++)
            at += (size_t)snprintf(what + at, sizeof what - at, "%s%.*s", i ? " " : "",
                                   (int)n->terms[i].len, n->terms[i].text);
        if (at < sizeof what)
            snprintf(what + at, sizeof what - at, n->slop ? "\"~%u" : "\"", n->slop);
        parts_add(e, ps, what, s->pf_title, s->pf_body, s->idf, sc_score(e, s));
        break;
    }
    case SC_PREFIX: {
        sc *best = NULL;
        for (uint32_t i = 0; i < s->n_kids; i++)
            if (s->kids[i]->doc == d && (!best || sc_score(e, s->kids[i]) > sc_score(e, best)))
                best = s->kids[i];
        if (best) {
            snprintf(what, sizeof what, "%s%s%.*s*->%.*s", scope, colon, (int)n->terms[0].len,
                     n->terms[0].text, (int)best->key_len, best->key);
            parts_add(e, ps, what, best->cur.tf_title, best->cur.tf_body, best->idf,
                      sc_score(e, best));
        }
        break;
    }
    case SC_BOOL:
        for (uint32_t i = 0; i < s->n_kids; i++)
            if (s->occur[i] != Q_MUST_NOT) explain_node(e, n->clauses[i].node, s->kids[i], d, ps);
        break;
    case SC_DATE:
    case SC_NONE:
        break;
    }
}

int match_explain(idx_index *ix, const qparse_tree *q, const match_options *o, uint32_t seg_no,
               uint32_t doc, match_part **out, size_t *n_out, idx_err *err)
{
    *out = NULL;
    *n_out = 0;
    if (ix->xap)
        return err_set(err, IDX_EUSAGE, "--explain is not available with the xapian engine");
    if (seg_no >= ix->n_segs) return err_set(err, IDX_EINTERNAL, "explain: no segment %u", seg_no);
    ev e;
    match_init(&e, ix, o, err);
    match_segment(&e, seg_no);
    parts ps = {0};
    sc *s = sc_build(&e, q->root);
    if (s && !e.rc) explain_node(&e, q->root, s, doc, &ps);
    sc_free(s);
    free(e.pos);
    if (e.rc) {
        free(ps.p);
        return e.rc;
    }
    *out = ps.p;
    *n_out = ps.n;
    return 0;
}
