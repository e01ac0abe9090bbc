/*
 * test_core.c - the lunatic 0.14 API end to end: guests of
 * tests/lunatic14/guests run by the real `lvm run`, their output compared
 * line by line with what the ABI note says they must see.
 */
#include "lunatic/run.h"

#include <sys/stat.h>

#define CORE "tests/lunatic14/guests/core.wasm"
#define RS "tests/lunatic14/guests/rs_l14.wasm"

static run_result *core(const char *scenario, const char *workers)
{
    return lun_run(CORE, workers, scenario, NULL);
}

Test(messages, order_selective_receive_request_timeouts)
{
    for (int w = 1; w <= 2; w++) {
        run_result *r = core("messages", w == 1 ? "1" : "2");
        EXPECT_RUN(r, 0,
                   "main pid 1\n"
                   "spawn 0 pid 2\n"
                   "receive 0 value 1001 tag 0\n"
                   "request 0 value 1001\n"
                   "older still queued 0 value 1\n"
                   "tag 2 first: 2\n"
                   "then tag 1 value 1\n"
                   "then tag 3 value 3\n"
                   "then tag 2 value 4\n"
                   "filter 0: 9027\n"
                   "timeout: 9027\n"
                   "untagged still there: 0 99\n"
                   "size 6 read 4 'cdef' then 0\n");
    }
}

Test(links, both_ways)
{
    run_result *r = core("links", "2");
    EXPECT_RUN(r, 134,
               "link died: 1 tag 55 exists 0\n"
               "normal end: 9027\n"
               "no such process: 1 tag 77\n"
               "after unlink: 9027\n");
    cr_expect(strstr(r->err, "lvm: trap in process 1: Process received Kill signal"), "%s", r->err);
}

Test(links, death_spreads_along_a_chain)
{
    run_result *r = core("chain", "2");
    EXPECT_RUN(r, 0, "chain: 2 pid 2\n");
}

Test(monitors, down_for_every_end)
{
    run_result *r = core("monitors", "2");
    EXPECT_RUN(r, 0,
               "down normal: 2 pid ok 1 tag 0\n"
               "down trap: 2\n"
               "down exit: 2\n"
               "down of nobody: 2 pid 999\n"
               "after stop_monitoring: 9027\n"
               "filtered: 9027, unfiltered: 2\n");
}

Test(kill, blocked_running_and_self)
{
    run_result *r = core("kills", "2");
    EXPECT_RUN(r, 134,
               "killed blocked: 2 exists 0\n"
               "killed running: 2\n"
               "kill self\n");
    cr_expect(strstr(r->err, "Process received Kill signal"), "%s", r->err);
}

Test(config, fuel_and_memory_limits)
{
    run_result *r = core("limits", "2");
    EXPECT_RUN(r, 0,
               "new config: fuel 0 memory 4294967295 spawn 0\n"
               "spawn with fuel 1: 0\n"
               "out of fuel: 2\n"
               "out of fuel, linked: 1 tag 9\n"
               "grow 1: ok\n"
               "grow 64: refused\n"
               "spawn over max_memory: 1\n"
               "error: memory limit exceeded: memory 0 needs 1 pages, the limit is 0\n");
}

Test(config, permissions_both_ways)
{
    run_result *r = core("permissions", "2");
    EXPECT_RUN(r, 0,
               "no spawn: 2\n"
               "child create_config: -1\n"
               "child compile_module: -1\n"
               "child create_config: 0\n"
               "child compile_module: 0\n"
               "child spawned\n"
               "inherited: 2\n"
               "compile bad: 1\n"
               "error: magic header not detected\n");
    cr_expect(strstr(r->err, "lunatic::process::spawn: Process doesn't have permissions to spawn "
                             "sub-processes"), "%s", r->err);
}

Test(registry, get_or_spawn_race_has_one_winner)
{
    for (int i = 0; i < 3; i++) {
        run_result *r = core("registry", "2");
        EXPECT_RUN(r, 0,
                   "race: spawned 1 found 19 other 0 same 1\n"
                   "get: 0 same 1\n"
                   "put/get: 0 pid 4242\n"
                   "after remove: 1\n");
    }
}

Test(timer, send_after_and_cancel)
{
    run_result *r = core("timers", "2");
    EXPECT_RUN(r, 0,
               "cancel pending: 1, again: 0, unknown: 0\n"
               "fired: 0 tag 5\n"
               "cancelled never comes: 9027\n"
               "cancel fired: 0\n"
               "zero delay: 0\n");
}

Test(trap, catch_returns_zero_and_goes_on)
{
    run_result *r = core("catch", "1");
    EXPECT_RUN(r, 0, "catch ok: 42\ncatch trap: 0\nnested: 100\nstill running\n");
}

Test(misc, version_distributed_sqlite_tls_missing_entry)
{
    run_result *r = core("misc", "2");
    EXPECT_RUN(r, 0,
               "version 0.13.2 node 0 module 0 nodes 0\n"
               "sqlite open: 1\n"
               "error: lvm: lunatic::sqlite::open is not supported (no SQLite/TLS in lvm)\n"
               "tls_connect: 1\n"
               "error: lvm: lunatic::networking::tls_connect is not supported (no SQLite/TLS in lvm)\n"
               "send to node 0: 0\n"
               "arrived: 0\n"
               "send to node 5: 2\n"
               "spawn on node 5: 1\n"
               "error: Node does not exist.\n"
               "spawn missing export: 0, then 1 tag 4\n");
}

Test(traps, bad_pointer_and_empty_scratch_name_the_function)
{
    run_result *r = core("errors", "1");
    cr_expect_eq(r->status, 134, "%s", r->err);
    cr_expect(strstr(r->err, "lvm: lunatic::message::receive: Trap raised during host call"), "%s",
              r->err);
    r = core("scratch", "1");
    cr_expect_eq(r->status, 134, "%s", r->err);
    cr_expect(strstr(r->err, "lunatic::message::send: Trap raised during host call: no message in "
                             "scratch area"), "%s", r->err);
}

Test(modules, compile_spawn_move_drop)
{
    run_result *r = core("modules", "2");
    EXPECT_RUN(r, 134,
               "compile: 0\n"
               "spawn from it: 0\n"
               "its end: 2\n"
               "pushed at 0\n"
               "child spawned from the moved module: 0, down 2\n");
    cr_expect(strstr(r->err, "lunatic::process::spawn: Trap raised during host call: Module 77 not "
                             "found"), "%s", r->err);
}

Test(config, getters_metrics_nodes_and_a_dropped_config)
{
    run_result *r = core("configs", "1");
    EXPECT_RUN(r, 134,
               "getters: compile 1 create 1 spawn 1 fuel 5 memory 1048576\n"
               "get_nodes: 0\n"
               "metrics accepted\n");
    cr_expect(strstr(r->err, "config_get_max_fuel: Trap raised during host call: Config 0 not "
                             "found"), "%s", r->err);
}

Test(exit, main_proc_exit_is_the_status)
{
    run_result *r = lun_run(CORE, "1", "exit", "7");
    cr_expect_eq(r->status, 7, "%s", r->err);
}

Test(rust, crate_style_spawn_request_links_memory_catch)
{
    const char *args[] = { "run", "--workers", "2", RS, NULL };
    run_result *r = lun_run_args(args);
    EXPECT_RUN(r, 0,
               "node 0 pid 1\n"
               "server got capture \"hello\"\n"
               "re: one\n"
               "re: two\n"
               "link died: 1 tag matches true\n"
               "hog died: 1\n"
               "spawn below the initial memory: memory limit exceeded: memory 0 needs 17 pages, "
               "the limit is 0\n"
               "catch ok: 40\n"
               "catch panic: 0\n"
               "done\n");
    cr_expect(strstr(r->err, "panicked at 'child panics: oops'"), "%s", r->err);
    cr_expect(strstr(r->err, "memory allocation of 4194304 bytes failed"), "%s", r->err);
}

/* A directory with sub/file.txt and other.txt, for the config tests. */
static const char *make_tree(void)
{
    static char dir[] = "/tmp/lvm-l14-XXXXXX";
    if (strcmp(dir + strlen(dir) - 6, "XXXXXX") == 0)
        cr_assert(mkdtemp(dir));
    char p[256];
    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/sub/file.txt", dir);
    FILE *f = fopen(p, "w");
    cr_assert(f);
    fclose(f);
    snprintf(p, sizeof p, "%s/other.txt", dir);
    f = fopen(p, "w");
    cr_assert(f);
    fclose(f);
    return dir;
}

Test(config, wasi_view_is_exactly_the_config)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s::.", make_tree());
    const char *args[] = { "run", "--dir", dir, "--env", "SECRET=1",
                           "tests/lunatic14/guests/config.wasm", NULL };
    run_result *r = lun_run_args(args);
    EXPECT_RUN(r, 0,
               "preopen sub: ok\n"
               "child env FOO=bar\n"
               "child sub/file.txt: yes\n"
               "child other.txt: no\n"
               "preopen .: ok\n"
               "child env FOO=bar\n"
               "child sub/file.txt: yes\n"
               "child other.txt: yes\n"
               "preopen /etc: 1\n"
               "error: cannot preopen '/etc': it is not a directory this process holds, nor below one\n"
               "preopen ../: 1\n"
               "error: cannot preopen '../': it leads outside the directory it is below\n"
               "preopen sub/../..: 1\n"
               "error: cannot preopen 'sub/../..': it leads outside the directory it is below\n"
               "preopen nope: 1\n"
               "error: cannot preopen 'nope': No such file or directory\n"
               "preopen other.txt: 1\n"
               "error: cannot preopen 'other.txt': Not a directory\n");
}

Test(config, args_exactly_the_config)
{
    const char *args[] = { "run", "tests/lunatic14/guests/config.wasm", "args", "x", NULL };
    run_result *r = lun_run_args(args);
    EXPECT_RUN(r, 0, "child argc 2: first second\n"
                     "child argc 3: tests/lunatic14/guests/config.wasm args x\n");
}

Test(networking, udp_tcp_peek_timeout_dns_grants)
{
    const char *args[] = { "run", "--allow-net=127.0.0.1:*", "--allow-listen=127.0.0.1:*",
                           "tests/lunatic14/guests/networking.wasm", NULL };
    run_result *r = lun_run_args(args);
    EXPECT_RUN(r, 0,
               "udp bind 0\n"
               "next 0 type 4 port>0 1\n"
               "send_to 0\n"
               "recv_from 0 n 4\n"
               "tcp bind 0\n"
               "connect 0\n"
               "accept 0\n"
               "peek 0 n 5\n"
               "read 0 n 5 'hello'\n"
               "read after the echo ended 0 n 0\n"
               "read timeout 9027\n"
               "resolve literal 0\n"
               "resolve name 1\n"
               "  error: Permission denied (os error 13)\n"
               "udp connect 0\n"
               "udp send 0\n"
               "udp receive 0 n 4\n"
               "udp peer 0, unconnected peer 1\n"
               "ttl 7 broadcast 1\n"
               "clone still sends 0\n"
               "clone shares the timeout 50, peer 0\n"
               "connect denied 1\n"
               "  error: Permission denied (os error 13)\n");
    cr_expect(strstr(r->err, "see --allow-dns"), "%s", r->err);
}

Test(abi, mixing_03_and_014_is_refused)
{
    const char *wat = "tests/lunatic14/guests/mixed.wasm";
    const char *args[] = { "run", wat, NULL };
    run_result *r = lun_run_args(args);
    cr_expect_eq(r->status, 1);
    cr_expect(strstr(r->err, "mixes the lunatic 0.3 and 0.14 ABIs"), "%s", r->err);
}

/* {====== the test mode (ABI 13) */

static const char *test_binary(void)
{
    static char path[400];
    if (path[0])
        return path;
    static char dir[] = "/tmp/lvm-l14tm-XXXXXX";
    cr_assert(mkdtemp(dir));
    char p[300];
    snprintf(p, sizeof p, "%s/target", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/target/wasm32-wasi", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/target/wasm32-wasi/debug", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/target/wasm32-wasi/debug/deps", dir);
    mkdir(p, 0755);
    snprintf(path, sizeof path, "%s/rs_tests-0123.wasm", p);
    FILE *in = fopen("tests/lunatic14/guests/rs_tests.wasm", "rb"), *out = fopen(path, "wb");
    cr_assert(in && out);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    setenv("CARGO_MANIFEST_DIR", dir, 1);
    return path;
}

static run_result *test_mode(const char *a1, const char *a2, const char *a3)
{
    const char *args[] = { "run", test_binary(), a1, a2, a3, NULL };
    return lun_run_args(args);
}

#define OK "\033[92mok\033[0m"
#define FAILED "\033[91mFAILED\033[0m"

Test(testmode, results_and_report)
{
    run_result *r = test_mode(NULL, NULL, NULL);
    cr_expect_eq(r->status, 1, "%s", r->err);
    cr_expect(strncmp(r->out, "\nrunning 10 tests\n", 18) == 0, "%s", r->out);
    cr_expect(strstr(r->out, "test mycrate::ignored ... \033[93mignored\033[0m\n"), "%s", r->out);
    cr_expect(strstr(r->out, "test mycrate::passes ... " OK "\n"), "%s", r->out);
    cr_expect(strstr(r->out, "test mycrate::fails ... " FAILED "\n"), "%s", r->out);
    cr_expect(strstr(r->out, "test mycrate::should_panic_any - should panic ... " OK "\n"));
    cr_expect(strstr(r->out, "test mycrate::should_panic_msg - should panic ... " OK "\n"));
    cr_expect(strstr(r->out, "test mycrate::should_panic_wrong - should panic ... " FAILED "\n"));
    cr_expect(strstr(r->out, "test mycrate::did_not_panic - should panic ... " FAILED "\n"));
    cr_expect(strstr(r->out, "test mycrate::traps ... " FAILED "\n"));
    cr_expect(strstr(r->out, "test mycrate::fresh_environment ... " OK "\n"), "%s", r->out);
    cr_expect(strstr(r->out, "\n---- mycrate::fails stdout ----\nsome output\nthread '<unnamed>' "
                             "panicked at 'boom 1'"), "%s", r->out);
    cr_expect(strstr(r->out, "note: panic did not contain expected string\n      panic message: "
                             "`\"other\"`,\n expected substring: `\"expected\"`\n"), "%s", r->out);
    cr_expect(strstr(r->out, "---- mycrate::did_not_panic stdout ----\nnote: test did not panic "
                             "as expected\n"), "%s", r->out);
    cr_expect(strstr(r->out, "---- mycrate::traps stdout ----\nnote: Process trapped or received "
                             "kill signal\n"), "%s", r->out);
    cr_expect(strstr(r->out, "\nfailures:\n    mycrate::fails\n"), "%s", r->out);
    cr_expect(strstr(r->out, "\ntest result: " FAILED ". 5 passed; 4 failed; 1 ignored; 0 measured; "
                             "0 filtered out; finished in "), "%s", r->out);
}

Test(testmode, filter_exact_ignored_list_format)
{
    run_result *r = test_mode("should_panic", NULL, NULL);
    cr_expect_eq(r->status, 1);
    cr_expect(strstr(r->out, "running 3 tests\n") && strstr(r->out, "7 filtered out"), "%s", r->out);
    r = test_mode("mycrate::passes", "--exact", NULL);
    cr_expect_eq(r->status, 0, "%s", r->out);
    cr_expect(strstr(r->out, "running 1 test\n") && strstr(r->out, "1 passed; 0 failed"), "%s", r->out);
    r = test_mode("--ignored", NULL, NULL);
    cr_expect_eq(r->status, 0);
    cr_expect(strstr(r->out, "test mycrate::ignored ... " OK), "%s", r->out);
    r = test_mode("--list", NULL, NULL);
    cr_expect_eq(r->status, 0);
    cr_expect(strstr(r->out, "mycrate::passes: test\n") && !strstr(r->out, "running"), "%s", r->out);
    r = test_mode("--list", "--format", "terse");
    cr_expect(strstr(r->out, "mycrate::traps: test\n"), "%s", r->out);
    r = test_mode("--format", "json", NULL);
    cr_expect_eq(r->status, 1);
    cr_expect(strstr(r->err, "Error: error: argument for --format must be terse (was json)"));
    r = test_mode("--test-threads", "1", "mycrate::passes");
    cr_expect_eq(r->status, 0, "%s", r->out);
}

Test(testmode, args_show_output_and_not_a_test_path)
{
    const char *args[] = { "run", test_binary(), "mycrate::args", "--exact", "x", "--show-output",
                           NULL };
    run_result *r = lun_run_args(args);
    cr_expect_eq(r->status, 0);
    cr_expect(strstr(r->out, "\nsuccesses:\n\n---- mycrate::args stdout ----\nargs [\"x\"]\n\n"
                             "successes:\n    mycrate::args\n"), "%s", r->out);
    /* Not under target/.../deps: an ordinary run of _start. */
    const char *plain[] = { "run", "tests/lunatic14/guests/rs_tests.wasm", NULL };
    r = lun_run_args(plain);
    cr_expect_eq(r->status, 0);
    cr_expect_str_eq(r->out, "");
}

/* }====== */

/* {====== the examples */

Test(examples, supervisor_registry_request_reply)
{
    const char *sup[] = { "run", "--workers", "2", "examples/supervisor.wasm", "2", NULL };
    run_result *r = lun_run_args(sup);
    EXPECT_RUN(r, 0,
               "worker 2 (process 2) starts\n"
               "worker 2 crashes\n"
               "supervisor: worker with link tag 101 died, restarting\n"
               "worker 1 (process 3) starts\n"
               "worker 1 crashes\n"
               "supervisor: worker with link tag 102 died, restarting\n"
               "worker 0 (process 4) starts\n"
               "worker 0 finishes its work\n"
               "supervisor: worker 4 ended normally after 2 restarts\n");
    const char *reg[] = { "run", "--workers", "2", "examples/registry_server.wasm", "8", NULL };
    r = lun_run_args(reg);
    EXPECT_RUN(r, 0, "8 clients, 1 started the server, total 240\n");
    const char *rr[] = { "run", "examples/request_reply.wasm", NULL };
    r = lun_run_args(rr);
    EXPECT_RUN(r, 0,
               "request 'hello': reply 'HELLO'\n"
               "request 'lunatic': reply 'LUNATIC'\n"
               "request 'anyone?': no reply within 200 ms (9027)\n");
}

/* }====== */

Test(abi, all_134_imports_link_with_their_exact_types)
{
    const char *args[] = { "run", "tests/lunatic14/guests/all_imports.wasm", NULL };
    run_result *r = lun_run_args(args);
    EXPECT_RUN(r, 0, "");
    cr_expect_str_eq(r->err, "");
}

Test(traps, spawn_from_a_start_function)
{
    const char *args[] = { "run", "tests/lunatic14/guests/start_spawn.wasm", NULL };
    run_result *r = lun_run_args(args);
    cr_expect_eq(r->status, 134);
    cr_expect(strstr(r->err, "lvm: lunatic::process::spawn: Cannot spawn process during module "
                             "initialization"), "%s", r->err);
}
