/*
 * preview1_path.c - the path functions of WASI preview 1: everything named
 * path_*.
 *
 * Each one names a file by (directory descriptor, relative path).  The
 * directory must hold the right the operation needs; then path.c turns the
 * path into (host directory, last name) without ever leaving the directory
 * (see its comment for how), and the operation is the matching *at() call
 * on that one name, never following a symlink in it unless the guest asked
 * for it (and then path.c has already followed it, inside the sandbox).
 *
 * Errors are the host's, mapped, except where the sandbox decides first:
 * ENOTCAPABLE for a path that leaves its directory or a right that is
 * missing, ELOOP for too many symlinks, EILSEQ for a path that is not
 * UTF-8.  Before any right is looked at, a descriptor that is not a
 * directory is EBADF (path_open: ENOTDIR for a file), as in wasmtime.
 *
 * A trailing slash ("name/") means "name is a directory".  The host call
 * never sees that slash: given "name/", the kernel follows a symlink
 * called name, which could have been swapped in since path.c looked and
 * point out of the sandbox.  So the rule is applied here, on the bare
 * name, with the errors Linux gives (see slash_dir and slash_create); a
 * race then only changes which error the guest sees.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>  /* renameat */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process.h"

/* lookupflags: follow a symlink in the last component. */
#define LOOKUP_SYMLINK_FOLLOW 1u

/* oflags */
enum { OFLAG_CREAT = 1, OFLAG_DIRECTORY = 2, OFLAG_EXCL = 4, OFLAG_TRUNC = 8 };

/* Look up the directory descriptor fd: EBADF if it is not open, then
 * `not_dir` if it is not a directory, then ENOTCAPABLE if it lacks a
 * right in `need`. */
static uint32_t dir_lookup(lvm_hostcall *call, uint32_t fd, uint64_t need, uint32_t not_dir,
                           wasi_fd **out)
{
    return wasi_fd_lookup_kind(wasi_ctx_of(call), fd, WASI_KIND_DIR, not_dir, need, out);
}

/* Look up the directory fd with right `need`, then resolve the path
 * (ptr, len) in it.  Returns 0 or the errno to give the guest. */
static uint32_t resolve(lvm_hostcall *call, const wasi_mem *m, uint32_t fd, uint64_t need,
                        uint32_t ptr, uint32_t len, bool follow, wasi_path *out)
{
    wasi_fd *dir;
    out->dirfd = -1;
    out->owned = false;
    out->name = NULL;
    uint32_t e = dir_lookup(call, fd, need, WASI_EBADF, &dir);
    if (e)
        return e;
    return wasi_path_resolve(dir, m, ptr, len, follow, out);
}

/* "name/" for an operation on an existing object: it must be a directory
 * (ENOTDIR), and must exist (the host's error, ENOENT).  path.c has
 * already followed a symlink in that place.  0 without a slash. */
static uint32_t slash_dir(const wasi_path *p)
{
    if (!p->trailing_slash)
        return WASI_ESUCCESS;
    struct stat st;
    if (fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return wasi_errno_from_host(errno);
    return S_ISDIR(st.st_mode) ? WASI_ESUCCESS : WASI_ENOTDIR;
}

/* "name/" as the name a link or symlink is to get: Linux creates nothing
 * but directories under such a name, so it is EEXIST if something is
 * there and ENOENT if not.  0 without a slash. */
static uint32_t slash_create(const wasi_path *p)
{
    if (!p->trailing_slash)
        return WASI_ESUCCESS;
    struct stat st;
    if (fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return WASI_EEXIST;
    return errno == ENOENT ? WASI_ENOENT : wasi_errno_from_host(errno);
}

/* Finish a path function: free the resolution, return its result. */
static lvm_err done(lvm_val *ar, wasi_path *p, uint32_t e)
{
    wasi_path_done(p);
    return wasi_return(ar, e);
}

/* The host's errno of the last failed call, or success. */
static uint32_t host_result(int r)
{
    return r == 0 ? WASI_ESUCCESS : wasi_errno_from_host(errno);
}

/* {====== opening */

/* FIFOs and devices.  Opening one may block in the kernel however the
 * guest asked: a FIFO opened for reading waits for a writer, a serial
 * line for its carrier.  So path_open always opens with O_NONBLOCK (on
 * the scheduler): a FIFO opened for reading then returns at once, and its
 * reads wait for data the way a pipe's do (preview1_fd.c polls first,
 * and a FIFO that never had a writer is not readable, so the guest does
 * not see a false end of file); a FIFO opened for writing with no reader
 * fails with ENXIO, which here means "wait": the process sleeps
 * FIFO_RETRY_NS and runs the call again, as a blocking open would have
 * waited, without holding a worker.  Linux has no event for "a reader
 * arrived", so the wait is a poll; rejected: the blocking open on the
 * pool, which would hold a pool thread for as long as no reader comes
 * (forever, for a guest that wants to), so a few such opens would take
 * the pool from everyone.  The descriptor stays non-blocking (it is
 * lvm's own, never shared with the shell), so a 1 MiB write to a FIFO
 * is a short write, and the next one parks until the reader drains it,
 * instead of blocking the worker although poll said "writable". */
#define FIFO_RETRY_NS 10000000u     /* 10 ms */

/* Is the last component of p a FIFO (not following a symlink)? */
static bool is_fifo(const wasi_path *p)
{
    struct stat st;
    return fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISFIFO(st.st_mode);
}

/* path_open(fd, dirflags: lookupflags, path, path_len, oflags: u16,
 *           fs_rights_base: u64, fs_rights_inheriting: u64,
 *           fdflags: u16, fd_out: ptr<fd>) -> errno
 * The base rights asked for must be ones the directory may hand down; the
 * new descriptor gets them, cut down to what its kind of file can do.  The
 * host access mode follows from the rights (wasi-libc asks for the write
 * rights only for O_WRONLY / O_RDWR), for a directory too: a directory
 * asked for with a write right is EISDIR, as open(2) says, whether or not
 * OFLAG_DIRECTORY is set.  OFLAG_DIRECTORY with CREAT, EXCL or TRUNC is
 * EINVAL (wasmtime's rule; Linux's answer varies with its version), and
 * O_CREAT|O_EXCL never follows a symlink in the last component, as POSIX
 * says.  Opening a FIFO that has no writer waits in the host's open(),
 * stopping the worker thread, as it does in wasmtime; everything else
 * opens at once. */
static lvm_err path_open(lvm_hostcall *call, lvm_val *ar)
{
    wasi_ctx *ctx = wasi_ctx_of(call);
    wasi_mem m = wasi_mem_of(call);
    uint32_t dirflags = ar[1].i32, oflags = ar[4].i32, fdflags = ar[7].i32, out = ar[8].i32;
    uint64_t base = (uint64_t)ar[5].i64, inheriting = (uint64_t)ar[6].i64;

    uint64_t need = WASI_RIGHT_PATH_OPEN;
    if (oflags & OFLAG_CREAT)
        need |= WASI_RIGHT_PATH_CREATE_FILE;
    if (oflags & OFLAG_TRUNC)
        need |= WASI_RIGHT_PATH_FILESTAT_SET_SIZE;
    wasi_fd *dir;
    wasi_fd *base_fd = wasi_fd_get(ctx, ar[0].i32);
    uint32_t e = dir_lookup(call, ar[0].i32, need,
                            base_fd && !base_fd->borrowed ? WASI_ENOTDIR : WASI_EBADF, &dir);
    if (e)
        return wasi_return(ar, e);
    if (!wasi_mem_check(&m, out, 4))
        return wasi_return(ar, WASI_EFAULT);
    if ((oflags & ~15u) || (fdflags & ~31u))
        return wasi_return(ar, WASI_EINVAL);
    if ((oflags & OFLAG_DIRECTORY) && (oflags & (OFLAG_CREAT | OFLAG_EXCL | OFLAG_TRUNC)))
        return wasi_return(ar, WASI_EINVAL);
    /* Asking for a right the directory cannot hand down is an error; the
     * inheriting rights are only cut down (callers commonly pass "all"). */
    if (base & ~dir->inheriting)
        return wasi_return(ar, WASI_ENOTCAPABLE);
    inheriting &= dir->inheriting;

    int flags = O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
    if (oflags & OFLAG_CREAT)
        flags |= O_CREAT;
    if (oflags & OFLAG_EXCL)
        flags |= O_EXCL;
    if (oflags & OFLAG_TRUNC)
        flags |= O_TRUNC;
    if (oflags & OFLAG_DIRECTORY)
        flags |= O_DIRECTORY;
    if (fdflags & WASI_FDFLAG_APPEND)
        flags |= O_APPEND;
    if (fdflags & WASI_FDFLAG_DSYNC)
        flags |= O_DSYNC;
    if (fdflags & WASI_FDFLAG_SYNC)
        flags |= O_SYNC;
#ifdef O_RSYNC
    if (fdflags & WASI_FDFLAG_RSYNC)
        flags |= O_RSYNC;
#endif
    bool rd = base & (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR);
    bool wr = base & (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE | WASI_RIGHT_FD_FILESTAT_SET_SIZE);
    flags |= wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;

    bool excl = (oflags & OFLAG_CREAT) && (oflags & OFLAG_EXCL);
    bool follow = (dirflags & LOOKUP_SYMLINK_FOLLOW) && !excl;
    wasi_path p;
    e = wasi_path_resolve(dir, &m, ar[2].i32, ar[3].i32, follow, &p);
    if (e)
        return done(ar, &p, e);
    if (p.trailing_slash) {
        if (oflags & OFLAG_CREAT)
            return done(ar, &p, WASI_EISDIR);   /* Linux: O_CREAT and "name/" */
        flags |= O_DIRECTORY;
    }
    /* O_NOFOLLOW: path.c has followed the last symlink if it was asked to;
     * one that appears now (a race) or that was not to be followed is ELOOP.
     * O_NONBLOCK: see "FIFOs and devices" above. */
    lvm_process *self = lvm_process_self();
    int fd = openat(p.dirfd, p.name, flags | (self ? O_NONBLOCK : 0), 0666);
    if (fd < 0 && errno == ENXIO && self && !(fdflags & WASI_FDFLAG_NONBLOCK) && is_fifo(&p)) {
        /* A FIFO opened for writing before anyone reads it: wait, as a
         * blocking open would, but parked, and look again later. */
        green_sleep(&self->g, FIFO_RETRY_NS);
        wasi_path_done(&p);
        return LVM_ERR_BLOCK;
    }
    if (fd < 0)
        return done(ar, &p, wasi_errno_from_host(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return done(ar, &p, wasi_errno_from_host(errno));
    }
    uint8_t type = wasi_filetype_of_mode(st.st_mode);
    /* Files and directories go back to blocking mode: their I/O never
     * waits on anyone, and fd_fdstat_get's flags describe the guest's
     * view only.  FIFOs and devices stay non-blocking (the descriptor is
     * lvm's alone), so that their reads and writes park on the reactor. */
    if (self && (type == WASI_FILETYPE_REGULAR_FILE || type == WASI_FILETYPE_DIRECTORY) &&
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
        close(fd);
        return done(ar, &p, wasi_errno_from_host(errno));
    }
    /* A FIFO or a device found by path is a stream, but not a socket. */
    uint64_t kind = type == WASI_FILETYPE_DIRECTORY ? WASI_RIGHTS_DIRECTORY
                  : type == WASI_FILETYPE_REGULAR_FILE ? WASI_RIGHTS_REGULAR_FILE
                  : WASI_RIGHTS_STREAM & ~(WASI_RIGHT_SOCK_SHUTDOWN | WASI_RIGHT_SOCK_ACCEPT);
    wasi_fd f = {
        .host_fd = fd, .open = true, .type = type,
        .flags = (uint16_t)fdflags, .rights = base & kind,
        .inheriting = type == WASI_FILETYPE_DIRECTORY ? inheriting : 0,
    };
    uint32_t n = wasi_fd_insert(ctx, &f);
    if (n == UINT32_MAX) {
        close(fd);
        return done(ar, &p, WASI_ENFILE);
    }
    wasi_store_u32(&m, out, n);
    return done(ar, &p, WASI_ESUCCESS);
}

/* }====== */

/* {====== directories and links */

/* path_create_directory(fd, path, path_len) -> errno */
static lvm_err path_create_directory(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    wasi_path p;
    uint32_t e = resolve(call, &m, ar[0].i32, WASI_RIGHT_PATH_CREATE_DIRECTORY, ar[1].i32, ar[2].i32, false, &p);
    if (e)
        return done(ar, &p, e);
    return done(ar, &p, host_result(mkdirat(p.dirfd, p.name, 0777)));
}

/* path_remove_directory(fd, path, path_len) -> errno */
static lvm_err path_remove_directory(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    wasi_path p;
    uint32_t e = resolve(call, &m, ar[0].i32, WASI_RIGHT_PATH_REMOVE_DIRECTORY, ar[1].i32, ar[2].i32, false, &p);
    if (e)
        return done(ar, &p, e);
    if (strcmp(p.name, ".") == 0)
        return done(ar, &p, WASI_EINVAL);   /* "x/.." or ".": not by that name */
    return done(ar, &p, host_result(unlinkat(p.dirfd, p.name, AT_REMOVEDIR)));
}

/* path_unlink_file(fd, path, path_len) -> errno
 * "name/" names a directory, so unlinking it as a file is ENOTDIR (for a
 * file), EISDIR (for a directory) or ENOENT (for nothing); Linux says
 * EISDIR for directories, other systems EPERM, which is mapped to EISDIR
 * too. */
static lvm_err path_unlink_file(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    wasi_path p;
    uint32_t e = resolve(call, &m, ar[0].i32, WASI_RIGHT_PATH_UNLINK_FILE, ar[1].i32, ar[2].i32, false, &p);
    if (e)
        return done(ar, &p, e);
    struct stat st;
    bool exists = fstatat(p.dirfd, p.name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    bool is_dir = exists && S_ISDIR(st.st_mode);
    if (p.trailing_slash || strcmp(p.name, ".") == 0)
        return done(ar, &p, !exists ? wasi_errno_from_host(errno) : is_dir ? WASI_EISDIR : WASI_ENOTDIR);
    if (unlinkat(p.dirfd, p.name, 0) == 0)
        return done(ar, &p, WASI_ESUCCESS);
    e = (errno == EPERM && is_dir) ? WASI_EISDIR : wasi_errno_from_host(errno);
    return done(ar, &p, e);
}

/* path_symlink(old_path, old_path_len, fd, new_path, new_path_len) -> errno
 * The link's text is not resolved now, but an absolute one is refused:
 * it could only ever point outside, and wasmtime refuses it too.  Like a
 * path, the text must be UTF-8 (EILSEQ). */
static lvm_err path_symlink(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    uint32_t old = ar[0].i32, old_len = ar[1].i32;
    if (!wasi_mem_check(&m, old, old_len))
        return wasi_return(ar, WASI_EFAULT);
    wasi_path p;
    uint32_t e = resolve(call, &m, ar[2].i32, WASI_RIGHT_PATH_SYMLINK, ar[3].i32, ar[4].i32, false, &p);
    if (e)
        return done(ar, &p, e);
    if (!lvm_utf8_valid(m.base + old, old_len))
        return done(ar, &p, WASI_EILSEQ);
    if (old_len == 0)
        return done(ar, &p, WASI_ENOENT);
    if (memchr(m.base + old, '\0', old_len))
        return done(ar, &p, WASI_EINVAL);
    if (m.base[old] == '/')
        return done(ar, &p, WASI_ENOTCAPABLE);
    if ((e = slash_create(&p)) != 0)
        return done(ar, &p, e);
    char *target = malloc((size_t)old_len + 1);
    if (!target)
        return done(ar, &p, WASI_ENOMEM);
    memcpy(target, m.base + old, old_len);
    target[old_len] = '\0';
    e = host_result(symlinkat(target, p.dirfd, p.name));
    free(target);
    return done(ar, &p, e);
}

/* path_readlink(fd, path, path_len, buf, buf_len, bufused_out) -> errno
 * The text, cut at buf_len (no terminator), as wasmtime does; a text that
 * is not UTF-8 is EILSEQ (wasmtime hands out strings only). */
static lvm_err path_readlink(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    uint32_t buf = ar[3].i32, buf_len = ar[4].i32, used_out = ar[5].i32;
    if (!wasi_mem_check(&m, buf, buf_len) || !wasi_mem_check(&m, used_out, 4))
        return wasi_return(ar, WASI_EFAULT);
    wasi_path p;
    uint32_t e = resolve(call, &m, ar[0].i32, WASI_RIGHT_PATH_READLINK, ar[1].i32, ar[2].i32, false, &p);
    if (e)
        return done(ar, &p, e);
    if ((e = slash_dir(&p)) != 0)
        return done(ar, &p, e);
    char target[4096];
    ssize_t n = readlinkat(p.dirfd, p.name, target, sizeof target);
    if (n < 0)
        return done(ar, &p, wasi_errno_from_host(errno));
    if (!lvm_utf8_valid((const uint8_t *)target, (size_t)n))
        return done(ar, &p, WASI_EILSEQ);
    uint32_t len = (uint32_t)n < buf_len ? (uint32_t)n : buf_len;
    wasi_copy_out(&m, buf, target, len);
    wasi_store_u32(&m, used_out, len);
    return done(ar, &p, WASI_ESUCCESS);
}

/* path_link(old_fd, old_flags: lookupflags, old_path, old_path_len,
 *           new_fd, new_path, new_path_len) -> errno
 * Both ends are resolved in their own directories, so a hard link can
 * neither reach a file outside nor be placed outside.  LOOKUP_SYMLINK_FOLLOW
 * is EINVAL, as in wasmtime: the link is always to the name itself (a
 * symlink, if that is what it is). */
static lvm_err path_link(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    wasi_fd *d;
    uint32_t e = dir_lookup(call, ar[0].i32, WASI_RIGHT_PATH_LINK_SOURCE, WASI_EBADF, &d);
    if (e == 0)
        e = dir_lookup(call, ar[4].i32, WASI_RIGHT_PATH_LINK_TARGET, WASI_EBADF, &d);
    if (e == 0 && (ar[1].i32 & LOOKUP_SYMLINK_FOLLOW))
        e = WASI_EINVAL;
    if (e)
        return wasi_return(ar, e);
    wasi_path from, to;
    e = resolve(call, &m, ar[0].i32, WASI_RIGHT_PATH_LINK_SOURCE, ar[2].i32, ar[3].i32, false, &from);
    if (e)
        return done(ar, &from, e);
    e = resolve(call, &m, ar[4].i32, WASI_RIGHT_PATH_LINK_TARGET, ar[5].i32, ar[6].i32, false, &to);
    /* "file/" as the source is ENOTDIR (a directory would be EPERM from
     * the host); "new/" as the target is ENOENT or EEXIST. */
    if (e == 0)
        e = slash_dir(&from);
    if (e == 0)
        e = slash_create(&to);
    if (e == 0)
        e = host_result(linkat(from.dirfd, from.name, to.dirfd, to.name, 0));
    wasi_path_done(&to);
    return done(ar, &from, e);
}

/* path_rename(fd, old_path, old_path_len, new_fd, new_path, new_path_len)
 * -> errno
 * A trailing slash on either name is allowed only when what is renamed is
 * a directory (Linux's rule): "file/" or renaming a file to "new/" is
 * ENOTDIR. */
static lvm_err path_rename(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    wasi_path from, to;
    uint32_t e = resolve(call, &m, ar[0].i32, WASI_RIGHT_PATH_RENAME_SOURCE, ar[1].i32, ar[2].i32, false, &from);
    if (e)
        return done(ar, &from, e);
    e = resolve(call, &m, ar[3].i32, WASI_RIGHT_PATH_RENAME_TARGET, ar[4].i32, ar[5].i32, false, &to);
    if (e == 0) {
        struct stat st;
        if (strcmp(from.name, ".") == 0 || strcmp(to.name, ".") == 0)
            e = WASI_EBUSY;     /* renaming a directory by "." or ".." */
        else if ((from.trailing_slash || to.trailing_slash) &&
                 fstatat(from.dirfd, from.name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            e = wasi_errno_from_host(errno);
        else if ((from.trailing_slash || to.trailing_slash) && !S_ISDIR(st.st_mode))
            e = WASI_ENOTDIR;
        else
            e = host_result(renameat(from.dirfd, from.name, to.dirfd, to.name));
    }
    wasi_path_done(&to);
    return done(ar, &from, e);
}

/* }====== */

/* {====== status */

/* path_filestat_get(fd, flags: lookupflags, path, path_len,
 *                   buf: ptr<filestat>) -> errno */
static lvm_err path_filestat_get(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    uint32_t out = ar[4].i32;
    if (!wasi_mem_check(&m, out, 64))
        return wasi_return(ar, WASI_EFAULT);
    wasi_path p;
    uint32_t e = resolve(call, &m, ar[0].i32, WASI_RIGHT_PATH_FILESTAT_GET, ar[2].i32, ar[3].i32,
                         ar[1].i32 & LOOKUP_SYMLINK_FOLLOW, &p);
    if (e)
        return done(ar, &p, e);
    struct stat st;
    if (fstatat(p.dirfd, p.name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return done(ar, &p, wasi_errno_from_host(errno));
    if (p.trailing_slash && !S_ISDIR(st.st_mode))
        return done(ar, &p, WASI_ENOTDIR);
    wasi_store_filestat(&m, out, &st);
    return done(ar, &p, WASI_ESUCCESS);
}

/* path_filestat_set_times(fd, flags: lookupflags, path, path_len,
 *                         atim: u64, mtim: u64, fst_flags: u16) -> errno */
static lvm_err path_filestat_set_times(lvm_hostcall *call, lvm_val *ar)
{
    wasi_mem m = wasi_mem_of(call);
    struct timespec ts[2];
    uint32_t e = wasi_timespecs((uint64_t)ar[4].i64, (uint64_t)ar[5].i64, ar[6].i32, ts);
    if (e)
        return wasi_return(ar, e);
    wasi_path p;
    e = resolve(call, &m, ar[0].i32, WASI_RIGHT_PATH_FILESTAT_SET_TIMES, ar[2].i32, ar[3].i32,
                ar[1].i32 & LOOKUP_SYMLINK_FOLLOW, &p);
    if (e || (e = slash_dir(&p)) != 0)
        return done(ar, &p, e);
    return done(ar, &p, host_result(utimensat(p.dirfd, p.name, ts, AT_SYMLINK_NOFOLLOW)));
}

/* }====== */

const wasi_import wasi_preview1_path[] = {
    { "path_create_directory",   "iii:i",       path_create_directory },
    { "path_filestat_get",       "iiiii:i",     path_filestat_get },
    { "path_filestat_set_times", "iiiiIIi:i",   path_filestat_set_times },
    { "path_link",               "iiiiiii:i",   path_link },
    { "path_open",               "iiiiiIIii:i", path_open },
    { "path_readlink",           "iiiiii:i",    path_readlink },
    { "path_remove_directory",   "iii:i",       path_remove_directory },
    { "path_rename",             "iiiiii:i",    path_rename },
    { "path_symlink",            "iiiii:i",     path_symlink },
    { "path_unlink_file",        "iii:i",       path_unlink_file },
    { NULL, NULL, NULL },
};
