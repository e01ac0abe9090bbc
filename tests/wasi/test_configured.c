/*
 * test_configured.c - the context of a process spawned from a lunatic
 * 0.14 config (wasi_ctx_configured), in-process: exactly the config's
 * arguments and environment, and its preopens opened through the parent's
 * own directories - equal to one, below one, relative below "." - and
 * refused when they lead outside (by "..", by a symlink, by naming a host
 * directory the parent does not hold), with rights never wider than the
 * parent's, and within the descriptor budgets.  The guest side is read
 * back through the host functions a guest would call (args_get,
 * fd_prestat_dir_name, path_open...).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base.h"       /* LVM_EXTERN_FUNC */
#include "wasi.h"
#include "wasi_helpers.h"
#include "wat.h"

TestSuite(configured, .init = wt_init, .fini = wt_fini, .timeout = 30);

/* WASI errnos the guest sees. */
enum { W_EBADF = 8, W_ENOENT = 44, W_ENOTCAPABLE = 76 };

/* args(): count @0, size @4, pointers @1024, strings @2048; envs() the
 * same @8, @12, @4096, @8192.  name(fd): the preopen's name @256 (its
 * length @20).  fdstat(fd): type @32, rights @40, inheriting @48.
 * narrow(fd): drop FD_READ (bit 1) from what fd may hand down.  open(fd,
 * len): path_open of the len bytes @100 for reading, following links.
 * close(fd): fd_close. */
static const char module_wat[] =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"args_sizes_get\" (func $asz (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"args_get\" (func $aget (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"environ_sizes_get\" (func $esz (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"environ_get\" (func $eget (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_prestat_get\" (func $prestat (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_prestat_dir_name\"\n"
    "    (func $dirname (param i32 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_fdstat_get\" (func $fdstat (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_fdstat_set_rights\"\n"
    "    (func $set_rights (param i32 i64 i64) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"path_open\"\n"
    "    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_close\" (func $close (param i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (func (export \"close\") (param i32) (result i32) (call $close (local.get 0)))\n"
    "  (func (export \"args\") (result i32) (local i32)\n"
    "    (local.set 0 (call $asz (i32.const 0) (i32.const 4)))\n"
    "    (if (local.get 0) (then (return (local.get 0))))\n"
    "    (call $aget (i32.const 1024) (i32.const 2048)))\n"
    "  (func (export \"envs\") (result i32) (local i32)\n"
    "    (local.set 0 (call $esz (i32.const 8) (i32.const 12)))\n"
    "    (if (local.get 0) (then (return (local.get 0))))\n"
    "    (call $eget (i32.const 4096) (i32.const 8192)))\n"
    "  (func (export \"name\") (param i32) (result i32) (local i32)\n"
    "    (local.set 1 (call $prestat (local.get 0) (i32.const 16)))\n"
    "    (if (local.get 1) (then (return (local.get 1))))\n"
    "    (call $dirname (local.get 0) (i32.const 256) (i32.load (i32.const 20))))\n"
    "  (func (export \"fdstat\") (param i32) (result i32) (call $fdstat (local.get 0) (i32.const 32)))\n"
    "  (func (export \"narrow\") (param i32) (result i32)\n"
    "    (drop (call $fdstat (local.get 0) (i32.const 32)))\n"
    "    (call $set_rights (local.get 0) (i64.load (i32.const 40))\n"
    "      (i64.and (i64.load (i32.const 48)) (i64.const -3))))\n"
    "  (func (export \"open\") (param i32 i32) (result i32)\n"
    "    (call $open (local.get 0) (i32.const 1) (i32.const 100) (local.get 1) (i32.const 0)\n"
    "      (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 64))))\n";

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

static int call2(guest *g, const char *name, int a, int b)
{
    lvm_extern e;
    cr_assert(lvm_instance_export(g->inst, name, &e));
    lvm_val args[2] = { { .i32 = (uint32_t)a }, { .i32 = (uint32_t)b } }, res[1];
    cr_assert_eq(lvm_invoke(g->t, e.u.func, args, res), LVM_OK);
    return (int)res[0].i32;
}

static int call(guest *g, const char *name, int a)
{
    return call2(g, name, a, 0);
}

static uint32_t load32(const guest *g, uint32_t at)
{
    uint32_t v;
    memcpy(&v, g->mem + at, 4);
    return v;
}

static uint64_t load64(const guest *g, uint32_t at)
{
    uint64_t v;
    memcpy(&v, g->mem + at, 8);
    return v;
}

/* path_open(fd, path) for reading: the WASI errno. */
static int open_in(guest *g, int fd, const char *path)
{
    memcpy(g->mem + 100, path, strlen(path));
    return call2(g, "open", fd, (int)strlen(path));
}

/* The guest name of preopen fd (asserted to be one). */
static const char *name_of(guest *g, int fd)
{
    cr_assert_eq(call(g, "name", fd), 0, "fd %d is no preopen", fd);
    static char name[256];
    uint32_t len = load32(g, 20);
    cr_assert_lt(len, sizeof name);
    memcpy(name, g->mem + 256, len);
    name[len] = '\0';
    return name;
}

static void guest_free(guest *g)
{
    lvm_thread_free(g->t);
    lvm_linker_free(g->l);
    lvm_store_free(g->s);
}

/* The strings args() or envs() left: count @count_at, then pointers at
 * ptrs each naming a NUL-terminated string; checked against want[]. */
static void expect_strings(const guest *g, uint32_t count_at, uint32_t size_at, uint32_t ptrs,
                           int n, const char *const want[])
{
    cr_assert_eq(load32(g, count_at), (uint32_t)n);
    uint32_t size = 0;
    for (int i = 0; i < n; i++) {
        uint32_t p = load32(g, ptrs + 4 * (uint32_t)i);
        cr_expect_str_eq((const char *)g->mem + p, want[i], "string %d", i);
        size += (uint32_t)strlen(want[i]) + 1;
    }
    cr_expect_eq(load32(g, size_at), size);
}

/* A parent whose preopens are the scratch directory a as "/a" (fd 3) and
 * d as "data" (fd 4): a holds f, sub/f and sub/deeper; d holds g and
 * sub/h; next to them, outside both, is b (with secret). */
static wasi_ctx *parent_ctx(void)
{
    wt_mkdir("a/sub/deeper");
    wt_mkdir("d/sub");
    wt_mkdir("b");
    wt_write("a/f", "a");
    wt_write("a/sub/f", "sub");
    wt_write("d/g", "g");
    wt_write("d/sub/h", "h");
    wt_write("b/secret", "s");
    const char *argv[] = { "parent", "p1" };
    const char *envp[] = { "PARENT=1" };
    wasi_ctx *ctx = wasi_ctx_new(2, argv, 1, envp);
    cr_assert_not_null(ctx);
    cr_assert_eq(wasi_ctx_preopen_dir(ctx, wt_path("a"), "/a"), 0);
    cr_assert_eq(wasi_ctx_preopen_dir(ctx, wt_path("d"), "data"), 0);
    return ctx;
}

/* wasi_ctx_configured with the given preopens and no arguments. */
static wasi_ctx *with_preopens(const wasi_ctx *parent, int n, const char *const paths[], int *err,
                               char *why, size_t why_cap)
{
    *err = -1;
    return wasi_ctx_configured(parent, 0, NULL, 0, NULL, n, paths, err, why, why_cap);
}

/* The one preopen `path` must be refused with errno `want`, and why must
 * name it; nothing the attempt opened may stay held. */
static void expect_refused(const wasi_ctx *parent, const char *path, int want)
{
    uint64_t held = wasi_fd_total();
    int err;
    char why[512];
    wasi_ctx *c = with_preopens(parent, 1, (const char *[]){ path }, &err, why, sizeof why);
    cr_expect_null(c, "'%s' was allowed", path);
    if (c) {
        wasi_ctx_free(c);
        return;
    }
    cr_expect_eq(err, want, "'%s': errno %d (%s), wanted %d (%s)", path, err, strerror(err), want,
                 strerror(want));
    cr_expect_neq(strstr(why, path), NULL, "why does not name '%s': %s", path, why);
    cr_expect_eq(wasi_fd_total(), held, "'%s' left descriptors held", path);
}

/* {====== arguments and environment */

Test(configured, arguments_and_environment_exactly_as_given)
{
    wasi_ctx *parent = parent_ctx();
    const char *argv[] = { "child", "a b", "" };
    const char *envp[] = { "K=V", "EMPTY=", "X=1=2" };
    int err = -1;
    char why[256];
    wasi_ctx *c = wasi_ctx_configured(parent, 3, argv, 3, envp, 0, NULL, &err, why, sizeof why);
    cr_assert_not_null(c, "%s", why);
    guest g = instantiate(c);
    cr_assert_eq(call(&g, "args", 0), 0);
    expect_strings(&g, 0, 4, 1024, 3, argv);
    cr_assert_eq(call(&g, "envs", 0), 0);
    expect_strings(&g, 8, 12, 4096, 3, envp);
    /* nothing of the parent's directories comes along unasked */
    cr_expect_eq(call(&g, "name", 3), W_EBADF);
    /* stdio is fresh and there */
    cr_expect_eq(call(&g, "fdstat", 1), 0);
    guest_free(&g);
    wasi_ctx_free(c);

    /* nothing at all: no argv[0] is made up */
    c = wasi_ctx_configured(parent, 0, NULL, 0, NULL, 0, NULL, &err, why, sizeof why);
    cr_assert_not_null(c);
    g = instantiate(c);
    cr_assert_eq(call(&g, "args", 0), 0);
    expect_strings(&g, 0, 4, 1024, 0, NULL);
    cr_assert_eq(call(&g, "envs", 0), 0);
    expect_strings(&g, 8, 12, 4096, 0, NULL);
    guest_free(&g);
    wasi_ctx_free(c);

    /* the parent is untouched, and outlives nothing it lent */
    g = instantiate(parent);
    cr_assert_eq(call(&g, "args", 0), 0);
    expect_strings(&g, 0, 4, 1024, 2, (const char *[]){ "parent", "p1" });
    guest_free(&g);
    wasi_ctx_free(parent);
    lvm_module_release(the_module);
}

Test(configured, the_network_grants_are_the_parents)
{
    wasi_ctx *parent = parent_ctx();
    char why[256];
    cr_assert_eq(wasi_caps_add_text(wasi_ctx_caps(parent), WASI_NET_CONNECT, "127.0.0.1:80", why,
                                    sizeof why), 0);
    int err;
    wasi_ctx *c = with_preopens(parent, 0, NULL, &err, why, sizeof why);
    cr_assert_not_null(c);
    const uint8_t lo[4] = { 127, 0, 0, 1 };
    cr_expect(wasi_caps_may(wasi_ctx_caps(c), WASI_NET_CONNECT, lo, 4, 80));
    cr_expect_not(wasi_caps_may(wasi_ctx_caps(c), WASI_NET_CONNECT, lo, 4, 81));
    cr_expect(wasi_caps_subset(wasi_ctx_caps(c), wasi_ctx_caps(parent)));
    cr_expect(wasi_caps_subset(wasi_ctx_caps(parent), wasi_ctx_caps(c)));
    wasi_ctx_free(c);
    wasi_ctx_free(parent);
}

/* }====== */

/* {====== preopens that are allowed */

Test(configured, a_parents_preopen_by_its_guest_name)
{
    wasi_ctx *parent = parent_ctx();
    int err;
    char why[256];
    /* in the order given, whatever the parent's order */
    wasi_ctx *c = with_preopens(parent, 3, (const char *[]){ "data", "/a", "/a/" }, &err, why,
                                sizeof why);
    cr_assert_not_null(c, "%s", why);
    guest g = instantiate(c);
    cr_expect_str_eq(name_of(&g, 3), "data");
    cr_expect_str_eq(name_of(&g, 4), "/a");
    cr_expect_str_eq(name_of(&g, 5), "/a/");
    cr_expect_eq(call(&g, "name", 6), W_EBADF);
    cr_expect_eq(open_in(&g, 3, "g"), 0);
    cr_expect_eq(open_in(&g, 3, "f"), W_ENOENT);         /* d is not a */
    cr_expect_eq(open_in(&g, 4, "f"), 0);
    cr_expect_eq(open_in(&g, 5, "sub/f"), 0);
    cr_expect_eq(open_in(&g, 4, "../b/secret"), W_ENOTCAPABLE);
    guest_free(&g);

    /* the same rights as the parent's: a directory equal to the parent's
     * is the parent's, no more and no less */
    guest p = instantiate(parent);
    cr_assert_eq(call(&p, "fdstat", 3), 0);
    uint64_t prights = load64(&p, 40), pinherit = load64(&p, 48);
    g = instantiate(c);
    cr_assert_eq(call(&g, "fdstat", 4), 0);
    cr_expect_eq(g.mem[32], 3);                           /* DIRECTORY */
    cr_expect_eq(load64(&g, 40), prights);
    cr_expect_eq(load64(&g, 48), pinherit);
    guest_free(&g);
    guest_free(&p);
    wasi_ctx_free(c);
    wasi_ctx_free(parent);
    lvm_module_release(the_module);
}

Test(configured, a_directory_below_a_preopen)
{
    wasi_ctx *parent = parent_ctx();
    int err;
    char why[256];
    wasi_ctx *c = with_preopens(parent, 4,
                                (const char *[]){ "/a/sub", "data/sub", "/a/sub/deeper/..",
                                                  "/a/./sub//deeper/" },
                                &err, why, sizeof why);
    cr_assert_not_null(c, "%s", why);
    guest g = instantiate(c);
    cr_expect_str_eq(name_of(&g, 3), "/a/sub");
    cr_expect_str_eq(name_of(&g, 4), "data/sub");
    cr_expect_str_eq(name_of(&g, 5), "/a/sub/deeper/..");
    cr_expect_str_eq(name_of(&g, 6), "/a/./sub//deeper/");
    cr_expect_eq(open_in(&g, 3, "f"), 0);                  /* a/sub/f */
    cr_expect_eq(open_in(&g, 4, "h"), 0);                  /* d/sub/h */
    cr_expect_eq(open_in(&g, 5, "f"), 0);                  /* a/sub again */
    cr_expect_eq(open_in(&g, 6, "f"), W_ENOENT);           /* a/sub/deeper is empty */
    /* the new preopen is the sandbox now: its parent is out of reach,
     * although the spawning process could see it */
    cr_expect_eq(open_in(&g, 3, "../f"), W_ENOTCAPABLE);
    cr_expect_eq(open_in(&g, 4, "../g"), W_ENOTCAPABLE);
    guest_free(&g);
    wasi_ctx_free(c);
    wasi_ctx_free(parent);
    lvm_module_release(the_module);
}

Test(configured, relative_paths_below_dot)
{
    wt_mkdir("here/sub");
    wt_mkdir("elsewhere");
    wt_write("here/sub/f", "x");
    wt_write("here/top", "x");
    wasi_ctx *parent = wasi_ctx_new(0, NULL, 0, NULL);
    cr_assert_not_null(parent);
    cr_assert_eq(wasi_ctx_preopen_dir(parent, wt_path("here"), "."), 0);
    cr_assert_eq(wasi_ctx_preopen_dir(parent, wt_path("elsewhere"), "/abs"), 0);
    int err;
    char why[256];
    wasi_ctx *c = with_preopens(parent, 3, (const char *[]){ "sub", ".", "./sub" }, &err, why,
                                sizeof why);
    cr_assert_not_null(c, "%s", why);
    guest g = instantiate(c);
    cr_expect_str_eq(name_of(&g, 3), "sub");
    cr_expect_str_eq(name_of(&g, 4), ".");
    cr_expect_str_eq(name_of(&g, 5), "./sub");
    cr_expect_eq(open_in(&g, 3, "f"), 0);
    cr_expect_eq(open_in(&g, 4, "top"), 0);
    cr_expect_eq(open_in(&g, 5, "f"), 0);
    guest_free(&g);
    wasi_ctx_free(c);
    /* "." takes relative paths only: an absolute one must match "/abs" */
    expect_refused(parent, "/sub", EPERM);
    expect_refused(parent, "..", EPERM);
    expect_refused(parent, "sub/../..", EPERM);
    wasi_ctx_free(parent);
    lvm_module_release(the_module);
}

Test(configured, a_symlink_that_stays_inside_is_followed)
{
    wasi_ctx *parent = parent_ctx();
    cr_assert_eq(symlink("sub", wt_path("a/link")), 0);
    cr_assert_eq(symlink("../sub/deeper", wt_path("a/sub/up")), 0);
    int err;
    char why[256];
    wasi_ctx *c = with_preopens(parent, 2, (const char *[]){ "/a/link", "/a/sub/up" }, &err, why,
                                sizeof why);
    cr_assert_not_null(c, "%s", why);
    guest g = instantiate(c);
    cr_expect_str_eq(name_of(&g, 3), "/a/link");
    cr_expect_eq(open_in(&g, 3, "f"), 0);                  /* a/sub/f */
    cr_expect_eq(open_in(&g, 4, "f"), W_ENOENT);           /* a/sub/deeper */
    guest_free(&g);
    wasi_ctx_free(c);
    wasi_ctx_free(parent);
    lvm_module_release(the_module);
}

/* A parent whose preopen is "/" may hand down "/etc" - but its "/", which
 * is not the host's. */
Test(configured, a_root_preopen_is_the_parents_root_not_the_hosts)
{
    wt_mkdir("root");
    wasi_ctx *parent = wasi_ctx_new(0, NULL, 0, NULL);
    cr_assert_not_null(parent);
    cr_assert_eq(wasi_ctx_preopen_dir(parent, wt_path("root"), "/"), 0);
    expect_refused(parent, "/etc", ENOENT);           /* the host has one */
    wt_mkdir("root/etc");
    wt_write("root/etc/mine", "x");
    int err;
    char why[256];
    wasi_ctx *c = with_preopens(parent, 2, (const char *[]){ "/etc", "/" }, &err, why, sizeof why);
    cr_assert_not_null(c, "%s", why);
    guest g = instantiate(c);
    cr_expect_str_eq(name_of(&g, 3), "/etc");
    cr_expect_eq(open_in(&g, 3, "mine"), 0);
    cr_expect_eq(open_in(&g, 3, "passwd"), W_ENOENT);
    cr_expect_eq(open_in(&g, 4, "etc/mine"), 0);
    guest_free(&g);
    wasi_ctx_free(c);
    /* relative paths are not below "/" */
    expect_refused(parent, "etc", EPERM);
    wasi_ctx_free(parent);
    lvm_module_release(the_module);
}

/* }====== */

/* {====== preopens that are refused */

Test(configured, dotdot_out_of_the_parents_directory_is_refused)
{
    wasi_ctx *parent = parent_ctx();
    expect_refused(parent, "/a/../b", EPERM);
    expect_refused(parent, "/a/..", EPERM);
    expect_refused(parent, "/a/sub/../..", EPERM);
    expect_refused(parent, "/a/sub/../../b", EPERM);
    expect_refused(parent, "data/../b", EPERM);
    expect_refused(parent, "data/sub/../../d", EPERM);   /* out and back in is out */
    wasi_ctx_free(parent);
}

Test(configured, a_symlink_out_of_the_parents_directory_is_refused)
{
    wasi_ctx *parent = parent_ctx();
    cr_assert_eq(symlink("../b", wt_path("a/rel")), 0);
    cr_assert_eq(symlink(wt_path("b"), wt_path("a/abs")), 0);
    cr_assert_eq(symlink("../../b", wt_path("a/sub/mid")), 0);
    expect_refused(parent, "/a/rel", EPERM);
    expect_refused(parent, "/a/abs", EPERM);
    expect_refused(parent, "/a/sub/mid", EPERM);
    expect_refused(parent, "/a/rel/.", EPERM);
    expect_refused(parent, "/a/abs/", EPERM);
    wasi_ctx_free(parent);
}

Test(configured, a_host_directory_the_parent_does_not_hold_is_refused)
{
    wasi_ctx *parent = parent_ctx();
    cr_assert_eq(access("/etc", F_OK), 0);              /* it does exist */
    expect_refused(parent, "/etc", EPERM);
    expect_refused(parent, "/", EPERM);
    expect_refused(parent, wt_path("b"), EPERM);         /* b's host path */
    expect_refused(parent, wt_path("a"), EPERM);         /* a's, not its name */
    expect_refused(parent, "/ab", EPERM);                /* "/a" is no prefix of it */
    expect_refused(parent, "a", EPERM);                  /* no "." to be relative to */
    expect_refused(parent, "datasub", EPERM);
    expect_refused(parent, "", EPERM);
    wasi_ctx_free(parent);
}

Test(configured, not_a_directory_and_missing)
{
    wasi_ctx *parent = parent_ctx();
    expect_refused(parent, "/a/f", ENOTDIR);
    expect_refused(parent, "data/g", ENOTDIR);
    expect_refused(parent, "/a/f/x", ENOTDIR);
    expect_refused(parent, "/a/nothing", ENOENT);
    expect_refused(parent, "/a/nothing/sub", ENOENT);
    cr_assert_eq(symlink("nothing", wt_path("a/dangling")), 0);
    expect_refused(parent, "/a/dangling", ENOENT);
    cr_assert_eq(symlink("f", wt_path("a/tofile")), 0);
    expect_refused(parent, "/a/tofile", ENOTDIR);
    wasi_ctx_free(parent);
}

Test(configured, a_parent_without_preopens_can_hand_down_none)
{
    wt_mkdir("a");
    wasi_ctx *parent = wasi_ctx_new(0, NULL, 0, NULL);
    cr_assert_not_null(parent);
    const char *paths[] = { ".", "/", "a", "/a", wt_path("a"), "/etc", "/tmp" };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        expect_refused(parent, paths[i], EPERM);
    /* nor does a child of one, from its parent's preopens */
    wasi_ctx *p2 = wasi_ctx_new(0, NULL, 0, NULL);
    cr_assert_eq(wasi_ctx_preopen_dir(p2, wt_path("a"), "/a"), 0);
    wasi_grant least = { .preopens = false, .net = NULL };
    wasi_ctx *child = wasi_ctx_child(p2, &least);
    cr_assert_not_null(child);
    expect_refused(child, "/a", EPERM);
    wasi_ctx_free(child);
    wasi_ctx_free(p2);
    wasi_ctx_free(parent);
}

/* A preopen the parent closed is no longer one it holds. */
Test(configured, a_closed_preopen_is_not_held)
{
    wasi_ctx *parent = parent_ctx();
    guest p = instantiate(parent);
    cr_assert_eq(call(&p, "close", 3), 0);                 /* "/a" */
    guest_free(&p);
    expect_refused(parent, "/a", EPERM);
    expect_refused(parent, "/a/sub", EPERM);
    int err;
    char why[256];
    wasi_ctx *c = with_preopens(parent, 1, (const char *[]){ "data" }, &err, why, sizeof why);
    cr_expect_not_null(c, "%s", why);
    wasi_ctx_free(c);
    wasi_ctx_free(parent);
    lvm_module_release(the_module);
}

/* }====== */

/* {====== rights and budgets */

Test(configured, rights_are_never_wider_than_the_parents)
{
    wasi_ctx *parent = parent_ctx();
    guest p = instantiate(parent);
    cr_assert_eq(open_in(&p, 3, "f"), 0);
    cr_assert_eq(call(&p, "narrow", 3), 0);                /* /a: no reading below it */
    cr_assert_eq(open_in(&p, 3, "f"), W_ENOTCAPABLE);
    cr_assert_eq(call(&p, "fdstat", 3), 0);
    uint64_t prights = load64(&p, 40), pinherit = load64(&p, 48);
    guest_free(&p);

    int err;
    char why[256];
    wasi_ctx *c = with_preopens(parent, 3, (const char *[]){ "/a", "/a/sub", "data" }, &err, why,
                                sizeof why);
    cr_assert_not_null(c, "%s", why);
    guest g = instantiate(c);
    cr_expect_eq(open_in(&g, 3, "f"), W_ENOTCAPABLE);
    cr_expect_eq(open_in(&g, 4, "f"), W_ENOTCAPABLE);      /* below it too */
    cr_expect_eq(open_in(&g, 5, "g"), 0);                  /* data untouched */
    for (int fd = 3; fd <= 4; fd++) {
        cr_assert_eq(call(&g, "fdstat", fd), 0);
        uint64_t r = load64(&g, 40), inh = load64(&g, 48);
        cr_expect_eq(r & ~prights, 0, "fd %d: rights %#llx beyond the parent's %#llx", fd,
                     (unsigned long long)r, (unsigned long long)prights);
        cr_expect_eq(inh & ~pinherit, 0, "fd %d: inheriting %#llx beyond %#llx", fd,
                     (unsigned long long)inh, (unsigned long long)pinherit);
    }
    /* below /a: only what the parent could have opened there */
    cr_assert_eq(call(&g, "fdstat", 4), 0);
    cr_expect_eq(load64(&g, 40) & ~pinherit, 0);
    guest_free(&g);

    /* and the grandchild, from the child's narrowed directory */
    wasi_ctx *gc = with_preopens(c, 1, (const char *[]){ "/a/sub" }, &err, why, sizeof why);
    cr_assert_not_null(gc, "%s", why);
    guest gg = instantiate(gc);
    cr_expect_eq(open_in(&gg, 3, "f"), W_ENOTCAPABLE);
    guest_free(&gg);
    wasi_ctx_free(gc);
    wasi_ctx_free(c);
    wasi_ctx_free(parent);
    lvm_module_release(the_module);
}

Test(configured, the_per_process_descriptor_budget)
{
    wasi_ctx *parent = parent_ctx();
    wasi_set_fd_limits(2, 0);
    int err;
    char why[256];
    wasi_ctx *c = with_preopens(parent, 2, (const char *[]){ "/a", "data" }, &err, why, sizeof why);
    cr_expect_not_null(c, "two fit: %s", why);
    wasi_ctx_free(c);
    uint64_t held = wasi_fd_total();
    c = with_preopens(parent, 3, (const char *[]){ "/a", "data", "/a/sub" }, &err, why, sizeof why);
    cr_expect_null(c);
    cr_expect_eq(err, EMFILE);
    cr_expect_neq(strstr(why, "/a/sub"), NULL, "%s", why);
    cr_expect_eq(wasi_fd_total(), held);
    wasi_ctx_free(c);
    wasi_set_fd_limits(0, 0);
    wasi_ctx_free(parent);
}

Test(configured, the_total_descriptor_budget)
{
    wasi_ctx *parent = parent_ctx();
    uint64_t held = wasi_fd_total();
    wasi_set_fd_limits(0, held + 1);
    int err;
    char why[256];
    wasi_ctx *c = with_preopens(parent, 2, (const char *[]){ "data", "/a" }, &err, why, sizeof why);
    cr_expect_null(c);
    cr_expect_eq(err, ENFILE);
    cr_expect_neq(strstr(why, "/a"), NULL, "%s", why);
    cr_expect_eq(wasi_fd_total(), held);
    wasi_ctx_free(c);
    c = with_preopens(parent, 1, (const char *[]){ "data" }, &err, why, sizeof why);
    cr_expect_not_null(c, "one fits: %s", why);
    cr_expect_eq(wasi_fd_total(), held + 1);
    wasi_ctx_free(c);
    cr_expect_eq(wasi_fd_total(), held);
    wasi_set_fd_limits(0, 0);
    wasi_ctx_free(parent);
}

/* }====== */
