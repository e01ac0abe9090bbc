/*
 * backend.h - the seam between the reactor and the kernel's readiness API.
 *
 * Six functions, implemented by exactly one of io/backend_epoll.c (Linux)
 * or io/backend_kqueue.c (macOS, the BSDs).  mk/io.mk picks the file from
 * `uname -s`; neither file is #included anywhere (the Redis ae layout,
 * without its #ifdef chain).  reactor.c is the only caller: everything
 * that is the same on every OS (the wake-up fd, argument checks, the
 * one-poller rule) lives there, so each backend is a thin translation.
 *
 * The contract both backends implement:
 *
 *   - A backend is one kernel descriptor (epoll or kqueue).  It holds no
 *     user-space state, so add/del/poll need no locks: the kernel
 *     serialises concurrent calls on the same descriptor.
 *   - Interest is one-shot: io_backend_add arms `fd` for IO_READ and/or
 *     IO_WRITE with `token`; the first poll that sees it ready reports the
 *     token once, with both directions merged into one event, and leaves
 *     the fd disarmed (still known to the kernel) until the next add.
 *   - io_backend_add on an armed fd replaces its interest and token.
 *   - Errors and hang-ups are reported as readiness (see io.h, IO_HUP).
 *   - poll converts nothing but the event format; it returns 0 on EINTR.
 *   - Tokens are non-NULL and 2-byte aligned (reactor.c checks); a backend
 *     may use the low bit.
 */
#ifndef LVM_IO_BACKEND_H
#define LVM_IO_BACKEND_H

#include <stdint.h>

#include "io.h"

/* Create the kernel object; returns its close-on-exec fd or -errno. */
int io_backend_create(void);

/* Close it.  Registrations die with it. */
void io_backend_free(int bfd);

/* Arm `fd` one-shot for `interest` (IO_READ|IO_WRITE, non-zero), replacing
 * any earlier arming.  Returns 0 or -errno.  Any-thread. */
int io_backend_add(int bfd, int fd, unsigned interest, void *token);

/* Disarm `fd` so no later poll reports it.  Returns 0 (also when it was
 * not armed) or -errno.  Any-thread. */
int io_backend_del(int bfd, int fd);

/* Wait up to `timeout_ns` (< 0: forever; 0: don't block) and store at most
 * `max` (<= IO_POLL_MAX) events in `out`.  Returns the count, 0 on timeout
 * or EINTR, or -errno.  One thread at a time (reactor.c enforces it). */
int io_backend_poll(int bfd, io_event *out, int max, int64_t timeout_ns);

/* "epoll" or "kqueue". */
const char *io_backend_name(void);

#endif
