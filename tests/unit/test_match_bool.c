/* Boolean semantics of the evaluator on a hand-made fixture: a table of
 * queries and the set of documents each must return (order-insensitive, or in
 * order where the scores are clearly apart): +, -, AND/OR/NOT precedence,
 * parentheses, title:/author:/category: scopes (words and phrases), prefixes,
 * date ranges (closed, open, a lone date filter), --all
 * (qparse_options.all_required), and queries that match nothing. The expected
 * sets were worked out by hand from the fixture below (English stemming:
 * dogs -> dog, running -> run, economy -> economi, economics -> econom). */
#include <math.h>

#include "match_oracle.h"
#include "tests/unit/testutil.h"

/* id, title, body, author, category, date */
static const char *const docs[][6] = {
    {"d00", "Solar power basics", "Solar panels turn sunlight into electric power.", "Ada Lovelace",
     "energy", "2019-03-15"},
    {"d01", "Wind power", "Wind turbines generate power from wind.", "Grace Hopper", "energy",
     "2019-11-02"},
    {"d02", "The economy of energy",
     "Economic growth depends on cheap energy; economists "
     "disagree.",
     "Alan Turing", "economics", "2020-01-20"},
    {"d03", "Cats and dogs", "Cats chase mice while dogs chase cats.", "Ada Lovelace", "pets",
     "2020-06-30"},
    {"d04", "Dogs", "A dog is a loyal animal. Running dogs are happy dogs.", "Edsger Dijkstra",
     "pets", "2020-07-01"},
    {"d05", "New York travel", "New York is a big city. York in England is older than new york.",
     "Grace Hopper", "travel", "2018-12-31"},
    {"d06", "York", "The city of York has a minster and old walls.", "Barbara Liskov", "travel",
     "2021"},
    {"d07", "Solar wind", "The solar wind streams from the sun into space.", "Alan Turing",
     "science", "2019-06"},
    {"d08", "Economics of solar", "Solar economics: the economy grows with solar panels.",
     "Barbara Liskov", "economics", NULL},
    {"d09", "Running shoes", "Runners need good shoes for running fast.", "Edsger Dijkstra",
     "sports", "2022-02-28"},
    {"d10", "Quantum computing", "Qubits and quantum gates; no classical power here.",
     "Alan Turing", "science", "2023-05-05"},
    {"d11", "Power tools", "Drills, saws and other power tools for the workshop.", "Ada Lovelace",
     "tools", "2019-01-01"},
    {"d12", "Dog training", "Training a dog takes patience. Cats cannot be trained.",
     "Grace Hopper", "pets", "2020-06-15"},
    {"d13", "Mice", "Field mice and house mice.", "Turing Alan", "pets science", "bad-date"},
    {"d14", "Sunlight", "Sunlight is free. Solar cells convert it.", NULL, "energy", "2019-01"},
};
#define N_DOCS (sizeof docs / sizeof *docs)

#define END -1
typedef struct row {
    const char *q;
    int all;     /* --all */
    int ordered; /* expected in this exact order */
    int want[16];
} row;

static const row table[] = {
    /* words, default OR, + and - */
    {"solar", 0, 0, {0, 7, 8, 14, END}},
    {"dog", 0, 1, {4, 12, 3, END}},
    {"solar power", 0, 0, {0, 1, 7, 8, 10, 11, 14, END}},
    {"solar power", 1, 0, {0, END}},
    {"+solar power", 0, 0, {0, 7, 8, 14, END}},
    {"solar -power", 0, 0, {7, 8, 14, END}},
    {"+solar +power", 0, 0, {0, END}},
    {"dog cat -mice", 0, 0, {4, 12, END}},
    {"dog cat", 1, 0, {3, 12, END}},
    {"dog -cat -mice", 1, 0, {4, END}},
    /* operators and precedence */
    {"solar AND power", 0, 0, {0, END}},
    {"solar OR power", 0, 0, {0, 1, 7, 8, 10, 11, 14, END}},
    {"solar NOT power", 0, 0, {7, 8, 14, END}},
    {"solar AND NOT power", 0, 0, {7, 8, 14, END}},
    {"wind OR solar AND power", 0, 0, {0, 1, 7, END}},
    {"solar AND power OR wind", 0, 0, {0, 1, 7, END}},
    {"(wind OR solar) AND power", 0, 0, {0, 1, END}},
    {"NOT NOT dog", 0, 0, {3, 4, 12, END}},
    {"dog AND NOT (cat OR mice)", 0, 0, {4, END}},
    {"dog -(cat mice)", 0, 0, {4, END}},
    {"(dog OR cat) AND (mice OR training)", 0, 0, {3, 12, END}},
    {"dog OR cat", 1, 0, {3, 4, 12, END}},
    {"dog cat OR york", 1, 0, {3, 5, 6, 12, END}},
    {"dog cat OR york", 0, 0, {3, 4, 5, 6, 12, END}},
    {"((dog))", 0, 0, {3, 4, 12, END}},
    {"york AND (city AND NOT (new OR minster))", 0, 0, {END}},
    {"york AND (city AND NOT new)", 0, 0, {6, END}},
    /* phrases and slop (in order, span at most N longer) */
    {"\"new york\"", 0, 0, {5, END}},
    {"\"york new\"", 0, 0, {END}},
    {"\"solar panels\"", 0, 0, {0, 8, END}},
    {"york -\"new york\"", 0, 0, {6, END}},
    {"\"wind turbines\"", 0, 0, {1, END}},
    {"\"turbines wind\"~2", 0, 0, {END}},
    {"\"turbines wind\"~3", 0, 0, {1, END}},
    {"\"power wind\"", 0, 0, {END}},
    {"\"power wind\"~1", 0, 0, {1, END}},
    {"\"dogs chase cats\"", 0, 0, {3, END}},
    {"\"chase cats\" \"running dogs\"", 0, 0, {3, 4, END}},
    {"\"cats chase mice\"~0", 0, 0, {3, END}},
    {"\"cats mice\"~1", 0, 0, {3, END}},
    {"\"cats mice\"", 0, 0, {END}},
    {"\"power basics solar\"~5", 0, 0, {END}},
    /* fields */
    {"title:power", 0, 0, {0, 1, 11, END}},
    {"title:dog", 0, 0, {3, 4, 12, END}},
    {"title:(solar OR power)", 0, 0, {0, 1, 7, 8, 11, END}},
    {"title:york -new", 0, 0, {6, END}},
    {"title:sunlight", 0, 0, {14, END}},
    {"title:\"solar wind\"", 0, 0, {7, END}},
    {"title:\"solar panels\"", 0, 0, {END}},
    {"title:\"solar wind\" OR \"new york\"", 0, 0, {5, 7, END}},
    {"author:ada", 0, 0, {0, 3, 11, END}},
    {"author:turing", 0, 0, {2, 7, 10, 13, END}},
    {"author:\"alan turing\"", 0, 0, {2, 7, 10, END}},
    {"author:\"turing alan\"", 0, 0, {13, END}},
    {"author:(grace OR barbara)", 0, 0, {1, 5, 6, 8, 12, END}},
    {"author:ada solar", 0, 0, {0, 3, 7, 8, 11, 14, END}},
    {"+author:ada +category:pets", 0, 0, {3, END}},
    {"author:solar", 0, 0, {END}},
    {"ada", 0, 0, {END}},
    {"category:pets", 0, 0, {3, 4, 12, 13, END}},
    {"category:science", 0, 0, {7, 10, 13, END}},
    {"category:economics", 0, 0, {2, 8, END}},
    {"category:(pets science) -author:turing", 0, 0, {3, 4, 12, END}},
    {"pets", 0, 0, {END}},
    /* prefixes */
    {"sun*", 0, 0, {0, 7, 14, END}},
    {"title:sun*", 0, 0, {14, END}},
    {"pow*", 0, 0, {0, 1, 10, 11, END}},
    {"econ*", 0, 0, {2, 8, END}},
    {"mi*", 0, 0, {3, 6, 13, END}},
    {"mi* -mice", 0, 0, {6, END}},
    {"author:lov*", 0, 0, {0, 3, 11, END}},
    {"category:sci*", 0, 0, {7, 10, 13, END}},
    {"zzq*", 0, 0, {END}},
    /* dates: filters, required under juxtaposition */
    {"date:2019-01..2020-06", 0, 1, {0, 1, 2, 3, 7, 11, 12, 14, END}},
    {"date:2019", 0, 1, {0, 1, 7, 11, 14, END}},
    {"date:..2019-01", 0, 1, {5, 11, 14, END}},
    {"date:2021..", 0, 1, {6, 9, 10, END}},
    {"date:2020-06", 0, 1, {3, 12, END}},
    {"date:2019-06-01", 0, 1, {7, END}},
    {"date:1990..1999", 0, 0, {END}},
    {"dog date:2020-06", 0, 0, {3, 12, END}},
    {"+dog date:..2020-06-20", 0, 0, {12, END}},
    {"dog -date:2020-07", 0, 0, {3, 12, END}},
    {"solar OR date:2023", 0, 0, {0, 7, 8, 10, 14, END}},
    {"(solar OR wind) date:2019-01..2019-06", 0, 0, {0, 7, 14, END}},
    /* nothing */
    {"zzzqqq", 0, 0, {END}},
    {"solar AND dog", 0, 0, {END}},
    {"zzzqqq OR xxyy", 0, 0, {END}},
    {"\"\"", 0, 0, {END}},
    {"!!!", 0, 0, {END}},
    {"dog -dog", 0, 0, {END}},
};

static char tmp[512];
static idx_index *ix;
static ana *A;

static void setup(void)
{
    eo_tmpdir(tmp, sizeof tmp, "eval-bool");
    char in[600];
    snprintf(in, sizeof in, "%s/fixture.jsonl", tmp);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    static const char *const keys[6] = {"id", "title", "body", "author", "category", "date"};
    for (size_t d = 0; d < N_DOCS; d++) {
        fputc('{', f);
        int first = 1;
        for (int k = 0; k < 6; k++) {
            if (!docs[d][k]) continue;
            fprintf(f, "%s\"%s\":\"%s\"", first ? "" : ",", keys[k], docs[d][k]);
            first = 0;
        }
        fputs("}\n", f);
    }
    ck_assert_int_eq(fclose(f), 0);
    const char *inputs[1] = {in};
    ix = eo_build(tmp, "ix", inputs, 1);
    idx_err err = {0};
    ck_assert_int_eq(ana_new(&ix->meta.ana, &A, &err), 0);
}

static void teardown(void)
{
    ana_free(A);
    index_close(ix);
    eo_rmrf(tmp);
}

/* The fixture number of a hit (docids follow input order; checked via the id). */
static int doc_no(uint32_t doc)
{
    size_t len;
    idx_err err = {0};
    const char *id = seg_doc_id(ix->segs[0], doc, &len, &err);
    ck_assert_ptr_nonnull(id);
    ck_assert_uint_eq(len, 3);
    return (id[1] - '0') * 10 + (id[2] - '0');
}

static void fmt_list(char *out, size_t cap, const int *v, size_t n)
{
    size_t at = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && at < cap; i++)
        at += (size_t)snprintf(out + at, cap - at, "%s%d", i ? " " : "", v[i]);
}

START_TEST(bool_table)
{
    const row *r = &table[_i];
    int rc;
    qparse_tree *t = eo_parse(A, r->q, r->all, &rc);
    EO_REQUIRE(rc == 0, "query [%s] rejected (%d)", r->q, rc);
    size_t n_want = 0;
    while (r->want[n_want] != END)
        n_want++;
    for (int exhaustive = 0; exhaustive < 2; exhaustive++) {
        match_result res;
        eo_search(ix, t, 100, 0, exhaustive, &res, r->q);
        int got[64];
        size_t n_got = res.n_hits < 64 ? res.n_hits : 64;
        for (size_t i = 0; i < n_got; i++)
            got[i] = doc_no(res.hits[i].doc);
        char gs[256], ws[256];
        fmt_list(gs, sizeof gs, got, n_got);
        fmt_list(ws, sizeof ws, r->want, n_want);
        int ok = n_got == n_want && res.total == n_want;
        for (size_t i = 0; ok && i < n_want; i++) {
            if (r->ordered) {
                ok = got[i] == r->want[i];
            } else {
                int found = 0;
                for (size_t k = 0; k < n_got; k++)
                    found |= got[k] == r->want[i];
                ok = found;
            }
        }
        EO_REQUIRE(ok, "query [%s]%s: got {%s} (total %llu), want {%s}", r->q,
                   r->all ? " --all" : "", gs, (unsigned long long)res.total, ws);
        ck_assert(res.total_exact);
        match_result_free(&res);
    }
    qparse_free(t);
}
END_TEST

/* A query that is only a date filter scores 0 everywhere: docid order. */
START_TEST(date_only_scores_zero)
{
    int rc;
    qparse_tree *t = eo_parse(A, "date:2019..2020", 0, &rc);
    ck_assert_int_eq(rc, 0);
    match_result res;
    eo_search(ix, t, 3, 0, 0, &res, "date:2019..2020");
    ck_assert_uint_eq(res.n_hits, 3);
    for (uint32_t i = 0; i < 3; i++) {
        ck_assert(res.hits[i].score == 0);
        ck_assert_int_eq(doc_no(res.hits[i].doc), (int)i);
    }
    match_result_free(&res);
    /* Paging through the filter keeps docid order. */
    eo_search(ix, t, 2, 3, 0, &res, "date:2019..2020");
    ck_assert_uint_eq(res.n_hits, 2);
    ck_assert_int_eq(doc_no(res.hits[0].doc), 3);
    ck_assert_int_eq(doc_no(res.hits[1].doc), 4);
    match_result_free(&res);
    qparse_free(t);
    /* A filter adds nothing to a score: "dog date:2020" scores as "dog". */
    qparse_tree *a = eo_parse(A, "dog date:2020", 0, &rc);
    qparse_tree *b = eo_parse(A, "dog", 0, &rc);
    match_result ra, rb;
    eo_search(ix, a, 10, 0, 0, &ra, "dog date:2020");
    eo_search(ix, b, 10, 0, 0, &rb, "dog");
    ck_assert_uint_eq(ra.n_hits, rb.n_hits);
    for (uint32_t i = 0; i < ra.n_hits; i++) {
        ck_assert_uint_eq(ra.hits[i].doc, rb.hits[i].doc);
        ck_assert(ra.hits[i].score == rb.hits[i].score);
    }
    match_result_free(&ra);
    match_result_free(&rb);
    qparse_free(a);
    qparse_free(b);
}
END_TEST

/* MUST_NOT clauses never score; SHOULD clauses add to MUST ones. */
START_TEST(scores_add_up)
{
    int rc;
    const char *qs[4] = {"+solar", "+solar -wind", "+solar power", "power"};
    match_result r[4];
    qparse_tree *t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = eo_parse(A, qs[i], 0, &rc);
        ck_assert_int_eq(rc, 0);
        eo_search(ix, t[i], 100, 0, 1, &r[i], qs[i]);
    }
    /* d00 has both words: score(+solar power) = score(solar) + score(power). */
    double s_solar = -1, s_power = -1, s_both = -1;
    for (uint32_t i = 0; i < r[0].n_hits; i++)
        if (doc_no(r[0].hits[i].doc) == 0) s_solar = r[0].hits[i].score;
    for (uint32_t i = 0; i < r[3].n_hits; i++)
        if (doc_no(r[3].hits[i].doc) == 0) s_power = r[3].hits[i].score;
    for (uint32_t i = 0; i < r[2].n_hits; i++)
        if (doc_no(r[2].hits[i].doc) == 0) s_both = r[2].hits[i].score;
    ck_assert(s_solar > 0 && s_power > 0);
    EO_REQUIRE(fabs(s_both - (s_solar + s_power)) < 1e-9, "%g != %g + %g", s_both, s_solar,
               s_power);
    /* -wind removes d07 and changes no other score. */
    ck_assert_uint_eq(r[1].n_hits + 1, r[0].n_hits);
    for (uint32_t i = 0, k = 0; i < r[0].n_hits; i++) {
        if (doc_no(r[0].hits[i].doc) == 7) continue;
        ck_assert_uint_eq(r[1].hits[k].doc, r[0].hits[i].doc);
        ck_assert(r[1].hits[k].score == r[0].hits[i].score);
        k++;
    }
    for (int i = 0; i < 4; i++) {
        match_result_free(&r[i]);
        qparse_free(t[i]);
    }
}
END_TEST

/* --sort date / -date: dated hits by date (undated last either way), the
 * relevance score kept, paging and exhaustive counting agree. */
typedef struct sort_row {
    const char *q;
    match_sort sort;
    int want[8];
} sort_row;

static const sort_row sort_table[] = {
    {"power", MATCH_SORT_DATE, {11, 0, 1, 10, END}},
    {"power", MATCH_SORT_DATE_DESC, {10, 1, 0, 11, END}},
    {"solar", MATCH_SORT_DATE, {14, 0, 7, 8, END}},
    {"solar", MATCH_SORT_DATE_DESC, {7, 0, 14, 8, END}},
    {"mice", MATCH_SORT_DATE_DESC, {3, 13, END}},
    {"solar -wind date:2019", MATCH_SORT_DATE_DESC, {0, 14, END}},
};

START_TEST(sort_by_date)
{
    const sort_row *r = &sort_table[_i];
    int rc;
    qparse_tree *t = eo_parse(A, r->q, 0, &rc);
    ck_assert_int_eq(rc, 0);
    match_result rel;
    eo_search(ix, t, 100, 0, 1, &rel, r->q);
    size_t n = 0;
    while (r->want[n] != END)
        n++;
    for (uint32_t offset = 0; offset < 2; offset++)
        for (int exhaustive = 0; exhaustive < 2; exhaustive++) {
            match_options o = match_options_default(ix);
            o.k = 100;
            o.offset = offset;
            o.exhaustive = exhaustive;
            o.sort = r->sort;
            match_result res;
            idx_err err = {0};
            ck_assert_int_eq(match_search(ix, t, &o, &res, &err), 0);
            EO_REQUIRE(res.n_hits == n - offset, "[%s] %u hits, want %zu", r->q, res.n_hits,
                       n - offset);
            ck_assert(res.total == n && res.total_exact);
            for (uint32_t i = 0; i < res.n_hits; i++) {
                EO_REQUIRE(doc_no(res.hits[i].doc) == r->want[i + offset], "[%s] rank %u: d%02d",
                           r->q, i + offset + 1, doc_no(res.hits[i].doc));
                int found = 0;
                for (uint32_t k = 0; k < rel.n_hits; k++)
                    found |= rel.hits[k].doc == res.hits[i].doc &&
                             rel.hits[k].score == res.hits[i].score;
                ck_assert(found);
            }
            match_result_free(&res);
        }
    match_result_free(&rel);
    qparse_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("eval_bool");
    TCase *tc = tcase_create("bool");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, bool_table, 0, (int)(sizeof table / sizeof *table));
    tcase_add_test(tc, date_only_scores_zero);
    tcase_add_test(tc, scores_add_up);
    tcase_add_loop_test(tc, sort_by_date, 0, (int)(sizeof sort_table / sizeof *sort_table));
    suite_add_tcase(s, tc);
    return test_run(s);
}
