/* Unit tests of common/codec: varints, bit-packed blocks and the decoders'
 * refusal to read past the bytes they are given. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/codec.h"
#include "tests/unit/testutil.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    return test_rnd(&rng_state);
}

/* Expected LEB128 length of v. */
static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void check_varint(uint64_t v)
{
    buf b = {0};
    codec_put_varint(&b, v);
    OK(!b.oom);
    EQ(b.len, varint_len(v));
    uint64_t got = ~v;
    size_t n = codec_get_varint(b.p, b.len, &got);
    EQ(n, b.len);
    EQ(got, v);
    /* Every strict prefix is truncated: rejected. */
    for (size_t k = 0; k < b.len; k++) {
        uint64_t x = 12345;
        EQ(codec_get_varint(b.p, k, &x), 0);
        EQ(x, 12345); /* untouched on failure */
    }
    /* 32-bit decoder: accepts exactly the values that fit. */
    uint32_t v32 = 7;
    size_t n32 = codec_get_varint32(b.p, b.len, &v32);
    if (v <= UINT32_MAX) {
        EQ(n32, b.len);
        EQ(v32, (uint32_t)v);
    } else {
        EQ(n32, 0);
    }
    buf_free(&b);
}

START_TEST(varint_round_trips)
{
    const uint64_t fixed[] = {0,
                              1,
                              127,
                              128,
                              129,
                              255,
                              256,
                              16383,
                              16384,
                              (1ull << 21) - 1,
                              1ull << 21,
                              UINT32_MAX - 1ull,
                              UINT32_MAX,
                              (uint64_t)UINT32_MAX + 1,
                              (1ull << 56) - 1,
                              1ull << 56,
                              (1ull << 63) - 1,
                              1ull << 63,
                              UINT64_MAX - 1,
                              UINT64_MAX};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_varint(fixed[i]);
    /* Known encodings. */
    buf b = {0};
    codec_put_varint(&b, 0);
    codec_put_varint(&b, 127);
    codec_put_varint(&b, 128);
    codec_put_varint(&b, 300);
    const uint8_t want[] = {0x00, 0x7f, 0x80, 0x01, 0xac, 0x02};
    EQ(b.len, sizeof want);
    ck_assert_mem_eq(b.p, want, sizeof want);
    buf_free(&b);
    b = (buf){0};
    codec_put_varint(&b, UINT64_MAX);
    EQ(b.len, 10);
    EQ(b.p[9], 0x01);
    buf_free(&b);
    /* Random values of every magnitude. */
    for (int i = 0; i < 20000; i++) {
        unsigned shift = (unsigned)(rnd() % 64);
        check_varint(rnd() >> shift);
    }
}
END_TEST

START_TEST(varint_sequence)
{
    /* Many varints back to back decode in order; the stream's total length matches. */
    enum { N = 5000 };
    uint64_t *v = malloc(N * sizeof *v);
    buf b = {0};
    for (int i = 0; i < N; i++) {
        v[i] = rnd() >> (rnd() % 64);
        codec_put_varint(&b, v[i]);
    }
    size_t at = 0;
    for (int i = 0; i < N; i++) {
        uint64_t x;
        size_t n = codec_get_varint(b.p + at, b.len - at, &x);
        ck_assert_uint_ne(n, 0);
        EQ(x, v[i]);
        at += n;
    }
    EQ(at, b.len);
    /* skip_varints agrees with decoding */
    EQ(codec_skip_varints(b.p, b.len, N), b.len);
    EQ(codec_skip_varints(b.p, b.len - 1, N), 0);
    size_t first100 = 0;
    for (int i = 0; i < 100; i++)
        first100 += varint_len(v[i]);
    EQ(codec_skip_varints(b.p, b.len, 100), first100);
    free(v);
    buf_free(&b);
}
END_TEST

START_TEST(varint_malformed)
{
    uint8_t p[16] = {0};
    uint64_t x = 99;
    /* Empty input (p[0] = 0 would be a whole varint: reading it is a defect). */
    EQ(codec_get_varint(p, 0, &x), 0);
    /* All continuation bits: never terminates within avail. */
    memset(p, 0x80, sizeof p);
    for (size_t avail = 0; avail <= sizeof p; avail++)
        EQ(codec_get_varint(p, avail, &x), 0);
    /* 11 bytes (10 continuation + terminator) is longer than any uint64. */
    memset(p, 0xff, 10);
    p[10] = 0x01;
    EQ(codec_get_varint(p, 11, &x), 0);
    EQ(x, 99);
    /* A 5-byte value > UINT32_MAX rejected by the 32-bit decoder. */
    const uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 0x1f}; /* 2^33 - 1 */
    uint32_t y = 5;
    EQ(codec_get_varint32(big, sizeof big, &y), 0);
    EQ(y, 5);
    EQ(codec_get_varint(big, sizeof big, &x), 5);
    EQ(x, (1ull << 33) - 1);
    const uint8_t max32[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    EQ(codec_get_varint32(max32, sizeof max32, &y), 5);
    EQ(y, UINT32_MAX);
    /* Truncated inside a sequence, read from a heap block exactly that big
     * (ASan catches any read past it). */
    uint8_t *h = malloc(3);
    h[0] = 0x81;
    h[1] = 0x82;
    h[2] = 0x83;
    EQ(codec_get_varint(h, 3, &x), 0);
    EQ(codec_skip_varints(h, 3, 1), 0);
    free(h);
}
END_TEST

START_TEST(skip_varints)
{
    const uint8_t p[] = {0x05, 0x80, 0x01, 0xff, 0xff, 0x03, 0x00, 0x7f};
    /* varints: [05] [80 01] [ff ff 03] [00] [7f] */
    EQ(codec_skip_varints(p, sizeof p, 0), 0);
    EQ(codec_skip_varints(p, sizeof p, 1), 1);
    EQ(codec_skip_varints(p, sizeof p, 2), 3);
    EQ(codec_skip_varints(p, sizeof p, 3), 6);
    EQ(codec_skip_varints(p, sizeof p, 4), 7);
    EQ(codec_skip_varints(p, sizeof p, 5), 8);
    EQ(codec_skip_varints(p, sizeof p, 6), 0); /* runs out */
    EQ(codec_skip_varints(p, 5, 3), 0);        /* cut in the 3rd */
    EQ(codec_skip_varints(p, 6, 3), 6);
    EQ(codec_skip_varints(p, 0, 1), 0);
}
END_TEST

/* Long random varint streams (mostly one-byte, as positions are): the
 * word-at-a-time skip agrees with counting ends byte by byte. */
START_TEST(skip_varints_long)
{
    for (int round = 0; round < 200; round++) {
        buf b = {0};
        size_t n = 1 + rnd() % 400;
        for (size_t i = 0; i < n; i++)
            codec_put_varint(&b, rnd() % 8 ? rnd() % 128 : rnd() % 100000);
        for (size_t count = 0; count <= n; count++) {
            size_t want = 0;
            for (size_t c = 0; c < count; want++)
                c += !(b.p[want] & 0x80);
            EQ(codec_skip_varints(b.p, b.len, count), want);
        }
        EQ(codec_skip_varints(b.p, b.len, n + 1), 0);
        buf_free(&b);
    }
}
END_TEST

/* codec_posrd_seek finds the first position >= each target as a linear scan
 * does, over lists whose gaps are mostly one byte (the word-at-a-time path)
 * with some longer ones, read from a buffer of exactly their size. */
START_TEST(posrd_seek_matches_scan)
{
    for (int round = 0; round < 300; round++) {
        uint32_t n = 1 + (uint32_t)(rnd() % 300), pos[300];
        uint64_t at = rnd() % 1000;
        buf b = {0};
        for (uint32_t i = 0; i < n; i++) {
            uint64_t gap = rnd() % 10 ? 1 + rnd() % 127 : 128 + rnd() % 5000;
            at = i ? at + gap : at;
            pos[i] = (uint32_t)at;
            codec_put_varint(&b, i ? gap : at);
        }
        uint8_t *exact = malloc(b.len);
        memcpy(exact, b.p, b.len);
        codec_posrd r;
        codec_posrd_init(&r, exact, b.len, n);
        uint64_t target = 0;
        uint32_t k = 0;
        for (;;) {
            target += rnd() % 3 ? rnd() % 200 : rnd() % 3000;
            while (k < n && pos[k] < target)
                k++;
            int got = codec_posrd_seek(&r, target);
            if (k == n) {
                EQ(got, 0);
                break;
            }
            EQ(got, 1);
            OKM(r.at == pos[k], "round %d target %llu: at %llu, want %u", round,
                (unsigned long long)target, (unsigned long long)r.at, pos[k]);
        }
        free(exact);
        buf_free(&b);
    }
}
END_TEST

/* Damage is reported, never skipped by the word-at-a-time path: a zero gap
 * among eight one-byte gaps, a list cut short, a position past 32 bits. */
START_TEST(posrd_damage)
{
    const uint8_t zero_gap[] = {5, 1, 1, 1, 0, 1, 1, 1, 1, 1};
    codec_posrd r;
    codec_posrd_init(&r, zero_gap, sizeof zero_gap, 10);
    EQ(codec_posrd_seek(&r, 1000), -1);
    const uint8_t ok[] = {5, 1, 1, 1, 2, 1, 1, 1, 1, 1};
    codec_posrd_init(&r, ok, sizeof ok, 10);
    EQ(codec_posrd_seek(&r, 14), 1);
    EQ(r.at, 14);
    EQ(codec_posrd_seek(&r, 15), 1); /* the last: 5 6 7 8 10 11 12 13 14 15 */
    EQ(r.at, 15);
    EQ(codec_posrd_seek(&r, 16), 0);
    codec_posrd_init(&r, ok, 6, 10); /* six of ten varints */
    EQ(codec_posrd_seek(&r, 1000), -1);
    const uint8_t cut[] = {5, 0x80};
    codec_posrd_init(&r, cut, sizeof cut, 2);
    EQ(codec_posrd_seek(&r, 6), -1);
    buf b = {0};
    codec_put_varint(&b, UINT32_MAX - 10);
    for (int i = 0; i < 9; i++)
        codec_put_varint(&b, 2);
    codec_posrd_init(&r, b.p, b.len, 10);
    EQ(codec_posrd_seek(&r, UINT32_MAX), 1);
    EQ(r.at, UINT32_MAX);
    EQ(codec_posrd_seek(&r, (uint64_t)UINT32_MAX + 1), -1);
    buf_free(&b);
}
END_TEST

/* Packs v[0..n), checks size and width byte, unpacks (also from a buffer of
 * exactly that size), and checks every shorter `avail` is refused. */
static void check_pack(const uint32_t *v, size_t n)
{
    uint32_t all = 0;
    for (size_t i = 0; i < n; i++)
        all |= v[i];
    unsigned w = 0;
    while (w < 32 && (all >> w))
        w++;
    buf b = {0};
    buf_put_u8(&b, 0xAB); /* a prefix, so packing appends at a non-zero offset */
    codec_pack(&b, v, n);
    OK(!b.oom);
    size_t size = b.len - 1;
    EQ(size, codec_packed_size(n, w));
    EQ(b.p[0], 0xAB);
    EQ(b.p[1], w);
    uint8_t *exact = malloc(size ? size : 1);
    memcpy(exact, b.p + 1, size);
    uint32_t out[CODEC_BLOCK + 1];
    for (size_t i = 0; i <= CODEC_BLOCK; i++)
        out[i] = 0xDEADBEEF;
    EQ(codec_unpack(exact, size, n, out), size);
    for (size_t i = 0; i < n; i++)
        OKM(out[i] == v[i], "n=%zu w=%u i=%zu: got %u want %u", n, w, i, out[i], v[i]);
    EQ(out[n], 0xDEADBEEF); /* nothing written past n */
    /* Extra bytes after the block are not consumed. */
    buf_put_u8(&b, 0xff);
    EQ(codec_unpack(b.p + 1, b.len - 1, n, out), size);
    /* Short avail: 0, never reading past (ASan watches `exact`). */
    for (size_t avail = 0; avail < size; avail += (size - avail > 8 && avail > 8) ? 7 : 1)
        EQ(codec_unpack(exact, avail, n, out), 0);
    free(exact);
    buf_free(&b);
}

START_TEST(pack_all_widths)
{
    uint32_t v[CODEC_BLOCK];
    for (size_t n = 1; n <= CODEC_BLOCK; n++) {
        for (unsigned w = 0; w <= 32; w++) {
            uint32_t maxv = w == 32 ? UINT32_MAX : (uint32_t)((1ull << w) - 1);
            /* random values of width <= w, with at least one exactly w */
            for (size_t i = 0; i < n; i++)
                v[i] = (uint32_t)rnd() & maxv;
            v[rnd() % n] = maxv;
            check_pack(v, n);
            /* all max */
            for (size_t i = 0; i < n; i++)
                v[i] = maxv;
            check_pack(v, n);
            /* alternating max / 0 and 0 / max */
            for (size_t i = 0; i < n; i++)
                v[i] = (i & 1) ? 0 : maxv;
            check_pack(v, n);
            for (size_t i = 0; i < n; i++)
                v[i] = (i & 1) ? maxv : 0;
            check_pack(v, n);
            /* alternating bit patterns within the width */
            for (size_t i = 0; i < n; i++)
                v[i] = (i & 1 ? 0xAAAAAAAAu : 0x55555555u) & maxv;
            check_pack(v, n);
            /* only the top bit of the width */
            for (size_t i = 0; i < n; i++)
                v[i] = w ? (1u << (w - 1)) : 0;
            check_pack(v, n);
        }
        /* all zero: one byte */
        memset(v, 0, sizeof v);
        check_pack(v, n);
    }
}
END_TEST

START_TEST(pack_zero_block_is_one_byte)
{
    uint32_t v[CODEC_BLOCK] = {0};
    buf b = {0};
    codec_pack(&b, v, CODEC_BLOCK);
    EQ(b.len, 1);
    EQ(b.p[0], 0);
    uint32_t out[CODEC_BLOCK];
    memset(out, 0xff, sizeof out);
    EQ(codec_unpack(b.p, 1, CODEC_BLOCK, out), 1);
    for (int i = 0; i < CODEC_BLOCK; i++)
        EQ(out[i], 0);
    EQ(codec_unpack(b.p, 0, CODEC_BLOCK, out), 0);
    buf_free(&b);
    /* Known layout: values 1,2,3 at width 2 -> 01 10 11 LSB-first = 0b111001 */
    uint32_t w2[3] = {1, 2, 3};
    b = (buf){0};
    codec_pack(&b, w2, 3);
    EQ(b.len, 2);
    EQ(b.p[0], 2);
    EQ(b.p[1], 0x39);
    buf_free(&b);
}
END_TEST

START_TEST(unpack_bad_width)
{
    uint8_t p[1 + 33 * CODEC_BLOCK / 8 + 8];
    memset(p, 0, sizeof p);
    uint32_t out[CODEC_BLOCK];
    for (unsigned w = 33; w <= 255; w++) {
        p[0] = (uint8_t)w;
        EQ(codec_unpack(p, sizeof p, 1, out), 0);
        EQ(codec_unpack(p, sizeof p, CODEC_BLOCK, out), 0);
    }
    p[0] = 32;
    EQ(codec_unpack(p, sizeof p, CODEC_BLOCK, out), 1 + 4 * CODEC_BLOCK);
    EQ(codec_unpack(p, 4 * CODEC_BLOCK, CODEC_BLOCK, out), 0);
}
END_TEST

START_TEST(unpack_random_bytes_never_overreads)
{
    /* Arbitrary bytes: either refused or decoded within avail. */
    uint32_t out[CODEC_BLOCK];
    for (int iter = 0; iter < 3000; iter++) {
        size_t avail = (size_t)(rnd() % 600);
        uint8_t *p = malloc(avail ? avail : 1);
        for (size_t i = 0; i < avail; i++)
            p[i] = (uint8_t)rnd();
        if (avail && rnd() % 2) p[0] = (uint8_t)(rnd() % 34);
        size_t n = 1 + (size_t)(rnd() % CODEC_BLOCK);
        size_t used = codec_unpack(p, avail, n, out);
        if (used) {
            OK((p[0]) <= (32));
            EQ(used, codec_packed_size(n, p[0]));
            OK((used) <= (avail));
        } else {
            OK(avail == 0 || p[0] > 32 || codec_packed_size(n, p[0]) > avail);
        }
        uint64_t x;
        size_t vn = codec_get_varint(p, avail, &x);
        OK((vn) <= (avail));
        OK(codec_skip_varints(p, avail, 3) <= avail);
        free(p);
    }
}
END_TEST

static Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("varint");
    tcase_add_test(tc, varint_round_trips);
    tcase_add_test(tc, varint_sequence);
    tcase_add_test(tc, varint_malformed);
    tcase_add_test(tc, skip_varints);
    tcase_add_test(tc, skip_varints_long);
    tcase_add_test(tc, posrd_seek_matches_scan);
    tcase_add_test(tc, posrd_damage);
    suite_add_tcase(s, tc);
    tc = tcase_create("bitpack");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, pack_all_widths);
    tcase_add_test(tc, pack_zero_block_is_one_byte);
    tcase_add_test(tc, unpack_bad_width);
    tcase_add_test(tc, unpack_random_bytes_never_overreads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(codec_suite());
}
