/* Unit tests for snippet: real analyzer (english Snowball, accent folding,
 * CJK bigrams) and real parsed queries. Every result also goes through
 * check_invariants: valid UTF-8, no raw whitespace runs, spans sorted,
 * non-overlapping, inside the text and on character boundaries. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/segfmt.h"
#include "common/segment.h"
#include "indexer/docstore.h"
#include "searcher/snippet.h"
#include "tests/unit/testutil.h"

static ana *A;
static snip *S;

static void setup(void)
{
    ana_config c = ana_config_default();
    idx_err e = {0};
    ck_assert_int_eq(ana_new(&c, &A, &e), 0);
    ck_assert_int_eq(snip_new(A, NULL, &S, &e), 0);
}

static void teardown(void)
{
    snip_free(S);
    ana_free(A);
    S = NULL;
    A = NULL;
}

/* Structural UTF-8 check: lead bytes followed by the right number of
 * continuation bytes (the snippet copies stored text, it never re-encodes). */
static int utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t need;
        if (p[i] < 0x80)
            need = 0;
        else if (p[i] >= 0xC2 && p[i] <= 0xDF)
            need = 1;
        else if (p[i] >= 0xE0 && p[i] <= 0xEF)
            need = 2;
        else if (p[i] >= 0xF0 && p[i] <= 0xF4)
            need = 3;
        else
            return 0;
        for (size_t k = 1; k <= need; k++)
            if (i + k >= n || (p[i + k] & 0xC0) != 0x80) return 0;
        i += need + 1;
    }
    return 1;
}

static void check_text(const snip_text *t)
{
    ck_assert_ptr_nonnull(t->text);
    ck_assert_uint_eq(strlen(t->text), t->len);
    ck_assert_int_eq(utf8_valid(t->text, t->len), 1);
    for (size_t i = 0; i < t->len; i++) {
        unsigned char c = (unsigned char)t->text[i];
        ck_assert_msg(c >= 0x20 && c != 0x7f, "control byte left in snippet");
        ck_assert_msg(!(c == ' ' && (i == 0 || i + 1 == t->len || t->text[i + 1] == ' ')),
                      "untrimmed or doubled space at %zu in '%s'", i, t->text);
    }
    for (size_t k = 0; k < t->n_spans; k++) {
        ck_assert_uint_lt(t->spans[k].start, t->spans[k].end);
        ck_assert_uint_le(t->spans[k].end, t->len);
        if (k) ck_assert_uint_gt(t->spans[k].start, t->spans[k - 1].end);
        ck_assert_int_ne((unsigned char)t->text[t->spans[k].start] & 0xC0, 0x80);
        if (t->spans[k].end < t->len)
            ck_assert_int_ne((unsigned char)t->text[t->spans[k].end] & 0xC0, 0x80);
    }
}

/* Parses query, snippets (title, body), checks invariants. */
static snip_result run(const char *query, const char *title, const char *body)
{
    idx_err e = {0};
    qparse_tree *q = NULL;
    ck_assert_msg(qparse_parse(A, query, strlen(query), NULL, &q, &e) == 0, "%s", e.msg);
    snip_result r;
    ck_assert_msg(snip_doc(S, q, title, title ? strlen(title) : 0, body, body ? strlen(body) : 0,
                           &r, &e) == 0,
                  "%s", e.msg);
    qparse_free(q);
    check_text(&r.title);
    check_text(&r.body);
    return r;
}

/* The highlighted text of span k, in a static buffer. */
static const char *span_str(const snip_text *t, size_t k)
{
    static char out[4][256];
    static int slot;
    char *o = out[slot++ & 3];
    ck_assert_uint_lt(k, t->n_spans);
    size_t n = t->spans[k].end - t->spans[k].start;
    ck_assert_uint_lt(n, 256);
    memcpy(o, t->text + t->spans[k].start, n);
    o[n] = '\0';
    return o;
}

START_TEST(phrase_one_span)
{
    snip_result r =
        run("\"new york\"", NULL, "I moved to New York last year. New things happen in york too.");
    ck_assert_str_eq(r.body.text, "I moved to New York last year. New things happen in york too.");
    ck_assert_uint_eq(r.body.n_spans, 1);
    ck_assert_str_eq(span_str(&r.body, 0), "New York");
    ck_assert_uint_eq(r.body.spans[0].start, 11);
    ck_assert_int_eq(r.body.cut_before, 0);
    ck_assert_int_eq(r.body.cut_after, 0);
    snip_result_free(&r);

    /* across a line break and a no-break space: collapsed to one space,
     * and the span still covers both words */
    r = run("\"new york\"", NULL, "to New\n\t\xC2\xA0 York!");
    ck_assert_str_eq(r.body.text, "to New York!");
    ck_assert_uint_eq(r.body.n_spans, 1);
    ck_assert_str_eq(span_str(&r.body, 0), "New York");
    snip_result_free(&r);

    /* proximity: "solar wind"~2 matches with one word between, as one span */
    r = run("\"solar wind\"~2", NULL, "the solar hot wind blows; wind alone");
    ck_assert_uint_eq(r.body.n_spans, 1);
    ck_assert_str_eq(span_str(&r.body, 0), "solar hot wind");
    snip_result_free(&r);
}
END_TEST

START_TEST(terms_and_stems)
{
    snip_result r =
        run("running dogs", "Dogs", "The dog was running; a runner ran with other dogs.");
    ck_assert_uint_eq(r.body.n_spans, 3);
    ck_assert_str_eq(span_str(&r.body, 0), "dog");
    ck_assert_str_eq(span_str(&r.body, 1), "running");
    ck_assert_str_eq(span_str(&r.body, 2), "dogs");
    ck_assert_uint_eq(r.title.n_spans, 1);
    ck_assert_str_eq(span_str(&r.title, 0), "Dogs");
    snip_result_free(&r);

    /* excluded words are not highlighted */
    r = run("cat -dog", NULL, "cat and dog");
    ck_assert_uint_eq(r.body.n_spans, 1);
    ck_assert_str_eq(span_str(&r.body, 0), "cat");
    snip_result_free(&r);
}
END_TEST

START_TEST(prefix_highlight)
{
    snip_result r = run("econom*", NULL, "The Economy and economics of econ, said ECONOMISTS.");
    ck_assert_uint_eq(r.body.n_spans, 3);
    ck_assert_str_eq(span_str(&r.body, 0), "Economy");
    ck_assert_str_eq(span_str(&r.body, 1), "economics");
    ck_assert_str_eq(span_str(&r.body, 2), "ECONOMISTS");
    snip_result_free(&r);
}
END_TEST

START_TEST(title_scope)
{
    snip_result r = run("title:wing flap", "Wing design", "the wing has a flap");
    ck_assert_uint_eq(r.title.n_spans, 1);
    ck_assert_str_eq(span_str(&r.title, 0), "Wing");
    ck_assert_uint_eq(r.body.n_spans, 1);
    ck_assert_str_eq(span_str(&r.body, 0), "flap");
    snip_result_free(&r);

    /* author: leaves never highlight in title or body */
    r = run("author:smith", "Smith", "smith wrote this");
    ck_assert_uint_eq(r.title.n_spans, 0);
    ck_assert_uint_eq(r.body.n_spans, 0);
    snip_result_free(&r);

    /* a phrase never joins the end of the title with the start of the body */
    r = run("\"design the\"", "Wing design", "the wing");
    ck_assert_uint_eq(r.title.n_spans, 0);
    ck_assert_uint_eq(r.body.n_spans, 0);
    snip_result_free(&r);
}
END_TEST

START_TEST(utf8_accents_cjk)
{
    snip_result r = run("resume", NULL, "Mon résumé, ton RÉSUMÉ.");
    ck_assert_uint_eq(r.body.n_spans, 2);
    ck_assert_str_eq(span_str(&r.body, 0), "résumé");
    ck_assert_str_eq(span_str(&r.body, 1), "RÉSUMÉ");
    snip_result_free(&r);

    /* CJK: overlapping bigrams merge into one span; a window of 200
     * characters of 3-byte text is cut on character boundaries */
    char body[8192];
    size_t n = 0;
    for (int i = 0; i < 400; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s", i % 3 ? "山" : "川");
    n += (size_t)snprintf(body + n, sizeof body - n, "我住在東京都");
    for (int i = 0; i < 400; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s", "海");
    r = run("東京", NULL, body);
    ck_assert_uint_eq(r.body.n_spans, 1);
    ck_assert_str_eq(span_str(&r.body, 0), "東京");
    ck_assert_int_eq(r.body.cut_before, 1);
    ck_assert_int_eq(r.body.cut_after, 1);
    ck_assert_uint_eq(r.body.len % 3, 0);
    ck_assert_uint_eq(r.body.len / 3, SNIP_WINDOW_DEFAULT); /* exactly 200 characters */
    snip_result_free(&r);

    /* accented words around the cut: never half a character */
    n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "éàü ");
    n += (size_t)snprintf(body + n, sizeof body - n, "needle ");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "çéö ");
    r = run("needle", NULL, body);
    ck_assert_uint_eq(r.body.n_spans, 1);
    ck_assert_str_eq(span_str(&r.body, 0), "needle");
    /* cut at word boundaries: whole 3-letter words at both ends */
    ck_assert_msg(!strncmp(r.body.text, "éàü ", strlen("éàü ")), "%s", r.body.text);
    ck_assert_msg(r.body.len >= 6 && !strcmp(r.body.text + r.body.len - 6, "çéö"), "%s",
                  r.body.text);
    snip_result_free(&r);
}
END_TEST

START_TEST(no_match_fallback)
{
    char body[2000] = "";
    for (int i = 0; i < 60; i++)
        strcat(body, i ? " lorem ipsum" : "Lorem ipsum");
    snip_result r = run("zebra", "A title", body);
    ck_assert_uint_eq(r.body.n_spans, 0);
    ck_assert_int_eq(r.body.cut_before, 0);
    ck_assert_int_eq(r.body.cut_after, 1);
    ck_assert_msg(!strncmp(r.body.text, "Lorem ipsum lorem", 17), "%s", r.body.text);
    /* ends on a whole word, at most the window long */
    ck_assert_uint_le(r.body.len, SNIP_WINDOW_DEFAULT);
    ck_assert_uint_ge(r.body.len, SNIP_WINDOW_DEFAULT - 12);
    const char *last = strrchr(r.body.text, ' ');
    ck_assert(!strcmp(last, " lorem") || !strcmp(last, " ipsum"));
    ck_assert_str_eq(r.title.text, "A title");
    snip_result_free(&r);

    /* empty body and title, and a query with nothing searchable */
    r = run("zebra", NULL, NULL);
    ck_assert_str_eq(r.body.text, "");
    ck_assert_str_eq(r.title.text, "");
    ck_assert_int_eq(r.body.cut_after, 0);
    snip_result_free(&r);
    r = run("...", NULL, "  \n leading space");
    ck_assert_str_eq(r.body.text, "leading space");
    ck_assert_int_eq(r.body.cut_before, 0);
    snip_result_free(&r);
}
END_TEST

START_TEST(very_long_text)
{
    /* a match near the end of what is analysed is found */
    size_t n = SNIP_SCAN_MAX - 4096;
    char *body = malloc((2u << 20) + 64);
    for (size_t i = 0; i < n; i += 8)
        memcpy(body + i, "filler  ", 8);
    strcpy(body + n, "target word at the very end.");
    snip_result r = run("target", NULL, body);
    ck_assert_uint_eq(r.body.n_spans, 1);
    ck_assert_str_eq(span_str(&r.body, 0), "target");
    ck_assert_int_eq(r.body.cut_before, 1);
    ck_assert_int_eq(r.body.cut_after, 0);
    ck_assert_uint_le(r.body.len, SNIP_WINDOW_DEFAULT);
    ck_assert_msg(strstr(r.body.text, "filler target word at the very end.") != NULL, "%s",
                  r.body.text);
    ck_assert_msg(!strncmp(r.body.text, "filler", 6), "%s", r.body.text);
    snip_result_free(&r);

    /* one far past SNIP_SCAN_MAX is not looked for: the start is shown */
    n = 2u << 20;
    for (size_t i = 0; i < n; i += 8)
        memcpy(body + i, "filler  ", 8);
    strcpy(body + n, "target word at the very end.");
    r = run("target", NULL, body);
    ck_assert_uint_eq(r.body.n_spans, 0);
    ck_assert_int_eq(r.body.cut_before, 0);
    ck_assert_int_eq(r.body.cut_after, 1);
    ck_assert_msg(!strncmp(r.body.text, "filler filler", 13), "%s", r.body.text);
    snip_result_free(&r);
    free(body);
}
END_TEST

/* "alpha beta" once at the start, then 14 KB later three times together. */
static void early_then_dense(buf *b)
{
    buf_puts(b, "alpha beta. ");
    for (int i = 0; i < 2000; i++)
        buf_puts(b, "filler ");
    buf_puts(b, "alpha beta alpha beta alpha beta.");
    buf_put_u8(b, 0);
}

START_TEST(stops_at_first_full_window)
{
    /* Both words early, a denser passage later: analysis stops after the
     * first passage with every word, so that one is shown; the later
     * matches are past the stop and not highlighted. */
    buf b = {0};
    early_then_dense(&b);
    snip_result r = run("alpha beta", NULL, (const char *)b.p);
    ck_assert_uint_eq(r.body.n_spans, 2);
    ck_assert_str_eq(span_str(&r.body, 0), "alpha");
    ck_assert_str_eq(span_str(&r.body, 1), "beta");
    ck_assert_int_eq(r.body.cut_before, 0);
    snip_result_free(&r);
    buf_free(&b);
}
END_TEST

/* snip_body_has_fn for body_hint: every leaf but the term "gamma" may match;
 * counts its calls in *ctx. */
static int no_gamma(void *ctx, const qparse_node *leaf)
{
    ++*(int *)ctx;
    return !(leaf->kind == Q_TERM && leaf->terms[0].len == 5 &&
             !memcmp(leaf->terms[0].text, "gamma", 5));
}

/* snip_body_has_fn: no leaf can match in the body. */
static int nothing(void *ctx, const qparse_node *leaf)
{
    (void)ctx;
    (void)leaf;
    return 0;
}

START_TEST(body_hint)
{
    /* "alpha beta" early, later many of them: without a hint, analysis
     * looks for "gamma" to the end and the later, denser passage wins;
     * told that the body has no "gamma", it stops after the first passage
     * with the other two, as when every word is there. */
    buf b = {0};
    early_then_dense(&b);
    snip_result r = run("alpha beta gamma", NULL, (const char *)b.p);
    ck_assert_int_eq(r.body.cut_before, 1);
    ck_assert_uint_eq(r.body.n_spans, 6);
    snip_result_free(&r);

    int calls = 0;
    snip_set_body_hint(S, no_gamma, &calls);
    r = run("alpha beta gamma", "gamma in the title", (const char *)b.p);
    ck_assert_int_eq(calls, 3); /* once per body leaf, never for the title */
    ck_assert_int_eq(r.body.cut_before, 0);
    ck_assert_uint_eq(r.body.n_spans, 2);
    ck_assert_str_eq(span_str(&r.body, 0), "alpha");
    ck_assert_str_eq(span_str(&r.body, 1), "beta");
    ck_assert_uint_eq(r.title.n_spans, 1);
    ck_assert_str_eq(span_str(&r.title, 0), "gamma");
    snip_result_free(&r);

    /* Nothing can match: the start of the body, unhighlighted. */
    snip_set_body_hint(S, nothing, NULL);
    r = run("alpha", NULL, "alpha beta gamma");
    ck_assert_uint_eq(r.body.n_spans, 0);
    ck_assert_str_eq(r.body.text, "alpha beta gamma");
    snip_result_free(&r);

    snip_set_body_hint(S, NULL, NULL); /* back to no hint: every leaf may match */
    r = run("alpha", NULL, "alpha beta gamma");
    ck_assert_uint_eq(r.body.n_spans, 1);
    snip_result_free(&r);
    buf_free(&b);
}
END_TEST

START_TEST(dense_window)
{
    /* One "alpha" early; later a region with all three words: that one wins. */
    char body[4096] = "alpha opens the text.";
    for (int i = 0; i < 40; i++)
        strcat(body, " nothing here");
    strcat(body, " then alpha beta and gamma appear together.");
    for (int i = 0; i < 40; i++)
        strcat(body, " more words");
    snip_result r = run("alpha beta gamma", NULL, body);
    ck_assert_uint_eq(r.body.n_spans, 3);
    ck_assert_str_eq(span_str(&r.body, 0), "alpha");
    ck_assert_str_eq(span_str(&r.body, 1), "beta");
    ck_assert_str_eq(span_str(&r.body, 2), "gamma");
    ck_assert_int_eq(r.body.cut_before, 1);
    ck_assert_int_eq(r.body.cut_after, 1);
    ck_assert_msg(strstr(r.body.text, "then alpha beta and gamma appear") != NULL, "%s",
                  r.body.text);
    snip_result_free(&r);

    /* equal distinct words: more occurrences win */
    char b2[4096] = "beta once.";
    for (int i = 0; i < 40; i++)
        strcat(b2, " nothing here");
    strcat(b2, " beta beta beta here.");
    r = run("beta", NULL, b2);
    ck_assert_uint_eq(r.body.n_spans, 3);
    ck_assert_int_eq(r.body.cut_before, 1);
    snip_result_free(&r);

    /* the phrase counts as one unit and wins over scattered words */
    char b3[4096] = "york is old. new is new.";
    for (int i = 0; i < 40; i++)
        strcat(b3, " nothing here");
    strcat(b3, " in new york city");
    r = run("\"new york\" city", NULL, b3);
    ck_assert_uint_eq(r.body.n_spans, 2);
    ck_assert_str_eq(span_str(&r.body, 0), "new york");
    ck_assert_str_eq(span_str(&r.body, 1), "city");
    snip_result_free(&r);
}
END_TEST

START_TEST(reuse_many)
{
    /* one snip across queries and documents: results stay independent */
    for (int i = 0; i < 200; i++) {
        snip_result r =
            run(i % 2 ? "alpha" : "\"beta gamma\" delt*", "alpha beta", "alpha beta gamma delta");
        ck_assert_uint_eq(r.body.n_spans, i % 2 ? 1 : 2);
        ck_assert_str_eq(span_str(&r.body, 0), i % 2 ? "alpha" : "beta gamma");
        snip_result_free(&r);
    }
}
END_TEST

START_TEST(whole_article)
{
    /* every match of the whole field, past SNIP_SCAN_MAX too, on the text kept
     * byte for byte (newlines and double spaces stay); a phrase is one span */
    size_t n = 2u << 20;
    char *body = malloc(n + 64);
    strcpy(body, "Running  dogs\n\nran home.\n");
    size_t head = strlen(body);
    for (size_t i = head; i < n; i += 8)
        memcpy(body + i, "filler  ", 8);
    strcpy(body + n, "the dog ran.");
    size_t len = strlen(body);
    idx_err e = {0};
    qparse_tree *q = NULL;
    ck_assert_int_eq(qparse_parse(A, "dog \"dog ran\" run", 17, NULL, &q, &e), 0);
    snip_result r;
    ck_assert_msg(snip_doc_full(S, q, "Dogs run", 8, body, len, &r, &e) == 0, "%s", e.msg);
    qparse_free(q);
    ck_assert_uint_eq(r.body.len, len);
    ck_assert_int_eq(memcmp(r.body.text, body, len), 0);
    ck_assert_int_eq(r.body.cut_before + r.body.cut_after, 0);
    ck_assert_uint_eq(r.body.n_spans, 3);
    ck_assert_str_eq(span_str(&r.body, 0), "Running");
    ck_assert_str_eq(span_str(&r.body, 1), "dogs\n\nran");
    ck_assert_str_eq(span_str(&r.body, 2), "dog ran");
    ck_assert_uint_eq(r.body.spans[2].start, n + 4);
    ck_assert_uint_eq(r.title.n_spans, 2);
    ck_assert_str_eq(span_str(&r.title, 1), "run");
    snip_result_free(&r);
    free(body);
}
END_TEST

/* ---- the passage from an index's positions (snip_set_body_index) ---- */

/* A one-article index of `body`, made as the build makes it: the indexing
 * analyzer's body positions of each term (fake_pos) and the stored record
 * with its position table (rec, parsed into d). */
typedef struct fake_ix {
    ana *a; /* configured as the build's workers: CJK unigrams too */
    const char *body;
    buf rec;
    seg_doc d;
    const char *term; /* fake_pos's current term */
    size_t len, n, *cap;
    uint32_t **pos;
    int calls, fail;
} fake_ix;

static int fake_table_tok(void *ctx, const ana_token *t)
{
    docstore_posmap *m = ctx;
    if (t->pos >= m->next_pos) docstore_posmap_token(m, t->pos, t->start);
    return 0;
}

static int fake_term_tok(void *ctx, const ana_token *t)
{
    fake_ix *f = ctx;
    if (t->len == f->len && !memcmp(t->term, f->term, f->len) &&
        (f->n == 0 || (*f->pos)[f->n - 1] != t->pos)) {
        ck_assert_int_eq(buf_grow(f->pos, f->cap, f->n + 1, sizeof **f->pos), 0);
        (*f->pos)[f->n++] = t->pos;
    }
    return 0;
}

/* snip_body_pos_fn over the fake index; fails (-1) when f->fail is set. */
static int fake_pos(void *ctx, const char *term, size_t len, uint32_t **pos, size_t *cap, size_t *n)
{
    fake_ix *f = ctx;
    f->calls++;
    if (f->fail) return -1;
    f->term = term;
    f->len = len;
    f->pos = pos;
    f->cap = cap;
    f->n = 0;
    idx_err e = {0};
    ck_assert_int_eq(ana_run(f->a, f->body, strlen(f->body), fake_term_tok, f, &e), 0);
    *n = f->n;
    return 0;
}

static void fake_open(fake_ix *f, const char *body)
{
    memset(f, 0, sizeof *f);
    ana_config c = ana_config_default();
    c.cjk_unigrams = 1;
    idx_err e = {0};
    ck_assert_int_eq(ana_new(&c, &f->a, &e), 0);
    f->body = body;
    docstore_posmap m = {0};
    docstore_posmap_reset(&m);
    ck_assert_int_eq(ana_run(f->a, body, strlen(body), fake_table_tok, &m, &e), 0);
    const char *field[FIELD_STORED] = {"x", "", "", "", "", "", body, ""};
    size_t len[FIELD_STORED] = {1, 0, 0, 0, 0, 0, strlen(body), 0};
    docstore_put_posmap(&f->rec, &m);
    docstore_put_record(&f->rec, field, len);
    /* the size the build counts for the record's block is what it takes */
    buf plain = {0};
    docstore_put_record(&plain, field, len);
    ck_assert_uint_eq(f->rec.len, docstore_posmap_size(&m) + plain.len);
    buf_free(&plain);
    ck_assert_uint_eq(seg_record_parse(f->rec.p, f->rec.len, &f->d), f->rec.len);
    ck_assert_uint_eq(f->d.len[FIELD_BODY], strlen(body));
    docstore_posmap_free(&m);
    snip_set_body_index(S, fake_pos, f, f->d.posmap, f->d.posmap_len);
}

static void fake_close(fake_ix *f)
{
    snip_set_body_index(S, NULL, NULL, NULL, 0);
    buf_free(&f->rec);
    ana_free(f->a);
}

static void same_text(const snip_text *x, const snip_text *y)
{
    ck_assert_str_eq(x->text, y->text);
    ck_assert_int_eq(x->cut_before, y->cut_before);
    ck_assert_int_eq(x->cut_after, y->cut_after);
    ck_assert_uint_eq(x->n_spans, y->n_spans);
    for (size_t k = 0; k < x->n_spans; k++) {
        ck_assert_uint_eq(x->spans[k].start, y->spans[k].start);
        ck_assert_uint_eq(x->spans[k].end, y->spans[k].end);
    }
}

/* The excerpt of body for query with the fake index equals the one without. */
static void same_with_index(const char *query, const char *body)
{
    snip_result r0 = run(query, NULL, body);
    fake_ix f;
    fake_open(&f, body);
    snip_result r1 = run(query, NULL, body);
    same_text(&r0.body, &r1.body);
    fake_close(&f);
    snip_result_free(&r0);
    snip_result_free(&r1);
}

START_TEST(index_passage)
{
    /* The best passage of the whole body, not the first with every word:
     * "alpha beta" three times together 14 KB in wins over the pair at the
     * start (stops_at_first_full_window shows it without the index). */
    buf b = {0};
    early_then_dense(&b);
    fake_ix f;
    fake_open(&f, (const char *)b.p);
    ck_assert_ptr_nonnull(f.d.posmap);
    snip_result r = run("alpha beta", NULL, (const char *)b.p);
    ck_assert_int_eq(f.calls, 2); /* once per term */
    ck_assert_uint_eq(r.body.n_spans, 6);
    for (size_t k = 0; k < 6; k++)
        ck_assert_str_eq(span_str(&r.body, k), k % 2 ? "beta" : "alpha");
    ck_assert_int_eq(r.body.cut_before, 1);
    ck_assert_msg(strstr(r.body.text, "filler alpha beta alpha beta alpha beta.") != NULL, "%s",
                  r.body.text);
    snip_result_free(&r);

    /* A term the body lacks (here only in the title): no position, the other
     * word's passage; the title is analysed as always. */
    r = run("gamma beta", "gamma title", (const char *)b.p);
    ck_assert_uint_eq(r.body.n_spans, 3);
    ck_assert_str_eq(span_str(&r.body, 0), "beta");
    ck_assert_uint_eq(r.title.n_spans, 1);
    snip_result_free(&r);

    /* None of the words in the body: its start, unhighlighted, as without. */
    r = run("gamma", NULL, (const char *)b.p);
    ck_assert_uint_eq(r.body.n_spans, 0);
    ck_assert_int_eq(r.body.cut_before, 0);
    ck_assert_msg(!strncmp(r.body.text, "alpha beta. filler", 18), "%s", r.body.text);
    snip_result_free(&r);
    fake_close(&f);
    buf_free(&b);

    /* When the first passage is the best, the same excerpt as analysing
     * the body from its start (dense_window's text, longer). */
    b.len = 0;
    buf_puts(&b, "alpha opens the text.");
    for (int i = 0; i < 100; i++)
        buf_puts(&b, " nothing here");
    buf_puts(&b, " then alpha beta and gamma appear together.");
    for (int i = 0; i < 100; i++)
        buf_puts(&b, " more words");
    buf_put_u8(&b, 0);
    same_with_index("alpha beta gamma", (const char *)b.p);
    same_with_index("beta", (const char *)b.p);
    same_with_index("\"beta and gamma\"", (const char *)b.p);
    buf_free(&b);
}
END_TEST

START_TEST(index_phrase)
{
    /* The phrase's words apart first, then together: only the phrase is
     * highlighted, as one span, and its passage is chosen. */
    buf b = {0};
    buf_puts(&b, "New ideas.");
    for (int i = 0; i < 300; i++)
        buf_puts(&b, " filler");
    buf_puts(&b, " York stone.");
    for (int i = 0; i < 300; i++)
        buf_puts(&b, " filler");
    buf_puts(&b, " They moved to New\n York in May.");
    for (int i = 0; i < 300; i++)
        buf_puts(&b, " filler");
    buf_put_u8(&b, 0);
    fake_ix f;
    fake_open(&f, (const char *)b.p);
    snip_result r = run("\"new york\"", NULL, (const char *)b.p);
    ck_assert_uint_eq(r.body.n_spans, 1);
    ck_assert_str_eq(span_str(&r.body, 0), "New York");
    ck_assert_msg(strstr(r.body.text, "moved to New York in May") != NULL, "%s", r.body.text);
    snip_result_free(&r);
    /* a phrase with a word between (slop) and a term beside it */
    r = run("\"moved york\"~2 may", NULL, (const char *)b.p);
    ck_assert_uint_eq(r.body.n_spans, 2);
    ck_assert_str_eq(span_str(&r.body, 0), "moved to New York");
    ck_assert_str_eq(span_str(&r.body, 1), "May");
    snip_result_free(&r);
    fake_close(&f);
    buf_free(&b);
}
END_TEST

START_TEST(index_fallbacks)
{
    buf b = {0};
    early_then_dense(&b);
    const char *body = (const char *)b.p;
    /* A prefix leaf: its terms are not looked up; the body is analysed. */
    same_with_index("alph* beta", body);
    /* The index cannot tell: as without it. */
    snip_result r0 = run("alpha beta", NULL, body);
    fake_ix f;
    fake_open(&f, body);
    f.fail = 1;
    snip_result r1 = run("alpha beta", NULL, body);
    same_text(&r0.body, &r1.body);
    snip_result_free(&r1);
    /* A table of another version, or one past the body: ignored. */
    f.fail = 0;
    uint8_t *t = (uint8_t *)(uintptr_t)f.d.posmap;
    t[0] = SEGFMT_POSMAP_VERSION + 1;
    r1 = run("alpha beta", NULL, body);
    same_text(&r0.body, &r1.body);
    snip_result_free(&r1);
    t[0] = SEGFMT_POSMAP_VERSION;
    snip_set_body_index(S, fake_pos, &f, f.d.posmap, f.d.posmap_len);
    size_t body_len = strlen(body);
    uint32_t stride;
    uint32_t *off = NULL;
    size_t cap = 0, n;
    ck_assert_int_eq(
        seg_posmap_decode(f.d.posmap, f.d.posmap_len, body_len, &stride, &off, &cap, &n), 0);
    ck_assert_uint_eq(stride, DOCSTORE_POSMAP_STRIDE);
    ck_assert_uint_eq(n, 2007 / DOCSTORE_POSMAP_STRIDE);        /* positions 0..2007 */
    ck_assert_uint_eq(off[0], strlen("alpha beta. ") + 30 * 7); /* position 32 */
    for (size_t k = 1; k < n; k++)
        ck_assert_uint_eq(off[k] - off[k - 1], DOCSTORE_POSMAP_STRIDE * 7);
    ck_assert_int_eq(
        seg_posmap_decode(f.d.posmap, f.d.posmap_len, off[n - 1] - 1, &stride, &off, &cap, &n), -1);
    ck_assert_int_eq(
        seg_posmap_decode(f.d.posmap, f.d.posmap_len - 1, body_len, &stride, &off, &cap, &n), -1);
    r1 = run("alpha beta", NULL, body);
    ck_assert_uint_eq(r1.body.n_spans, 6); /* the table works again */
    snip_result_free(&r1);
    free(off);
    fake_close(&f);
    snip_result_free(&r0);
    /* Short bodies get no table, CJK text (three bytes a character) works. */
    fake_open(&f, "alpha beta gamma");
    ck_assert_ptr_null(f.d.posmap);
    fake_close(&f);
    b.len = 0;
    for (int i = 0; i < 200; i++)
        buf_puts(
            &b,
            "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe6\x96\x87\xe7\xab\xa0\xe3\x80\x82");
    buf_puts(&b, "\xe6\x9d\xb1\xe4\xba\xac\xe3\x81\xb8\xe8\xa1\x8c\xe3\x81\x8f\xe3\x80\x82");
    for (int i = 0; i < 200; i++)
        buf_puts(
            &b,
            "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe6\x96\x87\xe7\xab\xa0\xe3\x80\x82");
    buf_put_u8(&b, 0);
    same_with_index("\xe6\x9d\xb1\xe4\xba\xac", (const char *)b.p);
    buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("snippet");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, phrase_one_span);
    tcase_add_test(tc, terms_and_stems);
    tcase_add_test(tc, prefix_highlight);
    tcase_add_test(tc, title_scope);
    tcase_add_test(tc, utf8_accents_cjk);
    tcase_add_test(tc, no_match_fallback);
    tcase_add_test(tc, very_long_text);
    tcase_add_test(tc, stops_at_first_full_window);
    tcase_add_test(tc, body_hint);
    tcase_add_test(tc, dense_window);
    tcase_add_test(tc, reuse_many);
    tcase_add_test(tc, whole_article);
    tcase_add_test(tc, index_passage);
    tcase_add_test(tc, index_phrase);
    tcase_add_test(tc, index_fallbacks);
    suite_add_tcase(s, tc);
    return test_run(s);
}
