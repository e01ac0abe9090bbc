/*
 * helpers.h - shared by the decoder's unit tests: decode a module written as
 * a C string literal (the spec suite's `module binary` style).
 */
#ifndef TESTS_DECODER_HELPERS_H
#define TESTS_DECODER_HELPERS_H

#include <criterion/criterion.h>
#include <string.h>

#include "../../decoder/decoder.h"

/* The 8-byte header every module starts with. */
#define HEADER "\0asm\1\0\0\0"

/* Decode `len` bytes; keep the module in *m_out if m_out, else free it. */
static inline lvm_err decode_str(const char *bytes, size_t len, lvm_diag *d, struct lvm_module **m_out)
{
    struct lvm_module *m = NULL;
    memset(d, 0, sizeof *d);
    lvm_err e = decode_module((const uint8_t *)bytes, len, &m, d);
    if (e == LVM_OK)
        cr_assert_not_null(m);
    else
        cr_assert_null(m);
    if (m_out)
        *m_out = m;
    else
        decode_module_free(m);
    return e;
}

/* Decode a string literal (embedded NULs included). */
#define DECODE(lit, d) decode_str((lit), sizeof(lit) - 1, (d), NULL)
/* Same, keeping the module in *(m). */
#define DECODE_KEEP(lit, d, m) decode_str((lit), sizeof(lit) - 1, (d), (m))

/* The message must start with the error's spec text. */
#define ASSERT_ERR(d, e, off)                                                            \
    do {                                                                                 \
        cr_assert_eq((d).err, (e), "error %d (%s), expected %d (%s)", (d).err, (d).message, \
                     (e), lvm_strerror(e));                                              \
        cr_assert_eq((d).offset, (size_t)(off), "offset %zu, expected %zu: %s",          \
                     (d).offset, (size_t)(off), (d).message);                            \
        cr_assert_eq(strncmp((d).message, lvm_strerror(e), strlen(lvm_strerror(e))), 0,   \
                     "message \"%s\"", (d).message);                                     \
    } while (0)

#endif
