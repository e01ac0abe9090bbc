/*
 * caps.c - the capability model: what a process may reach outside its
 * own memory, and how a child's share is derived from its parent's.
 *
 * Design.  lvm gives no ambient authority: a process can touch only what
 * it holds, and it holds only what it was given.  Its capability set has
 * four parts:
 *
 *   - descriptors: the preopened directories and listening sockets, each
 *     with its base and inheriting rights (the descriptor table, ctx.c);
 *     path_open below a directory can only hand down what its inheriting
 *     rights allow, and fd_fdstat_set_rights only drops rights;
 *   - arguments and environment (strings: information, not authority,
 *     but still the parent's to give);
 *   - network grants, a wasi_caps (this file): connect rules, listen
 *     rules, and whether names may be resolved;
 *   - (lunatic 0.14, later) limits and permissions: max_memory, max_fuel,
 *     can_spawn, can_compile, can_create_configs.  A 0.14 config is
 *     exactly "a capability set plus limits": the same wasi_caps for the
 *     network, a wasi_grant-like record for descriptors, and the limits
 *     beside them, so that spawning from a config is wasi_ctx_child with
 *     that config as `want`.
 *
 * The one rule: a child's set is derived from its parent's by narrowing
 * only.  There is no operation that adds to a set a process already runs
 * with; every child set is an intersection with the parent's
 * (wasi_caps_narrow for the network; for descriptors, the child copies
 * the parent's *current* table, so a descriptor the parent closed or
 * narrowed stays closed or narrow for every later child).  What a parent
 * asks for beyond what it holds is silently not given - the same answer
 * as the kernel's for rights that cannot be raised, and what 0.14 needs:
 * a config may be any template, and spawning from it gives the
 * intersection.  (A config's `preopen_dir(path)` will be opened through
 * the parent's own directory descriptors, with wasi/path.c's walk, never
 * from the host's root: so even a path is narrowed to what the parent
 * can reach.)
 *
 * Network rules are an address prefix and a port range.  Every address is
 * kept as IPv6, IPv4 as its mapped form ::ffff:a.b.c.d, so that an IPv4
 * address reached through an IPv4-mapped IPv6 address (a guest's
 * tcp_connect with 16 bytes) meets the same rules as the 4-byte one, and
 * an IPv4 /n is simply the IPv6 /(96 + n).  Prefix + range is closed
 * under intersection (two prefixes are nested or disjoint; two ranges
 * meet in a range), which makes narrowing exact rather than approximate.
 *
 * Host names in connect rules (`--allow-net=example.com:443`).  The 0.3
 * ABI's tcp_connect takes raw address bytes, never a name, so a rule
 * cannot match the name at connect time as Deno's does (Deno connects by
 * name).  Matching the name given to `resolve` and then allowing the
 * addresses it returned would let a guest that may resolve one name
 * connect wherever that name's DNS answer points, which whoever controls
 * the name (or a spoofed answer) decides at run time: DNS rebinding.  So
 * a name is resolved once, when the rule is granted (lvm's start), and
 * grants exactly those addresses, fixed for the whole run; the rule
 * grants nothing about resolving (that is --allow-dns), and an address
 * the name moves to later is not reachable.
 *
 * DNS is all or nothing: a resolver can be made to send anything to the
 * name server, so per-name DNS rules would confine little.
 *
 * Threads: a set is built by one thread before any process uses it, and
 * is read-only afterwards; only its reference count changes, atomically.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef struct rule_list {
    wasi_net_rule *v;
    uint32_t n, cap;
} rule_list;

struct wasi_caps {
    _Atomic int refs;
    rule_list rules[2];         /* indexed by wasi_net_kind */
    bool dns;
};

/* {====== sets */

wasi_caps *wasi_caps_new(void)
{
    wasi_caps *c = lvm_xcalloc(1, sizeof *c);
    if (c)
        atomic_init(&c->refs, 1);
    return c;
}

wasi_caps *wasi_caps_retain(wasi_caps *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

void wasi_caps_release(wasi_caps *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    free(c->rules[0].v);
    free(c->rules[1].v);
    free(c);
}

int wasi_caps_add(wasi_caps *c, wasi_net_kind kind, const wasi_net_rule *r)
{
    rule_list *l = &c->rules[kind];
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? 2 * l->cap : 4;
        wasi_net_rule *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    wasi_net_rule k = *r;
    /* Keep only the prefix bits, so that equal rules are equal bytes. */
    for (int i = 0; i < 16; i++) {
        int keep = k.prefix - 8 * i;
        k.addr[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
    }
    l->v[l->n++] = k;
    return 0;
}

void wasi_caps_allow_dns(wasi_caps *c)
{
    c->dns = true;
}

/* }====== */

/* {====== matching */

/* Do the first `bits` bits of a and b agree? */
static bool prefix_eq(const uint8_t a[16], const uint8_t b[16], unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* addr_len bytes as IPv6 (IPv4 mapped); false for another length. */
static bool as_ipv6(const uint8_t *addr, uint32_t addr_len, uint8_t out[16])
{
    if (addr_len == 16) {
        memcpy(out, addr, 16);
        return true;
    }
    if (addr_len != 4)
        return false;
    static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
    memcpy(out, mapped, 12);
    memcpy(out + 12, addr, 4);
    return true;
}

/* Does rule `outer` grant everything rule `inner` does? */
static bool covers(const wasi_net_rule *outer, const wasi_net_rule *inner)
{
    return outer->prefix <= inner->prefix && prefix_eq(outer->addr, inner->addr, outer->prefix) &&
           outer->port_lo <= inner->port_lo && inner->port_hi <= outer->port_hi;
}

bool wasi_caps_may(const wasi_caps *c, wasi_net_kind kind, const uint8_t *addr,
                   uint32_t addr_len, uint16_t port)
{
    wasi_net_rule one = { .prefix = 128, .port_lo = port, .port_hi = port };
    if (!c || !as_ipv6(addr, addr_len, one.addr))
        return false;
    const rule_list *l = &c->rules[kind];
    for (uint32_t i = 0; i < l->n; i++)
        if (covers(&l->v[i], &one))
            return true;
    return false;
}

bool wasi_caps_may_resolve(const wasi_caps *c)
{
    return c && c->dns;
}

wasi_caps *wasi_caps_narrow(const wasi_caps *parent, const wasi_caps *want)
{
    wasi_caps *c = wasi_caps_new();
    if (!c || !parent || !want)
        return c;
    c->dns = parent->dns && want->dns;
    for (int k = 0; k < 2; k++) {
        const rule_list *p = &parent->rules[k], *w = &want->rules[k];
        for (uint32_t i = 0; i < p->n; i++) {
            for (uint32_t j = 0; j < w->n; j++) {
                /* Nested or disjoint: the meet is the longer prefix. */
                const wasi_net_rule *a = &p->v[i], *b = &w->v[j];
                const wasi_net_rule *in = a->prefix >= b->prefix ? a : b;
                const wasi_net_rule *out = in == a ? b : a;
                if (!prefix_eq(in->addr, out->addr, out->prefix))
                    continue;
                wasi_net_rule r = *in;
                r.port_lo = a->port_lo > b->port_lo ? a->port_lo : b->port_lo;
                r.port_hi = a->port_hi < b->port_hi ? a->port_hi : b->port_hi;
                if (r.port_lo > r.port_hi)
                    continue;
                if (wasi_caps_add(c, (wasi_net_kind)k, &r) != 0) {
                    wasi_caps_release(c);
                    return NULL;
                }
            }
        }
    }
    return c;
}

bool wasi_caps_subset(const wasi_caps *a, const wasi_caps *b)
{
    if (!a)
        return true;
    if (a->dns && !(b && b->dns))
        return false;
    for (int k = 0; k < 2; k++) {
        for (uint32_t i = 0; i < a->rules[k].n; i++) {
            bool ok = false;
            for (uint32_t j = 0; b && j < b->rules[k].n && !ok; j++)
                ok = covers(&b->rules[k].v[j], &a->rules[k].v[i]);
            if (!ok)
                return false;
        }
    }
    return true;
}

/* }====== */

/* {====== rules as text */

/* s[0..n) as a decimal number at most max; false for anything else. */
static bool number(const char *s, size_t n, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (n == 0 || n > 10)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* PORTS: N, LO-HI (LO <= HI) or `*`. */
static bool parse_ports(const char *s, wasi_net_rule *r)
{
    unsigned long lo, hi;
    if (strcmp(s, "*") == 0) {
        r->port_lo = 0;
        r->port_hi = 65535;
        return true;
    }
    const char *dash = strchr(s, '-');
    if (!dash) {
        if (!number(s, strlen(s), 65535, &lo))
            return false;
        r->port_lo = r->port_hi = (uint16_t)lo;
        return true;
    }
    if (!number(s, (size_t)(dash - s), 65535, &lo) || !number(dash + 1, strlen(dash + 1), 65535, &hi) ||
        lo > hi)
        return false;
    r->port_lo = (uint16_t)lo;
    r->port_hi = (uint16_t)hi;
    return true;
}

/* A host name as DNS spells one: letters, digits, '-' and '.', not
 * starting with '-' or '.', and with a letter somewhere (so that a bad
 * IPv4 address such as 256.0.0.1 is refused as one, not looked up). */
static bool host_name(const char *s)
{
    bool letter = false;
    if (!*s || *s == '-' || *s == '.')
        return false;
    for (; *s; s++) {
        bool alpha = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z');
        if (!(alpha || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
            return false;
        letter |= alpha;
    }
    return letter;
}

const char *wasi_net_rule_parse(const char *text, bool names, wasi_net_rule *out,
                                char *name_out, size_t name_cap, char *why, size_t why_cap)
{
    memset(out, 0, sizeof *out);
    if (name_cap)
        name_out[0] = '\0';
    const char *colon = strrchr(text, ':');
    if (!colon)
        return "no :PORT";
    if (!parse_ports(colon + 1, out)) {
        snprintf(why, why_cap, "PORT '%s' is not a port from 0 to 65535, LO-HI or *", colon + 1);
        return why;
    }
    /* ADDR[/BITS]: [v6] has its bits after the bracket. */
    char addr[300];
    size_t al = (size_t)(colon - text);
    if (al == 0)
        return "empty ADDR";
    if (al >= sizeof addr)
        return "ADDR is too long";
    memcpy(addr, text, al);
    addr[al] = '\0';
    char *slash = strrchr(addr, '/');
    if (slash && addr[0] == '[' && slash < strchr(addr, ']'))
        slash = NULL;               /* a '/' inside the brackets: not BITS */
    unsigned long bits = 0;
    bool has_bits = slash != NULL;
    if (slash) {
        *slash = '\0';
        if (!number(slash + 1, strlen(slash + 1), 128, &bits)) {
            snprintf(why, why_cap, "BITS '%s' is not a prefix length", slash + 1);
            return why;
        }
    }
    if (strcmp(addr, "*") == 0) {
        if (has_bits)
            return "* takes no /BITS";
        out->prefix = 0;            /* every address, IPv4 and IPv6 */
        return NULL;
    }
    size_t n = strlen(addr);
    if (addr[0] == '[') {
        if (n < 3 || addr[n - 1] != ']') {
            snprintf(why, why_cap, "ADDR '%s' is not an [IPv6] address", addr);
            return why;
        }
        addr[n - 1] = '\0';
        if (inet_pton(AF_INET6, addr + 1, out->addr) != 1) {
            snprintf(why, why_cap, "ADDR '%s]' is not an [IPv6] address", addr);
            return why;
        }
        out->prefix = has_bits ? (uint8_t)bits : 128;
        return NULL;
    }
    uint8_t v4[4];
    if (inet_pton(AF_INET, addr, v4) == 1) {
        if (bits > 32) {
            snprintf(why, why_cap, "BITS '%lu' is more than an IPv4 address has (32)", bits);
            return why;
        }
        as_ipv6(v4, 4, out->addr);
        out->prefix = (uint8_t)(96 + (has_bits ? bits : 32));
        return NULL;
    }
    if (names && !has_bits && host_name(addr) && n < name_cap) {
        memcpy(name_out, addr, n + 1);
        out->prefix = 128;
        return NULL;
    }
    snprintf(why, why_cap, "ADDR '%s' is not an IPv4 address, an [IPv6] address%s or *", addr,
             names ? ", a host name" : "");
    return why;
}

int wasi_caps_add_text(wasi_caps *c, wasi_net_kind kind, const char *text, char *why,
                       size_t why_cap)
{
    wasi_net_rule r;
    char name[256];
    const char *bad = wasi_net_rule_parse(text, kind == WASI_NET_CONNECT, &r, name, sizeof name,
                                          why, why_cap);
    if (bad) {
        if (bad != why)
            snprintf(why, why_cap, "%s", bad);
        return EINVAL;
    }
    if (!name[0])
        return wasi_caps_add(c, kind, &r);
    /* A name: the addresses it has now (see the top of this file). */
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    int e = getaddrinfo(name, NULL, &hints, &res);
    if (e) {
        snprintf(why, why_cap, "cannot resolve '%s': %s", name, gai_strerror(e));
        return ENOENT;
    }
    int err = 0;
    for (struct addrinfo *ai = res; ai && !err; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET)
            as_ipv6((const uint8_t *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4, r.addr);
        else if (ai->ai_family == AF_INET6)
            memcpy(r.addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
        else
            continue;
        err = wasi_caps_add(c, kind, &r);
    }
    freeaddrinfo(res);
    if (err)
        snprintf(why, why_cap, "%s", strerror(err));
    return err;
}

/* }====== */
