/*
 * ctx.h - switching the CPU between native stacks: the machine seam of
 * green/.
 *
 * What: two functions, after minicoro's make/switch pair.
 *   green_ctx_make   prepares a fresh stack so that the first switch to it
 *                    calls entry(arg) there;
 *   green_ctx_switch saves the running context into *from and resumes *to.
 * Nothing here allocates, schedules or knows about processes; green/
 * builds those on top, and lvm's interpreter avoids needing a native stack
 * per process at all (RUNTIME-NOTES lesson 1).  These functions serve the
 * cases where C code must suspend mid-call (lesson 2).
 *
 * Backends (exactly one is linked; mk/green.mk chooses by `uname -m` and
 * CTX=asm|ucontext):
 *   green/ctx_x86_64.S   System V AMD64 ABI, hand-written, ~4 ns a switch;
 *   green/ctx_aarch64.S  AAPCS64, hand-written;
 *   green/ctx_ucontext.c getcontext/makecontext/swapcontext: portable and
 *                        slow (glibc's swapcontext makes an rt_sigprocmask
 *                        syscall per switch: 700 ns a round trip, lesson 3).
 *                        It is the reference, and the backend the sanitizer
 *                        builds use, because it tells ASan and TSan about
 *                        every stack switch.
 * Building with CTX=ucontext defines GREEN_CTX_UCONTEXT=1 for every file,
 * because the two kinds of backend need different green_ctx layouts.
 *
 * What a switch preserves: what a C function call preserves, i.e. the
 * callee-saved registers of the ABI (AArch64: including d8-d15) and the
 * stack pointer, with one exception: the floating-point control state
 * (rounding mode etc.: x86-64 MXCSR and x87 control word, which the SysV
 * ABI counts as callee-saved; AArch64 FPCR) belongs to the thread, not the
 * context, unless the build sets GREEN_CTX_FPENV=1 (below).  The signal
 * mask is per thread and is not touched (this is why the assembly is
 * ~50x faster than glibc's swapcontext).
 *
 * Invariants and pitfalls for callers:
 *   - A context runs on one thread at a time, but may be resumed by a
 *     different thread than the one that suspended it (work stealing).  C
 *     code that spans a switch must then not keep the address of a
 *     _Thread_local variable across it: the compiler may cache that address
 *     in a register, which would still point at the old thread's copy.
 *     The same holds for results of functions declared `const`, such as
 *     glibc's pthread_self (tests/green/test_ctx.c has the demonstration).
 *     Re-read such values through a call the compiler cannot see into
 *     (e.g. through a volatile function pointer) after a switch.
 *   - The stack passed to green_ctx_make belongs to the context until the
 *     context is abandoned; green/ctx never frees it, and never checks for
 *     overflow: guard pages are the stack allocator's job (lesson 2).
 *   - A context that was switched away from and is never resumed is simply
 *     dropped: nothing on its stack is unwound (STYLE 3.5, "killing").
 *
 * References: System V AMD64 ABI 1.0, section 3.2.1 (registers) and 3.2.3;
 * ARM IHI 0055 (AAPCS64), section 6.1.1 (general registers) and 6.1.2
 * (SIMD and floating-point registers); minicoro (edubart/minicoro) for the
 * two-function seam and the sanitizer fiber hooks; boost.context
 * (jump_x86_64_sysv_elf_gas.S) for the stack-held frame.
 */
#ifndef GREEN_CTX_H
#define GREEN_CTX_H

#ifndef GREEN_CTX_UCONTEXT
#define GREEN_CTX_UCONTEXT 0
#endif

/* GREEN_CTX_FPENV=1 makes the assembly backends save and restore the FP
 * control state per context, and start new contexts in the default one
 * (round to nearest, exceptions masked, no flush-to-zero).  Off by
 * default: it costs about 40% of a switch on the reference CPU (figures in
 * ctx_x86_64.S), and lvm never changes that state, since WebAssembly
 * requires round-to-nearest.  With it off, code that changes the rounding
 * mode must restore it before it switches.  (glibc's swapcontext, hence
 * the ucontext backend, always carries it along.) */
#ifndef GREEN_CTX_FPENV
#define GREEN_CTX_FPENV 0
#endif

/* The .S files include this header for the settings above only. */
#ifndef __ASSEMBLER__

#include <stddef.h>

#if GREEN_CTX_UCONTEXT
#include <ucontext.h>
#endif

/* The function a new context starts in.  It must never return: its last
 * act is a green_ctx_switch to another context, after which nobody resumes
 * it.  If it does return, the process aborts (the assembly backends return
 * into a stub that calls abort(), the ucontext backend's trampoline calls
 * abort()): there is no sensible place to continue, and a silent jump to
 * some "designated" context would hide the bug. */
typedef void green_ctx_entry(void *arg);

/* A suspended context.  The assembly backends keep every saved register on
 * the context's own stack (boost.context style), so the whole record is
 * one stack pointer: the switch touches one cache line of the struct and
 * the lines at the top of each stack that were hot anyway.
 * The record of the running context is stale until it is switched away. */
typedef struct green_ctx {
#if GREEN_CTX_UCONTEXT
    ucontext_t uc;
    green_ctx_entry *entry;     /* for the trampoline of a made context */
    void *arg;
    /* The stack's extent: ASan must be told where the next stack is. */
    const void *stack_lo;
    size_t stack_size;
    void *asan_fake_stack;      /* ASan's "fake stack" while suspended */
    void *tsan_fiber;           /* TSan's fiber for this context */
#else
    void *sp;                   /* saved stack pointer; the frame is below */
#endif
} green_ctx;

/* Smallest stack green_ctx_make accepts, in bytes (not checked).  Room
 * for the saved frame plus a few C calls; real stacks should be 16 KiB or
 * more. */
#define GREEN_CTX_MIN_STACK 1024

/* green_ctx_make prepares *ctx so that the first green_ctx_switch(_, ctx)
 * runs entry(arg) on the stack [stack, stack + size).  The stack needs no
 * particular alignment (the top is rounded down to 16 bytes) and must be at
 * least GREEN_CTX_MIN_STACK bytes.  Cost: a dozen stores into the top of
 * the stack, ~2.3 ns (the ucontext backend: getcontext + makecontext,
 * ~280 ns).
 * Never fails, never blocks.  *ctx may be re-made once it is no longer
 * running, to reuse the stack for another entry. */
void green_ctx_make(green_ctx *ctx, void *stack, size_t size,
                    green_ctx_entry *entry, void *arg);

/* green_ctx_switch saves the running context into *from and resumes *to;
 * it returns when some later switch names *from as its `to`.  *from needs
 * no preparation: the first switch from a thread's own stack records that
 * stack in it.  *to must be made or suspended, never the running context.
 * Both records must stay at their addresses while suspended. */
void green_ctx_switch(green_ctx *from, green_ctx *to);

/* green_ctx_release tells the runtime that *ctx, made by green_ctx_make,
 * will never be resumed, so that per-context bookkeeping can be dropped;
 * call it before the stack is freed or the record re-made.  A no-op in the
 * assembly backends; in the ucontext backend under TSan it frees the
 * sanitizer's fiber (forgetting it only leaks that).  Never call it on the
 * running context, nor on a thread's own (never made) context. */
void green_ctx_release(green_ctx *ctx);

#endif /* __ASSEMBLER__ */
#endif
