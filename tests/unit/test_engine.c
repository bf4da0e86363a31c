/* Unit tests of the engine table (common/engine.h): one small collection
 * built with both engines through build_run, then every operation called the
 * same way on each, and the two engines' answers compared with each other and
 * with the input. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "common/engine.h"
#include "common/index.h"
#include "indexer/build.h"
#include "tests/unit/testutil.h"

#define N_DOCS 300

/* Read by AddressSanitizer when this test is built with it (IDX_SANITIZE):
 * libxapian 1.4.22's Database::check deletes an object through a base of
 * another size (a defect of the library, harmless to the allocator; see
 * tests/e2e/test_xapian_engine.sh), and the xapian engine's check runs it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "new_delete_type_mismatch=0";
}

static char tmpdir[64];
static char dir_native[128], dir_xapian[128];

/* The input as written, per document: id, title, body, author. */
static char ids[N_DOCS][16], titles[N_DOCS][48], bodies[N_DOCS][160], authors[N_DOCS][32];

static void build(const char *in, const char *out, build_engine engine)
{
    const char *inputs[] = {in};
    build_opts o = build_opts_default(out, inputs, 1);
    o.engine = engine;
    o.mem_bytes = 64u << 20;
    o.threads = 2;
    build_summary s;
    idx_err err = {0};
    OKM(build_run(&o, &s, &err) == 0, "build %s: %s", out, err.msg);
    EQ(s.docs, N_DOCS);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/idx-test-engine-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    char in[128];
    snprintf(in, sizeof in, "%s/in.jsonl", tmpdir);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    static const char *const words[] = {"solar", "wind", "river", "stone", "cloud", "engine"};
    for (int d = 0; d < N_DOCS; d++) {
        snprintf(ids[d], sizeof ids[d], "doc-%03d", (d * 37) % N_DOCS); /* ids out of docid order */
        snprintf(titles[d], sizeof titles[d], "%s title %d", words[d % 6], d);
        snprintf(bodies[d], sizeof bodies[d], "%s %s body of document %d", words[(d / 6) % 6],
                 words[d % 5], d);
        snprintf(authors[d], sizeof authors[d], "Author %d", d % 9);
        fprintf(f,
                "{\"id\":\"%s\",\"title\":\"%s\",\"body\":\"%s\",\"author\":\"%s\","
                "\"category\":\"cat%d\"}\n",
                ids[d], titles[d], bodies[d], authors[d], d % 4);
    }
    fclose(f);
    snprintf(dir_native, sizeof dir_native, "%s/native", tmpdir);
    snprintf(dir_xapian, sizeof dir_xapian, "%s/xapian", tmpdir);
    build(in, dir_native, BUILD_ENGINE_NATIVE);
    build(in, dir_xapian, BUILD_ENGINE_XAPIAN);
}

static void teardown(void)
{
    EQ(test_rmtree(tmpdir), 0);
}

static idx_index *open_ok(const char *dir)
{
    idx_index *ix = NULL;
    idx_err err = {0};
    OKM(index_open(dir, &ix, &err) == 0, "index_open %s: %s", dir, err.msg);
    return ix;
}

START_TEST(lookup_by_name)
{
    ck_assert_ptr_eq(engine_lookup("native"), &engine_native);
    ck_assert_ptr_eq(engine_lookup("xapian"), &engine_xapian);
    ck_assert_ptr_null(engine_lookup(""));
    ck_assert_ptr_null(engine_lookup("Native"));
    EQ(engine_native.id, ENGINE_NATIVE);
    EQ(engine_xapian.id, ENGINE_XAPIAN);

    idx_index *n = open_ok(dir_native), *x = open_ok(dir_xapian);
    ck_assert_ptr_eq(n->ops, &engine_native);
    ck_assert_ptr_eq(x->ops, &engine_xapian);
    ck_assert_str_eq(n->ops->name, n->meta.engine);
    ck_assert_str_eq(x->ops->name, x->meta.engine);
    /* the fields the searcher reads */
    EQ(n->n_segs, 1);
    ck_assert_ptr_null(n->xap);
    EQ(x->n_segs, 0);
    ck_assert_ptr_nonnull(x->xap);
    ck_assert(n->avg_body > 0 && n->avg_body == x->avg_body && n->avg_title == x->avg_title);
    index_close(n);
    index_close(x);
}
END_TEST

/* find_id, doc_get and doc_id agree with the input on both engines, and the
 * engines give the same stored records. */
START_TEST(documents_through_the_table)
{
    idx_index *ix[2] = {open_ok(dir_native), open_ok(dir_xapian)};
    buf scratch[2] = {{0}, {0}}, idbuf = {0};
    idx_err err = {0};
    for (int d = 0; d < N_DOCS; d++) {
        seg_doc doc[2];
        for (int e = 0; e < 2; e++) {
            uint32_t seg = 99, docid = 0;
            size_t il = strlen(ids[d]);
            OKM(index_find_id(ix[e], ids[d], il, &seg, &docid, &err) == 1, "%s: %s not found (%s)",
                ix[e]->ops->name, ids[d], err.msg);
            EQ(seg, 0);
            EQ(index_doc_get(ix[e], seg, docid, &scratch[e], &doc[e], &err), 0);
            EQ(doc[e].len[FIELD_ID], il);
            ck_assert(!memcmp(doc[e].field[FIELD_ID], ids[d], il));
            EQ(doc[e].len[FIELD_TITLE], strlen(titles[d]));
            ck_assert(!memcmp(doc[e].field[FIELD_TITLE], titles[d], strlen(titles[d])));
            EQ(doc[e].len[FIELD_BODY], strlen(bodies[d]));
            ck_assert(!memcmp(doc[e].field[FIELD_BODY], bodies[d], strlen(bodies[d])));
            EQ(doc[e].len[FIELD_URL], 0);
            size_t len = 0;
            const char *id = index_doc_id(ix[e], seg, docid, &idbuf, &len, &err);
            ck_assert_ptr_nonnull(id);
            EQ(len, il);
            ck_assert(!memcmp(id, ids[d], il));
        }
        for (int f = 0; f < FIELD_COUNT; f++) {
            EQ(doc[0].len[f], doc[1].len[f]);
            ck_assert(!memcmp(doc[0].field[f], doc[1].field[f], doc[0].len[f]));
        }
    }
    for (int e = 0; e < 2; e++) {
        uint32_t seg, docid;
        EQ(index_find_id(ix[e], "doc-300", 7, &seg, &docid, &err), 0);
        EQ(index_find_id(ix[e], "doc-00", 6, &seg, &docid, &err), 0); /* a prefix of real ids */
        EQ(index_find_id(ix[e], "", 0, &seg, &docid, &err), 0);
        buf_free(&scratch[e]);
        index_close(ix[e]);
    }
    buf_free(&idbuf);
}
END_TEST

typedef struct parts {
    int n;
    char kind[4][16], name[4][160], detail[4][32];
    uint32_t n_files[4];
    uint64_t bytes[4], file_sum[4];
} parts;

static void on_part(void *ctx, const engine_part *p)
{
    parts *ps = ctx;
    ck_assert_int_lt(ps->n, 4);
    int i = ps->n++;
    snprintf(ps->kind[i], sizeof ps->kind[i], "%s", p->kind);
    snprintf(ps->name[i], sizeof ps->name[i], "%s", p->name);
    snprintf(ps->detail[i], sizeof ps->detail[i], "%s", p->detail);
    ps->n_files[i] = p->n_files;
    ps->bytes[i] = p->bytes;
    for (uint32_t f = 0; f < p->n_files; f++)
        ps->file_sum[i] += p->file_bytes[f];
}

static uint64_t file_size(const char *dir, const char *name)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    OKM(stat(path, &st) == 0, "%s missing", path);
    return (uint64_t)st.st_size;
}

START_TEST(stats_and_check)
{
    idx_err err = {0};
    idx_index *n = open_ok(dir_native);
    parts ps = {0};
    EQ(index_stats(n, on_part, &ps, &err), 0);
    EQ(ps.n, 1);
    ck_assert_str_eq(ps.kind[0], "segment");
    ck_assert_str_eq(ps.name[0], "s0001");
    ck_assert_str_eq(ps.detail[0], "300 docs, 0 deleted");
    EQ(ps.n_files[0], SEG_NFILES);
    uint64_t on_disk = 0;
    for (int f = 0; f < SEG_NFILES; f++) {
        char name[32];
        snprintf(name, sizeof name, "s0001.%s", seg_file_ext[f]);
        on_disk += file_size(dir_native, name);
    }
    EQ(ps.bytes[0], on_disk);
    EQ(ps.file_sum[0], on_disk);
    OKM(index_check(n, &err) == 0, "check: %s", err.msg);
    index_close(n);

    idx_index *x = open_ok(dir_xapian);
    memset(&ps, 0, sizeof ps);
    EQ(index_stats(x, on_part, &ps, &err), 0);
    EQ(ps.n, 1);
    ck_assert_str_eq(ps.kind[0], "database");
    char want[160];
    snprintf(want, sizeof want, "%s/xapian", dir_xapian);
    ck_assert_str_eq(ps.name[0], want);
    ck_assert_str_eq(ps.detail[0], "xapian");
    EQ(ps.n_files[0], 0);
    ck_assert_uint_gt(ps.bytes[0], 0);
    OKM(index_check(x, &err) == 0, "check: %s", err.msg);
    index_close(x);
}
END_TEST

/* Copies dir to a fresh directory beside it. */
static void copy_index(const char *dir, char *out, size_t cap)
{
    snprintf(out, cap, "%s-copy", dir);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", out, dir, out);
    ck_assert_int_eq(system(cmd), 0);
}

/* Rewrites meta's `key` line to `key value` and re-signs the file, as a forger would. */
static void meta_set(const char *dir, const char *key, const char *value)
{
    char path[200], text[INDEX_META_MAX], out[INDEX_META_MAX];
    snprintf(path, sizeof path, "%s/meta", dir);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    size_t o = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(l, "crc32 ", 6)) break;
        if (!strncmp(l, key, strlen(key)) && l[strlen(key)] == ' ')
            o += (size_t)snprintf(out + o, sizeof out - o, "%s %s\n", key, value);
        else
            o += (size_t)snprintf(out + o, sizeof out - o, "%s\n", l);
    }
    o += (size_t)snprintf(out + o, sizeof out - o, "crc32 %08x\n",
                          (unsigned)crc32(0, (const Bytef *)out, (uInt)o));
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    EQ(fwrite(out, 1, o, f), o);
    fclose(f);
}

/* Bounds stored for k1 = 1.2 lie below the scores of k1 = 3: only a full check sees it. */
START_TEST(check_finds_damage_through_the_table)
{
    char copy[160];
    copy_index(dir_native, copy, sizeof copy);
    meta_set(copy, "bm25.k1", "3");
    idx_index *ix = open_ok(copy);
    idx_err err = {0};
    EQ(index_check(ix, &err), IDX_EDATA);
    ck_assert_ptr_nonnull(strstr(err.msg, "stored score bound below a real score"));
    index_close(ix);
}
END_TEST

static void open_fails(const char *dir, const char *want)
{
    idx_index *ix = NULL;
    idx_err err = {0};
    int rc = index_open(dir, &ix, &err);
    OKM(rc == IDX_EDATA && strstr(err.msg, want), "rc %d, message '%s', want '%s'", rc, err.msg,
        want);
    ck_assert_ptr_null(ix);
}

START_TEST(unknown_or_mismatched_engine)
{
    char copy[160];
    copy_index(dir_native, copy, sizeof copy);
    meta_set(copy, "engine", "lucene");
    open_fails(copy, "engine 'lucene' is not supported");
    /* segments under a meta that says xapian: the xapian engine refuses them */
    meta_set(copy, "engine", "xapian");
    open_fails(copy, "a xapian index lists segments");
    copy_index(dir_xapian, copy, sizeof copy);
    meta_set(copy, "engine", "native");
    open_fails(copy, "totals differ from the segments'");
}
END_TEST

/* index_open_mem: the native engine opens from memory, the xapian one refuses. */
typedef struct memdir {
    const char *dir;
    char name[8][32];
    uint8_t *data[8];
    uint64_t len[8];
    int n;
} memdir;

static const uint8_t *memdir_get(void *ctx, const char *name, uint64_t *size)
{
    memdir *m = ctx;
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->name[i], name)) {
            *size = m->len[i];
            return m->data[i];
        }
    return NULL;
}

static void memdir_add(memdir *m, const char *name)
{
    char path[200];
    snprintf(path, sizeof path, "%s/%s", m->dir, name);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    m->len[m->n] = (uint64_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    m->data[m->n] = malloc(m->len[m->n] ? m->len[m->n] : 1);
    EQ(fread(m->data[m->n], 1, m->len[m->n], f), m->len[m->n]);
    fclose(f);
    snprintf(m->name[m->n], sizeof m->name[m->n], "%s", name);
    m->n++;
}

START_TEST(open_from_memory)
{
    memdir m = {.dir = dir_native};
    memdir_add(&m, "meta");
    for (int f = 0; f < SEG_NFILES; f++) {
        char name[32];
        snprintf(name, sizeof name, "s0001.%s", seg_file_ext[f]);
        memdir_add(&m, name);
    }
    cfr_source src = {memdir_get, &m};
    idx_index *ix = NULL;
    idx_err err = {0};
    OKM(index_open_mem(&src, "memix", &ix, &err) == 0, "%s", err.msg);
    ck_assert_ptr_eq(ix->ops, &engine_native);
    ck_assert_ptr_null(ix->dir);
    uint32_t seg, doc;
    EQ(index_find_id(ix, ids[5], strlen(ids[5]), &seg, &doc, &err), 1);
    OKM(index_check(ix, &err) == 0, "%s", err.msg);
    index_close(ix);
    for (int i = 0; i < m.n; i++)
        free(m.data[i]);

    memdir x = {.dir = dir_xapian};
    memdir_add(&x, "meta");
    src.ctx = &x;
    ix = NULL;
    EQ(index_open_mem(&src, "memix", &ix, &err), IDX_EDATA);
    ck_assert_ptr_nonnull(strstr(err.msg, "memix: a xapian index cannot be opened from memory"));
    ck_assert_ptr_null(ix);
    free(x.data[0]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("engine");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, lookup_by_name);
    tcase_add_test(tc, documents_through_the_table);
    tcase_add_test(tc, stats_and_check);
    tcase_add_test(tc, check_finds_damage_through_the_table);
    tcase_add_test(tc, unknown_or_mismatched_engine);
    tcase_add_test(tc, open_from_memory);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK); /* the fixture is built once for all tests */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
