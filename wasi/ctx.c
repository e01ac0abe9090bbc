/*
 * ctx.c - the WASI contexts (shared part and per-process descriptor
 * table), the preopens, and the registration of the host functions.
 *
 * A wasi_ctx is what one process can observe of its host: the shared part
 * (argument and environment strings, already laid out the way args_get
 * hands them out; the preopened directories and sockets), its own table of
 * descriptors, its network grants (caps.c) and its proc_exit code.  A
 * child gets a table of its own whose preopens are dup()s of those its
 * parent holds at the spawn, with the parent's current rights, so a
 * child's fd_close or fd_renumber never touches its parent's descriptors
 * and a parent's never gives a child more than the parent has.
 *
 * Registration walks the tables the preview1_*.c files export.  The list
 * of all preview 1 names is kept here to word error messages.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "process.h"

/* {====== host descriptor budgets
 *
 * Every host descriptor a process holds in its table (not the borrowed
 * stdio) counts against its budget (--max-fds, default 1024) and against
 * the total of all processes (lunatic's TCP sockets count there too,
 * lunatic_net.c).  The total's default leaves a tenth of RLIMIT_NOFILE
 * free, so that lvm itself can always open what it needs to spawn a
 * process or accept on a --tcplisten socket while guests hold the rest;
 * before, one guest could take every descriptor and lvm then reported the
 * shortage as "out of host memory".  Over a budget the guest gets EMFILE
 * (its own) or ENFILE (the total), and the context remembers which, for
 * lvm's message (wasi_ctx_fd_refused).  The descriptors a path walk holds
 * for a moment are not counted: they are closed before the call returns. */

#define DEFAULT_MAX_FDS 1024

static uint32_t fd_budget = DEFAULT_MAX_FDS;
static uint64_t fd_total_limit;         /* 0: not set, the default */
static uint64_t fd_total;               /* held by all processes */

void wasi_set_fd_limits(uint32_t per_process, uint64_t total)
{
    __atomic_store_n(&fd_budget, per_process ? per_process : DEFAULT_MAX_FDS, __ATOMIC_RELAXED);
    __atomic_store_n(&fd_total_limit, total, __ATOMIC_RELAXED);
}

uint32_t wasi_fd_limit(void)
{
    return __atomic_load_n(&fd_budget, __ATOMIC_RELAXED);
}

uint64_t wasi_fd_total_limit(void)
{
    uint64_t limit = __atomic_load_n(&fd_total_limit, __ATOMIC_RELAXED);
    if (limit)
        return limit;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return UINT64_MAX;
    return (uint64_t)rl.rlim_cur / 10 * 9;
}

uint64_t wasi_fd_total(void)
{
    return __atomic_load_n(&fd_total, __ATOMIC_RELAXED);
}

bool wasi_host_fd_charge(void)
{
    uint64_t limit = wasi_fd_total_limit();
    uint64_t n = __atomic_load_n(&fd_total, __ATOMIC_RELAXED);
    do {
        if (n >= limit)
            return false;
    } while (!__atomic_compare_exchange_n(&fd_total, &n, n + 1, true, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return true;
}

void wasi_host_fd_uncharge(void)
{
    __atomic_sub_fetch(&fd_total, 1, __ATOMIC_RELAXED);
}

/* The host descriptors ctx holds: open slots that are not borrowed. */
static uint32_t fds_held(const wasi_ctx *ctx)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < ctx->nfds; i++)
        n += ctx->fds[i].open && !ctx->fds[i].borrowed;
    return n;
}

/* Take one host descriptor of ctx's budget and of the total: 0, or
 * EMFILE / ENFILE (recorded in ctx->fd_refused).  ctx->host_fds is an
 * upper bound - a release gets only the slot, not the context, so it
 * cannot count down - made exact by a recount when it reaches the budget:
 * one pass over the table then, and none on the way up to it. */
static int fd_take(wasi_ctx *ctx)
{
    uint32_t budget = wasi_fd_limit();
    if (ctx->host_fds >= budget)
        ctx->host_fds = fds_held(ctx);
    if (ctx->host_fds >= budget)
        return ctx->fd_refused = ctx->fd_ever_refused = EMFILE;
    if (!wasi_host_fd_charge())
        return ctx->fd_refused = ctx->fd_ever_refused = ENFILE;
    ctx->host_fds++;
    return 0;
}

int wasi_ctx_fd_refused(const wasi_ctx *ctx)
{
    return ctx->fd_ever_refused;
}

/* }====== */

/* {====== strings */

/* Copy n C strings into one buffer with their offsets.  Fails (false) when
 * out of memory or when the total does not fit the guest's u32 sizes: the
 * guest must be able to allocate count * 4 + size bytes. */
static bool strings_init(wasi_strings *out, int n, const char *const strs[])
{
    memset(out, 0, sizeof *out);
    if (n < 0)
        return false;
    uint64_t size = 0;
    for (int i = 0; i < n; i++)
        size += strlen(strs[i]) + 1;
    if (size > UINT32_MAX || (uint64_t)n * 4 > UINT32_MAX)
        return false;
    out->offsets = lvm_xcalloc((size_t)n, sizeof *out->offsets);
    out->buf = lvm_xcalloc((size_t)size, 1);
    if (!out->offsets || !out->buf) {
        free(out->offsets);
        free(out->buf);
        return false;
    }
    uint32_t at = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(strs[i]) + 1;
        out->offsets[i] = at;
        memcpy(out->buf + at, strs[i], len);
        at += (uint32_t)len;
    }
    out->count = (uint32_t)n;
    out->size = (uint32_t)size;
    return true;
}

static void strings_free(wasi_strings *s)
{
    free(s->offsets);
    free(s->buf);
}

/* }====== */

/* {====== the shared part */

/* The type of the host's standard descriptor host_fd (see stdio_fd). */
static uint8_t stdio_type(int host_fd)
{
    struct stat st;
    return fstat(host_fd, &st) == 0 ? wasi_filetype_of_mode(st.st_mode) : WASI_FILETYPE_UNKNOWN;
}

static wasi_shared *shared_new(int argc, const char *const argv[], int envc, const char *const envp[])
{
    wasi_shared *sh = lvm_xcalloc(1, sizeof *sh);
    if (!sh)
        return NULL;
    for (int i = 0; i < WASI_NSTDIO; i++)
        sh->stdio_type[i] = stdio_type(i);
    if (!strings_init(&sh->args, argc, argv)) {
        free(sh);
        return NULL;
    }
    if (!strings_init(&sh->env, envc, envp)) {
        strings_free(&sh->args);
        free(sh);
        return NULL;
    }
    atomic_init(&sh->refs, 1);
    return sh;
}

static void shared_release(wasi_shared *sh)
{
    if (atomic_fetch_sub(&sh->refs, 1) != 1)
        return;
    for (uint32_t i = 0; i < sh->npreopens; i++) {
        close(sh->preopens[i].host_fd);
        free(sh->preopens[i].guest_path);
    }
    free(sh->preopens);
    strings_free(&sh->args);
    strings_free(&sh->env);
    free(sh);
}

/* Append a preopen (taking host_fd); returns 0 or ENOMEM. */
static int shared_add(wasi_shared *sh, int host_fd, const char *guest_path)
{
    wasi_preopen *grown = realloc(sh->preopens, (sh->npreopens + 1) * sizeof *grown);
    char *name = guest_path ? strdup(guest_path) : NULL;
    if (!grown || (guest_path && !name)) {
        if (grown)
            sh->preopens = grown;
        free(name);
        close(host_fd);
        return ENOMEM;
    }
    sh->preopens = grown;
    sh->preopens[sh->npreopens++] = (wasi_preopen){ host_fd, name };
    return 0;
}

/* }====== */

/* {====== descriptor tables */

/* The standard descriptors are the host's 0-2, borrowed.  stdin may be
 * read, stdout and stderr written; none may seek or tell, even when the
 * host's is a file, because lvm must not move an offset it shares with the
 * shell that started it.  The type is the host's, so that wasi-libc's
 * isatty() (a character device without seek rights) answers as natively. */
static wasi_fd stdio_fd(const wasi_shared *sh, int host_fd)
{
    uint8_t type = sh->stdio_type[host_fd];
    uint64_t rights = WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_POLL_FD_READWRITE |
                      WASI_RIGHT_FD_FDSTAT_SET_FLAGS |
                      (host_fd == 0 ? WASI_RIGHT_FD_READ : WASI_RIGHT_FD_WRITE);
    return (wasi_fd){ .host_fd = host_fd, .open = true, .borrowed = true, .type = type,
                      .rights = rights };
}

/* Give ctx its own descriptor for a shared preopen: a dup, so that closing
 * or renumbering it touches no other process.  Returns 0 or a host errno. */
static int insert_preopen(wasi_ctx *ctx, const wasi_preopen *pre)
{
    int fd = fcntl(pre->host_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    wasi_fd f = { .host_fd = fd, .open = true, .preopened = true };
    if (pre->guest_path) {
        /* A directory may do everything to what is below it. */
        f.type = WASI_FILETYPE_DIRECTORY;
        f.rights = WASI_RIGHTS_DIRECTORY;
        f.inheriting = WASI_RIGHTS_DIRECTORY | WASI_RIGHTS_REGULAR_FILE;
        f.preopen = pre->guest_path;
    } else {
        f.type = WASI_FILETYPE_SOCKET_STREAM;
        f.rights = WASI_RIGHTS_STREAM;
        f.inheriting = WASI_RIGHTS_STREAM;
    }
    if (wasi_fd_insert(ctx, &f) == UINT32_MAX) {
        close(fd);
        return ctx->fd_refused ? ctx->fd_refused : ENOMEM;
    }
    return 0;
}

/* Fill a fresh table with stdio. */
static bool table_init(wasi_ctx *ctx)
{
    for (int i = 0; i < WASI_NSTDIO; i++) {
        wasi_fd f = stdio_fd(ctx->shared, i);
        if (wasi_fd_insert(ctx, &f) == UINT32_MAX)
            return false;
    }
    return true;
}

/* Give child its own copy of each preopen `parent` holds now, in the
 * parent's order: the same kind, name and rights, a dup of the parent's
 * host descriptor (so closing or renumbering it touches no other
 * process).  Why from the parent's table and not from the shared list of
 * what lvm was started with: a preopen the parent closed, or whose rights
 * it dropped, must stay so for every child (a program confines the
 * modules it runs to less than it has itself); the shared list would
 * hand back a fresh full-rights copy.  Returns 0 or a host errno. */
static int copy_preopens(wasi_ctx *child, const wasi_ctx *parent)
{
    for (uint32_t i = 0; i < parent->nfds; i++) {
        const wasi_fd *pf = &parent->fds[i];
        if (!pf->open || !pf->preopened)
            continue;
        int fd = fcntl(pf->host_fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
            return errno;
        wasi_fd f = { .host_fd = fd, .open = true, .preopened = true, .type = pf->type,
                      .rights = pf->rights, .inheriting = pf->inheriting,
                      .preopen = pf->preopen };
        if (wasi_fd_insert(child, &f) == UINT32_MAX) {
            close(fd);
            return child->fd_refused ? child->fd_refused : ENOMEM;
        }
    }
    return 0;
}

wasi_fd *wasi_fd_get(wasi_ctx *ctx, uint32_t fd)
{
    if (fd >= ctx->nfds || !ctx->fds[fd].open)
        return NULL;
    return &ctx->fds[fd];
}

uint32_t wasi_fd_lookup_kind(wasi_ctx *ctx, uint32_t fd, wasi_fd_kind kind, uint32_t wrong_kind,
                             uint64_t need, wasi_fd **out)
{
    wasi_fd *f = wasi_fd_get(ctx, fd);
    if (!f)
        return WASI_EBADF;
    bool ok = kind == WASI_KIND_ANY ? true
            : kind == WASI_KIND_DIR ? f->type == WASI_FILETYPE_DIRECTORY
            : kind == WASI_KIND_FILE ? wasi_fd_is_file(f)
            : f->type == WASI_FILETYPE_SOCKET_STREAM;
    if (!ok)
        return wrong_kind;
    if ((f->rights & need) != need)
        return WASI_ENOTCAPABLE;
    *out = f;
    return WASI_ESUCCESS;
}

uint32_t wasi_fd_lookup(wasi_ctx *ctx, uint32_t fd, uint64_t need, wasi_fd **out)
{
    return wasi_fd_lookup_kind(ctx, fd, WASI_KIND_ANY, WASI_EBADF, need, out);
}

uint32_t wasi_fd_insert(wasi_ctx *ctx, const wasi_fd *f)
{
    ctx->fd_refused = 0;
    if (!f->borrowed && fd_take(ctx) != 0)
        return UINT32_MAX;
    uint32_t i = 0;
    while (i < ctx->nfds && ctx->fds[i].open)
        i++;
    if (i == ctx->nfds) {
        /* Descriptor numbers are dense, as POSIX's: double the table. */
        uint32_t n = ctx->nfds * 2;
        wasi_fd *grown = n > (1u << 20)          ? NULL
                         : ctx->fds == ctx->fds0 ? malloc(n * sizeof *grown)
                                                 : realloc(ctx->fds, n * sizeof *grown);
        if (grown && ctx->fds == ctx->fds0)
            memcpy(grown, ctx->fds0, sizeof ctx->fds0);
        if (!grown) {
            if (!f->borrowed) {
                wasi_host_fd_uncharge();
                ctx->host_fds--;
            }
            return UINT32_MAX;          /* out of memory, or a leak past 2^20 */
        }
        memset(grown + ctx->nfds, 0, (n - ctx->nfds) * sizeof *grown);
        ctx->fds = grown;
        ctx->nfds = n;
    }
    ctx->fds[i] = *f;
    ctx->fds[i].open = true;
    return i;
}

void wasi_fd_release(wasi_fd *f)
{
    if (f->dir) {
        closedir(f->dir);   /* its own dup of host_fd (see fd_readdir) */
        f->dir = NULL;
    }
    if (!f->borrowed) {
        /* A worker's reactor may still watch this number for the process
         * that last blocked on it: cancel that before the number is reused. */
        lvm_process *self = lvm_process_self();
        if (self)
            green_forget_fd(self->g.sched, f->host_fd);
        close(f->host_fd);
        wasi_host_fd_uncharge();
    }
    memset(f, 0, sizeof *f);
}

/* }====== */

/* {====== contexts */

/* A context over sh (whose reference it takes) with network grants caps
 * (taken too) and stdio. */
static wasi_ctx *ctx_with(wasi_shared *sh, wasi_caps *caps)
{
    wasi_ctx *ctx = lvm_xcalloc(1, sizeof *ctx);
    if (!ctx) {
        shared_release(sh);
        wasi_caps_release(caps);
        return NULL;
    }
    ctx->shared = sh;
    ctx->caps = caps;
    ctx->fds = ctx->fds0;
    ctx->nfds = WASI_FDS0;
    if (!caps || !table_init(ctx)) {
        wasi_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

wasi_ctx *wasi_ctx_new(int argc, const char *const argv[], int envc, const char *const envp[])
{
    wasi_shared *sh = shared_new(argc, argv, envc, envp);
    if (!sh)
        return NULL;
    return ctx_with(sh, wasi_caps_new());   /* on failure it has released both */
}

/* A captured stdout or stderr is a stream that takes every write whole
 * and is never read (it has only the write right, so fd_read is EBADF, as
 * on a write-only terminal).  Its type is UNKNOWN whatever lvm's own
 * stdout is: what WASI calls a pipe, and what wasmtime and lunatic report
 * for their in-memory pipes.  CHARACTER_DEVICE was the alternative, but
 * wasi-libc's isatty() takes a character device without seek rights for
 * a terminal, and programs would then colour their output into the
 * capture; the host's own type would make a test's output depend on
 * where lvm's stdout goes. */
int wasi_ctx_capture(wasi_ctx *ctx, wasi_capture *c)
{
    int i = wasi_capture_stream_new(c);
    if (i < 0)
        return -1;
    wasi_capture_release(ctx->capture);
    ctx->capture = wasi_capture_retain(c);
    ctx->capture_stream = i;
    for (uint32_t fd = 0; fd < ctx->nfds; fd++) {
        wasi_fd *f = &ctx->fds[fd];
        if (f->open && f->borrowed && (f->host_fd == 1 || f->host_fd == 2))
            f->type = WASI_FILETYPE_UNKNOWN;
    }
    return i;
}

/* A child of a captured context is captured too, in a stream of its own. */
static bool capture_child(wasi_ctx *child, const wasi_ctx *parent)
{
    return !parent->capture || wasi_ctx_capture(child, parent->capture) >= 0;
}

wasi_ctx *wasi_ctx_child(const wasi_ctx *parent, const wasi_grant *g)
{
    /* Passing the parent's own grants shares them (the common spawn);
     * anything else is intersected with them (caps.c). */
    wasi_caps *caps = g->net == parent->caps ? wasi_caps_retain(parent->caps)
                                             : wasi_caps_narrow(parent->caps, g->net);
    atomic_fetch_add(&parent->shared->refs, 1);
    wasi_ctx *ctx = ctx_with(parent->shared, caps);
    if (ctx && ((g->preopens && copy_preopens(ctx, parent) != 0) || !capture_child(ctx, parent))) {
        wasi_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

wasi_ctx *wasi_ctx_new_child(const wasi_ctx *parent)
{
    wasi_grant all = { .preopens = true, .net = parent->caps };
    return wasi_ctx_child(parent, &all);
}

/* {====== contexts from a lunatic 0.14 config (wasi_ctx_configured) */

/* The parent's preopened directory that `path` names or lies below (the
 * longest guest name that matches wins), and the rest of the path below
 * it ("" for the directory itself); NULL if none.  A guest name "." (or
 * one not starting with '/') takes the relative paths below it. */
static const wasi_fd *config_base(const wasi_ctx *parent, const char *path, const char **rest)
{
    const wasi_fd *best = NULL;
    size_t best_len = 0;
    for (uint32_t i = 0; i < parent->nfds; i++) {
        const wasi_fd *f = &parent->fds[i];
        if (!f->open || !f->preopened || f->type != WASI_FILETYPE_DIRECTORY || !f->preopen)
            continue;
        const char *g = f->preopen;
        size_t gl = strlen(g);
        while (gl > 1 && g[gl - 1] == '/')
            gl--;                       /* "data/" names "data" */
        const char *r = NULL;
        if (strcmp(g, ".") == 0 || gl == 0) {
            if (path[0] != '/')
                r = path;               /* relative: below "." */
        } else if (strncmp(path, g, gl) == 0 && (path[gl] == '\0' || path[gl] == '/' ||
                                                 (gl == 1 && g[0] == '/'))) {
            r = path + gl;
        }
        if (!r || (best && gl <= best_len))
            continue;
        best = f;
        best_len = gl;
        *rest = r;
    }
    if (best) {
        while (**rest == '/')
            (*rest)++;
        if (strcmp(*rest, ".") == 0)
            *rest = "";
    }
    return best;
}

static int host_errno_of(uint32_t wasi_err)
{
    switch (wasi_err) {
    case WASI_ENOENT: return ENOENT;
    case WASI_ENOTDIR: return ENOTDIR;
    case WASI_ELOOP: return ELOOP;
    case WASI_EACCES: return EACCES;
    case WASI_ENAMETOOLONG: return ENAMETOOLONG;
    case WASI_EILSEQ: return EILSEQ;
    default: return EPERM;              /* ENOTCAPABLE and the rest */
    }
}

/* Open one config preopen through the parent's directories: 0 and a
 * descriptor for it with rights no wider than the parent could hand
 * down, or a host errno and why. */
static int config_open(const wasi_ctx *parent, const char *path, wasi_fd *out, char *why,
                       size_t why_cap)
{
    const char *rest = NULL;
    const wasi_fd *base = config_base(parent, path, &rest);
    if (!base) {
        snprintf(why, why_cap, "cannot preopen '%s': it is not a directory this process holds, "
                 "nor below one", path);
        return EPERM;
    }
    int fd;
    uint64_t rights;
    if (!*rest) {
        fd = fcntl(base->host_fd, F_DUPFD_CLOEXEC, 0);
        rights = base->rights;
    } else {
        /* The sandboxed walk of path_open, over a host string. */
        wasi_mem m = { (uint8_t *)rest, strlen(rest), NULL };
        wasi_path wp;
        uint32_t e = wasi_path_resolve(base, &m, 0, (uint32_t)m.size, true, &wp);
        if (e) {
            snprintf(why, why_cap, "cannot preopen '%s': %s", path,
                     e == WASI_ENOTCAPABLE ? "it leads outside the directory it is below"
                                           : strerror(host_errno_of(e)));
            return host_errno_of(e);
        }
        fd = openat(wp.dirfd, wp.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        wasi_path_done(&wp);
        /* What path_open below base could have given it. */
        rights = base->inheriting & WASI_RIGHTS_DIRECTORY;
    }
    if (fd < 0) {
        int e = errno;
        snprintf(why, why_cap, "cannot preopen '%s': %s", path, strerror(e));
        return e;
    }
    *out = (wasi_fd){ .host_fd = fd, .open = true, .preopened = true,
                      .type = WASI_FILETYPE_DIRECTORY, .rights = rights,
                      .inheriting = base->inheriting };
    return 0;
}

wasi_ctx *wasi_ctx_configured(const wasi_ctx *parent, int argc, const char *const argv[],
                              int envc, const char *const envp[], int npreopens,
                              const char *const preopens[], int *err, char *why, size_t why_cap)
{
    why[0] = '\0';
    wasi_shared *sh = shared_new(argc, argv, envc, envp);
    wasi_ctx *ctx = sh ? ctx_with(sh, wasi_caps_retain(parent->caps)) : NULL;
    if (ctx && !capture_child(ctx, parent)) {
        wasi_ctx_free(ctx);
        ctx = NULL;
    }
    if (!ctx) {
        *err = ENOMEM;
        return NULL;
    }
    for (int i = 0; i < npreopens; i++) {
        wasi_fd f = { .host_fd = -1 };
        int e = config_open(parent, preopens[i], &f, why, why_cap);
        /* The shared list owns the name the descriptor reports (and a
         * dup of the directory, as for every preopen). */
        if (!e) {
            int keep = fcntl(f.host_fd, F_DUPFD_CLOEXEC, 0);
            e = keep < 0 ? errno : shared_add(sh, keep, preopens[i]);
            if (e)
                close(f.host_fd);
        }
        if (!e) {
            f.preopen = sh->preopens[sh->npreopens - 1].guest_path;
            if (wasi_fd_insert(ctx, &f) == UINT32_MAX) {
                close(f.host_fd);
                e = ctx->fd_refused ? ctx->fd_refused : ENOMEM;
                snprintf(why, why_cap, "cannot preopen '%s': %s", preopens[i], strerror(e));
            }
        }
        if (e) {
            *err = e;
            wasi_ctx_free(ctx);
            return NULL;
        }
    }
    return ctx;
}

/* }====== */

wasi_caps *wasi_ctx_caps(wasi_ctx *ctx)
{
    return ctx->caps;
}

void wasi_ctx_free(wasi_ctx *ctx)
{
    if (!ctx)
        return;
    wasi_ctx_exited(ctx);               /* before the descriptors go */
    for (uint32_t i = 0; i < ctx->nfds; i++)
        if (ctx->fds[i].open)
            wasi_fd_release(&ctx->fds[i]);
    if (ctx->fds != ctx->fds0)
        free(ctx->fds);
    shared_release(ctx->shared);
    wasi_caps_release(ctx->caps);
    wasi_capture_release(ctx->capture);
    free(ctx);
}

/* A new preopen goes into the shared list and, as the next descriptor,
 * into this context's table.  Contexts are configured before any process
 * runs, so the table is still stdio plus the earlier preopens. */
static int add_preopen(wasi_ctx *ctx, int host_fd, const char *guest_path)
{
    int err = shared_add(ctx->shared, host_fd, guest_path);
    if (err)
        return err;
    return insert_preopen(ctx, &ctx->shared->preopens[ctx->shared->npreopens - 1]);
}

int wasi_ctx_preopen_dir(wasi_ctx *ctx, const char *host_path, const char *guest_path)
{
    /* O_RDONLY rather than O_PATH: fd_readdir needs a readable directory,
     * and O_PATH is Linux-only. */
    int fd = open(host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    return add_preopen(ctx, fd, guest_path);
}

int wasi_ctx_listen_tcp(wasi_ctx *ctx, const char *addr_port)
{
    char host[256];
    const char *colon = strrchr(addr_port, ':');
    if (!colon || (size_t)(colon - addr_port) >= sizeof host)
        return EINVAL;
    memcpy(host, addr_port, (size_t)(colon - addr_port));
    host[colon - addr_port] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return EINVAL;
    /* Non-blocking (io_tcp_listen): it is lvm's own socket, so
     * sock_accept can find out that nobody is waiting without stopping
     * the worker thread. */
    int fd = io_tcp_listen(host, (uint16_t)port, 128);
    if (fd < 0)
        return -fd;
    return add_preopen(ctx, fd, NULL);
}

bool wasi_exit_code(const wasi_ctx *ctx, uint32_t *code_out)
{
    if (ctx->exited && code_out)
        *code_out = ctx->exit_code;
    return ctx->exited;
}

wasi_ctx *wasi_ctx_of(const lvm_hostcall *call)
{
    lvm_process *self = lvm_process_self();
    if (self && self->wasi)
        return self->wasi;
    return call->data;
}

/* }====== */

/* {====== time and blocking */

uint64_t wasi_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

lvm_err wasi_block_on_fd(int host_fd, bool for_write)
{
    lvm_process *self = lvm_process_self();
    if (self && green_wait_fd(&self->g, host_fd, for_write ? IO_WRITE : IO_READ) == 0)
        return LVM_ERR_BLOCK;
    /* No process to suspend (a host call made outside the scheduler), or
     * an fd the reactor cannot watch: wait on this thread. */
    struct pollfd pfd = { host_fd, for_write ? POLLOUT : POLLIN, 0 };
    while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
        ;
    return LVM_OK;
}

uint8_t wasi_filetype_of_mode(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return WASI_FILETYPE_REGULAR_FILE;
    case S_IFDIR: return WASI_FILETYPE_DIRECTORY;
    case S_IFCHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFBLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFSOCK: return WASI_FILETYPE_SOCKET_STREAM;
    case S_IFLNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    default: return WASI_FILETYPE_UNKNOWN;     /* pipes: WASI has no type */
    }
}

/* }====== */

/* {====== registration */

/* Every table of host functions: all 46 of preview 1 between them. */
static const wasi_import *const tables[] = {
    wasi_preview1_proc,
    wasi_preview1_fd,
    wasi_preview1_path,
    wasi_preview1_poll,
};

lvm_err wasi_define(wasi_ctx *ctx, lvm_store *s, lvm_linker *l)
{
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        for (const wasi_import *imp = tables[t]; imp->name; imp++) {
            lvm_func *f = lvm_func_new_host(s, imp->type, imp->fn, ctx);
            if (!f)
                return LVM_ERR_NO_MEMORY;
            lvm_extern ext = { .kind = LVM_EXTERN_FUNC, .u.func = f };
            lvm_err err = lvm_linker_define(l, WASI_MODULE, imp->name, ext);
            if (err != LVM_OK)
                return err;
        }
    }
    return LVM_OK;
}

/* Every function of wasi_snapshot_preview1, as its witx lists them
 * (sock_accept was added to the snapshot after the first 45). */
static const char *const preview1_names[] = {
    "args_get", "args_sizes_get", "environ_get", "environ_sizes_get",
    "clock_res_get", "clock_time_get", "fd_advise", "fd_allocate",
    "fd_close", "fd_datasync", "fd_fdstat_get", "fd_fdstat_set_flags",
    "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size",
    "fd_filestat_set_times", "fd_pread", "fd_prestat_get",
    "fd_prestat_dir_name", "fd_pwrite", "fd_read", "fd_readdir",
    "fd_renumber", "fd_seek", "fd_sync", "fd_tell", "fd_write",
    "path_create_directory", "path_filestat_get", "path_filestat_set_times",
    "path_link", "path_open", "path_readlink", "path_remove_directory",
    "path_rename", "path_symlink", "path_unlink_file", "poll_oneoff",
    "proc_exit", "proc_raise", "sched_yield", "random_get", "sock_accept",
    "sock_recv", "sock_send", "sock_shutdown",
};

bool wasi_is_preview1_name(const char *name)
{
    for (size_t i = 0; i < sizeof preview1_names / sizeof preview1_names[0]; i++)
        if (strcmp(name, preview1_names[i]) == 0)
            return true;
    return false;
}

/* }====== */

/* {====== errno mapping */

uint32_t wasi_errno_from_host(int host_errno)
{
    /* Every errno WASI has a name for; POSIX leaves the numbers to each
     * system, hence a switch and not a table.  Duplicated values
     * (EWOULDBLOCK == EAGAIN, ENOTSUP == EOPNOTSUPP on Linux) are guarded. */
    switch (host_errno) {
    case 0: return WASI_ESUCCESS;
    case E2BIG: return WASI_E2BIG;
    case EACCES: return WASI_EACCES;
    case EADDRINUSE: return WASI_EADDRINUSE;
    case EADDRNOTAVAIL: return WASI_EADDRNOTAVAIL;
    case EAFNOSUPPORT: return WASI_EAFNOSUPPORT;
    case EAGAIN: return WASI_EAGAIN;
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK: return WASI_EAGAIN;
#endif
    case EALREADY: return WASI_EALREADY;
    case EBADF: return WASI_EBADF;
    case EBADMSG: return WASI_EBADMSG;
    case EBUSY: return WASI_EBUSY;
    case ECANCELED: return WASI_ECANCELED;
    case ECHILD: return WASI_ECHILD;
    case ECONNABORTED: return WASI_ECONNABORTED;
    case ECONNREFUSED: return WASI_ECONNREFUSED;
    case ECONNRESET: return WASI_ECONNRESET;
    case EDEADLK: return WASI_EDEADLK;
    case EDESTADDRREQ: return WASI_EDESTADDRREQ;
    case EDOM: return WASI_EDOM;
    case EDQUOT: return WASI_EDQUOT;
    case EEXIST: return WASI_EEXIST;
    case EFAULT: return WASI_EFAULT;
    case EFBIG: return WASI_EFBIG;
    case EHOSTUNREACH: return WASI_EHOSTUNREACH;
    case EIDRM: return WASI_EIDRM;
    case EILSEQ: return WASI_EILSEQ;
    case EINPROGRESS: return WASI_EINPROGRESS;
    case EINTR: return WASI_EINTR;
    case EINVAL: return WASI_EINVAL;
    case EIO: return WASI_EIO;
    case EISCONN: return WASI_EISCONN;
    case EISDIR: return WASI_EISDIR;
    case ELOOP: return WASI_ELOOP;
    case EMFILE: return WASI_EMFILE;
    case EMLINK: return WASI_EMLINK;
    case EMSGSIZE: return WASI_EMSGSIZE;
    case EMULTIHOP: return WASI_EMULTIHOP;
    case ENAMETOOLONG: return WASI_ENAMETOOLONG;
    case ENETDOWN: return WASI_ENETDOWN;
    case ENETRESET: return WASI_ENETRESET;
    case ENETUNREACH: return WASI_ENETUNREACH;
    case ENFILE: return WASI_ENFILE;
    case ENOBUFS: return WASI_ENOBUFS;
    case ENODEV: return WASI_ENODEV;
    case ENOENT: return WASI_ENOENT;
    case ENOEXEC: return WASI_ENOEXEC;
    case ENOLCK: return WASI_ENOLCK;
    case ENOLINK: return WASI_ENOLINK;
    case ENOMEM: return WASI_ENOMEM;
    case ENOMSG: return WASI_ENOMSG;
    case ENOPROTOOPT: return WASI_ENOPROTOOPT;
    case ENOSPC: return WASI_ENOSPC;
    case ENOSYS: return WASI_ENOSYS;
    case ENOTCONN: return WASI_ENOTCONN;
    case ENOTDIR: return WASI_ENOTDIR;
    case ENOTEMPTY: return WASI_ENOTEMPTY;
    case ENOTRECOVERABLE: return WASI_ENOTRECOVERABLE;
    case ENOTSOCK: return WASI_ENOTSOCK;
    case ENOTSUP: return WASI_ENOTSUP;
#if EOPNOTSUPP != ENOTSUP
    case EOPNOTSUPP: return WASI_ENOTSUP;
#endif
    case ENOTTY: return WASI_ENOTTY;
    case ENXIO: return WASI_ENXIO;
    case EOVERFLOW: return WASI_EOVERFLOW;
    case EOWNERDEAD: return WASI_EOWNERDEAD;
    case EPERM: return WASI_EPERM;
    case EPIPE: return WASI_EPIPE;
    case EPROTO: return WASI_EPROTO;
    case EPROTONOSUPPORT: return WASI_EPROTONOSUPPORT;
    case EPROTOTYPE: return WASI_EPROTOTYPE;
    case ERANGE: return WASI_ERANGE;
    case EROFS: return WASI_EROFS;
    case ESPIPE: return WASI_ESPIPE;
    case ESRCH: return WASI_ESRCH;
    case ESTALE: return WASI_ESTALE;
    case ETIMEDOUT: return WASI_ETIMEDOUT;
    case ETXTBSY: return WASI_ETXTBSY;
    case EXDEV: return WASI_EXDEV;
    default: return WASI_EIO;
    }
}

/* }====== */
