/*
 * main.c - the `lvm` command line: run a WASI command, or validate a module.
 *
 *   lvm run [options] FILE.wasm [ARGS...]   (or just: lvm FILE.wasm [ARGS...])
 *   lvm validate FILE.wasm...
 *   lvm --help | --version
 *
 * This file is an embedder like any other: it uses only the public API
 * (vm/lvm.h) and the WASI host functions (wasi/wasi.h).  `run` is the whole
 * life of a program in order: map the file, decode and validate it
 * (lvm_module_load), register WASI, start the scheduler, spawn the main
 * process (instantiating runs the module's start function, if any) that
 * runs the export `_start`, wait for it to end, and turn the way it ended
 * into an exit status.  Besides lvm.h it uses vm/process.h, the bridge
 * that runs an instance as a green process.
 *
 * Exit status (ABI decisions D1, D3, D4; D16 for the arguments):
 *   0     _start returned
 *   N     the guest called proc_exit(N)  (N & 0xff, like any host process)
 *   134   the guest trapped: "lvm: trap in process 1: REASON" and a
 *         backtrace on stderr (128 + SIGABRT, what a native program that
 *         aborts reports; the main process is the first spawned, so 1)
 *   1     lvm could not read, decode, validate or link the module
 *   2     bad usage
 * Everything after FILE.wasm goes to the guest unparsed, and the guest's
 * argv[0] is FILE.wasm exactly as typed.
 *
 * The sandbox is wasmtime's: the guest sees no file unless a --dir gives
 * it a directory, and no environment variable unless --env or
 * --inherit-env gives it one.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"     /* lvm.h, plus LVM_EXTERN_FUNC and friends */
#include "process.h"  /* running an instance as a green process */
#include "wasi.h"
#include "lunatic.h"  /* the lunatic 0.3 host API */

#define LVM_VERSION "0.1.0"

/* `lvm run` options (0: the default). */
typedef struct run_options {
    long workers;               /* scheduler threads: online CPUs */
    long reductions;            /* per slice: 4000, BEAM's CONTEXT_REDS */
    long max_memory_pages;      /* per process: the module's own maximum */
    /* WASI: the arguments of --dir, --env and --tcplisten, in order (they
     * point into argv), and --inherit-env. */
    const char **dirs, **envs, **listens;
    int ndirs, nenvs, nlistens;
    bool inherit_env;
} run_options;

/* Exit statuses of the command line itself (see the header comment). */
enum { EXIT_TRAP = 134, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: lvm run [options] FILE.wasm [ARGS...]  run a WASI command (its _start)\n"
    "       lvm FILE.wasm [ARGS...]                short for `lvm run FILE.wasm ...`\n"
    "       lvm validate FILE.wasm...              decode and validate, run nothing\n"
    "       lvm --help | --version\n"
    "\n"
    "Options of run (they go before FILE.wasm):\n"
    "  --workers N       scheduler threads (default: one per online CPU)\n"
    "  --reductions N    reductions per time slice (default 4000)\n"
    "  --max-memory P    linear memory limit per process, in 64 KiB pages\n"
    "  --dir HOST[::GUEST]  let the program use directory HOST, under the\n"
    "                    name GUEST (default: HOST); may be repeated\n"
    "  --env NAME=VALUE  set a variable in the program's environment\n"
    "  --inherit-env     pass lvm's whole environment (before any --env)\n"
    "  --tcplisten ADDR:PORT  listen there; the socket is the descriptor\n"
    "                    after the --dir ones (sock_accept)\n"
    "  -h, --help        show this help\n"
    "  --                end of options (for a FILE.wasm that starts with '-')\n"
    "\n"
    "Everything after FILE.wasm goes to the program unchanged; it sees\n"
    "FILE.wasm as its argv[0].  It sees no files and no environment\n"
    "variables unless the options above give it some.\n"
    "\n"
    "Exit status: the program's own (proc_exit), 0 when _start returns,\n"
    "134 when it traps, 1 when lvm cannot load or link it, 2 for bad usage.\n";

/* Bad usage: "lvm: WHAT ARG", a pointer to --help, exit status 2. */
static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "lvm: %s%s\n(try `lvm --help`)\n", what, arg);
    return EXIT_USAGE;
}

/* {====== loading */

/* Read a whole file.  Grows the buffer as it goes rather than trusting a
 * size from stat(), so pipes and /dev/stdin work too.  Returns NULL with
 * errno set on failure (EISDIR for a directory, ENOMEM, ...). */
static uint8_t *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;
    int err = 0;
    for (;;) {
        if (len == cap) {
            size_t bigger = cap ? cap * 2 : (size_t)1 << 16;
            uint8_t *grown = bigger > cap ? realloc(buf, bigger) : NULL;
            if (!grown) {
                err = ENOMEM;
                break;
            }
            buf = grown;
            cap = bigger;
        }
        size_t want = cap - len;
        errno = 0;
        size_t got = fread(buf + len, 1, want, f);
        len += got;
        if (got < want) {               /* end of file, or an error */
            if (ferror(f))
                err = errno ? errno : EIO;
            break;
        }
    }
    fclose(f);
    if (err) {
        free(buf);
        errno = err;
        return NULL;
    }
    *len_out = len;
    return buf;
}

/* "lvm: FILE: MESSAGE (at byte offset 0x2a)" */
static void print_diag(const char *path, const lvm_diag *d)
{
    fprintf(stderr, "lvm: %s: %s", path, d->message);
    if (d->offset != LVM_NO_OFFSET)
        fprintf(stderr, " (at byte offset 0x%zx)", d->offset);
    fputc('\n', stderr);
}

/* Read, decode and validate FILE; on failure report it and return NULL. */
/* Map a regular file read-only.  Why not read it: a Rust or C program
 * built with debug info is 5-40 MB, mostly DWARF custom sections that the
 * decoder skips without reading - mapped, their pages are never touched,
 * while reading them costs a copy and a page fault per 4 KiB of buffer
 * (5.9 MB: 5.5 ms to validate when read, measured with perf stat).
 * Returns NULL (errno set) for anything that cannot be mapped: the caller
 * then falls back to read_file (pipes, /dev/stdin, empty files). */
static uint8_t *map_file(const char *path, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    void *p = MAP_FAILED;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size <= SIZE_MAX)
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return NULL;
    *len_out = (size_t)st.st_size;
    return p;
}

static lvm_module *load_module(const char *path)
{
    size_t len = 0;
    bool mapped = true;
    uint8_t *bytes = map_file(path, &len);
    if (!bytes) {
        mapped = false;
        bytes = read_file(path, &len);
    }
    if (!bytes) {
        fprintf(stderr, "lvm: %s: %s: %s\n", path, lvm_strerror(LVM_ERR_IO), strerror(errno));
        return NULL;
    }
    lvm_diag diag = { .err = LVM_OK, .offset = LVM_NO_OFFSET, .message = "" };
    lvm_module *m = lvm_module_load(bytes, len, &diag);
    if (mapped)                         /* the module keeps its own copy */
        munmap(bytes, len);
    else
        free(bytes);
    if (!m)
        print_diag(path, &diag);
    return m;
}

/* }====== */

/* {====== run */

/* A trap: the reason, then the frames, innermost first. */
static void print_trap(uint64_t process, const char *reason, const char *frames)
{
    fprintf(stderr, "lvm: trap in process %llu: %s\n", (unsigned long long)process, reason);
    size_t n = strlen(frames);
    if (n) {
        fputs(frames, stderr);
        if (frames[n - 1] != '\n')
            fputc('\n', stderr);
    }
}

/* An import nobody defined.  Every WASI preview 1 function is registered,
 * so an unknown name in the WASI module is a typo or a function of another
 * WASI version: say so.  The vm's message names the import: "unknown
 * import: MODULE.NAME (function)". */
static void print_unknown_import(const char *path, const lvm_diag *d)
{
    static const char prefix[] = WASI_MODULE ".";
    const char *at = strstr(d->message, prefix);
    char name[64] = "";
    if (at) {
        at += sizeof prefix - 1;
        size_t n = strspn(at, "abcdefghijklmnopqrstuvwxyz_0123456789");
        if (n < sizeof name) {
            memcpy(name, at, n);
            name[n] = '\0';
        }
    }
    fprintf(stderr, "lvm: %s: %s%s\n", path, d->message,
            at && !wasi_is_preview1_name(name) ? "; it is not a function of WASI preview 1" : "");
}

/* Turn a failed instantiate or invoke into the exit status, reporting it.
 * diag is NULL for invoke, which has only the error code. */
static int failure_status(const char *path, uint64_t process, lvm_err err, const lvm_diag *diag,
                          const char *backtrace, const wasi_ctx *ctx)
{
    uint32_t code;
    if (err == LVM_ERR_TRAP_EXIT && wasi_exit_code(ctx, &code))
        return (int)(code & 0xff);
    if (lvm_err_is_trap(err)) {
        print_trap(process, diag ? diag->message : lvm_strerror(err), backtrace);
        return EXIT_TRAP;
    }
    if (err == LVM_ERR_UNKNOWN_IMPORT && diag)
        print_unknown_import(path, diag);
    else if (diag)
        print_diag(path, diag);
    else
        fprintf(stderr, "lvm: %s: %s\n", path, lvm_strerror(err));
    return EXIT_FAILURE;
}

/* The main process has ended: wake the thread waiting in run_module. */
typedef struct main_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
} main_wait;

static void main_exited(lvm_process *p)
{
    main_wait *w = lunatic_user_data(p);
    lunatic_process_exited(p);
    pthread_mutex_lock(&w->lock);
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* The main process's WASI context: arguments, the environment (lvm's own
 * with --inherit-env, then each --env, a later NAME replacing an earlier
 * one as a shell's would), the --dir preopens, then the --tcplisten
 * sockets.  Reports problems itself and returns NULL. */
static wasi_ctx *make_wasi(int guest_argc, char **guest_argv, const run_options *o)
{
    extern char **environ;
    int ninherit = 0;
    if (o->inherit_env)
        while (environ[ninherit])
            ninherit++;
    const char **env = calloc((size_t)ninherit + (size_t)o->nenvs + 1, sizeof *env);
    if (!env) {
        fprintf(stderr, "lvm: %s\n", lvm_strerror(LVM_ERR_NO_MEMORY));
        return NULL;
    }
    int nenv = 0;
    for (int i = 0; i < ninherit + o->nenvs; i++) {
        const char *kv = i < ninherit ? environ[i] : o->envs[i - ninherit];
        size_t keylen = strcspn(kv, "=");
        int j = 0;
        while (j < nenv && !(strncmp(env[j], kv, keylen) == 0 && env[j][keylen] == '='))
            j++;
        env[j] = kv;
        if (j == nenv)
            nenv++;
    }
    wasi_ctx *ctx = wasi_ctx_new(guest_argc, (const char *const *)guest_argv, nenv, env);
    free(env);
    if (!ctx) {
        fprintf(stderr, "lvm: %s\n", lvm_strerror(LVM_ERR_NO_MEMORY));
        return NULL;
    }
    for (int i = 0; i < o->ndirs; i++) {
        /* HOST::GUEST, or HOST alone (seen by the guest under its own name). */
        char host[4096];
        const char *arg = o->dirs[i], *sep = strstr(arg, "::");
        size_t hl = sep ? (size_t)(sep - arg) : strlen(arg);
        if (hl >= sizeof host) {
            fprintf(stderr, "lvm: --dir %s: %s\n", arg, strerror(ENAMETOOLONG));
            goto fail;
        }
        memcpy(host, arg, hl);
        host[hl] = '\0';
        int err = wasi_ctx_preopen_dir(ctx, host, sep ? sep + 2 : host);
        if (err) {
            fprintf(stderr, "lvm: --dir %s: %s\n", host, strerror(err));
            goto fail;
        }
    }
    for (int i = 0; i < o->nlistens; i++) {
        int err = wasi_ctx_listen_tcp(ctx, o->listens[i]);
        if (err) {
            fprintf(stderr, "lvm: --tcplisten %s: %s\n", o->listens[i], strerror(err));
            goto fail;
        }
    }
    return ctx;
fail:
    wasi_ctx_free(ctx);
    return NULL;
}

/* Run the module's _start as the main process on a scheduler of `workers`
 * threads; lvm ends when the main process ends (ABI D1).  guest_argv[0]
 * is the file name; returns the exit status. */
static int run_module(const char *path, lvm_module *m, int guest_argc, char **guest_argv,
                      const run_options *o)
{
    int status = EXIT_FAILURE;
    wasi_ctx *ctx = make_wasi(guest_argc, guest_argv, o);
    if (!ctx)
        return EXIT_FAILURE;
    lvm_store *host = lvm_store_new();          /* the WASI host functions */
    lvm_linker *l = lvm_linker_new();
    green_config gc = { .workers = o->workers };
    green_sched *sched = green_sched_new(&gc);
    lvm_process *p = NULL;
    lunatic_runtime *rt = NULL;
    if (!ctx || !host || !l || !sched || green_sched_start(sched) != 0) {
        fprintf(stderr, "lvm: %s\n", lvm_strerror(LVM_ERR_NO_MEMORY));
        goto out;
    }
    lvm_err err = wasi_define(ctx, host, l);
    if (err != LVM_OK) {
        fprintf(stderr, "lvm: %s\n", lvm_strerror(err));
        goto out;
    }
    /* The lunatic API: children share the module, the linker and the
     * main process's limits. */
    lvm_thread_config tc = { .reductions = (int32_t)o->reductions };
    lunatic_config lc = {
        .sched = sched, .module = m, .linker = l, .wasi = ctx,
        .thread = &tc, .memory_limit_pages = (uint32_t)o->max_memory_pages,
    };
    rt = lunatic_define(&lc, host, l);
    if (!rt) {
        fprintf(stderr, "lvm: %s\n", lvm_strerror(LVM_ERR_NO_MEMORY));
        goto out;
    }

    /* A WASI command exports `_start: [] -> []`.  A module without it is a
     * library (or a WASI "reactor"), which lvm cannot run on its own. */
    lvm_functype ft;
    if (!lvm_module_export_functype(m, "_start", &ft)) {
        fprintf(stderr, "lvm: %s: no exported function `_start`: "
                "lvm runs WASI commands, and this module is not one\n", path);
        goto out;
    }
    if (ft.nparams != 0 || ft.nresults != 0) {
        fprintf(stderr, "lvm: %s: `_start` must take no parameters and return nothing\n", path);
        goto out;
    }

    main_wait w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
    char frames[8192] = "";
    void *main_state = lunatic_main_state(rt, &w);
    if (!main_state) {
        fprintf(stderr, "lvm: %s\n", lvm_strerror(LVM_ERR_NO_MEMORY));
        goto out;
    }
    lvm_process_config pc = {
        .thread = &tc, .user = main_state, .on_exit = main_exited,
        .memory_limit_pages = (uint32_t)o->max_memory_pages,
    };
    lvm_diag diag = { .err = LVM_OK, .offset = LVM_NO_OFFSET, .message = "" };
    /* Instantiation happens here; the start function, if any, and then
     * _start run on the workers. */
    p = lvm_process_spawn(sched, m, l, "_start", NULL, &pc, &diag);
    if (!p) {
        /* It would have been process 1: the first one spawned. */
        status = failure_status(path, 1, diag.err, &diag, "", ctx);
        goto out;
    }
    pthread_mutex_lock(&w.lock);
    while (!w.done)
        pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    if (p->result == LVM_OK) {
        status = EXIT_SUCCESS;
    } else {
        lvm_thread_backtrace(p->thread, frames, sizeof frames);
        status = failure_status(path, p->id, p->result, NULL, frames, ctx);
    }

out:
    /* Everything is freed even on the way out, so that leak checkers
     * (make asan) see a clean exit on every path. */
    if (sched) {
        green_sched_stop(sched);        /* other processes end with main */
        green_sched_free(sched);
    }
    lunatic_free(rt);                   /* after the scheduler: no process runs */
    if (p)
        lvm_process_release(p);
    if (l)
        lvm_linker_free(l);
    if (host)
        lvm_store_free(host);
    wasi_ctx_free(ctx);                 /* after the stores that point to it */
    return status;
}

static int run_with_options(int argc, char **argv, run_options *o);

/* lvm run [options] FILE.wasm [ARGS...]; argv[0] is the first word after
 * "run". */
static int cmd_run(int argc, char **argv)
{
    /* Each list can hold at most one entry per word of argv. */
    const char **lists = calloc(3 * (size_t)argc + 3, sizeof *lists);
    if (!lists) {
        fprintf(stderr, "lvm: %s\n", lvm_strerror(LVM_ERR_NO_MEMORY));
        return EXIT_FAILURE;
    }
    run_options o = { .dirs = lists, .envs = lists + argc + 1, .listens = lists + 2 * argc + 2 };
    int status = run_with_options(argc, argv, &o);
    free(lists);
    return status;
}

static int run_with_options(int argc, char **argv, run_options *op)
{
    run_options o = *op;
    int i = 0;
    while (i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return EXIT_SUCCESS;
        }
        if (strcmp(argv[i], "--inherit-env") == 0) {
            o.inherit_env = true;
            i++;
            continue;
        }
        const char **list = strcmp(argv[i], "--dir") == 0         ? &o.dirs[o.ndirs++]
                          : strcmp(argv[i], "--env") == 0         ? &o.envs[o.nenvs++]
                          : strcmp(argv[i], "--tcplisten") == 0   ? &o.listens[o.nlistens++]
                          : NULL;
        if (list) {
            if (i + 1 >= argc)
                return usage_error("missing value for ", argv[i]);
            if (strcmp(argv[i], "--env") == 0 && !strchr(argv[i + 1], '='))
                return usage_error("--env needs NAME=VALUE: ", argv[i + 1]);
            *list = argv[i + 1];
            i += 2;
            continue;
        }
        long *target = strcmp(argv[i], "--workers") == 0       ? &o.workers
                     : strcmp(argv[i], "--reductions") == 0    ? &o.reductions
                     : strcmp(argv[i], "--max-memory") == 0    ? &o.max_memory_pages
                     : NULL;
        if (!target)
            return usage_error("unknown option ", argv[i]);
        if (i + 1 >= argc)
            return usage_error("missing value for ", argv[i]);
        char *end;
        errno = 0;
        long v = strtol(argv[i + 1], &end, 10);
        if (errno || *end || end == argv[i + 1] || v < 1 || v > 65536 * 16)
            return usage_error("not a positive number: ", argv[i + 1]);
        *target = v;
        i += 2;
    }
    if (i >= argc)
        return usage_error("run: missing FILE.wasm", "");
    const char *path = argv[i];

    /* A guest writing to a closed pipe must get EPIPE from fd_write, not
     * kill lvm with SIGPIPE (ABI D14). */
    signal(SIGPIPE, SIG_IGN);

    lvm_module *m = load_module(path);
    if (!m)
        return EXIT_FAILURE;
    int status = run_module(path, m, argc - i, argv + i, &o);
    lvm_module_release(m);
    return status;
}

/* }====== */

/* lvm validate FILE.wasm...: "FILE: valid" for each, or the error. */
static int cmd_validate(int argc, char **argv)
{
    if (argc == 0)
        return usage_error("validate: missing FILE.wasm", "");
    int status = EXIT_SUCCESS;
    for (int i = 0; i < argc; i++) {
        lvm_module *m = load_module(argv[i]);
        if (!m) {
            status = EXIT_FAILURE;
            continue;
        }
        printf("%s: valid\n", argv[i]);
        lvm_module_release(m);
    }
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(argc - 2, argv + 2);
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return EXIT_SUCCESS;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("lvm %s\n", LVM_VERSION);
        return EXIT_SUCCESS;
    }
    if (cmd[0] == '-')
        return usage_error("unknown option ", cmd);
    /* `lvm FILE.wasm ARGS...`: the short form of run (ABI D16).  A file
     * literally named "run" or "validate" needs the long form. */
    return cmd_run(argc - 1, argv + 1);
}
