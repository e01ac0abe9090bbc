/*
 * store.c - stores and the objects they own: memories, tables, globals and
 * host functions; module reference counting.
 *
 * A store is the unit of lifetime (the spec's "store"): every object
 * created in it is freed by lvm_store_free, so objects can point at each
 * other freely (a table holding functions of three instances) without
 * reference counts.  For lvm's processes a store is one process.
 *
 * Limits.  Two bound what a store's objects hold: its own limit
 * (lvm_store_set_memory_limit, lvm's --max-memory) and the total of all
 * stores (mempool.c's count, --max-total-memory).  Both count linear
 * memory by its size and tables by their elements, 8 bytes each: a guest
 * could otherwise hold gigabytes in tables under a one-page memory limit
 * (twelve tables of 2^24 entries are 1.5 GiB).  Against the store's limit
 * the first VM_TABLE_FREE_BYTES (64 KiB, 8192 elements) of its tables are
 * free, so that --max-memory P keeps meaning P pages of linear memory for
 * ordinary programs, whose function tables are a few hundred entries;
 * rejected: counting from the first element, which made a one-page
 * program with a ten-entry table fail under --max-memory 1.  The check
 * is a few additions at creation and growth: a table costs nothing more
 * to use.  Each memory is checked with its own size (plus the tables),
 * and the tables with all the store's memories: for a process, which has
 * one memory, both say "memory plus tables within the limit".
 */
#include "vm.h"
#include "../exec/exec.h"

#include <string.h>

lvm_memory vm_no_memory = { .wlo = VM_UNWRITTEN };

/* {====== stores */

void vm_store_init(lvm_store *s)
{
    *s = (lvm_store){ .memory_limit_pages = LVM_MAX_PAGES };
}

lvm_store *lvm_store_new(void)
{
    lvm_store *s = malloc(sizeof(lvm_store));
    if (s)
        vm_store_init(s);
    return s;
}

void vm_store_link(lvm_store *s, vm_object *node, void *obj, void (*fn)(void *))
{
    node->obj = obj;
    node->free = fn;
    node->next = s->objects;
    s->objects = node;
}

bool vm_store_track(lvm_store *s, void *obj, void (*fn)(void *))
{
    vm_object *o = malloc(sizeof *o);
    if (!o)
        return false;
    vm_store_link(s, o, obj, fn);
    o->heap = true;
    return true;
}

/* The tables' bytes that count against the store's limit. */
static uint64_t counted_tables(uint64_t table_bytes)
{
    return table_bytes > VM_TABLE_FREE_BYTES ? table_bytes - VM_TABLE_FREE_BYTES : 0;
}

bool vm_tables_fit(const lvm_store *s, uint32_t limit_pages, uint64_t bytes)
{
    if (limit_pages >= LVM_MAX_PAGES)
        return true;                    /* no limit: the wasm32 4 GiB only */
    uint64_t limit = (uint64_t)limit_pages * LVM_PAGE_SIZE;
    return counted_tables(s->table_bytes + bytes) + s->memory_bytes <= limit;
}

bool vm_memory_fits(const lvm_store *s, uint32_t limit_pages, uint64_t bytes)
{
    if (limit_pages >= LVM_MAX_PAGES)
        return true;
    uint64_t limit = (uint64_t)limit_pages * LVM_PAGE_SIZE;
    return bytes + counted_tables(s->table_bytes) <= limit;
}

static bool memory_fits(const lvm_memory *m, uint64_t bytes)
{
    return vm_memory_fits(m->store, m->limit_pages, bytes);
}

void lvm_store_free(lvm_store *s)
{
    if (!s)
        return;
    vm_store_fini(s);
    free(s);
}

void vm_store_fini(lvm_store *s)
{
    vm_object *o = s->objects;
    while (o) {
        /* The node may live in what o->free frees: read it first. */
        vm_object *next = o->next;
        bool heap = o->heap;
        o->free(o->obj);
        if (heap)
            free(o);
        o = next;
    }
    s->objects = NULL;
}

/* }====== */

/* {====== modules */

lvm_module *lvm_module_load(const uint8_t *bytes, size_t len, lvm_diag *diag)
{
    lvm_module *m = NULL;
    if (diag) {
        diag->err = LVM_OK;
        diag->offset = LVM_NO_OFFSET;
        diag->message[0] = 0;
    }
    if (decode_module(bytes, len, &m, diag) != LVM_OK)
        return NULL;
    m->refcount = 1;
    /* One lowered-code slot per defined function, filled on first call. */
    if (!m->code) {
        m->code = lvm_xcalloc(m->nfuncs - m->nimported_funcs, sizeof *m->code);
        if (!m->code) {
            decode_module_free(m);
            lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, NULL);
            return NULL;
        }
    }
    return m;
}

bool lvm_module_export_functype(const lvm_module *m, const char *name, lvm_functype *out)
{
    size_t len = strlen(name);
    for (uint32_t i = 0; i < m->nexports; i++) {
        const decode_export *e = &m->exports[i];
        if (e->kind == LVM_EXTERN_FUNC && e->name_len == len && memcmp(e->name, name, len) == 0) {
            *out = m->types[m->funcs[e->index].type];
            return true;
        }
    }
    return false;
}

uint32_t lvm_module_export_count(const lvm_module *m)
{
    return m->nexports;
}

const char *lvm_module_export_name(const lvm_module *m, uint32_t i, size_t *len, uint8_t *kind)
{
    if (i >= m->nexports)
        return NULL;
    *len = m->exports[i].name_len;
    *kind = m->exports[i].kind;
    return m->exports[i].name;
}

void lvm_module_retain(lvm_module *m)
{
    __atomic_add_fetch(&m->refcount, 1, __ATOMIC_RELAXED);
}

void lvm_module_release(lvm_module *m)
{
    if (!m || __atomic_sub_fetch(&m->refcount, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    uint32_t ndefined = m->nfuncs - m->nimported_funcs;
    if (m->code) {
        for (uint32_t i = 0; i < ndefined; i++)
            exec_code_free(m->code[i]);
        free(m->code);
        m->code = NULL;
    }
    vm_module_free_spares(m);
    decode_module_free(m);
}

/* }====== */

/* {====== functions */

bool lvm_functype_equal(const lvm_functype *a, const lvm_functype *b)
{
    return a->nparams == b->nparams && a->nresults == b->nresults &&
           memcmp(a->types, b->types, a->nparams + a->nresults) == 0;
}

const lvm_functype *lvm_func_type(const lvm_func *f) { return f->type; }

static int type_letter(char c)
{
    switch (c) {
    case 'i': return LVM_I32;
    case 'I': return LVM_I64;
    case 'f': return LVM_F32;
    case 'F': return LVM_F64;
    case 'r': return LVM_FUNCREF;
    case 'e': return LVM_EXTERNREF;
    default: return -1;
    }
}

/* A host function with storage for its type. */

lvm_func *lvm_func_new_host(lvm_store *s, const char *type, lvm_host_fn fn, void *data)
{
    vm_host_func *h = lvm_xcalloc(1, sizeof *h);
    if (!h)
        return NULL;
    lvm_func *f = &h->f;
    uint32_t n = 0, np = 0;
    bool results = false;
    for (const char *p = type; *p; p++) {
        if (*p == ':' && !results) {
            results = true;
            np = n;
            continue;
        }
        int t = type_letter(*p);
        if (t < 0 || n == sizeof h->types) {
            free(h);
            return NULL;            /* a bad type string is the embedder's bug */
        }
        h->types[n++] = (uint8_t)t;
    }
    if (!results) {
        free(h);
        return NULL;
    }
    h->type.nparams = np;
    h->type.nresults = n - np;
    h->type.types = h->types;
    f->type = &h->type;
    h->host = fn;
    h->host_data = data;
    if (!vm_store_track(s, h, free)) {
        free(h);
        return NULL;
    }
    return f;
}

/* }====== */

/* {====== memories */

/* The written range as [*lo, *hi); both 0 when nothing was written. */
static void written_range(const lvm_memory *m, uint64_t *lo, uint64_t *hi)
{
    bool none = m->wlo == VM_UNWRITTEN;
    *lo = none ? 0 : m->wlo;
    *hi = none ? 0 : m->wlo + m->wspan + 8;
}

static void memory_free(void *p)
{
    lvm_memory *m = p;
    free(m->packed);
    uint64_t lo, hi;
    written_range(m, &lo, &hi);
    vm_pool_free(m->data, m->cap, lo, hi);
    vm_pool_uncharge(m->charged);
    m->store->memory_bytes -= m->size;
    if (!m->in_block)
        free(m);
}

/* Count in the total what the written range now covers of the initial
 * size and did not before.  Never refused: a store cannot fail, and what
 * it touched is within what the module declared.  Past the limit, grows
 * and new instances are refused instead. */
static void charge_written(lvm_memory *m)
{
    uint64_t lo, hi;
    written_range(m, &lo, &hi);
    lo = lo < m->initial ? lo : m->initial;
    hi = hi < m->initial ? hi : m->initial;
    uint64_t grown = m->size - m->initial, want = grown + (hi - lo);
    if (want > m->charged) {
        vm_pool_charge_anyway(want - m->charged);
        m->charged = want;
    }
}

/* {====== packing (lvm_store_pack)
 *
 * A packed memory is a list of runs, each a header (offset and length,
 * two uint32_t, unaligned) and the run's bytes: the chunks of its written
 * range whose bytes differ from what instantiation made - the data image
 * where it lies, zero elsewhere.  An empty C process that waits in
 * receive differs in a few hundred bytes (its stack top, a libc
 * variable or two: 40 bytes for bench/lunatic's idle child), against
 * 8-12 KiB of pages.  Chunks of PACK_CHUNK bytes: finer finds fewer bytes
 * but more headers.
 * Rejected: copy-on-write pages shared with the module's image (an mmap
 * per process and a fault per page touched: ~2 us each here), and
 * madvise(MADV_DONTNEED) on the pages in place (4.6 us for the call,
 * ~1.9 us per page faulted back, and the block stays taken). */

#define PACK_CHUNK 32

static size_t memory_most(const lvm_memory *m);

static bool nonzero(const uint8_t *p, uint64_t n)
{
    uint64_t acc = 0, w;
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= p[i];
    return acc != 0;
}

/* What instantiation left at [off, off + n): does the block differ? */
static bool chunk_differs(const lvm_memory *m, const uint8_t *d, uint64_t off, uint64_t n)
{
    uint64_t end = off + n, ia = m->image_at, ie = m->image_at + m->image_len;
    if (!m->image || end <= ia || off >= ie)
        return nonzero(d + off, n);
    if (off >= ia && end <= ie)
        return memcmp(d + off, m->image + (off - ia), n) != 0;
    for (uint64_t i = off; i < end; i++) {     /* at an edge of the image */
        uint8_t want = i >= ia && i < ie ? m->image[i - ia] : 0;
        if (d[i] != want)
            return true;
    }
    return false;
}

/* Write the runs of [lo, hi) that differ to out, or with out NULL only
 * count their bytes; returns the bytes. */
static size_t pack_runs(const lvm_memory *m, uint64_t lo, uint64_t hi, uint8_t *out)
{
    const uint8_t *d = m->data;
    size_t len = 0, run = 0;            /* run: where the open run's header is */
    uint64_t run_end = UINT64_MAX;
    for (uint64_t off = lo; off < hi; off += PACK_CHUNK) {
        uint64_t n = hi - off < PACK_CHUNK ? hi - off : PACK_CHUNK;
        if (!chunk_differs(m, d, off, n))
            continue;
        if (run_end != off) {           /* a new run */
            run = len;
            len += 8;
            if (out) {
                uint32_t hdr[2] = { (uint32_t)off, 0 };
                memcpy(out + run, hdr, sizeof hdr);
            }
        }
        if (out) {
            uint32_t rlen;
            memcpy(out + len, d + off, n);
            memcpy(&rlen, out + run + 4, 4);
            rlen += (uint32_t)n;
            memcpy(out + run + 4, &rlen, 4);
        }
        len += n;
        run_end = off + n;
    }
    return len;
}

/* Two passes, counting then copying, rather than one into a scratch
 * buffer of the worst case: the second reads what the first brought into
 * the cache, and no buffer outlives the call. */
static bool memory_pack(lvm_memory *m)
{
    uint64_t lo, hi;
    written_range(m, &lo, &hi);
    if (!m->data || m->packed || m->cap > VM_POOL_CLASS_MAX || hi - lo > LVM_PACK_MAX_SPAN)
        return false;
    size_t len = pack_runs(m, lo, hi, NULL);
    uint8_t *packed = malloc(len ? len : 1);
    if (!packed)
        return false;
    pack_runs(m, lo, hi, packed);
    vm_pool_free(m->data, m->cap, lo, hi);
    m->data = NULL;
    m->cap = 0;
    m->packed = packed;
    m->packed_len = len;
    return true;
}

static bool memory_unpack(lvm_memory *m)
{
    if (!m->packed)
        return true;
    size_t cap;
    uint8_t *d = vm_pool_alloc((size_t)m->size, memory_most(m), &cap);
    if (!d)
        return false;
    if (m->image)
        memcpy(d + m->image_at, m->image, m->image_len);
    for (const uint8_t *p = m->packed, *end = p + m->packed_len; p < end;) {
        uint32_t hdr[2];
        memcpy(hdr, p, sizeof hdr);
        memcpy(d + hdr[0], p + sizeof hdr, hdr[1]);
        p += sizeof hdr + hdr[1];
    }
    free(m->packed);
    m->packed = NULL;
    m->packed_len = 0;
    m->data = d;
    m->cap = cap;
    return true;
}

bool lvm_store_pack(lvm_store *s)
{
    bool any = false;
    for (vm_object *o = s->objects; o; o = o->next)
        if (o->free == memory_free && memory_pack(o->obj))
            any = true;
    return any;
}

bool lvm_store_unpack(lvm_store *s)
{
    for (vm_object *o = s->objects; o; o = o->next)
        if (o->free == memory_free && !memory_unpack(o->obj))
            return false;
    return true;
}

/* }====== */

void lvm_memory_written(lvm_memory *m, uint64_t off, uint64_t len)
{
    /* The range must stay inside the memory: a store inside it skips the
     * bounds check.  Callers check first; clamping here keeps a careless
     * embedder from breaking the sandbox. */
    if (off >= m->size)
        return;
    if (len > m->size - off)
        len = m->size - off;
    if (len == 0)
        return;
    uint64_t end = off + len, lo = off, hi = end;
    if (m->wlo != VM_UNWRITTEN) {
        uint64_t wlo, whi;
        written_range(m, &wlo, &whi);
        if (off >= wlo && end <= whi)
            return;
        /* Step past the write by a quarter of the span: a guest filling
         * memory in one direction then widens O(log n) times. */
        uint64_t step = (whi - wlo) / 4;
        if (off < wlo)
            lo = off > step ? off - step : 0;
        else
            lo = wlo;
        if (end > whi)
            hi = end + step;
        else
            hi = whi;
    }
    lo = lo / VM_WRITE_GRAIN * VM_WRITE_GRAIN;
    hi = (hi + VM_WRITE_GRAIN - 1) / VM_WRITE_GRAIN * VM_WRITE_GRAIN;
    if (hi > m->size)
        hi = m->size;           /* a multiple of the grain: whole pages */
    m->wlo = lo;
    m->wspan = hi - lo - 8;
    if (lo < m->initial)
        charge_written(m);
}

/* The most bytes m may ever hold: its maximum or the store's limit (on a
 * 32-bit host, all there is). */
static size_t memory_most(const lvm_memory *m)
{
    uint32_t pages = m->max_pages < m->limit_pages ? m->max_pages : m->limit_pages;
    uint64_t bytes = (uint64_t)pages * LVM_PAGE_SIZE;
    return bytes > SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

void lvm_store_set_memory_limit(lvm_store *s, uint32_t pages)
{
    s->memory_limit_pages = pages;
}

bool vm_memory_init(lvm_store *s, lvm_memory *m, uint32_t min_pages, uint32_t max_pages,
                    bool has_max)
{
    uint32_t limit = s->memory_limit_pages;
    if (min_pages > LVM_MAX_PAGES || min_pages > limit)
        return false;
    bool in_block = m->in_block;
    *m = (lvm_memory){ .store = s, .in_block = in_block, .limit_pages = limit,
                       .wlo = VM_UNWRITTEN };
    m->max_pages = has_max && max_pages < LVM_MAX_PAGES ? max_pages : LVM_MAX_PAGES;
    uint64_t size = (uint64_t)min_pages * LVM_PAGE_SIZE;
    /* The initial size counts in the total as it is written (see
     * charge_written); a new memory only needs room for one page of it,
     * which is how a spawn is refused when the total is spent. */
    if (!memory_fits(m, size) || (min_pages && !vm_pool_fits(LVM_PAGE_SIZE)))
        return false;
    if (min_pages) {
        m->data = vm_pool_alloc((size_t)size, memory_most(m), &m->cap);
        if (!m->data)
            return false;
    }
    m->pages = min_pages;
    m->size = size;
    m->initial = size;
    s->memory_bytes += size;
    vm_store_link(s, &m->link, m, memory_free);
    return true;
}

lvm_memory *lvm_memory_new(lvm_store *s, uint32_t min_pages, uint32_t max_pages, bool has_max)
{
    lvm_memory *m = lvm_xcalloc(1, sizeof *m);
    if (m && !vm_memory_init(s, m, min_pages, max_pages, has_max)) {
        free(m);
        m = NULL;
    }
    return m;
}

uint8_t *lvm_memory_data(lvm_memory *m)
{
    lvm_memory_written(m, 0, m->size);     /* the caller may write anywhere */
    return m->data;
}

uint8_t *lvm_memory_base(lvm_memory *m) { return m->data; }
uint64_t lvm_memory_size(const lvm_memory *m) { return m->size; }

uint32_t lvm_memory_refused(const lvm_memory *m) { return m->refused_pages; }
uint32_t lvm_memory_limit(const lvm_memory *m) { return m->limit_pages; }
uint32_t lvm_memory_refused_total(const lvm_memory *m) { return m->refused_total_pages; }

int64_t lvm_memory_grow(lvm_memory *m, uint32_t delta)
{
    uint32_t old = m->pages;
    if (delta == 0)
        return old;
    uint64_t pages = (uint64_t)old + delta;
    if (pages > m->max_pages)
        return -1;
    uint64_t size = pages * LVM_PAGE_SIZE;
    if (pages > m->limit_pages || !memory_fits(m, size)) {
        /* The embedder's limit, not the module's maximum: the guest sees
         * the same -1, and the embedder can learn why. */
        if (pages > m->refused_pages)
            m->refused_pages = (uint32_t)pages;
        return -1;
    }
    if (size > SIZE_MAX / 2)
        return -1;
    if (!vm_pool_charge(size - m->size)) {
        if (pages > m->refused_total_pages)
            m->refused_total_pages = (uint32_t)pages;
        return -1;
    }
    /* Room in the block: nothing to do, it is zero past what was written.
     * Else a bigger block (mempool.c): the written part is kept, the rest
     * is zero, and the range stays where it was. */
    if (size > m->cap) {
        uint64_t lo, hi;
        written_range(m, &lo, &hi);
        size_t cap;
        uint8_t *d = vm_pool_grow(m->data, m->cap, (size_t)size, memory_most(m), lo, hi, &cap);
        if (!d) {
            vm_pool_uncharge(size - m->size);
            return -1;              /* out of host memory: grow fails, as allowed */
        }
        m->data = d;
        m->cap = cap;
    }
    m->charged += size - m->size;
    m->store->memory_bytes += size - m->size;
    m->size = size;
    m->pages = (uint32_t)pages;
    return old;
}

/* }====== */

/* {====== tables and globals */

/* The most entries a table may hold: past this, table.grow fails rather
 * than asking the host for gigabytes (the spec allows failure at any size). */
#define TABLE_LIMIT (1u << 24)

static void table_free(void *p)
{
    lvm_table *t = p;
    uint64_t bytes = (uint64_t)t->size * sizeof *t->elems;
    vm_pool_uncharge(bytes);
    t->store->table_bytes -= bytes;
    if (!t->elems_borrowed)
        free(t->elems);
    if (!t->in_block)
        free(t);
}

bool vm_table_init(lvm_store *s, lvm_table *t, lvm_val *elems, uint8_t elemtype, uint32_t min,
                   uint32_t max, bool has_max)
{
    bool borrowed = elems != NULL;
    if (min > TABLE_LIMIT)
        return false;
    uint64_t bytes = (uint64_t)min * sizeof(lvm_val);
    if (!vm_tables_fit(s, s->memory_limit_pages, bytes) || !vm_pool_charge(bytes))
        return false;
    if (!elems && !(elems = lvm_xcalloc(min, sizeof *elems))) {
        vm_pool_uncharge(bytes);
        return false;
    }
    bool in_block = t->in_block;
    *t = (lvm_table){ .elems = elems, .size = min, .max = has_max ? max : UINT32_MAX,
                      .type = elemtype, .in_block = in_block, .elems_borrowed = borrowed,
                      .limit_pages = s->memory_limit_pages, .store = s };
    s->table_bytes += bytes;
    vm_store_link(s, &t->link, t, table_free);
    return true;
}

lvm_table *lvm_table_new(lvm_store *s, uint8_t elemtype, uint32_t min, uint32_t max, bool has_max)
{
    lvm_table *t = lvm_xcalloc(1, sizeof *t);
    if (t && !vm_table_init(s, t, NULL, elemtype, min, max, has_max)) {
        free(t);
        t = NULL;
    }
    return t;
}

int64_t vm_table_grow(lvm_table *t, uint32_t delta, lvm_val init)
{
    uint32_t old = t->size;
    if (delta == 0)
        return old;
    uint64_t size = (uint64_t)old + delta;
    if (size > t->max || size > TABLE_LIMIT)
        return -1;
    uint64_t more = (uint64_t)delta * sizeof(lvm_val);
    if (!vm_tables_fit(t->store, t->limit_pages, more) || !vm_pool_charge(more))
        return -1;
    lvm_val *e = t->elems_borrowed ? malloc((size_t)size * sizeof *e)
                                   : realloc(t->elems, (size_t)size * sizeof *e);
    if (!e) {
        vm_pool_uncharge(more);
        return -1;
    }
    if (t->elems_borrowed) {            /* the block's part stays unused */
        memcpy(e, t->elems, (size_t)old * sizeof *e);
        t->elems_borrowed = false;
    }
    for (uint64_t i = old; i < size; i++)
        e[i] = init;
    t->store->table_bytes += more;
    t->elems = e;
    t->size = (uint32_t)size;
    return old;
}

lvm_global *lvm_global_new(lvm_store *s, uint8_t valtype, bool mutable_, lvm_val init)
{
    lvm_global *g = lvm_xcalloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->type = valtype;
    g->mutable_ = mutable_;
    g->val = init;
    if (!vm_store_track(s, g, free)) {
        free(g);
        return NULL;
    }
    return g;
}

lvm_val lvm_global_get(const lvm_global *g) { return g->val; }
uint8_t lvm_global_type(const lvm_global *g) { return g->type; }

/* }====== */
