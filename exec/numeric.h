/*
 * numeric.h - the parts of wasm arithmetic that C does not give directly:
 * NaN-propagating min/max with signed zeros, range checks for trapping and
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

/* min/max: a NaN operand gives a NaN (a + b propagates it, quieted, as the
 * spec's nan:arithmetic allows); -0 is smaller than +0. */
static inline float f32_min(float a, float b)
{
    if (isnan(a) || isnan(b)) return a + b;
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float f32_max(float a, float b)
{
    if (isnan(a) || isnan(b)) return a + b;
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double f64_min(double a, double b)
{
    if (isnan(a) || isnan(b)) return a + b;
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double f64_max(double a, double b)
{
    if (isnan(a) || isnan(b)) return a + b;
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}

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
