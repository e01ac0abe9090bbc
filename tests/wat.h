/*
 * wat.h - for tests: assemble a module written in the text format with
 * wabt's wat2wasm (keeping function names for backtraces) and load it.
 * Header-only, so each test binary links just its own folder.
 */
#ifndef LVM_TESTS_WAT_H
#define LVM_TESTS_WAT_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lvm.h"

static inline lvm_module *load_wat(const char *wat)
{
    char in[] = "/tmp/lvm-test-XXXXXX.wat";
    int fd = mkstemps(in, 4);
    cr_assert(fd >= 0);
    cr_assert(write(fd, wat, strlen(wat)) == (ssize_t)strlen(wat));
    close(fd);
    char out[sizeof in + 8], cmd[256];
    snprintf(out, sizeof out, "%s.wasm", in);
    snprintf(cmd, sizeof cmd, "wat2wasm --debug-names %s -o %s", in, out);
    cr_assert(system(cmd) == 0, "wat2wasm failed");
    FILE *f = fopen(out, "rb");
    cr_assert(f);
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    unlink(in);
    unlink(out);
    lvm_diag d;
    lvm_module *m = lvm_module_load(buf, n, &d);
    cr_assert(m, "load failed: %s", d.message);
    return m;
}

#endif
