/*
 * test_limits.c - what the memory limits count (vm/store.c, vm/mempool.c):
 * table elements against a store's limit (lvm_store_set_memory_limit)
 * beside its linear memory, beyond the first 64 KiB of them; and linear
 * memories and tables of all stores against the total
 * (lvm_set_total_memory_limit).  Past a limit table.grow and memory.grow
 * return -1 and instantiation fails with the limit's error, naming what
 * needed how much.  Criterion runs each test in its own process, so the
 * total's limit and count are the test's own.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vm.h"
#include "wat.h"

#define PAGE LVM_PAGE_SIZE
#define FREE_ELEMS (VM_TABLE_FREE_BYTES / 8)    /* 8192 */

/* One memory of `pages`, tables $t0..$t11 of `entries` each; grow(t, n)
 * and mgrow(n). */
static char *tables_wat(uint32_t pages, uint32_t entries)
{
    static char wat[4096];
    int n = snprintf(wat, sizeof wat, "(module (memory %u)\n", pages);
    for (int i = 0; i < 12; i++)
        n += snprintf(wat + n, sizeof wat - (size_t)n, " (table $t%d %u funcref)\n", i, entries);
    n += snprintf(wat + n, sizeof wat - (size_t)n,
                  " (func (export \"mgrow\") (param i32) (result i32) (memory.grow (local.get 0)))\n");
    for (int i = 0; i < 12; i++)
        n += snprintf(wat + n, sizeof wat - (size_t)n,
                      " (func (export \"grow%d\") (param i32) (result i32)\n"
                      "  (table.grow $t%d (ref.null func) (local.get 0)))\n", i, i);
    snprintf(wat + n, sizeof wat - (size_t)n, ")");
    return wat;
}

typedef struct run {
    lvm_store *s;
    lvm_instance *inst;
    lvm_thread *t;
    lvm_diag d;
    lvm_err err;
} run;

/* Instantiate under a store limit of `limit` pages (LVM_MAX_PAGES: none). */
static run make(const char *wat, uint32_t limit)
{
    run r;
    lvm_module *m = load_wat(wat);
    r.s = lvm_store_new();
    lvm_store_set_memory_limit(r.s, limit);
    r.t = lvm_thread_new(NULL);
    r.err = lvm_instantiate(r.s, NULL, m, r.t, &r.inst, &r.d);
    lvm_module_release(m);
    return r;
}

static void done(run *r)
{
    lvm_thread_free(r->t);
    lvm_store_free(r->s);
}

static int32_t call(run *r, const char *name, uint32_t arg)
{
    lvm_extern x;
    cr_assert(lvm_instance_export(r->inst, name, &x), "no export %s", name);
    lvm_val a = { .i32 = arg }, res;
    cr_assert_eq(lvm_invoke(r->t, x.u.func, &a, &res), LVM_OK);
    return (int32_t)res.i32;
}

/* The attack: twelve tables of 2^24 entries (1.5 GiB) under a one-page
 * limit.  Every grow fails, and nothing was allocated for them. */
Test(limits, huge_tables_under_a_small_limit_fail)
{
    uint64_t before = lvm_total_memory_used();
    run r = make(tables_wat(1, 0), 1);
    cr_assert_eq(r.err, LVM_OK, "%s", r.d.message);
    char name[16];
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "grow%d", i);
        cr_assert_eq(call(&r, name, 1u << 24), -1, "table %d", i);
    }
    cr_assert_eq(lvm_total_memory_used(), before, "nothing is held: the memory is untouched");
    lvm_memory_data(lvm_instance_memory(r.inst));     /* counts it all as written */
    cr_assert_eq(lvm_total_memory_used() - before, PAGE, "only the memory is held");
    done(&r);
    cr_assert_eq(lvm_total_memory_used(), before);
}

/* The first 64 KiB of tables are free: a one-page program with its
 * function table fits --max-memory 1, exactly up to 8192 entries. */
Test(limits, small_tables_are_free_then_counted)
{
    run r = make(tables_wat(1, 0), 1);
    cr_assert_eq(r.err, LVM_OK, "%s", r.d.message);
    cr_assert_eq(call(&r, "grow0", FREE_ELEMS - 100), 0);
    cr_assert_eq(call(&r, "grow1", 100), 0, "the allowance is per store, not per table");
    cr_assert_eq(call(&r, "grow1", 1), -1, "one element past it");
    cr_assert_eq(call(&r, "grow2", 1), -1);
    done(&r);
    /* With room in the limit, counted elements take it page by page. */
    r = make(tables_wat(1, 0), 3);
    cr_assert_eq(r.err, LVM_OK, "%s", r.d.message);
    cr_assert_eq(call(&r, "grow0", FREE_ELEMS + 2 * PAGE / 8), 0);
    cr_assert_eq(call(&r, "grow0", 1), -1, "memory 1 page + tables 2 pages = the limit");
    cr_assert_eq(call(&r, "mgrow", 1), -1, "and the memory cannot grow either");
    cr_assert_eq(lvm_memory_refused(lvm_instance_memory(r.inst)), 2);
    done(&r);
    /* The memory first: then the tables get only the allowance. */
    r = make(tables_wat(1, 0), 3);
    cr_assert_eq(call(&r, "mgrow", 2), 1);
    cr_assert_eq(call(&r, "grow5", FREE_ELEMS), 0);
    cr_assert_eq(call(&r, "grow6", 1), -1);
    done(&r);
}

/* A table too big at instantiation fails it with the limit's error,
 * naming the table and its size; a memory that no longer fits beside the
 * tables is named likewise. */
Test(limits, initial_tables_over_the_limit_fail_instantiation)
{
    run r = make(tables_wat(1, 100000), 1);
    cr_assert_eq(r.err, LVM_ERR_MEMORY_LIMIT);
    cr_assert(strstr(r.d.message, "memory limit exceeded: table 0 needs 800000 bytes"),
              "%s", r.d.message);
    done(&r);
    /* 12 x 2000 entries = 192,000 bytes: 126,464 counted, two pages. */
    r = make(tables_wat(2, 2000), 3);
    cr_assert_eq(r.err, LVM_ERR_MEMORY_LIMIT);
    cr_assert(strstr(r.d.message, "memory 0 needs 2 pages, over the limit of 3 with the tables"),
              "%s", r.d.message);
    done(&r);
    r = make(tables_wat(1, 2000), 3);
    cr_assert_eq(r.err, LVM_OK, "%s", r.d.message);
    done(&r);
}

/* Without a store limit, tables are bounded by their own limit only. */
Test(limits, no_store_limit_no_table_count)
{
    run r = make(tables_wat(1, 0), LVM_MAX_PAGES);
    cr_assert_eq(r.err, LVM_OK, "%s", r.d.message);
    cr_assert_eq(call(&r, "grow0", 1u << 20), 0);
    cr_assert_eq(call(&r, "mgrow", 100), 1);
    done(&r);
}

/* The total of all stores: memories and tables of two stores together. */
Test(limits, total_of_all_stores)
{
    uint64_t base = lvm_total_memory_used();
    lvm_set_total_memory_limit(base + 10 * PAGE);
    cr_assert_eq(lvm_total_memory_limit(), base + 10 * PAGE);
    run a = make(tables_wat(4, 0), LVM_MAX_PAGES);
    cr_assert_eq(a.err, LVM_OK, "%s", a.d.message);
    run b = make(tables_wat(4, 0), LVM_MAX_PAGES);
    cr_assert_eq(b.err, LVM_OK, "%s", b.d.message);
    cr_assert_eq(lvm_total_memory_used(), base, "initial pages count once written");
    /* A store in a's last page counts the written range, whole grains. */
    lvm_memory_written(lvm_instance_memory(a.inst), 4 * PAGE - 8, 8);
    cr_assert_eq(lvm_total_memory_used(), base + VM_WRITE_GRAIN);
    lvm_memory_data(lvm_instance_memory(a.inst));
    lvm_memory_data(lvm_instance_memory(b.inst));
    cr_assert_eq(lvm_total_memory_used(), base + 8 * PAGE);
    lvm_memory_data(lvm_instance_memory(b.inst));
    cr_assert_eq(lvm_total_memory_used(), base + 8 * PAGE, "counted once");
    /* Two pages are left: b takes one, then a cannot take two. */
    cr_assert_eq(call(&b, "mgrow", 1), 4);
    cr_assert_eq(call(&a, "mgrow", 2), -1);
    cr_assert_eq(lvm_memory_refused_total(lvm_instance_memory(a.inst)), 6);
    cr_assert_eq(lvm_memory_refused(lvm_instance_memory(a.inst)), 0, "not the store's limit");
    /* Tables count in the total, from the first element. */
    cr_assert_eq(call(&a, "grow0", PAGE / 8), 0);
    cr_assert_eq(call(&a, "grow1", 1), -1);
    cr_assert_eq(lvm_total_memory_used(), base + 10 * PAGE);
    /* A third store's memory has no page of room: instantiation names the
     * total. */
    run c = make(tables_wat(1, 0), LVM_MAX_PAGES);
    cr_assert_eq(c.err, LVM_ERR_TOTAL_MEMORY_LIMIT);
    cr_assert(strstr(c.d.message, "total memory limit exceeded: memory 0 needs 65536 bytes"),
              "%s", c.d.message);
    done(&c);
    /* Freeing a store gives its share back. */
    done(&b);
    cr_assert_eq(lvm_total_memory_used(), base + 5 * PAGE);
    cr_assert_eq(call(&a, "mgrow", 2), 4);
    done(&a);
    cr_assert_eq(lvm_total_memory_used(), base);
    /* 0 restores the default, the machine's physical memory. */
    lvm_set_total_memory_limit(0);
    cr_assert_gt(lvm_total_memory_limit(), base + 10 * PAGE);
}
