/* ixlive: following an index directory's generations (web/ixlive.h). Real
 * indexes of both engines are built and rebuilt (build_run swaps the
 * directory, as `idx build -o` does) under an ixlive: switches, a generation
 * held across switches staying usable, damaged metas reported once and not
 * switched to, the check interval, and threads acquiring while the index
 * changes (run under ASan this also checks that every generation is closed
 * exactly once). */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/index.h"
#include "indexer/build.h"
#include "tests/unit/testutil.h"
#include "web/ixlive.h"

/* See test_engine.c: libxapian's Database::check, not called here, but the
 * xapian engine is linked in the same way. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "new_delete_type_mismatch=0";
}

static char tmpdir[64], ixdir[128];

/* Builds (or rebuilds, swapping the directory) ixdir with n documents. */
static void build(int n, build_engine engine)
{
    char in[128];
    snprintf(in, sizeof in, "%s/in.jsonl", tmpdir);
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    for (int d = 0; d < n; d++)
        fprintf(f, "{\"id\":\"d%d\",\"title\":\"title %d\",\"body\":\"common words of %d\"}\n", d,
                d, n);
    ck_assert_int_eq(fclose(f), 0);
    const char *inputs[] = {in};
    build_opts o = build_opts_default(ixdir, inputs, 1);
    o.engine = engine;
    o.mem_bytes = 16u << 20;
    o.threads = 1;
    build_summary s;
    idx_err err = {0};
    OKM(build_run(&o, &s, &err) == 0, "build %s: %s", ixdir, err.msg);
    EQ(s.docs, n);
}

/* Replaces meta as a writer commits (a new file renamed over it), with
 * contents that are not a valid meta. */
static void damage_meta(int truncate)
{
    char meta[160], tmp[160];
    snprintf(meta, sizeof meta, "%s/meta", ixdir);
    snprintf(tmp, sizeof tmp, "%s/meta.new", ixdir);
    FILE *f = fopen(meta, "rb");
    ck_assert_ptr_nonnull(f);
    char text[8192];
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    OK(n > 60);
    if (truncate)
        n /= 2;
    else
        memcpy(text + 20, "\x01garbage\xff", 9);
    f = fopen(tmp, "wb");
    ck_assert_ptr_nonnull(f);
    EQ(fwrite(text, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(rename(tmp, meta), 0);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/idx-test-ixlive-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(ixdir, sizeof ixdir, "%s/ix", tmpdir);
}

static void teardown(void)
{
    EQ(test_rmtree(tmpdir), 0);
}

static ixlive *open_ok(int check_ms)
{
    ixlive *l = NULL;
    idx_err err = {0};
    OKM(ixlive_open(ixdir, check_ms, &l, &err) == 0, "ixlive_open: %s", err.msg);
    return l;
}

/* Acquires, expecting the event; returns the generation (held). */
static ixlive_gen *acquire(ixlive *l, int want_event)
{
    idx_err err = {0};
    int event = -1;
    ixlive_gen *g = ixlive_acquire(l, &event, &err);
    ck_assert_ptr_nonnull(g);
    OKM(event == want_event, "event %d, expected %d (%s)", event, want_event, err.msg);
    if (event == IXLIVE_FAILED) OKM(err.msg[0] != '\0', "a failure without a reason");
    return g;
}

START_TEST(switches_and_holds)
{
    build(40, BUILD_ENGINE_NATIVE);
    ixlive *l = open_ok(0);
    ixlive_gen *g1 = acquire(l, IXLIVE_SAME);
    EQ(g1->serial, 1);
    EQ(g1->ix->meta.docs, 40);
    ixlive_gen *again = acquire(l, IXLIVE_SAME);
    ck_assert_ptr_eq(again, g1);
    ixlive_release(l, again);

    build(70, BUILD_ENGINE_NATIVE);
    ixlive_gen *g2 = acquire(l, IXLIVE_SWITCHED);
    EQ(g2->serial, 2);
    EQ(g2->ix->meta.docs, 70);
    /* the old generation is still whole for its holder, though its directory is gone */
    buf scratch = {0};
    seg_doc doc;
    idx_err err = {0};
    uint32_t seg, id;
    OKM(index_find_id(g1->ix, "d39", 3, &seg, &id, &err) == 1, "d39 in the old one: %s", err.msg);
    OKM(index_doc_get(g1->ix, seg, id, &scratch, &doc, &err) == 0, "%s", err.msg);
    OK(doc.len[FIELD_BODY] == 18 && !memcmp(doc.field[FIELD_BODY], "common words of 40", 18));
    EQ(index_find_id(g1->ix, "d50", 3, &seg, &id, &err), 0);
    EQ(index_find_id(g2->ix, "d50", 3, &seg, &id, &err), 1);
    buf_free(&scratch);
    ixlive_release(l, g1); /* the last holder: closed here */
    ixlive_release(l, g2);
    ixlive_release(l, acquire(l, IXLIVE_SAME));
    ixlive_free(l);
}
END_TEST

START_TEST(damaged_meta_is_not_switched_to)
{
    build(30, BUILD_ENGINE_NATIVE);
    ixlive *l = open_ok(0);
    for (int truncate = 0; truncate < 2; truncate++) {
        damage_meta(truncate);
        ixlive_gen *g = acquire(l, IXLIVE_FAILED); /* reported once per meta */
        EQ(g->serial, 1);
        EQ(g->ix->meta.docs, 30);
        ixlive_release(l, g);
        g = acquire(l, IXLIVE_SAME); /* not tried again within IXLIVE_RETRY_MS */
        EQ(g->serial, 1);
        ixlive_release(l, g);
    }
    /* tried again after IXLIVE_RETRY_MS, silently */
    usleep((IXLIVE_RETRY_MS + 50) * 1000);
    ixlive_release(l, acquire(l, IXLIVE_SAME));
    /* a good generation again: switched to */
    build(35, BUILD_ENGINE_NATIVE);
    ixlive_gen *g = acquire(l, IXLIVE_SWITCHED);
    EQ(g->serial, 2);
    EQ(g->ix->meta.docs, 35);
    ixlive_release(l, g);
    ixlive_free(l);
}
END_TEST

/* A meta with the same device, inode, size and times as the one served but
 * other contents (a new meta may get the old one's freed inode number within
 * one tick of the kernel's clock) is still a new one. Simulated by writing in
 * place and putting the times back. */
START_TEST(same_inode_size_and_time_is_still_new)
{
    build(30, BUILD_ENGINE_NATIVE);
    ixlive *l = open_ok(0);
    char meta[160];
    snprintf(meta, sizeof meta, "%s/meta", ixdir);
    struct stat before, after;
    ck_assert_int_eq(stat(meta, &before), 0);
    int fd = open(meta, O_WRONLY);
    OK(fd >= 0);
    EQ(pwrite(fd, "#", 1, 10), 1);
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    ck_assert_int_eq(futimens(fd, times), 0);
    ck_assert_int_eq(close(fd), 0);
    ck_assert_int_eq(stat(meta, &after), 0);
    OK(after.st_ino == before.st_ino && after.st_size == before.st_size &&
       after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
       after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
    ixlive_gen *g = acquire(l, IXLIVE_FAILED); /* noticed, and damaged (its crc) */
    EQ(g->serial, 1);
    ixlive_release(l, g);
    ixlive_free(l);
}
END_TEST

START_TEST(both_engines)
{
    build(20, BUILD_ENGINE_XAPIAN);
    ixlive *l = open_ok(0);
    ixlive_gen *g = acquire(l, IXLIVE_SAME);
    ck_assert_str_eq(g->ix->meta.engine, "xapian");
    ixlive_release(l, g);
    build(25, BUILD_ENGINE_XAPIAN);
    g = acquire(l, IXLIVE_SWITCHED);
    ck_assert_str_eq(g->ix->meta.engine, "xapian");
    EQ(g->ix->meta.docs, 25);
    ixlive_release(l, g);
    build(27, BUILD_ENGINE_NATIVE);
    g = acquire(l, IXLIVE_SWITCHED);
    ck_assert_str_eq(g->ix->meta.engine, "native");
    EQ(g->ix->meta.docs, 27);
    EQ(g->serial, 3);
    ixlive_release(l, g);
    ixlive_free(l);
}
END_TEST

START_TEST(checks_at_most_once_per_interval)
{
    build(10, BUILD_ENGINE_NATIVE);
    ixlive *l = open_ok(400);
    ixlive_release(l, acquire(l, IXLIVE_SAME)); /* the first check: nothing new */
    build(12, BUILD_ENGINE_NATIVE);
    ixlive_gen *g = acquire(l, IXLIVE_SAME); /* within the interval: not looked at */
    EQ(g->ix->meta.docs, 10);
    ixlive_release(l, g);
    usleep(450 * 1000);
    g = acquire(l, IXLIVE_SWITCHED);
    EQ(g->ix->meta.docs, 12);
    ixlive_release(l, g);
    ixlive_free(l);
}
END_TEST

/* Threads acquire, read and release without pause while the main thread
 * rebuilds: each sees a whole generation (docs matching the serial's build)
 * and the serials never go back. */
#define T_THREADS 4
#define T_REBUILDS 6
typedef struct t_arg {
    ixlive *l;
    atomic_int *stop;
    uint64_t seen, switches;
    int bad;
} t_arg;

static void *reader_main(void *p)
{
    t_arg *a = p;
    uint64_t last = 0;
    while (!atomic_load(a->stop)) {
        idx_err err = {0};
        int event;
        ixlive_gen *g = ixlive_acquire(a->l, &event, &err);
        if (event == IXLIVE_SWITCHED) a->switches++;
        if (g->serial < last || g->ix->meta.docs != 50 + g->serial) a->bad = 1;
        last = g->serial;
        a->seen++;
        ixlive_release(a->l, g);
    }
    return NULL;
}

START_TEST(threads_while_rebuilding)
{
    build(51, BUILD_ENGINE_NATIVE);
    ixlive *l = open_ok(1);
    atomic_int stop;
    atomic_init(&stop, 0);
    t_arg args[T_THREADS];
    pthread_t tids[T_THREADS];
    for (int i = 0; i < T_THREADS; i++) {
        args[i] = (t_arg){l, &stop, 0, 0, 0};
        ck_assert_int_eq(pthread_create(&tids[i], NULL, reader_main, &args[i]), 0);
    }
    uint64_t main_switches = 0;
    for (int r = 2; r <= T_REBUILDS + 1; r++) {
        build(50 + r, BUILD_ENGINE_NATIVE);
        /* until some thread switched: each rebuild is its own generation */
        for (int wait = 0; wait < 500; wait++) {
            idx_err err = {0};
            int event;
            ixlive_gen *g = ixlive_acquire(l, &event, &err);
            OKM(event != IXLIVE_FAILED, "%s", err.msg);
            main_switches += event == IXLIVE_SWITCHED;
            uint64_t serial = g->serial;
            ixlive_release(l, g);
            if (serial == (uint64_t)r) break;
            usleep(10 * 1000);
        }
    }
    atomic_store(&stop, 1);
    uint64_t seen = 0, switches = main_switches;
    for (int i = 0; i < T_THREADS; i++) {
        ck_assert_int_eq(pthread_join(tids[i], NULL), 0);
        OKM(!args[i].bad, "thread %d saw a generation out of order or not whole", i);
        seen += args[i].seen;
        switches += args[i].switches;
    }
    EQ(switches, T_REBUILDS);
    OK(seen > T_REBUILDS);
    ixlive_gen *g = acquire(l, IXLIVE_SAME);
    EQ(g->serial, T_REBUILDS + 1);
    ixlive_release(l, g);
    ixlive_free(l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ixlive");
    TCase *tc = tcase_create("ixlive");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, switches_and_holds);
    tcase_add_test(tc, damaged_meta_is_not_switched_to);
    tcase_add_test(tc, same_inode_size_and_time_is_still_new);
    tcase_add_test(tc, both_engines);
    tcase_add_test(tc, checks_at_most_once_per_interval);
    tcase_add_test(tc, threads_while_rebuilding);
    suite_add_tcase(s, tc);
    return test_run(s);
}
