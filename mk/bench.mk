# mk/bench.mk - `make bench`: every benchmark, lvm's figures and the
# Erlang and Go baselines side by side, as `bench: NAME VALUE UNIT` lines.
#
#   make bench           bench-green, bench-procs, bench-baseline
#   make bench-procs     processes: spawn, switch, ping-pong, ring, memory
#   BENCH_QUICK=1        100k processes instead of 1M for the memory figures

BENCH_PROCS := $(BUILD)/bench/bench_procs

$(BENCH_PROCS): bench/bench_procs.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ bench/bench_procs.c $(LIB) $(LDLIBS)

# The C guest of the memory figures is committed built; this rebuilds it
# (needs clang, lld and wasi-libc's sysroot).
bench/guests/%.wasm: bench/guests/%.c
	$(WASM_CC) --target=wasm32-wasi -O2 -nostdlib -Wl,--no-entry -Wl,--export=run -o $@ $<

.PHONY: bench bench-procs bench-guests
bench-guests: $(patsubst %.c,%.wasm,$(wildcard bench/guests/*.c))

bench-procs: $(BENCH_PROCS)
	$(BENCH_PROCS) $(if $(BENCH_QUICK),--quick)

bench: bench-green bench-procs bench-baseline
