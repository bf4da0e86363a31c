/* The xapian engine's sink: each analysed document goes to a Xapian
 * database (common/xap.h) in <dir>/xapian (or the directory meta names after a
 * compaction), with its stored record whole.
 * A change of an existing index opens its database for update: additions
 * and deletions become visible together at the sink's commit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fields.h"
#include "common/segment.h"
#include "common/xap.h"
#include "indexer/bundle.h"
#include "indexer/docstore.h"
#include "indexer/sink.h"

typedef struct xapian {
    char path[4200];
    xap_writer *xw;
    buf rec;   /* the document's stored record */
    buf pos;   /* one term's positions, uint32_t each */
    int shard; /* the shard layout: keep only shard_i of shard_n */
    uint32_t shard_i, shard_n;
    uint64_t skipped; /* articles of other shards */
} xapian;

static void xapian_abort(void *self)
{
    xapian *s = self;
    if (!s) return;
    xap_writer_abort(s->xw);
    buf_free(&s->rec);
    buf_free(&s->pos);
    free(s);
}

/* Makes s's new database shard cfg->shard_i of cfg->shard_n, recording the
 * analyzer and BM25 settings every shard of a cluster must share. The title
 * weight goes into wdfs, which are whole numbers. */
static int xapian_new_shard(xapian *s, const sink_cfg *cfg, idx_err *err)
{
    double tw = cfg->bm25.title_weight;
    if (tw != floor(tw) || tw > 1000)
        return err_set(err, IDX_EUSAGE,
                       "--shard needs a whole title weight (it multiplies title frequencies), "
                       "not %g",
                       tw);
    char config[XAP_LAYOUT_MAX];
    snprintf(config, sizeof config,
             "k1=%.17g b=%.17g language=%s fold_accents=%d cjk_bigrams=%d max_token_len=%u",
             cfg->bm25.k1, cfg->bm25.b, cfg->ana->language, cfg->ana->fold_accents,
             cfg->ana->cjk_bigrams, cfg->ana->max_token_len);
    return xap_writer_set_shard(s->xw, cfg->shard_i, cfg->shard_n, (uint32_t)tw, config, err);
}

/* An update keeps the database's own shard; a --shard that names another is refused. */
static int xapian_old_shard(xapian *s, const sink_cfg *cfg, idx_err *err)
{
    s->shard = xap_writer_shard(s->xw, &s->shard_i, &s->shard_n);
    if (cfg->shard_n && !s->shard)
        return err_set(err, IDX_EUSAGE, "%s: not a shard (built without --shard)", cfg->dir);
    if (cfg->shard_n && (cfg->shard_i != s->shard_i || cfg->shard_n != s->shard_n))
        return err_set(err, IDX_EUSAGE, "%s: is shard %u/%u, not %u/%u", cfg->dir, s->shard_i,
                       s->shard_n, cfg->shard_i, cfg->shard_n);
    return 0;
}

/* A new database (create), or the existing one of cfg->txn's index (open). */
static int xapian_start(const sink_cfg *cfg, void **self, idx_err *err)
{
    xapian *s = calloc(1, sizeof *s);
    if (!s) return err_set(err, IDX_ENOMEM, "out of memory");
    snprintf(s->path, sizeof s->path, "%s/%s", cfg->dir, XAP_DIR);
    int rc;
    if (cfg->txn) {
        const index_meta *m = &txn_index(cfg->txn)->meta;
        /* idx merge may have compacted the database into another directory */
        snprintf(s->path, sizeof s->path, "%s/%s", cfg->dir, m->database);
        xap_totals cur = {m->docs,  m->tokens_title, m->tokens_body,
                          m->terms, m->postings,     m->positions};
        rc = xap_writer_open(s->path, &cur, &s->xw, err);
        if (!rc) rc = xapian_old_shard(s, cfg, err);
    } else {
        rc = xap_writer_create(s->path, &s->xw, err);
        s->shard = cfg->shard_n > 0;
        s->shard_i = cfg->shard_i;
        s->shard_n = cfg->shard_n;
        if (!rc && s->shard) rc = xapian_new_shard(s, cfg, err);
    }
    if (rc) {
        xapian_abort(s);
        return rc;
    }
    *self = s;
    return 0;
}

/* Document d of b: its stored record, then its bundle's terms and positions. */
static int xapian_add_doc(xapian *s, const batch *b, uint32_t d, int replaced, idx_err *err)
{
    const char *f[FIELD_STORED];
    for (int k = 0; k < FIELD_STORED; k++)
        f[k] = batch_field(b, d, k);
    s->rec.len = 0;
    docstore_put_record(&s->rec, f, b->len[d]);
    if (s->rec.oom) return err_set(err, IDX_ENOMEM, "out of memory");
    int rc = xap_writer_begin(s->xw, f[FIELD_ID], b->len[d][FIELD_ID], s->rec.p, s->rec.len,
                              b->len_title[d], b->len_body[d], b->date[d], replaced, err);
    if (!rc) rc = xap_writer_ckey(s->xw, b->ckey[d], err);
    if (!rc)
        rc = xap_writer_labels(s->xw, f[FIELD_AUTHOR], b->len[d][FIELD_AUTHOR], f[FIELD_CATEGORY],
                               b->len[d][FIELD_CATEGORY], err);
    bundle_iter it;
    bundle_entry e;
    if (!rc && bundle_iter_init(&it, b->bundles.p + b->bundle_off[d],
                                b->bundle_off[d + 1] - b->bundle_off[d]))
        rc = err_set(err, IDX_EINTERNAL, "document bundle undecodable");
    int got = 0;
    while (!rc && (got = bundle_next(&it, &e)) > 0) {
        size_t n = (size_t)e.tf_title + e.tf_body;
        s->pos.len = 0;
        if (buf_reserve(&s->pos, (n + 1) * sizeof(uint32_t)))
            return err_set(err, IDX_ENOMEM, "out of memory");
        uint32_t *pos = (uint32_t *)(void *)s->pos.p;
        if (bundle_positions(&e, pos))
            return err_set(err, IDX_EINTERNAL, "document bundle undecodable");
        rc = xap_writer_term(s->xw, e.term, e.len, field_is_label_term(e.term, e.len), e.tf_title,
                             e.tf_body, pos, err);
    }
    if (!rc && got < 0) rc = err_set(err, IDX_EINTERNAL, "document bundle undecodable");
    return rc ? rc : xap_writer_end(s->xw, err);
}

static int xapian_add(void *self, const batch *b, const uint32_t *docid, const uint8_t *replaced,
                      idx_err *err)
{
    (void)docid; /* Xapian numbers documents itself, in the same order */
    xapian *s = self;
    int rc = 0;
    for (uint32_t d = 0; d < b->n && !rc; d++) {
        if (s->shard && xap_shard_of(batch_field(b, d, FIELD_ID), b->len[d][FIELD_ID],
                                     s->shard_n) != s->shard_i) {
            s->skipped++;
            continue;
        }
        rc = xapian_add_doc(s, b, d, replaced[d], err);
    }
    return rc;
}

static int xapian_delete_id(void *self, const char *id, size_t len, idx_err *err)
{
    xapian *s = self;
    if (s->shard && xap_shard_of(id, len, s->shard_n) != s->shard_i) {
        s->skipped++; /* another shard's article: this one never holds it */
        return 0;
    }
    return xap_writer_delete_id(s->xw, id, len, err);
}

static int xapian_commit(void *self, const doctable *t, index_meta *m, build_summary *sum,
                         idx_err *err)
{
    xapian *s = self;
    (void)t; /* Xapian replaced superseded documents as they came */
    xap_totals xt;
    sum->replaced += xap_writer_removed(s->xw);
    sum->shard_skipped += s->skipped;
    int rc = xap_writer_close(s->xw, &xt, err);
    s->xw = NULL;
    if (!rc) {
        /* For an update the transaction writes meta; these are the values it
         * starts from. */
        index_meta_set_totals(m, &xt);
        sum->index_bytes = xap_disk_size(s->path);
    }
    xapian_abort(s);
    return rc;
}

const sink_ops sink_xapian = {
    "xapian",         0, xapian_start, xapian_add, xapian_commit, xapian_abort, xapian_start,
    xapian_delete_id, 0};
