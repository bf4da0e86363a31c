#include "indexer/bundle.h"

int bundle_positions(const bundle_entry *e, uint32_t *out)
{
    const uint8_t *p = e->pos, *end = e->pos + e->pos_len;
    size_t n = (size_t)e->tf_title + e->tf_body;
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        size_t a = codec_get_varint32(p, (size_t)(end - p), &v);
        if (!a) return -1;
        p += a;
        out[i] = i == 0 || i == e->tf_title ? v : out[i - 1] + v;
    }
    return 0;
}
