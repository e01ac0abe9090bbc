/*
 * ctx.c - the per-instance WASI context and the registration of the host
 * functions in a linker.
 *
 * A wasi_ctx holds what the guest can observe of its host: the argument and
 * environment strings (copied once, already laid out the way args_get hands
 * them out), the descriptor table, and the proc_exit code.  One context per
 * instance: when processes arrive each gets its own, so a child's fd_close
 * or exit code never touches its parent's.
 *
 * Registration walks the tables the preview1_*.c files export.  Only
 * implemented functions are registered (see wasi.h for why); the complete
 * list of preview 1 names is kept here only to word error messages.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* {====== the context */

wasi_ctx *wasi_ctx_new(int argc, const char *const argv[], int envc, const char *const envp[])
{
    wasi_ctx *ctx = lvm_xcalloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    if (!strings_init(&ctx->args, argc, argv)) {
        free(ctx);
        return NULL;
    }
    if (!strings_init(&ctx->env, envc, envp)) {
        strings_free(&ctx->args);
        free(ctx);
        return NULL;
    }
    /* The standard descriptors go straight to the host's.  stdin may be
     * read, stdout and stderr written; none can seek (see fd_seek). */
    static const uint64_t common = WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_POLL_FD_READWRITE;
    ctx->fds[0] = (wasi_fd){ 0, true, common | WASI_RIGHT_FD_READ };
    ctx->fds[1] = (wasi_fd){ 1, true, common | WASI_RIGHT_FD_WRITE };
    ctx->fds[2] = (wasi_fd){ 2, true, common | WASI_RIGHT_FD_WRITE };
    return ctx;
}

void wasi_ctx_free(wasi_ctx *ctx)
{
    if (!ctx)
        return;
    strings_free(&ctx->args);
    strings_free(&ctx->env);
    free(ctx);
}

bool wasi_exit_code(const wasi_ctx *ctx, uint32_t *code_out)
{
    if (ctx->exited && code_out)
        *code_out = ctx->exit_code;
    return ctx->exited;
}

wasi_fd *wasi_fd_get(wasi_ctx *ctx, uint32_t fd)
{
    if (fd >= WASI_NSTDIO || !ctx->fds[fd].open)
        return NULL;
    return &ctx->fds[fd];
}

/* }====== */

/* {====== registration */

/* Every table of host functions; the full WASI appends its files here. */
static const wasi_import *const tables[] = {
    wasi_preview1_proc,
    wasi_preview1_fd,
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
    switch (host_errno) {
    case EACCES: return WASI_EACCES;
    case EAGAIN: return WASI_EAGAIN;
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK: return WASI_EAGAIN;
#endif
    case EBADF: return WASI_EBADF;
    case EDQUOT: return WASI_EDQUOT;
    case EFAULT: return WASI_EFAULT;
    case EFBIG: return WASI_EFBIG;
    case EINTR: return WASI_EINTR;
    case EINVAL: return WASI_EINVAL;
    case ENOSPC: return WASI_ENOSPC;
    case EPERM: return WASI_EPERM;
    case EPIPE: return WASI_EPIPE;
    case ESPIPE: return WASI_ESPIPE;
    default: return WASI_EIO;
    }
}

/* }====== */
