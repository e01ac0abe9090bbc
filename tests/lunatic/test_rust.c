/*
 * test_rust.c - the lunatic 0.3 process and channel API driven from Rust
 * std code: the real `lvm run` on tests/lunatic/guests/rs_lunatic.wasm, a
 * Rust program that uses the essentials of the `lunatic` crate 0.3.10
 * (guests/lunatic_rs.rs: a generic spawn trampoline, the bincode-shaped
 * context on receiver 0, channel ends moved by their serialize index,
 * cancel on drop), one scenario per test (the guest's argv[1]), comparing
 * what it prints and its exit status.
 *
 * Some scenarios run again on rs_lunatic_stripped.wasm, the same program
 * without a `name` section: there lvm finds a child's __wasm_call_ctors
 * through the first call in the exported _start (ABI D10).  Both guests
 * are committed built (mk/lunatic.mk rebuilds them).
 */
#include <stdio.h>
#include <string.h>

#include "run.h"

#define GUEST "tests/lunatic/guests/rs_lunatic.wasm"
#define STRIPPED "tests/lunatic/guests/rs_lunatic_stripped.wasm"

TestSuite(rust, .timeout = 60);

/* {====== many children, a panicking child */

static const char compute_out[] =
    "primes below 1000: 168\n"
    "primes below 2000: 303\n"
    "primes below 3000: 430\n"
    "primes below 4000: 550\n"
    "primes below 5000: 669\n"
    "primes below 6000: 783\n"
    "primes below 7000: 900\n"
    "primes below 8000: 1007\n"
    "primes below 9000: 1117\n"
    "primes below 10000: 1229\n"
    "primes below 11000: 1335\n"
    "primes below 12000: 1438\n"
    "primes below 13000: 1547\n"
    "primes below 14000: 1652\n"
    "primes below 15000: 1754\n"
    "primes below 16000: 1862\n"
    "16 results, 0 failed\n";

/* 16 children, each sent (n, a clone of the results sender) in its
 * context, count primes and send (n, count) back; the channel closes once
 * the last child has ended, and all of them join Ok. */
Test(rust, spawn_children_compute)
{
    run_result *r = lun_run(GUEST, "2", "compute", NULL);
    EXPECT_RUN(r, 0, compute_out);
}

Test(rust, spawn_children_compute_one_worker)
{
    run_result *r = lun_run(GUEST, "1", "compute", NULL);
    EXPECT_RUN(r, 0, compute_out);
}

Test(rust, spawn_children_compute_stripped)
{
    run_result *r = lun_run(STRIPPED, "2", "compute", NULL);
    EXPECT_RUN(r, 0, compute_out);
}

/* panic! in a child (panic=abort: the hook prints, then a trap): its join
 * is Err, the siblings finish, and since no destructor ran the host must
 * drop the child's sender for the results channel to close. */
Test(rust, panicking_child_leaves_siblings)
{
    run_result *r = lun_run(GUEST, "2", "panic_child", NULL);
    EXPECT_RUN(r, 0,
               "results [(0, 0), (1, 1), (3, 9), (4, 16)]\n"
               "joins [Ok(()), Ok(()), Err(()), Ok(()), Ok(())]\n");
    cr_expect(strstr(r->err, "panicked at 'child 2 gives up'"), "stderr: %s", r->err);
}

/* }====== */

/* {====== std in a child: constructors (D10) */

/* run.h's runner passes no lvm options; this one puts a --dir and an
 * --env before the guest: lvm run --workers 2 --dir DIR::/data
 * --env GREETING=hi GUEST ctors /data/greeting.txt */
static run_result *run_ctors(const char *guest, const char *dir)
{
    char dir_arg[256];
    snprintf(dir_arg, sizeof dir_arg, "%s::/data", dir);
    const char *args[] = { "run", "--workers", "2", "--dir", dir_arg, "--env", "GREETING=hi",
                           guest, "ctors", "/data/greeting.txt", NULL };
    return lun_run_args(args);
}

/* Arguments and the environment are fetched on first use, but wasi-libc
 * learns the preopened directories only in __wasm_call_ctors: a child
 * reads a file under --dir only if lvm ran its constructors. */
static void check_ctors(const char *guest)
{
    char dir[] = "/tmp/lun-rs-XXXXXX", file[64];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/greeting.txt", dir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fputs("hello from the host\n", f);
    fclose(f);
    run_result *r = run_ctors(guest, dir);
    unlink(file);
    rmdir(dir);
    EXPECT_RUN(r, 0,
               "main: args [\"ctors\", \"/data/greeting.txt\"], GREETING=hi, file Ok(\"hello from the host\")\n"
               "child: args [\"ctors\", \"/data/greeting.txt\"], GREETING=hi, file Ok(\"hello from the host\")\n"
               "join Ok(())\n");
}

/* __wasm_call_ctors found by the `name` section. */
Test(rust, child_runs_constructors)
{
    check_ctors(GUEST);
}

/* No name section: the first call in the exported _start wrapper. */
Test(rust, child_runs_constructors_stripped)
{
    check_ctors(STRIPPED);
}

/* }====== */

/* {====== channels */

/* bounded(2) between a fast producer and a consumer that pauses: in a
 * shared log the producer is never more than 2 items ahead, every item
 * arrives in order, and the drained channel then reports closed. */
Test(rust, bounded_channel_back_pressure)
{
    run_result *r = lun_run(GUEST, "2", "backpressure", NULL);
    EXPECT_RUN(r, 0,
               "received 20 items in order: true\n"
               "producer Ok(()), then closed: true\n"
               "20 sent, 20 taken, the producer at most 2 ahead\n");
}

Test(rust, bounded_channel_back_pressure_one_worker)
{
    run_result *r = lun_run(GUEST, "1", "backpressure", NULL);
    EXPECT_RUN(r, 0,
               "received 20 items in order: true\n"
               "producer Ok(()), then closed: true\n"
               "20 sent, 20 taken, the producer at most 2 ahead\n");
}

static const char close_out[] =
    "writer Ok(())\n"
    "received one\n"
    "received two\n"
    "received three\n"
    "then Err(())\n"
    "send while a receiver lives: Ok(())\n"
    "reader Ok(())\n"
    "send after it is gone: Err(())\n"
    "clone still sends: Ok(())\n"
    "receive Ok(7)\n"
    "after the last clone: Err(())\n"
    "bounded without a receiver: Err(())\n";

/* Receive after every sender is dropped (here, by a child that ended):
 * the queue drains, then Err.  Send after every receiver is dropped: Err.
 * Clones share one table entry, closed with the last one. */
Test(rust, channel_close_semantics)
{
    run_result *r = lun_run(GUEST, "2", "close", NULL);
    EXPECT_RUN(r, 0, close_out);
}

Test(rust, channel_close_semantics_stripped)
{
    run_result *r = lun_run(STRIPPED, "2", "close", NULL);
    EXPECT_RUN(r, 0, close_out);
}

static const char move3_out[] =
    "B Ok(())\n"
    "B got hello\n"
    "C got second\n"
    "C saw close\n"
    "replies closed: true\n";

/* A Receiver in a spawn context (main -> B), a Sender inside a message
 * (main -> B), both passed on in C's context; C sees the close when main
 * drops the last sender, and the replies channel closes when B and C are
 * gone. */
Test(rust, move_ends_across_three_processes)
{
    run_result *r = lun_run(GUEST, "2", "move3", NULL);
    EXPECT_RUN(r, 0, move3_out);
}

Test(rust, move_ends_across_three_processes_stripped)
{
    run_result *r = lun_run(STRIPPED, "1", "move3", NULL);
    EXPECT_RUN(r, 0, move3_out);
}

/* }====== */

/* {====== exit, panic, detach */

/* D1: std::process::exit(3) in main is lvm's exit status 3 (after the
 * line printed before it). */
Test(rust, exit_in_main_is_the_status)
{
    run_result *r = lun_run(GUEST, "2", "exit_main", NULL);
    EXPECT_RUN(r, 3, "main exits with 3\n");
}

/* D2: exit(0) in a child joins Ok, exit(5) joins Err. */
Test(rust, exit_in_child_is_its_join)
{
    run_result *r = lun_run(GUEST, "2", "exit_child", NULL);
    EXPECT_RUN(r, 0, "exit(0) in a child: join Ok(())\nexit(5) in a child: join Err(())\n");
}

Test(rust, exit_in_child_is_its_join_stripped)
{
    run_result *r = lun_run(STRIPPED, "2", "exit_child", NULL);
    EXPECT_RUN(r, 0, "exit(0) in a child: join Ok(())\nexit(5) in a child: join Err(())\n");
}

/* D3: a panic in main is a trap: status 134, Rust's panic message, then
 * lvm's trap report with a backtrace named from the `name` section. */
Test(rust, panic_in_main_traps)
{
    run_result *r = lun_run(GUEST, "2", "panic_main", NULL);
    EXPECT_RUN(r, 134, "main panics\n");
    cr_expect(strstr(r->err, "panicked at 'main gives up'"), "stderr: %s", r->err);
    cr_expect(strstr(r->err, "lvm: trap"), "stderr: %s", r->err);
    cr_expect(strstr(r->err, "rs_lunatic10panic_main"), "no function names: %s", r->err);
    cr_expect(strstr(r->err, "__rust_start_panic"), "no function names: %s", r->err);
}

Test(rust, panic_in_main_traps_stripped)
{
    run_result *r = lun_run(STRIPPED, "2", "panic_main", NULL);
    EXPECT_RUN(r, 134, "main panics\n");
    cr_expect(strstr(r->err, "panicked at 'main gives up'"), "stderr: %s", r->err);
    cr_expect(strstr(r->err, "lvm: trap"), "stderr: %s", r->err);
}

/* D3's exact wording: "lvm: trap in process P: <reason>"; main is
 * process 1, the first spawned. */
Test(rust, panic_in_main_names_the_process)
{
    run_result *r = lun_run(GUEST, "2", "panic_main", NULL);
    cr_expect_eq(r->status, 134);
    cr_expect(strstr(r->err, "lvm: trap in process 1: unreachable"), "stderr: %s", r->err);
}

/* D4: main returns while one detached child sleeps in std::thread::sleep
 * and another waits on a channel that never closes: lvm exits 0 at once
 * (the timeout is far below "forever"). */
Test(rust, main_return_abandons_detached, .timeout = 20)
{
    run_result *r = lun_run(GUEST, "2", "detached", NULL);
    EXPECT_RUN(r, 0, "both children ready (3), main returns\n");
}

/* Dropping a Process without join or detach cancels the child (Drop ->
 * cancel_process); its receiver goes with it, so sends to it then fail. */
Test(rust, dropped_process_is_cancelled, .timeout = 20)
{
    run_result *r = lun_run(GUEST, "2", "cancel_on_drop", NULL);
    EXPECT_RUN(r, 0, "send while the child lives: Ok(())\nafter the drop: sends fail\n");
}

/* }====== */

/* {====== sleeping processes, a ring */

/* D12: std::thread::sleep (poll_oneoff on a clock) suspends only its
 * process.  Children sleeping 500, 400, ... 100 ms, spawned in that
 * order, wake in the reverse order, even with a single worker. */
Test(rust, std_sleep_suspends_only_the_process, .timeout = 30)
{
    run_result *r = lun_run(GUEST, "1", "sleepers", NULL);
    EXPECT_RUN(r, 0, "woke in order [4, 3, 2, 1, 0], 0 failed\n");
}

/* 1,000 processes in a ring, each holding the receiver of one channel and
 * the sender of the next; a token goes around three times. */
Test(rust, ring_of_a_thousand_processes, .timeout = 120)
{
    run_result *r = lun_run(GUEST, "2", "ring", NULL);
    EXPECT_RUN(r, 0, "ring of 1000 processes, 3 laps: token 3000, 0 failed\n");
}

/* }====== */
