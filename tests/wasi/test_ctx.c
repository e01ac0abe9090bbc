/*
 * test_ctx.c - the WASI context API in-process, without the command line:
 * a child's context shares the parent's arguments and preopens but has a
 * descriptor table of its own, and host functions called outside the
 * scheduler (lvm_invoke) use the context they were registered with.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "base.h"       /* LVM_EXTERN_FUNC */
#include "wasi.h"
#include "wasi_helpers.h"
#include "wat.h"

TestSuite(wasi_ctx, .init = wt_init, .fini = wt_fini, .timeout = 30);

/* close(fd) returns fd_close's errno; name_len(fd) fd_prestat_get's
 * name_len (or -errno); argc() args_sizes_get's count. */
static const char module_wat[] =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_close\" (func $close (param i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_prestat_get\" (func $prestat (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"args_sizes_get\" (func $sizes (param i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (func (export \"close\") (param i32) (result i32) (call $close (local.get 0)))\n"
    "  (func (export \"name_len\") (param i32) (result i32) (local i32)\n"
    "    (local.set 1 (call $prestat (local.get 0) (i32.const 16)))\n"
    "    (if (result i32) (local.get 1) (then (i32.sub (i32.const 0) (local.get 1)))\n"
    "      (else (i32.load (i32.const 20)))))\n"
    "  (func (export \"argc\") (result i32)\n"
    "    (drop (call $sizes (i32.const 0) (i32.const 4))) (i32.load (i32.const 0))))\n";

typedef struct guest {
    lvm_store *s;
    lvm_linker *l;
    lvm_thread *t;
    lvm_instance *inst;
} guest;

static guest instantiate(lvm_module *m, wasi_ctx *ctx)
{
    guest g = { lvm_store_new(), lvm_linker_new(), lvm_thread_new(NULL), NULL };
    cr_assert(g.s && g.l && g.t);
    cr_assert_eq(wasi_define(ctx, g.s, g.l), LVM_OK);
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(g.s, g.l, m, g.t, &g.inst, &d), LVM_OK, "%s", d.message);
    return g;
}

static int call(guest *g, const char *name, int arg)
{
    lvm_extern e;
    cr_assert(lvm_instance_export(g->inst, name, &e));
    lvm_val args[1] = { { .i32 = (uint32_t)arg } }, res[1];
    cr_assert_eq(lvm_invoke(g->t, e.u.func, args, res), LVM_OK);
    return (int)res[0].i32;
}

static void guest_free(guest *g)
{
    lvm_thread_free(g->t);
    lvm_linker_free(g->l);
    lvm_store_free(g->s);
}

Test(wasi_ctx, a_child_has_its_own_descriptors)
{
    wt_mkdir("d");
    const char *argv[] = { "prog", "a", "b" };
    wasi_ctx *parent = wasi_ctx_new(3, argv, 0, NULL);
    cr_assert_not_null(parent);
    cr_assert_eq(wasi_ctx_preopen_dir(parent, wt_path("d"), "/dir"), 0);
    cr_expect_eq(wasi_ctx_preopen_dir(parent, wt_path("missing"), "/x"), ENOENT);
    wasi_ctx *child = wasi_ctx_new_child(parent);
    cr_assert_not_null(child);

    lvm_module *m = load_wat(module_wat);
    guest p = instantiate(m, parent), c = instantiate(m, child);
    cr_expect_eq(call(&c, "argc", 0), 3);
    cr_expect_eq(call(&c, "name_len", 3), 4);           /* "/dir" */
    /* closing the parent's preopen leaves the child's */
    cr_expect_eq(call(&p, "close", 3), 0);
    cr_expect_eq(call(&p, "close", 3), 8);              /* EBADF */
    cr_expect_eq(call(&p, "name_len", 3), -8);
    cr_expect_eq(call(&c, "name_len", 3), 4);
    cr_expect_eq(call(&c, "close", 1), 0);
    cr_expect_eq(call(&p, "close", 1), 0);              /* its own stdout */
    cr_expect_eq(call(&c, "name_len", 4), -8);

    /* the child outlives its parent: the shared part is counted */
    guest_free(&p);
    wasi_ctx_free(parent);
    cr_expect_eq(call(&c, "argc", 0), 3);
    cr_expect_eq(call(&c, "close", 3), 0);
    guest_free(&c);
    wasi_ctx_free(child);
    lvm_module_release(m);
}

Test(wasi_ctx, tcplisten_addresses)
{
    wasi_ctx *ctx = wasi_ctx_new(0, NULL, 0, NULL);
    cr_assert_not_null(ctx);
    cr_expect_eq(wasi_ctx_listen_tcp(ctx, "nonsense"), EINVAL);
    cr_expect_eq(wasi_ctx_listen_tcp(ctx, "127.0.0.1:99999"), EINVAL);
    cr_expect_eq(wasi_ctx_listen_tcp(ctx, "localhost:80"), EINVAL);   /* numeric only */
    cr_expect_eq(wasi_ctx_listen_tcp(ctx, "127.0.0.1:0"), 0);
    int e6 = wasi_ctx_listen_tcp(ctx, "[::1]:0");      /* hosts without IPv6 say so */
    cr_expect(e6 == 0 || e6 == EADDRNOTAVAIL || e6 == EAFNOSUPPORT, "[::1]: %d", e6);
    wasi_ctx_free(ctx);
}
