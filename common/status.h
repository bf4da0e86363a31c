/* status: the error convention every idx module follows.
 *
 * Functions return 0 on success or a negative IDX_E* code, and fill an
 * idx_err the caller owns (usually on its stack). The message is one line a
 * user can act on, without the "idx: " prefix, which only main() adds.
 * Once set, an idx_err keeps its first error: later err_set calls are no-ops,
 * so the root cause reaches the caller intact (SQLite's sticky rc). A caller
 * that knows better what the error means (the callee's bad input is the
 * caller's damaged file) re-codes it and adds context with err_wrap.
 *
 * The invariant every front-end relies on: a function that returns non-zero
 * returns exactly err->code. err_status checks it where statuses become exit
 * codes (assert, active in every build without NDEBUG: tests and debug builds). */
#ifndef IDX_STATUS_H
#define IDX_STATUS_H

#include <stddef.h>

enum {
    IDX_OK = 0,
    IDX_EUSAGE = -2,    /* bad flag, bad query syntax: exit 2 */
    IDX_EDATA = -3,     /* unreadable input, missing/corrupt/wrong-version index: exit 3 */
    IDX_EIO = -4,       /* failed write, disk full, rename: exit 1 */
    IDX_ENOMEM = -5,    /* exit 1 */
    IDX_EINTERNAL = -6, /* a bug or a library failure: exit 1 */
    IDX_EINTR = -7,     /* stopped on request (a signal): the caller picks the exit */
    IDX_EBUSY = -8,     /* another writer holds the index (txn.h): exit 1 */
    IDX_EREMOTE = -9    /* a remote shard is down, refusing or too slow: exit 3, HTTP 503 */
};

typedef struct idx_err {
    int code; /* 0 while no error has been recorded */
    char msg[512];
} idx_err;

/* Records code and a printf-style message unless an error is already held.
 * Returns code, so `return err_set(e, IDX_EDATA, "...")` reads naturally. */
int err_set(idx_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Like err_set, appending ": strerror(errno_value)". */
int err_errno(idx_err *e, int code, int errno_value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Re-codes the held error as `code` and prefixes the message with the
 * printf-formatted context and ": " ("index meta: unknown stemming language
 * 'x'"). With no error held it records code and the context alone. Returns code. */
int err_wrap(idx_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#ifdef __clang_analyzer__
/* The static analyser reads one file at a time and cannot see that these return their code, so
 * it would follow paths where an error is recorded and 0 returned, which no caller can take. */
#define err_set(e, code, ...) (err_set(e, code, __VA_ARGS__), (code))
#define err_errno(e, code, errno_value, ...) (err_errno(e, code, errno_value, __VA_ARGS__), (code))
#define err_wrap(e, code, ...) (err_wrap(e, code, __VA_ARGS__), (code))
#endif

void err_clear(idx_err *e);

/* The process exit status of a call that returned rc and filled err, per
 * docs/CLI.md: 0 ok, 2 usage, 3 data, 1 other. Asserts that a non-zero rc is
 * err->code (see above). */
int err_status(int rc, const idx_err *err);

#endif
