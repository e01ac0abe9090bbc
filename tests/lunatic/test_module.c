/*
 * test_module.c - a child's constructors (ABI 4.3 step 6, D10) and module
 * loading (ABI section 7), end to end: the real `lvm run` on the guests
 * tests/lunatic/guests/mod*.wasm, one scenario per test, comparing what
 * they print and their exit status; plus the module queries behind them,
 * called directly.
 */
#include <string.h>

#include "run.h"
#include "wat.h"

#define CTORS "tests/lunatic/guests/mod_ctors.wasm"
#define CTORS_STRIPPED "tests/lunatic/guests/mod_ctors_stripped.wasm"

TestSuite(module, .timeout = 60);

/* {====== constructors in children (D10) */

static lvm_module *load_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s: %s", path, strerror(errno));
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    lvm_diag d;
    lvm_module *m = lvm_module_load(buf, n, &d);
    cr_assert(m, "%s: %s", path, d.message);
    return m;
}

/* The child sees its constructor's work, and the constructor yielded
 * and slept on the way; with the name section and without it. */
Test(module, child_runs_constructors)
{
    run_result *r = lun_run(CTORS, "2", "ctors", NULL);
    EXPECT_RUN(r, 0, "child: in_child 1, constructor steps 3\njoin 0\n");
    r = lun_run(CTORS_STRIPPED, "1", "ctors", NULL);
    EXPECT_RUN(r, 0, "child: in_child 1, constructor steps 3\njoin 0\n");
}

/* A trap in the constructors fails the child, not the parent. */
Test(module, constructor_trap_fails_child)
{
    run_result *r = lun_run(CTORS, "2", "ctor_trap", NULL);
    EXPECT_RUN(r, 0, "join 1\n");
    r = lun_run(CTORS_STRIPPED, "2", "ctor_trap", NULL);
    EXPECT_RUN(r, 0, "join 1\n");
}

/* The name section and the _start fallback find the same function. */
Test(module, constructors_found_with_and_without_names)
{
    lvm_module *named = load_file(CTORS), *stripped = load_file(CTORS_STRIPPED);
    uint32_t a = lvm_module_ctors(named), b = lvm_module_ctors(stripped);
    cr_expect_neq(a, UINT32_MAX);
    cr_expect_eq(a, b);
    lvm_module_release(named);
    lvm_module_release(stripped);
}

/* No name section: the first call of _start, skipping the immediates of
 * everything before it (a block, a br_table, memory and float ops), and
 * only if it is a defined () -> () function. */
Test(module, constructors_fallback_rules)
{
    lvm_module *m = load_wat(
        "(module (memory 1)"
        "  (func) (func)"
        "  (func (export \"_start\")"
        "    (block (br_table 0 0 0 (i32.const 0)))"
        "    (drop (f64.const 1.5)) (drop (i64.load offset=8 (i32.const 0)))"
        "    (call 1) (call 0)))");
    cr_expect_eq(lvm_module_ctors(m), 1);
    lvm_module_release(m);
    m = load_wat("(module (import \"m\" \"f\" (func)) (func (export \"_start\") (call 0)))");
    cr_expect_eq(lvm_module_ctors(m), UINT32_MAX, "an import is no constructor");
    lvm_module_release(m);
    m = load_wat("(module (func (param i32)) (func (export \"_start\") (call 0 (i32.const 1))))");
    cr_expect_eq(lvm_module_ctors(m), UINT32_MAX, "it must be () -> ()");
    lvm_module_release(m);
    m = load_wat("(module (func (export \"_start\")))");
    cr_expect_eq(lvm_module_ctors(m), UINT32_MAX, "no call at all");
    lvm_module_release(m);
    m = load_wat("(module (func $__wasm_call_ctors) (func $x) (func (export \"_start\") (call $x)))");
    cr_expect_eq(lvm_module_ctors(m), 0, "by name, not by position");
    lvm_module_release(m);
}

/* }====== */
