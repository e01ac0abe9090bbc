/*
 * test_options.c - `lvm run` options: the scheduler's worker count, the
 * reduction budget per slice, the per-process memory limit, and what the
 * WASI options give the program.  Every option is run in each of its
 * forms (`--opt VALUE`, `--opt=VALUE`, and the short form `lvm --opt=VALUE
 * FILE.wasm` without `run`), and each run must show the option's effect,
 * not only a zero exit status.  The usage errors are in test_usage.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli_helpers.h"

TestSuite(cli_options, .init = cli_tmp_init, .fini = cli_tmp_fini, .timeout = 30);

#define RUN(...) cli_run_lvm((const char *const[]){ __VA_ARGS__, NULL })

/* One option with one value, and what the program then does. */
typedef struct option_case {
    const char *option, *value;
    const char *guest;          /* a .wat in tests/cli, or NULL: examples/hello.wasm */
    int status;                 /* the exit status it must give */
    const char *out;            /* a line its stdout must contain */
} option_case;

/* Run c in its three forms. */
static void check_option(const option_case *c)
{
    /* A copy: cli_tmp_path's slots are reused by every run. */
    char guest[1024];
    snprintf(guest, sizeof guest, "%s", c->guest ? cli_wat(c->guest) : "examples/hello.wasm");
    char joined[4096];
    snprintf(joined, sizeof joined, "%s=%s", c->option, c->value);
    const char *forms[3][5] = {
        { "run", c->option, c->value, guest, NULL },
        { "run", joined, guest, NULL },
        { joined, guest, NULL },
    };
    for (int f = 0; f < 3; f++) {
        cli_result r = cli_run_lvm(forms[f]);
        cr_expect_eq(r.status, c->status, "%s %s %s: status %d; stderr: %s", forms[f][0],
                     forms[f][1], forms[f][2], r.status, r.err);
        cr_expect(strstr(r.out, c->out), "%s %s %s: stdout lacks '%s': %s", forms[f][0],
                  forms[f][1], forms[f][2], c->out, r.out);
        cli_result_free(&r);
    }
}

Test(cli_options, scheduler_options_in_every_form)
{
    const option_case cases[] = {
        { "--workers", "1", NULL, 0, "hello from lvm\n" },
        { "--workers", "3", NULL, 0, "hello from lvm\n" },
        /* A slice of 10 reductions: the loop is preempted ~100,000 times. */
        { "--reductions", "10", "spin_and_exit", 3, "" },
        { "--reductions", "2147483647", "spin_and_exit", 3, "" },   /* the largest */
        /* Packing never, and after 1 ms (nothing parks here: accepted). */
        { "--pack-after", "0", "spin_and_exit", 3, "" },
        { "--pack-after", "1", "spin_and_exit", 3, "" },
        /* grow.wasm exits with the number of pages it could reach. */
        { "--max-memory", "5", "grow", 5, "" },
        { "--max-memory", "1", "grow", 1, "" },
        { "--max-memory", "65536", "grow", 200, "" },               /* its own goal, 200 */
        /* Twelve tables of 2^24 entries: every grow fails under one page. */
        { "--max-memory", "1", "huge_tables", 12, "" },
        /* 1,000,000 bytes for all processes: 15 pages and a bit, grown
         * onto the first, which counts only what the guest wrote of it. */
        { "--max-total-memory", "1000000", "grow", 16, "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_option(&cases[i]);
}

Test(cli_options, wasi_options_in_every_form)
{
    char dir[1024], as_data[1100];
    snprintf(dir, sizeof dir, "%s", cli_tmp_dir("shared"));
    snprintf(as_data, sizeof as_data, "%s::/data", dir);
    char dir_line[1100];
    snprintf(dir_line, sizeof dir_line, "dir 3 %s\n", dir);
    const option_case cases[] = {
        { "--dir", dir, "show_sandbox", 0, dir_line },
        { "--dir", as_data, "show_sandbox", 0, "dir 3 /data\n" },
        { "--env", "A=1", "show_sandbox", 0, "env A=1\n" },
        { "--env", "B=two=2", "show_sandbox", 0, "env B=two=2\n" },    /* the first '=' splits */
        { "--env", "EMPTY=", "show_sandbox", 0, "env EMPTY=\n" },
        /* Port 0: any free one. */
        { "--tcplisten", "127.0.0.1:0", "show_sandbox", 0, "socket 3\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_option(&cases[i]);
}

/* Can this machine listen on IPv6 loopback?  (Some containers have no
 * IPv6; there lvm would rightly fail to listen, exit 1.) */
static bool have_ipv6_loopback(void)
{
    int s = socket(AF_INET6, SOCK_STREAM, 0);
    if (s < 0)
        return false;
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    bool ok = bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

Test(cli_options, tcplisten_takes_a_bracketed_ipv6_address)
{
    if (have_ipv6_loopback()) {
        check_option(&(option_case){ "--tcplisten", "[::1]:0", "show_sandbox", 0, "socket 3\n" });
        return;
    }
    /* Without IPv6 the address still parses (no usage error, 2): it is
     * the OS that refuses it. */
    static const char want[] = "lvm: --tcplisten: cannot listen on '[::1]:0': ";
    cli_result r = RUN("run", "--tcplisten=[::1]:0", "examples/hello.wasm");
    cr_expect_eq(r.status, 1, "stderr: %s", r.err);
    cr_expect(strncmp(r.err, want, sizeof want - 1) == 0, "stderr: %s", r.err);
    cli_result_free(&r);
}

Test(cli_options, inherit_env_is_a_flag)
{
    /* The test's own environment, which lvm inherits from it. */
    cr_assert(setenv("LVM_CLI_TEST_VAR", "inherited", 1) == 0);
    char guest[1024];
    snprintf(guest, sizeof guest, "%s", cli_wat("show_sandbox"));
    cli_result r = RUN("run", guest);
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_not(strstr(r.out, "LVM_CLI_TEST_VAR"), "without --inherit-env: %s", r.out);
    cli_result_free(&r);
    const char *forms[2][4] = { { "run", "--inherit-env", guest, NULL },
                                { "--inherit-env", guest, NULL } };
    for (int f = 0; f < 2; f++) {
        r = cli_run_lvm(forms[f]);
        cr_expect_eq(r.status, 0, "stderr: %s", r.err);
        cr_expect(strstr(r.out, "env LVM_CLI_TEST_VAR=inherited\n"), "stdout: %s", r.out);
        cli_result_free(&r);
    }
    /* --env overrides an inherited variable, whatever the order. */
    r = RUN("run", "--env=LVM_CLI_TEST_VAR=mine", "--inherit-env", guest);
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect(strstr(r.out, "env LVM_CLI_TEST_VAR=mine\n"), "stdout: %s", r.out);
    cr_expect_not(strstr(r.out, "inherited"), "stdout: %s", r.out);
    cli_result_free(&r);
}

Test(cli_options, forms_mix_and_keep_their_order)
{
    char a[1024], b[1100];
    snprintf(a, sizeof a, "%s", cli_tmp_dir("a"));
    snprintf(b, sizeof b, "--dir=%s::/b", cli_tmp_dir("b"));
    cli_result r = RUN("run", "--workers=2", "--env", "X=1", "--dir", a, "--tcplisten=127.0.0.1:0",
                       "--env=Y=2", "--env", "X=3", b, "--reductions", "50", "--max-memory=16",
                       "--", cli_wat("show_sandbox"));
    /* The later X replaces the earlier one in its place; the sockets come
     * after every directory. */
    char want[4096];
    snprintf(want, sizeof want, "env X=3\nenv Y=2\ndir 3 %s\ndir 4 /b\nsocket 5\n", a);
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_str_eq(r.out, want);
    cli_result_free(&r);
}

Test(cli_options, options_after_the_file_are_the_programs)
{
    cli_result r = RUN("run", "--workers", "1", "examples/hello.wasm", "--workers=x", "--frob",
                       "--dir", "no/such");
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_str_eq(r.out, "hello from lvm\nexamples/hello.wasm\n--workers=x\n--frob\n--dir\nno/such\n");
    cli_result_free(&r);
    r = RUN("--env=A=1", "examples/hello.wasm", "--env");
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_str_eq(r.out, "hello from lvm\nexamples/hello.wasm\n--env\n");
    cli_result_free(&r);
}

Test(cli_options, help_and_version_in_every_command)
{
    const char *helps[][3] = { { "--help", NULL }, { "-h", NULL }, { "run", "--help", NULL },
                               { "run", "-h", NULL }, { "validate", "--help", NULL }, { "help", NULL } };
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        cli_result r = cli_run_lvm(helps[i]);
        cr_expect_eq(r.status, 0, "%s %s", helps[i][0], helps[i][1]);
        cr_expect(strncmp(r.out, "usage: lvm run", 14) == 0, "stdout: %s", r.out);
        cr_expect_str_eq(r.err, "");
        cli_result_free(&r);
    }
    const char *versions[][3] = { { "--version", NULL }, { "-V", NULL }, { "run", "--version", NULL },
                                  { "validate", "-V", NULL } };
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        cli_result r = cli_run_lvm(versions[i]);
        cr_expect_eq(r.status, 0, "%s %s", versions[i][0], versions[i][1]);
        cr_expect(strncmp(r.out, "lvm ", 4) == 0 && strchr(r.out, '.'), "stdout: %s", r.out);
        cli_result_free(&r);
    }
    /* --help stops at once: later options are not looked at. */
    cli_result r = RUN("run", "--workers=2", "--help", "--workers=x");
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cli_result_free(&r);
}

/* The network grants in every form, each shown by what the lunatic
 * guest tests/lunatic/guests/caps.wasm can then do: `caps net 1` prints
 * the io codes of tcp_bind 127.0.0.1:0, tcp_connect 127.0.0.1:1 (3,
 * refused, when granted: nothing listens on port 1; 2 when not) and
 * resolve; then the same from a child.  The grants themselves are
 * tested in tests/lunatic/test_caps.c. */
Test(cli_options, network_grants_in_every_form)
{
    static const char caps[] = "tests/lunatic/guests/caps.wasm";
    static const struct { const char *args[6]; const char *line; } cases[] = {
        { { "run", "--allow-listen", "127.0.0.1:0", caps }, "main: bind 0 connect 2 mapped 2 resolve 2\n" },
        { { "run", "--allow-listen=127.0.0.1:0", caps }, "main: bind 0 connect 2 mapped 2 resolve 2\n" },
        { { "--allow-listen=127.0.0.1:0", caps }, "main: bind 0 connect 2 mapped 2 resolve 2\n" },
        { { "run", "--allow-net=127.0.0.1:1", caps }, "main: bind 2 connect 3 mapped 3 resolve 2\n" },
        { { "--allow-net=127.0.0.1:1", caps }, "main: bind 2 connect 3 mapped 3 resolve 2\n" },
        /* bare: the next word is FILE.wasm, never a value */
        { { "run", "--allow-net", caps }, "main: bind 2 connect 3 mapped 3 resolve 0\n" },
        { { "--allow-net", caps }, "main: bind 2 connect 3 mapped 3 resolve 0\n" },
        { { "run", "--allow-dns", caps }, "main: bind 2 connect 2 mapped 2 resolve 0\n" },
        { { "--allow-dns", caps }, "main: bind 2 connect 2 mapped 2 resolve 0\n" },
        /* repeatable: each rule adds */
        { { "run", "--allow-net=127.0.0.1:2", "--allow-net=127.0.0.1:1", caps },
          "main: bind 2 connect 3 mapped 3 resolve 2\n" },
        { { "run", caps }, "main: bind 2 connect 2 mapped 2 resolve 2\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[10];
        int n = 0;
        for (; cases[i].args[n]; n++)
            argv[n] = cases[i].args[n];
        argv[n++] = "net";
        argv[n++] = "1";
        argv[n] = NULL;
        cli_result r = cli_run_lvm(argv);
        cr_expect_eq(r.status, 0, "case %zu: status %d; stderr: %s", i, r.status, r.err);
        cr_expect(strncmp(r.out, cases[i].line, strlen(cases[i].line)) == 0,
                  "case %zu: stdout: %s", i, r.out);
        cli_result_free(&r);
    }
}

Test(cli_options, help_lists_every_option_in_its_equals_form)
{
    cli_result r = RUN("--help");
    cr_expect_eq(r.status, 0);
    const char *forms[] = { "--workers=N", "--reductions=N", "--max-memory=P",
                            "--dir=HOST[::GUEST]", "--env=NAME=VALUE", "--inherit-env",
                            "--tcplisten=ADDR:PORT", "--allow-net[=RULE]",
                            "--allow-listen=ADDR:PORTS", "--allow-dns", "-h, --help", "-V, --version",
                            "(N from 1 to 1024)", "(P from 1 to 65536)",
                            "--max-total-memory=BYTES", "(BYTES from 65536 to 281474976710656)",
                            "--max-fds=N", "--max-total-fds=N" };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        cr_expect(strstr(r.out, forms[i]), "no '%s' in:\n%s", forms[i], r.out);
    cli_result_free(&r);
}

Test(cli_options, memory_limit_below_the_minimum_refuses_to_start)
{
    /* hello.wasm needs 2 pages: the message names the option, not "out
     * of host memory". */
    cli_result r = RUN("run", "--max-memory", "1", "examples/hello.wasm");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "lvm: examples/hello.wasm: memory limit exceeded: memory 0 needs 2 "
                            "pages, the limit is 1 (set by --max-memory 1)\n"),
              "stderr: %s", r.err);
    cr_expect_not(strstr(r.err, "out of host memory"), "stderr: %s", r.err);
    cli_result_free(&r);
}

/* A table too big for --max-memory, and a memory with no room left in
 * --max-total-memory: refused at instantiation with the option named,
 * never "out of host memory"; a program whose initial memory is bigger
 * than --max-total-memory but that touches less of it runs (untouched
 * pages are not counted); a memory.grow the total refused is named as the
 * program fails. */
Test(cli_options, table_and_total_limits_name_their_option)
{
    char guest[1024];
    snprintf(guest, sizeof guest, "%s", cli_wat("big_table"));
    cli_result r = RUN("run", "--max-memory", "1", guest);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, ": memory limit exceeded: table 0 needs 800000 bytes (100000 "
                            "entries): with the memory and the other tables, over the limit of "
                            "1 pages (set by --max-memory 1)\n"), "stderr: %s", r.err);
    cr_expect_not(strstr(r.err, "out of host memory"), "stderr: %s", r.err);
    cli_result_free(&r);
    r = RUN("run", "--max-memory", "14", guest);
    cr_expect_eq(r.status, 0, "800,000 bytes less the free 65,536 fit in 13 pages: %s", r.err);
    cli_result_free(&r);

    /* hello's table holds 40 bytes, so not even its first page fits. */
    r = RUN("run", "--max-total-memory", "65536", "examples/hello.wasm");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "lvm: examples/hello.wasm: total memory limit exceeded: memory 0 "
                            "needs 65536 bytes, all processes hold 40 of 65536 (set by "
                            "--max-total-memory)\n"), "stderr: %s", r.err);
    cr_expect_not(strstr(r.err, "out of host memory"), "stderr: %s", r.err);
    cli_result_free(&r);
    /* Two pages of total: its two initial pages, a few KiB written, fit. */
    r = RUN("run", "--max-total-memory", "131072", "examples/hello.wasm");
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cli_result_free(&r);

    snprintf(guest, sizeof guest, "%s", cli_wat("grow_refused"));
    r = RUN("run", "--max-total-memory", "1000000", guest);
    cr_expect_eq(r.status, 134, "stderr: %s", r.err);
    cr_expect(strstr(r.err, "lvm: process 1: memory.grow to 21 pages failed: all processes "
                            "together would pass --max-total-memory 1000000\n"),
              "stderr: %s", r.err);
    cli_result_free(&r);
}

/* How many times `needle` occurs in `hay`. */
static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* A memory.grow refused by --max-memory gives the guest -1 only; when the
 * program then fails (a trap, a non-zero exit) lvm says, once, which
 * option refused it.  Never for a program that copes and exits 0, nor for
 * a failure at the module's own maximum. */
Test(cli_options, refused_memory_grow_is_named_when_the_program_fails)
{
    char guest[1024];       /* cli_wat's buffer is reused by the runs */
    snprintf(guest, sizeof guest, "%s", cli_wat("grow_refused"));
    static const char hint[] =
        "lvm: process 1: memory.grow to 21 pages failed: over the limit set by --max-memory 10\n";
    cli_result r = RUN("run", "--max-memory", "10", guest);
    cr_expect_eq(r.status, 134, "stderr: %s", r.err);
    cr_expect(strstr(r.err, "lvm: trap in process 1: unreachable"), "stderr: %s", r.err);
    cr_expect_eq(count_of(r.err, hint), 1, "stderr: %s", r.err);
    cr_expect_eq(count_of(r.err, "memory.grow"), 1, "stderr: %s", r.err);
    cli_result_free(&r);

    r = RUN("run", "--max-memory", "10", guest, "a", "b");
    cr_expect_eq(r.status, 3, "stderr: %s", r.err);
    cr_expect_eq(count_of(r.err, hint), 1, "stderr: %s", r.err);
    cli_result_free(&r);

    r = RUN("run", "--max-memory", "10", guest, "cope");
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_str_empty(r.err, "a program that copes exits 0 quietly");
    cli_result_free(&r);

    /* Its own maximum refuses the second grow: a trap, and no hint. */
    const char *no_hint[][2] = { { "--max-memory", "30" }, { "--workers", "1" } };
    for (int i = 0; i < 2; i++) {
        r = RUN("run", no_hint[i][0], no_hint[i][1], guest);
        cr_expect_eq(r.status, 134, "%s %s: stderr: %s", no_hint[i][0], no_hint[i][1], r.err);
        cr_expect_not(strstr(r.err, "memory.grow"), "%s %s: stderr: %s", no_hint[i][0],
                      no_hint[i][1], r.err);
        cli_result_free(&r);
    }
}
