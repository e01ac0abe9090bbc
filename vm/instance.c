/*
 * instance.c - linking and instantiation (WebAssembly core 2.0, 4.5.4).
 *
 * lvm_instantiate resolves every import through a linker with exact type
 * matching, creates the module's own memories, tables, globals and function
 * objects in the store, then applies the active element and data segments
 * in module order (each as table.init/memory.init followed by a drop, so a
 * trap leaves the writes made before it in place, as 2.0 requires) and runs
 * the start function.  A failed instance stays in its store: tables it
 * wrote may already hold references to its functions.
 */
#include "vm.h"
#include "../exec/exec.h"

#include <pthread.h>
#include <string.h>
#include <stdlib.h>

/* {====== the linker */

typedef struct link_entry {
    char *module, *name;        /* copies, compared with their lengths: */
    size_t module_len, name_len;/* wasm names may contain NUL bytes */
    lvm_extern ext;
} link_entry;

/* The spawn path's shortcut.  Every process of a program instantiates
 * the same module through the same linker, and looking each import up by
 * name (memcmp over a hundred host functions, for each of twenty or so
 * imports) was a fifth of a spawn.  So a linker remembers, for the last
 * module it resolved completely, the object each import resolved to; the
 * next instantiation of that module skips the lookups and the function
 * type checks (types never change; the limits checks of tables and
 * memories still run: their sizes can).  The entry is
 * valid while the linker's generation - bumped by every definition - is
 * the one it was made at.  One entry, under a mutex, because workers
 * instantiate concurrently; rejected: one entry per module (a hash table
 * for a case - many modules through one linker - that has no hot path).
 * Child linkers (lvm_linker_new_child) are made per spawn and never
 * cache. */
typedef struct link_cache {
    lvm_module *module;         /* retained; NULL: empty */
    uint64_t gen;
    lvm_extern *ext;            /* module->nimports entries */
} link_cache;

struct lvm_linker {
    link_entry *v;
    size_t n, cap;
    const lvm_linker *parent;   /* where lookups go on; NULL: nowhere */
    uint64_t gen;               /* definitions so far */
    pthread_mutex_t lock;       /* guards cache */
    link_cache cache;
};

lvm_linker *lvm_linker_new(void)
{
    lvm_linker *l = lvm_xcalloc(1, sizeof(lvm_linker));
    if (l)
        pthread_mutex_init(&l->lock, NULL);
    return l;
}

/* Rejected: copying the parent's entries into each child, which costs a
 * hundred host-function names per spawn_from_module for nothing. */
lvm_linker *lvm_linker_new_child(const lvm_linker *parent)
{
    lvm_linker *l = lvm_linker_new();
    if (l)
        l->parent = parent;
    return l;
}

void lvm_linker_free(lvm_linker *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].module);
        free(l->v[i].name);
    }
    free(l->v);
    if (l->cache.module)
        lvm_module_release(l->cache.module);
    free(l->cache.ext);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static char *dup_bytes(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = 0;
    }
    return d;
}

static lvm_err define_n(lvm_linker *l, const char *module, size_t module_len,
                        const char *name, size_t name_len, lvm_extern ext)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        link_entry *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return LVM_ERR_NO_MEMORY;
        l->v = v;
        l->cap = cap;
    }
    link_entry *e = &l->v[l->n];
    e->module = dup_bytes(module, module_len);
    e->name = dup_bytes(name, name_len);
    if (!e->module || !e->name) {
        free(e->module);
        free(e->name);
        return LVM_ERR_NO_MEMORY;
    }
    e->module_len = module_len;
    e->name_len = name_len;
    e->ext = ext;
    l->n++;
    l->gen++;                   /* what is cached may be shadowed now */
    return LVM_OK;
}

lvm_err lvm_linker_define(lvm_linker *l, const char *module, const char *name, lvm_extern ext)
{
    return define_n(l, module, strlen(module), name, strlen(name), ext);
}

lvm_err lvm_linker_define_instance(lvm_linker *l, const char *module, lvm_instance *inst)
{
    return lvm_linker_define_exports(l, module, strlen(module), inst, 0xf);
}

lvm_err lvm_linker_define_exports(lvm_linker *l, const char *module, size_t module_len,
                                  lvm_instance *inst, unsigned kinds)
{
    const lvm_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const decode_export *x = &m->exports[i];
        if (!(kinds & 1u << x->kind))
            continue;
        lvm_extern ext;
        lvm_instance_export_n(inst, x->name, x->name_len, &ext);
        lvm_err err = define_n(l, module, module_len, x->name, x->name_len, ext);
        if (err)
            return err;
    }
    return LVM_OK;
}

/* Later definitions shadow earlier ones, so search from the end, and a
 * linker's own entries shadow its parent's.  A linear scan: the spawn
 * path resolves through the cache (see link_cache). */
static bool lookup_n(const lvm_linker *l, const char *module, size_t module_len,
                     const char *name, size_t name_len, lvm_extern *out)
{
    for (; l; l = l->parent) {
        for (size_t i = l->n; i > 0; i--) {
            const link_entry *e = &l->v[i - 1];
            if (e->name_len == name_len && e->module_len == module_len &&
                memcmp(e->name, name, name_len) == 0 &&
                memcmp(e->module, module, module_len) == 0) {
                *out = e->ext;
                return true;
            }
        }
    }
    return false;
}

bool lvm_linker_lookup(const lvm_linker *l, const char *module, const char *name, lvm_extern *out)
{
    return lookup_n(l, module, strlen(module), name, strlen(name), out);
}

/* }====== */

/* {====== exports */

bool lvm_instance_export(const lvm_instance *inst, const char *name, lvm_extern *out)
{
    return lvm_instance_export_n(inst, name, strlen(name), out);
}

bool lvm_instance_export_n(const lvm_instance *inst, const char *name, size_t len, lvm_extern *out)
{
    const lvm_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const decode_export *e = &m->exports[i];
        if (e->name_len != len || memcmp(e->name, name, len) != 0)
            continue;
        out->kind = e->kind;
        switch (e->kind) {
        case LVM_EXTERN_FUNC: out->u.func = inst->funcs[e->index]; break;
        case LVM_EXTERN_TABLE: out->u.table = inst->tables[e->index]; break;
        case LVM_EXTERN_MEMORY: out->u.memory = inst->memories[e->index]; break;
        default: out->u.global = inst->globals[e->index]; break;
        }
        return true;
    }
    return false;
}

lvm_memory *lvm_instance_memory(const lvm_instance *inst)
{
    return inst->module->nmemories ? inst->memories[0] : NULL;
}

const lvm_module *lvm_instance_module(const lvm_instance *inst) { return inst->module; }

uint32_t lvm_module_ctors(const lvm_module *m) { return m->ctors; }

/* }====== */

/* {====== instantiation */

/* Ended instances' blocks kept per module, up to this many bytes: a
 * burst of spawns then reuses warm blocks without asking malloc, whose
 * free lists fragment when a hundred thousand 3 KiB blocks end in another
 * order than they were made (measured: _int_malloc, unlink_chunk and
 * malloc_consolidate took a third of a burst's time). */
#define SPARE_BYTES ((size_t)4 << 20)

static size_t block_size(const lvm_module *m);

static void spare_lock(lvm_module *m)
{
    while (__atomic_test_and_set(&m->spare_lock, __ATOMIC_ACQUIRE))
        ;
}

static void spare_unlock(lvm_module *m)
{
    __atomic_clear(&m->spare_lock, __ATOMIC_RELEASE);
}

void vm_module_free_spares(lvm_module *m)
{
    while (m->spare) {
        void *b = m->spare;
        m->spare = *(void **)b;
        free(b);
    }
    m->nspare = 0;
}

static void instance_free(void *p)
{
    lvm_instance *inst = p;
    lvm_module *m = inst->module;
    size_t size = block_size(m);
    bool kept = false;
    spare_lock(m);
    if (inst->funcs_made && ((size_t)m->nspare + 1) * size <= SPARE_BYTES) {
        *(void **)inst = m->spare;
        m->spare = inst;
        m->nspare++;
        kept = true;
    }
    spare_unlock(m);
    if (!kept)
        free(inst);                 /* the whole block: see alloc_block */
    lvm_module_release(m);          /* last: it frees the spares */
}

static const char *kind_name(uint8_t kind)
{
    static const char *const names[] = { "function", "table", "memory", "global" };
    return kind < 4 ? names[kind] : "?";
}

/* Limits subtyping (2.0, 4.5.3): the provided object's current size must be
 * at least the import's min, and if the import has a max the provided one
 * must have a max no larger. */
static bool limits_match(uint64_t size, uint64_t max, bool has_max, const decode_limits *want)
{
    if (size < want->min)
        return false;
    if (want->has_max && (!has_max || max > want->max))
        return false;
    return true;
}

/* Check that ext fits import im and bind it in inst. */
static lvm_err bind_import(lvm_instance *inst, const decode_import *im, lvm_extern ext,
                           lvm_diag *diag)
{
    const lvm_module *m = inst->module;
    bool ok = ext.kind == im->kind;
    if (ok) {
        switch (im->kind) {
        case LVM_EXTERN_FUNC:
            ok = lvm_functype_equal(ext.u.func->type, &m->types[m->funcs[im->index].type]);
            if (ok)
                inst->funcs[im->index] = ext.u.func;
            break;
        case LVM_EXTERN_TABLE: {
            const lvm_table *t = ext.u.table;
            const decode_table *want = &m->tables[im->index];
            ok = t->type == want->elemtype &&
                 limits_match(t->size, t->max, t->max != UINT32_MAX, &want->limits);
            if (ok)
                inst->tables[im->index] = ext.u.table;
            break;
        }
        case LVM_EXTERN_MEMORY: {
            const lvm_memory *mem = ext.u.memory;
            ok = limits_match(mem->pages, mem->max_pages, mem->max_pages != LVM_MAX_PAGES,
                              &m->memories[im->index]);
            if (ok)
                inst->memories[im->index] = ext.u.memory;
            break;
        }
        default: {
            const lvm_global *g = ext.u.global;
            const decode_global *want = &m->globals[im->index];
            ok = g->type == want->type && g->mutable_ == want->mutable_;
            if (ok)
                inst->globals[im->index] = ext.u.global;
            break;
        }
        }
    }
    if (!ok)
        return lvm_diag_set(diag, LVM_ERR_INCOMPATIBLE_IMPORT, LVM_NO_OFFSET, ": %s.%s (%s)",
                            im->module, im->name, kind_name(im->kind));
    return LVM_OK;
}

/* Bind every import of inst's module: from l's cache when it holds this
 * module at l's generation, else by name, filling the cache if all
 * resolve. */
static lvm_err resolve_imports(lvm_instance *inst, lvm_linker *l, lvm_diag *diag)
{
    lvm_module *m = inst->module;
    if (!m->nimports)
        return LVM_OK;
    if (!l) {
        const decode_import *im = &m->imports[0];
        return lvm_diag_set(diag, LVM_ERR_UNKNOWN_IMPORT, LVM_NO_OFFSET, ": %s.%s (%s)",
                            im->module, im->name, kind_name(im->kind));
    }
    bool cacheable = !l->parent;
    if (cacheable) {
        pthread_mutex_lock(&l->lock);
        if (l->cache.module == m && l->cache.gen == l->gen) {
            lvm_err err = LVM_OK;
            for (uint32_t i = 0; i < m->nimports && !err; i++) {
                const decode_import *im = &m->imports[i];
                if (im->kind == LVM_EXTERN_FUNC)    /* types never change: */
                    inst->funcs[im->index] = l->cache.ext[i].u.func;   /* checked */
                else
                    err = bind_import(inst, im, l->cache.ext[i], diag);
            }
            pthread_mutex_unlock(&l->lock);
            return err;
        }
        pthread_mutex_unlock(&l->lock);
    }
    lvm_extern *found = cacheable ? malloc(m->nimports * sizeof *found) : NULL;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const decode_import *im = &m->imports[i];
        lvm_extern ext;
        lvm_err err = LVM_OK;
        if (!lookup_n(l, im->module, im->module_len, im->name, im->name_len, &ext))
            err = lvm_diag_set(diag, LVM_ERR_UNKNOWN_IMPORT, LVM_NO_OFFSET, ": %s.%s (%s)",
                               im->module, im->name, kind_name(im->kind));
        else
            err = bind_import(inst, im, ext, diag);
        if (err) {
            free(found);
            return err;
        }
        if (found)
            found[i] = ext;
    }
    if (found) {
        pthread_mutex_lock(&l->lock);
        lvm_module *old = l->cache.module;
        free(l->cache.ext);
        lvm_module_retain(m);
        l->cache = (link_cache){ m, l->gen, found };
        pthread_mutex_unlock(&l->lock);
        if (old)
            lvm_module_release(old);
    }
    return LVM_OK;
}

/* Evaluate a constant expression (after imports and earlier globals exist). */
static lvm_val eval_const(const lvm_instance *inst, const decode_const *c)
{
    lvm_val v;
    v.bits = 0;
    switch (c->op) {
    case OP_REF_FUNC: v.ref = inst->funcs[c->value]; break;
    case OP_GLOBAL_GET: v = inst->globals[c->value]->val; break;
    case OP_REF_NULL: break;
    default: v.bits = c->value; break;      /* i32/i64/f32/f64.const bits */
    }
    return v;
}

/* The instance, its arrays and what it defines - functions, memories,
 * tables (with their initial elements, when few) and globals - in one
 * block: one malloc per instance instead of a dozen, and one free, which
 * is most of what a spawn cost in malloc and most of glibc's work when
 * processes end in another order than they began.  The block is freed
 * with the instance, after the memories and tables in it (the store's
 * list is newest first, and they are linked after the instance).  The
 * parts of pointers, lvm_func, lvm_memory, lvm_table, lvm_global and
 * lvm_val are multiples of 8 bytes, so each is aligned; the flag arrays
 * of bytes end it.  Rejected: a bump arena per store for every object,
 * which would also serve host objects and instances made later, but
 * keeps a store's memory until it dies when an instance fails midway. */
#define INLINE_ELEMS 512        /* table entries kept in the block */

/* The table entries the block holds (0: they are malloc'd). */
static uint64_t block_elems(const lvm_module *m)
{
    uint64_t nelems = 0;
    for (uint32_t i = m->nimported_tables; i < m->ntables; i++)
        nelems += m->tables[i].limits.min;
    return nelems > INLINE_ELEMS ? 0 : nelems;
}

static size_t block_size(const lvm_module *m)
{
    uint32_t nown = m->nfuncs - m->nimported_funcs;
    uint32_t nmem = m->nmemories - m->nimported_memories;
    uint32_t ntab = m->ntables - m->nimported_tables;
    uint32_t nglob = m->nglobals - m->nimported_globals;
    size_t n_ptrs = (size_t)m->nfuncs + m->ntables + m->nmemories + m->nglobals;
    return sizeof(lvm_instance) + n_ptrs * sizeof(void *) + (size_t)nown * sizeof(lvm_func) +
           (size_t)nmem * sizeof(lvm_memory) + (size_t)ntab * sizeof(lvm_table) +
           (size_t)nglob * sizeof(lvm_global) + (size_t)block_elems(m) * sizeof(lvm_val) +
           (size_t)m->nelems + m->ndatas;
}

size_t lvm_module_instance_bytes(const lvm_module *m) { return block_size(m); }

static lvm_instance *alloc_block(lvm_module *m, bool *recycled)
{
    uint32_t nown = m->nfuncs - m->nimported_funcs;
    uint32_t nmem = m->nmemories - m->nimported_memories;
    uint32_t ntab = m->ntables - m->nimported_tables;
    uint32_t nglob = m->nglobals - m->nimported_globals;
    uint64_t nelems = block_elems(m);
    size_t n_ptrs = (size_t)m->nfuncs + m->ntables + m->nmemories + m->nglobals;
    size_t funcs_at = sizeof(lvm_instance) + n_ptrs * sizeof(void *);
    size_t funcs_end = funcs_at + (size_t)nown * sizeof(lvm_func);
    size_t size = block_size(m);
    uint8_t *block = NULL;
    spare_lock(m);
    if ((block = m->spare)) {
        m->spare = *(void **)block;
        m->nspare--;
    }
    spare_unlock(m);
    /* Zeroed except the lvm_funcs, which create_own_objects writes whole
     * (they are most of the block).  A block this module's instance had
     * keeps them and their pointers in funcs[] as they were: the same
     * type, index and instance (the block's own address), and a code
     * pointer that is NULL or the module's lowered code, which lives as
     * long as the module (exec_code_of fetches it when NULL); only the
     * imports' pointers are new, and resolve_imports writes them. */
    *recycled = block != NULL;
    if (!block && !(block = malloc(size)))
        return NULL;
    size_t own_ptrs_at = sizeof(lvm_instance) + (size_t)m->nimported_funcs * sizeof(void *);
    size_t own_ptrs_end = sizeof(lvm_instance) + (size_t)m->nfuncs * sizeof(void *);
    if (*recycled) {
        memset(block, 0, own_ptrs_at);
        memset(block + own_ptrs_end, 0, funcs_at - own_ptrs_end);
    } else {
        memset(block, 0, funcs_at);
    }
    memset(block + funcs_end, 0, size - funcs_end);
    lvm_instance *inst = (lvm_instance *)block;
    inst->funcs = (lvm_func **)(block + sizeof(lvm_instance));
    inst->tables = (lvm_table **)(inst->funcs + m->nfuncs);
    inst->memories = (lvm_memory **)(inst->tables + m->ntables);
    inst->globals = (lvm_global **)(inst->memories + m->nmemories);
    inst->own_funcs = (lvm_func *)(inst->globals + m->nglobals);
    lvm_memory *mems = (lvm_memory *)(inst->own_funcs + nown);
    lvm_table *tabs = (lvm_table *)(mems + nmem);
    lvm_global *globs = (lvm_global *)(tabs + ntab);
    lvm_val *elems = (lvm_val *)(globs + nglob);
    inst->elem_dropped = (bool *)(elems + nelems);
    inst->data_dropped = inst->elem_dropped + m->nelems;
    /* Not yet made: create_own_objects fills them in from these. */
    for (uint32_t i = 0; i < nmem; i++) {
        mems[i].in_block = true;
        inst->memories[m->nimported_memories + i] = &mems[i];
    }
    for (uint32_t i = 0; i < ntab; i++) {
        tabs[i].in_block = true;
        inst->tables[m->nimported_tables + i] = &tabs[i];
    }
    for (uint32_t i = 0; i < nglob; i++)
        inst->globals[m->nimported_globals + i] = &globs[i];
    inst->block_elems = nelems ? elems : NULL;
    return inst;
}

/* A table or memory of `bytes` that could not be made although the
 * store's limit allowed it: the total of all stores, or the host. */
static lvm_err total_refused(uint64_t bytes, const char *what, uint32_t i, lvm_diag *diag)
{
    uint64_t used = lvm_total_memory_used(), limit = lvm_total_memory_limit();
    if (bytes > limit || used > limit - bytes)
        return lvm_diag_set(diag, LVM_ERR_TOTAL_MEMORY_LIMIT, LVM_NO_OFFSET,
                            ": %s %u needs %llu bytes, all processes hold %llu of %llu", what, i,
                            (unsigned long long)bytes, (unsigned long long)used,
                            (unsigned long long)limit);
    return LVM_ERR_NO_MEMORY;
}

static lvm_err create_own_objects(lvm_store *s, lvm_instance *inst, bool recycled,
                                  lvm_diag *diag)
{
    const lvm_module *m = inst->module;
    for (uint32_t i = recycled ? m->nfuncs : m->nimported_funcs; i < m->nfuncs; i++) {
        lvm_func *f = &inst->own_funcs[i - m->nimported_funcs];
        *f = (lvm_func){
            .type = &m->types[m->funcs[i].type],
            .inst = inst,
            .index = i,
            /* Atomic: another thread may be publishing it (exec_code_of). */
            .code = m->code ? __atomic_load_n(&m->code[i - m->nimported_funcs], __ATOMIC_ACQUIRE)
                            : NULL,
        };
        inst->funcs[i] = f;
    }
    inst->funcs_made = true;
    /* Tables and memories count against the store's limit and the total
     * of all stores (store.c): say which one refused. */
    for (uint32_t i = m->nimported_tables; i < m->ntables; i++) {
        const decode_table *t = &m->tables[i];
        uint64_t bytes = (uint64_t)t->limits.min * sizeof(lvm_val);
        if (!vm_tables_fit(s, s->memory_limit_pages, bytes))
            return lvm_diag_set(diag, LVM_ERR_MEMORY_LIMIT, LVM_NO_OFFSET,
                                ": table %u needs %llu bytes (%u entries): with the memory "
                                "and the other tables, over the limit of %u pages", i,
                                (unsigned long long)bytes, t->limits.min, s->memory_limit_pages);
        lvm_val *elems = inst->block_elems;
        if (elems)
            inst->block_elems += t->limits.min;
        if (!vm_table_init(s, inst->tables[i], elems, t->elemtype, t->limits.min, t->limits.max,
                           t->limits.has_max))
            return total_refused(bytes, "table", i, diag);
    }
    for (uint32_t i = m->nimported_memories; i < m->nmemories; i++) {
        const decode_limits *l = &m->memories[i];
        if (l->min > s->memory_limit_pages)
            return lvm_diag_set(diag, LVM_ERR_MEMORY_LIMIT, LVM_NO_OFFSET,
                                ": memory %u needs %u pages, the limit is %u", i, l->min,
                                s->memory_limit_pages);
        if (!vm_memory_init(s, inst->memories[i], l->min, l->max, l->has_max)) {
            if (!vm_memory_fits(s, s->memory_limit_pages, (uint64_t)l->min * LVM_PAGE_SIZE))
                return lvm_diag_set(diag, LVM_ERR_MEMORY_LIMIT, LVM_NO_OFFSET,
                                    ": memory %u needs %u pages, over the limit of %u with "
                                    "the tables", i, l->min, s->memory_limit_pages);
            return total_refused(LVM_PAGE_SIZE, "memory", i, diag);
        }
    }
    for (uint32_t i = m->nimported_globals; i < m->nglobals; i++) {
        const decode_global *g = &m->globals[i];
        *inst->globals[i] = (lvm_global){ .val = eval_const(inst, &g->init), .type = g->type,
                                          .mutable_ = g->mutable_ };
    }
    inst->mem0 = m->nmemories ? inst->memories[0] : &vm_no_memory;
    return LVM_OK;
}

/* Active element segments: table.init(seg) then elem.drop; declarative
 * segments are dropped at once. */
static lvm_err init_elems(lvm_instance *inst, lvm_diag *diag)
{
    const lvm_module *m = inst->module;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const decode_elem *e = &m->elems[i];
        if (e->mode == SEG_PASSIVE)
            continue;
        if (e->mode == SEG_ACTIVE) {
            lvm_table *t = inst->tables[e->table];
            uint64_t off = eval_const(inst, &e->offset).i32;
            if (off + e->count > t->size)
                return lvm_diag_set(diag, LVM_ERR_TRAP_TABLE_OOB, LVM_NO_OFFSET,
                                    " (element segment %u)", i);
            for (uint32_t k = 0; k < e->count; k++)
                t->elems[off + k] = eval_const(inst, &e->items[k]);
        }
        inst->elem_dropped[i] = true;
    }
    return LVM_OK;
}

static lvm_err init_datas(lvm_instance *inst, lvm_diag *diag)
{
    const lvm_module *m = inst->module;
    if (m->data_image) {
        /* All of them at once (decode.c, build_data_image). */
        lvm_memory *mem = inst->memories[0];
        memcpy(mem->data + m->data_image_at, m->data_image, m->data_image_size);
        lvm_memory_written(mem, m->data_image_at, m->data_image_size);
        if (!mem->image) {              /* the first instance to write it */
            mem->image = m->data_image;
            mem->image_at = m->data_image_at;
            mem->image_len = m->data_image_size;
        }
        for (uint32_t i = 0; i < m->ndatas; i++)
            inst->data_dropped[i] = m->datas[i].mode == SEG_ACTIVE;
        return LVM_OK;
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const decode_data *d = &m->datas[i];
        if (d->mode != SEG_ACTIVE)
            continue;
        lvm_memory *mem = inst->memories[d->memory];
        uint64_t off = eval_const(inst, &d->offset).i32;
        if (off + d->size > mem->size)
            return lvm_diag_set(diag, LVM_ERR_TRAP_MEMORY_OOB, LVM_NO_OFFSET,
                                " (data segment %u)", i);
        if (d->size) {
            memcpy(mem->data + off, d->bytes, d->size);
            lvm_memory_written(mem, off, d->size);
        }
        inst->data_dropped[i] = true;
    }
    return LVM_OK;
}

lvm_err lvm_instantiate_deferred(lvm_store *s, lvm_linker *l, lvm_module *m, lvm_instance **out,
                                 lvm_func **start_out, lvm_diag *diag)
{
    *out = NULL;
    *start_out = NULL;
    bool recycled;
    lvm_instance *inst = alloc_block(m, &recycled);
    if (!inst)
        return lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
    lvm_module_retain(m);
    inst->module = m;
    inst->store = s;
    vm_store_link(s, &inst->link, inst, instance_free);
    lvm_err err;
    if ((err = resolve_imports(inst, l, diag)))
        return err;
    err = create_own_objects(s, inst, recycled, diag);
    if (err)
        return diag && diag->err == err ? err : lvm_diag_set(diag, err, LVM_NO_OFFSET, NULL);
    if ((err = init_elems(inst, diag)) || (err = init_datas(inst, diag)))
        return err;
    *out = inst;
    *start_out = m->start >= 0 ? inst->funcs[m->start] : NULL;
    return LVM_OK;
}

lvm_err lvm_instantiate(lvm_store *s, lvm_linker *l, lvm_module *m, lvm_thread *t,
                        lvm_instance **out, lvm_diag *diag)
{
    lvm_func *start;
    lvm_err err = lvm_instantiate_deferred(s, l, m, out, &start, diag);
    if (err || !start)
        return err;
    if (!t)
        err = lvm_diag_set(diag, LVM_ERR_NOT_IMPLEMENTED, LVM_NO_OFFSET,
                           ": a start function needs a thread");
    else if ((err = lvm_invoke(t, start, NULL, NULL)))
        lvm_diag_set(diag, err, LVM_NO_OFFSET, " (in the start function)");
    if (err)
        *out = NULL;
    return err;
}

/* }====== */
