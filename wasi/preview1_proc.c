/*
 * preview1_proc.c - the process-level WASI preview 1 functions: arguments,
 * environment, clocks, random bytes, proc_exit and proc_raise.
 *
 * Each function checks every guest range before writing anything, so a bad
 * pointer leaves memory untouched and returns EFAULT (internal.h explains
 * the helpers).  Types follow the preview 1 witx: pointers and sizes are
 * i32, timestamps i64, and every function but proc_exit returns an errno.
 */
#include "internal.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>

#include "process.h"

/* {====== slices of long host calls */

/* The smallest general way for a host call to give its worker away in
 * the middle of its work: wake itself (which, on a running process, only
 * marks it to run again) and block, exactly as sched_yield does, so the
 * scheduler puts it at the back of the queue.  The call keeps its
 * progress in the context and its retry goes on from there.  A slice of
 * host work thus costs the process a whole reduction budget, which is
 * the charge: rejected, counting reductions from host code, which would
 * need a way into exec/'s budget for no better fairness (the budget
 * would run out at once anyway for work of a millisecond). */
lvm_err wasi_slice_spent(void)
{
    lvm_process *self = lvm_process_self();
    if (!self)
        return LVM_OK;
    green_wake(&self->g);
    return LVM_ERR_BLOCK;
}

/* }====== */

/* {====== arguments and environment */

/* *_sizes_get(count_out: ptr<u32>, buf_size_out: ptr<u32>) -> errno */
static lvm_err sizes_get(lvm_hostcall *call, lvm_val *ar, const wasi_strings *strs)
{
    wasi_mem m = wasi_mem_of(call);
    uint32_t count_ptr = ar[0].i32, size_ptr = ar[1].i32;
    if (!wasi_mem_check(&m, count_ptr, 4) || !wasi_mem_check(&m, size_ptr, 4))
        return wasi_return(ar, WASI_EFAULT);
    wasi_store_u32(&m, count_ptr, strs->count);
    wasi_store_u32(&m, size_ptr, strs->size);
    return wasi_return(ar, WASI_ESUCCESS);
}

/* *_get(ptrs: ptr<ptr<u8>>, buf: ptr<u8>) -> errno
 * Writes the strings into buf and a pointer to each into ptrs[], sized by
 * the matching *_sizes_get.  Both ranges are checked first; since buf +
 * size fits in memory, buf + offset cannot overflow u32. */
static lvm_err strings_get(lvm_hostcall *call, lvm_val *ar, const wasi_strings *strs)
{
    wasi_mem m = wasi_mem_of(call);
    uint32_t ptrs = ar[0].i32, buf = ar[1].i32;
    if (!wasi_mem_check(&m, ptrs, (uint64_t)strs->count * 4) || !wasi_mem_check(&m, buf, strs->size))
        return wasi_return(ar, WASI_EFAULT);
    for (uint32_t i = 0; i < strs->count; i++)
        wasi_store_u32(&m, ptrs + 4 * i, buf + strs->offsets[i]);
    wasi_copy_out(&m, buf, strs->buf, strs->size);
    return wasi_return(ar, WASI_ESUCCESS);
}

static lvm_err args_sizes_get(lvm_hostcall *call, lvm_val *ar)
{
    return sizes_get(call, ar, &wasi_ctx_of(call)->shared->args);
}

static lvm_err args_get(lvm_hostcall *call, lvm_val *ar)
{
    return strings_get(call, ar, &wasi_ctx_of(call)->shared->args);
}

static lvm_err environ_sizes_get(lvm_hostcall *call, lvm_val *ar)
{
    return sizes_get(call, ar, &wasi_ctx_of(call)->shared->env);
}

static lvm_err environ_get(lvm_hostcall *call, lvm_val *ar)
{
    return strings_get(call, ar, &wasi_ctx_of(call)->shared->env);
}

/* }====== */

/* {====== clocks and randomness */

/* Clock ids 0-3 are realtime, monotonic, process CPU and thread CPU time,
 * which POSIX provides directly.  (The CPU clocks measure lvm's host
 * process and the worker thread: a green process has no CPU clock of its
 * own, and wasmtime reports the same.) */
static const clockid_t host_clock[] = {
    CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
};

/* Store clock `id`'s resolution or current time, in ns, at guest `out`. */
static lvm_err clock_query(lvm_hostcall *call, lvm_val *ar, uint32_t id, uint32_t out,
                           int (*query)(clockid_t, struct timespec *))
{
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, out, 8))
        return wasi_return(ar, WASI_EFAULT);
    if (id >= sizeof host_clock / sizeof host_clock[0])
        return wasi_return(ar, WASI_EINVAL);
    struct timespec ts;
    if (query(host_clock[id], &ts) != 0)
        return wasi_return(ar, wasi_errno_from_host(errno));
    wasi_store_u64(&m, out, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    return wasi_return(ar, WASI_ESUCCESS);
}

/* clock_res_get(id: u32, resolution_out: ptr<u64>) -> errno */
static lvm_err clock_res_get(lvm_hostcall *call, lvm_val *ar)
{
    return clock_query(call, ar, ar[0].i32, ar[1].i32, clock_getres);
}

/* clock_time_get(id: u32, precision: u64, time_out: ptr<u64>) -> errno
 * The precision hint is ignored, as the spec allows: the host clock is as
 * precise as we can get anyway. */
static lvm_err clock_time_get(lvm_hostcall *call, lvm_val *ar)
{
    return clock_query(call, ar, ar[0].i32, ar[2].i32, clock_gettime);
}

/* random_get(buf: ptr<u8>, len: u32) -> errno
 * getrandom() may return fewer bytes than asked (above 32 MiB, or on a
 * signal), so it is called until the range is full.  A huge buffer is
 * filled RANDOM_SLICE bytes per slice: after each slice the process goes
 * to the back of the run queue (wasi_slice_spent) and the retry of the
 * same call goes on where it stopped, the progress kept in the context.
 * So a guest that asks for 1 GiB holds its worker for about a
 * millisecond at a time, not for seconds.  The guest cannot tell: it
 * sees one call that returns when the buffer is full. */
#define RANDOM_SLICE (256u << 10)   /* ~1 ms of getrandom's ChaCha20 */

static lvm_err random_get(lvm_hostcall *call, lvm_val *ar)
{
    wasi_ctx *ctx = wasi_ctx_of(call);
    wasi_mem m = wasi_mem_of(call);
    uint32_t buf = ar[0].i32, len = ar[1].i32;
    if (!wasi_mem_check(&m, buf, len))
        return wasi_return(ar, WASI_EFAULT);
    uint32_t done = 0;
    if (ctx->random_pending && ctx->random_buf == buf && ctx->random_len == len)
        done = ctx->random_done;    /* the retry of a sliced call */
    ctx->random_pending = false;
    while (done < len) {
        uint32_t want = len - done < RANDOM_SLICE ? len - done : RANDOM_SLICE;
        ssize_t n = getrandom(m.base + buf + done, want, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return wasi_return(ar, wasi_errno_from_host(errno));
        }
        done += (uint32_t)n;
        if (done < len && wasi_slice_spent() == LVM_ERR_BLOCK) {
            ctx->random_pending = true;
            ctx->random_buf = buf;
            ctx->random_len = len;
            ctx->random_done = done;
            return LVM_ERR_BLOCK;
        }
    }
    return wasi_return(ar, WASI_ESUCCESS);
}

/* }====== */

/* {====== exit */

/* proc_exit(code: u32) -> noreturn
 * Recorded in the context, then LVM_ERR_TRAP_EXIT unwinds the guest like a
 * trap (there is no other way to leave wasm code from a host call); the
 * embedder reads the code back with wasi_exit_code.  A host's exit status
 * is 8 bits, so the command line exits with code & 0xff as a native
 * program would. */
static lvm_err proc_exit(lvm_hostcall *call, lvm_val *ar)
{
    wasi_ctx *ctx = wasi_ctx_of(call);
    ctx->exited = true;
    ctx->exit_code = ar[0].i32;
    return LVM_ERR_TRAP_EXIT;
}

/* proc_raise(sig: signal) -> errno
 * A signal to oneself.  Signals whose default action is to do nothing
 * (CHLD, CONT, URG, WINCH) and the stop signals, which a process cannot
 * be stopped by here, return success; 0 is "no signal".  Every other one
 * ends the process the way the signal would end a native one: exit status
 * 128 + the number (WASI's numbers are Linux's for the signals that
 * terminate), through the same path as proc_exit. */
static lvm_err proc_raise(lvm_hostcall *call, lvm_val *ar)
{
    enum { SIG_CHLD = 16, SIG_CONT, SIG_STOP, SIG_TSTP, SIG_TTIN, SIG_TTOU, SIG_URG,
           SIG_WINCH = 27, SIG_LAST = 30 };
    uint32_t sig = ar[0].i32;
    if (sig > SIG_LAST)
        return wasi_return(ar, WASI_EINVAL);
    if (sig == 0 || (sig >= SIG_CHLD && sig <= SIG_URG) || sig == SIG_WINCH)
        return wasi_return(ar, WASI_ESUCCESS);
    wasi_ctx *ctx = wasi_ctx_of(call);
    ctx->exited = true;
    ctx->exit_code = 128 + sig;
    return LVM_ERR_TRAP_EXIT;
}

/* }====== */

const wasi_import wasi_preview1_proc[] = {
    { "args_get",          "ii:i",  args_get },
    { "args_sizes_get",    "ii:i",  args_sizes_get },
    { "environ_get",       "ii:i",  environ_get },
    { "environ_sizes_get", "ii:i",  environ_sizes_get },
    { "clock_res_get",     "ii:i",  clock_res_get },
    { "clock_time_get",    "iIi:i", clock_time_get },
    { "random_get",        "ii:i",  random_get },
    { "proc_exit",         "i:",    proc_exit },
    { "proc_raise",        "i:i",   proc_raise },
    { NULL, NULL, NULL },
};
