/*
 * test_memory.c - linear memories from the block pool (vm/mempool.c): a
 * recycled block must read as zero wherever the new memory can see, both
 * at creation and as it grows into the block; limits hold.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vm.h"

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
