/*
 * test_proc.c - clocks, random, sched_yield, proc_raise, and waiting:
 * poll_oneoff with timeouts, stdin from a pipe, and a --tcplisten socket.
 * (Arguments and environment are in test_files.c, with the options.)
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wasi_helpers.h"

TestSuite(wasi_proc, .init = wt_init, .fini = wt_fini, .timeout = 60);

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

Test(wasi_proc, clocks_random_and_yield)
{
    wt_result r = WT_RUN("run", "--workers", "1", "--env", "B=two=2", wt_guest("proc"));
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect(strstr(r.out, "proc ok\n"), "stdout: %s", r.out);
    wt_result_free(&r);
}

Test(wasi_proc, proc_raise_ends_like_the_signal)
{
    wt_result r = WT_RUN("run", wt_guest("proc"), "raise");
    cr_expect_eq(r.status, 128 + 15, "stdout: %s\nstderr: %s", r.out, r.err);
    wt_result_free(&r);
}

/* The guest polls with timeouts while nothing has been written, then waits
 * for the data; its own checks measure the timeouts. */
Test(wasi_proc, poll_timeouts_and_stdin_from_a_pipe)
{
    int in;
    pid_t pid = wt_start((const char *const[]){ "run", "--workers", "1", wt_guest("poll"), NULL }, &in);
    sleep_ms(500);      /* long enough for lvm to start even under ASan */
    cr_assert_eq(write(in, "ping\n", 5), 5);
    sleep_ms(100);
    close(in);
    wt_result r = wt_wait(pid);
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect_str_eq(r.out, "poll ok\n");
    wt_result_free(&r);
}

/* A free port, found by letting the kernel pick one (racy in theory: some
 * other program could take it before lvm binds it). */
static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    cr_assert(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    cr_assert(getsockname(s, (struct sockaddr *)&a, &len) == 0);
    close(s);
    return ntohs(a.sin_port);
}

/* Has the guest printed "ready"? (Its stdout is a file, see wt_start.) */
static bool ready(void)
{
    FILE *f = fopen(wt_path(".stdout"), "r");
    char line[64] = "";
    bool yes = f && fgets(line, sizeof line, f) && strcmp(line, "ready\n") == 0;
    if (f)
        fclose(f);
    return yes;
}

Test(wasi_proc, tcplisten_accept_recv_send_shutdown)
{
    int port = free_port();
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    pid_t pid = wt_start((const char *const[]){ "run", "--tcplisten", addr, wt_guest("sock"), NULL }, NULL);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    /* Connect only once the guest has seen its listener empty. */
    for (int tries = 0; tries < 1000 && !ready(); tries++)
        sleep_ms(10);
    int s = -1;
    for (int tries = 0; tries < 200; tries++) {
        s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0)
            break;
        close(s);
        s = -1;
        sleep_ms(10);
    }
    cr_assert(s >= 0, "could not connect to lvm");
    cr_assert_eq(send(s, "hello", 5, 0), 5);
    shutdown(s, SHUT_WR);
    char buf[16] = "";
    ssize_t n = 0, got;
    while ((got = recv(s, buf + n, sizeof buf - 1 - (size_t)n, 0)) > 0)
        n += got;
    close(s);
    cr_expect_str_eq(buf, "olleh");
    wt_result r = wt_wait(pid);
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_expect_str_eq(r.out, "ready\nsock ok\n");
    wt_result_free(&r);
}
