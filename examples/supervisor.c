/*
 * supervisor.c - a supervisor that restarts a crashing worker (the
 * lunatic 0.14 API from C, include/lunatic14.h).
 *
 *     lvm run examples/supervisor.wasm [CRASHES]
 *
 * The supervisor turns link failures into messages
 * (die_when_link_dies(0)) and starts its worker linked under a fresh
 * tag.  Each worker does a little work and then, while crashes remain,
 * traps; the supervisor receives the LinkDied message carrying the tag
 * of the worker that died and starts the next one.  Erlang's one_for_one
 * supervisor with one child, in thirty lines.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../include/lunatic14.h"

static void worker(int32_t generation)
{
    printf("worker %d (process %llu) starts\n", generation,
           (unsigned long long)lunatic_process_id());
    if (generation > 0) {
        printf("worker %d crashes\n", generation);
        fflush(stdout);
        __builtin_trap();
    }
    printf("worker %d finishes its work\n", generation);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* lines in order with the children\'s */
    int crashes = argc > 1 ? atoi(argv[1]) : 3;
    lunatic_die_when_link_dies(0);
    int64_t tag = 100;
    uint64_t pid;
    for (int left = crashes;; left--) {
        tag++;
        if (lun_spawn(worker, left, tag, &pid) != LUN_OK)
            return 1;
        /* Wait for this worker's end: a link death if it crashes, a
         * DOWN (monitor) if it finishes. */
        lun_monitor(pid);
        int64_t got;
        uint32_t r = lun_recv(NULL, 0, LUN_FOREVER, NULL, 0, NULL, &got);
        if (r == LUN_LINK_DIED) {
            printf("supervisor: worker with link tag %lld died, restarting\n", (long long)got);
            lun_recv(NULL, 0, LUN_FOREVER, NULL, 0, NULL, NULL);     /* and its DOWN */
            continue;
        }
        printf("supervisor: worker %llu ended normally after %d restarts\n",
               (unsigned long long)got, crashes);
        return 0;
    }
}
