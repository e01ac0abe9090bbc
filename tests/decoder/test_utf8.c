/*
 * test_utf8.c - names must be well-formed UTF-8: no overlong encodings, no
 * surrogates, nothing above U+10FFFF, no truncated sequences.  Each case is
 * the name of a custom section.
 */
#include "helpers.h"

#include <criterion/parameterized.h>

/* Bytes stored inline: each case runs in a fresh process. */
typedef struct utf8_case {
    char bytes[8];
    size_t len;
    bool valid;
} utf8_case;

#define OK(s)  { s, sizeof(s) - 1, true }
#define BAD(s) { s, sizeof(s) - 1, false }

ParameterizedTestParameters(decoder_utf8, custom_section_names)
{
    static utf8_case cases[] = {
        OK(""), OK("name"), OK("\x00"), OK("\x7f"),
        OK("\xc2\x80"), OK("\xdf\xbf"),                 /* U+0080, U+07FF */
        OK("\xe0\xa0\x80"), OK("\xef\xbf\xbf"),         /* U+0800, U+FFFF */
        OK("\xed\x9f\xbf"), OK("\xee\x80\x80"),         /* around the surrogates */
        OK("\xf0\x90\x80\x80"), OK("\xf4\x8f\xbf\xbf"), /* U+10000, U+10FFFF */
        OK("caf\xc3\xa9"),
        BAD("\x80"), BAD("\xbf"),                       /* lone continuation */
        BAD("\xc0\x80"), BAD("\xc1\xbf"),               /* overlong 2-byte */
        BAD("\xe0\x80\x80"), BAD("\xe0\x9f\xbf"),       /* overlong 3-byte */
        BAD("\xf0\x80\x80\x80"), BAD("\xf0\x8f\xbf\xbf"),/* overlong 4-byte */
        BAD("\xed\xa0\x80"), BAD("\xed\xbf\xbf"),       /* surrogates */
        BAD("\xf4\x90\x80\x80"), BAD("\xf5\x80\x80\x80"),/* above U+10FFFF */
        BAD("\xf8\x88\x80\x80\x80"), BAD("\xff"), BAD("\xfe"),
        BAD("\xc2"), BAD("\xe0\xa0"), BAD("\xf0\x90\x80"),/* truncated */
        BAD("\xc2\x00"), BAD("\xe1\x80\xc0"),           /* bad continuation */
        BAD("a\xc3"),
    };
    return cr_make_param_array(utf8_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(utf8_case *c, decoder_utf8, custom_section_names)
{
    char buf[64];
    size_t n = 0;
    memcpy(buf, HEADER, 8);
    n = 8;
    buf[n++] = 0x00;                        /* custom section */
    buf[n++] = (char)(c->len + 1);          /* size */
    buf[n++] = (char)c->len;                /* name length */
    memcpy(buf + n, c->bytes, c->len);
    n += c->len;
    lvm_diag d;
    lvm_err e = decode_str(buf, n, &d, NULL);
    if (c->valid) {
        cr_assert_eq(e, LVM_OK, "%s", d.message);
    } else {
        ASSERT_ERR(d, LVM_ERR_UTF8, 10);    /* at the name's length */
    }
}
