/*
 * test_opcodes.c - the tables generated from opcodes.def: every row must be
 * found again by decode_op_lookup, and nothing else may be.
 */
#include "helpers.h"

TestSuite(decoder_opcodes);

Test(decoder_opcodes, every_row_round_trips_through_lookup)
{
    for (unsigned op = 0; op < OP_COUNT; op++) {
        const decode_opinfo *info = &decode_ops[op];
        cr_assert_not_null(info->text, "op %u has no text", op);
        cr_assert_eq(decode_op_lookup(info->prefix, info->code), op, "%s", info->text);
    }
}

Test(decoder_opcodes, unknown_opcodes_are_not_found)
{
    unsigned found = 0;
    for (unsigned code = 0; code < 256; code++) {
        found += decode_op_lookup(0x00, code) != OP_COUNT;
        found += decode_op_lookup(0xfc, code) != OP_COUNT;
    }
    cr_assert_eq(found, OP_COUNT, "every op once, nothing else");
    cr_assert_eq(decode_op_lookup(0x00, 0x06), OP_COUNT);          /* try (exceptions) */
    cr_assert_eq(decode_op_lookup(0xfc, 0x12), OP_COUNT);          /* past table.fill */
    cr_assert_eq(decode_op_lookup(0xfc, 0x10000), OP_COUNT);
    cr_assert_eq(decode_op_lookup(0xfd, 0x00), OP_COUNT);          /* SIMD */
}

Test(decoder_opcodes, memory_sizes_belong_to_memargs)
{
    for (unsigned op = 0; op < OP_COUNT; op++) {
        const decode_opinfo *info = &decode_ops[op];
        cr_assert_eq(info->msize != 0, info->imm == IMM_MEMARG, "%s", info->text);
        if (info->msize)
            cr_assert(info->msize == 1 || info->msize == 2 || info->msize == 4 || info->msize == 8);
    }
}

Test(decoder_opcodes, simple_rows_have_consistent_types)
{
    for (unsigned op = 0; op < OP_COUNT; op++) {
        const decode_opinfo *info = &decode_ops[op];
        bool special = info->result == DECODE_SPECIAL;
        /* A row is either all by hand (X X X) or all typed. */
        cr_assert_eq(info->p1 == DECODE_SPECIAL, special, "%s", info->text);
        cr_assert_eq(info->p2 == DECODE_SPECIAL, special, "%s", info->text);
        /* A second operand needs a first. */
        if (!special && info->p2)
            cr_assert(info->p1, "%s", info->text);
    }
    cr_assert_eq(decode_ops[OP_I32_ADD].p1, LVM_I32);
    cr_assert_eq(decode_ops[OP_I64_STORE].p2, LVM_I64);
    cr_assert_eq(decode_ops[OP_F64_LOAD].result, LVM_F64);
    cr_assert_str_eq(decode_ops[OP_TABLE_FILL].text, "table.fill");
}
