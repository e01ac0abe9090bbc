/*
 * int64.c - 64-bit integer arithmetic.
 *
 * What it stresses: i64 add/mul/shift/rotate, i64.div_u and i64.rem_u,
 * popcount and count-leading-zeros, and 64x64->128-bit multiplication done
 * in 32-bit halves (what a big-number library does).  Kernels: a
 * xorshift64* generator, modular exponentiation with a 61-bit prime, and a
 * bit-twiddling fold.
 */
#include "common.h"

static uint64_t rng_state = 0x853c49e6748fea9bu;

static inline uint64_t xorshift64s(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1du;
}

/* High 64 bits of a*b, from four 32x32->64 products. */
static inline uint64_t mulhi64(uint64_t a, uint64_t b)
{
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* a*b mod 2^61-1 (a, b < 2^61), using the Mersenne-prime reduction. */
static inline uint64_t mulmod61(uint64_t a, uint64_t b)
{
    const uint64_t p = (1ull << 61) - 1;
    uint64_t lo = a * b, hi = mulhi64(a, b);
    uint64_t r = (lo & p) + ((lo >> 61) | (hi << 3));
    return r >= p ? r - p : r;
}

static NOINLINE uint64_t powmod61(uint64_t base, uint64_t e)
{
    uint64_t r = 1;
    base %= (1ull << 61) - 1;
    while (e) {
        if (e & 1)
            r = mulmod61(r, base);
        base = mulmod61(base, base);
        e >>= 1;
    }
    return r;
}

static NOINLINE uint64_t twiddle(uint64_t x)
{
    uint64_t acc = 0;
    for (int i = 0; i < 16; i++) {
        acc += (uint64_t)__builtin_popcountll(x) << i;
        acc ^= (uint64_t)(x ? __builtin_clzll(x) : 64);
        x = (x << 13 | x >> 51) + acc;
        acc += x / ((acc | 1) & 0xffffffffu) + x % 1000003u;
    }
    return acc;
}

int main(int argc, char **argv)
{
    int scale = bench_scale(argc, argv, 8);
    uint64_t h = 0;
    for (int r = 0; r < scale; r++) {
        uint64_t acc = 0;
        for (int i = 0; i < 8000; i++) {
            /* Two statements: the order of two calls in one argument list
             * is unspecified (gcc and clang differ). */
            uint64_t base = xorshift64s();
            acc += powmod61(base, xorshift64s() >> 3);
        }
        h = bench_mix(h, acc);
        acc = 0;
        for (int i = 0; i < 40000; i++)
            acc ^= twiddle(xorshift64s());
        h = bench_mix(h, acc);
    }
    bench_report("int64", h);
    return 0;
}
