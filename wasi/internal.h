/*
 * internal.h - what the files of wasi/ share: the context struct, the WASI
 * errno values, the table each file exports, and the guest-memory helpers
 * every host function goes through.
 *
 * Layout of the folder: ctx.c owns wasi_ctx and registration; each
 * preview1_*.c file holds one group of host functions and exports them as
 * one wasi_import table (preview1_proc.c: arguments, environment, clocks,
 * randomness, exit; preview1_fd.c: file descriptors).  The full WASI adds
 * files here (preview1_path.c, preview1_poll.c) and rows to ctx.c's list of
 * tables; nothing else has to change.
 *
 * Guest memory rule: a host function first turns every (pointer, length) it
 * was given into a checked range with wasi_mem_check, and only then reads
 * or writes anything (ABI decision D7: no side effect before all checks).
 * The arithmetic is done in 64 bits, where a 32-bit pointer plus a 32-bit
 * length (or 8 * a 32-bit count) cannot overflow.
 */
#ifndef LVM_WASI_INTERNAL_H
#define LVM_WASI_INTERNAL_H

#include <string.h>

#include "base.h"
#include "wasi.h"

/* {====== errno values (WASI preview 1 `errno`, a u16 returned as i32) */

enum {
    WASI_ESUCCESS = 0,
    WASI_E2BIG = 1,
    WASI_EACCES = 2,
    WASI_EAGAIN = 6,
    WASI_EBADF = 8,
    WASI_EDQUOT = 19,
    WASI_EFAULT = 21,
    WASI_EFBIG = 22,
    WASI_EINTR = 27,
    WASI_EINVAL = 28,
    WASI_EIO = 29,
    WASI_ENOSPC = 51,
    WASI_ENOSYS = 52,
    WASI_EPERM = 63,
    WASI_EPIPE = 64,
    WASI_ESPIPE = 70,
};

/* Map a host errno to the WASI errno the guest should see (EIO for
 * anything without a closer match). */
uint32_t wasi_errno_from_host(int host_errno);

/* }====== */

/* {====== the context */

/* A list of NUL-terminated strings laid out the way args_get/environ_get
 * hand them to the guest: one buffer "a\0bc\0", plus each string's offset
 * in it.  Sizes are u32 because that is what the guest receives. */
typedef struct wasi_strings {
    uint32_t count;
    uint32_t size;          /* bytes in buf, terminators included */
    uint32_t *offsets;      /* count entries */
    char *buf;
} wasi_strings;

/* WASI rights bits used by the descriptors we hand out (`rights` type). */
#define WASI_RIGHT_FD_READ             (UINT64_C(1) << 1)
#define WASI_RIGHT_FD_SEEK             (UINT64_C(1) << 2)
#define WASI_RIGHT_FD_TELL             (UINT64_C(1) << 5)
#define WASI_RIGHT_FD_WRITE            (UINT64_C(1) << 6)
#define WASI_RIGHT_FD_FILESTAT_GET     (UINT64_C(1) << 21)
#define WASI_RIGHT_POLL_FD_READWRITE   (UINT64_C(1) << 27)

/* One guest descriptor.  Today only the three standard ones exist and they
 * map to the host's 0, 1, 2; the full WASI grows this into a table of open
 * files and preopened directories. */
typedef struct wasi_fd {
    int host_fd;
    bool open;
    uint64_t rights;
} wasi_fd;

#define WASI_NSTDIO 3

struct wasi_ctx {
    wasi_strings args;
    wasi_strings env;
    wasi_fd fds[WASI_NSTDIO];
    bool exited;            /* proc_exit was called ... */
    uint32_t exit_code;     /* ... with this argument */
};

/* The descriptor `fd` if it exists and is open, else NULL (EBADF). */
wasi_fd *wasi_fd_get(wasi_ctx *ctx, uint32_t fd);

/* }====== */

/* {====== host function tables */

/* One host function: its WASI name, its type in lvm_func_new_host's
 * notation, and the C function.  Tables end with a row whose name is NULL.
 * The `data` pointer of every function is the wasi_ctx. */
typedef struct wasi_import {
    const char *name;
    const char *type;
    lvm_host_fn fn;
} wasi_import;

extern const wasi_import wasi_preview1_proc[];  /* preview1_proc.c */
extern const wasi_import wasi_preview1_fd[];    /* preview1_fd.c */

/* Host functions return their errno as the single i32 result. */
static inline lvm_err wasi_return(lvm_val *results, uint32_t wasi_errno)
{
    results[0].i32 = wasi_errno;
    return LVM_OK;
}

/* }====== */

/* {====== guest memory */

/* The caller's memory as it is during this host call.  It is fetched anew
 * on every call: memory.grow may have moved it since the last one.  A
 * module without memory gets size 0, so every non-empty range fails. */
typedef struct wasi_mem {
    uint8_t *base;
    uint64_t size;
} wasi_mem;

static inline wasi_mem wasi_mem_of(const lvm_hostcall *call)
{
    wasi_mem m = { NULL, 0 };
    lvm_memory *mem = call->caller ? lvm_instance_memory(call->caller) : NULL;
    if (mem) {
        m.base = lvm_memory_data(mem);
        m.size = m.base ? lvm_memory_size(mem) : 0;
    }
    return m;
}

/* True if [ptr, ptr + len) lies inside the memory.  len is 64-bit so that
 * callers can pass 8 * count without overflow; ptr + len cannot overflow
 * 64 bits for any ptr < 2^32 and len < 2^63. */
static inline bool wasi_mem_check(const wasi_mem *m, uint32_t ptr, uint64_t len)
{
    return len <= m->size && ptr <= m->size - len;
}

/* Loads and stores of checked addresses.  Wasm memory is little-endian
 * whatever the host is, so bytes are assembled explicitly (compilers turn
 * this into a single move on little-endian hosts). */
static inline uint32_t wasi_load_u32(const wasi_mem *m, uint32_t ptr)
{
    const uint8_t *p = m->base + ptr;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wasi_store_u8(const wasi_mem *m, uint32_t ptr, uint8_t v)
{
    m->base[ptr] = v;
}

static inline void wasi_store_u16(const wasi_mem *m, uint32_t ptr, uint16_t v)
{
    uint8_t *p = m->base + ptr;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void wasi_store_u32(const wasi_mem *m, uint32_t ptr, uint32_t v)
{
    uint8_t *p = m->base + ptr;
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void wasi_store_u64(const wasi_mem *m, uint32_t ptr, uint64_t v)
{
    uint8_t *p = m->base + ptr;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Copy len host bytes to a checked guest range.  len == 0 touches nothing
 * (base may be NULL then, and memcpy with NULL is undefined even for 0). */
static inline void wasi_copy_out(const wasi_mem *m, uint32_t ptr, const void *src, uint64_t len)
{
    if (len)
        memcpy(m->base + ptr, src, (size_t)len);
}

/* }====== */

#endif
