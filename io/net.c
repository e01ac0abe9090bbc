/*
 * net.c - non-blocking TCP sockets: listen, connect, accept.
 *
 * These are the only socket calls that differ from plain read()/write():
 * creating the descriptor with the right flags, and the two-step
 * non-blocking connect.  The wasi/ layer (lunatic::networking) calls them
 * and parks the process with io_wait_fd whenever one returns -EAGAIN or a
 * connect is in progress; nothing here ever blocks.  Contracts are in
 * io.h.  Any-thread: no state besides the descriptors passed in.
 *
 * Flags are set atomically at creation (SOCK_NONBLOCK | SOCK_CLOEXEC on
 * socket() and accept4()) where the OS has them - Linux and the BSDs.
 * macOS lacks both, so there the flags are set by fcntl right after, and a
 * fork+exec on another thread in between could leak the descriptor into a
 * child.  That window is the reason to prefer the atomic form.
 *
 * Only numeric addresses are parsed (inet_pton), never names: getaddrinfo
 * may block for seconds on DNS, which would stall a worker and every
 * process queued on it.
 */
#define _GNU_SOURCE  /* accept4 in glibc */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"

/* The one platform split: do socket() and accept4() take the flags? */
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
#define ATOMIC_FLAGS 1
#define SOCK_FLAGS (SOCK_NONBLOCK | SOCK_CLOEXEC)
#else
#define ATOMIC_FLAGS 0
#define SOCK_FLAGS 0
#endif

int io_set_nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -errno;
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl < 0)
        return -errno;
    if (!(fdfl & FD_CLOEXEC) && fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

/* Settings every socket from this file gets after creation. */
static int finish_socket(int fd)
{
    if (!ATOMIC_FLAGS) {
        int e = io_set_nonblock_cloexec(fd);
        if (e < 0)
            return e;
    }
#ifdef SO_NOSIGPIPE
    /* macOS and FreeBSD: write() to a dead peer returns EPIPE instead of
     * raising SIGPIPE, even if the process has not ignored the signal. */
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) < 0)
        return -errno;
#endif
    (void)fd;
    return 0;
}

static int new_tcp_socket(int family)
{
    int fd = socket(family, SOCK_STREAM | SOCK_FLAGS, 0);
    if (fd < 0)
        return -errno;
    int e = finish_socket(fd);
    if (e < 0) {
        close(fd);
        return e;
    }
    return fd;
}

/* Parse a numeric IPv4 or IPv6 literal ("::1" or "[::1]") and a port into
 * *ss.  Returns the address length, or -EINVAL. */
static int parse_addr(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
    if (host == NULL)
        return -EINVAL;
    memset(ss, 0, sizeof *ss);

    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        return (int)sizeof *in4;
    }

    char buf[INET6_ADDRSTRLEN];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        if (n - 2 >= sizeof buf)
            return -EINVAL;
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        host = buf;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        return (int)sizeof *in6;
    }
    return -EINVAL;
}

int io_tcp_listen_addr(const struct sockaddr *sa, socklen_t len, int backlog)
{
    int fd = new_tcp_socket(sa->sa_family);
    if (fd < 0)
        return fd;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, sa, len) < 0 || listen(fd, backlog) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int io_tcp_listen(const char *host, uint16_t port, int backlog)
{
    struct sockaddr_storage ss;
    int len = parse_addr(host, port, &ss);
    if (len < 0)
        return len;
    return io_tcp_listen_addr((struct sockaddr *)&ss, (socklen_t)len, backlog);
}

int io_tcp_connect_addr(const struct sockaddr *sa, socklen_t len)
{
    int fd = new_tcp_socket(sa->sa_family);
    if (fd < 0)
        return fd;
    /* 0: connected already (possible on loopback).  EINPROGRESS: the
     * handshake goes on in the kernel; writability will say when it is
     * over.  EINTR: the same, per POSIX connect(). */
    if (connect(fd, sa, len) == 0 || errno == EINPROGRESS || errno == EINTR)
        return fd;
    int e = -errno;
    close(fd);
    return e;
}

int io_tcp_connect(const char *host, uint16_t port)
{
    struct sockaddr_storage ss;
    int len = parse_addr(host, port, &ss);
    if (len < 0)
        return len;
    return io_tcp_connect_addr((struct sockaddr *)&ss, (socklen_t)len);
}

int io_tcp_connect_result(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return -errno;
    return -err;
}

int io_accept(int listen_fd, struct sockaddr_storage *peer_out)
{
    struct sockaddr_storage unused;
    struct sockaddr_storage *peer = peer_out ? peer_out : &unused;
    socklen_t len = sizeof *peer;
#if ATOMIC_FLAGS
    int fd = accept4(listen_fd, (struct sockaddr *)peer, &len, SOCK_FLAGS);
#else
    int fd = accept(listen_fd, (struct sockaddr *)peer, &len);
#endif
    if (fd < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    int e = finish_socket(fd);
    if (e < 0) {
        close(fd);
        return e;
    }
    return fd;
}

int io_tcp_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -EAFNOSUPPORT;
}
