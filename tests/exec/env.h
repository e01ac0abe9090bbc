/*
 * env.h - one instantiated module with a thread to run it, for the exec
 * tests: env_new instantiates (asserting success), env_free releases all
 * of it, env_export finds an exported function.
 */
#ifndef LVM_TESTS_EXEC_ENV_H
#define LVM_TESTS_EXEC_ENV_H

#include <criterion/criterion.h>

#include "exec.h"

typedef struct env {
    lvm_store *store;
    lvm_module *module;
    lvm_instance *inst;
    lvm_thread *thread;
} env;

/* Instantiate m (the env takes it over) with a thread of config cfg
 * (NULL: the defaults). */
static inline env env_new(lvm_module *m, const lvm_thread_config *cfg)
{
    env e = { .store = lvm_store_new(), .module = m, .thread = lvm_thread_new(cfg) };
    lvm_diag d;
    cr_assert_eq(lvm_instantiate(e.store, NULL, e.module, e.thread, &e.inst, &d), LVM_OK,
                 "%s", d.message);
    return e;
}

static inline void env_free(env *e)
{
    lvm_thread_free(e->thread);
    lvm_store_free(e->store);
    lvm_module_release(e->module);
}

static inline lvm_func *env_export(env *e, const char *name)
{
    lvm_extern x;
    cr_assert(lvm_instance_export(e->inst, name, &x), "no export %s", name);
    cr_assert_eq(x.kind, LVM_EXTERN_FUNC);
    return x.u.func;
}

#endif
