#include "common/status.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int err_vset(idx_err *e, int code, int errno_value, const char *fmt, va_list ap)
{
    if (!e || e->code) return code;
    e->code = code;
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    if (errno_value && n >= 0 && (size_t)n < sizeof e->msg)
        snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %s", strerror(errno_value));
    return code;
}

/* The functions themselves, not status.h's analyser view of them. */
#undef err_set
#undef err_errno
#undef err_wrap

int err_set(idx_err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, 0, fmt, ap);
    va_end(ap);
    return code;
}

int err_errno(idx_err *e, int code, int errno_value, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, errno_value, fmt, ap);
    va_end(ap);
    return code;
}

void err_clear(idx_err *e)
{
    e->code = 0;
    e->msg[0] = '\0';
}

int err_wrap(idx_err *e, int code, const char *fmt, ...)
{
    if (!e) return code;
    char held[sizeof e->msg];
    int had = e->code != 0;
    if (had) memcpy(held, e->msg, sizeof held);
    e->code = 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = code;
    /* ": held", cut to what fits (by hand: snprintf's truncation warning
     * cannot see that cutting is the intent). */
    size_t at = n < 0 ? 0 : (size_t)n, room = at < sizeof e->msg ? sizeof e->msg - at : 0;
    if (had && room > 3) {
        size_t take = strnlen(held, sizeof held);
        if (take > room - 3) take = room - 3;
        memcpy(e->msg + at, ": ", 2);
        memcpy(e->msg + at + 2, held, take);
        e->msg[at + 2 + take] = '\0';
    }
    return code;
}

int err_status(int rc, const idx_err *err)
{
    (void)err; /* read by the assertion only, which NDEBUG builds drop */
    assert(rc == 0 || rc == err->code);
    switch (rc) {
    case IDX_OK:
        return 0;
    case IDX_EUSAGE:
        return 2;
    case IDX_EDATA:
    case IDX_EREMOTE:
        return 3;
    default:
        return 1;
    }
}
