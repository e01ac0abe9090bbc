/*
 * sandbox.c - every way out of a preopened directory that we could think
 * of, each checked for its exact WASI errno through the raw
 * wasi_snapshot_preview1 calls (wasi-libc would turn some into other
 * errors before lvm saw them).
 *
 * Run as `lvm run --dir SCRATCH/box::. sandbox.wasm` with the layout the
 * harness (tests/wasi/test_sandbox.c) makes:
 *   SCRATCH/outside/secret.txt   what must stay out of reach
 *   box/file.txt ("inside")      box/sub/
 *   box/out_abs -> SCRATCH/outside/secret.txt (absolute)
 *   box/out_rel -> ../outside/secret.txt
 *   box/sub/up -> ../..          box/loop1 <-> box/loop2, box/self -> self
 *   box/ok -> sub/../file.txt    (climbs, but stays inside: allowed)
 */
#include "check.h"

#define DIR 3   /* the preopen */
#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW
#define RIGHTS_ALL ((__wasi_rights_t)((1ull << 30) - 1))

/* path_open with the raw import, so that the path reaches lvm as is. */
static __wasi_errno_t open_at(__wasi_fd_t dir, __wasi_lookupflags_t lf, const char *path,
                              __wasi_oflags_t of, __wasi_rights_t base, __wasi_fd_t *fd)
{
    return __wasi_path_open(dir, lf, path, of, base, RIGHTS_ALL, 0, fd);
}

static __wasi_errno_t open_ro(const char *path, __wasi_lookupflags_t lf)
{
    __wasi_fd_t fd;
    __wasi_errno_t e = open_at(DIR, lf, path, 0, __WASI_RIGHTS_FD_READ, &fd);
    if (e == 0)
        (void)!__wasi_fd_close(fd);
    return e;
}

/* The import itself, to pass pointers wasi-libc would never pass. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")))
int raw_path_open(int fd, int dirflags, int path, int path_len, int oflags, long long base,
                  long long inheriting, int fdflags, int fd_out);

static void escapes(void)
{
    /* `..` above the preopen, directly or after going down */
    ERRNO_IS(open_ro("..", 0), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(open_ro("../outside/secret.txt", 0), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(open_ro("sub/../../outside/secret.txt", 0), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(open_ro("sub/../sub/../..", 0), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(open_ro("./sub/./../file.txt", 0), 0);    /* stays inside */
    /* absolute paths */
    ERRNO_IS(open_ro("/etc/passwd", 0), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(open_ro("//etc/passwd", FOLLOW), __WASI_ERRNO_NOTCAPABLE);
    /* symlinks out: absolute, relative, and a directory link on the way */
    ERRNO_IS(open_ro("out_abs", FOLLOW), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(open_ro("out_rel", FOLLOW), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(open_ro("sub/up/outside/secret.txt", 0), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(open_ro("sub/up", FOLLOW), __WASI_ERRNO_NOTCAPABLE);
    /* not following: opening the link itself is ELOOP, as O_NOFOLLOW */
    ERRNO_IS(open_ro("out_abs", 0), __WASI_ERRNO_LOOP);
    /* a link that climbs and comes back is fine */
    ERRNO_IS(open_ro("ok", FOLLOW), 0);
    /* loops */
    ERRNO_IS(open_ro("loop1", FOLLOW), __WASI_ERRNO_LOOP);
    ERRNO_IS(open_ro("self", FOLLOW), __WASI_ERRNO_LOOP);
    ERRNO_IS(open_ro("loop1/x", 0), __WASI_ERRNO_LOOP);
    /* through a file */
    ERRNO_IS(open_ro("file.txt/x", 0), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(open_ro("file.txt/..", 0), __WASI_ERRNO_NOTDIR);
    ERRNO_IS(open_ro("", 0), __WASI_ERRNO_NOENT);

    /* stat: following out is refused, the link itself can be looked at */
    __wasi_filestat_t st;
    ERRNO_IS(__wasi_path_filestat_get(DIR, FOLLOW, "out_rel", &st), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_filestat_get(DIR, 0, "out_rel", &st), 0);
    CHECK(st.filetype == __WASI_FILETYPE_SYMBOLIC_LINK);
    ERRNO_IS(__wasi_path_filestat_get(DIR, 0, "../outside", &st), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_filestat_set_times(DIR, FOLLOW, "out_abs", 0, 0,
                                            __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_NOTCAPABLE);
    /* reading a link's text is allowed, whatever it says */
    char buf[256];
    __wasi_size_t n;
    ERRNO_IS(__wasi_path_readlink(DIR, "out_rel", (uint8_t *)buf, sizeof buf, &n), 0);
    CHECK(n == 21 && memcmp(buf, "../outside/secret.txt", 21) == 0);
    ERRNO_IS(__wasi_path_readlink(DIR, "../outside", (uint8_t *)buf, sizeof buf, &n),
             __WASI_ERRNO_NOTCAPABLE);

    /* moving things out, or in from outside */
    ERRNO_IS(__wasi_path_rename(DIR, "file.txt", DIR, "../stolen.txt"), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_rename(DIR, "../outside/secret.txt", DIR, "got.txt"), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_rename(DIR, "file.txt", DIR, "sub/up/stolen.txt"), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_link(DIR, 0, "file.txt", DIR, "../hard.txt"), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_link(DIR, 0, "../outside/secret.txt", DIR, "hard.txt"), __WASI_ERRNO_NOTCAPABLE);
    /* path_link never follows a symlink (wasmtime's rule): asking is EINVAL */
    ERRNO_IS(__wasi_path_link(DIR, FOLLOW, "out_rel", DIR, "hard.txt"), __WASI_ERRNO_INVAL);
    ERRNO_IS(__wasi_path_symlink("/etc/passwd", DIR, "abs_link"), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_symlink("file.txt", DIR, "../link"), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_create_directory(DIR, "../newdir"), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_create_directory(DIR, "sub/up/newdir"), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_unlink_file(DIR, "../outside/secret.txt"), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_unlink_file(DIR, "sub/up/outside/secret.txt"), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_remove_directory(DIR, ".."), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_remove_directory(DIR, "../outside"), __WASI_ERRNO_NOTCAPABLE);
    /* a symlink pointing out may be created (its text is not followed)...
     * but never followed */
    ERRNO_IS(__wasi_path_symlink("../outside", DIR, "made_rel"), 0);
    ERRNO_IS(open_ro("made_rel/secret.txt", 0), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_path_unlink_file(DIR, "made_rel"), 0);
    /* and a bad pointer is EFAULT, not a crash */
    ERRNO_IS(raw_path_open(DIR, 0, (int)0xfffffff0, 100, 0, 0, 0, 0, 0), __WASI_ERRNO_FAULT);
}

static void rights(void)
{
    /* a read-only descriptor: no write, no seek once dropped, no regaining */
    __wasi_fd_t fd;
    ERRNO_IS(open_at(DIR, 0, "file.txt", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK, &fd), 0);
    __wasi_ciovec_t iov = { (const uint8_t *)"x", 1 };
    __wasi_size_t n;
    ERRNO_IS(__wasi_fd_write(fd, &iov, 1, &n), __WASI_ERRNO_BADF);
    __wasi_filesize_t pos;
    ERRNO_IS(__wasi_fd_seek(fd, 1, __WASI_WHENCE_SET, &pos), 0);
    ERRNO_IS(__wasi_fd_fdstat_set_rights(fd, __WASI_RIGHTS_FD_READ, 0), 0);
    ERRNO_IS(__wasi_fd_seek(fd, 1, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_fd_fdstat_set_rights(fd, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK, 0),
             __WASI_ERRNO_NOTCAPABLE);
    __wasi_fdstat_t fs;
    ERRNO_IS(__wasi_fd_fdstat_get(fd, &fs), 0);
    CHECK(fs.fs_rights_base == __WASI_RIGHTS_FD_READ && fs.fs_filetype == __WASI_FILETYPE_REGULAR_FILE);
    ERRNO_IS(__wasi_fd_close(fd), 0);

    /* a directory without PATH_OPEN opens nothing; one whose inheriting
     * rights lack FD_WRITE hands out no writable file */
    __wasi_fd_t sub;
    ERRNO_IS(__wasi_path_open(DIR, 0, "sub", __WASI_OFLAGS_DIRECTORY,
                              __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_OPEN,
                              __WASI_RIGHTS_FD_READ, 0, &sub), 0);
    ERRNO_IS(open_at(sub, 0, "new.txt", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_READ, &fd),
             __WASI_ERRNO_NOTCAPABLE);      /* no PATH_CREATE_FILE */
    ERRNO_IS(__wasi_path_open(sub, 0, "..", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd),
             __WASI_ERRNO_NOTCAPABLE);      /* sub is a sandbox of its own */
    ERRNO_IS(__wasi_fd_fdstat_set_rights(sub, __WASI_RIGHTS_FD_READDIR, 0), 0);
    ERRNO_IS(__wasi_path_open(sub, 0, ".", 0, 0, 0, 0, &fd), __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_fd_close(sub), 0);
    ERRNO_IS(__wasi_path_open(DIR, 0, "sub", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_PATH_OPEN,
                              __WASI_RIGHTS_FD_READ, 0, &sub), 0);
    ERRNO_IS(__wasi_path_open(sub, 0, "x", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd),
             __WASI_ERRNO_NOTCAPABLE);
    ERRNO_IS(__wasi_fd_close(sub), 0);

    /* the preopen describes itself; nothing else is a preopen */
    __wasi_prestat_t ps;
    ERRNO_IS(__wasi_fd_prestat_get(DIR, &ps), 0);
    CHECK(ps.tag == __WASI_PREOPENTYPE_DIR && ps.u.dir.pr_name_len == 1);
    char name[4];
    ERRNO_IS(__wasi_fd_prestat_dir_name(DIR, (uint8_t *)name, 0), __WASI_ERRNO_NAMETOOLONG);
    ERRNO_IS(__wasi_fd_prestat_dir_name(DIR, (uint8_t *)name, sizeof name), 0);
    CHECK(name[0] == '.');
    ERRNO_IS(__wasi_fd_prestat_get(0, &ps), __WASI_ERRNO_BADF);
    ERRNO_IS(__wasi_fd_prestat_get(DIR + 1, &ps), __WASI_ERRNO_BADF);
}

int main(void)
{
    escapes();
    rights();
    printf("sandbox ok\n");
    return 0;
}
