/*
 * test_grow.c - memory.grow at every size (vm/mempool.c, vm/store.c):
 * contents kept, new pages zero and the written range unchanged across the
 * size classes, the boundary past the largest (64 MiB) and the large
 * blocks beyond; a grown block's old block recycled clean; growth to the
 * 4 GiB of wasm32; failures that leave the memory as it was; and, without
 * timing anything, that growing page by page replaces the block O(log n)
 * times and copies less than the final size (it once copied the whole heap
 * on every grow past 64 MiB).
 *
 * Each test runs twice where it matters: with mremap (Linux's way) and
 * with vm_pool_remap off, the portable path of the BSDs and macOS.
 * Criterion runs every test in its own process, so the switch and the
 * pool's counters are the test's own.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "vm.h"
#include "wat.h"

/* Under AddressSanitizer (gcc says so one way, clang another). */
#if defined(__SANITIZE_ADDRESS__)
#define LVM_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LVM_TEST_ASAN 1
#endif
#endif
#ifndef LVM_TEST_ASAN
#define LVM_TEST_ASAN 0
#endif

#define PAGE LVM_PAGE_SIZE
#define CLASS_PAGES 1024u               /* the largest size class, 64 MiB */

static uint64_t moves(void) { return __atomic_load_n(&vm_pool_moves, __ATOMIC_RELAXED); }
static uint64_t copied(void) { return __atomic_load_n(&vm_pool_copied, __ATOMIC_RELAXED); }

/* Whether n bytes at p are all zero, a word at a time (these are big). */
static bool zero(const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w)
            return false;
    }
    for (; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* The written range [lo, hi) of m (0, 0 when nothing was written). */
static void range(const lvm_memory *m, uint64_t *lo, uint64_t *hi)
{
    bool none = m->wlo == VM_UNWRITTEN;
    *lo = none ? 0 : m->wlo;
    *hi = none ? 0 : m->wlo + m->wspan + 8;
}

/* A host write of one byte, counted as the API asks. */
static void poke(lvm_memory *m, uint64_t at, uint8_t v)
{
    lvm_memory_base(m)[at] = v;
    lvm_memory_written(m, at, 1);
}

/* {====== contents, zeros and the written range across every boundary */

/* Grow a memory of one page page by page to `to` pages.  A marker at the
 * start of the first page and in the middle of the memory stay; each new
 * page reads zero when it appears; the written range is what was written,
 * however the block moved. */
static void grow_keeps_everything(bool remap, uint32_t to)
{
    vm_pool_remap = remap;
    lvm_store *s = lvm_store_new();
    lvm_memory *m = lvm_memory_new(s, 1, 0, false);
    cr_assert(m);
    poke(m, 0, 0x11);
    poke(m, PAGE - 1, 0x22);
    uint64_t lo0, hi0;
    range(m, &lo0, &hi0);
    uint32_t mid = to / 2;
    for (uint32_t p = 1; p < to; p++) {
        cr_assert_eq(lvm_memory_grow(m, 1), p, "grow to %u pages", p + 1);
        cr_assert_eq(lvm_memory_size(m), (uint64_t)(p + 1) * PAGE);
        cr_assert_geq(m->cap, m->size, "the block holds the memory");
        const uint8_t *b = lvm_memory_base(m);
        cr_assert(zero(b + (size_t)p * PAGE, PAGE), "new page %u is not zero", p);
        cr_assert(b[0] == 0x11 && b[PAGE - 1] == 0x22, "first page lost at %u pages", p + 1);
        if (p == mid) {
            poke(m, (uint64_t)mid * PAGE + 5, 0x33);
            range(m, &lo0, &hi0);
        }
        if (p > mid)
            cr_assert_eq(b[(size_t)mid * PAGE + 5], 0x33, "middle lost at %u pages", p + 1);
        uint64_t lo, hi;
        range(m, &lo, &hi);
        cr_assert(lo == lo0 && hi == hi0, "growing changed the written range at %u pages", p + 1);
    }
    /* Everything but the three bytes is zero, up to the block's end: the
     * pool's invariant for recycling (the check build also proves it when
     * the store frees the block). */
    uint8_t *b = lvm_memory_base(m);
    b[0] = b[PAGE - 1] = b[(size_t)mid * PAGE + 5] = 0;
    cr_assert(zero(b, m->size), "a byte beyond the three written ones");
    lvm_store_free(s);
}

Test(exec_grow, past_the_classes_with_mremap)
{
    grow_keeps_everything(vm_pool_remap, CLASS_PAGES + 1100);
}

Test(exec_grow, past_the_classes_portable)
{
    grow_keeps_everything(false, CLASS_PAGES + 1100);
}

/* The 64 MiB block a memory leaves when it grows past the classes goes
 * back to its free list, and the next memory of that class gets it back
 * all zero although its first owner wrote into it. */
static void old_block_recycled_clean(bool remap)
{
    vm_pool_remap = remap;
    lvm_store *a = lvm_store_new();
    lvm_memory *m = lvm_memory_new(a, CLASS_PAGES, 0, false);
    cr_assert(m);
    uint8_t *block = lvm_memory_base(m);
    memset(lvm_memory_data(m) + 1000, 0xab, 3 * PAGE);
    poke(m, (uint64_t)CLASS_PAGES * PAGE - 1, 0xcd);
    cr_assert_eq(lvm_memory_grow(m, 1), CLASS_PAGES);
    cr_assert_neq(lvm_memory_base(m), block, "a large block past the classes");
    cr_assert_eq(lvm_memory_base(m)[1000 + 3 * PAGE - 1], 0xab);
    cr_assert_eq(lvm_memory_base(m)[(size_t)CLASS_PAGES * PAGE - 1], 0xcd);

    lvm_store *b = lvm_store_new();
    lvm_memory *n = lvm_memory_new(b, CLASS_PAGES, 0, false);
    cr_assert_eq(lvm_memory_base(n), block, "expected the recycled 64 MiB block");
    cr_assert(zero(lvm_memory_base(n), (size_t)CLASS_PAGES * PAGE), "recycled block not zero");
    lvm_store_free(b);
    lvm_store_free(a);
}

Test(exec_grow, old_block_recycled_clean_with_mremap) { old_block_recycled_clean(vm_pool_remap); }
Test(exec_grow, old_block_recycled_clean_portable) { old_block_recycled_clean(false); }

/* A module that declares more than 64 MiB from the start gets a large
 * block at once; it grows and frees like any other. */
Test(exec_grow, large_from_the_start)
{
    lvm_store *s = lvm_store_new();
    lvm_memory *m = lvm_memory_new(s, 3000, 3100, true);
    cr_assert(m);
    cr_assert_geq(m->cap, 3000 * (size_t)PAGE);
    cr_assert_leq(m->cap, 3100 * (size_t)PAGE, "capacity past the declared maximum");
    poke(m, 2999 * (uint64_t)PAGE, 7);
    cr_assert_eq(lvm_memory_grow(m, 100), 3000);
    cr_assert_eq(lvm_memory_base(m)[2999 * (size_t)PAGE], 7);
    cr_assert(zero(lvm_memory_base(m) + 3000 * (size_t)PAGE, 100 * (size_t)PAGE));
    cr_assert_eq(lvm_memory_grow(m, 1), -1, "past the declared maximum");
    lvm_store_free(s);
}

/* }====== */

/* {====== the cost of growing, counted rather than timed */

/* Page by page from 1 to 32768 pages (2 GiB, untouched but for one byte):
 * the block is replaced once per doubling - 15 times - not once per page. */
static void moves_are_logarithmic(bool remap)
{
    vm_pool_remap = remap;
    lvm_store *s = lvm_store_new();
    lvm_memory *m = lvm_memory_new(s, 1, 0, false);
    poke(m, 0, 1);
    uint64_t before = moves();
    uint32_t n = 32768;
    for (uint32_t p = 1; p < n; p++)
        cr_assert_eq(lvm_memory_grow(m, 1), p, "grow to %u pages", p + 1);
    uint64_t k = moves() - before;
    cr_assert_leq(k, 15, "%llu block moves growing 1 -> %u pages one at a time (log2 n = 15)",
                  (unsigned long long)k, n);
    cr_assert_geq(k, 1, "a 64 KiB block cannot hold 2 GiB");
    cr_assert_eq(lvm_memory_base(m)[0], 1);
    lvm_store_free(s);
}

Test(exec_grow, moves_are_logarithmic_with_mremap) { moves_are_logarithmic(vm_pool_remap); }
Test(exec_grow, moves_are_logarithmic_portable) { moves_are_logarithmic(false); }

/* Page by page to 4096 pages (256 MiB) with the whole memory counted as
 * written, so that every move must keep all of it: the copies add up to
 * less than twice the final size (a geometric series), and with mremap
 * nothing past the classes is copied at all. */
static void copies_are_linear(bool remap)
{
    vm_pool_remap = remap;
    lvm_store *s = lvm_store_new();
    lvm_memory *m = lvm_memory_new(s, 1, 0, false);
    uint64_t before = copied();
    uint32_t n = 4096;
    for (uint32_t p = 1; p < n; p++) {
        cr_assert_eq(lvm_memory_grow(m, 1), p);
        lvm_memory_data(m)[(size_t)p * PAGE] = (uint8_t)p;    /* all of it written */
    }
    uint64_t c = copied() - before, final = (uint64_t)n * PAGE;
    cr_assert_lt(c, 2 * final, "%llu bytes copied growing to %llu", (unsigned long long)c,
                 (unsigned long long)final);
    if (remap)
        cr_assert_leq(c, 2 * (uint64_t)CLASS_PAGES * PAGE,
                      "%llu bytes copied: mremap should move large blocks without copying",
                      (unsigned long long)c);
    for (uint32_t p = 1; p < n; p++)
        cr_assert_eq(lvm_memory_base(m)[(size_t)p * PAGE], (uint8_t)p, "page %u", p);
    lvm_store_free(s);
}

Test(exec_grow, copies_are_linear_with_mremap) { copies_are_linear(vm_pool_remap); }
Test(exec_grow, copies_are_linear_portable) { copies_are_linear(false); }

/* }====== */

/* {====== the ends: 4 GiB, maxima, limits, the host running out */

/* To all 65536 pages wasm32 can address, in steps of 4096 pages.  Only
 * the first page is written, and new pages are only read (as zero): the
 * block is address space (MAP_NORESERVE), and a written range that
 * reached the end would make the portable path copy gigabytes. */
static void grow_to_4gib(bool remap)
{
    vm_pool_remap = remap;
    lvm_store *s = lvm_store_new();
    lvm_memory *m = lvm_memory_new(s, 1, 0, false);
    poke(m, 3, 9);
    for (uint32_t p = 1; p < LVM_MAX_PAGES; p += 4096) {
        uint32_t step = p + 4096 > LVM_MAX_PAGES ? LVM_MAX_PAGES - p : 4096;
        int64_t r = lvm_memory_grow(m, step);
        if (r < 0)
            cr_skip_test("no room for %u pages of address space on this machine", p + step);
        cr_assert_eq(r, p);
        const uint8_t *b = lvm_memory_base(m);
        cr_assert(b[3] == 9, "first page lost at %u pages", p + step);
        cr_assert(b[(size_t)p * PAGE] == 0 && b[(size_t)(p + step) * PAGE - 1] == 0,
                  "new pages not zero at %u pages", p + step);
    }
    cr_assert_eq(lvm_memory_size(m), (uint64_t)4 << 30);
    cr_assert_eq(lvm_memory_base(m)[((size_t)4 << 30) - 1], 0);
    cr_assert_eq(lvm_memory_grow(m, 1), -1, "past 65536 pages");
    cr_assert_eq(lvm_memory_grow(m, 0), LVM_MAX_PAGES);
    cr_assert_eq(lvm_memory_refused(m), 0, "wasm's own bound is no embedder's limit");
    lvm_store_free(s);
}

Test(exec_grow, to_4gib_with_mremap, .timeout = 60) { grow_to_4gib(vm_pool_remap); }
Test(exec_grow, to_4gib_portable, .timeout = 60) { grow_to_4gib(false); }

/* A failed grow changes nothing: not the size, not the contents, not the
 * block.  Past the module's maximum it is the module's own bound; past
 * the store's limit it is also remembered (lvm_memory_refused). */
Test(exec_grow, failing_at_the_maximum_and_the_limit)
{
    lvm_store *s = lvm_store_new();
    lvm_memory *m = lvm_memory_new(s, 1, CLASS_PAGES + 10, true);
    cr_assert_eq(lvm_memory_grow(m, CLASS_PAGES + 9), 1);
    poke(m, (uint64_t)(CLASS_PAGES + 10) * PAGE - 1, 4);
    uint8_t *block = lvm_memory_base(m);
    cr_assert_eq(lvm_memory_grow(m, 1), -1, "past the maximum");
    cr_assert_eq(lvm_memory_grow(m, UINT32_MAX), -1, "a delta that overflows 32 bits");
    cr_assert_eq(lvm_memory_size(m), (uint64_t)(CLASS_PAGES + 10) * PAGE);
    cr_assert_eq(lvm_memory_base(m), block);
    cr_assert_eq(lvm_memory_base(m)[(size_t)(CLASS_PAGES + 10) * PAGE - 1], 4);
    cr_assert_eq(lvm_memory_refused(m), 0, "the module's own maximum is not the limit");

    lvm_store_set_memory_limit(s, CLASS_PAGES + 20);
    lvm_memory *n = lvm_memory_new(s, 1, 0, false);
    cr_assert_eq(lvm_memory_refused(n), 0);
    cr_assert_eq(lvm_memory_grow(n, CLASS_PAGES + 19), 1);
    cr_assert_eq(lvm_memory_grow(n, 5), -1, "past the store's limit");
    cr_assert_eq(lvm_memory_refused(n), CLASS_PAGES + 25);
    cr_assert_eq(lvm_memory_grow(n, 2), -1);
    cr_assert_eq(lvm_memory_refused(n), CLASS_PAGES + 25, "the largest refusal is kept");
    cr_assert_eq(lvm_memory_grow(n, 70000), -1, "past 4 GiB: wasm's bound, not the limit");
    cr_assert_eq(lvm_memory_refused(n), CLASS_PAGES + 25);
    cr_assert_eq(lvm_memory_size(n), (uint64_t)(CLASS_PAGES + 20) * PAGE);

    /* A maximum below the limit: refusals are the module's, never noted. */
    lvm_memory *o = lvm_memory_new(s, 1, 4, true);
    cr_assert_eq(lvm_memory_grow(o, 4), -1);
    cr_assert_eq(lvm_memory_refused(o), 0);
    lvm_store_free(s);
}

/* The host out of address space (RLIMIT_AS, this test's process only):
 * the grow that cannot get a block fails with -1 and the memory is as it
 * was, contents included; it is not the store's limit. */
static void host_out_of_memory(bool remap)
{
#if LVM_TEST_ASAN
    cr_skip_test("AddressSanitizer needs its own address space");
#endif
    vm_pool_remap = remap;
    lvm_store *s = lvm_store_new();
    lvm_memory *m = lvm_memory_new(s, 1, 0, false);
    cr_assert_eq(lvm_memory_grow(m, CLASS_PAGES + 100), 1);   /* a large block */
    poke(m, 12345, 6);
    uint8_t *block = lvm_memory_base(m);
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long vm_pages = 0;
    if (!f || fscanf(f, "%lu", &vm_pages) != 1)
        cr_skip_test("no /proc/self/statm");
    fclose(f);
    struct rlimit rl = { .rlim_cur = (rlim_t)vm_pages * (rlim_t)sysconf(_SC_PAGESIZE) +
                                     ((rlim_t)256 << 20),
                         .rlim_max = RLIM_INFINITY };
    cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
    cr_assert_eq(lvm_memory_grow(m, 16384), -1, "1 GiB more under a 256 MiB allowance");
    cr_assert_eq(lvm_memory_size(m), (uint64_t)(CLASS_PAGES + 101) * PAGE);
    cr_assert_eq(lvm_memory_base(m), block);
    cr_assert_eq(lvm_memory_base(m)[12345], 6);
    cr_assert_eq(lvm_memory_refused(m), 0, "the host's failure is not the limit's");
    cr_assert_eq(lvm_memory_grow(m, 1), CLASS_PAGES + 101, "a grow that fits still works");
    lvm_store_free(s);
}

Test(exec_grow, host_out_of_memory_with_mremap) { host_out_of_memory(vm_pool_remap); }
Test(exec_grow, host_out_of_memory_portable) { host_out_of_memory(false); }

/* }====== */

/* {====== the interpreter after a move */

/* memory.grow in a loop, and in a callee, while the caller keeps using
 * memory: every cached base must be reloaded when the block moves (after
 * memory.grow, and after the call that grew).  Returns the number of
 * pages whose marker read back wrong, so 0. */
static const char *grower_wat =
    "(module (memory (export \"mem\") 1)\n"
    " (func $grow1 (result i32) (memory.grow (i32.const 1)))\n"
    " (func (export \"run\") (param $n i32) (result i32)\n"
    "  (local $p i32) (local $bad i32)\n"
    "  (i32.store (i32.const 0) (i32.const 0x5eed))\n"
    "  (block $done (loop $next\n"
    "   (br_if $done (i32.ge_u (local.get $p) (local.get $n)))\n"
    "   ;; alternate: grow here, or in the callee\n"
    "   (if (i32.and (local.get $p) (i32.const 1))\n"
    "    (then (drop (memory.grow (i32.const 1))))\n"
    "    (else (drop (call $grow1))))\n"
    "   (local.set $p (i32.add (local.get $p) (i32.const 1)))\n"
    "   ;; the marker at the end of the new page, the first page's seed\n"
    "   (i32.store (i32.sub (i32.mul (i32.add (local.get $p) (i32.const 1)) (i32.const 65536))\n"
    "                       (i32.const 4)) (local.get $p))\n"
    "   (if (i32.ne (i32.load (i32.const 0)) (i32.const 0x5eed))\n"
    "    (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))\n"
    "   (br $next)))\n"
    "  ;; every marker, read back after all the moves\n"
    "  (local.set $p (i32.const 1))\n"
    "  (block $end (loop $check\n"
    "   (br_if $end (i32.gt_u (local.get $p) (local.get $n)))\n"
    "   (if (i32.ne (i32.load (i32.sub (i32.mul (i32.add (local.get $p) (i32.const 1))\n"
    "                                          (i32.const 65536)) (i32.const 4)))\n"
    "               (local.get $p))\n"
    "    (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))\n"
    "   (local.set $p (i32.add (local.get $p) (i32.const 1)))\n"
    "   (br $check)))\n"
    "  (local.get $bad)))";

static void interpreter_follows_the_block(bool remap)
{
    vm_pool_remap = remap;
    lvm_module *mod = load_wat(grower_wat);
    lvm_store *s = lvm_store_new();
    lvm_thread *t = lvm_thread_new(NULL);
    lvm_instance *inst;
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(s, NULL, mod, t, &inst, &d), LVM_OK, "%s", d.message);
    lvm_extern run;
    cr_assert(lvm_instance_export(inst, "run", &run));
    uint64_t before = moves();
    uint32_t n = CLASS_PAGES + 1200;    /* past the classes and one large move */
    lvm_val args[1] = { { .i64 = n } }, res[1];
    cr_assert_eq(lvm_invoke(t, run.u.func, args, res), LVM_OK);
    cr_assert_eq(res[0].i32, 0, "%u markers read back wrong", res[0].i32);
    cr_assert_geq(moves() - before, 11, "the block should have moved past the classes");
    cr_assert_eq(lvm_memory_size(lvm_instance_memory(inst)), (uint64_t)(n + 1) * PAGE);
    lvm_thread_free(t);
    lvm_store_free(s);
    lvm_module_release(mod);
}

Test(exec_grow, interpreter_follows_the_block_with_mremap) { interpreter_follows_the_block(vm_pool_remap); }
Test(exec_grow, interpreter_follows_the_block_portable) { interpreter_follows_the_block(false); }

/* }====== */

/* {====== the check build's proof of the invariant */

#ifdef LVM_CHECK_WRITTEN
#include <signal.h>

/* A byte written behind lvm's back in a large, grown block: freeing it
 * must abort (the check reads a large block's resident pages). */
Test(exec_grow, check_build_catches_an_uncounted_write_in_a_large_block, .signal = SIGABRT)
{
    lvm_store *s = lvm_store_new();
    lvm_memory *m = lvm_memory_new(s, 1, 0, false);
    cr_assert_eq(lvm_memory_grow(m, 3000), 1);
    poke(m, 0, 1);
    lvm_memory_base(m)[2000 * (size_t)PAGE] = 1;      /* not counted */
    lvm_store_free(s);
}
#endif

/* }====== */
