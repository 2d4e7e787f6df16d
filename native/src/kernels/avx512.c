/*
 * AVX-512F (+DQ) kernels: 16 floats / 8 doubles per vector. Compiled with -mavx512f -mavx512dq
 * -mavx2 -mfma for this file only; dispatch.c calls pm_fill_table__avx512 only after CPUID and
 * XCR0 said the CPU and the OS support AVX-512F/DQ with the opmask and ZMM state.
 *
 * The numerics are those of kernels/avx2.c, operation for operation (same exp reductions,
 * polynomials and constants), so every elementwise result is bit-identical to the AVX2 kernel's
 * and only the order of the double accumulations differs. What AVX-512 changes:
 *   - tails use opmask registers: a masked load (maskz) neither reads nor faults on the lanes
 *     that are off, a masked store writes only the lanes that are on;
 *   - underflow lanes are zeroed with a zero-masked move instead of an AND-NOT;
 *   - the float sums widen 16 floats into two 8-double accumulators.
 *
 * Emulated build: with PANMAX_AVX512_EMULATED the same source is compiled against SIMDe's
 * portable AVX-512 (simde/x86/avx512.h, native aliases) into a test-only library whose dispatch
 * treats AVX-512 as present on any AVX2 machine, so test_api runs these kernels (masks, tails,
 * lane order) on CPUs without AVX-512. The shipped library never contains that build.
 */
#if defined(PANMAX_AVX512_EMULATED)
#define SIMDE_ENABLE_NATIVE_ALIASES 1
#include <simde/x86/avx512.h>
#include "avx512_simde_shim.h"
#else
#include <immintrin.h>
#endif
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "exp_constants.h"
#include "kernels.h"

/* ---- masks -------------------------------------------------------------------------------------- */

/* First `rem` lanes (0 <= rem <= 16 / 8). */
static inline __mmask16 pm_m16(int64_t rem)
{
    return (__mmask16)(rem >= 16 ? 0xFFFFu : (1u << rem) - 1u);
}

static inline __mmask8 pm_m8(int64_t rem)
{
    return (__mmask8)(rem >= 8 ? 0xFFu : (1u << rem) - 1u);
}

/* ---- float exp (see avx2.c for the derivation of both variants) -------------------------------- */


/* k = round(t / ln2) and 2^(k + bias) from one FMA: adding the magic constant 0x1.8p23 + 127 leaves
 * k + 127 in the low mantissa bits, and shifting them by 23 puts them in the exponent field. bias is
 * 0, or PM_F32_SUB_BIAS on the gradual-underflow path (see avx2.c). */
static inline __attribute__((always_inline)) __m512 pm_split_ps(__m512 t, __m512 *two_k, int bias)
{
    const __m512 magic = _mm512_set1_ps(PM_F32_MAGIC_BIAS);
    __m512 nk = _mm512_fmadd_ps(t, _mm512_set1_ps(PM_F32_LOG2E), magic);
    __m512i bits = _mm512_castps_si512(nk);
    if (bias) {
        bits = _mm512_add_epi32(bits, _mm512_set1_epi32(bias));
    }
    *two_k = _mm512_castsi512_ps(_mm512_slli_epi32(bits, 23));
    return _mm512_sub_ps(nk, magic);
}

/* Of the lanes not in `ok` (t < MIN_T), those with t >= SUB_T: gradual underflow. */
static inline __mmask16 pm_subnormal_lanes_ps(__m512 t, __mmask16 ok)
{
    return (__mmask16)(~ok & _mm512_cmp_ps_mask(t, _mm512_set1_ps(PM_F32_SUB_T), _CMP_GE_OQ));
}

/* Default exp core, t <= 0: 16-entry table in one register (vpermd), degree-3 polynomial on
 * |r| <= ln2/32; 7 FMA-port operations per 16 floats against 9 for avx2.c's rr2-p5 form. Times
 * 2^bias, lanes outside `keep` zeroed. */
static inline __attribute__((always_inline)) __m512 pm_exp_core_ps(__m512 t, int bias, __mmask16 keep)
{
    const __m512 round = _mm512_set1_ps(PM_F32_ROUND);
    __m512 nk = _mm512_fmadd_ps(t, _mm512_set1_ps(PM_F32_16_LOG2E), round);
    __m512 k = _mm512_sub_ps(nk, round);
    __m512i kb = _mm512_castps_si512(nk);               /* low bits: k = 16 a + j, two's complement */
    __m512i tj = _mm512_permutexvar_epi32(kb, _mm512_load_si512(pm_exp2_table16_f32)); /* j = k & 15 */
    __m512i a = _mm512_and_si512(_mm512_slli_epi32(kb, 19), _mm512_set1_epi32((int)0xFF800000u));
    if (bias) {
        a = _mm512_add_epi32(a, _mm512_set1_epi32(bias << 23));
    }
    __m512 sc = _mm512_castsi512_ps(_mm512_add_epi32(tj, a)); /* 2^(a + bias) T[j], normal where used */
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(PM_F32_LN2_16_HI), t);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(PM_F32_LN2_16_LO), r);
    __m512 p = _mm512_fmadd_ps(r, _mm512_set1_ps(1.0f / 6), _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_maskz_fmadd_ps(keep, _mm512_mul_ps(sc, r), p, sc);
}

static __attribute__((noinline, cold)) __m512 pm_exp_sub_ps(__m512 t, __m512 e, __mmask16 sub)
{
    __m512 es = _mm512_mul_ps(pm_exp_core_ps(t, PM_F32_SUB_BIAS, 0xFFFF), _mm512_set1_ps(PM_F32_SUB_UNSCALE));
    return _mm512_mask_blend_ps(sub, e, es);
}

/* exp(t) for t <= 0 or NaN: lanes below MIN_T zeroed, those in [SUB_T, MIN_T) then given their
 * subnormal value on a rare path (see avx2.c); NaN flows through. */
static inline __m512 pm_exp_ps(__m512 t)
{
    __mmask16 ok = _mm512_cmp_ps_mask(t, _mm512_set1_ps(PM_F32_MIN_T), _CMP_NLT_UQ); /* NaN: kept */
    __m512 e = pm_exp_core_ps(t, 0, ok);
    if (__builtin_expect(ok != 0xFFFF, 0)) {
        __mmask16 sub = pm_subnormal_lanes_ps(t, ok);
        if (__builtin_expect(sub != 0, 0)) {
            e = pm_exp_sub_ps(t, e, sub);
        }
    }
    return e;
}

/* Cephes e^r on |r| <= ln2/2, rounded once at the final 1 + (...). */
static inline __m512 pm_expr_ps(__m512 r)
{
    __m512 p = _mm512_set1_ps(PM_F32_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(PM_F32_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(PM_F32_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(PM_F32_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(PM_F32_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(PM_F32_P5));
    __m512 r2 = _mm512_mul_ps(r, r);
    return _mm512_add_ps(_mm512_fmadd_ps(p, r2, r), _mm512_set1_ps(1.0f));
}

/* The EXACT exp of t + lo (lo a small low-order part folded into the reduction) times 2^bias; k and
 * 2^k from one FMA with the magic constant, as in avx2.c. */
static inline __attribute__((always_inline)) __m512 pm_exp2parts_core_ps(__m512 t, __m512 lo, int bias)
{
    __m512 two_k;
    __m512 k = pm_split_ps(t, &two_k, bias);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(PM_F32_LN2_HI), t);
    r = _mm512_add_ps(r, _mm512_fnmadd_ps(k, _mm512_set1_ps(PM_F32_LN2_LO), lo));
    return _mm512_mul_ps(pm_expr_ps(r), two_k);
}

static __attribute__((noinline, cold)) __m512 pm_exp2parts_sub_ps(__m512 t, __m512 lo, __m512 e, __mmask16 sub)
{
    __m512 es = _mm512_mul_ps(pm_exp2parts_core_ps(t, lo, PM_F32_SUB_BIAS), _mm512_set1_ps(PM_F32_SUB_UNSCALE));
    return _mm512_mask_blend_ps(sub, e, es);
}

/* exp(t + lo) for t <= 0 or NaN (EXACT mode), with the same underflow handling as pm_exp_ps. */
static inline __m512 pm_exp2parts_ps(__m512 t, __m512 lo)
{
    __mmask16 ok = _mm512_cmp_ps_mask(t, _mm512_set1_ps(PM_F32_MIN_T), _CMP_NLT_UQ); /* NaN: ok */
    __m512 e = _mm512_maskz_mov_ps(ok, pm_exp2parts_core_ps(t, lo, 0));
    if (__builtin_expect(ok != 0xFFFF, 0)) {
        __mmask16 sub = pm_subnormal_lanes_ps(t, ok);
        if (__builtin_expect(sub != 0, 0)) {
            e = pm_exp2parts_sub_ps(t, lo, e, sub);
        }
    }
    return e;
}

/* ---- float helpers ----------------------------------------------------------------------------- */

/* Widens 16 floats into two double accumulators (exact). */
static inline void pm_acc_ps(__m512d *a0, __m512d *a1, __m512 v)
{
    *a0 = _mm512_add_pd(*a0, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    *a1 = _mm512_add_pd(*a1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
}

static inline __attribute__((always_inline)) __m512 pm_ts_ps(__m512 v, __m512 m, __m512 s, int scaled)
{
    __m512 d = _mm512_sub_ps(v, m);
    return scaled ? _mm512_mul_ps(d, s) : d;
}

/* ---- float kernels ------------------------------------------------------------------------------- */

static float pm_rmax_f32__avx512(const float *x, int64_t n)
{
    /* VMAXPS returns the second operand when either is NaN: NaN entries are skipped. */
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512 m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        m0 = _mm512_max_ps(_mm512_loadu_ps(x + i), m0);
        m1 = _mm512_max_ps(_mm512_loadu_ps(x + i + 16), m1);
        m2 = _mm512_max_ps(_mm512_loadu_ps(x + i + 32), m2);
        m3 = _mm512_max_ps(_mm512_loadu_ps(x + i + 48), m3);
    }
    for (; i < n; i += 16) {
        m0 = _mm512_max_ps(_mm512_mask_loadu_ps(ninf, pm_m16(n - i), x + i), m0);
    }
    return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
}

static inline __attribute__((always_inline)) double
pm_expsum_store_f32_body(const float *x, float *y, int64_t n, float m, float s, int scaled, int ahead)
{
    const __m512 vm = _mm512_set1_ps(m), vs = _mm512_set1_ps(s);
    __m512d a0 = _mm512_setzero_pd(), a1 = a0;
    int64_t i = 0;
    /* 64 floats per iteration, summed as a float tree of depth 2 (<= 2^-23 relative, see
     * kernels.h) before the widening to double, which is then paid once per 64 instead of 32. */
    for (; i + 64 <= n; i += 64) {
        if (ahead) { /* the next n floats, 256 bytes per 64 computed (see kernels.h) */
            _mm_prefetch((const char *)(x + n + i), _MM_HINT_T0);
            _mm_prefetch((const char *)(x + n + i + 16), _MM_HINT_T0);
            _mm_prefetch((const char *)(x + n + i + 32), _MM_HINT_T0);
            _mm_prefetch((const char *)(x + n + i + 48), _MM_HINT_T0);
        }
        __m512 e0 = pm_exp_ps(pm_ts_ps(_mm512_loadu_ps(x + i), vm, vs, scaled));
        __m512 e1 = pm_exp_ps(pm_ts_ps(_mm512_loadu_ps(x + i + 16), vm, vs, scaled));
        __m512 e2 = pm_exp_ps(pm_ts_ps(_mm512_loadu_ps(x + i + 32), vm, vs, scaled));
        __m512 e3 = pm_exp_ps(pm_ts_ps(_mm512_loadu_ps(x + i + 48), vm, vs, scaled));
        _mm512_storeu_ps(y + i, e0);
        _mm512_storeu_ps(y + i + 16, e1);
        _mm512_storeu_ps(y + i + 32, e2);
        _mm512_storeu_ps(y + i + 48, e3);
        pm_acc_ps(&a0, &a1, _mm512_add_ps(_mm512_add_ps(e0, e1), _mm512_add_ps(e2, e3)));
    }
    for (; i + 32 <= n; i += 32) {
        if (ahead) {
            _mm_prefetch((const char *)(x + n + i), _MM_HINT_T0);
            _mm_prefetch((const char *)(x + n + i + 16), _MM_HINT_T0);
        }
        __m512 e0 = pm_exp_ps(pm_ts_ps(_mm512_loadu_ps(x + i), vm, vs, scaled));
        __m512 e1 = pm_exp_ps(pm_ts_ps(_mm512_loadu_ps(x + i + 16), vm, vs, scaled));
        _mm512_storeu_ps(y + i, e0);
        _mm512_storeu_ps(y + i + 16, e1);
        pm_acc_ps(&a0, &a1, _mm512_add_ps(e0, e1));
    }
    for (; i < n; i += 16) {
        __mmask16 k = pm_m16(n - i);
        __m512 e = _mm512_maskz_mov_ps(k, pm_exp_ps(pm_ts_ps(_mm512_maskz_loadu_ps(k, x + i), vm, vs, scaled)));
        _mm512_mask_storeu_ps(y + i, k, e);
        pm_acc_ps(&a0, &a1, e);
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
}

static double pm_expsum_store_f32__avx512(const float *x, float *y, int64_t n, float m, float s)
{
    return s == 1.0f ? pm_expsum_store_f32_body(x, y, n, m, s, 0, 0)
                     : pm_expsum_store_f32_body(x, y, n, m, s, 1, 0);
}

static double pm_expsum_store_ahead_f32__avx512(const float *x, float *y, int64_t n, float m, float s)
{
    return s == 1.0f ? pm_expsum_store_f32_body(x, y, n, m, s, 0, 1)
                     : pm_expsum_store_f32_body(x, y, n, m, s, 1, 1);
}

/* softmax of a row of n <= 16 floats in one register (see avx2.c: same operations as the general
 * path, identical results; returns 0, writing nothing, for a row that is not finite). */
static int pm_softmax_small_f32__avx512(const float *x, float *y, int64_t n, float s)
{
    const __mmask16 k = pm_m16(n);
    const __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, x);
    const float m = _mm512_reduce_max_ps(v);
    if (!(m > -INFINITY && -FLT_MAX - m > -INFINITY)) { /* NaN, +inf, all -inf, or x - m may overflow */
        return 0;
    }
    __m512 t = _mm512_sub_ps(v, _mm512_set1_ps(m));
    if (s != 1.0f) {
        t = _mm512_mul_ps(t, _mm512_set1_ps(s));
    }
    const __m512 e = _mm512_maskz_mov_ps(k, pm_exp_ps(t));
    __m512d a0 = _mm512_setzero_pd(), a1 = a0;
    pm_acc_ps(&a0, &a1, e);
    const double sum = _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
    if (isnan(sum)) {
        return 0;
    }
    _mm512_mask_storeu_ps(y, k, _mm512_mul_ps(e, _mm512_set1_ps((float)(1.0 / sum))));
    return 1;
}

static double pm_expsum_f32__avx512(const float *x, int64_t n, float m, float s)
{
    const __m512 vm = _mm512_set1_ps(m), vs = _mm512_set1_ps(s);
    __m512d a0 = _mm512_setzero_pd(), a1 = a0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) { /* as in pm_expsum_store_f32_body */
        __m512 e0 = pm_exp_ps(pm_ts_ps(_mm512_loadu_ps(x + i), vm, vs, 1));
        __m512 e1 = pm_exp_ps(pm_ts_ps(_mm512_loadu_ps(x + i + 16), vm, vs, 1));
        __m512 e2 = pm_exp_ps(pm_ts_ps(_mm512_loadu_ps(x + i + 32), vm, vs, 1));
        __m512 e3 = pm_exp_ps(pm_ts_ps(_mm512_loadu_ps(x + i + 48), vm, vs, 1));
        pm_acc_ps(&a0, &a1, _mm512_add_ps(_mm512_add_ps(e0, e1), _mm512_add_ps(e2, e3)));
    }
    for (; i + 32 <= n; i += 32) {
        __m512 e0 = pm_exp_ps(pm_ts_ps(_mm512_loadu_ps(x + i), vm, vs, 1));
        __m512 e1 = pm_exp_ps(pm_ts_ps(_mm512_loadu_ps(x + i + 16), vm, vs, 1));
        pm_acc_ps(&a0, &a1, _mm512_add_ps(e0, e1));
    }
    for (; i < n; i += 16) {
        __mmask16 k = pm_m16(n - i);
        __m512 t = pm_ts_ps(_mm512_maskz_loadu_ps(k, x + i), vm, vs, 1);
        pm_acc_ps(&a0, &a1, _mm512_maskz_mov_ps(k, pm_exp_ps(t)));
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
}

static void pm_scale_f32__avx512(const float *x, float *y, int64_t n, float c)
{
    const __m512 vc = _mm512_set1_ps(c);
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 a = _mm512_mul_ps(_mm512_loadu_ps(x + i), vc);
        __m512 b = _mm512_mul_ps(_mm512_loadu_ps(x + i + 16), vc);
        __m512 d = _mm512_mul_ps(_mm512_loadu_ps(x + i + 32), vc);
        __m512 e = _mm512_mul_ps(_mm512_loadu_ps(x + i + 48), vc);
        _mm512_storeu_ps(y + i, a);
        _mm512_storeu_ps(y + i + 16, b);
        _mm512_storeu_ps(y + i + 32, d);
        _mm512_storeu_ps(y + i + 48, e);
    }
    for (; i < n; i += 16) {
        __mmask16 k = pm_m16(n - i);
        _mm512_mask_storeu_ps(y + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), vc));
    }
}

static void pm_shiftscale_f32__avx512(const float *x, float *y, int64_t n, float m, float s, float c)
{
    const __m512 vm = _mm512_set1_ps(m), vs = _mm512_set1_ps(s), vc = _mm512_set1_ps(c);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 k = pm_m16(n - i);
        __m512 t = pm_ts_ps(_mm512_maskz_loadu_ps(k, x + i), vm, vs, 1);
        _mm512_mask_storeu_ps(y + i, k, _mm512_sub_ps(t, vc));
    }
}

static double pm_sum_f32__avx512(const float *x, int64_t n)
{
    __m512d a0 = _mm512_setzero_pd(), a1 = a0;
    for (int64_t i = 0; i < n; i += 16) {
        pm_acc_ps(&a0, &a1, _mm512_maskz_loadu_ps(pm_m16(n - i), x + i));
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
}

/* Products of floats are exact in double: widen both, multiply-add in double. */
static double pm_dot_f32__avx512(const float *a, const float *b, int64_t n)
{
    __m512d s0 = _mm512_setzero_pd(), s1 = s0;
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 k = pm_m16(n - i);
        __m512 va = _mm512_maskz_loadu_ps(k, a + i), vb = _mm512_maskz_loadu_ps(k, b + i);
        s0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(va)),
                             _mm512_cvtps_pd(_mm512_castps512_ps256(vb)), s0);
        s1 = _mm512_fmadd_pd(
            _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(va), 1))),
            _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(vb), 1))), s1);
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
}

static void pm_submul_f32__avx512(const float *p, const float *dy, float *dx, int64_t n, float c)
{
    const __m512 vc = _mm512_set1_ps(c);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 k = pm_m16(n - i);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, dy + i), vc);
        _mm512_mask_storeu_ps(dx + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, p + i), d));
    }
}

static void pm_subexp_f32__avx512(const float *a, const float *dy, float *dx, int64_t n, float c)
{
    const __m512 vc = _mm512_set1_ps(c);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 k = pm_m16(n - i);
        __m512 e = pm_exp_ps(_mm512_maskz_loadu_ps(k, a + i));
        _mm512_mask_storeu_ps(dx + i, k, _mm512_fnmadd_ps(e, vc, _mm512_maskz_loadu_ps(k, dy + i)));
    }
}

/* EXACT mode: x - m as a TwoSum pair, times s keeping the product's error (see avx2.c). */
static inline void pm_exact_t_ps(__m512 x, __m512 negm, __m512 s, int scaled, __m512 *hi, __m512 *lo)
{
    __m512 d = _mm512_add_ps(x, negm);
    __m512 bb = _mm512_sub_ps(d, x);
    __m512 dlo = _mm512_add_ps(_mm512_sub_ps(x, _mm512_sub_ps(d, bb)), _mm512_sub_ps(negm, bb));
    if (!scaled) { /* T = 1: the pair is (d, dlo) itself */
        *hi = d;
        *lo = dlo;
        return;
    }
    __m512 p = _mm512_mul_ps(d, s);
    *lo = _mm512_fmadd_ps(dlo, s, _mm512_fmsub_ps(d, s, p));
    *hi = p;
}

static double pm_expsum_exact_f32__avx512(const float *x, int64_t n, float m, float s)
{
    const int scaled = s != 1.0f;
    const __m512 negm = _mm512_set1_ps(-m), vs = _mm512_set1_ps(s);
    __m512d a0 = _mm512_setzero_pd(), a1 = a0;
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 k = pm_m16(n - i);
        __m512 hi, lo;
        pm_exact_t_ps(_mm512_maskz_loadu_ps(k, x + i), negm, vs, scaled, &hi, &lo);
        pm_acc_ps(&a0, &a1, _mm512_maskz_mov_ps(k, pm_exp2parts_ps(hi, lo)));
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
}

static void pm_exp_exact_f32__avx512(const float *x, float *y, int64_t n, float m, float s, double lse)
{
    const int scaled = s != 1.0f;
    const __m512 negm = _mm512_set1_ps(-m), vs = _mm512_set1_ps(s);
    const float lse_hi = (float)lse;
    const __m512 neg_lse_hi = _mm512_set1_ps(-lse_hi);
    const __m512 neg_lse_lo = _mm512_set1_ps((float)(-(lse - (double)lse_hi)));
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 k = pm_m16(n - i);
        __m512 hi, lo;
        pm_exact_t_ps(_mm512_maskz_loadu_ps(k, x + i), negm, vs, scaled, &hi, &lo);
        __m512 a = _mm512_add_ps(hi, neg_lse_hi);
        __m512 bb = _mm512_sub_ps(a, hi);
        __m512 alo = _mm512_add_ps(_mm512_sub_ps(hi, _mm512_sub_ps(a, bb)), _mm512_sub_ps(neg_lse_hi, bb));
        __m512 e = pm_exp2parts_ps(a, _mm512_add_ps(alo, _mm512_add_ps(lo, neg_lse_lo)));
        _mm512_mask_storeu_ps(y + i, k, e);
    }
}

/* ---- double exp (table-driven, see avx2.c) ------------------------------------------------------ */


/* k = round(16 t / ln2), 2^(k/16) = 2^(k >> 4) T[k & 15] with T in two registers (one vpermi2pd
 * instead of avx2.c's table gather), and a degree-7 polynomial on |r| <= ln2/32 (truncation
 * r^8/8! < 0.01 ulp). Two FMAs more than the 64-entry form, but the 8-double gather it removes
 * was ~30 % of the f64 softmax at n = 1024. tc is clamped (>= MIN_T, or >= SUB_T on the rare
 * path); the result is times 2^bias, lanes outside `keep` zeroed. */
static inline __attribute__((always_inline)) __m512d pm_exp_core_pd(__m512d tc, int bias, __mmask8 keep)
{
    const __m512d magic = _mm512_set1_pd(PM_F64_ROUND);
    __m512d kr = _mm512_fmadd_pd(tc, _mm512_set1_pd(PM_F64_INV_LN2_16), magic);
    __m512d k = _mm512_sub_pd(kr, magic);
    __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(PM_F64_LN2_HI / 16), tc);
    r = _mm512_fnmadd_pd(k, _mm512_set1_pd(PM_F64_LN2_LO / 16), r);
    __m512i ki = _mm512_sub_epi64(_mm512_castpd_si512(kr), _mm512_castpd_si512(magic));
    __m512d tj = _mm512_permutex2var_pd(_mm512_load_pd(pm_exp2_table16), ki, _mm512_load_pd(pm_exp2_table16 + 8));
    __m512i e = _mm512_slli_epi64(_mm512_andnot_si512(_mm512_set1_epi64(15), ki), 48);
    if (bias) {
        e = _mm512_add_epi64(e, _mm512_set1_epi64((int64_t)bias << 52));
    }
    __m512d sc = _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(tj), e));
    __m512d q = _mm512_fmadd_pd(_mm512_set1_pd(1.0 / 5040), r, _mm512_set1_pd(1.0 / 720));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(1.0 / 120));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(1.0 / 24));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(1.0 / 6));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.5));
    q = _mm512_fmadd_pd(q, _mm512_mul_pd(r, r), r);
    return _mm512_maskz_mov_pd(keep, _mm512_fmadd_pd(sc, q, sc));
}

/* The rare path of pm_exp_pd: the lanes in `sub` (SUB_T <= t < MIN_T) get their subnormal value. */
static __attribute__((noinline, cold)) __m512d pm_exp_sub_pd(__m512d t, __m512d e, __mmask8 sub)
{
    __m512d es = _mm512_mul_pd(pm_exp_core_pd(_mm512_max_pd(_mm512_set1_pd(PM_F64_SUB_T), t), PM_F64_SUB_BIAS, 0xFF),
                               _mm512_set1_pd(PM_F64_SUB_UNSCALE));
    return _mm512_mask_blend_pd(sub, e, es);
}

static inline __m512d pm_exp_pd(__m512d t)
{
    const __m512d min_t = _mm512_set1_pd(PM_F64_MIN_T);
    __mmask8 ok = _mm512_cmp_pd_mask(t, min_t, _CMP_NLT_UQ);
    __m512d e = pm_exp_core_pd(_mm512_max_pd(min_t, t), 0, ok);
    if (__builtin_expect(ok != 0xFF, 0)) {
        __mmask8 sub = (__mmask8)(~ok & _mm512_cmp_pd_mask(t, _mm512_set1_pd(PM_F64_SUB_T), _CMP_GE_OQ));
        if (__builtin_expect(sub != 0, 0)) {
            e = pm_exp_sub_pd(t, e, sub);
        }
    }
    return e;
}

/* ---- double kernels ------------------------------------------------------------------------------ */

static double pm_rmax_f64__avx512(const double *x, int64_t n)
{
    const __m512d ninf = _mm512_set1_pd(-INFINITY);
    __m512d m0 = ninf, m1 = ninf;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        m0 = _mm512_max_pd(_mm512_loadu_pd(x + i), m0);
        m1 = _mm512_max_pd(_mm512_loadu_pd(x + i + 8), m1);
    }
    for (; i < n; i += 8) {
        m0 = _mm512_max_pd(_mm512_mask_loadu_pd(ninf, pm_m8(n - i), x + i), m0);
    }
    return _mm512_reduce_max_pd(_mm512_max_pd(m0, m1));
}

static inline __m512d pm_t_pd(__m512d v, __m512d m, __m512d s)
{
    return _mm512_mul_pd(_mm512_sub_pd(v, m), s);
}

static double pm_expsum_store_f64__avx512(const double *x, double *y, int64_t n, double m, double s)
{
    const __m512d vm = _mm512_set1_pd(m), vs = _mm512_set1_pd(s);
    __m512d a0 = _mm512_setzero_pd(), a1 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512d e0 = pm_exp_pd(pm_t_pd(_mm512_loadu_pd(x + i), vm, vs));
        __m512d e1 = pm_exp_pd(pm_t_pd(_mm512_loadu_pd(x + i + 8), vm, vs));
        _mm512_storeu_pd(y + i, e0);
        _mm512_storeu_pd(y + i + 8, e1);
        a0 = _mm512_add_pd(a0, e0);
        a1 = _mm512_add_pd(a1, e1);
    }
    for (; i < n; i += 8) {
        __mmask8 k = pm_m8(n - i);
        __m512d e = _mm512_maskz_mov_pd(k, pm_exp_pd(pm_t_pd(_mm512_maskz_loadu_pd(k, x + i), vm, vs)));
        _mm512_mask_storeu_pd(y + i, k, e);
        a0 = _mm512_add_pd(a0, e);
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
}

static double pm_expsum_f64__avx512(const double *x, int64_t n, double m, double s)
{
    const __m512d vm = _mm512_set1_pd(m), vs = _mm512_set1_pd(s);
    __m512d a0 = _mm512_setzero_pd(), a1 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm512_add_pd(a0, pm_exp_pd(pm_t_pd(_mm512_loadu_pd(x + i), vm, vs)));
        a1 = _mm512_add_pd(a1, pm_exp_pd(pm_t_pd(_mm512_loadu_pd(x + i + 8), vm, vs)));
    }
    for (; i < n; i += 8) {
        __mmask8 k = pm_m8(n - i);
        a0 = _mm512_add_pd(a0, _mm512_maskz_mov_pd(k, pm_exp_pd(pm_t_pd(_mm512_maskz_loadu_pd(k, x + i), vm, vs))));
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
}

static void pm_scale_f64__avx512(const double *x, double *y, int64_t n, double c)
{
    const __m512d vc = _mm512_set1_pd(c);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512d a = _mm512_mul_pd(_mm512_loadu_pd(x + i), vc);
        __m512d b = _mm512_mul_pd(_mm512_loadu_pd(x + i + 8), vc);
        __m512d d = _mm512_mul_pd(_mm512_loadu_pd(x + i + 16), vc);
        __m512d e = _mm512_mul_pd(_mm512_loadu_pd(x + i + 24), vc);
        _mm512_storeu_pd(y + i, a);
        _mm512_storeu_pd(y + i + 8, b);
        _mm512_storeu_pd(y + i + 16, d);
        _mm512_storeu_pd(y + i + 24, e);
    }
    for (; i < n; i += 8) {
        __mmask8 k = pm_m8(n - i);
        _mm512_mask_storeu_pd(y + i, k, _mm512_mul_pd(_mm512_maskz_loadu_pd(k, x + i), vc));
    }
}

static void pm_shiftscale_f64__avx512(const double *x, double *y, int64_t n, double m, double s, double c)
{
    const __m512d vm = _mm512_set1_pd(m), vs = _mm512_set1_pd(s), vc = _mm512_set1_pd(c);
    for (int64_t i = 0; i < n; i += 8) {
        __mmask8 k = pm_m8(n - i);
        __m512d t = pm_t_pd(_mm512_maskz_loadu_pd(k, x + i), vm, vs);
        _mm512_mask_storeu_pd(y + i, k, _mm512_sub_pd(t, vc));
    }
}

static double pm_dot_f64__avx512(const double *a, const double *b, int64_t n)
{
    __m512d s0 = _mm512_setzero_pd(), s1 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm512_fmadd_pd(_mm512_loadu_pd(a + i), _mm512_loadu_pd(b + i), s0);
        s1 = _mm512_fmadd_pd(_mm512_loadu_pd(a + i + 8), _mm512_loadu_pd(b + i + 8), s1);
    }
    for (; i < n; i += 8) {
        __mmask8 k = pm_m8(n - i);
        s0 = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(k, a + i), _mm512_maskz_loadu_pd(k, b + i), s0);
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
}

static void pm_submul_f64__avx512(const double *p, const double *dy, double *dx, int64_t n, double c)
{
    const __m512d vc = _mm512_set1_pd(c);
    for (int64_t i = 0; i < n; i += 8) {
        __mmask8 k = pm_m8(n - i);
        __m512d d = _mm512_sub_pd(_mm512_maskz_loadu_pd(k, dy + i), vc);
        _mm512_mask_storeu_pd(dx + i, k, _mm512_mul_pd(_mm512_maskz_loadu_pd(k, p + i), d));
    }
}

/* ---- the table ---------------------------------------------------------------------------------- */

void pm_fill_table__avx512(pm_isa_table *t)
{
    /* The same slots as avx2.c; the others keep what dispatch.c put there before (AVX2). */
    t->name = "avx512";
    t->f32.rmax = pm_rmax_f32__avx512;
    t->f32.expsum_store = pm_expsum_store_f32__avx512;
    t->f32.expsum_store_ahead = pm_expsum_store_ahead_f32__avx512;
    t->f32.softmax_small = pm_softmax_small_f32__avx512;
    t->f32.expsum = pm_expsum_f32__avx512;
    t->f32.scale = pm_scale_f32__avx512;
    t->f32.shiftscale = pm_shiftscale_f32__avx512;
    t->f32.sum = pm_sum_f32__avx512;
    t->f32.dot = pm_dot_f32__avx512;
    t->f32.submul = pm_submul_f32__avx512;
    t->f32.subexp = pm_subexp_f32__avx512;
    t->f32.expsum_exact = pm_expsum_exact_f32__avx512;
    t->f32.exp_exact = pm_exp_exact_f32__avx512;

    t->f64.rmax = pm_rmax_f64__avx512;
    t->f64.expsum_store = pm_expsum_store_f64__avx512;
    t->f64.expsum = pm_expsum_f64__avx512;
    t->f64.scale = pm_scale_f64__avx512;
    t->f64.shiftscale = pm_shiftscale_f64__avx512;
    t->f64.dot = pm_dot_f64__avx512;
    t->f64.submul = pm_submul_f64__avx512;
}
