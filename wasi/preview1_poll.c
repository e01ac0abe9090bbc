/*
 * preview1_poll.c - waiting: poll_oneoff and sched_yield, and the socket
 * functions (sock_accept, sock_recv, sock_send, sock_shutdown), which wait
 * the same way.
 *
 * None of these ever stops a worker thread while the guest runs as a
 * process.  A call that cannot finish registers the process with the
 * scheduler (green_wait_fd for fds, green_sleep for time) and returns
 * LVM_ERR_BLOCK; the process is parked with its pc on the call, and runs
 * the same call again when woken.  So each function decides whether to
 * block before it changes anything, and a spurious wake-up only costs a
 * second look.
 *
 * poll_oneoff's relative timeouts must not restart on every retry: the
 * context remembers when the call was first attempted (keyed on its
 * subscription array), and the timeouts count from then.
 *
 * Errors follow wasmtime: a subscription that cannot be waited on (a
 * descriptor that is not open or cannot move data in that direction, a
 * clock other than realtime and monotonic) fails the whole call rather
 * than becoming an error event, and a socket function on something that
 * is not a socket is ENOTSOCK before any right is looked at.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "process.h"

/* {====== poll_oneoff */

/* Subscriptions are 48 bytes: userdata u64 @0, tag u8 @8, then the
 * union at @16: clock { id u32 @16, timeout u64 @24, precision u64 @32,
 * flags u16 @40 } or fd_readwrite { fd u32 @16 }.  Events are 32 bytes:
 * userdata u64 @0, error u16 @8, type u8 @10, fd_readwrite { nbytes u64
 * @16, flags u16 @24 }. */
enum { EVENTTYPE_CLOCK = 0, EVENTTYPE_FD_READ = 1, EVENTTYPE_FD_WRITE = 2 };
#define SUBCLOCK_ABSTIME 1u
#define EVENT_FD_READWRITE_HANGUP 1u

/* Subscriptions handled in one call; more is EINVAL.  Enough for any
 * program that does not use poll as a bulk API (wasi-libc's poll() and
 * Rust's std need one or two). */
#define MAX_SUBS 1024

static void store_event(const wasi_mem *m, uint32_t at, uint64_t userdata, uint16_t error,
                        uint8_t type, uint64_t nbytes, uint16_t flags)
{
    static const uint8_t zeros[32];
    wasi_copy_out(m, at, zeros, sizeof zeros);
    wasi_store_u64(m, at, userdata);
    wasi_store_u16(m, at + 8, error);
    wasi_store_u8(m, at + 10, type);
    wasi_store_u64(m, at + 16, nbytes);
    wasi_store_u16(m, at + 24, flags);
}

/* When the clock subscription at `sub` fires, as a CLOCK_MONOTONIC time in
 * ns; *err_out is EINVAL for a clock that cannot be waited on (the CPU
 * clocks, as in wasmtime, and unknown ids).  Relative timeouts count from
 * `start`; absolute ones on the realtime clock are converted through the
 * current offset between the clocks. */
static uint64_t clock_deadline(const wasi_mem *m, uint32_t sub, uint64_t start, uint64_t now,
                               uint16_t *err_out)
{
    uint32_t id = wasi_load_u32(m, sub + 16);
    uint64_t timeout = wasi_load_u64(m, sub + 24);
    uint16_t flags = wasi_load_u16(m, sub + 40);
    *err_out = 0;
    if (id > 1) {
        *err_out = WASI_EINVAL;
        return 0;
    }
    if (!(flags & SUBCLOCK_ABSTIME))
        return start + timeout < start ? UINT64_MAX : start + timeout;
    if (id == 1)                    /* monotonic: already our clock */
        return timeout;
    /* Realtime: the time left. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t then = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    uint64_t left = timeout > then ? timeout - then : 0;
    return now + left < now ? UINT64_MAX : now + left;
}

/* The errno that makes the fd subscription at `sub` unusable, or 0 (then
 * *f_out is its descriptor): EBADF if it is not open or cannot move data
 * the way the subscription waits for (reading stdout, a directory),
 * ENOTCAPABLE without the POLL_FD_READWRITE right. */
static uint32_t fd_sub(wasi_ctx *ctx, const wasi_mem *m, uint32_t sub, uint8_t tag, wasi_fd **f_out)
{
    wasi_fd *f = wasi_fd_get(ctx, wasi_load_u32(m, sub + 16));
    uint64_t dir_right = tag == EVENTTYPE_FD_READ ? WASI_RIGHT_FD_READ : WASI_RIGHT_FD_WRITE;
    if (!f || !(f->rights & dir_right))
        return WASI_EBADF;
    if (!(f->rights & WASI_RIGHT_POLL_FD_READWRITE))
        return WASI_ENOTCAPABLE;
    *f_out = f;
    return WASI_ESUCCESS;
}

/* poll_oneoff(in: ptr<subscription>, out: ptr<event>, nsubscriptions: u32,
 *             nevents_out: ptr<u32>) -> errno */
static lvm_err poll_oneoff(lvm_hostcall *call, lvm_val *ar)
{
    wasi_ctx *ctx = wasi_ctx_of(call);
    wasi_mem m = wasi_mem_of(call);
    uint32_t in = ar[0].i32, out = ar[1].i32, n = ar[2].i32, nevents_out = ar[3].i32;
    if (n == 0 || n > MAX_SUBS)
        return wasi_return(ar, WASI_EINVAL);
    if (!wasi_mem_check(&m, in, (uint64_t)n * 48) || !wasi_mem_check(&m, out, (uint64_t)n * 32) ||
        !wasi_mem_check(&m, nevents_out, 4))
        return wasi_return(ar, WASI_EFAULT);

    /* Relative timeouts count from the first attempt of this call: the
     * one that blocked, if this is its retry, else now. */
    uint64_t now = wasi_now_ns();
    bool retry = ctx->poll_pending && ctx->poll_in == in && ctx->poll_n == n;
    uint64_t start = retry ? ctx->poll_start : now;
    ctx->poll_pending = false;

    /* One look at everything: fds with a zero-timeout poll(), clocks
     * against their deadlines.  Events are written to `out` in
     * subscription order; nothing is written unless at least one fired. */
    struct pollfd *pfds = lvm_xcalloc(n, sizeof *pfds);
    if (!pfds)
        return wasi_return(ar, WASI_ENOMEM);
    uint64_t earliest = UINT64_MAX;
    uint32_t nevents = 0;
    bool any_fd = false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t sub = in + 48 * i;
        uint8_t tag = wasi_load_u8(&m, sub + 8);
        pfds[i].fd = -1;
        if (tag == EVENTTYPE_CLOCK) {
            uint16_t err;
            uint64_t when = clock_deadline(&m, sub, start, now, &err);
            if (err) {
                free(pfds);
                return wasi_return(ar, err);
            }
            if (when <= now)
                nevents++;
            else if (when < earliest)
                earliest = when;
        } else if (tag == EVENTTYPE_FD_READ || tag == EVENTTYPE_FD_WRITE) {
            wasi_fd *f;
            uint32_t e = fd_sub(ctx, &m, sub, tag, &f);
            if (e) {
                free(pfds);
                return wasi_return(ar, e);
            }
            pfds[i].fd = f->host_fd;
            pfds[i].events = tag == EVENTTYPE_FD_READ ? POLLIN : POLLOUT;
            any_fd = true;
        } else {
            free(pfds);
            return wasi_return(ar, WASI_EINVAL);
        }
    }
    if (any_fd) {
        int r;
        do
            r = poll(pfds, n, 0);
        while (r < 0 && errno == EINTR);
        if (r > 0)
            nevents += (uint32_t)r;
    }

    if (nevents == 0) {
        lvm_process *self = lvm_process_self();
        if (self) {
            ctx->poll_pending = true;   /* remembered for the retry */
            ctx->poll_in = in;
            ctx->poll_n = n;
            ctx->poll_start = start;
            for (uint32_t i = 0; i < n; i++)
                if (pfds[i].fd >= 0)
                    green_wait_fd(&self->g, pfds[i].fd, pfds[i].events == POLLIN ? IO_READ : IO_WRITE);
            if (earliest != UINT64_MAX)
                green_sleep(&self->g, earliest - now);
            free(pfds);
            return LVM_ERR_BLOCK;
        }
        /* No process to park: wait on this thread, then look again. */
        uint64_t wait = earliest == UINT64_MAX ? UINT64_MAX : (earliest - now + 999999) / 1000000;
        poll(pfds, n, wait > INT32_MAX ? -1 : (int)wait);
        free(pfds);
        ctx->poll_pending = true;
        ctx->poll_in = in;
        ctx->poll_n = n;
        ctx->poll_start = start;
        return poll_oneoff(call, ar);
    }

    /* Report what fired. */
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t sub = in + 48 * i;
        uint64_t userdata = wasi_load_u64(&m, sub);
        uint8_t tag = wasi_load_u8(&m, sub + 8);
        uint32_t at = out + 32 * k;
        if (tag == EVENTTYPE_CLOCK) {
            uint16_t err;
            if (clock_deadline(&m, sub, start, now, &err) <= now) {
                store_event(&m, at, userdata, 0, tag, 0, 0);
                k++;
            }
            continue;
        }
        wasi_fd *f = NULL;
        if (fd_sub(ctx, &m, sub, tag, &f) != 0)
            continue;                           /* cannot happen: checked above */
        short rev = pfds[i].revents;
        if (!rev)
            continue;
        uint16_t flags = (rev & POLLHUP) ? EVENT_FD_READWRITE_HANGUP : 0;
        uint16_t err = (rev & POLLNVAL) ? WASI_EBADF : (rev & POLLERR) ? WASI_EIO : 0;
        /* nbytes: what a read could return now, if the host says; 1 means
         * "at least something", which is all the spec promises. */
        uint64_t nbytes = 1;
        if (tag == EVENTTYPE_FD_READ && f->type == WASI_FILETYPE_REGULAR_FILE) {
            off_t pos = lseek(f->host_fd, 0, SEEK_CUR), end = lseek(f->host_fd, 0, SEEK_END);
            if (pos >= 0 && end >= 0) {
                lseek(f->host_fd, pos, SEEK_SET);
                nbytes = end > pos ? (uint64_t)(end - pos) : 0;
            }
        }
        store_event(&m, at, userdata, err, tag, nbytes, flags);
        k++;
    }
    free(pfds);
    wasi_store_u32(&m, nevents_out, k);
    return wasi_return(ar, WASI_ESUCCESS);
}

/* sched_yield() -> errno  (named with a _ : <sched.h> has sched_yield)
 * Give the rest of the slice away: wake ourselves (which, on a running
 * process, only marks it to run again) and block, so the scheduler puts
 * the process at the back of the queue.  The retry must then succeed, so
 * the context remembers that this call has already yielded once. */
static lvm_err sched_yield_(lvm_hostcall *call, lvm_val *ar)
{
    wasi_ctx *ctx = wasi_ctx_of(call);
    lvm_process *self = lvm_process_self();
    if (self && !ctx->yielded) {
        ctx->yielded = true;
        green_wake(&self->g);
        return LVM_ERR_BLOCK;
    }
    ctx->yielded = false;
    return wasi_return(ar, WASI_ESUCCESS);
}

/* }====== */

/* {====== sockets */

/* Look up a socket with the rights `need`: EBADF if fd is not open,
 * ENOTSOCK if it is not a socket, then ENOTCAPABLE. */
static uint32_t sock_lookup(wasi_ctx *ctx, uint32_t fd, uint64_t need, wasi_fd **out)
{
    return wasi_fd_lookup_kind(ctx, fd, WASI_KIND_SOCKET, WASI_ENOTSOCK, need, out);
}

/* sock_accept(fd, flags: fdflags, fd_out: ptr<fd>) -> errno
 * The listening socket is lvm's own and non-blocking (ctx.c), so EAGAIN
 * means "nobody yet": park on it. */
static lvm_err sock_accept(lvm_hostcall *call, lvm_val *ar)
{
    wasi_ctx *ctx = wasi_ctx_of(call);
    wasi_mem m = wasi_mem_of(call);
    uint32_t flags = ar[1].i32, out = ar[2].i32;
    wasi_fd *f;
    uint32_t e = sock_lookup(ctx, ar[0].i32, WASI_RIGHT_SOCK_ACCEPT, &f);
    if (e)
        return wasi_return(ar, e);
    if (!wasi_mem_check(&m, out, 4))
        return wasi_return(ar, WASI_EFAULT);
    if (flags & ~(uint32_t)WASI_FDFLAG_NONBLOCK)
        return wasi_return(ar, WASI_EINVAL);
    int fd;
    for (;;) {
        fd = accept(f->host_fd, NULL, NULL);
        if (fd >= 0)
            break;
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return wasi_return(ar, wasi_errno_from_host(errno));
        if (f->flags & WASI_FDFLAG_NONBLOCK)
            return wasi_return(ar, WASI_EAGAIN);
        lvm_err r = wasi_block_on_fd(f->host_fd, false);
        if (r != LVM_OK)
            return r;
    }
    /* The connection is ours too: non-blocking on the host, blocking or
     * not for the guest as it asked. */
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    wasi_fd c = {
        .host_fd = fd, .open = true, .type = WASI_FILETYPE_SOCKET_STREAM,
        .flags = (uint16_t)flags,
        .rights = WASI_RIGHTS_STREAM & ~WASI_RIGHT_SOCK_ACCEPT,
    };
    uint32_t n = wasi_fd_insert(ctx, &c);
    if (n == UINT32_MAX) {
        close(fd);
        return wasi_return(ar, WASI_ENFILE);
    }
    wasi_store_u32(&m, out, n);
    return wasi_return(ar, WASI_ESUCCESS);
}

/* Gather an iovec array of guest buffers (checked) for recvmsg/sendmsg. */
static uint32_t sock_iovs(const wasi_mem *m, uint32_t iovs, uint32_t n, struct iovec *v, size_t *nv)
{
    if (!wasi_mem_check(m, iovs, (uint64_t)n * 8))
        return WASI_EFAULT;
    *nv = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t buf = wasi_load_u32(m, iovs + 8 * i), len = wasi_load_u32(m, iovs + 8 * i + 4);
        if (!wasi_mem_check(m, buf, len))
            return WASI_EFAULT;
        if (len && *nv < 64) {
            v[*nv].iov_base = m->base + buf;
            v[*nv].iov_len = len;
            (*nv)++;
        }
    }
    return WASI_ESUCCESS;
}

/* sock_recv(fd, ri_data: ptr<iovec>, ri_data_len: u32, ri_flags: u16,
 *           ro_datalen_out: ptr<u32>, ro_flags_out: ptr<u16>) -> errno
 * sock_send(fd, si_data: ptr<ciovec>, si_data_len: u32, si_flags: u16,
 *           so_datalen_out: ptr<u32>) -> errno */
static lvm_err sock_transfer(lvm_hostcall *call, lvm_val *ar, bool send)
{
    wasi_ctx *ctx = wasi_ctx_of(call);
    wasi_mem m = wasi_mem_of(call);
    uint32_t iovs = ar[1].i32, niovs = ar[2].i32, flags = ar[3].i32, len_out = ar[4].i32;
    uint32_t flags_out = send ? 0 : ar[5].i32;
    wasi_fd *f;
    uint32_t e = sock_lookup(ctx, ar[0].i32, send ? WASI_RIGHT_FD_WRITE : WASI_RIGHT_FD_READ, &f);
    if (e)
        return wasi_return(ar, e);
    struct iovec v[64];
    size_t nv;
    if ((e = sock_iovs(&m, iovs, niovs, v, &nv)) != 0 || !wasi_mem_check(&m, len_out, 4) ||
        (!send && !wasi_mem_check(&m, flags_out, 2)))
        return wasi_return(ar, e ? e : WASI_EFAULT);
    /* riflags: RECV_PEEK 1, RECV_WAITALL 2; siflags: none defined. */
    if (send ? flags != 0 : (flags & ~3u) != 0)
        return wasi_return(ar, WASI_EINVAL);
    int host_flags = MSG_DONTWAIT | (send ? MSG_NOSIGNAL : 0) |
                     ((flags & 1) && !send ? MSG_PEEK : 0);
    struct msghdr msg = { .msg_iov = v, .msg_iovlen = nv };
    ssize_t n;
    for (;;) {
        n = send ? sendmsg(f->host_fd, &msg, host_flags) : recvmsg(f->host_fd, &msg, host_flags);
        if (n >= 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return wasi_return(ar, wasi_errno_from_host(errno));
        if (f->flags & WASI_FDFLAG_NONBLOCK)
            return wasi_return(ar, WASI_EAGAIN);
        lvm_err r = wasi_block_on_fd(f->host_fd, send);
        if (r != LVM_OK)
            return r;
    }
    wasi_store_u32(&m, len_out, (uint32_t)n);
    if (!send)
        wasi_store_u16(&m, flags_out, 0);   /* no truncation on a stream */
    return wasi_return(ar, WASI_ESUCCESS);
}

static lvm_err sock_recv(lvm_hostcall *call, lvm_val *ar)
{
    return sock_transfer(call, ar, false);
}

static lvm_err sock_send(lvm_hostcall *call, lvm_val *ar)
{
    return sock_transfer(call, ar, true);
}

/* sock_shutdown(fd, how: sdflags) -> errno; RD 1, WR 2. */
static lvm_err sock_shutdown(lvm_hostcall *call, lvm_val *ar)
{
    uint32_t how = ar[1].i32;
    wasi_fd *f;
    uint32_t e = sock_lookup(wasi_ctx_of(call), ar[0].i32, WASI_RIGHT_SOCK_SHUTDOWN, &f);
    if (e)
        return wasi_return(ar, e);
    if (how == 0 || how > 3)
        return wasi_return(ar, WASI_EINVAL);
    int h = how == 3 ? SHUT_RDWR : how == 1 ? SHUT_RD : SHUT_WR;
    return wasi_return(ar, shutdown(f->host_fd, h) == 0 ? 0 : wasi_errno_from_host(errno));
}

/* }====== */

const wasi_import wasi_preview1_poll[] = {
    { "poll_oneoff",   "iiii:i",   poll_oneoff },
    { "sched_yield",   ":i",       sched_yield_ },
    { "sock_accept",   "iii:i",    sock_accept },
    { "sock_recv",     "iiiiii:i", sock_recv },
    { "sock_send",     "iiiii:i",  sock_send },
    { "sock_shutdown", "ii:i",     sock_shutdown },
    { NULL, NULL, NULL },
};
