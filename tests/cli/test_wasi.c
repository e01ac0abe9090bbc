/*
 * test_wasi.c - the minimal WASI through `lvm run`: every implemented
 * function with good arguments, and with guest pointers that do not fit in
 * memory (EFAULT, never a crash, nothing written).  The guests are .wat
 * files next to this one; each exits with the number of the first check
 * that failed, so a failing status points at the line in the .wat.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cli_helpers.h"

TestSuite(cli_wasi, .init = cli_tmp_init, .fini = cli_tmp_fini, .timeout = 30);

#define RUN(...) cli_run_lvm((const char *const[]){ __VA_ARGS__, NULL })

Test(cli_wasi, implemented_functions_behave)
{
    cli_result r = RUN("run", cli_wat("wasi_calls"), "one", "two");
    cr_expect_eq(r.status, 0, "failed check %d (see wasi_calls.wat); stderr: %s", r.status, r.err);
    cr_expect_str_eq(r.out, "out\nab\n");
    cr_expect_str_eq(r.err, "err\n");
    cli_result_free(&r);
}

Test(cli_wasi, bad_pointers_are_efault)
{
    cli_result r = RUN("run", cli_wat("bad_pointers"));
    cr_expect_eq(r.status, 0, "failed check %d (see bad_pointers.wat); stderr: %s", r.status, r.err);
    cr_expect_str_eq(r.out, "", "a rejected fd_write wrote something");
    cli_result_free(&r);
}

Test(cli_wasi, module_without_memory_gets_efault)
{
    cli_result r = RUN("run", cli_wat("no_memory"));
    cr_expect_eq(r.status, 21, "stderr: %s", r.err);
    cli_result_free(&r);
}
