/*
 * hash.c - hash functions and an open-addressing hash table.
 *
 * What it stresses: 32-bit multiply/rotate/xor chains (FNV-1a over bytes,
 * a Murmur3-style block hash over 32-bit words), plus the random-access
 * loads, stores and compare loops of a linear-probing table: insert, look
 * up hits and misses.
 */
#include "common.h"

#define BUF_LEN 16384
#define TABLE_BITS 14
#define TABLE_SIZE (1u << TABLE_BITS)

static uint8_t buf[BUF_LEN];
static uint32_t keys[TABLE_SIZE];
static uint32_t vals[TABLE_SIZE];

static NOINLINE uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static inline uint32_t rotl32(uint32_t x, int r) { return x << r | x >> (32 - r); }

static NOINLINE uint32_t murmur_words(const uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t h = seed;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        uint32_t k;
        memcpy(&k, p + i, 4);
        k *= 0xcc9e2d51u;
        k = rotl32(k, 15);
        k *= 0x1b873593u;
        h ^= k;
        h = rotl32(h, 13) * 5u + 0xe6546b64u;
    }
    h ^= (uint32_t)n;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    return h ^ (h >> 16);
}

static inline uint32_t slot_of(uint32_t key)
{
    return (key * 2654435769u) >> (32 - TABLE_BITS);
}

/* Key 0 marks an empty slot, so keys are never 0. */
static NOINLINE void table_put(uint32_t key, uint32_t val)
{
    uint32_t i = slot_of(key);
    while (keys[i] != 0 && keys[i] != key)
        i = (i + 1) & (TABLE_SIZE - 1);
    keys[i] = key;
    vals[i] += val;
}

static NOINLINE uint32_t table_get(uint32_t key)
{
    uint32_t i = slot_of(key);
    while (keys[i] != 0) {
        if (keys[i] == key)
            return vals[i];
        i = (i + 1) & (TABLE_SIZE - 1);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int scale = bench_scale(argc, argv, 40);
    uint64_t h = 0;
    for (int r = 0; r < scale; r++) {
        uint32_t s = (uint32_t)r + 1;
        for (int i = 0; i < BUF_LEN; i++) {
            s ^= s << 13, s ^= s >> 17, s ^= s << 5;
            buf[i] = (uint8_t)s;
        }
        for (int k = 0; k < 12; k++) {
            h = bench_mix(h, fnv1a(buf + k, BUF_LEN - 16));
            h = bench_mix(h, murmur_words(buf + k, BUF_LEN - 16, (uint32_t)k));
        }
        memset(keys, 0, sizeof keys);
        memset(vals, 0, sizeof vals);
        /* Fill to 75 %: probe chains get long enough to matter. */
        for (uint32_t i = 1; i <= TABLE_SIZE / 4 * 3; i++)
            table_put(murmur_words((const uint8_t *)&i, 4, (uint32_t)r) | 1u, i);
        uint64_t found = 0;
        for (uint32_t i = 1; i <= TABLE_SIZE * 2; i++)
            found += table_get(murmur_words((const uint8_t *)&i, 4, (uint32_t)r) | 1u);
        h = bench_mix(h, found);
    }
    bench_report("hash", h);
    return 0;
}
