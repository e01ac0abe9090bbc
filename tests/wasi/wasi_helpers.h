/*
 * wasi_helpers.h - what the WASI tests share: a scratch directory tree per
 * test, and running the real `lvm` on a guest from tests/wasi/guests with
 * its output captured and its stdin from /dev/null or from a pipe the test
 * writes to.
 *
 * Same conventions as tests/cli/cli_helpers.h (the lvm binary is found
 * next to the test binary, or through LVM_BIN; paths of sources are
 * relative to the repository root), but the scratch directory here may
 * hold a whole tree (preopened directories, symlinks), which is removed
 * recursively.  The guests are committed built, so no wasm toolchain is
 * needed to run the tests.
 */
#ifndef LVM_TESTS_WASI_HELPERS_H
#define LVM_TESTS_WASI_HELPERS_H

#include <sys/types.h>

typedef struct wt_result {
    int status;         /* exit status, or 128 + signal number */
    char *out;          /* NUL-terminated, never NULL */
    char *err;
} wt_result;

/* Suite fixtures: make and remove this test's scratch tree. */
void wt_init(void);
void wt_fini(void);

/* A path inside the scratch tree (8 static slots, round-robin). */
const char *wt_path(const char *name);
/* mkdir -p of a path inside the scratch tree, and a small text file. */
void wt_mkdir(const char *name);
void wt_write(const char *name, const char *text);

/* tests/wasi/guests/NAME.wasm */
const char *wt_guest(const char *name);

/* Start `lvm ARGS...` (NULL-terminated, without argv[0]).  With
 * stdin_pipe_out, stdin is a pipe whose write end is returned there;
 * otherwise /dev/null. */
pid_t wt_start(const char *const args[], int *stdin_pipe_out);
/* Wait for it and collect what it printed. */
wt_result wt_wait(pid_t pid);
/* Both at once. */
wt_result wt_run(const char *const args[]);
void wt_result_free(wt_result *r);

#define WT_RUN(...) wt_run((const char *const[]){ __VA_ARGS__, NULL })

#endif
