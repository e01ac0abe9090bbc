/*
 * test_catch.c - a host call that runs wasm as a nested call catching
 * traps (lvm_hostcall_catch, lunatic 0.14's trap::catch), and fuel
 * (lvm_thread_set_fuel).
 *
 * The catch module's host function env.catch(i, arg) calls the function
 * at index i of the module's exported table `tab` under a catch, so each
 * test picks its body by index.  Traps inside it come back as a result
 * of 0 and the wasm caller goes on; proc_exit, fuel and a kill end the
 * run.  Runs that must yield or block are driven slice by slice with
 * exec_enter and exec_run, as a scheduler does.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "exec.h"
#include "wat.h"

/* The bodies, by table index (all of type $t but WRONG_TYPE). */
enum {
    OK_F, UNREACH_F, DIV_F, OOB_F, HOSTFAIL_F, DEEP_F, NESTED_F, AFTER_INNER_F, EXIT_F,
    LOOP_F, BLOCK_F, DEEP_TRAP_F, WRONG_TYPE_F, HOST_IN_TABLE_F, GROW_TRAP_F, KILL_F,
    LOOP_TRAP_F, NESTED_LOOP_F, NESTED_WRONG_F,
};

static const char *catch_wat =
    "(module\n"
    " (import \"env\" \"catch\" (func $catch (param i32 i32) (result i32)))\n"
    " (import \"env\" \"fail\" (func $fail (param i32 i32) (result i32)))\n"
    " (import \"env\" \"exit\" (func $exit (param i32 i32) (result i32)))\n"
    " (import \"env\" \"kill\" (func $kill (param i32 i32) (result i32)))\n"
    " (import \"env\" \"block_once\" (func $block_once (param i32 i32) (result i32)))\n"
    " (type $t (func (param i32 i32) (result i32)))\n"
    " (memory (export \"mem\") 1)\n"
    " (global $g (export \"g\") (mut i32) (i32.const 0))\n"
    " (table (export \"tab\") funcref (elem $ok $unreach $div $oob $hostfail $deep $nested\n"
    "   $after_inner $exit_f $loop $block $deep_trap $wrong $fail $grow_trap $kill_f\n"
    "   $loop_trap $nested_loop $nested_wrong))\n"
    " (func $ok (type $t) (i32.add (local.get 1) (i32.const 1)))\n"
    " (func $unreach (type $t) (global.set $g (i32.const 11)) unreachable)\n"
    " (func $div (type $t) (global.set $g (i32.const 12)) (i32.div_u (local.get 1) (i32.const 0)))\n"
    " (func $oob (type $t) (global.set $g (i32.const 13)) (i32.load (i32.const 65536)))\n"
    " (func $hostfail (type $t) (global.set $g (i32.const 14))\n"
    "   (call $fail (local.get 0) (local.get 1)))\n"
    " (func $deep (type $t) (global.set $g (local.get 1))\n"
    "   (call $deep (local.get 0) (i32.add (local.get 1) (i32.const 1))))\n"
    /* inner catch of $unreach gives 0; then arg + 100 */
    " (func $nested (type $t)\n"
    "   (i32.add (call $catch (i32.const 1) (i32.const 0)) (i32.add (local.get 1) (i32.const 100))))\n"
    /* inner catch of $ok returns arg + 1 into $g, then a trap for the outer one */
    " (func $after_inner (type $t) (global.set $g (call $catch (i32.const 0) (local.get 1)))\n"
    "   unreachable)\n"
    " (func $exit_f (type $t) (call $exit (local.get 0) (local.get 1)))\n"
    " (func $kill_f (type $t) (call $kill (local.get 0) (local.get 1)))\n"
    " (func $loop (type $t) (local $i i32)\n"
    "   (block $done (loop $l\n"
    "     (br_if $done (i32.ge_u (local.get $i) (local.get 1)))\n"
    "     (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "     (global.set $g (local.get $i))\n"
    "     (br $l)))\n"
    "   (local.get $i))\n"
    " (func $loop_trap (type $t) (drop (call $loop (local.get 0) (local.get 1))) unreachable)\n"
    /* an inner catch of a long loop, then arg more iterations */
    " (func $nested_loop (type $t)\n"
    "   (i32.add (call $catch (i32.const 9) (local.get 1)) (call $loop (local.get 0) (local.get 1))))\n"
    " (func $nested_wrong (type $t) (call $catch (i32.const 12) (local.get 1)))\n"
 " (func $block (type $t) (call $block_once (local.get 0) (local.get 1)))\n"
    /* arg frames deep, each with some locals (the value stack grows), then a trap */
    " (func $deep_trap (type $t) (local i64 i64 i64 i64 i64 i64 i64 i64)\n"
    "   (if (local.get 1) (then (return (call $deep_trap (local.get 0)\n"
    "       (i32.sub (local.get 1) (i32.const 1))))))\n"
    "   unreachable)\n"
    " (func $wrong (param i32) (result i32) (local.get 0))\n"
    " (func $grow_trap (type $t) (drop (memory.grow (i32.const 1))) unreachable)\n"
    " (func (export \"run\") (param i32 i32) (result i32) (call $catch (local.get 0) (local.get 1)))\n"
    /* the caller goes on after the call, with its own frame (read after
     * the value stack may have moved) */
    " (func (export \"run_then\") (param i32 i32) (result i32)\n"
    "   (i32.add (i32.add (call $catch (local.get 0) (local.get 1)) (local.get 1))\n"
    "            (i32.const 1000)))\n"
    /* memory grown inside the caught call is seen by the caller */
    " (func (export \"run_grow\") (result i32)\n"
    "   (drop (call $catch (i32.const 14) (i32.const 0)))\n"
    "   (i32.store (i32.const 65536) (i32.const 77))\n"
    "   (i32.load (i32.const 65536)))\n"
    " (func (export \"plain\") (param i32 i32) (result i32) (i32.const 5)))";

typedef struct run {
    lvm_store *hs, *s;
    lvm_linker *l;
    lvm_module *m;
    lvm_instance *inst;
    lvm_thread *t;
} run;

static int catch_calls, block_calls;

/* env.catch(i, arg): tab[i] under a catch. */
static lvm_err host_catch(lvm_hostcall *call, lvm_val *v)
{
    catch_calls++;
    lvm_extern x;
    cr_assert(lvm_instance_export(call->caller, "tab", &x));
    lvm_table *tab = x.u.table;
    cr_assert_lt(v[0].i32, tab->size);
    return lvm_hostcall_catch(call, tab->elems[v[0].i32].ref);
}

static lvm_err host_fail(lvm_hostcall *call, lvm_val *v)
{
    return LVM_ERR_TRAP_HOST;
}

static lvm_err host_exit(lvm_hostcall *call, lvm_val *v)
{
    return LVM_ERR_TRAP_EXIT;
}

static lvm_err host_kill(lvm_hostcall *call, lvm_val *v)
{
    return LVM_ERR_TRAP_KILLED;
}

/* Blocks at its first call, then returns arg * 2 (the retry must see the
 * same arguments). */
static lvm_err host_block_once(lvm_hostcall *call, lvm_val *v)
{
    if (block_calls++ == 0)
        return LVM_ERR_BLOCK;
    v[0].i64 = (uint32_t)(v[1].i32 * 2);
    return LVM_OK;
}

static run setup(const lvm_thread_config *cfg)
{
    run r;
    catch_calls = block_calls = 0;
    r.hs = lvm_store_new();
    r.s = lvm_store_new();
    r.l = lvm_linker_new();
    static const struct { const char *name; lvm_host_fn fn; } hosts[] = {
        { "catch", host_catch }, { "fail", host_fail }, { "exit", host_exit },
        { "kill", host_kill }, { "block_once", host_block_once },
    };
    for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
        lvm_extern x = { .kind = LVM_EXTERN_FUNC };
        x.u.func = lvm_func_new_host(r.hs, "ii:i", hosts[i].fn, NULL);
        cr_assert_eq(lvm_linker_define(r.l, "env", hosts[i].name, x), LVM_OK);
    }
    r.m = load_wat(catch_wat);
    r.t = lvm_thread_new(cfg);
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(r.s, r.l, r.m, r.t, &r.inst, &d), LVM_OK, "%s", d.message);
    return r;
}

static void done(run *r)
{
    lvm_thread_free(r->t);
    lvm_linker_free(r->l);
    lvm_store_free(r->s);
    lvm_store_free(r->hs);
    lvm_module_release(r->m);
}

static lvm_func *export(run *r, const char *name)
{
    lvm_extern x;
    cr_assert(lvm_instance_export(r->inst, name, &x), "no export %s", name);
    return x.u.func;
}

static uint32_t global_g(run *r)
{
    lvm_extern x;
    cr_assert(lvm_instance_export(r->inst, "g", &x));
    return lvm_global_get(x.u.global).i32;
}

/* name(i, arg) with lvm_invoke; *res gets the result. */
static lvm_err call2(run *r, const char *name, uint32_t i, uint32_t arg, uint32_t *res)
{
    lvm_val a[2] = { { .i64 = i }, { .i64 = arg } }, out = { .i64 = 0xdead };
    lvm_err err = lvm_invoke(r->t, export(r, name), a, &out);
    *res = out.i32;
    return err;
}

/* The same driven slice by slice; *slices counts exec_run calls, *blocks
 * how many of them ended in LVM_ERR_BLOCK. */
static lvm_err sliced(run *r, const char *name, uint32_t i, uint32_t arg, uint32_t *res,
                      int *slices, int *blocks)
{
    lvm_val a[2] = { { .i64 = i }, { .i64 = arg } };
    cr_assert_eq(exec_enter(r->t, export(r, name), a), LVM_OK);
    lvm_err err;
    *slices = *blocks = 0;
    do {
        err = exec_run(r->t);
        ++*slices;
        if (err == LVM_ERR_BLOCK)
            ++*blocks;
    } while (err == LVM_ERR_YIELD || err == LVM_ERR_BLOCK);
    *res = r->t->stack[0].i32;
    return err;
}

Test(exec_catch, returns_the_result_of_f)
{
    run r = setup(NULL);
    uint32_t res;
    cr_assert_eq(call2(&r, "run", OK_F, 41, &res), LVM_OK);
    cr_assert_eq(res, 42);
    cr_assert_eq(call2(&r, "run_then", OK_F, 41, &res), LVM_OK);
    cr_assert_eq(res, 42 + 41 + 1000);
    cr_assert_eq(catch_calls, 2);
    done(&r);
}

/* Each trap gives 0, the caller goes on after the call, state written
 * before the trap stays, and the caught trap leaves no backtrace. */
Test(exec_catch, traps_in_f_give_zero_and_the_caller_goes_on)
{
    static const struct { int f; uint32_t g; } cases[] = {
        { UNREACH_F, 11 }, { DIV_F, 12 }, { OOB_F, 13 }, { HOSTFAIL_F, 14 },
    };
    run r = setup(NULL);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint32_t res;
        cr_assert_eq(call2(&r, "run", cases[i].f, 7, &res), LVM_OK, "case %zu", i);
        cr_assert_eq(res, 0, "case %zu", i);
        cr_assert_eq(global_g(&r), cases[i].g, "case %zu", i);
        cr_assert_eq(call2(&r, "run_then", cases[i].f, 7, &res), LVM_OK, "case %zu", i);
        cr_assert_eq(res, 1007, "case %zu", i);
        char bt[256];
        cr_assert_eq(lvm_thread_backtrace(r.t, bt, sizeof bt), 0, "%s", bt);
    }
    /* The thread is fine afterwards: a plain call, and a trap outside any
     * catch still ends the run with its backtrace. */
    uint32_t res;
    cr_assert_eq(call2(&r, "plain", 0, 0, &res), LVM_OK);
    cr_assert_eq(res, 5);
    lvm_val a[2] = { { .i64 = 0 }, { .i64 = 0 } }, out;
    lvm_extern x;
    cr_assert(lvm_instance_export(r.inst, "tab", &x));
    cr_assert_eq(lvm_invoke(r.t, x.u.table->elems[UNREACH_F].ref, a, &out),
                 LVM_ERR_TRAP_UNREACHABLE);
    char bt[256];
    cr_assert_eq(lvm_thread_backtrace(r.t, bt, sizeof bt), 1, "%s", bt);
    done(&r);
}

Test(exec_catch, call_stack_exhausted_in_f_is_caught)
{
    lvm_thread_config cfg = { .max_call_depth = 500 };
    run r = setup(&cfg);
    uint32_t res;
    cr_assert_eq(call2(&r, "run_then", DEEP_F, 3, &res), LVM_OK);
    cr_assert_eq(res, 1003);
    uint32_t g = global_g(&r);
    cr_assert(g > 400 && g < 600, "depth reached: %u", g - 3);
    done(&r);
}

/* deep_trap recurses 20,000 frames of 10+ slots under the catch, so the
 * value stack is reallocated many times (it starts at 16 slots); the
 * caller's frame and the results must be found again after the trap. */
Test(exec_catch, value_stack_growth_inside_f_then_a_trap)
{
    run r = setup(NULL);
    uint32_t res;
    cr_assert_eq(call2(&r, "run_then", DEEP_TRAP_F, 20000, &res), LVM_OK);
    cr_assert_eq(res, 20000 + 1000);
    cr_assert_gt(r.t->stack_end - r.t->stack, 200000);
    /* and once more, the stack already grown */
    cr_assert_eq(call2(&r, "run_then", DEEP_TRAP_F, 100, &res), LVM_OK);
    cr_assert_eq(res, 1100);
    done(&r);
}

Test(exec_catch, nested_inner_trap_caught_by_the_inner_catch)
{
    run r = setup(NULL);
    uint32_t res;
    /* nested: inner catch of unreachable gives 0, f goes on: 0 + 5 + 100 */
    cr_assert_eq(call2(&r, "run_then", NESTED_F, 5, &res), LVM_OK);
    cr_assert_eq(res, 105 + 5 + 1000);
    cr_assert_eq(catch_calls, 2);
    cr_assert_eq(global_g(&r), 11);
    done(&r);
}

Test(exec_catch, nested_trap_after_the_inner_catch_returned_is_caught_by_the_outer)
{
    run r = setup(NULL);
    uint32_t res;
    cr_assert_eq(call2(&r, "run_then", AFTER_INNER_F, 8, &res), LVM_OK);
    cr_assert_eq(res, 8 + 1000);
    cr_assert_eq(global_g(&r), 9);      /* the inner catch returned ok(8) */
    done(&r);
}

Test(exec_catch, memory_grown_in_f_is_seen_after_the_trap)
{
    run r = setup(NULL);
    lvm_val out;
    cr_assert_eq(lvm_invoke(r.t, export(&r, "run_grow"), NULL, &out), LVM_OK);
    cr_assert_eq(out.i32, 77);
    done(&r);
}

Test(exec_catch, exit_and_kill_are_not_caught)
{
    run r = setup(NULL);
    uint32_t res;
    cr_assert_eq(call2(&r, "run_then", EXIT_F, 1, &res), LVM_ERR_TRAP_EXIT);
    cr_assert_eq(call2(&r, "run_then", KILL_F, 1, &res), LVM_ERR_TRAP_KILLED);
    /* not even by an outer catch, and the catch stack is left empty */
    cr_assert_eq(r.t->ncatch, 0);
    cr_assert_eq(call2(&r, "run", OK_F, 1, &res), LVM_OK);
    cr_assert_eq(res, 2);
    done(&r);
}

Test(exec_catch, fuel_is_not_caught)
{
    run r = setup(NULL);
    lvm_thread_set_fuel(r.t, 5000);
    uint32_t res;
    cr_assert_eq(call2(&r, "run_then", LOOP_F, 1000000, &res), LVM_ERR_TRAP_FUEL);
    uint32_t g = global_g(&r);
    cr_assert(g >= 4900 && g <= 5000, "iterations: %u", g);
    cr_assert_eq(r.t->ncatch, 0);
    done(&r);
}

Test(exec_catch, f_of_another_type_or_a_host_f_makes_the_catch_trap)
{
    run r = setup(NULL);
    uint32_t res;
    cr_assert_eq(call2(&r, "run_then", WRONG_TYPE_F, 1, &res), LVM_ERR_TRAP_INDIRECT_TYPE);
    cr_assert_eq(call2(&r, "run_then", HOST_IN_TABLE_F, 1, &res), LVM_ERR_TRAP_INDIRECT_TYPE);
    /* inside a caught call, that trap is caught like any other */
    cr_assert_eq(call2(&r, "run_then", NESTED_WRONG_F, 1, &res), LVM_OK);
    cr_assert_eq(res, 1001);
    done(&r);
}

/* Without a wasm caller (lvm_invoke of the host function itself) there is
 * nothing to continue: the catch refuses. */
static lvm_err host_catch_self(lvm_hostcall *call, lvm_val *v)
{
    return lvm_hostcall_catch(call, call->data);
}

static lvm_err host_call_without_catch(lvm_hostcall *call, lvm_val *v)
{
    return LVM_ERR_CALL;
}

Test(exec_catch, not_from_lvm_invoke_of_a_host_function)
{
    run r = setup(NULL);
    lvm_func *h = lvm_func_new_host(r.hs, "ii:i", host_catch_self, export(&r, "plain"));
    lvm_val a[2] = { { .i64 = 0 }, { .i64 = 0 } }, out;
    cr_assert_eq(lvm_invoke(r.t, h, a, &out), LVM_ERR_TRAP_HOST);
    done(&r);
}

Test(exec_catch, a_call_result_without_a_catch_traps)
{
    lvm_store *s = lvm_store_new();
    lvm_linker *l = lvm_linker_new();
    lvm_extern x = { .kind = LVM_EXTERN_FUNC };
    x.u.func = lvm_func_new_host(s, ":", host_call_without_catch, NULL);
    lvm_linker_define(l, "env", "h", x);
    lvm_module *m = load_wat("(module (import \"env\" \"h\" (func $h))\n"
                             " (func (export \"f\") (call $h)))");
    lvm_thread *t = lvm_thread_new(NULL);
    lvm_instance *inst;
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(s, l, m, t, &inst, &d), LVM_OK, "%s", d.message);
    lvm_extern f;
    cr_assert(lvm_instance_export(inst, "f", &f));
    cr_assert_eq(lvm_invoke(t, f.u.func, NULL, NULL), LVM_ERR_TRAP_HOST);
    lvm_thread_free(t);
    lvm_linker_free(l);
    lvm_store_free(s);
    lvm_module_release(m);
}

/* f loops 100,000 times at 100 reductions a slice: it yields ~1000 times
 * inside the catch and still returns its result to the right place. */
Test(exec_catch, f_that_yields_many_times)
{
    lvm_thread_config cfg = { .reductions = 100 };
    run r = setup(&cfg);
    uint32_t res;
    int slices, blocks;
    cr_assert_eq(sliced(&r, "run_then", LOOP_F, 100000, &res, &slices, &blocks), LVM_OK);
    cr_assert_eq(res, 100000 + 100000 + 1000);
    cr_assert(slices >= 900, "slices = %d", slices);
    cr_assert_eq(catch_calls, 1);       /* the catch is not re-run on resume */
    /* a trap after many yields is caught too */
    cr_assert_eq(sliced(&r, "run_then", LOOP_TRAP_F, 50000, &res, &slices, &blocks), LVM_OK);
    cr_assert_eq(res, 50000 + 1000);
    cr_assert(slices >= 450, "slices = %d", slices);
    /* a nested catch whose inner f yields: 20,000 in the inner catch, as
     * many after it */
    cr_assert_eq(sliced(&r, "run_then", NESTED_LOOP_F, 20000, &res, &slices, &blocks), LVM_OK);
    cr_assert_eq(res, 40000 + 20000 + 1000);
    cr_assert(slices >= 350, "slices = %d", slices);
    done(&r);
}

Test(exec_catch, a_host_call_that_blocks_inside_f_is_retried)
{
    run r = setup(NULL);
    uint32_t res;
    int slices, blocks;
    cr_assert_eq(sliced(&r, "run_then", BLOCK_F, 21, &res, &slices, &blocks), LVM_OK);
    cr_assert_eq(blocks, 1);
    cr_assert_eq(block_calls, 2);
    cr_assert_eq(catch_calls, 1);
    cr_assert_eq(res, 42 + 21 + 1000);
    done(&r);
}

/* {====== fuel */

static const char *spin_wat =
    "(module (memory 1024)\n"
    " (global $g (export \"g\") (mut i32) (i32.const 0))\n"
    " (func $spin (export \"spin\") (param $n i32) (result i32) (local $i i32)\n"
    "  (block $done (loop $l\n"
    "    (br_if $done (i32.ge_u (local.get $i) (local.get $n)))\n"
    "    (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "    (global.set $g (local.get $i))\n"
    "    (br $l)))\n"
    "  (local.get $i))\n"
    " (func (export \"fill\") (param $n i32)\n"
    "  (memory.fill (i32.const 0) (i32.const 1) (local.get $n)))\n"
    " (func (export \"byte\") (param i32) (result i32) (i32.load8_u (local.get 0))))";

typedef struct fenv {
    lvm_store *s;
    lvm_module *m;
    lvm_instance *inst;
    lvm_thread *t;
} fenv;

static fenv fsetup(int32_t slice)
{
    fenv e;
    lvm_thread_config cfg = { .reductions = slice };
    e.s = lvm_store_new();
    e.m = load_wat(spin_wat);
    e.t = lvm_thread_new(&cfg);
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(e.s, NULL, e.m, e.t, &e.inst, &d), LVM_OK, "%s", d.message);
    return e;
}

static void fdone(fenv *e)
{
    lvm_thread_free(e->t);
    lvm_store_free(e->s);
    lvm_module_release(e->m);
}

static lvm_err fcall(fenv *e, const char *name, uint32_t arg, uint32_t *res)
{
    lvm_extern x;
    cr_assert(lvm_instance_export(e->inst, name, &x), "no export %s", name);
    lvm_val a = { .i64 = arg }, out = { .i64 = 0 };
    lvm_err err = lvm_invoke(e->t, x.u.func, &a, &out);
    if (res)
        *res = out.i32;
    return err;
}

static uint32_t fglobal(fenv *e)
{
    lvm_extern x;
    cr_assert(lvm_instance_export(e->inst, "g", &x));
    return lvm_global_get(x.u.global).i32;
}

Test(exec_fuel, unlimited_by_default)
{
    fenv e = fsetup(100);
    cr_assert(!lvm_thread_fuel_limited(e.t));
    cr_assert_eq(lvm_thread_fuel_left(e.t), 0);
    uint32_t res;
    cr_assert_eq(fcall(&e, "spin", 1000000, &res), LVM_OK);
    cr_assert_eq(res, 1000000);
    cr_assert(!lvm_thread_fuel_limited(e.t));
    fdone(&e);
}

/* N reductions: the loop runs about N iterations (one reduction per
 * back-edge, so N + 1 bodies at most), not fewer than N less a slice,
 * and does not finish. */
Test(exec_fuel, a_loop_stops_after_about_n_reductions)
{
    static const struct { int32_t slice; uint64_t n; } cases[] = {
        { 100, 10000 }, { 4000, 10000 }, { 7, 12345 }, { 4000, 4000 }, { 100, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fenv e = fsetup(cases[i].slice);
        lvm_thread_set_fuel(e.t, cases[i].n);
        cr_assert(lvm_thread_fuel_limited(e.t));
        cr_assert_eq(lvm_thread_fuel_left(e.t), cases[i].n);
        cr_assert_eq(fcall(&e, "spin", 1000000, NULL), LVM_ERR_TRAP_FUEL, "case %zu", i);
        uint64_t g = fglobal(&e);
        cr_assert(g + (uint64_t)cases[i].slice >= cases[i].n && g <= cases[i].n + 1,
                  "case %zu: %llu iterations on %llu fuel", i, (unsigned long long)g,
                  (unsigned long long)cases[i].n);
        cr_assert(lvm_thread_fuel_limited(e.t));
        cr_assert_eq(lvm_thread_fuel_left(e.t), 0);
        /* spent: the next run traps at its first reduction */
        cr_assert_eq(fcall(&e, "spin", 10, NULL), LVM_ERR_TRAP_FUEL);
        char bt[256];
        cr_assert_eq(lvm_thread_backtrace(e.t, bt, sizeof bt), 1, "%s", bt);
        cr_assert(strstr(bt, "spin"), "%s", bt);
        fdone(&e);
    }
}

Test(exec_fuel, what_is_left_carries_over_between_runs)
{
    fenv e = fsetup(100);
    lvm_thread_set_fuel(e.t, 100000);
    uint32_t res;
    cr_assert_eq(fcall(&e, "spin", 30000, &res), LVM_OK);
    cr_assert_eq(res, 30000);
    uint64_t left = lvm_thread_fuel_left(e.t);
    cr_assert(left <= 70000 && left >= 69990, "left %llu", (unsigned long long)left);
    cr_assert_eq(fcall(&e, "spin", 60000, &res), LVM_OK);
    left = lvm_thread_fuel_left(e.t);
    cr_assert(left <= 10000 && left >= 9980, "left %llu", (unsigned long long)left);
    cr_assert_eq(fcall(&e, "spin", 60000, &res), LVM_ERR_TRAP_FUEL);
    cr_assert(fglobal(&e) <= 10001 && fglobal(&e) >= 9900, "%u", fglobal(&e));
    fdone(&e);
}

Test(exec_fuel, set_fuel_zero_is_unlimited)
{
    fenv e = fsetup(100);
    lvm_thread_set_fuel(e.t, 10);
    cr_assert_eq(fcall(&e, "spin", 1000, NULL), LVM_ERR_TRAP_FUEL);
    lvm_thread_set_fuel(e.t, 0);
    cr_assert(!lvm_thread_fuel_limited(e.t));
    uint32_t res;
    cr_assert_eq(fcall(&e, "spin", 1000000, &res), LVM_OK);
    cr_assert_eq(res, 1000000);
    /* and a new amount replaces what was left */
    lvm_thread_set_fuel(e.t, 50);
    cr_assert_eq(fcall(&e, "spin", 1000, NULL), LVM_ERR_TRAP_FUEL);
    cr_assert(fglobal(&e) <= 51 && fglobal(&e) >= 40, "%u", fglobal(&e));
    fdone(&e);
}

/* A 64 MiB memory.fill costs 1 Mi reductions (one per 64 bytes): on 10,000
 * it stops after about 10,000 * 64 bytes, the rest not written. */
Test(exec_fuel, a_large_memory_fill_is_charged)
{
    fenv e = fsetup(4000);
    lvm_thread_set_fuel(e.t, 10000);
    cr_assert_eq(fcall(&e, "fill", 64u << 20, NULL), LVM_ERR_TRAP_FUEL);
    lvm_thread_set_fuel(e.t, 0);
    uint32_t b;
    cr_assert_eq(fcall(&e, "byte", 0, &b), LVM_OK);
    cr_assert_eq(b, 1);
    cr_assert_eq(fcall(&e, "byte", (9000u << EXEC_BULK_SHIFT), &b), LVM_OK);
    cr_assert_eq(b, 1);
    cr_assert_eq(fcall(&e, "byte", (10100u << EXEC_BULK_SHIFT), &b), LVM_OK);
    cr_assert_eq(b, 0);
    cr_assert_eq(fcall(&e, "byte", (64u << 20) - 1, &b), LVM_OK);
    cr_assert_eq(b, 0);
    /* a fill within the fuel completes */
    lvm_thread_set_fuel(e.t, 20000);
    cr_assert_eq(fcall(&e, "fill", 1u << 20, NULL), LVM_OK);
    uint64_t left = lvm_thread_fuel_left(e.t);
    cr_assert(left <= 20000 - (1u << 20 >> EXEC_BULK_SHIFT) + 1 &&
              left >= 20000 - (1u << 20 >> EXEC_BULK_SHIFT) - 10, "left %llu",
              (unsigned long long)left);
    fdone(&e);
}

/* }====== */
