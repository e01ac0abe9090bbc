/*
 * criterion.h (shim) - the subset of Criterion's API that tests/green
 * uses, for builds where the real library is not available: the static
 * AArch64 cross build that runs under qemu-user (`make aarch64-test`),
 * since Debian ships no static or arm64-cross libcriterion.
 *
 * The tests compile unchanged: mk/green.mk puts tests/green/shim first on
 * the include path and links tests/green/shim/shim_main.c, which runs
 * every registered test in its own forked process, as Criterion does, so
 * that `.signal` and `.timeout` keep their meaning.
 *
 * Supported: Test(suite, name, .timeout = s, .signal = n, .exit_code = n,
 * .disabled = b); cr_assert, cr_assert_not, cr_assert_eq/neq/lt/leq/gt/
 * geq, cr_assert_null/not_null, cr_assert_str_eq, cr_fail.  Every message
 * argument list starts with a format string literal, as in Criterion.
 */
#ifndef GREEN_CRITERION_SHIM_H
#define GREEN_CRITERION_SHIM_H

#include <stdbool.h>
#include <string.h>

struct criterion_test_extra_data {
    double timeout;     /* seconds; 0 = the runner's default */
    int signal;         /* the test must die of this signal */
    int exit_code;      /* ...or exit with this code */
    bool disabled;
};

struct shim_test {
    const char *suite, *name;
    void (*fn)(void);
    struct criterion_test_extra_data extra;
    struct shim_test *next;
};

void shim_register(struct shim_test *t);
__attribute__((noreturn, format(printf, 4, 5)))
void shim_fail(const char *file, int line, const char *expr, const char *fmt, ...);

#define Test(suite, name, ...)                                               \
    static void suite##_##name##_fn(void);                                   \
    static struct shim_test suite##_##name##_desc = {                        \
        #suite, #name, suite##_##name##_fn, { __VA_ARGS__ }, NULL };         \
    __attribute__((constructor)) static void suite##_##name##_reg(void)      \
    { shim_register(&suite##_##name##_desc); }                               \
    static void suite##_##name##_fn(void)

/* The leading " " keeps the format non-empty when no message is given. */
#define cr_assert(cond, ...) \
    do { if (!(cond)) shim_fail(__FILE__, __LINE__, #cond, " " __VA_ARGS__); } while (0)
#define cr_assert_not(cond, ...)      cr_assert(!(cond), __VA_ARGS__)
#define cr_assert_eq(a, b, ...)       cr_assert((a) == (b), __VA_ARGS__)
#define cr_assert_neq(a, b, ...)      cr_assert((a) != (b), __VA_ARGS__)
#define cr_assert_lt(a, b, ...)       cr_assert((a) < (b), __VA_ARGS__)
#define cr_assert_leq(a, b, ...)      cr_assert((a) <= (b), __VA_ARGS__)
#define cr_assert_gt(a, b, ...)       cr_assert((a) > (b), __VA_ARGS__)
#define cr_assert_geq(a, b, ...)      cr_assert((a) >= (b), __VA_ARGS__)
#define cr_assert_null(p, ...)        cr_assert((p) == NULL, __VA_ARGS__)
#define cr_assert_not_null(p, ...)    cr_assert((p) != NULL, __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...)   cr_assert(strcmp((a), (b)) == 0, __VA_ARGS__)
#define cr_fail(...)                  shim_fail(__FILE__, __LINE__, "cr_fail", " " __VA_ARGS__)

#endif
