/* Unit tests for xap: Snowball stemming through the C wrapper. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/xap.h"
#include "tests/unit/testutil.h"

static void stem_eq(xap_stem *s, const char *word, const char *want)
{
    char out[128];
    size_t n = 99;
    idx_err e = {0};
    ck_assert_int_eq(xap_stem_word(s, word, strlen(word), out, sizeof out, &n, &e), 0);
    ck_assert_int_eq(e.code, 0);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_msg(memcmp(out, want, n) == 0, "stem(%s) = %.*s, want %s", word, (int)n, out, want);
}

START_TEST(test_english)
{
    xap_stem *s = NULL;
    idx_err e = {0};
    ck_assert_int_eq(xap_stem_new("english", &s, &e), 0);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(xap_stem_is_none(s), 0);
    stem_eq(s, "running", "run");
    stem_eq(s, "connections", "connect");
    stem_eq(s, "john's", "john");
    stem_eq(s, "ponies", "poni");
    stem_eq(s, "", "");
    xap_stem_free(s);
}
END_TEST

START_TEST(test_aliases_and_case)
{
    const char *names[] = {"en", "English", "ENGLISH"};
    for (size_t i = 0; i < 3; i++) {
        xap_stem *s = NULL;
        idx_err e = {0};
        ck_assert_int_eq(xap_stem_new(names[i], &s, &e), 0);
        stem_eq(s, "running", "run");
        xap_stem_free(s);
    }
    xap_stem *f = NULL;
    idx_err e = {0};
    ck_assert_int_eq(xap_stem_new("fr", &f, &e), 0);
    stem_eq(f, "chevaux", "cheval");
    xap_stem_free(f);
}
END_TEST

START_TEST(test_none_copies)
{
    xap_stem *s = NULL;
    idx_err e = {0};
    ck_assert_int_eq(xap_stem_new("none", &s, &e), 0);
    ck_assert_int_eq(xap_stem_is_none(s), 1);
    stem_eq(s, "running", "running");
    /* Binary-safe: the copy is by length, NULs included. */
    char out[8];
    size_t n = 0;
    ck_assert_int_eq(xap_stem_word(s, "a\0b", 3, out, sizeof out, &n, &e), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(memcmp(out, "a\0b", 3), 0);
    xap_stem_free(s);
}
END_TEST

START_TEST(test_unknown_language)
{
    xap_stem *s = (xap_stem *)&s; /* must be reset to NULL on failure */
    idx_err e = {0};
    ck_assert_int_eq(xap_stem_new("klingon", &s, &e), IDX_EUSAGE);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(e.code, IDX_EUSAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "klingon"));
    ck_assert_ptr_nonnull(strstr(e.msg, "english")); /* lists the known ones */
}
END_TEST

START_TEST(test_truncation)
{
    xap_stem *s = NULL;
    idx_err e = {0};
    ck_assert_int_eq(xap_stem_new("english", &s, &e), 0);
    char out[4];
    size_t n = 0;
    ck_assert_int_eq(xap_stem_word(s, "connections", 11, out, sizeof out, &n, &e), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(memcmp(out, "conn", 4), 0);
    xap_stem_free(s);
    ck_assert_int_eq(xap_stem_new("none", &s, &e), 0);
    ck_assert_int_eq(xap_stem_word(s, "abcdef", 6, out, sizeof out, &n, &e), 0);
    ck_assert_uint_eq(n, 4);
    xap_stem_free(s);
}
END_TEST

START_TEST(test_languages)
{
    const char *l = xap_stem_languages();
    ck_assert_ptr_nonnull(l);
    ck_assert_ptr_nonnull(strstr(l, "english"));
    ck_assert_ptr_nonnull(strstr(l, "french"));
    ck_assert_ptr_eq(l, xap_stem_languages()); /* static, built once */
}
END_TEST

START_TEST(test_free_null)
{
    xap_stem_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("xap");
    TCase *tc = tcase_create("stem");
    tcase_add_test(tc, test_english);
    tcase_add_test(tc, test_aliases_and_case);
    tcase_add_test(tc, test_none_copies);
    tcase_add_test(tc, test_unknown_language);
    tcase_add_test(tc, test_truncation);
    tcase_add_test(tc, test_languages);
    tcase_add_test(tc, test_free_null);
    suite_add_tcase(s, tc);
    return test_run(s);
}
