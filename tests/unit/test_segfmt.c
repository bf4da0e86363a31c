/* Unit tests of common/segfmt.h: every structure's size and field offsets as
 * docs/FORMAT.md gives them (checked byte by byte, independently of the
 * getters), and put/get round trips at the fields' boundary values. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/segfmt.h"
#include "tests/unit/testutil.h"

/* Little-endian reads written out, so the layout is checked without segfmt. */
static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static const uint32_t u32s[] = {0, 1, 127, 128, 0x80000000u, UINT32_MAX - 1, UINT32_MAX};
static const uint64_t u64s[] = {0,         1, UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX - 1,
                                UINT64_MAX};
#define N32 (sizeof u32s / sizeof u32s[0])
#define N64 (sizeof u64s / sizeof u64s[0])

static float floats(size_t i)
{
    const float f[] = {0.0f, FLT_MIN, 1e-45f /* denormal */, 1.0f, 2.2f, FLT_MAX, INFINITY};
    return f[i % 7];
}

static int same_bits(float a, float b)
{
    return !memcmp(&a, &b, sizeof a);
}

START_TEST(sizes_match_the_format)
{
    /* FORMAT.md §4-§7 */
    EQ(SEGFMT_LEX_BLOCK, 32);
    EQ(SEGFMT_LEX_INDEX_SIZE, 24);
    EQ(SEGFMT_LEX_TRAILER_SIZE, 32);
    EQ(SEGFMT_SKIP_SIZE, 20);
    EQ(SEGFMT_SUB_BLOCKS, 4);
    EQ(SEGFMT_SKIP_SUB + SEGFMT_SUB_BLOCKS, SEGFMT_SKIP_SIZE);
    EQ(SEGFMT_DOCS_TRAILER_SIZE, 11 * 8);
    EQ(SEGFMT_DOCS_TRAILER_SECTION_OFF + 8 * SEGFMT_DOCS_SECTIONS, SEGFMT_DOCS_TRAILER_SIZE);
    EQ(SEGFMT_STORE_ENTRY_SIZE, 20);
    EQ(SEGFMT_STORE_TRAILER_SIZE, 24);
}
END_TEST

START_TEST(skip_entry)
{
    for (size_t i = 0; i < N32; i++) {
        segfmt_skip in = {u32s[i],
                          u32s[(i + 1) % N32],
                          u32s[(i + 2) % N32],
                          floats(i),
                          {(uint8_t)i, 0, 255, (uint8_t)(254 - i)}};
        uint8_t b[SEGFMT_SKIP_SIZE + 1];
        b[SEGFMT_SKIP_SIZE] = 0xA5; /* put writes exactly the entry */
        segfmt_skip_put(b, &in);
        EQ(b[SEGFMT_SKIP_SIZE], 0xA5);
        EQ(le(b + 0, 4), in.last_doc);
        EQ(le(b + 4, 4), in.doc_off);
        EQ(le(b + 8, 4), in.pos_off);
        float f;
        uint32_t bits = (uint32_t)le(b + 12, 4);
        memcpy(&f, &bits, 4);
        ck_assert(same_bits(f, in.bound));
        ck_assert(!memcmp(b + 16, in.sub, 4));
        segfmt_skip out;
        segfmt_skip_get(b, &out);
        EQ(out.last_doc, in.last_doc);
        EQ(out.doc_off, in.doc_off);
        EQ(out.pos_off, in.pos_off);
        ck_assert(same_bits(out.bound, in.bound));
        ck_assert(!memcmp(out.sub, in.sub, SEGFMT_SUB_BLOCKS));
        /* the hot-path getters read the same fields */
        EQ(segfmt_skip_last_doc(b), in.last_doc);
        EQ(segfmt_skip_doc_off(b), in.doc_off);
        EQ(segfmt_skip_pos_off(b), in.pos_off);
        ck_assert(same_bits(segfmt_skip_bound(b), in.bound));
        for (uint32_t s = 0; s < SEGFMT_SUB_BLOCKS; s++)
            EQ(segfmt_skip_sub(b, s), in.sub[s]);
    }
}
END_TEST

START_TEST(lexicon_index_and_trailer)
{
    for (size_t i = 0; i < N64; i++) {
        segfmt_lex_index in = {u64s[i], u64s[(i + 1) % N64], u64s[(i + 2) % N64]}, out;
        uint8_t b[SEGFMT_LEX_INDEX_SIZE];
        segfmt_lex_index_put(b, &in);
        EQ(le(b, 8), in.block_off);
        EQ(le(b + 8, 8), in.post_off);
        EQ(le(b + 16, 8), in.pos_off);
        segfmt_lex_index_get(b, &out);
        ck_assert(!memcmp(&in, &out, sizeof in));
        EQ(segfmt_lex_index_block_off(b), in.block_off);

        segfmt_lex_trailer t = {u64s[i], u64s[(i + 3) % N64], u64s[(i + 4) % N64],
                                u64s[(i + 5) % N64]},
                           u;
        uint8_t tb[SEGFMT_LEX_TRAILER_SIZE];
        memset(tb, 0xff, sizeof tb);
        segfmt_lex_trailer_put(tb, &t);
        EQ(le(tb, 8), t.n_terms);
        EQ(le(tb + 8, 8), t.n_blocks);
        EQ(le(tb + 16, 8), t.index_off);
        EQ(le(tb + 24, 8), t.filter_off);
        segfmt_lex_trailer_get(tb, &u);
        ck_assert(!memcmp(&t, &u, sizeof t));

        segfmt_filter_header h = {(uint32_t)u64s[i], (uint32_t)u64s[(i + 1) % N64],
                                  u64s[(i + 2) % N64]},
                             g;
        uint8_t hb[SEGFMT_FILTER_HEADER_SIZE];
        segfmt_filter_header_put(hb, &h);
        EQ(le(hb, 4), h.scheme);
        EQ(le(hb + 4, 4), h.flags);
        EQ(le(hb + 8, 8), h.n_blocks);
        segfmt_filter_header_get(hb, &g);
        ck_assert(!memcmp(&h, &g, sizeof h));
    }
}
END_TEST

START_TEST(lexicon_entry)
{
    static const char term[255] = "solar";
    for (size_t i = 0; i < N64; i++) {
        segfmt_lex_entry in = {i % 3,
                               i == 0 ? 127 : 5,
                               (const uint8_t *)term,
                               u64s[i],
                               u64s[(i + 1) % N64],
                               u64s[(i + 2) % N64],
                               u64s[(i + 3) % N64],
                               floats(i)};
        buf b = {0};
        segfmt_lex_entry_put(&b, &in);
        ck_assert(!b.oom);
        segfmt_lex_entry out;
        EQ(segfmt_lex_entry_get(b.p, b.len, &out), b.len);
        EQ(out.shared, in.shared);
        EQ(out.suffix_len, in.suffix_len);
        ck_assert(!memcmp(out.suffix, term, (size_t)in.suffix_len));
        ck_assert_ptr_eq(out.suffix, b.p + 2); /* both varints are one byte here */
        EQ(out.df, in.df);
        EQ(out.cf_extra, in.cf_extra);
        EQ(out.post_len, in.post_len);
        EQ(out.pos_len, in.pos_len);
        ck_assert(same_bits(out.bound, in.bound));
        /* the bound is the entry's last 4 bytes */
        float f;
        uint32_t bits = (uint32_t)le(b.p + b.len - 4, 4);
        memcpy(&f, &bits, 4);
        ck_assert(same_bits(f, in.bound));
        /* the head alone is shared, suffix_len and the suffix */
        segfmt_lex_entry h;
        EQ(segfmt_lex_head_get(b.p, b.len, &h), 2 + in.suffix_len);
        /* every truncation is refused, never read past */
        for (size_t n = 0; n < b.len; n++)
            EQ(segfmt_lex_entry_get(b.p, n, &out), 0);
        for (size_t n = 0; n < 2 + in.suffix_len; n++)
            EQ(segfmt_lex_head_get(b.p, n, &h), 0);
        buf_free(&b);
    }
}
END_TEST

START_TEST(docs_trailer)
{
    for (size_t i = 0; i < N64; i++) {
        segfmt_docs_trailer in = {u64s[i],
                                  u64s[(i + 1) % N64],
                                  u64s[(i + 2) % N64],
                                  u64s[(i + 3) % N64],
                                  {0}},
                            out;
        for (int s = 0; s < SEGFMT_DOCS_SECTIONS; s++)
            in.off[s] = u64s[(i + 4 + (size_t)s) % N64];
        uint8_t b[SEGFMT_DOCS_TRAILER_SIZE];
        segfmt_docs_trailer_put(b, &in);
        EQ(le(b, 8), in.n_docs);
        EQ(le(b + 8, 8), in.tokens_title);
        EQ(le(b + 16, 8), in.tokens_body);
        EQ(le(b + 24, 8), in.store_records);
        /* sections in FORMAT.md §6's order */
        EQ(le(b + 32, 8), in.off[SEGFMT_DOCS_LEN_TITLE]);
        EQ(le(b + 40, 8), in.off[SEGFMT_DOCS_LEN_BODY]);
        EQ(le(b + 48, 8), in.off[SEGFMT_DOCS_DATE]);
        EQ(le(b + 56, 8), in.off[SEGFMT_DOCS_STORE_REC]);
        EQ(le(b + 64, 8), in.off[SEGFMT_DOCS_ID_OFF]);
        EQ(le(b + 72, 8), in.off[SEGFMT_DOCS_ID_BLOB]);
        EQ(le(b + 80, 8), in.off[SEGFMT_DOCS_BY_ID]);
        segfmt_docs_trailer_get(b, &out);
        ck_assert(!memcmp(&in, &out, sizeof in));
    }
}
END_TEST

START_TEST(store_entry_and_trailer)
{
    for (size_t i = 0; i < N32; i++) {
        segfmt_store_entry in = {u64s[i % N64], u32s[i], u32s[(i + 1) % N32], u32s[(i + 2) % N32]},
                           out;
        uint8_t b[SEGFMT_STORE_ENTRY_SIZE];
        segfmt_store_entry_put(b, &in);
        EQ(le(b, 8), in.off);
        EQ(le(b + 8, 4), in.packed_len);
        EQ(le(b + 12, 4), in.raw_len);
        EQ(le(b + 16, 4), in.first_rec);
        segfmt_store_entry_get(b, &out);
        EQ(out.off, in.off);
        EQ(out.packed_len, in.packed_len);
        EQ(out.raw_len, in.raw_len);
        EQ(out.first_rec, in.first_rec);
        EQ(segfmt_store_entry_first_rec(b), in.first_rec);

        segfmt_store_trailer t = {u64s[i % N64], u64s[(i + 1) % N64], u64s[(i + 2) % N64]}, u;
        uint8_t tb[SEGFMT_STORE_TRAILER_SIZE];
        segfmt_store_trailer_put(tb, &t);
        EQ(le(tb, 8), t.n_blocks);
        EQ(le(tb + 8, 8), t.n_records);
        EQ(le(tb + 16, 8), t.table_off);
        segfmt_store_trailer_get(tb, &u);
        ck_assert(!memcmp(&t, &u, sizeof t));
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("segfmt");
    TCase *tc = tcase_create("segfmt");
    tcase_add_test(tc, sizes_match_the_format);
    tcase_add_test(tc, skip_entry);
    tcase_add_test(tc, lexicon_index_and_trailer);
    tcase_add_test(tc, lexicon_entry);
    tcase_add_test(tc, docs_trailer);
    tcase_add_test(tc, store_entry_and_trailer);
    suite_add_tcase(s, tc);
    return test_run(s);
}
