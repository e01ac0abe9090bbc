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

/* Small blocks are malloc + memset, not calloc: glibc's calloc skips the
 * per-thread cache that serves malloc and free without locking, and a
 * spawn makes a dozen small zeroed objects (instance, memory, table,
 * process, thread...).  Measured on spawn + join from a C guest: 1,030 ns
 * with calloc, 890 ns without.  Large blocks keep calloc, which gets them
 * from mmap already zero instead of writing every page. */
size_t lvm_grow_cap(size_t cap, size_t need, size_t first, size_t size, size_t max)
{
    if (size == 0)
        return 0;
    if (max > SIZE_MAX / size)
        max = SIZE_MAX / size;
    if (need > max)
        return 0;
    size_t c = cap ? cap : first ? first : 1;
    while (c < need)
        c = c > max / 2 ? max : 2 * c;
    return c > max ? max : c;
}

void *lvm_xcalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n && size ? n * size : 1;
    if (bytes >= 64 * 1024)
        return calloc(1, bytes);
    void *p = malloc(bytes);
    /* Hide where p came from, or gcc folds malloc + memset back into
     * calloc. */
    __asm__("" : "+r"(p));
    if (p)
        memset(p, 0, bytes);
    return p;
}

/* Well-formed UTF-8 (Unicode 3.9, table 3-7): no overlong forms, no
 * surrogates (U+D800..DFFF), nothing above U+10FFFF.  The second byte's
 * range depends on the first byte; later continuation bytes are 80..BF. */
bool lvm_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint8_t lo = 0x80, hi = 0xbf;
        if (b >= 0xc2 && b <= 0xdf) {
            len = 2;
        } else if (b >= 0xe0 && b <= 0xef) {
            len = 3;
            if (b == 0xe0) lo = 0xa0;           /* overlong */
            if (b == 0xed) hi = 0x9f;           /* surrogates */
        } else if (b >= 0xf0 && b <= 0xf4) {
            len = 4;
            if (b == 0xf0) lo = 0x90;           /* overlong */
            if (b == 0xf4) hi = 0x8f;           /* above U+10FFFF */
        } else {
            return false;                       /* 80..C1, F5..FF */
        }
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
        i += len;
    }
    return true;
}
