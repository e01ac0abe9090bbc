/*
 * mod_ctors.c - a guest of tests/lunatic (test_module.c): a spawned child
 * runs the program's constructors (__wasm_call_ctors) before its function
 * (ABI 4.3 step 6, D10).  Built twice: mod_ctors.wasm keeps the `name`
 * section, by which lvm finds the constructors; mod_ctors_stripped.wasm
 * has none, so lvm must take the first call of the exported _start.
 *
 * The constructor runs in the main process too (through _start).  It
 * tells the two apart by the receiver id a new channel gets: a child
 * already holds receiver 0 (its context), the main process holds none.
 *
 *   ctors       the child sees what its constructor did, including a
 *               yield and a sleep made inside it; join gives 0
 *   ctor_trap   the child's constructor traps: join gives 1
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#include "../../../include/lunatic.h"

static int in_child, ctor_steps;

/* argv[1] as the constructor sees it (main has not run yet). */
static int scenario_is(const char *name)
{
    size_t argc, size;
    if (__wasi_args_sizes_get(&argc, &size) != 0 || argc < 2 || size > 4096)
        return 0;
    char buf[4096];
    uint8_t *argv[64];
    if (argc > 64 || __wasi_args_get(argv, (uint8_t *)buf) != 0)
        return 0;
    return strcmp((char *)argv[1], name) == 0;
}

__attribute__((constructor)) static void init(void)
{
    uint32_t r, s = lunatic_channel(0, &r);
    lunatic_close_sender(s);
    lunatic_close_receiver(r);
    in_child = r == 1;
    if (!in_child)
        return;
    if (scenario_is("ctor_trap"))
        __builtin_trap();
    ctor_steps = 1;
    lunatic_yield();            /* suspensions inside constructors */
    ctor_steps++;
    lunatic_sleep_ms(1);
    ctor_steps++;
}

static void child(void)
{
    uint32_t len;
    free(lunatic_spawn_context(&len));
    lunatic_drop_last_message();
    printf("child: in_child %d, constructor steps %d\n", in_child, ctor_steps);
}

int main(int argc, char **argv)
{
    if (argc < 2 || in_child)
        return 2;
    uint32_t h = lunatic_spawn_with_context(LUNATIC_FN(child), "x", 1);
    printf("join %u\n", lunatic_join(h));
    return 0;
}
