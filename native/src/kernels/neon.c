/*
 * NEON (AArch64 Advanced SIMD) kernels: 4 floats / 2 doubles per vector. Advanced SIMD is part of
 * the AArch64 baseline (every AArch64 Linux system has it), so this file needs no ISA flag and
 * dispatch.c fills the table without a CPU check. Compiled only for aarch64 (CMakeLists.txt).
 *
 * The arithmetic is that of kernels/avx2.c, operation for operation, so the error bounds are the
 * same: t = (x - m) * s rounded in the row's type, the float exp by the magic-bias reduction and
 * XNNPACK's rr2-p5 polynomial (EXACT mode: the Cephes expf polynomial on the TwoSum pair), the
 * double exp from the 64-entry table 2^(j/64) and a degree-5 polynomial, float sums widened to
 * double, double sums in four accumulators. What differs:
 *
 *   - exp is lane-independent and has gradual underflow. A vector whose |t| are all <= 86 (float)
 *     or 708 (double) takes the fast path, where 2^k is one exponent field and every result is
 *     normal. Any other lane (below the normal range, above it, +-inf) sends the vector to the
 *     wide path (as ARM's optimized-routines v_expf does with its "specialcase"): t clamped to
 *     where exp is surely 0 or +inf (FMAX/FMIN keep NaN), 2^k applied as two normal factors, so
 *     a result below the smallest normal is rounded once to the subnormal grid (exp below the
 *     normal range is returned, not flushed) and one above the largest becomes +inf. The fast
 *     path computes the same q = e^r (rounded once) and multiplies by 2^k, so both paths give the
 *     same bits for every lane they both handle: a lane's result never depends on its neighbours.
 *     (avx2.c folds the 2^k into the last FMA instead; results differ by an ulp at most.)
 *   - the double EXACT kernels (scalar on x86) are vectorised: x - m and the product with s as
 *     TwoSum/FMA pairs as in kernels/scalar.c, folded into the reduction of an exp whose table is
 *     carried as hi + lo (Tang's method), so each result is rounded once (~0.5 ulp, as libm);
 *     the sum is Neumaier's compensated sum per lane.
 *   - tails: NEON has no masked loads, so the last 1..3 floats (1 double) are moved with lane
 *     loads/stores (vld1q_lane / vld1 of 2 lanes): no byte outside [x, x + n) is read or written.
 *
 * Everything except expscale (being removed from the table) is implemented for both types.
 */
#if !defined(__aarch64__)
#error "kernels/neon.c is for AArch64 only"
#endif

#include <arm_neon.h>
#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "exp_constants.h"
#include "kernels.h"

/* ---- lanes and tails --------------------------------------------------------------------------- */

static inline int pm_any_u32(uint32x4_t m)
{
    return vmaxvq_u32(m) != 0;
}

static inline int pm_any_u64(uint64x2_t m)
{
    return vmaxvq_u32(vreinterpretq_u32_u64(m)) != 0;
}

/* Lanes 0..rem-1 set (0 <= rem <= 4). */
static inline uint32x4_t pm_first_f32(int64_t rem)
{
    static const uint32_t idx[4] = {0, 1, 2, 3};
    return vcltq_u32(vld1q_u32(idx), vdupq_n_u32((uint32_t)rem));
}

/* x[0..rem) in lanes 0..rem-1 (0 <= rem <= 4), `fill` in the others; nothing past x + rem is read. */
static inline float32x4_t pm_load_part_f32(const float *x, int64_t rem, float fill)
{
    float32x4_t v = vdupq_n_f32(fill);
    if (rem >= 4) {
        return vld1q_f32(x);
    }
    if (rem >= 2) {
        v = vcombine_f32(vld1_f32(x), vget_high_f32(v));
        if (rem == 3) {
            v = vld1q_lane_f32(x + 2, v, 2);
        }
    } else if (rem == 1) {
        v = vld1q_lane_f32(x, v, 0);
    }
    return v;
}

/* Lanes 0..rem-1 of v to y[0..rem) (0 <= rem <= 4); nothing past y + rem is written. */
static inline void pm_store_part_f32(float *y, float32x4_t v, int64_t rem)
{
    if (rem >= 4) {
        vst1q_f32(y, v);
    } else if (rem >= 2) {
        vst1_f32(y, vget_low_f32(v));
        if (rem == 3) {
            vst1q_lane_f32(y + 2, v, 2);
        }
    } else if (rem == 1) {
        vst1q_lane_f32(y, v, 0);
    }
}

static inline float32x4_t pm_zero_unless_f32(uint32x4_t keep, float32x4_t v)
{
    return vreinterpretq_f32_u32(vandq_u32(keep, vreinterpretq_u32_f32(v)));
}

/* x[0] in lane 0, `fill` in lane 1. */
static inline float64x2_t pm_load1_f64(const double *x, double fill)
{
    return vld1q_lane_f64(x, vdupq_n_f64(fill), 0);
}

/* Lane 1 zeroed (the lane a one-element tail does not own). */
static inline float64x2_t pm_lane0_f64(float64x2_t v)
{
    return vsetq_lane_f64(0.0, v, 1);
}

/* ---- float exp ------------------------------------------------------------------------------------ */

/* The fast path: every |t| <= PM_NEON_F32_FAST_T gives |k| <= 124, so 2^k fits one exponent field
 * and exp(t) >= e^-86 > FLT_MIN is normal. The wide path clamps to [ZERO_T, INF_T]: exp(-104) is
 * below half the smallest subnormal (2^-150 = e^-103.97), so it rounds to +0, and exp(89) is above
 * FLT_MAX, so it becomes +inf. */
#define PM_NEON_F32_FAST_T 86.0f
#define PM_NEON_F32_ZERO_T -104.0f
#define PM_NEON_F32_INF_T 89.0f

/* q * 2^k for integral k in [-151, 129] (as floats), q in [0.7, 1.5] or NaN: 2^k = 2^k1 * 2^k2 with
 * k1 = floor(k / 2) and k2 = k - k1 both normal, so only the last product rounds (gradual underflow,
 * overflow to +inf). NaN: FCVTZS gives 0 for NaN k, q carries the NaN. */
static inline float32x4_t pm_ldexp2_f32(float32x4_t q, float32x4_t k)
{
    const int32x4_t bias = vdupq_n_s32(127);
    int32x4_t ki = vcvtq_s32_f32(k);
    int32x4_t k1 = vshrq_n_s32(ki, 1);
    int32x4_t k2 = vsubq_s32(ki, k1);
    float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(k1, bias), 23));
    float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(k2, bias), 23));
    return vmulq_f32(vmulq_f32(q, s1), s2);
}

/* k = round(t / ln2) and r = t - k ln2 (Cody-Waite: k * LN2_HI is exact, the difference exact by
 * Sterbenz); nk holds k + 127 in its low mantissa bits (the magic bias 0x1.8p23 + 127). */
static inline float32x4_t pm_reduce_f32(float32x4_t t, float32x4_t *k_out, float32x4_t *nk_out)
{
    const float32x4_t magic = vdupq_n_f32(PM_F32_MAGIC_BIAS);
    float32x4_t nk = vfmaq_f32(magic, t, vdupq_n_f32(PM_F32_LOG2E));
    float32x4_t k = vsubq_f32(nk, magic);
    *k_out = k;
    *nk_out = nk;
    return vfmsq_f32(t, k, vdupq_n_f32(PM_F32_LN2_HI));
}

/* e^r = 1 + r p(r) with XNNPACK's rr2-p5 coefficients (|r| <= ln2/2), rounded once at the end. */
static inline float32x4_t pm_expr_p5_f32(float32x4_t r)
{
    float32x4_t p = vfmaq_f32(vdupq_n_f32(PM_F32_C4), vdupq_n_f32(PM_F32_C5), r);
    p = vfmaq_f32(vdupq_n_f32(PM_F32_C3), p, r);
    p = vfmaq_f32(vdupq_n_f32(PM_F32_C2), p, r);
    p = vfmaq_f32(vdupq_n_f32(PM_F32_C1), p, r);
    return vfmaq_f32(vdupq_n_f32(1.0f), r, p);
}

/* e^r = 1 + (r + r^2 P(r)) with the Cephes expf.c polynomial (EXACT mode), rounded once at the end. */
static inline float32x4_t pm_expr_cephes_f32(float32x4_t r)
{
    float32x4_t p = vfmaq_f32(vdupq_n_f32(PM_F32_P1), vdupq_n_f32(PM_F32_P0), r);
    p = vfmaq_f32(vdupq_n_f32(PM_F32_P2), p, r);
    p = vfmaq_f32(vdupq_n_f32(PM_F32_P3), p, r);
    p = vfmaq_f32(vdupq_n_f32(PM_F32_P4), p, r);
    p = vfmaq_f32(vdupq_n_f32(PM_F32_P5), p, r);
    return vaddq_f32(vfmaq_f32(r, p, vmulq_f32(r, r)), vdupq_n_f32(1.0f));
}

static inline float32x4_t pm_two_k_f32(float32x4_t nk)
{
    return vreinterpretq_f32_u32(vshlq_n_u32(vreinterpretq_u32_f32(nk), 23));
}

/* exp(t + lo) for any t (lo: a low-order part of the argument, 0 outside EXACT mode). cephes selects
 * the EXACT polynomial. Lanes clamped to ZERO_T / INF_T get lo = 0: there lo may be NaN (TwoSum of
 * an infinite x) and the result is 0 or +inf anyway. */
static __attribute__((noinline)) float32x4_t pm_exp_wide_f32(float32x4_t t, float32x4_t lo, int cephes)
{
    const float32x4_t zt = vdupq_n_f32(PM_NEON_F32_ZERO_T), it = vdupq_n_f32(PM_NEON_F32_INF_T);
    uint32x4_t clamped = vorrq_u32(vcltq_f32(t, zt), vcgtq_f32(t, it)); /* false for NaN */
    float32x4_t tc = vminq_f32(vmaxq_f32(t, zt), it);                  /* NaN stays NaN */
    lo = vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(lo), clamped));
    float32x4_t k, nk;
    float32x4_t r = pm_reduce_f32(tc, &k, &nk);
    if (cephes) { /* the reductions of the two fast paths below, operation for operation */
        r = vaddq_f32(r, vfmsq_f32(lo, k, vdupq_n_f32(PM_F32_LN2_LO)));
    } else {
        r = vfmsq_f32(r, k, vdupq_n_f32(PM_F32_LN2_LO));
    }
    return pm_ldexp2_f32(cephes ? pm_expr_cephes_f32(r) : pm_expr_p5_f32(r), k);
}

/* The default float exp. */
static inline float32x4_t pm_exp_f32(float32x4_t t)
{
    if (pm_any_u32(vcagtq_f32(t, vdupq_n_f32(PM_NEON_F32_FAST_T)))) {
        return pm_exp_wide_f32(t, vdupq_n_f32(0.0f), 0);
    }
    float32x4_t k, nk;
    float32x4_t r = pm_reduce_f32(t, &k, &nk);
    r = vfmsq_f32(r, k, vdupq_n_f32(PM_F32_LN2_LO));
    return vmulq_f32(pm_expr_p5_f32(r), pm_two_k_f32(nk));
}

/* exp(t + lo), EXACT mode: lo joins the reduction (as in avx2.c's pm_exp2parts_ps). */
static inline float32x4_t pm_exp2parts_f32(float32x4_t t, float32x4_t lo)
{
    if (pm_any_u32(vcagtq_f32(t, vdupq_n_f32(PM_NEON_F32_FAST_T)))) {
        return pm_exp_wide_f32(t, lo, 1);
    }
    float32x4_t k, nk;
    float32x4_t r = pm_reduce_f32(t, &k, &nk);
    r = vaddq_f32(r, vfmsq_f32(lo, k, vdupq_n_f32(PM_F32_LN2_LO)));
    return vmulq_f32(pm_expr_cephes_f32(r), pm_two_k_f32(nk));
}

/* ---- float helpers -------------------------------------------------------------------------------- */

/* The sum of four float vectors, added pairwise in float (two roundings of 2^-24, see kernels.h),
 * widened to double into a0 (lanes 0-1) and a1 (lanes 2-3). */
static inline void pm_acc4_f32(float64x2_t *a0, float64x2_t *a1, float32x4_t e0, float32x4_t e1,
                               float32x4_t e2, float32x4_t e3)
{
    float32x4_t s = vaddq_f32(vaddq_f32(e0, e1), vaddq_f32(e2, e3));
    *a0 = vaddq_f64(*a0, vcvt_f64_f32(vget_low_f32(s)));
    *a1 = vaddq_f64(*a1, vcvt_high_f64_f32(s));
}

static inline void pm_acc1_f32(float64x2_t *a0, float64x2_t *a1, float32x4_t e)
{
    *a0 = vaddq_f64(*a0, vcvt_f64_f32(vget_low_f32(e)));
    *a1 = vaddq_f64(*a1, vcvt_high_f64_f32(e));
}

static inline double pm_hsum2_f64(float64x2_t a0, float64x2_t a1)
{
    return vaddvq_f64(vaddq_f64(a0, a1));
}

static inline __attribute__((always_inline)) float32x4_t pm_ts_f32(float32x4_t v, float32x4_t m,
                                                                    float32x4_t s, int scaled)
{
    float32x4_t d = vsubq_f32(v, m);
    return scaled ? vmulq_f32(d, s) : d;
}

/* ---- float kernels -------------------------------------------------------------------------------- */

static float pm_rmax_f32__neon(const float *x, int64_t n)
{
    /* FMAXNM returns the number when one operand is a quiet NaN: NaN entries are skipped, as on
     * x86 (kernels.h allows either; the driver classifies the row). */
    const float32x4_t ninf = vdupq_n_f32(-INFINITY);
    float32x4_t m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        m0 = vmaxnmq_f32(m0, vld1q_f32(x + i));
        m1 = vmaxnmq_f32(m1, vld1q_f32(x + i + 4));
        m2 = vmaxnmq_f32(m2, vld1q_f32(x + i + 8));
        m3 = vmaxnmq_f32(m3, vld1q_f32(x + i + 12));
    }
    for (; i + 4 <= n; i += 4) {
        m0 = vmaxnmq_f32(m0, vld1q_f32(x + i));
    }
    if (i < n) {
        m1 = vmaxnmq_f32(m1, pm_load_part_f32(x + i, n - i, -INFINITY));
    }
    return vmaxnmvq_f32(vmaxnmq_f32(vmaxnmq_f32(m0, m1), vmaxnmq_f32(m2, m3)));
}

static inline __attribute__((always_inline)) double
pm_expsum_store_f32_body(const float *x, float *y, int64_t n, float m, float s, int scaled, int ahead)
{
    const float32x4_t vm = vdupq_n_f32(m), vs = vdupq_n_f32(s);
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        if (ahead) { /* the next n floats: one 64-byte line per 16 computed (see kernels.h) */
            __builtin_prefetch(x + n + i);
        }
        float32x4_t e0 = pm_exp_f32(pm_ts_f32(vld1q_f32(x + i), vm, vs, scaled));
        float32x4_t e1 = pm_exp_f32(pm_ts_f32(vld1q_f32(x + i + 4), vm, vs, scaled));
        float32x4_t e2 = pm_exp_f32(pm_ts_f32(vld1q_f32(x + i + 8), vm, vs, scaled));
        float32x4_t e3 = pm_exp_f32(pm_ts_f32(vld1q_f32(x + i + 12), vm, vs, scaled));
        vst1q_f32(y + i, e0);
        vst1q_f32(y + i + 4, e1);
        vst1q_f32(y + i + 8, e2);
        vst1q_f32(y + i + 12, e3);
        pm_acc4_f32(&a0, &a1, e0, e1, e2, e3);
    }
    for (; i + 4 <= n; i += 4) {
        float32x4_t e = pm_exp_f32(pm_ts_f32(vld1q_f32(x + i), vm, vs, scaled));
        vst1q_f32(y + i, e);
        pm_acc1_f32(&a0, &a1, e);
    }
    if (i < n) {
        /* unused lanes hold m: t = 0, exp = 1, then zeroed */
        float32x4_t t = pm_ts_f32(pm_load_part_f32(x + i, n - i, m), vm, vs, scaled);
        float32x4_t e = pm_zero_unless_f32(pm_first_f32(n - i), pm_exp_f32(t));
        pm_store_part_f32(y + i, e, n - i);
        pm_acc1_f32(&a0, &a1, e);
    }
    return pm_hsum2_f64(a0, a1);
}

static double pm_expsum_store_f32__neon(const float *x, float *y, int64_t n, float m, float s)
{
    return s == 1.0f ? pm_expsum_store_f32_body(x, y, n, m, s, 0, 0)
                     : pm_expsum_store_f32_body(x, y, n, m, s, 1, 0);
}

static double pm_expsum_store_ahead_f32__neon(const float *x, float *y, int64_t n, float m, float s)
{
    return s == 1.0f ? pm_expsum_store_f32_body(x, y, n, m, s, 0, 1)
                     : pm_expsum_store_f32_body(x, y, n, m, s, 1, 1);
}

static void pm_scale_f32__neon(const float *x, float *y, int64_t n, float c)
{
    const float32x4_t vc = vdupq_n_f32(c);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t a = vmulq_f32(vld1q_f32(x + i), vc);
        float32x4_t b = vmulq_f32(vld1q_f32(x + i + 4), vc);
        float32x4_t d = vmulq_f32(vld1q_f32(x + i + 8), vc);
        float32x4_t e = vmulq_f32(vld1q_f32(x + i + 12), vc);
        vst1q_f32(y + i, a);
        vst1q_f32(y + i + 4, b);
        vst1q_f32(y + i + 8, d);
        vst1q_f32(y + i + 12, e);
    }
    for (; i + 4 <= n; i += 4) {
        vst1q_f32(y + i, vmulq_f32(vld1q_f32(x + i), vc));
    }
    if (i < n) {
        pm_store_part_f32(y + i, vmulq_f32(pm_load_part_f32(x + i, n - i, 0.0f), vc), n - i);
    }
}

/*
 * softmax of a row of n <= 16 floats: the general path (rmax, expsum_store, scale by
 * (float)(1 / sum)) fused into one call, through a stack buffer, so the results are identical to
 * that path's by construction. Returns 0, having written nothing, for a row that is not finite
 * (max NaN or +-inf, or a NaN sum): the caller then takes the general path, which handles those.
 */
static int pm_softmax_small_f32__neon(const float *x, float *y, int64_t n, float s)
{
    float e[16];
    assert(n >= 1 && n <= 16);
    const float m = pm_rmax_f32__neon(x, n);
    if (!(m > -INFINITY && -FLT_MAX - m > -INFINITY)) { /* NaN, +inf, all -inf, or x - m may overflow */
        return 0;
    }
    const double sum = pm_expsum_store_f32__neon(x, e, n, m, s);
    if (isnan(sum)) {
        return 0;
    }
    pm_scale_f32__neon(e, y, n, (float)(1.0 / sum));
    return 1;
}

static double pm_expsum_f32__neon(const float *x, int64_t n, float m, float s)
{
    const float32x4_t vm = vdupq_n_f32(m), vs = vdupq_n_f32(s);
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        pm_acc4_f32(&a0, &a1, pm_exp_f32(pm_ts_f32(vld1q_f32(x + i), vm, vs, 1)),
                    pm_exp_f32(pm_ts_f32(vld1q_f32(x + i + 4), vm, vs, 1)),
                    pm_exp_f32(pm_ts_f32(vld1q_f32(x + i + 8), vm, vs, 1)),
                    pm_exp_f32(pm_ts_f32(vld1q_f32(x + i + 12), vm, vs, 1)));
    }
    for (; i + 4 <= n; i += 4) {
        pm_acc1_f32(&a0, &a1, pm_exp_f32(pm_ts_f32(vld1q_f32(x + i), vm, vs, 1)));
    }
    if (i < n) {
        float32x4_t t = pm_ts_f32(pm_load_part_f32(x + i, n - i, m), vm, vs, 1);
        pm_acc1_f32(&a0, &a1, pm_zero_unless_f32(pm_first_f32(n - i), pm_exp_f32(t)));
    }
    return pm_hsum2_f64(a0, a1);
}

static void pm_shiftscale_f32__neon(const float *x, float *y, int64_t n, float m, float s, float c)
{
    const float32x4_t vm = vdupq_n_f32(m), vs = vdupq_n_f32(s), vc = vdupq_n_f32(c);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t a = vsubq_f32(pm_ts_f32(vld1q_f32(x + i), vm, vs, 1), vc);
        float32x4_t b = vsubq_f32(pm_ts_f32(vld1q_f32(x + i + 4), vm, vs, 1), vc);
        vst1q_f32(y + i, a);
        vst1q_f32(y + i + 4, b);
    }
    for (; i < n; i += 4) {
        int64_t rem = n - i < 4 ? n - i : 4;
        float32x4_t t = pm_ts_f32(pm_load_part_f32(x + i, rem, 0.0f), vm, vs, 1);
        pm_store_part_f32(y + i, vsubq_f32(t, vc), rem);
    }
}

static double pm_sum_f32__neon(const float *x, int64_t n)
{
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) { /* float -> double exactly */
        pm_acc1_f32(&a0, &a1, vld1q_f32(x + i));
        pm_acc1_f32(&a2, &a3, vld1q_f32(x + i + 4));
    }
    for (; i < n; i += 4) {
        pm_acc1_f32(&a0, &a1, pm_load_part_f32(x + i, n - i < 4 ? n - i : 4, 0.0f));
    }
    return pm_hsum2_f64(vaddq_f64(a0, a2), vaddq_f64(a1, a3));
}

/* Products of floats are exact in double: widen both, multiply-add in double. */
static inline void pm_dot_acc_f32(float64x2_t *a0, float64x2_t *a1, float32x4_t u, float32x4_t v)
{
    *a0 = vfmaq_f64(*a0, vcvt_f64_f32(vget_low_f32(u)), vcvt_f64_f32(vget_low_f32(v)));
    *a1 = vfmaq_f64(*a1, vcvt_high_f64_f32(u), vcvt_high_f64_f32(v));
}

static double pm_dot_f32__neon(const float *a, const float *b, int64_t n)
{
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        pm_dot_acc_f32(&s0, &s1, vld1q_f32(a + i), vld1q_f32(b + i));
        pm_dot_acc_f32(&s2, &s3, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    }
    for (; i < n; i += 4) {
        int64_t rem = n - i < 4 ? n - i : 4;
        pm_dot_acc_f32(&s0, &s1, pm_load_part_f32(a + i, rem, 0.0f), pm_load_part_f32(b + i, rem, 0.0f));
    }
    return pm_hsum2_f64(vaddq_f64(s0, s2), vaddq_f64(s1, s3));
}

/* sum(exp(a) * b): exp in float (as the scalar kernel's expf), the product and the sum in double.
 * Unused tail lanes: a = 0 (exp 1) times b = 0. */
static double pm_dotexp_f32__neon(const float *a, const float *b, int64_t n)
{
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        pm_dot_acc_f32(&s0, &s1, pm_exp_f32(vld1q_f32(a + i)), vld1q_f32(b + i));
        pm_dot_acc_f32(&s2, &s3, pm_exp_f32(vld1q_f32(a + i + 4)), vld1q_f32(b + i + 4));
    }
    for (; i < n; i += 4) {
        int64_t rem = n - i < 4 ? n - i : 4;
        float32x4_t e = pm_zero_unless_f32(pm_first_f32(rem), pm_exp_f32(pm_load_part_f32(a + i, rem, 0.0f)));
        pm_dot_acc_f32(&s0, &s1, e, pm_load_part_f32(b + i, rem, 0.0f));
    }
    return pm_hsum2_f64(vaddq_f64(s0, s2), vaddq_f64(s1, s3));
}

static void pm_submul_f32__neon(const float *p, const float *dy, float *dx, int64_t n, float c)
{
    const float32x4_t vc = vdupq_n_f32(c);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        vst1q_f32(dx + i, vmulq_f32(vld1q_f32(p + i), vsubq_f32(vld1q_f32(dy + i), vc)));
    }
    if (i < n) {
        float32x4_t d = vsubq_f32(pm_load_part_f32(dy + i, n - i, 0.0f), vc);
        pm_store_part_f32(dx + i, vmulq_f32(pm_load_part_f32(p + i, n - i, 0.0f), d), n - i);
    }
}

static void pm_subexp_f32__neon(const float *a, const float *dy, float *dx, int64_t n, float c)
{
    const float32x4_t vc = vdupq_n_f32(c);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t e = pm_exp_f32(vld1q_f32(a + i));
        vst1q_f32(dx + i, vfmsq_f32(vld1q_f32(dy + i), e, vc));
    }
    if (i < n) {
        float32x4_t e = pm_exp_f32(pm_load_part_f32(a + i, n - i, 0.0f));
        pm_store_part_f32(dx + i, vfmsq_f32(pm_load_part_f32(dy + i, n - i, 0.0f), e, vc), n - i);
    }
}

static void pm_axpbyc_f32__neon(const float *e, const float *t, float *out, int64_t n, float a, float b, float c)
{
    const float32x4_t va = vdupq_n_f32(a), vb = vdupq_n_f32(b), vc = vdupq_n_f32(c);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vfmsq_f32(vmulq_f32(vld1q_f32(e + i), va), vld1q_f32(t + i), vb);
        vst1q_f32(out + i, vsubq_f32(v, vc));
    }
    if (i < n) {
        float32x4_t v = vfmsq_f32(vmulq_f32(pm_load_part_f32(e + i, n - i, 0.0f), va),
                                  pm_load_part_f32(t + i, n - i, 0.0f), vb);
        pm_store_part_f32(out + i, vsubq_f32(v, vc), n - i);
    }
}

/*
 * EXACT mode (as in avx2.c). d = x - m is carried as the unevaluated pair (d, dlo) from TwoSum
 * (Knuth), then multiplied by s keeping the pair (FMA gives the product's rounding error exactly),
 * so the rounding of x - m never reaches exp.
 */
static inline __attribute__((always_inline)) void pm_exact_t_f32(float32x4_t x, float32x4_t negm, float32x4_t s,
                                                                 int scaled, float32x4_t *hi, float32x4_t *lo)
{
    float32x4_t d = vaddq_f32(x, negm);
    float32x4_t bb = vsubq_f32(d, x);
    float32x4_t dlo = vaddq_f32(vsubq_f32(x, vsubq_f32(d, bb)), vsubq_f32(negm, bb));
    if (!scaled) { /* T = 1: the pair is (d, dlo) itself */
        *hi = d;
        *lo = dlo;
        return;
    }
    float32x4_t p = vmulq_f32(d, s);
    *lo = vfmaq_f32(vfmsq_f32(vnegq_f32(p), vnegq_f32(d), s), dlo, s); /* (d s - p) + dlo s */
    *hi = p;
}

static inline __attribute__((always_inline)) double pm_expsum_exact_f32_body(const float *x, int64_t n, float m,
                                                                             float s, int scaled)
{
    const float32x4_t negm = vdupq_n_f32(-m), vs = vdupq_n_f32(s);
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = a0;
    float32x4_t hi, lo;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) { /* two independent exp chains */
        pm_exact_t_f32(vld1q_f32(x + i), negm, vs, scaled, &hi, &lo);
        float32x4_t e0 = pm_exp2parts_f32(hi, lo);
        pm_exact_t_f32(vld1q_f32(x + i + 4), negm, vs, scaled, &hi, &lo);
        float32x4_t e1 = pm_exp2parts_f32(hi, lo);
        /* each term widened on its own (as on AVX2 and AVX-512): a float e0 + e1 rounds the row's sum */
        pm_acc1_f32(&a0, &a1, e0);
        pm_acc1_f32(&a0, &a1, e1);
    }
    for (; i < n; i += 4) {
        int64_t rem = n - i < 4 ? n - i : 4;
        pm_exact_t_f32(pm_load_part_f32(x + i, rem, m), negm, vs, scaled, &hi, &lo);
        pm_acc1_f32(&a0, &a1, pm_zero_unless_f32(pm_first_f32(rem), pm_exp2parts_f32(hi, lo)));
    }
    return pm_hsum2_f64(a0, a1);
}

static double pm_expsum_exact_f32__neon(const float *x, int64_t n, float m, float s)
{
    return s == 1.0f ? pm_expsum_exact_f32_body(x, n, m, s, 0) : pm_expsum_exact_f32_body(x, n, m, s, 1);
}

/* exp((hi + lo) - lse) with lse = lse_hi + lse_lo: TwoSum(hi, -lse_hi), the rest folded into the low
 * part given to the reduction. */
static inline __attribute__((always_inline)) float32x4_t pm_exp_minus_lse_f32(float32x4_t v, float32x4_t negm,
                                                                              float32x4_t vs, float32x4_t neg_lse_hi,
                                                                              float32x4_t neg_lse_lo, int scaled)
{
    float32x4_t hi, lo;
    pm_exact_t_f32(v, negm, vs, scaled, &hi, &lo);
    float32x4_t a = vaddq_f32(hi, neg_lse_hi);
    float32x4_t bb = vsubq_f32(a, hi);
    float32x4_t alo = vaddq_f32(vsubq_f32(hi, vsubq_f32(a, bb)), vsubq_f32(neg_lse_hi, bb));
    return pm_exp2parts_f32(a, vaddq_f32(alo, vaddq_f32(lo, neg_lse_lo)));
}

static inline __attribute__((always_inline)) void pm_exp_exact_f32_body(const float *x, float *y, int64_t n,
                                                                        float m, float s, double lse, int scaled)
{
    const float32x4_t negm = vdupq_n_f32(-m), vs = vdupq_n_f32(s);
    const float lse_hi = (float)lse;
    const float32x4_t nh = vdupq_n_f32(-lse_hi);
    const float32x4_t nl = vdupq_n_f32((float)(-(lse - (double)lse_hi)));
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t e0 = pm_exp_minus_lse_f32(vld1q_f32(x + i), negm, vs, nh, nl, scaled);
        float32x4_t e1 = pm_exp_minus_lse_f32(vld1q_f32(x + i + 4), negm, vs, nh, nl, scaled);
        vst1q_f32(y + i, e0);
        vst1q_f32(y + i + 4, e1);
    }
    for (; i < n; i += 4) {
        int64_t rem = n - i < 4 ? n - i : 4;
        pm_store_part_f32(y + i, pm_exp_minus_lse_f32(pm_load_part_f32(x + i, rem, m), negm, vs, nh, nl, scaled),
                          rem);
    }
}

static void pm_exp_exact_f32__neon(const float *x, float *y, int64_t n, float m, float s, double lse)
{
    if (s == 1.0f) {
        pm_exp_exact_f32_body(x, y, n, m, s, lse, 0);
    } else {
        pm_exp_exact_f32_body(x, y, n, m, s, lse, 1);
    }
}

/* ---- double exp ----------------------------------------------------------------------------------- */

/*
 * exp(t) = 2^a * 2^(j/64) * e^r with k = round(t * 64 / ln2) = 64 a + j and |r| <= ln2/128 (the
 * table method of avx2.c). Fast path: every |t| <= 708, so a >= -1022 and the result is normal.
 * Wide path: t clamped to [-746, 710] (exp(-746) is below half the smallest subnormal 2^-1075 =
 * e^-745.13, exp(710) above DBL_MAX), 2^a applied as two normal factors.
 */
#define PM_NEON_F64_FAST_T 708.0
#define PM_NEON_F64_ZERO_T -746.0
#define PM_NEON_F64_INF_T 710.0

/* The lo parts of 2^(j/64): pm_exp2_table64[j] + pm_exp2_table64_lo[j] = 2^(j/64) to ~2^-107
 * relative (from 200-bit arithmetic, mpmath), so the EXACT exp's table does not add its own 0.5 ulp. */
static const double pm_exp2_table64_lo[64] __attribute__((aligned(64))) = {
    0x0.0p+0, -0x1.19083535b085dp-56, 0x1.d73e2a475b465p-55, 0x1.186be4bb284ffp-57,
    0x1.8a62e4adc610bp-54, 0x1.03a1727c57b53p-59, -0x1.6c51039449b3ap-54, -0x1.32fbf9af1369ep-54,
    -0x1.19041b9d78a76p-55, 0x1.e5b4c7b4968e4p-55, 0x1.e016e00a2643cp-54, 0x1.dc775814a8495p-55,
    0x1.9b07eb6c70573p-54, 0x1.2bd339940e9d9p-55, 0x1.612e8afad1255p-55, 0x1.0024754db41d5p-54,
    0x1.6f46ad23182e4p-55, 0x1.32721843659a6p-54, -0x1.63aeabf42eae2p-54, -0x1.5e436d661f5e3p-56,
    0x1.ada0911f09ebcp-55, -0x1.ef3691c309278p-58, 0x1.89b7a04ef80d0p-59, 0x1.3c1a3b69062f0p-56,
    0x1.d4397afec42e2p-56, -0x1.4b309d25957e3p-54, -0x1.07abe1db13cadp-55, 0x1.9bb2c011d93adp-54,
    0x1.6324c054647adp-54, 0x1.ba6f93080e65ep-54, -0x1.383c17e40b497p-54, -0x1.bb60987591c34p-54,
    -0x1.bdd3413b26456p-54, -0x1.bbe3a683c88abp-57, -0x1.16e4786887a99p-55, -0x1.0245957316dd3p-54,
    -0x1.41577ee04992fp-55, 0x1.05d02ba15797ep-56, -0x1.d4c1dd41532d8p-54, -0x1.fc6f89bd4f6bap-54,
    0x1.6e9f156864b27p-54, 0x1.5cc13a2e3976cp-55, -0x1.75fc781b57ebcp-57, -0x1.d185b7c1b85d1p-54,
    0x1.c7c46b071f2bep-56, -0x1.359495d1cd533p-54, -0x1.d2f6edb8d41e1p-54, 0x1.0fac90ef7fd31p-54,
    0x1.7a1cd345dcc81p-54, -0x1.2805e3084d708p-57, -0x1.5584f7e54ac3bp-56, 0x1.23dd07a2d9e84p-55,
    0x1.11065895048ddp-55, 0x1.2884dff483cadp-54, 0x1.503cbd1e949dbp-56, -0x1.cbc3743797a9cp-54,
    0x1.2ed02d75b3707p-55, 0x1.c2300696db532p-54, -0x1.1a5cd4f184b5cp-54, 0x1.39e8980a9cc8fp-55,
    -0x1.e9c23179c2893p-54, 0x1.dc7f486a4b6b0p-54, 0x1.9d3e12dd8a18bp-54, 0x1.74853f3a5931ep-55,
};

/* The two lanes of a table, indexed by j (each lane in 0..63). */
static inline float64x2_t pm_lookup2_f64(const double *table, int64x2_t j)
{
    float64x2_t v = vld1q_dup_f64(table + vgetq_lane_s64(j, 0));
    return vld1q_lane_f64(table + vgetq_lane_s64(j, 1), v, 1);
}

/* k = round(t * 64 / ln2) (kr holds it in its low mantissa bits: the magic 0x1.8p52) and
 * r = t - k ln2/64 (+ lo in EXACT mode); LN2_HI has 32 significant bits: k * LN2_HI/64 is exact for
 * |k| < 2^21 and the difference is exact. */
static inline float64x2_t pm_reduce_f64(float64x2_t t, float64x2_t lo, int exact, int64x2_t *ki_out)
{
    const float64x2_t magic = vdupq_n_f64(PM_F64_ROUND);
    float64x2_t kr = vfmaq_f64(magic, t, vdupq_n_f64(PM_F64_INV_LN2_64));
    float64x2_t k = vsubq_f64(kr, magic);
    *ki_out = vsubq_s64(vreinterpretq_s64_f64(kr), vreinterpretq_s64_f64(magic));
    float64x2_t r = vfmsq_f64(t, k, vdupq_n_f64(PM_F64_LN2_HI / 64));
    if (!exact) {
        return vfmsq_f64(r, k, vdupq_n_f64(PM_F64_LN2_LO / 64));
    }
    return vaddq_f64(r, vfmsq_f64(lo, k, vdupq_n_f64(PM_F64_LN2_LO / 64)));
}

/* e^r - 1 on |r| <= ln2/128: Taylor to degree 5 (truncation < 2^-54 relative), as avx2.c. */
static inline float64x2_t pm_expm1_p5_f64(float64x2_t r)
{
    float64x2_t q = vfmaq_f64(vdupq_n_f64(1.0 / 24), vdupq_n_f64(1.0 / 120), r);
    q = vfmaq_f64(vdupq_n_f64(1.0 / 6), q, r);
    q = vfmaq_f64(vdupq_n_f64(0.5), q, r);
    return vfmaq_f64(r, q, vmulq_f64(r, r));
}

/* e^r - 1 on |r| <= ln2/128: Taylor to degree 6 (truncation r^7/5040 < 2^-65 relative), EXACT mode. */
static inline float64x2_t pm_expm1_p6_f64(float64x2_t r)
{
    float64x2_t q = vfmaq_f64(vdupq_n_f64(1.0 / 120), vdupq_n_f64(1.0 / 720), r);
    q = vfmaq_f64(vdupq_n_f64(1.0 / 24), q, r);
    q = vfmaq_f64(vdupq_n_f64(1.0 / 6), q, r);
    q = vfmaq_f64(vdupq_n_f64(0.5), q, r);
    return vfmaq_f64(r, q, vmulq_f64(r, r));
}

/* 2^(j/64) e^r = T[j] (1 + q), rounded once; EXACT mode also adds the table's lo part. */
static inline float64x2_t pm_table_exp_f64(float64x2_t r, int64x2_t j, int exact)
{
    float64x2_t tj = pm_lookup2_f64(pm_exp2_table64, j);
    if (!exact) {
        return vfmaq_f64(tj, tj, pm_expm1_p5_f64(r));
    }
    float64x2_t w = vfmaq_f64(pm_lookup2_f64(pm_exp2_table64_lo, j), tj, pm_expm1_p6_f64(r));
    return vaddq_f64(tj, w);
}

/* exp(t + lo) for any t (lo as in pm_exp_wide_f32). */
static __attribute__((noinline)) float64x2_t pm_exp_wide_f64(float64x2_t t, float64x2_t lo, int exact)
{
    const float64x2_t zt = vdupq_n_f64(PM_NEON_F64_ZERO_T), it = vdupq_n_f64(PM_NEON_F64_INF_T);
    uint64x2_t clamped = vorrq_u64(vcltq_f64(t, zt), vcgtq_f64(t, it));
    float64x2_t tc = vminq_f64(vmaxq_f64(t, zt), it);
    lo = vreinterpretq_f64_u64(vbicq_u64(vreinterpretq_u64_f64(lo), clamped));
    int64x2_t ki;
    float64x2_t r = pm_reduce_f64(tc, lo, exact, &ki);
    int64x2_t j = vandq_s64(ki, vdupq_n_s64(63)); /* NaN lanes: some index in 0..63 */
    int64x2_t a = vshrq_n_s64(vsubq_s64(ki, j), 6);
    int64x2_t a1 = vshrq_n_s64(a, 1), a2 = vsubq_s64(a, a1); /* each in [-539, 513] */
    float64x2_t s1 = vreinterpretq_f64_s64(vshlq_n_s64(vaddq_s64(a1, vdupq_n_s64(1023)), 52));
    float64x2_t s2 = vreinterpretq_f64_s64(vshlq_n_s64(vaddq_s64(a2, vdupq_n_s64(1023)), 52));
    return vmulq_f64(vmulq_f64(pm_table_exp_f64(r, j, exact), s1), s2);
}

static inline __attribute__((always_inline)) float64x2_t pm_exp_any_f64(float64x2_t t, float64x2_t lo, int exact)
{
    if (pm_any_u64(vcagtq_f64(t, vdupq_n_f64(PM_NEON_F64_FAST_T)))) {
        return pm_exp_wide_f64(t, lo, exact);
    }
    int64x2_t ki;
    float64x2_t r = pm_reduce_f64(t, lo, exact, &ki);
    int64x2_t j = vandq_s64(ki, vdupq_n_s64(63));
    /* (k - j) is a multiple of 64: shifted left by 46 it is a in the exponent field, and adding the
     * bits of 1.0 makes 2^a (normal: a >= -1022 here). A multiply, not an add to v's exponent, so a
     * NaN v stays NaN. */
    int64x2_t e = vshlq_n_s64(vsubq_s64(ki, j), 46);
    float64x2_t two_a = vreinterpretq_f64_s64(vaddq_s64(e, vreinterpretq_s64_f64(vdupq_n_f64(1.0))));
    return vmulq_f64(pm_table_exp_f64(r, j, exact), two_a);
}

/* The default double exp. */
static inline float64x2_t pm_exp_f64(float64x2_t t)
{
    return pm_exp_any_f64(t, vdupq_n_f64(0.0), 0);
}

/* ---- double kernels ------------------------------------------------------------------------------- */

static double pm_rmax_f64__neon(const double *x, int64_t n)
{
    const float64x2_t ninf = vdupq_n_f64(-INFINITY);
    float64x2_t m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        m0 = vmaxnmq_f64(m0, vld1q_f64(x + i));
        m1 = vmaxnmq_f64(m1, vld1q_f64(x + i + 2));
        m2 = vmaxnmq_f64(m2, vld1q_f64(x + i + 4));
        m3 = vmaxnmq_f64(m3, vld1q_f64(x + i + 6));
    }
    for (; i + 2 <= n; i += 2) {
        m0 = vmaxnmq_f64(m0, vld1q_f64(x + i));
    }
    if (i < n) {
        m1 = vmaxnmq_f64(m1, pm_load1_f64(x + i, -INFINITY));
    }
    return vmaxnmvq_f64(vmaxnmq_f64(vmaxnmq_f64(m0, m1), vmaxnmq_f64(m2, m3)));
}

static inline float64x2_t pm_t_f64(float64x2_t v, float64x2_t m, float64x2_t s)
{
    return vmulq_f64(vsubq_f64(v, m), s);
}

static inline double pm_hsum4_f64(float64x2_t a0, float64x2_t a1, float64x2_t a2, float64x2_t a3)
{
    return vaddvq_f64(vaddq_f64(vaddq_f64(a0, a1), vaddq_f64(a2, a3)));
}

static inline __attribute__((always_inline)) double
pm_expsum_store_f64_body(const double *x, double *y, int64_t n, double m, double s, int ahead)
{
    const float64x2_t vm = vdupq_n_f64(m), vs = vdupq_n_f64(s);
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        if (ahead) { /* one 64-byte line of the next n doubles per 8 computed */
            __builtin_prefetch(x + n + i);
        }
        float64x2_t e0 = pm_exp_f64(pm_t_f64(vld1q_f64(x + i), vm, vs));
        float64x2_t e1 = pm_exp_f64(pm_t_f64(vld1q_f64(x + i + 2), vm, vs));
        float64x2_t e2 = pm_exp_f64(pm_t_f64(vld1q_f64(x + i + 4), vm, vs));
        float64x2_t e3 = pm_exp_f64(pm_t_f64(vld1q_f64(x + i + 6), vm, vs));
        vst1q_f64(y + i, e0);
        vst1q_f64(y + i + 2, e1);
        vst1q_f64(y + i + 4, e2);
        vst1q_f64(y + i + 6, e3);
        a0 = vaddq_f64(a0, e0);
        a1 = vaddq_f64(a1, e1);
        a2 = vaddq_f64(a2, e2);
        a3 = vaddq_f64(a3, e3);
    }
    for (; i + 2 <= n; i += 2) {
        float64x2_t e = pm_exp_f64(pm_t_f64(vld1q_f64(x + i), vm, vs));
        vst1q_f64(y + i, e);
        a0 = vaddq_f64(a0, e);
    }
    if (i < n) { /* lane 1 holds m: exp 1, then zeroed */
        float64x2_t e = pm_lane0_f64(pm_exp_f64(pm_t_f64(pm_load1_f64(x + i, m), vm, vs)));
        vst1q_lane_f64(y + i, e, 0);
        a1 = vaddq_f64(a1, e);
    }
    return pm_hsum4_f64(a0, a1, a2, a3);
}

static double pm_expsum_store_f64__neon(const double *x, double *y, int64_t n, double m, double s)
{
    return pm_expsum_store_f64_body(x, y, n, m, s, 0);
}

static double pm_expsum_store_ahead_f64__neon(const double *x, double *y, int64_t n, double m, double s)
{
    return pm_expsum_store_f64_body(x, y, n, m, s, 1);
}

static void pm_scale_f64__neon(const double *x, double *y, int64_t n, double c)
{
    const float64x2_t vc = vdupq_n_f64(c);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float64x2_t a = vmulq_f64(vld1q_f64(x + i), vc);
        float64x2_t b = vmulq_f64(vld1q_f64(x + i + 2), vc);
        float64x2_t d = vmulq_f64(vld1q_f64(x + i + 4), vc);
        float64x2_t e = vmulq_f64(vld1q_f64(x + i + 6), vc);
        vst1q_f64(y + i, a);
        vst1q_f64(y + i + 2, b);
        vst1q_f64(y + i + 4, d);
        vst1q_f64(y + i + 6, e);
    }
    for (; i + 2 <= n; i += 2) {
        vst1q_f64(y + i, vmulq_f64(vld1q_f64(x + i), vc));
    }
    if (i < n) {
        y[i] = x[i] * c;
    }
}

/* softmax of a row of n <= 16 doubles: the general path fused into one call (see the float one). */
static int pm_softmax_small_f64__neon(const double *x, double *y, int64_t n, double s)
{
    double e[16];
    assert(n >= 1 && n <= 16);
    const double m = pm_rmax_f64__neon(x, n);
    if (!(m > -INFINITY && -DBL_MAX - m > -INFINITY)) { /* NaN, +inf, all -inf, or x - m may overflow */
        return 0;
    }
    const double sum = pm_expsum_store_f64__neon(x, e, n, m, s);
    if (isnan(sum)) {
        return 0;
    }
    pm_scale_f64__neon(e, y, n, 1.0 / sum);
    return 1;
}

static double pm_expsum_f64__neon(const double *x, int64_t n, double m, double s)
{
    const float64x2_t vm = vdupq_n_f64(m), vs = vdupq_n_f64(s);
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 = vaddq_f64(a0, pm_exp_f64(pm_t_f64(vld1q_f64(x + i), vm, vs)));
        a1 = vaddq_f64(a1, pm_exp_f64(pm_t_f64(vld1q_f64(x + i + 2), vm, vs)));
        a2 = vaddq_f64(a2, pm_exp_f64(pm_t_f64(vld1q_f64(x + i + 4), vm, vs)));
        a3 = vaddq_f64(a3, pm_exp_f64(pm_t_f64(vld1q_f64(x + i + 6), vm, vs)));
    }
    for (; i + 2 <= n; i += 2) {
        a0 = vaddq_f64(a0, pm_exp_f64(pm_t_f64(vld1q_f64(x + i), vm, vs)));
    }
    if (i < n) {
        a1 = vaddq_f64(a1, pm_lane0_f64(pm_exp_f64(pm_t_f64(pm_load1_f64(x + i, m), vm, vs))));
    }
    return pm_hsum4_f64(a0, a1, a2, a3);
}

static void pm_shiftscale_f64__neon(const double *x, double *y, int64_t n, double m, double s, double c)
{
    const float64x2_t vm = vdupq_n_f64(m), vs = vdupq_n_f64(s), vc = vdupq_n_f64(c);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float64x2_t a = vsubq_f64(pm_t_f64(vld1q_f64(x + i), vm, vs), vc);
        float64x2_t b = vsubq_f64(pm_t_f64(vld1q_f64(x + i + 2), vm, vs), vc);
        vst1q_f64(y + i, a);
        vst1q_f64(y + i + 2, b);
    }
    for (; i + 2 <= n; i += 2) {
        vst1q_f64(y + i, vsubq_f64(pm_t_f64(vld1q_f64(x + i), vm, vs), vc));
    }
    if (i < n) {
        y[i] = (x[i] - m) * s - c;
    }
}

static double pm_sum_f64__neon(const double *x, int64_t n)
{
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 = vaddq_f64(a0, vld1q_f64(x + i));
        a1 = vaddq_f64(a1, vld1q_f64(x + i + 2));
        a2 = vaddq_f64(a2, vld1q_f64(x + i + 4));
        a3 = vaddq_f64(a3, vld1q_f64(x + i + 6));
    }
    for (; i + 2 <= n; i += 2) {
        a0 = vaddq_f64(a0, vld1q_f64(x + i));
    }
    if (i < n) {
        a1 = vaddq_f64(a1, pm_load1_f64(x + i, 0.0));
    }
    return pm_hsum4_f64(a0, a1, a2, a3);
}

static double pm_dot_f64__neon(const double *a, const double *b, int64_t n)
{
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = vfmaq_f64(s0, vld1q_f64(a + i), vld1q_f64(b + i));
        s1 = vfmaq_f64(s1, vld1q_f64(a + i + 2), vld1q_f64(b + i + 2));
        s2 = vfmaq_f64(s2, vld1q_f64(a + i + 4), vld1q_f64(b + i + 4));
        s3 = vfmaq_f64(s3, vld1q_f64(a + i + 6), vld1q_f64(b + i + 6));
    }
    for (; i + 2 <= n; i += 2) {
        s0 = vfmaq_f64(s0, vld1q_f64(a + i), vld1q_f64(b + i));
    }
    if (i < n) {
        s1 = vfmaq_f64(s1, pm_load1_f64(a + i, 0.0), pm_load1_f64(b + i, 0.0));
    }
    return pm_hsum4_f64(s0, s1, s2, s3);
}

static double pm_dotexp_f64__neon(const double *a, const double *b, int64_t n)
{
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = vfmaq_f64(s0, pm_exp_f64(vld1q_f64(a + i)), vld1q_f64(b + i));
        s1 = vfmaq_f64(s1, pm_exp_f64(vld1q_f64(a + i + 2)), vld1q_f64(b + i + 2));
        s2 = vfmaq_f64(s2, pm_exp_f64(vld1q_f64(a + i + 4)), vld1q_f64(b + i + 4));
        s3 = vfmaq_f64(s3, pm_exp_f64(vld1q_f64(a + i + 6)), vld1q_f64(b + i + 6));
    }
    for (; i + 2 <= n; i += 2) {
        s0 = vfmaq_f64(s0, pm_exp_f64(vld1q_f64(a + i)), vld1q_f64(b + i));
    }
    if (i < n) { /* lane 1: exp(0) * 0 */
        s1 = vfmaq_f64(s1, pm_exp_f64(pm_load1_f64(a + i, 0.0)), pm_load1_f64(b + i, 0.0));
    }
    return pm_hsum4_f64(s0, s1, s2, s3);
}

static void pm_submul_f64__neon(const double *p, const double *dy, double *dx, int64_t n, double c)
{
    const float64x2_t vc = vdupq_n_f64(c);
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) {
        vst1q_f64(dx + i, vmulq_f64(vld1q_f64(p + i), vsubq_f64(vld1q_f64(dy + i), vc)));
    }
    if (i < n) {
        dx[i] = p[i] * (dy[i] - c);
    }
}

static void pm_subexp_f64__neon(const double *a, const double *dy, double *dx, int64_t n, double c)
{
    const float64x2_t vc = vdupq_n_f64(c);
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) {
        vst1q_f64(dx + i, vfmsq_f64(vld1q_f64(dy + i), pm_exp_f64(vld1q_f64(a + i)), vc));
    }
    if (i < n) {
        float64x2_t v = vfmsq_f64(pm_load1_f64(dy + i, 0.0), pm_exp_f64(pm_load1_f64(a + i, 0.0)), vc);
        vst1q_lane_f64(dx + i, v, 0);
    }
}

static void pm_axpbyc_f64__neon(const double *e, const double *t, double *out, int64_t n, double a, double b,
                                double c)
{
    const float64x2_t va = vdupq_n_f64(a), vb = vdupq_n_f64(b), vc = vdupq_n_f64(c);
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) {
        float64x2_t v = vfmsq_f64(vmulq_f64(vld1q_f64(e + i), va), vld1q_f64(t + i), vb);
        vst1q_f64(out + i, vsubq_f64(v, vc));
    }
    if (i < n) {
        float64x2_t v = vfmsq_f64(vmulq_f64(pm_load1_f64(e + i, 0.0), va), pm_load1_f64(t + i, 0.0), vb);
        vst1q_lane_f64(out + i, vsubq_f64(v, vc), 0);
    }
}

/*
 * double EXACT mode, the vector form of kernels/scalar.c's: x - m as the TwoSum pair, times s with
 * the product's error from FMA, minus c (0, or the log of the sum) by TwoSum again; where a part is
 * not finite (x = -inf, an overflowing product) the low part is meaningless and is dropped. The pair
 * goes to the exp whose table carries its own lo part: one rounding per result.
 */
static inline float64x2_t pm_exact_exp_f64(float64x2_t x, float64x2_t negm, float64x2_t s, float64x2_t negc,
                                           int with_c)
{
    const float64x2_t inf = vdupq_n_f64(INFINITY);
    float64x2_t d = vaddq_f64(x, negm);
    float64x2_t bb = vsubq_f64(d, x);
    float64x2_t dlo = vaddq_f64(vsubq_f64(x, vsubq_f64(d, bb)), vsubq_f64(negm, bb));
    float64x2_t hi = vmulq_f64(d, s);
    float64x2_t lo = vfmaq_f64(vfmsq_f64(vnegq_f64(hi), vnegq_f64(d), s), dlo, s); /* (d s - hi) + dlo s */
    uint64x2_t finite = vcaltq_f64(hi, inf);
    if (with_c) {
        float64x2_t u = vaddq_f64(hi, negc);
        float64x2_t ub = vsubq_f64(u, hi);
        float64x2_t ulo = vaddq_f64(vsubq_f64(hi, vsubq_f64(u, ub)), vsubq_f64(negc, ub));
        finite = vandq_u64(finite, vcaltq_f64(u, inf));
        hi = u;
        lo = vaddq_f64(ulo, lo);
    }
    lo = vreinterpretq_f64_u64(vandq_u64(finite, vreinterpretq_u64_f64(lo)));
    return pm_exp_any_f64(hi, lo, 1);
}

/* Neumaier's step per lane: acc + e with the rounding error into comp (whichever of the two is
 * larger in magnitude gives the exact error). */
static inline void pm_neumaier_f64(float64x2_t *acc, float64x2_t *comp, float64x2_t e)
{
    float64x2_t t = vaddq_f64(*acc, e);
    uint64x2_t acc_big = vcageq_f64(*acc, e);
    float64x2_t big = vbslq_f64(acc_big, *acc, e), small = vbslq_f64(acc_big, e, *acc);
    *comp = vaddq_f64(*comp, vaddq_f64(vsubq_f64(big, t), small));
    *acc = t;
}

static double pm_expsum_exact_f64__neon(const double *x, int64_t n, double m, double s)
{
    const float64x2_t negm = vdupq_n_f64(-m), vs = vdupq_n_f64(s), zero = vdupq_n_f64(0.0);
    float64x2_t acc0 = zero, comp0 = zero, acc1 = zero, comp1 = zero;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        pm_neumaier_f64(&acc0, &comp0, pm_exact_exp_f64(vld1q_f64(x + i), negm, vs, zero, 0));
        pm_neumaier_f64(&acc1, &comp1, pm_exact_exp_f64(vld1q_f64(x + i + 2), negm, vs, zero, 0));
    }
    for (; i + 2 <= n; i += 2) {
        pm_neumaier_f64(&acc0, &comp0, pm_exact_exp_f64(vld1q_f64(x + i), negm, vs, zero, 0));
    }
    if (i < n) {
        pm_neumaier_f64(&acc1, &comp1, pm_lane0_f64(pm_exact_exp_f64(pm_load1_f64(x + i, m), negm, vs, zero, 0)));
    }
    /* the four partial sums, compensated as well */
    float64x2_t acc = zero, comp = vaddq_f64(comp0, comp1);
    pm_neumaier_f64(&acc, &comp, acc0);
    pm_neumaier_f64(&acc, &comp, acc1);
    double a = vgetq_lane_f64(acc, 0), b = vgetq_lane_f64(acc, 1);
    double t = a + b;
    double err = fabs(a) >= fabs(b) ? (a - t) + b : (b - t) + a;
    return t + (err + vaddvq_f64(comp));
}

static void pm_exp_exact_f64__neon(const double *x, double *y, int64_t n, double m, double s, double lse)
{
    const float64x2_t negm = vdupq_n_f64(-m), vs = vdupq_n_f64(s), negc = vdupq_n_f64(-lse);
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) {
        vst1q_f64(y + i, pm_exact_exp_f64(vld1q_f64(x + i), negm, vs, negc, 1));
    }
    if (i < n) {
        vst1q_lane_f64(y + i, pm_exact_exp_f64(pm_load1_f64(x + i, m), negm, vs, negc, 1), 0);
    }
}

/* ---- the table ---------------------------------------------------------------------------------- */

void pm_fill_table__neon(pm_isa_table *t)
{
    /* Every slot but expscale (left to the scalar fill). */
    t->name = "neon";
    t->f32.rmax = pm_rmax_f32__neon;
    t->f32.expsum_store = pm_expsum_store_f32__neon;
    t->f32.expsum_store_ahead = pm_expsum_store_ahead_f32__neon;
    t->f32.softmax_small = pm_softmax_small_f32__neon;
    t->f32.expsum = pm_expsum_f32__neon;
    t->f32.scale = pm_scale_f32__neon;
    t->f32.shiftscale = pm_shiftscale_f32__neon;
    t->f32.sum = pm_sum_f32__neon;
    t->f32.dot = pm_dot_f32__neon;
    t->f32.dotexp = pm_dotexp_f32__neon;
    t->f32.submul = pm_submul_f32__neon;
    t->f32.subexp = pm_subexp_f32__neon;
    t->f32.axpbyc = pm_axpbyc_f32__neon;
    t->f32.expsum_exact = pm_expsum_exact_f32__neon;
    t->f32.exp_exact = pm_exp_exact_f32__neon;

    t->f64.rmax = pm_rmax_f64__neon;
    t->f64.expsum_store = pm_expsum_store_f64__neon;
    t->f64.expsum_store_ahead = pm_expsum_store_ahead_f64__neon;
    t->f64.softmax_small = pm_softmax_small_f64__neon;
    t->f64.expsum = pm_expsum_f64__neon;
    t->f64.scale = pm_scale_f64__neon;
    t->f64.shiftscale = pm_shiftscale_f64__neon;
    t->f64.sum = pm_sum_f64__neon;
    t->f64.dot = pm_dot_f64__neon;
    t->f64.dotexp = pm_dotexp_f64__neon;
    t->f64.submul = pm_submul_f64__neon;
    t->f64.subexp = pm_subexp_f64__neon;
    t->f64.axpbyc = pm_axpbyc_f64__neon;
    t->f64.expsum_exact = pm_expsum_exact_f64__neon;
    t->f64.exp_exact = pm_exp_exact_f64__neon;
}
