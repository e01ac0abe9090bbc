/*
 * run.h - for the tests of tests/lunatic: run `lvm run --workers W GUEST
 * ARGS...` in a child process and capture its status and output.
 * Header-only, shared by every test file of the folder.
 */
#ifndef LVM_TESTS_LUNATIC_RUN_H
#define LVM_TESTS_LUNATIC_RUN_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lvm_bin.h"

typedef struct run_result {
    int status;                 /* exit status, or 128 + signal */
    char out[8192], err[8192];
} run_result;

static inline void lun_slurp(int fd, char *buf, size_t size)
{
    size_t len = 0;
    lseek(fd, 0, SEEK_SET);
    ssize_t n;
    while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fd);
}

/* Run lvm with args (NULL-terminated, without the binary); outputs go to
 * unlinked temporary files, so nothing is left behind. */
static inline run_result *lun_run_args(const char *const args[])
{
    static run_result r;
    const char *argv[32];
    test_lvm_argv(argv, 32, args);
    char out_tmpl[] = "/tmp/lun-out-XXXXXX", err_tmpl[] = "/tmp/lun-err-XXXXXX";
    int out = mkstemp(out_tmpl), err = mkstemp(err_tmpl);
    cr_assert(out >= 0 && err >= 0, "mkstemp: %s", strerror(errno));
    unlink(out_tmpl);
    unlink(err_tmpl);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        cr_assert(errno == EINTR);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    lun_slurp(out, r.out, sizeof r.out);
    lun_slurp(err, r.err, sizeof r.err);
    return &r;
}

/* Run `lvm run --workers W [OPTION VALUE] GUEST SCENARIO [ARG]` (option
 * NULL: none). */
static inline run_result *lun_run_with(const char *option, const char *value, const char *guest,
                                       const char *workers, const char *scenario, const char *arg)
{
    const char *args[10] = { "run", "--workers", workers };
    int n = 3;
    if (option) {
        args[n++] = option;
        args[n++] = value;
    }
    args[n++] = guest;
    args[n++] = scenario;
    args[n++] = arg;            /* may be NULL: the end */
    args[n] = NULL;
    return lun_run_args(args);
}

static inline run_result *lun_run(const char *guest, const char *workers, const char *scenario,
                                  const char *arg)
{
    return lun_run_with(NULL, NULL, guest, workers, scenario, arg);
}

#define EXPECT_RUN(r, st, text)                                                     \
    do {                                                                            \
        cr_expect_eq((r)->status, (st), "status %d\nstdout: %s\nstderr: %s",        \
                     (r)->status, (r)->out, (r)->err);                              \
        cr_expect_str_eq((r)->out, (text), "stderr: %s", (r)->err);                 \
    } while (0)

#endif
