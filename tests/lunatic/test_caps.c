/*
 * test_caps.c - capabilities end to end (wasi/caps.c): the real `lvm run`
 * on tests/lunatic/guests/caps.wasm.  Each network grant both ways (the
 * call it covers works, the one it does not is PermissionDenied, io code
 * 2, never a trap), the same for a spawn_with_context child, and
 * descriptors a parent narrowed or closed staying so in its children;
 * spawn_from_module children get no descriptor and no network.
 * Loopback only: a listener of the test's own on 127.0.0.1.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include "run.h"

#define CAPS_GUEST "tests/lunatic/guests/caps.wasm"

TestSuite(caps, .timeout = 60);

/* A listener on 127.0.0.1 (backlog enough for every connect of a run,
 * which the kernel completes without an accept); its port. */
static int listener(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(fd, 64), 0);
    socklen_t len = sizeof a;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* `lvm run OPTS... caps.wasm net PORT` (opts NULL-terminated). */
static run_result *run_net(const char *const opts[], uint16_t port)
{
    const char *args[16] = { "run" };
    int n = 1;
    for (int i = 0; opts[i]; i++)
        args[n++] = opts[i];
    char p[16];
    snprintf(p, sizeof p, "%u", port);
    args[n++] = CAPS_GUEST;
    args[n++] = "net";
    args[n++] = p;
    args[n] = NULL;
    return lun_run_args(args);
}

/* The output of the net scenario when main and its child both see the
 * same codes. */
static const char *both(char *buf, size_t cap, int bind, int conn, int res)
{
    snprintf(buf, cap,
             "main: bind %d connect %d mapped %d resolve %d\n"
             "child: bind %d connect %d mapped %d resolve %d\njoin 0\n",
             bind, conn, conn, res, bind, conn, conn, res);
    return buf;
}

#define NET(port, want, ...)                                                  \
    do {                                                                      \
        run_result *r_ = run_net((const char *const[]){ __VA_ARGS__ NULL }, port); \
        EXPECT_RUN(r_, 0, want);                                              \
    } while (0)

Test(caps, no_option_no_network)
{
    uint16_t port;
    int fd = listener(&port);
    char want[256];
    NET(port, both(want, sizeof want, 2, 2, 2));
    close(fd);
}

Test(caps, bare_allow_net_connects_anywhere_and_resolves)
{
    uint16_t port;
    int fd = listener(&port);
    char want[256];
    NET(port, both(want, sizeof want, 2, 0, 0), "--allow-net",);
    /* listening is its own capability */
    NET(port, both(want, sizeof want, 0, 0, 0), "--allow-net", "--allow-listen=127.0.0.1:0",);
    close(fd);
}

Test(caps, allow_net_one_address_and_port)
{
    uint16_t port;
    int fd = listener(&port);
    char want[256], rule[64], other[64];
    snprintf(rule, sizeof rule, "--allow-net=127.0.0.1:%u", port);
    snprintf(other, sizeof other, "--allow-net=127.0.0.1:%u", port - 1);
    NET(port, both(want, sizeof want, 2, 0, 2), rule,);
    NET(port, both(want, sizeof want, 2, 2, 2), other,);      /* another port */
    snprintf(other, sizeof other, "--allow-net=127.0.0.2:%u", port);
    NET(port, both(want, sizeof want, 2, 2, 2), other,);      /* another address */
    snprintf(other, sizeof other, "--allow-net=[::1]:%u", port);
    NET(port, both(want, sizeof want, 2, 2, 2), other,);      /* IPv6 is not IPv4 */
    close(fd);
}

Test(caps, allow_net_prefixes_and_port_ranges)
{
    uint16_t port;
    int fd = listener(&port);
    char want[256], rule[64];
    snprintf(rule, sizeof rule, "--allow-net=127.0.0.0/8:%u-%u", port - 1, port);
    NET(port, both(want, sizeof want, 2, 0, 2), rule,);
    snprintf(rule, sizeof rule, "--allow-net=127.0.0.0/8:%u-65535", port + 1);
    NET(port, both(want, sizeof want, 2, 2, 2), rule,);
    snprintf(rule, sizeof rule, "--allow-net=128.0.0.0/1:*");  /* 127/8 is just outside */
    NET(port, both(want, sizeof want, 2, 2, 2), rule,);
    NET(port, both(want, sizeof want, 2, 0, 2), "--allow-net=0.0.0.0/1:*",);
    NET(port, both(want, sizeof want, 2, 0, 2), "--allow-net=*:*",);     /* no DNS */
    NET(port, both(want, sizeof want, 2, 0, 2), "--allow-net=[::ffff:127.0.0.1]:*",);
    close(fd);
}

Test(caps, allow_net_host_grants_its_addresses_not_dns)
{
    uint16_t port;
    int fd = listener(&port);
    char want[256], rule[64];
    snprintf(rule, sizeof rule, "--allow-net=localhost:%u", port);
    NET(port, both(want, sizeof want, 2, 0, 2), rule,);
    close(fd);
    /* a name that does not resolve stops lvm at start */
    const char *args[] = { "run", "--allow-net=nonexistent.invalid:80", CAPS_GUEST, "net", "1", NULL };
    run_result *r = lun_run_args(args);
    cr_expect_eq(r->status, 1);
    cr_expect(strstr(r->err, "lvm: --allow-net: cannot grant 'nonexistent.invalid:80': cannot "
                             "resolve 'nonexistent.invalid': "), "stderr: %s", r->err);
    cr_expect_str_eq(r->out, "");
}

Test(caps, allow_dns_resolves_only)
{
    uint16_t port;
    int fd = listener(&port);
    char want[256];
    NET(port, both(want, sizeof want, 2, 2, 0), "--allow-dns",);
    close(fd);
}

Test(caps, allow_listen_rules)
{
    uint16_t port;
    int fd = listener(&port);
    char want[256];
    NET(port, both(want, sizeof want, 0, 2, 2), "--allow-listen=127.0.0.1:0",);
    NET(port, both(want, sizeof want, 0, 2, 2), "--allow-listen=*:*",);
    /* port 0 (the OS picks) must be granted as 0 */
    NET(port, both(want, sizeof want, 2, 2, 2), "--allow-listen=127.0.0.1:1-65535",);
    NET(port, both(want, sizeof want, 2, 2, 2), "--allow-listen=[::1]:0",);
    NET(port, both(want, sizeof want, 2, 2, 2), "--allow-listen=127.0.0.2:*",);
    /* --tcplisten is a socket given to the program, no grant to bind */
    NET(port, both(want, sizeof want, 2, 2, 2), "--tcplisten=127.0.0.1:0",);
    close(fd);
}

/* An address literal is no DNS query: it resolves without --allow-dns
 * (the crate resolves "127.0.0.1:80" before it connects), a name does
 * not. */
Test(caps, literals_resolve_without_allow_dns)
{
    const char *args[] = { "run", CAPS_GUEST, "literal", NULL };
    run_result *r = lun_run_args(args);
    EXPECT_RUN(r, 0, "resolve 127.0.0.1:80 0\nresolve [::1]:80 0\nresolve localhost:80 2\n");
}

/* A parent's narrowed fd 3 stays narrow in its child; a closed one is
 * gone (the child's fd 3 is not a fresh copy of --dir). */
Test(caps, children_get_the_parents_current_descriptors)
{
    const char *narrow[] = { "run", "--dir", "tests/lunatic/guests::/g", CAPS_GUEST, "fds", "narrow", NULL };
    run_result *r = lun_run_args(narrow);
    EXPECT_RUN(r, 0,
               "main: fd 3 prestat 0, open for reading 0\n"
               "main: fd 3 prestat 0, open for reading 76\n"
               "child: fd 3 prestat 0, open for reading 76\n"
               "join 0\n");
    const char *closed[] = { "run", "--dir", "tests/lunatic/guests::/g", CAPS_GUEST, "fds", "close", NULL };
    r = lun_run_args(closed);
    EXPECT_RUN(r, 0,
               "main: fd 3 prestat 0, open for reading 0\n"
               "main: fd 3 prestat 8, open for reading 8\n"
               "child: fd 3 prestat 8, open for reading 8\n"
               "join 0\n");
}

/* spawn_from_module: no preopen and no network grant, whatever the
 * parent holds. */
Test(caps, module_children_get_no_descriptors_and_no_network)
{
    const char *args[] = { "run", "--dir", "tests/lunatic/guests::/g", "--allow-net",
                           "--allow-listen=*:*", "--allow-dns", CAPS_GUEST, "module", NULL };
    run_result *r = lun_run_args(args);
    EXPECT_RUN(r, 0,
               "main: fd 3 prestat 0, open for reading 0\n"
               "module: bind 2 connect 2 mapped 2 resolve 2\n"
               "module: fd 3 prestat 8, open for reading 8\n"
               "join 0\n");
}
