/*
 * lunatic14_message.c - lunatic::message (ABI 6): the scratch slot, the
 * byte buffer and resources of a message, send, selective receive with
 * a timeout, and request/response.
 *
 * The queue, its order, selective receive and waking are green/mbox.c's
 * (green_actor_receive); this file only moves messages between the
 * mailbox, the scratch slot and guest memory.  Blocking calls follow
 * lvm's restartable rule: the first call computes its deadline (and, for
 * send_receive_skip_search, sends and notes the mailbox's seq) into
 * lp->wait / deadline / after; the call returns LVM_ERR_BLOCK, and the
 * retry after a wake-up finds that state and only receives.
 */
#include "lunatic14_internal.h"
#include "../io/io.h"

#include <stdlib.h>
#include <string.h>

/* What create_data pre-allocates at most: capacity is only a hint
 * (ABI 6.1), and a guest must not make the host allocate gigabytes
 * for a message it never writes. */
#define MSG_PREALLOC_MAX ((uint64_t)1 << 20)

/* {====== messages */

void l14_res_drop(l14_res *r)
{
    switch (r->kind) {
    case L14_RES_MODULE: lvm_module_release(r->obj); break;
    case L14_RES_TCP_STREAM: l14_tcp_release(r->obj); break;
    case L14_RES_UDP_SOCKET: l14_udp_release(r->obj); break;
    case L14_RES_NONE: break;
    }
    r->kind = L14_RES_NONE;
    r->obj = NULL;
}

static void msg_free_data(green_msg *g)
{
    l14_msg *m = (l14_msg *)g;
    for (uint32_t i = 0; i < m->nres; i++)
        l14_res_drop(&m->res[i]);
    free(m->res);
    free(m->data);
    free(m);
}

void l14_msg_free(green_msg *m)
{
    if (m)
        m->free(m);
}

l14_msg *l14_msg_new(int64_t tag, uint64_t capacity)
{
    l14_msg *m = malloc(sizeof *m);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    m->g.kind = GREEN_MSG_DATA;
    m->g.tag = tag;
    m->g.free = msg_free_data;
    if (capacity) {
        m->cap = capacity < MSG_PREALLOC_MAX ? capacity : MSG_PREALLOC_MAX;
        if (!(m->data = malloc(m->cap)))
            m->cap = 0;                 /* a hint: grow on write instead */
    }
    return m;
}

static bool msg_reserve(l14_msg *m, uint64_t more)
{
    if (m->len + more <= m->cap)
        return true;
    uint64_t need = m->len + more, cap = m->cap ? m->cap : 64;
    while (cap < need)
        cap *= 2;
    uint8_t *d = realloc(m->data, cap);
    if (!d)
        return false;
    m->data = d;
    m->cap = cap;
    return true;
}

static void scratch_set(l14_proc *lp, green_msg *m)
{
    if (lp->scratch)
        lp->scratch->free(lp->scratch);
    lp->scratch = m;
}

green_msg *l14_scratch_take(l14_proc *lp)
{
    green_msg *m = lp->scratch;
    lp->scratch = NULL;
    return m;
}

void l14_message_cleanup(l14_proc *lp)
{
    scratch_set(lp, NULL);
}

static const char *kind_name(const green_msg *m)
{
    return m->kind == GREEN_MSG_LINK_DIED ? "Message::LinkDied" : "Message::ProcessDied";
}

/* The scratch message as a data message, or a trap (ABI 6.1). */
#define SCRATCH_DATA(fn)                                                            \
    if (!lp->scratch)                                                               \
        return l14_trap(fn, "Trap raised during host call: no message in scratch area (%s).", \
                        fn);                                                        \
    if (lp->scratch->kind != GREEN_MSG_DATA)                                        \
        return l14_trap(fn, "Unexpected `%s` in scratch area", kind_name(lp->scratch)); \
    l14_msg *msg = (l14_msg *)lp->scratch

/* }====== */

/* {====== the buffer */

static lvm_err h_create_data(lvm_hostcall *call, lvm_val *ar)
{
    L14_SELF("message::create_data");
    l14_msg *m = l14_msg_new((int64_t)ar[0].i64, ar[1].i64);
    if (!m)
        return l14_trap("message::create_data", "out of host memory");
    scratch_set(lp, &m->g);
    return LVM_OK;
}

static lvm_err h_write_data(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "message::write_data";
    L14_SELF(fn);
    SCRATCH_DATA(fn);
    wasi_mem mem = wasi_mem_of(call);
    uint32_t ptr = ar[0].i32, len = ar[1].i32;
    if (!wasi_mem_check(&mem, ptr, len))
        return l14_trap_mem(fn);
    if (!msg_reserve(msg, len))
        return l14_trap(fn, "out of host memory (a message of %llu bytes)",
                        (unsigned long long)(msg->len + len));
    if (len)
        memcpy(msg->data + msg->len, mem.base + ptr, len);
    msg->len += len;
    ar[0].i32 = len;
    return LVM_OK;
}

static lvm_err h_read_data(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "message::read_data";
    L14_SELF(fn);
    SCRATCH_DATA(fn);
    wasi_mem mem = wasi_mem_of(call);
    uint32_t ptr = ar[0].i32, len = ar[1].i32;
    if (!wasi_mem_check(&mem, ptr, len))
        return l14_trap_mem(fn);
    if (msg->pos > msg->len)
        return l14_trap(fn, "Trap raised during host call: read position %llu is past the "
                        "end of the message (%llu bytes) (%s).", (unsigned long long)msg->pos,
                        (unsigned long long)msg->len, fn);
    uint64_t n = msg->len - msg->pos;
    if (n > len)
        n = len;
    wasi_copy_out(&mem, ptr, msg->data + msg->pos, n);
    msg->pos += n;
    ar[0].i32 = (uint32_t)n;
    return LVM_OK;
}

static lvm_err h_seek_data(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "message::seek_data";
    L14_SELF(fn);
    SCRATCH_DATA(fn);
    msg->pos = ar[0].i64;               /* checked by the next read */
    return LVM_OK;
}

static lvm_err h_get_tag(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "message::get_tag";
    L14_SELF(fn);
    if (!lp->scratch)
        return l14_trap(fn, "Trap raised during host call: no message in scratch area (%s).", fn);
    ar[0].i64 = (uint64_t)lp->scratch->tag;
    return LVM_OK;
}

static lvm_err h_get_process_id(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "message::get_process_id";
    L14_SELF(fn);
    if (!lp->scratch)
        return l14_trap(fn, "Trap raised during host call: no message in scratch area (%s).", fn);
    ar[0].i64 = lp->scratch->kind == GREEN_MSG_DOWN ? lp->scratch->from : 0;
    return LVM_OK;
}

static lvm_err h_data_size(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "message::data_size";
    L14_SELF(fn);
    SCRATCH_DATA(fn);
    ar[0].i64 = msg->len;
    return LVM_OK;
}

/* }====== */

/* {====== resources in messages (ABI 6.1: push_* / take_*) */

static lvm_err push_res(l14_proc *lp, l14_msg *msg, l14_res r, lvm_val *ar, const char *fn)
{
    if (msg->nres == msg->capres) {
        uint32_t cap = msg->capres ? msg->capres * 2 : 4;
        l14_res *v = cap > msg->capres ? realloc(msg->res, cap * sizeof *v) : NULL;
        if (!v) {
            l14_res_drop(&r);
            return l14_trap(fn, "out of host memory");
        }
        msg->res = v;
        msg->capres = cap;
    }
    msg->res[msg->nres] = r;
    ar[0].i64 = msg->nres++;
    return LVM_OK;
}

static lvm_err h_push_module(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "message::push_module";
    L14_SELF(fn);
    lvm_module *mod = l14_table_get(&lp->modules, ar[0].i64);
    if (!mod)
        return l14_trap(fn, "Trap raised during host call: Module %llu not found (%s).",
                        (unsigned long long)ar[0].i64, fn);
    SCRATCH_DATA(fn);
    lvm_module_retain(mod);             /* it stays in the caller's table */
    return push_res(lp, msg, (l14_res){ L14_RES_MODULE, mod }, ar, fn);
}

/* Move a stream or socket out of the caller's table into the message. */
static lvm_err push_moved(lvm_hostcall *call, lvm_val *ar, l14_res_kind kind, const char *fn)
{
    L14_SELF(fn);
    SCRATCH_DATA(fn);                   /* checked first: nothing is lost */
    l14_table *t = kind == L14_RES_TCP_STREAM ? &lp->tcp_streams : &lp->udp_sockets;
    void *obj = l14_table_take(t, ar[0].i64);
    if (!obj)
        return l14_trap(fn, "Trap raised during host call: %s %llu not found (%s).",
                        kind == L14_RES_TCP_STREAM ? "TcpStream" : "UdpSocket",
                        (unsigned long long)ar[0].i64, fn);
    return push_res(lp, msg, (l14_res){ kind, obj }, ar, fn);
}

static lvm_err take_res(lvm_hostcall *call, lvm_val *ar, l14_res_kind kind, const char *fn)
{
    L14_SELF(fn);
    SCRATCH_DATA(fn);
    uint64_t i = ar[0].i64;
    if (i >= msg->nres || msg->res[i].kind != kind)
        return l14_trap(fn, "Trap raised during host call: no such resource at index %llu "
                        "of the message (%s).", (unsigned long long)i, fn);
    l14_table *t = kind == L14_RES_MODULE       ? &lp->modules
                   : kind == L14_RES_TCP_STREAM ? &lp->tcp_streams
                                                : &lp->udp_sockets;
    uint64_t id = l14_table_add(t, msg->res[i].obj);
    if (id == UINT64_MAX)
        return l14_trap(fn, "out of host memory");
    msg->res[i].kind = L14_RES_NONE;    /* moved: the slot is empty */
    msg->res[i].obj = NULL;
    ar[0].i64 = id;
    return LVM_OK;
}

static lvm_err h_take_module(lvm_hostcall *call, lvm_val *ar)
{
    return take_res(call, ar, L14_RES_MODULE, "message::take_module");
}

static lvm_err h_push_tcp_stream(lvm_hostcall *call, lvm_val *ar)
{
    return push_moved(call, ar, L14_RES_TCP_STREAM, "message::push_tcp_stream");
}

static lvm_err h_take_tcp_stream(lvm_hostcall *call, lvm_val *ar)
{
    return take_res(call, ar, L14_RES_TCP_STREAM, "message::take_tcp_stream");
}

static lvm_err h_push_udp_socket(lvm_hostcall *call, lvm_val *ar)
{
    return push_moved(call, ar, L14_RES_UDP_SOCKET, "message::push_udp_socket");
}

static lvm_err h_take_udp_socket(lvm_hostcall *call, lvm_val *ar)
{
    return take_res(call, ar, L14_RES_UDP_SOCKET, "message::take_udp_socket");
}

/* D-B: no TLS stream can exist, so neither can move. */
static lvm_err h_push_tls_stream(lvm_hostcall *call, lvm_val *ar)
{
    return l14_unsupported("message::push_tls_stream");
}

static lvm_err h_take_tls_stream(lvm_hostcall *call, lvm_val *ar)
{
    return l14_unsupported("message::take_tls_stream");
}

/* }====== */

/* {====== send and receive */

lvm_err l14_message_send(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "message::send";
    L14_SELF(fn);
    green_msg *m = l14_scratch_take(lp);
    if (!m)
        return l14_trap(fn, "Trap raised during host call: no message in scratch area (%s).", fn);
    l14_deliver(lp->env, ar[0].i64, m);
    ar[0].i32 = 0;                      /* always (ABI 6.1) */
    return LVM_OK;
}

/* A deadline from a timeout in ms: u64::MAX none, 0 check only. */
static uint64_t deadline_of(uint64_t ms)
{
    if (ms == UINT64_MAX)
        return UINT64_MAX;
    if (ms == 0)
        return 0;
    uint64_t now = io_now_ns();
    uint64_t ns = ms > (UINT64_MAX - now) / 1000000 ? UINT64_MAX - now : ms * 1000000;
    return now + ns;
}

/* Receive into the scratch slot: 0 data, 1 link died, 2 process died,
 * 9027 timeout; or LVM_ERR_BLOCK. */
static lvm_err receive(l14_proc *lp, const int64_t *tags, uint32_t ntags, lvm_val *ar)
{
    green_msg *m;
    int r = green_actor_receive(&lp->actor, &lp->p->g, tags, ntags, lp->after, lp->deadline, &m);
    if (r == GREEN_RECV_BLOCKED)
        return LVM_ERR_BLOCK;
    lp->wait = L14_WAIT_NONE;
    if (r == GREEN_RECV_TIMEOUT) {
        ar[0].i32 = L14_TIMEOUT;        /* the slot is unchanged (D9) */
        return LVM_OK;
    }
    scratch_set(lp, m);
    ar[0].i32 = m->kind == GREEN_MSG_DATA ? 0 : m->kind == GREEN_MSG_LINK_DIED ? 1 : 2;
    return LVM_OK;
}

/* send_receive_skip_search(pid, wait_tag, timeout) (ABI 6.5): send, then
 * wait for a message tagged wait_tag that arrives after this call began. */
lvm_err l14_message_send_receive(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "message::send_receive_skip_search";
    L14_SELF(fn);
    int64_t tag = (int64_t)ar[1].i64;
    if (lp->wait != L14_WAIT_RECEIVE) {
        green_msg *m = l14_scratch_take(lp);
        if (!m)
            return l14_trap(fn, "Trap raised during host call: no message in scratch area (%s).",
                            fn);
        /* The seq before sending: a reply, however fast, comes after it. */
        lp->after = green_actor_seq(&lp->actor);
        lp->deadline = deadline_of(ar[2].i64);
        lp->wait = L14_WAIT_RECEIVE;
        l14_deliver(lp->env, ar[0].i64, m);
    }
    lvm_err err = receive(lp, &tag, 1, ar);
    if (err == LVM_OK && ar[0].i32 != L14_TIMEOUT)
        ar[0].i32 = 0;
    if (err == LVM_OK)
        lp->after = 0;
    return err;
}

/* receive(tags, ntags, timeout) (ABI 6.4). */
static lvm_err h_receive(lvm_hostcall *call, lvm_val *ar)
{
    const char *fn = "message::receive";
    L14_SELF(fn);
    uint32_t ptr = ar[0].i32, n = ar[1].i32;
    int64_t small[8], *tags = small;
    if (n) {
        wasi_mem mem = wasi_mem_of(call);
        if (!wasi_mem_check(&mem, ptr, (uint64_t)n * 8))
            return l14_trap_mem(fn);
        if (n > 8 && !(tags = malloc((size_t)n * sizeof *tags)))
            return l14_trap(fn, "out of host memory");
        for (uint32_t i = 0; i < n; i++)
            tags[i] = (int64_t)wasi_load_u64(&mem, ptr + 8 * i);
    }
    if (lp->wait != L14_WAIT_RECEIVE) {
        lp->deadline = deadline_of(ar[2].i64);
        lp->after = 0;
        lp->wait = L14_WAIT_RECEIVE;
    }
    lvm_err err = receive(lp, tags, n, ar);
    if (tags != small)
        free(tags);
    return err;
}

static lvm_err h_send(lvm_hostcall *call, lvm_val *ar)
{
    return l14_message_send(call, ar);
}

static lvm_err h_send_receive(lvm_hostcall *call, lvm_val *ar)
{
    return l14_message_send_receive(call, ar);
}

/* }====== */

const l14_import l14_message_imports[] = {
    { "lunatic::message", "create_data", "II:", h_create_data },
    { "lunatic::message", "write_data", "ii:i", h_write_data },
    { "lunatic::message", "read_data", "ii:i", h_read_data },
    { "lunatic::message", "seek_data", "I:", h_seek_data },
    { "lunatic::message", "get_tag", ":I", h_get_tag },
    { "lunatic::message", "get_process_id", ":I", h_get_process_id },
    { "lunatic::message", "data_size", ":I", h_data_size },
    { "lunatic::message", "push_module", "I:I", h_push_module },
    { "lunatic::message", "take_module", "I:I", h_take_module },
    { "lunatic::message", "push_tcp_stream", "I:I", h_push_tcp_stream },
    { "lunatic::message", "take_tcp_stream", "I:I", h_take_tcp_stream },
    { "lunatic::message", "push_udp_socket", "I:I", h_push_udp_socket },
    { "lunatic::message", "take_udp_socket", "I:I", h_take_udp_socket },
    { "lunatic::message", "push_tls_stream", "I:I", h_push_tls_stream },
    { "lunatic::message", "take_tls_stream", "I:I", h_take_tls_stream },
    { "lunatic::message", "send", "I:i", h_send },
    { "lunatic::message", "send_receive_skip_search", "III:i", h_send_receive },
    { "lunatic::message", "receive", "iiI:i", h_receive },
    { NULL, NULL, NULL, NULL },
};
