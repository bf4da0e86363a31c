#include "common/segment.h"

#include "common/bm25.h"
#include "common/ckey.h"
#include "common/fcol.h"
#include "common/fields.h"
#include "common/segfmt.h"
#include "common/termfilter.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

const char *const seg_file_ext[SEG_NFILES] = {"lex", "post", "pos", "docs", "store"};

struct seg {
    cfr *f[SEG_NFILES];
    /* lexicon */
    uint64_t n_terms, n_blocks;
    const uint8_t *lex_index;
    uint64_t lex_index_off;
    uint64_t lex_blocks_end; /* the entry blocks end here: keys, filter or index */
    uint64_t lex_keys_off;   /* the blocks' keys (§4.2), 0 when absent */
    /* term filter (§4.1): blocks at filter_blocks_off, 0 of them when absent */
    uint64_t filter_off, filter_blocks_off, filter_blocks;
    /* doc table */
    uint32_t n_docs;
    seg_stats stats;
    const uint8_t *len_title, *len_body; /* verified at open: read by every query */
    uint64_t off_date, off_store_rec, off_id_off, off_id_blob, off_by_id;
    uint64_t off_ckey; /* the collapse keys' u64[n], 0 when the segment has none */
    /* the facet columns (§6.2), 0 when the segment has none */
    uint64_t off_fcol, len_fcol;
    uint64_t id_blob_len;
    /* store */
    uint64_t store_blocks, store_table;
};

static int seg_bad(idx_err *err, const seg *s, int which, uint64_t off, const char *why)
{
    return err_set(err, IDX_EDATA, "%s: corrupt index file at offset %llu: %s",
                   cfr_path(s->f[which]), (unsigned long long)off, why);
}

/* Reads the fixed trailer at the end of a component's body. */
static const uint8_t *seg_trailer(seg *s, int which, uint64_t size, idx_err *err)
{
    uint64_t end = cfr_body_end(s->f[which]);
    if (end < CFILE_HEADER + size) {
        seg_bad(err, s, which, end, "component too short for its trailer");
        return NULL;
    }
    return cfr_get(s->f[which], end - size, size, err);
}

/* Checks the term filter's header (§4.1): one page read, whatever the
 * number of terms; the blocks are verified page by page as probes touch
 * them, like every other byte. Lexicons written before the filter existed
 * have filter_off 0 and are searched without one. */
static int seg_open_filter(seg *s, uint64_t filter_off, idx_err *err)
{
    uint64_t index_off = s->lex_index_off;
    const char *bad = "term filter header inconsistent";
    if (filter_off < CFILE_HEADER || filter_off > index_off ||
        index_off - filter_off < SEGFMT_FILTER_HEADER_SIZE)
        return seg_bad(err, s, SEG_LEX, filter_off, bad);
    const uint8_t *p = cfr_get(s->f[SEG_LEX], filter_off, SEGFMT_FILTER_HEADER_SIZE, err);
    if (!p) return IDX_EDATA;
    segfmt_filter_header h;
    segfmt_filter_header_get(p, &h);
    uint64_t blocks_off = segfmt_filter_blocks_off(filter_off);
    if (h.scheme != SEGFMT_FILTER_SBBF || (h.flags & ~(uint32_t)SEGFMT_FILTER_HAS_KEYS) ||
        h.n_blocks == 0 || h.n_blocks > ((uint64_t)1 << 32) || s->n_terms == 0 ||
        blocks_off > index_off || (index_off - blocks_off) / TERMFILTER_BLOCK != h.n_blocks ||
        (index_off - blocks_off) % TERMFILTER_BLOCK)
        return seg_bad(err, s, SEG_LEX, filter_off, bad);
    s->filter_off = filter_off;
    s->filter_blocks_off = blocks_off;
    s->filter_blocks = h.n_blocks;
    s->lex_blocks_end = filter_off;
    if (h.flags & SEGFMT_FILTER_HAS_KEYS) {
        /* The keys end at the header; only their place is checked here. */
        uint64_t keys_len = s->n_blocks * SEGFMT_LEX_KEY_SIZE;
        if (filter_off - CFILE_HEADER < keys_len)
            return seg_bad(err, s, SEG_LEX, filter_off, "lexicon block keys out of place");
        s->lex_keys_off = filter_off - keys_len;
        s->lex_blocks_end = s->lex_keys_off;
    }
    return 0;
}

static int seg_open_lex(seg *s, idx_err *err)
{
    const uint8_t *p = seg_trailer(s, SEG_LEX, SEGFMT_LEX_TRAILER_SIZE, err);
    if (!p) return IDX_EDATA;
    segfmt_lex_trailer t;
    segfmt_lex_trailer_get(p, &t);
    s->n_terms = t.n_terms;
    s->n_blocks = t.n_blocks;
    uint64_t end = cfr_body_end(s->f[SEG_LEX]) - SEGFMT_LEX_TRAILER_SIZE;
    if (s->n_blocks != (s->n_terms + SEGFMT_LEX_BLOCK - 1) / SEGFMT_LEX_BLOCK ||
        t.index_off > end || (end - t.index_off) / SEGFMT_LEX_INDEX_SIZE != s->n_blocks ||
        (end - t.index_off) % SEGFMT_LEX_INDEX_SIZE)
        return seg_bad(err, s, SEG_LEX, end, "lexicon trailer inconsistent");
    s->lex_index_off = t.index_off;
    s->lex_blocks_end = t.index_off;
    s->lex_index = cfr_get(s->f[SEG_LEX], t.index_off, s->n_blocks * SEGFMT_LEX_INDEX_SIZE, err);
    if (!s->lex_index) return IDX_EDATA;
    return t.filter_off ? seg_open_filter(s, t.filter_off, err) : 0;
}

/* Where the optional collapse-key section (FORMAT.md §6.1) between
 * [at, end) puts the keys; -1 when its size is neither none nor n keys'. */
static int seg_open_ckeys(seg *s, uint64_t at, uint64_t end)
{
    s->off_ckey = 0;
    if (at == end) return 0;
    if (end - at != segfmt_ckey_size(s->n_docs)) return -1;
    s->off_ckey = at + SEGFMT_CKEY_HEAD;
    return 0;
}

/* Finds the optional facet-column section (FORMAT.md §6.2) at `at`, right
 * after by_id and before the collapse keys if any: its head and its two
 * field heads give its size. *ckey_at is where the keys would start. */
static int seg_open_fcols(seg *s, uint64_t at, uint64_t end, uint64_t *ckey_at, idx_err *err)
{
    s->off_fcol = s->len_fcol = 0;
    *ckey_at = at;
    if (end - at < SEGFMT_FCOL_HEAD) return 0;
    const uint8_t *h = cfr_get(s->f[SEG_DOCS], at, 4, err);
    if (!h) return IDX_EDATA;
    if (memcmp(h, SEGFMT_FCOL_MAGIC, 4)) return 0;
    uint64_t size = SEGFMT_FCOL_HEAD;
    for (int f = 0; f < FCOL_FIELDS; f++) {
        if (end - at - size < SEGFMT_FCOL_FIELD_HEAD)
            return seg_bad(err, s, SEG_DOCS, at, "facet column section truncated");
        if (!(h = cfr_get(s->f[SEG_DOCS], at + size, SEGFMT_FCOL_FIELD_HEAD, err)))
            return IDX_EDATA;
        size += segfmt_fcol_field_size(rd_u32(h), rd_u32(h + 4), rd_u32(h + 8), rd_u32(h + 12));
        if (size > end - at) return seg_bad(err, s, SEG_DOCS, at, "facet column section truncated");
    }
    s->off_fcol = at;
    s->len_fcol = size;
    *ckey_at = at + size;
    return 0;
}

static int seg_open_docs(seg *s, idx_err *err)
{
    const uint8_t *p = seg_trailer(s, SEG_DOCS, SEGFMT_DOCS_TRAILER_SIZE, err);
    if (!p) return IDX_EDATA;
    segfmt_docs_trailer t;
    segfmt_docs_trailer_get(p, &t);
    uint64_t n = t.n_docs;
    if (n >= SEG_END) return seg_bad(err, s, SEG_DOCS, 0, "document count out of range");
    s->n_docs = (uint32_t)n;
    s->stats.tokens_title = t.tokens_title;
    s->stats.tokens_body = t.tokens_body;
    s->stats.store_records = t.store_records;
    const uint64_t *off = t.off;
    s->off_date = off[SEGFMT_DOCS_DATE];
    s->off_store_rec = off[SEGFMT_DOCS_STORE_REC];
    s->off_id_off = off[SEGFMT_DOCS_ID_OFF];
    s->off_id_blob = off[SEGFMT_DOCS_ID_BLOB];
    s->off_by_id = off[SEGFMT_DOCS_BY_ID];
    uint64_t a = SEGFMT_DOCS_U32 * n;
    uint64_t end = cfr_body_end(s->f[SEG_DOCS]) - SEGFMT_DOCS_TRAILER_SIZE;
    uint64_t ckey_at = s->off_by_id + a;
    if (s->off_by_id <= end && end - s->off_by_id >= a) {
        int rc = seg_open_fcols(s, s->off_by_id + a, end, &ckey_at, err);
        if (rc) return rc;
    }
    /* Sections are laid out back to back in this order; anything else is damage. */
    if (off[SEGFMT_DOCS_LEN_TITLE] != CFILE_HEADER ||
        off[SEGFMT_DOCS_LEN_BODY] != off[SEGFMT_DOCS_LEN_TITLE] + a ||
        s->off_date != off[SEGFMT_DOCS_LEN_BODY] + a || s->off_store_rec != s->off_date + a ||
        s->off_id_off != s->off_store_rec + a ||
        s->off_id_blob != s->off_id_off + SEGFMT_DOCS_ID_OFF_ENTRY * (n + 1) ||
        s->off_by_id > end || s->off_by_id < s->off_id_blob || end - s->off_by_id < a ||
        seg_open_ckeys(s, ckey_at, end))
        return seg_bad(err, s, SEG_DOCS, end, "document table trailer inconsistent");
    s->id_blob_len = s->off_by_id - s->off_id_blob;
    if (s->off_ckey) {
        /* Only the head is read here: the keys are verified when first used. */
        const uint8_t *h =
            cfr_get(s->f[SEG_DOCS], s->off_ckey - SEGFMT_CKEY_HEAD, SEGFMT_CKEY_HEAD, err);
        if (!h) return IDX_EDATA;
        if (memcmp(h, SEGFMT_CKEY_MAGIC, 4) || rd_u32(h + 4))
            return seg_bad(err, s, SEG_DOCS, s->off_ckey - SEGFMT_CKEY_HEAD,
                           "collapse key section: bad head");
    }
    s->len_title = cfr_get(s->f[SEG_DOCS], off[SEGFMT_DOCS_LEN_TITLE], a, err);
    s->len_body = s->len_title ? cfr_get(s->f[SEG_DOCS], off[SEGFMT_DOCS_LEN_BODY], a, err) : NULL;
    return s->len_body ? 0 : IDX_EDATA;
}

static int seg_open_store(seg *s, idx_err *err)
{
    const uint8_t *p = seg_trailer(s, SEG_STORE, SEGFMT_STORE_TRAILER_SIZE, err);
    if (!p) return IDX_EDATA;
    segfmt_store_trailer t;
    segfmt_store_trailer_get(p, &t);
    s->store_blocks = t.n_blocks;
    s->store_table = t.table_off;
    uint64_t end = cfr_body_end(s->f[SEG_STORE]) - SEGFMT_STORE_TRAILER_SIZE;
    if (t.n_records != s->stats.store_records || s->store_table > end ||
        (end - s->store_table) != s->store_blocks * SEGFMT_STORE_ENTRY_SIZE)
        return seg_bad(err, s, SEG_STORE, end, "document store trailer inconsistent");
    return 0;
}

/* Opens segment `name` from directory dir, or from src when dir is NULL. */
static int seg_open_from(const char *dir, const cfr_source *src, const char *name, seg **out,
                         idx_err *err)
{
    seg *s = calloc(1, sizeof *s);
    if (!s) return err_set(err, IDX_ENOMEM, "out of memory");
    int rc = 0;
    for (int i = 0; i < SEG_NFILES && !rc; i++) {
        char path[4096];
        if (dir) {
            snprintf(path, sizeof path, "%s/%s.%s", dir, name, seg_file_ext[i]);
            rc = cfr_open(path, seg_file_ext[i], &s->f[i], err);
        } else {
            snprintf(path, sizeof path, "%s.%s", name, seg_file_ext[i]);
            uint64_t size = 0;
            const uint8_t *data = src->get(src->ctx, path, &size);
            rc = data ? cfr_open_mem(path, data, size, seg_file_ext[i], &s->f[i], err)
                      : err_set(err, IDX_EDATA, "%s: no such file", path);
        }
    }
    if (!rc) rc = seg_open_lex(s, err);
    if (!rc) rc = seg_open_docs(s, err);
    if (!rc) rc = seg_open_store(s, err);
    if (rc) {
        seg_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int seg_open(const char *dir, const char *name, seg **out, idx_err *err)
{
    return seg_open_from(dir, NULL, name, out, err);
}

int seg_open_mem(const cfr_source *src, const char *name, seg **out, idx_err *err)
{
    return seg_open_from(NULL, src, name, out, err);
}

void seg_close(seg *s)
{
    if (!s) return;
    for (int i = 0; i < SEG_NFILES; i++)
        cfr_close(s->f[i]);
    free(s);
}

uint32_t seg_ndocs(const seg *s)
{
    return s->n_docs;
}

uint64_t seg_nterms(const seg *s)
{
    return s->n_terms;
}

cfr *seg_file(const seg *s, int which)
{
    return s->f[which];
}

void seg_get_stats(const seg *s, seg_stats *out)
{
    *out = s->stats;
}

/* ---- lexicon ---- */

static int lex_block_open(seg *s, uint64_t block, seg_lex_iter *it, idx_err *err)
{
    const uint8_t *e = s->lex_index + block * SEGFMT_LEX_INDEX_SIZE;
    segfmt_lex_index ix;
    segfmt_lex_index_get(e, &ix);
    uint64_t off = ix.block_off;
    /* The last block ends where the filter or the index begins. */
    uint64_t end = block + 1 < s->n_blocks ? segfmt_lex_index_block_off(e + SEGFMT_LEX_INDEX_SIZE)
                                           : s->lex_blocks_end;
    if (end < off || off < CFILE_HEADER)
        return seg_bad(err, s, SEG_LEX, off, "lexicon block offsets out of order");
    const uint8_t *p = cfr_get(s->f[SEG_LEX], off, end - off, err);
    if (!p) return IDX_EDATA;
    it->s = s;
    it->block = block;
    it->in_block = 0;
    it->p = p;
    it->end = p + (end - off);
    it->post_off = ix.post_off;
    it->pos_off = ix.pos_off;
    it->term_len = 0;
    it->pending = 0;
    return 0;
}

static int lex_decode(seg_lex_iter *it, seg_term *out, idx_err *err)
{
    segfmt_lex_entry e;
    size_t used = segfmt_lex_entry_get(it->p, (size_t)(it->end - it->p), &e);
    /* Lengths within their files and df within the segment bound what a
     * damaged entry can make a reader allocate (see cur_load). */
    uint64_t post_end = cfr_body_end(it->s->f[SEG_POST]), pos_end = cfr_body_end(it->s->f[SEG_POS]);
    if (!used || e.shared > it->term_len || e.shared + e.suffix_len > SEG_MAX_TERM || e.df == 0 ||
        e.df >= SEG_END || e.df > it->s->n_docs || it->post_off > post_end ||
        e.post_len > post_end - it->post_off || it->pos_off > pos_end ||
        e.pos_len > pos_end - it->pos_off)
        return seg_bad(err, it->s, SEG_LEX, 0, "undecodable lexicon entry");
    memcpy(it->term + e.shared, e.suffix, (size_t)e.suffix_len);
    it->shared = (size_t)e.shared;
    it->term_len = (size_t)(e.shared + e.suffix_len);
    it->term[it->term_len] = '\0';
    out->df = (uint32_t)e.df;
    out->cf = e.df + e.cf_extra;
    out->post_off = it->post_off;
    out->post_len = e.post_len;
    out->pos_off = it->pos_off;
    out->pos_len = e.pos_len;
    out->bound = e.bound;
    it->post_off += e.post_len;
    it->pos_off += e.pos_len;
    it->p += used;
    it->in_block++;
    return 0;
}

int seg_lex_next(seg_lex_iter *it, seg_term *out, idx_err *err)
{
    if (it->pending) {
        it->pending = 0;
        *out = it->peek;
        return 1;
    }
    seg *s = it->s;
    uint64_t index = it->block * SEGFMT_LEX_BLOCK + it->in_block;
    if (index >= s->n_terms) return 0;
    if (it->in_block == SEGFMT_LEX_BLOCK) {
        int rc = lex_block_open(s, it->block + 1, it, err);
        if (rc) return rc;
    }
    int rc = lex_decode(it, out, err);
    return rc ? rc : 1;
}

static int lex_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

/* The first term of lexicon block b (its entry has no shared prefix). */
static int lex_first_term(seg *s, uint64_t b, const char **term, size_t *len, idx_err *err)
{
    uint64_t off = segfmt_lex_index_block_off(s->lex_index + b * SEGFMT_LEX_INDEX_SIZE);
    uint64_t end = b + 1 < s->n_blocks
                       ? segfmt_lex_index_block_off(s->lex_index + (b + 1) * SEGFMT_LEX_INDEX_SIZE)
                       : s->lex_blocks_end;
    /* Enough bytes for the two varints and the longest term, or the block. */
    uint64_t want =
        end > off && end - off < 2 + 2 + SEG_MAX_TERM ? end - off : 2 + 2 + SEG_MAX_TERM;
    const uint8_t *p = end > off ? cfr_get(s->f[SEG_LEX], off, want, err) : NULL;
    segfmt_lex_entry e;
    if (!p || !segfmt_lex_head_get(p, (size_t)want, &e) || e.shared != 0)
        return p ? seg_bad(err, s, SEG_LEX, off, "undecodable lexicon block") : IDX_EDATA;
    *term = (const char *)e.suffix;
    *len = (size_t)e.suffix_len;
    return 0;
}

/* Block b's key (§4.2) in *k. */
static int lex_key(seg *s, uint64_t b, uint64_t *k, idx_err *err)
{
    const uint8_t *p =
        cfr_get(s->f[SEG_LEX], s->lex_keys_off + b * SEGFMT_LEX_KEY_SIZE, SEGFMT_LEX_KEY_SIZE, err);
    if (!p) return IDX_EDATA;
    *k = segfmt_lex_key_get(p);
    return 0;
}

/* The first block in [lo, hi) whose key is above k (or, with `equal`, not
 * below k); hi when none is. */
static int lex_key_bound(seg *s, uint64_t k, int equal, uint64_t lo, uint64_t *hi, idx_err *err)
{
    uint64_t h = *hi;
    while (lo < h) {
        uint64_t mid = lo + (h - lo) / 2, mk;
        int rc = lex_key(s, mid, &mk, err);
        if (rc) return rc;
        if (mk < k || (!equal && mk == k))
            lo = mid + 1;
        else
            h = mid;
    }
    *hi = lo;
    return 0;
}

/* Narrows [*lo, *hi], the range lex_seek searches by first terms, with the
 * block keys: blocks whose key is below the term's start before it, blocks
 * whose key is above start after it, so only blocks with an equal key (in
 * practice none or one) are left to compare whole. */
static int lex_key_narrow(seg *s, const char *key, size_t len, uint64_t *lo, uint64_t *hi,
                          idx_err *err)
{
    uint8_t kb[SEGFMT_LEX_KEY_SIZE];
    segfmt_lex_key_put(kb, key, len);
    uint64_t k = segfmt_lex_key_get(kb), below = s->n_blocks, upto;
    int rc = lex_key_bound(s, k, 1, 0, &below, err);
    upto = s->n_blocks;
    if (!rc) rc = lex_key_bound(s, k, 0, below, &upto, err);
    if (rc) return rc;
    /* block below - 1 starts before the term; block upto after it */
    *lo = below ? below - 1 : 0;
    *hi = upto > *lo ? upto : *lo + 1;
    return 0;
}

/* The block a seek for key scans: the last whose first term is <= key (0
 * when none is). Binary search reading only each probed block's first term
 * (stored whole), within the range the block keys leave when the segment
 * has them. The segment must have terms. */
static int lex_find_block(seg *s, const char *key, size_t len, uint64_t *block, idx_err *err)
{
    uint64_t lo = 0, hi = s->n_blocks;
    if (s->lex_keys_off) {
        int rc = lex_key_narrow(s, key, len, &lo, &hi, err);
        if (rc) return rc;
    }
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        const char *first = NULL;
        size_t first_len = 0;
        int rc = lex_first_term(s, mid, &first, &first_len, err);
        if (rc) return rc;
        if (lex_cmp(first, first_len, key, len) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    *block = lo;
    return 0;
}

/* An iterator with nothing to return: an empty lexicon's, or what a failed
 * seek leaves. */
static void lex_iter_none(seg *s, seg_lex_iter *it)
{
    memset(it, 0, sizeof *it);
    it->s = s;
}

/* Positions `it` at block `block` so that the next seg_lex_next returns the
 * first term >= key, and also returns that term's entry via *peek (1), or 0
 * when none is. */
static int lex_scan(seg *s, uint64_t block, const char *key, size_t len, seg_lex_iter *it,
                    seg_term *peek, idx_err *err)
{
    int rc = lex_block_open(s, block, it, err);
    if (rc) {
        lex_iter_none(s, it);
        return rc;
    }
    /* Front coding decides most comparisons: with m the bytes the previous
     * term (below key) shares with key, a term sharing fewer than m bytes
     * with that previous term is above key, one sharing more is below it;
     * only one sharing exactly m is compared, from byte m on. m restarts at
     * each block, whose first term is stored whole. */
    size_t m = 0;
    for (;;) {
        rc = seg_lex_next(it, peek, err);
        if (rc <= 0) return rc;
        if (it->in_block == 1) m = 0;
        if (it->shared > m) continue;
        if (it->shared == m) {
            while (m < it->term_len && m < len && it->term[m] == key[m])
                m++;
            if (m < len && (m == it->term_len || (uint8_t)it->term[m] < (uint8_t)key[m])) continue;
        }
        /* left for the caller's next seg_lex_next */
        it->pending = 1;
        it->peek = *peek;
        return 1;
    }
}

/* lex_find_block, then lex_scan; 0 at once without terms. */
static int lex_seek(seg *s, const char *key, size_t len, seg_lex_iter *it, seg_term *peek,
                    idx_err *err)
{
    if (s->n_terms == 0) {
        lex_iter_none(s, it);
        return 0;
    }
    uint64_t block;
    int rc = lex_find_block(s, key, len, &block, err);
    if (rc) lex_iter_none(s, it);
    return rc ? rc : lex_scan(s, block, key, len, it, peek, err);
}

int seg_lex_seek(seg *s, const char *from, size_t len, seg_lex_iter *it, idx_err *err)
{
    seg_term t;
    int rc = lex_seek(s, from, len, it, &t, err);
    return rc < 0 ? rc : 0;
}

int seg_filter_block(seg *s, uint64_t hash, const uint8_t **block, idx_err *err)
{
    *block = NULL;
    if (!s->filter_blocks) return 0;
    uint64_t b = termfilter_block_of(hash, s->filter_blocks);
    *block =
        cfr_get(s->f[SEG_LEX], s->filter_blocks_off + b * TERMFILTER_BLOCK, TERMFILTER_BLOCK, err);
    return *block ? 0 : IDX_EDATA;
}

int seg_may_contain(seg *s, const char *term, size_t len, idx_err *err)
{
    uint64_t h = termfilter_hash(term, len);
    const uint8_t *block;
    int rc = seg_filter_block(s, h, &block, err);
    return rc ? rc : !block || termfilter_block_has(block, h);
}

/* 1 and *out when the scan positioned `it` on the term itself. */
static int lex_found(const seg_lex_iter *it, const seg_term *t, const char *term, size_t len,
                     seg_term *out)
{
    if (it->term_len != len || memcmp(it->term, term, len) != 0) return 0;
    *out = *t;
    return 1;
}

int seg_lookup(seg *s, const char *term, size_t len, seg_term *out, idx_err *err)
{
    if (len > SEG_MAX_TERM) return 0;
    seg_lex_iter it;
    seg_term t;
    int rc = lex_seek(s, term, len, &it, &t, err);
    return rc <= 0 ? rc : lex_found(&it, &t, term, len, out);
}

/* Bytes of a lexicon block seg_lookup_prefetch prefetches (a block of 32
 * entries of the enwiki sample averages ~500), and of a posting list
 * seg_term_prefetch does (a short list's block, a long one's skip table). */
#define LEX_PREFETCH_BLOCK 512
#define LEX_PREFETCH_POSTINGS 256

int seg_lookup_prepare(seg *s, const char *term, size_t len, uint64_t *block, idx_err *err)
{
    *block = UINT64_MAX;
    if (len > SEG_MAX_TERM || s->n_terms == 0) return 0;
    int rc = lex_find_block(s, term, len, block, err);
    if (!rc) __builtin_prefetch(s->lex_index + *block * SEGFMT_LEX_INDEX_SIZE);
    return rc;
}

int seg_lookup_prefetch(seg *s, uint64_t block, idx_err *err)
{
    if (block == UINT64_MAX) return 0;
    const uint8_t *e = s->lex_index + block * SEGFMT_LEX_INDEX_SIZE;
    uint64_t off = segfmt_lex_index_block_off(e);
    uint64_t end = block + 1 < s->n_blocks ? segfmt_lex_index_block_off(e + SEGFMT_LEX_INDEX_SIZE)
                                           : s->lex_blocks_end;
    uint64_t n = off < end ? end - off : 0;
    if (n > LEX_PREFETCH_BLOCK) n = LEX_PREFETCH_BLOCK;
    const uint8_t *p = n ? cfr_get(s->f[SEG_LEX], off, n, err) : NULL;
    if (!p) return n ? IDX_EDATA : 0;
    for (uint64_t i = 0; i < n; i += 64)
        __builtin_prefetch(p + i);
    return 0;
}

int seg_lookup_finish(seg *s, uint64_t block, const char *term, size_t len, seg_term *out,
                      idx_err *err)
{
    if (block == UINT64_MAX) return 0;
    seg_lex_iter it;
    seg_term t;
    int rc = lex_scan(s, block, term, len, &it, &t, err);
    return rc <= 0 ? rc : lex_found(&it, &t, term, len, out);
}

void seg_term_prefetch(seg *s, const seg_term *t)
{
    uint64_t n = t->post_len < LEX_PREFETCH_POSTINGS ? t->post_len : LEX_PREFETCH_POSTINGS;
    const uint8_t *p = cfr_get(s->f[SEG_POST], t->post_off, n, NULL);
    for (const uint8_t *q = p; q && q < p + n; q += 64)
        __builtin_prefetch(q);
}

/* ---- postings ---- */

static int cur_bad(seg_cursor *c, idx_err *err, const char *why)
{
    c->doc = SEG_END;
    return seg_bad(err, c->s, SEG_POST, c->t.post_off, why);
}

/* Decodes block b: docids, title and body frequencies. */
static int cur_load(seg_cursor *c, uint32_t b, idx_err *err)
{
    uint64_t off, end, pos_off;
    uint32_t prev;
    if (c->skips) {
        const uint8_t *e = c->skips + (uint64_t)b * SEGFMT_SKIP_SIZE;
        off = c->data_off + segfmt_skip_doc_off(e);
        end = b + 1 < c->n_blocks ? c->data_off + segfmt_skip_doc_off(e + SEGFMT_SKIP_SIZE)
                                  : c->t.post_off + c->t.post_len;
        pos_off = c->t.pos_off + segfmt_skip_pos_off(e);
        prev = b ? segfmt_skip_last_doc(e - SEGFMT_SKIP_SIZE) : UINT32_MAX;
    } else {
        off = c->data_off;
        end = c->t.post_off + c->t.post_len;
        pos_off = c->t.pos_off;
        prev = UINT32_MAX;
    }
    if (end < off || end > c->t.post_off + c->t.post_len)
        return cur_bad(c, err, "skip table offsets out of range");
    const uint8_t *p = cfr_get(c->s->f[SEG_POST], off, end - off, err);
    if (!p) {
        c->doc = SEG_END;
        return IDX_EDATA;
    }
    uint32_t n = b + 1 < c->n_blocks ? CODEC_BLOCK : c->t.df - b * CODEC_BLOCK;
    size_t avail = (size_t)(end - off), a, used = 0;
    if (!(a = codec_unpack(p, avail, n, c->docs)))
        return cur_bad(c, err, "undecodable docid block");
    used += a;
    if (!(a = codec_unpack(p + used, avail - used, n, c->tfb)))
        return cur_bad(c, err, "undecodable frequency block");
    used += a;
    if (!(a = codec_unpack(p + used, avail - used, n, c->tft)) || used + a != avail)
        return cur_bad(c, err, "undecodable frequency block");
    /* Gaps are stored minus one (docids strictly increase); prev starts at -1. */
    uint64_t d = (uint64_t)prev + 1;
    if (prev == UINT32_MAX) d = 0;
    for (uint32_t i = 0; i < n; i++) {
        d += c->docs[i];
        /* Every position takes at least a byte of the term's position
         * list, so a larger frequency is damage; trusting it would size
         * position buffers by up to 32 GiB. */
        if (d >= c->s->n_docs || (c->tft[i] | c->tfb[i]) == 0 ||
            (uint64_t)c->tft[i] + c->tfb[i] > c->t.pos_len)
            return cur_bad(c, err, "posting out of range");
        c->docs[i] = (uint32_t)d;
        d++;
    }
    if (c->skips &&
        c->docs[n - 1] != segfmt_skip_last_doc(c->skips + (uint64_t)b * SEGFMT_SKIP_SIZE))
        return cur_bad(c, err, "skip entry disagrees with its block");
    c->block = b;
    c->n = n;
    c->i = 0;
    c->block_pos_off = pos_off;
    c->pos_done_off = 0;
    c->pos_done_doc = 0;
    c->doc = c->docs[0];
    c->tf_title = c->tft[0];
    c->tf_body = c->tfb[0];
    return 0;
}

int seg_cursor_open(seg *s, const seg_term *t, seg_cursor *c, idx_err *err)
{
    c->s = s;
    c->t = *t;
    c->n_blocks = (t->df + CODEC_BLOCK - 1) / CODEC_BLOCK;
    c->skips = NULL;
    c->data_off = t->post_off;
    c->doc = SEG_END;
    if (t->df == 0) return 0;
    if (c->n_blocks > 1) {
        uint64_t skip_len = (uint64_t)c->n_blocks * SEGFMT_SKIP_SIZE;
        if (skip_len > t->post_len)
            return cur_bad(c, err, "skip table longer than the posting list");
        c->skips = cfr_get(s->f[SEG_POST], t->post_off, skip_len, err);
        if (!c->skips) return IDX_EDATA;
        c->data_off = t->post_off + skip_len;
    }
    return cur_load(c, 0, err);
}

int seg_cursor_next(seg_cursor *c, idx_err *err)
{
    if (c->doc == SEG_END) return 0;
    if (++c->i < c->n) {
        c->doc = c->docs[c->i];
        c->tf_title = c->tft[c->i];
        c->tf_body = c->tfb[c->i];
        return 0;
    }
    if (c->block + 1 >= c->n_blocks) {
        c->doc = SEG_END;
        return 0;
    }
    return cur_load(c, c->block + 1, err);
}

/* First block at or after `from` whose last docid is >= target. */
static uint32_t cur_find_block(const seg_cursor *c, uint32_t from, uint32_t target)
{
    uint32_t lo = from, hi = c->n_blocks;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (segfmt_skip_last_doc(c->skips + (uint64_t)mid * SEGFMT_SKIP_SIZE) < target)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int seg_cursor_seek(seg_cursor *c, uint32_t target, idx_err *err)
{
    if (c->doc == SEG_END || c->doc >= target) return 0;
    if (c->docs[c->n - 1] < target) {
        if (!c->skips) {
            c->doc = SEG_END;
            return 0;
        }
        uint32_t b = cur_find_block(c, c->block + 1, target);
        if (b >= c->n_blocks) {
            c->doc = SEG_END;
            return 0;
        }
        int rc = cur_load(c, b, err);
        if (rc) return rc;
    }
    uint32_t i = c->i;
    while (c->docs[i] < target)
        i++;
    c->i = i;
    c->doc = c->docs[i];
    c->tf_title = c->tft[i];
    c->tf_body = c->tfb[i];
    return 0;
}

void seg_cursor_sub_bound(const seg_cursor *c, uint32_t *upto, double *bound)
{
    uint32_t sub = c->i / 32, end = (sub + 1) * 32 < c->n ? (sub + 1) * 32 : c->n;
    *upto = c->docs[end - 1];
    if (!c->skips) {
        *bound = c->t.bound;
        return;
    }
    const uint8_t *e = c->skips + (uint64_t)c->block * SEGFMT_SKIP_SIZE;
    *bound = seg_sub_bound(segfmt_skip_bound(e), segfmt_skip_sub(e, sub));
}

int seg_cursor_block_info(const seg_cursor *c, uint32_t target, uint32_t *last_doc, float *bound)
{
    if (!c->skips) {
        if (c->doc == SEG_END || c->docs[c->n - 1] < target) return 0;
        *last_doc = c->docs[c->n - 1];
        *bound = c->t.bound;
        return 1;
    }
    uint32_t b = cur_find_block(c, c->doc == SEG_END ? c->n_blocks : c->block, target);
    if (b >= c->n_blocks) return 0;
    const uint8_t *e = c->skips + (uint64_t)b * SEGFMT_SKIP_SIZE;
    *last_doc = segfmt_skip_last_doc(e);
    *bound = segfmt_skip_bound(e);
    return 1;
}

/* Decodes the positions <= limit of an n-position list (stopping at the
 * first larger one) into out[*got], and skips the rest; returns the bytes of
 * the whole list, 0 if it is damaged (an empty list uses no bytes: 0 is then
 * success, told apart by n). */
static size_t pos_decode_upto(const uint8_t *p, size_t avail, uint32_t n, uint32_t limit,
                              uint32_t *out, uint32_t *got)
{
    size_t used = 0;
    uint64_t at = 0;
    uint32_t k = 0;
    for (; k < n; k++) {
        uint32_t v;
        size_t a;
        if (used < avail && p[used] < 0x80) { /* one-byte gaps are the common case */
            v = p[used];
            a = 1;
        } else if (!(a = codec_get_varint32(p + used, avail - used, &v))) {
            return 0;
        }
        if (k && v == 0) return 0;
        at = k ? at + v : v;
        if (at > UINT32_MAX) return 0;
        used += a;
        if (at > limit) break;
        /* out holds n positions: callers size it by tf_title + tf_body, a sum the analyser
         * does not relate to n. NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
        out[k] = (uint32_t)at;
    }
    *got = k;
    if (k < n) {
        size_t a = n - k - 1 ? codec_skip_varints(p + used, avail - used, n - k - 1) : 0;
        if (!a && n - k - 1) return 0;
        used += a;
    }
    return used;
}

int seg_cursor_pos_bytes(seg_cursor *c, const uint8_t **p, size_t *avail, idx_err *err)
{
    *p = NULL;
    *avail = 0;
    if (c->doc == SEG_END) return 0;
    /* Only this block's positions: the next block's offset bounds them. */
    uint64_t start = c->block_pos_off;
    uint64_t end = c->skips && c->block + 1 < c->n_blocks
                       ? c->t.pos_off + segfmt_skip_pos_off(c->skips + (uint64_t)(c->block + 1) *
                                                                           SEGFMT_SKIP_SIZE)
                       : c->t.pos_off + c->t.pos_len;
    if (end > c->t.pos_off + c->t.pos_len || start > end)
        return cur_bad(c, err, "position offset out of range");
    const uint8_t *b = cfr_get(c->s->f[SEG_POS], start, end - start, err);
    if (!b) return IDX_EDATA;
    size_t len = (size_t)(end - start);
    /* Skip the positions of the block's earlier documents, resuming where the
     * last call stopped when the cursor only moved forward. */
    if (c->pos_done_doc > c->i) {
        c->pos_done_doc = 0;
        c->pos_done_off = 0;
    }
    uint64_t skip = 0;
    for (uint32_t k = c->pos_done_doc; k < c->i; k++)
        skip += (uint64_t)c->tft[k] + c->tfb[k];
    size_t off = (size_t)c->pos_done_off;
    if (skip) {
        size_t a = codec_skip_varints(b + off, len - off, skip);
        if (!a) return seg_bad(err, c->s, SEG_POS, start, "position list truncated");
        off += a;
    }
    c->pos_done_doc = c->i;
    c->pos_done_off = off;
    *p = b + off;
    *avail = len - off;
    return 0;
}

int seg_cursor_positions_upto(seg_cursor *c, uint32_t title_max, uint32_t body_max, uint32_t *title,
                              uint32_t *n_title, uint32_t *body, uint32_t *n_body, idx_err *err)
{
    *n_title = *n_body = 0;
    const uint8_t *p;
    size_t avail;
    int rc = seg_cursor_pos_bytes(c, &p, &avail, err);
    if (rc || !p) return rc;
    uint64_t at = c->block_pos_off + c->pos_done_off; /* for the messages */
    size_t a = pos_decode_upto(p, avail, c->tf_title, title_max, title, n_title);
    if (!a && c->tf_title) return seg_bad(err, c->s, SEG_POS, at, "undecodable position list");
    size_t b = pos_decode_upto(p + a, avail - a, c->tf_body, body_max, body, n_body);
    if (!b && c->tf_body) return seg_bad(err, c->s, SEG_POS, at, "undecodable position list");
    return 0;
}

int seg_cursor_positions(seg_cursor *c, uint32_t *title, uint32_t *body, idx_err *err)
{
    uint32_t nt, nb;
    return seg_cursor_positions_upto(c, UINT32_MAX, UINT32_MAX, title, &nt, body, &nb, err);
}

/* ---- documents ---- */

void seg_doc_lens(const seg *s, uint32_t doc, uint32_t *len_title, uint32_t *len_body)
{
    assert(doc < s->n_docs);
    *len_title = rd_u32(s->len_title + SEGFMT_DOCS_U32 * doc);
    *len_body = rd_u32(s->len_body + SEGFMT_DOCS_U32 * doc);
}

uint32_t seg_doc_date(const seg *s, uint32_t doc)
{
    assert(doc < s->n_docs);
    idx_err ignore = {0};
    /* Dates are a filter: a damaged page reads as "no date", and idx check reports it. */
    const uint8_t *p =
        cfr_get(s->f[SEG_DOCS], s->off_date + SEGFMT_DOCS_U32 * doc, SEGFMT_DOCS_U32, &ignore);
    return p ? rd_u32(p) : 0;
}

int seg_has_ckeys(const seg *s)
{
    return s->off_ckey != 0;
}

const uint8_t *seg_ckeys(seg *s, idx_err *err)
{
    if (!s->off_ckey) return NULL;
    return cfr_get(s->f[SEG_DOCS], s->off_ckey, SEGFMT_CKEY_ENTRY * s->n_docs, err);
}

const uint8_t *seg_dates(seg *s, idx_err *err)
{
    return cfr_get(s->f[SEG_DOCS], s->off_date, SEGFMT_DOCS_U32 * s->n_docs, err);
}

int seg_has_fcols(const seg *s)
{
    return s->off_fcol != 0;
}

const uint8_t *seg_fcols(seg *s, uint64_t *len, idx_err *err)
{
    *len = s->len_fcol;
    if (!s->off_fcol) return NULL;
    return cfr_get(s->f[SEG_DOCS], s->off_fcol, s->len_fcol, err);
}

const char *seg_doc_id(seg *s, uint32_t doc, size_t *len, idx_err *err)
{
    assert(doc < s->n_docs);
    const uint8_t *o = cfr_get(s->f[SEG_DOCS], s->off_id_off + SEGFMT_DOCS_ID_OFF_ENTRY * doc,
                               2 * SEGFMT_DOCS_ID_OFF_ENTRY, err);
    if (!o) return NULL;
    uint64_t a = rd_u64(o), b = rd_u64(o + SEGFMT_DOCS_ID_OFF_ENTRY);
    if (a > b || b > s->id_blob_len) {
        seg_bad(err, s, SEG_DOCS, s->off_id_off + SEGFMT_DOCS_ID_OFF_ENTRY * doc,
                "id offsets out of range");
        return NULL;
    }
    *len = (size_t)(b - a);
    return (const char *)cfr_get(s->f[SEG_DOCS], s->off_id_blob + a, b - a, err);
}

int seg_find_id(seg *s, const char *id, size_t len, uint32_t *doc, idx_err *err)
{
    const uint8_t *by_id = cfr_get(s->f[SEG_DOCS], s->off_by_id, SEGFMT_DOCS_U32 * s->n_docs, err);
    if (!by_id) return IDX_EDATA;
    uint32_t lo = 0, hi = s->n_docs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t d = rd_u32(by_id + SEGFMT_DOCS_U32 * mid);
        if (d >= s->n_docs)
            return seg_bad(err, s, SEG_DOCS, s->off_by_id + SEGFMT_DOCS_U32 * mid,
                           "id order out of range");
        size_t dl;
        const char *did = seg_doc_id(s, d, &dl, err);
        if (!did) return IDX_EDATA;
        int c = lex_cmp(did, dl, id, len);
        if (c == 0) {
            *doc = d;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* One varint-length field at p[*used..avail) into field f of out. */
static int record_field(const uint8_t *p, size_t avail, size_t *used, seg_doc *out, int f)
{
    uint64_t len;
    size_t a = codec_get_varint(p + *used, avail - *used, &len);
    if (!a || len > avail - *used - a) return -1;
    *used += a;
    out->field[f] = (const char *)p + *used;
    out->len[f] = (size_t)len;
    *used += (size_t)len;
    return 0;
}

size_t seg_record_parse(const uint8_t *p, size_t avail, seg_doc *out)
{
    size_t used = 0;
    out->field[FIELD_EXTRA] = "";
    out->len[FIELD_EXTRA] = 0;
    out->posmap = NULL;
    out->posmap_len = 0;
    /* Two empty fields announce the position table (FORMAT.md §7.1). */
    if (avail > 1 && p[0] == 0 && p[1] == 0) {
        uint64_t len;
        size_t a = codec_get_varint(p + 2, avail - 2, &len);
        if (!a || len == 0 || len > avail - 2 - a) return 0;
        out->posmap = p + 2 + a;
        out->posmap_len = (size_t)len;
        used = 2 + a + (size_t)len;
    }
    /* An empty first field (no article has an empty id) announces the
     * extra field before the id (FORMAT.md §7). */
    if (avail > used && p[used] == 0) {
        used++;
        if (record_field(p, avail, &used, out, FIELD_EXTRA) || out->len[FIELD_EXTRA] == 0) return 0;
    }
    for (int f = 0; f < FIELD_COUNT; f++)
        if (record_field(p, avail, &used, out, f)) return 0;
    return used;
}

int seg_posmap_decode(const uint8_t *p, size_t len, size_t body_len, uint32_t *stride,
                      uint32_t **off, size_t *cap, size_t *n)
{
    *n = 0;
    uint32_t st;
    size_t a;
    if (len < 2 || p[0] != SEGFMT_POSMAP_VERSION ||
        !(a = codec_get_varint32(p + 1, len - 1, &st)) || st == 0)
        return -1;
    uint64_t at = 0;
    for (size_t i = 1 + a; i < len; i += a) {
        uint32_t d;
        if (!(a = codec_get_varint32(p + i, len - i, &d))) return -1;
        at += d;
        if (at > body_len) return -1;
        if (buf_grow(off, cap, *n + 1, sizeof **off)) return IDX_ENOMEM;
        (*off)[(*n)++] = (uint32_t)at;
    }
    *stride = st;
    return 0;
}

/* Inflates block b of the store into scratch, but only as far as record
 * `want` (UINT32_MAX: the whole block), which *out then describes. Stopping
 * early halves the work of a fetch on average. Sets *first to the block's
 * first record number and *raw to the bytes produced. */
static int store_inflate(seg *s, uint64_t b, uint32_t want, buf *scratch, seg_doc *out,
                         uint32_t *first, size_t *raw, idx_err *err)
{
    const uint8_t *p = cfr_get(s->f[SEG_STORE], s->store_table + b * SEGFMT_STORE_ENTRY_SIZE,
                               SEGFMT_STORE_ENTRY_SIZE, err);
    if (!p) return IDX_EDATA;
    segfmt_store_entry e;
    segfmt_store_entry_get(p, &e);
    uint64_t off = e.off;
    uint32_t clen = e.packed_len, rlen = e.raw_len;
    *first = e.first_rec;
    const uint8_t *c = cfr_get(s->f[SEG_STORE], off, clen, err);
    if (!c) return IDX_EDATA;
    if (want != UINT32_MAX && *first > want)
        return seg_bad(err, s, SEG_STORE, s->store_table, "store table out of order");
    /* Deflate cannot expand data more than 1032:1 (zlib's FAQ); a larger
     * claim is damage, and believing it would allocate up to 4 GiB. */
    if (rlen / 1032 > clen)
        return seg_bad(err, s, SEG_STORE, s->store_table + b * SEGFMT_STORE_ENTRY_SIZE,
                       "store block size impossible for its compressed size");
    scratch->len = 0;
    if (buf_reserve(scratch, (size_t)rlen + 1)) return err_set(err, IDX_ENOMEM, "out of memory");
    z_stream zs = {0};
    if (inflateInit2(&zs, -15) != Z_OK) /* raw deflate: the page CRCs cover integrity */
        return err_set(err, IDX_ENOMEM, "out of memory");
    zs.next_in = (Bytef *)c;
    zs.avail_in = clen;
    size_t produced = 0, at = 0;
    uint32_t k = *first;
    int rc = 0;
    for (;;) {
        size_t a = 0;
        while (want != UINT32_MAX && k <= want &&
               (a = seg_record_parse(scratch->p + at, produced - at, out)) != 0) {
            if (k == want) break;
            at += a;
            k++;
        }
        if (a && k == want) break;
        if (produced == rlen) {
            if (want != UINT32_MAX)
                rc = seg_bad(err, s, SEG_STORE, off, "stored record missing or undecodable");
            break;
        }
        size_t step = rlen - produced < 16384 ? rlen - produced : 16384;
        zs.next_out = scratch->p + produced;
        zs.avail_out = (uInt)step;
        int z = inflate(&zs, Z_NO_FLUSH);
        size_t got = step - zs.avail_out;
        if ((z != Z_OK && z != Z_STREAM_END) || (got == 0 && z != Z_STREAM_END) ||
            (z == Z_STREAM_END && produced + got != rlen)) {
            rc = seg_bad(err, s, SEG_STORE, off, "stored block does not decompress");
            break;
        }
        produced += got;
    }
    inflateEnd(&zs);
    scratch->len = produced;
    *raw = produced;
    return rc;
}

/* Sets *block to the store block holding record `rec` (binary search by
 * first record number). */
static int store_block_of(seg *s, uint32_t rec, uint64_t *block, idx_err *err)
{
    if (s->store_blocks == 0) return seg_bad(err, s, SEG_STORE, 0, "document store is empty");
    uint64_t lo = 0, hi = s->store_blocks;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = cfr_get(s->f[SEG_STORE], s->store_table + mid * SEGFMT_STORE_ENTRY_SIZE,
                                   SEGFMT_STORE_ENTRY_SIZE, err);
        if (!e) return IDX_EDATA;
        if (segfmt_store_entry_first_rec(e) <= rec)
            lo = mid;
        else
            hi = mid;
    }
    *block = lo;
    return 0;
}

int seg_doc_record(seg *s, uint32_t doc, uint32_t *rec, idx_err *err)
{
    assert(doc < s->n_docs);
    const uint8_t *r =
        cfr_get(s->f[SEG_DOCS], s->off_store_rec + SEGFMT_DOCS_U32 * doc, SEGFMT_DOCS_U32, err);
    if (!r) return IDX_EDATA;
    *rec = rd_u32(r);
    return 0;
}

uint64_t seg_store_blocks(const seg *s)
{
    return s->store_blocks;
}

int seg_store_block_get(seg *s, uint64_t b, seg_store_block *out, idx_err *err)
{
    assert(b < s->store_blocks);
    const uint8_t *p = cfr_get(s->f[SEG_STORE], s->store_table + b * SEGFMT_STORE_ENTRY_SIZE,
                               (uint64_t)2 * SEGFMT_STORE_ENTRY_SIZE, err);
    if (!p) return IDX_EDATA; /* the next entry, or the trailer after the last */
    segfmt_store_entry e;
    segfmt_store_entry_get(p, &e);
    uint64_t end = b + 1 < s->store_blocks
                       ? segfmt_store_entry_first_rec(p + SEGFMT_STORE_ENTRY_SIZE)
                       : s->stats.store_records;
    if (end < e.first_rec || end - e.first_rec > e.raw_len)
        return seg_bad(err, s, SEG_STORE, s->store_table + b * SEGFMT_STORE_ENTRY_SIZE,
                       "store block numbering broken");
    if (!(out->packed = cfr_get(s->f[SEG_STORE], e.off, e.packed_len, err))) return IDX_EDATA;
    out->packed_len = e.packed_len;
    out->raw_len = e.raw_len;
    out->first_rec = e.first_rec;
    out->n_records = (uint32_t)(end - e.first_rec);
    return 0;
}

int seg_store_block_inflate(seg *s, uint64_t b, buf *raw, idx_err *err)
{
    assert(b < s->store_blocks);
    seg_doc unused;
    uint32_t first;
    size_t len;
    return store_inflate(s, b, UINT32_MAX, raw, &unused, &first, &len, err);
}

int seg_doc_get(seg *s, uint32_t doc, buf *scratch, seg_doc *out, idx_err *err)
{
    uint32_t rec;
    int rc = seg_doc_record(s, doc, &rec, err);
    if (rc) return rc;
    uint64_t b;
    rc = store_block_of(s, rec, &b, err);
    if (rc) return rc;
    uint32_t first;
    size_t raw;
    return store_inflate(s, b, rec, scratch, out, &first, &raw, err);
}

/* ---- integrity check ---- */

typedef struct check_ctx {
    const bm25_params *p;
    double avg_title, avg_body;
} check_ctx;

/* The idf-free score of the cursor's document, as segwrite bounded it. */
static double check_sat(seg *s, const check_ctx *k, const seg_cursor *c, int label)
{
    if (label) return bm25_sat(k->p, c->tf_body);
    uint32_t lt, lb;
    seg_doc_lens(s, c->doc, &lt, &lb);
    return bm25_sat(k->p, bm25_tfw(k->p, c->tf_title, c->tf_body, bm25_norm(k->p, lt, k->avg_title),
                                   bm25_norm(k->p, lb, k->avg_body)));
}

static int check_postings(seg *s, const check_ctx *k, const seg_term *t, const char *term,
                          size_t term_len, idx_err *err)
{
    seg_cursor c;
    int rc = seg_cursor_open(s, t, &c, err);
    uint32_t *pos = NULL;
    size_t cap = 0;
    uint64_t df = 0, cf = 0;
    int label = field_is_label_term(term, term_len);
    uint64_t prev_pos_off = 0;
    while (!rc && c.doc != SEG_END) {
        size_t need = (size_t)c.tf_title + c.tf_body;
        if (need > cap) {
            uint32_t *p = realloc(pos, need * sizeof *p);
            if (!p) {
                rc = err_set(err, IDX_ENOMEM, "out of memory");
                break;
            }
            pos = p;
            cap = need;
        }
        if (c.i == 0) {
            /* A new block: its positions start after the previous block's. */
            if (c.block_pos_off < prev_pos_off) {
                rc = seg_bad(err, s, SEG_POST, t->post_off, "skip entries out of order");
                break;
            }
            prev_pos_off = c.block_pos_off;
        }
        uint32_t last;
        float block_bound;
        double sub_bound;
        double sat = check_sat(s, k, &c, label);
        seg_cursor_sub_bound(&c, &last, &sub_bound);
        if (!seg_cursor_block_info(&c, c.doc, &last, &block_bound) || (double)block_bound < sat ||
            (double)t->bound < sat || sub_bound < sat) {
            rc = seg_bad(err, s, SEG_POST, t->post_off, "stored score bound below a real score");
            break;
        }
        df++;
        cf += need;
        rc = seg_cursor_positions(&c, pos, pos + c.tf_title, err);
        if (!rc) rc = seg_cursor_next(&c, err);
    }
    free(pos);
    if (!rc && (df != t->df || cf != t->cf))
        rc = seg_bad(err, s, SEG_POST, t->post_off,
                     "posting list length or frequencies disagree with the lexicon");
    return rc ? err_wrap(err, rc, "term '%.*s'", (int)term_len, term) : 0;
}

/* A term its filter rejects would be unfindable: a false negative is
 * damage, never a mere slowdown. */
static int check_filter_has(seg *s, const char *term, size_t len, idx_err *err)
{
    int rc = seg_may_contain(s, term, len, err);
    if (rc == 0)
        return seg_bad(err, s, SEG_LEX, s->filter_off, "term filter rejects a term of the lexicon");
    return rc < 0 ? rc : 0;
}

/* A block's key (§4.2) must be its first term's, or seeks go astray. */
static int check_lex_key(seg *s, const seg_lex_iter *it, idx_err *err)
{
    if (!s->lex_keys_off || it->in_block != 1) return 0;
    uint8_t want[SEGFMT_LEX_KEY_SIZE];
    segfmt_lex_key_put(want, it->term, it->term_len);
    uint64_t k;
    int rc = lex_key(s, it->block, &k, err);
    if (rc) return rc;
    if (k != segfmt_lex_key_get(want))
        return seg_bad(err, s, SEG_LEX, s->lex_keys_off + it->block * SEGFMT_LEX_KEY_SIZE,
                       "lexicon block key differs from the block's first term");
    return 0;
}

static int check_lexicon(seg *s, const check_ctx *k, idx_err *err)
{
    seg_lex_iter it;
    int rc = seg_lex_seek(s, "", 0, &it, err);
    char prev[SEG_MAX_TERM + 1];
    size_t prev_len = 0;
    uint64_t count = 0, post_at = CFILE_HEADER, pos_at = CFILE_HEADER;
    seg_term t;
    while (!rc && (rc = seg_lex_next(&it, &t, err)) == 1) {
        if (count && lex_cmp(prev, prev_len, it.term, it.term_len) >= 0)
            return seg_bad(err, s, SEG_LEX, 0, "lexicon terms out of order");
        if (t.post_off != post_at || t.pos_off != pos_at)
            return seg_bad(err, s, SEG_LEX, 0, "lexicon offsets not contiguous");
        memcpy(prev, it.term, it.term_len);
        prev_len = it.term_len;
        post_at += t.post_len;
        pos_at += t.pos_len;
        count++;
        rc = check_postings(s, k, &t, it.term, it.term_len, err);
        if (!rc) rc = check_filter_has(s, it.term, it.term_len, err);
        if (!rc) rc = check_lex_key(s, &it, err);
    }
    if (rc < 0) return rc;
    if (count != s->n_terms)
        return seg_bad(err, s, SEG_LEX, 0, "lexicon holds fewer terms than its trailer says");
    if (post_at != cfr_body_end(s->f[SEG_POST]) || pos_at != cfr_body_end(s->f[SEG_POS]))
        return seg_bad(err, s, SEG_POST, post_at, "posting data not covered by the lexicon");
    return 0;
}

static int check_docs(seg *s, idx_err *err)
{
    const uint8_t *by_id = cfr_get(s->f[SEG_DOCS], s->off_by_id, SEGFMT_DOCS_U32 * s->n_docs, err);
    const uint8_t *recs =
        cfr_get(s->f[SEG_DOCS], s->off_store_rec, SEGFMT_DOCS_U32 * s->n_docs, err);
    if (!by_id || !recs) return IDX_EDATA;
    /* The totals give the length averages BM25 normalises by. */
    uint64_t title = 0, body = 0;
    for (uint32_t d = 0; d < s->n_docs; d++) {
        uint32_t lt, lb;
        seg_doc_lens(s, d, &lt, &lb);
        title += lt;
        body += lb;
    }
    if (title != s->stats.tokens_title || body != s->stats.tokens_body)
        return seg_bad(err, s, SEG_DOCS, cfr_body_end(s->f[SEG_DOCS]) - SEGFMT_DOCS_TRAILER_SIZE,
                       "document lengths do not add up to the totals in the trailer");
    buf scratch = {0};
    int rc = 0;
    const char *prev = NULL;
    size_t prev_len = 0;
    for (uint32_t i = 0; i < s->n_docs && !rc; i++) {
        uint32_t d = rd_u32(by_id + SEGFMT_DOCS_U32 * i);
        size_t len;
        const char *id = d < s->n_docs ? seg_doc_id(s, d, &len, err) : NULL;
        if (!id) {
            rc = err->code ? err->code
                           : seg_bad(err, s, SEG_DOCS, s->off_by_id + SEGFMT_DOCS_U32 * i,
                                     "bad id order");
            break;
        }
        if (prev && lex_cmp(prev, prev_len, id, len) >= 0)
            rc = seg_bad(err, s, SEG_DOCS, s->off_by_id + SEGFMT_DOCS_U32 * i,
                         "ids not unique and sorted");
        prev = id;
        prev_len = len;
    }
    /* Documents refer to their records in store order, so each block is
     * inflated once and parsed forward: one seg_doc_get per document would
     * inflate half a block each time (2 minutes for 2 million tiny articles). */
    uint64_t block = UINT64_MAX;
    uint32_t first = 0, k = 0;
    size_t raw = 0, at = 0;
    for (uint32_t d = 0; d < s->n_docs && !rc; d++) {
        uint32_t rec = rd_u32(recs + SEGFMT_DOCS_U32 * d);
        if (rec >= s->stats.store_records) {
            rc = seg_bad(err, s, SEG_DOCS, s->off_store_rec + SEGFMT_DOCS_U32 * d,
                         "store record out of range");
            break;
        }
        seg_doc doc;
        uint64_t b = 0;
        rc = store_block_of(s, rec, &b, err);
        if (!rc && b != block) {
            rc = store_inflate(s, b, UINT32_MAX, &scratch, &doc, &first, &raw, err);
            block = rc ? UINT64_MAX : b;
            k = first;
            at = 0;
        }
        if (!rc && rec < k) { /* out of store order: parse the block again from its start */
            k = first;
            at = 0;
        }
        size_t a = 0;
        while (!rc && (a = seg_record_parse(scratch.p + at, raw - at, &doc)) != 0 && k < rec) {
            at += a;
            k++;
        }
        if (!rc && (!a || k != rec))
            rc = seg_bad(err, s, SEG_STORE, s->store_table + b * SEGFMT_STORE_ENTRY_SIZE,
                         "stored record missing or undecodable");
        size_t len;
        const char *id = rc ? NULL : seg_doc_id(s, d, &len, err);
        if (!rc && (!id || len != doc.len[FIELD_ID] || memcmp(id, doc.field[FIELD_ID], len)))
            rc = seg_bad(err, s, SEG_STORE, 0, "stored article does not match its id");
    }
    buf_free(&scratch);
    return rc;
}

/* Every stored record decodes, in block order. With rec_keys (one per
 * record), each record's collapse key is computed on the way, so that
 * check_ckeys inflates nothing itself. */
static int check_store(seg *s, uint64_t *rec_keys, idx_err *err)
{
    buf scratch = {0};
    uint32_t *pm_off = NULL;
    size_t pm_cap = 0;
    uint64_t expect = 0;
    int rc = 0;
    for (uint64_t b = 0; b < s->store_blocks && !rc; b++) {
        uint32_t first;
        size_t raw_len;
        seg_doc unused;
        rc = store_inflate(s, b, UINT32_MAX, &scratch, &unused, &first, &raw_len, err);
        if (rc) break;
        const uint8_t *p = scratch.p;
        if (first != expect) {
            rc = seg_bad(err, s, SEG_STORE, s->store_table + b * SEGFMT_STORE_ENTRY_SIZE,
                         "store block numbering broken");
            break;
        }
        size_t off = 0;
        while (off < raw_len) {
            seg_doc d;
            size_t a = seg_record_parse(p + off, raw_len - off, &d);
            if (!a) {
                rc = seg_bad(err, s, SEG_STORE, s->store_table + b * SEGFMT_STORE_ENTRY_SIZE,
                             "undecodable stored record");
                break;
            }
            if (d.posmap) {
                uint32_t stride;
                size_t n;
                int pm = seg_posmap_decode(d.posmap, d.posmap_len, d.len[FIELD_BODY], &stride,
                                           &pm_off, &pm_cap, &n);
                if (pm) {
                    rc = pm == IDX_ENOMEM ? err_set(err, IDX_ENOMEM, "out of memory")
                                          : seg_bad(err, s, SEG_STORE,
                                                    s->store_table + b * SEGFMT_STORE_ENTRY_SIZE,
                                                    "stored position table undecodable");
                    break;
                }
            }
            if (rec_keys && expect < s->stats.store_records)
                rec_keys[expect] = ckey_of(d.field[FIELD_TITLE], d.len[FIELD_TITLE],
                                           d.field[FIELD_BODY], d.len[FIELD_BODY]);
            off += a;
            expect++;
        }
    }
    buf_free(&scratch);
    free(pm_off);
    if (!rc && expect != s->stats.store_records)
        rc = seg_bad(err, s, SEG_STORE, s->store_table, "store record count mismatch");
    return rc;
}

/* The padding between the filter's header and its blocks is zero (§4.1). */
static int check_filter(seg *s, idx_err *err)
{
    if (!s->filter_blocks) return 0;
    uint64_t from = s->filter_off + SEGFMT_FILTER_HEADER_SIZE;
    const uint8_t *p = cfr_get(s->f[SEG_LEX], from, s->filter_blocks_off - from, err);
    if (!p) return IDX_EDATA;
    for (uint64_t i = 0; i < s->filter_blocks_off - from; i++)
        if (p[i]) return seg_bad(err, s, SEG_LEX, from + i, "term filter padding not zero");
    return 0;
}

/* Every stored collapse key is the one its article's stored text gives
 * (rec_keys: check_store's key of each store record). */
static int check_ckeys(seg *s, const uint64_t *rec_keys, idx_err *err)
{
    const uint8_t *keys = seg_ckeys(s, err);
    if (!keys) return IDX_EDATA;
    for (uint32_t d = 0; d < s->n_docs; d++) {
        uint32_t rec;
        int rc = seg_doc_record(s, d, &rec, err);
        if (rc) return rc;
        if (rec >= s->stats.store_records || seg_ckey_at(keys, d) != rec_keys[rec])
            return seg_bad(err, s, SEG_DOCS, s->off_ckey + SEGFMT_CKEY_ENTRY * d,
                           "collapse key does not match the stored article");
    }
    return 0;
}

/* The facet columns are whole (fcol_parse) and are the ones the stored
 * articles give, byte for byte (the section is canonical: fcol.h). */
static int check_fcols(seg *s, idx_err *err)
{
    uint64_t len;
    const uint8_t *col = seg_fcols(s, &len, err);
    if (!col) return IDX_EDATA;
    fcol_view v;
    const char *why;
    if (fcol_parse(col, len, s->n_docs, &v, &why))
        return seg_bad(err, s, SEG_DOCS, s->off_fcol, why);
    buf want = {0};
    int rc = fcol_rebuild(s, &want, err);
    if (!rc && (want.len != len || memcmp(want.p, col, len))) {
        uint64_t at = 0;
        while (at < len && at < want.len && want.p[at] == col[at])
            at++;
        rc = seg_bad(err, s, SEG_DOCS, s->off_fcol + at,
                     "facet columns do not match the stored articles");
    }
    buf_free(&want);
    return rc;
}

int seg_check(seg *s, const bm25_params *p, idx_err *err)
{
    for (int i = 0; i < SEG_NFILES; i++) {
        int rc = cfr_verify_all(s->f[i], err);
        if (rc) return rc;
    }
    /* Bounds were computed with this segment's own average lengths. */
    check_ctx k = {p, s->n_docs ? (double)s->stats.tokens_title / s->n_docs : 0,
                   s->n_docs ? (double)s->stats.tokens_body / s->n_docs : 0};
    int rc = check_filter(s, err);
    if (!rc) rc = check_lexicon(s, &k, err);
    uint64_t *rec_keys = NULL;
    if (!rc && s->off_ckey &&
        !(rec_keys =
              malloc((s->stats.store_records ? s->stats.store_records : 1) * sizeof *rec_keys)))
        rc = err_set(err, IDX_ENOMEM, "check: out of memory");
    if (!rc) rc = check_store(s, rec_keys, err);
    if (!rc) rc = check_docs(s, err);
    if (!rc && rec_keys) rc = check_ckeys(s, rec_keys, err);
    if (!rc && s->off_fcol) rc = check_fcols(s, err);
    free(rec_keys);
    return rc;
}
