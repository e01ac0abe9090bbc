/*
 * bulk.c - bulk memory: memcpy, memmove and memset of many sizes.
 *
 * What it stresses: whatever the module uses for bulk copies.  Built
 * plainly, memcpy and memset are wasi-libc's wasm loops (word-at-a-time
 * loads and stores); built with -mbulk-memory (bulk.bulk.wasm), clang emits
 * `memory.copy` and `memory.fill`, which an engine runs as one host memmove
 * or memset.  Comparing interp_bulk with interp_bulk_bulk shows that gap.
 * Between copies, a light byte-wise pass keeps the data live and checked.
 */
#include "common.h"

#define BUF_LEN (256 * 1024)

static uint8_t src[BUF_LEN], dst[BUF_LEN];

/* A copy of `len` bytes through a pointer the compiler cannot see through,
 * so the call is not turned into something cleverer. */
static NOINLINE void copy(uint8_t *d, const uint8_t *s, size_t len) { memcpy(d, s, len); }
static NOINLINE void move(uint8_t *d, const uint8_t *s, size_t len) { memmove(d, s, len); }
static NOINLINE void fill(uint8_t *d, int c, size_t len) { memset(d, c, len); }

static NOINLINE uint32_t sample(const uint8_t *p, size_t len)
{
    uint32_t h = 0;
    for (size_t i = 0; i < len; i += 61)
        h = h * 33 + p[i];
    return h;
}

int main(int argc, char **argv)
{
    int scale = bench_scale(argc, argv, 24);
    uint64_t h = 0;
    for (size_t i = 0; i < BUF_LEN; i++)
        src[i] = (uint8_t)(i * 7 + (i >> 9));
    uint32_t s = 1;
    for (int r = 0; r < scale; r++) {
        /* Big copies: whole buffers. */
        for (int k = 0; k < 24; k++) {
            copy(dst, src, BUF_LEN - (size_t)k);
            fill(src + k * 1000, k, 4096);
            h = bench_mix(h, sample(dst, BUF_LEN));
        }
        /* Many small and medium copies, overlapping moves, short fills. */
        uint32_t acc = 0;
        for (int k = 0; k < 40000; k++) {
            s ^= s << 13, s ^= s >> 17, s ^= s << 5;
            size_t len = (s & 0xff) + ((s >> 8 & 3) == 0 ? (s >> 10 & 0xfff) : 0);
            size_t from = (s >> 12) % (BUF_LEN - 8192), to = (s >> 3) % (BUF_LEN - 8192);
            switch (s >> 30) {
            case 0: copy(dst + to, src + from, len); break;
            case 1: move(dst + to, dst + from, len); break;
            case 2: fill(dst + to, (int)(s & 0x7f), len); break;
            default: move(src + from + 3, src + from, len); break;
            }
            acc += dst[to] + dst[to + len / 2];
        }
        h = bench_mix(h, acc);
        h = bench_mix(h, sample(dst, BUF_LEN));
        h = bench_mix(h, sample(src, BUF_LEN));
    }
    bench_report("bulk", h);
    return 0;
}
