# mk/lunatic.mk - the guest programs of tests/lunatic, included by the
# GNUmakefile.
#
# Each tests/lunatic/guests/NAME.c is a C program for wasm32-wasi that
# imports the lunatic API through include/lunatic.h.  It is committed
# together with its built NAME.wasm, so running the tests needs no wasm
# toolchain; `make lunatic-guests` rebuilds the ones whose source changed.
# A small stack and initial memory keep 10,000 instances cheap.
#
#   make lunatic-guests   rebuild tests/lunatic/guests/*.wasm

LUNATIC_GUESTS := $(patsubst %.c,%.wasm,$(wildcard tests/lunatic/guests/*.c))
LUNATIC_LDFLAGS := -Wl,-z,stack-size=16384

.PHONY: lunatic-guests
lunatic-guests: $(LUNATIC_GUESTS)

tests/lunatic/guests/%.wasm: tests/lunatic/guests/%.c include/lunatic.h
	$(WASM_CC) $(WASM_CFLAGS) $(LUNATIC_LDFLAGS) -o $@ $<

# mod_ctors.c needs the `name` section (lvm finds __wasm_call_ctors by
# it, ABI D10), and its twin mod_ctors_stripped.wasm needs none (for the
# fallback).  clang runs wasm-opt after linking whenever it optimizes and
# finds one on PATH, and that drops the names; so the object is compiled
# with -O2 and linked without -O, which keeps the link step exactly
# wasm-ld's on every machine.
LUNATIC_WASM_LINK := --target=wasm32-wasi --sysroot=/usr $(LUNATIC_LDFLAGS)
MOD_CTORS_OBJ := $(BUILD)/lunatic-guests/mod_ctors.o

lunatic-guests: tests/lunatic/guests/mod_ctors_stripped.wasm

$(MOD_CTORS_OBJ): tests/lunatic/guests/mod_ctors.c include/lunatic.h
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -c -o $@ $<

tests/lunatic/guests/mod_ctors.wasm: $(MOD_CTORS_OBJ)
	$(WASM_CC) $(LUNATIC_WASM_LINK) -Wl,--strip-debug -o $@ $<

tests/lunatic/guests/mod_ctors_stripped.wasm: $(MOD_CTORS_OBJ)
	$(WASM_CC) $(LUNATIC_WASM_LINK) -Wl,--strip-all -o $@ $<

# Rust guests.  Each tests/lunatic/guests/rs_NAME.rs is a one-file Rust
# std program (no Cargo, no crates) that includes lunatic_rs.rs, the
# essentials of the `lunatic` crate 0.3.10.  It is built twice:
# rs_NAME.wasm without DWARF but with the `name` section (backtraces, and
# how lvm finds __wasm_call_ctors, ABI D10), rs_NAME_stripped.wasm with
# no custom section at all (D10's fallback: the first call in _start).
# WASM_RUSTC is Debian's rustc (mk/wasi.mk).
LUNATIC_RS := $(wildcard tests/lunatic/guests/rs_*.rs)
LUNATIC_RUSTFLAGS := --edition 2021 --target wasm32-wasi -C opt-level=s

lunatic-guests: $(LUNATIC_RS:.rs=.wasm) $(LUNATIC_RS:.rs=_stripped.wasm)

tests/lunatic/guests/rs_%_stripped.wasm: tests/lunatic/guests/rs_%.rs tests/lunatic/guests/lunatic_rs.rs
	$(WASM_RUSTC) $(LUNATIC_RUSTFLAGS) -C strip=symbols -o $@ $<

tests/lunatic/guests/rs_%.wasm: tests/lunatic/guests/rs_%.rs tests/lunatic/guests/lunatic_rs.rs
	$(WASM_RUSTC) $(LUNATIC_RUSTFLAGS) -C strip=debuginfo -o $@ $<

# tests/lunatic/guests/mod.c, the module-loading guest (ABI 7), loads the
# modules of the folder's .wat files (assembled with wabt's wat2wasm, and
# committed built too) and examples/hello.wasm, a whole WASI command.  A
# guest sees no files, so they are compiled into it as C arrays by xxd -i
# (mod_modules.h, in the build folder: generated, not committed).
LUNATIC_WAT := $(wildcard tests/lunatic/guests/*.wat)
MOD_MODULES_H := $(BUILD)/lunatic-guests/mod_modules.h

lunatic-guests: $(LUNATIC_WAT:.wat=.wasm)

tests/lunatic/guests/%.wasm: tests/lunatic/guests/%.wat
	wat2wasm $< -o $@

$(MOD_MODULES_H): $(LUNATIC_WAT:.wat=.wasm) examples/hello.wasm
	@mkdir -p $(@D)
	for f in $^; do (cd $$(dirname $$f) && xxd -i $$(basename $$f)) || exit 1; done > $@

tests/lunatic/guests/mod.wasm: tests/lunatic/guests/mod.c include/lunatic.h $(MOD_MODULES_H)
	$(WASM_CC) $(WASM_CFLAGS) $(LUNATIC_LDFLAGS) -I$(dir $(MOD_MODULES_H)) -o $@ $<
