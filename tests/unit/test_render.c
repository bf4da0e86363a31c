/* Unit tests for render: the escapers byte for byte (JSON, HTML), and whole
 * result lists in each format against exact expected text. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "searcher/render.h"
#include "tests/unit/testutil.h"

/* Renders with fn into a fresh buffer and returns it NUL-terminated (static). */
static const char *json_of(const char *s, size_t n)
{
    static char out[1024];
    buf b = {0};
    render_json_string(&b, s, n);
    ck_assert_int_eq(b.oom, 0);
    ck_assert_uint_lt(b.len, sizeof out);
    if (b.len) memcpy(out, b.p, b.len);
    out[b.len] = '\0';
    buf_free(&b);
    return out;
}

static const char *html_of(const char *s, size_t n)
{
    static char out[1024];
    buf b = {0};
    render_html_text(&b, s, n);
    ck_assert_uint_lt(b.len, sizeof out);
    if (b.len) memcpy(out, b.p, b.len);
    out[b.len] = '\0';
    buf_free(&b);
    return out;
}

#define J(lit) json_of(lit, sizeof(lit) - 1)
#define H(lit) html_of(lit, sizeof(lit) - 1)

START_TEST(json_escaping)
{
    ck_assert_str_eq(J(""), "\"\"");
    ck_assert_str_eq(J("plain text"), "\"plain text\"");
    ck_assert_str_eq(J("say \"hi\""), "\"say \\\"hi\\\"\"");
    ck_assert_str_eq(J("C:\\dir\\"), "\"C:\\\\dir\\\\\"");
    ck_assert_str_eq(J("a\nb\tc\rd\be\ff"), "\"a\\nb\\tc\\rd\\be\\ff\"");
    ck_assert_str_eq(J("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"");
    ck_assert_str_eq(J("nul\0byte"), "\"nul\\u0000byte\"");
    ck_assert_str_eq(J("</script><b>&amp;"), "\"\\u003c/script\\u003e\\u003cb\\u003e\\u0026amp;\"");
    /* valid multibyte text passes through as is */
    ck_assert_str_eq(J("café € 東京 😀"), "\"café € 東京 😀\"");
    /* JavaScript line terminators */
    ck_assert_str_eq(J("a\xE2\x80\xA8"
                       "b\xE2\x80\xA9"),
                     "\"a\\u2028b\\u2029\"");
    /* invalid UTF-8: one U+FFFD per maximal ill-formed subpart */
    ck_assert_str_eq(J("a\xFF"
                       "b"),
                     "\"a\\ufffdb\"");
    ck_assert_str_eq(J("\xE2\x82"
                       "x"),
                     "\"\\ufffdx\"");                                 /* truncated € */
    ck_assert_str_eq(J("\xE2\x82"), "\"\\ufffd\"");                   /* truncated at the end */
    ck_assert_str_eq(J("\xC0\xAF"), "\"\\ufffd\\ufffd\"");            /* overlong '/' */
    ck_assert_str_eq(J("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\""); /* a surrogate */
    ck_assert_str_eq(J("\xF4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
    ck_assert_str_eq(J("\x80\x80"), "\"\\ufffd\\ufffd\""); /* stray continuations */
    ck_assert_str_eq(J("\xF0\x9F\x98"), "\"\\ufffd\"");    /* truncated emoji */
}
END_TEST

START_TEST(html_escaping)
{
    ck_assert_str_eq(H("<a href=\"x\">Tom & Jerry's</a>"),
                     "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
    ck_assert_str_eq(H("tab\tnl\nok"), "tab\tnl\nok");
    ck_assert_str_eq(H("bell\x07"), "bell\xEF\xBF\xBD");
    ck_assert_str_eq(H("bad\xFF"), "bad\xEF\xBF\xBD");
    ck_assert_str_eq(H("café"), "café");

    snip_span sp[2] = {{0, 3}, {8, 13}};
    char text[] = "<b> and Jerry";
    snip_text t = {text, strlen(text), 1, 1, sp, 2};
    buf b = {0};
    render_html_snippet(&b, &t);
    buf_put_u8(&b, 0);
    ck_assert_str_eq((char *)b.p, RENDER_ELLIPSIS
                     " <mark>&lt;b&gt;</mark> and <mark>Jerry</mark> " RENDER_ELLIPSIS);
    buf_free(&b);
}
END_TEST

START_TEST(numbers_and_formats)
{
    buf b = {0};
    render_json_number(&b, 12.3456789012);
    buf_put_u8(&b, ' ');
    render_json_number(&b, 1.5);
    buf_put_u8(&b, ' ');
    render_json_number(&b, NAN);
    buf_put_u8(&b, 0);
    ck_assert_str_eq((char *)b.p, "12.3456789 1.5 0");
    buf_free(&b);
    ck_assert_int_eq(render_format_parse("text"), RENDER_TEXT);
    ck_assert_int_eq(render_format_parse("json"), RENDER_JSON);
    ck_assert_int_eq(render_format_parse("trec"), RENDER_TREC);
    ck_assert_int_eq(render_format_parse("xml"), -1);
}
END_TEST

/* Two hits: one with a cut snippet and highlights, one bare. */
static snip_span body_sp[] = {{4, 7}};
static snip_span title_sp[] = {{0, 3}};
static snip_result sr = {{"Dog \"days\"", 10, 0, 0, title_sp, 1},
                         {"the dog barks", 13, 1, 1, body_sp, 1}};
static match_part parts[] = {{"dog", 1, 2, 1.25, 3.5}};

static search_hit hits[2] = {
    {1,
     3.5,
     "d1",
     "Dog \"days\"",
     "http://x/?a=1&b=2",
     "2019-01-02",
     2,
     10,
     17,
     10,
     &sr,
     parts,
     1,
     "Ann <a>",
     7,
     "pets",
     4,
     0,
     "{\"places\":[\"uk\"]}",
     17},
    /* a hit with two duplicates collapsed into it */
    {2,    0.123456789, "doc two", NULL, NULL, NULL, 7, 0, 0,    0,
     NULL, NULL,        0,         NULL, 0,    NULL, 0, 2, NULL, 0},
};

static const char *render(render_format f, const render_query *q, size_t n)
{
    static char out[4096];
    buf b = {0};
    render_results(&b, f, q, hits, n);
    ck_assert_int_eq(b.oom, 0);
    ck_assert_uint_lt(b.len, sizeof out);
    if (b.len) memcpy(out, b.p, b.len);
    out[b.len] = '\0';
    buf_free(&b);
    return out;
}

START_TEST(trec_lines)
{
    render_query q = {
        .query = "dog", .query_len = 3, .total = 2, .total_exact = 1, .took_ms = 0.5, .color = 0};
    ck_assert_str_eq(render(RENDER_TREC, &q, 2), "1 Q0 d1 1 3.500000 idx\n"
                                                 "1 Q0 doc_two 2 0.123457 idx\n");
    q.qid = "q 7";
    ck_assert_str_eq(render(RENDER_TREC, &q, 1), "q_7 Q0 d1 1 3.500000 idx\n");
    ck_assert_str_eq(render(RENDER_TREC, &q, 0), "");
}
END_TEST

START_TEST(json_results)
{
    render_query q = {.query = "dog \"x",
                      .query_len = 6,
                      .total = 2,
                      .total_exact = 0,
                      .took_ms = 1.25,
                      .color = 1};
    ck_assert_str_eq(
        render(RENDER_JSON, &q, 2),
        "{\"query\":\"dog \\\"x\",\"total\":2,\"total_exact\":false,\"took_ms\":1.250,\"hits\":["
        "{\"rank\":1,\"id\":\"d1\",\"score\":3.5,\"title\":\"Dog \\\"days\\\"\","
        "\"title_highlights\":[[0,3]],\"url\":\"http://x/?a=1\\u0026b=2\",\"date\":\"2019-01-02\","
        "\"author\":\"Ann \\u003ca\\u003e\",\"category\":\"pets\","
        "\"fields\":{\"places\":[\"uk\"]},"
        "\"snippet\":\"" RENDER_ELLIPSIS " the dog barks " RENDER_ELLIPSIS "\","
        "\"highlights\":[[8,11]],"
        "\"explain\":[{\"what\":\"dog\",\"tf_title\":1,\"tf_body\":2,\"idf\":1.25,\"score\":3.5}]},"
        "{\"rank\":2,\"id\":\"doc two\",\"score\":0.123456789,\"title\":\"\",\"url\":\"\","
        "\"date\":\"\",\"author\":\"\",\"category\":\"\",\"collapsed\":2}]}\n");
    /* the highlight offsets point at "dog" in the snippet string as written */
    const char *snippet = RENDER_ELLIPSIS " the dog barks";
    ck_assert_int_eq(memcmp(snippet + 8, "dog", 3), 0);

    q.qid = "7";
    ck_assert_str_eq(render(RENDER_JSON, &q, 0),
                     "{\"qid\":\"7\",\"query\":\"dog \\\"x\",\"total\":2,\"total_exact\":false,"
                     "\"took_ms\":1.250,\"hits\":[]}\n");

    buf b = {0};
    render_error(&b, RENDER_JSON, "9", "a)", 2, "query: unbalanced ')' at column 2");
    render_error(&b, RENDER_TREC, "9", "a)", 2, "ignored");
    buf_put_u8(&b, 0);
    ck_assert_str_eq((char *)b.p, "{\"qid\":\"9\",\"query\":\"a)\",\"error\":\"query: unbalanced "
                                  "')' at column 2\"}\n");
    buf_free(&b);
}
END_TEST

START_TEST(text_results)
{
    render_query q = {
        .query = "dog", .query_len = 3, .total = 2, .total_exact = 1, .took_ms = 0.25, .color = 0};
    ck_assert_str_eq(render(RENDER_TEXT, &q, 2),
                     "2 results (0.2 ms)\n"
                     "\n1. 3.5000 d1 Dog \"days\" (2019-01-02)\n"
                     "   " RENDER_ELLIPSIS " the dog barks " RENDER_ELLIPSIS "\n"
                     "   =    3.5000  dog  tf title 1 body 2  idf 1.2500\n"
                     "\n2. 0.1235 doc two (+2 like it)\n");
    q.color = 1;
    ck_assert_str_eq(render(RENDER_TEXT, &q, 1),
                     "2 results (0.2 ms)\n"
                     "\n1. 3.5000 d1 \033[1mDog\033[0m \"days\" (2019-01-02)\n"
                     "   " RENDER_ELLIPSIS " the \033[1mdog\033[0m barks " RENDER_ELLIPSIS "\n"
                     "   =    3.5000  dog  tf title 1 body 2  idf 1.2500\n");
    /* terminal escape sequences in stored fields are neutralised */
    search_hit evil = {
        .rank = 1, .score = 1, .id = "a\033[2Jb", .id_len = 6, .title = "t\x07", .title_len = 2};
    buf b = {0};
    q.color = 0;
    q.total = 10000;
    q.total_exact = 0;
    render_results(&b, RENDER_TEXT, &q, &evil, 1);
    buf_put_u8(&b, 0);
    ck_assert_str_eq((char *)b.p, "more than 10000 results (0.2 ms)\n\n1. 1.0000 a [2Jb t \n");
    buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, json_escaping);
    tcase_add_test(tc, html_escaping);
    tcase_add_test(tc, numbers_and_formats);
    tcase_add_test(tc, trec_lines);
    tcase_add_test(tc, json_results);
    tcase_add_test(tc, text_results);
    suite_add_tcase(s, tc);
    return test_run(s);
}
