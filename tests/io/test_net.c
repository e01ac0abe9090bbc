/*
 * test_net.c - the non-blocking TCP helpers (io/net.c) driven through the
 * reactor the way the scheduler will drive them: every EAGAIN or
 * in-progress connect is followed by io_wait_fd and io_poll.
 *
 * Everything runs on loopback with port 0 (an ephemeral port chosen by
 * the kernel), so tests can run in parallel and never collide.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"

#define SEC 1000000000LL

static io_reactor *r;
static int tok;  /* the only waiter in these tests */

static void setup(void)
{
    cr_assert_eq(io_reactor_new(&r), 0);
}

static void teardown(void)
{
    io_reactor_free(r);
}

TestSuite(io_net, .init = setup, .fini = teardown, .timeout = 10);

/* Park on `fd` until it is ready for `dir`; return the readiness. */
static unsigned await(int fd, unsigned dir)
{
    io_event ev;
    cr_assert_eq(io_wait_fd(r, fd, dir, &tok), 0);
    int n;
    while ((n = io_poll(r, &ev, 1, 5 * SEC)) == 0)
        ;
    cr_assert_eq(n, 1, "io_poll: %d", n);
    cr_assert_eq(ev.token, &tok);
    return ev.ready;
}

static void expect_nonblock_cloexec(int fd)
{
    cr_expect(fcntl(fd, F_GETFL) & O_NONBLOCK, "fd %d is blocking", fd);
    cr_expect(fcntl(fd, F_GETFD) & FD_CLOEXEC, "fd %d is inherited by exec", fd);
}

/* Listen on `host` port 0, connect, accept, and echo one message. */
static void echo_over(const char *host)
{
    int lfd = io_tcp_listen(host, 0, 16);
    cr_assert_geq(lfd, 0, "listen %s: %s", host, strerror(-lfd));
    expect_nonblock_cloexec(lfd);
    int port = io_tcp_local_port(lfd);
    cr_assert_gt(port, 0);

    int cfd = io_tcp_connect(host, (uint16_t)port);
    cr_assert_geq(cfd, 0, "connect: %s", strerror(-cfd));
    expect_nonblock_cloexec(cfd);
    cr_assert(await(cfd, IO_WRITE) & IO_WRITE);
    cr_assert_eq(io_tcp_connect_result(cfd), 0);

    struct sockaddr_storage peer;
    int afd;
    while ((afd = io_accept(lfd, &peer)) == -EAGAIN)
        await(lfd, IO_READ);
    cr_assert_geq(afd, 0, "accept: %s", strerror(-afd));
    expect_nonblock_cloexec(afd);
    cr_expect_eq(peer.ss_family, strchr(host, ':') ? AF_INET6 : AF_INET);

    cr_assert_eq(write(cfd, "ping", 4), 4);
    char buf[8];
    ssize_t n;
    while ((n = read(afd, buf, sizeof buf)) < 0 && errno == EAGAIN)
        await(afd, IO_READ);
    cr_assert_eq(n, 4);
    cr_assert_eq(write(afd, buf, 4), 4);
    while ((n = read(cfd, buf, sizeof buf)) < 0 && errno == EAGAIN)
        await(cfd, IO_READ);
    cr_assert_eq(n, 4);
    cr_expect(memcmp(buf, "ping", 4) == 0);

    /* The client hangs up: the server's next wait reports it, and the
     * retried read returns end-of-file. */
    close(cfd);
    cr_expect(await(afd, IO_READ) & IO_READ);
    cr_expect_eq(read(afd, buf, sizeof buf), 0);

    close(afd);
    close(lfd);
}

Test(io_net, echo_over_ipv4_loopback)
{
    echo_over("127.0.0.1");
}

Test(io_net, echo_over_ipv6_loopback)
{
    int probe = io_tcp_listen("::1", 0, 1);
    if (probe == -EAFNOSUPPORT || probe == -EADDRNOTAVAIL)
        cr_skip_test("no IPv6 loopback here");
    close(probe);
    echo_over("::1");
}

Test(io_net, bracketed_ipv6_literal_is_accepted)
{
    int fd = io_tcp_listen("[::1]", 0, 1);
    if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL)
        cr_skip_test("no IPv6 loopback here");
    cr_expect_geq(fd, 0, "%s", strerror(-fd));
    close(fd);
}

Test(io_net, accept_with_nothing_pending_is_eagain)
{
    int lfd = io_tcp_listen("127.0.0.1", 0, 16);
    cr_assert_geq(lfd, 0);
    cr_expect_eq(io_accept(lfd, NULL), -EAGAIN);
    close(lfd);
}

Test(io_net, connect_to_a_closed_port_reports_the_error)
{
    /* A port that was free a moment ago: bind it, note it, close it. */
    int lfd = io_tcp_listen("127.0.0.1", 0, 1);
    cr_assert_geq(lfd, 0);
    int port = io_tcp_local_port(lfd);
    close(lfd);

    int cfd = io_tcp_connect("127.0.0.1", (uint16_t)port);
    if (cfd == -ECONNREFUSED)
        return;  /* refused at once: allowed by the contract */
    cr_assert_geq(cfd, 0, "%s", strerror(-cfd));
    unsigned ready = await(cfd, IO_WRITE);
    cr_expect(ready & IO_WRITE, "an error is reported as writable, ready = %#x", ready);
    cr_expect_eq(io_tcp_connect_result(cfd), -ECONNREFUSED);
    close(cfd);
}

Test(io_net, listen_on_an_address_this_machine_lacks)
{
    /* 203.0.113.0/24 is TEST-NET-3 (RFC 5737): documentation only, so no
     * interface should carry it.  (Some test networks use TEST-NET-1,
     * 192.0.2.0/24, for real interfaces, so it is avoided here.) */
    cr_expect_eq(io_tcp_listen("203.0.113.77", 0, 16), -EADDRNOTAVAIL);
}

Test(io_net, names_are_not_resolved)
{
    cr_expect_eq(io_tcp_listen("localhost", 0, 16), -EINVAL);
    cr_expect_eq(io_tcp_connect("example.org", 80), -EINVAL);
    cr_expect_eq(io_tcp_listen(NULL, 0, 16), -EINVAL);
    cr_expect_eq(io_tcp_listen("[127.0.0.1]", 0, 16), -EINVAL);
    cr_expect_eq(io_tcp_listen("[::1", 0, 16), -EINVAL);
}

Test(io_net, bad_fds_are_errors)
{
    cr_expect_eq(io_set_nonblock_cloexec(-1), -EBADF);
    cr_expect_eq(io_accept(-1, NULL), -EBADF);
    cr_expect_eq(io_tcp_connect_result(-1), -EBADF);
    cr_expect_eq(io_tcp_local_port(-1), -EBADF);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_expect_eq(io_accept(p[0], NULL), -ENOTSOCK);
    cr_expect_eq(io_set_nonblock_cloexec(p[0]), 0);
    expect_nonblock_cloexec(p[0]);
    close(p[0]);
    close(p[1]);
}
