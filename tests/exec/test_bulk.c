/*
 * test_bulk.c - the bulk instructions (memory.fill/copy/init, table.fill/
 * copy/init, table.grow) are charged reductions in proportion to their
 * size and a long one is done in pieces across slices (exec/interp.c):
 * the result is the same as in one go, overlapping copies included; the
 * bounds check still covers the whole range before any byte is written;
 * a small one costs nothing; and on one worker a process doing gigabytes
 * of memory.fill lets another one run between its fills.
 *
 * Slices are counted by driving the thread with exec_enter and exec_run,
 * as a scheduler does: every LVM_ERR_YIELD is the end of a slice.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "process.h"
#include "wat.h"

#define PAGE LVM_PAGE_SIZE

typedef struct run {
    lvm_store *s;
    lvm_instance *inst;
    lvm_thread *t;
} run;

static run make(const char *wat, int32_t reductions)
{
    run r;
    lvm_module *m = load_wat(wat);
    r.s = lvm_store_new();
    lvm_thread_config tc = { .reductions = reductions };
    r.t = lvm_thread_new(&tc);
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(r.s, NULL, m, r.t, &r.inst, &d), LVM_OK, "%s", d.message);
    lvm_module_release(m);
    return r;
}

static void done(run *r)
{
    lvm_thread_free(r->t);
    lvm_store_free(r->s);
}

/* Call export `name` with args; returns how many slices it took and
 * leaves its result (LVM_OK or the trap) in *err. */
static long slices(run *r, const char *name, const lvm_val *args, lvm_err *err)
{
    lvm_extern x;
    cr_assert(lvm_instance_export(r->inst, name, &x), "no export %s", name);
    cr_assert_eq(exec_enter(r->t, x.u.func, args), LVM_OK);
    long n = 1;
    lvm_err e;
    while ((e = exec_run(r->t)) == LVM_ERR_YIELD)
        n++;
    *err = e;
    return n;
}

static uint8_t *bytes(run *r) { return lvm_memory_data(lvm_instance_memory(r->inst)); }

/* Memory: 16 pages (1 MiB); a 16 KiB data segment of bytes i % 251. */
static const char *mem_wat_head = "(module (memory (export \"mem\") 16)\n (data $d \"";
static const char *mem_wat_tail =
    "\")\n"
    " (func (export \"fill\") (param i32 i32 i32)\n"
    "  (memory.fill (local.get 0) (local.get 1) (local.get 2)))\n"
    " (func (export \"copy\") (param i32 i32 i32)\n"
    "  (memory.copy (local.get 0) (local.get 1) (local.get 2)))\n"
    " (func (export \"init\") (param i32 i32 i32)\n"
    "  (memory.init $d (local.get 0) (local.get 1) (local.get 2)))\n"
    " (func (export \"small\")\n"
    "  (memory.fill (i32.const 0) (i32.const 7) (i32.const 64))\n"
    "  (memory.copy (i32.const 64) (i32.const 0) (i32.const 64))))";

#define SEG 16384

static run make_mem(int32_t reductions)
{
    /* The segment as a wat string: "\xx" escapes. */
    static char wat[SEG * 3 + 2048], seg[SEG * 3 + 1];
    for (int i = 0; i < SEG; i++)
        snprintf(seg + 3 * i, 4, "\\%02x", i % 251);
    snprintf(wat, sizeof wat, "%s%s%s", mem_wat_head, seg, mem_wat_tail);
    return make(wat, reductions);
}

static void call3(run *r, const char *name, uint32_t a, uint32_t b, uint32_t c,
                  long min_slices)
{
    lvm_val args[3] = { { .i32 = a }, { .i32 = b }, { .i32 = c } };
    lvm_err e;
    long n = slices(r, name, args, &e);
    cr_assert_eq(e, LVM_OK, "%s: %s", name, lvm_strerror(e));
    cr_assert_geq(n, min_slices, "%s(%u, %u, %u) took %ld slices", name, a, b, c, n);
}

/* The fewest slices a range of `units` takes on a budget of `reds`
 * (shift: units per reduction, as a power of two). */
static long least(uint64_t units, int shift, int32_t reds)
{
    return (long)(units / (((uint64_t)reds + 1) << shift));
}

Test(exec_bulk, fill_in_pieces_is_one_fill)
{
    run r = make_mem(10);
    uint32_t d = 1000, n = 15 * PAGE + 123;
    call3(&r, "fill", d, 0xab, n, least(n, EXEC_BULK_SHIFT, 10));
    const uint8_t *p = bytes(&r);
    for (uint32_t i = 0; i < 16 * PAGE; i++)
        cr_assert_eq(p[i], i >= d && i < d + n ? 0xab : 0, "byte %u", i);
    done(&r);
}

/* Overlapping ranges copy as if through a buffer, in both directions,
 * although every piece is a separate memmove. */
Test(exec_bulk, overlapping_copies_in_pieces)
{
    static uint8_t want[16 * PAGE];
    for (int up = 0; up < 2; up++) {
        run r = make_mem(3);
        uint8_t *p = bytes(&r);
        for (uint32_t i = 0; i < 16 * PAGE; i++)
            p[i] = (uint8_t)(i * 7 + 1);
        memcpy(want, p, sizeof want);
        uint32_t s = up ? 100 : 5000, d = up ? 5000 : 100, n = 12 * PAGE;
        memmove(want + d, want + s, n);
        call3(&r, "copy", d, s, n, least(n, EXEC_BULK_SHIFT, 3));
        cr_assert_eq(memcmp(bytes(&r), want, sizeof want), 0, "copy %s", up ? "up" : "down");
        done(&r);
    }
}

Test(exec_bulk, init_in_pieces)
{
    run r = make_mem(1);
    uint32_t d = 3 * PAGE + 5, s = 17, n = SEG - 17;
    call3(&r, "init", d, s, n, least(n, EXEC_BULK_SHIFT, 1));
    const uint8_t *p = bytes(&r);
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(p[d + i], (s + i) % 251, "byte %u", d + i);
    cr_assert_eq(p[d - 1], 0);
    cr_assert_eq(p[d + n], 0);
    done(&r);
}

/* The whole range is checked first: a fill, copy or init that runs past
 * the end by one byte traps at once and writes nothing, however long. */
Test(exec_bulk, out_of_bounds_traps_before_any_write)
{
    run r = make_mem(1);
    lvm_err e;
    lvm_val fill[3] = { { .i32 = 1 }, { .i32 = 0xff }, { .i32 = 16 * PAGE } };
    cr_assert_eq(slices(&r, "fill", fill, &e), 1);
    cr_assert_eq(e, LVM_ERR_TRAP_MEMORY_OOB);
    lvm_val copy[3] = { { .i32 = 0 }, { .i32 = SEG + 1 }, { .i32 = 16 * PAGE - SEG } };
    bytes(&r)[SEG + 1] = 9;
    cr_assert_eq(slices(&r, "copy", copy, &e), 1);
    cr_assert_eq(e, LVM_ERR_TRAP_MEMORY_OOB);
    lvm_val init[3] = { { .i32 = 0 }, { .i32 = 1 }, { .i32 = SEG } };
    cr_assert_eq(slices(&r, "init", init, &e), 1);
    cr_assert_eq(e, LVM_ERR_TRAP_MEMORY_OOB);
    const uint8_t *p = bytes(&r);
    for (uint32_t i = 0; i < 16 * PAGE; i++)
        cr_assert_eq(p[i], i == SEG + 1 ? 9 : 0, "byte %u", i);
    done(&r);
}

/* A range of one reduction's worth is never split and costs nothing: on a
 * budget of one reduction, two such ops finish in the first slice. */
Test(exec_bulk, small_ranges_are_free)
{
    run r = make_mem(1);
    lvm_err e;
    cr_assert_eq(slices(&r, "small", NULL, &e), 1);
    cr_assert_eq(e, LVM_OK);
    cr_assert_eq(bytes(&r)[127], 7);
    /* While a long one on the same budget is cut into many pieces. */
    lvm_val args[3] = { { .i32 = 0 }, { .i32 = 1 }, { .i32 = 4 * PAGE } };
    cr_assert_geq(slices(&r, "fill", args, &e), least(4 * PAGE, EXEC_BULK_SHIFT, 1));
    cr_assert_eq(e, LVM_OK);
    done(&r);
}

/* Tables: 100,000 funcref entries; element segment $e of 3 functions. */
static const char *table_wat =
    "(module (table $t (export \"t\") 100000 funcref)\n"
    " (elem $e func $a $b $c)\n"
    " (func $a (result i32) (i32.const 1)) (func $b (result i32) (i32.const 2))\n"
    " (func $c (result i32) (i32.const 3))\n"
    " (func (export \"fill\") (param i32 i32)\n"
    "  (table.fill $t (local.get 0) (ref.func $b) (local.get 1)))\n"
    " (func (export \"copy\") (param i32 i32 i32)\n"
    "  (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))\n"
    " (func (export \"init\") (param i32)\n"
    "  (table.init $t $e (local.get 0) (i32.const 0) (i32.const 3)))\n"
    " (func (export \"grow\") (param i32) (result i32)\n"
    "  (table.grow $t (ref.null func) (local.get 0)))\n"
    " (func (export \"at\") (param i32) (result i32)\n"
    "  (call_indirect $t (result i32) (local.get 0))))";

static int at(run *r, uint32_t i)
{
    lvm_extern x;
    cr_assert(lvm_instance_export(r->inst, "at", &x));
    lvm_val a = { .i32 = i }, res;
    cr_assert_eq(lvm_invoke(r->t, x.u.func, &a, &res), LVM_OK, "element %u", i);
    return (int)res.i32;
}

Test(exec_bulk, table_ops_in_pieces)
{
    run r = make(table_wat, 2);
    lvm_err e;
    /* Fill [10, 90010) with $b, in pieces. */
    lvm_val f[2] = { { .i32 = 10 }, { .i32 = 90000 } };
    cr_assert_geq(slices(&r, "fill", f, &e), least(90000, EXEC_BULK_SHIFT - 3, 2));
    cr_assert_eq(e, LVM_OK);
    /* Put $a $b $c at 0..2, then copy [0, 50000) up by 1 (overlapping). */
    lvm_val i = { .i32 = 0 };
    cr_assert_eq(slices(&r, "init", &i, &e), 1);
    cr_assert_eq(e, LVM_OK);
    lvm_val c[3] = { { .i32 = 1 }, { .i32 = 0 }, { .i32 = 50000 } };
    cr_assert_geq(slices(&r, "copy", c, &e), least(50000, EXEC_BULK_SHIFT - 3, 2));
    cr_assert_eq(e, LVM_OK);
    cr_assert_eq(at(&r, 1), 1);
    cr_assert_eq(at(&r, 2), 2);
    cr_assert_eq(at(&r, 3), 3);
    for (uint32_t k = 11; k <= 90009; k += 997)
        cr_assert_eq(at(&r, k), 2, "element %u", k);
    cr_assert_eq(at(&r, 90009), 2);
    /* The entries past the fill are still null: a trap. */
    lvm_extern x;
    cr_assert(lvm_instance_export(r.inst, "at", &x));
    lvm_val a = { .i32 = 90010 }, res;
    cr_assert_eq(lvm_invoke(r.t, x.u.func, &a, &res), LVM_ERR_TRAP_UNINIT_ELEM);
    /* Out of bounds by one: a trap, nothing written. */
    lvm_val bad[2] = { { .i32 = 90011 }, { .i32 = 100000 - 90010 } };
    cr_assert_eq(slices(&r, "fill", bad, &e), 1);
    cr_assert_eq(e, LVM_ERR_TRAP_TABLE_OOB);
    cr_assert_eq(lvm_invoke(r.t, x.u.func, &a, &res), LVM_ERR_TRAP_UNINIT_ELEM);
    done(&r);
}

/* {====== preemption on one worker */

/* The log of events, in order: 'f' after each fill, 't' for a tick. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char events[1 << 20];
static size_t nevents;
static int fills_done;

static lvm_err host_mark(lvm_hostcall *c, lvm_val *args)
{
    pthread_mutex_lock(&log_lock);
    char e = args[0].i32 ? 'f' : 't';
    if (e == 'f')
        fills_done++;
    if (nevents < sizeof events && (e == 'f' || nevents == 0 || events[nevents - 1] != 't'))
        events[nevents++] = e;          /* a run of ticks is logged once */
    pthread_mutex_unlock(&log_lock);
    return LVM_OK;
}

static lvm_err host_filled(lvm_hostcall *c, lvm_val *args)
{
    pthread_mutex_lock(&log_lock);
    args[0].i32 = fills_done == 16;
    pthread_mutex_unlock(&log_lock);
    return LVM_OK;
}

/* Sixteen fills of 256 MiB and a process that ticks until they are done,
 * on one worker: the ticker runs between every two fills.  Before bulk
 * instructions were charged, each fill cost one reduction and all sixteen
 * ran in the filler's first slice, the ticker never in between. */
Test(exec_bulk, a_ticker_runs_between_huge_fills, .timeout = 120)
{
    green_config gc = { .workers = 1 };
    green_sched *s = green_sched_new(&gc);
    cr_assert(s);
    cr_assert_eq(green_sched_start(s), 0);
    lvm_module *m = load_wat(
        "(module (import \"env\" \"mark\" (func $mark (param i32)))\n"
        " (import \"env\" \"filled\" (func $filled (result i32)))\n"
        " (memory 4096)\n"
        " (func (export \"fill\") (local $i i32)\n"
        "  (loop $l\n"
        "   (memory.fill (i32.const 0) (local.get $i) (i32.const 0x10000000))\n"
        "   (call $mark (i32.const 1))\n"
        "   (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
        "   (br_if $l (i32.lt_u (local.get $i) (i32.const 16)))))\n"
        " (func (export \"tick\")\n"
        "  (loop $l (call $mark (i32.const 0)) (br_if $l (i32.eqz (call $filled))))))");
    lvm_store *hs = lvm_store_new();
    lvm_linker *l = lvm_linker_new();
    lvm_extern x = { .kind = LVM_EXTERN_FUNC };
    x.u.func = lvm_func_new_host(hs, "i:", host_mark, NULL);
    lvm_linker_define(l, "env", "mark", x);
    x.u.func = lvm_func_new_host(hs, ":i", host_filled, NULL);
    lvm_linker_define(l, "env", "filled", x);
    lvm_diag d;
    lvm_process *tick = lvm_process_spawn(s, m, l, "tick", NULL, NULL, &d);
    cr_assert(tick, "%s", d.message);
    lvm_process *fill = lvm_process_spawn(s, m, l, "fill", NULL, NULL, &d);
    cr_assert(fill, "%s", d.message);
    green_sched_wait_all(s);
    cr_assert_eq(fill->result, LVM_OK);
    cr_assert_eq(tick->result, LVM_OK);
    /* Every fill is preceded by ticks: "tftf...tf", sixteen times. */
    char want[33];
    for (int i = 0; i < 16; i++)
        want[2 * i] = 't', want[2 * i + 1] = 'f';
    want[32] = 0;
    events[nevents < sizeof events ? nevents : sizeof events - 1] = 0;
    /* The ticker may tick once more after the last fill, before it sees
     * the flag. */
    cr_assert(strncmp(events, want, 32) == 0, "events: %.80s", events);
    lvm_process_release(tick);
    lvm_process_release(fill);
    green_sched_stop(s);
    green_sched_free(s);
    lvm_linker_free(l);
    lvm_store_free(hs);
    lvm_module_release(m);
}

/* }====== */
