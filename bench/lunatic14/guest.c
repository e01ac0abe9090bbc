/*
 * guest.c - the C guest of `make bench-lunatic14`: the lunatic 0.14 API
 * measured from inside a wasm program (include/lunatic14.h).
 *
 *   lvm run --workers 1 guest.wasm spawn_down N   spawn an empty child,
 *       monitor it, receive its DOWN; ns each (Erlang: spawn_monitor +
 *       'DOWN')
 *   lvm run --workers 1 guest.wasm request N      a request to a server
 *       and its reply through the mailbox (send_receive_skip_search); ns
 *       per round trip (Erlang: ping-pong)
 *   lvm run --workers 1 guest.wasm restart N      a supervisor restarting
 *       a child that crashes at once: spawn linked, receive LinkDied; ns
 *       per restart (Erlang: a one_for_one supervisor's restart)
 *   lvm run --workers 1 guest.wasm monitored N    N monitored children
 *       that all exit: ms until the last DOWN (Erlang: the same)
 *
 * The timed figures are the median of five runs after a warm-up of a
 * tenth (bench/lunatic/guest.c's protocol, and procs14.erl's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../include/lunatic14.h"

#define REPS 5

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double measure(double (*run)(uint32_t), uint32_t n)
{
    double v[REPS];
    run(n / 10 ? n / 10 : 1);
    for (int i = 0; i < REPS; i++)
        v[i] = run(n);
    qsort(v, REPS, sizeof v[0], cmp_double);
    return v[REPS / 2];
}

static void nothing(int32_t unused)
{
}

static void crash(int32_t unused)
{
    __builtin_trap();
}

static void server(int32_t unused)
{
    for (;;) {
        uint64_t from;
        int64_t tag;
        lun_recv(NULL, 0, LUN_FOREVER, &from, sizeof from, NULL, &tag);
        lun_send(from, tag, NULL, 0);
    }
}

static double spawn_down(uint32_t n)
{
    uint64_t t0 = now_ns(), pid;
    for (uint32_t i = 0; i < n; i++) {
        lun_spawn(nothing, 0, 0, &pid);
        lunatic_monitor(pid);
        lunatic_receive(NULL, 0, LUN_FOREVER);
    }
    return (double)(now_ns() - t0) / n;
}

static uint64_t the_server;

static double request(uint32_t n)
{
    uint64_t me = lunatic_process_id();
    uint64_t t0 = now_ns();
    for (uint32_t i = 0; i < n; i++) {
        int64_t tag = 1000 + (int64_t)i;
        lun_request(the_server, tag, &me, sizeof me, tag, LUN_FOREVER, NULL, 0, NULL);
    }
    return (double)(now_ns() - t0) / n;
}

static double restart(uint32_t n)
{
    lunatic_die_when_link_dies(0);
    uint64_t t0 = now_ns(), pid;
    for (uint32_t i = 0; i < n; i++) {
        lun_spawn(crash, 0, 1, &pid);
        lunatic_receive(NULL, 0, LUN_FOREVER);     /* LinkDied */
    }
    return (double)(now_ns() - t0) / n;
}

static double monitored(uint32_t n)
{
    uint64_t t0 = now_ns(), pid;
    for (uint32_t i = 0; i < n; i++) {
        lun_spawn(nothing, 0, 0, &pid);
        lunatic_monitor(pid);
    }
    for (uint32_t i = 0; i < n; i++)
        lunatic_receive(NULL, 0, LUN_FOREVER);
    return (double)(now_ns() - t0) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: guest.wasm spawn_down|request|restart|monitored N\n");
        return 2;
    }
    uint32_t n = (uint32_t)strtoul(argv[2], NULL, 10);
    const char *what = argv[1];
    if (strcmp(what, "spawn_down") == 0) {
        printf("bench: l14_spawn_down %.0f ns\n", measure(spawn_down, n));
    } else if (strcmp(what, "request") == 0) {
        lun_spawn(server, 0, 0, &the_server);
        printf("bench: l14_request %.0f ns\n", measure(request, n));
    } else if (strcmp(what, "restart") == 0) {
        printf("bench: l14_restart %.0f ns\n", measure(restart, n));
    } else if (strcmp(what, "monitored") == 0) {
        /* Once: the figure is the time of one wave of n processes. */
        printf("bench: l14_monitored %.1f ms\n", monitored(n));
    } else {
        return 2;
    }
    return 0;
}
