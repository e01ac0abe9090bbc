/*
 * test_limits.c - what a guest can make lvm hold is bounded: processes
 * alive at once (--max-processes), bytes queued in one channel
 * (--max-queued), channels kept alive only by their own queue (freed:
 * the ASan build's LeakSanitizer checks that lvm ends with nothing
 * leaked), and a shutdown while processes spawn in a loop (lvm ends).
 *
 * Each attack runs on one worker beside a watchdog process that prints
 * three ticks, so that a test also shows the others keep running; the
 * suite's timeout is the bound on lvm's exit (no timed assertion).  The
 * guest is tests/lunatic/guests/limits.c, committed built.
 */
#include <string.h>

#include "run.h"

#define GUEST "tests/lunatic/guests/limits.wasm"
#define TICKS "tick 0\ntick 1\ntick 2\n"

TestSuite(limits, .timeout = 60);

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* 30 children parked with --max-processes 20: main and the watchdog are
 * two of the 20, so 18 start and 12 are failed children (join 1), told
 * once on stderr naming the option; when they have ended a spawn works
 * again. */
Test(limits, max_processes_refuses_the_spawn)
{
    run_result *r = lun_run_with("--max-processes", "20", GUEST, "1", "procs", "30");
    EXPECT_RUN(r, 0, TICKS "started 18 refused 12\nafter 0\n");
    cr_expect_eq(count(r->err, "--max-processes 20"), 1, "%s", r->err);
    cr_expect_eq(count(r->err, "\n"), 1, "one line in all: %s", r->err);
}

/* Under the default limit the same 30 all start, and nothing is said. */
Test(limits, max_processes_default_is_large)
{
    run_result *r = lun_run(GUEST, "1", "procs", "30");
    EXPECT_RUN(r, 0, TICKS "started 30 refused 0\nafter 0\n");
    cr_expect_str_eq(r->err, "");
}

/* --max-total-memory counts what processes wrote of their initial
 * memories, not its size: 200 parked children of two initial pages each
 * (25 MiB of sizes: 191 of them at most, counted by size, beside the main
 * process and the watchdog) fit in 24 MiB, since each wrote only from its
 * data to the top of its stack, 90 KiB (guests/limits.c, parked). */
Test(limits, max_total_memory_counts_written_pages)
{
    run_result *r = lun_run_with("--max-total-memory", "25165824", GUEST, "1", "procs", "200");
    EXPECT_RUN(r, 0, TICKS "started 200 refused 0\nafter 0\n");
    cr_expect_str_eq(r->err, "");
}

/* Past the total, spawns fail (join gives 1): the first ten failures
 * are told, naming the limit, then one line says the rest are not. */
Test(limits, spawns_over_the_total_are_told_ten_times)
{
    run_result *r = lun_run_with("--max-total-memory", "3000000", GUEST, "1", "procs", "200");
    cr_expect_eq(r->status, 0, "stderr: %s", r->err);
    cr_expect(strstr(r->out, "started ") && !strstr(r->out, " refused 0\n"), "%s", r->out);
    cr_expect_eq(count(r->err, "the child failed to start: total memory limit exceeded"), 10,
                 "%s", r->err);
    cr_expect_eq(count(r->err, " of 3000000 (--max-total-memory)\n"), 10, "%s", r->err);
    cr_expect_eq(count(r->err, "further failures are not reported\n"), 1, "%s", r->err);
    cr_expect_eq(count(r->err, "\n"), 11, "%s", r->err);
}

/* A producer 200 messages ahead of a receiver that waits first: at
 * --max-queued 20000 it parks (back-pressure), the watchdog ticks, and
 * then every message arrives, in order. */
Test(limits, max_queued_parks_the_sender)
{
    run_result *r = lun_run_with("--max-queued", "20000", GUEST, "1", "backpressure", "200");
    EXPECT_RUN(r, 0, TICKS "received 200, producer 0\n");
    cr_expect_str_eq(r->err, "");
}

/* The same on two workers. */
Test(limits, max_queued_parks_the_sender_two_workers)
{
    run_result *r = lun_run_with("--max-queued", "20000", GUEST, "2", "backpressure", "500");
    EXPECT_RUN(r, 0, TICKS "received 500, producer 0\n");
}

/* A process queueing into its own channel would wait for itself: at the
 * limit its send traps instead, naming the limit and the option.  Each
 * message counts its bytes and lvm's own record of it (24 bytes), so
 * 64 KiB holds 64 messages of 1000 bytes and the 65th traps. */
Test(limits, max_queued_traps_a_process_sending_to_itself)
{
    run_result *r = lun_run_with("--max-queued", "65536", GUEST, "1", "selfqueue", "64");
    EXPECT_RUN(r, 134, TICKS "queued 0\nqueued 64\n");
    cr_expect(strstr(r->err, "lvm: lunatic.channel_send: the channel already queues 65536 bytes, "
                             "and 1000 more would pass the limit of 65536 set by --max-queued"),
              "%s", r->err);
}

/* The default limit, 64 MiB, stops the same attack (the 4-page
 * process queued 960 MiB): 65,536 messages of 1024 bytes each fit. */
Test(limits, max_queued_default_stops_selfqueue)
{
    run_result *r = lun_run_with("--max-memory", "4", GUEST, "1", "selfqueue", "4096");
    cr_expect_eq(r->status, 134, "%d: %s", r->status, r->err);
    cr_expect(strstr(r->err, "the limit of 67108864 set by --max-queued"), "%s", r->err);
    cr_expect(strstr(r->out, "queued 65536\n") && !strstr(r->out, "queued 69632\n"), "%s", r->out);
    cr_expect(strstr(r->err, "the channel already queues 67108864 bytes"), "%s", r->err);
}

/* 100 children each leave a 64 KiB message in a channel whose only
 * receiver travels in that message: each is freed when its last sender
 * goes (no leak under LeakSanitizer; before, 100 such children left
 * 6.4 MiB behind). */
Test(limits, channel_with_its_receiver_in_its_queue_is_freed)
{
    run_result *r = lun_run(GUEST, "1", "selfcycle", "100");
    EXPECT_RUN(r, 0, TICKS "cycles 100\n");
    cr_expect_str_eq(r->err, "");
}

/* The other way round: the sender in its own queue, the receiver
 * closed; the queue can never be read, so it goes at once. */
Test(limits, channel_with_its_sender_in_its_queue_is_freed)
{
    run_result *r = lun_run(GUEST, "2", "paircycle", "100");
    EXPECT_RUN(r, 0, TICKS "cycles 100\n");
    cr_expect_str_eq(r->err, "");
}

/* Children spawning in a tight loop, forever, when main returns: lvm
 * ends (the suite's timeout fails it otherwise), and prints nothing per
 * refused spawn. */
Test(limits, shutdown_ends_while_children_spawn)
{
    run_result *r = lun_run(GUEST, "1", "spawnstorm", NULL);
    EXPECT_RUN(r, 0, TICKS "main returns\n");
    cr_expect(count(r->err, "\n") <= 1, "%s", r->err);
}

/* The same with the process limit reached during the storm: the limit
 * is told once, however many spawns it refuses. */
Test(limits, shutdown_ends_with_the_limit_reached)
{
    run_result *r = lun_run_with("--max-processes", "300", GUEST, "2", "spawnstorm", NULL);
    EXPECT_RUN(r, 0, TICKS "main returns\n");
    cr_expect_eq(count(r->err, "\n"), 1, "%s", r->err);
    cr_expect(strstr(r->err, "the limit set by --max-processes 300"), "%s", r->err);
}
