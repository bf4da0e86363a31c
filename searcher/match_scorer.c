#include "searcher/match_scorer.h"

#include <stdlib.h>
#include <string.h>

#include "common/fields.h"
#include "searcher/lexmerge.h"

typedef struct prefix_cand {
    seg_term t; /* cf (over all segments) used for ranking */
    char term[SEG_MAX_TERM + 1];
    size_t len;
} prefix_cand;

/* A prefix node's expansions, kept for the search: they are collection-wide,
 * so every segment expands to the same terms and one lexicon merge suffices. */
struct match_expansion {
    const qparse_node *node;
    prefix_cand *c;
    size_t n;
};

void match_ctx_init(match_ctx *e, idx_index *ix, const match_options *o, idx_err *err)
{
    memset(e, 0, sizeof *e);
    e->ix = ix;
    e->o = o;
    e->p = o->bm25;
    e->err = err;
    e->theta = -INFINITY;
    e->count_bar = -INFINITY;
    e->n_docs = (double)ix->meta.docs;
    /* Stored bounds hold for the parameters they were computed with, the
     * index's own; each segment's factor bound_scale adapts them to the
     * collection's average lengths. */
    e->bounds_ok = o->bm25.k1 == ix->meta.bm25.k1 && o->bm25.b == ix->meta.bm25.b &&
                   o->bm25.title_weight == ix->meta.bm25.title_weight;
}

void match_ctx_segment(match_ctx *e, uint32_t seg_no)
{
    e->s = e->ix->segs[seg_no];
    e->seg_no = seg_no;
    e->n_scorers = 0; /* the previous segment's are freed */
    e->norm_doc = SEG_END;
    e->inv_norm = e->p.b == e->ix->meta.bm25.b ? e->ix->inv_norm[seg_no] : NULL;
    e->deleted = e->ix->deleted[seg_no];
}

void match_ctx_fini(match_ctx *e)
{
    free(e->pos);
    e->pos = NULL;
    e->pos_cap = 0;
    match_terms_free(e->terms);
    e->terms = NULL;
    for (uint32_t i = 0; i < e->n_exp; i++)
        free(e->exp[i].c);
    free(e->exp);
    e->exp = NULL;
    e->n_exp = 0;
    while (e->spare) {
        match_sc *s = e->spare;
        e->spare = s->next_spare;
        free(s);
    }
}

/* ---- building the tree ---- */

static match_sc *sc_alloc(match_ctx *e, match_sc_kind kind, qparse_field field)
{
    if (++e->n_scorers > MATCH_MAX_SCORERS) {
        match_fail(e, err_set(e->err, IDX_EUSAGE,
                              "query: too large: more than %u terms and operators after prefix "
                              "expansion",
                              MATCH_MAX_SCORERS));
        return NULL;
    }
    match_sc *s = e->spare;
    if (s) {
        e->spare = s->next_spare;
        memset(s, 0, sizeof *s);
    } else if (!(s = calloc(1, sizeof *s))) {
        match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
        return NULL;
    }
    s->pool = &e->spare;
    s->kind = kind;
    s->field = field;
    s->doc = SEG_END;
    s->blk_from = 1;
    s->blk_upto = 0; /* empty range: nothing cached */
    s->other_max = INFINITY;
    s->scored_doc = SEG_END;
    return s;
}

void match_sc_free(match_sc *s)
{
    if (!s) return;
    for (uint32_t i = 0; i < s->n_terms; i++)
        match_sc_free(s->terms[i]);
    for (uint32_t i = 0; i < s->n_kids; i++)
        match_sc_free(s->kids[i]);
    free(s->terms);
    free(s->by_df);
    free(s->rel);
    free(s->need);
    free(s->kids);
    free(s->occur);
    s->next_spare = *s->pool;
    *s->pool = s;
}

/* A term scorer; `key` is the term as stored (field prefix included). */
static match_sc *sc_term(match_ctx *e, const char *key, size_t len, qparse_field field)
{
    match_sc *s = sc_alloc(e, MATCH_SC_TERM, field);
    if (!s) return NULL;
    s->label_term = qparse_field_is_label(field);
    if (len > SEG_MAX_TERM) return s; /* longer than any stored term: matches nothing */
    memcpy(s->key, key, len);
    s->key_len = len;
    if (!e->terms && !(e->terms = match_terms_new(e->ix))) {
        match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
        return s;
    }
    seg_term t;
    uint64_t df;
    int r = match_terms_get(e->terms, e->seg_no, key, len, &t, &df, e->err);
    if (r < 0) {
        match_fail(e, r);
        return s;
    }
    if (r == 0) return s; /* absent here: matches nothing in this segment */
    s->idf = bm25_idf(e->n_docs, (double)df);
    s->bound_idf = s->idf * e->ix->bound_scale[e->seg_no];
    s->max_score = e->bounds_ok ? s->bound_idf * (double)t.bound : s->idf * (e->p.k1 + 1.0);
    r = seg_cursor_open(e->s, &t, &s->cur, e->err);
    if (r) {
        match_fail(e, r);
        return s;
    }
    s->doc = s->cur.doc;
    if (field == QF_TITLE && s->doc != SEG_END && s->cur.tf_title == 0)
        match_sc_next(e, s, s->doc + 1);
    return s;
}

static int cmp_df(const void *a, const void *b)
{
    const match_sc *x = *(match_sc *const *)a, *y = *(match_sc *const *)b;
    return (x->cur.t.df > y->cur.t.df) - (x->cur.t.df < y->cur.t.df);
}

static match_sc *sc_phrase(match_ctx *e, const qparse_node *n)
{
    match_sc *s = sc_alloc(e, MATCH_SC_PHRASE, n->field);
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
    s->unordered = n->unordered;
    if (!absent && !e->rc) {
        s->by_df = malloc(s->n_terms * sizeof *s->by_df);
        s->need = s->unordered ? calloc(s->n_terms, sizeof *s->need) : NULL;
        if (!s->by_df || (s->unordered && !s->need)) {
            match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
            return s;
        }
        memcpy(s->by_df, s->terms, s->n_terms * sizeof *s->by_df);
        qsort(s->by_df, s->n_terms, sizeof *s->by_df, cmp_df);
        for (uint32_t i = 0; s->unordered && i < s->n_terms; i++) {
            uint32_t j = 0;
            while (s->terms[j]->key_len != s->terms[i]->key_len ||
                   memcmp(s->terms[j]->key, s->terms[i]->key, s->terms[i]->key_len))
                j++;
            s->need[j]++;
        }
    }
    s->idf = idf;
    s->label_term = qparse_field_is_label(n->field);
    s->max_score = idf * (e->p.k1 + 1.0);
    /* Its terms' stored bounds bound the phrase too (match_phrase_bound's
     * reasoning, over all documents); author:/category: phrases are scored
     * without length norms, which the stored bounds do not assume. */
    if (!absent && !e->rc && e->bounds_ok && !s->label_term && !s->unordered)
        s->bound_terms = s->slop ? 1 : s->n_terms;
    for (uint32_t i = 0; i < s->bound_terms; i++) {
        /* Not absent: every term has its scorer.
         * NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
        double b = idf * e->ix->bound_scale[e->seg_no] * (double)s->terms[i]->cur.t.bound;
        if (b < s->max_score) s->max_score = b;
    }
    if (!absent && !e->rc) match_phrase_advance(e, s, 0);
    return s;
}

static int prefix_cmp_cf(const void *a, const void *b)
{
    const seg_term *x = a, *y = b;
    return (x->cf < y->cf) - (x->cf > y->cf);
}

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

/* The MATCH_PREFIX_MAX_TERMS most frequent terms of the whole index's
 * lexicon starting with `key` (rarer expansions are dropped, docs/QUERY.md),
 * into a new e->exp entry for n; 0 or the error. */
static int prefix_expand(match_ctx *e, const qparse_node *n, const char *key, size_t kl)
{
    struct match_expansion *x = realloc(e->exp, (e->n_exp + 1) * sizeof *x);
    if (!x) return err_set(e->err, IDX_ENOMEM, "out of memory");
    e->exp = x;
    size_t cap = 256, nc = 0;
    prefix_cand *c = malloc(cap * sizeof *c);
    lexmerge *it = malloc(sizeof *it);
    int r = c && it ? lexmerge_seek(e->ix, it, key, kl, e->err)
                    : err_set(e->err, IDX_ENOMEM, "out of memory");
    while (!r && (r = lexmerge_next(it, e->err)) == 1) {
        r = 0;
        if (it->len < kl || memcmp(it->term, key, kl)) break;
        /* Unscoped prefixes must not reach into author:/category: terms. */
        if ((n->field == QF_ANY || n->field == QF_TITLE) && field_is_label_term(it->term, it->len))
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
        return r;
    }
    qsort(c, nc, sizeof *c, cand_cmp);
    if (nc > MATCH_PREFIX_MAX_TERMS) nc = MATCH_PREFIX_MAX_TERMS;
    e->exp[e->n_exp++] = (struct match_expansion){n, c, nc};
    return 0;
}

static match_sc *sc_prefix(match_ctx *e, const qparse_node *n)
{
    match_sc *s = sc_alloc(e, MATCH_SC_PREFIX, n->field);
    if (!s) return NULL;
    char key[SEG_MAX_TERM + 8];
    size_t kl;
    if (match_term_key(n->field, n->terms[0].text, n->terms[0].len, key, sizeof key, &kl)) return s;
    uint32_t x = 0;
    while (x < e->n_exp && e->exp[x].node != n)
        x++;
    if (x == e->n_exp) {
        int r = prefix_expand(e, n, key, kl);
        if (r) {
            match_fail(e, r);
            return s;
        }
    }
    const prefix_cand *c = e->exp[x].c;
    size_t nc = e->exp[x].n;
    s->kids = calloc(nc ? nc : 1, sizeof *s->kids);
    if (!s->kids) {
        match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
        return s;
    }
    uint32_t min = SEG_END;
    for (size_t i = 0; i < nc && !e->rc; i++) {
        match_sc *k = sc_term(e, c[i].term, c[i].len, n->field);
        if (!k) break;
        s->kids[s->n_kids++] = k;
        if (k->max_score > s->max_score) s->max_score = k->max_score;
        if (k->doc < min) min = k->doc;
    }
    s->doc = min;
    return s;
}

static match_sc *sc_bool(match_ctx *e, const qparse_node *n)
{
    match_sc *s = sc_alloc(e, MATCH_SC_BOOL, QF_ANY);
    if (!s) return NULL;
    s->kids = calloc(n->nclauses ? n->nclauses : 1, sizeof *s->kids);
    s->occur = calloc(n->nclauses ? n->nclauses : 1, sizeof *s->occur);
    if (!s->kids || !s->occur) {
        match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
        return s;
    }
    int all_filters = 1;
    for (uint32_t i = 0; i < n->nclauses && !e->rc; i++) {
        match_sc *k = match_sc_build(e, n->clauses[i].node);
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
    if (!e->rc && s->n_kids) match_bool_advance(e, s, 0);
    return s;
}

static match_sc *sc_date(match_ctx *e, const qparse_node *n)
{
    match_sc *s = sc_alloc(e, MATCH_SC_DATE, QF_ANY);
    if (!s) return NULL;
    s->lo = n->date_lo;
    s->hi = n->date_hi;
    s->filter = 1;
    match_date_advance(e, s, 0);
    return s;
}

/* A weighted term (qparse_node.weight): its idf, and so every score and
 * bound made from it, scaled once here rather than per posting. */
static match_sc *sc_weigh(match_sc *s, double weight)
{
    if (s && weight > 0) {
        s->idf *= weight;
        s->bound_idf *= weight;
        s->max_score *= weight;
    }
    return s;
}

match_sc *match_sc_build(match_ctx *e, const qparse_node *n)
{
    switch (n->kind) {
    case Q_TERM: {
        char key[SEG_MAX_TERM + 8];
        size_t kl;
        if (match_term_key(n->field, n->terms[0].text, n->terms[0].len, key, sizeof key, &kl))
            return sc_alloc(e, MATCH_SC_NONE, n->field);
        return sc_weigh(sc_term(e, key, kl, n->field), n->weight);
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
    return sc_alloc(e, MATCH_SC_NONE, QF_ANY);
}

/* ---- moving through documents ---- */

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

/* Unordered occurrences (NEAR, docs/QUERY.md): windows of `window` + 1
 * positions holding every term as often as the query names it (need[i] for
 * the first of equal terms, 0 for the others), counted by their first
 * position, which is a position of some term; so a document's count is at
 * most the sum of the terms' frequencies. The terms' sorted positions are
 * merged into ev_pos/ev_term (room for all of them) and a window slides over
 * them, each side moving forward only. */
static uint32_t near_count(uint32_t n, uint32_t *const *pos, const uint32_t *cnt,
                           const uint32_t *need, uint32_t window, uint32_t *ev_pos,
                           uint32_t *ev_term)
{
    uint32_t at[MATCH_PHRASE_MAX_TERMS] = {0}, have[MATCH_PHRASE_MAX_TERMS] = {0};
    uint32_t m = 0, groups = 0;
    for (uint32_t i = 0; i < n; i++)
        groups += need[i] > 0;
    for (;;) {
        uint32_t best = n;
        for (uint32_t i = 0; i < n; i++)
            if (need[i] && at[i] < cnt[i] && (best == n || pos[i][at[i]] < pos[best][at[best]]))
                best = i;
        if (best == n) break;
        ev_pos[m] = pos[best][at[best]++];
        ev_term[m++] = best;
    }
    uint32_t found = 0, full = 0, end = 0;
    for (uint32_t j = 0; j < m; j++) {
        uint64_t last = (uint64_t)ev_pos[j] + window;
        for (; end < m && ev_pos[end] <= last; end++)
            full += ++have[ev_term[end]] == need[ev_term[end]];
        found += full == groups;
        full -= have[ev_term[j]]-- == need[ev_term[j]];
    }
    return found;
}

/* Occurrences of an exact phrase in one field, from its terms' position
 * readers: the pivot (the term with the fewest positions in the field) is
 * read in order, each of its positions fixes where every other term must be,
 * and their readers seek there, only forward, skipping runs of positions a
 * word at a time (codec_posrd_seek): the cost follows the rare term and the
 * frequent terms' bytes, not their positions one by one, which matters when
 * a phrase holds "the". With `one`, stops at the first. Returns the count,
 * or -1 when the positions are damaged. */
static int64_t phrase_field_exact(uint32_t n, codec_posrd *rd, const uint32_t *rel, uint32_t pivot,
                                  int one)
{
    int64_t found = 0;
    codec_posrd *pr = &rd[pivot];
    for (;;) {
        int r = codec_posrd_seek(pr, pr->started ? pr->at + 1 : 0);
        if (r <= 0) return r ? -1 : found;
        if (pr->at < rel[pivot]) continue;
        uint64_t start = pr->at - rel[pivot];
        uint32_t i = 0;
        for (; i < n; i++) {
            if (i == pivot) continue;
            r = codec_posrd_seek(&rd[i], start + rel[i]);
            /* A term past its end: no later start can be completed either. */
            if (r <= 0) return r ? -1 : found;
            if (rd[i].at != start + rel[i]) break;
        }
        if (i == n && ++found && one) return found;
    }
}

/* An exact phrase's occurrences at the current candidate into
 * pf_title/pf_body, read in place from the stored positions; with `exists`,
 * only until one is found (then pf_partial is set). */
static int phrase_exact(match_ctx *e, match_sc *s, int exists)
{
    const uint8_t *p[MATCH_PHRASE_MAX_TERMS];
    size_t avail[MATCH_PHRASE_MAX_TERMS];
    codec_posrd rd[MATCH_PHRASE_MAX_TERMS];
    uint32_t tp = 0, bp = 0;
    for (uint32_t i = 0; i < s->n_terms; i++) {
        seg_cursor *c = &s->terms[i]->cur;
        int r = seg_cursor_pos_bytes(c, &p[i], &avail[i], e->err);
        if (r) return match_fail(e, r);
        codec_posrd_init(&rd[i], p[i], avail[i], c->tf_title);
        if (c->tf_title < s->terms[tp]->cur.tf_title) tp = i;
        if (c->tf_body < s->terms[bp]->cur.tf_body) bp = i;
    }
    int64_t t = phrase_field_exact(s->n_terms, rd, s->rel, tp, exists), b = 0;
    if (t > 0 && exists) {
        s->pf_title = (uint32_t)t;
        s->pf_body = 0;
        s->pf_partial = 1;
        return 0;
    }
    for (uint32_t i = 0; t >= 0 && s->field != QF_TITLE && i < s->n_terms; i++) {
        /* The body follows the title's varints. */
        uint32_t tft = s->terms[i]->cur.tf_title;
        size_t a = tft ? codec_skip_varints(p[i], avail[i], tft) : 0;
        if (tft && !a) t = -1;
        codec_posrd_init(&rd[i], p[i] + a, avail[i] - a, s->terms[i]->cur.tf_body);
    }
    if (t >= 0 && s->field != QF_TITLE) b = phrase_field_exact(s->n_terms, rd, s->rel, bp, exists);
    if (t < 0 || b < 0)
        return match_fail(e,
                          err_set(e->err, IDX_EDATA, "corrupt index: undecodable position list"));
    s->pf_title = (uint32_t)t;
    s->pf_body = (uint32_t)b;
    s->pf_partial = exists && t + b > 0;
    return 0;
}

/* Decodes the positions at the current candidate and counts the phrase's
 * occurrences into pf_title/pf_body; with `exists`, an exact phrase stops at
 * its first occurrences (phrase_exists: then pf_partial is set). */
static int phrase_positions(match_ctx *e, match_sc *s, int exists)
{
    s->pf_partial = 0;
    /* A phrase has at least two terms (qparse), or is absent and never
     * reaches here; saying so spares the analyser paths through empty arrays. */
    if (s->n_terms < 2) return match_fail(e, IDX_EINTERNAL);
    if (s->slop == 0 && !s->unordered) return phrase_exact(e, s, exists);
    size_t need = 0;
    for (uint32_t i = 0; i < s->n_terms; i++)
        need += (size_t)s->terms[i]->cur.tf_title + s->terms[i]->cur.tf_body;
    /* NEAR merges the positions into two more arrays as long (near_count). */
    size_t room = s->unordered ? 3 * need : need;
    if (room > e->pos_cap) {
        uint32_t *p = realloc(e->pos, room * sizeof *p);
        if (!p) return match_fail(e, err_set(e->err, IDX_ENOMEM, "out of memory"));
        e->pos = p;
        e->pos_cap = room;
    }
    uint32_t *tp[MATCH_PHRASE_MAX_TERMS], *bp[MATCH_PHRASE_MAX_TERMS];
    uint32_t tc[MATCH_PHRASE_MAX_TERMS], bc[MATCH_PHRASE_MAX_TERMS];
    size_t at = 0;
    for (uint32_t i = 0; i < s->n_terms; i++) {
        seg_cursor *c = &s->terms[i]->cur;
        tp[i] = e->pos + at;
        bp[i] = e->pos + at + c->tf_title;
        at += (size_t)c->tf_title + c->tf_body;
        int r = seg_cursor_positions_upto(c, UINT32_MAX, UINT32_MAX, tp[i], &tc[i], bp[i], &bc[i],
                                          e->err);
        if (r) return match_fail(e, r);
    }
    if (s->unordered) {
        uint32_t window = s->rel[s->n_terms - 1] + s->slop;
        uint32_t *ev_pos = e->pos + need, *ev_term = e->pos + 2 * need;
        s->pf_title = near_count(s->n_terms, tp, tc, s->need, window, ev_pos, ev_term);
        s->pf_body = s->field == QF_TITLE
                         ? 0
                         : near_count(s->n_terms, bp, bc, s->need, window, ev_pos, ev_term);
    } else {
        s->pf_title = phrase_count(s->n_terms, tp, tc, s->rel, s->slop);
        s->pf_body = s->field == QF_TITLE ? 0 : phrase_count(s->n_terms, bp, bc, s->rel, s->slop);
    }
    return 0;
}

/* Moves to the next document >= target holding every phrase term, without
 * looking at positions: the cheap first phase of phrase matching. */
void match_phrase_approx(match_ctx *e, match_sc *s, uint32_t target)
{
    uint32_t d = target;
    s->confirmed = 0;
    for (;;) {
        uint32_t i = 0;
        for (; i < s->n_terms; i++) {
            match_sc *t = s->by_df[i];
            if (t->doc < d) match_term_advance(e, t, d);
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

/* The most a phrase's frequency can be at its candidate, from its terms'
 * frequencies there. An exact phrase occurs at most as often as its rarest
 * term here; a sloppy one counts the first term's positions, whose
 * occurrences may share the other terms' (`of of the`~1 holds two), so only
 * the first term's frequency bounds it; a NEAR's, the sum of its terms'
 * (near_count). */
double match_phrase_bound(match_ctx *e, const match_sc *s)
{
    uint32_t tft = UINT32_MAX, tfb = UINT32_MAX;
    if (s->unordered) {
        uint64_t st = 0, sb = 0;
        for (uint32_t i = 0; i < s->n_terms; i++)
            if (s->need[i]) {
                st += s->terms[i]->cur.tf_title;
                sb += s->terms[i]->cur.tf_body;
            }
        tft = st < UINT32_MAX ? (uint32_t)st : UINT32_MAX;
        tfb = sb < UINT32_MAX ? (uint32_t)sb : UINT32_MAX;
    }
    for (uint32_t i = 0; !s->unordered && i < (s->slop ? 1 : s->n_terms); i++) {
        const seg_cursor *c = &s->terms[i]->cur;
        tft = c->tf_title < tft ? c->tf_title : tft;
        tfb = c->tf_body < tfb ? c->tf_body : tfb;
    }
    return s->idf * match_sat(e, s->field, s->label_term, s->doc, tft, tfb);
}

/* The second phase: decodes positions at the current candidate, unless even
 * the phrase's frequency bound (match_phrase_bound) cannot lift the document
 * into the top k. While every match is counted, a root candidate the bound
 * keeps out of the top k needs only one occurrence found (phrase_exists):
 * the root counts it unscored, or match_sc_score counts the rest. */
int match_phrase_confirm(match_ctx *e, match_sc *s)
{
    if (s->confirmed || s->doc == SEG_END) return 1;
    int exists = 0;
    if (s->other_max < INFINITY && (e->theta > -INFINITY || e->count_bar > -INFINITY)) {
        double bound = match_phrase_bound(e, s) + s->other_max;
        if (match_cannot_beat(bound, e->theta)) return 0;
        exists = match_cannot_beat(bound, e->count_bar);
    }
    if (phrase_positions(e, s, exists)) {
        s->doc = SEG_END;
        return 0;
    }
    s->confirmed = s->pf_title + s->pf_body > 0;
    return s->confirmed;
}

/* The least of the bounding terms' block bounds, rescaled from the term's
 * idf to the phrase's, over that term's block. */
double match_phrase_block_bound(match_ctx *e, match_sc *s, uint32_t target, uint32_t *upto)
{
    double best = s->max_score;
    *upto = SEG_END;
    for (uint32_t i = 0; i < s->bound_terms; i++) {
        match_sc *t = s->terms[i];
        uint32_t last;
        double b = match_sc_block_bound(e, t, target, &last) / t->idf * s->idf;
        if (b < best) {
            best = b;
            *upto = last;
        }
    }
    return best;
}

void match_phrase_count(match_ctx *e, match_sc *s)
{
    phrase_positions(e, s, 0); /* an error is e->rc's: the search fails */
}

void match_phrase_advance(match_ctx *e, match_sc *s, uint32_t target)
{
    for (match_phrase_approx(e, s, target); s->doc != SEG_END && !match_phrase_confirm(e, s);)
        match_phrase_approx(e, s, s->doc + 1);
}

static int bool_matches_not(match_ctx *e, match_sc *s, uint32_t d)
{
    for (uint32_t i = 0; i < s->n_kids; i++) {
        if (s->occur[i] != Q_MUST_NOT) continue;
        if (s->kids[i]->doc < d) match_sc_next(e, s->kids[i], d);
        if (s->kids[i]->doc == d) return 1;
    }
    return 0;
}

/* Whether some SHOULD clause of s matches d (clauses before d move to it). */
static int bool_any_should(match_ctx *e, match_sc *s, uint32_t d)
{
    int any = 0, shoulds = 0;
    for (uint32_t i = 0; i < s->n_kids; i++) {
        if (s->occur[i] != Q_SHOULD) continue;
        match_sc *k = s->kids[i];
        shoulds++;
        if (k->doc < d) match_sc_next(e, k, d);
        any |= k->doc == d;
    }
    return any || !shoulds;
}

void match_bool_advance(match_ctx *e, match_sc *s, uint32_t target)
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
                match_sc *k = s->kids[i];
                if (k->doc < d) match_sc_next(e, k, d);
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
                match_sc *k = s->kids[i];
                if (k->doc < d) match_sc_next(e, k, d);
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

void match_date_advance(match_ctx *e, match_sc *s, uint32_t target)
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
