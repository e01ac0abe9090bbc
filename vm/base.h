/*
 * base.h - the few types every folder of lvm shares: error codes, value
 * types, the diagnostic record, and assertions.
 *
 * Every folder may include this header; it includes nothing of lvm's own
 * except vm/lvm.h (the public API, whose types it re-uses) and errors.def.
 */
#ifndef LVM_BASE_H
#define LVM_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lvm.h"

/* LVM_ASSERT checks an internal invariant.  It is compiled in by default
 * (the cost is a predictable branch) and aborts with the location; it is
 * never used for anything a module or guest can cause. */
#ifdef NDEBUG
#define LVM_ASSERT(c) ((void)0)
#else
#define LVM_ASSERT(c) ((c) ? (void)0 : lvm_panic("assertion failed: %s (%s:%d)", #c, __FILE__, __LINE__))
#endif

#if defined(__GNUC__)
#define LVM_LIKELY(x)   __builtin_expect(!!(x), 1)
#define LVM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LVM_NORETURN    __attribute__((noreturn))
#define LVM_PRINTF(a,b) __attribute__((format(printf, a, b)))
#else
#define LVM_LIKELY(x)   (x)
#define LVM_UNLIKELY(x) (x)
#define LVM_NORETURN
#define LVM_PRINTF(a,b)
#endif

/* lvm_panic reports a broken invariant or an impossible OS result and
 * aborts.  Never for bad input: bad input gets an lvm_err. */
LVM_NORETURN LVM_PRINTF(1, 2) void lvm_panic(const char *fmt, ...);

/* lvm_diag_set fills `d` (if not NULL) with `err`, the byte offset where it
 * was found (or LVM_NO_OFFSET), and a message: the error's spec text followed
 * by the formatted detail.  Returns `err` so callers can `return
 * lvm_diag_set(...)`. */
lvm_err lvm_diag_set(lvm_diag *d, lvm_err err, size_t offset, const char *fmt, ...) LVM_PRINTF(4, 5);

/* Checked allocation: these return NULL on failure like malloc; callers
 * turn that into LVM_ERR_NO_MEMORY.  xcalloc also checks n*size overflow. */
void *lvm_xcalloc(size_t n, size_t size);

/* The next capacity of a growable array of `size`-byte entries that must
 * hold `need`: doubling from `cap` (from `first` when 0), at most `max`
 * entries, and never a byte size past SIZE_MAX.  0 when there is none:
 * the caller fails as out of memory, never wraps (a u32 capacity doubled
 * past 2^31 is 0) and never calls realloc(p, 0), which frees p.  Every
 * growth of decoder/, exec/, vm/ and wasi/ goes through it; green/ and
 * io/, which must not include vm/, have io_grow_cap (io/io.h), the same
 * computation on their side of the dependency rule. */
size_t lvm_grow_cap(size_t cap, size_t need, size_t first, size_t size, size_t max);

/* Whether [s, s+n) is well-formed UTF-8: wasm names (decoder) and the
 * string arguments of host functions (wasi) must be. */
bool lvm_utf8_valid(const uint8_t *s, size_t n);

static inline bool lvm_is_reftype(uint8_t t) { return t == LVM_FUNCREF || t == LVM_EXTERNREF; }
static inline bool lvm_is_valtype(uint8_t t)
{
    return t == LVM_I32 || t == LVM_I64 || t == LVM_F32 || t == LVM_F64 || lvm_is_reftype(t);
}

#define LVM_PAGE_SIZE 65536u
#define LVM_MAX_PAGES 65536u

#endif
