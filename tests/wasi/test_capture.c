/*
 * test_capture.c - output capture (wasi/capture.c, the test mode's): a
 * captured context's stdout and stderr land in its stream and nowhere
 * else, each child context in a stream of its own in the order they were
 * made, through the real fd_write (iovecs, bad ranges); what a captured
 * descriptor looks like to the guest; copies taken while writers run; and
 * references (under ASan, a release too many is a use after free; a
 * leak is not seen: tests/lsan.supp suppresses every leak whose stack
 * passes through Criterion, which is every test's).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"       /* LVM_EXTERN_FUNC */
#include "wasi.h"
#include "wasi_helpers.h"
#include "wat.h"

TestSuite(capture, .init = wt_init, .fini = wt_fini, .timeout = 60);

/* WASI errnos the guest sees. */
enum { W_EBADF = 8, W_EFAULT = 21 };

/* write(fd, ptr, len): fd_write of one iovec (@512), nwritten @520.
 * writev(fd, n): fd_write of the n iovecs the host put @600.  bad(fd): an
 * iovec that runs off the end of memory.  read(fd): fd_read into 16
 * bytes @2000.  fdstat(fd): type @32, rights @40.  close(fd).
 * write_n(fd, n): n writes of "0123456789" (@1000); the first errno. */
static const char module_wat[] =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_write\" (func $write (param i32 i32 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_read\" (func $read (param i32 i32 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_fdstat_get\" (func $fdstat (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_close\" (func $close (param i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 1000) \"0123456789\")\n"
    "  (func $w (export \"write\") (param i32 i32 i32) (result i32)\n"
    "    (i32.store (i32.const 512) (local.get 1))\n"
    "    (i32.store (i32.const 516) (local.get 2))\n"
    "    (call $write (local.get 0) (i32.const 512) (i32.const 1) (i32.const 520)))\n"
    "  (func (export \"writev\") (param i32 i32) (result i32)\n"
    "    (call $write (local.get 0) (i32.const 600) (local.get 1) (i32.const 520)))\n"
    "  (func (export \"bad\") (param i32) (result i32)\n"
    "    (i32.store (i32.const 700) (i32.const 1000))\n"
    "    (i32.store (i32.const 704) (i32.const 4))\n"
    "    (i32.store (i32.const 708) (i32.const 65530))\n"
    "    (i32.store (i32.const 712) (i32.const 100))\n"
    "    (call $write (local.get 0) (i32.const 700) (i32.const 2) (i32.const 520)))\n"
    "  (func (export \"read\") (param i32) (result i32)\n"
    "    (i32.store (i32.const 512) (i32.const 2000))\n"
    "    (i32.store (i32.const 516) (i32.const 16))\n"
    "    (call $read (local.get 0) (i32.const 512) (i32.const 1) (i32.const 520)))\n"
    "  (func (export \"fdstat\") (param i32) (result i32) (call $fdstat (local.get 0) (i32.const 32)))\n"
    "  (func (export \"close\") (param i32) (result i32) (call $close (local.get 0)))\n"
    "  (func (export \"write_n\") (param i32 i32) (result i32) (local i32)\n"
    "    (block $done (loop $next\n"
    "      (br_if $done (i32.eqz (local.get 1)))\n"
    "      (local.set 2 (call $w (local.get 0) (i32.const 1000) (i32.const 10)))\n"
    "      (br_if $done (local.get 2))\n"
    "      (local.set 1 (i32.sub (local.get 1) (i32.const 1)))\n"
    "      (br $next)))\n"
    "    (local.get 2)))\n";

typedef struct guest {
    lvm_store *s;
    lvm_linker *l;
    lvm_thread *t;
    lvm_instance *inst;
    uint8_t *mem;
} guest;

static lvm_module *the_module;

static guest instantiate(wasi_ctx *ctx)
{
    if (!the_module)
        the_module = load_wat(module_wat);
    guest g = { lvm_store_new(), lvm_linker_new(), lvm_thread_new(NULL), NULL, NULL };
    cr_assert(g.s && g.l && g.t);
    cr_assert_eq(wasi_define(ctx, g.s, g.l), LVM_OK);
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(g.s, g.l, the_module, g.t, &g.inst, &d), LVM_OK, "%s", d.message);
    lvm_extern e;
    cr_assert(lvm_instance_export(g.inst, "memory", &e));
    g.mem = lvm_memory_data(e.u.memory);
    return g;
}

/* Not cr_assert: also called from the writer threads. */
static int call3(guest *g, const char *name, int a, int b, int c)
{
    lvm_extern e;
    if (!lvm_instance_export(g->inst, name, &e))
        return -1;
    lvm_val args[3] = { { .i32 = (uint32_t)a }, { .i32 = (uint32_t)b }, { .i32 = (uint32_t)c } };
    lvm_val res[1];
    if (lvm_invoke(g->t, e.u.func, args, res) != LVM_OK)
        return -2;
    return (int)res[0].i32;
}

static int call(guest *g, const char *name, int a)
{
    return call3(g, name, a, 0, 0);
}

static uint32_t load32(const guest *g, uint32_t at)
{
    uint32_t v;
    memcpy(&v, g->mem + at, 4);
    return v;
}

/* fd_write of text to fd from g: the errno (nwritten checked). */
static int say(guest *g, int fd, const char *text)
{
    size_t n = strlen(text);
    memcpy(g->mem + 3000, text, n);
    int e = call3(g, "write", fd, 3000, (int)n);
    if (e == 0)
        cr_expect_eq(load32(g, 520), n, "nwritten of '%s'", text);
    return e;
}

static void guest_free(guest *g)
{
    lvm_thread_free(g->t);
    lvm_linker_free(g->l);
    lvm_store_free(g->s);
}

/* Stream i must hold exactly `want`. */
static void expect_stream(wasi_capture *c, size_t i, const char *want)
{
    size_t len = 12345;
    char *s = wasi_capture_copy(c, i, &len);
    cr_assert_not_null(s, "stream %zu", i);
    cr_expect_eq(len, strlen(want), "stream %zu: %zu bytes, wanted %zu", i, len, strlen(want));
    cr_expect_str_eq(s, want, "stream %zu", i);     /* NUL-terminated too */
    free(s);
}

/* Run f with lvm's own stdout and stderr going to a file; what reached
 * them comes back (malloc'd). */
static char *host_output_of(void (*f)(void *), void *arg)
{
    fflush(stdout);
    fflush(stderr);
    char path[] = "/tmp/lvm-capture-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    unlink(path);
    int out = dup(1), err = dup(2);
    cr_assert(out >= 0 && err >= 0);
    dup2(fd, 1);
    dup2(fd, 2);
    f(arg);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    off_t n = lseek(fd, 0, SEEK_END);
    char *text = calloc(1, (size_t)n + 1);
    cr_assert(text);
    cr_assert_eq(pread(fd, text, (size_t)n, 0), n);
    close(fd);
    return text;
}

/* {====== streams */

typedef struct family {
    wasi_ctx *ctx[5];
    guest g[5];
} family;

static void family_writes(void *arg)
{
    family *f = arg;
    cr_expect_eq(say(&f->g[0], 1, "parent out\n"), 0);
    cr_expect_eq(say(&f->g[1], 1, "child one\n"), 0);
    cr_expect_eq(say(&f->g[0], 2, "parent err\n"), 0);
    cr_expect_eq(say(&f->g[2], 2, "configured"), 0);
    cr_expect_eq(say(&f->g[3], 1, "least"), 0);
    cr_expect_eq(say(&f->g[4], 1, "grandchild"), 0);
    cr_expect_eq(say(&f->g[1], 2, " and its err\n"), 0);
}

Test(capture, a_context_and_its_children_write_into_streams_in_creation_order)
{
    wasi_capture *c = wasi_capture_new();
    cr_assert_not_null(c);
    cr_expect_eq(wasi_capture_count(c), 0);
    family f;
    const char *argv[] = { "main" };
    f.ctx[0] = wasi_ctx_new(1, argv, 0, NULL);
    cr_assert_not_null(f.ctx[0]);
    cr_expect_eq(wasi_ctx_capture(f.ctx[0], c), 0);
    f.ctx[1] = wasi_ctx_new_child(f.ctx[0]);
    int err;
    char why[128];
    f.ctx[2] = wasi_ctx_configured(f.ctx[0], 1, argv, 0, NULL, 0, NULL, &err, why, sizeof why);
    wasi_grant least = { .preopens = false, .net = NULL };
    f.ctx[3] = wasi_ctx_child(f.ctx[0], &least);
    f.ctx[4] = wasi_ctx_new_child(f.ctx[1]);          /* a grandchild: after them all */
    for (int i = 0; i < 5; i++) {
        cr_assert_not_null(f.ctx[i], "context %d", i);
        f.g[i] = instantiate(f.ctx[i]);
    }
    cr_expect_eq(wasi_capture_count(c), 5);

    char *host = host_output_of(family_writes, &f);
    cr_expect_str_eq(host, "", "captured output reached lvm's own stdout or stderr");
    free(host);

    expect_stream(c, 0, "parent out\nparent err\n");   /* stdout and stderr: one stream */
    expect_stream(c, 1, "child one\n and its err\n");
    expect_stream(c, 2, "configured");
    expect_stream(c, 3, "least");
    expect_stream(c, 4, "grandchild");
    /* the runner's notes go where it says, after what is there */
    cr_expect(wasi_capture_append(c, 0, "note\n", 5));
    expect_stream(c, 0, "parent out\nparent err\nnote\n");
    for (int i = 0; i < 5; i++) {
        guest_free(&f.g[i]);
        wasi_ctx_free(f.ctx[i]);
    }
    wasi_capture_release(c);
    lvm_module_release(the_module);
}

Test(capture, an_uncaptured_context_has_uncaptured_children)
{
    wasi_capture *c = wasi_capture_new();
    wasi_ctx *plain = wasi_ctx_new(0, NULL, 0, NULL);
    wasi_ctx *kid = wasi_ctx_new_child(plain);
    cr_assert(c && plain && kid);
    cr_expect_eq(wasi_capture_count(c), 0);
    /* capturing the child later captures only it, and its own children */
    cr_expect_eq(wasi_ctx_capture(kid, c), 0);
    wasi_ctx *other = wasi_ctx_new_child(plain);
    wasi_ctx *grand = wasi_ctx_new_child(kid);
    cr_assert(other && grand);
    cr_expect_eq(wasi_capture_count(c), 2);
    guest g = instantiate(grand);
    cr_expect_eq(say(&g, 1, "g"), 0);
    expect_stream(c, 0, "");
    expect_stream(c, 1, "g");
    guest_free(&g);
    wasi_ctx_free(grand);
    wasi_ctx_free(other);
    wasi_ctx_free(kid);
    wasi_ctx_free(plain);
    wasi_capture_release(c);
    lvm_module_release(the_module);
}

/* }====== */

/* {====== fd_write and the descriptors */

Test(capture, iovecs_bad_ranges_and_nwritten)
{
    wasi_capture *c = wasi_capture_new();
    wasi_ctx *ctx = wasi_ctx_new(0, NULL, 0, NULL);
    cr_assert(c && ctx);
    cr_assert_eq(wasi_ctx_capture(ctx, c), 0);
    guest g = instantiate(ctx);
    /* three iovecs, one empty: all of it, in order */
    memcpy(g.mem + 3000, "ab", 2);
    memcpy(g.mem + 3100, "cde", 3);
    const uint32_t iov[6] = { 3000, 2, 3050, 0, 3100, 3 };
    memcpy(g.mem + 600, iov, sizeof iov);
    cr_expect_eq(call3(&g, "writev", 1, 3, 0), 0);
    cr_expect_eq(load32(&g, 520), 5);
    /* no iovecs at all: nothing, and nwritten 0 */
    memcpy(g.mem + 520, "\xff\xff\xff\xff", 4);
    cr_expect_eq(call3(&g, "writev", 2, 0, 0), 0);
    cr_expect_eq(load32(&g, 520), 0);
    expect_stream(c, 0, "abcde");
    /* the second iovec runs off the end: EFAULT, and not even the first
     * is appended */
    memcpy(g.mem + 520, "\xff\xff\xff\xff", 4);
    cr_expect_eq(call(&g, "bad", 1), W_EFAULT);
    cr_expect_eq(load32(&g, 520), 0xffffffffu);
    cr_expect_eq(call3(&g, "write", 2, 65530, 7), W_EFAULT);
    cr_expect_eq(call3(&g, "write", 1, 3000, 1), 0);
    expect_stream(c, 0, "abcdea");
    /* a big one, whole */
    memset(g.mem + 8192, 'x', 40000);
    cr_expect_eq(call3(&g, "write", 1, 8192, 40000), 0);
    cr_expect_eq(load32(&g, 520), 40000);
    size_t len;
    char *s = wasi_capture_copy(c, 0, &len);
    cr_assert_not_null(s);
    cr_expect_eq(len, 40006);
    cr_expect_eq(s[6], 'x');
    cr_expect_eq(s[40005], 'x');
    free(s);
    guest_free(&g);
    wasi_ctx_free(ctx);
    wasi_capture_release(c);
    lvm_module_release(the_module);
}

Test(capture, a_captured_descriptor_is_a_write_only_stream)
{
    /* lvm's own stdio character devices, as a terminal is: the
     * captured ones must not look like one all the same */
    int null = open("/dev/null", O_RDWR), in = dup(0), out = dup(1), err = dup(2);
    cr_assert(null >= 0 && in >= 0 && out >= 0 && err >= 0);
    cr_assert(dup2(null, 0) == 0 && dup2(null, 1) == 1 && dup2(null, 2) == 2);
    wasi_capture *c = wasi_capture_new();
    wasi_ctx *ctx = wasi_ctx_new(0, NULL, 0, NULL);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    close(in);
    close(out);
    close(err);
    close(null);
    cr_assert(c && ctx);
    wasi_ctx *kid = wasi_ctx_new_child(ctx);
    cr_assert_not_null(kid);
    /* uncaptured, the child sees the host's type; captured, the parent
     * and, from it, the next child do not */
    guest k = instantiate(kid);
    cr_assert_eq(call(&k, "fdstat", 1), 0);
    cr_expect_eq(k.mem[32], 2, "the host's stdout: CHARACTER_DEVICE");
    guest_free(&k);
    wasi_ctx_free(kid);
    cr_assert_eq(wasi_ctx_capture(ctx, c), 0);
    kid = wasi_ctx_new_child(ctx);
    cr_assert_not_null(kid);
    k = instantiate(kid);
    cr_assert_eq(call(&k, "fdstat", 2), 0);
    cr_expect_eq(k.mem[32], 0, "a captured child's stderr: type %d", k.mem[32]);
    cr_assert_eq(call(&k, "fdstat", 0), 0);
    cr_expect_eq(k.mem[32], 2, "stdin is not captured: still the host's");
    guest_free(&k);
    wasi_ctx_free(kid);
    guest g = instantiate(ctx);
    for (int fd = 1; fd <= 2; fd++) {
        cr_assert_eq(call(&g, "fdstat", fd), 0);
        cr_expect_eq(g.mem[32], 0, "fd %d: type %d, not UNKNOWN (WASI's pipe)", fd, g.mem[32]);
        uint64_t rights;
        memcpy(&rights, g.mem + 40, 8);
        cr_expect(rights & (1u << 6), "fd %d may not fd_write", fd);
        cr_expect_not(rights & ((1u << 1) | (1u << 2) | (1u << 5)),
                      "fd %d may read, seek or tell: %#llx", fd, (unsigned long long)rights);
        cr_expect_eq(call(&g, "read", fd), W_EBADF);
    }
    /* stdout closed, stderr still writes; then nothing is left */
    cr_expect_eq(call(&g, "close", 1), 0);
    cr_expect_eq(say(&g, 1, "lost"), W_EBADF);
    cr_expect_eq(say(&g, 2, "err"), 0);
    cr_expect_eq(call(&g, "close", 2), 0);
    cr_expect_eq(say(&g, 2, "lost"), W_EBADF);
    expect_stream(c, 0, "err");
    guest_free(&g);
    wasi_ctx_free(ctx);
    wasi_capture_release(c);
    lvm_module_release(the_module);
}

/* Capturing again moves the context to a new stream (of the same or
 * another capture); what it wrote before stays where it went. */
Test(capture, capturing_again_moves_to_a_new_stream)
{
    wasi_capture *a = wasi_capture_new(), *b = wasi_capture_new();
    wasi_ctx *ctx = wasi_ctx_new(0, NULL, 0, NULL);
    cr_assert(a && b && ctx);
    cr_assert_eq(wasi_ctx_capture(ctx, a), 0);
    guest g = instantiate(ctx);
    cr_expect_eq(say(&g, 1, "first"), 0);
    cr_expect_eq(wasi_ctx_capture(ctx, a), 1);
    cr_expect_eq(say(&g, 1, "second"), 0);
    cr_expect_eq(wasi_ctx_capture(ctx, b), 0);
    /* a's last reference is ours now: the context let go of it */
    expect_stream(a, 0, "first");
    expect_stream(a, 1, "second");
    wasi_capture_release(a);
    cr_expect_eq(say(&g, 2, "third"), 0);
    expect_stream(b, 0, "third");
    guest_free(&g);
    wasi_ctx_free(ctx);
    wasi_capture_release(b);
    lvm_module_release(the_module);
}

/* }====== */

/* {====== the capture's own API */

Test(capture, bad_indices_and_empty_streams)
{
    wasi_capture *c = wasi_capture_new();
    cr_assert_not_null(c);
    size_t len = 7;
    cr_expect_null(wasi_capture_copy(c, 0, &len));
    cr_expect_eq(len, 7);
    cr_expect_not(wasi_capture_append(c, 0, "x", 1));
    wasi_ctx *ctx = wasi_ctx_new(0, NULL, 0, NULL);
    cr_assert_eq(wasi_ctx_capture(ctx, c), 0);
    expect_stream(c, 0, "");
    cr_expect_null(wasi_capture_copy(c, 1, &len));
    cr_expect_null(wasi_capture_copy(c, (size_t)-1, &len));
    cr_expect_not(wasi_capture_append(c, 1, "x", 1));
    cr_expect(wasi_capture_append(c, 0, "", 0));
    cr_expect(wasi_capture_append(c, 0, "a\0b", 3));   /* bytes, not strings */
    char *s = wasi_capture_copy(c, 0, &len);
    cr_assert_not_null(s);
    cr_expect_eq(len, 3);
    cr_expect_eq(memcmp(s, "a\0b", 4), 0);            /* and a NUL after them */
    free(s);
    /* NULL is ignored by retain and release */
    cr_expect_null(wasi_capture_retain(NULL));
    wasi_capture_release(NULL);
    wasi_ctx_free(ctx);
    wasi_capture_release(c);
}

/* Contexts hold references: the capture outlives its creator's release
 * while a context writes into it, and goes with the last one. */
Test(capture, references)
{
    wasi_capture *c = wasi_capture_new();
    wasi_ctx *ctx = wasi_ctx_new(0, NULL, 0, NULL);
    cr_assert(c && ctx);
    cr_assert_eq(wasi_ctx_capture(ctx, c), 0);
    wasi_ctx *kid = wasi_ctx_new_child(ctx);
    cr_assert_not_null(kid);
    cr_expect_eq(wasi_capture_retain(c), c);
    wasi_capture_release(c);
    wasi_capture_release(c);                         /* the creator's, gone */
    guest g = instantiate(kid);
    cr_expect_eq(say(&g, 1, "still here"), 0);
    wasi_ctx_free(ctx);
    cr_expect_eq(say(&g, 2, "!"), 0);
    guest_free(&g);
    wasi_ctx_free(kid);                              /* the last reference */
    lvm_module_release(the_module);
}

/* }====== */

/* {====== writers and readers at once */

#define ROUNDS 20000

typedef struct writer {
    guest *g;
    int result;
} writer;

static void *guest_writer(void *arg)
{
    writer *w = arg;
    w->result = call3(w->g, "write_n", 1, ROUNDS, 0);
    return NULL;
}

typedef struct noter {
    wasi_capture *c;
    bool ok;
} noter;

static void *runner_notes(void *arg)
{
    noter *n = arg;
    n->ok = true;
    for (int i = 0; i < ROUNDS; i++)
        n->ok &= wasi_capture_append(n->c, 0, "note\n", 5);
    return NULL;
}

/* A snapshot is a whole number of the writer's writes, never a torn one,
 * and never shorter than an earlier snapshot. */
static size_t check_snapshot(wasi_capture *c, size_t i, const char *unit, size_t unit_len,
                             size_t before)
{
    size_t len;
    char *s = wasi_capture_copy(c, i, &len);
    cr_assert_not_null(s);
    cr_assert_eq(len % unit_len, 0, "stream %zu: %zu bytes", i, len);
    cr_assert_geq(len, before, "stream %zu shrank", i);
    for (size_t at = 0; at < len; at += unit_len)
        cr_assert_eq(memcmp(s + at, unit, unit_len), 0, "stream %zu at %zu", i, at);
    free(s);
    return len;
}

Test(capture, copies_while_processes_write)
{
    wasi_capture *c = wasi_capture_new();
    wasi_ctx *parent = wasi_ctx_new(0, NULL, 0, NULL);
    cr_assert(c && parent);
    cr_assert_eq(wasi_ctx_capture(parent, c), 0);
    wasi_ctx *k1 = wasi_ctx_new_child(parent), *k2 = wasi_ctx_new_child(parent);
    cr_assert(k1 && k2);
    guest g1 = instantiate(k1), g2 = instantiate(k2);
    /* lower write_n's code here, before two threads call it at once */
    cr_assert_eq(call3(&g1, "write_n", 1, 1, 0), 0);
    cr_assert_eq(call3(&g2, "write_n", 1, 1, 0), 0);

    writer w1 = { &g1, -1 }, w2 = { &g2, -1 };
    noter n = { c, false };
    pthread_t t1, t2, t3;
    cr_assert_eq(pthread_create(&t1, NULL, guest_writer, &w1), 0);
    cr_assert_eq(pthread_create(&t2, NULL, guest_writer, &w2), 0);
    cr_assert_eq(pthread_create(&t3, NULL, runner_notes, &n), 0);
    size_t l0 = 0, l1 = 0, l2 = 0;
    for (int i = 0; i < 200; i++) {
        l0 = check_snapshot(c, 0, "note\n", 5, l0);
        l1 = check_snapshot(c, 1, "0123456789", 10, l1);
        l2 = check_snapshot(c, 2, "0123456789", 10, l2);
    }
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    pthread_join(t3, NULL);
    cr_expect_eq(w1.result, 0);
    cr_expect_eq(w2.result, 0);
    cr_expect(n.ok);
    cr_expect_eq(check_snapshot(c, 0, "note\n", 5, l0), (size_t)ROUNDS * 5);
    cr_expect_eq(check_snapshot(c, 1, "0123456789", 10, l1), (size_t)(ROUNDS + 1) * 10);
    cr_expect_eq(check_snapshot(c, 2, "0123456789", 10, l2), (size_t)(ROUNDS + 1) * 10);
    guest_free(&g1);
    guest_free(&g2);
    wasi_ctx_free(k1);
    wasi_ctx_free(k2);
    wasi_ctx_free(parent);
    wasi_capture_release(c);
    lvm_module_release(the_module);
}

/* }====== */
