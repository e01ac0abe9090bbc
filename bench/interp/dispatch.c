/*
 * dispatch.c - an interpreter for a tiny stack bytecode, with one big
 * `switch` over the opcode: the wasm `br_table` dispatch loop that every
 * interpreter, emulator and regex engine compiled to wasm runs.
 *
 * What it stresses: br_table with ~25 dense targets taken in an
 * unpredictable order, the loads of the bytecode stream, and the loads and
 * stores of the bytecode machine's own stack and registers.  Two programs
 * are assembled at start-up: counting primes by trial division, and an
 * integer hash loop.
 */
#include "common.h"

enum op {
    OP_HALT, OP_PUSH, OP_LOAD, OP_STORE, OP_DUP, OP_DROP, OP_SWAP, OP_OVER,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_AND, OP_OR, OP_XOR,
    OP_SHL, OP_SHR, OP_NEG, OP_LT, OP_GT, OP_EQ, OP_JMP, OP_JZ,
    OP_JNZ, OP_INC, OP_DEC,
};

/* {====== assembler: code, and labels patched once they are placed */

#define CODE_MAX 256
#define LABEL_MAX 16

typedef struct asm_state {
    int32_t code[CODE_MAX];
    int n;
    int label_at[LABEL_MAX];            /* -1: not placed yet */
    int fixup_at[CODE_MAX], fixup_label[CODE_MAX], nfixups;
} asm_state;

static void emit(asm_state *a, enum op op) { a->code[a->n++] = op; }
static void emit1(asm_state *a, enum op op, int32_t imm)
{
    a->code[a->n++] = op;
    a->code[a->n++] = imm;
}
static void place(asm_state *a, int label) { a->label_at[label] = a->n; }
static void jump(asm_state *a, enum op op, int label)
{
    a->code[a->n++] = op;
    a->fixup_at[a->nfixups] = a->n;
    a->fixup_label[a->nfixups++] = label;
    a->code[a->n++] = 0;
}
static void link_labels(asm_state *a)
{
    for (int i = 0; i < a->nfixups; i++)
        a->code[a->fixup_at[i]] = a->label_at[a->fixup_label[i]];
}

/* }====== */

/* {====== the bytecode machine */

static NOINLINE int32_t run(const int32_t *code)
{
    int32_t stack[64], reg[8] = { 0 };
    int sp = 0, pc = 0;
    for (;;) {
        int32_t a, b;
        switch ((enum op)code[pc++]) {
        case OP_HALT: return stack[sp - 1];
        case OP_PUSH: stack[sp++] = code[pc++]; break;
        case OP_LOAD: stack[sp++] = reg[code[pc++]]; break;
        case OP_STORE: reg[code[pc++]] = stack[--sp]; break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_DROP: sp--; break;
        case OP_SWAP: a = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = a; break;
        case OP_OVER: stack[sp] = stack[sp - 2]; sp++; break;
        case OP_ADD: b = stack[--sp]; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] + (uint32_t)b); break;
        case OP_SUB: b = stack[--sp]; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] - (uint32_t)b); break;
        case OP_MUL: b = stack[--sp]; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] * (uint32_t)b); break;
        case OP_DIV: b = stack[--sp]; stack[sp - 1] = b ? stack[sp - 1] / b : 0; break;
        case OP_MOD: b = stack[--sp]; stack[sp - 1] = b ? stack[sp - 1] % b : 0; break;
        case OP_AND: b = stack[--sp]; stack[sp - 1] &= b; break;
        case OP_OR: b = stack[--sp]; stack[sp - 1] |= b; break;
        case OP_XOR: b = stack[--sp]; stack[sp - 1] ^= b; break;
        case OP_SHL: b = stack[--sp]; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] << (b & 31)); break;
        case OP_SHR: b = stack[--sp]; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] >> (b & 31)); break;
        case OP_NEG: stack[sp - 1] = (int32_t)(0u - (uint32_t)stack[sp - 1]); break;
        case OP_LT: b = stack[--sp]; stack[sp - 1] = stack[sp - 1] < b; break;
        case OP_GT: b = stack[--sp]; stack[sp - 1] = stack[sp - 1] > b; break;
        case OP_EQ: b = stack[--sp]; stack[sp - 1] = stack[sp - 1] == b; break;
        case OP_JMP: pc = code[pc]; break;
        case OP_JZ: a = stack[--sp]; pc = a ? pc + 1 : code[pc]; break;
        case OP_JNZ: a = stack[--sp]; pc = a ? code[pc] : pc + 1; break;
        case OP_INC: reg[code[pc++]]++; break;
        case OP_DEC: reg[code[pc++]]--; break;
        default: return -1;
        }
    }
}

/* }====== */

/* Primes below `limit`, by trial division:
 *   r0 = n, r1 = count, r2 = divisor. */
static void assemble_primes(asm_state *a, int32_t limit)
{
    enum { L_N, L_D, L_PRIME, L_NEXT, L_END };
    emit1(a, OP_PUSH, 2), emit1(a, OP_STORE, 0);
    emit1(a, OP_PUSH, 0), emit1(a, OP_STORE, 1);
    place(a, L_N);
    emit1(a, OP_LOAD, 0), emit1(a, OP_PUSH, limit), emit(a, OP_LT), jump(a, OP_JZ, L_END);
    emit1(a, OP_PUSH, 2), emit1(a, OP_STORE, 2);
    place(a, L_D);
    emit1(a, OP_LOAD, 2), emit(a, OP_DUP), emit(a, OP_MUL);
    emit1(a, OP_LOAD, 0), emit(a, OP_GT), jump(a, OP_JNZ, L_PRIME);
    emit1(a, OP_LOAD, 0), emit1(a, OP_LOAD, 2), emit(a, OP_MOD), jump(a, OP_JZ, L_NEXT);
    emit1(a, OP_INC, 2), jump(a, OP_JMP, L_D);
    place(a, L_PRIME);
    emit1(a, OP_INC, 1);
    place(a, L_NEXT);
    emit1(a, OP_INC, 0), jump(a, OP_JMP, L_N);
    place(a, L_END);
    emit1(a, OP_LOAD, 1), emit(a, OP_HALT);
    link_labels(a);
}

/* h = ((h ^ i) * 31 + (h >> 3)) | (i & 1), for i from n down to 1:
 *   r0 = i, r1 = h. */
static void assemble_hash(asm_state *a, int32_t n, int32_t seed)
{
    enum { L_LOOP, L_END };
    emit1(a, OP_PUSH, n), emit1(a, OP_STORE, 0);
    emit1(a, OP_PUSH, seed), emit1(a, OP_STORE, 1);
    place(a, L_LOOP);
    emit1(a, OP_LOAD, 0), jump(a, OP_JZ, L_END);
    emit1(a, OP_LOAD, 1), emit1(a, OP_LOAD, 0), emit(a, OP_XOR);
    emit1(a, OP_PUSH, 31), emit(a, OP_MUL);
    emit1(a, OP_LOAD, 1), emit1(a, OP_PUSH, 3), emit(a, OP_SHR), emit(a, OP_ADD);
    emit1(a, OP_LOAD, 0), emit1(a, OP_PUSH, 1), emit(a, OP_AND), emit(a, OP_OR);
    emit(a, OP_DUP), emit(a, OP_NEG), emit(a, OP_OVER), emit(a, OP_SWAP), emit(a, OP_DROP), emit(a, OP_DROP);
    emit1(a, OP_STORE, 1);
    emit1(a, OP_DEC, 0), jump(a, OP_JMP, L_LOOP);
    place(a, L_END);
    emit1(a, OP_LOAD, 1), emit(a, OP_HALT);
    link_labels(a);
}

int main(int argc, char **argv)
{
    int scale = bench_scale(argc, argv, 4);
    uint64_t h = 0;
    for (int r = 0; r < scale; r++) {
        asm_state primes = { .n = 0 }, hash = { .n = 0 };
        assemble_primes(&primes, 30000 + r);
        assemble_hash(&hash, 150000, r);
        h = bench_mix(h, (uint32_t)run(primes.code));
        h = bench_mix(h, (uint32_t)run(hash.code));
    }
    bench_report("dispatch", h);
    return 0;
}
