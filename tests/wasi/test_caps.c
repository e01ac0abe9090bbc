/*
 * test_caps.c - the capability model (wasi/caps.c) in-process: rule
 * parsing and matching (CIDR edges, port ranges, IPv6, IPv4-mapped
 * addresses), narrowing that never widens, and what a child's context is
 * given: the parent's descriptors as they are at the spawn (closed ones
 * absent, narrowed rights narrow), and for the spawn_from_module grant
 * no descriptors and no network at all.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "base.h"       /* LVM_EXTERN_FUNC */
#include "wasi.h"
#include "wasi_helpers.h"
#include "wat.h"

TestSuite(caps, .init = wt_init, .fini = wt_fini, .timeout = 30);

/* {====== rules */

static wasi_net_rule rule(const char *text, bool names)
{
    wasi_net_rule r;
    char name[64], why[256];
    const char *bad = wasi_net_rule_parse(text, names, &r, name, sizeof name, why, sizeof why);
    cr_assert_null(bad, "'%s': %s", text, bad);
    cr_assert_str_eq(name, "", "'%s' parsed as a name", text);
    return r;
}

/* A set granting the rules (connect rules) given as text. */
static wasi_caps *set_of(const char *const texts[], int n, wasi_net_kind kind)
{
    wasi_caps *c = wasi_caps_new();
    cr_assert_not_null(c);
    for (int i = 0; i < n; i++) {
        char why[256];
        cr_assert_eq(wasi_caps_add_text(c, kind, texts[i], why, sizeof why), 0, "%s: %s",
                     texts[i], why);
    }
    return c;
}

static bool may4(const wasi_caps *c, wasi_net_kind k, uint8_t a, uint8_t b, uint8_t cc, uint8_t d,
                 uint16_t port)
{
    const uint8_t addr[4] = { a, b, cc, d };
    return wasi_caps_may(c, k, addr, 4, port);
}

static bool may6(const wasi_caps *c, wasi_net_kind k, const char *text, uint16_t port)
{
    uint8_t addr[16];
    cr_assert_eq(inet_pton(AF_INET6, text, addr), 1, "%s", text);
    return wasi_caps_may(c, k, addr, 16, port);
}

Test(caps, nothing_is_granted_by_default)
{
    wasi_caps *c = wasi_caps_new();
    cr_assert_not_null(c);
    cr_expect_not(may4(c, WASI_NET_CONNECT, 127, 0, 0, 1, 80));
    cr_expect_not(may4(c, WASI_NET_LISTEN, 127, 0, 0, 1, 0));
    cr_expect_not(may6(c, WASI_NET_CONNECT, "::1", 80));
    cr_expect_not(wasi_caps_may_resolve(c));
    cr_expect_not(wasi_caps_may_resolve(NULL));
    cr_expect_not(may4(NULL, WASI_NET_CONNECT, 127, 0, 0, 1, 80));
    wasi_caps_release(c);
}

Test(caps, one_address_one_port)
{
    wasi_caps *c = set_of((const char *[]){ "127.0.0.1:8080" }, 1, WASI_NET_CONNECT);
    cr_expect(may4(c, WASI_NET_CONNECT, 127, 0, 0, 1, 8080));
    cr_expect_not(may4(c, WASI_NET_CONNECT, 127, 0, 0, 1, 8081));
    cr_expect_not(may4(c, WASI_NET_CONNECT, 127, 0, 0, 1, 8079));
    cr_expect_not(may4(c, WASI_NET_CONNECT, 127, 0, 0, 2, 8080));
    /* a connect rule is no listen rule, and grants no DNS */
    cr_expect_not(may4(c, WASI_NET_LISTEN, 127, 0, 0, 1, 8080));
    cr_expect_not(wasi_caps_may_resolve(c));
    /* the same address as IPv4-mapped IPv6 meets the same rule */
    cr_expect(may6(c, WASI_NET_CONNECT, "::ffff:127.0.0.1", 8080));
    cr_expect_not(may6(c, WASI_NET_CONNECT, "::ffff:127.0.0.2", 8080));
    /* but not an IPv4-compatible or unrelated IPv6 address */
    cr_expect_not(may6(c, WASI_NET_CONNECT, "::127.0.0.1", 8080));
    cr_expect_not(may6(c, WASI_NET_CONNECT, "::1", 8080));
    /* other address lengths are never granted */
    const uint8_t five[5] = { 127, 0, 0, 1, 0 };
    cr_expect_not(wasi_caps_may(c, WASI_NET_CONNECT, five, 5, 8080));
    wasi_caps_release(c);
}

Test(caps, port_ranges_and_any_port)
{
    wasi_caps *c = set_of((const char *[]){ "10.0.0.1:1000-2000", "10.0.0.2:*", "10.0.0.3:0" }, 3,
                          WASI_NET_CONNECT);
    cr_expect_not(may4(c, WASI_NET_CONNECT, 10, 0, 0, 1, 999));
    cr_expect(may4(c, WASI_NET_CONNECT, 10, 0, 0, 1, 1000));
    cr_expect(may4(c, WASI_NET_CONNECT, 10, 0, 0, 1, 1500));
    cr_expect(may4(c, WASI_NET_CONNECT, 10, 0, 0, 1, 2000));
    cr_expect_not(may4(c, WASI_NET_CONNECT, 10, 0, 0, 1, 2001));
    cr_expect(may4(c, WASI_NET_CONNECT, 10, 0, 0, 2, 0));
    cr_expect(may4(c, WASI_NET_CONNECT, 10, 0, 0, 2, 65535));
    cr_expect(may4(c, WASI_NET_CONNECT, 10, 0, 0, 3, 0));
    cr_expect_not(may4(c, WASI_NET_CONNECT, 10, 0, 0, 3, 1));
    wasi_caps_release(c);
}

Test(caps, ipv4_prefixes_at_their_edges)
{
    wasi_caps *c = set_of((const char *[]){ "192.168.4.0/22:80", "10.1.2.3/32:80", "0.0.0.0/0:1" },
                          3, WASI_NET_CONNECT);
    cr_expect(may4(c, WASI_NET_CONNECT, 192, 168, 4, 0, 80));       /* first */
    cr_expect(may4(c, WASI_NET_CONNECT, 192, 168, 7, 255, 80));     /* last */
    cr_expect_not(may4(c, WASI_NET_CONNECT, 192, 168, 3, 255, 80)); /* one below */
    cr_expect_not(may4(c, WASI_NET_CONNECT, 192, 168, 8, 0, 80));   /* one above */
    cr_expect(may4(c, WASI_NET_CONNECT, 10, 1, 2, 3, 80));
    cr_expect_not(may4(c, WASI_NET_CONNECT, 10, 1, 2, 2, 80));
    /* /0 of IPv4 is every IPv4 address, and no IPv6 one */
    cr_expect(may4(c, WASI_NET_CONNECT, 0, 0, 0, 0, 1));
    cr_expect(may4(c, WASI_NET_CONNECT, 255, 255, 255, 255, 1));
    cr_expect(may6(c, WASI_NET_CONNECT, "::ffff:8.8.8.8", 1));
    cr_expect_not(may6(c, WASI_NET_CONNECT, "2001:db8::1", 1));
    wasi_caps_release(c);
    /* host bits below the prefix do not matter */
    wasi_caps *d = set_of((const char *[]){ "192.168.5.77/22:80" }, 1, WASI_NET_CONNECT);
    cr_expect(may4(d, WASI_NET_CONNECT, 192, 168, 4, 1, 80));
    wasi_caps_release(d);
}

Test(caps, ipv6_prefixes_and_star)
{
    wasi_caps *c = set_of((const char *[]){ "[fd00::]/8:443", "[2001:db8::1]:22", "[::1]/128:*" },
                          3, WASI_NET_CONNECT);
    cr_expect(may6(c, WASI_NET_CONNECT, "fd00::", 443));
    cr_expect(may6(c, WASI_NET_CONNECT, "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 443));
    cr_expect_not(may6(c, WASI_NET_CONNECT, "fe00::", 443));
    cr_expect_not(may6(c, WASI_NET_CONNECT, "fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 443));
    cr_expect(may6(c, WASI_NET_CONNECT, "2001:db8::1", 22));
    cr_expect_not(may6(c, WASI_NET_CONNECT, "2001:db8::2", 22));
    cr_expect(may6(c, WASI_NET_CONNECT, "::1", 7));
    wasi_caps_release(c);
    /* `*` is every address, IPv4 and IPv6; [::]/0 too */
    wasi_caps *all = set_of((const char *[]){ "*:53" }, 1, WASI_NET_CONNECT);
    cr_expect(may4(all, WASI_NET_CONNECT, 1, 2, 3, 4, 53));
    cr_expect(may6(all, WASI_NET_CONNECT, "2001:db8::1", 53));
    cr_expect_not(may6(all, WASI_NET_CONNECT, "2001:db8::1", 54));
    wasi_caps_release(all);
    wasi_caps *zero = set_of((const char *[]){ "[::]/0:53" }, 1, WASI_NET_CONNECT);
    cr_expect(may4(zero, WASI_NET_CONNECT, 1, 2, 3, 4, 53));
    wasi_caps_release(zero);
    /* an IPv4 rule written as mapped IPv6 is the IPv4 rule */
    wasi_caps *mapped = set_of((const char *[]){ "[::ffff:10.0.0.0]/104:1" }, 1, WASI_NET_CONNECT);
    cr_expect(may4(mapped, WASI_NET_CONNECT, 10, 9, 8, 7, 1));
    cr_expect_not(may4(mapped, WASI_NET_CONNECT, 11, 0, 0, 0, 1));
    wasi_caps_release(mapped);
}

Test(caps, host_names_grant_the_addresses_they_resolve_to_at_start)
{
    /* localhost is in every /etc/hosts: 127.0.0.1, and ::1 on most */
    wasi_caps *c = set_of((const char *[]){ "localhost:7000" }, 1, WASI_NET_CONNECT);
    cr_expect(may4(c, WASI_NET_CONNECT, 127, 0, 0, 1, 7000));
    cr_expect_not(may4(c, WASI_NET_CONNECT, 127, 0, 0, 1, 7001));
    cr_expect_not(may4(c, WASI_NET_CONNECT, 127, 0, 0, 2, 7000));
    cr_expect_not(wasi_caps_may_resolve(c));     /* a rule is not --allow-dns */
    char why[256];
    cr_expect_eq(wasi_caps_add_text(c, WASI_NET_CONNECT, "nonexistent.invalid:1", why, sizeof why),
                 ENOENT);
    cr_expect(strstr(why, "cannot resolve 'nonexistent.invalid'"), "%s", why);
    /* names are for connect rules only: a bind takes an address */
    cr_expect_eq(wasi_caps_add_text(c, WASI_NET_LISTEN, "localhost:7000", why, sizeof why), EINVAL);
    cr_expect_str_eq(why, "ADDR 'localhost' is not an IPv4 address, an [IPv6] address or *");
    wasi_caps_release(c);
}

Test(caps, bad_rules_say_why)
{
    static const struct { const char *text, *why; } bad[] = {
        { "127.0.0.1", "no :PORT" },
        { ":80", "empty ADDR" },
        { "127.0.0.1:", "PORT '' is not a port from 0 to 65535, LO-HI or *" },
        { "127.0.0.1:65536", "PORT '65536' is not a port from 0 to 65535, LO-HI or *" },
        { "127.0.0.1:20-10", "PORT '20-10' is not a port from 0 to 65535, LO-HI or *" },
        { "127.0.0.1:1-", "PORT '1-' is not a port from 0 to 65535, LO-HI or *" },
        { "127.0.0.1:-1", "PORT '-1' is not a port from 0 to 65535, LO-HI or *" },
        { "127.0.0.1:http", "PORT 'http' is not a port from 0 to 65535, LO-HI or *" },
        { "127.0.0.1/33:80", "BITS '33' is more than an IPv4 address has (32)" },
        { "127.0.0.1/:80", "BITS '' is not a prefix length" },
        { "127.0.0.1/x:80", "BITS 'x' is not a prefix length" },
        { "[::1]/129:80", "BITS '129' is not a prefix length" },
        { "[::1:80", "ADDR '[::1' is not an [IPv6] address" },
        { "[nope]:80", "ADDR '[nope]' is not an [IPv6] address" },
        { "*/8:80", "* takes no /BITS" },
        { "exa mple.com:80", "ADDR 'exa mple.com' is not an IPv4 address, an [IPv6] address, a host name or *" },
        { "-x.com:80", "ADDR '-x.com' is not an IPv4 address, an [IPv6] address, a host name or *" },
        { "256.0.0.1:80", "ADDR '256.0.0.1' is not an IPv4 address, an [IPv6] address, a host name or *" },
        { "example.com/8:80", "ADDR 'example.com' is not an IPv4 address, an [IPv6] address, a host name or *" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wasi_net_rule r;
        char name[64], why[256];
        const char *got = wasi_net_rule_parse(bad[i].text, true, &r, name, sizeof name, why, sizeof why);
        cr_expect_not_null(got, "'%s' was accepted", bad[i].text);
        if (got)
            cr_expect_str_eq(got, bad[i].why, "'%s'", bad[i].text);
    }
    wasi_net_rule r;
    char name[64], why[256];
    cr_expect_null(wasi_net_rule_parse("example.com:443", true, &r, name, sizeof name, why, sizeof why));
    cr_expect_str_eq(name, "example.com");
    wasi_net_rule e = rule("1.2.3.4/24:1-2", false);
    cr_expect_eq(e.prefix, 96 + 24);
    cr_expect_eq(e.port_lo, 1);
    cr_expect_eq(e.port_hi, 2);
}

/* }====== */

/* {====== narrowing */

Test(caps, narrowing_is_the_intersection)
{
    wasi_caps *parent = set_of((const char *[]){ "10.0.0.0/8:1000-2000", "[::1]:*" }, 2,
                               WASI_NET_CONNECT);
    wasi_caps_allow_dns(parent);
    /* asks for more (a wider prefix, a wider range, another address) */
    wasi_caps *want = set_of((const char *[]){ "10.1.0.0/16:1500-3000", "0.0.0.0/0:1999-2001",
                                               "192.168.0.1:1500" }, 3, WASI_NET_CONNECT);
    wasi_caps *child = wasi_caps_narrow(parent, want);
    cr_assert_not_null(child);
    cr_expect(wasi_caps_subset(child, parent));
    cr_expect(wasi_caps_subset(child, want));
    cr_expect_not(wasi_caps_subset(parent, child));
    cr_expect(may4(child, WASI_NET_CONNECT, 10, 1, 2, 3, 1500));
    cr_expect(may4(child, WASI_NET_CONNECT, 10, 1, 2, 3, 2000));
    cr_expect_not(may4(child, WASI_NET_CONNECT, 10, 1, 2, 3, 2001));   /* past the parent's */
    cr_expect_not(may4(child, WASI_NET_CONNECT, 10, 1, 2, 3, 1499));   /* below the child's */
    cr_expect(may4(child, WASI_NET_CONNECT, 10, 2, 0, 0, 1999));       /* from the /0 rule */
    cr_expect_not(may4(child, WASI_NET_CONNECT, 10, 2, 0, 0, 1500));
    cr_expect_not(may4(child, WASI_NET_CONNECT, 192, 168, 0, 1, 1500)); /* the parent has none */
    cr_expect_not(may6(child, WASI_NET_CONNECT, "::1", 1));             /* not asked for */
    cr_expect_not(wasi_caps_may_resolve(child));                         /* not asked for */
    wasi_caps_release(child);

    /* asking for everything gives exactly the parent's */
    wasi_caps *all = set_of((const char *[]){ "*:*" }, 1, WASI_NET_CONNECT);
    wasi_caps_allow_dns(all);
    wasi_caps *same = wasi_caps_narrow(parent, all);
    cr_expect(wasi_caps_subset(same, parent) && wasi_caps_subset(parent, same));
    cr_expect(wasi_caps_may_resolve(same));
    /* a child of a narrowed child never gets back what was dropped */
    wasi_caps *mid = wasi_caps_narrow(same, want);
    wasi_caps *grand = wasi_caps_narrow(mid, all);
    cr_expect_not(may6(grand, WASI_NET_CONNECT, "::1", 1));
    cr_expect_not(wasi_caps_may_resolve(grand));
    /* nothing wanted, nothing given */
    wasi_caps *none = wasi_caps_narrow(parent, NULL), *empty = wasi_caps_new();
    cr_expect(wasi_caps_subset(none, empty));
    cr_expect_not(may6(none, WASI_NET_CONNECT, "::1", 1));
    wasi_caps_release(none);
    wasi_caps_release(empty);
    wasi_caps_release(mid);
    wasi_caps_release(grand);
    wasi_caps_release(same);
    wasi_caps_release(all);
    wasi_caps_release(want);
    wasi_caps_release(parent);
}

Test(caps, listen_and_connect_rules_narrow_separately)
{
    wasi_caps *parent = set_of((const char *[]){ "127.0.0.1:8000-8999" }, 1, WASI_NET_LISTEN);
    wasi_caps *want = set_of((const char *[]){ "127.0.0.1:8080" }, 1, WASI_NET_CONNECT);
    char why[64];
    cr_assert_eq(wasi_caps_add_text(want, WASI_NET_LISTEN, "127.0.0.0/8:0-8080", why, sizeof why), 0);
    wasi_caps *child = wasi_caps_narrow(parent, want);
    cr_expect_not(may4(child, WASI_NET_CONNECT, 127, 0, 0, 1, 8080));
    cr_expect(may4(child, WASI_NET_LISTEN, 127, 0, 0, 1, 8080));
    cr_expect(may4(child, WASI_NET_LISTEN, 127, 0, 0, 1, 8000));
    cr_expect_not(may4(child, WASI_NET_LISTEN, 127, 0, 0, 1, 8081));
    cr_expect_not(may4(child, WASI_NET_LISTEN, 127, 0, 0, 2, 8080));
    cr_expect(wasi_caps_subset(child, parent));
    wasi_caps_release(child);
    wasi_caps_release(want);
    wasi_caps_release(parent);
}

/* }====== */

/* {====== children's descriptors */

/* close(fd) -> errno; prestat(fd) -> errno of fd_prestat_get;
 * narrow(fd) drops FD_READ (bit 1) from what fd may hand down; open(fd)
 * -> errno of path_open("f", read) below fd. */
static const char module_wat[] =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_close\" (func $close (param i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_prestat_get\" (func $prestat (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_fdstat_get\" (func $fdstat (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_fdstat_set_rights\"\n"
    "    (func $set_rights (param i32 i64 i64) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"path_open\"\n"
    "    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 100) \"f\")\n"
    "  (func (export \"close\") (param i32) (result i32) (call $close (local.get 0)))\n"
    "  (func (export \"prestat\") (param i32) (result i32) (call $prestat (local.get 0) (i32.const 16)))\n"
    "  (func (export \"narrow\") (param i32) (result i32)\n"
    "    (drop (call $fdstat (local.get 0) (i32.const 32)))\n"
    "    (call $set_rights (local.get 0) (i64.load (i32.const 40))\n"
    "      (i64.and (i64.load (i32.const 48)) (i64.const -3))))\n"
    "  (func (export \"open\") (param i32) (result i32)\n"
    "    (call $open (local.get 0) (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 0)\n"
    "      (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 64))))\n";

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

/* A parent with two preopens, /a (fd 3) and /b (fd 4), each holding f. */
static wasi_ctx *two_dirs(void)
{
    wt_mkdir("a");
    wt_mkdir("b");
    wt_write("a/f", "a");
    wt_write("b/f", "b");
    wasi_ctx *ctx = wasi_ctx_new(0, NULL, 0, NULL);
    cr_assert_not_null(ctx);
    cr_assert_eq(wasi_ctx_preopen_dir(ctx, wt_path("a"), "/a"), 0);
    cr_assert_eq(wasi_ctx_preopen_dir(ctx, wt_path("b"), "/b"), 0);
    return ctx;
}

Test(caps, narrowed_rights_stay_narrow_in_children)
{
    wasi_ctx *parent = two_dirs();
    lvm_module *m = load_wat(module_wat);
    guest p = instantiate(m, parent);
    cr_expect_eq(call(&p, "open", 3), 0);
    cr_expect_eq(call(&p, "narrow", 3), 0);
    cr_expect_eq(call(&p, "open", 3), 76);         /* ENOTCAPABLE */
    wasi_ctx *child = wasi_ctx_new_child(parent);
    cr_assert_not_null(child);
    guest c = instantiate(m, child);
    cr_expect_eq(call(&c, "open", 3), 76);         /* not the full rights of --dir */
    cr_expect_eq(call(&c, "open", 4), 0);          /* the other one untouched */
    /* and the grandchild, from the child */
    wasi_ctx *grand = wasi_ctx_new_child(child);
    guest g = instantiate(m, grand);
    cr_expect_eq(call(&g, "open", 3), 76);
    guest_free(&g);
    wasi_ctx_free(grand);
    guest_free(&c);
    wasi_ctx_free(child);
    guest_free(&p);
    wasi_ctx_free(parent);
    lvm_module_release(m);
}

Test(caps, closed_preopens_are_gone_for_children)
{
    wasi_ctx *parent = two_dirs();
    lvm_module *m = load_wat(module_wat);
    guest p = instantiate(m, parent);
    cr_expect_eq(call(&p, "close", 3), 0);
    wasi_ctx *child = wasi_ctx_new_child(parent);
    cr_assert_not_null(child);
    guest c = instantiate(m, child);
    /* only /b is left, and it is the child's fd 3: numbered densely, so
     * that wasi-libc's scan (which stops at the first EBADF) finds it */
    cr_expect_eq(call(&c, "prestat", 3), 0);
    cr_expect_eq(call(&c, "prestat", 4), 8);       /* EBADF */
    cr_expect_eq(call(&c, "open", 3), 0);
    cr_expect_eq(call(&p, "close", 4), 0);         /* now the parent has none */
    wasi_ctx *second = wasi_ctx_new_child(parent);
    guest s = instantiate(m, second);
    cr_expect_eq(call(&s, "prestat", 3), 8);
    cr_expect_eq(call(&c, "open", 3), 0);          /* the first child keeps its own */
    guest_free(&s);
    wasi_ctx_free(second);
    guest_free(&c);
    wasi_ctx_free(child);
    guest_free(&p);
    wasi_ctx_free(parent);
    lvm_module_release(m);
}

Test(caps, the_least_grant_gives_no_descriptors_and_no_network)
{
    wasi_ctx *parent = two_dirs();
    char why[64];
    cr_assert_eq(wasi_caps_add_text(wasi_ctx_caps(parent), WASI_NET_CONNECT, "*:*", why, sizeof why), 0);
    wasi_caps_allow_dns(wasi_ctx_caps(parent));
    wasi_grant least = { .preopens = false, .net = NULL };
    wasi_ctx *child = wasi_ctx_child(parent, &least);
    cr_assert_not_null(child);
    lvm_module *m = load_wat(module_wat);
    guest c = instantiate(m, child);
    cr_expect_eq(call(&c, "prestat", 3), 8);
    cr_expect_eq(call(&c, "open", 3), 8);
    cr_expect_not(may4(wasi_ctx_caps(child), WASI_NET_CONNECT, 127, 0, 0, 1, 80));
    cr_expect_not(wasi_caps_may_resolve(wasi_ctx_caps(child)));
    /* the everything-child has all of the parent's */
    wasi_ctx *full = wasi_ctx_new_child(parent);
    cr_expect(may4(wasi_ctx_caps(full), WASI_NET_CONNECT, 127, 0, 0, 1, 80));
    cr_expect(wasi_caps_may_resolve(wasi_ctx_caps(full)));
    /* a grant that asks for more than the parent has gets the parent's */
    wasi_caps *wide = set_of((const char *[]){ "*:*" }, 1, WASI_NET_LISTEN);
    wasi_grant more = { .preopens = true, .net = wide };
    wasi_ctx *greedy = wasi_ctx_child(parent, &more);
    cr_expect_not(may4(wasi_ctx_caps(greedy), WASI_NET_LISTEN, 127, 0, 0, 1, 80));
    cr_expect_not(may4(wasi_ctx_caps(greedy), WASI_NET_CONNECT, 127, 0, 0, 1, 80));
    wasi_ctx_free(greedy);
    wasi_caps_release(wide);
    wasi_ctx_free(full);
    guest_free(&c);
    wasi_ctx_free(child);
    wasi_ctx_free(parent);
    lvm_module_release(m);
}

/* }====== */
