/*
 * test_nan.c - NaN results are deterministic: every arithmetic op whose
 * result is a NaN gives the positive canonical NaN (exec/numeric.h says
 * why), whatever the operands' payloads, their order, the build (threaded
 * or switch interpreter, -O1 or -O2, gcc or clang) and the machine.  The
 * ops that only move bits (abs, neg, copysign, reinterpretations) keep a
 * NaN's payload exactly, as the spec requires.
 *
 * Values cross the host boundary as integer bits (the module reinterprets
 * them), so no C float conversion can touch a payload on the way.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "exec.h"
#include "wat.h"

#define F32_CANON 0x7fc00000u
#define F64_CANON 0x7ff8000000000000ull

/* Two NaNs with different payloads, signs and kinds (signalling, quiet). */
#define F32_SNAN 0x7fa00001u
#define F32_QNAN 0xffc00abcu
#define F64_SNAN 0x7ff4000000000001ull
#define F64_QNAN 0xfff8000000000abcull

#define F32_ONE 0x3f800000u
#define F64_ONE 0x3ff0000000000000ull

static lvm_store *store;
static lvm_module *module;
static lvm_instance *inst;
static lvm_thread *thread;

/* For f32 binary op OP: (func (export "f32.OP") (param i32 i32) (result i32)),
 * and the same shapes for f64 (i64 bits) and the unary ops. */
static const char *const f32_binops[] = { "add", "sub", "mul", "div", "min", "max" };
static const char *const f32_unops[] = { "sqrt", "ceil", "floor", "trunc", "nearest" };

static void setup(void)
{
    char wat[8192];
    size_t n = (size_t)snprintf(wat, sizeof wat, "(module\n");
    for (size_t i = 0; i < sizeof f32_binops / sizeof f32_binops[0]; i++) {
        const char *op = f32_binops[i];
        n += (size_t)snprintf(wat + n, sizeof wat - n,
            " (func (export \"f32.%s\") (param i32 i32) (result i32)\n"
            "  (i32.reinterpret_f32 (f32.%s (f32.reinterpret_i32 (local.get 0)) (f32.reinterpret_i32 (local.get 1)))))\n"
            " (func (export \"f64.%s\") (param i64 i64) (result i64)\n"
            "  (i64.reinterpret_f64 (f64.%s (f64.reinterpret_i64 (local.get 0)) (f64.reinterpret_i64 (local.get 1)))))\n",
            op, op, op, op);
    }
    for (size_t i = 0; i < sizeof f32_unops / sizeof f32_unops[0]; i++) {
        const char *op = f32_unops[i];
        n += (size_t)snprintf(wat + n, sizeof wat - n,
            " (func (export \"f32.%s\") (param i32) (result i32)\n"
            "  (i32.reinterpret_f32 (f32.%s (f32.reinterpret_i32 (local.get 0)))))\n"
            " (func (export \"f64.%s\") (param i64) (result i64)\n"
            "  (i64.reinterpret_f64 (f64.%s (f64.reinterpret_i64 (local.get 0)))))\n",
            op, op, op, op);
    }
    snprintf(wat + n, sizeof wat - n,
        " (func (export \"demote\") (param i64) (result i32)\n"
        "  (i32.reinterpret_f32 (f32.demote_f64 (f64.reinterpret_i64 (local.get 0)))))\n"
        " (func (export \"promote\") (param i32) (result i64)\n"
        "  (i64.reinterpret_f64 (f64.promote_f32 (f32.reinterpret_i32 (local.get 0)))))\n"
        " (func (export \"f32.neg\") (param i32) (result i32)\n"
        "  (i32.reinterpret_f32 (f32.neg (f32.reinterpret_i32 (local.get 0)))))\n"
        " (func (export \"f32.abs\") (param i32) (result i32)\n"
        "  (i32.reinterpret_f32 (f32.abs (f32.reinterpret_i32 (local.get 0)))))\n"
        " (func (export \"f32.copysign\") (param i32 i32) (result i32)\n"
        "  (i32.reinterpret_f32 (f32.copysign (f32.reinterpret_i32 (local.get 0)) (f32.reinterpret_i32 (local.get 1)))))\n"
        " (func (export \"f64.neg\") (param i64) (result i64)\n"
        "  (i64.reinterpret_f64 (f64.neg (f64.reinterpret_i64 (local.get 0)))))\n"
        ")");
    store = lvm_store_new();
    module = load_wat(wat);
    thread = lvm_thread_new(NULL);
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(store, NULL, module, thread, &inst, &d), LVM_OK, "%s", d.message);
}

static void teardown(void)
{
    lvm_thread_free(thread);
    lvm_store_free(store);
    lvm_module_release(module);
}

TestSuite(exec_nan, .init = setup, .fini = teardown);

/* Call export `name` with one or two bit patterns; return the result bits. */
static uint64_t call(const char *name, int nargs, uint64_t a, uint64_t b)
{
    lvm_extern x;
    cr_assert(lvm_instance_export(inst, name, &x), "no export %s", name);
    lvm_val args[2] = { { .i64 = a }, { .i64 = b } }, res;
    cr_assert_eq(nargs, (int)x.u.func->type->nparams);
    cr_assert_eq(lvm_invoke(thread, x.u.func, args, &res), LVM_OK);
    return x.u.func->type->types[nargs] == LVM_I32 ? (uint32_t)res.i64 : res.i64;
}

#define EXPECT_BITS(got, want, what, ...)                                                \
    cr_expect_eq((got), (want), what ": got 0x%llx, expected 0x%llx", __VA_ARGS__,       \
                 (unsigned long long)(got), (unsigned long long)(want))

Test(exec_nan, two_nans_give_the_canonical_nan_in_either_order)
{
    for (size_t i = 0; i < sizeof f32_binops / sizeof f32_binops[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "f32.%s", f32_binops[i]);
        EXPECT_BITS(call(name, 2, F32_SNAN, F32_QNAN), (uint64_t)F32_CANON, "%s(snan, qnan)", name);
        EXPECT_BITS(call(name, 2, F32_QNAN, F32_SNAN), (uint64_t)F32_CANON, "%s(qnan, snan)", name);
        snprintf(name, sizeof name, "f64.%s", f32_binops[i]);
        EXPECT_BITS(call(name, 2, F64_SNAN, F64_QNAN), F64_CANON, "%s(snan, qnan)", name);
        EXPECT_BITS(call(name, 2, F64_QNAN, F64_SNAN), F64_CANON, "%s(qnan, snan)", name);
    }
}

Test(exec_nan, one_nan_gives_the_canonical_nan_on_either_side)
{
    for (size_t i = 0; i < sizeof f32_binops / sizeof f32_binops[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "f32.%s", f32_binops[i]);
        EXPECT_BITS(call(name, 2, F32_SNAN, F32_ONE), (uint64_t)F32_CANON, "%s(snan, 1)", name);
        EXPECT_BITS(call(name, 2, F32_ONE, F32_QNAN), (uint64_t)F32_CANON, "%s(1, qnan)", name);
        snprintf(name, sizeof name, "f64.%s", f32_binops[i]);
        EXPECT_BITS(call(name, 2, F64_QNAN, F64_ONE), F64_CANON, "%s(qnan, 1)", name);
        EXPECT_BITS(call(name, 2, F64_ONE, F64_SNAN), F64_CANON, "%s(1, snan)", name);
    }
    for (size_t i = 0; i < sizeof f32_unops / sizeof f32_unops[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "f32.%s", f32_unops[i]);
        EXPECT_BITS(call(name, 1, F32_SNAN, 0), (uint64_t)F32_CANON, "%s(snan)", name);
        EXPECT_BITS(call(name, 1, F32_QNAN, 0), (uint64_t)F32_CANON, "%s(qnan)", name);
        snprintf(name, sizeof name, "f64.%s", f32_unops[i]);
        EXPECT_BITS(call(name, 1, F64_SNAN, 0), F64_CANON, "%s(snan)", name);
        EXPECT_BITS(call(name, 1, F64_QNAN, 0), F64_CANON, "%s(qnan)", name);
    }
    EXPECT_BITS(call("demote", 1, F64_SNAN, 0), (uint64_t)F32_CANON, "%s", "demote(snan)");
    EXPECT_BITS(call("demote", 1, F64_QNAN, 0), (uint64_t)F32_CANON, "%s", "demote(qnan)");
    EXPECT_BITS(call("promote", 1, F32_SNAN, 0), F64_CANON, "%s", "promote(snan)");
    EXPECT_BITS(call("promote", 1, F32_QNAN, 0), F64_CANON, "%s", "promote(qnan)");
}

Test(exec_nan, nans_made_from_numbers_are_positive)
{
    /* x86 makes these negative (0xffc00000), AArch64 positive. */
    const uint32_t inf = 0x7f800000u, zero = 0, minus_one = 0xbf800000u;
    EXPECT_BITS(call("f32.sub", 2, inf, inf), (uint64_t)F32_CANON, "%s", "inf - inf");
    EXPECT_BITS(call("f32.mul", 2, zero, inf), (uint64_t)F32_CANON, "%s", "0 * inf");
    EXPECT_BITS(call("f32.div", 2, zero, zero), (uint64_t)F32_CANON, "%s", "0 / 0");
    EXPECT_BITS(call("f32.sqrt", 1, minus_one, 0), (uint64_t)F32_CANON, "%s", "sqrt(-1)");
    const uint64_t dinf = 0x7ff0000000000000ull, dminus_one = 0xbff0000000000000ull;
    EXPECT_BITS(call("f64.add", 2, dinf, dinf | 0x8000000000000000ull), F64_CANON, "%s", "inf + -inf");
    EXPECT_BITS(call("f64.div", 2, dinf, dinf), F64_CANON, "%s", "inf / inf");
    EXPECT_BITS(call("f64.sqrt", 1, dminus_one, 0), F64_CANON, "%s", "sqrt(-1)");
}

Test(exec_nan, bit_operations_keep_the_payload)
{
    EXPECT_BITS(call("f32.neg", 1, F32_SNAN, 0), (uint64_t)(F32_SNAN ^ 0x80000000u), "%s", "neg");
    EXPECT_BITS(call("f32.abs", 1, F32_QNAN, 0), (uint64_t)(F32_QNAN & 0x7fffffffu), "%s", "abs");
    EXPECT_BITS(call("f32.copysign", 2, F32_SNAN, F32_QNAN), (uint64_t)(F32_SNAN | 0x80000000u),
                "%s", "copysign");
    EXPECT_BITS(call("f64.neg", 1, F64_SNAN, 0), F64_SNAN ^ 0x8000000000000000ull, "%s", "neg");
}

Test(exec_nan, numbers_are_unchanged)
{
    /* The canonicalization touches NaNs only: 1 + 1 = 2, min(1, -0) = -0. */
    EXPECT_BITS(call("f32.add", 2, F32_ONE, F32_ONE), (uint64_t)0x40000000u, "%s", "1 + 1");
    EXPECT_BITS(call("f32.min", 2, F32_ONE, 0x80000000u), (uint64_t)0x80000000u, "%s", "min(1, -0)");
    EXPECT_BITS(call("f64.max", 2, 0x8000000000000000ull, 0), 0ull, "%s", "max(-0, 0)");
    EXPECT_BITS(call("f64.sqrt", 1, 0x4010000000000000ull, 0), 0x4000000000000000ull, "%s", "sqrt(4)");
}
