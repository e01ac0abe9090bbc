# mk/grow.mk - the memory-growth benchmark (bench/grow/), included by the
# GNUmakefile.
#
#   make bench-grow        bench/grow/grow.c - 1 GiB of 1 KiB mallocs, each
#                          written - under lvm and built natively with gcc,
#                          GROW_REPS times each (alternating); prints
#                          `bench: grow_1gib_lvm S s`, `bench:
#                          grow_1gib_native S s` (medians) and `bench:
#                          grow_1gib RATIO x` (lvm / native).  Fails if a
#                          run fails or the checksums differ.
#   make bench-grow-wasm   rebuild the committed bench/grow/grow.wasm
#                          (needs clang, lld and wasi-libc)
#
# The guest is committed built and deliberately not a prerequisite of
# bench-grow (a fresh checkout's timestamps would otherwise ask for clang).

GROW_NATIVE := $(BUILD)/bench/grow/grow_native
# Repetitions of each side (odd, so that the median is one sample).
GROW_REPS   ?= 3
GROW_CC     ?= gcc

.PHONY: bench-grow bench-grow-wasm
bench: bench-grow

$(GROW_NATIVE): bench/grow/grow.c
	@mkdir -p $(@D)
	$(GROW_CC) -O2 -Wall -Wextra -o $@ $<

bench-grow: $(LVM) $(GROW_NATIVE)
	@GROW_REPS=$(GROW_REPS) bash bench/grow/run.sh $(LVM) $(GROW_NATIVE)

bench-grow-wasm:
	$(WASM_CC) $(WASM_CFLAGS) -Wextra -Wl,--strip-debug -o bench/grow/grow.wasm bench/grow/grow.c
