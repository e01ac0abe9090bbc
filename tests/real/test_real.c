/*
 * test_real.c - real third-party programs (SQLite, Lua, zstd) under
 * `lvm run` against their native builds: the same workload must give
 * byte-identical stdout and stderr and the same exit status.  Each has a
 * workload that exercises it and a failing path (mk/real.mk builds them).
 *
 * The programs are found in $REAL_DIR/native/ and $REAL_DIR/wasm/, the
 * workloads (test.sql, test.lua, ...) in $REAL_WORK; both are run with
 * $REAL_WORK as the working directory, the wasm side with `--dir .`, and
 * both see the same argv[0] (the .wasm path), since Lua names itself by
 * it in error messages.
 *
 * Every comparison also checks the native run's exit status, so a broken
 * workload cannot pass by failing the same way twice.
 */
#include "lvm_bin.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    int status;     /* exit status, or 128 + signal */
    char *out, *err;
    size_t out_len;
} run_result;

static char scratch[512];

static const char *env_or_die(const char *name)
{
    const char *v = getenv(name);
    cr_assert(v && *v, "%s is not set: run this through `make test-real`", name);
    return v;
}

/* An absolute path: the children run in REAL_WORK. */
static const char *absolute(const char *path)
{
    static char slots[8][PATH_MAX];
    static unsigned next;
    char *p = slots[next++ % 8];
    cr_assert_not_null(realpath(path, p), "%s: %s (build it with `make real`)", path, strerror(errno));
    return p;
}

static const char *real_path(const char *side, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s/%s", env_or_die("REAL_DIR"), side, name);
    return absolute(path);
}

static const char *scratch_path(const char *name)
{
    static char slots[8][PATH_MAX];
    static unsigned next;
    char *p = slots[next++ % 8];
    snprintf(p, PATH_MAX, "%s/%s", scratch, name);
    return p;
}

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/lvm-real-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(scratch), "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
    const char *names[] = { "stdout", "stderr", "input", "packed", "corrupt", "cut", NULL };
    for (int i = 0; names[i]; i++)
        unlink(scratch_path(names[i]));
    rmdir(scratch);
}

static size_t file_len(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* Run exe with argv in REAL_WORK, stdin from in_path (NULL: /dev/null). */
static run_result run(const char *exe, const char *const argv[], const char *in_path)
{
    const char *out_path = scratch_path("stdout"), *err_path = scratch_path("stderr");
    const char *work = absolute(env_or_die("REAL_WORK"));
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0 || chdir(work) != 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execv(exe, (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    int ws;
    cr_assert(waitpid(pid, &ws, 0) == pid, "waitpid: %s", strerror(errno));
    run_result r;
    r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    r.out = test_slurp(out_path);
    r.out_len = file_len(out_path);
    r.err = test_slurp(err_path);
    return r;
}

/* `lvm run --dir . PROGRAM.wasm ARGS...` in REAL_WORK. */
static run_result run_lvm(const char *name, const char *const args[], const char *in_path)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = test_lvm_path();
    argv[n++] = "run";
    argv[n++] = "--dir";
    argv[n++] = ".";
    argv[n++] = real_path("wasm", name);
    for (int i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char lvm[PATH_MAX];
    snprintf(lvm, sizeof lvm, "%s", absolute(argv[0]));
    argv[0] = lvm;
    return run(lvm, argv, in_path);
}

/* The native build, with argv[0] the .wasm path the lvm run shows. */
static run_result run_native(const char *name, const char *wasm_name, const char *const args[], const char *in_path)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = real_path("wasm", wasm_name);
    for (int i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return run(real_path("native", name), argv, in_path);
}

static void release(run_result *r)
{
    free(r->out);
    free(r->err);
}

/* Both runs, compared; the native one must exit with want_status. */
static void compare(const char *name, const char *const args[], const char *in_path, int want_status)
{
    char wasm_name[64];
    snprintf(wasm_name, sizeof wasm_name, "%s.wasm", name);
    run_result native = run_native(name, wasm_name, args, in_path);
    run_result lvm = run_lvm(wasm_name, args, in_path);
    cr_assert_eq(native.status, want_status, "native %s exited %d, expected %d; stderr:\n%s", name,
                 native.status, want_status, native.err);
    cr_expect_eq(lvm.status, native.status, "%s: lvm exited %d, native %d; lvm's stderr:\n%s", name,
                 lvm.status, native.status, lvm.err);
    cr_expect(lvm.out_len == native.out_len && memcmp(lvm.out, native.out, native.out_len) == 0,
              "%s: stdout differs (lvm %zu bytes, native %zu)\n--- lvm:\n%.2000s\n--- native:\n%.2000s", name,
              lvm.out_len, native.out_len, lvm.out, native.out);
    cr_expect_str_eq(lvm.err, native.err, "%s: stderr differs", name);
    release(&native);
    release(&lvm);
}

static const char *work_file(const char *name)
{
    static char slots[4][PATH_MAX];
    static unsigned next;
    char *p = slots[next++ % 4];
    snprintf(p, PATH_MAX, "%s/%s", env_or_die("REAL_WORK"), name);
    return absolute(p);
}

/* Runs the native build and returns its stdout (for checks on content). */
static run_result native_only(const char *name, const char *const args[], const char *in_path)
{
    char wasm_name[64];
    snprintf(wasm_name, sizeof wasm_name, "%s.wasm", name);
    return run_native(name, wasm_name, args, in_path);
}

TestSuite(real, .init = setup, .fini = teardown, .timeout = 120);

/* {====== SQLite */

Test(real, sqlite_workload)
{
    compare("sqlite_run", (const char *const[]){ NULL }, work_file("test.sql"), 0);
    run_result r = native_only("sqlite_run", (const char *const[]){ NULL }, work_file("test.sql"));
    cr_expect_not_null(strstr(r.out, "2000|"), "the workload's count is missing:\n%s", r.out);
    release(&r);
}

Test(real, sqlite_syntax_error)
{
    compare("sqlite_run", (const char *const[]){ NULL }, work_file("bad.sql"), 1);
    run_result r = native_only("sqlite_run", (const char *const[]){ NULL }, work_file("bad.sql"));
    cr_expect_str_eq(r.err, "error at line 6: near \"SELEC\": syntax error\n");
    cr_expect_null(strstr(r.out, "not reached"));
    release(&r);
}

Test(real, sqlite_constraint_error)
{
    compare("sqlite_run", (const char *const[]){ NULL }, work_file("constraint.sql"), 1);
    run_result r = native_only("sqlite_run", (const char *const[]){ NULL }, work_file("constraint.sql"));
    cr_expect_not_null(strstr(r.err, "UNIQUE constraint failed: t.k"), "%s", r.err);
    release(&r);
}

/* }======
 * {====== Lua */

Test(real, lua_script)
{
    compare("lua", (const char *const[]){ "test.lua", NULL }, NULL, 0);
    run_result r = native_only("lua", (const char *const[]){ "test.lua", NULL }, NULL);
    cr_expect_not_null(strstr(r.out, "goto\t3"), "the script did not run to its end:\n%s", r.out);
    release(&r);
}

Test(real, lua_runtime_error)
{
    compare("lua", (const char *const[]){ "bad.lua", NULL }, NULL, 1);
    run_result r = native_only("lua", (const char *const[]){ "bad.lua", NULL }, NULL);
    cr_expect_str_eq(r.out, "before\t1.5\n");
    cr_expect_not_null(strstr(r.err, "bad.lua:5: attempt to index a nil value"), "%s", r.err);
    release(&r);
}

Test(real, lua_syntax_error_in_chunk)
{
    compare("lua", (const char *const[]){ "-e", "x = = 1", NULL }, NULL, 1);
}

/* }======
 * {====== zstd */

Test(real, zstd_roundtrip)
{
    const char *const args[] = { "roundtrip", "1500000", "1", "3", "9", "-3", NULL };
    compare("zstd_run", args, NULL, 0);
    run_result r = native_only("zstd_run", args, NULL);
    cr_expect_not_null(strstr(r.out, "level 9:"), "%s", r.out);
    cr_expect_null(strstr(r.out, "DIFFERS"));
    release(&r);
}

/* Write the native run's stdout to a scratch file. */
static void save_native(const char *file, const char *const args[], const char *in_path)
{
    run_result r = native_only("zstd_run", args, in_path);
    cr_assert_eq(r.status, 0, "%s", r.err);
    FILE *f = fopen(scratch_path(file), "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(r.out, 1, r.out_len, f), r.out_len);
    fclose(f);
    release(&r);
}

Test(real, zstd_streams)
{
    save_native("input", (const char *const[]){ "generate", "700000", NULL }, NULL);
    /* The same compressed bytes from both builds... */
    compare("zstd_run", (const char *const[]){ "compress", "5", NULL }, scratch_path("input"), 0);
    save_native("packed", (const char *const[]){ "compress", "5", NULL }, scratch_path("input"));
    cr_expect_lt(file_len(scratch_path("packed")), file_len(scratch_path("input")));
    /* ...and lvm's decompression gives back the input. */
    compare("zstd_run", (const char *const[]){ "decompress", NULL }, scratch_path("packed"), 0);
    run_result r = run_lvm("zstd_run.wasm", (const char *const[]){ "decompress", NULL }, scratch_path("packed"));
    char *input = test_slurp(scratch_path("input"));
    cr_expect(r.out_len == 700000 && memcmp(r.out, input, 700000) == 0, "lvm's decompression differs");
    free(input);
    release(&r);
}

/* Flip bytes in the middle of a valid frame: a checksum or format error. */
Test(real, zstd_corrupt_input)
{
    save_native("input", (const char *const[]){ "generate", "200000", NULL }, NULL);
    save_native("packed", (const char *const[]){ "compress", "3", NULL }, scratch_path("input"));
    char *packed = test_slurp(scratch_path("packed"));
    size_t n = file_len(scratch_path("packed"));
    for (size_t i = n / 2; i < n / 2 + 16; i++)
        packed[i] ^= 0x5a;
    FILE *f = fopen(scratch_path("corrupt"), "wb");
    cr_assert_not_null(f);
    fwrite(packed, 1, n, f);
    fclose(f);
    free(packed);
    compare("zstd_run", (const char *const[]){ "decompress", NULL }, scratch_path("corrupt"), 1);
    run_result r = native_only("zstd_run", (const char *const[]){ "decompress", NULL }, scratch_path("corrupt"));
    cr_expect_not_null(strstr(r.err, "zstd_run: corrupt input: "), "%s", r.err);
    release(&r);
}

Test(real, zstd_cut_off_input)
{
    save_native("input", (const char *const[]){ "generate", "100000", NULL }, NULL);
    save_native("packed", (const char *const[]){ "compress", "3", NULL }, scratch_path("input"));
    cr_assert_eq(truncate(scratch_path("packed"), (off_t)file_len(scratch_path("packed")) - 100), 0);
    compare("zstd_run", (const char *const[]){ "decompress", NULL }, scratch_path("packed"), 1);
    run_result r = native_only("zstd_run", (const char *const[]){ "decompress", NULL }, scratch_path("packed"));
    cr_expect_not_null(strstr(r.err, "cut off"), "%s", r.err);
    release(&r);
}

Test(real, zstd_usage)
{
    compare("zstd_run", (const char *const[]){ "unpack", NULL }, NULL, 2);
}

/* }====== */
