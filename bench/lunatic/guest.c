/*
 * guest.c - the C guest of `make bench-lunatic`: the lunatic API measured
 * from inside a wasm program, the way an application would use it.
 *
 *   lvm run --workers 1 guest.wasm spawn_join N   one child at a time:
 *       spawn an empty child, join it; prints ns per spawn+join
 *   lvm run --workers 1 guest.wasm batch N        spawn N empty children,
 *       then join them all; prints ns per process
 *   lvm run --workers 1 guest.wasm wake N         N children parked in
 *       receive for 50 ms (long enough to be packed away, see
 *       vm/process.c), then a message to each in turn and its answer
 *       back; prints the median ns from the send to the answer
 *   lvm run --workers 1 guest.wasm roundtrip N    a message to a child
 *       and its answer back, over two channels; prints ns per round trip
 *   lvm run --workers 1 guest.wasm idle N         N children blocked in
 *       channel_receive_prepare; talks to run.sh over stdin/stdout (see
 *       there) so that it can read lvm's memory before and after
 *
 * Timed figures are the median of five runs after a warm-up of a tenth,
 * the same protocol as bench/baseline/procs.erl, whose figures run.sh
 * prints beside these.  Time is WASI's monotonic clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../include/lunatic.h"

#define REPS 5

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const char *what)
{
    fprintf(stderr, "bench guest: %s\n", what);
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median over REPS runs of run(n), after run(n / 10). */
static double measure(double (*run)(uint32_t), uint32_t n)
{
    double v[REPS];
    run(n / 10 ? n / 10 : 1);
    for (int i = 0; i < REPS; i++)
        v[i] = run(n);
    qsort(v, REPS, sizeof v[0], cmp_double);
    return v[REPS / 2];
}

/* {====== spawn + join */

static void empty_child(void)
{
}

static double spawn_join(uint32_t n)
{
    uint64_t t0 = now_ns();
    for (uint32_t i = 0; i < n; i++)
        if (lunatic_join(lunatic_spawn_with_context(LUNATIC_FN(empty_child), NULL, 0)) != 0)
            fail("a child failed");
    return (double)(now_ns() - t0) / n;
}

/* All n spawned first, then all joined: what a burst of children costs
 * when they may run in any order. */
static double batch(uint32_t n)
{
    uint32_t *h = malloc((size_t)n * sizeof *h);
    if (!h)
        fail("out of memory");
    uint64_t t0 = now_ns();
    for (uint32_t i = 0; i < n; i++)
        h[i] = lunatic_spawn_with_context(LUNATIC_FN(empty_child), NULL, 0);
    for (uint32_t i = 0; i < n; i++)
        if (lunatic_join(h[i]) != 0)
            fail("a child failed");
    double ns = (double)(now_ns() - t0) / n;
    free(h);
    return ns;
}

/* }====== */

/* {====== round trip */

typedef struct pair {
    uint32_t in, out;           /* resource indices in the context */
} pair;

/* Answer every message on `in` with the same bytes on `out`, until `in`
 * is closed. */
static void echo_child(void)
{
    uint32_t len;
    pair *p = lunatic_spawn_context(&len);
    if (!p || len != sizeof *p)
        fail("bad context");
    uint32_t in = lunatic_receiver_deserialize(p->in);
    uint32_t out = lunatic_sender_deserialize(p->out);
    lunatic_drop_last_message();
    free(p);
    uint64_t v;
    while (lunatic_channel_receive_prepare(in, &len) == 0) {
        if (len != sizeof v || lunatic_channel_receive(&v, sizeof v) != 0)
            fail("bad message");
        lunatic_channel_send(out, &v, sizeof v);
    }
}

static double roundtrip(uint32_t n)
{
    uint32_t to_r, to_s = lunatic_channel(0, &to_r);
    uint32_t from_r, from_s = lunatic_channel(0, &from_r);
    pair p = { lunatic_receiver_serialize(to_r), lunatic_sender_serialize(from_s) };
    uint32_t child = lunatic_spawn_with_context(LUNATIC_FN(echo_child), &p, sizeof p);
    lunatic_close_receiver(to_r);
    lunatic_close_sender(from_s);

    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t v;
        uint32_t len;
        lunatic_channel_send(to_s, &i, sizeof i);
        if (lunatic_channel_receive_prepare(from_r, &len) != 0 || len != sizeof v ||
            lunatic_channel_receive(&v, sizeof v) != 0 || v != i)
            fail("bad answer");
    }
    double ns = (double)(now_ns() - t0) / n;
    lunatic_close_sender(to_s);             /* the child's loop ends */
    if (lunatic_join(child) != 0)
        fail("the echo child failed");
    lunatic_close_receiver(from_r);
    return ns;
}

/* }====== */

/* {====== idle processes */

typedef struct idle_ctx {
    uint32_t wait, ready;       /* resource indices in the context */
} idle_ctx;

/* Say "ready", then block in receive until the channel closes. */
static void idle_child(void)
{
    uint32_t len;
    idle_ctx c;
    if (lunatic_channel_receive_prepare(0, &len) != 0 || len != sizeof c ||
        lunatic_channel_receive(&c, sizeof c) != 0)
        fail("bad context");
    uint32_t wait = lunatic_receiver_deserialize(c.wait);
    uint32_t ready = lunatic_sender_deserialize(c.ready);
    lunatic_drop_last_message();
    lunatic_channel_send(ready, "", 0);
    lunatic_close_sender(ready);
    lunatic_channel_receive_prepare(wait, &len);
}

/* A line from run.sh on stdin. */
static void await_line(const char *expect)
{
    char line[64];
    if (!fgets(line, sizeof line, stdin) || strncmp(line, expect, strlen(expect)) != 0)
        fail("run.sh did not answer");
}

static void idle(uint32_t n)
{
    printf("base\n");
    fflush(stdout);
    await_line("go");
    uint32_t wait_r, wait_s = lunatic_channel(0, &wait_r);
    uint32_t ready_r, ready_s = lunatic_channel(0, &ready_r);
    uint64_t t0 = now_ns();
    /* The reports are taken in batches of 1,000 (Erlang's children count
     * down an atomic instead): a million of them queued at once would be
     * counted in the idle figure, 100 MB of messages. */
    uint32_t len;
    for (uint32_t i = 0; i < n;) {
        uint32_t batch = n - i < 1000 ? n - i : 1000;
        for (uint32_t k = 0; k < batch; k++) {
            idle_ctx c = { lunatic_receiver_serialize(wait_r), lunatic_sender_serialize(ready_s) };
            lunatic_detach(lunatic_spawn_with_context(LUNATIC_FN(idle_child), &c, sizeof c));
        }
        for (uint32_t k = 0; k < batch; k++)
            if (lunatic_channel_receive_prepare(ready_r, &len) != 0)
                fail("a child did not report");
        i += batch;
    }
    lunatic_drop_last_message();
    uint64_t dt = now_ns() - t0;
    printf("ready %.0f ms %.1f ns\n", (double)dt / 1e6, (double)dt / n);
    fflush(stdout);
    await_line("done");
    lunatic_close_sender(wait_s);          /* wake them all: they end */
}

/* {====== wake-up of a long-parked process */

typedef struct wake_ctx {
    uint32_t in, out;           /* resource indices in the context */
} wake_ctx;

/* Say "ready" on out, park in receive on in, answer once, then wait
 * for in to close and end (after the measurement, so that no child's
 * exit is timed). */
static void wake_child(void)
{
    uint32_t len;
    wake_ctx c;             /* not malloc'ed: it is packed while it waits */
    if (lunatic_channel_receive_prepare(0, &len) != 0 || len != sizeof c ||
        lunatic_channel_receive(&c, sizeof c) != 0)
        fail("bad context");
    uint32_t in = lunatic_receiver_deserialize(c.in);
    uint32_t out = lunatic_sender_deserialize(c.out);
    lunatic_drop_last_message();
    lunatic_channel_send(out, "", 0);
    if (lunatic_channel_receive_prepare(in, &len) != 0)
        fail("no wake-up message");
    lunatic_drop_last_message();
    lunatic_channel_send(out, "", 0);
    lunatic_channel_receive_prepare(in, &len);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static double wake(uint32_t n)
{
    uint32_t out_r, out_s = lunatic_channel(0, &out_r);
    uint32_t *in_s = malloc((size_t)n * sizeof *in_s);
    uint64_t *ns = malloc((size_t)n * sizeof *ns);
    if (!in_s || !ns)
        fail("out of memory");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t in_r;
        in_s[i] = lunatic_channel(0, &in_r);
        wake_ctx c = { lunatic_receiver_serialize(in_r), lunatic_sender_serialize(out_s) };
        lunatic_detach(lunatic_spawn_with_context(LUNATIC_FN(wake_child), &c, sizeof c));
        lunatic_close_receiver(in_r);
    }
    uint32_t len;
    for (uint32_t i = 0; i < n; i++)
        if (lunatic_channel_receive_prepare(out_r, &len) != 0)
            fail("a child did not report");
    lunatic_drop_last_message();
    lunatic_sleep_ms(50);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        lunatic_channel_send(in_s[i], "", 0);
        if (lunatic_channel_receive_prepare(out_r, &len) != 0)
            fail("a child did not answer");
        ns[i] = now_ns() - t0;
        lunatic_drop_last_message();
    }
    for (uint32_t i = 0; i < n; i++)
        lunatic_close_sender(in_s[i]);
    qsort(ns, n, sizeof *ns, cmp_u64);
    double median = (double)ns[n / 2];
    lunatic_close_sender(out_s);
    lunatic_close_receiver(out_r);
    free(in_s);
    free(ns);
    return median;
}

/* }====== */

int main(int argc, char **argv)
{
    if (argc != 3)
        fail("usage: guest.wasm spawn_join|batch|roundtrip|wake|idle N");
    uint32_t n = (uint32_t)strtoul(argv[2], NULL, 10);
    if (!strcmp(argv[1], "spawn_join"))
        printf("bench: guest_spawn_join %.1f ns\n", measure(spawn_join, n));
    else if (!strcmp(argv[1], "batch"))
        printf("bench: guest_batch_join %.1f ns\n", measure(batch, n));
    else if (!strcmp(argv[1], "wake"))
        printf("bench: guest_wake_parked %.1f ns\n", measure(wake, n));
    else if (!strcmp(argv[1], "roundtrip"))
        printf("bench: guest_roundtrip %.1f ns\n", measure(roundtrip, n));
    else if (!strcmp(argv[1], "idle"))
        idle(n);
    else
        fail("unknown benchmark");
    return 0;
}
