/* testutil: helpers shared by the libcheck unit tests. */
#ifndef IDX_TESTUTIL_H
#define IDX_TESTUTIL_H

#include <check.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* libcheck's ck_assert_* write to a pipe on every call (even passing), which
 * costs a syscall each; hot loops use these, which only call into check on
 * failure. */
#define EQ(a, b)                                                                                   \
    do {                                                                                           \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);             \
        if (a_ != b_) ck_abort_msg("%s == %s failed: %llu != %llu", #a, #b, a_, b_);               \
    } while (0)
#define OKM(c, ...)                                                                                \
    do {                                                                                           \
        if (!(c)) ck_abort_msg(__VA_ARGS__);                                                       \
    } while (0)
#define OK(c)                                                                                      \
    do {                                                                                           \
        if (!(c)) ck_abort_msg("%s failed", #c);                                                   \
    } while (0)

/* xorshift64*: deterministic random numbers, independent of libc. */
static inline uint64_t test_rnd(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* The path `rel` inside the shared test data into out: $IDX_SHARED if set (IDX_SHARED=/nonexistent
 * runs the tests as on a machine without it), else ../shared beside the source tree ($IDX_SRC). */
static inline void test_shared_path(char *out, size_t cap, const char *rel)
{
    const char *shared = getenv("IDX_SHARED"), *src = getenv("IDX_SRC");
    if (shared)
        snprintf(out, cap, "%s/%s", shared, rel);
    else
        snprintf(out, cap, "%s/../shared/%s", src ? src : ".", rel);
}

static inline int test_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(path);
}

/* Removes the directory dir and everything in it (a test's mkdtemp
 * directory); 0, or -1 with errno set. Symbolic links are removed, never
 * followed. */
static inline int test_rmtree(const char *dir)
{
    return nftw(dir, test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs a suite; the process exit status says whether every test passed. */
static inline int test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
