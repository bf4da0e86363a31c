/* snippet: see snippet.h for the contract. The shape of the work:
 *
 *   query leaves -> "units" (one per distinct leaf that applies to the field)
 *   field text -> ana_run -> only the tokens that can take part in a match,
 *                 stopping early once every unit has matched (see below)
 *   tokens -> matches (term, prefix, or a whole phrase occurrence)
 *   matches -> best window by (distinct units, occurrences), two pointers
 *   window -> widened with context, snapped to word boundaries, copied with
 *             whitespace collapsed, spans mapped into the copy and merged.
 *
 * Offsets are tracked both in bytes (to copy) and in characters (to size the
 * window: 200 characters of Chinese are 600 bytes). */
#include "searcher/snippet.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "common/buf.h"
#include "common/segment.h"
#include "common/strmap.h"

/* How far (characters) a window edge may move to reach a word boundary;
 * past it the cut falls mid-word (but never mid-character). */
#define SNIP_SNAP_CHARS 20
/* Prefix leaves are tracked per token in a 64-bit mask; later prefix leaves
 * of a huge query still match in eval, they just are not highlighted. */
#define SNIP_MAX_PREFIX 64
/* Analysing a long article word by word is the cost of a result page (a
 * search takes a fraction of a millisecond, analysing 20 KB of text
 * several). So a field is analysed only until every unit has a match, plus
 * enough text after that point for any window built around those matches
 * (SNIP_TAIL_FACTOR windows' worth of bytes, which is at least that many
 * characters), checking every SNIP_CHECK_BYTES; and never much past
 * SNIP_SCAN_MAX (snippet.h). Past the stop, text is still shown as context
 * but nothing in it is highlighted, which the tail makes sure never happens
 * inside the chosen window. */
#define SNIP_CHECK_BYTES 2048
#define SNIP_TAIL_FACTOR 4
/* on_token's return that stops ana_run early; ana_run passes it through */
#define SNIP_STOP 1

typedef struct unit {
    const qparse_node *leaf;
    uint32_t first_qid; /* Q_TERM: its qterm id; Q_PHRASE: index into s->pq */
    int needed;         /* analysis goes on until it has matched (snip_set_body_hint) */
} unit;

/* A token that can take part in a match. */
typedef struct stok {
    uint32_t pos, bstart, bend, cstart, cend;
    int32_t qid;    /* id of the token's term among the query's terms, -1 none */
    uint64_t pmask; /* bit k: starts with prefix unit pref[k] */
} stok;

typedef struct match {
    uint32_t bstart, bend, cstart, cend, unit;
} match;

/* A match known from the index's positions: [ps, pe] of one unit, and
 * [bs, be) its estimated bytes (pos_byte). */
typedef struct pmatch {
    uint32_t ps, pe, unit;
    uint64_t bs, be;
} pmatch;

struct snip {
    ana *a;
    snip_options o;
    idx_err *err;

    const qparse_node **leaves;
    size_t n_leaves, cap_leaves;

    unit *units;
    size_t n_units, cap_units;
    strmap *ukeys;      /* serialised leaf -> unit index (dedup) */
    buf key;            /* scratch for the serialisation */
    strmap *qterms;     /* term -> qid */
    int32_t *term_unit; /* qid -> Q_TERM unit, -1 if the term is only in phrases */
    size_t cap_term_unit;
    uint32_t *pq; /* phrase term qids, in phrase order */
    size_t n_pq, cap_pq;
    uint32_t pref[SNIP_MAX_PREFIX]; /* prefix units */
    uint32_t n_pref;

    stok *toks;
    size_t n_toks, cap_toks;
    match *m;
    size_t n_m, cap_m;
    uint32_t *cnt; /* per unit, for the window scan */
    size_t cap_cnt;
    uint32_t *map; /* source byte -> output byte, for the chosen window */
    size_t cap_map;
    snip_span *sp;
    size_t cap_sp;

    /* character cursor used while tokens stream in */
    const char *text;
    size_t cur_b, cur_c;
    /* early stop: next byte offset to check at, and where to stop (0: not yet known) */
    size_t check_at, stop_at;
    unsigned window;
    int full;                  /* snip_doc_full: whole fields, analysed to the end */
    snip_body_has_fn body_has; /* snip_set_body_hint */
    void *body_has_ctx;
    size_t n_needed; /* units with needed set */

    /* snip_set_body_index, and the passage it locates */
    snip_body_pos_fn body_pos;
    void *body_pos_ctx;
    const uint8_t *table;
    size_t table_len;
    int fast;            /* this field's passage comes from the positions */
    size_t base;         /* byte offset of the analysed text in the field */
    size_t ws, we;       /* make_text's window, bytes of the field */
    size_t win_d, win_o; /* and its distinct units and matches */
    uint32_t *poff;      /* the decoded table */
    size_t cap_poff;
    uint32_t *tpos; /* body_pos's output */
    size_t cap_tpos;
    uint32_t *qpos; /* every query term's positions, back to back */
    size_t n_qpos, cap_qpos;
    size_t *qoff, *qn; /* qid -> its positions in qpos; qn SIZE_MAX: not fetched */
    size_t cap_qoff, cap_qn;
    pmatch *pm;
    size_t n_pm, cap_pm;
};

static int nomem(snip *s)
{
    return err_set(s->err, IDX_ENOMEM, "snippet: out of memory");
}

int snip_new(ana *a, const snip_options *opt, snip **out, idx_err *err)
{
    *out = NULL;
    snip *s = calloc(1, sizeof *s);
    if (!s) return err_set(err, IDX_ENOMEM, "snippet: out of memory");
    s->a = a;
    if (opt) s->o = *opt;
    if (!s->o.window_chars) s->o.window_chars = SNIP_WINDOW_DEFAULT;
    if (!s->o.title_chars) s->o.title_chars = SNIP_TITLE_WINDOW_DEFAULT;
    s->ukeys = strmap_new(16);
    s->qterms = strmap_new(16);
    if (!s->ukeys || !s->qterms) {
        snip_free(s);
        return err_set(err, IDX_ENOMEM, "snippet: out of memory");
    }
    *out = s;
    return 0;
}

void snip_set_body_hint(snip *s, snip_body_has_fn fn, void *ctx)
{
    s->body_has = fn;
    s->body_has_ctx = ctx;
}

void snip_set_body_index(snip *s, snip_body_pos_fn fn, void *ctx, const uint8_t *table,
                         size_t table_len)
{
    s->body_pos = fn;
    s->body_pos_ctx = ctx;
    s->table = table;
    s->table_len = table_len;
}

void snip_free(snip *s)
{
    if (!s) return;
    free(s->poff);
    free(s->tpos);
    free(s->qpos);
    free(s->qoff);
    free(s->qn);
    free(s->pm);
    free(s->leaves);
    free(s->units);
    strmap_free(s->ukeys);
    buf_free(&s->key);
    strmap_free(s->qterms);
    free(s->term_unit);
    free(s->pq);
    free(s->toks);
    free(s->m);
    free(s->cnt);
    free(s->map);
    free(s->sp);
    free(s);
}

void snip_result_free(snip_result *r)
{
    if (!r) return;
    free(r->title.text);
    free(r->title.spans);
    free(r->body.text);
    free(r->body.spans);
    memset(r, 0, sizeof *r);
}

/* ---- query side ---- */

/* qparse_positive_terms calls once per term; keep each leaf once (a leaf's
 * terms arrive consecutively). */
static int collect_leaf(void *ctx, const qparse_node *leaf, const qparse_term *term)
{
    (void)term;
    snip *s = ctx;
    if (s->n_leaves && s->leaves[s->n_leaves - 1] == leaf) return 0;
    if (buf_grow(&s->leaves, &s->cap_leaves, s->n_leaves + 1, sizeof *s->leaves)) return nomem(s);
    s->leaves[s->n_leaves++] = leaf;
    return 0;
}

static int qterm_id(snip *s, const char *t, size_t len, uint32_t *id)
{
    uint32_t next = (uint32_t)strmap_count(s->qterms);
    uint32_t *v = strmap_put(s->qterms, t, len, next, NULL);
    if (!v || buf_grow(&s->term_unit, &s->cap_term_unit, next + 1, sizeof *s->term_unit))
        return nomem(s);
    if (*v == next) s->term_unit[next] = -1;
    *id = *v;
    return 0;
}

/* Builds the units for one field: leaves scoped to it, deduplicated by
 * content so `a a` or `title:x x` count as one distinct query word. */
static int prepare_field(snip *s, int is_title)
{
    s->n_units = s->n_pq = s->n_needed = 0;
    s->n_pref = 0;
    strmap_clear(s->ukeys);
    strmap_clear(s->qterms);
    for (size_t i = 0; i < s->n_leaves; i++) {
        const qparse_node *n = s->leaves[i];
        if (!(n->field == QF_ANY || (is_title && n->field == QF_TITLE))) continue;
        if (n->kind != Q_TERM && n->kind != Q_PREFIX && n->kind != Q_PHRASE) continue;
        s->key.len = 0;
        uint32_t hdr[2] = {(uint32_t)n->kind, n->slop};
        buf_put(&s->key, hdr, sizeof hdr);
        for (uint32_t k = 0; k < n->nterms; k++) {
            uint32_t th[2] = {n->terms[k].pos, n->terms[k].len};
            buf_put(&s->key, th, sizeof th);
            buf_put(&s->key, n->terms[k].text, n->terms[k].len);
        }
        if (s->key.oom) return nomem(s);
        int inserted = 0;
        uint32_t *v = strmap_put(s->ukeys, (const char *)s->key.p, s->key.len, (uint32_t)s->n_units,
                                 &inserted);
        if (!v) return nomem(s);
        if (!inserted) continue;
        if (n->kind == Q_PREFIX && s->n_pref == SNIP_MAX_PREFIX)
            continue; /* see SNIP_MAX_PREFIX; the unit stays unused */
        if (buf_grow(&s->units, &s->cap_units, s->n_units + 1, sizeof *s->units)) return nomem(s);
        unit *u = &s->units[s->n_units];
        u->leaf = n;
        u->first_qid = 0;
        u->needed = is_title || s->fast || !s->body_has || s->body_has(s->body_has_ctx, n);
        s->n_needed += (size_t)u->needed;
        if (n->kind == Q_TERM) {
            if (qterm_id(s, n->terms[0].text, n->terms[0].len, &u->first_qid)) return s->err->code;
            s->term_unit[u->first_qid] = (int32_t)s->n_units;
        } else if (n->kind == Q_PREFIX) {
            s->pref[s->n_pref++] = (uint32_t)s->n_units;
        } else {
            u->first_qid = (uint32_t)s->n_pq;
            if (buf_grow(&s->pq, &s->cap_pq, s->n_pq + n->nterms, sizeof *s->pq)) return nomem(s);
            for (uint32_t k = 0; k < n->nterms; k++)
                if (qterm_id(s, n->terms[k].text, n->terms[k].len, &s->pq[s->n_pq + k]))
                    return s->err->code;
            s->n_pq += n->nterms;
        }
        s->n_units++;
    }
    return 0;
}

/* ---- text side ---- */

static size_t count_chars(const char *t, size_t from, size_t to)
{
    size_t c = 0;
    for (size_t i = from; i < to; i++)
        c += ((unsigned char)t[i] & 0xC0) != 0x80;
    return c;
}

static int starts_with(const char *t, size_t tl, const char *p, size_t pl)
{
    return tl >= pl && !memcmp(t, p, pl);
}

static int find_matches(snip *s);

/* 1 if every needed unit of the field has at least one match among s->m. */
static int all_units_matched(snip *s)
{
    if (buf_grow(&s->cnt, &s->cap_cnt, s->n_units, sizeof *s->cnt)) return nomem(s);
    memset(s->cnt, 0, s->n_units * sizeof *s->cnt);
    size_t distinct = 0;
    for (size_t i = 0; i < s->n_m; i++)
        distinct += s->cnt[s->m[i].unit]++ == 0 && s->units[s->m[i].unit].needed;
    return distinct == s->n_needed;
}

/* Called when the text reaches s->check_at: decides where analysis stops. */
static int check_stop(snip *s, size_t at)
{
    if (s->stop_at) return at >= s->stop_at ? SNIP_STOP : 0;
    int rc = find_matches(s);
    if (!rc) rc = all_units_matched(s);
    if (rc < 0) return rc;
    if (rc || at >= SNIP_SCAN_MAX) {
        s->stop_at = rc ? at + (size_t)SNIP_TAIL_FACTOR * s->window : at;
        return at >= s->stop_at ? SNIP_STOP : 0;
    }
    s->check_at = at + SNIP_CHECK_BYTES;
    return 0;
}

static int on_token(void *ctx, const ana_token *t)
{
    snip *s = ctx;
    size_t start = s->base + t->start, end = s->base + t->end;
    if (start >= s->check_at) {
        int rc = check_stop(s, start);
        if (rc) return rc;
    }
    int32_t qid = -1;
    uint32_t *v = strmap_get(s->qterms, t->term, t->len);
    if (v) qid = (int32_t)*v;
    uint64_t pm = 0;
    for (uint32_t k = 0; k < s->n_pref; k++) {
        const qparse_term *p = &s->units[s->pref[k]].leaf->terms[0];
        if (starts_with(t->unstemmed, t->unstemmed_len, p->text, p->len) ||
            starts_with(t->term, t->len, p->text, p->len))
            pm |= (uint64_t)1 << k;
    }
    if (qid < 0 && !pm) return 0;
    /* Token starts only move forward; recount from the analysed text's
     * start if one ever did not. */
    if (start < s->cur_b) {
        s->cur_b = s->base;
        s->cur_c = 0;
    }
    s->cur_c += count_chars(s->text, s->cur_b, start);
    s->cur_b = start;
    if (buf_grow(&s->toks, &s->cap_toks, s->n_toks + 1, sizeof *s->toks)) return nomem(s);
    stok *k = &s->toks[s->n_toks++];
    k->pos = t->pos;
    k->bstart = (uint32_t)start;
    k->bend = (uint32_t)end;
    k->cstart = (uint32_t)s->cur_c;
    k->cend = (uint32_t)(s->cur_c + count_chars(s->text, start, end));
    k->qid = qid;
    k->pmask = pm;
    return 0;
}

static int add_match(snip *s, uint32_t bs, uint32_t be, uint32_t cs, uint32_t ce, size_t u)
{
    if (buf_grow(&s->m, &s->cap_m, s->n_m + 1, sizeof *s->m)) return nomem(s);
    s->m[s->n_m++] = (match){bs, be, cs, ce, (uint32_t)u};
    return 0;
}

/* First matching token with pos >= p (tokens arrive in position order). */
static size_t tok_lower(const snip *s, uint64_t p)
{
    size_t lo = 0, hi = s->n_toks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->toks[mid].pos < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Phrase occurrences: the rule of eval.c's phrase_count, so that a snippet
 * highlights exactly what made the document match. */
static int phrase_matches(snip *s, size_t ui)
{
    const unit *u = &s->units[ui];
    const qparse_node *n = u->leaf;
    const uint32_t *q = s->pq + u->first_qid;
    for (size_t a = 0; a < s->n_toks; a++) {
        const stok *t0 = &s->toks[a];
        if (t0->qid != (int32_t)q[0]) continue;
        uint32_t bs = t0->bstart, be = t0->bend, cs = t0->cstart, ce = t0->cend;
        int ok = 1;
        for (uint32_t i = 1; i < n->nterms && ok; i++) {
            uint64_t want = (uint64_t)t0->pos + n->terms[i].pos;
            uint64_t lo = want > n->slop ? want - n->slop : 0, hi = want + n->slop;
            ok = 0;
            for (size_t b = tok_lower(s, lo); b < s->n_toks && s->toks[b].pos <= hi; b++) {
                const stok *t = &s->toks[b];
                if (t->qid != (int32_t)q[i]) continue;
                bs = t->bstart < bs ? t->bstart : bs;
                be = t->bend > be ? t->bend : be;
                cs = t->cstart < cs ? t->cstart : cs;
                ce = t->cend > ce ? t->cend : ce;
                ok = 1;
                break;
            }
        }
        if (ok && add_match(s, bs, be, cs, ce, ui)) return s->err->code;
    }
    return 0;
}

static int find_matches(snip *s)
{
    s->n_m = 0;
    for (size_t i = 0; i < s->n_toks; i++) {
        const stok *t = &s->toks[i];
        if (t->qid >= 0 && s->term_unit[t->qid] >= 0 &&
            add_match(s, t->bstart, t->bend, t->cstart, t->cend, (size_t)s->term_unit[t->qid]))
            return s->err->code;
        for (uint32_t k = 0; k < s->n_pref; k++)
            if ((t->pmask >> k & 1) &&
                add_match(s, t->bstart, t->bend, t->cstart, t->cend, s->pref[k]))
                return s->err->code;
    }
    for (size_t u = 0; u < s->n_units; u++)
        if (s->units[u].leaf->kind == Q_PHRASE && phrase_matches(s, u)) return s->err->code;
    return 0;
}

static int match_cmp(const void *a, const void *b)
{
    const match *x = a, *y = b;
    if (x->cstart != y->cstart) return x->cstart < y->cstart ? -1 : 1;
    if (x->cend != y->cend) return x->cend < y->cend ? -1 : 1;
    return (x->unit > y->unit) - (x->unit < y->unit);
}

/* ---- characters and word boundaries ---- */

static int32_t decode_at(const char *t, size_t len, size_t off)
{
    utf8proc_int32_t cp;
    if (off >= len ||
        utf8proc_iterate((const utf8proc_uint8_t *)t + off, (utf8proc_ssize_t)(len - off), &cp) < 0)
        return -1;
    return cp;
}

static size_t prev_char(const char *t, size_t off)
{
    size_t k = 0;
    while (off > 0 && k < 4) {
        off--;
        k++;
        if (((unsigned char)t[off] & 0xC0) != 0x80) break;
    }
    return off;
}

static size_t next_char(const char *t, size_t len, size_t off)
{
    if (off >= len) return len;
    off++;
    for (int k = 1; off < len && k < 4 && ((unsigned char)t[off] & 0xC0) == 0x80; k++)
        off++;
    return off;
}

/* Scripts written without spaces: a cut between any two characters is fine. */
static int breakable(int32_t cp)
{
    return (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFF66 && cp <= 0xFF9F) || (cp >= 0x20000 && cp <= 0x3FFFF);
}

static int is_word(int32_t cp)
{
    if (cp < 0) return 0;
    if (cp == '\'' || cp == 0x2019) return 1; /* don't cut "don't" into "don" */
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

/* 1 if a cut at byte `off` would split a word. */
static int mid_word(const char *t, size_t len, size_t off)
{
    if (off == 0 || off >= len) return 0;
    int32_t a = decode_at(t, len, prev_char(t, off)), b = decode_at(t, len, off);
    return is_word(a) && is_word(b) && !breakable(a) && !breakable(b);
}

/* Byte length of the whitespace or control character at t[p], 0 if it is
 * something else. Unicode spaces count (Wikipedia text is full of U+00A0),
 * so a snippet never shows two blanks in a row. */
static size_t space_len(const char *t, size_t len, size_t p)
{
    unsigned char c = (unsigned char)t[p];
    if (c <= 0x20 || c == 0x7f) return 1;
    if (c < 0x80) return 0;
    int32_t cp = decode_at(t, len, p);
    if (cp < 0) return 0;
    utf8proc_category_t k = utf8proc_category(cp);
    if (cp == 0x85 || k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL ||
        k == UTF8PROC_CATEGORY_ZP || k == UTF8PROC_CATEGORY_CC)
        return next_char(t, len, p) - p;
    return 0;
}

/* ---- one field ---- */

static int window_spans(snip *s, size_t ws, size_t we, size_t o, snip_text *out);

static int make_text(snip *s, const char *t, size_t len, unsigned W, snip_text *out)
{
    memset(out, 0, sizeof *out);
    s->win_d = s->win_o = 0;
    size_t bs = 0, be = 0, cs = 0, ce = 0;
    if (s->n_m) {
        qsort(s->m, s->n_m, sizeof *s->m, match_cmp);
        if (buf_grow(&s->cnt, &s->cap_cnt, s->n_units, sizeof *s->cnt)) return nomem(s);
        memset(s->cnt, 0, s->n_units * sizeof *s->cnt);
        size_t best_i = 0, best_j = 1, best_d = 0, best_o = 0, j = 0, distinct = 0;
        for (size_t i = 0; i < s->n_m; i++) {
            while (j < s->n_m && (j <= i || s->m[j].cend - s->m[i].cstart <= W)) {
                distinct += s->cnt[s->m[j].unit]++ == 0;
                j++;
            }
            if (distinct > best_d || (distinct == best_d && j - i > best_o)) {
                best_d = distinct;
                best_o = j - i;
                best_i = i;
                best_j = j;
            }
            distinct -= --s->cnt[s->m[i].unit] == 0;
        }
        s->win_d = best_d;
        s->win_o = best_o;
        bs = s->m[best_i].bstart;
        cs = s->m[best_i].cstart;
        for (size_t k = best_i; k < best_j; k++) {
            if (s->m[k].bend > be) {
                be = s->m[k].bend;
                ce = s->m[k].cend;
            }
        }
        if (ce - cs > W) { /* one match longer than the window: show its start */
            be = bs;
            for (size_t k = 0; k < W; k++)
                be = next_char(t, len, be);
            ce = cs + W;
        }
    }
    /* Widen to W characters: a third of the slack before the matches, the
     * rest after, giving either side's unused share to the other. */
    size_t extra = W > ce - cs ? W - (ce - cs) : 0;
    /* Only up to `extra` characters either side matter: counted no further
     * (character offsets are relative to the analysed text's start). */
    size_t before_avail = 0, after_avail = 0;
    for (size_t p = bs; p > 0 && before_avail < extra; before_avail++)
        p = prev_char(t, p);
    for (size_t p = be; p < len && after_avail < extra; after_avail++)
        p = next_char(t, len, p);
    size_t before = extra / 3 < before_avail ? extra / 3 : before_avail;
    size_t after = extra - before < after_avail ? extra - before : after_avail;
    before = extra - after < before_avail ? extra - after : before_avail;
    size_t ws = bs, we = be;
    for (size_t k = 0; k < before && ws > 0; k++)
        ws = prev_char(t, ws);
    for (size_t k = 0; k < after && we < len; k++)
        we = next_char(t, len, we);
    /* Snap to word boundaries without giving up any match. */
    if (mid_word(t, len, ws)) {
        size_t p = ws;
        for (int k = 0; k < SNIP_SNAP_CHARS && p < bs && mid_word(t, len, p); k++)
            p = next_char(t, len, p);
        if (!mid_word(t, len, p)) ws = p;
    }
    if (mid_word(t, len, we)) {
        size_t p = we;
        for (int k = 0; k < SNIP_SNAP_CHARS && p > be && mid_word(t, len, p); k++)
            p = prev_char(t, p);
        if (!mid_word(t, len, p)) we = p;
    }
    size_t k;
    while (ws < we && ws < bs && (k = space_len(t, len, ws)))
        ws += k;
    while (we > ws && we > be && space_len(t, len, prev_char(t, we)))
        we = prev_char(t, we);
    for (size_t p = ws; p > 0 && !out->cut_before;) {
        p = prev_char(t, p);
        out->cut_before = !space_len(t, len, p);
    }
    for (size_t p = we; p < len && !out->cut_after; p += k ? k : 1)
        out->cut_after = !(k = space_len(t, len, p));

    /* Copy, collapsing whitespace, recording where each source byte lands. */
    size_t n = we - ws;
    if (buf_grow(&s->map, &s->cap_map, n + 1, sizeof *s->map)) return nomem(s);
    out->text = malloc(n + 1);
    if (!out->text) return nomem(s);
    size_t o = 0;
    int in_space = 0;
    for (size_t p = ws; p < we;) {
        if ((k = space_len(t, we, p))) {
            for (size_t x = 0; x < k; x++)
                s->map[p - ws + x] = (uint32_t)o;
            if (!in_space && o > 0) out->text[o++] = ' ';
            in_space = 1;
            p += k;
        } else {
            s->map[p - ws] = (uint32_t)o;
            out->text[o++] = t[p++];
            in_space = 0;
        }
    }
    s->map[n] = (uint32_t)o;
    if (o > 0 && out->text[o - 1] == ' ') o--;
    out->text[o] = '\0';
    out->len = o;
    s->ws = ws;
    s->we = we;
    return window_spans(s, ws, we, o, out);
}

/* out->spans: every match inside the source window [ws, we) (clipped),
 * mapped through s->map into the o bytes of out->text, merged. */
static int window_spans(snip *s, size_t ws, size_t we, size_t o, snip_text *out)
{
    size_t ns = 0;
    for (size_t i = 0; i < s->n_m; i++) {
        size_t a = s->m[i].bstart > ws ? s->m[i].bstart : ws;
        size_t b = s->m[i].bend < we ? s->m[i].bend : we;
        if (a >= b) continue;
        uint32_t x = s->map[a - ws], y = s->map[b - ws];
        y = y > o ? (uint32_t)o : y;
        if (x >= y) continue;
        if (buf_grow(&s->sp, &s->cap_sp, ns + 1, sizeof *s->sp)) return nomem(s);
        s->sp[ns++] = (snip_span){x, y};
    }
    if (ns) {
        /* matches are sorted by character start, so spans are sorted by start */
        size_t w = 0;
        for (size_t i = 1; i < ns; i++) {
            if (s->sp[i].start <= s->sp[w].end) {
                if (s->sp[i].end > s->sp[w].end) s->sp[w].end = s->sp[i].end;
            } else {
                s->sp[++w] = s->sp[i];
            }
        }
        ns = w + 1;
        out->spans = malloc(ns * sizeof *out->spans);
        if (!out->spans) return nomem(s);
        memcpy(out->spans, s->sp, ns * sizeof *out->spans);
        out->n_spans = ns;
    }
    return 0;
}

/* The whole field, byte for byte, with every match highlighted. */
static int make_full(snip *s, const char *t, size_t len, snip_text *out)
{
    memset(out, 0, sizeof *out);
    if (s->n_m) qsort(s->m, s->n_m, sizeof *s->m, match_cmp); /* s->m is NULL until used */
    out->text = malloc(len + 1);
    if (!out->text || buf_grow(&s->map, &s->cap_map, len + 1, sizeof *s->map)) return nomem(s);
    memcpy(out->text, t, len);
    out->text[len] = '\0';
    out->len = len;
    for (size_t p = 0; p <= len; p++)
        s->map[p] = (uint32_t)p;
    return window_spans(s, 0, len, len, out);
}

/* ---- the passage from the index's positions (snip_set_body_index) ---- */

/* Fetches the positions of query term qid (text tx[0..tl)) once per field;
 * 1 when the index cannot tell. */
static int term_positions(snip *s, uint32_t qid, const char *tx, size_t tl)
{
    if (s->qn[qid] != SIZE_MAX) return 0;
    size_t n = 0;
    if (s->body_pos(s->body_pos_ctx, tx, tl, &s->tpos, &s->cap_tpos, &n) < 0) return 1;
    if (buf_grow(&s->qpos, &s->cap_qpos, s->n_qpos + n, sizeof *s->qpos)) return nomem(s);
    if (n) memcpy(s->qpos + s->n_qpos, s->tpos, n * sizeof *s->qpos);
    s->qoff[qid] = s->n_qpos;
    s->qn[qid] = n;
    s->n_qpos += n;
    return 0;
}

static int add_pmatch(snip *s, uint32_t ps, uint32_t pe, size_t u)
{
    if (buf_grow(&s->pm, &s->cap_pm, s->n_pm + 1, sizeof *s->pm)) return nomem(s);
    s->pm[s->n_pm++] = (pmatch){ps, pe, (uint32_t)u, 0, 0};
    return 0;
}

/* First of the n positions p[] that is >= v. */
static size_t pos_lower(const uint32_t *p, size_t n, uint64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A phrase's occurrences by phrase_matches' rule, on the positions. */
static int pos_phrase(snip *s, size_t ui)
{
    const qparse_node *n = s->units[ui].leaf;
    const uint32_t *q = s->pq + s->units[ui].first_qid;
    const uint32_t *p0 = s->qpos + s->qoff[q[0]];
    for (size_t a = 0; a < s->qn[q[0]]; a++) {
        uint32_t ps = p0[a], pe = p0[a];
        int ok = 1;
        for (uint32_t i = 1; i < n->nterms && ok; i++) {
            uint64_t want = (uint64_t)p0[a] + n->terms[i].pos;
            uint64_t lo = want > n->slop ? want - n->slop : 0, hi = want + n->slop;
            const uint32_t *pi = s->qpos + s->qoff[q[i]];
            size_t b = pos_lower(pi, s->qn[q[i]], lo);
            ok = b < s->qn[q[i]] && pi[b] <= hi;
            if (ok) {
                ps = pi[b] < ps ? pi[b] : ps;
                pe = pi[b] > pe ? pi[b] : pe;
            }
        }
        if (ok && add_pmatch(s, ps, pe, ui)) return s->err->code;
    }
    return 0;
}

/* Every unit's matches in the body, from the positions; 1 when the index
 * cannot tell for some term. */
static int pos_matches(snip *s)
{
    size_t nq = strmap_count(s->qterms);
    if (buf_grow(&s->qoff, &s->cap_qoff, nq, sizeof *s->qoff) ||
        buf_grow(&s->qn, &s->cap_qn, nq, sizeof *s->qn))
        return nomem(s);
    for (size_t i = 0; i < nq; i++)
        s->qn[i] = SIZE_MAX;
    s->n_qpos = s->n_pm = 0;
    for (size_t u = 0; u < s->n_units; u++) {
        const qparse_node *n = s->units[u].leaf;
        int single = n->kind == Q_TERM;
        for (uint32_t k = 0; k < n->nterms; k++) {
            uint32_t qid = single ? s->units[u].first_qid : s->pq[s->units[u].first_qid + k];
            int rc = term_positions(s, qid, n->terms[k].text, n->terms[k].len);
            if (rc) return rc;
        }
        if (!single) {
            if (pos_phrase(s, u)) return s->err->code;
            continue;
        }
        const uint32_t *p = s->qpos + s->qoff[s->units[u].first_qid];
        for (size_t i = 0; i < s->qn[s->units[u].first_qid]; i++)
            if (add_pmatch(s, p[i], p[i], u)) return s->err->code;
    }
    return 0;
}

static int pmatch_cmp(const void *a, const void *b)
{
    const pmatch *x = a, *y = b;
    if (x->ps != y->ps) return x->ps < y->ps ? -1 : 1;
    if (x->pe != y->pe) return x->pe < y->pe ? -1 : 1;
    return (x->unit > y->unit) - (x->unit < y->unit);
}

/* The body's byte offset of position p, estimated between the table's
 * entries around it (n entries every `stride` positions; the body's end
 * follows the last entry within a stride). */
static uint64_t pos_byte(const snip *s, size_t n, uint32_t stride, size_t len, uint64_t p)
{
    uint64_t k = p / stride, a, b, at = p - k * stride;
    if (k >= n) {
        a = s->poff[n - 1];
        b = len;
        at = p - (uint64_t)n * stride < stride ? p - (uint64_t)n * stride : stride;
    } else {
        a = k ? s->poff[k - 1] : 0;
        b = s->poff[k];
    }
    return a + (b - a) * at / stride;
}

/* Picks, as make_text does over characters, the span of matches within W
 * estimated bytes (bytes >= characters) holding the most distinct units,
 * then the most matches, earliest first: [*lo, *hi) estimated bytes. */
static int pos_window(snip *s, uint64_t W, uint64_t *lo, uint64_t *hi)
{
    if (buf_grow(&s->cnt, &s->cap_cnt, s->n_units, sizeof *s->cnt)) return nomem(s);
    memset(s->cnt, 0, s->n_units * sizeof *s->cnt);
    size_t best_i = 0, best_j = 1, best_d = 0, best_o = 0, j = 0, distinct = 0;
    for (size_t i = 0; i < s->n_pm; i++) {
        while (j < s->n_pm && (j <= i || s->pm[j].be - s->pm[i].bs <= W)) {
            distinct += s->cnt[s->pm[j].unit]++ == 0;
            j++;
        }
        if (distinct > best_d || (distinct == best_d && j - i > best_o)) {
            best_d = distinct;
            best_o = j - i;
            best_i = i;
            best_j = j;
        }
        distinct -= --s->cnt[s->pm[i].unit] == 0;
    }
    *lo = s->pm[best_i].bs;
    *hi = 0;
    for (size_t k = best_i; k < best_j; k++)
        *hi = s->pm[k].be > *hi ? s->pm[k].be : *hi;
    return 0;
}

/* Analyses t[rb..re) as the field's text (tokens keep their offsets in t). */
static int run_region(snip *s, const char *t, size_t rb, size_t re)
{
    s->n_toks = 0;
    s->base = rb;
    s->cur_b = rb;
    s->cur_c = 0;
    int rc = ana_run(s->a, t + rb, re - rb, on_token, s, s->err);
    if (rc) return rc < 0 ? rc : s->err->code ? s->err->code : IDX_EINTERNAL;
    return find_matches(s);
}

/* The excerpt around the estimated bytes [lo, hi) into *out: the table's
 * entries around them, with room for the context make_text adds (a third of
 * the slack before the matches, the rest after); wider once if the window
 * still reaches past them (estimates, or characters of several bytes).
 * 0 done, 1 when it never fits (the caller analyses the body). */
static int region_text(snip *s, size_t n, const char *t, size_t len, unsigned W, uint64_t lo,
                       uint64_t hi, snip_text *out)
{
    for (uint64_t margin = W; margin <= (uint64_t)4 * W; margin *= 4) {
        uint64_t from = lo > margin ? lo - margin : 0, to = hi + margin + margin / 2;
        size_t ka = pos_lower(s->poff, n, from + 1), kb = pos_lower(s->poff, n, to);
        size_t rb = ka ? s->poff[ka - 1] : 0, re = kb < n ? s->poff[kb] : len;
        int rc = run_region(s, t, rb, re);
        if (rc || (rc = make_text(s, t, len, W, out))) return rc;
        if ((s->ws >= rb || rb == 0) && (s->we <= re || re == len)) return 0;
        free(out->text);
        free(out->spans);
        memset(out, 0, sizeof *out);
    }
    return 1;
}

/* The body's excerpt from the positions: 0 done, 1 when the positions or
 * the table cannot serve (the caller analyses the body instead). */
static int fast_field(snip *s, const char *t, size_t len, unsigned W, snip_text *out)
{
    uint32_t stride;
    size_t n;
    int rc = seg_posmap_decode(s->table, s->table_len, len, &stride, &s->poff, &s->cap_poff, &n);
    if (rc == IDX_ENOMEM) return nomem(s);
    if (rc || n == 0) return 1;
    if ((rc = pos_matches(s))) return rc;
    if (!s->n_pm) return make_text(s, t, len, W, out); /* the start of the body */
    qsort(s->pm, s->n_pm, sizeof *s->pm, pmatch_cmp);
    for (size_t i = 0; i < s->n_pm; i++) {
        s->pm[i].bs = pos_byte(s, n, stride, len, s->pm[i].ps);
        s->pm[i].be = pos_byte(s, n, stride, len, (uint64_t)s->pm[i].pe + 1);
    }
    /* Byte estimates err near the window's size: the best span within W
     * bytes and the best within a quarter more are both made into excerpts
     * (one when they coincide) and the better excerpt is kept, the earlier
     * on a tie, as make_text would choose between them. (4/5 W and 5/4 W
     * lost more passages to the old analysis on the enwiki sample.) */
    uint64_t lo[2] = {0, 0}, hi[2] = {0, 0};
    if ((rc = pos_window(s, W, &lo[0], &hi[0])) ||
        (rc = pos_window(s, (uint64_t)W + W / 4, &lo[1], &hi[1])))
        return rc;
    if ((rc = region_text(s, n, t, len, W, lo[0], hi[0], out))) return rc;
    if (lo[1] == lo[0] && hi[1] == hi[0]) return 0;
    size_t d0 = s->win_d, o0 = s->win_o, ws0 = s->ws;
    snip_text alt;
    rc = region_text(s, n, t, len, W, lo[1], hi[1], &alt);
    if (rc < 0) return rc;
    if (rc == 0 && (s->win_d > d0 || (s->win_d == d0 && s->win_o > o0) ||
                    (s->win_d == d0 && s->win_o == o0 && s->ws < ws0))) {
        free(out->text);
        free(out->spans);
        *out = alt;
    } else if (rc == 0) {
        free(alt.text);
        free(alt.spans);
    }
    return 0;
}

static int do_field(snip *s, int is_title, const char *t, size_t len, unsigned W, snip_text *out)
{
    s->fast = !is_title && !s->full && s->body_pos && s->table && len;
    int rc = prepare_field(s, is_title);
    if (rc) return rc;
    s->n_toks = 0;
    s->n_m = 0;
    s->text = t;
    s->base = 0;
    s->cur_b = s->cur_c = 0;
    s->check_at = s->full || s->fast ? SIZE_MAX : SNIP_CHECK_BYTES;
    s->stop_at = 0;
    s->window = W;
    if (s->fast && !s->n_pref) {
        rc = fast_field(s, t, len, W, out);
        if (rc <= 0) return rc;
    }
    if (s->fast) { /* a prefix, or the index could not tell: as without one */
        s->fast = 0;
        if ((rc = prepare_field(s, is_title))) return rc;
        s->n_toks = 0;
        s->n_m = 0;
        s->base = 0;
        s->cur_b = s->cur_c = 0;
        s->check_at = SNIP_CHECK_BYTES;
    }
    if (len && s->n_needed) {
        rc = ana_run(s->a, t, len, on_token, s, s->err);
        if (rc && rc != SNIP_STOP) return rc < 0 ? rc : s->err->code ? s->err->code : IDX_EINTERNAL;
        if ((rc = find_matches(s))) return rc;
    }
    if (s->full) return make_full(s, t ? t : "", t ? len : 0, out);
    return make_text(s, t ? t : "", t ? len : 0, W, out);
}

static int snip_fields(snip *s, int full, const qparse_tree *q, const char *title, size_t title_len,
                       const char *body, size_t body_len, snip_result *out, idx_err *err)
{
    memset(out, 0, sizeof *out);
    s->err = err;
    s->full = full;
    s->n_leaves = 0;
    int rc = q ? qparse_positive_terms(q, collect_leaf, s) : 0;
    if (!rc) rc = do_field(s, 1, title, title_len, s->o.title_chars, &out->title);
    if (!rc) rc = do_field(s, 0, body, body_len, s->o.window_chars, &out->body);
    if (rc) {
        snip_result_free(out);
        return rc < 0 ? rc : IDX_EINTERNAL;
    }
    return 0;
}

int snip_doc(snip *s, const qparse_tree *q, const char *title, size_t title_len, const char *body,
             size_t body_len, snip_result *out, idx_err *err)
{
    return snip_fields(s, 0, q, title, title_len, body, body_len, out, err);
}

int snip_doc_full(snip *s, const qparse_tree *q, const char *title, size_t title_len,
                  const char *body, size_t body_len, snip_result *out, idx_err *err)
{
    return snip_fields(s, 1, q, title, title_len, body, body_len, out, err);
}
