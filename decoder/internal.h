/*
 * internal.h - what the decoder's files share and nobody else may see: the
 * byte reader, the decoding context, and the validator's entry points.
 *
 * Error model.  The reference interpreter decodes the whole module first and
 * validates it afterwards, so a malformed module is reported as malformed
 * even when an earlier function is also invalid.  lvm decodes and validates
 * in one pass, and gets the same answers this way:
 *
 *   - a malformed error (bad encoding, unexpected end, ...) stops decoding
 *     at once: it is written to the caller's diag and returned;
 *   - an invalid error (type mismatch, unknown index, ...) is only recorded
 *     in the context (decode_invalid), ranked by the order in which the
 *     reference checks the parts of a module, and decoding goes on checking
 *     the syntax only.  If the whole module decodes, the recorded error with
 *     the lowest rank is the answer.
 *
 * The reader never reads past the end of the file, but it is deliberately
 * NOT bounded by the current section or function body: like the reference,
 * lvm reads a section's content and then checks that it ended where its size
 * said ("section size mismatch").  That is what makes a function missing its
 * `end` report the spec's error texts.
 */
#ifndef LVM_DECODER_INTERNAL_H
#define LVM_DECODER_INTERNAL_H

#include "decoder.h"

/* {====== opcodes (opcodes.c) */

/* decode_lookup[0][byte] is op + 1 for a one-byte opcode, decode_lookup[1][n]
 * op + 1 for the 0xFC-prefixed sub-opcode n, and 0 where there is no such
 * opcode.  decode_op_lookup wraps it; the validator indexes it directly. */
extern const uint16_t decode_lookup[2][256];

/* }====== */

/* {====== the byte reader */

typedef struct decode_rd {
    const uint8_t *p;           /* next byte */
    const uint8_t *end;         /* end of the file */
    const uint8_t *file;        /* byte 0 of the file: offsets are p - file */
    lvm_diag *diag;             /* where malformed errors go (may be NULL) */
    uint32_t in_func;           /* 1 + the index of the function whose body
                                   is being read, 0 elsewhere: refusals
                                   name it */
} decode_rd;

static inline size_t rd_off(const decode_rd *r, const uint8_t *at)
{
    return (size_t)(at - r->file);
}

/* Report a malformed module: fills the diag and returns err. */
lvm_err decode_fail(decode_rd *r, lvm_err err, const uint8_t *at, const char *fmt, ...) LVM_PRINTF(4, 5);
/* "unexpected end of section or function", at the end of the file. */
lvm_err decode_eof(decode_rd *r);

/* The slow paths of the LEB128 readers below: multi-byte encodings, and all
 * of the "integer representation too long" / "integer too large" checks. */
lvm_err decode_uleb(decode_rd *r, unsigned bits, uint64_t *value_out);
lvm_err decode_sleb(decode_rd *r, unsigned bits, int64_t *value_out);

/* Propagate an error: every reading function returns lvm_err. */
#define TRY(expr) do { lvm_err e_ = (expr); if (LVM_UNLIKELY(e_ != LVM_OK)) return e_; } while (0)

static inline lvm_err rd_byte(decode_rd *r, uint8_t *b_out)
{
    if (LVM_UNLIKELY(r->p >= r->end)) {
        *b_out = 0;
        return decode_eof(r);
    }
    *b_out = *r->p++;
    return LVM_OK;
}

/* Most LEB128 numbers in real code are one byte long; that case is inline. */
static inline lvm_err rd_u32(decode_rd *r, uint32_t *v_out)
{
    if (LVM_LIKELY(r->p < r->end && *r->p < 0x80)) {
        *v_out = *r->p++;
        return LVM_OK;
    }
    uint64_t v = 0;
    lvm_err e = decode_uleb(r, 32, &v);
    *v_out = (uint32_t)v;       /* set even on error: keeps callers simple */
    return e;
}

static inline lvm_err rd_s32(decode_rd *r, int32_t *v_out)
{
    if (LVM_LIKELY(r->p < r->end && *r->p < 0x80)) {
        uint8_t b = *r->p++;
        *v_out = (b & 0x40) ? (int32_t)b - 0x80 : (int32_t)b;
        return LVM_OK;
    }
    int64_t v = 0;
    lvm_err e = decode_sleb(r, 32, &v);
    *v_out = (int32_t)v;
    return e;
}

static inline lvm_err rd_s64(decode_rd *r, int64_t *v_out)
{
    return decode_sleb(r, 64, v_out);
}

/* The length of a name or of a section or function body: a u32 that cannot
 * exceed the bytes left in the file ("length out of bounds"). */
static inline lvm_err rd_len(decode_rd *r, uint32_t *n_out)
{
    const uint8_t *at = r->p;
    TRY(rd_u32(r, n_out));
    if (LVM_UNLIKELY(*n_out > (size_t)(r->end - r->p)))
        return decode_fail(r, LVM_ERR_LENGTH_OOB, at, " (%u bytes wanted, %zu left)",
                           *n_out, (size_t)(r->end - r->p));
    return LVM_OK;
}

/* A vector's element count.  Unlike a name's length, the reference does not
 * compare it with the bytes left: it reads elements until it runs out of
 * bytes ("unexpected end").  Every element takes at least one byte, though,
 * so *cap_out = min(count, bytes left) is all that can be read and is what
 * to allocate; a loop reaching *cap_out is at the end of the file. */
static inline lvm_err rd_count(decode_rd *r, uint32_t *n_out, uint32_t *cap_out)
{
    TRY(rd_u32(r, n_out));
    size_t left = (size_t)(r->end - r->p);
    *cap_out = *n_out < left ? *n_out : (uint32_t)left;
    return LVM_OK;
}

/* n raw bytes, returned in place. */
static inline lvm_err rd_bytes(decode_rd *r, size_t n, const uint8_t **bytes_out)
{
    *bytes_out = r->p;
    if (LVM_UNLIKELY(n > (size_t)(r->end - r->p)))
        return decode_eof(r);
    r->p += n;
    return LVM_OK;
}

/* One value type or reference type byte ("malformed value type" /
 * "malformed reference type"). */
lvm_err decode_valtype(decode_rd *r, uint8_t *t_out);
lvm_err decode_reftype(decode_rd *r, uint8_t *t_out);

/* }====== */

/* {====== refusing what lvm does not support (decode.c)
 *
 * lvm decodes WebAssembly 2.0 without SIMD.  A module that uses a later
 * proposal fails with the error the 2.0 spec gives for those bytes (the
 * spec runner compares that text, a prefix), followed by what the bytes
 * are and where, for example
 *
 *   illegal opcode: the tail call proposal (return_call) is not supported
 *   by lvm, in function 3 "main"
 *
 * at the byte offset of the instruction (the diag's offset, which `lvm`
 * prints after the message).  Every such place calls decode_refuse (or,
 * for an invalid module rather than a malformed one,
 * decode_refuse_invalid / decode_refuse_diag), so the wording is made in
 * one place and a proposal lvm comes to support loses its refusals by
 * deleting their calls.
 */

enum decode_proposal {
    PROPOSAL_SIMD, PROPOSAL_RELAXED_SIMD, PROPOSAL_THREADS, PROPOSAL_EXCEPTIONS,
    PROPOSAL_TAIL_CALL, PROPOSAL_MEMORY64, PROPOSAL_MULTI_MEMORY,
    PROPOSAL_CUSTOM_PAGE_SIZES, PROPOSAL_EXTENDED_CONST,
    PROPOSAL_FUNCTION_REFERENCES, PROPOSAL_GC, PROPOSAL_COMPONENT_MODEL,
};

/* A malformed module: fills r->diag with err at `at`, the detail ": the
 * PROPOSAL proposal (WHAT) is not supported by lvm" and, inside a function
 * body, ", in function N" plus its name from the name section if it has
 * one.  WHAT is printf-formatted.  Returns err. */
lvm_err decode_refuse(decode_rd *r, lvm_err err, const uint8_t *at, enum decode_proposal p,
                      const char *what, ...) LVM_PRINTF(5, 6);

/* }====== */

/* {====== the decoding context */

/* The order in which the reference validator checks a module; an invalid
 * error of a lower rank wins over one of a higher rank found earlier in the
 * file.  Within a rank, the first error found wins. */
enum valid_rank {
    RANK_IMPORTS, RANK_FUNC_TYPES, RANK_GLOBALS, RANK_TABLES, RANK_MEMORIES,
    RANK_ELEMS, RANK_DATAS, RANK_BODIES, RANK_START, RANK_EXPORTS,
    RANK_MEMORY_COUNT, RANK_NONE
};

/* The validator's growable stacks, kept across function bodies so that
 * validating a module allocates a handful of times, not per function. */
typedef struct valid_ctl valid_ctl;
typedef struct valid_stacks {
    uint8_t *vals;              /* operand stack: value types, 0 = unknown */
    uint32_t nvals, capvals;
    valid_ctl *ctls;            /* control stack */
    uint32_t nctls, capctls;
    uint8_t *kinds;             /* syntax-only walk: one block kind per level */
    uint32_t capkinds;
} valid_stacks;

typedef struct decode_ctx {
    struct lvm_module *m;
    decode_rd r;
    int pending_rank;           /* rank of `pending`, RANK_NONE if none */
    lvm_diag pending;           /* the invalid error to report, if any */
    uint8_t *refs;              /* bitset over functions: may ref.func name it
                                   in a body ("declared", spec C.refs)? */
    bool uses_data_index;       /* a body uses memory.init or data.drop */
    uint32_t datacount;         /* the data count section's value */
    size_t second_memory_at;    /* file offset of memory 1, if any */
    valid_stacks st;
} decode_ctx;

/* Record an invalid-module error (see the file comment); never fails. */
void decode_invalid(decode_ctx *c, int rank, lvm_err err, size_t offset, const char *fmt, ...) LVM_PRINTF(5, 6);
/* Same, from an error already formatted in a diag (a no-op if d->err is OK). */
void decode_invalid_diag(decode_ctx *c, int rank, const lvm_diag *d);
/* An invalid module that uses an unsupported proposal: decode_invalid with
 * the detail of decode_refuse. */
void decode_refuse_invalid(decode_ctx *c, int rank, lvm_err err, const uint8_t *at,
                           enum decode_proposal p, const char *what, ...) LVM_PRINTF(6, 7);
/* The same into a diag of its own (for valid_const_expr's err_out). */
void decode_refuse_diag(decode_rd *r, lvm_diag *d, lvm_err err, const uint8_t *at,
                        enum decode_proposal p, const char *what, ...) LVM_PRINTF(6, 7);

static inline bool refs_has(const decode_ctx *c, uint32_t f) { return (c->refs[f >> 3] >> (f & 7)) & 1; }
static inline void refs_add(decode_ctx *c, uint32_t f)
{
    if (f < c->m->nfuncs)
        c->refs[f >> 3] |= (uint8_t)(1u << (f & 7));
}

/* }====== */

/* {====== the validator (validate.c) */

/* Decode and validate the instructions of function `func` (a defined one),
 * starting at c->r.p (after the locals) and consuming its final `end`.
 * With `check` false, or once an error is recorded, only the syntax is
 * checked.  Returns malformed errors; records invalid ones. */
lvm_err valid_body(decode_ctx *c, uint32_t func, bool check);

/* Decode a constant expression of type `type` (and its `end`) into *out.
 * An invalid expression is described in *err_out (err_out->err != LVM_OK)
 * so the caller can report it in the reference's order.  Returns malformed
 * errors. */
lvm_err valid_const_expr(decode_ctx *c, uint8_t type, decode_const *out, lvm_diag *err_out);

void valid_free(valid_stacks *st);

/* }====== */

#endif
