/*
 * numeric.h - the parts of wasm arithmetic that C does not give directly:
 * deterministic NaN results, min/max with signed zeros, range checks for trapping and
 * saturating float-to-int conversion, rotations, bit counts.
 *
 * Everything here is exact to the spec (WebAssembly core 2.0, section 4.3).
 * The build uses -ffp-contract=off so that no compiler fuses a*b+c into an
 * FMA, which would change results.
 */
#ifndef LVM_NUMERIC_H
#define LVM_NUMERIC_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t f32_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }
static inline uint64_t f64_bits(double f) { uint64_t b; memcpy(&b, &f, 8); return b; }

static inline uint32_t clz32(uint32_t a) { return a ? (uint32_t)__builtin_clz(a) : 32; }
static inline uint32_t ctz32(uint32_t a) { return a ? (uint32_t)__builtin_ctz(a) : 32; }
static inline uint64_t clz64(uint64_t a) { return a ? (uint64_t)__builtin_clzll(a) : 64; }
static inline uint64_t ctz64(uint64_t a) { return a ? (uint64_t)__builtin_ctzll(a) : 64; }
static inline uint32_t rotl32(uint32_t a, uint32_t n) { n &= 31; return (a << n) | (a >> ((32 - n) & 31)); }
static inline uint32_t rotr32(uint32_t a, uint32_t n) { n &= 31; return (a >> n) | (a << ((32 - n) & 31)); }
static inline uint64_t rotl64(uint64_t a, uint64_t n) { n &= 63; return (a << n) | (a >> ((64 - n) & 63)); }
static inline uint64_t rotr64(uint64_t a, uint64_t n) { n &= 63; return (a >> n) | (a << ((64 - n) & 63)); }

/* {====== NaN results: always the positive canonical NaN
 *
 * The spec lets an operation that yields a NaN pick among several bit
 * patterns (nan:canonical or nan:arithmetic, either sign).  Left to the
 * hardware and the C compiler, the pick differs between lvm's own builds:
 *   - with two NaN operands, x86 SSE returns the first operand's payload
 *     (quieted) and AArch64 a signalling operand's first, so `a + b` and
 *     `a * b` depend on which operand order the compiler chose (it may
 *     commute them: -O1 and -O2 differ);
 *   - a NaN made from numbers (inf - inf, 0 * inf, sqrt(-1)) is negative
 *     on x86 (0xffc00000) and positive on AArch64 (0x7fc00000).
 * So every arithmetic result that is a NaN is replaced by the positive
 * canonical NaN, as the deterministic profile of Wasm 3.0 prescribes and
 * as wasmtime's NaN canonicalization does: the same module gives the same
 * bits in every build, on every machine.  The canonical NaN is always a
 * correct answer (it is both canonical and arithmetic).
 *
 * Which ops: add, sub, mul, div, sqrt, min, max, ceil, floor, trunc,
 * nearest, demote, promote (interp.c's FUNOP and FBINOP rows, and min/max
 * below).  Not abs, neg, copysign, loads, stores, reinterpretations,
 * select: they move bits and must keep a NaN's payload (the spec says
 * so).  Conversions from integers never make a NaN.  Of the ops covered,
 * the rounding ones, demote and promote were deterministic already (a NaN
 * operand comes back quieted on both machines); they follow the same rule
 * so that there is one rule.
 *
 * Cost: a compare of the result with itself and a branch that ordinary
 * code never takes, after the result is stored.  Measured on the float
 * workload of bench/interp: 0.55 s -> 0.57 s of user time (+4%); nothing
 * on the others, which do little float arithmetic.  Rejected
 * alternatives: "the first NaN operand, quieted", which keeps payloads
 * but must test both operands in every op and still needs the canonical
 * NaN for NaNs made from numbers; and leaving NaNs to the hardware, which
 * is what made lvm's builds disagree. */

#define F32_CANONICAL_NAN 0x7fc00000u
#define F64_CANONICAL_NAN 0x7ff8000000000000ull

static inline float f32_nan(void) { uint32_t b = F32_CANONICAL_NAN; float f; memcpy(&f, &b, 4); return f; }
static inline double f64_nan(void) { uint64_t b = F64_CANONICAL_NAN; double f; memcpy(&f, &b, 8); return f; }

/* min/max: a NaN operand gives the canonical NaN; -0 is smaller than +0. */
static inline float f32_min(float a, float b)
{
    if (isnan(a) || isnan(b)) return f32_nan();
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float f32_max(float a, float b)
{
    if (isnan(a) || isnan(b)) return f32_nan();
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double f64_min(double a, double b)
{
    if (isnan(a) || isnan(b)) return f64_nan();
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double f64_max(double a, double b)
{
    if (isnan(a) || isnan(b)) return f64_nan();
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}

/* }====== */

/* Float-to-int range checks: true when trunc(x) fits the target.  The
 * bounds are exact powers of two, representable in both float widths; the
 * signed lower bounds for 32-bit targets from f64 are exclusive because
 * -2^31 - 0.5 truncates to -2^31. */
#define FITS_I32_F32(x) ((x) >= -2147483648.0f && (x) < 2147483648.0f)
#define FITS_U32_F32(x) ((x) > -1.0f && (x) < 4294967296.0f)
#define FITS_I32_F64(x) ((x) > -2147483649.0 && (x) < 2147483648.0)
#define FITS_U32_F64(x) ((x) > -1.0 && (x) < 4294967296.0)
#define FITS_I64_F32(x) ((x) >= -9223372036854775808.0f && (x) < 9223372036854775808.0f)
#define FITS_U64_F32(x) ((x) > -1.0f && (x) < 18446744073709551616.0f)
#define FITS_I64_F64(x) ((x) >= -9223372036854775808.0 && (x) < 9223372036854775808.0)
#define FITS_U64_F64(x) ((x) > -1.0 && (x) < 18446744073709551616.0)

/* Saturating conversions (trunc_sat): NaN -> 0, out of range -> the bound. */
#define SAT(T, x, FITS, MIN, MAX) \
    (isnan(x) ? (T)0 : FITS(x) ? (T)(x) : (x) < 0 ? (T)(MIN) : (T)(MAX))

#endif
