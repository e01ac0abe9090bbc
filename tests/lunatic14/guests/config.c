/*
 * config.c - a config's WASI view (lunatic::wasi, ABI 9.4): a child sees
 * exactly the config's arguments and environment, and its preopens,
 * opened through the parent's own directories.  Run with --dir
 * DIR::. where DIR holds sub/file.txt and other.txt.
 */
#include "l14.h"

#include <dirent.h>
#include <stdlib.h>

static void show(int32_t x)
{
    extern char **environ;
    int n = 0;
    for (char **e = environ; *e; e++)
        printf("child env %s\n", *e), n++;
    FILE *f = fopen("sub/file.txt", "r");
    printf("child sub/file.txt: %s\n", f ? "yes" : "no");
    f = fopen("other.txt", "r");
    printf("child other.txt: %s\n", f ? "yes" : "no");
}

static void show_args(int32_t x);

static int try_dir(const char *dir)
{
    int64_t c = l_create_config();
    w_env(c, "FOO", 3, "bar", 3);
    w_dir(c, dir, (int32_t)strlen(dir));
    uint64_t id;
    int r = spawn_fn(0, c, show, 0, &id);
    if (r) {
        printf("preopen %s: %d\n", dir, r);
        print_error("error", id);
        return r;
    }
    printf("preopen %s: ok\n", dir);
    l_monitor((int64_t)id);
    m_receive(NULL, 0, -1);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "args") == 0) {
        int64_t c = l_create_config();
        w_arg(c, "first", 5);
        w_arg(c, "second", 6);
        uint64_t id;
        spawn_fn(0, c, show_args, 0, &id);
        l_monitor((int64_t)id);
        m_receive(NULL, 0, -1);
        /* -1: the parent's own view. */
        spawn_fn(0, -1, show_args, 0, &id);
        l_monitor((int64_t)id);
        m_receive(NULL, 0, -1);
        return 0;
    }
    try_dir("sub");
    try_dir(".");
    try_dir("/etc");
    try_dir("../");
    try_dir("sub/../..");
    try_dir("nope");
    try_dir("other.txt");
    return 0;
}

#include <wasi/api.h>

static void show_args(int32_t x)
{
    size_t n, size;
    if (__wasi_args_sizes_get(&n, &size) || n > 16 || size > sizeof(char[256]))
        return;
    char buf[256], *v[16];
    if (__wasi_args_get((uint8_t **)v, (uint8_t *)buf))
        return;
    printf("child argc %zu:", n);
    for (size_t i = 0; i < n && i < 16; i++)
        printf(" %s", v[i]);
    printf("\n");
}
