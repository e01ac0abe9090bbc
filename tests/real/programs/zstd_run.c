/*
 * zstd_run.c - the driver of the zstd real-program test and benchmark:
 * zstd's library (lib/ of the zstd sources) behind a small command line of
 * its own, since zstd's command-line tool needs signals, file times and
 * threads that WASI lacks.
 *
 *   zstd_run generate SIZE         SIZE bytes of generated data to stdout
 *   zstd_run roundtrip SIZE LEVEL...
 *                                  generate SIZE bytes, then for each LEVEL
 *                                  compress (one shot, frame checksum on),
 *                                  decompress twice (one shot, and streamed
 *                                  in small pieces), compare, and print the
 *                                  sizes and checksums
 *   zstd_run compress LEVEL        stdin to stdout, streamed
 *   zstd_run decompress            stdin to stdout, streamed; a corrupt or
 *                                  cut-off input fails
 *
 * The generated data is a deterministic mix of words, numbers and runs
 * (a fixed-seed xorshift), so that every level has something to find and
 * the output is the same on every machine.  Checksums are FNV-1a 64.
 *
 * Exit status: 0, 1 for a zstd error or a round trip that does not match
 * (with a message on stderr), 2 for bad usage.
 */
#include "zstd.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned char *generate(size_t size)
{
    static const char *const words[] = {
        "lvm", "process", "channel", "spawn", "wasm", "memory", "table",
        "scheduler", "reduction", "message", "the", "a", "of", "and", "to",
    };
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf)
        return NULL;
    size_t n = 0;
    while (n < size) {
        char piece[64];
        uint64_t r = next_random();
        int len;
        switch (r % 8) {
        case 0:
            len = snprintf(piece, sizeof piece, "%" PRIu64 " ", (r >> 8) % 100000);
            break;
        case 1: /* a run of one byte */
            len = (int)((r >> 8) % 40) + 1;
            memset(piece, 'a' + (int)((r >> 16) % 26), (size_t)len);
            break;
        case 2: /* noise */
            len = 16;
            for (int i = 0; i < len; i++)
                piece[i] = (char)(next_random() >> 56);
            break;
        default:
            len = snprintf(piece, sizeof piece, "%s ", words[(r >> 8) % (sizeof words / sizeof *words)]);
        }
        size_t take = size - n < (size_t)len ? size - n : (size_t)len;
        memcpy(buf + n, piece, take);
        n += take;
    }
    return buf;
}

static int fail(const char *what, size_t code)
{
    fprintf(stderr, "zstd_run: %s: %s\n", what, ZSTD_getErrorName(code));
    return 1;
}

/* Decompress src in pieces of at most 1000 bytes in and 777 out, so the
 * streaming decoder stops and restarts everywhere. */
static int stream_decompress(const unsigned char *src, size_t n, unsigned char *dst, size_t cap, size_t *out_len)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    ZSTD_outBuffer out = { dst, 0, 0 };
    size_t fed = 0;
    for (;;) {
        size_t piece = n - fed < 1000 ? n - fed : 1000, before = out.pos;
        ZSTD_inBuffer in = { src + fed, piece, 0 };
        out.size = out.pos + 777 < cap ? out.pos + 777 : cap;
        size_t rc = ZSTD_decompressStream(ds, &out, &in);
        if (ZSTD_isError(rc)) {
            ZSTD_freeDStream(ds);
            return fail("streamed decompression", rc);
        }
        fed += in.pos;
        if (rc == 0 && fed == n)
            break;
        if (in.pos == 0 && out.pos == before) {
            ZSTD_freeDStream(ds);
            fprintf(stderr, "zstd_run: streamed decompression makes no progress\n");
            return 1;
        }
    }
    ZSTD_freeDStream(ds);
    *out_len = out.pos;
    return 0;
}

static int roundtrip(size_t size, int nlevels, char **levels)
{
    unsigned char *data = generate(size);
    size_t bound = ZSTD_compressBound(size);
    unsigned char *packed = malloc(bound), *back = malloc(size + 1);
    if (!data || !packed || !back) {
        fprintf(stderr, "zstd_run: out of memory\n");
        return 1;
    }
    printf("input %zu bytes, fnv %016" PRIx64 "\n", size, fnv1a(data, size));
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    int status = 0;
    for (int i = 0; i < nlevels && status == 0; i++) {
        int level = atoi(levels[i]);
        ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters);
        ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
        ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
        size_t n = ZSTD_compress2(cc, packed, bound, data, size);
        if (ZSTD_isError(n)) {
            status = fail("compression", n);
            break;
        }
        size_t got = ZSTD_decompressDCtx(dc, back, size + 1, packed, n);
        if (ZSTD_isError(got)) {
            status = fail("decompression", got);
            break;
        }
        size_t streamed = 0;
        int same = got == size && memcmp(back, data, size) == 0;
        memset(back, 0, size);
        if (stream_decompress(packed, n, back, size + 1, &streamed) != 0) {
            status = 1;
            break;
        }
        same = same && streamed == size && memcmp(back, data, size) == 0;
        printf("level %d: %zu bytes (%.3f%%), fnv %016" PRIx64 ", round trip %s\n", level, n,
               100.0 * (double)n / (double)(size ? size : 1), fnv1a(packed, n), same ? "ok" : "DIFFERS");
        if (!same) {
            fprintf(stderr, "zstd_run: level %d: the round trip does not match\n", level);
            status = 1;
        }
    }
    ZSTD_freeCCtx(cc);
    ZSTD_freeDCtx(dc);
    free(data);
    free(packed);
    free(back);
    return status;
}

/* stdin to stdout through a compressing (level >= 1) or decompressing
 * stream. */
static int filter(int compress, int level)
{
    size_t in_cap = compress ? ZSTD_CStreamInSize() : ZSTD_DStreamInSize();
    size_t out_cap = compress ? ZSTD_CStreamOutSize() : ZSTD_DStreamOutSize();
    unsigned char *ibuf = malloc(in_cap), *obuf = malloc(out_cap);
    ZSTD_CCtx *cc = compress ? ZSTD_createCCtx() : NULL;
    ZSTD_DCtx *dc = compress ? NULL : ZSTD_createDCtx();
    if (cc) {
        ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
        ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    }
    int status = 0;
    size_t rc = 0, total = 0;
    for (;;) {
        size_t n = fread(ibuf, 1, in_cap, stdin);
        int last = n < in_cap;
        total += n;
        ZSTD_inBuffer in = { ibuf, n, 0 };
        int done = 0;
        while (!done) {
            ZSTD_outBuffer out = { obuf, out_cap, 0 };
            if (cc) {
                rc = ZSTD_compressStream2(cc, &out, &in, last ? ZSTD_e_end : ZSTD_e_continue);
                done = last ? rc == 0 : in.pos == in.size;
            } else {
                rc = ZSTD_decompressStream(dc, &out, &in);
                done = in.pos == in.size && out.pos < out.size;
            }
            if (ZSTD_isError(rc)) {
                status = fail(cc ? "compression" : "corrupt input", rc);
                goto out;
            }
            fwrite(obuf, 1, out.pos, stdout);
        }
        if (last)
            break;
    }
    /* A decoder that still wants input was given a cut-off frame. */
    if (dc && (rc != 0 || total == 0)) {
        fprintf(stderr, "zstd_run: corrupt input: the last frame is cut off\n");
        status = 1;
    }
out:
    ZSTD_freeCCtx(cc);
    ZSTD_freeDCtx(dc);
    free(ibuf);
    free(obuf);
    return status;
}

static int usage(void)
{
    fprintf(stderr, "usage: zstd_run generate SIZE | roundtrip SIZE LEVEL... | compress LEVEL | decompress\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "generate") == 0) {
        size_t size = strtoul(argv[2], NULL, 10);
        unsigned char *data = generate(size);
        if (!data)
            return 1;
        fwrite(data, 1, size, stdout);
        free(data);
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "roundtrip") == 0)
        return roundtrip(strtoul(argv[2], NULL, 10), argc - 3, argv + 3);
    if (argc == 3 && strcmp(argv[1], "compress") == 0)
        return filter(1, atoi(argv[2]));
    if (argc == 2 && strcmp(argv[1], "decompress") == 0)
        return filter(0, 0);
    return usage();
}
