/*
 * main.c - the `lvm` command line: run a WASI command, or validate a module.
 *
 *   lvm run [options] FILE.wasm [ARGS...]   (or just: lvm [options] FILE.wasm ...)
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
 * --inherit-env gives it one.  Nor any network: the lunatic API's
 * tcp_connect, tcp_bind and resolve need --allow-net, --allow-listen and
 * --allow-dns (wasi/caps.c), and every child gets at most what its parent
 * holds.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"     /* lvm.h, plus LVM_EXTERN_FUNC and friends */
#include "process.h"  /* running an instance as a green process */
#include "wasi.h"
#include "lunatic.h"  /* the lunatic 0.3 host API */
#include "lunatic14.h" /* the lunatic 0.14 host API */
#include "testmode.h" /* lunatic's `cargo test` runner (ABI 0.14, 13) */

#define LVM_VERSION "0.1.0"

/* `lvm run` options (0: the default). */
typedef struct run_options {
    long workers;               /* scheduler threads: online CPUs */
    long reductions;            /* per slice: 4000, BEAM's CONTEXT_REDS */
    long max_memory_pages;      /* per process: the module's own maximum */
    long max_processes;         /* alive at once: LUNATIC_MAX_PROCESSES */
    long max_queued;            /* bytes per channel: LUNATIC_MAX_QUEUED */
    long max_total_memory;      /* bytes, all processes: physical memory */
    long max_fds;               /* host descriptors per process: 1024 */
    long max_total_fds;         /* all processes: 9/10 of RLIMIT_NOFILE */
    long pack_after_ms;         /* parked this long, packed (0: never) */
    bool pack_after_set;        /* else green's GREEN_PACK_AFTER_NS */
    /* WASI: the arguments of --dir, --env and --tcplisten, in order (they
     * point into argv), and --inherit-env. */
    const char **dirs, **envs, **listens;
    int ndirs, nenvs, nlistens;
    bool inherit_env;
    /* Capabilities (wasi/caps.c): the rules of --allow-net=RULE and
     * --allow-listen, in order; a bare --allow-net; --allow-dns. */
    const char **nets, **binds;
    int nnets, nbinds;
    bool net_all, dns;
} run_options;

/* Exit statuses of the command line itself (see the header comment). */
enum { EXIT_TRAP = 134, EXIT_USAGE = 2 };

/* {====== options
 *
 * Every option is one row of the table below: its name, what its value
 * is, and its line of --help, which is generated from the table so that it
 * cannot forget one.  Every option that takes a value takes it as
 * `--opt=VALUE` or as the next word, `--opt VALUE`; a flag refuses
 * `--flag=VALUE`.  The one option whose value is optional, --allow-net,
 * takes it only as `--allow-net=RULE` (Deno's form): in `--allow-net x`
 * the x could as well be FILE.wasm.  Values are checked here, before anything runs (a
 * --dir is opened, a --tcplisten address parsed), and a bad one is a
 * usage error (exit status 2) of one form:
 *
 *   lvm: OPTION: expected WHAT, got 'VALUE'[: WHY]
 *
 * ("got nothing" when the value is missing; "lvm: OPTION: unknown option"
 * for a name that is none), then a pointer to --help.  Why not
 * getopt_long: its messages name neither the value nor what was expected,
 * it checks no values, and by default it permutes argv, while everything
 * after FILE.wasm must reach the program untouched. */

/* The kind of value an option takes, which says how it is checked. */
typedef enum {
    VAL_NONE,           /* a flag */
    VAL_NUMBER,         /* decimal digits only, in [min, max] */
    VAL_DIR,            /* HOST[::GUEST], HOST an existing directory */
    VAL_ENV,            /* NAME=VALUE, NAME not empty */
    VAL_LISTEN,         /* ADDR:PORT: IPv4 or [IPv6], a port 0-65535 */
    VAL_NET,            /* [=RULE], HOST or ADDR[/BITS], then :PORTS; the
                           value is optional, so only in the = form */
    VAL_BIND,           /* ADDR[/BITS]:PORTS */
} value_kind;

typedef enum {
    OPT_HELP, OPT_VERSION, OPT_WORKERS, OPT_REDUCTIONS, OPT_MAX_MEMORY,
    OPT_DIR, OPT_ENV, OPT_INHERIT_ENV, OPT_TCPLISTEN, OPT_ALLOW_NET, OPT_ALLOW_LISTEN,
    OPT_ALLOW_DNS, OPT_MAX_PROCESSES, OPT_MAX_QUEUED, OPT_MAX_TOTAL_MEMORY, OPT_MAX_FDS,
    OPT_MAX_TOTAL_FDS, OPT_PACK_AFTER,
} option_id;

/* The commands an option belongs to. */
enum { CMD_RUN = 1, CMD_VALIDATE = 2 };

typedef struct option {
    option_id id;
    const char *name;           /* "--workers" */
    const char *alias;          /* a short form ("-h"), or NULL */
    value_kind kind;
    const char *value;          /* the value in --help: "N" */
    long min, max;              /* VAL_NUMBER */
    unsigned commands;
    const char *help;           /* --help's text; '\n' continues it */
} option;

/* The limits are the types': reductions are an int32_t budget, and 65536
 * pages (4 GiB) is the most a wasm32 memory can have.  Workers stop at
 * 1024 rather than INT_MAX: no machine lvm runs on has more cores, and a
 * typo such as 99999999999 should be refused, not ask the OS for that
 * many threads. */
static const option options[] = {
    { OPT_WORKERS, "--workers", NULL, VAL_NUMBER, "N", 1, 1024, CMD_RUN,
      "scheduler threads (default: one per online CPU)" },
    { OPT_REDUCTIONS, "--reductions", NULL, VAL_NUMBER, "N", 1, INT32_MAX, CMD_RUN,
      "reductions (calls and loop iterations) per time\nslice (default: 4000, as BEAM)" },
    { OPT_PACK_AFTER, "--pack-after", NULL, VAL_NUMBER, "MS", 0, 86400000, CMD_RUN,
      "a process parked this many milliseconds gives\nback its memory block until it runs again\n"
      "(default: 1; 0: never)" },
    { OPT_MAX_MEMORY, "--max-memory", NULL, VAL_NUMBER, "P", 1, 65536, CMD_RUN,
      "linear memory limit of each process, in 64 KiB\npages (default: the module's own maximum);\n"
      "tables count too, 8 bytes an entry past 8192" },
    { OPT_MAX_TOTAL_MEMORY, "--max-total-memory", NULL, VAL_NUMBER, "BYTES", 65536, 1L << 48,
      CMD_RUN,
      "linear memory and tables of all processes\n"
      "together (default: the physical memory)" },
    { OPT_MAX_FDS, "--max-fds", NULL, VAL_NUMBER, "N", 1, 1L << 20, CMD_RUN,
      "host descriptors (files, sockets) each process\n"
      "may hold; past it, EMFILE (default: 1024)" },
    { OPT_MAX_TOTAL_FDS, "--max-total-fds", NULL, VAL_NUMBER, "N", 1, 1L << 30, CMD_RUN,
      "host descriptors of all processes together;\n"
      "past it, ENFILE (default: 9/10 of lvm's\n"
      "RLIMIT_NOFILE, the rest kept for lvm itself)" },
    { OPT_MAX_PROCESSES, "--max-processes", NULL, VAL_NUMBER, "N", 1, 1L << 30, CMD_RUN,
      "processes alive at once, main included; a spawn\n"
      "past it fails (join gives 1) (default: 1048576)" },
    { OPT_MAX_QUEUED, "--max-queued", NULL, VAL_NUMBER, "BYTES", 1, 1L << 40, CMD_RUN,
      "bytes of messages one channel queues; a send\n"
      "past it waits for room (default: 67108864)" },
    { OPT_DIR, "--dir", NULL, VAL_DIR, "HOST[::GUEST]", 0, 0, CMD_RUN,
      "let the program use directory HOST, under the\n"
      "name GUEST (default: HOST as written);\n"
      "repeatable: descriptors 3, 4, ... in order" },
    { OPT_ENV, "--env", NULL, VAL_ENV, "NAME=VALUE", 0, 0, CMD_RUN,
      "set a variable in the program's environment;\n"
      "repeatable (a later NAME replaces an earlier one)" },
    { OPT_INHERIT_ENV, "--inherit-env", NULL, VAL_NONE, NULL, 0, 0, CMD_RUN,
      "start from lvm's whole environment (--env\nstill overrides)" },
    { OPT_TCPLISTEN, "--tcplisten", NULL, VAL_LISTEN, "ADDR:PORT", 0, 0, CMD_RUN,
      "listen on ADDR (IPv4, or [IPv6]) and PORT; the\n"
      "socket is the descriptor after the --dir ones\n"
      "(for sock_accept); repeatable" },
    { OPT_ALLOW_NET, "--allow-net", NULL, VAL_NET, "RULE", 0, 0, CMD_RUN,
      "let the program connect where RULE says:\n"
      "HOST:PORTS or ADDR[/BITS]:PORTS (ADDR IPv4,\n"
      "[IPv6] or *; PORTS N, LO-HI or *; HOST is\n"
      "resolved once, at start); repeatable; without\n"
      "=RULE: anywhere, and resolve names too" },
    { OPT_ALLOW_LISTEN, "--allow-listen", NULL, VAL_BIND, "ADDR:PORTS", 0, 0, CMD_RUN,
      "let the program listen (tcp_bind) where\n"
      "ADDR[/BITS]:PORTS says; repeatable" },
    { OPT_ALLOW_DNS, "--allow-dns", NULL, VAL_NONE, NULL, 0, 0, CMD_RUN,
      "let the program resolve host names" },
    { OPT_HELP, "--help", "-h", VAL_NONE, NULL, 0, 0, CMD_RUN | CMD_VALIDATE,
      "show this help" },
    { OPT_VERSION, "--version", "-V", VAL_NONE, NULL, 0, 0, CMD_RUN | CMD_VALIDATE,
      "show lvm's version" },
};
enum { NOPTIONS = sizeof options / sizeof options[0] };

/* Where --help's text column starts. */
enum { HELP_COLUMN = 26 };

static void print_usage(FILE *f)
{
    fputs("usage: lvm run [options] FILE.wasm [ARGS...]  run a WASI command (its _start)\n"
          "       lvm [options] FILE.wasm [ARGS...]      the same, shorter\n"
          "       lvm validate FILE.wasm...              decode and validate, run nothing\n"
          "       lvm --help | --version\n"
          "\n"
          "Options go before FILE.wasm; --opt=VALUE and --opt VALUE are the same.\n", f);
    for (int i = 0; i < NOPTIONS; i++) {
        const option *o = &options[i];
        int col = fprintf(f, "  %s%s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "",
                          o->name, o->kind == VAL_NET ? "[=" : o->value ? "=" : "",
                          o->value ? o->value : "", o->kind == VAL_NET ? "]" : "");
        for (const char *h = o->help; *h;) {
            size_t n = strcspn(h, "\n");
            if (col >= HELP_COLUMN) {       /* a long name: text on the next line */
                fputc('\n', f);
                col = 0;
            }
            fprintf(f, "%*s%.*s\n", HELP_COLUMN - col, "", (int)n, h);
            col = 0;
            h += n + (h[n] == '\n');
        }
        if (o->kind == VAL_NUMBER)
            fprintf(f, "%*s(%s from %ld to %ld)\n", HELP_COLUMN, "", o->value, o->min, o->max);
    }
    fprintf(f, "  --%*send of options (for a FILE.wasm that starts with '-')\n",
            HELP_COLUMN - 4, "");
    fputs("\n"
          "Options of validate: only --help and --version.\n"
          "\n"
          "Everything after FILE.wasm goes to the program unchanged; it sees\n"
          "FILE.wasm as its argv[0].  It sees no files, no environment\n"
          "variables and no network unless the options above give it some,\n"
          "and a process it spawns gets at most what it holds itself.\n"
          "\n"
          "Exit status: the program's own (proc_exit), 0 when _start returns,\n"
          "134 when it traps, 1 when lvm cannot load or link it, 2 for bad usage.\n", f);
}

/* Bad usage: "lvm: MESSAGE", a pointer to --help, exit status 2. */
__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lvm: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n(try `lvm --help`)\n", stderr);
    return EXIT_USAGE;
}

/* s as a decimal number in [min, max] (max >= 9).  Digits only: no sign,
 * no spaces, nothing after them (strtol would take " +5" and stop quietly
 * at "5x"); a number past max is refused before it can overflow. */
static bool parse_number(const char *s, long min, long max, long *out)
{
    long v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        int d = *s - '0';
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v < min)
        return false;
    *out = v;
    return true;
}

/* Split --dir's HOST[::GUEST] (at the first "::") into host (cap bytes)
 * and the guest's name (HOST itself when there is no "::").  Returns why
 * it cannot, or NULL. */
static const char *split_dir(const char *arg, char *host, size_t cap, const char **guest)
{
    const char *sep = strstr(arg, "::");
    size_t hl = sep ? (size_t)(sep - arg) : strlen(arg);
    if (hl == 0)
        return "empty HOST";
    if (sep && !sep[2])
        return "empty GUEST";
    if (hl >= cap)
        return strerror(ENAMETOOLONG);
    memcpy(host, arg, hl);
    host[hl] = '\0';
    *guest = sep ? sep + 2 : host;
    return NULL;
}

/* Check --tcplisten's ADDR:PORT the way the listener will read it (the
 * last ':' splits them).  Returns why it is bad, in buf, or NULL. */
static const char *check_listen(const char *arg, char *buf, size_t cap)
{
    const char *colon = strrchr(arg, ':');
    if (!colon)
        return "no :PORT";
    size_t al = (size_t)(colon - arg);
    char addr[INET6_ADDRSTRLEN + 2];
    unsigned char bin[sizeof(struct in6_addr)];
    bool ok = al > 0 && al < sizeof addr;
    if (ok) {
        memcpy(addr, arg, al);
        addr[al] = '\0';
        if (addr[0] == '[' && addr[al - 1] == ']' && al > 2) {
            addr[al - 1] = '\0';
            ok = inet_pton(AF_INET6, addr + 1, bin) == 1;
        } else {
            ok = inet_pton(AF_INET, addr, bin) == 1;
        }
    }
    if (al == 0)
        return "empty ADDR";
    if (!ok) {
        snprintf(buf, cap, "ADDR '%.*s' is not an IPv4 address or an [IPv6] address",
                 (int)al, arg);
        return buf;
    }
    long port;
    if (!parse_number(colon + 1, 0, 65535, &port)) {
        snprintf(buf, cap, "PORT '%s' is not a number from 0 to 65535", colon + 1);
        return buf;
    }
    return NULL;
}

/* What an option's value should be, for messages. */
static const char *expected(const option *o, char *buf, size_t cap)
{
    switch (o->kind) {
    case VAL_NONE:   return "no value";
    case VAL_NUMBER: snprintf(buf, cap, "a number from %ld to %ld", o->min, o->max); return buf;
    case VAL_DIR:    return "HOST[::GUEST]";
    case VAL_ENV:    return "NAME=VALUE";
    case VAL_LISTEN: return "ADDR:PORT";
    case VAL_NET:    return "HOST:PORTS or ADDR[/BITS]:PORTS";
    case VAL_BIND:   return "ADDR[/BITS]:PORTS";
    }
    return "?";
}

/* Check value (not NULL) for o, named `name` as typed, and record it in
 * r.  Returns 0, or EXIT_USAGE after reporting. */
static int take_option(const option *o, const char *name, const char *value, run_options *r)
{
    char want[64], why[1024], host[4096];
    const char *bad = NULL, *guest;
    wasi_net_rule rule;
    long n = 0;
    switch (o->kind) {
    case VAL_NONE:
        break;
    case VAL_NUMBER:
        if (!parse_number(value, o->min, o->max, &n))
            return usage_error("%s: expected %s, got '%s'", name, expected(o, want, sizeof want), value);
        break;
    case VAL_DIR:
        bad = split_dir(value, host, sizeof host, &guest);
        if (!bad) {
            /* Opened now so that a typo is a usage error naming the path,
             * before anything runs; the preopen opens it again. */
            int fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0)
                return usage_error("%s: expected a directory, got '%s': %s", name, host,
                                   strerror(errno));
            close(fd);
        }
        break;
    case VAL_ENV:
        if (!strchr(value, '='))
            return usage_error("%s: expected NAME=VALUE, got '%s'", name, value);
        if (value[0] == '=')
            bad = "empty NAME";
        break;
    case VAL_LISTEN:
        bad = check_listen(value, why, sizeof why);
        break;
    case VAL_NET:
    case VAL_BIND:
        /* A bare --allow-net has no value; a HOST is only looked at here
         * (it is resolved when the grant is made). */
        if (value)
            bad = wasi_net_rule_parse(value, o->kind == VAL_NET, &rule, host, sizeof host, why,
                                      sizeof why);
        break;
    }
    if (bad)
        return usage_error("%s: expected %s, got '%s': %s", name, expected(o, want, sizeof want),
                           value, bad);
    switch (o->id) {
    case OPT_WORKERS:     r->workers = n; break;
    case OPT_REDUCTIONS:  r->reductions = n; break;
    case OPT_PACK_AFTER:  r->pack_after_ms = n; r->pack_after_set = true; break;
    case OPT_MAX_MEMORY:  r->max_memory_pages = n; break;
    case OPT_MAX_PROCESSES: r->max_processes = n; break;
    case OPT_MAX_QUEUED:  r->max_queued = n; break;
    case OPT_MAX_TOTAL_MEMORY: r->max_total_memory = n; break;
    case OPT_MAX_FDS:     r->max_fds = n; break;
    case OPT_MAX_TOTAL_FDS: r->max_total_fds = n; break;
    case OPT_DIR:         r->dirs[r->ndirs++] = value; break;
    case OPT_ENV:         r->envs[r->nenvs++] = value; break;
    case OPT_TCPLISTEN:   r->listens[r->nlistens++] = value; break;
    case OPT_INHERIT_ENV: r->inherit_env = true; break;
    case OPT_ALLOW_NET:
        if (value)
            r->nets[r->nnets++] = value;
        else
            r->net_all = true;
        break;
    case OPT_ALLOW_LISTEN: r->binds[r->nbinds++] = value; break;
    case OPT_ALLOW_DNS:   r->dns = true; break;
    case OPT_HELP:
    case OPT_VERSION:     break;            /* handled by parse_options */
    }
    return 0;
}

/* Parse the options at the front of argv for command `cmd` (CMD_RUN or
 * CMD_VALIDATE, named cmd_name) into r, which may be NULL for validate.
 * Returns -1 with *next at the first word that is not an option (after
 * a "--"), or an exit status: 0 after --help or --version, EXIT_USAGE
 * after a usage error. */
static int parse_options(unsigned cmd, const char *cmd_name, int argc, char **argv,
                         run_options *r, int *next)
{
    int i = 0;
    while (i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
        const char *arg = argv[i++];
        if (strcmp(arg, "--") == 0)
            break;
        /* --name=VALUE, or --name with the value in the next word. */
        const char *eq = strchr(arg, '=');
        int namelen = eq ? (int)(eq - arg) : (int)strlen(arg);
        char name[64];
        snprintf(name, sizeof name, "%.*s", namelen, arg);
        const option *o = NULL;
        for (int k = 0; k < NOPTIONS && !o; k++)
            if (strcmp(name, options[k].name) == 0 ||
                (options[k].alias && strcmp(name, options[k].alias) == 0))
                o = &options[k];
        if (!o)
            return usage_error("%.*s: unknown option", namelen, arg);
        if (!(o->commands & cmd))
            return usage_error("%s: not an option of %s", name, cmd_name);
        const char *value = eq ? eq + 1 : NULL;
        char want[64];
        if (o->kind == VAL_NONE && value)
            return usage_error("%s: expected no value, got '%s'", name, value);
        if (o->kind != VAL_NONE && o->kind != VAL_NET && !value) {
            if (i >= argc)
                return usage_error("%s: expected %s, got nothing", name,
                                   expected(o, want, sizeof want));
            value = argv[i++];
        }
        if (o->id == OPT_HELP) {
            print_usage(stdout);
            return EXIT_SUCCESS;
        }
        if (o->id == OPT_VERSION) {
            printf("lvm %s\n", LVM_VERSION);
            return EXIT_SUCCESS;
        }
        if (take_option(o, name, value, r) != 0)
            return EXIT_USAGE;
    }
    *next = i;
    return -1;
}

/* }====== */

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

/* The same for a 0.14 main process (lunatic14_spawn_root's on_end). */
static void main14_ended(lvm_process *p, const lunatic14_end *end, void *arg)
{
    main_wait *w = arg;
    pthread_mutex_lock(&w->lock);
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* The main process's network grants, from --allow-net, --allow-listen
 * and --allow-dns.  A bare --allow-net is the rule *:* and DNS.  The
 * rules were checked when parsed; what can still fail is a HOST that does
 * not resolve (exit 1, as for any option the OS refuses at start). */
static bool grant_network(wasi_caps *c, const run_options *o)
{
    char why[512];
    if (o->net_all || o->dns)
        wasi_caps_allow_dns(c);
    if (o->net_all && wasi_caps_add_text(c, WASI_NET_CONNECT, "*:*", why, sizeof why) != 0) {
        fprintf(stderr, "lvm: --allow-net: %s\n", why);
        return false;
    }
    for (int i = 0; i < o->nnets; i++) {
        if (wasi_caps_add_text(c, WASI_NET_CONNECT, o->nets[i], why, sizeof why) != 0) {
            fprintf(stderr, "lvm: --allow-net: cannot grant '%s': %s\n", o->nets[i], why);
            return false;
        }
    }
    for (int i = 0; i < o->nbinds; i++) {
        if (wasi_caps_add_text(c, WASI_NET_LISTEN, o->binds[i], why, sizeof why) != 0) {
            fprintf(stderr, "lvm: --allow-listen: cannot grant '%s': %s\n", o->binds[i], why);
            return false;
        }
    }
    return true;
}

/* The main process's WASI context: arguments, the environment (lvm's own
 * with --inherit-env, then each --env, a later NAME replacing an earlier
 * one as a shell's would), the --dir preopens, then the --tcplisten
 * sockets.  Reports problems itself and returns NULL. */
/* After a preopen failed: which descriptor budget refused it, if one did. */
static const char *fd_limit_hint(const wasi_ctx *ctx)
{
    switch (wasi_ctx_fd_refused(ctx)) {
    case EMFILE: return " (over the --max-fds budget of each process)";
    case ENFILE: return " (over --max-total-fds)";
    default:     return "";
    }
}

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
    /* The options were checked when parsed (parse_options): what can
     * still fail here is the OS (a directory removed since, a port in
     * use), which is not bad usage but a failure to start (exit 1). */
    for (int i = 0; i < o->ndirs; i++) {
        char host[4096];
        const char *guest;
        const char *why = split_dir(o->dirs[i], host, sizeof host, &guest);
        int err = why ? EINVAL : wasi_ctx_preopen_dir(ctx, host, guest);
        if (err) {
            fprintf(stderr, "lvm: --dir: cannot preopen '%s': %s%s\n", o->dirs[i],
                    why ? why : strerror(err), fd_limit_hint(ctx));
            goto fail;
        }
    }
    for (int i = 0; i < o->nlistens; i++) {
        int err = wasi_ctx_listen_tcp(ctx, o->listens[i]);
        if (err) {
            fprintf(stderr, "lvm: --tcplisten: cannot listen on '%s': %s%s\n", o->listens[i],
                    strerror(err), fd_limit_hint(ctx));
            goto fail;
        }
    }
    if (!grant_network(wasi_ctx_caps(ctx), o))
        goto fail;
    return ctx;
fail:
    wasi_ctx_free(ctx);
    return NULL;
}

/* Run the module's _start as the main process on a scheduler of `workers`
 * threads; lvm ends when the main process ends (ABI D1).  guest_argv[0]
 * is the file name; returns the exit status. */
/* --pack-after as green_config wants it (0: its default). */
static uint64_t pack_after_ns(const run_options *o)
{
    if (!o->pack_after_set)
        return 0;
    return o->pack_after_ms ? (uint64_t)o->pack_after_ms * 1000000u : UINT64_MAX;
}

static int run_module(const char *path, lvm_module *m, int guest_argc, char **guest_argv,
                      const run_options *o)
{
    int status = EXIT_FAILURE;
    if (o->max_total_memory)
        lvm_set_total_memory_limit((uint64_t)o->max_total_memory);
    wasi_set_fd_limits((uint32_t)o->max_fds, (uint64_t)o->max_total_fds);
    wasi_ctx *ctx = make_wasi(guest_argc, guest_argv, o);
    if (!ctx)
        return EXIT_FAILURE;
    lvm_store *host = lvm_store_new();          /* the WASI host functions */
    lvm_linker *l = lvm_linker_new();
    green_config gc = { .workers = o->workers, .pack_after_ns = pack_after_ns(o) };
    green_sched *sched = green_sched_new(&gc);
    lvm_process *p = NULL;
    lunatic_runtime *rt = NULL;
    l14_runtime *rt14 = NULL;
    l14_env *env14 = NULL;
    if (!ctx || !host || !l || !sched || green_sched_start(sched) != 0) {
        fprintf(stderr, "lvm: %s\n", lvm_strerror(LVM_ERR_NO_MEMORY));
        goto out;
    }
    lvm_err err = wasi_define(ctx, host, l);
    if (err != LVM_OK) {
        fprintf(stderr, "lvm: %s\n", lvm_strerror(err));
        goto out;
    }
    /* The lunatic API, 0.3 or 0.14 after the module's imports (ABI 0.14
     * D-A; a module importing neither runs on the 0.3 side, where it sees
     * exactly what it would see on the other: WASI alone).  Children
     * share the module, the linker and the main process's limits. */
    lvm_thread_config tc = { .reductions = (int32_t)o->reductions };
    bool v14 = lunatic_abi_of(m) == LUNATIC_ABI_14;
    lunatic14_config lc14 = {
        .sched = sched, .module = m, .linker = l, .thread = &tc,
        .memory_limit_pages = (uint32_t)o->max_memory_pages,
        .max_processes = (uint32_t)o->max_processes,
    };
    if (v14 && !(rt14 = lunatic14_define(&lc14, host, l))) {
        fprintf(stderr, "lvm: %s\n", lvm_strerror(LVM_ERR_NO_MEMORY));
        goto out;
    }
    lunatic_config lc = {
        .sched = sched, .module = m, .linker = l, .wasi = ctx,
        .thread = &tc, .memory_limit_pages = (uint32_t)o->max_memory_pages,
        .memory_limit_option = "--max-memory",
        .max_processes = (uint32_t)o->max_processes, .max_processes_option = "--max-processes",
        .max_queued_bytes = (size_t)o->max_queued, .max_queued_option = "--max-queued",
    };
    if (!v14)
        rt = lunatic_define(&lc, host, l);
    if (!v14 && !rt) {
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
    lvm_diag diag = { .err = LVM_OK, .offset = LVM_NO_OFFSET, .message = "" };
    if (v14) {
        /* ABI 0.14 3.1: the main process is process 1 of the run's one
         * environment, with the root config. */
        if (!(env14 = lunatic14_env_new(rt14))) {
            fprintf(stderr, "lvm: %s\n", lvm_strerror(LVM_ERR_NO_MEMORY));
            goto out;
        }
        p = lunatic14_spawn_root(rt14, env14, "_start", ctx, main14_ended, &w, &diag);
    } else {
        void *main_state = lunatic_main_state(rt, &w);
        if (!main_state) {
            fprintf(stderr, "lvm: %s\n", lvm_strerror(LVM_ERR_NO_MEMORY));
            goto out;
        }
        lvm_process_config pc = {
            .thread = &tc, .user = main_state, .on_exit = main_exited,
            .memory_limit_pages = (uint32_t)o->max_memory_pages,
        };
        /* Instantiation happens here; the start function, if any, and
         * then _start run on the workers. */
        p = lvm_process_spawn(sched, m, l, "_start", NULL, &pc, &diag);
    }
    if (!p && diag.err == LVM_ERR_MEMORY_LIMIT) {
        /* The limit is the user's: name the option that set it. */
        fprintf(stderr, "lvm: %s: %s (set by --max-memory %ld)\n", path, diag.message,
                o->max_memory_pages);
        goto out;
    }
    if (!p && diag.err == LVM_ERR_TOTAL_MEMORY_LIMIT) {
        fprintf(stderr, "lvm: %s: %s (%s --max-total-memory)\n", path, diag.message,
                o->max_total_memory ? "set by" : "the physical memory: raise it with");
        goto out;
    }
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
    /* The guest saw -1 from a memory.grow that --max-memory refused; if
     * it then failed, that is likely why.  Once, as it ends, and never
     * for a program that coped and exited 0. */
    lvm_memory *mem = lvm_instance_memory(p->inst);
    if (status != EXIT_SUCCESS && mem && lvm_memory_refused(mem))
        fprintf(stderr, "lvm: process %llu: memory.grow to %u pages failed: over the limit "
                "set by --max-memory %ld\n", (unsigned long long)p->id,
                lvm_memory_refused(mem), o->max_memory_pages);
    else if (status != EXIT_SUCCESS && mem && lvm_memory_refused_total(mem))
        fprintf(stderr, "lvm: process %llu: memory.grow to %u pages failed: all processes "
                "together would pass --max-total-memory %llu\n", (unsigned long long)p->id,
                lvm_memory_refused_total(mem), (unsigned long long)lvm_total_memory_limit());
    /* Likewise for a descriptor a budget refused (the guest saw EMFILE or
     * ENFILE): never "out of host memory". */
    int fds_refused = wasi_ctx_fd_refused(ctx);
    if (status != EXIT_SUCCESS && fds_refused == EMFILE)
        fprintf(stderr, "lvm: process %llu: a new descriptor failed: it held the %u that "
                "--max-fds allows\n", (unsigned long long)p->id, wasi_fd_limit());
    else if (status != EXIT_SUCCESS && fds_refused == ENFILE)
        fprintf(stderr, "lvm: process %llu: a new descriptor failed: all processes together "
                "held the %llu that --max-total-fds allows\n", (unsigned long long)p->id,
                (unsigned long long)wasi_fd_total_limit());

out:
    /* Everything is freed even on the way out, so that leak checkers
     * (make asan) see a clean exit on every path. */
    if (sched) {
        green_sched_stop(sched);        /* other processes end with main */
        green_sched_free(sched);
    }
    lunatic_free(rt);                   /* after the scheduler: no process runs */
    lunatic14_env_release(env14);
    lunatic14_free(rt14);
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
 * "run" (or after "lvm", for the short form). */
static int cmd_run(int argc, char **argv)
{
    /* Each list can hold at most one entry per word of argv. */
    const char **lists = calloc(5 * (size_t)argc + 5, sizeof *lists);
    if (!lists) {
        fprintf(stderr, "lvm: %s\n", lvm_strerror(LVM_ERR_NO_MEMORY));
        return EXIT_FAILURE;
    }
    run_options o = { .dirs = lists, .envs = lists + argc + 1, .listens = lists + 2 * argc + 2,
                      .nets = lists + 3 * argc + 3, .binds = lists + 4 * argc + 4 };
    int status = run_with_options(argc, argv, &o);
    free(lists);
    return status;
}

static int run_with_options(int argc, char **argv, run_options *op)
{
    run_options o = *op;
    int i;
    int status = parse_options(CMD_RUN, "run", argc, argv, &o, &i);
    if (status >= 0)
        return status;
    if (i >= argc)
        return usage_error("run: missing FILE.wasm");
    const char *path = argv[i];

    /* A guest writing to a closed pipe must get EPIPE from fd_write, not
     * kill lvm with SIGPIPE (ABI D14). */
    signal(SIGPIPE, SIG_IGN);

    lvm_module *m = load_module(path);
    if (!m)
        return EXIT_FAILURE;
    if (lunatic_abi_of(m) == LUNATIC_ABI_MIXED) {
        fprintf(stderr, "lvm: %s mixes the lunatic 0.3 and 0.14 ABIs\n", path);
        lvm_module_release(m);
        return EXIT_FAILURE;
    }
    if (testmode_detect(path, argc - i - 1, argv + i + 1)) {
        testmode_opts to = {
            .workers = (int)o.workers, .ndirs = o.ndirs, .dirs = o.dirs, .nenvs = o.nenvs,
            .envs = o.envs, .inherit_env = o.inherit_env, .reductions = (int32_t)o.reductions,
            .max_memory_pages = (uint32_t)o.max_memory_pages,
            .pack_after_ns = pack_after_ns(&o),
        };
        status = testmode_run(path, m, argc - i - 1, argv + i + 1, &to);
        lvm_module_release(m);
        return status;
    }
    status = run_module(path, m, argc - i, argv + i, &o);
    lvm_module_release(m);
    return status;
}

/* }====== */

/* lvm validate [options] FILE.wasm...: "FILE: valid" for each, or the
 * error. */
static int cmd_validate(int argc, char **argv)
{
    int first;
    int status = parse_options(CMD_VALIDATE, "validate", argc, argv, NULL, &first);
    if (status >= 0)
        return status;
    if (first >= argc)
        return usage_error("validate: missing FILE.wasm");
    status = EXIT_SUCCESS;
    for (int i = first; i < argc; i++) {
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
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(argc - 2, argv + 2);
    if (strcmp(cmd, "help") == 0) {
        print_usage(stdout);
        return EXIT_SUCCESS;
    }
    /* `lvm [options] FILE.wasm ARGS...`: the short form of run (ABI D16),
     * which also answers --help and --version.  A file literally named
     * "run", "validate" or "help" needs the long form. */
    return cmd_run(argc - 1, argv + 1);
}
