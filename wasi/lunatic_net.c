/*
 * lunatic_net.c - the networking half of the lunatic host API (ABI
 * section 6): TCP listeners and streams on the reactor, and name
 * resolution off the worker threads.
 */
#include "lunatic_internal.h"

void lun_net_cleanup(lun_proc *lp)
{
    (void)lp;
}

const wasi_import lun_net_imports[] = {
    { NULL, NULL, NULL },
};
