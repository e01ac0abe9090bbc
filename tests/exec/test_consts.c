/*
 * test_consts.c - constant slots: a frame holds one slot per distinct
 * constant of its function, however many constant instructions the body
 * has.  Two programs that used to trap with "call stack exhausted" while
 * being valid (a slot was reserved per constant instruction): a function
 * of 1,000 `i32.const 0; drop` pairs recursing 10,000 deep, and one
 * function of 5 M such pairs.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "env.h"
#include "wat.h"

static env instantiate(lvm_module *m)
{
    return env_new(m, NULL);
}

/* `depth` returns its argument n after recursing n deep, each frame
 * having run `pairs` pairs of `i32.const 0; drop` first. */
static char *recursion_wat(unsigned pairs)
{
    size_t cap = 256 + (size_t)pairs * sizeof " (drop (i32.const 0))";
    char *wat = malloc(cap);
    cr_assert_not_null(wat);
    size_t n = (size_t)snprintf(wat, cap, "(module (func $depth (export \"depth\") (param $n i32) (result i32)\n");
    for (unsigned i = 0; i < pairs; i++)
        n += (size_t)snprintf(wat + n, cap - n, " (drop (i32.const 0))");
    snprintf(wat + n, cap - n,
             "\n (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 0))\n"
             "  (else (i32.add (i32.const 1) (call $depth (i32.sub (local.get $n) (i32.const 1))))))))");
    return wat;
}

Test(exec_consts, a_thousand_constant_pairs_recurse_ten_thousand_deep)
{
    char *wat = recursion_wat(1000);
    env e = instantiate(load_wat(wat));
    free(wat);
    lvm_func *f = env_export(&e, "depth");
    lvm_val arg = { .i64 = 10000 }, res;
    cr_assert_eq(lvm_invoke(e.thread, f, &arg, &res), LVM_OK);
    cr_assert_eq(res.i32, 10000);
    /* The body's 1,002 constant instructions hold two values (0 and 1). */
    cr_assert_eq(f->code->nconsts, 2);
    cr_assert_lt(f->code->nslots, 16, "nslots %u", f->code->nslots);
    env_free(&e);
}

/* A module of one exported function `run` of type [] -> [i32] whose body
 * is `pairs` times `i32.const 0; drop`, then `i32.const 7`. */
static uint8_t *many_pairs_module(uint32_t pairs, size_t *len_out)
{
    size_t body = 1 + (size_t)pairs * 3 + 2 + 1;        /* locals, pairs, const 7, end */
    size_t cap = body + 64;
    uint8_t *b = malloc(cap);
    cr_assert_not_null(b);
    size_t n = 0;
    static const uint8_t head[] = {
        0, 'a', 's', 'm', 1, 0, 0, 0,
        0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,      /* type 0: [] -> [i32] */
        0x03, 0x02, 0x01, 0x00,                        /* function 0: type 0 */
        0x07, 0x07, 0x01, 0x03, 'r', 'u', 'n', 0x00, 0x00,  /* export "run" */
    };
    memcpy(b, head, sizeof head);
    n = sizeof head;
    /* code section: id, size, count 1, body size, body (sizes as 5-byte
     * LEB128, which the format allows) */
    uint32_t sizes[2] = { (uint32_t)(1 + 5 + body), (uint32_t)body };
    b[n++] = 0x0a;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 5; i++)
            b[n++] = (uint8_t)(((sizes[k] >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0));
        if (k == 0)
            b[n++] = 0x01;
    }
    b[n++] = 0x00;                                     /* no locals */
    for (uint32_t i = 0; i < pairs; i++) {
        b[n++] = 0x41;                                 /* i32.const 0 */
        b[n++] = 0x00;
        b[n++] = 0x1a;                                 /* drop */
    }
    b[n++] = 0x41;
    b[n++] = 0x07;
    b[n++] = 0x0b;
    cr_assert_leq(n, cap);
    *len_out = n;
    return b;
}

Test(exec_consts, five_million_constant_pairs_in_one_function_run)
{
    size_t len;
    uint8_t *bytes = many_pairs_module(5000000, &len);
    lvm_diag d;
    lvm_module *m = lvm_module_load(bytes, len, &d);
    free(bytes);
    cr_assert_not_null(m, "%s", d.message);
    env e = instantiate(m);
    lvm_func *f = env_export(&e, "run");
    lvm_val res;
    cr_assert_eq(lvm_invoke(e.thread, f, NULL, &res), LVM_OK);
    cr_assert_eq(res.i32, 7);
    cr_assert_eq(f->code->nconsts, 2);                 /* 0 and 7 */
    env_free(&e);
}

Test(exec_consts, equal_bits_share_a_slot_and_distinct_ones_do_not)
{
    /* i32 0, i64 0, f32 0.0, f64 0.0 and ref.null are all the bits 0: one
     * slot.  -0.0 (f32 and f64 bits differ), 1 and i64 1 (same bits): three
     * more.  Every value must still read back right. */
    env e = instantiate(load_wat(
        "(module (func (export \"f\") (result i32)\n"
        "  (i32.add (i32.const 0) (i32.wrap_i64 (i64.const 0)))\n"
        "  (i32.add (i32.trunc_f32_s (f32.const 0)))\n"
        "  (i32.add (i32.trunc_f64_s (f64.const 0)))\n"
        "  (i32.add (ref.is_null (ref.null extern)))\n"
        "  (i32.add (i32.reinterpret_f32 (f32.const -0)))\n"
        "  (i32.add (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (f64.const -0)) (i64.const 32))))\n"
        "  (i32.add (i32.const 1))\n"
        "  (i32.add (i32.wrap_i64 (i64.const 1)))\n"
        "  (i32.add (i32.const 0))))"));
    lvm_func *f = env_export(&e, "f");
    lvm_val res;
    cr_assert_eq(lvm_invoke(e.thread, f, NULL, &res), LVM_OK);
    /* 0 + 0 + 0 + 0 + 1 + 0x80000000 + 0x80000000 + 1 + 1 (i32 wraps) */
    cr_assert_eq(res.i32, 3u);
    /* bits 0, 0x80000000, 0x8000000000000000, 1, 32 */
    cr_assert_eq(f->code->nconsts, 5);
    env_free(&e);
}
