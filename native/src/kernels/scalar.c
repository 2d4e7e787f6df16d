/*
 * Portable kernels: every slot of the table, for float and double, in plain C11 + libm.
 *
 * This file is compiled without any ISA flag and must build with any C11 compiler on any CPU:
 * it is the fallback the dispatcher always has, and the baseline every other table starts from
 * (kernels.h). Contract recap (see kernels.h): one contiguous row of n >= 1 elements, no access
 * outside it, elementwise in-place allowed, sums accumulated in double, exp only evaluated at
 * t <= 0 or NaN.
 *
 * The arithmetic deliberately mirrors what the SIMD kernels do (t = (x - m) * s rounded in the
 * row's type, then exp), so the ISAs differ only in the exp approximation, not in the formula.
 */
#include <assert.h>
#include <math.h>
#include <stdint.h>

#include "kernels.h"

/* ---- the elementwise and reduction kernels, once per type -------------------------------- */

/*
 * Sums run in double over blocks of PM_SUM_BLOCK terms, and the block sums are added up: for
 * double rows that keeps the rounding error near (sqrt(PM_SUM_BLOCK) + sqrt(n / PM_SUM_BLOCK))
 * ulps instead of sqrt(n) for one running sum (2 Mi terms: ~45 instead of ~1450 ulps at random,
 * far less than the n-ulp worst case). For float rows the double sum is exact enough anyway.
 */
#define PM_SUM_BLOCK 256
#define PM_BLOCKED_SUM(n, i, term)                                                             \
    double acc = 0.0;                                                                          \
    for (int64_t i0_ = 0; i0_ < (n); i0_ += PM_SUM_BLOCK) {                                    \
        const int64_t end_ = (n) - i0_ < PM_SUM_BLOCK ? (n) : i0_ + PM_SUM_BLOCK;              \
        double part_ = 0.0;                                                                    \
        for (int64_t i = i0_; i < end_; i++) {                                                 \
            part_ += (term);                                                                   \
        }                                                                                      \
        acc += part_;                                                                          \
    }

/* T: element type, S: suffix, EXP: libm exp for T. */
#define PM_SCALAR_KERNELS(T, S, EXP)                                                          \
    static T pm_rmax_##S##__scalar(const T *x, int64_t n)                                      \
    {                                                                                          \
        assert(n >= 1);                                                                        \
        /* Starting from -inf, NaN entries are skipped (kernels.h allows either). */           \
        T m = -INFINITY;                                                                       \
        for (int64_t i = 0; i < n; i++) {                                                      \
            m = x[i] > m ? x[i] : m;                                                           \
        }                                                                                      \
        return m;                                                                              \
    }                                                                                          \
                                                                                               \
    static inline T pm_exp_store_##S(const T *x, T *y, int64_t i, T m, T s)                   \
    {                                                                                          \
        T e = EXP((x[i] - m) * s);                                                             \
        y[i] = e;                                                                              \
        return e;                                                                              \
    }                                                                                          \
                                                                                               \
    static double pm_expsum_store_##S##__scalar(const T *x, T *y, int64_t n, T m, T s)         \
    {                                                                                          \
        PM_BLOCKED_SUM(n, i, (double)pm_exp_store_##S(x, y, i, m, s))                          \
        return acc;                                                                            \
    }                                                                                          \
                                                                                               \
    static double pm_expsum_##S##__scalar(const T *x, int64_t n, T m, T s)                     \
    {                                                                                          \
        PM_BLOCKED_SUM(n, i, (double)EXP((x[i] - m) * s))                                      \
        return acc;                                                                            \
    }                                                                                          \
                                                                                               \
    static void pm_scale_##S##__scalar(const T *x, T *y, int64_t n, T c)                       \
    {                                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                      \
            y[i] = x[i] * c;                                                                   \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    static void pm_shiftscale_##S##__scalar(const T *x, T *y, int64_t n, T m, T s, T c)        \
    {                                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                      \
            y[i] = (x[i] - m) * s - c;                                                         \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    static double pm_sum_##S##__scalar(const T *x, int64_t n)                                  \
    {                                                                                          \
        PM_BLOCKED_SUM(n, i, (double)x[i])                                                     \
        return acc;                                                                            \
    }                                                                                          \
                                                                                               \
    static double pm_dot_##S##__scalar(const T *a, const T *b, int64_t n)                      \
    {                                                                                          \
        PM_BLOCKED_SUM(n, i, (double)a[i] * (double)b[i])                                      \
        return acc;                                                                            \
    }                                                                                          \
                                                                                               \
    static double pm_dotexp_##S##__scalar(const T *a, const T *b, int64_t n)                   \
    {                                                                                          \
        PM_BLOCKED_SUM(n, i, (double)EXP(a[i]) * (double)b[i])                                 \
        return acc;                                                                            \
    }                                                                                          \
                                                                                               \
    static void pm_submul_##S##__scalar(const T *p, const T *dy, T *dx, int64_t n, T c)        \
    {                                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                      \
            dx[i] = p[i] * (dy[i] - c);                                                        \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    static void pm_subexp_##S##__scalar(const T *a, const T *dy, T *dx, int64_t n, T c)        \
    {                                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                      \
            dx[i] = dy[i] - EXP(a[i]) * c;                                                     \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    static void pm_axpbyc_##S##__scalar(const T *e, const T *t, T *out, int64_t n, T a, T b,   \
                                        T c)                                                   \
    {                                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                      \
            out[i] = e[i] * a - t[i] * b - c;                                                  \
        }                                                                                      \
    }                                                                                          \
                                                                                               \
    static double pm_dot3_##S##__scalar(const T *a, const T *b, const T *c, int64_t n)          \
    {                                                                                          \
        PM_BLOCKED_SUM(n, i, (double)a[i] * (double)b[i] * (double)c[i])                       \
        return acc;                                                                            \
    }                                                                                          \
                                                                                               \
    static void pm_waxpbyc_##S##__scalar(const T *e, const T *w, const T *t, T *out, int64_t n, \
                                         T a, T b, T c)                                        \
    {                                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                      \
            out[i] = e[i] * a - w[i] * (t[i] * b + c);                                         \
        }                                                                                      \
    }

PM_SCALAR_KERNELS(float, f32, expf)
PM_SCALAR_KERNELS(double, f64, exp)

/* ---- EXACT mode ---------------------------------------------------------------------------- */

/*
 * float: every float difference x - m is exact or rounded at 2^-53 relative in double, and the
 * product with s and the exp are double too, so the only rounding that reaches the output is
 * the final conversion to float (plus ~2^-29 ulp of double rounding).
 */
static double pm_expsum_exact_f32__scalar(const float *x, int64_t n, float m, float s)
{
    PM_BLOCKED_SUM(n, i, exp(((double)x[i] - (double)m) * (double)s))
    return acc;
}

static void pm_exp_exact_f32__scalar(const float *x, float *y, int64_t n, float m, float s,
                                     double lse)
{
    for (int64_t i = 0; i < n; i++) {
        y[i] = (float)exp(((double)x[i] - (double)m) * (double)s - lse);
    }
}

/*
 * double: x - m as the unevaluated pair hi + lo (Knuth's TwoSum), (x - m) * s as a pair with
 * the product error from fma, then exp(hi + lo) = exp(hi) * (1 + lo) to first order
 * (|lo| <= 2^-52 |hi|, so the dropped lo^2/2 is far below an ulp). Non-finite hi (x = -inf,
 * NaN, or an overflowing product) makes lo meaningless, so it is dropped there.
 */
typedef struct pm_dd {
    double hi, lo;
} pm_dd;

static inline pm_dd pm_two_sum(double a, double b)
{
    double s = a + b;
    double bb = s - a;
    double err = (a - (s - bb)) + (b - bb);
    pm_dd r = {s, err};
    return r;
}

/* (x - m) * s - c as a pair; c is an already rounded double (0 or the log of the sum). */
static inline pm_dd pm_exact_arg(double x, double m, double s, double c)
{
    pm_dd d = pm_two_sum(x, -m);
    double t_hi = d.hi * s;
    if (!isfinite(t_hi)) {
        pm_dd r = {t_hi - c, 0.0};
        return r;
    }
    double t_lo = fma(d.hi, s, -t_hi) + d.lo * s;
    pm_dd u = pm_two_sum(t_hi, -c);
    if (!isfinite(u.hi)) {
        u.lo = 0.0;
        return u;
    }
    u.lo += t_lo;
    return u;
}

static inline double pm_exp_dd(pm_dd u)
{
    double e = exp(u.hi);
    return e + e * u.lo;
}

static double pm_expsum_exact_f64__scalar(const double *x, int64_t n, double m, double s)
{
    /* Neumaier's compensated sum: the sum becomes the log's argument, whose relative error
     * every output inherits. */
    double acc = 0.0, comp = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double e = pm_exp_dd(pm_exact_arg(x[i], m, s, 0.0));
        double t = acc + e;
        if (fabs(acc) >= fabs(e)) {
            comp += (acc - t) + e;
        } else {
            comp += (e - t) + acc;
        }
        acc = t;
    }
    return acc + comp;
}

static void pm_exp_exact_f64__scalar(const double *x, double *y, int64_t n, double m, double s,
                                     double lse)
{
    for (int64_t i = 0; i < n; i++) {
        y[i] = pm_exp_dd(pm_exact_arg(x[i], m, s, lse));
    }
}

/* ---- the table ------------------------------------------------------------------------------ */

#define PM_FILL_SCALAR(tbl, S)                                                                 \
    do {                                                                                       \
        (tbl)->rmax = pm_rmax_##S##__scalar;                                                   \
        (tbl)->expsum_store = pm_expsum_store_##S##__scalar;                                   \
        (tbl)->expsum = pm_expsum_##S##__scalar;                                               \
        (tbl)->scale = pm_scale_##S##__scalar;                                                 \
        (tbl)->shiftscale = pm_shiftscale_##S##__scalar;                                       \
        (tbl)->sum = pm_sum_##S##__scalar;                                                     \
        (tbl)->dot = pm_dot_##S##__scalar;                                                     \
        (tbl)->dotexp = pm_dotexp_##S##__scalar;                                               \
        (tbl)->submul = pm_submul_##S##__scalar;                                               \
        (tbl)->subexp = pm_subexp_##S##__scalar;                                               \
        (tbl)->axpbyc = pm_axpbyc_##S##__scalar;                                               \
        (tbl)->dot3 = pm_dot3_##S##__scalar;                                                   \
        (tbl)->waxpbyc = pm_waxpbyc_##S##__scalar;                                             \
        (tbl)->expsum_exact = pm_expsum_exact_##S##__scalar;                                   \
        (tbl)->exp_exact = pm_exp_exact_##S##__scalar;                                         \
    } while (0)

void pm_fill_table__scalar(pm_isa_table *t)
{
    t->name = "scalar";
    PM_FILL_SCALAR(&t->f32, f32);
    PM_FILL_SCALAR(&t->f64, f64);
}
