/*
 * lunatic14.h - the lunatic 0.14 host API for C guests (wasm32-wasi), as
 * lvm provides it: the raw imports of the `lunatic::*` modules (every
 * function of crate 0.14.1 but SQLite and TLS, which lvm does not have),
 * and the helpers a C program wants (send bytes with a tag, receive with
 * a timeout, request/reply, spawn a C function, link, monitor).  Build
 * with
 *     clang --target=wasm32-wasi --sysroot=/usr -O2 -Iinclude prog.c
 *
 * Conventions (the ABI note, section 1): process ids are u64 (the main
 * process is 1) and there is one node, id 0; resource ids are per
 * process, start at 0 and are never reused; a bad id or pointer traps the
 * calling process.  Functions that can fail softly return 0 (ok), 1
 * (error: an error id was written where the result would have gone, read
 * it with lun_error_text) or 9027 (timeout).  Every i32 of the ABI is an
 * int32_t, uint32_t or a pointer here, every i64 an int64_t or uint64_t:
 * signed where -1 means something (an inherited config or module, a
 * create_config refused).
 *
 * Spawning a C function.  A process is a fresh instance of the program
 * that starts in an exported function; this header exports one,
 * `lun_entry(fn, arg)`, which calls the C function `fn` (a table index,
 * which is what a C function pointer is in wasm) with `arg`.  The header
 * may therefore be included by one translation unit of a program only:
 * define LUNATIC14_NO_ENTRY before including it in the others.
 *
 * Constructors.  A spawned process is a new instance whose `_start` never
 * ran, so somebody must run the C constructors before `fn`.  lvm calls
 * exports as they are (ABI D10) and does not do it; wasm-ld does: in a
 * command (a module with `_start`) it wraps every export in a
 * `NAME.command_export` function that calls `__wasm_call_ctors`, then the
 * export, then `__wasm_call_dtors` (atexit handlers and the stdio flush).
 * `wasm-objdump -d` of a program with a constructor shows lun_entry as
 * `call __wasm_call_ctors; call_indirect; call __wasm_call_dtors` (clang
 * and wasm-ld 14, wasi-libc 2022-05; -O2 runs wasm-opt, which inlines
 * the wrapper).  So a spawned function sees its constructors run and its
 * output flushed when it returns, as main does - but not when it traps:
 * fflush first.  (The rejected alternative, calling __wasm_call_ctors
 * from lun_entry: a program that names __wasm_call_ctors gets no
 * wrappers at all, and this wasi-libc's _start relies on its wrapper, so
 * main would then run without constructors.)
 *
 * trap::catch.  lunatic_catch(fn, arg) calls the guest's export
 * `_lunatic_catch_trap(fn, arg)` (ABI section 10) and returns 0 if it
 * trapped.  The header defines that export only if LUNATIC14_CATCH is
 * defined, because wasm-ld wraps it as every export: each lun_catch runs
 * the program's constructors again before fn and its atexit handlers
 * after it (verified as above).  wasi-libc's own constructors bear that;
 * a program's own must be idempotent, and it must not use atexit.
 * Without the export, lunatic_catch traps the caller.
 */
#ifndef LUNATIC14_H
#define LUNATIC14_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(void *) == 4, "lunatic14.h is for wasm32 guests");

#define LUN_IMPORT(mod, name) __attribute__((import_module("lunatic::" mod), import_name(name)))

enum { LUN_OK = 0, LUN_ERROR = 1, LUN_TIMEOUT = 9027 };
/* What lun_recv / lunatic_receive returns (besides LUN_TIMEOUT). */
enum { LUN_DATA = 0, LUN_LINK_DIED = 1, LUN_DOWN = 2 };
/* get_or_spawn / lun_spawn_named: the name was taken, nothing spawned. */
enum { LUN_NAME_TAKEN = 2 };
#define LUN_FOREVER UINT64_MAX         /* a timeout that never expires */
#define LUN_INHERIT (-1)               /* config or module: the caller's own */

/* ---- lunatic::process: processes, links, monitors (ABI 7, 8) -------- */

/* Start func (an export of the module, with params as 17-byte records:
 * see lun_spawn_config) in a new process.  link != 0 links it to me: I
 * hold the link with no tag, it holds `link`.  config and module: an id,
 * or LUN_INHERIT.  0 + the new pid in *id, or 1 + an error id. */
LUN_IMPORT("process", "spawn")
uint32_t lunatic_spawn(int64_t link, int64_t config, int64_t module, const char *func,
                       uint32_t func_len, const uint8_t *params, uint32_t params_len, uint64_t *id);
/* spawn under a registered name, atomically: 0 (spawned and registered),
 * 1 (error id in *id, the name stays free) or LUN_NAME_TAKEN (*node and
 * *id: the process registered there). */
LUN_IMPORT("process", "get_or_spawn")
uint32_t lunatic_get_or_spawn(const char *name, uint32_t name_len, int64_t link, int64_t config,
                              int64_t module, const char *func, uint32_t func_len,
                              const uint8_t *params, uint32_t params_len, uint64_t *node,
                              uint64_t *id);
LUN_IMPORT("process", "process_id") uint64_t lunatic_process_id(void);
/* Not declared by the crate; the runtime and lvm have it (1 under run). */
LUN_IMPORT("process", "environment_id") uint64_t lunatic_environment_id(void);
LUN_IMPORT("process", "sleep_ms") void lunatic_sleep_ms(uint64_t ms);
/* trap != 0 (the default): a linked process's failure kills this one;
 * 0: it arrives as a LUN_LINK_DIED message carrying the link's tag. */
LUN_IMPORT("process", "die_when_link_dies") void lunatic_die_when_link_dies(uint32_t trap);
/* Both sides store tag; a pid that does not exist is a link death at once. */
LUN_IMPORT("process", "link") void lunatic_link(int64_t tag, uint64_t pid);
LUN_IMPORT("process", "unlink") void lunatic_unlink(uint64_t pid);
/* A LUN_DOWN message when pid ends, for any reason (at once if it is gone). */
LUN_IMPORT("process", "monitor") void lunatic_monitor(uint64_t pid);
LUN_IMPORT("process", "stop_monitoring") void lunatic_stop_monitoring(uint64_t pid);
LUN_IMPORT("process", "kill") void lunatic_kill(uint64_t pid);
LUN_IMPORT("process", "exists") uint32_t lunatic_exists(uint64_t pid);

/* ---- lunatic::process: configs and modules (ABI 9) ------------------ */

/* A new config denies everything; -1 if mine may not create configs.
 * A config is the child's whole set of permissions and limits. */
LUN_IMPORT("process", "create_config") int64_t lunatic_create_config(void);
LUN_IMPORT("process", "drop_config") void lunatic_drop_config(uint64_t config);
LUN_IMPORT("process", "config_set_max_memory") void lunatic_config_set_max_memory(uint64_t config, uint64_t bytes);
LUN_IMPORT("process", "config_get_max_memory") uint64_t lunatic_config_get_max_memory(uint64_t config);
/* 0: unlimited; lvm counts a unit as 10,000 reductions (ABI D-D). */
LUN_IMPORT("process", "config_set_max_fuel") void lunatic_config_set_max_fuel(uint64_t config, uint64_t units);
LUN_IMPORT("process", "config_get_max_fuel") uint64_t lunatic_config_get_max_fuel(uint64_t config);
LUN_IMPORT("process", "config_can_compile_modules") uint32_t lunatic_config_can_compile_modules(uint64_t config);
LUN_IMPORT("process", "config_set_can_compile_modules") void lunatic_config_set_can_compile_modules(uint64_t config, uint32_t can);
LUN_IMPORT("process", "config_can_create_configs") uint32_t lunatic_config_can_create_configs(uint64_t config);
LUN_IMPORT("process", "config_set_can_create_configs") void lunatic_config_set_can_create_configs(uint64_t config, uint32_t can);
LUN_IMPORT("process", "config_can_spawn_processes") uint32_t lunatic_config_can_spawn_processes(uint64_t config);
LUN_IMPORT("process", "config_set_can_spawn_processes") void lunatic_config_set_can_spawn_processes(uint64_t config, uint32_t can);
/* -1 without the permission; else 0 + module id, or 1 + error id. */
LUN_IMPORT("process", "compile_module") int32_t lunatic_compile_module(const void *bytes, uint32_t len, uint64_t *id);
LUN_IMPORT("process", "drop_module") void lunatic_drop_module(uint64_t module);

/* ---- lunatic::wasi: a config's view of the host (ABI 9.4) ----------- */

LUN_IMPORT("wasi", "config_add_environment_variable")
void lunatic_config_add_env(uint64_t config, const char *key, uint32_t key_len, const char *value,
                            uint32_t value_len);
/* The child's argv is exactly the list added: argv[0] is the first. */
LUN_IMPORT("wasi", "config_add_command_line_argument")
void lunatic_config_add_arg(uint64_t config, const char *arg, uint32_t len);
LUN_IMPORT("wasi", "config_preopen_dir")
void lunatic_config_preopen_dir(uint64_t config, const char *dir, uint32_t len);

/* ---- lunatic::message (ABI 6) --------------------------------------- */

/* Each process has one scratch message: the one being built, or the last
 * one received.  create_data replaces it with an empty one. */
LUN_IMPORT("message", "create_data") void lunatic_create_data(int64_t tag, uint64_t capacity);
LUN_IMPORT("message", "write_data") uint32_t lunatic_write_data(const void *p, uint32_t len);
LUN_IMPORT("message", "read_data") uint32_t lunatic_read_data(void *p, uint32_t len);
LUN_IMPORT("message", "seek_data") void lunatic_seek_data(uint64_t pos);
LUN_IMPORT("message", "get_tag") int64_t lunatic_get_tag(void);
/* Of a LUN_DOWN message: the process that ended (else 0). */
LUN_IMPORT("message", "get_process_id") uint64_t lunatic_get_process_id(void);
LUN_IMPORT("message", "data_size") uint64_t lunatic_data_size(void);
/* Resources travel in a message as slot indices: push returns one, take
 * turns it into an id of the receiver's (a TCP stream or UDP socket is
 * moved out of the sender's table, a module is shared). */
LUN_IMPORT("message", "push_module") uint64_t lunatic_push_module(uint64_t module);
LUN_IMPORT("message", "take_module") uint64_t lunatic_take_module(uint64_t index);
LUN_IMPORT("message", "push_tcp_stream") uint64_t lunatic_push_tcp_stream(uint64_t stream);
LUN_IMPORT("message", "take_tcp_stream") uint64_t lunatic_take_tcp_stream(uint64_t index);
/* Not declared by the crate; the runtime and lvm have them. */
LUN_IMPORT("message", "push_udp_socket") uint64_t lunatic_push_udp_socket(uint64_t socket);
LUN_IMPORT("message", "take_udp_socket") uint64_t lunatic_take_udp_socket(uint64_t index);
/* Always 0: a message to a process that is gone is dropped. */
LUN_IMPORT("message", "send") uint32_t lunatic_send(uint64_t pid);
/* Send, then wait for a message tagged wait_tag that arrives after this
 * call (older ones are not searched): 0 with it in the scratch slot, or
 * 9027. */
LUN_IMPORT("message", "send_receive_skip_search")
uint32_t lunatic_send_receive_skip_search(uint64_t pid, int64_t wait_tag, uint64_t timeout_ms);
/* The oldest message with one of ntags tags (0: any message; untagged
 * messages and DOWNs match no filter): LUN_DATA, LUN_LINK_DIED, LUN_DOWN
 * or 9027. */
LUN_IMPORT("message", "receive")
uint32_t lunatic_receive(const int64_t *tags, uint32_t ntags, uint64_t timeout_ms);

/* ---- lunatic::error, registry, timer, trap, version ----------------- */

LUN_IMPORT("error", "string_size") uint32_t lunatic_error_string_size(uint64_t id);
/* Writes string_size bytes, no terminator. */
LUN_IMPORT("error", "to_string") void lunatic_error_to_string(uint64_t id, char *out);
LUN_IMPORT("error", "drop") void lunatic_error_drop(uint64_t id);
/* The registry is one name -> (node, pid) map for the whole run. */
LUN_IMPORT("registry", "put") void lunatic_registry_put(const char *name, uint32_t len, uint64_t node, uint64_t pid);
/* 0 and both written, or 1 (not found, nothing written). */
LUN_IMPORT("registry", "get") uint32_t lunatic_registry_get(const char *name, uint32_t len, uint64_t *node, uint64_t *pid);
LUN_IMPORT("registry", "remove") void lunatic_registry_remove(const char *name, uint32_t len);
/* Takes the scratch message and delivers it after delay_ms. */
LUN_IMPORT("timer", "send_after") uint64_t lunatic_send_after(uint64_t pid, uint64_t delay_ms);
/* 1 if the timer was pending (its message never arrives), else 0. */
LUN_IMPORT("timer", "cancel_timer") uint32_t lunatic_cancel_timer(uint64_t timer);
/* Calls the export _lunatic_catch_trap(fn, arg): its result, 0 if it
 * trapped (see the top and LUNATIC14_CATCH). */
LUN_IMPORT("trap", "catch") int32_t lunatic_catch(int32_t fn, int32_t arg);
/* lvm reports 0.13.2, the runtime release of crate 0.14.1 (ABI D18). */
LUN_IMPORT("version", "major") uint32_t lunatic_version_major(void);
LUN_IMPORT("version", "minor") uint32_t lunatic_version_minor(void);
LUN_IMPORT("version", "patch") uint32_t lunatic_version_patch(void);

/* ---- lunatic::distributed: one node, id 0 (ABI D-C, 11.1) ----------- */

LUN_IMPORT("distributed", "node_id") uint64_t lunatic_node_id(void);
LUN_IMPORT("distributed", "module_id") uint64_t lunatic_module_id(void);
LUN_IMPORT("distributed", "nodes_count") uint32_t lunatic_nodes_count(void);
LUN_IMPORT("distributed", "get_nodes") uint32_t lunatic_get_nodes(uint64_t *nodes, uint32_t len);
LUN_IMPORT("distributed", "exec_lookup_nodes")
uint32_t lunatic_exec_lookup_nodes(const char *query, uint32_t len, uint64_t *query_id,
                                   uint64_t *nodes_len, uint64_t *error);
LUN_IMPORT("distributed", "copy_lookup_nodes_results")
uint32_t lunatic_copy_lookup_nodes_results(uint64_t query_id, uint64_t *nodes, uint32_t len,
                                           uint64_t *error);
/* Node 0 is this one (as message::send); any other: 2, message dropped. */
LUN_IMPORT("distributed", "send") uint32_t lunatic_distributed_send(uint64_t node, uint64_t pid);
LUN_IMPORT("distributed", "send_receive_skip_search")
uint32_t lunatic_distributed_send_receive_skip_search(uint64_t node, uint64_t pid,
                                                      int64_t wait_tag, uint64_t timeout_ms);
LUN_IMPORT("distributed", "spawn")
uint32_t lunatic_distributed_spawn(uint64_t node, int64_t config, int64_t module, const char *func,
                                   uint32_t func_len, const uint8_t *params, uint32_t params_len,
                                   uint64_t *id);

/* ---- lunatic::metrics: names checked, values ignored (ABI 11.2) ----- */

LUN_IMPORT("metrics", "counter") void lunatic_metrics_counter(const char *name, uint32_t len, uint64_t value);
LUN_IMPORT("metrics", "increment_counter") void lunatic_metrics_increment_counter(const char *name, uint32_t len);
LUN_IMPORT("metrics", "gauge") void lunatic_metrics_gauge(const char *name, uint32_t len, double value);
LUN_IMPORT("metrics", "increment_gauge") void lunatic_metrics_increment_gauge(const char *name, uint32_t len, double value);
LUN_IMPORT("metrics", "decrement_gauge") void lunatic_metrics_decrement_gauge(const char *name, uint32_t len, double value);
LUN_IMPORT("metrics", "histogram") void lunatic_metrics_histogram(const char *name, uint32_t len, double value);

/* ---- lunatic::networking (ABI 12) ----------------------------------- */

/* An address goes in as (type 4 or 6, 4 or 16 bytes in network order,
 * port, IPv6 flow info, IPv6 scope id) and comes out as a DNS iterator:
 * resolve_next writes the same five into out-pointers (reserve 16 address
 * bytes; the port is a u16), 0 per address, 1 when exhausted.  The
 * opaque out-pointer of a read or write gets the byte count (a u64), or
 * the error id when the result is 1.  Timeouts in ms, LUN_FOREVER: none.
 * A process needs lvm's --allow-net / --allow-listen / --allow-dns. */
enum { LUN_IPV4 = 4, LUN_IPV6 = 6 };

/* "host:port" (the port is required). */
LUN_IMPORT("networking", "resolve")
uint32_t lunatic_resolve(const char *name, uint32_t len, uint64_t timeout_ms, uint64_t *iter);
LUN_IMPORT("networking", "resolve_next")
uint32_t lunatic_resolve_next(uint64_t iter, uint32_t *addr_type, uint8_t *addr, uint16_t *port,
                              uint32_t *flow, uint32_t *scope);
LUN_IMPORT("networking", "drop_dns_iterator") void lunatic_drop_dns_iterator(uint64_t iter);

LUN_IMPORT("networking", "tcp_bind")
uint32_t lunatic_tcp_bind(uint32_t addr_type, const uint8_t *addr, uint32_t port, uint32_t flow,
                          uint32_t scope, uint64_t *id);
LUN_IMPORT("networking", "tcp_local_addr") uint32_t lunatic_tcp_local_addr(uint64_t listener, uint64_t *iter);
/* Waits for a connection: 0 + stream id + the peer as an iterator. */
LUN_IMPORT("networking", "tcp_accept") uint32_t lunatic_tcp_accept(uint64_t listener, uint64_t *id, uint64_t *peer);
LUN_IMPORT("networking", "tcp_connect")
uint32_t lunatic_tcp_connect(uint32_t addr_type, const uint8_t *addr, uint32_t port, uint32_t flow,
                             uint32_t scope, uint64_t timeout_ms, uint64_t *id);
LUN_IMPORT("networking", "tcp_peer_addr") uint32_t lunatic_tcp_peer_addr(uint64_t stream, uint64_t *iter);
/* One read: 0 + the count in *n (0 at the end of the stream). */
LUN_IMPORT("networking", "tcp_read") uint32_t lunatic_tcp_read(uint64_t stream, void *buf, uint32_t len, uint64_t *n);
LUN_IMPORT("networking", "tcp_peek") uint32_t lunatic_tcp_peek(uint64_t stream, void *buf, uint32_t len, uint64_t *n);
/* iovs: n pairs of u32 (pointer, length); one write, possibly short. */
LUN_IMPORT("networking", "tcp_write_vectored")
uint32_t lunatic_tcp_write_vectored(uint64_t stream, const uint32_t *iovs, uint32_t n, uint64_t *written);
LUN_IMPORT("networking", "tcp_flush") uint32_t lunatic_tcp_flush(uint64_t stream, uint64_t *error);
LUN_IMPORT("networking", "set_read_timeout") void lunatic_set_read_timeout(uint64_t stream, uint64_t ms);
LUN_IMPORT("networking", "get_read_timeout") uint64_t lunatic_get_read_timeout(uint64_t stream);
LUN_IMPORT("networking", "set_write_timeout") void lunatic_set_write_timeout(uint64_t stream, uint64_t ms);
LUN_IMPORT("networking", "get_write_timeout") uint64_t lunatic_get_write_timeout(uint64_t stream);
LUN_IMPORT("networking", "set_peek_timeout") void lunatic_set_peek_timeout(uint64_t stream, uint64_t ms);
LUN_IMPORT("networking", "get_peek_timeout") uint64_t lunatic_get_peek_timeout(uint64_t stream);
/* A second id for the same connection, closed when the last id goes. */
LUN_IMPORT("networking", "clone_tcp_stream") uint64_t lunatic_clone_tcp_stream(uint64_t stream);
LUN_IMPORT("networking", "drop_tcp_stream") void lunatic_drop_tcp_stream(uint64_t stream);
LUN_IMPORT("networking", "drop_tcp_listener") void lunatic_drop_tcp_listener(uint64_t listener);

LUN_IMPORT("networking", "udp_bind")
uint32_t lunatic_udp_bind(uint32_t addr_type, const uint8_t *addr, uint32_t port, uint32_t flow,
                          uint32_t scope, uint64_t *id);
LUN_IMPORT("networking", "udp_local_addr") uint32_t lunatic_udp_local_addr(uint64_t socket, uint64_t *iter);
LUN_IMPORT("networking", "udp_peer_addr") uint32_t lunatic_udp_peer_addr(uint64_t socket, uint64_t *iter);
/* Sets the default peer (error: the error id in *error). */
LUN_IMPORT("networking", "udp_connect")
uint32_t lunatic_udp_connect(uint64_t socket, uint32_t addr_type, const uint8_t *addr,
                             uint32_t port, uint32_t flow, uint32_t scope, uint64_t timeout_ms,
                             uint64_t *error);
LUN_IMPORT("networking", "udp_send") uint32_t lunatic_udp_send(uint64_t socket, const void *buf, uint32_t len, uint64_t *n);
LUN_IMPORT("networking", "udp_send_to")
uint32_t lunatic_udp_send_to(uint64_t socket, const void *buf, uint32_t len, uint32_t addr_type,
                             const uint8_t *addr, uint32_t port, uint32_t flow, uint32_t scope,
                             uint64_t *n);
/* Waits (no timeout); a datagram longer than len is cut. */
LUN_IMPORT("networking", "udp_receive") uint32_t lunatic_udp_receive(uint64_t socket, void *buf, uint32_t len, uint64_t *n);
LUN_IMPORT("networking", "udp_receive_from")
uint32_t lunatic_udp_receive_from(uint64_t socket, void *buf, uint32_t len, uint64_t *n,
                                  uint64_t *sender);
LUN_IMPORT("networking", "set_udp_socket_ttl") void lunatic_set_udp_socket_ttl(uint64_t socket, uint32_t ttl);
LUN_IMPORT("networking", "get_udp_socket_ttl") uint32_t lunatic_get_udp_socket_ttl(uint64_t socket);
LUN_IMPORT("networking", "set_udp_socket_broadcast") void lunatic_set_udp_socket_broadcast(uint64_t socket, uint32_t on);
LUN_IMPORT("networking", "get_udp_socket_broadcast") uint32_t lunatic_get_udp_socket_broadcast(uint64_t socket);
LUN_IMPORT("networking", "clone_udp_socket") uint64_t lunatic_clone_udp_socket(uint64_t socket);
LUN_IMPORT("networking", "drop_udp_socket") void lunatic_drop_udp_socket(uint64_t socket);

/* ---- helpers ------------------------------------------------------------ */

#ifndef LUNATIC14_NO_ENTRY
/* The entry of every process lun_spawn starts (see the top). */
__attribute__((export_name("lun_entry"))) void lun_entry(int32_t fn, int32_t arg)
{
    ((void (*)(int32_t))(uintptr_t)fn)(arg);
}
#ifdef LUNATIC14_CATCH
/* What lunatic_catch calls (see the top for what wasm-ld adds to it). */
__attribute__((export_name("_lunatic_catch_trap"))) int32_t lun_catch_trap(int32_t fn, int32_t arg)
{
    return ((int32_t (*)(int32_t))(uintptr_t)fn)(arg);
}
#endif
#endif

/* fn(arg), or 0 if it trapped: fn should return non-zero.  Needs
 * LUNATIC14_CATCH in the translation unit that has the entry. */
static inline int32_t lun_catch(int32_t (*fn)(int32_t), int32_t arg)
{
    return lunatic_catch((int32_t)(uintptr_t)fn, arg);
}

/* The error's text into buf (NUL-terminated, cut to cap - 1 bytes), then
 * drop the error; returns buf.  An error whose text does not fit goes
 * through a heap copy (a process that is out of memory gets ""). */
static inline const char *lun_error_text(uint64_t id, char *buf, size_t cap)
{
    uint32_t n = lunatic_error_string_size(id);
    if (cap == 0) {
        lunatic_error_drop(id);
        return buf;
    }
    if (n < cap) {
        lunatic_error_to_string(id, buf);
        buf[n] = '\0';
    } else {
        char *all = malloc(n);
        buf[0] = '\0';
        if (all) {
            lunatic_error_to_string(id, all);
            memcpy(buf, all, cap - 1);
            buf[cap - 1] = '\0';
            free(all);
        }
    }
    lunatic_error_drop(id);
    return buf;
}

/* The two 17-byte records (ABI 7.1: a type byte, 0x7f for i32, and a
 * little-endian u128) of lun_entry's arguments: fn's table index, arg. */
static inline void lun__entry_params(uint8_t p[34], void (*fn)(int32_t), int32_t arg)
{
    uint32_t f = (uint32_t)(uintptr_t)fn;
    memset(p, 0, 34);
    p[0] = 0x7f;
    memcpy(p + 1, &f, 4);
    p[17] = 0x7f;
    memcpy(p + 18, &arg, 4);
}

/* Spawn fn(arg) as a new process with a config (LUN_INHERIT: a copy of
 * mine) and, with link_tag != 0, linked to me: if it fails I die too, or,
 * after die_when_link_dies(0), get a LUN_LINK_DIED message tagged
 * link_tag.  Returns LUN_OK with *pid, or LUN_ERROR with *pid an error
 * id (read it with lun_error_text). */
static inline uint32_t lun_spawn_config(int64_t config, void (*fn)(int32_t), int32_t arg,
                                        int64_t link_tag, uint64_t *pid)
{
    uint8_t p[34];
    lun__entry_params(p, fn, arg);
    return lunatic_spawn(link_tag, config, LUN_INHERIT, "lun_entry", 9, p, sizeof p, pid);
}

static inline uint32_t lun_spawn(void (*fn)(int32_t), int32_t arg, int64_t link_tag, uint64_t *pid)
{
    return lun_spawn_config(LUN_INHERIT, fn, arg, link_tag, pid);
}

/* The same under a registered name, atomically: if the name is taken,
 * returns LUN_NAME_TAKEN with *pid the process registered there and
 * spawns nothing. */
static inline uint32_t lun_spawn_named(const char *name, void (*fn)(int32_t), int32_t arg,
                                       uint64_t *pid)
{
    uint8_t p[34];
    uint64_t node;
    lun__entry_params(p, fn, arg);
    return lunatic_get_or_spawn(name, (uint32_t)strlen(name), 0, LUN_INHERIT, LUN_INHERIT,
                                "lun_entry", 9, p, sizeof p, &node, pid);
}

/* Send len bytes to pid with a tag (0: untagged).  Never fails: a message
 * to a process that is gone is dropped. */
static inline void lun_send(uint64_t pid, int64_t tag, const void *bytes, uint32_t len)
{
    lunatic_create_data(tag, len);
    lunatic_write_data(bytes, len);
    lunatic_send(pid);
}

/* Receive the oldest message with one of tags (ntags 0: any message),
 * waiting at most timeout_ms (0: only look; LUN_FOREVER).  Copies up to
 * cap bytes of it into buf (*len: how many; *tag: its tag) and returns
 * LUN_DATA, LUN_LINK_DIED (*tag: the link's), LUN_DOWN (*tag: the dead
 * process's id) or LUN_TIMEOUT.  Other messages stay queued in order. */
static inline uint32_t lun_recv(const int64_t *tags, uint32_t ntags, uint64_t timeout_ms, void *buf,
                                uint32_t cap, uint32_t *len, int64_t *tag)
{
    uint32_t r = lunatic_receive(tags, ntags, timeout_ms);
    if (len)
        *len = 0;
    if (r == LUN_DATA && buf && cap) {
        uint32_t n = lunatic_read_data(buf, cap);
        if (len)
            *len = n;
    }
    if (tag && r != LUN_TIMEOUT)
        *tag = r == LUN_DOWN ? (int64_t)lunatic_get_process_id() : lunatic_get_tag();
    return r;
}

/* Send a request tagged `tag` and wait at most timeout_ms for the reply
 * tagged reply_tag that arrives after it (older messages with that tag
 * are not taken).  Returns LUN_OK with up to cap bytes of the reply in
 * buf, or LUN_TIMEOUT (a late reply is queued as any message). */
static inline uint32_t lun_request(uint64_t pid, int64_t tag, const void *bytes, uint32_t len,
                                   int64_t reply_tag, uint64_t timeout_ms, void *buf, uint32_t cap,
                                   uint32_t *reply_len)
{
    lunatic_create_data(tag, len);
    lunatic_write_data(bytes, len);
    uint32_t r = lunatic_send_receive_skip_search(pid, reply_tag, timeout_ms);
    uint32_t n = r == LUN_OK && buf && cap ? lunatic_read_data(buf, cap) : 0;
    if (reply_len)
        *reply_len = n;
    return r;
}

static inline void lun_link(uint64_t pid, int64_t tag) { lunatic_link(tag, pid); }
static inline void lun_monitor(uint64_t pid) { lunatic_monitor(pid); }
static inline void lun_kill(uint64_t pid) { lunatic_kill(pid); }

static inline void lun_register(const char *name, uint64_t pid)
{
    lunatic_registry_put(name, (uint32_t)strlen(name), 0, pid);
}

/* The pid registered under name, or 0 if none (no process has id 0; the
 * pid may be of a process that has ended since: lunatic_exists tells). */
static inline uint64_t lun_lookup(const char *name)
{
    uint64_t node, pid;
    return lunatic_registry_get(name, (uint32_t)strlen(name), &node, &pid) == 0 ? pid : 0;
}

/* Deliver bytes to pid, tagged, after delay_ms; returns the timer's id
 * (for lunatic_cancel_timer). */
static inline uint64_t lun_send_after(uint64_t pid, int64_t tag, const void *bytes, uint32_t len,
                                      uint64_t delay_ms)
{
    lunatic_create_data(tag, len);
    lunatic_write_data(bytes, len);
    return lunatic_send_after(pid, delay_ms);
}

#endif
