/*
 * ctx_ucontext.c - green_ctx_make / green_ctx_switch on POSIX ucontext:
 * the portable reference backend (contract in green/ctx.h).
 *
 * Used when the build says CTX=ucontext, which mk/green.mk also chooses
 * for sanitizer builds and for machines without an assembly backend.
 * It is slow because glibc's swapcontext saves and
 * restores the signal mask with an rt_sigprocmask syscall on every switch
 * (700 ns a round trip on the reference VM, RUNTIME-NOTES lesson 3, vs
 * ~8 ns for green/ctx_x86_64.S).  Never the default on a supported CPU.
 *
 * Why it is the sanitizer backend: it is the one place where we call the
 * sanitizers' fiber hooks, which they need to follow a stack switch:
 *   - ASan: __sanitizer_start_switch_fiber before and
 *     __sanitizer_finish_switch_fiber after each switch, so that it knows
 *     which stack is live (otherwise it reports false stack overflows and
 *     mis-handles its fake stacks for use-after-return detection);
 *   - TSan: one fiber per context and __tsan_switch_to_fiber before each
 *     switch, so that happens-before follows the code that runs, not the
 *     OS thread, and its shadow call stack is per context.
 * This mirrors minicoro.h (its `asan_prev_stack` and
 * __sanitizer_start_switch_fiber calls).  The assembly backends leave
 * these out to stay at ten instructions.
 *
 * POSIX.1-2008 removed makecontext/swapcontext, but glibc, musl (via
 * libucontext) and the BSDs keep them; makecontext's variadic int
 * arguments cannot carry a pointer portably, so the trampoline receives
 * the green_ctx pointer split into two 32-bit halves.
 */
#include "ctx.h"

#if !GREEN_CTX_UCONTEXT
#error "ctx_ucontext.c needs GREEN_CTX_UCONTEXT=1 for every file (make CTX=ucontext)"
#endif

#include <stdint.h>
#include <stdlib.h>

/* {====== sanitizer hooks */

/* gcc defines __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__; clang answers
 * __has_feature.  Declared here rather than including
 * <sanitizer/common_interface_defs.h>, which not every toolchain ships. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define USE_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define USE_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define USE_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define USE_TSAN 1
#endif

#ifdef USE_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old);
#endif
#ifdef USE_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

/* The context we are leaving, for the code that runs first on the other
 * side: ASan reports the bounds of the stack we left only there, and a
 * thread's own stack (never made) learns its bounds this way. */
static _Thread_local green_ctx *switching_from;

/* Called just before leaving `from` for `to`. */
static void before_switch(green_ctx *from, green_ctx *to)
{
    switching_from = from;
#ifdef USE_ASAN
    __sanitizer_start_switch_fiber(&from->asan_fake_stack, to->stack_lo, to->stack_size);
#endif
#ifdef USE_TSAN
    /* The running fiber is by definition from's.  Recording it here is
     * how a thread's own stack, never made, gets its fiber. */
    from->tsan_fiber = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    (void)to;
}

/* Called first thing once `self` runs again (or runs for the first time). */
static void after_switch(green_ctx *self)
{
#ifdef USE_ASAN
    green_ctx *from = switching_from;
    __sanitizer_finish_switch_fiber(self->asan_fake_stack,
                                    &from->stack_lo, &from->stack_size);
#endif
    (void)self;
}

/* }====== */

static void trampoline(unsigned hi, unsigned lo)
{
    green_ctx *self = (green_ctx *)(((uintptr_t)hi << 16 << 16) | (uintptr_t)lo);
    after_switch(self);
    self->entry(self->arg);
    abort();    /* an entry function must never return (green/ctx.h) */
}

void green_ctx_make(green_ctx *ctx, void *stack, size_t size,
                    green_ctx_entry *entry, void *arg)
{
    /* getcontext only fills in a valid template (including the current
     * FP environment, which the new context inherits); makecontext then
     * points it at the trampoline on the new stack. */
    if (getcontext(&ctx->uc) != 0)
        abort();
    ctx->uc.uc_stack.ss_sp = stack;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;     /* returning would exit the thread; we abort */
    ctx->entry = entry;
    ctx->arg = arg;
    ctx->stack_lo = stack;
    ctx->stack_size = size;
    ctx->asan_fake_stack = NULL;
#ifdef USE_TSAN
    ctx->tsan_fiber = __tsan_create_fiber(0);   /* released by _release */
#else
    ctx->tsan_fiber = NULL;
#endif
    uintptr_t p = (uintptr_t)ctx;
    makecontext(&ctx->uc, (void (*)(void))trampoline, 2,
                (unsigned)(p >> 16 >> 16), (unsigned)(p & 0xffffffffu));
}

void green_ctx_switch(green_ctx *from, green_ctx *to)
{
    before_switch(from, to);
    if (swapcontext(&from->uc, &to->uc) != 0)
        abort();
    after_switch(from);
}

void green_ctx_release(green_ctx *ctx)
{
#ifdef USE_TSAN
    if (ctx->tsan_fiber != NULL)
        __tsan_destroy_fiber(ctx->tsan_fiber);
#endif
    ctx->tsan_fiber = NULL;
}
