/*
 * preview1_fd.c - the descriptor functions of WASI preview 1: everything
 * named fd_*.
 *
 * Each function looks its descriptor up together with the rights the
 * operation needs (wasi_fd_lookup: EBADF if there is no such descriptor,
 * ENOTCAPABLE if it lacks a right), checks every guest range, and only then
 * touches the host.  An operation on the wrong kind of descriptor fails
 * first, with wasmtime's errno for it (see wasi_fd_is_file): EBADF for a
 * directory or a standard descriptor where a file is needed, ESPIPE for
 * positioned I/O on a stream.
 *
 * Reads and writes: regular files and directories never block, so they go
 * straight to the host.  Streams (pipes, terminals, sockets) are first
 * polled with a zero timeout; if they are not ready the calling process is
 * parked on the fd and the call runs again when it is (wasi_block_on_fd).
 * The host descriptor is never switched to O_NONBLOCK: stdin is shared with
 * the shell that started lvm.  A guest that set FDFLAG_NONBLOCK gets EAGAIN
 * instead of waiting.
 *
 * fd_write issues exactly one host writev per guest call: a line printed by
 * one process reaches the terminal in one piece even when several processes
 * share stdout.  Guest output is never buffered on the host side.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "green.h"
#include "process.h"

/* {====== helpers shared with preview1_path.c */

/* filestat, 64 bytes: dev u64 @0, ino u64 @8, filetype u8 @16 (padding to
 * 24), nlink u64 @24, size u64 @32, atim @40, mtim @48, ctim @56. */
void wasi_store_filestat(const wasi_mem *m, uint32_t out, const struct stat *st)
{
    static const uint8_t zeros[64];
    wasi_copy_out(m, out, zeros, sizeof zeros);
    wasi_store_u64(m, out, (uint64_t)st->st_dev);
    wasi_store_u64(m, out + 8, (uint64_t)st->st_ino);
    wasi_store_u8(m, out + 16, wasi_filetype_of_mode(st->st_mode));
    wasi_store_u64(m, out + 24, (uint64_t)st->st_nlink);
    wasi_store_u64(m, out + 32, (uint64_t)st->st_size);
#define NS(ts) ((uint64_t)(ts).tv_sec * 1000000000u + (uint64_t)(ts).tv_nsec)
    wasi_store_u64(m, out + 40, NS(st->st_atim));
    wasi_store_u64(m, out + 48, NS(st->st_mtim));
    wasi_store_u64(m, out + 56, NS(st->st_ctim));
#undef NS
}

/* fstflags: set atime to atim (1) or now (2), mtime to mtim (4) or now
 * (8).  Both variants for one time is EINVAL, as in wasmtime. */
uint32_t wasi_timespecs(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts_out[2])
{
    if (fst & ~15u || ((fst & 1) && (fst & 2)) || ((fst & 4) && (fst & 8)))
        return WASI_EINVAL;
    uint64_t t[2] = { atim, mtim };
    for (int i = 0; i < 2; i++) {
        uint32_t set = fst >> (2 * i) & 1, now = fst >> (2 * i) & 2;
        if (now) {
            ts_out[i] = (struct timespec){ 0, UTIME_NOW };
        } else if (set) {
            ts_out[i] = (struct timespec){ (time_t)(t[i] / 1000000000u), (long)(t[i] % 1000000000u) };
        } else {
            ts_out[i] = (struct timespec){ 0, UTIME_OMIT };
        }
    }
    return WASI_ESUCCESS;
}

bool wasi_gather(const wasi_mem *m, uint32_t iovs, uint32_t n, struct iovec *v,
                 int *nv_out, uint32_t *bad_out)
{
    *bad_out = UINT32_MAX;
    if (!wasi_mem_check(m, iovs, (uint64_t)n * 8))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (!wasi_mem_check(m, wasi_load_u32(m, iovs + 8 * i), wasi_load_u32(m, iovs + 8 * i + 4))) {
            *bad_out = i;
            return false;
        }
    }
    int nv = 0;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n && nv < WASI_MAX_IOV && total < UINT32_MAX; i++) {
        uint32_t buf = wasi_load_u32(m, iovs + 8 * i);
        uint64_t len = wasi_load_u32(m, iovs + 8 * i + 4);
        if (len == 0)
            continue;
        if (len > UINT32_MAX - total)
            len = UINT32_MAX - total;
        v[nv].iov_base = m->base + buf;
        v[nv].iov_len = (size_t)len;
        nv++;
        total += len;
    }
    *nv_out = nv;
    return true;
}

/* May a read (or write) on f go ahead without stopping the thread?
 * Returns LVM_OK with *eagain false: go ahead; LVM_OK with *eagain true:
 * the guest asked not to wait (EAGAIN); LVM_ERR_BLOCK: the process is
 * parked, return that. */
lvm_err wasi_stream_ready(const wasi_fd *f, bool for_write, bool *eagain)
{
    *eagain = false;
    if (f->type == WASI_FILETYPE_REGULAR_FILE || f->type == WASI_FILETYPE_DIRECTORY)
        return LVM_OK;
    struct pollfd p = { f->host_fd, for_write ? POLLOUT : POLLIN, 0 };
    int n;
    do
        n = poll(&p, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n != 0)                     /* ready, hung up, or an error to report */
        return LVM_OK;
    if (f->flags & WASI_FDFLAG_NONBLOCK) {
        *eagain = true;
        return LVM_OK;
    }
    return wasi_block_on_fd(f->host_fd, for_write);
}

/* }====== */

/* {====== reading and writing */

/* fd_read(fd, iovs: ptr<iovec>, iovs_len: u32, nread_out: ptr<u32>) and
 * fd_write(fd, iovs: ptr<ciovec>, iovs_len: u32, nwritten_out: ptr<u32>):
 * one function, the direction apart. */
static lvm_err read_or_write(lvm_hostcall *call, lvm_val *ar, bool write)
{
    wasi_ctx *ctx = wasi_ctx_of(call);
    wasi_mem m = wasi_mem_of(call);
    uint32_t iovs = ar[1].i32, iovs_len = ar[2].i32, out = ar[3].i32;
    wasi_fd *f;
    /* Reading a write-only descriptor (or a directory) is EBADF, as POSIX
     * and wasmtime say, rather than ENOTCAPABLE. */
    uint32_t e = wasi_fd_lookup(ctx, ar[0].i32, write ? WASI_RIGHT_FD_WRITE : WASI_RIGHT_FD_READ, &f);
    if (e)
        return wasi_return(ar, e == WASI_ENOTCAPABLE ? WASI_EBADF : e);
    /* Check everything before moving a byte (a bad iovec must not leave
     * half a line on stdout). */
    struct iovec v[WASI_MAX_IOV];
    int nv;
    uint32_t bad;
    if (!wasi_gather(&m, iovs, iovs_len, v, &nv, &bad) || !wasi_mem_check(&m, out, 4))
        return wasi_return(ar, WASI_EFAULT);
    if (f->type == WASI_FILETYPE_DIRECTORY)
        return wasi_return(ar, WASI_EISDIR);
    if (write && ctx->capture && f->borrowed && (f->host_fd == 1 || f->host_fd == 2)) {
        /* Captured (the test mode, capture.c): a write takes all, never
         * waits, and fails only when the host is out of memory - as a
         * short write if some iovecs went in already, so that nwritten
         * always says what the stream holds. */
        size_t total = 0;
        for (int i = 0; i < nv; i++) {
            if (!wasi_capture_append(ctx->capture, (size_t)ctx->capture_stream, v[i].iov_base,
                                     v[i].iov_len)) {
                if (total == 0)
                    return wasi_return(ar, WASI_ENOMEM);
                break;
            }
            total += v[i].iov_len;
        }
        wasi_store_u32(&m, out, (uint32_t)total);
        return wasi_return(ar, WASI_ESUCCESS);
    }

    ssize_t n = 0;
    while (nv > 0) {
        bool eagain;
        lvm_err r = wasi_stream_ready(f, write, &eagain);
        if (r != LVM_OK)
            return r;               /* parked: nothing was done yet */
        if (eagain)
            return wasi_return(ar, WASI_EAGAIN);
        n = write ? writev(f->host_fd, v, nv) : readv(f->host_fd, v, nv);
        if (n >= 0)
            break;
        /* Our own non-blocking sockets can lose a race with another reader;
         * then simply wait again. */
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return wasi_return(ar, wasi_errno_from_host(errno));
    }
    wasi_store_u32(&m, out, (uint32_t)n);
    return wasi_return(ar, WASI_ESUCCESS);
}

static lvm_err fd_read(lvm_hostcall *call, lvm_val *ar)
{
    return read_or_write(call, ar, false);
}

static lvm_err fd_write(lvm_hostcall *call, lvm_val *ar)
{
    return read_or_write(call, ar, true);
}

/* fd_pread(fd, iovs, iovs_len, offset: u64, nread_out) and fd_pwrite: at
 * an offset, without moving the file position.  Only seekable files: a
 * descriptor that cannot move data that way at all (a directory, stdout
 * for pread) is EBADF, a stream that could but has no offset is ESPIPE,
 * as in wasmtime.  On an O_APPEND descriptor fd_pwrite appends, ignoring
 * the offset: Linux's pwrite rule, which wasmtime implements too. */
static lvm_err positional(lvm_hostcall *call, lvm_val *ar, bool write)
{
    wasi_ctx *ctx = wasi_ctx_of(call);
    wasi_mem m = wasi_mem_of(call);
    uint32_t iovs = ar[1].i32, iovs_len = ar[2].i32, out = ar[4].i32;
    uint64_t offset = (uint64_t)ar[3].i64;
    wasi_fd *f = wasi_fd_get(ctx, ar[0].i32);
    if (!f || !(f->rights & (write ? WASI_RIGHT_FD_WRITE : WASI_RIGHT_FD_READ)))
        return wasi_return(ar, WASI_EBADF);
    if (f->borrowed || f->type == WASI_FILETYPE_SOCKET_STREAM)
        return wasi_return(ar, WASI_ESPIPE);
    if (!(f->rights & WASI_RIGHT_FD_SEEK))
        return wasi_return(ar, WASI_ENOTCAPABLE);
    struct iovec v[WASI_MAX_IOV];
    int nv;
    uint32_t bad;
    if (!wasi_gather(&m, iovs, iovs_len, v, &nv, &bad) || !wasi_mem_check(&m, out, 4))
        return wasi_return(ar, WASI_EFAULT);
    if (offset > INT64_MAX)
        return wasi_return(ar, WASI_EINVAL);
    if (f->type == WASI_FILETYPE_DIRECTORY)
        return wasi_return(ar, WASI_EISDIR);
    ssize_t n = 0;
    if (nv > 0) {
        do
            n = write ? pwritev(f->host_fd, v, nv, (off_t)offset) : preadv(f->host_fd, v, nv, (off_t)offset);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return wasi_return(ar, wasi_errno_from_host(errno));
    }
    wasi_store_u32(&m, out, (uint32_t)n);
    return wasi_return(ar, WASI_ESUCCESS);
}

static lvm_err fd_pread(lvm_hostcall *call, lvm_val *ar)
{
    return positional(call, ar, false);
}

static lvm_err fd_pwrite(lvm_hostcall *call, lvm_val *ar)
{
    return positional(call, ar, true);
}

/* fd_seek(fd, offset: s64, whence: u8, newoffset_out: ptr<u64>) -> errno
 * fd_tell(fd, offset_out: ptr<u64>) -> errno
 * The standard descriptors never seek, even when the host's stdout is a
 * file: the guest must not move an offset the host shares with its parent
 * shell.  Asking for the position only (offset 0 from CUR, which is what
 * ftell does) needs just the TELL right.  A directory has no position:
 * EBADF (wasmtime's answer; Linux would seek it). */
static lvm_err seek(lvm_hostcall *call, lvm_val *ar, uint32_t fd, int64_t offset, uint32_t whence, uint32_t out)
{
    wasi_ctx *ctx = wasi_ctx_of(call);
    wasi_mem m = wasi_mem_of(call);
    wasi_fd *f = wasi_fd_get(ctx, fd);
    if (!f)
        return wasi_return(ar, WASI_EBADF);
    if (!wasi_mem_check(&m, out, 8))
        return wasi_return(ar, WASI_EFAULT);
    if (whence > 2)
        return wasi_return(ar, WASI_EINVAL);
    if (f->borrowed || f->type == WASI_FILETYPE_SOCKET_STREAM)
        return wasi_return(ar, WASI_ESPIPE);
    if (f->type == WASI_FILETYPE_DIRECTORY)
        return wasi_return(ar, WASI_EBADF);
    uint64_t need = offset == 0 && whence == 1 ? WASI_RIGHT_FD_TELL : WASI_RIGHT_FD_SEEK;
    if (!(f->rights & need))
        return wasi_return(ar, WASI_ENOTCAPABLE);
    static const int host_whence[] = { SEEK_SET, SEEK_CUR, SEEK_END };
    off_t pos = lseek(f->host_fd, (off_t)offset, host_whence[whence]);
    if (pos < 0)
        return wasi_return(ar, wasi_errno_from_host(errno));
    wasi_store_u64(&m, out, (uint64_t)pos);
    return wasi_return(ar, WASI_ESUCCESS);
}

static lvm_err fd_seek(lvm_hostcall *call, lvm_val *ar)
{
    return seek(call, ar, ar[0].i32, ar[1].i64, ar[2].i32, ar[3].i32);
}

static lvm_err fd_tell(lvm_hostcall *call, lvm_val *ar)
{
    return seek(call, ar, ar[0].i32, 0, 1, ar[1].i32);
}

/* }====== */

/* {====== descriptor state */

/* fd_close(fd) -> errno.  The standard descriptors close for the guest
 * only: the host's 0-2 stay open for lvm and for other processes. */
static lvm_err fd_close(lvm_hostcall *call, lvm_val *ar)
{
    wasi_fd *f = wasi_fd_get(wasi_ctx_of(call), ar[0].i32);
    if (!f)
        return wasi_return(ar, WASI_EBADF);
    wasi_fd_release(f);
    return wasi_return(ar, WASI_ESUCCESS);
}

/* fd_renumber(from, to) -> errno: `to` is closed, `from` moves there.
 * Both must be open: EBADF otherwise, which is what wasmtime's and
 * node's preview 1 say (and wasmtime's own tests assert).  POSIX dup2,
 * and the preview 1 adapter that components run on, would move `from`
 * onto a closed `to` instead; a program that relies on that (moving fd 1
 * away and back, as Yosys does) loses that output here as under wasmtime. */
static lvm_err fd_renumber(lvm_hostcall *call, lvm_val *ar)
{
    wasi_ctx *ctx = wasi_ctx_of(call);
    uint32_t from = ar[0].i32, to = ar[1].i32;
    wasi_fd *a = wasi_fd_get(ctx, from), *b = wasi_fd_get(ctx, to);
    if (!a || !b)
        return wasi_return(ar, WASI_EBADF);
    if (from != to) {
        wasi_fd_release(b);
        *b = *a;
        memset(a, 0, sizeof *a);
    }
    return wasi_return(ar, WASI_ESUCCESS);
}

/* fd_fdstat_get(fd, stat_out: ptr<fdstat>) -> errno
 * fdstat is 24 bytes: filetype u8 @0, flags u16 @2, rights_base u64 @8,
 * rights_inheriting u64 @16.  wasi-libc's isatty() is this call: a
 * character device without the seek/tell rights is a terminal, and then
 * stdout is line-buffered, as natively. */
static lvm_err fd_fdstat_get(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    uint32_t out = ar[1].i32;
    wasi_fd *f = wasi_fd_get(wasi_ctx_of(call), ar[0].i32);
    if (!f)
        return wasi_return(ar, WASI_EBADF);
    if (!wasi_mem_check(&m, out, 24))
        return wasi_return(ar, WASI_EFAULT);
    static const uint8_t zeros[24];
    wasi_copy_out(&m, out, zeros, sizeof zeros);     /* padding included */
    wasi_store_u8(&m, out, f->type);
    wasi_store_u16(&m, out + 2, f->flags);
    wasi_store_u64(&m, out + 8, f->rights);
    wasi_store_u64(&m, out + 16, f->inheriting);
    return wasi_return(ar, WASI_ESUCCESS);
}

/* fd_fdstat_set_flags(fd, flags: u16) -> errno
 * Only APPEND and NONBLOCK can change, as in wasmtime; both are set to
 * what `flags` says.  APPEND changes the host descriptor (it is ours, or a
 * standard one whose writes append anyway for the guest's purposes);
 * NONBLOCK is kept by lvm only (see the top of the file).  The sync flags
 * cannot be changed on an open file: EINVAL, wasmtime's answer.  A
 * directory has no such flags (EBADF, as in wasmtime); the standard
 * descriptors and sockets do, unlike in wasmtime, so that a guest can make
 * stdin or a connection non-blocking. */
static lvm_err fd_fdstat_set_flags(lvm_hostcall *call, lvm_val *ar)
{
    uint32_t flags = ar[1].i32;
    wasi_fd *f = wasi_fd_get(wasi_ctx_of(call), ar[0].i32);
    if (!f || f->type == WASI_FILETYPE_DIRECTORY)
        return wasi_return(ar, WASI_EBADF);
    if (flags & ~(uint32_t)(WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK))
        return wasi_return(ar, WASI_EINVAL);
    if (!(f->rights & WASI_RIGHT_FD_FDSTAT_SET_FLAGS))
        return wasi_return(ar, WASI_ENOTCAPABLE);
    if (!f->borrowed && (flags ^ f->flags) & WASI_FDFLAG_APPEND) {
        int fl = fcntl(f->host_fd, F_GETFL);
        fl = flags & WASI_FDFLAG_APPEND ? fl | O_APPEND : fl & ~O_APPEND;
        if (fcntl(f->host_fd, F_SETFL, fl) != 0)
            return wasi_return(ar, wasi_errno_from_host(errno));
    }
    f->flags = (uint16_t)(flags | (f->flags & ~(WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK)));
    return wasi_return(ar, WASI_ESUCCESS);
}

/* fd_fdstat_set_rights(fd, base: u64, inheriting: u64) -> errno
 * Rights can only be dropped, never regained: that is what makes handing
 * a restricted descriptor to less trusted code meaningful. */
static lvm_err fd_fdstat_set_rights(lvm_hostcall *call, lvm_val *ar)
{
    uint64_t base = (uint64_t)ar[1].i64, inh = (uint64_t)ar[2].i64;
    wasi_fd *f = wasi_fd_get(wasi_ctx_of(call), ar[0].i32);
    if (!f)
        return wasi_return(ar, WASI_EBADF);
    if ((base & ~f->rights) || (inh & ~f->inheriting))
        return wasi_return(ar, WASI_ENOTCAPABLE);
    f->rights = base;
    f->inheriting = inh;
    return wasi_return(ar, WASI_ESUCCESS);
}

/* Look up a descriptor that must be a file opened by path (EBADF for a
 * directory, a standard descriptor or a socket, as wasmtime's get_file),
 * with the rights `need` (ENOTCAPABLE). */
static uint32_t file_lookup(lvm_hostcall *call, uint32_t fd, uint64_t need, wasi_fd **out)
{
    return wasi_fd_lookup_kind(wasi_ctx_of(call), fd, WASI_KIND_FILE, WASI_EBADF, need, out);
}

/* fd_advise(fd, offset: u64, len: u64, advice: u8) -> errno
 * An advice that does not exist is EINVAL whatever fd is (wasmtime
 * rejects the argument before the call). */
static lvm_err fd_advise(lvm_hostcall *call, lvm_val *ar)
{
    static const int host_advice[] = {
        POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
        POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE,
    };
    uint64_t off = (uint64_t)ar[1].i64, len = (uint64_t)ar[2].i64;
    uint32_t advice = ar[3].i32;
    if (advice > 5)
        return wasi_return(ar, WASI_EINVAL);
    wasi_fd *f;
    uint32_t e = file_lookup(call, ar[0].i32, WASI_RIGHT_FD_ADVISE, &f);
    if (e)
        return wasi_return(ar, e);
    if (off > INT64_MAX || len > INT64_MAX)
        return wasi_return(ar, WASI_EINVAL);
    int r = posix_fadvise(f->host_fd, (off_t)off, (off_t)len, host_advice[advice]);
    return wasi_return(ar, wasi_errno_from_host(r));
}

/* fd_allocate(fd, offset: u64, len: u64) -> errno
 * Really allocates (posix_fallocate), where wasmtime says ENOTSUP for
 * every file: a program that copes with ENOTSUP copes with success too. */
static lvm_err fd_allocate(lvm_hostcall *call, lvm_val *ar)
{
    uint64_t off = (uint64_t)ar[1].i64, len = (uint64_t)ar[2].i64;
    wasi_fd *f;
    uint32_t e = file_lookup(call, ar[0].i32, WASI_RIGHT_FD_ALLOCATE, &f);
    if (e)
        return wasi_return(ar, e);
    if (off > INT64_MAX || len > INT64_MAX - off)
        return wasi_return(ar, WASI_EFBIG);
    if (len == 0)
        return wasi_return(ar, WASI_EINVAL);
    int r = posix_fallocate(f->host_fd, (off_t)off, (off_t)len);
    return wasi_return(ar, wasi_errno_from_host(r));
}

/* {====== calls on the blocking pool
 *
 * fsync and fdatasync wait for the disk, for seconds on a slow or network
 * file system, however ready the descriptor looks: they run on green/'s
 * blocking pool (green_pool_default) while only the calling process
 * parks, and the retry collects the result.  The job works on its own
 * dup of the descriptor, so a process that ends (or closes the fd) in the
 * meantime cannot make it sync whatever file reuses the number; and the
 * process lets go of the job as it ends (wasi_ctx_exited), so the pool
 * never wakes a process that is gone.  Each process is one owner of the
 * pool: at most GREEN_POOL_PER_OWNER of its calls are in flight. */

enum { POOL_FSYNC, POOL_FDATASYNC };

typedef struct wasi_job {
    green_job job;              /* first: a green_job * is a wasi_job * */
    int op;                     /* POOL_* */
    int fd;                     /* a dup, owned by the job */
    int err;                    /* the call's errno, 0 for success */
    uint32_t guest_fd;          /* which guest call this answers */
} wasi_job;

struct wasi_pooled {
    green_pool *pool;
    green_pool_owner owner;
    wasi_job *pending;
};

static int pool_call(int op, int fd)
{
    int r = op == POOL_FSYNC ? fsync(fd) : fdatasync(fd);
    return r == 0 ? 0 : errno;
}

static void job_work(green_job *job)
{
    wasi_job *j = (wasi_job *)job;
    j->err = pool_call(j->op, j->fd);
}

static void job_free(green_job *job)
{
    wasi_job *j = (wasi_job *)job;
    if (j->fd >= 0)
        close(j->fd);
    free(j);
}

static void pending_drop(wasi_ctx *ctx)
{
    if (ctx->pooled && ctx->pooled->pending) {
        green_job_release(&ctx->pooled->pending->job);
        ctx->pooled->pending = NULL;
    }
}

void wasi_ctx_exited(wasi_ctx *ctx)
{
    if (!ctx || !ctx->pooled)
        return;
    pending_drop(ctx);
    green_pool_owner_drop(ctx->pooled->pool, &ctx->pooled->owner);
    free(ctx->pooled);
    ctx->pooled = NULL;
}

/* Run `op` on f for the guest's call on descriptor guest_fd: LVM_OK with
 * *errno_out its WASI errno, or LVM_ERR_BLOCK while it runs on the pool.
 * Off the scheduler (no process to park) it runs right here. */
static lvm_err on_pool(wasi_ctx *ctx, int op, uint32_t guest_fd, const wasi_fd *f, uint32_t *errno_out)
{
    wasi_job *j = ctx->pooled ? ctx->pooled->pending : NULL;
    if (j && (j->op != op || j->guest_fd != guest_fd)) {
        pending_drop(ctx);          /* stale: not this call's */
        j = NULL;
    }
    if (j) {
        if (!green_job_done(&j->job))
            return LVM_ERR_BLOCK;   /* a spurious wake-up */
        *errno_out = green_job_ran(&j->job) ? wasi_errno_from_host(j->err) : WASI_ECANCELED;
        pending_drop(ctx);
        return LVM_OK;
    }
    lvm_process *self = lvm_process_self();
    green_pool *pool = self ? green_pool_default() : NULL;
    if (pool && !ctx->pooled && (ctx->pooled = lvm_xcalloc(1, sizeof *ctx->pooled))) {
        ctx->pooled->pool = pool;
        green_pool_owner_init(&ctx->pooled->owner);
    }
    j = pool && ctx->pooled ? lvm_xcalloc(1, sizeof *j) : NULL;
    if (!j) {                       /* no pool, or no memory for one: here */
        *errno_out = wasi_errno_from_host(pool_call(op, f->host_fd));
        return LVM_OK;
    }
    green_job_init(&j->job, job_work, job_free);
    j->op = op;
    j->guest_fd = guest_fd;
    j->fd = fcntl(f->host_fd, F_DUPFD_CLOEXEC, 0);
    if (j->fd < 0) {
        *errno_out = wasi_errno_from_host(errno);
        green_job_release(&j->job);
        return LVM_OK;
    }
    if (!green_pool_submit(ctx->pooled->pool, &ctx->pooled->owner, &j->job, &self->g)) {
        green_job_release(&j->job);
        *errno_out = wasi_errno_from_host(pool_call(op, f->host_fd));
        return LVM_OK;
    }
    ctx->pooled->pending = j;
    return LVM_ERR_BLOCK;
}

/* }====== */

/* fd_datasync(fd) and fd_sync(fd) -> errno
 * Files only (a directory is EBADF, as in wasmtime); a read-only file
 * syncs as well as any.  On the blocking pool (above). */
static lvm_err sync_call(lvm_hostcall *call, lvm_val *ar, uint64_t right, int op)
{
    wasi_fd *f;
    uint32_t e = file_lookup(call, ar[0].i32, right, &f);
    if (e)
        return wasi_return(ar, e);
    lvm_err r = on_pool(wasi_ctx_of(call), op, ar[0].i32, f, &e);
    return r == LVM_OK ? wasi_return(ar, e) : r;
}

static lvm_err fd_datasync(lvm_hostcall *call, lvm_val *ar)
{
    return sync_call(call, ar, WASI_RIGHT_FD_DATASYNC, POOL_FDATASYNC);
}

static lvm_err fd_sync(lvm_hostcall *call, lvm_val *ar)
{
    return sync_call(call, ar, WASI_RIGHT_FD_SYNC, POOL_FSYNC);
}

/* }====== */

/* {====== file status */

/* fd_filestat_get(fd, buf: ptr<filestat>) -> errno */
static lvm_err fd_filestat_get(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    uint32_t out = ar[1].i32;
    wasi_fd *f;
    uint32_t e = wasi_fd_lookup(wasi_ctx_of(call), ar[0].i32, WASI_RIGHT_FD_FILESTAT_GET, &f);
    if (e)
        return wasi_return(ar, e);
    if (!wasi_mem_check(&m, out, 64))
        return wasi_return(ar, WASI_EFAULT);
    struct stat st;
    if (fstat(f->host_fd, &st) != 0)
        return wasi_return(ar, wasi_errno_from_host(errno));
    wasi_store_filestat(&m, out, &st);
    return wasi_return(ar, WASI_ESUCCESS);
}

/* fd_filestat_set_size(fd, size: u64) -> errno  (files only: EBADF) */
static lvm_err fd_filestat_set_size(lvm_hostcall *call, lvm_val *ar)
{
    uint64_t size = (uint64_t)ar[1].i64;
    wasi_fd *f;
    uint32_t e = file_lookup(call, ar[0].i32, WASI_RIGHT_FD_FILESTAT_SET_SIZE, &f);
    if (e)
        return wasi_return(ar, e);
    if (size > INT64_MAX)
        return wasi_return(ar, WASI_EINVAL);
    return wasi_return(ar, ftruncate(f->host_fd, (off_t)size) == 0 ? 0 : wasi_errno_from_host(errno));
}

/* fd_filestat_set_times(fd, atim: u64, mtim: u64, fst_flags: u16) -> errno
 * Bad flags are EINVAL before fd is looked at, as in wasmtime; a file or
 * a directory, not a standard descriptor (EBADF). */
static lvm_err fd_filestat_set_times(lvm_hostcall *call, lvm_val *ar)
{
    struct timespec ts[2];
    uint32_t e = wasi_timespecs((uint64_t)ar[1].i64, (uint64_t)ar[2].i64, ar[3].i32, ts);
    if (e)
        return wasi_return(ar, e);
    wasi_fd *f = wasi_fd_get(wasi_ctx_of(call), ar[0].i32);
    if (!f || f->borrowed)
        return wasi_return(ar, WASI_EBADF);
    if (!(f->rights & WASI_RIGHT_FD_FILESTAT_SET_TIMES))
        return wasi_return(ar, WASI_ENOTCAPABLE);
    return wasi_return(ar, futimens(f->host_fd, ts) == 0 ? 0 : wasi_errno_from_host(errno));
}

/* }====== */

/* {====== directories */

/* fd_readdir(fd, buf: ptr<u8>, buf_len: u32, cookie: u64, bufused_out:
 * ptr<u32>) -> errno
 * Fills buf with dirent records (d_next u64 @0, d_ino u64 @8, d_namlen u32
 * @16, d_type u8 @20; 24 bytes) each followed by its name, starting at the
 * entry numbered `cookie`.  The last record may be cut off at buf_len: the
 * spec says so, and libc then asks again with a bigger buffer.  Cookies are
 * entry numbers (0, 1, 2, ...): portable and stable, unlike telldir values;
 * the open DIR remembers where it is, so reading on from the last cookie
 * costs nothing, and any other cookie rewinds and skips. */
static lvm_err fd_readdir(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    uint32_t buf = ar[1].i32, buf_len = ar[2].i32, used_out = ar[4].i32;
    uint64_t cookie = (uint64_t)ar[3].i64;
    wasi_fd *f = wasi_fd_get(wasi_ctx_of(call), ar[0].i32);
    if (!f || f->type != WASI_FILETYPE_DIRECTORY)
        return wasi_return(ar, WASI_EBADF);     /* wasmtime's answer for a file */
    if (!(f->rights & WASI_RIGHT_FD_READDIR))
        return wasi_return(ar, WASI_ENOTCAPABLE);
    if (!wasi_mem_check(&m, buf, buf_len) || !wasi_mem_check(&m, used_out, 4))
        return wasi_return(ar, WASI_EFAULT);
    if (!f->dir) {
        /* A DIR of its own (fdopendir takes over the descriptor it gets). */
        int d = openat(f->host_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0)
            return wasi_return(ar, wasi_errno_from_host(errno));
        if (!(f->dir = fdopendir(d))) {
            close(d);
            return wasi_return(ar, wasi_errno_from_host(errno));
        }
        f->dir_pos = 0;
    }
    DIR *dir = f->dir;
    if (cookie != f->dir_pos) {
        rewinddir(dir);
        f->dir_pos = 0;
        while (f->dir_pos < cookie && readdir(dir))
            f->dir_pos++;
    }

    uint32_t used = 0;
    while (used < buf_len) {
        errno = 0;
        long before = telldir(dir);
        struct dirent *d = readdir(dir);
        if (!d) {
            if (errno)
                return wasi_return(ar, wasi_errno_from_host(errno));
            break;
        }
        uint8_t type;
        switch (d->d_type) {
        case DT_REG: type = WASI_FILETYPE_REGULAR_FILE; break;
        case DT_DIR: type = WASI_FILETYPE_DIRECTORY; break;
        case DT_LNK: type = WASI_FILETYPE_SYMBOLIC_LINK; break;
        case DT_CHR: type = WASI_FILETYPE_CHARACTER_DEVICE; break;
        case DT_BLK: type = WASI_FILETYPE_BLOCK_DEVICE; break;
        case DT_SOCK: type = WASI_FILETYPE_SOCKET_STREAM; break;
        default: {
            struct stat st;      /* file systems that do not say */
            type = fstatat(f->host_fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
                       ? wasi_filetype_of_mode(st.st_mode) : WASI_FILETYPE_UNKNOWN;
        }
        }
        uint32_t namlen = (uint32_t)strlen(d->d_name);
        uint8_t head[24] = { 0 };
        wasi_mem hm = { head, sizeof head, NULL };   /* a host buffer: no checks */
        wasi_store_u64(&hm, 0, f->dir_pos + 1);
        wasi_store_u64(&hm, 8, (uint64_t)d->d_ino);
        wasi_store_u32(&hm, 16, namlen);
        wasi_store_u8(&hm, 20, type);
        uint32_t room = buf_len - used;
        uint32_t hn = room < 24 ? room : 24;
        wasi_copy_out(&m, buf + used, head, hn);
        used += hn;
        room -= hn;
        uint32_t nn = room < namlen ? room : namlen;
        wasi_copy_out(&m, buf + used, d->d_name, nn);
        used += nn;
        if (hn < 24 || nn < namlen) {
            /* Cut off: the guest will ask again from this entry's cookie,
             * so put the stream back where that cookie points. */
            seekdir(dir, before);
            break;
        }
        f->dir_pos++;
    }
    wasi_store_u32(&m, used_out, used);
    return wasi_return(ar, WASI_ESUCCESS);
}

/* fd_prestat_get(fd, prestat_out: ptr<prestat>) -> errno
 * prestat is { tag u8 @0 (0: a directory), name_len u32 @4 }.  Any
 * descriptor that is not a preopened directory is EBADF: that is how
 * wasi-libc's start-up scan (3, 4, ... until EBADF) knows it has ended. */
static lvm_err fd_prestat_get(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    uint32_t out = ar[1].i32;
    wasi_fd *f = wasi_fd_get(wasi_ctx_of(call), ar[0].i32);
    if (!f || !f->preopen)
        return wasi_return(ar, WASI_EBADF);
    if (!wasi_mem_check(&m, out, 8))
        return wasi_return(ar, WASI_EFAULT);
    static const uint8_t zeros[8];
    wasi_copy_out(&m, out, zeros, sizeof zeros);
    wasi_store_u32(&m, out + 4, (uint32_t)strlen(f->preopen));
    return wasi_return(ar, WASI_ESUCCESS);
}

/* fd_prestat_dir_name(fd, path: ptr<u8>, path_len: u32) -> errno
 * The name, without a terminator; a buffer that is too small is
 * ENAMETOOLONG and receives nothing.  An open descriptor that is not a
 * preopen is ENOTDIR here (EBADF in fd_prestat_get), as in wasmtime. */
static lvm_err fd_prestat_dir_name(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    uint32_t path = ar[1].i32, path_len = ar[2].i32;
    wasi_fd *f = wasi_fd_get(wasi_ctx_of(call), ar[0].i32);
    if (!f)
        return wasi_return(ar, WASI_EBADF);
    if (!f->preopen)
        return wasi_return(ar, WASI_ENOTDIR);
    if (!wasi_mem_check(&m, path, path_len))
        return wasi_return(ar, WASI_EFAULT);
    size_t len = strlen(f->preopen);
    if (path_len < len)
        return wasi_return(ar, WASI_ENAMETOOLONG);
    wasi_copy_out(&m, path, f->preopen, len);
    return wasi_return(ar, WASI_ESUCCESS);
}

/* }====== */

const wasi_import wasi_preview1_fd[] = {
    { "fd_advise",             "iIIi:i",  fd_advise },
    { "fd_allocate",           "iII:i",   fd_allocate },
    { "fd_close",              "i:i",     fd_close },
    { "fd_datasync",           "i:i",     fd_datasync },
    { "fd_fdstat_get",         "ii:i",    fd_fdstat_get },
    { "fd_fdstat_set_flags",   "ii:i",    fd_fdstat_set_flags },
    { "fd_fdstat_set_rights",  "iII:i",   fd_fdstat_set_rights },
    { "fd_filestat_get",       "ii:i",    fd_filestat_get },
    { "fd_filestat_set_size",  "iI:i",    fd_filestat_set_size },
    { "fd_filestat_set_times", "iIIi:i",  fd_filestat_set_times },
    { "fd_pread",              "iiiIi:i", fd_pread },
    { "fd_prestat_get",        "ii:i",    fd_prestat_get },
    { "fd_prestat_dir_name",   "iii:i",   fd_prestat_dir_name },
    { "fd_pwrite",             "iiiIi:i", fd_pwrite },
    { "fd_read",               "iiii:i",  fd_read },
    { "fd_readdir",            "iiiIi:i", fd_readdir },
    { "fd_renumber",           "ii:i",    fd_renumber },
    { "fd_seek",               "iIii:i",  fd_seek },
    { "fd_sync",               "i:i",     fd_sync },
    { "fd_tell",               "ii:i",    fd_tell },
    { "fd_write",              "iiii:i",  fd_write },
    { NULL, NULL, NULL },
};
