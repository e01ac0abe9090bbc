/*
 * test_leb.c - LEB128 edge cases (spec 5.2.2): the longest encodings, the
 * unused bits of the last byte, the reference interpreter's choice between
 * "integer too large" and "integer representation too long", and the byte
 * offsets reported.
 */
#include "helpers.h"

#include <criterion/parameterized.h>
#include "../../decoder/internal.h"

/* The bytes are stored in the case itself: Criterion runs each case in a
 * fresh process, where pointers into the parent would not be valid. */
typedef struct leb_case {
    char bytes[16];
    size_t len;
    unsigned bits;
    bool is_signed;
    lvm_err err;
    int64_t value;      /* if ok */
    size_t where;       /* bytes consumed if ok, else the error's offset */
} leb_case;

#define U(b, bits, v)      { b, sizeof(b) - 1, bits, false, LVM_OK, (int64_t)(v), sizeof(b) - 1 }
#define S(b, bits, v)      { b, sizeof(b) - 1, bits, true, LVM_OK, (int64_t)(v), sizeof(b) - 1 }
#define UBAD(b, bits, e, o) { b, sizeof(b) - 1, bits, false, LVM_ERR_##e, 0, o }
#define SBAD(b, bits, e, o) { b, sizeof(b) - 1, bits, true, LVM_ERR_##e, 0, o }

ParameterizedTestParameters(decoder_leb, decodes)
{
    static leb_case cases[] = {
        U("\x00", 32, 0),
        U("\x7f", 32, 127),
        U("\x80\x01", 32, 128),
        U("\x80\x00", 32, 0),                           /* padded: allowed */
        U("\x80\x80\x80\x80\x00", 32, 0),               /* 5 bytes: still allowed */
        U("\xff\xff\xff\xff\x0f", 32, 0xffffffffu),
        { "\x7f\xff", 2, 32, false, LVM_OK, 127, 1 },    /* stops after one byte */
        UBAD("\xff\xff\xff\xff\x1f", 32, INT_TOO_LARGE, 4),
        UBAD("\x82\x80\x80\x80\x70", 32, INT_TOO_LARGE, 4),
        UBAD("\x80\x80\x80\x80\x80\x00", 32, INT_TOO_LONG, 5),
        UBAD("\x80\x80\x80\x80\x8f", 32, INT_TOO_LONG, 5),   /* never reads byte 6 */
        UBAD("\xff\xff\xff\xff\xff", 32, INT_TOO_LARGE, 4),  /* value bits checked first */
        UBAD("\x80", 32, UNEXPECTED_END_SECTION, 1),
        UBAD("", 32, UNEXPECTED_END_SECTION, 0),
        U("\x01", 1, 1),                                /* limits flags */
        UBAD("\x02", 1, INT_TOO_LARGE, 0),
        UBAD("\x81\x00", 1, INT_TOO_LONG, 1),
        S("\x7f", 32, -1),
        S("\x3f", 32, 63),
        S("\x40", 32, -64),
        S("\x80\x7f", 32, -128),
        S("\xff\xff\xff\xff\x07", 32, INT32_MAX),
        S("\x80\x80\x80\x80\x78", 32, INT32_MIN),
        S("\xff\xff\xff\xff\x7f", 32, -1),
        SBAD("\xff\xff\xff\xff\x0f", 32, INT_TOO_LARGE, 4),
        SBAD("\x80\x80\x80\x80\x70", 32, INT_TOO_LARGE, 4),
        SBAD("\xff\xff\xff\xff\xff\x7f", 32, INT_TOO_LONG, 5),
        S("\xff\xff\xff\xff\x0f", 33, 0xffffffffll),    /* block type index */
        S("\x80\x80\x80\x80\x70", 33, -(1ll << 32)),
        SBAD("\x80\x80\x80\x80\x10", 33, INT_TOO_LARGE, 4),
        S("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00", 64, INT64_MAX),
        S("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7f", 64, INT64_MIN),
        SBAD("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 64, INT_TOO_LARGE, 9),
        SBAD("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 64, INT_TOO_LONG, 10),
        SBAD("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 64, INT_TOO_LONG, 10),
    };
    return cr_make_param_array(leb_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(leb_case *c, decoder_leb, decodes)
{
    const uint8_t *b = (const uint8_t *)c->bytes;
    lvm_diag d = { .err = LVM_OK };
    decode_rd r = { b, b + c->len, b, &d, 0 };
    lvm_err e;
    int64_t value;
    if (c->is_signed) {
        e = decode_sleb(&r, c->bits, &value);
    } else {
        uint64_t u;
        e = decode_uleb(&r, c->bits, &u);
        value = (int64_t)u;
    }
    cr_assert_eq(e, c->err, "%s", d.message);
    if (e == LVM_OK) {
        cr_assert_eq(value, c->value, "got %lld", (long long)value);
        cr_assert_eq((size_t)(r.p - b), c->where);
    } else {
        ASSERT_ERR(d, c->err, c->where);
    }
}

Test(decoder_leb, fast_paths_agree_with_slow_paths)
{
    for (unsigned v = 0; v < 0x80; v++) {
        uint8_t byte = (uint8_t)v;
        decode_rd r = { &byte, &byte + 1, &byte, NULL, 0 };
        uint32_t u;
        int32_t s;
        cr_assert_eq(rd_u32(&r, &u), LVM_OK);
        cr_assert_eq(u, v);
        r.p = &byte;
        cr_assert_eq(rd_s32(&r, &s), LVM_OK);
        cr_assert_eq(s, v < 0x40 ? (int32_t)v : (int32_t)v - 128);
    }
}

Test(decoder_leb, unchecked_readers_match)
{
    static const uint8_t b[] = { 0xe5, 0x8e, 0x26, 0x7f, 0x80, 0x80, 0x80, 0x80, 0x78, 0xff, 0x7f };
    decode_reader r = { b, b + sizeof b, b, 0 };
    cr_assert_eq(decode_read_u32_unchecked(&r), 624485u);
    cr_assert_eq(decode_read_s32_unchecked(&r), -1);
    cr_assert_eq(decode_read_s32_unchecked(&r), INT32_MIN);
    cr_assert_eq(decode_read_s64_unchecked(&r), -1);
    cr_assert_eq(r.p, b + sizeof b);
    /* Truncated input: a wrong number, but no read past the end. */
    decode_reader t = { b, b + 1, b, 0 };
    (void)decode_read_u32_unchecked(&t);
    cr_assert_eq(t.p, b + 1);
}
