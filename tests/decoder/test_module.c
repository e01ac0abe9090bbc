/*
 * test_module.c - whole modules, built by hand byte by byte like the spec
 * suite's `module binary` tests: the good paths (what the module holds
 * afterwards) and the bad ones (the exact error and byte offset).
 */
#include "helpers.h"

/* Sections used by many tests. */
#define TYPE_V_V   "\x01\x04\x01\x60\x00\x00"           /* type 0: [] -> []    */
#define TYPE_V_I32 "\x01\x05\x01\x60\x00\x01\x7f"       /* type 0: [] -> [i32] */
#define FUNC1      "\x03\x02\x01\x00"                   /* one function, type 0 */
#define CODE_NOP   "\x0a\x04\x01\x02\x00\x0b"           /* body: end */

TestSuite(decoder_module);

/* {====== the header and the section sequence */

Test(decoder_module, empty_module_is_valid)
{
    lvm_diag d;
    struct lvm_module *m;
    cr_assert_eq(decode_str(HEADER, 8, &d, &m), LVM_OK);
    cr_assert_eq(m->nfuncs, 0);
    cr_assert_eq(m->start, -1);
    cr_assert_null(m->func_names);
    decode_module_free(m);
}

Test(decoder_module, rejects_bad_headers)
{
    lvm_diag d;
    cr_assert_eq(decode_str("", 0, &d, NULL), LVM_ERR_UNEXPECTED_END);
    cr_assert_eq(DECODE("\0as", &d), LVM_ERR_UNEXPECTED_END);
    cr_assert_eq(DECODE("\0asn\1\0\0\0", &d), LVM_ERR_MAGIC);
    ASSERT_ERR(d, LVM_ERR_MAGIC, 0);
    cr_assert_eq(DECODE("\0asm\1\0", &d), LVM_ERR_UNEXPECTED_END);
    cr_assert_eq(DECODE("\0asm\2\0\0\0", &d), LVM_ERR_VERSION);
    ASSERT_ERR(d, LVM_ERR_VERSION, 4);
}

Test(decoder_module, rejects_duplicate_and_out_of_order_sections)
{
    lvm_diag d;
    DECODE(HEADER TYPE_V_V TYPE_V_V, &d);
    ASSERT_ERR(d, LVM_ERR_JUNK_AFTER_LAST, 14);
    /* datacount (id 12) belongs before code (id 10) */
    DECODE(HEADER TYPE_V_V FUNC1 CODE_NOP "\x0c\x01\x00", &d);
    ASSERT_ERR(d, LVM_ERR_JUNK_AFTER_LAST, 24);
    DECODE(HEADER "\x0d\x00", &d);
    ASSERT_ERR(d, LVM_ERR_SECTION_ID, 8);
}

Test(decoder_module, custom_sections_go_anywhere)
{
    lvm_diag d;
    cr_assert_eq(DECODE(HEADER "\x00\x03\x02hi" TYPE_V_V "\x00\x01\x00" FUNC1 CODE_NOP "\x00\x02\x01z", &d),
                 LVM_OK, "%s", d.message);
}

Test(decoder_module, checks_section_sizes)
{
    lvm_diag d;
    DECODE(HEADER "\x01\x05\x01\x60\x00\x00\x00", &d);     /* one byte too many */
    ASSERT_ERR(d, LVM_ERR_SECTION_SIZE, 10);
    DECODE(HEADER "\x01\x07\x01\x60\x00\x00", &d);         /* larger than the file */
    ASSERT_ERR(d, LVM_ERR_LENGTH_OOB, 9);
    DECODE(HEADER "\x04\x01\x01", &d);                     /* 1 table, 0 given */
    ASSERT_ERR(d, LVM_ERR_UNEXPECTED_END_SECTION, 11);
}

Test(decoder_module, function_and_code_counts_must_agree)
{
    lvm_diag d;
    DECODE(HEADER TYPE_V_V FUNC1, &d);
    ASSERT_ERR(d, LVM_ERR_FUNC_CODE_MISMATCH, 18);
    DECODE(HEADER TYPE_V_V CODE_NOP, &d);
    ASSERT_ERR(d, LVM_ERR_FUNC_CODE_MISMATCH, 20);
}

/* }====== */

/* {====== function bodies */

Test(decoder_module, keeps_a_copy_of_the_code)
{
    char bytes[] = HEADER TYPE_V_I32 FUNC1 "\x0a\x09\x01\x07\x00\x41\x01\x41\x02\x6a\x0b";
    lvm_diag d;
    struct lvm_module *m;
    cr_assert_eq(decode_str(bytes, sizeof bytes - 1, &d, &m), LVM_OK, "%s", d.message);
    memset(bytes, 0, sizeof bytes);                         /* no pointer into the input */
    cr_assert_eq(m->nfuncs, 1);
    cr_assert_eq(m->code_size, 9);
    cr_assert_eq(m->code_file_offset, 21);
    cr_assert_eq(m->funcs[0].nlocals, 0);
    cr_assert_eq(m->funcs[0].body_offset, 3);
    cr_assert_eq(m->funcs[0].body_end, 9);
    cr_assert_eq(m->code_bytes[m->funcs[0].body_offset], 0x41);
    cr_assert_eq(m->code_bytes[m->funcs[0].body_end - 1], 0x0b);
    cr_assert_not_null(m->code);
    decode_module_free(m);
}

Test(decoder_module, reports_type_mismatch_with_function_and_offset)
{
    lvm_diag d;
    DECODE(HEADER TYPE_V_I32 FUNC1 "\x0a\x09\x01\x07\x00\x42\x01\x41\x02\x6a\x0b", &d);
    ASSERT_ERR(d, LVM_ERR_TYPE_MISMATCH, 28);
    cr_assert_not_null(strstr(d.message, "in function 0 at i32.add"), "%s", d.message);
}

Test(decoder_module, unknown_indices_name_the_index)
{
    lvm_diag d;
    DECODE(HEADER TYPE_V_V FUNC1 "\x0a\x06\x01\x04\x00\x20\x05\x0b", &d);
    ASSERT_ERR(d, LVM_ERR_UNKNOWN_LOCAL, 23);
    cr_assert_eq(strncmp(d.message, "unknown local 5", 15), 0, "%s", d.message);
}

Test(decoder_module, missing_end_at_end_of_file)
{
    lvm_diag d;
    DECODE(HEADER TYPE_V_V FUNC1 "\x0a\x05\x01\x03\x00\x01\x01", &d);
    ASSERT_ERR(d, LVM_ERR_UNEXPECTED_END_SECTION, 25);
}

Test(decoder_module, else_outside_if_is_malformed)
{
    lvm_diag d;
    DECODE(HEADER TYPE_V_V FUNC1 "\x0a\x05\x01\x03\x00\x05\x0b", &d);
    ASSERT_ERR(d, LVM_ERR_END_EXPECTED, 23);
}

Test(decoder_module, malformed_later_beats_invalid_earlier)
{
    lvm_diag d;
    /* function 0 leaves an i32 behind (invalid); function 1 has opcode 0xff */
    DECODE(HEADER TYPE_V_V "\x03\x03\x02\x00\x00"
           "\x0a\x0a\x02\x04\x00\x41\x00\x0b\x03\x00\xff\x0b", &d);
    ASSERT_ERR(d, LVM_ERR_ILLEGAL_OPCODE, 29);
    /* with a good function 1, the invalid one is reported */
    DECODE(HEADER TYPE_V_V "\x03\x03\x02\x00\x00"
           "\x0a\x0a\x02\x04\x00\x41\x00\x0b\x03\x00\x01\x0b", &d);
    ASSERT_ERR(d, LVM_ERR_TYPE_MISMATCH, 26);
    cr_assert_not_null(strstr(d.message, "in function 0 at end"), "%s", d.message);
}

Test(decoder_module, errors_come_in_the_reference_validators_order)
{
    lvm_diag d;
    /* An invalid body, then a data segment for a missing memory: the
     * reference checks data segments before function bodies. */
    DECODE(HEADER TYPE_V_V FUNC1 "\x0a\x06\x01\x04\x00\x41\x00\x0b"
           "\x0b\x06\x01\x00\x41\x00\x0b\x00", &d);
    ASSERT_ERR(d, LVM_ERR_UNKNOWN_MEMORY, 30);
}

Test(decoder_module, limits_locals)
{
    lvm_diag d;
    DECODE(HEADER TYPE_V_V FUNC1 "\x0a\x0c\x01\x0a\x02\xff\xff\xff\xff\x0f\x7f\x02\x7e\x0b", &d);
    ASSERT_ERR(d, LVM_ERR_TOO_MANY_LOCALS, 22);
    /* 50,001 locals: within the spec's limit, beyond lvm's */
    DECODE(HEADER TYPE_V_V FUNC1 "\x0a\x08\x01\x06\x01\xd1\x86\x03\x7f\x0b", &d);
    ASSERT_ERR(d, LVM_ERR_TOO_MANY_LOCALS, 22);
}

Test(decoder_module, locals_follow_params)
{
    lvm_diag d;
    struct lvm_module *m;
    /* type [i32 f64] -> [], locals: 2 x i64, 1 x f32 */
    cr_assert_eq(DECODE_KEEP(HEADER "\x01\x06\x01\x60\x02\x7f\x7c\x00" FUNC1
                             "\x0a\x08\x01\x06\x02\x02\x7e\x01\x7d\x0b", &d, &m), LVM_OK, "%s", d.message);
    cr_assert_eq(m->funcs[0].nlocals, 5);
    static const uint8_t want[] = { LVM_I32, LVM_F64, LVM_I64, LVM_I64, LVM_F32 };
    cr_assert_arr_eq(m->funcs[0].local_types, want, 5);
    decode_module_free(m);
}

/* }====== */

/* {====== references, constants, segments */

Test(decoder_module, ref_func_needs_a_declaration)
{
    lvm_diag d;
    DECODE(HEADER TYPE_V_V FUNC1 "\x0a\x07\x01\x05\x00\xd2\x00\x1a\x0b", &d);
    ASSERT_ERR(d, LVM_ERR_UNDECLARED_FUNC_REF, 23);
    /* exporting the function declares it */
    cr_assert_eq(DECODE(HEADER TYPE_V_V FUNC1 "\x07\x05\x01\x01" "f" "\x00\x00"
                        "\x0a\x07\x01\x05\x00\xd2\x00\x1a\x0b", &d), LVM_OK, "%s", d.message);
}

Test(decoder_module, constant_expressions)
{
    lvm_diag d;
    struct lvm_module *m;
    DECODE(HEADER "\x06\x09\x01\x7f\x00\x41\x01\x41\x02\x6a\x0b", &d);
    ASSERT_ERR(d, LVM_ERR_CONST_EXPR, 17);
    DECODE(HEADER "\x06\x0b\x02\x7f\x00\x41\x00\x0b\x7f\x00\x23\x00\x0b", &d);
    ASSERT_ERR(d, LVM_ERR_UNKNOWN_GLOBAL, 18);
    DECODE(HEADER "\x06\x06\x01\x7e\x00\x41\x00\x0b", &d); /* i64 global, i32 init */
    cr_assert_eq(d.err, LVM_ERR_TYPE_MISMATCH, "%s", d.message);
    cr_assert_eq(DECODE_KEEP(HEADER "\x06\x06\x01\x7f\x01\x41\x7f\x0b", &d, &m), LVM_OK, "%s", d.message);
    cr_assert_eq(m->globals[0].init.op, OP_I32_CONST);
    cr_assert_eq(m->globals[0].init.value, 0xffffffffu);
    cr_assert(m->globals[0].mutable_);
    decode_module_free(m);
}

Test(decoder_module, memory_limits)
{
    lvm_diag d;
    DECODE(HEADER "\x05\x04\x01\x01\x02\x01", &d);
    ASSERT_ERR(d, LVM_ERR_LIMITS_MIN_MAX, 11);
    DECODE(HEADER "\x05\x05\x01\x00\x81\x80\x04", &d);
    ASSERT_ERR(d, LVM_ERR_MEMORY_SIZE, 11);
    cr_assert_eq(DECODE(HEADER "\x05\x05\x02\x00\x01\x00\x01", &d), LVM_ERR_MULTIPLE_MEMORIES);
}

Test(decoder_module, data_count_rules)
{
    lvm_diag d;
    struct lvm_module *m;
#define MEM    "\x05\x03\x01\x00\x00"
#define DROP0  "\x0a\x07\x01\x05\x00\xfc\x09\x00\x0b"
#define DATA1  "\x0b\x04\x01\x01\x01\x61"
    DECODE(HEADER TYPE_V_V FUNC1 MEM DROP0 DATA1, &d);
    ASSERT_ERR(d, LVM_ERR_DATA_COUNT_REQUIRED, 38);
    cr_assert_eq(DECODE_KEEP(HEADER TYPE_V_V FUNC1 MEM "\x0c\x01\x01" DROP0 DATA1, &d, &m),
                 LVM_OK, "%s", d.message);
    cr_assert(m->has_datacount);
    cr_assert_eq(m->ndatas, 1);
    cr_assert_eq(m->datas[0].mode, SEG_PASSIVE);
    cr_assert_eq(m->datas[0].size, 1);
    cr_assert_eq(m->datas[0].bytes[0], 'a');
    decode_module_free(m);
    DECODE(HEADER TYPE_V_V FUNC1 MEM "\x0c\x01\x02" DROP0 DATA1, &d);
    ASSERT_ERR(d, LVM_ERR_DATA_COUNT_MISMATCH, 41);
}

/* }====== */

/* {====== the name section */

Test(decoder_module, name_section_names_functions)
{
    lvm_diag d;
    struct lvm_module *m;
    static const char bytes[] = HEADER TYPE_V_V FUNC1 CODE_NOP
        "\x00\x0f\x04" "name" "\x01\x08\x01\x00\x05" "hello";
    cr_assert_eq(decode_str(bytes, sizeof bytes - 1, &d, &m), LVM_OK, "%s", d.message);
    cr_assert_str_eq(decode_func_name(m, 0), "hello");
    cr_assert_null(decode_func_name(m, 1));
    decode_module_free(m);
}

Test(decoder_module, malformed_name_section_is_ignored)
{
    lvm_diag d;
    struct lvm_module *m;
    static const char bad_utf8[] = HEADER TYPE_V_V FUNC1 CODE_NOP
        "\x00\x0f\x04" "name" "\x01\x08\x01\x00\x05" "hell\xff";
    cr_assert_eq(decode_str(bad_utf8, sizeof bad_utf8 - 1, &d, &m), LVM_OK, "%s", d.message);
    cr_assert_null(m->func_names);
    decode_module_free(m);
    static const char overrun[] = HEADER TYPE_V_V FUNC1 CODE_NOP
        "\x00\x0f\x04" "name" "\x01\x7f\x01\x00\x05" "hello";
    cr_assert_eq(decode_str(overrun, sizeof overrun - 1, &d, &m), LVM_OK, "%s", d.message);
    cr_assert_null(decode_func_name(m, 0));
    decode_module_free(m);
}

/* }====== */
