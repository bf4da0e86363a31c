/* Unit tests of common/cfile: round trips of every size class, and every
 * kind of damage (flipped bytes, truncation, wrong kind, out-of-range spans)
 * reported as IDX_EDATA. */
#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cfile.h"
#include "tests/unit/testutil.h"

static char tmpdir[256];
static int file_no;

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rnd(void)
{
    return test_rnd(&rng_state);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/idx-test-cfile-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    EQ(test_rmtree(tmpdir), 0);
}

static void new_path(char *path, size_t cap)
{
    snprintf(path, cap, "%s/f%04d", tmpdir, file_no++);
}

static uint8_t *random_bytes(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
    return p;
}

/* Writes `data` through cfw_* in chunks of varying size. */
static void write_file(const char *path, const char *kind, const uint8_t *data, size_t n)
{
    cfw *w;
    idx_err err = {0};
    ck_assert_int_eq(cfw_create(path, kind, &w, &err), 0);
    ck_assert_uint_eq(cfw_tell(w), CFILE_HEADER);
    size_t at = 0;
    while (at < n) {
        size_t k = 1 + (size_t)(rnd() % 9000);
        if (k > n - at) k = n - at;
        ck_assert_int_eq(cfw_write(w, data + at, k), 0);
        at += k;
        ck_assert_uint_eq(cfw_tell(w), CFILE_HEADER + at);
    }
    ck_assert_int_eq(cfw_close(w, &err), 0);
    ck_assert_int_eq(err.code, 0);
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    *n = (size_t)file_size(path);
    uint8_t *p = malloc(*n ? *n : 1);
    ck_assert_uint_eq(fread(p, 1, *n, f), *n);
    fclose(f);
    return p;
}

static void spit(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* Opens and reads everything back; checks the bytes. */
static void read_back(const char *path, const char *kind, const uint8_t *data, size_t n)
{
    cfr *r;
    idx_err err = {0};
    ck_assert_msg(cfr_open(path, kind, &r, &err) == 0, "open: %s", err.msg);
    ck_assert_uint_eq(cfr_body_end(r), CFILE_HEADER + n);
    uint64_t pages = (CFILE_HEADER + n + CFILE_PAGE - 1) / CFILE_PAGE;
    ck_assert_uint_eq(cfr_size(r), CFILE_HEADER + n + 4 * pages + CFILE_FOOTER);
    ck_assert_uint_eq(cfr_size(r), file_size(path));
    ck_assert_str_eq(cfr_path(r), path);
    /* The whole body at once. */
    const uint8_t *p = cfr_get(r, CFILE_HEADER, n, &err);
    ck_assert_ptr_nonnull(p);
    if (n) ck_assert_mem_eq(p, data, n);
    /* Random spans, including ones crossing page boundaries. */
    for (int i = 0; i < 200 && n; i++) {
        uint64_t off = rnd() % n, len = rnd() % (n - off + 1);
        p = cfr_get(r, CFILE_HEADER + off, len, &err);
        ck_assert_ptr_nonnull(p);
        if (len) ck_assert_mem_eq(p, data + off, len);
    }
    ck_assert_int_eq(cfr_verify_all(r, &err), 0);
    ck_assert_int_eq(err.code, 0);
    /* Header bytes are readable too (absolute offsets). */
    p = cfr_get(r, 0, CFILE_HEADER, &err);
    ck_assert_ptr_nonnull(p);
    ck_assert_mem_eq(p, "IDXF", 4);
    cfr_close(r);
}

START_TEST(round_trip_sizes)
{
    const size_t sizes[] = {0,
                            1,
                            2,
                            4095,
                            4096,
                            4097,
                            CFILE_PAGE - CFILE_HEADER - 1,
                            CFILE_PAGE - CFILE_HEADER,
                            CFILE_PAGE - CFILE_HEADER + 1,
                            3 * CFILE_PAGE,
                            256 * CFILE_PAGE - CFILE_HEADER, /* exactly the write buffer */
                            256 * CFILE_PAGE,
                            1 << 20,
                            (1 << 20) + 12345};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char path[300];
        new_path(path, sizeof path);
        uint8_t *d = random_bytes(sizes[i]);
        write_file(path, "post", d, sizes[i]);
        read_back(path, "post", d, sizes[i]);
        free(d);
    }
}
END_TEST

START_TEST(single_big_write)
{
    char path[300];
    new_path(path, sizeof path);
    size_t n = 3 * 256 * CFILE_PAGE + 17;
    uint8_t *d = random_bytes(n);
    cfw *w;
    idx_err err = {0};
    ck_assert_int_eq(cfw_create(path, "pos", &w, &err), 0);
    ck_assert_int_eq(cfw_write(w, d, n), 0);
    ck_assert_uint_eq(cfw_tell(w), CFILE_HEADER + n);
    ck_assert_int_eq(cfw_close(w, &err), 0);
    read_back(path, "pos", d, n);
    free(d);
}
END_TEST

START_TEST(create_refuses_existing)
{
    char path[300];
    new_path(path, sizeof path);
    spit(path, (const uint8_t *)"x", 1);
    cfw *w;
    idx_err err = {0};
    ck_assert_int_lt(cfw_create(path, "lex", &w, &err), 0);
    ck_assert_int_ne(err.code, 0);
    ck_assert_uint_eq(file_size(path), 1);
}
END_TEST

START_TEST(abort_removes_file)
{
    char path[300];
    new_path(path, sizeof path);
    cfw *w;
    idx_err err = {0};
    ck_assert_int_eq(cfw_create(path, "lex", &w, &err), 0);
    cfw_write(w, "abc", 3);
    cfw_abort(w);
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* Opens a damaged file; the damage must surface as IDX_EDATA either at open,
 * at reading the whole body, or at verify_all — and reading the damaged
 * span must never succeed. Returns where it was caught (0 open, 1 get). */
static int expect_damage(const char *path, const char *kind, uint64_t damaged_off)
{
    cfr *r;
    idx_err err = {0};
    int rc = cfr_open(path, kind, &r, &err);
    if (rc) {
        ck_assert_int_eq(rc, IDX_EDATA);
        ck_assert_int_eq(err.code, IDX_EDATA);
        ck_assert_msg(strstr(err.msg, path) != NULL, "message names the file: %s", err.msg);
        return 0;
    }
    /* Open passed: the flip is inside the checksummed data. */
    ck_assert_uint_lt(damaged_off, cfr_body_end(r));
    idx_err e2 = {0};
    ck_assert_int_eq(cfr_verify_all(r, &e2), IDX_EDATA);
    ck_assert_int_eq(e2.code, IDX_EDATA);
    ck_assert_ptr_nonnull(strstr(e2.msg, path));
    idx_err e3 = {0};
    ck_assert_ptr_null(cfr_get(r, damaged_off, 1, &e3));
    ck_assert_int_eq(e3.code, IDX_EDATA);
    ck_assert_ptr_nonnull(strstr(e3.msg, path));
    idx_err e4 = {0};
    ck_assert_ptr_null(cfr_get(r, CFILE_HEADER, cfr_body_end(r) - CFILE_HEADER, &e4));
    ck_assert_int_eq(e4.code, IDX_EDATA);
    /* A span on another, intact page still reads. */
    uint64_t page = damaged_off / CFILE_PAGE;
    if (page > 0) {
        idx_err e5 = {0};
        ck_assert_ptr_nonnull(cfr_get(r, 0, CFILE_HEADER, &e5));
    }
    cfr_close(r);
    return 1;
}

START_TEST(flip_every_byte_small)
{
    char path[300], bad[300];
    new_path(path, sizeof path);
    new_path(bad, sizeof bad);
    size_t n = 300;
    uint8_t *d = random_bytes(n);
    write_file(path, "docs", d, n);
    size_t fn;
    uint8_t *orig = slurp(path, &fn);
    ck_assert_uint_eq(fn, CFILE_HEADER + n + 4 + CFILE_FOOTER);
    int at_open = 0, at_get = 0;
    for (size_t i = 0; i < fn; i++) {
        for (int bit = 0; bit < 8; bit += 7) { /* lowest and highest bit */
            orig[i] ^= (uint8_t)(1u << bit);
            spit(bad, orig, fn);
            orig[i] ^= (uint8_t)(1u << bit);
            if (expect_damage(bad, "docs", i))
                at_get++;
            else
                at_open++;
        }
    }
    /* Header and body flips are found at open (header page is verified at
     * open and here body shares page 0); table/footer flips too. */
    ck_assert_int_eq(at_open + at_get, (int)(2 * fn));
    ck_assert_int_gt(at_open, 0);
    /* The intact copy still opens. */
    spit(bad, orig, fn);
    read_back(bad, "docs", d, n);
    free(orig);
    free(d);
}
END_TEST

START_TEST(flip_sampled_bytes_big)
{
    char path[300], bad[300];
    new_path(path, sizeof path);
    new_path(bad, sizeof bad);
    size_t n = (1 << 20) + 999;
    uint8_t *d = random_bytes(n);
    write_file(path, "store", d, n);
    size_t fn;
    uint8_t *orig = slurp(path, &fn);
    int at_get = 0;
    /* Every region: header, first body page, middle, last body page, the
     * page table, the footer. */
    uint64_t positions[400];
    size_t np = 0;
    for (uint64_t i = 0; i < CFILE_HEADER; i += 5)
        positions[np++] = i;
    for (int k = 0; k < 200; k++)
        positions[np++] = CFILE_HEADER + rnd() % n;
    uint64_t data_end = CFILE_HEADER + n;
    for (uint64_t i = data_end - 10; i < data_end; i++)
        positions[np++] = i;
    for (int k = 0; k < 40; k++)
        positions[np++] = data_end + rnd() % (fn - data_end - CFILE_FOOTER);
    for (uint64_t i = fn - CFILE_FOOTER; i < fn; i++)
        positions[np++] = i;
    ck_assert_uint_le(np, sizeof positions / sizeof positions[0]);
    /* Flip in place on a copy, restore after each. */
    spit(bad, orig, fn);
    int fd = open(bad, O_RDWR);
    ck_assert_int_ge(fd, 0);
    for (size_t k = 0; k < np; k++) {
        uint8_t b = orig[positions[k]] ^ (uint8_t)(1 + rnd() % 255);
        ck_assert_int_eq(pwrite(fd, &b, 1, (off_t)positions[k]), 1);
        at_get += expect_damage(bad, "store", positions[k]);
        ck_assert_int_eq(pwrite(fd, &orig[positions[k]], 1, (off_t)positions[k]), 1);
    }
    close(fd);
    /* Body flips past page 0 are caught lazily (open stays cheap). */
    ck_assert_int_gt(at_get, 100);
    read_back(bad, "store", d, n);
    free(orig);
    free(d);
}
END_TEST

START_TEST(truncations_fail_at_open)
{
    const size_t sizes[] = {0, 100, 5000, 70000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        char path[300], bad[300];
        new_path(path, sizeof path);
        new_path(bad, sizeof bad);
        uint8_t *d = random_bytes(sizes[s]);
        write_file(path, "lex", d, sizes[s]);
        size_t fn;
        uint8_t *orig = slurp(path, &fn);
        for (size_t len = 0; len < fn; len += (len < 80 || fn - len < 80) ? 1 : 1 + rnd() % 997) {
            spit(bad, orig, len);
            cfr *r;
            idx_err err = {0};
            ck_assert_msg(cfr_open(bad, "lex", &r, &err) == IDX_EDATA, "len %zu of %zu opened", len,
                          fn);
            ck_assert_int_eq(err.code, IDX_EDATA);
            ck_assert_ptr_nonnull(strstr(err.msg, bad));
        }
        /* Appended garbage is damage too. */
        uint8_t *longer = malloc(fn + 1);
        memcpy(longer, orig, fn);
        longer[fn] = 0;
        spit(bad, longer, fn + 1);
        cfr *r;
        idx_err err = {0};
        ck_assert_int_eq(cfr_open(bad, "lex", &r, &err), IDX_EDATA);
        free(longer);
        free(orig);
        free(d);
    }
}
END_TEST

START_TEST(wrong_kind_and_missing)
{
    char path[300];
    new_path(path, sizeof path);
    uint8_t d[10] = {1, 2, 3};
    write_file(path, "lex", d, sizeof d);
    cfr *r;
    idx_err err = {0};
    ck_assert_int_eq(cfr_open(path, "post", &r, &err), IDX_EDATA);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    err_clear(&err);
    ck_assert_int_eq(cfr_open(path, "le", &r, &err), IDX_EDATA);
    err_clear(&err);
    ck_assert_int_eq(cfr_open(path, "lexx", &r, &err), IDX_EDATA);
    err_clear(&err);
    ck_assert_int_eq(cfr_open(path, "lex", &r, &err), 0);
    cfr_close(r);
    /* Missing file, a directory, an empty file, a non-idx file. */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nope", tmpdir);
    err_clear(&err);
    ck_assert_int_eq(cfr_open(missing, "lex", &r, &err), IDX_EDATA);
    ck_assert_ptr_nonnull(strstr(err.msg, missing));
    err_clear(&err);
    ck_assert_int_eq(cfr_open(tmpdir, "lex", &r, &err), IDX_EDATA);
    char empty[300];
    new_path(empty, sizeof empty);
    spit(empty, (const uint8_t *)"", 0);
    err_clear(&err);
    ck_assert_int_eq(cfr_open(empty, "lex", &r, &err), IDX_EDATA);
    char junk[300];
    new_path(junk, sizeof junk);
    uint8_t *j = random_bytes(5000);
    spit(junk, j, 5000);
    free(j);
    err_clear(&err);
    ck_assert_int_eq(cfr_open(junk, "lex", &r, &err), IDX_EDATA);
}
END_TEST

START_TEST(spans_out_of_range)
{
    char path[300];
    new_path(path, sizeof path);
    size_t n = 10000;
    uint8_t *d = random_bytes(n);
    write_file(path, "pos", d, n);
    cfr *r;
    idx_err err = {0};
    ck_assert_int_eq(cfr_open(path, "pos", &r, &err), 0);
    uint64_t end = cfr_body_end(r);
    ck_assert_uint_eq(end, CFILE_HEADER + n);
    /* Valid edges. */
    ck_assert_ptr_nonnull(cfr_get(r, end - 1, 1, &err));
    ck_assert_ptr_nonnull(cfr_get(r, end, 0, &err));
    ck_assert_ptr_nonnull(cfr_get(r, 0, end, &err));
    ck_assert_int_eq(err.code, 0);
    /* Past the data (into the table/footer) or overflowing. */
    const uint64_t bad[][2] = {{end, 1},
                               {end - 1, 2},
                               {0, end + 1},
                               {end + 1, 0},
                               {cfr_size(r) - 1, 1},
                               {cfr_size(r), 0},
                               {UINT64_MAX, 1},
                               {1, UINT64_MAX},
                               {UINT64_MAX - 5, 10},
                               {CFILE_HEADER, UINT64_MAX - CFILE_HEADER + 1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        idx_err e = {0};
        ck_assert_msg(cfr_get(r, bad[i][0], bad[i][1], &e) == NULL, "span %zu accepted", i);
        ck_assert_int_eq(e.code, IDX_EDATA);
        ck_assert_ptr_nonnull(strstr(e.msg, path));
    }
    cfr_close(r);
    free(d);
}
END_TEST

static Suite *cfile_suite(void)
{
    Suite *s = suite_create("cfile");
    TCase *tc = tcase_create("cfile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, round_trip_sizes);
    tcase_add_test(tc, single_big_write);
    tcase_add_test(tc, create_refuses_existing);
    tcase_add_test(tc, abort_removes_file);
    tcase_add_test(tc, flip_every_byte_small);
    tcase_add_test(tc, flip_sampled_bytes_big);
    tcase_add_test(tc, truncations_fail_at_open);
    tcase_add_test(tc, wrong_kind_and_missing);
    tcase_add_test(tc, spans_out_of_range);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(cfile_suite());
}
