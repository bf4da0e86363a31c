/* index: an index directory as a whole: its meta file and its segments.
 *
 * The meta file (INDEX/meta) is text, one `key value` a line, ending with a
 * `crc32 XXXXXXXX` line over every byte before it, so users can read it and
 * damage is still detected. It records the format version, the engine, the
 * analyzer settings the searcher must reuse, the BM25 parameters the block
 * bounds were computed with, collection statistics and the segment list.
 *
 * Two engines (docs/ENGINES.md): "native" (segments, FORMAT.md) and
 * "xapian" (a Xapian database in INDEX/xapian, no segments). index_open
 * selects the engine's operations (engine.h) by meta's `engine` line, and
 * the index_doc_* and index_find_id calls go through them, so callers never
 * look at the engine.
 *
 * Generations (docs/FORMAT.md): meta names the current generation, its
 * segments and each one's deletion file; a change writes a new meta beside
 * the old one and renames it into place (txn.h). index_open reads one meta
 * and opens exactly what it lists; when a file it lists has vanished because
 * a newer generation replaced it meanwhile, it starts over with the new meta. */
#ifndef IDX_INDEX_H
#define IDX_INDEX_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/analyze.h"
#include "common/bm25.h"
#include "common/engine.h"
#include "common/fields.h"
#include "common/segment.h"
#include "common/status.h"
#include "common/xap.h"

/* 2: skip entries carry sub-block bounds; 3: generations and deletion files;
 * 4: segments may carry collapse keys in `.docs` (FORMAT.md §6.1), which a
 * version 3 reader would take for damage. Versions 2 and 3 stay readable
 * (version 2: generation 0, no deletions). */
#define INDEX_FORMAT_VERSION 5
#define INDEX_FORMAT_OLDEST 2
#define INDEX_MAX_SEGMENTS 64
#define INDEX_META_MAX 8192 /* bytes; a longer meta file is damaged */

/* What the analyzer makes of text, beyond the settings meta records: raise it
 * whenever the same text and settings would give other terms (FORMAT.md §8).
 * 1: ligatures folded, elisions stripped, CJK unigrams indexed, label values
 * analysed one by one. 0: a meta without the key (an older idx). */
#define INDEX_ANALYZER_VERSION 1

typedef struct index_meta {
    int version;
    char engine[16]; /* "native" or "xapian" */
    /* xapian: the database's directory in the index: XAP_DIR, or the one
     * idx merge compacted it into (meta key `database`, absent for XAP_DIR) */
    char database[32];
    char language[32];
    ana_config ana;            /* ana.language points at `language` */
    unsigned analyzer_version; /* INDEX_ANALYZER_VERSION of the build that made it */
    bm25_params bm25;
    /* The user fields (`index.field NAME` lines, fields.h): field[i] has the
     * term prefix of user field i + 1. */
    uint32_t n_fields;
    char field[FIELD_USER_MAX][FIELD_USER_NAME_MAX];
    uint64_t generation; /* 0 for a version 2 index */
    /* live documents and their tokens; terms, postings and positions are the
     * segment files' sums (deleted documents included until merged away) */
    uint64_t docs, terms, postings, positions;
    uint64_t tokens_title, tokens_body;
    uint32_t n_segments;
    char segment[INDEX_MAX_SEGMENTS][32];
    uint64_t segment_docs[INDEX_MAX_SEGMENTS];    /* documents in the segment's files */
    uint64_t segment_deleted[INDEX_MAX_SEGMENTS]; /* of them deleted */
    char segment_del[INDEX_MAX_SEGMENTS][48];     /* deletion file; "" when none deleted */
    int64_t created;                              /* unix seconds */
} index_meta;

/* Writes dir/meta atomically: a temporary file, fsynced, renamed over meta,
 * the directory fsynced. Always the current format version. */
int index_meta_write(const char *dir, const index_meta *m, idx_err *err);
/* Reads and verifies dir/meta; IDX_EDATA naming the problem. */
int index_meta_read(const char *dir, index_meta *m, idx_err *err);

/* A Xapian database's collection totals (kept in its metadata, committed
 * with its documents) as m's counts. */
void index_meta_set_totals(index_meta *m, const xap_totals *t);

#define INDEX_DATE_CHUNK 1024

typedef struct idx_index {
    index_meta meta;
    const engine_ops *ops; /* the engine meta names (ops->id selects the query evaluator) */
    char *dir;             /* the directory opened; NULL when opened from memory */
    seg *segs[INDEX_MAX_SEGMENTS];
    uint32_t n_segs;
    double avg_title, avg_body;
    /* Per segment, per document: 1 / BM25 length norm of the title and of the
     * body (interleaved), for the recorded b and the collection averages.
     * Computed once at open so that scoring a document multiplies instead of
     * dividing; 16 bytes a document. */
    double *inv_norm[INDEX_MAX_SEGMENTS];
    /* Per segment: its deleted documents (deletes.h bitmap; NULL when none)
     * and the factor R >= 1 its stored score bounds are multiplied by to
     * bound scores under the collection's average lengths (FORMAT.md,
     * "Deletions"; 1 for a lone segment without deletions). */
    uint64_t *deleted[INDEX_MAX_SEGMENTS];
    double bound_scale[INDEX_MAX_SEGMENTS];
    /* Per segment, per run of INDEX_DATE_CHUNK documents: the lowest and
     * highest date and the number of undated documents (three u32 each).
     * Built on the first date-sorted search (searcher/match_sort.c), which
     * publishes it with one compare-and-swap so that threads sharing the
     * index need no lock; NULL until then; freed by index_close. */
    _Atomic(uint32_t *) date_chunks[INDEX_MAX_SEGMENTS];
    /* Per segment: the facet columns (searcher/facets.c: each document's
     * author and category value ids and month), one malloc'd block built
     * and published the same way on the first facet count; freed by
     * index_close. */
    _Atomic(void *) facet_cols[INDEX_MAX_SEGMENTS];
    /* Whether two documents share a collapse key (common/ckey.h): 0 not yet
     * known, 1 yes (or not checked), 2 no. Worked out by the first
     * collapsing search (searcher/match_root.c), which then skips reading
     * keys on a collection without copies. */
    _Atomic(int) ckeys_repeat;
    /* The engines' data, filled by ops->open: native: segs, n_segs,
     * inv_norm, deleted and bound_scale; xapian: xap (n_segs is 0). */
    xap_db *xap;
} idx_index;

/* Opens an index directory: meta, then the engine's data (every segment,
 * or the Xapian database). An engine this build does not have is IDX_EDATA.
 * Caller frees with index_close. */
int index_open(const char *dir, idx_index **out, idx_err *err);
/* The same from files in memory (cfile.h: "meta", "s0001.lex", ...), which
 * must outlive the index; `name` stands for the directory in messages.
 * Native engine only (others are IDX_EDATA). */
int index_open_mem(const cfr_source *src, const char *name, idx_index **out, idx_err *err);
void index_close(idx_index *ix);

/* Creates the analyzer the index was built with (the caller frees it with
 * ana_free). A configuration this build cannot honour, such as an unknown
 * stemming language, is IDX_EDATA: the index is damaged, or was made by a
 * build with other stemmers. */
int index_ana_new(const idx_index *ix, ana **out, idx_err *err);

/* A hit's document: (segment, docid) for the native engine, (0, Xapian
 * docid) for the xapian one, as match_hit gives them (engine.h). */

/* The stored article; pointers into `scratch`, valid until it is reused. */
int index_doc_get(idx_index *ix, uint32_t seg, uint32_t doc, buf *scratch, seg_doc *out,
                  idx_err *err);

/* The external id (not NUL-terminated; into the index's memory or into
 * `scratch`, valid until either changes); NULL on error. */
const char *index_doc_id(idx_index *ix, uint32_t seg, uint32_t doc, buf *scratch, size_t *len,
                         idx_err *err);

/* 1 and (*seg, *doc) when a live article has this id (the newest segment
 * first: a later record replaces older ones; deleted documents are skipped),
 * 0 when none has, <0 on error. */
int index_find_id(idx_index *ix, const char *id, size_t len, uint32_t *seg, uint32_t *doc,
                  idx_err *err);

/* Verifies every byte and invariant of the index's data (`idx check`). */
int index_check(idx_index *ix, idx_err *err);

/* Describes the index's data part by part (`idx stats`): fn is called once
 * per segment or database, in order. */
int index_stats(idx_index *ix, engine_part_fn fn, void *ctx, idx_err *err);

#endif
