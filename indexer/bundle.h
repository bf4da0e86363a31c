/* bundle: one analysed document's terms and positions, as the analysis
 * workers hand them to the writer (the inverter or the xapian sink).
 *
 * Format: varint n_terms, then per distinct term: varint id, varint length,
 * the term bytes, varint tf_title, varint tf_body, then tf_title + tf_body
 * position varints (title first; each field's first position absolute, the
 * others gaps from the previous one).
 *
 * A term's id is dense and names the same term in every bundle made in one
 * vocabulary (bundle_vocab: one worker between two resets of its term map),
 * so a reader can map terms to its own data with an array instead of a hash
 * lookup per posting.
 *
 * The encoder appends to a buf (its oom flag reports failure); the decoder
 * is an iterator over a bundle in memory. Both are inline: they run once per
 * term of every document. */
#ifndef IDX_BUNDLE_H
#define IDX_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/codec.h"

/* Whose ids a bundle's are; equal values, equal vocabularies. */
typedef struct bundle_vocab {
    const void *owner;
    uint64_t epoch;
} bundle_vocab;

/* ---- encoder: bundle_begin, then per term bundle_term and its positions ---- */

static inline void bundle_begin(buf *out, size_t n_terms)
{
    codec_put_varint(out, n_terms);
}

static inline void bundle_term(buf *out, uint32_t id, const char *term, size_t len,
                               uint32_t tf_title, uint32_t tf_body)
{
    codec_put_varint(out, id);
    codec_put_varint(out, len);
    buf_put(out, term, len);
    codec_put_varint(out, tf_title);
    codec_put_varint(out, tf_body);
}

/* One position; `first` for the first of its field (prev is then ignored). */
static inline void bundle_position(buf *out, int first, uint32_t pos, uint32_t prev)
{
    codec_put_varint(out, first ? pos : pos - prev);
}

/* ---- decoder ---- */

typedef struct bundle_iter {
    const uint8_t *p, *end;
    uint64_t left; /* terms not yet returned */
} bundle_iter;

typedef struct bundle_entry {
    uint32_t id;
    const char *term;
    size_t len;
    uint32_t tf_title, tf_body;
    const uint8_t *pos; /* tf_title + tf_body position varints, as encoded */
    size_t pos_len;
} bundle_entry;

/* 0, or -1 if the bundle does not start with a term count. */
static inline int bundle_iter_init(bundle_iter *it, const uint8_t *p, size_t len)
{
    it->left = 0;
    size_t a = codec_get_varint(p, len, &it->left);
    it->p = p + a;
    it->end = p + len;
    return a ? 0 : -1;
}

/* 1 and the next term in *e, 0 after the last, -1 if the bundle is malformed. */
static inline int bundle_next(bundle_iter *it, bundle_entry *e)
{
    if (!it->left) return 0;
    size_t avail = (size_t)(it->end - it->p);
    size_t i = codec_get_varint32(it->p, avail, &e->id);
    if (!i) return -1;
    const uint8_t *t = it->p + i;
    avail -= i;
    uint64_t tlen;
    size_t a = codec_get_varint(t, avail, &tlen);
    if (!a || tlen > avail - a) return -1;
    e->term = (const char *)t + a;
    e->len = (size_t)tlen;
    const uint8_t *q = t + a + tlen;
    avail = (size_t)(it->end - q);
    size_t b = codec_get_varint32(q, avail, &e->tf_title);
    size_t c = b ? codec_get_varint32(q + b, avail - b, &e->tf_body) : 0;
    if (!c) return -1;
    q += b + c;
    size_t n = (size_t)e->tf_title + e->tf_body;
    size_t plen = codec_skip_varints(q, (size_t)(it->end - q), n);
    if (!plen && n) return -1;
    e->pos = q;
    e->pos_len = plen;
    it->p = q + plen;
    it->left--;
    return 1;
}

/* Decodes e's positions into out (tf_title + tf_body entries: the title's,
 * then the body's, absolute). 0, or -1 if they are malformed. */
int bundle_positions(const bundle_entry *e, uint32_t *out);

#endif
