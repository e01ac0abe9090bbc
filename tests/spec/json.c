/*
 * json.c - a recursive-descent JSON reader (see json.h for the contract).
 *
 * One function per grammar rule of RFC 8259 (value, object, array, string,
 * number), each consuming input from a `reader` and filling a caller-owned
 * node.  On the first error the reader records a message and every rule
 * returns false, so the tree built so far is freed by the caller in one
 * place (json_free) instead of by each rule.
 *
 * Recursion depth is capped (MAX_DEPTH) so that input like "[[[[..." cannot
 * overflow the C stack: the runner must never crash, whatever it reads.
 * Arrays and objects grow by doubling.
 */
#include "json.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* wast2json nests 4 levels deep; 200 leaves ample room and still bounds
 * the stack use to a few kilobytes per level. */
#define MAX_DEPTH 200

typedef struct reader {
    const char *p, *end, *start;
    char *err;
    size_t errsize;
    bool failed;
} reader;

static bool fail(reader *r, const char *what)
{
    if (!r->failed) {
        snprintf(r->err, r->errsize, "%s at byte %zu", what, (size_t)(r->p - r->start));
        r->failed = true;
    }
    return false;
}

static void skip_space(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* Consume the literal `word` (true, false, null) if it is next. */
static bool accept_word(reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return false;
    r->p += n;
    return true;
}

/* {====== strings */

/* A growable byte buffer for decoding one string. */
typedef struct strbuf {
    char *data;
    size_t len, cap;
} strbuf;

static bool strbuf_put(strbuf *b, char c)
{
    if (b->len + 1 >= b->cap) {     /* keep room for the closing NUL */
        size_t cap = b->cap ? b->cap * 2 : 32;
        char *data = realloc(b->data, cap);
        if (!data)
            return false;
        b->data = data;
        b->cap = cap;
    }
    b->data[b->len++] = c;
    return true;
}

/* Append code point `cp` encoded as UTF-8. */
static bool strbuf_put_utf8(strbuf *b, uint32_t cp)
{
    if (cp < 0x80)
        return strbuf_put(b, (char)cp);
    if (cp < 0x800)
        return strbuf_put(b, (char)(0xc0 | (cp >> 6))) &&
               strbuf_put(b, (char)(0x80 | (cp & 0x3f)));
    if (cp < 0x10000)
        return strbuf_put(b, (char)(0xe0 | (cp >> 12))) &&
               strbuf_put(b, (char)(0x80 | ((cp >> 6) & 0x3f))) &&
               strbuf_put(b, (char)(0x80 | (cp & 0x3f)));
    return strbuf_put(b, (char)(0xf0 | (cp >> 18))) &&
           strbuf_put(b, (char)(0x80 | ((cp >> 12) & 0x3f))) &&
           strbuf_put(b, (char)(0x80 | ((cp >> 6) & 0x3f))) &&
           strbuf_put(b, (char)(0x80 | (cp & 0x3f)));
}

static bool read_hex4(reader *r, uint32_t *value_out)
{
    uint32_t v = 0;
    if (r->end - r->p < 4)
        return fail(r, "truncated \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = *r->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')      v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return fail(r, "bad hex digit in \\u escape");
    }
    *value_out = v;
    return true;
}

/* Decode the escape after a backslash into `b`.  A \uD800-\uDBFF escape
 * followed by a \uDC00-\uDFFF one is a UTF-16 surrogate pair and becomes
 * one code point; a lone surrogate is kept as its 3-byte encoding rather
 * than rejected, since a test runner should report, not refuse. */
static bool read_escape(reader *r, strbuf *b)
{
    if (r->p >= r->end)
        return fail(r, "truncated escape");
    char c = *r->p++;
    char out;
    switch (c) {
    case '"':  out = '"';  break;
    case '\\': out = '\\'; break;
    case '/':  out = '/';  break;
    case 'b':  out = '\b'; break;
    case 'f':  out = '\f'; break;
    case 'n':  out = '\n'; break;
    case 'r':  out = '\r'; break;
    case 't':  out = '\t'; break;
    case 'u': {
        uint32_t cp;
        if (!read_hex4(r, &cp))
            return false;
        if (cp >= 0xd800 && cp < 0xdc00 && r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u') {
            const char *save = r->p;
            uint32_t lo;
            r->p += 2;
            if (!read_hex4(r, &lo))
                return false;
            if (lo >= 0xdc00 && lo < 0xe000)
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            else
                r->p = save;    /* not a pair: decode the second one alone */
        }
        return strbuf_put_utf8(b, cp) || fail(r, "out of memory");
    }
    default:
        return fail(r, "unknown escape");
    }
    return strbuf_put(b, out) || fail(r, "out of memory");
}

/* string = '"' chars '"'; the opening quote is next.  On success the
 * decoded, NUL-terminated bytes are in *str_out (caller frees). */
static bool read_string(reader *r, char **str_out, size_t *len_out)
{
    strbuf b = {0};
    r->p++;                             /* the opening quote */
    for (;;) {
        if (r->p >= r->end) {
            fail(r, "unterminated string");
            break;
        }
        char c = *r->p++;
        if (c == '"') {
            if (!b.data && !(b.data = malloc(1))) {  /* "" still needs a buffer */
                fail(r, "out of memory");
                break;
            }
            b.data[b.len] = '\0';     /* strbuf_put always leaves room */
            *str_out = b.data;
            *len_out = b.len;
            return true;
        }
        if ((unsigned char)c < 0x20) {
            fail(r, "control character in string");
            break;
        }
        if (c == '\\' ? !read_escape(r, &b) : !strbuf_put(&b, c)) {
            fail(r, "out of memory");
            break;
        }
    }
    free(b.data);
    return false;
}

/* }====== */

/* {====== numbers, arrays, objects, values */

static bool read_value(reader *r, json *out, int depth);

/* number = [-] int [frac] [exp], checked against the grammar and then
 * converted by strtod on a NUL-terminated copy (the input need not end in
 * a NUL, and strtod would also accept forms JSON forbids, like "0x10"). */
static bool read_number(reader *r, json *out)
{
    const char *s = r->p;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    size_t digits = 0;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
        r->p++, digits++;
    if (digits == 0)
        return fail(r, "bad number");
    if (r->p < r->end && *r->p == '.') {
        r->p++, digits = 0;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++, digits++;
        if (digits == 0)
            return fail(r, "bad fraction");
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++, digits = 0;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++, digits++;
        if (digits == 0)
            return fail(r, "bad exponent");
    }
    char buf[64];
    size_t n = (size_t)(r->p - s);
    if (n >= sizeof buf)
        return fail(r, "number too long");
    memcpy(buf, s, n);
    buf[n] = '\0';
    out->kind = JSON_NUMBER;
    out->number = strtod(buf, NULL);
    return true;
}

/* Make room for one more item in an array or object node. */
static bool grow(reader *r, json *node, size_t *cap)
{
    if (node->count < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    json *items = realloc(node->items, ncap * sizeof *items);
    if (!items)
        return fail(r, "out of memory");
    node->items = items;
    if (node->kind == JSON_OBJECT) {
        char **keys = realloc(node->keys, ncap * sizeof *keys);
        if (!keys)
            return fail(r, "out of memory");
        node->keys = keys;
    }
    *cap = ncap;
    return true;
}

/* array = '[' [ value { ',' value } ] ']'; the '[' is next. */
static bool read_array(reader *r, json *out, int depth)
{
    size_t cap = 0;
    out->kind = JSON_ARRAY;
    r->p++;
    skip_space(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return true;
    }
    for (;;) {
        if (!grow(r, out, &cap))
            return false;
        json *item = &out->items[out->count++];
        memset(item, 0, sizeof *item);
        if (!read_value(r, item, depth + 1))
            return false;
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return true;
        }
        return fail(r, "expected ',' or ']'");
    }
}

/* object = '{' [ string ':' value { ',' string ':' value } ] '}'. */
static bool read_object(reader *r, json *out, int depth)
{
    size_t cap = 0;
    out->kind = JSON_OBJECT;
    r->p++;
    skip_space(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return true;
    }
    for (;;) {
        skip_space(r);
        if (r->p >= r->end || *r->p != '"')
            return fail(r, "expected a key");
        if (!grow(r, out, &cap))
            return false;
        /* The item counts as present (for json_free) only once its key is
         * read, so keys[] never holds an uninitialised pointer. */
        json *item = &out->items[out->count];
        memset(item, 0, sizeof *item);
        size_t keylen;
        if (!read_string(r, &out->keys[out->count], &keylen))
            return false;
        out->count++;
        skip_space(r);
        if (r->p >= r->end || *r->p != ':')
            return fail(r, "expected ':'");
        r->p++;
        if (!read_value(r, item, depth + 1))
            return false;
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return true;
        }
        return fail(r, "expected ',' or '}'");
    }
}

static bool read_value(reader *r, json *out, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(r, "nesting too deep");
    skip_space(r);
    if (r->p >= r->end)
        return fail(r, "unexpected end of input");
    switch (*r->p) {
    case '{': return read_object(r, out, depth);
    case '[': return read_array(r, out, depth);
    case '"':
        out->kind = JSON_STRING;
        return read_string(r, &out->str, &out->len);
    case 't':
        out->kind = JSON_TRUE;
        return accept_word(r, "true") || fail(r, "bad literal");
    case 'f':
        out->kind = JSON_FALSE;
        return accept_word(r, "false") || fail(r, "bad literal");
    case 'n':
        out->kind = JSON_NULL;
        return accept_word(r, "null") || fail(r, "bad literal");
    default:
        return read_number(r, out);
    }
}

/* }====== */

/* {====== public functions */

/* Free what a node owns (not the node itself: nodes live in their parent's
 * items array, or are the root allocated by json_parse). */
static void free_node(json *v)
{
    for (size_t i = 0; i < v->count; i++) {
        free_node(&v->items[i]);
        if (v->kind == JSON_OBJECT)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
}

json *json_parse(const char *text, size_t len, char *err, size_t errsize)
{
    json *root = calloc(1, sizeof *root);
    if (!root) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    reader r = { text, text + len, text, err, errsize, false };
    if (read_value(&r, root, 0)) {
        skip_space(&r);
        if (r.p == r.end)
            return root;
        fail(&r, "junk after the document");
    }
    json_free(root);
    return NULL;
}

void json_free(json *root)
{
    if (!root)
        return;
    free_node(root);
    free(root);
}

const json *json_get(const json *obj, const char *key)
{
    if (!obj || obj->kind != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->count; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

const char *json_get_str(const json *obj, const char *key)
{
    const json *v = json_get(obj, key);
    return v && v->kind == JSON_STRING ? v->str : NULL;
}

long json_get_int(const json *obj, const char *key, long dflt)
{
    const json *v = json_get(obj, key);
    if (!v || v->kind != JSON_NUMBER || !(v->number > -1e15 && v->number < 1e15))
        return dflt;
    return (long)v->number;
}

/* }====== */
