/*
 * cli_helpers.h - what the tests of the `lvm` command line share: run a
 * program with its output captured, and turn the .wat sources next to the
 * tests into .wasm modules at test time.
 *
 * The tests run the real binary, as a user would, because what they check
 * is the command line's contract: exit statuses, messages, and what the
 * guest prints.  The lvm binary is found next to the test binary
 * (BUILD/tests/test_cli -> BUILD/lvm, so `make asan` tests its own build)
 * or through the environment variable LVM_BIN.  Paths of sources (the .wat
 * files in tests/cli, examples/hello.wasm) are relative to the repository
 * root, which is where `make test` runs the tests.
 */
#ifndef LVM_TESTS_CLI_HELPERS_H
#define LVM_TESTS_CLI_HELPERS_H

/* How a program ended and what it printed (NUL-terminated, never NULL). */
typedef struct cli_result {
    int status;         /* exit status, or 128 + signal number */
    char *out;
    char *err;
} cli_result;

/* Suite fixtures: make and remove this test's scratch directory. */
void cli_tmp_init(void);
void cli_tmp_fini(void);

/* A path inside the scratch directory (a static buffer per call slot:
 * valid until the same slot is reused, 8 slots round-robin). */
const char *cli_tmp_path(const char *name);

/* Run `lvm ARGS...` (args is NULL-terminated, without argv[0]) with stdin
 * from /dev/null. */
cli_result cli_run_lvm(const char *const args[]);

/* Compile tests/cli/NAME.wat with wat2wasm (keeping the names of
 * functions, for backtraces) and return the .wasm's path. */
const char *cli_wat(const char *name);

/* Write len bytes to a scratch file and return its path. */
const char *cli_write_file(const char *name, const void *bytes, unsigned long len);

/* Make an empty directory in the scratch directory and return its path
 * (for --dir; removed with the scratch directory). */
const char *cli_tmp_dir(const char *name);

void cli_result_free(cli_result *r);

#endif
