/*
 * AVX2 + FMA kernels (compiled with -mavx2 -mfma for this file only; dispatch.c calls
 * pm_fill_table__avx2 only after CPUID and XCR0 said the CPU and OS support AVX2/FMA/YMM).
 *
 * exp, three variants, all for t <= 0 or NaN (kernels.h), all exp(t) = 2^k * e^r:
 *   - float, default (pm_exp_ps): k = round(t / ln2) and 2^k from one FMA with a magic constant
 *     (pm_split_ps), r = t - k ln2 with ln2 split in a 9-bit part (k * LN2_HI exact) and a rest
 *     (Cody & Waite), e^r = 1 + r p(r) with a degree-5 minimax p, the coefficients of XNNPACK's
 *     "rr2-p5" float exp (about 1.5 ulp);
 *   - float, EXACT mode (pm_exp2parts_ps): the same reduction of t plus a low-order part lo, and
 *     e^r = 1 + r + r^2 P(r) with the minimax P of Cephes expf.c (S. L. Moshier, < 1 ulp);
 *   - double (pm_exp_pd): table-driven, k = round(64 t / ln2), 2^(k/64) = 2^(k >> 6) T[k & 63] with
 *     the 64 table entries gathered, e^r - 1 from the Taylor series to degree 5 on |r| <= ln2/128
 *     (about 1 ulp).
 * Underflow is gradual (kernels.h): lanes with t below the smallest normal result (MIN_T, -87.34 /
 * -708.40; t = -inf included) are zeroed, and when a vector has any, a cold path gives the lanes in
 * [SUB_T, MIN_T) (-104 / -746) their subnormal value: the same computation with the scale 2^(k + 64)
 * (double: 2^(k + 512)), which is normal, then times 2^-64 (2^-512), so the result is rounded once,
 * into the subnormal range. Below SUB_T the result rounds to +0 anyway. The common case pays one
 * VMOVMSKPS and a predicted branch per vector. NaN flows through: the compares are false for NaN, and
 * the double clamp max(MIN_T, t) returns t when t is NaN (VMAXPD returns its second operand).
 *
 * Tails: the last n % width elements go through VMASKMOV with a mask from a sliding table, so no
 * byte outside [x, x + n) is read or written (masked-off lanes never fault).
 *
 * Sums: four exp vectors are added pairwise in float (2 roundings of relative 2^-24) and the result
 * is widened to double and accumulated there, so a float row of any length keeps its sum within ~1 ulp.
 */
#include <immintrin.h>
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "exp_constants.h"
#include "kernels.h"

/* ---- masks for tails --------------------------------------------------------------------------- */

static const int32_t pm_mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/* First `rem` (0..8) lanes set. */
static inline __m256i pm_mask_ps(int64_t rem)
{
    return _mm256_loadu_si256((const __m256i *)(pm_mask_table + 8 - rem));
}

/* First `rem` (0..4) double lanes set (each lane = two int32 entries). */
static inline __m256i pm_mask_pd(int64_t rem)
{
    return _mm256_loadu_si256((const __m256i *)(pm_mask_table + 8 - 2 * rem));
}

/* ---- float exp -------------------------------------------------------------------------------- */

/* k = round(t / ln2) and 2^(k + bias) from one FMA: adding the magic constant 0x1.8p23 + 127 leaves
 * k + 127 in the low mantissa bits, and shifting them by 23 puts them in the exponent field. bias is
 * 0, or PM_F32_SUB_BIAS on the gradual-underflow path (2^k alone would not be a normal number). */
static inline __attribute__((always_inline)) __m256 pm_split_ps(__m256 t, __m256 *two_k, int bias)
{
    const __m256 magic = _mm256_set1_ps(PM_F32_MAGIC_BIAS);
    __m256 nk = _mm256_fmadd_ps(t, _mm256_set1_ps(PM_F32_LOG2E), magic);
    __m256i bits = _mm256_castps_si256(nk);
    if (bias) {
        bits = _mm256_add_epi32(bits, _mm256_set1_epi32(bias));
    }
    *two_k = _mm256_castsi256_ps(_mm256_slli_epi32(bits, 23));
    return _mm256_sub_ps(nk, magic);
}

/* Lanes with SUB_T <= t < MIN_T: gradual underflow. */
static inline __m256 pm_subnormal_lanes_ps(__m256 t, __m256 under)
{
    return _mm256_and_ps(under, _mm256_cmp_ps(t, _mm256_set1_ps(PM_F32_SUB_T), _CMP_GE_OQ));
}

/* e^r for |r| <= ln2/2 from Cephes expf.c's minimax P, rounded once at the final 1 + (...). */
static inline __m256 pm_expr_ps(__m256 r)
{
    __m256 p = _mm256_set1_ps(PM_F32_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(PM_F32_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(PM_F32_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(PM_F32_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(PM_F32_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(PM_F32_P5));
    __m256 r2 = _mm256_mul_ps(r, r);
    return _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), _mm256_set1_ps(1.0f));
}

/* The EXACT exp of t + lo (lo: a low-order part added inside the reduction), times 2^bias. */
static inline __attribute__((always_inline)) __m256 pm_exp2parts_core_ps(__m256 t, __m256 lo, int bias)
{
    __m256 scale;
    __m256 k = pm_split_ps(t, &scale, bias);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(PM_F32_LN2_HI), t); /* exact (Sterbenz) */
    r = _mm256_add_ps(r, _mm256_fnmadd_ps(k, _mm256_set1_ps(PM_F32_LN2_LO), lo));
    return _mm256_mul_ps(pm_expr_ps(r), scale);
}

/* The rare path of pm_exp2parts_ps: the subnormal results of the lanes in `sub`. */
static __attribute__((noinline, cold)) __m256 pm_exp2parts_sub_ps(__m256 t, __m256 lo, __m256 e, __m256 sub)
{
    __m256 es = _mm256_mul_ps(pm_exp2parts_core_ps(t, lo, PM_F32_SUB_BIAS), _mm256_set1_ps(PM_F32_SUB_UNSCALE));
    return _mm256_blendv_ps(e, es, sub);
}

/* exp(t + lo) for t <= 0 or NaN (EXACT mode). Lanes under SUB_T give +0, lanes in [SUB_T, MIN_T)
 * the subnormal value (rare path), NaN flows through. */
static inline __m256 pm_exp2parts_ps(__m256 t, __m256 lo)
{
    __m256 under = _mm256_cmp_ps(t, _mm256_set1_ps(PM_F32_MIN_T), _CMP_LT_OQ); /* false for NaN */
    __m256 e = _mm256_andnot_ps(under, pm_exp2parts_core_ps(t, lo, 0));
    if (__builtin_expect(_mm256_movemask_ps(under) != 0, 0)) {
        __m256 sub = pm_subnormal_lanes_ps(t, under);
        if (__builtin_expect(_mm256_movemask_ps(sub) != 0, 0)) {
            e = pm_exp2parts_sub_ps(t, lo, e, sub);
        }
    }
    return e;
}

/*
 * The default (fast) exp: the same reduction (pm_split_ps), and e^r from a degree-5 minimax polynomial,
 * 1 + r (c1 + r (c2 + r (c3 + r (c4 + r c5)))), with the coefficients of XNNPACK's f32 "rr2-p5"
 * exp kernels (numbers only; max error about 1.5 ulp over the reduced range), times 2^bias.
 */
static inline __attribute__((always_inline)) __m256 pm_exp_core_ps(__m256 t, int bias)
{
    __m256 scale;
    __m256 k = pm_split_ps(t, &scale, bias);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(PM_F32_LN2_HI), t);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(PM_F32_LN2_LO), r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(PM_F32_C5), r, _mm256_set1_ps(PM_F32_C4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(PM_F32_C3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(PM_F32_C2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(PM_F32_C1));
    __m256 rs = _mm256_mul_ps(r, scale);
    return _mm256_fmadd_ps(rs, p, scale);
}

static __attribute__((noinline, cold)) __m256 pm_exp_sub_ps(__m256 t, __m256 e, __m256 sub)
{
    __m256 es = _mm256_mul_ps(pm_exp_core_ps(t, PM_F32_SUB_BIAS), _mm256_set1_ps(PM_F32_SUB_UNSCALE));
    return _mm256_blendv_ps(e, es, sub);
}

/* exp(t) for t <= 0 or NaN. No clamp is needed: lanes below MIN_T are zeroed; when a vector has
 * any (mostly t = -inf: masked entries), the ones in [SUB_T, MIN_T) get their subnormal value on a
 * rare out-of-line path. The common case pays a VMOVMSKPS and a predicted branch per vector, a
 * vector with -inf lanes a compare more. NaN flows through. */
static inline __m256 pm_exp_ps(__m256 t)
{
    __m256 under = _mm256_cmp_ps(t, _mm256_set1_ps(PM_F32_MIN_T), _CMP_LT_OQ);
    __m256 e = _mm256_andnot_ps(under, pm_exp_core_ps(t, 0));
    if (__builtin_expect(_mm256_movemask_ps(under) != 0, 0)) {
        __m256 sub = pm_subnormal_lanes_ps(t, under);
        if (__builtin_expect(_mm256_movemask_ps(sub) != 0, 0)) {
            e = pm_exp_sub_ps(t, e, sub);
        }
    }
    return e;
}

/* Adds four float vectors pairwise, widened to double, into acc0/acc1. */
static inline void pm_acc4_ps(__m256d *acc0, __m256d *acc1, __m256 a, __m256 b, __m256 c, __m256 d)
{
    __m256 s = _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d));
    *acc0 = _mm256_add_pd(*acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(s)));
    *acc1 = _mm256_add_pd(*acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(s, 1)));
}

static inline void pm_acc1_ps(__m256d *acc0, __m256d *acc1, __m256 s)
{
    *acc0 = _mm256_add_pd(*acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(s)));
    *acc1 = _mm256_add_pd(*acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(s, 1)));
}

static inline double pm_hsum_pd(__m256d v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* ---- float kernels ------------------------------------------------------------------------------- */

static float pm_rmax_f32__avx2(const float *x, int64_t n)
{
    /* VMAXPS(a, b) returns b when either is NaN: with the accumulator as b, NaN entries are
     * skipped (kernels.h allows it; the driver classifies the row). */
    __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
        m1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), m1);
        m2 = _mm256_max_ps(_mm256_loadu_ps(x + i + 16), m2);
        m3 = _mm256_max_ps(_mm256_loadu_ps(x + i + 24), m3);
    }
    for (; i + 8 <= n; i += 8) {
        m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
    }
    if (i < n) {
        __m256i mask = pm_mask_ps(n - i);
        __m256 v = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_maskload_ps(x + i, mask),
                                    _mm256_castsi256_ps(mask));
        m1 = _mm256_max_ps(v, m1);
    }
    __m256 m = _mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}

static inline __m256 pm_t_ps(const float *x, __m256 m, __m256 s)
{
    return _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x), m), s);
}

/* The common case s == 1 (no temperature) skips one multiply per vector: the kernels are
 * written once as always-inline bodies and instantiated for both. */
static inline __attribute__((always_inline)) __m256 pm_ts_ps(__m256 v, __m256 m, __m256 s, int scaled)
{
    __m256 d = _mm256_sub_ps(v, m);
    return scaled ? _mm256_mul_ps(d, s) : d;
}

static inline __attribute__((always_inline)) double
pm_expsum_store_f32_body(const float *x, float *y, int64_t n, float m, float s, int scaled, int ahead)
{
    const __m256 vm = _mm256_set1_ps(m), vs = _mm256_set1_ps(s);
    __m256d acc0 = _mm256_setzero_pd(), acc1 = acc0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        if (ahead) { /* the next n floats, 128 bytes per 32 computed (see kernels.h) */
            _mm_prefetch((const char *)(x + n + i), _MM_HINT_T0);
            _mm_prefetch((const char *)(x + n + i + 16), _MM_HINT_T0);
        }
        __m256 e0 = pm_exp_ps(pm_ts_ps(_mm256_loadu_ps(x + i), vm, vs, scaled));
        __m256 e1 = pm_exp_ps(pm_ts_ps(_mm256_loadu_ps(x + i + 8), vm, vs, scaled));
        __m256 e2 = pm_exp_ps(pm_ts_ps(_mm256_loadu_ps(x + i + 16), vm, vs, scaled));
        __m256 e3 = pm_exp_ps(pm_ts_ps(_mm256_loadu_ps(x + i + 24), vm, vs, scaled));
        _mm256_storeu_ps(y + i, e0);
        _mm256_storeu_ps(y + i + 8, e1);
        _mm256_storeu_ps(y + i + 16, e2);
        _mm256_storeu_ps(y + i + 24, e3);
        pm_acc4_ps(&acc0, &acc1, e0, e1, e2, e3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 e = pm_exp_ps(pm_ts_ps(_mm256_loadu_ps(x + i), vm, vs, scaled));
        _mm256_storeu_ps(y + i, e);
        pm_acc1_ps(&acc0, &acc1, e);
    }
    if (i < n) {
        __m256i mask = pm_mask_ps(n - i);
        __m256 t = pm_ts_ps(_mm256_maskload_ps(x + i, mask), vm, vs, scaled);
        __m256 e = _mm256_and_ps(pm_exp_ps(t), _mm256_castsi256_ps(mask));
        _mm256_maskstore_ps(y + i, mask, e);
        pm_acc1_ps(&acc0, &acc1, e);
    }
    return pm_hsum_pd(_mm256_add_pd(acc0, acc1));
}

static double pm_expsum_store_f32__avx2(const float *x, float *y, int64_t n, float m, float s)
{
    return s == 1.0f ? pm_expsum_store_f32_body(x, y, n, m, s, 0, 0)
                     : pm_expsum_store_f32_body(x, y, n, m, s, 1, 0);
}

static double pm_expsum_store_ahead_f32__avx2(const float *x, float *y, int64_t n, float m, float s)
{
    return s == 1.0f ? pm_expsum_store_f32_body(x, y, n, m, s, 0, 1)
                     : pm_expsum_store_f32_body(x, y, n, m, s, 1, 1);
}

/*
 * softmax of a row of n <= 16 floats in registers: the general path's three kernel calls (max,
 * exp-and-sum, scale) each pay a call, a loop set-up and a masked tail for what is one or two
 * vectors, and the exp waits on y being stored and reloaded. Same operations in the same order as
 * that path (same max, same t, same exp, the sum widened to double per vector, y = e * (float)(1 / sum)),
 * so the results are identical. Returns 0, having written nothing, for a row that is not finite
 * (max NaN or +-inf, or a NaN sum): the caller then takes the general path, which handles those.
 */
static int pm_softmax_small_f32__avx2(const float *x, float *y, int64_t n, float s)
{
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256i k0 = pm_mask_ps(n < 8 ? n : 8), k1 = pm_mask_ps(n > 8 ? n - 8 : 0);
    __m256 a = _mm256_blendv_ps(ninf, _mm256_maskload_ps(x, k0), _mm256_castsi256_ps(k0));
    __m256 b = _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + 8, k1), _mm256_castsi256_ps(k1));
    __m256 mv = _mm256_max_ps(a, b);
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    const float m = _mm_cvtss_f32(h);
    if (!(m > -INFINITY && -FLT_MAX - m > -INFINITY)) { /* NaN, +inf, all -inf, or x - m may overflow */
        return 0;
    }
    const __m256 vm = _mm256_set1_ps(m);
    __m256 ta = _mm256_sub_ps(a, vm), tb = _mm256_sub_ps(b, vm);
    if (s != 1.0f) {
        ta = _mm256_mul_ps(ta, _mm256_set1_ps(s));
        tb = _mm256_mul_ps(tb, _mm256_set1_ps(s));
    }
    __m256 ea = pm_exp_ps(ta), eb = pm_exp_ps(tb); /* masked lanes: exp(-inf) = 0 */
    __m256d acc0 = _mm256_setzero_pd(), acc1 = acc0;
    pm_acc1_ps(&acc0, &acc1, ea);
    pm_acc1_ps(&acc0, &acc1, eb);
    const double sum = pm_hsum_pd(_mm256_add_pd(acc0, acc1));
    if (isnan(sum)) {
        return 0;
    }
    const __m256 c = _mm256_set1_ps((float)(1.0 / sum));
    _mm256_maskstore_ps(y, k0, _mm256_mul_ps(ea, c));
    _mm256_maskstore_ps(y + 8, k1, _mm256_mul_ps(eb, c));
    return 1;
}

static double pm_expsum_f32__avx2(const float *x, int64_t n, float m, float s)
{
    const __m256 vm = _mm256_set1_ps(m), vs = _mm256_set1_ps(s);
    __m256d acc0 = _mm256_setzero_pd(), acc1 = acc0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        pm_acc4_ps(&acc0, &acc1, pm_exp_ps(pm_t_ps(x + i, vm, vs)), pm_exp_ps(pm_t_ps(x + i + 8, vm, vs)),
                   pm_exp_ps(pm_t_ps(x + i + 16, vm, vs)), pm_exp_ps(pm_t_ps(x + i + 24, vm, vs)));
    }
    for (; i + 8 <= n; i += 8) {
        pm_acc1_ps(&acc0, &acc1, pm_exp_ps(pm_t_ps(x + i, vm, vs)));
    }
    if (i < n) {
        __m256i mask = pm_mask_ps(n - i);
        __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, mask), vm), vs);
        pm_acc1_ps(&acc0, &acc1, _mm256_and_ps(pm_exp_ps(t), _mm256_castsi256_ps(mask)));
    }
    return pm_hsum_pd(_mm256_add_pd(acc0, acc1));
}

static void pm_scale_f32__avx2(const float *x, float *y, int64_t n, float c)
{
    const __m256 vc = _mm256_set1_ps(c);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_mul_ps(_mm256_loadu_ps(x + i), vc);
        __m256 b = _mm256_mul_ps(_mm256_loadu_ps(x + i + 8), vc);
        __m256 d = _mm256_mul_ps(_mm256_loadu_ps(x + i + 16), vc);
        __m256 e = _mm256_mul_ps(_mm256_loadu_ps(x + i + 24), vc);
        _mm256_storeu_ps(y + i, a);
        _mm256_storeu_ps(y + i + 8, b);
        _mm256_storeu_ps(y + i + 16, d);
        _mm256_storeu_ps(y + i + 24, e);
    }
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vc));
    }
    if (i < n) {
        __m256i mask = pm_mask_ps(n - i);
        _mm256_maskstore_ps(y + i, mask, _mm256_mul_ps(_mm256_maskload_ps(x + i, mask), vc));
    }
}

static void pm_shiftscale_f32__avx2(const float *x, float *y, int64_t n, float m, float s, float c)
{
    const __m256 vm = _mm256_set1_ps(m), vs = _mm256_set1_ps(s), vc = _mm256_set1_ps(c);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_sub_ps(pm_t_ps(x + i, vm, vs), vc));
    }
    if (i < n) {
        __m256i mask = pm_mask_ps(n - i);
        __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, mask), vm), vs);
        _mm256_maskstore_ps(y + i, mask, _mm256_sub_ps(t, vc));
    }
}

static double pm_sum_f32__avx2(const float *x, int64_t n)
{
    __m256d a0 = _mm256_setzero_pd(), a1 = a0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        pm_acc1_ps(&a0, &a1, _mm256_loadu_ps(x + i)); /* float -> double exactly */
    }
    if (i < n) {
        pm_acc1_ps(&a0, &a1, _mm256_maskload_ps(x + i, pm_mask_ps(n - i)));
    }
    return pm_hsum_pd(_mm256_add_pd(a0, a1));
}

/* Products of floats are exact in double: widen both, multiply-add in double. */
static double pm_dot_f32__avx2(const float *a, const float *b, int64_t n)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
        s0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(va)),
                             _mm256_cvtps_pd(_mm256_castps256_ps128(vb)), s0);
        s1 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(va, 1)),
                             _mm256_cvtps_pd(_mm256_extractf128_ps(vb, 1)), s1);
    }
    if (i < n) {
        __m256i mask = pm_mask_ps(n - i);
        __m256 va = _mm256_maskload_ps(a + i, mask), vb = _mm256_maskload_ps(b + i, mask);
        s0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(va)),
                             _mm256_cvtps_pd(_mm256_castps256_ps128(vb)), s0);
        s1 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(va, 1)),
                             _mm256_cvtps_pd(_mm256_extractf128_ps(vb, 1)), s1);
    }
    return pm_hsum_pd(_mm256_add_pd(s0, s1));
}

static void pm_submul_f32__avx2(const float *p, const float *dy, float *dx, int64_t n, float c)
{
    const __m256 vc = _mm256_set1_ps(c);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(dy + i), vc);
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(p + i), d));
    }
    if (i < n) {
        __m256i mask = pm_mask_ps(n - i);
        __m256 d = _mm256_sub_ps(_mm256_maskload_ps(dy + i, mask), vc);
        _mm256_maskstore_ps(dx + i, mask, _mm256_mul_ps(_mm256_maskload_ps(p + i, mask), d));
    }
}

static void pm_subexp_f32__avx2(const float *a, const float *dy, float *dx, int64_t n, float c)
{
    const __m256 vc = _mm256_set1_ps(c);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = pm_exp_ps(_mm256_loadu_ps(a + i));
        _mm256_storeu_ps(dx + i, _mm256_fnmadd_ps(e, vc, _mm256_loadu_ps(dy + i)));
    }
    if (i < n) {
        __m256i mask = pm_mask_ps(n - i);
        __m256 e = pm_exp_ps(_mm256_maskload_ps(a + i, mask));
        _mm256_maskstore_ps(dx + i, mask, _mm256_fnmadd_ps(e, vc, _mm256_maskload_ps(dy + i, mask)));
    }
}

/*
 * EXACT mode. d = x - m is carried as the unevaluated pair (d_hi, d_lo) from TwoSum (Knuth), then
 * multiplied by s keeping the pair (FMA gives the product's rounding error exactly), so the
 * rounding of x - m never reaches exp.
 */
static inline __attribute__((always_inline)) void pm_exact_t_ps(__m256 x, __m256 negm, __m256 s,
                                                                int scaled, __m256 *hi, __m256 *lo)
{
    __m256 d = _mm256_add_ps(x, negm);
    __m256 bb = _mm256_sub_ps(d, x);
    __m256 dlo = _mm256_add_ps(_mm256_sub_ps(x, _mm256_sub_ps(d, bb)), _mm256_sub_ps(negm, bb));
    if (!scaled) { /* T = 1: the pair is (d, dlo) itself */
        *hi = d;
        *lo = dlo;
        return;
    }
    __m256 p = _mm256_mul_ps(d, s);
    *lo = _mm256_fmadd_ps(dlo, s, _mm256_fmsub_ps(d, s, p));
    *hi = p;
}

static inline __attribute__((always_inline)) __m256 pm_exp_exact1_ps(__m256 v, __m256 negm, __m256 vs, int scaled)
{
    __m256 hi, lo;
    pm_exact_t_ps(v, negm, vs, scaled, &hi, &lo);
    return pm_exp2parts_ps(hi, lo);
}

/* Main loop two vectors at a time (two independent exp chains), the tail masked once. */
static inline __attribute__((always_inline)) double pm_expsum_exact_f32_body(const float *x, int64_t n, float m,
                                                                             float s, int scaled)
{
    const __m256 negm = _mm256_set1_ps(-m), vs = _mm256_set1_ps(s);
    __m256d acc0 = _mm256_setzero_pd(), acc1 = acc0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 e0 = pm_exp_exact1_ps(_mm256_loadu_ps(x + i), negm, vs, scaled);
        __m256 e1 = pm_exp_exact1_ps(_mm256_loadu_ps(x + i + 8), negm, vs, scaled);
        /* each term widened on its own: e0 + e1 in float rounded the sum by up to half an ulp of the row's
         * largest term, which reached every output (1.45 ulp at an output of 8.5e-8, KernelsAgreementTest) */
        pm_acc1_ps(&acc0, &acc1, e0);
        pm_acc1_ps(&acc0, &acc1, e1);
    }
    for (; i < n; i += 8) {
        __m256i mask = pm_mask_ps(n - i < 8 ? n - i : 8);
        __m256 e = pm_exp_exact1_ps(_mm256_maskload_ps(x + i, mask), negm, vs, scaled);
        pm_acc1_ps(&acc0, &acc1, _mm256_and_ps(e, _mm256_castsi256_ps(mask)));
    }
    return pm_hsum_pd(_mm256_add_pd(acc0, acc1));
}

static double pm_expsum_exact_f32__avx2(const float *x, int64_t n, float m, float s)
{
    return s == 1.0f ? pm_expsum_exact_f32_body(x, n, m, s, 0) : pm_expsum_exact_f32_body(x, n, m, s, 1);
}

/* exp((hi + lo) - lse) with lse = (lse_hi + lse_lo): TwoSum(hi, -lse_hi), the rest folded into the
 * low part given to the reduction. */
static inline __attribute__((always_inline)) __m256 pm_exp_minus_lse_ps(__m256 v, __m256 negm, __m256 vs,
                                                                       __m256 neg_lse_hi, __m256 neg_lse_lo,
                                                                       int scaled)
{
    __m256 hi, lo;
    pm_exact_t_ps(v, negm, vs, scaled, &hi, &lo);
    __m256 a = _mm256_add_ps(hi, neg_lse_hi);
    __m256 bb = _mm256_sub_ps(a, hi);
    __m256 alo = _mm256_add_ps(_mm256_sub_ps(hi, _mm256_sub_ps(a, bb)), _mm256_sub_ps(neg_lse_hi, bb));
    return pm_exp2parts_ps(a, _mm256_add_ps(alo, _mm256_add_ps(lo, neg_lse_lo)));
}

static inline __attribute__((always_inline)) void pm_exp_exact_f32_body(const float *x, float *y, int64_t n,
                                                                        float m, float s, double lse, int scaled)
{
    const __m256 negm = _mm256_set1_ps(-m), vs = _mm256_set1_ps(s);
    const float lse_hi = (float)lse;
    const __m256 nh = _mm256_set1_ps(-lse_hi);
    const __m256 nl = _mm256_set1_ps((float)(-(lse - (double)lse_hi)));
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 e0 = pm_exp_minus_lse_ps(_mm256_loadu_ps(x + i), negm, vs, nh, nl, scaled);
        __m256 e1 = pm_exp_minus_lse_ps(_mm256_loadu_ps(x + i + 8), negm, vs, nh, nl, scaled);
        _mm256_storeu_ps(y + i, e0);
        _mm256_storeu_ps(y + i + 8, e1);
    }
    for (; i < n; i += 8) {
        int64_t rem = n - i < 8 ? n - i : 8;
        __m256i mask = pm_mask_ps(rem);
        __m256 e = pm_exp_minus_lse_ps(_mm256_maskload_ps(x + i, mask), negm, vs, nh, nl, scaled);
        _mm256_maskstore_ps(y + i, mask, e);
    }
}

static void pm_exp_exact_f32__avx2(const float *x, float *y, int64_t n, float m, float s, double lse)
{
    if (s == 1.0f) {
        pm_exp_exact_f32_body(x, y, n, m, s, lse, 0);
    } else {
        pm_exp_exact_f32_body(x, y, n, m, s, lse, 1);
    }
}

/* ---- double exp ------------------------------------------------------------------------------- */


/*
 * double exp, table-driven (the usual libm design, e.g. Tang's method): k = round(t * 64 / ln2),
 * t = k ln2/64 + r with |r| <= ln2/128, exp(t) = 2^(k >> 6) * 2^((k & 63) / 64) * e^r. The 64
 * values 2^(j/64) are correctly rounded doubles (0x1.xp+0, generated with 200-bit arithmetic);
 * e^r - 1 = r + r^2/2 + ... + r^5/120 (Taylor; truncation < 2^-54 relative on that range).
 * Error: table 0.5 ulp + polynomial + final rounding, ~1 ulp. This replaced a degree-13
 * polynomial on |r| <= ln2/2 that was 2x slower (1.7 ns vs 0.8 ns per element at n = 1024).
 */


/* e^tc (tc clamped to >= MIN_T, or to >= SUB_T on the rare path) times 2^bias. */
static inline __attribute__((always_inline)) __m256d pm_exp_core_pd(__m256d tc, int bias)
{
    const __m256d magic = _mm256_set1_pd(PM_F64_ROUND);
    __m256d kr = _mm256_fmadd_pd(tc, _mm256_set1_pd(PM_F64_INV_LN2_64), magic);
    __m256d k = _mm256_sub_pd(kr, magic);
    __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(PM_F64_LN2_HI / 64), tc); /* exact */
    r = _mm256_fnmadd_pd(k, _mm256_set1_pd(PM_F64_LN2_LO / 64), r);
    /* kr's low mantissa bits hold k (two's complement, |k| < 2^17). */
    __m256i ki = _mm256_sub_epi64(_mm256_castpd_si256(kr), _mm256_castpd_si256(magic));
    __m256i j = _mm256_and_si256(ki, _mm256_set1_epi64x(63));
    __m256d tj = _mm256_i64gather_pd(pm_exp2_table64, j, 8);
    /* (k - j) is a multiple of 64: shifting it left by 46 puts k >> 6 in the exponent field. */
    __m256i kj = _mm256_sub_epi64(ki, j);
    if (bias) {
        kj = _mm256_add_epi64(kj, _mm256_set1_epi64x((int64_t)bias * 64));
    }
    __m256i e = _mm256_slli_epi64(kj, 46);
    __m256d sc = _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(tj), e));
    __m256d q = _mm256_fmadd_pd(_mm256_set1_pd(1.0 / 120), r, _mm256_set1_pd(1.0 / 24));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(1.0 / 6));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(0.5));
    q = _mm256_fmadd_pd(q, _mm256_mul_pd(r, r), r); /* e^r - 1 */
    return _mm256_fmadd_pd(sc, q, sc);
}

/* The rare path of pm_exp_pd: the lanes in `sub` (SUB_T <= t < MIN_T) get their subnormal value. */
static __attribute__((noinline, cold)) __m256d pm_exp_sub_pd(__m256d t, __m256d e, __m256d sub)
{
    __m256d es = _mm256_mul_pd(pm_exp_core_pd(_mm256_max_pd(_mm256_set1_pd(PM_F64_SUB_T), t), PM_F64_SUB_BIAS),
                               _mm256_set1_pd(PM_F64_SUB_UNSCALE));
    return _mm256_blendv_pd(e, es, sub);
}

static inline __m256d pm_exp_pd(__m256d t)
{
    const __m256d min_t = _mm256_set1_pd(PM_F64_MIN_T);
    __m256d under = _mm256_cmp_pd(t, min_t, _CMP_LT_OQ);
    __m256d tc = _mm256_max_pd(min_t, t); /* NaN -> t */
    __m256d e = _mm256_andnot_pd(under, pm_exp_core_pd(tc, 0));
    if (__builtin_expect(_mm256_movemask_pd(under) != 0, 0)) {
        __m256d sub = _mm256_and_pd(under, _mm256_cmp_pd(t, _mm256_set1_pd(PM_F64_SUB_T), _CMP_GE_OQ));
        if (__builtin_expect(_mm256_movemask_pd(sub) != 0, 0)) {
            e = pm_exp_sub_pd(t, e, sub);
        }
    }
    return e;
}

/* ---- double kernels --------------------------------------------------------------------------- */

static double pm_rmax_f64__avx2(const double *x, int64_t n)
{
    __m256d m0 = _mm256_set1_pd(-INFINITY), m1 = m0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        m0 = _mm256_max_pd(_mm256_loadu_pd(x + i), m0);
        m1 = _mm256_max_pd(_mm256_loadu_pd(x + i + 4), m1);
    }
    for (; i + 4 <= n; i += 4) {
        m0 = _mm256_max_pd(_mm256_loadu_pd(x + i), m0);
    }
    if (i < n) {
        __m256i mask = pm_mask_pd(n - i);
        __m256d v = _mm256_blendv_pd(_mm256_set1_pd(-INFINITY), _mm256_maskload_pd(x + i, mask),
                                     _mm256_castsi256_pd(mask));
        m1 = _mm256_max_pd(v, m1);
    }
    __m256d m = _mm256_max_pd(m0, m1);
    __m128d h = _mm_max_pd(_mm256_castpd256_pd128(m), _mm256_extractf128_pd(m, 1));
    h = _mm_max_sd(h, _mm_unpackhi_pd(h, h));
    return _mm_cvtsd_f64(h);
}

static inline __m256d pm_t_pd(const double *x, __m256d m, __m256d s)
{
    return _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(x), m), s);
}

static double pm_expsum_store_f64__avx2(const double *x, double *y, int64_t n, double m, double s)
{
    const __m256d vm = _mm256_set1_pd(m), vs = _mm256_set1_pd(s);
    __m256d a0 = _mm256_setzero_pd(), a1 = a0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256d e0 = pm_exp_pd(pm_t_pd(x + i, vm, vs));
        __m256d e1 = pm_exp_pd(pm_t_pd(x + i + 4, vm, vs));
        _mm256_storeu_pd(y + i, e0);
        _mm256_storeu_pd(y + i + 4, e1);
        a0 = _mm256_add_pd(a0, e0);
        a1 = _mm256_add_pd(a1, e1);
    }
    for (; i < n; i += 4) {
        int64_t rem = n - i < 4 ? n - i : 4;
        __m256i mask = pm_mask_pd(rem);
        __m256d t = _mm256_mul_pd(_mm256_sub_pd(_mm256_maskload_pd(x + i, mask), vm), vs);
        __m256d e = _mm256_and_pd(pm_exp_pd(t), _mm256_castsi256_pd(mask));
        _mm256_maskstore_pd(y + i, mask, e);
        a0 = _mm256_add_pd(a0, e);
    }
    return pm_hsum_pd(_mm256_add_pd(a0, a1));
}

static double pm_expsum_f64__avx2(const double *x, int64_t n, double m, double s)
{
    const __m256d vm = _mm256_set1_pd(m), vs = _mm256_set1_pd(s);
    __m256d a0 = _mm256_setzero_pd(), a1 = a0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 = _mm256_add_pd(a0, pm_exp_pd(pm_t_pd(x + i, vm, vs)));
        a1 = _mm256_add_pd(a1, pm_exp_pd(pm_t_pd(x + i + 4, vm, vs)));
    }
    for (; i < n; i += 4) {
        int64_t rem = n - i < 4 ? n - i : 4;
        __m256i mask = pm_mask_pd(rem);
        __m256d t = _mm256_mul_pd(_mm256_sub_pd(_mm256_maskload_pd(x + i, mask), vm), vs);
        a0 = _mm256_add_pd(a0, _mm256_and_pd(pm_exp_pd(t), _mm256_castsi256_pd(mask)));
    }
    return pm_hsum_pd(_mm256_add_pd(a0, a1));
}

static void pm_scale_f64__avx2(const double *x, double *y, int64_t n, double c)
{
    const __m256d vc = _mm256_set1_pd(c);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        _mm256_storeu_pd(y + i, _mm256_mul_pd(_mm256_loadu_pd(x + i), vc));
    }
    if (i < n) {
        __m256i mask = pm_mask_pd(n - i);
        _mm256_maskstore_pd(y + i, mask, _mm256_mul_pd(_mm256_maskload_pd(x + i, mask), vc));
    }
}

static void pm_shiftscale_f64__avx2(const double *x, double *y, int64_t n, double m, double s, double c)
{
    const __m256d vm = _mm256_set1_pd(m), vs = _mm256_set1_pd(s), vc = _mm256_set1_pd(c);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        _mm256_storeu_pd(y + i, _mm256_sub_pd(pm_t_pd(x + i, vm, vs), vc));
    }
    if (i < n) {
        __m256i mask = pm_mask_pd(n - i);
        __m256d t = _mm256_mul_pd(_mm256_sub_pd(_mm256_maskload_pd(x + i, mask), vm), vs);
        _mm256_maskstore_pd(y + i, mask, _mm256_sub_pd(t, vc));
    }
}

static double pm_dot_f64__avx2(const double *a, const double *b, int64_t n)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i), _mm256_loadu_pd(b + i), s0);
        s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i + 4), _mm256_loadu_pd(b + i + 4), s1);
    }
    for (; i < n; i += 4) {
        __m256i mask = pm_mask_pd(n - i < 4 ? n - i : 4);
        s0 = _mm256_fmadd_pd(_mm256_maskload_pd(a + i, mask), _mm256_maskload_pd(b + i, mask), s0);
    }
    return pm_hsum_pd(_mm256_add_pd(s0, s1));
}

static void pm_submul_f64__avx2(const double *p, const double *dy, double *dx, int64_t n, double c)
{
    const __m256d vc = _mm256_set1_pd(c);
    for (int64_t i = 0; i < n; i += 4) {
        int64_t rem = n - i < 4 ? n - i : 4;
        __m256i mask = pm_mask_pd(rem);
        __m256d d = _mm256_sub_pd(_mm256_maskload_pd(dy + i, mask), vc);
        _mm256_maskstore_pd(dx + i, mask, _mm256_mul_pd(_mm256_maskload_pd(p + i, mask), d));
    }
}

/* ---- the table ---------------------------------------------------------------------------------- */

void pm_fill_table__avx2(pm_isa_table *t)
{
    /* Slots not listed keep the kernel already there (scalar): they are not on hot paths
     * (sum and dotexp of the backward passes' setup, axpbyc, dot3 and waxpbyc of the soft-target
     * and weighted cross-entropy, the f64 exact kernels). */
    t->name = "avx2";
    t->f32.rmax = pm_rmax_f32__avx2;
    t->f32.expsum_store = pm_expsum_store_f32__avx2;
    t->f32.expsum_store_ahead = pm_expsum_store_ahead_f32__avx2;
    t->f32.softmax_small = pm_softmax_small_f32__avx2;
    t->f32.expsum = pm_expsum_f32__avx2;
    t->f32.scale = pm_scale_f32__avx2;
    t->f32.shiftscale = pm_shiftscale_f32__avx2;
    t->f32.sum = pm_sum_f32__avx2;
    t->f32.dot = pm_dot_f32__avx2;
    t->f32.submul = pm_submul_f32__avx2;
    t->f32.subexp = pm_subexp_f32__avx2;
    t->f32.expsum_exact = pm_expsum_exact_f32__avx2;
    t->f32.exp_exact = pm_exp_exact_f32__avx2;

    t->f64.rmax = pm_rmax_f64__avx2;
    t->f64.expsum_store = pm_expsum_store_f64__avx2;
    t->f64.expsum = pm_expsum_f64__avx2;
    t->f64.scale = pm_scale_f64__avx2;
    t->f64.shiftscale = pm_shiftscale_f64__avx2;
    t->f64.dot = pm_dot_f64__avx2;
    t->f64.submul = pm_submul_f64__avx2;
}
