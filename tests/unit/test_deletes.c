/* Unit tests of deletion files (common/deletes.h): a bitmap written and
 * loaded back is the same; every flipped byte and every truncation of the
 * file is detected; a well-checksummed file whose docids are out of order,
 * repeated, out of range or miscounted is refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfile.h"
#include "common/deletes.h"
#include "tests/unit/testutil.h"

#define N_DOCS 5000

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/idx-test-deletes-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    EQ(test_rmtree(dir), 0);
}

/* A bitmap of about one document in eleven, the last one included. */
static uint32_t fill(uint64_t *bits)
{
    uint64_t r = 7;
    uint32_t n = 0;
    for (uint32_t d = 0; d < N_DOCS; d++)
        if (test_rnd(&r) % 11 == 0 || d == N_DOCS - 1) {
            del_set(bits, d);
            n++;
        }
    return n;
}

START_TEST(round_trip)
{
    static uint64_t bits[(N_DOCS + 63) / 64];
    memset(bits, 0, sizeof bits);
    uint32_t n = fill(bits);
    char name[64];
    del_file_name("s0003", 17, name, sizeof name);
    ck_assert_str_eq(name, "s0003.17.del");
    idx_err err = {0};
    OKM(del_write(dir, name, bits, N_DOCS, &err) == 0, "write: %s", err.msg);
    uint64_t *back;
    OKM(del_load(dir, NULL, name, N_DOCS, n, &back, &err) == 0, "load: %s", err.msg);
    OK(memcmp(back, bits, sizeof bits) == 0);
    free(back);
    /* The count meta gives must match; so must the segment's size. */
    EQ(del_load(dir, NULL, name, N_DOCS, n - 1, &back, &err), IDX_EDATA);
    OKM(strstr(err.msg, name) != NULL, "%s", err.msg);
    err_clear(&err);
    EQ(del_load(dir, NULL, name, N_DOCS - 1, n, &back, &err), IDX_EDATA);
    err_clear(&err);
    EQ(del_load(dir, NULL, "s0003.18.del", N_DOCS, n, &back, &err), IDX_EDATA);
}
END_TEST

/* The file's bytes, for the damage tests (src over one file). */
typedef struct one_file {
    const char *name;
    uint8_t *data;
    uint64_t size;
} one_file;

static const uint8_t *one_get(void *ctx, const char *name, uint64_t *size)
{
    one_file *f = ctx;
    if (strcmp(name, f->name)) return NULL;
    *size = f->size;
    return f->data;
}

static uint8_t *slurp(const char *path, uint64_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n);
    ck_assert_ptr_nonnull(p);
    OK(fread(p, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *size = (uint64_t)n;
    return p;
}

START_TEST(damage_detected)
{
    uint64_t bits[2] = {0x8421, 0x3};
    idx_err err = {0};
    OK(del_write(dir, "s0001.2.del", bits, 100, &err) == 0);
    char path[128];
    snprintf(path, sizeof path, "%s/s0001.2.del", dir);
    one_file f = {"s0001.2.del", NULL, 0};
    uint8_t *orig = slurp(path, &f.size);
    f.data = malloc(f.size);
    cfr_source src = {one_get, &f};
    uint64_t *back;
    memcpy(f.data, orig, f.size);
    OK(del_load(NULL, &src, f.name, 100, 6, &back, &err) == 0);
    free(back);
    for (uint64_t i = 0; i < f.size; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(f.data, orig, f.size);
            f.data[i] ^= (uint8_t)(1u << bit);
            err_clear(&err);
            OKM(del_load(NULL, &src, f.name, 100, 6, &back, &err) == IDX_EDATA,
                "flip of bit %d at byte %llu undetected", bit, (unsigned long long)i);
        }
    memcpy(f.data, orig, f.size);
    uint64_t size = f.size;
    for (f.size = 0; f.size < size; f.size++) {
        err_clear(&err);
        OKM(del_load(NULL, &src, f.name, 100, 6, &back, &err) == IDX_EDATA,
            "truncation to %llu bytes undetected", (unsigned long long)f.size);
    }
    free(f.data);
    free(orig);
}
END_TEST

/* A file with valid checksums holding these u32 words as its body. */
static void forge(const char *name, const uint32_t *w, int n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    cfw *f;
    idx_err err = {0};
    OK(cfw_create(path, DEL_KIND, &f, &err) == 0);
    for (int i = 0; i < n; i++) {
        uint8_t b[4] = {(uint8_t)w[i], (uint8_t)(w[i] >> 8), (uint8_t)(w[i] >> 16),
                        (uint8_t)(w[i] >> 24)};
        cfw_write(f, b, 4);
    }
    OK(cfw_close(f, &err) == 0);
}

START_TEST(bad_lists_refused)
{
    static const struct {
        uint32_t w[4];
        int n;
        uint64_t count;
    } bad[] = {
        {{2, 5, 3}, 3, 2},   /* out of order */
        {{2, 4, 4}, 3, 2},   /* repeated */
        {{2, 4, 100}, 3, 2}, /* past the segment's 100 documents */
        {{3, 1, 2}, 3, 3},   /* fewer docids than counted */
        {{1, 1, 2}, 3, 1},   /* trailing bytes */
        {{0}, 0, 0},         /* no count */
    };
    idx_err err = {0};
    uint64_t *back;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        forge("s0001.1.del", bad[i].w, bad[i].n);
        err_clear(&err);
        OKM(del_load(dir, NULL, "s0001.1.del", 100, bad[i].count, &back, &err) == IDX_EDATA,
            "forged list %zu accepted", i);
    }
    static const uint32_t good[] = {3, 0, 50, 99};
    forge("s0001.1.del", good, 4);
    err_clear(&err);
    OKM(del_load(dir, NULL, "s0001.1.del", 100, 3, &back, &err) == 0, "%s", err.msg);
    OK(del_has(back, 0) && del_has(back, 50) && del_has(back, 99) && !del_has(back, 1));
    free(back);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("deletes");
    TCase *tc = tcase_create("deletes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, damage_detected);
    tcase_add_test(tc, bad_lists_refused);
    suite_add_tcase(s, tc);
    return test_run(s);
}
