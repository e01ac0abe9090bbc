/*
 * limits.c - the guest of tests/lunatic/test_limits.c: attacks on what a
 * guest can make lvm hold, one per argv[1], each beside a watchdog
 * process that prints ticks, to show that the others keep running:
 *
 *   procs N        spawn N children that park, past --max-processes
 *   backpressure N a producer sends N 1000-byte messages to a receiver
 *                  that waits first (--max-queued parks the producer)
 *   selfqueue N    queue 1000-byte messages into its own channel, saying
 *                  so every N
 *   selfcycle N    N children each leave a channel whose receiver is in
 *                  its own queue (must be freed: LeakSanitizer)
 *   paircycle N    the same with the sender travelling in its own queue
 *   spawnstorm     children spawn in a tight loop while main returns
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../../include/lunatic.h"

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            printf("check failed, line %d: %s\n", __LINE__, #cond);      \
            exit(2);                                                       \
        }                                                                  \
    } while (0)

typedef struct ctx2 {
    uint32_t n, index;
} ctx2;

/* The watchdog: waits for "go" on its context's receiver (index 0 of
 * the context), then prints three ticks a millisecond apart. */
static void watchdog(void)
{
    uint32_t len;
    free(lunatic_spawn_context(&len));
    uint32_t go = lunatic_receiver_deserialize(0);
    lunatic_drop_last_message();
    free(lunatic_receive(go, &len));
    lunatic_drop_last_message();
    for (int i = 0; i < 3; i++) {
        printf("tick %d\n", i);
        fflush(stdout);                 /* a child's stdout is not flushed at its end */
        lunatic_sleep_ms(1);
    }
}

/* Spawn the watchdog; returns its handle and the sender that starts it. */
static uint32_t spawn_watchdog(uint32_t *go)
{
    uint32_t r;
    *go = lunatic_channel(0, &r);
    lunatic_receiver_serialize(r);
    uint32_t h = lunatic_spawn_with_context(LUNATIC_FN(watchdog), "w", 1);
    lunatic_close_receiver(r);
    return h;
}

static void start_watchdog(uint32_t go)
{
    CHECK(lunatic_channel_send(go, "go", 2) == 0);
}

/* Parks in receive until its channel closes.  The context is read into
 * the stack, not malloc'ed: the first malloc writes near the end of the
 * memory, so a process that never mallocs writes only from its data to
 * the top of its stack (90 KiB of its 128), which is what
 * --max-total-memory counts. */
static void parked(void)
{
    uint32_t len;
    char ctx[8];
    CHECK(lunatic_channel_receive_prepare(0, &len) == 0 && len <= sizeof ctx &&
          lunatic_channel_receive(ctx, len) == 0);
    uint32_t r = lunatic_receiver_deserialize(0);
    lunatic_drop_last_message();
    CHECK(lunatic_channel_receive_prepare(r, &len) == 1);
}

static void procs(int n)
{
    uint32_t go, w = spawn_watchdog(&go);
    uint32_t r, s = lunatic_channel(0, &r);
    uint32_t *h = malloc((size_t)n * sizeof *h);
    CHECK(h);
    for (int i = 0; i < n; i++) {
        lunatic_receiver_serialize(r);
        h[i] = lunatic_spawn_with_context(LUNATIC_FN(parked), "p", 1);
    }
    start_watchdog(go);
    CHECK(lunatic_join(w) == 0);
    lunatic_close_sender(s);            /* the parked ones end */
    int ok = 0, refused = 0;
    for (int i = 0; i < n; i++) {
        if (lunatic_join(h[i]) == 0)
            ok++;
        else
            refused++;
    }
    printf("started %d refused %d\n", ok, refused);
    /* They have ended, so there is room again: a spawn succeeds. */
    lunatic_close_receiver(r);
    s = lunatic_channel(0, &r);
    lunatic_receiver_serialize(r);
    uint32_t again = lunatic_spawn_with_context(LUNATIC_FN(parked), "p", 1);
    lunatic_close_sender(s);
    printf("after %u\n", lunatic_join(again));
}

static void producer(void)
{
    uint32_t len;
    ctx2 *c = lunatic_spawn_context(&len);
    uint32_t s = lunatic_sender_deserialize(0);
    lunatic_drop_last_message();
    static uint8_t msg[1000];
    for (uint32_t i = 0; i < c->n; i++) {
        memcpy(msg, &i, sizeof i);
        CHECK(lunatic_channel_send(s, msg, sizeof msg) == 0);
    }
}

static void backpressure(int n)
{
    uint32_t go, w = spawn_watchdog(&go);
    uint32_t r, s = lunatic_channel(0, &r);
    ctx2 c = { (uint32_t)n, lunatic_sender_serialize(s) };
    uint32_t p = lunatic_spawn_with_context(LUNATIC_FN(producer), &c, sizeof c);
    lunatic_close_sender(s);
    start_watchdog(go);                 /* ticks while the producer waits */
    CHECK(lunatic_join(w) == 0);
    uint32_t got = 0, len;
    uint8_t *m;
    while ((m = lunatic_receive(r, &len))) {
        uint32_t i;
        memcpy(&i, m, sizeof i);
        CHECK(len == 1000 && i == got);
        got++;
        free(m);
        lunatic_drop_last_message();
    }
    printf("received %u, producer %u\n", got, lunatic_join(p));
}

static void selfqueue(int every)
{
    uint32_t go, w = spawn_watchdog(&go);
    start_watchdog(go);
    CHECK(lunatic_join(w) == 0);
    uint32_t r, s = lunatic_channel(0, &r);
    static uint8_t msg[1000];
    for (uint32_t i = 0;; i++) {
        if (i % (uint32_t)every == 0) {
            printf("queued %u\n", i);
            fflush(stdout);
        }
        lunatic_channel_send(s, msg, sizeof msg);   /* traps at the limit */
    }
}

/* Leaves a channel whose receiver (self) or sender (pair) is queued in
 * it, then ends with nothing else held. */
static void cycle_child(void)
{
    uint32_t len;
    ctx2 *c = lunatic_spawn_context(&len);
    lunatic_drop_last_message();
    uint32_t r, s = lunatic_channel(0, &r);
    static uint8_t pad[1 << 16];       /* so that a leak shows */
    if (c->n)
        lunatic_receiver_serialize(r);
    else
        lunatic_sender_serialize(s);
    CHECK(lunatic_channel_send(s, pad, sizeof pad) == 0);
    lunatic_close_sender(s);
    lunatic_close_receiver(r);
}

static void cycles(int n, uint32_t self)
{
    uint32_t go, w = spawn_watchdog(&go);
    start_watchdog(go);
    for (int i = 0; i < n; i++) {
        ctx2 c = { self, 0 };
        CHECK(lunatic_join(lunatic_spawn_with_context(LUNATIC_FN(cycle_child), &c, sizeof c)) == 0);
    }
    CHECK(lunatic_join(w) == 0);
    printf("cycles %d\n", n);
}

/* Spawns in a tight loop, forever: each child does the same. */
static void storm(void)
{
    for (;;)
        lunatic_detach(lunatic_spawn_with_context(LUNATIC_FN(storm), 0, 0));
}

static void spawnstorm(void)
{
    uint32_t go, w = spawn_watchdog(&go);
    start_watchdog(go);
    CHECK(lunatic_join(w) == 0);
    for (int i = 0; i < 4; i++)
        lunatic_detach(lunatic_spawn_with_context(LUNATIC_FN(storm), 0, 0));
    lunatic_sleep_ms(20);
    printf("main returns\n");
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *m = argv[1];
    int n = argc > 2 ? atoi(argv[2]) : 0;
    if (!strcmp(m, "procs"))
        procs(n);
    else if (!strcmp(m, "backpressure"))
        backpressure(n);
    else if (!strcmp(m, "selfqueue"))
        selfqueue(n > 0 ? n : 64);
    else if (!strcmp(m, "selfcycle"))
        cycles(n, 1);
    else if (!strcmp(m, "paircycle"))
        cycles(n, 0);
    else if (!strcmp(m, "spawnstorm"))
        spawnstorm();
    else
        return 2;
    return 0;
}
