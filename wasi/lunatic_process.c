/*
 * lunatic_process.c - the process half of the lunatic host API (ABI
 * section 4): yield_, sleep_ms, spawn_with_context, join, detach_process,
 * cancel_process; the per-process state and what happens when a process
 * ends (ABI 2.5); registration.
 *
 * A spawned child is a fresh instance of the program's module, linked
 * through the same linker as the main process, that runs the module's
 * constructors (__wasm_call_ctors, ABI 4.3 step 6 and D10: without them
 * getenv, args and preopens do not work in a C or Rust child) and then
 * table 0's element fn_index (the decoder found the constructors once,
 * when it loaded the module: a spawn costs no scan).  Its context travels
 * as the ABI says: one message on a fresh channel whose only sender is
 * dropped at once, so the child's receiver 0 yields the context and then
 * reports "closed".
 *
 * Blocking calls (join, sleep_ms, yield_) are restartable: they register
 * the process as a waiter and return LVM_ERR_BLOCK with nothing changed,
 * and the retry completes them.
 */
#include "lunatic_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The calling thread must be the process's own: wasm code that an
 * embedder runs with lvm_invoke from inside a host call (on another
 * lvm_thread) is not that process and must not act as it.  (Start
 * functions run first thing in their process, on its thread.) */
lun_proc *lun_self(const lvm_hostcall *call)
{
    lvm_process *p = lvm_process_self();
    return p && p->thread == call->thread ? p->user : NULL;
}

lvm_err lun_trap(const char *fn, const char *fmt, ...)
{
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    fprintf(stderr, "lvm: lunatic.%s: %s\n", fn, why);
    return LVM_ERR_TRAP_HOST;
}

/* {====== per-process state */

static lun_proc *proc_new(lunatic_runtime *rt)
{
    lun_proc *lp = lvm_xcalloc(1, sizeof *lp);
    if (!lp)
        return NULL;
    lp->rt = rt;
    pthread_mutex_lock(&rt->lock);
    lp->next = rt->procs;
    if (rt->procs)
        rt->procs->prev = lp;
    rt->procs = lp;
    pthread_mutex_unlock(&rt->lock);
    return lp;
}

/* Release the children and resources (ABI 2.5).  `cancel`: cancel the
 * children not detached; false at the final teardown, when the scheduler
 * is gone and only memory is left to free. */
static void proc_cleanup(lun_proc *lp, bool cancel)
{
    for (uint32_t i = 0; i < lp->nchildren; i++) {
        lun_child *c = &lp->children[i];
        if (c->p) {
            if (cancel)
                green_cancel(&c->p->g);
            lvm_process_release(c->p);
            c->p = NULL;
        }
    }
    free(lp->children);
    lp->children = NULL;
    lp->nchildren = lp->capchildren = 0;
    lun_message_cleanup(lp);
    lun_net_cleanup(lp);
    lun_module_cleanup(lp);
    wasi_ctx_exited(lp->wasi);          /* its call on the blocking pool */
}

static void proc_free(lun_proc *lp)
{
    lunatic_runtime *rt = lp->rt;
    pthread_mutex_lock(&rt->lock);
    if (lp->prev)
        lp->prev->next = lp->next;
    else
        rt->procs = lp->next;
    if (lp->next)
        lp->next->prev = lp->prev;
    pthread_mutex_unlock(&rt->lock);
    free(lp);
}

void *lunatic_main_state(lunatic_runtime *rt, void *data)
{
    lun_proc *lp = proc_new(rt);
    if (lp)
        lp->data = data;
    return lp;
}

void *lunatic_user_data(const lvm_process *p)
{
    return ((lun_proc *)p->user)->data;
}

void lunatic_process_exited(lvm_process *p)
{
    proc_cleanup(p->user, true);
}

/* A child trapped: say so on stderr, as the main process's trap is (D3),
 * for only its parent's join would tell otherwise (1, no reason).  One
 * fputs, so that the lines of children trapping at once do not mix. */
static void report_trap(const lvm_process *p)
{
    char text[4096];
    int n = snprintf(text, sizeof text, "lvm: trap in process %llu: %s\n",
                     (unsigned long long)p->id, lvm_strerror(p->result));
    if (n > 0 && (size_t)n < sizeof text) {
        lvm_thread_backtrace(p->thread, text + n, sizeof text - (size_t)n);
        size_t len = strlen(text);
        if (len && text[len - 1] != '\n' && len + 1 < sizeof text)
            strcpy(text + len, "\n");
    }
    fputs(text, stderr);
}

/* A child that failed (a trap, a non-zero exit) after its memory limit
 * refused a memory.grow: that refusal is the likely cause, and the guest
 * saw only -1, so say which limit it was, as `lvm run` does for main. */
static void report_refused_grow(const lunatic_runtime *rt, const lvm_process *p)
{
    lvm_memory *mem = p->inst ? lvm_instance_memory(p->inst) : NULL;
    uint32_t refused = mem ? lvm_memory_refused(mem) : 0;
    if (!refused)
        return;
    uint32_t limit = lvm_memory_limit(mem);
    const char *opt = rt->cfg.memory_limit_option;
    if (opt && limit == rt->cfg.memory_limit_pages)
        fprintf(stderr, "lvm: process %llu: memory.grow to %u pages failed: over the limit "
                "set by %s %u\n", (unsigned long long)p->id, refused, opt, limit);
    else
        fprintf(stderr, "lvm: process %llu: memory.grow to %u pages failed: over its "
                "limit of %u pages (the max_memory of spawn_from_module)\n",
                (unsigned long long)p->id, refused, limit);
}

/* A child has ended (on its worker).  proc_exit(0) counts as success
 * (ABI D2); then its resources go, then its WASI context and state. */
static void child_exited(lvm_process *p)
{
    uint32_t code;
    if (p->result == LVM_ERR_TRAP_EXIT && !green_cancelled(&p->g) &&
        wasi_exit_code(p->wasi, &code) && code == 0)
        p->g.exit_status = 0;
    else if (lvm_err_is_trap(p->result) && p->result != LVM_ERR_TRAP_EXIT)
        report_trap(p);
    lun_proc *lp = p->user;
    lunatic_runtime *rt = lp->rt;
    if (p->g.exit_status != 0 && !green_cancelled(&p->g))
        report_refused_grow(rt, p);
    proc_cleanup(lp, true);
    wasi_ctx_free(lp->wasi);
    p->wasi = NULL;
    p->user = NULL;
    proc_free(lp);
    atomic_fetch_sub(&rt->nchildren, 1);    /* child_admit took it */
}

void lunatic_free(lunatic_runtime *rt)
{
    if (!rt)
        return;
    while (rt->procs) {
        lun_proc *lp = rt->procs;
        proc_cleanup(lp, false);
        wasi_ctx_free(lp->wasi);      /* the process itself may be gone */
        proc_free(lp);
    }
    pthread_mutex_destroy(&rt->lock);
    free(rt);
}

/* }====== */

/* {====== the process table */

/* Take child handle `id` for fn, or trap (ABI D5). */
static lvm_err child_get(lun_proc *lp, uint32_t id, const char *fn, lun_child **out)
{
    if (id >= lp->nchildren || !lp->children[id].used)
        return lun_trap(fn, "unknown or already used process handle %u (ABI D5)", id);
    *out = &lp->children[id];
    return LVM_OK;
}

bool lun_child_reserve(lun_proc *lp)
{
    lun_child *c = lun_grow(lp->children, lp->nchildren, &lp->capchildren, sizeof *c);
    if (!c)
        return false;
    lp->children = c;
    return true;
}

/* Add a handle; lun_child_reserve made room. */
static uint32_t child_add(lun_proc *lp, lvm_process *p)
{
    lp->children[lp->nchildren] = (lun_child){ .p = p, .failed = !p, .used = true };
    return lp->nchildren++;
}

lun_proc *lun_child_state(lunatic_runtime *rt)
{
    return proc_new(rt);
}

/* May lp start one more child?  Not once lvm is shutting down (main has
 * ended: green_sched_stop has begun) or lp itself is cancelled: such a
 * child would only be cancelled again, and a process spawning in a loop
 * would keep the stop from ending.  Not past the limit on processes,
 * main included (the count is taken here, so it is exact however many
 * workers spawn at once; child_exited gives it back).  A refusal is the
 * ABI's one way to fail a spawn: a failed child, whose join gives 1
 * (ABI 4.3 step 4).  Only the limit is reported, once per run: a guest
 * that spawns in a loop must not fill stderr. */
static bool child_admit(lun_proc *lp)
{
    lunatic_runtime *rt = lp->rt;
    lvm_process *self = lvm_process_self();
    if (green_sched_stopping(rt->cfg.sched) || (self && green_cancelled(&self->g)))
        return false;
    long max = rt->cfg.max_processes ? (long)rt->cfg.max_processes : (long)LUNATIC_MAX_PROCESSES;
    long n = atomic_load(&rt->nchildren);
    do {
        if (n + 1 >= max) {             /* + 1: the main process */
            if (!atomic_exchange(&rt->told_max_processes, true))
                fprintf(stderr, "lvm: spawn refused: %ld processes are alive, the limit%s%s "
                        "%ld; the child fails (join gives 1), and further refusals are not "
                        "reported\n", max, rt->cfg.max_processes_option ? " set by " : "",
                        rt->cfg.max_processes_option ? rt->cfg.max_processes_option : "", max);
            return false;
        }
    } while (!atomic_compare_exchange_weak(&rt->nchildren, &n, n + 1));
    return true;
}

uint32_t lun_child_spawn(lun_proc *lp, lun_proc *cp, lvm_module *m, lvm_linker *l,
                         const char *entry, const wasi_grant *grant, lvm_process_config *pc,
                         lvm_diag *diag)
{
    lunatic_runtime *rt = lp->rt;
    *diag = (lvm_diag){ .err = LVM_OK, .offset = LVM_NO_OFFSET, .message = "" };
    if (!child_admit(lp)) {
        proc_cleanup(cp, false);
        proc_free(cp);
        return child_add(lp, NULL);     /* room was made */
    }
    /* Set before the spawn: the child may end before lvm_process_spawn
     * returns, and its exit hook frees the context and cp.  Derived from
     * the caller's context as it is now (closed and narrowed descriptors
     * stay so), never from what lvm was started with. */
    const wasi_ctx *parent = lun_wasi(lp);
    cp->wasi = grant ? wasi_ctx_child(parent, grant) : wasi_ctx_new_child(parent);
    pc->thread = rt->cfg.thread;
    pc->user = cp;
    pc->wasi = cp->wasi;
    pc->on_exit = child_exited;
    pc->release_at_exit = true;     /* join reads only the exit status */
    lvm_process *p = NULL;
    if (!cp->wasi)
        lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
    else
        p = lvm_process_spawn(rt->cfg.sched, m, l, entry, NULL, pc, diag);
    if (!p) {
        proc_cleanup(cp, false);        /* first: it still uses the context */
        wasi_ctx_free(cp->wasi);
        proc_free(cp);
        atomic_fetch_sub(&rt->nchildren, 1);
    }
    return child_add(lp, p);            /* room was made */
}

static void child_take(lun_child *c)
{
    if (c->p)
        lvm_process_release(c->p);
    c->p = NULL;
    c->used = false;
}

/* }====== */

/* {====== host functions */

/* yield_() : to the back of the run queue (as sched_yield). */
static lvm_err lun_yield(lvm_hostcall *call, lvm_val *ar)
{
    (void)ar;
    lun_proc *lp = lun_self(call);
    lvm_process *self = lvm_process_self();
    if (lp && self && !lp->yielded) {
        lp->yielded = true;
        green_wake(&self->g);
        return LVM_ERR_BLOCK;
    }
    if (lp)
        lp->yielded = false;
    return LVM_OK;
}

/* sleep_ms(millis: u64).  The deadline is kept across the retries, so a
 * wake-up that comes early just parks the process again.  Clamped to a
 * day per call (ABI D13): the guest cannot tell, and no timer arithmetic
 * can overflow. */
static lvm_err lun_sleep_ms(lvm_hostcall *call, lvm_val *ar)
{
    lun_proc *lp = lun_self(call);
    lvm_process *self = lvm_process_self();
    if (!lp || !self)
        return LVM_OK;
    uint64_t now = wasi_now_ns();
    if (!lp->sleeping) {
        uint64_t ms = ar[0].i64;
        lp->sleep_until = now + (ms > 86400000u ? 86400000u : ms) * 1000000u;
        lp->sleeping = true;
    }
    if (now < lp->sleep_until) {
        green_sleep(&self->g, lp->sleep_until - now);
        return LVM_ERR_BLOCK;
    }
    lp->sleeping = false;
    return LVM_OK;
}

/* spawn_with_context(fn_index, ctx_ptr, ctx_len) -> handle */
static lvm_err lun_spawn(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("spawn_with_context");
    lunatic_runtime *rt = lp->rt;
    uint32_t fn_index = ar[0].i32, ptr = ar[1].i32, len = ar[2].i32;
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, ptr, len))
        return lun_trap("spawn_with_context", "context [%u, +%u) is outside memory (ABI D5)", ptr, len);
    if (!lun_child_reserve(lp))
        return LVM_ERR_NO_MEMORY;
    /* The context: one message on a one-slot channel whose sender is
     * dropped at once, so it becomes the child's receiver 0. */
    lun_msg *msg = lun_msg_new(lp, m.base + ptr, len);
    green_chan *ch = msg ? green_chan_new(1, lun_msg_free) : NULL;
    lun_proc *cp = ch ? lun_child_state(rt) : NULL;
    if (!cp) {
        if (ch) {
            green_chan_drop_sender(ch);
            green_chan_drop_receiver(ch);
        }
        lun_msg_free(msg);
        return LVM_ERR_NO_MEMORY;
    }
    green_chan_send(ch, NULL, msg);         /* a fresh one-slot channel: room */
    green_chan_drop_sender(ch);
    lun_table_add(&cp->receivers, (lun_res){ .kind = LUN_RECEIVER, .chan = ch });

    uint32_t ctors = lvm_module_ctors(rt->cfg.module);
    lvm_process_config pc = {
        .memory_limit_pages = rt->cfg.memory_limit_pages,
        .entry_is_table_slot = true, .table_slot = fn_index,
        .has_first = ctors != UINT32_MAX, .first_func = ctors,
    };
    lvm_diag diag;
    ar[0].i32 = lun_child_spawn(lp, cp, rt->cfg.module, rt->cfg.linker, NULL, NULL, &pc, &diag);
    if (diag.err != LVM_OK)
        lun_tell_failure(rt, "lvm: lunatic.spawn_with_context: the child failed to start: %s%s\n",
                         diag.message, lun_limit_option(diag.err));
    lvm_hostcall_charge(call, LVM_SPAWN_REDUCTIONS);
    return LVM_OK;
}

const char *lun_limit_option(lvm_err err)
{
    return err == LVM_ERR_MEMORY_LIMIT         ? " (--max-memory)"
           : err == LVM_ERR_TOTAL_MEMORY_LIMIT ? " (--max-total-memory)"
                                               : "";
}

void lun_tell_failure(lunatic_runtime *rt, const char *fmt, ...)
{
    uint32_t n = atomic_fetch_add(&rt->told_failures, 1);
    if (n > LUN_TOLD_FAILURES)
        return;
    if (n == LUN_TOLD_FAILURES) {
        fprintf(stderr, "lvm: more children failed to start; further failures are not reported\n");
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

/* join(handle) -> 0 | 1 */
static lvm_err lun_join(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("join");
    lun_child *c = NULL;
    lvm_err err = child_get(lp, ar[0].i32, "join", &c);
    if (err)
        return err;
    int status = 1;
    if (c->p && !green_join(&lvm_process_self()->g, &c->p->g, &status))
        return LVM_ERR_BLOCK;               /* the handle stays for the retry */
    child_take(c);
    ar[0].i32 = status == 0 ? 0 : 1;
    return LVM_OK;
}

/* detach_process(handle): the child runs on; nobody can join it. */
static lvm_err lun_detach(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("detach_process");
    lun_child *c = NULL;
    lvm_err err = child_get(lp, ar[0].i32, "detach_process", &c);
    if (err)
        return err;
    child_take(c);
    return LVM_OK;
}

/* cancel_process(handle): the child stops at its next suspension point;
 * its own exit hook releases its resources. */
static lvm_err lun_cancel(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("cancel_process");
    lun_child *c = NULL;
    lvm_err err = child_get(lp, ar[0].i32, "cancel_process", &c);
    if (err)
        return err;
    if (c->p)
        green_cancel(&c->p->g);
    child_take(c);
    return LVM_OK;
}

const wasi_import lun_process_imports[] = {
    { "yield_",             ":",    lun_yield },
    { "sleep_ms",           "I:",   lun_sleep_ms },
    { "spawn_with_context", "iii:i", lun_spawn },
    { "join",               "i:i",  lun_join },
    { "detach_process",     "i:",   lun_detach },
    { "cancel_process",     "i:",   lun_cancel },
    { NULL, NULL, NULL },
};

/* }====== */

lunatic_runtime *lunatic_define(const lunatic_config *cfg, lvm_store *s, lvm_linker *l)
{
    lunatic_runtime *rt = lvm_xcalloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rt->cfg = *cfg;
    pthread_mutex_init(&rt->lock, NULL);
    const wasi_import *tables[] = { lun_process_imports, lun_message_imports, lun_net_imports,
                                    lun_module_imports };
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        for (const wasi_import *imp = tables[t]; imp->name; imp++) {
            lvm_func *f = lvm_func_new_host(s, imp->type, imp->fn, rt);
            lvm_extern ext = { .kind = LVM_EXTERN_FUNC, .u.func = f };
            if (!f || lvm_linker_define(l, LUNATIC_MODULE, imp->name, ext) != LVM_OK) {
                lunatic_free(rt);
                return NULL;
            }
        }
    }
    return rt;
}
