/* Unit tests for metrics: every metric against values worked out by hand
 * (the arithmetic is in the comments), plus the trec_eval conventions (ties,
 * duplicates, missing queries) and input errors. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "searcher/metrics.h"
#include "tests/unit/testutil.h"

#define EPS 1e-9

/* Scores run text against qrels text; the report must be freed. */
static metrics_report eval_text(const char *qrels, const char *run)
{
    idx_err err = {0};
    metrics_qrels *q;
    metrics_run *r;
    metrics_report rep;
    ck_assert_msg(metrics_qrels_parse(qrels, strlen(qrels), "qrels", &q, &err) == 0, "%s", err.msg);
    ck_assert_msg(metrics_run_parse(run, strlen(run), "run", &r, &err) == 0, "%s", err.msg);
    ck_assert_msg(metrics_evaluate(q, r, &rep, &err) == 0, "%s", err.msg);
    metrics_run_free(r);
    metrics_qrels_free(q); /* the report must not depend on its inputs */
    return rep;
}

static const metrics_query *find(const metrics_report *rep, const char *qid)
{
    for (size_t i = 0; i < rep->n; i++)
        if (!strcmp(rep->queries[i].qid, qid)) return &rep->queries[i];
    ck_abort_msg("query %s not in the report", qid);
    return NULL;
}

#define NEAR(a, b) ck_assert_msg(fabs((a) - (b)) < EPS, "%s = %.12f, expected %.12f", #a, (a), (b))

START_TEST(test_perfect)
{
    /* Relevant d1, d2; d3 judged non-relevant. Run: d1, d2, d3.
     * AP = (1/1 + 2/2) / 2 = 1.
     * DCG@10 = 1/log2(2) + 1/log2(3) = IDCG@10, so nDCG = 1.
     * P@10 = 2 relevant / 10 = 0.2 (the cut divides by 10 even when fewer are retrieved).
     * R@1000 = 2/2 = 1; RR = 1/1. */
    metrics_report rep = eval_text("1 0 d1 1\n1 0 d2 1\n1 0 d3 0\n",
                                   "1 Q0 d1 1 3.0 t\n1 Q0 d2 2 2.0 t\n1 Q0 d3 3 1.0 t\n");
    ck_assert_uint_eq(rep.n, 1);
    ck_assert_uint_eq(rep.n_missing, 0);
    const metrics_query *m = find(&rep, "1");
    ck_assert_uint_eq(m->num_rel, 2);
    ck_assert_uint_eq(m->num_ret, 3);
    ck_assert_uint_eq(m->num_rel_ret, 2);
    NEAR(m->v.map, 1.0);
    NEAR(m->v.ndcg_10, 1.0);
    NEAR(m->v.p_10, 0.2);
    NEAR(m->v.recall_1000, 1.0);
    NEAR(m->v.recip_rank, 1.0);
    NEAR(rep.mean.map, 1.0);
    metrics_report_free(&rep);
}
END_TEST

START_TEST(test_none_relevant_retrieved)
{
    /* Relevant d1; the run retrieves d3 (judged 0) and d4 (unjudged = 0):
     * every metric is 0, but the query is in the run. */
    metrics_report rep = eval_text("7 0 d1 2\n7 0 d3 0\n", "7 Q0 d3 1 2.0 t\n7 Q0 d4 2 1.0 t\n");
    const metrics_query *m = find(&rep, "7");
    ck_assert_int_eq(m->in_run, 1);
    ck_assert_uint_eq(m->num_rel_ret, 0);
    NEAR(m->v.map, 0.0);
    NEAR(m->v.ndcg_10, 0.0);
    NEAR(m->v.p_10, 0.0);
    NEAR(m->v.recall_1000, 0.0);
    NEAR(m->v.recip_rank, 0.0);
    metrics_report_free(&rep);
}
END_TEST

START_TEST(test_ties_and_rank_column)
{
    /* Equal scores: trec_eval orders by docid descending (strcmp): c, b, a.
     * The relevant b is at rank 2 whatever the rank column says:
     * AP = (1/2) / 1 = 0.5, RR = 1/2, nDCG = 1 (trec_eval discounts ranks 1 and 2 by 1). */
    metrics_report rep = eval_text("1 0 b 1\n", "1 Q0 a 1 1.0 t\n1 Q0 b 2 1.0 t\n1 Q0 c 3 1.0 t\n");
    const metrics_query *m = find(&rep, "1");
    NEAR(m->v.map, 0.5);
    NEAR(m->v.recip_rank, 0.5);
    NEAR(m->v.ndcg_10, 1.0);
    metrics_report_free(&rep);

    /* strcmp order, not numeric: "d9" > "d10", so descending puts d9 first and
     * the relevant d10 second: RR = 1/2. */
    rep = eval_text("1 0 d10 1\n", "1 Q0 d10 1 5.0 t\n1 Q0 d9 2 5.0 t\n");
    NEAR(find(&rep, "1")->v.recip_rank, 0.5);
    metrics_report_free(&rep);

    /* The rank column is ignored: x (score 0.9, "rank 2") comes before the
     * relevant r (score 0.5, "rank 1"): RR = 1/2, AP = 1/2. */
    rep = eval_text("1 0 r 1\n", "1 Q0 r 1 0.5 t\n1 Q0 x 2 0.9 t\n");
    NEAR(find(&rep, "1")->v.recip_rank, 0.5);
    NEAR(find(&rep, "1")->v.map, 0.5);
    metrics_report_free(&rep);
}
END_TEST

START_TEST(test_graded_ndcg)
{
    /* Judgements a=3, b=2, c=1, d=0. Run: c, b, x (unjudged), a.
     * trec_eval's discount: 1 at ranks 1 and 2, log2(r) after.
     * DCG@10 = 1/1 + 2/1 + 0 + 3/log2(4) = 1 + 2 + 1.5 = 4.5
     * ideal: a, b, c: IDCG@10 = 3/1 + 2/1 + 1/log2(3) = 5 + 0.630930 = 5.630930
     * nDCG@10 = 4.5 / 5.630930 = 0.799157.
     * AP (binary) = (1/1 + 2/2 + 3/4) / 3 = 0.916667; P@10 = 3/10; RR = 1. */
    metrics_report rep = eval_text("q 0 a 3\nq 0 b 2\nq 0 c 1\nq 0 d 0\n",
                                   "q Q0 c 1 4 t\nq Q0 b 2 3 t\nq Q0 x 3 2 t\nq Q0 a 4 1 t\n");
    const metrics_query *m = find(&rep, "q");
    double dcg = 1.0 + 2.0 + 3.0 / 2.0;
    double idcg = 3.0 + 2.0 + 1.0 / log2(3.0);
    NEAR(m->v.ndcg_10, dcg / idcg);
    ck_assert(fabs(m->v.ndcg_10 - 0.799157) < 1e-6);
    NEAR(m->v.map, 2.75 / 3.0);
    NEAR(m->v.p_10, 0.3);
    NEAR(m->v.recip_rank, 1.0);
    metrics_report_free(&rep);

    /* The ideal ranking is cut at 10 too: 12 relevant (rel 1), run retrieves
     * exactly 10 of them first: DCG@10 = IDCG@10 = 1 + 1 + sum_{r=3..10} 1/log2(r),
     * nDCG = 1 though recall is 10/12. */
    char qrels[512] = "", run[1024] = "";
    for (int i = 0; i < 12; i++) {
        char line[64];
        snprintf(line, sizeof line, "1 0 r%02d 1\n", i);
        strcat(qrels, line);
        if (i < 10) {
            snprintf(line, sizeof line, "1 Q0 r%02d %d %d t\n", i, i + 1, 100 - i);
            strcat(run, line);
        }
    }
    rep = eval_text(qrels, run);
    m = find(&rep, "1");
    NEAR(m->v.ndcg_10, 1.0);
    NEAR(m->v.recall_1000, 10.0 / 12.0);
    NEAR(m->v.p_10, 1.0);
    NEAR(m->v.map, 10.0 / 12.0); /* precision 1 at each of 10 ranks, / 12 */
    metrics_report_free(&rep);
}
END_TEST

START_TEST(test_recall_cut)
{
    /* Two relevant: r1 at rank 1, r2 at rank 1001 (after 999 non-relevant n*).
     * R@1000 = 1/2. AP counts the whole ranking: (1/1 + 2/1001) / 2 = 0.500999.
     * P@10 = 1/10. nDCG@10 = 1 / (1 + 1) = 0.5 (ideal: both at ranks 1, 2). RR = 1. */
    size_t cap = 1100 * 40;
    char *run = malloc(cap);
    ck_assert_ptr_nonnull(run);
    size_t len = (size_t)snprintf(run, cap, "5 Q0 r1 1 2000 t\n");
    for (int i = 0; i < 999; i++)
        len += (size_t)snprintf(run + len, cap - len, "5 Q0 n%d %d %d t\n", i, i + 2, 1999 - i);
    len += (size_t)snprintf(run + len, cap - len, "5 Q0 r2 1001 1 t\n");
    metrics_report rep = eval_text("5 0 r1 1\n5 0 r2 1\n", run);
    free(run);
    const metrics_query *m = find(&rep, "5");
    ck_assert_uint_eq(m->num_ret, 1001);
    ck_assert_uint_eq(m->num_rel_ret, 2);
    NEAR(m->v.recall_1000, 0.5);
    NEAR(m->v.map, (1.0 + 2.0 / 1001.0) / 2.0);
    NEAR(m->v.p_10, 0.1);
    NEAR(m->v.ndcg_10, 0.5);
    NEAR(m->v.recip_rank, 1.0);
    metrics_report_free(&rep);
}
END_TEST

START_TEST(test_mrr)
{
    /* q1: first relevant at rank 3 -> 1/3; q2: at rank 1 -> 1 (the second
     * relevant at rank 2 does not matter). Mean RR = (1/3 + 1) / 2 = 2/3.
     * q1 AP = (1/3)/1; q2 AP = (1/1 + 2/2)/2 = 1; MAP = (1/3 + 1)/2 = 2/3. */
    metrics_report rep =
        eval_text("q1 0 c 1\nq2 0 a 1\nq2 0 b 1\n", "q1 Q0 a 1 3 t\nq1 Q0 b 2 2 t\nq1 Q0 c 3 1 t\n"
                                                    "q2 Q0 a 1 3 t\nq2 Q0 b 2 2 t\n");
    NEAR(find(&rep, "q1")->v.recip_rank, 1.0 / 3.0);
    NEAR(find(&rep, "q2")->v.recip_rank, 1.0);
    NEAR(rep.mean.recip_rank, 2.0 / 3.0);
    NEAR(rep.mean.map, 2.0 / 3.0);
    metrics_report_free(&rep);
}
END_TEST

START_TEST(test_missing_query_counts_zero)
{
    /* Qrels: q1 (d1 relevant), q2 (d2 relevant), q3 (judged, nothing
     * relevant: does not count). Run: q1 perfect, q9 (not in the qrels:
     * ignored). q2 is absent from the run: it counts, with 0 everywhere.
     * num_q = 2, MAP = (1 + 0) / 2 = 0.5, nDCG = 0.5, P@10 = (0.1 + 0)/2 = 0.05. */
    metrics_report rep =
        eval_text("q1 0 d1 1\nq2 0 d2 1\nq3 0 d3 0\n", "q1 Q0 d1 1 1.0 t\nq9 Q0 d2 1 1.0 t\n");
    ck_assert_uint_eq(rep.n, 2);
    ck_assert_uint_eq(rep.n_missing, 1);
    ck_assert_str_eq(rep.queries[0].qid, "q1"); /* qrels order */
    ck_assert_str_eq(rep.queries[1].qid, "q2");
    ck_assert_int_eq(rep.queries[1].in_run, 0);
    NEAR(rep.queries[1].v.map, 0.0);
    NEAR(rep.mean.map, 0.5);
    NEAR(rep.mean.ndcg_10, 0.5);
    NEAR(rep.mean.p_10, 0.05);
    NEAR(rep.mean.recall_1000, 0.5);
    NEAR(rep.mean.recip_rank, 0.5);
    metrics_report_free(&rep);
}
END_TEST

START_TEST(test_duplicates_keep_first)
{
    /* r appears twice: first with 0.5, later with 1.0. Keeping the first line,
     * x (0.9) ranks 1 and r (0.5) ranks 2: RR = 1/2, AP = 1/2, 2 retrieved.
     * (Keeping the later, higher score would have given RR = 1.) */
    idx_err err = {0};
    metrics_qrels *q;
    metrics_run *r;
    metrics_report rep;
    const char *qt = "1 0 r 1\n", *rt = "1 Q0 r 1 0.5 t\n1 Q0 x 2 0.9 t\n1 Q0 r 3 1.0 t\n";
    ck_assert_int_eq(metrics_qrels_parse(qt, strlen(qt), "qrels", &q, &err), 0);
    ck_assert_int_eq(metrics_run_parse(rt, strlen(rt), "run", &r, &err), 0);
    ck_assert_uint_eq(metrics_run_duplicates(r), 1);
    ck_assert_int_eq(metrics_evaluate(q, r, &rep, &err), 0);
    ck_assert_uint_eq(rep.queries[0].num_ret, 2);
    NEAR(rep.queries[0].v.recip_rank, 0.5);
    NEAR(rep.queries[0].v.map, 0.5);
    metrics_report_free(&rep);
    metrics_run_free(r);

    /* The same through metrics_run_add, the path idx eval -i takes. */
    ck_assert_int_eq(metrics_run_new(&r, &err), 0);
    ck_assert_int_eq(metrics_run_add(r, "1", 1, "r", 1, 0.5, &err), 0);
    ck_assert_int_eq(metrics_run_add(r, "1", 1, "x", 1, 0.9, &err), 0);
    ck_assert_int_eq(metrics_run_add(r, "1", 1, "r", 1, 1.0, &err), 0);
    ck_assert_uint_eq(metrics_run_duplicates(r), 1);
    ck_assert_int_eq(metrics_run_add(r, "1", 1, "y", 1, NAN, &err), IDX_EDATA);
    err_clear(&err);
    ck_assert_int_eq(metrics_evaluate(q, r, &rep, &err), 0);
    NEAR(rep.queries[0].v.recip_rank, 0.5);
    metrics_report_free(&rep);
    metrics_run_free(r);
    metrics_qrels_free(q);
}
END_TEST

START_TEST(test_whitespace_and_blank_lines)
{
    /* Tabs, several spaces, CRLF and blank lines are all fine. */
    metrics_report rep = eval_text("\n1\t0\td1\t1\r\n\n", "  1  Q0 d1\t1 2.5 run\r\n\n");
    ck_assert_uint_eq(rep.n, 1);
    NEAR(rep.mean.map, 1.0);
    metrics_report_free(&rep);
}
END_TEST

/* Expects parse failure with IDX_EDATA and `where` in the message. */
static void expect_error(int is_run, const char *text, const char *where)
{
    idx_err err = {0};
    int rc;
    if (is_run) {
        metrics_run *r = (metrics_run *)1;
        rc = metrics_run_parse(text, strlen(text), "run.txt", &r, &err);
        ck_assert_ptr_null(r);
    } else {
        metrics_qrels *q = (metrics_qrels *)1;
        rc = metrics_qrels_parse(text, strlen(text), "qrels.txt", &q, &err);
        ck_assert_ptr_null(q);
    }
    ck_assert_int_eq(rc, IDX_EDATA);
    ck_assert_msg(strstr(err.msg, where) != NULL, "'%s' lacks '%s'", err.msg, where);
}

START_TEST(test_input_errors)
{
    expect_error(0, "1 0 d1 1\n1 0 d2\n", "qrels.txt:2:");       /* 3 fields */
    expect_error(0, "1 0 d1 1 x\n", "qrels.txt:1:");             /* 5 fields */
    expect_error(0, "1 0 d1 1\n\n1 0 d2 1.5\n", "qrels.txt:3:"); /* not an integer */
    expect_error(0, "1 0 d1 1\n1 0 d1 2\n", "qrels.txt:2:");     /* judged twice */
    expect_error(0, "", "no judgements");
    expect_error(1, "1 Q0 d1 1 1.0\n", "run.txt:1:");                    /* 5 fields */
    expect_error(1, "1 Q0 d1 1 1.0 t\n1 Q0 d2 2 abc t\n", "run.txt:2:"); /* score */
    expect_error(1, "1 Q0 d1 1 nan t\n", "run.txt:1:");                  /* not finite */
    expect_error(1, "1 Q0 d1 x 1.0 t\n", "run.txt:1:");                  /* rank */
    const char nul[] = "1 Q0 d\0 1 1.0 t\n";
    idx_err err = {0};
    metrics_run *r;
    ck_assert_int_eq(metrics_run_parse(nul, sizeof nul - 1, "run.txt", &r, &err), IDX_EDATA);
    ck_assert_ptr_nonnull(strstr(err.msg, "run.txt:1:"));

    /* Missing files. */
    err_clear(&err);
    metrics_qrels *q;
    ck_assert_int_eq(metrics_qrels_load("/nonexistent/qrels", &q, &err), IDX_EDATA);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/qrels"));
    err_clear(&err);
    ck_assert_int_eq(metrics_run_load("/nonexistent/run", &r, &err), IDX_EDATA);
}
END_TEST

START_TEST(test_load_files)
{
    char qp[] = "/tmp/idx-test-metrics-qXXXXXX", rp[] = "/tmp/idx-test-metrics-rXXXXXX";
    int qf = mkstemp(qp), rf = mkstemp(rp);
    ck_assert(qf >= 0 && rf >= 0);
    const char *qt = "1 0 a 1\n2 0 b 1\n", *rt = "1 Q0 a 1 1 t\n2 Q0 c 1 2 t\n2 Q0 b 2 1 t\n";
    ck_assert(write(qf, qt, strlen(qt)) == (ssize_t)strlen(qt));
    ck_assert(write(rf, rt, strlen(rt)) == (ssize_t)strlen(rt));
    close(qf);
    close(rf);
    idx_err err = {0};
    metrics_qrels *q;
    metrics_run *r;
    metrics_report rep;
    ck_assert_int_eq(metrics_qrels_load(qp, &q, &err), 0);
    ck_assert_uint_eq(metrics_qrels_judged(q), 2);
    ck_assert_int_eq(metrics_run_load(rp, &r, &err), 0);
    ck_assert_int_eq(metrics_evaluate(q, r, &rep, &err), 0);
    /* q1 RR 1, q2 RR 1/2: mean 0.75; MAP the same. */
    NEAR(rep.mean.recip_rank, 0.75);
    NEAR(rep.mean.map, 0.75);
    metrics_report_free(&rep);
    metrics_run_free(r);
    metrics_qrels_free(q);
    unlink(qp);
    unlink(rp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_perfect);
    tcase_add_test(tc, test_none_relevant_retrieved);
    tcase_add_test(tc, test_ties_and_rank_column);
    tcase_add_test(tc, test_graded_ndcg);
    tcase_add_test(tc, test_recall_cut);
    tcase_add_test(tc, test_mrr);
    tcase_add_test(tc, test_missing_query_counts_zero);
    tcase_add_test(tc, test_duplicates_keep_first);
    tcase_add_test(tc, test_whitespace_and_blank_lines);
    tcase_add_test(tc, test_input_errors);
    tcase_add_test(tc, test_load_files);
    suite_add_tcase(s, tc);
    return test_run(s);
}
