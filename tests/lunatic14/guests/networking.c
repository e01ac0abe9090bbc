#include "l14.h"
/* networking.c - lunatic::networking of 0.14: UDP and TCP on 127.0.0.1,
 * a stream moved in a message, peek, a read timeout, DNS of a literal,
 * and what a missing grant gives.  Run with --allow-net=127.0.0.1:*
 * --allow-listen=127.0.0.1:*. */
#define NET(n) IMP("lunatic::networking", n)
NET("udp_bind") int32_t udp_bind(int32_t t, const uint8_t *a, int32_t port, int32_t fl, int32_t sc, uint64_t *id);
NET("udp_local_addr") int32_t udp_local_addr(int64_t s, uint64_t *it);
NET("resolve_next") int32_t resolve_next(int64_t it, uint32_t *t, uint8_t *a, uint16_t *port, uint32_t *fl, uint32_t *sc);
NET("udp_send_to") int32_t udp_send_to(int64_t s, const void *b, int32_t l, int32_t t, const uint8_t *a, int32_t port, int32_t fl, int32_t sc, uint64_t *n);
NET("udp_receive_from") int32_t udp_receive_from(int64_t s, void *b, int32_t l, uint64_t *n, uint64_t *it);
NET("tcp_bind") int32_t tcp_bind(int32_t t, const uint8_t *a, int32_t port, int32_t fl, int32_t sc, uint64_t *id);
NET("tcp_local_addr") int32_t tcp_local_addr(int64_t s, uint64_t *it);
NET("tcp_accept") int32_t tcp_accept(int64_t s, uint64_t *id, uint64_t *peer);
NET("tcp_connect") int32_t tcp_connect(int32_t t, const uint8_t *a, int32_t port, int32_t fl, int32_t sc, int64_t timeout, uint64_t *id);
NET("tcp_read") int32_t tcp_read(int64_t s, void *b, int32_t l, uint64_t *n);
NET("tcp_peek") int32_t tcp_peek(int64_t s, void *b, int32_t l, uint64_t *n);
NET("tcp_write_vectored") int32_t tcp_writev(int64_t s, const uint32_t *iov, int32_t n, uint64_t *out);
NET("set_read_timeout") void set_read_timeout(int64_t s, int64_t ms);
NET("udp_connect") int32_t udp_connect(int64_t s, int32_t t, const uint8_t *a, int32_t port, int32_t fl, int32_t sc, int64_t timeout, uint64_t *err);
NET("udp_send") int32_t udp_send(int64_t s, const void *b, int32_t l, uint64_t *n);
NET("udp_receive") int32_t udp_receive(int64_t s, void *b, int32_t l, uint64_t *n);
NET("udp_peer_addr") int32_t udp_peer_addr(int64_t s, uint64_t *it);
NET("set_udp_socket_ttl") void set_ttl(int64_t s, int32_t ttl);
NET("get_udp_socket_ttl") int32_t get_ttl(int64_t s);
NET("set_udp_socket_broadcast") void set_bc(int64_t s, int32_t on);
NET("get_udp_socket_broadcast") int32_t get_bc(int64_t s);
NET("clone_udp_socket") int64_t clone_udp(int64_t s);
NET("drop_udp_socket") void drop_udp(int64_t s);
NET("clone_tcp_stream") int64_t clone_tcp(int64_t s);
NET("drop_tcp_stream") void drop_tcp(int64_t s);
NET("tcp_peer_addr") int32_t tcp_peer_addr(int64_t s, uint64_t *it);
NET("get_read_timeout") int64_t get_read_timeout(int64_t s);
NET("drop_dns_iterator") void drop_dns(int64_t it);
NET("resolve") int32_t resolve(const char *n, int32_t l, int64_t timeout, uint64_t *id);
IMP("lunatic::message", "push_tcp_stream") int64_t push_tcp(int64_t id);
IMP("lunatic::message", "take_tcp_stream") int64_t take_tcp(int64_t idx);
static void errtext(uint64_t id) { char b[200]; int n = e_size(id); e_str(id, b); b[n] = 0; printf("  error: %s\n", b); }
static void echo(int32_t x) {
    m_receive(NULL, 0, -1); int64_t s = take_tcp(0);
    char buf[64]; uint64_t n; tcp_read(s, buf, sizeof buf, &n);
    uint32_t iov[2] = { (uint32_t)(uintptr_t)buf, (uint32_t)n }; uint64_t w; tcp_writev(s, iov, 1, &w);
}
int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint8_t lo[4] = {127,0,0,1}; uint64_t a, b, it, n;
    printf("udp bind %d\n", udp_bind(4, lo, 0, 0, 0, &a));
    udp_bind(4, lo, 0, 0, 0, &b);
    udp_local_addr(b, &it); uint32_t t, fl, sc; uint8_t addr[16]; uint16_t port;
    printf("next %d type %u port>0 %d\n", resolve_next(it, &t, addr, &port, &fl, &sc), t, port > 0);
    printf("send_to %d\n", udp_send_to(a, "ping", 4, 4, lo, port, 0, 0, &n));
    char buf[64]; uint64_t from;
    printf("recv_from %d n %llu\n", udp_receive_from(b, buf, sizeof buf, &n, &from), (unsigned long long)n);
    uint64_t l; int r = tcp_bind(4, lo, 0, 0, 0, &l); printf("tcp bind %d\n", r);
    tcp_local_addr(l, &it); resolve_next(it, &t, addr, &port, &fl, &sc);
    uint64_t c; r = tcp_connect(4, lo, port, 0, 0, 1000, &c); printf("connect %d\n", r);
    uint64_t sv, peer; r = tcp_accept(l, &sv, &peer); printf("accept %d\n", r);
    uint64_t e; spawn_fn(0, -1, echo, 0, &e); m_create(0, 0); push_tcp(sv); m_send(e);
    uint32_t iov[2] = { (uint32_t)(uintptr_t)"hello", 5 }; tcp_writev(c, iov, 1, &n);
    r = tcp_peek(c, buf, sizeof buf, &n); printf("peek %d n %llu\n", r, (unsigned long long)n);
    r = tcp_read(c, buf, sizeof buf, &n); printf("read %d n %llu '%.*s'\n", r, (unsigned long long)n, (int)n, buf);
    r = tcp_read(c, buf, sizeof buf, &n); printf("read after the echo ended %d n %llu\n", r, (unsigned long long)n);
    uint64_t c2, s2; tcp_connect(4, lo, port, 0, 0, 1000, &c2); tcp_accept(l, &s2, &peer);
    set_read_timeout(c2, 50); r = tcp_read(c2, buf, sizeof buf, &n); printf("read timeout %d\n", r);
    r = resolve("127.0.0.1:80", 12, -1, &it); printf("resolve literal %d\n", r);
    r = resolve("localhost:80", 12, -1, &it); printf("resolve name %d\n", r); if (r == 1) errtext(it);
    /* UDP connected: send/receive, peer address, options, clones. */
    udp_local_addr(b, &it); resolve_next(it, &t, addr, &port, &fl, &sc); drop_dns(it);
    printf("udp connect %d\n", udp_connect(a, 4, lo, port, 0, 0, -1, &n));
    printf("udp send %d\n", udp_send(a, "pong", 4, &n));
    printf("udp receive %d n %llu\n", udp_receive(b, buf, sizeof buf, &n), (unsigned long long)n);
    printf("udp peer %d, unconnected peer %d\n", udp_peer_addr(a, &it), udp_peer_addr(b, &it));
    set_ttl(a, 7); set_bc(a, 1);
    printf("ttl %d broadcast %d\n", get_ttl(a), get_bc(a));
    int64_t a2 = clone_udp(a); drop_udp(a);
    printf("clone still sends %d\n", udp_send(a2, "x", 1, &n));
    int64_t c3 = clone_tcp(c2);
    printf("clone shares the timeout %lld, peer %d\n", (long long)get_read_timeout(c3), tcp_peer_addr(c3, &it));
    drop_tcp(c2); drop_tcp(c3);
    uint8_t other[4] = {10,1,2,3};
    r = tcp_connect(4, other, 80, 0, 0, 100, &c); printf("connect denied %d\n", r); if (r == 1) errtext(c);
    return 0;
}
