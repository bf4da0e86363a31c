#include "searcher/feedback.h"

#include <stdlib.h>
#include <string.h>

#include "common/bm25.h"
#include "common/engine.h"
#include "common/fields.h"
#include "common/strmap.h"
#include "common/xap.h"

/* Terms are rows of the map; acc is the sum over the articles of their
 * length-normalised frequency, cur one article's raw frequency (the rows it
 * touched in `touched`, to normalise and reset them when it is done). */
struct feedback {
    ana *a;
    double title_weight;
    strmap *rows;
    double *acc, *cur;
    uint32_t *touched;
    uint32_t n_rows, cap_rows, n_touched;
    double cur_len;
    int in_title;
    /* the selection, with texts in sel_text; n_sel_xap counts it while
     * Xapian's expand set fills it */
    feedback_term *sel;
    buf sel_text;
    size_t n_sel_xap;
};

feedback_opts feedback_opts_default(void)
{
    return (feedback_opts){25, 2, 0.2};
}

feedback *feedback_new(ana *a, double title_weight)
{
    feedback *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->a = a;
    f->title_weight = title_weight;
    f->rows = strmap_new(1024);
    if (!f->rows) {
        free(f);
        return NULL;
    }
    return f;
}

void feedback_free(feedback *f)
{
    if (!f) return;
    strmap_free(f->rows);
    free(f->acc);
    free(f->cur);
    free(f->touched);
    free(f->sel);
    buf_free(&f->sel_text);
    free(f);
}

void feedback_clear(feedback *f)
{
    strmap_clear(f->rows);
    f->n_rows = 0;
}

static int grow_rows(feedback *f)
{
    uint32_t cap = f->cap_rows ? 2 * f->cap_rows : 1024;
    double *acc = realloc(f->acc, cap * sizeof *acc);
    if (acc) f->acc = acc;
    double *cur = acc ? realloc(f->cur, cap * sizeof *cur) : NULL;
    if (cur) f->cur = cur;
    uint32_t *touched = cur ? realloc(f->touched, cap * sizeof *touched) : NULL;
    if (!touched) return -1;
    f->touched = touched;
    f->cap_rows = cap;
    return 0;
}

static int on_token(void *ctx, const ana_token *t)
{
    feedback *f = ctx;
    if (f->n_rows == f->cap_rows && grow_rows(f)) return IDX_ENOMEM;
    int inserted = 0;
    uint32_t *row = strmap_put(f->rows, t->term, t->len, f->n_rows, &inserted);
    if (!row) return IDX_ENOMEM;
    if (inserted) {
        f->acc[f->n_rows] = 0;
        f->cur[f->n_rows] = 0;
        f->n_rows++;
    }
    double w = f->in_title ? f->title_weight : 1.0;
    if (f->cur[*row] == 0) f->touched[f->n_touched++] = *row;
    f->cur[*row] += w;
    f->cur_len += w;
    return 0;
}

int feedback_add(feedback *f, const char *title, size_t title_len, const char *body,
                 size_t body_len, idx_err *err)
{
    f->n_touched = 0;
    f->cur_len = 0;
    f->in_title = 1;
    int rc = ana_run(f->a, title, title_len, on_token, f, err);
    f->in_title = 0;
    if (!rc) rc = ana_run(f->a, body, body_len, on_token, f, err);
    if (rc == IDX_ENOMEM && !err->code) err_set(err, IDX_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < f->n_touched; i++) {
        uint32_t r = f->touched[i];
        if (!rc) f->acc[r] += f->cur[r] / f->cur_len;
        f->cur[r] = 0;
    }
    return rc;
}

/* Best first; equal scores by the term's bytes. */
static int better(const feedback_term *x, const feedback_term *y)
{
    if (x->score != y->score) return x->score > y->score;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->text, y->text, n);
    return c ? c < 0 : x->len < y->len;
}

static int cmp_terms(const void *a, const void *b)
{
    const feedback_term *x = a, *y = b;
    return better(x, y) ? -1 : better(y, x) ? 1 : 0;
}

/* The selection's array, made on first use. */
static int sel_alloc(feedback *f, idx_err *err)
{
    if (!f->sel && !(f->sel = malloc((FEEDBACK_MAX_TERMS + 1) * sizeof *f->sel)))
        return err_set(err, IDX_ENOMEM, "out of memory");
    return 0;
}

/* Ends a selection of n terms whose texts sel_text holds in order, each
 * NUL-terminated: points the terms at them and sorts them best first. */
static int sel_finish(feedback *f, size_t n, const feedback_term **out, size_t *n_out, idx_err *err)
{
    if (f->sel_text.oom) return err_set(err, IDX_ENOMEM, "out of memory");
    const char *p = (const char *)f->sel_text.p;
    for (size_t i = 0; i < n; i++) {
        f->sel[i].text = p;
        p += f->sel[i].len + 1;
    }
    qsort(f->sel, n, sizeof *f->sel, cmp_terms);
    *out = f->sel;
    *n_out = n;
    return 0;
}

int feedback_select(feedback *f, const feedback_opts *o, uint64_t n_docs, feedback_df_fn df_fn,
                    void *df_ctx, int (*skip)(void *ctx, const char *term, size_t len),
                    void *skip_ctx, const feedback_term **out, size_t *n_out, idx_err *err)
{
    *out = NULL;
    *n_out = 0;
    size_t want = o->n_terms < FEEDBACK_MAX_TERMS ? o->n_terms : FEEDBACK_MAX_TERMS;
    /* cppcheck-suppress knownConditionTrueFalse ; this file's callers never
     * ask for 0 terms, other callers may */
    if (!want) return 0;
    if (sel_alloc(f, err)) return err->code;
    /* the best `want` so far, kept sorted by insertion (want is small);
     * texts point into the map's arena until copied below */
    size_t n = 0, cursor = 0, klen;
    const char *key;
    uint32_t row;
    double max_df = o->max_df_frac * (double)n_docs;
    while (strmap_next(f->rows, &cursor, &key, &klen, &row)) {
        if (f->acc[row] <= 0 || (skip && skip(skip_ctx, key, klen))) continue;
        uint64_t df = 0;
        int rc = df_fn(df_ctx, key, klen, &df, err);
        if (rc) return rc;
        if (df < o->min_df || (double)df > max_df) continue;
        feedback_term t = {key, (uint32_t)klen, df,
                           f->acc[row] * bm25_idf((double)n_docs, (double)df)};
        if (n == want && !better(&t, &f->sel[n - 1])) continue;
        size_t i = n < want ? n++ : n - 1;
        for (; i > 0 && better(&t, &f->sel[i - 1]); i--)
            f->sel[i] = f->sel[i - 1];
        f->sel[i] = t;
    }
    f->sel_text.len = 0;
    for (size_t i = 0; i < n; i++) {
        buf_put(&f->sel_text, f->sel[i].text, f->sel[i].len);
        buf_put_u8(&f->sel_text, 0);
    }
    return sel_finish(f, n, out, n_out, err);
}

/* One term of Xapian's expand set into the selection (xap_term_fn). */
static int on_eset_term(void *ctx, const char *term, size_t len, uint64_t df, double weight,
                        idx_err *err)
{
    feedback *f = ctx;
    (void)err;
    f->sel[f->n_sel_xap++] = (feedback_term){NULL, (uint32_t)len, df, weight};
    buf_put(&f->sel_text, term, len);
    buf_put_u8(&f->sel_text, 0);
    return 0;
}

/* The xapian engine's selection: Xapian's ESet of its documents docids[0..n)
 * (xap_eset), with o's term count and df bounds; its weights are the scores. */
static int select_xapian(feedback *f, idx_index *ix, const uint32_t *docids, uint32_t n,
                         const feedback_opts *o,
                         int (*skip)(void *ctx, const char *term, size_t len), void *skip_ctx,
                         const feedback_term **out, size_t *n_out, idx_err *err)
{
    *out = NULL;
    *n_out = 0;
    if (sel_alloc(f, err)) return err->code;
    f->sel_text.len = 0;
    f->n_sel_xap = 0;
    uint32_t want = o->n_terms < FEEDBACK_MAX_TERMS ? o->n_terms : FEEDBACK_MAX_TERMS;
    uint64_t max_df = (uint64_t)(o->max_df_frac * (double)ix->meta.docs);
    int rc =
        xap_eset(ix->xap, docids, n, want, o->min_df, max_df, skip, skip_ctx, on_eset_term, f, err);
    return rc ? rc : sel_finish(f, f->n_sel_xap, out, n_out, err);
}

int feedback_index_df(void *ctx, const char *term, size_t len, uint64_t *df, idx_err *err)
{
    idx_index *ix = ctx;
    *df = 0;
    if (len > SEG_MAX_TERM) return 0;
    for (uint32_t s = 0; s < ix->n_segs; s++) {
        seg_term t;
        int rc = seg_lookup(ix->segs[s], term, len, &t, err);
        if (rc < 0) return rc;
        if (rc) *df += t.df;
    }
    return 0;
}

int feedback_query_build(feedback_query *q, const qparse_tree *orig, const feedback_term *terms,
                         size_t n, double scale, idx_err *err)
{
    memset(q, 0, sizeof *q);
    const qparse_node *root = orig ? orig->root : NULL;
    size_t n_orig = !root ? 0 : root->kind == Q_BOOL ? root->nclauses : 1;
    q->nodes_ = calloc(n + 1, sizeof *q->nodes_);
    q->clauses_ = calloc(n_orig + n + 1, sizeof *q->clauses_);
    q->terms_ = calloc(n + 1, sizeof *q->terms_);
    if (!q->nodes_ || !q->clauses_ || !q->terms_) {
        feedback_query_free(q);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    if (root && root->kind == Q_BOOL)
        memcpy(q->clauses_, root->clauses, n_orig * sizeof *q->clauses_);
    else if (root)
        q->clauses_[0] = (qparse_clause){Q_SHOULD, root};
    for (size_t i = 0; i < n; i++) {
        q->terms_[i] = (qparse_term){.text = terms[i].text, .len = terms[i].len};
        qparse_node *t = &q->nodes_[i + 1];
        t->kind = Q_TERM;
        t->field = QF_ANY;
        t->terms = &q->terms_[i];
        t->nterms = 1;
        t->weight = scale * terms[i].score / terms[0].score;
        q->clauses_[n_orig + i] = (qparse_clause){Q_SHOULD, t};
    }
    /* one clause stands alone: a BOOL needs two (qparse.h's invariants) */
    qparse_node *r = &q->nodes_[0];
    r->kind = Q_BOOL;
    r->clauses = q->clauses_;
    r->nclauses = (uint32_t)(n_orig + n);
    q->tree.root = r->nclauses == 1 ? q->clauses_[0].node : r;
    return 0;
}

void feedback_query_free(feedback_query *q)
{
    free(q->nodes_);
    free(q->clauses_);
    free(q->terms_);
    memset(q, 0, sizeof *q);
}

void feedback_terms_string(buf *out, const feedback_term *terms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i) buf_put_u8(out, ' ');
        buf_put(out, terms[i].text, terms[i].len);
    }
}

static int add_doc(feedback *f, idx_index *ix, buf *scratch, uint32_t seg, uint32_t doc,
                   idx_err *err)
{
    seg_doc d;
    int rc = index_doc_get(ix, seg, doc, scratch, &d, err);
    if (!rc)
        rc = feedback_add(f, d.field[FIELD_TITLE], d.len[FIELD_TITLE], d.field[FIELD_BODY],
                          d.len[FIELD_BODY], err);
    return rc;
}

typedef struct term_probe {
    const char *term;
    size_t len;
} term_probe;

static int is_term(void *ctx, const qparse_node *leaf, const qparse_term *t)
{
    const term_probe *p = ctx;
    return leaf->kind != Q_PREFIX && t->len == p->len && !memcmp(t->text, p->term, p->len);
}

/* A candidate expansion term the query already has. */
static int in_query(void *ctx, const char *term, size_t len)
{
    term_probe p = {term, len};
    return qparse_positive_terms(ctx, is_term, &p);
}

int feedback_expand(feedback *f, idx_index *ix, buf *scratch, const qparse_tree *q,
                    const match_options *o, feedback_query *fq, const feedback_term **terms,
                    size_t *n_terms, idx_err *err)
{
    *terms = NULL;
    *n_terms = 0;
    feedback_clear(f);
    match_options fo = *o;
    fo.k = FEEDBACK_EXPAND_DOCS;
    fo.offset = 0;
    fo.exhaustive = 0;
    fo.count_limit = 0; /* only its best hits are used: counting would only cost */
    fo.sort = MATCH_SORT_RELEVANCE;
    match_result r;
    int xapian = ix->ops->id == ENGINE_XAPIAN;
    uint32_t docids[FEEDBACK_EXPAND_DOCS];
    int rc = match_search(ix, q, &fo, &r, err);
    for (uint32_t i = 0; !rc && i < r.n_hits; i++) {
        docids[i] = r.hits[i].doc;
        if (!xapian) rc = add_doc(f, ix, scratch, r.hits[i].seg, r.hits[i].doc, err);
    }
    uint32_t n_fb = r.n_hits;
    match_result_free(&r);
    feedback_opts so = feedback_opts_default();
    so.n_terms = FEEDBACK_EXPAND_TERMS;
    if (!rc && n_fb && xapian)
        rc = select_xapian(f, ix, docids, n_fb, &so, in_query, (void *)q, terms, n_terms, err);
    else if (!rc && n_fb)
        rc = feedback_select(f, &so, ix->meta.docs, feedback_index_df, ix, in_query, (void *)q,
                             terms, n_terms, err);
    if (!rc) rc = feedback_query_build(fq, q, *terms, *n_terms, FEEDBACK_EXPAND_WEIGHT, err);
    return rc;
}

int feedback_similar(feedback *f, idx_index *ix, buf *scratch, uint32_t seg, uint32_t doc,
                     feedback_query *fq, const feedback_term **terms, size_t *n_terms, idx_err *err)
{
    *terms = NULL;
    *n_terms = 0;
    feedback_clear(f);
    feedback_opts so = feedback_opts_default();
    int rc = 0;
    if (ix->ops->id == ENGINE_XAPIAN)
        rc = select_xapian(f, ix, &doc, 1, &so, NULL, NULL, terms, n_terms, err);
    else if (!(rc = add_doc(f, ix, scratch, seg, doc, err)))
        rc = feedback_select(f, &so, ix->meta.docs, feedback_index_df, ix, NULL, NULL, terms,
                             n_terms, err);
    if (!rc) rc = feedback_query_build(fq, NULL, *terms, *n_terms, 1.0, err);
    return rc;
}
