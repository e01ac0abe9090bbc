/*
 * lunatic14_net.c - lunatic::networking of the 0.14 API (ABI 12): DNS,
 * TCP and UDP, with per-stream timeouts; and the TLS functions, which
 * lvm does not have (D-B).
 *
 * The same machinery as the 0.3 side (lunatic_net.c): non-blocking
 * sockets on the reactor, a call that would block parks only its process
 * (green_wait_fd) and is run again when woken; names are looked up on
 * green/'s blocking pool; the network grants of the process's WASI
 * context (wasi/caps.c: --allow-net, --allow-listen, --allow-dns) decide
 * what it may reach.  What 0.14 adds is timeouts, UDP and IPv6 in the
 * ABI, and errors as error resources with Rust's text ("Connection
 * refused (os error 111)").
 *
 * A blocking call with a timeout keeps its deadline in the process
 * (lp->wait = L14_WAIT_NET, lp->deadline) across its retries, parks on
 * the fd and, for a finite deadline, a timer too (green_sleep): whichever
 * wakes it, the retry either finishes or, past the deadline, answers 9027.
 * A connect in flight and a lookup on the pool are kept in lp->net.
 *
 * Sockets are reference counted (l14_sock): a clone (clone_tcp_stream,
 * clone_udp_socket) and a socket moving in a message share one, with its
 * timeouts, and the fd closes with the last reference.  Each counts as
 * one host descriptor of --max-total-fds.
 */
#include "lunatic14_internal.h"
#include "io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0          /* macOS: SO_NOSIGPIPE instead (io/net.c) */
#endif

#define NO_TIMEOUT UINT64_MAX
#define LISTEN_BACKLOG 128      /* Rust std's TcpListener::bind */

/* {====== sockets and address lists */

typedef struct l14_sock {
    atomic_uint refs;
    int fd;
    /* Timeouts in ms (NO_TIMEOUT: none), shared by every clone. */
    _Atomic uint64_t read_ms, write_ms, peek_ms;
} l14_sock;

/* A DNS iterator: addresses with ports, handed out one by one. */
typedef struct l14_dns {
    struct sockaddr_storage *addrs;
    uint32_t n, next;
} l14_dns;

static void close_fd(int fd)
{
    lvm_process *self = lvm_process_self();
    if (self)
        green_forget_fd(self->g.sched, fd);    /* a reactor may hold it */
    close(fd);
}

static void sock_retain(l14_sock *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

static void sock_release(l14_sock *s)
{
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    close_fd(s->fd);
    wasi_host_fd_uncharge();
    free(s);
}

void l14_tcp_retain(void *s) { sock_retain(s); }
void l14_tcp_release(void *s) { sock_release(s); }
void l14_udp_retain(void *s) { sock_retain(s); }
void l14_udp_release(void *s) { sock_release(s); }

static void sock_drop(void *s) { sock_release(s); }

static void dns_free(void *v)
{
    l14_dns *d = v;
    free(d->addrs);
    free(d);
}

/* A one-element iterator (local/peer addresses, a receive's sender). */
static l14_dns *dns_one(const struct sockaddr_storage *ss)
{
    l14_dns *d = lvm_xcalloc(1, sizeof *d);
    if (!d || !(d->addrs = malloc(sizeof *d->addrs))) {
        free(d);
        return NULL;
    }
    d->addrs[0] = *ss;
    d->n = 1;
    return d;
}

/* }====== */

/* {====== results and errors */

/* Write id to out (checked before) and return code. */
static lvm_err give(lvm_hostcall *call, lvm_val *ar, uint32_t out, uint64_t id, uint32_t code,
                    const char *fn)
{
    if (id == UINT64_MAX)
        return l14_trap(fn, "out of host memory");
    wasi_mem m = wasi_mem_of(call);
    wasi_store_u64(&m, out, id);
    ar[0].i32 = code;
    return LVM_OK;
}

/* An OS error as an error resource: 1 + its id. */
static lvm_err give_os(lvm_hostcall *call, lvm_val *ar, l14_proc *lp, uint32_t out, int err,
                       const char *fn)
{
    lp->wait = L14_WAIT_NONE;
    return give(call, ar, out, l14_error_os(lp, err), L14_ERROR, fn);
}

/* The 9027 of a timeout: nothing useful written (0). */
static lvm_err give_timeout(lvm_hostcall *call, lvm_val *ar, l14_proc *lp, uint32_t out,
                            const char *fn)
{
    lp->wait = L14_WAIT_NONE;
    return give(call, ar, out, 0, L14_TIMEOUT, fn);
}

/* A grant the process does not hold: Rust's PermissionDenied, and once
 * per process a line naming the option that grants it. */
static lvm_err give_denied(lvm_hostcall *call, lvm_val *ar, l14_proc *lp, uint32_t out,
                           const char *option, const char *fn)
{
    static _Atomic bool told;
    if (!atomic_exchange(&told, true))
        fprintf(stderr, "lvm: process %llu: lunatic::%s denied: not granted (see %s)\n",
                (unsigned long long)lp->actor.id, fn, option);
    return give_os(call, ar, lp, out, EACCES, fn);
}

/* }====== */

/* {====== arguments */

#define SOCK(table, fn, idx)                                                        \
    l14_sock *s = l14_table_get(&lp->table, ar[idx].i64);                           \
    if (!s)                                                                         \
        return l14_trap(fn, "Trap raised during host call: %s %llu not found (%s).", \
                        #table, (unsigned long long)ar[idx].i64, fn)

/* The address of (addr_type, addr_ptr, port, flow_info, scope_id) as a
 * sockaddr; false for a bad range (a trap) or *bad_type for a type other
 * than 4 and 6 (ABI 12.1: a trap too). */
static bool addr_in(const wasi_mem *m, uint32_t type, uint32_t ptr, uint32_t port, uint32_t flow,
                    uint32_t scope, struct sockaddr_storage *ss, socklen_t *len, bool *bad_type)
{
    memset(ss, 0, sizeof *ss);
    *bad_type = false;
    if (type == 4) {
        if (!wasi_mem_check(m, ptr, 4))
            return false;
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        memcpy(&in->sin_addr, m->base + ptr, 4);
        *len = sizeof *in;
        return true;
    }
    if (type == 6) {
        if (!wasi_mem_check(m, ptr, 16))
            return false;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        in6->sin6_flowinfo = htonl(flow);
        in6->sin6_scope_id = scope;
        memcpy(&in6->sin6_addr, m->base + ptr, 16);
        *len = sizeof *in6;
        return true;
    }
    *bad_type = true;
    return false;
}

#define ADDR_ARGS(fn, i, ss, sslen)                                                   \
    struct sockaddr_storage ss;                                                       \
    socklen_t sslen = 0;                                                              \
    {                                                                                 \
        bool bad_type;                                                                \
        if (!addr_in(&m, ar[i].i32, ar[i + 1].i32, ar[i + 2].i32, ar[i + 3].i32,      \
                     ar[i + 4].i32, &ss, &sslen, &bad_type))                          \
            return bad_type ? l14_trap(fn, "Unsupported address type %u", ar[i].i32)  \
                            : l14_trap_mem(fn);                                       \
    }

/* The octets and port of a sockaddr, for the capability check. */
static bool may(l14_proc *lp, wasi_net_kind kind, const struct sockaddr_storage *ss)
{
    wasi_ctx *ctx = lp->wasi ? lp->wasi : lp->root_wasi;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        return wasi_caps_may(wasi_ctx_caps(ctx), kind, (const uint8_t *)&in->sin_addr, 4,
                             ntohs(in->sin_port));
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    return wasi_caps_may(wasi_ctx_caps(ctx), kind, (const uint8_t *)&in6->sin6_addr, 16,
                         ntohs(in6->sin6_port));
}

/* Wrap a fresh fd; false (fd closed, *err set) past --max-total-fds or
 * out of memory. */
static l14_sock *sock_new(int fd, int *err)
{
    if (!wasi_host_fd_charge()) {
        close(fd);
        *err = ENFILE;
        return NULL;
    }
    l14_sock *s = malloc(sizeof *s);
    if (!s) {
        close(fd);
        wasi_host_fd_uncharge();
        *err = ENOMEM;
        return NULL;
    }
    atomic_init(&s->refs, 1);
    s->fd = fd;
    atomic_init(&s->read_ms, NO_TIMEOUT);
    atomic_init(&s->write_ms, NO_TIMEOUT);
    atomic_init(&s->peek_ms, NO_TIMEOUT);
    return s;
}

/* Add s to t: its id, or UINT64_MAX (s released). */
static uint64_t sock_add(l14_table *t, l14_sock *s)
{
    uint64_t id = l14_table_add(t, s);
    if (id == UINT64_MAX)
        sock_release(s);
    return id;
}

/* }====== */

/* {====== waiting with a deadline */

/* The deadline of this call: set on its first attempt (ms from now;
 * NO_TIMEOUT: none), kept by its retries. */
static uint64_t net_deadline(l14_proc *lp, uint64_t ms)
{
    if (lp->wait != L14_WAIT_NET) {
        lp->wait = L14_WAIT_NET;
        if (ms == NO_TIMEOUT) {
            lp->deadline = UINT64_MAX;
        } else {
            uint64_t now = io_now_ns();
            uint64_t ns = ms > (UINT64_MAX - now) / 1000000 ? UINT64_MAX - now : ms * 1000000;
            lp->deadline = now + ns;
        }
    }
    return lp->deadline;
}

/* Park on fd (and the deadline): LVM_ERR_BLOCK, or a host errno if the
 * fd cannot be watched (*err), or 1 if the deadline has passed. */
static int park(l14_proc *lp, int fd, unsigned dir)
{
    uint64_t now = io_now_ns();
    if (lp->deadline != UINT64_MAX && now >= lp->deadline)
        return 1;
    int e = green_wait_fd(&lp->p->g, fd, dir);
    if (e)
        return -e;
    if (lp->deadline != UINT64_MAX)
        green_sleep(&lp->p->g, lp->deadline - now);
    return 0;
}

/* }====== */

/* {====== DNS (ABI 12.2) */

/* A lookup on the blocking pool, kept in lp->net across the retries. */
typedef struct dns_job {
    green_job job;
    char *host;
    uint16_t port;
    int err;                    /* EAI_*, 0 */
    struct sockaddr_storage *addrs;
    uint32_t n;
} dns_job;

struct l14_net_wait {
    /* resolve */
    green_pool *pool;
    green_pool_owner owner;
    bool owner_ready;
    dns_job *dns;
    /* tcp_connect */
    int connect_fd;             /* -1: none */
    struct sockaddr_storage connect_to;
    socklen_t connect_len;
};

static struct l14_net_wait *net_state(l14_proc *lp)
{
    if (!lp->net) {
        lp->net = lvm_xcalloc(1, sizeof *lp->net);
        if (lp->net)
            lp->net->connect_fd = -1;
    }
    return lp->net;
}

static void lookup(dns_job *j, int flags)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = flags };
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
        if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
            a->ai_addrlen > sizeof *j->addrs)
            continue;
        struct sockaddr_storage *o = &j->addrs[j->n++];
        memset(o, 0, sizeof *o);
        memcpy(o, a->ai_addr, a->ai_addrlen);
        if (a->ai_family == AF_INET)
            ((struct sockaddr_in *)o)->sin_port = htons(j->port);
        else
            ((struct sockaddr_in6 *)o)->sin6_port = htons(j->port);
    }
    freeaddrinfo(res);
}

static void dns_work(green_job *g)
{
    lookup((dns_job *)g, AI_ADDRCONFIG);
}

static void dns_job_free(green_job *g)
{
    dns_job *j = (dns_job *)g;
    free(j->host);
    free(j->addrs);
    free(j);
}

/* "host:port" or "[v6]:port" -> host and port; false if malformed. */
static bool split_name(const char *s, uint32_t len, char *host, size_t cap, uint16_t *port)
{
    const char *colon = NULL;
    for (uint32_t i = len; i > 0; i--)
        if (s[i - 1] == ':') {
            colon = s + i - 1;
            break;
        }
    if (!colon || colon == s || colon + 1 == s + len)
        return false;
    unsigned long p = 0;
    for (const char *c = colon + 1; c < s + len; c++) {
        if (*c < '0' || *c > '9' || (p = p * 10 + (unsigned long)(*c - '0')) > 65535)
            return false;
    }
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= cap || memchr(h, '\0', hl))
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return true;
}

/* Turn a finished lookup into an iterator: 0 + id, or 1 + error. */
static lvm_err dns_answer(lvm_hostcall *call, lvm_val *ar, l14_proc *lp, uint32_t out,
                          dns_job *j, const char *fn)
{
    lp->wait = L14_WAIT_NONE;
    if (j->err) {
        uint64_t e = j->err == EAI_SYSTEM ? l14_error_os(lp, errno)
                                          : l14_error_new(lp, "failed to lookup address "
                                                          "information: %s", gai_strerror(j->err));
        return give(call, ar, out, e, L14_ERROR, fn);
    }
    l14_dns *d = lvm_xcalloc(1, sizeof *d);
    if (!d)
        return l14_trap(fn, "out of host memory");
    d->addrs = j->addrs;
    d->n = j->n;
    j->addrs = NULL;
    uint64_t id = l14_table_add(&lp->dns, d);
    if (id == UINT64_MAX)
        dns_free(d);
    return give(call, ar, out, id, L14_OK, fn);
}

static void dns_drop(l14_proc *lp)
{
    if (lp->net && lp->net->dns) {
        green_job_release(&lp->net->dns->job);
        lp->net->dns = NULL;
    }
}

/* resolve(name, len, timeout_ms, id_ptr) -> 0 / 1 / 9027 */
static lvm_err h_resolve(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::resolve";
    L14_SELF(fn);
    wasi_mem m = wasi_mem_of(call);
    const char *name;
    uint32_t len = ar[1].i32, out = ar[3].i32;
    if (!l14_guest_str(&m, ar[0].i32, len, &name) || !wasi_mem_check(&m, out, 8))
        return l14_trap_mem(fn);
    net_deadline(lp, ar[2].i64);
    struct l14_net_wait *nw = net_state(lp);
    if (!nw)
        return l14_trap(fn, "out of host memory");
    if (nw->dns) {                      /* a retry: the lookup's answer? */
        if (green_job_done(&nw->dns->job)) {
            dns_job *j = nw->dns;
            nw->dns = NULL;
            lvm_err err = green_job_ran(&j->job) ? dns_answer(call, ar, lp, out, j, fn)
                                                 : give_os(call, ar, lp, out, ECANCELED, fn);
            green_job_release(&j->job);
            return err;
        }
        if (io_now_ns() >= lp->deadline) {
            dns_drop(lp);               /* it finishes alone, unread */
            return give_timeout(call, ar, lp, out, fn);
        }
        green_sleep(&lp->p->g, lp->deadline == UINT64_MAX ? 50000000
                                                          : lp->deadline - io_now_ns());
        return LVM_ERR_BLOCK;
    }
    char host[256];
    uint16_t port;
    if (!split_name(name, len, host, sizeof host, &port)) {
        lp->wait = L14_WAIT_NONE;
        return give(call, ar, out, l14_error_new(lp, "invalid socket address"), L14_ERROR, fn);
    }
    dns_job *j = lvm_xcalloc(1, sizeof *j);
    if (!j || !(j->host = strdup(host))) {
        free(j);
        return l14_trap(fn, "out of host memory");
    }
    j->port = port;
    green_job_init(&j->job, dns_work, dns_job_free);
    /* An address literal is parsed at once: no resolver, no grant. */
    lookup(j, AI_NUMERICHOST);
    if (j->err == 0) {
        lvm_err err = dns_answer(call, ar, lp, out, j, fn);
        green_job_release(&j->job);
        return err;
    }
    j->err = 0;
    wasi_ctx *ctx = lp->wasi ? lp->wasi : lp->root_wasi;
    if (!wasi_caps_may_resolve(wasi_ctx_caps(ctx))) {
        green_job_release(&j->job);
        return give_denied(call, ar, lp, out, "--allow-dns", fn);
    }
    if (!nw->pool && !(nw->pool = green_pool_default())) {
        green_job_release(&j->job);
        return give_os(call, ar, lp, out, EAGAIN, fn);
    }
    if (!nw->owner_ready) {
        green_pool_owner_init(&nw->owner);
        nw->owner_ready = true;
    }
    if (!green_pool_submit(nw->pool, &nw->owner, &j->job, &lp->p->g)) {
        green_job_release(&j->job);
        return give_os(call, ar, lp, out, EAGAIN, fn);
    }
    nw->dns = j;
    if (lp->deadline != UINT64_MAX)
        green_sleep(&lp->p->g, lp->deadline - io_now_ns());
    return LVM_ERR_BLOCK;
}

static lvm_err h_drop_dns_iterator(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::drop_dns_iterator";
    L14_SELF(fn);
    l14_dns *d = l14_table_take(&lp->dns, ar[0].i64);
    if (!d)
        return l14_trap(fn, "Trap raised during host call: DNS iterator %llu not found (%s).",
                        (unsigned long long)ar[0].i64, fn);
    dns_free(d);
    return LVM_OK;
}

/* resolve_next(iter, type_ptr, addr_ptr, port_ptr, flow_ptr, scope_ptr) */
static lvm_err h_resolve_next(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::resolve_next";
    L14_SELF(fn);
    l14_dns *d = l14_table_get(&lp->dns, ar[0].i64);
    if (!d)
        return l14_trap(fn, "Trap raised during host call: DNS iterator %llu not found (%s).",
                        (unsigned long long)ar[0].i64, fn);
    wasi_mem m = wasi_mem_of(call);
    uint32_t tp = ar[1].i32, ap = ar[2].i32, pp = ar[3].i32, fp = ar[4].i32, sp = ar[5].i32;
    if (!wasi_mem_check(&m, tp, 4) || !wasi_mem_check(&m, ap, 16) || !wasi_mem_check(&m, pp, 2) ||
        !wasi_mem_check(&m, fp, 4) || !wasi_mem_check(&m, sp, 4))
        return l14_trap_mem(fn);
    if (d->next >= d->n) {
        ar[0].i32 = 1;                  /* exhausted */
        return LVM_OK;
    }
    const struct sockaddr_storage *ss = &d->addrs[d->next++];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        wasi_store_u32(&m, tp, 4);
        wasi_copy_out(&m, ap, &in->sin_addr, 4);
        wasi_store_u16(&m, pp, ntohs(in->sin_port));
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        wasi_store_u32(&m, tp, 6);
        wasi_copy_out(&m, ap, &in6->sin6_addr, 16);
        wasi_store_u16(&m, pp, ntohs(in6->sin6_port));
        wasi_store_u32(&m, fp, ntohl(in6->sin6_flowinfo));
        wasi_store_u32(&m, sp, in6->sin6_scope_id);
    }
    ar[0].i32 = 0;
    return LVM_OK;
}

/* }====== */

/* {====== TCP (ABI 12.3) */

/* tcp_bind(addr..., id_ptr) */
static lvm_err h_tcp_bind(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::tcp_bind";
    L14_SELF(fn);
    wasi_mem m = wasi_mem_of(call);
    uint32_t out = ar[5].i32;
    ADDR_ARGS(fn, 0, ss, sslen);
    if (!wasi_mem_check(&m, out, 8))
        return l14_trap_mem(fn);
    if (!may(lp, WASI_NET_LISTEN, &ss))
        return give_denied(call, ar, lp, out, "--allow-listen", fn);
    int fd = io_tcp_listen_addr((struct sockaddr *)&ss, sslen, LISTEN_BACKLOG);
    if (fd < 0)
        return give_os(call, ar, lp, out, -fd, fn);
    int err;
    l14_sock *s = sock_new(fd, &err);
    if (!s)
        return give_os(call, ar, lp, out, err, fn);
    return give(call, ar, out, sock_add(&lp->tcp_listeners, s), L14_OK, fn);
}

/* An address as a one-element iterator: 0 + id / 1 + error. */
static lvm_err give_addr(lvm_hostcall *call, lvm_val *ar, l14_proc *lp, uint32_t out, int fd,
                         bool peer, const char *fn)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
              : getsockname(fd, (struct sockaddr *)&ss, &len)) != 0)
        return give_os(call, ar, lp, out, errno, fn);
    l14_dns *d = dns_one(&ss);
    if (!d)
        return l14_trap(fn, "out of host memory");
    uint64_t id = l14_table_add(&lp->dns, d);
    if (id == UINT64_MAX)
        dns_free(d);
    return give(call, ar, out, id, L14_OK, fn);
}

/* tcp_local_addr, tcp_peer_addr, udp_local_addr, udp_peer_addr(id,
 * iter_ptr): the address as a one-element iterator. */
#define ADDR_FN(name, table, peer)                                     \
    static lvm_err h_##name(lvm_hostcall *call, lvm_val *ar)           \
    {                                                                  \
        const char *fn = "networking::" #name;                         \
        L14_SELF(fn);                                                  \
        SOCK(table, fn, 0);                                            \
        wasi_mem m = wasi_mem_of(call);                                \
        if (!wasi_mem_check(&m, ar[1].i32, 8))                         \
            return l14_trap_mem(fn);                                   \
        return give_addr(call, ar, lp, ar[1].i32, s->fd, peer, fn);    \
    }

ADDR_FN(tcp_local_addr, tcp_listeners, false)
ADDR_FN(tcp_peer_addr, tcp_streams, true)
ADDR_FN(udp_local_addr, udp_sockets, false)
ADDR_FN(udp_peer_addr, udp_sockets, true)


/* tcp_accept(listener, id_ptr, peer_iter_ptr): blocks, no timeout. */
static lvm_err h_tcp_accept(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::tcp_accept";
    L14_SELF(fn);
    SOCK(tcp_listeners, fn, 0);
    wasi_mem m = wasi_mem_of(call);
    uint32_t out = ar[1].i32, peer_out = ar[2].i32;
    if (!wasi_mem_check(&m, out, 8) || !wasi_mem_check(&m, peer_out, 8))
        return l14_trap_mem(fn);
    net_deadline(lp, NO_TIMEOUT);
    for (;;) {
        struct sockaddr_storage peer;
        int fd = io_accept(s->fd, &peer);
        if (fd == -ECONNABORTED || fd == -EINTR)
            continue;
        if (fd == -EAGAIN) {
            int r = park(lp, s->fd, IO_READ);
            if (r == 0)
                return LVM_ERR_BLOCK;
            fd = r;
        }
        if (fd < 0) {
            wasi_store_u64(&m, peer_out, 0);
            return give_os(call, ar, lp, out, -fd, fn);
        }
        lp->wait = L14_WAIT_NONE;
        int err;
        l14_sock *c = sock_new(fd, &err);
        if (!c) {
            wasi_store_u64(&m, peer_out, 0);
            return give_os(call, ar, lp, out, err, fn);
        }
        uint64_t id = sock_add(&lp->tcp_streams, c);
        l14_dns *d = id == UINT64_MAX ? NULL : dns_one(&peer);
        uint64_t pid = d ? l14_table_add(&lp->dns, d) : UINT64_MAX;
        if (pid == UINT64_MAX) {
            if (d)
                dns_free(d);
            return l14_trap(fn, "out of host memory");
        }
        wasi_store_u64(&m, peer_out, pid);
        return give(call, ar, out, id, L14_OK, fn);
    }
}

static void connect_drop(l14_proc *lp)
{
    if (lp->net && lp->net->connect_fd >= 0) {
        close_fd(lp->net->connect_fd);
        lp->net->connect_fd = -1;
    }
}

/* tcp_connect(addr..., timeout_ms, id_ptr) -> 0 / 1 / 9027 */
static lvm_err h_tcp_connect(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::tcp_connect";
    L14_SELF(fn);
    wasi_mem m = wasi_mem_of(call);
    uint32_t out = ar[6].i32;
    ADDR_ARGS(fn, 0, ss, sslen);
    if (!wasi_mem_check(&m, out, 8))
        return l14_trap_mem(fn);
    if (!may(lp, WASI_NET_CONNECT, &ss))
        return give_denied(call, ar, lp, out, "--allow-net", fn);
    struct l14_net_wait *nw = net_state(lp);
    if (!nw)
        return l14_trap(fn, "out of host memory");
    bool retry = lp->wait == L14_WAIT_NET;
    net_deadline(lp, ar[5].i64);
    if (retry && nw->connect_fd >= 0 &&
        (nw->connect_len != sslen || memcmp(&nw->connect_to, &ss, sslen) != 0))
        connect_drop(lp);               /* stale: not this call's */
    if (nw->connect_fd < 0) {
        int fd = io_tcp_connect_addr((struct sockaddr *)&ss, sslen);
        if (fd < 0)
            return give_os(call, ar, lp, out, -fd, fn);
        nw->connect_fd = fd;
        nw->connect_to = ss;
        nw->connect_len = sslen;
    }
    struct pollfd pfd = { nw->connect_fd, POLLOUT, 0 };
    int n;
    do
        n = poll(&pfd, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n == 0) {
        int r = park(lp, nw->connect_fd, IO_WRITE);
        if (r == 0)
            return LVM_ERR_BLOCK;
        connect_drop(lp);
        if (r == 1)
            return give_timeout(call, ar, lp, out, fn);
        return give_os(call, ar, lp, out, -r, fn);
    }
    int e = n < 0 ? -errno : io_tcp_connect_result(nw->connect_fd);
    if (e < 0) {
        connect_drop(lp);
        return give_os(call, ar, lp, out, -e, fn);
    }
    int fd = nw->connect_fd;
    nw->connect_fd = -1;
    lp->wait = L14_WAIT_NONE;
    int err;
    l14_sock *s = sock_new(fd, &err);
    if (!s)
        return give_os(call, ar, lp, out, err, fn);
    return give(call, ar, out, sock_add(&lp->tcp_streams, s), L14_OK, fn);
}

static lvm_err h_clone_tcp_stream(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::clone_tcp_stream";
    L14_SELF(fn);
    SOCK(tcp_streams, fn, 0);
    sock_retain(s);
    uint64_t id = sock_add(&lp->tcp_streams, s);
    if (id == UINT64_MAX)
        return l14_trap(fn, "out of host memory");
    ar[0].i64 = id;
    return LVM_OK;
}

#define DROP_FN(name, table, what)                                                    \
    static lvm_err h_##name(lvm_hostcall *call, lvm_val *ar)                          \
    {                                                                                 \
        const char *fn = "networking::" #name;                                        \
        L14_SELF(fn);                                                                 \
        l14_sock *s = l14_table_take(&lp->table, ar[0].i64);                          \
        if (!s)                                                                       \
            return l14_trap(fn, "Trap raised during host call: " what " %llu not found (%s).", \
                            (unsigned long long)ar[0].i64, fn);                       \
        sock_release(s);                                                              \
        return LVM_OK;                                                                \
    }

DROP_FN(drop_tcp_stream, tcp_streams, "TcpStream")
DROP_FN(drop_tcp_listener, tcp_listeners, "TcpListener")
DROP_FN(drop_udp_socket, udp_sockets, "UdpSocket")

/* One read, peek or write on a stream with its timeout: 0 + count /
 * 1 + error / 9027. */
enum xfer { X_READ, X_PEEK, X_WRITE };

static lvm_err transfer(lvm_hostcall *call, lvm_val *ar, enum xfer x, const char *fn)
{
    L14_SELF(fn);
    SOCK(tcp_streams, fn, 0);
    wasi_mem m = wasi_mem_of(call);
    uint32_t out = ar[3].i32;
    struct iovec v[WASI_MAX_IOV];
    int nv = 1;
    if (x == X_WRITE) {
        uint32_t bad;
        if (!wasi_gather(&m, ar[1].i32, ar[2].i32, v, &nv, &bad))
            return l14_trap_mem(fn);
    } else {
        if (!wasi_mem_check(&m, ar[1].i32, ar[2].i32))
            return l14_trap_mem(fn);
        v[0].iov_base = m.base + ar[1].i32;
        v[0].iov_len = ar[2].i32;
    }
    if (!wasi_mem_check(&m, out, 8))
        return l14_trap_mem(fn);
    uint64_t ms = atomic_load(x == X_READ ? &s->read_ms : x == X_PEEK ? &s->peek_ms : &s->write_ms);
    net_deadline(lp, ms);
    for (;;) {
        ssize_t n;
        if (x == X_WRITE) {
            struct msghdr msg = { .msg_iov = v, .msg_iovlen = (size_t)nv };
            n = nv ? sendmsg(s->fd, &msg, MSG_NOSIGNAL) : 0;
        } else if (x == X_PEEK) {
            n = recv(s->fd, v[0].iov_base, v[0].iov_len, MSG_PEEK);     /* D8 */
        } else {
            n = read(s->fd, v[0].iov_base, v[0].iov_len);
        }
        if (n >= 0) {
            lp->wait = L14_WAIT_NONE;
            return give(call, ar, out, (uint64_t)n, L14_OK, fn);
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return give_os(call, ar, lp, out, errno, fn);
        int r = park(lp, s->fd, x == X_WRITE ? IO_WRITE : IO_READ);
        if (r == 0)
            return LVM_ERR_BLOCK;
        if (r == 1)
            return give_timeout(call, ar, lp, out, fn);
        return give_os(call, ar, lp, out, -r, fn);
    }
}

static lvm_err h_tcp_read(lvm_hostcall *call, lvm_val *ar)
{
    return transfer(call, ar, X_READ, "networking::tcp_read");
}

static lvm_err h_tcp_peek(lvm_hostcall *call, lvm_val *ar)
{
    return transfer(call, ar, X_PEEK, "networking::tcp_peek");
}

static lvm_err h_tcp_write_vectored(lvm_hostcall *call, lvm_val *ar)
{
    return transfer(call, ar, X_WRITE, "networking::tcp_write_vectored");
}

/* Nothing is buffered in lvm: a flush has nothing to do. */
static lvm_err h_tcp_flush(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::tcp_flush";
    L14_SELF(fn);
    SOCK(tcp_streams, fn, 0);
    (void)s;
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, ar[1].i32, 8))
        return l14_trap_mem(fn);
    return give(call, ar, ar[1].i32, 0, L14_OK, fn);
}

#define TIMEOUT_FNS(which)                                                            \
    static lvm_err h_set_##which##_timeout(lvm_hostcall *call, lvm_val *ar)           \
    {                                                                                 \
        const char *fn = "networking::set_" #which "_timeout";                        \
        L14_SELF(fn);                                                                 \
        SOCK(tcp_streams, fn, 0);                                                     \
        atomic_store(&s->which##_ms, ar[1].i64);                                      \
        return LVM_OK;                                                                \
    }                                                                                 \
    static lvm_err h_get_##which##_timeout(lvm_hostcall *call, lvm_val *ar)           \
    {                                                                                 \
        const char *fn = "networking::get_" #which "_timeout";                        \
        L14_SELF(fn);                                                                 \
        SOCK(tcp_streams, fn, 0);                                                     \
        ar[0].i64 = atomic_load(&s->which##_ms);                                      \
        return LVM_OK;                                                                \
    }

TIMEOUT_FNS(read)
TIMEOUT_FNS(write)
TIMEOUT_FNS(peek)

/* }====== */

/* {====== UDP (ABI 12.4) */

static int udp_socket(int family)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

static lvm_err h_udp_bind(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::udp_bind";
    L14_SELF(fn);
    wasi_mem m = wasi_mem_of(call);
    uint32_t out = ar[5].i32;
    ADDR_ARGS(fn, 0, ss, sslen);
    if (!wasi_mem_check(&m, out, 8))
        return l14_trap_mem(fn);
    if (!may(lp, WASI_NET_LISTEN, &ss))
        return give_denied(call, ar, lp, out, "--allow-listen", fn);
    int fd = udp_socket(ss.ss_family);
    if (fd < 0)
        return give_os(call, ar, lp, out, -fd, fn);
    if (bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
        int e = errno;
        close(fd);
        return give_os(call, ar, lp, out, e, fn);
    }
    int err;
    l14_sock *s = sock_new(fd, &err);
    if (!s)
        return give_os(call, ar, lp, out, err, fn);
    return give(call, ar, out, sock_add(&lp->udp_sockets, s), L14_OK, fn);
}

/* udp_connect(sock, addr..., timeout, error_ptr): sets the default peer
 * (a UDP connect does not wait, so the timeout never expires). */
static lvm_err h_udp_connect(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::udp_connect";
    L14_SELF(fn);
    SOCK(udp_sockets, fn, 0);
    wasi_mem m = wasi_mem_of(call);
    uint32_t out = ar[7].i32;
    ADDR_ARGS(fn, 1, ss, sslen);
    if (!wasi_mem_check(&m, out, 8))
        return l14_trap_mem(fn);
    if (!may(lp, WASI_NET_CONNECT, &ss))
        return give_denied(call, ar, lp, out, "--allow-net", fn);
    if (connect(s->fd, (struct sockaddr *)&ss, sslen) != 0)
        return give_os(call, ar, lp, out, errno, fn);
    return give(call, ar, out, 0, L14_OK, fn);
}

/* Send (to: NULL for the connected peer) or receive one datagram. */
static lvm_err datagram(lvm_hostcall *call, lvm_val *ar, l14_proc *lp, l14_sock *s, bool out_dir,
                        const struct sockaddr_storage *to, socklen_t tolen, uint32_t out,
                        uint32_t from_out, const char *fn)
{
    wasi_mem m = wasi_mem_of(call);
    uint8_t *buf = m.base + ar[1].i32;
    size_t len = ar[2].i32;
    net_deadline(lp, NO_TIMEOUT);
    for (;;) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n = out_dir ? (to ? sendto(s->fd, buf, len, MSG_NOSIGNAL, (const struct sockaddr *)to, tolen)
                               : send(s->fd, buf, len, MSG_NOSIGNAL))
                         : recvfrom(s->fd, buf, len, 0, (struct sockaddr *)&from, &fromlen);
        if (n >= 0) {
            lp->wait = L14_WAIT_NONE;
            if (from_out) {
                l14_dns *d = dns_one(&from);
                uint64_t id = d ? l14_table_add(&lp->dns, d) : UINT64_MAX;
                if (id == UINT64_MAX) {
                    if (d)
                        dns_free(d);
                    return l14_trap(fn, "out of host memory");
                }
                wasi_store_u64(&m, from_out, id);
            }
            return give(call, ar, out, (uint64_t)n, L14_OK, fn);
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return give_os(call, ar, lp, out, errno, fn);
        int r = park(lp, s->fd, out_dir ? IO_WRITE : IO_READ);
        if (r == 0)
            return LVM_ERR_BLOCK;
        return give_os(call, ar, lp, out, r == 1 ? ETIMEDOUT : -r, fn);
    }
}

static lvm_err h_udp_send(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::udp_send";
    L14_SELF(fn);
    SOCK(udp_sockets, fn, 0);
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, ar[1].i32, ar[2].i32) || !wasi_mem_check(&m, ar[3].i32, 8))
        return l14_trap_mem(fn);
    return datagram(call, ar, lp, s, true, NULL, 0, ar[3].i32, 0, fn);
}

static lvm_err h_udp_send_to(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::udp_send_to";
    L14_SELF(fn);
    SOCK(udp_sockets, fn, 0);
    wasi_mem m = wasi_mem_of(call);
    ADDR_ARGS(fn, 3, ss, sslen);
    uint32_t out = ar[8].i32;
    if (!wasi_mem_check(&m, ar[1].i32, ar[2].i32) || !wasi_mem_check(&m, out, 8))
        return l14_trap_mem(fn);
    if (!may(lp, WASI_NET_CONNECT, &ss))
        return give_denied(call, ar, lp, out, "--allow-net", fn);
    return datagram(call, ar, lp, s, true, &ss, sslen, out, 0, fn);
}

static lvm_err h_udp_receive(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::udp_receive";
    L14_SELF(fn);
    SOCK(udp_sockets, fn, 0);
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, ar[1].i32, ar[2].i32) || !wasi_mem_check(&m, ar[3].i32, 8))
        return l14_trap_mem(fn);
    return datagram(call, ar, lp, s, false, NULL, 0, ar[3].i32, 0, fn);
}

static lvm_err h_udp_receive_from(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::udp_receive_from";
    L14_SELF(fn);
    SOCK(udp_sockets, fn, 0);
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, ar[1].i32, ar[2].i32) || !wasi_mem_check(&m, ar[3].i32, 8) ||
        !wasi_mem_check(&m, ar[4].i32, 8))
        return l14_trap_mem(fn);
    return datagram(call, ar, lp, s, false, NULL, 0, ar[3].i32, ar[4].i32, fn);
}



/* TTL and broadcast: an OS failure traps (ABI 12.4). */
static int ttl_opt(int fd, int *level, int *name)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return errno;
    *level = ss.ss_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
    *name = ss.ss_family == AF_INET6 ? IPV6_UNICAST_HOPS : IP_TTL;
    return 0;
}

static lvm_err h_set_udp_socket_ttl(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::set_udp_socket_ttl";
    L14_SELF(fn);
    SOCK(udp_sockets, fn, 0);
    int level, name, v = (int)ar[1].i32;
    int e = ttl_opt(s->fd, &level, &name);
    if (e || setsockopt(s->fd, level, name, &v, sizeof v) != 0)
        return l14_trap(fn, "%s (os error %d)", strerror(e ? e : errno), e ? e : errno);
    return LVM_OK;
}

static lvm_err h_get_udp_socket_ttl(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::get_udp_socket_ttl";
    L14_SELF(fn);
    SOCK(udp_sockets, fn, 0);
    int level, name, v = 0;
    socklen_t len = sizeof v;
    int e = ttl_opt(s->fd, &level, &name);
    if (e || getsockopt(s->fd, level, name, &v, &len) != 0)
        return l14_trap(fn, "%s (os error %d)", strerror(e ? e : errno), e ? e : errno);
    ar[0].i32 = (uint32_t)v;
    return LVM_OK;
}

static lvm_err h_set_udp_socket_broadcast(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::set_udp_socket_broadcast";
    L14_SELF(fn);
    SOCK(udp_sockets, fn, 0);
    int v = ar[1].i32 != 0;
    if (setsockopt(s->fd, SOL_SOCKET, SO_BROADCAST, &v, sizeof v) != 0)
        return l14_trap(fn, "%s (os error %d)", strerror(errno), errno);
    return LVM_OK;
}

static lvm_err h_get_udp_socket_broadcast(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::get_udp_socket_broadcast";
    L14_SELF(fn);
    SOCK(udp_sockets, fn, 0);
    int v = 0;
    socklen_t len = sizeof v;
    if (getsockopt(s->fd, SOL_SOCKET, SO_BROADCAST, &v, &len) != 0)
        return l14_trap(fn, "%s (os error %d)", strerror(errno), errno);
    ar[0].i32 = v != 0;
    return LVM_OK;
}

static lvm_err h_clone_udp_socket(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "networking::clone_udp_socket";
    L14_SELF(fn);
    SOCK(udp_sockets, fn, 0);
    sock_retain(s);
    uint64_t id = sock_add(&lp->udp_sockets, s);
    if (id == UINT64_MAX)
        return l14_trap(fn, "out of host memory");
    ar[0].i64 = id;
    return LVM_OK;
}

/* }====== */

/* {====== TLS (D-B): an error where the function can return one, else a
 * trap; both name the function */

/* The function writes an error id as a u64 at argument `out`, checked
 * first, and returns 1. */
static lvm_err tls_error(lvm_hostcall *call, lvm_val *ar, uint32_t out, const char *fn)
{
    L14_SELF(fn);
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, out, 8))
        return l14_trap_mem(fn);
    char text[200];
    return give(call, ar, out, l14_error_new(lp, "%s", l14_unsupported_text(fn, text, sizeof text)),
                L14_ERROR, fn);
}

static lvm_err h_tls_bind(lvm_hostcall *call, lvm_val *ar)
{
    return tls_error(call, ar, ar[5].i32, "networking::tls_bind");
}

static lvm_err h_tls_accept(lvm_hostcall *call, lvm_val *ar)
{
    return tls_error(call, ar, ar[1].i32, "networking::tls_accept");
}

static lvm_err h_tls_connect(lvm_hostcall *call, lvm_val *ar)
{
    return tls_error(call, ar, ar[4].i32, "networking::tls_connect");
}

static lvm_err h_tls_local_addr(lvm_hostcall *call, lvm_val *ar)
{
    return tls_error(call, ar, ar[1].i32, "networking::tls_local_addr");
}

static lvm_err h_tls_read(lvm_hostcall *call, lvm_val *ar)
{
    return tls_error(call, ar, ar[3].i32, "networking::tls_read");
}

static lvm_err h_tls_write_vectored(lvm_hostcall *call, lvm_val *ar)
{
    return tls_error(call, ar, ar[3].i32, "networking::tls_write_vectored");
}

static lvm_err h_tls_flush(lvm_hostcall *call, lvm_val *ar)
{
    return tls_error(call, ar, ar[1].i32, "networking::tls_flush");
}

#define TLS_TRAP(name)                                                  \
    static lvm_err h_##name(lvm_hostcall *call, lvm_val *ar)            \
    {                                                                   \
        return l14_unsupported("networking::" #name);                   \
    }

TLS_TRAP(drop_tls_listener)
TLS_TRAP(drop_tls_stream)
TLS_TRAP(clone_tls_stream)
TLS_TRAP(set_tls_read_timeout)
TLS_TRAP(get_tls_read_timeout)
TLS_TRAP(set_tls_write_timeout)
TLS_TRAP(get_tls_write_timeout)

/* }====== */

void l14_net_cleanup(l14_proc *lp)
{
    dns_drop(lp);
    connect_drop(lp);
    if (lp->net) {
        if (lp->net->owner_ready && lp->net->pool)
            green_pool_owner_drop(lp->net->pool, &lp->net->owner);
        free(lp->net);
        lp->net = NULL;
    }
    l14_table_free(&lp->dns, dns_free);
    l14_table_free(&lp->tcp_listeners, sock_drop);
    l14_table_free(&lp->tcp_streams, sock_drop);
    l14_table_free(&lp->udp_sockets, sock_drop);
}

#define N "lunatic::networking"
const l14_import l14_net_imports[] = {
    { N, "resolve", "iiIi:i", h_resolve },
    { N, "drop_dns_iterator", "I:", h_drop_dns_iterator },
    { N, "resolve_next", "Iiiiii:i", h_resolve_next },
    { N, "tcp_bind", "iiiiii:i", h_tcp_bind },
    { N, "udp_bind", "iiiiii:i", h_udp_bind },
    { N, "drop_tcp_listener", "I:", h_drop_tcp_listener },
    { N, "drop_tls_listener", "I:", h_drop_tls_listener },
    { N, "drop_udp_socket", "I:", h_drop_udp_socket },
    { N, "tcp_local_addr", "Ii:i", h_tcp_local_addr },
    { N, "tls_local_addr", "Ii:i", h_tls_local_addr },
    { N, "udp_local_addr", "Ii:i", h_udp_local_addr },
    { N, "tcp_peer_addr", "Ii:i", h_tcp_peer_addr },
    { N, "udp_peer_addr", "Ii:i", h_udp_peer_addr },
    { N, "tcp_accept", "Iii:i", h_tcp_accept },
    { N, "tcp_connect", "iiiiiIi:i", h_tcp_connect },
    { N, "udp_connect", "IiiiiiIi:i", h_udp_connect },
    { N, "drop_tcp_stream", "I:", h_drop_tcp_stream },
    { N, "clone_tcp_stream", "I:I", h_clone_tcp_stream },
    { N, "tcp_write_vectored", "Iiii:i", h_tcp_write_vectored },
    { N, "tcp_read", "Iiii:i", h_tcp_read },
    { N, "tcp_peek", "Iiii:i", h_tcp_peek },
    { N, "udp_send", "Iiii:i", h_udp_send },
    { N, "udp_send_to", "Iiiiiiiii:i", h_udp_send_to },
    { N, "udp_receive", "Iiii:i", h_udp_receive },
    { N, "udp_receive_from", "Iiiii:i", h_udp_receive_from },
    { N, "set_udp_socket_ttl", "Ii:", h_set_udp_socket_ttl },
    { N, "set_udp_socket_broadcast", "Ii:", h_set_udp_socket_broadcast },
    { N, "get_udp_socket_ttl", "I:i", h_get_udp_socket_ttl },
    { N, "get_udp_socket_broadcast", "I:i", h_get_udp_socket_broadcast },
    { N, "clone_udp_socket", "I:I", h_clone_udp_socket },
    { N, "tcp_flush", "Ii:i", h_tcp_flush },
    { N, "tls_flush", "Ii:i", h_tls_flush },
    { N, "set_read_timeout", "II:", h_set_read_timeout },
    { N, "get_read_timeout", "I:I", h_get_read_timeout },
    { N, "set_write_timeout", "II:", h_set_write_timeout },
    { N, "get_write_timeout", "I:I", h_get_write_timeout },
    { N, "set_peek_timeout", "II:", h_set_peek_timeout },
    { N, "get_peek_timeout", "I:I", h_get_peek_timeout },
    { N, "tls_bind", "iiiiiiiiii:i", h_tls_bind },
    { N, "tls_accept", "Iii:i", h_tls_accept },
    { N, "tls_connect", "iiiIiii:i", h_tls_connect },
    { N, "drop_tls_stream", "I:", h_drop_tls_stream },
    { N, "clone_tls_stream", "I:I", h_clone_tls_stream },
    { N, "tls_write_vectored", "Iiii:i", h_tls_write_vectored },
    { N, "tls_read", "Iiii:i", h_tls_read },
    { N, "set_tls_read_timeout", "II:", h_set_tls_read_timeout },
    { N, "get_tls_read_timeout", "I:I", h_get_tls_read_timeout },
    { N, "set_tls_write_timeout", "II:", h_set_tls_write_timeout },
    { N, "get_tls_write_timeout", "I:I", h_get_tls_write_timeout },
    { NULL, NULL, NULL, NULL },
};
#undef N
