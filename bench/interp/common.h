/*
 * common.h - what every interpreter-speed workload shares: reading the size
 * from argv and folding results into one checksum.
 *
 * Each workload is one C file built twice from the same source: with clang
 * for wasm32-wasi and with gcc for the host.  Both builds must print the
 * same line, `NAME: checksum XXXXXXXXXXXXXXXX`, which is how the benchmark
 * driver (run.sh) knows that the interpreter computed the right answer and
 * did the same work.  The amount of work is `scale` repetitions of a fixed
 * inner job: argv[1] if given, else the workload's default, chosen so that
 * the native -O2 build takes roughly 0.05-0.1 s.
 *
 * Rules that keep the two builds bit-identical:
 *   - no libm calls beyond sqrt (correctly rounded everywhere), no long
 *     double, and floats are folded into the checksum by their bits;
 *   - no reliance on unspecified behaviour: unsigned arithmetic for
 *     anything that wraps, explicit widths (uint32_t, uint64_t), and no
 *     pointer values in the result (wasm pointers are 32-bit);
 *   - the only I/O is one printf at the end;
 *   - never two calls with side effects in one expression or argument
 *     list (gcc and clang evaluate arguments in different orders);
 *   - both builds use -ffp-contract=off (see mk/interp.mk): with clang's
 *     default, float.c's result differed from gcc's even for wasm32, which
 *     has no fused multiply-add instruction; with contraction off gcc,
 *     clang and every wasm engine agree to the bit.
 */
#ifndef BENCH_INTERP_COMMON_H
#define BENCH_INTERP_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keeps the compiler from inlining a function (so calls stay calls). */
#define NOINLINE __attribute__((noinline))

/* The repetition count: argv[1], or `fallback`. */
static inline int bench_scale(int argc, char **argv, int fallback)
{
    if (argc > 1) {
        int n = atoi(argv[1]);
        if (n > 0)
            return n;
    }
    return fallback;
}

/* Fold a 64-bit value into the running checksum (a multiply-xorshift mix:
 * order-sensitive, so a result computed in the wrong order also shows). */
static inline uint64_t bench_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdu;
    return h ^ (h >> 33);
}

static inline uint64_t bench_mix_f64(uint64_t h, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bench_mix(h, bits);
}

static inline uint64_t bench_mix_f32(uint64_t h, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bench_mix(h, bits);
}

static inline void bench_report(const char *name, uint64_t h)
{
    printf("%s: checksum %016llx\n", name, (unsigned long long)h);
}

#endif
