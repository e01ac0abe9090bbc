/*
 * test_memory.c - linear memories from the block pool (vm/mempool.c): a
 * recycled block must read as zero wherever the new memory can see, both
 * at creation and as it grows into the block; every way of writing a
 * memory counts what it wrote, so that recycling (which zeroes only that)
 * never shows one owner's bytes to the next; limits hold.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vm.h"
#include "wat.h"

#define PAGE LVM_PAGE_SIZE

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

Test(exec_memory, recycled_blocks_read_as_zero)
{
    /* Dirty a 3-page memory grown to 4 pages (inside one 256 KiB block). */
    lvm_store *a = lvm_store_new();
    lvm_memory *m = lvm_memory_new(a, 3, 0, false);
    cr_assert(m);
    cr_assert_eq(lvm_memory_grow(m, 1), 3);
    memset(lvm_memory_data(m), 0xab, 4 * PAGE);
    uint8_t *block = lvm_memory_data(m);
    lvm_store_free(a);

    /* The next 3-page memory gets that block back (the free list is LIFO). */
    lvm_store *b = lvm_store_new();
    lvm_memory *n = lvm_memory_new(b, 3, 0, false);
    cr_assert(n);
    cr_assert_eq(lvm_memory_data(n), block, "expected the recycled block");
    cr_assert(all_zero(lvm_memory_data(n), 3 * PAGE));
    /* Growing into the dirty fourth page must zero it first. */
    cr_assert_eq(lvm_memory_grow(n, 1), 3);
    cr_assert(all_zero(lvm_memory_data(n), 4 * PAGE));
    /* Growing past the block moves the memory and keeps its contents. */
    lvm_memory_data(n)[5] = 42;
    cr_assert_eq(lvm_memory_grow(n, 2), 4);
    cr_assert_eq(lvm_memory_size(n), 6 * PAGE);
    cr_assert_eq(lvm_memory_data(n)[5], 42);
    lvm_memory_data(n)[5] = 0;
    cr_assert(all_zero(lvm_memory_data(n), 6 * PAGE));
    lvm_store_free(b);
}

Test(exec_memory, limits_and_maximum)
{
    lvm_store *s = lvm_store_new();
    lvm_memory *m = lvm_memory_new(s, 1, 3, true);
    cr_assert_eq(lvm_memory_grow(m, 2), 1);
    cr_assert_eq(lvm_memory_grow(m, 1), -1, "past the declared maximum");
    cr_assert_eq(lvm_memory_grow(m, 0), 3);
    lvm_store_set_memory_limit(s, 2);
    cr_assert_null(lvm_memory_new(s, 3, 0, false), "minimum above the limit");
    lvm_memory *n = lvm_memory_new(s, 1, 0, false);
    cr_assert_eq(lvm_memory_grow(n, 1), 1);
    cr_assert_eq(lvm_memory_grow(n, 1), -1, "past the store's limit");
    cr_assert_eq(lvm_memory_grow(n, 65536), -1);
    lvm_memory *z = lvm_memory_new(s, 0, 0, false);
    cr_assert_eq(lvm_memory_size(z), 0);
    cr_assert_eq(lvm_memory_grow(z, 1), 0);
    cr_assert(all_zero(lvm_memory_data(z), PAGE));
    lvm_store_free(s);
}

/* {====== the written range */

/* Two pages (a 128 KiB block) with data at 70000 and one export per way
 * a guest writes memory. */
static const char *writer_wat =
    "(module (memory (export \"mem\") 2)\n"
    " (data (i32.const 70000) \"hello\")\n"
    " (data $p \"passive\")\n"
    " (func (export \"i64.store\") (param $a i32) (param $b i32) (param $c i32)\n"
    "  (i64.store (local.get $a) (i64.const -1)))\n"
    " (func (export \"i32.store8\") (param $a i32) (param $b i32) (param $c i32)\n"
    "  (i32.store8 offset=3 (local.get $a) (i32.const 7)))\n"
    " (func (export \"i32.store+add\") (param $a i32) (param $b i32) (param $c i32)\n"
    "  (i32.store (i32.add (local.get $a) (local.get $b)) (i32.const 9)))\n"
    " (func (export \"memory.fill\") (param $a i32) (param $b i32) (param $c i32)\n"
    "  (memory.fill (local.get $a) (i32.const 0x55) (local.get $c)))\n"
    " (func (export \"memory.copy\") (param $a i32) (param $b i32) (param $c i32)\n"
    "  (memory.copy (local.get $a) (local.get $b) (local.get $c)))\n"
    " (func (export \"memory.init\") (param $a i32) (param $b i32) (param $c i32)\n"
    "  (memory.init $p (local.get $a) (i32.const 0) (local.get $c))))";

/* An instance of mod in a new store, on a new thread (freed by done). */
typedef struct inst_env { lvm_store *s; lvm_thread *t; lvm_instance *inst; lvm_memory *m; } inst_env;

static inst_env instantiate(lvm_module *mod)
{
    inst_env e = { lvm_store_new(), lvm_thread_new(NULL), NULL, NULL };
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(e.s, NULL, mod, e.t, &e.inst, &d), LVM_OK, "%s", d.message);
    e.m = lvm_instance_memory(e.inst);
    return e;
}

static void done(inst_env *e)
{
    lvm_thread_free(e->t);
    lvm_store_free(e->s);
}

static void call3(inst_env *e, const char *name, uint32_t a, uint32_t b, uint32_t c, lvm_err want)
{
    lvm_extern f;
    cr_assert(lvm_instance_export(e->inst, name, &f), "no export %s", name);
    lvm_val args[3] = { { .i64 = a }, { .i64 = b }, { .i64 = c } };
    cr_assert_eq(lvm_invoke(e->t, f.u.func, args, NULL), want, "%s", name);
}

static bool all_zero_outside(const uint8_t *p, size_t n, size_t lo, size_t hi)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] && (i < lo || i >= hi))
            return false;
    return true;
}

Test(exec_memory, every_write_is_counted_and_recycling_zeroes_it)
{
    /* Each write alone, far from the data segment, so a write the range
     * missed would leave a non-zero byte outside it. */
    static const struct { const char *fn; uint32_t a, b, c; } writes[] = {
        { "i64.store", 8, 0, 0 },           /* low end */
        { "i64.store", 2 * PAGE - 8, 0, 0 },/* the last eight bytes */
        { "i64.store", PAGE - 4, 0, 0 },    /* across the page boundary */
        { "i32.store8", 130000, 0, 0 },
        { "i32.store+add", 1000, 129000, 0 },
        { "memory.fill", 20000, 0, 3000 },
        { "memory.copy", 120000, 70000, 5 },
        { "memory.init", 10, 0, 7 },
        { NULL, 30000, 0, 16 },             /* a host write */
    };
    lvm_module *mod = load_wat(writer_wat);
    for (size_t w = 0; w < sizeof writes / sizeof writes[0]; w++) {
        const char *what = writes[w].fn ? writes[w].fn : "host write";
        inst_env e = instantiate(mod);
        lvm_memory *m = e.m;
        /* Instantiating wrote only the data segment: the range is that
         * rounded out to VM_WRITE_GRAIN, not the memory. */
        cr_assert_leq(m->wspan + 8, 2 * VM_WRITE_GRAIN, "range of %llu bytes after instantiation",
                      (unsigned long long)(m->wspan + 8));
        if (writes[w].fn) {
            call3(&e, writes[w].fn, writes[w].a, writes[w].b, writes[w].c, LVM_OK);
        } else {
            memset(lvm_memory_base(m) + writes[w].a, 0xee, writes[w].c);
            lvm_memory_written(m, writes[w].a, writes[w].c);
        }
        uint8_t *block = lvm_memory_base(m);
        size_t lo = m->wlo, hi = m->wlo + m->wspan + 8;
        cr_assert(all_zero_outside(block, 2 * PAGE, lo, hi), "%s: written outside [%zu, %zu)",
                  what, lo, hi);
        done(&e);

        /* The next two-page memory gets the block back, all zero. */
        lvm_store *s2 = lvm_store_new();
        lvm_memory *n = lvm_memory_new(s2, 2, 0, false);
        cr_assert_eq(lvm_memory_base(n), block, "expected the recycled block");
        cr_assert(all_zero_outside(lvm_memory_base(n), 2 * PAGE, 0, 0), "%s: not zeroed", what);
        lvm_store_free(s2);
    }
    lvm_module_release(mod);
}

Test(exec_memory, store_out_of_bounds_still_traps)
{
    /* The store check is against the written range first: one past the
     * end must still find the memory's bound and trap, and widen nothing,
     * also once the range reaches the end. */
    lvm_module *mod = load_wat(writer_wat);
    inst_env e = instantiate(mod);
    uint64_t wlo = e.m->wlo, wspan = e.m->wspan;
    call3(&e, "i64.store", 2 * PAGE - 7, 0, 0, LVM_ERR_TRAP_MEMORY_OOB);
    cr_assert(e.m->wlo == wlo && e.m->wspan == wspan, "a trapping store widened the range");
    /* A host that reports writes past the end cannot push the range out
     * of the memory (a store inside the range skips the bounds check). */
    lvm_memory_written(e.m, 3 * PAGE, 16);
    cr_assert(e.m->wlo == wlo && e.m->wspan == wspan, "a range outside the memory was counted");
    lvm_memory_written(e.m, 2 * PAGE - 4, 100);
    cr_assert_eq(e.m->wlo + e.m->wspan + 8, 2 * PAGE, "the range reaches past the memory");
    call3(&e, "i64.store", 2 * PAGE - 7, 0, 0, LVM_ERR_TRAP_MEMORY_OOB);
    call3(&e, "i64.store", 2 * PAGE - 8, 0, 0, LVM_OK);
    done(&e);
    lvm_module_release(mod);
}

/* }====== */

/* {====== data segments as one image (decoder/decode.c, build_data_image) */

/* Bytes expected at an address (len counts embedded NULs). */
typedef struct want { uint32_t at; const char *bytes; size_t len; } want;
#define WANT(at, lit) { at, lit, sizeof lit - 1 }

/* Instantiate mod (its import env.g, if any, is the i32 global 64) and
 * compare memory with each w[i]. */
static void check_bytes(lvm_module *mod, bool expect_image, const want *w, size_t n)
{
    cr_assert_eq(mod->data_image != NULL, expect_image, "image %s",
                 expect_image ? "expected" : "not expected");
    lvm_store *s = lvm_store_new();
    lvm_linker *l = lvm_linker_new();
    lvm_extern g = { .kind = LVM_EXTERN_GLOBAL };
    g.u.global = lvm_global_new(s, LVM_I32, false, (lvm_val){ .i64 = 64 });
    cr_assert_eq(lvm_linker_define(l, "env", "g", g), LVM_OK);
    lvm_thread *t = lvm_thread_new(NULL);
    lvm_instance *inst;
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(s, l, mod, t, &inst, &d), LVM_OK, "%s", d.message);
    const uint8_t *mem = lvm_memory_base(lvm_instance_memory(inst));
    for (size_t i = 0; i < n; i++)
        cr_assert(memcmp(mem + w[i].at, w[i].bytes, w[i].len) == 0, "bytes at %u", w[i].at);
    lvm_thread_free(t);
    lvm_linker_free(l);
    lvm_store_free(s);
}

Test(exec_memory, data_image_lands_like_the_segments)
{
    static const struct { const char *why, *wat; bool image; want w[2]; } cases[] = {
        { "overlapping segments: the later one wins, as in order; a gap "
          "stays zero; a passive segment is not in the image",
          "(module (memory 1)\n"
          " (data (i32.const 100) \"abcdef\")\n"
          " (data (i32.const 102) \"XY\")\n"
          " (data \"passive\")\n"
          " (data (i32.const 200) \"z\"))",
          true, { WANT(99, "\0abXYef\0\0"), WANT(196, "\0\0\0\0z\0") } },
        { "far apart: no image (it would be mostly gap), the segment loop",
          "(module (memory 2)\n"
          " (data (i32.const 8) \"low\")\n"
          " (data (i32.const 100000) \"high\"))",
          false, { WANT(8, "low\0"), WANT(100000, "high\0") } },
        { "an offset from a global: no image (not a constant)",
          "(module (import \"env\" \"g\" (global i32)) (memory 1)\n"
          " (data (global.get 0) \"glob\"))",
          false, { WANT(63, "\0glob\0"), WANT(0, "\0") } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_log_info("%s", cases[i].why);
        lvm_module *m = load_wat(cases[i].wat);
        check_bytes(m, cases[i].image, cases[i].w, 2);
        lvm_module_release(m);
    }
}

Test(exec_memory, data_segment_out_of_bounds_still_fails_instantiation)
{
    /* Past the initial size: no image, and instantiation fails naming the
     * segment, after writing the ones before it (Wasm 2.0 order). */
    lvm_module *m = load_wat("(module (memory 1)\n"
                             " (data (i32.const 0) \"ok\")\n"
                             " (data (i32.const 65534) \"toolong\"))");
    cr_assert_null(m->data_image);
    lvm_store *s = lvm_store_new();
    lvm_thread *t = lvm_thread_new(NULL);
    lvm_instance *inst;
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(s, NULL, m, t, &inst, &d), LVM_ERR_TRAP_MEMORY_OOB);
    cr_assert(strstr(d.message, "data segment 1"), "%s", d.message);
    lvm_thread_free(t);
    lvm_store_free(s);
    lvm_module_release(m);
}

/* }====== */
