# mk/real.mk - real programs as tests and benchmarks: SQLite, Lua and
# zstd, third-party C programs of tens of thousands of lines, each built
# natively (gcc) and for wasm32-wasi (clang + wasi-libc) from the same
# sources with the same flags, then run under lvm and natively.
#
#   make test-real     fetch and build them, then tests/real/test_real:
#                      each program's workload and a failing path, under
#                      `lvm run` and natively, compared byte for byte
#                      (stdout, stderr, exit status).  A few seconds once
#                      built; the first build, fetch included, about two
#                      minutes on 2 cores (mostly SQLite's 270,000 lines).
#   make bench-real    heavier workloads, lvm and native alternating,
#                      median of REAL_REPS; wasm3 and WAMR's iwasm beside
#                      when ANCHORS_DIR has them.  Part of `make bench`;
#                      about two and a half minutes.
#   make real-fetch    only download and check the sources.
#
# The sources are fetched at build time into $(BUILD)/third_party/, never
# committed, each pinned by its SHA-256 so that a changed upstream fails
# loudly:
#   SQLite 3.53.2  the amalgamation in the npm package better-sqlite3
#                  (`npm pack`); the driver is tests/real/programs/sqlite_run.c
#   Lua 5.4.4      Debian's source package lua5.4 (its upstream tarball)
#   zstd 1.5.4     Debian's source package libzstd (lib/ only; the driver
#                  is tests/real/programs/zstd_run.c)
# Debian's sources come through `apt-get source --download-only` with an
# apt configuration of its own under $(BUILD)/third_party/apt (a deb-src
# line for bookworm), so the machine's apt set-up is left alone.
#
# Needs: npm, apt-get, clang with wasm-ld and wasi-libc, binaryen's
# wasm-opt (Lua's setjmp, below), gcc, Criterion.

REAL_TP    := $(BUILD)/third_party
REAL_OUT   := $(BUILD)/real
REAL_PROG  := tests/real/programs
REAL_REPS  ?= 3
ANCHORS_DIR ?= ../shared/anchors

# {====== the pinned sources

SQLITE_NPM     := better-sqlite3@12.11.1
SQLITE_TGZ     := $(REAL_TP)/better-sqlite3-12.11.1.tgz
SQLITE_SHA256  := ebf0ed75a7a59dbcb3b24bbd014ef49d9f15bc328e4adcbf516f2a8fadfa2835
SQLITE_DIR     := $(REAL_TP)/sqlite

LUA_DEBSRC     := lua5.4
LUA_ORIG       := $(REAL_TP)/lua5.4_5.4.4.orig.tar.gz
LUA_SHA256     := 164c7849653b80ae67bec4b7473b884bf5cc8d2dca05653475ec2ed27b9ebf61
LUA_DIR        := $(REAL_TP)/lua-5.4.4

ZSTD_DEBSRC    := libzstd
ZSTD_ORIG      := $(REAL_TP)/libzstd_1.5.4+dfsg2.orig.tar.xz
ZSTD_SHA256    := 8cf4bbb65e77ec348d052c8d6230eba66d435bddf64c8b5be2fcb16880c19953
ZSTD_DIR       := $(REAL_TP)/zstd-1.5.4

# The file lists of those exact versions (the sources do not exist when
# make reads this file, so they cannot be wildcards).  Lua: everything but
# luac.c; zstd: the library without the deprecated, legacy and dictionary
# builder parts.
LUA_NAMES  := lapi lauxlib lbaselib lcode lcorolib lctype ldblib ldebug ldo \
              ldump lfunc lgc linit liolib llex lmathlib lmem loadlib lobject \
              lopcodes loslib lparser lstate lstring lstrlib ltable ltablib \
              ltm lua lundump lutf8lib lvm lzio
LUA_C      := $(LUA_NAMES:%=$(LUA_DIR)/src/%.c)
ZSTD_NAMES := common/debug common/entropy_common common/error_private \
              common/fse_decompress common/pool common/threading \
              common/xxhash common/zstd_common compress/fse_compress \
              compress/hist compress/huf_compress compress/zstd_compress \
              compress/zstd_compress_literals compress/zstd_compress_sequences \
              compress/zstd_compress_superblock compress/zstd_double_fast \
              compress/zstd_fast compress/zstd_lazy compress/zstd_ldm \
              compress/zstd_opt compress/zstdmt_compress \
              decompress/huf_decompress decompress/zstd_ddict \
              decompress/zstd_decompress decompress/zstd_decompress_block
ZSTD_C     := $(ZSTD_NAMES:%=$(ZSTD_DIR)/lib/%.c)

APT_DIR  := $(REAL_TP)/apt
APT_OPTS := -o Dir::Etc::SourceList=$(CURDIR)/$(APT_DIR)/sources.list \
            -o Dir::Etc::SourceParts=/nonexistent \
            -o Dir::State::Lists=$(CURDIR)/$(APT_DIR)/lists \
            -o Dir::Cache=$(CURDIR)/$(APT_DIR)/cache \
            -o Debug::NoLocking=1 -o APT::Sandbox::User=root -qq

# check_sha256 FILE SUM: fail, naming the file and both sums, on a mismatch.
check_sha256 = got=$$(sha256sum $(1) | cut -d' ' -f1); [ "$$got" = "$(2)" ] || \
  { echo "$(1): sha256 $$got, expected $(2): the pinned source changed upstream" >&2; rm -f $(1); exit 1; }

$(SQLITE_TGZ):
	@mkdir -p $(@D)
	cd $(@D) && npm pack --silent $(SQLITE_NPM) >/dev/null
	@$(call check_sha256,$@,$(SQLITE_SHA256))

$(APT_DIR)/.updated:
	@mkdir -p $(APT_DIR)/lists/partial $(APT_DIR)/cache/archives/partial
	echo 'deb-src http://deb.debian.org/debian bookworm main' > $(APT_DIR)/sources.list
	apt-get $(APT_OPTS) update
	@touch $@

# apt-get source fetches the newest Debian revision; its upstream tarball
# is what is pinned (a new upstream version has another name: then the
# file is missing and the rule fails).
debian_source = cd $(REAL_TP) && apt-get $(APT_OPTS) source --download-only $(1); \
  test -f $(notdir $(2)) || { echo "$(2): not in Debian's source package $(1) any more" >&2; exit 1; }

$(LUA_ORIG): | $(APT_DIR)/.updated
	$(call debian_source,$(LUA_DEBSRC),$@)
$(ZSTD_ORIG): | $(APT_DIR)/.updated
	$(call debian_source,$(ZSTD_DEBSRC),$@)

# Extracting touches every file (tar -m), so the sources are newer than
# their tarball and are made exactly once.
$(SQLITE_DIR)/sqlite3.c $(SQLITE_DIR)/sqlite3.h &: $(SQLITE_TGZ)
	@$(call check_sha256,$<,$(SQLITE_SHA256))
	rm -rf $(SQLITE_DIR) $(REAL_TP)/package && mkdir -p $(SQLITE_DIR)
	tar -xzmf $< -C $(REAL_TP) package/deps/sqlite3
	mv $(REAL_TP)/package/deps/sqlite3/* $(SQLITE_DIR)/ && rm -rf $(REAL_TP)/package

$(LUA_C) &: $(LUA_ORIG)
	@$(call check_sha256,$<,$(LUA_SHA256))
	rm -rf $(LUA_DIR) && tar -xzmf $< -C $(REAL_TP)

$(ZSTD_C) &: $(ZSTD_ORIG)
	@$(call check_sha256,$<,$(ZSTD_SHA256))
	rm -rf $(ZSTD_DIR) && tar -xJmf $< -C $(REAL_TP)

.PHONY: real-fetch
real-fetch: $(SQLITE_DIR)/sqlite3.c $(LUA_C) $(ZSTD_C)

# }======

# {====== building each program twice

# The same flags on both sides (no -Werror: the code is not ours), plus
# each program's own configuration macros:
#   SQLite  no threads, no extension loading (dlopen), no WAL and no mmap
#           (shared memory), temporary tables and sorts always in memory
#           (a WASI program has no /tmp; without it CREATE INDEX on a big
#           table fails with "disk I/O error"); wasi-libc's emulated getpid
#           and mman.
#   Lua     ISO C configuration (no LUA_USE_POSIX/LINUX: no popen,
#           mkstemp or dlopen); for WASI, programs/lua_wasi.h (os.tmpname
#           fails), programs/lua_wasi.c (system, tmpfile), the emulated
#           signal() and clock(), and setjmp/longjmp from
#           programs/wasm_sjlj/ on binaryen's Asyncify (Lua raises errors
#           and yields coroutines with longjmp; wasi-libc has none).
#   zstd    ZSTD_DISABLE_ASM (the x86-64 Huffman decoder), one thread.
REAL_CFLAGS   := -O2
REAL_NATIVE_CC ?= gcc
REAL_WASM_CC  := clang --target=wasm32-wasi --sysroot=/usr
# Linking without -O: clang would otherwise run wasm-opt when it finds one
# on PATH, so the module would depend on the machine.  --strip-debug drops
# the DWARF of wasi-libc's libc.a; the name section stays (backtraces).
REAL_WASM_LINK := $(REAL_WASM_CC) -Wl,--strip-debug -Wl,-z,stack-size=1048576

SQLITE_DEFS := -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL \
               -DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_TEMP_STORE=3
SQLITE_WASI := -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_MMAN
LUA_WASI    := -I$(REAL_PROG)/wasm_sjlj -include $(REAL_PROG)/lua_wasi.h \
               -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS \
               -Dmain=lvm_sjlj_main -Wno-invalid-noreturn
ZSTD_DEFS   := -DZSTD_DISABLE_ASM -I$(ZSTD_DIR)/lib

REAL_NATIVE := $(REAL_OUT)/native
REAL_WASM   := $(REAL_OUT)/wasm
REAL_BINS   := $(REAL_NATIVE)/sqlite_run $(REAL_NATIVE)/lua $(REAL_NATIVE)/zstd_run \
               $(REAL_WASM)/sqlite_run.wasm $(REAL_WASM)/lua.wasm $(REAL_WASM)/zstd_run.wasm

LUA_NATIVE_OBJ  := $(LUA_NAMES:%=$(REAL_NATIVE)/lua-obj/%.o)
LUA_WASM_OBJ    := $(LUA_NAMES:%=$(REAL_WASM)/lua-obj/%.o) $(REAL_WASM)/lua-obj/lua_wasi.o \
                   $(REAL_WASM)/lua-obj/sjlj.o $(REAL_WASM)/lua-obj/stack_pointer.o
ZSTD_NATIVE_OBJ := $(ZSTD_NAMES:%=$(REAL_NATIVE)/zstd-obj/%.o)
ZSTD_WASM_OBJ   := $(ZSTD_NAMES:%=$(REAL_WASM)/zstd-obj/%.o)

$(REAL_NATIVE)/sqlite3.o: $(SQLITE_DIR)/sqlite3.c
	@mkdir -p $(@D)
	$(REAL_NATIVE_CC) $(REAL_CFLAGS) $(SQLITE_DEFS) -c $< -o $@
$(REAL_WASM)/sqlite3.o: $(SQLITE_DIR)/sqlite3.c
	@mkdir -p $(@D)
	$(REAL_WASM_CC) $(REAL_CFLAGS) $(SQLITE_DEFS) $(SQLITE_WASI) -c $< -o $@
$(REAL_NATIVE)/sqlite_run: $(REAL_PROG)/sqlite_run.c $(REAL_NATIVE)/sqlite3.o $(SQLITE_DIR)/sqlite3.h
	$(REAL_NATIVE_CC) $(REAL_CFLAGS) -Wall -Wextra -I$(SQLITE_DIR) -o $@ $< $(REAL_NATIVE)/sqlite3.o -lm
$(REAL_WASM)/sqlite_run.wasm: $(REAL_PROG)/sqlite_run.c $(REAL_WASM)/sqlite3.o $(SQLITE_DIR)/sqlite3.h
	$(REAL_WASM_CC) $(REAL_CFLAGS) -Wall -Wextra -I$(SQLITE_DIR) -c $< -o $(REAL_WASM)/sqlite_run.o
	$(REAL_WASM_LINK) -o $@ $(REAL_WASM)/sqlite_run.o $(REAL_WASM)/sqlite3.o \
	  -lwasi-emulated-getpid -lwasi-emulated-mman

$(LUA_NATIVE_OBJ): $(REAL_NATIVE)/lua-obj/%.o: $(LUA_DIR)/src/%.c
	@mkdir -p $(@D)
	$(REAL_NATIVE_CC) $(REAL_CFLAGS) -c $< -o $@
$(LUA_NAMES:%=$(REAL_WASM)/lua-obj/%.o): $(REAL_WASM)/lua-obj/%.o: $(LUA_DIR)/src/%.c \
    $(REAL_PROG)/lua_wasi.h $(REAL_PROG)/wasm_sjlj/setjmp.h
	@mkdir -p $(@D)
	$(REAL_WASM_CC) $(REAL_CFLAGS) $(LUA_WASI) -c $< -o $@
$(REAL_WASM)/lua-obj/lua_wasi.o: $(REAL_PROG)/lua_wasi.c
	@mkdir -p $(@D)
	$(REAL_WASM_CC) $(REAL_CFLAGS) -Wall -Wextra -c $< -o $@
$(REAL_WASM)/lua-obj/sjlj.o: $(REAL_PROG)/wasm_sjlj/sjlj.c $(REAL_PROG)/wasm_sjlj/setjmp.h
	@mkdir -p $(@D)
	$(REAL_WASM_CC) $(REAL_CFLAGS) -Wall -Wextra -c $< -o $@
$(REAL_WASM)/lua-obj/stack_pointer.o: $(REAL_PROG)/wasm_sjlj/stack_pointer.S
	@mkdir -p $(@D)
	$(REAL_WASM_CC) -c $< -o $@
$(REAL_NATIVE)/lua: $(LUA_NATIVE_OBJ)
	$(REAL_NATIVE_CC) $(REAL_CFLAGS) -o $@ $^ -lm
# Asyncify, then -O2 on the result: asyncify-imports names no import, as
# no WASI call ever unwinds; only setjmp and longjmp do.  Each jmp_buf holds
# a 16 KiB snapshot on the C stack, hence the 8 MiB stack.
$(REAL_WASM)/lua.wasm: $(LUA_WASM_OBJ)
	$(REAL_WASM_LINK) -Wl,-z,stack-size=8388608 -o $(REAL_WASM)/lua.pre.wasm $^ \
	  -lwasi-emulated-signal -lwasi-emulated-process-clocks
	wasm-opt -g --asyncify --pass-arg=asyncify-imports@env.none -O2 \
	  $(REAL_WASM)/lua.pre.wasm -o $@

$(ZSTD_NATIVE_OBJ): $(REAL_NATIVE)/zstd-obj/%.o: $(ZSTD_DIR)/lib/%.c
	@mkdir -p $(@D)
	$(REAL_NATIVE_CC) $(REAL_CFLAGS) $(ZSTD_DEFS) -c $< -o $@
$(ZSTD_WASM_OBJ): $(REAL_WASM)/zstd-obj/%.o: $(ZSTD_DIR)/lib/%.c
	@mkdir -p $(@D)
	$(REAL_WASM_CC) $(REAL_CFLAGS) $(ZSTD_DEFS) -c $< -o $@
$(REAL_NATIVE)/zstd_run: $(REAL_PROG)/zstd_run.c $(ZSTD_NATIVE_OBJ)
	$(REAL_NATIVE_CC) $(REAL_CFLAGS) -Wall -Wextra $(ZSTD_DEFS) -o $@ $^
$(REAL_WASM)/zstd_run.wasm: $(REAL_PROG)/zstd_run.c $(ZSTD_WASM_OBJ)
	$(REAL_WASM_CC) $(REAL_CFLAGS) -Wall -Wextra $(ZSTD_DEFS) -c $< -o $(REAL_WASM)/zstd_run.o
	$(REAL_WASM_LINK) -o $@ $(REAL_WASM)/zstd_run.o $(ZSTD_WASM_OBJ)

# }======

# {====== test-real and bench-real

# The test binary needs only Criterion: it runs the programs, it links
# nothing of lvm (so it is left out of `make unit`, see TEST_DIRS).
$(BUILD)/tests/test_real: tests/real/test_real.c tests/lvm_bin.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -Itests -o $@ $< -lcriterion

.PHONY: real test-real bench-real
real: $(REAL_BINS)

test-real: $(LVM) $(REAL_BINS) $(BUILD)/tests/test_real
	REAL_DIR=$(REAL_OUT) REAL_WORK=tests/real $(BUILD)/tests/test_real -j2

bench-real: $(LVM) $(REAL_BINS)
	@LVM=$(LVM) REAL_DIR=$(REAL_OUT) REAL_WORK=tests/real REAL_REPS=$(REAL_REPS) \
	  ANCHORS_DIR=$(ANCHORS_DIR) bash tests/real/bench.sh

bench: bench-real

# }======
