/* docstore: the zlib-compressed store of articles (<seg>.store).
 *
 * Records (id, title, url, date, author, category, body: each a varint
 * length and the bytes; preceded by the unknown JSON members when there are
 * any) are grouped into blocks of about DOCSTORE_BLOCK raw
 * bytes and each block is deflated on its own, so fetching one article
 * inflates one block. Blocks are built by the analysis workers in parallel
 * (docstore_pack) and appended in order by the build (docstore_add). */
#ifndef IDX_DOCSTORE_H
#define IDX_DOCSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/fields.h"
#include "common/status.h"

/* Bigger blocks compress better, but every fetched article (each search
 * hit's snippet) inflates the records before it in its block and itself,
 * and that is a result page's cost. With blocks of at most 16 KiB (bar a
 * single larger record) that no record joins if it would overflow them, a
 * Wikipedia article (26 KB on average) is first in its own block: on the
 * enwiki sample a hit inflates 27 KB instead of 40 KB (32 KiB blocks closed
 * after the overflow) for a store 1.6% larger (bench/RESULTS.md). */
#define DOCSTORE_BLOCK ((size_t)16 * 1024)

/* zlib level 2: deflating the store was a third of the build's CPU at level
 * 5; on 16 KiB blocks of Wikipedia text level 2 deflates 1.7x as fast for a
 * store about 7% larger (level 1: 1.8x, 10% larger; bench/RESULTS.md). */
#define DOCSTORE_LEVEL 2

/* 1 when a record of rec_len raw bytes (docstore_put_record's fields, or
 * the record's bytes as stored) must start a new block instead of joining
 * the current one of block_len raw bytes. A block that reaches
 * DOCSTORE_BLOCK is closed after its last record as well. */
int docstore_block_full(size_t block_len, size_t rec_len);

/* Appends one record (FIELD_STORED fields in fields.h's FIELD_* order, the
 * extra one empty when there is none) to raw. */
void docstore_put_record(buf *raw, const char *const field[FIELD_STORED],
                         const size_t len[FIELD_STORED]);

/* A record's position table (FORMAT.md §7.1), built while its body is
 * analysed: the body's byte offset of the token at every
 * DOCSTORE_POSMAP_STRIDE-th position, so that a snippet, knowing from the
 * postings where the query's words are, analyses only the passage around
 * them instead of the body up to there. A stride of 32 positions (~200
 * bytes of English) costs ~2 bytes per 32 words (bench/RESULTS.md); bodies
 * of fewer than DOCSTORE_POSMAP_MIN strides get no table (analysing them
 * whole is as cheap as the passage). */
#define DOCSTORE_POSMAP_STRIDE 32
#define DOCSTORE_POSMAP_MIN 4

typedef struct docstore_posmap {
    buf table;         /* version, stride, offset deltas (varints) */
    uint32_t next_pos; /* the position the next entry is for */
    uint32_t last_off; /* the last entry's offset */
    uint32_t n;        /* entries */
} docstore_posmap;

/* Starts the table of a new body (keeps the memory). */
void docstore_posmap_reset(docstore_posmap *m);
/* Records a body token at byte `start` at position pos; tokens come in
 * analysis order. A no-op unless pos >= m->next_pos, so the analysis loop
 * calls it only then. */
void docstore_posmap_token(docstore_posmap *m, uint32_t pos, uint32_t start);
/* The bytes docstore_put_posmap will add to a record (0: none). */
size_t docstore_posmap_size(const docstore_posmap *m);
/* Appends the table's record prefix to raw, before docstore_put_record's
 * fields, when the body was long enough to get one. */
void docstore_put_posmap(buf *raw, const docstore_posmap *m);
void docstore_posmap_free(docstore_posmap *m);

/* A deflate stream kept from block to block: zlib's setup per block (a
 * quarter MiB allocated and cleared) cost more than 10% of the deflating.
 * One per thread; free with docstore_packer_free. */
typedef struct docstore_packer docstore_packer;
int docstore_packer_new(docstore_packer **out, idx_err *err);
void docstore_packer_free(docstore_packer *p);

/* Deflates raw into out (replacing its contents). */
int docstore_packer_pack(docstore_packer *p, const buf *raw, buf *out, idx_err *err);
/* The same with a packer of its own, for the occasional block. */
int docstore_pack(const buf *raw, buf *out, idx_err *err);

typedef struct docstore docstore;

int docstore_create(const char *dir, const char *name, docstore **out, idx_err *err);
/* Appends a block made by docstore_pack holding n_records records. */
int docstore_add(docstore *d, const buf *packed, size_t raw_len, uint32_t n_records, idx_err *err);
/* Writes the block table and trailer, syncs, frees d. */
int docstore_close(docstore *d, idx_err *err);
void docstore_abort(docstore *d);

#endif
