/* engine: the storage engines behind an open index, as one table of
 * operations (docs/ENGINES.md).
 *
 * An index's meta names its engine; index_open looks the name up here once
 * (engine_lookup) and from then on every per-index and per-document
 * operation goes through ix->ops: opening the engine's data, fetching stored
 * articles, finding an id, verifying and describing the files. The table is
 * for those coarse operations only: query evaluation stays engine-specific
 * code (the searcher picks its evaluator by ops->id) and posting cursors are
 * direct calls, never a function pointer per posting.
 *
 * Two engines: "native" (segments, FORMAT.md; engine_native.c) and "xapian"
 * (a Xapian database, engine_xapian.c over xap.h).
 *
 * A hit's document is (segment, docid): for the native engine the segment's
 * number in meta's list and its local docid; for xapian segment 0 and the
 * Xapian docid. An index is a fixed generation of its data: an engine opens
 * what meta lists and nothing later, so a reader holding an idx_index keeps
 * one consistent view however the directory changes after open.
 *
 * Threading: the operations on an open index may be called by several
 * threads at once (the native engine's data is read-only after open; the
 * Xapian database serialises calls inside xap.h). Library code: errors fill
 * the caller's idx_err, nothing is printed. */
#ifndef IDX_ENGINE_H
#define IDX_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/cfile.h"
#include "common/segment.h"
#include "common/status.h"

struct idx_index; /* index.h, which includes this header */

/* Stable identities the searcher switches on; the name is meta's spelling. */
typedef enum engine_id { ENGINE_NATIVE, ENGINE_XAPIAN } engine_id;

/* One part of an index's data, as `idx stats` lists it: a native segment
 * (kind "segment", its files one by one) or a Xapian database (kind
 * "database", one opaque directory). Pointers are valid during the
 * callback only. */
typedef struct engine_part {
    const char *kind;   /* "segment" or "database" */
    const char *name;   /* the segment's name; the database's path */
    const char *detail; /* a short note: "1400 docs", "xapian" */
    uint32_t n_files;   /* component files listed below; 0 for an opaque part */
    const char *const *file_name;
    const uint64_t *file_bytes;
    uint64_t bytes; /* all of the part's files */
} engine_part;

typedef void (*engine_part_fn)(void *ctx, const engine_part *part);

typedef struct engine_ops {
    engine_id id;
    const char *name; /* meta's `engine` value */

    /* Opens the engine's data for ix, whose meta is read: from directory dir,
     * or, when dir is NULL, from the files of src (index_open_mem; an engine
     * that cannot is IDX_EDATA). `where` names the index in messages. On
     * error the caller still calls close. */
    int (*open)(struct idx_index *ix, const char *dir, const cfr_source *src, const char *where,
                idx_err *err);
    /* Releases what open acquired (also after a failed open). */
    void (*close)(struct idx_index *ix);

    /* The stored article; pointers into scratch, valid until it is reused. */
    int (*doc_get)(struct idx_index *ix, uint32_t seg, uint32_t doc, buf *scratch, seg_doc *out,
                   idx_err *err);
    /* The external id (not NUL-terminated; into the index's memory or into
     * scratch); NULL on error. */
    const char *(*doc_id)(struct idx_index *ix, uint32_t seg, uint32_t doc, buf *scratch,
                          size_t *len, idx_err *err);
    /* 1 and (*seg, *doc) when an article has this id (newest segment first),
     * 0 when none has, <0 on error. */
    int (*find_id)(struct idx_index *ix, const char *id, size_t len, uint32_t *seg, uint32_t *doc,
                   idx_err *err);

    /* Full verification of every byte and invariant (`idx check`); the
     * first damage found is the error. */
    int (*check)(struct idx_index *ix, idx_err *err);
    /* Calls fn once per part of the data, in order (`idx stats`). */
    int (*stats)(struct idx_index *ix, engine_part_fn fn, void *ctx, idx_err *err);
} engine_ops;

extern const engine_ops engine_native;
extern const engine_ops engine_xapian;
/* Remote shard-layout databases combined into one (xapian-tcpsrv; the shard
 * list in INDEX/shards, cluster.h); its id is ENGINE_XAPIAN, as Xapian
 * evaluates its queries. In engine_xapian.c. */
extern const engine_ops engine_cluster;

/* The engine called `name` in meta, or NULL when this build has none. */
const engine_ops *engine_lookup(const char *name);

#endif
