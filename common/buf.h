/* buf: a growable byte buffer, the building block of every encoder.
 *
 * The buffer owns its bytes; buf_free releases them. Appends never fail
 * silently: on allocation failure the buffer becomes sticky-failed (oom = 1),
 * later appends are no-ops, and the caller checks buf.oom once at the end
 * instead of after every call. */
#ifndef IDX_BUF_H
#define IDX_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
} buf;

/* Makes room for `extra` more bytes; returns 0 or -1 (and sets oom). */
int buf_reserve(buf *b, size_t extra);
void buf_free(buf *b);

/* Grows the array *pp (the address of any T *, a T * from malloc or NULL)
 * of *cap elements of elem bytes to hold at least `need`, doubling from 16,
 * so appending one at a time costs amortised O(1). On failure (allocation,
 * or need * elem past SIZE_MAX) returns -1 and leaves *pp and *cap valid and
 * unchanged; else 0. The one growth helper for typed arrays (bytes: buf). */
int buf_grow(void *pp, size_t *cap, size_t need, size_t elem);

/* Appends a NUL-terminated string (without the NUL). */
void buf_puts(buf *b, const char *s);
/* Appends printf-formatted text, whatever its length. */
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void buf_put(buf *b, const void *src, size_t n)
{
    if (b->len + n > b->cap && buf_reserve(b, n)) return;
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
}

static inline void buf_put_u8(buf *b, uint8_t v)
{
    buf_put(b, &v, 1);
}

/* Little-endian fixed-width integers, the byte order of every idx file. */
static inline void buf_put_u32(buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    buf_put(b, x, 4);
}

static inline void buf_put_u64(buf *b, uint64_t v)
{
    buf_put_u32(b, (uint32_t)v);
    buf_put_u32(b, (uint32_t)(v >> 32));
}

static inline uint32_t rd_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t rd_u64(const uint8_t *p)
{
    return (uint64_t)rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32;
}

#endif
