# mk/lunatic14.mk - the guest programs of tests/lunatic14 (the lunatic
# 0.14 API), included by the GNUmakefile.
#
# C guests (tests/lunatic14/guests/NAME.c, with the imports of l14.h) and
# Rust guests (rs_NAME.rs, std only, Debian's rustc) are committed with
# their built .wasm, so running the tests needs no wasm toolchain;
# `make lunatic14-guests` rebuilds the ones whose source changed.

L14_DIR := tests/lunatic14/guests
L14_C   := $(wildcard $(L14_DIR)/*.c)
L14_RS  := $(wildcard $(L14_DIR)/rs_*.rs)

.PHONY: lunatic14-guests
lunatic14-guests: $(L14_C:.c=.wasm) $(L14_RS:.rs=.wasm)

$(L14_DIR)/%.wasm: $(L14_DIR)/%.c $(L14_DIR)/l14.h
	$(WASM_CC) $(WASM_CFLAGS) $(LUNATIC_LDFLAGS) -o $@ $<

$(L14_DIR)/rs_%.wasm: $(L14_DIR)/rs_%.rs
	$(WASM_RUSTC) $(LUNATIC_RUSTFLAGS) -C strip=debuginfo -o $@ $<
tests/lunatic14/guests/%.wasm: tests/lunatic14/guests/%.wat
	wat2wasm $< -o $@
lunatic14-guests: $(L14_DIR)/mixed.wasm $(L14_DIR)/all_imports.wasm $(L14_DIR)/start_spawn.wasm

# `make bench-lunatic14`: the four figures of the 0.14 API beside Erlang's
# (bench/lunatic14/run.sh).  The guest is committed built; --stack-first
# as bench/lunatic's.
bench/lunatic14/guest.wasm: bench/lunatic14/guest.c include/lunatic14.h
	$(WASM_CC) $(WASM_CFLAGS) -Wl,-z,stack-size=16384 -Wl,--stack-first -o $@ $<

.PHONY: bench-lunatic14
bench-lunatic14: $(LVM)
	bash bench/lunatic14/run.sh $(LVM) $(if $(BENCH_QUICK),20000)
