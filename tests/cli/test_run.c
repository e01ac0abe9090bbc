/*
 * test_run.c - `lvm run`: the guest's arguments, and every way a guest can
 * end (ABI decisions D1, D3, D4, D16): _start returns (0), proc_exit(N)
 * (N), a trap (134, reason and backtrace), or it cannot be linked or has
 * no _start (1).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cli_helpers.h"

TestSuite(cli_run, .init = cli_tmp_init, .fini = cli_tmp_fini, .timeout = 30);

#define RUN(...) cli_run_lvm((const char *const[]){ __VA_ARGS__, NULL })

Test(cli_run, hello_prints_its_arguments)
{
    cli_result r = RUN("run", "examples/hello.wasm", "a", "b c");
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_str_eq(r.out, "hello from lvm\nexamples/hello.wasm\na\nb c\n");
    cr_expect_str_eq(r.err, "");
    cli_result_free(&r);
}

Test(cli_run, short_form_without_run)
{
    cli_result r = RUN("examples/hello.wasm", "x");
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_str_eq(r.out, "hello from lvm\nexamples/hello.wasm\nx\n");
    cli_result_free(&r);
}

Test(cli_run, arguments_after_the_file_belong_to_the_guest)
{
    /* --help after FILE is the guest's, not lvm's. */
    cli_result r = RUN("run", "--", "examples/hello.wasm", "--help", "-x", "--");
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_str_eq(r.out, "hello from lvm\nexamples/hello.wasm\n--help\n-x\n--\n");
    cli_result_free(&r);
}

Test(cli_run, proc_exit_sets_the_exit_status)
{
    cli_result r = RUN("run", cli_wat("exit"));
    cr_expect_eq(r.status, 7, "stderr: %s", r.err);
    cr_expect_str_eq(r.err, "");
    cli_result_free(&r);
}

Test(cli_run, trap_exits_134_with_reason_and_backtrace)
{
    cli_result r = RUN("run", cli_wat("trap"));
    cr_expect_eq(r.status, 134);
    cr_expect(strstr(r.err, "lvm: trap in process 1: unreachable"), "stderr: %s", r.err);
    cr_expect(strstr(r.err, "inner_boom"), "no function name in the backtrace: %s", r.err);
    cr_expect(strstr(r.err, "middle"), "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_run, trap_in_the_start_function_exits_134)
{
    cli_result r = RUN("run", cli_wat("trap_in_start"));
    cr_expect_eq(r.status, 134);
    cr_expect(strstr(r.err, "lvm: trap in process 1: integer divide by zero"), "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_run, unknown_import_names_module_and_field)
{
    const char *path = cli_wat("unknown_import");
    cli_result r = RUN("run", path);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "unknown import"), "stderr: %s", r.err);
    cr_expect(strstr(r.err, "env"), "stderr: %s", r.err);
    cr_expect(strstr(r.err, "no_such_function"), "stderr: %s", r.err);
    cr_expect(!strstr(r.err, "WASI"), "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_run, unknown_wasi_function_says_so)
{
    cli_result r = RUN("run", cli_wat("wasi_not_preview1"));
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "wasi_snapshot_preview1.fd_bogus"), "stderr: %s", r.err);
    cr_expect(strstr(r.err, "not a function of WASI preview 1"), "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_run, every_preview1_function_links)
{
    cli_result r = RUN("run", cli_wat("wasi_all_imports"));
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_run, module_without_start_exits_1)
{
    cli_result r = RUN("run", cli_wat("no_start"));
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "_start"), "stderr: %s", r.err);
    cli_result_free(&r);
}
