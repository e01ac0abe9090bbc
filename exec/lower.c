/*
 * lower.c - translate one validated function body into lvm's threaded code.
 *
 * Input: the body's bytes, already validated by decoder/validate.c, so this
 * pass never checks anything the validator checked.  Output: an exec_code
 * (see exec.h for the cell format and the frame layout).
 *
 * The translation turns wasm's stack machine into three-address code over
 * frame slots, the way WAMR's fast interpreter does.  It keeps a model of
 * the operand stack in which every entry says where its value is:
 *
 *   TEMP      in its home slot, temp_base + height (computed by an instruction)
 *   LOCAL x   still in local x: `local.get x` emitted nothing
 *   CONST c   in c's constant slot: `i32.const c` emitted nothing
 *
 * Constant slots lie between the locals and the temporaries; the function's
 * distinct constants are copied into them at every call (a few stores per
 * call, against one dispatch per use of a constant otherwise: measured
 * ~10-25% on loop-heavy code).  They are numbered by a pre-scan of the body
 * (number_constants), one slot per distinct value, so the temporaries'
 * slots are known before the first instruction is lowered.  A consumer
 * reads every entry in place.  So
 * `local.get a; i32.const 1; i32.add; local.set a` becomes the single cell
 * group `i32.add a, a, <slot of 1>` (the add writes its home slot, and the
 * local.set retargets it: see set_local).  The rules that keep this correct:
 *
 *  1. Preserve.  Before local x is overwritten, every LOCAL x entry still on
 *     the model stack is copied to its home slot and becomes TEMP.
 *  2. Materialize at block boundaries.  On entry to block/loop/if the whole
 *     model stack is made TEMP, so code inside a block (whose preserves are
 *     conditional) never leaves an outer entry pointing at a changed local.
 *  3. Branches move values.  A branch to a label whose values start at height
 *     H writes the top `arity` values to home slots H..H+arity-1 (copies in
 *     ascending order are safe: a destination is never above its source).
 *     A fall-through `end` finds its values already at those heights.
 *  4. Calls pass arguments in place: the args are the caller's top home
 *     slots, which are the callee's first locals (the callee frame starts
 *     there); the results come back in the same slots.
 *
 * Rejected alternative: a plain stack interpreter (push/pop through a stack
 * pointer).  It is simpler, but every `local.get` and constant costs a
 * dispatch, which is most instructions in compiled code; the notes in the
 * design folder measure the slot design as the larger of the two big wins
 * (with pre-decoding).
 *
 * Reductions: branches to a loop head use the BR_BACK forms, which charge
 * the reduction counter; calls charge it in the interpreter.  Nothing else
 * does, so straight-line code pays nothing for preemption.
 */
#include "exec.h"

#include <string.h>

enum { K_TEMP, K_LOCAL, K_CONST };

typedef struct ventry {
    uint8_t kind;
    uint8_t type;
    uint32_t local;             /* K_LOCAL, K_CONST: the slot it is in */
} ventry;

enum { C_BLOCK, C_LOOP, C_IF, C_FUNC };

#define NO_FIXUP UINT32_MAX

typedef struct ctrl {
    uint8_t kind;
    bool unreachable;
    bool has_else;
    uint32_t height;            /* operand height below the block's params */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
    uint32_t loop_pc;           /* C_LOOP: cell index of the loop head */
    uint32_t fixups;            /* forward branches to patch at `end` */
    uint32_t else_fixup;        /* C_IF: the BR_UNLESS to patch at `else` */
} ctrl;

typedef struct lower {
    const lvm_module *m;
    decode_reader r;
    uint32_t nlocals;
    const uint8_t *local_types;
    uint32_t temp_base;         /* slot of operand height 0: after the
                                   locals and the constant slots */

    /* Constant slots: each distinct constant of the function gets a slot
     * right after the locals, filled from `consts` at every call.  All of
     * them are found by number_constants before lowering starts. */
    lvm_val *consts;
    uint32_t nconsts, const_cap;    /* distinct constants / room in consts */
    uint32_t *const_hash;           /* open addressing: const index + 1 */
    uint32_t hash_mask;
    /* The constant index of each constant instruction, in body order, and
     * the next one to lower (dead code advances it too). */
    uint32_t *const_of;
    uint32_t nconst_ops, const_ops_cap, next_const;

    uint32_t *cells;
    uint32_t ncells, cap;

    ventry *vs;
    uint32_t h, vcap, max_h;
    uint32_t nlocal_refs;       /* K_LOCAL entries on vs (rule 1 fast path) */
    uint32_t nnontemp;          /* non-TEMP entries on vs (rule 2 fast path) */

    ctrl *cs;
    uint32_t ncs, ccap;

    /* The last emitted instruction, if it wrote a fresh TEMP: set_local can
     * retarget it instead of emitting a copy. */
    uint32_t last_dst_cell, last_dst_height, last_end;
    uint32_t last_start;        /* ...its first cell */
    uint16_t last_op;           /* ...and its op */

    uint8_t single[1];          /* scratch for one-valtype block types */
    bool oom;
} lower;

/* {====== emitting cells */

static void grow_cells(lower *L, uint32_t n)
{
    if ((size_t)L->ncells + n <= L->cap)
        return;
    size_t cap = lvm_grow_cap(L->cap, (size_t)L->ncells + n, 256, sizeof *L->cells, UINT32_MAX);
    uint32_t *c = cap ? realloc(L->cells, cap * sizeof *c) : NULL;
    if (!c) {
        L->oom = true;
        return;
    }
    L->cells = c;
    L->cap = (uint32_t)cap;
}

static void emit(lower *L, uint32_t v)
{
    grow_cells(L, 1);
    if (!L->oom)
        L->cells[L->ncells++] = v;
}

static void emit_op(lower *L, enum exec_op op)
{
    uint64_t h = exec_handler(op);
    emit(L, (uint32_t)h);
    emit(L, (uint32_t)(h >> 32));
    L->last_end = UINT32_MAX;   /* until emit_result says otherwise */
}

/* Record that the instruction just emitted (whose dst operand is at cell
 * `dst_cell`) produced the TEMP at `height`. */
static void emit_result(lower *L, uint16_t op, uint32_t start, uint32_t dst_cell, uint32_t height)
{
    L->last_op = op;
    L->last_start = start;
    L->last_dst_cell = dst_cell;
    L->last_dst_height = height;
    L->last_end = L->ncells;
}

/* A forward branch operand: link it into *list, patched by bind(). */
static void emit_fixup(lower *L, uint32_t *list)
{
    uint32_t at = L->ncells;
    emit(L, *list);
    *list = at;
}

/* A backward branch operand: relative to its own cell. */
static void emit_back(lower *L, uint32_t target)
{
    emit(L, (uint32_t)(int32_t)((int64_t)target - (int64_t)L->ncells));
}

static void bind(lower *L, uint32_t list, uint32_t target)
{
    while (list != NO_FIXUP && !L->oom) {
        uint32_t next = L->cells[list];
        L->cells[list] = (uint32_t)(int32_t)((int64_t)target - (int64_t)list);
        list = next;
    }
}

/* }====== */

/* {====== the model stack */

static uint32_t home(const lower *L, uint32_t height) { return L->temp_base + height; }

static ventry *push(lower *L, uint8_t kind, uint8_t type)
{
    if (L->h == L->vcap) {
        size_t cap = lvm_grow_cap(L->vcap, (size_t)L->h + 1, 64, sizeof *L->vs, UINT32_MAX);
        ventry *v = cap ? realloc(L->vs, cap * sizeof *v) : NULL;
        if (!v) {
            L->oom = true;
            static ventry sink;
            return &sink;
        }
        L->vs = v;
        L->vcap = (uint32_t)cap;
    }
    ventry *e = &L->vs[L->h++];
    if (L->h > L->max_h)
        L->max_h = L->h;
    e->kind = kind;
    e->type = type;
    e->local = 0;
    if (kind != K_TEMP)
        L->nnontemp++;
    if (kind == K_LOCAL)
        L->nlocal_refs++;
    return e;
}

/* Push a TEMP and return its home slot. */
static uint32_t push_temp(lower *L, uint8_t type)
{
    push(L, K_TEMP, type);
    return home(L, L->h - 1);
}

static void forget(lower *L, const ventry *e)
{
    if (e->kind != K_TEMP)
        L->nnontemp--;
    if (e->kind == K_LOCAL)
        L->nlocal_refs--;
}

static void pop_n(lower *L, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        forget(L, &L->vs[--L->h]);
}


static void emit_copy(lower *L, uint32_t dst, uint32_t src)
{
    emit_op(L, XOP_COPY);
    emit(L, dst);
    emit(L, src);
}

/* Write entry e's value into slot dst (no change to the model). */
static void emit_value_to(lower *L, const ventry *e, uint32_t src_height, uint32_t dst)
{
    switch (e->kind) {
    case K_TEMP:
        if (home(L, src_height) != dst)
            emit_copy(L, dst, home(L, src_height));
        break;
    case K_LOCAL:
    case K_CONST:
        emit_copy(L, dst, e->local);
        break;
    }
}

/* Make the entry at `height` a TEMP in its home slot. */
static void materialize(lower *L, uint32_t height)
{
    ventry *e = &L->vs[height];
    if (e->kind == K_TEMP)
        return;
    emit_value_to(L, e, height, home(L, height));
    forget(L, e);
    e->kind = K_TEMP;
}

static void materialize_top(lower *L, uint32_t n)
{
    if (L->nnontemp == 0)
        return;
    for (uint32_t i = L->h - n; i < L->h; i++)
        materialize(L, i);
}

static void materialize_all(lower *L) { materialize_top(L, L->h); }

/* The slot an instruction reads the entry at `height` from.  LOCAL and TEMP
 * are read in place; a CONST is written to its home slot first. */
static uint32_t operand(lower *L, uint32_t height)
{
    ventry *e = &L->vs[height];
    if (e->kind != K_TEMP)
        return e->local;                /* a local's or a constant's slot */
    materialize(L, height);
    return home(L, height);
}

/* Slots of the top n entries (bottom first), then pop them. */
static void operands(lower *L, uint32_t n, uint32_t *slots)
{
    for (uint32_t i = 0; i < n; i++)
        slots[i] = operand(L, L->h - n + i);
    pop_n(L, n);
}

/* Rule 1: copy every LOCAL x entry to its home slot before x changes. */
static void preserve_local(lower *L, uint32_t x)
{
    if (L->nlocal_refs == 0)
        return;
    for (uint32_t i = 0; i < L->h; i++) {
        ventry *e = &L->vs[i];
        if (e->kind == K_LOCAL && e->local == x)
            materialize(L, i);
    }
}

/* local.set x / local.tee x: store the top entry into local x.  Pops it
 * for set; for tee the entry stays and then names the local. */
static void set_local(lower *L, uint32_t x, bool tee)
{
    uint32_t top = L->h - 1;
    ventry v = L->vs[top];
    bool was_local_x = v.kind == K_LOCAL && v.local == x;
    pop_n(L, 1);
    if (was_local_x) {              /* local.get x; local.set x: no-op */
        if (tee)
            push(L, K_LOCAL, v.type)->local = x;
        return;
    }
    bool need_preserve = false;
    if (L->nlocal_refs) {
        for (uint32_t i = 0; i < L->h; i++)
            if (L->vs[i].kind == K_LOCAL && L->vs[i].local == x)
                need_preserve = true;
    }
    if (v.kind == K_TEMP && !need_preserve && L->last_end == L->ncells &&
        L->last_dst_height == top) {
        /* The value was just computed into its home slot: compute it into
         * the local instead. */
        L->cells[L->last_dst_cell] = x;
    } else {
        preserve_local(L, x);
        emit_value_to(L, &v, top, x);
    }
    L->last_end = UINT32_MAX;
    if (tee) {
        if (v.kind == K_CONST) {
            push(L, K_CONST, v.type)->local = v.local;
        } else {
            push(L, K_LOCAL, v.type)->local = x;
        }
    }
}

/* }====== */

/* {====== control */

static ctrl *push_ctrl(lower *L, uint8_t kind, uint32_t np, const uint8_t *params,
                       uint32_t nr, const uint8_t *results)
{
    if (L->ncs == L->ccap) {
        size_t cap = lvm_grow_cap(L->ccap, (size_t)L->ncs + 1, 16, sizeof *L->cs, UINT32_MAX);
        ctrl *c = cap ? realloc(L->cs, cap * sizeof *c) : NULL;
        if (!c) {
            L->oom = true;
            static ctrl sink;
            return &sink;
        }
        L->cs = c;
        L->ccap = (uint32_t)cap;
    }
    ctrl *c = &L->cs[L->ncs++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->height = L->h - np;
    c->nparams = np;
    c->nresults = nr;
    c->params = params;
    c->results = results;
    c->fixups = NO_FIXUP;
    c->else_fixup = NO_FIXUP;
    c->loop_pc = L->ncells;
    return c;
}

/* Read a block type: fills params/results (pointing into the module's type
 * pool or L->single). */
static void read_blocktype(lower *L, uint32_t *np, const uint8_t **params,
                           uint32_t *nr, const uint8_t **results)
{
    uint8_t b = *L->r.p;
    *np = 0;
    *params = NULL;
    if (b == 0x40) {
        L->r.p++;
        *nr = 0;
        *results = NULL;
    } else if (lvm_is_valtype(b) || b == LVM_V128) {
        L->r.p++;
        *nr = 1;
        /* The type byte itself is the one-element result list. */
        *results = L->r.p - 1;
    } else {
        int64_t idx = decode_read_s33_unchecked(&L->r);
        const lvm_functype *ft = &L->m->types[idx];
        *np = ft->nparams;
        *params = ft->types;
        *nr = ft->nresults;
        *results = ft->types + ft->nparams;
    }
}

/* Mark the rest of the current block unreachable: drop the model stack to
 * the block's base.  Later instructions up to its else/end are skipped. */
static void set_unreachable(lower *L)
{
    ctrl *c = &L->cs[L->ncs - 1];
    pop_n(L, L->h - c->height);
    c->unreachable = true;
    L->last_end = UINT32_MAX;
}

static uint32_t label_arity(const ctrl *t)
{
    return t->kind == C_LOOP ? t->nparams : t->nresults;
}

/* True if branching to t needs no value moves (the values are TEMPs
 * already at the label's heights). */
static bool moves_needed(const lower *L, const ctrl *t)
{
    uint32_t n = label_arity(t);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t src = L->h - n + i;
        if (L->vs[src].kind != K_TEMP || src != t->height + i)
            return true;
    }
    return false;
}

/* Rule 3: write the top values to the label's slots (ascending: safe). */
static void emit_moves(lower *L, const ctrl *t)
{
    uint32_t n = label_arity(t);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t src = L->h - n + i;
        emit_value_to(L, &L->vs[src], src, home(L, t->height + i));
    }
}

/* return: the top nresults values to slots 0..n-1 of the frame.  Values
 * not yet in their home slots are written there first, so RETURN copies one
 * contiguous range.  The model is not changed: this may be a conditional
 * path (br_if, br_table stubs), and writing a home slot whose entry lives
 * elsewhere is harmless on the other path. */
static void emit_return(lower *L)
{
    uint32_t n = L->cs[0].nresults;
    for (uint32_t i = L->h - n; i < L->h; i++)
        emit_value_to(L, &L->vs[i], i, home(L, i));
    emit_op(L, XOP_RETURN);
    emit(L, home(L, L->h - n));
    emit(L, n);
}

/* An unconditional jump to t, values moved already (or not needed). */
static void emit_jump(lower *L, ctrl *t)
{
    if (t->kind == C_FUNC) {
        emit_return(L);
    } else if (t->kind == C_LOOP) {
        emit_op(L, XOP_BR_BACK);
        emit_back(L, t->loop_pc);
    } else {
        emit_op(L, XOP_BR);
        emit_fixup(L, &t->fixups);
    }
}

/* {------ compare-and-branch fusion (xops.def) */

/* A branch condition, as emitted: a slot tested for non-zero, or an
 * integer compare of two slots (cmp: the BR_I32_EQ.. index, or -1). */
typedef struct cond {
    int cmp;
    bool zero;                  /* cmp < 0: true when the slot is zero */
    uint32_t a, b;
} cond;

/* Pop the condition on top of the model.  If the instruction just emitted
 * is an integer compare (or an i32.eqz) that produced it, take that
 * instruction back: the branch will do the test itself.  The eqz form
 * measured 5.5% fewer instructions on the sieve (callgrind). */
static cond pop_cond(lower *L)
{
    cond c = { -1, false, 0, 0 };
    uint32_t top = L->h - 1;
    if (L->vs[top].kind == K_TEMP && L->last_end == L->ncells && L->last_dst_height == top) {
        int k = -1;
        if (L->last_op >= OP_I32_EQ && L->last_op <= OP_I32_GE_U)
            k = L->last_op - OP_I32_EQ;
        else if (L->last_op >= OP_I64_EQ && L->last_op <= OP_I64_GE_U)
            k = 10 + (L->last_op - OP_I64_EQ);
        if (L->last_op == OP_I32_EQZ) {         /* [op op][dst][a] */
            c.zero = true;
            c.a = L->cells[L->last_start + 3];
            L->ncells = L->last_start;
            L->last_end = UINT32_MAX;
            pop_n(L, 1);
            return c;
        }
        if (k >= 0) {
            c.cmp = k;
            c.a = L->cells[L->last_start + 3];  /* [op op][dst][a][b] */
            c.b = L->cells[L->last_start + 4];
            L->ncells = L->last_start;
            L->last_end = UINT32_MAX;
            pop_n(L, 1);
            return c;
        }
    }
    c.a = operand(L, top);
    pop_n(L, 1);
    return c;
}

/* The compare that is true exactly when `cmp` is false (integers only). */
static int negate_cmp(int cmp)
{
    static const int8_t inverse[10] = { 1, 0, 8, 9, 6, 7, 4, 5, 2, 3 };
    return (cmp / 10) * 10 + inverse[cmp % 10];
}

/* Emit "if (c holds) jump", with a forward fixup or to a loop head. */
static void emit_cond_jump(lower *L, cond c, bool negate, bool back, uint32_t *fixups,
                           uint32_t loop_pc)
{
    if (c.cmp >= 0) {
        int k = negate ? negate_cmp(c.cmp) : c.cmp;
        emit_op(L, (enum exec_op)((back ? XOP_BR_I32_EQ_BACK : XOP_BR_I32_EQ) + k));
        emit(L, c.a);
        emit(L, c.b);
    } else {
        bool when_zero = negate != c.zero;
        emit_op(L, when_zero ? (back ? XOP_BR_UNLESS_BACK : XOP_BR_UNLESS)
                             : (back ? XOP_BR_IF_BACK : XOP_BR_IF));
        emit(L, c.a);
    }
    if (back)
        emit_back(L, loop_pc);
    else
        emit_fixup(L, fixups);
}

/* }------ */

static void lower_br(lower *L, uint32_t depth)
{
    ctrl *t = &L->cs[L->ncs - 1 - depth];
    if (t->kind != C_FUNC)
        emit_moves(L, t);
    emit_jump(L, t);
    set_unreachable(L);
}

static void lower_br_if(lower *L, uint32_t depth)
{
    cond c = pop_cond(L);
    ctrl *t = &L->cs[L->ncs - 1 - depth];
    if (t->kind != C_FUNC && !moves_needed(L, t)) {
        emit_cond_jump(L, c, false, t->kind == C_LOOP, &t->fixups, t->loop_pc);
        return;
    }
    /* if (!cond) skip; moves; jump; skip: */
    uint32_t skip = NO_FIXUP;
    emit_cond_jump(L, c, true, false, &skip, 0);
    if (t->kind != C_FUNC)
        emit_moves(L, t);
    emit_jump(L, t);
    bind(L, skip, L->ncells);
    L->last_end = UINT32_MAX;
}

static void lower_br_table(lower *L)
{
    uint32_t n = decode_read_u32_unchecked(&L->r);
    uint32_t idx = operand(L, L->h - 1);
    pop_n(L, 1);
    emit_op(L, XOP_BR_TABLE);
    emit(L, idx);
    emit(L, n);
    uint32_t table = L->ncells;
    for (uint32_t i = 0; i <= n; i++)
        emit(L, 0);
    /* Each entry jumps straight to a block's end when no values move, or
     * else to a stub after the table that moves them and jumps (loops go
     * through a stub too, to charge a reduction on the back-edge). */
    for (uint32_t i = 0; i <= n && !L->oom; i++) {
        uint32_t depth = decode_read_u32_unchecked(&L->r);
        ctrl *t = &L->cs[L->ncs - 1 - depth];
        uint32_t cell = table + i;
        if (t->kind == C_BLOCK || t->kind == C_IF) {
            if (!moves_needed(L, t)) {
                L->cells[cell] = t->fixups;
                t->fixups = cell;
                continue;
            }
        }
        L->cells[cell] = L->ncells - cell;
        if (t->kind != C_FUNC)
            emit_moves(L, t);
        emit_jump(L, t);
    }
    set_unreachable(L);
}

static void lower_call(lower *L, const lvm_functype *ft, enum exec_op op,
                       uint32_t a, uint32_t b)
{
    uint32_t idx_slot = 0;
    if (op == XOP_CALL_INDIRECT) {
        idx_slot = operand(L, L->h - 1);
        pop_n(L, 1);
    }
    /* Rule 4: arguments in place.  Entries below them are untouched by the
     * callee (its frame starts at the first argument). */
    materialize_top(L, ft->nparams);
    uint32_t argbase = home(L, L->h - ft->nparams);
    pop_n(L, ft->nparams);
    emit_op(L, op);
    emit(L, a);
    if (op == XOP_CALL_INDIRECT) {
        emit(L, b);
        emit(L, idx_slot);
    }
    emit(L, argbase);
    for (uint32_t i = 0; i < ft->nresults; i++)
        push_temp(L, ft->types[ft->nparams + i]);
    /* A host callee writes its results over its arguments. */
    uint32_t need = (argbase - L->nlocals) + (ft->nparams > ft->nresults ? ft->nparams : ft->nresults);
    if (need > L->max_h)
        L->max_h = need;
}

static void lower_block(lower *L, uint8_t kind)
{
    uint32_t np, nr;
    const uint8_t *params, *results;
    read_blocktype(L, &np, &params, &nr, &results);
    cond cd = { -1, false, 0, 0 };
    if (kind == C_IF)
        cd = pop_cond(L);
    materialize_all(L);                 /* rule 2: writes no slot cd reads */
    ctrl *c = push_ctrl(L, kind, np, params, nr, results);
    if (kind == C_IF)
        emit_cond_jump(L, cd, true, false, &c->else_fixup, 0);
    c->loop_pc = L->ncells;
    L->last_end = UINT32_MAX;
}

/* Reset the model stack to `height` + the given TEMP types. */
static void reset_stack(lower *L, uint32_t height, uint32_t n, const uint8_t *types)
{
    pop_n(L, L->h - height);
    for (uint32_t i = 0; i < n; i++)
        push_temp(L, types[i]);
}

static void lower_else(lower *L)
{
    ctrl *c = &L->cs[L->ncs - 1];
    if (!c->unreachable) {
        materialize_top(L, c->nresults);
        emit_op(L, XOP_BR);
        emit_fixup(L, &c->fixups);
    }
    bind(L, c->else_fixup, L->ncells);
    c->else_fixup = NO_FIXUP;
    c->has_else = true;
    c->unreachable = false;
    /* The params are still in their home slots: the then-branch, which
     * overwrote them, did not run. */
    reset_stack(L, c->height, c->nparams, c->params);
    L->last_end = UINT32_MAX;
}

/* Returns true at the function's final end. */
static bool lower_end(lower *L)
{
    ctrl *c = &L->cs[L->ncs - 1];
    if (!c->unreachable)
        materialize_top(L, c->nresults);
    if (c->kind == C_IF && c->else_fixup != NO_FIXUP)
        bind(L, c->else_fixup, L->ncells);  /* no else: params are results */
    bind(L, c->fixups, L->ncells);
    if (c->kind == C_FUNC) {
        if (!c->unreachable) {
            reset_stack(L, 0, c->nresults, c->results);
            emit_return(L);
        }
        return true;
    }
    uint32_t height = c->height, nr = c->nresults;
    const uint8_t *results = c->results;
    L->ncs--;
    reset_stack(L, height, nr, results);
    L->last_end = UINT32_MAX;
    return false;
}

/* }====== */

/* {====== instructions */

/* The ~150 "simple" ops of opcodes.def: at most two operands, at most one
 * result, optional memarg.  Emitted as [op][dst?][a?][b?][offset?]. */
static void lower_simple(lower *L, uint16_t op)
{
    const decode_opinfo *oi = &decode_ops[op];
    uint32_t nin = (oi->p1 != 0) + (oi->p2 != 0);
    uint32_t offset = 0;
    if (oi->imm == IMM_MEMARG) {
        (void)decode_read_u32_unchecked(&L->r);            /* align: a hint */
        offset = decode_read_u32_unchecked(&L->r);
    } else if (oi->imm == IMM_MEMIDX) {
        L->r.p++;
    }
    /* An address computed by the i32.add just emitted: fold the add into
     * the access (the _SUM forms of xops.def).  The address is the top
     * entry for a load, the one below the value for a store; the add must
     * still be the last instruction (a store's value then came from a
     * local or a constant). */
    if (oi->imm == IMM_MEMARG) {
        uint32_t at = L->h - nin;
        if (L->vs[at].kind == K_TEMP && L->last_end == L->ncells && L->last_dst_height == at &&
            L->last_op == OP_I32_ADD) {
            uint32_t a = L->cells[L->last_start + 3], b = L->cells[L->last_start + 4];
            L->ncells = L->last_start;
            uint32_t value = nin == 2 ? operand(L, L->h - 1) : 0;
            pop_n(L, nin);
            emit_op(L, (enum exec_op)(XOP_I32_LOAD_SUM + (op - OP_I32_LOAD)));
            uint32_t dst_cell = L->ncells;
            if (oi->result)
                emit(L, push_temp(L, oi->result));
            emit(L, a);
            emit(L, b);
            if (nin == 2)
                emit(L, value);
            emit(L, offset);
            if (oi->result)
                emit_result(L, op, dst_cell - 2, dst_cell, L->h - 1);
            return;
        }
    }
    uint32_t in[2];
    operands(L, nin, in);
    uint32_t start = L->ncells;
    emit_op(L, (enum exec_op)op);
    uint32_t dst_cell = 0;
    if (oi->result) {
        dst_cell = L->ncells;
        emit(L, push_temp(L, oi->result));
    }
    for (uint32_t i = 0; i < nin; i++)
        emit(L, in[i]);
    if (oi->imm == IMM_MEMARG)
        emit(L, offset);
    if (oi->result)
        emit_result(L, op, start, dst_cell, L->h - 1);
}

static bool is_const_op(uint16_t op)
{
    return op == OP_I32_CONST || op == OP_I64_CONST || op == OP_F32_CONST ||
           op == OP_F64_CONST || op == OP_REF_NULL;
}

/* The next constant instruction: its slot is the one number_constants
 * gave its value.  i32/f32 constants are stored zero-extended, so equal
 * slot contents mean equal values for every reader. */
static void push_const(lower *L, uint8_t type)
{
    LVM_ASSERT(L->next_const < L->nconst_ops);
    push(L, K_CONST, type)->local = L->nlocals + L->const_of[L->next_const++];
}

/* Emit [op][dst] + operands popped from the model (nin of them) + extra
 * immediates; pushes a TEMP of `result` type if result != 0. */
static void lower_generic(lower *L, enum exec_op op, uint32_t nin, uint8_t result,
                          uint32_t nimm, const uint32_t *imm)
{
    uint32_t in[3];
    operands(L, nin, in);
    emit_op(L, op);
    if (result)
        emit(L, push_temp(L, result));
    for (uint32_t i = 0; i < nin; i++)
        emit(L, in[i]);
    for (uint32_t i = 0; i < nimm; i++)
        emit(L, imm[i]);
}

static void lower_body(lower *L, const lvm_functype *ft)
{
    const lvm_module *m = L->m;
    push_ctrl(L, C_FUNC, 0, NULL, ft->nresults, ft->types + ft->nparams);
    uint32_t skip_depth = 0;

    while (!L->oom) {
        ctrl *c = &L->cs[L->ncs - 1];
        uint16_t op = decode_read_op(&L->r);
        const decode_opinfo *oi = &decode_ops[op];

        if (c->unreachable) {
            /* Dead code: track nesting only, until our own else/end. */
            if (op == OP_BLOCK || op == OP_LOOP || op == OP_IF) {
                skip_depth++;
                decode_skip_immediates(&L->r, oi->imm);
                continue;
            }
            if (op == OP_END || op == OP_ELSE) {
                if (skip_depth > 0) {
                    if (op == OP_END)
                        skip_depth--;
                    continue;
                }
            } else {
                if (is_const_op(op))
                    L->next_const++;    /* keep const_of in step */
                decode_skip_immediates(&L->r, oi->imm);
                continue;
            }
        }

        if (oi->p1 != DECODE_SPECIAL && op != OP_I32_CONST && op != OP_I64_CONST &&
            op != OP_F32_CONST && op != OP_F64_CONST) {
            lower_simple(L, op);
            continue;
        }

        switch (op) {
        case OP_I32_CONST:
            decode_skip_immediates(&L->r, IMM_I32);
            push_const(L, LVM_I32);
            break;
        case OP_I64_CONST:
            decode_skip_immediates(&L->r, IMM_I64);
            push_const(L, LVM_I64);
            break;
        case OP_F32_CONST:
            L->r.p += 4;
            push_const(L, LVM_F32);
            break;
        case OP_F64_CONST:
            L->r.p += 8;
            push_const(L, LVM_F64);
            break;
        case OP_UNREACHABLE:
            emit_op(L, XOP_UNREACHABLE);
            set_unreachable(L);
            break;
        case OP_NOP:
            break;
        case OP_BLOCK:
            lower_block(L, C_BLOCK);
            break;
        case OP_LOOP:
            lower_block(L, C_LOOP);
            break;
        case OP_IF:
            lower_block(L, C_IF);
            break;
        case OP_ELSE:
            lower_else(L);
            break;
        case OP_END:
            if (lower_end(L))
                return;
            break;
        case OP_BR:
            lower_br(L, decode_read_u32_unchecked(&L->r));
            break;
        case OP_BR_IF:
            lower_br_if(L, decode_read_u32_unchecked(&L->r));
            break;
        case OP_BR_TABLE:
            lower_br_table(L);
            break;
        case OP_RETURN:
            emit_return(L);
            set_unreachable(L);
            break;
        case OP_CALL: {
            uint32_t f = decode_read_u32_unchecked(&L->r);
            lower_call(L, &m->types[m->funcs[f].type], XOP_CALL, f, 0);
            break;
        }
        case OP_CALL_INDIRECT: {
            uint32_t type = decode_read_u32_unchecked(&L->r);
            uint32_t table = decode_read_u32_unchecked(&L->r);
            lower_call(L, &m->types[type], XOP_CALL_INDIRECT, type, table);
            break;
        }
        case OP_DROP:
            pop_n(L, 1);
            break;
        case OP_SELECT:
        case OP_SELECT_T: {
            if (op == OP_SELECT_T)
                decode_skip_immediates(&L->r, IMM_SELECT_T);
            uint8_t type = L->vs[L->h - 2].type;
            lower_generic(L, XOP_SELECT, 3, type, 0, NULL);
            emit_result(L, OP_SELECT, L->ncells - 6, L->ncells - 4, L->h - 1);
            break;
        }
        case OP_LOCAL_GET: {
            uint32_t x = decode_read_u32_unchecked(&L->r);
            push(L, K_LOCAL, L->local_types[x])->local = x;
            break;
        }
        case OP_LOCAL_SET:
            set_local(L, decode_read_u32_unchecked(&L->r), false);
            break;
        case OP_LOCAL_TEE:
            set_local(L, decode_read_u32_unchecked(&L->r), true);
            break;
        case OP_GLOBAL_GET: {
            uint32_t g = decode_read_u32_unchecked(&L->r);
            lower_generic(L, XOP_GLOBAL_GET, 0, m->globals[g].type, 1, &g);
            emit_result(L, OP_GLOBAL_GET, L->ncells - 4, L->ncells - 2, L->h - 1);
            break;
        }
        case OP_GLOBAL_SET: {
            uint32_t g = decode_read_u32_unchecked(&L->r);
            lower_generic(L, XOP_GLOBAL_SET, 1, 0, 1, &g);
            break;
        }
        case OP_TABLE_GET: {
            uint32_t t = decode_read_u32_unchecked(&L->r);
            lower_generic(L, XOP_TABLE_GET, 1, m->tables[t].elemtype, 1, &t);
            break;
        }
        case OP_TABLE_SET: {
            uint32_t t = decode_read_u32_unchecked(&L->r);
            lower_generic(L, XOP_TABLE_SET, 2, 0, 1, &t);
            break;
        }
        case OP_REF_NULL:
            push_const(L, *L->r.p++);
            break;
        case OP_REF_IS_NULL:
            lower_generic(L, XOP_REF_IS_NULL, 1, LVM_I32, 0, NULL);
            break;
        case OP_REF_FUNC: {
            uint32_t f = decode_read_u32_unchecked(&L->r);
            lower_generic(L, XOP_REF_FUNC, 0, LVM_FUNCREF, 1, &f);
            break;
        }
        case OP_MEMORY_INIT: {
            uint32_t d = decode_read_u32_unchecked(&L->r);
            L->r.p++;
            lower_generic(L, XOP_MEMORY_INIT, 3, 0, 1, &d);
            break;
        }
        case OP_DATA_DROP: {
            uint32_t d = decode_read_u32_unchecked(&L->r);
            lower_generic(L, XOP_DATA_DROP, 0, 0, 1, &d);
            break;
        }
        case OP_MEMORY_COPY:
            L->r.p += 2;
            lower_generic(L, XOP_MEMORY_COPY, 3, 0, 0, NULL);
            break;
        case OP_MEMORY_FILL:
            L->r.p += 1;
            lower_generic(L, XOP_MEMORY_FILL, 3, 0, 0, NULL);
            break;
        case OP_TABLE_INIT: {
            uint32_t imm[2];
            imm[0] = decode_read_u32_unchecked(&L->r);     /* elem */
            imm[1] = decode_read_u32_unchecked(&L->r);     /* table */
            lower_generic(L, XOP_TABLE_INIT, 3, 0, 2, imm);
            break;
        }
        case OP_ELEM_DROP: {
            uint32_t e = decode_read_u32_unchecked(&L->r);
            lower_generic(L, XOP_ELEM_DROP, 0, 0, 1, &e);
            break;
        }
        case OP_TABLE_COPY: {
            uint32_t imm[2];
            imm[0] = decode_read_u32_unchecked(&L->r);     /* dst table */
            imm[1] = decode_read_u32_unchecked(&L->r);     /* src table */
            lower_generic(L, XOP_TABLE_COPY, 3, 0, 2, imm);
            break;
        }
        case OP_TABLE_GROW: {
            uint32_t t = decode_read_u32_unchecked(&L->r);
            lower_generic(L, XOP_TABLE_GROW, 2, LVM_I32, 1, &t);
            break;
        }
        case OP_TABLE_SIZE: {
            uint32_t t = decode_read_u32_unchecked(&L->r);
            lower_generic(L, XOP_TABLE_SIZE, 0, LVM_I32, 1, &t);
            break;
        }
        case OP_TABLE_FILL: {
            uint32_t t = decode_read_u32_unchecked(&L->r);
            lower_generic(L, XOP_TABLE_FILL, 3, 0, 1, &t);
            break;
        }
        default:
            /* Validation admitted an op this pass does not know: a bug in
             * lvm, never bad input. */
            lvm_panic("lower: unhandled opcode %s", oi->text);
        }
    }
}

/* }====== */

/* {====== numbering the constants */

/* The hash table slot of constant `bits`: its index + 1, or a free 0. */
static uint32_t *const_bucket(lower *L, uint64_t bits)
{
    uint32_t i = (uint32_t)((bits * 0x9e3779b97f4a7c15ull) >> 40) & L->hash_mask;
    while (L->const_hash[i] != 0 && L->consts[L->const_hash[i] - 1].bits != bits)
        i = (i + 1) & L->hash_mask;
    return &L->const_hash[i];
}

/* Record the next constant instruction, of value `bits`: a new slot if no
 * equal value has one yet.  The hash table stays at most half full; it,
 * `consts` and `const_of` grow by doubling.  Returns false when out of
 * memory. */
static bool add_constant(lower *L, uint64_t bits)
{
    if (L->nconst_ops == L->const_ops_cap) {
        size_t cap = lvm_grow_cap(L->const_ops_cap, (size_t)L->nconst_ops + 1, 64, sizeof *L->const_of,
                                  UINT32_MAX);
        uint32_t *o = cap ? realloc(L->const_of, cap * sizeof *o) : NULL;
        if (!o)
            return false;
        L->const_of = o;
        L->const_ops_cap = (uint32_t)cap;
    }
    uint32_t *b = const_bucket(L, bits);
    if (*b != 0) {
        L->const_of[L->nconst_ops++] = *b - 1;
        return true;
    }
    if (L->nconsts == L->const_cap) {
        size_t cap = lvm_grow_cap(L->const_cap, (size_t)L->nconsts + 1, 16, sizeof *L->consts,
                                  UINT32_MAX);
        lvm_val *c = cap ? realloc(L->consts, cap * sizeof *c) : NULL;
        if (!c)
            return false;
        L->consts = c;
        L->const_cap = (uint32_t)cap;
    }
    if (2 * (L->nconsts + 1) > L->hash_mask + 1) {
        uint32_t size = 2 * (L->hash_mask + 1);
        uint32_t *h = lvm_xcalloc(size, sizeof *h);
        if (!h)
            return false;
        free(L->const_hash);
        L->const_hash = h;
        L->hash_mask = size - 1;
        for (uint32_t k = 0; k < L->nconsts; k++)
            *const_bucket(L, L->consts[k].bits) = k + 1;
    }
    L->consts[L->nconsts].bits = bits;
    L->const_of[L->nconst_ops++] = L->nconsts;
    *const_bucket(L, bits) = ++L->nconsts;
    return true;
}

/* The pre-scan: give each distinct constant of the body a slot, in order
 * of first appearance (i32/f32 zero-extended, ref.null as 0), and note
 * each constant instruction's slot in const_of for push_const.
 *
 * Why before lowering: the temporaries' slots (temp_base + height) are
 * written into the cells as they are emitted, so the number of constant
 * slots must be known first.  Reserving one slot per constant
 * *instruction* instead, as lvm once did, left a frame of a function with
 * 1,000 `i32.const 0; drop` pairs 1,000 slots long, and one of 5 M pairs
 * over the stack limit before it ran.  Rejected alternatives: renumbering
 * the slot operands after lowering (the cells mix slots with immediates
 * and branch offsets, so every emitter would have to mark its slot cells),
 * and a per-function constant pool outside the frame (every operand read
 * would need a second addressing mode, or a dispatch per constant use).
 * A constant that appears only in unreachable code still gets a slot: the
 * scan does not follow control flow, and compilers leave little dead code. */
static bool number_constants(lower *L, decode_reader r)
{
    L->const_cap = 16;
    L->hash_mask = 31;
    L->consts = lvm_xcalloc(L->const_cap, sizeof *L->consts);
    L->const_hash = lvm_xcalloc(L->hash_mask + 1, sizeof *L->const_hash);
    if (!L->consts || !L->const_hash)
        return false;
    while (r.p < r.end) {
        uint16_t op = decode_read_op(&r);
        uint64_t bits;
        switch (op) {
        case OP_I32_CONST:
            bits = (uint32_t)decode_read_s32_unchecked(&r);
            break;
        case OP_I64_CONST:
            bits = (uint64_t)decode_read_s64_unchecked(&r);
            break;
        case OP_F32_CONST: {
            uint32_t b;
            memcpy(&b, r.p, 4);
            r.p += 4;
            bits = b;
            break;
        }
        case OP_F64_CONST:
            memcpy(&bits, r.p, 8);
            r.p += 8;
            break;
        case OP_REF_NULL:
            r.p++;
            bits = 0;
            break;
        default:
            decode_skip_immediates(&r, decode_ops[op].imm);
            continue;
        }
        if (!add_constant(L, bits))
            return false;
    }
    return true;
}

/* }====== */

lvm_err exec_lower(const lvm_module *m, uint32_t func_index, exec_code **out)
{
    *out = NULL;
    const decode_func *df = &m->funcs[func_index];
    const lvm_functype *ft = &m->types[df->type];
    lower L;
    memset(&L, 0, sizeof L);
    L.m = m;
    L.r.base = m->code_bytes;
    L.r.p = m->code_bytes + df->body_offset;
    L.r.end = m->code_bytes + df->body_end;
    L.r.base_offset = m->code_file_offset;
    L.nlocals = df->nlocals;
    L.local_types = df->local_types;
    L.last_end = UINT32_MAX;

    if (!number_constants(&L, L.r))
        L.oom = true;
    L.temp_base = L.nlocals + L.nconsts;
    if (!L.oom)
        lower_body(&L, ft);

    exec_code *c = lvm_xcalloc(1, sizeof *c);
    free(L.const_hash);
    free(L.const_of);
    if (L.oom || !c) {
        free(c);
        free(L.cells);
        free(L.vs);
        free(L.cs);
        free(L.consts);
        return LVM_ERR_NO_MEMORY;
    }
    /* Give back the table's spare room (it grew by doubling). */
    lvm_val *fit = realloc(L.consts, (L.nconsts ? L.nconsts : 1) * sizeof *fit);
    c->consts = fit ? fit : L.consts;
    c->nconsts = L.nconsts;
    c->cells = L.cells;
    c->ncells = L.ncells;
    c->nparams = ft->nparams;
    c->nresults = ft->nresults;
    c->nlocals = df->nlocals;
    c->nslots = L.temp_base + L.max_h + 1;
    free(L.vs);
    free(L.cs);
    *out = c;
    return LVM_OK;
}

void exec_code_free(exec_code *c)
{
    if (c) {
        free(c->consts);
        free(c->cells);
        free(c);
    }
}

lvm_err exec_code_of(lvm_func *f, exec_code **out)
{
    if (f->code) {
        *out = f->code;
        return LVM_OK;
    }
    lvm_module *m = f->inst->module;
    uint32_t defined = f->index - m->nimported_funcs;
    void *published = __atomic_load_n(&m->code[defined], __ATOMIC_ACQUIRE);
    if (!published) {
        exec_code *c;
        lvm_err err = exec_lower(m, f->index, &c);
        if (err)
            return err;
        void *expected = NULL;
        if (__atomic_compare_exchange_n(&m->code[defined], &expected, c, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            published = c;
        } else {
            exec_code_free(c);          /* another thread lowered it first */
            published = expected;
        }
    }
    f->code = published;
    *out = published;
    return LVM_OK;
}
