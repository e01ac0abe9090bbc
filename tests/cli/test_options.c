/*
 * test_options.c - `lvm run` options: the scheduler's worker count, the
 * reduction budget per slice, the per-process memory limit.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cli_helpers.h"

TestSuite(cli_options, .init = cli_tmp_init, .fini = cli_tmp_fini, .timeout = 30);

#define RUN(...) cli_run_lvm((const char *const[]){ __VA_ARGS__, NULL })

Test(cli_options, one_worker_and_a_tiny_slice_still_finish)
{
    /* A slice of 10 reductions: the loop is preempted ~100,000 times. */
    cli_result r = RUN("run", "--workers", "1", "--reductions", "10", cli_wat("spin_and_exit"));
    cr_expect_eq(r.status, 3, "stderr: %s", r.err);
    cli_result_free(&r);
    r = RUN("run", "--workers", "2", "examples/hello.wasm");
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect(strstr(r.out, "hello from lvm"));
    cli_result_free(&r);
}

Test(cli_options, memory_limit_stops_memory_grow)
{
    const char *grow = cli_wat("grow");
    cli_result r = RUN("run", grow);
    cr_expect_eq(r.status, 200, "no limit: grows to 200 pages; stderr: %s", r.err);
    cli_result_free(&r);
    r = RUN("run", "--max-memory", "5", grow);
    cr_expect_eq(r.status, 5, "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_options, memory_limit_below_the_minimum_refuses_to_start)
{
    /* hello.wasm needs 2 pages. */
    cli_result r = RUN("run", "--max-memory", "1", "examples/hello.wasm");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "limit"), "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_options, bad_values_are_usage_errors)
{
    const char *bad[][2] = { { "--workers", "0" }, { "--workers", "x" },
                             { "--reductions", "-5" }, { "--max-memory", "" } };
    for (int i = 0; i < 4; i++) {
        cli_result r = RUN("run", bad[i][0], bad[i][1], "examples/hello.wasm");
        cr_expect_eq(r.status, 2, "%s %s", bad[i][0], bad[i][1]);
        cli_result_free(&r);
    }
    cli_result r = RUN("run", "--workers");
    cr_expect_eq(r.status, 2);
    cli_result_free(&r);
}
