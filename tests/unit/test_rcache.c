/* rcache: the response cache of idx-fcgi. Checked against a model: an LRU
 * list kept by hand, with the same charging rule, under random operations;
 * plus the edge cases and threads hammering one cache. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "web/rcache.h"
#include "testutil.h"

static rcache *make(size_t max)
{
    rcache *c;
    idx_err err = {0};
    OKM(rcache_new(max, &c, &err) == 0, "rcache_new: %s", err.msg);
    return c;
}

static int get_str(rcache *c, const char *key, buf *out)
{
    return rcache_get(c, key, strlen(key), out);
}

static void put_str(rcache *c, const char *key, const char *val)
{
    rcache_put(c, key, strlen(key), val, strlen(val));
}

START_TEST(test_hit_miss_replace)
{
    rcache *c = make(1 << 20);
    buf b = {0};
    EQ(get_str(c, "a", &b), 0);
    put_str(c, "a", "apple");
    put_str(c, "b", "banana");
    EQ(get_str(c, "a", &b), 1);
    OK(b.len == 5 && !memcmp(b.p, "apple", 5));
    put_str(c, "a", "avocado");
    EQ(get_str(c, "a", &b), 1);
    OK(b.len == 7 && !memcmp(b.p, "avocado", 7));
    /* keys are bytes: a prefix or an embedded NUL is another key */
    EQ(get_str(c, "", &b), 0);
    rcache_put(c, "a\0x", 3, "nul", 3);
    EQ(rcache_get(c, "a\0x", 3, &b), 1);
    OK(b.len == 3 && !memcmp(b.p, "nul", 3));
    /* an empty value is a value */
    put_str(c, "empty", "");
    EQ(get_str(c, "empty", &b), 1);
    EQ(b.len, 0);
    rcache_stats st;
    rcache_get_stats(c, &st);
    EQ(st.entries, 4);
    EQ(st.hits, 4);
    EQ(st.misses, 2);
    buf_free(&b);
    rcache_free(c);
}
END_TEST

/* A cleared cache answers nothing it held, keeps its counters, and works
 * as before (the buckets were emptied, not freed). */
START_TEST(test_clear)
{
    rcache *c = make(1 << 20);
    buf b = {0};
    char key[16];
    for (int i = 0; i < 1000; i++) { /* past the first bucket doubling */
        snprintf(key, sizeof key, "k%d", i);
        put_str(c, key, "old");
    }
    EQ(get_str(c, "k7", &b), 1);
    rcache_clear(c);
    rcache_stats st;
    rcache_get_stats(c, &st);
    EQ(st.entries, 0);
    EQ(st.bytes, 0);
    EQ(st.inserts, 1000);
    EQ(st.hits, 1);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        EQ(get_str(c, key, &b), 0);
    }
    put_str(c, "k7", "new");
    EQ(get_str(c, "k7", &b), 1);
    OK(b.len == 3 && !memcmp(b.p, "new", 3));
    rcache_get_stats(c, &st);
    EQ(st.entries, 1);
    buf_free(&b);
    rcache_free(c);
}
END_TEST

START_TEST(test_too_large_is_not_stored)
{
    rcache *c = make(8000);
    static char big[2000];
    memset(big, 'x', sizeof big);
    buf b = {0};
    rcache_put(c, "big", 3, big, sizeof big); /* over an eighth of the cache */
    EQ(get_str(c, "big", &b), 0);
    rcache_put(c, "ok", 2, big, 500);
    EQ(get_str(c, "ok", &b), 1);
    EQ(b.len, 500);
    buf_free(&b);
    rcache_free(c);
}
END_TEST

/* The model: keys 0..NK-1, an LRU order and the bytes charged. The charge
 * per entry is measured from the cache itself (one entry alone). */
#define NK 64
START_TEST(test_lru_against_model)
{
    rcache *probe = make(1 << 20);
    rcache_put(probe, "k00", 3, "", 0);
    rcache_stats st;
    rcache_get_stats(probe, &st);
    size_t overhead = st.bytes - 3; /* cost of a 3-byte key and an empty value */
    rcache_free(probe);

    size_t max = 40 * (overhead + 3 + 100);
    rcache *c = make(max);
    int present[NK] = {0};
    size_t vlen[NK] = {0};
    int order[NK]; /* order[0] most recent */
    int n = 0;
    size_t bytes = 0;
    uint64_t rnd = 42;
    buf b = {0};
    char val[400];
    memset(val, 'v', sizeof val);
    for (int step = 0; step < 20000; step++) {
        int k = (int)(test_rnd(&rnd) % NK);
        char key[4];
        snprintf(key, sizeof key, "k%02d", k);
        int pos = -1;
        for (int i = 0; i < n; i++)
            if (order[i] == k) pos = i;
        if (test_rnd(&rnd) % 2) {
            int got = rcache_get(c, key, 3, &b);
            OKM(got == present[k], "step %d key %d: got %d want %d", step, k, got, present[k]);
            if (got) {
                EQ(b.len, vlen[k]);
                memmove(order + 1, order, (size_t)pos * sizeof *order);
                order[0] = k;
            }
        } else {
            size_t len = (size_t)(test_rnd(&rnd) % 200);
            size_t cost = overhead + 3 + len;
            rcache_put(c, key, 3, val, len);
            if (cost > max / 8) continue; /* refused: nothing changes */
            if (pos >= 0) {
                bytes -= overhead + 3 + vlen[k];
                memmove(order + pos, order + pos + 1, (size_t)(n - pos - 1) * sizeof *order);
                n--;
            }
            while (n && bytes + cost > max) {
                int old = order[--n];
                present[old] = 0;
                bytes -= overhead + 3 + vlen[old];
            }
            memmove(order + 1, order, (size_t)n * sizeof *order);
            order[0] = k;
            n++;
            present[k] = 1;
            vlen[k] = len;
            bytes += cost;
        }
        rcache_get_stats(c, &st);
        EQ(st.entries, (size_t)n);
        EQ(st.bytes, bytes);
        OK(st.bytes <= max);
    }
    buf_free(&b);
    rcache_free(c);
}
END_TEST

typedef struct hammer {
    rcache *c;
    int id;
    int bad;
} hammer;

static void *hammer_main(void *arg)
{
    hammer *h = arg;
    buf b = {0};
    uint64_t rnd = 7 + (uint64_t)h->id;
    for (int i = 0; i < 50000; i++) {
        unsigned k = (unsigned)(test_rnd(&rnd) % 500);
        char key[16], val[64];
        int kl = snprintf(key, sizeof key, "key%u", k);
        int vl = snprintf(val, sizeof val, "value of key%u", k);
        if (test_rnd(&rnd) % 3) {
            /* every value ever stored under a key is the same: a hit must show it */
            if (rcache_get(h->c, key, (size_t)kl, &b) == 1 &&
                (b.len != (size_t)vl || memcmp(b.p, val, b.len)))
                h->bad++;
        } else {
            rcache_put(h->c, key, (size_t)kl, val, (size_t)vl);
        }
    }
    buf_free(&b);
    return NULL;
}

START_TEST(test_threads)
{
    rcache *c = make(20000); /* small: evictions race with lookups */
    hammer h[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (hammer){c, i, 0};
        OK(pthread_create(&t[i], NULL, hammer_main, &h[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        EQ(h[i].bad, 0);
    }
    rcache_stats st;
    rcache_get_stats(c, &st);
    OK(st.bytes <= 20000 && st.evictions > 0 && st.hits > 0);
    rcache_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rcache");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_hit_miss_replace);
    tcase_add_test(tc, test_clear);
    tcase_add_test(tc, test_too_large_is_not_stored);
    tcase_add_test(tc, test_lru_against_model);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    return test_run(s);
}
