/*
 * preview1_fd.c - the file-descriptor functions of WASI preview 1 that a
 * hello world needs: fd_write, and the ones wasi-libc's start-up and stdio
 * call (fd_fdstat_get, fd_seek, fd_close, fd_prestat_get,
 * fd_prestat_dir_name).
 *
 * Only the three standard descriptors exist today (ctx.c creates them).
 * There are no preopened directories yet, so the preopen scan wasi-libc
 * runs at start-up (fd_prestat_get on 3, 4, ... until EBADF) ends at once.
 *
 * fd_write issues exactly one host writev per guest call: a line printed by
 * one guest then reaches the terminal in one piece even when several
 * guests (processes, later) share stdout.  Guest output is never buffered
 * on the host side.
 */
#include "internal.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* At most this many iovecs go to one writev.  wasi-libc passes 1 or 2;
 * a guest that passes more gets a short write, which WASI allows and libc
 * loops on.  Small enough to live on the stack of any green thread. */
#define MAX_IOV 64

/* fd_write(fd: fd, iovs: ptr<ciovec>, iovs_len: u32, nwritten_out: ptr<u32>)
 * -> errno.  A ciovec is { buf: u32, buf_len: u32 }, 8 bytes. */
static lvm_err fd_write(lvm_hostcall *call, lvm_val *ar)
{
    wasi_ctx *ctx = call->data;
    wasi_mem m = wasi_mem_of(call);
    uint32_t fd = ar[0].i32, iovs = ar[1].i32, iovs_len = ar[2].i32, nwritten_ptr = ar[3].i32;

    wasi_fd *f = wasi_fd_get(ctx, fd);
    if (!f || !(f->rights & WASI_RIGHT_FD_WRITE))
        return wasi_return(ar, WASI_EBADF);
    /* Check the array, every buffer and the out-pointer before writing a
     * byte (ABI D7): a bad iovec must not leave half a line on stdout. */
    if (!wasi_mem_check(&m, iovs, (uint64_t)iovs_len * 8) || !wasi_mem_check(&m, nwritten_ptr, 4))
        return wasi_return(ar, WASI_EFAULT);
    for (uint32_t i = 0; i < iovs_len; i++) {
        uint32_t buf = wasi_load_u32(&m, iovs + 8 * i);
        uint32_t len = wasi_load_u32(&m, iovs + 8 * i + 4);
        if (!wasi_mem_check(&m, buf, len))
            return wasi_return(ar, WASI_EFAULT);
    }

    /* Gather at most MAX_IOV non-empty buffers and at most UINT32_MAX bytes
     * (nwritten is a u32).  Empty buffers are skipped: they write nothing,
     * and their pointer may be the end of (or no) memory. */
    struct iovec v[MAX_IOV];
    int nv = 0;
    uint64_t total = 0;
    for (uint32_t i = 0; i < iovs_len && nv < MAX_IOV && total < UINT32_MAX; i++) {
        uint32_t buf = wasi_load_u32(&m, iovs + 8 * i);
        uint64_t len = wasi_load_u32(&m, iovs + 8 * i + 4);
        if (len == 0)
            continue;
        if (len > UINT32_MAX - total)
            len = UINT32_MAX - total;
        v[nv].iov_base = m.base + buf;
        v[nv].iov_len = (size_t)len;
        nv++;
        total += len;
    }

    ssize_t n = 0;
    if (nv > 0) {
        do
            n = writev(f->host_fd, v, nv);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return wasi_return(ar, wasi_errno_from_host(errno));
    }
    wasi_store_u32(&m, nwritten_ptr, (uint32_t)n);
    return wasi_return(ar, WASI_ESUCCESS);
}

/* WASI file types (`filetype`), for fd_fdstat_get. */
enum {
    FILETYPE_UNKNOWN = 0, FILETYPE_BLOCK_DEVICE = 1, FILETYPE_CHARACTER_DEVICE = 2,
    FILETYPE_DIRECTORY = 3, FILETYPE_REGULAR_FILE = 4, FILETYPE_SOCKET_STREAM = 6,
};

static uint8_t host_filetype(int host_fd)
{
    struct stat st;
    if (fstat(host_fd, &st) != 0)
        return FILETYPE_UNKNOWN;
    if (S_ISCHR(st.st_mode))
        return FILETYPE_CHARACTER_DEVICE;
    if (S_ISREG(st.st_mode))
        return FILETYPE_REGULAR_FILE;
    if (S_ISDIR(st.st_mode))
        return FILETYPE_DIRECTORY;
    if (S_ISBLK(st.st_mode))
        return FILETYPE_BLOCK_DEVICE;
    if (S_ISSOCK(st.st_mode))
        return FILETYPE_SOCKET_STREAM;
    return FILETYPE_UNKNOWN;     /* pipes: WASI has no type for them */
}

/* fd_fdstat_get(fd: fd, stat_out: ptr<fdstat>) -> errno
 * fdstat is 24 bytes: filetype u8 @0, flags u16 @2, rights_base u64 @8,
 * rights_inheriting u64 @16.  wasi-libc's isatty() is this call: a
 * character device without the seek/tell rights is a terminal, and then
 * stdout is line-buffered, as natively.  The real host type is reported so
 * that output to a pipe or file is fully buffered, also as natively. */
static lvm_err fd_fdstat_get(lvm_hostcall *call, lvm_val *ar)
{
    wasi_ctx *ctx = call->data;
    wasi_mem m = wasi_mem_of(call);
    uint32_t fd = ar[0].i32, out = ar[1].i32;
    wasi_fd *f = wasi_fd_get(ctx, fd);
    if (!f)
        return wasi_return(ar, WASI_EBADF);
    if (!wasi_mem_check(&m, out, 24))
        return wasi_return(ar, WASI_EFAULT);
    static const uint8_t zeros[24];
    wasi_copy_out(&m, out, zeros, sizeof zeros);     /* padding included */
    wasi_store_u8(&m, out, host_filetype(f->host_fd));
    wasi_store_u16(&m, out + 2, 0);                  /* no fdflags */
    wasi_store_u64(&m, out + 8, f->rights);
    wasi_store_u64(&m, out + 16, 0);                 /* nothing to inherit */
    return wasi_return(ar, WASI_ESUCCESS);
}

/* fd_seek(fd: fd, offset: s64, whence: u8, newoffset_out: ptr<u64>) -> errno
 * The standard descriptors never seek, even when the host's stdout is a
 * file: the guest must not move an offset the host shares with its parent
 * shell.  So the answer is ESPIPE, after the usual checks. */
static lvm_err fd_seek(lvm_hostcall *call, lvm_val *ar)
{
    wasi_ctx *ctx = call->data;
    wasi_mem m = wasi_mem_of(call);
    uint32_t fd = ar[0].i32, whence = ar[2].i32, out = ar[3].i32;
    if (!wasi_fd_get(ctx, fd))
        return wasi_return(ar, WASI_EBADF);
    if (!wasi_mem_check(&m, out, 8))
        return wasi_return(ar, WASI_EFAULT);
    if (whence > 2)
        return wasi_return(ar, WASI_EINVAL);
    return wasi_return(ar, WASI_ESPIPE);
}

/* fd_close(fd: fd) -> errno
 * Closes the guest's descriptor only: the host's 0-2 stay open because lvm
 * itself still reports errors on stderr, and other guests share them. */
static lvm_err fd_close(lvm_hostcall *call, lvm_val *ar)
{
    wasi_ctx *ctx = call->data;
    wasi_fd *f = wasi_fd_get(ctx, ar[0].i32);
    if (!f)
        return wasi_return(ar, WASI_EBADF);
    f->open = false;
    return wasi_return(ar, WASI_ESUCCESS);
}

/* fd_prestat_get(fd: fd, prestat_out: ptr<prestat>) -> errno
 * fd_prestat_dir_name(fd: fd, path: ptr<u8>, path_len: u32) -> errno
 * No descriptor is a preopened directory yet, so both answer EBADF, which
 * is also how wasi-libc learns that the preopen list has ended.  Neither
 * touches guest memory, so there is nothing to check. */
static lvm_err fd_prestat_get(lvm_hostcall *call, lvm_val *ar)
{
    return wasi_return(ar, WASI_EBADF);
}

static lvm_err fd_prestat_dir_name(lvm_hostcall *call, lvm_val *ar)
{
    return wasi_return(ar, WASI_EBADF);
}

const wasi_import wasi_preview1_fd[] = {
    { "fd_write",            "iiii:i", fd_write },
    { "fd_fdstat_get",       "ii:i",   fd_fdstat_get },
    { "fd_seek",             "iIii:i", fd_seek },
    { "fd_close",            "i:i",    fd_close },
    { "fd_prestat_get",      "ii:i",   fd_prestat_get },
    { "fd_prestat_dir_name", "iii:i",  fd_prestat_dir_name },
    { NULL, NULL, NULL },
};
