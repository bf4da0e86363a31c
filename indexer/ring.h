/* ring: the threads of a build and the batches that travel between them.
 *
 * One reader thread parses input records into batches; `n_workers` threads
 * analyse them (a work callback, worker.h); the calling thread takes them
 * back in input order through ring_next, so docids are reproducible. The
 * ring has a fixed number of slots: the reader waits while every slot is
 * read but not yet consumed, which bounds memory whatever the speed of each
 * side (backpressure).
 *
 * Ownership: the ring owns the batches; a batch returned by ring_next is the
 * caller's until ring_release. Threads: ring_next/ring_release/ring_finish
 * from one thread only. */
#ifndef IDX_RING_H
#define IDX_RING_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/fields.h"
#include "common/status.h"
#include "indexer/bundle.h"
#include "indexer/reader.h"

#define RING_BATCH_BYTES (1u << 20) /* input text per batch */
#define RING_BATCH_DOCS 2048u

/* Records per batch, fields in fields.h's FIELD_* order. */
typedef struct batch {
    uint64_t seq;
    uint64_t first; /* input record number of the batch's first record */
    /* filled by the reader */
    buf text; /* all fields of all records, back to back */
    uint32_t n;
    size_t (*off)[FIELD_BATCH]; /* per record, field offsets into text */
    size_t (*len)[FIELD_BATCH];
    size_t cap;
    /* filled by a worker (worker.h) */
    buf bundles;        /* per record: a document bundle (bundle.h) */
    bundle_vocab vocab; /* the bundles' term ids */
    size_t *bundle_off; /* n + 1 offsets */
    uint32_t *len_title, *len_body, *date;
    uint64_t *ckey; /* collapse keys (common/ckey.h) */
    buf store;      /* deflated store blocks, back to back */
    buf store_meta; /* per block: u32 packed len, u32 raw len, u32 records */
    uint64_t invalid_utf8;
    /* ring state */
    int state; /* 0 free, 1 read, 2 working, 3 done */
    int rc;
    idx_err err;
} batch;

/* Record d's field k (NUL-free view into b->text; "" when b holds no text). */
static inline const char *batch_field(const batch *b, uint32_t d, int k)
{
    return b->text.p ? (const char *)b->text.p + b->off[d][k] : "";
}

/* Analyses b in place; called from worker threads, ctx[i] for worker i only. */
typedef int (*ring_work_fn)(void *ctx, batch *b, idx_err *err);

typedef struct ring ring;

/* Starts the reader thread on rd (which must outlive the ring) and n_workers
 * threads calling work(ctx[i], ...). */
int ring_start(reader *rd, int n_workers, ring_work_fn work, void *const *ctx, ring **out,
               idx_err *err);

/* Slots in the ring: what the batches in flight cost in memory. */
size_t ring_slots(int n_workers);

/* 1 and the next analysed batch in input order, 0 at the end of input, or
 * a worker's error. */
int ring_next(ring *r, batch **out, idx_err *err);
void ring_release(ring *r, batch *b);

/* Stops the threads (at once if rc, the caller's status, is an error) and
 * frees the ring. Returns rc, or the reader's error if rc is 0. */
int ring_finish(ring *r, int rc, idx_err *err);

#endif
