/* metrics: relevance evaluation of ranked runs against TREC qrels, with
 * trec_eval's conventions (docs/EVAL.md has the exact definitions).
 *
 * Inputs:
 *  - qrels: `qid iter docid rel` lines (iter ignored, rel an integer;
 *    rel > 0 relevant, the value is the graded gain; rel <= 0 judged
 *    non-relevant). A (qid, docid) pair judged twice is an error.
 *  - runs: `qid Q0 docid rank score tag` lines, or pairs added one by one
 *    with metrics_run_add. The rank column is ignored: every query's list is
 *    sorted by score descending, ties by docid descending (strcmp order),
 *    which is trec_eval's order. A docid repeated within one query keeps its
 *    first line (file order); later ones are counted and ignored.
 *
 * Which queries count: every qid of the qrels with at least one relevant
 * judgement; one the run lacks scores 0 on every metric (trec_eval -c: a
 * missing answer is the engine's failure). Run queries without any relevant
 * judgement are ignored.
 *
 * Metrics per query: average precision over the whole ranking (MAP),
 * nDCG@10 with gain = rel and discount log2(rank + 1), P@10, recall at 1000,
 * reciprocal rank of the first relevant document.
 *
 * Errors: parse errors are IDX_EDATA with "FILE:LINE: why"; IDX_ENOMEM.
 * Nothing here prints. Objects are single-threaded; no globals. */
#ifndef IDX_METRICS_H
#define IDX_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

#define METRICS_NDCG_CUT 10
#define METRICS_P_CUT 10
#define METRICS_RECALL_CUT 1000

typedef struct metrics_qrels metrics_qrels;
typedef struct metrics_run metrics_run;

/* Parses qrels from text[0..len); `name` (e.g. the file name) prefixes
 * messages. On success *out is owned by the caller (metrics_qrels_free). */
int metrics_qrels_parse(const char *text, size_t len, const char *name, metrics_qrels **out,
                        idx_err *err);
/* Reads and parses a qrels file (IDX_EDATA if it cannot be read). */
int metrics_qrels_load(const char *path, metrics_qrels **out, idx_err *err);
void metrics_qrels_free(metrics_qrels *q); /* NULL is a no-op */

/* Queries with at least one relevant judgement (the ones that count). */
size_t metrics_qrels_judged(const metrics_qrels *q);

/* An empty run; the caller frees it with metrics_run_free. */
int metrics_run_new(metrics_run **out, idx_err *err);
/* Adds one retrieved document (qid and docid are copied; any bytes but NUL).
 * A (qid, docid) already in the run is ignored (counted in
 * metrics_run_duplicates). `score` must be finite (else IDX_EDATA). */
int metrics_run_add(metrics_run *r, const char *qid, size_t qid_len, const char *docid,
                    size_t docid_len, double score, idx_err *err);
/* Parses a TREC run from text[0..len), like metrics_qrels_parse. */
int metrics_run_parse(const char *text, size_t len, const char *name, metrics_run **out,
                      idx_err *err);
int metrics_run_load(const char *path, metrics_run **out, idx_err *err);
void metrics_run_free(metrics_run *r); /* NULL is a no-op */

/* Repeated (qid, docid) pairs ignored so far. */
uint64_t metrics_run_duplicates(const metrics_run *r);

typedef struct metrics_values {
    double map;         /* average precision */
    double ndcg_10;     /* nDCG@10, graded */
    double p_10;        /* precision at 10 */
    double recall_1000; /* recall at 1000 */
    double recip_rank;  /* 1 / rank of the first relevant document, 0 if none */
} metrics_values;

typedef struct metrics_query {
    char *qid;            /* owned by the report */
    int in_run;           /* 0: the run has no line for it (scored 0) */
    uint32_t num_rel;     /* relevant documents in the qrels */
    uint32_t num_ret;     /* documents retrieved (after dropping duplicates) */
    uint32_t num_rel_ret; /* relevant documents retrieved, at any rank */
    metrics_values v;
} metrics_query;

typedef struct metrics_report {
    metrics_query *queries; /* the counted queries, in first-appearance order of the qrels */
    size_t n;               /* = num_q */
    size_t n_missing;       /* of them, absent from the run */
    metrics_values mean;    /* arithmetic means over the n queries (0 when n == 0) */
} metrics_report;

/* Scores run against qrels. On success the caller frees *out with
 * metrics_report_free; the report references neither input. */
int metrics_evaluate(const metrics_qrels *q, const metrics_run *r, metrics_report *out,
                     idx_err *err);
void metrics_report_free(metrics_report *rep);

#endif
