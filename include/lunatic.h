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
