# mk/bench.mk - `make bench`: every benchmark, lvm's figures and the
# Erlang and Go baselines side by side, as `bench: NAME VALUE UNIT` lines.
#
#   make bench           bench-green, bench-procs, bench-baseline
#   make bench-procs     processes: spawn, switch, ping-pong, ring, memory
#   make bench-lunatic14 the lunatic 0.14 API (spawn + DOWN, request,
#                        supervisor restart, 100k monitored), Erlang beside
#   make bench-lunatic   the lunatic API from a C guest (spawn + join,
#                        round trip, memory of a million idle processes),
#                        with Erlang's figures beside
#   BENCH_QUICK=1        100k processes instead of 1M for the memory figures

BENCH_PROCS := $(BUILD)/bench/bench_procs

$(BENCH_PROCS): bench/bench_procs.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ bench/bench_procs.c $(LIB) $(LDLIBS)

# The C guest of the memory figures is committed built; this rebuilds it
# (needs clang, lld and wasi-libc's sysroot).
bench/guests/%.wasm: bench/guests/%.c
	$(WASM_CC) --target=wasm32-wasi -O2 -nostdlib -Wl,--no-entry -Wl,--export=run -o $@ $<

# The guest of bench-lunatic, committed built.  --stack-first with a
# 16 KiB stack puts the C stack below the data, so an idle process touches
# two pages of its memory (the stack's top and the data) instead of the
# three or four of the default layout (data, then stack): what a program
# meant to run a million processes would choose.
bench/lunatic/guest.wasm: bench/lunatic/guest.c include/lunatic.h
	$(WASM_CC) $(WASM_CFLAGS) -Wl,-z,stack-size=16384 -Wl,--stack-first -o $@ $<

.PHONY: bench bench-procs bench-guests bench-lunatic
bench-guests: $(patsubst %.c,%.wasm,$(wildcard bench/guests/*.c))

bench-procs: $(BENCH_PROCS)
	$(BENCH_PROCS) $(if $(BENCH_QUICK),--quick)

FOOTPRINT := $(BUILD)/bench/footprint

$(FOOTPRINT): bench/lunatic/footprint.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ bench/lunatic/footprint.c $(LIB) $(LDLIBS)

bench-lunatic: $(LVM) $(FOOTPRINT)
	bash bench/lunatic/run.sh $(LVM) $(if $(BENCH_QUICK),100000,1000000) $(FOOTPRINT)

bench: bench-green bench-procs bench-lunatic bench-lunatic14 bench-baseline
