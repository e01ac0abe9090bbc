/*
 * poll.c - poll_oneoff and reading stdin.  Run with stdin a pipe that the
 * harness writes "ping\n" into after about 500 ms, then closes:
 *   1. poll on a 50 ms clock alone returns after >= 50 ms;
 *   2. poll on stdin with a 20 ms timeout times out (nothing written yet),
 *      with only the clock event;
 *   3. poll on stdin with no timeout wakes when the data comes;
 *   4. read() gets it; the next read() blocks until the pipe is closed and
 *      returns 0.
 * Meanwhile the process is parked, never spinning (lvm's other processes
 * would run).
 */
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(void)
{
    /* 0: with NONBLOCK, reading the empty pipe says EAGAIN at once (lvm
     * keeps the flag itself: the host's stdin is left blocking) */
    char buf[16];
    CHECK(fcntl(0, F_SETFL, O_NONBLOCK) == 0);
    CHECK(read(0, buf, sizeof buf) == -1 && errno == EAGAIN);
    CHECK(fcntl(0, F_SETFL, 0) == 0);

    /* 1: a clock alone (wasi-libc's nanosleep is poll_oneoff) */
    long long t0 = now_ms();
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    CHECK(nanosleep(&ts, NULL) == 0);
    CHECK(now_ms() - t0 >= 50);

    /* 2: stdin and a short timeout: the clock fires, stdin does not */
    __wasi_subscription_t subs[2] = { 0 };
    subs[0].userdata = 11;
    subs[0].u.tag = __WASI_EVENTTYPE_FD_READ;
    subs[0].u.u.fd_read.file_descriptor = 0;
    subs[1].userdata = 22;
    subs[1].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[1].u.u.clock.timeout = 20 * 1000 * 1000;
    __wasi_event_t ev[2];
    __wasi_size_t n;
    t0 = now_ms();
    ERRNO_IS(__wasi_poll_oneoff(subs, ev, 2, &n), 0);
    CHECK(n == 1 && ev[0].userdata == 22 && ev[0].type == __WASI_EVENTTYPE_CLOCK && ev[0].error == 0);
    CHECK(now_ms() - t0 >= 20);

    /* an absolute deadline already passed fires at once */
    subs[1].u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    subs[1].u.u.clock.timeout = 1;
    ERRNO_IS(__wasi_poll_oneoff(&subs[1], ev, 1, &n), 0);
    CHECK(n == 1 && ev[0].userdata == 22);
    /* no subscriptions is EINVAL; a bad fd fails the whole call, as in
     * wasmtime */
    ERRNO_IS(__wasi_poll_oneoff(subs, ev, 0, &n), __WASI_ERRNO_INVAL);
    subs[0].u.u.fd_read.file_descriptor = 77;
    ERRNO_IS(__wasi_poll_oneoff(subs, ev, 1, &n), __WASI_ERRNO_BADF);
    subs[0].u.u.fd_read.file_descriptor = 0;

    /* 3: stdin alone, through libc's poll(): wakes when data arrives */
    struct pollfd p = { .fd = 0, .events = POLLIN };
    CHECK(poll(&p, 1, -1) == 1 && (p.revents & POLLIN));
    CHECK(now_ms() - t0 >= 20);

    /* 4: the data, then end of file when the writer closes */
    CHECK(read(0, buf, sizeof buf) == 5 && memcmp(buf, "ping\n", 5) == 0);
    CHECK(read(0, buf, sizeof buf) == 0);
    printf("poll ok\n");
    return 0;
}
