#include "indexer/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/index.h"
#include "common/txn.h"
#include "indexer/doctable.h"
#include "indexer/publish.h"
#include "indexer/ring.h"
#include "indexer/sink.h"
#include "indexer/worker.h"

uint32_t build_parse_date(const char *s, size_t len)
{
    unsigned y = 0, m = 1, d = 1;
    size_t i = 0;
    for (; i < 4; i++) {
        if (i >= len || s[i] < '0' || s[i] > '9') return 0;
        y = y * 10 + (unsigned)(s[i] - '0');
    }
    if (len >= 7 && s[4] == '-' && s[5] >= '0' && s[5] <= '9' && s[6] >= '0' && s[6] <= '9') {
        m = (unsigned)(s[5] - '0') * 10 + (unsigned)(s[6] - '0');
        if (len >= 10 && s[7] == '-' && s[8] >= '0' && s[8] <= '9' && s[9] >= '0' && s[9] <= '9')
            d = (unsigned)(s[8] - '0') * 10 + (unsigned)(s[9] - '0');
    }
    if (m < 1 || m > 12 || d < 1 || d > 31) return 0;
    return y * 10000 + m * 100 + d;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The state of one build, so that every phase can fail and one place frees. */
typedef struct build {
    const build_opts *o;
    const sink_ops *ops;
    void *sink;
    publish pub;
    idx_txn *txn; /* an append: the change of the existing index */
    /* The settings in force: the options', or the appended index's. */
    ana_config ana;
    bm25_params bm25;
    char language[32];
    /* The user fields in force (the options', or the appended index's). */
    char field[FIELD_USER_MAX][FIELD_USER_NAME_MAX];
    const char *fields[FIELD_USER_MAX];
    size_t n_fields;
    reader *rd;
    worker **ws;
    int nw;
    doctable docs;
    uint32_t seg_docs; /* input records per segment (sink_cfg.seg_docs) */
    uint64_t invalid_utf8;
    double t0;
} build;

static int build_stopped(const build *bd, idx_err *err)
{
    const volatile sig_atomic_t *stop = bd->o->stop;
    return stop && *stop ? err_set(err, IDX_EINTR, "interrupted") : 0;
}

static void build_report(const build *bd, int merging)
{
    const reader_stats *rs = reader_get_stats(bd->rd);
    build_progress p = {bd->docs.n,      rs->bytes_raw,          rs->bytes_in,
                        rs->bytes_total, now_seconds() - bd->t0, merging};
    bd->o->progress(bd->o->progress_ctx, &p);
}

/* Whether the user fields `names` are the index's, in the same order. */
static int build_same_fields(const char *const *names, size_t n, const index_meta *m)
{
    if (n != m->n_fields) return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], m->field[i])) return 0;
    return 1;
}

/* Takes the user fields of a new index from the options, refusing what
 * could not be searched as NAME: (build.h). */
static int build_fields(build *bd, idx_err *err)
{
    const build_opts *o = bd->o;
    if (o->n_index_fields > FIELD_USER_MAX)
        return err_set(err, IDX_EUSAGE, "--index-field: at most %d fields", FIELD_USER_MAX);
    if (o->n_index_fields && !strcmp(bd->ops->engine, "xapian"))
        return err_set(err, IDX_EUSAGE, "--index-field is not available with the xapian engine");
    for (size_t i = 0; i < o->n_index_fields; i++) {
        const char *name = o->index_fields[i];
        int bad = field_user_name_check(name);
        if (bad)
            return err_set(err, IDX_EUSAGE, "--index-field %s: %s", name,
                           bad == -1 ? "a field idx knows already"
                                     : "a name must be [a-z][a-z0-9_]*, at most 31 bytes");
        for (size_t k = 0; k < i; k++)
            if (!strcmp(name, bd->field[k]))
                return err_set(err, IDX_EUSAGE, "--index-field %s: given twice", name);
        memcpy(bd->field[i], name, strlen(name) + 1);
        bd->fields[i] = bd->field[i];
    }
    bd->n_fields = o->n_index_fields;
    return 0;
}

/* An explicit setting that differs from the appended index's. */
static int build_contradicts(const build *bd, const index_meta *m, idx_err *err)
{
    const build_opts *o = bd->o;
    const char *what = NULL;
    if ((o->given & BUILD_GIVEN_ENGINE) && strcmp(sink_for(o->engine)->engine, m->engine))
        what = "--engine";
    else if ((o->given & BUILD_GIVEN_LANGUAGE) && strcasecmp(o->ana.language, m->language))
        what = "--language";
    else if ((o->given & BUILD_GIVEN_FOLD) && o->ana.fold_accents != m->ana.fold_accents)
        what = "--no-accent-folding";
    else if ((o->given & BUILD_GIVEN_K1) && o->bm25.k1 != m->bm25.k1)
        what = "--k1";
    else if ((o->given & BUILD_GIVEN_B) && o->bm25.b != m->bm25.b)
        what = "--b";
    else if ((o->given & BUILD_GIVEN_TITLE_WEIGHT) && o->bm25.title_weight != m->bm25.title_weight)
        what = "--title-weight";
    if (!what && (o->given & BUILD_GIVEN_INDEX_FIELD) &&
        !build_same_fields(o->index_fields, o->n_index_fields, m)) {
        char list[FIELD_USER_MAX * FIELD_USER_NAME_MAX] = "";
        for (uint32_t i = 0; i < m->n_fields; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), " %s", m->field[i]);
        return err_set(err, IDX_EUSAGE,
                       "--index-field contradicts the fields of %s (index fields:%s): an append "
                       "uses the index's",
                       bd->pub.out, m->n_fields ? list : " none");
    }
    if (!what) return 0;
    return err_set(err, IDX_EUSAGE,
                   "%s contradicts the settings of %s (engine %s, language %s, accent folding "
                   "%s, k1 %g, b %g, title weight %g): an append uses the index's",
                   what, bd->pub.out, m->engine, m->language, m->ana.fold_accents ? "on" : "off",
                   m->bm25.k1, m->bm25.b, m->bm25.title_weight);
}

/* Phase 0: the temporary directory (publish.h) and the settings in force.
 * A fresh build writes the index there; an append to an existing index only
 * its scratch files, and locks the index and takes its engine, analyzer and
 * BM25 settings. */
static int build_prepare(build *bd, idx_err *err)
{
    const build_opts *o = bd->o;
    bd->ana = o->ana;
    bd->bm25 = o->bm25;
    char meta[4096 + 8];
    snprintf(meta, sizeof meta, "%s/meta", o->out);
    int append = o->append && !access(meta, F_OK);
    int rc = publish_begin(&bd->pub, o->out, err);
    if (!rc && append) rc = txn_begin(bd->pub.out, &bd->txn, err);
    if (!rc && !append) rc = build_fields(bd, err);
    if (rc || !append) return rc;
    const index_meta *m = &txn_index(bd->txn)->meta;
    if (!(bd->ops = sink_named(m->engine)))
        return err_set(err, IDX_EDATA, "%s: engine '%s' is not supported by this build",
                       bd->pub.out, m->engine);
    rc = build_contradicts(bd, m, err);
    /* The new articles' terms would not be the old ones' for the same words:
     * queries would find either kind but not both. */
    if (!rc && m->analyzer_version != INDEX_ANALYZER_VERSION)
        rc = err_set(err, IDX_EUSAGE,
                     "%s was analysed by another version of idx (analyzer version %u, this "
                     "one %u): rebuild it (without --append) to add articles",
                     bd->pub.out, m->analyzer_version, INDEX_ANALYZER_VERSION);
    bd->ana = m->ana;
    snprintf(bd->language, sizeof bd->language, "%s", m->language);
    bd->ana.language = bd->language;
    bd->bm25 = m->bm25;
    memcpy(bd->field, m->field, sizeof bd->field);
    for (uint32_t i = 0; i < m->n_fields; i++)
        bd->fields[i] = bd->field[i];
    bd->n_fields = m->n_fields;
    return rc;
}

/* Phase 1: analysis workers, one per thread. */
static int build_workers(build *bd, idx_err *err)
{
    const build_opts *o = bd->o;
    bd->nw = o->threads > 0 ? o->threads : 1;
    bd->ws = calloc((size_t)bd->nw, sizeof *bd->ws);
    if (!bd->ws) return err_set(err, IDX_ENOMEM, "out of memory");
    worker_cfg wc = {&bd->ana, bd->ops->wants_store_blocks, bd->seg_docs};
    int rc = 0;
    for (int i = 0; i < bd->nw && !rc; i++)
        rc = worker_new(&wc, &bd->ws[i], err);
    return rc;
}

/* Commit-time state per document of the segment being written, rounded up
 * from sink_native.c's arrays and segwrite's (about 70 bytes) plus an id. */
#define BUILD_DOC_STATE_BYTES 128
/* The ids are looked up in memory (and duplicates reported as they come)
 * until their map takes this fraction of --mem (doctable.h). */
#define BUILD_ID_MAP_SHARE 16

/* The document table, in the temporary directory, and the segments' size:
 * the per-document state of the segment being written at commit is held in
 * a quarter of --mem, the reserve the batches in flight no longer use by
 * then. */
static int build_doctable(build *bd, idx_err *err)
{
    const build_opts *o = bd->o;
    uint64_t span = o->mem_bytes / 4 / BUILD_DOC_STATE_BYTES;
    bd->seg_docs = o->segment_docs ? o->segment_docs : (uint32_t)(span ? span : 1);
    return doctable_init(&bd->docs, bd->pub.tmp, !bd->ops->late_duplicates,
                         o->mem_bytes / BUILD_ID_MAP_SHARE, err);
}

/* Phase 2: the sink, within the memory left by the batches in flight. */
static int build_sink(build *bd, idx_err *err)
{
    const build_opts *o = bd->o;
    /* The batches in flight and the document table live outside the
     * inverter's budget; keep a reserve for them. */
    size_t reserve = ring_slots(bd->nw) * 6 * RING_BATCH_BYTES + (16u << 20);
    size_t budget = o->mem_bytes > reserve + (16u << 20) ? o->mem_bytes - reserve : (16u << 20);
    if (!bd->txn) {
        sink_cfg cfg = {bd->pub.tmp, bd->pub.tmp, budget,     bd->bm25, bd->seg_docs,
                        NULL,        o->shard_i,  o->shard_n, &bd->ana};
        return bd->ops->create(&cfg, &bd->sink, err);
    }
    sink_cfg cfg = {txn_dir(bd->txn), bd->pub.tmp, budget,     bd->bm25, bd->seg_docs,
                    bd->txn,          o->shard_i,  o->shard_n, &bd->ana};
    return bd->ops->open(&cfg, &bd->sink, err);
}

/* Hands one analysed batch, in input order, to the document table and the sink. */
static int build_batch(build *bd, const batch *b, idx_err *err)
{
    uint32_t docid[RING_BATCH_DOCS];
    uint8_t replaced[RING_BATCH_DOCS];
    for (uint32_t d = 0; d < b->n; d++) {
        int rep;
        doctable_labels labels = {batch_field(b, d, FIELD_AUTHOR),
                                  batch_field(b, d, FIELD_CATEGORY), b->len[d][FIELD_AUTHOR],
                                  b->len[d][FIELD_CATEGORY]};
        int rc = doctable_add(&bd->docs, batch_field(b, d, FIELD_ID), b->len[d][FIELD_ID],
                              b->len_title[d], b->len_body[d], b->date[d], b->ckey[d], &labels,
                              &docid[d], &rep, err);
        if (rc) return rc;
        replaced[d] = (uint8_t)rep;
    }
    bd->invalid_utf8 += b->invalid_utf8;
    return bd->ops->add(bd->sink, b, docid, replaced, err);
}

/* Phase 3: read, analyse and hand over every record. */
static int build_consume(build *bd, idx_err *err)
{
    /* The redirect table comes on top of --mem, bounded by as much again. */
    reader_set_alias_limit(bd->rd, bd->o->mem_bytes);
    reader_set_index_fields(bd->rd, bd->fields, bd->n_fields);
    ring *r;
    int rc = ring_start(bd->rd, bd->nw, worker_batch, (void *const *)bd->ws, &r, err);
    if (rc) return rc;
    double last_progress = 0;
    batch *b;
    while (!rc && (rc = ring_next(r, &b, err)) > 0) {
        rc = build_batch(bd, b, err);
        ring_release(r, b);
        if (!rc) rc = build_stopped(bd, err);
        double t = now_seconds();
        if (!rc && bd->o->progress && t - last_progress > 0.5) {
            last_progress = t;
            build_report(bd, 0);
        }
    }
    return ring_finish(r, rc, err);
}

/* Phase 4: refuse input that would replace an index with a wrong one. */
static int build_accept(build *bd, idx_err *err)
{
    const reader_stats *rs = reader_get_stats(bd->rd);
    if (bd->docs.n == 0)
        return err_set(err, IDX_EDATA, "no document accepted from the input; %s left unchanged",
                       bd->pub.out);
    if (rs->skipped > rs->records && !bd->o->force)
        return err_set(err, IDX_EDATA,
                       "%llu of %llu records rejected (wrong --format?); %s left unchanged "
                       "(--force builds anyway)",
                       (unsigned long long)rs->skipped,
                       (unsigned long long)(rs->skipped + rs->records), bd->pub.out);
    return 0;
}

/* Phase 5 of an append: the sink's changes join the transaction, which
 * commits the next generation. */
static int build_commit_append(build *bd, build_summary *sum, idx_err *err)
{
    void *sink = bd->sink;
    bd->sink = NULL; /* commit frees it */
    int rc = bd->ops->commit(sink, &bd->docs, txn_meta(bd->txn), sum, err);
    idx_txn *t = bd->txn;
    bd->txn = NULL; /* commit or abort frees it */
    if (rc) {
        txn_abort(t);
        return rc;
    }
    rc = txn_commit(t, &sum->generation, err);
    sum->appended = 1;
    sum->docs = doctable_live(&bd->docs);
    return rc;
}

/* Phase 5: the sink finishes its files; meta records what they hold. */
static int build_commit(build *bd, build_summary *sum, idx_err *err)
{
    int rc = doctable_finish(&bd->docs, err);
    if (rc) return rc;
    sum->replaced += bd->docs.n_superseded;
    if (bd->txn) return build_commit_append(bd, sum, err);
    index_meta m = {.version = INDEX_FORMAT_VERSION,
                    .ana = bd->ana,
                    .analyzer_version = INDEX_ANALYZER_VERSION,
                    .bm25 = bd->bm25};
    snprintf(m.engine, sizeof m.engine, "%s", bd->ops->engine);
    snprintf(m.language, sizeof m.language, "%s", bd->ana.language);
    memcpy(m.field, bd->field, sizeof m.field);
    m.n_fields = (uint32_t)bd->n_fields;
    m.created = (int64_t)time(NULL);
    m.docs = doctable_live(&bd->docs);
    m.tokens_title = bd->docs.tokens_title;
    m.tokens_body = bd->docs.tokens_body;
    void *sink = bd->sink;
    bd->sink = NULL; /* commit frees it */
    rc = bd->ops->commit(sink, &bd->docs, &m, sum, err);
    if (!rc) rc = index_meta_write(bd->pub.tmp, &m, err);
    sum->docs = m.docs;
    sum->terms = m.terms;
    sum->postings = m.postings;
    sum->positions = m.positions;
    return rc;
}

static void build_summarise(build *bd, build_summary *sum)
{
    if (bd->rd) {
        const reader_stats *rs = reader_get_stats(bd->rd);
        sum->skipped = rs->skipped;
        sum->redirects = rs->redirects + rs->other_ns;
        sum->files_skipped = rs->files_skipped;
        sum->cp1252_bytes = rs->cp1252_bytes;
        sum->dates_dropped = rs->dates_dropped;
        sum->trec_untagged = rs->trec_untagged;
        sum->mediawiki = rs->files_mediawiki > 0;
        sum->redirects_applied = rs->redirects_applied;
        sum->redirects_unresolved = rs->redirects_unresolved;
        bd->invalid_utf8 += rs->utf8_replaced;
        sum->bytes_raw = rs->bytes_raw;
        sum->bytes_in = rs->bytes_in;
    }
    sum->invalid_utf8 = bd->invalid_utf8;
    sum->seconds = now_seconds() - bd->t0;
}

static void build_free(build *bd)
{
    if (bd->sink) bd->ops->abort(bd->sink);
    if (bd->txn) txn_abort(bd->txn);
    publish_abort(&bd->pub);
    reader_close(bd->rd);
    doctable_free(&bd->docs);
    for (int i = 0; bd->ws && i < bd->nw; i++)
        worker_free(bd->ws[i]);
    free(bd->ws);
}

build_opts build_opts_default(const char *out, const char *const *inputs, size_t n_inputs)
{
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    build_opts o = {.out = out,
                    .inputs = inputs,
                    .n_inputs = n_inputs,
                    .format = FMT_AUTO,
                    .mem_bytes = 512ull << 20,
                    .threads = nproc > 0 ? (int)nproc : 1,
                    .ana = ana_config_default(),
                    .bm25 = bm25_default()};
    return o;
}

int build_run(const build_opts *o, build_summary *sum, idx_err *err)
{
    build bd = {.o = o, .ops = sink_for(o->engine), .t0 = now_seconds()};
    memset(sum, 0, sizeof *sum);
    if (!bd.ops) return err_set(err, IDX_EUSAGE, "unknown engine");
    int rc = bm25_params_check(&o->bm25, err);
    if (!rc) rc = build_prepare(&bd, err);
    if (!rc) rc = build_doctable(&bd, err);
    if (!rc) rc = publish_check_inputs(&bd.pub, o->inputs, o->n_inputs, err);
    if (!rc) rc = build_workers(&bd, err);
    if (!rc) rc = build_sink(&bd, err);
    if (!rc) rc = reader_open(o->inputs, o->n_inputs, o->format, o->warn, o->warn_ctx, &bd.rd, err);
    if (!rc) rc = build_consume(&bd, err);
    if (!rc && o->progress) build_report(&bd, 1);
    if (!rc) rc = build_accept(&bd, err);
    /* An append commits in build_commit, so it stops before; a fresh build
     * can stop until its directory is swapped in. */
    if (!rc && bd.txn) rc = build_stopped(&bd, err);
    if (!rc) rc = build_commit(&bd, sum, err);
    doctable_free(&bd.docs); /* its files must not be published */
    if (!rc && !sum->appended) rc = build_stopped(&bd, err);
    if (!rc && !sum->appended) rc = publish_commit(&bd.pub, o->stop, err);
    build_summarise(&bd, sum);
    build_free(&bd);
    return rc;
}
