/* Shared helpers of the evaluator tests (test_match_*.c): temporary indexes
 * built through build_run, and an independent model of an index computed
 * from its stored articles with the analyzer alone (ana_run per field: terms,
 * positions, field lengths, df, cf). Nothing here calls into searcher/match*.c;
 * the model is the oracle the evaluator's answers are checked against.
 *
 * Header-only (static inline), so every test stays one standalone file. */
#ifndef IDX_TEST_MATCH_ORACLE_H
#define IDX_TEST_MATCH_ORACLE_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/analyze.h"
#include "common/bm25.h"
#include "common/index.h"
#include "common/segment.h"
#include "indexer/build.h"
#include "searcher/match.h"
#include "searcher/qparse.h"
#include "tests/unit/testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define EO_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EO_SANITIZED 1
#endif
#endif
#ifndef EO_SANITIZED
#define EO_SANITIZED 0
#endif

/* check's ck_assert_* report every passing assertion to the parent process
 * (one write per call); in loops over thousands of hits that is most of the
 * run time, so hot checks use this, which costs nothing when it holds. */
#define EO_REQUIRE(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) ck_abort_msg(__VA_ARGS__);                                                    \
    } while (0)

/* ------------------------------------------------------------ randomness */

typedef struct eo_rng {
    uint64_t s;
} eo_rng;

static inline uint64_t eo_next(eo_rng *r)
{
    return test_rnd(&r->s);
}

static inline uint32_t eo_below(eo_rng *r, uint32_t n)
{
    return n ? (uint32_t)(eo_next(r) % n) : 0;
}

/* ------------------------------------------------------------ files */

/* The shared corpus file of `name` (docs.jsonl or docs.jsonl.gz) into out;
 * 0 when the shared corpora are not there. */
static inline int eo_corpus(const char *name, char *out, size_t cap)
{
    static const char *const ext[2] = {"docs.jsonl", "docs.jsonl.gz"};
    for (int i = 0; i < 2; i++) {
        char rel[512];
        snprintf(rel, sizeof rel, "corpora/%s/%s", name, ext[i]);
        test_shared_path(out, cap, rel);
        if (access(out, R_OK) == 0) return 1;
    }
    return 0;
}

/* A fresh temporary directory, in /dev/shm when there is one (builds sync). */
static inline void eo_tmpdir(char *out, size_t cap, const char *tag)
{
    struct stat st;
    const char *base =
        stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
            ? "/dev/shm"
            : "/tmp";
    snprintf(out, cap, "%s/idx-test-%s-XXXXXX", base, tag);
    ck_assert_ptr_nonnull(mkdtemp(out));
}

static inline void eo_rmrf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* Copies the first n lines of a (gzipped) JSONL file to out. */
static inline void eo_head_lines(const char *in, const char *out, uint32_t n)
{
    gzFile g = gzopen(in, "rb");
    ck_assert_ptr_nonnull(g);
    FILE *f = fopen(out, "wb");
    ck_assert_ptr_nonnull(f);
    char buf[1 << 16];
    uint32_t lines = 0;
    while (lines < n) {
        int r = gzread(g, buf, sizeof buf);
        if (r <= 0) break;
        int keep = r;
        for (int i = 0; i < r; i++)
            if (buf[i] == '\n' && ++lines == n) {
                keep = i + 1;
                break;
            }
        ck_assert_int_eq(fwrite(buf, 1, (size_t)keep, f), (size_t)keep);
    }
    gzclose(g);
    ck_assert_int_eq(fclose(f), 0);
}

/* Builds an index at dir/name from the inputs, cutting a segment every
 * segment_docs input records (0: one segment), and opens it. */
static inline idx_index *eo_build_segs(const char *dir, const char *name, const char *const *inputs,
                                       size_t n_inputs, uint32_t segment_docs)
{
    char out[600];
    snprintf(out, sizeof out, "%s/%s", dir, name);
    build_opts o = {0};
    o.out = out;
    o.inputs = inputs;
    o.n_inputs = n_inputs;
    o.format = FMT_AUTO;
    o.mem_bytes = 128u << 20;
    o.threads = 2;
    o.ana = ana_config_default();
    o.bm25 = bm25_default();
    o.segment_docs = segment_docs;
    build_summary sum;
    idx_err err = {0};
    ck_assert_msg(build_run(&o, &sum, &err) == 0, "build %s: %s", name, err.msg);
    idx_index *ix = NULL;
    ck_assert_msg(index_open(out, &ix, &err) == 0, "open %s: %s", name, err.msg);
    return ix;
}

/* The same with one segment. */
static inline idx_index *eo_build(const char *dir, const char *name, const char *const *inputs,
                                  size_t n_inputs)
{
    idx_index *ix = eo_build_segs(dir, name, inputs, n_inputs, 0);
    ck_assert_uint_eq(ix->n_segs, 1);
    return ix;
}

/* Rebuilds the documents of a one-segment index ix1 (from the same inputs)
 * as an index of `segs` segments, which must pass seg_check. */
static inline idx_index *eo_build_split(const char *dir, const char *name,
                                        const char *const *inputs, size_t n_inputs,
                                        const idx_index *ix1, uint32_t segs)
{
    seg_stats st;
    seg_get_stats(ix1->segs[0], &st); /* records, so the cut falls as intended */
    uint32_t per = (uint32_t)((st.store_records + segs - 1) / segs);
    idx_index *ix = eo_build_segs(dir, name, inputs, n_inputs, per);
    ck_assert_uint_eq(ix->n_segs, segs);
    idx_err err = {0};
    for (uint32_t s = 0; s < ix->n_segs; s++)
        ck_assert_msg(seg_check(ix->segs[s], &ix->meta.bm25, &err) == 0,
                      "%s segment %u: seg_check: %s", name, s + 1, err.msg);
    ck_assert_uint_eq(ix->meta.docs, ix1->meta.docs);
    return ix;
}

/* Segment counts the evaluator tests cover; eo_build_all makes them. */
#define EO_N_LAYOUTS 3
static const uint32_t eo_layout_segs[EO_N_LAYOUTS] = {1, 2, 7};

/* out[0] = ix1 (one segment), then the same inputs as 2 and 7 segments. */
static inline void eo_build_all(const char *dir, const char *name, const char *const *inputs,
                                size_t n_inputs, idx_index *ix1, idx_index **out)
{
    out[0] = ix1;
    for (int k = 1; k < EO_N_LAYOUTS; k++) {
        char sub[64];
        snprintf(sub, sizeof sub, "%.40s-%useg", name, eo_layout_segs[k]);
        out[k] = eo_build_split(dir, sub, inputs, n_inputs, ix1, eo_layout_segs[k]);
    }
}

static inline void eo_close_all(idx_index **all)
{
    for (int k = 0; k < EO_N_LAYOUTS; k++)
        index_close(all[k]);
}

/* A hit's docid over the whole index (segments in order): documents keep
 * their input order, so it equals the one-segment index's docid. */
static inline uint64_t eo_global_doc(const idx_index *ix, const match_hit *h)
{
    uint64_t g = h->doc;
    for (uint32_t s = 0; s < h->seg; s++)
        g += ix->meta.segment_docs[s];
    return g;
}

/* ------------------------------------------------------------ string dict */

typedef struct eo_dict {
    char **s;
    uint32_t *len;
    uint32_t n, cap;
    uint32_t *slot; /* open addressing: id + 1, 0 = empty */
    uint32_t nslot;
} eo_dict;

static inline uint64_t eo_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* Id of s, UINT32_MAX if absent (add = 0) or the new id (add = 1). */
static inline uint32_t eo_dict_id(eo_dict *d, const char *s, size_t n, int add)
{
    if (d->nslot == 0) {
        if (!add) return UINT32_MAX;
        d->nslot = 1024;
        d->slot = calloc(d->nslot, sizeof *d->slot);
    }
    uint32_t m = d->nslot - 1;
    for (uint64_t i = eo_hash(s, n) & m;; i = (i + 1) & m) {
        uint32_t v = d->slot[i];
        if (!v) break;
        if (d->len[v - 1] == n && memcmp(d->s[v - 1], s, n) == 0) return v - 1;
    }
    if (!add) return UINT32_MAX;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 1024;
        d->s = realloc(d->s, d->cap * sizeof *d->s);
        d->len = realloc(d->len, d->cap * sizeof *d->len);
    }
    uint32_t id = d->n++;
    d->s[id] = malloc(n + 1);
    memcpy(d->s[id], s, n);
    d->s[id][n] = 0;
    d->len[id] = (uint32_t)n;
    if (2 * d->n > d->nslot) { /* rehash */
        free(d->slot);
        d->nslot *= 2;
        d->slot = calloc(d->nslot, sizeof *d->slot);
        m = d->nslot - 1;
        for (uint32_t k = 0; k < d->n; k++) {
            uint64_t i = eo_hash(d->s[k], d->len[k]) & m;
            while (d->slot[i])
                i = (i + 1) & m;
            d->slot[i] = k + 1;
        }
    } else {
        uint64_t i = eo_hash(s, n) & m;
        while (d->slot[i])
            i = (i + 1) & m;
        d->slot[i] = id + 1;
    }
    return id;
}

static inline void eo_dict_free(eo_dict *d)
{
    for (uint32_t i = 0; i < d->n; i++)
        free(d->s[i]);
    free(d->s);
    free(d->len);
    free(d->slot);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------ the model */

enum { EO_TITLE, EO_BODY, EO_AUTHOR, EO_CATEGORY, EO_NF };

typedef struct eo_tok {
    uint32_t term; /* id in model.terms (author/category terms carry their "a:"/"c:" prefix) */
    uint32_t pos;
    uint32_t word; /* id in model.words of the clean source word, UINT32_MAX if none */
} eo_tok;

typedef struct eo_field {
    eo_tok *t;
    uint32_t n;
} eo_field;

typedef struct eo_doc {
    eo_field f[EO_NF];
    uint32_t date;
} eo_doc;

typedef struct eo_term {
    uint32_t df;
    uint64_t cf;
    uint32_t last_doc; /* + 1, while counting */
    uint32_t *docs;    /* docids containing the term, increasing */
    uint32_t word;     /* a clean source word that analyses to this term, or UINT32_MAX */
} eo_term;

typedef struct eo_model {
    uint32_t n_docs;
    eo_doc *docs;
    eo_dict terms, words;
    eo_term *ti; /* per term id */
    uint32_t ti_cap;
    double avg_title, avg_body;
    ana *a;
} eo_model;

typedef struct eo_run_ctx {
    eo_model *m;
    uint32_t doc;
    int field;
    const char *text;
    eo_field *out;
    uint32_t cap;
} eo_run_ctx;

/* A word of 2..20 ASCII letters/digits: safe to put in a query as is. */
static inline int eo_clean_word(const char *s, size_t n)
{
    if (n < 2 || n > 20) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return 0;
    }
    return 1;
}

static inline int eo_on_tok(void *vctx, const ana_token *t)
{
    eo_run_ctx *c = vctx;
    eo_model *m = c->m;
    char key[SEG_MAX_TERM + 8];
    size_t kl = 0;
    if (c->field == EO_AUTHOR)
        memcpy(key, "a:", 2), kl = 2;
    else if (c->field == EO_CATEGORY)
        memcpy(key, "c:", 2), kl = 2;
    if (kl + t->len > SEG_MAX_TERM) return 0;
    memcpy(key + kl, t->term, t->len);
    kl += t->len;
    uint32_t id = eo_dict_id(&m->terms, key, kl, 1);
    if (id >= m->ti_cap) {
        uint32_t cap = m->ti_cap ? m->ti_cap * 2 : 4096;
        while (cap <= id)
            cap *= 2;
        m->ti = realloc(m->ti, cap * sizeof *m->ti);
        memset(m->ti + m->ti_cap, 0, (cap - m->ti_cap) * sizeof *m->ti);
        m->ti_cap = cap;
    }
    eo_term *ti = &m->ti[id];
    if (ti->cf == 0) ti->word = UINT32_MAX;
    ti->cf++;
    if (ti->last_doc != c->doc + 1) {
        ti->last_doc = c->doc + 1;
        if ((ti->df & (ti->df - 1)) == 0) /* 0, 1, 2, 4, ...: grow */
            ti->docs = realloc(ti->docs, (ti->df ? 2 * ti->df : 1) * sizeof *ti->docs);
        ti->docs[ti->df++] = c->doc;
    }
    uint32_t w = UINT32_MAX;
    if (eo_clean_word(c->text + t->start, t->end - t->start)) {
        char low[32];
        size_t n = t->end - t->start;
        for (size_t i = 0; i < n; i++) {
            char ch = c->text[t->start + i];
            low[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
        }
        w = eo_dict_id(&m->words, low, n, 1);
        if (ti->word == UINT32_MAX) ti->word = w;
    }
    if (c->out->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->out->t = realloc(c->out->t, c->cap * sizeof *c->out->t);
    }
    c->out->t[c->out->n++] = (eo_tok){id, t->pos, w};
    return 0;
}

/* Builds the model of segment 0 of ix from its stored articles. */
static inline void eo_model_build(eo_model *m, idx_index *ix)
{
    memset(m, 0, sizeof *m);
    idx_err err = {0};
    ck_assert_int_eq(ana_new(&ix->meta.ana, &m->a, &err), 0);
    seg *s = ix->segs[0];
    m->n_docs = seg_ndocs(s);
    m->docs = calloc(m->n_docs ? m->n_docs : 1, sizeof *m->docs);
    buf scratch = {0};
    uint64_t sum_title = 0, sum_body = 0;
    static const int which[EO_NF] = {FIELD_TITLE, FIELD_BODY, FIELD_AUTHOR, FIELD_CATEGORY};
    for (uint32_t d = 0; d < m->n_docs; d++) {
        seg_doc sd;
        int rc = seg_doc_get(s, d, &scratch, &sd, &err);
        EO_REQUIRE(rc == 0, "doc %u: %s", d, err.msg);
        for (int f = 0; f < EO_NF; f++) {
            eo_run_ctx c = {m, d, f, sd.field[which[f]], &m->docs[d].f[f], 0};
            int rc = ana_run(m->a, sd.field[which[f]], sd.len[which[f]], eo_on_tok, &c, &err);
            EO_REQUIRE(rc == 0, "doc %u: %s", d, err.msg);
        }
        m->docs[d].date = seg_doc_date(s, d);
        sum_title += m->docs[d].f[EO_TITLE].n;
        sum_body += m->docs[d].f[EO_BODY].n;
    }
    buf_free(&scratch);
    m->avg_title = m->n_docs ? (double)sum_title / m->n_docs : 0;
    m->avg_body = m->n_docs ? (double)sum_body / m->n_docs : 0;
}

static inline void eo_model_free(eo_model *m)
{
    for (uint32_t d = 0; d < m->n_docs; d++)
        for (int f = 0; f < EO_NF; f++)
            free(m->docs[d].f[f].t);
    free(m->docs);
    for (uint32_t i = 0; i < m->terms.n; i++)
        free(m->ti[i].docs);
    free(m->ti);
    eo_dict_free(&m->terms);
    eo_dict_free(&m->words);
    ana_free(m->a);
    memset(m, 0, sizeof *m);
}

typedef struct eo_one_ctx {
    char term[SEG_MAX_TERM + 1];
    size_t len;
    int n;
} eo_one_ctx;

static inline int eo_one_tok(void *vctx, const ana_token *t)
{
    eo_one_ctx *c = vctx;
    if (c->n++ == 0 && t->len <= SEG_MAX_TERM) {
        memcpy(c->term, t->term, t->len);
        c->len = t->len;
    }
    return 0;
}

/* The term id a lone word analyses to (no field prefix), UINT32_MAX if it is
 * not exactly one token or not in the collection. */
static inline uint32_t eo_word_term(eo_model *m, const char *word, const char *prefix)
{
    eo_one_ctx c = {{0}, 0, 0};
    idx_err err = {0};
    int rc = ana_run(m->a, word, strlen(word), eo_one_tok, &c, &err);
    EO_REQUIRE(rc == 0, "ana_run(%s): %s", word, err.msg);
    if (c.n != 1) return UINT32_MAX;
    char key[SEG_MAX_TERM + 8];
    size_t pl = strlen(prefix);
    memcpy(key, prefix, pl);
    memcpy(key + pl, c.term, c.len);
    return eo_dict_id(&m->terms, key, pl + c.len, 0);
}

/* Terms with a clean representative word, sorted by df (for stratified draws). */
typedef struct eo_vocab {
    uint32_t *t;
    uint32_t n;
} eo_vocab;

static inline eo_model **eo_sort_slot(void)
{
    static eo_model *m;
    return &m;
}

static inline int eo_cmp_df(const void *a, const void *b)
{
    const eo_model *m = *eo_sort_slot();
    const eo_term *x = &m->ti[*(const uint32_t *)a];
    const eo_term *y = &m->ti[*(const uint32_t *)b];
    if (x->df != y->df) return x->df < y->df ? -1 : 1;
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static inline void eo_vocab_build(eo_model *m, eo_vocab *v)
{
    v->t = malloc((m->terms.n ? m->terms.n : 1) * sizeof *v->t);
    v->n = 0;
    for (uint32_t i = 0; i < m->terms.n; i++) {
        if (m->ti[i].word == UINT32_MAX) continue;
        /* The word must analyse to the term on its own, too. */
        if (eo_word_term(m, m->words.s[m->ti[i].word], "") != i) continue;
        v->t[v->n++] = i;
    }
    *eo_sort_slot() = m;
    qsort(v->t, v->n, sizeof *v->t, eo_cmp_df);
}

/* A term drawn from a df stratum: rare (df <= 2), medium, or frequent
 * (df >= N/20), chosen uniformly. */
static inline uint32_t eo_draw_term(eo_model *m, const eo_vocab *v, eo_rng *r)
{
    uint32_t n = v->n;
    uint32_t hi_df = m->n_docs / 20 > 3 ? m->n_docs / 20 : 3;
    uint32_t a = 0, b = 0; /* v->t[0..a) rare, [a, b) medium, [b, n) frequent */
    while (a < n && m->ti[v->t[a]].df <= 2)
        a++;
    b = a;
    while (b < n && m->ti[v->t[b]].df < hi_df)
        b++;
    for (int tries = 0; tries < 8; tries++) {
        uint32_t s = eo_below(r, 3);
        uint32_t lo = s == 0 ? 0 : s == 1 ? a : b, up = s == 0 ? a : s == 1 ? b : n;
        if (up > lo) return v->t[lo + eo_below(r, up - lo)];
    }
    return v->t[eo_below(r, n)];
}

static inline const char *eo_term_word(const eo_model *m, uint32_t term)
{
    return m->words.s[m->ti[term].word];
}

static inline const char *eo_field_prefix(int f)
{
    return f == EO_AUTHOR ? "a:" : f == EO_CATEGORY ? "c:" : "";
}

/* A run of n tokens at consecutive positions in field f of a random document,
 * each with a clean source word that analyses alone to the token's term.
 * Returns 1 with *doc and *at (index of the first token), 0 if none found. */
static inline int eo_pick_run(eo_model *m, eo_rng *r, int f, uint32_t n, uint32_t *doc,
                              uint32_t *at)
{
    for (int tries = 0; tries < 300; tries++) {
        uint32_t d = eo_below(r, m->n_docs);
        eo_field *fl = &m->docs[d].f[f];
        if (fl->n < n) continue;
        uint32_t i = eo_below(r, fl->n - n + 1);
        int ok = 1;
        for (uint32_t k = 0; k < n && ok; k++) {
            const eo_tok *t = &fl->t[i + k];
            ok = t->word != UINT32_MAX && (k == 0 || t->pos == fl->t[i + k - 1].pos + 1) &&
                 eo_word_term(m, m->words.s[t->word], eo_field_prefix(f)) == t->term;
        }
        if (ok) {
            *doc = d;
            *at = i;
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ queries */

static inline qparse_tree *eo_parse(ana *a, const char *q, int all_required, int *rc)
{
    qparse_options o = {.all_required = all_required};
    qparse_tree *t = NULL;
    idx_err err = {0};
    *rc = qparse_parse(a, q, strlen(q), &o, &t, &err);
    return t;
}

/* A search with totals exact up to count_limit (match.h). */
static inline void eo_search_limit(idx_index *ix, const qparse_tree *t, uint32_t k, uint32_t offset,
                                   int exhaustive, uint64_t count_limit, match_result *res,
                                   const char *q)
{
    match_options o = match_options_default(ix);
    o.k = k;
    o.offset = offset;
    o.exhaustive = exhaustive;
    o.count_limit = count_limit;
    /* The oracles rank every matching document; collapsing has its own
     * model (test_collapse.c). */
    o.collapse = 0;
    idx_err err = {0};
    int rc = match_search(ix, t, &o, res, &err);
    EO_REQUIRE(rc == 0, "match_search(%s): %d %s", q, rc, err.msg);
}

/* A search with the default count limit. */
static inline void eo_search(idx_index *ix, const qparse_tree *t, uint32_t k, uint32_t offset,
                             int exhaustive, match_result *res, const char *q)
{
    eo_search_limit(ix, t, k, offset, exhaustive, MATCH_COUNT_LIMIT, res, q);
}

#endif
