/* Unit tests for alias, the table of MediaWiki redirects: MediaWiki's title
 * matching, chains and loops, input order, and the memory bound. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "indexer/alias.h"
#include "tests/unit/testutil.h"

#define ADD(m, a, b) alias_add(m, a, strlen(a), b, strlen(b))

/* The redirect titles of `title` as one string ("A\nB\n"). */
static const char *lookup(alias_map *m, const char *title, buf *out)
{
    out->len = 0;
    alias_lookup(m, title, strlen(title), out);
    buf_put_u8(out, 0);
    return (const char *)out->p;
}

START_TEST(test_matching)
{
    alias_map *m = alias_new(1 << 20);
    buf out = {0};
    ck_assert_int_eq(ADD(m, "USA", "United States"), 1);
    ck_assert_int_eq(ADD(m, "yankee_land", "united_States#History"), 1);
    ck_assert_int_eq(ADD(m, " U.S.  of A ", "United States"), 1);
    /* In input order, in MediaWiki's form. */
    ck_assert_str_eq(lookup(m, "United States", &out), "USA\nYankee land\nU.S. of A\n");
    ck_assert_str_eq(lookup(m, "united_States", &out), "USA\nYankee land\nU.S. of A\n");
    ck_assert_str_eq(lookup(m, "United states", &out), ""); /* only the first letter folds */
    ck_assert_str_eq(lookup(m, "Mars", &out), "");
    /* Not added: a redirect to itself, an empty title, a second target. */
    ck_assert_int_eq(ADD(m, "Self", "self"), 0);
    ck_assert_int_eq(ADD(m, "", "Mars"), 0);
    ck_assert_int_eq(ADD(m, "Red", ""), 0);
    ck_assert_int_eq(ADD(m, "USA", "Mars"), 0);
    ck_assert_uint_eq(alias_count(m), 3);
    ck_assert_uint_eq(alias_applied(m), 3);
    char longt[ALIAS_MAX_TITLE + 2];
    memset(longt, 'x', sizeof longt - 1);
    longt[sizeof longt - 1] = 0;
    ck_assert_int_eq(ADD(m, longt, "Mars"), 0);
    buf_free(&out);
    alias_free(m);
}
END_TEST

START_TEST(test_chains_and_loops)
{
    alias_map *m = alias_new(1 << 20);
    buf out = {0};
    ADD(m, "Amerika", "USA"); /* before the redirect it leads to */
    ADD(m, "USA", "United States");
    ADD(m, "Loop one", "Loop two");
    ADD(m, "Loop two", "Loop one");
    ADD(m, "H1", "H2");
    ADD(m, "H2", "H3");
    ADD(m, "H3", "H4");
    ADD(m, "H4", "H5");
    ADD(m, "H5", "H6");
    ck_assert_str_eq(lookup(m, "United States", &out), "USA\nAmerika\n");
    /* A title on a loop gets the others of the loop, once. */
    ck_assert_str_eq(lookup(m, "Loop one", &out), "Loop two\n");
    ck_assert_str_eq(lookup(m, "H6", &out), "H5\nH4\nH3\nH2\n"); /* ALIAS_MAX_HOPS */
    ck_assert_uint_eq(alias_count(m), 9);
    ck_assert_uint_eq(alias_applied(m), 7);
    buf_free(&out);
    alias_free(m);
}
END_TEST

START_TEST(test_bound)
{
    /* A table of 256 KiB: far fewer than the 100k redirects offered. */
    alias_map *m = alias_new(256 << 10);
    char a[64];
    int added = 0, dropped = 0;
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(a, sizeof a, "Redirect number %d", i);
        int rc = alias_add(m, a, (size_t)n, "Target", 6);
        ck_assert_int_ge(rc, -1);
        added += rc == 1;
        dropped += rc == -1;
    }
    ck_assert_int_gt(added, 1000);
    ck_assert_int_gt(dropped, 50000);
    ck_assert_uint_eq(alias_count(m), (uint64_t)added);
    ck_assert_uint_eq(alias_dropped(m), (uint64_t)dropped);
    /* What was added before the bound still works. */
    buf out = {0};
    ck_assert_uint_eq(alias_lookup(m, "Target", 6, &out), (size_t)added);
    ck_assert(memcmp(out.p, "Redirect number 0\n", 18) == 0);
    buf_free(&out);
    alias_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alias");
    TCase *tc = tcase_create("alias");
    tcase_add_test(tc, test_matching);
    tcase_add_test(tc, test_chains_and_loops);
    tcase_add_test(tc, test_bound);
    suite_add_tcase(s, tc);
    return test_run(s);
}
