/*
 * test_dns.c - name resolution never stalls the runtime: lookups run on
 * the blocking pool (green/pool.c) with at most a few in flight per
 * process, and an address literal never waits for the pool.  The real
 * `lvm run` on tests/lunatic/guests/block.wasm.  The names are under
 * RFC 6761's .invalid, which never resolves; nothing needs the network
 * beyond what the host's resolver does with such a name.
 */
#include "run.h"

#define BLOCK_GUEST "tests/lunatic/guests/block.wasm"

TestSuite(dns, .timeout = 120);

/* `lvm run --workers W --allow-dns block.wasm dns N` (resolving needs
 * the --allow-dns grant). */
static run_result *run_dns(const char *workers, const char *n)
{
    const char *args[] = { "run", "--workers", workers, "--allow-dns", BLOCK_GUEST, "dns", n, NULL };
    return lun_run_args(args);
}

/* 500 processes each look up a name under .invalid while main resolves
 * 127.0.0.1:1: main's answer comes at once (no pool), then main cancels
 * the lookups still in flight and lvm exits without waiting for them. */
Test(dns, literal_does_not_wait_behind_500_lookups)
{
    run_result *r = run_dns("1", "500");
    EXPECT_RUN(r, 0, "127.0.0.1:1: 4 octets 127.0.0.1 port 1\ndns ok\n");
}

/* The same on two workers, with the lookups spread over both. */
Test(dns, literal_two_workers)
{
    run_result *r = run_dns("2", "100");
    EXPECT_RUN(r, 0, "127.0.0.1:1: 4 octets 127.0.0.1 port 1\ndns ok\n");
}
