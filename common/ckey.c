#include "common/ckey.h"

/* FNV-1a over the bytes, finished with MurmurHash3's fmix64 so that the low
 * bits the searcher's hash table uses depend on every byte. */
#define CKEY_FNV_OFFSET 0xcbf29ce484222325ull
#define CKEY_FNV_PRIME 0x100000001b3ull

static uint64_t ckey_mix(uint64_t h, unsigned char c)
{
    return (h ^ c) * CKEY_FNV_PRIME;
}

static uint64_t ckey_finish(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h == CKEY_NONE ? 1 : h;
}

/* Hashes the normalised form of s[0..n) into *h; returns its length. */
static size_t ckey_norm(uint64_t *h, const char *s, size_t n)
{
    size_t out = 0;
    int gap = 0; /* a separator is pending (emitted only before a word) */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        int word = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!word) {
            gap = out > 0;
            continue;
        }
        if (gap) {
            *h = ckey_mix(*h, ' ');
            out++;
            gap = 0;
        }
        *h = ckey_mix(*h, c);
        out++;
    }
    return out;
}

/* The length of the body's first paragraph: up to the first line holding
 * only spaces, tabs or CR, or the whole body. */
static size_t ckey_first_paragraph(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\n') continue;
        size_t j = i + 1;
        while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r'))
            j++;
        if (j < n && s[j] == '\n') return i;
    }
    return n;
}

uint64_t ckey_exact(const char *title, size_t title_len, const char *body, size_t body_len)
{
    uint64_t h = CKEY_FNV_OFFSET;
    for (size_t i = 0; i < title_len; i++)
        h = ckey_mix(h, (unsigned char)title[i]);
    /* The title's length, so that a title's tail and the body's head cannot trade bytes. */
    for (int i = 0; i < 8; i++)
        h = ckey_mix(h, (unsigned char)((uint64_t)title_len >> (8 * i)));
    for (size_t i = 0; i < body_len; i++)
        h = ckey_mix(h, (unsigned char)body[i]);
    return ckey_finish(h);
}

uint64_t ckey_of(const char *title, size_t title_len, const char *body, size_t body_len)
{
    /* A different start than ckey_exact's, so that the two rules' keys never meet. */
    uint64_t h = ckey_mix(CKEY_FNV_OFFSET, 'L');
    ckey_norm(&h, title, title_len);
    h = ckey_mix(h, 0); /* no normalised byte is 0: ends the title */
    size_t lead = ckey_norm(&h, body, ckey_first_paragraph(body, body_len));
    if (lead < CKEY_MIN_LEAD) return ckey_exact(title, title_len, body, body_len);
    return ckey_finish(h);
}
