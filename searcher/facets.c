/* facets: see facets.h. */
#include "searcher/facets.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/engine.h"
#include "common/fcol.h"
#include "common/strmap.h"
#include "searcher/match.h"
#include "searcher/match_xapian.h"

static const char *const facet_names[FACET_N] = {"category", "year", "month", "author"};
static const uint32_t facet_default_top[FACET_N] = {10, 10, 12, 10};

const char *facets_name(int f)
{
    return facet_names[f];
}

int facets_any(const facets_spec *spec)
{
    for (int f = 0; f < FACET_N; f++)
        if (spec->top[f]) return 1;
    return 0;
}

int facets_parse(const char *s, size_t n, facets_spec *out, idx_err *err)
{
    memset(out, 0, sizeof *out);
    if (n > FACETS_LIST_MAX)
        return err_set(err, IDX_EUSAGE, "facets: the list is too long (%zu bytes; at most %d)", n,
                       FACETS_LIST_MAX);
    for (size_t at = 0; n;) {
        const char *item = s + at, *comma = memchr(item, ',', n - at);
        size_t len = comma ? (size_t)(comma - item) : n - at;
        const char *colon = memchr(item, ':', len);
        size_t name_len = colon ? (size_t)(colon - item) : len;
        int f = 0;
        while (f < FACET_N &&
               (strlen(facet_names[f]) != name_len || memcmp(facet_names[f], item, name_len)))
            f++;
        if (f == FACET_N)
            return err_set(err, IDX_EUSAGE,
                           "facets: unknown facet '%.*s' (category, year, month or author)",
                           (int)name_len, item);
        if (out->top[f])
            return err_set(err, IDX_EUSAGE, "facets: '%s' given twice", facet_names[f]);
        uint32_t top = facet_default_top[f];
        if (colon) {
            top = 0;
            size_t k = name_len + 1;
            for (; k < len && item[k] >= '0' && item[k] <= '9' && top <= FACETS_MAX_TOP; k++)
                top = top * 10 + (uint32_t)(item[k] - '0');
            if (k != len || k == name_len + 1 || !top || top > FACETS_MAX_TOP)
                return err_set(err, IDX_EUSAGE, "facets: %s:N needs N from 1 to %d", facet_names[f],
                               FACETS_MAX_TOP);
        }
        out->top[f] = top;
        if (!comma) break;
        at += len + 1;
    }
    return 0;
}

void facets_format(const facets_spec *spec, buf *b)
{
    const char *sep = "";
    for (int f = 0; f < FACET_N; f++) {
        if (!spec->top[f]) continue;
        buf_printf(b, "%s%s", sep, facet_names[f]);
        if (spec->top[f] != facet_default_top[f]) buf_printf(b, ":%u", spec->top[f]);
        sep = ",";
    }
}

/* ---- the per-segment columns ---- */

enum { COL_AUTHOR = FCOL_AUTHOR, COL_CATEGORY = FCOL_CATEGORY, COL_N = FCOL_FIELDS };

typedef struct col_field {
    uint32_t n_vals;
    const uint32_t *start;   /* n_docs + 1: the document's ids are ids[start[d]..start[d+1]) */
    const uint32_t *ids;     /* value ids, each once per document */
    const uint32_t *val_off; /* n_vals + 1 offsets of the values' bytes in pool */
} col_field;

/* One segment's columns, in one malloc'd block that starts with this header
 * (so that index_close frees it with free()). */
typedef struct facet_col {
    uint32_t n_docs, n_months;
    const uint32_t *month_of; /* per document: 0 undated, else 1 + its index in months */
    const uint32_t *months;   /* the segment's distinct YYYYMM, ascending */
    col_field f[COL_N];
    const char *pool;
} facet_col;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Segment s's columns (fcol_of_segment: its facet section, or one rebuilt
 * from the store for a segment written before the section existed) and
 * month numbers from its date column, copied into one aligned block. A
 * damaged page of either is an error: counts are never silently short. */
static facet_col *col_load(seg *s, idx_err *err)
{
    buf own = {0};
    fcol_view v;
    uint32_t n = seg_ndocs(s);
    uint32_t *months = NULL;
    facet_col *c = NULL;
    const uint8_t *dates = seg_dates(s, err);
    if (!dates || fcol_of_segment(s, &own, &v, err)) goto out;
    if (!(months = malloc(((size_t)n + 1) * sizeof *months))) {
        err_set(err, IDX_ENOMEM, "facets: out of memory");
        goto out;
    }
    size_t n_months = 0, pool_len = 0;
    for (uint32_t d = 0; d < n; d++) {
        uint32_t date = rd_u32(dates + 4 * (size_t)d);
        if (date) months[n_months++] = date / 100;
    }
    qsort(months, n_months, sizeof *months, cmp_u32);
    size_t distinct = 0;
    for (size_t i = 0; i < n_months; i++)
        if (!distinct || months[distinct - 1] != months[i]) months[distinct++] = months[i];
    n_months = distinct;
    size_t words = (size_t)n + n_months; /* month_of, months */
    for (int f = 0; f < COL_N; f++) {
        words += (size_t)n + 1 + v.f[f].n_ids + v.f[f].n_vals + 1;
        pool_len += fcol_at(v.f[f].val_off, v.f[f].n_vals);
    }
    size_t head = (sizeof *c + alignof(uint32_t) - 1) / alignof(uint32_t) * alignof(uint32_t);
    c = malloc(head + words * sizeof(uint32_t) + pool_len + 1);
    if (!c) {
        err_set(err, IDX_ENOMEM, "facets: out of memory");
        goto out;
    }
    uint32_t *w = (uint32_t *)((char *)c + head);
    char *pool = (char *)(w + words);
    c->n_docs = n;
    c->n_months = (uint32_t)n_months;
    c->months = memcpy(w, months, n_months * sizeof *w);
    w += n_months;
    uint32_t *month_of = w;
    w += n;
    for (uint32_t d = 0; d < n; d++) {
        uint32_t date = rd_u32(dates + 4 * (size_t)d);
        const uint32_t *m =
            date ? bsearch(&(uint32_t){date / 100}, c->months, n_months, sizeof *w, cmp_u32) : NULL;
        month_of[d] = m ? (uint32_t)(m - c->months) + 1 : 0;
    }
    c->month_of = month_of;
    uint32_t pool_at = 0;
    for (int f = 0; f < COL_N; f++) {
        const fcol_field *vf = &v.f[f];
        uint32_t *start = w, *ids = start + n + 1, *val_off = ids + vf->n_ids;
        w = val_off + vf->n_vals + 1;
        fcol_starts(vf, n, start);
        for (uint32_t k = 0; k < vf->n_ids; k++)
            ids[k] = fcol_at(vf->ids, k);
        for (uint32_t i = 0; i <= vf->n_vals; i++)
            val_off[i] = pool_at + fcol_at(vf->val_off, i);
        uint32_t len = fcol_at(vf->val_off, vf->n_vals);
        memcpy(pool + pool_at, vf->pool, len);
        pool_at += len;
        c->f[f] = (col_field){vf->n_vals, start, ids, val_off};
    }
    c->pool = pool;
out:
    free(months);
    buf_free(&own);
    return c;
}

/* Segment sn's columns, loaded on first use and published with one
 * compare-and-swap (as match_sort.c's date runs). */
static const facet_col *col_of(idx_index *ix, uint32_t sn, idx_err *err)
{
    void *c = atomic_load_explicit(&ix->facet_cols[sn], memory_order_acquire);
    if (c) return c;
    c = col_load(ix->segs[sn], err);
    if (!c) return NULL;
    void *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(&ix->facet_cols[sn], &none, c,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        free(c);
        c = none;
    }
    return c;
}

/* ---- counting ---- */

/* One facet's counts over the whole index, by value. */
typedef struct facet_acc {
    strmap *ids;
    uint64_t *count;
    size_t cap;
} facet_acc;

static int acc_add(facet_acc *a, const char *v, size_t len, uint64_t n)
{
    size_t next = strmap_count(a->ids);
    uint32_t *id = strmap_put(a->ids, v, len, (uint32_t)next, NULL);
    if (!id || buf_grow(&a->count, &a->cap, next + 1, sizeof *a->count)) return -1;
    if (*id == next) a->count[next] = 0;
    a->count[*id] += n;
    return 0;
}

/* One segment's counts: per value id, with the ids touched so far, so that
 * folding them into the totals costs the values seen, not all values. */
typedef struct seg_counts {
    uint32_t *count, *touched;
    uint32_t n_touched;
} seg_counts;

typedef struct facet_run {
    const facets_spec *spec;
    const facet_col *const *cols;
    facet_acc acc[FACET_N];
    seg_counts label[COL_N], month;
    uint64_t matches;
    uint32_t seg; /* UINT32_MAX before the first batch */
    int failed;   /* out of memory folding counts */
} facet_run;

static inline void seg_count(seg_counts *c, uint32_t id)
{
    if (!c->count[id]++) c->touched[c->n_touched++] = id;
}

/* Folds run->seg's counts into the totals and clears them. */
static void run_fold(facet_run *run)
{
    if (run->seg == UINT32_MAX) return;
    const facet_col *col = run->cols[run->seg];
    static const int facet_of[COL_N] = {FACET_AUTHOR, FACET_CATEGORY};
    for (int f = 0; f < COL_N; f++) {
        seg_counts *c = &run->label[f];
        const col_field *cf = &col->f[f];
        for (uint32_t i = 0; i < c->n_touched; i++) {
            uint32_t id = c->touched[i];
            if (acc_add(&run->acc[facet_of[f]], col->pool + cf->val_off[id],
                        cf->val_off[id + 1] - cf->val_off[id], c->count[id]))
                run->failed = 1;
            c->count[id] = 0;
        }
        c->n_touched = 0;
    }
    seg_counts *c = &run->month;
    for (uint32_t i = 0; i < c->n_touched; i++) {
        uint32_t id = c->touched[i], ym = col->months[id - 1];
        char key[16];
        int kl = snprintf(key, sizeof key, "%04u-%02u", ym / 100, ym % 100);
        if ((run->spec->top[FACET_YEAR] && acc_add(&run->acc[FACET_YEAR], key, 4, c->count[id])) ||
            (run->spec->top[FACET_MONTH] &&
             acc_add(&run->acc[FACET_MONTH], key, (size_t)kl, c->count[id])))
            run->failed = 1;
        c->count[id] = 0;
    }
    c->n_touched = 0;
}

static void run_batch(void *ctx, uint32_t sn, const uint32_t *docs, uint32_t n)
{
    facet_run *run = ctx;
    run->matches += n;
    if (sn != run->seg) {
        run_fold(run);
        run->seg = sn;
    }
    const facet_col *col = run->cols[sn];
    const facets_spec *sp = run->spec;
    if (sp->top[FACET_YEAR] || sp->top[FACET_MONTH])
        for (uint32_t i = 0; i < n; i++)
            if (col->month_of[docs[i]]) seg_count(&run->month, col->month_of[docs[i]]);
    static const int facet_of[COL_N] = {FACET_AUTHOR, FACET_CATEGORY};
    for (int f = 0; f < COL_N; f++) {
        if (!sp->top[facet_of[f]]) continue;
        const col_field *cf = &col->f[f];
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t k = cf->start[docs[i]]; k < cf->start[docs[i] + 1]; k++)
                seg_count(&run->label[f], cf->ids[k]);
    }
}

/* The query's required date range lies within one calendar year. */
static int within_one_year(const qparse_node *root)
{
    uint32_t lo = QPARSE_DATE_MIN, hi = QPARSE_DATE_MAX;
    if (root->kind == Q_DATE) {
        lo = root->date_lo;
        hi = root->date_hi;
    }
    for (uint32_t i = 0; root->kind == Q_BOOL && i < root->nclauses; i++) {
        const qparse_node *c = root->clauses[i].node;
        if (root->clauses[i].occur != Q_MUST || c->kind != Q_DATE) continue;
        if (c->date_lo > lo) lo = c->date_lo;
        if (c->date_hi < hi) hi = c->date_hi;
    }
    return lo != QPARSE_DATE_MIN && lo <= hi && lo / 10000 == hi / 10000;
}

static int cmp_value(const void *a, const void *b)
{
    const facets_value *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->value, y->value, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* The top values of every asked facet into out. */
static int run_result(facet_run *run, const facets_spec *spec, facets_result *out, idx_err *err)
{
    size_t total = 0, keep = 0, bytes = 0;
    for (int f = 0; f < FACET_N; f++)
        if (spec->top[f]) total += strmap_count(run->acc[f].ids);
    out->vals_ = malloc((total ? total : 1) * sizeof *out->vals_);
    if (!out->vals_) return err_set(err, IDX_ENOMEM, "facets: out of memory");
    for (int f = 0; f < FACET_N; f++) {
        facets_value *v = out->vals_ + keep;
        out->v[f] = v;
        if (!spec->top[f]) continue;
        out->asked[f] = 1;
        size_t cur = 0, n = 0, len;
        const char *key;
        uint32_t id;
        while (strmap_next(run->acc[f].ids, &cur, &key, &len, &id))
            v[n++] = (facets_value){key, len, run->acc[f].count[id]};
        qsort(v, n, sizeof *v, cmp_value);
        if (n > spec->top[f]) n = spec->top[f];
        for (size_t i = 0; i < n; i++)
            bytes += v[i].len;
        out->n[f] = (uint32_t)n;
        keep += n;
    }
    /* the values still point into the counting maps: copy them out, into a
     * pool reserved whole so that it does not move while filled */
    if (buf_reserve(&out->pool_, bytes + 1))
        return err_set(err, IDX_ENOMEM, "facets: out of memory");
    for (size_t i = 0; i < keep; i++) {
        const char *at = (const char *)out->pool_.p + out->pool_.len;
        buf_put(&out->pool_, out->vals_[i].value, out->vals_[i].len);
        out->vals_[i].value = at;
    }
    return 0;
}

static void run_free(facet_run *run)
{
    for (int f = 0; f < FACET_N; f++) {
        strmap_free(run->acc[f].ids);
        free(run->acc[f].count);
    }
    for (int f = 0; f < COL_N; f++) {
        free(run->label[f].count);
        free(run->label[f].touched);
    }
    free(run->month.count);
    free(run->month.touched);
}

/* The length of the value of a "; "-joined field that starts at *at;
 * *at moves past it and its separator. */
static size_t label_value(const char *text, size_t len, size_t *at)
{
    const char *sep = memmem(text + *at, len - *at, "; ", 2);
    size_t end = sep ? (size_t)(sep - text) : len, n = end - *at;
    *at = end + 2;
    return n;
}

/* An author or category field's matches into each of its values, once per
 * value as the native columns count them. */
static void run_label(facet_run *run, int f, const char *text, size_t len, uint64_t n)
{
    for (size_t at = 0; at < len;) {
        size_t start = at, vl = label_value(text, len, &at);
        int seen = !vl;
        for (size_t b = 0; !seen && b < start;) {
            size_t bs = b, bl = label_value(text, start, &b);
            seen = bl == vl && !memcmp(text + bs, text + start, vl);
        }
        if (!seen && acc_add(&run->acc[f], text + start, vl, n)) run->failed = 1;
    }
}

/* A stored value's matches (xap_query_value_counts) into the totals: a
 * date into its year and month, a field into its values. */
static void run_value(void *ctx, xap_value slot, const char *v, size_t len, uint64_t n)
{
    facet_run *run = ctx;
    if (slot != XAP_VALUE_DATE) {
        run_label(run, slot == XAP_VALUE_AUTHOR ? FACET_AUTHOR : FACET_CATEGORY, v, len, n);
        return;
    }
    char key[8];
    if (len != 8) return; /* not a date idx stored */
    memcpy(key, v, 4);
    key[4] = '-';
    memcpy(key + 5, v + 4, 2);
    if ((run->spec->top[FACET_YEAR] && acc_add(&run->acc[FACET_YEAR], key, 4, n)) ||
        (run->spec->top[FACET_MONTH] && acc_add(&run->acc[FACET_MONTH], key, 7, n)))
        run->failed = 1;
}

/* The xapian engine: Xapian's ValueCountMatchSpy over the date, author and
 * category values (an index built before the last two were kept: IDX_EUSAGE). */
static int count_xapian(idx_index *ix, const qparse_tree *q, const facets_spec *sp,
                        facets_result *out, idx_err *err)
{
    unsigned want = (sp->top[FACET_YEAR] || sp->top[FACET_MONTH] ? 1u << XAP_VALUE_DATE : 0) |
                    (sp->top[FACET_AUTHOR] ? 1u << XAP_VALUE_AUTHOR : 0) |
                    (sp->top[FACET_CATEGORY] ? 1u << XAP_VALUE_CATEGORY : 0);
    facet_run run = {.spec = sp, .seg = UINT32_MAX};
    int rc = 0;
    for (int f = 0; f < FACET_N && !rc; f++)
        if (!(run.acc[f].ids = strmap_new(64)))
            rc = err_set(err, IDX_ENOMEM, "facets: out of memory");
    if (!rc) rc = match_xapian_value_counts(ix, q, want, run_value, &run, &run.matches, err);
    if (!rc && run.failed) rc = err_set(err, IDX_ENOMEM, "facets: out of memory");
    if (!rc) rc = run_result(&run, sp, out, err);
    out->matches = run.matches;
    run_free(&run);
    return rc;
}

int facets_count(idx_index *ix, const qparse_tree *q, const facets_spec *spec, facets_result *out,
                 idx_err *err)
{
    memset(out, 0, sizeof *out);
    facets_spec sp = *spec;
    if (sp.top[FACET_YEAR] && !sp.top[FACET_MONTH] && within_one_year(q->root))
        sp.top[FACET_MONTH] = 12;
    if (ix->ops->id != ENGINE_NATIVE) return count_xapian(ix, q, &sp, out, err);
    const facet_col **cols = calloc(ix->n_segs ? ix->n_segs : 1, sizeof *cols);
    facet_run run = {.spec = &sp, .cols = cols, .seg = UINT32_MAX};
    uint32_t max_vals[COL_N] = {0}, max_months = 0;
    int rc = cols ? 0 : err_set(err, IDX_ENOMEM, "facets: out of memory");
    for (uint32_t s = 0; s < ix->n_segs && !rc; s++) {
        if (!(cols[s] = col_of(ix, s, err))) {
            rc = err->code ? err->code : IDX_ENOMEM;
            break;
        }
        for (int f = 0; f < COL_N; f++)
            if (cols[s]->f[f].n_vals > max_vals[f]) max_vals[f] = cols[s]->f[f].n_vals;
        if (cols[s]->n_months > max_months) max_months = cols[s]->n_months;
    }
    for (int f = 0; f < COL_N && !rc; f++) {
        run.label[f].count = calloc((size_t)max_vals[f] + 1, sizeof(uint32_t));
        run.label[f].touched = malloc(((size_t)max_vals[f] + 1) * sizeof(uint32_t));
        if (!run.label[f].count || !run.label[f].touched)
            rc = err_set(err, IDX_ENOMEM, "facets: out of memory");
    }
    if (!rc) {
        run.month.count = calloc((size_t)max_months + 1, sizeof(uint32_t));
        run.month.touched = malloc(((size_t)max_months + 1) * sizeof(uint32_t));
        if (!run.month.count || !run.month.touched)
            rc = err_set(err, IDX_ENOMEM, "facets: out of memory");
    }
    for (int f = 0; f < FACET_N && !rc; f++)
        if (!(run.acc[f].ids = strmap_new(64)))
            rc = err_set(err, IDX_ENOMEM, "facets: out of memory");
    if (!rc) rc = match_each(ix, q, run_batch, &run, err);
    if (!rc) run_fold(&run);
    if (!rc && run.failed) rc = err_set(err, IDX_ENOMEM, "facets: out of memory");
    if (!rc) rc = run_result(&run, &sp, out, err);
    out->matches = run.matches;
    run_free(&run);
    free(cols);
    return rc;
}

void facets_result_free(facets_result *r)
{
    free(r->vals_);
    buf_free(&r->pool_);
    memset(r, 0, sizeof *r);
}
