/*
 * test_limits.c - the host descriptor budgets (wasi/ctx.c): each
 * process's (--max-fds) and all processes' together (--max-total-fds).
 * A guest that opens until it fails gets an errno, not a crash, and its
 * budget back when it closes; lvm's message names the option, never
 * "out of host memory".  The preopen counts: it is a host descriptor of
 * the process's own.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "wasi.h"
#include "wasi_helpers.h"

TestSuite(wasi_limits, .init = wt_init, .fini = wt_fini, .timeout = 60);

static void check_budget(const char *option, const char *value, const char *opened,
                         const char *hint)
{
    wt_mkdir("d");
    char dir[1100];
    snprintf(dir, sizeof dir, "%s::/d", wt_path("d"));
    wt_result r = WT_RUN("run", option, value, "--dir", dir, wt_guest("fds"), "/d");
    cr_expect_eq(r.status, 3, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect(strstr(r.out, opened), "stdout: %s", r.out);
    cr_expect(strstr(r.out, "after closing: open works\n"), "stdout: %s", r.out);
    cr_expect(strstr(r.err, hint), "stderr: %s", r.err);
    cr_expect_not(strstr(r.err, "out of host memory"), "stderr: %s", r.err);
    wt_result_free(&r);
}

Test(wasi_limits, per_process_budget)
{
    /* 10: the preopen and 9 files. */
    check_budget("--max-fds", "10", "opened 9 then ENFILE\n",
                 "lvm: process 1: a new descriptor failed: it held the 10 that --max-fds "
                 "allows\n");
}

Test(wasi_limits, total_budget)
{
    check_budget("--max-total-fds", "20", "opened 19 then ENFILE\n",
                 "lvm: process 1: a new descriptor failed: all processes together held the "
                 "20 that --max-total-fds allows\n");
}

/* The preopens themselves count: a budget they do not fit fails at start,
 * naming the option. */
Test(wasi_limits, preopens_over_the_budget)
{
    wt_mkdir("d");
    char dir[1100];
    snprintf(dir, sizeof dir, "%s::/d", wt_path("d"));
    wt_result r = WT_RUN("run", "--max-fds", "1", "--dir", dir, "--dir", dir, wt_guest("fds"),
                         "/d");
    cr_expect_eq(r.status, 1, "stderr: %s", r.err);
    cr_expect(strstr(r.err, "Too many open files (over the --max-fds budget of each process)\n"),
              "stderr: %s", r.err);
    wt_result_free(&r);
}

/* The defaults, in the library: 1024 each, nine tenths of the soft
 * RLIMIT_NOFILE in all; 0 restores them. */
Test(wasi_limits, defaults)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    cr_expect_eq(wasi_fd_limit(), 1024);
    if (rl.rlim_cur != RLIM_INFINITY)
        cr_expect_eq(wasi_fd_total_limit(), (uint64_t)rl.rlim_cur / 10 * 9);
    wasi_set_fd_limits(5, 7);
    cr_expect_eq(wasi_fd_limit(), 5);
    cr_expect_eq(wasi_fd_total_limit(), 7);
    wasi_set_fd_limits(0, 0);
    cr_expect_eq(wasi_fd_limit(), 1024);
    cr_expect_eq(wasi_fd_total(), 0, "no descriptor is held here");
}
