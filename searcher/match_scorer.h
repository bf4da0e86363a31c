/* match_scorer: the scorer tree of the native evaluator (internal: only
 * searcher/match*.c include it). One scorer per query-tree node, over one
 * segment at a time: terms (a posting cursor), phrases (a conjunction of
 * terms confirmed by positions), prefixes (the best of their expansions),
 * boolean groups and date filters. Every scorer is a document iterator
 * (match_sc_next / match_sc_approx + match_sc_confirm) that can score its
 * current document (match_sc_score) and bound its score over a range of
 * documents (match_sc_block_bound); the root algorithms (match_root.h) drive
 * the tree's top clauses with nothing else.
 *
 * A match_ctx is one search's state: the index, the BM25 parameters, the
 * segment being evaluated and its cached length norms, the pruning threshold
 * and the first error. Errors are sticky: a failing call records its code in
 * ctx->rc (and ctx->err), moves the scorer to SEG_END, and every later call
 * sees it. Not thread-safe: one context per thread; the index is shared
 * read-only.
 *
 * The per-posting functions are static inline here: the root algorithms in
 * other units call them for every candidate document. */
#ifndef IDX_MATCH_SCORER_H
#define IDX_MATCH_SCORER_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bm25.h"
#include "common/index.h"
#include "common/segment.h"
#include "common/status.h"
#include "searcher/match.h"
#include "searcher/match_terms.h"
#include "searcher/qparse.h"

typedef struct match_ctx {
    idx_index *ix; /* borrowed */
    seg *s;        /* the segment being evaluated */
    uint32_t seg_no;
    const match_options *o;
    bm25_params p;
    double n_docs;
    int bounds_ok; /* stored block bounds are valid for these parameters */
    double theta;  /* the score a new hit must beat now; -inf when none (or exhaustive) */
    /* The same bar while every match is still counted (theta is -inf then;
     * -inf when the root algorithm does not say): a root phrase candidate
     * whose frequency bound stays below it must only be found to occur, not
     * counted (match_phrase_confirm), as the root will count it unscored. */
    double count_bar;
    int seg_counted; /* this segment's matches are already counted (match_root.c) */
    int rc;          /* sticky first error */
    idx_err *err;
    /* per-document length norms, cached for the document being scored */
    uint32_t norm_doc;
    double inv_title, inv_body;
    const double *inv_norm;  /* index_open's inverse norms, when they fit these parameters */
    const uint64_t *deleted; /* the segment's deleted documents (deletes.h); NULL when none */
    /* positions scratch for phrases (owned; match_ctx_fini frees it) */
    uint32_t *pos;
    size_t pos_cap;
    uint32_t n_scorers; /* opened in this segment, bounded by MATCH_MAX_SCORERS */
    /* the search's term lookups in every segment, shared by the segments'
     * scorer trees (owned; created on first use, match_ctx_fini frees it) */
    match_terms *terms;
    /* the search's prefix expansions, likewise (match_scorer.c) */
    struct match_expansion *exp;
    uint32_t n_exp;
    /* scorers freed by match_sc_free, reused by the next segment's tree:
     * one allocation per scorer per search, not per segment (owned;
     * match_ctx_fini frees them) */
    struct match_sc *spare;
} match_ctx;

/* A context for a search of ix with o (both must outlive it); err receives
 * the first error. */
void match_ctx_init(match_ctx *e, idx_index *ix, const match_options *o, idx_err *err);
/* Points the context at segment seg_no; the previous segment's scorers must
 * be freed first. */
void match_ctx_segment(match_ctx *e, uint32_t seg_no);
void match_ctx_fini(match_ctx *e);

/* Records rc (IDX_EINTERNAL for 0) as the context's error unless one is
 * already recorded; returns the recorded one. */
static inline int match_fail(match_ctx *e, int rc)
{
    if (!e->rc) e->rc = rc ? rc : IDX_EINTERNAL;
    return e->rc;
}

/* Pruning compares bounds computed in another summation order than the
 * canonical score, so it keeps a small margin on the safe side. */
static inline int match_cannot_beat(double bound, double theta)
{
    return bound + 1e-9 * (1.0 + fabs(theta)) <= theta;
}

/* The document's inverse length norms (title, body): precomputed by
 * index_open for the index's own b, computed here for another. */
static inline void match_norms(match_ctx *e, uint32_t doc)
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
static inline double match_sat(match_ctx *e, qparse_field field, int label, uint32_t doc,
                               uint32_t tf_title, uint32_t tf_body)
{
    if (label) return bm25_sat(&e->p, (double)tf_body);
    match_norms(e, doc);
    double tfw = e->p.title_weight * tf_title * e->inv_title;
    if (field != QF_TITLE) tfw += tf_body * e->inv_body;
    return bm25_sat(&e->p, tfw);
}

typedef enum {
    MATCH_SC_TERM,
    MATCH_SC_PHRASE,
    MATCH_SC_PREFIX,
    MATCH_SC_BOOL,
    MATCH_SC_DATE,
    MATCH_SC_NONE /* matches nothing */
} match_sc_kind;

typedef struct match_sc match_sc;

struct match_sc {
    match_sc_kind kind;
    qparse_field field;
    int filter;       /* matches without scoring: a date range, or a group of them */
    uint32_t doc;     /* current document, SEG_END when exhausted */
    double max_score; /* no document scores above this */
    double other_max; /* root phrases: the most the other root clauses can add */
    /* cached score of `doc` */
    uint32_t scored_doc;
    double score;
    /* MATCH_SC_TERM */
    seg_cursor cur;
    uint32_t blk_from, blk_upto; /* cached block-max bound for docs in [from, upto] */
    double blk_bound;
    double idf;
    double bound_idf;           /* idf times the segment's bound factor: scales stored bounds */
    int label_term;             /* author:/category: terms: no length normalisation */
    char key[SEG_MAX_TERM + 1]; /* the term as stored, for --explain */
    size_t key_len;
    /* MATCH_SC_PHRASE */
    match_sc **terms; /* MATCH_SC_TERM children, in phrase order */
    match_sc **by_df; /* the same, rarest first: the order the leapfrog moves them in */
    uint32_t *rel;    /* relative positions */
    uint32_t n_terms, slop;
    int unordered;  /* NEAR: the terms in any order (qparse_node.unordered) */
    uint32_t *need; /* NEAR: term i's count in the query if it is the first of
                     * them, else 0 (`a NEAR a` needs two positions of a) */
    uint32_t pf_title, pf_body;
    /* The first bound_terms terms' block bounds bound the phrase's score (a
     * phrase occurs at most as often as any of its terms; a sloppy one as its
     * first term): n_terms, 1, or 0 for none (NEAR, labels, foreign BM25
     * parameters) */
    uint32_t bound_terms;
    int confirmed;  /* positions checked at `doc` (two-phase matching) */
    int pf_partial; /* confirmed by an occurrence, pf_* not counted yet (match_sc_score does) */
    /* MATCH_SC_PREFIX and MATCH_SC_BOOL children */
    match_sc **kids;
    qparse_occur *occur;
    uint32_t n_kids;
    uint32_t n_must;
    int musts_match; /* some MUST clause is more than a filter: SHOULDs are optional */
    /* MATCH_SC_DATE */
    uint32_t lo, hi;
    /* the context's spare list match_sc_free returns the scorer to, and its link there */
    match_sc **pool, *next_spare;
};

/* The scorer of query node n in the context's segment, positioned on its
 * first match. NULL only when even the scorer could not be allocated (or
 * MATCH_MAX_SCORERS was passed); otherwise check e->rc. Free with
 * match_sc_free (the whole subtree; NULL is fine), before match_ctx_fini:
 * it returns the scorers to the context. */
match_sc *match_sc_build(match_ctx *e, const qparse_node *n);
void match_sc_free(match_sc *s);

/* The kinds' moves, for match_sc_next (defined in match_scorer.c). */
void match_phrase_approx(match_ctx *e, match_sc *s, uint32_t target);
int match_phrase_confirm(match_ctx *e, match_sc *s);
void match_phrase_advance(match_ctx *e, match_sc *s, uint32_t target);
/* A root phrase's score bound at its current candidate, from its terms'
 * frequencies there (no positions decoded). */
double match_phrase_bound(match_ctx *e, const match_sc *s);
/* The phrase part of match_sc_block_bound (s->bound_terms > 0). */
double match_phrase_block_bound(match_ctx *e, match_sc *s, uint32_t target, uint32_t *upto);
/* Counts the occurrences of a phrase confirmed with pf_partial set. */
void match_phrase_count(match_ctx *e, match_sc *s);
void match_bool_advance(match_ctx *e, match_sc *s, uint32_t target);
void match_date_advance(match_ctx *e, match_sc *s, uint32_t target);

static inline void match_term_advance(match_ctx *e, match_sc *s, uint32_t target)
{
    int r = seg_cursor_seek(&s->cur, target, e->err);
    while (!r && s->field == QF_TITLE && s->cur.doc != SEG_END && s->cur.tf_title == 0)
        r = seg_cursor_next(&s->cur, e->err);
    if (r) match_fail(e, r);
    s->doc = r ? SEG_END : s->cur.doc;
}

/* Moves s to its first matching document >= target (no-op if already
 * there); returns e->rc. */
static inline int match_sc_next(match_ctx *e, match_sc *s, uint32_t target)
{
    /* Already there (SEG_END is for good), unless a phrase stopped at an
     * unconfirmed candidate. */
    if (s->doc >= target && (s->kind != MATCH_SC_PHRASE || s->confirmed || s->doc == SEG_END))
        return 0;
    if (s->kind == MATCH_SC_PHRASE && s->doc >= target) target = s->doc;
    if (target == SEG_END) {
        s->doc = SEG_END;
        return 0;
    }
    switch (s->kind) {
    case MATCH_SC_TERM:
        match_term_advance(e, s, target);
        break;
    case MATCH_SC_PHRASE:
        match_phrase_advance(e, s, target);
        break;
    case MATCH_SC_PREFIX: {
        uint32_t min = SEG_END;
        for (uint32_t i = 0; i < s->n_kids; i++) {
            if (s->kids[i]->doc < target) match_sc_next(e, s->kids[i], target);
            if (s->kids[i]->doc < min) min = s->kids[i]->doc;
        }
        s->doc = min;
        break;
    }
    case MATCH_SC_BOOL:
        if (s->n_kids) match_bool_advance(e, s, target);
        break;
    case MATCH_SC_DATE:
        match_date_advance(e, s, target);
        break;
    case MATCH_SC_NONE:
        s->doc = SEG_END;
        break;
    }
    return e->rc;
}

/* Two-phase iteration: approximate moves may stop on candidates that
 * match_sc_confirm then accepts or rejects; only phrases have a costly
 * phase. */
static inline void match_sc_approx(match_ctx *e, match_sc *s, uint32_t target)
{
    if (s->kind == MATCH_SC_PHRASE && s->doc < target)
        match_phrase_approx(e, s, target);
    else
        match_sc_next(e, s, target);
}

static inline int match_sc_confirm(match_ctx *e, match_sc *s)
{
    return s->kind == MATCH_SC_PHRASE ? match_phrase_confirm(e, s) : 1;
}

/* Score of s at its current document (which must match). */
static inline double match_sc_score(match_ctx *e, match_sc *s)
{
    if (s->scored_doc == s->doc) return s->score;
    double v = 0;
    switch (s->kind) {
    case MATCH_SC_TERM:
        v = s->idf * match_sat(e, s->field, s->label_term, s->doc, s->cur.tf_title, s->cur.tf_body);
        break;
    case MATCH_SC_PHRASE:
        if (s->pf_partial) match_phrase_count(e, s);
        v = s->idf * match_sat(e, s->field, s->label_term, s->doc, s->pf_title, s->pf_body);
        break;
    case MATCH_SC_PREFIX:
        /* The best expansion: a prefix is one query word, however many
         * index terms it reaches. */
        for (uint32_t i = 0; i < s->n_kids; i++)
            if (s->kids[i]->doc == s->doc) {
                double k = match_sc_score(e, s->kids[i]);
                if (k > v) v = k;
            }
        break;
    case MATCH_SC_BOOL:
        for (uint32_t i = 0; i < s->n_kids; i++) {
            if (s->occur[i] == Q_MUST_NOT) continue;
            match_sc *k = s->kids[i];
            if (k->doc < s->doc) match_sc_next(e, k, s->doc);
            if (k->doc == s->doc) v += match_sc_score(e, k);
        }
        break;
    case MATCH_SC_DATE:
    case MATCH_SC_NONE:
        break;
    }
    s->scored_doc = s->doc;
    s->score = v;
    return v;
}

/* An upper bound of s's score at its current document, without decoding
 * positions: a phrase's frequency bound, any other scorer's maximum. */
static inline double match_sc_doc_bound(match_ctx *e, const match_sc *s)
{
    return s->kind == MATCH_SC_PHRASE ? match_phrase_bound(e, s) : s->max_score;
}

/* An upper bound of s's score for documents in [target, *upto]. */
static inline double match_sc_block_bound(match_ctx *e, match_sc *s, uint32_t target,
                                          uint32_t *upto)
{
    if (s->kind == MATCH_SC_TERM && e->bounds_ok) {
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
                s->blk_bound = s->bound_idf * b;
            } else {
                float b;
                if (!seg_cursor_block_info(&s->cur, target, &last, &b)) {
                    *upto = SEG_END;
                    return 0;
                }
                s->blk_bound = s->bound_idf * (double)b;
            }
            s->blk_from = target;
            s->blk_upto = last;
        }
        *upto = s->blk_upto;
        return s->blk_bound;
    }
    if (s->kind == MATCH_SC_PHRASE && s->bound_terms)
        return match_phrase_block_bound(e, s, target, upto);
    *upto = SEG_END;
    return s->max_score;
}

#endif
