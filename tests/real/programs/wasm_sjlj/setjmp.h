/*
 * setjmp.h - setjmp and longjmp for wasm32-wasi programs, built on
 * binaryen's Asyncify (see sjlj.c for how), for the real-program tests.
 *
 * wasi-libc has no <setjmp.h>: without the exception-handling proposal,
 * which lvm does not implement, WebAssembly cannot leave a function other
 * than by returning.  Lua needs setjmp for its errors and for
 * coroutine.yield, so its wasm build finds this header first on the
 * include path; the native build uses the C library's.
 *
 * A jmp_buf carries its own snapshot of the wasm call stack, so it is
 * large (LVM_SJLJ_SNAPSHOT bytes); the program's shadow stack must be
 * sized for the nesting it uses (mk/real.mk links Lua with 8 MiB).
 */
#ifndef LVM_WASM_SJLJ_SETJMP_H
#define LVM_WASM_SJLJ_SETJMP_H

#ifndef LVM_SJLJ_SNAPSHOT
#define LVM_SJLJ_SNAPSHOT 16384
#endif

/* The first two words are the layout Asyncify's unwind and rewind
 * functions take: where the next byte of saved frames goes, and the end
 * of the space for them. */
typedef struct lvm_sjlj_buf {
    char *cur, *end;
    char *filled;         /* cur after the capture: where a rewind starts */
    void *stack_pointer;  /* the C shadow stack's __stack_pointer at setjmp */
    int value;            /* what setjmp returns when it is rewound into */
    char snapshot[LVM_SJLJ_SNAPSHOT];
} lvm_sjlj_buf;

typedef lvm_sjlj_buf jmp_buf[1];

int lvm_sjlj_setjmp(lvm_sjlj_buf *env);
void lvm_sjlj_longjmp(lvm_sjlj_buf *env, int value);

#define setjmp(env) lvm_sjlj_setjmp(env)
#define longjmp(env, v) lvm_sjlj_longjmp((env), (v))
#define _setjmp(env) lvm_sjlj_setjmp(env)
#define _longjmp(env, v) lvm_sjlj_longjmp((env), (v))

#endif
