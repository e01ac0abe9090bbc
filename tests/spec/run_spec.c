/*
 * run_spec.c - runs the WebAssembly core spec test suite against lvm.
 *
 *   run_spec [--core-only] [--fail-on-core] [-v] [--skip FILE]
 *            [--only NAME...] DIR
 *
 * DIR holds the suite converted by wabt's wast2json (the GNUmakefile does
 * this into $(BUILD)/spectest): NAME.json per .wast file plus the modules
 * it refers to, NAME.N.wasm.  Files are run in name order and split into
 * two groups: "simd" (simd_*.json) and "core" (everything else).
 *
 * Output: one line per file, "  NAME.wast   passed P  failed F  skipped S"
 * (worded so it cannot be mistaken for a closing line), with -v the first
 * few failures of each file, then the closing lines
 *
 *   spectest-core: N passed, N failed, N skipped
 *   spectest-simd: N passed, N failed, N skipped   (not with --core-only)
 *
 * Exit status: 1 if --fail-on-core is given and a core command failed or a
 * core file crashed; 2 for bad usage; else 0.
 *
 * Isolation: each file runs in a forked child (spec_exec.c does the work),
 * which reports one line per command through a pipe as it goes.  The
 * parent reads with a deadline (TIMEOUT_SECONDS) and kills a child that
 * exceeds it.  So an engine that crashes, hangs or aborts costs one file:
 * the commands the child did not report count as failed and the file's
 * line says what happened and at which command.  We poll the pipe from the
 * parent instead of arming alarm() in the child because the engine under
 * test may itself use signals and timers; the parent is ours alone.
 *
 * Skips: tests/spec/skip.txt (or --skip FILE) lists commands the runner
 * skips on purpose, one "NAME.wast:LINE  reason" per line.  Text-format
 * modules (assert_malformed/assert_invalid with module_type "text") are
 * always skipped: lvm reads binary modules only.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "spec.h"

/* The slowest core file takes well under a second with lvm; two minutes
 * leaves room for sanitizer builds.  Both limits can be changed with -D
 * when building by hand (a short timeout to test the runner itself, every
 * failure of every file when triaging). */
#ifndef TIMEOUT_SECONDS
#define TIMEOUT_SECONDS 120
#endif
/* Failures printed per file with -v. */
#ifndef MAX_SHOWN
#define MAX_SHOWN 5
#endif
/* Relative to the working directory: make runs the runner from the top of
 * the tree. */
#define DEFAULT_SKIP_FILE "tests/spec/skip.txt"

/* {====== options and the skip list */

typedef struct skip_entry {
    char *file;                 /* "names.wast" */
    long line;
    bool class_only;            /* check the error class, not its text */
} skip_entry;

typedef struct options {
    bool core_only, fail_on_core, verbose;
    const char *dir;
    const char *skip_file;
    bool skip_file_given;
    char **only;                /* --only names, NULL if none */
    size_t nonly;
    skip_entry *skips;
    size_t nskips;
} options;

static void usage(void)
{
    fprintf(stderr,
            "usage: run_spec [--core-only] [--fail-on-core] [-v] [--skip FILE] [--only NAME...] DIR\n"
            "  DIR holds NAME.json + NAME.N.wasm files made by wast2json\n");
    exit(2);
}

/* "names", "names.wast" and "names.json" all name the same file. */
static size_t stem_len(const char *name)
{
    size_t n = strlen(name);
    if (n > 5 && (strcmp(name + n - 5, ".wast") == 0 || strcmp(name + n - 5, ".json") == 0))
        return n - 5;
    return n;
}

static bool same_stem(const char *a, const char *b)
{
    size_t la = stem_len(a), lb = stem_len(b);
    return la == lb && strncmp(a, b, la) == 0;
}

/* Read the skip list: "NAME.wast:LINE  reason", '#' comments, blank lines.
 * A missing default file means no skips; a malformed line is reported and
 * ignored, so that one typo does not stop the suite. */
static void read_skips(options *o)
{
    FILE *f = fopen(o->skip_file, "r");
    if (!f) {
        if (o->skip_file_given) {
            fprintf(stderr, "run_spec: cannot open %s\n", o->skip_file);
            exit(2);
        }
        return;
    }
    char buf[1024];
    size_t cap = 0;
    for (int lineno = 1; fgets(buf, sizeof buf, f); lineno++) {
        char *p = buf;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\0')
            continue;
        char *end = p + strcspn(p, " \t\n");
        /* A reason starting "class-only:" keeps the command but checks only
         * that the module is rejected as invalid (see skip.txt). */
        char *reason = end + 1;
        while (*reason == ' ' || *reason == '\t')
            reason++;
        bool class_only = *end && strncmp(reason, "class-only:", 11) == 0;
        *end = '\0';
        char *colon = strrchr(p, ':');
        char *num_end = NULL;
        long line = colon ? strtol(colon + 1, &num_end, 10) : 0;
        if (!colon || colon == p || num_end == colon + 1 || *num_end || line <= 0) {
            fprintf(stderr, "run_spec: %s:%d: expected NAME.wast:LINE\n", o->skip_file, lineno);
            continue;
        }
        *colon = '\0';
        if (o->nskips == cap) {
            cap = cap ? cap * 2 : 16;
            skip_entry *s = realloc(o->skips, cap * sizeof *s);
            if (!s)
                break;
            o->skips = s;
        }
        char *file = strdup(p);
        if (!file)
            break;
        o->skips[o->nskips].file = file;
        o->skips[o->nskips].line = line;
        o->skips[o->nskips].class_only = class_only;
        o->nskips++;
    }
    fclose(f);
}

static void parse_args(int argc, char **argv, options *o)
{
    bool only = false;
    memset(o, 0, sizeof *o);
    o->skip_file = DEFAULT_SKIP_FILE;
    /* Positional arguments: the last is DIR, those before it are --only
     * names (so "--only a b DIR" works as written). */
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    size_t npos = 0;
    if (!pos)
        exit(2);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--core-only") == 0)
            o->core_only = true;
        else if (strcmp(a, "--fail-on-core") == 0)
            o->fail_on_core = true;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            o->verbose = true;
        else if (strcmp(a, "--only") == 0)
            only = true;
        else if (strcmp(a, "--skip") == 0 && i + 1 < argc)
            o->skip_file = argv[++i], o->skip_file_given = true;
        else if (a[0] == '-')
            usage();
        else
            pos[npos++] = argv[i];
    }
    if (npos == 0 || (npos > 1 && !only) || (only && npos < 2))
        usage();
    o->dir = pos[npos - 1];
    if (only) {
        o->only = pos;
        o->nonly = npos - 1;
    } else {
        free(pos);
    }
}

/* }====== */

/* {====== finding the files */

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_simd(const char *name)
{
    return strncmp(name, "simd_", 5) == 0;
}

/* The *.json files of o->dir that the options select, sorted by name. */
static char **list_files(const options *o, size_t *count_out)
{
    DIR *d = opendir(o->dir);
    if (!d) {
        fprintf(stderr, "run_spec: cannot open %s: %s\n", o->dir, strerror(errno));
        exit(2);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (o->core_only && is_simd(e->d_name))
            continue;
        if (o->only) {
            bool wanted = false;
            for (size_t i = 0; i < o->nonly && !wanted; i++)
                wanted = same_stem(o->only[i], e->d_name);
            if (!wanted)
                continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, compare_names);
    *count_out = n;
    return names;
}

static char *read_whole_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len_out = len;
    return buf;
}

/* }====== */

/* {====== the child: run one file, report through the pipe */

/* Write all of buf, retrying after signals and short writes.  A failed
 * write means the parent is gone; the child just stops reporting. */
static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

/* The report callback: one line per command, "P|F|S|N LINE [reason]\n".
 * Written immediately (no stdio buffer) so a crash loses nothing. */
static void report_to_pipe(void *ctx, long line, spec_outcome outcome, const char *why)
{
    int fd = *(int *)ctx;
    char buf[512];
    static const char tags[] = { [SPEC_PASS] = 'P', [SPEC_FAIL] = 'F', [SPEC_SKIP] = 'S', [SPEC_NOTE] = 'N' };
    char tag = tags[outcome];
    int n = snprintf(buf, sizeof buf - 1, "%c %ld %s", tag, line, why ? why : "");
    if (n < 0)
        return;
    if ((size_t)n > sizeof buf - 2)
        n = (int)sizeof buf - 2;
    for (int i = 0; i < n; i++)         /* keep the record on one line */
        if (buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
    buf[n++] = '\n';
    write_all(fd, buf, (size_t)n);
}

/* }====== */

/* {====== the parent: collect, time out, summarise */

typedef struct file_result {
    unsigned passed, failed, skipped;
    size_t reported;                /* records received so far */
    char *shown[MAX_SHOWN];         /* failure lines kept for -v */
    size_t nshown;
    char status[128];               /* "crashed: SIGSEGV at line 12", or "" */
} file_result;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *signal_name(int sig, char *buf, size_t size)
{
    static const struct { int sig; const char *name; } names[] = {
        { SIGSEGV, "SIGSEGV" }, { SIGBUS, "SIGBUS" }, { SIGABRT, "SIGABRT" },
        { SIGFPE, "SIGFPE" },   { SIGILL, "SIGILL" }, { SIGKILL, "SIGKILL" },
        { SIGTERM, "SIGTERM" }, { SIGALRM, "SIGALRM" }, { SIGTRAP, "SIGTRAP" },
        { SIGSYS, "SIGSYS" },   { SIGPIPE, "SIGPIPE" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    snprintf(buf, size, "signal %d", sig);
    return buf;
}

/* Keep a failure line for the -v listing, up to MAX_SHOWN per file. */
static void keep_shown(file_result *res, long line, const char *why, bool verbose)
{
    if (!verbose || res->nshown >= MAX_SHOWN)
        return;
    size_t len = strlen(why) + 32;
    char *s = malloc(len);
    if (s) {
        snprintf(s, len, "line %ld: %s", line, why);
        res->shown[res->nshown++] = s;
    }
}

/* Account for one record line from the child. */
static void take_record(file_result *res, const char *rec, bool verbose)
{
    char tag = rec[0];
    long line = strtol(rec + 1, NULL, 10);
    const char *why = strchr(rec + 2, ' ');
    why = why ? why + 1 : "";
    if (tag == 'N') {                   /* a remark, not a command */
        keep_shown(res, line, why, verbose);
        return;
    }
    res->reported++;
    if (tag == 'P') {
        res->passed++;
    } else if (tag == 'S') {
        res->skipped++;
    } else {
        res->failed++;
        keep_shown(res, line, why, verbose);
    }
}

/* Wait for `pid` until `deadline`, then kill it.  Returns the wait status
 * and sets *timed_out if it had to be killed. */
static int reap(pid_t pid, double deadline, bool *timed_out)
{
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return 0;
        if (now_seconds() >= deadline) {
            kill(pid, SIGKILL);
            *timed_out = true;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            return status;
        }
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* Read the child's records until EOF or the deadline. */
static void collect(int fd, file_result *res, double deadline, bool verbose, bool *timed_out)
{
    char buf[8192];
    size_t have = 0;
    for (;;) {
        double left = deadline - now_seconds();
        if (left <= 0) {
            *timed_out = true;
            return;
        }
        struct pollfd pfd = { fd, POLLIN, 0 };
        int ready = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (ready < 0 && errno != EINTR)
            return;
        if (ready <= 0)
            continue;
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;                         /* EOF: the child is done */
        have += (size_t)n;
        /* Hand over every complete line; keep the partial tail. */
        size_t start = 0;
        for (size_t i = 0; i < have; i++) {
            if (buf[i] != '\n')
                continue;
            buf[i] = '\0';
            take_record(res, buf + start, verbose);
            start = i + 1;
        }
        if (start == 0 && have == sizeof buf - 1)
            have = 0;                       /* an overlong record: drop it */
        memmove(buf, buf + start, have - start);
        have -= start;
    }
}

/* Run one .json file in a child.  `lines` are the .wast lines of its
 * counted commands, in order, so a crash can be placed. */
static void run_file(const options *o, const json *doc, const char *wast_name,
                     const long *lines, size_t total, file_result *res)
{
    /* The lines skip.txt lists for this file. */
    long *skip_lines = calloc(o->nskips + 1, sizeof *skip_lines);
    long *class_lines = calloc(o->nskips + 1, sizeof *class_lines);
    size_t nskip = 0, nclass = 0;
    for (size_t i = 0; skip_lines && class_lines && i < o->nskips; i++) {
        if (!same_stem(o->skips[i].file, wast_name))
            continue;
        if (o->skips[i].class_only)
            class_lines[nclass++] = o->skips[i].line;
        else
            skip_lines[nskip++] = o->skips[i].line;
    }
    if (!class_lines) {
        free(skip_lines);
        skip_lines = NULL;
    }

    int fds[2];
    if (!skip_lines || pipe(fds) != 0) {
        free(skip_lines);
        free(class_lines);
        res->failed = (unsigned)total;
        snprintf(res->status, sizeof res->status, "not run: %s", strerror(errno));
        return;
    }
    fflush(stdout);                         /* or the child repeats it */
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        free(skip_lines);
        free(class_lines);
        res->failed = (unsigned)total;
        snprintf(res->status, sizeof res->status, "not run: fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        spec_file_opts fo = {
            .dir = o->dir, .verbose = o->verbose,
            .skip_lines = skip_lines, .nskip = nskip,
            .class_only_lines = class_lines, .nclass_only = nclass,
            .report = report_to_pipe, .report_ctx = &fds[1],
        };
        spec_run_file(doc, &fo);
        close(fds[1]);
        free(skip_lines);
        free(class_lines);
        fflush(stdout);
        /* exit, not _exit: a sanitizer build checks for leaks here, and a
         * leak report turns into a non-zero status the parent reports. */
        exit(0);
    }

    close(fds[1]);
    free(skip_lines);
    free(class_lines);
    bool timed_out = false;
    double deadline = now_seconds() + TIMEOUT_SECONDS;
    collect(fds[0], res, deadline, o->verbose, &timed_out);
    close(fds[0]);
    int status = reap(pid, timed_out ? 0 : deadline, &timed_out);

    /* Where it stopped: the first command not reported. */
    char where[48] = "";
    if (res->reported < total)
        snprintf(where, sizeof where, " at line %ld", lines[res->reported]);
    char sigbuf[32];
    if (timed_out)
        snprintf(res->status, sizeof res->status, "timeout after %d s%s", TIMEOUT_SECONDS, where);
    else if (WIFSIGNALED(status))
        snprintf(res->status, sizeof res->status, "crashed: %s%s",
                 signal_name(WTERMSIG(status), sigbuf, sizeof sigbuf), where);
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        snprintf(res->status, sizeof res->status, "crashed: exit status %d%s%s", WEXITSTATUS(status),
                 where, res->reported >= total ? " after the last command" : "");
    else if (res->reported < total)
        snprintf(res->status, sizeof res->status, "child stopped reporting%s", where);
    if (res->reported < total)
        res->failed += (unsigned)(total - res->reported);
}

/* }====== */

/* {====== main */

typedef struct group_total {
    unsigned long passed, failed, skipped;
    bool broken;                    /* a file crashed or could not be read */
} group_total;

/* Parse one .json file, run it, print its line; add to `g`. */
static void do_file(const options *o, const char *name, group_total *g)
{
    char path[4096];
    char err[160];
    size_t len = 0;
    file_result res;
    memset(&res, 0, sizeof res);
    snprintf(path, sizeof path, "%s/%s", o->dir, name);

    /* The displayed name is the .wast the file came from. */
    char wast_name[256];
    snprintf(wast_name, sizeof wast_name, "%.*s.wast", (int)stem_len(name), name);

    char *text = read_whole_file(path, &len);
    json *doc = text ? json_parse(text, len, err, sizeof err) : NULL;
    const json *cmds = json_get(doc, "commands");
    if (!doc || !cmds || cmds->kind != JSON_ARRAY) {
        printf("  %-40s cannot %s: %s\n", wast_name, text ? "parse" : "read",
               !text ? strerror(errno) : !doc ? err : "no \"commands\" array");
        g->failed++;
        g->broken = true;
        json_free(doc);
        free(text);
        return;
    }
    /* wast2json records the path it was given; the name is its last part. */
    const char *src = json_get_str(doc, "source_filename");
    if (src) {
        const char *slash = strrchr(src, '/');
        src = slash ? slash + 1 : src;
        if (strlen(src) < sizeof wast_name)
            snprintf(wast_name, sizeof wast_name, "%s", src);
    }

    long *lines = calloc(cmds->count + 1, sizeof *lines);
    size_t total = 0;
    for (size_t i = 0; lines && i < cmds->count; i++)
        if (spec_counts(&cmds->items[i]))
            lines[total++] = json_get_int(&cmds->items[i], "line", 0);
    if (lines)
        run_file(o, doc, wast_name, lines, total, &res);
    else
        snprintf(res.status, sizeof res.status, "not run: out of memory");

    printf("  %-40s passed %5u  failed %5u  skipped %4u%s%s%s\n", wast_name,
           res.passed, res.failed, res.skipped,
           res.status[0] ? "  (" : "", res.status, res.status[0] ? ")" : "");
    for (size_t i = 0; i < res.nshown; i++) {
        printf("      %s\n", res.shown[i]);
        free(res.shown[i]);
    }
    g->passed += res.passed;
    g->failed += res.failed;
    g->skipped += res.skipped;
    if (res.status[0])
        g->broken = true;
    free(lines);
    json_free(doc);
    free(text);
}

int main(int argc, char **argv)
{
    options o;
    parse_args(argc, argv, &o);
    read_skips(&o);
    /* A child that dies while we write nothing to it cannot raise SIGPIPE
     * here (the parent only reads), but be explicit: never die of it. */
    signal(SIGPIPE, SIG_IGN);

    size_t nfiles;
    char **files = list_files(&o, &nfiles);
    if (nfiles == 0) {
        fprintf(stderr, "run_spec: no matching .json files in %s\n", o.dir);
        free(files);
        return 2;
    }

    group_total core = {0}, simd = {0};
    for (size_t i = 0; i < nfiles; i++) {
        do_file(&o, files[i], is_simd(files[i]) ? &simd : &core);
        free(files[i]);
    }
    free(files);

    printf("spectest-core: %lu passed, %lu failed, %lu skipped\n", core.passed, core.failed, core.skipped);
    if (!o.core_only)
        printf("spectest-simd: %lu passed, %lu failed, %lu skipped\n", simd.passed, simd.failed, simd.skipped);

    for (size_t i = 0; i < o.nskips; i++)
        free(o.skips[i].file);
    free(o.skips);
    free(o.only);
    return o.fail_on_core && (core.failed > 0 || core.broken) ? 1 : 0;
}

/* }====== */
