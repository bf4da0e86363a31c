/* Unit tests of searcher/facets.h: list parsing and formatting, and the
 * counts of a real index of several segments
 * against counts made here the slow way, from the stored articles of every
 * hit of an exhaustive ranked search; also with segments that have no facet
 * columns (common/fcol.h), merged, and with forged columns. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfile.h"
#include "common/deletes.h"
#include "common/fcol.h"
#include "common/fields.h"
#include "common/index.h"
#include "common/segfmt.h"
#include "indexer/build.h"
#include "indexer/merge.h"
#include "searcher/facets.h"
#include "searcher/match.h"
#include "searcher/qparse.h"
#include "tests/unit/testutil.h"

static int parse(const char *s, facets_spec *sp, idx_err *err)
{
    return facets_parse(s, strlen(s), sp, err);
}

START_TEST(parse_lists)
{
    facets_spec sp;
    idx_err err = {0};
    EQ(parse("category,year,author", &sp, &err), 0);
    EQ(sp.top[FACET_CATEGORY], 10);
    EQ(sp.top[FACET_YEAR], 10);
    EQ(sp.top[FACET_MONTH], 0);
    EQ(sp.top[FACET_AUTHOR], 10);
    EQ(parse("month,author:25", &sp, &err), 0);
    EQ(sp.top[FACET_MONTH], 12);
    EQ(sp.top[FACET_AUTHOR], 25);
    EQ(sp.top[FACET_CATEGORY], 0);
    EQ(facets_any(&sp), 1);
    EQ(parse("", &sp, &err), 0);
    EQ(facets_any(&sp), 0);
    EQ(parse("year:1000", &sp, &err), 0);
    EQ(sp.top[FACET_YEAR], 1000);

    /* facets_format reads back as the same spec */
    EQ(parse("author:3,category,month:12,year:7", &sp, &err), 0);
    buf b = {0};
    facets_format(&sp, &b);
    buf_put_u8(&b, 0);
    ck_assert_str_eq((const char *)b.p, "category,year:7,month,author:3");
    facets_spec back;
    EQ(parse((const char *)b.p, &back, &err), 0);
    EQ(memcmp(&sp, &back, sizeof sp), 0);
    buf_free(&b);

    static const char *const bad[] = {
        "bogus",   "category,category", "year:0", "year:1001", "year:",   "year:x",
        "year:1x", "category,",         ",year",  "Category",  "year:-1", "year:99999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&err);
        OKM(parse(bad[i], &sp, &err) == IDX_EUSAGE, "'%s' accepted", bad[i]);
        OKM(!strncmp(err.msg, "facets: ", 8), "'%s': message '%s'", bad[i], err.msg);
    }
    char many[8000] = "";
    for (int i = 0; i < 1000; i++)
        strcat(many, i ? ",year" : "year");
    err_clear(&err);
    EQ(parse(many, &sp, &err), IDX_EUSAGE);
    ck_assert(strstr(err.msg, "too long") != NULL);
}
END_TEST

/* ---- counting against the stored articles ---- */

typedef struct tally {
    char value[64];
    uint64_t count;
} tally;

typedef struct tallies {
    tally t[400];
    size_t n;
} tallies;

static void tally_add(tallies *ts, const char *v, size_t len)
{
    for (size_t i = 0; i < ts->n; i++)
        if (strlen(ts->t[i].value) == len && !memcmp(ts->t[i].value, v, len)) {
            ts->t[i].count++;
            return;
        }
    ck_assert_uint_lt(ts->n, 400);
    ck_assert_uint_lt(len, 64);
    memcpy(ts->t[ts->n].value, v, len);
    ts->t[ts->n].value[len] = 0;
    ts->t[ts->n++].count = 1;
}

/* Each distinct "; "-separated value of a stored label field once. */
static void tally_labels(tallies *ts, const char *s, size_t n)
{
    char seen[16][64];
    int n_seen = 0;
    for (size_t at = 0; at < n;) {
        const char *sep = memmem(s + at, n - at, "; ", 2);
        size_t end = sep ? (size_t)(sep - s) : n, len = end - at;
        int dup = 0;
        for (int k = 0; k < n_seen; k++)
            dup |= strlen(seen[k]) == len && !memcmp(seen[k], s + at, len);
        if (len && !dup) {
            ck_assert_int_lt(n_seen, 16);
            memcpy(seen[n_seen], s + at, len);
            seen[n_seen++][len] = 0;
            tally_add(ts, s + at, len);
        }
        at = end + 2;
    }
}

/* res's values of one facet are the top of ts: right counts, best first,
 * ties by value, and nothing left out that should have been in. */
static void check_facet(const facets_result *res, int f, const tallies *ts, uint32_t top)
{
    EQ(res->asked[f], 1);
    uint32_t want_n = ts->n < top ? (uint32_t)ts->n : top;
    OKM(res->n[f] == want_n, "%s: %u values, want %u", facets_name(f), res->n[f], want_n);
    for (uint32_t i = 0; i < res->n[f]; i++) {
        const facets_value *v = &res->v[f][i];
        uint64_t want = 0;
        for (size_t k = 0; k < ts->n; k++)
            if (strlen(ts->t[k].value) == v->len && !memcmp(ts->t[k].value, v->value, v->len))
                want = ts->t[k].count;
        OKM(v->count == want, "%s %.*s: %llu, want %llu", facets_name(f), (int)v->len, v->value,
            (unsigned long long)v->count, (unsigned long long)want);
        if (i) {
            const facets_value *p = &res->v[f][i - 1];
            int c = memcmp(p->value, v->value, p->len < v->len ? p->len : v->len);
            if (!c) c = p->len < v->len ? -1 : 1; /* a prefix comes first */
            ck_assert(p->count > v->count || (p->count == v->count && c < 0));
        }
    }
    if (!res->n[f] || res->n[f] == ts->n) return;
    const facets_value *last = &res->v[f][res->n[f] - 1];
    for (size_t k = 0; k < ts->n; k++) {
        int in = 0;
        for (uint32_t i = 0; i < res->n[f]; i++)
            in |= strlen(ts->t[k].value) == res->v[f][i].len &&
                  !memcmp(ts->t[k].value, res->v[f][i].value, res->v[f][i].len);
        if (!in)
            OKM(ts->t[k].count < last->count ||
                    (ts->t[k].count == last->count &&
                     strncmp(ts->t[k].value, last->value, last->len) > 0),
                "%s %s (%llu) left out", facets_name(f), ts->t[k].value,
                (unsigned long long)ts->t[k].count);
    }
}

static void check_query(idx_index *ix, ana *a, const char *text, const facets_spec *sp)
{
    idx_err err = {0};
    qparse_tree *q = NULL;
    EQ(qparse_parse(a, text, strlen(text), NULL, &q, &err), 0);
    facets_result res;
    OKM(facets_count(ix, q, sp, &res, &err) == 0, "%s: %s", text, err.msg);

    match_options o = match_options_default(ix);
    o.k = 100000;
    o.exhaustive = 1;
    o.collapse = 0; /* facets count every match, duplicates too */
    match_result r;
    EQ(match_search(ix, q, &o, &r, &err), 0);
    OKM(res.matches == r.total, "%s: %llu matches, want %llu", text,
        (unsigned long long)res.matches, (unsigned long long)r.total);
    tallies *ts = calloc(FACET_N, sizeof *ts);
    ck_assert_ptr_nonnull(ts);
    buf scratch = {0};
    for (uint32_t i = 0; i < r.n_hits; i++) {
        seg_doc d;
        EQ(index_doc_get(ix, r.hits[i].seg, r.hits[i].doc, &scratch, &d, &err), 0);
        tally_labels(&ts[FACET_CATEGORY], d.field[FIELD_CATEGORY], d.len[FIELD_CATEGORY]);
        tally_labels(&ts[FACET_AUTHOR], d.field[FIELD_AUTHOR], d.len[FIELD_AUTHOR]);
        if (d.len[FIELD_DATE] >= 7) {
            tally_add(&ts[FACET_YEAR], d.field[FIELD_DATE], 4);
            tally_add(&ts[FACET_MONTH], d.field[FIELD_DATE], 7);
        }
    }
    for (int f = 0; f < FACET_N; f++)
        if (sp->top[f]) check_facet(&res, f, &ts[f], sp->top[f]);
    buf_free(&scratch);
    free(ts);
    match_result_free(&r);
    facets_result_free(&res);
    qparse_free(q);
}

/* Builds dir/ix from 900 generated articles in four segments (dir is made
 * here and removed by test_rmtree). */
static void build_fixture(char *dir, size_t dir_size, char *out, size_t out_size)
{
    char in[96];
    snprintf(dir, dir_size, "/tmp/idx-test-facets-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(in, sizeof in, "%s/in.jsonl", dir);
    snprintf(out, out_size, "%s/ix", dir);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    static const char *const cats[] = {"Sport", "Politics", "Science Fiction", "Art", "Law"};
    uint64_t rs = 5;
    for (int d = 0; d < 900; d++) {
        uint64_t x = test_rnd(&rs);
        fprintf(f, "{\"id\":\"d%d\",\"title\":\"t\",\"body\":\"%s%s filler\"", d,
                x % 3 ? "alpha " : "", x % 5 ? "beta" : "");
        if (x % 7) /* some undated */
            fprintf(f, ",\"date\":\"%d-%02d-%02d\"", 2010 + (int)(x >> 8) % 6,
                    1 + (int)(x >> 16) % 12, 1 + (int)(x >> 24) % 28);
        if (x % 11) /* a repeated category counts once */
            fprintf(f, ",\"category\":[\"%s\",\"%s\",\"%s\"]", cats[(x >> 32) % 5],
                    cats[(x >> 40) % 5], cats[(x >> 32) % 5]);
        if (x % 13)
            fprintf(f, ",\"author\":\"Author %d; Writer %d\"", (int)(x >> 44) % 40,
                    (int)(x >> 52) % 3);
        fputs("}\n", f);
    }
    fclose(f);
    const char *inputs[] = {in};
    build_opts o = build_opts_default(out, inputs, 1);
    o.mem_bytes = 64u << 20;
    o.threads = 1;
    o.segment_docs = 250; /* four segments */
    build_summary sum;
    idx_err err = {0};
    OKM(build_run(&o, &sum, &err) == 0, "build: %s", err.msg);
}

/* Every query with two specs against the stored articles. */
static void check_all_queries(idx_index *ix, ana *a)
{
    idx_err err = {0};
    facets_spec all, few;
    EQ(parse("category,year,month,author:50", &all, &err), 0);
    EQ(parse("category:2,author:3,year:2", &few, &err), 0);
    static const char *const queries[] = {
        "alpha",        "beta",          "+alpha +beta",      "alpha -beta",
        "category:art", "author:writer", "alpha date:2012..", "nosuchword"};
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        check_query(ix, a, queries[i], &all);
        check_query(ix, a, queries[i], &few);
    }
}

START_TEST(counts_match_the_stored_articles)
{
    char dir[64], out[96];
    build_fixture(dir, sizeof dir, out, sizeof out);
    idx_index *ix = NULL;
    idx_err err = {0};
    EQ(index_open(out, &ix, &err), 0);
    ck_assert_uint_ge(ix->n_segs, 3);
    ana *a = NULL;
    EQ(index_ana_new(ix, &a, &err), 0);
    check_all_queries(ix, a);

    /* a date range within one year adds months (when years are asked) */
    qparse_tree *q = NULL;
    facets_result res;
    facets_spec year;
    EQ(parse("year", &year, &err), 0);
    EQ(qparse_parse(a, "alpha date:2013", 15, NULL, &q, &err), 0);
    EQ(facets_count(ix, q, &year, &res, &err), 0);
    EQ(res.asked[FACET_MONTH], 1);
    EQ(res.n[FACET_YEAR], 1);
    ck_assert_uint_ge(res.n[FACET_MONTH], 2);
    for (uint32_t i = 0; i < res.n[FACET_MONTH]; i++)
        EQ(memcmp(res.v[FACET_MONTH][i].value, "2013-", 5), 0);
    facets_result_free(&res);
    qparse_free(q);
    EQ(qparse_parse(a, "alpha date:2013..2014", 21, NULL, &q, &err), 0);
    EQ(facets_count(ix, q, &year, &res, &err), 0);
    EQ(res.asked[FACET_MONTH], 0);
    facets_result_free(&res);
    qparse_free(q);

    ana_free(a);
    index_close(ix);
    EQ(test_rmtree(dir), 0);
}
END_TEST

/* Rewrites ix/name.docs with its facet-column section (FORMAT.md §6.2)
 * left out, as an idx from before the section wrote it (it lies between
 * by_id and the collapse keys, and every trailer offset is below it); or,
 * with forge, kept but with the first byte of its last value changed and
 * every checksum valid, as a faulty writer would leave it. */
static void rewrite_docs(const char *ix, const char *name, int forge)
{
    char path[256], tmp[300];
    snprintf(path, sizeof path, "%s/%s.docs", ix, name);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    idx_err err = {0};
    cfr *r;
    OKM(cfr_open(path, "docs", &r, &err) == 0, "%s", err.msg);
    uint64_t trailer = cfr_body_end(r) - SEGFMT_DOCS_TRAILER_SIZE;
    const uint8_t *t = cfr_get(r, trailer, SEGFMT_DOCS_TRAILER_SIZE, &err);
    ck_assert_ptr_nonnull(t);
    segfmt_docs_trailer dt;
    segfmt_docs_trailer_get(t, &dt);
    uint64_t at = dt.off[SEGFMT_DOCS_BY_ID] + SEGFMT_DOCS_U32 * dt.n_docs;
    uint64_t end = trailer - segfmt_ckey_size(dt.n_docs); /* the build wrote keys */
    const uint8_t *body =
        cfr_get(r, CFILE_HEADER, trailer + SEGFMT_DOCS_TRAILER_SIZE - CFILE_HEADER, &err);
    ck_assert_ptr_nonnull(body);
    const uint8_t *sec = body + (at - CFILE_HEADER);
    fcol_view v;
    const char *why = "";
    OKM(fcol_parse(sec, end - at, (uint32_t)dt.n_docs, &v, &why) == 0, "%s", why);
    cfw *w;
    OK(cfw_create(tmp, "docs", &w, &err) == 0);
    cfw_write(w, body, at - CFILE_HEADER);
    if (forge) {
        uint8_t *copy = malloc(end - at);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, sec, end - at);
        const fcol_field *cf = &v.f[FCOL_CATEGORY];
        copy[(const uint8_t *)cf->pool - sec + fcol_at(cf->val_off, cf->n_vals - 1)] ^= 0x20;
        cfw_write(w, copy, end - at);
        free(copy);
    }
    cfw_write(w, body + (end - CFILE_HEADER), trailer + SEGFMT_DOCS_TRAILER_SIZE - end);
    OKM(cfw_close(w, &err) == 0, "%s", err.msg);
    cfr_close(r);
    OK(rename(tmp, path) == 0);
}

/* Segments written before the facet columns existed: counted the same (the
 * columns rebuilt from the stored articles), `idx check` passes, and a
 * merge of old and new segments writes the columns, with the same counts.
 * Columns that parse but differ from the stored articles fail the check. */
START_TEST(segments_without_columns)
{
    char dir[64], out[96];
    build_fixture(dir, sizeof dir, out, sizeof out);
    idx_index *ix = NULL;
    idx_err err = {0};
    EQ(index_open(out, &ix, &err), 0);
    for (uint32_t s = 0; s < ix->n_segs; s++)
        OK(seg_has_fcols(ix->segs[s]));
    index_close(ix);
    rewrite_docs(out, "s0001", 0);
    rewrite_docs(out, "s0003", 0);
    EQ(index_open(out, &ix, &err), 0);
    OK(!seg_has_fcols(ix->segs[0]) && seg_has_fcols(ix->segs[1]) && !seg_has_fcols(ix->segs[2]));
    uint64_t len = 1;
    ck_assert_ptr_null(seg_fcols(ix->segs[0], &len, &err));
    EQ(len, 0);
    EQ(err.code, 0);
    OKM(index_check(ix, &err) == 0, "check: %s", err.msg);
    ana *a = NULL;
    EQ(index_ana_new(ix, &a, &err), 0);
    check_all_queries(ix, a);
    index_close(ix);

    merge_summary sum;
    OKM(merge_run(out, 1, &sum, &err) == 0, "merge: %s", err.msg);
    EQ(index_open(out, &ix, &err), 0);
    EQ(ix->n_segs, 1);
    OK(seg_has_fcols(ix->segs[0]));
    OKM(index_check(ix, &err) == 0, "check: %s", err.msg);
    check_all_queries(ix, a);
    char name[32];
    snprintf(name, sizeof name, "%s", ix->meta.segment[0]);
    index_close(ix);

    rewrite_docs(out, name, 1);
    EQ(index_open(out, &ix, &err), 0);
    EQ(index_check(ix, &err), IDX_EDATA);
    OKM(strstr(err.msg, "facet columns do not match the stored articles") != NULL, "%s", err.msg);
    index_close(ix);
    ana_free(a);
    EQ(test_rmtree(dir), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("facets");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, parse_lists);
    tcase_add_test(tc, counts_match_the_stored_articles);
    tcase_add_test(tc, segments_without_columns);
    suite_add_tcase(s, tc);
    return test_run(s);
}
