/*
 * internal.h - what the files of wasi/ share: the context struct, the WASI
 * errno values, the table each file exports, and the guest-memory helpers
 * every host function goes through.
 *
 * Layout of the folder: ctx.c owns wasi_ctx, the descriptor table and
 * registration; caps.c the network grants and the capability model; path.c resolves guest paths inside the sandbox; each
 * preview1_*.c file holds one group of host functions and exports them as
 * one wasi_import table (preview1_proc.c: arguments, environment, clocks,
 * randomness, exit; preview1_fd.c: descriptors; preview1_path.c: paths;
 * preview1_poll.c: poll_oneoff, sched_yield and sockets).
 *
 * Guest memory rule: a host function first turns every (pointer, length) it
 * was given into a checked range with wasi_mem_check, and only then reads
 * or writes anything (ABI decision D7: no side effect before all checks).
 * The arithmetic is done in 64 bits, where a 32-bit pointer plus a 32-bit
 * length (or 8 * a 32-bit count) cannot overflow.  A checked range also
 * counts as written (lvm_memory_written), read or not: lvm recycles a
 * memory by zeroing only what was written, so a write it missed would
 * show one process's bytes to the next, while an extra mark costs a few
 * bytes of zeroing.  The check being the one door to guest memory, no
 * write can slip past it.
 */
#ifndef LVM_WASI_INTERNAL_H
#define LVM_WASI_INTERNAL_H

#include <stdatomic.h>
#include <string.h>

#include "base.h"
#include "wasi.h"

/* {====== errno values (WASI preview 1 `errno`, a u16 returned as i32) */

/* The complete list, numbered as the witx numbers them; ctx.c maps every
 * host errno to one of these (wasi_errno_from_host). */
enum {
    WASI_ESUCCESS = 0, WASI_E2BIG = 1, WASI_EACCES = 2, WASI_EADDRINUSE = 3,
    WASI_EADDRNOTAVAIL = 4, WASI_EAFNOSUPPORT = 5, WASI_EAGAIN = 6,
    WASI_EALREADY = 7, WASI_EBADF = 8, WASI_EBADMSG = 9, WASI_EBUSY = 10,
    WASI_ECANCELED = 11, WASI_ECHILD = 12, WASI_ECONNABORTED = 13,
    WASI_ECONNREFUSED = 14, WASI_ECONNRESET = 15, WASI_EDEADLK = 16,
    WASI_EDESTADDRREQ = 17, WASI_EDOM = 18, WASI_EDQUOT = 19, WASI_EEXIST = 20,
    WASI_EFAULT = 21, WASI_EFBIG = 22, WASI_EHOSTUNREACH = 23, WASI_EIDRM = 24,
    WASI_EILSEQ = 25, WASI_EINPROGRESS = 26, WASI_EINTR = 27, WASI_EINVAL = 28,
    WASI_EIO = 29, WASI_EISCONN = 30, WASI_EISDIR = 31, WASI_ELOOP = 32,
    WASI_EMFILE = 33, WASI_EMLINK = 34, WASI_EMSGSIZE = 35, WASI_EMULTIHOP = 36,
    WASI_ENAMETOOLONG = 37, WASI_ENETDOWN = 38, WASI_ENETRESET = 39,
    WASI_ENETUNREACH = 40, WASI_ENFILE = 41, WASI_ENOBUFS = 42, WASI_ENODEV = 43,
    WASI_ENOENT = 44, WASI_ENOEXEC = 45, WASI_ENOLCK = 46, WASI_ENOLINK = 47,
    WASI_ENOMEM = 48, WASI_ENOMSG = 49, WASI_ENOPROTOOPT = 50, WASI_ENOSPC = 51,
    WASI_ENOSYS = 52, WASI_ENOTCONN = 53, WASI_ENOTDIR = 54, WASI_ENOTEMPTY = 55,
    WASI_ENOTRECOVERABLE = 56, WASI_ENOTSOCK = 57, WASI_ENOTSUP = 58,
    WASI_ENOTTY = 59, WASI_ENXIO = 60, WASI_EOVERFLOW = 61, WASI_EOWNERDEAD = 62,
    WASI_EPERM = 63, WASI_EPIPE = 64, WASI_EPROTO = 65, WASI_EPROTONOSUPPORT = 66,
    WASI_EPROTOTYPE = 67, WASI_ERANGE = 68, WASI_EROFS = 69, WASI_ESPIPE = 70,
    WASI_ESRCH = 71, WASI_ESTALE = 72, WASI_ETIMEDOUT = 73, WASI_ETXTBSY = 74,
    WASI_EXDEV = 75, WASI_ENOTCAPABLE = 76,
};

/* Map a host errno to the WASI errno the guest should see (EIO for
 * anything without a closer match). */
uint32_t wasi_errno_from_host(int host_errno);

/* }====== */

/* {====== rights, types and flags (the witx `rights`, `filetype`, ...) */

#define WASI_RIGHT(n) (UINT64_C(1) << (n))
#define WASI_RIGHT_FD_DATASYNC             WASI_RIGHT(0)
#define WASI_RIGHT_FD_READ                 WASI_RIGHT(1)
#define WASI_RIGHT_FD_SEEK                 WASI_RIGHT(2)
#define WASI_RIGHT_FD_FDSTAT_SET_FLAGS     WASI_RIGHT(3)
#define WASI_RIGHT_FD_SYNC                 WASI_RIGHT(4)
#define WASI_RIGHT_FD_TELL                 WASI_RIGHT(5)
#define WASI_RIGHT_FD_WRITE                WASI_RIGHT(6)
#define WASI_RIGHT_FD_ADVISE               WASI_RIGHT(7)
#define WASI_RIGHT_FD_ALLOCATE             WASI_RIGHT(8)
#define WASI_RIGHT_PATH_CREATE_DIRECTORY   WASI_RIGHT(9)
#define WASI_RIGHT_PATH_CREATE_FILE        WASI_RIGHT(10)
#define WASI_RIGHT_PATH_LINK_SOURCE        WASI_RIGHT(11)
#define WASI_RIGHT_PATH_LINK_TARGET        WASI_RIGHT(12)
#define WASI_RIGHT_PATH_OPEN               WASI_RIGHT(13)
#define WASI_RIGHT_FD_READDIR              WASI_RIGHT(14)
#define WASI_RIGHT_PATH_READLINK           WASI_RIGHT(15)
#define WASI_RIGHT_PATH_RENAME_SOURCE      WASI_RIGHT(16)
#define WASI_RIGHT_PATH_RENAME_TARGET      WASI_RIGHT(17)
#define WASI_RIGHT_PATH_FILESTAT_GET       WASI_RIGHT(18)
#define WASI_RIGHT_PATH_FILESTAT_SET_SIZE  WASI_RIGHT(19)
#define WASI_RIGHT_PATH_FILESTAT_SET_TIMES WASI_RIGHT(20)
#define WASI_RIGHT_FD_FILESTAT_GET         WASI_RIGHT(21)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE    WASI_RIGHT(22)
#define WASI_RIGHT_FD_FILESTAT_SET_TIMES   WASI_RIGHT(23)
#define WASI_RIGHT_PATH_SYMLINK            WASI_RIGHT(24)
#define WASI_RIGHT_PATH_REMOVE_DIRECTORY   WASI_RIGHT(25)
#define WASI_RIGHT_PATH_UNLINK_FILE        WASI_RIGHT(26)
#define WASI_RIGHT_POLL_FD_READWRITE       WASI_RIGHT(27)
#define WASI_RIGHT_SOCK_SHUTDOWN           WASI_RIGHT(28)
#define WASI_RIGHT_SOCK_ACCEPT             WASI_RIGHT(29)
#define WASI_RIGHTS_ALL                    (WASI_RIGHT(30) - 1)

/* What each kind of descriptor can ever do.  A descriptor's rights are
 * always a subset of its kind's: path_open intersects what the guest asks
 * for with these, so a file never carries PATH_OPEN and a directory never
 * carries FD_READ (wasmtime's choice; wasi-libc asks for everything). */
#define WASI_RIGHTS_REGULAR_FILE                                                   \
    (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK |           \
     WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_TELL |    \
     WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ADVISE | WASI_RIGHT_FD_ALLOCATE |         \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_SIZE |                \
     WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_DIRECTORY                                                      \
    (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | \
     WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE |              \
     WASI_RIGHT_PATH_LINK_SOURCE | WASI_RIGHT_PATH_LINK_TARGET |                   \
     WASI_RIGHT_PATH_OPEN | WASI_RIGHT_FD_READDIR | WASI_RIGHT_PATH_READLINK |      \
     WASI_RIGHT_PATH_RENAME_SOURCE | WASI_RIGHT_PATH_RENAME_TARGET |               \
     WASI_RIGHT_PATH_FILESTAT_GET | WASI_RIGHT_PATH_FILESTAT_SET_SIZE |            \
     WASI_RIGHT_PATH_FILESTAT_SET_TIMES | WASI_RIGHT_FD_FILESTAT_GET |             \
     WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_PATH_SYMLINK |                  \
     WASI_RIGHT_PATH_REMOVE_DIRECTORY | WASI_RIGHT_PATH_UNLINK_FILE |              \
     WASI_RIGHT_POLL_FD_READWRITE)
/* Sockets, pipes, terminals: a stream that neither seeks nor has paths. */
#define WASI_RIGHTS_STREAM                                                         \
    (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_FDSTAT_SET_FLAGS |   \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_POLL_FD_READWRITE |                   \
     WASI_RIGHT_SOCK_SHUTDOWN | WASI_RIGHT_SOCK_ACCEPT)

enum {
    WASI_FILETYPE_UNKNOWN = 0, WASI_FILETYPE_BLOCK_DEVICE = 1,
    WASI_FILETYPE_CHARACTER_DEVICE = 2, WASI_FILETYPE_DIRECTORY = 3,
    WASI_FILETYPE_REGULAR_FILE = 4, WASI_FILETYPE_SOCKET_DGRAM = 5,
    WASI_FILETYPE_SOCKET_STREAM = 6, WASI_FILETYPE_SYMBOLIC_LINK = 7,
};

/* fdflags */
enum {
    WASI_FDFLAG_APPEND = 1, WASI_FDFLAG_DSYNC = 2, WASI_FDFLAG_NONBLOCK = 4,
    WASI_FDFLAG_RSYNC = 8, WASI_FDFLAG_SYNC = 16,
};

/* The WASI file type of a host mode (st_mode). */
uint8_t wasi_filetype_of_mode(unsigned mode);

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

/* What every process of one program shares and nobody changes once the
 * first process runs: the strings, and the host resources that each
 * process gets its own descriptor for (preopened directories, the
 * listening socket).  Reference-counted: the last context to go frees it. */
typedef struct wasi_preopen {
    int host_fd;            /* the directory (or socket); dup'ed per process */
    char *guest_path;       /* what fd_prestat_dir_name reports; NULL: socket */
} wasi_preopen;

typedef struct wasi_shared {
    _Atomic int refs;
    wasi_strings args;
    wasi_strings env;
    wasi_preopen *preopens;
    uint32_t npreopens;
    uint8_t stdio_type[3];  /* WASI_FILETYPE_* of the host's fds 0-2, taken
                               once: a spawn must not cost three fstats */
} wasi_shared;

/* One guest descriptor.  host_fd is owned (closed by fd_close) except for
 * the standard descriptors, which stay open for lvm and other processes. */
typedef struct wasi_fd {
    int host_fd;
    bool open;
    bool borrowed;          /* a standard descriptor: never closed on host */
    bool preopened;         /* a preopen (directory or --tcplisten socket):
                               what a child may be given (wasi_ctx_child) */
    uint8_t type;           /* WASI_FILETYPE_* */
    uint16_t flags;         /* WASI_FDFLAG_*, as the guest last set them */
    uint64_t rights;        /* rights_base */
    uint64_t inheriting;    /* rights_inheriting: what path_open may grant */
    const char *preopen;    /* the guest name of a preopened directory */
    void *dir;              /* DIR * of fd_readdir, opened lazily */
    uint64_t dir_pos;       /* the cookie of the next entry `dir` returns */
} wasi_fd;

#define WASI_NSTDIO 3

/* Is f a file opened by path (regular file, FIFO, device), as opposed to
 * a directory, a standard descriptor or a socket?  An operation meant for
 * another kind of descriptor fails with the errno wasmtime gives for the
 * wrong kind (EBADF, ESPIPE, ENOTDIR, ENOTSOCK) before any right is
 * looked at: the kind is what the guest got wrong, and a directory, say,
 * lacks FD_SEEK only because it cannot seek. */
static inline bool wasi_fd_is_file(const wasi_fd *f)
{
    return !f->borrowed && f->type != WASI_FILETYPE_DIRECTORY &&
           f->type != WASI_FILETYPE_SOCKET_STREAM && f->type != WASI_FILETYPE_SOCKET_DGRAM;
}

/* One process's view of WASI: the shared part plus its own descriptors.
 * A process uses its context from one thread at a time. */
#define WASI_FDS0 8

struct wasi_ctx {
    wasi_shared *shared;
    wasi_caps *caps;        /* network grants (caps.c); never NULL */
    wasi_fd *fds;
    uint32_t nfds;          /* slots in fds, open or not */
    bool exited;            /* proc_exit was called ... */
    uint32_t exit_code;     /* ... with this argument */
    /* poll_oneoff's relative timeouts count from its first attempt, which
     * a blocked call must remember across its retries (see preview1_poll.c). */
    bool poll_pending;
    uint32_t poll_in, poll_n;   /* which call: its subscriptions */
    uint64_t poll_start;        /* CLOCK_MONOTONIC ns of the first attempt */
    bool yielded;               /* sched_yield has parked once (its retry) */
    /* A call running on the blocking pool (fd_sync...), kept for its
     * retry, and the process's account with the pool (preview1_fd.c). */
    struct wasi_pooled *pooled;
    /* random_get's progress through a huge buffer (preview1_proc.c). */
    bool random_pending;
    uint32_t random_buf, random_len, random_done;
    /* Host descriptors (ctx.c): an upper bound of those held; why the
     * last wasi_fd_insert refused one (EMFILE, ENFILE) or 0; and the
     * last such refusal ever (for lvm's message as the process ends). */
    uint32_t host_fds;
    int fd_refused, fd_ever_refused;
    /* Output capture (capture.c): where descriptors 1 and 2 write, if
     * not NULL (a reference). */
    wasi_capture *capture;
    int capture_stream;
    /* The first descriptor slots live here (fds points at them until the
     * table doubles): a spawn makes one allocation for its context. */
    wasi_fd fds0[WASI_FDS0];
};

/* capture.c: a new stream of c (its index, or -1). */
int wasi_capture_stream_new(wasi_capture *c);

/* The context of the calling process: the process's own when there is a
 * current process that has one, else the one given at registration. */
wasi_ctx *wasi_ctx_of(const lvm_hostcall *call);

/* The descriptor `fd` if it exists and is open, else NULL (EBADF). */
wasi_fd *wasi_fd_get(wasi_ctx *ctx, uint32_t fd);

/* Look fd up and check that it has every right in `need`: returns 0 and
 * sets *out, or the WASI errno (EBADF, ENOTCAPABLE). */
uint32_t wasi_fd_lookup(wasi_ctx *ctx, uint32_t fd, uint64_t need, wasi_fd **out);

/* The kinds of descriptor a call may insist on (wasi_fd_lookup_kind). */
typedef enum { WASI_KIND_ANY, WASI_KIND_DIR, WASI_KIND_FILE, WASI_KIND_SOCKET } wasi_fd_kind;

/* wasi_fd_lookup for a call that needs one kind of descriptor, checked in
 * wasmtime's order: EBADF if fd is not open, `wrong_kind` if it is not of
 * that kind (FILE: see wasi_fd_is_file), then ENOTCAPABLE. */
uint32_t wasi_fd_lookup_kind(wasi_ctx *ctx, uint32_t fd, wasi_fd_kind kind, uint32_t wrong_kind,
                             uint64_t need, wasi_fd **out);

/* Put an open host descriptor into the lowest free slot; returns the
 * guest number or UINT32_MAX (out of memory, or a descriptor budget
 * spent: ctx->fd_refused says EMFILE or ENFILE; the caller closes
 * host_fd).  A descriptor not borrowed counts against the budgets until
 * wasi_fd_release. */
uint32_t wasi_fd_insert(wasi_ctx *ctx, const wasi_fd *f);

/* The total of all processes' host descriptors (ctx.c): take one (false:
 * the total is reached) or give one back.  For lunatic's sockets. */
bool wasi_host_fd_charge(void);
void wasi_host_fd_uncharge(void);

/* Release what a slot holds (closing the host descriptor unless borrowed,
 * after telling the scheduler to forget it) and mark it closed. */
void wasi_fd_release(wasi_fd *f);

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t wasi_now_ns(void);

/* The guest's process may block: register the waiter for host_fd
 * (IO_READ or IO_WRITE) and return LVM_ERR_BLOCK.  Off the scheduler, or if
 * the fd cannot be watched, waits on the thread with poll() and returns
 * LVM_OK: the caller then simply tries again. */
lvm_err wasi_block_on_fd(int host_fd, bool for_write);

/* The process of ctx has ended (or ctx goes): let go of its call on the
 * blocking pool, which finishes there without waking it.  Idempotent. */
void wasi_ctx_exited(wasi_ctx *ctx);

/* A host call that has done a slice's worth of work and will go on with
 * the rest in its retry: on the scheduler, marks the process to run again
 * at the back of the queue and returns LVM_ERR_BLOCK (the caller returns
 * that, keeping its progress in the context); off it, LVM_OK (go on). */
lvm_err wasi_slice_spent(void);

/* }====== */

typedef struct wasi_mem wasi_mem;
struct stat;
struct timespec;
struct iovec;

/* {====== helpers of preview1_fd.c that preview1_path.c, preview1_poll.c
 * and lunatic_net.c use too */

/* At most this many iovecs go to one host call.  wasi-libc passes 1 or 2;
 * a guest that passes more gets a short transfer, which WASI (and the
 * lunatic ABI) allows and libc loops on.  Small enough to live on the
 * stack of any thread. */
#define WASI_MAX_IOV 64

/* Check an iovec array of n entries (8 bytes each: buf u32, len u32) and
 * every buffer in it, then gather at most WASI_MAX_IOV non-empty buffers
 * totalling at most UINT32_MAX bytes (what a u32 count can report) into
 * v (room for WASI_MAX_IOV).  Empty buffers are skipped: their pointer may be the end of (or no)
 * memory, so *nv_out 0 means there is nothing to move.  Returns true, or
 * false with *bad_out the index of the first buffer outside memory, or
 * UINT32_MAX if the array itself is. */
bool wasi_gather(const wasi_mem *m, uint32_t iovs, uint32_t n, struct iovec *v,
                 int *nv_out, uint32_t *bad_out);

/* Write a filestat (64 bytes, checked by the caller) from a host stat. */
void wasi_store_filestat(const wasi_mem *m, uint32_t out, const struct stat *st);

/* The two timespecs of futimens/utimensat from WASI's (atim, mtim,
 * fst_flags); returns 0 or EINVAL. */
uint32_t wasi_timespecs(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts_out[2]);

/* May I/O on the stream f go ahead now?  LVM_OK and *eagain false: yes;
 * LVM_OK and *eagain true: no, and the guest asked not to wait;
 * LVM_ERR_BLOCK: the process is parked on the fd (return that). */
lvm_err wasi_stream_ready(const wasi_fd *f, bool for_write, bool *eagain);

/* }====== */

/* {====== sandboxed paths (path.c) */

/* A guest path resolved inside a directory descriptor: the host directory
 * that holds the last component, and that component.  dirfd is owned (close
 * it with wasi_path_done) unless it is the base descriptor itself. */
typedef struct wasi_path {
    int dirfd;
    bool owned;
    char *name;             /* the last component: never "", ".." or with '/' */
    bool trailing_slash;    /* the guest wrote "dir/": must be a directory */
} wasi_path;

/* Resolve the guest path [ptr, ptr + len) of memory m relative to the
 * directory descriptor `base`, confined to it: `..` may not leave it,
 * absolute paths are refused, symlinks are followed in user space within
 * it (the last one only if follow_last).  Returns 0 or a WASI errno
 * (EFAULT, EILSEQ for a path that is not UTF-8, EINVAL for one with a
 * NUL, ENOTCAPABLE, ELOOP, ENOENT, ENOTDIR, ...). */
uint32_t wasi_path_resolve(const wasi_fd *base, const wasi_mem *m, uint32_t ptr, uint32_t len,
                           bool follow_last, wasi_path *out);
void wasi_path_done(wasi_path *p);

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
extern const wasi_import wasi_preview1_path[];  /* preview1_path.c */
extern const wasi_import wasi_preview1_poll[];  /* preview1_poll.c */

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
struct wasi_mem {
    uint8_t *base;
    uint64_t size;
    lvm_memory *mem;
};

static inline wasi_mem wasi_mem_of(const lvm_hostcall *call)
{
    wasi_mem m = { NULL, 0, NULL };
    lvm_memory *mem = call->caller ? lvm_instance_memory(call->caller) : NULL;
    if (mem) {
        m.base = lvm_memory_base(mem);
        m.size = m.base ? lvm_memory_size(mem) : 0;
        m.mem = mem;
    }
    return m;
}

/* True if [ptr, ptr + len) lies inside the memory, which then counts it as
 * written (see the top of this file).  len is 64-bit so that callers can
 * pass 8 * count without overflow; ptr + len cannot overflow 64 bits for
 * any ptr < 2^32 and len < 2^63. */
static inline bool wasi_mem_check(const wasi_mem *m, uint32_t ptr, uint64_t len)
{
    if (len > m->size || ptr > m->size - len)
        return false;
    if (len && m->mem)
        lvm_memory_written(m->mem, ptr, len);
    return true;
}

/* Loads and stores of checked addresses.  Wasm memory is little-endian
 * whatever the host is, so bytes are assembled explicitly (compilers turn
 * this into a single move on little-endian hosts). */
static inline uint32_t wasi_load_u32(const wasi_mem *m, uint32_t ptr)
{
    const uint8_t *p = m->base + ptr;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t wasi_load_u64(const wasi_mem *m, uint32_t ptr)
{
    return (uint64_t)wasi_load_u32(m, ptr) | (uint64_t)wasi_load_u32(m, ptr + 4) << 32;
}

static inline uint16_t wasi_load_u16(const wasi_mem *m, uint32_t ptr)
{
    const uint8_t *p = m->base + ptr;
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint8_t wasi_load_u8(const wasi_mem *m, uint32_t ptr)
{
    return m->base[ptr];
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
