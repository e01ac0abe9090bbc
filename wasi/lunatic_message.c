/*
 * lunatic_message.c - the channel half of the lunatic host API (ABI
 * section 5): channel, channel_send, channel_receive_prepare,
 * channel_receive, drop_last_message, close_sender/close_receiver, and
 * the serialize/deserialize index scheme that moves channel ends inside
 * messages.
 *
 * A message is bytes plus a list of resources (lun_msg).  X_serialize
 * appends a new reference to the caller's pending list and returns its
 * position; the next send (or spawn) moves the whole list into the
 * message; the receiver's X_deserialize(index) takes entry `index` of its
 * last received message into its own table.  A resource never taken is
 * dropped with the message, so every reference is counted exactly once:
 * in a table, in a pending list, or in a message.  TCP streams and
 * listeners (lunatic_net.c) travel the same way: their host functions
 * call lun_serialize and lun_deserialize below.
 */
#include "lunatic_internal.h"

#include <stdlib.h>

/* {====== resources and tables */

void lun_res_drop(lun_res *r)
{
    switch (r->kind) {
    case LUN_SENDER:   green_chan_drop_sender(r->chan); break;
    case LUN_RECEIVER: green_chan_drop_receiver(r->chan); break;
    case LUN_TCP_STREAM:
    case LUN_TCP_LISTENER: lun_sock_release(r->sock); break;
    default: break;
    }
    r->kind = LUN_NONE;
    r->chan = NULL;
    r->sock = NULL;
}

/* A new reference to the object r refers to. */
static lun_res res_copy(const lun_res *r)
{
    if (r->kind == LUN_SENDER)
        green_chan_add_sender(r->chan);
    else if (r->kind == LUN_RECEIVER)
        green_chan_add_receiver(r->chan);
    else if (r->kind == LUN_TCP_STREAM || r->kind == LUN_TCP_LISTENER)
        lun_sock_retain(r->sock);
    return *r;
}

void *lun_grow(void *v, uint32_t n, uint32_t *cap, size_t size)
{
    if (n < *cap)
        return v;
    /* Ids are u32 and UINT32_MAX means "no memory": at most that many. */
    size_t c = lvm_grow_cap(*cap, (size_t)n + 1, 4, size, UINT32_MAX - 1);
    void *nv = c ? realloc(v, c * size) : NULL;
    if (nv)
        *cap = (uint32_t)c;
    return nv;
}

uint32_t lun_table_add(lun_table *t, lun_res r)
{
    lun_res *s = lun_grow(t->slots, t->len, &t->cap, sizeof *s);
    if (!s)
        return UINT32_MAX;
    t->slots = s;
    t->slots[t->len] = r;
    return t->len++;
}

lun_res *lun_table_get(lun_table *t, uint32_t id)
{
    return id < t->len && t->slots[id].kind != LUN_NONE ? &t->slots[id] : NULL;
}

lun_table *lun_table_of(lun_proc *lp, lun_kind kind)
{
    switch (kind) {
    case LUN_SENDER:       return &lp->senders;
    case LUN_RECEIVER:     return &lp->receivers;
    case LUN_TCP_STREAM:   return &lp->tcp_streams;
    case LUN_TCP_LISTENER: return &lp->tcp_listeners;
    default:               return NULL;
    }
}

/* For trap messages. */
static const char *kind_name(lun_kind kind)
{
    static const char *const names[LUN_KINDS] = {
        [LUN_SENDER] = "sender", [LUN_RECEIVER] = "receiver",
        [LUN_TCP_STREAM] = "tcp stream", [LUN_TCP_LISTENER] = "tcp listener",
    };
    return kind > LUN_NONE && kind < LUN_KINDS ? names[kind] : "resource";
}

void lun_table_free(lun_table *t)
{
    for (uint32_t i = 0; i < t->len; i++)
        lun_res_drop(&t->slots[i]);
    free(t->slots);
    *t = (lun_table){ 0 };
}

/* }====== */

/* {====== messages */

/* Copy the bytes and take lp's pending list (ABI 5.3 step 2). */
lun_msg *lun_msg_new(lun_proc *lp, const uint8_t *bytes, uint32_t len)
{
    lun_msg *m = lvm_xcalloc(1, sizeof *m);
    if (!m || !(m->bytes = malloc(len ? len : 1))) {
        free(m);
        return NULL;
    }
    if (len)
        memcpy(m->bytes, bytes, len);
    m->len = len;
    m->res = lp->pending;
    m->nres = lp->npending;
    lp->pending = NULL;
    lp->npending = lp->cappending = 0;
    return m;
}

/* What a queued message counts against the channel's byte limit: all
 * of the memory it holds. */
static size_t msg_size(const void *item)
{
    const lun_msg *m = item;
    return sizeof *m + m->len + (size_t)m->nres * sizeof *m->res;
}

/* The receiver handles of c inside a queued message (chan.c frees a
 * queue that only its own receivers can read). */
static size_t msg_receivers(const void *item, const green_chan *c)
{
    const lun_msg *m = item;
    size_t n = 0;
    for (uint32_t i = 0; i < m->nres; i++)
        n += m->res[i].kind == LUN_RECEIVER && m->res[i].chan == c;
    return n;
}

green_chan *lun_chan_new(lunatic_runtime *rt, size_t bound)
{
    green_chan *c = green_chan_new(bound, lun_msg_free);
    if (c)
        green_chan_set_hooks(c, rt->cfg.max_queued_bytes ? rt->cfg.max_queued_bytes
                                                         : LUNATIC_MAX_QUEUED,
                             msg_size, msg_receivers);
    return c;
}

void lun_msg_unsend(lun_proc *lp, lun_msg *m)
{
    lp->pending = m->res;
    lp->npending = lp->cappending = m->nres;
    m->res = NULL;
    m->nres = 0;
    lun_msg_free(m);
}

void lun_msg_free(void *msg)
{
    lun_msg *m = msg;
    if (!m)
        return;
    for (uint32_t i = 0; i < m->nres; i++)
        lun_res_drop(&m->res[i]);
    free(m->res);
    free(m->bytes);
    free(m);
}

void lun_message_cleanup(lun_proc *lp)
{
    lun_table_free(&lp->senders);
    lun_table_free(&lp->receivers);
    for (uint32_t i = 0; i < lp->npending; i++)
        lun_res_drop(&lp->pending[i]);
    free(lp->pending);
    lp->pending = NULL;
    lp->npending = lp->cappending = 0;
    lun_msg_free(lp->last);
    lp->last = NULL;
}

/* }====== */

/* {====== host functions */

/* The largest bound allocated up front (ABI D13): a bigger bound is
 * treated as this one, so a guest cannot make lvm allocate gigabytes. */
#define LUN_MAX_BOUND 65536u

/* channel(bound, out receiver_id*) -> sender_id */
static lvm_err lun_channel(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("channel");
    uint32_t bound = ar[0].i32, out = ar[1].i32;
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, out, 4))
        return lun_trap("channel", "receiver out-pointer %u is outside memory (ABI D7)", out);
    green_chan *c = lun_chan_new(lp->rt, bound > LUN_MAX_BOUND ? LUN_MAX_BOUND : bound);
    if (!c)
        return LVM_ERR_NO_MEMORY;
    uint32_t sid = lun_table_add(&lp->senders, (lun_res){ .kind = LUN_SENDER, .chan = c });
    if (sid == UINT32_MAX) {
        green_chan_drop_sender(c);
        green_chan_drop_receiver(c);
        return LVM_ERR_NO_MEMORY;
    }
    uint32_t rid = lun_table_add(&lp->receivers, (lun_res){ .kind = LUN_RECEIVER, .chan = c });
    if (rid == UINT32_MAX)
        return LVM_ERR_NO_MEMORY;           /* the sender entry stays: it is valid */
    wasi_store_u32(&m, out, rid);
    ar[0].i32 = sid;
    return LVM_OK;
}

/* Does lp hold a receiver of c in its table? */
static bool holds_receiver(const lun_proc *lp, const green_chan *c)
{
    for (uint32_t i = 0; i < lp->receivers.len; i++)
        if (lp->receivers.slots[i].kind == LUN_RECEIVER && lp->receivers.slots[i].chan == c)
            return true;
    return false;
}

/* channel_send(sender_id, ptr, len) -> 0 | 1 (closed).  Over the
 * channel's byte limit (--max-queued) the sender parks until a receive
 * makes room (back-pressure, as on a full bounded channel), unless it
 * holds a receiver of that channel itself: then it traps. */
static lvm_err lun_channel_send(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("channel_send");
    uint32_t id = ar[0].i32, ptr = ar[1].i32, len = ar[2].i32;
    lun_res *r = lun_table_get(&lp->senders, id);
    if (!r)
        return lun_trap("channel_send", "unknown sender id %u (ABI D5)", id);
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, ptr, len))
        return lun_trap("channel_send", "buffer [%u, +%u) is outside memory (ABI D5)", ptr, len);
    lun_msg *msg = lun_msg_new(lp, m.base + ptr, len);
    if (!msg)
        return LVM_ERR_NO_MEMORY;
    green_proc *self = &lvm_process_self()->g;
    int rc = green_chan_send(r->chan, self, msg);
    if (rc == GREEN_CHAN_FULL && holds_receiver(lp, r->chan)) {
        /* Back-pressure would park the sender until a receiver makes
         * room, and it is a receiver itself: it may well wait for itself
         * forever (a process queueing into its own channel), silently.
         * So this send fails instead, as a trap of this process only. */
        green_unwait(self);
        lunatic_runtime *rt = lp->rt;
        size_t max = rt->cfg.max_queued_bytes ? rt->cfg.max_queued_bytes : LUNATIC_MAX_QUEUED;
        size_t queued = green_chan_bytes(r->chan);
        lun_msg_free(msg);
        return lun_trap("channel_send", "the channel already queues %zu bytes, and %u more "
                        "would pass the limit of %zu%s%s; the sender holds a receiver of it, "
                        "so it would wait for itself", queued, len, max,
                        rt->cfg.max_queued_option ? " set by " : "",
                        rt->cfg.max_queued_option ? rt->cfg.max_queued_option : "");
    }
    if (rc == GREEN_CHAN_BLOCKED || rc == GREEN_CHAN_FULL) {
        lun_msg_unsend(lp, msg);            /* as if never called */
        return LVM_ERR_BLOCK;
    }
    if (rc != GREEN_CHAN_OK) {
        lun_msg_free(msg);                  /* closed: message and resources go */
        if (rc < 0)
            return LVM_ERR_NO_MEMORY;
        ar[0].i32 = 1;
        return LVM_OK;
    }
    ar[0].i32 = 0;
    return LVM_OK;
}

/* channel_receive_prepare(receiver_id, out len*) -> 0 | 1 (closed) */
static lvm_err lun_receive_prepare(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("channel_receive_prepare");
    uint32_t id = ar[0].i32, out = ar[1].i32;
    lun_res *r = lun_table_get(&lp->receivers, id);
    if (!r)
        return lun_trap("channel_receive_prepare", "unknown receiver id %u (ABI D5)", id);
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, out, 4))
        return lun_trap("channel_receive_prepare", "length out-pointer %u is outside memory (ABI D7)", out);
    void *item;
    int rc = green_chan_recv(r->chan, &lvm_process_self()->g, &item);
    if (rc == GREEN_CHAN_BLOCKED)
        return LVM_ERR_BLOCK;
    if (rc != GREEN_CHAN_OK) {
        wasi_store_u32(&m, out, 0);
        ar[0].i32 = 1;
        return LVM_OK;
    }
    lun_msg_free(lp->last);
    lp->last = item;
    wasi_store_u32(&m, out, lp->last->len);
    ar[0].i32 = 0;
    return LVM_OK;
}

/* channel_receive(buf_ptr, buf_len) -> 0 | 1 (no message) */
static lvm_err lun_receive(lvm_hostcall *call, lvm_val *ar)
{
    LUN_SELF("channel_receive");
    uint32_t ptr = ar[0].i32, len = ar[1].i32;
    wasi_mem m = wasi_mem_of(call);
    if (!wasi_mem_check(&m, ptr, len))
        return lun_trap("channel_receive", "buffer [%u, +%u) is outside memory (ABI D5)", ptr, len);
    if (!lp->last) {
        ar[0].i32 = 1;
        return LVM_OK;
    }
    if (len < lp->last->len)
        return lun_trap("channel_receive", "buffer of %u bytes for a message of %u (ABI D6)",
                        len, lp->last->len);
    wasi_copy_out(&m, ptr, lp->last->bytes, lp->last->len);
    ar[0].i32 = 0;
    return LVM_OK;
}

static lvm_err lun_drop_last(lvm_hostcall *call, lvm_val *ar)
{
    (void)ar;
    LUN_SELF("drop_last_message");
    lun_msg_free(lp->last);
    lp->last = NULL;
    return LVM_OK;
}

/* close_*: unknown ids are ignored (ABI 1.2). */
lvm_err lun_close(lvm_hostcall *call, lvm_val *ar, lun_kind kind, const char *fn)
{
    LUN_SELF(fn);
    lun_res *r = lun_table_get(lun_table_of(lp, kind), ar[0].i32);
    if (r)
        lun_res_drop(r);
    return LVM_OK;
}

static lvm_err lun_close_sender(lvm_hostcall *call, lvm_val *ar)
{
    return lun_close(call, ar, LUN_SENDER, "close_sender");
}

static lvm_err lun_close_receiver(lvm_hostcall *call, lvm_val *ar)
{
    return lun_close(call, ar, LUN_RECEIVER, "close_receiver");
}

/* X_serialize(id) -> index in the pending list. */
lvm_err lun_serialize(lvm_hostcall *call, lvm_val *ar, lun_kind kind, const char *fn)
{
    LUN_SELF(fn);
    uint32_t id = ar[0].i32;
    lun_res *r = lun_table_get(lun_table_of(lp, kind), id);
    if (!r)
        return lun_trap(fn, "unknown %s id %u (ABI D5)", kind_name(kind), id);
    lun_res *p = lun_grow(lp->pending, lp->npending, &lp->cappending, sizeof *p);
    if (!p)
        return LVM_ERR_NO_MEMORY;
    lp->pending = p;
    lp->pending[lp->npending] = res_copy(r);
    ar[0].i32 = lp->npending++;
    return LVM_OK;
}

/* X_deserialize(index) -> new id; each index of the last message can be
 * taken once, and only as its own kind (ABI 5.3, D5). */
lvm_err lun_deserialize(lvm_hostcall *call, lvm_val *ar, lun_kind kind, const char *fn)
{
    LUN_SELF(fn);
    uint32_t index = ar[0].i32;
    if (!lp->last)
        return lun_trap(fn, "index %u but no received message (ABI D5)", index);
    if (index >= lp->last->nres)
        return lun_trap(fn, "index %u but the message carries %u resources (ABI D5)",
                        index, lp->last->nres);
    lun_res *r = &lp->last->res[index];
    if (r->kind == LUN_NONE)
        return lun_trap(fn, "index %u was already taken (ABI D5)", index);
    if (r->kind != kind)
        return lun_trap(fn, "index %u holds a resource of another kind (ABI D5)", index);
    uint32_t id = lun_table_add(lun_table_of(lp, kind), *r);
    if (id == UINT32_MAX)
        return LVM_ERR_NO_MEMORY;
    r->kind = LUN_NONE;                     /* moved into the table */
    r->chan = NULL;
    r->sock = NULL;
    ar[0].i32 = id;
    return LVM_OK;
}

static lvm_err lun_sender_serialize(lvm_hostcall *c, lvm_val *ar)
{
    return lun_serialize(c, ar, LUN_SENDER, "sender_serialize");
}
static lvm_err lun_receiver_serialize(lvm_hostcall *c, lvm_val *ar)
{
    return lun_serialize(c, ar, LUN_RECEIVER, "receiver_serialize");
}
static lvm_err lun_sender_deserialize(lvm_hostcall *c, lvm_val *ar)
{
    return lun_deserialize(c, ar, LUN_SENDER, "sender_deserialize");
}
static lvm_err lun_receiver_deserialize(lvm_hostcall *c, lvm_val *ar)
{
    return lun_deserialize(c, ar, LUN_RECEIVER, "receiver_deserialize");
}

const wasi_import lun_message_imports[] = {
    { "channel",                 "ii:i",  lun_channel },
    { "channel_send",            "iii:i", lun_channel_send },
    { "channel_receive_prepare", "ii:i",  lun_receive_prepare },
    { "channel_receive",         "ii:i",  lun_receive },
    { "drop_last_message",       ":",     lun_drop_last },
    { "close_sender",            "i:",    lun_close_sender },
    { "close_receiver",          "i:",    lun_close_receiver },
    { "sender_serialize",        "i:i",   lun_sender_serialize },
    { "sender_deserialize",      "i:i",   lun_sender_deserialize },
    { "receiver_serialize",      "i:i",   lun_receiver_serialize },
    { "receiver_deserialize",    "i:i",   lun_receiver_deserialize },
    { NULL, NULL, NULL },
};

/* }====== */
