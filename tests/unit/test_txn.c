/* Unit tests of in-place changes (common/txn.h): a commit makes a new
 * generation that index_open reads, an abort leaves the old one, a second
 * writer is refused, the cleanup removes exactly the unreferenced files, and
 * a reader holding a generation keeps answering identically after the next
 * one removed its files. One small collection, built as three segments. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/index.h"
#include "common/txn.h"
#include "indexer/build.h"
#include "searcher/match.h"
#include "searcher/qparse.h"
#include "tests/unit/testutil.h"

#define N_DOCS 300
#define SEG_DOCS 100

static char tmpdir[64], dir[128];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/idx-test-txn-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    char in[128];
    snprintf(in, sizeof in, "%s/in.jsonl", tmpdir);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    static const char *const words[] = {"solar", "wind", "river", "stone", "cloud", "engine"};
    for (int d = 0; d < N_DOCS; d++)
        fprintf(f, "{\"id\":\"doc-%03d\",\"title\":\"%s %d\",\"body\":\"%s %s %s body %d\"}\n", d,
                words[d % 6], d, words[(d / 6) % 6], words[d % 5], d % 7 ? "" : "river river", d);
    fclose(f);
    snprintf(dir, sizeof dir, "%s/ix", tmpdir);
    const char *inputs[] = {in};
    build_opts o = build_opts_default(dir, inputs, 1);
    o.engine = BUILD_ENGINE_NATIVE;
    o.mem_bytes = 64u << 20;
    o.threads = 2;
    o.segment_docs = SEG_DOCS;
    build_summary s;
    idx_err err = {0};
    OKM(build_run(&o, &s, &err) == 0, "build: %s", err.msg);
}

static void teardown(void)
{
    EQ(test_rmtree(tmpdir), 0);
}

static int exists(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

static void touch(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
}

static idx_index *open_ix(void)
{
    idx_index *ix;
    idx_err err = {0};
    OKM(index_open(dir, &ix, &err) == 0, "open: %s", err.msg);
    return ix;
}

static int find(idx_index *ix, const char *id)
{
    uint32_t seg, doc;
    idx_err err = {0};
    int r = index_find_id(ix, id, strlen(id), &seg, &doc, &err);
    OKM(r >= 0, "find %s: %s", id, err.msg);
    return r;
}

/* The query's hits (all of them, exhaustive) as "id score" lines into out. */
static void answers(idx_index *ix, const char *q, int exhaustive, char *out, size_t cap)
{
    idx_err err = {0};
    ana *a;
    qparse_tree *t;
    OK(index_ana_new(ix, &a, &err) == 0);
    OKM(qparse_parse(a, q, strlen(q), NULL, &t, &err) == 0, "parse: %s", err.msg);
    match_options o = match_options_default(ix);
    o.k = N_DOCS;
    o.exhaustive = exhaustive;
    match_result r;
    OKM(match_search(ix, t, &o, &r, &err) == 0, "search: %s", err.msg);
    size_t n = (size_t)snprintf(out, cap, "total %llu\n", (unsigned long long)r.total);
    buf scratch = {0};
    for (uint32_t i = 0; i < r.n_hits && n < cap; i++) {
        size_t len;
        const char *id = index_doc_id(ix, r.hits[i].seg, r.hits[i].doc, &scratch, &len, &err);
        ck_assert_ptr_nonnull(id);
        n += (size_t)snprintf(out + n, cap - n, "%.*s %.17g\n", (int)len, id, r.hits[i].score);
    }
    buf_free(&scratch);
    match_result_free(&r);
    qparse_free(t);
    ana_free(a);
}

START_TEST(commit_makes_new_generation)
{
    idx_err err = {0};
    idx_txn *t;
    OKM(txn_begin(dir, &t, &err) == 0, "begin: %s", err.msg);
    EQ(txn_index(t)->n_segs, 3);
    EQ(txn_delete_id(t, "doc-005", 7, &err), 1);
    EQ(txn_delete_id(t, "doc-005", 7, &err), 0); /* already deleted */
    EQ(txn_delete_id(t, "doc-250", 7, &err), 1);
    EQ(txn_delete_id(t, "nosuch", 6, &err), 0);
    uint64_t gen = 0;
    OKM(txn_commit(t, &gen, &err) == 0, "commit: %s", err.msg);
    EQ(gen, 1);
    idx_index *ix = open_ix();
    EQ(ix->meta.generation, 1);
    EQ(ix->meta.docs, N_DOCS - 2);
    EQ(ix->meta.segment_deleted[0], 1);
    EQ(ix->meta.segment_deleted[1], 0);
    EQ(ix->meta.segment_deleted[2], 1);
    ck_assert_str_eq(ix->meta.segment_del[0], "s0001.1.del");
    OK(exists("s0001.1.del") && exists("s0003.1.del"));
    EQ(find(ix, "doc-005"), 0);
    EQ(find(ix, "doc-250"), 0);
    EQ(find(ix, "doc-006"), 1);
    OKM(index_check(ix, &err) == 0, "check: %s", err.msg);
    /* Deleted documents are neither returned nor counted, pruned or not. */
    char pruned[16384], exhaustive[16384];
    answers(ix, "body", 0, pruned, sizeof pruned);
    answers(ix, "body", 1, exhaustive, sizeof exhaustive);
    ck_assert_str_eq(pruned, exhaustive);
    OK(strncmp(exhaustive, "total 298\n", 10) == 0);
    OK(!strstr(exhaustive, "doc-005 ") && !strstr(exhaustive, "doc-250 "));
    index_close(ix);

    /* The next generation copies the deletion list and adds to it. */
    OK(txn_begin(dir, &t, &err) == 0);
    EQ(txn_delete_id(t, "doc-006", 7, &err), 1);
    OK(txn_commit(t, &gen, &err) == 0);
    EQ(gen, 2);
    ix = open_ix();
    EQ(ix->meta.segment_deleted[0], 2);
    ck_assert_str_eq(ix->meta.segment_del[0], "s0001.2.del");
    ck_assert_str_eq(ix->meta.segment_del[2], "s0003.1.del");
    OK(!exists("s0001.1.del")); /* generation 1's, no longer referenced */
    EQ(find(ix, "doc-005"), 0);
    EQ(find(ix, "doc-006"), 0);
    index_close(ix);
}
END_TEST

START_TEST(abort_keeps_old_generation)
{
    idx_err err = {0};
    idx_txn *t;
    OK(txn_begin(dir, &t, &err) == 0);
    EQ(txn_delete_id(t, "doc-010", 7, &err), 1);
    char name[32];
    OK(txn_new_segment_name(t, name, &err) == 0);
    ck_assert_str_eq(name, "s0004");
    touch("s0004.lex"); /* a file the change started to write */
    txn_abort(t);
    OK(!exists("s0004.lex"));
    idx_index *ix = open_ix();
    EQ(ix->meta.generation, 0);
    EQ(ix->meta.docs, N_DOCS);
    EQ(find(ix, "doc-010"), 1);
    index_close(ix);
}
END_TEST

START_TEST(second_writer_is_busy)
{
    idx_err err = {0};
    idx_txn *t, *t2;
    OK(txn_begin(dir, &t, &err) == 0);
    EQ(txn_begin(dir, &t2, &err), IDX_EBUSY);
    OKM(strstr(err.msg, "another writer is updating it") != NULL, "%s", err.msg);
    /* Readers never lock. */
    idx_index *ix = open_ix();
    index_close(ix);
    txn_abort(t);
    err_clear(&err);
    OKM(txn_begin(dir, &t2, &err) == 0, "after release: %s", err.msg);
    txn_abort(t2);
}
END_TEST

START_TEST(cleanup_removes_only_unreferenced)
{
    touch("s0009.lex"); /* a crashed writer's segment */
    touch("s0009.store");
    touch("s0002.7.del");    /* an old generation's deletions */
    touch("meta.tmp-99999"); /* a crashed writer's meta */
    touch("notes.txt");      /* not ours */
    touch("s0002.txt");      /* not a segment extension */
    idx_err err = {0};
    idx_txn *t;
    OK(txn_begin(dir, &t, &err) == 0);
    char name[32];
    OK(txn_new_segment_name(t, name, &err) == 0);
    ck_assert_str_eq(name, "s0010"); /* past the leftovers: never reused */
    EQ(txn_delete_id(t, "doc-150", 7, &err), 1);
    OK(txn_commit(t, NULL, &err) == 0);
    OK(!exists("s0009.lex") && !exists("s0009.store") && !exists("s0002.7.del"));
    OK(!exists("meta.tmp-99999"));
    OK(exists("notes.txt") && exists("s0002.txt") && exists("write.lock"));
    static const char *const ext[] = {"lex", "post", "pos", "docs", "store"};
    for (int s = 1; s <= 3; s++)
        for (int e = 0; e < 5; e++) {
            char f[32];
            snprintf(f, sizeof f, "s%04d.%s", s, ext[e]);
            OKM(exists(f), "%s removed", f);
        }
    OK(exists("s0002.1.del"));
    idx_index *ix = open_ix();
    OK(index_check(ix, &err) == 0);
    index_close(ix);
}
END_TEST

/* Everything a reader can ask of each document, as one string. */
static void snapshot(idx_index *ix, char *out, size_t cap)
{
    size_t n = 0;
    buf scratch = {0};
    idx_err err = {0};
    for (int d = 0; d < N_DOCS; d++) {
        char id[16];
        snprintf(id, sizeof id, "doc-%03d", d);
        uint32_t seg, doc;
        int r = index_find_id(ix, id, strlen(id), &seg, &doc, &err);
        OK(r >= 0);
        seg_doc sd;
        if (r) OK(index_doc_get(ix, seg, doc, &scratch, &sd, &err) == 0);
        n += (size_t)snprintf(out + n, cap - n, "%s %d %u %u %.*s|", id, r, seg, doc,
                              r ? (int)sd.len[FIELD_BODY] : 0, r ? sd.field[FIELD_BODY] : "");
    }
    OK(n < cap);
    buf_free(&scratch);
    answers(ix, "river OR solar", 0, out + n, cap - n);
}

START_TEST(reader_keeps_its_generation)
{
    idx_index *old = open_ix();
    static char before[65536], after[65536], now[65536];
    snapshot(old, before, sizeof before);
    idx_err err = {0};
    idx_txn *t;
    OK(txn_begin(dir, &t, &err) == 0);
    EQ(txn_delete_id(t, "doc-001", 7, &err), 1);
    /* Every document of the second segment gone: the merge drops it. */
    OK(txn_replace_segments(t, 1, 1, NULL, &err) == 0);
    OKM(txn_commit(t, NULL, &err) == 0, "commit: %s", err.msg);
    OK(!exists("s0002.lex") && !exists("s0002.store") && !exists("s0002.post"));
    snapshot(old, after, sizeof after);
    ck_assert_str_eq(before, after);
    OKM(index_check(old, &err) == 0, "old generation's files: %s", err.msg);
    uint64_t terms = old->meta.terms - seg_nterms(old->segs[1]);
    index_close(old);

    idx_index *ix = open_ix();
    EQ(ix->n_segs, 2);
    EQ(ix->meta.docs, N_DOCS - SEG_DOCS - 1);
    EQ(ix->meta.terms, terms);
    EQ(find(ix, "doc-150"), 0);
    EQ(find(ix, "doc-001"), 0);
    EQ(find(ix, "doc-250"), 1);
    snapshot(ix, now, sizeof now);
    ck_assert_str_ne(before, now);
    OK(index_check(ix, &err) == 0);
    index_close(ix);
}
END_TEST

/* Copies segment from's files to segment to. */
static void copy_segment(const char *from, const char *to)
{
    static const char *const ext[] = {"lex", "post", "pos", "docs", "store"};
    for (int e = 0; e < 5; e++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "cp %s/%s.%s %s/%s.%s", dir, from, ext[e], dir, to, ext[e]);
        OK(system(cmd) == 0);
    }
}

START_TEST(added_segment_replaces_ids)
{
    idx_index *ix = open_ix();
    index_meta before = ix->meta;
    seg_stats st;
    seg_get_stats(ix->segs[0], &st);
    uint32_t seg, doc, lt, lb;
    idx_err e0 = {0};
    EQ(index_find_id(ix, "doc-007", 7, &seg, &doc, &e0), 1);
    EQ(seg, 0);
    seg_doc_lens(ix->segs[0], doc, &lt, &lb);
    index_close(ix);
    idx_err err = {0};
    idx_txn *t;
    OK(txn_begin(dir, &t, &err) == 0);
    char name[32];
    OK(txn_new_segment_name(t, name, &err) == 0);
    copy_segment("s0001", name);
    txn_segment s = {name, SEG_DOCS, st.tokens_title, st.tokens_body, 1, 2, 3};
    OK(txn_add_segment(t, &s, &err) == 0);
    /* The newest copy first: the added segment's. */
    EQ(txn_delete_id(t, "doc-007", 7, &err), 1);
    /* Old copies of the added ids, as an append replaces them. */
    for (uint32_t d = 0; d < SEG_DOCS; d++)
        EQ(txn_delete(t, 0, d, &err), 1);
    uint64_t gen;
    OKM(txn_commit(t, &gen, &err) == 0, "commit: %s", err.msg);
    ix = open_ix();
    EQ(ix->n_segs, 4);
    ck_assert_str_eq(ix->meta.segment[3], "s0004");
    EQ(ix->meta.docs, N_DOCS - 1);
    /* Live tokens: the copy's, less the one deleted there. */
    EQ(ix->meta.tokens_title, before.tokens_title - lt);
    EQ(ix->meta.tokens_body, before.tokens_body - lb);
    EQ(ix->meta.terms, before.terms + 1);
    EQ(ix->meta.postings, before.postings + 2);
    EQ(index_find_id(ix, "doc-008", 7, &seg, &doc, &err), 1);
    EQ(seg, 3);
    EQ(find(ix, "doc-007"), 0);
    OK(index_check(ix, &err) == 0);
    index_close(ix);
}
END_TEST

/* Readers opening while a writer commits generation after generation: each
 * commit replaces the deletion file the previous generation named, so an
 * open that read the old meta finds it gone and must start over with the
 * new one. Every open succeeds and sees one consistent generation. */
typedef struct opener {
    atomic_int stop;
    int opens, failures;
    char msg[512];
} opener;

static void *open_loop(void *arg)
{
    opener *o = arg;
    while (!o->stop) {
        idx_index *ix;
        idx_err err = {0};
        if (index_open(dir, &ix, &err)) {
            if (!o->failures++) snprintf(o->msg, sizeof o->msg, "%s", err.msg);
            continue;
        }
        o->opens++;
        if (ix->meta.docs != N_DOCS - ix->meta.generation && !o->failures++)
            snprintf(o->msg, sizeof o->msg, "generation %llu with %llu documents",
                     (unsigned long long)ix->meta.generation, (unsigned long long)ix->meta.docs);
        index_close(ix);
    }
    return NULL;
}

START_TEST(open_during_commits)
{
    opener o = {0, 0, 0, ""};
    pthread_t th;
    OK(pthread_create(&th, NULL, open_loop, &o) == 0);
    idx_err err = {0};
    for (int d = 0; d < 60; d++) {
        idx_txn *t;
        OKM(txn_begin(dir, &t, &err) == 0, "begin: %s", err.msg);
        char id[16];
        snprintf(id, sizeof id, "doc-%03d", (d * 7) % N_DOCS);
        EQ(txn_delete_id(t, id, strlen(id), &err), 1);
        OKM(txn_commit(t, NULL, &err) == 0, "commit: %s", err.msg);
    }
    o.stop = 1;
    OK(pthread_join(th, NULL) == 0);
    OKM(o.failures == 0, "%d of %d opens failed: %s", o.failures, o.opens + o.failures, o.msg);
    OK(o.opens > 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("txn");
    TCase *tc = tcase_create("txn");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, commit_makes_new_generation);
    tcase_add_test(tc, abort_keeps_old_generation);
    tcase_add_test(tc, second_writer_is_busy);
    tcase_add_test(tc, cleanup_removes_only_unreferenced);
    tcase_add_test(tc, reader_keeps_its_generation);
    tcase_add_test(tc, added_segment_replaces_ids);
    tcase_add_test(tc, open_during_commits);
    suite_add_tcase(s, tc);
    return test_run(s);
}
