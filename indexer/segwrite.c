#include "indexer/segwrite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cfile.h"
#include "common/codec.h"
#include "common/fcol.h"
#include "common/fields.h"
#include "common/segfmt.h"
#include "common/segment.h"
#include "common/termfilter.h"

struct segw {
    char *dir, *name;
    const segw_docs *dt; /* document table */
    bm25_params params;
    double avg_title, avg_body;
    int field_term; /* current term is author:/category: (no length norm) */
    cfw *lex, *post, *pos;
    segw_totals totals;

    /* lexicon being built */
    buf lex_block, lex_index;
    buf lex_keys; /* every block's key (FORMAT.md §4.2), written before the filter */
    uint32_t lex_in_block;
    char prev_term[SEG_MAX_TERM + 1];
    size_t prev_len;
    uint64_t lex_post_off, lex_pos_off; /* offsets of the next term's lists */
    uint64_t *hashes;                   /* every term's termfilter_hash, for the filter */
    size_t hashes_cap;

    /* current term */
    char term[SEG_MAX_TERM + 1];
    size_t term_len;
    uint32_t df;
    uint64_t cf;
    uint32_t last_doc;
    uint64_t term_pos_start;
    uint32_t docs[CODEC_BLOCK], tft[CODEC_BLOCK], tfb[CODEC_BLOCK];
    uint32_t n; /* postings pending in the current block */
    float block_bound, term_bound;
    double sat[CODEC_BLOCK]; /* score parts of the pending block, for its sub-bounds */
    uint64_t block_pos_start;
    buf skips, blocks, posbuf;
};

static int segw_create(segw *w, const char *ext, cfw **f, idx_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s", w->dir, w->name, ext);
    return cfw_create(path, ext, f, err);
}

int segw_open(const char *dir, const char *name, const segw_docs *docs, bm25_params params,
              segw **out, idx_err *err)
{
    segw *w = calloc(1, sizeof *w);
    if (!w || !(w->dir = strdup(dir)) || !(w->name = strdup(name))) {
        if (w) free(w->dir);
        free(w);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    w->dt = docs;
    w->params = params;
    uint64_t tt = 0, tb = 0;
    for (uint32_t d = 0; d < docs->n_docs; d++) {
        tt += docs->len_title[d];
        tb += docs->len_body[d];
    }
    w->avg_title = docs->n_docs ? (double)tt / docs->n_docs : 0;
    w->avg_body = docs->n_docs ? (double)tb / docs->n_docs : 0;
    int rc = segw_create(w, "lex", &w->lex, err);
    if (!rc) rc = segw_create(w, "post", &w->post, err);
    if (!rc) rc = segw_create(w, "pos", &w->pos, err);
    if (rc) {
        segw_abort(w);
        return rc;
    }
    w->lex_post_off = cfw_tell(w->post);
    w->lex_pos_off = cfw_tell(w->pos);
    *out = w;
    return 0;
}

int segw_term_begin(segw *w, const char *term, size_t len, idx_err *err)
{
    if (len == 0 || len > SEG_MAX_TERM)
        return err_set(err, IDX_EINTERNAL, "term length %zu out of range", len);
    memcpy(w->term, term, len);
    w->term_len = len;
    w->field_term = field_is_label_term(term, len);
    w->df = 0;
    w->cf = 0;
    w->n = 0;
    w->term_bound = 0;
    w->block_bound = 0;
    w->skips.len = w->blocks.len = 0;
    w->term_pos_start = cfw_tell(w->pos);
    w->block_pos_start = w->term_pos_start;
    return 0;
}

static void segw_flush_block(segw *w)
{
    uint32_t gaps[CODEC_BLOCK];
    /* Gaps minus one: docids strictly increase, so a gap of 1 costs 0 bits. */
    uint32_t prev =
        w->skips.len ? segfmt_skip_last_doc(w->skips.p + w->skips.len - SEGFMT_SKIP_SIZE) : 0;
    for (uint32_t i = 0; i < w->n; i++) {
        gaps[i] = (i == 0 && w->skips.len == 0) ? w->docs[0] : w->docs[i] - prev - 1;
        prev = w->docs[i];
    }
    segfmt_skip e = {w->docs[w->n - 1],
                     (uint32_t)w->blocks.len,
                     (uint32_t)(w->block_pos_start - w->term_pos_start),
                     w->block_bound,
                     {0}};
    uint32_t run = CODEC_BLOCK / SEGFMT_SUB_BLOCKS;
    for (uint32_t s = 0; s < SEGFMT_SUB_BLOCKS; s++) {
        double max = 0;
        for (uint32_t i = s * run; i < w->n && i < (s + 1) * run; i++)
            if (w->sat[i] > max) max = w->sat[i];
        uint8_t q = 0;
        while (q < 255 && seg_sub_bound(w->block_bound, q) < max)
            q++;
        e.sub[s] = q;
    }
    uint8_t bytes[SEGFMT_SKIP_SIZE];
    segfmt_skip_put(bytes, &e);
    buf_put(&w->skips, bytes, sizeof bytes);
    codec_pack(&w->blocks, gaps, w->n);
    codec_pack(&w->blocks, w->tfb, w->n);
    codec_pack(&w->blocks, w->tft, w->n);
    if (w->block_bound > w->term_bound) w->term_bound = w->block_bound;
    w->block_bound = 0;
    w->n = 0;
    w->block_pos_start = cfw_tell(w->pos) + w->posbuf.len;
}

static void segw_put_positions(buf *b, const uint32_t *p, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++)
        codec_put_varint(b, k ? p[k] - p[k - 1] : p[k]);
}

int segw_posting(segw *w, uint32_t doc, uint32_t tf_title, uint32_t tf_body, const uint32_t *title,
                 const uint32_t *body, idx_err *err)
{
    if ((w->df && doc <= w->last_doc) || doc >= w->dt->n_docs || !(tf_title | tf_body))
        return err_set(err, IDX_EINTERNAL, "posting out of order for term %.*s", (int)w->term_len,
                       w->term);
    w->docs[w->n] = doc;
    w->tft[w->n] = tf_title;
    w->tfb[w->n] = tf_body;
    w->n++;
    w->df++;
    w->cf += (uint64_t)tf_title + tf_body;
    w->last_doc = doc;
    w->totals.postings++;
    w->totals.positions += (uint64_t)tf_title + tf_body;
    double tfw;
    if (w->field_term) {
        tfw = tf_body;
    } else {
        const bm25_params *p = &w->params;
        tfw = bm25_tfw(p, tf_title, tf_body, bm25_norm(p, w->dt->len_title[doc], w->avg_title),
                       bm25_norm(p, w->dt->len_body[doc], w->avg_body));
    }
    /* Rounded up so that a float bound never falls below the exact score. */
    double exact = bm25_sat(&w->params, tfw);
    float sat = (float)exact;
    if ((double)sat < exact) sat = nextafterf(sat, INFINITY);
    if (sat > w->block_bound) w->block_bound = sat;
    w->sat[w->n - 1] = exact;
    segw_put_positions(&w->posbuf, title, tf_title);
    segw_put_positions(&w->posbuf, body, tf_body);
    if (w->posbuf.len >= (1 << 20)) {
        cfw_write(w->pos, w->posbuf.p, w->posbuf.len);
        w->posbuf.len = 0;
    }
    if (w->n == CODEC_BLOCK) segw_flush_block(w);
    return w->posbuf.oom ? err_set(err, IDX_ENOMEM, "out of memory") : 0;
}

static void segw_lex_add(segw *w, uint64_t post_len, uint64_t pos_len)
{
    if (w->lex_in_block == SEGFMT_LEX_BLOCK || w->totals.terms == 0) {
        if (w->lex_block.len) cfw_write(w->lex, w->lex_block.p, w->lex_block.len);
        w->lex_block.len = 0;
        w->lex_in_block = 0;
        segfmt_lex_index ix = {cfw_tell(w->lex), w->lex_post_off, w->lex_pos_off};
        uint8_t bytes[SEGFMT_LEX_INDEX_SIZE];
        segfmt_lex_index_put(bytes, &ix);
        buf_put(&w->lex_index, bytes, sizeof bytes);
        uint8_t key[SEGFMT_LEX_KEY_SIZE];
        segfmt_lex_key_put(key, w->term, w->term_len);
        buf_put(&w->lex_keys, key, sizeof key);
        w->prev_len = 0; /* a block's first term is stored whole */
    }
    size_t shared = 0;
    while (shared < w->prev_len && shared < w->term_len && w->prev_term[shared] == w->term[shared])
        shared++;
    segfmt_lex_entry e = {shared,  w->term_len - shared, (const uint8_t *)w->term + shared,
                          w->df,   w->cf - w->df,        post_len,
                          pos_len, w->term_bound};
    segfmt_lex_entry_put(&w->lex_block, &e);
    memcpy(w->prev_term, w->term, w->term_len);
    w->prev_len = w->term_len;
    w->lex_in_block++;
    if (!buf_grow(&w->hashes, &w->hashes_cap, w->totals.terms + 1, sizeof *w->hashes))
        w->hashes[w->totals.terms] = termfilter_hash(w->term, w->term_len);
    else
        w->lex_block.oom = 1; /* reported with the lexicon's own failures */
    w->totals.terms++;
    w->lex_post_off += post_len;
    w->lex_pos_off += pos_len;
}

int segw_term_end(segw *w, idx_err *err)
{
    if (w->df == 0) return 0;
    if (w->n) segw_flush_block(w);
    uint64_t post_start = cfw_tell(w->post);
    /* A single block needs no skip table: the lexicon carries its bound. */
    if (w->df > CODEC_BLOCK) cfw_write(w->post, w->skips.p, w->skips.len);
    cfw_write(w->post, w->blocks.p, w->blocks.len);
    if (w->posbuf.len) {
        cfw_write(w->pos, w->posbuf.p, w->posbuf.len);
        w->posbuf.len = 0;
    }
    segw_lex_add(w, cfw_tell(w->post) - post_start, cfw_tell(w->pos) - w->term_pos_start);
    if (w->skips.oom || w->blocks.oom || w->lex_block.oom || w->lex_index.oom)
        return err_set(err, IDX_ENOMEM, "out of memory writing postings");
    return 0;
}

static int segw_id_cmp(const void *a, const void *b, void *ctx)
{
    const segw_docs *d = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    size_t lx = d->id_len[x], ly = d->id_len[y];
    int c = memcmp(d->id[x], d->id[y], lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

static void segw_sort_by_id(uint32_t *order, const segw_docs *d)
{
    qsort_r(order, d->n_docs, sizeof *order, segw_id_cmp, (void *)d);
}

/* The collapse-key section (FORMAT.md §6.1) into b, when there are keys. */
static void segw_put_ckeys(buf *b, const segw_docs *d)
{
    if (!d->ckey) return;
    buf_put(b, SEGFMT_CKEY_MAGIC, 4);
    buf_put_u32(b, 0);
    for (uint32_t i = 0; i < d->n_docs; i++)
        buf_put_u64(b, d->ckey[i]);
}

static int segw_write_docs(segw *w, idx_err *err)
{
    const segw_docs *d = w->dt;
    cfw *f;
    int rc = segw_create(w, "docs", &f, err);
    if (rc) return rc;
    buf b = {0};
    segfmt_docs_trailer t = {0};
    /* The four u32[n] sections, in file order. */
    const uint32_t *arrays[SEGFMT_DOCS_STORE_REC + 1] = {d->len_title, d->len_body, d->date,
                                                         d->store_rec};
    for (int a = SEGFMT_DOCS_LEN_TITLE; a <= SEGFMT_DOCS_STORE_REC; a++) {
        t.off[a] = cfw_tell(f);
        for (uint32_t i = 0; i < d->n_docs; i++)
            buf_put_u32(&b, arrays[a][i]);
        cfw_write(f, b.p, b.len);
        b.len = 0;
    }
    t.off[SEGFMT_DOCS_ID_OFF] = cfw_tell(f);
    uint64_t at = 0;
    for (uint32_t i = 0; i <= d->n_docs; i++) {
        buf_put_u64(&b, at);
        if (i < d->n_docs) at += d->id_len[i];
    }
    cfw_write(f, b.p, b.len);
    b.len = 0;
    t.off[SEGFMT_DOCS_ID_BLOB] = cfw_tell(f);
    for (uint32_t i = 0; i < d->n_docs; i++)
        cfw_write(f, d->id[i], d->id_len[i]);
    t.off[SEGFMT_DOCS_BY_ID] = cfw_tell(f);
    /* Docids sorted by id bytes, for `idx get ID` by binary search. */
    uint32_t *order = malloc(sizeof *order * (d->n_docs ? d->n_docs : 1));
    if (!order) {
        cfw_abort(f);
        buf_free(&b);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < d->n_docs; i++)
        order[i] = i;
    segw_sort_by_id(order, d);
    for (uint32_t i = 0; i < d->n_docs; i++)
        buf_put_u32(&b, order[i]);
    free(order);
    if (d->fcol && fcol_write(d->fcol, d->fcol_doc, d->n_docs, &b)) b.oom = 1;
    segw_put_ckeys(&b, d);
    cfw_write(f, b.p, b.len);
    b.len = 0;
    t.n_docs = d->n_docs;
    t.store_records = d->store_records;
    for (uint32_t i = 0; i < d->n_docs; i++) {
        t.tokens_title += d->len_title[i];
        t.tokens_body += d->len_body[i];
    }
    uint8_t trailer[SEGFMT_DOCS_TRAILER_SIZE];
    segfmt_docs_trailer_put(trailer, &t);
    cfw_write(f, trailer, sizeof trailer);
    int oom = b.oom;
    buf_free(&b);
    if (oom) {
        cfw_abort(f);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    return cfw_close(f, err);
}

/* Writes the block keys (FORMAT.md §4.2) and the term filter (§4.1) of the
 * terms so far at the end of the lexicon; the filter's offset, or 0 when the
 * segment has no term. Every segment gets one, a single-segment index too: the segment may become
 * one of many by the next append, and 10 bits a term are 0.3% of a one-shot index. */
static uint64_t segw_write_filter(segw *w)
{
    if (w->totals.terms == 0) return 0;
    /* The block keys (§4.2) end where the filter's header begins. */
    cfw_write(w->lex, w->lex_keys.p, w->lex_keys.len);
    uint64_t off = cfw_tell(w->lex), n_blocks = termfilter_blocks(w->totals.terms);
    size_t pad = (size_t)(segfmt_filter_blocks_off(off) - off - SEGFMT_FILTER_HEADER_SIZE);
    size_t len = (size_t)(n_blocks * TERMFILTER_BLOCK);
    uint8_t *f = calloc(1, SEGFMT_FILTER_HEADER_SIZE + pad + len);
    if (!f) {
        w->lex_block.oom = 1;
        return 0;
    }
    segfmt_filter_header h = {SEGFMT_FILTER_SBBF, SEGFMT_FILTER_HAS_KEYS, n_blocks};
    segfmt_filter_header_put(f, &h);
    uint8_t *blocks = f + SEGFMT_FILTER_HEADER_SIZE + pad;
    for (uint64_t i = 0; i < w->totals.terms; i++)
        termfilter_add(blocks, n_blocks, w->hashes[i]);
    cfw_write(w->lex, f, SEGFMT_FILTER_HEADER_SIZE + pad + len);
    free(f);
    return off;
}

int segw_close(segw *w, segw_totals *totals, idx_err *err)
{
    if (w->lex_block.len) cfw_write(w->lex, w->lex_block.p, w->lex_block.len);
    uint64_t filter_off = segw_write_filter(w);
    if (w->lex_block.oom || w->lex_keys.oom) {
        segw_abort(w);
        return err_set(err, IDX_ENOMEM, "out of memory writing the lexicon");
    }
    uint64_t index_off = cfw_tell(w->lex);
    cfw_write(w->lex, w->lex_index.p, w->lex_index.len);
    segfmt_lex_trailer t = {w->totals.terms,
                            (w->totals.terms + SEGFMT_LEX_BLOCK - 1) / SEGFMT_LEX_BLOCK, index_off,
                            filter_off};
    uint8_t trailer[SEGFMT_LEX_TRAILER_SIZE];
    segfmt_lex_trailer_put(trailer, &t);
    cfw_write(w->lex, trailer, sizeof trailer);
    int rc = cfw_close(w->lex, err);
    w->lex = NULL;
    int rc2 = cfw_close(w->post, err);
    w->post = NULL;
    int rc3 = cfw_close(w->pos, err);
    w->pos = NULL;
    if (!rc) rc = rc2 ? rc2 : rc3;
    if (!rc) rc = segw_write_docs(w, err);
    if (totals) *totals = w->totals;
    segw_abort(w);
    return rc;
}

void segw_abort(segw *w)
{
    if (!w) return;
    cfw_abort(w->lex);
    cfw_abort(w->post);
    cfw_abort(w->pos);
    buf_free(&w->lex_block);
    buf_free(&w->lex_index);
    buf_free(&w->lex_keys);
    free(w->hashes);
    buf_free(&w->skips);
    buf_free(&w->blocks);
    buf_free(&w->posbuf);
    free(w->dir);
    free(w->name);
    free(w);
}
