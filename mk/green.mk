# mk/green.mk - green/'s part of the build: which context-switch backend
# goes into the library, how .S files compile, the green unit-test binary,
# and three targets of its own:
#
#   make tsan           ThreadSanitizer build of tests/green and tests/sched
#                       (CTX=ucontext, Criterion shim) in build/tsan
#   make aarch64-test   cross-compiles green/ and tests/green for AArch64
#                       (static) and runs them under qemu-aarch64, with both
#                       context backends
#   make bench-green    bench/bench_green.c at -O2; prints `bench: ...` lines
#
#   make green-test     build and run tests/green only
#   make CTX=ucontext   link green/ctx_ucontext.c instead of the assembly
#
# Included by the GNUmakefile after its settings, so CFLAGS, LIB_OBJ, BUILD
# and TEST_BINS exist here and may be extended.

# {====== context-switch backend

# CTX=asm picks green/ctx_$(arch).S by `uname -m`; CTX=ucontext the
# portable reference.  Sanitizer builds default to ucontext: it is the
# backend that tells ASan and TSan about stack switches (see
# green/ctx_ucontext.c).  An unknown CPU falls back to ucontext.
GREEN_ARCH := $(patsubst arm64,aarch64,$(shell uname -m))
ifneq ($(findstring -fsanitize,$(OPT) $(CFLAGS) $(LDFLAGS)),)
CTX ?= ucontext
endif
CTX ?= asm
GREEN_CTX_ASM := $(wildcard green/ctx_$(GREEN_ARCH).S)
ifeq ($(CTX),asm)
ifeq ($(GREEN_CTX_ASM),)
$(info green: no assembly context switch for $(GREEN_ARCH), using ucontext)
override CTX := ucontext
endif
endif

# The library's sources are green/*.c automatically, which includes
# ctx_ucontext.c; the asm build swaps it for the .S object.  The
# ucontext build needs GREEN_CTX_UCONTEXT=1 in *every* file, because
# green_ctx has a different layout there (green/ctx.h).
ifeq ($(CTX),ucontext)
CFLAGS += -DGREEN_CTX_UCONTEXT=1
else
LIB_OBJ := $(filter-out $(BUILD)/obj/green/ctx_ucontext.o,$(LIB_OBJ)) \
           $(GREEN_CTX_ASM:%.S=$(BUILD)/obj/%.o)
endif

# Switching CTX in an existing build folder must rebuild everything that
# saw the old green_ctx layout: objects depend on a file that changes only
# when the choice does (git's GIT-CFLAGS trick).
GREEN_CFG := $(BUILD)/obj/green-ctx.cfg
.PHONY: green-cfg-force
$(GREEN_CFG): green-cfg-force
	@mkdir -p $(@D)
	@echo "CTX=$(CTX)" | cmp -s - $@ || echo "CTX=$(CTX)" > $@
$(LIB_OBJ) $(CLI_OBJ): $(GREEN_CFG)

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

# A renamed copy of the switch built with GREEN_CTX_FPENV=1 (symbols
# fpenv_green_ctx_*) and one with it off (nofpenv_green_ctx_*), so the
# tests cover the FP-environment path and the bench prices it, whatever
# the library's own setting.
GREEN_VARIANT = $(CC) $(CFLAGS) -DGREEN_CTX_FPENV=$(1) -DGREEN_CTX_SYMBOL_PREFIX=$(2) -c $< -o $@
$(BUILD)/obj/green/variant/fpenv_%.o: green/%.S
	@mkdir -p $(@D)
	$(call GREEN_VARIANT,1,fpenv_)
$(BUILD)/obj/green/variant/nofpenv_%.o: green/%.S
	@mkdir -p $(@D)
	$(call GREEN_VARIANT,0,nofpenv_)

# }======

# {====== unit tests

# tests/green links green/'s objects only, not liblvm.a: this proves that
# green/ needs nothing of WebAssembly (STYLE 3.1, dependency rule), and it
# builds while other folders do not.  They come from a green-only archive,
# so a test binary pulls in just the members it uses.  The explicit rule
# takes precedence over the GNUmakefile's pattern rule.
GREEN_OBJ      = $(filter $(BUILD)/obj/green/%,$(LIB_OBJ))
GREEN_LIB      := $(BUILD)/green/libgreen.a
GREEN_TEST_SRC := $(wildcard tests/green/*.c)
ifeq ($(CTX),asm)
GREEN_TEST_VARIANT := $(GREEN_CTX_ASM:green/%.S=$(BUILD)/obj/green/variant/fpenv_%.o)
GREEN_TEST_DEFS    := -DGREEN_TEST_FPENV_VARIANT=1
endif

$(GREEN_LIB): $(GREEN_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/test_green: $(GREEN_TEST_SRC) $(GREEN_LIB) $(GREEN_TEST_VARIANT)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GREEN_TEST_DEFS) $(LDFLAGS) -Itests -o $@ \
	  $(GREEN_TEST_SRC) $(GREEN_TEST_VARIANT) $(GREEN_LIB) -lcriterion $(LDLIBS)

.PHONY: green-test
green-test: $(BUILD)/tests/test_green
	$< -j2

# The same tests without Criterion, linked with the shim in
# tests/green/shim (same sources, same fork-per-test semantics).  Used
# where Criterion cannot run: under TSan (Criterion 2.4's boxfort arena
# crashes at start-up in a -fsanitize=thread program, even with no tests)
# and in the static AArch64 build below.
GREEN_SHIM_SRC := tests/green/shim/shim_main.c tests/green/shim/criterion/criterion.h

$(BUILD)/tests/test_green_shim: $(GREEN_TEST_SRC) $(GREEN_SHIM_SRC) $(GREEN_LIB) $(GREEN_TEST_VARIANT)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GREEN_TEST_DEFS) $(LDFLAGS) -Itests/green/shim -Itests -o $@ \
	  $(GREEN_TEST_SRC) $(filter %.c,$(GREEN_SHIM_SRC)) $(GREEN_TEST_VARIANT) $(GREEN_LIB) $(LDLIBS)

# ThreadSanitizer: the deque's stress tests are the point.  halt_on_error
# makes a report fail its test instead of scrolling past.
# The scheduler and channel tests (tests/sched) run under TSan too, against
# the whole library, with the same shim runner (Criterion cannot start
# under TSan).
$(BUILD)/tests/shim_sched: tests/sched/test_sched.c tests/sched/test_mbox.c tests/green/shim/shim_main.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -Itests/green/shim -Itests -o $@ \
	  tests/sched/test_sched.c tests/sched/test_mbox.c tests/green/shim/shim_main.c $(LIB) $(LDLIBS)

.PHONY: tsan
tsan:
	$(MAKE) BUILD=build/tsan CTX=ucontext OPT="-O1 -g -fsanitize=thread" \
	  LDFLAGS="-fsanitize=thread" build/tsan/tests/test_green_shim build/tsan/tests/shim_sched
	TSAN_OPTIONS="halt_on_error=1 $(TSAN_OPTIONS)" build/tsan/tests/test_green_shim
	TSAN_OPTIONS="halt_on_error=1 $(TSAN_OPTIONS)" build/tsan/tests/shim_sched

# }======

# {====== AArch64 under qemu-user

# Needs gcc-aarch64-linux-gnu and qemu-user (Debian/Ubuntu packages).
# Static, so qemu needs no AArch64 sysroot; linked with the Criterion
# shim in tests/green/shim, since no static arm64 libcriterion exists.
# Built twice: with ctx_aarch64.S (plus its FPENV=1 variant) and with
# ctx_ucontext.c.
AARCH64_CC   ?= aarch64-linux-gnu-gcc
QEMU_AARCH64 ?= qemu-aarch64
GREEN_A64    := build/aarch64
GREEN_A64_CFLAGS := -std=gnu11 -ffp-contract=off -O2 -g $(WARN) -Igreen \
                    -Itests/green/shim -Itests -pthread
GREEN_A64_SRC := green/deque.c $(GREEN_TEST_SRC) tests/green/shim/shim_main.c
GREEN_A64_DEPS := $(GREEN_A64_SRC) $(wildcard green/*.h green/ctx_*) \
                  $(GREEN_SHIM_SRC)

.PHONY: aarch64-test
aarch64-test: $(GREEN_A64)/test_green_asm $(GREEN_A64)/test_green_ucontext
	$(QEMU_AARCH64) $(GREEN_A64)/test_green_asm
	$(QEMU_AARCH64) $(GREEN_A64)/test_green_ucontext

$(GREEN_A64)/fpenv_ctx_aarch64.o: green/ctx_aarch64.S green/ctx.h
	@mkdir -p $(@D)
	$(AARCH64_CC) $(GREEN_A64_CFLAGS) -DGREEN_CTX_FPENV=1 \
	  -DGREEN_CTX_SYMBOL_PREFIX=fpenv_ -c $< -o $@

$(GREEN_A64)/test_green_asm: $(GREEN_A64_DEPS) $(GREEN_A64)/fpenv_ctx_aarch64.o
	$(AARCH64_CC) $(GREEN_A64_CFLAGS) -DGREEN_TEST_FPENV_VARIANT=1 -static -o $@ \
	  green/ctx_aarch64.S $(GREEN_A64)/fpenv_ctx_aarch64.o $(GREEN_A64_SRC) -lm

$(GREEN_A64)/test_green_ucontext: $(GREEN_A64_DEPS)
	@mkdir -p $(@D)
	$(AARCH64_CC) $(GREEN_A64_CFLAGS) -DGREEN_CTX_UCONTEXT=1 -static -o $@ \
	  green/ctx_ucontext.c $(GREEN_A64_SRC) -lm

# }======

# {====== benchmark

# Always -O2 and the assembly switch of this machine, whatever OPT and CTX
# say, so figures from different builds compare.  Both FPENV variants are
# linked next to the library's build of the switch.
GREEN_BENCH     := $(BUILD)/bench/bench_green
GREEN_BENCH_DIR := $(BUILD)/bench/obj
GREEN_BENCH_CFLAGS := -std=gnu11 -ffp-contract=off -O2 -g $(WARN) -Igreen
GREEN_BENCH_OBJ := $(GREEN_BENCH_DIR)/deque.o $(GREEN_BENCH_DIR)/ctx.o \
                   $(GREEN_BENCH_DIR)/fpenv_ctx.o $(GREEN_BENCH_DIR)/nofpenv_ctx.o

.PHONY: bench-green
bench-green: $(GREEN_BENCH)
	@grep -m1 "model name" /proc/cpuinfo 2>/dev/null | sed 's/^.*: /cpu: /' || true
	$(GREEN_BENCH)

$(GREEN_BENCH): bench/bench_green.c green/ctx.h green/deque.h $(GREEN_BENCH_OBJ)
	@mkdir -p $(@D)
	$(CC) $(GREEN_BENCH_CFLAGS) -o $@ bench/bench_green.c $(GREEN_BENCH_OBJ) -lpthread

$(GREEN_BENCH_DIR)/deque.o: green/deque.c green/deque.h
	@mkdir -p $(@D)
	$(CC) $(GREEN_BENCH_CFLAGS) -c $< -o $@
$(GREEN_BENCH_DIR)/ctx.o: $(GREEN_CTX_ASM) green/ctx.h
	@mkdir -p $(@D)
	@test -n "$<" || { echo "bench-green: no assembly switch for $(GREEN_ARCH)" >&2; exit 1; }
	$(CC) $(GREEN_BENCH_CFLAGS) -c $< -o $@
$(GREEN_BENCH_DIR)/fpenv_ctx.o: $(GREEN_CTX_ASM) green/ctx.h
	@mkdir -p $(@D)
	$(CC) $(GREEN_BENCH_CFLAGS) -DGREEN_CTX_FPENV=1 -DGREEN_CTX_SYMBOL_PREFIX=fpenv_ -c $< -o $@
$(GREEN_BENCH_DIR)/nofpenv_ctx.o: $(GREEN_CTX_ASM) green/ctx.h
	@mkdir -p $(@D)
	$(CC) $(GREEN_BENCH_CFLAGS) -DGREEN_CTX_FPENV=0 -DGREEN_CTX_SYMBOL_PREFIX=nofpenv_ -c $< -o $@

# }======
