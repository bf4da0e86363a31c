/* index: an index directory as a whole: its meta file and its segments.
 *
 * The meta file (INDEX/meta) is text, one `key value` a line, ending with a
 * `crc32 XXXXXXXX` line over every byte before it, so users can read it and
 * damage is still detected. It records the format version, the engine, the
 * analyzer settings the searcher must reuse, the BM25 parameters the block
 * bounds were computed with, collection statistics and the segment list. */
#ifndef IDX_INDEX_H
#define IDX_INDEX_H

#include <stdint.h>

#include "common/analyze.h"
#include "common/bm25.h"
#include "common/segment.h"
#include "common/status.h"

#define INDEX_FORMAT_VERSION 2 /* 2: skip entries carry sub-block bounds */
#define INDEX_MAX_SEGMENTS 64

typedef struct index_meta {
    int version;
    char engine[16]; /* "native" (or "xapian" later) */
    char language[32];
    ana_config ana; /* ana.language points at `language` */
    bm25_params bm25;
    uint64_t docs, terms, postings, positions;
    uint64_t tokens_title, tokens_body;
    uint32_t n_segments;
    char segment[INDEX_MAX_SEGMENTS][32];
    uint64_t segment_docs[INDEX_MAX_SEGMENTS];
    int64_t created; /* unix seconds */
} index_meta;

/* Writes dir/meta (fsynced). */
int index_meta_write(const char *dir, const index_meta *m, idx_err *err);
/* Reads and verifies dir/meta; IDX_EDATA naming the problem. */
int index_meta_read(const char *dir, index_meta *m, idx_err *err);

typedef struct idx_index {
    index_meta meta;
    seg *segs[INDEX_MAX_SEGMENTS];
    uint32_t n_segs;
    double avg_title, avg_body;
    /* Per segment, per document: 1 / BM25 length norm of the title and of the
     * body (interleaved), for the recorded b and the collection averages.
     * Computed once at open so that scoring a document multiplies instead of
     * dividing; 16 bytes a document. */
    double *inv_norm[INDEX_MAX_SEGMENTS];
} idx_index;

/* Opens an index directory: meta + every segment. Caller frees with index_close. */
int index_open(const char *dir, idx_index **out, idx_err *err);
void index_close(idx_index *ix);

#endif
