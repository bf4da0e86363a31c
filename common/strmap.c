/* strmap: open addressing with linear probing over 16-byte slots.
 *
 * A slot holds the full 64-bit hash, a 32-bit reference to the key in the
 * arena and the value. Comparing full hashes first means a probe almost never
 * touches key memory unless the key is really there; a 16-byte slot keeps four
 * slots per cache line. Hash 0 marks an empty slot (a real 0 is remapped).
 *
 * Keys live in arena chunks, each stored as a LEB128 length then the bytes.
 * A reference is (chunk index << SM_OFF_BITS | offset). Chunks start small so
 * that the many small maps stay small, and double up to SM_CHUNK_MAX. */
#include "common/strmap.h"

#include <stdlib.h>
#include <string.h>

#define SM_OFF_BITS 20
#define SM_CHUNK_MAX ((size_t)1 << SM_OFF_BITS)
#define SM_MAX_CHUNKS ((size_t)1 << (32 - SM_OFF_BITS))
#define SM_CHUNK_MIN ((size_t)4096)
#define SM_MIN_SLOTS ((size_t)16)

typedef struct sm_slot {
    uint64_t hash;
    uint32_t ref;
    uint32_t value;
} sm_slot;

struct strmap {
    sm_slot *slots;
    size_t mask; /* slots - 1; slot count is a power of two */
    size_t count;
    size_t grow_at; /* count that triggers doubling: 0.7 load */
    char **chunks;
    size_t nchunks, chunks_cap;
    size_t cur;                /* chunk receiving small keys; == nchunks when none */
    size_t cur_used, cur_size; /* fill and capacity of chunks[cur] */
    size_t next_size;          /* capacity of the next small-key chunk */
    size_t arena_bytes;
};

/* ---- hash: wyhash-style multiply-fold, written for short keys ---- */

#define SM_P0 0xa0761d6478bd642fULL
#define SM_P1 0xe7037ed1a0b428dbULL
#define SM_P2 0x8ebc6af09c88c6e3ULL
#define SM_P3 0x589965cc75374cc3ULL
#define SM_SEED 0x2d358dccaa6c78a5ULL

static inline void sm_mum(uint64_t *a, uint64_t *b)
{
#ifdef __SIZEOF_INT128__
    __uint128_t r = (__uint128_t)*a * *b;
    *a = (uint64_t)r;
    *b = (uint64_t)(r >> 64);
#else
    uint64_t ha = *a >> 32, hb = *b >> 32, la = (uint32_t)*a, lb = (uint32_t)*b;
    uint64_t rh = ha * hb, rm0 = ha * lb, rm1 = hb * la, rl = la * lb;
    uint64_t t = rl + (rm0 << 32), c = t < rl;
    uint64_t lo = t + (rm1 << 32);
    c += lo < t;
    *a = lo;
    *b = rh + (rm0 >> 32) + (rm1 >> 32) + c;
#endif
}

static inline uint64_t sm_mix(uint64_t a, uint64_t b)
{
    sm_mum(&a, &b);
    return a ^ b;
}

/* Native-endian loads: the hash is for in-process tables, never persisted. */
static inline uint64_t sm_r8(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t sm_r4(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

uint64_t strmap_hash(const char *key, size_t len)
{
    const uint8_t *p = (const uint8_t *)key;
    uint64_t seed = SM_SEED, a, b;
    if (len <= 16) {
        if (len >= 4) {
            /* Two overlapping 4-byte reads from each end cover 4..16 bytes. */
            size_t d = (len >> 3) << 2;
            a = (sm_r4(p) << 32) | sm_r4(p + d);
            b = (sm_r4(p + len - 4) << 32) | sm_r4(p + len - 4 - d);
        } else if (len > 0) {
            a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = len;
        if (i > 48) {
            uint64_t s1 = seed, s2 = seed;
            do {
                seed = sm_mix(sm_r8(p) ^ SM_P1, sm_r8(p + 8) ^ seed);
                s1 = sm_mix(sm_r8(p + 16) ^ SM_P2, sm_r8(p + 24) ^ s1);
                s2 = sm_mix(sm_r8(p + 32) ^ SM_P3, sm_r8(p + 40) ^ s2);
                p += 48;
                i -= 48;
            } while (i > 48);
            seed ^= s1 ^ s2;
        }
        while (i > 16) {
            seed = sm_mix(sm_r8(p) ^ SM_P1, sm_r8(p + 8) ^ seed);
            p += 16;
            i -= 16;
        }
        /* The last 16 bytes, overlapping already-hashed ones: len > 16 keeps
         * the read inside the key. */
        a = sm_r8(p + i - 16);
        b = sm_r8(p + i - 8);
    }
    a ^= SM_P1;
    b ^= seed;
    sm_mum(&a, &b);
    return sm_mix(a ^ SM_P0 ^ len, b ^ SM_P1);
}

/* ---- arena ---- */

static inline const uint8_t *sm_key(const strmap *m, uint32_t ref, size_t *len)
{
    const uint8_t *p = (const uint8_t *)m->chunks[ref >> SM_OFF_BITS] + (ref & (SM_CHUNK_MAX - 1));
    size_t n = *p & 0x7f;
    if (*p++ & 0x80) {
        unsigned shift = 7;
        do {
            n |= (size_t)(*p & 0x7f) << shift;
            shift += 7;
        } while (*p++ & 0x80);
    }
    *len = n;
    return p;
}

static int sm_add_chunk(strmap *m, size_t size)
{
    if (m->nchunks == SM_MAX_CHUNKS) return -1;
    if (m->nchunks == m->chunks_cap) {
        size_t cap = m->chunks_cap ? m->chunks_cap * 2 : 8;
        char **c = realloc(m->chunks, cap * sizeof *c);
        if (!c) return -1;
        m->chunks = c;
        m->chunks_cap = cap;
    }
    char *chunk = malloc(size);
    if (!chunk) return -1;
    m->chunks[m->nchunks++] = chunk;
    m->arena_bytes += size;
    return 0;
}

/* Copies the key into the arena; returns 0 and its reference, or -1. */
static int sm_store(strmap *m, const char *key, size_t len, uint32_t *ref)
{
    uint8_t hdr[10];
    size_t h = 0, n = len;
    do {
        hdr[h] = (uint8_t)(n & 0x7f);
        n >>= 7;
        if (n) hdr[h] |= 0x80;
        h++;
    } while (n);
    size_t need = h + len;
    if (need < len) return -1;
    char *dst;
    if (need > SM_CHUNK_MAX / 4) {
        /* A big key gets a chunk of its own, so it neither wastes the tail of
         * the current chunk nor needs an offset beyond SM_OFF_BITS. */
        if (sm_add_chunk(m, need) < 0) return -1;
        dst = m->chunks[m->nchunks - 1];
        *ref = (uint32_t)((m->nchunks - 1) << SM_OFF_BITS);
    } else {
        if (m->cur == m->nchunks || m->cur_size - m->cur_used < need) {
            size_t size = m->next_size;
            if (sm_add_chunk(m, size) < 0) return -1;
            m->cur = m->nchunks - 1;
            m->cur_used = 0;
            m->cur_size = size;
            if (m->next_size < SM_CHUNK_MAX) m->next_size *= 2;
        }
        dst = m->chunks[m->cur] + m->cur_used;
        *ref = (uint32_t)((m->cur << SM_OFF_BITS) | m->cur_used);
        m->cur_used += need;
    }
    memcpy(dst, hdr, h);
    if (len) memcpy(dst + h, key, len);
    return 0;
}

/* ---- table ---- */

static int sm_alloc_slots(strmap *m, size_t nslots)
{
    sm_slot *s = calloc(nslots, sizeof *s);
    if (!s) return -1;
    m->slots = s;
    m->mask = nslots - 1;
    m->grow_at = nslots / 10 * 7 + (nslots % 10) * 7 / 10;
    return 0;
}

strmap *strmap_new(size_t initial_capacity)
{
    strmap *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    size_t nslots = SM_MIN_SLOTS;
    while (nslots / 10 * 7 < initial_capacity && nslots < ((size_t)1 << 40))
        nslots *= 2;
    if (sm_alloc_slots(m, nslots) < 0) {
        free(m);
        return NULL;
    }
    m->next_size = SM_CHUNK_MIN;
    return m;
}

void strmap_free(strmap *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->nchunks; i++)
        free(m->chunks[i]);
    free(m->chunks);
    free(m->slots);
    free(m);
}

void strmap_clear(strmap *m)
{
    memset(m->slots, 0, (m->mask + 1) * sizeof *m->slots);
    m->count = 0;
    /* Keep the current small-key chunk: a cleared cache refills at once. */
    char *keep = NULL;
    if (m->cur < m->nchunks) {
        keep = m->chunks[m->cur];
        m->chunks[m->cur] = NULL;
    }
    for (size_t i = 0; i < m->nchunks; i++)
        free(m->chunks[i]);
    m->nchunks = 0;
    m->cur = 0;
    m->cur_used = 0;
    m->arena_bytes = 0;
    if (keep) {
        m->chunks[0] = keep;
        m->nchunks = 1;
        m->arena_bytes = m->cur_size;
    }
}

static int sm_grow(strmap *m)
{
    size_t old_n = m->mask + 1;
    sm_slot *old = m->slots;
    if (sm_alloc_slots(m, old_n * 2) < 0) {
        m->slots = old;
        m->mask = old_n - 1;
        return -1;
    }
    /* Stored hashes make rehashing a pass over the table, with no key reads. */
    for (size_t i = 0; i < old_n; i++) {
        if (!old[i].hash) continue;
        size_t j = old[i].hash & m->mask;
        while (m->slots[j].hash)
            j = (j + 1) & m->mask;
        m->slots[j] = old[i];
    }
    free(old);
    return 0;
}

/* Hash 0 marks empty slots. */
static inline uint64_t sm_slot_hash(const char *key, size_t len)
{
    uint64_t h = strmap_hash(key, len);
    return h + (h == 0);
}

static inline int sm_key_eq(const strmap *m, uint32_t ref, const char *key, size_t len)
{
    size_t klen;
    const uint8_t *k = sm_key(m, ref, &klen);
    return klen == len && (len == 0 || memcmp(k, key, len) == 0);
}

uint32_t *strmap_get(const strmap *m, const char *key, size_t len)
{
    uint64_t h = sm_slot_hash(key, len);
    size_t i = h & m->mask;
    for (;;) {
        sm_slot *s = &m->slots[i];
        if (s->hash == h) {
            if (sm_key_eq(m, s->ref, key, len)) return &s->value;
        } else if (s->hash == 0) {
            return NULL;
        }
        i = (i + 1) & m->mask;
    }
}

uint32_t *strmap_put(strmap *m, const char *key, size_t len, uint32_t init, int *inserted)
{
    return strmap_put_hashed(m, strmap_hash(key, len), key, len, init, inserted);
}

uint32_t *strmap_put_hashed(strmap *m, uint64_t hash, const char *key, size_t len, uint32_t init,
                            int *inserted)
{
    uint64_t h = hash + (hash == 0);
    size_t i = h & m->mask;
    if (inserted) *inserted = 0;
    for (;;) {
        sm_slot *s = &m->slots[i];
        if (s->hash == h) {
            if (sm_key_eq(m, s->ref, key, len)) return &s->value;
        } else if (s->hash == 0) {
            break;
        }
        i = (i + 1) & m->mask;
    }
    uint32_t ref;
    if (sm_store(m, key, len, &ref) < 0) return NULL;
    if (m->count + 1 > m->grow_at) {
        /* On failure the key stays in the arena unreferenced: harmless. */
        if (sm_grow(m) < 0) return NULL;
        i = h & m->mask;
        while (m->slots[i].hash)
            i = (i + 1) & m->mask;
    }
    sm_slot *s = &m->slots[i];
    s->hash = h;
    s->ref = ref;
    s->value = init;
    m->count++;
    if (inserted) *inserted = 1;
    return &s->value;
}

size_t strmap_count(const strmap *m)
{
    return m->count;
}

size_t strmap_bytes(const strmap *m)
{
    return sizeof *m + (m->mask + 1) * sizeof(sm_slot) + m->chunks_cap * sizeof(char *) +
           m->arena_bytes;
}

int strmap_next(const strmap *m, size_t *cursor, const char **key, size_t *len, uint32_t *value)
{
    for (size_t i = *cursor; i <= m->mask; i++) {
        const sm_slot *s = &m->slots[i];
        if (!s->hash) continue;
        *key = (const char *)sm_key(m, s->ref, len);
        *value = s->value;
        *cursor = i + 1;
        return 1;
    }
    *cursor = m->mask + 1;
    return 0;
}
