/*
 * lunatic14_config.c - configs (ABI 9): the process::*config* functions,
 * compile_module / drop_module, and lunatic::wasi, which fills a
 * config's WASI view (arguments, environment, preopens).
 *
 * A config is a template: spawning copies it (l14_config_copy), so a
 * later change never reaches a running child.  What a child may do is
 * exactly its config; what it sees of the host is the config's WASI view
 * narrowed to what its parent holds (wasi_ctx_configured, wasi/caps.c).
 */
#include "lunatic14_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* {====== the record */

l14_config *l14_config_new(void)
{
    l14_config *c = lvm_xcalloc(1, sizeof *c);
    if (c) {
        c->max_memory = L14_ROOT_MAX_MEMORY;    /* ABI 9.2 */
        atomic_init(&c->refs, 1);
    }
    return c;
}

static void strs_free(char **v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

l14_config *l14_config_retain(l14_config *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void l14_config_free(void *p)
{
    l14_config *c = p;
    if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    strs_free(c->args, c->nargs);
    strs_free(c->envs, c->nenvs);
    strs_free(c->preopens, c->npreopens);
    free(c);
}

/* Append a copy of s (len bytes) to a list. */
static bool strs_add(char ***v, uint32_t *n, uint32_t *cap, const char *s, size_t len)
{
    if (*n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 4;
        char **nv = nc > *cap ? realloc(*v, nc * sizeof *nv) : NULL;
        if (!nv)
            return false;
        *v = nv;
        *cap = nc;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return false;
    memcpy(copy, s, len);
    copy[len] = '\0';
    (*v)[(*n)++] = copy;
    return true;
}

static bool strs_copy(char ***dst, uint32_t *dn, uint32_t *dcap, char *const *src, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!strs_add(dst, dn, dcap, src[i], strlen(src[i])))
            return false;
    return true;
}

l14_config *l14_config_copy(const l14_config *c)
{
    l14_config *d = lvm_xcalloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->max_memory = c->max_memory;
    d->max_fuel = c->max_fuel;
    d->can_compile = c->can_compile;
    d->can_create_configs = c->can_create_configs;
    d->can_spawn = c->can_spawn;
    atomic_init(&d->refs, 1);
    if (!strs_copy(&d->args, &d->nargs, &d->capargs, c->args, c->nargs) ||
        !strs_copy(&d->envs, &d->nenvs, &d->capenvs, c->envs, c->nenvs) ||
        !strs_copy(&d->preopens, &d->npreopens, &d->cappreopens, c->preopens, c->npreopens)) {
        l14_config_free(d);
        return NULL;
    }
    return d;
}

/* }====== */

/* {====== lunatic::process: configs */

/* The caller's config `id`, or a trap (ABI 9.2: unknown ids trap). */
#define CONFIG(fn)                                                          \
    L14_SELF(fn);                                                           \
    l14_config *c = l14_table_get(&lp->configs, ar[0].i64);                 \
    if (!c)                                                                 \
        return l14_trap(fn, "Trap raised during host call: Config %llu not found (%s).", \
                        (unsigned long long)ar[0].i64, fn)

static lvm_err h_create_config(lvm_hostcall *call, lvm_val *ar)
{
    L14_SELF("process::create_config");
    if (!lp->config->can_create_configs) {
        ar[0].i64 = (uint64_t)-1;       /* PermissionDenied, no error id */
        return LVM_OK;
    }
    l14_config *c = l14_config_new();
    uint64_t id = c ? l14_table_add(&lp->configs, c) : UINT64_MAX;
    if (id == UINT64_MAX) {
        l14_config_free(c);
        return l14_trap("process::create_config", "out of host memory");
    }
    ar[0].i64 = id;
    return LVM_OK;
}

static lvm_err h_drop_config(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "process::drop_config";
    L14_SELF(fn);
    l14_config *c = l14_table_take(&lp->configs, ar[0].i64);
    if (!c)
        return l14_trap(fn, "Trap raised during host call: Config %llu not found (%s).",
                        (unsigned long long)ar[0].i64, fn);
    l14_config_free(c);
    return LVM_OK;
}

static lvm_err h_set_max_memory(lvm_hostcall *call, lvm_val *ar)
{
    CONFIG("process::config_set_max_memory");
    c->max_memory = ar[1].i64;
    return LVM_OK;
}

static lvm_err h_get_max_memory(lvm_hostcall *call, lvm_val *ar)
{
    CONFIG("process::config_get_max_memory");
    ar[0].i64 = c->max_memory;
    return LVM_OK;
}

static lvm_err h_set_max_fuel(lvm_hostcall *call, lvm_val *ar)
{
    CONFIG("process::config_set_max_fuel");
    c->max_fuel = ar[1].i64;
    return LVM_OK;
}

static lvm_err h_get_max_fuel(lvm_hostcall *call, lvm_val *ar)
{
    CONFIG("process::config_get_max_fuel");
    ar[0].i64 = c->max_fuel;
    return LVM_OK;
}

#define FLAG_FUNCS(flag, name)                                               \
    static lvm_err h_get_##flag(lvm_hostcall *call, lvm_val *ar)             \
    {                                                                        \
        CONFIG("process::config_" name);                                     \
        ar[0].i32 = c->flag;                                                 \
        return LVM_OK;                                                       \
    }                                                                        \
    static lvm_err h_set_##flag(lvm_hostcall *call, lvm_val *ar)             \
    {                                                                        \
        CONFIG("process::config_set_" name);                                 \
        c->flag = ar[1].i32 != 0;                                            \
        return LVM_OK;                                                       \
    }

FLAG_FUNCS(can_compile, "can_compile_modules")
FLAG_FUNCS(can_create_configs, "can_create_configs")
FLAG_FUNCS(can_spawn, "can_spawn_processes")

/* }====== */

/* {====== modules */

/* compile_module(ptr, len, id_ptr) -> 0 + module id, 1 + error id, or
 * -1 without the permission (nothing written).  A module is checked
 * here against everything its imports need, so that a module this
 * runtime cannot link is an error now, not a failed child later (the
 * runtime fails the same way, ABI 2: "at compile time").  It gets the
 * ABI of the process that compiled it (D-A): the linker holds only that
 * ABI's functions. */
static lvm_err h_compile_module(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "process::compile_module";
    L14_SELF(fn);
    wasi_mem m = wasi_mem_of(call);
    uint32_t ptr = ar[0].i32, len = ar[1].i32, id_ptr = ar[2].i32;
    if (!wasi_mem_check(&m, ptr, len) || !wasi_mem_check(&m, id_ptr, 8))
        return l14_trap_mem(fn);
    if (!lp->config->can_compile) {
        ar[0].i32 = (uint32_t)-1;
        return LVM_OK;
    }
    lvm_diag diag = { .err = LVM_OK, .offset = LVM_NO_OFFSET, .message = "" };
    lvm_module *mod = lvm_module_load(len ? m.base + ptr : (const uint8_t *)"", len, &diag);
    uint64_t id;
    uint32_t status = L14_ERROR;
    if (!mod) {
        id = l14_error_new(lp, "%s", diag.message);
    } else {
        const char *missing = NULL, *missing_mod = NULL;
        for (uint32_t i = 0; i < mod->nimports && !missing; i++) {
            const decode_import *imp = &mod->imports[i];
            lvm_extern ext;
            if (!lvm_linker_lookup(lp->rt->cfg.linker, imp->module, imp->name, &ext)) {
                missing = imp->name;
                missing_mod = imp->module;
            }
        }
        if (missing) {
            id = l14_error_new(lp, "unknown import: %s::%s", missing_mod, missing);
            lvm_module_release(mod);
        } else if ((id = l14_table_add(&lp->modules, mod)) == UINT64_MAX) {
            lvm_module_release(mod);
        } else {
            status = L14_OK;
        }
    }
    if (id == UINT64_MAX)
        return l14_trap(fn, "out of host memory");
    m = wasi_mem_of(call);
    wasi_store_u64(&m, id_ptr, id);
    ar[0].i32 = status;
    return LVM_OK;
}

static lvm_err h_drop_module(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "process::drop_module";
    L14_SELF(fn);
    lvm_module *mod = l14_table_take(&lp->modules, ar[0].i64);
    if (!mod)
        return l14_trap(fn, "Trap raised during host call: Module %llu not found (%s).",
                        (unsigned long long)ar[0].i64, fn);
    lvm_module_release(mod);            /* running processes keep theirs */
    return LVM_OK;
}

/* }====== */

/* {====== lunatic::wasi (ABI 9.4) */

static lvm_err h_add_env(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "wasi::config_add_environment_variable";
    CONFIG(fn);
    wasi_mem m = wasi_mem_of(call);
    const char *k, *v;
    uint32_t klen = ar[2].i32, vlen = ar[4].i32;
    if (!l14_guest_str(&m, ar[1].i32, klen, &k) || !l14_guest_str(&m, ar[3].i32, vlen, &v))
        return l14_trap_mem(fn);
    /* Kept as one "KEY=VALUE", the form WASI's environ_get gives. */
    char *kv = malloc((size_t)klen + vlen + 2);
    if (!kv)
        return l14_trap(fn, "out of host memory");
    memcpy(kv, k, klen);
    kv[klen] = '=';
    memcpy(kv + klen + 1, v, vlen);
    bool ok = strs_add(&c->envs, &c->nenvs, &c->capenvs, kv, (size_t)klen + vlen + 1);
    free(kv);
    return ok ? LVM_OK : l14_trap(fn, "out of host memory");
}

static lvm_err h_add_arg(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "wasi::config_add_command_line_argument";
    CONFIG(fn);
    wasi_mem m = wasi_mem_of(call);
    const char *s;
    if (!l14_guest_str(&m, ar[1].i32, ar[2].i32, &s))
        return l14_trap_mem(fn);
    return strs_add(&c->args, &c->nargs, &c->capargs, s, ar[2].i32) ? LVM_OK
                                                                     : l14_trap(fn, "out of host memory");
}

/* The directory is opened when a process is spawned from the config
 * (D16: a failure there is spawn's error), through the spawner's own
 * directories. */
static lvm_err h_preopen_dir(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "wasi::config_preopen_dir";
    CONFIG(fn);
    wasi_mem m = wasi_mem_of(call);
    const char *s;
    if (!l14_guest_str(&m, ar[1].i32, ar[2].i32, &s))
        return l14_trap_mem(fn);
    return strs_add(&c->preopens, &c->npreopens, &c->cappreopens, s, ar[2].i32)
               ? LVM_OK
               : l14_trap(fn, "out of host memory");
}

/* }====== */

const l14_import l14_config_imports[] = {
    { "lunatic::process", "create_config", ":I", h_create_config },
    { "lunatic::process", "drop_config", "I:", h_drop_config },
    { "lunatic::process", "config_set_max_memory", "II:", h_set_max_memory },
    { "lunatic::process", "config_get_max_memory", "I:I", h_get_max_memory },
    { "lunatic::process", "config_set_max_fuel", "II:", h_set_max_fuel },
    { "lunatic::process", "config_get_max_fuel", "I:I", h_get_max_fuel },
    { "lunatic::process", "config_can_compile_modules", "I:i", h_get_can_compile },
    { "lunatic::process", "config_set_can_compile_modules", "Ii:", h_set_can_compile },
    { "lunatic::process", "config_can_create_configs", "I:i", h_get_can_create_configs },
    { "lunatic::process", "config_set_can_create_configs", "Ii:", h_set_can_create_configs },
    { "lunatic::process", "config_can_spawn_processes", "I:i", h_get_can_spawn },
    { "lunatic::process", "config_set_can_spawn_processes", "Ii:", h_set_can_spawn },
    { "lunatic::process", "compile_module", "iii:i", h_compile_module },
    { "lunatic::process", "drop_module", "I:", h_drop_module },
    { "lunatic::wasi", "config_add_environment_variable", "Iiiii:", h_add_env },
    { "lunatic::wasi", "config_add_command_line_argument", "Iii:", h_add_arg },
    { "lunatic::wasi", "config_preopen_dir", "Iii:", h_preopen_dir },
    { NULL, NULL, NULL, NULL },
};
