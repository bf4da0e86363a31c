/* build: `idx build` from inputs to a published index directory.
 *
 * build_run is a sequence of phases (docs/ARCHITECTURE.md): prepare the
 * temporary directory (publish.h); start the analysis workers (worker.h)
 * and the engine's writer (sink.h, chosen once by engine); read, analyse and
 * hand every batch in input order to the document table (doctable.h) and the
 * sink (ring.h runs the threads); refuse input that would destroy an index;
 * commit the sink and write meta; swap the result into place.
 *
 * A build that accepted no document, whose input lies inside the index it
 * would replace (or the index inside an input directory), or that rejected more than half of its
 * records (unless `force`) fails with IDX_EDATA and leaves the old index untouched. When *stop
 * becomes non-zero (a signal handler sets it), the build stops at the next batch or phase, removes
 * its temporary directory and returns IDX_EINTR.
 *
 * An append (`append`, on an existing index) runs the same phases inside a
 * transaction (common/txn.h) instead of a temporary directory: the engine's
 * sink is opened on the index (sink.h), the analyzer and BM25 settings are
 * the index's (a setting in `given` that differs is IDX_EUSAGE), the same
 * refusals apply, and the commit makes a new generation; a second writer
 * is IDX_EBUSY. A stop before the commit leaves the index as it was. */
#ifndef IDX_BUILD_H
#define IDX_BUILD_H

#include <signal.h>
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

/* Settings the user gave explicitly (build_opts.given): an append must not
 * contradict the index's. */
enum {
    BUILD_GIVEN_ENGINE = 1,
    BUILD_GIVEN_LANGUAGE = 2,
    BUILD_GIVEN_FOLD = 4,
    BUILD_GIVEN_K1 = 8,
    BUILD_GIVEN_B = 16,
    BUILD_GIVEN_TITLE_WEIGHT = 32,
    BUILD_GIVEN_INDEX_FIELD = 64
};

typedef struct build_opts {
    const char *out;
    int append;     /* change `out` in place if it is an index (else build it) */
    unsigned given; /* BUILD_GIVEN_* */
    build_engine engine;
    const char *const *inputs;
    size_t n_inputs;
    reader_format format;
    size_t mem_bytes;
    int threads;
    ana_config ana;
    bm25_params bm25;
    int force; /* publish even if most records were rejected */
    /* JSONL members indexed as user fields (`--index-field`, common/fields.h),
     * in order; borrowed. A name field_user_name_check refuses, a repeated
     * one, more than FIELD_USER_MAX or any with the xapian engine is
     * IDX_EUSAGE; an append takes the index's (a different list given is
     * IDX_EUSAGE). */
    const char *const *index_fields;
    size_t n_index_fields;
    /* xapian engine: build or change shard shard_i of shard_n in the shard
     * layout (docs/ENGINES.md); shard_n 0: no --shard */
    uint32_t shard_i, shard_n;
    /* Tests only: cut a new segment every segment_docs input records
     * (native engine; 0 = one segment). */
    uint32_t segment_docs;
    const volatile sig_atomic_t *stop; /* may be NULL */
    /* Callbacks (may be NULL); called from the build's threads, one at a time. */
    reader_warn_fn warn;
    void *warn_ctx;
    void (*progress)(void *ctx, const build_progress *p);
    void *progress_ctx;
} build_opts;

typedef struct build_summary {
    uint64_t docs, skipped, replaced, invalid_utf8;
    uint64_t redirects;     /* wiki redirects and non-article pages, not indexed */
    int mediawiki;          /* some input was MediaWiki (redirects apply) */
    uint64_t files_skipped; /* unreadable or binary files inside walked directories */
    uint64_t cp1252_bytes;  /* bytes of Windows-1252 files converted to UTF-8 */
    uint64_t dates_dropped; /* dates not understood (the articles kept without one) */
    uint64_t trec_untagged; /* TREC documents whose body came from outside the known tags */
    uint64_t shard_skipped; /* --shard: articles of other shards, not indexed */
    uint64_t terms, postings, positions;
    uint64_t bytes_raw, bytes_in;
    /* Bytes per kind of file the engine wrote (native: per segment file
     * extension, summed over segments; xapian: none), named for the summary. */
    struct {
        const char *name; /* static storage */
        uint64_t bytes;
    } component[8];
    uint32_t n_components;
    uint64_t index_bytes;
    uint32_t runs;
    double seconds;
    int appended;        /* the build changed an existing index in place */
    uint64_t generation; /* the new generation an append committed */
    /* MediaWiki redirects whose titles were added to their target articles,
     * and those whose target is not an article of the input (reader.h). */
    uint64_t redirects_applied, redirects_unresolved;
} build_summary;

/* The options of a plain `idx build -o out inputs...`: default analysis and
 * BM25, --mem 512, a thread per online core, the format detected. */
build_opts build_opts_default(const char *out, const char *const *inputs, size_t n_inputs);

int build_run(const build_opts *o, build_summary *sum, idx_err *err);

/* Parses an ISO 8601 date prefix (YYYY, YYYY-MM, YYYY-MM-DD...) into
 * YYYYMMDD, missing month/day as 01; 0 if it is not a date. */
uint32_t build_parse_date(const char *s, size_t len);

#endif
