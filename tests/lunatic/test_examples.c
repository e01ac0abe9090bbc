/*
 * test_examples.c - the lunatic examples of examples/ run as documented:
 * processes (hello from three children), fanin (producers into one
 * channel) and echo_server (one process per TCP connection), the last
 * one driven from here through real sockets on loopback.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "run.h"

TestSuite(examples, .timeout = 60);

/* The children print in any order; each of main's lines follows its
 * child's own. */
Test(examples, processes)
{
    run_result *r = lun_run("examples/processes.wasm", "2", NULL, NULL);
    cr_assert_eq(r->status, 0, "status %d, stderr: %s", r->status, r->err);
    for (int i = 0; i < 3; i++) {
        char hello[64], done[64];
        snprintf(hello, sizeof hello, "hello from process %d\n", i);
        snprintf(done, sizeof done, "process %d finished\n", i);
        const char *h = strstr(r->out, hello), *d = strstr(r->out, done);
        cr_expect(h && d && h < d, "process %d out of order:\n%s", i, r->out);
    }
    cr_expect_eq(strlen(r->out), 3 * strlen("hello from process 0\n") + 3 * strlen("process 0 finished\n"),
                 "extra output:\n%s", r->out);
}

Test(examples, fanin)
{
    run_result *r = lun_run("examples/fanin.wasm", "2", "50", "2000");
    EXPECT_RUN(r, 0, "received 100000 messages from 50 processes, sum 4999950000 (expected 4999950000)\n");
    r = lun_run("examples/fanin.wasm", "1", "0", "10");
    EXPECT_RUN(r, 0, "received 0 messages from 0 processes, sum 0 (expected 0)\n");
}

/* Connect to 127.0.0.1:port, retrying while the server starts. */
static int connect_retry(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int tries = 0; tries < 200; tries++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert(fd >= 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
        close(fd);
        nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
    }
    return -1;
}

static void echo_once(int fd, const char *msg)
{
    size_t len = strlen(msg);
    cr_assert_eq(write(fd, msg, len), (ssize_t)len);
    char buf[256];
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        cr_assert(n > 0, "the server closed early");
        got += (size_t)n;
    }
    cr_expect(got == len && memcmp(buf, msg, len) == 0, "echo of %s", msg);
}

/* Three clients at once, each answered by its own process; the server
 * then exits 0 (its CONNECTIONS argument). */
Test(examples, echo_server)
{
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)getpid());
    int port = 20000 + rand() % 40000;
    char port_s[16];
    snprintf(port_s, sizeof port_s, "%d", port);
    char grant[64];
    snprintf(grant, sizeof grant, "--allow-listen=127.0.0.1:%d", port);
    const char *argv[] = { test_lvm_path(), "run", grant, "examples/echo_server.wasm", port_s, "3",
                           NULL };
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = connect_retry(port);
        cr_assert(fds[i] >= 0, "cannot connect to the server on port %d", port);
    }
    /* Interleaved: each connection has its own process. */
    echo_once(fds[2], "third\n");
    echo_once(fds[0], "first\n");
    echo_once(fds[1], "second, a longer line\n");
    echo_once(fds[0], "first again\n");
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        cr_assert(errno == EINTR);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "server status %d", st);
}
