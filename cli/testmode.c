/*
 * testmode.c - lunatic's `cargo test` runner (ABI 0.14, section 13).
 *
 * lunatic's runtime is also the cargo runner of lunatic crates: `cargo
 * test` runs `lvm run target/wasm32-wasi/debug/deps/NAME-HASH.wasm
 * [libtest args]`, and a test binary is a module whose exports named
 * `#lunatic_test_[#ignore_][#panic_MSG#]PATH::NAME` are its tests.  Each
 * test runs as the root process of a fresh environment (its own process
 * ids from 1 and its own registry), all at once, with its output (and its
 * children's) captured in memory; the runner waits for each test process
 * only, and prints libtest's lines in completion order (D12).
 *
 * The outcome of a test is read from how its process ended and from its
 * captured output: a Rust panic prints `thread '...' panicked at ...`
 * before it traps, which is how a panic is told from a trap, a kill or
 * a link's death (table of ABI 13.3).
 */
#include "testmode.h"
#include "lunatic14.h"

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GREEN "\033[92m"
#define RED "\033[91m"
#define YELLOW "\033[93m"
#define RESET "\033[0m"

bool testmode_detect(const char *path, int argc, char *const rest[])
{
    if (!getenv("CARGO_MANIFEST_DIR"))
        return false;
    for (int i = 0; i < argc; i++)
        if (strcmp(rest[i], "--bench") == 0)
            return false;
    regex_t re;
    if (regcomp(&re, "/target/wasm32-(wasi|unknown-unknown)/(debug|release)/deps/.*\\.wasm$",
                REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool match = regexec(&re, path, 0, NULL, 0) == 0;
    regfree(&re);
    return match;
}

/* {====== tests and their names (ABI 13.2) */

typedef struct test {
    char *export;               /* the export's name, as the module has it */
    char *name;                 /* module_path::fn */
    bool ignored;
    bool should_panic;
    char *expected;             /* the substring; NULL or "": any panic */
    /* How it ran (set by on_end, under the runner's lock). */
    wasi_ctx *ctx;
    wasi_capture *cap;
    lvm_process *p;
    l14_env *env;
    bool done;
    lunatic14_end end;
    struct test *next_done;     /* the completion queue */
} test;

/* Parse export name e (after the prefix): "#ignore_", then "#panic_MSG#"
 * where "\#" stands for "#" and MSG ends at the first "#" not preceded by
 * "\", then the name.  False when out of memory. */
static bool parse_test(const char *e, test *t)
{
    if (strncmp(e, "#ignore_", 8) == 0) {
        t->ignored = true;
        e += 8;
    }
    if (strncmp(e, "#panic_", 7) == 0) {
        e += 7;
        t->should_panic = true;
        size_t n = strlen(e);
        char *msg = malloc(n + 1);
        if (!msg)
            return false;
        size_t k = 0;
        while (*e && *e != '#') {
            if (e[0] == '\\' && e[1] == '#') {
                msg[k++] = '#';
                e += 2;
            } else {
                msg[k++] = *e++;
            }
        }
        msg[k] = '\0';
        if (*e == '#')
            e++;
        t->expected = msg;
    }
    t->name = strdup(e);
    return t->name != NULL;
}

static void tests_free(test *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].export);
        free(v[i].name);
        free(v[i].expected);
    }
    free(v);
}

/* }====== */

/* {====== arguments (ABI 13.1, D11) */

typedef struct args {
    const char *filter;
    bool ignored, exact, nocapture, show_output, list;
    const char *format;
    const char **dirs;          /* --dir among the libtest arguments */
    int ndirs;
    const char **guest;         /* further positionals: the guest's argv */
    int nguest;
} args;

/* libtest flags that take a value and mean nothing here (D11). */
static bool takes_value(const char *a)
{
    static const char *const v[] = { "--test-threads", "--color", "-Z", "--logfile", "--skip",
                                     "--report-time", NULL };
    for (int i = 0; v[i]; i++)
        if (strcmp(a, v[i]) == 0)
            return true;
    return false;
}

static int parse_args(int argc, char *const rest[], args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *s = rest[i];
        if (strcmp(s, "--ignored") == 0) {
            a->ignored = true;
        } else if (strcmp(s, "--exact") == 0) {
            a->exact = true;
        } else if (strcmp(s, "--nocapture") == 0 || strcmp(s, "--no-capture") == 0) {
            a->nocapture = true;
        } else if (strcmp(s, "--show-output") == 0) {
            a->show_output = true;
        } else if (strcmp(s, "--list") == 0) {
            a->list = true;
        } else if (strcmp(s, "--format") == 0 || strncmp(s, "--format=", 9) == 0) {
            if (s[8] == '=') {
                a->format = s + 9;
            } else if (i + 1 < argc) {
                a->format = rest[++i];
            } else {
                fprintf(stderr, "error: The argument '--format <FORMAT>' requires a value but "
                        "none was supplied\n");
                return 2;
            }
        } else if (strcmp(s, "--dir") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "error: The argument '--dir <DIR>' requires a value but none "
                        "was supplied\n");
                return 2;
            }
            a->dirs[a->ndirs++] = rest[++i];
        } else if (takes_value(s)) {
            i++;                        /* accepted and ignored (D11) */
        } else if (s[0] == '-' && s[1]) {
            ;                           /* -q, --quiet, --color=X, ... (D11) */
        } else if (!a->filter) {
            a->filter = s;
        } else {
            a->guest[a->nguest++] = s;
        }
    }
    return -1;
}

/* }====== */

/* {====== the panic line (ABI 13.3, D11) */

/* The message of the first panic line in out, or NULL if there is none.
 * The old format `thread 'T' panicked at 'MSG', FILE:L:C`: the runtime's
 * regex `(?ms)^thread '.*' panicked at '(.*)', ` is greedy over the
 * whole output, so MSG runs to the last "', " of it (its quirk, copied:
 * only "contains" is ever asked of it).  The new format `thread 'T'
 * panicked at FILE:L:C:\nMSG`: MSG is the next line. */
static char *panic_message(const char *out)
{
    for (const char *line = out; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, "thread '", 8) != 0)
            continue;
        const char *at = strstr(line, "' panicked at ");
        const char *eol = strchr(line, '\n');
        if (!at || (eol && at > eol))
            continue;
        at += 14;
        if (*at == '\'') {
            at++;
            const char *end = NULL;
            for (const char *q = strstr(at, "', "); q; q = strstr(q + 1, "', "))
                end = q;
            if (!end)
                continue;
            return strndup(at, (size_t)(end - at));
        }
        if (!eol)
            return strdup("");
        const char *msg = eol + 1, *mend = strchr(msg, '\n');
        return strndup(msg, mend ? (size_t)(mend - msg) : strlen(msg));
    }
    return NULL;
}

/* }====== */

/* {====== running */

typedef struct runner {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    test *done_head, *done_tail;
} runner;

typedef struct end_arg {
    runner *r;
    test *t;
} end_arg;

static void test_ended(lvm_process *p, const lunatic14_end *end, void *arg)
{
    end_arg *ea = arg;
    test *t = ea->t;
    runner *r = ea->r;
    pthread_mutex_lock(&r->lock);
    t->end = *end;
    t->done = true;
    t->next_done = NULL;
    if (r->done_tail)
        r->done_tail->next_done = t;
    else
        r->done_head = t;
    r->done_tail = t;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* The capture as ABI 13.4 prints it (malloc'd; "" if all empty). */
static char *capture_text(wasi_capture *c, bool *empty)
{
    size_t n = wasi_capture_count(c), total = 0, cap = 256;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    *empty = true;
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *s = wasi_capture_copy(c, i, &len);
        if (!s)
            continue;
        if (len)
            *empty = false;
        char head[64];
        int hl = n > 1 ? snprintf(head, sizeof head, " --- process %zu stdout ---\n", i) : 0;
        while (total + (size_t)hl + len + 1 > cap)
            cap *= 2;
        char *grown = realloc(out, cap);
        if (!grown) {
            free(s);
            break;
        }
        out = grown;
        memcpy(out + total, head, (size_t)hl);
        memcpy(out + total + hl, s, len);
        total += (size_t)hl + len;
        out[total] = '\0';
        free(s);
    }
    return out;
}

static void note(test *t, const char *text)
{
    if (t->cap)
        wasi_capture_append(t->cap, 0, text, strlen(text));
}

/* Decide a finished test's outcome (ABI 13.3), adding the notes. */
static bool test_passed(test *t, bool nocapture)
{
    bool failed = t->end.failed;
    char *out = NULL;
    size_t len = 0;
    if (t->cap)
        out = wasi_capture_copy(t->cap, 0, &len);
    char *msg = failed && out ? panic_message(out) : NULL;
    free(out);
    bool pass;
    char text[1200];
    if (!failed) {
        pass = !t->should_panic;
        if (!pass)
            note(t, "note: test did not panic as expected\n");
    } else if (msg) {
        pass = t->should_panic && (!t->expected || strstr(msg, t->expected));
        if (t->should_panic && !pass) {
            snprintf(text, sizeof text, "note: panic did not contain expected string\n"
                     "      panic message: `\"%s\"`,\n expected substring: `\"%s\"`\n", msg,
                     t->expected);
            note(t, text);
        }
    } else if (t->should_panic) {
        pass = !t->expected || !*t->expected;
        if (!pass) {
            snprintf(text, sizeof text, "note: Process received kill signal, but expected a "
                     "panic that contains `%s`\n", t->expected);
            note(t, text);
        }
    } else {
        pass = false;
        if (!nocapture)
            note(t, "note: Process trapped or received kill signal\n");
    }
    free(msg);
    return pass;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A test's root WASI context: the positionals as its arguments (no
 * argv[0]), the granted environment and directories, captured output. */
static wasi_ctx *test_ctx(const args *a, const testmode_opts *o, test *t, bool capture)
{
    extern char **environ;
    int ninherit = 0;
    if (o->inherit_env)
        while (environ[ninherit])
            ninherit++;
    const char **env = calloc((size_t)ninherit + (size_t)o->nenvs + 1, sizeof *env);
    if (!env)
        return NULL;
    int nenv = 0;
    for (int i = 0; i < ninherit; i++)
        env[nenv++] = environ[i];
    for (int i = 0; i < o->nenvs; i++)
        env[nenv++] = o->envs[i];
    wasi_ctx *ctx = wasi_ctx_new(a->nguest, a->guest, nenv, env);
    free(env);
    if (!ctx)
        return NULL;
    for (int i = 0; i < o->ndirs + a->ndirs; i++) {
        const char *d = i < o->ndirs ? o->dirs[i] : a->dirs[i - o->ndirs];
        char host[4096];
        const char *sep = strstr(d, "::");
        size_t hl = sep ? (size_t)(sep - d) : strlen(d);
        if (hl >= sizeof host)
            hl = sizeof host - 1;
        memcpy(host, d, hl);
        host[hl] = '\0';
        int err = wasi_ctx_preopen_dir(ctx, host, sep ? sep + 2 : host);
        if (err) {
            fprintf(stderr, "lvm: --dir: cannot preopen '%s': %s\n", d, strerror(err));
            wasi_ctx_free(ctx);
            return NULL;
        }
    }
    if (capture) {
        if (!(t->cap = wasi_capture_new()) || wasi_ctx_capture(ctx, t->cap) < 0) {
            wasi_ctx_free(ctx);
            return NULL;
        }
    }
    return ctx;
}

int testmode_run(const char *path, lvm_module *m, int argc, char *const rest[],
                 const testmode_opts *o)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char **lists = calloc(2 * (size_t)argc + 2, sizeof *lists);
    if (!lists)
        return 1;
    args a = { .dirs = lists, .guest = lists + argc + 1 };
    int status = parse_args(argc, rest, &a);
    if (status >= 0) {
        free(lists);
        return status;
    }
    if (a.format && strcmp(a.format, "terse") != 0) {
        fprintf(stderr, "Error: error: argument for --format must be terse (was %s)\n", a.format);
        free(lists);
        return 1;
    }

    /* The tests, in export order, filtered (ABI 13.2). */
    static const char prefix[] = "#lunatic_test_";
    uint32_t nexp = lvm_module_export_count(m);
    test *tests = calloc(nexp ? nexp : 1, sizeof *tests);
    size_t ntests = 0, filtered = 0;
    if (!tests) {
        free(lists);
        return 1;
    }
    for (uint32_t i = 0; i < nexp; i++) {
        size_t len;
        uint8_t kind;
        const char *e = lvm_module_export_name(m, i, &len, &kind);
        if (kind != LVM_EXTERN_FUNC || len != strlen(e) || strncmp(e, prefix, sizeof prefix - 1))
            continue;
        test *t = &tests[ntests];
        if (!(t->export = strdup(e)) || !parse_test(e + sizeof prefix - 1, t)) {
            tests_free(tests, ntests + 1);
            free(lists);
            return 1;
        }
        bool keep = !a.filter || (a.exact ? strcmp(t->name, a.filter) == 0
                                          : strstr(t->name, a.filter) != NULL);
        if (a.ignored && !t->ignored)
            keep = false;
        if (!keep) {
            filtered++;
            free(t->export);
            free(t->name);
            free(t->expected);
            memset(t, 0, sizeof *t);
            continue;
        }
        if (a.ignored)
            t->ignored = false;         /* --ignored: run them */
        ntests++;
    }
    if (a.list) {
        for (size_t i = 0; i < ntests; i++)
            printf("%s: test\n", tests[i].name);
        tests_free(tests, ntests);
        free(lists);
        return 0;
    }

    /* The runtime: one scheduler, one linker, one runtime for all tests;
     * a fresh environment for each. */
    green_config gc = { .workers = o->workers, .pack_after_ns = o->pack_after_ns };
    green_sched *sched = green_sched_new(&gc);
    lvm_store *host = lvm_store_new();
    lvm_linker *l = lvm_linker_new();
    wasi_ctx *defctx = wasi_ctx_new(0, NULL, 0, NULL);
    l14_runtime *rt = NULL;
    lvm_thread_config tc = { .reductions = o->reductions };
    runner r = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL };
    end_arg *eargs = calloc(ntests ? ntests : 1, sizeof *eargs);
    status = 1;
    if (!sched || !host || !l || !defctx || !eargs || green_sched_start(sched) != 0 ||
        wasi_define(defctx, host, l) != LVM_OK) {
        fprintf(stderr, "lvm: %s\n", lvm_strerror(LVM_ERR_NO_MEMORY));
        goto out;
    }
    lunatic14_config lc = { .sched = sched, .module = m, .linker = l, .thread = &tc,
                            .memory_limit_pages = o->max_memory_pages };
    if (!(rt = lunatic14_define(&lc, host, l))) {
        fprintf(stderr, "lvm: %s\n", lvm_strerror(LVM_ERR_NO_MEMORY));
        goto out;
    }

    printf("\nrunning %zu test%s\n", ntests, ntests == 1 ? "" : "s");
    fflush(stdout);
    size_t nignored = 0, running = 0, passed = 0, failed = 0;
    for (size_t i = 0; i < ntests; i++) {
        if (tests[i].ignored) {
            printf("test %s ... " YELLOW "ignored" RESET "\n", tests[i].name);
            nignored++;
        }
    }
    fflush(stdout);
    for (size_t i = 0; i < ntests; i++) {
        test *t = &tests[i];
        if (t->ignored)
            continue;
        eargs[i] = (end_arg){ &r, t };
        lvm_diag diag = { .err = LVM_OK, .offset = LVM_NO_OFFSET, .message = "" };
        if (!(t->ctx = test_ctx(&a, o, t, !a.nocapture)) || !(t->env = lunatic14_env_new(rt)) ||
            !(t->p = lunatic14_spawn_root(rt, t->env, t->export, t->ctx, test_ended, &eargs[i],
                                          &diag))) {
            /* It could not start: a failure like any other. */
            if (diag.message[0] && t->cap) {
                note(t, diag.message);
                note(t, "\n");
            }
            pthread_mutex_lock(&r.lock);
            t->end = (lunatic14_end){ .result = diag.err, .failed = true };
            t->done = true;
            if (r.done_tail)
                r.done_tail->next_done = t;
            else
                r.done_head = t;
            r.done_tail = t;
            pthread_mutex_unlock(&r.lock);
        }
        running++;
    }

    /* Results in completion order (D12). */
    for (size_t k = 0; k < running; k++) {
        pthread_mutex_lock(&r.lock);
        while (!r.done_head)
            pthread_cond_wait(&r.cond, &r.lock);
        test *t = r.done_head;
        r.done_head = t->next_done;
        if (!r.done_head)
            r.done_tail = NULL;
        pthread_mutex_unlock(&r.lock);
        bool ok = test_passed(t, a.nocapture);
        t->done = ok;                   /* reused: passed */
        ok ? passed++ : failed++;
        printf("test %s%s ... %s\n", t->name, t->should_panic ? " - should panic" : "",
               ok ? GREEN "ok" RESET : RED "FAILED" RESET);
        fflush(stdout);
    }

    /* The reports (ABI 13.5). */
    for (int pass = 0; pass < 2; pass++) {
        bool successes = pass == 0;
        if (successes ? !a.show_output : failed == 0)
            continue;
        printf("\n%s:\n", successes ? "successes" : "failures");
        for (size_t i = 0; i < ntests; i++) {
            test *t = &tests[i];
            if (t->ignored || t->done != successes || !t->cap)
                continue;
            bool empty;
            char *text = capture_text(t->cap, &empty);
            if (text && !empty)
                printf("\n---- %s stdout ----\n%s", t->name, text);
            free(text);
        }
        printf("\n%s:\n", successes ? "successes" : "failures");
        for (size_t i = 0; i < ntests; i++)
            if (!tests[i].ignored && tests[i].done == successes)
                printf("    %s\n", tests[i].name);
    }
    printf("\ntest result: %s. %zu passed; %zu failed; %zu ignored; 0 measured; %zu filtered "
           "out; finished in %.2fs\n\n", failed ? RED "FAILED" RESET : GREEN "ok" RESET, passed,
           failed, nignored, filtered, seconds_since(&t0));
    fflush(stdout);
    status = failed ? 1 : 0;

out:
    /* Their children are abandoned (ABI 13.3): stopping ends them. */
    if (sched) {
        green_sched_stop(sched);
        green_sched_free(sched);
    }
    for (size_t i = 0; i < ntests; i++) {
        if (tests[i].p)
            lvm_process_release(tests[i].p);
        lunatic14_env_release(tests[i].env);
    }
    lunatic14_free(rt);
    if (l)
        lvm_linker_free(l);
    if (host)
        lvm_store_free(host);
    for (size_t i = 0; i < ntests; i++) {
        wasi_ctx_free(tests[i].ctx);
        wasi_capture_release(tests[i].cap);
    }
    wasi_ctx_free(defctx);
    free(eargs);
    tests_free(tests, ntests);
    free(lists);
    (void)path;
    return status;
}

/* }====== */
