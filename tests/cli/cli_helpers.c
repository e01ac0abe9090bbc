/*
 * cli_helpers.c - running lvm and wat2wasm from the command-line tests
 * (see cli_helpers.h).
 *
 * Output goes to files in a per-test scratch directory rather than pipes:
 * with two pipes the parent would have to poll both to avoid a deadlock
 * when the child fills one, and files need no such care.
 */
#include "cli_helpers.h"
#include "lvm_bin.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp_dir[512];

void cli_tmp_init(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/lvm-cli-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(tmp_dir), "mkdtemp: %s", strerror(errno));
}

/* The directory holds only files and empty directories (cli_tmp_dir). */
void cli_tmp_fini(void)
{
    DIR *d = opendir(tmp_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", tmp_dir, e->d_name);
        if (unlink(path) != 0)
            rmdir(path);
    }
    closedir(d);
    rmdir(tmp_dir);
}

const char *cli_tmp_path(const char *name)
{
    static char slots[8][1024];
    static unsigned next;
    char *p = slots[next++ % 8];
    snprintf(p, sizeof slots[0], "%s/%s", tmp_dir, name);
    return p;
}

/* fork + exec argv (searched in PATH), stdin from /dev/null, stdout and
 * stderr into scratch files. */
static cli_result run_argv(const char *const argv[])
{
    char out_path[1024], err_path[1024];
    snprintf(out_path, sizeof out_path, "%s", cli_tmp_path("stdout"));
    snprintf(err_path, sizeof err_path, "%s", cli_tmp_path("stderr"));
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        cr_assert(errno == EINTR, "waitpid: %s", strerror(errno));
    cli_result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = test_slurp(out_path);
    r.err = test_slurp(err_path);
    return r;
}

cli_result cli_run_lvm(const char *const args[])
{
    const char *argv[64];
    test_lvm_argv(argv, 64, args);
    return run_argv(argv);
}

const char *cli_wat(const char *name)
{
    char src[512], out[1024];
    snprintf(src, sizeof src, "tests/cli/%s.wat", name);
    char wasm_name[256];
    snprintf(wasm_name, sizeof wasm_name, "%s.wasm", name);
    snprintf(out, sizeof out, "%s", cli_tmp_path(wasm_name));
    const char *argv[] = { "wat2wasm", "--debug-names", src, "-o", out, NULL };
    cli_result r = run_argv(argv);
    cr_assert_eq(r.status, 0, "wat2wasm %s failed (is wabt installed?):\n%s", src, r.err);
    cli_result_free(&r);
    return cli_tmp_path(wasm_name);
}

const char *cli_write_file(const char *name, const void *bytes, unsigned long len)
{
    const char *path = cli_tmp_path(name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(bytes, 1, len, f), len);
    fclose(f);
    return path;
}

const char *cli_tmp_dir(const char *name)
{
    const char *path = cli_tmp_path(name);
    cr_assert(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
    return path;
}

void cli_result_free(cli_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}
