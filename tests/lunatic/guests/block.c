/*
 * block.c - the guest of tests/wasi/test_block.c and
 * tests/lunatic/test_dns.c: one attack on lvm's workers per argv[1], each
 * run beside a ticker, a child that yields TICKS times and then says so.
 *
 * The pattern: the main process spawns the ticker and the attacker, and
 * both report on one channel; main prints the reports in the order they
 * come.  On one worker (`--workers 1`) the ticker can only finish while
 * the attacker is parked or between the attacker's slices, so "ticker
 * done" arriving first says the attack did not hold the worker; an attack
 * that did would hang lvm instead (the test's timeout then fails it).
 * Then main releases the attacker (writes to or drains its FIFO), which
 * finishes and reports, and lvm exits.
 *
 * The FIFO scenarios expect the first preopen (--dir HOST::d) to hold a
 * FIFO named "fifo"; the path scenario expects a first preopen too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#include "../../../include/lunatic.h"

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            printf("check failed, line %d: %s\n", __LINE__, #cond);      \
            exit(2);                                                       \
        }                                                                  \
    } while (0)

enum { TICKS = 200, MIB = 1 << 20 };

/* A spawn context: the reporting channel's sender (serialized) and an
 * argument. */
typedef struct ctx {
    uint32_t sender, arg;
} ctx;

static uint32_t g_sender;       /* in a child: where to report */
static uint32_t g_arg;

static void child_start(void)
{
    uint32_t len;
    ctx *p = lunatic_spawn_context(&len);
    CHECK(p && len == sizeof(ctx));
    g_sender = lunatic_sender_deserialize(p->sender);
    g_arg = p->arg;
    free(p);
    lunatic_drop_last_message();
}

static void report(const char *text)
{
    CHECK(lunatic_channel_send(g_sender, text, (uint32_t)strlen(text)) == 0);
}

static uint32_t spawn(uint32_t sender, void (*fn)(void), uint32_t arg)
{
    ctx c = { lunatic_sender_serialize(sender), arg };
    return lunatic_spawn_with_context(LUNATIC_FN(fn), &c, sizeof c);
}

/* Print the next report. */
static void print_next(uint32_t receiver)
{
    uint32_t len;
    char *m = lunatic_receive(receiver, &len);
    CHECK(m);
    printf("%.*s\n", (int)len, m);
    free(m);
    lunatic_drop_last_message();
}

static void ticker(void)
{
    child_start();
    for (int i = 0; i < TICKS; i++)
        lunatic_yield();
    report("ticker done");
}

/* {====== FIFOs */

/* Open "fifo" in the first preopen (descriptor 3) for reading, writing
 * or both, with a blocking path_open as far as the guest can tell.  By
 * descriptor and not by wasi-libc's open("d/fifo"): a child starts at its
 * function, not at _start, and wasi-libc fills its table of preopens in
 * _start. */
static int open_fifo(bool wr, bool rd)
{
    __wasi_rights_t rights = (rd ? __WASI_RIGHTS_FD_READ : 0) | (wr ? __WASI_RIGHTS_FD_WRITE : 0);
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(3, 0, "fifo", 0, rights, 0, 0, &fd);
    if (e) {
        printf("path_open of the FIFO: errno %u\n", (unsigned)e);
        return -1;
    }
    return (int)fd;
}

/* Opens the FIFO for reading (no writer yet: a blocking open would wait
 * in the kernel) and reads one byte. */
static void fifo_reader(void)
{
    child_start();
    int fd = open_fifo(false, true);
    CHECK(fd >= 0);
    char c = 0;
    ssize_t n = read(fd, &c, 1);
    char text[64];
    snprintf(text, sizeof text, "reader: read %d byte(s): %c", (int)n, n == 1 ? c : '-');
    close(fd);
    report(text);
}

static void fifo_open(void)
{
    uint32_t receiver, sender = lunatic_channel(0, &receiver);
    uint32_t r = spawn(sender, fifo_reader, 0), t = spawn(sender, ticker, 0);
    print_next(receiver);               /* the ticker, while the reader waits */
    int fd = open_fifo(true, false);  /* waits for the reader if need be */
    CHECK(fd >= 0);
    CHECK(write(fd, "x", 1) == 1);
    close(fd);
    print_next(receiver);
    CHECK(lunatic_join(r) == 0 && lunatic_join(t) == 0);
    printf("fifo_open ok\n");
}

/* Opens the FIFO read+write (which never waits) and writes 1 MiB in one
 * fd_write: more than the FIFO holds, so the first write is short and
 * the rest waits for a reader.  Reports the first write's count class. */
static void fifo_writer(void)
{
    child_start();
    int fd = open_fifo(true, true);
    CHECK(fd >= 0);
    uint8_t *buf = malloc(MIB);
    CHECK(buf);
    memset(buf, 'w', MIB);
    __wasi_ciovec_t v = { buf, MIB };
    __wasi_size_t n;
    CHECK(__wasi_fd_write(fd, &v, 1, &n) == 0);
    uint32_t first = n, total = n;
    while (total < MIB) {
        v.buf = buf + total;
        v.buf_len = MIB - total;
        CHECK(__wasi_fd_write(fd, &v, 1, &n) == 0 && n > 0);
        total += n;
    }
    char text[96];
    snprintf(text, sizeof text, "writer: %u bytes, the first write %s", total,
             first > 0 && first < MIB ? "short" : "whole");
    close(fd);
    free(buf);
    report(text);
}

/* argv: the number of writers.  Each writes 1 MiB to the one FIFO;
 * main reads them all once the ticker is done. */
static void fifo_write(int writers)
{
    uint32_t receiver, sender = lunatic_channel(0, &receiver);
    uint32_t w[8];
    CHECK(writers >= 1 && writers <= 8);
    for (int i = 0; i < writers; i++)
        w[i] = spawn(sender, fifo_writer, 0);
    uint32_t t = spawn(sender, ticker, 0);
    print_next(receiver);               /* the ticker, while the writers wait */
    int fd = open_fifo(false, true);
    CHECK(fd >= 0);
    uint8_t *buf = malloc(64 << 10);
    CHECK(buf);
    uint64_t got = 0, want = (uint64_t)writers * MIB;
    while (got < want) {
        ssize_t n = read(fd, buf, 64 << 10);
        CHECK(n > 0);
        for (ssize_t i = 0; i < n; i++)
            CHECK(buf[i] == 'w');
        got += (uint64_t)n;
    }
    for (int i = 0; i < writers; i++)
        print_next(receiver);
    for (int i = 0; i < writers; i++)
        CHECK(lunatic_join(w[i]) == 0);
    CHECK(lunatic_join(t) == 0);
    close(fd);
    free(buf);
    printf("drained %llu bytes\n", (unsigned long long)got);
}

/* }====== */

/* {====== long host calls */

/* random_get of arg MiB in one call. */
static void randomizer(void)
{
    child_start();
    size_t len = (size_t)g_arg * MIB;
    uint8_t *buf = malloc(len);
    CHECK(buf);
    CHECK(__wasi_random_get(buf, len) == 0);
    /* The last KiB was written: 1024 zero bytes from getrandom are as
     * likely as never. */
    unsigned zeros = 0;
    for (size_t i = len - 1024; i < len; i++)
        zeros += buf[i] == 0;
    free(buf);
    report(zeros < 1024 ? "random: filled" : "random: the end was not written");
}

static void random_big(int mib)
{
    uint32_t receiver, sender = lunatic_channel(0, &receiver);
    uint32_t t = spawn(sender, ticker, 0), r = spawn(sender, randomizer, (uint32_t)mib);
    print_next(receiver);
    print_next(receiver);
    CHECK(lunatic_join(r) == 0 && lunatic_join(t) == 0);
}

/* path_open of a path of arg MiB ("a/a/a/..."), relative to preopen 3. */
static void long_path(void)
{
    child_start();
    size_t len = (size_t)g_arg * MIB;
    char *p = malloc(len + 1);
    CHECK(p);
    for (size_t i = 0; i < len; i++)
        p[i] = i % 2 ? '/' : 'a';
    p[len] = '\0';
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(3, 0, p, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    free(p);
    char text[64];
    snprintf(text, sizeof text, "path of %u MiB: errno %u", g_arg, (unsigned)e);
    report(text);
}

static void path_big(int mib)
{
    uint32_t receiver, sender = lunatic_channel(0, &receiver);
    uint32_t t = spawn(sender, ticker, 0), l = spawn(sender, long_path, (uint32_t)mib);
    /* Either order: the path is refused at once, and both must finish. */
    print_next(receiver);
    print_next(receiver);
    CHECK(lunatic_join(l) == 0 && lunatic_join(t) == 0);
}

/* path_open of a path of exactly n bytes ("a/a/.../a" or ".../a/"),
 * in main: the limit is PATH_MAX's (4096 with its NUL). */
static void path_len(int n)
{
    char *p = malloc((size_t)n + 1);
    CHECK(p);
    for (int i = 0; i < n; i++)
        p[i] = i % 2 ? '/' : 'a';
    p[n] = '\0';
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(3, 0, p, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    free(p);
    printf("path of %d bytes: errno %u\n", n, (unsigned)e);
}

/* fd_sync and fd_datasync of a file, in a child (they run on the
 * blocking pool while it parks), beside the ticker. */
static void syncer(void)
{
    child_start();
    __wasi_fd_t fd;
    CHECK(__wasi_path_open(3, 0, "synced", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC,
                           __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SYNC | __WASI_RIGHTS_FD_DATASYNC,
                           0, 0, &fd) == 0);
    CHECK(write((int)fd, "data", 4) == 4);
    __wasi_errno_t a = __wasi_fd_sync(fd), b = __wasi_fd_datasync(fd);
    __wasi_errno_t c = __wasi_fd_sync(999);
    close((int)fd);
    char text[80];
    snprintf(text, sizeof text, "sync %u, datasync %u, sync of a bad fd %u", a, b, c);
    report(text);
}

static void sync_file(void)
{
    uint32_t receiver, sender = lunatic_channel(0, &receiver);
    uint32_t s = spawn(sender, syncer, 0), t = spawn(sender, ticker, 0);
    /* Either order: an fsync of a small file may beat 200 yields. */
    print_next(receiver);
    print_next(receiver);
    CHECK(lunatic_join(s) == 0 && lunatic_join(t) == 0);
}

/* }====== */

/* {====== DNS */

/* Looks up a name that never resolves (RFC 6761's .invalid). */
static void slow_lookup(void)
{
    child_start();
    char name[64];
    snprintf(name, sizeof name, "lvm-test-%u.invalid:80", g_arg);
    uint32_t id;
    lunatic_resolve(name, (uint32_t)strlen(name), &id);
    report("lookup done");
}

/* arg: how many children look up names at once; meanwhile main resolves
 * the literal 127.0.0.1:1, which must not wait behind them. */
static void dns(int children)
{
    uint32_t receiver, sender = lunatic_channel(0, &receiver);
    uint32_t *h = malloc((size_t)children * sizeof *h);
    CHECK(h);
    for (int i = 0; i < children; i++)
        h[i] = spawn(sender, slow_lookup, (uint32_t)i);
    lunatic_yield();                    /* let some lookups start */
    uint32_t id;
    const char *lit = "127.0.0.1:1";
    uint32_t code = lunatic_resolve(lit, (uint32_t)strlen(lit), &id);
    uint8_t addr[16];
    uint32_t alen = 0, flow, scope;
    uint16_t port = 0;
    CHECK(code == 0);
    CHECK(lunatic_resolve_next(id, addr, &alen, &port, &flow, &scope) == 0);
    printf("%s: %u octets %u.%u.%u.%u port %u\n", lit, alen, addr[0], addr[1], addr[2], addr[3],
           port);
    for (int i = 0; i < children; i++)
        lunatic_cancel(h[i]);
    free(h);
    printf("dns ok\n");
}

/* }====== */

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        return 2;
    const char *m = argv[1];
    int n = argc > 2 ? atoi(argv[2]) : 1;
    if (!strcmp(m, "fifo_open"))
        fifo_open();
    else if (!strcmp(m, "fifo_write"))
        fifo_write(n);
    else if (!strcmp(m, "random"))
        random_big(n);
    else if (!strcmp(m, "path"))
        path_big(n);
    else if (!strcmp(m, "path_len"))
        path_len(n);
    else if (!strcmp(m, "sync"))
        sync_file();
    else if (!strcmp(m, "dns"))
        dns(n);
    else
        return 2;
    return 0;
}
