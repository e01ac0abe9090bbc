/*
 * check.h - what the guest programs of tests/wasi share: CHECK, which
 * prints the failing line and exits with status 1, and ERRNO_IS, which
 * checks the exact WASI errno of a raw wasi_snapshot_preview1 call.
 * The harness (tests/wasi/test_*.c) shows stdout when a guest fails.
 */
#ifndef LVM_TESTS_WASI_CHECK_H
#define LVM_TESTS_WASI_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            printf("FAIL %s:%d: %s (errno %d: %s)\n", __FILE__, __LINE__, #cond, \
                   errno, strerror(errno));                                      \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

/* A raw call's result must be exactly `want` (a __WASI_ERRNO_* value). */
#define ERRNO_IS(call, want)                                                     \
    do {                                                                         \
        int got_ = (int)(call);                                                  \
        if (got_ != (int)(want)) {                                               \
            printf("FAIL %s:%d: %s gave %d, want %d\n", __FILE__, __LINE__,      \
                   #call, got_, (int)(want));                                    \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

#endif
