#include "indexer/update.h"

#include <stdlib.h>

#include "common/txn.h"
#include "indexer/doctable.h"
#include "indexer/sink.h"

struct update {
    idx_txn *txn;
    const sink_ops *ops;
    void *sink;
    uint64_t deleted;
};

void update_abort(update *u)
{
    if (!u) return;
    if (u->sink && u->ops) u->ops->abort(u->sink);
    txn_abort(u->txn);
    free(u);
}

int update_begin(const char *dir, update **out, idx_err *err)
{
    *out = NULL;
    update *u = calloc(1, sizeof *u);
    if (!u) return err_set(err, IDX_ENOMEM, "out of memory");
    int rc = txn_begin(dir, &u->txn, err);
    if (rc) {
        free(u);
        return rc;
    }
    const index_meta *m = &txn_index(u->txn)->meta;
    if (!(u->ops = sink_named(m->engine)))
        rc = err_set(err, IDX_EDATA, "%s: engine '%s' is not supported by this build", dir,
                     m->engine);
    /* Nothing is added: the writer needs no memory budget to speak of. */
    sink_cfg cfg = {txn_dir(u->txn), txn_dir(u->txn), 16u << 20, m->bm25, 0, u->txn, 0, 0, &m->ana};
    if (!rc) rc = u->ops->open(&cfg, &u->sink, err);
    if (rc) {
        update_abort(u);
        return rc;
    }
    *out = u;
    return 0;
}

int update_delete_id(update *u, const char *id, size_t len, idx_err *err)
{
    int r = u->ops->delete_id(u->sink, id, len, err);
    if (r > 0) u->deleted++;
    return r;
}

int update_commit(update *u, uint64_t *generation, idx_err *err)
{
    uint64_t current = txn_index(u->txn)->meta.generation;
    if (!u->deleted) { /* no new generation for nothing */
        update_abort(u);
        if (generation) *generation = current;
        return 0;
    }
    doctable none;
    int rc = doctable_init(&none, txn_dir(u->txn), 0, 0, err);
    if (!rc) rc = doctable_finish(&none, err);
    if (rc) {
        doctable_free(&none);
        update_abort(u);
        return rc;
    }
    build_summary bs = {0};
    void *sink = u->sink;
    u->sink = NULL; /* commit frees it */
    rc = u->ops->commit(sink, &none, txn_meta(u->txn), &bs, err);
    doctable_free(&none);
    idx_txn *t = u->txn;
    free(u);
    if (rc) {
        txn_abort(t);
        return rc;
    }
    rc = txn_commit(t, generation, err);
    return rc;
}
