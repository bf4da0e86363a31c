/* suggest_bench: times spelling suggestions (searcher/suggest.h) inside one
 * process. Reads `original<TAB>misspelt` lines from stdin; for each, asks
 * for a suggestion for the misspelt word (timed) and for the original (a
 * suggestion there is a false alarm), and prints
 * `original<TAB>misspelt<TAB>suggestion or -<TAB>stem restored 0/1<TAB>
 * suggestion for the original 0/1<TAB>original in the index 0/1<TAB>
 * microseconds`. Driven by suggest_bench.sh. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/analyze.h"
#include "common/index.h"
#include "searcher/suggest.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

typedef struct first_term {
    char t[256];
    size_t n;
} first_term;

static int take(void *ctx, const ana_token *tok)
{
    first_term *f = ctx;
    if (f->n || tok->len >= sizeof f->t) return 0;
    memcpy(f->t, tok->term, tok->len);
    f->n = tok->len;
    return 0;
}

/* Whether a and b stem alike (the index cannot tell them apart). */
static int same_stem(ana *a, const char *x, size_t nx, const char *y, size_t ny, idx_err *err)
{
    first_term fx = {0}, fy = {0};
    ana_run(a, x, nx, take, &fx, err);
    ana_run(a, y, ny, take, &fy, err);
    return fx.n && fx.n == fy.n && !memcmp(fx.t, fy.t, fx.n);
}

/* Whether the word's stem is in the index at all (else no suggestion can
 * bring it back). */
static int present(idx_index *ix, ana *a, const char *w, idx_err *err)
{
    first_term f = {0};
    ana_run(a, w, strlen(w), take, &f, err);
    for (uint32_t i = 0; i < ix->n_segs && f.n; i++) {
        seg_term t;
        if (seg_lookup(ix->segs[i], f.t, f.n, &t, err) == 1) return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: suggest_bench INDEX < cases.tsv\n", stderr);
        return 2;
    }
    idx_err err = {0};
    idx_index *ix = NULL;
    ana *a = NULL;
    if (index_open(argv[1], &ix, &err) || index_ana_new(ix, &a, &err)) {
        fprintf(stderr, "suggest_bench: %s\n", err.msg);
        return 3;
    }
    buf out = {0};
    char line[1024];
    int rc = 0;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        const char *orig = line, *typo = tab + 1;
        /* the median of three runs: the machine is shared */
        double us[3];
        int r = 0;
        for (int k = 0; k < 3 && r >= 0; k++) {
            double t0 = now_us();
            r = suggest_query(ix, a, typo, strlen(typo), &out, &err);
            us[k] = now_us() - t0;
        }
        if (r < 0) {
            fprintf(stderr, "suggest_bench: %s\n", err.msg);
            rc = 1;
            break;
        }
        int restored =
            r && same_stem(a, out.p ? (const char *)out.p : "", out.len, orig, strlen(orig), &err);
        printf("%s\t%s\t%.*s\t%d\t", orig, typo, r ? (int)out.len : 1, r ? (char *)out.p : "-",
               restored);
        r = suggest_query(ix, a, orig, strlen(orig), &out, &err);
        if (r < 0) {
            fprintf(stderr, "suggest_bench: %s\n", err.msg);
            rc = 1;
            break;
        }
        double lo = us[0] < us[1] ? us[0] : us[1], hi = us[0] < us[1] ? us[1] : us[0];
        printf("%d\t%d\t%.1f\n", r, present(ix, a, orig, &err),
               us[2] < lo   ? lo
               : us[2] > hi ? hi
                            : us[2]);
    }
    buf_free(&out);
    ana_free(a);
    index_close(ix);
    return rc;
}
