/*
 * opcodes.c - the tables generated from opcodes.def: decode_ops[] (static
 * facts about every instruction) and the opcode -> op lookup.
 *
 * Both tables are built by the compiler from the X-macro rows, so adding an
 * instruction means adding one row to opcodes.def and nothing here.  A
 * duplicated (prefix, code) pair in the .def file is caught at compile time:
 * -Wextra enables -Woverride-init, which the build turns into an error.
 */
#include "internal.h"

/* {====== decode_ops */

/* The type columns of opcodes.def are the tokens I32 I64 F32 F64, `_` (none)
 * and `X` (the validator handles the instruction by hand).  One level of
 * token pasting maps them to value-type bytes. */
#define VT__   0
#define VT_X   DECODE_SPECIAL
#define VT_I32 LVM_I32
#define VT_I64 LVM_I64
#define VT_F32 LVM_F32
#define VT_F64 LVM_F64

const decode_opinfo decode_ops[OP_COUNT] = {
#define OP(name, prefix, code, imm, p1, p2, r, msize, text) \
    [OP_##name] = { text, prefix, code, imm, VT_##p1, VT_##p2, VT_##r, msize },
#include "opcodes.def"
#undef OP
};

/* }====== */

/* {====== lookup */

/* lookup[0] is indexed by a one-byte opcode, lookup[1] by a 0xFC sub-opcode
 * (all below 256 in Wasm 2.0).  Entries hold op + 1 so that the zero every
 * missing entry gets means "no such opcode". */
const uint16_t decode_lookup[2][256] = {
#define OP(name, prefix, code, imm, p1, p2, r, msize, text) \
    [(prefix) == 0xfc][code] = OP_##name + 1,
#include "opcodes.def"
#undef OP
};

uint16_t decode_op_lookup(uint8_t prefix, uint32_t code)
{
    if ((prefix != 0x00 && prefix != 0xfc) || code > 0xff)
        return OP_COUNT;
    uint16_t e = decode_lookup[prefix == 0xfc][code];
    return e ? (uint16_t)(e - 1) : OP_COUNT;
}

/* }====== */
