/*
 * test_pack.c - packing a store's memories (lvm_store_pack, vm/store.c):
 * what a guest reads after lvm_store_unpack is exactly what it wrote
 * before, byte for byte, wherever it wrote (inside and outside the data
 * image, at the edges of the image and of the written range); the block
 * goes back to the pool while packed;
 * memories past LVM_PACK_MAX_SPAN are left as they are; a store freed
 * while packed leaks nothing (the ASan build checks).  And the instance
 * blocks a module keeps for reuse.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vm.h"
#include "wat.h"

/* Two pages; a data segment "0123456789" at 100; store8(addr, v),
 * load8(addr), and fill(addr, v, n) (memory.fill). */
static const char wat[] =
    "(module (memory (export \"mem\") 2)\n"
    " (data (i32.const 100) \"0123456789\")\n"
    " (func (export \"store8\") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))\n"
    " (func (export \"load8\") (param i32) (result i32) (i32.load8_u (local.get 0)))\n"
    " (func (export \"fill\") (param i32 i32 i32)\n"
    "  (memory.fill (local.get 0) (local.get 1) (local.get 2))))";

typedef struct run {
    lvm_store *s;
    lvm_instance *inst;
    lvm_thread *t;
} run;

static run make(void)
{
    run r;
    lvm_diag d;
    lvm_module *m = load_wat(wat);
    r.s = lvm_store_new();
    r.t = lvm_thread_new(NULL);
    cr_assert_eq(lvm_instantiate(r.s, NULL, m, r.t, &r.inst, &d), LVM_OK, "%s", d.message);
    lvm_module_release(m);
    return r;
}

static void done(run *r)
{
    lvm_thread_free(r->t);
    lvm_store_free(r->s);
}

static uint32_t call(run *r, const char *name, uint32_t a, uint32_t b, uint32_t c)
{
    lvm_extern x;
    cr_assert(lvm_instance_export(r->inst, name, &x), "no export %s", name);
    lvm_val args[3] = { { .i32 = a }, { .i32 = b }, { .i32 = c } }, res = { .i32 = 0 };
    cr_assert_eq(lvm_invoke(r->t, x.u.func, args, &res), LVM_OK);
    return res.i32;
}

static lvm_memory *mem(run *r) { return lvm_instance_memory(r->inst); }

/* The whole memory as the guest sees it, through its own loads. */
static uint8_t *snapshot(run *r)
{
    uint64_t size = lvm_memory_size(mem(r));
    uint8_t *copy = malloc(size);
    cr_assert(copy);
    memcpy(copy, lvm_memory_base(mem(r)), size);
    return copy;
}

Test(pack, contents_survive_byte_for_byte)
{
    run r = make();
    /* Inside the image (one byte changed), at its edges, just past it,
     * a run across a chunk boundary, and the end of the written range
     * (within LVM_PACK_MAX_SPAN). */
    call(&r, "store8", 104, 'X', 0);
    call(&r, "store8", 99, 1, 0);
    call(&r, "store8", 110, 2, 0);
    call(&r, "fill", 1000, 0xAB, 100);
    call(&r, "store8", 30000, 0xEE, 0);
    call(&r, "store8", 5000, 0, 0);         /* written, but zero */
    uint8_t *before = snapshot(&r);
    cr_assert(lvm_store_pack(r.s));
    cr_assert_null(lvm_memory_base(mem(&r)), "the block went back to the pool");
    cr_assert_not(lvm_store_pack(r.s), "packing twice packs nothing more");
    cr_assert(lvm_store_unpack(r.s));
    uint8_t *after = snapshot(&r);
    cr_assert_eq(memcmp(before, after, 2 * 65536), 0, "the memory changed");
    cr_assert_eq(call(&r, "load8", 104, 0, 0), 'X');
    cr_assert_eq(call(&r, "load8", 105, 0, 0), '5');
    cr_assert_eq(call(&r, "load8", 30000, 0, 0), 0xEE);
    /* The written range is kept: writes after unpacking and a second
     * pack and unpack still round-trip. */
    call(&r, "store8", 20000, 7, 0);
    free(before);
    before = snapshot(&r);
    cr_assert(lvm_store_pack(r.s));
    cr_assert(lvm_store_unpack(r.s));
    free(after);
    after = snapshot(&r);
    cr_assert_eq(memcmp(before, after, 2 * 65536), 0);
    free(before);
    free(after);
    done(&r);
}

/* A block packed away is the next memory's: the pool hands it out zeroed
 * where the packed one wrote, and the packed one gets another. */
Test(pack, the_block_is_reused_and_both_stay_right)
{
    run a = make();
    call(&a, "fill", 200, 0x5A, 3000);
    uint8_t *block = lvm_memory_base(mem(&a));
    cr_assert(lvm_store_pack(a.s));
    run b = make();
    cr_assert_eq(lvm_memory_base(mem(&b)), block, "the pool's free list is LIFO");
    cr_assert_eq(call(&b, "load8", 300, 0, 0), 0, "zeroed for its next owner");
    cr_assert_eq(call(&b, "load8", 101, 0, 0), '1');
    call(&b, "fill", 0, 0x11, 65536);
    cr_assert(lvm_store_unpack(a.s));
    cr_assert_neq(lvm_memory_base(mem(&a)), block);
    cr_assert_eq(call(&a, "load8", 300, 0, 0), 0x5A);
    cr_assert_eq(call(&a, "load8", 3200, 0, 0), 0);
    cr_assert_eq(call(&a, "load8", 100, 0, 0), '0');
    done(&b);
    done(&a);
}

/* Past LVM_PACK_MAX_SPAN written, the memory stays where it is. */
Test(pack, big_written_ranges_are_not_packed)
{
    lvm_diag d;
    lvm_module *m = load_wat("(module (memory 8)\n"
                             " (func (export \"fill\") (param i32 i32 i32)\n"
                             "  (memory.fill (local.get 0) (local.get 1) (local.get 2))))");
    run r = { lvm_store_new(), NULL, lvm_thread_new(NULL) };
    cr_assert_eq(lvm_instantiate(r.s, NULL, m, r.t, &r.inst, &d), LVM_OK);
    lvm_module_release(m);
    call(&r, "fill", 0, 1, (uint32_t)LVM_PACK_MAX_SPAN + 1);
    cr_assert_not(lvm_store_pack(r.s));
    cr_assert_not_null(lvm_memory_base(mem(&r)));
    cr_assert(lvm_store_unpack(r.s), "nothing to do");
    done(&r);
}

/* Freed while packed: nothing leaks, nothing is freed twice. */
Test(pack, a_store_freed_while_packed)
{
    run r = make();
    call(&r, "store8", 42, 42, 0);
    cr_assert(lvm_store_pack(r.s));
    done(&r);
}

/* {====== instance blocks recycled per module (vm/instance.c) */

static lvm_err host_nop(lvm_hostcall *call, lvm_val *v)
{
    (void)call;
    (void)v;
    return LVM_OK;
}

/* An instance whose imports failed frees a block whose functions were
 * never written: it must not be reused as it is.  Then, instances made
 * and freed in turn reuse one block, and every one runs. */
Test(instance_blocks, a_failed_instance_then_many_that_run)
{
    lvm_module *m = load_wat("(module (import \"env\" \"f\" (func))\n"
                             " (memory 1) (data (i32.const 8) \"ab\")\n"
                             " (func (export \"g\") (result i32) (i32.load8_u (i32.const 9))))");
    lvm_diag d;
    lvm_instance *inst;
    lvm_store *s = lvm_store_new();
    cr_assert_eq(lvm_instantiate(s, NULL, m, NULL, &inst, &d), LVM_ERR_UNKNOWN_IMPORT);
    lvm_store_free(s);
    lvm_store *hs = lvm_store_new();
    lvm_linker *l = lvm_linker_new();
    lvm_extern f = { .kind = LVM_EXTERN_FUNC, .u.func = lvm_func_new_host(hs, ":", host_nop, NULL) };
    cr_assert_eq(lvm_linker_define(l, "env", "f", f), LVM_OK);
    for (int i = 0; i < 20; i++) {
        s = lvm_store_new();
        lvm_thread *t = lvm_thread_new(NULL);
        cr_assert_eq(lvm_instantiate(s, l, m, t, &inst, &d), LVM_OK, "%s", d.message);
        lvm_extern x;
        cr_assert(lvm_instance_export(inst, "g", &x));
        lvm_val res;
        cr_assert_eq(lvm_invoke(t, x.u.func, NULL, &res), LVM_OK, "instance %d", i);
        cr_assert_eq(res.i32, 'b');
        lvm_thread_free(t);
        lvm_store_free(s);
    }
    lvm_linker_free(l);
    lvm_store_free(hs);
    lvm_module_release(m);
}

/* }====== */
