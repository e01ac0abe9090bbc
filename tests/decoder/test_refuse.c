/*
 * test_refuse.c - modules that use a proposal after Wasm 2.0 (or are a
 * component) are refused with the spec's error text first, then which
 * proposal, that lvm does not support it, and in which function (index,
 * and name when the module has a name section); the byte offset is the
 * diag's.  Modules are built byte by byte here, with the section sizes
 * computed by a small builder rather than counted by hand.
 */
#include <stdio.h>

#include "helpers.h"

TestSuite(decoder_refuse);

/* {====== building modules */

typedef struct wbuf {
    char b[512];
    size_t n;
} wbuf;

static void put(wbuf *w, const char *bytes, size_t n)
{
    cr_assert_leq(w->n + n, sizeof w->b);
    memcpy(w->b + w->n, bytes, n);
    w->n += n;
}
#define PUT(w, lit) put((w), (lit), sizeof(lit) - 1)

static void put_u32(wbuf *w, uint32_t v)
{
    do {
        char byte = (char)(v & 0x7f);
        v >>= 7;
        if (v)
            byte = (char)(byte | 0x80);
        put(w, &byte, 1);
    } while (v);
}

/* A section: id, payload size, payload. */
static void section(wbuf *w, uint8_t id, const char *payload, size_t n)
{
    char c = (char)id;
    put(w, &c, 1);
    put_u32(w, (uint32_t)n);
    put(w, payload, n);
}
#define SECTION(w, id, lit) section((w), (id), (lit), sizeof(lit) - 1)

/* HEADER, then (in section order) optional memory section bytes, two
 * functions of type [] -> [] (function 0: `end`; function 1: `body`, which
 * includes its locals and final end), and, if `name`, a name section
 * naming function 1.  *body_at is the file offset of body[0]. */
static void two_funcs(wbuf *w, const char *memory, size_t memory_len, const char *body, size_t n,
                      const char *name, size_t *body_at)
{
    w->n = 0;
    PUT(w, HEADER);
    SECTION(w, 1, "\x01\x60\x00\x00");
    SECTION(w, 3, "\x02\x00\x00");
    if (memory)
        section(w, 5, memory, memory_len);
    wbuf code = { .n = 0 };
    PUT(&code, "\x02\x02\x00\x0b");
    put_u32(&code, (uint32_t)n);
    size_t in_code = code.n;
    put(&code, body, n);
    section(w, 10, code.b, code.n);
    *body_at = w->n - code.n + in_code;
    if (name) {
        wbuf names = { .n = 0 }, sub = { .n = 0 };
        PUT(&sub, "\x01\x01");                  /* one name: function 1 */
        put_u32(&sub, (uint32_t)strlen(name));
        put(&sub, name, strlen(name));
        PUT(&names, "\x04name\x01");            /* subsection 1: function names */
        put_u32(&names, (uint32_t)sub.n);
        put(&names, sub.b, sub.n);
        section(w, 0, names.b, names.n);
    }
}

static lvm_err decode_wbuf(const wbuf *w, lvm_diag *d)
{
    return decode_str(w->b, w->n, d, NULL);
}

/* The full message and the offset. */
#define ASSERT_REFUSED(d, e, off, text)                                                  \
    do {                                                                                 \
        ASSERT_ERR((d), (e), (off));                                                     \
        cr_assert_str_eq((d).message, (text));                                           \
    } while (0)

/* Function 1's body is `body` (locals + instructions + end); the refusal
 * must be at body offset `at` with the message `text`. */
static void check_body(const char *body, size_t n, size_t at, lvm_err e, const char *text)
{
    wbuf w;
    size_t body_at;
    lvm_diag d;
    two_funcs(&w, "\x01\x00\x01", 3, body, n, "bad_one", &body_at);
    cr_assert_eq(decode_wbuf(&w, &d), e, "%s", d.message);
    ASSERT_REFUSED(d, e, body_at + at, text);
}
#define CHECK_BODY(lit, at, e, text) check_body((lit), sizeof(lit) - 1, (at), (e), (text))

/* }====== */

/* {====== where: function index and name */

Test(decoder_refuse, names_the_function_by_index_and_name)
{
    wbuf w;
    size_t at;
    lvm_diag d;
    two_funcs(&w, NULL, 0, "\x00\x12\x00\x0b", 4, "loop_forever", &at);
    cr_assert_eq(decode_wbuf(&w, &d), LVM_ERR_ILLEGAL_OPCODE);
    ASSERT_REFUSED(d, LVM_ERR_ILLEGAL_OPCODE, at + 1,
                   "illegal opcode: the tail call proposal (return_call) is not supported by lvm, "
                   "in function 1 \"loop_forever\"");
}

Test(decoder_refuse, without_a_name_section_gives_the_index_only)
{
    wbuf w;
    size_t at;
    lvm_diag d;
    two_funcs(&w, NULL, 0, "\x00\x12\x00\x0b", 4, NULL, &at);
    cr_assert_eq(decode_wbuf(&w, &d), LVM_ERR_ILLEGAL_OPCODE);
    ASSERT_REFUSED(d, LVM_ERR_ILLEGAL_OPCODE, at + 1,
                   "illegal opcode: the tail call proposal (return_call) is not supported by lvm, "
                   "in function 1");
}

Test(decoder_refuse, a_long_name_is_cut_at_80_bytes)
{
    char name[121];
    memset(name, 'n', 120);
    name[120] = '\0';
    wbuf w;
    size_t at;
    lvm_diag d;
    two_funcs(&w, NULL, 0, "\x00\x12\x00\x0b", 4, name, &at);
    cr_assert_eq(decode_wbuf(&w, &d), LVM_ERR_ILLEGAL_OPCODE);
    char want[256];
    snprintf(want, sizeof want,
             "illegal opcode: the tail call proposal (return_call) is not supported by lvm, "
             "in function 1 \"%.80s\"", name);
    ASSERT_REFUSED(d, LVM_ERR_ILLEGAL_OPCODE, at + 1, want);
}

Test(decoder_refuse, outside_a_body_names_no_function)
{
    lvm_diag d;
    /* a memory import, shared (flags 3): min 1, max 1 */
    DECODE(HEADER "\x02\x09\x01\x01m\x01m\x02\x03\x01\x01", &d);
    ASSERT_REFUSED(d, LVM_ERR_INT_TOO_LARGE, 16,
                   "integer too large: the threads proposal (shared memory) is not supported by lvm");
}

/* }====== */

/* {====== SIMD and relaxed SIMD */

Test(decoder_refuse, simd_v128_types)
{
    lvm_diag d;
    DECODE(HEADER "\x01\x05\x01\x60\x01\x7b\x00", &d);
    ASSERT_REFUSED(d, LVM_ERR_VALTYPE, 13,
                   "malformed value type: the SIMD proposal (v128) is not supported by lvm");
    /* a v128 local: the locals are part of the function */
    CHECK_BODY("\x01\x01\x7b\x0b", 2, LVM_ERR_VALTYPE,
               "malformed value type: the SIMD proposal (v128) is not supported by lvm, "
               "in function 1 \"bad_one\"");
    /* a v128 global */
    DECODE(HEADER "\x06\x06\x01\x7b\x00\x41\x00\x0b", &d);
    ASSERT_REFUSED(d, LVM_ERR_VALTYPE, 11,
                   "malformed value type: the SIMD proposal (v128) is not supported by lvm");
}

Test(decoder_refuse, simd_instructions)
{
    /* i8x16.splat (0xfd 15) */
    CHECK_BODY("\x00\x41\x00\xfd\x0f\x1a\x0b", 3, LVM_ERR_ILLEGAL_OPCODE,
               "illegal opcode: the SIMD proposal (v128 instruction 0xfd 15) is not supported by lvm, "
               "in function 1 \"bad_one\"");
    /* v128.const (0xfd 12) in a constant expression */
    lvm_diag d;
    DECODE(HEADER "\x06\x06\x01\x7f\x00\xfd\x0c\x0b", &d);
    ASSERT_REFUSED(d, LVM_ERR_ILLEGAL_OPCODE, 13,
                   "illegal opcode: the SIMD proposal (v128 instruction 0xfd 12) is not supported by lvm");
}

Test(decoder_refuse, relaxed_simd_instructions)
{
    /* i8x16.relaxed_swizzle (0xfd 0x100, two LEB bytes) */
    CHECK_BODY("\x00\xfd\x80\x02\x0b", 1, LVM_ERR_ILLEGAL_OPCODE,
               "illegal opcode: the relaxed SIMD proposal (instruction 0xfd 256) is not supported by lvm, "
               "in function 1 \"bad_one\"");
}

Test(decoder_refuse, a_prefix_at_the_end_of_the_file_is_only_illegal)
{
    /* 0xfd is the file's last byte: there is no sub-opcode to peek at. */
    lvm_diag d;
    DECODE(HEADER "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x05\x01\x03\x00\x00\xfd", &d);
    ASSERT_REFUSED(d, LVM_ERR_ILLEGAL_OPCODE, 24, "illegal opcode 0xfd");
}

/* }====== */

/* {====== threads */

Test(decoder_refuse, threads_shared_memory)
{
    lvm_diag d;
    DECODE(HEADER "\x05\x04\x01\x03\x01\x01", &d);
    ASSERT_REFUSED(d, LVM_ERR_INT_TOO_LARGE, 11,
                   "integer too large: the threads proposal (shared memory) is not supported by lvm");
    DECODE(HEADER "\x05\x03\x01\x02\x01", &d);
    ASSERT_REFUSED(d, LVM_ERR_INT_TOO_LARGE, 11,
                   "integer too large: the threads proposal (shared memory) is not supported by lvm");
}

Test(decoder_refuse, threads_atomics)
{
    /* atomic.fence (0xfe 3) */
    CHECK_BODY("\x00\xfe\x03\x00\x0b", 1, LVM_ERR_ILLEGAL_OPCODE,
               "illegal opcode: the threads proposal (atomic instruction 0xfe 3) is not supported by lvm, "
               "in function 1 \"bad_one\"");
}

/* }====== */

/* {====== exception handling */

Test(decoder_refuse, exceptions_tag_section_and_kinds)
{
    lvm_diag d;
    DECODE(HEADER "\x0d\x03\x01\x00\x00", &d);
    ASSERT_REFUSED(d, LVM_ERR_SECTION_ID, 8,
                   "malformed section id: the exception handling proposal (tag section) is not supported by lvm");
    /* an import of kind 4 (a tag) */
    DECODE(HEADER "\x01\x04\x01\x60\x00\x00\x02\x07\x01\x01m\x01t\x04\x00", &d);
    ASSERT_REFUSED(d, LVM_ERR_IMPORT_KIND, 21,
                   "malformed import kind: the exception handling proposal (tag import) is not supported by lvm");
    /* an export of kind 4 */
    DECODE(HEADER "\x07\x05\x01\x01t\x04\x00", &d);
    ASSERT_REFUSED(d, LVM_ERR_EXPORT_KIND, 13,
                   "malformed export kind: the exception handling proposal (tag export) is not supported by lvm");
    /* exnref as a result type */
    DECODE(HEADER "\x01\x05\x01\x60\x00\x01\x69", &d);
    ASSERT_REFUSED(d, LVM_ERR_VALTYPE, 14,
                   "malformed value type: the exception handling proposal (exnref) is not supported by lvm");
    DECODE(HEADER "\x01\x05\x01\x60\x00\x01\x74", &d);
    ASSERT_REFUSED(d, LVM_ERR_VALTYPE, 14,
                   "malformed value type: the exception handling proposal (nullexnref) is not supported by lvm");
}

/* One opcode byte at the start of function 1, the name lvm must give it. */
typedef struct named_op {
    char byte;
    const char *proposal, *name;
} named_op;

static void check_ops(const named_op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char body[] = { 0x00, ops[i].byte, 0x00, 0x00, 0x0b };
        char want[200];
        snprintf(want, sizeof want,
                 "illegal opcode: the %s proposal (%s) is not supported by lvm, in function 1 \"bad_one\"",
                 ops[i].proposal, ops[i].name);
        check_body(body, sizeof body, 1, LVM_ERR_ILLEGAL_OPCODE, want);
    }
}

Test(decoder_refuse, exceptions_instructions)
{
    static const named_op ops[] = {
        { 0x06, "exception handling", "try" },
        { 0x07, "exception handling", "catch" },
        { 0x08, "exception handling", "throw" },
        { 0x09, "exception handling", "rethrow" },
        { 0x0a, "exception handling", "throw_ref" },
        { 0x18, "exception handling", "delegate" },
        { 0x19, "exception handling", "catch_all" },
        { 0x1f, "exception handling", "try_table" },
    };
    check_ops(ops, sizeof ops / sizeof ops[0]);
}

/* }====== */

/* {====== tail calls, typed function references, GC */

Test(decoder_refuse, tail_call_instructions)
{
    static const named_op ops[] = {
        { 0x12, "tail call", "return_call" },
        { 0x13, "tail call", "return_call_indirect" },
    };
    check_ops(ops, sizeof ops / sizeof ops[0]);
}

Test(decoder_refuse, function_references_instructions)
{
    static const named_op ops[] = {
        { 0x14, "typed function references", "call_ref" },
        { 0x15, "typed function references", "return_call_ref" },
        { (char)0xd4, "typed function references", "ref.as_non_null" },
        { (char)0xd5, "typed function references", "br_on_null" },
        { (char)0xd6, "typed function references", "br_on_non_null" },
    };
    check_ops(ops, sizeof ops / sizeof ops[0]);
}

Test(decoder_refuse, function_references_types)
{
    lvm_diag d;
    /* (ref null 0) and (ref 0) as a parameter */
    DECODE(HEADER "\x01\x06\x01\x60\x01\x63\x00\x00", &d);
    ASSERT_REFUSED(d, LVM_ERR_VALTYPE, 13,
                   "malformed value type: the typed function references proposal ((ref null ht) type) "
                   "is not supported by lvm");
    DECODE(HEADER "\x01\x06\x01\x60\x01\x64\x00\x00", &d);
    ASSERT_REFUSED(d, LVM_ERR_VALTYPE, 13,
                   "malformed value type: the typed function references proposal ((ref ht) type) "
                   "is not supported by lvm");
    /* a table of (ref null func) in its long form, and a table with an
     * initializer expression */
    DECODE(HEADER "\x04\x05\x01\x63\x70\x00\x01", &d);
    ASSERT_REFUSED(d, LVM_ERR_REFTYPE, 11,
                   "malformed reference type: the typed function references proposal ((ref null ht) type) "
                   "is not supported by lvm");
    DECODE(HEADER "\x04\x09\x01\x40\x00\x70\x00\x01\xd2\x00\x0b", &d);
    ASSERT_REFUSED(d, LVM_ERR_REFTYPE, 11,
                   "malformed reference type: the typed function references proposal (table with an "
                   "initializer) is not supported by lvm");
}

Test(decoder_refuse, gc_instructions)
{
    /* struct.new 0 (0xfb 0) */
    CHECK_BODY("\x00\xfb\x00\x00\x0b", 1, LVM_ERR_ILLEGAL_OPCODE,
               "illegal opcode: the GC proposal (instruction 0xfb 0) is not supported by lvm, "
               "in function 1 \"bad_one\"");
    static const named_op ops[] = { { (char)0xd3, "GC", "ref.eq" } };
    check_ops(ops, 1);
}

Test(decoder_refuse, gc_type_forms_and_types)
{
    static const struct { char form; const char *what; } forms[] = {
        { 0x4e, "rec type group" }, { 0x4f, "final sub type" }, { 0x50, "sub type" },
        { 0x5e, "array type" }, { 0x5f, "struct type" },
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char bytes[] = HEADER "\x01\x03\x01\x00\x00";
        bytes[11] = forms[i].form;
        lvm_diag d;
        decode_str(bytes, sizeof bytes - 1, &d, NULL);
        char want[200];
        snprintf(want, sizeof want,
                 "malformed function type: the GC proposal (%s) is not supported by lvm", forms[i].what);
        ASSERT_REFUSED(d, LVM_ERR_MALFORMED_FUNCTYPE, 11, want);
    }
    static const struct { char type; const char *what; } types[] = {
        { 0x6e, "anyref" }, { 0x6d, "eqref" }, { 0x6c, "i31ref" }, { 0x6b, "structref" },
        { 0x6a, "arrayref" }, { 0x71, "nullref" }, { 0x72, "nullexternref" }, { 0x73, "nullfuncref" },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char bytes[] = HEADER "\x01\x05\x01\x60\x01\x00\x00";
        bytes[13] = types[i].type;
        lvm_diag d;
        decode_str(bytes, sizeof bytes - 1, &d, NULL);
        char want[200];
        snprintf(want, sizeof want,
                 "malformed value type: the GC proposal (%s) is not supported by lvm", types[i].what);
        ASSERT_REFUSED(d, LVM_ERR_VALTYPE, 13, want);
    }
}

/* }====== */

/* {====== memories: memory64, multi-memory, custom page sizes */

Test(decoder_refuse, memory64_limits)
{
    lvm_diag d;
    DECODE(HEADER "\x05\x03\x01\x04\x01", &d);
    ASSERT_REFUSED(d, LVM_ERR_INT_TOO_LARGE, 11,
                   "integer too large: the memory64 proposal (64-bit memory) is not supported by lvm");
    DECODE(HEADER "\x04\x05\x01\x70\x05\x01\x02", &d);
    ASSERT_REFUSED(d, LVM_ERR_INT_TOO_LARGE, 12,
                   "integer too large: the memory64 proposal (64-bit table) is not supported by lvm");
}

Test(decoder_refuse, custom_page_sizes_limits)
{
    lvm_diag d;
    DECODE(HEADER "\x05\x04\x01\x08\x01\x00", &d);
    ASSERT_REFUSED(d, LVM_ERR_INT_TOO_LARGE, 11,
                   "integer too large: the custom page sizes proposal (memory with a page size) "
                   "is not supported by lvm");
}

Test(decoder_refuse, limits_flags_of_no_proposal_keep_the_plain_error)
{
    lvm_diag d;
    DECODE(HEADER "\x05\x03\x01\x10\x01", &d);
    ASSERT_REFUSED(d, LVM_ERR_INT_TOO_LARGE, 11, "integer too large (u1)");
    /* a "shared" table is no proposal lvm knows */
    DECODE(HEADER "\x04\x04\x01\x70\x02\x01", &d);
    ASSERT_REFUSED(d, LVM_ERR_INT_TOO_LARGE, 12, "integer too large (u1)");
}

Test(decoder_refuse, multi_memory_two_memories)
{
    lvm_diag d;
    DECODE(HEADER "\x05\x05\x02\x00\x01\x00\x01", &d);
    ASSERT_REFUSED(d, LVM_ERR_MULTIPLE_MEMORIES, 13,
                   "multiple memories: the multi-memory proposal (2 memories) is not supported by lvm");
}

Test(decoder_refuse, multi_memory_memory_index_in_a_memarg)
{
    /* i32.const 0; i32.load (align 2 | 0x40) memory 1 offset 0; drop */
    CHECK_BODY("\x00\x41\x00\x28\x42\x01\x00\x1a\x0b", 3, LVM_ERR_ALIGNMENT,
               "alignment must not be larger than natural: the multi-memory proposal (i32.load of memory 1) "
               "is not supported by lvm, in function 1 \"bad_one\"");
}

Test(decoder_refuse, multi_memory_memory_index_byte)
{
    /* memory.size 1 */
    CHECK_BODY("\x00\x3f\x01\x1a\x0b", 2, LVM_ERR_ZERO_BYTE,
               "zero byte expected: the multi-memory proposal (memory index byte 0x01) is not supported "
               "by lvm, in function 1 \"bad_one\"");
    /* memory.copy 0 2 */
    CHECK_BODY("\x00\x41\x00\x41\x00\x41\x00\xfc\x0a\x00\x02\x0b", 10, LVM_ERR_ZERO_BYTE,
               "zero byte expected: the multi-memory proposal (memory index byte 0x02) is not supported "
               "by lvm, in function 1 \"bad_one\"");
}

/* }====== */

/* {====== extended constant expressions, components */

Test(decoder_refuse, extended_constant_expressions)
{
    lvm_diag d;
    /* (global i32 (i32.add (i32.const 1) (i32.const 2))) */
    DECODE(HEADER "\x06\x09\x01\x7f\x00\x41\x01\x41\x02\x6a\x0b", &d);
    ASSERT_REFUSED(d, LVM_ERR_CONST_EXPR, 17,
                   "constant expression required: the extended constant expressions proposal (i32.add) "
                   "is not supported by lvm");
    /* i64.mul */
    DECODE(HEADER "\x06\x09\x01\x7e\x00\x42\x01\x42\x02\x7e\x0b", &d);
    ASSERT_REFUSED(d, LVM_ERR_CONST_EXPR, 17,
                   "constant expression required: the extended constant expressions proposal (i64.mul) "
                   "is not supported by lvm");
    /* other instructions stay plainly not constant */
    DECODE(HEADER "\x06\x07\x01\x7f\x00\x41\x01\x45\x0b", &d);
    ASSERT_REFUSED(d, LVM_ERR_CONST_EXPR, 15, "constant expression required (i32.eqz)");
}

Test(decoder_refuse, a_component_is_not_a_core_module)
{
    lvm_diag d;
    DECODE("\0asm\x0d\x00\x01\x00", &d);
    ASSERT_REFUSED(d, LVM_ERR_VERSION, 4,
                   "unknown binary version: the component model proposal (a component, not a core module) "
                   "is not supported by lvm");
    /* any other version is only unknown */
    DECODE("\0asm\x02\x00\x00\x00", &d);
    ASSERT_REFUSED(d, LVM_ERR_VERSION, 4, "unknown binary version");
}

/* }====== */
