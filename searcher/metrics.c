/* metrics: trec_eval-style scoring of runs against qrels. See metrics.h and
 * docs/EVAL.md for the definitions. */
#include "searcher/metrics.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/strmap.h"

#define NO_QUERY UINT32_MAX

/* ---- shared helpers ---- */

/* Reads a whole file into *text (malloc'd, NUL-terminated for convenience). */
static int slurp(const char *path, char **text, size_t *len, idx_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return err_errno(err, IDX_EDATA, errno, "%s", path);
    buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_put(&b, chunk, n);
    int bad = ferror(f), e = errno;
    fclose(f);
    if (bad) {
        buf_free(&b);
        return err_errno(err, IDX_EDATA, e, "%s: reading", path);
    }
    buf_put_u8(&b, 0);
    if (b.oom) {
        buf_free(&b);
        return err_set(err, IDX_ENOMEM, "%s: out of memory", path);
    }
    *text = (char *)b.p;
    *len = b.len - 1;
    return 0;
}

typedef struct tok {
    const char *p;
    size_t n;
} tok;

/* Splits line[0..len) at spaces, tabs, \r, \v, \f into at most max tokens;
 * returns the token count (max + 1 when there are more). */
static size_t split(const char *line, size_t len, tok *t, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len) {
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' ||
                           line[i] == '\v' || line[i] == '\f'))
            i++;
        if (i == len) break;
        size_t s = i;
        while (i < len && !(line[i] == ' ' || line[i] == '\t' || line[i] == '\r' ||
                            line[i] == '\v' || line[i] == '\f'))
            i++;
        if (n == max) return max + 1;
        t[n].p = line + s;
        t[n].n = i - s;
        n++;
    }
    return n;
}

static int parse_long(const tok *t, long *out)
{
    char tmp[32];
    if (t->n == 0 || t->n >= sizeof tmp) return -1;
    memcpy(tmp, t->p, t->n);
    tmp[t->n] = 0;
    char *end;
    errno = 0;
    long v = strtol(tmp, &end, 10);
    if (*end || errno || v < INT_MIN || v > INT_MAX) return -1;
    *out = v;
    return 0;
}

static int parse_double(const tok *t, double *out)
{
    char tmp[64];
    if (t->n == 0 || t->n >= sizeof tmp) return -1;
    memcpy(tmp, t->p, t->n);
    tmp[t->n] = 0;
    char *end;
    double v = strtod(tmp, &end);
    if (*end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* Byte-wise comparison with strcmp's order (unsigned bytes, a prefix first). */
static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : an < bn ? -1 : an > bn ? 1 : 0;
}

/* Key of a (qid, docid) pair: qid NUL docid. */
static void pair_key(buf *k, const char *qid, size_t ql, const char *doc, size_t dl)
{
    k->len = 0;
    buf_put(k, qid, ql);
    buf_put_u8(k, 0);
    buf_put(k, doc, dl);
}

/* Walks text line by line; fn gets 1-based line numbers. Stops at the first
 * non-zero return. A NUL byte is an error (ids are text). */
typedef int (*line_fn)(void *ctx, const char *line, size_t len, size_t lineno, idx_err *err);

static int for_lines(const char *text, size_t len, const char *name, line_fn fn, void *ctx,
                     idx_err *err)
{
    size_t lineno = 0, i = 0;
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - text) : len;
        lineno++;
        if (memchr(text + i, 0, e - i))
            return err_set(err, IDX_EDATA, "%s:%zu: NUL byte in line", name, lineno);
        int rc = fn(ctx, text + i, e - i, lineno, err);
        if (rc) return rc;
        i = e + 1;
    }
    return 0;
}

/* ---- qrels ---- */

typedef struct qrels_query {
    uint32_t qid_off, qid_len; /* in names */
    uint32_t num_rel;
    double idcg; /* ideal DCG@10 */
} qrels_query;

typedef struct judged_rel {
    uint32_t q;
    int32_t rel;
} judged_rel;

struct metrics_qrels {
    strmap *qids;  /* qid -> index in queries */
    strmap *pairs; /* qid NUL docid -> (uint32_t)rel */
    buf names;     /* qid bytes */
    qrels_query *queries;
    size_t n, cap;
    judged_rel *rels; /* relevant judgements, for the ideal rankings */
    size_t n_rels, cap_rels;
    buf key;
    const char *name;
};

/* Discount of rank r (1-based), as trec_eval 9's ndcg_cut: 1 for ranks 1
 * and 2, log2(r) after (Jarvelin & Kekalainen's base-2 discount), so our
 * figures compare directly with published trec_eval ones. */
static double discount(size_t rank)
{
    return rank <= 2 ? 1.0 : log2((double)rank);
}

static int qrels_line(void *ctx, const char *line, size_t len, size_t lineno, idx_err *err)
{
    metrics_qrels *q = ctx;
    tok t[4];
    size_t n = split(line, len, t, 4);
    if (n == 0) return 0;
    if (n != 4)
        return err_set(err, IDX_EDATA, "%s:%zu: expected `qid iter docid rel`, got %s fields",
                       q->name, lineno,
                       n > 4    ? "more than 4"
                       : n == 3 ? "3"
                       : n == 2 ? "2"
                                : "1");
    long rel;
    if (parse_long(&t[3], &rel))
        return err_set(err, IDX_EDATA, "%s:%zu: relevance '%.*s' is not an integer", q->name,
                       lineno, (int)(t[3].n > 40 ? 40 : t[3].n), t[3].p);
    int ins;
    uint32_t *qi = strmap_put(q->qids, t[0].p, t[0].n, (uint32_t)q->n, &ins);
    if (!qi) return err_set(err, IDX_ENOMEM, "%s: out of memory", q->name);
    if (ins) {
        if (buf_grow(&q->queries, &q->cap, q->n + 1, sizeof *q->queries))
            return err_set(err, IDX_ENOMEM, "%s: out of memory", q->name);
        q->queries[q->n] = (qrels_query){(uint32_t)q->names.len, (uint32_t)t[0].n, 0, 0};
        buf_put(&q->names, t[0].p, t[0].n);
        q->n++;
    }
    uint32_t qidx = *qi;
    pair_key(&q->key, t[0].p, t[0].n, t[2].p, t[2].n);
    if (q->key.oom || q->names.oom) return err_set(err, IDX_ENOMEM, "%s: out of memory", q->name);
    if (!strmap_put(q->pairs, (const char *)q->key.p, q->key.len, (uint32_t)(int32_t)rel, &ins))
        return err_set(err, IDX_ENOMEM, "%s: out of memory", q->name);
    if (!ins)
        return err_set(err, IDX_EDATA, "%s:%zu: query %.*s judges document %.*s a second time",
                       q->name, lineno, (int)(t[0].n > 40 ? 40 : t[0].n), t[0].p,
                       (int)(t[2].n > 80 ? 80 : t[2].n), t[2].p);
    if (rel > 0) {
        if (buf_grow(&q->rels, &q->cap_rels, q->n_rels + 1, sizeof *q->rels))
            return err_set(err, IDX_ENOMEM, "%s: out of memory", q->name);
        q->rels[q->n_rels++] = (judged_rel){qidx, (int32_t)rel};
        q->queries[qidx].num_rel++;
    }
    return 0;
}

static int cmp_judged(const void *a, const void *b)
{
    const judged_rel *x = a, *y = b;
    if (x->q != y->q) return x->q < y->q ? -1 : 1;
    return x->rel > y->rel ? -1 : x->rel < y->rel ? 1 : 0; /* best first */
}

int metrics_qrels_parse(const char *text, size_t len, const char *name, metrics_qrels **out,
                        idx_err *err)
{
    *out = NULL;
    metrics_qrels *q = calloc(1, sizeof *q);
    if (!q) return err_set(err, IDX_ENOMEM, "%s: out of memory", name);
    q->name = name;
    q->qids = strmap_new(256);
    q->pairs = strmap_new(4096);
    int rc = q->qids && q->pairs ? 0 : err_set(err, IDX_ENOMEM, "%s: out of memory", name);
    if (!rc) rc = for_lines(text, len, name, qrels_line, q, err);
    if (!rc && q->n == 0) rc = err_set(err, IDX_EDATA, "%s: no judgements", name);
    if (rc) {
        metrics_qrels_free(q);
        return rc;
    }
    /* Ideal DCG@10 per query: its relevant judgements, best first. */
    if (q->n_rels) qsort(q->rels, q->n_rels, sizeof *q->rels, cmp_judged);
    for (size_t i = 0, rank = 0; i < q->n_rels; i++) {
        rank = (i > 0 && q->rels[i - 1].q == q->rels[i].q) ? rank + 1 : 1;
        if (rank <= METRICS_NDCG_CUT)
            q->queries[q->rels[i].q].idcg += q->rels[i].rel / discount(rank);
    }
    free(q->rels);
    q->rels = NULL;
    buf_free(&q->key);
    q->name = NULL; /* borrowed only while parsing */
    *out = q;
    return 0;
}

int metrics_qrels_load(const char *path, metrics_qrels **out, idx_err *err)
{
    char *text;
    size_t len;
    *out = NULL;
    int rc = slurp(path, &text, &len, err);
    if (rc) return rc;
    rc = metrics_qrels_parse(text, len, path, out, err);
    free(text);
    return rc;
}

void metrics_qrels_free(metrics_qrels *q)
{
    if (!q) return;
    strmap_free(q->qids);
    strmap_free(q->pairs);
    buf_free(&q->names);
    buf_free(&q->key);
    free(q->queries);
    free(q->rels);
    free(q);
}

size_t metrics_qrels_judged(const metrics_qrels *q)
{
    size_t n = 0;
    for (size_t i = 0; i < q->n; i++)
        n += q->queries[i].num_rel > 0;
    return n;
}

/* ---- runs ---- */

typedef struct run_entry {
    uint32_t q; /* index in the run's qid list */
    uint32_t doc_len;
    uint64_t doc_off; /* in docs */
    double score;
} run_entry;

struct metrics_run {
    strmap *qids;  /* qid -> index */
    strmap *pairs; /* qid NUL docid, for duplicates */
    buf names, docs, key;
    uint64_t *qid_off;
    uint32_t *qid_len;
    size_t nq, capq_off, capq_len;
    run_entry *e;
    size_t n, cap;
    uint64_t dups;
    const char *name; /* while parsing */
};

int metrics_run_new(metrics_run **out, idx_err *err)
{
    *out = NULL;
    metrics_run *r = calloc(1, sizeof *r);
    if (!r) return err_set(err, IDX_ENOMEM, "run: out of memory");
    r->qids = strmap_new(256);
    r->pairs = strmap_new(4096);
    if (!r->qids || !r->pairs) {
        metrics_run_free(r);
        return err_set(err, IDX_ENOMEM, "run: out of memory");
    }
    *out = r;
    return 0;
}

int metrics_run_add(metrics_run *r, const char *qid, size_t qid_len, const char *docid,
                    size_t docid_len, double score, idx_err *err)
{
    if (!isfinite(score)) return err_set(err, IDX_EDATA, "run: score is not a finite number");
    if (qid_len > UINT32_MAX / 2 || docid_len > UINT32_MAX / 2)
        return err_set(err, IDX_EDATA, "run: id too long");
    int ins;
    pair_key(&r->key, qid, qid_len, docid, docid_len);
    if (r->key.oom) return err_set(err, IDX_ENOMEM, "run: out of memory");
    if (!strmap_put(r->pairs, (const char *)r->key.p, r->key.len, 0, &ins))
        return err_set(err, IDX_ENOMEM, "run: out of memory");
    if (!ins) {
        r->dups++; /* keep the first line */
        return 0;
    }
    uint32_t *qi = strmap_put(r->qids, qid, qid_len, (uint32_t)r->nq, &ins);
    if (!qi) return err_set(err, IDX_ENOMEM, "run: out of memory");
    if (ins) {
        if (buf_grow(&r->qid_off, &r->capq_off, r->nq + 1, sizeof *r->qid_off) ||
            buf_grow(&r->qid_len, &r->capq_len, r->nq + 1, sizeof *r->qid_len))
            return err_set(err, IDX_ENOMEM, "run: out of memory");
        r->qid_off[r->nq] = r->names.len;
        r->qid_len[r->nq] = (uint32_t)qid_len;
        buf_put(&r->names, qid, qid_len);
        r->nq++;
    }
    if (buf_grow(&r->e, &r->cap, r->n + 1, sizeof *r->e))
        return err_set(err, IDX_ENOMEM, "run: out of memory");
    r->e[r->n++] = (run_entry){*qi, (uint32_t)docid_len, r->docs.len, score};
    buf_put(&r->docs, docid, docid_len);
    if (r->docs.oom || r->names.oom) return err_set(err, IDX_ENOMEM, "run: out of memory");
    return 0;
}

static int run_line(void *ctx, const char *line, size_t len, size_t lineno, idx_err *err)
{
    metrics_run *r = ctx;
    tok t[6];
    size_t n = split(line, len, t, 6);
    if (n == 0) return 0;
    if (n != 6)
        return err_set(err, IDX_EDATA,
                       "%s:%zu: expected `qid Q0 docid rank score tag`, got %zu fields%s", r->name,
                       lineno, n > 6 ? (size_t)6 : n, n > 6 ? " and more" : "");
    long rank;
    if (parse_long(&t[3], &rank))
        return err_set(err, IDX_EDATA, "%s:%zu: rank '%.*s' is not an integer", r->name, lineno,
                       (int)(t[3].n > 40 ? 40 : t[3].n), t[3].p);
    double score;
    if (parse_double(&t[4], &score))
        return err_set(err, IDX_EDATA, "%s:%zu: score '%.*s' is not a finite number", r->name,
                       lineno, (int)(t[4].n > 40 ? 40 : t[4].n), t[4].p);
    int rc = metrics_run_add(r, t[0].p, t[0].n, t[2].p, t[2].n, score, err);
    return rc == IDX_EDATA ? err_wrap(err, rc, "%s:%zu", r->name, lineno) : rc;
}

int metrics_run_parse(const char *text, size_t len, const char *name, metrics_run **out,
                      idx_err *err)
{
    metrics_run *r;
    *out = NULL;
    int rc = metrics_run_new(&r, err);
    if (rc) return rc;
    r->name = name;
    rc = for_lines(text, len, name, run_line, r, err);
    r->name = NULL;
    if (rc) {
        metrics_run_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int metrics_run_load(const char *path, metrics_run **out, idx_err *err)
{
    char *text;
    size_t len;
    *out = NULL;
    int rc = slurp(path, &text, &len, err);
    if (rc) return rc;
    rc = metrics_run_parse(text, len, path, out, err);
    free(text);
    return rc;
}

void metrics_run_free(metrics_run *r)
{
    if (!r) return;
    strmap_free(r->qids);
    strmap_free(r->pairs);
    buf_free(&r->names);
    buf_free(&r->docs);
    buf_free(&r->key);
    free(r->qid_off);
    free(r->qid_len);
    free(r->e);
    free(r);
}

uint64_t metrics_run_duplicates(const metrics_run *r)
{
    return r->dups;
}

/* ---- evaluation ---- */

typedef struct ranked {
    uint32_t q; /* qrels query index */
    int32_t rel;
    const char *doc;
    size_t doc_len;
    double score;
} ranked;

/* trec_eval's order: query, then score descending, then docid descending. */
static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->q != y->q) return x->q < y->q ? -1 : 1;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return cmp_bytes(y->doc, y->doc_len, x->doc, x->doc_len);
}

/* Scores one query's ranked list l[0..n) (best first). */
static void score_query(const qrels_query *qq, const ranked *l, size_t n, metrics_query *m)
{
    double sum_prec = 0, dcg = 0;
    uint32_t rel_ret = 0, rel_10 = 0, rel_1000 = 0;
    double rr = 0;
    for (size_t i = 0; i < n; i++) {
        size_t rank = i + 1;
        if (l[i].rel <= 0) continue;
        rel_ret++;
        sum_prec += (double)rel_ret / (double)rank;
        if (rank <= METRICS_NDCG_CUT) dcg += l[i].rel / discount(rank);
        if (rank <= METRICS_P_CUT) rel_10++;
        if (rank <= METRICS_RECALL_CUT) rel_1000++;
        if (rr == 0) rr = 1.0 / (double)rank;
    }
    m->num_ret = (uint32_t)n;
    m->num_rel_ret = rel_ret;
    m->v.map = sum_prec / qq->num_rel;
    m->v.ndcg_10 = qq->idcg > 0 ? dcg / qq->idcg : 0;
    m->v.p_10 = (double)rel_10 / METRICS_P_CUT;
    m->v.recall_1000 = (double)rel_1000 / qq->num_rel;
    m->v.recip_rank = rr;
}

int metrics_evaluate(const metrics_qrels *q, const metrics_run *r, metrics_report *out,
                     idx_err *err)
{
    memset(out, 0, sizeof *out);
    /* run query -> qrels query, NO_QUERY when it does not count */
    uint32_t *map = malloc((r->nq ? r->nq : 1) * sizeof *map);
    /* qrels query -> slot in the report, NO_QUERY when it does not count */
    uint32_t *slot = malloc((q->n ? q->n : 1) * sizeof *slot);
    ranked *l = malloc((r->n ? r->n : 1) * sizeof *l);
    buf key = {0};
    int rc = 0;
    if (!map || !slot || !l) {
        rc = err_set(err, IDX_ENOMEM, "eval: out of memory");
        goto done;
    }
    size_t counted = 0;
    for (size_t i = 0; i < q->n; i++)
        slot[i] = q->queries[i].num_rel ? (uint32_t)counted++ : NO_QUERY;
    out->queries = calloc(counted ? counted : 1, sizeof *out->queries);
    if (!out->queries) {
        rc = err_set(err, IDX_ENOMEM, "eval: out of memory");
        goto done;
    }
    out->n = counted;
    for (size_t i = 0; i < q->n; i++) {
        if (slot[i] == NO_QUERY) continue;
        metrics_query *m = &out->queries[slot[i]];
        const qrels_query *qq = &q->queries[i];
        if (!(m->qid = malloc(qq->qid_len + 1))) {
            rc = err_set(err, IDX_ENOMEM, "eval: out of memory");
            goto done;
        }
        memcpy(m->qid, q->names.p + qq->qid_off, qq->qid_len);
        m->qid[qq->qid_len] = 0;
        m->num_rel = qq->num_rel;
    }
    for (size_t i = 0; i < r->nq; i++) {
        const uint32_t *qi =
            strmap_get(q->qids, (const char *)r->names.p + r->qid_off[i], r->qid_len[i]);
        map[i] = qi && slot[*qi] != NO_QUERY ? *qi : NO_QUERY;
        if (map[i] != NO_QUERY) out->queries[slot[*qi]].in_run = 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) {
        const run_entry *e = &r->e[i];
        uint32_t qi = map[e->q];
        if (qi == NO_QUERY) continue;
        const char *doc = (const char *)r->docs.p + e->doc_off;
        pair_key(&key, (const char *)q->names.p + q->queries[qi].qid_off, q->queries[qi].qid_len,
                 doc, e->doc_len);
        if (key.oom) {
            rc = err_set(err, IDX_ENOMEM, "eval: out of memory");
            goto done;
        }
        const uint32_t *rel = strmap_get(q->pairs, (const char *)key.p, key.len);
        l[n++] = (ranked){qi, rel ? (int32_t)*rel : 0, doc, e->doc_len, e->score};
    }
    if (n) qsort(l, n, sizeof *l, cmp_ranked);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && l[j].q == l[i].q)
            j++;
        score_query(&q->queries[l[i].q], l + i, j - i, &out->queries[slot[l[i].q]]);
        i = j;
    }
    for (size_t i = 0; i < out->n; i++) {
        const metrics_query *m = &out->queries[i];
        out->n_missing += !m->in_run;
        out->mean.map += m->v.map;
        out->mean.ndcg_10 += m->v.ndcg_10;
        out->mean.p_10 += m->v.p_10;
        out->mean.recall_1000 += m->v.recall_1000;
        out->mean.recip_rank += m->v.recip_rank;
    }
    if (out->n) {
        double d = (double)out->n;
        out->mean.map /= d;
        out->mean.ndcg_10 /= d;
        out->mean.p_10 /= d;
        out->mean.recall_1000 /= d;
        out->mean.recip_rank /= d;
    }
done:
    free(map);
    free(slot);
    free(l);
    buf_free(&key);
    if (rc) metrics_report_free(out);
    return rc;
}

void metrics_report_free(metrics_report *rep)
{
    if (!rep) return;
    for (size_t i = 0; i < rep->n; i++)
        /* n is 0 while queries is NULL (metrics_evaluate zeroes the report first), which the
         * analyser loses in memset. NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
        free(rep->queries[i].qid);
    free(rep->queries);
    memset(rep, 0, sizeof *rep);
}
