/*
 * spec.h - the seam between the spec runner's two halves.
 *
 * run_spec.c is the driver: it finds the converted .json files, forks one
 * child per file, collects what the child reports through a pipe and prints
 * the totals.  spec_exec.c runs inside that child: it executes one file's
 * commands against lvm through the public API (vm/lvm.h) and reports one
 * outcome per counted command, in order, as it goes, so that the parent
 * knows how far a child got if it crashes.
 *
 * Counted commands: every command except `register`, which only names an
 * instance.  With this rule the totals over the suite equal those of
 * wabt's spectest-interp (53,881 commands), which makes them comparable.
 */
#ifndef SPEC_H
#define SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

/* SPEC_NOTE is not an outcome but a remark about an uncounted command (a
 * `register` that failed), shown with -v among the failures. */
typedef enum spec_outcome { SPEC_PASS, SPEC_FAIL, SPEC_SKIP, SPEC_NOTE } spec_outcome;

/* Called once per counted command: its .wast line, the outcome, and for a
 * failure or skip a one-line reason (no newline); and with SPEC_NOTE for
 * an uncounted command that failed. */
typedef void (*spec_report_fn)(void *ctx, long line, spec_outcome outcome, const char *why);

typedef struct spec_file_opts {
    const char *dir;            /* folder holding the .wasm files */
    bool verbose;               /* spectest.print* write to stdout */
    const long *skip_lines;     /* commands (by .wast line) to skip ... */
    size_t nskip;               /* ... because tests/spec/skip.txt says so */
    const long *class_only_lines;   /* assert_invalid commands whose text */
    size_t nclass_only;             /* the binary cannot carry (skip.txt) */
    spec_report_fn report;
    void *report_ctx;
} spec_file_opts;

/* True if `cmd` (one element of "commands") is counted (see above). */
bool spec_counts(const json *cmd);

/* Execute the commands of one wast2json document in this process, in a
 * fresh store, linker and thread, which are freed before returning. */
void spec_run_file(const json *doc, const spec_file_opts *opts);

#endif
