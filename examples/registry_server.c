/*
 * registry_server.c - a server known by name (the lunatic 0.14 registry
 * from C, include/lunatic14.h).
 *
 *     lvm run examples/registry_server.wasm [CLIENTS]
 *
 * The server starts under the name "counter" with get_or_spawn, which is
 * atomic: clients that all ask for "counter" at once get the same server,
 * and only one is ever started.  Each client finds it by name, sends
 * "add" requests and reads the running total from the replies.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../include/lunatic14.h"

enum { ADD = 1, REPLY = 2, DONE = 3 };

struct request {
    uint64_t from;
    uint32_t amount;
};

static void counter(int32_t unused)
{
    uint64_t total = 0;
    for (;;) {
        struct request req;
        int64_t tag;
        uint32_t len;
        lun_recv(NULL, 0, LUN_FOREVER, &req, sizeof req, &len, &tag);
        total += req.amount;
        lun_send(req.from, REPLY, &total, sizeof total);
    }
}

static void client(int32_t parent)
{
    uint64_t server;
    /* Every client asks for the server by name; one of them starts it. */
    uint32_t r = lun_spawn_named("counter", counter, 0, &server);
    struct request req = { lunatic_process_id(), 10 };
    uint64_t total = 0;
    uint32_t len;
    for (int i = 0; i < 3; i++)
        lun_request(server, ADD, &req, sizeof req, REPLY, LUN_FOREVER, &total, sizeof total, &len);
    uint64_t started = r == 0;
    lun_send((uint64_t)parent, DONE, &started, sizeof started);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* lines in order with the children\'s */
    int clients = argc > 1 ? atoi(argv[1]) : 4;
    for (int i = 0; i < clients; i++) {
        uint64_t pid;
        lun_spawn(client, (int32_t)lunatic_process_id(), 0, &pid);
    }
    uint64_t starters = 0;
    for (int i = 0; i < clients; i++) {
        uint64_t started;
        int64_t done = DONE;
        lun_recv(&done, 1, LUN_FOREVER, &started, sizeof started, NULL, NULL);
        starters += started;
    }
    uint64_t server = lun_lookup("counter");
    struct request req = { lunatic_process_id(), 0 };
    uint64_t total = 0;
    lun_request(server, ADD, &req, sizeof req, REPLY, 1000, &total, sizeof total, NULL);
    printf("%d clients, %llu started the server, total %llu\n", clients,
           (unsigned long long)starters, (unsigned long long)total);
    return 0;
}
