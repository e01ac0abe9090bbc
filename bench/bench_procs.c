/*
 * bench_procs.c - what lvm's processes cost: spawn, join, switch, message
 * round trip, ring hop, idle memory, a million processes.
 *
 * Prints one line per figure, `bench: NAME VALUE UNIT`, the median of
 * several runs where a run is short.  The Erlang and Go programs in
 * bench/baseline measure the same figures (same names with their prefix)
 * and `make bench` prints them beside these, from the same run.
 *
 * Processes are of two kinds here, as in lvm itself: wasm processes
 * (vm/process.c: a fresh instance each), and C step functions for the
 * scheduler-only figures (switch, ping-pong, ring), which measure the
 * scheduler and channels without the interpreter.
 *
 *   bench_procs [--quick]     --quick: 100k instead of 1M processes
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "green.h"
#include "chan.h"
#include "process.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static green_sched *start(int workers)
{
    green_config cfg = { .workers = workers };
    green_sched *s = green_sched_new(&cfg);
    if (!s || green_sched_start(s) != 0) {
        fprintf(stderr, "bench_procs: cannot start the scheduler\n");
        exit(1);
    }
    return s;
}

static void stop(green_sched *s)
{
    green_sched_wait_all(s);
    green_sched_stop(s);
    green_sched_free(s);
}

/* {====== wasm modules (hand-assembled: no toolchain needed to bench) */

/* (module (func (export "run"))) */
static const uint8_t empty_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                     /* type () -> () */
    0x03, 0x02, 0x01, 0x00,                                 /* func 0: type 0 */
    0x07, 0x07, 0x01, 0x03, 'r', 'u', 'n', 0x00, 0x00,      /* export "run" */
    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,                     /* body: end */
};

/* (module (import "bench" "wait" (func $w)) (func (export "run") (call $w))) */
static const uint8_t wait_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
    0x02, 0x0e, 0x01, 0x05, 'b', 'e', 'n', 'c', 'h', 0x04, 'w', 'a', 'i', 't', 0x00, 0x00,
    0x03, 0x02, 0x01, 0x00,
    0x07, 0x07, 0x01, 0x03, 'r', 'u', 'n', 0x00, 0x01,
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x10, 0x00, 0x0b,         /* body: call 0 */
};

static lvm_module *load(const uint8_t *bytes, size_t len)
{
    lvm_diag d;
    lvm_module *m = lvm_module_load(bytes, len, &d);
    if (!m) {
        fprintf(stderr, "bench_procs: %s\n", d.message);
        exit(1);
    }
    return m;
}

/* bench.wait: block on the channel in the host data until it closes. */
static lvm_err host_wait(lvm_hostcall *call, lvm_val *v)
{
    (void)v;
    void *item;
    int r = green_chan_recv(call->data, green_self(), &item);
    return r == GREEN_CHAN_BLOCKED ? LVM_ERR_BLOCK : LVM_OK;
}

/* }====== */

/* {====== spawn + join, spawn throughput (wasm processes) */

typedef struct driver {
    green_proc g;
    lvm_module *m;
    long n, i;
    bool join;
    lvm_process *child;
    double t0, t1;
} driver;

/* Spawns n children running the empty function, joining each one first
 * when d->join. */
static green_step drive(green_proc *g)
{
    driver *d = (driver *)g;
    for (;;) {
        if (d->child) {
            int status;
            if (!green_join(g, &d->child->g, &status))
                return GREEN_BLOCK;
            lvm_process_release(d->child);
            d->child = NULL;
        }
        if (d->i == d->n) {
            d->t1 = now_ns();
            return GREEN_EXIT;
        }
        lvm_diag diag;
        lvm_process *p = lvm_process_spawn(g->sched, d->m, NULL, "run", NULL, NULL, &diag);
        if (!p) {
            fprintf(stderr, "bench_procs: spawn: %s\n", diag.message);
            exit(1);
        }
        d->i++;
        if (d->join)
            d->child = p;
        else
            lvm_process_release(p);
    }
}

static void no_free(green_proc *g) { (void)g; }

/* Returns ns per spawn (joined) or the wall time of all spawns. */
static double run_driver(int workers, lvm_module *m, long n, bool join)
{
    green_sched *s = start(workers);
    driver d;
    memset(&d, 0, sizeof d);
    d.m = m;
    d.n = n;
    d.join = join;
    d.t0 = now_ns();
    green_spawn(s, &d.g, drive, no_free, &d);
    stop(s);                            /* waits for all children too */
    double t_end = now_ns();
    return join ? (d.t1 - d.t0) / (double)n : (t_end - d.t0);
}

/* }====== */

/* {====== switches, ping-pong, ring (C processes) */

typedef struct cproc {
    green_proc g;
    long n;
    int phase;
    green_chan *in, *out;
} cproc;

static green_step yielder(green_proc *g)
{
    cproc *c = (cproc *)g;
    return c->n-- > 0 ? GREEN_YIELD : GREEN_EXIT;
}

static double yield_switch(long n)
{
    green_sched *s = start(1);
    cproc a = { .n = n }, b = { .n = n };
    double t0 = now_ns();
    green_spawn(s, &a.g, yielder, no_free, &a);
    green_spawn(s, &b.g, yielder, no_free, &b);
    green_sched_wait_all(s);
    double t = now_ns() - t0;
    green_sched_stop(s);
    green_sched_free(s);
    return t / (double)(2 * n);
}

/* Receive from in, then send to out; n times.  phase 1 = first send
 * (for the process that starts the ping-pong). */
static green_step relay(green_proc *g)
{
    cproc *c = (cproc *)g;
    for (;;) {
        if (c->phase == 0) {
            if (c->n == 0)
                return GREEN_EXIT;
            void *item;
            int r = green_chan_recv(c->in, g, &item);
            if (r == GREEN_CHAN_BLOCKED)
                return GREEN_BLOCK;
            if (r == GREEN_CHAN_CLOSED)
                return GREEN_EXIT;
            c->phase = 1;
        }
        int r = green_chan_send(c->out, g, (void *)1);
        if (r == GREEN_CHAN_BLOCKED)
            return GREEN_BLOCK;
        c->phase = 0;
        c->n--;
    }
}

static double pingpong(long n)
{
    green_sched *s = start(1);
    green_chan *ab = green_chan_new(1, NULL), *ba = green_chan_new(1, NULL);
    cproc a = { .n = n, .phase = 1, .in = ba, .out = ab };
    cproc b = { .n = n, .in = ab, .out = ba };
    double t0 = now_ns();
    green_spawn(s, &a.g, relay, no_free, &a);
    green_spawn(s, &b.g, relay, no_free, &b);
    green_sched_wait_all(s);
    double t = now_ns() - t0;
    green_sched_stop(s);
    green_sched_free(s);
    void *item;
    green_chan_recv(ba, NULL, &item);   /* a's last reply to b is unread */
    green_chan_drop_sender(ab), green_chan_drop_receiver(ab);
    green_chan_drop_sender(ba), green_chan_drop_receiver(ba);
    return t / (double)n;
}

static double ring(int procs, long laps)
{
    green_sched *s = start(1);
    green_chan **ch = calloc((size_t)procs, sizeof *ch);
    cproc *p = calloc((size_t)procs, sizeof *p);
    for (int i = 0; i < procs; i++)
        ch[i] = green_chan_new(1, NULL);
    for (int i = 0; i < procs; i++) {
        p[i].n = laps;
        p[i].in = ch[i];
        p[i].out = ch[(i + 1) % procs];
        p[i].phase = i == 0;            /* process 0 starts the token */
    }
    double t0 = now_ns();
    for (int i = 0; i < procs; i++)
        green_spawn(s, &p[i].g, relay, no_free, &p[i]);
    green_sched_wait_all(s);
    double t = now_ns() - t0;
    green_sched_stop(s);
    green_sched_free(s);
    for (int i = 0; i < procs; i++) {
        green_chan_drop_sender(ch[i]);
        green_chan_drop_receiver(ch[i]);
    }
    free(ch);
    free(p);
    return t / ((double)procs * (double)laps);
}

/* }====== */

/* {====== idle memory and a million processes (wasm processes) */

/* Spawn n processes that block in bench.wait; report the RSS growth per
 * process and the time to start them, release them and see them finish. */
static void idle(lvm_module *m, long n, const char *mem_name, const char *time_name,
                 const char *total_name)
{
    green_sched *s = start(1);
    green_chan *ch = green_chan_new(0, NULL);
    lvm_store *hs = lvm_store_new();
    lvm_linker *l = lvm_linker_new();
    lvm_extern x = { .kind = LVM_EXTERN_FUNC };
    x.u.func = lvm_func_new_host(hs, ":", host_wait, ch);
    lvm_linker_define(l, "bench", "wait", x);

    long rss0 = rss_bytes();
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        lvm_diag d;
        lvm_process *p = lvm_process_spawn(s, m, l, "run", NULL, NULL, &d);
        if (!p) {
            fprintf(stderr, "bench_procs: spawn %ld: %s\n", i, d.message);
            exit(1);
        }
        lvm_process_release(p);
    }
    /* Wait until every process is parked in its receive. */
    while (!green_sched_quiescent(s))
        usleep(1000);
    long rss1 = rss_bytes();
    green_chan_drop_sender(ch);         /* closes: every wait returns */
    green_sched_wait_all(s);
    double t = now_ns() - t0;
    printf("bench: %s %.0f bytes\n", mem_name, (double)(rss1 - rss0) / (double)n);
    if (time_name)
        printf("bench: %s %.0f ms\n", time_name, t / 1e6);
    if (total_name)
        printf("bench: %s %.2f GiB\n", total_name, (double)rss1 / (1 << 30));
    fflush(stdout);
    green_sched_stop(s);
    green_sched_free(s);
    green_chan_drop_receiver(ch);
    lvm_linker_free(l);
    lvm_store_free(hs);
}

/* The minimal C guest (bench/guests/idle.c), committed built. */
static lvm_module *load_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_procs: cannot open %s (run from the repository root)\n", path);
        exit(1);
    }
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return load(buf, n);
}

/* }====== */

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    double v[5];
    lvm_module *empty = load(empty_wasm, sizeof empty_wasm);

    for (int i = 0; i < 5; i++)
        v[i] = run_driver(1, empty, 100000, true);
    printf("bench: spawn_join %.0f ns\n", median(v, 5));
    for (int i = 0; i < 3; i++)
        v[i] = 1e9 * 200000 / run_driver(1, empty, 200000, false);
    printf("bench: spawn_throughput %.0f spawns/s\n", median(v, 3));
    for (int i = 0; i < 3; i++)
        v[i] = 1e9 * 200000 / run_driver(0, empty, 200000, false);
    printf("bench: spawn_throughput_all %.0f spawns/s\n", median(v, 3));
    fflush(stdout);

    for (int i = 0; i < 5; i++)
        v[i] = yield_switch(500000);
    printf("bench: yield_switch %.1f ns\n", median(v, 5));
    for (int i = 0; i < 5; i++)
        v[i] = pingpong(300000);
    printf("bench: pingpong %.0f ns\n", median(v, 5));
    for (int i = 0; i < 3; i++)
        v[i] = ring(10000, 30);
    printf("bench: ring_hop %.0f ns\n", median(v, 3));
    fflush(stdout);

    lvm_module *wait = load(wait_wasm, sizeof wait_wasm);
    idle(wait, 100000, "idle_proc_100k", NULL, NULL);
    if (!quick)
        idle(wait, 1000000, "idle_proc_1m", "start_finish_1m", NULL);
    lvm_module_release(wait);
    /* With a C guest's own memory: 2 pages of linear memory, of which the
     * guest touches what its stack and data use. */
    lvm_module *cguest = load_file("bench/guests/idle.wasm");
    idle(cguest, quick ? 100000 : 1000000, quick ? "idle_cguest_100k" : "idle_cguest_1m", NULL,
         quick ? "rss_cguest_100k" : "rss_cguest_1m");
    lvm_module_release(cguest);
    lvm_module_release(empty);
    return 0;
}
