/*
 * idle.c - the "minimal C guest" of bench_procs: a C function that blocks
 * in one host call.  Built without libc, so the process is what clang
 * gives any C program: a 2-page linear memory (the 64 KiB C stack and the
 * data) and a __stack_pointer global.
 *
 *   clang --target=wasm32-wasi -O2 -nostdlib -Wl,--no-entry \
 *         -Wl,--export=run -o idle.wasm idle.c      (make bench-guests)
 */
__attribute__((import_module("bench"), import_name("wait")))
void bench_wait(void);

/* A little stack and data use, as real code has. */
static volatile int counter;

void run(void)
{
    volatile char buf[256];
    buf[0] = (char)counter;
    counter += buf[0] + 1;
    bench_wait();
}
