/*
 * calls.c - function calls: direct recursion, deep recursion and indirect
 * calls through a table of function pointers.
 *
 * What it stresses in a wasm engine: `call` and `return` (frame set-up,
 * argument passing), recursion a few thousand frames deep, and
 * `call_indirect` (table lookup plus the signature check), the way C
 * function pointers and C++ virtual calls compile to wasm.
 */
#include "common.h"

/* Doubly recursive: about 1.6 * fib(n) calls, each doing almost nothing,
 * so the cost is the call itself. */
static NOINLINE uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* Deep, linear recursion: depth calls on the way down, one multiply-add on
 * the way back up (so it is not a tail call the compiler can turn into a
 * loop).  lvm's default limit is 10,000 frames; 2,000 stays well below. */
static NOINLINE uint32_t descend(uint32_t depth, uint32_t acc)
{
    if (depth == 0)
        return acc;
    return descend(depth - 1, acc * 31u + depth) * 7u + depth;
}

/* Four operations with one signature, called through a pointer table. */
typedef uint32_t (*binop)(uint32_t, uint32_t);
static NOINLINE uint32_t op_add(uint32_t a, uint32_t b) { return a + b; }
static NOINLINE uint32_t op_xor(uint32_t a, uint32_t b) { return a ^ (b << 3); }
static NOINLINE uint32_t op_mul(uint32_t a, uint32_t b) { return a * (b | 1u); }
static NOINLINE uint32_t op_rot(uint32_t a, uint32_t b) { return (a << 7 | a >> 25) + b; }

/* volatile: the table's contents are unknown to the optimiser, so every
 * call stays indirect. */
static binop volatile table[4] = { op_add, op_xor, op_mul, op_rot };

static NOINLINE uint32_t indirect_chain(uint32_t seed, int n)
{
    uint32_t acc = seed;
    for (int i = 0; i < n; i++) {
        binop f = table[(acc >> 5 ^ (uint32_t)i) & 3];
        acc = f(acc, (uint32_t)i);
    }
    return acc;
}

int main(int argc, char **argv)
{
    int scale = bench_scale(argc, argv, 24);
    uint64_t h = 0;
    for (int r = 0; r < scale; r++) {
        h = bench_mix(h, fib(24 + (uint32_t)(r & 1)));
        for (int k = 0; k < 40; k++)
            h = bench_mix(h, descend(2000 - (uint32_t)k, (uint32_t)(r + k)));
        h = bench_mix(h, indirect_chain((uint32_t)r, 300000));
    }
    bench_report("calls", h);
    return 0;
}
