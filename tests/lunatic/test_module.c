/*
 * test_module.c - a child's constructors (ABI 4.3 step 6, D10) and module
 * loading (ABI section 7), end to end: the real `lvm run` on the guests
 * tests/lunatic/guests/mod*.wasm, one scenario per test, comparing what
 * they print and their exit status; plus the module queries behind them,
 * called directly.
 */
#include <string.h>

#include "run.h"
#include "wat.h"

#define CTORS "tests/lunatic/guests/mod_ctors.wasm"
#define CTORS_STRIPPED "tests/lunatic/guests/mod_ctors_stripped.wasm"

TestSuite(module, .timeout = 60);

/* {====== constructors in children (D10) */

static lvm_module *load_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s: %s", path, strerror(errno));
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    lvm_diag d;
    lvm_module *m = lvm_module_load(buf, n, &d);
    cr_assert(m, "%s: %s", path, d.message);
    return m;
}

/* The child sees its constructor's work, and the constructor yielded
 * and slept on the way; with the name section and without it. */
Test(module, child_runs_constructors)
{
    run_result *r = lun_run(CTORS, "2", "ctors", NULL);
    EXPECT_RUN(r, 0, "child: in_child 1, constructor steps 3\njoin 0\n");
    r = lun_run(CTORS_STRIPPED, "1", "ctors", NULL);
    EXPECT_RUN(r, 0, "child: in_child 1, constructor steps 3\njoin 0\n");
}

/* A trap in the constructors fails the child, not the parent. */
Test(module, constructor_trap_fails_child)
{
    run_result *r = lun_run(CTORS, "2", "ctor_trap", NULL);
    EXPECT_RUN(r, 0, "join 1\n");
    r = lun_run(CTORS_STRIPPED, "2", "ctor_trap", NULL);
    EXPECT_RUN(r, 0, "join 1\n");
}

/* The name section and the _start fallback find the same function. */
Test(module, constructors_found_with_and_without_names)
{
    lvm_module *named = load_file(CTORS), *stripped = load_file(CTORS_STRIPPED);
    uint32_t a = lvm_module_ctors(named), b = lvm_module_ctors(stripped);
    cr_expect_neq(a, UINT32_MAX);
    cr_expect_eq(a, b);
    lvm_module_release(named);
    lvm_module_release(stripped);
}

/* No name section: the first call of _start, skipping the immediates of
 * everything before it (a block, a br_table, memory and float ops), and
 * only if it is a defined () -> () function. */
Test(module, constructors_fallback_rules)
{
    lvm_module *m = load_wat(
        "(module (memory 1)"
        "  (func) (func)"
        "  (func (export \"_start\")"
        "    (block (br_table 0 0 0 (i32.const 0)))"
        "    (drop (f64.const 1.5)) (drop (i64.load offset=8 (i32.const 0)))"
        "    (call 1) (call 0)))");
    cr_expect_eq(lvm_module_ctors(m), 1);
    lvm_module_release(m);
    m = load_wat("(module (import \"m\" \"f\" (func)) (func (export \"_start\") (call 0)))");
    cr_expect_eq(lvm_module_ctors(m), UINT32_MAX, "an import is no constructor");
    lvm_module_release(m);
    m = load_wat("(module (func (param i32)) (func (export \"_start\") (call 0 (i32.const 1))))");
    cr_expect_eq(lvm_module_ctors(m), UINT32_MAX, "it must be () -> ()");
    lvm_module_release(m);
    m = load_wat("(module (func (export \"_start\")))");
    cr_expect_eq(lvm_module_ctors(m), UINT32_MAX, "no call at all");
    lvm_module_release(m);
    m = load_wat("(module (func $__wasm_call_ctors) (func $x) (func (export \"_start\") (call $x)))");
    cr_expect_eq(lvm_module_ctors(m), 0, "by name, not by position");
    lvm_module_release(m);
    m = load_wat("(module (func $setup) (func (export \"_start\") (call $setup)))");
    cr_expect_eq(lvm_module_ctors(m), UINT32_MAX,
                 "names without __wasm_call_ctors: none, not the first call");
    lvm_module_release(m);
}

/* }====== */

/* {====== module loading (ABI 7) */

static lvm_err nop_host(lvm_hostcall *call, lvm_val *args)
{
    (void)call;
    (void)args;
    return LVM_OK;
}

/* The linker of a spawn_from_module child: a child linker holds the
 * helpers' functions (only functions) and shadows its parent, the host
 * API, which it falls back to. */
Test(module, child_linker_shadows_parent)
{
    lvm_store *s = lvm_store_new();
    lvm_linker *parent = lvm_linker_new();
    lvm_module *m = load_wat("(module (memory (export \"mem\") 1) (func (export \"f\"))"
                             "  (global (export \"g\") i32 (i32.const 7)))");
    lvm_instance *inst;
    cr_assert_eq(lvm_instantiate(s, parent, m, NULL, &inst, NULL), LVM_OK);
    lvm_func *host = lvm_func_new_host(s, ":", nop_host, NULL);
    lvm_extern ext = { .kind = LVM_EXTERN_FUNC, .u.func = host };
    cr_assert_eq(lvm_linker_define(parent, "env", "f", ext), LVM_OK);
    cr_assert_eq(lvm_linker_define(parent, "env", "h", ext), LVM_OK);
    lvm_linker *child = lvm_linker_new_child(parent);
    cr_assert_eq(lvm_linker_define_exports(child, "env", 3, inst, 1u << LVM_EXTERN_FUNC), LVM_OK);
    lvm_extern out;
    cr_expect(lvm_linker_lookup(child, "env", "f", &out) && out.u.func != host, "shadowed");
    cr_expect(lvm_linker_lookup(child, "env", "h", &out) && out.u.func == host, "from the parent");
    cr_expect(!lvm_linker_lookup(child, "env", "mem", &out), "functions only");
    cr_expect(!lvm_linker_lookup(child, "env", "g", &out), "functions only");
    cr_expect(lvm_linker_lookup(parent, "env", "f", &out) && out.u.func == host, "parent untouched");
    lvm_linker_free(child);
    lvm_linker_free(parent);
    lvm_store_free(s);
    lvm_module_release(m);
}

#define MOD "tests/lunatic/guests/mod.wasm"

/* load_module: 0 and ids from 0 (an unloaded id is not reused); 1 and id
 * 0 for bytes that are no module, with the decoder's reason on stderr. */
Test(module, load_valid_and_invalid)
{
    run_result *r = lun_run(MOD, "2", "load", NULL);
    EXPECT_RUN(r, 0, "ids 0 1 2\ngarbage 1 id 0\ntruncated 1 id 0\nempty 1 id 0\n");
    cr_expect(strstr(r->err, "lvm: lunatic.load_module: magic header not detected (at byte 0)\n"),
              "%s", r->err);
    cr_expect(strstr(r->err, "lvm: lunatic.load_module: unexpected end"), "%s", r->err);
}

/* ABI 7.1: add.wasm's test with ("env", add_import) joins 0; without the
 * import or under another namespace 1; of two imports with one
 * namespace the later wins; a helper's imports see the host only, never
 * another helper. */
Test(module, imports_resolve_through_helpers)
{
    run_result *r = lun_run(MOD, "2", "add", NULL);
    EXPECT_RUN(r, 0, "with import 0\nwithout 1\nother namespace 1\nlater wins 0 1\n"
                     "helper needs helper 1\n");
    cr_expect(strstr(r->err, "lvm: lunatic.spawn_from_module: the child failed to start: "
                             "unknown import: env.add (function)\n"), "%s", r->err);
    cr_expect(strstr(r->err, "the child failed to start: import \"mine\": unknown import: "
                             "env.add (function)\n"), "%s", r->err);
}

/* ABI 7.1: a helper shadows lunatic.yield_; its own lunatic.yield_ is the
 * host's, and runs on the child (which it suspends). */
Test(module, helper_shadows_host_function)
{
    run_result *r = lun_run(MOD, "2", "proxy", NULL);
    EXPECT_RUN(r, 0, "allow 0\nforbid 1\nhost 0\n");
    r = lun_run(MOD, "1", "proxy", NULL);
    EXPECT_RUN(r, 0, "allow 0\nforbid 1\nhost 0\n");
}

/* max_memory bounds the target's initial size and its growth, not the
 * helpers' (add_import has 17 pages under max_memory 1); 0 allows none. */
Test(module, max_memory_is_the_targets)
{
    run_result *r = lun_run(MOD, "2", "memory", NULL);
    EXPECT_RUN(r, 0, "needs 40, max 32: 1\nneeds 40, max 40: 0\ngrow to 32, max 32: 0\n"
                     "grow to 33 fails, max 32: 0\ngrow to 33 works (and traps), max 40: 1\n"
                     "grow to 32 refused (and traps), max 20: 1\n"
                     "helper of 17 pages, max 1: 0\n1 page, max 0: 1\n0 pages, max 0: 0\n");
    cr_expect(strstr(r->err, "memory 0 needs 40 pages, the limit is 32"), "%s", r->err);
    cr_expect(strstr(r->err, "memory 0 needs 1 pages, the limit is 0"), "%s", r->err);
    /* the refused grow that made a child trap is named, once */
    const char *why = "memory.grow to 32 pages failed: over its limit of 20 pages "
                      "(the max_memory of spawn_from_module)\n";
    const char *at = strstr(r->err, why);
    cr_expect(at && !strstr(at + 1, why), "%s", r->err);
}

/* With --max-memory 36 as well, the target gets the smaller of the two
 * limits and the helpers get lvm's: 40 pages under max_memory 40 fail,
 * growing to 33 still works, the 17-page helper still starts. */
Test(module, max_memory_under_the_command_line_limit)
{
    run_result *r = lun_run_with("--max-memory", "36", MOD, "2", "memory", NULL);
    EXPECT_RUN(r, 0, "needs 40, max 32: 1\nneeds 40, max 40: 1\ngrow to 32, max 32: 0\n"
                     "grow to 33 fails, max 32: 0\ngrow to 33 works (and traps), max 40: 1\n"
                     "grow to 32 refused (and traps), max 20: 1\n"
                     "helper of 17 pages, max 1: 0\n1 page, max 0: 1\n0 pages, max 0: 0\n");
    cr_expect(strstr(r->err, "memory 0 needs 40 pages, the limit is 36"), "%s", r->err);
}

/* The entry must be an exported function without parameters; a start
 * function's host call is no call of the spawner's. */
Test(module, entry_rules_and_start_function)
{
    run_result *r = lun_run(MOD, "2", "exports", NULL);
    EXPECT_RUN(r, 0, "missing 1\nparams 1\na memory 1\nNUL in the name 1\nthe same without it 0\n"
                     "start function yields 0\n");
    cr_expect(strstr(r->err, "failed to start: unknown export: no function \"nope\""), "%s", r->err);
    cr_expect(strstr(r->err, "entry \"add\" takes parameters"), "%s", r->err);
}

/* Every host call sees its caller's memory: the helper's fd_write its
 * own, the target's its own (D9). */
Test(module, helper_and_target_keep_their_memories)
{
    run_result *r = lun_run(MOD, "2", "memories", NULL);
    EXPECT_RUN(r, 0, "helper line\ntarget's own line\njoin 0\n");
}

/* remove_import and unload_module right after the spawn (before the
 * child has run, on one worker) do not touch the child. */
Test(module, remove_after_spawn_keeps_child)
{
    run_result *r = lun_run(MOD, "1", "remove_after_spawn", NULL);
    EXPECT_RUN(r, 0, "join 0\n");
}

/* One process table for both spawns; cancel and detach take the handles
 * (an endless child is cancelled, on one worker too). */
Test(module, handles_share_the_process_table)
{
    run_result *r = lun_run(MOD, "1", "handles", NULL);
    EXPECT_RUN(r, 0, "handles 0 1 2 3\njoin 0\n");
    r = lun_run(MOD, "2", "handles", NULL);
    EXPECT_RUN(r, 0, "handles 0 1 2 3\njoin 0\n");
}

/* A start function runs in its child, preemptible: one that never returns
 * holds neither the spawner nor the only worker. */
Test(module, endless_start_function_holds_only_its_child, .timeout = 20)
{
    run_result *r = lun_run(MOD, "1", "start_spin", NULL);
    EXPECT_RUN(r, 0, "spawned 0\ncancelled\n");
}

/* ABI 7.1's load_module example: a whole WASI command, _start with
 * max_memory 32, prints through WASI (with the program's arguments) and
 * joins 0. */
Test(module, wasi_command_from_module)
{
    run_result *r = lun_run(MOD, "2", "hello", NULL);
    EXPECT_RUN(r, 0, "hello from lvm\n" MOD "\nhello\nhello joined 0\n");
}

/* A module of more than 4 MiB, nearly all a custom section, loads in
 * well under 100 ms and runs. */
Test(module, big_custom_section_loads_fast)
{
    run_result *r = lun_run(MOD, "2", "big", NULL);
    EXPECT_RUN(r, 0, "loaded more than 4 MiB, fast: yes\nruns 0\n");
}

/* Every trap rule of section 7 (and D5, D7, D8): exit status 134 and
 * the message. */
static const struct {
    const char *name, *message;
} trap_cases[] = {
    { "load_out", "lunatic.load_module: module id out-pointer 4294967280 is outside memory (ABI D7)" },
    { "load_oob", "lunatic.load_module: bytes [4294967280, +64) are outside memory (ABI D5)" },
    { "import_module", "lunatic.create_import: unknown module id 99 (ABI D5)" },
    { "import_utf8", "lunatic.create_import: the name is not valid UTF-8 (ABI D5)" },
    { "import_oob", "lunatic.create_import: name [4294967280, +64) is outside memory (ABI D5)" },
    { "spawn_module", "lunatic.spawn_from_module: unknown module id 99 (ABI D5)" },
    { "spawn_unloaded", "lunatic.spawn_from_module: unknown module id 0 (ABI D5)" },
    { "spawn_utf8", "lunatic.spawn_from_module: the name is not valid UTF-8 (ABI D5)" },
    { "spawn_name_oob", "lunatic.spawn_from_module: name [4294967280, +64) is outside memory (ABI D5)" },
    { "spawn_imports_oob",
      "lunatic.spawn_from_module: imports [4294967280, +64) are outside memory (ABI D5)" },
    { "spawn_imports_len",
      "lunatic.spawn_from_module: imports length 3 is not a whole number of u32 ids (ABI 7.2)" },
    { "spawn_import_unknown", "lunatic.spawn_from_module: unknown import id 42 (ABI D8)" },
    { "spawn_import_removed", "lunatic.spawn_from_module: unknown import id 0 (ABI D8)" },
};

Test(module, every_trap_rule, .timeout = 120)
{
    for (size_t i = 0; i < sizeof trap_cases / sizeof trap_cases[0]; i++) {
        run_result *r = lun_run(MOD, "2", "trap", trap_cases[i].name);
        cr_expect_eq(r->status, 134, "%s: status %d\nstderr: %s", trap_cases[i].name, r->status, r->err);
        cr_expect(strstr(r->err, trap_cases[i].message), "%s: stderr: %s", trap_cases[i].name, r->err);
        cr_expect(!strstr(r->out, "no trap"), "%s: did not trap", trap_cases[i].name);
    }
}

/* }====== */
