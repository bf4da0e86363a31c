/* Unit tests of common/buf: the byte buffer's sticky oom and buf_grow, the
 * growth helper of typed arrays. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "tests/unit/testutil.h"

START_TEST(grow_keeps_contents)
{
    uint64_t *a = NULL;
    size_t cap = 0, grows = 0;
    for (size_t i = 0; i < 100000; i++) {
        size_t before = cap;
        EQ(buf_grow(&a, &cap, i + 1, sizeof *a), 0);
        OK(cap >= i + 1);
        grows += cap != before;
        a[i] = i * 0x9E3779B97F4A7C15ull;
    }
    for (size_t i = 0; i < 100000; i++)
        EQ(a[i], i * 0x9E3779B97F4A7C15ull);
    OKM(grows <= 14, "%zu reallocations for 100000 appends: not doubling", grows);
    /* enough room: nothing moves */
    uint64_t *same = a;
    EQ(buf_grow(&a, &cap, 5, sizeof *a), 0);
    OK(a == same);
    free(a);
}
END_TEST

START_TEST(grow_refuses_overflow)
{
    uint32_t *a = NULL;
    size_t cap = 0;
    EQ(buf_grow(&a, &cap, 10, sizeof *a), 0);
    uint32_t *before = a;
    size_t cap_before = cap;
    EQ(buf_grow(&a, &cap, SIZE_MAX / 2, sizeof *a), -1); /* need * elem wraps */
    OK(a == before && cap == cap_before);
    free(a);
}
END_TEST

START_TEST(buf_appends)
{
    buf b = {0};
    buf_puts(&b, "abc");
    buf_printf(&b, "%d-%s", 42, "x");
    buf_put_u32(&b, 0x01020304);
    EQ(b.len, 3 + 4 + 4);
    OK(!memcmp(b.p, "abc42-x", 7));
    EQ(rd_u32(b.p + 7), 0x01020304);
    OK(!b.oom);
    buf_free(&b);
    EQ(b.len, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("buf");
    tcase_add_test(tc, grow_keeps_contents);
    tcase_add_test(tc, grow_refuses_overflow);
    tcase_add_test(tc, buf_appends);
    suite_add_tcase(s, tc);
    return test_run(s);
}
