/*
 * test_block.c - nothing a guest does blocks a worker thread: the real
 * `lvm run` on tests/lunatic/guests/block.wasm, one attack per test,
 * each beside a ticker process that must finish while the attack is
 * under way (the guest's comment explains how the order of its reports
 * shows that).  Mostly on one worker, where an attack that held the
 * worker would hang lvm: the suite's timeout then fails the test rather
 * than hanging the run.  Nothing here is timed.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lunatic/run.h"

#define BLOCK_GUEST "tests/lunatic/guests/block.wasm"

TestSuite(block, .timeout = 120);

/* A fresh directory holding a FIFO named "fifo". */
static void fifo_dir(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/lvm-block-XXXXXX");
    cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    char fifo[256];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo: %s", strerror(errno));
}

static void fifo_dir_remove(const char *dir)
{
    char fifo[256];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    unlink(fifo);
    rmdir(dir);
}

/* `lvm run --workers W --dir DIR::d block.wasm SCENARIO [ARG]`. */
static run_result *run_in(const char *dir, const char *workers, const char *scenario,
                          const char *arg)
{
    char spec[300];
    snprintf(spec, sizeof spec, "%s::d", dir);
    return lun_run_with("--dir", spec, BLOCK_GUEST, workers, scenario, arg);
}

/* A FIFO opened for reading before it has a writer: the open returns,
 * the read parks the process until main writes, and the ticker finishes
 * meanwhile (a blocking open would have held the only worker). */
Test(block, fifo_open_without_writer)
{
    char dir[64];
    fifo_dir(dir, sizeof dir);
    run_result *r = run_in(dir, "1", "fifo_open", NULL);
    fifo_dir_remove(dir);
    EXPECT_RUN(r, 0, "ticker done\nreader: read 1 byte(s): x\nfifo_open ok\n");
}

/* A FIFO opened read+write, then 1 MiB in one fd_write: the write is
 * short (what the FIFO holds), the rest parks until main drains it; on a
 * blocking descriptor poll would say "writable" and the write would
 * block the worker for good. */
Test(block, fifo_big_write)
{
    char dir[64];
    fifo_dir(dir, sizeof dir);
    run_result *r = run_in(dir, "1", "fifo_write", "1");
    fifo_dir_remove(dir);
    EXPECT_RUN(r, 0,
               "ticker done\n"
               "writer: 1048576 bytes, the first write short\n"
               "drained 1048576 bytes\n");
}

/* Four such writers on two workers: more stuck writers than workers,
 * and the ticker still runs. */
Test(block, four_writers_two_workers)
{
    char dir[64];
    fifo_dir(dir, sizeof dir);
    run_result *r = run_in(dir, "2", "fifo_write", "4");
    fifo_dir_remove(dir);
    EXPECT_RUN(r, 0,
               "ticker done\n"
               "writer: 1048576 bytes, the first write short\n"
               "writer: 1048576 bytes, the first write short\n"
               "writer: 1048576 bytes, the first write short\n"
               "writer: 1048576 bytes, the first write short\n"
               "drained 4194304 bytes\n");
}

/* The writers' FIFO is opened for writing only by main, after them: a
 * write-only open with no reader would block in the kernel; it waits
 * parked instead.  fifo_open's main does exactly that when the reader
 * has not opened yet; here on two workers, where the reader may be
 * anywhere in its open when main's comes. */
Test(block, fifo_open_two_workers)
{
    char dir[64];
    fifo_dir(dir, sizeof dir);
    run_result *r = run_in(dir, "2", "fifo_open", NULL);
    fifo_dir_remove(dir);
    EXPECT_RUN(r, 0, "ticker done\nreader: read 1 byte(s): x\nfifo_open ok\n");
}

/* random_get of 256 MiB in one call is filled a slice at a time: the
 * ticker's 200 yields end before the 1,000-odd slices do, on one
 * worker.  Unsliced, the call ran to its end first. */
Test(block, random_get_huge)
{
    run_result *r = lun_run(BLOCK_GUEST, "1", "random", "256");
    EXPECT_RUN(r, 0, "ticker done\nrandom: filled\n");
}

/* A 48 MiB path is ENAMETOOLONG (37) before lvm looks at its bytes,
 * not millions of openat()s in one host call. */
Test(block, path_48_mib)
{
    char dir[64];
    fifo_dir(dir, sizeof dir);
    run_result *r = run_in(dir, "1", "path", "48");
    fifo_dir_remove(dir);
    cr_expect_eq(r->status, 0, "stdout: %s\nstderr: %s", r->out, r->err);
    cr_expect(strstr(r->out, "path of 48 MiB: errno 37\n"), "stdout: %s", r->out);
    cr_expect(strstr(r->out, "ticker done\n"), "stdout: %s", r->out);
}

/* The limit's edge: 4095 bytes are walked (and the first "a" is not
 * there: ENOENT, 44), 4096 are ENAMETOOLONG, as Linux says of a path
 * that does not fit PATH_MAX with its NUL. */
Test(block, path_length_limit)
{
    char dir[64];
    fifo_dir(dir, sizeof dir);
    run_result *r = run_in(dir, "1", "path_len", "4095");
    EXPECT_RUN(r, 0, "path of 4095 bytes: errno 44\n");
    r = run_in(dir, "1", "path_len", "4096");
    EXPECT_RUN(r, 0, "path of 4096 bytes: errno 37\n");
    fifo_dir_remove(dir);
}

/* fd_sync and fd_datasync run on the blocking pool while the process
 * parks, and give the guest their results as before (a bad descriptor
 * is still EBADF, 8, at once). */
Test(block, sync_on_the_pool)
{
    char dir[64], synced[128];
    fifo_dir(dir, sizeof dir);
    run_result *r = run_in(dir, "1", "sync", NULL);
    snprintf(synced, sizeof synced, "%s/synced", dir);
    unlink(synced);
    fifo_dir_remove(dir);
    cr_expect_eq(r->status, 0, "stdout: %s\nstderr: %s", r->out, r->err);
    cr_expect(strstr(r->out, "sync 0, datasync 0, sync of a bad fd 8\n"), "stdout: %s", r->out);
    cr_expect(strstr(r->out, "ticker done\n"), "stdout: %s", r->out);
}
