/*
 * efault.c - guest pointers that do not fit in memory are EFAULT, and
 * nothing is done: each raw import below gets one range that runs off the
 * end of memory (or wraps around 2^32), and must answer EFAULT rather than
 * crash lvm or write anywhere.  Run with one --dir (descriptor 3).
 */
#include <fcntl.h>
#include <unistd.h>

#include "check.h"

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

IMPORT(args_get) int w_args_get(int, int);
IMPORT(environ_sizes_get) int w_environ_sizes_get(int, int);
IMPORT(clock_res_get) int w_clock_res_get(int, int);
IMPORT(random_get) int w_random_get(int, int);
IMPORT(fd_read) int w_fd_read(int, int, int, int);
IMPORT(fd_pwrite) int w_fd_pwrite(int, int, int, long long, int);
IMPORT(fd_readdir) int w_fd_readdir(int, int, int, long long, int);
IMPORT(fd_filestat_get) int w_fd_filestat_get(int, int);
IMPORT(fd_prestat_dir_name) int w_fd_prestat_dir_name(int, int, int);
IMPORT(fd_tell) int w_fd_tell(int, int);
IMPORT(path_filestat_get) int w_path_filestat_get(int, int, int, int, int);
IMPORT(path_create_directory) int w_path_create_directory(int, int, int);
IMPORT(path_readlink) int w_path_readlink(int, int, int, int, int, int);
IMPORT(path_symlink) int w_path_symlink(int, int, int, int, int);
IMPORT(poll_oneoff) int w_poll_oneoff(int, int, int, int);
IMPORT(sock_recv) int w_sock_recv(int, int, int, int, int, int);

#define END 0xfffffff0      /* near the top of the 32-bit space */

static char ok[64];         /* a valid scratch area */
static char name[] = "x";

int main(void)
{
    int p = (int)(size_t)ok, n = (int)(size_t)name;
    int file = open("f", O_CREAT | O_RDWR, 0644);
    CHECK(file >= 0);
    ERRNO_IS(w_args_get(END, p), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_environ_sizes_get(p, -1), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_clock_res_get(1, END), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_random_get(p, -1), __WASI_ERRNO_FAULT);           /* length wraps */
    ERRNO_IS(w_fd_read(0, END, 1, p), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_fd_read(0, p, 0x20000000, p), __WASI_ERRNO_FAULT);  /* 8 * count */
    ERRNO_IS(w_fd_pwrite(file, END, 1, 0, p), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_fd_readdir(3, p, -1, 0, p), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_fd_filestat_get(3, END), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_fd_prestat_dir_name(3, END, 100), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_fd_tell(3, -4), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_path_filestat_get(3, 0, n, 1, END), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_path_create_directory(3, END, 100), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_path_readlink(3, n, 1, END, 100, p), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_path_symlink(END, 100, 3, n, 1), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_poll_oneoff(END, p, 1, p), __WASI_ERRNO_FAULT);
    ERRNO_IS(w_poll_oneoff(p, p, 0x10000000, p), __WASI_ERRNO_INVAL);  /* too many */
    /* not a socket: ENOTSOCK comes before the memory is looked at, as in
     * wasmtime (sock.c checks EFAULT on a real connection) */
    ERRNO_IS(w_sock_recv(0, END, 1, 0, p, p), __WASI_ERRNO_NOTSOCK);
    CHECK(unlink("f") == 0);
    printf("efault ok\n");
    return 0;
}
