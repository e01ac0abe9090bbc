/*
 * base.c - error texts, diagnostics, panics: the shared plumbing of base.h.
 */
#include "base.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const err_text[LVM_ERR_COUNT] = {
#define ERR(name, text) text,
#include "errors.def"
#undef ERR
};

const char *lvm_strerror(lvm_err err)
{
    if ((unsigned)err >= LVM_ERR_COUNT)
        return "unknown error";
    return err_text[err];
}

bool lvm_err_is_trap(lvm_err err)
{
    return err >= LVM_ERR_TRAP_UNREACHABLE && err < LVM_ERR_COUNT;
}

void lvm_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lvm: internal error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

lvm_err lvm_diag_set(lvm_diag *d, lvm_err err, size_t offset, const char *fmt, ...)
{
    if (!d)
        return err;
    d->err = err;
    d->offset = offset;
    size_t n = (size_t)snprintf(d->message, sizeof d->message, "%s", lvm_strerror(err));
    if (fmt && fmt[0] && n < sizeof d->message) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->message + n, sizeof d->message - n, fmt, ap);
        va_end(ap);
    }
    return err;
}

void *lvm_xcalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}
