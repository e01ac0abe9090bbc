/*
 * test_net.c - the lunatic 0.3 networking API (ABI section 6), end to
 * end: the real `lvm run` on tests/lunatic/guests/net.wasm, one scenario
 * per test (the guest's argv[1]), comparing what it prints and its exit
 * status.  Loopback and /etc/hosts only: no network access is needed.
 * Built into the same binary as test_lunatic.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "run.h"

#define NET_GUEST "tests/lunatic/guests/net.wasm"

TestSuite(net, .timeout = 60);

/* `lvm run --workers W` with every network grant (test_caps.c tests
 * the grants themselves) on net.wasm SCENARIO [ARG]. */
static run_result *net_run(const char *workers, const char *scenario, const char *arg)
{
    const char *args[] = { "run", "--workers", workers, "--allow-net", "--allow-listen=*:*",
                           NET_GUEST, scenario, arg, NULL };
    return lun_run_args(args);
}

/* A listener moved to a server process, which accepts; vectored writes
 * of three buffers, reads into two small buffers (so partial reads) on
 * both sides; the server sees EOF (read 0) when the client closes. */
Test(net, echo_round_trip)
{
    run_result *r = net_run("2", "echo", NULL);
    EXPECT_RUN(r, 0, "echo: hello, vectored world\nserver: eof\njoin 0\n");
}

/* The same on one worker: every wait suspends only its process (D12). */
Test(net, echo_one_worker)
{
    run_result *r = net_run("1", "echo", NULL);
    EXPECT_RUN(r, 0, "echo: hello, vectored world\nserver: eof\njoin 0\n");
}

/* Error codes, not traps: an address the machine lacks (8), a bad
 * addr_len (12), a port in use (7), a refused connect (3); failed calls
 * write 0 and take no id; close_* ignore unknown ids; the port is the
 * low 16 bits; stream and listener ids count separately. */
Test(net, error_codes)
{
    run_result *r = net_run("2", "errors", NULL);
    EXPECT_RUN(r, 0,
               "bind 1.1.1.1:5000: 8\n"
               "bind addr_len 5: 12\n"
               "connect addr_len 3: 12\n"
               "bind a port in use: 7\n"
               "connect to a closed port: 3\n"
               "errors ok\n");
}

/* The peer closed: read gives 0 bytes (EOF), a later write BrokenPipe
 * (9), and lvm is not killed by SIGPIPE (D14). */
Test(net, closed_peer_eof_and_broken_pipe)
{
    run_result *r = net_run("2", "closed_peer", NULL);
    EXPECT_RUN(r, 0, "read after the peer closed: code 0, 0 bytes\nwrite after the peer closed: 9\n");
}

/* Unread bytes at close reset the connection: ConnectionReset (4) on
 * the next read, then BrokenPipe (9). */
Test(net, reset_peer_is_connection_reset)
{
    run_result *r = net_run("2", "reset_peer", NULL);
    EXPECT_RUN(r, 0, "read after the peer reset: code 4, 0 bytes\nwrite after the reset: 9\n");
}

/* A stream moved main -> B (spawn context) -> C (channel message), used
 * by each; the server sees EOF only when C, the last holder, closes. */
Test(net, stream_across_three_processes)
{
    run_result *r = net_run("2", "move3", NULL);
    EXPECT_RUN(r, 0, "B: echoed\nC: echoed\nS saw eof\njoin 0\n");
}

/* Two processes blocked reading one shared stream are both woken. */
Test(net, two_readers_of_one_stream)
{
    run_result *r = net_run("2", "two_readers", NULL);
    EXPECT_RUN(r, 0, "read one\nread one\njoins 0 0\n");
}

Test(net, two_readers_one_worker)
{
    run_result *r = net_run("1", "two_readers", NULL);
    EXPECT_RUN(r, 0, "read one\nread one\njoins 0 0\n");
}

/* Cancelling a process blocked in accept releases its listener (the
 * port can be bound again); one blocked in read releases its stream (the
 * peer reads EOF). */
Test(net, cancel_blocked_accept_and_read)
{
    run_result *r = net_run("2", "cancel_blocked", NULL);
    EXPECT_RUN(r, 0, "listener released: yes\npeer read after cancel: 0 bytes\n");
}

/* resolve: names and literals with their port, exhaustion (1, and it
 * stays 1), 12 for a missing or bad port, 20 for a name that does not
 * resolve, ids only for successes, remove_resolver ignoring unknown ids. */
Test(net, resolve)
{
    run_result *r = net_run("2", "resolve", NULL);
    EXPECT_RUN(r, 0,
               "localhost:80: loopback\n"
               "[::1]:8080: loopback\n"
               "127.0.0.1:1: loopback\n"
               "localhost: 12\n"
               "localhost:: 12\n"
               "localhost:http: 12\n"
               "localhost:65536: 12\n"
               "[::1]: 12\n"
               "nonexistent.invalid:80: 20\n"
               "resolve ok\n");
}

/* Many lookups at once from many processes (the pool is smaller), while
 * others loop on lookups and are cancelled at any point (D18). */
Test(net, resolve_many_and_cancel)
{
    run_result *r = net_run("2", "resolve_many", NULL);
    EXPECT_RUN(r, 0, "16 lookups, 0 failed\n");
}

/* One write of 8 MiB to a reader that starts late: more than the socket
 * holds, so the writer sees short writes and waits for room in between,
 * and the reader still gets every byte in order. */
Test(net, big_write_short_and_waiting)
{
    run_result *r = net_run("2", "big_write", NULL);
    EXPECT_RUN(r, 0, "wrote 8388608 bytes, short writes: yes\nreader: 8388608 bytes, all in order\njoin 0\n");
}

/* The same on one worker: the waiting writer suspends only itself, so
 * the reader runs (D12). */
Test(net, big_write_one_worker)
{
    run_result *r = net_run("1", "big_write", NULL);
    EXPECT_RUN(r, 0, "wrote 8388608 bytes, short writes: yes\nreader: 8388608 bytes, all in order\njoin 0\n");
}

/* At most 64 non-empty iovecs go to one call (WASI_MAX_IOV): a write or
 * read of 100 buffers of 1..100 bytes moves the first 64 (1 + ... + 64 =
 * 2080 bytes) and leaves the others untouched; empty buffers do not
 * count toward the 64. */
Test(net, more_than_64_iovecs_is_short)
{
    run_result *r = net_run("2", "many_iovs", NULL);
    EXPECT_RUN(r, 0,
               "write of 100 buffers, 5050 bytes: 2080 written\n"
               "write of 50 empty and 50 2-byte buffers: 100 written\n"
               "read into 100 buffers, 5050 bytes waiting: 2080 read, the rest untouched\n");
}

/* Can this machine listen on ::1?  (Containers often have no IPv6.) */
static bool ipv6_loopback_usable(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* IPv6 addresses (addr_len 16, ABI 6.2): bind, connect and accept on
 * ::1, bytes both ways, and a connect to the address resolve gives. */
Test(net, ipv6_loopback)
{
    if (!ipv6_loopback_usable())
        cr_skip_test("no IPv6 loopback on this machine");
    run_result *r = net_run("2", "ipv6", NULL);
    EXPECT_RUN(r, 0, "server read: ping over ::1\nclient read: pong over ::1\nserver read: via resolve\n");
}

/* A listener on 127.0.0.1 at a port the OS picks; the port to *port. */
static int host_listen(int backlog, unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    cr_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, backlog) == 0 &&
                  getsockname(fd, (struct sockaddr *)&a, &len) == 0,
              "listen: %s", strerror(errno));
    *port = ntohs(a.sin_port);
    return fd;
}

/* A non-blocking connect to 127.0.0.1:port, given ms to get through;
 * the socket goes to *fd either way. */
static bool host_connect(unsigned port, int ms, int *fd)
{
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(*fd >= 0 && fcntl(*fd, F_SETFL, O_NONBLOCK) == 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(*fd, (struct sockaddr *)&a, sizeof a) == 0)
        return true;
    cr_assert(errno == EINPROGRESS, "connect: %s", strerror(errno));
    struct pollfd p = { *fd, POLLOUT, 0 };
    int err = 1;
    socklen_t len = sizeof err;
    return poll(&p, 1, ms) == 1 && getsockopt(*fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
}

/* How many connects to 127.0.0.1:port are in progress (SYN_SENT) on
 * this machine; -1 where /proc/net/tcp (Linux) cannot tell. */
static int connects_in_progress(unsigned port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f)
        return -1;
    char line[256];
    unsigned rport, state;
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, " %*u: %*x:%*x %*x:%x %x", &rport, &state) == 2 && rport == port && state == 2)
            n++;
    fclose(f);
    return n;
}

/* The host thread of connect_waits: when the guest connects to `signal`
 * (B is cancelled by then), count the connects still in progress to
 * `full`, then accept one queued connection there, making room for one
 * more. */
typedef struct room_maker {
    int full, signal;
    unsigned full_port;
    int accepted[2];
    int in_progress;
} room_maker;

static void *make_room(void *arg)
{
    room_maker *m = arg;
    m->accepted[0] = accept(m->signal, NULL, NULL);
    /* A's; B's socket is closed as its process ends, a moment after. */
    for (int i = 0; i < 100 && (m->in_progress = connects_in_progress(m->full_port)) > 1; i++)
        usleep(10000);
    m->accepted[1] = accept(m->full, NULL, NULL);
    return NULL;
}

/* A tcp_connect that really waits: the host fills a listener's queue
 * (further SYNs are dropped, so a connect stays in progress and the
 * client retries about 1 s later).  On one worker, A and B wait in
 * connect while the main process runs (D12); B, cancelled there, ends
 * (its channel closes) and its connection attempt goes with it (one
 * connect in progress is left, A's); A gets through once the host makes
 * room. */
Test(net, connect_waits_and_cancel_during_connect, .timeout = 30)
{
    /* Connect until one does not get through: the queue is full.  (A
     * backlog of 1 takes two on Linux, with or without SYN cookies.) */
    unsigned full_port, signal_port;
    int full = host_listen(1, &full_port);
    int queued[8], nqueued = 0, probe;
    while (host_connect(full_port, 300, &probe)) {
        cr_assert(nqueued < 8, "the listen queue does not fill");
        queued[nqueued++] = probe;
    }
    close(probe);
    cr_assert(nqueued > 0, "no connection to the listener got through");

    room_maker m = { full, host_listen(8, &signal_port), full_port, { -1, -1 }, -1 };
    pthread_t t;
    cr_assert(pthread_create(&t, NULL, make_room, &m) == 0);
    char ports[32];
    snprintf(ports, sizeof ports, "%u,%u", full_port, signal_port);
    run_result *r = net_run("1", "connect_wait", ports);
    /* If the guest failed before its signal, the thread still waits. */
    int poke;
    host_connect(signal_port, 1000, &poke);
    pthread_join(t, NULL);
    close(poke);
    for (int i = 0; i < 2; i++)
        if (m.accepted[i] >= 0)
            close(m.accepted[i]);
    for (int i = 0; i < nqueued; i++)
        close(queued[i]);
    close(m.signal);
    close(full);
    EXPECT_RUN(r, 0,
               "main ran while A and B wait in connect\n"
               "B cancelled: its channel closed\n"
               "A: connected\n"
               "join A: 0\n");
    if (m.in_progress >= 0)
        cr_expect_eq(m.in_progress, 1, "connects in progress once B was cancelled: %d", m.in_progress);
}

/* Every trap rule of section 6 (D5, D7, 1.2): the main process ends with
 * the trap status and stderr names the function and the rule. */
static const struct {
    const char *name, *message;
} net_traps[] = {
    { "read_bad", "lunatic.tcp_read_vectored: unknown tcp stream id 5 (ABI D5)" },
    { "write_bad", "lunatic.tcp_write_vectored: unknown tcp stream id 5 (ABI D5)" },
    { "flush_bad", "lunatic.tcp_flush: unknown tcp stream id 5 (ABI D5)" },
    { "closed_stream", "lunatic.tcp_read_vectored: unknown tcp stream id 0 (ABI D5)" },
    { "accept_bad", "lunatic.tcp_accept: unknown tcp listener id 3 (ABI D5)" },
    { "stream_serialize_bad", "lunatic.tcp_stream_serialize: unknown tcp stream id 4 (ABI D5)" },
    { "listener_serialize_bad", "lunatic.tcp_listener_serialize: unknown tcp listener id 4 (ABI D5)" },
    { "resolver_bad", "lunatic.resolve_next: unknown resolver id 2 (ABI D5)" },
    { "resolver_removed", "lunatic.resolve_next: unknown resolver id 0 (ABI D5)" },
    { "iovs_oob", "lunatic.tcp_read_vectored: iovec array [4294967280, +8*2) is outside memory (ABI D7)" },
    { "iovs_count_oob", "lunatic.tcp_write_vectored: iovec array [16, +8*536870912) is outside memory (ABI D7)" },
    { "iov_buf_oob", "lunatic.tcp_write_vectored: iovec 1 buffer [4294967280, +64) is outside memory (ABI 1.2)" },
    { "read_out_oob", "lunatic.tcp_read_vectored: nread out-pointer 4294967280 is outside memory (ABI D7)" },
    { "write_out_oob", "lunatic.tcp_write_vectored: nwritten out-pointer 4294967280 is outside memory (ABI D7)" },
    { "accept_out_oob", "lunatic.tcp_accept: stream out-pointer 4294967280 is outside memory (ABI D7)" },
    { "bind_addr_oob", "lunatic.tcp_bind: address [4294967280, +4) is outside memory (ABI D5)" },
    { "bind_out_oob", "lunatic.tcp_bind: listener out-pointer 4294967280 is outside memory (ABI D7)" },
    { "connect_addr_oob", "lunatic.tcp_connect: address [4294967280, +16) is outside memory (ABI D5)" },
    { "connect_out_oob", "lunatic.tcp_connect: stream out-pointer 4294967280 is outside memory (ABI D7)" },
    { "resolve_oob", "lunatic.resolve: name [4294967280, +64) is outside memory (ABI D5)" },
    { "resolve_utf8", "lunatic.resolve: name of 5 bytes is not valid UTF-8 (ABI 1.2)" },
    { "resolve_out_oob", "lunatic.resolve: resolver out-pointer 4294967280 is outside memory (ABI D7)" },
    { "resolve_next_addr_oob", "lunatic.resolve_next: address buffer [4294967280, +16) is outside memory (ABI D7)" },
    { "resolve_next_port_oob", "lunatic.resolve_next: port out-pointer 4294967280 is outside memory (ABI D7)" },
    { "sd_none", "lunatic.tcp_stream_deserialize: index 0 but no received message (ABI D5)" },
    { "sd_range", "lunatic.tcp_stream_deserialize: index 1 but the message carries 1 resources (ABI D5)" },
    { "sd_twice", "lunatic.tcp_stream_deserialize: index 0 was already taken (ABI D5)" },
    { "sd_kind", "lunatic.tcp_stream_deserialize: index 0 holds a resource of another kind (ABI D5)" },
    { "sd_dropped", "lunatic.tcp_stream_deserialize: index 0 but no received message (ABI D5)" },
    { "ld_none", "lunatic.tcp_listener_deserialize: index 0 but no received message (ABI D5)" },
    { "ld_range", "lunatic.tcp_listener_deserialize: index 1 but the message carries 1 resources (ABI D5)" },
    { "ld_twice", "lunatic.tcp_listener_deserialize: index 0 was already taken (ABI D5)" },
    { "ld_kind", "lunatic.tcp_listener_deserialize: index 0 holds a resource of another kind (ABI D5)" },
    { "ld_dropped", "lunatic.tcp_listener_deserialize: index 0 but no received message (ABI D5)" },
    { "sender_of_stream", "lunatic.sender_deserialize: index 0 holds a resource of another kind (ABI D5)" },
};

Test(net, every_trap_rule, .timeout = 180)
{
    for (size_t i = 0; i < sizeof net_traps / sizeof net_traps[0]; i++) {
        run_result *r = net_run("2", "trap", net_traps[i].name);
        cr_expect_eq(r->status, 134, "%s: status %d\nstderr: %s", net_traps[i].name, r->status, r->err);
        cr_expect(strstr(r->err, net_traps[i].message), "%s: stderr: %s", net_traps[i].name, r->err);
        cr_expect(!strstr(r->out, "no trap"), "%s: did not trap", net_traps[i].name);
    }
}
