#include "common/status.h"

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

int err_exit_status(int code)
{
    switch (code) {
    case IDX_OK:
        return 0;
    case IDX_EUSAGE:
        return 2;
    case IDX_EDATA:
        return 3;
    default:
        return 1;
    }
}
