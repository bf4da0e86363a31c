/* Unit tests for the analyzer: every rule of docs/ANALYSIS.md with real values. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/analyze.h"
#include "tests/unit/testutil.h"

typedef struct toks {
    char out[8192]; /* "term@pos term@pos ..." */
    size_t used;
    int n;
    uint32_t start[256], end[256];
    const char *ptr[256];
    char unst[256][80];
    int stop_after; /* return 7 after this many tokens; 0: never */
} toks;

static int collect(void *ctx, const ana_token *t)
{
    toks *k = ctx;
    int w = snprintf(k->out + k->used, sizeof k->out - k->used, "%s%.*s@%u", k->n ? " " : "",
                     (int)t->len, t->term, t->pos);
    if (w > 0 && (size_t)w < sizeof k->out - k->used) k->used += (size_t)w;
    if (k->n < 256) {
        k->start[k->n] = t->start;
        k->end[k->n] = t->end;
        k->ptr[k->n] = t->term;
        snprintf(k->unst[k->n], sizeof k->unst[0], "%.*s", (int)t->unstemmed_len, t->unstemmed);
    }
    k->n++;
    return k->stop_after && k->n >= k->stop_after ? 7 : 0;
}

static ana *mk(const char *lang, int fold, int cjk, unsigned maxlen)
{
    ana_config c = ana_config_default();
    c.language = lang;
    c.fold_accents = fold;
    c.cjk_bigrams = cjk;
    c.max_token_len = maxlen;
    ana *a = NULL;
    idx_err e = {0};
    ck_assert_msg(ana_new(&c, &a, &e) == 0, "ana_new: %s", e.msg);
    return a;
}

static void run_n(ana *a, const char *s, size_t len, toks *k)
{
    int stop = k->stop_after;
    memset(k, 0, sizeof *k);
    k->stop_after = stop;
    idx_err e = {0};
    int rc = ana_run(a, s, len, collect, k, &e);
    ck_assert_msg(rc == 0, "ana_run: %d %s", rc, e.msg);
}

/* Analyses s and compares the "term@pos" rendering. */
static void expect(ana *a, const char *s, const char *want)
{
    toks k = {0};
    run_n(a, s, strlen(s), &k);
    ck_assert_msg(strcmp(k.out, want) == 0, "analyse(\"%s\")\n  got:  \"%s\"\n  want: \"%s\"", s,
                  k.out, want);
}

static void expect_n(ana *a, const char *s, size_t len, const char *want)
{
    toks k = {0};
    run_n(a, s, len, &k);
    ck_assert_msg(strcmp(k.out, want) == 0, "got \"%s\", want \"%s\"", k.out, want);
}

static uint64_t invalid_of(ana *a, const char *s, size_t len, const char *want)
{
    ana_reset_counters(a);
    expect_n(a, s, len, want);
    return ana_invalid_utf8(a);
}

START_TEST(test_defaults)
{
    ana_config c = ana_config_default();
    ck_assert_str_eq(c.language, "english");
    ck_assert_int_eq(c.fold_accents, 1);
    ck_assert_int_eq(c.cjk_bigrams, 1);
    ck_assert_uint_eq(c.max_token_len, ANA_MAX_TOKEN_DEFAULT);
}
END_TEST

START_TEST(test_invalid_utf8)
{
    ana *a = mk("none", 1, 1, 64);
    /* Each maximal invalid subpart is one U+FFFD, which separates words. */
    ck_assert_uint_eq(invalid_of(a,
                                 "ab\x80"
                                 "cd",
                                 5, "ab@0 cd@1"),
                      1); /* stray continuation */
    ck_assert_uint_eq(invalid_of(a,
                                 "ab\xff"
                                 "cd",
                                 5, "ab@0 cd@1"),
                      1);                                                    /* never a lead byte */
    ck_assert_uint_eq(invalid_of(a, "a\xf5\x80\x80\x80z", 6, "a@0 z@1"), 4); /* F5: > U+10FFFF */
    ck_assert_uint_eq(invalid_of(a, "a\xc0\xafz", 4, "a@0 z@1"), 2);         /* overlong '/' */
    ck_assert_uint_eq(invalid_of(a, "a\xc1\xbfz", 4, "a@0 z@1"), 2);         /* overlong */
    ck_assert_uint_eq(invalid_of(a, "a\xe0\x80\xafz", 5, "a@0 z@1"), 3);     /* 3-byte overlong */
    ck_assert_uint_eq(invalid_of(a, "a\xf0\x80\x80\xafz", 6, "a@0 z@1"), 4); /* 4-byte overlong */
    ck_assert_uint_eq(invalid_of(a, "a\xed\xa0\x80z", 5, "a@0 z@1"), 3);     /* surrogate D800 */
    ck_assert_uint_eq(invalid_of(a, "a\xed\xbf\xbfz", 5, "a@0 z@1"), 3);     /* surrogate DFFF */
    ck_assert_uint_eq(invalid_of(a, "a\xf4\x90\x80\x80z", 6, "a@0 z@1"), 4); /* U+110000 */
    /* Truncated sequences: one replacement each, the next byte decoded afresh. */
    ck_assert_uint_eq(invalid_of(a, "a\xe2\x82z", 4, "a@0 z@1"), 1);
    ck_assert_uint_eq(invalid_of(a, "a\xf0\x9f\x98z", 5, "a@0 z@1"), 1);
    ck_assert_uint_eq(invalid_of(a, "a\xc3", 2, "a@0"), 1);
    ck_assert_uint_eq(invalid_of(a, "a\xe2\x82", 3, "a@0"), 1);
    ck_assert_uint_eq(invalid_of(a, "\xf0\x9f\x98", 3, ""), 1);
    ck_assert_uint_eq(invalid_of(a, "caf\xc3", 4, "caf@0"), 1);
    /* Truncated lead followed by a valid character: that character survives. */
    ck_assert_uint_eq(invalid_of(a, "x\xe2\xc3\xa9y", 5, "x@0 ey@1"), 1);
    /* Boundaries that are valid: U+10FFFF, U+FFFD itself, U+D7FF, U+E000. */
    ck_assert_uint_eq(invalid_of(a, "a\xf4\x8f\xbf\xbfz", 6, "a@0 z@1"), 0);
    ck_assert_uint_eq(invalid_of(a, "a\xef\xbf\xbdz", 5, "a@0 z@1"), 0);
    ck_assert_uint_eq(invalid_of(a, "a\xed\x9f\xbfz", 5, "a@0 z@1"), 0);
    ck_assert_uint_eq(invalid_of(a, "a\xee\x80\x80z", 5, "a@0 z@1"), 0);
    /* Counts accumulate across calls until reset. */
    ana_reset_counters(a);
    toks k = {0};
    run_n(a, "\xff\xff", 2, &k);
    run_n(a, "\xfe", 1, &k);
    ck_assert_uint_eq(ana_invalid_utf8(a), 3);
    ana_reset_counters(a);
    ck_assert_uint_eq(ana_invalid_utf8(a), 0);
    /* Offsets skip the bad bytes. */
    run_n(a,
          "ab\xff\xfe"
          "cd",
          6, &k);
    ck_assert_int_eq(k.n, 2);
    ck_assert_uint_eq(k.start[1], 4);
    ck_assert_uint_eq(k.end[1], 6);
    ana_free(a);
}
END_TEST

START_TEST(test_cjk_bigrams)
{
    ana *a = mk("english", 1, 1, 64);
    expect(a, "東京都", "東京@0 京都@1");
    expect(a, "猫", "猫@0");
    expect(a, "猫 犬", "猫@0 犬@1");
    expect(a, "abc日本語def", "abc@0 日本@1 本語@2 def@3");
    expect(a, "한국어", "한국@0 국어@1");
    expect(a, "カタカナ", "カタ@0 タカ@1 カナ@2");
    expect(a, "東京に行く", "東京@0 京に@1 に行@2 行く@3");
    expect(a, "2015年", "2015@0 年@1");
    expect(a, "東京、大阪", "東京@0 大阪@1"); /* ideographic comma separates */
    toks k = {0};
    run_n(a, "x 東京都", strlen("x 東京都"), &k);
    ck_assert_int_eq(k.n, 3);
    ck_assert_uint_eq(k.start[1], 2);
    ck_assert_uint_eq(k.end[1], 8);
    ck_assert_uint_eq(k.start[2], 5);
    ck_assert_uint_eq(k.end[2], 11);
    /* A combining voicing mark stays with its kana. */
    expect(a, "か\xe3\x82\x99き", "か\xe3\x82\x99き@0");
    ana_free(a);
    /* Without bigrams a CJK run is one token. */
    a = mk("english", 1, 0, 64);
    expect(a, "東京都 abc", "東京都@0 abc@1");
    ana_free(a);
}
END_TEST

START_TEST(test_accents)
{
    ana *a = mk("none", 1, 1, 64);
    expect(a, "résumé RÉSUMÉ resume", "resume@0 resume@1 resume@2");
    expect(a, "re\xcc\x81sume\xcc\x81", "resume@0"); /* decomposed input */
    expect(a, "Ångström ÅNGSTRÖM", "angstrom@0 angstrom@1");
    expect(a, "Straße STRASSE", "strasse@0 strasse@1");
    expect(a, "ﬁnance Ｆｕｌｌ", "finance@0 full@1"); /* compatibility forms */
    expect(a, "Ελληνικά ΣΟΦΊΑ", "ελληνικα@0 σοφια@1");
    expect(a, "Привет", "привет@0");
    expect(a,
           "co\xc2\xad"
           "operate",
           "cooperate@0");                                /* soft hyphen is ignored */
    expect(a, "zero\xe2\x80\x8bwidth", "zero@0 width@1"); /* ZWSP separates */
    ana_free(a);
    /* Without accent folding: case folds, accents stay, both encodings agree. */
    a = mk("none", 0, 1, 64);
    expect(a, "Résumé re\xcc\x81sume\xcc\x81 resume", "résumé@0 résumé@1 resume@2");
    expect(a, "ÅNGSTRÖM", "ångström@0");
    expect(a, "e\xcc\xa3\xcc\x82 e\xcc\x82\xcc\xa3", "ệ@0 ệ@1"); /* canonical order */
    ana_free(a);
}
END_TEST

START_TEST(test_apostrophes)
{
    ana *n = mk("none", 1, 1, 64);
    expect(n, "don't O'Neil", "don't@0 o'neil@1");
    expect(n, "don’t", "don't@0"); /* curly becomes ASCII */
    expect(n, "rock'n'roll", "rock'n'roll@0");
    expect(n, "'tis dogs' a''b", "tis@0 dogs@1 a@2 b@3");
    expect(n, "80's", "80@0 s@1"); /* not between two letters */
    expect(n, "l'été", "l'ete@0");
    toks k = {0};
    run_n(n, "it’s", strlen("it’s"), &k);
    ck_assert_uint_eq(k.end[0], 6); /* the 3-byte apostrophe is inside the word */
    ana_free(n);
    ana *a = mk("english", 1, 1, 64);
    expect(a, "John's dogs' John’s", "john@0 dog@1 john@2");
    run_n(a, "John’s", strlen("John’s"), &k);
    ck_assert_str_eq(k.unst[0], "john's");
    expect(a, "don't", "don't@0");
    ana_free(a);
}
END_TEST

START_TEST(test_hyphens_and_separators)
{
    ana *a = mk("none", 1, 1, 64);
    expect(a, "state-of-the-art", "state@0 of@1 the@2 art@3");
    expect(a, "e-mail — em–dash", "e@0 mail@1 em@2 dash@3");
    expect(a, "a_b c/d e+f (g)", "a@0 b@1 c@2 d@3 e@4 f@5 g@6");
    expect_n(a, "a\0b", 3, "a@0 b@1"); /* NUL is a separator, not an end */
    expect(a, "   \t\n  ", "");
    expect(a, "!!! ... ,,,", "");
    ana_free(a);
}
END_TEST

START_TEST(test_numbers)
{
    ana *a = mk("english", 1, 1, 64);
    expect(a, "3.14 1,000 192.168.0.1", "3.14@0 1@1 000@2 192.168.0.1@3");
    expect(a, "3. .5 1..2 a.b", "3@0 5@1 1@2 2@3 a@4 b@5");
    expect(a, "v1.2 mp3", "v1.2@0 mp3@1");
    expect(a, "12345 ٣٤", "12345@0 ٣٤@1"); /* Arabic-Indic digits are digits */
    ana_free(a);
}
END_TEST

START_TEST(test_long_tokens)
{
    ana *a = mk("none", 1, 1, 10);
    expect(a, "short aaaaaaaaaaa next", "short@0 next@2");
    expect(a, "aaaaaaaaaa", "aaaaaaaaaa@0"); /* exactly max_token_len is kept */
    expect(a, "aaaaaaaaaaa", "");
    /* The limit applies after folding: é is 2 bytes but folds to 1. */
    expect(a, "éééééééééé", "eeeeeeeeee@0");
    /* ß is 2 bytes but folds to "ss": 6 ß is 12 bytes folded, dropped. */
    expect(a, "ßßßßß ßßßßßß x", "ssssssssss@0 x@2");
    expect(a, "3.14159265358979 pi", "pi@1");
    ana_free(a);
    a = mk("none", 1, 1, 5);
    expect(a, "東京都 x", "x@2"); /* 6-byte bigrams dropped, positions kept */
    ana_free(a);
    a = mk("english", 1, 1, ANA_MAX_TOKEN_DEFAULT);
    char buf[400];
    memset(buf, 'x', sizeof buf);
    memcpy(buf, "go ", 3);
    memcpy(buf + sizeof buf - 5, " stop", 5);
    expect_n(a, buf, sizeof buf, "go@0 stop@2");
    ana_free(a);
}
END_TEST

START_TEST(test_empty_and_positions)
{
    ana *a = mk("english", 1, 1, 64);
    toks k = {0};
    run_n(a, "", 0, &k);
    ck_assert_int_eq(k.n, 0);
    run_n(a, NULL, 0, &k);
    ck_assert_int_eq(k.n, 0);
    /* Positions restart at 0 on every call. */
    expect(a, "one two three", "one@0 two@1 three@2");
    expect(a, "four five", "four@0 five@1");
    /* Offsets are bytes into the input. */
    run_n(a, "  Hello, wörld!", strlen("  Hello, wörld!"), &k);
    ck_assert_int_eq(k.n, 2);
    ck_assert_uint_eq(k.start[0], 2);
    ck_assert_uint_eq(k.end[0], 7);
    ck_assert_uint_eq(k.start[1], 9);
    ck_assert_uint_eq(k.end[1], 15);
    run_n(a, "pi=3.14;", 8, &k);
    ck_assert_uint_eq(k.start[1], 3);
    ck_assert_uint_eq(k.end[1], 7);
    ana_free(a);
}
END_TEST

START_TEST(test_early_stop)
{
    ana *a = mk("english", 1, 1, 64);
    toks k = {0};
    k.stop_after = 2;
    idx_err e = {0};
    ck_assert_int_eq(ana_run(a, "a b c d", 7, collect, &k, &e), 7);
    ck_assert_int_eq(k.n, 2);
    ck_assert_int_eq(e.code, 0);
    ana_free(a);
}
END_TEST

START_TEST(test_stemming)
{
    ana *a = mk("english", 1, 1, 64);
    expect(a, "Running runs ran connections", "run@0 run@1 ran@2 connect@3");
    expect(a, "1990s 2015", "1990s@0 2015@1"); /* numbers are left alone */
    toks k = {0};
    run_n(a, "running stuff running", strlen("running stuff running"), &k);
    ck_assert_int_eq(k.n, 3);
    ck_assert_str_eq(k.unst[0], "running");
    /* The second occurrence is a cache hit: the very same stem bytes. */
    ck_assert_ptr_eq(k.ptr[0], k.ptr[2]);
    ana_free(a);
    a = mk("none", 1, 1, 64);
    expect(a, "Running runs", "running@0 runs@1");
    ana_free(a);
    a = mk("fr", 1, 1, 64);
    expect(a, "chevaux", "cheval@0");
    ana_free(a);
}
END_TEST

START_TEST(test_stem_cache_overflow)
{
    /* More distinct words than the cache holds: it is dropped and refilled,
     * and stems stay right throughout. */
    ana *a = mk("english", 1, 1, 64);
    char buf[16 * 4096];
    toks k = {0};
    uint32_t w = 0;
    for (int round = 0; round < 300; round++) {
        size_t len = 0;
        for (int i = 0; i < 4096; i++, w++) {
            char word[12];
            int n = 0;
            for (uint32_t x = w; n < 5; x /= 26)
                word[n++] = (char)('a' + x % 26);
            memcpy(buf + len, word, (size_t)n);
            memcpy(buf + len + n, "ing ", 4);
            len += (size_t)n + 4;
        }
        memset(&k, 0, sizeof k);
        idx_err e = {0};
        ck_assert_int_eq(ana_run(a, buf, len, collect, &k, &e), 0);
        ck_assert_int_eq(k.n, 4096);
    }
    expect(a, "running walking", "run@0 walk@1");
    ana_free(a);
}
END_TEST

START_TEST(test_config_errors)
{
    ana_config c = ana_config_default();
    ana *a = (ana *)&c;
    idx_err e = {0};
    c.language = "klingon";
    ck_assert_int_eq(ana_new(&c, &a, &e), IDX_EUSAGE);
    ck_assert_ptr_null(a);
    ck_assert_ptr_nonnull(strstr(e.msg, "klingon"));
    c = ana_config_default();
    c.max_token_len = 0;
    err_clear(&e);
    ck_assert_int_eq(ana_new(&c, &a, &e), IDX_EUSAGE);
    c.max_token_len = ANA_MAX_TOKEN_LIMIT + 1;
    err_clear(&e);
    ck_assert_int_eq(ana_new(&c, &a, &e), IDX_EUSAGE);
    ana_free(NULL);
}
END_TEST

START_TEST(test_fold)
{
    ana *a = mk("english", 1, 1, 10);
    char out[64];
    size_t n = 0;
    idx_err e = {0};
    ck_assert_int_eq(ana_fold(a, "Résumés", strlen("Résumés"), out, sizeof out, &n, &e), 0);
    ck_assert_uint_eq(n, 7);
    ck_assert_int_eq(memcmp(out, "resumes", 7), 0); /* folded, not stemmed */
    ck_assert_int_eq(ana_fold(a, "Don’t", strlen("Don’t"), out, sizeof out, &n, &e), 0);
    ck_assert_int_eq(memcmp(out, "don't", n), 0);
    ck_assert_int_eq(ana_fold(a, " 東京都 ", strlen(" 東京都 "), out, sizeof out, &n, &e), 0);
    ck_assert_uint_eq(n, 9);
    ck_assert_int_eq(memcmp(out, "東京都", 9), 0);
    ck_assert_int_eq(ana_fold(a, "two words", 9, out, sizeof out, &n, &e), IDX_EUSAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "two words"));
    err_clear(&e);
    ck_assert_int_eq(ana_fold(a, "", 0, out, sizeof out, &n, &e), IDX_EUSAGE);
    err_clear(&e);
    ck_assert_int_eq(ana_fold(a, "aaaaaaaaaaaa", 12, out, sizeof out, &n, &e), IDX_EUSAGE);
    err_clear(&e);
    ck_assert_int_eq(ana_fold(a, "abcdef", 6, out, 3, &n, &e), IDX_EUSAGE);
    err_clear(&e);
    /* Query words do not count as corpus encoding errors, and the analyzer
     * still stems and bigrams afterwards. */
    ana_reset_counters(a);
    ck_assert_int_eq(ana_fold(a, "ab\xff", 3, out, sizeof out, &n, &e), 0);
    ck_assert_uint_eq(ana_invalid_utf8(a), 0);
    expect(a, "running 東京都", "run@0 東京@1 京都@2");
    ana_free(a);
}
END_TEST

/* Elided articles and pronouns (French, Italian, Catalan): the word is
 * found by itself. Real sentences; English keeps its apostrophes. */
START_TEST(test_elisions)
{
    ana *fr = mk("french", 1, 1, 64);
    expect(fr, "L'économie de l'Europe", "econom@0 de@1 europ@2");
    expect(fr, "l\xE2\x80\x99\xC3\xA9t\xC3\xA9 qu'il jusqu'\xC3\xA0", "ete@0 il@1 a@2");
    expect(fr, "Je n'ai pas d'argent, c'est l'hiver", "je@0 ai@1 pas@2 argent@3 est@4 hiv@5");
    expect(fr, "aujourd'hui", "aujourd'hui@0"); /* not an elision */
    expect(fr, "économie", "econom@0");         /* the query side */
    ana_free(fr);
    ana *it = mk("italian", 1, 1, 64);
    expect(it, "L'Italia e dell'economia, un'amica", "ital@0 e@1 econom@2 amic@3");
    ana_free(it);
    ana *ca = mk("catalan", 1, 1, 64);
    expect(ca, "L'economia d'Andorra", "econom@0 andorr@1");
    ana_free(ca);
    ana *en = mk("english", 1, 1, 64);
    expect(en, "l'economie O'Neil don't", "l'economi@0 o'neil@1 don't@2");
    ana_free(en);
}
END_TEST

/* œ and æ fold to oe and ae with the accents (they have no decomposition). */
START_TEST(test_ligatures)
{
    ana *fr = mk("french", 1, 1, 64);
    static toks a, b; /* large; run_n reads stop_after */
    run_n(fr, "Le cœur et l'Œuvre", strlen("Le cœur et l'Œuvre"), &a);
    run_n(fr, "le coeur et l'oeuvre", strlen("le coeur et l'oeuvre"), &b);
    ck_assert_str_eq(a.out, b.out);
    ana_free(fr);
    ana *en = mk("none", 1, 1, 64);
    expect(en, "Encyclopædia Æthelred", "encyclopaedia@0 aethelred@1");
    ana_free(en);
    ana *keep = mk("none", 0, 1, 64); /* without accent folding, the letter stays */
    expect(keep, "cœur", "cœur@0");
    ana_free(keep);
}
END_TEST

/* Index-side CJK unigrams: each character of a run also at its bigram's
 * position, so a one-character query finds it and bigram phrases keep
 * their positions. Real Japanese and Chinese. */
START_TEST(test_cjk_unigrams)
{
    ana_config c = ana_config_default();
    c.language = "none";
    c.cjk_unigrams = 1;
    ana *a = NULL;
    idx_err e = {0};
    ck_assert_int_eq(ana_new(&c, &a, &e), 0);
    expect(a, "東京都", "東京@0 東@0 京都@1 京@1 都@1");
    expect(a, "夜桜を見た", "夜桜@0 夜@0 桜を@1 桜@1 を見@2 を@2 見た@3 見@3 た@3");
    expect(a, "北 and 北京", "北@0 and@1 北京@2 北@2 京@2");
    ana_free(a);
    /* The query side: a run of one is its unigram; longer runs bigrams only. */
    ana *q = mk("none", 1, 1, 64);
    expect(q, "桜", "桜@0");
    expect(q, "東京都", "東京@0 京都@1");
    ana_free(q);
    /* Without bigrams there is nothing to add. */
    c.cjk_bigrams = 0;
    ck_assert_int_eq(ana_new(&c, &a, &e), 0);
    expect(a, "東京都", "東京都@0");
    ana_free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("analyze");
    TCase *tc = tcase_create("analyze");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_cjk_bigrams);
    tcase_add_test(tc, test_accents);
    tcase_add_test(tc, test_apostrophes);
    tcase_add_test(tc, test_hyphens_and_separators);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_long_tokens);
    tcase_add_test(tc, test_empty_and_positions);
    tcase_add_test(tc, test_early_stop);
    tcase_add_test(tc, test_stemming);
    tcase_add_test(tc, test_stem_cache_overflow);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_fold);
    tcase_add_test(tc, test_elisions);
    tcase_add_test(tc, test_ligatures);
    tcase_add_test(tc, test_cjk_unigrams);
    suite_add_tcase(s, tc);
    return test_run(s);
}
