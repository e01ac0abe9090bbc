/*
 * wasi_helpers.c - scratch trees and running lvm for the WASI tests (see
 * wasi_helpers.h).  Output goes to files rather than pipes, so the test
 * never has to drain two pipes at once to avoid a deadlock.
 */
#define _GNU_SOURCE     /* nftw's FTW_PHYS */
#include "wasi_helpers.h"
#include "lvm_bin.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[512];

void wt_init(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/lvm-wasi-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(root), "mkdtemp: %s", strerror(errno));
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* Depth-first, never following symlinks: the tree holds links that point
 * outside it on purpose. */
void wt_fini(void)
{
    if (root[0])
        nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *wt_path(const char *name)
{
    static char slots[8][1024];
    static unsigned next;
    char *p = slots[next++ % 8];
    snprintf(p, sizeof slots[0], "%s/%s", root, name);
    return p;
}

void wt_mkdir(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", wt_path(name));
    for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
}

void wt_write(const char *name, const char *text)
{
    FILE *f = fopen(wt_path(name), "w");
    cr_assert_not_null(f, "%s: %s", name, strerror(errno));
    fputs(text, f);
    fclose(f);
}

const char *wt_guest(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "tests/wasi/guests/%s.wasm", name);
    return path;
}

pid_t wt_start(const char *const args[], int *stdin_pipe_out)
{
    const char *argv[64];
    test_lvm_argv(argv, 64, args);
    int p[2] = { -1, -1 };
    if (stdin_pipe_out)
        cr_assert(pipe(p) == 0);
    char out_path[1024], err_path[1024];
    snprintf(out_path, sizeof out_path, "%s", wt_path(".stdout"));
    snprintf(err_path, sizeof err_path, "%s", wt_path(".stderr"));
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int in = stdin_pipe_out ? p[0] : open("/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        if (stdin_pipe_out)
            close(p[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (stdin_pipe_out) {
        close(p[0]);
        *stdin_pipe_out = p[1];
    }
    return pid;
}

wt_result wt_wait(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        cr_assert(errno == EINTR, "waitpid: %s", strerror(errno));
    wt_result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = test_slurp(wt_path(".stdout"));
    r.err = test_slurp(wt_path(".stderr"));
    return r;
}

wt_result wt_run(const char *const args[])
{
    return wt_wait(wt_start(args, NULL));
}

void wt_result_free(wt_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}
