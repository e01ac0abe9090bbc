/*
 * loops.c - tight 32-bit integer loops with no memory traffic.
 *
 * What it stresses: the dispatch cost of short basic blocks (compare,
 * branch, add), loop back-edges, and 32-bit ALU ops.  Three kernels: the
 * Collatz step count (data-dependent branches), an integer square root by
 * bisection, and the greatest common divisor by subtraction-free Euclid
 * (i32.rem_u).
 */
#include "common.h"

static NOINLINE uint32_t collatz_steps(uint32_t n)
{
    uint32_t steps = 0;
    while (n != 1) {
        n = (n & 1) ? 3 * n + 1 : n >> 1;
        steps++;
    }
    return steps;
}

static NOINLINE uint32_t isqrt(uint32_t x)
{
    uint32_t lo = 0, hi = 65536;
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) >> 1;
        if (mid * mid <= x)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static NOINLINE uint32_t gcd(uint32_t a, uint32_t b)
{
    while (b != 0) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int main(int argc, char **argv)
{
    int scale = bench_scale(argc, argv, 5);
    uint64_t h = 0;
    for (int r = 0; r < scale; r++) {
        uint32_t sum = 0;
        for (uint32_t n = 1; n < 40000; n++)
            sum += collatz_steps(n + (uint32_t)r);
        h = bench_mix(h, sum);
        sum = 0;
        for (uint32_t x = 0; x < 150000; x++)
            sum += isqrt(x * 2654435761u >> 1);
        h = bench_mix(h, sum);
        sum = 0;
        for (uint32_t a = 1; a < 400; a++)
            for (uint32_t b = 1; b < 300; b++)
                sum += gcd(a * 7919u + (uint32_t)r, b * 104729u);
        h = bench_mix(h, sum);
    }
    bench_report("loops", h);
    return 0;
}
