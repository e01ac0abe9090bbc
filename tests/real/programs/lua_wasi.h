/*
 * lua_wasi.h - Lua's own configuration macros for its wasm32-wasi build,
 * forced into every file with -include (the native build needs none).
 *
 * WASI has no temporary-file directory, so os.tmpname fails with an error
 * as it does where tmpnam fails; everything else Lua needs is in
 * wasi-libc, with its emulated signal() (lua.c's Ctrl-C handler; never
 * raised) and clock() (os.clock).  setjmp comes from wasm_sjlj/.
 */
#define LUA_TMPNAMBUFSIZE 32
#define lua_tmpnam(b, e) { (b)[0] = '\0'; (e) = 1; }
