/*
 * json.h - a small JSON reader for the spec test runner.
 *
 * wabt's wast2json describes each .wast file as one JSON document: an
 * object holding a "commands" array of flat objects whose values are
 * strings, small integers and arrays of those.  This reader handles all of
 * JSON (RFC 8259) anyway, because it costs little and a partial parser
 * fails in confusing ways on the one file that uses a feature it skipped.
 *
 * The result is a tree of `json` nodes owned by the root: json_free(root)
 * frees everything.  Strings are decoded (escapes resolved, \uXXXX turned
 * into UTF-8) and carry their length, because wasm names may contain NUL
 * bytes (names.wast exports "\u0000\u0001...").  They are NUL-terminated as
 * well, so the common case can use them as C strings.
 *
 * No dependencies beyond libc; no global state; safe on hostile input
 * (nesting depth is limited, every allocation is checked).
 */
#ifndef SPEC_JSON_H
#define SPEC_JSON_H

#include <stddef.h>

typedef enum json_kind {
    JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT
} json_kind;

typedef struct json json;
struct json {
    json_kind kind;
    double number;          /* JSON_NUMBER */
    char *str;              /* JSON_STRING: decoded bytes + a closing NUL */
    size_t len;             /* JSON_STRING: byte count without that NUL */
    json *items;            /* JSON_ARRAY elements, JSON_OBJECT values */
    char **keys;            /* JSON_OBJECT: keys[i] names items[i] */
    size_t count;           /* JSON_ARRAY / JSON_OBJECT: number of items */
};

/* Parse `len` bytes of `text` (which need not be NUL-terminated).  Returns
 * the root, or NULL with a message (including the byte offset) written to
 * err[0..errsize). */
json *json_parse(const char *text, size_t len, char *err, size_t errsize);
void json_free(json *root);

/* Member `key` of an object, or NULL if `obj` is not an object or has no
 * such member.  Duplicate keys: the first wins. */
const json *json_get(const json *obj, const char *key);
/* Member `key` if it is a string, else NULL. */
const char *json_get_str(const json *obj, const char *key);
/* Member `key` as an integer if it is a number, else `dflt`. */
long json_get_int(const json *obj, const char *key, long dflt);

#endif
