/*
 * processes.c - hello from a few lunatic processes: the main process
 * spawns three children, gives each its number in the spawn context, and
 * joins them.
 *
 *   build/lvm run examples/processes.wasm
 *
 * Each child is a fresh instance of this program (its own memory, stack
 * and descriptors) that starts at `child`, not at main: spawning takes a
 * function's table index (LUNATIC_FN), and the context bytes arrive as the
 * first message on the child's receiver 0.  The children run concurrently,
 * so their lines may come in any order; main reports on a child only once
 * its join has returned, so that line always follows the child's own.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../include/lunatic.h"

static void child(void)
{
    uint32_t len;
    uint32_t *n = lunatic_spawn_context(&len);
    if (!n || len != sizeof *n)
        abort();                /* a trap: the parent's join would give 1 */
    printf("hello from process %u\n", (unsigned)*n);
    free(n);
    lunatic_drop_last_message();
}

int main(void)
{
    uint32_t handles[3];
    for (uint32_t i = 0; i < 3; i++)
        handles[i] = lunatic_spawn_with_context(LUNATIC_FN(child), &i, sizeof i);
    for (uint32_t i = 0; i < 3; i++)
        printf("process %u %s\n", (unsigned)i, lunatic_join(handles[i]) == 0 ? "finished" : "failed");
    return 0;
}
