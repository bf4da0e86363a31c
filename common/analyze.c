/* analyze: the tokenizer, folder and stem cache. The rules and their reasons
 * are in docs/ANALYSIS.md; this file is about doing them fast.
 *
 * One pass over the bytes. ASCII letters and digits take a tight inner loop
 * that lowercases straight into the word buffer; everything else is decoded
 * by hand, classified with utf8proc_category and folded one codepoint at a
 * time with utf8proc_decompose_char into a stack buffer, so nothing is
 * allocated per word. Stems come from a strmap cache: Snowball runs once per
 * distinct word, not once per occurrence. */
#include "common/analyze.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "common/strmap.h"
#include "common/utf8.h"
#include "common/xap.h"

/* Most codepoints a single codepoint folds to (U+FDFA has 18). */
#define ANA_FOLD_CPS 32
/* Word buffer slack past max_token_len: one folded codepoint may add this much
 * before the length check runs. */
#define ANA_SLACK (ANA_FOLD_CPS * 4)
/* Distinct words cached before the cache is dropped and refilled: bounds
 * memory (about 60 MB) on corpora with an endless tail of rare words. */
#define ANA_STEM_CACHE_MAX ((size_t)1 << 20)
/* The stem cache grows to hundreds of thousands of words, so a lookup there
 * costs a cache miss or two; a small direct-mapped table in front, holding
 * short words inline, answers the frequent ones (Zipf: a few thousand words
 * are most of any text) from memory the CPU keeps close. On the enwiki
 * sample 4096 slots missed 22% of the words, 16384 miss 13%. */
#define ANA_L1_SLOTS 16384 /* power of two: 640 KiB, within a core's L2 */
#define ANA_L1_KEY 16      /* longest word kept inline */

enum {
    K_SEP = 0,
    K_LETTER,
    K_DIGIT,
    K_MARK,
    K_APOS,
    K_DOT,
    K_CJK,
    K_IGNORE /* format characters inside words: soft hyphen, ZWJ, ZWNJ */
};

/* ASCII classes: letters, digits, the two joiners; the rest separates. */
static const uint8_t ana_ascii_kind[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 5, 0, /* 0x20: ' . */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, /* 0x30: digits */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, /* 0x50 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, /* 0x70 */
};

enum { ST_NONE, ST_WORD, ST_CJK };

typedef struct ana_l1 {
    uint64_t hash; /* 0: empty */
    uint32_t id, len;
    char key[ANA_L1_KEY];
} ana_l1;

struct ana {
    ana_config cfg;
    utf8proc_option_t fold_opts;
    xap_stem *stem; /* NULL when the language is "none" */
    strmap *cache;  /* folded word -> index of its stem */
    ana_l1 *l1;     /* ANA_L1_SLOTS entries in front of cache */
    char *stems;    /* stem i is stems[soff[i] .. soff[i + 1]) */
    size_t stems_len, stems_cap;
    uint32_t *soff;
    size_t nstems, soff_cap;
    char *wbuf;   /* folded word being built: max_token_len + ANA_SLACK */
    char *sbuf;   /* stemmer output, same size */
    int32_t *cps; /* NFC recomposition when fold_accents is 0 */
    size_t cps_cap;
    uint64_t invalid;
    uint64_t generation; /* bumped whenever the cache is emptied (ids change) */
    int nostem;          /* set by ana_fold */
    /* Elided articles and pronouns of the language (l' d' qu'...), "" ended;
     * NULL for languages without elision. */
    const char *const *elisions;
};

typedef struct scan {
    ana *a;
    const uint8_t *s;
    ana_emit_fn emit;
    void *ctx;
    idx_err *err;
    uint32_t pos;
    int state;
    /* current word */
    size_t wstart, wend, wlen;
    int too_long, has_letter, has_nonascii, last;
    int last_apos; /* an apostrophe joined the word */
    /* current CJK run: run start, the previous char's start, the last char */
    size_t run0, prev0, cur0, cur1, cjk_n;
} scan;

ana_config ana_config_default(void)
{
    ana_config c = {"english", 1, 1, ANA_MAX_TOKEN_DEFAULT, 0};
    return c;
}

/* ---- classification ---- */

/* Scripts written without spaces that we index as bigrams. Only reached for
 * letters and digits, so the ranges may include a few symbols harmlessly. */
static inline int is_cjk(int32_t cp)
{
    if (cp < 0x1100) return 0;
    if (cp < 0x2E80) return cp <= 0x11FF; /* Hangul Jamo */
    if (cp <= 0x9FFF)
        return cp <= 0x2FDF                      /* CJK and Kangxi radicals */
               || (cp >= 0x3005 && cp <= 0x3007) /* 々 〆 〇 */
               || (cp >= 0x3021 && cp <= 0x3029) /* Hangzhou numerals */
               || (cp >= 0x3031 && cp <= 0x3035) /* kana repeat marks */
               || (cp >= 0x3040 && cp <= 0x30FF) /* Hiragana, Katakana */
               || (cp >= 0x3130 && cp <= 0x318F) /* Hangul compatibility Jamo */
               || (cp >= 0x31F0 && cp <= 0x31FF) /* Katakana extensions */
               || cp >= 0x3400;                  /* Han ext A and unified */
    if (cp < 0xA960) return 0;
    return cp <= 0xA97F                         /* Hangul Jamo ext A */
           || (cp >= 0xAC00 && cp <= 0xD7FF)    /* Hangul syllables, Jamo ext B */
           || (cp >= 0xF900 && cp <= 0xFAFF)    /* Han compatibility */
           || (cp >= 0xFF66 && cp <= 0xFFDC)    /* halfwidth Katakana, Hangul */
           || (cp >= 0x1B000 && cp <= 0x1B16F)  /* Kana supplement, ext A */
           || (cp >= 0x20000 && cp <= 0x3FFFF); /* Han ext B..H, compat supp. */
}

static inline int uni_kind(int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    int k;
    if (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO)
        k = K_LETTER;
    else if (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME)
        return K_MARK;
    else if (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO)
        k = K_DIGIT;
    else if (cp == 0x2019)
        return K_APOS;
    else if (c == UTF8PROC_CATEGORY_CF && cp != 0x200B && cp != 0xFEFF)
        return K_IGNORE; /* ZWSP and BOM do separate words */
    else
        return K_SEP;
    return is_cjk(cp) ? K_CJK : k;
}

/* Kind of the codepoint at s[i], for the joiners' look-ahead. */
static inline int peek_kind(const uint8_t *s, size_t i, size_t len)
{
    if (i >= len) return K_SEP;
    if (s[i] < 0x80) return ana_ascii_kind[s[i]];
    size_t n;
    int32_t cp = utf8_decode(s + i, len - i, &n);
    return cp < 0 ? K_SEP : uni_kind(cp);
}

/* ---- folding ---- */

/* Folds one non-ASCII codepoint into dst (room for ANA_SLACK bytes). */
static inline size_t fold_cp(utf8proc_option_t opts, int32_t cp, uint8_t *dst)
{
    /* The ligatures œ and æ are letters of their own to Unicode (no
     * decomposition), but words are typed with oe and ae as often: they fold
     * with the accents. */
    if ((opts & UTF8PROC_STRIPMARK) && (cp | 0x20) >= 0xE6 &&
        (cp == 0x153 || cp == 0x152 || cp == 0xE6 || cp == 0xC6)) {
        dst[0] = cp >= 0x152 ? 'o' : 'a';
        dst[1] = 'e';
        return 2;
    }
    utf8proc_int32_t buf[ANA_FOLD_CPS];
    int bc = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(cp, buf, ANA_FOLD_CPS, opts, &bc);
    if (n < 0 || n > ANA_FOLD_CPS) /* cannot happen with Unicode as it is */
        return (size_t)utf8proc_encode_char(cp, dst);
    size_t w = 0;
    for (utf8proc_ssize_t k = 0; k < n; k++)
        w += (size_t)utf8proc_encode_char(buf[k], dst + w);
    return w;
}

/* Without accent folding, per-codepoint decomposition leaves "é" typed as
 * e + U+0301 different from precomposed é; recompose the word (NFKC casefold)
 * from its source bytes. Only called for words with non-ASCII that fit. */
static void refold_nfc(ana *a, scan *sc)
{
    const uint8_t *s = sc->s;
    size_t n = 0;
    for (size_t i = sc->wstart; i < sc->wend;) {
        size_t len;
        int32_t cp;
        if (s[i] < 0x80) {
            cp = s[i];
            len = 1;
            if (cp >= 'A' && cp <= 'Z') cp |= 0x20;
            if (n < a->cps_cap) a->cps[n++] = cp;
        } else {
            cp = utf8_decode(s + i, sc->wend - i, &len);
            if (cp == 0x2019)
                cp = '\'';
            else if (cp >= 0 && uni_kind(cp) == K_IGNORE)
                cp = -1;
            int bc = 0;
            utf8proc_ssize_t k = 0;
            if (cp >= 0 && a->cps_cap - n >= ANA_FOLD_CPS)
                k = utf8proc_decompose_char(cp, a->cps + n, ANA_FOLD_CPS, a->fold_opts, &bc);
            if (k > 0 && k <= ANA_FOLD_CPS) n += (size_t)k;
        }
        i += len;
    }
    /* Canonical ordering across codepoints, which decompose_char cannot do. */
    for (size_t k = 1; k < n; k++) {
        int32_t c = a->cps[k];
        int cc = utf8proc_get_property(c)->combining_class;
        if (!cc) continue;
        size_t j = k;
        while (j > 0 && utf8proc_get_property(a->cps[j - 1])->combining_class > cc) {
            a->cps[j] = a->cps[j - 1];
            j--;
        }
        a->cps[j] = c;
    }
    utf8proc_ssize_t m =
        utf8proc_normalize_utf32(a->cps, (utf8proc_ssize_t)n, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    if (m < 0) return; /* keep the decomposed form already in wbuf */
    /* Composition never lengthens the UTF-8, so this fits in wbuf; the bound
     * guards against that reasoning ever being wrong. */
    size_t w = 0, cap = a->cfg.max_token_len + ANA_SLACK;
    for (utf8proc_ssize_t k = 0; k < m && w + 4 <= cap; k++)
        w += (size_t)utf8proc_encode_char(a->cps[k], (uint8_t *)a->wbuf + w);
    sc->wlen = w;
}

/* ---- stem cache ---- */

static void stem_cache_reset(ana *a)
{
    strmap_clear(a->cache);
    /* ana_new fails without l1; the analyser loses that across the calls into utf8proc.
     * NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
    memset(a->l1, 0, ANA_L1_SLOTS * sizeof *a->l1);
    a->nstems = 0;
    a->stems_len = 0;
    a->generation++;
}

uint64_t ana_generation(const ana *a)
{
    return a->generation;
}

static int stem_lookup(ana *a, const char *w, size_t wlen, const char **out, size_t *out_len,
                       uint32_t *id, idx_err *err)
{
    if (a->nstems >= ANA_STEM_CACHE_MAX) stem_cache_reset(a);
    uint32_t *v;
    uint64_t h = strmap_hash(w, wlen);
    h += h == 0;
    ana_l1 *e = wlen <= ANA_L1_KEY ? &a->l1[h & (ANA_L1_SLOTS - 1)] : NULL;
    uint32_t hit;
    if (e && e->hash == h && e->len == wlen && !memcmp(e->key, w, wlen)) {
        hit = e->id;
        v = &hit;
        goto found;
    }
    int inserted;
    v = strmap_put_hashed(a->cache, h, w, wlen, (uint32_t)a->nstems, &inserted);
    if (!v) return err_set(err, IDX_ENOMEM, "out of memory in the stem cache");
    if (inserted) {
        size_t slen;
        size_t cap = a->cfg.max_token_len + ANA_SLACK;
        int rc = xap_stem_word(a->stem, w, wlen, a->sbuf, cap, &slen, err);
        if (rc < 0) {
            /* The key is in the cache pointing at a stem that does not exist;
             * drop the whole cache rather than leave it dangling. */
            stem_cache_reset(a);
            return rc;
        }
        if (a->nstems + 2 > a->soff_cap) {
            size_t c = a->soff_cap ? a->soff_cap * 2 : 4096;
            uint32_t *p = realloc(a->soff, c * sizeof *p);
            if (!p) goto nomem;
            a->soff = p;
            a->soff_cap = c;
        }
        if (a->stems_len + slen > a->stems_cap) {
            size_t c = a->stems_cap ? a->stems_cap * 2 : 65536;
            while (c < a->stems_len + slen)
                c *= 2;
            char *p = realloc(a->stems, c);
            if (!p) goto nomem;
            a->stems = p;
            a->stems_cap = c;
        }
        memcpy(a->stems + a->stems_len, a->sbuf, slen);
        a->soff[a->nstems] = (uint32_t)a->stems_len;
        a->stems_len += slen;
        a->soff[a->nstems + 1] = (uint32_t)a->stems_len;
        a->nstems++;
    }
    if (e) {
        e->hash = h;
        e->id = *v;
        e->len = (uint32_t)wlen;
        memcpy(e->key, w, wlen);
    }
found:
    *out = a->stems + a->soff[*v];
    *out_len = a->soff[*v + 1] - a->soff[*v];
    *id = *v;
    return 0;
nomem:
    stem_cache_reset(a);
    return err_set(err, IDX_ENOMEM, "out of memory in the stem cache");
}

/* ---- token boundaries ---- */

static inline int emit_tok(scan *sc, const char *term, size_t len, const char *unst, size_t ulen,
                           size_t start, size_t end, uint32_t id)
{
    ana_token t;
    t.id = id;
    t.term = term;
    t.len = (uint32_t)len;
    t.pos = sc->pos++;
    t.start = (uint32_t)start;
    t.end = (uint32_t)end;
    t.unstemmed = unst;
    t.unstemmed_len = (uint32_t)ulen;
    return sc->emit(sc->ctx, &t);
}

/* Drops an elided article or pronoun from the front of the folded word:
 * French l'économie is indexed as économie, so the word is found by itself.
 * Only apostrophes between letters are in a word (rule of section 2). */
static void elide(ana *a, scan *sc)
{
    const char *ap = memchr(a->wbuf, '\'', sc->wlen < 8 ? sc->wlen : 8);
    if (!ap) return;
    size_t k = (size_t)(ap - a->wbuf);
    for (const char *const *e = a->elisions; **e; e++)
        if (strlen(*e) == k && memcmp(*e, a->wbuf, k) == 0) {
            sc->wlen -= k + 1;
            memmove(a->wbuf, ap + 1, sc->wlen);
            return;
        }
}

static int word_end(scan *sc)
{
    ana *a = sc->a;
    sc->state = ST_NONE;
    if (sc->too_long) {
        sc->pos++; /* dropped, but phrases must not bridge the gap */
        return 0;
    }
    if (sc->wlen == 0) return 0; /* only marks, all stripped: nothing was there to index */
    if (sc->has_nonascii && !a->cfg.fold_accents) refold_nfc(a, sc);
    if (a->elisions && sc->last_apos) elide(a, sc);
    const char *term = a->wbuf;
    size_t tlen = sc->wlen;
    uint32_t id = ANA_NO_ID;
    if (sc->has_letter && a->stem && !a->nostem) {
        int rc = stem_lookup(a, a->wbuf, sc->wlen, &term, &tlen, &id, sc->err);
        if (rc) return rc;
    }
    return emit_tok(sc, term, tlen, a->wbuf, sc->wlen, sc->wstart, sc->wend, id);
}

/* CJK terms are the source bytes: no case, and NFKD would break Hangul
 * syllables into Jamo and strip kana voicing marks. */
static inline int cjk_term(scan *sc, size_t start, size_t end)
{
    if (end - start > sc->a->cfg.max_token_len) {
        sc->pos++;
        return 0;
    }
    const char *t = (const char *)sc->s + start;
    return emit_tok(sc, t, end - start, t, end - start, start, end, ANA_NO_ID);
}

/* The bigram [b0, b1) of a run, and with cjk_unigrams the character
 * [b0, u1) it starts, at the same position. */
static int cjk_bigram(scan *sc, size_t b0, size_t u1, size_t b1)
{
    int rc = cjk_term(sc, b0, b1);
    if (rc || !sc->a->cfg.cjk_unigrams) return rc;
    sc->pos--;
    return cjk_term(sc, b0, u1);
}

static int cjk_end(scan *sc)
{
    sc->state = ST_NONE;
    if (!sc->a->cfg.cjk_bigrams) return cjk_term(sc, sc->run0, sc->cur1);
    if (sc->cjk_n == 1) return cjk_term(sc, sc->cur0, sc->cur1);
    int rc = cjk_bigram(sc, sc->prev0, sc->cur0, sc->cur1);
    if (rc || !sc->a->cfg.cjk_unigrams) return rc;
    /* A run ending in a repeated character (妈妈) has it at that position
     * already: a term's positions must strictly increase. */
    if (sc->cur1 - sc->cur0 == sc->cur0 - sc->prev0 &&
        !memcmp(sc->s + sc->prev0, sc->s + sc->cur0, sc->cur1 - sc->cur0))
        return 0;
    sc->pos--; /* the run's last character, at its last bigram's position */
    return cjk_term(sc, sc->cur0, sc->cur1);
}

static inline int token_end(scan *sc)
{
    if (sc->state == ST_WORD) return word_end(sc);
    if (sc->state == ST_CJK) return cjk_end(sc);
    return 0;
}

static inline int word_begin(scan *sc, size_t i)
{
    int rc = sc->state == ST_CJK ? cjk_end(sc) : 0;
    sc->state = ST_WORD;
    sc->wstart = sc->wend = i;
    sc->wlen = 0;
    sc->too_long = sc->has_letter = sc->has_nonascii = sc->last_apos = 0;
    sc->last = K_SEP;
    return rc;
}

/* A CJK character [i, e) joins the run; the bigram ending at the previous
 * character is emitted only now, since marks may still have extended it. */
static inline int cjk_push(scan *sc, size_t i, size_t e)
{
    int rc = 0;
    if (sc->state != ST_CJK) {
        rc = sc->state == ST_WORD ? word_end(sc) : 0;
        sc->state = ST_CJK;
        sc->run0 = i;
        sc->cjk_n = 0;
    } else if (sc->cjk_n >= 2 && sc->a->cfg.cjk_bigrams) {
        rc = cjk_bigram(sc, sc->prev0, sc->cur0, sc->cur1);
    }
    sc->prev0 = sc->cur0;
    sc->cur0 = i;
    sc->cur1 = e;
    sc->cjk_n++;
    return rc;
}

static int scan_text(ana *a, const char *text, size_t len, ana_emit_fn emit, void *ctx,
                     idx_err *err, uint32_t *npos)
{
    if (len > UINT32_MAX)
        return err_set(err, IDX_EDATA, "text field of %zu bytes is over the 4 GiB limit", len);
    scan sc;
    memset(&sc, 0, sizeof sc);
    sc.a = a;
    sc.s = (const uint8_t *)text;
    sc.emit = emit;
    sc.ctx = ctx;
    sc.err = err;
    sc.state = ST_NONE;
    const uint8_t *s = sc.s;
    const size_t lim = a->cfg.max_token_len;
    char *w = a->wbuf;
    size_t i = 0;
    int rc = 0;
    while (i < len) {
        uint8_t b = s[i];
        int kind;
        int32_t cp;
        size_t n;
        if (b < 0x80) {
            kind = ana_ascii_kind[b];
            if (kind == K_LETTER || kind == K_DIGIT) {
                if (sc.state != ST_WORD && (rc = word_begin(&sc, i)) != 0) goto out;
                size_t wlen = sc.wlen;
                do {
                    if (wlen < lim)
                        w[wlen++] = (char)(kind == K_LETTER ? (b | 0x20) : b);
                    else
                        sc.too_long = 1;
                    sc.has_letter |= kind == K_LETTER;
                    sc.last = kind;
                    i++;
                } while (i < len && (b = s[i]) < 0x80 &&
                         ((kind = ana_ascii_kind[b]) == K_LETTER || kind == K_DIGIT));
                sc.wlen = wlen;
                sc.wend = i;
                continue;
            }
            cp = b;
            n = 1;
        } else {
            cp = utf8_decode(s + i, len - i, &n);
            if (cp < 0) {
                a->invalid++;
                kind = K_SEP; /* U+FFFD is a symbol: it separates */
            } else {
                kind = uni_kind(cp);
            }
        }
        switch (kind) {
        case K_MARK:
            if (sc.state == ST_CJK) { /* a voicing mark belongs to its kana */
                sc.cur1 = i + n;
                break;
            }
            /* fallthrough */
        case K_LETTER:
        case K_DIGIT:
            if (sc.state != ST_WORD && (rc = word_begin(&sc, i)) != 0) goto out;
            if (!sc.too_long) {
                sc.wlen += fold_cp(a->fold_opts, cp, (uint8_t *)w + sc.wlen);
                if (sc.wlen > lim) {
                    sc.too_long = 1;
                    sc.wlen = lim;
                }
            }
            if (kind != K_MARK) /* a mark continues its base letter's kind */
                sc.last = kind;
            sc.has_letter |= kind == K_LETTER;
            sc.has_nonascii = 1;
            sc.wend = i + n;
            break;
        case K_CJK:
            if ((rc = cjk_push(&sc, i, i + n)) != 0) goto out;
            break;
        case K_IGNORE:
            if (sc.state == ST_WORD) sc.wend = i + n;
            break;
        case K_APOS:
        case K_DOT: {
            /* ' joins letter'letter, . joins digit.digit; see ANALYSIS.md. */
            int need = kind == K_APOS ? K_LETTER : K_DIGIT;
            if (sc.state == ST_WORD && sc.last == need && peek_kind(s, i + n, len) == need) {
                if (sc.wlen < lim)
                    w[sc.wlen++] = kind == K_APOS ? '\'' : '.';
                else
                    sc.too_long = 1;
                sc.last_apos |= kind == K_APOS;
                sc.has_nonascii |= n > 1;
                sc.last = kind;
                sc.wend = i + n;
                break;
            }
            if ((rc = token_end(&sc)) != 0) goto out;
            break;
        }
        default:
            if ((rc = token_end(&sc)) != 0) goto out;
            break;
        }
        i += n;
    }
    rc = token_end(&sc);
out:
    if (npos) *npos = sc.pos;
    return rc;
}

/* ---- public ---- */

/* The elisions of the languages that write them (docs/ANALYSIS.md). */
static const char *const *elisions_of(const char *language)
{
    static const char *const fr[] = {"l", "d",  "j",     "m",      "n",      "s",      "t",
                                     "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", ""};
    static const char *const it[] = {"l",    "d",    "c",     "s",     "m",    "t",      "v",
                                     "n",    "un",   "dell",  "all",   "dall", "nell",   "sull",
                                     "coll", "pell", "quell", "quest", "anch", "nessun", ""};
    static const char *const ca[] = {"l", "d", "s", "m", "t", "n", ""};
    static const struct {
        const char *name, *code;
        const char *const *list;
    } langs[] = {{"french", "fr", fr}, {"italian", "it", it}, {"catalan", "ca", ca}};
    if (!language) return NULL;
    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++)
        if (!strcmp(language, langs[i].name) || !strcmp(language, langs[i].code))
            return langs[i].list;
    return NULL;
}

static int check_token_len(const ana_config *cfg, idx_err *err)
{
    if (cfg->max_token_len < 1 || cfg->max_token_len > ANA_MAX_TOKEN_LIMIT)
        return err_set(err, IDX_EUSAGE, "maximum token length %u is outside 1..%d",
                       cfg->max_token_len, ANA_MAX_TOKEN_LIMIT);
    return 0;
}

int ana_config_check(const ana_config *cfg, idx_err *err)
{
    xap_stem *stem;
    int rc = check_token_len(cfg, err);
    if (!rc) rc = xap_stem_new(cfg->language ? cfg->language : "none", &stem, err);
    if (!rc) xap_stem_free(stem);
    return rc;
}

int ana_new(const ana_config *cfg, ana **out, idx_err *err)
{
    *out = NULL;
    int rc = check_token_len(cfg, err);
    if (rc) return rc;
    ana *a = calloc(1, sizeof *a);
    if (!a) return err_set(err, IDX_ENOMEM, "out of memory creating the analyzer");
    a->cfg = *cfg;
    a->cfg.language = NULL; /* the caller's string need not outlive ana_new */
    a->cfg.fold_accents = cfg->fold_accents ? 1 : 0;
    a->cfg.cjk_bigrams = cfg->cjk_bigrams ? 1 : 0;
    a->cfg.cjk_unigrams = a->cfg.cjk_bigrams && cfg->cjk_unigrams;
    a->fold_opts = UTF8PROC_CASEFOLD | UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE;
    if (a->cfg.fold_accents) a->fold_opts |= UTF8PROC_STRIPMARK;
    size_t cap = cfg->max_token_len + ANA_SLACK;
    a->wbuf = malloc(cap);
    a->sbuf = malloc(cap);
    a->cps_cap = cfg->max_token_len + ANA_FOLD_CPS;
    a->cps = malloc(a->cps_cap * sizeof *a->cps);
    a->cache = strmap_new(1 << 14);
    a->l1 = calloc(ANA_L1_SLOTS, sizeof *a->l1);
    if (!a->wbuf || !a->sbuf || !a->cps || !a->cache || !a->l1) {
        ana_free(a);
        return err_set(err, IDX_ENOMEM, "out of memory creating the analyzer");
    }
    rc = xap_stem_new(cfg->language ? cfg->language : "none", &a->stem, err);
    if (rc < 0) {
        ana_free(a);
        return rc;
    }
    if (xap_stem_is_none(a->stem)) {
        xap_stem_free(a->stem);
        a->stem = NULL;
    }
    a->elisions = elisions_of(cfg->language);
    *out = a;
    return 0;
}

void ana_free(ana *a)
{
    if (!a) return;
    if (a->stem) xap_stem_free(a->stem);
    strmap_free(a->cache);
    free(a->l1);
    free(a->stems);
    free(a->soff);
    free(a->wbuf);
    free(a->sbuf);
    free(a->cps);
    free(a);
}

int ana_run(ana *a, const char *text, size_t len, ana_emit_fn emit, void *ctx, idx_err *err)
{
    return scan_text(a, text, len, emit, ctx, err, NULL);
}

uint64_t ana_invalid_utf8(const ana *a)
{
    return a->invalid;
}

void ana_reset_counters(ana *a)
{
    a->invalid = 0;
}

typedef struct fold_ctx {
    char *out;
    size_t cap, len;
    int count, overflow;
} fold_ctx;

static int fold_cb(void *ctx, const ana_token *t)
{
    fold_ctx *f = ctx;
    if (++f->count > 1) return 1;
    if (t->unstemmed_len > f->cap) {
        f->overflow = 1;
        return 1;
    }
    memcpy(f->out, t->unstemmed, t->unstemmed_len);
    f->len = t->unstemmed_len;
    return 0;
}

int ana_fold(ana *a, const char *word, size_t len, char *out, size_t cap, size_t *out_len,
             idx_err *err)
{
    *out_len = 0;
    fold_ctx f = {out, cap, 0, 0, 0};
    uint32_t npos = 0;
    int bigrams = a->cfg.cjk_bigrams;
    uint64_t invalid = a->invalid; /* query words are not corpus statistics */
    a->nostem = 1;
    a->cfg.cjk_bigrams = 0;
    int rc = scan_text(a, word, len, fold_cb, &f, err, &npos);
    a->nostem = 0;
    a->cfg.cjk_bigrams = bigrams;
    a->invalid = invalid;
    if (rc < 0) return rc;
    if (f.overflow)
        return err_set(err, IDX_EUSAGE, "folded form of '%.*s' is over %zu bytes",
                       (int)(len > 200 ? 200 : len), word, cap);
    if (f.count != 1 || npos != 1)
        return err_set(err, IDX_EUSAGE, "'%.*s' is not a single indexable word",
                       (int)(len > 200 ? 200 : len), word);
    *out_len = f.len;
    return 0;
}
