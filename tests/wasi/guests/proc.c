/*
 * proc.c - arguments, environment, clocks, random bytes, sched_yield and
 * proc_raise.  Run as
 *   lvm run --env A=1 --env B=two=2 proc.wasm x "y z"
 * it prints what it saw, one item a line, for the harness to compare, then
 * checks the calls that have no visible output.  `proc.wasm raise` ends
 * with proc_raise(SIGTERM) instead (exit status 128 + 15).
 * `proc.wasm preopens FILE` lists the preopened directories ("preopen FD
 * NAME") and prints the first line of FILE, an absolute guest path that
 * wasi-libc resolves against them.
 */
#include <sched.h>
#include <time.h>

#include "check.h"

extern char **environ;

/* This wasi-libc does not declare proc_raise any more: import it by hand.
 * Signal numbers as in the witx: 0 none, 15 TERM, 27 WINCH. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int raw_proc_raise(int sig);

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "raise") == 0) {
        ERRNO_IS(raw_proc_raise(0), 0);
        ERRNO_IS(raw_proc_raise(27), 0);   /* ignored */
        ERRNO_IS(raw_proc_raise(99), __WASI_ERRNO_INVAL);
        fflush(stdout);
        raw_proc_raise(15);
        return 3;                                   /* not reached */
    }
    if (argc == 3 && strcmp(argv[1], "preopens") == 0) {
        __wasi_prestat_t ps;
        for (__wasi_fd_t fd = 3; __wasi_fd_prestat_get(fd, &ps) == 0; fd++) {
            char name[256] = { 0 };
            CHECK(ps.u.dir.pr_name_len < sizeof name);
            ERRNO_IS(__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, ps.u.dir.pr_name_len), 0);
            printf("preopen %u %s\n", (unsigned)fd, name);
        }
        FILE *f = fopen(argv[2], "r");
        char line[256];
        CHECK(f && fgets(line, sizeof line, f) && fclose(f) == 0);
        printf("%s", line);
        return 0;
    }
    for (int i = 0; i < argc; i++)
        printf("arg %s\n", argv[i]);
    for (char **e = environ; *e; e++)
        printf("env %s\n", *e);
    CHECK(getenv("B") && strcmp(getenv("B"), "two=2") == 0);

    /* every clock has a resolution and a time; monotonic moves forward */
    static const clockid_t clocks[] = {
        CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
    };
    for (int i = 0; i < 4; i++) {
        struct timespec res, t;
        CHECK(clock_getres(clocks[i], &res) == 0 && (res.tv_sec > 0 || res.tv_nsec > 0));
        CHECK(clock_gettime(clocks[i], &t) == 0);
    }
    __wasi_timestamp_t r;
    ERRNO_IS(__wasi_clock_res_get(7, &r), __WASI_ERRNO_INVAL);
    ERRNO_IS(__wasi_clock_time_get(7, 1, &r), __WASI_ERRNO_INVAL);
    struct timespec a, b, rt;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0);
    CHECK(clock_gettime(CLOCK_REALTIME, &rt) == 0 && rt.tv_sec > 1600000000);  /* after 2020 */
    /* sched_yield gives the slice away and comes back */
    for (int i = 0; i < 100; i++)
        CHECK(sched_yield() == 0);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0);
    CHECK(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));

    /* 4 KiB of random bytes are not all equal */
    static unsigned char buf[4096];
    ERRNO_IS(__wasi_random_get(buf, sizeof buf), 0);
    int same = 0;
    for (size_t i = 1; i < sizeof buf; i++)
        same += buf[i] == buf[0];
    CHECK(same < 200);
    printf("proc ok\n");
    return 0;
}
