/*
 * lvm_bin.h - for tests that run the `lvm` command: where the binary is,
 * and reading back what it wrote.  Header-only, so each test binary still
 * links just its own folder (see the GNUmakefile's test rule).
 */
#ifndef LVM_TESTS_LVM_BIN_H
#define LVM_TESTS_LVM_BIN_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* BUILD/tests/test_X -> BUILD/lvm, so a sanitizer build tests its own lvm;
 * LVM_BIN overrides. */
static inline const char *test_lvm_path(void)
{
    static char path[4096];
    const char *env = getenv("LVM_BIN");
    if (env && *env)
        return env;
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);
    cr_assert(n > 0, "cannot find the test binary: %s", strerror(errno));
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    cr_assert_not_null(slash);
    strcpy(slash, "/../lvm");
    cr_assert(access(path, X_OK) == 0, "%s not found: build it first (make), or set LVM_BIN", path);
    return path;
}

/* argv for running lvm with args (NULL-terminated) into argv[0..cap):
 * the binary, the args, NULL. */
static inline void test_lvm_argv(const char *argv[], int cap, const char *const args[])
{
    int n = 0;
    argv[n++] = test_lvm_path();
    for (int i = 0; args[i]; i++) {
        cr_assert(n < cap - 1, "too many arguments");
        argv[n++] = args[i];
    }
    argv[n] = NULL;
}

/* The whole of a file as a malloc'd string ("" if it cannot be read). */
static inline char *test_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    while (f) {
        len += fread(s + len, 1, cap - len - 1, f);
        if (len < cap - 1)
            break;
        cap *= 2;
        s = realloc(s, cap);
        cr_assert_not_null(s);
    }
    if (f)
        fclose(f);
    s[len] = '\0';
    return s;
}

#endif
