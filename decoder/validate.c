/*
 * validate.c - decoding and validating function bodies and constant
 * expressions, in one pass over their bytes.
 *
 * The algorithm is the one of the spec's validation appendix ("Validation
 * Algorithm"): an operand stack of value types, where 0 stands for the
 * unknown type of the polymorphic stack after `unreachable`/`br`/..., and a
 * control stack with one frame per open block.  Each frame remembers the
 * operand stack height at its start and whether the rest of the block is
 * unreachable; popping below that height is an error in reachable code and
 * yields "unknown" in unreachable code.  Both stacks are arrays that grow by
 * doubling and are reused for every body of the module, so there is no
 * allocation per instruction and no recursion whose depth the input controls.
 *
 * Most instructions (about 150) are "simple": their operand types are the
 * param1/param2/result columns of opcodes.def, and the default case of the
 * big switch handles them all from decode_ops[].  Only control flow, locals,
 * globals, calls, references, tables and bulk memory are written by hand.
 *
 * When an instruction is invalid, the error is recorded (decode_invalid) and
 * the rest of the body is walked by skim(), which checks only the syntax:
 * the reference interpreter decodes everything before it validates anything,
 * so a malformed instruction later in the module must still win (see
 * internal.h).
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* An invalid instruction was recorded with decode_invalid: the walk switches
 * to skim().  Never returned to callers outside this file. */
#define INVALID LVM_ERR_COUNT

enum { KIND_FUNC, KIND_BLOCK, KIND_LOOP, KIND_IF, KIND_ELSE };

struct valid_ctl {
    const uint8_t *params, *results;    /* the block type */
    uint32_t nparams, nresults;
    uint32_t height;                    /* operand stack height at entry */
    uint8_t kind;                       /* KIND_* */
    bool unreachable;                   /* rest of the block is dead code */
};

/* {====== names of types, for messages */

static const char *type_name(uint8_t t)
{
    switch (t) {
    case LVM_I32: return "i32";
    case LVM_I64: return "i64";
    case LVM_F32: return "f32";
    case LVM_F64: return "f64";
    case LVM_V128: return "v128";
    case LVM_FUNCREF: return "funcref";
    case LVM_EXTERNREF: return "externref";
    default: return "nothing";
    }
}

/* A block type of a single result points into this table: self[t] == t. */
static const uint8_t self[256] = {
    [LVM_I32] = LVM_I32, [LVM_I64] = LVM_I64, [LVM_F32] = LVM_F32,
    [LVM_F64] = LVM_F64, [LVM_FUNCREF] = LVM_FUNCREF, [LVM_EXTERNREF] = LVM_EXTERNREF,
};

/* }====== */

/* {====== immediates shared by both walks */

/* The memory index of memory.size/grow/init/copy/fill: a zero byte in
 * Wasm 2.0, any index with multi-memory. */
static lvm_err read_memidx(decode_rd *r)
{
    const uint8_t *at = r->p;
    uint8_t b;
    TRY(rd_byte(r, &b));
    if (LVM_UNLIKELY(b != 0))
        return decode_refuse(r, LVM_ERR_ZERO_BYTE, at, PROPOSAL_MULTI_MEMORY, "memory index byte 0x%02x", b);
    return LVM_OK;
}

/* Multi-memory marks a memarg that names its memory by bit 6 of the
 * alignment, with the memory index after it.  Wasm 2.0 reads such an
 * alignment as too large (invalid), so lvm reports it as that, after
 * reading the index so that the rest of the body decodes as intended. */
#define MEMARG_HAS_MEMIDX(align) (((align) & 0x40) && (align) < 0x80)

/* A block type is 0x40 (no values), a value type (one result, encoded as a
 * one-byte negative s33), or a non-negative s33 type index.  *index_out is
 * -1 for the first two forms; *type_out is the single result type or 0. */
static lvm_err read_blocktype(decode_rd *r, int64_t *index_out, uint8_t *type_out)
{
    if (LVM_UNLIKELY(r->p >= r->end))
        return decode_eof(r);
    uint8_t b = *r->p;
    *index_out = -1;
    *type_out = 0;
    if (b == 0x40) {
        r->p++;
        return LVM_OK;
    }
    if ((b & 0xc0) == 0x40)
        return decode_valtype(r, type_out);
    TRY(decode_sleb(r, 33, index_out));
    if (*index_out < 0)         /* a multi-byte negative number: no such type */
        *index_out = INT64_MAX;
    return LVM_OK;
}

/* An opcode lvm does not know: "illegal opcode", naming the proposal it
 * belongs to if it is a later one.  `at` is the opcode's first byte, r->p
 * the byte after it.  The sub-opcode of a prefix is only peeked at (the
 * 2.0 decoder stops at the prefix byte, so must the error).  When lvm
 * implements SIMD, the 0xfd prefix moves into opcodes.def and its two
 * cases here go. */
static lvm_err illegal_op(decode_rd *r, const uint8_t *at)
{
    static const struct { uint8_t code; uint8_t proposal; const char *name; } ops[] = {
        { 0x06, PROPOSAL_EXCEPTIONS, "try" },
        { 0x07, PROPOSAL_EXCEPTIONS, "catch" },
        { 0x08, PROPOSAL_EXCEPTIONS, "throw" },
        { 0x09, PROPOSAL_EXCEPTIONS, "rethrow" },
        { 0x0a, PROPOSAL_EXCEPTIONS, "throw_ref" },
        { 0x18, PROPOSAL_EXCEPTIONS, "delegate" },
        { 0x19, PROPOSAL_EXCEPTIONS, "catch_all" },
        { 0x1f, PROPOSAL_EXCEPTIONS, "try_table" },
        { 0x12, PROPOSAL_TAIL_CALL, "return_call" },
        { 0x13, PROPOSAL_TAIL_CALL, "return_call_indirect" },
        { 0x14, PROPOSAL_FUNCTION_REFERENCES, "call_ref" },
        { 0x15, PROPOSAL_FUNCTION_REFERENCES, "return_call_ref" },
        { 0xd4, PROPOSAL_FUNCTION_REFERENCES, "ref.as_non_null" },
        { 0xd5, PROPOSAL_FUNCTION_REFERENCES, "br_on_null" },
        { 0xd6, PROPOSAL_FUNCTION_REFERENCES, "br_on_non_null" },
        { 0xd3, PROPOSAL_GC, "ref.eq" },
    };
    uint8_t b = *at;
    uint32_t sub = 0;
    if (b == 0xfb || b == 0xfd || b == 0xfe) {
        if (r->p >= r->end)
            return decode_fail(r, LVM_ERR_ILLEGAL_OPCODE, at, " 0x%02x", b);
        decode_reader peek = { r->p, r->end, r->file, 0 };
        sub = decode_read_u32_unchecked(&peek);
    }
    switch (b) {
    case 0xfb:
        return decode_refuse(r, LVM_ERR_ILLEGAL_OPCODE, at, PROPOSAL_GC, "instruction 0xfb %u", sub);
    case 0xfd:
        /* Relaxed SIMD took the sub-opcodes from 0x100 on. */
        if (sub >= 0x100 && sub <= 0x1ff)
            return decode_refuse(r, LVM_ERR_ILLEGAL_OPCODE, at, PROPOSAL_RELAXED_SIMD,
                                 "instruction 0xfd %u", sub);
        return decode_refuse(r, LVM_ERR_ILLEGAL_OPCODE, at, PROPOSAL_SIMD, "v128 instruction 0xfd %u", sub);
    case 0xfe:
        return decode_refuse(r, LVM_ERR_ILLEGAL_OPCODE, at, PROPOSAL_THREADS, "atomic instruction 0xfe %u", sub);
    }
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (ops[i].code == b)
            return decode_refuse(r, LVM_ERR_ILLEGAL_OPCODE, at, (enum decode_proposal)ops[i].proposal,
                                 "%s", ops[i].name);
    return decode_fail(r, LVM_ERR_ILLEGAL_OPCODE, at, " 0x%02x", b);
}

/* The opcode at r->p, after any 0xFC prefix; "illegal opcode" if none. */
static inline lvm_err read_op(decode_rd *r, uint16_t *op_out)
{
    const uint8_t *at = r->p;
    uint8_t b;
    *op_out = OP_COUNT;
    TRY(rd_byte(r, &b));
    uint16_t e;
    if (LVM_LIKELY(b != 0xfc)) {
        e = decode_lookup[0][b];
        if (LVM_UNLIKELY(!e))
            return illegal_op(r, at);
    } else {
        uint32_t sub;
        TRY(rd_u32(r, &sub));
        e = sub < 256 ? decode_lookup[1][sub] : 0;
        if (LVM_UNLIKELY(!e))
            return decode_fail(r, LVM_ERR_ILLEGAL_OPCODE, at, " 0xfc %u", sub);
    }
    *op_out = (uint16_t)(e - 1);
    return LVM_OK;
}

/* Step over the immediates of `op` (anything but block/loop/if), checking
 * their encoding only. */
static lvm_err skip_immediates(decode_ctx *c, uint16_t op)
{
    decode_rd *r = &c->r;
    uint32_t u, n;
    int32_t s;
    int64_t l;
    const uint8_t *bytes;
    uint8_t t;
    switch (decode_ops[op].imm) {
    case IMM_NONE:
        return LVM_OK;
    case IMM_DATA:
        c->uses_data_index = true;
        return rd_u32(r, &u);
    case IMM_LABEL: case IMM_FUNC: case IMM_LOCAL: case IMM_GLOBAL:
    case IMM_TABLE: case IMM_ELEM:
        return rd_u32(r, &u);
    case IMM_MEMARG:
        TRY(rd_u32(r, &u));
        if (MEMARG_HAS_MEMIDX(u))
            TRY(rd_u32(r, &n));
        return rd_u32(r, &u);
    case IMM_CALL_INDIRECT: case IMM_TABLE_INIT: case IMM_TABLE_COPY:
        TRY(rd_u32(r, &u));
        return rd_u32(r, &u);
    case IMM_BR_TABLE:
        TRY(rd_u32(r, &n));
        for (uint32_t i = 0; i < n; i++)
            TRY(rd_u32(r, &u));
        return rd_u32(r, &u);
    case IMM_MEMIDX:
        return read_memidx(r);
    case IMM_MEM_INIT:
        c->uses_data_index = true;
        TRY(rd_u32(r, &u));
        return read_memidx(r);
    case IMM_MEM_COPY:
        TRY(read_memidx(r));
        return read_memidx(r);
    case IMM_I32:
        return rd_s32(r, &s);
    case IMM_I64:
        return rd_s64(r, &l);
    case IMM_F32:
        return rd_bytes(r, 4, &bytes);
    case IMM_F64:
        return rd_bytes(r, 8, &bytes);
    case IMM_SELECT_T:
        TRY(rd_u32(r, &n));
        for (uint32_t i = 0; i < n; i++)
            TRY(decode_valtype(r, &t));
        return LVM_OK;
    case IMM_REFTYPE:
        return decode_reftype(r, &t);
    case IMM_BLOCK:
        break;
    }
    LVM_ASSERT(!"block immediates are read by the caller");
    return LVM_OK;
}

/* }====== */

/* {====== syntax-only walk */

static lvm_err grow_kinds(decode_ctx *c, uint32_t need)
{
    if (need <= c->st.capkinds)
        return LVM_OK;
    size_t cap = lvm_grow_cap(c->st.capkinds, need, 64, 1, UINT32_MAX);
    uint8_t *k = cap ? realloc(c->st.kinds, cap) : NULL;
    if (!k)
        return decode_fail(&c->r, LVM_ERR_NO_MEMORY, c->r.p, " (block nesting)");
    c->st.kinds = k;
    c->st.capkinds = (uint32_t)cap;
    return LVM_OK;
}

/* Walk instructions from c->r.p until the `end` that closes the outermost of
 * the nkinds open blocks whose kinds are in c->st.kinds, checking the
 * encoding only: this is the reference interpreter's decoder.  An `else`
 * anywhere but directly in an `if` ends the instruction sequence there, so
 * the decoder then wants an `end`: "END opcode expected". */
static lvm_err skim(decode_ctx *c, uint32_t nkinds)
{
    decode_rd *r = &c->r;
    for (;;) {
        const uint8_t *at = r->p;
        uint16_t op;
        TRY(read_op(r, &op));
        switch (op) {
        case OP_BLOCK: case OP_LOOP: case OP_IF: {
            int64_t index;
            uint8_t t;
            TRY(read_blocktype(r, &index, &t));
            TRY(grow_kinds(c, nkinds + 1));
            c->st.kinds[nkinds++] = op == OP_IF ? KIND_IF : KIND_BLOCK;
            break;
        }
        case OP_ELSE:
            if (c->st.kinds[nkinds - 1] != KIND_IF)
                return decode_fail(r, LVM_ERR_END_EXPECTED, at, " (else outside if)");
            c->st.kinds[nkinds - 1] = KIND_ELSE;
            break;
        case OP_END:
            if (--nkinds == 0)
                return LVM_OK;
            break;
        default:
            TRY(skip_immediates(c, op));
        }
    }
}

/* }====== */

/* {====== the validating walk */

typedef struct vstate {
    decode_ctx *c;
    const struct lvm_module *m;
    decode_rd *r;
    uint32_t func;              /* function index, for messages */
    const uint8_t *at;          /* first byte of the current instruction */
    uint16_t op;                /* the current instruction */
    const uint8_t *locals;
    uint32_t nlocals;
} vstate;

/* Record an invalid instruction and return INVALID. */
LVM_PRINTF(3, 4)
static lvm_err invalid(vstate *v, lvm_err err, const char *fmt, ...)
{
    char detail[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    decode_invalid(v->c, RANK_BODIES, err, rd_off(v->r, v->at), "%s in function %u at %s",
                   detail, v->func, decode_ops[v->op].text);
    return INVALID;
}

static lvm_err mismatch(vstate *v, uint8_t want, uint8_t got)
{
    return invalid(v, LVM_ERR_TYPE_MISMATCH, ": expected %s, got %s",
                   want ? type_name(want) : "a value", type_name(got));
}

static inline valid_ctl *top(vstate *v) { return &v->c->st.ctls[v->c->st.nctls - 1]; }

static lvm_err grow_vals(vstate *v, uint32_t need)
{
    valid_stacks *st = &v->c->st;
    uint32_t cap = st->capvals ? st->capvals : 256;
    while (cap < need) {
        if (cap > UINT32_MAX / 2)
            return decode_fail(v->r, LVM_ERR_NO_MEMORY, v->at, " (operand stack)");
        cap *= 2;
    }
    uint8_t *p = realloc(st->vals, cap);
    if (!p)
        return decode_fail(v->r, LVM_ERR_NO_MEMORY, v->at, " (operand stack)");
    st->vals = p;
    st->capvals = cap;
    return LVM_OK;
}

static inline lvm_err push(vstate *v, uint8_t t)
{
    valid_stacks *st = &v->c->st;
    if (LVM_UNLIKELY(st->nvals == st->capvals))
        TRY(grow_vals(v, st->nvals + 1));
    st->vals[st->nvals++] = t;
    return LVM_OK;
}

static lvm_err push_n(vstate *v, const uint8_t *types, uint32_t n)
{
    valid_stacks *st = &v->c->st;
    if (n == 0)
        return LVM_OK;
    if (LVM_UNLIKELY(n > st->capvals - st->nvals))
        TRY(grow_vals(v, st->nvals + n));
    memcpy(st->vals + st->nvals, types, n);
    st->nvals += n;
    return LVM_OK;
}

/* Pop one value that must have type `want` (0: any type); *got_out is its
 * type, 0 when it comes from the polymorphic bottom of unreachable code. */
static inline lvm_err pop(vstate *v, uint8_t want, uint8_t *got_out)
{
    valid_stacks *st = &v->c->st;
    valid_ctl *f = top(v);
    *got_out = 0;
    if (st->nvals == f->height) {
        if (LVM_LIKELY(f->unreachable))
            return LVM_OK;
        return mismatch(v, want, 0);
    }
    uint8_t got = st->vals[--st->nvals];
    if (LVM_UNLIKELY(got != want && got && want))
        return mismatch(v, want, got);
    *got_out = got;
    return LVM_OK;
}

static inline lvm_err pop_t(vstate *v, uint8_t want)
{
    uint8_t got;
    return pop(v, want, &got);
}

/* Pop values of types[0..n) (the last one is on top). */
static lvm_err pop_n(vstate *v, const uint8_t *types, uint32_t n)
{
    for (uint32_t i = n; i-- > 0;)
        TRY(pop_t(v, types[i]));
    return LVM_OK;
}

/* Check, without popping, that the top of the stack matches types[0..n):
 * what a branch to a label of those types needs. */
static lvm_err check_top(vstate *v, const uint8_t *types, uint32_t n)
{
    valid_stacks *st = &v->c->st;
    valid_ctl *f = top(v);
    uint32_t avail = st->nvals - f->height;
    for (uint32_t j = 0; j < n; j++) {
        uint8_t want = types[n - 1 - j];
        if (j >= avail) {
            if (!f->unreachable)
                return mismatch(v, want, 0);
            continue;
        }
        uint8_t got = st->vals[st->nvals - 1 - j];
        if (got != want && got)
            return mismatch(v, want, got);
    }
    return LVM_OK;
}

/* The end of a block: the stack must hold exactly its results. */
static lvm_err check_frame_end(vstate *v, const valid_ctl *f)
{
    TRY(check_top(v, f->results, f->nresults));
    uint32_t n = v->c->st.nvals - f->height;
    if (n > f->nresults)
        return invalid(v, LVM_ERR_TYPE_MISMATCH, ": %u values left on the stack, block has %u results",
                       n, f->nresults);
    return LVM_OK;
}

/* After br, return, unreachable...: the rest of the block is dead code. */
static inline void set_unreachable(vstate *v)
{
    valid_ctl *f = top(v);
    v->c->st.nvals = f->height;
    f->unreachable = true;
}

static lvm_err push_ctl(vstate *v, uint8_t kind, const uint8_t *params, uint32_t np,
                        const uint8_t *results, uint32_t nr)
{
    valid_stacks *st = &v->c->st;
    if (LVM_UNLIKELY(st->nctls == st->capctls)) {
        uint32_t cap = st->capctls ? st->capctls * 2 : 64;
        valid_ctl *p = cap > st->capctls ? realloc(st->ctls, (size_t)cap * sizeof *p) : NULL;
        if (!p)
            return decode_fail(v->r, LVM_ERR_NO_MEMORY, v->at, " (control stack)");
        st->ctls = p;
        st->capctls = cap;
    }
    valid_ctl *f = &st->ctls[st->nctls++];
    f->kind = kind;
    f->params = params;
    f->nparams = np;
    f->results = results;
    f->nresults = nr;
    f->height = st->nvals;
    f->unreachable = false;
    return push_n(v, params, np);
}

/* The types a branch to label `depth` carries. */
static inline void label_types(vstate *v, uint32_t depth, const uint8_t **types, uint32_t *n)
{
    const valid_ctl *f = &v->c->st.ctls[v->c->st.nctls - 1 - depth];
    if (f->kind == KIND_LOOP) {
        *types = f->params;
        *n = f->nparams;
    } else {
        *types = f->results;
        *n = f->nresults;
    }
}

static lvm_err read_label(vstate *v, uint32_t *depth_out)
{
    TRY(rd_u32(v->r, depth_out));
    if (*depth_out >= v->c->st.nctls)
        return invalid(v, LVM_ERR_UNKNOWN_LABEL, " %u", *depth_out);
    return LVM_OK;
}

static lvm_err read_func(vstate *v, uint32_t *f_out)
{
    TRY(rd_u32(v->r, f_out));
    if (*f_out >= v->m->nfuncs)
        return invalid(v, LVM_ERR_UNKNOWN_FUNC, " %u", *f_out);
    return LVM_OK;
}

static lvm_err read_table(vstate *v, uint32_t *t_out)
{
    TRY(rd_u32(v->r, t_out));
    if (*t_out >= v->m->ntables)
        return invalid(v, LVM_ERR_UNKNOWN_TABLE, " %u", *t_out);
    return LVM_OK;
}

static lvm_err read_elem(vstate *v, uint32_t *e_out)
{
    TRY(rd_u32(v->r, e_out));
    if (*e_out >= v->m->nelems)
        return invalid(v, LVM_ERR_UNKNOWN_ELEM, " %u", *e_out);
    return LVM_OK;
}

static lvm_err need_memory(vstate *v)
{
    if (v->m->nmemories == 0)
        return invalid(v, LVM_ERR_UNKNOWN_MEMORY, " 0");
    return LVM_OK;
}

static lvm_err check_data(vstate *v, uint32_t d)
{
    v->c->uses_data_index = true;
    /* Without a data count section the module is malformed anyway ("data
     * count section required", reported when the module has been read). */
    if (!v->m->has_datacount || d >= v->c->datacount)
        return invalid(v, LVM_ERR_UNKNOWN_DATA, " %u", d);
    return LVM_OK;
}

/* The instructions of block/loop/if, after the opcode. */
static lvm_err do_block(vstate *v)
{
    int64_t index;
    uint8_t t;
    TRY(read_blocktype(v->r, &index, &t));
    const uint8_t *params = NULL, *results = NULL;
    uint32_t np = 0, nr = 0;
    if (index >= 0) {
        if ((uint64_t)index >= v->m->ntypes)
            return invalid(v, LVM_ERR_UNKNOWN_TYPE, " %lld", (long long)index);
        const lvm_functype *ft = &v->m->types[index];
        params = ft->types;
        np = ft->nparams;
        results = ft->types + ft->nparams;
        nr = ft->nresults;
    } else if (t) {
        results = &self[t];
        nr = 1;
    }
    if (v->op == OP_IF)
        TRY(pop_t(v, LVM_I32));
    TRY(pop_n(v, params, np));
    return push_ctl(v, v->op == OP_LOOP ? KIND_LOOP : v->op == OP_IF ? KIND_IF : KIND_BLOCK,
                    params, np, results, nr);
}

static lvm_err do_br_table(vstate *v)
{
    decode_rd *r = v->r;
    uint32_t n, l, def;
    TRY(rd_u32(r, &n));
    const uint8_t *targets = r->p;
    for (uint32_t i = 0; i < n; i++)
        TRY(rd_u32(r, &l));
    TRY(read_label(v, &def));
    TRY(pop_t(v, LVM_I32));
    const uint8_t *types;
    uint32_t arity;
    label_types(v, def, &types, &arity);
    /* Walk the targets again; their encoding has just been checked. */
    decode_reader again = { targets, r->p, targets, 0 };
    for (uint32_t i = 0; i < n; i++) {
        l = decode_read_u32_unchecked(&again);
        if (l >= v->c->st.nctls)
            return invalid(v, LVM_ERR_UNKNOWN_LABEL, " %u", l);
        const uint8_t *lt;
        uint32_t ln;
        label_types(v, l, &lt, &ln);
        if (ln != arity)
            return invalid(v, LVM_ERR_TYPE_MISMATCH, ": label %u carries %u values, the default %u",
                           l, ln, arity);
        TRY(check_top(v, lt, ln));
    }
    TRY(check_top(v, types, arity));
    set_unreachable(v);
    return LVM_OK;
}

static lvm_err do_call(vstate *v, const lvm_functype *ft)
{
    TRY(pop_n(v, ft->types, ft->nparams));
    return push_n(v, ft->types + ft->nparams, ft->nresults);
}

/* select without types: both operands numeric (or unknown) and equal. */
static lvm_err do_select(vstate *v)
{
    uint8_t t1, t2;
    TRY(pop_t(v, LVM_I32));
    TRY(pop(v, 0, &t1));
    TRY(pop(v, 0, &t2));
    if (lvm_is_reftype(t1) || lvm_is_reftype(t2))
        return invalid(v, LVM_ERR_TYPE_MISMATCH, ": select without a type needs numeric operands");
    if (t1 != t2 && t1 && t2)
        return mismatch(v, t1, t2);
    return push(v, t1 ? t1 : t2);
}

/* Memory access immediates: align (log2) and offset. */
static lvm_err do_memarg(vstate *v, unsigned msize)
{
    uint32_t align, offset, memidx;
    TRY(rd_u32(v->r, &align));
    if (MEMARG_HAS_MEMIDX(align)) {
        TRY(rd_u32(v->r, &memidx));
        TRY(rd_u32(v->r, &offset));
        decode_refuse_invalid(v->c, RANK_BODIES, LVM_ERR_ALIGNMENT, v->at, PROPOSAL_MULTI_MEMORY,
                              "%s of memory %u", decode_ops[v->op].text, memidx);
        return INVALID;
    }
    TRY(rd_u32(v->r, &offset));
    TRY(need_memory(v));
    if (align >= 32 || (1u << align) > msize)
        return invalid(v, LVM_ERR_ALIGNMENT, " (2^%u > %u)", align, msize);
    return LVM_OK;
}

/* Everything but the simple instructions.  Returns LVM_OK, INVALID, or a
 * malformed error. */
static lvm_err special(vstate *v)
{
    decode_rd *r = v->r;
    const struct lvm_module *m = v->m;
    uint32_t x, y;
    uint8_t t;
    switch (v->op) {
    case OP_UNREACHABLE:
        set_unreachable(v);
        return LVM_OK;
    case OP_NOP:
        return LVM_OK;
    case OP_BLOCK: case OP_LOOP: case OP_IF:
        return do_block(v);
    case OP_ELSE: {
        valid_ctl *f = top(v);
        if (f->kind != KIND_IF)
            return decode_fail(r, LVM_ERR_END_EXPECTED, v->at, " (else outside if)");
        TRY(check_frame_end(v, f));
        f->kind = KIND_ELSE;
        f->unreachable = false;
        v->c->st.nvals = f->height;
        return push_n(v, f->params, f->nparams);
    }
    case OP_END: {
        valid_ctl *f = top(v);
        TRY(check_frame_end(v, f));
        /* An if without else has an empty else branch, which passes its
         * params through: they must be its results. */
        if (f->kind == KIND_IF && (f->nparams != f->nresults ||
                                   (f->nparams && memcmp(f->params, f->results, f->nparams) != 0)))
            return invalid(v, LVM_ERR_TYPE_MISMATCH, ": if without else must have results equal to its params");
        v->c->st.nctls--;
        v->c->st.nvals = f->height;
        return push_n(v, f->results, f->nresults);
    }
    case OP_BR: {
        const uint8_t *types;
        uint32_t n;
        TRY(read_label(v, &x));
        label_types(v, x, &types, &n);
        TRY(check_top(v, types, n));
        set_unreachable(v);
        return LVM_OK;
    }
    case OP_BR_IF: {
        const uint8_t *types;
        uint32_t n;
        TRY(read_label(v, &x));
        TRY(pop_t(v, LVM_I32));
        label_types(v, x, &types, &n);
        /* pop_vals then push_vals: check, then the values take the label's
         * types (which refines unknown ones). */
        TRY(pop_n(v, types, n));
        return push_n(v, types, n);
    }
    case OP_BR_TABLE:
        return do_br_table(v);
    case OP_RETURN: {
        const valid_ctl *f = &v->c->st.ctls[0];
        TRY(check_top(v, f->results, f->nresults));
        set_unreachable(v);
        return LVM_OK;
    }
    case OP_CALL:
        TRY(read_func(v, &x));
        return do_call(v, &m->types[m->funcs[x].type]);
    case OP_CALL_INDIRECT:
        TRY(rd_u32(r, &y));
        TRY(read_table(v, &x));
        if (y >= m->ntypes)
            return invalid(v, LVM_ERR_UNKNOWN_TYPE, " %u", y);
        if (m->tables[x].elemtype != LVM_FUNCREF)
            return invalid(v, LVM_ERR_TYPE_MISMATCH, ": call_indirect needs a funcref table");
        TRY(pop_t(v, LVM_I32));
        return do_call(v, &m->types[y]);
    case OP_DROP:
        return pop(v, 0, &t);
    case OP_SELECT:
        return do_select(v);
    case OP_SELECT_T: {
        uint32_t n;
        uint8_t first = 0;
        TRY(rd_u32(r, &n));
        for (uint32_t i = 0; i < n; i++) {
            TRY(decode_valtype(r, &t));
            if (i == 0)
                first = t;
        }
        if (n != 1)
            return invalid(v, LVM_ERR_RESULT_ARITY, " (select has %u types)", n);
        TRY(pop_t(v, LVM_I32));
        TRY(pop_t(v, first));
        TRY(pop_t(v, first));
        return push(v, first);
    }
    case OP_LOCAL_GET: case OP_LOCAL_SET: case OP_LOCAL_TEE:
        TRY(rd_u32(r, &x));
        if (x >= v->nlocals)
            return invalid(v, LVM_ERR_UNKNOWN_LOCAL, " %u", x);
        t = v->locals[x];
        if (v->op == OP_LOCAL_GET)
            return push(v, t);
        TRY(pop_t(v, t));
        return v->op == OP_LOCAL_TEE ? push(v, t) : LVM_OK;
    case OP_GLOBAL_GET: case OP_GLOBAL_SET:
        TRY(rd_u32(r, &x));
        if (x >= m->nglobals)
            return invalid(v, LVM_ERR_UNKNOWN_GLOBAL, " %u", x);
        t = m->globals[x].type;
        if (v->op == OP_GLOBAL_GET)
            return push(v, t);
        if (!m->globals[x].mutable_)
            return invalid(v, LVM_ERR_GLOBAL_IMMUTABLE, " (global %u)", x);
        return pop_t(v, t);
    case OP_TABLE_GET:
        TRY(read_table(v, &x));
        TRY(pop_t(v, LVM_I32));
        return push(v, m->tables[x].elemtype);
    case OP_TABLE_SET:
        TRY(read_table(v, &x));
        TRY(pop_t(v, m->tables[x].elemtype));
        return pop_t(v, LVM_I32);
    case OP_REF_NULL:
        TRY(decode_reftype(r, &t));
        return push(v, t);
    case OP_REF_IS_NULL:
        TRY(pop(v, 0, &t));
        if (t && !lvm_is_reftype(t))
            return invalid(v, LVM_ERR_TYPE_MISMATCH, ": expected a reference, got %s", type_name(t));
        return push(v, LVM_I32);
    case OP_REF_FUNC:
        TRY(read_func(v, &x));
        if (!refs_has(v->c, x))
            return invalid(v, LVM_ERR_UNDECLARED_FUNC_REF, " %u", x);
        return push(v, LVM_FUNCREF);
    case OP_MEMORY_INIT:
        TRY(rd_u32(r, &x));
        TRY(read_memidx(r));
        TRY(need_memory(v));
        TRY(check_data(v, x));
        goto pop3;
    case OP_DATA_DROP:
        TRY(rd_u32(r, &x));
        return check_data(v, x);
    case OP_MEMORY_COPY:
        TRY(read_memidx(r));
        TRY(read_memidx(r));
        TRY(need_memory(v));
        goto pop3;
    case OP_MEMORY_FILL:
        TRY(read_memidx(r));
        TRY(need_memory(v));
        goto pop3;
    case OP_TABLE_INIT: {
        uint32_t e;
        TRY(rd_u32(r, &e));
        TRY(read_table(v, &x));
        if (e >= m->nelems)
            return invalid(v, LVM_ERR_UNKNOWN_ELEM, " %u", e);
        if (m->elems[e].elemtype != m->tables[x].elemtype)
            return invalid(v, LVM_ERR_TYPE_MISMATCH, ": element segment %u does not fit table %u", e, x);
        goto pop3;
    }
    case OP_ELEM_DROP:
        return read_elem(v, &x);
    case OP_TABLE_COPY:
        TRY(read_table(v, &x));
        TRY(read_table(v, &y));
        if (m->tables[x].elemtype != m->tables[y].elemtype)
            return invalid(v, LVM_ERR_TYPE_MISMATCH, ": tables %u and %u hold different types", x, y);
        goto pop3;
    case OP_TABLE_GROW:
        TRY(read_table(v, &x));
        TRY(pop_t(v, LVM_I32));
        TRY(pop_t(v, m->tables[x].elemtype));
        return push(v, LVM_I32);
    case OP_TABLE_SIZE:
        TRY(read_table(v, &x));
        return push(v, LVM_I32);
    case OP_TABLE_FILL:
        TRY(read_table(v, &x));
        TRY(pop_t(v, LVM_I32));
        TRY(pop_t(v, m->tables[x].elemtype));
        return pop_t(v, LVM_I32);
    default:
        LVM_ASSERT(!"every X row of opcodes.def has a case");
        return LVM_OK;
    }
pop3:
    /* memory.init/copy/fill and table.init/copy: three i32 operands (the
     * fill value of memory.fill is an i32 too). */
    TRY(pop_t(v, LVM_I32));
    TRY(pop_t(v, LVM_I32));
    return pop_t(v, LVM_I32);
}

/* A simple instruction: immediates per decode_ops[].imm, then pop param2,
 * pop param1, push result. */
static inline lvm_err simple(vstate *v, const decode_opinfo *info)
{
    decode_rd *r = v->r;
    switch (info->imm) {
    case IMM_NONE:
        break;
    case IMM_MEMARG:
        TRY(do_memarg(v, info->msize));
        break;
    case IMM_MEMIDX:
        TRY(read_memidx(r));
        TRY(need_memory(v));
        break;
    default:
        TRY(skip_immediates(v->c, v->op));
    }
    valid_stacks *st = &v->c->st;
    const valid_ctl *f = top(v);
    /* Fast path: reachable code with the operands already there. */
    uint32_t nparams = (info->p1 != 0) + (info->p2 != 0);
    if (LVM_LIKELY(st->nvals - f->height >= nparams)) {
        if (info->p2) {
            if (LVM_UNLIKELY(st->vals[st->nvals - 1] != info->p2 || st->vals[st->nvals - 2] != info->p1))
                goto slow;
            st->nvals -= 2;
        } else if (info->p1) {
            if (LVM_UNLIKELY(st->vals[st->nvals - 1] != info->p1))
                goto slow;
            st->nvals -= 1;
        }
        return info->result ? push(v, info->result) : LVM_OK;
    }
slow:
    if (info->p2)
        TRY(pop_t(v, info->p2));
    if (info->p1)
        TRY(pop_t(v, info->p1));
    return info->result ? push(v, info->result) : LVM_OK;
}

/* The validating walk of one body.  Returns LVM_OK after the final `end`,
 * INVALID (c->r is then just after the bad instruction's opcode or
 * immediates; the caller restarts at v->at), or a malformed error. */
static lvm_err walk(vstate *v)
{
    decode_rd *r = v->r;
    for (;;) {
        v->at = r->p;
        TRY(read_op(r, &v->op));
        const decode_opinfo *info = &decode_ops[v->op];
        if (LVM_LIKELY(info->result != DECODE_SPECIAL)) {
            TRY(simple(v, info));
        } else {
            TRY(special(v));
            if (v->op == OP_END && v->c->st.nctls == 0)
                return LVM_OK;
        }
    }
}

lvm_err valid_body(decode_ctx *c, uint32_t func, bool check)
{
    struct lvm_module *m = c->m;
    valid_stacks *st = &c->st;
    if (!check || c->pending_rank <= RANK_BODIES) {
        TRY(grow_kinds(c, 1));
        st->kinds[0] = KIND_FUNC;
        return skim(c, 1);
    }
    const decode_func *fn = &m->funcs[func];
    const lvm_functype *ft = &m->types[fn->type];
    vstate v = {
        .c = c, .m = m, .r = &c->r, .func = func, .at = c->r.p, .op = OP_BLOCK,
        .locals = fn->local_types, .nlocals = fn->nlocals,
    };
    st->nvals = 0;
    st->nctls = 0;
    TRY(push_ctl(&v, KIND_FUNC, NULL, 0, ft->types + ft->nparams, ft->nresults));
    lvm_err e = walk(&v);
    if (e != INVALID)
        return e;
    /* Re-read the bad instruction and the rest of the body for syntax only,
     * with the blocks that were open before it. */
    c->r.p = v.at;
    TRY(grow_kinds(c, st->nctls));
    for (uint32_t i = 0; i < st->nctls; i++)
        st->kinds[i] = st->ctls[i].kind;
    return skim(c, st->nctls);
}

void valid_free(valid_stacks *st)
{
    free(st->vals);
    free(st->ctls);
    free(st->kinds);
    memset(st, 0, sizeof *st);
}

/* }====== */

/* {====== constant expressions */

/* Wasm 2.0 constant expressions: t.const, ref.null, ref.func, and
 * global.get of an immutable imported global (the only globals in scope
 * while globals are being defined).  The reference decodes a constant
 * expression as an ordinary instruction sequence and then checks, in this
 * order: that every instruction is constant, that the sequence has type
 * [] -> [type].  A valid one is therefore exactly one instruction. */
lvm_err valid_const_expr(decode_ctx *c, uint8_t type, decode_const *out, lvm_diag *err_out)
{
    decode_rd *r = &c->r;
    const struct lvm_module *m = c->m;
    lvm_diag const_err = { .err = LVM_OK }, type_err = { .err = LVM_OK };
    uint32_t count = 0;
    uint8_t got = 0;
    out->op = OP_COUNT;
    out->value = 0;
    err_out->err = LVM_OK;
    for (;;) {
        const uint8_t *at = r->p;
        uint16_t op;
        uint8_t t = 0;
        uint64_t value = 0;
        TRY(read_op(r, &op));
        if (op == OP_END)
            break;
        switch (op) {
        case OP_I32_CONST: {
            int32_t s;
            TRY(rd_s32(r, &s));
            value = (uint32_t)s;
            t = LVM_I32;
            break;
        }
        case OP_I64_CONST: {
            int64_t s;
            TRY(rd_s64(r, &s));
            value = (uint64_t)s;
            t = LVM_I64;
            break;
        }
        case OP_F32_CONST: case OP_F64_CONST: {
            const uint8_t *b;
            unsigned n = op == OP_F32_CONST ? 4 : 8;
            TRY(rd_bytes(r, n, &b));
            for (unsigned i = 0; i < n; i++)
                value |= (uint64_t)b[i] << (8 * i);
            t = op == OP_F32_CONST ? LVM_F32 : LVM_F64;
            break;
        }
        case OP_REF_NULL:
            TRY(decode_reftype(r, &t));
            value = t;
            break;
        case OP_REF_FUNC: {
            uint32_t f;
            TRY(rd_u32(r, &f));
            refs_add(c, f);
            if (f >= m->nfuncs && !type_err.err)
                lvm_diag_set(&type_err, LVM_ERR_UNKNOWN_FUNC, rd_off(r, at), " %u", f);
            value = f;
            t = LVM_FUNCREF;
            break;
        }
        case OP_GLOBAL_GET: {
            uint32_t g;
            TRY(rd_u32(r, &g));
            if (const_err.err) {
                /* already not constant */
            } else if (g >= m->nimported_globals) {
                lvm_diag_set(&const_err, LVM_ERR_UNKNOWN_GLOBAL, rd_off(r, at),
                             " %u (only imported globals are in scope here)", g);
            } else if (m->globals[g].mutable_) {
                lvm_diag_set(&const_err, LVM_ERR_CONST_EXPR, rd_off(r, at),
                             " (global.get of mutable global %u)", g);
            }
            if (g < m->nglobals)
                t = m->globals[g].type;
            value = g;
            break;
        }
        default:
            /* Not constant; the rest only needs to be well-formed. */
            if (const_err.err) {
                /* already not constant */
            } else if (op == OP_I32_ADD || op == OP_I32_SUB || op == OP_I32_MUL ||
                       op == OP_I64_ADD || op == OP_I64_SUB || op == OP_I64_MUL) {
                decode_refuse_diag(r, &const_err, LVM_ERR_CONST_EXPR, at, PROPOSAL_EXTENDED_CONST,
                                   "%s", decode_ops[op].text);
            } else {
                lvm_diag_set(&const_err, LVM_ERR_CONST_EXPR, rd_off(r, at), " (%s)", decode_ops[op].text);
            }
            r->p = at;
            TRY(grow_kinds(c, 1));
            c->st.kinds[0] = KIND_FUNC;
            TRY(skim(c, 1));
            goto done;
        }
        if (++count == 1) {
            out->op = op;
            out->value = value;
            got = t;
        }
    }
done:
    if (const_err.err)
        *err_out = const_err;
    else if (type_err.err)
        *err_out = type_err;
    else if (count != 1)
        lvm_diag_set(err_out, LVM_ERR_TYPE_MISMATCH, rd_off(r, r->p - 1),
                     ": constant expression produces %u values, expected one %s", count, type_name(type));
    else if (got != type)
        lvm_diag_set(err_out, LVM_ERR_TYPE_MISMATCH, rd_off(r, r->p - 1),
                     ": constant expression of type %s, expected %s", type_name(got), type_name(type));
    return LVM_OK;
}

/* }====== */

/* {====== readers for validated code (exec/lower.c) */

/* These trust the encoding (it has been validated) but still never read
 * past r->end: a bad input yields a wrong number, not a crash. */

static uint64_t read_leb_unchecked(decode_reader *r, bool sign)
{
    uint64_t result = 0;
    unsigned shift = 0;
    uint8_t b = 0x80;
    while (r->p < r->end && (b & 0x80)) {
        b = *r->p++;
        if (shift < 64)
            result |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    }
    if (sign && shift < 64 && (b & 0x40))
        result |= ~(uint64_t)0 << shift;
    return result;
}

uint32_t decode_read_u32_unchecked(decode_reader *r)
{
    if (LVM_LIKELY(r->p < r->end && *r->p < 0x80))
        return *r->p++;
    return (uint32_t)read_leb_unchecked(r, false);
}

int32_t decode_read_s32_unchecked(decode_reader *r)
{
    return (int32_t)(uint32_t)read_leb_unchecked(r, true);
}

int64_t decode_read_s64_unchecked(decode_reader *r)
{
    return (int64_t)read_leb_unchecked(r, true);
}

int64_t decode_read_s33_unchecked(decode_reader *r)
{
    return (int64_t)read_leb_unchecked(r, true);
}

/* }====== */
