/* sink: the engine-specific end of a build, one table of operations per
 * engine. The build orchestration (build.c) picks the table once
 * (sink_for) and calls only through it; everything before (reading,
 * analysis, the document table) is shared by the engines.
 *
 * A sink writes into a directory it is given (the build's temporary one,
 * publish.h). Life cycle: create, then add per analysed batch in input
 * order, then commit, which finishes the engine's files and fills the
 * engine's part of meta and of the summary, or abort after an error. Both
 * commit and abort free the sink; the directory's removal on failure is the
 * caller's.
 *
 * A change of an existing index (idx build --append, idx delete) runs in a
 * transaction (common/txn.h) the caller began: open instead of create, then
 * add and delete_id in any mix, then commit, which makes the changes part of
 * the transaction's next generation, or abort; the caller then commits or
 * aborts the transaction. Native: new segments are written into the index
 * directory under names from the transaction and registered with it, with
 * the deletion of the older copies of their ids. Xapian: the changes go to
 * the database through one Xapian transaction, committed by the sink's
 * commit with the database's totals; the caller's txn_commit then only
 * moves meta to the next generation. */
#ifndef IDX_SINK_H
#define IDX_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "common/bm25.h"
#include "common/index.h"
#include "common/status.h"
#include "common/txn.h"
#include "indexer/build.h"
#include "indexer/doctable.h"
#include "indexer/ring.h"

typedef struct sink_cfg {
    const char *dir;   /* where the engine's files go */
    const char *spill; /* where temporary files go (the build's temporary directory) */
    size_t mem_bytes;  /* working memory the sink may hold before spilling */
    bm25_params bm25;  /* what score bounds are computed with */
    uint32_t seg_docs; /* native: input records per segment; 0 = one segment */
    idx_txn *txn;      /* open: the change of the existing index (dir is its txn_dir) */
    /* xapian: keep only shard shard_i of shard_n (xap_shard_of), in the shard
     * layout; shard_n 0: the oracle layout, or an update's recorded shard. */
    uint32_t shard_i, shard_n;
    const ana_config *ana; /* the analyzer, recorded by the shard layout */
} sink_cfg;

typedef struct sink_ops {
    const char *engine; /* meta's engine name */
    /* The workers deflate docstore blocks into each batch for this sink. */
    int wants_store_blocks;
    int (*create)(const sink_cfg *cfg, void **self, idx_err *err);
    /* Batch b's documents; docid[d] is record d's provisional docid (the
     * doctable's) and replaced[d] 1 if it supersedes an earlier record. */
    int (*add)(void *self, const batch *b, const uint32_t *docid, const uint8_t *replaced,
               idx_err *err);
    /* Finishes the files for the documents of t (superseded ones dropped);
     * fills m's totals and segment list and sum's engine figures. */
    int (*commit)(void *self, const doctable *t, index_meta *m, build_summary *sum, idx_err *err);
    void (*abort)(void *self);

    /* Opens cfg->txn's index for change. Documents added then replace the
     * live ones with their ids; commit adds the documents of the index
     * they replaced to sum->replaced, and m is txn_meta's: native leaves it
     * to txn_commit, xapian sets the totals of its database. */
    int (*open)(const sink_cfg *cfg, void **self, idx_err *err);
    /* Deletes the live document with this id: 1 deleted, 0 none has it. */
    int (*delete_id)(void *self, const char *id, size_t len, idx_err *err);
    /* 1: add's replaced flags are not used (always 0) and the document table
     * resolves duplicates before commit, in bounded memory (doctable.h). */
    int late_duplicates;
} sink_ops;

extern const sink_ops sink_native;
extern const sink_ops sink_xapian;

const sink_ops *sink_for(build_engine engine);
/* The engine called `name` in meta, or NULL when this build has none. */
const sink_ops *sink_named(const char *name);

#endif
