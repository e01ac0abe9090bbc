/*
 * strings.c - byte-wise string processing, hand-written (no libc string
 * functions, whose native versions use SIMD and would measure glibc).
 *
 * What it stresses: i32.load8_u / i32.store8 one byte at a time, character
 * class tests (short compare-and-branch chains), and small loops whose
 * trip counts depend on the data.  Kernels: generate text, split it into
 * words and count them, case-fold in place, parse the numbers in it, and
 * search for a pattern naively.
 */
#include "common.h"

#define TEXT_LEN 65536

static char text[TEXT_LEN + 1];

static const char *const words[] = {
    "alpha", "Bravo", "charlie", "42", "delta", "ECHO", "foxtrot", "1999",
    "golf", "hotel", "India", "7", "juliett", "kilo", "lima", "65535",
};

static void make_text(uint32_t seed)
{
    size_t n = 0;
    while (n < TEXT_LEN) {
        seed = seed * 1664525u + 1013904223u;
        const char *w = words[seed >> 28];
        while (*w && n < TEXT_LEN)
            text[n++] = *w++;
        if (n < TEXT_LEN)
            text[n++] = (seed & 0x300) ? ' ' : ((seed & 0x400) ? ',' : '\n');
    }
    text[TEXT_LEN] = '\0';
}

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Word count, letters, and the sum of all decimal numbers in the text. */
static NOINLINE uint64_t scan(const char *s)
{
    uint32_t nwords = 0, letters = 0;
    uint64_t numbers = 0;
    int in_word = 0;
    for (; *s; s++) {
        char c = *s;
        if (is_digit(c)) {
            uint32_t v = 0;
            while (is_digit(*s))
                v = v * 10 + (uint32_t)(*s++ - '0');
            numbers += v;
            s--;
            in_word = 0;
        } else if (is_alpha(c)) {
            letters++;
            if (!in_word)
                nwords++;
            in_word = 1;
        } else {
            in_word = 0;
        }
    }
    return numbers * 1000003u + nwords * 131u + letters;
}

/* Toggle the case of every letter (the text is the same after two). */
static NOINLINE void toggle_case(char *s)
{
    for (; *s; s++) {
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 32);
        else if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s + 32);
    }
}

/* Occurrences of pat, by the naive O(n*m) search. */
static NOINLINE uint32_t count_matches(const char *s, const char *pat)
{
    uint32_t count = 0;
    for (; *s; s++) {
        const char *a = s, *b = pat;
        while (*b && *a == *b)
            a++, b++;
        if (!*b)
            count++;
    }
    return count;
}

int main(int argc, char **argv)
{
    int scale = bench_scale(argc, argv, 16);
    uint64_t h = 0;
    for (int r = 0; r < scale; r++) {
        make_text((uint32_t)r);
        for (int k = 0; k < 8; k++) {
            h = bench_mix(h, scan(text));
            toggle_case(text);
            h = bench_mix(h, count_matches(text, (k & 1) ? "LIMA" : "lima"));
            h = bench_mix(h, count_matches(text, "o, "));
        }
    }
    bench_report("strings", h);
    return 0;
}
