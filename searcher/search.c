/* search: see search.h. Moved out of cmd_query.c unchanged in behaviour so that
 * idx-fcgi answers exactly like `idx query`. */
#include "searcher/search.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "searcher/feedback.h"
#include "searcher/suggest.h"

/* Offsets of a hit's stored strings in fields_, turned into pointers only
 * once every hit is in (the buffer moves as it grows). */
enum { REF_ID, REF_TITLE, REF_URL, REF_DATE, REF_AUTHOR, REF_CATEGORY, REF_EXTRA, REF_N };
struct search_field_ref {
    size_t off[REF_N], len[REF_N];
};

double search_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int search_init(search_ctx *c, idx_index *ix, int ids_only, idx_err *err)
{
    memset(c, 0, sizeof *c);
    c->ix = ix;
    c->ids_only = ids_only;
    int rc = index_ana_new(ix, &c->a, err);
    if (!rc && !ids_only) rc = snip_new(c->a, NULL, &c->sn, err);
    if (rc) {
        search_fini(c);
        return rc;
    }
    c->eo = match_options_default(ix);
    for (uint32_t i = 0; i < ix->meta.n_fields; i++)
        c->qo.fields[i] = ix->meta.field[i];
    c->qo.n_fields = ix->meta.n_fields;
    return 0;
}

void search_fini(search_ctx *c)
{
    search_release(c);
    free(c->hits);
    free(c->sr_);
    free(c->parts_);
    free(c->refs_);
    buf_free(&c->scratch_);
    buf_free(&c->fields_);
    buf_free(&c->suggest_);
    buf_free(&c->expanded_);
    feedback_free(c->fb_);
    snip_free(c->sn);
    ana_free(c->a);
    memset(c, 0, sizeof *c);
}

void search_release(search_ctx *c)
{
    for (size_t i = 0; i < c->filled_; i++) {
        snip_result_free(&c->sr_[i]);
        free(c->parts_[i]);
    }
    c->filled_ = 0;
    facets_result_free(&c->facet_res);
}

#define GROW(ptr, n)                                                                               \
    do {                                                                                           \
        void *p_ = realloc((ptr), (n) * sizeof *(ptr));                                            \
        if (p_)                                                                                    \
            (ptr) = p_;                                                                            \
        else                                                                                       \
            ok = 0;                                                                                \
    } while (0)

static int reserve(search_ctx *c, size_t n)
{
    if (n <= c->cap_) return 0;
    int ok = 1;
    GROW(c->hits, n);
    GROW(c->sr_, n);
    GROW(c->parts_, n);
    GROW(c->refs_, n);
    if (!ok) return -1;
    c->cap_ = n;
    return 0;
}

static int past_deadline(const search_ctx *c, idx_err *err)
{
    if (c->deadline_ms > 0 && search_now_ms() > c->deadline_ms)
        return err_set(err, SEARCH_ETIMEOUT, "query: time limit exceeded");
    return 0;
}

/* 1 if the body of document doc holds term[0..len), 0 if not, -1 unsure. */
static int body_holds(seg *s, uint32_t doc, const char *term, size_t len)
{
    if (len > SEG_MAX_TERM) return 0; /* never stored */
    idx_err err = {0};
    seg_term t;
    seg_cursor c;
    int rc = seg_lookup(s, term, len, &t, &err);
    if (rc <= 0) return rc;
    if (seg_cursor_open(s, &t, &c, &err) || seg_cursor_seek(&c, doc, &err)) return -1;
    return c.doc == doc && c.tf_body > 0;
}

int search_body_has(void *probe, const qparse_node *leaf)
{
    const search_body_probe *p = probe;
    if (p->ix->ops->id != ENGINE_NATIVE || p->seg >= p->ix->n_segs ||
        (leaf->kind != Q_TERM && leaf->kind != Q_PHRASE))
        return 1;
    for (uint32_t k = 0; k < leaf->nterms; k++)
        if (!body_holds(p->ix->segs[p->seg], p->doc, leaf->terms[k].text, leaf->terms[k].len))
            return 0;
    return 1;
}

int search_body_positions(void *probe, const char *term, size_t len, uint32_t **pos, size_t *cap,
                          size_t *n)
{
    const search_body_probe *p = probe;
    *n = 0;
    if (p->ix->ops->id != ENGINE_NATIVE || p->seg >= p->ix->n_segs) return -1;
    if (len > SEG_MAX_TERM) return 0; /* never stored */
    seg *s = p->ix->segs[p->seg];
    idx_err err = {0};
    seg_term t;
    seg_cursor c;
    int rc = seg_lookup(s, term, len, &t, &err);
    if (rc <= 0) return rc;
    if (seg_cursor_open(s, &t, &c, &err) || seg_cursor_seek(&c, p->doc, &err)) return -1;
    if (c.doc != p->doc || !c.tf_body) return 0;
    if (buf_grow(pos, cap, c.tf_body, sizeof **pos)) return -1;
    /* Title positions are not wanted: at most one (position 0) is stored. */
    uint32_t title[1], n_title, n_body;
    if (seg_cursor_positions_upto(&c, 0, UINT32_MAX, title, &n_title, *pos, &n_body, &err))
        return -1;
    *n = n_body;
    return 0;
}

/* Fills hits[0..n) for r: stored fields, snippets, explanations. */
static int fetch_hits(search_ctx *c, const qparse_tree *q, const match_result *r, idx_err *err)
{
    static const int which[REF_N] = {FIELD_ID,     FIELD_TITLE,    FIELD_URL,  FIELD_DATE,
                                     FIELD_AUTHOR, FIELD_CATEGORY, FIELD_EXTRA};
    search_field_ref *refs = c->refs_;
    c->fields_.len = 0;
    for (uint32_t i = 0; i < r->n_hits; i++) {
        const match_hit *h = &r->hits[i];
        search_hit *rh = &c->hits[i];
        memset(rh, 0, sizeof *rh);
        memset(&refs[i], 0, sizeof refs[i]);
        rh->rank = c->eo.offset + i + 1;
        rh->score = h->score;
        rh->collapsed = r->collapsed ? r->collapsed[i] : 0;
        int rc = past_deadline(c, err);
        if (rc) return rc;
        if (c->ids_only) {
            /* trec needs only the id: skip decompressing the stored article */
            size_t len;
            const char *id = index_doc_id(c->ix, h->seg, h->doc, &c->scratch_, &len, err);
            if (!id) return err->code ? err->code : IDX_EDATA;
            refs[i].off[REF_ID] = c->fields_.len;
            refs[i].len[REF_ID] = len;
            buf_put(&c->fields_, id, len);
            continue;
        }
        seg_doc d;
        rc = index_doc_get(c->ix, h->seg, h->doc, &c->scratch_, &d, err);
        if (rc) return rc;
        for (int f = 0; f < REF_N; f++) {
            refs[i].off[f] = c->fields_.len;
            refs[i].len[f] = d.len[which[f]];
            buf_put(&c->fields_, d.field[which[f]], d.len[which[f]]);
        }
        search_body_probe probe = {c->ix, h->seg, h->doc};
        snip_set_body_hint(c->sn, search_body_has, &probe);
        snip_set_body_index(c->sn, search_body_positions, &probe, d.posmap, d.posmap_len);
        rc = snip_doc(c->sn, q, d.field[FIELD_TITLE], d.len[FIELD_TITLE], d.field[FIELD_BODY],
                      d.len[FIELD_BODY], &c->sr_[i], err);
        snip_set_body_hint(c->sn, NULL, NULL);
        snip_set_body_index(c->sn, NULL, NULL, NULL, 0);
        if (rc) return rc;
        rh->snip = &c->sr_[i];
        if (c->explain) {
            rc = match_explain(c->ix, q, &c->eo, h->seg, h->doc, &c->parts_[i], &rh->n_parts, err);
            if (rc) return rc;
            rh->parts = c->parts_[i];
        }
    }
    if (c->fields_.oom) return err_set(err, IDX_ENOMEM, "query: out of memory");
    const char *base = (const char *)c->fields_.p;
    for (uint32_t i = 0; i < r->n_hits; i++) {
        search_hit *rh = &c->hits[i];
        rh->id = base + refs[i].off[REF_ID];
        rh->id_len = refs[i].len[REF_ID];
        rh->title = base + refs[i].off[REF_TITLE];
        rh->title_len = refs[i].len[REF_TITLE];
        rh->url = base + refs[i].off[REF_URL];
        rh->url_len = refs[i].len[REF_URL];
        rh->date = base + refs[i].off[REF_DATE];
        rh->date_len = refs[i].len[REF_DATE];
        rh->author = base + refs[i].off[REF_AUTHOR];
        rh->author_len = refs[i].len[REF_AUTHOR];
        rh->category = base + refs[i].off[REF_CATEGORY];
        rh->category_len = refs[i].len[REF_CATEGORY];
        rh->extra = base + refs[i].off[REF_EXTRA];
        rh->extra_len = refs[i].len[REF_EXTRA];
    }
    return 0;
}

/* The stage after matching: r's hits fetched into c->hits (r is freed),
 * or everything released when rc or fetching fails. */
static int answer_hits(search_ctx *c, const qparse_tree *q, match_result *r, int rc, idx_err *err)
{
    if (!rc && reserve(c, r->n_hits ? r->n_hits : 1))
        rc = err_set(err, IDX_ENOMEM, "query: out of memory");
    if (!rc) {
        memset(c->sr_, 0, r->n_hits * sizeof *c->sr_);
        memset(c->parts_, 0, r->n_hits * sizeof *c->parts_);
        c->filled_ = r->n_hits;
        rc = fetch_hits(c, q, r, err);
    }
    if (!rc) {
        c->n_hits = r->n_hits;
        c->total = r->total;
        c->total_exact = r->total_exact;
    } else {
        search_release(c);
    }
    match_result_free(r);
    return rc;
}

static void answer_reset(search_ctx *c)
{
    search_release(c);
    c->n_hits = 0;
    c->total = 0;
    c->total_exact = 0;
    c->took_ms = 0;
    c->expanded = NULL;
    c->expanded_len = 0;
}

/* The context's feedback over its analyzer, made on first use. */
static int feedback_of(search_ctx *c, idx_err *err)
{
    if (!c->fb_) c->fb_ = feedback_new(c->a, c->eo.bm25.title_weight);
    return c->fb_ ? 0 : err_set(err, IDX_ENOMEM, "out of memory");
}

/* The selected terms as c->expanded. */
static void set_expanded(search_ctx *c, const feedback_term *t, size_t n)
{
    c->expanded_.len = 0;
    feedback_terms_string(&c->expanded_, t, n);
    buf_put_u8(&c->expanded_, 0);
    if (!n || c->expanded_.oom) return;
    c->expanded = (const char *)c->expanded_.p;
    c->expanded_len = c->expanded_.len - 1;
}

static int expand_query(search_ctx *c, const qparse_tree *q, feedback_query *fq, idx_err *err)
{
    const feedback_term *t = NULL;
    size_t n = 0;
    int rc = feedback_of(c, err);
    if (!rc) rc = feedback_expand(c->fb_, c->ix, &c->scratch_, q, &c->eo, fq, &t, &n, err);
    if (!rc) set_expanded(c, t, n);
    return rc;
}

static int run_once(search_ctx *c, const char *text, size_t len, idx_err *err)
{
    answer_reset(c);
    double t0 = search_now_ms();
    qparse_tree *q = NULL;
    int rc = qparse_parse(c->a, text, len, &c->qo, &q, err);
    if (rc) return rc;
    feedback_query fq;
    memset(&fq, 0, sizeof fq);
    const qparse_tree *mq = q;
    if (c->expand && !(rc = expand_query(c, q, &fq, err))) mq = &fq.tree;
    match_result r;
    memset(&r, 0, sizeof r);
    if (!rc) rc = past_deadline(c, err);
    if (!rc) rc = match_search(c->ix, mq, &c->eo, &r, err);
    if (!rc && facets_any(&c->facets)) {
        /* the facet pass sees every match: the total becomes exact for free */
        rc = facets_count(c->ix, mq, &c->facets, &c->facet_res, err);
        r.total = c->facet_res.matches;
        r.total_exact = 1;
    }
    c->took_ms = search_now_ms() - t0;
    if (!rc) rc = past_deadline(c, err);
    rc = answer_hits(c, mq, &r, rc, err);
    feedback_query_free(&fq);
    qparse_free(q);
    return rc;
}

/* Drops hit (seg, doc) from r, then the first `offset` hits. The article
 * holds every term of its own query, so it is one of the matches counted
 * even when it is not among the hits. */
static void drop_self(match_result *r, uint32_t seg, uint32_t doc, uint32_t offset)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->n_hits; i++)
        if (r->hits[i].seg != seg || r->hits[i].doc != doc) r->hits[n++] = r->hits[i];
    if (r->total) r->total--;
    uint32_t skip = offset < n ? offset : n;
    memmove(r->hits, r->hits + skip, (n - skip) * sizeof *r->hits);
    r->n_hits = n - skip;
}

int search_similar(search_ctx *c, const char *id, size_t len, idx_err *err)
{
    answer_reset(c);
    c->suggestion = NULL;
    c->suggestion_len = 0;
    c->suggestion_run = 0;
    double t0 = search_now_ms();
    uint32_t seg = 0, doc = 0;
    int rc = feedback_of(c, err);
    if (!rc) rc = index_find_id(c->ix, id, len, &seg, &doc, err);
    if (rc < 0) return rc;
    if (rc == 0)
        return err_set(err, SEARCH_ENOID, "similar: no article with id '%.*s'",
                       (int)(len > 200 ? 200 : len), id);
    const feedback_term *t = NULL;
    size_t n = 0;
    feedback_query fq;
    rc = feedback_similar(c->fb_, c->ix, &c->scratch_, seg, doc, &fq, &t, &n, err);
    if (rc) return rc;
    set_expanded(c, t, n);
    /* the article matches its own terms: one more hit from the top, then
     * it and the offset are cut */
    match_options o = c->eo;
    o.k = c->eo.offset + c->eo.k + 1;
    o.offset = 0;
    o.sort = MATCH_SORT_RELEVANCE;
    match_result r;
    memset(&r, 0, sizeof r);
    rc = match_search(c->ix, &fq.tree, &o, &r, err);
    if (!rc) {
        drop_self(&r, seg, doc, c->eo.offset);
        if (r.n_hits > c->eo.k) r.n_hits = c->eo.k;
    }
    c->took_ms = search_now_ms() - t0;
    rc = answer_hits(c, &fq.tree, &r, rc, err);
    feedback_query_free(&fq);
    return rc;
}

int search_run(search_ctx *c, const char *text, size_t len, idx_err *err)
{
    c->suggestion = NULL;
    c->suggestion_len = 0;
    c->suggestion_run = 0;
    int rc = run_once(c, text, len, err);
    if (rc || !c->suggest) return rc;
    rc = suggest_query(c->ix, c->a, text, len, &c->suggest_, err);
    if (rc <= 0) return rc;
    c->suggestion = (const char *)c->suggest_.p;
    c->suggestion_len = c->suggest_.len;
    if (c->total) return 0;
    c->suggestion_run = 1;
    return run_once(c, c->suggestion, c->suggestion_len, err);
}

/* Renders the answer search_run or search_similar (similar: its id) left
 * in c, and releases it; rc is theirs. */
static int render_answer(search_ctx *c, render_format f, const char *qid, const char *text,
                         size_t len, const char *similar, size_t similar_len, int color, buf *out,
                         int rc, idx_err *err)
{
    if (!rc) {
        render_query rq = {.qid = qid,
                           .query = similar ? c->expanded : text,
                           .query_len = similar ? c->expanded_len : len,
                           .total = c->total,
                           .total_exact = c->total_exact,
                           .took_ms = c->took_ms,
                           .color = color,
                           .sort = match_sort_name(similar ? MATCH_SORT_RELEVANCE : c->eo.sort),
                           .suggestion = c->suggestion,
                           .suggestion_len = c->suggestion_len,
                           .suggestion_run = c->suggestion_run,
                           .expanded = similar ? NULL : c->expanded,
                           .expanded_len = similar ? 0 : c->expanded_len,
                           .similar = similar,
                           .similar_len = similar_len,
                           .facets = facets_any(&c->facets) ? &c->facet_res : NULL};
        render_results(out, f, &rq, c->hits, c->n_hits);
        if (out->oom) rc = err_set(err, IDX_ENOMEM, "query: out of memory");
    }
    search_release(c);
    return rc;
}

int search_render(search_ctx *c, render_format f, const char *qid, const char *text, size_t len,
                  int color, buf *out, idx_err *err)
{
    int rc = search_run(c, text, len, err);
    return render_answer(c, f, qid, text, len, NULL, 0, color, out, rc, err);
}

int search_render_similar(search_ctx *c, render_format f, const char *id, size_t len, int color,
                          buf *out, idx_err *err)
{
    int rc = search_similar(c, id, len, err);
    return render_answer(c, f, NULL, NULL, 0, id, len, color, out, rc, err);
}
