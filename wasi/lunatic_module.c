/*
 * lunatic_module.c - module loading for guests (ABI section 7): load and
 * unload modules, name them as import namespaces, and spawn processes
 * from them.
 */
#include "lunatic_internal.h"

void lun_module_cleanup(lun_proc *lp)
{
    (void)lp;
}

const wasi_import lun_module_imports[] = {
    { NULL, NULL, NULL },
};
