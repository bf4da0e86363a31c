#include "indexer/update.h"

#include <string.h>

#include "common/txn.h"
#include "indexer/doctable.h"
#include "indexer/sink.h"

/* The engine's writer, the deletions, and its changes joined to t. */
static int update_delete_in(idx_txn *t, const char *const *ids, size_t n, update_unknown_fn unknown,
                            void *ctx, update_summary *sum, idx_err *err)
{
    idx_index *ix = txn_index(t);
    const sink_ops *ops = sink_named(ix->meta.engine);
    if (!ops)
        return err_set(err, IDX_EDATA, "%s: engine '%s' is not supported by this build", txn_dir(t),
                       ix->meta.engine);
    /* No documents are added: the writer needs no memory budget to speak of. */
    sink_cfg cfg = {txn_dir(t), txn_dir(t), 16u << 20, ix->meta.bm25, 0, t};
    void *sink;
    int rc = ops->open(&cfg, &sink, err);
    if (rc) return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        int r = ops->delete_id(sink, ids[i], strlen(ids[i]), err);
        if (r < 0) {
            rc = r;
        } else if (r) {
            sum->deleted++;
        } else {
            sum->unknown++;
            if (unknown) unknown(ctx, ids[i]);
        }
    }
    if (rc) {
        ops->abort(sink);
        return rc;
    }
    doctable none;
    if (doctable_init(&none)) {
        ops->abort(sink);
        return err_set(err, IDX_ENOMEM, "out of memory");
    }
    index_meta m = ix->meta;
    build_summary bs = {0};
    rc = ops->commit(sink, &none, &m, &bs, err);
    doctable_free(&none);
    return rc;
}

int update_delete(const char *dir, const char *const *ids, size_t n, update_unknown_fn unknown,
                  void *ctx, update_summary *sum, idx_err *err)
{
    memset(sum, 0, sizeof *sum);
    idx_txn *t;
    int rc = txn_begin(dir, &t, err);
    if (rc) return rc;
    rc = update_delete_in(t, ids, n, unknown, ctx, sum, err);
    if (rc) {
        txn_abort(t);
        return rc;
    }
    rc = txn_commit(t, &sum->generation, err);
    /* merge_auto: wired when indexer/merge lands */
    return rc;
}
