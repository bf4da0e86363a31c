#include "common/buf.h"

#include <stdlib.h>

int buf_reserve(buf *b, size_t extra)
{
    if (b->oom) return -1;
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void buf_free(buf *b)
{
    free(b->p);
    *b = (buf){0};
}
