# mk/wasi.mk - the guest programs of tests/wasi, included by the GNUmakefile.
#
# Each tests/wasi/guests/NAME.c (C with wasi-libc) and NAME.rs (Rust std)
# is committed together with its built NAME.wasm, so that running the tests
# needs no wasm toolchain; `make wasi-guests` rebuilds the ones whose
# source changed (needs clang with wasi-libc, and for Rust Debian's rustc
# with libstd-rust-dev-wasm32; the rustup rustc has no wasm32-wasi std).
#
#   make wasi-guests      rebuild tests/wasi/guests/*.wasm

WASI_GUEST_C    := $(wildcard tests/wasi/guests/*.c)
WASI_GUEST_RS   := $(wildcard tests/wasi/guests/*.rs)
WASI_GUESTS     := $(WASI_GUEST_C:.c=.wasm) $(WASI_GUEST_RS:.rs=.wasm)
WASM_RUSTC      ?= /usr/bin/rustc

.PHONY: wasi-guests
wasi-guests: $(WASI_GUESTS)

tests/wasi/guests/%.wasm: tests/wasi/guests/%.c tests/wasi/guests/check.h
	$(WASM_CC) $(WASM_CFLAGS) -o $@ $<

tests/wasi/guests/%.wasm: tests/wasi/guests/%.rs
	$(WASM_RUSTC) --target wasm32-wasi -C opt-level=s -C strip=symbols -o $@ $<
