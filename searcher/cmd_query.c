/* cmd_query: `idx query`. See cmd_query.h for the contract and docs/OUTPUT.md for the
 * output formats. This is the only searcher file that prints. */
#include "searcher/cmd_query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cmdline.h"
#include "common/index.h"
#include "common/status.h"
#include "searcher/match.h"
#include "searcher/qparse.h"
#include "searcher/render.h"
#include "searcher/search.h"

#define CLI_MAX_K 10000
#define CLI_MAX_OFFSET 1000000

static const char query_help[] =
    "usage: idx query -i INDEX [options] QUERY...\n"
    "       idx query -i INDEX --batch [-k N] [--format trec|json] < queries.tsv\n"
    "Searches an index; QUERY words are joined by spaces (syntax: docs/QUERY.md).\n"
    "  -i, --index INDEX      the index directory\n"
    "  -k N                   hits to show (default 10, at most 10000)\n"
    "  --offset N             skip the first N hits (paging)\n"
    "  --format FMT           text (default), json or trec; --batch: trec (default) or json\n"
    "  --all                  every bare word is required (default: any word may match)\n"
    "  --count                count every match exactly (slower; default may give a lower bound)\n"
    "  --sort ORDER           relevance (default), date (oldest first) or -date (newest\n"
    "                         first); undated articles come last either way\n"
    "  --facets LIST          count every match per category, year, month or author\n"
    "                         (e.g. category,year,author:20; top 10 each by default)\n"
    "  --explain              show how each hit's score adds up\n"
    "  --expand               add the distinctive terms of the top hits to the query\n"
    "                         (pseudo-relevance feedback)\n"
    "  --no-collapse          show every duplicate (default: one hit per story, with\n"
    "                         \"(+N like it)\"; --format trec never collapses)\n"
    "  --k1 X, --b X, --title-weight X   BM25 parameters (default: the index's)\n"
    "  --color WHEN           text highlights in bold: auto (default, when stdout is a\n"
    "                         terminal and NO_COLOR is unset), always, never\n"
    "  --batch                read qid<TAB>query lines from stdin, answer each\n"
    "  --                     the rest are query words, even if they start with '-'\n"
    "Words starting with '-' or '+' are query operators, not flags (-k, -i, -h excepted).\n"
    "Exit: 0 ok (also no hits), 2 usage or bad query (--batch: after answering the\n"
    "others), 3 index missing or damaged, 1 other errors.\n";

typedef struct cmd_query_opts {
    const char *index;
    long long k, offset;
    int format; /* -1 until given */
    int all, count, explain, batch;
    int expand;
    int color; /* -1 auto, 0 never, 1 always */
    int sort;  /* match_sort */
    int no_collapse;
    bm25_params bm25; /* the flags' values, over the defaults */
    int have_k1, have_b, have_tw;
    facets_spec facets;
} cmd_query_opts;

/* Everything reused from one query to the next. */
typedef struct cmd_query_ctx {
    search_ctx s;
    render_format fmt;
    int color;
    buf out;
} cmd_query_ctx;

static int usage(const char *msg)
{
    return cmdline_usage("idx", "query", "%s", msg);
}

static int all_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

enum {
    O_INDEX,
    O_K,
    O_OFFSET,
    O_FORMAT,
    O_ALL,
    O_COUNT,
    O_EXPLAIN,
    O_K1,
    O_B,
    O_TW,
    O_BATCH,
    O_COLOR,
    O_HELP,
    O_SORT,
    O_FACETS,
    O_EXPAND,
    O_NO_COLLAPSE
};

static const struct {
    const char *name;
    int id, has_value;
} long_opts[] = {{"index", O_INDEX, 1},
                 {"offset", O_OFFSET, 1},
                 {"format", O_FORMAT, 1},
                 {"all", O_ALL, 0},
                 {"count", O_COUNT, 0},
                 {"explain", O_EXPLAIN, 0},
                 {"k1", O_K1, 1},
                 {"b", O_B, 1},
                 {"title-weight", O_TW, 1},
                 {"batch", O_BATCH, 0},
                 {"color", O_COLOR, 1},
                 {"help", O_HELP, 0},
                 {"k", O_K, 1},
                 {"sort", O_SORT, 1},
                 {"facets", O_FACETS, 1},
                 {"expand", O_EXPAND, 0},
                 {"no-collapse", O_NO_COLLAPSE, 0}};

/* Applies one option; returns -1 on success, else the exit status. */
static int apply_opt(cmd_query_opts *o, int id, const char *v)
{
    switch (id) {
    case O_INDEX:
        o->index = v;
        break;
    case O_K:
        if ((o->k = cmdline_count(v, 0, CLI_MAX_K)) < 0)
            return usage("-k needs a number from 0 to 10000");
        break;
    case O_OFFSET:
        if ((o->offset = cmdline_count(v, 0, CLI_MAX_OFFSET)) < 0)
            return usage("--offset needs a number from 0 to 1000000");
        break;
    case O_FORMAT:
        if ((o->format = render_format_parse(v)) < 0)
            return usage("--format must be text, json or trec");
        break;
    case O_ALL:
        o->all = 1;
        break;
    case O_COUNT:
        o->count = 1;
        break;
    case O_EXPLAIN:
        o->explain = 1;
        break;
    case O_K1:
    case O_B:
    case O_TW: {
        idx_err err = {0};
        if (cmdline_bm25(&o->bm25, id == O_K1 ? "k1" : id == O_B ? "b" : "title-weight", v, &err))
            return usage(err.msg);
        *(id == O_K1 ? &o->have_k1 : id == O_B ? &o->have_b : &o->have_tw) = 1;
        break;
    }
    case O_BATCH:
        o->batch = 1;
        break;
    case O_COLOR:
        if (!strcmp(v, "auto"))
            o->color = -1;
        else if (!strcmp(v, "always"))
            o->color = 1;
        else if (!strcmp(v, "never"))
            o->color = 0;
        else
            return usage("--color must be auto, always or never");
        break;
    case O_HELP:
        fputs(query_help, stdout);
        return 0;
    case O_EXPAND:
        o->expand = 1;
        break;
    case O_SORT:
        if ((o->sort = match_sort_parse(v)) < 0)
            return usage("--sort must be relevance, date or -date");
        break;
    case O_FACETS: {
        idx_err err = {0};
        if (facets_parse(v, strlen(v), &o->facets, &err)) return usage(err.msg);
        break;
    }
    case O_NO_COLLAPSE:
        o->no_collapse = 1;
        break;
    }
    return -1;
}

/* Flags anywhere; every other argument is a query word. A hand-written loop
 * rather than getopt_long because the query language uses '-word' for
 * exclusion: getopt would take `-dogs` for the flags -d -o -g -s. Returns -1
 * to go on, else the exit status. */
static int parse_args(int argc, char **argv, cmd_query_opts *o, buf *q)
{
    int words_only = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int id = -1;
        const char *v = NULL;
        if (words_only || a[0] != '-' || a[1] == '\0') {
            if (q->len) buf_put_u8(q, ' ');
            buf_put(q, a, strlen(a));
            continue;
        }
        if (!strcmp(a, "--")) {
            words_only = 1;
            continue;
        }
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t nl = eq ? (size_t)(eq - name) : strlen(name);
            int has_value = 0;
            for (size_t k = 0; k < sizeof long_opts / sizeof long_opts[0]; k++)
                if (strlen(long_opts[k].name) == nl && !memcmp(long_opts[k].name, name, nl)) {
                    id = long_opts[k].id;
                    has_value = long_opts[k].has_value;
                }
            if (id < 0) {
                fprintf(stderr, "idx: query: unknown option '%s' (see idx query --help)\n", a);
                return 2;
            }
            if (eq && !has_value) {
                fprintf(stderr, "idx: query: option '--%.*s' takes no value\n", (int)nl, name);
                return 2;
            }
            if (has_value) {
                if (eq) {
                    v = eq + 1;
                } else if (i + 1 < argc) {
                    v = argv[++i];
                } else {
                    fprintf(stderr, "idx: query: option '%s' needs a value\n", a);
                    return 2;
                }
            }
        } else if (!strcmp(a, "-h")) {
            id = O_HELP;
        } else if (!strcmp(a, "-i") || !strcmp(a, "-k")) {
            id = a[1] == 'i' ? O_INDEX : O_K;
            if (i + 1 >= argc) {
                fprintf(stderr, "idx: query: option '%s' needs a value\n", a);
                return 2;
            }
            v = argv[++i];
        } else if (a[1] == 'k' && all_digits(a + 2)) {
            id = O_K;
            v = a + 2;
        } else {
            /* -word: an excluded query word */
            if (q->len) buf_put_u8(q, ' ');
            buf_put(q, a, strlen(a));
            continue;
        }
        int r = apply_opt(o, id, v);
        if (r >= 0) return r;
    }
    return -1;
}

/* Writes c->out to stdout: 0, or -1 with errno set. */
static int write_out(cmd_query_ctx *c)
{
    if (c->out.len && fwrite(c->out.p, 1, c->out.len, stdout) != c->out.len) return -1;
    c->out.len = 0;
    return 0;
}

/* A --batch query, written out at once (a client may wait for each answer);
 * a bad query (IDX_EUSAGE) is answered with its error in the output format.
 * Any other error is fatal for the run. */
static int answer(void *ctx, const char *qid, const char *text, size_t len, idx_err *err)
{
    cmd_query_ctx *c = ctx;
    int rc = search_render(&c->s, c->fmt, qid, text, len, c->color, &c->out, err);
    if (rc == IDX_EUSAGE)
        render_error(&c->out, c->fmt, qid, text, len, err->msg);
    else if (rc)
        return rc;
    if (write_out(c)) {
        err_clear(err); /* a failed write outranks the bad query */
        return err_errno(err, IDX_EIO, errno, "writing results");
    }
    return rc;
}

int cmd_query(int argc, char **argv)
{
    cmd_query_opts o = {.k = 10, .format = -1, .color = -1, .bm25 = bm25_default()};
    buf qtext = {0};
    int r = parse_args(argc, argv, &o, &qtext);
    if (r >= 0 || qtext.oom) {
        buf_free(&qtext);
        return r >= 0 ? r : 1;
    }
    int status = -1;
    if (!o.index)
        status = usage("missing -i INDEX");
    else if (o.batch && qtext.len)
        status = usage("--batch reads queries from stdin; give no QUERY words");
    else if (!o.batch && !qtext.len)
        status = usage("no QUERY given");
    else if (o.batch && o.format == RENDER_TEXT)
        status = usage("--batch writes --format trec or json");
    else if (o.explain && o.format == RENDER_TREC)
        status = usage("--explain needs --format text or json");
    else if (facets_any(&o.facets) && (o.format == RENDER_TREC || (o.format < 0 && o.batch)))
        status = usage("--facets needs --format text or json");
    if (status >= 0) {
        buf_free(&qtext);
        return status;
    }

    cmd_query_ctx c;
    memset(&c, 0, sizeof c);
    c.fmt = o.format >= 0 ? (render_format)o.format : o.batch ? RENDER_TREC : RENDER_TEXT;
    if (o.color < 0) {
        const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
        c.color = isatty(STDOUT_FILENO) && !(nc && *nc) && !(term && !strcmp(term, "dumb"));
    } else {
        c.color = o.color;
    }
    idx_err err = {0};
    idx_index *ix = NULL;
    int rc = index_open(o.index, &ix, &err);
    if (!rc) rc = search_init(&c.s, ix, c.fmt == RENDER_TREC, &err);
    if (!rc) {
        c.s.qo.all_required = o.all;
        c.s.explain = o.explain;
        c.s.eo.k = (uint32_t)o.k;
        c.s.eo.offset = (uint32_t)o.offset;
        c.s.eo.exhaustive = o.count;
        c.s.eo.sort = (match_sort)o.sort;
        c.s.facets = o.facets;
        /* trec runs are judged per document, duplicates included */
        c.s.eo.collapse = !o.no_collapse && c.fmt != RENDER_TREC;
        c.s.suggest = c.fmt != RENDER_TREC;
        c.s.expand = o.expand;
        if (o.have_k1) c.s.eo.bm25.k1 = o.bm25.k1;
        if (o.have_b) c.s.eo.bm25.b = o.bm25.b;
        if (o.have_tw) c.s.eo.bm25.title_weight = o.bm25.title_weight;
        int bad = 0;
        if (o.batch)
            rc = cmdline_queries(stdin, "stdin", "idx", "query", answer, &c, &bad, &err);
        else if (!(rc = search_render(&c.s, c.fmt, NULL, (const char *)qtext.p, qtext.len, c.color,
                                      &c.out, &err)) &&
                 write_out(&c))
            rc = err_errno(&err, IDX_EIO, errno, "writing results");
        status = rc ? cmdline_fail("idx", NULL, rc, &err) : bad ? 2 : 0;
    } else {
        status = cmdline_fail("idx", NULL, rc, &err);
    }
    if (fflush(stdout) && !status) {
        fprintf(stderr, "idx: query: writing results: %s\n", strerror(errno));
        status = 1;
    }
    search_fini(&c.s);
    buf_free(&c.out);
    if (ix) index_close(ix);
    buf_free(&qtext);
    return status;
}
