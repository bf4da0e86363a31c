#include "common/codec.h"

#include <string.h>

size_t codec_skip_varints(const uint8_t *p, size_t avail, size_t count)
{
    size_t i = 0;
    /* Eight bytes at a time while the word holds fewer ends than still
     * wanted, so the whole word is surely consumed; then byte by byte. */
    while (i + 8 <= avail) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        size_t ends = (size_t)__builtin_popcountll(~w & 0x8080808080808080ull);
        if (ends >= count) break;
        count -= ends;
        i += 8;
    }
    while (count) {
        if (i >= avail) return 0;
        /* A varint ends at the first byte without the continuation bit. */
        if (!(p[i++] & 0x80)) count--;
    }
    return i;
}

static unsigned codec_width(uint32_t v)
{
    return v ? 32u - (unsigned)__builtin_clz(v) : 0;
}

void codec_pack(buf *b, const uint32_t *v, size_t n)
{
    uint32_t all = 0;
    for (size_t i = 0; i < n; i++)
        all |= v[i];
    unsigned w = codec_width(all);
    size_t size = codec_packed_size(n, w);
    if (buf_reserve(b, size)) return;
    uint8_t *out = b->p + b->len;
    out[0] = (uint8_t)w;
    size_t o = 1;
    uint64_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < n && w; i++) {
        acc |= (uint64_t)v[i] << bits;
        bits += w;
        while (bits >= 8) {
            out[o++] = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
    if (bits) out[o++] = (uint8_t)acc;
    b->len += size;
}

size_t codec_unpack(const uint8_t *p, size_t avail, size_t n, uint32_t *out)
{
    if (avail < 1 || p[0] > 32) return 0;
    unsigned w = p[0];
    size_t size = codec_packed_size(n, w);
    if (size > avail) return 0;
    if (w == 0) {
        for (size_t i = 0; i < n; i++)
            out[i] = 0;
        return size;
    }
    const uint8_t *in = p + 1;
    uint64_t mask = (w == 32) ? 0xffffffffu : ((1u << w) - 1);
    if (w <= 25 && size + 8 <= avail) {
        /* Every value lies within one unaligned 8-byte load (shift <= 7 bits
         * plus at most 25 value bits); the bytes past the block that the
         * last loads touch are inside avail and masked away. */
        for (size_t i = 0; i < n; i++) {
            size_t bit = i * w;
            uint64_t word;
            memcpy(&word, in + (bit >> 3), 8);
            out[i] = (uint32_t)((word >> (bit & 7)) & mask);
        }
        return size;
    }
    uint64_t acc = 0;
    unsigned bits = 0;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        while (bits < w) {
            acc |= (uint64_t)in[j++] << bits;
            bits += 8;
        }
        out[i] = (uint32_t)(acc & mask);
        acc >>= w;
        bits -= w;
    }
    return size;
}
