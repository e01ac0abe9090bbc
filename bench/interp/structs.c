/*
 * structs.c - memory scans over arrays of structs: loads and stores at
 * constant offsets from a base pointer.
 *
 * What it stresses: i32/i64/f64 loads and stores with an offset immediate
 * (one struct field each), the narrow loads (load8_u, load16_s) and
 * stores, and the address arithmetic of array indexing: the bounds check on
 * every access is what an interpreter pays here.  Kernels: an update pass
 * over a particle-like array, a gather through an index array, and a
 * sum of a 2-D array walked column by column.
 */
#include "common.h"

#define N 4096

typedef struct item {
    int32_t id;
    uint8_t kind;
    int16_t delta;
    uint32_t count;
    int64_t total;
    double weight;
} item;

static item items[N];
static uint32_t order[N];
static int32_t grid[64][64];

static void init(void)
{
    uint32_t s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        items[i] = (item){ i, (uint8_t)(s >> 24), (int16_t)(s >> 8), 0, 0, (double)(s >> 16) / 65536.0 };
        order[i] = (s >> 4) % N;
    }
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 64; j++)
            grid[i][j] = i * 64 - j;
}

static NOINLINE void update(int round)
{
    for (int i = 0; i < N; i++) {
        item *it = &items[i];
        if ((it->kind & 3) == (round & 3)) {
            it->count++;
            it->total += it->delta;
            it->weight = it->weight * 0.5 + 0.25;
        } else {
            it->total -= it->kind;
            it->delta = (int16_t)(it->delta + 1);
        }
    }
}

static NOINLINE int64_t gather(void)
{
    int64_t acc = 0;
    for (int i = 0; i < N; i++) {
        const item *it = &items[order[i]];
        acc += it->total ^ (int64_t)it->count * it->id;
    }
    return acc;
}

static NOINLINE int32_t columns(void)
{
    int32_t acc = 0;
    for (int j = 0; j < 64; j++)
        for (int i = 0; i < 64; i++) {
            grid[i][j] += acc & 7;
            acc += grid[i][j];
        }
    return acc;
}

int main(int argc, char **argv)
{
    int scale = bench_scale(argc, argv, 16);
    uint64_t h = 0;
    for (int r = 0; r < scale; r++) {
        init();
        for (int round = 0; round < 300; round++) {
            update(round);
            h = bench_mix(h, (uint64_t)gather());
            h = bench_mix(h, (uint32_t)columns());
        }
        double w = 0.0;
        for (int i = 0; i < N; i++)
            w += items[i].weight;
        h = bench_mix_f64(h, w);
    }
    bench_report("structs", h);
    return 0;
}
