/*
 * lun.c - the guest of tests/lunatic: one scenario of the lunatic 0.3
 * process and channel API per argv[1].  Children are fresh instances of
 * this same program with the same arguments; their parent passes each one
 * what it needs in the spawn context.  Output goes to stdout line by line,
 * and test_lunatic.c compares it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../../include/lunatic.h"

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            printf("check failed, line %d: %s\n", __LINE__, #cond);      \
            exit(2);                                                       \
        }                                                                  \
    } while (0)

/* A context of two words: a number and a resource index. */
typedef struct ctx2 {
    uint32_t n, index;
} ctx2;

static ctx2 read_ctx(void)
{
    uint32_t len;
    ctx2 *c = lunatic_spawn_context(&len);
    CHECK(c && len == sizeof(ctx2));
    ctx2 v = *c;
    free(c);
    return v;
}

/* {====== spawn and join */

static void child_print(void)
{
    ctx2 c = read_ctx();
    lunatic_drop_last_message();
    uint32_t len;
    CHECK(lunatic_channel_receive_prepare(0, &len) == 1 && len == 0);   /* closed */
    printf("child got %u\n", c.n);
}

static void child_trap(void)
{
    __builtin_trap();
}

static void child_bad_join(void)
{
    lunatic_join(12345);
}

static void child_exit0(void)
{
    exit(0);
}

static void child_exit3(void)
{
    exit(3);
}

static void child_sleep_then_ok(void)
{
    lunatic_sleep_ms(20);
}

static void spawn_join(void)
{
    ctx2 c = { 42, 0 };
    uint32_t h = lunatic_spawn_with_context(LUNATIC_FN(child_print), &c, sizeof c);
    CHECK(h == 0);
    printf("join %u\n", lunatic_join(h));
    printf("exit0 %u\n", lunatic_join(lunatic_spawn_with_context(LUNATIC_FN(child_exit0), 0, 0)));
    printf("exit3 %u\n", lunatic_join(lunatic_spawn_with_context(LUNATIC_FN(child_exit3), 0, 0)));
    printf("badslot %u\n", lunatic_join(lunatic_spawn_with_context(100000, 0, 0)));
}

static void trap_sibling(void)
{
    uint32_t a = lunatic_spawn_with_context(LUNATIC_FN(child_sleep_then_ok), 0, 0);
    uint32_t b = lunatic_spawn_with_context(LUNATIC_FN(child_trap), 0, 0);
    uint32_t c = lunatic_spawn_with_context(LUNATIC_FN(child_bad_join), 0, 0);
    uint32_t d = lunatic_spawn_with_context(LUNATIC_FN(child_sleep_then_ok), 0, 0);
    printf("joins %u %u %u %u\n", lunatic_join(a), lunatic_join(b), lunatic_join(c), lunatic_join(d));
}

/* }====== */

/* {====== detached children, cancel */

/* Report on the sender in the context, then sleep forever. */
static void child_report_then_sleep(void)
{
    ctx2 c = read_ctx();
    uint32_t s = lunatic_sender_deserialize(c.index);
    lunatic_drop_last_message();
    CHECK(lunatic_channel_send(s, &c.n, 4) == 0);
    for (;;)
        lunatic_sleep_ms(5);
}

static void detached(void)
{
    uint32_t r, s = lunatic_channel(0, &r);
    for (uint32_t i = 0; i < 4; i++) {
        ctx2 c = { i, lunatic_sender_serialize(s) };
        lunatic_detach(lunatic_spawn_with_context(LUNATIC_FN(child_report_then_sleep), &c, sizeof c));
    }
    for (int i = 0; i < 4; i++) {
        uint32_t len;
        free(lunatic_receive(r, &len));
    }
    printf("main leaves\n");
}

/* Tell the parent we are about to wait, then wait forever on a channel
 * of our own (its sender is ours: it never closes), keeping receiver
 * index 1 of the context. */
static void child_wait_forever(void)
{
    ctx2 c = read_ctx();
    uint32_t s = lunatic_sender_deserialize(0);
    uint32_t r = lunatic_receiver_deserialize(1);
    lunatic_drop_last_message();
    CHECK(c.n == 7);
    CHECK(lunatic_channel_send(s, "ready", 5) == 0);
    uint32_t own;
    lunatic_channel(0, &own);
    uint32_t len;
    lunatic_channel_receive_prepare(own, &len);
    (void)r;
    printf("never printed\n");
}

static void cancel_blocked(void)
{
    uint32_t r_ready, s_ready = lunatic_channel(0, &r_ready);
    uint32_t r_wait, s_wait = lunatic_channel(0, &r_wait);
    ctx2 c = { 7, 0 };
    CHECK(lunatic_sender_serialize(s_ready) == 0);
    CHECK(lunatic_receiver_serialize(r_wait) == 1);
    uint32_t h = lunatic_spawn_with_context(LUNATIC_FN(child_wait_forever), &c, sizeof c);
    lunatic_close_receiver(r_wait);         /* the child holds the only one */
    uint32_t len;
    free(lunatic_receive(r_ready, &len));
    lunatic_sleep_ms(20);                   /* it is parked on the channel */
    lunatic_cancel(h);
    /* Its receiver goes with it: sends then fail as "closed". */
    int tries = 0;
    while (lunatic_channel_send(s_wait, "x", 1) == 0 && tries++ < 1000)
        lunatic_sleep_ms(1);
    printf("cancelled, closed after %s\n", tries < 1000 ? "cancel" : "never");
}

/* Main returns while a detached child waits on a channel (D4). */
static void abandon_blocked(void)
{
    uint32_t r_ready, s_ready = lunatic_channel(0, &r_ready);
    uint32_t r_wait, s_wait = lunatic_channel(0, &r_wait);
    ctx2 c = { 7, 0 };
    lunatic_sender_serialize(s_ready);
    lunatic_receiver_serialize(r_wait);
    lunatic_detach(lunatic_spawn_with_context(LUNATIC_FN(child_wait_forever), &c, sizeof c));
    uint32_t len;
    free(lunatic_receive(r_ready, &len));
    lunatic_sleep_ms(10);
    (void)s_wait;
    printf("main leaves a blocked child\n");
}

/* }====== */

/* sleep_ms waits at least its time, and a huge value (ABI D13) is
 * harmless: that child is simply cancelled. */
static void child_sleep_forever(void)
{
    lunatic_sleep_ms(UINT64_MAX);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleeping(void)
{
    uint32_t h = lunatic_spawn_with_context(LUNATIC_FN(child_sleep_forever), 0, 0);
    uint64_t t0 = now_ms();
    lunatic_sleep_ms(50);
    uint64_t dt = now_ms() - t0;
    lunatic_sleep_ms(0);
    lunatic_yield();
    lunatic_cancel(h);
    printf("slept %s\n", dt >= 50 ? "enough" : "too little");
}

/* }====== */

/* {====== channels */

static void child_send_50(void)
{
    ctx2 c = read_ctx();
    uint32_t s = lunatic_sender_deserialize(c.index);
    lunatic_drop_last_message();
    for (uint32_t i = 0; i < 50; i++)
        CHECK(lunatic_channel_send(s, &i, 4) == 0);
    lunatic_close_sender(s);
}

static void channels(void)
{
    /* Unbounded: everything queued without a receiver running. */
    uint32_t r, s = lunatic_channel(0, &r);
    for (uint32_t i = 0; i < 1000; i++)
        CHECK(lunatic_channel_send(s, &i, 4) == 0);
    for (uint32_t i = 0; i < 1000; i++) {
        uint32_t len, *v = lunatic_receive(r, &len);
        CHECK(v && len == 4 && *v == i);
        free(v);
    }
    printf("unbounded ok\n");

    /* Bounded(2): the child blocks while it is full; order is kept; when
     * its only sender goes, the receiver drains and then sees "closed". */
    uint32_t br, bs = lunatic_channel(2, &br);
    ctx2 c = { 0, lunatic_sender_serialize(bs) };
    uint32_t h = lunatic_spawn_with_context(LUNATIC_FN(child_send_50), &c, sizeof c);
    lunatic_close_sender(bs);
    for (uint32_t i = 0; i < 50; i++) {
        if (i % 10 == 0)
            lunatic_sleep_ms(2);
        uint32_t len, *v = lunatic_receive(br, &len);
        CHECK(v && len == 4 && *v == i);
        free(v);
    }
    uint32_t len = 99;
    CHECK(lunatic_channel_receive_prepare(br, &len) == 1 && len == 0);
    CHECK(lunatic_join(h) == 0);
    printf("bounded ok, closed after drain\n");

    /* Every receiver gone: a send fails at once. */
    uint32_t r2, s2 = lunatic_channel(1, &r2);
    lunatic_close_receiver(r2);
    lunatic_close_receiver(r2);             /* unknown ids are ignored */
    CHECK(lunatic_channel_send(s2, "x", 1) == 1);
    /* No message after drop_last_message. */
    lunatic_drop_last_message();
    CHECK(lunatic_channel_receive(&len, 4) == 1);
    /* Ids are never reused; sender 0 and receiver 0 are unrelated. */
    uint32_t r3, s3 = lunatic_channel(0, &r3);
    CHECK(s3 == 3 && r3 == 3);
    printf("closed ok\n");
}

/* }====== */

/* {====== moving channel ends: main -> B -> C */

static void proc_c(void)
{
    uint32_t len;
    char *ctx = lunatic_spawn_context(&len);
    CHECK(ctx && len == 1 && ctx[0] == 'C');
    uint32_t reply = lunatic_sender_deserialize(0);
    uint32_t in = lunatic_receiver_deserialize(1);
    lunatic_drop_last_message();
    free(ctx);
    char *m = lunatic_receive(in, &len);
    CHECK(m && len == 6 && memcmp(m, "second", 6) == 0);
    lunatic_drop_last_message();
    free(m);
    CHECK(lunatic_channel_send(reply, "C got second", 12) == 0);
    /* main closes its sender: this receiver then sees "closed". */
    CHECK(lunatic_channel_receive_prepare(in, &len) == 1);
    CHECK(lunatic_channel_send(reply, "C saw close", 11) == 0);
}

static void proc_b(void)
{
    uint32_t len;
    char *ctx = lunatic_spawn_context(&len);
    CHECK(ctx && len == 1 && ctx[0] == 'B');
    uint32_t in = lunatic_receiver_deserialize(0);
    lunatic_drop_last_message();
    free(ctx);
    char *m = lunatic_receive(in, &len);
    CHECK(m && len == 5 && memcmp(m, "hello", 5) == 0);
    uint32_t reply = lunatic_sender_deserialize(0);
    lunatic_drop_last_message();
    free(m);
    CHECK(lunatic_channel_send(reply, "B ok", 4) == 0);
    /* Pass the reply sender and our receiver on to C, then let go. */
    CHECK(lunatic_sender_serialize(reply) == 0);
    CHECK(lunatic_receiver_serialize(in) == 1);
    lunatic_detach(lunatic_spawn_with_context(LUNATIC_FN(proc_c), "C", 1));
    lunatic_close_sender(reply);
    lunatic_close_receiver(in);
}

static void move3(void)
{
    uint32_t r1, s1 = lunatic_channel(0, &r1);
    uint32_t r2, s2 = lunatic_channel(0, &r2);
    CHECK(lunatic_receiver_serialize(r1) == 0);
    uint32_t b = lunatic_spawn_with_context(LUNATIC_FN(proc_b), "B", 1);
    lunatic_close_receiver(r1);
    CHECK(lunatic_sender_serialize(s2) == 0);
    CHECK(lunatic_channel_send(s1, "hello", 5) == 0);
    lunatic_close_sender(s2);               /* B and C hold the others */
    CHECK(lunatic_join(b) == 0);
    CHECK(lunatic_channel_send(s1, "second", 6) == 0);
    for (int i = 0; i < 3; i++) {
        uint32_t len;
        char *m = lunatic_receive(r2, &len);
        CHECK(m);
        printf("%.*s\n", (int)len, m);
        free(m);
        if (i == 1)
            lunatic_close_sender(s1);
    }
    uint32_t len;
    CHECK(lunatic_channel_receive_prepare(r2, &len) == 1);    /* all senders gone */
    printf("move ok\n");
}

/* }====== */

/* {====== many processes, an endless loop */

static void child_number(void)
{
    ctx2 c = read_ctx();
    uint32_t s = lunatic_sender_deserialize(c.index);
    lunatic_drop_last_message();
    uint32_t v = c.n * 2;
    CHECK(lunatic_channel_send(s, &v, 4) == 0);
}

static void many(void)
{
    enum { N = 10000 };
    static uint32_t handles[N];
    uint32_t r, s = lunatic_channel(0, &r);
    for (uint32_t i = 0; i < N; i++) {
        ctx2 c = { i, lunatic_sender_serialize(s) };
        handles[i] = lunatic_spawn_with_context(LUNATIC_FN(child_number), &c, sizeof c);
    }
    lunatic_close_sender(s);
    uint64_t sum = 0;
    uint32_t n = 0, len;
    for (uint32_t *v; (v = lunatic_receive(r, &len)); free(v), n++)
        sum += *v;                          /* until the last child's sender goes */
    uint32_t failed = 0;
    for (uint32_t i = 0; i < N; i++)
        failed += lunatic_join(handles[i]);
    printf("many: %u messages, sum %llu, %u failed\n", n, (unsigned long long)sum, failed);
}

static void child_spin(void)
{
    volatile uint64_t x = 0;
    for (;;)
        x++;
}

static void endless(void)
{
    uint32_t spinner = lunatic_spawn_with_context(LUNATIC_FN(child_spin), 0, 0);
    lunatic_yield();
    uint32_t r, s = lunatic_channel(0, &r);
    uint32_t h[3];
    for (uint32_t i = 0; i < 3; i++) {
        ctx2 c = { i, lunatic_sender_serialize(s) };
        h[i] = lunatic_spawn_with_context(LUNATIC_FN(child_number), &c, sizeof c);
    }
    for (uint32_t i = 0; i < 3; i++)
        CHECK(lunatic_join(h[i]) == 0);
    lunatic_cancel(spinner);
    printf("others finished\n");
}

/* }====== */

/* {====== traps: each must end the main process with a named rule */

static void traps(const char *which)
{
    uint32_t r, s = lunatic_channel(0, &r), len;
    char buf[16];
    const uint32_t far = 0xfffffff0u;
    if (!strcmp(which, "join_bad"))
        lunatic_join(7);
    else if (!strcmp(which, "join_twice")) {
        uint32_t h = lunatic_spawn_with_context(LUNATIC_FN(child_sleep_then_ok), 0, 0);
        lunatic_join(h);
        lunatic_join(h);
    } else if (!strcmp(which, "detach_bad"))
        lunatic_detach(3);
    else if (!strcmp(which, "cancel_bad"))
        lunatic_cancel(3);
    else if (!strcmp(which, "spawn_oob"))
        lunatic_spawn_with_context(LUNATIC_FN(child_print), (void *)(uintptr_t)far, 64);
    else if (!strcmp(which, "channel_out"))
        lunatic_channel(0, (uint32_t *)(uintptr_t)far);
    else if (!strcmp(which, "send_bad"))
        lunatic_channel_send(s + 5, "x", 1);
    else if (!strcmp(which, "send_oob"))
        lunatic_channel_send(s, (void *)(uintptr_t)far, 64);
    else if (!strcmp(which, "prepare_bad"))
        lunatic_channel_receive_prepare(r + 5, &len);
    else if (!strcmp(which, "prepare_out")) {
        lunatic_channel_send(s, "x", 1);
        lunatic_channel_receive_prepare(r, (uint32_t *)(uintptr_t)far);
    } else if (!strcmp(which, "receive_oob")) {
        lunatic_channel_send(s, "x", 1);
        lunatic_channel_receive_prepare(r, &len);
        lunatic_channel_receive((void *)(uintptr_t)far, 64);
    } else if (!strcmp(which, "receive_short")) {
        lunatic_channel_send(s, "0123456789", 10);
        lunatic_channel_receive_prepare(r, &len);
        lunatic_channel_receive(buf, 4);
    } else if (!strcmp(which, "serialize_bad"))
        lunatic_sender_serialize(9);
    else if (!strcmp(which, "deser_none"))
        lunatic_sender_deserialize(0);
    else {
        lunatic_sender_serialize(s);        /* one resource: a sender */
        lunatic_channel_send(s, "x", 1);
        lunatic_channel_receive_prepare(r, &len);
        if (!strcmp(which, "deser_range"))
            lunatic_sender_deserialize(1);
        else if (!strcmp(which, "deser_twice")) {
            lunatic_sender_deserialize(0);
            lunatic_sender_deserialize(0);
        } else if (!strcmp(which, "deser_kind"))
            lunatic_receiver_deserialize(0);
        else if (!strcmp(which, "deser_dropped")) {
            lunatic_drop_last_message();
            lunatic_sender_deserialize(0);
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
    if (!strcmp(m, "spawn_join"))
        spawn_join();
    else if (!strcmp(m, "trap_sibling"))
        trap_sibling();
    else if (!strcmp(m, "detached"))
        detached();
    else if (!strcmp(m, "sleep"))
        sleeping();
    else if (!strcmp(m, "abandon_blocked"))
        abandon_blocked();
    else if (!strcmp(m, "cancel_blocked"))
        cancel_blocked();
    else if (!strcmp(m, "channels"))
        channels();
    else if (!strcmp(m, "move3"))
        move3();
    else if (!strcmp(m, "many"))
        many();
    else if (!strcmp(m, "endless"))
        endless();
    else if (!strcmp(m, "trap") && argc > 2)
        traps(argv[2]);
    else
        return 2;
    return 0;
}
