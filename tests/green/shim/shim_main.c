/*
 * shim_main.c - the runner of the Criterion shim (criterion/criterion.h
 * next to it): runs each registered test in a forked child with an alarm
 * for its timeout, checks how the child ended, and prints a Criterion-like
 * summary.  Exit status: 0 if every test passed.
 *
 * Usage: test_green [substring]   runs the tests whose "suite::name"
 * contains the substring.
 */
#define _GNU_SOURCE
#include "criterion/criterion.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT 60.0

static struct shim_test *tests, **tail = &tests;

void shim_register(struct shim_test *t)
{
    /* Appends, so tests run in registration order. */
    *tail = t;
    tail = &t->next;
}

void shim_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: assertion failed: %s\n   ", file, line, expr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Runs one test in a child; returns true if it ended as expected. */
static bool run(const struct shim_test *t)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return false;
    }
    if (pid == 0) {
        double timeout = t->extra.timeout > 0 ? t->extra.timeout : DEFAULT_TIMEOUT;
        alarm((unsigned)ceil(timeout));
        t->fn();
        fflush(NULL);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == t->extra.signal)
            return true;
        fprintf(stderr, "  %s::%s: %s\n", t->suite, t->name,
                sig == SIGALRM ? "timed out" : strsignal(sig));
        return false;
    }
    if (t->extra.signal != 0) {
        fprintf(stderr, "  %s::%s: expected signal %d, exited\n", t->suite, t->name, t->extra.signal);
        return false;
    }
    return WEXITSTATUS(status) == t->extra.exit_code;
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : "";
    int passed = 0, failed = 0;
    for (struct shim_test *t = tests; t != NULL; t = t->next) {
        char full[256];
        snprintf(full, sizeof full, "%s::%s", t->suite, t->name);
        if (t->extra.disabled || strstr(full, filter) == NULL)
            continue;
        bool ok = run(t);
        printf("[%s] %s\n", ok ? "PASS" : "FAIL", full);
        ok ? passed++ : failed++;
    }
    printf("[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: 0\n",
           passed + failed, passed, failed);
    return failed != 0;
}
