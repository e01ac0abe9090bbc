/*
 * core.c - the lunatic 0.14 API from C, one scenario per run:
 * `lvm run core.wasm SCENARIO`.  Each prints what it saw; the test
 * (tests/lunatic14/test_core.c) compares it line by line.
 */
#include "l14.h"

#include <stdlib.h>

static void echo(int32_t n)
{
    for (int i = 0; i < n; i++) {
        m_receive(NULL, 0, -1);
        int64_t tag = m_tag();
        uint64_t from = read_u64();
        send_u64((int64_t)from, tag, from + 1000);
    }
}

static void crasher(int32_t ms)
{
    l_sleep(ms);
    __builtin_trap();
}

static void spinner(int32_t x)
{
    volatile uint64_t i = 0;
    for (;;)
        i++;
}

static void nothing(int32_t x)
{
}

static void blocker(int32_t x)
{
    m_receive(NULL, 0, -1);
}

static void exit_with(int32_t code)
{
    exit(code);
}

static int messages(void)
{
    uint64_t e;
    printf("main pid %lld\n", (long long)l_pid());
    printf("spawn %d pid %llu\n", spawn_fn(0, -1, echo, 2, &e), (unsigned long long)e);
    send_u64((int64_t)e, 0, (uint64_t)l_pid());
    printf("receive %d value %llu tag %lld\n", m_receive(NULL, 0, -1),
           (unsigned long long)read_u64(), (long long)m_tag());
    /* An older message tagged like the reply is not what the request
     * waits for (skip search). */
    send_u64(l_pid(), 7, 1);
    m_create(7, 0);
    uint64_t me = (uint64_t)l_pid();
    m_write(&me, 8);
    printf("request %d value %llu\n", m_request((int64_t)e, 7, 1000), (unsigned long long)read_u64());
    int64_t seven = 7;
    printf("older still queued %d value %llu\n", m_receive(&seven, 1, 0), (unsigned long long)read_u64());
    /* Selective receive leaves the others in order. */
    for (int t = 1; t <= 4; t++)
        send_u64(l_pid(), t == 4 ? 2 : t, (uint64_t)t);
    int64_t two = 2;
    m_receive(&two, 1, 0);
    printf("tag 2 first: %llu\n", (unsigned long long)read_u64());
    for (int i = 0; i < 3; i++) {
        m_receive(NULL, 0, 0);
        printf("then tag %lld value %llu\n", (long long)m_tag(), (unsigned long long)read_u64());
    }
    /* Untagged never matches a filter, even one with 0. */
    send_u64(l_pid(), 0, 99);
    int64_t zero = 0;
    printf("filter 0: %d\n", m_receive(&zero, 1, 0));
    printf("timeout: %d\n", m_receive(&two, 1, 30));
    printf("untagged still there: %d %llu\n", m_receive(NULL, 0, 0), (unsigned long long)read_u64());
    /* The buffer: size, seek, read past the end gives 0. */
    m_create(0, 0);
    m_write("abcdef", 6);
    m_send(l_pid());
    m_receive(NULL, 0, -1);
    char b[8] = { 0 };
    m_seek(2);
    printf("size %lld read %d '%.4s' then %d\n", (long long)m_size(), m_read(b, 4), b, m_read(b, 4));
    return 0;
}

static int links(void)
{
    uint64_t c;
    l_trap_links(0);
    spawn_fn(55, -1, crasher, 5, &c);
    int r = m_receive(NULL, 0, -1);
    printf("link died: %d tag %lld exists %d\n", r, (long long)m_tag(), l_exists((int64_t)c));
    /* A normal end of a linked process: nothing. */
    spawn_fn(56, -1, nothing, 0, &c);
    printf("normal end: %d\n", m_receive(NULL, 0, 100));
    /* link() to a process that does not exist: a link death at once. */
    l_link(77, 4242);
    r = m_receive(NULL, 0, 0);
    printf("no such process: %d tag %lld\n", r, (long long)m_tag());
    /* unlink: the death is not heard. */
    spawn_fn(0, -1, crasher, 20, &c);
    l_link(78, (int64_t)c);
    l_unlink((int64_t)c);
    printf("after unlink: %d\n", m_receive(NULL, 0, 100));
    /* The default: a linked failure kills. */
    l_trap_links(1);
    fflush(stdout);
    spawn_fn(57, -1, crasher, 5, &c);
    l_sleep(5000);
    printf("not reached\n");
    return 0;
}

static void link_chain(int32_t depth)
{
    uint64_t c;
    if (depth > 0)
        spawn_fn(1, -1, link_chain, depth - 1, &c);
    else
        crasher(5);
    l_sleep(5000);
}

static int chain(void)
{
    /* A failure spreads along links: main watches the first of three. */
    uint64_t c;
    spawn_fn(0, -1, link_chain, 2, &c);
    l_monitor((int64_t)c);
    printf("chain: %d pid %lld\n", m_receive(NULL, 0, -1), (long long)m_pid());
    return 0;
}

static int monitors(void)
{
    uint64_t n;
    spawn_fn(0, -1, nothing, 0, &n);
    l_monitor((int64_t)n);
    int r = m_receive(NULL, 0, -1);
    printf("down normal: %d pid ok %d tag %lld\n", r, m_pid() == (int64_t)n, (long long)m_tag());
    spawn_fn(0, -1, crasher, 5, &n);
    l_monitor((int64_t)n);
    printf("down trap: %d\n", m_receive(NULL, 0, -1));
    spawn_fn(0, -1, exit_with, 3, &n);
    l_monitor((int64_t)n);
    printf("down exit: %d\n", m_receive(NULL, 0, -1));
    l_monitor(999);
    r = m_receive(NULL, 0, 0);
    printf("down of nobody: %d pid %lld\n", r, (long long)m_pid());
    spawn_fn(0, -1, crasher, 20, &n);
    l_monitor((int64_t)n);
    l_stop_monitoring((int64_t)n);
    printf("after stop_monitoring: %d\n", m_receive(NULL, 0, 100));
    /* A DOWN has no tag: a filtered receive never takes it. */
    spawn_fn(0, -1, nothing, 0, &n);
    l_monitor((int64_t)n);
    int64_t t = 1;
    printf("filtered: %d, unfiltered: %d\n", m_receive(&t, 1, 100), m_receive(NULL, 0, -1));
    return 0;
}

static int kills(void)
{
    uint64_t s;
    spawn_fn(0, -1, blocker, 0, &s);
    l_monitor((int64_t)s);
    l_kill((int64_t)s);
    printf("killed blocked: %d exists %d\n", m_receive(NULL, 0, -1), l_exists((int64_t)s));
    spawn_fn(0, -1, spinner, 0, &s);
    l_monitor((int64_t)s);
    l_kill((int64_t)s);
    printf("killed running: %d\n", m_receive(NULL, 0, -1));
    l_kill(12345);                      /* nobody: nothing */
    printf("kill self\n");
    fflush(stdout);
    l_kill(l_pid());
    printf("not reached\n");
    return 0;
}

static void grow(int32_t pages)
{
    int r = __builtin_wasm_memory_grow(0, pages);
    printf("grow %d: %s\n", pages, r < 0 ? "refused" : "ok");
    fflush(stdout);
}

static int limits(void)
{
    uint64_t c;
    int64_t cfg = l_create_config();
    printf("new config: fuel %lld memory %lld spawn %d\n", (long long)l_cfg_get_fuel(cfg),
           (long long)l_cfg_get_mem(cfg), l_cfg_can_spawn(cfg));
    l_cfg_fuel(cfg, 1);
    printf("spawn with fuel 1: %d\n", spawn_fn(0, cfg, spinner, 0, &c));
    l_monitor((int64_t)c);
    printf("out of fuel: %d\n", m_receive(NULL, 0, -1));
    l_trap_links(0);
    spawn_fn(9, cfg, spinner, 0, &c);
    printf("out of fuel, linked: %d tag %lld\n", m_receive(NULL, 0, -1), (long long)m_tag());
    int64_t mem = l_create_config();
    l_cfg_mem(mem, 4 << 16);
    spawn_fn(0, mem, grow, 1, &c);
    l_monitor((int64_t)c);
    m_receive(NULL, 0, -1);
    spawn_fn(0, mem, grow, 64, &c);
    l_monitor((int64_t)c);
    m_receive(NULL, 0, -1);
    int64_t tiny = l_create_config();
    l_cfg_mem(tiny, 1000);              /* under one page */
    int r = spawn_fn(0, tiny, nothing, 0, &c);
    printf("spawn over max_memory: %d\n", r);
    if (r == 1)
        print_error("error", c);
    return 0;
}

static void try_spawn(int32_t x)
{
    uint64_t c;
    spawn_fn(0, -1, nothing, 0, &c);
    printf("child spawned\n");
}

static void try_config(int32_t x)
{
    printf("child create_config: %lld\n", (long long)l_create_config());
    uint64_t id;
    printf("child compile_module: %d\n", l_compile("\0asm\1\0\0\0", 8, &id));
    fflush(stdout);
}

static int permissions(void)
{
    uint64_t c;
    int64_t cfg = l_create_config();
    spawn_fn(0, cfg, try_spawn, 0, &c);     /* no can_spawn: it traps */
    l_monitor((int64_t)c);
    printf("no spawn: %d\n", m_receive(NULL, 0, -1));
    spawn_fn(0, cfg, try_config, 0, &c);
    l_monitor((int64_t)c);
    m_receive(NULL, 0, -1);
    l_cfg_cc(cfg, 1);
    l_cfg_compile(cfg, 1);
    spawn_fn(0, cfg, try_config, 0, &c);
    l_monitor((int64_t)c);
    m_receive(NULL, 0, -1);
    /* A copy of my own config (-1) can do what I can. */
    spawn_fn(0, -1, try_spawn, 0, &c);
    l_monitor((int64_t)c);
    printf("inherited: %d\n", m_receive(NULL, 0, -1));
    uint64_t id;
    printf("compile bad: %d\n", l_compile("nope", 4, &id));
    print_error("error", id);
    return 0;
}

static void server(int32_t x)
{
    for (;;)
        m_receive(NULL, 0, -1);
}

static void racer(int32_t parent)
{
    uint8_t p[34];
    params(p, server, 0);
    uint64_t node, id;
    int r = l_get_or_spawn("srv", 3, 0, -1, -1, "entry", 5, p, 34, &node, &id);
    send_u64(parent, r == 0 ? 1 : r == 2 ? 2 : 3, id);
}

static int registry(void)
{
    uint64_t id, node;
    for (int i = 0; i < 20; i++)
        spawn_fn(0, -1, racer, (int32_t)l_pid(), &id);
    int spawned = 0, found = 0, other = 0, same = 1;
    uint64_t first = 0;
    for (int i = 0; i < 20; i++) {
        m_receive(NULL, 0, -1);
        uint64_t v = read_u64();
        int64_t t = m_tag();
        t == 1 ? spawned++ : t == 2 ? found++ : other++;
        if (i == 0)
            first = v;
        else if (v != first)
            same = 0;
    }
    printf("race: spawned %d found %d other %d same %d\n", spawned, found, other, same);
    printf("get: %d same %d\n", r_get("srv", 3, &node, &id), id == first);
    r_put("x", 1, 0, 4242);
    printf("put/get: %d pid %llu\n", r_get("x", 1, &node, &id), (unsigned long long)id);
    r_remove("srv", 3);
    printf("after remove: %d\n", r_get("srv", 3, &node, &id));
    return 0;
}

static int timers(void)
{
    m_create(5, 0);
    int64_t t1 = t_send_after(l_pid(), 30);
    m_create(6, 0);
    int64_t t2 = t_send_after(l_pid(), 30);
    printf("cancel pending: %d, again: %d, unknown: %d\n", t_cancel(t2), t_cancel(t2), t_cancel(999));
    int64_t tags[2] = { 5, 6 };
    printf("fired: %d tag %lld\n", m_receive(tags, 2, 2000), (long long)m_tag());
    printf("cancelled never comes: %d\n", m_receive(tags + 1, 1, 100));
    printf("cancel fired: %d\n", t_cancel(t1));
    m_create(8, 0);
    t_send_after(l_pid(), 0);
    int64_t eight = 8;
    printf("zero delay: %d\n", m_receive(&eight, 1, 2000));
    return 0;
}

__attribute__((export_name("_lunatic_catch_trap"))) int32_t catch_trap(int32_t f, int32_t a)
{
    return ((int32_t(*)(int32_t))(uintptr_t)f)(a);
}

static int32_t maybe_trap(int32_t a)
{
    if (a == 1)
        __builtin_trap();
    if (a == 2)
        return t_catch((int32_t)(uintptr_t)maybe_trap, 1) + 100;
    return 42;
}

static int catches(void)
{
    printf("catch ok: %d\n", t_catch((int32_t)(uintptr_t)maybe_trap, 0));
    printf("catch trap: %d\n", t_catch((int32_t)(uintptr_t)maybe_trap, 1));
    printf("nested: %d\n", t_catch((int32_t)(uintptr_t)maybe_trap, 2));
    printf("still running\n");
    return 0;
}

static int misc(void)
{
    printf("version %d.%d.%d node %lld module %lld nodes %d\n", v_major(), v_minor(), v_patch(),
           (long long)d_node(), (long long)d_module(), d_count());
    x_counter("requests", 8);
    uint64_t id;
    int64_t r = sq_open("db", 2, &id);
    printf("sqlite open: %lld\n", (long long)r);
    print_error("error", id);
    r = tls_connect("x", 1, 443, -1, &id, "", 0);
    printf("tls_connect: %lld\n", (long long)r);
    print_error("error", id);
    /* distributed on node 0 is local; another node does not exist. */
    m_create(3, 0);
    printf("send to node 0: %d\n", d_send(0, l_pid()));
    int64_t three = 3;
    printf("arrived: %d\n", m_receive(&three, 1, 0));
    m_create(3, 0);
    printf("send to node 5: %d\n", d_send(5, l_pid()));
    uint8_t p[34];
    params(p, nothing, 0);
    printf("spawn on node 5: %d\n", d_spawn(5, -1, 0, "entry", 5, p, 34, &id));
    print_error("error", id);
    /* A missing entry: spawn succeeds, the child fails at once. */
    l_trap_links(0);
    r = l_spawn(4, -1, -1, "no_such_export", 14, NULL, 0, &id);
    printf("spawn missing export: %lld, then %d tag %lld\n", (long long)r, m_receive(NULL, 0, -1),
           (long long)m_tag());
    return 0;
}


/* (module (memory (export "memory") 1) (func (export "run") (param i32 i32))),
 * assembled by wat2wasm: a module to compile at run time. */
static const unsigned char tiny_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x02, 0x7f, 0x7f,
    0x00, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x10, 0x02, 0x06, 0x6d,
    0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x00, 0x0a, 0x04,
    0x01, 0x02, 0x00, 0x0b,
};

IMP(M, "push_module") int64_t m_push_module(int64_t id);
IMP(M, "take_module") int64_t m_take_module(int64_t idx);
IMP(P, "drop_module") void l_drop_module(int64_t id);
IMP(P, "config_can_compile_modules") int32_t l_cfg_can_compile(int64_t c);
IMP(P, "config_can_create_configs") int32_t l_cfg_can_cc(int64_t c);
IMP("lunatic::distributed", "get_nodes") int32_t d_get_nodes(uint64_t *p, int32_t n);
IMP("lunatic::metrics", "counter") void x_counter_set(const char *n, int32_t l, int64_t v);
IMP("lunatic::metrics", "gauge") void x_gauge(const char *n, int32_t l, double v);
IMP("lunatic::metrics", "increment_gauge") void x_inc_gauge(const char *n, int32_t l, double v);
IMP("lunatic::metrics", "decrement_gauge") void x_dec_gauge(const char *n, int32_t l, double v);
IMP("lunatic::metrics", "histogram") void x_histogram(const char *n, int32_t l, double v);

static void take_and_spawn(int32_t parent)
{
    /* The module arrives in a message; spawn it here. */
    m_receive(NULL, 0, -1);
    int64_t mod = m_take_module(0);
    uint8_t p[34] = { 0x7f };
    p[17] = 0x7f;
    uint64_t id;
    int r = l_spawn(0, -1, mod, "run", 3, p, 34, &id);
    l_monitor((int64_t)id);
    printf("child spawned from the moved module: %d, down %d\n", r, m_receive(NULL, 0, -1));
    l_drop_module(mod);
}

static int modules(void)
{
    uint64_t mod;
    printf("compile: %d\n", l_compile(tiny_wasm, sizeof tiny_wasm, &mod));
    uint8_t p[34] = { 0x7f };
    p[17] = 0x7f;
    uint64_t id;
    printf("spawn from it: %d\n", l_spawn(0, -1, (int64_t)mod, "run", 3, p, 34, &id));
    l_monitor((int64_t)id);
    printf("its end: %d\n", m_receive(NULL, 0, -1));
    uint64_t child;
    spawn_fn(0, -1, take_and_spawn, 0, &child);
    m_create(0, 0);
    printf("pushed at %lld\n", (long long)m_push_module((int64_t)mod));
    m_send((int64_t)child);
    l_monitor((int64_t)child);
    m_receive(NULL, 0, -1);
    l_drop_module((int64_t)mod);
    printf("unknown module: %d\n", l_spawn(0, -1, 77, "run", 3, p, 34, &id));
    return 0;
}

static int configs(void)
{
    int64_t c = l_create_config();
    l_cfg_compile(c, 1);
    l_cfg_cc(c, 1);
    l_cfg_spawn(c, 1);
    l_cfg_fuel(c, 5);
    l_cfg_mem(c, 1 << 20);
    printf("getters: compile %d create %d spawn %d fuel %lld memory %lld\n", l_cfg_can_compile(c),
           l_cfg_can_cc(c), l_cfg_can_spawn(c), (long long)l_cfg_get_fuel(c),
           (long long)l_cfg_get_mem(c));
    l_drop_config(c);
    uint64_t nodes[4];
    printf("get_nodes: %d\n", d_get_nodes(nodes, 4));
    x_counter_set("a", 1, 5);
    x_gauge("b", 1, 1.5);
    x_inc_gauge("b", 1, 1.0);
    x_dec_gauge("b", 1, 1.0);
    x_histogram("c", 1, 2.0);
    printf("metrics accepted\n");
    fflush(stdout);
    l_cfg_get_fuel(c);                  /* dropped: traps */
    return 0;
}

static int errors(void)
{
    fflush(stdout);
    m_receive((const int64_t *)0xfffffff0, 4, 0);
    return 0;
}

static int scratch(void)
{
    m_send(1);                          /* empty scratch: traps */
    return 0;
}

int main(int argc, char **argv)
{
    static const struct { const char *name; int (*fn)(void); } s[] = {
        { "messages", messages }, { "links", links }, { "chain", chain },
        { "monitors", monitors }, { "kills", kills }, { "limits", limits },
        { "permissions", permissions }, { "registry", registry }, { "timers", timers },
        { "catch", catches }, { "misc", misc }, { "errors", errors }, { "scratch", scratch },
        { "modules", modules }, { "configs", configs },
    };
    setvbuf(stdout, NULL, _IOLBF, 0);   /* lines in the order printed, with
                                           the children's */
    if (argc > 1 && strcmp(argv[1], "exit") == 0)
        exit(atoi(argv[2]));
    for (size_t i = 0; argc > 1 && i < sizeof s / sizeof s[0]; i++)
        if (strcmp(argv[1], s[i].name) == 0)
            return s[i].fn();
    fprintf(stderr, "usage: core.wasm SCENARIO\n");
    return 2;
}
