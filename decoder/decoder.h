/*
 * decoder.h - the decoded module and the decoder's interface.
 *
 * decode_module() turns the bytes of a binary module into a `struct
 * lvm_module`: every section parsed, every function body validated with the
 * spec's algorithm (operand and control stacks).  The module is immutable
 * afterwards except for `code`, the per-function lowered code that exec/
 * fills in lazily (an atomic pointer per function), so any number of
 * instances on any number of threads can share one module.
 *
 * What the module keeps: the code section's bytes (function bodies are
 * lowered from them on first call), the data segments' bytes, the names from
 * the `name` section.  Other custom sections (DWARF, often most of a 40 MB
 * file) are skipped without being read.
 */
#ifndef LVM_DECODER_H
#define LVM_DECODER_H

#include "../vm/base.h"

/* {====== opcodes */

/* How an instruction's immediates are encoded (column 4 of opcodes.def). */
enum decode_imm {
    IMM_NONE,
    IMM_BLOCK,          /* blocktype: 0x40 | valtype | s33 type index */
    IMM_LABEL,          /* u32 label depth */
    IMM_BR_TABLE,       /* vec(u32) labels, u32 default */
    IMM_FUNC,           /* u32 function index */
    IMM_CALL_INDIRECT,  /* u32 type index, u32 table index */
    IMM_LOCAL,          /* u32 */
    IMM_GLOBAL,         /* u32 */
    IMM_TABLE,          /* u32 */
    IMM_MEMARG,         /* u32 align (log2), u32 offset */
    IMM_MEMIDX,         /* one 0x00 byte */
    IMM_I32,            /* s32 */
    IMM_I64,            /* s64 */
    IMM_F32,            /* 4 bytes little endian */
    IMM_F64,            /* 8 bytes little endian */
    IMM_SELECT_T,       /* vec(valtype), length 1 in Wasm 2.0 */
    IMM_REFTYPE,        /* one reftype byte */
    IMM_MEM_INIT,       /* u32 data index, 0x00 */
    IMM_DATA,           /* u32 data index */
    IMM_MEM_COPY,       /* 0x00 0x00 */
    IMM_TABLE_INIT,     /* u32 elem index, u32 table index */
    IMM_ELEM,           /* u32 elem index */
    IMM_TABLE_COPY,     /* u32 dst table, u32 src table */
};

/* enum decode_op: OP_UNREACHABLE, OP_I32_ADD, ... in opcodes.def order. */
enum decode_op {
#define OP(name, prefix, code, imm, p1, p2, r, msize, text) OP_##name,
#include "opcodes.def"
#undef OP
    OP_COUNT
};

/* Static facts about each op, generated from opcodes.def. */
typedef struct decode_opinfo {
    const char *text;
    uint8_t prefix, code, imm;
    uint8_t p1, p2, result;     /* value type bytes, 0 = none, 0xff = special */
    uint8_t msize;              /* access size of loads/stores, else 0 */
} decode_opinfo;

extern const decode_opinfo decode_ops[OP_COUNT];
#define DECODE_SPECIAL 0xff

/* Look up the op for a one-byte opcode or a 0xFC-prefixed sub-opcode.
 * Returns OP_COUNT for an opcode that does not exist. */
uint16_t decode_op_lookup(uint8_t prefix, uint32_t code);

/* }====== */

/* {====== the module */

/* A constant expression of Wasm 2.0: exactly one instruction then `end`.
 * op is OP_I32_CONST, OP_I64_CONST, OP_F32_CONST, OP_F64_CONST, OP_REF_NULL,
 * OP_REF_FUNC or OP_GLOBAL_GET; `value` holds the constant's bits, the
 * function index, the global index, or the reftype (ref.null). */
typedef struct decode_const {
    uint16_t op;
    uint64_t value;
} decode_const;

typedef struct decode_limits {
    uint32_t min, max;
    bool has_max;
} decode_limits;

typedef struct decode_import {
    char *module, *name;        /* NUL-terminated copies (valid UTF-8; a
                                   name may also contain NUL bytes, hence
                                   the lengths) */
    uint32_t module_len, name_len;
    uint8_t kind;               /* LVM_EXTERN_* */
    uint32_t index;             /* index in the kind's index space */
} decode_import;

typedef struct decode_export {
    char *name;                 /* NUL-terminated copy; see name_len */
    uint32_t name_len;
    uint8_t kind;
    uint32_t index;
} decode_export;

typedef struct decode_func {
    uint32_t type;              /* index into module->types */
    /* for defined functions only (index >= nimported_funcs): */
    uint32_t nlocals;           /* params + declared locals */
    uint8_t *local_types;       /* nlocals entries, params first */
    uint32_t body_offset;       /* first byte of the instruction sequence
                                   (after the locals), in module->code_bytes */
    uint32_t body_end;          /* one past the final `end` */
} decode_func;

typedef struct decode_table {
    uint8_t elemtype;           /* LVM_FUNCREF or LVM_EXTERNREF */
    decode_limits limits;
} decode_table;

typedef struct decode_global {
    uint8_t type;
    bool mutable_;
    decode_const init;
} decode_global;

enum { SEG_ACTIVE, SEG_PASSIVE, SEG_DECLARATIVE };

typedef struct decode_elem {
    uint8_t mode;               /* SEG_* */
    uint8_t elemtype;
    uint32_t table;             /* active only */
    decode_const offset;        /* active only */
    uint32_t count;
    decode_const *items;        /* count entries: ref.func i / ref.null t /
                                   global.get g */
} decode_elem;

typedef struct decode_data {
    uint8_t mode;               /* SEG_ACTIVE or SEG_PASSIVE */
    uint32_t memory;
    decode_const offset;
    uint32_t size;
    uint8_t *bytes;             /* owned copy */
} decode_data;

struct lvm_module {
    int refcount;               /* atomic; see lvm_module_retain */

    lvm_functype *types;        /* types[i].types points into type_pool */
    uint32_t ntypes;
    uint8_t *type_pool;

    decode_import *imports;
    uint32_t nimports;

    /* Index spaces: imported entries first, then defined ones. */
    decode_func *funcs;
    uint32_t nfuncs, nimported_funcs;
    decode_table *tables;
    uint32_t ntables, nimported_tables;
    decode_limits *memories;
    uint32_t nmemories, nimported_memories;
    decode_global *globals;
    uint32_t nglobals, nimported_globals;

    decode_export *exports;
    uint32_t nexports;

    int64_t start;              /* function index, or -1 */

    decode_elem *elems;
    uint32_t nelems;
    decode_data *datas;
    uint32_t ndatas;
    bool has_datacount;
    /* The active data segments laid out as they land in a fresh memory 0,
     * bytes [data_image_at, data_image_at + data_image_size), or NULL when
     * they cannot be (see build_data_image): instantiating then copies
     * one block instead of evaluating and copying each segment. */
    uint8_t *data_image;
    uint32_t data_image_at, data_image_size;

    /* The code section's payload, copied; function bodies index into it. */
    uint8_t *code_bytes;
    uint32_t code_size;
    size_t code_file_offset;    /* file offset of code_bytes[0], for messages */

    /* Function names from the `name` section (NULL where absent). */
    char **func_names;          /* nfuncs entries, or NULL if the module
                                   has no function names (no `name`
                                   section, or one without subsection 1) */

    /* The function that runs the program's constructors, or UINT32_MAX
     * (see lvm_module_ctors): found once, here, not at every spawn. */
    uint32_t ctors;

    /* Lowered code, one slot per defined function, filled by exec/ on first
     * call (atomic compare-and-swap; the loser frees its copy). */
    void **code;

    /* Run-time state of vm/ like `code`: the blocks of ended instances,
     * kept for the next ones (vm/instance.c, alloc_block), linked through
     * their first word; spare_lock is a spin lock (atomic test-and-set)
     * held for a push or a pop. */
    void *spare;
    uint32_t nspare;
    bool spare_lock;
};

/* Decode and validate.  On success *out owns everything (free with
 * decode_module_free).  On failure *out is NULL and diag says what and
 * where: the byte offset in the file and, for a function body, the function
 * index. */
lvm_err decode_module(const uint8_t *bytes, size_t len, struct lvm_module **out, lvm_diag *diag);
void decode_module_free(struct lvm_module *m);

/* Reading helpers shared with exec/lower.c, which walks validated bodies
 * again.  They never fail on validated code; on raw input they report
 * through the reader's error. */
typedef struct decode_reader {
    const uint8_t *p, *end;
    const uint8_t *base;        /* for offsets in messages */
    size_t base_offset;         /* file offset of base[0] */
} decode_reader;

uint32_t decode_read_u32_unchecked(decode_reader *r);
int32_t decode_read_s32_unchecked(decode_reader *r);
int64_t decode_read_s64_unchecked(decode_reader *r);
int64_t decode_read_s33_unchecked(decode_reader *r);

/* Walking a validated body instruction by instruction: read one opcode
 * (with its 0xFC sub-opcode) as an enum decode_op, then step over the
 * immediates of its kind (decode_ops[op].imm). */
uint16_t decode_read_op(decode_reader *r);
void decode_skip_immediates(decode_reader *r, uint8_t imm);

/* The function called by the first `call` instruction in the body of
 * defined function `func`, or UINT32_MAX (none, or func is imported). */
uint32_t decode_first_call(const struct lvm_module *m, uint32_t func);

/* The name of function `idx` for backtraces: the name section's, or NULL. */
const char *decode_func_name(const struct lvm_module *m, uint32_t idx);

/* }====== */

#endif
