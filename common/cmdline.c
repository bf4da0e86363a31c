#include "common/cmdline.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmdline_fail(const char *prog, const char *cmd, int rc, const idx_err *err)
{
    fprintf(stderr, "%s: %s%s%s\n", prog, cmd ? cmd : "", cmd ? ": " : "",
            err->msg[0] ? err->msg : "unknown error");
    return err_status(rc, err);
}

int cmdline_usage(const char *prog, const char *cmd, const char *fmt, ...)
{
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "%s: %s: %s (see %s %s --help)\n", prog, cmd, why, prog, cmd);
    else
        fprintf(stderr, "%s: %s (see %s --help)\n", prog, why, prog);
    return 2;
}

int cmdline_bad_option(const char *prog, const char *cmd, int argc, char **argv)
{
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    return cmdline_usage(prog, cmd, "unknown option or missing value: '%.200s'", arg);
}

long long cmdline_count(const char *s, long long lo, long long hi)
{
    if (*s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return !*end && !errno && v >= lo && v <= hi ? v : -1;
}

int cmdline_bm25(bm25_params *p, const char *flag, const char *val, idx_err *err)
{
    double *field = !strcmp(flag, "k1") ? &p->k1 : !strcmp(flag, "b") ? &p->b : &p->title_weight;
    char *end;
    double x = strtod(val, &end);
    if (end == val || *end)
        return err_set(err, IDX_EUSAGE, "--%s needs a number, not '%.40s'", flag, val);
    *field = x;
    int rc = bm25_params_check(p, err);
    return rc ? err_wrap(err, rc, "--%s", flag) : 0;
}

/* Strips the line end and splits line[0..n) in place: 1 with qid and the
 * query (*len bytes), 0 for a blank line, -1 without a tab or with an empty qid. */
static int split_line(char *line, size_t n, const char **qid, const char **text, size_t *len)
{
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (n == 0) return 0;
    char *tab = memchr(line, '\t', n);
    if (!tab || tab == line) return -1;
    *tab = '\0';
    *qid = line;
    *text = tab + 1;
    *len = (size_t)(line + n - (tab + 1));
    return 1;
}

int cmdline_queries(FILE *f, const char *where, const char *prog, const char *cmd,
                    cmdline_query_fn fn, void *ctx, int *bad, idx_err *err)
{
    assert(!err->code); /* each query's error must be its own */
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    int rc = 0;
    while (!rc && (n = getline(&line, &cap, f)) != -1) {
        lineno++;
        const char *qid, *text;
        size_t len;
        int kind = split_line(line, (size_t)n, &qid, &text, &len);
        if (kind == 0) continue;
        if (kind < 0) {
            fprintf(stderr, "%s: %s: %s:%lu: expected qid<TAB>query\n", prog, cmd, where, lineno);
            *bad = 1;
            continue;
        }
        rc = fn(ctx, qid, text, len, err);
        if (rc == IDX_EUSAGE) {
            /* the parser's "query: " would only repeat the line's own */
            const char *why = strncmp(err->msg, "query: ", 7) ? err->msg : err->msg + 7;
            /* and `idx query` names the query once: "idx: query 3: why" */
            if (!strcmp(cmd, "query"))
                fprintf(stderr, "%s: query %s: %s\n", prog, qid, why);
            else
                fprintf(stderr, "%s: %s: query %s: %s\n", prog, cmd, qid, why);
            err_clear(err);
            *bad = 1;
            rc = 0;
        } else if (rc) {
            err_wrap(err, rc, "query %s", qid);
        }
    }
    if (!rc && ferror(f)) rc = err_errno(err, IDX_EDATA, errno, "%s: reading", where);
    free(line);
    return rc;
}
