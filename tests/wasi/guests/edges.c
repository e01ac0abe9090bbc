/*
 * edges.c - the edge cases of WASI preview 1 where an errno is easy to get
 * wrong, each checked for the exact value wasmtime gives (on Linux) through
 * the raw wasi_snapshot_preview1 calls.  Run as
 * `lvm run --dir SCRATCH::. edges.wasm`; it makes everything it needs in
 * the preopen and removes it again (the harness checks that SCRATCH is
 * empty afterwards).
 *
 * Sections: trailing slashes; path_open's flags and symlinks; paths that
 * are not UTF-8; the wrong kind of descriptor (a directory, stdio, a file
 * where a socket is needed); fdstat flags; append, pwrite and tell; zero
 * lengths; sizes and times; poll_oneoff; fd_readdir with small buffers and
 * after a rename; renumber, random, clocks, and closing the preopen.
 */
#include <stdbool.h>

#include "check.h"

#define DIR 3   /* the preopen */
#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW
#define RIGHTS_ALL ((__wasi_rights_t)((1ull << 30) - 1))
/* What a preopen can hand down: everything but the socket rights. */
#define RIGHTS_FS (RIGHTS_ALL & ~(__WASI_RIGHTS_SOCK_SHUTDOWN | __WASI_RIGHTS_SOCK_ACCEPT))

/* The imports themselves, for paths with bytes wasi-libc's wrappers would
 * cut (they take C strings). */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")))
int raw_path_open(int fd, int dirflags, const char *path, int path_len, int oflags,
                  long long base, long long inheriting, int fdflags, int *fd_out);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_create_directory")))
int raw_path_create_directory(int fd, const char *path, int path_len);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_symlink")))
int raw_path_symlink(const char *old, int old_len, int fd, const char *path, int path_len);

static __wasi_errno_t open_at(__wasi_fd_t dir, __wasi_lookupflags_t lf, const char *path,
                              __wasi_oflags_t of, __wasi_rights_t base, __wasi_fdflags_t ff,
                              __wasi_fd_t *fd)
{
    return __wasi_path_open(dir, lf, path, of, base, RIGHTS_ALL, ff, fd);
}

/* Open path with `base` rights and close it again: the errno. */
static __wasi_errno_t try_open(const char *path, __wasi_lookupflags_t lf, __wasi_oflags_t of,
                               __wasi_rights_t base)
{
    __wasi_fd_t fd;
    __wasi_errno_t e = open_at(DIR, lf, path, of, base, 0, &fd);
    if (e == 0)
        ERRNO_IS(__wasi_fd_close(fd), 0);
    return e;
}

static void make_file(const char *path, const char *text)
{
    __wasi_fd_t fd;
    ERRNO_IS(open_at(DIR, 0, path, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC,
                     __WASI_RIGHTS_FD_WRITE, 0, &fd), 0);
    __wasi_ciovec_t iov = { (const uint8_t *)text, strlen(text) };
    __wasi_size_t n;
    ERRNO_IS(__wasi_fd_write(fd, &iov, 1, &n), 0);
    CHECK(n == strlen(text));
    ERRNO_IS(__wasi_fd_close(fd), 0);
}

static __wasi_filesize_t size_of(const char *path)
{
    __wasi_filestat_t st;
    ERRNO_IS(__wasi_path_filestat_get(DIR, 0, path, &st), 0);
    return st.size;
}

static bool exists(const char *path)
{
    __wasi_filestat_t st;
    __wasi_errno_t e = __wasi_path_filestat_get(DIR, 0, path, &st);
    CHECK(e == 0 || e == __WASI_ERRNO_NOENT);
    return e == 0;
}

static void trailing_slashes(void)
{
    make_file("f", "hello");
    ERRNO_IS(__wasi_path_create_directory(DIR, "d"), 0);

    /* a slash on a name to be created by link or symlink: ENOENT if there
     * is nothing, EEXIST if there is something */
    ERRNO_IS(__wasi_path_link(DIR, 0, "f", DIR, "new/"), __WASI_ERRNO_NOENT);
    ERRNO_IS(__wasi_path_symlink("x", DIR, "new/"), __WASI_ERRNO_NOENT);
    ERRNO_IS(__wasi_path_link(DIR, 0, "f", DIR, "d/"), __WASI_ERRNO_EXIST);
    ERRNO_IS(__wasi_path_symlink("x", DIR, "d/"), __WASI_ERRNO_EXIST);
    ERRNO_IS(__wasi_path_symlink("x", DIR, "f/"), __WASI_ERRNO_EXIST);
    /* "file/" is not a directory: as a source, or renaming a file to "new/" */
    ERRNO_IS(__wasi_path_link(DIR, 0, "f/", DIR, "x"), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(__wasi_path_rename(DIR, "f/", DIR, "x"), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(__wasi_path_rename(DIR, "f", DIR, "new/"), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(__wasi_path_rename(DIR, "missing/", DIR, "x"), __WASI_ERRNO_NOENT);
    CHECK(!exists("new") && !exists("x") && exists("f"));
    /* ... while a directory may be renamed with slashes on both names */
    ERRNO_IS(__wasi_path_rename(DIR, "d/", DIR, "e/"), 0);
    ERRNO_IS(__wasi_path_rename(DIR, "e", DIR, "d/"), 0);
    ERRNO_IS(__wasi_path_link(DIR, 0, "d/", DIR, "x"), __WASI_ERRNO_PERM);

    /* unlinking "name/": a file is ENOTDIR, a directory EISDIR, nothing ENOENT */
    ERRNO_IS(__wasi_path_unlink_file(DIR, "f/"), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(__wasi_path_unlink_file(DIR, "d/"), __WASI_ERRNO_ISDIR);
    ERRNO_IS(__wasi_path_unlink_file(DIR, "d"), __WASI_ERRNO_ISDIR);
    ERRNO_IS(__wasi_path_unlink_file(DIR, "missing/"), __WASI_ERRNO_NOENT);
    /* remove_directory on a file, with or without the slash */
    ERRNO_IS(__wasi_path_remove_directory(DIR, "f"), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(__wasi_path_remove_directory(DIR, "f/"), __WASI_ERRNO_NOTDIR);
    /* stat, times, readlink and open of "file/" */
    __wasi_filestat_t st;
    ERRNO_IS(__wasi_path_filestat_get(DIR, 0, "f/", &st), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(__wasi_path_filestat_get(DIR, 0, "d/", &st), 0);
    ERRNO_IS(__wasi_path_filestat_set_times(DIR, 0, "f/", 0, 0, __WASI_FSTFLAGS_MTIM_NOW),
             __WASI_ERRNO_NOTDIR);
    ERRNO_IS(__wasi_path_filestat_set_times(DIR, 0, "d/", 0, 0, __WASI_FSTFLAGS_MTIM_NOW), 0);
    ERRNO_IS(__wasi_path_symlink("f", DIR, "lf"), 0);
    char buf[16];
    __wasi_size_t n;
    ERRNO_IS(__wasi_path_readlink(DIR, "lf/", (uint8_t *)buf, sizeof buf, &n), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(__wasi_path_readlink(DIR, "f/", (uint8_t *)buf, sizeof buf, &n), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(try_open("f/", 0, 0, __WASI_RIGHTS_FD_READ), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(try_open("lf/", FOLLOW, 0, __WASI_RIGHTS_FD_READ), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(try_open("d/", 0, 0, __WASI_RIGHTS_FD_READDIR), 0);
    /* O_CREAT and "name/": EISDIR (Linux's open), whether or not it exists */
    ERRNO_IS(try_open("new/", 0, __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_READ), __WASI_ERRNO_ISDIR);
    ERRNO_IS(try_open("d/", 0, __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_READ), __WASI_ERRNO_ISDIR);
    CHECK(!exists("new"));
    /* mkdir and rmdir take the slash */
    ERRNO_IS(__wasi_path_create_directory(DIR, "d2/"), 0);
    ERRNO_IS(__wasi_path_remove_directory(DIR, "d2/"), 0);
    ERRNO_IS(__wasi_path_unlink_file(DIR, "lf"), 0);
}

static void opening(void)
{
    /* a directory with a write right is EISDIR, with OFLAGS_DIRECTORY too */
    ERRNO_IS(try_open("d", 0, __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_WRITE), __WASI_ERRNO_ISDIR);
    ERRNO_IS(try_open("d", 0, 0, __WASI_RIGHTS_FD_WRITE), __WASI_ERRNO_ISDIR);
    ERRNO_IS(try_open("d", 0, __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR), 0);
    /* OFLAGS_DIRECTORY with CREAT, EXCL or TRUNC is EINVAL */
    ERRNO_IS(try_open("d", 0, __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_CREAT, 0), __WASI_ERRNO_INVAL);
    ERRNO_IS(try_open("nd", 0, __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_CREAT, 0), __WASI_ERRNO_INVAL);
    ERRNO_IS(try_open("d", 0, __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_TRUNC, 0), __WASI_ERRNO_INVAL);
    ERRNO_IS(try_open("d", 0, __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_EXCL, 0), __WASI_ERRNO_INVAL);
    CHECK(!exists("nd"));
    /* O_TRUNC on a directory, without OFLAGS_DIRECTORY */
    ERRNO_IS(try_open("d", 0, __WASI_OFLAGS_TRUNC, 0), __WASI_ERRNO_ISDIR);
    /* O_EXCL on something that exists, a dangling symlink included (never
     * followed, even when asked: nothing is created where it points) */
    ERRNO_IS(try_open("f", 0, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0), __WASI_ERRNO_EXIST);
    ERRNO_IS(__wasi_path_symlink("made", DIR, "dangling"), 0);
    ERRNO_IS(try_open("dangling", FOLLOW, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0),
             __WASI_ERRNO_EXIST);
    CHECK(!exists("made"));
    /* a symlink opened without LOOKUP_SYMLINK_FOLLOW is ELOOP, with it the file */
    ERRNO_IS(__wasi_path_symlink("f", DIR, "lf"), 0);
    ERRNO_IS(try_open("lf", 0, 0, __WASI_RIGHTS_FD_READ), __WASI_ERRNO_LOOP);
    ERRNO_IS(try_open("lf", FOLLOW, 0, __WASI_RIGHTS_FD_READ), 0);
    /* O_CREAT through a dangling symlink, followed, creates its target */
    ERRNO_IS(try_open("dangling", FOLLOW, __WASI_OFLAGS_CREAT, 0), 0);
    CHECK(exists("made"));
    ERRNO_IS(__wasi_path_unlink_file(DIR, "made"), 0);
    /* path_link never follows: LOOKUP_SYMLINK_FOLLOW is EINVAL */
    ERRNO_IS(__wasi_path_link(DIR, FOLLOW, "lf", DIR, "x"), __WASI_ERRNO_INVAL);
    ERRNO_IS(__wasi_path_link(DIR, 0, "dangling", DIR, "x"), 0);     /* the link itself */
    ERRNO_IS(__wasi_path_unlink_file(DIR, "x"), 0);
    ERRNO_IS(__wasi_path_unlink_file(DIR, "dangling"), 0);
    ERRNO_IS(__wasi_path_unlink_file(DIR, "lf"), 0);

    /* the directory argument: a file is ENOTDIR for path_open and EBADF
     * for the other path functions; a standard descriptor EBADF */
    __wasi_fd_t file;
    ERRNO_IS(open_at(DIR, 0, "f", 0, __WASI_RIGHTS_FD_READ, 0, &file), 0);
    __wasi_fd_t fd;
    ERRNO_IS(open_at(file, 0, "x", __WASI_OFLAGS_CREAT, 0, 0, &fd), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(open_at(1, 0, "x", 0, 0, 0, &fd), __WASI_ERRNO_BADF);
    __wasi_filestat_t st;
    ERRNO_IS(__wasi_path_filestat_get(file, 0, "x", &st), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_path_create_directory(file, "x"), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_path_unlink_file(0, "x"), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_path_create_directory(99, "x"), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_close(file), 0);

    /* non-empty directories, and "." */
    make_file("d/in", "");
    ERRNO_IS(__wasi_path_remove_directory(DIR, "d"), __WASI_ERRNO_NOTEMPTY);
    ERRNO_IS(__wasi_path_unlink_file(DIR, "d/in"), 0);
    ERRNO_IS(__wasi_path_remove_directory(DIR, "d/."), __WASI_ERRNO_INVAL);
}

static void not_utf8(void)
{
    static const char *const bad[] = {
        "\xff",                 /* never a UTF-8 byte */
        "a\x80",                /* a lone continuation byte */
        "\xc3",                 /* cut short */
        "\xc0\xaf",             /* overlong "/" */
        "\xe0\x80\xaf",         /* overlong, three bytes */
        "\xed\xa0\x80",         /* a surrogate (U+D800) */
        "\xf4\x90\x80\x80",     /* above U+10FFFF */
    };
    int fd;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int len = (int)strlen(bad[i]);
        ERRNO_IS(raw_path_open(DIR, 0, bad[i], len, __WASI_OFLAGS_CREAT, 0, 0, 0, &fd),
                 __WASI_ERRNO_ILSEQ);
        ERRNO_IS(raw_path_create_directory(DIR, bad[i], len), __WASI_ERRNO_ILSEQ);
        ERRNO_IS(raw_path_symlink(bad[i], len, DIR, "x", 1), __WASI_ERRNO_ILSEQ);
    }
    /* valid UTF-8 of every length is a name like any other */
    static const char good[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";     /* é € 😀 */
    ERRNO_IS(raw_path_create_directory(DIR, good, (int)sizeof good - 1), 0);
    ERRNO_IS(__wasi_path_remove_directory(DIR, good), 0);
    /* an interior NUL is EINVAL (UTF-8, but no host can spell it) */
    ERRNO_IS(raw_path_open(DIR, 0, "f\0x", 3, 0, 0, 0, 0, &fd), __WASI_ERRNO_INVAL);
    ERRNO_IS(raw_path_symlink("f\0x", 3, DIR, "x", 1), __WASI_ERRNO_INVAL);
    CHECK(!exists("x"));
}

static void wrong_kind(void)
{
    __wasi_fd_t dir, file;
    ERRNO_IS(open_at(DIR, 0, "d", __WASI_OFLAGS_DIRECTORY, RIGHTS_FS & ~(__WASI_RIGHTS_FD_WRITE |
                     __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE), 0, &dir), 0);
    ERRNO_IS(open_at(DIR, 0, "f", 0, RIGHTS_FS, 0, &file), 0);
    char buf[8];
    __wasi_iovec_t iov = { (uint8_t *)buf, sizeof buf };
    __wasi_ciovec_t ciov = { (const uint8_t *)"x", 1 };
    __wasi_size_t n;
    __wasi_filesize_t pos;
    /* a directory: no data, no position, no size, no flags, no sync */
    ERRNO_IS(__wasi_fd_read(dir, &iov, 1, &n), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_write(dir, &ciov, 1, &n), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_pread(dir, &iov, 1, 0, &n), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_pwrite(dir, &ciov, 1, 0, &n), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_seek(dir, 0, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_seek(dir, 0, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_tell(dir, &pos), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_advise(dir, 0, 0, __WASI_ADVICE_NORMAL), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_allocate(dir, 0, 1), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_filestat_set_size(dir, 0), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_datasync(dir), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_sync(dir), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_fdstat_set_flags(dir, 0), __WASI_ERRNO_BADF);
    __wasi_filestat_t st;
    ERRNO_IS(__wasi_fd_filestat_get(dir, &st), 0);
    CHECK(st.filetype == __WASI_FILETYPE_DIRECTORY);
    ERRNO_IS(__wasi_fd_filestat_set_times(dir, 0, 0, __WASI_FSTFLAGS_MTIM_NOW), 0);
    /* an advice that does not exist is EINVAL whatever the descriptor */
    ERRNO_IS(__wasi_fd_advise(dir, 0, 0, 9), __WASI_ERRNO_INVAL);
    /* a file is no directory: readdir EBADF, prestat_dir_name ENOTDIR */
    ERRNO_IS(__wasi_fd_readdir(file, (uint8_t *)buf, sizeof buf, 0, &n), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_prestat_dir_name(file, (uint8_t *)buf, sizeof buf), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(__wasi_fd_prestat_dir_name(99, (uint8_t *)buf, sizeof buf), __WASI_ERRNO_BADF);
    /* the standard descriptors have no offset: positioned I/O is ESPIPE,
     * in the direction they cannot go EBADF */
    ERRNO_IS(__wasi_fd_pread(0, &iov, 1, 0, &n), __WASI_ERRNO_SPIPE);
    ERRNO_IS(__wasi_fd_pwrite(1, &ciov, 1, 0, &n), __WASI_ERRNO_SPIPE);
    ERRNO_IS(__wasi_fd_pread(1, &iov, 1, 0, &n), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_pwrite(0, &ciov, 1, 0, &n), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_SPIPE);
    ERRNO_IS(__wasi_fd_sync(1), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_filestat_set_times(1, 0, 0, __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_BADF);
    /* sockets: anything else is ENOTSOCK, before rights are looked at */
    ERRNO_IS(__wasi_sock_shutdown(file, __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK);
    ERRNO_IS(__wasi_sock_shutdown(1, __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK);
    ERRNO_IS(__wasi_sock_shutdown(dir, __WASI_SDFLAGS_RD), __WASI_ERRNO_NOTSOCK);
    ERRNO_IS(__wasi_sock_shutdown(99, __WASI_SDFLAGS_RD), __WASI_ERRNO_BADF);
    __wasi_fd_t conn;
    ERRNO_IS(__wasi_sock_accept(file, 0, &conn), __WASI_ERRNO_NOTSOCK);
    ERRNO_IS(__wasi_sock_accept(DIR, 0, &conn), __WASI_ERRNO_NOTSOCK);
    __wasi_roflags_t ro;
    ERRNO_IS(__wasi_sock_recv(file, &iov, 1, 0, &n, &ro), __WASI_ERRNO_NOTSOCK);
    ERRNO_IS(__wasi_sock_send(1, &ciov, 1, 0, &n), __WASI_ERRNO_NOTSOCK);
    ERRNO_IS(__wasi_fd_close(dir), 0);

    /* fdstat flags: APPEND and NONBLOCK change, the sync flags are EINVAL */
    ERRNO_IS(__wasi_fd_fdstat_set_flags(file, __WASI_FDFLAGS_DSYNC), __WASI_ERRNO_INVAL);
    ERRNO_IS(__wasi_fd_fdstat_set_flags(file, __WASI_FDFLAGS_SYNC | __WASI_FDFLAGS_APPEND),
             __WASI_ERRNO_INVAL);
    ERRNO_IS(__wasi_fd_fdstat_set_flags(file, 64), __WASI_ERRNO_INVAL);
    __wasi_fdstat_t fs;
    ERRNO_IS(__wasi_fd_fdstat_get(file, &fs), 0);
    CHECK(fs.fs_flags == 0);
    ERRNO_IS(__wasi_fd_fdstat_set_flags(file, __WASI_FDFLAGS_APPEND | __WASI_FDFLAGS_NONBLOCK), 0);
    ERRNO_IS(__wasi_fd_fdstat_get(file, &fs), 0);
    CHECK(fs.fs_flags == (__WASI_FDFLAGS_APPEND | __WASI_FDFLAGS_NONBLOCK));
    ERRNO_IS(__wasi_fd_fdstat_set_flags(file, 0), 0);
    ERRNO_IS(__wasi_fd_fdstat_get(file, &fs), 0);
    CHECK(fs.fs_flags == 0);
    ERRNO_IS(__wasi_fd_close(file), 0);
}

static void append_sizes_and_times(void)
{
    /* "f" holds "hello".  With APPEND, a write after seeking to 0 lands at
     * the end and tell says so; pwrite at 0 appends too (Linux's rule). */
    __wasi_fd_t fd;
    ERRNO_IS(open_at(DIR, 0, "f", 0, RIGHTS_FS, __WASI_FDFLAGS_APPEND, &fd), 0);
    __wasi_filesize_t pos;
    ERRNO_IS(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos), 0);
    CHECK(pos == 0);
    __wasi_ciovec_t ciov = { (const uint8_t *)"abc", 3 };
    __wasi_size_t n;
    ERRNO_IS(__wasi_fd_write(fd, &ciov, 1, &n), 0);
    CHECK(n == 3);
    ERRNO_IS(__wasi_fd_tell(fd, &pos), 0);
    CHECK(pos == 8);
    ERRNO_IS(__wasi_fd_pwrite(fd, &ciov, 1, 0, &n), 0);
    CHECK(n == 3 && size_of("f") == 11);
    char buf[16] = "";
    __wasi_iovec_t iov = { (uint8_t *)buf, sizeof buf };
    ERRNO_IS(__wasi_fd_pread(fd, &iov, 1, 0, &n), 0);
    CHECK(n == 11 && memcmp(buf, "helloabcabc", 11) == 0);
    /* zero-length transfers move nothing and succeed */
    __wasi_ciovec_t empty = { (const uint8_t *)buf, 0 };
    ERRNO_IS(__wasi_fd_write(fd, &empty, 1, &n), 0);
    CHECK(n == 0);
    ERRNO_IS(__wasi_fd_write(fd, &empty, 0, &n), 0);
    CHECK(n == 0 && size_of("f") == 11);
    __wasi_iovec_t none = { (uint8_t *)buf, 0 };
    ERRNO_IS(__wasi_fd_read(fd, &none, 1, &n), 0);
    CHECK(n == 0);
    /* set_size shrinks and grows (with zeros) */
    ERRNO_IS(__wasi_fd_filestat_set_size(fd, 2), 0);
    CHECK(size_of("f") == 2);
    ERRNO_IS(__wasi_fd_filestat_set_size(fd, 6), 0);
    ERRNO_IS(__wasi_fd_pread(fd, &iov, 1, 0, &n), 0);
    CHECK(n == 6 && memcmp(buf, "he\0\0\0\0", 6) == 0);
    ERRNO_IS(__wasi_fd_close(fd), 0);

    /* a write-only descriptor cannot read, not even nothing */
    ERRNO_IS(open_at(DIR, 0, "f", 0, __WASI_RIGHTS_FD_WRITE, 0, &fd), 0);
    ERRNO_IS(__wasi_fd_read(fd, &none, 1, &n), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_read(fd, &iov, 1, &n), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_close(fd), 0);
    /* a read-only one syncs */
    ERRNO_IS(open_at(DIR, 0, "f", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SYNC |
                     __WASI_RIGHTS_FD_DATASYNC, 0, &fd), 0);
    ERRNO_IS(__wasi_fd_sync(fd), 0);
    ERRNO_IS(__wasi_fd_datasync(fd), 0);
    ERRNO_IS(__wasi_fd_close(fd), 0);

    /* times: a value and NOW for the same time is EINVAL, before the
     * descriptor or path is looked at */
    ERRNO_IS(__wasi_path_filestat_set_times(DIR, 0, "f", 1, 0,
                                            __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW),
             __WASI_ERRNO_INVAL);
    ERRNO_IS(__wasi_path_filestat_set_times(DIR, 0, "f", 0, 1,
                                            __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW),
             __WASI_ERRNO_INVAL);
    ERRNO_IS(__wasi_fd_filestat_set_times(99, 0, 1, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW),
             __WASI_ERRNO_INVAL);
    ERRNO_IS(__wasi_path_filestat_set_times(DIR, 0, "f", 7, 1000000000, __WASI_FSTFLAGS_ATIM |
                                            __WASI_FSTFLAGS_MTIM), 0);
    __wasi_filestat_t st;
    ERRNO_IS(__wasi_path_filestat_get(DIR, 0, "f", &st), 0);
    CHECK(st.atim == 7 && st.mtim == 1000000000);
}

static void polling(void)
{
    __wasi_subscription_t sub = { 0 };
    __wasi_event_t ev[2];
    __wasi_size_t n;
    sub.userdata = 5;
    sub.u.tag = __WASI_EVENTTYPE_CLOCK;
    ERRNO_IS(__wasi_poll_oneoff(&sub, ev, 0, &n), __WASI_ERRNO_INVAL);
    /* relative 0 fires at once; so do absolute deadlines in the past, on
     * both clocks that can be waited on */
    sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    ERRNO_IS(__wasi_poll_oneoff(&sub, ev, 1, &n), 0);
    CHECK(n == 1 && ev[0].userdata == 5 && ev[0].error == 0 && ev[0].type == __WASI_EVENTTYPE_CLOCK);
    sub.u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    sub.u.u.clock.timeout = 1;
    ERRNO_IS(__wasi_poll_oneoff(&sub, ev, 1, &n), 0);
    CHECK(n == 1 && ev[0].userdata == 5);
    sub.u.u.clock.id = __WASI_CLOCKID_REALTIME;
    ERRNO_IS(__wasi_poll_oneoff(&sub, ev, 1, &n), 0);
    CHECK(n == 1 && ev[0].userdata == 5);
    /* the CPU clocks and unknown ones cannot be waited on: the call fails */
    sub.u.u.clock.id = __WASI_CLOCKID_PROCESS_CPUTIME_ID;
    ERRNO_IS(__wasi_poll_oneoff(&sub, ev, 1, &n), __WASI_ERRNO_INVAL);
    sub.u.u.clock.id = 9;
    ERRNO_IS(__wasi_poll_oneoff(&sub, ev, 1, &n), __WASI_ERRNO_INVAL);
    /* an fd that is not open, or cannot move data that way, fails the
     * whole call (EBADF), even beside a clock that has fired */
    __wasi_subscription_t subs[2] = { sub, sub };
    subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[1].u.tag = __WASI_EVENTTYPE_FD_READ;
    subs[1].u.u.fd_read.file_descriptor = 77;
    ERRNO_IS(__wasi_poll_oneoff(subs, ev, 2, &n), __WASI_ERRNO_BADF);
    subs[1].u.u.fd_read.file_descriptor = 1;            /* stdout */
    ERRNO_IS(__wasi_poll_oneoff(subs, ev, 2, &n), __WASI_ERRNO_BADF);
    subs[1].u.u.fd_read.file_descriptor = DIR;          /* a directory */
    ERRNO_IS(__wasi_poll_oneoff(subs, ev, 2, &n), __WASI_ERRNO_BADF);
    /* a file is always ready */
    __wasi_fd_t fd;
    ERRNO_IS(open_at(DIR, 0, "f", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_POLL_FD_READWRITE, 0, &fd), 0);
    subs[1].u.u.fd_read.file_descriptor = fd;
    subs[1].userdata = 6;
    ERRNO_IS(__wasi_poll_oneoff(&subs[1], ev, 1, &n), 0);
    CHECK(n == 1 && ev[0].userdata == 6 && ev[0].error == 0 && ev[0].type == __WASI_EVENTTYPE_FD_READ);
    ERRNO_IS(__wasi_fd_close(fd), 0);
}

/* Read the entries of dir from `cookie` with a buf_len buffer: the bytes
 * used, the first entry's header and name. */
static __wasi_size_t readdir_at(__wasi_fd_t dir, __wasi_dircookie_t cookie, uint8_t *buf,
                                __wasi_size_t buf_len)
{
    __wasi_size_t used;
    ERRNO_IS(__wasi_fd_readdir(dir, buf, buf_len, cookie, &used), 0);
    CHECK(used <= buf_len);
    return used;
}

/* Is there an entry `name` in dir (reading it with a 64-byte buffer, so
 * that the cookies are used)? */
static bool listed(__wasi_fd_t dir, const char *name)
{
    uint8_t buf[64];
    __wasi_dircookie_t cookie = 0;
    for (int guard = 0; guard < 100; guard++) {
        __wasi_size_t used = readdir_at(dir, cookie, buf, sizeof buf);
        if (used < sizeof (__wasi_dirent_t))
            return false;
        __wasi_dirent_t d;
        memcpy(&d, buf, sizeof d);
        if (used < sizeof d + d.d_namlen)
            return false;       /* cannot happen with these short names */
        if (d.d_namlen == strlen(name) && memcmp(buf + sizeof d, name, d.d_namlen) == 0)
            return true;
        cookie = d.d_next;
    }
    CHECK(!"readdir never ended");
    return false;
}

static void reading_dirs(void)
{
    ERRNO_IS(__wasi_path_create_directory(DIR, "r"), 0);
    make_file("r/a-rather-long-name", "");
    __wasi_fd_t dir;
    ERRNO_IS(open_at(DIR, 0, "r", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, 0, &dir), 0);
    /* find the entry's cookie, then read it with buffers too small for it:
     * the buffer is filled (header first, then as much of the name as fits) */
    uint8_t buf[256];
    __wasi_size_t used = readdir_at(dir, 0, buf, sizeof buf);
    size_t at = 0;
    __wasi_dircookie_t cookie = 0;
    while (at + sizeof (__wasi_dirent_t) <= used) {
        __wasi_dirent_t d;
        memcpy(&d, buf + at, sizeof d);
        if (d.d_namlen == 18 && memcmp(buf + at + sizeof d, "a-rather-long-name", 18) == 0) {
            CHECK(d.d_type == __WASI_FILETYPE_REGULAR_FILE);
            break;
        }
        cookie = d.d_next;
        at += sizeof d + d.d_namlen;
    }
    CHECK(at < used);
    memset(buf, 0, sizeof buf);
    CHECK(readdir_at(dir, cookie, buf, 30) == 30);
    __wasi_dirent_t d;
    memcpy(&d, buf, sizeof d);
    CHECK(d.d_namlen == 18 && memcmp(buf + sizeof d, "a-rath", 6) == 0);
    CHECK(readdir_at(dir, cookie, buf, 10) == 10);
    CHECK(readdir_at(dir, cookie, buf, 0) == 0);
    /* read on from the cut entry's cookie: it comes whole */
    CHECK(readdir_at(dir, cookie, buf, sizeof buf) >= sizeof d + 18);
    memcpy(&d, buf, sizeof d);
    CHECK(d.d_namlen == 18 && memcmp(buf + sizeof d, "a-rather-long-name", 18) == 0);
    /* past the end: nothing */
    CHECK(readdir_at(dir, 1000, buf, sizeof buf) == 0);
    /* after a rename, a fresh read shows the new name only */
    CHECK(listed(dir, "a-rather-long-name"));
    ERRNO_IS(__wasi_path_rename(DIR, "r/a-rather-long-name", DIR, "r/b"), 0);
    CHECK(listed(dir, "b") && !listed(dir, "a-rather-long-name"));
    ERRNO_IS(__wasi_fd_close(dir), 0);
    ERRNO_IS(__wasi_path_unlink_file(DIR, "r/b"), 0);
    ERRNO_IS(__wasi_path_remove_directory(DIR, "r"), 0);
}

static void the_rest(void)
{
    /* readlink cuts at the buffer */
    ERRNO_IS(__wasi_path_symlink("abcdef", DIR, "l"), 0);
    char buf[8] = "";
    __wasi_size_t n;
    ERRNO_IS(__wasi_path_readlink(DIR, "l", (uint8_t *)buf, 3, &n), 0);
    CHECK(n == 3 && memcmp(buf, "abc", 3) == 0);
    ERRNO_IS(__wasi_path_readlink(DIR, "l", (uint8_t *)buf, 0, &n), 0);
    CHECK(n == 0);
    ERRNO_IS(__wasi_path_readlink(DIR, "f", (uint8_t *)buf, sizeof buf, &n), __WASI_ERRNO_INVAL);
    ERRNO_IS(__wasi_path_unlink_file(DIR, "l"), 0);
    /* renumber onto a number that is not open: EBADF, and nothing moves */
    __wasi_fd_t fd;
    ERRNO_IS(open_at(DIR, 0, "f", 0, __WASI_RIGHTS_FD_READ, 0, &fd), 0);
    ERRNO_IS(__wasi_fd_renumber(fd, 40), __WASI_ERRNO_BADF);
    __wasi_fdstat_t fs;
    ERRNO_IS(__wasi_fd_fdstat_get(fd, &fs), 0);
    ERRNO_IS(__wasi_fd_fdstat_get(40, &fs), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_renumber(40, fd), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_renumber(fd, fd), 0);
    ERRNO_IS(__wasi_fd_close(fd), 0);
    /* random_get of nothing, clocks by id */
    ERRNO_IS(__wasi_random_get((uint8_t *)buf, 0), 0);
    __wasi_timestamp_t t;
    ERRNO_IS(__wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &t), 0);
    CHECK(t > 0);
    ERRNO_IS(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 0, &t), 0);
    ERRNO_IS(__wasi_clock_res_get(4, &t), __WASI_ERRNO_INVAL);
    ERRNO_IS(__wasi_clock_time_get(4, 0, &t), __WASI_ERRNO_INVAL);
    /* the preopen's name does not fit a short buffer */
    __wasi_prestat_t ps;
    ERRNO_IS(__wasi_fd_prestat_get(DIR, &ps), 0);
    ERRNO_IS(__wasi_fd_prestat_dir_name(DIR, (uint8_t *)buf, ps.u.dir.pr_name_len - 1),
             __WASI_ERRNO_NAMETOOLONG);

    /* clean up, then close the preopen itself: it is gone for the guest */
    ERRNO_IS(__wasi_path_unlink_file(DIR, "f"), 0);
    ERRNO_IS(__wasi_path_remove_directory(DIR, "d"), 0);
    ERRNO_IS(__wasi_fd_close(DIR), 0);
    ERRNO_IS(__wasi_fd_fdstat_get(DIR, &fs), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_prestat_get(DIR, &ps), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_close(DIR), __WASI_ERRNO_BADF);
}

int main(void)
{
    trailing_slashes();
    opening();
    not_utf8();
    wrong_kind();
    append_sizes_and_times();
    polling();
    reading_dirs();
    the_rest();
    printf("edges ok\n");
    return 0;
}
