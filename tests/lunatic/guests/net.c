/*
 * net.c - the guest of tests/lunatic/test_net.c: one scenario of the
 * lunatic 0.3 networking API (ABI section 6) per argv[1].  Only the main
 * process prints; children report on channels, so the output is in a
 * fixed order.  Everything runs on the loopback interface (and
 * "localhost" in /etc/hosts): no network access is needed.
 *
 * There is no way to ask which port a listener got (ABI 6.2), so each
 * scenario binds a random port in 20000-59999 and tries another on
 * AddrInUse (7).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#include "../../../include/lunatic.h"

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            printf("check failed, line %d: %s\n", __LINE__, #cond);      \
            exit(2);                                                       \
        }                                                                  \
    } while (0)

/* The iovec layout the API takes (as WASI's): pointer and length, u32. */
typedef struct iov {
    const void *buf;
    uint32_t len;
} iov;

static const uint8_t LOOPBACK[4] = { 127, 0, 0, 1 };
static const uint32_t FAR = 0xfffffff0u;    /* past the end of memory */

/* A spawn context: a port and up to three resource indices. */
typedef struct ctx {
    uint32_t port, a, b, c;
} ctx;

static ctx read_ctx(void)
{
    uint32_t len;
    ctx *p = lunatic_spawn_context(&len);
    CHECK(p && len == sizeof(ctx));
    ctx v = *p;
    free(p);
    return v;
}

/* Listen on addr (addr_len 4 or 16 octets) at a random free port;
 * returns the port. */
static uint32_t bind_at(const uint8_t *addr, uint32_t addr_len, uint32_t *listener)
{
    for (int tries = 0; tries < 200; tries++) {
        uint16_t r;
        CHECK(__wasi_random_get((uint8_t *)&r, sizeof r) == 0);
        uint32_t port = 20000 + r % 40000;
        uint32_t code = lunatic_tcp_bind(addr, addr_len, port, listener);
        if (code == 0)
            return port;
        CHECK(code == 7);
    }
    CHECK(!"no free port");
    return 0;
}

/* Listen on 127.0.0.1 at a random free port; returns the port. */
static uint32_t bind_some(uint32_t *listener)
{
    return bind_at(LOOPBACK, 4, listener);
}

static uint32_t connect_to(uint32_t port)
{
    uint32_t s = 99;
    CHECK(lunatic_tcp_connect(LOOPBACK, 4, port, &s) == 0);
    return s;
}

/* A connected pair inside one process: the client end and the accepted
 * end (the handshake completes in the kernel's backlog). */
static void pair(uint32_t *client, uint32_t *server)
{
    uint32_t l;
    uint32_t port = bind_some(&l);
    *client = connect_to(port);
    CHECK(lunatic_tcp_accept(l, server) == 0);
    lunatic_close_tcp_listener(l);
}

static void write_all(uint32_t s, const char *p, uint32_t len)
{
    while (len) {
        iov v = { p, len };
        uint32_t n;
        CHECK(lunatic_tcp_write_vectored(s, &v, 1, &n) == 0 && n > 0 && n <= len);
        p += n;
        len -= n;
    }
}

static void read_exact(uint32_t s, char *p, uint32_t len)
{
    while (len) {
        iov v = { p, len };
        uint32_t n;
        CHECK(lunatic_tcp_read_vectored(s, &v, 1, &n) == 0 && n > 0 && n <= len);
        p += n;
        len -= n;
    }
}

/* Receive one message on r and print it as a line. */
static void print_report(uint32_t r)
{
    uint32_t len;
    char *m = lunatic_receive(r, &len);
    CHECK(m);
    lunatic_drop_last_message();
    printf("%.*s\n", (int)len, m);
    free(m);
}

static void report(uint32_t sender, const char *text)
{
    CHECK(lunatic_channel_send(sender, text, (uint32_t)strlen(text)) == 0);
}

/* {====== echo: a server process, vectored and partial transfers, EOF */

/* Accepts one connection on the listener of its context and echoes it,
 * reading at most 3 + 4 bytes at a time into two buffers and writing
 * them back as two; at end of file it reports. */
static void echo_server(void)
{
    ctx c = read_ctx();
    uint32_t l = lunatic_tcp_listener_deserialize(c.a);
    uint32_t rep = lunatic_sender_deserialize(c.b);
    lunatic_drop_last_message();
    uint32_t s;
    CHECK(lunatic_tcp_accept(l, &s) == 0);
    lunatic_close_tcp_listener(l);
    for (;;) {
        char a[3], b[4];
        iov in[2] = { { a, sizeof a }, { b, sizeof b } };
        uint32_t n;
        CHECK(lunatic_tcp_read_vectored(s, in, 2, &n) == 0 && n <= 7);
        if (n == 0)
            break;
        iov out[2] = { { a, n < 3 ? n : 3 }, { b, n > 3 ? n - 3 : 0 } };
        uint32_t w;
        CHECK(lunatic_tcp_write_vectored(s, out, 2, &w) == 0 && w == n);
    }
    CHECK(lunatic_tcp_flush(s) == 0);
    lunatic_close_tcp_stream(s);
    report(rep, "server: eof");
}

static void echo(void)
{
    uint32_t r, rep = lunatic_channel(0, &r);
    uint32_t l;
    ctx c = { bind_some(&l), 0, 0, 0 };
    c.a = lunatic_tcp_listener_serialize(l);
    c.b = lunatic_sender_serialize(rep);
    uint32_t server = lunatic_spawn_with_context(LUNATIC_FN(echo_server), &c, sizeof c);
    lunatic_close_tcp_listener(l);
    uint32_t s = connect_to(c.port);
    static const char text[] = "hello, vectored world";
    iov out[3] = { { text, 7 }, { text + 7, 9 }, { text + 16, 5 } };
    uint32_t w;
    CHECK(lunatic_tcp_write_vectored(s, out, 3, &w) == 0 && w == 21);
    char back[32] = "";
    uint32_t got = 0;
    while (got < 21) {
        uint32_t left = 21 - got, n;
        iov in[2] = { { back + got, left < 5 ? left : 5 }, { back + got + 5, left > 5 ? left - 5 : 0 } };
        CHECK(lunatic_tcp_read_vectored(s, in, 2, &n) == 0 && n > 0 && n <= left);
        got += n;
    }
    printf("echo: %.21s\n", back);
    CHECK(lunatic_tcp_flush(s) == 0);
    lunatic_close_tcp_stream(s);            /* the server reads 0: EOF */
    print_report(r);
    printf("join %u\n", lunatic_join(server));
}

/* }====== */

/* {====== errors: codes, not traps */

static void errors(void)
{
    static const uint8_t elsewhere[4] = { 1, 1, 1, 1 };
    uint32_t id = 77;
    printf("bind 1.1.1.1:5000: %u\n", lunatic_tcp_bind(elsewhere, 4, 5000, &id));
    CHECK(id == 0);
    id = 77;
    printf("bind addr_len 5: %u\n", lunatic_tcp_bind((const uint8_t *)"\x7f\0\0\1\0", 5, 5000, &id));
    CHECK(id == 0);
    id = 77;
    printf("connect addr_len 3: %u\n", lunatic_tcp_connect(LOOPBACK, 3, 5000, &id));
    CHECK(id == 0);

    uint32_t l, l2 = 77;
    uint32_t port = bind_some(&l);
    CHECK(l == 0);                          /* failed binds took no id */
    printf("bind a port in use: %u\n", lunatic_tcp_bind(LOOPBACK, 4, port, &l2));
    CHECK(l2 == 0);
    lunatic_close_tcp_listener(l);
    lunatic_close_tcp_listener(l);          /* unknown ids are ignored */
    lunatic_close_tcp_listener(1234);
    lunatic_close_tcp_stream(1234);
    id = 77;
    printf("connect to a closed port: %u\n", lunatic_tcp_connect(LOOPBACK, 4, port, &id));
    CHECK(id == 0);
    /* The port's low 16 bits count (ABI 1.1): port + 65536 is port. */
    CHECK(lunatic_tcp_bind(LOOPBACK, 4, port + 65536, &l) == 0 && l == 1);
    uint32_t s = connect_to(port);
    CHECK(s == 0);                          /* streams count on their own */
    CHECK(lunatic_tcp_accept(l, &s) == 0 && s == 1);
    printf("errors ok\n");
}

/* A peer that has gone: read gives 0 (EOF), then a write fails with
 * BrokenPipe (9), never SIGPIPE (D14). */
static void closed_peer(void)
{
    uint32_t c, a;
    pair(&c, &a);
    lunatic_close_tcp_stream(a);
    char buf[8];
    iov in = { buf, sizeof buf };
    uint32_t n = 77;
    printf("read after the peer closed: code %u, %u bytes\n", lunatic_tcp_read_vectored(c, &in, 1, &n), n);
    uint32_t code = 0;
    for (int i = 0; i < 1000 && code == 0; i++) {
        iov out = { "data", 4 };
        code = lunatic_tcp_write_vectored(c, &out, 1, &n);
        if (code == 0)
            lunatic_sleep_ms(1);            /* the first write draws the RST */
        else
            CHECK(n == 0);
    }
    printf("write after the peer closed: %u\n", code);
    /* Nothing to transfer: 0 bytes at once, no wait. */
    CHECK(lunatic_tcp_read_vectored(c, &in, 0, &n) == 0 && n == 0);
}

/* A peer that closes with bytes it never read resets the connection
 * (the kernel sends RST, not FIN): the next read is ConnectionReset (4),
 * not end of file; a write after that is BrokenPipe (9). */
static void reset_peer(void)
{
    uint32_t c, a;
    pair(&c, &a);
    write_all(c, "unread", 6);
    lunatic_sleep_ms(20);                   /* the bytes reach a's buffer */
    lunatic_close_tcp_stream(a);
    char buf[8];
    iov in = { buf, sizeof buf };
    uint32_t n = 77;
    uint32_t code = lunatic_tcp_read_vectored(c, &in, 1, &n);
    printf("read after the peer reset: code %u, %u bytes\n", code, n);
    iov out = { "data", 4 };
    printf("write after the reset: %u\n", lunatic_tcp_write_vectored(c, &out, 1, &n));
}

/* }====== */

/* {====== moving sockets between processes */

/* Echo one connection (whole messages of any size) until EOF. */
static void move_server(void)
{
    ctx c = read_ctx();
    uint32_t l = lunatic_tcp_listener_deserialize(c.a);
    uint32_t rep = lunatic_sender_deserialize(c.b);
    lunatic_drop_last_message();
    uint32_t s;
    CHECK(lunatic_tcp_accept(l, &s) == 0);
    for (;;) {
        char buf[64];
        iov in = { buf, sizeof buf };
        uint32_t n;
        CHECK(lunatic_tcp_read_vectored(s, &in, 1, &n) == 0);
        if (n == 0)
            break;
        write_all(s, buf, n);
    }
    report(rep, "S saw eof");
}

/* C: the stream arrives in a channel message, the report sender in the
 * spawn context. */
static void move_c(void)
{
    ctx c = read_ctx();
    uint32_t in = lunatic_receiver_deserialize(c.a);
    uint32_t rep = lunatic_sender_deserialize(c.b);
    lunatic_drop_last_message();
    uint32_t len;
    char *m = lunatic_receive(in, &len);
    CHECK(m && len == 1 && m[0] == 'T');
    uint32_t s = lunatic_tcp_stream_deserialize(0);
    lunatic_drop_last_message();
    free(m);
    char back[9];
    write_all(s, "from C", 6);
    read_exact(s, back, 6);
    CHECK(memcmp(back, "from C", 6) == 0);
    report(rep, "C: echoed");
    lunatic_close_tcp_stream(s);            /* the last reference: S sees EOF */
}

/* B: the stream in the spawn context; passes it on to C in a message. */
static void move_b(void)
{
    ctx c = read_ctx();
    uint32_t s = lunatic_tcp_stream_deserialize(c.a);
    uint32_t rep = lunatic_sender_deserialize(c.b);
    lunatic_drop_last_message();
    char back[9];
    write_all(s, "from B", 6);
    read_exact(s, back, 6);
    CHECK(memcmp(back, "from B", 6) == 0);
    report(rep, "B: echoed");
    uint32_t r2, s2 = lunatic_channel(0, &r2);
    ctx cc = { 0, lunatic_receiver_serialize(r2), lunatic_sender_serialize(rep), 0 };
    lunatic_detach(lunatic_spawn_with_context(LUNATIC_FN(move_c), &cc, sizeof cc));
    lunatic_close_receiver(r2);
    CHECK(lunatic_tcp_stream_serialize(s) == 0);
    CHECK(lunatic_channel_send(s2, "T", 1) == 0);
    lunatic_close_tcp_stream(s);
    lunatic_close_sender(s2);
}

static void move3(void)
{
    uint32_t r, rep = lunatic_channel(0, &r);
    uint32_t l;
    ctx c = { bind_some(&l), 0, 0, 0 };
    c.a = lunatic_tcp_listener_serialize(l);
    c.b = lunatic_sender_serialize(rep);
    uint32_t server = lunatic_spawn_with_context(LUNATIC_FN(move_server), &c, sizeof c);
    lunatic_close_tcp_listener(l);
    uint32_t s = connect_to(c.port);
    ctx cb = { 0, lunatic_tcp_stream_serialize(s), lunatic_sender_serialize(rep), 0 };
    lunatic_detach(lunatic_spawn_with_context(LUNATIC_FN(move_b), &cb, sizeof cb));
    lunatic_close_tcp_stream(s);
    for (int i = 0; i < 3; i++)
        print_report(r);
    printf("join %u\n", lunatic_join(server));
}

/* Two processes read one shared stream at the same time: both must be
 * woken when data comes (one reader must not hide the other). */
static void shared_reader(void)
{
    ctx c = read_ctx();
    uint32_t s = lunatic_tcp_stream_deserialize(c.a);
    uint32_t rep = lunatic_sender_deserialize(c.b);
    lunatic_drop_last_message();
    report(rep, "ready");
    char b;
    iov in = { &b, 1 };
    uint32_t n;
    CHECK(lunatic_tcp_read_vectored(s, &in, 1, &n) == 0 && n == 1);
    report(rep, b == 'x' || b == 'y' ? "read one" : "read junk");
}

static void two_readers(void)
{
    uint32_t r, rep = lunatic_channel(0, &r);
    uint32_t client, server;
    pair(&client, &server);
    uint32_t h[2];
    for (int i = 0; i < 2; i++) {
        ctx c = { 0, lunatic_tcp_stream_serialize(server), lunatic_sender_serialize(rep), 0 };
        h[i] = lunatic_spawn_with_context(LUNATIC_FN(shared_reader), &c, sizeof c);
    }
    lunatic_close_tcp_stream(server);
    uint32_t len;
    for (int i = 0; i < 2; i++) {
        char *m = lunatic_receive(r, &len);
        CHECK(m && len == 5);
        free(m);
    }
    lunatic_sleep_ms(20);                   /* both are parked in read */
    write_all(client, "xy", 2);
    for (int i = 0; i < 2; i++)
        print_report(r);
    printf("joins %u %u\n", lunatic_join(h[0]), lunatic_join(h[1]));
}

/* }====== */

/* {====== cancelling a process blocked on a socket */

/* Takes the listener (or stream) of its context, says so, then waits
 * forever in accept (or read). */
static void blocked_acceptor(void)
{
    ctx c = read_ctx();
    uint32_t l = lunatic_tcp_listener_deserialize(c.a);
    uint32_t rep = lunatic_sender_deserialize(c.b);
    lunatic_drop_last_message();
    report(rep, "ready");
    uint32_t s;
    lunatic_tcp_accept(l, &s);
    report(rep, "accepted?");
}

static void blocked_reader(void)
{
    ctx c = read_ctx();
    uint32_t s = lunatic_tcp_stream_deserialize(c.a);
    uint32_t rep = lunatic_sender_deserialize(c.b);
    lunatic_drop_last_message();
    report(rep, "ready");
    char buf[4];
    iov in = { buf, sizeof buf };
    uint32_t n;
    lunatic_tcp_read_vectored(s, &in, 1, &n);
    report(rep, "read?");
}

static void cancel_blocked(void)
{
    uint32_t r, rep = lunatic_channel(0, &r), len;

    /* Blocked in accept: once cancelled, its listener (the only
     * reference) is closed, so the port can be bound again. */
    uint32_t l;
    ctx c = { bind_some(&l), 0, 0, 0 };
    c.a = lunatic_tcp_listener_serialize(l);
    c.b = lunatic_sender_serialize(rep);
    uint32_t h = lunatic_spawn_with_context(LUNATIC_FN(blocked_acceptor), &c, sizeof c);
    lunatic_close_tcp_listener(l);
    free(lunatic_receive(r, &len));
    lunatic_sleep_ms(20);
    lunatic_cancel(h);
    uint32_t code = 7;
    for (int i = 0; i < 2000 && code == 7; i++) {
        code = lunatic_tcp_bind(LOOPBACK, 4, c.port, &l);
        if (code == 7)
            lunatic_sleep_ms(1);
    }
    printf("listener released: %s\n", code == 0 ? "yes" : "no");
    lunatic_close_tcp_listener(l);

    /* Blocked in read: once cancelled, the stream's last reference goes
     * with it, and the other end reads EOF. */
    uint32_t client, server;
    pair(&client, &server);
    ctx d = { 0, lunatic_tcp_stream_serialize(server), lunatic_sender_serialize(rep), 0 };
    h = lunatic_spawn_with_context(LUNATIC_FN(blocked_reader), &d, sizeof d);
    lunatic_close_tcp_stream(server);
    free(lunatic_receive(r, &len));
    lunatic_sleep_ms(20);
    lunatic_cancel(h);
    char buf[4];
    iov in = { buf, sizeof buf };
    uint32_t n = 77;
    CHECK(lunatic_tcp_read_vectored(client, &in, 1, &n) == 0);
    printf("peer read after cancel: %u bytes\n", n);
}

/* }====== */

/* {====== resolve */

static uint32_t resolve(const char *name, uint32_t *id)
{
    *id = 77;
    return lunatic_resolve(name, (uint32_t)strlen(name), id);
}

/* Check every address of resolver id: loopback, with the port asked
 * for, of length `want_len` (4 or 16; 0: either); then that the
 * resolver stays exhausted. */
static void print_addresses(const char *name, uint32_t id, uint16_t want_port, uint32_t want_len)
{
    uint8_t a[16];
    uint32_t len, flow = 0xaaaa, scope = 0xbbbb;
    uint16_t port;
    uint32_t n = 0, v4 = 0, v6 = 0;
    while (lunatic_resolve_next(id, a, &len, &port, &flow, &scope) == 0) {
        n++;
        if (len == 4) {
            CHECK(flow == 0xaaaa && scope == 0xbbbb);   /* untouched */
            v4 += a[0] == 127;
        } else {
            CHECK(len == 16);
            static const uint8_t one[16] = { [15] = 1 };
            v6 += memcmp(a, one, 16) == 0 && flow == 0 && scope == 0;
            flow = 0xaaaa;
            scope = 0xbbbb;
        }
        CHECK(port == want_port && (want_len == 0 || len == want_len));
    }
    CHECK(lunatic_resolve_next(id, a, &len, &port, &flow, &scope) == 1);
    printf("%s: %s\n", name, n == 0 ? "none" : v4 + v6 == n ? "loopback" : "not loopback");
}

static void resolving(void)
{
    uint32_t id;
    CHECK(resolve("localhost:80", &id) == 0 && id == 0);
    print_addresses("localhost:80", id, 80, 0);
    CHECK(resolve("[::1]:8080", &id) == 0 && id == 1);
    print_addresses("[::1]:8080", id, 8080, 16);
    CHECK(resolve("127.0.0.1:1", &id) == 0 && id == 2);
    print_addresses("127.0.0.1:1", id, 1, 4);
    static const char *const bad[] = { "localhost", "localhost:", "localhost:http", "localhost:65536",
                                       "[::1]", "nonexistent.invalid:80" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t code = resolve(bad[i], &id);
        CHECK(id == 0);
        printf("%s: %u\n", bad[i], code);
    }
    CHECK(resolve("localhost:7", &id) == 0 && id == 3);     /* failures took no id */
    lunatic_remove_resolver(3);
    lunatic_remove_resolver(3);             /* unknown ids are ignored */
    lunatic_remove_resolver(999);
    printf("resolve ok\n");
}

/* Many lookups at once, each waiting only for itself (D18). */
static void resolver_child(void)
{
    ctx c = read_ctx();
    lunatic_drop_last_message();
    char name[32];
    snprintf(name, sizeof name, "localhost:%u", c.port);
    uint32_t id;
    CHECK(resolve(name, &id) == 0);
    uint8_t a[16];
    uint32_t len, flow, scope;
    uint16_t port;
    CHECK(lunatic_resolve_next(id, a, &len, &port, &flow, &scope) == 0 && port == c.port);
}

/* Looks names up forever: cancelled at any point, also while waiting. */
static void resolver_forever(void)
{
    for (;;) {
        uint32_t id;
        CHECK(resolve("localhost:1", &id) == 0);
        lunatic_remove_resolver(id);
    }
}

static void resolve_many(void)
{
    enum { N = 16 };
    uint32_t h[N], spinners[4];
    for (uint32_t i = 0; i < 4; i++)
        spinners[i] = lunatic_spawn_with_context(LUNATIC_FN(resolver_forever), 0, 0);
    for (uint32_t i = 0; i < N; i++) {
        ctx c = { 1000 + i, 0, 0, 0 };
        h[i] = lunatic_spawn_with_context(LUNATIC_FN(resolver_child), &c, sizeof c);
    }
    uint32_t failed = 0;
    for (uint32_t i = 0; i < N; i++)
        failed += lunatic_join(h[i]);
    for (uint32_t i = 0; i < 4; i++)
        lunatic_cancel(spinners[i]);
    printf("%u lookups, %u failed\n", N, failed);
}

/* }====== */

/* {====== a write that waits on a full socket: short writes */

/* Byte i of a long transfer: its period is 2^32, so a chunk lost,
 * doubled or out of place shows. */
static uint8_t pattern(uint32_t i)
{
    return (uint8_t)((i * 2654435761u) >> 24);
}

enum { BIG = 8 << 20 };

/* Takes the stream of its context, sleeps (so the writer meets a full
 * socket), then reads to end of file and reports what came. */
static void big_reader(void)
{
    ctx c = read_ctx();
    uint32_t s = lunatic_tcp_stream_deserialize(c.a);
    uint32_t rep = lunatic_sender_deserialize(c.b);
    lunatic_drop_last_message();
    lunatic_sleep_ms(100);
    enum { CHUNK = 65536 };
    uint8_t *buf = malloc(CHUNK);
    CHECK(buf);
    uint32_t got = 0, wrong = 0;
    for (;;) {
        iov in = { buf, CHUNK };
        uint32_t n;
        CHECK(lunatic_tcp_read_vectored(s, &in, 1, &n) == 0 && n <= CHUNK);
        if (n == 0)
            break;
        for (uint32_t i = 0; i < n; i++)
            wrong += buf[i] != pattern(got + i);
        got += n;
    }
    char text[64];
    snprintf(text, sizeof text, "reader: %u bytes, %s", got, wrong ? "some wrong" : "all in order");
    report(rep, text);
}

/* 8 MiB in one write is more than the socket holds (a few MiB of send
 * buffer plus the reader's window), so the writer gets short writes and
 * waits for room in between; the reader still gets every byte in order. */
static void big_write(void)
{
    uint8_t *data = malloc(BIG);
    CHECK(data);
    for (uint32_t i = 0; i < BIG; i++)
        data[i] = pattern(i);
    uint32_t r, rep = lunatic_channel(0, &r);
    uint32_t c, s;
    pair(&c, &s);
    ctx x = { 0, lunatic_tcp_stream_serialize(s), lunatic_sender_serialize(rep), 0 };
    uint32_t h = lunatic_spawn_with_context(LUNATIC_FN(big_reader), &x, sizeof x);
    lunatic_close_tcp_stream(s);
    lunatic_close_sender(rep);              /* a reader that fails closes r */
    uint32_t done = 0, shorts = 0;
    while (done < BIG) {
        iov out = { data + done, BIG - done };
        uint32_t n;
        CHECK(lunatic_tcp_write_vectored(c, &out, 1, &n) == 0 && n > 0 && n <= BIG - done);
        shorts += n < BIG - done;
        done += n;
    }
    lunatic_close_tcp_stream(c);            /* the reader sees EOF after the last byte */
    printf("wrote %u bytes, short writes: %s\n", done, shorts ? "yes" : "no");
    print_report(r);
    printf("join %u\n", lunatic_join(h));
}

/* }====== */

/* {====== more than 64 buffers in one call: a short transfer */

/* Buffers of 1, 2, ..., 100 bytes: 5050 in all, 2080 in the first 64
 * (lvm gathers at most 64 non-empty ones per call, WASI_MAX_IOV). */
enum { NIOV = 100, NBYTES = NIOV * (NIOV + 1) / 2 };

/* v[i] = the i + 1 bytes of p after the buffers before it. */
static void ladder(iov *v, const uint8_t *p)
{
    for (uint32_t i = 0; i < NIOV; i++) {
        v[i] = (iov){ p, i + 1 };
        p += i + 1;
    }
}

static void many_iovs(void)
{
    static uint8_t data[NBYTES], back[NBYTES];
    for (uint32_t i = 0; i < NBYTES; i++)
        data[i] = pattern(i);
    uint32_t c, s, n;
    pair(&c, &s);
    iov v[NIOV];

    /* A write of 100 buffers sends the first 64, whole and in order. */
    ladder(v, data);
    CHECK(lunatic_tcp_write_vectored(c, v, NIOV, &n) == 0);
    printf("write of %u buffers, %u bytes: %u written\n", NIOV, NBYTES, n);
    read_exact(s, (char *)back, n);
    CHECK(memcmp(back, data, n) == 0);

    /* Empty buffers are skipped and do not count: 50 empty ones, then 50
     * of 2 bytes, go whole. */
    for (uint32_t i = 0; i < NIOV; i++)
        v[i] = i < 50 ? (iov){ data, 0 } : (iov){ data + 2 * (i - 50), 2 };
    CHECK(lunatic_tcp_write_vectored(c, v, NIOV, &n) == 0);
    printf("write of 50 empty and 50 2-byte buffers: %u written\n", n);
    read_exact(s, (char *)back, n);
    CHECK(memcmp(back, data, n) == 0);

    /* A read into 100 buffers with all 5050 bytes waiting fills the
     * first 64 and leaves the others untouched; the rest follows. */
    write_all(s, (const char *)data, NBYTES);
    lunatic_sleep_ms(50);                   /* loopback has delivered it all */
    memset(back, 0xee, sizeof back);
    ladder(v, back);
    CHECK(lunatic_tcp_read_vectored(c, v, NIOV, &n) == 0 && n <= NBYTES);
    CHECK(memcmp(back, data, n) == 0);
    uint32_t untouched = 0;
    for (uint32_t i = n; i < NBYTES; i++)
        untouched += back[i] == 0xee;
    printf("read into %u buffers, %u bytes waiting: %u read, %s\n", NIOV, NBYTES, n,
           untouched == NBYTES - n ? "the rest untouched" : "past the last one read");
    read_exact(c, (char *)back + n, NBYTES - n);
    CHECK(memcmp(back, data, NBYTES) == 0);
}

/* }====== */

/* {====== IPv6 */

static const uint8_t LOOPBACK6[16] = { [15] = 1 };     /* ::1 */

/* bind, connect and accept on ::1 (addr_len 16), bytes both ways; then
 * a connect to the address resolve gives for "[::1]:port", as the
 * crate's TcpStream::connect does. */
static void ipv6(void)
{
    uint32_t l, c, s;
    uint32_t port = bind_at(LOOPBACK6, 16, &l);
    CHECK(lunatic_tcp_connect(LOOPBACK6, 16, port, &c) == 0);
    CHECK(lunatic_tcp_accept(l, &s) == 0);
    char buf[16];
    write_all(c, "ping over ::1", 13);
    read_exact(s, buf, 13);
    printf("server read: %.13s\n", buf);
    write_all(s, "pong over ::1", 13);
    read_exact(c, buf, 13);
    printf("client read: %.13s\n", buf);

    char name[32];
    snprintf(name, sizeof name, "[::1]:%u", port);
    uint32_t id, len, flow, scope;
    uint8_t a[16];
    uint16_t p;
    CHECK(resolve(name, &id) == 0);
    CHECK(lunatic_resolve_next(id, a, &len, &p, &flow, &scope) == 0);
    CHECK(len == 16 && memcmp(a, LOOPBACK6, 16) == 0 && p == port);
    uint32_t c2, s2;
    CHECK(lunatic_tcp_connect(a, len, p, &c2) == 0);
    CHECK(lunatic_tcp_accept(l, &s2) == 0);
    write_all(c2, "via resolve", 11);
    read_exact(s2, buf, 11);
    printf("server read: %.11s\n", buf);
}

/* }====== */

/* {====== a connect that waits, and a process cancelled in one */

/* Says "ready" and connects to the port of its context, whose queue the
 * test keeps full, so the connect waits; then says it got through. */
static void connecting_child(void)
{
    ctx c = read_ctx();
    uint32_t rep = lunatic_sender_deserialize(c.a);
    lunatic_drop_last_message();
    report(rep, "ready");
    uint32_t s = connect_to(c.port);
    report(rep, c.b ? "A: connected" : "B: connected");
    lunatic_close_tcp_stream(s);
}

/* ports: "FULL,SIGNAL" from test_net.c.  FULL is a host listener whose
 * queue is full, so SYNs to it are dropped and a connect waits for the
 * client's retry (about 1 s later); once the guest connects to SIGNAL,
 * the host accepts one queued connection on FULL, making room for one.
 * So A cannot get through before B is cancelled and the host signalled. */
static void connect_wait(const char *ports)
{
    char *comma;
    uint32_t full = (uint32_t)strtoul(ports, &comma, 10);
    CHECK(*comma == ',');
    uint32_t sig = (uint32_t)strtoul(comma + 1, NULL, 10);
    uint32_t h[2], r[2], len;               /* [0]: A, [1]: B */
    for (int i = 0; i < 2; i++) {
        uint32_t rep = lunatic_channel(0, &r[i]);
        ctx c = { full, lunatic_sender_serialize(rep), i == 0, 0 };
        h[i] = lunatic_spawn_with_context(LUNATIC_FN(connecting_child), &c, sizeof c);
        lunatic_close_sender(rep);
    }
    for (int i = 0; i < 2; i++) {
        char *m = lunatic_receive(r[i], &len);
        CHECK(m && len == 5);
        free(m);
    }
    lunatic_sleep_ms(200);                  /* both are parked in connect */
    printf("main ran while A and B wait in connect\n");
    /* cancel consumes the handle (a join would trap, ABI 4.6); B's end
     * shows as its channel closing: its only sender went with it. */
    lunatic_cancel(h[1]);
    printf("B cancelled: %s\n",
           lunatic_channel_receive_prepare(r[1], &len) == 1 ? "its channel closed" : "it got through?");
    lunatic_close_tcp_stream(connect_to(sig));  /* the host checks B's attempt is gone */
    print_report(r[0]);
    printf("join A: %u\n", lunatic_join(h[0]));
}

/* }====== */

/* {====== traps: each must end the main process with a named rule */

static void traps(const char *which)
{
    uint32_t id, n;
    char buf[16];
    iov one = { buf, sizeof buf };
    uint8_t a[16];
    uint32_t len, flow, scope;
    uint16_t port;
    void *far = (void *)(uintptr_t)FAR;
    if (!strcmp(which, "read_bad"))
        lunatic_tcp_read_vectored(5, &one, 1, &n);
    else if (!strcmp(which, "write_bad"))
        lunatic_tcp_write_vectored(5, &one, 1, &n);
    else if (!strcmp(which, "flush_bad"))
        lunatic_tcp_flush(5);
    else if (!strcmp(which, "accept_bad"))
        lunatic_tcp_accept(3, &id);
    else if (!strcmp(which, "stream_serialize_bad"))
        lunatic_tcp_stream_serialize(4);
    else if (!strcmp(which, "listener_serialize_bad"))
        lunatic_tcp_listener_serialize(4);
    else if (!strcmp(which, "resolver_bad"))
        lunatic_resolve_next(2, a, &len, &port, &flow, &scope);
    else if (!strcmp(which, "resolver_removed")) {
        CHECK(resolve("localhost:1", &id) == 0);
        lunatic_remove_resolver(id);
        lunatic_resolve_next(id, a, &len, &port, &flow, &scope);
    } else if (!strcmp(which, "bind_addr_oob"))
        lunatic_tcp_bind(far, 4, 1, &id);
    else if (!strcmp(which, "bind_out_oob"))
        lunatic_tcp_bind(LOOPBACK, 4, 1, far);
    else if (!strcmp(which, "connect_addr_oob"))
        lunatic_tcp_connect(far, 16, 1, &id);
    else if (!strcmp(which, "connect_out_oob"))
        lunatic_tcp_connect(LOOPBACK, 4, 1, far);
    else if (!strcmp(which, "resolve_oob"))
        lunatic_resolve(far, 64, &id);
    else if (!strcmp(which, "resolve_utf8"))
        lunatic_resolve("h\xff:80", 5, &id);
    else if (!strcmp(which, "resolve_out_oob"))
        lunatic_resolve("localhost:1", 11, far);
    else if (!strcmp(which, "resolve_next_addr_oob") || !strcmp(which, "resolve_next_port_oob")) {
        CHECK(resolve("localhost:1", &id) == 0);
        if (!strcmp(which, "resolve_next_addr_oob"))
            lunatic_resolve_next(id, far, &len, &port, &flow, &scope);
        else
            lunatic_resolve_next(id, a, &len, far, &flow, &scope);
    } else if (!strcmp(which, "sd_none"))
        lunatic_tcp_stream_deserialize(0);
    else if (!strcmp(which, "ld_none"))
        lunatic_tcp_listener_deserialize(0);
    else if (!strncmp(which, "sd_", 3) || !strncmp(which, "ld_", 3) || !strcmp(which, "sender_of_stream")) {
        /* A message to ourselves carrying one resource: a stream for sd_*
         * and sender_of_stream, a listener for ld_*; the other kind for
         * *_kind. */
        uint32_t r, s = lunatic_channel(0, &r), c, sv;
        bool stream = (which[0] == 's') != (strcmp(which + 3, "kind") == 0);
        pair(&c, &sv);
        uint32_t l;
        bind_some(&l);
        if (stream)
            lunatic_tcp_stream_serialize(c);
        else
            lunatic_tcp_listener_serialize(l);
        lunatic_channel_send(s, "x", 1);
        lunatic_channel_receive_prepare(r, &len);
        uint32_t (*take)(uint32_t) = which[0] == 's' ? lunatic_tcp_stream_deserialize
                                                     : lunatic_tcp_listener_deserialize;
        if (!strcmp(which, "sender_of_stream"))
            lunatic_sender_deserialize(0);
        else if (!strcmp(which + 3, "range"))
            take(1);
        else if (!strcmp(which + 3, "twice")) {
            take(0);
            take(0);
        } else if (!strcmp(which + 3, "kind"))
            take(0);
        else if (!strcmp(which + 3, "dropped")) {
            lunatic_drop_last_message();
            take(0);
        }
    } else {
        /* The rest need a connected stream. */
        uint32_t c, s;
        pair(&c, &s);
        iov two[2] = { { buf, 4 }, { far, 64 } };
        if (!strcmp(which, "closed_stream")) {
            lunatic_close_tcp_stream(c);
            lunatic_tcp_read_vectored(c, &one, 1, &n);
        } else if (!strcmp(which, "iovs_oob"))
            lunatic_tcp_read_vectored(c, far, 2, &n);
        else if (!strcmp(which, "iovs_count_oob"))
            lunatic_tcp_write_vectored(c, (void *)16, 0x20000000u, &n);
        else if (!strcmp(which, "iov_buf_oob"))
            lunatic_tcp_write_vectored(c, two, 2, &n);
        else if (!strcmp(which, "read_out_oob"))
            lunatic_tcp_read_vectored(c, &one, 1, far);
        else if (!strcmp(which, "write_out_oob"))
            lunatic_tcp_write_vectored(c, &one, 1, far);
        else if (!strcmp(which, "accept_out_oob")) {
            uint32_t l;
            bind_some(&l);
            lunatic_tcp_accept(l, far);
        } else {
            printf("unknown trap %s\n", which);
            exit(2);
        }
    }
    printf("no trap\n");
}

/* }====== */

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *m = argv[1];
    if (!strcmp(m, "echo"))
        echo();
    else if (!strcmp(m, "errors"))
        errors();
    else if (!strcmp(m, "closed_peer"))
        closed_peer();
    else if (!strcmp(m, "reset_peer"))
        reset_peer();
    else if (!strcmp(m, "move3"))
        move3();
    else if (!strcmp(m, "two_readers"))
        two_readers();
    else if (!strcmp(m, "cancel_blocked"))
        cancel_blocked();
    else if (!strcmp(m, "resolve"))
        resolving();
    else if (!strcmp(m, "resolve_many"))
        resolve_many();
    else if (!strcmp(m, "big_write"))
        big_write();
    else if (!strcmp(m, "many_iovs"))
        many_iovs();
    else if (!strcmp(m, "ipv6"))
        ipv6();
    else if (!strcmp(m, "connect_wait") && argc > 2)
        connect_wait(argv[2]);
    else if (!strcmp(m, "trap") && argc > 2)
        traps(argv[2]);
    else
        return 2;
    return 0;
}
