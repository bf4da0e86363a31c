/* Unit tests for xap: Snowball stemming through the C wrapper, and the
 * Xapian engine's writer, reader, weight and error mapping. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bm25.h"
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

/* A three-document database in a fresh temporary directory (path[64]). */
static void make_db(char *path)
{
    snprintf(path, 64, "/tmp/idx-test-xap.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(path));
    strcat(path, "/db");
    xap_writer *w = NULL;
    idx_err e = {0};
    ck_assert_int_eq(xap_writer_create(path, &w, &e), 0);
    /* doc 1: "solar" once in its 2-token title, twice in its 10-token body */
    const uint32_t p1[] = {0, 3, 7}, p2[] = {1}, p3[] = {0, 0};
    ck_assert_int_eq(xap_writer_begin(w, "d1", 2, "rec1", 4, 2, 10, 20190301, 0, &e), 0);
    ck_assert_int_eq(xap_writer_term(w, "solar", 5, 0, 1, 2, p1, &e), 0);
    ck_assert_int_eq(xap_writer_term(w, "a:smith", 7, 1, 0, 1, p3, &e), 0);
    ck_assert_int_eq(xap_writer_labels(w, "Ann; Bob; Ann", 13, "Sport", 5, &e), 0);
    ck_assert_int_eq(xap_writer_end(w, &e), 0);
    ck_assert_int_eq(xap_writer_begin(w, "d2", 2, "rec2", 4, 0, 4, 0, 0, &e), 0);
    ck_assert_int_eq(xap_writer_term(w, "solar", 5, 0, 0, 1, p2, &e), 0);
    ck_assert_int_eq(xap_writer_end(w, &e), 0);
    ck_assert_int_eq(xap_writer_begin(w, "d3", 2, "rec3", 4, 1, 1, 0, 0, &e), 0);
    ck_assert_int_eq(xap_writer_term(w, "wind", 4, 0, 1, 1, p3, &e), 0);
    ck_assert_int_eq(xap_writer_end(w, &e), 0);
    /* a field too long for the document length's bits is refused, by name */
    ck_assert_int_eq(xap_writer_begin(w, "big", 3, "r", 1, XAP_MAX_TITLE_TOKENS + 1, 1, 0, 0, &e),
                     IDX_EDATA);
    ck_assert_ptr_nonnull(strstr(e.msg, "'big'"));
    err_clear(&e);
    xap_totals t;
    ck_assert_int_eq(xap_writer_close(w, &t, &e), 0);
    ck_assert_uint_eq(t.terms, 3);
    ck_assert_uint_eq(t.postings, 4);
    ck_assert_uint_eq(t.docs, 3);
    ck_assert_uint_eq(t.tokens_title, 3);
    ck_assert_uint_eq(t.tokens_body, 15);
}

static void remove_db(const char *path)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strlen(path) - 3), path);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_engine_roundtrip)
{
    char path[64];
    make_db(path);
    xap_db *db = NULL;
    idx_err e = {0};
    ck_assert_int_eq(xap_open(path, &db, &e), 0);
    uint64_t n;
    ck_assert_int_eq(xap_doccount(db, &n, &e), 0);
    ck_assert_uint_eq(n, 3);
    uint32_t id;
    ck_assert_int_eq(xap_find_id(db, "d2", 2, &id, &e), 1);
    ck_assert_int_eq(xap_find_id(db, "d9", 2, &id, &e), 0);
    buf data = {0};
    ck_assert_int_eq(xap_find_id(db, "d1", 2, &id, &e), 1);
    ck_assert_int_eq(xap_doc_data(db, id, &data, &e), 0);
    ck_assert_int_eq((int)data.len, 4);
    ck_assert_int_eq(memcmp(data.p, "rec1", 4), 0);
    buf_free(&data);

    /* the weight is bm25.h's BM25F with the given statistics, to the bit */
    xap_params p = {1.2, 0.75, 3.0, 3.0, 1.0, 5.0, 1000, 0};
    bm25_params bp = {p.k1, p.b, p.title_weight};
    xap_query *q = NULL;
    ck_assert_int_eq(xap_query_new(db, &p, &q, &e), 0);
    ck_assert_int_eq(xap_query_term(q, XAP_FIELDS, "solar", 5, &e), 0);
    xap_hit h[4];
    uint32_t nh;
    uint64_t total;
    int exact;
    ck_assert_int_eq(xap_query_run(q, 0, 4, UINT64_MAX, h, &nh, &total, &exact, &e), 0);
    ck_assert_uint_eq(nh, 2);
    ck_assert_uint_eq(total, 2);
    double tfw = 3.0 * 1 * (1.0 / bm25_norm(&bp, 2, 1.0)) + 2 * (1.0 / bm25_norm(&bp, 10, 5.0));
    ck_assert(h[0].score == bm25_idf(3, 2) * bm25_sat(&bp, tfw));
    xap_query_free(q);

    /* title scope only sees titles; author terms score their raw frequency */
    ck_assert_int_eq(xap_query_new(db, &p, &q, &e), 0);
    ck_assert_int_eq(xap_query_term(q, XAP_TITLE, "solar", 5, &e), 0);
    ck_assert_int_eq(xap_query_term(q, XAP_LABEL, "a:smith", 7, &e), 0);
    ck_assert_int_eq(xap_query_date(q, 20190101, 20191231, &e), 0);
    const xap_occur occ[3] = {XAP_SHOULD, XAP_SHOULD, XAP_MUST};
    const int filter[3] = {0, 0, 1};
    ck_assert_int_eq(xap_query_bool(q, 3, occ, filter, &e), 0);
    ck_assert_int_eq(xap_query_run(q, 0, 4, UINT64_MAX, h, &nh, &total, &exact, &e), 0);
    ck_assert_uint_eq(nh, 1);
    double title = bm25_sat(&bp, 3.0 * 1 * (1.0 / bm25_norm(&bp, 2, 1.0)));
    ck_assert_double_eq_tol(h[0].score, bm25_idf(3, 2) * title + bm25_idf(3, 1) * bm25_sat(&bp, 1),
                            1e-12);
    xap_query_free(q);
    xap_close(db);
    remove_db(path);
}
END_TEST

START_TEST(test_engine_locked_and_corrupt)
{
    char path[64];
    make_db(path);
    idx_err e = {0};
    xap_writer *a = NULL, *b = NULL;
    ck_assert_int_eq(xap_writer_create(path, &a, &e), 0);
    ck_assert_int_eq(xap_writer_create(path, &b, &e), IDX_EDATA);
    ck_assert_ptr_null(b);
    ck_assert_ptr_nonnull(strstr(e.msg, "locked"));
    xap_writer_abort(a);

    /* a damaged version file is a data error with Xapian's word for it */
    char f[96];
    snprintf(f, sizeof f, "%s/iamglass", path);
    FILE *fp = fopen(f, "wb");
    ck_assert_ptr_nonnull(fp);
    fputs("garbage", fp);
    fclose(fp);
    xap_db *db = NULL;
    err_clear(&e);
    ck_assert_int_eq(xap_open(path, &db, &e), IDX_EDATA);
    ck_assert_ptr_null(db);
    ck_assert_ptr_nonnull(strstr(e.msg, "Corrupt"));
    err_clear(&e);
    ck_assert_int_eq(xap_open("/nonexistent/idx-xap", &db, &e), IDX_EDATA);
    remove_db(path);
}
END_TEST

/* b's bytes as a C string (a NUL kept past its end) */
static const char *cstr(buf *b)
{
    buf_put_u8(b, 0);
    b->len--;
    return (const char *)b->p;
}

/* Collects xap_eset's terms, "a b " */
static int eset_cat(void *ctx, const char *term, size_t len, uint64_t df, double weight,
                    idx_err *err)
{
    (void)err;
    ck_assert(weight > 0);
    ck_assert_uint_ge(df, 1);
    buf_put(ctx, term, len);
    buf_put_u8(ctx, ' ');
    return 0;
}

static int refuse_solar(void *ctx, const char *term, size_t len)
{
    (void)ctx;
    return len == 5 && !memcmp(term, "solar", 5);
}

/* The values xap_query_value_counts reports, "slot:value=count " */
static void value_cat(void *ctx, xap_value slot, const char *value, size_t len, uint64_t count)
{
    buf_printf(ctx, "%d:%.*s=%llu ", (int)slot, (int)len, value, (unsigned long long)count);
}

START_TEST(test_engine_eset_values_scale)
{
    char path[64];
    make_db(path);
    xap_db *db = NULL;
    idx_err e = {0};
    ck_assert_int_eq(xap_open(path, &db, &e), 0);
    uint32_t d1;
    ck_assert_int_eq(xap_find_id(db, "d1", 2, &d1, &e), 1);
    /* d1's own title/body terms only: not a:smith, nor the internal S, Q, L terms */
    buf b = {0};
    ck_assert_int_eq(xap_eset(db, &d1, 1, 10, 1, 3, NULL, NULL, eset_cat, &b, &e), 0);
    ck_assert_str_eq(cstr(&b), "solar ");
    /* the df bounds and the skip callback */
    b.len = 0;
    ck_assert_int_eq(xap_eset(db, &d1, 1, 10, 3, 3, NULL, NULL, eset_cat, &b, &e), 0);
    ck_assert_int_eq((int)b.len, 0);
    ck_assert_int_eq(xap_eset(db, &d1, 1, 10, 1, 1, NULL, NULL, eset_cat, &b, &e), 0);
    ck_assert_int_eq((int)b.len, 0);
    ck_assert_int_eq(xap_eset(db, &d1, 1, 10, 1, 3, refuse_solar, NULL, eset_cat, &b, &e), 0);
    ck_assert_int_eq((int)b.len, 0);

    /* every match's stored values, per slot; fields whole */
    xap_params p = {1.2, 0.75, 3.0, 3.0, 1.0, 5.0, 1000, 0};
    xap_query *q = NULL;
    uint64_t matches = 0;
    ck_assert_int_eq(xap_query_new(db, &p, &q, &e), 0);
    ck_assert_int_eq(xap_query_term(q, XAP_FIELDS, "solar", 5, &e), 0);
    ck_assert_int_eq(xap_query_value_counts(q,
                                            1u << XAP_VALUE_DATE | 1u << XAP_VALUE_AUTHOR |
                                                1u << XAP_VALUE_CATEGORY,
                                            value_cat, &b, &matches, &e),
                     0);
    ck_assert_str_eq(cstr(&b), "0:20190301=1 1:Ann; Bob; Ann=1 2:Sport=1 ");
    ck_assert_uint_eq(matches, 2);

    /* a weight multiplies the term's score */
    xap_hit h[4], hs[4];
    uint32_t nh;
    uint64_t total;
    int exact;
    ck_assert_int_eq(xap_query_run(q, 0, 4, UINT64_MAX, h, &nh, &total, &exact, &e), 0);
    xap_query_free(q);
    ck_assert_int_eq(xap_query_new(db, &p, &q, &e), 0);
    ck_assert_int_eq(xap_query_term(q, XAP_FIELDS, "solar", 5, &e), 0);
    ck_assert_int_eq(xap_query_scale(q, 0.25, &e), 0);
    ck_assert_int_eq(xap_query_run(q, 0, 4, UINT64_MAX, hs, &nh, &total, &exact, &e), 0);
    ck_assert_uint_eq(nh, 2);
    ck_assert_uint_eq(hs[0].docid, h[0].docid);
    ck_assert_double_eq_tol(hs[0].score, 0.25 * h[0].score, 1e-12);
    xap_query_free(q);
    buf_free(&b);
    xap_close(db);
    remove_db(path);
}
END_TEST

static void totals_eq(const xap_totals *t, uint64_t docs, uint64_t title, uint64_t body,
                      uint64_t terms, uint64_t postings, uint64_t positions)
{
    ck_assert_uint_eq(t->docs, docs);
    ck_assert_uint_eq(t->tokens_title, title);
    ck_assert_uint_eq(t->tokens_body, body);
    ck_assert_uint_eq(t->terms, terms);
    ck_assert_uint_eq(t->postings, postings);
    ck_assert_uint_eq(t->positions, positions);
}

/* An update replaces and deletes by id in one commit: readers see all of it
 * or none, and the totals in the metadata follow the documents. */
START_TEST(test_engine_update)
{
    char path[64];
    make_db(path);
    idx_err e = {0};
    xap_totals none = {0}, t;
    xap_writer *w = NULL, *other = NULL;
    ck_assert_int_eq(xap_writer_open(path, &none, &w, &e), 0);
    ck_assert_int_eq(xap_writer_open(path, &none, &other, &e), IDX_EBUSY);
    ck_assert_ptr_null(other);
    ck_assert_ptr_nonnull(strstr(e.msg, "another writer"));
    err_clear(&e);
    /* d2 comes back with other words: "wind" once in a 1-token title, 3-token body */
    const uint32_t pw[] = {0};
    ck_assert_int_eq(xap_writer_begin(w, "d2", 2, "rec2b", 5, 1, 3, 0, 0, &e), 0);
    ck_assert_int_eq(xap_writer_term(w, "wind", 4, 0, 1, 0, pw, &e), 0);
    ck_assert_int_eq(xap_writer_end(w, &e), 0);
    ck_assert_int_eq(xap_writer_delete_id(w, "d3", 2, &e), 1);
    ck_assert_int_eq(xap_writer_delete_id(w, "d3", 2, &e), 0);
    ck_assert_int_eq(xap_writer_delete_id(w, "nope", 4, &e), 0);
    ck_assert_uint_eq(xap_writer_removed(w), 2);

    /* nothing is visible before the commit */
    xap_db *db = NULL;
    uint64_t n;
    uint32_t id;
    ck_assert_int_eq(xap_open(path, &db, &e), 0);
    ck_assert_int_eq(xap_doccount(db, &n, &e), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(xap_db_totals(db, &t, &e), 1);
    totals_eq(&t, 3, 3, 15, 3, 4, 7);
    xap_close(db);

    ck_assert_int_eq(xap_writer_close(w, &t, &e), 0);
    /* d1 (solar 3, a:smith 1) and the new d2 (wind 1); d3's wind is gone */
    totals_eq(&t, 2, 3, 13, 3, 3, 5);
    ck_assert_int_eq(xap_open(path, &db, &e), 0);
    ck_assert_int_eq(xap_doccount(db, &n, &e), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(xap_db_totals(db, &t, &e), 1);
    totals_eq(&t, 2, 3, 13, 3, 3, 5);
    ck_assert_int_eq(xap_find_id(db, "d3", 2, &id, &e), 0);
    ck_assert_int_eq(xap_find_id(db, "d2", 2, &id, &e), 1);
    ck_assert_uint_eq(id, 4); /* a new docid: the replacement ranks in input order */
    buf data = {0};
    ck_assert_int_eq(xap_doc_data(db, id, &data, &e), 0);
    ck_assert_int_eq(memcmp(data.p, "rec2b", 5), 0);
    buf_free(&data);
    /* "solar" is in d1 only now, "wind" in d2 only */
    xap_params p = {1.2, 0.75, 3.0, 2.0, 1.5, 6.5, 1000, 0};
    const char *words[] = {"solar", "wind"};
    for (int i = 0; i < 2; i++) {
        xap_query *q = NULL;
        xap_hit h[4];
        uint32_t nh;
        uint64_t total;
        int exact;
        ck_assert_int_eq(xap_query_new(db, &p, &q, &e), 0);
        ck_assert_int_eq(xap_query_term(q, XAP_FIELDS, words[i], strlen(words[i]), &e), 0);
        ck_assert_int_eq(xap_query_run(q, 0, 4, UINT64_MAX, h, &nh, &total, &exact, &e), 0);
        ck_assert_uint_eq(nh, 1);
        ck_assert_uint_eq(h[0].docid, i ? 4 : 1);
        xap_query_free(q);
    }
    xap_close(db);

    /* an update abandoned changes nothing */
    ck_assert_int_eq(xap_writer_open(path, &none, &w, &e), 0);
    ck_assert_int_eq(xap_writer_delete_id(w, "d1", 2, &e), 1);
    xap_writer_abort(w);
    ck_assert_int_eq(xap_open(path, &db, &e), 0);
    ck_assert_int_eq(xap_find_id(db, "d1", 2, &id, &e), 1);
    xap_close(db);
    remove_db(path);
}
END_TEST

/* The database's own totals win over the ones given for a database that
 * has none. */
START_TEST(test_engine_update_own_totals)
{
    char path[64];
    make_db(path);
    idx_err e = {0};
    xap_totals given = {100, 100, 100, 100, 100, 100}, t;
    xap_writer *w = NULL;
    ck_assert_int_eq(xap_writer_open(path, &given, &w, &e), 0);
    ck_assert_int_eq(xap_writer_delete_id(w, "d1", 2, &e), 1);
    ck_assert_int_eq(xap_writer_close(w, &t, &e), 0);
    totals_eq(&t, 2, 1, 5, 2, 2, 3); /* a:smith went with d1; solar stays in d2 */
    remove_db(path);
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
    TCase *te = tcase_create("engine");
    tcase_add_test(te, test_engine_roundtrip);
    tcase_add_test(te, test_engine_locked_and_corrupt);
    tcase_add_test(te, test_engine_update);
    tcase_add_test(te, test_engine_update_own_totals);
    tcase_add_test(te, test_engine_eset_values_scale);
    suite_add_tcase(s, te);
    return test_run(s);
}
