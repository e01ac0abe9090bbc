/*
 * ctx_aarch64.S - green_ctx_make / green_ctx_switch for AArch64, AAPCS64
 * (Linux, the BSDs; Apple's variant would need `_` symbol prefixes and
 * keeps x18 reserved, which we never touch).  Contract in green/ctx.h.
 *
 * Reference: Procedure Call Standard for the Arm 64-bit Architecture
 * (ARM IHI 0055), section 6.1.1: x19-x28 are callee-saved, x29 is the
 * frame pointer, x30 the link register, sp must stay 16-byte aligned;
 * section 6.1.2: only the low 64 bits (d8-d15) of v8-v15 are callee-saved,
 * all other SIMD registers are caller-saved.  FPCR (rounding mode, flush-
 * to-zero, default-NaN) is saved per context only if GREEN_CTX_FPENV=1
 * (green/ctx.h; off by default, for the reasons measured in
 * ctx_x86_64.S: lvm never changes it, so it belongs to the thread).
 *
 * A suspended context is its stack pointer (green_ctx.sp) and this frame,
 * stored on its own stack:
 *
 *     offset  size  contents
 *     0x00    16    x19, x20
 *     0x10    16    x21, x22
 *     0x20    16    x23, x24
 *     0x30    16    x25, x26
 *     0x40    16    x27, x28
 *     0x50    16    x29 (frame pointer), x30 (resume address)
 *     0x60    16    d8, d9
 *     0x70    16    d10, d11
 *     0x80    16    d12, d13
 *     0x90    16    d14, d15
 *     0xa0    8     FPCR
 *     0xa8    8     (unused; keeps sp 16-byte aligned)
 *     0xb0          the suspended caller's frame
 *
 * The switch ends in `ret`, unlike the x86-64 one's `jmp *%r8`: `br x30`
 * would dodge the return-stack predictor in the same way, but a return
 * site is not a BTI landing pad, so `br` there would fault in programs
 * built with -mbranch-protection=bti.  Not measured on hardware (the
 * project's AArch64 runs are under qemu-user, which says nothing of
 * prediction); revisit with a benchmark on real cores.
 *
 * Known limits: no pointer authentication of the saved x30 (callers sign
 * their own link registers around the call, so pac-ret code still works);
 * no BTI landing pads or GNU property note, so the linker does not mark a
 * program containing this object as BTI-enabled.
 */

/* GREEN_CTX_FPENV (0 or 1) comes from here; the C parts of the header
 * are hidden from the assembler.  The frame keeps the FPCR slot either
 * way.  GREEN_CTX_SYMBOL_PREFIX renames the entry points, so that the
 * tests and the bench can link the other FPENV build next to this one. */
#include "ctx.h"

#ifdef GREEN_CTX_SYMBOL_PREFIX
#define PASTE2(a, b) a##b
#define PASTE(a, b) PASTE2(a, b)
#define SYM(name) PASTE(GREEN_CTX_SYMBOL_PREFIX, name)
#else
#define SYM(name) name
#endif

        .text

/* void green_ctx_switch(green_ctx *from (x0), green_ctx *to (x1)) */
        .globl  SYM(green_ctx_switch)
        .type   SYM(green_ctx_switch), %function
        .p2align 4
SYM(green_ctx_switch):
        sub     sp, sp, #0xb0
        stp     x19, x20, [sp, #0x00]
        stp     x21, x22, [sp, #0x10]
        stp     x23, x24, [sp, #0x20]
        stp     x25, x26, [sp, #0x30]
        stp     x27, x28, [sp, #0x40]
        stp     x29, x30, [sp, #0x50]
        stp     d8,  d9,  [sp, #0x60]
        stp     d10, d11, [sp, #0x70]
        stp     d12, d13, [sp, #0x80]
        stp     d14, d15, [sp, #0x90]
#if GREEN_CTX_FPENV
        mrs     x9, fpcr
        str     x9, [sp, #0xa0]
#endif
        mov     x9, sp
        str     x9, [x0]                /* from->sp: now suspended */

        ldr     x9, [x1]                /* to->sp: the other stack */
        mov     sp, x9
#if GREEN_CTX_FPENV
        ldr     x9, [sp, #0xa0]
        msr     fpcr, x9
#endif
        ldp     x19, x20, [sp, #0x00]
        ldp     x21, x22, [sp, #0x10]
        ldp     x23, x24, [sp, #0x20]
        ldp     x25, x26, [sp, #0x30]
        ldp     x27, x28, [sp, #0x40]
        ldp     x29, x30, [sp, #0x50]
        ldp     d8,  d9,  [sp, #0x60]
        ldp     d10, d11, [sp, #0x70]
        ldp     d12, d13, [sp, #0x80]
        ldp     d14, d15, [sp, #0x90]
        add     sp, sp, #0xb0
        ret
        .size   SYM(green_ctx_switch), .-SYM(green_ctx_switch)

/* void green_ctx_make(green_ctx *ctx (x0), void *stack (x1),
 *                     size_t size (x2), green_ctx_entry *entry (x3),
 *                     void *arg (x4))
 *
 * Builds a frame at the 16-byte-aligned top of the stack that the switch
 * "resumes" into green_ctx_start with x19 = arg, x20 = entry, x29 = 0 (the
 * end of the frame-pointer chain), FPCR = 0 if GREEN_CTX_FPENV=1 (round
 * to nearest, no flush-to-zero, no default NaN: what C and WebAssembly
 * expect), everything else zero.  After the switch pops it, sp = top. */
        .globl  SYM(green_ctx_make)
        .type   SYM(green_ctx_make), %function
        .p2align 4
SYM(green_ctx_make):
        add     x9, x1, x2
        and     x9, x9, #~15            /* top */
        sub     x9, x9, #0xb0           /* the frame */
        stp     x4, x3, [x9, #0x00]     /* x19 = arg, x20 = entry */
        stp     xzr, xzr, [x9, #0x10]
        stp     xzr, xzr, [x9, #0x20]
        stp     xzr, xzr, [x9, #0x30]
        stp     xzr, xzr, [x9, #0x40]
        adr     x10, green_ctx_start
        stp     xzr, x10, [x9, #0x50]   /* x29 = 0, x30 = green_ctx_start */
        stp     xzr, xzr, [x9, #0x60]
        stp     xzr, xzr, [x9, #0x70]
        stp     xzr, xzr, [x9, #0x80]
        stp     xzr, xzr, [x9, #0x90]
        stp     xzr, xzr, [x9, #0xa0]   /* FPCR = 0 */
        str     x9, [x0]                /* ctx->sp */
        ret
        .size   SYM(green_ctx_make), .-SYM(green_ctx_make)

/* void green_ctx_release(green_ctx *ctx): nothing to release here. */
        .globl  SYM(green_ctx_release)
        .type   SYM(green_ctx_release), %function
        .p2align 4
SYM(green_ctx_release):
        ret
        .size   SYM(green_ctx_release), .-SYM(green_ctx_release)

/* Where a new context begins: call entry(arg), and abort if it returns
 * (green/ctx.h).  `.cfi_undefined x30` marks the outermost frame, so
 * unwinders stop here. */
        .type   green_ctx_start, %function
        .p2align 4
green_ctx_start:
        .cfi_startproc
        .cfi_undefined x30
        mov     x0, x19
        blr     x20
        bl      abort
        brk     #0
        .cfi_endproc
        .size   green_ctx_start, .-green_ctx_start

/* The stack of a program linking this object need not be executable. */
        .section .note.GNU-stack, "", %progbits
