/*
 * fanin.c - fan-in over a channel: N producer processes send numbers on
 * one channel, the main process receives and adds them up.
 *
 *   build/lvm run examples/fanin.wasm [PRODUCERS [MESSAGES]]
 *
 * The channel's sender travels to each producer inside its spawn context:
 * lunatic_sender_serialize attaches a new reference to the next message
 * sent (here the context) and returns its index there, which the producer
 * turns back into its own sender id with lunatic_sender_deserialize.  When
 * main has closed its own sender and every producer has finished, nobody
 * can send any more: the receiver drains the queue and then reports the
 * channel closed, which ends the loop - no counting needed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../include/lunatic.h"

typedef struct job {
    uint32_t first, count;      /* send first, first+1, ... */
    uint32_t sender;            /* resource index in this message */
} job;

static void producer(void)
{
    uint32_t len;
    job *j = lunatic_spawn_context(&len);
    if (!j || len != sizeof *j)
        abort();
    uint32_t s = lunatic_sender_deserialize(j->sender);
    lunatic_drop_last_message();
    for (uint32_t i = 0; i < j->count; i++) {
        uint64_t v = (uint64_t)j->first + i;
        lunatic_channel_send(s, &v, sizeof v);
    }
    free(j);
    lunatic_close_sender(s);
}

int main(int argc, char **argv)
{
    uint32_t producers = argc > 1 ? (uint32_t)atoi(argv[1]) : 8;
    uint32_t messages = argc > 2 ? (uint32_t)atoi(argv[2]) : 1000;
    uint32_t r, s = lunatic_channel(0, &r);
    for (uint32_t p = 0; p < producers; p++) {
        job j = { p * messages, messages, lunatic_sender_serialize(s) };
        lunatic_detach(lunatic_spawn_with_context(LUNATIC_FN(producer), &j, sizeof j));
    }
    lunatic_close_sender(s);

    uint64_t sum = 0, received = 0, v;
    uint32_t len;
    while (lunatic_channel_receive_prepare(r, &len) == 0) {
        if (len != sizeof v || lunatic_channel_receive(&v, sizeof v) != 0)
            abort();
        lunatic_drop_last_message();
        sum += v;
        received++;
    }
    uint64_t n = (uint64_t)producers * messages;
    printf("received %llu messages from %u processes, sum %llu (expected %llu)\n",
           (unsigned long long)received, (unsigned)producers, (unsigned long long)sum,
           (unsigned long long)(n ? n * (n - 1) / 2 : 0));
    return sum == (n ? n * (n - 1) / 2 : 0) ? 0 : 1;
}
