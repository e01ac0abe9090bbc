/*
 * ctx_x86_64.S - green_ctx_make / green_ctx_switch for x86-64, System V ABI
 * (Linux, the BSDs; not Windows, whose ABI also keeps rdi, rsi and
 * xmm6-xmm15 callee-saved).  The contract is in green/ctx.h.
 *
 * Reference: System V Application Binary Interface, AMD64 Architecture
 * Processor Supplement 1.0, section 3.2.1 "Registers and the Stack Frame"
 * (figure 3.4): rbx, rbp, r12-r15 and rsp are callee-saved ("belong to the
 * calling function"); so are the control bits of MXCSR and the x87 control
 * word, which this file keeps per context only on request (see below).
 * All xmm/ymm/zmm registers and the x87 stack are caller-saved, so a
 * switch, being a function call, need not save any of them.
 *
 * A suspended context is its stack pointer (green_ctx.sp) and this frame,
 * stored on its own stack just below where the call to green_ctx_switch
 * left its return address:
 *
 *     offset  size  contents
 *     0x00    4     MXCSR (rounding mode, exception masks, FTZ/DAZ)
 *     0x04    2     x87 FPU control word (precision + rounding control)
 *     0x06    2     (unused)
 *     0x08    8     r12
 *     0x10    8     r13
 *     0x18    8     r14
 *     0x20    8     r15
 *     0x28    8     rbx
 *     0x30    8     rbp
 *     0x38    8     resume address (the return address of the call)
 *     0x40          the suspended caller's frame
 *
 * How it resumes: `movq 0x38(%rsp), %r8; ...; jmp *%r8`, never `ret`.  A
 * `ret` is predicted by the return-stack buffer, which expects the caller
 * of *this* context's green_ctx_switch and is wrong on every switch; an
 * indirect jmp is predicted from the branch history, which for a scheduler
 * is regular.  Measured on AMD EPYC (RUNTIME-NOTES, table 1): 25.3 ns per
 * round trip with `ret`, 7.7 ns with `jmp` (boost.context does the same).
 *
 * MXCSR and the x87 control word are saved only if GREEN_CTX_FPENV=1
 * (green/ctx.h; off by default).  Round trips measured on the 2-vCPU AMD
 * EPYC VM, best of 30 runs of 10^6, with variants of this file:
 *
 *     nothing saved                                   7.9 ns
 *     + fnstcw/fldcw (x87 control word only)          8.6 ns
 *     + stmxcsr/ldmxcsr (MXCSR only)                  9.9 ns
 *     + both stores, no reloads                      10.2 ns
 *     + both saved and reloaded (GREEN_CTX_FPENV=1)  11.1 ns
 *     + both stored, reloaded only when they differ  13.9 ns
 *
 * So the save alone (stmxcsr is slow on this core) costs more than a
 * third of the switch, and skipping the reload when nothing changed does
 * not help.  lvm never changes the FP control state (WebAssembly requires
 * round-to-nearest and the interpreter does not call fesetround), so it
 * belongs to the thread, not the context, and the default build saves
 * neither, meeting the <= 10 ns round-trip target.  Embedders whose green
 * code changes rounding modes build with -DGREEN_CTX_FPENV=1.  The frame
 * keeps the slot either way, so the layout above holds for both builds,
 * and `make bench-green` prints both figures in every run.
 *
 * Known limits:
 *   - Not compatible with Intel CET: a shadow stack would need its own
 *     switch (and `jmp` to a return site is not an ENDBR64 landing pad for
 *     IBT).  This object carries no .note.gnu.property, so the linker marks
 *     any program containing it as not CET-enabled, which is correct.
 *   - No CFI for green_ctx_switch itself (it changes stacks halfway);
 *     debuggers unwind through it heuristically.  The start stub has CFI
 *     that ends every backtrace of a green context cleanly.
 */

/* GREEN_CTX_FPENV (0 or 1) comes from here; the C parts of the header
 * are hidden from the assembler. */
#include "ctx.h"

/* The tests and the bench also link copies of this file built with a
 * fixed GREEN_CTX_FPENV under prefixed names (GREEN_CTX_SYMBOL_PREFIX,
 * e.g. fpenv_green_ctx_switch); the library build leaves the names alone. */
#ifdef GREEN_CTX_SYMBOL_PREFIX
#define PASTE2(a, b) a##b
#define PASTE(a, b) PASTE2(a, b)
#define SYM(name) PASTE(GREEN_CTX_SYMBOL_PREFIX, name)
#else
#define SYM(name) name
#endif

/* With GREEN_CTX_FPENV=1, the FP environment a new context starts with:
 * the power-on defaults, which are what C and WebAssembly expect: round to
 * nearest, all exceptions masked, no flush-to-zero (MXCSR 0x1f80); x87
 * 64-bit precision, round to nearest, all masked (control word 0x037f).
 * With GREEN_CTX_FPENV=0 the slot is written but never loaded. */
#define MXCSR_DEFAULT 0x1f80
#define X87CW_DEFAULT 0x037f

        .text

/* void green_ctx_switch(green_ctx *from (rdi), green_ctx *to (rsi)) */
        .globl  SYM(green_ctx_switch)
        .type   SYM(green_ctx_switch), @function
        .p2align 4
SYM(green_ctx_switch):
        /* The call pushed the resume address; it becomes slot 0x38. */
        leaq    -0x38(%rsp), %rsp
#if GREEN_CTX_FPENV
        stmxcsr 0x00(%rsp)
        fnstcw  0x04(%rsp)
#endif
        movq    %r12, 0x08(%rsp)
        movq    %r13, 0x10(%rsp)
        movq    %r14, 0x18(%rsp)
        movq    %r15, 0x20(%rsp)
        movq    %rbx, 0x28(%rsp)
        movq    %rbp, 0x30(%rsp)
        movq    %rsp, (%rdi)            /* from->sp: now suspended */

        movq    (%rsi), %rsp            /* to->sp: the other stack */
#if GREEN_CTX_FPENV
        ldmxcsr 0x00(%rsp)
        fldcw   0x04(%rsp)
#endif
        movq    0x08(%rsp), %r12
        movq    0x10(%rsp), %r13
        movq    0x18(%rsp), %r14
        movq    0x20(%rsp), %r15
        movq    0x28(%rsp), %rbx
        movq    0x30(%rsp), %rbp
        movq    0x38(%rsp), %r8         /* r8: caller-saved, free to use */
        leaq    0x40(%rsp), %rsp        /* as if `ret` had popped it */
        jmp     *%r8
        .size   SYM(green_ctx_switch), .-SYM(green_ctx_switch)

/* void green_ctx_make(green_ctx *ctx (rdi), void *stack (rsi),
 *                     size_t size (rdx), green_ctx_entry *entry (rcx),
 *                     void *arg (r8))
 *
 * Builds, at the 16-byte-aligned top of the stack, a frame that the switch
 * "resumes" into green_ctx_start with r12 = arg and r13 = entry:
 *
 *     top - 0x50  frame as in the table (FP defaults, r12, r13, zeroes)
 *     top - 0x18  resume address = green_ctx_start
 *     top - 0x10  0, 0 (an end marker for anyone walking the stack)
 *
 * After the switch pops the frame, rsp = top - 0x10, 16-byte aligned, which
 * is the state the ABI requires just before a `call`. */
        .globl  SYM(green_ctx_make)
        .type   SYM(green_ctx_make), @function
        .p2align 4
SYM(green_ctx_make):
        leaq    (%rsi,%rdx), %rax
        andq    $-16, %rax              /* top */
        leaq    -0x50(%rax), %rax       /* the frame */
        movl    $MXCSR_DEFAULT, 0x00(%rax)
        movw    $X87CW_DEFAULT, 0x04(%rax)
        movw    $0, 0x06(%rax)
        movq    %r8, 0x08(%rax)         /* r12 = arg */
        movq    %rcx, 0x10(%rax)        /* r13 = entry */
        xorl    %edx, %edx
        movq    %rdx, 0x18(%rax)        /* r14 */
        movq    %rdx, 0x20(%rax)        /* r15 */
        movq    %rdx, 0x28(%rax)        /* rbx */
        movq    %rdx, 0x30(%rax)        /* rbp = 0: the outermost frame */
        leaq    green_ctx_start(%rip), %rcx
        movq    %rcx, 0x38(%rax)        /* resume address */
        movq    %rdx, 0x40(%rax)
        movq    %rdx, 0x48(%rax)
        movq    %rax, (%rdi)            /* ctx->sp */
        ret
        .size   SYM(green_ctx_make), .-SYM(green_ctx_make)

/* void green_ctx_release(green_ctx *ctx): nothing to release here. */
        .globl  SYM(green_ctx_release)
        .type   SYM(green_ctx_release), @function
        .p2align 4
SYM(green_ctx_release):
        ret
        .size   SYM(green_ctx_release), .-SYM(green_ctx_release)

/* Where a new context begins: call entry(arg), and abort if it returns
 * (green/ctx.h: an entry function must never return).
 * `.cfi_undefined rip` marks this as the outermost frame, so gdb and
 * libgcc's unwinder stop here instead of walking into the zeroes above. */
        .type   green_ctx_start, @function
        .p2align 4
green_ctx_start:
        .cfi_startproc
        .cfi_undefined rip
        movq    %r12, %rdi
        call    *%r13
        call    abort@PLT
        ud2
        .cfi_endproc
        .size   green_ctx_start, .-green_ctx_start

/* The stack of a program linking this object need not be executable. */
        .section .note.GNU-stack, "", @progbits
