/*
 * test_files.c - files, directories and the run options that give a
 * program its directories and environment (--dir, --env, --inherit-env).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi_helpers.h"

TestSuite(wasi_files, .init = wt_init, .fini = wt_fini, .timeout = 60);

Test(wasi_files, files_directories_and_links)
{
    wt_mkdir("box");
    char dir[1200];
    snprintf(dir, sizeof dir, "%s::.", wt_path("box"));
    wt_result r = WT_RUN("run", "--dir", dir, wt_guest("files"));
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect_str_eq(r.out, "files ok\n");
    wt_result_free(&r);
    /* the guest cleaned up after itself, on the host */
    cr_expect(rmdir(wt_path("box")) == 0, "box is not empty");
}

/* The errno of every edge case that edges.c knows, as wasmtime gives it:
 * trailing slashes, open flags, non-UTF-8 paths, the wrong kind of
 * descriptor, append and pwrite, poll_oneoff, readdir with small buffers,
 * closing the preopen. */
Test(wasi_files, edge_cases_answer_as_wasmtime)
{
    wt_mkdir("box");
    char dir[1200];
    snprintf(dir, sizeof dir, "%s::.", wt_path("box"));
    wt_result r = WT_RUN("run", "--dir", dir, wt_guest("edges"));
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect_str_eq(r.out, "edges ok\n");
    wt_result_free(&r);
    /* nothing was made where it should not have been, and the guest
     * removed what it made */
    cr_expect(rmdir(wt_path("box")) == 0, "box is not empty");
}

Test(wasi_files, nothing_is_visible_without_dir)
{
    wt_result r = WT_RUN("run", wt_guest("files"));
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.out, "FAIL") && strstr(r.out, "fd >= 0"), "stdout: %s", r.out);
    wt_result_free(&r);
}

Test(wasi_files, several_dirs_under_their_guest_names)
{
    wt_mkdir("one");
    wt_mkdir("two");
    wt_write("two/hello.txt", "hello from two\n");
    char a[1200], b[1200];
    snprintf(a, sizeof a, "%s::/a", wt_path("one"));
    snprintf(b, sizeof b, "%s::/data/b", wt_path("two"));
    wt_result r = WT_RUN("run", "--dir", a, "--dir", b, wt_guest("proc"), "preopens", "/data/b/hello.txt");
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect_str_eq(r.out, "preopen 3 /a\npreopen 4 /data/b\nhello from two\n");
    wt_result_free(&r);
    /* HOST alone: the guest name is the host path as written */
    r = WT_RUN("run", "--dir", wt_path("two"), wt_guest("proc"), "preopens", wt_path("two/hello.txt"));
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect(strstr(r.out, "hello from two\n"), "stdout: %s", r.out);
    wt_result_free(&r);
}

Test(wasi_files, bad_dir_and_env_options)
{
    wt_result r = WT_RUN("run", "--dir", wt_path("missing"), wt_guest("proc"));
    cr_expect_eq(r.status, 2);      /* bad usage: checked before anything runs */
    cr_expect(strstr(r.err, "--dir") && strstr(r.err, "No such file"), "stderr: %s", r.err);
    wt_result_free(&r);
    wt_write("file", "x");
    r = WT_RUN("run", "--dir", wt_path("file"), wt_guest("proc"));
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "Not a directory"), "stderr: %s", r.err);
    wt_result_free(&r);
    r = WT_RUN("run", "--env", "NOEQUALS", wt_guest("proc"));
    cr_expect_eq(r.status, 2);
    wt_result_free(&r);
    r = WT_RUN("run", "--env", "B=two=2", wt_guest("proc"), "--dir");   /* after FILE: the guest's */
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect(strstr(r.out, "arg --dir\n"), "stdout: %s", r.out);
    wt_result_free(&r);
}

Test(wasi_files, environment_is_empty_unless_given)
{
    wt_result r = WT_RUN("run", wt_guest("proc"));
    cr_expect_eq(r.status, 1, "B is unset, so the guest's check fails");
    cr_expect(!strstr(r.out, "env "), "stdout: %s", r.out);
    wt_result_free(&r);

    r = WT_RUN("run", "--env", "A=1", "--env", "B=two=2", wt_guest("proc"), "x", "y z");
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect_str_eq(r.out, "arg tests/wasi/guests/proc.wasm\narg x\narg y z\n"
                            "env A=1\nenv B=two=2\nproc ok\n");
    wt_result_free(&r);

    /* --inherit-env passes lvm's environment; --env overrides it */
    setenv("LVM_WASI_TEST", "inherited", 1);
    setenv("B", "host", 1);
    r = WT_RUN("run", "--inherit-env", "--env", "B=two=2", wt_guest("proc"));
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect(strstr(r.out, "env LVM_WASI_TEST=inherited\n"), "stdout: %s", r.out);
    cr_expect(strstr(r.out, "env B=two=2\n") && !strstr(r.out, "B=host"), "stdout: %s", r.out);
    wt_result_free(&r);
}

Test(wasi_files, rust_std_program)
{
    wt_mkdir("work");
    char dir[1200];
    snprintf(dir, sizeof dir, "%s::/work", wt_path("work"));
    wt_result r = WT_RUN("run", "--dir", dir, "--env", "GREETING=hi", wt_guest("rust_std"), "/work", "a", "b");
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect_str_eq(r.out, "args [\"/work\", \"a\", \"b\"]\nGREETING=hi\nnested [\"moved.txt\"]\nrust ok\n");
    wt_result_free(&r);
    cr_expect(rmdir(wt_path("work")) == 0, "the program left files behind");
}
