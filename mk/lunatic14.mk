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
lunatic14-guests: $(L14_DIR)/mixed.wasm
