/* segment: read access to one segment of an index (docs/FORMAT.md).
 *
 * A segment is five checked files (cfile.h) named <seg>.lex, .post, .pos,
 * .docs and .store inside the index directory. seg_open maps them and checks
 * their footers; every later read goes through cfr_get, so a damaged page is
 * reported (IDX_EDATA, file and offset), never decoded as garbage.
 *
 * Docids are segment-local, dense 0..n_docs-1, in build order. A seg is
 * read-only after open and may be shared by threads; cursors and iterators
 * belong to one thread each. */
#ifndef IDX_SEGMENT_H
#define IDX_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/cfile.h"
#include "common/codec.h"
#include "common/fields.h"
#include "common/status.h"

#define SEG_END UINT32_MAX
/* A sub-block's bound: the block's bound scaled by q/255, q stored in one
 * byte, chosen by the writer as the smallest that is not below any score in
 * the sub-block. Writer and reader compute it with this one expression. */
static inline double seg_sub_bound(float block_bound, uint8_t q)
{
    return (double)block_bound * q / 255.0;
}
#define SEG_MAX_TERM 255 /* bytes; the analyzer's limit is far lower */

typedef struct seg seg;

/* A lexicon entry. `bound` is the largest idf-free BM25 part (bm25_sat) any
 * document reaches for this term under the parameters recorded in the index
 * meta; the skip table carries the same per block. */
typedef struct seg_term {
    uint32_t df;
    uint64_t cf;
    uint64_t post_off, post_len; /* absolute offsets in <seg>.post */
    uint64_t pos_off, pos_len;   /* absolute offsets in <seg>.pos */
    float bound;
} seg_term;

int seg_open(const char *dir, const char *name, seg **out, idx_err *err);
/* The same from files in memory (cfile.h); they must outlive the segment. */
int seg_open_mem(const cfr_source *src, const char *name, seg **out, idx_err *err);
void seg_close(seg *s);

uint32_t seg_ndocs(const seg *s);
uint64_t seg_nterms(const seg *s);

/* The segment's term filter (FORMAT.md §4.1): the block that would hold
 * the term whose termfilter_hash is `hash`, in *block for
 * termfilter_block_has (NULL when the segment has no filter: every term may
 * be present); 0, or negative on damage. A caller that looks a term up in
 * many segments asks every filter first and seeks only where the term may
 * be (match_terms.c); seg_lookup does not, as on one segment the probe
 * would only add to the seek. */
int seg_filter_block(seg *s, uint64_t hash, const uint8_t **block, idx_err *err);
/* 0 if the filter rules the term out, 1 if it may be present, <0 on damage. */
int seg_may_contain(seg *s, const char *term, size_t len, idx_err *err);

/* 1 and *out filled if the term exists, 0 if not, negative on damage. */
int seg_lookup(seg *s, const char *term, size_t len, seg_term *out, idx_err *err);

/* seg_lookup in three steps, for a caller looking a term up in many
 * segments: prepare finds the lexicon block to scan (*block; from the block
 * keys, §4.2, without touching other blocks when the segment has them) and
 * prefetches its index entry; prefetch prefetches the block's first bytes;
 * finish scans it and returns as seg_lookup. Doing each step for every
 * segment before the next step overlaps the cache misses, which dominate a
 * lookup (match_terms.c). Negative on damage. */
int seg_lookup_prepare(seg *s, const char *term, size_t len, uint64_t *block, idx_err *err);
int seg_lookup_prefetch(seg *s, uint64_t block, idx_err *err);
int seg_lookup_finish(seg *s, uint64_t block, const char *term, size_t len, seg_term *out,
                      idx_err *err);

/* Prefetches the start of t's posting list (t from this segment's
 * lexicon), where opening a cursor on it will read first; a damaged span is
 * left for that read to report. */
void seg_term_prefetch(seg *s, const seg_term *t);

/* Lexicon iteration in byte order from the first term >= `from`. */
typedef struct seg_lex_iter {
    seg *s;
    uint64_t block;    /* current block */
    uint32_t in_block; /* entries consumed in it */
    const uint8_t *p, *end;
    uint64_t post_off, pos_off;
    char term[SEG_MAX_TERM + 1];
    size_t term_len;
    size_t shared; /* bytes `term` shares with the term before it in its block */
    /* seg_lex_seek decodes the first term >= `from` to find it; the next
     * seg_lex_next returns it from here instead of decoding it again */
    int pending;
    seg_term peek;
} seg_lex_iter;

int seg_lex_seek(seg *s, const char *from, size_t len, seg_lex_iter *it, idx_err *err);
/* 1 with the next term (it->term, it->term_len) and *out; 0 at the end; <0 damage. */
int seg_lex_next(seg_lex_iter *it, seg_term *out, idx_err *err);

/* A posting cursor: documents of one term in increasing docid order. */
typedef struct seg_cursor {
    uint32_t doc;      /* current document, SEG_END when exhausted */
    uint32_t tf_title; /* frequencies of the current document */
    uint32_t tf_body;

    /* private */
    seg *s;
    seg_term t;
    uint32_t n_blocks, block; /* block currently decoded */
    const uint8_t *skips;     /* n_blocks entries, NULL when n_blocks == 1 */
    uint64_t data_off;        /* first block (after the skip table) */
    uint32_t n, i;            /* docs in the decoded block, index of current */
    uint32_t docs[CODEC_BLOCK], tft[CODEC_BLOCK], tfb[CODEC_BLOCK];
    uint64_t block_pos_off; /* positions of the decoded block */
    uint64_t pos_done_off;  /* bytes of the block's positions already skipped... */
    uint32_t pos_done_doc;  /* ...up to this index in the block */
} seg_cursor;

/* Positions the cursor on the term's first document. */
int seg_cursor_open(seg *s, const seg_term *t, seg_cursor *c, idx_err *err);
/* Moves to the next document (doc = SEG_END at the end). */
int seg_cursor_next(seg_cursor *c, idx_err *err);
/* Moves to the first document >= target, skipping whole blocks unread. */
int seg_cursor_seek(seg_cursor *c, uint32_t target, idx_err *err);

/* Block-max support without decoding: for the block that would hold
 * `target`, its last docid and the block's idf-free bound. Returns 0 if
 * target is past the last document. */
int seg_cursor_block_info(const seg_cursor *c, uint32_t target, uint32_t *last_doc, float *bound);

/* The bound of the 32-document run the current document belongs to (within
 * its block), and the last docid of that run. Finer than the block's own
 * bound: frequent words have some high-scoring document in nearly every
 * block of 128, far fewer in a run of 32. Terms in a single block (no skip
 * table) answer with the term's bound and the block's last document. */
void seg_cursor_sub_bound(const seg_cursor *c, uint32_t *upto, double *bound);

/* Decodes the positions of the current document into title[tf_title] and
 * body[tf_body] (caller-sized). Only this document's positions are decoded;
 * those of earlier documents in the block are skipped byte-wise. */
int seg_cursor_positions(seg_cursor *c, uint32_t *title, uint32_t *body, idx_err *err);

/* The same, decoding only positions <= title_max in the title and <= body_max
 * in the body (the rest are skipped, not decoded); *n_title and *n_body say
 * how many were stored. A phrase check needs a frequent word's positions only
 * up to the last place the phrase's rarest word allows. */
int seg_cursor_positions_upto(seg_cursor *c, uint32_t title_max, uint32_t body_max, uint32_t *title,
                              uint32_t *n_title, uint32_t *body, uint32_t *n_body, idx_err *err);

/* Points *p at the current document's positions as stored (FORMAT.md
 * §5.2: tf_title then tf_body varints), *avail bytes readable from there
 * (to the end of the block's positions: a decoder must count the varints
 * and check every one). The bytes are the segment's, valid while it is
 * open. The earlier documents' positions are skipped as by
 * seg_cursor_positions. *p is NULL at SEG_END. */
int seg_cursor_pos_bytes(seg_cursor *c, const uint8_t **p, size_t *avail, idx_err *err);

/* Per-document data. Out-of-range docids are the caller's bug (asserted). */
void seg_doc_lens(const seg *s, uint32_t doc, uint32_t *len_title, uint32_t *len_body);
uint32_t seg_doc_date(const seg *s, uint32_t doc); /* YYYYMMDD, 0 if none */
/* Collapse keys (common/ckey.h; FORMAT.md §6.1). Segments written before
 * keys existed have none: seg_has_ckeys 0, seg_ckeys NULL with err
 * untouched. Otherwise seg_ckeys gives the whole column, u64[n_docs] read
 * with seg_ckey_at, every page verified (NULL and IDX_EDATA on damage). */
int seg_has_ckeys(const seg *s);
const uint8_t *seg_ckeys(seg *s, idx_err *err);
static inline uint64_t seg_ckey_at(const uint8_t *keys, uint32_t doc)
{
    return rd_u64(keys + (uint64_t)8 * doc);
}
/* The whole date column, u32[n_docs] read with rd_u32, every page verified
 * (NULL and IDX_EDATA on damage): for a reader of every date, where a
 * damaged page must be an error rather than "no date". */
const uint8_t *seg_dates(seg *s, idx_err *err);
/* Facet columns (FORMAT.md §6.2; read with common/fcol.h). Segments written
 * before they existed have none: seg_has_fcols 0, seg_fcols NULL with err
 * untouched. Otherwise seg_fcols gives the whole section's *len bytes,
 * every page verified (NULL and IDX_EDATA on damage). */
int seg_has_fcols(const seg *s);
const uint8_t *seg_fcols(seg *s, uint64_t *len, idx_err *err);
/* The external id (not NUL-terminated), or NULL on damage. */
const char *seg_doc_id(seg *s, uint32_t doc, size_t *len, idx_err *err);
/* 1 and *doc if an article with this id exists, 0 if not, <0 on damage. */
int seg_find_id(seg *s, const char *id, size_t len, uint32_t *doc, idx_err *err);

/* A stored article, fields indexed by FIELD_* (fields.h), FIELD_EXTRA
 * included; pointers into `scratch`, valid until it is reused. */
typedef struct seg_doc {
    const char *field[FIELD_STORED];
    size_t len[FIELD_STORED];
    /* The record's position table (FORMAT.md §7.1) as stored, NULL (and 0)
     * when it has none; decode it with seg_posmap_decode. */
    const uint8_t *posmap;
    size_t posmap_len;
} seg_doc;

int seg_doc_get(seg *s, uint32_t doc, buf *scratch, seg_doc *out, idx_err *err);

/* The store record number of a document (its record in <seg>.store). */
int seg_doc_record(seg *s, uint32_t doc, uint32_t *rec, idx_err *err);

/* Whole store blocks, for copying records without fetching them one by one
 * (idx merge): block b (< seg_store_blocks) as stored (deflated; the
 * pointer is into the segment's mapped file), or inflated into raw
 * (replacing its contents). */
typedef struct seg_store_block {
    const uint8_t *packed;
    uint32_t packed_len, raw_len;
    uint32_t first_rec, n_records;
} seg_store_block;
uint64_t seg_store_blocks(const seg *s);
int seg_store_block_get(seg *s, uint64_t b, seg_store_block *out, idx_err *err);
int seg_store_block_inflate(seg *s, uint64_t b, buf *raw, idx_err *err);

/* Parses one stored record (FORMAT.md §7) at p into *out (pointers into p);
 * returns the bytes it takes, 0 if it is not a whole record. The Xapian
 * engine keeps the same record as its document data. */
size_t seg_record_parse(const uint8_t *p, size_t avail, seg_doc *out);

/* Decodes a record's position table (seg_doc.posmap) against its body of
 * body_len bytes: *stride, and off[k] (k < *n) the body's byte offset of its
 * first token at position (k + 1) × *stride or later. off is grown with
 * buf_grow (*cap elements; the caller frees it). 0; IDX_ENOMEM; or -1 when
 * the table is of another version or malformed (an offset past the body),
 * which `idx check` reports and readers treat as no table. */
int seg_posmap_decode(const uint8_t *p, size_t len, size_t body_len, uint32_t *stride,
                      uint32_t **off, size_t *cap, size_t *n);

/* Component files and sizes, for `idx stats`. */
enum { SEG_LEX, SEG_POST, SEG_POS, SEG_DOCS, SEG_STORE, SEG_NFILES };
extern const char *const seg_file_ext[SEG_NFILES];
cfr *seg_file(const seg *s, int which);

/* Average field lengths recorded at build time (tokens per document). */
typedef struct seg_stats {
    uint64_t tokens_title, tokens_body;
    uint64_t store_records; /* including records superseded by a later duplicate */
} seg_stats;
void seg_get_stats(const seg *s, seg_stats *out);

/* Full structural verification for `idx check`: every page checksum, then
 * every lexicon entry, posting list, position list, doc table entry and
 * stored record decoded and checked against the invariants of FORMAT.md,
 * including that no stored score bound (computed with the BM25 parameters
 * `p` the index records) lies below a real score. */
struct bm25_params;
int seg_check(seg *s, const struct bm25_params *p, idx_err *err);

#endif
