/*
 * test_lunatic.c - the lunatic 0.3 process and channel API, end to end:
 * the real `lvm run` on tests/lunatic/guests/lun.wasm, one scenario per
 * test (the guest's argv[1]), comparing what it prints and its exit status.
 *
 * The lvm binary is found next to the test binary (BUILD/tests/../lvm)
 * or through LVM_BIN, as in tests/wasi.  The guest is committed built.
 */
#include <string.h>

#include "run.h"

#define GUEST "tests/lunatic/guests/lun.wasm"

TestSuite(lunatic, .timeout = 60);

/* spawn_with_context + join; proc_exit(0) and (3) in children (D2); a
 * child whose table slot is empty fails instead of the parent. */
Test(lunatic, spawn_and_join)
{
    run_result *r = lun_run(GUEST, "2", "spawn_join", NULL);
    EXPECT_RUN(r, 0, "child got 42\njoin 0\nexit0 0\nexit3 1\nbadslot 1\n");
}

/* A trapping child and one trapping in a host call (D5) fail alone; the
 * siblings finish and join 0. */
Test(lunatic, child_trap_leaves_siblings)
{
    run_result *r = lun_run(GUEST, "2", "trap_sibling", NULL);
    EXPECT_RUN(r, 0, "joins 0 1 1 0\n");
    cr_expect(strstr(r->err, "unknown or already used process handle 12345"), "%s", r->err);
    /* Each failed child is reported with its number (main is 1, its
     * children 2-5 in spawn order) and a backtrace. */
    cr_expect(strstr(r->err, "lvm: trap in process 3: unreachable\n  at "), "%s", r->err);
    cr_expect(strstr(r->err, "lvm: trap in process 4: "), "%s", r->err);
    cr_expect(!strstr(r->err, "process 2") && !strstr(r->err, "process 5"), "%s", r->err);
}

/* sleep_ms suspends only the caller for at least its time; a huge value
 * is clamped (D13); yield_ and sleep_ms(0) return. */
Test(lunatic, sleep_and_yield, .timeout = 20)
{
    run_result *r = lun_run(GUEST, "1", "sleep", NULL);
    EXPECT_RUN(r, 0, "slept enough\n");
}

/* D4: main returns while detached children sleep on: lvm exits 0. */
Test(lunatic, main_exit_abandons_detached, .timeout = 20)
{
    run_result *r = lun_run(GUEST, "2", "detached", NULL);
    EXPECT_RUN(r, 0, "main leaves\n");
}

/* D4 again, with a detached child parked on a channel of its own. */
Test(lunatic, main_exit_abandons_blocked, .timeout = 20)
{
    run_result *r = lun_run(GUEST, "2", "abandon_blocked", NULL);
    EXPECT_RUN(r, 0, "main leaves a blocked child\n");
}

/* cancel_process on a child parked in channel_receive_prepare: it is
 * reclaimed and its receiver dropped, which closes the channel. */
Test(lunatic, cancel_blocked_process, .timeout = 20)
{
    run_result *r = lun_run(GUEST, "2", "cancel_blocked", NULL);
    EXPECT_RUN(r, 0, "cancelled, closed after cancel\n");
}

/* Unbounded and bounded channels, order, blocking on full, close rules
 * (drained then 1; no receivers: send 1), unknown close ignored, ids. */
Test(lunatic, channels_bounded_unbounded_close)
{
    run_result *r = lun_run(GUEST, "2", "channels", NULL);
    EXPECT_RUN(r, 0, "unbounded ok\nbounded ok, closed after drain\nclosed ok\n");
}

/* The same on one worker: blocking must never hold the only thread. */
Test(lunatic, channels_one_worker)
{
    run_result *r = lun_run(GUEST, "1", "channels", NULL);
    EXPECT_RUN(r, 0, "unbounded ok\nbounded ok, closed after drain\nclosed ok\n");
}

/* A receiver moved in a spawn context (main -> B), a sender moved in a
 * channel message (main -> B), both moved on to C in B's spawn context;
 * the channel closes when the last moved copy goes. */
Test(lunatic, move_ends_across_three_processes)
{
    run_result *r = lun_run(GUEST, "2", "move3", NULL);
    EXPECT_RUN(r, 0, "B ok\nC got second\nC saw close\nmove ok\n");
}

Test(lunatic, ten_thousand_processes, .timeout = 120)
{
    run_result *r = lun_run(GUEST, "2", "many", NULL);
    EXPECT_RUN(r, 0, "many: 10000 messages, sum 99990000, 0 failed\n");
}

/* D17: a child spinning forever does not keep the others from running,
 * even on one worker; cancel stops it at a preemption point. */
Test(lunatic, endless_loop_does_not_starve, .timeout = 20)
{
    run_result *r = lun_run(GUEST, "1", "endless", NULL);
    EXPECT_RUN(r, 0, "others finished\n");
}

/* Every trap rule: the main process ends with the trap status (D3) and
 * stderr names the function and the rule. */
static const struct {
    const char *name, *message;
} trap_cases[] = {
    { "join_bad", "lunatic.join: unknown or already used process handle 7 (ABI D5)" },
    { "join_twice", "lunatic.join: unknown or already used process handle 0 (ABI D5)" },
    { "detach_bad", "lunatic.detach_process: unknown or already used process handle 3 (ABI D5)" },
    { "cancel_bad", "lunatic.cancel_process: unknown or already used process handle 3 (ABI D5)" },
    { "spawn_oob", "lunatic.spawn_with_context: context [4294967280, +64) is outside memory (ABI D5)" },
    { "channel_out", "lunatic.channel: receiver out-pointer 4294967280 is outside memory (ABI D7)" },
    { "send_bad", "lunatic.channel_send: unknown sender id 5 (ABI D5)" },
    { "send_oob", "lunatic.channel_send: buffer [4294967280, +64) is outside memory (ABI D5)" },
    { "prepare_bad", "lunatic.channel_receive_prepare: unknown receiver id 5 (ABI D5)" },
    { "prepare_out", "lunatic.channel_receive_prepare: length out-pointer 4294967280 is outside memory (ABI D7)" },
    { "receive_oob", "lunatic.channel_receive: buffer [4294967280, +64) is outside memory (ABI D5)" },
    { "receive_short", "lunatic.channel_receive: buffer of 4 bytes for a message of 10 (ABI D6)" },
    { "serialize_bad", "lunatic.sender_serialize: unknown sender id 9 (ABI D5)" },
    { "deser_none", "lunatic.sender_deserialize: index 0 but no received message (ABI D5)" },
    { "deser_range", "lunatic.sender_deserialize: index 1 but the message carries 1 resources (ABI D5)" },
    { "deser_twice", "lunatic.sender_deserialize: index 0 was already taken (ABI D5)" },
    { "deser_kind", "lunatic.receiver_deserialize: index 0 holds a resource of another kind (ABI D5)" },
    { "deser_dropped", "lunatic.sender_deserialize: index 0 but no received message (ABI D5)" },
};

Test(lunatic, every_trap_rule, .timeout = 120)
{
    for (size_t i = 0; i < sizeof trap_cases / sizeof trap_cases[0]; i++) {
        run_result *r = lun_run(GUEST, "2", "trap", trap_cases[i].name);
        cr_expect_eq(r->status, 134, "%s: status %d\nstderr: %s", trap_cases[i].name, r->status, r->err);
        cr_expect(strstr(r->err, trap_cases[i].message), "%s: stderr: %s", trap_cases[i].name, r->err);
        cr_expect(!strstr(r->out, "no trap"), "%s: did not trap", trap_cases[i].name);
    }
}
