/*
 * decode.c - the binary format: header, sections, LEB128, names, and the
 * module-level half of validation (indices, limits, exports, start, segment
 * modes).  Function bodies and constant expressions are validate.c's.
 *
 * decode_module reads the file once, front to back (spec 5.5, "Modules"):
 *
 *   magic, version, then sections in the order
 *   type import func table memory global export start elem datacount code data
 *   with custom sections anywhere; each non-custom section at most once.
 *
 * A malformed module is reported at the first bad byte; an invalid one with
 * the error the reference interpreter's validator would find first (see the
 * error model in internal.h).  When the whole file has been read, the checks
 * that need all of it run: function and code counts agree, the data count
 * matches, bulk-memory instructions had a data count section.
 *
 * The module keeps no pointer into the input: names, the code section's
 * payload and data segments are copied.  Custom sections are skipped by
 * their size without being read (real modules carry megabytes of DWARF),
 * except `name`, which is parsed after everything else, leniently: a broken
 * name section costs the names, never the module.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Our own limit on locals per function (params included), as in V8: the
 * spec allows 2^32-1, but every local costs a byte here and a slot per call
 * in exec/, so an absurd count must not turn a small file into gigabytes. */
#define MAX_FUNC_LOCALS 50000u
/* And on locals summed over all functions of a module (bytes allocated). */
#define MAX_MODULE_LOCALS (1u << 26)

/* {====== errors */

lvm_err decode_fail(decode_rd *r, lvm_err err, const uint8_t *at, const char *fmt, ...)
{
    char detail[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return lvm_diag_set(r->diag, err, rd_off(r, at), "%s", detail);
}

lvm_err decode_eof(decode_rd *r)
{
    return decode_fail(r, LVM_ERR_UNEXPECTED_END_SECTION, r->end, "%s", "");
}

void decode_invalid(decode_ctx *c, int rank, lvm_err err, size_t offset, const char *fmt, ...)
{
    if (rank >= c->pending_rank)
        return;
    char detail[sizeof c->pending.message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    c->pending_rank = rank;
    lvm_diag_set(&c->pending, err, offset, "%s", detail);
}

void decode_invalid_diag(decode_ctx *c, int rank, const lvm_diag *d)
{
    if (d->err != LVM_OK && rank < c->pending_rank) {
        c->pending_rank = rank;
        c->pending = *d;
    }
}

/* }====== */

/* {====== refusals (see internal.h) */

static lvm_err read_name(decode_rd *r, const uint8_t **bytes_out, uint32_t *len_out);

static const char *const proposal_names[] = {
    [PROPOSAL_SIMD] = "SIMD",
    [PROPOSAL_RELAXED_SIMD] = "relaxed SIMD",
    [PROPOSAL_THREADS] = "threads",
    [PROPOSAL_EXCEPTIONS] = "exception handling",
    [PROPOSAL_TAIL_CALL] = "tail call",
    [PROPOSAL_MEMORY64] = "memory64",
    [PROPOSAL_MULTI_MEMORY] = "multi-memory",
    [PROPOSAL_CUSTOM_PAGE_SIZES] = "custom page sizes",
    [PROPOSAL_EXTENDED_CONST] = "extended constant expressions",
    [PROPOSAL_FUNCTION_REFERENCES] = "typed function references",
    [PROPOSAL_GC] = "GC",
    [PROPOSAL_COMPONENT_MODEL] = "component model",
};

/* The name of function `func` in the file's name section, found by walking
 * the sections by their sizes.  Only for messages, so lenient: any doubt
 * (a broken section, no names) gives false.  The module's own names are
 * read only after the whole file decoded, which a refused one never
 * does, hence this separate look-up. */
static bool find_func_name(const uint8_t *file, const uint8_t *end, uint32_t func,
                           const uint8_t **name_out, uint32_t *len_out)
{
    decode_rd r = { file + 8, end, file, NULL, 0 };
    while (r.p < r.end) {
        uint8_t id;
        uint32_t size, len;
        const uint8_t *payload, *name;
        if (rd_byte(&r, &id) || rd_len(&r, &size) || rd_bytes(&r, size, &payload))
            return false;
        decode_rd sec = { payload, payload + size, file, NULL, 0 };
        if (id != 0 || rd_len(&sec, &len) || rd_bytes(&sec, len, &name) ||
            len != 4 || memcmp(name, "name", 4) != 0)
            continue;
        while (sec.p < sec.end) {
            uint8_t sub_id;
            uint32_t sub_size, n;
            const uint8_t *sub;
            if (rd_byte(&sec, &sub_id) || rd_len(&sec, &sub_size) || rd_bytes(&sec, sub_size, &sub))
                return false;
            if (sub_id != 1)
                continue;
            decode_rd map = { sub, sub + sub_size, file, NULL, 0 };
            if (rd_u32(&map, &n))
                return false;
            for (uint32_t i = 0; i < n; i++) {
                uint32_t f;
                if (rd_u32(&map, &f) || read_name(&map, name_out, len_out))
                    return false;
                if (f == func)
                    return true;
            }
        }
    }
    return false;
}

/* The detail of a refusal: ": the P proposal (WHAT) is not supported by
 * lvm[, in function N ["NAME"]]". */
LVM_PRINTF(3, 0)
static void refusal_detail(const decode_rd *r, enum decode_proposal p, const char *what,
                           va_list ap, char *buf, size_t size)
{
    char thing[96];
    vsnprintf(thing, sizeof thing, what, ap);
    int n = snprintf(buf, size, ": the %s proposal (%s) is not supported by lvm", proposal_names[p], thing);
    if (n < 0 || (size_t)n >= size || r->in_func == 0)
        return;
    uint32_t func = r->in_func - 1;
    const uint8_t *name;
    uint32_t len;
    if (find_func_name(r->file, r->end, func, &name, &len))
        snprintf(buf + n, size - (size_t)n, ", in function %u \"%.*s\"", func,
                 (int)(len > 80 ? 80 : len), (const char *)name);
    else
        snprintf(buf + n, size - (size_t)n, ", in function %u", func);
}

lvm_err decode_refuse(decode_rd *r, lvm_err err, const uint8_t *at, enum decode_proposal p,
                      const char *what, ...)
{
    char detail[sizeof r->diag->message];
    va_list ap;
    va_start(ap, what);
    refusal_detail(r, p, what, ap, detail, sizeof detail);
    va_end(ap);
    return lvm_diag_set(r->diag, err, rd_off(r, at), "%s", detail);
}

void decode_refuse_invalid(decode_ctx *c, int rank, lvm_err err, const uint8_t *at,
                           enum decode_proposal p, const char *what, ...)
{
    char detail[sizeof c->pending.message];
    va_list ap;
    va_start(ap, what);
    refusal_detail(&c->r, p, what, ap, detail, sizeof detail);
    va_end(ap);
    decode_invalid(c, rank, err, rd_off(&c->r, at), "%s", detail);
}

void decode_refuse_diag(decode_rd *r, lvm_diag *d, lvm_err err, const uint8_t *at,
                        enum decode_proposal p, const char *what, ...)
{
    char detail[sizeof d->message];
    va_list ap;
    va_start(ap, what);
    refusal_detail(r, p, what, ap, detail, sizeof detail);
    va_end(ap);
    lvm_diag_set(d, err, rd_off(r, at), "%s", detail);
}

/* What a value or reference type byte that lvm does not know belongs to:
 * true and *p_out / *what_out for a type of a later proposal (each a
 * one-byte s7 number, so none has its top bit set).  v128 is here until
 * lvm implements SIMD: then it becomes a value type (lvm_is_valtype) and
 * its row goes. */
static bool decode_type_proposal(uint8_t t, enum decode_proposal *p_out, const char **what_out)
{
    static const struct { uint8_t type; uint8_t proposal; const char *what; } types[] = {
        { 0x7b, PROPOSAL_SIMD, "v128" },
        { 0x64, PROPOSAL_FUNCTION_REFERENCES, "(ref ht) type" },
        { 0x63, PROPOSAL_FUNCTION_REFERENCES, "(ref null ht) type" },
        { 0x69, PROPOSAL_EXCEPTIONS, "exnref" },
        { 0x74, PROPOSAL_EXCEPTIONS, "nullexnref" },
        { 0x6e, PROPOSAL_GC, "anyref" },
        { 0x6d, PROPOSAL_GC, "eqref" },
        { 0x6c, PROPOSAL_GC, "i31ref" },
        { 0x6b, PROPOSAL_GC, "structref" },
        { 0x6a, PROPOSAL_GC, "arrayref" },
        { 0x71, PROPOSAL_GC, "nullref" },
        { 0x72, PROPOSAL_GC, "nullexternref" },
        { 0x73, PROPOSAL_GC, "nullfuncref" },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (types[i].type == t) {
            *p_out = (enum decode_proposal)types[i].proposal;
            *what_out = types[i].what;
            return true;
        }
    }
    return false;
}

/* }====== */

/* {====== LEB128 (spec 5.2.2) */

/* An N-bit integer takes at most ceil(N/7) bytes.  In the last byte the bits
 * beyond N must be zero (unsigned) or copies of the sign bit (signed):
 * "integer too large".  A last byte that still has its continuation bit set
 * is "integer representation too long".  The checks come in the reference
 * interpreter's order: the value bits of a byte first, then its
 * continuation. */
lvm_err decode_uleb(decode_rd *r, unsigned bits, uint64_t *value_out)
{
    uint64_t result = 0;
    *value_out = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (shift >= bits)
            return decode_fail(r, LVM_ERR_INT_TOO_LONG, r->p, " (u%u)", bits);
        uint8_t b;
        TRY(rd_byte(r, &b));
        unsigned left = bits - shift;
        if (left < 7 && (b & 0x7f) >= (1u << left))
            return decode_fail(r, LVM_ERR_INT_TOO_LARGE, r->p - 1, " (u%u)", bits);
        result |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    *value_out = result;
    return LVM_OK;
}

lvm_err decode_sleb(decode_rd *r, unsigned bits, int64_t *value_out)
{
    uint64_t result = 0;
    *value_out = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (shift >= bits)
            return decode_fail(r, LVM_ERR_INT_TOO_LONG, r->p, " (s%u)", bits);
        uint8_t b;
        TRY(rd_byte(r, &b));
        unsigned left = bits - shift;
        if (left < 7) {
            /* The unused bits and the sign bit: all clear or all set. */
            uint8_t mask = (uint8_t)((0xffu << (left - 1)) & 0x7f);
            if ((b & mask) != 0 && (b & mask) != mask)
                return decode_fail(r, LVM_ERR_INT_TOO_LARGE, r->p - 1, " (s%u)", bits);
        }
        result |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (shift + 7 < 64 && (b & 0x40))
                result |= ~(uint64_t)0 << (shift + 7);
            break;
        }
    }
    *value_out = (int64_t)result;
    return LVM_OK;
}

/* }====== */

/* {====== types and names */

/* Types are s7 numbers (-0x01 is i32...), so a byte with its top bit set
 * starts a longer encoding, which no 7-bit number may have. */
lvm_err decode_valtype(decode_rd *r, uint8_t *t_out)
{
    const uint8_t *at = r->p;
    TRY(rd_byte(r, t_out));
    if (LVM_UNLIKELY(*t_out & 0x80))
        return decode_fail(r, LVM_ERR_INT_TOO_LONG, at + 1, " (value type)");
    if (LVM_UNLIKELY(!lvm_is_valtype(*t_out))) {
        enum decode_proposal p;
        const char *what;
        if (decode_type_proposal(*t_out, &p, &what))
            return decode_refuse(r, LVM_ERR_VALTYPE, at, p, "%s", what);
        return decode_fail(r, LVM_ERR_VALTYPE, at, " 0x%02x", *t_out);
    }
    return LVM_OK;
}

lvm_err decode_reftype(decode_rd *r, uint8_t *t_out)
{
    const uint8_t *at = r->p;
    TRY(rd_byte(r, t_out));
    if (LVM_UNLIKELY(*t_out & 0x80))
        return decode_fail(r, LVM_ERR_INT_TOO_LONG, at + 1, " (reference type)");
    if (LVM_UNLIKELY(!lvm_is_reftype(*t_out))) {
        enum decode_proposal p;
        const char *what;
        /* v128 is a type, but never a reference type. */
        if (*t_out != LVM_V128 && decode_type_proposal(*t_out, &p, &what))
            return decode_refuse(r, LVM_ERR_REFTYPE, at, p, "%s", what);
        return decode_fail(r, LVM_ERR_REFTYPE, at, " 0x%02x", *t_out);
    }
    return LVM_OK;
}

/* A name (spec 5.2.4): a length, then that many bytes of UTF-8. */
static lvm_err read_name(decode_rd *r, const uint8_t **bytes_out, uint32_t *len_out)
{
    const uint8_t *at = r->p;
    TRY(rd_len(r, len_out));
    TRY(rd_bytes(r, *len_out, bytes_out));
    if (!lvm_utf8_valid(*bytes_out, *len_out))
        return decode_fail(r, LVM_ERR_UTF8, at, "%s", "");
    return LVM_OK;
}

static lvm_err copy_name(decode_rd *r, char **name_out, const uint8_t **bytes_out, uint32_t *len_out)
{
    const uint8_t *bytes;
    uint32_t len;
    TRY(read_name(r, &bytes, &len));
    char *s = malloc((size_t)len + 1);
    if (!s)
        return decode_fail(r, LVM_ERR_NO_MEMORY, bytes, "%s", "");
    memcpy(s, bytes, len);
    s[len] = '\0';
    *name_out = s;
    if (bytes_out) {
        *bytes_out = bytes;
        *len_out = len;
    }
    return LVM_OK;
}

/* }====== */

/* {====== helpers for sections */

#define ALLOC(c, ptr, n) \
    do { if (!((ptr) = lvm_xcalloc((n), sizeof *(ptr)))) \
             return decode_fail(&(c)->r, LVM_ERR_NO_MEMORY, (c)->r.p, "%s", ""); } while (0)

/* Make room for n more entries after `have` in an index space. */
#define GROW(c, ptr, have, n) \
    do { void *p_ = (have) + (size_t)(n) <= UINT32_MAX ? \
             realloc((ptr), ((size_t)(have) + (n) + 1) * sizeof *(ptr)) : NULL; \
         if (!p_) return decode_fail(&(c)->r, LVM_ERR_NO_MEMORY, (c)->r.p, "%s", ""); \
         (ptr) = p_; memset((ptr) + (have), 0, ((size_t)(n) + 1) * sizeof *(ptr)); } while (0)

/* limits (spec 5.3.7): a flags byte (bit 0: has max), min, optional max. */
static lvm_err read_limits(decode_rd *r, decode_limits *l, bool memory)
{
    /* The flags are read like a 1-bit LEB128 number, hence the errors for
     * anything but 0 and 1: "integer too large" / "... too long".  Later
     * proposals use the other bits of a one-byte flags value: bit 1 a
     * shared memory, bit 2 a 64-bit index type, bit 3 a page size. */
    const uint8_t *at = r->p;
    uint64_t flags;
    lvm_err e = decode_uleb(r, 1, &flags);
    if (e == LVM_ERR_INT_TOO_LARGE && *at < 0x80) {
        if (memory && (*at & 0x08))
            return decode_refuse(r, e, at, PROPOSAL_CUSTOM_PAGE_SIZES, "memory with a page size");
        if (*at & 0x04)
            return decode_refuse(r, e, at, PROPOSAL_MEMORY64, "64-bit %s", memory ? "memory" : "table");
        if (memory && (*at & 0x02))
            return decode_refuse(r, e, at, PROPOSAL_THREADS, "shared memory");
    }
    TRY(e);
    TRY(rd_u32(r, &l->min));
    l->has_max = flags & 1;
    l->max = 0;
    if (l->has_max)
        TRY(rd_u32(r, &l->max));
    return LVM_OK;
}

static void check_memory_limits(decode_ctx *c, int rank, const decode_limits *l, const uint8_t *at)
{
    size_t off = rd_off(&c->r, at);
    if (l->min > LVM_MAX_PAGES || (l->has_max && l->max > LVM_MAX_PAGES))
        decode_invalid(c, rank, LVM_ERR_MEMORY_SIZE, off, "%s", "");
    else if (l->has_max && l->min > l->max)
        decode_invalid(c, rank, LVM_ERR_LIMITS_MIN_MAX, off, " (memory %u > %u)", l->min, l->max);
}

static void check_table_limits(decode_ctx *c, int rank, const decode_limits *l, const uint8_t *at)
{
    if (l->has_max && l->min > l->max)
        decode_invalid(c, rank, LVM_ERR_LIMITS_MIN_MAX, rd_off(&c->r, at), " (table %u > %u)", l->min, l->max);
}

static lvm_err read_table_type(decode_ctx *c, int rank, decode_table *t)
{
    const uint8_t *at = c->r.p;
    /* 0x40 0x00 starts a table with an initializer expression. */
    if (at + 1 < c->r.end && at[0] == 0x40 && at[1] == 0x00)
        return decode_refuse(&c->r, LVM_ERR_REFTYPE, at, PROPOSAL_FUNCTION_REFERENCES,
                             "table with an initializer");
    TRY(decode_reftype(&c->r, &t->elemtype));
    TRY(read_limits(&c->r, &t->limits, false));
    check_table_limits(c, rank, &t->limits, at);
    return LVM_OK;
}

static lvm_err read_global_type(decode_rd *r, decode_global *g)
{
    TRY(decode_valtype(r, &g->type));
    const uint8_t *at = r->p;
    uint8_t mut;
    TRY(rd_byte(r, &mut));
    if (mut > 1)
        return decode_fail(r, LVM_ERR_MUTABILITY, at, " 0x%02x", mut);
    g->mutable_ = mut;
    return LVM_OK;
}

/* }====== */

/* {====== sections 1-8: types, imports, functions, tables, memories,
 * globals, exports, start */

static lvm_err type_section(decode_ctx *c)
{
    decode_rd *r = &c->r;
    struct lvm_module *m = c->m;
    uint32_t n, cap;
    TRY(rd_count(r, &n, &cap));
    ALLOC(c, m->types, cap);
    m->ntypes = cap;
    /* All types share one pool, which grows by doubling. */
    size_t pool_cap = 0, used = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (i == cap)
            return decode_eof(r);
        const uint8_t *at = r->p;
        uint8_t form;
        TRY(rd_byte(r, &form));
        /* The form is the s7 number -0x20: a set top bit makes it longer. */
        if (form & 0x80)
            return decode_fail(r, LVM_ERR_INT_TOO_LONG, at + 1, " (function type form)");
        if (form != 0x60) {
            static const char *const gc_forms[] = {
                [0x4e] = "rec type group", [0x4f] = "final sub type", [0x50] = "sub type",
                [0x5e] = "array type", [0x5f] = "struct type",
            };
            if (form < sizeof gc_forms / sizeof gc_forms[0] && gc_forms[form])
                return decode_refuse(r, LVM_ERR_MALFORMED_FUNCTYPE, at, PROPOSAL_GC, "%s", gc_forms[form]);
            return decode_fail(r, LVM_ERR_MALFORMED_FUNCTYPE, at, " (form 0x%02x)", form);
        }
        uint32_t counts[2];
        for (int k = 0; k < 2; k++) {
            TRY(rd_u32(r, &counts[k]));
            for (uint32_t j = 0; j < counts[k]; j++) {
                if (used == pool_cap) {
                    pool_cap = pool_cap ? pool_cap * 2 : 64;
                    uint8_t *p = realloc(m->type_pool, pool_cap);
                    if (!p)
                        return decode_fail(r, LVM_ERR_NO_MEMORY, at, "%s", "");
                    m->type_pool = p;
                }
                TRY(decode_valtype(r, &m->type_pool[used++]));
            }
        }
        m->types[i].nparams = counts[0];
        m->types[i].nresults = counts[1];
        /* Until the pool stops moving, `types` holds an offset. */
        m->types[i].types = (const uint8_t *)(uintptr_t)(used - counts[0] - counts[1]);
    }
    if (!m->type_pool && !(m->type_pool = malloc(1)))
        return decode_fail(r, LVM_ERR_NO_MEMORY, r->p, "%s", "");
    for (uint32_t i = 0; i < m->ntypes; i++)
        m->types[i].types = m->type_pool + (uintptr_t)m->types[i].types;
    return LVM_OK;
}

static lvm_err import_section(decode_ctx *c)
{
    decode_rd *r = &c->r;
    struct lvm_module *m = c->m;
    uint32_t n, cap;
    TRY(rd_count(r, &n, &cap));
    ALLOC(c, m->imports, cap);
    m->nimports = cap;
    /* cap bounds every kind's count; the defining sections grow them. */
    ALLOC(c, m->funcs, cap);
    ALLOC(c, m->tables, cap);
    ALLOC(c, m->memories, cap);
    ALLOC(c, m->globals, cap);
    for (uint32_t i = 0; i < n; i++) {
        if (i == cap)
            return decode_eof(r);
        decode_import *im = &m->imports[i];
        const uint8_t *unused;
        TRY(copy_name(r, &im->module, &unused, &im->module_len));
        TRY(copy_name(r, &im->name, &unused, &im->name_len));
        const uint8_t *at = r->p;
        TRY(rd_byte(r, &im->kind));
        switch (im->kind) {
        case LVM_EXTERN_FUNC: {
            uint32_t type;
            at = r->p;
            TRY(rd_u32(r, &type));
            if (type >= m->ntypes)
                decode_invalid(c, RANK_IMPORTS, LVM_ERR_UNKNOWN_TYPE, rd_off(r, at), " %u (import %u)", type, i);
            im->index = m->nfuncs;
            m->funcs[m->nfuncs++].type = type;
            break;
        }
        case LVM_EXTERN_TABLE:
            im->index = m->ntables;
            TRY(read_table_type(c, RANK_IMPORTS, &m->tables[m->ntables++]));
            break;
        case LVM_EXTERN_MEMORY:
            at = r->p;
            im->index = m->nmemories;
            TRY(read_limits(r, &m->memories[m->nmemories], true));
            check_memory_limits(c, RANK_IMPORTS, &m->memories[m->nmemories++], at);
            if (m->nmemories == 2)
                c->second_memory_at = rd_off(r, at);
            break;
        case LVM_EXTERN_GLOBAL:
            im->index = m->nglobals;
            TRY(read_global_type(r, &m->globals[m->nglobals++]));
            break;
        case 0x04:
            return decode_refuse(r, LVM_ERR_IMPORT_KIND, at, PROPOSAL_EXCEPTIONS, "tag import");
        default:
            return decode_fail(r, LVM_ERR_IMPORT_KIND, at, " 0x%02x", im->kind);
        }
    }
    m->nimported_funcs = m->nfuncs;
    m->nimported_tables = m->ntables;
    m->nimported_memories = m->nmemories;
    m->nimported_globals = m->nglobals;
    return LVM_OK;
}

static lvm_err function_section(decode_ctx *c)
{
    decode_rd *r = &c->r;
    struct lvm_module *m = c->m;
    uint32_t n, cap;
    TRY(rd_count(r, &n, &cap));
    GROW(c, m->funcs, m->nfuncs, cap);
    for (uint32_t i = 0; i < n; i++) {
        if (i == cap)
            return decode_eof(r);
        const uint8_t *at = r->p;
        uint32_t type;
        TRY(rd_u32(r, &type));
        if (type >= m->ntypes)
            decode_invalid(c, RANK_FUNC_TYPES, LVM_ERR_UNKNOWN_TYPE, rd_off(r, at),
                           " %u (function %u)", type, m->nfuncs);
        m->funcs[m->nfuncs++].type = type;
    }
    return LVM_OK;
}

static lvm_err table_section(decode_ctx *c)
{
    decode_rd *r = &c->r;
    struct lvm_module *m = c->m;
    uint32_t n, cap;
    TRY(rd_count(r, &n, &cap));
    GROW(c, m->tables, m->ntables, cap);
    for (uint32_t i = 0; i < n; i++) {
        if (i == cap)
            return decode_eof(r);
        TRY(read_table_type(c, RANK_TABLES, &m->tables[m->ntables++]));
    }
    return LVM_OK;
}

static lvm_err memory_section(decode_ctx *c)
{
    decode_rd *r = &c->r;
    struct lvm_module *m = c->m;
    uint32_t n, cap;
    TRY(rd_count(r, &n, &cap));
    GROW(c, m->memories, m->nmemories, cap);
    for (uint32_t i = 0; i < n; i++) {
        if (i == cap)
            return decode_eof(r);
        const uint8_t *at = r->p;
        TRY(read_limits(r, &m->memories[m->nmemories], true));
        check_memory_limits(c, RANK_MEMORIES, &m->memories[m->nmemories++], at);
        if (m->nmemories == 2)
            c->second_memory_at = rd_off(r, at);
    }
    return LVM_OK;
}

static lvm_err global_section(decode_ctx *c)
{
    decode_rd *r = &c->r;
    struct lvm_module *m = c->m;
    uint32_t n, cap;
    TRY(rd_count(r, &n, &cap));
    GROW(c, m->globals, m->nglobals, cap);
    for (uint32_t i = 0; i < n; i++) {
        if (i == cap)
            return decode_eof(r);
        decode_global *g = &m->globals[m->nglobals];
        lvm_diag err;
        TRY(read_global_type(r, g));
        TRY(valid_const_expr(c, g->type, &g->init, &err));
        decode_invalid_diag(c, RANK_GLOBALS, &err);
        m->nglobals++;
    }
    return LVM_OK;
}

/* An export's name as it appears in the file: names may contain U+0000, so
 * duplicates are found on the bytes, not on the NUL-terminated copies. */
typedef struct export_key {
    const uint8_t *bytes;
    uint32_t len;
    uint32_t index;
} export_key;

static int compare_keys(const void *a, const void *b)
{
    const export_key *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    int d = memcmp(x->bytes, y->bytes, x->len);
    if (d)
        return d;
    return x->index < y->index ? -1 : x->index > y->index;
}

static lvm_err export_section(decode_ctx *c)
{
    decode_rd *r = &c->r;
    struct lvm_module *m = c->m;
    uint32_t n, cap;
    TRY(rd_count(r, &n, &cap));
    ALLOC(c, m->exports, cap);
    m->nexports = cap;
    export_key *keys = lvm_xcalloc(cap, sizeof *keys);
    size_t *offsets = lvm_xcalloc(cap, sizeof *offsets);
    lvm_err e = LVM_OK;
    if (!keys || !offsets) {
        e = decode_fail(r, LVM_ERR_NO_MEMORY, r->p, "%s", "");
        goto out;
    }
    for (uint32_t i = 0; i < n && !e; i++) {
        if (i == cap) {
            e = decode_eof(r);
            break;
        }
        decode_export *ex = &m->exports[i];
        offsets[i] = rd_off(r, r->p);
        keys[i].index = i;
        if ((e = copy_name(r, &ex->name, &keys[i].bytes, &keys[i].len)) == LVM_OK)
            ex->name_len = keys[i].len;
        if (e)
            break;
        const uint8_t *at = r->p;
        if ((e = rd_byte(r, &ex->kind)) || (e = rd_u32(r, &ex->index)))
            break;
        static const char *const kinds[] = { "function", "table", "memory", "global" };
        static const lvm_err unknown[] = { LVM_ERR_UNKNOWN_FUNC, LVM_ERR_UNKNOWN_TABLE,
                                           LVM_ERR_UNKNOWN_MEMORY, LVM_ERR_UNKNOWN_GLOBAL };
        const uint32_t counts[] = { m->nfuncs, m->ntables, m->nmemories, m->nglobals };
        if (ex->kind == 0x04) {
            e = decode_refuse(r, LVM_ERR_EXPORT_KIND, at, PROPOSAL_EXCEPTIONS, "tag export");
            break;
        }
        if (ex->kind > LVM_EXTERN_GLOBAL) {
            e = decode_fail(r, LVM_ERR_EXPORT_KIND, at, " 0x%02x", ex->kind);
            break;
        }
        if (ex->index >= counts[ex->kind])
            decode_invalid(c, RANK_EXPORTS, unknown[ex->kind], rd_off(r, at), " %u (exported %s)",
                           ex->index, kinds[ex->kind]);
        else if (ex->kind == LVM_EXTERN_FUNC)
            refs_add(c, ex->index);
    }
    if (!e && n > 1) {
        qsort(keys, n, sizeof *keys, compare_keys);
        for (uint32_t i = 1; i < n; i++) {
            if (keys[i].len == keys[i - 1].len && !memcmp(keys[i].bytes, keys[i - 1].bytes, keys[i].len)) {
                decode_invalid(c, RANK_EXPORTS, LVM_ERR_DUP_EXPORT, offsets[keys[i].index],
                               " \"%.*s\"", (int)(keys[i].len > 64 ? 64 : keys[i].len),
                               (const char *)keys[i].bytes);
                break;
            }
        }
    }
out:
    free(keys);
    free(offsets);
    return e;
}

static lvm_err start_section(decode_ctx *c)
{
    decode_rd *r = &c->r;
    struct lvm_module *m = c->m;
    const uint8_t *at = r->p;
    uint32_t f;
    TRY(rd_u32(r, &f));
    m->start = f;
    if (f >= m->nfuncs) {
        decode_invalid(c, RANK_START, LVM_ERR_UNKNOWN_FUNC, rd_off(r, at), " %u (start)", f);
    } else if (m->funcs[f].type < m->ntypes) {
        const lvm_functype *ft = &m->types[m->funcs[f].type];
        if (ft->nparams || ft->nresults)
            decode_invalid(c, RANK_START, LVM_ERR_START_FUNC, rd_off(r, at),
                           " %u must take and return nothing", f);
    }
    return LVM_OK;
}

/* }====== */

/* {====== sections 9-12: elements, data count, code, data */

/* Element segments (spec 5.5.12): the flags' bit 0 says passive or
 * declarative (else active), bit 1 an explicit table index (active) or
 * declarative, bit 2 expressions rather than function indices. */
static lvm_err elem_segment(decode_ctx *c, decode_elem *el)
{
    decode_rd *r = &c->r;
    struct lvm_module *m = c->m;
    const uint8_t *at = r->p;
    uint32_t flags;
    TRY(rd_u32(r, &flags));
    if (flags > 7)
        return decode_fail(r, LVM_ERR_MALFORMED_ELEM, at, " %u", flags);
    bool active = !(flags & 1), exprs = flags & 4;
    el->mode = active ? SEG_ACTIVE : (flags & 2) ? SEG_DECLARATIVE : SEG_PASSIVE;
    el->elemtype = LVM_FUNCREF;
    lvm_diag offset_err = { .err = LVM_OK }, items_err = { .err = LVM_OK };
    const uint8_t *table_at = r->p;
    if (active) {
        if (flags & 2)
            TRY(rd_u32(r, &el->table));
        TRY(valid_const_expr(c, LVM_I32, &el->offset, &offset_err));
    }
    if (flags & 3) {            /* an explicit element kind or type */
        at = r->p;
        if (exprs) {
            TRY(decode_reftype(r, &el->elemtype));
        } else {
            uint8_t kind;
            TRY(rd_byte(r, &kind));
            if (kind != 0x00)
                return decode_fail(r, LVM_ERR_ELEM_KIND, at, " 0x%02x", kind);
        }
    }
    uint32_t n, cap;
    TRY(rd_count(r, &n, &cap));
    ALLOC(c, el->items, cap);
    el->count = cap;
    for (uint32_t i = 0; i < n; i++) {
        if (i == cap)
            return decode_eof(r);
        if (exprs) {
            lvm_diag err;
            TRY(valid_const_expr(c, el->elemtype, &el->items[i], &err));
            if (!items_err.err)
                items_err = err;
        } else {
            uint32_t f;
            at = r->p;
            TRY(rd_u32(r, &f));
            el->items[i].op = OP_REF_FUNC;
            el->items[i].value = f;
            refs_add(c, f);
            if (f >= m->nfuncs && !items_err.err)
                lvm_diag_set(&items_err, LVM_ERR_UNKNOWN_FUNC, rd_off(r, at), " %u (element %u)", f, i);
        }
    }
    /* The reference's order: the items, the table, its type, the offset. */
    decode_invalid_diag(c, RANK_ELEMS, &items_err);
    if (active) {
        if (el->table >= m->ntables)
            decode_invalid(c, RANK_ELEMS, LVM_ERR_UNKNOWN_TABLE, rd_off(r, table_at), " %u", el->table);
        else if (m->tables[el->table].elemtype != el->elemtype)
            decode_invalid(c, RANK_ELEMS, LVM_ERR_TYPE_MISMATCH, rd_off(r, table_at),
                           ": element segment does not fit table %u", el->table);
        decode_invalid_diag(c, RANK_ELEMS, &offset_err);
    }
    return LVM_OK;
}

static lvm_err elem_section(decode_ctx *c)
{
    decode_rd *r = &c->r;
    struct lvm_module *m = c->m;
    uint32_t n, cap;
    TRY(rd_count(r, &n, &cap));
    ALLOC(c, m->elems, cap);
    m->nelems = cap;
    for (uint32_t i = 0; i < n; i++) {
        if (i == cap)
            return decode_eof(r);
        TRY(elem_segment(c, &m->elems[i]));
    }
    return LVM_OK;
}

static lvm_err datacount_section(decode_ctx *c)
{
    c->m->has_datacount = true;
    return rd_u32(&c->r, &c->datacount);
}

/* The locals of one body: runs of (count, type).  Returns the total in
 * *total_out and leaves r after them; the caller reads them again to fill
 * local_types once it knows the total is sane. */
static lvm_err read_locals(decode_ctx *c, uint32_t nparams, uint64_t *total_out)
{
    decode_rd *r = &c->r;
    const uint8_t *at = r->p;
    uint32_t runs;
    *total_out = 0;
    TRY(rd_u32(r, &runs));
    uint64_t total = 0;
    for (uint32_t i = 0; i < runs; i++) {
        uint32_t count;
        uint8_t t;
        TRY(rd_u32(r, &count));
        TRY(decode_valtype(r, &t));
        total += count;
    }
    if (total > UINT32_MAX)
        return decode_fail(r, LVM_ERR_TOO_MANY_LOCALS, at, " (%llu)", (unsigned long long)total);
    if (total + nparams > MAX_FUNC_LOCALS)
        return decode_fail(r, LVM_ERR_TOO_MANY_LOCALS, at, " (%llu, lvm's limit is %u)",
                           (unsigned long long)(total + nparams), MAX_FUNC_LOCALS);
    *total_out = total;
    return LVM_OK;
}

static lvm_err fill_locals(decode_ctx *c, decode_func *fn, const uint8_t *decls, uint64_t declared)
{
    const lvm_functype *ft = &c->m->types[fn->type];
    fn->nlocals = ft->nparams + (uint32_t)declared;
    fn->local_types = malloc(fn->nlocals ? fn->nlocals : 1);
    if (!fn->local_types)
        return decode_fail(&c->r, LVM_ERR_NO_MEMORY, decls, "%s", "");
    memcpy(fn->local_types, ft->types, ft->nparams);
    decode_reader rd = { decls, c->r.end, decls, 0 };
    uint32_t runs = decode_read_u32_unchecked(&rd), k = ft->nparams;
    for (uint32_t i = 0; i < runs; i++) {
        uint32_t count = decode_read_u32_unchecked(&rd);
        uint8_t t = *rd.p++;
        memset(fn->local_types + k, t, count);
        k += count;
    }
    return LVM_OK;
}

static lvm_err code_section(decode_ctx *c, const uint8_t *payload, uint32_t size, bool *counted_out)
{
    decode_rd *r = &c->r;
    struct lvm_module *m = c->m;
    uint32_t n;
    TRY(rd_u32(r, &n));
    uint32_t ndefined = m->nfuncs - m->nimported_funcs;
    /* A count mismatch is reported when the whole module has been read (it
     * is malformed, but later malformed bytes come first); meanwhile the
     * bodies are only decoded. */
    bool check = n == ndefined;
    *counted_out = check;
    uint64_t module_locals = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t body_size;
        TRY(rd_len(r, &body_size));
        const uint8_t *body = r->p, *decls = r->p;
        uint32_t fidx = m->nimported_funcs + i;
        bool typed = check && m->funcs[fidx].type < m->ntypes;
        uint32_t nparams = typed ? m->types[m->funcs[fidx].type].nparams : 0;
        uint64_t declared;
        r->in_func = fidx + 1;
        TRY(read_locals(c, nparams, &declared));
        module_locals += declared + nparams;
        if (module_locals > MAX_MODULE_LOCALS)
            return decode_fail(r, LVM_ERR_TOO_MANY_LOCALS, decls, " (more than %u in the module)",
                               MAX_MODULE_LOCALS);
        if (typed) {
            decode_func *fn = &m->funcs[fidx];
            TRY(fill_locals(c, fn, decls, declared));
            fn->body_offset = (uint32_t)(r->p - payload);
            fn->body_end = (uint32_t)(body + body_size - payload);
        }
        TRY(valid_body(c, fidx, typed));
        if (r->p != body + body_size)
            return decode_fail(r, LVM_ERR_SECTION_SIZE, body, " (function %u: body of %u bytes, read %zu)",
                               fidx, body_size, (size_t)(r->p - body));
        r->in_func = 0;
    }
    m->code_bytes = malloc(size ? size : 1);
    if (!m->code_bytes)
        return decode_fail(r, LVM_ERR_NO_MEMORY, payload, "%s", "");
    memcpy(m->code_bytes, payload, size);
    m->code_size = size;
    m->code_file_offset = rd_off(r, payload);
    return LVM_OK;
}

/* Data segments (spec 5.5.14): 0 active in memory 0, 1 passive, 2 active
 * with an explicit memory index. */
static lvm_err data_section(decode_ctx *c)
{
    decode_rd *r = &c->r;
    struct lvm_module *m = c->m;
    uint32_t n, cap;
    TRY(rd_count(r, &n, &cap));
    ALLOC(c, m->datas, cap);
    m->ndatas = cap;
    for (uint32_t i = 0; i < n; i++) {
        if (i == cap)
            return decode_eof(r);
        decode_data *d = &m->datas[i];
        const uint8_t *at = r->p;
        uint32_t flags;
        TRY(rd_u32(r, &flags));
        if (flags > 2)
            return decode_fail(r, LVM_ERR_MALFORMED_DATA, at, " %u", flags);
        d->mode = flags == 1 ? SEG_PASSIVE : SEG_ACTIVE;
        if (d->mode == SEG_ACTIVE) {
            lvm_diag err;
            const uint8_t *mem_at = r->p;
            if (flags == 2)
                TRY(rd_u32(r, &d->memory));
            TRY(valid_const_expr(c, LVM_I32, &d->offset, &err));
            if (d->memory >= m->nmemories)
                decode_invalid(c, RANK_DATAS, LVM_ERR_UNKNOWN_MEMORY, rd_off(r, mem_at), " %u", d->memory);
            decode_invalid_diag(c, RANK_DATAS, &err);
        }
        const uint8_t *bytes;
        TRY(rd_u32(r, &d->size));
        TRY(rd_bytes(r, d->size, &bytes));
        d->bytes = malloc(d->size ? d->size : 1);
        if (!d->bytes)
            return decode_fail(r, LVM_ERR_NO_MEMORY, bytes, "%s", "");
        memcpy(d->bytes, bytes, d->size);
    }
    return LVM_OK;
}

/* }====== */

/* {====== the name section */

/* Subsection 1 of the `name` custom section (spec 7.4.3) names functions.
 * Read with the ordinary reader, but any error just drops all the names.
 * A section without that subsection (only local names, say) leaves
 * func_names NULL: "no function names" is what lvm_module_ctors asks. */
static void name_section(struct lvm_module *m, const uint8_t *p, const uint8_t *end)
{
    decode_rd r = { p, end, p, NULL, 0 };
    char **names = lvm_xcalloc(m->nfuncs, sizeof *names);
    bool any = false;
    if (!names)
        return;
    while (r.p < r.end) {
        uint8_t id;
        uint32_t size;
        const uint8_t *sub;
        if (rd_byte(&r, &id) || rd_len(&r, &size) || rd_bytes(&r, size, &sub))
            goto fail;
        if (id != 1)
            continue;
        any = true;
        decode_rd s = { sub, sub + size, r.file, NULL, 0 };
        uint32_t n;
        if (rd_len(&s, &n))
            goto fail;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t f;
            char *name;
            if (rd_u32(&s, &f) || copy_name(&s, &name, NULL, NULL))
                goto fail;
            if (f < m->nfuncs) {
                free(names[f]);
                names[f] = name;
            } else {
                free(name);
            }
        }
    }
    if (any) {
        m->func_names = names;
        return;
    }
fail:
    for (uint32_t i = 0; i < m->nfuncs; i++)
        free(names[i]);
    free(names);
}

/* __wasm_call_ctors, by name or, without function names, as the first
 * call of the exported _start (the crt1 wrapper calls it before main).
 * A module whose _start is not that wrapper may yield some other
 * () -> () function there: the price of having no names, which is why
 * a module with names but no __wasm_call_ctors gets none. */
/* A C or Rust module has dozens of data segments, often a few bytes each,
 * each with an i32.const offset: the image saves evaluating and copying
 * them one by one on every instantiation (a spawn, for lunatic).  Made
 * only when it is exactly equivalent: memory 0 is the module's own (so
 * fresh and zero at instantiation, gaps included), every active segment
 * has a constant offset and fits in the initial size (else instantiation
 * must trap at that segment, which the segment loop does).  And only when
 * it is not much larger than the segments, so that data at 0 and at 1 GiB
 * does not make a 1 GiB image. */
static void build_data_image(struct lvm_module *m)
{
    if (m->nmemories == 0 || m->nimported_memories > 0)
        return;
    uint64_t limit = (uint64_t)m->memories[0].min * LVM_PAGE_SIZE;
    uint64_t lo = UINT64_MAX, hi = 0, bytes = 0;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const decode_data *d = &m->datas[i];
        if (d->mode != SEG_ACTIVE)
            continue;
        if (d->memory != 0 || d->offset.op != OP_I32_CONST)
            return;
        uint64_t off = (uint32_t)d->offset.value;
        if (off + d->size > limit)
            return;
        if (d->size == 0)
            continue;
        lo = off < lo ? off : lo;
        hi = off + d->size > hi ? off + d->size : hi;
        bytes += d->size;
    }
    if (bytes == 0 || hi - lo > 2 * bytes + 4096)
        return;
    uint8_t *image = lvm_xcalloc(1, (size_t)(hi - lo));
    if (!image)
        return;                 /* no image: the segment loop still works */
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const decode_data *d = &m->datas[i];
        if (d->mode == SEG_ACTIVE && d->size)
            memcpy(image + ((uint32_t)d->offset.value - lo), d->bytes, d->size);
    }
    m->data_image = image;
    m->data_image_at = (uint32_t)lo;
    m->data_image_size = (uint32_t)(hi - lo);
}

static uint32_t find_ctors(const struct lvm_module *m)
{
    uint32_t f = UINT32_MAX;
    if (m->func_names) {
        for (uint32_t i = 0; i < m->nfuncs && f == UINT32_MAX; i++)
            if (m->func_names[i] && strcmp(m->func_names[i], "__wasm_call_ctors") == 0)
                f = i;
    } else {
        for (uint32_t i = 0; i < m->nexports; i++) {
            const decode_export *e = &m->exports[i];
            if (e->kind == LVM_EXTERN_FUNC && e->name_len == 6 && memcmp(e->name, "_start", 6) == 0)
                f = decode_first_call(m, e->index);
        }
    }
    if (f == UINT32_MAX || f < m->nimported_funcs)
        return UINT32_MAX;
    const lvm_functype *t = &m->types[m->funcs[f].type];
    return t->nparams == 0 && t->nresults == 0 ? f : UINT32_MAX;
}

/* }====== */

/* {====== the module */

/* Section ids in the order the binary format requires (datacount, id 12,
 * sits between elem and code); order[id] is the position, custom is 0. */
static const uint8_t section_order[13] = {
    [1] = 1, [2] = 2, [3] = 3, [4] = 4, [5] = 5, [6] = 6, [7] = 7, [8] = 8,
    [9] = 9, [12] = 10, [10] = 11, [11] = 12,
};

static lvm_err read_sections(decode_ctx *c, const uint8_t **names_at, const uint8_t **names_end)
{
    decode_rd *r = &c->r;
    struct lvm_module *m = c->m;
    unsigned last = 0;
    bool have_code = false, code_counted = false;
    while (r->p < r->end) {
        const uint8_t *id_at = r->p;
        uint8_t id = *r->p++;
        if (id == 13)
            return decode_refuse(r, LVM_ERR_SECTION_ID, id_at, PROPOSAL_EXCEPTIONS, "tag section");
        if (id > 12)
            return decode_fail(r, LVM_ERR_SECTION_ID, id_at, " %u", id);
        uint32_t size;
        TRY(rd_len(r, &size));
        const uint8_t *start = r->p;
        if (id == 0) {
            const uint8_t *name;
            uint32_t len;
            TRY(read_name(r, &name, &len));
            if (r->p > start + size)
                return decode_eof(r);
            if (len == 4 && !memcmp(name, "name", 4)) {
                *names_at = r->p;
                *names_end = start + size;
            }
            r->p = start + size;
            continue;
        }
        if (section_order[id] <= last)
            return decode_fail(r, LVM_ERR_JUNK_AFTER_LAST, id_at, " (section %u out of order or duplicate)", id);
        last = section_order[id];
        /* After the function section the function count is final, and
         * later sections may declare function references. */
        if (last > 3 && !c->refs) {
            c->refs = lvm_xcalloc((m->nfuncs + 7) / 8 + 1, 1);
            if (!c->refs)
                return decode_fail(r, LVM_ERR_NO_MEMORY, id_at, "%s", "");
        }
        switch (id) {
        case 1: TRY(type_section(c)); break;
        case 2: TRY(import_section(c)); break;
        case 3: TRY(function_section(c)); break;
        case 4: TRY(table_section(c)); break;
        case 5: TRY(memory_section(c)); break;
        case 6: TRY(global_section(c)); break;
        case 7: TRY(export_section(c)); break;
        case 8: TRY(start_section(c)); break;
        case 9: TRY(elem_section(c)); break;
        case 10:
            have_code = true;
            TRY(code_section(c, start, size, &code_counted));
            break;
        case 11: TRY(data_section(c)); break;
        case 12: TRY(datacount_section(c)); break;
        }
        if (r->p != start + size)
            return decode_fail(r, LVM_ERR_SECTION_SIZE, start, " (section %u: %u bytes, read %zu)",
                               id, size, (size_t)(r->p - start));
    }
    /* The checks that need the whole module, in the reference's order. */
    const uint8_t *end = r->end;
    if (have_code ? !code_counted : m->nfuncs != m->nimported_funcs)
        return decode_fail(r, LVM_ERR_FUNC_CODE_MISMATCH, end, "%s", "");
    if (m->has_datacount && c->datacount != m->ndatas)
        return decode_fail(r, LVM_ERR_DATA_COUNT_MISMATCH, end, " (%u and %u)", c->datacount, m->ndatas);
    /* Without data segments a data index is merely unknown (an invalid
     * module, reported as such) rather than a missing data count. */
    if (!m->has_datacount && c->uses_data_index && m->ndatas > 0)
        return decode_fail(r, LVM_ERR_DATA_COUNT_REQUIRED, end, "%s", "");
    if (m->nmemories > 1)
        decode_refuse_invalid(c, RANK_MEMORY_COUNT, LVM_ERR_MULTIPLE_MEMORIES,
                              r->file + c->second_memory_at, PROPOSAL_MULTI_MEMORY,
                              "%u memories", m->nmemories);
    return LVM_OK;
}

lvm_err decode_module(const uint8_t *bytes, size_t len, struct lvm_module **out, lvm_diag *diag)
{
    *out = NULL;
    decode_rd hdr = { bytes, bytes + len, bytes, diag, 0 };
    if (len < 4)
        return decode_fail(&hdr, LVM_ERR_UNEXPECTED_END, bytes + len, " (no magic header)");
    if (memcmp(bytes, "\0asm", 4) != 0)
        return decode_fail(&hdr, LVM_ERR_MAGIC, bytes, "%s", "");
    if (len < 8)
        return decode_fail(&hdr, LVM_ERR_UNEXPECTED_END, bytes + len, " (no version)");
    /* A component (the component model) has the same magic, then a
     * 16-bit version and the 16-bit layer 1, where a core module has the
     * 32-bit version 1. */
    if (memcmp(bytes + 4, "\1\0\0\0", 4) != 0 && bytes[6] == 1 && bytes[7] == 0)
        return decode_refuse(&hdr, LVM_ERR_VERSION, bytes + 4, PROPOSAL_COMPONENT_MODEL,
                             "a component, not a core module");
    if (memcmp(bytes + 4, "\1\0\0\0", 4) != 0)
        return decode_fail(&hdr, LVM_ERR_VERSION, bytes + 4, "%s", "");

    struct lvm_module *m = lvm_xcalloc(1, sizeof *m);
    if (!m)
        return lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, "%s", "");
    m->refcount = 1;
    m->start = -1;
    decode_ctx c = { .m = m, .r = { bytes + 8, bytes + len, bytes, diag, 0 }, .pending_rank = RANK_NONE };
    const uint8_t *names_at = NULL, *names_end = NULL;
    lvm_err e = read_sections(&c, &names_at, &names_end);
    if (e == LVM_OK && c.pending_rank != RANK_NONE) {
        e = c.pending.err;
        if (diag)
            *diag = c.pending;
    }
    uint32_t ndefined = m->nfuncs - m->nimported_funcs;
    if (e == LVM_OK && !(m->code = lvm_xcalloc(ndefined, sizeof *m->code)))
        e = lvm_diag_set(diag, LVM_ERR_NO_MEMORY, LVM_NO_OFFSET, "%s", "");
    valid_free(&c.st);
    free(c.refs);
    if (e != LVM_OK) {
        decode_module_free(m);
        return e;
    }
    if (names_at)
        name_section(m, names_at, names_end);
    m->ctors = find_ctors(m);
    build_data_image(m);
    *out = m;
    return LVM_OK;
}

void decode_module_free(struct lvm_module *m)
{
    if (!m)
        return;
    free(m->types);
    free(m->type_pool);
    for (uint32_t i = 0; i < m->nimports; i++) {
        free(m->imports[i].module);
        free(m->imports[i].name);
    }
    free(m->imports);
    if (m->funcs)
        for (uint32_t i = m->nimported_funcs; i < m->nfuncs; i++)
            free(m->funcs[i].local_types);
    free(m->funcs);
    free(m->tables);
    free(m->memories);
    free(m->globals);
    for (uint32_t i = 0; i < m->nexports; i++)
        free(m->exports[i].name);
    free(m->exports);
    for (uint32_t i = 0; i < m->nelems; i++)
        free(m->elems[i].items);
    free(m->elems);
    for (uint32_t i = 0; i < m->ndatas; i++)
        free(m->datas[i].bytes);
    free(m->datas);
    free(m->data_image);
    free(m->code_bytes);
    if (m->func_names)
        for (uint32_t i = 0; i < m->nfuncs; i++)
            free(m->func_names[i]);
    free(m->func_names);
    /* The lowered code (m->code[i]) belongs to exec/, which frees it before
     * calling here; only the slot array is ours. */
    free(m->code);
    free(m);
}

const char *decode_func_name(const struct lvm_module *m, uint32_t idx)
{
    if (!m->func_names || idx >= m->nfuncs)
        return NULL;
    return m->func_names[idx];
}

/* }====== */

/* {====== walking validated bodies */

/* Shared by exec/lower.c, which lowers every body, and by module queries
 * such as decode_first_call.  Only for validated code: the immediates are
 * trusted and the readers never fail (validate.c has the checking twin). */

uint16_t decode_read_op(decode_reader *r)
{
    uint8_t b = *r->p++;
    if (b == 0xfc)
        return decode_op_lookup(0xfc, decode_read_u32_unchecked(r));
    return decode_op_lookup(0, b);
}

void decode_skip_immediates(decode_reader *r, uint8_t imm)
{
    switch (imm) {
    case IMM_NONE:
        break;
    case IMM_BLOCK:
        if (*r->p == 0x40 || lvm_is_valtype(*r->p) || *r->p == LVM_V128)
            r->p++;
        else
            (void)decode_read_s33_unchecked(r);
        break;
    case IMM_BR_TABLE: {
        uint32_t n = decode_read_u32_unchecked(r);
        for (uint32_t i = 0; i <= n; i++)
            (void)decode_read_u32_unchecked(r);
        break;
    }
    case IMM_CALL_INDIRECT: case IMM_MEMARG: case IMM_TABLE_INIT: case IMM_TABLE_COPY:
        (void)decode_read_u32_unchecked(r);
        (void)decode_read_u32_unchecked(r);
        break;
    case IMM_LABEL: case IMM_FUNC: case IMM_LOCAL: case IMM_GLOBAL: case IMM_TABLE:
    case IMM_DATA: case IMM_ELEM: case IMM_I32:
        (void)decode_read_u32_unchecked(r);
        break;
    case IMM_I64:
        (void)decode_read_s64_unchecked(r);
        break;
    case IMM_MEMIDX: case IMM_REFTYPE:
        r->p++;
        break;
    case IMM_MEM_INIT:
        (void)decode_read_u32_unchecked(r);
        r->p++;
        break;
    case IMM_MEM_COPY:
        r->p += 2;
        break;
    case IMM_F32:
        r->p += 4;
        break;
    case IMM_F64:
        r->p += 8;
        break;
    case IMM_SELECT_T: {
        uint32_t n = decode_read_u32_unchecked(r);
        r->p += n;
        break;
    }
    }
}

uint32_t decode_first_call(const struct lvm_module *m, uint32_t func)
{
    if (func < m->nimported_funcs || func >= m->nfuncs)
        return UINT32_MAX;
    const decode_func *f = &m->funcs[func];
    decode_reader r = { m->code_bytes + f->body_offset, m->code_bytes + f->body_end,
                        m->code_bytes, m->code_file_offset };
    while (r.p < r.end) {
        uint16_t op = decode_read_op(&r);
        if (op == OP_CALL)
            return decode_read_u32_unchecked(&r);
        decode_skip_immediates(&r, decode_ops[op].imm);
    }
    return UINT32_MAX;
}

/* }====== */
