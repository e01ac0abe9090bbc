/*
 * mod.c - the module-loading guest of tests/lunatic (test_module.c): one
 * scenario of ABI section 7 per argv[1], printing what it sees line by
 * line.  The modules it loads (the .wat files of this folder, and
 * examples/hello.wasm, a whole WASI command) are compiled into it: the
 * make rule turns each .wasm into a C array (mod_modules.h, generated,
 * not committed), because a guest sees no files by default.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../../include/lunatic.h"
#include "mod_modules.h"

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            printf("check failed, line %d: %s\n", __LINE__, #cond);      \
            exit(2);                                                       \
        }                                                                  \
    } while (0)

#define LOAD(name) load(name##_wasm, name##_wasm_len)
#define BAD_PTR ((void *)0xfffffff0u)

static uint32_t load(const void *bytes, uint32_t len)
{
    uint32_t id = 12345;
    CHECK(lunatic_load_module(bytes, len, &id) == 0);
    return id;
}

static uint32_t import(const char *ns, uint32_t module)
{
    return lunatic_create_import(ns, strlen(ns), module);
}

/* Spawn `fn` of module and join it: 0 or 1. */
static uint32_t run(uint32_t module, const char *fn, uint32_t max_memory, const uint32_t *imports,
                    uint32_t nimports)
{
    uint32_t h = lunatic_spawn_from_module(module, fn, strlen(fn), max_memory, imports,
                                           4 * nimports);
    return lunatic_join(h);
}

/* {====== scenarios */

/* load_module: ids from 0, never reused; 1 and id 0 for bytes that are
 * not a module. */
static void loading(void)
{
    uint32_t a = LOAD(add), b = LOAD(add_import);
    lunatic_unload_module(a);
    lunatic_unload_module(a);               /* unknown now: ignored */
    lunatic_unload_module(77);
    uint32_t c = LOAD(add);
    printf("ids %u %u %u\n", a, b, c);
    uint32_t id = 12345;
    static const char garbage[] = "this is not wasm";
    printf("garbage %u id %u\n", lunatic_load_module(garbage, sizeof garbage, &id), id);
    id = 12345;
    printf("truncated %u id %u\n", lunatic_load_module(add_wasm, add_wasm_len - 3, &id), id);
    id = 12345;
    printf("empty %u id %u\n", lunatic_load_module(NULL, 0, &id), id);
}

/* ABI 7.1: add.wasm's test with ("env", add_import) succeeds; without
 * it, or under another namespace, the child fails (unresolved import). */
static void add(void)
{
    uint32_t a = LOAD(add), ai = LOAD(add_import), wrong = LOAD(add_wrong);
    uint32_t env = import("env", ai), other = import("other", ai);
    uint32_t bad = import("env", wrong);
    printf("with import %u\n", run(a, "test", 32, &env, 1));
    printf("without %u\n", run(a, "test", 32, NULL, 0));
    printf("other namespace %u\n", run(a, "test", 32, &other, 1));
    uint32_t good_last[] = { bad, env }, bad_last[] = { env, bad };
    printf("later wins %u %u\n", run(a, "test", 32, good_last, 2), run(a, "test", 32, bad_last, 2));
    /* Helpers see only the host: add as a helper needs env.add, which
     * only the other helper has. */
    uint32_t ah = import("mine", a);
    uint32_t chain[] = { env, ah };
    printf("helper needs helper %u\n", run(a, "test", 32, chain, 2));
}

/* ABI 7.1: a helper shadows a host function by name; its own imports
 * still reach the host. */
static void proxy(void)
{
    uint32_t p = LOAD(proxy), allow = LOAD(proxy_import_allow), forbid = LOAD(proxy_import_forbid);
    uint32_t ia = import("lunatic", allow), ifb = import("lunatic", forbid);
    printf("allow %u\n", run(p, "test", 32, &ia, 1));
    printf("forbid %u\n", run(p, "test", 32, &ifb, 1));
    printf("host %u\n", run(p, "test", 32, NULL, 0));
}

/* max_memory limits the target only (helpers keep their own module's
 * limits), its initial size and its growth; 0 is a real limit. */
static void memory(void)
{
    uint32_t big = LOAD(memory), small = LOAD(small_memory), none = LOAD(no_memory);
    uint32_t a = LOAD(add), ai = LOAD(add_import);
    printf("needs 40, max 32: %u\n", run(big, "test", 32, NULL, 0));
    printf("needs 40, max 40: %u\n", run(big, "test", 40, NULL, 0));
    printf("grow to 32, max 32: %u\n", run(small, "grow_to_32", 32, NULL, 0));
    printf("grow to 33 fails, max 32: %u\n", run(small, "grow_to_33", 32, NULL, 0));
    printf("grow to 33 works (and traps), max 40: %u\n", run(small, "grow_to_33", 40, NULL, 0));
    printf("grow to 32 refused (and traps), max 20: %u\n", run(small, "grow_to_32", 20, NULL, 0));
    uint32_t env = import("env", ai);
    printf("helper of 17 pages, max 1: %u\n", run(a, "test", 1, &env, 1));
    printf("1 page, max 0: %u\n", run(small, "test", 0, NULL, 0));
    printf("0 pages, max 0: %u\n", run(none, "grow", 0, NULL, 0));
}

/* The entry: missing, or taking parameters, fails the child. */
static void exports(void)
{
    uint32_t ai = LOAD(add_import), p = LOAD(proxy);
    printf("missing %u\n", run(p, "nope", 32, NULL, 0));
    printf("params %u\n", run(ai, "add", 32, NULL, 0));
    printf("a memory %u\n", run(ai, "memory", 32, NULL, 0));
    /* The name is its bytes, all of them: "test" and a NUL is no "test". */
    printf("NUL in the name %u\n", lunatic_join(lunatic_spawn_from_module(p, "test\0", 5, 32, NULL, 0)));
    printf("the same without it %u\n", lunatic_join(lunatic_spawn_from_module(p, "test", 4, 32, NULL, 0)));
    uint32_t st = LOAD(start_yield);
    printf("start function yields %u\n", run(st, "test", 32, NULL, 0));
    lunatic_yield();                        /* still a whole yield of ours */
}

/* Each host call sees its caller's memory; the target's memory is its
 * own, never the helper's (D9). */
static void memories(void)
{
    uint32_t t = LOAD(print), h = LOAD(print_import);
    uint32_t env = import("env", h);
    fflush(stdout);
    printf("join %u\n", run(t, "test", 32, &env, 1));
}

/* The child holds its own references: removing the import and
 * unloading both modules right after the spawn changes nothing.  With
 * one worker the child has not even started when they go. */
static void remove_after_spawn(void)
{
    uint32_t a = LOAD(add), ai = LOAD(add_import);
    uint32_t env = import("env", ai);
    uint32_t h = lunatic_spawn_from_module(a, "test", 4, 32, &env, 4);
    lunatic_remove_import(env);
    lunatic_remove_import(env);             /* unknown now: ignored */
    lunatic_remove_import(999);
    lunatic_unload_module(a);
    lunatic_unload_module(ai);
    printf("join %u\n", lunatic_join(h));
}

/* A handle from spawn_from_module is an ordinary child handle: it shares
 * the table with spawn_with_context, and detach and cancel take it. */
static void nothing(void)
{
}

static void handles(void)
{
    uint32_t s = LOAD(spin), p = LOAD(proxy);
    uint32_t h0 = lunatic_spawn_with_context(LUNATIC_FN(nothing), 0, 0);
    uint32_t h1 = lunatic_spawn_from_module(s, "spin", 4, 32, NULL, 0);
    uint32_t h2 = lunatic_spawn_from_module(p, "test", 4, 32, NULL, 0);
    uint32_t h3 = lunatic_spawn_from_module(s, "spin", 4, 32, NULL, 0);
    printf("handles %u %u %u %u\n", h0, h1, h2, h3);
    lunatic_cancel(h1);
    lunatic_detach(h2);
    lunatic_sleep_ms(5);
    lunatic_cancel(h3);
    printf("join %u\n", lunatic_join(h0));
}

/* A start function that loops forever holds only its child, even on one
 * worker: spawn_from_module returns, and the child can be cancelled. */
static void start_spin(void)
{
    uint32_t h = lunatic_spawn_from_module(LOAD(start_spin), "test", 4, 32, NULL, 0);
    printf("spawned %u\n", h);
    lunatic_sleep_ms(5);
    lunatic_cancel(h);
    printf("cancelled\n");
}

/* ABI 7.1: a whole WASI command, its _start, max_memory 32: it prints
 * through WASI (its args are the program's) and joins 0. */
static void hello(void)
{
    uint32_t m = LOAD(hello);
    fflush(stdout);
    uint32_t st = run(m, "_start", 32, NULL, 0);
    printf("hello joined %u\n", st);
}

/* A 4 MiB custom section (as DWARF is) costs nothing to load: the
 * decoder skips it by its size. */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void big(void)
{
    const uint32_t custom = 4u << 20;
    uint32_t len = proxy_wasm_len + 1 + 5 + 1 + 5 + custom;
    uint8_t *buf = malloc(len), *p = buf;
    CHECK(buf);
    memcpy(p, proxy_wasm, proxy_wasm_len);
    p += proxy_wasm_len;
    *p++ = 0;                               /* a custom section */
    uint32_t size = 1 + 5 + custom;         /* name length, name, bytes */
    for (int i = 0; i < 5; i++, size >>= 7)
        *p++ = (uint8_t)((size & 0x7f) | (i < 4 ? 0x80 : 0));
    *p++ = 5;
    memcpy(p, "debug", 5);
    p += 5;
    memset(p, 0xab, custom);
    uint64_t t0 = now_ns();
    uint32_t id = load(buf, len);
    uint64_t ms = (now_ns() - t0) / 1000000u;
    printf("loaded more than 4 MiB, fast: %s\n", ms < 100 ? "yes" : "no");
    printf("runs %u\n", run(id, "test", 32, NULL, 0));
    free(buf);
}

/* }====== */

/* {====== traps */

static void traps(const char *which)
{
    uint32_t a = LOAD(add), ai = LOAD(add_import);
    uint32_t env = import("env", ai);
    uint32_t id;
    if (!strcmp(which, "load_out"))
        lunatic_load_module(add_wasm, add_wasm_len, BAD_PTR);
    else if (!strcmp(which, "load_oob"))
        lunatic_load_module(BAD_PTR, 64, &id);
    else if (!strcmp(which, "import_module"))
        import("env", 99);
    else if (!strcmp(which, "import_utf8"))
        lunatic_create_import("\xff", 1, a);
    else if (!strcmp(which, "import_oob"))
        lunatic_create_import(BAD_PTR, 64, a);
    else if (!strcmp(which, "spawn_module"))
        lunatic_spawn_from_module(99, "test", 4, 32, NULL, 0);
    else if (!strcmp(which, "spawn_unloaded")) {
        lunatic_unload_module(a);
        lunatic_spawn_from_module(a, "test", 4, 32, &env, 4);
    } else if (!strcmp(which, "spawn_utf8"))
        lunatic_spawn_from_module(a, "\xc0\x80", 2, 32, NULL, 0);
    else if (!strcmp(which, "spawn_name_oob"))
        lunatic_spawn_from_module(a, BAD_PTR, 64, 32, NULL, 0);
    else if (!strcmp(which, "spawn_imports_oob"))
        lunatic_spawn_from_module(a, "test", 4, 32, BAD_PTR, 64);
    else if (!strcmp(which, "spawn_imports_len"))
        lunatic_spawn_from_module(a, "test", 4, 32, &env, 3);
    else if (!strcmp(which, "spawn_import_unknown")) {
        uint32_t imps[] = { env, 42 };
        lunatic_spawn_from_module(a, "test", 4, 32, imps, 8);
    } else if (!strcmp(which, "spawn_import_removed")) {
        lunatic_remove_import(env);
        lunatic_spawn_from_module(a, "test", 4, 32, &env, 4);
    } else
        exit(2);
    printf("no trap\n");
}

/* }====== */

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *m = argv[1];
    if (!strcmp(m, "load"))
        loading();
    else if (!strcmp(m, "add"))
        add();
    else if (!strcmp(m, "proxy"))
        proxy();
    else if (!strcmp(m, "memory"))
        memory();
    else if (!strcmp(m, "exports"))
        exports();
    else if (!strcmp(m, "memories"))
        memories();
    else if (!strcmp(m, "remove_after_spawn"))
        remove_after_spawn();
    else if (!strcmp(m, "handles"))
        handles();
    else if (!strcmp(m, "start_spin"))
        start_spin();
    else if (!strcmp(m, "hello"))
        hello();
    else if (!strcmp(m, "big"))
        big();
    else if (!strcmp(m, "trap") && argc > 2)
        traps(argv[2]);
    else
        return 2;
    return 0;
}
