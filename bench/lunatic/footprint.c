/*
 * footprint.c - what lvm's own structures take per process of
 * bench/lunatic's guest, by their sizes: the parts of the idle figure of
 * run.sh that are not linear memory.  Prints `bench: footprint_NAME N
 * bytes` lines; run.sh puts them beside the measured total (the rest is
 * malloc's headers and rounding, the channel end and packed memory).
 *
 *   footprint GUEST.wasm
 */
#include <stdio.h>
#include <stdlib.h>

#include "exec.h"
#include "internal.h"
#include "lunatic_internal.h"
#include "process.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: footprint GUEST.wasm\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    lvm_diag d;
    lvm_module *m = lvm_module_load(buf, n, &d);
    if (!m) {
        fprintf(stderr, "footprint: %s: %s\n", argv[1], d.message);
        return 1;
    }
    /* A parked child's thread: its built-in stack and frames are in it
     * (exec.h, EXEC_STACK0); a deeper one has grown them on the heap. */
    size_t thread = sizeof(lvm_thread);
    printf("bench: footprint_process %zu bytes\n", sizeof(lvm_process));
    printf("bench: footprint_thread %zu bytes\n", thread);
    printf("bench: footprint_store %zu bytes\n", sizeof(lvm_store));
    printf("bench: footprint_instance %zu bytes\n", lvm_module_instance_bytes(m));
    printf("bench: footprint_wasi %zu bytes\n", sizeof(wasi_ctx));  /* with its first fds */
    printf("bench: footprint_lunatic %zu bytes\n", sizeof(lun_proc));
    lvm_module_release(m);
    return 0;
}
