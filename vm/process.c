/*
 * process.c - wasm instances as green processes (see process.h).
 *
 * A process runs a short list of functions in a row on its one thread
 * (p->calls): start functions, then the optional first function (a C
 * program's constructors), then the entry.  The thread starts in the
 * first of them; when exec_run reports one returned, the next is entered
 * on the same thread and the slice goes on.  Rejected: calling them with
 * lvm_invoke at spawn time, which runs guest code on the spawner - no
 * yields, no blocking calls, no preemption (a start function that loops
 * forever would hold the spawner's worker), the spawner's host state.
 */
#include "process.h"
#include "../exec/exec.h"

#include <stdatomic.h>
#include <string.h>

/* The next process id (lvm_process.id). */
static _Atomic uint64_t next_id = 1;

static void release_instance(lvm_process *p)
{
    lvm_thread_free(p->thread);
    if (p->store)
        vm_store_fini(p->store);
    p->thread = NULL;
    p->store = NULL;
    p->inst = NULL;
    p->entry = NULL;
}

/* Packing (green.h, green_config.pack_after_ns): a process parked for a
 * while packs its store's memories (lvm_store_pack), and unpacks them as
 * it next runs, before anything reads them.  What a parked process holds
 * is then its structures and a few hundred bytes of packed memory, and
 * its block goes to the next spawn warm.  Measured (make bench-lunatic,
 * one worker, a million C children parked in receive): 5.1 KB each
 * packed, 13.2 KB with --pack-after=0.  p->packed spares the slices of
 * a process that was not packed a walk of its store.  A process that cannot unpack (out of host memory)
 * ends with LVM_ERR_NO_MEMORY, as a spawn would have failed. */
static void process_pack(green_proc *g)
{
    lvm_process *p = (lvm_process *)g;
    if (p->store && !p->packed)
        p->packed = lvm_store_pack(p->store);
}

static green_step process_run(green_proc *g)
{
    lvm_process *p = (lvm_process *)g;
    if (p->packed) {
        /* Even to end: the exit hook may read the memory. */
        if (!lvm_store_unpack(p->store)) {
            p->result = LVM_ERR_NO_MEMORY;
            goto ended;
        }
        p->packed = false;
    }
    if (green_cancelled(g)) {
        p->result = LVM_ERR_TRAP_EXIT;
    } else {
        lvm_err err = exec_run(p->thread);
        while (err == LVM_OK && p->next < p->ncalls) {     /* one returned */
            lvm_func *f = p->calls[p->next++];
            err = exec_enter(p->thread, f, f == p->entry ? p->entry_args : NULL);
            if (err == LVM_OK)
                err = exec_run(p->thread);
        }
        if (err == LVM_ERR_YIELD)
            return GREEN_YIELD;
        if (err == LVM_ERR_BLOCK)
            return GREEN_BLOCK;
        p->result = err;
    }
ended:
    g->exit_status = p->result == LVM_OK ? 0 : 1;
    if (p->on_exit)
        p->on_exit(p);
    if (p->release_at_exit)
        release_instance(p);
    return GREEN_EXIT;
}

static void process_free(green_proc *g)
{
    lvm_process *p = (lvm_process *)g;
    release_instance(p);
    if (p->calls != p->calls_inline)
        free(p->calls);
    free(p->entry_args);
    free(p);
}

lvm_err lvm_process_run_first(lvm_process *p, lvm_func *f)
{
    if (p->ncalls == p->capcalls) {
        size_t cap = lvm_grow_cap(p->capcalls, (size_t)p->ncalls + 1, 4, sizeof *p->calls, UINT32_MAX);
        lvm_func **v = cap ? malloc(cap * sizeof *v) : NULL;
        if (!v)
            return LVM_ERR_NO_MEMORY;
        memcpy(v, p->calls, p->ncalls * sizeof *v);
        if (p->calls != p->calls_inline)
            free(p->calls);
        p->calls = v;
        p->capcalls = (uint32_t)cap;
    }
    p->calls[p->ncalls++] = f;
    return LVM_OK;
}

lvm_process *lvm_process_spawn(green_sched *s, lvm_module *m, lvm_linker *l,
                               const char *entry, const lvm_val *args,
                               const lvm_process_config *cfg, lvm_diag *diag)
{
    lvm_process *p = lvm_xcalloc(1, sizeof *p);
    if (!p) {
        lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
        return NULL;
    }
    p->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
    p->calls = p->calls_inline;
    p->capcalls = sizeof p->calls_inline / sizeof p->calls_inline[0];
    p->store = &p->store_storage;
    vm_store_init(p->store);
    p->thread = lvm_thread_new(cfg ? cfg->thread : NULL);
    if (!p->thread) {
        lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
        goto fail;
    }
    lvm_linker *link = l;
    if (cfg) {
        p->user = cfg->user;
        p->wasi = cfg->wasi;
        p->on_exit = cfg->on_exit;
        p->release_at_exit = cfg->release_at_exit;
        if (cfg->setup && !(link = cfg->setup(p, cfg->setup_arg, l, diag)))
            goto fail;
        lvm_store_set_memory_limit(p->store, cfg->memory_limit_zero    ? 0
                                             : cfg->memory_limit_pages ? cfg->memory_limit_pages
                                                                       : LVM_MAX_PAGES);
    }
    lvm_func *start;
    lvm_err ierr = lvm_instantiate_deferred(p->store, link, m, &p->inst, &start, diag);
    if (link != l)
        lvm_linker_free(link);
    if (ierr != LVM_OK)
        goto fail;
    if (start && lvm_process_run_first(p, start) != LVM_OK) {
        lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
        goto fail;
    }
    if (cfg && cfg->entry_is_table_slot) {
        lvm_table *t = p->inst->module->ntables ? p->inst->tables[0] : NULL;
        if (!t || t->type != LVM_FUNCREF || cfg->table_slot >= t->size ||
            !t->elems[cfg->table_slot].ref) {
            lvm_diag_set(diag, LVM_ERR_TRAP_UNDEFINED_ELEM, LVM_NO_OFFSET,
                         ": no function in table 0 at %u", cfg->table_slot);
            goto fail;
        }
        p->entry = t->elems[cfg->table_slot].ref;
        entry = "(table entry)";
    } else {
        lvm_extern ext;
        size_t len = cfg && cfg->entry_len ? cfg->entry_len : strlen(entry);
        if (!lvm_instance_export_n(p->inst, entry, len, &ext) || ext.kind != LVM_EXTERN_FUNC) {
            lvm_diag_set(diag, LVM_ERR_UNKNOWN_EXPORT, LVM_NO_OFFSET, ": no function \"%s\"", entry);
            goto fail;
        }
        p->entry = ext.u.func;
    }
    if (!args && p->entry->type->nparams) {
        lvm_diag_set(diag, LVM_ERR_INCOMPATIBLE_IMPORT, LVM_NO_OFFSET,
                     ": entry \"%s\" takes parameters and none were given", entry);
        goto fail;
    }
    if (vm_func_is_host(p->entry)) {
        lvm_diag_set(diag, LVM_ERR_NOT_IMPLEMENTED, LVM_NO_OFFSET,
                     ": \"%s\" is a host function; a process runs wasm code", entry);
        goto fail;
    }
    if (cfg && cfg->has_first) {
        const lvm_module *mod = p->inst->module;
        uint32_t f = cfg->first_func;
        const lvm_functype *ft = f < mod->nfuncs ? p->inst->funcs[f]->type : NULL;
        if (!ft || f < mod->nimported_funcs || ft->nparams || ft->nresults) {
            lvm_diag_set(diag, LVM_ERR_INCOMPATIBLE_IMPORT, LVM_NO_OFFSET,
                         ": function %u is not a defined () -> () function to run first", f);
            goto fail;
        }
        if (lvm_process_run_first(p, p->inst->funcs[f]) != LVM_OK) {
            lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
            goto fail;
        }
    }
    uint32_t n = p->entry->type->nparams;
    if (p->ncalls && args && n) {       /* the entry runs later: keep them */
        if (!(p->entry_args = malloc(n * sizeof *args))) {
            lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
            goto fail;
        }
        memcpy(p->entry_args, args, n * sizeof *args);
    }
    if (lvm_process_run_first(p, p->entry) != LVM_OK) {
        lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
        goto fail;
    }
    p->next = 1;
    lvm_err err = exec_enter(p->thread, p->calls[0], p->ncalls == 1 ? args : NULL);
    if (err) {
        lvm_diag_set(diag, err, LVM_NO_OFFSET, NULL);
        goto fail;
    }
    p->g.pack = process_pack;
    green_spawn(s, &p->g, process_run, process_free, p);
    return p;
fail:
    process_free(&p->g);
    return NULL;
}

void lvm_process_release(lvm_process *p)
{
    green_release(&p->g);
}
