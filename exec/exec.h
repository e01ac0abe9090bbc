/*
 * exec.h - lowering of validated wasm bodies into threaded code, and the
 * interpreter that runs it.
 *
 * Lowered code ("cells").  Each function is translated once, on its first
 * call, into an array of 32-bit cells.  An instruction is a 64-bit handler
 * word (the address of its label in the computed-goto build, its op number
 * in the switch build) in two cells, followed by 32-bit operands: frame slot
 * numbers, decoded immediates, and branch offsets relative to the cell that
 * holds them.  There is no LEB128, no block search and no type dispatch at
 * run time.
 *
 * Frames and slots.  A function's frame is a window of 64-bit slots on the
 * thread's value stack: its locals (params first), its constants (one slot
 * per distinct value, copied in at every call, so instructions read a
 * constant like any other slot), then
 * one "home" slot per operand-stack height, so the value at height h always
 * lives in slot temp_base + h.  Instructions name their operands by slot, which lets
 * `local.get` and most `local.set`s vanish (a register-style design, as in
 * WAMR's fast interpreter; see lower.c for the rules).  A call passes its
 * arguments in place: they are the top home slots of the caller, which
 * become the first locals of the callee's frame.
 *
 * Green processes.  The interpreter never recurses on the C stack for a wasm
 * call: frames live in lvm_thread, and its whole state is {pc, fp, inst, fn}
 * plus the frame array.  A spent reduction budget (charged at calls and loop
 * back-edges, and in proportion to their size by the bulk memory and table
 * instructions) saves that state and returns LVM_ERR_YIELD, so a scheduler
 * can resume the thread later on any worker.
 *
 * Catches.  A host function may turn its own call into a call of a wasm
 * function that catches traps (lvm_hostcall_catch, lunatic's trap::catch):
 * the callee's frames go on the same frame array, and a catch record
 * (exec_catch) says where a trap inside them unwinds to, so a caught call
 * yields and blocks like any other (thread.c).
 */
#ifndef LVM_EXEC_H
#define LVM_EXEC_H

#include "../vm/vm.h"

/* Instruction numbers: wasm ops first (same order and names as opcodes.def),
 * then the internal ones of xops.def. */
enum exec_op {
#define OP(name, prefix, code, imm, p1, p2, r, msize, text) XOP_##name,
#include "../decoder/opcodes.def"
#undef OP
#define XOP(name, text) XOP_##name,
#include "xops.def"
#undef XOP
    XOP_COUNT
};

typedef struct exec_code {
    uint32_t *cells;
    uint32_t ncells;
    uint32_t nparams, nresults;
    uint32_t nlocals;           /* params + declared locals */
    uint32_t nslots;            /* frame size: locals, constants, temporaries */
    lvm_val *consts;            /* copied to slots nlocals.. at every call */
    uint32_t nconsts;
} exec_code;

/* Translate defined function `func_index` of m.  Never fails on validated
 * code except for lack of memory.  The result is immutable. */
lvm_err exec_lower(const lvm_module *m, uint32_t func_index, exec_code **out);
void exec_code_free(exec_code *c);

/* Return f's lowered code, lowering and publishing it on first use. */
lvm_err exec_code_of(lvm_func *f, exec_code **out);

/* The handler word stored for op: a label address or the op number. */
uint64_t exec_handler(enum exec_op op);
const char *exec_op_name(enum exec_op op);

#define EXEC_BACKTRACE_MAX 64

/* The bulk instructions (memory.fill, table.copy...) cost one reduction
 * per 1 << EXEC_BULK_SHIFT bytes, a table element counting as 8 (see
 * interp.c). */
#define EXEC_BULK_SHIFT 6

/* A catch: a host call that lvm_hostcall_catch turned into a nested call
 * of wasm function f which catches traps (thread.c says how it is
 * entered).  Offsets, not pointers, as in exec_frame: f may grow the value
 * stack. */
typedef struct exec_catch {
    uint32_t depth;             /* t->depth at the host call: the frames
                                   above it are f's, discarded on a trap */
    uint32_t nresults;          /* the host call's, zeroed on a trap */
    size_t fp_off;              /* the host call's caller's frame */
    size_t res_off;             /* where the host call's args/results are */
    const uint32_t *ret_pc;     /* the caller's continuation after the call */
    lvm_instance *inst;         /* the caller's instance and function */
    lvm_func *fn;
} exec_catch;

typedef struct exec_frame {
    const uint32_t *ret_pc;     /* where the caller continues */
    size_t fp_off;              /* caller's frame, as an offset into the
                                   value stack (it moves when it grows) */
    lvm_instance *inst;         /* caller's instance */
    lvm_func *fn;               /* caller's function (NULL: entry frame) */
} exec_frame;

/* The thread's built-in stack and frames: 128 + 128 bytes, so the whole
 * thread stays under glibc's per-thread cache limit (1032 bytes):
 * 64 slots and 8 frames made a burst of 100,000 spawns 20% slower
 * (bench-lunatic's batch figure), the bigger chunk going through
 * malloc's sorted bins, for no gain in spawn + DOWN. */
#define EXEC_STACK0 16
#define EXEC_FRAMES0 4

/* Grow one of a thread's buffers to n elements of `size` bytes: realloc,
 * or malloc and copy when it is the built-in one (thread.c). */
void *exec_grow(void *buf, const void *builtin, size_t used, size_t n, size_t size);

struct lvm_thread {
    lvm_val *stack, *stack_end; /* value stack (grows up to max_slots) */
    size_t max_slots;
    exec_frame *frames;
    uint32_t depth, frames_cap, max_depth;
    int32_t slice;              /* reductions per slice: each exec_run
                                   starts with this budget */
    bool running;
    /* Saved state between slices (valid when exec_run returns YIELD). */
    const uint32_t *pc;
    lvm_val *fp;
    lvm_instance *inst;
    lvm_func *fn;
    uint32_t exit_cells[2];     /* the entry frame's return address: EXIT */
    /* A bulk instruction (memory.fill, table.copy...) that the budget cut
     * short: the pc it stands at and how many bytes or elements of it are
     * done.  The yield leaves pc on it, so the first thing a resumed slice
     * does is re-run it, and it goes on from bulk_done (interp.c says
     * why the progress is kept here and not in its operand slots). */
    const uint32_t *bulk_pc;
    uint64_t bulk_done;
    /* The last trap's backtrace, innermost first; allocated at the first
     * trap, so a thread that never traps does not pay for it. */
    lvm_func **bt;
    uint32_t nbt;
    /* Catches in force, innermost last (lvm_hostcall_catch); grown on
     * demand, emptied by exec_enter and by a trap none of them catches.
     * catch_fn is the function a host function asked for, read by the
     * interpreter when the host call returns LVM_ERR_CALL; host_fn is the
     * host function being called (for its type). */
    exec_catch *catches;
    uint32_t ncatch, catch_cap;
    lvm_func *catch_fn, *host_fn;
    /* Reductions a host call asks to be charged beyond its one
     * (lvm_hostcall_charge), taken from the budget when it returns. */
    int32_t host_charge;
    uint32_t catch_cells[2];    /* f's return address: CATCH_RET */
    /* Fuel (lvm_thread_set_fuel): when fuel_limited, the reductions left.
     * A slice starts with the smaller of slice and fuel as its budget and
     * charges what it spent when exec_run returns (slice_budget is what
     * is not charged yet), so an unlimited thread pays nothing per
     * reduction (interp.c). */
    bool fuel_limited;
    uint64_t fuel;
    int32_t slice_budget;
    /* The first value stack and frame array live here, in the thread's
     * own allocation: a spawn then makes one allocation for its thread,
     * not three (thread.c, exec_grow). */
    lvm_val stack0[EXEC_STACK0];
    exec_frame frames0[EXEC_FRAMES0];
};

/* Run (or resume) the thread until it finishes the entry frame (LVM_OK),
 * spends its reduction budget (LVM_ERR_YIELD, state saved), waits in a host
 * call (LVM_ERR_BLOCK: resuming re-issues the call), or traps. */
lvm_err exec_run(lvm_thread *t);

/* Prepare t to run wasm function f with args (f's nparams values); then
 * exec_run runs it.  Results are left in t->stack[0..nresults). */
lvm_err exec_enter(lvm_thread *t, lvm_func *f, const lvm_val *args);

#endif
