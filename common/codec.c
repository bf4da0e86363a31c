#include "common/codec.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

size_t codec_skip_varints(const uint8_t *p, size_t avail, size_t count)
{
    size_t i = 0;
    /* Sixteen, then eight bytes at a time while they hold fewer ends than
     * still wanted, so they are surely consumed; then byte by byte. */
#ifdef __SSE2__
    while (i + 16 <= avail) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        /* Bytes below 0x80 (non-negative as int8) end a varint: 1 each, summed. */
        __m128i one = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(-1)), _mm_set1_epi8(1));
        __m128i sum = _mm_sad_epu8(one, _mm_setzero_si128());
        size_t ends = (size_t)_mm_cvtsi128_si32(sum) + (size_t)_mm_extract_epi16(sum, 4);
        if (ends >= count) break;
        count -= ends;
        i += 16;
    }
#endif
    while (i + 8 <= avail) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        /* Bytes without the continuation bit, summed by one multiply:
         * without -mpopcnt (the baseline x86-64 target) popcount is a
         * library call that cost this loop half its time. */
        uint64_t ends_bits = (~w & 0x8080808080808080ull) >> 7;
        size_t ends = (size_t)((ends_bits * 0x0101010101010101ull) >> 56);
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

int codec_posrd_seek(codec_posrd *r, uint64_t target)
{
    const uint64_t high = 0x8080808080808080ull, ones = 0x0101010101010101ull;
    const uint64_t lanes = 0x00ff00ff00ff00ffull;
    while (!r->started || r->at < target) {
        if (!r->left) return 0;
        /* A run of one-byte gaps, none zero (damage, left to the slow
         * path), wholly below target: summed and passed at once. */
        uint32_t run = 0;
        uint64_t sum = 0;
#ifdef __SSE2__
        if (r->started && r->left >= 16 && r->avail - r->used >= 16) {
            /* Sixteen bytes summed by one psadbw. */
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(r->p + r->used));
            if (!_mm_movemask_epi8(_mm_or_si128(v, _mm_cmpeq_epi8(v, _mm_setzero_si128())))) {
                __m128i sad = _mm_sad_epu8(v, _mm_setzero_si128());
                sum = (uint64_t)_mm_cvtsi128_si32(sad) + (uint64_t)_mm_extract_epi16(sad, 4);
                run = r->at + sum < target ? 16 : 0;
            }
        }
#endif
        /* cppcheck-suppress knownConditionTrueFalse ; run is always 0 here only without SSE2 */
        if (!run && r->started && r->left >= 8 && r->avail - r->used >= 8) {
            /* Eight bytes summed in four 16-bit lanes, added by a multiply. */
            uint64_t w;
            memcpy(&w, r->p + r->used, 8);
            if (!(w & high) && !((w - ones) & ~w & high)) {
                sum = (((w & lanes) + ((w >> 8) & lanes)) * 0x0001000100010001ull) >> 48;
                run = r->at + sum < target ? 8 : 0;
            }
        }
        if (run) {
            r->at += sum;
            r->used += run;
            r->left -= run;
            if (r->at > UINT32_MAX) return -1;
            continue;
        }
        uint32_t v;
        size_t a;
        if (r->used < r->avail && r->p[r->used] < 0x80) {
            v = r->p[r->used];
            a = 1;
        } else if (!(a = codec_get_varint32(r->p + r->used, r->avail - r->used, &v))) {
            return -1;
        }
        if (r->started && v == 0) return -1;
        r->at = r->started ? r->at + v : v;
        r->started = 1;
        r->used += a;
        r->left--;
        if (r->at > UINT32_MAX) return -1;
    }
    return 1;
}
