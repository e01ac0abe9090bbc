/*
 * reactor.c - parks waiters on file descriptors and wakes idle pollers:
 * the part of the reactor that is the same on every OS.
 *
 * Data flow: io_wait_fd (any worker, for the process it is running) ->
 * io_backend_add -> kernel; the one polling worker's io_poll ->
 * io_backend_poll -> tokens -> the scheduler's run queues.  The kernel
 * side lives behind io/backend.h; this file adds argument checks, the
 * one-poller rule and the cross-thread wake-up.
 *
 * Wake-up.  A worker that makes work runnable while another worker sleeps
 * in io_poll must interrupt that sleep.  The reactor owns one extra
 * descriptor that io_wake makes readable: an eventfd on Linux (one fd, an
 * 8-byte counter), a non-blocking pipe elsewhere.  It is armed one-shot
 * like any other fd, with the private token WAKE_TOKEN, which io_poll
 * filters out of the results.  Rejected: a condition variable next to the
 * reactor (a sleeping worker could then wait for I/O or for work, not
 * both; RUNTIME-NOTES lesson 10), and kqueue's EVFILT_USER (one more
 * per-OS path for no gain over a pipe).
 *
 * Coalescing.  `wake_pending` is set by the first io_wake after the
 * poller last consumed a wake; later io_wake calls see it set and skip the
 * write().  The poller consumes a wake in this order:
 *
 *     1. drain the wake fd          (read until EAGAIN)
 *     2. wake_pending = false
 *     3. re-arm the wake fd
 *     4. return; the scheduler then looks at its run queues
 *
 * Invariant: wake_pending => the wake fd is readable, or the poller is
 * between steps 1 and 2.  A wake landing between 1 and 2 skips its write,
 * but its work was published before step 4 looks for work, so nothing is
 * lost.  The reverse order (clear, then drain) would be a bug: a wake
 * between the two would set the flag, write, and have its byte drained,
 * leaving the flag set with an empty fd - every later io_wake would skip
 * its write and the poller would sleep through them.
 *
 * One poller.  io_poll returns -EBUSY if another thread is inside it.  The
 * scheduler elects one idle worker to poll and lets the rest sleep; the
 * check turns a violation of that design into an error instead of two
 * threads racing to drain the wake fd.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif

#include "backend.h"
#include "io.h"

struct io_reactor {
    int backend;               /* the epoll or kqueue fd */
    int wake_rd, wake_wr;      /* the same eventfd twice, or a pipe */
    atomic_bool wake_pending;  /* see "Coalescing" above */
    atomic_bool polling;       /* a thread is inside io_poll */
};

/* A token no caller can pass: the address of a private object (aligned,
 * non-NULL, so it obeys the backend's token rules itself). */
static const uint64_t wake_token_object;
#define WAKE_TOKEN ((void *)&wake_token_object)

const char *io_reactor_backend(void)
{
    return io_backend_name();
}

/* Create the wake-up descriptors.  Returns 0 or -errno. */
static int wake_open(io_reactor *r)
{
#if defined(__linux__)
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    r->wake_rd = r->wake_wr = fd;
    return 0;
#else
    int p[2];
    if (pipe(p) < 0)
        return -errno;
    int e = io_set_nonblock_cloexec(p[0]);
    if (e == 0)
        e = io_set_nonblock_cloexec(p[1]);
    if (e < 0) {
        close(p[0]);
        close(p[1]);
        return e;
    }
    r->wake_rd = p[0];
    r->wake_wr = p[1];
    return 0;
#endif
}

int io_reactor_new(io_reactor **r_out)
{
    io_reactor *r = malloc(sizeof *r);
    if (!r)
        return -ENOMEM;
    r->wake_rd = r->wake_wr = -1;
    atomic_init(&r->wake_pending, false);
    atomic_init(&r->polling, false);
    int e = r->backend = io_backend_create();
    if (e >= 0)
        e = wake_open(r);
    if (e >= 0)
        e = io_backend_add(r->backend, r->wake_rd, IO_READ, WAKE_TOKEN);
    if (e < 0) {
        io_reactor_free(r);
        return e;
    }
    *r_out = r;
    return 0;
}

void io_reactor_free(io_reactor *r)
{
    if (!r)
        return;
    if (r->wake_wr >= 0 && r->wake_wr != r->wake_rd)
        close(r->wake_wr);
    if (r->wake_rd >= 0)
        close(r->wake_rd);
    io_backend_free(r->backend);  /* ignores a negative (failed) fd */
    free(r);
}

int io_wait_fd(io_reactor *r, int fd, unsigned interest, void *token)
{
    if (fd < 0)
        return -EBADF;
    if (interest == 0 || (interest & ~(unsigned)(IO_READ | IO_WRITE)) != 0)
        return -EINVAL;
    if (token == NULL || ((uintptr_t)token & 1) != 0 || token == WAKE_TOKEN)
        return -EINVAL;
    return io_backend_add(r->backend, fd, interest, token);
}

int io_cancel_fd(io_reactor *r, int fd)
{
    if (fd < 0)
        return -EBADF;
    return io_backend_del(r->backend, fd);
}

void io_wake(io_reactor *r)
{
    if (atomic_exchange(&r->wake_pending, true))
        return;  /* a wake is already on its way */
    /* 8 bytes: the unit an eventfd requires; a pipe takes any size.  The
     * write cannot block (non-blocking fd) and cannot usefully fail: the
     * flag guarantees at most one unread wake, so neither the eventfd
     * counter nor the pipe can be full. */
    uint64_t one = 1;
    ssize_t n = write(r->wake_wr, &one, sizeof one);
    (void)n;
}

/* Steps 1-3 of "Coalescing" in the file header. */
static int wake_consume(io_reactor *r)
{
    uint64_t buf[8];
    while (read(r->wake_rd, buf, sizeof buf) > 0)
        ;
    /* An exchange, not a plain store: as a read-modify-write it reads the
     * `true` written by the exchange of every io_wake that skipped its
     * write, so it synchronises with those wakers and their published
     * work is visible to the run-queue check that follows (C11 5.1.2.4,
     * release sequences).  A store would rely on x86's strong ordering. */
    (void)atomic_exchange(&r->wake_pending, false);
    return io_backend_add(r->backend, r->wake_rd, IO_READ, WAKE_TOKEN);
}

int io_poll(io_reactor *r, io_event *events_out, int max, int64_t timeout_ns)
{
    if (events_out == NULL || max <= 0)
        return -EINVAL;
    if (atomic_exchange(&r->polling, true))
        return -EBUSY;

    int n = io_backend_poll(r->backend, events_out, max, timeout_ns);
    int k = 0;
    bool woken = false;
    for (int i = 0; i < n; i++) {
        if (events_out[i].token == WAKE_TOKEN)
            woken = true;
        else
            events_out[k++] = events_out[i];
    }
    if (woken) {
        int e = wake_consume(r);
        if (e < 0)
            n = e;  /* the wake fd is disarmed: later wakes would be lost */
    }

    atomic_store(&r->polling, false);
    return n < 0 ? n : k;
}
