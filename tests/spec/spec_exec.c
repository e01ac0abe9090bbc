/*
 * spec_exec.c - executes the commands of one converted .wast file.
 *
 * Runs in the child process the driver (run_spec.c) forks per file, so a
 * crash here costs one file, not the run.  Everything goes through the
 * public embedding API, vm/lvm.h, exactly as an embedder would use it:
 *
 *   module      lvm_module_load + lvm_instantiate in the file's one store,
 *               imports resolved by the file's linker
 *   register    lvm_linker_define_instance(linker, as, instance)
 *   action      lvm_invoke of an export, or lvm_global_get
 *   assert_*    the same calls, then a check of results or of the error
 *
 * The "spectest" host module every file may import (print functions, four
 * globals, a table, a memory) is defined in the linker before the first
 * command; see define_spectest().
 *
 * Value encoding (wast2json): every number is a decimal string of its bit
 * pattern, unsigned, floats included, so comparisons are exact by bits.
 * NaN results may be expected as "nan:canonical" or "nan:arithmetic"
 * (spec section 4.3.3).  References: "null", or for externref a number N
 * standing for `ref.extern N`, which the runner passes as the host value
 * N + 1 so that 0 remains the null reference (lvm.h: externref 0 is null).
 * A funcref expected without a value means "any non-null funcref".
 *
 * Ownership: instances live in the store; the runner keeps every module it
 * loaded in `mods` and releases them after lvm_store_free, so it never
 * depends on whether an instance holds a reference to its module.
 */
#include "spec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvm.h"

/* Room for a failure reason: one line of the -v report. */
#define WHY_SIZE 320

/* {====== the runner's state for one file */

typedef struct named_instance {
    char *name;                 /* "$M1" as the .wast spells it */
    lvm_instance *inst;         /* NULL: that module failed to load */
} named_instance;

typedef struct runner {
    const spec_file_opts *opts;
    bool class_only;            /* this command: see skip.txt "class-only" */
    lvm_store *store;
    lvm_linker *linker;
    lvm_thread *thread;
    bool have_last;             /* a module command has run ... */
    lvm_instance *last;         /* ... and this is its instance (or NULL) */
    named_instance *names;
    size_t nnames, capnames;
    lvm_module **mods;          /* released after the store is freed */
    size_t nmods, capmods;
} runner;

static bool keep_module(runner *r, lvm_module *m)
{
    if (r->nmods == r->capmods) {
        size_t cap = r->capmods ? r->capmods * 2 : 16;
        lvm_module **mods = realloc(r->mods, cap * sizeof *mods);
        if (!mods)
            return false;
        r->mods = mods;
        r->capmods = cap;
    }
    r->mods[r->nmods++] = m;
    return true;
}

/* Bind `name` to `inst`; a later module of the same name hides an earlier
 * one, as in the .wast scoping rules. */
static bool bind_name(runner *r, const char *name, lvm_instance *inst)
{
    if (r->nnames == r->capnames) {
        size_t cap = r->capnames ? r->capnames * 2 : 8;
        named_instance *names = realloc(r->names, cap * sizeof *names);
        if (!names)
            return false;
        r->names = names;
        r->capnames = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return false;
    r->names[r->nnames].name = copy;
    r->names[r->nnames].inst = inst;
    r->nnames++;
    return true;
}

/* The instance an action or register refers to: `name` if given, else the
 * last module.  Returns false with a reason if there is none. */
static bool find_instance(runner *r, const char *name, lvm_instance **inst_out, char *why)
{
    if (!name) {
        if (!r->have_last)
            return snprintf(why, WHY_SIZE, "no module defined yet"), false;
        if (!r->last)
            return snprintf(why, WHY_SIZE, "the last module failed to load or instantiate"), false;
        *inst_out = r->last;
        return true;
    }
    for (size_t i = r->nnames; i-- > 0;) {
        if (strcmp(r->names[i].name, name) == 0) {
            if (!r->names[i].inst)
                return snprintf(why, WHY_SIZE, "module %s failed to load or instantiate", name), false;
            *inst_out = r->names[i].inst;
            return true;
        }
    }
    return snprintf(why, WHY_SIZE, "unknown module %s", name), false;
}

/* }====== */

/* {====== the spectest host module */

/* Set once per child from the options; host functions have no other way
 * to see them than their `data` pointer, and a flag is simpler. */
static bool print_enabled;

static lvm_err host_print(lvm_hostcall *call, lvm_val *args_results)
{
    const char *type = call->data;     /* the registration type, "if:" */
    if (!print_enabled)
        return LVM_OK;
    fputs("spectest print:", stdout);
    for (size_t i = 0; type[i] && type[i] != ':'; i++) {
        lvm_val v = args_results[i];
        switch (type[i]) {
        case 'i': printf(" %" PRId32 ":i32", (int32_t)v.i32); break;
        case 'I': printf(" %" PRId64 ":i64", (int64_t)v.i64); break;
        case 'f': printf(" %g:f32", (double)v.f32); break;
        case 'F': printf(" %g:f64", v.f64); break;
        }
    }
    putchar('\n');
    return LVM_OK;
}

static bool define(runner *r, const char *name, uint8_t kind, void *obj)
{
    if (!obj)
        return false;
    lvm_extern ext;
    memset(&ext, 0, sizeof ext);
    ext.kind = kind;
    switch (kind) {
    case LVM_EXTERN_FUNC:   ext.u.func = obj; break;
    case LVM_EXTERN_TABLE:  ext.u.table = obj; break;
    case LVM_EXTERN_MEMORY: ext.u.memory = obj; break;
    default:            ext.u.global = obj; break;
    }
    return lvm_linker_define(r->linker, "spectest", name, ext) == LVM_OK;
}

/* The host module of the reference interpreter's test harness
 * (spec/interpreter/host/spectest.ml): what imports.wast, linking.wast
 * and others import from "spectest". */
static bool define_spectest(runner *r)
{
    static const struct { const char *name, *type; } prints[] = {
        { "print", ":" },          { "print_i32", "i:" },
        { "print_i64", "I:" },     { "print_f32", "f:" },
        { "print_f64", "F:" },     { "print_i32_f32", "if:" },
        { "print_f64_f64", "FF:" },
    };
    for (size_t i = 0; i < sizeof prints / sizeof prints[0]; i++) {
        /* The type string doubles as the data pointer, for host_print. */
        lvm_func *f = lvm_func_new_host(r->store, prints[i].type, host_print, (void *)prints[i].type);
        if (!define(r, prints[i].name, LVM_EXTERN_FUNC, f))
            return false;
    }
    lvm_val v;
    v.bits = 0; v.i32 = 666;
    if (!define(r, "global_i32", LVM_EXTERN_GLOBAL, lvm_global_new(r->store, LVM_I32, false, v)))
        return false;
    v.bits = 0; v.i64 = 666;
    if (!define(r, "global_i64", LVM_EXTERN_GLOBAL, lvm_global_new(r->store, LVM_I64, false, v)))
        return false;
    v.bits = 0; v.f32 = 666.6f;
    if (!define(r, "global_f32", LVM_EXTERN_GLOBAL, lvm_global_new(r->store, LVM_F32, false, v)))
        return false;
    v.bits = 0; v.f64 = 666.6;
    if (!define(r, "global_f64", LVM_EXTERN_GLOBAL, lvm_global_new(r->store, LVM_F64, false, v)))
        return false;
    return define(r, "table", LVM_EXTERN_TABLE, lvm_table_new(r->store, LVM_FUNCREF, 10, 20, true)) &&
           define(r, "memory", LVM_EXTERN_MEMORY, lvm_memory_new(r->store, 1, 2, true));
}

/* }====== */

/* {====== values */

static uint8_t type_of(const char *name)
{
    static const struct { const char *name; uint8_t type; } types[] = {
        { "i32", LVM_I32 }, { "i64", LVM_I64 }, { "f32", LVM_F32 }, { "f64", LVM_F64 },
        { "v128", LVM_V128 }, { "funcref", LVM_FUNCREF }, { "externref", LVM_EXTERNREF },
    };
    for (size_t i = 0; name && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(name, types[i].name) == 0)
            return types[i].type;
    return 0;
}

static const char *type_name(uint8_t type)
{
    switch (type) {
    case LVM_I32: return "i32";
    case LVM_I64: return "i64";
    case LVM_F32: return "f32";
    case LVM_F64: return "f64";
    case LVM_V128: return "v128";
    case LVM_FUNCREF: return "funcref";
    case LVM_EXTERNREF: return "externref";
    default: return "?";
    }
}

/* Parse an unsigned decimal string of at most `max`. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *value_out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *value_out = v;
    return true;
}

/* Turn a JSON argument {"type": T, "value": V} into an lvm_val.  Writes
 * go through the member of the value's width, as lvm.h asks, on a zeroed
 * value. */
static bool parse_arg(const json *arg, uint8_t *type_out, lvm_val *val_out, char *why)
{
    const char *tname = json_get_str(arg, "type");
    const char *s = json_get_str(arg, "value");
    uint8_t type = type_of(tname);
    uint64_t v;
    val_out->bits = 0;
    *type_out = type;
    switch (type) {
    case LVM_I32:
    case LVM_F32:
        if (!parse_u64(s, UINT32_MAX, &v))
            break;
        val_out->i32 = (uint32_t)v;
        return true;
    case LVM_I64:
    case LVM_F64:
        if (!parse_u64(s, UINT64_MAX, &v))
            break;
        val_out->i64 = v;
        return true;
    case LVM_FUNCREF:
        /* Only null funcrefs can be written in a .wast argument. */
        if (!s || strcmp(s, "null") != 0)
            break;
        val_out->ref = NULL;
        return true;
    case LVM_EXTERNREF:
        if (s && strcmp(s, "null") == 0)
            return true;
        if (!parse_u64(s, UINT64_MAX - 1, &v))
            break;
        val_out->bits = v + 1;
        return true;
    case LVM_V128:
        snprintf(why, WHY_SIZE, "v128 argument: lvm_val cannot carry a v128");
        return false;
    }
    snprintf(why, WHY_SIZE, "cannot parse argument %s %s", tname ? tname : "?", s ? s : "?");
    return false;
}

/* Print a value for a failure message: integers in decimal (and signed,
 * when it differs), floats as bits and as a number. */
static void format_value(uint8_t type, lvm_val v, char *buf, size_t size)
{
    switch (type) {
    case LVM_I32:
        if ((int32_t)v.i32 < 0)
            snprintf(buf, size, "i32:%" PRIu32 " (%" PRId32 ")", v.i32, (int32_t)v.i32);
        else
            snprintf(buf, size, "i32:%" PRIu32, v.i32);
        break;
    case LVM_I64:
        if ((int64_t)v.i64 < 0)
            snprintf(buf, size, "i64:%" PRIu64 " (%" PRId64 ")", v.i64, (int64_t)v.i64);
        else
            snprintf(buf, size, "i64:%" PRIu64, v.i64);
        break;
    case LVM_F32: snprintf(buf, size, "f32:0x%08" PRIx32 " (%g)", v.i32, (double)v.f32); break;
    case LVM_F64: snprintf(buf, size, "f64:0x%016" PRIx64 " (%g)", v.i64, v.f64); break;
    case LVM_FUNCREF:
        if (v.ref)
            snprintf(buf, size, "funcref:%p", v.ref);
        else
            snprintf(buf, size, "funcref:null");
        break;
    case LVM_EXTERNREF:
        if (v.bits == 0)
            snprintf(buf, size, "externref:null");
        else
            snprintf(buf, size, "externref:%" PRIu64, v.bits - 1);
        break;
    default: snprintf(buf, size, "%s:0x%" PRIx64, type_name(type), v.bits); break;
    }
}

/* Does result `got` (of type `type`) match the expected value `exp`? */
static bool value_matches(const json *exp, uint8_t type, lvm_val got)
{
    const char *s = json_get_str(exp, "value");
    uint64_t v;
    switch (type) {
    case LVM_I32:
        return parse_u64(s, UINT32_MAX, &v) && got.i32 == v;
    case LVM_I64:
        return parse_u64(s, UINT64_MAX, &v) && got.i64 == v;
    case LVM_F32: {
        uint32_t bits = got.i32;
        /* canonical: exponent all ones, only the quiet bit of the
         * payload set, either sign; arithmetic: the quiet bit set. */
        if (s && strcmp(s, "nan:canonical") == 0)
            return (bits & 0x7fffffffu) == 0x7fc00000u;
        if (s && strcmp(s, "nan:arithmetic") == 0)
            return (bits & 0x7fc00000u) == 0x7fc00000u;
        return parse_u64(s, UINT32_MAX, &v) && bits == v;
    }
    case LVM_F64: {
        uint64_t bits = got.i64;
        if (s && strcmp(s, "nan:canonical") == 0)
            return (bits & 0x7fffffffffffffffu) == 0x7ff8000000000000u;
        if (s && strcmp(s, "nan:arithmetic") == 0)
            return (bits & 0x7ff8000000000000u) == 0x7ff8000000000000u;
        return parse_u64(s, UINT64_MAX, &v) && bits == v;
    }
    case LVM_FUNCREF:
        if (!s)
            return got.ref != NULL;
        return strcmp(s, "null") == 0 && got.ref == NULL;
    case LVM_EXTERNREF:
        if (s && strcmp(s, "null") == 0)
            return got.bits == 0;
        return parse_u64(s, UINT64_MAX - 1, &v) && got.bits == v + 1;
    default:
        return false;
    }
}

/* }====== */

/* {====== actions */

/* What an action produced.  `ran` false: it could not be started (no such
 * module or export, bad arguments) and `why` says so; otherwise `err` is
 * LVM_OK with `results`, or the trap. */
typedef struct outcome {
    bool ran;
    lvm_err err;
    uint32_t nresults;
    const uint8_t *types;       /* nresults result types */
    lvm_val *results;           /* malloc'd; free_outcome */
    uint8_t global_type;        /* storage for `types` of a "get" */
} outcome;

static void free_outcome(outcome *o)
{
    free(o->results);
    o->results = NULL;
}

static bool has_v128(const lvm_functype *ft)
{
    for (uint32_t i = 0; i < ft->nparams + ft->nresults; i++)
        if (ft->types[i] == LVM_V128)
            return true;
    return false;
}

static bool invoke(runner *r, lvm_instance *inst, const json *action, outcome *o, char *why)
{
    const json *field = json_get(action, "field");
    const json *args = json_get(action, "args");
    if (!field || field->kind != JSON_STRING || (args && args->kind != JSON_ARRAY))
        return snprintf(why, WHY_SIZE, "malformed invoke command"), false;
    /* By length: export names may contain NUL bytes (names.wast). */
    lvm_extern ext;
    if (!lvm_instance_export_n(inst, field->str, field->len, &ext))
        return snprintf(why, WHY_SIZE, "no export \"%s\"", field->str), false;
    if (ext.kind != LVM_EXTERN_FUNC)
        return snprintf(why, WHY_SIZE, "export \"%s\" is not a function", field->str), false;
    const lvm_functype *ft = lvm_func_type(ext.u.func);
    if (has_v128(ft))
        return snprintf(why, WHY_SIZE, "\"%s\" has a v128 in its type: lvm_val cannot carry a v128",
                        field->str), false;
    size_t nargs = args ? args->count : 0;
    if (nargs != ft->nparams)
        return snprintf(why, WHY_SIZE, "\"%s\" takes %" PRIu32 " arguments, the command gives %zu",
                        field->str, ft->nparams, nargs), false;

    /* One spare slot each, so that no count is ever a zero-size malloc and
     * a miscounting engine writes into owned memory. */
    lvm_val *argv = calloc(nargs + 1, sizeof *argv);
    o->results = calloc((size_t)ft->nresults + 1, sizeof *o->results);
    if (!argv || !o->results) {
        free(argv);
        return snprintf(why, WHY_SIZE, "out of memory"), false;
    }
    for (size_t i = 0; i < nargs; i++) {
        uint8_t type;
        if (!parse_arg(&args->items[i], &type, &argv[i], why)) {
            free(argv);
            return false;
        }
        if (type != ft->types[i]) {
            snprintf(why, WHY_SIZE, "argument %zu is %s, \"%s\" takes %s",
                     i, type_name(type), field->str, type_name(ft->types[i]));
            free(argv);
            return false;
        }
    }
    o->err = lvm_invoke(r->thread, ext.u.func, argv, o->results);
    o->nresults = ft->nresults;
    o->types = ft->types + ft->nparams;
    o->ran = true;
    free(argv);
    return true;
}

static bool get_global(lvm_instance *inst, const json *action, outcome *o, char *why)
{
    const char *field = json_get_str(action, "field");
    lvm_extern ext;
    if (!field)
        return snprintf(why, WHY_SIZE, "malformed get command"), false;
    if (!lvm_instance_export(inst, field, &ext))
        return snprintf(why, WHY_SIZE, "no export \"%s\"", field), false;
    if (ext.kind != LVM_EXTERN_GLOBAL)
        return snprintf(why, WHY_SIZE, "export \"%s\" is not a global", field), false;
    o->results = calloc(1, sizeof *o->results);
    if (!o->results)
        return snprintf(why, WHY_SIZE, "out of memory"), false;
    o->results[0] = lvm_global_get(ext.u.global);
    o->global_type = lvm_global_type(ext.u.global);
    o->types = &o->global_type;
    o->nresults = 1;
    o->err = LVM_OK;
    o->ran = true;
    return true;
}

/* Perform the "action" member of `cmd`.  Returns false (with `why`) if it
 * could not be performed; true if it ran, trapping or not. */
static bool perform(runner *r, const json *cmd, outcome *o, char *why)
{
    const json *action = json_get(cmd, "action");
    const char *kind = json_get_str(action, "type");
    lvm_instance *inst;
    memset(o, 0, sizeof *o);
    if (!kind)
        return snprintf(why, WHY_SIZE, "command without an action"), false;
    if (!find_instance(r, json_get_str(action, "module"), &inst, why))
        return false;
    if (strcmp(kind, "invoke") == 0)
        return invoke(r, inst, action, o, why);
    if (strcmp(kind, "get") == 0)
        return get_global(inst, action, o, why);
    return snprintf(why, WHY_SIZE, "unknown action type %s", kind), false;
}

/* }====== */

/* {====== commands */

/* The spec suite's error texts are matched loosely, as the reference
 * interpreter's harness does: the expected text may be a prefix of lvm's
 * message or of lvm_strerror(err) (lvm adds detail after the spec text),
 * or lvm's text a prefix of the expected one (the suite sometimes adds
 * detail of its own: "uninitialized element 2"). */
static bool text_matches(const char *expected, lvm_err err, const char *message)
{
    if (!expected || err == LVM_OK)
        return false;
    const char *text = lvm_strerror(err);
    size_t elen = strlen(expected), tlen = strlen(text);
    return strncmp(message, expected, elen) == 0 ||
           strncmp(text, expected, elen) == 0 ||
           (tlen > 0 && strncmp(expected, text, tlen) == 0);
}

/* What lvm said about a failure: the diagnostic if it wrote one. */
static const char *diag_text(const lvm_diag *d, lvm_err err)
{
    return d->message[0] ? d->message : lvm_strerror(err);
}

/* Read DIR/filename and decode it.  Returns NULL with `d` filled (or with
 * `why` set, for a file that cannot be read). */
static lvm_module *load_file(runner *r, const char *filename, lvm_diag *d, char *why)
{
    memset(d, 0, sizeof *d);
    why[0] = '\0';
    if (!filename) {
        snprintf(why, WHY_SIZE, "command without a filename");
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", r->opts->dir, filename);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, WHY_SIZE, "cannot open %s", filename);
        return NULL;
    }
    uint8_t *bytes = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(bytes, cap);
            if (!nb) {
                free(bytes);
                fclose(f);
                snprintf(why, WHY_SIZE, "out of memory reading %s", filename);
                return NULL;
            }
            bytes = nb;
        }
        size_t n = fread(bytes + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    lvm_module *m = lvm_module_load(bytes, len, d);
    free(bytes);
    return m;
}

/* Load and instantiate.  Returns LVM_OK with *inst_out set, or the error
 * with `d` (lvm's diagnostic) or `why` (the runner's own reason) filled.
 * *loaded_out tells which step failed.  An engine that fails without an
 * error code, or succeeds without an instance, gets a reason in `why` and
 * a stand-in code, so no caller can mistake it for success. */
static lvm_err load_and_instantiate(runner *r, const json *cmd, lvm_instance **inst_out,
                                    lvm_diag *d, bool *loaded_out, char *why)
{
    *inst_out = NULL;
    *loaded_out = false;
    lvm_module *m = load_file(r, json_get_str(cmd, "filename"), d, why);
    if (!m) {
        if (why[0])
            return LVM_ERR_IO;
        if (d->err == LVM_OK) {
            snprintf(why, WHY_SIZE, "lvm_module_load returned NULL without an error code");
            return LVM_ERR_NOT_IMPLEMENTED;
        }
        return d->err;
    }
    *loaded_out = true;
    if (!keep_module(r, m)) {
        lvm_module_release(m);
        snprintf(why, WHY_SIZE, "out of memory");
        return LVM_ERR_NO_MEMORY;
    }
    memset(d, 0, sizeof *d);
    lvm_err err = lvm_instantiate(r->store, r->linker, m, r->thread, inst_out, d);
    if (err == LVM_OK && !*inst_out) {
        snprintf(why, WHY_SIZE, "lvm_instantiate returned LVM_OK without an instance");
        return LVM_ERR_NOT_IMPLEMENTED;
    }
    if (err != LVM_OK)
        *inst_out = NULL;
    return err;
}

static spec_outcome cmd_module(runner *r, const json *cmd, char *why)
{
    lvm_instance *inst;
    lvm_diag d;
    bool loaded;
    lvm_err err = load_and_instantiate(r, cmd, &inst, &d, &loaded, why);
    const char *name = json_get_str(cmd, "name");
    r->have_last = true;
    r->last = err == LVM_OK ? inst : NULL;
    if (name && !bind_name(r, name, r->last)) {
        snprintf(why, WHY_SIZE, "out of memory");
        return SPEC_FAIL;
    }
    if (err == LVM_OK)
        return SPEC_PASS;
    if (!why[0])
        snprintf(why, WHY_SIZE, "module %s: %s", loaded ? "failed to instantiate" : "failed to load",
                 diag_text(&d, err));
    return SPEC_FAIL;
}

static spec_outcome cmd_register(runner *r, const json *cmd, char *why)
{
    const char *as = json_get_str(cmd, "as");
    lvm_instance *inst;
    if (!as)
        return snprintf(why, WHY_SIZE, "register without \"as\""), SPEC_FAIL;
    char reason[WHY_SIZE];
    if (!find_instance(r, json_get_str(cmd, "name"), &inst, reason))
        return snprintf(why, WHY_SIZE, "register as %.64s: %.200s", as, reason), SPEC_FAIL;
    lvm_err err = lvm_linker_define_instance(r->linker, as, inst);
    if (err != LVM_OK)
        return snprintf(why, WHY_SIZE, "register as %s: %s", as, lvm_strerror(err)), SPEC_FAIL;
    return SPEC_PASS;
}

static spec_outcome cmd_action(runner *r, const json *cmd, char *why)
{
    outcome o;
    spec_outcome result = SPEC_FAIL;
    if (perform(r, cmd, &o, why)) {
        if (o.err == LVM_OK)
            result = SPEC_PASS;
        else
            snprintf(why, WHY_SIZE, "trapped: %s", lvm_strerror(o.err));
    }
    free_outcome(&o);
    return result;
}

static spec_outcome cmd_assert_return(runner *r, const json *cmd, char *why)
{
    const json *expected = json_get(cmd, "expected");
    outcome o;
    spec_outcome result = SPEC_FAIL;
    if (!expected || expected->kind != JSON_ARRAY) {
        snprintf(why, WHY_SIZE, "assert_return without \"expected\"");
        return SPEC_FAIL;
    }
    if (!perform(r, cmd, &o, why))
        goto done;
    if (o.err != LVM_OK) {
        snprintf(why, WHY_SIZE, "trapped: %s", lvm_strerror(o.err));
        goto done;
    }
    if (o.nresults != expected->count) {
        snprintf(why, WHY_SIZE, "%" PRIu32 " results, expected %zu", o.nresults, expected->count);
        goto done;
    }
    for (uint32_t i = 0; i < o.nresults; i++) {
        const json *exp = &expected->items[i];
        uint8_t etype = type_of(json_get_str(exp, "type"));
        char got[96];
        format_value(o.types[i], o.results[i], got, sizeof got);
        if (etype == LVM_V128) {
            snprintf(why, WHY_SIZE, "v128 result: lvm_val cannot carry a v128");
            goto done;
        }
        if (etype != o.types[i]) {
            snprintf(why, WHY_SIZE, "result %" PRIu32 " is %s, expected type %s",
                     i, got, type_name(etype));
            goto done;
        }
        if (!value_matches(exp, etype, o.results[i])) {
            const char *s = json_get_str(exp, "value");
            snprintf(why, WHY_SIZE, "result %" PRIu32 " is %s, expected %s:%s",
                     i, got, type_name(etype), s ? s : "non-null");
            goto done;
        }
    }
    result = SPEC_PASS;
done:
    free_outcome(&o);
    return result;
}

/* assert_trap and assert_exhaustion: the action must trap with `text`. */
static spec_outcome cmd_assert_trap(runner *r, const json *cmd, char *why)
{
    const char *text = json_get_str(cmd, "text");
    outcome o;
    spec_outcome result = SPEC_FAIL;
    if (perform(r, cmd, &o, why)) {
        if (o.err == LVM_OK)
            snprintf(why, WHY_SIZE, "returned normally, expected trap \"%s\"", text ? text : "?");
        else if (!text_matches(text, o.err, ""))
            snprintf(why, WHY_SIZE, "trapped with \"%s\", expected \"%s\"",
                     lvm_strerror(o.err), text ? text : "?");
        else
            result = SPEC_PASS;
    }
    free_outcome(&o);
    return result;
}

/* assert_invalid and assert_malformed: lvm_module_load must fail. */
static spec_outcome cmd_assert_bad_module(runner *r, const json *cmd, char *why)
{
    const char *mtype = json_get_str(cmd, "module_type");
    const char *text = json_get_str(cmd, "text");
    if (mtype && strcmp(mtype, "text") == 0) {
        snprintf(why, WHY_SIZE, "text-format module");
        return SPEC_SKIP;
    }
    lvm_diag d;
    lvm_module *m = load_file(r, json_get_str(cmd, "filename"), &d, why);
    if (m) {
        lvm_module_release(m);
        snprintf(why, WHY_SIZE, "module loaded, expected \"%s\"", text ? text : "?");
        return SPEC_FAIL;
    }
    if (why[0])
        return SPEC_FAIL;
    if (r->class_only && strcmp(json_get_str(cmd, "type"), "assert_invalid") == 0) {
        /* The expected text was lost in conversion: require only that the
         * module was rejected by validation, not by the decoder. */
        if (d.err >= LVM_ERR_TYPE_MISMATCH && d.err <= LVM_ERR_UNKNOWN_TYPE)
            return SPEC_PASS;
        snprintf(why, WHY_SIZE, "failed with \"%s\", expected a validation error",
                 diag_text(&d, d.err));
        return SPEC_FAIL;
    }
    if (!text_matches(text, d.err, d.message)) {
        snprintf(why, WHY_SIZE, "failed with \"%s\", expected \"%s\"",
                 diag_text(&d, d.err), text ? text : "?");
        return SPEC_FAIL;
    }
    return SPEC_PASS;
}

/* assert_unlinkable (link errors) and assert_uninstantiable (a trap in
 * segment initialisation or the start function): lvm_instantiate must
 * fail, with an error of that class and the expected text. */
static spec_outcome cmd_assert_instantiate_fails(runner *r, const json *cmd, bool link_error, char *why)
{
    const char *text = json_get_str(cmd, "text");
    lvm_instance *inst;
    lvm_diag d;
    bool loaded;
    lvm_err err = load_and_instantiate(r, cmd, &inst, &d, &loaded, why);
    if (!loaded) {
        if (!why[0])
            snprintf(why, WHY_SIZE, "module failed to load: %s", diag_text(&d, err));
        return SPEC_FAIL;
    }
    if (why[0])
        return SPEC_FAIL;
    if (err == LVM_OK) {
        snprintf(why, WHY_SIZE, "instantiated, expected \"%s\"", text ? text : "?");
        return SPEC_FAIL;
    }
    bool right_class = link_error
        ? err == LVM_ERR_UNKNOWN_IMPORT || err == LVM_ERR_INCOMPATIBLE_IMPORT
        : lvm_err_is_trap(err);
    if (!right_class || !text_matches(text, err, d.message)) {
        snprintf(why, WHY_SIZE, "failed with \"%s\", expected \"%s\"",
                 diag_text(&d, err), text ? text : "?");
        return SPEC_FAIL;
    }
    return SPEC_PASS;
}

static spec_outcome run_command(runner *r, const json *cmd, const char *type, char *why)
{
    if (strcmp(type, "module") == 0)
        return cmd_module(r, cmd, why);
    if (strcmp(type, "register") == 0)
        return cmd_register(r, cmd, why);
    if (strcmp(type, "action") == 0)
        return cmd_action(r, cmd, why);
    if (strcmp(type, "assert_return") == 0)
        return cmd_assert_return(r, cmd, why);
    if (strcmp(type, "assert_trap") == 0 || strcmp(type, "assert_exhaustion") == 0)
        return cmd_assert_trap(r, cmd, why);
    if (strcmp(type, "assert_invalid") == 0 || strcmp(type, "assert_malformed") == 0)
        return cmd_assert_bad_module(r, cmd, why);
    if (strcmp(type, "assert_unlinkable") == 0)
        return cmd_assert_instantiate_fails(r, cmd, true, why);
    if (strcmp(type, "assert_uninstantiable") == 0)
        return cmd_assert_instantiate_fails(r, cmd, false, why);
    snprintf(why, WHY_SIZE, "unknown command type %s", type);
    return SPEC_FAIL;
}

/* }====== */

/* {====== public functions */

bool spec_counts(const json *cmd)
{
    const char *type = json_get_str(cmd, "type");
    return !type || strcmp(type, "register") != 0;
}

static bool line_listed(const long *lines, size_t n, long line)
{
    for (size_t i = 0; i < n; i++)
        if (lines[i] == line)
            return true;
    return false;
}

void spec_run_file(const json *doc, const spec_file_opts *opts)
{
    const json *cmds = json_get(doc, "commands");
    size_t ncmds = cmds && cmds->kind == JSON_ARRAY ? cmds->count : 0;
    runner r;
    memset(&r, 0, sizeof r);
    r.opts = opts;
    print_enabled = opts->verbose;

    r.store = lvm_store_new();
    r.linker = lvm_linker_new();
    r.thread = lvm_thread_new(NULL);
    bool ready = r.store && r.linker && r.thread && define_spectest(&r);

    for (size_t i = 0; i < ncmds; i++) {
        const json *cmd = &cmds->items[i];
        const char *type = json_get_str(cmd, "type");
        long line = json_get_int(cmd, "line", 0);
        char why[WHY_SIZE] = "";
        spec_outcome o;
        if (!ready) {
            o = SPEC_FAIL;
            snprintf(why, sizeof why, "cannot create the store, linker, thread or spectest module");
        } else if (!type) {
            o = SPEC_FAIL;
            snprintf(why, sizeof why, "command without a type");
        } else if (line_listed(opts->skip_lines, opts->nskip, line)) {
            o = SPEC_SKIP;
            snprintf(why, sizeof why, "listed in skip.txt");
        } else {
            r.class_only = line_listed(opts->class_only_lines, opts->nclass_only, line);
            o = run_command(&r, cmd, type, why);
        }
        if (spec_counts(cmd))
            opts->report(opts->report_ctx, line, o, why);
        else if (o == SPEC_FAIL)
            opts->report(opts->report_ctx, line, SPEC_NOTE, why);
    }

    /* Instances first (with their store), then the modules they came
     * from, then the names. */
    if (r.thread)
        lvm_thread_free(r.thread);
    if (r.linker)
        lvm_linker_free(r.linker);
    if (r.store)
        lvm_store_free(r.store);
    for (size_t i = 0; i < r.nmods; i++)
        lvm_module_release(r.mods[i]);
    free(r.mods);
    for (size_t i = 0; i < r.nnames; i++)
        free(r.names[i].name);
    free(r.names);
}

/* }====== */
