/*
 * test_sandbox.c - escapes from a preopened directory, run by the guest
 * sandbox.c (which checks each errno), and afterwards a look from the host
 * that nothing outside was touched.
 */
#define _GNU_SOURCE     /* RENAME_EXCHANGE */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi_helpers.h"

TestSuite(wasi_sandbox, .init = wt_init, .fini = wt_fini, .timeout = 60);

static void make_tree(void)
{
    wt_mkdir("outside");
    wt_write("outside/secret.txt", "secret\n");
    wt_mkdir("box/sub");
    wt_write("box/file.txt", "inside\n");
    cr_assert(symlink(wt_path("outside/secret.txt"), wt_path("box/out_abs")) == 0);
    cr_assert(symlink("../outside/secret.txt", wt_path("box/out_rel")) == 0);
    cr_assert(symlink("../..", wt_path("box/sub/up")) == 0);
    cr_assert(symlink("loop2", wt_path("box/loop1")) == 0);
    cr_assert(symlink("loop1", wt_path("box/loop2")) == 0);
    cr_assert(symlink("self", wt_path("box/self")) == 0);
    cr_assert(symlink("sub/../file.txt", wt_path("box/ok")) == 0);
}

Test(wasi_sandbox, every_escape_is_refused)
{
    make_tree();
    char dir[1200];
    snprintf(dir, sizeof dir, "%s::.", wt_path("box"));
    wt_result r = WT_RUN("run", "--dir", dir, wt_guest("sandbox"));
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect_str_eq(r.out, "sandbox ok\n");
    wt_result_free(&r);

    /* from the host: the secret is intact, nothing new appeared outside */
    FILE *f = fopen(wt_path("outside/secret.txt"), "r");
    char line[64] = "";
    cr_assert_not_null(f);
    cr_expect(fgets(line, sizeof line, f) && strcmp(line, "secret\n") == 0);
    fclose(f);
    cr_expect(access(wt_path("stolen.txt"), F_OK) != 0);
    cr_expect(access(wt_path("hard.txt"), F_OK) != 0);
    cr_expect(access(wt_path("newdir"), F_OK) != 0);
    cr_expect(access(wt_path("link"), F_OK) != 0);
    cr_expect(access(wt_path("outside/stolen.txt"), F_OK) != 0);
    cr_expect(access(wt_path("box/file.txt"), F_OK) == 0);
    cr_expect(access(wt_path("box/got.txt"), F_OK) != 0);
}

Test(wasi_sandbox, a_preopen_is_the_top_even_when_named_dot_dot)
{
    /* a guest name does not change what the host directory is */
    make_tree();
    char dir[1200];
    snprintf(dir, sizeof dir, "%s::..", wt_path("box"));
    wt_result r = WT_RUN("run", "--dir", dir, wt_guest("proc"), "preopens", "../file.txt");
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect_str_eq(r.out, "preopen 3 ..\ninside\n");
    wt_result_free(&r);
}

Test(wasi_sandbox, bad_pointers_are_efault)
{
    wt_mkdir("box");
    char dir[1200];
    snprintf(dir, sizeof dir, "%s::.", wt_path("box"));
    wt_result r = WT_RUN("run", "--dir", dir, wt_guest("efault"));
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect_str_eq(r.out, "efault ok\n");
    wt_result_free(&r);
}

/* The harness thread of race.c: exchange box/flip (a directory) and
 * box/flip2 (a symlink out) until told to stop. */
static atomic_bool stop_flipping;

static void *flipper(void *arg)
{
    const char *box = arg;
    int dir = open(box, O_RDONLY | O_DIRECTORY);
    while (!atomic_load(&stop_flipping))
        syscall(SYS_renameat2, dir, "flip", dir, "flip2", RENAME_EXCHANGE);
    close(dir);
    return NULL;
}

Test(wasi_sandbox, racing_a_symlink_swap_never_escapes)
{
    make_tree();
    wt_mkdir("box/flip");
    wt_write("box/flip/secret.txt", "inside\n");
    cr_assert(symlink("../outside", wt_path("box/flip2")) == 0);
    char box[1100], dir[1200];
    snprintf(box, sizeof box, "%s", wt_path("box"));
    snprintf(dir, sizeof dir, "%s::.", box);
    pthread_t t;
    atomic_store(&stop_flipping, false);
    cr_assert(pthread_create(&t, NULL, flipper, box) == 0);
    wt_result r = WT_RUN("run", "--dir", dir, wt_guest("race"));
    atomic_store(&stop_flipping, true);
    pthread_join(t, NULL);
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect_str_eq(r.out, "race ok\n");
    wt_result_free(&r);
}
