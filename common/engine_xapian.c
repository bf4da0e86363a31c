/* The xapian engine (engine.h): a Xapian database in INDEX/xapian, no
 * segments (docs/ENGINES.md). Stored articles are the Xapian documents' data,
 * in the native store's record format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cluster.h"
#include "common/engine.h"
#include "common/index.h"
#include "common/xap.h"

/* The database's directory; ix->dir is set, as a xapian index only opens from one. */
static void xapian_path(const idx_index *ix, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", ix->dir, ix->meta.database);
}

/* The database, which must hold the documents its totals count. The
 * totals come from the database's metadata, committed with the documents,
 * so a reader sees statistics matching the documents even while an update
 * commits (meta's copy is informational, and stale after a crash between
 * the Xapian commit and meta's); a database without them (built before
 * they were kept there) goes by meta. */
static int xapian_open(idx_index *ix, const char *dir, const cfr_source *src, const char *where,
                       idx_err *err)
{
    (void)src;
    if (!dir)
        return err_set(err, IDX_EDATA, "%s: a xapian index cannot be opened from memory", where);
    if (ix->meta.n_segments)
        return err_set(err, IDX_EDATA, "%s/meta: a xapian index lists segments", dir);
    char path[4200];
    xapian_path(ix, path, sizeof path);
    uint64_t n = 0;
    xap_totals t = {0};
    int rc = xap_open(path, &ix->xap, err);
    if (!rc) rc = xap_doccount(ix->xap, &n, err);
    int have = rc ? rc : xap_db_totals(ix->xap, &t, err);
    if (have < 0) return have;
    if (have) {
        index_meta_set_totals(&ix->meta, &t);
        ix->avg_title = t.docs ? (double)t.tokens_title / (double)t.docs : 0;
        ix->avg_body = t.docs ? (double)t.tokens_body / (double)t.docs : 0;
    }
    if (n != ix->meta.docs)
        rc = err_set(err, IDX_EDATA, "%s: holds %llu documents, %s says %llu", path,
                     (unsigned long long)n, have ? "its metadata" : "meta",
                     (unsigned long long)ix->meta.docs);
    return rc;
}

static void xapian_close(idx_index *ix)
{
    xap_close(ix->xap);
}

static int xapian_doc_get(idx_index *ix, uint32_t seg, uint32_t doc, buf *scratch, seg_doc *out,
                          idx_err *err)
{
    (void)seg;
    int rc = xap_doc_data(ix->xap, doc, scratch, err);
    if (!rc && seg_record_parse(scratch->p, scratch->len, out) != scratch->len)
        rc = err_set(err, IDX_EDATA, "xapian document %u: stored record undecodable", doc);
    return rc;
}

static const char *xapian_doc_id(idx_index *ix, uint32_t seg, uint32_t doc, buf *scratch,
                                 size_t *len, idx_err *err)
{
    seg_doc d;
    if (xapian_doc_get(ix, seg, doc, scratch, &d, err)) return NULL;
    *len = d.len[FIELD_ID];
    return d.field[FIELD_ID];
}

static int xapian_find_id(idx_index *ix, const char *id, size_t len, uint32_t *seg, uint32_t *doc,
                          idx_err *err)
{
    *seg = 0;
    return xap_find_id(ix->xap, id, len, doc, err);
}

static int xapian_check(idx_index *ix, idx_err *err)
{
    /* index_open has matched meta's document count with the database. */
    char path[4200];
    xapian_path(ix, path, sizeof path);
    return xap_check(path, err);
}

static int xapian_stats(idx_index *ix, engine_part_fn fn, void *ctx, idx_err *err)
{
    (void)err;
    char path[4200];
    xapian_path(ix, path, sizeof path);
    engine_part p = {"database", path, "xapian", 0, NULL, NULL, xap_disk_size(path)};
    fn(ctx, &p);
    return 0;
}

/* A cluster: its shards connected and checked to hold the shard layout.
 * Documents come and go on the shards, so the live count replaces meta's. */
static int cluster_open(idx_index *ix, const char *dir, const cfr_source *src, const char *where,
                        idx_err *err)
{
    (void)src;
    if (!dir) return err_set(err, IDX_EDATA, "%s: a cluster cannot be opened from memory", where);
    cluster_list *c = malloc(sizeof *c);
    if (!c) return err_set(err, IDX_ENOMEM, "out of memory");
    int rc = cluster_read(dir, c, err);
    const char *spec[CLUSTER_MAX_SHARDS];
    for (uint32_t i = 0; !rc && i < c->n; i++)
        spec[i] = c->spec[i];
    if (!rc) rc = xap_open_remote(spec, c->n, c->timeout_ms, c->connect_ms, &ix->xap, err);
    free(c);
    char layout[XAP_LAYOUT_MAX];
    if (!rc) rc = xap_db_layout(ix->xap, layout, err);
    if (!rc && strncmp(layout, "shard ", 6))
        rc = err_set(err, IDX_EDATA, "%s: its first shard does not have the shard layout", dir);
    uint64_t n = 0;
    if (!rc) rc = xap_doccount(ix->xap, &n, err);
    ix->meta.docs = n;
    return rc;
}

/* Xapian's check reads the database's files, which are on the shards' machines. */
static int cluster_check(idx_index *ix, idx_err *err)
{
    return err_set(err, IDX_EUSAGE, "%s: a cluster is checked shard by shard (idx check on each)",
                   ix->dir);
}

static int cluster_stats(idx_index *ix, engine_part_fn fn, void *ctx, idx_err *err)
{
    cluster_list *c = malloc(sizeof *c);
    if (!c) return err_set(err, IDX_ENOMEM, "out of memory");
    int rc = cluster_read(ix->dir, c, err);
    for (uint32_t i = 0; !rc && i < c->n; i++) {
        engine_part p = {"shard", c->spec[i], "xapian-tcpsrv", 0, NULL, NULL, 0};
        fn(ctx, &p);
    }
    free(c);
    return rc;
}

const engine_ops engine_cluster = {ENGINE_XAPIAN,  "cluster",      cluster_open,
                                   xapian_close,   xapian_doc_get, xapian_doc_id,
                                   xapian_find_id, cluster_check,  cluster_stats};

const engine_ops engine_xapian = {ENGINE_XAPIAN,  "xapian",       xapian_open,
                                  xapian_close,   xapian_doc_get, xapian_doc_id,
                                  xapian_find_id, xapian_check,   xapian_stats};
