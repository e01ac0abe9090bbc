/*
 * test_usage.c - the command line's own behaviour, before any guest runs:
 * usage errors (exit 2), --help and --version, files that cannot be read
 * or decoded (exit 1, with the byte offset), and `lvm validate`.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cli_helpers.h"

TestSuite(cli_usage, .init = cli_tmp_init, .fini = cli_tmp_fini, .timeout = 30);

#define RUN(...) cli_run_lvm((const char *const[]){ __VA_ARGS__, NULL })

Test(cli_usage, no_arguments_prints_usage_and_exits_2)
{
    cli_result r = cli_run_lvm((const char *const[]){ NULL });
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "usage:"), "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_usage, help_goes_to_stdout_and_exits_0)
{
    cli_result r = RUN("--help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage: lvm run"), "stdout: %s", r.out);
    cli_result_free(&r);
}

Test(cli_usage, version_exits_0)
{
    cli_result r = RUN("--version");
    cr_expect_eq(r.status, 0);
    cr_expect(strncmp(r.out, "lvm ", 4) == 0, "stdout: %s", r.out);
    cli_result_free(&r);
}

Test(cli_usage, unknown_option_exits_2)
{
    cli_result r = RUN("--frobnicate");
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "unknown option --frobnicate"), "stderr: %s", r.err);
    cli_result_free(&r);
    r = RUN("run", "--frobnicate", "examples/hello.wasm");
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "unknown option --frobnicate"), "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_usage, run_without_file_exits_2)
{
    cli_result r = RUN("run");
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "missing FILE.wasm"), "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_usage, missing_file_exits_1_with_the_reason)
{
    cli_result r = RUN("run", "no/such/file.wasm");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "lvm: no/such/file.wasm: cannot read file: No such file or directory"),
              "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_usage, directory_exits_1)
{
    cli_result r = RUN("run", "tests");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "lvm: tests: cannot read file"), "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_usage, not_wasm_reports_magic_at_offset_0)
{
    const char *path = cli_write_file("text.wasm", "hello, world\n", 13);
    cli_result r = RUN("run", path);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "magic header not detected"), "stderr: %s", r.err);
    cr_expect(strstr(r.err, "(at byte offset 0x0)"), "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_usage, truncated_module_reports_the_offset)
{
    /* Header, then a type section (id 1) that claims 5 bytes but has 1:
     * the error is at or after offset 8, never "no offset". */
    static const unsigned char bytes[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1 };
    const char *path = cli_write_file("truncated.wasm", bytes, sizeof bytes);
    cli_result r = RUN("run", path);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "(at byte offset 0x"), "stderr: %s", r.err);
    cr_expect(strstr(r.err, "unexpected end") || strstr(r.err, "length out of bounds"),
              "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_usage, empty_file_exits_1)
{
    const char *path = cli_write_file("empty.wasm", "", 0);
    cli_result r = RUN("run", path);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "lvm: "), "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_usage, validate_accepts_hello)
{
    cli_result r = RUN("validate", "examples/hello.wasm");
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_str_eq(r.out, "examples/hello.wasm: valid\n");
    cli_result_free(&r);
}

Test(cli_usage, validate_rejects_a_malformed_module)
{
    const char *path = cli_write_file("bad_version.wasm", "\0asm\2\0\0\0", 8);
    cli_result r = RUN("validate", path);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "unknown binary version"), "stderr: %s", r.err);
    cr_expect(strstr(r.err, "(at byte offset 0x"), "stderr: %s", r.err);
    cr_expect_str_eq(r.out, "");
    cli_result_free(&r);
}
