/* Unit tests for qparse: query text -> tree, through the real analyzer
 * (english Snowball: running -> run, economy -> economi, cats -> cat).
 * Tables compare canonical dumps (format in docs/QUERY.md); the malformed
 * table pins every repair and rejection rule; then limits (deep nesting,
 * 10,000 words) and a random-bytes fuzz loop that also checks the tree
 * invariants promised in qparse.h. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "searcher/qparse.h"
#include "tests/unit/testutil.h"

static ana *A;

static void setup(void)
{
    ana_config c = ana_config_default();
    idx_err e = {0};
    ck_assert_int_eq(ana_new(&c, &A, &e), 0);
}

static void teardown(void)
{
    ana_free(A);
    A = NULL;
}

/* Checks the invariants qparse.h promises for every returned tree. */
static void check_node(const qparse_node *n, int is_root, qparse_occur occ_in_parent)
{
    switch (n->kind) {
    case Q_TERM:
        ck_assert_uint_eq(n->nterms, 1);
        ck_assert_uint_gt(n->terms[0].len, 0);
        ck_assert_uint_eq(n->terms[0].pos, 0);
        ck_assert_uint_eq(strlen(n->terms[0].text) <= n->terms[0].len, 1);
        break;
    case Q_PREFIX:
        ck_assert_uint_eq(n->nterms, 1);
        ck_assert_uint_ge(n->terms[0].len, 2);
        break;
    case Q_PHRASE:
        ck_assert_uint_ge(n->nterms, 2);
        ck_assert_uint_eq(n->terms[0].pos, 0);
        for (uint32_t k = 1; k < n->nterms; k++)
            ck_assert_uint_ge(n->terms[k].pos, n->terms[k - 1].pos);
        ck_assert_uint_le(n->slop, QPARSE_MAX_SLOP);
        break;
    case Q_DATE:
        ck_assert_uint_le(n->date_lo, n->date_hi);
        ck_assert_int_eq(n->field, QF_ANY);
        break;
    case Q_BOOL: {
        if (n->nclauses == 0) {
            ck_assert_int_eq(is_root, 1); /* only the "nothing searchable" root */
            break;
        }
        ck_assert_uint_ge(n->nclauses, 2);
        int positive = 0, should = 0, all_should = 1;
        for (uint32_t k = 0; k < n->nclauses; k++) {
            qparse_occur o = n->clauses[k].occur;
            positive |= o != Q_MUST_NOT;
            should |= o == Q_SHOULD;
            all_should &= o == Q_SHOULD;
        }
        ck_assert_int_eq(positive, 1);
        /* Not flattenable into the parent. */
        if (!is_root) {
            if (occ_in_parent == Q_SHOULD || occ_in_parent == Q_MUST_NOT)
                ck_assert_int_eq(all_should, 0);
            if (occ_in_parent == Q_MUST) ck_assert_int_eq(should, 1);
        }
        for (uint32_t k = 0; k < n->nclauses; k++)
            check_node(n->clauses[k].node, 0, n->clauses[k].occur);
        break;
    }
    default:
        ck_abort_msg("bad node kind %d", (int)n->kind);
    }
}

/* Parses q and returns its dump, or "!<column>" for an IDX_EUSAGE error
 * ("!" alone when the message names no column), into buf. */
static const char *run(const char *q, size_t len, int all, char *buf, size_t cap)
{
    qparse_options o = {.all_required = all};
    qparse_tree *t = NULL;
    idx_err e = {0};
    int rc = qparse_parse(A, q, len, &o, &t, &e);
    if (rc) {
        ck_assert_int_eq(rc, IDX_EUSAGE);
        ck_assert_int_eq(e.code, IDX_EUSAGE);
        ck_assert_ptr_null(t);
        ck_assert_msg(strncmp(e.msg, "query: ", 7) == 0, "message '%s'", e.msg);
        const char *c = strstr(e.msg, "at column ");
        if (c)
            snprintf(buf, cap, "!%s", c + 10);
        else
            snprintf(buf, cap, "!");
        /* keep only the number */
        for (char *p = buf + 1; *p; p++)
            if (*p < '0' || *p > '9') {
                *p = '\0';
                break;
            }
        return buf;
    }
    ck_assert_int_eq(e.code, 0);
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(t->root);
    check_node(t->root, 1, Q_SHOULD);
    size_t need = qparse_dump(t, buf, cap);
    ck_assert_uint_lt(need, cap);
    qparse_free(t);
    return buf;
}

typedef struct row {
    const char *q;
    int all;
    const char *want;
} row;

static const row OK[] = {
    /* bare words: ranked OR, analysed like documents */
    {"hello", 0, "hello"},
    {"hello world", 0, "(OR hello world)"},
    {"Running ECONOMY", 0, "(OR run economi)"},
    {"cats", 0, "cat"},
    {"résumé", 0, "resum"},
    {"and or not", 0, "(OR and or not)"}, /* lowercase: words */
    {"hello world", 1, "(AND hello world)"},
    /* required / excluded */
    {"+a b -c", 0, "(BOOL +a b -c)"},
    {"+a +b", 0, "(AND a b)"},
    {"a -b", 1, "(BOOL +a -b)"},
    {"+a", 0, "a"},
    {"+-a", 0, "a"},          /* only one modifier; the rest is punctuation of the word */
    {"a - b", 0, "(OR a b)"}, /* a lone '-' is punctuation */
    /* operators and precedence: NOT > AND > juxtaposition > OR */
    {"a AND b", 0, "(AND a b)"},
    {"a OR b", 0, "(OR a b)"},
    {"a OR b", 1, "(OR a b)"},
    {"a AND b OR c", 0, "(OR (AND a b) c)"},
    {"a OR b AND c", 0, "(OR a (AND b c))"},
    {"a b AND c", 0, "(OR a (AND b c))"},
    {"a b OR c d", 0, "(OR a b c d)"},
    {"a b OR c d", 1, "(OR (AND a b) (AND c d))"},
    {"a OR b c", 1, "(OR a (AND b c))"},
    {"a AND NOT b", 0, "(BOOL +a -b)"},
    {"a NOT b", 0, "(BOOL a -b)"},
    {"a AND -b", 0, "(BOOL +a -b)"},
    {"NOT a AND b", 0, "(BOOL -a +b)"},
    {"NOT NOT a", 0, "a"},
    {"a AND b AND c", 0, "(AND a b c)"},
    {"(a OR b) AND (c OR d)", 0, "(AND (OR a b) (OR c d))"},
    {"(a AND b) OR (c AND d)", 0, "(OR (AND a b) (AND c d))"},
    {"a AND (b AND c)", 0, "(AND a b c)"},
    {"a (b (c d))", 0, "(OR a b c d)"},
    {"+(a b) c", 0, "(BOOL +(OR a b) c)"},
    {"-(a b) c", 0, "(BOOL -a -b c)"}, /* De Morgan */
    {"a AND (NOT b)", 0, "(BOOL +a -b)"},
    {"x (-a -b)", 0, "(BOOL x -a -b)"},
    {"x NOT a AND NOT b", 0, "(BOOL x -a -b)"},
    {"+(a AND b) c", 0, "(BOOL +a +b c)"},
    {"a OR (b OR c)", 0, "(OR a b c)"},
    {"-(a AND b) c", 0, "(BOOL -(AND a b) c)"},
    /* phrases */
    {"\"exact phrase\"", 0, "(PHRASE exact phrase)"},
    {"\"The Running Man\"", 0, "(PHRASE the run man)"},
    {"\"a b\"~3", 0, "(PHRASE a b ~3)"},
    {"\"a b\"~0", 0, "(PHRASE a b)"},
    {"\"single\"~5", 0, "singl"},
    {"\"a AND (b\" c", 0, "(OR (PHRASE a and b) c)"}, /* syntax inside quotes is text */
    {"state-of-the-art", 0, "(PHRASE state of the art)"},
    {"东京大学", 0, "(PHRASE 东京 京大 大学)"},
    {"\"a\" ~2", 0, "(OR a 2)"},
    /* unordered proximity */
    {"Brown NEAR/2 Gordon", 0, "(NEAR brown gordon ~2)"},
    {"a NEAR b", 0, "(NEAR a b ~10)"},
    {"a NEAR/0 b", 0, "(NEAR a b ~0)"},
    {"a NEAR/3 b NEAR/3 c", 0, "(NEAR a b c ~3)"},
    {"a NEAR a", 0, "(NEAR a a ~10)"},
    {"x a NEAR b y", 0, "(OR x (NEAR a b ~10) y)"},
    {"x a NEAR b y", 1, "(AND x (NEAR a b ~10) y)"},
    {"x -a NEAR b", 0, "(BOOL x -(NEAR a b ~10))"},
    {"title:a NEAR/2 b", 0, "(NEAR title:a b ~2)"},
    {"title:(a NEAR/2 b c)", 0, "(OR (NEAR title:a b ~2) title:c)"},
    {"a NEAR b OR c", 0, "(OR (NEAR a b ~10) c)"},
    {"a near b", 0, "(OR a near b)"},
    {"NEARBY a", 0, "(OR nearbi a)"},
    {"+NEAR a", 0, "(BOOL +near a)"},
    /* fields */
    {"title:hello", 0, "title:hello"},
    {"Title:hello", 0, "title:hello"},
    {"author:smith category:physics", 0, "(OR author:smith category:physic)"},
    {"title:\"a b\"", 0, "(PHRASE title:a b)"},
    {"title:(a b)", 0, "(OR title:a title:b)"},
    {"title:(a author:b \"c d\")", 0, "(OR title:a author:b (PHRASE title:c d))"},
    {"title:author:x", 0, "author:x"},
    {"title:AND", 0, "title:and"},
    {"c:windows", 0, "(PHRASE c window)"}, /* unknown field: just punctuation */
    {"-title:x y", 0, "(BOOL -title:x y)"},
    /* prefixes: folded, unstemmed */
    {"econom*", 0, "econom*"},
    {"Economy*", 0, "econom*"}, /* cut back to what it shares with its stem economi */
    {"title:Econ*", 0, "title:econ*"},
    {"naïve*", 0, "naiv*"}, /* folded, then cut to its stem naiv */
    {"ab**", 0, "ab*"},
    {"econom* growth", 0, "(OR econom* growth)"},
    /* dates */
    {"date:2019", 0, "date:20190101..20191231"},
    {"date:2019-02", 0, "date:20190201..20190228"},
    {"date:2020-02", 0, "date:20200201..20200229"},
    {"date:2019-01-05", 0, "date:20190105..20190105"},
    {"date:2019-1-5", 0, "date:20190105..20190105"},
    {"date:2019-01..2020-06", 0, "date:20190101..20200630"},
    {"date:2019..", 0, "date:20190101.."},
    {"date:..2020-06", 0, "date:..20200630"},
    {"date:2019..2019", 0, "date:20190101..20191231"},
    {"DATE:2019", 0, "date:20190101..20191231"},
    {"cats date:2019", 0, "(BOOL cat +date:20190101..20191231)"}, /* filter: required */
    {"cats -date:2019", 0, "(BOOL cat -date:20190101..20191231)"},
    {"a OR date:2019", 0, "(OR a date:20190101..20191231)"},
    {"(date:2019 OR date:2021) cats", 0,
     "(BOOL +(OR date:20190101..20191231 date:20210101..20211231) cat)"},
    {"title:(date:2019)", 0, "date:20190101..20191231"},
    /* things that disappear */
    {"", 0, "(NONE)"},
    {"   ", 0, "(NONE)"},
    {"!!!", 0, "(NONE)"},
    {"()", 0, "(NONE)"},
    {"\"\"", 0, "(NONE)"},
    {"-!!!", 0, "(NONE)"},
    {"a AND ()", 0, "a"},
    {"a AND !!!", 0, "a"},
    {"a OR !!!", 0, "a"},
    {"a (((  )))", 0, "a"},
    /* separators */
    {"a\tb\nc", 0, "(OR a b c)"},
    {"a\xc2\xa0"
     "b",
     0, "(OR a b)"}, /* NBSP */
    {"a\xe3\x80\x80"
     "b",
     0, "(OR a b)"}, /* ideographic space */
    {"f(x)", 0, "(OR f x)"},
};

START_TEST(test_ok_table)
{
    char buf[1024];
    const row *r = &OK[_i];
    const char *got = run(r->q, strlen(r->q), r->all, buf, sizeof buf);
    ck_assert_msg(strcmp(got, r->want) == 0, "query '%s'%s: got '%s', want '%s'", r->q,
                  r->all ? " (all)" : "", got, r->want);
}
END_TEST

/* Malformed input: the repaired tree, or "!N" = IDX_EUSAGE pointing at column N,
 * or "!" = IDX_EUSAGE whose message names no column. */
static const row BAD[] = {
    /* repaired */
    {"(a b", 0, "(OR a b)"}, /* unclosed '(' closed at the end */
    {"((a OR b) c", 0, "(OR a b c)"},
    {"\"a b", 0, "(PHRASE a b)"}, /* unclosed '"' runs to the end */
    {"x \"a b) OR c", 0, "(OR x (PHRASE a b or c))"},
    {"\"a b\" \"c", 0, "(OR (PHRASE a b) c)"},
    {"(\"a b", 0, "(PHRASE a b)"},
    {"a \"", 0, "a"},
    /* rejected, with the column */
    {"hello)", 0, "!6"},
    {"a b) c", 0, "!4"},
    {"(a))", 0, "!4"},
    {")", 0, "!1"},
    {"é)", 0, "!2"}, /* columns count characters, not bytes */
    {"AND a", 0, "!1"},
    {"a AND", 0, "!3"},
    {"a AND OR b", 0, "!3"},
    {"a AND AND b", 0, "!3"},
    {"OR", 0, "!1"},
    {"a OR", 0, "!3"},
    {"a OR OR b", 0, "!3"},
    {"(OR a)", 0, "!2"},
    {"(a OR) b", 0, "!4"},
    {"NOT", 0, "!1"},
    {"a NOT", 0, "!3"},
    {"a AND NOT", 0, "!7"},
    {"title:", 0, "!1"},
    {"x title: y", 0, "!3"},
    {"(title:)", 0, "!2"},
    {"date:", 0, "!1"},
    {"date:(2019)", 0, "!1"},
    {"date:\"2019\"", 0, "!1"},
    {"date:2019-13", 0, "!6"},
    {"date:2019-02-29", 0, "!6"},
    {"date:19", 0, "!6"},
    {"date:0000", 0, "!6"},
    {"date:2019...2020", 0, "!6"},
    {"date:..", 0, "!6"},
    {"date:2020..2019", 0, "!6"},
    {"date:2019-06-x", 0, "!6"},
    {"e*", 0, "!2"},
    {"*", 0, "!1"},
    {"é*", 0, "!2"},
    {"!!*", 0, "!3"},
    {"a*b*", 0, "!4"},
    {"\"a b\"~", 0, "!6"},
    {"\"a b\"~x", 0, "!6"},
    {"\"a b\"~10001", 0, "!6"},
    {"a NEAR", 0, "!3"},
    {"NEAR a", 0, "!1"},
    {"a NEAR/ b", 0, "!3"},
    {"a NEAR/x b", 0, "!3"},
    {"a NEAR/10001 b", 0, "!3"},
    {"a NEAR/3 b NEAR/4 c", 0, "!12"},
    {"a NEAR b NEAR/4 c", 0, "!10"},
    {"\"a b\" NEAR c", 0, "!7"},
    {"(a b) NEAR c", 0, "!7"},
    {"ab* NEAR c", 0, "!5"},
    {"a NEAR b*", 0, "!3"},
    {"a NEAR title:b", 0, "!3"},
    {"a NEAR AND", 0, "!3"},
    {"a-b NEAR c", 0, "!5"},
    {"!!! NEAR c", 0, "!5"},
    {"a OR -b", 0, "!6"},
    {"-b OR a", 0, "!1"},
    {"a OR (-b)", 0, "!6"},
    {"x -(-a)", 0, "!4"},
    /* only exclusions: no column */
    {"-foo", 0, "!"},
    {"NOT a", 0, "!"},
    {"-a -b", 0, "!"},
    {"-date:2019", 0, "!"},
    {"!!! -foo", 0, "!"},
    {"NOT a AND NOT b", 0, "!"},
    {"(-a)", 0, "!"},
};

START_TEST(test_malformed_table)
{
    char buf[1024];
    const row *r = &BAD[_i];
    const char *got = run(r->q, strlen(r->q), r->all, buf, sizeof buf);
    ck_assert_msg(strcmp(got, r->want) == 0, "query '%s': got '%s', want '%s'", r->q, got, r->want);
}
END_TEST

static int parse_err(const char *q, size_t len, const qparse_options *o, idx_err *e)
{
    qparse_tree *t = NULL;
    err_clear(e);
    int rc = qparse_parse(A, q, len, o, &t, e);
    qparse_free(t);
    return rc;
}

START_TEST(test_messages)
{
    idx_err e;
    ck_assert_int_eq(parse_err("a b) c", 6, NULL, &e), IDX_EUSAGE);
    ck_assert_str_eq(e.msg, "query: unbalanced ')' at column 4");
    ck_assert_int_eq(parse_err("-foo", 4, NULL, &e), IDX_EUSAGE);
    ck_assert_str_eq(e.msg, "query: a query needs at least one positive term, not only excluded "
                            "ones");
    ck_assert_int_eq(parse_err("a AND", 5, NULL, &e), IDX_EUSAGE);
    ck_assert_str_eq(e.msg, "query: 'AND' at column 3 is missing a term after it (lowercase 'and' "
                            "is a plain word)");
    ck_assert_int_eq(parse_err("title:", 6, NULL, &e), IDX_EUSAGE);
    ck_assert_str_eq(e.msg, "query: 'title:' at column 1 needs a word, a \"phrase\" or a (group)");
    /* Bytes quoted back in a message are sanitised to printable ASCII. */
    ck_assert_int_eq(parse_err("date:20\xff\x01", 9, NULL, &e), IDX_EUSAGE);
    ck_assert_str_eq(e.msg, "query: bad date '20?\?' at column 6 (expected YYYY, YYYY-MM, "
                            "YYYY-MM-DD or a range like 2019-01..2020-06, 2019.. or ..2020-06)");
}
END_TEST

START_TEST(test_offsets_and_fields)
{
    const char *q = "title:hello \"a b\" -c";
    qparse_tree *t;
    idx_err e = {0};
    ck_assert_int_eq(qparse_parse(A, q, strlen(q), NULL, &t, &e), 0);
    const qparse_node *r = t->root;
    ck_assert_int_eq(r->kind, Q_BOOL);
    ck_assert_uint_eq(r->nclauses, 3);
    const qparse_node *h = r->clauses[0].node, *p = r->clauses[1].node, *c = r->clauses[2].node;
    ck_assert_int_eq(r->clauses[0].occur, Q_SHOULD);
    ck_assert_int_eq(r->clauses[2].occur, Q_MUST_NOT);
    ck_assert_int_eq(h->kind, Q_TERM);
    ck_assert_int_eq(h->field, QF_TITLE);
    ck_assert_uint_eq(h->start, 0);
    ck_assert_uint_eq(h->end, 11);
    ck_assert_uint_eq(h->terms[0].start, 6);
    ck_assert_uint_eq(h->terms[0].end, 11);
    ck_assert_str_eq(h->terms[0].text, "hello");
    ck_assert_int_eq(p->kind, Q_PHRASE);
    ck_assert_int_eq(p->field, QF_ANY);
    ck_assert_uint_eq(p->start, 12);
    ck_assert_uint_eq(p->end, 17);
    ck_assert_uint_eq(p->terms[0].start, 13);
    ck_assert_uint_eq(p->terms[1].start, 15);
    ck_assert_uint_eq(p->terms[1].pos, 1);
    ck_assert_uint_eq(c->start, 19); /* the word, not its '-' */
    /* The tree owns its bytes: nothing points into q. */
    ck_assert_ptr_ne(h->terms[0].text, q + 6);
    qparse_free(t);
}
END_TEST

START_TEST(test_phrase_gap)
{
    /* A word over max_token_len (64 bytes) is dropped but keeps its position. */
    char q[200], buf[256];
    snprintf(q, sizeof q, "\"foo %070d bar\"", 0);
    for (char *p = q + 5; *p == '0'; p++)
        *p = 'x';
    ck_assert_str_eq(run(q, strlen(q), 0, buf, sizeof buf), "(PHRASE foo bar@2)");
    snprintf(q, sizeof q, "foo-%070d-bar", 0);
    for (char *p = q + 4; *p == '0'; p++)
        *p = 'x';
    ck_assert_str_eq(run(q, strlen(q), 0, buf, sizeof buf), "(PHRASE foo bar@2)");
}
END_TEST

START_TEST(test_nul_and_invalid_utf8)
{
    char buf[256];
    ck_assert_str_eq(run("a\0b", 3, 0, buf, sizeof buf), "(OR a b)");
    ck_assert_str_eq(run("\"a\0b\"", 5, 0, buf, sizeof buf), "(PHRASE a b)");
    ck_assert_str_eq(run("\xff\xfe", 2, 0, buf, sizeof buf), "(NONE)");
    run("caf\xc3 \xe2\x82 \xed\xa0\x80*", 12, 0, buf, sizeof buf); /* any result, no crash */
    ck_assert_str_eq(run("a\0)", 3, 0, buf, sizeof buf), "!3");
}
END_TEST

typedef struct collected {
    char s[512];
} collected;

static int collect(void *ctx, const qparse_node *leaf, const qparse_term *t)
{
    collected *c = ctx;
    size_t n = strlen(c->s);
    snprintf(c->s + n, sizeof c->s - n, "%s%s%.*s%s", n ? " " : "",
             leaf->field == QF_ANY ? "" : "T:", (int)t->len, t->text,
             leaf->kind == Q_PREFIX ? "*" : "");
    return 0;
}

static int stop_at_two(void *ctx, const qparse_node *leaf, const qparse_term *t)
{
    (void)leaf;
    (void)t;
    return ++*(int *)ctx == 2 ? 7 : 0;
}

START_TEST(test_positive_terms)
{
    const char *q = "+a b -c title:\"d e\" fo* -(g h) NOT (i j) date:2019";
    qparse_tree *t;
    idx_err e = {0};
    ck_assert_int_eq(qparse_parse(A, q, strlen(q), NULL, &t, &e), 0);
    collected c = {{0}};
    ck_assert_int_eq(qparse_positive_terms(t, collect, &c), 0);
    ck_assert_str_eq(c.s, "a b T:d T:e fo*");
    int calls = 0;
    ck_assert_int_eq(qparse_positive_terms(t, stop_at_two, &calls), 7);
    ck_assert_int_eq(calls, 2);
    qparse_free(t);
    qparse_free(NULL);
}
END_TEST

START_TEST(test_dump_truncation)
{
    qparse_tree *t;
    idx_err e = {0};
    ck_assert_int_eq(qparse_parse(A, "hello world", 11, NULL, &t, &e), 0);
    char buf[8];
    size_t need = qparse_dump(t, buf, sizeof buf);
    ck_assert_uint_eq(need, strlen("(OR hello world)"));
    ck_assert_str_eq(buf, "(OR hel");
    ck_assert_uint_eq(qparse_dump(t, NULL, 0), need);
    char one[1] = {'x'};
    qparse_dump(t, one, 1);
    ck_assert_int_eq(one[0], '\0');
    qparse_free(t);
}
END_TEST

static char *repeat(const char *unit, int times, const char *tail)
{
    size_t u = strlen(unit), tl = strlen(tail);
    char *s = malloc(u * (size_t)times + tl + 1);
    ck_assert_ptr_nonnull(s);
    for (int k = 0; k < times; k++)
        memcpy(s + u * (size_t)k, unit, u);
    memcpy(s + u * (size_t)times, tail, tl + 1);
    return s;
}

START_TEST(test_deep_nesting)
{
    char buf[256];
    /* 10,000 parentheses: rejected at the 101st, never a stack overflow. */
    char *open = repeat("(", 10000, "a");
    size_t n = strlen(open);
    char *q = malloc(n + 10001);
    memcpy(q, open, n);
    memset(q + n, ')', 10000);
    q[n + 10000] = '\0';
    ck_assert_str_eq(run(q, strlen(q), 0, buf, sizeof buf), "!101");
    ck_assert_str_eq(run(open, n, 0, buf, sizeof buf), "!101");
    free(q);
    free(open);
    /* 100 deep is fine, balanced or not. */
    char *ok = repeat("(", 100, "a");
    ck_assert_str_eq(run(ok, strlen(ok), 0, buf, sizeof buf), "a");
    free(ok);
    char *mixed = repeat("(x ", 100, "a");
    char big[1024];
    const char *flat = run(mixed, strlen(mixed), 0, big, sizeof big);
    ck_assert_uint_eq(strlen(flat), strlen("(OR") + 100 * 2 + strlen(" a)")); /* one flat OR */
    ck_assert_str_eq(flat + strlen(flat) - 4, "x a)");
    free(mixed);
    char *ands = repeat("(x AND ", 100, "a");
    flat = run(ands, strlen(ands), 0, big, sizeof big);
    ck_assert_uint_eq(strlen(flat), strlen("(AND") + 100 * 2 + strlen(" a)"));
    free(ands);
    /* The limit is an option. */
    qparse_options o = {.max_depth = 3};
    idx_err e;
    ck_assert_int_eq(parse_err("(((a)))", 7, &o, &e), 0);
    ck_assert_int_eq(parse_err("((((a))))", 9, &o, &e), IDX_EUSAGE);
    ck_assert_str_eq(e.msg, "query: parentheses nested deeper than 3 at column 4");
    /* Chains that are loops, not recursion. */
    char *nots = repeat("NOT ", 10000, "a");
    ck_assert_str_eq(run(nots, strlen(nots), 0, buf, sizeof buf), "a");
    free(nots);
    nots = repeat("NOT ", 10001, "a");
    ck_assert_str_eq(run(nots, strlen(nots), 0, buf, sizeof buf), "!");
    free(nots);
    char *fields = repeat("title:", 10000, "a");
    ck_assert_str_eq(run(fields, strlen(fields), 0, buf, sizeof buf), "title:a");
    free(fields);
    char *minus = repeat("-", 10000, "a");
    ck_assert_str_eq(run(minus, strlen(minus), 0, buf, sizeof buf), "!");
    free(minus);
    char *quotes = repeat("\"", 10000, "");
    ck_assert_str_eq(run(quotes, strlen(quotes), 0, buf, sizeof buf), "(NONE)");
    free(quotes);
    char *closes = repeat(")", 10000, "");
    ck_assert_str_eq(run(closes, strlen(closes), 0, buf, sizeof buf), "!1");
    free(closes);
}
END_TEST

static void big_query(const char *sep, int all, qparse_kind kind, qparse_occur occ0,
                      qparse_occur occ)
{
    size_t cap = 10000 * 24, n = 0;
    char *q = malloc(cap);
    for (int k = 0; k < 10000; k++)
        n += (size_t)snprintf(q + n, cap - n, "%sw%d", k ? sep : "", k);
    qparse_options o = {.all_required = all};
    qparse_tree *t;
    idx_err e = {0};
    clock_t t0 = clock();
    ck_assert_int_eq(qparse_parse(A, q, n, &o, &t, &e), 0);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    ck_assert_msg(secs < 5.0, "10,000 words took %.2fs", secs);
    ck_assert_int_eq(t->root->kind, kind);
    if (kind == Q_BOOL) {
        ck_assert_uint_eq(t->root->nclauses, 10000);
        ck_assert_int_eq(t->root->clauses[0].occur, occ0);
        for (uint32_t k = 1; k < 10000; k++)
            ck_assert_int_eq(t->root->clauses[k].occur, occ);
        ck_assert_str_eq(t->root->clauses[9999].node->terms[0].text, "w9999");
    } else {
        ck_assert_uint_eq(t->root->nterms, 10000);
        ck_assert_uint_eq(t->root->terms[9999].pos, 9999);
    }
    check_node(t->root, 1, Q_SHOULD);
    size_t need = qparse_dump(t, NULL, 0);
    char *d = malloc(need + 1);
    ck_assert_uint_eq(qparse_dump(t, d, need + 1), need);
    ck_assert_uint_eq(strlen(d), need);
    free(d);
    qparse_free(t);
    free(q);
}

START_TEST(test_ten_thousand_words)
{
    big_query(" ", 0, Q_BOOL, Q_SHOULD, Q_SHOULD);
    big_query(" ", 1, Q_BOOL, Q_MUST, Q_MUST);
    big_query(" AND ", 0, Q_BOOL, Q_MUST, Q_MUST);
    big_query(" OR ", 1, Q_BOOL, Q_SHOULD, Q_SHOULD);
    big_query(" -", 0, Q_BOOL, Q_SHOULD, Q_MUST_NOT);
    big_query(" AND NOT ", 0, Q_BOOL, Q_MUST, Q_MUST_NOT);
    big_query("-", 0, Q_PHRASE, 0, 0); /* one hyphenated word of 10,000 parts */
}
END_TEST

START_TEST(test_ten_thousand_phrase)
{
    size_t cap = 10000 * 24, n = 0;
    char *q = malloc(cap);
    q[n++] = '"';
    for (int k = 0; k < 10000; k++)
        n += (size_t)snprintf(q + n, cap - n, "%sw%d", k ? " " : "", k);
    q[n++] = '"';
    qparse_tree *t;
    idx_err e = {0};
    ck_assert_int_eq(qparse_parse(A, q, n, NULL, &t, &e), 0);
    ck_assert_int_eq(t->root->kind, Q_PHRASE);
    ck_assert_uint_eq(t->root->nterms, 10000);
    qparse_free(t);
    free(q);
}
END_TEST

/* Fragments that exercise the grammar, mixed with arbitrary bytes. */
static const char *const FRAG[] = {
    "a",    "b",      "cats",        "AND",       "OR",       "NOT",    "and",      "(",
    ")",    "\"",     "+",           "-",         "*",        "title:", "author:",  "date:",
    "2019", "..",     "-01",         "~",         "3",        " ",      " ",        " ",
    ":",    "é",      "東京",        "ab*",       "\xff",     "\xc3",   "\xe2\x80", "\xc2\xa0",
    "\0",   "~99999", "date:2019..", "\"a b\"~2", "state-of",
};

START_TEST(test_fuzz)
{
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    char q[128], buf[8192];
    int ok = 0, bad = 0;
    for (int iter = 0; iter < 100000; iter++) {
        size_t n = 0;
        int parts = (int)(test_rnd(&seed) % 12);
        for (int k = 0; k < parts && n < 100; k++) {
            uint64_t r = test_rnd(&seed);
            if (r % 4 == 0) {
                q[n++] = (char)(r >> 8); /* any byte */
            } else {
                const char *f = FRAG[(r >> 8) % (sizeof FRAG / sizeof FRAG[0])];
                size_t fl = f[0] ? strlen(f) : 1; /* "\0" is one NUL byte */
                memcpy(q + n, f, fl);
                n += fl;
            }
        }
        const char *got = run(q, n, (int)(iter & 1), buf, sizeof buf);
        if (got[0] == '!' && got[1] == '\0') {
            bad++;
        } else if (got[0] == '!') {
            bad++;
            ck_assert_int_le(atoi(got + 1), (int)n + 1); /* the column is inside the query */
        } else {
            ok++;
        }
    }
    /* Both paths must actually be exercised. */
    ck_assert_int_gt(ok, 10000);
    ck_assert_int_gt(bad, 10000);
}
END_TEST

/* The index's user fields (--index-field): NAME: scopes like author:, in
 * options order (QF_USER + i, dumped by term prefix); other NAME: stay
 * punctuation, and a parse without the options knows none. */
START_TEST(test_user_fields)
{
    static const struct {
        const char *q, *dump;
    } cases[] = {
        {"places:usa", "x1:usa"},
        {"Topics:crude", "x2:crude"},
        {"places:\"west germany\"", "(PHRASE x1:west germani)"},
        {"places:(usa uk) oil", "(OR x1:usa x1:uk oil)"},
        {"places:west*", "x1:west*"},
        {"title:places:usa", "x1:usa"},
        {"organization:acme", "(PHRASE organ acm)"},
        {"placesx:usa", "(PHRASE placesx usa)"},
    };
    qparse_options o = {.fields = {"places", "topics"}, .n_fields = 2};
    char buf[256];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        qparse_tree *t = NULL;
        idx_err e = {0};
        ck_assert_int_eq(qparse_parse(A, cases[k].q, strlen(cases[k].q), &o, &t, &e), 0);
        qparse_dump(t, buf, sizeof buf);
        ck_assert_msg(!strcmp(buf, cases[k].dump), "%s: got %s, want %s", cases[k].q, buf,
                      cases[k].dump);
        if (k == 0) {
            ck_assert_int_eq(t->root->field, QF_USER);
            ck_assert(qparse_field_is_label(t->root->field));
        }
        qparse_free(t);
    }
    ck_assert_str_eq(run("places:usa", 10, 0, buf, sizeof buf), "(PHRASE place usa)");
    idx_err e = {0};
    ck_assert_int_eq(parse_err("places:", 7, &o, &e), IDX_EUSAGE);
    ck_assert_str_eq(e.msg, "query: 'places:' at column 1 needs a word, a \"phrase\" or a (group)");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("qparse");
    TCase *tc = tcase_create("qparse");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_ok_table, 0, (int)(sizeof OK / sizeof OK[0]));
    tcase_add_loop_test(tc, test_malformed_table, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_messages);
    tcase_add_test(tc, test_offsets_and_fields);
    tcase_add_test(tc, test_user_fields);
    tcase_add_test(tc, test_phrase_gap);
    tcase_add_test(tc, test_nul_and_invalid_utf8);
    tcase_add_test(tc, test_positive_terms);
    tcase_add_test(tc, test_dump_truncation);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_ten_thousand_words);
    tcase_add_test(tc, test_ten_thousand_phrase);
    tcase_add_test(tc, test_fuzz);
    suite_add_tcase(s, tc);
    return test_run(s);
}
