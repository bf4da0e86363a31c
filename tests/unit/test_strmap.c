/* Unit tests for strmap, checked against a sort-based reference. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "tests/unit/testutil.h"

/* ck_assert records a mark point (a write to check's pipe) even on success;
 * in million-iteration loops that dominates, so loops use REQUIRE. */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);                         \
    } while (0)

START_TEST(test_basic)
{
    strmap *m = strmap_new(0);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(strmap_count(m), 0);
    ck_assert_ptr_null(strmap_get(m, "a", 1));
    int ins = -1;
    uint32_t *v = strmap_put(m, "apple", 5, 7, &ins);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(ins, 1);
    ck_assert_uint_eq(*v, 7);
    *v = 42;
    v = strmap_put(m, "apple", 5, 9, &ins);
    ck_assert_int_eq(ins, 0);
    ck_assert_uint_eq(*v, 42); /* existing value kept, init ignored */
    ck_assert_uint_eq(*strmap_get(m, "apple", 5), 42);
    ck_assert_ptr_null(strmap_get(m, "appl", 4));
    ck_assert_ptr_null(strmap_get(m, "apples", 6));
    ck_assert_uint_eq(strmap_count(m), 1);
    ck_assert_ptr_nonnull(strmap_put(m, "pear", 4, 1, NULL)); /* inserted may be NULL */
    ck_assert_uint_eq(strmap_count(m), 2);
    strmap_free(m);
    strmap_free(NULL);
}
END_TEST

START_TEST(test_binary_keys)
{
    strmap *m = strmap_new(4);
    int ins;
    /* Keys differing only after a NUL, or only by length, are distinct. */
    ck_assert_ptr_nonnull(strmap_put(m, "a\0b", 3, 1, &ins));
    ck_assert_int_eq(ins, 1);
    ck_assert_ptr_nonnull(strmap_put(m, "a\0c", 3, 2, &ins));
    ck_assert_int_eq(ins, 1);
    ck_assert_ptr_nonnull(strmap_put(m, "a", 1, 3, &ins));
    ck_assert_int_eq(ins, 1);
    ck_assert_ptr_nonnull(strmap_put(m, "a\0", 2, 4, &ins));
    ck_assert_int_eq(ins, 1);
    ck_assert_ptr_nonnull(strmap_put(m, "", 0, 5, &ins));
    ck_assert_int_eq(ins, 1);
    ck_assert_ptr_nonnull(strmap_put(m, "\0", 1, 6, &ins));
    ck_assert_int_eq(ins, 1);
    ck_assert_uint_eq(strmap_count(m), 6);
    ck_assert_uint_eq(*strmap_get(m, "a\0b", 3), 1);
    ck_assert_uint_eq(*strmap_get(m, "a\0c", 3), 2);
    ck_assert_uint_eq(*strmap_get(m, "a", 1), 3);
    ck_assert_uint_eq(*strmap_get(m, "a\0", 2), 4);
    ck_assert_uint_eq(*strmap_get(m, "", 0), 5);
    ck_assert_uint_eq(*strmap_get(m, "\0", 1), 6);
    ck_assert_ptr_null(strmap_get(m, "\0\0", 2));
    /* All 256 byte values inside one key survive the arena round trip. */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    ck_assert_ptr_nonnull(strmap_put(m, all, 256, 77, &ins));
    size_t cur = 0, len;
    const char *k;
    uint32_t val;
    int found = 0;
    while (strmap_next(m, &cur, &k, &len, &val))
        if (val == 77) {
            found++;
            ck_assert_uint_eq(len, 256);
            ck_assert_int_eq(memcmp(k, all, 256), 0);
        }
    ck_assert_int_eq(found, 1);
    strmap_free(m);
}
END_TEST

START_TEST(test_big_keys)
{
    /* Keys larger than an arena chunk get chunks of their own. */
    size_t big = 3u << 20;
    char *k1 = malloc(big), *k2 = malloc(big);
    memset(k1, 'x', big);
    memset(k2, 'x', big);
    k2[big - 1] = 'y';
    strmap *m = strmap_new(0);
    ck_assert_ptr_nonnull(strmap_put(m, "small", 5, 1, NULL));
    ck_assert_ptr_nonnull(strmap_put(m, k1, big, 2, NULL));
    ck_assert_ptr_nonnull(strmap_put(m, "small2", 6, 3, NULL));
    ck_assert_ptr_nonnull(strmap_put(m, k2, big, 4, NULL));
    ck_assert_uint_eq(*strmap_get(m, k1, big), 2);
    ck_assert_uint_eq(*strmap_get(m, k2, big), 4);
    ck_assert_uint_eq(*strmap_get(m, "small", 5), 1);
    ck_assert_uint_eq(*strmap_get(m, "small2", 6), 3);
    ck_assert_ptr_null(strmap_get(m, k1, big - 1));
    ck_assert_uint_ge(strmap_bytes(m), 2 * big);
    strmap_free(m);
    free(k1);
    free(k2);
}
END_TEST

START_TEST(test_growth)
{
    strmap *m = strmap_new(0);
    size_t b0 = strmap_bytes(m);
    char key[32];
    for (uint32_t i = 0; i < 200000; i++) {
        int n = snprintf(key, sizeof key, "key%u", i);
        int ins;
        uint32_t *v = strmap_put(m, key, (size_t)n, i * 3, &ins);
        REQUIRE((v) != NULL);
        REQUIRE((ins) == (1));
        REQUIRE((strmap_count(m)) == (i + 1));
    }
    REQUIRE((strmap_bytes(m)) > (b0));
    /* Every value survives each doubling. */
    for (uint32_t i = 0; i < 200000; i++) {
        int n = snprintf(key, sizeof key, "key%u", i);
        uint32_t *v = strmap_get(m, key, (size_t)n);
        REQUIRE((v) != NULL);
        REQUIRE((*v) == (i * 3));
    }
    REQUIRE((strmap_get(m, "key200000", 9)) == NULL);
    strmap_clear(m);
    REQUIRE((strmap_count(m)) == (0));
    REQUIRE((strmap_get(m, "key5", 4)) == NULL);
    int ins;
    REQUIRE((strmap_put(m, "key5", 4, 1, &ins)) != NULL);
    REQUIRE((ins) == (1));
    REQUIRE(*strmap_get(m, "key5", 4) == 1);
    strmap_free(m);
}
END_TEST

typedef struct refkey {
    char k[24];
    uint8_t len;
    uint32_t first; /* index of the first insertion of this key */
} refkey;

static int refkey_cmp(const void *a, const void *b)
{
    const refkey *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->k, y->k, n);
    if (c) return c;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

START_TEST(test_random_vs_reference)
{
    enum { N = 1000000 };
    refkey *keys = malloc(N * sizeof *keys);
    REQUIRE((keys) != NULL);
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    /* A 4-letter alphabet and short lengths force many duplicates; some keys
     * carry NULs. */
    for (uint32_t i = 0; i < N; i++) {
        uint64_t r = test_rnd(&rng);
        keys[i].len = (uint8_t)(r % 12);
        for (int j = 0; j < keys[i].len; j++)
            keys[i].k[j] = "ab\0z"[test_rnd(&rng) & 3];
        keys[i].first = i;
    }
    strmap *m = strmap_new(0);
    size_t inserted = 0;
    for (uint32_t i = 0; i < N; i++) {
        int ins;
        uint32_t *v = strmap_put(m, keys[i].k, keys[i].len, i, &ins);
        REQUIRE((v) != NULL);
        inserted += (size_t)ins;
    }
    /* Reference: sort copies; the first of each equal run is the expected value. */
    refkey *ref = malloc(N * sizeof *ref);
    memcpy(ref, keys, N * sizeof *ref);
    qsort(ref, N, sizeof *ref, refkey_cmp);
    size_t distinct = 0;
    for (size_t i = 0; i < N; i++) {
        if (i > 0 && ref[i].len == ref[i - 1].len && !memcmp(ref[i].k, ref[i - 1].k, ref[i].len)) {
            ref[i].first = ref[i - 1].first;
            continue;
        }
        distinct++;
    }
    REQUIRE((distinct) > (100000)); /* the test exercises growth */
    REQUIRE((distinct) < (N));      /* and duplicates */
    REQUIRE((strmap_count(m)) == (distinct));
    REQUIRE((inserted) == (distinct));
    for (size_t i = 0; i < N; i++) {
        uint32_t *v = strmap_get(m, ref[i].k, ref[i].len);
        REQUIRE((v) != NULL);
        REQUIRE((*v) == (ref[i].first));
    }
    /* Iteration yields each distinct key once, with its value. */
    size_t cur = 0, len, seen = 0;
    const char *k;
    uint32_t val;
    while (strmap_next(m, &cur, &k, &len, &val)) {
        REQUIRE((val) < (N));
        REQUIRE((len) == (keys[val].len));
        REQUIRE(memcmp(k, keys[val].k, len) == 0);
        seen++;
    }
    REQUIRE((seen) == (distinct));
    /* Keys of a different alphabet are absent. */
    for (int i = 0; i < 1000; i++) {
        char q[8];
        for (int j = 0; j < 8; j++)
            q[j] = (char)('c' + (test_rnd(&rng) % 20));
        REQUIRE((strmap_get(m, q, 1 + (size_t)(i % 8))) == NULL);
    }
    strmap_free(m);
    free(ref);
    free(keys);
}
END_TEST

/* The distinct lower-case words of five of the repository's docs: real words,
 * with their shared prefixes and suffixes. *n_out words, NUL-separated. */
static char *doc_words(size_t *n_out)
{
    const char *src = getenv("IDX_SRC");
    static const char *const docs[] = {"ARCHITECTURE", "FORMAT", "QUERY", "RANKING", "OUTPUT"};
    strmap *seen = strmap_new(0);
    size_t cap = 1 << 16, len = 0, n = 0;
    char *words = malloc(cap);
    ck_assert(seen && words);
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/docs/%s.md", src ? src : ".", docs[d]);
        FILE *f = fopen(path, "r");
        OKM(f != NULL, "%s: cannot open (IDX_SRC is the source tree)", path);
        char w[64];
        size_t wl = 0;
        for (int c;;) {
            c = fgetc(f);
            if (c != EOF && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
                if (wl < sizeof w - 1) w[wl++] = (char)(c | 0x20);
                continue;
            }
            int ins = 0;
            if (wl && strmap_put(seen, w, wl, 0, &ins) && ins) {
                if (len + wl + 1 > cap) words = realloc(words, cap *= 2);
                ck_assert_ptr_nonnull(words);
                memcpy(words + len, w, wl);
                words[len + wl] = '\0';
                len += wl + 1;
                n++;
            }
            wl = 0;
            if (c == EOF) break;
        }
        fclose(f);
    }
    strmap_free(seen);
    *n_out = n;
    return words;
}

/* Pearson's chi-square of counts against a uniform spread. */
static double chi_square(const int *count, int buckets, size_t n)
{
    double expect = (double)n / buckets, x = 0;
    for (int i = 0; i < buckets; i++)
        x += (count[i] - expect) * (count[i] - expect) / expect;
    return x;
}

START_TEST(test_hash_real_words)
{
    size_t n;
    char *words = doc_words(&n);
    OKM(n > 1000, "only %zu distinct words in docs/", n);
    /* The same bytes at any address hash the same: the hash reads no
     * alignment-dependent garbage (keys come from mmap'd lexicons and text). */
    char shifted[64 + 8];
    const char *w = words;
    for (size_t i = 0; i < n; i++, w += strlen(w) + 1) {
        size_t wl = strlen(w);
        uint64_t h = strmap_hash(w, wl);
        for (size_t off = 1; off < 8; off++) {
            memset(shifted, 'x', sizeof shifted);
            memcpy(shifted + off, w, wl);
            REQUIRE(strmap_hash(shifted + off, wl) == h);
        }
    }
    /* Real words spread over the table index (low bits) and the high bits:
     * chi-square with 63 degrees of freedom stays under its 0.1% critical
     * value, 103.4, for a uniform hash. */
    int low[64] = {0}, high[64] = {0};
    w = words;
    for (size_t i = 0; i < n; i++, w += strlen(w) + 1) {
        uint64_t h = strmap_hash(w, strlen(w));
        low[h & 63]++;
        high[h >> 58]++;
    }
    double xl = chi_square(low, 64, n), xh = chi_square(high, 64, n);
    OKM(xl < 103.4, "low bits: chi-square %.1f over %zu words", xl, n);
    OKM(xh < 103.4, "high bits: chi-square %.1f over %zu words", xh, n);
    free(words);
}
END_TEST

START_TEST(test_hash)
{
    REQUIRE(strmap_hash("", 0) != strmap_hash("\0", 1));
    REQUIRE(strmap_hash("\0", 1) != strmap_hash("\0\0", 2));
    /* Every length class (0, 1-3, 4-16, 17-48, >48) sees every byte: flipping
     * any one bit changes the hash. */
    char buf[128];
    for (size_t len = 1; len <= sizeof buf; len++) {
        memset(buf, 'q', len);
        uint64_t h = strmap_hash(buf, len);
        for (size_t i = 0; i < len; i++) {
            buf[i] ^= 1;
            REQUIRE(strmap_hash(buf, len) != h);
            buf[i] ^= 1;
        }
    }
    /* Low bits (the table index) spread: 64k sequential keys into 1024 buckets. */
    int buckets[1024] = {0};
    char key[16];
    for (int i = 0; i < 65536; i++) {
        int n = snprintf(key, sizeof key, "w%d", i);
        buckets[strmap_hash(key, (size_t)n) & 1023]++;
    }
    for (int i = 0; i < 1024; i++)
        REQUIRE((buckets[i]) < (64 * 2)); /* mean 64 */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strmap");
    TCase *tc = tcase_create("map");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_basic);
    tcase_add_test(tc, test_binary_keys);
    tcase_add_test(tc, test_big_keys);
    tcase_add_test(tc, test_growth);
    tcase_add_test(tc, test_random_vs_reference);
    tcase_add_test(tc, test_hash);
    tcase_add_test(tc, test_hash_real_words);
    suite_add_tcase(s, tc);
    return test_run(s);
}
