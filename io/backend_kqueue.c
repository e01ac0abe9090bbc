/*
 * backend_kqueue.c - the reactor backend for macOS and the BSDs, on
 * kqueue(2).
 *
 * NOTE: this file is not compiled or tested by the Linux build (mk/io.mk
 * leaves it out there).  It is kept deliberately small so that it can be
 * checked by reading; build it with `make` on macOS or FreeBSD before
 * trusting it.  It assumes kevent.udata is a pointer (macOS, FreeBSD,
 * OpenBSD).
 *
 * Triggering: LEVEL-triggered and ONE-SHOT (EV_ONESHOT, no EV_CLEAR), the
 * same behaviour as backend_epoll.c, where the reasons are given: one
 * arming wakes one waiter once, with no user-space bookkeeping.
 *
 * The difference from epoll that shapes this file: kqueue has one filter
 * per direction (EVFILT_READ, EVFILT_WRITE) and EV_ONESHOT deletes only
 * the filter that fired.  To keep the backend.h contract ("one arming, one
 * event, then silent") two things are done:
 *
 *   - add always sets BOTH filters in one kevent() call: the wanted ones
 *     EV_ADD|EV_ENABLE|EV_ONESHOT, the other EV_ADD|EV_DISABLE.  EV_ADD
 *     creates or modifies, so this never fails with ENOENT, and it replaces
 *     an older arming of the other direction (as EPOLL_CTL_MOD would).
 *   - when both directions were armed, the token's low bit (BOTH) says so.
 *     When one fires, poll disables the other and merges a second event for
 *     the same fd from the same batch into the first.  Only this rare case
 *     costs an extra syscall; the common one-direction wait costs none.
 *
 * del disables both filters rather than deleting them: EV_DELETE of a
 * one-shot filter that already fired fails with ENOENT, and a disabled
 * filter is never reported.  The kernel drops both when the fd is closed.
 *
 * Reference: kqueue(2) on FreeBSD and macOS; Redis ae_kqueue.c.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "backend.h"

#define BOTH ((uintptr_t)1)   /* udata tag: both directions armed */

int io_backend_create(void)
{
    int kq = kqueue();
    if (kq < 0)
        return -errno;
    /* kqueue() has no CLOEXEC flag on every system; a kqueue is not
     * inherited by fork, but it would survive exec. */
    if (fcntl(kq, F_SETFD, FD_CLOEXEC) < 0) {
        int e = errno;
        close(kq);
        return -e;
    }
    return kq;
}

void io_backend_free(int bfd)
{
    if (bfd >= 0)
        close(bfd);
}

static unsigned short flags_for(unsigned interest, unsigned dir)
{
    return (interest & dir) ? EV_ADD | EV_ENABLE | EV_ONESHOT : EV_ADD | EV_DISABLE;
}

int io_backend_add(int bfd, int fd, unsigned interest, void *token)
{
    uintptr_t tag = (interest & IO_READ) && (interest & IO_WRITE) ? BOTH : 0;
    void *udata = (void *)((uintptr_t)token | tag);
    struct kevent ch[2];
    EV_SET(&ch[0], fd, EVFILT_READ, flags_for(interest, IO_READ), 0, 0, udata);
    EV_SET(&ch[1], fd, EVFILT_WRITE, flags_for(interest, IO_WRITE), 0, 0, udata);
    return kevent(bfd, ch, 2, NULL, 0, NULL) < 0 ? -errno : 0;
}

int io_backend_del(int bfd, int fd)
{
    struct kevent ch[2];
    EV_SET(&ch[0], fd, EVFILT_READ, EV_ADD | EV_DISABLE, 0, 0, NULL);
    EV_SET(&ch[1], fd, EVFILT_WRITE, EV_ADD | EV_DISABLE, 0, 0, NULL);
    return kevent(bfd, ch, 2, NULL, 0, NULL) < 0 ? -errno : 0;
}

/* EV_EOF: the peer shut down (read filter) or went away (write filter);
 * fflags then holds the socket error, if any.  An error wakes a waiter of
 * either direction, as on epoll. */
static unsigned ready_bits(const struct kevent *ev)
{
    unsigned r = ev->filter == EVFILT_READ ? IO_READ : IO_WRITE;
    if (ev->flags & EV_EOF)
        r |= IO_HUP;
    if ((ev->flags & EV_ERROR) || ((ev->flags & EV_EOF) && ev->fflags != 0))
        r |= IO_ERR | IO_READ | IO_WRITE;
    return r;
}

int io_backend_poll(int bfd, io_event *out, int max, int64_t timeout_ns)
{
    struct kevent evs[IO_POLL_MAX];
    struct timespec ts, *tsp = NULL;
    if (max > IO_POLL_MAX)
        max = IO_POLL_MAX;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    int n = kevent(bfd, NULL, 0, evs, max, tsp);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;

    int k = 0;
    for (int i = 0; i < n; i++) {
        uintptr_t u = (uintptr_t)evs[i].udata;
        if (u == 0)
            continue;  /* merged into an earlier event below */
        unsigned ready = ready_bits(&evs[i]);
        if (u & BOTH) {
            short other = evs[i].filter == EVFILT_READ ? EVFILT_WRITE : EVFILT_READ;
            struct kevent ch;
            EV_SET(&ch, evs[i].ident, other, EV_ADD | EV_DISABLE, 0, 0, NULL);
            /* Can only fail with EBADF if the fd was closed meanwhile,
             * and then nothing can fire for it anyway. */
            (void)kevent(bfd, &ch, 1, NULL, 0, NULL);
            for (int j = i + 1; j < n; j++)
                if (evs[j].ident == evs[i].ident && evs[j].filter == other) {
                    ready |= ready_bits(&evs[j]);
                    evs[j].udata = NULL;
                }
        }
        out[k].token = (void *)(u & ~BOTH);
        out[k].ready = ready;
        k++;
    }
    return k;
}

const char *io_backend_name(void)
{
    return "kqueue";
}
