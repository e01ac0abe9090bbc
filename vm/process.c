/*
 * process.c - wasm instances as green processes (see process.h).
 *
 * A process runs at most two functions in a row on its one thread: the
 * optional first function (a C program's constructors), then the entry.
 * The thread starts in the first and p->then holds the entry; when
 * exec_run reports the first one returned, the entry is entered on the
 * same thread and the slice goes on.  Rejected: calling the first
 * function with lvm_invoke at spawn time, which would run guest code on
 * the spawner (no yields, no blocking calls, the spawner's host state).
 */
#include "process.h"
#include "../exec/exec.h"

#include <stdatomic.h>
#include <string.h>

/* The next process id (lvm_process.id). */
static _Atomic uint64_t next_id = 1;

static green_step process_run(green_proc *g)
{
    lvm_process *p = (lvm_process *)g;
    if (green_cancelled(g)) {
        p->result = LVM_ERR_TRAP_EXIT;
    } else {
        lvm_err err = exec_run(p->thread);
        while (err == LVM_OK && p->then) {
            lvm_func *entry = p->then;      /* the first function returned */
            p->then = NULL;
            err = exec_enter(p->thread, entry, p->then_args);
            if (err == LVM_OK)
                err = exec_run(p->thread);
        }
        if (err == LVM_ERR_YIELD)
            return GREEN_YIELD;
        if (err == LVM_ERR_BLOCK)
            return GREEN_BLOCK;
        p->result = err;
    }
    g->exit_status = p->result == LVM_OK ? 0 : 1;
    if (p->on_exit)
        p->on_exit(p);
    return GREEN_EXIT;
}

static void process_free(green_proc *g)
{
    lvm_process *p = (lvm_process *)g;
    lvm_thread_free(p->thread);
    lvm_store_free(p->store);
    free(p->then_args);
    free(p);
}

lvm_process *lvm_process_spawn(green_sched *s, lvm_module *m, lvm_linker *l,
                               const char *entry, const lvm_val *args,
                               const lvm_process_config *cfg, lvm_diag *diag)
{
    lvm_process *p = calloc(1, sizeof *p);
    if (!p) {
        lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
        return NULL;
    }
    p->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
    p->store = lvm_store_new();
    p->thread = lvm_thread_new(cfg ? cfg->thread : NULL);
    if (!p->store || !p->thread) {
        lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
        goto fail;
    }
    lvm_linker *link = l;
    if (cfg) {
        p->user = cfg->user;
        p->wasi = cfg->wasi;
        p->on_exit = cfg->on_exit;
        if (cfg->setup && !(link = cfg->setup(p, cfg->setup_arg, l, diag)))
            goto fail;
        lvm_store_set_memory_limit(p->store, cfg->memory_limit_zero    ? 0
                                             : cfg->memory_limit_pages ? cfg->memory_limit_pages
                                                                       : LVM_MAX_PAGES);
    }
    /* The start function, if any, runs here on the spawner's thread of
     * control (it is part of instantiation). */
    lvm_err ierr = lvm_instantiate(p->store, link, m, p->thread, &p->inst, diag);
    if (link != l)
        lvm_linker_free(link);
    if (ierr != LVM_OK) {
        if (lvm_err_is_trap(ierr) && cfg && cfg->backtrace)
            lvm_thread_backtrace(p->thread, cfg->backtrace, cfg->backtrace_size);
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
    if (p->entry->host) {
        lvm_diag_set(diag, LVM_ERR_NOT_IMPLEMENTED, LVM_NO_OFFSET,
                     ": \"%s\" is a host function; a process runs wasm code", entry);
        goto fail;
    }
    lvm_func *start = p->entry;
    if (cfg && cfg->has_first) {
        const lvm_module *mod = p->inst->module;
        uint32_t f = cfg->first_func;
        const lvm_functype *ft = f < mod->nfuncs ? p->inst->funcs[f]->type : NULL;
        if (!ft || f < mod->nimported_funcs || ft->nparams || ft->nresults) {
            lvm_diag_set(diag, LVM_ERR_INCOMPATIBLE_IMPORT, LVM_NO_OFFSET,
                         ": function %u is not a defined () -> () function to run first", f);
            goto fail;
        }
        start = p->inst->funcs[f];
        p->then = p->entry;
        uint32_t n = p->entry->type->nparams;
        if (args && n) {
            p->then_args = malloc(n * sizeof *args);
            if (!p->then_args) {
                lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
                goto fail;
            }
            memcpy(p->then_args, args, n * sizeof *args);
        }
        args = NULL;
    }
    lvm_err err = exec_enter(p->thread, start, args);
    if (err) {
        lvm_diag_set(diag, err, LVM_NO_OFFSET, NULL);
        goto fail;
    }
    green_spawn(s, &p->g, process_run, process_free, p);
    return p;
fail:
    lvm_thread_free(p->thread);
    lvm_store_free(p->store);
    free(p->then_args);
    free(p);
    return NULL;
}

void lvm_process_release(lvm_process *p)
{
    green_release(&p->g);
}
