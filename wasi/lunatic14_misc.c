/*
 * lunatic14_misc.c - the small modules of the lunatic 0.14 API: error
 * (ABI 5), registry (8.6), timer (8.7), trap::catch (10), distributed as
 * one node (11.1, D-C), metrics (11.2), version (11.3, D18), and the
 * SQLite functions lvm does not have (11.4, D-B).
 */
#include "lunatic14_internal.h"
#include "../io/io.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {====== lunatic::error */

typedef struct l14_error {
    uint32_t len;
    char text[];
} l14_error;

static uint64_t error_add(l14_proc *lp, const char *text, size_t len)
{
    if (len > UINT32_MAX)
        len = UINT32_MAX;
    l14_error *e = malloc(sizeof *e + len + 1);
    if (!e)
        return UINT64_MAX;
    e->len = (uint32_t)len;
    memcpy(e->text, text, len);
    e->text[len] = '\0';
    uint64_t id = l14_table_add(&lp->errors, e);
    if (id == UINT64_MAX)
        free(e);
    return id;
}

uint64_t l14_error_new(l14_proc *lp, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    return error_add(lp, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

uint64_t l14_error_os(l14_proc *lp, int err)
{
    /* Rust's io::Error Display (ABI 1.4). */
    return l14_error_new(lp, "%s (os error %d)", strerror(err), err);
}

#define ERROR_ARG(fn)                                                            \
    L14_SELF(fn);                                                                \
    l14_error *e = l14_table_get(&lp->errors, ar[0].i64);                        \
    if (!e)                                                                      \
        return l14_trap(fn, "Trap raised during host call: Error %llu not found (%s).", \
                        (unsigned long long)ar[0].i64, fn)

static lvm_err h_error_string_size(lvm_hostcall *call, lvm_val *ar)
{
    ERROR_ARG("error::string_size");
    ar[0].i32 = e->len;
    return LVM_OK;
}

static lvm_err h_error_to_string(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "error::to_string";
    ERROR_ARG(fn);
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, ar[1].i32, e->len))
        return l14_trap_mem(fn);
    wasi_copy_out(&m, ar[1].i32, e->text, e->len);
    return LVM_OK;
}

static lvm_err h_error_drop(lvm_hostcall *call, lvm_val *ar)
{
    ERROR_ARG("error::drop");
    free(l14_table_take(&lp->errors, ar[0].i64));
    return LVM_OK;
}

/* }====== */

/* {====== lunatic::registry (under env->lock, which callers hold) */

static struct l14_name *name_find(l14_env *env, const char *name, uint32_t len)
{
    for (uint32_t i = 0; i < env->nnames; i++)
        if (env->names[i].len == len && memcmp(env->names[i].name, name, len) == 0)
            return &env->names[i];
    return NULL;
}

bool l14_registry_find(l14_env *env, const char *name, uint32_t len, uint64_t *node, uint64_t *pid)
{
    struct l14_name *e = name_find(env, name, len);
    if (!e)
        return false;
    *node = e->node;
    *pid = e->pid;
    return true;
}

bool l14_registry_put(l14_env *env, const char *name, uint32_t len, uint64_t node, uint64_t pid)
{
    struct l14_name *e = name_find(env, name, len);
    if (!e) {
        if (env->nnames == env->capnames) {
            uint32_t cap = env->capnames ? env->capnames * 2 : 8;
            struct l14_name *v = cap > env->capnames ? realloc(env->names, cap * sizeof *v) : NULL;
            if (!v)
                return false;
            env->names = v;
            env->capnames = cap;
        }
        char *copy = malloc(len ? len : 1);
        if (!copy)
            return false;
        memcpy(copy, name, len);
        e = &env->names[env->nnames++];
        e->name = copy;
        e->len = len;
    }
    e->node = node;
    e->pid = pid;
    return true;
}

static lvm_err h_registry_put(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "registry::put";
    L14_SELF(fn);
    wasi_mem m = wasi_mem_of(call);
    const char *name;
    if (!l14_guest_str(&m, ar[0].i32, ar[1].i32, &name))
        return l14_trap_mem(fn);
    pthread_mutex_lock(&lp->env->lock);
    bool ok = l14_registry_put(lp->env, name, ar[1].i32, ar[2].i64, ar[3].i64);
    pthread_mutex_unlock(&lp->env->lock);
    return ok ? LVM_OK : l14_trap(fn, "out of host memory");
}

static lvm_err h_registry_get(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "registry::get";
    L14_SELF(fn);
    wasi_mem m = wasi_mem_of(call);
    const char *name;
    uint32_t node_ptr = ar[2].i32, pid_ptr = ar[3].i32;
    if (!l14_guest_str(&m, ar[0].i32, ar[1].i32, &name) || !wasi_mem_check(&m, node_ptr, 8) ||
        !wasi_mem_check(&m, pid_ptr, 8))
        return l14_trap_mem(fn);
    uint64_t node, pid;
    pthread_mutex_lock(&lp->env->lock);
    bool found = l14_registry_find(lp->env, name, ar[1].i32, &node, &pid);
    pthread_mutex_unlock(&lp->env->lock);
    if (found) {
        wasi_store_u64(&m, node_ptr, node);
        wasi_store_u64(&m, pid_ptr, pid);
    }
    ar[0].i32 = found ? 0 : 1;
    return LVM_OK;
}

static lvm_err h_registry_remove(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "registry::remove";
    L14_SELF(fn);
    wasi_mem m = wasi_mem_of(call);
    const char *name;
    if (!l14_guest_str(&m, ar[0].i32, ar[1].i32, &name))
        return l14_trap_mem(fn);
    l14_env *env = lp->env;
    pthread_mutex_lock(&env->lock);
    struct l14_name *e = name_find(env, name, ar[1].i32);
    if (e) {
        free(e->name);
        *e = env->names[--env->nnames];
    }
    pthread_mutex_unlock(&env->lock);
    return LVM_OK;
}

/* }====== */

/* {====== lunatic::timer
 *
 * A timer is a tiny green process of its own: it sleeps until its
 * deadline (on the reactor's timers, like any sleeping process), then
 * delivers its message unless it was cancelled.  So a timer needs no
 * machinery of its own, outlives its creator as ABI 8.7 wants (it holds
 * a reference to the environment, not to the creator), and is freed by
 * the scheduler like any process.  Rejected: a timer wheel in the
 * runtime, which would need its own thread or a hook in every worker.
 *
 * Its state decides the race between firing and cancel_timer: PENDING
 * becomes FIRED (by the timer) or CANCELLED (by cancel_timer) by one
 * compare-and-swap, so exactly one of them wins. */

enum { TIMER_PENDING, TIMER_FIRED, TIMER_CANCELLED };

typedef struct l14_timer {
    green_proc g;
    _Atomic int state;
    _Atomic int refs;           /* the green process's and the table's */
    uint64_t deadline;
    uint64_t pid;
    l14_env *env;               /* a reference */
    green_msg *msg;             /* delivered at the deadline */
} l14_timer;

static void timer_release(l14_timer *t)
{
    if (atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    if (t->msg)
        t->msg->free(t->msg);
    lunatic14_env_release(t->env);
    free(t);
}

static green_step timer_run(green_proc *g)
{
    l14_timer *t = (l14_timer *)g;
    uint64_t now = io_now_ns();
    if (!green_cancelled(g) && atomic_load(&t->state) == TIMER_PENDING && now < t->deadline) {
        green_sleep(g, t->deadline - now);
        return GREEN_BLOCK;
    }
    int pending = TIMER_PENDING;
    if (!green_cancelled(g) && atomic_compare_exchange_strong(&t->state, &pending, TIMER_FIRED)) {
        green_msg *m = t->msg;
        t->msg = NULL;
        l14_deliver(t->env, t->pid, m);
    }
    return GREEN_EXIT;
}

static void timer_free(green_proc *g)
{
    timer_release((l14_timer *)g);
}

static void timer_drop(void *v)
{
    timer_release(v);
}

/* send_after(pid, delay_ms) -> timer id: takes the scratch message. */
static lvm_err h_send_after(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "timer::send_after";
    L14_SELF(fn);
    if (!lp->scratch)
        return l14_trap(fn, "Trap raised during host call: no message in scratch area (%s).", fn);
    l14_timer *t = lvm_xcalloc(1, sizeof *t);
    if (!t)
        return l14_trap(fn, "out of host memory");
    uint64_t ms = ar[1].i64, now = io_now_ns();
    uint64_t ns = ms > (UINT64_MAX - now) / 1000000 ? UINT64_MAX - now : ms * 1000000;
    atomic_init(&t->state, TIMER_PENDING);
    atomic_init(&t->refs, 2);
    t->deadline = now + ns;
    t->pid = ar[0].i64;
    t->env = lp->env;
    atomic_fetch_add(&lp->env->refs, 1);
    uint64_t id = l14_table_add(&lp->timers, t);
    if (id == UINT64_MAX) {
        atomic_init(&t->refs, 1);
        timer_release(t);
        return l14_trap(fn, "out of host memory");
    }
    t->msg = l14_scratch_take(lp);
    green_spawn(lp->rt->cfg.sched, &t->g, timer_run, timer_free, t);
    green_release(&t->g);               /* the scheduler holds its own */
    ar[0].i64 = id;
    return LVM_OK;
}

/* cancel_timer(id) -> 1 if it was pending and now never fires, else 0. */
static lvm_err h_cancel_timer(lvm_hostcall *call, lvm_val *ar)
{
    L14_SELF("timer::cancel_timer");
    l14_timer *t = l14_table_take(&lp->timers, ar[0].i64);
    int pending = TIMER_PENDING;
    bool cancelled = t && atomic_compare_exchange_strong(&t->state, &pending, TIMER_CANCELLED);
    if (cancelled)
        green_cancel(&t->g);            /* it ends now, not at the deadline */
    if (t)
        timer_release(t);
    ar[0].i32 = cancelled;
    return LVM_OK;
}

/* }====== */

/* {====== lunatic::trap */

/* catch(fn, arg): the guest's _lunatic_catch_trap(fn, arg) as a nested
 * call whose traps unwind only to here (exec: lvm_hostcall_catch). */
static lvm_err h_catch(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "trap::catch";
    L14_SELF(fn);
    lvm_extern ext;
    if (!call->caller || !lvm_instance_export(call->caller, "_lunatic_catch_trap", &ext) ||
        ext.kind != LVM_EXTERN_FUNC)
        return l14_trap(fn, "No export `_lunatic_catch_trap` found");
    return lvm_hostcall_catch(call, ext.u.func);
}

/* }====== */

/* {====== lunatic::distributed: one node, id 0 (D-C) */

static lvm_err h_node_id(lvm_hostcall *call, lvm_val *ar)
{
    ar[0].i64 = 0;
    return LVM_OK;
}

static lvm_err h_nodes_count(lvm_hostcall *call, lvm_val *ar)
{
    ar[0].i32 = 0;
    return LVM_OK;
}

static lvm_err h_get_nodes(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "distributed::get_nodes";
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, ar[0].i32, (uint64_t)ar[1].i32 * 8))
        return l14_trap_mem(fn);
    ar[0].i32 = 0;                      /* copies min(len, 0) ids */
    return LVM_OK;
}

static lvm_err h_exec_lookup_nodes(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "distributed::exec_lookup_nodes";
    wasi_mem m = wasi_mem_of(call);
    const char *q;
    uint32_t qid = ar[2].i32, nlen = ar[3].i32, err = ar[4].i32;
    if (!l14_guest_str(&m, ar[0].i32, ar[1].i32, &q) || !wasi_mem_check(&m, qid, 8) ||
        !wasi_mem_check(&m, nlen, 4) || !wasi_mem_check(&m, err, 8))
        return l14_trap_mem(fn);
    wasi_store_u64(&m, qid, 0);
    wasi_store_u32(&m, nlen, 0);
    ar[0].i32 = 0;
    return LVM_OK;
}

static lvm_err h_copy_lookup_nodes_results(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "distributed::copy_lookup_nodes_results";
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, ar[1].i32, (uint64_t)ar[2].i32 * 8) || !wasi_mem_check(&m, ar[3].i32, 8))
        return l14_trap_mem(fn);
    ar[0].i32 = 0;
    return LVM_OK;
}

/* Another node: the message is consumed, the answer is 2 (no such node). */
static lvm_err remote_send(lvm_hostcall *call, lvm_val *ar, const char *fn)
{
    L14_SELF(fn);
    green_msg *msg = l14_scratch_take(lp);
    if (!msg)
        return l14_trap(fn, "Trap raised during host call: no message in scratch area (%s).", fn);
    msg->free(msg);
    ar[0].i32 = 2;
    return LVM_OK;
}

static lvm_err h_dist_send(lvm_hostcall *call, lvm_val *ar)
{
    if (ar[0].i64 != 0)
        return remote_send(call, ar, "distributed::send");
    lvm_val a[1] = { ar[1] };
    lvm_err err = l14_message_send(call, a);
    ar[0] = a[0];
    return err;
}

static lvm_err h_dist_send_receive(lvm_hostcall *call, lvm_val *ar)
{
    if (ar[0].i64 != 0)
        return remote_send(call, ar, "distributed::send_receive_skip_search");
    /* The node-0 call is the local one, and restartable the same way:
     * its arguments are copied, never shifted in place (a retry must see
     * them unchanged). */
    lvm_val a[3] = { ar[1], ar[2], ar[3] };
    lvm_err err = l14_message_send_receive(call, a);
    if (err == LVM_OK)
        ar[0] = a[0];
    return err;
}

/* spawn(node, config_id, module_id, func, len, params, plen, id_ptr) */
static lvm_err h_dist_spawn(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "distributed::spawn";
    L14_SELF(fn);
    if (!lp->config->can_spawn)
        return l14_trap(fn, "Process doesn't have permissions to spawn sub-processes");
    wasi_mem m = wasi_mem_of(call);
    uint32_t id_ptr = ar[7].i32;
    if (!wasi_mem_check(&m, id_ptr, 8))
        return l14_trap_mem(fn);
    uint32_t status;
    uint64_t id;
    if (ar[0].i64 != 0) {
        status = 1;
        id = l14_error_new(lp, "Node does not exist.");
    } else if (ar[2].i64 != 0) {
        status = 2;
        id = l14_error_new(lp, "Module does not exist.");
    } else {
        lvm_err err = l14_spawn(call, lp, fn, 0, (int64_t)ar[1].i64, -1, ar[3].i32, ar[4].i32,
                                ar[5].i32, ar[6].i32, &status, &id);
        if (err)
            return err;
    }
    if (id == UINT64_MAX)
        return l14_trap(fn, "out of host memory");
    m = wasi_mem_of(call);
    wasi_store_u64(&m, id_ptr, id);
    ar[0].i32 = status;
    return LVM_OK;
}

/* }====== */

/* {====== lunatic::version, lunatic::metrics */

static lvm_err h_major(lvm_hostcall *call, lvm_val *ar) { ar[0].i32 = 0; return LVM_OK; }
static lvm_err h_minor(lvm_hostcall *call, lvm_val *ar) { ar[0].i32 = 13; return LVM_OK; }
static lvm_err h_patch(lvm_hostcall *call, lvm_val *ar) { ar[0].i32 = 2; return LVM_OK; }

/* Metrics are accepted and ignored (ABI 11.2): the name is checked, as
 * the runtime reads it, and nothing is recorded. */
static lvm_err metric(lvm_hostcall *call, lvm_val *ar, const char *fn)
{
    wasi_mem m = wasi_mem_of(call);
    const char *name;
    if (!l14_guest_str(&m, ar[0].i32, ar[1].i32, &name))
        return l14_trap_mem(fn);
    return LVM_OK;
}

static lvm_err h_counter(lvm_hostcall *call, lvm_val *ar) { return metric(call, ar, "metrics::counter"); }
static lvm_err h_increment_counter(lvm_hostcall *call, lvm_val *ar) { return metric(call, ar, "metrics::increment_counter"); }
static lvm_err h_gauge(lvm_hostcall *call, lvm_val *ar) { return metric(call, ar, "metrics::gauge"); }
static lvm_err h_increment_gauge(lvm_hostcall *call, lvm_val *ar) { return metric(call, ar, "metrics::increment_gauge"); }
static lvm_err h_decrement_gauge(lvm_hostcall *call, lvm_val *ar) { return metric(call, ar, "metrics::decrement_gauge"); }
static lvm_err h_histogram(lvm_hostcall *call, lvm_val *ar) { return metric(call, ar, "metrics::histogram"); }

/* }====== */

/* {====== lunatic::sqlite (D-B): open answers with an error, the rest
 * trap naming themselves */

static lvm_err h_sqlite_open(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "sqlite::open";
    L14_SELF(fn);
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, ar[0].i32, ar[1].i32) || !wasi_mem_check(&m, ar[2].i32, 8))
        return l14_trap_mem(fn);
    char text[200];
    uint64_t id = l14_error_new(lp, "%s", l14_unsupported_text(fn, text, sizeof text));
    if (id == UINT64_MAX)
        return l14_trap(fn, "out of host memory");
    wasi_store_u64(&m, ar[2].i32, id);  /* 8 bytes, as the runtime */
    ar[0].i64 = 1;
    return LVM_OK;
}

#define SQLITE_STUB(name)                                                   \
    static lvm_err h_sqlite_##name(lvm_hostcall *call, lvm_val *ar)         \
    {                                                                       \
        return l14_unsupported("sqlite::" #name);                           \
    }

SQLITE_STUB(query_prepare)
SQLITE_STUB(execute)
SQLITE_STUB(bind_value)
SQLITE_STUB(sqlite3_changes)
SQLITE_STUB(statement_reset)
SQLITE_STUB(sqlite3_step)
SQLITE_STUB(sqlite3_finalize)
SQLITE_STUB(column_count)
SQLITE_STUB(last_error)
SQLITE_STUB(read_column)
SQLITE_STUB(read_row)
SQLITE_STUB(column_name)
SQLITE_STUB(column_names)

/* }====== */

void l14_misc_cleanup(l14_proc *lp)
{
    l14_table_free(&lp->errors, free);
    l14_table_free(&lp->timers, timer_drop);   /* pending ones still fire */
}

const l14_import l14_misc_imports[] = {
    { "lunatic::error", "string_size", "I:i", h_error_string_size },
    { "lunatic::error", "to_string", "Ii:", h_error_to_string },
    { "lunatic::error", "drop", "I:", h_error_drop },
    { "lunatic::registry", "put", "iiII:", h_registry_put },
    { "lunatic::registry", "get", "iiii:i", h_registry_get },
    { "lunatic::registry", "remove", "ii:", h_registry_remove },
    { "lunatic::timer", "send_after", "II:I", h_send_after },
    { "lunatic::timer", "cancel_timer", "I:i", h_cancel_timer },
    { "lunatic::trap", "catch", "ii:i", h_catch },
    { "lunatic::distributed", "node_id", ":I", h_node_id },
    { "lunatic::distributed", "module_id", ":I", h_node_id },
    { "lunatic::distributed", "nodes_count", ":i", h_nodes_count },
    { "lunatic::distributed", "get_nodes", "ii:i", h_get_nodes },
    { "lunatic::distributed", "exec_lookup_nodes", "iiiii:i", h_exec_lookup_nodes },
    { "lunatic::distributed", "copy_lookup_nodes_results", "Iiii:i", h_copy_lookup_nodes_results },
    { "lunatic::distributed", "send", "II:i", h_dist_send },
    { "lunatic::distributed", "send_receive_skip_search", "IIII:i", h_dist_send_receive },
    { "lunatic::distributed", "spawn", "IIIiiiii:i", h_dist_spawn },
    { "lunatic::version", "major", ":i", h_major },
    { "lunatic::version", "minor", ":i", h_minor },
    { "lunatic::version", "patch", ":i", h_patch },
    { "lunatic::metrics", "counter", "iiI:", h_counter },
    { "lunatic::metrics", "increment_counter", "ii:", h_increment_counter },
    { "lunatic::metrics", "gauge", "iiF:", h_gauge },
    { "lunatic::metrics", "increment_gauge", "iiF:", h_increment_gauge },
    { "lunatic::metrics", "decrement_gauge", "iiF:", h_decrement_gauge },
    { "lunatic::metrics", "histogram", "iiF:", h_histogram },
    { "lunatic::sqlite", "open", "iii:I", h_sqlite_open },
    { "lunatic::sqlite", "query_prepare", "Iii:I", h_sqlite_query_prepare },
    { "lunatic::sqlite", "execute", "Iii:i", h_sqlite_execute },
    { "lunatic::sqlite", "bind_value", "Iii:", h_sqlite_bind_value },
    { "lunatic::sqlite", "sqlite3_changes", "I:i", h_sqlite_sqlite3_changes },
    { "lunatic::sqlite", "statement_reset", "I:", h_sqlite_statement_reset },
    { "lunatic::sqlite", "sqlite3_step", "I:i", h_sqlite_sqlite3_step },
    { "lunatic::sqlite", "sqlite3_finalize", "I:", h_sqlite_sqlite3_finalize },
    { "lunatic::sqlite", "column_count", "I:i", h_sqlite_column_count },
    { "lunatic::sqlite", "last_error", "Ii:i", h_sqlite_last_error },
    { "lunatic::sqlite", "read_column", "Iii:i", h_sqlite_read_column },
    { "lunatic::sqlite", "read_row", "Ii:i", h_sqlite_read_row },
    { "lunatic::sqlite", "column_name", "Iii:i", h_sqlite_column_name },
    { "lunatic::sqlite", "column_names", "Ii:i", h_sqlite_column_names },
    { NULL, NULL, NULL, NULL },
};
