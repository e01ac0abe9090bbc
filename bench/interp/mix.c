/*
 * mix.c - a little of everything, in the proportions of an ordinary
 * program: table-driven CRC-32, a greedy LZ77 match finder (a compressor's
 * inner loop), an integer matrix multiply, and a walk over a linked list
 * kept in an array pool.
 *
 * What it stresses: the mix of loads, ALU ops, branches and calls that no
 * single-purpose kernel has; it is the workload whose ratio is closest to
 * "how much slower is my program".
 */
#include "common.h"

#define DATA_LEN 32768
#define WINDOW 1024
#define MAT 48
#define NODES 8192

static uint8_t data[DATA_LEN];
static uint32_t crc_table[256];
static int32_t ma[MAT][MAT], mb[MAT][MAT], mc[MAT][MAT];

typedef struct node {
    int32_t value;
    int32_t next;               /* index into pool, -1 ends the list */
} node;
static node pool[NODES];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static NOINLINE uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

/* Greedy LZ77: at each position, the longest match in the last WINDOW
 * bytes among candidates found through a 4096-entry hash of 3 bytes.
 * Returns the number of tokens plus the matched lengths. */
static NOINLINE uint32_t lz_tokens(const uint8_t *p, size_t n)
{
    static int32_t head[4096];
    for (int i = 0; i < 4096; i++)
        head[i] = -1;
    uint32_t tokens = 0, matched = 0;
    size_t i = 0;
    while (i + 3 <= n) {
        uint32_t key = ((uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2]) * 2654435761u >> 20;
        int32_t cand = head[key];
        head[key] = (int32_t)i;
        size_t len = 0;
        if (cand >= 0 && i - (size_t)cand <= WINDOW) {
            while (i + len < n && len < 258 && p[cand + len] == p[i + len])
                len++;
        }
        tokens++;
        if (len >= 3) {
            matched += (uint32_t)len;
            i += len;
        } else {
            i++;
        }
    }
    return tokens * 65599u + matched;
}

static NOINLINE void matmul(void)
{
    for (int i = 0; i < MAT; i++)
        for (int j = 0; j < MAT; j++) {
            int32_t s = 0;
            for (int k = 0; k < MAT; k++)
                s += ma[i][k] * mb[k][j];
            mc[i][j] = s;
        }
}

static NOINLINE int64_t list_walk(int32_t head)
{
    int64_t sum = 0;
    for (int32_t i = head; i >= 0; i = pool[i].next)
        sum += pool[i].value;
    return sum;
}

int main(int argc, char **argv)
{
    int scale = bench_scale(argc, argv, 36);
    uint64_t h = 0;
    crc_init();
    for (int r = 0; r < scale; r++) {
        /* Compressible data: runs of a small alphabet with repeats. */
        uint32_t s = 77u + (uint32_t)r;
        for (size_t i = 0; i < DATA_LEN; i++) {
            s = s * 1103515245u + 12345u;
            data[i] = (s >> 29) < 5 && i > 64 ? data[i - 1 - (s >> 20 & 31)] : (uint8_t)('a' + (s >> 16) % 8);
        }
        h = bench_mix(h, crc32(data, DATA_LEN));
        h = bench_mix(h, lz_tokens(data, DATA_LEN));
        h = bench_mix(h, crc32(data + 1, DATA_LEN - 1));

        for (int i = 0; i < MAT; i++)
            for (int j = 0; j < MAT; j++) {
                ma[i][j] = (i * 3 + j + r) % 17 - 8;
                mb[i][j] = (i - j * 5 + r) % 13;
            }
        for (int k = 0; k < 6; k++) {
            matmul();
            ma[k][k] += mc[k][MAT - 1 - k] & 3;
        }
        h = bench_mix(h, (uint32_t)mc[MAT / 2][MAT / 3]);

        /* A list threaded through the pool in a scrambled order. */
        for (int32_t i = 0; i < NODES; i++) {
            int32_t at = (int32_t)(((uint32_t)i * 2999u + (uint32_t)r) % NODES);
            int32_t nxt = (int32_t)(((uint32_t)(i + 1) * 2999u + (uint32_t)r) % NODES);
            pool[at] = (node){ i ^ r, i + 1 < NODES ? nxt : -1 };
        }
        for (int k = 0; k < 20; k++)
            h = bench_mix(h, (uint64_t)list_walk((int32_t)((uint32_t)r % NODES)));
    }
    bench_report("mix", h);
    return 0;
}
