/*
 * lunatic_module.c - module loading for guests (ABI section 7): load and
 * unload modules, name them as import namespaces, and spawn processes
 * from them.
 *
 * A loaded module is an lvm_module: decoded and validated once, immutable,
 * reference counted.  The modules table holds one reference per entry, an
 * import (namespace, module) another, and every instance made from it one
 * more, so unload_module and remove_import never affect a process already
 * spawned (the guest removes its imports right after spawning).
 *
 * spawn_from_module builds the child in its own store, synchronously, in
 * the caller's host call (as spawn_with_context does): first one helper
 * instance per import, whose own imports see only the host API (the
 * program's linker: lunatic and WASI), then the target, whose imports see
 * the helpers' functions under their namespaces first and the host API
 * after them.  That order is a child linker (lvm_linker_new_child) over
 * the program's: the helpers' few names shadow the host's without a copy
 * of it.  Only functions come from helpers (D9); the target keeps its own
 * memory, tables and globals.  A failure there - an unresolved import, a
 * memory too big, a missing entry - is a failed child (join gives 1) with
 * a line on stderr, never a trap of the caller.  The start functions of
 * the helpers and of the target do not run here but first thing in the
 * child, on its own thread (lvm_process_run_first), so one that blocks or
 * loops forever holds only the child.
 *
 * Capabilities: the child gets stdio, the parent's arguments and
 * environment, and nothing else - no preopened directory or socket and
 * no network grant (see lun_spawn_from_module; wasi/caps.c).
 */
#include "lunatic_internal.h"

#include <stdio.h>
#include <stdlib.h>

/* An entry of the imports table: a namespace and the module behind it. */
typedef struct lun_import {
    char *name;                 /* NUL-terminated copy (NULL: removed) */
    uint32_t name_len;          /* a wasm name may hold NUL bytes */
    lvm_module *module;         /* a reference of its own */
} lun_import;

/* {====== helpers */

/* Check a (ptr, len) string argument: in memory, then UTF-8 (ABI 1.2). */
static lvm_err check_name(const wasi_mem *m, uint32_t ptr, uint32_t len, const char *fn)
{
    if (!wasi_mem_check(m, ptr, len))
        return lun_trap(fn, "name [%u, +%u) is outside memory (ABI D5)", ptr, len);
    if (len && !lvm_utf8_valid(m->base + ptr, len))
        return lun_trap(fn, "the name is not valid UTF-8 (ABI D5)");
    return LVM_OK;
}

static lvm_module *module_get(lun_proc *lp, uint32_t id)
{
    return id < lp->nmodules ? lp->modules[id] : NULL;
}

void lun_module_cleanup(lun_proc *lp)
{
    for (uint32_t i = 0; i < lp->nmodules; i++)
        lvm_module_release(lp->modules[i]);
    free(lp->modules);
    lp->modules = NULL;
    lp->nmodules = lp->capmodules = 0;
    for (uint32_t i = 0; i < lp->nimports; i++) {
        free(lp->imports[i].name);
        lvm_module_release(lp->imports[i].module);
    }
    free(lp->imports);
    lp->imports = NULL;
    lp->nimports = lp->capimports = 0;
}

/* }====== */

/* {====== loading */

/* load_module(ptr, len, out_module_id) -> 0 | 1.  The bytes are decoded
 * and validated here, on the caller's worker: the decoder skips custom
 * sections (megabytes of DWARF) by their size, so the cost is the code. */
static lvm_err lun_load_module(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("load_module");
    uint32_t ptr = ar[0].i32, len = ar[1].i32, out = ar[2].i32;
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, out, 4))
        return lun_trap("load_module", "module id out-pointer %u is outside memory (ABI D7)", out);
    if (!wasi_mem_check(&m, ptr, len))
        return lun_trap("load_module", "bytes [%u, +%u) are outside memory (ABI D5)", ptr, len);
    lvm_module **mods = lun_grow(lp->modules, lp->nmodules, &lp->capmodules, sizeof *mods);
    if (!mods)
        return LVM_ERR_NO_MEMORY;
    lp->modules = mods;
    static const uint8_t none[1];
    lvm_diag diag;
    lvm_module *mod = lvm_module_load(len ? m.base + ptr : none, len, &diag);
    if (!mod) {
        /* Not a trap: the guest gets 1 (its Module::load returns Err), and
         * stderr gets why, as the reference logged it. */
        if (diag.offset != LVM_NO_OFFSET)
            fprintf(stderr, "lvm: lunatic.load_module: %s (at byte %zu)\n", diag.message, diag.offset);
        else
            fprintf(stderr, "lvm: lunatic.load_module: %s\n", diag.message);
        wasi_store_u32(&m, out, 0);
        ar[0].i32 = 1;
        return LVM_OK;
    }
    lp->modules[lp->nmodules] = mod;
    wasi_store_u32(&m, out, lp->nmodules++);
    ar[0].i32 = 0;
    return LVM_OK;
}

/* unload_module(id): drops the table's reference; unknown ids are ignored. */
static lvm_err lun_unload_module(lvm_hostcall *call, lvm_val *ar)
{
    lun_proc *lp = lun_self(call);
    uint32_t id = ar[0].i32;
    if (lp && module_get(lp, id)) {
        lvm_module_release(lp->modules[id]);
        lp->modules[id] = NULL;
    }
    return LVM_OK;
}

/* create_import(name_ptr, name_len, module_id) -> import id.  Only a
 * record: nothing is instantiated until a spawn uses it. */
static lvm_err lun_create_import(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("create_import");
    uint32_t ptr = ar[0].i32, len = ar[1].i32, id = ar[2].i32;
    wasi_mem m = wasi_mem_of(call);
    lvm_err err = check_name(&m, ptr, len, "create_import");
    if (err)
        return err;
    lvm_module *mod = module_get(lp, id);
    if (!mod)
        return lun_trap("create_import", "unknown module id %u (ABI D5)", id);
    lun_import *imps = lun_grow(lp->imports, lp->nimports, &lp->capimports, sizeof *imps);
    if (!imps)
        return LVM_ERR_NO_MEMORY;
    lp->imports = imps;
    char *name = malloc((size_t)len + 1);
    if (!name)
        return LVM_ERR_NO_MEMORY;
    if (len)
        memcpy(name, m.base + ptr, len);
    name[len] = 0;
    lvm_module_retain(mod);
    lp->imports[lp->nimports] = (lun_import){ name, len, mod };
    ar[0].i32 = lp->nimports++;
    return LVM_OK;
}

/* remove_import(id); unknown ids are ignored. */
static lvm_err lun_remove_import(lvm_hostcall *call, lvm_val *ar)
{
    lun_proc *lp = lun_self(call);
    uint32_t id = ar[0].i32;
    if (lp && id < lp->nimports && lp->imports[id].name) {
        free(lp->imports[id].name);
        lvm_module_release(lp->imports[id].module);
        lp->imports[id] = (lun_import){ 0 };
    }
    return LVM_OK;
}

/* }====== */

/* {====== spawn_from_module */

/* What the setup of one child needs: its imports, in the guest's order. */
typedef struct spawn_req {
    lun_import *imports;        /* copies of the entries (not owned) */
    uint32_t n;
    uint32_t helper_limit;      /* --max-memory, for the helpers' memories */
    uint32_t failed;            /* the import that failed, or UINT32_MAX */
} spawn_req;

/* The setup hook of lvm_process_spawn: the helper instances, in the
 * child's store, and the linker the target resolves through.  An import
 * that a later one with the same namespace replaces is not instantiated:
 * the later one wins (ABI 7.2 step 3). */
static lvm_linker *setup_helpers(lvm_process *p, void *arg, lvm_linker *host, lvm_diag *diag)
{
    spawn_req *q = arg;
    if (!q->n)
        return host;
    lvm_store_set_memory_limit(p->store, q->helper_limit);
    lvm_linker *l = lvm_linker_new_child(host);
    if (!l) {
        lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
        return NULL;
    }
    for (uint32_t i = 0; i < q->n; i++) {
        const lun_import *im = &q->imports[i];
        bool replaced = false;
        for (uint32_t k = i + 1; k < q->n && !replaced; k++)
            replaced = q->imports[k].name_len == im->name_len &&
                       memcmp(q->imports[k].name, im->name, im->name_len) == 0;
        if (replaced)
            continue;
        lvm_instance *inst;
        lvm_func *start;
        lvm_err err = lvm_instantiate_deferred(p->store, host, im->module, &inst, &start, diag);
        if (err == LVM_OK) {
            err = lvm_linker_define_exports(l, im->name, im->name_len, inst, 1u << LVM_EXTERN_FUNC);
            if (!err && start)      /* it runs in the child, before the target's */
                err = lvm_process_run_first(p, start);
            if (err)
                lvm_diag_set(diag, err, LVM_NO_OFFSET, NULL);
        }
        if (err) {
            q->failed = i;
            lvm_linker_free(l);
            return NULL;
        }
    }
    return l;
}

/* spawn_from_module(module_id, name_ptr, name_len, max_memory_pages,
 * imports_ptr, imports_len_bytes) -> child handle.  Every argument is
 * checked before anything is done (D7): the module id, the name, the
 * imports buffer (u32 LE import ids; 0, 0 is none) and every id in it. */
static lvm_err lun_spawn_from_module(lvm_hostcall *call, lvm_val *ar)
{
    static const char fn[] = "spawn_from_module";
    LUN_SELF(fn);
    lunatic_runtime *rt = lp->rt;
    uint32_t id = ar[0].i32, name_ptr = ar[1].i32, name_len = ar[2].i32;
    uint32_t max_memory = ar[3].i32, imp_ptr = ar[4].i32, imp_len = ar[5].i32;
    wasi_mem m = wasi_mem_of(call);
    lvm_module *mod = module_get(lp, id);
    if (!mod)
        return lun_trap(fn, "unknown module id %u (ABI D5)", id);
    lvm_err err = check_name(&m, name_ptr, name_len, fn);
    if (err)
        return err;
    if (!wasi_mem_check(&m, imp_ptr, imp_len))
        return lun_trap(fn, "imports [%u, +%u) are outside memory (ABI D5)", imp_ptr, imp_len);
    if (imp_len % 4)
        return lun_trap(fn, "imports length %u is not a whole number of u32 ids (ABI 7.2)", imp_len);
    /* D8 (binding, over section 7.2's "ignored"): an unknown or removed
     * import id traps the caller. */
    spawn_req q = { .n = imp_len / 4, .failed = UINT32_MAX };
    for (uint32_t i = 0; i < q.n; i++) {
        uint32_t imp = wasi_load_u32(&m, imp_ptr + 4 * i);
        if (imp >= lp->nimports || !lp->imports[imp].name)
            return lun_trap(fn, "unknown import id %u (ABI D8)", imp);
    }
    char *name = malloc((size_t)name_len + 1);
    q.imports = lvm_xcalloc(q.n, sizeof *q.imports);
    lun_proc *cp = name && q.imports && lun_child_reserve(lp) ? lun_child_state(rt) : NULL;
    if (!cp) {
        free(name);
        free(q.imports);
        return LVM_ERR_NO_MEMORY;
    }
    if (name_len)
        memcpy(name, m.base + name_ptr, name_len);
    name[name_len] = 0;
    for (uint32_t i = 0; i < q.n; i++)
        q.imports[i] = lp->imports[wasi_load_u32(&m, imp_ptr + 4 * i)];
    q.helper_limit = rt->cfg.memory_limit_pages ? rt->cfg.memory_limit_pages : LVM_MAX_PAGES;

    /* The target's memory: at most max_memory pages, and never more than
     * lvm's own per-process limit.  0 is a real limit here (no pages). */
    uint32_t limit = max_memory;
    if (rt->cfg.memory_limit_pages && rt->cfg.memory_limit_pages < limit)
        limit = rt->cfg.memory_limit_pages;
    lvm_process_config pc = {
        .memory_limit_pages = limit, .memory_limit_zero = limit == 0,
        .entry_len = name_len, .setup = setup_helpers, .setup_arg = &q,
    };
    /* What the child may reach: the 0.3 ABI has no way for the parent to
     * say, so it gets the safe default, the least a WASI command needs -
     * the parent's arguments and environment and the standard
     * descriptors - and no directory, no listening socket, no network.
     * A loaded module is code the parent chose to run, not code it
     * vouches for.  (lunatic 0.14's configs will pass their own grant
     * here, narrowed the same way by wasi_ctx_child.) */
    static const wasi_grant least = { .preopens = false, .net = NULL };
    lvm_diag diag;
    ar[0].i32 = lun_child_spawn(lp, cp, mod, rt->cfg.linker, name, &least, &pc, &diag);
    if (diag.err != LVM_OK) {
        if (q.failed != UINT32_MAX)
            lun_tell_failure(rt, "lvm: lunatic.%s: the child failed to start: import \"%s\": %s%s\n",
                             fn, q.imports[q.failed].name, diag.message,
                             lun_limit_option(diag.err));
        else
            lun_tell_failure(rt, "lvm: lunatic.%s: the child failed to start: %s%s\n", fn,
                             diag.message, lun_limit_option(diag.err));
    }
    free(name);
    free(q.imports);
    lvm_hostcall_charge(call, LVM_SPAWN_REDUCTIONS);
    return LVM_OK;
}

/* }====== */

const wasi_import lun_module_imports[] = {
    { "load_module",       "iii:i",    lun_load_module },
    { "unload_module",     "i:",       lun_unload_module },
    { "create_import",     "iii:i",    lun_create_import },
    { "remove_import",     "i:",       lun_remove_import },
    { "spawn_from_module", "iiiiii:i", lun_spawn_from_module },
    { NULL, NULL, NULL },
};
