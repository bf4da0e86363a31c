/* Unit tests of the error convention (common/status), the BM25 parameter
 * check (common/bm25.h) and the front-ends' shared parsers (common/cmdline). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/bm25.h"
#include "common/cmdline.h"
#include "common/status.h"
#include "tests/unit/testutil.h"

START_TEST(first_error_sticks)
{
    idx_err e = {0};
    EQ(err_set(&e, IDX_EUSAGE, "first %d", 1), IDX_EUSAGE);
    EQ(err_set(&e, IDX_EDATA, "second"), IDX_EDATA);
    EQ(e.code, IDX_EUSAGE);
    ck_assert_str_eq(e.msg, "first 1");
}
END_TEST

START_TEST(wrap_recodes_and_prefixes)
{
    idx_err e = {0};
    err_set(&e, IDX_EUSAGE, "unknown stemming language 'klingon'");
    EQ(err_wrap(&e, IDX_EDATA, "index meta"), IDX_EDATA);
    EQ(e.code, IDX_EDATA);
    ck_assert_str_eq(e.msg, "index meta: unknown stemming language 'klingon'");
    /* wraps nest, outermost context first */
    EQ(err_wrap(&e, IDX_EDATA, "%s/meta", "ix"), IDX_EDATA);
    ck_assert_str_eq(e.msg, "ix/meta: index meta: unknown stemming language 'klingon'");
    /* still sticky afterwards */
    err_set(&e, IDX_EIO, "later");
    EQ(e.code, IDX_EDATA);
}
END_TEST

START_TEST(wrap_without_error_records_context)
{
    idx_err e = {0};
    EQ(err_wrap(&e, IDX_EINTERNAL, "context %s", "only"), IDX_EINTERNAL);
    EQ(e.code, IDX_EINTERNAL);
    ck_assert_str_eq(e.msg, "context only");
    EQ(err_wrap(NULL, IDX_EDATA, "no err"), IDX_EDATA);
}
END_TEST

START_TEST(wrap_truncates_safely)
{
    idx_err e = {0};
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    err_set(&e, IDX_EDATA, "%s", big);
    err_wrap(&e, IDX_EDATA, "ctx");
    EQ(strlen(e.msg), sizeof e.msg - 1);
    ck_assert(!strncmp(e.msg, "ctx: xxx", 8));
    err_clear(&e);
    err_set(&e, IDX_EDATA, "why");
    err_wrap(&e, IDX_EDATA, "%s", big); /* a context longer than the message: no ": why" */
    EQ(strlen(e.msg), sizeof e.msg - 1);
    EQ(e.code, IDX_EDATA);
}
END_TEST

START_TEST(exit_statuses)
{
    idx_err e = {0};
    EQ(err_status(0, &e), 0);
    static const int codes[][2] = {
        {IDX_EUSAGE, 2}, {IDX_EDATA, 3}, {IDX_EIO, 1}, {IDX_ENOMEM, 1}, {IDX_EINTERNAL, 1}};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        err_clear(&e);
        err_set(&e, codes[i][0], "x");
        EQ(err_status(codes[i][0], &e), codes[i][1]);
    }
}
END_TEST

START_TEST(bm25_ranges)
{
    idx_err e = {0};
    bm25_params p = bm25_default();
    EQ(bm25_params_check(&p, &e), 0);
    p = (bm25_params){0, 0, 0};
    EQ(bm25_params_check(&p, &e), 0);
    p = (bm25_params){BM25_K1_MAX, 1, BM25_TITLE_WEIGHT_MAX};
    EQ(bm25_params_check(&p, &e), 0);
    const double bad[] = {NAN, INFINITY, -INFINITY, -1e-9, 1e300};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (int f = 0; f < 3; f++) {
            p = bm25_default();
            *(f == 0 ? &p.k1 : f == 1 ? &p.b : &p.title_weight) = bad[i];
            err_clear(&e);
            EQ(bm25_params_check(&p, &e), IDX_EUSAGE);
            EQ(e.code, IDX_EUSAGE);
            const char *name = f == 0 ? "k1" : f == 1 ? " b " : "title weight";
            OKM(strstr(e.msg, name), "'%s' lacks '%s'", e.msg, name);
        }
    p = bm25_default();
    p.b = 1.5;
    err_clear(&e);
    EQ(bm25_params_check(&p, &e), IDX_EUSAGE);
}
END_TEST

START_TEST(cmdline_flags)
{
    EQ(cmdline_count("0", 0, 10), 0);
    EQ(cmdline_count("10", 0, 10), 10);
    EQ(cmdline_count("11", 0, 10), -1);
    EQ(cmdline_count("0", 1, 10), -1);
    static const char *const not_counts[] = {
        "", "-1", "+1", " 1", "1 ", "1x", "0x10", "1e3", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof not_counts / sizeof not_counts[0]; i++)
        OKM(cmdline_count(not_counts[i], 0, 1000000) == -1, "'%s' taken", not_counts[i]);

    bm25_params p = bm25_default();
    idx_err e = {0};
    EQ(cmdline_bm25(&p, "k1", "0.9", &e), 0);
    EQ(cmdline_bm25(&p, "b", "0.4", &e), 0);
    EQ(cmdline_bm25(&p, "title-weight", "2", &e), 0);
    ck_assert(p.k1 == 0.9 && p.b == 0.4 && p.title_weight == 2);
    static const char *const bad[][2] = {
        {"k1", "nan"}, {"k1", "inf"}, {"k1", ""},      {"k1", "1x"},
        {"b", "2"},    {"b", "-0.1"}, {"k1", "1e400"}, {"title-weight", "-1"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&e);
        EQ(cmdline_bm25(&p, bad[i][0], bad[i][1], &e), IDX_EUSAGE);
        EQ(e.code, IDX_EUSAGE);
        char want[32];
        snprintf(want, sizeof want, "--%s", bad[i][0]);
        OKM(!strncmp(e.msg, want, strlen(want)), "'%s' does not name %s", e.msg, want);
    }
}
END_TEST

static Suite *status_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("status");
    tcase_add_test(tc, first_error_sticks);
    tcase_add_test(tc, wrap_recodes_and_prefixes);
    tcase_add_test(tc, wrap_without_error_records_context);
    tcase_add_test(tc, wrap_truncates_safely);
    tcase_add_test(tc, exit_statuses);
    tcase_add_test(tc, bm25_ranges);
    tcase_add_test(tc, cmdline_flags);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(status_suite());
}
