/* segfmt: the byte layout of a segment's structures (docs/FORMAT.md §§4-7),
 * named once for the writer (indexer/segwrite.c, indexer/docstore.c) and the
 * reader (common/segment.c).
 *
 * Each fixed-size structure has its size, the offset of every field, a struct
 * and static inline put (struct -> bytes) and get (bytes -> struct) functions.
 * The posting cursor reads single skip-entry fields per block on the query's
 * hot path, so those have their own inline getters that compile to the same
 * loads as literal offsets. Varint-coded lexicon entries have put/get too.
 * Every get takes bytes the caller has bounds-checked (at least the
 * structure's size); the lexicon entry's get checks its own bounds.
 *
 * The container around every component (header, page CRCs, footer) is
 * cfile.h's; offsets called absolute below count from the start of the file,
 * so the first body byte is at CFILE_HEADER. Header only; no state. */
#ifndef IDX_SEGFMT_H
#define IDX_SEGFMT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "common/codec.h"

static inline void segfmt_wr_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void segfmt_wr_u64(uint8_t *p, uint64_t v)
{
    segfmt_wr_u32(p, (uint32_t)v);
    segfmt_wr_u32(p + 4, (uint32_t)(v >> 32));
}

/* f32 values are stored as their IEEE-754 bit pattern in a u32. */
static inline uint32_t segfmt_f32_bits(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, 4);
    return bits;
}

static inline float segfmt_bits_f32(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* ---- lexicon (.lex): entry blocks, block index, trailer (§4) ---- */

#define SEGFMT_LEX_BLOCK 32 /* entries per front-coded block */

/* One entry, front-coded against the previous term of its block:
 * varint shared, varint suffix_len, suffix, varint df, varint cf - df,
 * varint post_len, varint pos_len, f32 bound. */
typedef struct segfmt_lex_entry {
    uint64_t shared, suffix_len;
    const uint8_t *suffix; /* get: points into the bytes read */
    uint64_t df, cf_extra; /* cf_extra = cf - df */
    uint64_t post_len, pos_len;
    float bound;
} segfmt_lex_entry;

static inline void segfmt_lex_entry_put(buf *b, const segfmt_lex_entry *e)
{
    codec_put_varint(b, e->shared);
    codec_put_varint(b, e->suffix_len);
    buf_put(b, e->suffix, (size_t)e->suffix_len);
    codec_put_varint(b, e->df);
    codec_put_varint(b, e->cf_extra);
    codec_put_varint(b, e->post_len);
    codec_put_varint(b, e->pos_len);
    buf_put_u32(b, segfmt_f32_bits(e->bound));
}

/* The entry's head (shared, suffix_len, suffix) from p[0..avail): its bytes,
 * or 0 if it is not whole. Enough to read a block's first term. */
static inline size_t segfmt_lex_head_get(const uint8_t *p, size_t avail, segfmt_lex_entry *e)
{
    size_t a, c;
    if (!(a = codec_get_varint(p, avail, &e->shared)) ||
        !(c = codec_get_varint(p + a, avail - a, &e->suffix_len)) || e->suffix_len > avail - a - c)
        return 0;
    e->suffix = p + a + c;
    return a + c + (size_t)e->suffix_len;
}

/* The whole entry: its bytes, or 0 if it is not whole. Values are not
 * range-checked here (the reader knows the limits). */
static inline size_t segfmt_lex_entry_get(const uint8_t *p, size_t avail, segfmt_lex_entry *e)
{
    size_t at = segfmt_lex_head_get(p, avail, e);
    uint64_t *v[4] = {&e->df, &e->cf_extra, &e->post_len, &e->pos_len};
    if (!at) return 0;
    for (int i = 0; i < 4; i++) {
        size_t n = codec_get_varint(p + at, avail - at, v[i]);
        if (!n) return 0;
        at += n;
    }
    if (avail - at < 4) return 0;
    e->bound = segfmt_bits_f32(rd_u32(p + at));
    return at + 4;
}

/* Block index entry: where block k starts, and the absolute post_off and
 * pos_off of its first term. */
#define SEGFMT_LEX_INDEX_SIZE 24
#define SEGFMT_LEX_INDEX_BLOCK_OFF 0 /* u64, absolute in .lex */
#define SEGFMT_LEX_INDEX_POST_OFF 8  /* u64, absolute in .post */
#define SEGFMT_LEX_INDEX_POS_OFF 16  /* u64, absolute in .pos */

typedef struct segfmt_lex_index {
    uint64_t block_off, post_off, pos_off;
} segfmt_lex_index;

static inline void segfmt_lex_index_put(uint8_t *p, const segfmt_lex_index *e)
{
    segfmt_wr_u64(p + SEGFMT_LEX_INDEX_BLOCK_OFF, e->block_off);
    segfmt_wr_u64(p + SEGFMT_LEX_INDEX_POST_OFF, e->post_off);
    segfmt_wr_u64(p + SEGFMT_LEX_INDEX_POS_OFF, e->pos_off);
}

static inline void segfmt_lex_index_get(const uint8_t *p, segfmt_lex_index *e)
{
    e->block_off = rd_u64(p + SEGFMT_LEX_INDEX_BLOCK_OFF);
    e->post_off = rd_u64(p + SEGFMT_LEX_INDEX_POST_OFF);
    e->pos_off = rd_u64(p + SEGFMT_LEX_INDEX_POS_OFF);
}

/* Where block k starts: the one field a binary search over blocks reads. */
static inline uint64_t segfmt_lex_index_block_off(const uint8_t *p)
{
    return rd_u64(p + SEGFMT_LEX_INDEX_BLOCK_OFF);
}

#define SEGFMT_LEX_TRAILER_SIZE 32
#define SEGFMT_LEX_TRAILER_TERMS 0       /* u64 */
#define SEGFMT_LEX_TRAILER_BLOCKS 8      /* u64, ceil(terms / 32) */
#define SEGFMT_LEX_TRAILER_INDEX_OFF 16  /* u64, absolute */
#define SEGFMT_LEX_TRAILER_FILTER_OFF 24 /* u64, absolute; 0: no term filter (§4.1) */

typedef struct segfmt_lex_trailer {
    uint64_t n_terms, n_blocks, index_off;
    uint64_t filter_off; /* 0 in indexes written before the filter existed */
} segfmt_lex_trailer;

static inline void segfmt_lex_trailer_put(uint8_t *p, const segfmt_lex_trailer *t)
{
    segfmt_wr_u64(p + SEGFMT_LEX_TRAILER_TERMS, t->n_terms);
    segfmt_wr_u64(p + SEGFMT_LEX_TRAILER_BLOCKS, t->n_blocks);
    segfmt_wr_u64(p + SEGFMT_LEX_TRAILER_INDEX_OFF, t->index_off);
    segfmt_wr_u64(p + SEGFMT_LEX_TRAILER_FILTER_OFF, t->filter_off);
}

static inline void segfmt_lex_trailer_get(const uint8_t *p, segfmt_lex_trailer *t)
{
    t->n_terms = rd_u64(p + SEGFMT_LEX_TRAILER_TERMS);
    t->n_blocks = rd_u64(p + SEGFMT_LEX_TRAILER_BLOCKS);
    t->index_off = rd_u64(p + SEGFMT_LEX_TRAILER_INDEX_OFF);
    t->filter_off = rd_u64(p + SEGFMT_LEX_TRAILER_FILTER_OFF);
}

/* Term filter (§4.1): a header at the trailer's filter_off, then the
 * filter's blocks (termfilter.h) from the next multiple of 32 (zero padding
 * between), up to the block index. */
#define SEGFMT_FILTER_HEADER_SIZE 16
#define SEGFMT_FILTER_SCHEME 0 /* u32, SEGFMT_FILTER_SBBF */
#define SEGFMT_FILTER_FLAGS 4  /* u32, SEGFMT_FILTER_HAS_KEYS or 0 */
#define SEGFMT_FILTER_BLOCKS 8 /* u64, 1 .. 2^32 */
#define SEGFMT_FILTER_SBBF 1   /* the only scheme: termfilter.h */
#define SEGFMT_FILTER_ALIGN 32
#define SEGFMT_FILTER_HAS_KEYS 1 /* flag: block keys (§4.2) end at filter_off */

typedef struct segfmt_filter_header {
    uint32_t scheme, flags;
    uint64_t n_blocks;
} segfmt_filter_header;

static inline void segfmt_filter_header_put(uint8_t *p, const segfmt_filter_header *h)
{
    segfmt_wr_u32(p + SEGFMT_FILTER_SCHEME, h->scheme);
    segfmt_wr_u32(p + SEGFMT_FILTER_FLAGS, h->flags);
    segfmt_wr_u64(p + SEGFMT_FILTER_BLOCKS, h->n_blocks);
}

static inline void segfmt_filter_header_get(const uint8_t *p, segfmt_filter_header *h)
{
    h->scheme = rd_u32(p + SEGFMT_FILTER_SCHEME);
    h->flags = rd_u32(p + SEGFMT_FILTER_FLAGS);
    h->n_blocks = rd_u64(p + SEGFMT_FILTER_BLOCKS);
}

/* Where the blocks of a filter whose header is at filter_off start: aligned,
 * so that no block straddles a cache line or a checksummed page. */
static inline uint64_t segfmt_filter_blocks_off(uint64_t filter_off)
{
    uint64_t end = filter_off + SEGFMT_FILTER_HEADER_SIZE;
    return (end + SEGFMT_FILTER_ALIGN - 1) / SEGFMT_FILTER_ALIGN * SEGFMT_FILTER_ALIGN;
}

/* Block keys (§4.2): per lexicon block, the first 8 bytes of its first term,
 * zero-padded, stored as they are. Read as a big-endian number they order
 * like the terms (a < b implies key(a) <= key(b)), so a binary search over
 * them narrows a seek to the blocks whose keys equal the term's. */
#define SEGFMT_LEX_KEY_SIZE 8

static inline void segfmt_lex_key_put(uint8_t *p, const char *term, size_t len)
{
    size_t n = len < SEGFMT_LEX_KEY_SIZE ? len : SEGFMT_LEX_KEY_SIZE;
    memset(p, 0, SEGFMT_LEX_KEY_SIZE);
    memcpy(p, term, n);
}

static inline uint64_t segfmt_lex_key_get(const uint8_t *p)
{
    return __builtin_bswap64(rd_u64(p)); /* rd_u64 reads little-endian */
}

/* ---- postings (.post): a term's skip table, then its blocks (§5.1) ---- */

#define SEGFMT_SUB_BLOCKS 4 /* sub-block bounds per skip entry, 32 postings each */
#define SEGFMT_SKIP_SIZE 20
#define SEGFMT_SKIP_LAST_DOC 0 /* u32 */
#define SEGFMT_SKIP_DOC_OFF 4  /* u32, relative to the end of the skip table */
#define SEGFMT_SKIP_POS_OFF 8  /* u32, relative to the term's pos_off */
#define SEGFMT_SKIP_BOUND 12   /* f32 */
#define SEGFMT_SKIP_SUB 16     /* SEGFMT_SUB_BLOCKS x u8 */

typedef struct segfmt_skip {
    uint32_t last_doc, doc_off, pos_off;
    float bound;
    uint8_t sub[SEGFMT_SUB_BLOCKS];
} segfmt_skip;

static inline void segfmt_skip_put(uint8_t *p, const segfmt_skip *s)
{
    segfmt_wr_u32(p + SEGFMT_SKIP_LAST_DOC, s->last_doc);
    segfmt_wr_u32(p + SEGFMT_SKIP_DOC_OFF, s->doc_off);
    segfmt_wr_u32(p + SEGFMT_SKIP_POS_OFF, s->pos_off);
    segfmt_wr_u32(p + SEGFMT_SKIP_BOUND, segfmt_f32_bits(s->bound));
    memcpy(p + SEGFMT_SKIP_SUB, s->sub, SEGFMT_SUB_BLOCKS);
}

static inline uint32_t segfmt_skip_last_doc(const uint8_t *p)
{
    return rd_u32(p + SEGFMT_SKIP_LAST_DOC);
}

static inline uint32_t segfmt_skip_doc_off(const uint8_t *p)
{
    return rd_u32(p + SEGFMT_SKIP_DOC_OFF);
}

static inline uint32_t segfmt_skip_pos_off(const uint8_t *p)
{
    return rd_u32(p + SEGFMT_SKIP_POS_OFF);
}

static inline float segfmt_skip_bound(const uint8_t *p)
{
    return segfmt_bits_f32(rd_u32(p + SEGFMT_SKIP_BOUND));
}

static inline uint8_t segfmt_skip_sub(const uint8_t *p, uint32_t sub)
{
    return p[SEGFMT_SKIP_SUB + sub];
}

static inline void segfmt_skip_get(const uint8_t *p, segfmt_skip *s)
{
    s->last_doc = segfmt_skip_last_doc(p);
    s->doc_off = segfmt_skip_doc_off(p);
    s->pos_off = segfmt_skip_pos_off(p);
    s->bound = segfmt_skip_bound(p);
    memcpy(s->sub, p + SEGFMT_SKIP_SUB, SEGFMT_SUB_BLOCKS);
}

/* ---- document table (.docs): sections, then the trailer (§6) ---- */

/* The sections, in file order; the trailer gives each one's absolute offset. */
enum {
    SEGFMT_DOCS_LEN_TITLE, /* u32[n] */
    SEGFMT_DOCS_LEN_BODY,  /* u32[n] */
    SEGFMT_DOCS_DATE,      /* u32[n], YYYYMMDD or 0 */
    SEGFMT_DOCS_STORE_REC, /* u32[n] */
    SEGFMT_DOCS_ID_OFF,    /* u64[n + 1], into the id blob */
    SEGFMT_DOCS_ID_BLOB,   /* the ids, concatenated */
    SEGFMT_DOCS_BY_ID,     /* u32[n], docids in id order */
    SEGFMT_DOCS_SECTIONS
};
#define SEGFMT_DOCS_U32 ((uint64_t)4)          /* bytes per entry of a u32[n] section */
#define SEGFMT_DOCS_ID_OFF_ENTRY ((uint64_t)8) /* bytes per id_off entry */

#define SEGFMT_DOCS_TRAILER_SIZE 88 /* 11 x u64 */
#define SEGFMT_DOCS_TRAILER_DOCS 0
#define SEGFMT_DOCS_TRAILER_TOKENS_TITLE 8
#define SEGFMT_DOCS_TRAILER_TOKENS_BODY 16
#define SEGFMT_DOCS_TRAILER_STORE_RECORDS 24
#define SEGFMT_DOCS_TRAILER_SECTION_OFF 32 /* u64 x SEGFMT_DOCS_SECTIONS */

typedef struct segfmt_docs_trailer {
    uint64_t n_docs, tokens_title, tokens_body, store_records;
    uint64_t off[SEGFMT_DOCS_SECTIONS]; /* absolute, by SEGFMT_DOCS_* */
} segfmt_docs_trailer;

static inline void segfmt_docs_trailer_put(uint8_t *p, const segfmt_docs_trailer *t)
{
    segfmt_wr_u64(p + SEGFMT_DOCS_TRAILER_DOCS, t->n_docs);
    segfmt_wr_u64(p + SEGFMT_DOCS_TRAILER_TOKENS_TITLE, t->tokens_title);
    segfmt_wr_u64(p + SEGFMT_DOCS_TRAILER_TOKENS_BODY, t->tokens_body);
    segfmt_wr_u64(p + SEGFMT_DOCS_TRAILER_STORE_RECORDS, t->store_records);
    for (int i = 0; i < SEGFMT_DOCS_SECTIONS; i++)
        segfmt_wr_u64(p + SEGFMT_DOCS_TRAILER_SECTION_OFF + (size_t)8 * i, t->off[i]);
}

static inline void segfmt_docs_trailer_get(const uint8_t *p, segfmt_docs_trailer *t)
{
    t->n_docs = rd_u64(p + SEGFMT_DOCS_TRAILER_DOCS);
    t->tokens_title = rd_u64(p + SEGFMT_DOCS_TRAILER_TOKENS_TITLE);
    t->tokens_body = rd_u64(p + SEGFMT_DOCS_TRAILER_TOKENS_BODY);
    t->store_records = rd_u64(p + SEGFMT_DOCS_TRAILER_STORE_RECORDS);
    for (int i = 0; i < SEGFMT_DOCS_SECTIONS; i++)
        t->off[i] = rd_u64(p + SEGFMT_DOCS_TRAILER_SECTION_OFF + (size_t)8 * i);
}

/* ---- collapse keys (.docs, between by_id and the trailer; §6.1) ---- */

/* Optional: a segment written before the section existed has by_id ending
 * at the trailer. The section is a head (magic, u32 reserved 0) and then
 * u64[n_docs] keys (common/ckey.h), so its size tells it from damage. */
#define SEGFMT_CKEY_MAGIC "CKEY"
#define SEGFMT_CKEY_HEAD 8
#define SEGFMT_CKEY_ENTRY ((uint64_t)8)

static inline uint64_t segfmt_ckey_size(uint64_t n_docs)
{
    return SEGFMT_CKEY_HEAD + SEGFMT_CKEY_ENTRY * n_docs;
}

/* ---- a stored record's position table (§7.1) ---- */

/* The table's first byte; a reader skips a table of another version. */
#define SEGFMT_POSMAP_VERSION 1

/* ---- facet columns (.docs, between by_id and the collapse keys; §6.2) ---- */

/* Optional like the keys: a head (magic, u32 version, u32 fields, u32 0),
 * then per field (author, category) u32 n_vals, u32 n_ids, u32 pool_len,
 * u32 counts_len; per document its number of ids as a varint (counts_len
 * bytes, zero-padded to a multiple of 4), u32 ids[n_ids], u32 val_off[n_vals
 * + 1] and the values' bytes, zero-padded. The heads give its size, so the
 * keys after it are still found (common/fcol.h reads it). */
#define SEGFMT_FCOL_MAGIC "FCOL"
#define SEGFMT_FCOL_VERSION 1
#define SEGFMT_FCOL_HEAD 16
#define SEGFMT_FCOL_FIELD_HEAD 16

static inline uint64_t segfmt_fcol_pad4(uint64_t n)
{
    return (n + 3) / 4 * 4;
}

/* The bytes of one field, head included. */
static inline uint64_t segfmt_fcol_field_size(uint32_t n_vals, uint32_t n_ids, uint32_t pool_len,
                                              uint32_t counts_len)
{
    return SEGFMT_FCOL_FIELD_HEAD + segfmt_fcol_pad4(counts_len) + 4 * (uint64_t)n_ids +
           4 * ((uint64_t)n_vals + 1) + segfmt_fcol_pad4(pool_len);
}

/* ---- document store (.store): blocks, block table, trailer (§7) ---- */

#define SEGFMT_STORE_ENTRY_SIZE 20
#define SEGFMT_STORE_ENTRY_OFF 0        /* u64, absolute */
#define SEGFMT_STORE_ENTRY_PACKED_LEN 8 /* u32 */
#define SEGFMT_STORE_ENTRY_RAW_LEN 12   /* u32 */
#define SEGFMT_STORE_ENTRY_FIRST_REC 16 /* u32 */

typedef struct segfmt_store_entry {
    uint64_t off;
    uint32_t packed_len, raw_len, first_rec;
} segfmt_store_entry;

static inline void segfmt_store_entry_put(uint8_t *p, const segfmt_store_entry *e)
{
    segfmt_wr_u64(p + SEGFMT_STORE_ENTRY_OFF, e->off);
    segfmt_wr_u32(p + SEGFMT_STORE_ENTRY_PACKED_LEN, e->packed_len);
    segfmt_wr_u32(p + SEGFMT_STORE_ENTRY_RAW_LEN, e->raw_len);
    segfmt_wr_u32(p + SEGFMT_STORE_ENTRY_FIRST_REC, e->first_rec);
}

static inline void segfmt_store_entry_get(const uint8_t *p, segfmt_store_entry *e)
{
    e->off = rd_u64(p + SEGFMT_STORE_ENTRY_OFF);
    e->packed_len = rd_u32(p + SEGFMT_STORE_ENTRY_PACKED_LEN);
    e->raw_len = rd_u32(p + SEGFMT_STORE_ENTRY_RAW_LEN);
    e->first_rec = rd_u32(p + SEGFMT_STORE_ENTRY_FIRST_REC);
}

/* A block's first record number: the key of the binary search over blocks. */
static inline uint32_t segfmt_store_entry_first_rec(const uint8_t *p)
{
    return rd_u32(p + SEGFMT_STORE_ENTRY_FIRST_REC);
}

#define SEGFMT_STORE_TRAILER_SIZE 24
#define SEGFMT_STORE_TRAILER_BLOCKS 0     /* u64 */
#define SEGFMT_STORE_TRAILER_RECORDS 8    /* u64 */
#define SEGFMT_STORE_TRAILER_TABLE_OFF 16 /* u64, absolute */

typedef struct segfmt_store_trailer {
    uint64_t n_blocks, n_records, table_off;
} segfmt_store_trailer;

static inline void segfmt_store_trailer_put(uint8_t *p, const segfmt_store_trailer *t)
{
    segfmt_wr_u64(p + SEGFMT_STORE_TRAILER_BLOCKS, t->n_blocks);
    segfmt_wr_u64(p + SEGFMT_STORE_TRAILER_RECORDS, t->n_records);
    segfmt_wr_u64(p + SEGFMT_STORE_TRAILER_TABLE_OFF, t->table_off);
}

static inline void segfmt_store_trailer_get(const uint8_t *p, segfmt_store_trailer *t)
{
    t->n_blocks = rd_u64(p + SEGFMT_STORE_TRAILER_BLOCKS);
    t->n_records = rd_u64(p + SEGFMT_STORE_TRAILER_RECORDS);
    t->table_off = rd_u64(p + SEGFMT_STORE_TRAILER_TABLE_OFF);
}

#endif
