/* merge (indexer/merge.h): the native merge of segments and the policy.
 *
 * The merge: the 2- and 7-segment builds of a corpus, merged, give the
 * one-segment build's lexicon, postings, positions and doc table byte for
 * byte and the same stored articles; with documents deleted, the merge
 * equals a fresh build of the surviving input lines. The policy: small
 * cases, and a year of hourly appends with 1% of the articles deleted daily,
 * where the segment count must stay bounded (the write amplification is
 * printed). */
#include "indexer/merge.h"

#include "tests/unit/match_oracle.h"

/* ------------------------------------------------------------ the merge */

static void read_file(const char *path, buf *out)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "open %s", path);
    out->len = 0;
    char b[1 << 16];
    size_t r;
    while ((r = fread(b, 1, sizeof b, f)) > 0)
        buf_put(out, b, r);
    fclose(f);
    ck_assert(!out->oom);
}

/* Files dir_a/name_a.EXT and dir_b/name_b.EXT are identical. */
static void same_file(const char *dir_a, const char *name_a, const char *dir_b, const char *name_b,
                      const char *ext)
{
    char pa[700], pb[700];
    snprintf(pa, sizeof pa, "%s/%s.%s", dir_a, name_a, ext);
    snprintf(pb, sizeof pb, "%s/%s.%s", dir_b, name_b, ext);
    buf a = {0}, b = {0};
    read_file(pa, &a);
    read_file(pb, &b);
    ck_assert_msg(a.len == b.len && !memcmp(a.p, b.p, a.len), "%s differs from %s", pb, pa);
    buf_free(&a);
    buf_free(&b);
}

/* Both segments hold the same articles, in the same order. */
static void same_store(seg *a, seg *b)
{
    ck_assert_uint_eq(seg_ndocs(a), seg_ndocs(b));
    buf sa = {0}, sb = {0};
    idx_err err = {0};
    uint32_t tables = 0;
    for (uint32_t d = 0; d < seg_ndocs(a); d++) {
        seg_doc x, y;
        ck_assert_msg(seg_doc_get(a, d, &sa, &x, &err) == 0, "%s", err.msg);
        ck_assert_msg(seg_doc_get(b, d, &sb, &y, &err) == 0, "%s", err.msg);
        for (int f = 0; f < FIELD_COUNT; f++)
            OKM(x.len[f] == y.len[f] && !memcmp(x.field[f], y.field[f], x.len[f]),
                "document %u, field %d differs", d, f);
        /* the position table (FORMAT.md §7.1) is copied with its record */
        OKM(x.posmap_len == y.posmap_len &&
                (!x.posmap_len || !memcmp(x.posmap, y.posmap, x.posmap_len)),
            "document %u, position table differs", d);
        tables += x.posmap_len > 0;
    }
    OKM(tables > 0, "no record has a position table");
    buf_free(&sa);
    buf_free(&sb);
}

static int del_every(void *ctx, uint32_t i, uint32_t doc)
{
    const uint32_t *first = ctx; /* global docid of each input's doc 0 */
    return (first[i] + doc) % 3 == 1;
}

/* Merges ix's segments (deleted per fn) into dir/name; checks and opens it. */
static seg *merge_into(idx_index *ix, merge_deleted_fn fn, void *ctx, const char *dir,
                       const char *name, txn_segment *tot)
{
    merge_input in = {ix->segs, ix->n_segs, fn, ctx};
    idx_err err = {0};
    ck_assert_msg(mkdir(dir, 0777) == 0, "mkdir %s", dir);
    ck_assert_msg(merge_segments(&in, dir, name, ix->meta.bm25, tot, &err) == 0, "merge: %s",
                  err.msg);
    seg *s = NULL;
    ck_assert_msg(seg_open(dir, name, &s, &err) == 0, "open merged: %s", err.msg);
    ck_assert_msg(seg_check(s, &ix->meta.bm25, &err) == 0, "check merged: %s", err.msg);
    return s;
}

static const char *const byte_equal_exts[] = {"lex", "post", "pos", "docs"};

START_TEST(test_merge_equals_one_segment)
{
    char path[1024];
    if (!eo_corpus("cranfield", path, sizeof path)) {
        printf("skip: no shared cranfield corpus\n");
        return;
    }
    char dir[256];
    eo_tmpdir(dir, sizeof dir, "merge");
    const char *inputs[1] = {path};
    idx_index *all[EO_N_LAYOUTS];
    eo_build_all(dir, "cran", inputs, 1, eo_build(dir, "cran", inputs, 1), all);
    char one[600];
    snprintf(one, sizeof one, "%s/cran", dir);
    for (int k = 1; k < EO_N_LAYOUTS; k++) {
        ck_assert_uint_eq(all[k]->n_segs, eo_layout_segs[k]);
        char out[600];
        snprintf(out, sizeof out, "%s/merged-%u", dir, eo_layout_segs[k]);
        txn_segment tot;
        seg *m = merge_into(all[k], NULL, NULL, out, "s0009", &tot);
        for (size_t e = 0; e < sizeof byte_equal_exts / sizeof *byte_equal_exts; e++)
            same_file(one, "s0001", out, "s0009", byte_equal_exts[e]);
        same_store(all[0]->segs[0], m);
        ck_assert_uint_eq(tot.docs, all[0]->meta.docs);
        ck_assert_uint_eq(tot.terms, all[0]->meta.terms);
        ck_assert_uint_eq(tot.postings, all[0]->meta.postings);
        ck_assert_uint_eq(tot.positions, all[0]->meta.positions);
        ck_assert_uint_eq(tot.tokens_title, all[0]->meta.tokens_title);
        ck_assert_uint_eq(tot.tokens_body, all[0]->meta.tokens_body);
        seg_close(m);
    }
    eo_close_all(all);
    eo_rmrf(dir);
}
END_TEST

/* Copies the lines of a (gzipped) JSONL file whose number n has n % 3 != 1. */
static void keep_lines(const char *in, const char *out)
{
    gzFile g = gzopen(in, "rb");
    ck_assert_ptr_nonnull(g);
    FILE *f = fopen(out, "wb");
    ck_assert_ptr_nonnull(f);
    static char line[1 << 20];
    for (uint32_t n = 0; gzgets(g, line, sizeof line); n++) {
        ck_assert_msg(strchr(line, '\n') != NULL, "line %u too long", n);
        if (n % 3 != 1) fputs(line, f);
    }
    gzclose(g);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_merge_drops_deleted)
{
    char path[1024];
    if (!eo_corpus("cranfield", path, sizeof path)) {
        printf("skip: no shared cranfield corpus\n");
        return;
    }
    char dir[256], kept[600];
    eo_tmpdir(dir, sizeof dir, "merge-del");
    snprintf(kept, sizeof kept, "%s/kept.jsonl", dir);
    keep_lines(path, kept);
    const char *inputs[1] = {path}, *kept_in[1] = {kept};
    idx_index *ix7 = eo_build_segs(dir, "cran7", inputs, 1, 210);
    idx_index *fresh = eo_build(dir, "fresh", kept_in, 1);
    uint32_t first[INDEX_MAX_SEGMENTS], g = 0;
    for (uint32_t i = 0; i < ix7->n_segs; i++) {
        first[i] = g;
        g += seg_ndocs(ix7->segs[i]);
    }
    ck_assert_uint_gt(ix7->n_segs, 5);
    char out[600], fdir[600];
    snprintf(out, sizeof out, "%s/merged", dir);
    snprintf(fdir, sizeof fdir, "%s/fresh", dir);
    txn_segment tot;
    seg *m = merge_into(ix7, del_every, first, out, "s0002", &tot);
    ck_assert_uint_eq(tot.docs, fresh->meta.docs);
    ck_assert_uint_lt(tot.docs, g);
    for (size_t e = 0; e < sizeof byte_equal_exts / sizeof *byte_equal_exts; e++)
        same_file(fdir, "s0001", out, "s0002", byte_equal_exts[e]);
    same_store(fresh->segs[0], m);
    seg_close(m);
    index_close(ix7);
    index_close(fresh);
    eo_rmrf(dir);
}
END_TEST

/* ------------------------------------------------------------ the policy */

static uint32_t policy(const uint64_t *docs, const uint64_t *deleted, uint32_t n, merge_op *ops)
{
    merge_seg_info s[INDEX_MAX_SEGMENTS];
    for (uint32_t i = 0; i < n; i++)
        s[i] = (merge_seg_info){docs[i], deleted ? deleted[i] : 0};
    return merge_policy(s, n, ops, INDEX_MAX_SEGMENTS);
}

START_TEST(test_policy_levels)
{
    merge_op ops[INDEX_MAX_SEGMENTS];
    uint64_t docs[12] = {5000, 100, 120, 150, 180, 110, 199, 300, 999, 100, 150, 40};
    /* 9 segments of level 2 after a level-3 one: not yet */
    ck_assert_uint_eq(policy(docs, NULL, 10, ops), 0);
    /* the tenth arrives */
    ck_assert_uint_eq(policy(docs, NULL, 11, ops), 1);
    ck_assert_uint_eq(ops[0].first, 1);
    ck_assert_uint_eq(ops[0].n, 10);
    /* a level-1 segment in the run breaks it */
    docs[5] = 11;
    ck_assert_uint_eq(policy(docs, NULL, 12, ops), 0);
    /* deletions move a segment down a level */
    uint64_t del[12] = {0};
    docs[5] = 110;
    del[8] = 900; /* 99 live of 999: level 1, and 90% deleted, so rewritten */
    ck_assert_uint_eq(policy(docs, del, 11, ops), 1);
    ck_assert_uint_eq(ops[0].first, 8);
    ck_assert_uint_eq(ops[0].n, 1); /* both neighbours have more live documents */
}
END_TEST

START_TEST(test_policy_deleted)
{
    merge_op ops[INDEX_MAX_SEGMENTS];
    uint64_t docs[4] = {1000, 100, 1000, 10}, del[4] = {200, 0, 201, 0};
    /* exactly 20% is not more than 20%; 20.1% is, and takes its smaller
     * neighbours along */
    ck_assert_uint_eq(policy(docs, del, 4, ops), 1);
    ck_assert_uint_eq(ops[0].first, 1);
    ck_assert_uint_eq(ops[0].n, 3);
}
END_TEST

START_TEST(test_policy_cap)
{
    merge_op ops[INDEX_MAX_SEGMENTS];
    uint64_t docs[INDEX_MAX_SEGMENTS];
    /* alternating levels, so no level run: only the cap merges */
    for (uint32_t i = 0; i < 40; i++)
        docs[i] = i % 2 ? 50 : 5000 + i;
    docs[20] = 3; /* the smallest run of 9 is around it */
    uint32_t n = policy(docs, NULL, 40, ops);
    uint32_t after = 40;
    for (uint32_t k = 0; k < n; k++)
        after -= ops[k].n - 1;
    ck_assert_uint_eq(after, MERGE_MAX_SEGMENTS);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(ops[0].n, 9);
    ck_assert_uint_le(ops[0].first, 20);
    ck_assert_uint_ge(ops[0].first + ops[0].n, 21);
    ck_assert_uint_eq(policy(docs, NULL, MERGE_MAX_SEGMENTS, ops), 0);
}
END_TEST

/* A year of hourly appends (docs_per_hour each), 1% of the live articles
 * deleted at random every day, the policy applied after each commit until
 * it asks for nothing: the segment count stays at or below the cap and the
 * write amplification (documents written by appends and merges per document
 * appended) stays small. */
typedef struct sim {
    merge_seg_info s[INDEX_MAX_SEGMENTS];
    uint32_t n, max_n;
    uint64_t appended, written, merges;
    eo_rng rng;
} sim;

static void sim_settle(sim *m)
{
    merge_op ops[INDEX_MAX_SEGMENTS];
    uint32_t n_ops;
    while ((n_ops = merge_policy(m->s, m->n, ops, INDEX_MAX_SEGMENTS)) > 0) {
        merge_seg_info out[INDEX_MAX_SEGMENTS];
        uint32_t n = 0, k = 0;
        for (uint32_t i = 0; i < m->n;) {
            if (k < n_ops && ops[k].first == i) {
                uint64_t live = 0;
                for (uint32_t j = i; j < i + ops[k].n; j++)
                    live += m->s[j].docs - m->s[j].deleted;
                out[n++] = (merge_seg_info){live, 0};
                m->written += live;
                m->merges++;
                i += ops[k++].n;
            } else {
                out[n++] = m->s[i++];
            }
        }
        memcpy(m->s, out, n * sizeof *out);
        m->n = n;
    }
    if (m->n > m->max_n) m->max_n = m->n;
}

static void sim_delete(sim *m, uint64_t count)
{
    for (uint64_t c = 0; c < count; c++) {
        uint64_t live = 0;
        for (uint32_t i = 0; i < m->n; i++)
            live += m->s[i].docs - m->s[i].deleted;
        uint64_t pick = eo_next(&m->rng) % live;
        for (uint32_t i = 0; i < m->n; i++) {
            uint64_t l = m->s[i].docs - m->s[i].deleted;
            if (pick < l) {
                m->s[i].deleted++;
                break;
            }
            pick -= l;
        }
    }
}

static void simulate(uint64_t docs_per_hour)
{
    sim m = {0};
    m.rng.s = 7;
    for (uint32_t hour = 0; hour < 365 * 24; hour++) {
        ck_assert_uint_lt(m.n, INDEX_MAX_SEGMENTS);
        m.s[m.n++] = (merge_seg_info){docs_per_hour, 0};
        m.appended += docs_per_hour;
        m.written += docs_per_hour;
        sim_settle(&m);
        if (hour % 24 == 23) {
            uint64_t live = 0;
            for (uint32_t i = 0; i < m.n; i++)
                live += m.s[i].docs - m.s[i].deleted;
            sim_delete(&m, live / 100);
            sim_settle(&m);
        }
    }
    double wa = (double)m.written / (double)m.appended;
    printf("policy, %llu docs an hour for a year, 1%% deleted daily: at most %u segments "
           "(%u at the end), %llu merges, write amplification %.2f\n",
           (unsigned long long)docs_per_hour, m.max_n, m.n, (unsigned long long)m.merges, wa);
    ck_assert_uint_le(m.max_n, MERGE_MAX_SEGMENTS);
    ck_assert_double_lt(wa, 12.0);
}

START_TEST(test_policy_year)
{
    simulate(100);
    simulate(1000);
    simulate(137);
    simulate(25);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("merge");
    TCase *tc = tcase_create("merge");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_merge_equals_one_segment);
    tcase_add_test(tc, test_merge_drops_deleted);
    tcase_add_test(tc, test_policy_levels);
    tcase_add_test(tc, test_policy_deleted);
    tcase_add_test(tc, test_policy_cap);
    tcase_add_test(tc, test_policy_year);
    suite_add_tcase(s, tc);
    return test_run(s);
}
