#include "searcher/match_xapian.h"

#include <stdlib.h>
#include <string.h>

#include "common/segment.h"

static xap_scope match_xapian_scope(qparse_field f)
{
    return f == QF_ANY ? XAP_FIELDS : f == QF_TITLE ? XAP_TITLE : XAP_LABEL;
}

static int match_xapian_node(xap_query *xq, const qparse_node *n, int *filter, idx_err *err);

static int match_xapian_phrase(xap_query *xq, const qparse_node *n, idx_err *err)
{
    if (n->nterms > MATCH_PHRASE_MAX_TERMS)
        return err_set(err, IDX_EUSAGE, "query: a phrase may have at most %d words",
                       MATCH_PHRASE_MAX_TERMS);
    char keys[MATCH_PHRASE_MAX_TERMS][SEG_MAX_TERM + 8];
    const char *terms[MATCH_PHRASE_MAX_TERMS];
    size_t lens[MATCH_PHRASE_MAX_TERMS];
    for (uint32_t i = 0; i < n->nterms; i++) {
        /* A word too long to be stored makes the phrase match nothing. */
        if (match_term_key(n->field, n->terms[i].text, n->terms[i].len, keys[i], sizeof keys[i],
                           &lens[i]))
            lens[i] = 0;
        terms[i] = keys[i];
    }
    /* Xapian's OP_NEAR never takes one position for two equal terms, and
     * finds no `a NEAR a`: say so rather than answer differently. */
    for (uint32_t i = 0; n->unordered && i < n->nterms; i++)
        for (uint32_t j = 0; j < i; j++)
            if (n->terms[i].len == n->terms[j].len &&
                !memcmp(n->terms[i].text, n->terms[j].text, n->terms[i].len))
                return err_set(err, IDX_EUSAGE,
                               "query: NEAR with a repeated word is not available with the "
                               "xapian engine");
    /* Xapian's window counts the positions a match spans: the phrase's own
     * span plus the slop, as match_scorer.c's phrase_count allows. */
    uint32_t window = n->terms[n->nterms - 1].pos + 1 + n->slop;
    return xap_query_phrase(xq, match_xapian_scope(n->field), terms, lens, n->nterms, window,
                            n->unordered, err);
}

static int match_xapian_bool(xap_query *xq, const qparse_node *n, int *filter, idx_err *err)
{
    size_t cap = n->nclauses ? n->nclauses : 1;
    xap_occur *occur = malloc(cap * sizeof *occur);
    int *filters = malloc(cap * sizeof *filters);
    int rc = occur && filters ? 0 : err_set(err, IDX_ENOMEM, "out of memory");
    /* As match_scorer.c's boolean scorer: a group only filters when all its positive clauses do. */
    *filter = 1;
    for (uint32_t i = 0; i < n->nclauses && !rc; i++) {
        rc = match_xapian_node(xq, n->clauses[i].node, &filters[i], err);
        occur[i] = n->clauses[i].occur == Q_MUST       ? XAP_MUST
                   : n->clauses[i].occur == Q_MUST_NOT ? XAP_MUST_NOT
                                                       : XAP_SHOULD;
        if (occur[i] != XAP_MUST_NOT) *filter &= filters[i];
    }
    if (!rc) rc = xap_query_bool(xq, n->nclauses, occur, filters, err);
    free(occur);
    free(filters);
    return rc;
}

static int match_xapian_node(xap_query *xq, const qparse_node *n, int *filter, idx_err *err)
{
    char key[SEG_MAX_TERM + 8];
    size_t kl = 0;
    *filter = 0;
    switch (n->kind) {
    case Q_TERM:
    case Q_PREFIX:
        if (match_term_key(n->field, n->terms[0].text, n->terms[0].len, key, sizeof key, &kl) ||
            n->kind == Q_TERM) {
            int rc = xap_query_term(xq, match_xapian_scope(n->field), key, kl, err);
            /* weighted terms come from searcher/feedback.h's queries */
            if (!rc && n->weight != 0 && n->weight != 1) rc = xap_query_scale(xq, n->weight, err);
            return rc;
        }
        return xap_query_prefix(xq, match_xapian_scope(n->field), key, kl, MATCH_PREFIX_MAX_TERMS,
                                err);
    case Q_PHRASE:
        return match_xapian_phrase(xq, n, err);
    case Q_DATE:
        *filter = 1;
        return xap_query_date(xq, n->date_lo, n->date_hi, err);
    case Q_BOOL:
        return match_xapian_bool(xq, n, filter, err);
    }
    return err_set(err, IDX_EINTERNAL, "query: unknown node kind %d", (int)n->kind);
}

static xap_params match_xapian_params(const idx_index *ix, const match_options *o)
{
    return (xap_params){o->bm25.k1,
                        o->bm25.b,
                        o->bm25.title_weight,
                        (double)ix->meta.docs,
                        ix->avg_title,
                        ix->avg_body,
                        MATCH_MAX_SCORERS,
                        o->sort == MATCH_SORT_DATE ? 1 : o->sort == MATCH_SORT_DATE_DESC ? -1 : 0};
}

int match_xapian_value_counts(idx_index *ix, const qparse_tree *q, unsigned want, xap_value_fn fn,
                              void *ctx, uint64_t *matches, idx_err *err)
{
    match_options o = match_options_default(ix);
    xap_params p = match_xapian_params(ix, &o);
    xap_query *xq;
    int filter, rc = xap_query_new(ix->xap, &p, &xq, err);
    if (rc) return rc;
    rc = match_xapian_node(xq, q->root, &filter, err);
    if (!rc) rc = xap_query_value_counts(xq, want, fn, ctx, matches, err);
    xap_query_free(xq);
    return rc;
}

/* The collapse counts Xapian gave, as the native engine's out->collapsed. */
static int match_xapian_collapsed(const match_options *o, const xap_hit *xh, uint32_t n,
                                  match_result *out, idx_err *err)
{
    if (!o->collapse || o->sort != MATCH_SORT_RELEVANCE) return 0;
    out->collapsed = malloc((n ? n : 1) * sizeof *out->collapsed);
    if (!out->collapsed) return err_set(err, IDX_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++)
        out->collapsed[i] = xh[i].collapsed;
    return 0;
}

int match_xapian_search(idx_index *ix, const qparse_tree *q, const match_options *o,
                        match_result *out, idx_err *err)
{
    memset(out, 0, sizeof *out);
    xap_params p = match_xapian_params(ix, o);
    xap_query *xq;
    int rc = xap_query_new(ix->xap, &p, &xq, err);
    if (rc) return rc;
    int filter;
    xap_hit *xh = malloc((o->k ? o->k : 1) * sizeof *xh);
    match_hit *hits = malloc((o->k ? o->k : 1) * sizeof *hits);
    if (!xh || !hits) rc = err_set(err, IDX_ENOMEM, "out of memory");
    if (!rc) rc = match_xapian_node(xq, q->root, &filter, err);
    /* Relevance order only, as the native engine (match.h) */
    if (o->collapse && o->sort == MATCH_SORT_RELEVANCE) xap_query_collapse(xq);
    uint32_t n = 0;
    uint64_t counted = 0;
    int exact = 0;
    if (!rc)
        rc = xap_query_run(xq, o->offset, o->k, o->exhaustive ? UINT64_MAX : o->count_limit + 1, xh,
                           &n, &counted, &exact, err);
    xap_query_free(xq);
    if (rc) {
        free(xh);
        free(hits);
        return rc;
    }
    for (uint32_t i = 0; i < n; i++)
        hits[i] = (match_hit){0, xh[i].docid, xh[i].score};
    rc = match_xapian_collapsed(o, xh, n, out, err);
    free(xh);
    if (rc) {
        free(hits);
        return rc;
    }
    out->hits = hits;
    out->n_hits = n;
    /* Xapian counted every match up to count_limit + 1 (xap.h), so an
     * inexact count is past the limit. */
    match_result_set_total(out, exact || counted > o->count_limit ? counted : o->count_limit + 1,
                           o);
    return 0;
}
