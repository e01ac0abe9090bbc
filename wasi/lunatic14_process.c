/*
 * lunatic14_process.c - the process half of the lunatic 0.14 host API
 * (ABI 7, 8.1, 3.3): the per-process state, environments, spawn (with
 * its link, config and module), links, monitors, kill, and how a process
 * ends; plus the helpers every lunatic14_*.c file shares and
 * lunatic14_define.
 *
 * A 0.14 process is an lvm_process (vm/process.c) whose `user` is an
 * l14_proc.  Its signals - mailbox, links, monitors, kill - are a
 * green_actor (green/mbox.h) embedded first in the l14_proc: the
 * mechanism is green/'s, this file only maps process ids to actors and
 * decides what a death means (ABI 3.3).
 *
 * Lifetime.  An l14_proc lives as long as its actor is referenced: by
 * its own process until it ends, by its environment's pid table while it
 * is alive, and by the links and monitors that point at it.  Its
 * resources go when it ends (proc_ended); only the small struct may stay
 * a little longer, for a peer that still holds a link to it.
 */
#include "lunatic14_internal.h"
#include "../io/io.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {====== shared helpers */

lvm_err l14_trap(const char *fn, const char *fmt, ...)
{
    char why[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    fprintf(stderr, "lvm: lunatic::%s: %s\n", fn, why);
    return LVM_ERR_TRAP_HOST;
}

lvm_err l14_trap_mem(const char *fn)
{
    /* The runtime's words (ABI 1.3), naming the function. */
    return l14_trap(fn, "Trap raised during host call: memory access out of bounds (%s).", fn);
}

const char *l14_unsupported_text(const char *fn, char *buf, size_t size)
{
    snprintf(buf, size, "lvm: lunatic::%s is not supported (no SQLite/TLS in lvm)", fn);
    return buf;
}

lvm_err l14_unsupported(const char *fn)
{
    char text[200];
    fprintf(stderr, "%s\n", l14_unsupported_text(fn, text, sizeof text));
    return LVM_ERR_TRAP_HOST;
}

bool l14_guest_str(const wasi_mem *m, uint32_t ptr, uint32_t len, const char **out)
{
    if (!wasi_mem_check(m, ptr, len))
        return false;
    const char *s = len ? (const char *)m->base + ptr : "";
    if (!lvm_utf8_valid((const uint8_t *)s, len))
        return false;
    *out = s;
    return true;
}

/* Ids are spread by a multiplicative hash; the tables are open
 * addressing with linear probing and backward-shift deletion, so a
 * lookup never meets a tombstone. */
static inline uint32_t hash_u64(uint64_t x, uint32_t mask)
{
    return (uint32_t)((x * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

static bool table_grow(l14_table *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : 8;
    if (cap < t->cap)
        return false;
    struct l14_slot *s = lvm_xcalloc(cap, sizeof *s);
    if (!s)
        return false;
    for (uint32_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].v)
            continue;
        uint32_t j = hash_u64(t->slots[i].id, cap - 1);
        while (s[j].v)
            j = (j + 1) & (cap - 1);
        s[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = s;
    t->cap = cap;
    return true;
}

uint64_t l14_table_add(l14_table *t, void *v)
{
    if ((t->n + 1) * 4 > t->cap * 3 && !table_grow(t))
        return UINT64_MAX;
    uint64_t id = t->next++;
    uint32_t j = hash_u64(id, t->cap - 1);
    while (t->slots[j].v)
        j = (j + 1) & (t->cap - 1);
    t->slots[j].id = id;
    t->slots[j].v = v;
    t->n++;
    return id;
}

static int32_t table_find(const l14_table *t, uint64_t id)
{
    if (!t->cap || id >= t->next)
        return -1;
    uint32_t j = hash_u64(id, t->cap - 1);
    while (t->slots[j].v) {
        if (t->slots[j].id == id)
            return (int32_t)j;
        j = (j + 1) & (t->cap - 1);
    }
    return -1;
}

void *l14_table_get(const l14_table *t, uint64_t id)
{
    int32_t j = table_find(t, id);
    return j < 0 ? NULL : t->slots[j].v;
}

void *l14_table_take(l14_table *t, uint64_t id)
{
    int32_t found = table_find(t, id);
    if (found < 0)
        return NULL;
    uint32_t mask = t->cap - 1, i = (uint32_t)found;
    void *v = t->slots[i].v;
    /* Backward shift: move later entries of the run into the hole when
     * their home slot is at or before it. */
    for (uint32_t j = (i + 1) & mask; t->slots[j].v; j = (j + 1) & mask) {
        uint32_t home = hash_u64(t->slots[j].id, mask);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    t->slots[i].v = NULL;
    t->n--;
    return v;
}

void l14_table_free(l14_table *t, void (*drop)(void *v))
{
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->slots[i].v && drop)
            drop(t->slots[i].v);
    free(t->slots);
    t->slots = NULL;
    t->cap = t->n = 0;
}

/* }====== */

/* {====== environments */

l14_env *lunatic14_env_new(l14_runtime *rt)
{
    l14_env *env = lvm_xcalloc(1, sizeof *env);
    if (!env)
        return NULL;
    env->rt = rt;
    atomic_init(&env->refs, 1);
    env->id = atomic_fetch_add(&rt->next_env, 1);
    env->next_pid = 1;
    pthread_mutex_init(&env->pid_lock, NULL);
    pthread_mutex_init(&env->lock, NULL);
    return env;
}

static void env_retain(l14_env *env)
{
    atomic_fetch_add_explicit(&env->refs, 1, memory_order_relaxed);
}

void lunatic14_env_release(l14_env *env)
{
    if (!env || atomic_fetch_sub_explicit(&env->refs, 1, memory_order_acq_rel) != 1)
        return;
    /* The pid table is empty: every process removed itself as it ended,
     * and each held a reference. */
    free(env->pids);
    for (uint32_t i = 0; i < env->nnames; i++)
        free(env->names[i].name);
    free(env->names);
    pthread_mutex_destroy(&env->pid_lock);
    pthread_mutex_destroy(&env->lock);
    free(env);
}

static struct l14_pid_slot *pid_slot(l14_env *env, uint64_t pid)
{
    if (!env->pidcap)
        return NULL;
    uint32_t mask = env->pidcap - 1;
    for (uint32_t j = hash_u64(pid, mask); env->pids[j].lp; j = (j + 1) & mask)
        if (env->pids[j].pid == pid)
            return &env->pids[j];
    return NULL;
}

/* Under pid_lock: enter lp (its actor id is its pid), with a reference. */
static bool pid_insert(l14_env *env, l14_proc *lp)
{
    if ((env->npids + 1) * 4 > env->pidcap * 3) {
        uint32_t cap = env->pidcap ? env->pidcap * 2 : 64;
        struct l14_pid_slot *s = lvm_xcalloc(cap, sizeof *s);
        if (!s)
            return false;
        for (uint32_t i = 0; i < env->pidcap; i++) {
            if (!env->pids[i].lp)
                continue;
            uint32_t j = hash_u64(env->pids[i].pid, cap - 1);
            while (s[j].lp)
                j = (j + 1) & (cap - 1);
            s[j] = env->pids[i];
        }
        free(env->pids);
        env->pids = s;
        env->pidcap = cap;
    }
    uint32_t mask = env->pidcap - 1, j = hash_u64(lp->actor.id, mask);
    while (env->pids[j].lp)
        j = (j + 1) & mask;
    env->pids[j].pid = lp->actor.id;
    env->pids[j].lp = lp;
    env->npids++;
    green_actor_retain(&lp->actor);
    return true;
}

/* Remove pid (backward shift, as l14_table_take); returns the entry's
 * process, whose reference the caller now holds, or NULL. */
static l14_proc *pid_remove(l14_env *env, uint64_t pid)
{
    pthread_mutex_lock(&env->pid_lock);
    struct l14_pid_slot *slot = pid_slot(env, pid);
    l14_proc *lp = NULL;
    if (slot) {
        lp = slot->lp;
        uint32_t mask = env->pidcap - 1, i = (uint32_t)(slot - env->pids);
        for (uint32_t j = (i + 1) & mask; env->pids[j].lp; j = (j + 1) & mask) {
            uint32_t home = hash_u64(env->pids[j].pid, mask);
            if (((j - home) & mask) >= ((j - i) & mask)) {
                env->pids[i] = env->pids[j];
                i = j;
            }
        }
        env->pids[i].lp = NULL;
        env->npids--;
    }
    pthread_mutex_unlock(&env->pid_lock);
    return lp;
}

l14_proc *l14_env_find(l14_env *env, uint64_t pid)
{
    pthread_mutex_lock(&env->pid_lock);
    struct l14_pid_slot *slot = pid_slot(env, pid);
    l14_proc *lp = slot ? slot->lp : NULL;
    if (lp)
        green_actor_retain(&lp->actor);
    pthread_mutex_unlock(&env->pid_lock);
    return lp;
}

static uint64_t pid_take(l14_env *env)
{
    pthread_mutex_lock(&env->pid_lock);
    uint64_t pid = env->next_pid++;
    pthread_mutex_unlock(&env->pid_lock);
    return pid;
}

void l14_deliver(l14_env *env, uint64_t pid, green_msg *m)
{
    l14_proc *to = l14_env_find(env, pid);
    if (!to || !green_actor_send(&to->actor, m))
        m->free(m);                     /* ABI 6.1: dropped */
    if (to)
        green_actor_release(&to->actor);
}

/* }====== */

/* {====== the per-process state */

l14_proc *l14_self(const lvm_hostcall *call)
{
    lvm_process *p = lvm_process_self();
    return p && p->thread == call->thread ? p->user : NULL;
}

static void proc_free(green_actor *a)
{
    l14_proc *lp = (l14_proc *)a;
    lunatic14_env_release(lp->env);
    free(lp);
}

/* A new state (one reference, for the process) with a pid of env. */
static l14_proc *proc_new(l14_runtime *rt, l14_env *env, l14_config *config, lvm_module *m)
{
    l14_proc *lp = lvm_xcalloc(1, sizeof *lp);
    if (!lp)
        return NULL;
    lp->rt = rt;
    lp->env = env;
    env_retain(env);
    lp->config = config;
    lp->module = m;
    lvm_module_retain(m);
    green_actor_init(&lp->actor, NULL, pid_take(env), proc_free);
    return lp;
}

static void drop_module(void *m)
{
    lvm_module_release(m);
}

/* Free what a process holds (ABI 1.5: all its resources go when it ends). */
static void proc_cleanup(l14_proc *lp)
{
    l14_message_cleanup(lp);
    l14_net_cleanup(lp);
    l14_misc_cleanup(lp);
    l14_table_free(&lp->configs, l14_config_free);
    l14_table_free(&lp->modules, drop_module);
    l14_config_free(lp->config);
    lp->config = NULL;
    if (lp->module)
        lvm_module_release(lp->module);
    lp->module = NULL;
}

/* The words for an lvm_err that ended a process. */
static void end_reason(const lvm_process *p, lunatic14_end *end)
{
    if (end->has_exit_code)
        snprintf(end->reason, sizeof end->reason, "Exited with i32 exit status %u", end->exit_code);
    else
        snprintf(end->reason, sizeof end->reason, "%s", lvm_strerror(end->result));
}

/* A process has ended (on its worker, from vm/process.c's on_exit). */
static void proc_ended(lvm_process *p)
{
    l14_proc *lp = p->user;
    wasi_ctx *ctx = lp->wasi ? lp->wasi : lp->root_wasi;
    lunatic14_end end = { .result = p->result };
    green_kill killed = green_actor_kill_reason(&lp->actor);
    uint32_t code;
    if (p->result == LVM_ERR_TRAP_EXIT && killed != GREEN_KILL_NONE) {
        end.result = LVM_ERR_TRAP_KILLED;       /* kill, or a link's death */
    } else if (p->result == LVM_ERR_TRAP_EXIT && wasi_exit_code(ctx, &code)) {
        end.has_exit_code = true;
        end.exit_code = code;
    }
    /* ABI 3.3: normal is returning or proc_exit(0); anything else fails
     * (a cancel without a kill reason is lvm's own shutdown). */
    end.failed = !(end.result == LVM_OK || (end.has_exit_code && end.exit_code == 0));
    if (end.failed || lp->on_end)
        end_reason(p, &end);            /* words cost a printf: only if read */
    p->result = end.result;
    if (end.failed && lp->rt->cfg.verbose)
        fprintf(stderr, "lvm: process %llu failed: %s\n", (unsigned long long)lp->actor.id,
                end.reason);
    proc_cleanup(lp);
    /* ABI 8.4: out of the environment first, so that whoever learns of
     * the death also sees exists(pid) == 0. */
    l14_proc *entry = pid_remove(lp->env, lp->actor.id);
    if (entry)
        green_actor_release(&entry->actor);
    green_actor_exit(&lp->actor, end.failed);
    if (lp->on_end)
        lp->on_end(p, &end, lp->on_end_arg);
    if (lp->wasi)
        wasi_ctx_free(lp->wasi);
    lp->wasi = NULL;
    p->wasi = NULL;
    lp->p = NULL;
    lp->ended = true;
    atomic_fetch_sub(&lp->rt->nprocs, 1);
    green_actor_release(&lp->actor);        /* the process's reference */
}

/* }====== */

/* {====== spawning (ABI 7.1) */

/* What setup (called by lvm_process_spawn before the instance exists and
 * before the process can run) does: tie the actor to its process, make
 * the pid known, link it to its parent.  From here on the child may be
 * sent to, linked and killed; nothing of it runs until green_spawn. */
typedef struct spawn_ctx {
    l14_proc *parent, *child;
    int64_t link;
    uint64_t fuel;              /* reductions; 0: unlimited */
    bool entered;               /* setup ran: undo it if the spawn fails */
} spawn_ctx;

static lvm_linker *spawn_setup(lvm_process *p, void *arg, lvm_linker *l, lvm_diag *diag)
{
    spawn_ctx *sc = arg;
    l14_proc *lp = sc->child;
    lp->p = p;
    lp->actor.proc = &p->g;
    if (sc->fuel)
        lvm_thread_set_fuel(p->thread, sc->fuel);
    pthread_mutex_lock(&lp->env->pid_lock);
    bool ok = pid_insert(lp->env, lp);
    pthread_mutex_unlock(&lp->env->pid_lock);
    if (!ok) {
        lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
        return NULL;
    }
    sc->entered = true;
    /* ABI 7.1: the child keeps the link under `link`, the parent under
     * none, so a child's failure reaches the parent with tag `link`. */
    if (sc->link && sc->parent)
        green_actor_link(&lp->actor, &sc->parent->actor, sc->link, 0);
    return l;
}

/* The entry's arguments: 17-byte records of a type byte and a u128
 * (ABI 7.1 step 5), into v[0..n).  Returns NULL, or why not (a trap). */
static const char *parse_params(const uint8_t *b, uint32_t len, lvm_val *v, uint8_t *types)
{
    if (len % 17)
        return "Params array must be in chunks of 17 bytes";
    for (uint32_t i = 0; i < len / 17; i++, b += 17) {
        uint64_t lo = 0;
        for (int k = 0; k < 8; k++)
            lo |= (uint64_t)b[1 + k] << (8 * k);
        v[i].bits = 0;
        switch (b[0]) {
        case LVM_I32: v[i].i32 = (uint32_t)lo; break;
        case LVM_I64: v[i].i64 = lo; break;
        case LVM_V128: break;   /* no v128 entry can exist (no SIMD): the
                                   type check fails the child */
        default: return "Unsupported type ID";
        }
        types[i] = b[0];
    }
    return NULL;
}

/* A child that fails at once (its entry is missing or of another type:
 * ABI 7.1, the runtime fails it when it starts).  It has a pid, and a
 * linked parent hears of the death as of any other. */
static void spawn_dead(l14_proc *lp, uint64_t pid, int64_t link, const char *why, const char *fn)
{
    if (lp->rt->cfg.verbose)
        fprintf(stderr, "lvm: process %llu failed: %s\n", (unsigned long long)pid, why);
    if (link)
        green_actor_link_died(&lp->actor, pid, link);
}

/* Pages for a limit in bytes: floor, at most 4 GiB, and --max-memory. */
static uint32_t limit_pages(const l14_runtime *rt, uint64_t bytes, bool *zero)
{
    uint64_t pages = bytes / 65536;
    if (pages > 65536)
        pages = 65536;
    if (rt->cfg.memory_limit_pages && pages > rt->cfg.memory_limit_pages)
        pages = rt->cfg.memory_limit_pages;
    *zero = pages == 0;
    return (uint32_t)pages;
}

lvm_err l14_spawn(lvm_hostcall *call, l14_proc *lp, const char *fn, int64_t link,
                  int64_t config_id, int64_t module_id, uint32_t func, uint32_t func_len,
                  uint32_t params, uint32_t params_len, uint32_t *status, uint64_t *id)
{
    l14_runtime *rt = lp->rt;
    if (!lp->config->can_spawn)
        return l14_trap(fn, "Process doesn't have permissions to spawn sub-processes");
    /* ABI 7.1: not from a start function (the process's calls before its
     * entry, vm/process.c). */
    if (lp->p && lp->p->next && lp->p->calls[lp->p->next - 1] != lp->p->entry)
        return l14_trap(fn, "Cannot spawn process during module initialization");
    const l14_config *cfg = lp->config;
    if (config_id != -1 && !(cfg = l14_table_get(&lp->configs, (uint64_t)config_id)))
        return l14_trap(fn, "Trap raised during host call: Config %lld not found (%s).",
                        (long long)config_id, fn);
    lvm_module *m = lp->module;
    if (module_id != -1 && !(m = l14_table_get(&lp->modules, (uint64_t)module_id)))
        return l14_trap(fn, "Trap raised during host call: Module %lld not found (%s).",
                        (long long)module_id, fn);
    wasi_mem mem = wasi_mem_of(call);
    const char *name;
    if (!l14_guest_str(&mem, func, func_len, &name) || !wasi_mem_check(&mem, params, params_len))
        return l14_trap_mem(fn);
    /* On the stack: a spawn should cost the spawner no allocation of
     * its own (the arguments, the entry's name, the config). */
    uint8_t types[64];
    lvm_val args[64];
    if (params_len / 17 > sizeof types)
        return l14_trap(fn, "too many params (%u; lvm takes at most %zu)", params_len / 17,
                        sizeof types);
    const char *why = parse_params(mem.base + params, params_len, args, types);
    if (why)
        return l14_trap(fn, "%s", why);
    char entry_buf[128];
    char *entry = func_len < sizeof entry_buf ? entry_buf : malloc((size_t)func_len + 1);
    /* ABI 9.5: -1 is my own config, which never changes: shared. */
    bool inherit = config_id == -1;
    l14_config *ccfg = inherit ? l14_config_retain(lp->config) : l14_config_copy(cfg);
    if (!entry || !ccfg) {
        if (entry != entry_buf)
            free(entry);
        l14_config_free(ccfg);
        return l14_trap(fn, "out of host memory");
    }
    memcpy(entry, name, func_len);
    entry[func_len] = '\0';
    lvm_err ret = LVM_OK;
    l14_proc *cp = NULL;
    wasi_ctx *ctx = NULL;
    wasi_ctx *parent_ctx = lp->wasi ? lp->wasi : lp->root_wasi;
    *status = L14_ERROR;

    /* The limit of processes alive at once (README, "Limits"). */
    uint32_t maxp = rt->cfg.max_processes ? rt->cfg.max_processes : 1048576u;
    if (atomic_fetch_add(&rt->nprocs, 1) >= (long)maxp) {
        atomic_fetch_sub(&rt->nprocs, 1);
        if (!atomic_exchange(&rt->told_max_processes, true))
            fprintf(stderr, "lvm: spawn refused: %u processes are alive, the limit set by "
                    "--max-processes %u\n", maxp, maxp);
        *id = l14_error_new(lp, "spawn refused: %u processes are alive (--max-processes)", maxp);
        goto out_cfg;
    }
    cp = proc_new(rt, lp->env, ccfg, m);
    if (!cp) {
        atomic_fetch_sub(&rt->nprocs, 1);
        ret = l14_trap(fn, "out of host memory");
        goto out_cfg;
    }
    ccfg = NULL;                        /* cp's now */
    uint64_t pid = cp->actor.id;

    /* The entry must exist and take exactly these arguments; else the
     * child fails as it starts (ABI 7.1), spawn still returns 0. */
    lvm_functype ft;
    uint32_t nargs = params_len / 17;
    bool typed = lvm_module_export_functype(m, entry, &ft) && strlen(entry) == func_len;
    if (typed && (ft.nparams != nargs || ft.nresults != 0 || memcmp(ft.types, types, nargs)))
        typed = false;
    if (!typed) {
        bool exists = lvm_module_export_functype(m, entry, &ft);
        char text[300];
        snprintf(text, sizeof text, exists ? "Function '%s' does not take these arguments"
                                           : "Function '%s' not found", entry);
        spawn_dead(lp, pid, link, text, fn);
        green_actor_exit(&cp->actor, true);
        proc_cleanup(cp);
        atomic_fetch_sub(&rt->nprocs, 1);
        green_actor_release(&cp->actor);
        *status = L14_OK;
        *id = pid;
        goto out;
    }

    /* Its WASI view: the parent's (config -1) or exactly the config's,
     * opened through the parent's own directories (wasi/caps.c). */
    if (inherit) {
        ctx = wasi_ctx_new_child(parent_ctx);
        if (!ctx)
            *id = l14_error_os(lp, ENOMEM);
    } else {
        int err = 0;
        char whytext[300] = "";
        l14_config *c = cp->config;
        ctx = wasi_ctx_configured(parent_ctx, (int)c->nargs, (const char *const *)c->args,
                                  (int)c->nenvs, (const char *const *)c->envs, (int)c->npreopens,
                                  (const char *const *)c->preopens, &err, whytext, sizeof whytext);
        if (!ctx)
            *id = whytext[0] ? l14_error_new(lp, "%s", whytext) : l14_error_os(lp, err);
    }
    if (!ctx)
        goto out_child;
    cp->wasi = ctx;
    cp->root_wasi = lp->root_wasi;

    bool zero;
    uint32_t pages = limit_pages(rt, cp->config->max_memory, &zero);
    uint64_t fuel = cp->config->max_fuel;
    if (fuel > UINT64_MAX / L14_REDUCTIONS_PER_FUEL)
        fuel = 0;                       /* beyond any run: unlimited */
    spawn_ctx sc = { .parent = lp, .child = cp, .link = link,
                     .fuel = fuel * L14_REDUCTIONS_PER_FUEL };
    lvm_process_config pc = {
        .thread = rt->cfg.thread, .user = cp, .wasi = ctx, .on_exit = proc_ended,
        .release_at_exit = true,        /* its end is told by signals */
        .memory_limit_pages = pages, .memory_limit_zero = zero, .entry_len = func_len,
        .setup = spawn_setup, .setup_arg = &sc,
    };
    lvm_diag diag = { .err = LVM_OK, .offset = LVM_NO_OFFSET, .message = "" };
    lvm_process *p = lvm_process_spawn(rt->cfg.sched, m, rt->cfg.linker, entry,
                                       nargs ? args : NULL, &pc, &diag);
    if (!p) {
        /* Instantiation failed (ABI 7.1: spawn returns 1).  Undo setup
         * quietly: a normal exit tells no link. */
        if (sc.entered) {
            l14_proc *e = pid_remove(cp->env, pid);
            if (e)
                green_actor_release(&e->actor);
        }
        cp->actor.proc = NULL;
        cp->p = NULL;
        *id = l14_error_new(lp, "%s", diag.message);
        goto out_child;
    }
    lvm_process_release(p);             /* 0.14 has no join: the
                                           scheduler's reference is enough */
    *status = L14_OK;
    *id = pid;
    goto out;

out_child:
    green_actor_exit(&cp->actor, false);
    if (cp->wasi)
        wasi_ctx_free(cp->wasi);
    cp->wasi = NULL;
    proc_cleanup(cp);
    atomic_fetch_sub(&rt->nprocs, 1);
    green_actor_release(&cp->actor);
    goto out;
out_cfg:
    l14_config_free(ccfg);
out:
    if (entry != entry_buf)
        free(entry);
    if (ret == LVM_OK && *id == UINT64_MAX)
        ret = l14_trap(fn, "out of host memory");
    return ret;
}

lvm_process *lunatic14_spawn_root(l14_runtime *rt, l14_env *env, const char *entry, wasi_ctx *ctx,
                                  void (*on_end)(lvm_process *p, const lunatic14_end *end, void *arg),
                                  void *arg, lvm_diag *diag)
{
    l14_config *cfg = l14_config_new();
    if (cfg) {
        /* ABI 3.1: the root config allows everything. */
        cfg->can_compile = cfg->can_create_configs = cfg->can_spawn = true;
    }
    l14_proc *lp = cfg ? proc_new(rt, env, cfg, rt->cfg.module) : NULL;
    if (!lp) {
        l14_config_free(cfg);
        lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
        return NULL;
    }
    atomic_fetch_add(&rt->nprocs, 1);
    lp->root_wasi = ctx;
    lp->on_end = on_end;
    lp->on_end_arg = arg;
    bool zero;
    spawn_ctx sc = { .child = lp };
    lvm_process_config pc = {
        .thread = rt->cfg.thread, .user = lp, .wasi = ctx, .on_exit = proc_ended,
        .memory_limit_pages = limit_pages(rt, lp->config->max_memory, &zero),
        .setup = spawn_setup, .setup_arg = &sc,
    };
    pc.memory_limit_zero = zero;
    lvm_process *p = lvm_process_spawn(rt->cfg.sched, rt->cfg.module, rt->cfg.linker, entry,
                                       NULL, &pc, diag);
    if (!p) {
        if (sc.entered) {
            l14_proc *e = pid_remove(env, lp->actor.id);
            if (e)
                green_actor_release(&e->actor);
        }
        lp->actor.proc = NULL;
        green_actor_exit(&lp->actor, false);
        proc_cleanup(lp);
        atomic_fetch_sub(&rt->nprocs, 1);
        green_actor_release(&lp->actor);
    }
    return p;
}

uint64_t lunatic14_pid(const lvm_process *p)
{
    const l14_proc *lp = p->user;
    return lp ? lp->actor.id : 0;
}

/* }====== */

/* {====== host functions: lunatic::process */

#define ARG_I32(i) (ar[i].i32)
#define ARG_I64(i) ((int64_t)ar[i].i64)

/* spawn(link, config_id, module_id, func, func_len, params, params_len,
 * id_ptr) -> status */
static lvm_err h_spawn(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "process::spawn";
    L14_SELF(fn);
    wasi_mem m = wasi_mem_of(call);
    uint32_t id_ptr = ARG_I32(7);
    if (!wasi_mem_check(&m, id_ptr, 8))
        return l14_trap_mem(fn);
    uint32_t status;
    uint64_t id;
    lvm_err err = l14_spawn(call, lp, fn, ARG_I64(0), ARG_I64(1), ARG_I64(2), ARG_I32(3),
                            ARG_I32(4), ARG_I32(5), ARG_I32(6), &status, &id);
    if (err)
        return err;
    lvm_hostcall_charge(call, LVM_SPAWN_REDUCTIONS);
    m = wasi_mem_of(call);
    wasi_store_u64(&m, id_ptr, id);
    ar[0].i32 = status;
    return LVM_OK;
}

/* get_or_spawn(name, name_len, link, config_id, module_id, func,
 * func_len, params, params_len, node_id_ptr, id_ptr) -> 0 spawned,
 * 1 error, 2 found (ABI 7.3) */
static lvm_err h_get_or_spawn(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "process::get_or_spawn";
    L14_SELF(fn);
    wasi_mem m = wasi_mem_of(call);
    const char *name;
    uint32_t name_len = ARG_I32(1), node_ptr = ARG_I32(9), id_ptr = ARG_I32(10);
    if (!l14_guest_str(&m, ARG_I32(0), name_len, &name) || !wasi_mem_check(&m, node_ptr, 8) ||
        !wasi_mem_check(&m, id_ptr, 8))
        return l14_trap_mem(fn);
    /* The name's bytes are copied: the spawn may not move memory, but the
     * code is clearer not relying on it. */
    char *key = malloc(name_len ? name_len : 1);
    if (!key)
        return l14_trap(fn, "out of host memory");
    memcpy(key, name, name_len);
    l14_env *env = lp->env;
    uint64_t node = 0, id = 0;
    uint32_t status;
    lvm_err err = LVM_OK;
    /* The registry is held for the whole operation: one winner. */
    pthread_mutex_lock(&env->lock);
    if (l14_registry_find(env, key, name_len, &node, &id)) {
        status = 2;
    } else {
        err = l14_spawn(call, lp, fn, ARG_I64(2), ARG_I64(3), ARG_I64(4), ARG_I32(5), ARG_I32(6),
                        ARG_I32(7), ARG_I32(8), &status, &id);
        node = 0;
        /* D6: a failed spawn registers nothing. */
        if (!err && status == L14_OK && !l14_registry_put(env, key, name_len, 0, id))
            err = l14_trap(fn, "out of host memory");
    }
    pthread_mutex_unlock(&env->lock);
    free(key);
    if (err)
        return err;
    if (status != 2)
        lvm_hostcall_charge(call, LVM_SPAWN_REDUCTIONS);
    m = wasi_mem_of(call);
    wasi_store_u64(&m, node_ptr, node);
    wasi_store_u64(&m, id_ptr, id);
    ar[0].i32 = status;
    return LVM_OK;
}

/* sleep_ms(ms): park; the retry after the timer finishes it.  Only the
 * process sleeps (D14); a kill ends it where it is (green_cancel). */
static lvm_err h_sleep_ms(lvm_hostcall *call, lvm_val *ar)
{
    L14_SELF("process::sleep_ms");
    uint64_t now = io_now_ns();
    if (lp->wait != L14_WAIT_SLEEP) {
        uint64_t ms = ar[0].i64;
        uint64_t ns = ms > UINT64_MAX / 1000000 ? UINT64_MAX : ms * 1000000;
        lp->deadline = now + ns < now ? UINT64_MAX : now + ns;
        lp->wait = L14_WAIT_SLEEP;
    }
    if (now >= lp->deadline) {
        lp->wait = L14_WAIT_NONE;
        return LVM_OK;
    }
    green_sleep(&lp->p->g, lp->deadline - now);
    return LVM_ERR_BLOCK;
}

static lvm_err h_die_when_link_dies(lvm_hostcall *call, lvm_val *ar)
{
    L14_SELF("process::die_when_link_dies");
    green_actor_trap_links(&lp->actor, ar[0].i32 != 0);
    return LVM_OK;
}

static lvm_err h_process_id(lvm_hostcall *call, lvm_val *ar)
{
    L14_SELF("process::process_id");
    ar[0].i64 = lp->actor.id;
    return LVM_OK;
}

static lvm_err h_environment_id(lvm_hostcall *call, lvm_val *ar)
{
    L14_SELF("process::environment_id");
    ar[0].i64 = lp->env->id;
    return LVM_OK;
}

/* link(tag, pid): both sides keep tag; a pid that does not exist is a
 * link death with reason NoProcess at once (ABI 8.1). */
static lvm_err h_link(lvm_hostcall *call, lvm_val *ar)
{
    L14_SELF("process::link");
    int64_t tag = ARG_I64(0);
    uint64_t pid = ar[1].i64;
    l14_proc *peer = pid == lp->actor.id ? NULL : l14_env_find(lp->env, pid);
    if (pid == lp->actor.id)
        return LVM_OK;                  /* linking to yourself: nothing */
    bool linked = peer && green_actor_link(&lp->actor, &peer->actor, tag, tag);
    if (peer)
        green_actor_release(&peer->actor);
    if (!linked)
        green_actor_link_died(&lp->actor, pid, tag);
    return LVM_OK;
}

static lvm_err h_unlink(lvm_hostcall *call, lvm_val *ar)
{
    L14_SELF("process::unlink");
    l14_proc *peer = l14_env_find(lp->env, ar[0].i64);
    if (peer) {
        green_actor_unlink(&lp->actor, &peer->actor);
        green_actor_release(&peer->actor);
    }
    return LVM_OK;
}

/* monitor(pid): DOWN when it ends; at once if it does not exist (D7). */
static lvm_err h_monitor(lvm_hostcall *call, lvm_val *ar)
{
    L14_SELF("process::monitor");
    uint64_t pid = ar[0].i64;
    l14_proc *target = l14_env_find(lp->env, pid);
    bool watching = target && green_actor_monitor(&lp->actor, &target->actor);
    if (target)
        green_actor_release(&target->actor);
    if (!watching) {
        green_msg *down = green_msg_signal(GREEN_MSG_DOWN, pid, 0);
        if (!down)
            return l14_trap("process::monitor", "out of host memory");
        if (!green_actor_send(&lp->actor, down))
            down->free(down);
    }
    return LVM_OK;
}

static lvm_err h_stop_monitoring(lvm_hostcall *call, lvm_val *ar)
{
    L14_SELF("process::stop_monitoring");
    l14_proc *target = l14_env_find(lp->env, ar[0].i64);
    if (target) {
        green_actor_demonitor(&lp->actor, &target->actor);
        green_actor_release(&target->actor);
    }
    return LVM_OK;
}

/* kill(pid): it ends at its next scheduling point (ABI 3.2); killing
 * yourself ends you when this call returns to the scheduler, which it
 * does at once (a cancelled process's slice ends: LVM_ERR_BLOCK). */
static lvm_err h_kill(lvm_hostcall *call, lvm_val *ar)
{
    L14_SELF("process::kill");
    uint64_t pid = ar[0].i64;
    l14_proc *target = l14_env_find(lp->env, pid);
    if (!target)
        return LVM_OK;
    green_actor_kill(&target->actor, GREEN_KILL_SIGNAL);
    green_actor_release(&target->actor);
    if (target == lp)
        return LVM_ERR_BLOCK;           /* woken at once, and ends */
    return LVM_OK;
}

static lvm_err h_exists(lvm_hostcall *call, lvm_val *ar)
{
    L14_SELF("process::exists");
    l14_proc *target = l14_env_find(lp->env, ar[0].i64);
    ar[0].i32 = target != NULL;
    if (target)
        green_actor_release(&target->actor);
    return LVM_OK;
}

const l14_import l14_process_imports[] = {
    { "lunatic::process", "spawn", "IIIiiiii:i", h_spawn },
    { "lunatic::process", "get_or_spawn", "iiIIIiiiiii:i", h_get_or_spawn },
    { "lunatic::process", "sleep_ms", "I:", h_sleep_ms },
    { "lunatic::process", "die_when_link_dies", "i:", h_die_when_link_dies },
    { "lunatic::process", "process_id", ":I", h_process_id },
    { "lunatic::process", "environment_id", ":I", h_environment_id },
    { "lunatic::process", "link", "II:", h_link },
    { "lunatic::process", "unlink", "I:", h_unlink },
    { "lunatic::process", "monitor", "I:", h_monitor },
    { "lunatic::process", "stop_monitoring", "I:", h_stop_monitoring },
    { "lunatic::process", "kill", "I:", h_kill },
    { "lunatic::process", "exists", "I:i", h_exists },
    { NULL, NULL, NULL, NULL },
};

/* }====== */

/* {====== the runtime */

lunatic_abi lunatic_abi_of(const lvm_module *m)
{
    bool old = false, new_ = false;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const decode_import *imp = &m->imports[i];
        if (imp->module_len == 7 && memcmp(imp->module, "lunatic", 7) == 0)
            old = true;
        else if (imp->module_len > 9 && memcmp(imp->module, "lunatic::", 9) == 0)
            new_ = true;
    }
    return old && new_ ? LUNATIC_ABI_MIXED : old ? LUNATIC_ABI_03 : new_ ? LUNATIC_ABI_14
                                                                     : LUNATIC_ABI_NONE;
}

extern const l14_import l14_config_imports[];

l14_runtime *lunatic14_define(const lunatic14_config *cfg, lvm_store *s, lvm_linker *l)
{
    l14_runtime *rt = lvm_xcalloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rt->cfg = *cfg;
    atomic_init(&rt->next_env, 1);
    const l14_import *tables[] = { l14_process_imports, l14_message_imports, l14_config_imports,
                                   l14_misc_imports, l14_net_imports };
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        for (const l14_import *imp = tables[t]; imp->name; imp++) {
            lvm_func *f = lvm_func_new_host(s, imp->type, imp->fn, rt);
            lvm_extern ext = { .kind = LVM_EXTERN_FUNC, .u.func = f };
            if (!f || lvm_linker_define(l, imp->module, imp->name, ext) != LVM_OK) {
                free(rt);
                return NULL;
            }
        }
    }
    return rt;
}

void lunatic14_free(l14_runtime *rt)
{
    free(rt);
}

/* }====== */
