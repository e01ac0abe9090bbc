/*
 * hello.c - the example lvm runs out of the box: a C hello world for WASI.
 *
 *   build/lvm run examples/hello.wasm a b
 *
 * prints "hello from lvm" and then its arguments, one per line, starting
 * with argv[0] (the file name as typed on the command line).
 *
 * hello.wasm is committed next to this file so that running it needs no
 * wasm toolchain; `make examples` rebuilds it with clang and wasi-libc.
 * The few WASI functions it imports (wasm-objdump -x -j Import) are exactly
 * the ones wasi/ implements today: args_get, args_sizes_get, fd_write,
 * fd_fdstat_get, fd_seek, fd_close, proc_exit.
 */
#include <stdio.h>

int main(int argc, char **argv)
{
    puts("hello from lvm");
    for (int i = 0; i < argc; i++)
        puts(argv[i]);
    return 0;
}
