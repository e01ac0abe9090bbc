/*
 * test_ctx.c - green_ctx_make / green_ctx_switch (green/ctx.h), for
 * whichever backend the build linked (CTX=asm or CTX=ucontext).
 *
 * What is checked: entry(arg) runs on the new stack, 16-byte aligned;
 * ping-pong passes values; every callee-saved register of the ABI survives
 * a switch while the other context scribbles on all of them (checked from
 * assembly, since C cannot name registers); floating-point values live
 * across switches; per-context rounding modes where the build keeps them;
 * many contexts in a ring; a context resumed by another thread; an entry
 * function that returns aborts.
 *
 * In assembly builds, mk/green.mk also links a renamed copy of the switch
 * built with GREEN_CTX_FPENV=1 (symbols fpenv_green_ctx_*) and defines
 * GREEN_TEST_FPENV_VARIANT, so the FP-environment code path is tested even
 * though the library's default build leaves it out.
 */
#include <criterion/criterion.h>

#include <fenv.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"

#define STACK_SIZE (64 * 1024)

static void *stack_alloc(size_t size)
{
    void *p = malloc(size);
    cr_assert_not_null(p, "out of memory");
    return p;
}

/* {====== first switch, arguments, alignment */

static green_ctx main_ctx, co_ctx;
static int entered;
static void *seen_arg;
static uintptr_t seen_local;

/* A 16-byte-aligned local: the compiler assumes the ABI's incoming
 * alignment and does not realign for 16, so a misaligned stack shows. */
static __attribute__((noinline)) uintptr_t aligned_local_address(void)
{
    _Alignas(16) volatile char buf[16];
    buf[0] = 1;
    uintptr_t address = (uintptr_t)buf;     /* the number, not the pointer */
    return address;
}

static void first_entry(void *arg)
{
    entered++;
    seen_arg = arg;
    seen_local = aligned_local_address();
    /* printf with a double uses aligned SSE stores on x86-64 glibc */
    char text[32];
    snprintf(text, sizeof text, "%.3f", 2.5);
    cr_assert_str_eq(text, "2.500");
    green_ctx_switch(&co_ctx, &main_ctx);
    abort();    /* never resumed */
}

Test(green_ctx, first_switch_runs_entry_with_arg_on_new_stack, .timeout = 10)
{
    char *stack = stack_alloc(STACK_SIZE);
    int token;
    green_ctx_make(&co_ctx, stack, STACK_SIZE, first_entry, &token);
    cr_assert_eq(entered, 0, "make must not run the entry");
    green_ctx_switch(&main_ctx, &co_ctx);
    cr_assert_eq(entered, 1);
    cr_assert_eq(seen_arg, &token);
    cr_assert(seen_local >= (uintptr_t)stack && seen_local < (uintptr_t)stack + STACK_SIZE,
              "entry did not run on the given stack");
    cr_assert_eq(seen_local % 16, 0, "stack misaligned in the new context");
    green_ctx_release(&co_ctx);
    free(stack);
}

Test(green_ctx, odd_stack_base_and_size_are_aligned_down, .timeout = 10)
{
    char *block = stack_alloc(STACK_SIZE + 64);
    entered = 0;
    green_ctx_make(&co_ctx, block + 3, STACK_SIZE - 7, first_entry, NULL);
    green_ctx_switch(&main_ctx, &co_ctx);
    cr_assert_eq(entered, 1);
    cr_assert_eq(seen_local % 16, 0, "stack misaligned in the new context");
    cr_assert(seen_local + 16 <= (uintptr_t)block + 3 + STACK_SIZE - 7, "wrote past the stack's end");
    green_ctx_release(&co_ctx);
    free(block);
}

/* }====== */

/* {====== ping-pong */

#define PINGS 100000
static volatile long mailbox;   /* the value in flight */

static void ponger(void *arg)
{
    long *sum = arg;
    for (;;) {
        *sum += mailbox;
        mailbox = mailbox * 2 + 1;      /* the reply */
        green_ctx_switch(&co_ctx, &main_ctx);
    }
}

Test(green_ctx, ping_pong_passes_values, .timeout = 10)
{
    char *stack = stack_alloc(STACK_SIZE);
    long sum = 0, expect = 0;
    green_ctx_make(&co_ctx, stack, STACK_SIZE, ponger, &sum);
    for (long i = 0; i < PINGS; i++) {
        mailbox = i;
        expect += i;
        green_ctx_switch(&main_ctx, &co_ctx);
        cr_assert_eq(mailbox, 2 * i + 1, "reply %ld to ping %ld", (long)mailbox, i);
    }
    cr_assert_eq(sum, expect);
    green_ctx_release(&co_ctx);
    free(stack);
}

/* }====== */

/* {====== callee-saved registers, checked from assembly
 *
 * switch_with_regs(from, to, in, out) loads in[] into the callee-saved
 * registers, calls green_ctx_switch(from, to), and stores the same
 * registers into out[] when it is resumed.  Both contexts call it with
 * different patterns, so each sees the other's values unless the switch
 * saves and restores every one.  (It saves the caller's registers around
 * all that, being an ordinary function itself.) */

#if defined(__x86_64__)
#define NREGS 6     /* rbx rbp r12 r13 r14 r15 */
__asm__(
    ".text\n"
    ".globl test_green_switch_with_regs\n"
    ".type test_green_switch_with_regs, @function\n"
    "test_green_switch_with_regs:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  pushq %rcx\n"                         /* out; also realigns rsp to 16 */
    "  movq 0(%rdx), %rbx\n  movq 8(%rdx), %rbp\n  movq 16(%rdx), %r12\n"
    "  movq 24(%rdx), %r13\n  movq 32(%rdx), %r14\n  movq 40(%rdx), %r15\n"
    "  call green_ctx_switch@PLT\n"
    "  popq %rcx\n"
    "  movq %rbx, 0(%rcx)\n  movq %rbp, 8(%rcx)\n  movq %r12, 16(%rcx)\n"
    "  movq %r13, 24(%rcx)\n  movq %r14, 32(%rcx)\n  movq %r15, 40(%rcx)\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
    "  ret\n"
    ".size test_green_switch_with_regs, .-test_green_switch_with_regs\n");
#elif defined(__aarch64__)
#define NREGS 18    /* x19-x28, then d8-d15 */
__asm__(
    ".text\n"
    ".globl test_green_switch_with_regs\n"
    ".type test_green_switch_with_regs, %function\n"
    "test_green_switch_with_regs:\n"
    "  stp x29, x30, [sp, #-0xb0]!\n  mov x29, sp\n"
    "  stp x19, x20, [sp, #0x10]\n  stp x21, x22, [sp, #0x20]\n  stp x23, x24, [sp, #0x30]\n"
    "  stp x25, x26, [sp, #0x40]\n  stp x27, x28, [sp, #0x50]\n"
    "  stp d8, d9, [sp, #0x60]\n  stp d10, d11, [sp, #0x70]\n  stp d12, d13, [sp, #0x80]\n"
    "  stp d14, d15, [sp, #0x90]\n  str x3, [sp, #0xa0]\n"
    "  ldp x19, x20, [x2, #0]\n  ldp x21, x22, [x2, #16]\n  ldp x23, x24, [x2, #32]\n"
    "  ldp x25, x26, [x2, #48]\n  ldp x27, x28, [x2, #64]\n"
    "  ldp d8, d9, [x2, #80]\n  ldp d10, d11, [x2, #96]\n  ldp d12, d13, [x2, #112]\n"
    "  ldp d14, d15, [x2, #128]\n"
    "  bl green_ctx_switch\n"
    "  ldr x3, [sp, #0xa0]\n"
    "  stp x19, x20, [x3, #0]\n  stp x21, x22, [x3, #16]\n  stp x23, x24, [x3, #32]\n"
    "  stp x25, x26, [x3, #48]\n  stp x27, x28, [x3, #64]\n"
    "  stp d8, d9, [x3, #80]\n  stp d10, d11, [x3, #96]\n  stp d12, d13, [x3, #112]\n"
    "  stp d14, d15, [x3, #128]\n"
    "  ldp x19, x20, [sp, #0x10]\n  ldp x21, x22, [sp, #0x20]\n  ldp x23, x24, [sp, #0x30]\n"
    "  ldp x25, x26, [sp, #0x40]\n  ldp x27, x28, [sp, #0x50]\n"
    "  ldp d8, d9, [sp, #0x60]\n  ldp d10, d11, [sp, #0x70]\n  ldp d12, d13, [sp, #0x80]\n"
    "  ldp d14, d15, [sp, #0x90]\n"
    "  ldp x29, x30, [sp], #0xb0\n"
    "  ret\n"
    ".size test_green_switch_with_regs, .-test_green_switch_with_regs\n");
#endif

#ifdef NREGS
void test_green_switch_with_regs(green_ctx *from, green_ctx *to,
                                 const uint64_t *in, uint64_t *out);

static uint64_t co_in[NREGS], co_out[NREGS];

static void scribbler(void *arg)
{
    for (;;)
        test_green_switch_with_regs(&co_ctx, &main_ctx, co_in, co_out);
}

static void fill(uint64_t *v, uint64_t seed)
{
    for (int i = 0; i < NREGS; i++)
        v[i] = seed * 0x9e3779b97f4a7c15u + (uint64_t)i * 0x0101010101010101u;
}

Test(green_ctx, callee_saved_registers_survive_switches, .timeout = 10)
{
    char *stack = stack_alloc(STACK_SIZE);
    uint64_t in[NREGS], out[NREGS], co_prev[NREGS];
    green_ctx_make(&co_ctx, stack, STACK_SIZE, scribbler, NULL);
    for (uint64_t round = 1; round <= 1000; round++) {
        fill(in, round);
        memcpy(co_prev, co_in, sizeof co_prev);
        fill(co_in, ~round);
        test_green_switch_with_regs(&main_ctx, &co_ctx, in, out);
        for (int i = 0; i < NREGS; i++)
            cr_assert_eq(out[i], in[i], "round %d: register %d clobbered", (int)round, i);
        /* The scribbler, resumed, stored the registers it had loaded in
         * the previous round (this round's co_in is loaded after that). */
        if (round > 1)
            for (int i = 0; i < NREGS; i++)
                cr_assert_eq(co_out[i], co_prev[i],
                             "round %d: other context's register %d clobbered", (int)round, i);
    }
    green_ctx_release(&co_ctx);
    free(stack);
}
#endif

/* }====== */

/* {====== floating point */

/* Doubles that stay live across switches: on AArch64 the compiler keeps
 * them in d8-d15, so this checks the FP half of the callee-saved set from
 * C as well (on x86-64 every xmm is caller-saved, and the compiler spills
 * them around the call).  Both contexts run the same recurrence; the
 * worker publishes its sum after each switch. */
static volatile double co_result;

#define STEP(a, b, c, d) \
    do { a = a * 1.0000001 + 0.5; b = b - 0.125; c = c / 1.5; d = d + a * b; } while (0)

static void fp_worker(void *arg)
{
    double a = 1.5, b = -2.25, c = 1e10, d = 3.0;
    for (;;) {
        STEP(a, b, c, d);
        green_ctx_switch(&co_ctx, &main_ctx);
        co_result = a + b + c + d;
    }
}

Test(green_ctx, fp_values_live_across_switches, .timeout = 10)
{
    char *stack = stack_alloc(STACK_SIZE);
    double a = 1.5, b = -2.25, c = 1e10, d = 3.0;   /* the worker's, replayed */
    double y = 7.0, z = -3.0;                       /* this context's own */
    green_ctx_make(&co_ctx, stack, STACK_SIZE, fp_worker, NULL);
    green_ctx_switch(&main_ctx, &co_ctx);           /* worker: step 1 */
    STEP(a, b, c, d);
    for (int i = 0; i < 1000; i++) {
        y = y + z * 0.5;
        z = z - 1.0;
        green_ctx_switch(&main_ctx, &co_ctx);       /* worker: sum, next step */
        cr_assert_eq(co_result, a + b + c + d, "iteration %d", i);
        STEP(a, b, c, d);
    }
    cr_assert_eq(z, -1003.0, "this context's doubles changed");
    cr_assert_eq(y, 7.0 - 0.5 * (3.0 * 1000 + 1000.0 * 999 / 2), "this context's doubles changed");
    green_ctx_release(&co_ctx);
    free(stack);
}

/* Per-context rounding modes: each context sets its own, and must find it
 * again after the other ran with a different one.  Run against a given
 * make/switch pair, so that both the library's build and the FPENV=1
 * variant can be tested.  The division checks the SSE/NEON unit, fegetround
 * the x87 control word (x86-64 glibc) or FPCR (AArch64). */
#if GREEN_CTX_FPENV || GREEN_CTX_UCONTEXT || defined(GREEN_TEST_FPENV_VARIANT)
typedef void make_fn(green_ctx *, void *, size_t, green_ctx_entry *, void *);
typedef void switch_fn(green_ctx *, green_ctx *);
static switch_fn *rm_switch;
static volatile double one = 1.0, three = 3.0;
static int rm_errors;

static void rounding_worker(void *arg)
{
    if (fegetround() != FE_TONEAREST)
        rm_errors |= 1;         /* a new context starts in round-to-nearest */
    fesetround(FE_DOWNWARD);
    double down = one / three;
    for (;;) {
        rm_switch(&co_ctx, &main_ctx);
        if (fegetround() != FE_DOWNWARD || one / three != down)
            rm_errors |= 2;
    }
}

static void check_rounding_per_context(make_fn *make, switch_fn *swtch)
{
    char *stack = stack_alloc(STACK_SIZE);
    rm_switch = swtch;
    rm_errors = 0;
    make(&co_ctx, stack, STACK_SIZE, rounding_worker, NULL);
    fesetround(FE_UPWARD);
    double up = one / three;
    for (int i = 0; i < 100; i++) {
        swtch(&main_ctx, &co_ctx);
        cr_assert_eq(fegetround(), FE_UPWARD, "round %d: rounding mode leaked in", i);
        cr_assert_eq(one / three, up, "round %d: SSE/NEON rounding mode leaked in", i);
    }
    fesetround(FE_TONEAREST);
    cr_assert_eq(rm_errors & 1, 0, "new context did not start in round-to-nearest");
    cr_assert_eq(rm_errors & 2, 0, "the other context's rounding mode leaked in");
    free(stack);
}
#endif

#if GREEN_CTX_FPENV || GREEN_CTX_UCONTEXT
Test(green_ctx, rounding_mode_is_per_context, .timeout = 10)
{
    check_rounding_per_context(green_ctx_make, green_ctx_switch);
    green_ctx_release(&co_ctx);
}
#endif

#ifdef GREEN_TEST_FPENV_VARIANT
make_fn fpenv_green_ctx_make;
switch_fn fpenv_green_ctx_switch;

Test(green_ctx, fpenv_build_keeps_rounding_mode_per_context, .timeout = 10)
{
    check_rounding_per_context(fpenv_green_ctx_make, fpenv_green_ctx_switch);
}
#endif

/* }====== */

/* {====== many contexts */

#define RING 256
#define LAPS 200
static green_ctx ring_ctx[RING];
static long visits[RING];
static int next_expected;
static int order_errors;

/* Context i: count the visit, check the order, pass on to i + 1; the last
 * one returns to main, which starts the next lap. */
static void ring_member(void *arg)
{
    int i = (int)(intptr_t)arg;
    for (;;) {
        visits[i]++;
        if (next_expected != i)
            order_errors++;
        next_expected = (i + 1) % RING;
        green_ctx_switch(&ring_ctx[i], i + 1 < RING ? &ring_ctx[i + 1] : &main_ctx);
    }
}

Test(green_ctx, many_contexts_round_robin, .timeout = 20)
{
    enum { SZ = 16 * 1024 };
    char *stacks = stack_alloc((size_t)RING * SZ);
    for (int i = 0; i < RING; i++)
        green_ctx_make(&ring_ctx[i], stacks + (size_t)i * SZ, SZ, ring_member, (void *)(intptr_t)i);
    for (int lap = 0; lap < LAPS; lap++) {
        cr_assert_eq(next_expected, 0);
        green_ctx_switch(&main_ctx, &ring_ctx[0]);
    }
    cr_assert_eq(order_errors, 0, "contexts ran out of order");
    for (int i = 0; i < RING; i++)
        cr_assert_eq(visits[i], LAPS, "context %d ran %ld times", i, visits[i]);
    for (int i = 0; i < RING; i++)
        green_ctx_release(&ring_ctx[i]);
    free(stacks);
}

/* A context can be re-made on the same stack once abandoned. */
Test(green_ctx, remake_reuses_stack, .timeout = 10)
{
    char *stack = stack_alloc(STACK_SIZE);
    for (int i = 0; i < 1000; i++) {
        entered = 0;
        green_ctx_make(&co_ctx, stack, STACK_SIZE, first_entry, &entered);
        green_ctx_switch(&main_ctx, &co_ctx);
        cr_assert_eq(entered, 1);
        green_ctx_release(&co_ctx);
    }
    free(stack);
}

/* }====== */

/* {====== threads */

/* Suspended on one thread, resumed on another: what a work-stealing
 * scheduler does.  The context reports which thread runs it each time. */
static green_ctx *resume_to;
static pthread_t ran_on[2];

/* glibc declares pthread_self `const`, so gcc reuses its first result
 * across the switch: the thread-local pitfall of green/ctx.h, in person.
 * A call through a volatile pointer is made every time. */
static pthread_t (*volatile current_thread)(void) = pthread_self;

static void migrant(void *arg)
{
    ran_on[0] = current_thread();
    green_ctx_switch(&co_ctx, resume_to);
    ran_on[1] = current_thread();
    green_ctx_switch(&co_ctx, resume_to);
    abort();
}

static void *other_thread(void *arg)
{
    green_ctx here;
    resume_to = &here;
    green_ctx_switch(&here, &co_ctx);
    return NULL;
}

Test(green_ctx, context_resumes_on_another_thread, .timeout = 10)
{
    char *stack = stack_alloc(STACK_SIZE);
    pthread_t t;
    green_ctx_make(&co_ctx, stack, STACK_SIZE, migrant, NULL);
    resume_to = &main_ctx;
    green_ctx_switch(&main_ctx, &co_ctx);
    cr_assert(pthread_equal(ran_on[0], pthread_self()));
    cr_assert_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    cr_assert(pthread_equal(ran_on[1], t), "second run was not on the other thread");
    green_ctx_release(&co_ctx);
    free(stack);
}

/* }====== */

/* {====== misuse */

static void returns(void *arg)
{
}

/* green/ctx.h: an entry function must not return; if it does, abort. */
Test(green_ctx, entry_that_returns_aborts, .signal = SIGABRT, .timeout = 10)
{
    char *stack = stack_alloc(STACK_SIZE);
    green_ctx_make(&co_ctx, stack, STACK_SIZE, returns, NULL);
    green_ctx_switch(&main_ctx, &co_ctx);
}

/* }====== */
