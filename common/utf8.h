/* utf8: the one strict UTF-8 decoder of idx (the analyzer, the input reader's
 * repair, the renderers' escaping, the web responder's check of a query).
 *
 * Strict per the Unicode standard's well-formed table (3-7): no overlong
 * forms, no surrogates, nothing past U+10FFFF. An ill-formed sequence is
 * reported with the length of its maximal ill-formed subpart (at least one
 * byte), the Unicode "best practice" for U+FFFD substitution (also WHATWG's):
 * one truncated character becomes one U+FFFD and the byte after it is decoded
 * afresh, so every user of this header repairs text the same way.
 *
 * Header only: the analyzer's and the reader's per-byte loops inline it. */
#ifndef IDX_UTF8_H
#define IDX_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define UTF8_BAD (-1) /* ill-formed */
#define UTF8_CUT (-2) /* a well-formed prefix cut short by the end of the bytes */

/* Decodes the sequence at p[0..avail) (avail >= 1): the codepoint, with *n its
 * length; or UTF8_BAD / UTF8_CUT with *n the bytes to replace by one U+FFFD. */
static inline int32_t utf8_decode(const uint8_t *p, size_t avail, size_t *n)
{
    uint8_t b0 = p[0];
    if (b0 < 0x80) {
        *n = 1;
        return b0;
    }
    if (b0 < 0xC2 || b0 > 0xF4) { /* stray continuation, C0/C1 (overlong), F5..FF */
        *n = 1;
        return UTF8_BAD;
    }
    size_t need = b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
    /* The second byte's range excludes overlongs (E0, F0), surrogates (ED)
     * and values past U+10FFFF (F4). */
    uint8_t lo = 0x80, hi = 0xBF;
    if (b0 == 0xE0)
        lo = 0xA0;
    else if (b0 == 0xED)
        hi = 0x9F;
    else if (b0 == 0xF0)
        lo = 0x90;
    else if (b0 == 0xF4)
        hi = 0x8F;
    int32_t cp = b0 & (0x7F >> need);
    for (size_t k = 1; k < need; k++) {
        if (k >= avail) {
            *n = k;
            return UTF8_CUT;
        }
        uint8_t x = p[k];
        if (x < lo || x > hi) {
            *n = k;
            return UTF8_BAD;
        }
        lo = 0x80, hi = 0xBF;
        cp = cp << 6 | (x & 0x3F);
    }
    *n = need;
    return cp;
}

/* Length of the longest well-formed prefix of p[0..n). *cut is set when what
 * ends it is a well-formed sequence cut short by n (more bytes may complete it). */
static inline size_t utf8_valid_prefix(const uint8_t *p, size_t n, int *cut)
{
    size_t i = 0;
    *cut = 0;
    while (i < n) {
        if (n - i >= 8) { /* ASCII runs, 8 bytes at a time */
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        size_t len;
        int32_t cp = utf8_decode(p + i, n - i, &len);
        if (cp < 0) {
            *cut = cp == UTF8_CUT;
            return i;
        }
        i += len;
    }
    return i;
}

/* Whether all of p[0..n) is well-formed UTF-8. */
static inline int utf8_valid(const uint8_t *p, size_t n)
{
    int cut;
    return utf8_valid_prefix(p, n, &cut) == n;
}

#endif
