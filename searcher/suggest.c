/* suggest: see suggest.h. */
#include "searcher/suggest.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/segment.h"
#include "common/xap.h"
#include "searcher/lexmerge.h"

#define WORD_MAX 64 /* longer words are left alone */
#define SUGGEST_STRIPPED 2

typedef struct sg_ctx {
    idx_index *ix;
    ana *a;
    idx_err *err;
    lexmerge *m; /* allocated on the first word that needs the lexicon */
    buf scratch; /* stored articles */
    uint64_t n_docs;
} sg_ctx;

/* ---- stems and frequencies ---- */

typedef struct stem_out {
    char *out;
    size_t len;
    int n;
} stem_out;

static int stem_tok(void *ctx, const ana_token *t)
{
    stem_out *s = ctx;
    if (s->n++ || t->len > WORD_MAX) return 1; /* not exactly one word */
    memcpy(s->out, t->term, t->len);
    s->len = t->len;
    return 0;
}

/* 1 with the stem of w[0..n) in out[0..*len) (WORD_MAX bytes at most), 0
 * when w is not exactly one analysable word, <0 on error. */
static int stem(sg_ctx *c, const char *w, size_t n, char *out, size_t *len)
{
    stem_out s = {out, 0, 0};
    int r = ana_run(c->a, w, n, stem_tok, &s, c->err);
    if (r < 0) return r;
    *len = s.len;
    return r == 0 && s.n == 1;
}

/* The number of documents holding term t (native: deleted ones included). */
static int term_df(sg_ctx *c, const char *t, size_t n, uint64_t *df)
{
    *df = 0;
    if (c->ix->xap) return xap_termfreq(c->ix->xap, t, n, df, c->err);
    for (uint32_t i = 0; i < c->ix->n_segs; i++) {
        seg_term st;
        int r = seg_lookup(c->ix->segs[i], t, n, &st, c->err);
        if (r < 0) return r;
        if (r) *df += st.df;
    }
    return 0;
}

/* Whether the letters w[0..n) (lowercase) occur as a whole word, in any
 * case, in t[0..len). */
static int has_word(const char *t, size_t len, const char *w, size_t n)
{
    for (size_t i = 0; i + n <= len; i++) {
        if ((t[i] | 0x20) != w[0] || (i && ((t[i - 1] | 0x20) >= 'a' && (t[i - 1] | 0x20) <= 'z')))
            continue;
        size_t k = 1;
        while (k < n && (t[i + k] | 0x20) == w[k])
            k++;
        if (k == n && (i + n == len || (t[i + n] | 0x20) < 'a' || (t[i + n] | 0x20) > 'z'))
            return 1;
    }
    return 0;
}

/* Whether article doc of segment seg spells w[0..n) so: 1, 0, or <0. */
static int spells(sg_ctx *c, uint32_t seg, uint32_t doc, const char *w, size_t n)
{
    seg_doc d;
    int r = index_doc_get(c->ix, seg, doc, &c->scratch, &d, c->err);
    if (r) return r;
    return has_word(d.field[FIELD_TITLE], d.len[FIELD_TITLE], w, n) ||
           has_word(d.field[FIELD_BODY], d.len[FIELD_BODY], w, n);
}

/* Whether the typed word w[0..n), whose stem s is in the index, is a word
 * the articles really use (`governess`) rather than a misspelling that
 * stems like one (`goverment`): the first few articles of the stem are
 * searched for it. 1, 0, or <0 on error. */
static int attested(sg_ctx *c, const char *w, size_t n, const char *s, size_t ns)
{
    if (c->ix->xap) {
        uint32_t docs[SUGGEST_ATTEST_DOCS], nd;
        int r = xap_term_docs(c->ix->xap, s, ns, SUGGEST_ATTEST_DOCS, docs, &nd, c->err);
        for (uint32_t i = 0; !r && i < nd; i++)
            r = spells(c, 0, docs[i], w, n);
        return r;
    }
    int seen = 0;
    for (uint32_t i = 0; i < c->ix->n_segs && seen < SUGGEST_ATTEST_DOCS; i++) {
        seg_term st;
        int r = seg_lookup(c->ix->segs[i], s, ns, &st, c->err);
        if (r <= 0) {
            if (r < 0) return r;
            continue;
        }
        seg_cursor *cur = malloc(sizeof *cur);
        if (!cur) return err_set(c->err, IDX_ENOMEM, "out of memory");
        r = seg_cursor_open(c->ix->segs[i], &st, cur, c->err);
        while (!r && cur->doc != SEG_END && seen < SUGGEST_ATTEST_DOCS) {
            seen++;
            if (!(r = spells(c, i, cur->doc, w, n))) r = seg_cursor_next(cur, c->err);
        }
        free(cur);
        if (r) return r;
    }
    return 0;
}

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions), or SUGGEST_MAX_EDITS + 1 for anything farther. */
static unsigned edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    enum { FAR = SUGGEST_MAX_EDITS + 1 };
    if ((na > nb ? na - nb : nb - na) > SUGGEST_MAX_EDITS) return FAR;
    unsigned d[WORD_MAX + SUGGEST_MAX_EDITS + 2][WORD_MAX + SUGGEST_MAX_EDITS + 2];
    for (size_t i = 0; i <= na; i++)
        d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = (unsigned)j;
    for (size_t i = 1; i <= na; i++) {
        unsigned row_min = FAR;
        for (size_t j = 1; j <= nb; j++) {
            unsigned v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
            if (v < row_min) row_min = v;
        }
        if (row_min >= FAR) return FAR; /* every later row is at least as far */
    }
    return d[na][nb] < FAR ? d[na][nb] : FAR;
}

static int all_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z') return 0;
    return 1;
}

/* ---- candidates ---- */

typedef struct cand {
    char term[WORD_MAX];
    size_t len;
    unsigned dist; /* distance(): half edits */
    uint64_t df;
} cand;

/* Whether x ranks before y: nearer, then more frequent, then byte order. */
static int cand_better(const cand *x, const cand *y)
{
    if (x->dist != y->dist) return x->dist < y->dist;
    if (x->df != y->df) return x->df > y->df;
    int k = memcmp(x->term, y->term, x->len < y->len ? x->len : y->len);
    return k ? k < 0 : x->len < y->len;
}

#define FAR_AWAY UINT32_MAX

/* How far the typed word w[0..n), whose stem is s[0..ns), is from the stem
 * t[0..nt), in half edits: 2 per edit between the stems (at most max_d
 * edits), or 3 when the word's beginning is one edit from t and the stems
 * are farther (`minster` is its own stem, three edits from minist, but
 * minst is one: a stem is mostly a word's beginning); 0 only for the same
 * stem, FAR_AWAY beyond. */
static unsigned distance(const char *w, size_t n, const char *s, size_t ns, const char *t,
                         size_t nt, unsigned max_d)
{
    unsigned d = edit_distance(s, ns, t, nt);
    if (d == 0) return 0;
    if (d == 1) return 2;
    /* stemming strips a few letters at most: only beginnings that keep
     * all but SUGGEST_STRIPPED of the word, and only stems of words */
    if (nt >= SUGGEST_MIN_WORD)
        for (size_t k = n > SUGGEST_STRIPPED ? n - SUGGEST_STRIPPED : 1; k <= n; k++)
            if (k + 1 >= nt && k <= nt + 1 && edit_distance(w, k, t, nt) == 1) return 3;
    return d <= max_d ? 2 * d : FAR_AWAY;
}

/* The search of best_term: the typed word, its stem, and the best so far. */
typedef struct best_search {
    const char *w, *s;
    size_t n, ns;
    uint64_t need;  /* the least frequency a candidate needs */
    unsigned max_d; /* two edits only in a longer stem: in a short one they reach any word */
    cand *best;
    int found;
} best_search;

/* Offers lexicon term t (in df documents) to the search b; always 0 (go on). */
static int best_offer(void *ctx, const char *t, size_t len, uint64_t df)
{
    best_search *b = ctx;
    if (df < b->need || len > WORD_MAX || !all_lower(t, len)) return 0;
    unsigned d = distance(b->w, b->n, b->s, b->ns, t, len, b->max_d);
    if (d == 0 || d == FAR_AWAY) return 0;
    cand x = {.len = len, .dist = d, .df = df};
    memcpy(x.term, t, len);
    if (!b->found || cand_better(&x, b->best)) *b->best = x;
    b->found = 1;
    return 0;
}

/* The best lexicon term for the typed word w[0..n) with stem s[0..ns) of
 * frequency df_s among the terms with its first letter (which is kept): 1
 * and *best, 0 when none qualifies. */
static int best_term(sg_ctx *c, const char *w, size_t n, const char *s, size_t ns, uint64_t df_s,
                     cand *best)
{
    best_search b = {w,
                     s,
                     n,
                     ns,
                     df_s ? df_s * SUGGEST_MORE_FREQUENT : 1,
                     ns >= SUGGEST_TWO_EDITS_FROM ? SUGGEST_MAX_EDITS : 1,
                     best,
                     0};
    if (c->ix->xap) {
        int r = xap_terms(c->ix->xap, s, 1, best_offer, &b, c->err);
        return r < 0 ? r : b.found;
    }
    if (!c->m && !(c->m = malloc(sizeof *c->m)))
        return err_set(c->err, IDX_ENOMEM, "out of memory");
    int r = lexmerge_seek(c->ix, c->m, s, 1, c->err);
    while (!r && (r = lexmerge_next(c->m, c->err)) == 1) {
        r = 0;
        if (c->m->term[0] != s[0]) break;
        best_offer(&b, c->m->term, c->m->len, c->m->df);
    }
    return r < 0 ? r : b.found;
}

/* Whether w[0..n) stems to t[0..nt): 1, 0, or <0 on error. */
static int stems_to(sg_ctx *c, const char *w, size_t n, const char *t, size_t nt)
{
    char st[WORD_MAX];
    size_t sl;
    int r = stem(c, w, n, st, &sl);
    if (r <= 0) return r;
    return sl == nt && !memcmp(st, t, nt);
}

/* Whether w[0..i) + ins[0..n_ins) + w[i+drop..n), built in out, stems to t. */
static int try_edit(sg_ctx *c, const char *w, size_t n, size_t i, size_t drop, const char *ins,
                    size_t n_ins, const cand *t, char *out, size_t *len)
{
    memcpy(out, w, i);
    memcpy(out + i, ins, n_ins);
    memcpy(out + i + n_ins, w + i + drop, n - i - drop);
    *len = n - drop + n_ins;
    return stems_to(c, out, *len, t->term, t->len);
}

/* A surface word one edit from w[0..n) (the first letter kept) that stems to
 * t: the correction that looks most like what was typed (`runing` ->
 * running, not run). 1 with it in out[0..*len), 0 if none, <0 on error. */
static int near_surface(sg_ctx *c, const char *w, size_t n, const cand *t, char *out, size_t *len)
{
    if (n + 1 > WORD_MAX) return 0;
    /* omissions first, the commonest slip (goverment: government, not
     * governent) */
    int r = 0;
    for (size_t i = 1; i <= n && !r; i++)
        for (char ch = 'a'; ch <= 'z' && !r; ch++)
            r = try_edit(c, w, n, i, 0, &ch, 1, t, out, len);
    for (size_t i = 1; i + 1 < n && !r; i++) {
        const char swap[2] = {w[i + 1], w[i]};
        if (w[i] != w[i + 1]) r = try_edit(c, w, n, i, 2, swap, 2, t, out, len);
    }
    for (size_t i = 1; i < n && !r; i++)
        r = try_edit(c, w, n, i, 1, "", 0, t, out, len);
    for (size_t i = 1; i < n && !r; i++)
        for (char ch = 'a'; ch <= 'z' && !r; ch++)
            if (ch != w[i]) r = try_edit(c, w, n, i, 1, &ch, 1, t, out, len);
    return r;
}

/* The surface word for candidate stem t, given the typed word w[0..n) and
 * its stem s[0..ns): 1 with it in out[0..*len), 0 if none is found. */
static int surface(sg_ctx *c, const char *w, size_t n, const char *s, size_t ns, const cand *t,
                   char *out, size_t *len)
{
    int r = near_surface(c, w, n, t, out, len);
    if (r) return r;
    /* the typed word's ending on the candidate: goverment -> government */
    if (ns <= n && !memcmp(w, s, ns) && t->len + (n - ns) <= WORD_MAX) {
        memcpy(out, t->term, t->len);
        memcpy(out + t->len, w + ns, n - ns);
        *len = t->len + (n - ns);
        if ((r = stems_to(c, out, *len, t->term, t->len))) return r;
    }
    /* the stem itself, when it is a word of its own */
    memcpy(out, t->term, t->len);
    *len = t->len;
    return stems_to(c, out, *len, t->term, t->len);
}

/* The correction of the typed word w[0..n) (ASCII letters): 1 with it in
 * out[0..*len), in w's case; 0 when w needs none. */
static int correct_word(sg_ctx *c, const char *w, size_t n, char *out, size_t *len)
{
    char low[WORD_MAX], s[WORD_MAX];
    size_t ns;
    int upper = 0;
    for (size_t i = 0; i < n; i++) {
        low[i] = (char)(w[i] | 0x20);
        upper += w[i] >= 'A' && w[i] <= 'Z';
    }
    int r = stem(c, low, n, s, &ns);
    if (r <= 0) return r;
    if (!ns || !all_lower(s, ns) || s[0] != low[0]) return 0;
    uint64_t df;
    if ((r = term_df(c, s, ns, &df))) return r;
    if (df * 1000 >= c->n_docs * SUGGEST_RARE_PER_MILLE) return 0;
    if (df && (r = attested(c, low, n, s, ns))) return r < 0 ? r : 0;
    cand best = {.dist = FAR_AWAY};
    if ((r = best_term(c, low, n, s, ns, df, &best)) <= 0) return r;
    if ((r = surface(c, low, n, s, ns, &best, out, len)) <= 0) return r;
    if (*len == n && !memcmp(out, low, n)) return 0;
    for (size_t i = 0; i < *len; i++)
        if ((upper == (int)n && n > 1) || (i == 0 && w[0] >= 'A' && w[0] <= 'Z'))
            out[i] = (char)(out[i] & ~0x20);
    return 1;
}

/* ---- the query text ---- */

static int is_letter(unsigned char ch)
{
    return (ch | 0x20) >= 'a' && (ch | 0x20) <= 'z';
}

static int is_space(unsigned char ch)
{
    return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

/* Whether the letters text[a..b) form a word that may be corrected: not
 * glued to other word characters, not excluded, not a field name, not a
 * prefix, not scoped to a label field. */
static int correctable(const char *text, size_t len, size_t a, size_t b)
{
    if (b - a < SUGGEST_MIN_WORD || b - a > WORD_MAX) return 0;
    unsigned char before = a ? (unsigned char)text[a - 1] : ' ';
    unsigned char after = b < len ? (unsigned char)text[b] : ' ';
    if (!is_space(after) && !strchr(")\",.?!;", after)) return 0;
    if (is_space(before) || before == '(' || before == '"' || before == '+') return 1;
    if (before != ':') return 0;
    /* title:word is corrected, author:word and category:word are names */
    size_t f = a - 1;
    while (f > 0 && is_letter((unsigned char)text[f - 1]))
        f--;
    return a - 1 - f == 5 && !strncasecmp(text + f, "title", 5);
}

int suggest_query(idx_index *ix, ana *a, const char *text, size_t len, buf *out, idx_err *err)
{
    out->len = 0;
    sg_ctx c = {.ix = ix, .a = a, .err = err};
    if (ix->xap) {
        int r = xap_doccount(ix->xap, &c.n_docs, err);
        if (r) return r;
    } else {
        for (uint32_t i = 0; i < ix->n_segs; i++)
            c.n_docs += seg_ndocs(ix->segs[i]);
    }
    if (!c.n_docs) return 0;
    int changed = 0, r = 0;
    size_t done = 0; /* text[0..done) is in out */
    for (size_t i = 0; i < len && r >= 0;) {
        if (!is_letter((unsigned char)text[i])) {
            i++;
            continue;
        }
        size_t b = i;
        while (b < len && is_letter((unsigned char)text[b]))
            b++;
        char fix[WORD_MAX];
        size_t fl = 0;
        if (correctable(text, len, i, b) &&
            (r = correct_word(&c, text + i, b - i, fix, &fl)) == 1) {
            buf_put(out, text + done, i - done);
            buf_put(out, fix, fl);
            done = b;
            changed = 1;
        }
        i = b;
    }
    free(c.m);
    buf_free(&c.scratch);
    if (r < 0 || !changed) {
        out->len = 0;
        return r < 0 ? r : 0;
    }
    buf_put(out, text + done, len - done);
    if (out->oom) return err_set(err, IDX_ENOMEM, "out of memory");
    return 1;
}
