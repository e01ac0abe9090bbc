# mk/interp.mk - the interpreter-speed benchmark (bench/interp/), included
# by the GNUmakefile.
#
#   make bench-interp       each workload under lvm and natively, alternating,
#                           INTERP_REPS times; prints `bench: interp_NAME
#                           RATIO x` (lvm median / native median) and the
#                           geometric means, the same for the -mbulk-memory
#                           builds (`_bulk`) and for node when installed, then
#                           the start-up and translation figures.  Fails if
#                           any checksum differs from the native one.  About
#                           two to three minutes on a 2-core machine.
#   make bench-diff         differential check: every workload, small size,
#                           under the threaded and the switch interpreter
#                           (built in $(SWITCH_BUILD)) and natively; fails on
#                           any checksum mismatch.  Under a minute.
#   make bench-interp-wasm  rebuild the committed guests: the workloads'
#                           .wasm and .bulk.wasm (clang + wasi-libc), the
#                           6,000-function big6k.wasm (slow: about a minute
#                           of clang) and big_rust.wasm (Debian's rustc
#                           with libstd-rust-dev-wasm32).
#
# The guests are committed built, so the benchmark itself needs only gcc:
# the .wasm files are deliberately not prerequisites of bench-interp (a
# fresh checkout's timestamps would otherwise ask for clang).  The native
# builds are made at bench time in $(BUILD)/bench/interp/native/.
#
# Compiler flags, the same for both builds of a workload:
#   -O2                    what both sides of the comparison are tuned for;
#   -ffp-contract=off      identical float results (see common.h);
#   -Wl,--strip-debug      drop the DWARF that wasi-libc's libc.a brings
#                          (90 KB of each 115 KB module).

INTERP_NAMES   := calls loops int64 float structs strings hash sort dispatch bulk mix
INTERP_SRC_DIR := bench/interp
INTERP_OUT     := $(BUILD)/bench/interp
INTERP_NATIVE  := $(INTERP_NAMES:%=$(INTERP_OUT)/native/%)
INTERP_TRANSLATE := $(INTERP_OUT)/translate
INTERP_WASM    := $(INTERP_NAMES:%=$(INTERP_SRC_DIR)/%.wasm) \
                  $(INTERP_NAMES:%=$(INTERP_SRC_DIR)/%.bulk.wasm)

# Repetitions per workload (odd, so that the median is one sample).
INTERP_REPS    ?= 5
# The reference build that bench-diff compares against.
SWITCH_BUILD   ?= build/switch
# The native side of the comparison is gcc, whatever CC builds lvm with.
BENCH_NATIVE_CC ?= gcc
INTERP_NATIVE_FLAGS := -O2 -ffp-contract=off -Wall -Wextra
INTERP_WASM_FLAGS   := --target=wasm32-wasi --sysroot=/usr -O2 -ffp-contract=off -Wall -Wextra \
                       -Wl,--strip-debug
# Debian's rustc has the wasm32-wasi standard library (a rustup toolchain
# earlier in PATH usually does not).
RUSTC_WASI     ?= /usr/bin/rustc

.PHONY: bench-interp bench-diff bench-interp-wasm
bench: bench-interp

$(INTERP_OUT)/native/%: $(INTERP_SRC_DIR)/%.c $(INTERP_SRC_DIR)/common.h
	@mkdir -p $(@D)
	$(BENCH_NATIVE_CC) $(INTERP_NATIVE_FLAGS) -o $@ $< -lm

$(INTERP_TRANSLATE): $(INTERP_SRC_DIR)/translate.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

bench-interp: $(LVM) $(INTERP_NATIVE) $(INTERP_TRANSLATE)
	@LVM=$(LVM) NATIVE_DIR=$(INTERP_OUT)/native TRANSLATE=$(INTERP_TRANSLATE) \
	  INTERP_REPS=$(INTERP_REPS) bash $(INTERP_SRC_DIR)/run.sh $(INTERP_NAMES)

# The switch build is a separate make of the same tree with its own BUILD,
# so its objects never mix with the threaded build's.
bench-diff: $(LVM) $(INTERP_NATIVE)
	@$(MAKE) --no-print-directory BUILD=$(SWITCH_BUILD) INTERP=switch $(SWITCH_BUILD)/lvm
	@NATIVE_DIR=$(INTERP_OUT)/native bash $(INTERP_SRC_DIR)/diff.sh \
	  $(LVM) $(SWITCH_BUILD)/lvm -- $(INTERP_NAMES)

# {====== rebuilding the committed guests

bench-interp-wasm: $(INTERP_WASM) $(INTERP_SRC_DIR)/big6k.wasm $(INTERP_SRC_DIR)/big_rust.wasm

$(INTERP_SRC_DIR)/%.bulk.wasm: $(INTERP_SRC_DIR)/%.c $(INTERP_SRC_DIR)/common.h
	$(WASM_CC) $(INTERP_WASM_FLAGS) -mbulk-memory -o $@ $<

$(INTERP_SRC_DIR)/%.wasm: $(INTERP_SRC_DIR)/%.c $(INTERP_SRC_DIR)/common.h
	$(WASM_CC) $(INTERP_WASM_FLAGS) -o $@ $<

# big6k.wasm: 6,000 generated functions, no imports, one export (`run`);
# -O1 as in the interpreter notes' generated module.
$(INTERP_OUT)/gen_big: $(INTERP_SRC_DIR)/gen_big.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -o $@ $<

$(INTERP_SRC_DIR)/big6k.wasm: $(INTERP_OUT)/gen_big
	$(INTERP_OUT)/gen_big 6000 > $(INTERP_OUT)/big6k.c
	$(WASM_CC) --target=wasm32-wasi --sysroot=/usr -O1 -nostdlib -Wl,--no-entry \
	  -o $@ $(INTERP_OUT)/big6k.c

$(INTERP_SRC_DIR)/big_rust.wasm: $(INTERP_SRC_DIR)/big_rust.rs
	$(RUSTC_WASI) --target wasm32-wasi -g -C opt-level=1 -o $@ $<

# }======
