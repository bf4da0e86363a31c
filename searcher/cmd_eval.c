/* cmd_eval: `idx eval`. See cmd_eval.h and docs/EVAL.md. */
#include "searcher/cmd_eval.h"
#include "searcher/search.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/analyze.h"
#include "common/buf.h"
#include "common/cmdline.h"
#include "common/index.h"
#include "common/status.h"
#include "searcher/feedback.h"
#include "searcher/match.h"
#include "searcher/metrics.h"
#include "searcher/qparse.h"
#include "searcher/render.h"

#define EVAL_MAX_K 10000

static const char eval_help[] =
    "usage: idx eval --qrels QRELS [--per-query] RUN\n"
    "       idx eval -i INDEX --qrels QRELS --queries QUERIES [options]\n"
    "Scores a TREC run (qid Q0 docid rank score tag), or the answers of INDEX to a\n"
    "qid<TAB>query file, against TREC qrels (qid 0 docid rel). Definitions: docs/EVAL.md.\n"
    "  --qrels QRELS          relevance judgements; rel > 0 is relevant (and the nDCG gain)\n"
    "  -i, --index INDEX      answer QUERIES with this index (as idx query --batch)\n"
    "  --queries QUERIES      qid<TAB>query lines (e.g. queries.plain.tsv)\n"
    "  -k N                   hits per query with -i (default 1000, at most 10000)\n"
    "  --k1 X, --b X, --title-weight X   BM25 parameters with -i (default: the index's)\n"
    "  --per-query            also print every metric for every judged query\n"
    "  --expand               expand the queries as idx query --expand does\n"
    "Prints map, ndcg_cut_10, P_10, recall_1000, recip_rank and num_q; a judged query\n"
    "without results counts as 0.\n"
    "Exit: 0 ok, 2 usage or an unparsable query (scored 0, after printing), 3 bad input\n"
    "file or index, 1 other errors.\n";

static int usage(const char *msg)
{
    return cmdline_usage("idx", "eval", "%s", msg);
}

typedef struct eval_ctx {
    idx_index *ix;
    ana *a;
    match_options eo;
    metrics_run *run;
    buf qid, doc;
    buf scratch;  /* a xapian index's stored record, for the id */
    feedback *fb; /* --expand; NULL without */
    buf fb_scratch;
} eval_ctx;

/* Answers one query into the run. IDX_EUSAGE: the query is bad (err says why). */
static int answer(void *ctx, const char *qid, const char *text, size_t len, idx_err *err)
{
    eval_ctx *c = ctx;
    qparse_options qo = {.n_fields = c->ix->meta.n_fields};
    for (uint32_t i = 0; i < qo.n_fields; i++)
        qo.fields[i] = c->ix->meta.field[i];
    qparse_tree *q = NULL;
    int rc = qparse_parse(c->a, text, len, &qo, &q, err);
    if (rc) return rc;
    feedback_query fq;
    memset(&fq, 0, sizeof fq);
    const qparse_tree *mq = q;
    if (c->fb) {
        const feedback_term *t;
        size_t n;
        rc = feedback_expand(c->fb, c->ix, &c->fb_scratch, q, &c->eo, &fq, &t, &n, err);
        mq = &fq.tree;
    }
    match_result r;
    memset(&r, 0, sizeof r);
    if (!rc) rc = match_search(c->ix, mq, &c->eo, &r, err);
    c->qid.len = 0;
    render_trec_field(&c->qid, qid, strlen(qid));
    for (uint32_t i = 0; !rc && i < r.n_hits; i++) {
        const match_hit *h = &r.hits[i];
        size_t id_len;
        const char *id = index_doc_id(c->ix, h->seg, h->doc, &c->scratch, &id_len, err);
        if (!id) {
            rc = err->code ? err->code : IDX_EDATA;
            break;
        }
        c->doc.len = 0;
        render_trec_field(&c->doc, id, id_len); /* what --format trec would print */
        /* the score as the trec format prints it: ties then break the same way */
        char num[64];
        snprintf(num, sizeof num, "%.6f", isfinite(h->score) ? h->score : 0.0);
        if (c->qid.oom || c->doc.oom) {
            rc = err_set(err, IDX_ENOMEM, "out of memory");
            break;
        }
        rc = metrics_run_add(c->run, (const char *)c->qid.p, c->qid.len, (const char *)c->doc.p,
                             c->doc.len, strtod(num, NULL), err);
    }
    match_result_free(&r);
    feedback_query_free(&fq);
    qparse_free(q);
    return rc;
}

/* Runs every line of the queries file; *bad is set when a line or a query
 * was rejected (reported on stderr). Fatal errors return non-zero. */
static int run_queries(eval_ctx *c, const char *path, int *bad, idx_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return err_errno(err, IDX_EDATA, errno, "%s", path);
    int rc = cmdline_queries(f, path, "idx", "eval", answer, c, bad, err);
    fclose(f);
    return rc;
}

static void print_values(const char *qid, const metrics_values *v)
{
    printf("%-22s\t%s\t%.4f\n", "map", qid, v->map);
    printf("%-22s\t%s\t%.4f\n", "ndcg_cut_10", qid, v->ndcg_10);
    printf("%-22s\t%s\t%.4f\n", "P_10", qid, v->p_10);
    printf("%-22s\t%s\t%.4f\n", "recall_1000", qid, v->recall_1000);
    printf("%-22s\t%s\t%.4f\n", "recip_rank", qid, v->recip_rank);
}

int cmd_eval(int argc, char **argv)
{
    enum { O_QRELS = 256, O_QUERIES, O_PERQ, O_K1, O_B, O_TW, O_EXPAND };
    static const struct option opts[] = {{"qrels", required_argument, 0, O_QRELS},
                                         {"queries", required_argument, 0, O_QUERIES},
                                         {"index", required_argument, 0, 'i'},
                                         {"per-query", no_argument, 0, O_PERQ},
                                         {"k1", required_argument, 0, O_K1},
                                         {"b", required_argument, 0, O_B},
                                         {"title-weight", required_argument, 0, O_TW},
                                         {"expand", no_argument, 0, O_EXPAND},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *qrels_path = NULL, *queries = NULL, *index = NULL;
    long long k = 1000;
    int per_query = 0, have_k = 0, have_bm25 = 0, c, li = 0;
    bm25_params bm25 = bm25_default(); /* the flags' values, over the defaults */
    int have_k1 = 0, have_b = 0, have_tw = 0, expand = 0;
    optind = 0; /* fresh getopt state: argv starts at "eval" */
    while ((c = getopt_long(argc, argv, ":i:k:h", opts, &li)) != -1) {
        switch (c) {
        case O_QRELS:
            qrels_path = optarg;
            break;
        case O_QUERIES:
            queries = optarg;
            break;
        case 'i':
            index = optarg;
            break;
        case 'k':
            if ((k = cmdline_count(optarg, 1, EVAL_MAX_K)) < 0)
                return usage("-k needs a number from 1 to 10000");
            have_k = 1;
            break;
        case O_EXPAND:
            expand = 1;
            break;
        case O_PERQ:
            per_query = 1;
            break;
        case O_K1:
        case O_B:
        case O_TW: {
            idx_err err = {0};
            if (cmdline_bm25(&bm25, opts[li].name, optarg, &err)) return usage(err.msg);
            *(c == O_K1 ? &have_k1 : c == O_B ? &have_b : &have_tw) = have_bm25 = 1;
            break;
        }
        case 'h':
            fputs(eval_help, stdout);
            return 0;
        default:
            return cmdline_bad_option("idx", "eval", argc, argv);
        }
    }
    const char *run_path = optind < argc ? argv[optind] : NULL;
    if (!qrels_path) return usage("missing --qrels QRELS");
    if (optind + 1 < argc) return usage("expected at most one RUN file");
    if (index && run_path) return usage("give either RUN or -i INDEX --queries QUERIES, not both");
    if (!index && !run_path) return usage("give a RUN file or -i INDEX --queries QUERIES");
    if (index && !queries) return usage("-i INDEX needs --queries QUERIES");
    if (!index && (queries || have_k || have_bm25 || expand))
        return usage("--queries, -k, --expand and BM25 parameters need -i INDEX");

    idx_err err = {0};
    metrics_qrels *qrels = NULL;
    metrics_run *run = NULL;
    eval_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    int bad = 0, rc = metrics_qrels_load(qrels_path, &qrels, &err);
    if (!rc && !metrics_qrels_judged(qrels))
        rc =
            err_set(&err, IDX_EDATA, "%s: no query has a relevant (rel > 0) judgement", qrels_path);
    if (!rc && run_path) {
        rc = metrics_run_load(run_path, &run, &err);
    } else if (!rc) {
        rc = index_open(index, &ctx.ix, &err);
        if (!rc) rc = index_ana_new(ctx.ix, &ctx.a, &err);
        if (!rc) rc = metrics_run_new(&ctx.run, &err);
        if (!rc) {
            ctx.eo = match_options_default(ctx.ix);
            ctx.eo.k = (uint32_t)k;
            ctx.eo.collapse = 0; /* judgments are per document, duplicates included */
            if (have_k1) ctx.eo.bm25.k1 = bm25.k1;
            if (have_b) ctx.eo.bm25.b = bm25.b;
            if (have_tw) ctx.eo.bm25.title_weight = bm25.title_weight;
            if (expand && !(ctx.fb = feedback_new(ctx.a, ctx.eo.bm25.title_weight)))
                rc = err_set(&err, IDX_ENOMEM, "out of memory");
        }
        if (!rc) {
            rc = run_queries(&ctx, queries, &bad, &err);
        }
        run = ctx.run;
        ctx.run = NULL;
    }
    metrics_report rep;
    memset(&rep, 0, sizeof rep);
    if (!rc) rc = metrics_evaluate(qrels, run, &rep, &err);
    int status = rc ? cmdline_fail("idx", "eval", rc, &err) : 0;
    if (!rc) {
        uint64_t dups = metrics_run_duplicates(run);
        if (dups)
            fprintf(stderr, "idx: eval: %llu repeated (qid, docid) lines ignored (first kept)\n",
                    (unsigned long long)dups);
        if (rep.n_missing)
            fprintf(stderr, "idx: eval: %zu of %zu judged queries have no results (scored 0)%s\n",
                    rep.n_missing, rep.n,
                    rep.n_missing == rep.n ? ": do the qids match the qrels?" : "");
        if (per_query)
            for (size_t i = 0; i < rep.n; i++)
                print_values(rep.queries[i].qid, &rep.queries[i].v);
        print_values("all", &rep.mean);
        printf("%-22s\t%s\t%zu\n", "num_q", "all", rep.n);
        if (fflush(stdout)) {
            fprintf(stderr, "idx: eval: writing results: %s\n", strerror(errno));
            status = 1;
        }
        if (!status && bad) status = 2;
    }
    metrics_report_free(&rep);
    metrics_run_free(run);
    metrics_qrels_free(qrels);
    buf_free(&ctx.qid);
    buf_free(&ctx.doc);
    buf_free(&ctx.scratch);
    buf_free(&ctx.fb_scratch);
    feedback_free(ctx.fb);
    ana_free(ctx.a);
    if (ctx.ix) index_close(ctx.ix);
    return status;
}
