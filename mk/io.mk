# mk/io.mk - io/'s build rules, included by the GNUmakefile.
#
# 1. Exactly one reactor backend goes into the library.  LIB_OBJ holds every
#    io/*.c; the backend for the other kernel API is filtered out here,
#    chosen from `uname -s` (libuv style).  A system with neither epoll nor
#    kqueue stops the build with a message rather than failing at link time.
# 2. tests/io links io/'s objects alone, not the whole library: that proves
#    io/ depends on nothing but libc and pthreads, and lets it be tested
#    while other folders do not build.  An explicit rule beats the
#    GNUmakefile's pattern rule for the same target.
#
#   make io-test          build and run tests/io only

IO_OS := $(shell uname -s)
ifeq ($(IO_OS),Linux)
IO_BACKEND_UNUSED := io/backend_kqueue.c
else ifneq ($(filter Darwin FreeBSD OpenBSD NetBSD DragonFly,$(IO_OS)),)
IO_BACKEND_UNUSED := io/backend_epoll.c
else
$(error io/: no reactor backend for $(IO_OS); io/backend.h needs epoll or kqueue)
endif

LIB_OBJ := $(filter-out $(IO_BACKEND_UNUSED:%.c=$(BUILD)/obj/%.o),$(LIB_OBJ))
IO_OBJ  := $(filter $(BUILD)/obj/io/%,$(LIB_OBJ))

$(BUILD)/tests/test_io: $(wildcard tests/io/*.c) $(IO_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -Itests -o $@ $^ -lcriterion $(LDLIBS)

.PHONY: io-test
io-test: $(BUILD)/tests/test_io
	$< -j2
