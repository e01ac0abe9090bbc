/*
 * io.h - the interface of io/: a reactor that parks waiters on file
 * descriptors, a timer heap, and non-blocking TCP helpers.
 *
 * Where it sits.  The scheduler (green/) runs green processes on a few
 * worker threads.  A process that would block on a socket instead calls
 * io_wait_fd() with a token (its process pointer) and yields; a process
 * that sleeps puts a deadline in a timer heap.  A worker with nothing to
 * run blocks in io_poll() until a descriptor is ready, the next deadline
 * is due (the scheduler passes io_timers_timeout_ns() as the timeout), or
 * another thread calls io_wake() because it made work runnable.  io_poll()
 * hands back the tokens; the scheduler makes those processes runnable, and
 * each retries the syscall that said EAGAIN.  Idle workers park here rather
 * than on a condition variable so that one blocking call covers both
 * "I/O ready" and "new work" (RUNTIME-NOTES lesson 10).
 *
 * io/ knows nothing of WebAssembly or of processes: a token is an opaque
 * pointer.  It includes only libc and pthreads, so it builds and is tested
 * on its own (tests/io links nothing else).
 *
 * Errors.  Every function that can fail returns a negative errno value
 * (-EBADF, -ENOMEM, ...) and never sets errno for the caller to inspect;
 * success is 0 or a non-negative result.  This is the convention of the
 * Linux kernel and of liburing, and it lets the wasi/ layer map results
 * to WASI errno values without a global.
 *
 * Threads.  Each function below states who may call it:
 *   any-thread   safe to call concurrently from any thread;
 *   one-poller   any thread, but at most one at a time (checked);
 *   owner-only   only the thread that owns the object, never concurrently.
 *
 * Files: io/reactor.c (reactor), io/backend.h + io/backend_epoll.c or
 * io/backend_kqueue.c (the OS seam), io/timer.c (timers), io/net.c (TCP).
 */
#ifndef LVM_IO_H
#define LVM_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* {====== checked growth
 *
 * The one computation every growable array of green/ and io/ makes (the
 * channels' rings, the fd waiter lists): the next capacity, doubling from `cap` (from `first`
 * when 0), at least `need`, never more than `max` entries and never a
 * byte size that overflows size_t.  Returns 0 when no such capacity
 * exists - the caller fails as out of memory, never wrapping to a small
 * size, and never calling realloc(p, 0), which frees p.  It is here,
 * in the folder that green/ may include and that includes only libc, so
 * that green/ and io/ share it.  decoder/, exec/, vm/ and wasi/ use
 * lvm_grow_cap (vm/base.h), the same computation on their side of the
 * dependency rule (decoder/ and exec/ must not include io/).
 * Rejected: a copy of the doubling in each file, which is how the u32
 * capacity of the lunatic tables once wrapped to 0. */
static inline size_t io_grow_cap(size_t cap, size_t need, size_t first, size_t size, size_t max)
{
    if (size == 0)
        return 0;
    if (max > SIZE_MAX / size)
        max = SIZE_MAX / size;
    if (need > max)
        return 0;
    size_t c = cap ? cap : first ? first : 1;
    while (c < need)
        c = c > max / 2 ? max : 2 * c;
    return c > max ? max : c;
}

/* }====== */

/* {====== Reactor */

/* Readiness bits.  IO_READ and IO_WRITE are both interest (what a waiter
 * asks for) and readiness (what io_poll reports).  IO_HUP and IO_ERR are
 * only ever reported, for information: an error or hang-up is always also
 * reported as IO_READ and/or IO_WRITE readiness, because the right reaction
 * is the same as for readiness - retry the syscall, which then returns the
 * error or end-of-file.  A waiter never needs to decode IO_HUP/IO_ERR. */
enum {
    IO_READ  = 1u << 0,  /* readable, or a listening socket has a connection */
    IO_WRITE = 1u << 1,  /* writable, or a non-blocking connect finished */
    IO_HUP   = 1u << 2,  /* the peer hung up (at least one direction) */
    IO_ERR   = 1u << 3,  /* the descriptor has a pending error (SO_ERROR) */
};

/* One ready waiter, as returned by io_poll. */
typedef struct io_event {
    void *token;     /* exactly the token given to io_wait_fd */
    unsigned ready;  /* IO_READ/IO_WRITE, plus IO_HUP/IO_ERR for information */
} io_event;

/* The largest number of events one io_poll call returns; a larger `max`
 * is clamped.  The rest stay pending in the kernel for the next call. */
#define IO_POLL_MAX 128

typedef struct io_reactor io_reactor;

/* io_reactor_new creates a reactor: one kernel polling object (an epoll or
 * kqueue descriptor) plus the wake-up descriptor io_wake writes to.  Both
 * are close-on-exec.  Returns 0 and sets *r_out, or -errno (-EMFILE,
 * -ENOMEM).  io_reactor_free closes them; call it only when no other thread
 * can still use the reactor.  Registered descriptors are not closed: they
 * belong to their owners.  Owner-only. */
int  io_reactor_new(io_reactor **r_out);
void io_reactor_free(io_reactor *r);

/* io_reactor_backend names the compiled-in backend: "epoll" or "kqueue". */
const char *io_reactor_backend(void);

/* io_wait_fd arms a one-shot wait: the next io_poll that finds `fd` ready
 * for any direction in `interest` (IO_READ, IO_WRITE or both) returns
 * `token` once, and then `fd` is disarmed until io_wait_fd is called again.
 * Arming an fd that is already armed replaces its interest and token.
 *
 *   - At most one waiter per fd: call it only from the one process that
 *     owns the fd.  Two processes reading one socket must take turns.
 *   - `token` must be non-NULL and at least 2-byte aligned (any pointer to
 *     a struct with an int or pointer member is); the kqueue backend uses
 *     the low bit.  Returns -EINVAL otherwise, on every platform.
 *   - The fd must support polling: sockets, pipes, terminals.  Regular
 *     files are always "ready" (epoll refuses them with -EPERM); file I/O
 *     belongs on a blocking thread pool, not here.
 *   - Call io_cancel_fd before close(fd).  epoll tracks the open file, not
 *     the number, so a dup()ed copy (for example in a forked child) would
 *     otherwise keep a closed number registered.
 *
 * Returns 0, or -EBADF (not an open fd), -EINVAL (see above), -EPERM (fd
 * cannot be polled), -ENOMEM/-ENOSPC (kernel limits).  Never blocks.
 * Any-thread. */
int io_wait_fd(io_reactor *r, int fd, unsigned interest, void *token);

/* io_cancel_fd disarms `fd`: no io_poll that *starts* after it returns will
 * report the fd's token.  An io_poll already running on another thread may
 * have taken the event out of the kernel a moment earlier and still return
 * it, so the scheduler must treat wake-ups as idempotent (e.g. a
 * compare-and-swap on the process's wait state) and keep token memory
 * valid until it knows no poll is in flight (Go keeps its pollDesc structs
 * in a type-stable cache for this reason).  Cancelling an fd that is not
 * armed succeeds.  Returns 0 or -EBADF.  Never blocks.  Any-thread. */
int io_cancel_fd(io_reactor *r, int fd);

/* io_poll waits until at least one armed fd is ready, `timeout_ns` passes,
 * or io_wake is called, then stores up to `max` events in `events_out`
 * (at most IO_POLL_MAX) and returns how many.
 *
 *   timeout_ns < 0   wait without a time limit;
 *   timeout_ns == 0  do not block, just collect what is ready;
 *   timeout_ns > 0   wait at most that long.  The epoll backend has
 *                    millisecond resolution and rounds up, so a poll never
 *                    returns before its timeout because of rounding.
 *
 * Returns 0 when it timed out, was woken by io_wake, or was interrupted by
 * a signal - the caller re-checks its run queues and timers either way, so
 * the reasons need not be told apart.  Returns -EINVAL for a bad `max` or
 * NULL `events_out`, -EBUSY if another thread is inside io_poll on this
 * reactor, or another -errno if the kernel object failed (a bug: panic).
 * Blocks.  One-poller: the scheduler elects one idle worker to poll (Go's
 * netpoll does the same); the others sleep until that one hands them work. */
int io_poll(io_reactor *r, io_event *events_out, int max, int64_t timeout_ns);

/* io_wake makes the current or next io_poll on `r` return promptly.  Wakes
 * that arrive before the poller has consumed an earlier one coalesce into
 * that one: a burst of N wakes costs one write() and one poll return.  The
 * contract for the caller is "publish the work, then io_wake": the poller
 * checks for work after io_poll returns, so it cannot miss it.  Never
 * blocks, never fails (there is nothing useful a waker could do with an
 * error).  Any-thread, and async-signal-safe (an atomic exchange and a
 * write), so a signal handler may call it. */
void io_wake(io_reactor *r);

/* }====== */

/* {====== Timers
 *
 * A binary min-heap of (deadline, token) with O(log n) insert, cancel and
 * pop.  Deadlines are absolute CLOCK_MONOTONIC nanoseconds (io_now_ns), so
 * wall-clock changes never fire or delay a timer.  Each worker owns one
 * heap; a process sleeping on a worker puts its wake-up there and the
 * worker passes io_timers_timeout_ns() to io_poll.
 *
 * Ids are generation-checked: cancelling a timer that already fired (and
 * whose slot has since been reused) is detected and returns false instead
 * of cancelling a stranger's timer.  That is the common race "the sleep
 * ended just as the message arrived".
 *
 * Owner-only: every function on one io_timers must be called by a single
 * thread (the owning worker).  Nothing is locked. */

typedef struct io_timers io_timers;

/* A timer id.  0 is never a valid id. */
typedef uint64_t io_timer_id;

/* "No deadline": io_timers_next's answer for an empty heap. */
#define IO_NO_DEADLINE UINT64_MAX

/* io_now_ns reads CLOCK_MONOTONIC in nanoseconds.  Any-thread. */
uint64_t io_now_ns(void);

/* io_timers_new returns an empty heap, or NULL if out of memory.
 * io_timers_free frees it (tokens are not touched); NULL is allowed. */
io_timers *io_timers_new(void);
void       io_timers_free(io_timers *t);

/* io_timers_add schedules `token` for `deadline_ns` and returns its id, or
 * 0 if out of memory.  Timers with equal deadlines fire in the order they
 * were added.  A deadline already in the past fires at the next pop. */
io_timer_id io_timers_add(io_timers *t, uint64_t deadline_ns, void *token);

/* io_timers_cancel removes a pending timer.  Returns true if it was
 * pending, false if it already fired, was already cancelled, or `id` is 0
 * or was never issued. */
bool io_timers_cancel(io_timers *t, io_timer_id id);

/* io_timers_pop removes the earliest timer whose deadline is <= now_ns,
 * stores its token in *token_out and returns true; returns false if no
 * timer is due.  Call it in a loop after each io_poll. */
bool io_timers_pop(io_timers *t, uint64_t now_ns, void **token_out);

/* io_timers_next returns the earliest deadline, or IO_NO_DEADLINE. */
uint64_t io_timers_next(const io_timers *t);

/* io_timers_timeout_ns turns the earliest deadline into an io_poll
 * timeout: -1 if there is no timer, 0 if one is due, else the nanoseconds
 * left. */
int64_t io_timers_timeout_ns(const io_timers *t, uint64_t now_ns);

/* io_timers_count returns how many timers are pending. */
size_t io_timers_count(const io_timers *t);

/* }====== */

/* {====== Non-blocking TCP
 *
 * Every descriptor these functions return is non-blocking and
 * close-on-exec from birth where the OS allows it (SOCK_NONBLOCK |
 * SOCK_CLOEXEC, accept4); elsewhere the flags are set right after, which
 * leaves a window in which a concurrent fork+exec could inherit the fd.
 * Addresses are numeric literals only: "127.0.0.1", "::1" or "[::1]".
 * There is no name lookup here because getaddrinfo blocks; resolving names
 * is a job for the blocking pool.  IPv6 scope ids ("fe80::1%eth0") are not
 * supported.
 *
 * Writing to a socket whose peer has gone raises SIGPIPE unless the
 * process ignores it; the runtime should set SIGPIPE to SIG_IGN once at
 * start-up so that write() returns -EPIPE instead (where SO_NOSIGPIPE
 * exists, as on macOS, these sockets also get it).
 *
 * All functions return -errno on failure, never block, and are
 * any-thread (they touch only the descriptors they are given). */

/* io_set_nonblock_cloexec sets O_NONBLOCK and FD_CLOEXEC on `fd`.
 * Returns 0 or -errno (-EBADF). */
int io_set_nonblock_cloexec(int fd);

/* io_tcp_listen creates a TCP socket bound to `host` (a numeric IPv4 or
 * IPv6 literal; "0.0.0.0" or "::" for every interface) and `port` (0 picks
 * a free ephemeral port: read it back with io_tcp_local_port) and listens
 * with `backlog`.  SO_REUSEADDR is set so a restarted server can rebind a
 * port whose old connections linger in TIME_WAIT.  Whether "::" also
 * accepts IPv4 is the OS default (IPV6_V6ONLY is not touched).
 * Returns the listening fd, or -EINVAL (not a literal), -EADDRINUSE,
 * -EADDRNOTAVAIL (no interface has that address), -EACCES (port < 1024). */
int io_tcp_listen(const char *host, uint16_t port, int backlog);

/* io_tcp_listen_addr is io_tcp_listen for an address already in binary
 * form (a sockaddr_in or sockaddr_in6 of `len` bytes): for callers that
 * get raw address octets rather than text.  Same flags, same errors
 * (-EAFNOSUPPORT for a family the OS lacks). */
int io_tcp_listen_addr(const struct sockaddr *sa, socklen_t len, int backlog);

/* io_tcp_connect starts a connection to `host`:`port` and returns the
 * socket at once, usually before the handshake has finished: a non-blocking
 * connect() answers EINPROGRESS, which is success-so-far.  (EINTR is
 * treated the same: POSIX says an interrupted connect carries on
 * asynchronously.)  The protocol is:
 *
 *     fd = io_tcp_connect(host, port);           // < 0: failed at once
 *     io_wait_fd(r, fd, IO_WRITE, me); yield;    // writable = finished
 *     err = io_tcp_connect_result(fd);           // 0, or -ECONNREFUSED ...
 *
 * A refusal may also be reported at once (-ECONNREFUSED) on some systems.
 * Returns the fd or -errno. */
int io_tcp_connect(const char *host, uint16_t port);

/* io_tcp_connect_addr is io_tcp_connect for a binary address, as
 * io_tcp_listen_addr. */
int io_tcp_connect_addr(const struct sockaddr *sa, socklen_t len);

/* io_tcp_connect_result reads and clears the socket's pending error
 * (getsockopt SO_ERROR): 0 once a connect has succeeded, else -errno such
 * as -ECONNREFUSED, -ETIMEDOUT or -ENETUNREACH.  Call it after IO_WRITE. */
int io_tcp_connect_result(int fd);

/* io_accept takes one pending connection from `listen_fd` and returns its
 * (non-blocking, close-on-exec) fd.  -EAGAIN means none is pending: wait
 * for IO_READ on the listener.  -ECONNABORTED means one was reset before
 * it was accepted: just call again (Linux also passes through a new
 * connection's network errors, e.g. -ENETUNREACH, listed in accept(2);
 * they too mean "call again").  -EMFILE/-ENFILE leave the connection
 * queued and the listener readable: back off rather than re-arming at
 * once, or the worker spins.  If `peer_out` is not NULL it receives
 * the peer's address. */
int io_accept(int listen_fd, struct sockaddr_storage *peer_out);

/* io_tcp_local_port returns the local port `fd` is bound to, or -errno. */
int io_tcp_local_port(int fd);

/* }====== */

#endif
