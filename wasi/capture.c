/*
 * capture.c - in-memory output streams: where the stdout and stderr of
 * the processes of one test go in lunatic's `cargo test` mode (ABI 0.14
 * 13.4), so that the runner can print a failing test's output, and only
 * its, once the test is over.
 *
 * A capture is a list of growable byte buffers under one mutex.  A
 * context that is captured (wasi_ctx_capture) writes its descriptors 1
 * and 2 - they share one stream, in the order written - into its stream;
 * each child context made from it gets a stream of its own, appended in
 * the order the children were made (the runner prints stream i as
 * "process i").  One mutex for all streams: a write is a memcpy, and the
 * processes of one test rarely print at once.
 */
#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct capture_stream {
    char *bytes;
    size_t len, cap;
} capture_stream;

struct wasi_capture {
    _Atomic int refs;
    pthread_mutex_t lock;
    capture_stream *streams;
    size_t n, cap;
};

wasi_capture *wasi_capture_new(void)
{
    wasi_capture *c = lvm_xcalloc(1, sizeof *c);
    if (!c)
        return NULL;
    atomic_init(&c->refs, 1);
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

wasi_capture *wasi_capture_retain(wasi_capture *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

void wasi_capture_release(wasi_capture *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->streams[i].bytes);
    free(c->streams);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* A new empty stream: its index, or -1 when out of memory. */
int wasi_capture_stream_new(wasi_capture *c)
{
    pthread_mutex_lock(&c->lock);
    int i = -1;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        capture_stream *v = realloc(c->streams, cap * sizeof *v);
        if (v) {
            c->streams = v;
            c->cap = cap;
        }
    }
    if (c->n < c->cap && c->n < INT32_MAX) {
        c->streams[c->n] = (capture_stream){ NULL, 0, 0 };
        i = (int)c->n++;
    }
    pthread_mutex_unlock(&c->lock);
    return i;
}

size_t wasi_capture_count(wasi_capture *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->n;
    pthread_mutex_unlock(&c->lock);
    return n;
}

char *wasi_capture_copy(wasi_capture *c, size_t i, size_t *len)
{
    pthread_mutex_lock(&c->lock);
    char *copy = NULL;
    if (i < c->n) {
        capture_stream *s = &c->streams[i];
        if ((copy = malloc(s->len + 1))) {
            if (s->len)
                memcpy(copy, s->bytes, s->len);
            copy[s->len] = '\0';
            *len = s->len;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return copy;
}

/* Append; false when out of memory (nothing appended). */
bool wasi_capture_append(wasi_capture *c, size_t i, const void *bytes, size_t len)
{
    pthread_mutex_lock(&c->lock);
    bool ok = i < c->n;
    capture_stream *s = ok ? &c->streams[i] : NULL;
    if (ok && s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + len)
            cap *= 2;
        char *b = realloc(s->bytes, cap);
        if (b) {
            s->bytes = b;
            s->cap = cap;
        } else {
            ok = false;
        }
    }
    if (ok && len) {
        memcpy(s->bytes + s->len, bytes, len);
        s->len += len;
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}
