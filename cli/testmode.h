/*
 * testmode.h - lunatic's `cargo test` runner (ABI 0.14, section 13): when
 * `lvm run` is the cargo runner of a lunatic 0.14 crate, a test binary's
 * `#lunatic_test_...` exports run as tests, each as its own process in
 * its own environment, reported as libtest reports them.
 */
#ifndef LVM_CLI_TESTMODE_H
#define LVM_CLI_TESTMODE_H

#include "lvm.h"

#include <stdbool.h>

/* ABI 13.1: `lvm run PATH ARGS...` is the test runner when the
 * environment has CARGO_MANIFEST_DIR, PATH matches
 * /target/wasm32-(wasi|unknown-unknown)/(debug|release)/deps/.*\.wasm$
 * (cargo puts test binaries there, and `cargo run` binaries one level
 * up), and no later argument is --bench. */
bool testmode_detect(const char *path, int argc, char *const rest[]);

/* What `lvm run` options say about every test's process (D17: no
 * environment or directory unless granted). */
typedef struct testmode_opts {
    int workers;                    /* 0: one per online CPU */
    int ndirs;
    const char *const *dirs;        /* --dir values: HOST[::GUEST] */
    int nenvs;
    const char *const *envs;        /* --env values: KEY=VALUE */
    bool inherit_env;
    int32_t reductions;             /* 0: the default slice */
    uint32_t max_memory_pages;      /* 0: none */
    uint64_t pack_after_ns;         /* green_config's */
} testmode_opts;

/* Run the tests of m (loaded and validated; path as typed) with the
 * libtest arguments rest[0..argc).  Prints as libtest does (ABI 13.5) and
 * returns the exit status: 0 all passed, 1 a test failed (or a bad
 * --format), 2 bad usage. */
int testmode_run(const char *path, lvm_module *m, int argc, char *const rest[],
                 const testmode_opts *o);

#endif
