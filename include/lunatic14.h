/*
 * lunatic14.h - the lunatic 0.14 host API for C guests (wasm32-wasi), as
 * lvm provides it: the raw imports of the `lunatic::*` modules, and the
 * helpers a C program wants (send bytes with a tag, receive with a
 * timeout, request/reply, spawn a C function, link, monitor).  Build with
 *     clang --target=wasm32-wasi --sysroot=/usr -O2 -Iinclude prog.c
 *
 * Conventions (the ABI note, section 1): process ids are u64 (the main
 * process is 1); resource ids are per process and never reused; a bad id
 * or pointer traps the calling process.  Functions that can fail softly
 * return 0 (ok), 1 (error: an error id was written, read it with
 * lun_error_text) or 9027 (timeout).
 *
 * Spawning a C function.  A process is a fresh instance of the program
 * that starts in an exported function; this header exports one,
 * `lun_entry(fn, arg)`, which calls the C function `fn` (a table index,
 * which is what a C function pointer is in wasm) with `arg`.  The header
 * may therefore be included by one translation unit of a program only
 * (define LUNATIC14_NO_ENTRY in the others).  The export is wrapped by
 * wasm-ld like every export of a command (constructors before, the
 * stdio flush after), so a spawned function can use stdio and the
 * environment as main can.
 */
#ifndef LUNATIC14_H
#define LUNATIC14_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LUN_IMPORT(mod, name) __attribute__((import_module("lunatic::" mod), import_name(name)))

enum { LUN_OK = 0, LUN_ERROR = 1, LUN_TIMEOUT = 9027 };
/* What lun_recv / lunatic_receive returns (besides LUN_TIMEOUT). */
enum { LUN_DATA = 0, LUN_LINK_DIED = 1, LUN_DOWN = 2 };
#define LUN_FOREVER UINT64_MAX         /* a timeout that never expires */
#define LUN_INHERIT (-1)               /* config or module: the caller's own */

/* ---- lunatic::process ------------------------------------------------ */

LUN_IMPORT("process", "spawn")
uint32_t lunatic_spawn(int64_t link, int64_t config, int64_t module, const char *func,
                       uint32_t func_len, const uint8_t *params, uint32_t params_len, uint64_t *id);
LUN_IMPORT("process", "get_or_spawn")
uint32_t lunatic_get_or_spawn(const char *name, uint32_t name_len, int64_t link, int64_t config,
                              int64_t module, const char *func, uint32_t func_len,
                              const uint8_t *params, uint32_t params_len, uint64_t *node,
                              uint64_t *id);
LUN_IMPORT("process", "process_id") uint64_t lunatic_process_id(void);
LUN_IMPORT("process", "sleep_ms") void lunatic_sleep_ms(uint64_t ms);
/* trap != 0 (the default): a linked process's failure kills this one;
 * 0: it arrives as a LUN_LINK_DIED message carrying the link's tag. */
LUN_IMPORT("process", "die_when_link_dies") void lunatic_die_when_link_dies(uint32_t trap);
LUN_IMPORT("process", "link") void lunatic_link(int64_t tag, uint64_t pid);
LUN_IMPORT("process", "unlink") void lunatic_unlink(uint64_t pid);
LUN_IMPORT("process", "monitor") void lunatic_monitor(uint64_t pid);
LUN_IMPORT("process", "stop_monitoring") void lunatic_stop_monitoring(uint64_t pid);
LUN_IMPORT("process", "kill") void lunatic_kill(uint64_t pid);
LUN_IMPORT("process", "exists") uint32_t lunatic_exists(uint64_t pid);
/* Configs: a new one denies everything (-1 without the permission). */
LUN_IMPORT("process", "create_config") int64_t lunatic_create_config(void);
LUN_IMPORT("process", "drop_config") void lunatic_drop_config(uint64_t config);
LUN_IMPORT("process", "config_set_max_memory") void lunatic_config_set_max_memory(uint64_t config, uint64_t bytes);
LUN_IMPORT("process", "config_get_max_memory") uint64_t lunatic_config_get_max_memory(uint64_t config);
LUN_IMPORT("process", "config_set_max_fuel") void lunatic_config_set_max_fuel(uint64_t config, uint64_t units);
LUN_IMPORT("process", "config_get_max_fuel") uint64_t lunatic_config_get_max_fuel(uint64_t config);
LUN_IMPORT("process", "config_can_compile_modules") uint32_t lunatic_config_can_compile_modules(uint64_t config);
LUN_IMPORT("process", "config_set_can_compile_modules") void lunatic_config_set_can_compile_modules(uint64_t config, uint32_t can);
LUN_IMPORT("process", "config_can_create_configs") uint32_t lunatic_config_can_create_configs(uint64_t config);
LUN_IMPORT("process", "config_set_can_create_configs") void lunatic_config_set_can_create_configs(uint64_t config, uint32_t can);
LUN_IMPORT("process", "config_can_spawn_processes") uint32_t lunatic_config_can_spawn_processes(uint64_t config);
LUN_IMPORT("process", "config_set_can_spawn_processes") void lunatic_config_set_can_spawn_processes(uint64_t config, uint32_t can);
LUN_IMPORT("process", "compile_module") int32_t lunatic_compile_module(const void *bytes, uint32_t len, uint64_t *id);
LUN_IMPORT("process", "drop_module") void lunatic_drop_module(uint64_t module);

/* ---- lunatic::wasi: a config's view of the host ---------------------- */

LUN_IMPORT("wasi", "config_add_environment_variable")
void lunatic_config_add_env(uint64_t config, const char *key, uint32_t key_len, const char *value,
                            uint32_t value_len);
LUN_IMPORT("wasi", "config_add_command_line_argument")
void lunatic_config_add_arg(uint64_t config, const char *arg, uint32_t len);
LUN_IMPORT("wasi", "config_preopen_dir")
void lunatic_config_preopen_dir(uint64_t config, const char *dir, uint32_t len);

/* ---- lunatic::message ------------------------------------------------ */

LUN_IMPORT("message", "create_data") void lunatic_create_data(int64_t tag, uint64_t capacity);
LUN_IMPORT("message", "write_data") uint32_t lunatic_write_data(const void *p, uint32_t len);
LUN_IMPORT("message", "read_data") uint32_t lunatic_read_data(void *p, uint32_t len);
LUN_IMPORT("message", "seek_data") void lunatic_seek_data(uint64_t pos);
LUN_IMPORT("message", "get_tag") int64_t lunatic_get_tag(void);
LUN_IMPORT("message", "get_process_id") uint64_t lunatic_get_process_id(void);
LUN_IMPORT("message", "data_size") uint64_t lunatic_data_size(void);
LUN_IMPORT("message", "push_module") uint64_t lunatic_push_module(uint64_t module);
LUN_IMPORT("message", "take_module") uint64_t lunatic_take_module(uint64_t index);
LUN_IMPORT("message", "push_tcp_stream") uint64_t lunatic_push_tcp_stream(uint64_t stream);
LUN_IMPORT("message", "take_tcp_stream") uint64_t lunatic_take_tcp_stream(uint64_t index);
LUN_IMPORT("message", "send") uint32_t lunatic_send(uint64_t pid);
LUN_IMPORT("message", "send_receive_skip_search")
uint32_t lunatic_send_receive_skip_search(uint64_t pid, int64_t wait_tag, uint64_t timeout_ms);
LUN_IMPORT("message", "receive")
uint32_t lunatic_receive(const int64_t *tags, uint32_t ntags, uint64_t timeout_ms);

/* ---- lunatic::error, registry, timer, trap, version, distributed ----- */

LUN_IMPORT("error", "string_size") uint32_t lunatic_error_string_size(uint64_t id);
LUN_IMPORT("error", "to_string") void lunatic_error_to_string(uint64_t id, char *out);
LUN_IMPORT("error", "drop") void lunatic_error_drop(uint64_t id);
LUN_IMPORT("registry", "put") void lunatic_registry_put(const char *name, uint32_t len, uint64_t node, uint64_t pid);
LUN_IMPORT("registry", "get") uint32_t lunatic_registry_get(const char *name, uint32_t len, uint64_t *node, uint64_t *pid);
LUN_IMPORT("registry", "remove") void lunatic_registry_remove(const char *name, uint32_t len);
LUN_IMPORT("timer", "send_after") uint64_t lunatic_send_after(uint64_t pid, uint64_t delay_ms);
LUN_IMPORT("timer", "cancel_timer") uint32_t lunatic_cancel_timer(uint64_t timer);
LUN_IMPORT("trap", "catch") int32_t lunatic_catch(int32_t fn, int32_t arg);
LUN_IMPORT("version", "major") uint32_t lunatic_version_major(void);
LUN_IMPORT("version", "minor") uint32_t lunatic_version_minor(void);
LUN_IMPORT("version", "patch") uint32_t lunatic_version_patch(void);
LUN_IMPORT("distributed", "node_id") uint64_t lunatic_node_id(void);

/* ---- lunatic::networking (TCP; UDP and DNS are in the ABI note) ------ */

LUN_IMPORT("networking", "tcp_bind")
uint32_t lunatic_tcp_bind(uint32_t addr_type, const uint8_t *addr, uint32_t port, uint32_t flow,
                          uint32_t scope, uint64_t *id);
LUN_IMPORT("networking", "tcp_accept") uint32_t lunatic_tcp_accept(uint64_t listener, uint64_t *id, uint64_t *peer);
LUN_IMPORT("networking", "tcp_connect")
uint32_t lunatic_tcp_connect(uint32_t addr_type, const uint8_t *addr, uint32_t port, uint32_t flow,
                             uint32_t scope, uint64_t timeout_ms, uint64_t *id);
LUN_IMPORT("networking", "tcp_read") uint32_t lunatic_tcp_read(uint64_t stream, void *buf, uint32_t len, uint64_t *n);
LUN_IMPORT("networking", "tcp_write_vectored")
uint32_t lunatic_tcp_write_vectored(uint64_t stream, const uint32_t *iovs, uint32_t n, uint64_t *written);
LUN_IMPORT("networking", "drop_tcp_stream") void lunatic_drop_tcp_stream(uint64_t stream);
LUN_IMPORT("networking", "drop_tcp_listener") void lunatic_drop_tcp_listener(uint64_t listener);

/* ---- helpers ------------------------------------------------------------ */

#ifndef LUNATIC14_NO_ENTRY
/* The entry of every process lun_spawn starts (see the top). */
__attribute__((export_name("lun_entry"))) void lun_entry(int32_t fn, int32_t arg)
{
    ((void (*)(int32_t))(uintptr_t)fn)(arg);
}
#endif

/* The error's text into buf (NUL-terminated, cut to cap), then drop it. */
static inline const char *lun_error_text(uint64_t id, char *buf, size_t cap)
{
    uint32_t n = lunatic_error_string_size(id);
    char tmp[512];
    if (cap && n < sizeof tmp) {
        lunatic_error_to_string(id, tmp);
        size_t k = n < cap - 1 ? n : cap - 1;
        memcpy(buf, tmp, k);
        buf[k] = '\0';
    } else if (cap) {
        buf[0] = '\0';
    }
    lunatic_error_drop(id);
    return buf;
}

/* Spawn fn(arg) as a new process with a config (LUN_INHERIT: a copy of
 * mine) and, with link_tag != 0, linked to me under that tag.  Returns
 * LUN_OK with *pid, or LUN_ERROR with *pid an error id. */
static inline uint32_t lun_spawn_config(int64_t config, void (*fn)(int32_t), int32_t arg,
                                        int64_t link_tag, uint64_t *pid)
{
    /* ABI 7.1: each argument a 17-byte record, a type byte and a u128. */
    uint8_t p[34] = { 0 };
    uint32_t f = (uint32_t)(uintptr_t)fn;
    p[0] = 0x7f;
    memcpy(p + 1, &f, 4);
    p[17] = 0x7f;
    memcpy(p + 18, &arg, 4);
    return lunatic_spawn(link_tag, config, LUN_INHERIT, "lun_entry", 9, p, sizeof p, pid);
}

static inline uint32_t lun_spawn(void (*fn)(int32_t), int32_t arg, int64_t link_tag, uint64_t *pid)
{
    return lun_spawn_config(LUN_INHERIT, fn, arg, link_tag, pid);
}

/* The same under a registered name, atomically: if the name is taken,
 * returns 2 with *pid the process registered there and spawns nothing. */
static inline uint32_t lun_spawn_named(const char *name, void (*fn)(int32_t), int32_t arg,
                                       uint64_t *pid)
{
    uint8_t p[34] = { 0 };
    uint32_t f = (uint32_t)(uintptr_t)fn;
    p[0] = 0x7f;
    memcpy(p + 1, &f, 4);
    p[17] = 0x7f;
    memcpy(p + 18, &arg, 4);
    uint64_t node;
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
 * LUN_DATA, LUN_LINK_DIED (tag: the link's), LUN_DOWN (*tag: the dead
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
 * are not taken).  Returns LUN_OK with the reply in buf, or LUN_TIMEOUT. */
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

/* The pid registered under name, or 0 if none. */
static inline uint64_t lun_lookup(const char *name)
{
    uint64_t node, pid;
    return lunatic_registry_get(name, (uint32_t)strlen(name), &node, &pid) == 0 ? pid : 0;
}

/* Deliver bytes to pid after delay_ms; returns the timer's id. */
static inline uint64_t lun_send_after(uint64_t pid, int64_t tag, const void *bytes, uint32_t len,
                                      uint64_t delay_ms)
{
    lunatic_create_data(tag, len);
    lunatic_write_data(bytes, len);
    return lunatic_send_after(pid, delay_ms);
}

#endif
