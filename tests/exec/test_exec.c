/*
 * test_exec.c - the interpreter's own behaviour beyond what the spec suite
 * checks: slicing by reductions (the preemption hook of green processes),
 * resuming after a yield, stack growth and exhaustion, backtraces, and the
 * slot-lowering rules (preserve, retarget, branch moves).
 *
 * Modules are written in the text format and assembled with wabt's
 * wat2wasm at test time.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "env.h"
#include "wat.h"

static env setup(const char *wat, const lvm_thread_config *cfg)
{
    return env_new(load_wat(wat), cfg);
}

static const char *loop_wat =
    "(module (func (export \"count\") (param $n i32) (result i32) (local $i i32)\n"
    "  (block $done (loop $again\n"
    "    (br_if $done (i32.ge_u (local.get $i) (local.get $n)))\n"
    "    (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "    (br $again)))\n"
    "  (local.get $i)))";

Test(exec_slices, loop_yields_and_resumes_to_the_right_result)
{
    lvm_thread_config cfg = { .reductions = 100 };
    env e = setup(loop_wat, &cfg);
    lvm_func *f = env_export(&e, "count");
    lvm_val arg = { .i64 = 100000 };
    cr_assert_eq(exec_enter(e.thread, f, &arg), LVM_OK);
    int slices = 0;
    lvm_err err;
    do {
        err = exec_run(e.thread);
        slices++;
    } while (err == LVM_ERR_YIELD);
    cr_assert_eq(err, LVM_OK);
    cr_assert_eq(e.thread->stack[0].i32, 100000);
    /* One reduction per back-edge: 100,000 iterations at 100 per slice. */
    cr_assert(slices >= 900 && slices <= 1100, "slices = %d", slices);
    env_free(&e);
}

Test(exec_slices, invoke_runs_all_slices)
{
    lvm_thread_config cfg = { .reductions = 7 };
    env e = setup(loop_wat, &cfg);
    lvm_val arg = { .i64 = 12345 }, res;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "count"), &arg, &res), LVM_OK);
    cr_assert_eq(res.i32, 12345);
    env_free(&e);
}

static const char *rec_wat =
    "(module\n"
    " (func $sum (export \"sum\") (param $n i64) (result i64)\n"
    "  (if (result i64) (i64.eqz (local.get $n)) (then (i64.const 0))\n"
    "   (else (i64.add (local.get $n) (call $sum (i64.sub (local.get $n) (i64.const 1)))))))\n"
    " (func $forever (export \"forever\") (call $forever)))";

Test(exec_stack, deep_recursion_grows_the_stack)
{
    env e = setup(rec_wat, NULL);
    lvm_val arg = { .i64 = 50000 }, res;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "sum"), &arg, &res), LVM_OK);
    cr_assert_eq(res.i64, 50000ull * 50001 / 2);
    env_free(&e);
}

Test(exec_stack, runaway_recursion_is_a_trap_and_the_thread_survives)
{
    lvm_thread_config cfg = { .max_call_depth = 1000 };
    env e = setup(rec_wat, &cfg);
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "forever"), NULL, NULL),
                 LVM_ERR_TRAP_STACK_EXHAUSTED);
    cr_assert_str_eq(lvm_strerror(LVM_ERR_TRAP_STACK_EXHAUSTED), "call stack exhausted");
    lvm_val arg = { .i64 = 10 }, res;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "sum"), &arg, &res), LVM_OK);
    cr_assert_eq(res.i64, 55);
    env_free(&e);
}

Test(exec_stack, value_stack_limit_is_a_trap)
{
    lvm_thread_config cfg = { .max_stack_slots = 4096 };
    env e = setup(rec_wat, &cfg);
    lvm_val arg = { .i64 = 100000 }, res;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "sum"), &arg, &res),
                 LVM_ERR_TRAP_STACK_EXHAUSTED);
    env_free(&e);
}

/* Limits below the thread's built-in stack and frames (EXEC_STACK0,
 * EXEC_FRAMES0) hold all the same: sum(n) takes n + 1 frames. */
Test(exec_stack, small_limits_hold_within_the_builtin_buffers)
{
    lvm_thread_config cfg = { .max_call_depth = 2 };
    env e = setup(rec_wat, &cfg);
    lvm_val arg = { .i64 = 1 }, res;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "sum"), &arg, &res), LVM_OK);
    cr_assert_eq(res.i64, 1);
    arg.i64 = 2;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "sum"), &arg, &res),
                 LVM_ERR_TRAP_STACK_EXHAUSTED, "three frames under a depth of 2");
    env_free(&e);
    lvm_thread_config slots = { .max_stack_slots = 12 };
    e = setup(rec_wat, &slots);
    arg.i64 = 0;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "sum"), &arg, &res), LVM_OK);
    arg.i64 = 3;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "sum"), &arg, &res),
                 LVM_ERR_TRAP_STACK_EXHAUSTED, "more than 12 slots");
    env_free(&e);
}

Test(exec_trap, backtrace_names_the_functions)
{
    env e = setup("(module (func $inner (unreachable))\n"
                  " (func $outer (export \"outer\") (call $inner)))", NULL);
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "outer"), NULL, NULL),
                 LVM_ERR_TRAP_UNREACHABLE);
    char buf[512];
    cr_assert_eq(lvm_thread_backtrace(e.thread, buf, sizeof buf), 2);
    cr_assert(strstr(buf, "inner"), "%s", buf);
    cr_assert(strstr(buf, "outer"), "%s", buf);
    cr_assert(strstr(buf, "inner") < strstr(buf, "outer"), "innermost first: %s", buf);
    env_free(&e);
}

/* Lowering rules: each function's result depends on getting one right. */
static const char *rules_wat =
    "(module\n"
    /* rule 1: local.get a stays on the stack while a is overwritten */
    " (func (export \"preserve\") (param $a i32) (result i32)\n"
    "  (local.get $a) (local.set $a (i32.const 100)) (local.get $a) (i32.sub))\n"
    /* swap through tee: (b, a) */
    " (func (export \"swap\") (param $a i32) (param $b i32) (result i32 i32)\n"
    "  (local.get $b) (local.get $a) (local.set $b) (local.set $a)\n"
    "  (local.get $a) (local.get $b))\n"
    /* retarget: the add writes $x directly, then $x is read back */
    " (func (export \"retarget\") (param $x i32) (result i32)\n"
    "  (local.set $x (i32.add (local.get $x) (local.get $x))) (local.get $x))\n"
    /* branch moves: constant and local values carried out of a block */
    " (func (export \"moves\") (param $p i32) (result i32 i32)\n"
    "  (block (result i32 i32) (i32.const 7) (local.get $p)\n"
    "   (br_if 0 (local.get $p)) (drop) (drop) (i32.const 1) (i32.const 2)))\n"
    /* br_table to three targets with different values */
    " (func (export \"table\") (param $i i32) (result i32)\n"
    "  (block $b2 (result i32) (block $b1 (result i32) (block $b0 (result i32)\n"
    "    (i32.const 10) (local.get $i) (br_table $b0 $b1 $b2))\n"
    "   (i32.const 1) (i32.add)) (i32.const 2) (i32.add)))\n"
    /* a condition preserved in a branch: the then-arm changes $x */
    " (func (export \"ifpreserve\") (param $x i32) (result i32)\n"
    "  (local.get $x)\n"
    "  (if (local.get $x) (then (local.set $x (i32.const 0))))\n"
    "  (local.get $x) (i32.add)))";

Test(exec_lower, slot_rules)
{
    env e = setup(rules_wat, NULL);
    lvm_val a[2], r[2];
    a[0].i64 = 5;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "preserve"), a, r), LVM_OK);
    cr_assert_eq((int32_t)r[0].i32, 5 - 100);
    a[0].i64 = 1; a[1].i64 = 2;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "swap"), a, r), LVM_OK);
    cr_assert_eq(r[0].i32, 2);
    cr_assert_eq(r[1].i32, 1);
    a[0].i64 = 21;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "retarget"), a, r), LVM_OK);
    cr_assert_eq(r[0].i32, 42);
    a[0].i64 = 9;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "moves"), a, r), LVM_OK);
    cr_assert_eq(r[0].i32, 7);
    cr_assert_eq(r[1].i32, 9);
    a[0].i64 = 0;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "moves"), a, r), LVM_OK);
    cr_assert_eq(r[0].i32, 1);
    cr_assert_eq(r[1].i32, 2);
    int expect[] = { 13, 12, 10, 10 };
    for (int i = 0; i < 4; i++) {
        a[0].i64 = (uint32_t)i;
        cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "table"), a, r), LVM_OK);
        cr_assert_eq(r[0].i32, (uint32_t)expect[i], "table(%d) = %u", i, r[0].i32);
    }
    a[0].i64 = 4;
    cr_assert_eq(lvm_invoke(e.thread, env_export(&e, "ifpreserve"), a, r), LVM_OK);
    cr_assert_eq(r[0].i32, 4);
    env_free(&e);
}

static lvm_err host_add(lvm_hostcall *call, lvm_val *v)
{
    int *calls = call->data;
    (*calls)++;
    v[0].i64 = (uint32_t)(v[0].i32 + v[1].i32);
    return LVM_OK;
}

Test(exec_host, host_function_gets_args_and_returns_results)
{
    lvm_store *s = lvm_store_new();
    lvm_linker *l = lvm_linker_new();
    int calls = 0;
    lvm_extern x = { .kind = LVM_EXTERN_FUNC };
    x.u.func = lvm_func_new_host(s, "ii:i", host_add, &calls);
    cr_assert(x.u.func);
    cr_assert_eq(lvm_linker_define(l, "env", "add", x), LVM_OK);
    lvm_module *m = load_wat("(module (import \"env\" \"add\" (func $add (param i32 i32) (result i32)))\n"
                             " (func (export \"f\") (param i32) (result i32)\n"
                             "  (call $add (local.get 0) (call $add (local.get 0) (i32.const 1)))))");
    lvm_thread *t = lvm_thread_new(NULL);
    lvm_instance *inst;
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(s, l, m, t, &inst, &d), LVM_OK, "%s", d.message);
    lvm_extern f;
    cr_assert(lvm_instance_export(inst, "f", &f));
    lvm_val a = { .i64 = 20 }, r;
    cr_assert_eq(lvm_invoke(t, f.u.func, &a, &r), LVM_OK);
    cr_assert_eq(r.i32, 41);
    cr_assert_eq(calls, 2);
    lvm_thread_free(t);
    lvm_linker_free(l);
    lvm_store_free(s);
    lvm_module_release(m);
}

Test(exec_link, missing_and_mistyped_imports_are_named)
{
    lvm_store *s = lvm_store_new();
    lvm_linker *l = lvm_linker_new();
    lvm_module *m = load_wat("(module (import \"env\" \"f\" (func (param i32))))");
    lvm_instance *inst;
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(s, l, m, NULL, &inst, &d), LVM_ERR_UNKNOWN_IMPORT);
    cr_assert(strstr(d.message, "env.f"), "%s", d.message);
    int calls = 0;
    lvm_extern x = { .kind = LVM_EXTERN_FUNC };
    x.u.func = lvm_func_new_host(s, "I:", host_add, &calls);
    lvm_linker_define(l, "env", "f", x);
    cr_assert_eq(lvm_instantiate(s, l, m, NULL, &inst, &d), LVM_ERR_INCOMPATIBLE_IMPORT);
    lvm_linker_free(l);
    lvm_store_free(s);
    lvm_module_release(m);
}

static lvm_err host_ten(lvm_hostcall *call, lvm_val *v)
{
    (void)call;
    v[0].i64 = 10;
    return LVM_OK;
}

static lvm_err host_twenty(lvm_hostcall *call, lvm_val *v)
{
    (void)call;
    v[0].i64 = 20;
    return LVM_OK;
}

static int32_t call_g(lvm_store *s, lvm_linker *l, lvm_module *m, lvm_thread *t)
{
    lvm_instance *inst;
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(s, l, m, t, &inst, &d), LVM_OK, "%s", d.message);
    lvm_extern g;
    cr_assert(lvm_instance_export(inst, "g", &g));
    lvm_val r;
    cr_assert_eq(lvm_invoke(t, g.u.func, NULL, &r), LVM_OK);
    return r.i32;
}

/* The linker remembers how the last module's imports resolved (the spawn
 * path instantiates one module again and again); a later definition that
 * shadows an import must win over the remembered one, and a module that
 * no longer links must still be refused. */
Test(exec_link, remembered_imports_follow_later_definitions)
{
    lvm_store *s = lvm_store_new();
    lvm_linker *l = lvm_linker_new();
    lvm_thread *t = lvm_thread_new(NULL);
    lvm_module *m = load_wat("(module (import \"env\" \"v\" (func $v (result i32)))\n"
                             " (func (export \"g\") (result i32) (call $v)))");
    lvm_extern x = { .kind = LVM_EXTERN_FUNC };
    x.u.func = lvm_func_new_host(s, ":i", host_ten, NULL);
    cr_assert_eq(lvm_linker_define(l, "env", "v", x), LVM_OK);
    cr_assert_eq(call_g(s, l, m, t), 10);
    cr_assert_eq(call_g(s, l, m, t), 10);           /* from the cache */
    x.u.func = lvm_func_new_host(s, ":i", host_twenty, NULL);
    cr_assert_eq(lvm_linker_define(l, "env", "v", x), LVM_OK);
    cr_assert_eq(call_g(s, l, m, t), 20);
    cr_assert_eq(call_g(s, l, m, t), 20);
    x.u.func = lvm_func_new_host(s, "i:", host_add, NULL);   /* a wrong type */
    cr_assert_eq(lvm_linker_define(l, "env", "v", x), LVM_OK);
    lvm_instance *inst;
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(s, l, m, t, &inst, &d), LVM_ERR_INCOMPATIBLE_IMPORT);
    lvm_thread_free(t);
    lvm_linker_free(l);
    lvm_store_free(s);
    lvm_module_release(m);
}
