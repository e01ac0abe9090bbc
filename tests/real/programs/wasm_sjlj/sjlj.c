/*
 * sjlj.c - setjmp and longjmp for wasm32-wasi, on binaryen's Asyncify.
 *
 * The program's own main is renamed (-Dmain=lvm_sjlj_main) and runs under
 * the main below.  After linking, `wasm-opt --asyncify` rewrites every
 * function that can reach setjmp or longjmp (directly or through a
 * function pointer) so that it can save its locals and its place into a
 * buffer and return at once ("unwind"), and later be re-entered to rebuild
 * its frame from that buffer and carry on ("rewind").  The functions here
 * call Asyncify's controls (imported from the module "asyncify", which
 * wasm-opt links to its own code) and are left as they are.
 *
 *   setjmp, first call:  unwind the whole stack into the jmp_buf (a
 *       snapshot of every frame from main down), then at once rewind it
 *       from that snapshot; setjmp then returns 0.
 *   longjmp:  unwind the whole stack into a scratch buffer that is thrown
 *       away, then rewind from the target's snapshot: the frames are
 *       rebuilt as they were at its setjmp, which now returns the value.
 *
 * The C shadow stack (linear memory below __stack_pointer) is not part of
 * a snapshot: frames above the setjmp are still live and untouched, as
 * with a native longjmp; only the pointer itself is put back.
 *
 * The price is a walk of the whole stack at every setjmp, so a program
 * that calls setjmp often (Lua: every pcall and coroutine.resume) runs
 * slower than with native setjmp.  The rejected alternatives: the
 * exception-handling proposal (what newer wasi-libc uses for setjmp; lvm
 * does not implement it), and changing the program to return error codes
 * (not the third-party program any more).
 */
#include "setjmp.h"

#include <stdio.h>
#include <stdlib.h>

__attribute__((import_module("asyncify"), import_name("start_unwind")))
void asyncify_start_unwind(void *buf);
__attribute__((import_module("asyncify"), import_name("stop_unwind")))
void asyncify_stop_unwind(void);
__attribute__((import_module("asyncify"), import_name("start_rewind")))
void asyncify_start_rewind(void *buf);
__attribute__((import_module("asyncify"), import_name("stop_rewind")))
void asyncify_stop_rewind(void);

void *lvm_sjlj_get_sp(void);
void lvm_sjlj_set_sp(void *sp);
int lvm_sjlj_main(int argc, char **argv);

enum sjlj_state { IDLE, CAPTURING, JUMPING, REWINDING };
static enum sjlj_state state = IDLE;
static lvm_sjlj_buf *target;

/* Where a longjmp unwinds to: the frames saved there are never used. */
static struct { char *cur, *end; char data[1 << 18]; } scratch;

int lvm_sjlj_setjmp(lvm_sjlj_buf *env)
{
    if (state == REWINDING && target == env) {
        asyncify_stop_rewind();
        state = IDLE;
        lvm_sjlj_set_sp(env->stack_pointer);
        return env->value;
    }
    env->cur = env->snapshot;
    env->end = env->snapshot + sizeof env->snapshot;
    env->stack_pointer = lvm_sjlj_get_sp();
    env->value = 0;
    target = env;
    state = CAPTURING;
    asyncify_start_unwind(env);
    return 0; /* not seen: the caller unwinds */
}

void lvm_sjlj_longjmp(lvm_sjlj_buf *env, int value)
{
    env->value = value ? value : 1;
    target = env;
    state = JUMPING;
    scratch.cur = scratch.data;
    scratch.end = scratch.data + sizeof scratch.data;
    asyncify_start_unwind(&scratch);
}

int main(int argc, char **argv)
{
    for (;;) {
        int status = lvm_sjlj_main(argc, argv);
        if (state == IDLE)
            return status;
        asyncify_stop_unwind();
        if (state == CAPTURING)
            target->filled = target->cur;
        /* A rewind consumes the snapshot from its end back to its start,
         * so each rewind (one per longjmp to this target) starts at the
         * end again. */
        target->cur = target->filled;
        state = REWINDING;
        asyncify_start_rewind(target);
    }
}
