/*
 * translate.c - how fast lvm turns wasm code into something it can run:
 * the load-time figures of the interpreter benchmark.
 *
 *   translate [--reps N] FILE.wasm
 *
 * prints, as `bench: NAME VALUE UNIT` lines (medians of N fresh loads):
 *
 *   validate_mb_per_s    code-section MB per second of lvm_module_load:
 *                        decoding every section and validating every
 *                        function body (the whole load, so other sections
 *                        count against it, but in big.wasm code dominates);
 *   translate_mb_per_s   code-section MB per second of lowering every
 *                        defined function to threaded code (exec_code_of),
 *                        load and instantiation not included;
 *   translate_ms, validate_ms   the same two times, for the record.
 *
 * MB is 10^6 bytes of the code section's payload, the unit of the
 * interpreter notes' "ms per MB of code" table.  lvm lowers a function on
 * its first call, so a program pays this only for the functions it runs;
 * this forces all of them, to compare with translate-at-load engines
 * (WAMR fast interpreter ≈14 MB/s, wasm3 --compile ≈17 MB/s on the notes'
 * machine).
 *
 * The lowered code is cached in the module (published once, shared by
 * every instance), so each repetition loads a fresh module.  Linked with
 * the library: this is an embedder that also looks at exec/'s internals
 * (exec_code_of, the instance's function array), as the tests do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec.h"
#include "vm.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (len == cap) {
            cap = cap ? 2 * cap : 1 << 20;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    *len_out = len;
    return buf;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return v[n / 2];
}

/* One repetition: load (timed), instantiate, lower every defined function
 * (timed).  Returns 0, or 1 after printing why it failed. */
static int measure(const uint8_t *bytes, size_t len, double *load_s, double *lower_s,
                   uint32_t *code_size_out)
{
    lvm_diag diag = { .err = LVM_OK, .offset = LVM_NO_OFFSET, .message = "" };
    double t0 = now_s();
    lvm_module *m = lvm_module_load(bytes, len, &diag);
    double t1 = now_s();
    if (!m) {
        fprintf(stderr, "translate: load: %s %s\n", lvm_strerror(diag.err), diag.message);
        return 1;
    }
    /* The benchmark module imports nothing; anything else fails to link. */
    lvm_store *s = lvm_store_new();
    lvm_linker *l = lvm_linker_new();
    lvm_thread *t = lvm_thread_new(NULL);
    lvm_instance *inst = NULL;
    int status = 1;
    lvm_err err = s && l && t ? lvm_instantiate(s, l, m, t, &inst, &diag) : LVM_ERR_NO_MEMORY;
    if (err) {
        fprintf(stderr, "translate: instantiate: %s %s\n", lvm_strerror(err), diag.message);
        goto out;
    }
    double t2 = now_s();
    for (uint32_t i = m->nimported_funcs; i < m->nfuncs; i++) {
        exec_code *code;
        err = exec_code_of(inst->funcs[i], &code);
        if (err) {
            fprintf(stderr, "translate: function %u: %s\n", i, lvm_strerror(err));
            goto out;
        }
    }
    double t3 = now_s();
    *load_s = t1 - t0;
    *lower_s = t3 - t2;
    *code_size_out = m->code_size;
    status = 0;
out:
    if (t)
        lvm_thread_free(t);
    if (l)
        lvm_linker_free(l);
    if (s)
        lvm_store_free(s);
    lvm_module_release(m);
    return status;
}

int main(int argc, char **argv)
{
    int reps = 5;
    int argi = 1;
    if (argc > 3 && strcmp(argv[1], "--reps") == 0) {
        reps = atoi(argv[2]);
        argi = 3;
    }
    if (argi != argc - 1 || reps < 1 || reps > 100) {
        fprintf(stderr, "usage: translate [--reps N] FILE.wasm\n");
        return 2;
    }
    size_t len;
    uint8_t *bytes = read_file(argv[argi], &len);
    if (!bytes) {
        perror(argv[argi]);
        return 1;
    }
    double load[100], lower[100];
    uint32_t code_size = 0;
    for (int r = 0; r < reps; r++)
        if (measure(bytes, len, &load[r], &lower[r], &code_size))
            return 1;
    free(bytes);
    double mb = code_size / 1e6;
    double load_s = median(load, reps), lower_s = median(lower, reps);
    const char *base = strrchr(argv[argi], '/');
    printf("# %s: %.2f MB of code, median of %d loads\n", base ? base + 1 : argv[argi], mb, reps);
    printf("bench: validate_ms %.1f ms\n", load_s * 1e3);
    printf("bench: validate_mb_per_s %.1f MB/s\n", mb / load_s);
    printf("bench: translate_ms %.1f ms\n", lower_s * 1e3);
    printf("bench: translate_mb_per_s %.1f MB/s\n", mb / lower_s);
    return 0;
}
