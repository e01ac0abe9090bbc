/*
 * test_usage.c - the command line's own behaviour, before any guest runs:
 * usage errors (exit 2, each with its exact message, which names the
 * option and the bad value), --help and --version, an option whose value
 * the OS refuses at start (exit 1), files that cannot be read or decoded
 * (exit 1, with the byte offset), and `lvm validate`.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* A command line lvm must refuse, and the first line of its message (the
 * second is always the pointer to --help).  No file x.wasm exists: the
 * options are checked before any file is opened. */
typedef struct usage_case {
    const char *args[8];
    const char *message;
} usage_case;

static void check_usage_errors(const usage_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const usage_case *c = &cases[i];
        char want[1024], shown[256] = "";
        snprintf(want, sizeof want, "%s\n(try `lvm --help`)\n", c->message);
        for (int k = 0; c->args[k]; k++)
            snprintf(shown + strlen(shown), sizeof shown - strlen(shown), " '%s'", c->args[k]);
        cli_result r = cli_run_lvm(c->args);
        cr_expect_eq(r.status, 2, "lvm%s: status %d", shown, r.status);
        cr_expect_str_eq(r.err, want, "lvm%s", shown);
        cr_expect_str_eq(r.out, "", "lvm%s", shown);
        cli_result_free(&r);
    }
}

#define CHECK_USAGE_ERRORS(...)                                                    \
    do {                                                                           \
        const usage_case cases_[] = { __VA_ARGS__ };                               \
        check_usage_errors(cases_, sizeof cases_ / sizeof cases_[0]);              \
    } while (0)

#define WORKERS "lvm: --workers: expected a number from 1 to 1024, got "
#define REDUCTIONS "lvm: --reductions: expected a number from 1 to 2147483647, got "
#define MAX_MEMORY "lvm: --max-memory: expected a number from 1 to 65536, got "
#define MAX_PROCESSES "lvm: --max-processes: expected a number from 1 to 1073741824, got "
#define MAX_QUEUED "lvm: --max-queued: expected a number from 1 to 1099511627776, got "
#define MAX_TOTAL "lvm: --max-total-memory: expected a number from 65536 to 281474976710656, got "
#define MAX_FDS "lvm: --max-fds: expected a number from 1 to 1048576, got "
#define MAX_TOTAL_FDS "lvm: --max-total-fds: expected a number from 1 to 1073741824, got "

Test(cli_usage, bad_numbers_name_the_option_and_the_value)
{
    CHECK_USAGE_ERRORS(
        { { "run", "--workers", NULL }, WORKERS "nothing" },
        { { "run", "--workers", "x.wasm", NULL }, WORKERS "'x.wasm'" },
        { { "run", "--workers=", "x.wasm", NULL }, WORKERS "''" },
        { { "run", "--workers", "", "x.wasm", NULL }, WORKERS "''" },
        { { "run", "--workers", "0", "x.wasm", NULL }, WORKERS "'0'" },
        { { "run", "--workers=-1", "x.wasm", NULL }, WORKERS "'-1'" },
        { { "run", "--workers", "1025", "x.wasm", NULL }, WORKERS "'1025'" },
        { { "run", "--workers", "99999999999", "x.wasm", NULL }, WORKERS "'99999999999'" },
        { { "run", "--workers", "2x", "x.wasm", NULL }, WORKERS "'2x'" },
        { { "run", "--workers=2x", "x.wasm", NULL }, WORKERS "'2x'" },
        { { "run", "--workers", " 2", "x.wasm", NULL }, WORKERS "' 2'" },
        { { "run", "--workers", "+2", "x.wasm", NULL }, WORKERS "'+2'" },
        { { "run", "--workers", "0x10", "x.wasm", NULL }, WORKERS "'0x10'" },
        { { "--workers", "x.wasm", NULL }, WORKERS "'x.wasm'" },            /* short form */
        { { "run", "--reductions", NULL }, REDUCTIONS "nothing" },
        { { "run", "--reductions", "0", "x.wasm", NULL }, REDUCTIONS "'0'" },
        { { "run", "--reductions=-5", "x.wasm", NULL }, REDUCTIONS "'-5'" },
        { { "run", "--reductions", "2147483648", "x.wasm", NULL }, REDUCTIONS "'2147483648'" },
        { { "run", "--reductions", "99999999999999999999999", "x.wasm", NULL },
          REDUCTIONS "'99999999999999999999999'" },                     /* past a long too */
        { { "run", "--reductions", "1e3", "x.wasm", NULL }, REDUCTIONS "'1e3'" },
        { { "run", "--pack-after", "-1", "x.wasm", NULL },
          "lvm: --pack-after: expected a number from 0 to 86400000, got '-1'" },
        { { "run", "--pack-after=86400001", "x.wasm", NULL },
          "lvm: --pack-after: expected a number from 0 to 86400000, got '86400001'" },
        { { "run", "--max-memory", NULL }, MAX_MEMORY "nothing" },
        { { "run", "--max-memory=", "x.wasm", NULL }, MAX_MEMORY "''" },
        { { "run", "--max-memory", "0", "x.wasm", NULL }, MAX_MEMORY "'0'" },
        { { "run", "--max-memory", "65537", "x.wasm", NULL }, MAX_MEMORY "'65537'" },
        { { "run", "--max-memory", "4GiB", "x.wasm", NULL }, MAX_MEMORY "'4GiB'" },
        { { "run", "--max-processes", NULL }, MAX_PROCESSES "nothing" },
        { { "run", "--max-processes", "0", "x.wasm", NULL }, MAX_PROCESSES "'0'" },
        { { "run", "--max-processes=1073741825", "x.wasm", NULL }, MAX_PROCESSES "'1073741825'" },
        { { "run", "--max-queued", NULL }, MAX_QUEUED "nothing" },
        { { "run", "--max-queued", "0", "x.wasm", NULL }, MAX_QUEUED "'0'" },
        { { "run", "--max-queued", "64MiB", "x.wasm", NULL }, MAX_QUEUED "'64MiB'" },
        { { "run", "--max-total-memory", NULL }, MAX_TOTAL "nothing" },
        { { "run", "--max-total-memory", "65535", "x.wasm", NULL }, MAX_TOTAL "'65535'" },
        { { "run", "--max-total-memory", "1G", "x.wasm", NULL }, MAX_TOTAL "'1G'" },
        { { "run", "--max-total-memory=281474976710657", "x.wasm", NULL },
          MAX_TOTAL "'281474976710657'" },
        { { "run", "--max-fds", "0", "x.wasm", NULL }, MAX_FDS "'0'" },
        { { "run", "--max-fds=1048577", "x.wasm", NULL }, MAX_FDS "'1048577'" },
        { { "run", "--max-total-fds", NULL }, MAX_TOTAL_FDS "nothing" },
        { { "run", "--max-total-fds", "-3", "x.wasm", NULL }, MAX_TOTAL_FDS "'-3'" },
        /* The first bad option is the one reported. */
        { { "run", "--workers", "0", "--frobnicate", NULL }, WORKERS "'0'" });
}

Test(cli_usage, flags_refuse_a_value)
{
    CHECK_USAGE_ERRORS(
        { { "run", "--inherit-env=yes", "x.wasm", NULL },
          "lvm: --inherit-env: expected no value, got 'yes'" },
        { { "run", "--inherit-env=", "x.wasm", NULL },
          "lvm: --inherit-env: expected no value, got ''" },
        { { "--help=x", NULL }, "lvm: --help: expected no value, got 'x'" },
        { { "run", "-h=1", NULL }, "lvm: -h: expected no value, got '1'" },
        { { "--version=2", NULL }, "lvm: --version: expected no value, got '2'" },
        { { "validate", "-V=3", NULL }, "lvm: -V: expected no value, got '3'" });
}

Test(cli_usage, unknown_options_are_named)
{
    CHECK_USAGE_ERRORS(
        { { "--frobnicate", NULL }, "lvm: --frobnicate: unknown option" },
        { { "run", "--frobnicate", "x.wasm", NULL }, "lvm: --frobnicate: unknown option" },
        { { "run", "--frob=1", "x.wasm", NULL }, "lvm: --frob: unknown option" },
        { { "run", "-x", "x.wasm", NULL }, "lvm: -x: unknown option" },
        { { "run", "--Workers", "2", "x.wasm", NULL }, "lvm: --Workers: unknown option" },
        { { "run", "--work", "2", "x.wasm", NULL }, "lvm: --work: unknown option" },  /* no prefixes */
        { { "run", "---workers=2", "x.wasm", NULL }, "lvm: ---workers: unknown option" },
        { { "validate", "--frob", "x.wasm", NULL }, "lvm: --frob: unknown option" },
        { { "validate", "--workers", "2", "x.wasm", NULL },
          "lvm: --workers: not an option of validate" },
        { { "validate", "--dir=.", "x.wasm", NULL }, "lvm: --dir: not an option of validate" });
}

Test(cli_usage, bad_env_names_the_value)
{
    CHECK_USAGE_ERRORS(
        { { "run", "--env", NULL }, "lvm: --env: expected NAME=VALUE, got nothing" },
        { { "run", "--env", "NOEQUALS", "x.wasm", NULL },
          "lvm: --env: expected NAME=VALUE, got 'NOEQUALS'" },
        { { "run", "--env=", "x.wasm", NULL }, "lvm: --env: expected NAME=VALUE, got ''" },
        { { "run", "--env", "=x", "x.wasm", NULL },
          "lvm: --env: expected NAME=VALUE, got '=x': empty NAME" },
        { { "run", "--env==", "x.wasm", NULL },
          "lvm: --env: expected NAME=VALUE, got '=': empty NAME" });
}

Test(cli_usage, bad_dir_names_the_path_and_the_reason)
{
    CHECK_USAGE_ERRORS(
        { { "run", "--dir", NULL }, "lvm: --dir: expected HOST[::GUEST], got nothing" },
        { { "run", "--dir", "no/such/dir", "x.wasm", NULL },
          "lvm: --dir: expected a directory, got 'no/such/dir': No such file or directory" },
        { { "run", "--dir=no/such::/data", "x.wasm", NULL },
          "lvm: --dir: expected a directory, got 'no/such': No such file or directory" },
        { { "run", "--dir", "GNUmakefile", "x.wasm", NULL },
          "lvm: --dir: expected a directory, got 'GNUmakefile': Not a directory" },
        { { "run", "--dir", "tests::", "x.wasm", NULL },
          "lvm: --dir: expected HOST[::GUEST], got 'tests::': empty GUEST" },
        { { "run", "--dir", "::/data", "x.wasm", NULL },
          "lvm: --dir: expected HOST[::GUEST], got '::/data': empty HOST" },
        { { "run", "--dir=", "x.wasm", NULL },
          "lvm: --dir: expected HOST[::GUEST], got '': empty HOST" });
}

#define LISTEN "lvm: --tcplisten: expected ADDR:PORT, got "

Test(cli_usage, bad_tcplisten_names_the_bad_part)
{
    CHECK_USAGE_ERRORS(
        { { "run", "--tcplisten", NULL }, LISTEN "nothing" },
        { { "run", "--tcplisten", "127.0.0.1", "x.wasm", NULL }, LISTEN "'127.0.0.1': no :PORT" },
        { { "run", "--tcplisten=", "x.wasm", NULL }, LISTEN "'': no :PORT" },
        { { "run", "--tcplisten", ":80", "x.wasm", NULL }, LISTEN "':80': empty ADDR" },
        { { "run", "--tcplisten", "localhost:80", "x.wasm", NULL },
          LISTEN "'localhost:80': ADDR 'localhost' is not an IPv4 address or an [IPv6] address" },
        { { "run", "--tcplisten", "256.0.0.1:80", "x.wasm", NULL },
          LISTEN "'256.0.0.1:80': ADDR '256.0.0.1' is not an IPv4 address or an [IPv6] address" },
        { { "run", "--tcplisten", "::1:80", "x.wasm", NULL },   /* IPv6 needs brackets */
          LISTEN "'::1:80': ADDR '::1' is not an IPv4 address or an [IPv6] address" },
        { { "run", "--tcplisten", "[::1:80", "x.wasm", NULL },
          LISTEN "'[::1:80': ADDR '[::1' is not an IPv4 address or an [IPv6] address" },
        { { "run", "--tcplisten", "[nope]:80", "x.wasm", NULL },
          LISTEN "'[nope]:80': ADDR '[nope]' is not an IPv4 address or an [IPv6] address" },
        { { "run", "--tcplisten", "127.0.0.1:", "x.wasm", NULL },
          LISTEN "'127.0.0.1:': PORT '' is not a number from 0 to 65535" },
        { { "run", "--tcplisten", "127.0.0.1:65536", "x.wasm", NULL },
          LISTEN "'127.0.0.1:65536': PORT '65536' is not a number from 0 to 65535" },
        { { "run", "--tcplisten=127.0.0.1:http", "x.wasm", NULL },
          LISTEN "'127.0.0.1:http': PORT 'http' is not a number from 0 to 65535" },
        { { "run", "--tcplisten", "[::1]:-1", "x.wasm", NULL },
          LISTEN "'[::1]:-1': PORT '-1' is not a number from 0 to 65535" });
}

#define NET "lvm: --allow-net: expected HOST:PORTS or ADDR[/BITS]:PORTS, got "
#define BIND "lvm: --allow-listen: expected ADDR[/BITS]:PORTS, got "
#define PORTS "is not a port from 0 to 65535, LO-HI or *"

Test(cli_usage, bad_network_rules_name_the_bad_part)
{
    CHECK_USAGE_ERRORS(
        { { "run", "--allow-net=", "x.wasm", NULL }, NET "'': no :PORT" },
        { { "run", "--allow-net=127.0.0.1", "x.wasm", NULL }, NET "'127.0.0.1': no :PORT" },
        { { "run", "--allow-net=:80", "x.wasm", NULL }, NET "':80': empty ADDR" },
        { { "run", "--allow-net=127.0.0.1:70000", "x.wasm", NULL },
          NET "'127.0.0.1:70000': PORT '70000' " PORTS },
        { { "run", "--allow-net=127.0.0.1:9-1", "x.wasm", NULL },
          NET "'127.0.0.1:9-1': PORT '9-1' " PORTS },
        { { "run", "--allow-net=127.0.0.1:**", "x.wasm", NULL },
          NET "'127.0.0.1:**': PORT '**' " PORTS },
        { { "run", "--allow-net=10.0.0.0/33:1", "x.wasm", NULL },
          NET "'10.0.0.0/33:1': BITS '33' is more than an IPv4 address has (32)" },
        { { "run", "--allow-net=[::1]/129:1", "x.wasm", NULL },
          NET "'[::1]/129:1': BITS '129' is not a prefix length" },
        { { "run", "--allow-net=::1:80", "x.wasm", NULL },     /* IPv6 needs brackets */
          NET "'::1:80': ADDR '::1' is not an IPv4 address, an [IPv6] address, a host name or *" },
        { { "run", "--allow-net=exa mple.com:1", "x.wasm", NULL },
          NET "'exa mple.com:1': ADDR 'exa mple.com' is not an IPv4 address, an [IPv6] "
              "address, a host name or *" },
        { { "run", "--allow-net=*/0:1", "x.wasm", NULL }, NET "'*/0:1': * takes no /BITS" },
        { { "run", "--allow-net=256.0.0.1:1", "x.wasm", NULL },
          NET "'256.0.0.1:1': ADDR '256.0.0.1' is not an IPv4 address, an [IPv6] address, a "
              "host name or *" },
        { { "run", "--allow-listen", NULL }, BIND "nothing" },
        { { "run", "--allow-listen=", "x.wasm", NULL }, BIND "'': no :PORT" },
        { { "run", "--allow-listen", "localhost:80", "x.wasm", NULL },  /* a bind takes an address */
          BIND "'localhost:80': ADDR 'localhost' is not an IPv4 address, an [IPv6] address or *" },
        { { "run", "--allow-listen", "127.0.0.1:http", "x.wasm", NULL },
          BIND "'127.0.0.1:http': PORT 'http' " PORTS },
        { { "run", "--allow-listen=[::1:80", "x.wasm", NULL },
          BIND "'[::1:80': ADDR '[::1' is not an [IPv6] address" },
        { { "run", "--allow-dns=yes", "x.wasm", NULL }, "lvm: --allow-dns: expected no value, got 'yes'" },
        { { "validate", "--allow-net", "x.wasm", NULL }, "lvm: --allow-net: not an option of validate" },
        { { "validate", "--allow-dns", "x.wasm", NULL }, "lvm: --allow-dns: not an option of validate" });
}

Test(cli_usage, a_host_that_does_not_resolve_fails_to_start)
{
    /* The rule is good usage; the name not resolving is the world's
     * answer at start (exit 1), as a port in use is for --tcplisten. */
    cli_result r = RUN("run", "--allow-net=nonexistent.invalid:443", "examples/hello.wasm");
    cr_expect_eq(r.status, 1);
    cr_expect(strncmp(r.err, "lvm: --allow-net: cannot grant 'nonexistent.invalid:443': cannot "
                             "resolve 'nonexistent.invalid': ", 96) == 0, "stderr: %s", r.err);
    cr_expect_str_eq(r.out, "", "the program ran");
    cli_result_free(&r);
}

Test(cli_usage, missing_file_is_named)
{
    CHECK_USAGE_ERRORS(
        { { "run", NULL }, "lvm: run: missing FILE.wasm" },
        { { "run", "--workers", "2", NULL }, "lvm: run: missing FILE.wasm" },
        { { "--workers=2", NULL }, "lvm: run: missing FILE.wasm" },
        { { "run", "--", NULL }, "lvm: run: missing FILE.wasm" },
        { { "validate", NULL }, "lvm: validate: missing FILE.wasm" },
        { { "validate", "--", NULL }, "lvm: validate: missing FILE.wasm" });
}

Test(cli_usage, a_port_in_use_fails_to_start_naming_the_option)
{
    /* Not bad usage but the OS refusing: exit 1, before the program runs. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(s >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    cr_assert(bind(s, (struct sockaddr *)&a, sizeof a) == 0 && listen(s, 1) == 0 &&
              getsockname(s, (struct sockaddr *)&a, &len) == 0, "%s", strerror(errno));
    char addr[64], want[256];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(a.sin_port));
    snprintf(want, sizeof want, "lvm: --tcplisten: cannot listen on '%s': %s\n", addr,
             strerror(EADDRINUSE));
    cli_result r = RUN("run", "--tcplisten", addr, "examples/hello.wasm");
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, want);
    cr_expect_str_eq(r.out, "", "the program ran");
    cli_result_free(&r);
    close(s);
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
