/*
 * test_net.c - the lunatic 0.3 networking API (ABI section 6), end to
 * end: the real `lvm run` on tests/lunatic/guests/net.wasm, one scenario
 * per test (the guest's argv[1]), comparing what it prints and its exit
 * status.  Loopback and /etc/hosts only: no network access is needed.
 * Built into the same binary as test_lunatic.c.
 */
#include <string.h>

#include "run.h"

#define NET_GUEST "tests/lunatic/guests/net.wasm"

TestSuite(net, .timeout = 60);

/* A listener moved to a server process, which accepts; vectored writes
 * of three buffers, reads into two small buffers (so partial reads) on
 * both sides; the server sees EOF (read 0) when the client closes. */
Test(net, echo_round_trip)
{
    run_result *r = lun_run(NET_GUEST, "2", "echo", NULL);
    EXPECT_RUN(r, 0, "echo: hello, vectored world\nserver: eof\njoin 0\n");
}

/* The same on one worker: every wait suspends only its process (D12). */
Test(net, echo_one_worker)
{
    run_result *r = lun_run(NET_GUEST, "1", "echo", NULL);
    EXPECT_RUN(r, 0, "echo: hello, vectored world\nserver: eof\njoin 0\n");
}

/* Error codes, not traps: an address the machine lacks (8), a bad
 * addr_len (12), a port in use (7), a refused connect (3); failed calls
 * write 0 and take no id; close_* ignore unknown ids; the port is the
 * low 16 bits; stream and listener ids count separately. */
Test(net, error_codes)
{
    run_result *r = lun_run(NET_GUEST, "2", "errors", NULL);
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
    run_result *r = lun_run(NET_GUEST, "2", "closed_peer", NULL);
    EXPECT_RUN(r, 0, "read after the peer closed: code 0, 0 bytes\nwrite after the peer closed: 9\n");
}

/* A stream moved main -> B (spawn context) -> C (channel message), used
 * by each; the server sees EOF only when C, the last holder, closes. */
Test(net, stream_across_three_processes)
{
    run_result *r = lun_run(NET_GUEST, "2", "move3", NULL);
    EXPECT_RUN(r, 0, "B: echoed\nC: echoed\nS saw eof\njoin 0\n");
}

/* Two processes blocked reading one shared stream are both woken. */
Test(net, two_readers_of_one_stream)
{
    run_result *r = lun_run(NET_GUEST, "2", "two_readers", NULL);
    EXPECT_RUN(r, 0, "read one\nread one\njoins 0 0\n");
}

Test(net, two_readers_one_worker)
{
    run_result *r = lun_run(NET_GUEST, "1", "two_readers", NULL);
    EXPECT_RUN(r, 0, "read one\nread one\njoins 0 0\n");
}

/* Cancelling a process blocked in accept releases its listener (the
 * port can be bound again); one blocked in read releases its stream (the
 * peer reads EOF). */
Test(net, cancel_blocked_accept_and_read)
{
    run_result *r = lun_run(NET_GUEST, "2", "cancel_blocked", NULL);
    EXPECT_RUN(r, 0, "listener released: yes\npeer read after cancel: 0 bytes\n");
}

/* resolve: names and literals with their port, exhaustion (1, and it
 * stays 1), 12 for a missing or bad port, 20 for a name that does not
 * resolve, ids only for successes, remove_resolver ignoring unknown ids. */
Test(net, resolve)
{
    run_result *r = lun_run(NET_GUEST, "2", "resolve", NULL);
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
    run_result *r = lun_run(NET_GUEST, "2", "resolve_many", NULL);
    EXPECT_RUN(r, 0, "16 lookups, 0 failed\n");
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
        run_result *r = lun_run(NET_GUEST, "2", "trap", net_traps[i].name);
        cr_expect_eq(r->status, 134, "%s: status %d\nstderr: %s", net_traps[i].name, r->status, r->err);
        cr_expect(strstr(r->err, net_traps[i].message), "%s: stderr: %s", net_traps[i].name, r->err);
        cr_expect(!strstr(r->out, "no trap"), "%s: did not trap", net_traps[i].name);
    }
}
