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
