/*
 * guest.c - the C guest of `make bench-lunatic`: the lunatic API measured
 * from inside a wasm program, the way an application would use it.
 *
 *   lvm run --workers 1 guest.wasm spawn_join N   one child at a time:
 *       spawn an empty child, join it; prints ns per spawn+join
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
    for (uint32_t i = 0; i < n; i++) {
        idle_ctx c = { lunatic_receiver_serialize(wait_r), lunatic_sender_serialize(ready_s) };
        lunatic_detach(lunatic_spawn_with_context(LUNATIC_FN(idle_child), &c, sizeof c));
    }
    uint32_t len;
    for (uint32_t i = 0; i < n; i++) {
        if (lunatic_channel_receive_prepare(ready_r, &len) != 0)
            fail("a child did not report");
    }
    lunatic_drop_last_message();
    printf("ready %.0f ms\n", (double)(now_ns() - t0) / 1e6);
    fflush(stdout);
    await_line("done");
    lunatic_close_sender(wait_s);          /* wake them all: they end */
}

/* }====== */

int main(int argc, char **argv)
{
    if (argc != 3)
        fail("usage: guest.wasm spawn_join|roundtrip|idle N");
    uint32_t n = (uint32_t)strtoul(argv[2], NULL, 10);
    if (!strcmp(argv[1], "spawn_join"))
        printf("bench: guest_spawn_join %.1f ns\n", measure(spawn_join, n));
    else if (!strcmp(argv[1], "roundtrip"))
        printf("bench: guest_roundtrip %.1f ns\n", measure(roundtrip, n));
    else if (!strcmp(argv[1], "idle"))
        idle(n);
    else
        fail("unknown benchmark");
    return 0;
}
