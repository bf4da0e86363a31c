/* cmdline: what every front-end (idx's subcommands, idx-fcgi) does the same
 * way with its arguments and its errors: number flags, BM25 flags, usage
 * errors, and the one mapping of a status to an exit code.
 *
 * Front-end code only: unlike the rest of common/, these functions print
 * their `PROG: CMD: why` lines to stderr. Library code reports through
 * idx_err and never calls them. */
#ifndef IDX_CMDLINE_H
#define IDX_CMDLINE_H

#include <stddef.h>
#include <stdio.h>

#include "common/bm25.h"
#include "common/status.h"

/* Prints "PROG: [CMD: ]why" for err and returns the exit status of rc
 * (err_status: 0 ok, 2 usage, 3 data, 1 other). cmd may be NULL. */
int cmdline_fail(const char *prog, const char *cmd, int rc, const idx_err *err);

/* Prints "PROG: [CMD: ]why (see PROG [CMD] --help)" and returns 2. */
int cmdline_usage(const char *prog, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The usage error for what getopt_long rejected (run with opterr = 0, whose
 * own messages would not follow the format above): names argv[optind - 1]. */
int cmdline_bad_option(const char *prog, const char *cmd, int argc, char **argv);

/* A whole decimal number in [lo, hi] (digits only: no sign, no spaces), or
 * -1 when s is not one. */
long long cmdline_count(const char *s, long long lo, long long hi);

/* Sets the parameter of p named by a BM25 flag ("k1", "b" or "title-weight",
 * without the dashes) from its value, then checks p as a whole with
 * bm25_params_check. 0, or IDX_EUSAGE with err saying why. */
int cmdline_bm25(bm25_params *p, const char *flag, const char *val, idx_err *err);

/* Answers one query of a `qid<TAB>query` file: 0; IDX_EUSAGE for a bad
 * query (err says why), after which the other queries are still answered;
 * any other error stops the file. */
typedef int (*cmdline_query_fn)(void *ctx, const char *qid, const char *text, size_t len,
                                idx_err *err);

/* The `qid<TAB>query` loop of idx query --batch and idx eval -i: answers
 * every line of f (named `where` in messages; CR/LF stripped, blank lines
 * skipped) with fn. A line without a tab or with an empty qid is reported as
 * "PROG: CMD: WHERE:N: expected qid<TAB>query", a bad query as
 * "PROG: CMD: query QID: why" ("PROG: query QID: why" when CMD is query);
 * either sets *bad and the loop goes on.
 * fn gets err itself, clear (a bad query's error is cleared after its report).
 * Returns 0, or the error that stopped it (fn's, prefixed "query QID", or
 * reading f: IDX_EDATA, unreadable input). */
int cmdline_queries(FILE *f, const char *where, const char *prog, const char *cmd,
                    cmdline_query_fn fn, void *ctx, int *bad, idx_err *err);

#endif
