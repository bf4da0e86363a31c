/* Helpers shared by the libFuzzer targets (tests/fuzz/README.md): a private
 * scratch directory in /dev/shm removed at exit, file writing, strict UTF-8
 * checking, a small index built with build_run, and an abort-with-message
 * for broken invariants (libFuzzer reports the abort as a crash). */
#ifndef IDX_FUZZ_UTIL_H
#define IDX_FUZZ_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <utf8proc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/analyze.h"
#include "common/bm25.h"
#include "common/status.h"
#include "indexer/build.h"

#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant broken (%s:%d): %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static char fz_dir_[256];

static inline int fz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void fz_cleanup(void)
{
    if (fz_dir_[0]) nftw(fz_dir_, fz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Removes base/idx-fuzz-PID-* left by processes that are gone: libFuzzer
 * leaves with _Exit on a crash, a timeout or the end of -max_total_time, so
 * atexit handlers do not always run. */
static inline void fz_sweep(const char *base)
{
    DIR *d = opendir(base);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        long pid;
        if (sscanf(e->d_name, "idx-fuzz-%ld-", &pid) != 1 || pid <= 0) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        snprintf(path, sizeof path, "%s/%s", base, e->d_name);
        nftw(path, fz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
    closedir(d);
}

/* The process's scratch directory (created on first use, removed at exit
 * when the exit runs atexit handlers; leftovers of dead processes are swept
 * on the next start): $IDX_FUZZ_TMP if set (run_all.sh sets its own
 * temporary directory), else /dev/shm (no disk writes), else $TMPDIR or /tmp. */
static inline const char *fz_dir(void)
{
    if (fz_dir_[0]) return fz_dir_;
    const char *base = getenv("IDX_FUZZ_TMP");
    if (!base || !*base) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    if (!base) base = "/tmp";
    fz_sweep(base);
    snprintf(fz_dir_, sizeof fz_dir_, "%s/idx-fuzz-%ld-XXXXXX", base, (long)getpid());
    FZ_CHECK(mkdtemp(fz_dir_) != NULL, "cannot create %s", fz_dir_);
    atexit(fz_cleanup);
    return fz_dir_;
}

static inline void fz_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    FZ_CHECK(f != NULL, "cannot write %s", path);
    FZ_CHECK(n == 0 || fwrite(data, 1, n, f) == n, "short write to %s", path);
    FZ_CHECK(fclose(f) == 0, "cannot close %s", path);
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF):
 * returns the offset of the first bad byte, or n when all is valid. The
 * oracle is utf8proc's decoder, not a copy of ours, so the two can disagree. */
static inline size_t fz_utf8_bad(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k <= 0) return i;
        i += (size_t)k;
    }
    return n;
}

/* A small collection with every field, dates, CJK, accents, repeated words
 * (posting lists longer than one 128-document block, so skips exist) and
 * a few long bodies. Written as JSONL to
 * dir/docs.jsonl and built into dir/ix with one thread. */
static inline void fz_build_index(const char *dir, char *ix_path, size_t cap)
{
    static const char *const words[] = {
        "alpha",  "beta",    "gamma", "delta",  "epsilon", "zeta",   "kernel", "unix",
        "search", "engine",  "index", "query",  "running", "runs",   "runner", "new",
        "york",   "economy", "café",  "résumé", "東京都",  "Straße", "naïve",  "phrase"};
    const size_t nw = sizeof words / sizeof words[0];
    char path[512];
    snprintf(path, sizeof path, "%s/docs.jsonl", dir);
    FILE *f = fopen(path, "wb");
    FZ_CHECK(f != NULL, "cannot write %s", path);
    uint32_t x = 12345;
    for (int d = 0; d < 160; d++) {
        fprintf(f, "{\"id\":\"doc%d\",\"title\":\"%s %s\",\"url\":\"http://example.org/%d\",", d,
                words[d % nw], words[(d * 7) % nw], d);
        fprintf(f, "\"date\":\"%04d-%02d-%02d\",\"author\":\"Author %d\",\"category\":\"cat%d\",",
                1990 + d % 30, 1 + d % 12, 1 + d % 28, d % 5, d % 3);
        fputs("\"body\":\"", f);
        int n = 6 + (d % 23 == 0 ? 150 : d % 12);
        for (int i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            fprintf(f, "%s%s", i ? " " : "", words[(x >> 16) % nw]);
            if (i % 13 == 12) fputs(". new york", f);
        }
        fputs("\"}\n", f);
    }
    /* a duplicate id: the later record supersedes the first */
    fputs("{\"id\":\"doc1\",\"title\":\"replaced\",\"body\":\"replacement body alpha\"}\n", f);
    FZ_CHECK(fclose(f) == 0, "cannot close %s", path);

    snprintf(ix_path, cap, "%s/ix", dir);
    const char *inputs[1] = {path};
    build_opts o;
    memset(&o, 0, sizeof o);
    o.out = ix_path;
    o.inputs = inputs;
    o.n_inputs = 1;
    o.format = FMT_JSONL;
    o.mem_bytes = 64u << 20;
    o.threads = 1;
    o.ana = ana_config_default();
    o.bm25 = bm25_default();
    build_summary sum;
    idx_err err = {0};
    int rc = build_run(&o, &sum, &err);
    FZ_CHECK(rc == 0, "build_run: %s", err.msg);
}

#endif
