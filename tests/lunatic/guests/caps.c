/*
 * caps.c - the capability guest of tests/lunatic (test_caps.c): what a
 * process and its children may reach, one scenario per argv[1].
 *
 *   caps net PORT      main, then a spawn_with_context child, each try
 *                      tcp_bind 127.0.0.1:0, tcp_connect 127.0.0.1:PORT
 *                      (4 bytes, then as IPv4-mapped IPv6) and resolve
 *                      localhost:80, and print the io codes
 *   caps fds narrow    main drops FD_READ from what fd 3 hands down, then
 *   caps fds close     (or instead) closes fd 3; a spawn_with_context
 *                      child then reports fd 3 and opening caps.c below it
 *   caps literal       resolve of two address literals ("127.0.0.1:80",
 *                      "[::1]:80") and of a name, as io codes
 *   caps module        main loads its own bytes from /g/caps.wasm (run
 *                      with --dir tests/lunatic/guests::/g) and runs the
 *                      export caps_probe with spawn_from_module: the child
 *                      reports the same as above and fd 3
 *
 * Every line names who saw what, so the test compares the whole output.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include "../../../include/lunatic.h"

static const uint8_t LOOPBACK[4] = { 127, 0, 0, 1 };
static const uint8_t MAPPED[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };

static uint32_t port_arg;       /* net: where a listener of the test waits */

/* The network calls, as io codes (0: done; 2: PermissionDenied). */
static void probe_net(const char *who)
{
    uint32_t id;
    uint32_t bind = lunatic_tcp_bind(LOOPBACK, 4, 0, &id);
    if (bind == 0)
        lunatic_close_tcp_listener(id);
    uint32_t conn = lunatic_tcp_connect(LOOPBACK, 4, port_arg, &id);
    if (conn == 0)
        lunatic_close_tcp_stream(id);
    uint32_t conn6 = lunatic_tcp_connect(MAPPED, 16, port_arg, &id);
    if (conn6 == 0)
        lunatic_close_tcp_stream(id);
    static const char name[] = "localhost:80";
    uint32_t res = lunatic_resolve(name, sizeof name - 1, &id);
    if (res == 0)
        lunatic_remove_resolver(id);
    printf("%s: bind %u connect %u mapped %u resolve %u\n", who, bind, conn, conn6, res);
}

/* fd 3 as this process holds it: fd_prestat_get's errno, and path_open's
 * for reading caps.c below it. */
static void probe_fd3(const char *who)
{
    __wasi_prestat_t pre;
    __wasi_errno_t st = __wasi_fd_prestat_get(3, &pre);
    __wasi_fd_t fd;
    __wasi_errno_t op = __wasi_path_open(3, 0, "caps.c", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    if (op == 0)
        (void)__wasi_fd_close(fd);
    printf("%s: fd 3 prestat %u, open for reading %u\n", who, st, op);
}

/* A fresh instance: the port comes in the spawn context. */
static void net_child(void)
{
    uint32_t len;
    uint32_t *port = lunatic_spawn_context(&len);
    port_arg = len == 4 ? *port : 0;
    free(port);
    probe_net("child");
}

static void fd_child(void)
{
    uint32_t len;
    free(lunatic_spawn_context(&len));
    probe_fd3("child");
}

static void spawn_and_join(void (*fn)(void))
{
    uint32_t h = lunatic_spawn_with_context(LUNATIC_FN(fn), &port_arg, sizeof port_arg);
    printf("join %u\n", lunatic_join(h));
}

/* The target of spawn_from_module: a C function of this very module, run
 * in a fresh instance (no constructors: only raw calls and printf). */
__attribute__((export_name("caps_probe"))) void caps_probe(void)
{
    port_arg = 1;
    probe_net("module");
    probe_fd3("module");
    fflush(stdout);
}

static int module(void)
{
    FILE *f = fopen("/g/caps.wasm", "rb");
    if (!f) {
        printf("cannot open /g/caps.wasm\n");
        return 1;
    }
    static uint8_t bytes[1 << 20];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    uint32_t mod;
    if (lunatic_load_module(bytes, (uint32_t)n, &mod) != 0) {
        printf("load_module failed\n");
        return 1;
    }
    probe_fd3("main");
    uint32_t h = lunatic_spawn_from_module(mod, "caps_probe", 10, 64, NULL, 0);
    printf("join %u\n", lunatic_join(h));
    return 0;
}

int main(int argc, char **argv)
{
    const char *s = argc > 1 ? argv[1] : "";
    if (!strcmp(s, "net") && argc > 2) {
        port_arg = (uint32_t)atoi(argv[2]);
        probe_net("main");
        fflush(stdout);
        spawn_and_join(net_child);
        return 0;
    }
    if (!strcmp(s, "fds") && argc > 2) {
        probe_fd3("main");
        if (!strcmp(argv[2], "narrow")) {
            __wasi_fdstat_t st;
            if (__wasi_fd_fdstat_get(3, &st) != 0 ||
                __wasi_fd_fdstat_set_rights(3, st.fs_rights_base,
                                            st.fs_rights_inheriting & ~__WASI_RIGHTS_FD_READ) != 0)
                return 1;
        } else if (__wasi_fd_close(3) != 0) {
            return 1;
        }
        probe_fd3("main");
        fflush(stdout);
        spawn_and_join(fd_child);
        return 0;
    }
    if (!strcmp(s, "literal")) {
        static const char *const names[] = { "127.0.0.1:80", "[::1]:80", "localhost:80" };
        for (int i = 0; i < 3; i++) {
            uint32_t id, res = lunatic_resolve(names[i], (uint32_t)strlen(names[i]), &id);
            if (res == 0)
                lunatic_remove_resolver(id);
            printf("resolve %s %u\n", names[i], res);
        }
        return 0;
    }
    if (!strcmp(s, "module"))
        return module();
    printf("usage: caps net PORT | fds narrow|close | literal | module\n");
    return 2;
}
