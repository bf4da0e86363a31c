/* Unit tests of common/fields.h: the table's own consistency, and the label
 * predicate against every producer of terms: the analyzer (no analysed word
 * is a label term, whatever colons the text has), the query side
 * (match_term_key's keys) and a real index's lexicon (built from records
 * with authors and categories). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/analyze.h"
#include "common/fields.h"
#include "common/index.h"
#include "indexer/build.h"
#include "searcher/match.h"
#include "tests/unit/testutil.h"

START_TEST(table_is_consistent)
{
    static const char *const order[FIELD_COUNT] = {"id",     "title",    "url", "date",
                                                   "author", "category", "body"};
    int labels = 0;
    for (int f = 0; f < FIELD_COUNT; f++) {
        const field_info *fi = &field_table[f];
        ck_assert_str_eq(fi->name, order[f]); /* FORMAT.md §7's record order */
        ck_assert_str_eq(fi->json_key, order[f]);
        if (fi->label) {
            labels++;
            ck_assert(fi->searchable);
            EQ(strlen(fi->prefix), FIELD_PREFIX_LEN);
            EQ(fi->prefix[1], ':');
            for (int g = 0; g < f; g++)
                ck_assert(!field_table[g].label || fi->prefix[0] != field_table[g].prefix[0]);
        } else {
            ck_assert_str_eq(fi->prefix, "");
        }
    }
    EQ(labels, 2);
    ck_assert_str_eq(field_table[FIELD_AUTHOR].prefix, FIELD_PREFIX_AUTHOR);
    ck_assert_str_eq(field_table[FIELD_CATEGORY].prefix, FIELD_PREFIX_CATEGORY);
    ck_assert(field_table[FIELD_TITLE].searchable && field_table[FIELD_BODY].searchable);
    ck_assert(!field_table[FIELD_ID].searchable && !field_table[FIELD_URL].searchable &&
              !field_table[FIELD_DATE].searchable);
}
END_TEST

START_TEST(predicate_on_prefixes)
{
    for (int f = 0; f < FIELD_COUNT; f++) {
        char t[64];
        int n = snprintf(t, sizeof t, "%sword", field_table[f].prefix);
        EQ(field_is_label_term(t, (size_t)n), field_table[f].label);
        if (field_table[f].label) {
            EQ(field_is_label_term(t, FIELD_PREFIX_LEN), 1); /* the bare prefix */
            EQ(field_is_label_term(t, 1), 0);
        }
    }
    EQ(field_is_label_term("x:word", 6), 0); /* not a field's prefix */
    EQ(field_is_label_term("ab:c", 4), 0);
    EQ(field_is_label_term("", 0), 0);
}
END_TEST

/* User fields (--index-field): prefixes x1: .. x9:, names the query
 * language can spell and idx does not know. */
START_TEST(user_fields)
{
    for (unsigned i = 1; i <= FIELD_USER_MAX; i++) {
        char p[FIELD_USER_PREFIX_LEN + 1], t[16];
        field_user_prefix(i, p);
        int n = snprintf(t, sizeof t, "%susa", p);
        EQ(field_is_label_term(t, (size_t)n), 1);
        EQ(field_is_label_term(t, FIELD_USER_PREFIX_LEN - 1), 0);
        char key[64];
        size_t kl;
        EQ(match_term_key((qparse_field)(QF_USER + i - 1), "usa", 3, key, sizeof key, &kl), 0);
        EQ(kl, (size_t)n);
        ck_assert(!memcmp(key, t, kl));
    }
    EQ(field_is_label_term("x0:usa", 6), 0);
    EQ(field_is_label_term("xa:usa", 6), 0);
    EQ(field_is_label_term("x1usa", 5), 0);
    EQ(field_user_name_check("places"), 0);
    EQ(field_user_name_check("text_type2"), 0);
    EQ(field_user_name_check("author"), -1);
    EQ(field_user_name_check("text"), -1);
    EQ(field_user_name_check("id"), -1);
    EQ(field_user_name_check("Places"), -2);
    EQ(field_user_name_check("_x"), -2);
    EQ(field_user_name_check("a-b"), -2);
    EQ(field_user_name_check(""), -2);
    EQ(field_user_name_check("abcdefghijklmnopqrstuvwxyz01234"), 0); /* 31 bytes */
    EQ(field_user_name_check("abcdefghijklmnopqrstuvwxyz012345"), -2);
}
END_TEST

typedef struct seen {
    int n, labels;
} seen;

static int on_token(void *ctx, const ana_token *t)
{
    seen *s = ctx;
    s->n++;
    s->labels += field_is_label_term(t->term, t->len);
    OKM(!memchr(t->term, ':', t->len), "analysed term '%.*s' has a colon", (int)t->len, t->term);
    return 0;
}

START_TEST(analysed_words_are_never_labels)
{
    ana *a = NULL;
    idx_err err = {0};
    ana_config cfg = ana_config_default();
    EQ(ana_new(&cfg, &a, &err), 0);
    static const char *const texts[] = {
        "a:b c:d a: c: :a :c", "author:smith category:news", "http://example.com/a:b",
        "C:\\Windows a::c 12:30 x:y", "\xe6\x97\xa5\xe6\x9c\xac:\xe8\xaa\x9e a:\xc3\xa9t\xc3\xa9"};
    seen s = {0};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        EQ(ana_run(a, texts[i], strlen(texts[i]), on_token, &s, &err), 0);
    ck_assert_int_gt(s.n, 20);
    EQ(s.labels, 0);
    ana_free(a);
}
END_TEST

START_TEST(query_keys_agree)
{
    static const struct {
        qparse_field q;
        int field;
    } scopes[] = {{QF_ANY, FIELD_BODY},
                  {QF_TITLE, FIELD_TITLE},
                  {QF_AUTHOR, FIELD_AUTHOR},
                  {QF_CATEGORY, FIELD_CATEGORY}};
    for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++) {
        char key[64];
        size_t kl;
        EQ(match_term_key(scopes[i].q, "smith", 5, key, sizeof key, &kl), 0);
        EQ(field_is_label_term(key, kl), field_table[scopes[i].field].label);
        size_t pl = strlen(field_table[scopes[i].field].prefix);
        EQ(kl, pl + 5);
        ck_assert(!memcmp(key, field_table[scopes[i].field].prefix, pl));
    }
}
END_TEST

/* Every term of a real index: label terms are exactly those with a colon,
 * carry a label field's prefix and have their frequencies in the body slot
 * (FORMAT.md §3). */
START_TEST(index_terms_agree)
{
    char dir[64], in[96], out[96];
    snprintf(dir, sizeof dir, "/tmp/idx-test-fields-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(in, sizeof in, "%s/in.jsonl", dir);
    snprintf(out, sizeof out, "%s/ix", dir);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    for (int d = 0; d < 200; d++)
        fprintf(f,
                "{\"id\":\"d%d\",\"title\":\"Title %d of a:b\",\"body\":\"body c:d words %d\","
                "\"author\":\"Ann Smith%d\",\"category\":\"Science; c:x\"}\n",
                d, d, d % 13, d % 3);
    fclose(f);
    const char *inputs[] = {in};
    build_opts o = build_opts_default(out, inputs, 1);
    o.mem_bytes = 64u << 20;
    o.threads = 1;
    build_summary sum;
    idx_err err = {0};
    OKM(build_run(&o, &sum, &err) == 0, "build: %s", err.msg);
    idx_index *ix = NULL;
    EQ(index_open(out, &ix, &err), 0);
    seg *s = ix->segs[0];
    seg_lex_iter it;
    seg_term t;
    EQ(seg_lex_seek(s, "", 0, &it, &err), 0);
    int rc, labels = 0, plain = 0;
    while ((rc = seg_lex_next(&it, &t, &err)) == 1) {
        int label = field_is_label_term(it.term, it.term_len);
        EQ(label, memchr(it.term, ':', it.term_len) != NULL);
        if (!label) {
            plain++;
            continue;
        }
        labels++;
        int which = -1;
        for (int k = 0; k < FIELD_COUNT; k++)
            if (field_table[k].label && !memcmp(it.term, field_table[k].prefix, FIELD_PREFIX_LEN))
                which = k;
        OKM(which >= 0, "label term '%s' has no field", it.term);
        seg_cursor c;
        EQ(seg_cursor_open(s, &t, &c, &err), 0);
        while (c.doc != SEG_END) {
            EQ(c.tf_title, 0);
            EQ(seg_cursor_next(&c, &err), 0);
        }
    }
    EQ(rc, 0);
    ck_assert_int_ge(labels, 5); /* a:ann, a:smith0..2, c:science, c:x */
    ck_assert_int_gt(plain, 10);
    index_close(ix);
    EQ(test_rmtree(dir), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fields");
    TCase *tc = tcase_create("fields");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, table_is_consistent);
    tcase_add_test(tc, predicate_on_prefixes);
    tcase_add_test(tc, user_fields);
    tcase_add_test(tc, analysed_words_are_never_labels);
    tcase_add_test(tc, query_keys_agree);
    tcase_add_test(tc, index_terms_agree);
    suite_add_tcase(s, tc);
    return test_run(s);
}
