/*
 * l14.h - the lunatic 0.14 imports the test guests use, declared as the
 * crate declares them (src/host/api.rs), and two helpers: spawning a C
 * function as a process and sending a u64.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define IMP(m, n) __attribute__((import_module(m), import_name(n)))
#define P "lunatic::process"
#define M "lunatic::message"
IMP(P, "spawn") int32_t l_spawn(int64_t link, int64_t cfg, int64_t mod, const char *f, int32_t flen,
                                const uint8_t *p, int32_t plen, uint64_t *id);
IMP(P, "get_or_spawn") int32_t l_get_or_spawn(const char *n, int32_t nl, int64_t link, int64_t cfg,
                                              int64_t mod, const char *f, int32_t fl,
                                              const uint8_t *p, int32_t pl, uint64_t *node,
                                              uint64_t *id);
IMP(P, "process_id") int64_t l_pid(void);
IMP(P, "link") void l_link(int64_t tag, int64_t pid);
IMP(P, "unlink") void l_unlink(int64_t pid);
IMP(P, "monitor") void l_monitor(int64_t pid);
IMP(P, "stop_monitoring") void l_stop_monitoring(int64_t pid);
IMP(P, "kill") void l_kill(int64_t pid);
IMP(P, "exists") int32_t l_exists(int64_t pid);
IMP(P, "sleep_ms") void l_sleep(int64_t ms);
IMP(P, "die_when_link_dies") void l_trap_links(int32_t on);
IMP(P, "create_config") int64_t l_create_config(void);
IMP(P, "drop_config") void l_drop_config(int64_t c);
IMP(P, "config_set_max_fuel") void l_cfg_fuel(int64_t c, int64_t f);
IMP(P, "config_get_max_fuel") int64_t l_cfg_get_fuel(int64_t c);
IMP(P, "config_set_max_memory") void l_cfg_mem(int64_t c, int64_t f);
IMP(P, "config_get_max_memory") int64_t l_cfg_get_mem(int64_t c);
IMP(P, "config_set_can_spawn_processes") void l_cfg_spawn(int64_t c, int32_t f);
IMP(P, "config_can_spawn_processes") int32_t l_cfg_can_spawn(int64_t c);
IMP(P, "config_set_can_create_configs") void l_cfg_cc(int64_t c, int32_t f);
IMP(P, "config_set_can_compile_modules") void l_cfg_compile(int64_t c, int32_t f);
IMP(P, "compile_module") int32_t l_compile(const void *p, int32_t len, uint64_t *id);
IMP(M, "create_data") void m_create(int64_t tag, int64_t cap);
IMP(M, "write_data") int32_t m_write(const void *p, int32_t n);
IMP(M, "read_data") int32_t m_read(void *p, int32_t n);
IMP(M, "seek_data") void m_seek(int64_t pos);
IMP(M, "data_size") int64_t m_size(void);
IMP(M, "get_tag") int64_t m_tag(void);
IMP(M, "get_process_id") int64_t m_pid(void);
IMP(M, "send") int32_t m_send(int64_t pid);
IMP(M, "receive") int32_t m_receive(const int64_t *tags, int32_t n, int64_t timeout);
IMP(M, "send_receive_skip_search") int32_t m_request(int64_t pid, int64_t tag, int64_t timeout);
IMP("lunatic::error", "string_size") int32_t e_size(int64_t id);
IMP("lunatic::error", "to_string") void e_str(int64_t id, char *p);
IMP("lunatic::error", "drop") void e_drop(int64_t id);
IMP("lunatic::trap", "catch") int32_t t_catch(int32_t f, int32_t arg);
IMP("lunatic::registry", "get") int32_t r_get(const char *n, int32_t nl, uint64_t *node, uint64_t *id);
IMP("lunatic::registry", "put") void r_put(const char *n, int32_t nl, int64_t node, int64_t id);
IMP("lunatic::registry", "remove") void r_remove(const char *n, int32_t nl);
IMP("lunatic::timer", "send_after") int64_t t_send_after(int64_t pid, int64_t ms);
IMP("lunatic::timer", "cancel_timer") int32_t t_cancel(int64_t id);
IMP("lunatic::version", "major") int32_t v_major(void);
IMP("lunatic::version", "minor") int32_t v_minor(void);
IMP("lunatic::version", "patch") int32_t v_patch(void);
IMP("lunatic::distributed", "node_id") int64_t d_node(void);
IMP("lunatic::distributed", "module_id") int64_t d_module(void);
IMP("lunatic::distributed", "nodes_count") int32_t d_count(void);
IMP("lunatic::distributed", "send") int32_t d_send(int64_t node, int64_t pid);
IMP("lunatic::distributed", "spawn") int32_t d_spawn(int64_t node, int64_t cfg, int64_t mod, const char *f,
                                                     int32_t fl, const uint8_t *p, int32_t pl, uint64_t *id);
IMP("lunatic::metrics", "increment_counter") void x_counter(const char *n, int32_t l);
IMP("lunatic::sqlite", "open") int64_t sq_open(const char *p, int32_t l, uint64_t *id);
IMP("lunatic::sqlite", "execute") int32_t sq_exec(int64_t c, const char *p, int32_t l);
IMP("lunatic::networking", "tls_connect") int32_t tls_connect(const char *a, int32_t al, int32_t port, int64_t t,
                                                             uint64_t *id, const char *c, int32_t cl);
IMP("lunatic::wasi", "config_add_environment_variable") void w_env(int64_t c, const char *k, int32_t kl,
                                                                   const char *v, int32_t vl);
IMP("lunatic::wasi", "config_add_command_line_argument") void w_arg(int64_t c, const char *k, int32_t kl);
IMP("lunatic::wasi", "config_preopen_dir") void w_dir(int64_t c, const char *k, int32_t kl);

/* The entry every spawned function goes through: a C function pointer
 * is an index into table 0, passed as an i32 parameter (17-byte records
 * of ABI 7.1), as the crate passes its closures. */
__attribute__((export_name("entry"))) void entry(int32_t fn, int32_t arg)
{
    ((void (*)(int32_t))(uintptr_t)fn)(arg);
}

static inline void params(uint8_t p[34], void (*fn)(int32_t), int32_t arg)
{
    memset(p, 0, 34);
    p[0] = 0x7f;
    uint32_t f = (uint32_t)(uintptr_t)fn;
    memcpy(p + 1, &f, 4);
    p[17] = 0x7f;
    memcpy(p + 18, &arg, 4);
}

static inline int spawn_fn(int64_t link, int64_t cfg, void (*fn)(int32_t), int32_t arg, uint64_t *id)
{
    uint8_t p[34];
    params(p, fn, arg);
    return l_spawn(link, cfg, -1, "entry", 5, p, 34, id);
}

static inline void send_u64(int64_t pid, int64_t tag, uint64_t v)
{
    m_create(tag, 8);
    m_write(&v, 8);
    m_send(pid);
}

static inline uint64_t read_u64(void)
{
    uint64_t v = 0;
    m_read(&v, 8);
    return v;
}

static inline void print_error(const char *what, uint64_t id)
{
    char b[300];
    int n = e_size((int64_t)id);
    if (n > (int)sizeof b - 1)
        n = sizeof b - 1;
    e_str((int64_t)id, b);
    b[n] = 0;
    printf("%s: %s\n", what, b);
    e_drop((int64_t)id);
}
