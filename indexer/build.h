/* build: `idx build` from inputs to a published index directory.
 *
 * Threads: one reader thread parses input into batches; `threads` workers
 * analyse batches (terms, positions, per-document grouping) and deflate
 * their document-store blocks; the calling thread inverts batches in input
 * order (so docids are reproducible), spilling runs within the memory budget,
 * then merges runs into the final segment.
 *
 * Publication is atomic: everything is written into a temporary sibling
 * directory (OUT.tmp-PID), synced, and swapped into place with one rename, so
 * a build killed at any moment leaves the previous index intact. Leftovers of
 * killed builds are removed by the next build.
 *
 * The xapian engine shares everything up to the analysed documents: the
 * calling thread then adds them, in input order, to a Xapian database in the
 * temporary directory instead of inverting them. */
#ifndef IDX_BUILD_H
#define IDX_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "common/analyze.h"
#include "common/bm25.h"
#include "common/status.h"
#include "indexer/reader.h"

typedef struct build_progress {
    uint64_t docs;
    uint64_t bytes_raw;   /* input bytes processed (after decompression) */
    uint64_t bytes_in;    /* input bytes read from disk */
    uint64_t bytes_total; /* input size on disk, for ETA */
    double seconds;
    int merging; /* 1 once input is consumed and runs are being merged */
} build_progress;

typedef enum build_engine {
    BUILD_ENGINE_NATIVE, /* segments (docs/FORMAT.md) */
    BUILD_ENGINE_XAPIAN  /* a Xapian database through common/xap.h (docs/ENGINES.md) */
} build_engine;

typedef struct build_opts {
    const char *out;
    build_engine engine;
    const char *const *inputs;
    size_t n_inputs;
    reader_format format;
    size_t mem_bytes;
    int threads;
    ana_config ana;
    bm25_params bm25;
    /* Callbacks (may be NULL); called from the build's threads, one at a time. */
    reader_warn_fn warn;
    void *warn_ctx;
    void (*progress)(void *ctx, const build_progress *p);
    void *progress_ctx;
} build_opts;

typedef struct build_summary {
    uint64_t docs, skipped, replaced, invalid_utf8;
    uint64_t redirects;     /* wiki redirects and non-article pages, not indexed */
    uint64_t files_skipped; /* unreadable or binary files inside walked directories */
    uint64_t terms, postings, positions;
    uint64_t bytes_raw, bytes_in;
    uint64_t component_bytes[5]; /* per segment file, in seg_file_ext order (native) */
    uint64_t index_bytes;
    uint32_t runs;
    double seconds;
} build_summary;

int build_run(const build_opts *o, build_summary *sum, idx_err *err);

/* Parses an ISO 8601 date prefix (YYYY, YYYY-MM, YYYY-MM-DD...) into
 * YYYYMMDD, missing month/day as 01; 0 if it is not a date. */
uint32_t build_parse_date(const char *s, size_t len);

#endif
