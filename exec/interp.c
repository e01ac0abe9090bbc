/*
 * interp.c - the dispatch loop: runs lowered code (see exec.h, lower.c).
 *
 * One function, exec_run, holds every handler so the compiler can keep the
 * interpreter's state in registers across all of them:
 *
 *   pc       the current instruction (cells)
 *   fp       the current frame's slot 0
 *   mem/memsize   memory 0's base and byte size (reloaded after anything
 *            that can grow memory: memory.grow and calls)
 *   wlo/wspan     the part of memory 0 written so far (see lvm_memory):
 *            stores check against it instead of memsize, and one outside
 *            it widens it on the slow path, so that recycling a memory
 *            zeroes only what its process wrote
 *   inst, fn the running function and its instance
 *   reds     the reduction budget left in this slice
 *
 * Each handler is written once between CASE(NAME) and NEXT(n), where n is
 * the instruction's length in cells.  With LVM_THREADED=1 (the default) the
 * handler word in the code is the address of the handler's label and
 * NEXT jumps straight to the next one (direct threading, computed goto);
 * with LVM_THREADED=0 it is the op number and NEXT goes back to a switch.
 * The switch build is the reference for reading and debugging.
 *
 * Operand notation in the comments: [op][a][b]... lists the cells after the
 * two-cell handler word; slots are frame slot numbers.
 *
 * Traps jump to `trap`, which records a backtrace and unwinds the thread
 * (or, inside a caught call, only to the catch: lvm_hostcall_catch): no
 * longjmp, no C recursion, so a trap never leaves the C stack dirty.
 */
#include "exec.h"
#include "numeric.h"

#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lvm's memory access assumes a little-endian host"
#endif

#ifndef LVM_THREADED
#define LVM_THREADED 1
#endif

static const char *const op_names[XOP_COUNT] = {
#define OP(name, prefix, code, imm, p1, p2, r, msize, text) text,
#include "../decoder/opcodes.def"
#undef OP
#define XOP(name, text) text,
#include "xops.def"
#undef XOP
};

const char *exec_op_name(enum exec_op op)
{
    return (unsigned)op < XOP_COUNT ? op_names[op] : "?";
}

#if LVM_THREADED
/* Filled by the first call of exec_run(NULL) with the label addresses. */
static void *const *handler_labels;
#endif

uint64_t exec_handler(enum exec_op op)
{
#if LVM_THREADED
    if (!__atomic_load_n(&handler_labels, __ATOMIC_ACQUIRE))
        (void)exec_run(NULL);
    return (uint64_t)(uintptr_t)handler_labels[op];
#else
    return (uint64_t)op;
#endif
}

static inline uint64_t load_word(const uint32_t *pc)
{
    uint64_t w;
    memcpy(&w, pc, 8);
    return w;
}

/* Make room for `need` slots from slot offset `from` of the value stack.
 * Returns false at the configured limit.  Frames store offsets, so only
 * the caller's live pointers need rebasing (done by the caller). */
static bool grow_stack(lvm_thread *t, size_t from, size_t need)
{
    size_t cur = (size_t)(t->stack_end - t->stack);
    size_t want = from + need;
    if (want > t->max_slots)
        return false;
    size_t cap = cur ? cur : 256;
    while (cap < want)
        cap *= 2;
    if (cap > t->max_slots)
        cap = t->max_slots;
    lvm_val *s = exec_grow(t->stack, t->stack0, cur, cap, sizeof *s);
    if (!s)
        return false;
    t->stack = s;
    t->stack_end = s + cap;
    return true;
}

static bool grow_catches(lvm_thread *t)
{
    uint32_t cap = t->catch_cap ? t->catch_cap * 2 : 4;
    exec_catch *c = realloc(t->catches, (size_t)cap * sizeof *c);
    if (!c)
        return false;
    t->catches = c;
    t->catch_cap = cap;
    return true;
}

/* Fuel.  A limited thread's slice starts with the smaller of its slice and
 * its fuel as the budget (exec_run), and every return from exec_run
 * charges what the slice spent: the budget less what is left of it.
 * Rejected: a second counter decremented beside `reds` at every charge
 * point, which an unlimited thread (nearly all of them) would pay for on
 * every call and back-edge; this way it pays one test per slice.  `left`
 * is what is really left of the budget, -1 when a bulk piece overspent
 * it by its one allowed reduction (BULK_PIECE); fuel stops at 0.  A
 * charge leaves slice_budget at `left`, so charging twice (a yield that
 * turns into the fuel trap) counts once. */
static void charge_fuel(lvm_thread *t, int32_t left)
{
    int64_t spent = (int64_t)t->slice_budget - left;
    t->fuel = (uint64_t)spent < t->fuel ? t->fuel - (uint64_t)spent : 0;
    t->slice_budget = left;
}

static bool grow_frames(lvm_thread *t)
{
    uint32_t cap = t->frames_cap ? t->frames_cap * 2 : 16;
    if (cap > t->max_depth + 1)
        cap = t->max_depth + 1;
    exec_frame *f = exec_grow(t->frames, t->frames0, t->frames_cap, cap, sizeof *f);
    if (!f)
        return false;
    t->frames = f;
    t->frames_cap = cap;
    return true;
}

/* The value of element segment item `i` (a constant expression). */
static lvm_val elem_item(lvm_instance *inst, const decode_const *c)
{
    lvm_val v;
    v.bits = 0;
    if (c->op == OP_REF_FUNC)
        v.ref = inst->funcs[c->value];
    else if (c->op == OP_GLOBAL_GET)
        v = inst->globals[c->value]->val;
    return v;
}

/* {====== the loop */

#if LVM_THREADED
#define CASE(name)      L_##name:
#define DISPATCH()      goto *(void *)(uintptr_t)load_word(pc)
#else
#define CASE(name)      case XOP_##name:
#define DISPATCH()      goto dispatch
#endif
#define NEXT(n)         do { pc += (n); DISPATCH(); } while (0)
#define TRAP(code)      do { err = LVM_ERR_TRAP_##code; goto trap; } while (0)
#define CHARGE_FUEL()   do { if (LVM_UNLIKELY(t->fuel_limited)) charge_fuel(t, reds); } while (0)

/* Operand i (0-based, after the handler word) as a slot or raw cell. */
#define CELL(i)         (pc[2 + (i)])
#define SLOT(i)         (fp[CELL(i)])
#define I32(i)          (SLOT(i).i32)
#define I64(i)          (SLOT(i).i64)
#define F32(i)          (SLOT(i).f32)
#define F64(i)          (SLOT(i).f64)
/* Results are written as whole 64-bit slots (zero-extended for 32-bit
 * types): a later 64-bit COPY of the slot then forwards from one store. */
#define PUT_I32(v)      (SLOT(0).i64 = (uint32_t)(v))
#define PUT_I64(v)      (SLOT(0).i64 = (uint64_t)(v))
#define PUT_F32(v)      (SLOT(0).i64 = f32_bits(v))
#define PUT_F64(v)      (SLOT(0).f64 = (v))

#define LOAD_MEM() \
    do { lvm_memory *m0_ = inst->mem0; mem = m0_->data; memsize = m0_->size; \
         wlo = m0_->wlo; wspan = m0_->wspan; } while (0)
/* Before a store of n bytes at ea: inside the written range, go on (one
 * subtract and compare, like a plain bounds check); else trap if out of
 * bounds, or widen the range. */
#define CHECK_STORE(ea, n) \
    do { if (LVM_UNLIKELY((ea) - wlo > wspan)) { \
             if ((ea) + (n) > memsize) TRAP(MEMORY_OOB); \
             lvm_memory_written(inst->mem0, (ea), (n)); \
             wlo = inst->mem0->wlo; wspan = inst->mem0->wspan; } } while (0)

/* [op][dst][a]        dst = expr(a) */
#define UNOP(name, T, GET, PUT, expr) \
    CASE(name) { T a = GET(1); PUT(expr); NEXT(4); }
/* [op][dst][a][b]     dst = expr(a, b) */
#define BINOP(name, T, GET, PUT, expr) \
    CASE(name) { T a = GET(1), b = GET(2); PUT(expr); NEXT(5); }

/* Float ops whose NaN results become the canonical NaN (numeric.h says
 * why).  The result is stored first and replaced after, on a branch that
 * ordinary code never takes, so the check stays off the result's
 * dependency chain: the select form `r == r ? r : nan`, which compilers
 * turn into a cmov between the op and its store, cost 20% on the float
 * workload of bench/interp. */
#define FUNOP(name, T, GET, TR, PUT, NAN_BITS, expr) \
    CASE(name) { T a = GET(1); TR r = (expr); PUT(r); \
                 if (LVM_UNLIKELY(r != r)) { SLOT(0).i64 = (NAN_BITS); } NEXT(4); }
#define FBINOP(name, T, GET, PUT, NAN_BITS, expr) \
    CASE(name) { T a = GET(1), b = GET(2); T r = (expr); PUT(r); \
                 if (LVM_UNLIKELY(r != r)) { SLOT(0).i64 = (NAN_BITS); } NEXT(5); }

/* [op][dst][addr][offset]   dst = memory[addr + offset] */
#define LOAD(name, T, PUT, conv) \
    CASE(name) { \
        uint64_t ea = (uint64_t)I32(1) + CELL(2); \
        if (LVM_UNLIKELY(ea + sizeof(T) > memsize)) TRAP(MEMORY_OOB); \
        T v; memcpy(&v, mem + ea, sizeof v); PUT(conv v); NEXT(5); }
/* [op][addr][value][offset]  memory[addr + offset] = value */
#define STORE(name, T, GET) \
    CASE(name) { \
        uint64_t ea = (uint64_t)I32(0) + CELL(2); \
        CHECK_STORE(ea, sizeof(T)); \
        T v = (T)GET(1); memcpy(mem + ea, &v, sizeof v); NEXT(5); }

/* Trapping float-to-int: NaN is "invalid conversion", out of range
 * "integer overflow". */
#define TRUNC(name, GET, PUT, FITS, T) \
    CASE(name) { \
        __typeof__(GET(1)) x = GET(1); \
        if (LVM_UNLIKELY(isnan(x))) TRAP(INVALID_CONV); \
        if (LVM_UNLIKELY(!FITS(x))) TRAP(INT_OVERFLOW); \
        PUT((T)x); NEXT(4); }

/* Bulk instructions: memory.fill/copy/init, table.fill/copy/init.
 *
 * They are charged one reduction per BULK_BYTES bytes (a table element as
 * its 8 bytes), about what a loop iteration costs: measured on x86-64, an
 * add-and-branch loop takes 2.6 ns an iteration and memory.fill 0.05 ns a
 * byte (20 GB/s, pages already present), so 64 bytes.  Before, a 1 GiB
 * memory.fill cost one reduction and held its worker for 50 ms or more
 * (four times that while its pages are faulted in).  A range the budget left cannot pay for is done in pieces: the
 * piece it pays for, then a yield with the progress in t->bulk_done.  The
 * yield leaves pc on the instruction, so the resumed slice re-runs it: it
 * checks the bounds again (with the same result: nothing else touches a
 * process's memory and tables while it is paused) and goes on after the
 * part done.  The bounds check covers the whole range and comes first, as
 * the spec requires: an instruction that traps writes nothing.
 *
 * Why the progress is in the thread and not written back to the operand
 * slots as the remaining range: an operand may be a local's or a
 * constant's slot (lowering reads them in place, exec.h), which that would
 * corrupt.  A range of at most one reduction's worth (BULK_BYTES bytes,
 * BULK_ELEMS elements) can never be split: it costs
 * nothing and never looks at the thread, so the small copies of ordinary
 * code run as before. */
#define BULK_SHIFT      EXEC_BULK_SHIFT
#define BULK_BYTES      ((uint64_t)1 << BULK_SHIFT)
#define ELEM_SHIFT      (BULK_SHIFT - 3)        /* 8-byte table elements */
#define BULK_ELEMS      ((uint64_t)1 << ELEM_SHIFT)

/* Of a range of n units (1 << shift of them per reduction), the part to do
 * now: [done, done + len).  done is where a cut-short run of this very
 * instruction stopped, else 0.  reds is at least -1 in a handler (a
 * charge stops there), so the room is at least 0 and len never costs more
 * than reds + 1. */
#define BULK_PIECE(n, shift, done, len) \
    do { if (t->bulk_pc == pc) { (done) = t->bulk_done; t->bulk_pc = NULL; } \
         uint64_t room_ = ((uint64_t)reds + 1) << (shift); \
         (len) = (n) - (done) < room_ ? (n) - (done) : room_; \
         reds -= (int32_t)((len) >> (shift)); } while (0)
/* After the piece: if some of the range is left, keep the progress and
 * yield (pc stays on the instruction). */
#define BULK_REST(n, done, len) \
    do { if (LVM_UNLIKELY((done) + (len) < (n))) { \
             t->bulk_pc = pc; t->bulk_done = (done) + (len); goto bulk_yield; } } while (0)

lvm_err exec_run(lvm_thread *t)
{
#if LVM_THREADED
    /* The label table, in enum exec_op order, generated from the op tables.
     * Ops the lowering never emits share one label that panics. */
    static void *const labels[XOP_COUNT] = {
#define OP(name, prefix, code, imm, p1, p2, r, msize, text) &&L_##name,
#include "../decoder/opcodes.def"
#undef OP
#define XOP(name, text) &&L_##name,
#include "xops.def"
#undef XOP
    };
    if (!t) {
        __atomic_store_n(&handler_labels, labels, __ATOMIC_RELEASE);
        return LVM_OK;
    }
#else
    if (!t)
        return LVM_OK;
#endif

    const uint32_t *pc = t->pc;
    lvm_val *fp = t->fp;
    lvm_instance *inst = t->inst;
    lvm_func *fn = t->fn;
    uint8_t *mem;
    uint64_t memsize, wlo, wspan;
    int32_t reds = t->slice;
    if (LVM_UNLIKELY(t->fuel_limited)) {
        if (t->fuel < (uint64_t)reds)
            reds = (int32_t)t->fuel;
        t->slice_budget = reds;
    }
    lvm_err err = LVM_OK;
    /* Call state shared by CALL and CALL_INDIRECT (see do_call). */
    lvm_func *callee;
    lvm_val *newfp;
    const uint32_t *ret;

    LOAD_MEM();
#if LVM_THREADED
    DISPATCH();
#else
dispatch:
    switch ((enum exec_op)load_word(pc)) {
#endif

    /* {====== control */

    /* unreachable  traps */
    CASE(UNREACHABLE) TRAP(UNREACHABLE);

    /* [br][rel]  jump (rel is relative to its own cell) */
    CASE(BR) { pc = pc + 2 + (int32_t)CELL(0); DISPATCH(); }

    /* [br.back][rel]  jump to a loop head: charges one reduction */
    CASE(BR_BACK) {
        if (LVM_UNLIKELY(--reds < 0)) goto yield;
        pc = pc + 2 + (int32_t)CELL(0);
        DISPATCH();
    }

    /* [br_if][cond][rel] */
    CASE(BR_IF) {
        if (I32(0)) { pc = pc + 3 + (int32_t)CELL(1); DISPATCH(); }
        NEXT(4);
    }

    /* [br_if.back][cond][rel]  taken: charges one reduction */
    CASE(BR_IF_BACK) {
        if (I32(0)) {
            if (LVM_UNLIKELY(--reds < 0)) goto yield;
            pc = pc + 3 + (int32_t)CELL(1);
            DISPATCH();
        }
        NEXT(4);
    }

    /* [br_unless][cond][rel]  jump when cond == 0 */
    CASE(BR_UNLESS) {
        if (!I32(0)) { pc = pc + 3 + (int32_t)CELL(1); DISPATCH(); }
        NEXT(4);
    }

    /* [br_if.T.CMP][a][b][rel]  jump when a CMP b (see xops.def);
     * the _BACK form jumps to a loop head and charges one reduction. */
#define BR_CMP(name, back, T, GET, cmp) \
    CASE(name) { \
        T a = GET(0), b = GET(1); \
        if (cmp) { \
            if (back && LVM_UNLIKELY(--reds < 0)) goto yield; \
            pc = pc + 4 + (int32_t)CELL(2); \
            DISPATCH(); \
        } \
        NEXT(5); }
#define BR_CMPS(EQ, NE, LT_S, LT_U, GT_S, GT_U, LE_S, LE_U, GE_S, GE_U, back, U, S, GET) \
    BR_CMP(EQ, back, U, GET, a == b) BR_CMP(NE, back, U, GET, a != b) \
    BR_CMP(LT_S, back, U, GET, (S)a < (S)b) BR_CMP(LT_U, back, U, GET, a < b) \
    BR_CMP(GT_S, back, U, GET, (S)a > (S)b) BR_CMP(GT_U, back, U, GET, a > b) \
    BR_CMP(LE_S, back, U, GET, (S)a <= (S)b) BR_CMP(LE_U, back, U, GET, a <= b) \
    BR_CMP(GE_S, back, U, GET, (S)a >= (S)b) BR_CMP(GE_U, back, U, GET, a >= b)
    BR_CMPS(BR_I32_EQ, BR_I32_NE, BR_I32_LT_S, BR_I32_LT_U, BR_I32_GT_S, BR_I32_GT_U,
            BR_I32_LE_S, BR_I32_LE_U, BR_I32_GE_S, BR_I32_GE_U, 0, uint32_t, int32_t, I32)
    BR_CMPS(BR_I64_EQ, BR_I64_NE, BR_I64_LT_S, BR_I64_LT_U, BR_I64_GT_S, BR_I64_GT_U,
            BR_I64_LE_S, BR_I64_LE_U, BR_I64_GE_S, BR_I64_GE_U, 0, uint64_t, int64_t, I64)
    BR_CMPS(BR_I32_EQ_BACK, BR_I32_NE_BACK, BR_I32_LT_S_BACK, BR_I32_LT_U_BACK,
            BR_I32_GT_S_BACK, BR_I32_GT_U_BACK, BR_I32_LE_S_BACK, BR_I32_LE_U_BACK,
            BR_I32_GE_S_BACK, BR_I32_GE_U_BACK, 1, uint32_t, int32_t, I32)
    BR_CMPS(BR_I64_EQ_BACK, BR_I64_NE_BACK, BR_I64_LT_S_BACK, BR_I64_LT_U_BACK,
            BR_I64_GT_S_BACK, BR_I64_GT_U_BACK, BR_I64_LE_S_BACK, BR_I64_LE_U_BACK,
            BR_I64_GE_S_BACK, BR_I64_GE_U_BACK, 1, uint64_t, int64_t, I64)

    /* [br_unless.back][cond][rel]  jump to a loop head when cond == 0 */
    CASE(BR_UNLESS_BACK) {
        if (!I32(0)) {
            if (LVM_UNLIKELY(--reds < 0)) goto yield;
            pc = pc + 3 + (int32_t)CELL(1);
            DISPATCH();
        }
        NEXT(4);
    }

    /* [br_table][index][n][rel 0]..[rel n]  index >= n takes rel n */
    CASE(BR_TABLE) {
        uint32_t i = I32(0), n = CELL(1);
        const uint32_t *c = pc + 4 + (i < n ? i : n);
        pc = c + (int32_t)*c;
        DISPATCH();
    }

    /* [return][src][n]  results fp[src..src+n) -> fp[0..n), pop the frame */
    CASE(RETURN) {
        uint32_t src = CELL(0), n = CELL(1);
        for (uint32_t i = 0; i < n; i++)    /* ascending: src >= 0 */
            fp[i] = fp[src + i];
        exec_frame *fr = &t->frames[--t->depth];
        pc = fr->ret_pc;
        fp = t->stack + fr->fp_off;
        inst = fr->inst;
        fn = fr->fn;
        LOAD_MEM();
        DISPATCH();
    }

    /* [call][func][argbase]  args are fp[argbase..], the callee's frame */
    CASE(CALL) {
        callee = inst->funcs[CELL(0)];
        newfp = fp + CELL(1);
        ret = pc + 4;
        goto do_call;
    }

    /* [call_indirect][type][table][index slot][argbase] */
    CASE(CALL_INDIRECT) {
        lvm_table *tab = inst->tables[CELL(1)];
        uint32_t i = I32(2);
        if (LVM_UNLIKELY(i >= tab->size)) TRAP(UNDEFINED_ELEM);
        callee = tab->elems[i].ref;
        if (LVM_UNLIKELY(!callee)) TRAP(UNINIT_ELEM);
        if (LVM_UNLIKELY(!vm_functype_match(callee->type, &inst->module->types[CELL(0)])))
            TRAP(INDIRECT_TYPE);
        newfp = fp + CELL(3);
        ret = pc + 6;
        goto do_call;
    }

    /* [exit]  the entry frame returned: results are in stack[0..] */
    CASE(EXIT) {
        t->pc = pc;
        t->fp = fp;
        goto exit_run;
    }

    /* }====== */

    /* {====== locals, globals, constants, references */

    /* [copy][dst][src] */
    CASE(COPY) { SLOT(0) = SLOT(1); NEXT(4); }
    /* [select][dst][a][b][cond] */
    CASE(SELECT) { SLOT(0) = I32(3) ? SLOT(1) : SLOT(2); NEXT(6); }
    /* [global.get][dst][global] */
    CASE(GLOBAL_GET) { SLOT(0) = inst->globals[CELL(1)]->val; NEXT(4); }
    /* [global.set][src][global] */
    CASE(GLOBAL_SET) { inst->globals[CELL(1)]->val = SLOT(0); NEXT(4); }
    /* [ref.is_null][dst][a] */
    CASE(REF_IS_NULL) { PUT_I32(SLOT(1).bits == 0); NEXT(4); }
    /* [ref.func][dst][func] */
    CASE(REF_FUNC) { SLOT(0).bits = 0; SLOT(0).ref = inst->funcs[CELL(1)]; NEXT(4); }

    /* }====== */

    /* {====== tables */

    /* [table.get][dst][index][table] */
    CASE(TABLE_GET) {
        lvm_table *tab = inst->tables[CELL(2)];
        uint32_t i = I32(1);
        if (LVM_UNLIKELY(i >= tab->size)) TRAP(TABLE_OOB);
        SLOT(0) = tab->elems[i];
        NEXT(5);
    }
    /* [table.set][index][value][table] */
    CASE(TABLE_SET) {
        lvm_table *tab = inst->tables[CELL(2)];
        uint32_t i = I32(0);
        if (LVM_UNLIKELY(i >= tab->size)) TRAP(TABLE_OOB);
        tab->elems[i] = SLOT(1);
        NEXT(5);
    }
    /* [table.size][dst][table] */
    CASE(TABLE_SIZE) { PUT_I32(inst->tables[CELL(1)]->size); NEXT(4); }
    /* [table.grow][dst][init][n][table]  old size or -1 */
    CASE(TABLE_GROW) {
        lvm_val init = SLOT(1);
        uint32_t n = I32(2);
        PUT_I32((uint32_t)vm_table_grow(inst->tables[CELL(3)], n, init));
        /* Charged like a table.fill of n, but not split: the host's
         * realloc is one step.  The memory limit bounds n (store.c). */
        if (LVM_UNLIKELY(n > BULK_ELEMS)) {
            int64_t left = (int64_t)reds - (n >> ELEM_SHIFT);
            reds = left < -1 ? -1 : (int32_t)left;
        }
        NEXT(6);
    }
    /* [table.fill][i][value][n][table] */
    CASE(TABLE_FILL) {
        lvm_table *tab = inst->tables[CELL(3)];
        uint64_t i = I32(0), n = I32(2), done = 0, len = n;
        if (LVM_UNLIKELY(i + n > tab->size)) TRAP(TABLE_OOB);
        if (LVM_UNLIKELY(n > BULK_ELEMS))
            BULK_PIECE(n, ELEM_SHIFT, done, len);
        lvm_val v = SLOT(1);
        for (uint64_t k = done; k < done + len; k++)
            tab->elems[i + k] = v;
        BULK_REST(n, done, len);
        NEXT(6);
    }
    /* [table.copy][d][s][n][dst table][src table]  pieces go from the end
     * when d > s, so that overlapping ranges copy as if via a buffer */
    CASE(TABLE_COPY) {
        lvm_table *td = inst->tables[CELL(3)], *ts = inst->tables[CELL(4)];
        uint64_t d = I32(0), s = I32(1), n = I32(2), done = 0, len = n;
        if (LVM_UNLIKELY(d + n > td->size || s + n > ts->size)) TRAP(TABLE_OOB);
        if (LVM_UNLIKELY(n > BULK_ELEMS))
            BULK_PIECE(n, ELEM_SHIFT, done, len);
        uint64_t at = d > s ? n - done - len : done;
        memmove(td->elems + d + at, ts->elems + s + at, len * sizeof(lvm_val));
        BULK_REST(n, done, len);
        NEXT(7);
    }
    /* [table.init][d][s][n][elem][table] */
    CASE(TABLE_INIT) {
        const decode_elem *seg = &inst->module->elems[CELL(3)];
        lvm_table *tab = inst->tables[CELL(4)];
        uint64_t d = I32(0), s = I32(1), n = I32(2), done = 0, len = n;
        uint64_t segsize = inst->elem_dropped[CELL(3)] ? 0 : seg->count;
        if (LVM_UNLIKELY(s + n > segsize || d + n > tab->size)) TRAP(TABLE_OOB);
        if (LVM_UNLIKELY(n > BULK_ELEMS))
            BULK_PIECE(n, ELEM_SHIFT, done, len);
        for (uint64_t k = done; k < done + len; k++)
            tab->elems[d + k] = elem_item(inst, &seg->items[s + k]);
        BULK_REST(n, done, len);
        NEXT(7);
    }
    /* [elem.drop][elem] */
    CASE(ELEM_DROP) { inst->elem_dropped[CELL(0)] = true; NEXT(3); }

    /* }====== */

    /* {====== memory */

    LOAD(I32_LOAD, uint32_t, PUT_I32, )
    LOAD(I64_LOAD, uint64_t, PUT_I64, )
    LOAD(F32_LOAD, uint32_t, PUT_I64, )     /* the bits, as for i32 */
    LOAD(F64_LOAD, uint64_t, PUT_I64, )
    LOAD(I32_LOAD8_S, int8_t, PUT_I32, (int32_t))
    LOAD(I32_LOAD8_U, uint8_t, PUT_I32, )
    LOAD(I32_LOAD16_S, int16_t, PUT_I32, (int32_t))
    LOAD(I32_LOAD16_U, uint16_t, PUT_I32, )
    LOAD(I64_LOAD8_S, int8_t, PUT_I64, (int64_t))
    LOAD(I64_LOAD8_U, uint8_t, PUT_I64, )
    LOAD(I64_LOAD16_S, int16_t, PUT_I64, (int64_t))
    LOAD(I64_LOAD16_U, uint16_t, PUT_I64, )
    LOAD(I64_LOAD32_S, int32_t, PUT_I64, (int64_t))
    LOAD(I64_LOAD32_U, uint32_t, PUT_I64, )
    STORE(I32_STORE, uint32_t, I32)
    STORE(I64_STORE, uint64_t, I64)
    STORE(F32_STORE, uint32_t, I32)
    STORE(F64_STORE, uint64_t, I64)
    STORE(I32_STORE8, uint8_t, I32)
    STORE(I32_STORE16, uint16_t, I32)
    STORE(I64_STORE8, uint8_t, I64)
    STORE(I64_STORE16, uint16_t, I64)
    STORE(I64_STORE32, uint32_t, I64)

    /* The same with the address summed from two slots (xops.def). */
#define LOAD_SUM(name, T, PUT, conv) \
    CASE(name) { \
        uint64_t ea = (uint64_t)(uint32_t)(I32(1) + I32(2)) + CELL(3); \
        if (LVM_UNLIKELY(ea + sizeof(T) > memsize)) TRAP(MEMORY_OOB); \
        T v; memcpy(&v, mem + ea, sizeof v); PUT(conv v); NEXT(6); }
#define STORE_SUM(name, T, GET) \
    CASE(name) { \
        uint64_t ea = (uint64_t)(uint32_t)(I32(0) + I32(1)) + CELL(3); \
        CHECK_STORE(ea, sizeof(T)); \
        T v = (T)GET(2); memcpy(mem + ea, &v, sizeof v); NEXT(6); }
    LOAD_SUM(I32_LOAD_SUM, uint32_t, PUT_I32, )
    LOAD_SUM(I64_LOAD_SUM, uint64_t, PUT_I64, )
    LOAD_SUM(F32_LOAD_SUM, uint32_t, PUT_I64, )
    LOAD_SUM(F64_LOAD_SUM, uint64_t, PUT_I64, )
    LOAD_SUM(I32_LOAD8_S_SUM, int8_t, PUT_I32, (int32_t))
    LOAD_SUM(I32_LOAD8_U_SUM, uint8_t, PUT_I32, )
    LOAD_SUM(I32_LOAD16_S_SUM, int16_t, PUT_I32, (int32_t))
    LOAD_SUM(I32_LOAD16_U_SUM, uint16_t, PUT_I32, )
    LOAD_SUM(I64_LOAD8_S_SUM, int8_t, PUT_I64, (int64_t))
    LOAD_SUM(I64_LOAD8_U_SUM, uint8_t, PUT_I64, )
    LOAD_SUM(I64_LOAD16_S_SUM, int16_t, PUT_I64, (int64_t))
    LOAD_SUM(I64_LOAD16_U_SUM, uint16_t, PUT_I64, )
    LOAD_SUM(I64_LOAD32_S_SUM, int32_t, PUT_I64, (int64_t))
    LOAD_SUM(I64_LOAD32_U_SUM, uint32_t, PUT_I64, )
    STORE_SUM(I32_STORE_SUM, uint32_t, I32)
    STORE_SUM(I64_STORE_SUM, uint64_t, I64)
    STORE_SUM(F32_STORE_SUM, uint32_t, I32)
    STORE_SUM(F64_STORE_SUM, uint64_t, I64)
    STORE_SUM(I32_STORE8_SUM, uint8_t, I32)
    STORE_SUM(I32_STORE16_SUM, uint16_t, I32)
    STORE_SUM(I64_STORE8_SUM, uint8_t, I64)
    STORE_SUM(I64_STORE16_SUM, uint16_t, I64)
    STORE_SUM(I64_STORE32_SUM, uint32_t, I64)

    /* [memory.size][dst] */
    CASE(MEMORY_SIZE) { PUT_I32(inst->mem0->pages); NEXT(3); }
    /* [memory.grow][dst][delta]  old size in pages or -1 */
    CASE(MEMORY_GROW) {
        PUT_I32((uint32_t)lvm_memory_grow(inst->mem0, I32(1)));
        LOAD_MEM();
        NEXT(4);
    }
    /* Bulk writes count [d, d + n) as written (they are long enough that
     * the call costs nothing next to the copy). */
#define WRITTEN(d, n) \
    do { lvm_memory_written(inst->mem0, (d), (n)); \
         wlo = inst->mem0->wlo; wspan = inst->mem0->wspan; } while (0)
    /* [memory.init][d][s][n][data] */
    CASE(MEMORY_INIT) {
        const decode_data *seg = &inst->module->datas[CELL(3)];
        uint64_t d = I32(0), s = I32(1), n = I32(2), done = 0, len = n;
        uint64_t segsize = inst->data_dropped[CELL(3)] ? 0 : seg->size;
        if (LVM_UNLIKELY(s + n > segsize || d + n > memsize)) TRAP(MEMORY_OOB);
        if (n) {
            if (LVM_UNLIKELY(n > BULK_BYTES))
                BULK_PIECE(n, BULK_SHIFT, done, len);
            memcpy(mem + d + done, seg->bytes + s + done, len);
            WRITTEN(d + done, len);
            BULK_REST(n, done, len);
        }
        NEXT(6);
    }
    /* [data.drop][data] */
    CASE(DATA_DROP) { inst->data_dropped[CELL(0)] = true; NEXT(3); }
    /* [memory.copy][d][s][n]  overlapping ranges copy as if via a buffer
     * (pieces go from the end when d > s, so this holds across them too) */
    CASE(MEMORY_COPY) {
        uint64_t d = I32(0), s = I32(1), n = I32(2), done = 0, len = n;
        if (LVM_UNLIKELY(d + n > memsize || s + n > memsize)) TRAP(MEMORY_OOB);
        if (n) {
            if (LVM_UNLIKELY(n > BULK_BYTES))
                BULK_PIECE(n, BULK_SHIFT, done, len);
            uint64_t at = d > s ? n - done - len : done;
            memmove(mem + d + at, mem + s + at, len);
            WRITTEN(d + at, len);
            BULK_REST(n, done, len);
        }
        NEXT(5);
    }
    /* [memory.fill][d][value][n] */
    CASE(MEMORY_FILL) {
        uint64_t d = I32(0), n = I32(2), done = 0, len = n;
        if (LVM_UNLIKELY(d + n > memsize)) TRAP(MEMORY_OOB);
        if (n) {
            if (LVM_UNLIKELY(n > BULK_BYTES))
                BULK_PIECE(n, BULK_SHIFT, done, len);
            memset(mem + d + done, (int)(uint8_t)I32(1), len);
            WRITTEN(d + done, len);
            BULK_REST(n, done, len);
        }
        NEXT(5);
    }

    /* }====== */

    /* {====== i32 */

    UNOP(I32_EQZ, uint32_t, I32, PUT_I32, a == 0)
    BINOP(I32_EQ, uint32_t, I32, PUT_I32, a == b)
    BINOP(I32_NE, uint32_t, I32, PUT_I32, a != b)
    BINOP(I32_LT_S, uint32_t, I32, PUT_I32, (int32_t)a < (int32_t)b)
    BINOP(I32_LT_U, uint32_t, I32, PUT_I32, a < b)
    BINOP(I32_GT_S, uint32_t, I32, PUT_I32, (int32_t)a > (int32_t)b)
    BINOP(I32_GT_U, uint32_t, I32, PUT_I32, a > b)
    BINOP(I32_LE_S, uint32_t, I32, PUT_I32, (int32_t)a <= (int32_t)b)
    BINOP(I32_LE_U, uint32_t, I32, PUT_I32, a <= b)
    BINOP(I32_GE_S, uint32_t, I32, PUT_I32, (int32_t)a >= (int32_t)b)
    BINOP(I32_GE_U, uint32_t, I32, PUT_I32, a >= b)
    UNOP(I32_CLZ, uint32_t, I32, PUT_I32, clz32(a))
    UNOP(I32_CTZ, uint32_t, I32, PUT_I32, ctz32(a))
    UNOP(I32_POPCNT, uint32_t, I32, PUT_I32, (uint32_t)__builtin_popcount(a))
    BINOP(I32_ADD, uint32_t, I32, PUT_I32, a + b)
    BINOP(I32_SUB, uint32_t, I32, PUT_I32, a - b)
    BINOP(I32_MUL, uint32_t, I32, PUT_I32, a * b)
    /* i32.div_s  traps: divide by zero, INT32_MIN / -1 overflows */
    CASE(I32_DIV_S) {
        int32_t a = (int32_t)I32(1), b = (int32_t)I32(2);
        if (LVM_UNLIKELY(b == 0)) TRAP(DIV_ZERO);
        if (LVM_UNLIKELY(a == INT32_MIN && b == -1)) TRAP(INT_OVERFLOW);
        PUT_I32(a / b);
        NEXT(5);
    }
    CASE(I32_DIV_U) {
        uint32_t a = I32(1), b = I32(2);
        if (LVM_UNLIKELY(b == 0)) TRAP(DIV_ZERO);
        PUT_I32(a / b);
        NEXT(5);
    }
    /* i32.rem_s  traps on zero; INT32_MIN % -1 is 0 (C leaves it undefined) */
    CASE(I32_REM_S) {
        int32_t a = (int32_t)I32(1), b = (int32_t)I32(2);
        if (LVM_UNLIKELY(b == 0)) TRAP(DIV_ZERO);
        PUT_I32(b == -1 ? 0 : a % b);
        NEXT(5);
    }
    CASE(I32_REM_U) {
        uint32_t a = I32(1), b = I32(2);
        if (LVM_UNLIKELY(b == 0)) TRAP(DIV_ZERO);
        PUT_I32(a % b);
        NEXT(5);
    }
    BINOP(I32_AND, uint32_t, I32, PUT_I32, a & b)
    BINOP(I32_OR, uint32_t, I32, PUT_I32, a | b)
    BINOP(I32_XOR, uint32_t, I32, PUT_I32, a ^ b)
    BINOP(I32_SHL, uint32_t, I32, PUT_I32, a << (b & 31))
    BINOP(I32_SHR_S, uint32_t, I32, PUT_I32, (int32_t)a >> (b & 31))
    BINOP(I32_SHR_U, uint32_t, I32, PUT_I32, a >> (b & 31))
    BINOP(I32_ROTL, uint32_t, I32, PUT_I32, rotl32(a, b))
    BINOP(I32_ROTR, uint32_t, I32, PUT_I32, rotr32(a, b))

    /* }====== */

    /* {====== i64 */

    UNOP(I64_EQZ, uint64_t, I64, PUT_I32, a == 0)
    BINOP(I64_EQ, uint64_t, I64, PUT_I32, a == b)
    BINOP(I64_NE, uint64_t, I64, PUT_I32, a != b)
    BINOP(I64_LT_S, uint64_t, I64, PUT_I32, (int64_t)a < (int64_t)b)
    BINOP(I64_LT_U, uint64_t, I64, PUT_I32, a < b)
    BINOP(I64_GT_S, uint64_t, I64, PUT_I32, (int64_t)a > (int64_t)b)
    BINOP(I64_GT_U, uint64_t, I64, PUT_I32, a > b)
    BINOP(I64_LE_S, uint64_t, I64, PUT_I32, (int64_t)a <= (int64_t)b)
    BINOP(I64_LE_U, uint64_t, I64, PUT_I32, a <= b)
    BINOP(I64_GE_S, uint64_t, I64, PUT_I32, (int64_t)a >= (int64_t)b)
    BINOP(I64_GE_U, uint64_t, I64, PUT_I32, a >= b)
    UNOP(I64_CLZ, uint64_t, I64, PUT_I64, clz64(a))
    UNOP(I64_CTZ, uint64_t, I64, PUT_I64, ctz64(a))
    UNOP(I64_POPCNT, uint64_t, I64, PUT_I64, (uint64_t)__builtin_popcountll(a))
    BINOP(I64_ADD, uint64_t, I64, PUT_I64, a + b)
    BINOP(I64_SUB, uint64_t, I64, PUT_I64, a - b)
    BINOP(I64_MUL, uint64_t, I64, PUT_I64, a * b)
    CASE(I64_DIV_S) {
        int64_t a = (int64_t)I64(1), b = (int64_t)I64(2);
        if (LVM_UNLIKELY(b == 0)) TRAP(DIV_ZERO);
        if (LVM_UNLIKELY(a == INT64_MIN && b == -1)) TRAP(INT_OVERFLOW);
        PUT_I64(a / b);
        NEXT(5);
    }
    CASE(I64_DIV_U) {
        uint64_t a = I64(1), b = I64(2);
        if (LVM_UNLIKELY(b == 0)) TRAP(DIV_ZERO);
        PUT_I64(a / b);
        NEXT(5);
    }
    CASE(I64_REM_S) {
        int64_t a = (int64_t)I64(1), b = (int64_t)I64(2);
        if (LVM_UNLIKELY(b == 0)) TRAP(DIV_ZERO);
        PUT_I64(b == -1 ? 0 : a % b);
        NEXT(5);
    }
    CASE(I64_REM_U) {
        uint64_t a = I64(1), b = I64(2);
        if (LVM_UNLIKELY(b == 0)) TRAP(DIV_ZERO);
        PUT_I64(a % b);
        NEXT(5);
    }
    BINOP(I64_AND, uint64_t, I64, PUT_I64, a & b)
    BINOP(I64_OR, uint64_t, I64, PUT_I64, a | b)
    BINOP(I64_XOR, uint64_t, I64, PUT_I64, a ^ b)
    BINOP(I64_SHL, uint64_t, I64, PUT_I64, a << (b & 63))
    BINOP(I64_SHR_S, uint64_t, I64, PUT_I64, (int64_t)a >> (b & 63))
    BINOP(I64_SHR_U, uint64_t, I64, PUT_I64, a >> (b & 63))
    BINOP(I64_ROTL, uint64_t, I64, PUT_I64, rotl64(a, b))
    BINOP(I64_ROTR, uint64_t, I64, PUT_I64, rotr64(a, b))

    /* }====== */

    /* {====== f32 and f64 */

    BINOP(F32_EQ, float, F32, PUT_I32, a == b)
    BINOP(F32_NE, float, F32, PUT_I32, a != b)
    BINOP(F32_LT, float, F32, PUT_I32, a < b)
    BINOP(F32_GT, float, F32, PUT_I32, a > b)
    BINOP(F32_LE, float, F32, PUT_I32, a <= b)
    BINOP(F32_GE, float, F32, PUT_I32, a >= b)
    BINOP(F64_EQ, double, F64, PUT_I32, a == b)
    BINOP(F64_NE, double, F64, PUT_I32, a != b)
    BINOP(F64_LT, double, F64, PUT_I32, a < b)
    BINOP(F64_GT, double, F64, PUT_I32, a > b)
    BINOP(F64_LE, double, F64, PUT_I32, a <= b)
    BINOP(F64_GE, double, F64, PUT_I32, a >= b)

    /* FUNOP, FBINOP: every arithmetic result that is a NaN becomes the
     * canonical NaN.  That also quiets the signalling NaN that the C
     * library's ceil/floor/trunc may hand back unchanged. */
    /* abs, neg, copysign act on the sign bit only, NaN payloads intact */
    UNOP(F32_ABS, uint32_t, I32, PUT_I32, a & 0x7fffffffu)
    UNOP(F32_NEG, uint32_t, I32, PUT_I32, a ^ 0x80000000u)
    FUNOP(F32_CEIL, float, F32, float, PUT_F32, F32_CANONICAL_NAN, ceilf(a))
    FUNOP(F32_FLOOR, float, F32, float, PUT_F32, F32_CANONICAL_NAN, floorf(a))
    FUNOP(F32_TRUNC, float, F32, float, PUT_F32, F32_CANONICAL_NAN, truncf(a))
    FUNOP(F32_NEAREST, float, F32, float, PUT_F32, F32_CANONICAL_NAN, nearbyintf(a))    /* ties to even */
    FUNOP(F32_SQRT, float, F32, float, PUT_F32, F32_CANONICAL_NAN, sqrtf(a))
    FBINOP(F32_ADD, float, F32, PUT_F32, F32_CANONICAL_NAN, a + b)
    FBINOP(F32_SUB, float, F32, PUT_F32, F32_CANONICAL_NAN, a - b)
    FBINOP(F32_MUL, float, F32, PUT_F32, F32_CANONICAL_NAN, a * b)
    FBINOP(F32_DIV, float, F32, PUT_F32, F32_CANONICAL_NAN, a / b)
    BINOP(F32_MIN, float, F32, PUT_F32, f32_min(a, b))
    BINOP(F32_MAX, float, F32, PUT_F32, f32_max(a, b))
    BINOP(F32_COPYSIGN, uint32_t, I32, PUT_I32, (a & 0x7fffffffu) | (b & 0x80000000u))

    UNOP(F64_ABS, uint64_t, I64, PUT_I64, a & 0x7fffffffffffffffull)
    UNOP(F64_NEG, uint64_t, I64, PUT_I64, a ^ 0x8000000000000000ull)
    FUNOP(F64_CEIL, double, F64, double, PUT_F64, F64_CANONICAL_NAN, ceil(a))
    FUNOP(F64_FLOOR, double, F64, double, PUT_F64, F64_CANONICAL_NAN, floor(a))
    FUNOP(F64_TRUNC, double, F64, double, PUT_F64, F64_CANONICAL_NAN, trunc(a))
    FUNOP(F64_NEAREST, double, F64, double, PUT_F64, F64_CANONICAL_NAN, nearbyint(a))
    FUNOP(F64_SQRT, double, F64, double, PUT_F64, F64_CANONICAL_NAN, sqrt(a))
    FBINOP(F64_ADD, double, F64, PUT_F64, F64_CANONICAL_NAN, a + b)
    FBINOP(F64_SUB, double, F64, PUT_F64, F64_CANONICAL_NAN, a - b)
    FBINOP(F64_MUL, double, F64, PUT_F64, F64_CANONICAL_NAN, a * b)
    FBINOP(F64_DIV, double, F64, PUT_F64, F64_CANONICAL_NAN, a / b)
    BINOP(F64_MIN, double, F64, PUT_F64, f64_min(a, b))
    BINOP(F64_MAX, double, F64, PUT_F64, f64_max(a, b))
    BINOP(F64_COPYSIGN, uint64_t, I64, PUT_I64,
          (a & 0x7fffffffffffffffull) | (b & 0x8000000000000000ull))

    /* }====== */

    /* {====== conversions */

    UNOP(I32_WRAP_I64, uint64_t, I64, PUT_I32, (uint32_t)a)
    TRUNC(I32_TRUNC_F32_S, F32, PUT_I32, FITS_I32_F32, int32_t)
    TRUNC(I32_TRUNC_F32_U, F32, PUT_I32, FITS_U32_F32, uint32_t)
    TRUNC(I32_TRUNC_F64_S, F64, PUT_I32, FITS_I32_F64, int32_t)
    TRUNC(I32_TRUNC_F64_U, F64, PUT_I32, FITS_U32_F64, uint32_t)
    UNOP(I64_EXTEND_I32_S, uint32_t, I32, PUT_I64, (int64_t)(int32_t)a)
    UNOP(I64_EXTEND_I32_U, uint32_t, I32, PUT_I64, (uint64_t)a)
    TRUNC(I64_TRUNC_F32_S, F32, PUT_I64, FITS_I64_F32, int64_t)
    TRUNC(I64_TRUNC_F32_U, F32, PUT_I64, FITS_U64_F32, uint64_t)
    TRUNC(I64_TRUNC_F64_S, F64, PUT_I64, FITS_I64_F64, int64_t)
    TRUNC(I64_TRUNC_F64_U, F64, PUT_I64, FITS_U64_F64, uint64_t)
    UNOP(F32_CONVERT_I32_S, uint32_t, I32, PUT_F32, (float)(int32_t)a)
    UNOP(F32_CONVERT_I32_U, uint32_t, I32, PUT_F32, (float)a)
    UNOP(F32_CONVERT_I64_S, uint64_t, I64, PUT_F32, (float)(int64_t)a)
    UNOP(F32_CONVERT_I64_U, uint64_t, I64, PUT_F32, (float)a)
    FUNOP(F32_DEMOTE_F64, double, F64, float, PUT_F32, F32_CANONICAL_NAN, (float)a)
    UNOP(F64_CONVERT_I32_S, uint32_t, I32, PUT_F64, (double)(int32_t)a)
    UNOP(F64_CONVERT_I32_U, uint32_t, I32, PUT_F64, (double)a)
    UNOP(F64_CONVERT_I64_S, uint64_t, I64, PUT_F64, (double)(int64_t)a)
    UNOP(F64_CONVERT_I64_U, uint64_t, I64, PUT_F64, (double)a)
    FUNOP(F64_PROMOTE_F32, float, F32, double, PUT_F64, F64_CANONICAL_NAN, (double)a)
    /* reinterpretations: the slot already holds the bits */
    UNOP(I32_REINTERPRET_F32, uint32_t, I32, PUT_I32, a)
    UNOP(I64_REINTERPRET_F64, uint64_t, I64, PUT_I64, a)
    UNOP(F32_REINTERPRET_I32, uint32_t, I32, PUT_I32, a)
    UNOP(F64_REINTERPRET_I64, uint64_t, I64, PUT_I64, a)
    UNOP(I32_EXTEND8_S, uint32_t, I32, PUT_I32, (int32_t)(int8_t)a)
    UNOP(I32_EXTEND16_S, uint32_t, I32, PUT_I32, (int32_t)(int16_t)a)
    UNOP(I64_EXTEND8_S, uint64_t, I64, PUT_I64, (int64_t)(int8_t)a)
    UNOP(I64_EXTEND16_S, uint64_t, I64, PUT_I64, (int64_t)(int16_t)a)
    UNOP(I64_EXTEND32_S, uint64_t, I64, PUT_I64, (int64_t)(int32_t)a)
    UNOP(I32_TRUNC_SAT_F32_S, float, F32, PUT_I32, SAT(int32_t, a, FITS_I32_F32, INT32_MIN, INT32_MAX))
    UNOP(I32_TRUNC_SAT_F32_U, float, F32, PUT_I32, SAT(uint32_t, a, FITS_U32_F32, 0, UINT32_MAX))
    UNOP(I32_TRUNC_SAT_F64_S, double, F64, PUT_I32, SAT(int32_t, a, FITS_I32_F64, INT32_MIN, INT32_MAX))
    UNOP(I32_TRUNC_SAT_F64_U, double, F64, PUT_I32, SAT(uint32_t, a, FITS_U32_F64, 0, UINT32_MAX))
    UNOP(I64_TRUNC_SAT_F32_S, float, F32, PUT_I64, SAT(int64_t, a, FITS_I64_F32, INT64_MIN, INT64_MAX))
    UNOP(I64_TRUNC_SAT_F32_U, float, F32, PUT_I64, SAT(uint64_t, a, FITS_U64_F32, 0, UINT64_MAX))
    UNOP(I64_TRUNC_SAT_F64_S, double, F64, PUT_I64, SAT(int64_t, a, FITS_I64_F64, INT64_MIN, INT64_MAX))
    UNOP(I64_TRUNC_SAT_F64_U, double, F64, PUT_I64, SAT(uint64_t, a, FITS_U64_F64, 0, UINT64_MAX))

    /* }====== */

    /* [catch.ret]  f of the innermost catch returned (RETURN restored the
     * host call's caller, f's results are where the host call's go):
     * drop the catch and continue after the host call.  Here, after the
     * hot handlers, like the rest of the catch and fuel code: code
     * inserted among them moves them all, and the threaded build is
     * sensitive to where its handlers fall (with this handler beside
     * EXIT, bench/interp's int64 ran 14% slower on the same instruction
     * count). */
    CASE(CATCH_RET) {
        pc = t->catches[--t->ncatch].ret_pc;
        DISPATCH();
    }

    /* Wasm ops that lowering replaces by others (structured control becomes
     * jumps; locals and constants become slots). */
    CASE(NOP) CASE(BLOCK) CASE(LOOP) CASE(IF) CASE(ELSE) CASE(END) CASE(LOCAL_GET)
    CASE(LOCAL_SET) CASE(LOCAL_TEE) CASE(DROP) CASE(SELECT_T) CASE(I32_CONST)
    CASE(I64_CONST) CASE(F32_CONST) CASE(F64_CONST) CASE(REF_NULL)
        lvm_panic("exec: op %s is never emitted by lowering", exec_op_name((enum exec_op)load_word(pc)));

#if !LVM_THREADED
    default:
        lvm_panic("exec: bad op %llu", (unsigned long long)load_word(pc));
    }
#endif

    /* {====== calls, yields, traps */

do_call:
    /* Entered from CALL / CALL_INDIRECT with callee, newfp (its args) and
     * ret (the caller's continuation); pc still names the call, so a yield
     * here re-executes it on resume. */
    if (LVM_UNLIKELY(--reds < 0))
        goto yield;
enter_call:
    /* From catch_call too, with f as callee: no charge (the host call was
     * charged), no host function (lvm_hostcall_catch checked). */
    {
        /* The fast path tests one pointer: a wasm function already lowered.
         * Host functions and first calls (code is NULL) take the slow path. */
        exec_code *code = callee->code;
        if (LVM_UNLIKELY(!code)) {
            if (vm_func_is_host(callee))
                goto host_call;
            err = exec_code_of(callee, &code);
            if (err)
                goto trap;
        }
        if (LVM_UNLIKELY(newfp + code->nslots > t->stack_end)) {
            size_t fpo = (size_t)(fp - t->stack), nfo = (size_t)(newfp - t->stack);
            if (!grow_stack(t, nfo, code->nslots)) TRAP(STACK_EXHAUSTED);
            fp = t->stack + fpo;
            newfp = t->stack + nfo;
        }
        /* frames_cap never exceeds max_depth + 1 (grow_frames), so one
         * compare covers both "grow the frame array" and "too deep". */
        if (LVM_UNLIKELY(t->depth + 1 >= t->frames_cap)) {
            if (t->depth >= t->max_depth || !grow_frames(t))
                TRAP(STACK_EXHAUSTED);
        }
        exec_frame *fr = &t->frames[t->depth++];
        fr->ret_pc = ret;
        fr->fp_off = (size_t)(fp - t->stack);
        fr->inst = inst;
        fr->fn = fn;
        /* Declared locals start at zero (params are already in place);
         * the constant slots follow them. */
        memset(newfp + code->nparams, 0, (code->nlocals - code->nparams) * sizeof *newfp);
        if (code->nconsts)
            memcpy(newfp + code->nlocals, code->consts, code->nconsts * sizeof *newfp);
        fp = newfp;
        inst = callee->inst;
        fn = callee;
        pc = code->cells;
        LOAD_MEM();
        DISPATCH();
    }

host_call:
    {
        const lvm_functype *ft = callee->type;
        size_t need = ft->nparams > ft->nresults ? ft->nparams : ft->nresults;
        if (LVM_UNLIKELY(newfp + need > t->stack_end)) {
            size_t fpo = (size_t)(fp - t->stack), nfo = (size_t)(newfp - t->stack);
            if (!grow_stack(t, nfo, need)) TRAP(STACK_EXHAUSTED);
            fp = t->stack + fpo;
            newfp = t->stack + nfo;
        }
        t->pc = pc;
        t->fp = fp;
        t->inst = inst;
        t->fn = fn;
        t->host_fn = callee;
        const vm_host_func *hf = vm_host_of(callee);
        lvm_hostcall hc = { t, inst, hf->host_data };
        err = hf->host(&hc, newfp);
        if (LVM_UNLIKELY(err)) {
            if (err == LVM_ERR_BLOCK) {
                CHARGE_FUEL();
                return LVM_ERR_BLOCK;   /* pc is on the call: resuming retries it */
            }
            if (err == LVM_ERR_CALL)
                goto catch_call;
            goto trap;
        }
        if (LVM_UNLIKELY(t->host_charge)) {
            /* A costly host call (lvm_hostcall_charge): the budget may go
             * negative, and the next reduction then yields. */
            reds -= t->host_charge;
            t->host_charge = 0;
        }
        LOAD_MEM();
        pc = ret;
        DISPATCH();
    }

catch_call:
    /* The host function asked for f as a caught call (lvm_hostcall_catch,
     * thread.c): record where the host call stands, then enter f like a
     * wasm call with the host call's arguments in place at newfp (the
     * types are equal) and CATCH_RET as its return address. */
    {
        lvm_func *f = t->catch_fn;
        t->catch_fn = NULL;
        if (LVM_UNLIKELY(!f))
            TRAP(HOST);                 /* LVM_ERR_CALL without a catch */
        if (t->ncatch == t->catch_cap && !grow_catches(t)) {
            err = LVM_ERR_NO_MEMORY;
            goto trap;
        }
        exec_catch *c = &t->catches[t->ncatch++];
        c->depth = t->depth;
        c->nresults = callee->type->nresults;
        c->fp_off = (size_t)(fp - t->stack);
        c->res_off = (size_t)(newfp - t->stack);
        c->ret_pc = ret;
        c->inst = inst;
        c->fn = fn;
        callee = f;
        ret = t->catch_cells;
        goto enter_call;
    }

exit_run:
    CHARGE_FUEL();
    return LVM_OK;

bulk_yield:
    /* A bulk instruction cut short: its piece paid for all it did (reds
     * is what is left), where the other yields come from a charge that
     * failed and is undone below. */
    reds--;
yield:
    /* Budget spent: save the state; pc names the instruction to re-run.
     * If it was the fuel that ran out, that instruction's reduction is
     * one more than the thread may spend: trap instead. */
    t->pc = pc;
    t->fp = fp;
    t->inst = inst;
    t->fn = fn;
    if (LVM_UNLIKELY(t->fuel_limited)) {
        charge_fuel(t, reds + 1);       /* the failed charge was not spent */
        if (t->fuel == 0) {
            err = LVM_ERR_TRAP_FUEL;
            goto trap;
        }
    }
    return LVM_ERR_YIELD;

trap:
    /* A trap inside a catch (lvm_hostcall_catch) unwinds to the innermost
     * one: back to the host call's caller, the frames above it dropped,
     * the call's results zero, on after the call, in the same slice.  Not
     * proc_exit, fuel or a kill, which end the whole run, nor a host error
     * that is not a trap (out of memory).  The caught trap records no
     * backtrace: the thread's is that of the last trap that ended a run.
     * A bulk instruction cut short below the catch is abandoned. */
    if (t->ncatch && lvm_err_is_trap(err) && err != LVM_ERR_TRAP_EXIT
        && err != LVM_ERR_TRAP_FUEL && err != LVM_ERR_TRAP_KILLED) {
        exec_catch *c = &t->catches[--t->ncatch];
        t->depth = c->depth;
        fp = t->stack + c->fp_off;
        inst = c->inst;
        fn = c->fn;
        memset(t->stack + c->res_off, 0, c->nresults * sizeof(lvm_val));
        pc = c->ret_pc;
        t->bulk_pc = NULL;
        LOAD_MEM();             /* f may have grown memory */
        DISPATCH();
    }
    /* Record the backtrace (innermost first), then unwind everything. */
    CHARGE_FUEL();
    t->ncatch = 0;
    t->nbt = 0;
    if (!t->bt)
        t->bt = malloc(EXEC_BACKTRACE_MAX * sizeof *t->bt);
    if (t->bt) {
        if (fn)
            t->bt[t->nbt++] = fn;
        for (uint32_t i = t->depth; i > 0 && t->nbt < EXEC_BACKTRACE_MAX; i--)
            if (t->frames[i - 1].fn)
                t->bt[t->nbt++] = t->frames[i - 1].fn;
    }
    t->depth = 0;
    t->pc = pc;
    t->fp = fp;
    t->inst = inst;
    t->fn = fn;
    return err;

    /* }====== */
}
