/*
 * thread.c - execution contexts: creating them, entering a function from
 * the host, running slices until done, and reading back a trap's frames.
 *
 * A thread's value stack starts small and doubles on demand up to its limit
 * (frames hold offsets, not pointers, so it may move); its frame array
 * likewise.  That keeps an idle thread (a parked green process) down to a
 * few hundred bytes plus what its deepest call ever needed.
 */
#include "exec.h"

#include <stdio.h>
#include <string.h>

/* Defaults.  The depth limit is what turns runaway recursion into the
 * "call stack exhausted" trap; 64 Ki frames and 4 Mi slots (32 MiB) are
 * above what real programs use and small enough to fail fast. */
#define DEFAULT_MAX_SLOTS   (4u << 20)
#define DEFAULT_MAX_DEPTH   (64u << 10)
/* Reductions per slice: BEAM's CONTEXT_REDS is 4000 per function call; a
 * reduction here is a call or a loop iteration, similar in cost. */
#define DEFAULT_REDUCTIONS  4000

lvm_thread *lvm_thread_new(const lvm_thread_config *cfg)
{
    lvm_thread *t = lvm_xcalloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->max_slots = cfg && cfg->max_stack_slots ? cfg->max_stack_slots : DEFAULT_MAX_SLOTS;
    t->max_depth = cfg && cfg->max_call_depth ? cfg->max_call_depth : DEFAULT_MAX_DEPTH;
    t->slice = cfg && cfg->reductions > 0 ? cfg->reductions : DEFAULT_REDUCTIONS;
    t->stack = t->stack0;
    t->stack_end = t->stack0 + (EXEC_STACK0 < t->max_slots ? EXEC_STACK0 : t->max_slots);
    t->frames = t->frames0;
    /* Never past max_depth + 1: the interpreter's one depth check relies
     * on it (interp.c, grow_frames). */
    t->frames_cap = EXEC_FRAMES0 < t->max_depth + 1 ? EXEC_FRAMES0 : t->max_depth + 1;
    uint64_t h = exec_handler(XOP_EXIT);
    t->exit_cells[0] = (uint32_t)h;
    t->exit_cells[1] = (uint32_t)(h >> 32);
    h = exec_handler(XOP_CATCH_RET);
    t->catch_cells[0] = (uint32_t)h;
    t->catch_cells[1] = (uint32_t)(h >> 32);
    return t;
}

void lvm_thread_free(lvm_thread *t)
{
    if (!t)
        return;
    if (t->stack != t->stack0)
        free(t->stack);
    if (t->frames != t->frames0)
        free(t->frames);
    free(t->bt);
    free(t->catches);
    free(t);
}

void *exec_grow(void *buf, const void *builtin, size_t used, size_t n, size_t size)
{
    if (buf != builtin)
        return realloc(buf, n * size);
    void *b = malloc(n * size);
    if (b)
        memcpy(b, buf, used * size);
    return b;
}

static bool reserve(lvm_thread *t, size_t slots)
{
    if ((size_t)(t->stack_end - t->stack) >= slots)
        return true;
    if (slots > t->max_slots)
        return false;
    /* Start with what the entry function needs (a process blocked in its
     * first function then holds no more); calls double it on demand. */
    size_t cap = 16;
    while (cap < slots)
        cap *= 2;
    /* Nothing on it is live: the entry starts afresh. */
    lvm_val *s = exec_grow(t->stack, t->stack0, 0, cap, sizeof *s);
    if (!s)
        return false;
    t->stack = s;
    t->stack_end = s + cap;
    return true;
}

lvm_err exec_enter(lvm_thread *t, lvm_func *f, const lvm_val *args)
{
    exec_code *code;
    lvm_err err = exec_code_of(f, &code);
    if (err)
        return err;
    if (!reserve(t, code->nslots))
        return LVM_ERR_TRAP_STACK_EXHAUSTED;
    if (code->nparams)
        memcpy(t->stack, args, code->nparams * sizeof *args);
    /* The entry frame: returning from f "returns" to EXIT. */
    exec_frame *fr = &t->frames[0];
    fr->ret_pc = t->exit_cells;
    fr->fp_off = 0;
    fr->inst = f->inst;
    fr->fn = NULL;
    t->depth = 1;
    t->ncatch = 0;
    t->bulk_pc = NULL;              /* no bulk instruction half done */
    memset(t->stack + code->nparams, 0, (code->nlocals - code->nparams) * sizeof(lvm_val));
    if (code->nconsts)
        memcpy(t->stack + code->nlocals, code->consts, code->nconsts * sizeof(lvm_val));
    t->pc = code->cells;
    t->fp = t->stack;
    t->inst = f->inst;
    t->fn = f;
    return LVM_OK;
}

lvm_err lvm_invoke(lvm_thread *t, lvm_func *f, const lvm_val *args, lvm_val *results)
{
    const lvm_functype *ft = f->type;
    if (t->running)
        return LVM_ERR_BUSY;
    t->nbt = 0;
    if (vm_func_is_host(f)) {
        lvm_val buf[64];
        size_t n = ft->nparams > ft->nresults ? ft->nparams : ft->nresults;
        if (n > 64)
            return LVM_ERR_NOT_IMPLEMENTED;
        if (ft->nparams)
            memcpy(buf, args, ft->nparams * sizeof *buf);
        lvm_hostcall hc = { t, NULL, vm_host_of(f)->host_data };
        lvm_err err = vm_host_of(f)->host(&hc, buf);
        if (!err && ft->nresults)
            memcpy(results, buf, ft->nresults * sizeof *buf);
        return err;
    }
    lvm_err err = exec_enter(t, f, args);
    if (err)
        return err;
    t->running = true;
    do
        err = exec_run(t);              /* each call is a new slice */
    while (err == LVM_ERR_YIELD);
    t->running = false;
    t->depth = 0;
    if (!err && ft->nresults)
        memcpy(results, t->stack, ft->nresults * sizeof *results);
    return err;
}

/* A catch is a host call that becomes a wasm call.  The host function
 * names f and returns LVM_ERR_CALL; the interpreter, seeing that result
 * at the host call, pushes a catch record (exec_catch) and enters f like
 * any wasm call, its frame returning to the thread's catch_cells
 * (CATCH_RET), which pop the record and go on after the host call.  A
 * trap that is not one of the three that end the run unwinds to the
 * innermost record instead of ending the run (interp.c, `trap`).
 * Rejected: running f with a nested exec_run on the C stack, as an
 * embedder's callback would - f could then neither yield nor block
 * without blocking the worker, and a green process's C stack is small.
 *
 * Checked here rather than in the interpreter, so that the host function
 * can tell: f must be a wasm function (a host function has no frame to
 * unwind to) whose type equals the host function's own, since f takes the
 * host call's arguments in place and leaves its results there; else
 * LVM_ERR_TRAP_INDIRECT_TYPE, the trap of a call_indirect that fails the
 * same check. */
void lvm_hostcall_charge(lvm_hostcall *call, int32_t reductions)
{
    if (reductions > 0 && call->thread->host_charge <= INT32_MAX / 2 - reductions / 2)
        call->thread->host_charge += reductions;
}

lvm_err lvm_hostcall_catch(lvm_hostcall *call, lvm_func *f)
{
    lvm_thread *t = call->thread;
    /* caller is NULL when lvm_invoke calls a host function directly:
     * there is no wasm caller to continue. */
    if (!call->caller || !t || !t->host_fn)
        return LVM_ERR_TRAP_HOST;
    if (!f || vm_func_is_host(f) || !lvm_functype_equal(f->type, t->host_fn->type))
        return LVM_ERR_TRAP_INDIRECT_TYPE;
    t->catch_fn = f;
    return LVM_ERR_CALL;
}

void lvm_thread_set_fuel(lvm_thread *t, uint64_t reductions)
{
    t->fuel = reductions;
    t->fuel_limited = reductions != 0;
}

uint64_t lvm_thread_fuel_left(const lvm_thread *t)
{
    return t->fuel_limited ? t->fuel : 0;
}

bool lvm_thread_fuel_limited(const lvm_thread *t)
{
    return t->fuel_limited;
}

int lvm_thread_backtrace(const lvm_thread *t, char *buf, size_t size)
{
    size_t used = 0;
    if (size)
        buf[0] = 0;
    for (uint32_t i = 0; i < t->nbt; i++) {
        const lvm_func *f = t->bt[i];
        const char *name = f->inst ? decode_func_name(f->inst->module, f->index) : NULL;
        int n = snprintf(buf + used, used < size ? size - used : 0, "  at %s (func %u)\n",
                         name ? name : "<unnamed>", f->index);
        if (n > 0)
            used += (size_t)n;
        if (used >= size)
            break;
    }
    return (int)t->nbt;
}
