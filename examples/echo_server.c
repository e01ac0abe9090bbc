/*
 * echo_server.c - a TCP echo server with one process per connection.
 *
 *   build/lvm run --allow-listen=127.0.0.1:PORT examples/echo_server.wasm [PORT [CONNECTIONS]]
 *
 * (lvm grants no network by default: --allow-listen lets it bind there.)
 * listens on 127.0.0.1:PORT (default 7000) and answers every connection
 * with what it sends, until the peer closes.  With CONNECTIONS it serves
 * that many connections, waits for their processes and exits; without, it
 * serves forever.  Try it with `nc 127.0.0.1 7000` from two terminals.
 *
 * The main process only accepts.  Each connection's stream goes to a
 * fresh process inside its spawn context: lunatic_tcp_stream_serialize
 * attaches a new reference to the socket to the next message sent (the
 * context) and the child takes it with lunatic_tcp_stream_deserialize.
 * The parent then closes its own reference, so the socket's life is the
 * child's.  A read or write that has to wait parks only that process, so
 * a slow client never holds up the others, and a child that traps takes
 * only its own connection down.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../include/lunatic.h"

typedef struct iovec32 {        /* the ABI's iovec: two u32 on wasm32 */
    void *buf;
    uint32_t len;
} iovec32;

static void serve(void)
{
    uint32_t len, index;
    if (lunatic_channel_receive_prepare(0, &len) != 0 || len != sizeof index ||
        lunatic_channel_receive(&index, sizeof index) != 0)
        abort();
    uint32_t stream = lunatic_tcp_stream_deserialize(index);
    lunatic_drop_last_message();

    char buf[4096];
    for (;;) {
        iovec32 in = { buf, sizeof buf };
        uint32_t n;
        if (lunatic_tcp_read_vectored(stream, &in, 1, &n) != 0 || n == 0)
            break;                          /* an error, or end of file */
        for (uint32_t done = 0; done < n;) {   /* writes may be short */
            iovec32 out = { buf + done, n - done };
            uint32_t w;
            if (lunatic_tcp_write_vectored(stream, &out, 1, &w) != 0)
                goto out;
            done += w;
        }
    }
out:
    lunatic_close_tcp_stream(stream);
}

int main(int argc, char **argv)
{
    uint32_t port = argc > 1 ? (uint32_t)atoi(argv[1]) : 7000;
    long limit = argc > 2 ? atol(argv[2]) : -1;
    static const uint8_t loopback[4] = { 127, 0, 0, 1 };
    uint32_t listener, code = lunatic_tcp_bind(loopback, 4, port, &listener);
    if (code != 0) {
        fprintf(stderr, "echo_server: cannot listen on 127.0.0.1:%u (io code %u)\n", (unsigned)port,
                (unsigned)code);
        return 1;
    }
    printf("listening on 127.0.0.1:%u\n", (unsigned)port);
    fflush(stdout);

    uint32_t *children = limit > 0 ? calloc((size_t)limit, sizeof *children) : NULL;
    for (long served = 0; limit < 0 || served < limit; served++) {
        uint32_t stream;
        if (lunatic_tcp_accept(listener, &stream) != 0)
            continue;
        uint32_t index = lunatic_tcp_stream_serialize(stream);
        uint32_t child = lunatic_spawn_with_context(LUNATIC_FN(serve), &index, sizeof index);
        lunatic_close_tcp_stream(stream);
        if (children)
            children[served] = child;
        else
            lunatic_detach(child);
    }
    int failed = 0;
    for (long i = 0; i < limit; i++)
        failed |= lunatic_join(children[i]) != 0;
    printf("served %ld connections\n", limit);
    return failed;
}
