/*
 * grow.c - a heap that grows to 1 GiB in 1 KiB pieces (`make bench-grow`).
 *
 * What a C program with a big data set does: malloc a million small
 * pieces, write each, keep them all.  wasi-libc's malloc takes memory from
 * memory.grow 64 KiB at a time, so under lvm this is ~16,000 grows of one
 * linear memory from a few pages to 1 GiB - the case that was quadratic
 * when every grow above 64 MiB copied the whole heap (vm/mempool.c).
 *
 * Built twice from this source, for wasm32-wasi with clang and for the
 * host with gcc; both print the same line, `grow: N pieces, checksum X`, so
 * the benchmark knows both did the same work.  argv[1] is the heap size in
 * MiB (default 1024).  The checksum reads one byte of every piece back
 * after all are written (so no allocation can be optimized away) and uses
 * no pointer values (wasm pointers are 32-bit).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIECE 1024

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 1024;
    if (mib <= 0 || mib > 3072) {
        fprintf(stderr, "grow: size must be 1..3072 MiB, got %s\n", argv[1]);
        return 2;
    }
    size_t n = (size_t)mib * 1024;       /* pieces of 1 KiB */
    unsigned char **pieces = malloc(n * sizeof *pieces);
    if (!pieces) {
        fprintf(stderr, "grow: out of memory for the piece table\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = malloc(PIECE);
        if (!p) {
            fprintf(stderr, "grow: malloc failed after %zu pieces (%zu KiB)\n", i, i);
            return 1;
        }
        memset(p, (int)(i * 7 & 0xff), PIECE);
        p[i % PIECE] = (unsigned char)(i >> 8);
        pieces[i] = p;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = sum * 31 + pieces[i][(i * 13) % PIECE];
    printf("grow: %zu pieces, checksum %016llx\n", n, (unsigned long long)sum);
    return 0;
}
