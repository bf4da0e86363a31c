/* status: the error convention every idx module follows.
 *
 * Functions return 0 on success or a negative IDX_E* code, and fill an
 * idx_err the caller owns (usually on its stack). The message is one line a
 * user can act on, without the "idx: " prefix, which only main() adds.
 * Once set, an idx_err keeps its first error: later err_set calls are no-ops,
 * so the root cause reaches the caller intact (SQLite's sticky rc). */
#ifndef IDX_STATUS_H
#define IDX_STATUS_H

#include <stddef.h>

enum {
    IDX_OK = 0,
    IDX_EUSAGE = -2,   /* bad flag, bad query syntax: exit 2 */
    IDX_EDATA = -3,    /* unreadable input, missing/corrupt/wrong-version index: exit 3 */
    IDX_EIO = -4,      /* failed write, disk full, rename: exit 1 */
    IDX_ENOMEM = -5,   /* exit 1 */
    IDX_EINTERNAL = -6, /* a bug or a library failure: exit 1 */
    IDX_EINTR = -7      /* stopped on request (a signal): the caller picks the exit */
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

#ifdef __clang_analyzer__
/* The static analyser reads one file at a time and cannot see that these return their code, so
 * it would follow paths where an error is recorded and 0 returned, which no caller can take. */
#define err_set(e, code, ...) (err_set(e, code, __VA_ARGS__), (code))
#define err_errno(e, code, errno_value, ...) (err_errno(e, code, errno_value, __VA_ARGS__), (code))
#endif

void err_clear(idx_err *e);

/* Process exit status for a code, per DESIGN.md: 0, 2 usage, 3 data, 1 other. */
int err_exit_status(int code);

#endif
