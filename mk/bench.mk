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

.PHONY: bench bench-procs
bench-procs: $(BENCH_PROCS)
	$(BENCH_PROCS) $(if $(BENCH_QUICK),--quick)

bench: bench-green bench-procs bench-baseline
