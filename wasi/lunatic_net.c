/*
 * lunatic_net.c - the networking half of the lunatic host API (ABI
 * section 6): TCP listeners and streams on the reactor, and name
 * resolution off the worker threads.
 *
 * Sockets.  A listener or a stream is a lun_sock: a non-blocking fd and a
 * reference count.  Every lun_res of kind LUN_TCP_* holds one reference,
 * wherever it is - a table entry, a copy in a pending serialize list, a
 * copy in a message not yet delivered - so moving a stream to another
 * process (ABI 5.3) shares the one socket, like a dup(), and the fd is
 * closed, without shutdown(), when the last reference goes (ABI 2.5).
 * The serialize/deserialize functions are the generic ones of
 * lunatic_message.c.
 *
 * Blocking.  accept, read and write try their syscall first; on EAGAIN
 * they park the process on the fd (green_wait_fd) and return
 * LVM_ERR_BLOCK with nothing changed, and the woken process runs the
 * whole call again.  Processes that share a socket may wait on it at the
 * same time: the scheduler keeps a list of waiters per direction.  Two
 * calls cannot simply start over on every retry, because their work is
 * already under way: tcp_connect (a socket whose handshake is in flight)
 * and resolve (a lookup on the blocking pool).  Their state waits in lun_proc
 * (`connecting`, `dns`) for the retry, which finishes it; a process that
 * ends in between (cancelled while blocked) drops it in lun_net_cleanup.
 *
 * DNS (ABI D18).  getaddrinfo blocks, for seconds on a slow resolver, so
 * a name is looked up on green/'s blocking pool (green_pool_default, as
 * fsync and the opens of FIFOs are), and only the calling process waits.
 * The pool holds no reference to the process: the process's exit hook
 * releases its lookup, which clears the job's waiter, so a lookup that
 * outlives its process (cancelled while blocked) finishes on its pool
 * thread, wakes nobody and is freed there.  Each process is one owner of
 * the pool: at most GREEN_POOL_PER_OWNER of its lookups are in flight,
 * so its backlog waits in it and never in front of other processes'.  An
 * address literal never goes to the pool: getaddrinfo with
 * AI_NUMERICHOST parses it at once on the worker (it does no I/O), so
 * "127.0.0.1:1" is answered at once however many names are being looked
 * up.  A thread still inside getaddrinfo at exit is abandoned with the
 * rest of the program (D4): joining it could hold lvm's exit for as long
 * as a dead DNS server takes to time out.
 *
 * Results are io codes (ABI 6.1): 0, or 1..20 from the errno; the guest
 * panics on anything else.  Bad ids, pointers, UTF-8 and deserialize
 * indices trap the caller (D5), every pointer being checked before
 * anything happens (D7).
 */
#include "lunatic_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0          /* macOS: the sockets have SO_NOSIGPIPE (io/net.c) */
#endif

/* listen()'s backlog, as Rust std's TcpListener::bind. */
#define LISTEN_BACKLOG 128

/* {====== io error codes (ABI 6.1) */

enum {
    IOC_OK = 0,
    IOC_NOT_FOUND = 1,
    IOC_PERMISSION_DENIED = 2,
    IOC_CONNECTION_REFUSED = 3,
    IOC_CONNECTION_RESET = 4,
    IOC_CONNECTION_ABORTED = 5,
    IOC_NOT_CONNECTED = 6,
    IOC_ADDR_IN_USE = 7,
    IOC_ADDR_NOT_AVAILABLE = 8,
    IOC_BROKEN_PIPE = 9,
    IOC_ALREADY_EXISTS = 10,
    IOC_WOULD_BLOCK = 11,
    IOC_INVALID_INPUT = 12,
    IOC_TIMED_OUT = 14,
    IOC_INTERRUPTED = 16,
    IOC_OTHER = 20,             /* every other errno (D15), EAI_* failures */
};

/* Host errno -> io code, as Rust std classified errnos in 2021.  A table
 * rather than a switch: EWOULDBLOCK may equal EAGAIN. */
static const struct {
    int err;
    uint32_t code;
} io_codes[] = {
    { ENOENT, IOC_NOT_FOUND },
    { EACCES, IOC_PERMISSION_DENIED },
    { EPERM, IOC_PERMISSION_DENIED },
    { ECONNREFUSED, IOC_CONNECTION_REFUSED },
    { ECONNRESET, IOC_CONNECTION_RESET },
    { ECONNABORTED, IOC_CONNECTION_ABORTED },
    { ENOTCONN, IOC_NOT_CONNECTED },
    { EADDRINUSE, IOC_ADDR_IN_USE },
    { EADDRNOTAVAIL, IOC_ADDR_NOT_AVAILABLE },
    { EPIPE, IOC_BROKEN_PIPE },
    { EEXIST, IOC_ALREADY_EXISTS },
    { EAGAIN, IOC_WOULD_BLOCK },
    { EWOULDBLOCK, IOC_WOULD_BLOCK },
    { EINVAL, IOC_INVALID_INPUT },
    { ETIMEDOUT, IOC_TIMED_OUT },
    { EINTR, IOC_INTERRUPTED },
};

static uint32_t io_code(int err)
{
    for (size_t i = 0; i < sizeof io_codes / sizeof io_codes[0]; i++)
        if (io_codes[i].err == err)
            return io_codes[i].code;
    return IOC_OTHER;
}

/* }====== */

/* {====== sockets */

struct lun_sock {
    atomic_uint refs;
    int fd;
};

/* Close a socket fd: first make the scheduler forget it (a worker's
 * reactor may still hold a registration).  Off the scheduler (the final
 * teardown, after it is gone) there is nothing to forget. */
static void close_fd(int fd)
{
    lvm_process *self = lvm_process_self();
    if (self)
        green_forget_fd(self->g.sched, fd);
    close(fd);
}

void lun_sock_retain(lun_sock *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void lun_sock_release(lun_sock *s)
{
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    close_fd(s->fd);
    wasi_host_fd_uncharge();
    free(s);
}

/* Wrap a fresh fd and add it to t; the fd is closed on failure.  Each
 * socket is one host descriptor of the total of all processes (ctx.c):
 * past it, *id is UINT32_MAX and the guest is to get IOC_OTHER, the code
 * of every errno without its own (EMFILE, ENFILE; ABI 6.1). */
static lvm_err sock_add(lun_table *t, lun_kind kind, int fd, uint32_t *id)
{
    if (!wasi_host_fd_charge()) {
        close(fd);
        *id = UINT32_MAX;
        return LVM_OK;
    }
    lun_sock *s = malloc(sizeof *s);
    if (!s) {
        close(fd);
        wasi_host_fd_uncharge();
        return LVM_ERR_NO_MEMORY;
    }
    atomic_init(&s->refs, 1);
    s->fd = fd;
    *id = lun_table_add(t, (lun_res){ .kind = kind, .sock = s });
    if (*id == UINT32_MAX) {
        lun_sock_release(s);
        return LVM_ERR_NO_MEMORY;
    }
    return LVM_OK;
}

/* }====== */

/* {====== argument checks */

#define SELF(fn)                                                   \
    LUN_SELF(fn);                                                  \
    lvm_process *self = lvm_process_self()

/* A u32 out-pointer, checked before anything happens (D7). */
#define CHECK_OUT(fn, what, ptr)                                                       \
    do {                                                                               \
        if (!wasi_mem_check(&m, (ptr), 4))                                             \
            return lun_trap(fn, what " out-pointer %u is outside memory (ABI D7)", (ptr)); \
    } while (0)

/* Return code, with the u32 `value` stored at `out`. */
static lvm_err give(lvm_val *ar, const wasi_mem *m, uint32_t out, uint32_t value, uint32_t code)
{
    wasi_store_u32(m, out, value);
    ar[0].i32 = code;
    return LVM_OK;
}

/* The table entry of kind `kind` for id, or NULL after reporting the trap
 * (the caller returns LVM_ERR_TRAP_HOST). */
static lun_sock *sock_get(lun_proc *lp, lun_kind kind, uint32_t id, const char *fn)
{
    lun_res *r = lun_table_get(lun_table_of(lp, kind), id);
    if (!r) {
        lun_trap(fn, "unknown tcp %s id %u (ABI D5)", kind == LUN_TCP_STREAM ? "stream" : "listener", id);
        return NULL;
    }
    return r->sock;
}

/* The address of tcp_bind and tcp_connect: addr_len raw octets in network
 * order (4: IPv4, 16: IPv6) and a port (an i32 cut to 16 bits, ABI 1.1).
 * Returns the sockaddr length, or 0 for any other addr_len. */
static socklen_t sockaddr_of(const wasi_mem *m, uint32_t ptr, uint32_t len, uint32_t port,
                             struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (len == 4) {
        struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        memcpy(&in4->sin_addr, m->base + ptr, 4);
        return sizeof *in4;
    }
    if (len == 16) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        memcpy(&in6->sin6_addr, m->base + ptr, 16);
        return sizeof *in6;
    }
    return 0;
}

/* }====== */

/* {====== TCP */

/* tcp_bind(addr_ptr, addr_len, port, out listener_id*) -> io code.  As
 * Rust's TcpListener::bind: SO_REUSEADDR, bind, listen(128); the socket
 * is non-blocking and close-on-exec (io_tcp_listen_addr). */
static lvm_err lun_tcp_bind(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("tcp_bind");
    uint32_t addr = ar[0].i32, alen = ar[1].i32, port = ar[2].i32, out = ar[3].i32;
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, addr, alen))
        return lun_trap("tcp_bind", "address [%u, +%u) is outside memory (ABI D5)", addr, alen);
    CHECK_OUT("tcp_bind", "listener", out);
    struct sockaddr_storage ss;
    socklen_t sslen = sockaddr_of(&m, addr, alen, port, &ss);
    if (!sslen)
        return give(ar, &m, out, 0, IOC_INVALID_INPUT);
    if (!wasi_caps_may(wasi_ctx_caps(lun_wasi(lp)), WASI_NET_LISTEN, m.base + addr, alen,
                       (uint16_t)port))
        return give(ar, &m, out, 0, IOC_PERMISSION_DENIED);     /* no --allow-listen for it */
    int fd = io_tcp_listen_addr((struct sockaddr *)&ss, sslen, LISTEN_BACKLOG);
    if (fd < 0)
        return give(ar, &m, out, 0, io_code(-fd));
    uint32_t id;
    lvm_err err = sock_add(&lp->tcp_listeners, LUN_TCP_LISTENER, fd, &id);
    if (err)
        return err;
    return id == UINT32_MAX ? give(ar, &m, out, 0, IOC_OTHER) : give(ar, &m, out, id, IOC_OK);
}

/* tcp_accept(listener_id, out stream_id*) -> io code; waits for a
 * connection.  The peer's address is not reported (ABI 6.2). */
static lvm_err lun_tcp_accept(lvm_hostcall *call, lvm_val *ar)
{
    SELF("tcp_accept");
    uint32_t id = ar[0].i32, out = ar[1].i32;
    lun_sock *l = sock_get(lp, LUN_TCP_LISTENER, id, "tcp_accept");
    if (!l)
        return LVM_ERR_TRAP_HOST;
    wasi_mem m = wasi_mem_of(call);
    CHECK_OUT("tcp_accept", "stream", out);
    for (;;) {
        int fd = io_accept(l->fd, NULL);
        if (fd >= 0) {
            uint32_t sid;
            lvm_err err = sock_add(&lp->tcp_streams, LUN_TCP_STREAM, fd, &sid);
            if (err)
                return err;
            return sid == UINT32_MAX ? give(ar, &m, out, 0, IOC_OTHER)
                                     : give(ar, &m, out, sid, IOC_OK);
        }
        if (fd == -ECONNABORTED || fd == -EINTR)
            continue;               /* that connection went away: the next */
        if (fd == -EAGAIN) {
            int e = green_wait_fd(&self->g, l->fd, IO_READ);
            if (e == 0)
                return LVM_ERR_BLOCK;
            fd = e;
        }
        return give(ar, &m, out, 0, io_code(-fd));
    }
}

/* A tcp_connect whose handshake is in flight, kept for the retry. */
struct lun_connect {
    int fd;
    struct sockaddr_storage to;
    socklen_t tolen;
};

static void connect_drop(lun_proc *lp)
{
    if (lp->connecting) {
        close_fd(lp->connecting->fd);
        free(lp->connecting);
        lp->connecting = NULL;
    }
}

/* tcp_connect(addr_ptr, addr_len, port, out stream_id*) -> io code.  A
 * non-blocking connect; the process waits until the socket is writable,
 * then SO_ERROR tells how it went. */
static lvm_err lun_tcp_connect(lvm_hostcall *call, lvm_val *ar)
{
    SELF("tcp_connect");
    uint32_t addr = ar[0].i32, alen = ar[1].i32, port = ar[2].i32, out = ar[3].i32;
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, addr, alen))
        return lun_trap("tcp_connect", "address [%u, +%u) is outside memory (ABI D5)", addr, alen);
    CHECK_OUT("tcp_connect", "stream", out);
    struct sockaddr_storage ss;
    socklen_t sslen = sockaddr_of(&m, addr, alen, port, &ss);
    if (!sslen)
        return give(ar, &m, out, 0, IOC_INVALID_INPUT);
    if (!wasi_caps_may(wasi_ctx_caps(lun_wasi(lp)), WASI_NET_CONNECT, m.base + addr, alen,
                       (uint16_t)port))
        return give(ar, &m, out, 0, IOC_PERMISSION_DENIED);     /* no --allow-net for it */

    /* A retry finds its connection in flight.  (Anything else there would
     * be a stale one: a blocked process makes no other call.) */
    struct lun_connect *c = lp->connecting;
    if (c && (c->tolen != sslen || memcmp(&c->to, &ss, sslen) != 0)) {
        connect_drop(lp);
        c = NULL;
    }
    if (!c) {
        int fd = io_tcp_connect_addr((struct sockaddr *)&ss, sslen);
        if (fd < 0)
            return give(ar, &m, out, 0, io_code(-fd));
        c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            return LVM_ERR_NO_MEMORY;
        }
        *c = (struct lun_connect){ .fd = fd, .to = ss, .tolen = sslen };
        lp->connecting = c;
    }

    struct pollfd pfd = { c->fd, POLLOUT, 0 };
    int n;
    do
        n = poll(&pfd, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n == 0) {                   /* still in progress */
        int e = green_wait_fd(&self->g, c->fd, IO_WRITE);
        if (e == 0)
            return LVM_ERR_BLOCK;
        connect_drop(lp);
        return give(ar, &m, out, 0, io_code(-e));
    }
    int e = n < 0 ? -errno : io_tcp_connect_result(c->fd);
    if (e < 0) {
        connect_drop(lp);
        return give(ar, &m, out, 0, io_code(-e));
    }
    int fd = c->fd;
    free(c);
    lp->connecting = NULL;
    uint32_t sid;
    lvm_err err = sock_add(&lp->tcp_streams, LUN_TCP_STREAM, fd, &sid);
    if (err)
        return err;
    return sid == UINT32_MAX ? give(ar, &m, out, 0, IOC_OTHER) : give(ar, &m, out, sid, IOC_OK);
}

/* tcp_read_vectored / tcp_write_vectored(stream_id, iovs, count, out n*)
 * -> io code.  One readv or sendmsg, which may be short; the process
 * waits while there is nothing to read (or no room).  A read of 0 bytes
 * with code 0 is end of file.  MSG_NOSIGNAL: a write to a closed peer is
 * EPIPE (9) even if SIGPIPE were not ignored (D14). */
static lvm_err transfer(lvm_hostcall *call, lvm_val *ar, bool write, const char *fn)
{
    SELF(fn);
    uint32_t id = ar[0].i32, iovs = ar[1].i32, count = ar[2].i32, out = ar[3].i32;
    lun_sock *s = sock_get(lp, LUN_TCP_STREAM, id, fn);
    if (!s)
        return LVM_ERR_TRAP_HOST;
    wasi_mem m = wasi_mem_of(call);
    struct iovec v[WASI_MAX_IOV];   /* more gives a short transfer */
    int nv;
    uint32_t bad;
    if (!wasi_gather(&m, iovs, count, v, &nv, &bad)) {
        if (bad == UINT32_MAX)
            return lun_trap(fn, "iovec array [%u, +8*%u) is outside memory (ABI D7)", iovs, count);
        uint32_t buf = wasi_load_u32(&m, iovs + 8 * bad), len = wasi_load_u32(&m, iovs + 8 * bad + 4);
        return lun_trap(fn, "iovec %u buffer [%u, +%u) is outside memory (ABI 1.2)", bad, buf, len);
    }
    if (write)
        CHECK_OUT(fn, "nwritten", out);
    else
        CHECK_OUT(fn, "nread", out);
    if (nv == 0)                    /* nothing to move: not a wait, not EOF */
        return give(ar, &m, out, 0, IOC_OK);
    for (;;) {
        ssize_t n;
        if (write) {
            struct msghdr msg = { .msg_iov = v, .msg_iovlen = (size_t)nv };
            n = sendmsg(s->fd, &msg, MSG_NOSIGNAL);
        } else {
            n = readv(s->fd, v, nv);
        }
        if (n >= 0)
            return give(ar, &m, out, (uint32_t)n, IOC_OK);
        int e = errno;
        if (e == EINTR)
            continue;
        if (e == EAGAIN || e == EWOULDBLOCK) {
            e = -green_wait_fd(&self->g, s->fd, write ? IO_WRITE : IO_READ);
            if (e == 0)
                return LVM_ERR_BLOCK;
        }
        return give(ar, &m, out, 0, io_code(e));
    }
}

static lvm_err lun_tcp_read(lvm_hostcall *call, lvm_val *ar)
{
    return transfer(call, ar, false, "tcp_read_vectored");
}

static lvm_err lun_tcp_write(lvm_hostcall *call, lvm_val *ar)
{
    return transfer(call, ar, true, "tcp_write_vectored");
}

/* tcp_flush(stream_id) -> 0: writes are not buffered here. */
static lvm_err lun_tcp_flush(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("tcp_flush");
    if (!sock_get(lp, LUN_TCP_STREAM, ar[0].i32, "tcp_flush"))
        return LVM_ERR_TRAP_HOST;
    ar[0].i32 = IOC_OK;
    return LVM_OK;
}

static lvm_err lun_close_listener(lvm_hostcall *call, lvm_val *ar)
{
    return lun_close(call, ar, LUN_TCP_LISTENER, "close_tcp_listener");
}

static lvm_err lun_close_stream(lvm_hostcall *call, lvm_val *ar)
{
    return lun_close(call, ar, LUN_TCP_STREAM, "close_tcp_stream");
}

static lvm_err lun_stream_serialize(lvm_hostcall *c, lvm_val *ar)
{
    return lun_serialize(c, ar, LUN_TCP_STREAM, "tcp_stream_serialize");
}
static lvm_err lun_stream_deserialize(lvm_hostcall *c, lvm_val *ar)
{
    return lun_deserialize(c, ar, LUN_TCP_STREAM, "tcp_stream_deserialize");
}
static lvm_err lun_listener_serialize(lvm_hostcall *c, lvm_val *ar)
{
    return lun_serialize(c, ar, LUN_TCP_LISTENER, "tcp_listener_serialize");
}
static lvm_err lun_listener_deserialize(lvm_hostcall *c, lvm_val *ar)
{
    return lun_deserialize(c, ar, LUN_TCP_LISTENER, "tcp_listener_deserialize");
}

/* }====== */

/* {====== lookups on the blocking pool */

/* One address of a lookup, as resolve_next reports it. */
typedef struct lun_addr {
    uint8_t octets[16];
    uint32_t len;               /* 4 or 16 */
    uint16_t port;
    uint32_t flowinfo, scope_id;    /* IPv6 only */
} lun_addr;

/* One lookup: the question, then the answer, written by the pool thread
 * before the job is done and read by the process after. */
typedef struct lun_lookup {
    green_job job;              /* first: a green_job * is a lun_lookup * */
    char *host;
    uint16_t port;
    int err;                    /* 0, or getaddrinfo's EAI_* */
    lun_addr *addrs;
    uint32_t naddrs;
} lun_lookup;

/* A process's DNS state (lp->dns), made by its first lookup of a name:
 * its account with the pool (at most GREEN_POOL_PER_OWNER lookups in
 * flight; a process makes one call at a time, so a live one has at most
 * one) and the lookup its blocked resolve waits for. */
struct lun_dns_job {
    green_pool *pool;
    green_pool_owner owner;
    lun_lookup *pending;
};

/* getaddrinfo(host, AF_UNSPEC, SOCK_STREAM, flags) with the port set on
 * every result afterwards, as Rust's lookup_host does. */
static void dns_lookup(lun_lookup *j, int flags)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = flags };
    struct addrinfo *res = NULL;
    j->err = getaddrinfo(j->host, NULL, &hints, &res);
    if (j->err)
        return;
    uint32_t n = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        n++;
    j->addrs = lvm_xcalloc(n ? n : 1, sizeof *j->addrs);
    if (!j->addrs) {
        j->err = EAI_MEMORY;
        freeaddrinfo(res);
        return;
    }
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        lun_addr *o = &j->addrs[j->naddrs];
        if (a->ai_family == AF_INET && a->ai_addrlen >= sizeof(struct sockaddr_in)) {
            const struct sockaddr_in *in4 = (const struct sockaddr_in *)a->ai_addr;
            memcpy(o->octets, &in4->sin_addr, 4);
            o->len = 4;
        } else if (a->ai_family == AF_INET6 && a->ai_addrlen >= sizeof(struct sockaddr_in6)) {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a->ai_addr;
            memcpy(o->octets, &in6->sin6_addr, 16);
            o->len = 16;
            o->flowinfo = in6->sin6_flowinfo;   /* as stored, like Rust's flowinfo() */
            o->scope_id = in6->sin6_scope_id;
        } else {
            continue;
        }
        o->port = j->port;
        j->naddrs++;
    }
    freeaddrinfo(res);
}

/* The pool's side: a full lookup, which may wait on the network. */
static void lookup_work(green_job *job)
{
    dns_lookup((lun_lookup *)job, 0);
}

static void lookup_free(green_job *job)
{
    lun_lookup *j = (lun_lookup *)job;
    free(j->host);
    free(j->addrs);
    free(j);
}

static lun_lookup *lookup_new(char *host, uint16_t port)
{
    lun_lookup *j = lvm_xcalloc(1, sizeof *j);
    if (!j)
        return NULL;
    green_job_init(&j->job, lookup_work, lookup_free);
    j->host = host;
    j->port = port;
    return j;
}

/* The process lets go of its pending lookup: collected, stale, or gone. */
static void lookup_drop(lun_proc *lp)
{
    if (lp->dns && lp->dns->pending) {
        green_job_release(&lp->dns->pending->job);
        lp->dns->pending = NULL;
    }
}

/* The process ends (lun_net_cleanup): its lookup still running on the
 * pool finishes there and is freed by the pool; nobody is woken. */
static void dns_drop(lun_proc *lp)
{
    if (!lp->dns)
        return;
    lookup_drop(lp);
    green_pool_owner_drop(lp->dns->pool, &lp->dns->owner);
    free(lp->dns);
    lp->dns = NULL;
}

/* }====== */

/* {====== resolve */

typedef struct lun_resolver {
    lun_addr *addrs;
    uint32_t n, next;
} lun_resolver;

/* "host:port" split at the last ':' (ABI 6.2).  The port is a u16 in
 * decimal (an optional '+', as Rust's parse accepts); "[a:b::c]" loses its
 * brackets when it is an IPv6 literal.  False (io code 12) for a missing
 * or bad port, or a NUL in the host (Rust's CString would refuse it). */
static bool split_host_port(const uint8_t *s, uint32_t len, char **host_out, uint16_t *port_out)
{
    uint32_t colon = len;
    while (colon > 0 && s[colon - 1] != ':')
        colon--;
    if (colon == 0)
        return false;               /* no ':' */
    const uint8_t *p = s + colon;
    uint32_t plen = len - colon;
    if (plen && *p == '+') {
        p++;
        plen--;
    }
    if (plen == 0)
        return false;
    uint32_t port = 0;
    for (uint32_t i = 0; i < plen; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        port = port * 10 + (p[i] - '0');
        if (port > 65535)
            return false;
    }
    uint32_t hlen = colon - 1;
    if (memchr(s, 0, hlen))
        return false;
    char *host = malloc(hlen + 1);
    if (!host)
        return false;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        struct in6_addr a;
        host[hlen - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &a) == 1)
            memmove(host, host + 1, hlen - 1);
        else
            host[hlen - 1] = ']';
    }
    *host_out = host;
    *port_out = (uint16_t)port;
    return true;
}

static void resolver_free(lun_resolver *r)
{
    if (r) {
        free(r->addrs);
        free(r);
    }
}

static lun_resolver *resolver_get(lun_proc *lp, uint32_t id)
{
    return id < lp->nresolvers ? lp->resolvers[id] : NULL;
}

/* Lookup j succeeded: its addresses become a new resolver (j keeps
 * nothing), whose id goes to the guest. */
static lvm_err resolved(lun_proc *lp, lun_lookup *j, lvm_val *ar, const wasi_mem *m, uint32_t out)
{
    lun_resolver **v = lun_grow(lp->resolvers, lp->nresolvers, &lp->capresolvers, sizeof *v);
    if (!v)
        return LVM_ERR_NO_MEMORY;
    lp->resolvers = v;
    lun_resolver *r = malloc(sizeof *r);
    if (!r)
        return LVM_ERR_NO_MEMORY;
    *r = (lun_resolver){ .addrs = j->addrs, .n = j->naddrs };
    j->addrs = NULL;
    lp->resolvers[lp->nresolvers] = r;
    return give(ar, m, out, lp->nresolvers++, IOC_OK);
}

/* resolve(name_ptr, name_len, out resolver_id*) -> io code.  An address
 * literal is answered at once; a name is looked up on the blocking pool
 * (green_pool_default) while this process waits, and the retry collects
 * it. */
static lvm_err lun_resolve(lvm_hostcall *call, lvm_val *ar)
{
    SELF("resolve");
    uint32_t ptr = ar[0].i32, len = ar[1].i32, out = ar[2].i32;
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, ptr, len))
        return lun_trap("resolve", "name [%u, +%u) is outside memory (ABI D5)", ptr, len);
    if (!lvm_utf8_valid(m.base + ptr, len))
        return lun_trap("resolve", "name of %u bytes is not valid UTF-8 (ABI 1.2)", len);
    CHECK_OUT("resolve", "resolver", out);
    char *host;
    uint16_t port;
    if (!split_host_port(m.base + ptr, len, &host, &port))
        return give(ar, &m, out, 0, IOC_INVALID_INPUT);

    /* A retry: the lookup in flight is this call's (a blocked process
     * makes no other call; a mismatch would be a stale one, dropped). */
    lun_lookup *j = lp->dns ? lp->dns->pending : NULL;
    if (j && (j->port != port || strcmp(j->host, host) != 0)) {
        lookup_drop(lp);
        j = NULL;
    }
    if (j) {
        free(host);
        if (!green_job_done(&j->job))
            return LVM_ERR_BLOCK;   /* a spurious wake-up: still its waiter */
        lvm_err e = !green_job_ran(&j->job) || j->err ? give(ar, &m, out, 0, IOC_OTHER)
                                                       : resolved(lp, j, ar, &m, out);
        if (e == LVM_OK)
            lookup_drop(lp);
        return e;
    }

    /* An address literal ("127.0.0.1:1", "[::1]:80") needs no resolver:
     * AI_NUMERICHOST parses it here at once, so it never waits behind
     * other processes' lookups of names. */
    j = lookup_new(host, port);
    if (!j) {
        free(host);
        return LVM_ERR_NO_MEMORY;
    }
    dns_lookup(j, AI_NUMERICHOST);
    if (j->err != EAI_NONAME) {
        lvm_err e = j->err ? give(ar, &m, out, 0, IOC_OTHER) : resolved(lp, j, ar, &m, out);
        green_job_release(&j->job);     /* never submitted: freed */
        return e;
    }

    /* A name is a DNS query, which needs the grant (a literal, above, asks
     * nobody: the crate resolves "127.0.0.1:80" before every connect, and
     * --allow-net=127.0.0.1:80 alone must let that work). */
    if (!wasi_caps_may_resolve(wasi_ctx_caps(lun_wasi(lp)))) {
        green_job_release(&j->job);     /* frees host too */
        return give(ar, &m, out, 0, IOC_PERMISSION_DENIED);     /* no --allow-dns */
    }

    /* A name: to the pool, while this process waits. */
    green_pool *pool = green_pool_default();
    if (!lp->dns && pool && (lp->dns = lvm_xcalloc(1, sizeof *lp->dns))) {
        lp->dns->pool = pool;
        green_pool_owner_init(&lp->dns->owner);
    }
    if (!lp->dns || !lp->dns->pool) {
        green_job_release(&j->job);
        return pool ? LVM_ERR_NO_MEMORY : give(ar, &m, out, 0, IOC_OTHER);
    }
    if (!green_pool_submit(lp->dns->pool, &lp->dns->owner, &j->job, &self->g)) {
        green_job_release(&j->job);
        return give(ar, &m, out, 0, IOC_OTHER);
    }
    lp->dns->pending = j;
    return LVM_ERR_BLOCK;
}

/* resolve_next(resolver_id, addr16*, out len*, out port* (u16), out
 * flowinfo*, out scope_id*) -> 0 (one more address) | 1 (exhausted).
 * flowinfo and scope_id are written for IPv6 only, but every pointer is
 * checked first (D7). */
static lvm_err lun_resolve_next(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("resolve_next");
    uint32_t id = ar[0].i32, addr = ar[1].i32, len_out = ar[2].i32, port_out = ar[3].i32;
    uint32_t flow_out = ar[4].i32, scope_out = ar[5].i32;
    lun_resolver *r = resolver_get(lp, id);
    if (!r)
        return lun_trap("resolve_next", "unknown resolver id %u (ABI D5)", id);
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, addr, 16))
        return lun_trap("resolve_next", "address buffer [%u, +16) is outside memory (ABI D7)", addr);
    CHECK_OUT("resolve_next", "length", len_out);
    if (!wasi_mem_check(&m, port_out, 2))
        return lun_trap("resolve_next", "port out-pointer %u is outside memory (ABI D7)", port_out);
    CHECK_OUT("resolve_next", "flowinfo", flow_out);
    CHECK_OUT("resolve_next", "scope_id", scope_out);
    if (r->next >= r->n) {
        ar[0].i32 = 1;
        return LVM_OK;
    }
    const lun_addr *a = &r->addrs[r->next++];
    wasi_copy_out(&m, addr, a->octets, a->len);
    wasi_store_u32(&m, len_out, a->len);
    wasi_store_u16(&m, port_out, a->port);
    if (a->len == 16) {
        wasi_store_u32(&m, flow_out, a->flowinfo);
        wasi_store_u32(&m, scope_out, a->scope_id);
    }
    ar[0].i32 = 0;
    return LVM_OK;
}

/* remove_resolver(id): unknown ids are ignored. */
static lvm_err lun_remove_resolver(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("remove_resolver");
    uint32_t id = ar[0].i32;
    lun_resolver *r = resolver_get(lp, id);
    if (r) {
        resolver_free(r);
        lp->resolvers[id] = NULL;
    }
    return LVM_OK;
}

/* }====== */

void lun_net_cleanup(lun_proc *lp)
{
    lun_table_free(&lp->tcp_streams);
    lun_table_free(&lp->tcp_listeners);
    for (uint32_t i = 0; i < lp->nresolvers; i++)
        resolver_free(lp->resolvers[i]);
    free(lp->resolvers);
    lp->resolvers = NULL;
    lp->nresolvers = lp->capresolvers = 0;
    connect_drop(lp);
    dns_drop(lp);
}

const wasi_import lun_net_imports[] = {
    { "tcp_bind",                 "iiii:i",   lun_tcp_bind },
    { "tcp_accept",               "ii:i",     lun_tcp_accept },
    { "tcp_connect",              "iiii:i",   lun_tcp_connect },
    { "tcp_read_vectored",        "iiii:i",   lun_tcp_read },
    { "tcp_write_vectored",       "iiii:i",   lun_tcp_write },
    { "tcp_flush",                "i:i",      lun_tcp_flush },
    { "close_tcp_listener",       "i:",       lun_close_listener },
    { "close_tcp_stream",         "i:",       lun_close_stream },
    { "tcp_stream_serialize",     "i:i",      lun_stream_serialize },
    { "tcp_stream_deserialize",   "i:i",      lun_stream_deserialize },
    { "tcp_listener_serialize",   "i:i",      lun_listener_serialize },
    { "tcp_listener_deserialize", "i:i",      lun_listener_deserialize },
    { "resolve",                  "iii:i",    lun_resolve },
    { "resolve_next",             "iiiiii:i", lun_resolve_next },
    { "remove_resolver",          "i:",       lun_remove_resolver },
    { NULL, NULL, NULL },
};
