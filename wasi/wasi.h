/*
 * wasi.h - the host side of WASI preview 1 (`wasi_snapshot_preview1`), and
 * one of the two headers of wasi/ that other folders may include (the
 * other is lunatic.h, the lunatic host API).
 *
 * Where it sits: an embedder (the `lvm` command line today, the process
 * spawner later) creates a wasi_ctx for its first process, adds the
 * directories and sockets the program may use (wasi_ctx_preopen_dir,
 * wasi_ctx_listen_tcp) and its network grants (wasi_ctx_caps), registers
 * the host functions in a linker with wasi_define(), instantiates, runs
 * `_start`, and afterwards asks
 * wasi_exit_code() whether the guest called proc_exit.  All 46 functions of
 * preview 1 are implemented.  Every guest pointer is bounds-checked first
 * (an out-of-range pointer is the WASI errno EFAULT, never a crash).
 *
 * The sandbox: a guest sees only the directories preopened for it, and
 * every path is resolved one component at a time below one of them, in
 * user space, with symlinks followed by lvm itself (wasi/path.c).  `..`
 * above a preopen, an absolute path, or a symlink that leads out are all
 * ENOTCAPABLE.
 *
 * Processes: a context has two parts.  What a whole program shares and
 * never changes (arguments, environment) is reference-counted; what each
 * process owns is its descriptor table and its network grants.
 * wasi_ctx_child gives a spawned process its own table with fresh
 * standard descriptors and copies of the preopens its parent holds, and
 * no more network grants than its parent's.  The host functions find the context
 * of the process calling them through its `wasi` slot (vm/process.h); when
 * that slot is NULL, or a host function runs outside the scheduler, they
 * use the context given to wasi_define.
 *
 * Blocking: a read from an empty pipe, an accept with nobody connecting or
 * a poll_oneoff with nothing ready suspends only the calling process (the
 * host function returns LVM_ERR_BLOCK and is re-run when the fd is ready or
 * the timer fires), never the worker thread.
 *
 * Threads: a wasi_ctx belongs to one process and is used by one thread at
 * a time; the shared part is read-only once a process runs.
 */
#ifndef LVM_WASI_H
#define LVM_WASI_H

#include "lvm.h"

/* The import module name of every function registered here. */
#define WASI_MODULE "wasi_snapshot_preview1"

/* One process's WASI state: arguments, environment and preopens (shared
 * with its children), its descriptor table, and its exit code. */
typedef struct wasi_ctx wasi_ctx;

/* Create a context.  argv[0..argc) are the guest's arguments (argv[0] is
 * the program name the guest sees); envp[0..envc) are "KEY=VALUE" strings
 * (envc may be 0).  Both are copied.  Returns NULL when out of memory or
 * when the strings do not fit the guest's 32-bit sizes. */
wasi_ctx *wasi_ctx_new(int argc, const char *const argv[], int envc, const char *const envp[]);

/* Give the program the host directory host_path under the name guest_path
 * (what wasi-libc matches paths against).  Preopens become descriptors 3,
 * 4, ... in the order they are added.  Only before the first child is
 * created.  Returns 0 or a host errno (ENOENT, ENOTDIR, ...). */
int wasi_ctx_preopen_dir(wasi_ctx *ctx, const char *host_path, const char *guest_path);

/* Listen on "ADDR:PORT" (IPv4, or [IPv6]:PORT) and give the program the
 * listening socket as the next descriptor after the preopens (sock_accept
 * takes connections from it).  Returns 0 or a host errno. */
int wasi_ctx_listen_tcp(wasi_ctx *ctx, const char *addr_port);

/* {====== capabilities (caps.c)
 *
 * Everything a process may reach outside its own memory is a capability
 * it holds: its descriptors (the preopened directories and sockets, each
 * with rights), its arguments and environment, and its network grants, a
 * wasi_caps.  A child's set is always derived from its parent's by
 * narrowing only (wasi_ctx_child, wasi_caps_narrow); see caps.c. */

/* One network rule: the addresses whose first `prefix` bits equal those
 * of addr, and the ports port_lo..port_hi.  Addresses are IPv6; an IPv4
 * address is stored (and compared) as its IPv4-mapped form ::ffff:a.b.c.d,
 * so an IPv4 /n is the IPv6 /(96 + n). */
typedef struct wasi_net_rule {
    uint8_t addr[16];
    uint8_t prefix;             /* 0..128 */
    uint16_t port_lo, port_hi;
} wasi_net_rule;

/* The network grants of a process: where it may connect, where it may
 * listen, and whether it may resolve names.  Reference-counted and
 * immutable once a process uses it (children share it). */
typedef struct wasi_caps wasi_caps;

typedef enum wasi_net_kind { WASI_NET_CONNECT, WASI_NET_LISTEN } wasi_net_kind;

/* A set granting nothing (NULL when out of memory). */
wasi_caps *wasi_caps_new(void);
/* One more reference / one fewer (the last frees it; NULL is ignored). */
wasi_caps *wasi_caps_retain(wasi_caps *c);
void wasi_caps_release(wasi_caps *c);

/* Parse a rule: ADDR[/BITS]:PORTS, where ADDR is an IPv4 address, an
 * [IPv6] address or `*` (every address), and PORTS a port, LO-HI or `*`.
 * With `names`, ADDR may also be a host name, which is copied to
 * name_out (name_cap bytes) and left for wasi_caps_add_text to resolve;
 * name_out[0] is 0 for an address.  Returns NULL, or why the text is not
 * a rule ("PORT 'x' is not ..."; in why, why_cap bytes). */
const char *wasi_net_rule_parse(const char *text, bool names, wasi_net_rule *out,
                                char *name_out, size_t name_cap, char *why, size_t why_cap);

/* Grant a rule (not shared yet).  Returns 0 or ENOMEM. */
int wasi_caps_add(wasi_caps *c, wasi_net_kind kind, const wasi_net_rule *r);
/* Parse text as above (names only for connect rules) and grant it; a
 * host name is resolved now, once, and grants exactly the addresses it
 * resolves to.  Returns 0, EINVAL (bad text), ENOENT (a name that does
 * not resolve) or ENOMEM; *why says what in words. */
int wasi_caps_add_text(wasi_caps *c, wasi_net_kind kind, const char *text, char *why,
                       size_t why_cap);
/* Grant name resolution. */
void wasi_caps_allow_dns(wasi_caps *c);

/* The checks.  addr is addr_len raw bytes in network order: 4 (IPv4) or
 * 16 (IPv6; an IPv4-mapped one counts as its IPv4 address). */
bool wasi_caps_may(const wasi_caps *c, wasi_net_kind kind, const uint8_t *addr,
                   uint32_t addr_len, uint16_t port);
bool wasi_caps_may_resolve(const wasi_caps *c);

/* The intersection of two sets: what both grant, never more than either
 * (NULL when out of memory).  `want` is what a parent passes to a child;
 * NULL wants nothing. */
wasi_caps *wasi_caps_narrow(const wasi_caps *parent, const wasi_caps *want);
/* True if everything `a` grants is granted by `b` (rule by rule). */
bool wasi_caps_subset(const wasi_caps *a, const wasi_caps *b);

/* The network grants of a context, to configure before it runs (only
 * before its first child exists). */
wasi_caps *wasi_ctx_caps(wasi_ctx *ctx);

/* What a parent passes to a child (wasi_ctx_child).  The child gets the
 * parent's arguments and environment and fresh standard descriptors
 * always, and then at most: */
typedef struct wasi_grant {
    bool preopens;              /* the parent's preopens as it holds them now */
    const wasi_caps *net;       /* these network grants, narrowed to the
                                   parent's; NULL: none */
} wasi_grant;

/* A context for a process spawned by the owner of `parent`, holding what
 * `g` passes and the parent holds.  Preopens are the parent's as they are
 * now: a closed one is absent, narrowed rights stay narrow, and they are
 * numbered 3, 4, ... in the parent's order (so that wasi-libc, which
 * stops at the first number that is not open, finds them all).  Each is
 * its own host descriptor.  NULL when out of memory. */
wasi_ctx *wasi_ctx_child(const wasi_ctx *parent, const wasi_grant *g);

/* The child of spawn_with_context: everything the parent holds now (its
 * preopens and its own network grants). */
wasi_ctx *wasi_ctx_new_child(const wasi_ctx *parent);

/* A context for a process spawned from a lunatic 0.14 config (ABI 0.14
 * 9.4): exactly these arguments (argv[0] is the first; nothing implicit)
 * and environment ("KEY=VALUE"), fresh standard descriptors (captured if
 * the parent's are), the parent's network grants, and one preopen per
 * path, numbered 3, 4, ... in order, whose guest name is the path as
 * given.  Each path is opened through the parent's own preopened
 * directories, never from the host's root: it must be the guest name of
 * one of them or lie below one ("data/sub" below "data"; a relative path
 * below "."), walked as path_open walks (no way out by ".." or a
 * symlink), and be a directory; its rights are at most what the parent
 * could hand down.  NULL on failure, with *err a host errno (EPERM for a
 * path outside everything the parent holds, ENOENT, ENOTDIR, EMFILE...,
 * ENOMEM) and why a sentence naming the path. */
wasi_ctx *wasi_ctx_configured(const wasi_ctx *parent, int argc, const char *const argv[],
                              int envc, const char *const envp[], int npreopens,
                              const char *const preopens[], int *err, char *why, size_t why_cap);

/* }====== */

/* {====== output capture (capture.c)
 *
 * In-memory output streams, for the test mode (ABI 0.14 13.4): a captured
 * context's stdout and stderr (descriptors 1 and 2, one stream) write
 * into a stream of a capture, and every child context made from it gets
 * a stream of its own, appended in the order they were made.  Thread-safe. */
typedef struct wasi_capture wasi_capture;

wasi_capture *wasi_capture_new(void);           /* one reference */
wasi_capture *wasi_capture_retain(wasi_capture *c);
void wasi_capture_release(wasi_capture *c);
/* From now on ctx's descriptors 1 and 2 write into a new stream of c;
 * returns its index, or -1 when out of memory.  Before ctx runs.  They
 * stay write-only streams (fd_read is EBADF) of type UNKNOWN, WASI's
 * pipe, so no terminal to isatty(); a write takes all its bytes and
 * never waits (out of host memory: ENOMEM, or a short write). */
int wasi_ctx_capture(wasi_ctx *ctx, wasi_capture *c);
/* The number of streams; a malloc'd, NUL-terminated copy of stream i as
 * it is now (writers may go on), or NULL; append bytes to stream i (the
 * runner's notes; false when out of memory). */
size_t wasi_capture_count(wasi_capture *c);
char *wasi_capture_copy(wasi_capture *c, size_t i, size_t *len);
bool wasi_capture_append(wasi_capture *c, size_t i, const void *bytes, size_t len);

/* }====== */

/* Close the context's descriptors and free it; the shared part goes with
 * the last context that uses it. */
void wasi_ctx_free(wasi_ctx *ctx);

/* Host descriptor budgets (ctx.c): at most per_process held by each
 * process's table (0: the default, 1024) and `total` by all processes
 * together, lunatic's sockets included (0: the default, nine tenths of
 * RLIMIT_NOFILE).  Past them the guest gets EMFILE or ENFILE. */
void wasi_set_fd_limits(uint32_t per_process, uint64_t total);
uint32_t wasi_fd_limit(void);
uint64_t wasi_fd_total_limit(void);
uint64_t wasi_fd_total(void);
/* Whether a budget refused ctx a descriptor: EMFILE (its own), ENFILE
 * (the total; the latest refusal if both), or 0 if none ever did. */
int wasi_ctx_fd_refused(const wasi_ctx *ctx);

/* Create the host functions in store `s` (they keep a pointer to ctx, so
 * ctx must outlive the store) and define each one in `l` under the module
 * name WASI_MODULE.  ctx is the context of callers that have none of their
 * own (see above).  Returns LVM_OK or LVM_ERR_NO_MEMORY. */
lvm_err wasi_define(wasi_ctx *ctx, lvm_store *s, lvm_linker *l);

/* True if the guest called proc_exit; *code_out then holds its argument.
 * proc_exit makes the host function return LVM_ERR_TRAP_EXIT, which unwinds
 * the guest like a trap; the embedder tells the two apart with this call. */
bool wasi_exit_code(const wasi_ctx *ctx, uint32_t *code_out);

/* True if `name` is a function of the WASI preview 1 standard (used to
 * word the "unknown import" error: a known name was imported with a wrong
 * module name or type). */
bool wasi_is_preview1_name(const char *name);

#endif
