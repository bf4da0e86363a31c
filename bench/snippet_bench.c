/* snippet_bench: the in-process cost of a result page's snippets, per hit.
 *
 * Opens an index once, runs every query of a TSV file (qid<TAB>query, as
 * ../shared/corpora/aol-benchmark-queries/queries.tsv) for its top k hits
 * (match_search, default options), and for each hit times separately
 *   fetch:    index_doc_get (find the store block, inflate up to the record)
 *   analysis: snip_doc (analyse title and body, pick and copy the window),
 *             with the postings' hint of which query words the body holds
 *             (search_body_has, as search.c gives it) unless --hint 0, and
 *             the passage located from the postings' positions and the
 *             record's position table (search_body_positions, as search.c
 *             gives them) unless --positions 0
 * with clock_gettime(CLOCK_MONOTONIC), `--rounds` times over the whole query
 * set (after one untimed warm-up round). The search itself is not timed.
 *
 * Prints, over all hits of all timed rounds: hits, then p50/p95/p99/mean
 * microseconds of fetch, analysis and their sum, plus the mean bytes
 * inflated and the mean body length per hit. With --times FILE every hit's
 * times are written too (round qid rank fetch_ns snip_ns inflated body).
 *
 * Usage: snippet_bench --idx DIR --queries TSV [--rounds N] [--k K]
 *                      [--hint 0|1] [--positions 0|1] [--times FILE] */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/index.h"
#include "searcher/match.h"
#include "searcher/qparse.h"
#include "searcher/search.h"
#include "searcher/snippet.h"

typedef struct sample {
    double fetch_us, snip_us, total_us;
} sample;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double *v, size_t n)
{
    if (!n) return;
    qsort(v, n, sizeof *v, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    printf("%-9s p50 %8.1f  p95 %8.1f  p99 %8.1f  mean %8.1f  (us per hit)\n", what, v[n / 2],
           v[n * 95 / 100], v[n * 99 / 100], sum / (double)n);
}

static void die(const char *what, const idx_err *err)
{
    fprintf(stderr, "snippet_bench: %s: %s\n", what, err->msg);
    exit(1);
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *qfile = NULL, *tfile = NULL;
    int rounds = 3;
    unsigned k = 10;
    int hint = 1, positions = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--idx"))
            dir = argv[i + 1];
        else if (!strcmp(argv[i], "--queries"))
            qfile = argv[i + 1];
        else if (!strcmp(argv[i], "--rounds"))
            rounds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--k"))
            k = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--hint"))
            hint = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--positions"))
            positions = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--times"))
            tfile = argv[i + 1];
    }
    if (!dir || !qfile || rounds < 1 || k < 1) {
        fprintf(stderr, "usage: snippet_bench --idx DIR --queries TSV [--rounds N] [--k K] "
                        "[--hint 0|1] [--positions 0|1] [--times FILE]\n");
        return 2;
    }
    idx_err err = {0};
    idx_index *ix = NULL;
    ana *a = NULL;
    snip *sn = NULL;
    if (index_open(dir, &ix, &err)) die(dir, &err);
    if (ana_new(&ix->meta.ana, &a, &err) || snip_new(a, NULL, &sn, &err)) die("setup", &err);
    match_options eo = match_options_default(ix);
    eo.k = k;

    FILE *qf = fopen(qfile, "r");
    if (!qf) {
        perror(qfile);
        return 1;
    }
    char **qs = NULL, **qids = NULL;
    size_t nq = 0, capq = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t ll;
    while ((ll = getline(&line, &lcap, qf)) > 0) {
        while (ll > 0 && (line[ll - 1] == '\n' || line[ll - 1] == '\r'))
            line[--ll] = 0;
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        if (nq == capq) {
            capq = capq ? 2 * capq : 1024;
            qs = realloc(qs, capq * sizeof *qs);
            qids = realloc(qids, capq * sizeof *qids);
            if (!qs || !qids) return 1;
        }
        qids[nq] = strdup(line);
        qs[nq++] = strdup(tab + 1);
    }
    free(line);
    fclose(qf);

    FILE *tf = tfile ? fopen(tfile, "w") : NULL;
    sample *smp = NULL;
    size_t ns = 0, caps = 0;
    double inflated = 0, body = 0;
    buf scratch = {0};
    for (int r = 0; r <= rounds; r++) { /* round 0: warm-up, untimed */
        for (size_t i = 0; i < nq; i++) {
            qparse_tree *q = NULL;
            match_result mr;
            memset(&mr, 0, sizeof mr);
            if (qparse_parse(a, qs[i], strlen(qs[i]), NULL, &q, &err) ||
                match_search(ix, q, &eo, &mr, &err)) {
                qparse_free(q);
                err.code = 0;
                continue; /* a query idx refuses has no hits to snippet */
            }
            for (uint32_t h = 0; h < mr.n_hits; h++) {
                seg_doc d;
                snip_result sr;
                double t0 = now_us();
                if (index_doc_get(ix, mr.hits[h].seg, mr.hits[h].doc, &scratch, &d, &err))
                    die("fetch", &err);
                double t1 = now_us();
                search_body_probe probe = {ix, mr.hits[h].seg, mr.hits[h].doc};
                if (hint) snip_set_body_hint(sn, search_body_has, &probe);
                if (positions)
                    snip_set_body_index(sn, search_body_positions, &probe, d.posmap, d.posmap_len);
                if (snip_doc(sn, q, d.field[FIELD_TITLE], d.len[FIELD_TITLE], d.field[FIELD_BODY],
                             d.len[FIELD_BODY], &sr, &err))
                    die("snippet", &err);
                double t2 = now_us();
                snip_set_body_hint(sn, NULL, NULL);
                snip_set_body_index(sn, NULL, NULL, NULL, 0);
                snip_result_free(&sr);
                if (r == 0) continue;
                if (ns == caps) {
                    caps = caps ? 2 * caps : 4096;
                    smp = realloc(smp, caps * sizeof *smp);
                    if (!smp) return 1;
                }
                smp[ns++] = (sample){t1 - t0, t2 - t1, t2 - t0};
                inflated += (double)scratch.len;
                body += (double)d.len[FIELD_BODY];
                if (tf)
                    fprintf(tf, "%d\t%s\t%u\t%.0f\t%.0f\t%zu\t%zu\n", r, qids[i], h + 1,
                            (t1 - t0) * 1e3, (t2 - t1) * 1e3, scratch.len, d.len[FIELD_BODY]);
            }
            match_result_free(&mr);
            qparse_free(q);
        }
    }
    if (tf) fclose(tf);
    printf("index %s, %zu queries, %d rounds, k %u: %zu hits; per hit %.0f bytes inflated, "
           "body %.0f bytes\n",
           dir, nq, rounds, k, ns, ns ? inflated / (double)ns : 0, ns ? body / (double)ns : 0);
    double *v = malloc((ns ? ns : 1) * sizeof *v);
    if (!v) return 1;
    const char *names[3] = {"fetch", "analysis", "total"};
    for (int w = 0; w < 3; w++) {
        for (size_t i = 0; i < ns; i++)
            v[i] = w == 0 ? smp[i].fetch_us : w == 1 ? smp[i].snip_us : smp[i].total_us;
        report(names[w], v, ns);
    }
    free(v);
    free(smp);
    buf_free(&scratch);
    for (size_t i = 0; i < nq; i++) {
        free(qs[i]);
        free(qids[i]);
    }
    free(qs);
    free(qids);
    snip_free(sn);
    ana_free(a);
    index_close(ix);
    return 0;
}
