/*
 * lunatic.h - the lunatic 0.3 host API for C guests (wasm32-wasi), as lvm
 * provides it: the raw imports of module "lunatic" with their contracts,
 * and two helpers.  Build with
 *     clang --target=wasm32-wasi --sysroot=/usr -O2 -Iinclude prog.c
 *
 * Conventions (see the ABI note, section 1): status results are exactly
 * 0 (ok) or 1 (error); ids index per-process tables that start at 0 and
 * never reuse an id; a bad id or pointer traps the calling process (its
 * parent's join gives 1; in the main process lvm exits with status 134).
 */
#ifndef LUNATIC_H
#define LUNATIC_H

#include <stdint.h>
#include <stdlib.h>

#define LUNATIC_IMPORT(name) __attribute__((import_module("lunatic"), import_name(#name)))

/* ---- processes ------------------------------------------------------- */

/* Go to the back of the run queue. */
LUNATIC_IMPORT(yield_) void lunatic_yield(void);
/* Suspend this process (only) for at least ms milliseconds. */
LUNATIC_IMPORT(sleep_ms) void lunatic_sleep_ms(uint64_t ms);
/* Start a fresh instance of this program at the function `fn` (a
 * void(void) function: in C its address is its table index), with
 * [ctx, ctx+len) copied as the first message on the child's receiver 0.
 * Serialized resources go with it.  Returns a child handle. */
LUNATIC_IMPORT(spawn_with_context) uint32_t lunatic_spawn_with_context(uint32_t fn, const void *ctx,
                                                                      uint32_t len);
/* Wait for the child: 0 if its function returned (or proc_exit(0)), 1 if
 * it trapped.  Consumes the handle (a used or unknown one traps). */
LUNATIC_IMPORT(join) uint32_t lunatic_join(uint32_t child);
/* Let the child run on its own; consumes the handle. */
LUNATIC_IMPORT(detach_process) void lunatic_detach(uint32_t child);
/* Stop the child at its next suspension point; consumes the handle. */
LUNATIC_IMPORT(cancel_process) void lunatic_cancel(uint32_t child);

/* ---- channels -------------------------------------------------------- */

/* New channel (bound 0: unbounded).  Returns the sender id; the receiver
 * id goes to *receiver. */
LUNATIC_IMPORT(channel) uint32_t lunatic_channel(uint32_t bound, uint32_t *receiver);
/* Send a copy of [buf, buf+len) plus every serialized resource.  Waits
 * while a bounded channel is full.  0, or 1 if no receiver is left. */
LUNATIC_IMPORT(channel_send) uint32_t lunatic_channel_send(uint32_t sender, const void *buf,
                                                          uint32_t len);
/* Take the next message (waiting while the channel is empty and open) as
 * this process's last message; its length goes to *len.  1 (and *len 0)
 * when it is empty and every sender is gone. */
LUNATIC_IMPORT(channel_receive_prepare) uint32_t lunatic_channel_receive_prepare(uint32_t receiver,
                                                                                uint32_t *len);
/* Copy the last message to buf; a buf_len shorter than it traps.  1 if
 * there is no last message. */
LUNATIC_IMPORT(channel_receive) uint32_t lunatic_channel_receive(void *buf, uint32_t buf_len);
/* Drop the last message and the resources nobody deserialized. */
LUNATIC_IMPORT(drop_last_message) void lunatic_drop_last_message(void);
/* Drop this process's reference; unknown ids are ignored. */
LUNATIC_IMPORT(close_sender) void lunatic_close_sender(uint32_t sender);
LUNATIC_IMPORT(close_receiver) void lunatic_close_receiver(uint32_t receiver);
/* Attach a new reference to the next message sent (or spawn context);
 * returns its index in that message. */
LUNATIC_IMPORT(sender_serialize) uint32_t lunatic_sender_serialize(uint32_t sender);
LUNATIC_IMPORT(receiver_serialize) uint32_t lunatic_receiver_serialize(uint32_t receiver);
/* Take resource `index` of the last message into this process's table;
 * returns the new id.  A missing message, a bad or used index, or
 * another kind traps. */
LUNATIC_IMPORT(sender_deserialize) uint32_t lunatic_sender_deserialize(uint32_t index);
LUNATIC_IMPORT(receiver_deserialize) uint32_t lunatic_receiver_deserialize(uint32_t index);

/* ---- networking ------------------------------------------------------ */

/* These return an io code: 0 ok, else 1..20 (ABI 6.1: 1 NotFound,
 * 2 PermissionDenied, 3 ConnectionRefused, 4 ConnectionReset,
 * 5 ConnectionAborted, 6 NotConnected, 7 AddrInUse, 8 AddrNotAvailable,
 * 9 BrokenPipe, 10 AlreadyExists, 11 WouldBlock, 12 InvalidInput,
 * 14 TimedOut, 16 Interrupted, 20 Other).  Out-values are 0 on error.
 * Addresses are raw octets in network order: addr_len 4 (IPv4) or 16
 * (IPv6), any other length gives 12. */
/* Listen on addr:port (SO_REUSEADDR, backlog 128); the id goes to *listener. */
LUNATIC_IMPORT(tcp_bind) uint32_t lunatic_tcp_bind(const uint8_t *addr, uint32_t addr_len, uint32_t port,
                                                  uint32_t *listener);
/* Wait for a connection; the new stream id goes to *stream. */
LUNATIC_IMPORT(tcp_accept) uint32_t lunatic_tcp_accept(uint32_t listener, uint32_t *stream);
/* Connect (waiting for the handshake); the stream id goes to *stream. */
LUNATIC_IMPORT(tcp_connect) uint32_t lunatic_tcp_connect(const uint8_t *addr, uint32_t addr_len,
                                                        uint32_t port, uint32_t *stream);
/* One vectored read into `count` {ptr, len} buffers (the WASI iovec
 * layout), waiting until at least one byte or end of file; *nread 0 with
 * code 0 is end of file. */
LUNATIC_IMPORT(tcp_read_vectored) uint32_t lunatic_tcp_read_vectored(uint32_t stream, const void *iovs,
                                                                    uint32_t count, uint32_t *nread);
/* One vectored write, waiting while there is no room; may be short. */
LUNATIC_IMPORT(tcp_write_vectored) uint32_t lunatic_tcp_write_vectored(uint32_t stream, const void *iovs,
                                                                      uint32_t count, uint32_t *nwritten);
/* Nothing to flush: 0 for a valid stream. */
LUNATIC_IMPORT(tcp_flush) uint32_t lunatic_tcp_flush(uint32_t stream);
/* Drop this process's reference (the socket closes with the last one);
 * unknown ids are ignored. */
LUNATIC_IMPORT(close_tcp_listener) void lunatic_close_tcp_listener(uint32_t listener);
LUNATIC_IMPORT(close_tcp_stream) void lunatic_close_tcp_stream(uint32_t stream);
/* Move sockets in messages, as sender_serialize/sender_deserialize do. */
LUNATIC_IMPORT(tcp_stream_serialize) uint32_t lunatic_tcp_stream_serialize(uint32_t stream);
LUNATIC_IMPORT(tcp_stream_deserialize) uint32_t lunatic_tcp_stream_deserialize(uint32_t index);
LUNATIC_IMPORT(tcp_listener_serialize) uint32_t lunatic_tcp_listener_serialize(uint32_t listener);
LUNATIC_IMPORT(tcp_listener_deserialize) uint32_t lunatic_tcp_listener_deserialize(uint32_t index);
/* Look up "host:port" (or "[v6]:port"), waiting for DNS; the addresses go
 * to a resolver whose id goes to *resolver.  12 for a missing or bad
 * port, 20 if the lookup fails.  The name must be UTF-8. */
LUNATIC_IMPORT(resolve) uint32_t lunatic_resolve(const char *name, uint32_t name_len, uint32_t *resolver);
/* The next address: its octets to addr (16 bytes of room), 4 or 16 to
 * *len, the port to *port, and for IPv6 only *flowinfo and *scope_id.
 * 0, or 1 when there are no more. */
LUNATIC_IMPORT(resolve_next) uint32_t lunatic_resolve_next(uint32_t resolver, uint8_t *addr, uint32_t *len,
                                                          uint16_t *port, uint32_t *flowinfo,
                                                          uint32_t *scope_id);
/* Drop a resolver; unknown ids are ignored. */
LUNATIC_IMPORT(remove_resolver) void lunatic_remove_resolver(uint32_t resolver);

/* ---- module loading -------------------------------------------------- */

/* Decode and validate the wasm module [bytes, bytes+len): 0 and its id in
 * *module, or 1 (and 0) if it is not a valid module (stderr says why). */
LUNATIC_IMPORT(load_module) uint32_t lunatic_load_module(const void *bytes, uint32_t len,
                                                        uint32_t *module);
/* Drop this table entry; processes spawned from it run on.  Unknown ids
 * are ignored. */
LUNATIC_IMPORT(unload_module) void lunatic_unload_module(uint32_t module);
/* Name `module` as the import namespace [name, name+len) (UTF-8) for
 * spawn_from_module; returns the import id.  An unknown module traps. */
LUNATIC_IMPORT(create_import) uint32_t lunatic_create_import(const char *name, uint32_t len,
                                                            uint32_t module);
/* Drop this entry; children already spawned keep theirs.  Unknown ids are
 * ignored. */
LUNATIC_IMPORT(remove_import) void lunatic_remove_import(uint32_t import);
/* Start a process that calls the export [name, name+len) of `module`,
 * with no arguments and no constructors, its memory limited to
 * max_memory 64 KiB pages.  imports: imports_len bytes of u32 import ids,
 * each an instance of its module in the child whose functions the child
 * imports under its namespace (before the host's; a later one with the
 * same namespace wins).  Returns a child handle (join, detach, cancel);
 * if the child cannot start (a missing export or import, too little
 * memory) its join gives 1.  An unknown module or import id traps. */
LUNATIC_IMPORT(spawn_from_module) uint32_t lunatic_spawn_from_module(uint32_t module,
                                                                    const char *name,
                                                                    uint32_t name_len,
                                                                    uint32_t max_memory,
                                                                    const uint32_t *imports,
                                                                    uint32_t imports_len);

/* ---- helpers --------------------------------------------------------- */

/* Receive the next message on `receiver` into a malloc'ed buffer (the
 * caller frees it); NULL when the channel is closed.  The message stays
 * the last message, for *_deserialize, until lunatic_drop_last_message. */
static inline void *lunatic_receive(uint32_t receiver, uint32_t *len)
{
    if (lunatic_channel_receive_prepare(receiver, len) != 0)
        return NULL;
    void *buf = malloc(*len ? *len : 1);
    if (!buf || lunatic_channel_receive(buf, *len) != 0)
        abort();
    return buf;
}

/* In a spawned child: the context its parent passed (receiver 0). */
static inline void *lunatic_spawn_context(uint32_t *len)
{
    return lunatic_receive(0, len);
}

/* The table index of a function, as spawn_with_context takes it. */
#define LUNATIC_FN(f) ((uint32_t)(uintptr_t)(void (*)(void))(f))

#endif
