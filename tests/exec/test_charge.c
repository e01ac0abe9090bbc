/*
 * test_charge.c - lvm_hostcall_charge: a host call that costs more than
 * one reduction makes its caller yield as soon as the budget is spent
 * (lunatic's spawn is charged so), and the charge counts as fuel.
 */
#include <criterion/criterion.h>

#include "exec.h"
#include "wat.h"

static const char *charge_wat =
    "(module\n"
    " (import \"env\" \"costly\" (func $costly (param i32) (result i32)))\n"
    " (func (export \"run\") (param $n i32) (result i32) (local $i i32)\n"
    "   (block $done (loop $l\n"
    "     (br_if $done (i32.ge_u (local.get $i) (local.get $n)))\n"
    "     (drop (call $costly (local.get $i)))\n"
    "     (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "     (br $l)))\n"
    "   (local.get $i)))\n";

static int32_t cost;

static lvm_err host_costly(lvm_hostcall *call, lvm_val *v)
{
    lvm_hostcall_charge(call, cost);
    return LVM_OK;
}

/* Run run(n) slice by slice; the number of slices it took. */
static int slices(int32_t charge, uint32_t n, uint64_t fuel, lvm_err *err_out)
{
    cost = charge;
    lvm_store *hs = lvm_store_new(), *s = lvm_store_new();
    lvm_linker *l = lvm_linker_new();
    lvm_extern x = { .kind = LVM_EXTERN_FUNC };
    x.u.func = lvm_func_new_host(hs, "i:i", host_costly, NULL);
    cr_assert_eq(lvm_linker_define(l, "env", "costly", x), LVM_OK);
    lvm_module *m = load_wat(charge_wat);
    lvm_thread_config cfg = { .reductions = 4000 };
    lvm_thread *t = lvm_thread_new(&cfg);
    lvm_instance *inst;
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(s, l, m, t, &inst, &d), LVM_OK, "%s", d.message);
    if (fuel)
        lvm_thread_set_fuel(t, fuel);
    lvm_extern f;
    cr_assert(lvm_instance_export(inst, "run", &f));
    lvm_val a = { .i64 = n };
    cr_assert_eq(exec_enter(t, f.u.func, &a), LVM_OK);
    int k = 0;
    lvm_err err;
    do {
        err = exec_run(t);
        k++;
    } while (err == LVM_ERR_YIELD);
    if (err == LVM_OK)
        cr_assert_eq(t->stack[0].i32, n);
    *err_out = err;
    lvm_thread_free(t);
    lvm_linker_free(l);
    lvm_store_free(s);
    lvm_store_free(hs);
    lvm_module_release(m);
    return k;
}

Test(exec_charge, a_costly_host_call_yields_sooner)
{
    lvm_err err;
    /* 100 calls: ~300 reductions uncharged fit one slice of 4000; at 1000
     * each, about four calls fit a slice. */
    cr_assert_eq(slices(0, 100, 0, &err), 1);
    cr_assert_eq(err, LVM_OK);
    int k = slices(1000, 100, 0, &err);
    cr_assert_eq(err, LVM_OK);
    cr_assert(k >= 20 && k <= 40, "%d slices", k);
}

Test(exec_charge, the_charge_is_fuel)
{
    lvm_err err;
    /* 100,000 reductions of fuel: enough for 100 plain calls, not for 100
     * at 2,000 each. */
    slices(0, 100, 100000, &err);
    cr_assert_eq(err, LVM_OK);
    slices(2000, 100, 100000, &err);
    cr_assert_eq(err, LVM_ERR_TRAP_FUEL);
}
