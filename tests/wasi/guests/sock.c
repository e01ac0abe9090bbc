/*
 * sock.c - the socket functions on a --tcplisten socket (descriptor 3 when
 * there is no --dir).  Says "ready" once it has seen that nobody is
 * connected yet, then accepts one connection (parking until the harness
 * connects), receives until the peer shuts its side down, sends the bytes
 * back reversed, shuts down its own side and closes.
 */
#include "check.h"

#define LISTENER 3

/* The import itself, to pass a pointer wasi-libc would never pass. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_recv")))
int raw_sock_recv(int fd, int iovs, int iovs_len, int flags, int len_out, int flags_out);

int main(void)
{
    __wasi_fdstat_t st;
    ERRNO_IS(__wasi_fd_fdstat_get(LISTENER, &st), 0);
    CHECK(st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM);
    __wasi_prestat_t ps;
    ERRNO_IS(__wasi_fd_prestat_get(LISTENER, &ps), __WASI_ERRNO_BADF);  /* not a dir */
    /* a non-blocking listener says EAGAIN before anyone connects (the
     * flags argument of sock_accept is for the new descriptor) */
    __wasi_fd_t conn;
    ERRNO_IS(__wasi_fd_fdstat_set_flags(LISTENER, __WASI_FDFLAGS_NONBLOCK), 0);
    ERRNO_IS(__wasi_sock_accept(LISTENER, 0, &conn), __WASI_ERRNO_AGAIN);
    ERRNO_IS(__wasi_fd_fdstat_set_flags(LISTENER, 0), 0);
    /* tell the harness it may connect now */
    printf("ready\n");
    fflush(stdout);
    /* blocking accept: the process parks until the harness connects */
    ERRNO_IS(__wasi_sock_accept(LISTENER, 0, &conn), 0);
    ERRNO_IS(__wasi_sock_accept(1, 0, &conn), __WASI_ERRNO_NOTSOCK);      /* stdout */
    ERRNO_IS(__wasi_sock_shutdown(1, __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK);

    char buf[256];
    size_t len = 0;
    int p = (int)(size_t)buf;
    ERRNO_IS(raw_sock_recv(conn, (int)0xfffffff0, 1, 0, p, p), __WASI_ERRNO_FAULT);
    for (;;) {
        __wasi_iovec_t iov = { (uint8_t *)buf + len, sizeof buf - len };
        __wasi_size_t n;
        __wasi_roflags_t fl;
        ERRNO_IS(__wasi_sock_recv(conn, &iov, 1, 0, &n, &fl), 0);
        if (n == 0)
            break;
        len += n;
    }
    for (size_t i = 0; i < len / 2; i++) {
        char c = buf[i];
        buf[i] = buf[len - 1 - i];
        buf[len - 1 - i] = c;
    }
    __wasi_ciovec_t out = { (const uint8_t *)buf, len };
    __wasi_size_t sent;
    ERRNO_IS(__wasi_sock_send(conn, &out, 1, 0, &sent), 0);
    CHECK(sent == len);
    ERRNO_IS(__wasi_sock_shutdown(conn, __WASI_SDFLAGS_WR), 0);
    ERRNO_IS(__wasi_sock_shutdown(conn, 9), __WASI_ERRNO_INVAL);
    ERRNO_IS(__wasi_fd_close(conn), 0);
    printf("sock ok\n");
    return 0;
}
