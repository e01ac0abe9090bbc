/*
 * test_reactor.c - the reactor's contract (io/io.h): one-shot readiness
 * with tokens, errors and hang-ups reported as readiness, cancellation,
 * io_wake from another thread, timeouts, and bad arguments.
 *
 * Socket pairs stand in for network sockets: same readiness rules, no
 * ports.  Timing assertions are one-sided or generous on purpose (the
 * machines running these are shared and noisy): "did not return before
 * the timeout", "returned well within the test's own timeout".
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

#define MS 1000000LL      /* nanoseconds per millisecond */
#define SEC 1000000000LL

static io_reactor *r;
static int sp[2];         /* a connected socket pair, non-blocking */
static int tok_a, tok_b;  /* tokens: any aligned, non-NULL address */

static void setup(void)
{
    cr_assert_eq(io_reactor_new(&r), 0);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    cr_assert_eq(io_set_nonblock_cloexec(sp[0]), 0);
    cr_assert_eq(io_set_nonblock_cloexec(sp[1]), 0);
}

static void teardown(void)
{
    close(sp[0]);
    close(sp[1]);
    io_reactor_free(r);
}

TestSuite(io_reactor, .init = setup, .fini = teardown, .timeout = 10);

/* Poll once with `timeout_ns`; expect at most one event. */
static int poll1(io_event *ev, int64_t timeout_ns)
{
    int n = io_poll(r, ev, 1, timeout_ns);
    cr_assert_geq(n, 0, "io_poll: %d", n);
    return n;
}

static void put_byte(int fd)
{
    cr_assert_eq(write(fd, "x", 1), 1);
}

Test(io_reactor, names_its_backend)
{
    const char *name = io_reactor_backend();
    cr_expect(strcmp(name, "epoll") == 0 || strcmp(name, "kqueue") == 0, "%s", name);
}

Test(io_reactor, read_ready_only_after_a_write)
{
    io_event ev;
    cr_assert_eq(io_wait_fd(r, sp[0], IO_READ, &tok_a), 0);
    cr_expect_eq(poll1(&ev, 0), 0, "nothing written yet");
    put_byte(sp[1]);
    cr_assert_eq(poll1(&ev, 5 * SEC), 1);
    cr_expect_eq(ev.token, &tok_a);
    cr_expect(ev.ready & IO_READ);
}

Test(io_reactor, one_shot_needs_rearming)
{
    io_event ev;
    put_byte(sp[1]);
    cr_assert_eq(io_wait_fd(r, sp[0], IO_READ, &tok_a), 0);
    cr_assert_eq(poll1(&ev, 5 * SEC), 1);
    /* The byte is still unread, so a level-triggered registration would
     * report it again; a one-shot one stays silent until re-armed. */
    cr_expect_eq(poll1(&ev, 0), 0);
    cr_expect_eq(poll1(&ev, 20 * MS), 0);
    cr_assert_eq(io_wait_fd(r, sp[0], IO_READ, &tok_b), 0);
    cr_assert_eq(poll1(&ev, 5 * SEC), 1);
    cr_expect_eq(ev.token, &tok_b, "re-arming replaces the token");
}

Test(io_reactor, write_ready_on_an_empty_buffer)
{
    io_event ev;
    cr_assert_eq(io_wait_fd(r, sp[0], IO_WRITE, &tok_a), 0);
    cr_assert_eq(poll1(&ev, 5 * SEC), 1);
    cr_expect_eq(ev.token, &tok_a);
    cr_expect(ev.ready & IO_WRITE);
    cr_expect_not(ev.ready & IO_READ);
}

Test(io_reactor, both_directions_deliver_one_event)
{
    io_event evs[4];
    put_byte(sp[1]);
    cr_assert_eq(io_wait_fd(r, sp[0], IO_READ | IO_WRITE, &tok_a), 0);
    cr_assert_eq(io_poll(r, evs, 4, 5 * SEC), 1);
    cr_expect_eq(evs[0].token, &tok_a);
    cr_expect(evs[0].ready & (IO_READ | IO_WRITE));
    cr_expect_eq(io_poll(r, evs, 4, 0), 0, "one arming, one event");
}

Test(io_reactor, hangup_is_reported_as_readable)
{
    io_event ev;
    cr_assert_eq(io_wait_fd(r, sp[0], IO_READ, &tok_a), 0);
    close(sp[1]);
    sp[1] = -1;
    cr_assert_eq(poll1(&ev, 5 * SEC), 1);
    cr_expect_eq(ev.token, &tok_a);
    cr_expect(ev.ready & IO_READ, "ready = %#x", ev.ready);
    char c;
    cr_expect_eq(read(sp[0], &c, 1), 0, "the retried read sees end-of-file");
}

Test(io_reactor, hangup_wakes_a_writer)
{
    io_event ev;
    /* Fill the send buffer so the writer has to wait, then hang up. */
    char buf[4096] = { 0 };
    while (write(sp[0], buf, sizeof buf) > 0)
        ;
    cr_assert_eq(errno, EAGAIN);
    cr_assert_eq(io_wait_fd(r, sp[0], IO_WRITE, &tok_a), 0);
    cr_expect_eq(poll1(&ev, 0), 0, "buffer full: not writable");
    close(sp[1]);
    sp[1] = -1;
    cr_assert_eq(poll1(&ev, 5 * SEC), 1);
    cr_expect(ev.ready & IO_WRITE, "ready = %#x", ev.ready);
}

Test(io_reactor, cancel_disarms)
{
    io_event ev;
    cr_assert_eq(io_wait_fd(r, sp[0], IO_READ, &tok_a), 0);
    cr_assert_eq(io_cancel_fd(r, sp[0]), 0);
    put_byte(sp[1]);
    cr_expect_eq(poll1(&ev, 20 * MS), 0);
    cr_expect_eq(io_cancel_fd(r, sp[0]), 0, "cancelling twice is fine");
    cr_expect_eq(io_cancel_fd(r, sp[1]), 0, "so is cancelling a never-armed fd");
}

Test(io_reactor, many_fds_each_token_once)
{
    enum { N = 200 };     /* more than IO_POLL_MAX: takes several polls */
    int pairs[N][2];
    int tokens[N];
    int seen[N] = { 0 };
    for (int i = 0; i < N; i++) {
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pairs[i]), 0);
        cr_assert_eq(io_wait_fd(r, pairs[i][0], IO_READ, &tokens[i]), 0);
        put_byte(pairs[i][1]);
    }
    io_event evs[IO_POLL_MAX + 10];
    int total = 0;
    while (total < N) {
        int n = io_poll(r, evs, IO_POLL_MAX + 10, 5 * SEC);
        cr_assert_gt(n, 0);
        cr_assert_leq(n, IO_POLL_MAX);
        for (int k = 0; k < n; k++) {
            long i = (int *)evs[k].token - tokens;
            cr_assert(i >= 0 && i < N, "foreign token");
            cr_assert_eq(seen[i]++, 0, "token %ld delivered twice", i);
        }
        total += n;
    }
    cr_expect_eq(io_poll(r, evs, IO_POLL_MAX, 0), 0);
    for (int i = 0; i < N; i++) {
        close(pairs[i][0]);
        close(pairs[i][1]);
    }
}

/* {====== Timeouts and io_wake */

static int64_t elapsed_ns(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * SEC + (t1.tv_nsec - t0->tv_nsec);
}

Test(io_reactor, poll_timeout_is_honoured)
{
    io_event ev;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(poll1(&ev, 100 * MS), 0);
    int64_t took = elapsed_ns(&t0);
    cr_expect_geq(took, 100 * MS, "returned early: %lld ns", (long long)took);
    cr_expect_lt(took, 5 * SEC, "took %lld ns", (long long)took);
}

Test(io_reactor, sub_millisecond_timeout_is_not_cut_to_zero)
{
    io_event ev;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(poll1(&ev, 300000), 0);  /* 0.3 ms */
    cr_expect_geq(elapsed_ns(&t0), 300000);
}

static void *wake_later(void *arg)
{
    struct timespec d = { 0, 50 * MS };
    nanosleep(&d, NULL);
    io_wake(arg);
    return NULL;
}

Test(io_reactor, wake_from_another_thread_ends_a_long_poll)
{
    io_event ev;
    pthread_t th;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(pthread_create(&th, NULL, wake_later, r), 0);
    cr_expect_eq(poll1(&ev, 60 * SEC), 0, "a wake returns no event");
    cr_expect_lt(elapsed_ns(&t0), 5 * SEC);
    pthread_join(th, NULL);
}

Test(io_reactor, wakes_coalesce_and_are_consumed)
{
    io_event ev;
    io_wake(r);
    io_wake(r);
    io_wake(r);
    cr_expect_eq(poll1(&ev, 60 * SEC), 0, "pending wake: returns at once");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_expect_eq(poll1(&ev, 50 * MS), 0);
    cr_expect_geq(elapsed_ns(&t0), 50 * MS, "three wakes, one return");
    io_wake(r);
    cr_expect_eq(poll1(&ev, 60 * SEC), 0, "the wake fd was re-armed");
}

Test(io_reactor, wake_does_not_hide_ready_fds)
{
    io_event evs[4];
    put_byte(sp[1]);
    cr_assert_eq(io_wait_fd(r, sp[0], IO_READ, &tok_a), 0);
    io_wake(r);
    int n = io_poll(r, evs, 4, 5 * SEC);
    if (n == 0)  /* the wake may come alone; the fd is still armed */
        n = io_poll(r, evs, 4, 5 * SEC);
    cr_assert_eq(n, 1);
    cr_expect_eq(evs[0].token, &tok_a);
}

static void *poll_long(void *arg)
{
    io_event ev;
    return (void *)(intptr_t)io_poll(arg, &ev, 1, 60 * SEC);
}

Test(io_reactor, second_concurrent_poller_gets_ebusy)
{
    io_event ev;
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, poll_long, r), 0);
    /* Wait until the other thread is inside io_poll: then ours fails. */
    int n;
    for (int tries = 0; (n = io_poll(r, &ev, 1, 0)) != -EBUSY && tries < 5000; tries++) {
        struct timespec d = { 0, 1 * MS };
        nanosleep(&d, NULL);
    }
    cr_expect_eq(n, -EBUSY);
    io_wake(r);
    void *res;
    pthread_join(th, &res);
    cr_expect_eq((intptr_t)res, 0);
}

/* The scheduler's protocol under contention: wakers publish work, then
 * io_wake; the poller checks for work and blocks with no timeout only when
 * it has seen none.  A lost wake-up would leave it blocked forever, which
 * the suite's timeout turns into a failure. */
enum { WAKERS = 2, WAKES_EACH = 20000 };
static atomic_int published;

static void *publish_and_wake(void *arg)
{
    for (int i = 0; i < WAKES_EACH; i++) {
        atomic_fetch_add(&published, 1);
        io_wake(arg);
    }
    return NULL;
}

Test(io_reactor, no_wake_is_lost_under_contention)
{
    pthread_t th[WAKERS];
    for (int i = 0; i < WAKERS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, publish_and_wake, r), 0);
    io_event ev;
    int seen = 0, polls = 0;
    while (seen < WAKERS * WAKES_EACH) {
        int now = atomic_load(&published);
        if (now > seen) {
            seen = now;
            continue;
        }
        cr_assert_geq(io_poll(r, &ev, 1, -1), 0);
        polls++;
    }
    for (int i = 0; i < WAKERS; i++)
        pthread_join(th[i], NULL);
    cr_log_info("%d wakes, %d polls", WAKERS * WAKES_EACH, polls);
}

/* }====== */

/* {====== Bad arguments: errors, never crashes */

Test(io_reactor, bad_fds_are_errors)
{
    int closed = dup(sp[0]);
    close(closed);
    cr_expect_eq(io_wait_fd(r, -1, IO_READ, &tok_a), -EBADF);
    cr_expect_eq(io_wait_fd(r, closed, IO_READ, &tok_a), -EBADF);
    cr_expect_eq(io_cancel_fd(r, -1), -EBADF);
    cr_expect_eq(io_cancel_fd(r, closed), -EBADF);
}

Test(io_reactor, bad_interest_or_token_is_einval)
{
    io_event ev;
    cr_expect_eq(io_wait_fd(r, sp[0], 0, &tok_a), -EINVAL);
    cr_expect_eq(io_wait_fd(r, sp[0], IO_HUP, &tok_a), -EINVAL);
    cr_expect_eq(io_wait_fd(r, sp[0], IO_READ, NULL), -EINVAL);
    cr_expect_eq(io_wait_fd(r, sp[0], IO_READ, (char *)&tok_a + 1), -EINVAL);
    cr_expect_eq(io_poll(r, &ev, 0, 0), -EINVAL);
    cr_expect_eq(io_poll(r, NULL, 1, 0), -EINVAL);
}

Test(io_reactor, a_regular_file_is_refused_on_epoll)
{
    if (strcmp(io_reactor_backend(), "epoll") != 0)
        cr_skip_test("kqueue accepts regular files");
    char path[] = "/tmp/lvm-io-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    cr_expect_eq(io_wait_fd(r, fd, IO_READ, &tok_a), -EPERM);
    close(fd);
}

/* }====== */
