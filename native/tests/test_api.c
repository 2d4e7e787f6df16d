/*
 * test_api: every public function of panmax.h, on every ISA this CPU and build support, for
 * float and double, against a long double reference.
 *
 *  - fresh random inputs each run (seed printed; PANMAX_TEST_SEED=<n> reproduces a run);
 *  - lengths 1..64, 127..129, 255..257, 1000, 1001, 4095..4097, 32000, 100000, strided batches;
 *  - input families: random at several scales, large offsets (+-80, +-88.7, +-700 for f64),
 *    huge logits (+-1e30, +-1e300), tiny ones, -inf entries, all -inf rows, NaN entries,
 *    +inf entries, all +inf rows, all-equal rows; rows of different families in one batch
 *    (a NaN row must not affect its neighbours);
 *  - every output buffer ends exactly at a PROT_NONE page and starts poisoned, so over-reads,
 *    over-writes and writes into the gaps between strided rows are caught;
 *  - every error status, with the outputs checked untouched;
 *  - gradients against central differences of the long double reference.
 *
 * Environment: PANMAX_TEST_SEED=<n> reproduces a run; PANMAX_TEST_VERBOSE=1 also prints the
 * test case behind each largest error; PANMAX_TEST_MEMCHECK=1 is for valgrind (see g_memcheck).
 * PANMAX_TEST_QUICK=1 and PANMAX_TEST_ISA_ONLY=<name> are for emulated runs (see g_quick).
 * A PANMAX_ISA in the caller's environment is ignored (unset before the first call).
 *
 * Error bounds are the named constants below, in units of the element type's epsilon (2^-23,
 * 2^-52), each with the reason for its form. The program prints the largest error it saw per
 * op, type and ISA, next to the bound.
 */
#include "testutil.h"

#include <limits.h>
#include <sys/wait.h>

#include "kernels.h" /* PM_ISA_NEON only (PANMAX_ISA_NEON once panmax.h has it) */
#include "panmax.h"

/* The ISAs panmax knows, 0 .. TEST_ISA_LAST. */
#define TEST_ISA_LAST PM_ISA_NEON
/* NEON is the baseline of an aarch64 build with kernels/neon.c, and exists nowhere else. */
#if defined(__aarch64__) && defined(PANMAX_HAVE_NEON)
#define TEST_EXPECT_NEON 1
#else
#define TEST_EXPECT_NEON 0
#endif

/* ---- error bounds -------------------------------------------------------------------------------
 *
 * softmax, per element with reference p > smallest normal, t = (z - max) / T:
 *     |y - p| <= (SOFTMAX_BOUND + SOFTMAX_T_COEF * |t|) * eps * p
 *   the |t| term is conditioning, not kernel error: x - max is rounded to the element type
 *   before exp, an absolute error of up to |t| * eps / 2 that exp turns into a relative one
 *   (with a temperature: also 1/T and the product are rounded, 3 * |t| * eps / 2). The constant
 *   covers exp (~1-2 ulp), the store, 1/sum and the final product. Below the smallest normal
 *   the kernels may flush, so there |y - p| <= smallest normal.
 * EXACT softmax (T = 1): |y - p| <= EXACT_BOUND * eps * p: the x - max rounding is carried.
 * log-softmax: |y - ref| <= LOG_BOUND * eps * (|t| + H + log(sum) + |ref| + SUM_ULPS): three
 *   roundings of magnitudes |t|, log(sum) and |y|; H = sum_k p_k |t_k| is how far the rounding
 *   of the t_k moves log(sum); SUM_ULPS because kernels.h lets a float row's sum be off by ~1 ulp
 *   (float partial sums), which moves log(sum) by ~eps absolute. That absolute term dominates for
 *   the largest entries of a peaked row, whose log-probability is -log(1 + tiny) ~ -tiny.
 * logsumexp: |y - ref| <= LSE_BOUND * eps * (|ref| + log(sum) + H + SUM_ULPS).
 * softmax VJP: |dx - ref| <= BWD_BOUND * eps * p * (|dy| + |c|) with c = <p, dy>; log-softmax
 *   VJP/JVP: <= BWD_BOUND * eps * (|dy| + p * |c|) (+ exp's error of p).
 * jacobian: |J - ref| <= JAC_BOUND * eps * |ref| (one product, or 1 - p and a product).
 * jacobian_matmul: |out - ref| <= JMM_BOUND * eps * (|p_i v_ij| + p_i * sum_l |p_l v_lj| * n):
 *   the gemv accumulates in the element type (order unknown), so its error grows with n.
 * Sums (of exp, of p * dy, of t * z) are accumulated in double. For f32 that is far below an
 * ulp, but for f64 it is the element type itself: a sum of n terms then carries a relative error
 * of about sqrt(n) * 2^-53 (random rounding; n * 2^-53 at worst). Every bound therefore adds
 * ACC_COEF * sqrt(n) * DBL_EPSILON times the sum's magnitude (acc_units() in units of eps). The
 * same holds for log(sum), computed in double: its absolute error is >= 2^-53 even when
 * log(sum) ~ 0, hence the DBL_EPSILON floor of the log-softmax and logsumexp bounds.
 * cross-entropy loss: |loss - ref| <= CE_BOUND * eps * (1 + sum(t) |lse| + sum|t z| + |ref|);
 *   gradient: |g - ref| <= CE_BOUND * eps * (p (1 + |t|) + |target|) per element (scaled by
 *   1/count for MEAN), p's error being the softmax one.
 */
#define SOFTMAX_BOUND 4.0L
#define SOFTMAX_T_COEF 0.5L
#define SOFTMAX_T_COEF_TEMP 1.5L
#define EXACT_BOUND 1.0L
#define LOG_BOUND 2.0L
#define LSE_BOUND 2.0L
#define BWD_BOUND 4.0L
#define JAC_BOUND 2.0L
#define JMM_BOUND 2.0L
#define CE_BOUND 8.0L
#define ACC_COEF 1.0L
#define SUM_ULPS 1.0L
/* Central differences in long double with step FD_STEP: truncation ~ h^2, rounding ~ 1e-19 / h. */
#define FD_STEP 1e-5L
#define FD_TOL 1e-7L

/*
 * PANMAX_TEST_MEMCHECK=1 (for valgrind): valgrind computes x87 long double at double precision
 * and mishandles some of its special values, so the reference cannot be trusted there. This
 * mode still makes every call on every case, with guard pages, poisoned gaps, statuses and
 * bitwise in-place checks, but skips the comparisons with the reference (VCHECK) and the
 * longest rows but one.
 */
static int g_memcheck = 0;
#define VCHECK(...)                                                                               \
    do {                                                                                          \
        if (!g_memcheck) {                                                                        \
            CHECK(__VA_ARGS__);                                                                   \
        }                                                                                         \
    } while (0)

/*
 * PANMAX_TEST_QUICK=1 (for an emulator: qemu-aarch64 runs the aarch64 build, and there long double
 * is IEEE quad in software, ~70x slower than natively): every length up to 4097 and every family
 * as usual, but one case each of 32769 and 100000 instead of the 32000..100000 sweep, no rows of
 * 1 Mi or more (the blocked softmax: its driver is the same C on every ISA, and test_kernels holds
 * the _ahead kernel it adds to expsum_store), and no softmax_ex or cross-entropy rows above 4097.
 * Every other kernel, tail and special-value path is still reached.
 * PANMAX_TEST_ISA_ONLY=<name>: only that ISA's kernels (it must be supported, or the run fails).
 */
static int g_quick = 0;
static const char *g_only_isa = NULL;

/* ---- statistics: largest error per (op, type, isa) --------------------------------------------- */

typedef struct stat_row {
    char key[64];
    long double max_raw; /* largest relative error in eps (softmax: before the |t| allowance) */
    long double max_units;
    long double bound;
    long count;
    char worst[200]; /* the test case of max_units */
} stat_row;

static stat_row g_stats[256];
static int g_nstats = 0;
static int g_isa = 0;              /* ISA under test */
static const tu_dtype *g_d = NULL; /* type under test */

static void stat_add4(const char *op, long double units, long double bound, long double raw)
{
    char key[64];
    snprintf(key, sizeof key, "%-22s %s %-6s", op, g_d->name, panmax_isa_name(g_isa));
    stat_row *s = NULL;
    for (int i = 0; i < g_nstats; i++) {
        if (strcmp(g_stats[i].key, key) == 0) {
            s = &g_stats[i];
            break;
        }
    }
    if (!s) {
        if (g_nstats == (int)(sizeof g_stats / sizeof g_stats[0])) {
            return;
        }
        s = &g_stats[g_nstats++];
        snprintf(s->key, sizeof s->key, "%s", key);
        s->max_units = -INFINITY; /* below 0: every error was within the allowances alone */
        s->max_raw = 0;
        s->count = 0;
        s->bound = bound;
    }
    if (units > s->max_units) {
        s->max_units = units;
        snprintf(s->worst, sizeof s->worst, "%s", tu_context);
    }
    if (raw > s->max_raw) {
        s->max_raw = raw;
    }
    s->count++;
}

static void stat_add(const char *op, long double units, long double bound)
{
    stat_add4(op, units, bound, units);
}

/* err / scale, with 0 / 0 = 0 and NaN = inf (a NaN where a number was due always fails). */
static long double ratio(long double err, long double scale)
{
    if (err == 0) {
        return 0;
    }
    long double r = err / scale;
    return isnan(r) ? INFINITY : r;
}

/* ---- dtype-generic API calls --------------------------------------------------------------------- */

#define DT (g_d->f64)

static int32_t api_softmax(const void *x, int64_t xs, void *y, int64_t ys, int64_t rows,
                           int64_t cols, int32_t isa)
{
    return DT ? panmax_softmax_f64(x, xs, y, ys, rows, cols, isa)
              : panmax_softmax_f32(x, xs, y, ys, rows, cols, isa);
}

static int32_t api_log_softmax(const void *x, int64_t xs, void *y, int64_t ys, int64_t rows,
                               int64_t cols, int32_t isa)
{
    return DT ? panmax_log_softmax_f64(x, xs, y, ys, rows, cols, isa)
              : panmax_log_softmax_f32(x, xs, y, ys, rows, cols, isa);
}

static int32_t api_logsumexp(const void *x, int64_t xs, void *out, int64_t rows, int64_t cols,
                             int32_t isa)
{
    return DT ? panmax_logsumexp_f64(x, xs, out, rows, cols, isa)
              : panmax_logsumexp_f32(x, xs, out, rows, cols, isa);
}

static int32_t api_softmax_ex(const void *x, int64_t xs, void *y, int64_t ys, int64_t rows,
                              int64_t cols, long double temp, const uint8_t *mask, int64_t ms,
                              const void *bias, int64_t bs, int32_t flags, int32_t isa)
{
    return DT ? panmax_softmax_ex_f64(x, xs, y, ys, rows, cols, (double)temp, mask, ms, bias, bs,
                                      flags, isa)
              : panmax_softmax_ex_f32(x, xs, y, ys, rows, cols, (float)temp, mask, ms, bias, bs,
                                      flags, isa);
}

static int32_t api_backward(const void *p, int64_t ps, const void *dy, int64_t dys, void *dx,
                            int64_t dxs, int64_t rows, int64_t cols, int32_t isa)
{
    return DT ? panmax_softmax_backward_f64(p, ps, dy, dys, dx, dxs, rows, cols, isa)
              : panmax_softmax_backward_f32(p, ps, dy, dys, dx, dxs, rows, cols, isa);
}

static int32_t api_log_backward(const void *p, int64_t ps, const void *dy, int64_t dys, void *dx,
                                int64_t dxs, int64_t rows, int64_t cols, int32_t isa)
{
    return DT ? panmax_log_softmax_backward_f64(p, ps, dy, dys, dx, dxs, rows, cols, isa)
              : panmax_log_softmax_backward_f32(p, ps, dy, dys, dx, dxs, rows, cols, isa);
}

static int32_t api_log_jvp(const void *p, int64_t ps, const void *v, int64_t vs, void *o,
                           int64_t os, int64_t rows, int64_t cols, int32_t isa)
{
    return DT ? panmax_log_softmax_jvp_f64(p, ps, v, vs, o, os, rows, cols, isa)
              : panmax_log_softmax_jvp_f32(p, ps, v, vs, o, os, rows, cols, isa);
}

static int32_t api_jacobian(const void *x, int64_t xs, void *jac, int64_t rows, int64_t cols,
                            int32_t flags, int32_t isa)
{
    return DT ? panmax_jacobian_f64(x, xs, jac, rows, cols, flags, isa)
              : panmax_jacobian_f32(x, xs, jac, rows, cols, flags, isa);
}

static int32_t api_jmm(const void *p, int64_t n, const void *v, int64_t vs, void *o, int64_t os,
                       int64_t k, int32_t flags, int32_t isa)
{
    return DT ? panmax_jacobian_matmul_f64(p, n, v, vs, o, os, k, flags, isa)
              : panmax_jacobian_matmul_f32(p, n, v, vs, o, os, k, flags, isa);
}

static int32_t api_ce(const void *z, int64_t zs, const int64_t *labels, const void *t, int64_t ts,
                      void *g, int64_t gs, void *loss, int64_t rows, int64_t cols, int64_t ignore,
                      long double smoothing, int32_t reduction, int32_t isa)
{
    return DT ? panmax_cross_entropy_f64(z, zs, labels, t, ts, g, gs, loss, rows, cols, ignore,
                                         (double)smoothing, reduction, isa)
              : panmax_cross_entropy_f32(z, zs, labels, t, ts, g, gs, loss, rows, cols, ignore,
                                         (float)smoothing, reduction, isa);
}

/* ---- long double reference ------------------------------------------------------------------------ */

typedef struct ref_row {
    int kind; /* 0 finite, 1 NaN, 2 empty, 3 +inf */
    long double m, lsum; /* max and log(sum(exp(t))) for finite rows */
    long double h;       /* sum_k p_k |t_k|: how far rounding each t_k moves log(sum), in eps/2 */
} ref_row;

/* p[j] = softmax(z * s)_j, lp[j] = log-softmax, t[j] = (z_j - m) * s; either output may be NULL. */
static ref_row ref_softmax(const long double *z, int64_t n, long double s, long double *p,
                           long double *lp, long double *t)
{
    ref_row r = {0, -INFINITY, 0, 0};
    int nan = 0;
    int64_t kinf = 0;
    for (int64_t j = 0; j < n; j++) {
        if (isnan(z[j])) {
            nan = 1;
        } else if (z[j] > r.m) {
            r.m = z[j];
        }
        kinf += z[j] == INFINITY;
    }
    if (nan || r.m == -INFINITY || r.m == INFINITY) {
        r.kind = nan ? 1 : r.m == -INFINITY ? 2 : 3;
        for (int64_t j = 0; j < n; j++) {
            long double pv, lv;
            if (r.kind == 1) {
                pv = lv = NAN;
            } else if (r.kind == 2) {
                pv = 0, lv = -INFINITY;
            } else {
                pv = z[j] == INFINITY ? 1.0L / kinf : 0;
                lv = z[j] == INFINITY ? -logl((long double)kinf) : -INFINITY;
            }
            if (p) {
                p[j] = pv;
            }
            if (lp) {
                lp[j] = lv;
            }
            if (t) {
                t[j] = 0;
            }
        }
        return r;
    }
    long double sum = 0;
    for (int64_t j = 0; j < n; j++) {
        sum += expl((z[j] - r.m) * s);
    }
    r.lsum = logl(sum);
    for (int64_t j = 0; j < n; j++) {
        long double tj = (z[j] - r.m) * s;
        if (tj > -INFINITY) {
            r.h += expl(tj) / sum * fabsl(tj);
        }
        if (p) {
            p[j] = expl(tj) / sum;
        }
        if (lp) {
            lp[j] = tj - r.lsum;
        }
        if (t) {
            t[j] = tj;
        }
    }
    return r;
}

/* Reference loss of one row for targets tt (already smoothed); terms with t == 0 count 0. */
static long double ref_ce_loss(const long double *z, const long double *tt, int64_t n)
{
    ref_row r = ref_softmax(z, n, 1, NULL, NULL, NULL);
    if (r.kind == 1 || r.kind == 3) {
        return NAN;
    }
    long double lse = r.kind == 2 ? -INFINITY : r.m + r.lsum;
    long double ts = 0, tz = 0;
    for (int64_t j = 0; j < n; j++) {
        ts += tt[j];
        if (tt[j] != 0) {
            tz += tt[j] * z[j];
        }
    }
    return ts * lse - tz;
}

/* ---- input families ---------------------------------------------------------------------------- */

enum family {
    FAM_UNIT,      /* uniform [-1, 1] */
    FAM_TEN,       /* uniform [-10, 10] */
    FAM_WIDE,      /* uniform [-60, 60]: many exp results far below 1 */
    FAM_OFFSET,    /* a large offset (+-80, +-88.7, f64 also +-700) plus [-5, 5] */
    FAM_HUGE,      /* +-1e30 (f64: +-1e300) among ordinary values */
    FAM_TINY,      /* |x| ~ 1e-30 */
    FAM_NEGINF,    /* a quarter of the entries -inf */
    FAM_ALLNEGINF, /* every entry -inf */
    FAM_NAN,       /* one NaN among ordinary values */
    FAM_PINF,      /* 1-3 entries +inf, some -inf */
    FAM_ALLPINF,   /* every entry +inf */
    FAM_EQUAL,     /* every entry the same finite value */
    FAM_COUNT
};
static const char *const FAM_NAMES[FAM_COUNT] = {"unit", "ten", "wide", "offset", "huge", "tiny",
                                                 "neginf", "allneginf", "nan", "pinf", "allpinf",
                                                 "equal"};

static void fill_family(void *buf, int64_t off, int64_t n, int fam)
{
    long double v;
    static const double offsets32[] = {80, -80, 88.7, -88.7, 1e4, -1e4};
    static const double offsets64[] = {80, -80, 88.7, -88.7, 700, -700, 1e6};
    double offset = 0;
    if (fam == FAM_OFFSET) {
        offset = g_d->f64 ? offsets64[tu_below(7)] : offsets32[tu_below(6)];
    }
    double huge = g_d->f64 ? 1e300 : 1e30;
    long double eq = tu_range(-50, 50);
    for (int64_t j = 0; j < n; j++) {
        switch (fam) {
        case FAM_UNIT:
            v = tu_range(-1, 1);
            break;
        case FAM_TEN:
            v = tu_range(-10, 10);
            break;
        case FAM_WIDE:
            v = tu_range(-60, 60);
            break;
        case FAM_OFFSET:
            v = offset + tu_range(-5, 5);
            break;
        case FAM_HUGE: {
            uint64_t u = tu_next() % 8;
            v = u == 0 ? huge : u == 1 ? -huge : tu_range(-10, 10);
            break;
        }
        case FAM_TINY:
            v = tu_range(-1, 1) * 1e-30;
            break;
        case FAM_NEGINF:
            v = tu_next() % 4 == 0 ? -INFINITY : tu_range(-10, 10);
            break;
        case FAM_ALLNEGINF:
            v = -INFINITY;
            break;
        case FAM_NAN:
        case FAM_PINF:
            v = tu_next() % 8 == 0 ? -INFINITY : tu_range(-10, 10);
            break;
        case FAM_ALLPINF:
            v = INFINITY;
            break;
        case FAM_EQUAL:
        default:
            v = eq;
            break;
        }
        tset(g_d, buf, off + j, v);
    }
    if (fam == FAM_NAN) {
        tset(g_d, buf, off + tu_below(n), NAN);
    }
    if (fam == FAM_PINF) {
        int64_t k = 1 + tu_below(3);
        for (int64_t i = 0; i < k; i++) {
            tset(g_d, buf, off + tu_below(n), INFINITY);
        }
    }
}

/* Reads one row into long double. */
static void get_row(const void *buf, int64_t off, int64_t n, long double *out)
{
    for (int64_t j = 0; j < n; j++) {
        out[j] = tget(g_d, buf, off + j);
    }
}

/* The gaps between strided rows (and nothing else) must still hold the poison. */
static void check_gaps(const void *y, int64_t rows, int64_t cols, int64_t stride, const char *what)
{
    for (int64_t r = 0; r + 1 < rows; r++) {
        const unsigned char *gap = (const unsigned char *)y + (size_t)(r * stride + cols) * g_d->size;
        CHECK(tu_is_poison(gap, (size_t)(stride - cols) * g_d->size), "%s wrote into the gap after row %lld",
              what, (long long)r);
    }
}

/* ---- comparisons ---------------------------------------------------------------------------------- */

/* The error of a double accumulation of n terms, relative to their magnitude, in units of eps. */
static long double acc_units(int64_t n)
{
    return ACC_COEF * sqrtl((long double)n) * DBL_EPSILON / g_d->eps;
}

/* Probabilities of one row: y[off..off+n) against p (t for the conditioning term). */
static void cmp_prob(const char *op, const void *y, int64_t off, const long double *p,
                     const long double *t, int64_t n, ref_row rr, long double bound,
                     long double tcoef)
{
    const long double eps = g_d->eps;
    for (int64_t j = 0; j < n; j++) {
        long double yv = tget(g_d, y, off + j), rv = p[j];
        if (rr.kind != 0) {
            /* special rows: NaN, 0, or 1/k rounded once */
            VCHECK(tu_same(yv, tround(g_d, rv)), "%s n=%lld j=%lld special row: got %Lg want %Lg", op,
                  (long long)n, (long long)j, yv, rv);
            continue;
        }
        if (isnan(yv) || yv < 0) {
            VCHECK(0, "%s n=%lld j=%lld: got %Lg want %Lg", op, (long long)n, (long long)j, yv, rv);
            continue;
        }
        long double err = fabsl(yv - rv);
        if (rv < g_d->tmin) {
            VCHECK(err <= g_d->tmin, "%s n=%lld j=%lld: tiny output %Lg want %Lg", op, (long long)n,
                  (long long)j, yv, rv);
            continue;
        }
        long double raw = err / (eps * rv);
        long double units = raw - tcoef * (fabsl(t[j]) + rr.h) - acc_units(n);
        stat_add4(op, units, bound, raw);
        VCHECK(units <= bound, "%s n=%lld j=%lld: got %.10Lg want %.10Lg (%.3Lg eps beyond the |t| term, t=%Lg)",
              op, (long long)n, (long long)j, yv, rv, units, t[j]);
    }
}

/* Log-probabilities of one row. */
static void cmp_logprob(const char *op, const void *y, int64_t off, const long double *lp,
                        const long double *t, int64_t n, ref_row rr, long double bound)
{
    const long double eps = g_d->eps;
    for (int64_t j = 0; j < n; j++) {
        long double yv = tget(g_d, y, off + j), rv = lp[j];
        if (rr.kind != 0 || isinf(rv)) {
            long double tol = isfinite(rv) ? eps * fabsl(rv) : 0; /* -log(k) is rounded once */
            VCHECK(tu_same(yv, rv) || fabsl(yv - rv) <= tol, "%s n=%lld j=%lld special: got %Lg want %Lg",
                  op, (long long)n, (long long)j, yv, rv);
            continue;
        }
        long double scale = eps * (fabsl(t[j]) + rr.h + fabsl(rr.lsum) + fabsl(rv) + SUM_ULPS) +
                            DBL_EPSILON * sqrtl((long double)n);
        long double units = ratio(fabsl(yv - rv), scale);

        stat_add(op, units, bound);
        VCHECK(units <= bound, "%s n=%lld j=%lld: got %.10Lg want %.10Lg (%.3Lg units)", op,
              (long long)n, (long long)j, yv, rv, units);
    }
}

/* ---- forward ---------------------------------------------------------------------------------------- */

static int64_t span_of(int64_t rows, int64_t cols, int64_t stride)
{
    return rows == 0 ? 0 : (rows - 1) * stride + cols;
}

static void copy_buf(void *dst, const void *src, int64_t count)
{
    memcpy(dst, src, (size_t)count * g_d->size);
}

/* Families cheap enough for the long rows (the long double reference is the slow part). */
static int pick_family(int64_t n)
{
    static const int big[] = {FAM_TEN, FAM_WIDE, FAM_NAN, FAM_PINF, FAM_NEGINF, FAM_OFFSET};
    return n > 5000 ? big[tu_below(6)] : (int)tu_below(FAM_COUNT);
}

static void test_forward_case(int64_t n, int fam0)
{
    char ctx[160];
    snprintf(ctx, sizeof ctx, "forward %s %s n=%lld fam=%s", g_d->name, panmax_isa_name(g_isa),
             (long long)n, FAM_NAMES[fam0]);
    tu_context = ctx;

    const int64_t rows = n > 1000000 ? 1 : n > 5000 ? 2 : 1 + tu_below(3);
    const int64_t xs = n + tu_below(4), ys = n + tu_below(4);
    const int64_t xspan = span_of(rows, n, xs), yspan = span_of(rows, n, ys);
    void *x = talloc(g_d, xspan), *y = talloc(g_d, yspan), *xi = talloc(g_d, xspan);
    void *lse = talloc(g_d, rows);
    long double *z = xmalloc(sizeof(long double) * (size_t)(rows * n));
    long double *p = xmalloc(sizeof(long double) * (size_t)(rows * n));
    long double *lp = xmalloc(sizeof(long double) * (size_t)(rows * n));
    long double *t = xmalloc(sizeof(long double) * (size_t)(rows * n));
    ref_row *rr = xmalloc(sizeof(ref_row) * (size_t)rows);
    for (int64_t r = 0; r < rows; r++) {
        fill_family(x, r * xs, n, r == 0 ? fam0 : pick_family(n));
        get_row(x, r * xs, n, z + r * n);
        rr[r] = ref_softmax(z + r * n, n, 1, p + r * n, lp + r * n, t + r * n);
    }

    /* softmax, out of place and in place */
    CHECK_EQ_INT(api_softmax(x, xs, y, ys, rows, n, g_isa), PANMAX_OK);
    for (int64_t r = 0; r < rows; r++) {
        cmp_prob("softmax", y, r * ys, p + r * n, t + r * n, n, rr[r], SOFTMAX_BOUND,
                 SOFTMAX_T_COEF);
    }
    check_gaps(y, rows, n, ys, "softmax");
    copy_buf(xi, x, xspan);
    CHECK_EQ_INT(api_softmax(xi, xs, xi, xs, rows, n, g_isa), PANMAX_OK);
    /* in place must give exactly the out-of-place result */
    for (int64_t r = 0; r < rows; r++) {
        CHECK(memcmp((char *)xi + (size_t)(r * xs) * g_d->size, (char *)y + (size_t)(r * ys) * g_d->size,
                     (size_t)n * g_d->size) == 0, "softmax in place differs from out of place, row %lld",
              (long long)r);
    }

    /* log-softmax */
    memset(y, TU_POISON, (size_t)yspan * g_d->size);
    CHECK_EQ_INT(api_log_softmax(x, xs, y, ys, rows, n, g_isa), PANMAX_OK);
    for (int64_t r = 0; r < rows; r++) {
        cmp_logprob("log_softmax", y, r * ys, lp + r * n, t + r * n, n, rr[r], LOG_BOUND);
    }
    check_gaps(y, rows, n, ys, "log_softmax");
    copy_buf(xi, x, xspan);
    CHECK_EQ_INT(api_log_softmax(xi, xs, xi, xs, rows, n, g_isa), PANMAX_OK);
    for (int64_t r = 0; r < rows; r++) {
        CHECK(memcmp((char *)xi + (size_t)(r * xs) * g_d->size, (char *)y + (size_t)(r * ys) * g_d->size,
                     (size_t)n * g_d->size) == 0, "log_softmax in place differs, row %lld", (long long)r);
    }

    /* logsumexp */
    CHECK_EQ_INT(api_logsumexp(x, xs, lse, rows, n, g_isa), PANMAX_OK);
    for (int64_t r = 0; r < rows; r++) {
        long double got = tget(g_d, lse, r);
        long double want = rr[r].kind == 1 ? NAN : rr[r].kind == 2 ? -INFINITY
                         : rr[r].kind == 3 ? INFINITY : rr[r].m + rr[r].lsum;
        if (rr[r].kind != 0) {
            VCHECK(tu_same(got, want), "logsumexp special row: got %Lg want %Lg", got, want);
            continue;
        }
        long double units = ratio(fabsl(got - want), g_d->eps * (fabsl(want) + fabsl(rr[r].lsum) + rr[r].h + SUM_ULPS) +
                                                         DBL_EPSILON * sqrtl((long double)n));
        stat_add("logsumexp", units, LSE_BOUND);
        VCHECK(units <= LSE_BOUND, "logsumexp row %lld: got %.12Lg want %.12Lg", (long long)r, got, want);
    }

    /* softmax(z) == exp(log_softmax(z)) is implied by both matching the reference. */
    free(z);
    free(p);
    free(lp);
    free(t);
    free(rr);
    gfree(x);
    gfree(y);
    gfree(xi);
    gfree(lse);
}

/* softmax_ex: temperature, mask (per row or broadcast), bias (per row or broadcast), flags. */
static void test_softmax_ex_case(int64_t n)
{
    char ctx[200];
    const int64_t rows = n > 5000 ? 2 : 1 + tu_below(4);
    const int use_mask = (int)tu_below(2), use_bias = (int)tu_below(2);
    const int64_t ms = use_mask ? (tu_below(3) == 0 ? 0 : n + tu_below(3)) : 0;
    const int64_t bs = use_bias ? (tu_below(3) == 0 ? 0 : n + tu_below(3)) : 0;
    static const long double temps[] = {1.0L, 1.0L, 0.5L, 2.75L, 0.1L, 7.0L};
    const long double temp = temps[tu_below(6)];
    const int32_t flags = (int32_t)tu_below(4); /* LOG | EXACT */
    const int inplace = (int)tu_below(2);
    snprintf(ctx, sizeof ctx, "softmax_ex %s %s n=%lld rows=%lld mask=%d/%lld bias=%d/%lld T=%Lg flags=%d inplace=%d",
             g_d->name, panmax_isa_name(g_isa), (long long)n, (long long)rows, use_mask, (long long)ms,
             use_bias, (long long)bs, temp, flags, inplace);
    tu_context = ctx;

    const int64_t xs = n + tu_below(3);
    const int64_t ys = inplace ? xs : n + tu_below(3);
    const int64_t xspan = span_of(rows, n, xs), yspan = span_of(rows, n, ys);
    void *x = talloc(g_d, xspan);
    void *y = inplace ? x : talloc(g_d, yspan);
    uint8_t *mask = use_mask ? galloc((size_t)span_of(ms ? rows : 1, n, ms ? ms : n)) : NULL;
    void *bias = use_bias ? talloc(g_d, span_of(bs ? rows : 1, n, bs ? bs : n)) : NULL;
    long double *z = xmalloc(sizeof(long double) * (size_t)n);
    long double *p = xmalloc(sizeof(long double) * (size_t)n);
    long double *lp = xmalloc(sizeof(long double) * (size_t)n);
    long double *t = xmalloc(sizeof(long double) * (size_t)n);

    for (int64_t r = 0; r < rows; r++) {
        fill_family(x, r * xs, n, pick_family(n));
    }
    if (mask) {
        int64_t mrows = ms ? rows : 1;
        for (int64_t r = 0; r < mrows; r++) {
            int all_off = tu_below(6) == 0;
            for (int64_t j = 0; j < n; j++) {
                mask[r * ms + j] = all_off ? 0 : (uint8_t)(tu_below(4) != 0 ? 1 + tu_below(255) : 0);
            }
        }
    }
    if (bias) {
        int64_t brows = bs ? rows : 1;
        for (int64_t r = 0; r < brows; r++) {
            for (int64_t j = 0; j < n; j++) {
                tset(g_d, bias, r * bs + j, tu_below(10) == 0 ? -INFINITY : tu_range(-3, 3));
            }
        }
    }
    /* the reference input: z = fl(x + bias) where kept, -inf where masked (x unread there:
     * the masked x entries are set to NaN to prove it, unless in place changes nothing). */
    void *xcopy = talloc(g_d, xspan);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t j = 0; j < n; j++) {
            if (mask && mask[r * ms + j] == 0) {
                tset(g_d, x, r * xs + j, NAN);
            }
        }
    }
    copy_buf(xcopy, x, xspan);

    CHECK_EQ_INT(api_softmax_ex(x, xs, y, ys, rows, n, temp, mask, ms, bias, bs, flags, g_isa),
                 PANMAX_OK);
    const long double s = 1.0L / temp;
    const int log_out = flags & PANMAX_FLAG_LOG, exact = flags & PANMAX_FLAG_EXACT;
    const char *op = log_out ? (exact ? (temp == 1 ? "softmax_ex log|exact" : "softmax_ex log|exact T")
                                      : (temp == 1 ? "softmax_ex log" : "softmax_ex log T"))
                             : (exact ? (temp == 1 ? "softmax_ex exact" : "softmax_ex exact T")
                                      : (temp == 1 ? "softmax_ex" : "softmax_ex T"));
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t j = 0; j < n; j++) {
            if (mask && mask[r * ms + j] == 0) {
                z[j] = -INFINITY;
            } else {
                long double xv = tget(g_d, xcopy, r * xs + j);
                /* x + bias added in the element type: summing in long double and then rounding
                 * could round twice and differ by an ulp */
                long double bv = bias ? tget(g_d, bias, r * bs + j) : 0;
                z[j] = !bias ? xv : g_d->f64 ? (long double)((double)xv + (double)bv)
                                             : (long double)((float)xv + (float)bv);
            }
        }
        ref_row rr = ref_softmax(z, n, s, p, lp, t);
        if (log_out) {
            cmp_logprob(op, y, r * ys, lp, t, n, rr, LOG_BOUND * (temp == 1 ? 1 : 2));
        } else if (exact) {
            cmp_prob(op, y, r * ys, p, t, n, rr, EXACT_BOUND, temp == 1 ? 0 : SOFTMAX_T_COEF);
        } else {
            cmp_prob(op, y, r * ys, p, t, n, rr, SOFTMAX_BOUND,
                     temp == 1 ? SOFTMAX_T_COEF : SOFTMAX_T_COEF_TEMP);
        }
    }
    if (!inplace) {
        check_gaps(y, rows, n, ys, "softmax_ex");
        CHECK(memcmp(x, xcopy, (size_t)xspan * g_d->size) == 0, "softmax_ex modified its input");
        gfree(y);
    }
    gfree(x);
    gfree(xcopy);
    if (mask) {
        gfree(mask);
    }
    if (bias) {
        gfree(bias);
    }
    free(z);
    free(p);
    free(lp);
    free(t);
}

/* ---- backward ------------------------------------------------------------------------------------- */

/* A probability row (the reference softmax of random logits, rounded) and its log. */
static void make_prob_row(void *p, int64_t off, void *lp, int64_t loff, int64_t n, long double scale)
{
    long double *z = xmalloc(sizeof(long double) * (size_t)n * 3);
    for (int64_t j = 0; j < n; j++) {
        z[j] = tu_range(-scale, scale);
    }
    ref_softmax(z, n, 1, z + n, z + 2 * n, NULL);
    for (int64_t j = 0; j < n; j++) {
        if (p) {
            tset(g_d, p, off + j, z[n + j]);
        }
        if (lp) {
            tset(g_d, lp, loff + j, z[2 * n + j]);
        }
    }
    free(z);
}

/* which: 0 softmax VJP, 1 log-softmax VJP, 2 log-softmax JVP. */
static void test_backward_case(int64_t n, int which)
{
    static const char *const ops[] = {"softmax_backward", "log_softmax_backward", "log_softmax_jvp"};
    char ctx[160];
    snprintf(ctx, sizeof ctx, "%s %s %s n=%lld", ops[which], g_d->name, panmax_isa_name(g_isa),
             (long long)n);
    tu_context = ctx;
    const int64_t rows = n > 5000 ? 2 : 1 + tu_below(3);
    const int64_t ps = n + tu_below(3), ds = n + tu_below(3), os = n + tu_below(3);
    void *p = talloc(g_d, span_of(rows, n, ps)), *dy = talloc(g_d, span_of(rows, n, ds));
    void *dx = talloc(g_d, span_of(rows, n, os));
    for (int64_t r = 0; r < rows; r++) {
        if (which == 0) {
            make_prob_row(p, r * ps, NULL, 0, n, tu_range(0.5, 8));
        } else {
            make_prob_row(NULL, 0, p, r * ps, n, tu_range(0.5, 8));
        }
        for (int64_t j = 0; j < n; j++) {
            tset(g_d, dy, r * ds + j, tu_range(-1, 1));
        }
    }
    int32_t (*fn)(const void *, int64_t, const void *, int64_t, void *, int64_t, int64_t, int64_t, int32_t) =
        which == 0 ? api_backward : which == 1 ? api_log_backward : api_log_jvp;
    CHECK_EQ_INT(fn(p, ps, dy, ds, dx, os, rows, n, g_isa), PANMAX_OK);
    check_gaps(dx, rows, n, os, ops[which]);
    for (int64_t r = 0; r < rows; r++) {
        long double c = 0, cabs = 0; /* the row's dot/sum and the sum of its magnitudes */
        for (int64_t j = 0; j < n; j++) {
            long double pj = tget(g_d, p, r * ps + j), dj = tget(g_d, dy, r * ds + j);
            long double term = which == 0 ? pj * dj : which == 1 ? dj : expl(pj) * dj;
            c += term;
            cabs += fabsl(term);
        }
        const long double cacc = cabs * acc_units(n); /* accumulation error of c, in eps */
        for (int64_t j = 0; j < n; j++) {
            long double pj = tget(g_d, p, r * ps + j), dj = tget(g_d, dy, r * ds + j);
            long double want, scale;
            if (which == 0) {
                want = pj * (dj - c);
                scale = pj * (fabsl(dj) + fabsl(c) + cacc);
            } else if (which == 1) {
                want = dj - expl(pj) * c;
                scale = fabsl(dj) + expl(pj) * (fabsl(c) + cacc);
            } else {
                want = dj - c;
                scale = fabsl(dj) + cabs + cacc;
            }
            long double got = tget(g_d, dx, r * os + j);
            long double units = ratio(fabsl(got - want), g_d->eps * scale + g_d->tmin);
            stat_add(ops[which], units, BWD_BOUND);
            VCHECK(units <= BWD_BOUND, "row %lld j=%lld: got %.10Lg want %.10Lg (%.3Lg units)", (long long)r,
                  (long long)j, got, want, units);
        }
    }
    /* in place: dx == dy and dx == first input give the same bits (same strides needed) */
    if (rows == 1 || (ps == ds)) {
        void *a = talloc(g_d, span_of(rows, n, ps)), *b = talloc(g_d, span_of(rows, n, ps));
        for (int64_t r = 0; r < rows; r++) {
            memcpy((char *)a + (size_t)(r * ps) * g_d->size, (char *)p + (size_t)(r * ps) * g_d->size, (size_t)n * g_d->size);
            memcpy((char *)b + (size_t)(r * ps) * g_d->size, (char *)dy + (size_t)(r * ds) * g_d->size, (size_t)n * g_d->size);
        }
        CHECK_EQ_INT(fn(a, ps, b, ps, b, ps, rows, n, g_isa), PANMAX_OK); /* out == second input */
        for (int64_t r = 0; r < rows; r++) {
            CHECK(memcmp((char *)b + (size_t)(r * ps) * g_d->size, (char *)dx + (size_t)(r * os) * g_d->size,
                         (size_t)n * g_d->size) == 0, "in place (out == dy) differs, row %lld", (long long)r);
        }
        for (int64_t r = 0; r < rows; r++) {
            memcpy((char *)b + (size_t)(r * ps) * g_d->size, (char *)dy + (size_t)(r * ds) * g_d->size, (size_t)n * g_d->size);
        }
        CHECK_EQ_INT(fn(a, ps, b, ps, a, ps, rows, n, g_isa), PANMAX_OK); /* out == first input */
        for (int64_t r = 0; r < rows; r++) {
            CHECK(memcmp((char *)a + (size_t)(r * ps) * g_d->size, (char *)dx + (size_t)(r * os) * g_d->size,
                         (size_t)n * g_d->size) == 0, "in place (out == p) differs, row %lld", (long long)r);
        }
        gfree(a);
        gfree(b);
    }
    gfree(p);
    gfree(dy);
    gfree(dx);
}

/* ---- Jacobians -------------------------------------------------------------------------------------- */

static void test_jacobian_case(int64_t n, int32_t flags)
{
    char ctx[160];
    snprintf(ctx, sizeof ctx, "jacobian %s %s n=%lld flags=%d", g_d->name, panmax_isa_name(g_isa),
             (long long)n, flags);
    tu_context = ctx;
    const int64_t rows = 1 + tu_below(3), xs = n + tu_below(3);
    const int log_jac = flags & PANMAX_FLAG_LOG;
    void *x = talloc(g_d, span_of(rows, n, xs));
    void *jac = talloc(g_d, rows * n * n);
    for (int64_t r = 0; r < rows; r++) {
        make_prob_row(x, r * xs, NULL, 0, n, tu_range(0.5, 6));
    }
    CHECK_EQ_INT(api_jacobian(x, xs, jac, rows, n, flags & PANMAX_FLAG_LOG, g_isa), PANMAX_OK);
    const char *op = log_jac ? "jacobian log" : "jacobian";
    for (int64_t r = 0; r < rows; r++) {
        const int64_t b = r * n * n;
        for (int64_t i = 0; i < n; i++) {
            long double pi = tget(g_d, x, r * xs + i), rowsum = 0, rowabs = 0;
            for (int64_t j = 0; j < n; j++) {
                long double pj = tget(g_d, x, r * xs + j);
                long double want = log_jac ? (i == j) - pj : pi * ((i == j) - pj);
                long double got = tget(g_d, jac, b + i * n + j);
                long double units = ratio(fabsl(got - want), g_d->eps * fabsl(want) + g_d->tmin);
                stat_add(op, units, JAC_BOUND);
                VCHECK(units <= JAC_BOUND, "r=%lld J[%lld][%lld] = %.10Lg want %.10Lg", (long long)r,
                      (long long)i, (long long)j, got, want);
                if (!log_jac) {
                    /* symmetric, bit for bit: -p_i p_j == -p_j p_i */
                    CHECK(got == tget(g_d, jac, b + j * n + i), "J not symmetric at %lld,%lld", (long long)i,
                          (long long)j);
                }
                rowsum += got;
                rowabs += fabsl(got);
            }
            /* rows sum to p_i (1 - sum p) for diag(p) - p p^T and to 1 - sum p for I - 1 p^T:
             * both 0 for an exact probability row, up to its rounding here */
            long double psum = 0;
            for (int64_t j = 0; j < n; j++) {
                psum += tget(g_d, x, r * xs + j);
            }
            long double expect = log_jac ? 1 - psum : pi * (1 - psum);
            VCHECK(fabsl(rowsum - expect) <= 4 * g_d->eps * (rowabs + 1) , "row %lld sum %Lg", (long long)i,
                  rowsum);
        }
    }
    /* FROM_LOGITS: the same bits as the Jacobian of this library's own softmax of the logits */
    void *logits = talloc(g_d, span_of(rows, n, xs)), *p2 = talloc(g_d, span_of(rows, n, xs));
    void *jac2 = talloc(g_d, rows * n * n);
    for (int64_t r = 0; r < rows; r++) {
        fill_family(logits, r * xs, n, tu_below(4) == 0 ? pick_family(n) : FAM_TEN);
    }
    CHECK_EQ_INT(api_softmax(logits, xs, p2, xs, rows, n, g_isa), PANMAX_OK);
    CHECK_EQ_INT(api_jacobian(p2, xs, jac, rows, n, log_jac, g_isa), PANMAX_OK);
    CHECK_EQ_INT(api_jacobian(logits, xs, jac2, rows, n, log_jac | PANMAX_FLAG_FROM_LOGITS, g_isa), PANMAX_OK);
    /* bitwise, NaN rows included: both run the same operations on the same bits */
    CHECK(memcmp(jac, jac2, (size_t)(rows * n * n) * g_d->size) == 0,
          "FROM_LOGITS Jacobian differs from the Jacobian of softmax(logits)");
    gfree(logits);
    gfree(p2);
    gfree(jac2);
    gfree(x);
    gfree(jac);
}

static void test_jmm_case(int64_t n, int64_t k, int32_t flags)
{
    char ctx[160];
    snprintf(ctx, sizeof ctx, "jacobian_matmul %s %s n=%lld k=%lld flags=%d", g_d->name,
             panmax_isa_name(g_isa), (long long)n, (long long)k, flags);
    tu_context = ctx;
    const int64_t vs = k + tu_below(3), os = k + tu_below(3);
    void *p = talloc(g_d, n), *v = talloc(g_d, span_of(n, k, vs)), *out = talloc(g_d, span_of(n, k, os));
    make_prob_row(p, 0, NULL, 0, n, tu_range(0.5, 4));
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < k; j++) {
            tset(g_d, v, i * vs + j, tu_range(-2, 2));
        }
    }
    CHECK_EQ_INT(api_jmm(p, n, v, vs, out, os, k, flags, g_isa), PANMAX_OK);
    check_gaps(out, n, k, os, "jacobian_matmul");
    const int log_jac = flags & PANMAX_FLAG_LOG;
    const char *op = log_jac ? "jacobian_matmul log" : "jacobian_matmul";
    for (int64_t j = 0; j < k; j++) {
        long double w = 0, wabs = 0;
        for (int64_t l = 0; l < n; l++) {
            long double pl = tget(g_d, p, l), vl = tget(g_d, v, l * vs + j);
            w += pl * vl;
            wabs += fabsl(pl * vl);
        }
        for (int64_t i = 0; i < n; i++) {
            long double pi = tget(g_d, p, i), vij = tget(g_d, v, i * vs + j);
            /* explicit J * V: sum_l J[i][l] V[l][j] */
            long double want = 0;
            for (int64_t l = 0; l < n; l++) {
                long double pl = tget(g_d, p, l);
                long double Jil = log_jac ? (i == l) - pl : pi * ((i == l) - pl);
                want += Jil * tget(g_d, v, l * vs + j);
            }
            long double got = tget(g_d, out, i * os + j);
            long double scale = log_jac ? fabsl(vij) + wabs * n : pi * (fabsl(vij) + wabs * n);
            long double units = ratio(fabsl(got - want), g_d->eps * scale + g_d->tmin);
            stat_add(op, units, JMM_BOUND);
            VCHECK(units <= JMM_BOUND, "out[%lld][%lld] = %.10Lg want %.10Lg (%.3Lg units)", (long long)i,
                  (long long)j, got, want, units);
        }
    }
    gfree(p);
    gfree(v);
    gfree(out);
}

/* jacobian_matmul with a V stride beyond OpenBLAS' int: the kernel-only path. V's two rows are
 * 2^31+3 elements apart inside a reserved (PROT_NONE, never committed) mapping. */
static void test_jmm_huge_stride(void)
{
    char ctx[96];
    snprintf(ctx, sizeof ctx, "jacobian_matmul huge stride %s %s", g_d->name, panmax_isa_name(g_isa));
    tu_context = ctx;
    const int64_t n = 2, k = 5, vs = ((int64_t)1 << 31) + 3;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t bytes = (size_t)((n - 1) * vs + k) * g_d->size;
    const size_t len = (bytes + page - 1) / page * page;
    unsigned char *base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        printf("  (jacobian_matmul huge-stride check skipped: cannot reserve %zu bytes)\n", len);
        return;
    }
    size_t row1 = (size_t)vs * g_d->size, row1_page = row1 / page * page;
    CHECK(mprotect(base, page, PROT_READ | PROT_WRITE) == 0, "mprotect");
    CHECK(mprotect(base + row1_page, len - row1_page, PROT_READ | PROT_WRITE) == 0, "mprotect");
    void *v = base;
    double pv[2] = {0.25, 0.75};
    void *p = talloc(g_d, n), *out = talloc(g_d, n * k);
    tset(g_d, p, 0, pv[0]);
    tset(g_d, p, 1, pv[1]);
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < k; j++) {
            tset(g_d, v, i * vs + j, tu_range(-2, 2));
        }
    }
    for (int log_jac = 0; log_jac < 2; log_jac++) {
        CHECK_EQ_INT(api_jmm(p, n, v, vs, out, k, k, log_jac ? PANMAX_FLAG_LOG : 0, g_isa), PANMAX_OK);
        for (int64_t j = 0; j < k; j++) {
            long double w = pv[0] * tget(g_d, v, j) + pv[1] * tget(g_d, v, vs + j);
            for (int64_t i = 0; i < n; i++) {
                long double vij = tget(g_d, v, i * vs + j);
                long double want = log_jac ? vij - w : pv[i] * (vij - w);
                long double got = tget(g_d, out, i * k + j);
                VCHECK(fabsl(got - want) <= 4 * g_d->eps * (fabsl(vij) + 2), "out[%lld][%lld] = %Lg want %Lg",
                      (long long)i, (long long)j, got, want);
            }
        }
    }
    gfree(p);
    gfree(out);
    munmap(base, len);
}

/* ---- cross-entropy ------------------------------------------------------------------------------------ */

static void test_ce_case(int64_t n, int soft, int32_t reduction, int grad_mode /* 0 none, 1 out, 2 in place */)
{
    char ctx[200];
    static const long double smooths[] = {0, 0, 0.1L, 1};
    const long double ls = smooths[tu_below(4)];
    const int64_t rows = n > 5000 ? 2 : 1 + tu_below(5);
    const int64_t ignore = (n > 1 && tu_below(3) == 0) ? 0 : -100;
    snprintf(ctx, sizeof ctx, "cross_entropy %s %s n=%lld rows=%lld soft=%d red=%d grad=%d ls=%Lg ignore=%lld",
             g_d->name, panmax_isa_name(g_isa), (long long)n, (long long)rows, soft, reduction, grad_mode, ls,
             (long long)ignore);
    tu_context = ctx;
    const int64_t zs = n + tu_below(3);
    const int64_t gs = grad_mode == 2 ? zs : n + tu_below(3);
    const int64_t ts = n + tu_below(3);
    void *z = talloc(g_d, span_of(rows, n, zs));
    void *zcopy = talloc(g_d, span_of(rows, n, zs));
    void *g = grad_mode == 1 ? talloc(g_d, span_of(rows, n, gs)) : grad_mode == 2 ? z : NULL;
    void *tg = soft ? talloc(g_d, span_of(rows, n, ts)) : NULL;
    int64_t *labels = soft ? NULL : galloc(sizeof(int64_t) * (size_t)rows);
    const int64_t loss_len = reduction == PANMAX_REDUCTION_NONE ? rows : 1;
    void *loss = talloc(g_d, loss_len);

    int64_t count = 0;
    for (int64_t r = 0; r < rows; r++) {
        int fam = tu_below(5) == 0 ? pick_family(n) : FAM_TEN;
        fill_family(z, r * zs, n, fam);
        if (soft) {
            /* a probability row, sometimes with zeros where the logit is -inf */
            long double tsum = 0;
            for (int64_t j = 0; j < n; j++) {
                long double v = tu_below(4) == 0 ? 0 : tu_unif();
                tset(g_d, tg, r * ts + j, v);
                tsum += tround(g_d, v);
            }
            for (int64_t j = 0; j < n; j++) {
                long double v = tget(g_d, tg, r * ts + j);
                tset(g_d, tg, r * ts + j, tsum > 0 ? v / tsum : 0);
                if (v == 0 && tu_below(2) == 0 && fam == FAM_TEN) {
                    tset(g_d, z, r * zs + j, -INFINITY); /* 0 * -inf must count 0 */
                }
            }
            count++;
        } else {
            labels[r] = tu_below(5) == 0 ? ignore : tu_below(n);
            count += labels[r] != ignore;
        }
    }
    copy_buf(zcopy, z, span_of(rows, n, zs));
    CHECK_EQ_INT(api_ce(z, zs, labels, tg, ts, g, gs, loss, rows, n, ignore, ls, reduction, g_isa), PANMAX_OK);
    if (grad_mode == 1) {
        check_gaps(g, rows, n, gs, "cross_entropy grad");
    }

    long double *zr = xmalloc(sizeof(long double) * (size_t)n * 4);
    long double *tt = zr + n, *p = zr + 2 * n, *tl = zr + 3 * n;
    long double total = 0, total_scale = 0;
    const long double gscale = reduction == PANMAX_REDUCTION_MEAN && count > 0 ? 1.0L / count : 1;
    for (int64_t r = 0; r < rows; r++) {
        get_row(zcopy, r * zs, n, zr);
        int ignored = !soft && labels[r] == ignore;
        for (int64_t j = 0; j < n; j++) {
            long double given = soft ? tget(g_d, tg, r * ts + j) : (long double)(labels[r] == j);
            tt[j] = (1 - ls) * given + ls / n;
            if (ls == 1) {
                tt[j] = 1.0L / n;
            }
        }
        long double want = ignored ? 0 : ref_ce_loss(zr, tt, n);
        ref_row rr = ref_softmax(zr, n, 1, p, NULL, tl);
        long double tsum = 0, tzabs = 0;
        for (int64_t j = 0; j < n; j++) {
            tsum += tt[j];
            if (tt[j] != 0) {
                tzabs += fabsl(tt[j] * zr[j]);
            }
        }
        long double lse = rr.kind == 0 ? rr.m + rr.lsum : 0;
        long double lscale = 1 + tsum * (fabsl(lse) + rr.h) + fabsl(want) + (tzabs + tsum) * (1 + acc_units(n));
        if (!ignored) {
            total_scale += lscale;
        }
        if (reduction == PANMAX_REDUCTION_NONE) {
            long double got = tget(g_d, loss, r);
            if (ignored) {
                CHECK(got == 0, "ignored row %lld: loss %Lg", (long long)r, got);
            } else if (!isfinite(want)) {
                VCHECK(tu_same(got, want), "loss[%lld] = %Lg want %Lg", (long long)r, got, want);
            } else {
                long double units = ratio(fabsl(got - want), g_d->eps * lscale);
                stat_add("cross_entropy loss", units, CE_BOUND);
                VCHECK(units <= CE_BOUND, "loss[%lld] = %.10Lg want %.10Lg", (long long)r, got, want);
            }
        } else {
            total += want;
        }
        if (g) {
            for (int64_t j = 0; j < n; j++) {
                long double gw = ignored ? 0 : rr.kind == 1 ? NAN : (p[j] * tsum - tt[j]) * gscale;
                long double got = tget(g_d, g, r * gs + j);
                if (isnan(gw)) {
                    VCHECK(isnan(got), "grad[%lld][%lld] = %Lg want NaN", (long long)r, (long long)j, got);
                    continue;
                }
                long double scale = ((p[j] > 0 ? p[j] * (4 + fabsl(tl[j]) + acc_units(n)) : 0) + fabsl(tt[j])) * gscale;
                long double units = ratio(fabsl(got - gw), g_d->eps * scale + g_d->tmin);
                stat_add("cross_entropy grad", units, CE_BOUND);
                VCHECK(units <= CE_BOUND, "grad[%lld][%lld] = %.10Lg want %.10Lg (%.3Lg units)", (long long)r,
                      (long long)j, got, gw, units);
            }
        }
    }
    if (reduction != PANMAX_REDUCTION_NONE) {
        long double want = reduction == PANMAX_REDUCTION_SUM ? total : count ? total / count : NAN;
        long double got = tget(g_d, loss, 0);
        if (!isfinite(want)) {
            VCHECK(tu_same(got, want), "reduced loss %Lg want %Lg", got, want);
        } else {
            long double units = ratio(fabsl(got - want),
                                      g_d->eps * (reduction == PANMAX_REDUCTION_MEAN && count ? total_scale / count : total_scale));
            stat_add("cross_entropy reduced", units, CE_BOUND);
            VCHECK(units <= CE_BOUND, "reduced loss %.10Lg want %.10Lg", got, want);
        }
    }
    if (grad_mode != 2) {
        CHECK(memcmp(z, zcopy, (size_t)span_of(rows, n, zs) * g_d->size) == 0, "logits modified");
    }
    free(zr);
    gfree(z);
    gfree(zcopy);
    if (grad_mode == 1) {
        gfree(g);
    }
    if (tg) {
        gfree(tg);
    }
    if (labels) {
        gfree(labels);
    }
    gfree(loss);
}

/* ---- gradients against central differences (f64, long double reference) ------------------------- */

static long double fd_diff(long double fp, long double fm)
{
    return (fp - fm) / (2 * FD_STEP);
}

static void check_fd(const char *what, int64_t j, long double got, long double fd)
{
    VCHECK(fabsl(got - fd) <= FD_TOL * (1 + fabsl(fd)), "%s: d/dz[%lld] = %.12Lg, central difference %.12Lg",
          what, (long long)j, got, fd);
}

static void test_finite_differences(void)
{
    const tu_dtype *saved = g_d;
    g_d = &TU_F64;
    char ctx[96];
    snprintf(ctx, sizeof ctx, "finite differences %s", panmax_isa_name(g_isa));
    tu_context = ctx;
    enum { N = 7 };
    long double z[N], zp[N], tmp[N], tmp2[N], dy[N], tt[N];
    double zd[N], pd[N], lpd[N], dyd[N], out[N], grad[N], loss[1], td[N];
    for (int64_t j = 0; j < N; j++) {
        z[j] = tu_range(-3, 3);
        zd[j] = (double)z[j];
        z[j] = zd[j];
        dy[j] = dyd[j] = tu_range(-1, 1);
    }
    ref_softmax(z, N, 1, tmp, tmp2, NULL);
    for (int64_t j = 0; j < N; j++) {
        pd[j] = (double)tmp[j];
        lpd[j] = (double)tmp2[j];
    }

    /* softmax VJP = gradient of f(z) = <dy, softmax(z)> */
    CHECK_EQ_INT(panmax_softmax_backward_f64(pd, N, dyd, N, out, N, 1, N, g_isa), PANMAX_OK);
    for (int64_t j = 0; j < N; j++) {
        long double f[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            memcpy(zp, z, sizeof z);
            zp[j] += sgn ? -FD_STEP : FD_STEP;
            ref_softmax(zp, N, 1, tmp, NULL, NULL);
            f[sgn] = 0;
            for (int64_t i = 0; i < N; i++) {
                f[sgn] += dy[i] * tmp[i];
            }
        }
        check_fd("softmax_backward", j, out[j], fd_diff(f[0], f[1]));
    }
    /* log-softmax VJP = gradient of <dy, log_softmax(z)> */
    CHECK_EQ_INT(panmax_log_softmax_backward_f64(lpd, N, dyd, N, out, N, 1, N, g_isa), PANMAX_OK);
    for (int64_t j = 0; j < N; j++) {
        long double f[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            memcpy(zp, z, sizeof z);
            zp[j] += sgn ? -FD_STEP : FD_STEP;
            ref_softmax(zp, N, 1, NULL, tmp, NULL);
            f[sgn] = 0;
            for (int64_t i = 0; i < N; i++) {
                f[sgn] += dy[i] * tmp[i];
            }
        }
        check_fd("log_softmax_backward", j, out[j], fd_diff(f[0], f[1]));
    }
    /* log-softmax JVP = directional derivative of log_softmax along v (= dy here) */
    CHECK_EQ_INT(panmax_log_softmax_jvp_f64(lpd, N, dyd, N, out, N, 1, N, g_isa), PANMAX_OK);
    {
        long double fpv[N], fmv[N];
        for (int64_t j = 0; j < N; j++) {
            zp[j] = z[j] + FD_STEP * dy[j];
        }
        ref_softmax(zp, N, 1, NULL, fpv, NULL);
        for (int64_t j = 0; j < N; j++) {
            zp[j] = z[j] - FD_STEP * dy[j];
        }
        ref_softmax(zp, N, 1, NULL, fmv, NULL);
        for (int64_t j = 0; j < N; j++) {
            check_fd("log_softmax_jvp", j, out[j], fd_diff(fpv[j], fmv[j]));
        }
    }
    /* Jacobians from logits: column j = d softmax / d z_j */
    for (int log_jac = 0; log_jac < 2; log_jac++) {
        double jac[N * N];
        CHECK_EQ_INT(panmax_jacobian_f64(zd, N, jac, 1, N, PANMAX_FLAG_FROM_LOGITS | (log_jac ? PANMAX_FLAG_LOG : 0),
                                         g_isa), PANMAX_OK);
        for (int64_t j = 0; j < N; j++) {
            long double a[N], b[N];
            memcpy(zp, z, sizeof z);
            zp[j] += FD_STEP;
            ref_softmax(zp, N, 1, log_jac ? NULL : a, log_jac ? a : NULL, NULL);
            zp[j] -= 2 * FD_STEP;
            ref_softmax(zp, N, 1, log_jac ? NULL : b, log_jac ? b : NULL, NULL);
            for (int64_t i = 0; i < N; i++) {
                check_fd(log_jac ? "jacobian log" : "jacobian", i * N + j, jac[i * N + j], fd_diff(a[i], b[i]));
            }
        }
    }
    /* cross-entropy gradient: hard label with smoothing, and soft targets */
    for (int soft = 0; soft < 2; soft++) {
        const double ls = soft ? 0.0 : 0.1;
        int64_t label = tu_below(N);
        long double ts = 0;
        for (int64_t j = 0; j < N; j++) {
            td[j] = tu_unif();
            ts += td[j];
        }
        for (int64_t j = 0; j < N; j++) {
            td[j] = (double)(td[j] / ts);
            long double given = soft ? td[j] : (long double)(j == label);
            tt[j] = (1 - (long double)ls) * given + (long double)ls / N;
        }
        CHECK_EQ_INT(panmax_cross_entropy_f64(zd, N, soft ? NULL : &label, soft ? td : NULL, N, grad, N, loss, 1, N,
                                              -100, ls, PANMAX_REDUCTION_NONE, g_isa), PANMAX_OK);
        check_fd(soft ? "cross_entropy soft loss" : "cross_entropy label loss", -1, loss[0], ref_ce_loss(z, tt, N));
        for (int64_t j = 0; j < N; j++) {
            memcpy(zp, z, sizeof z);
            zp[j] += FD_STEP;
            long double fp = ref_ce_loss(zp, tt, N);
            zp[j] -= 2 * FD_STEP;
            long double fm = ref_ce_loss(zp, tt, N);
            check_fd(soft ? "cross_entropy soft grad" : "cross_entropy label grad", j, grad[j], fd_diff(fp, fm));
        }
    }
    g_d = saved;
}

/* ---- error statuses: each rejected call must leave every output untouched --------------------------- */

static void *g_outs[4];
static size_t g_out_bytes[4];
static int g_nouts = 0;

static void outs_watch(void *p, size_t bytes)
{
    memset(p, TU_POISON, bytes);
    g_outs[g_nouts] = p;
    g_out_bytes[g_nouts++] = bytes;
}

static void outs_clear(void)
{
    g_nouts = 0;
}

#define EXPECT_ST(call, want)                                                                     \
    do {                                                                                          \
        int32_t st_ = (call);                                                                     \
        CHECK(st_ == (want), "%s returned %d (%s), expected %d", #call, st_,                      \
              panmax_status_string(st_), (int)(want));                                            \
        for (int o_ = 0; o_ < g_nouts; o_++) {                                                    \
            CHECK(tu_is_poison(g_outs[o_], g_out_bytes[o_]), "%s wrote into output %d", #call, o_); \
        }                                                                                         \
    } while (0)

#define MIS(p) ((void *)((char *)(p) + 1))

static void test_errors(void)
{
    char ctx[64];
    snprintf(ctx, sizeof ctx, "errors %s", g_d->name);
    tu_context = ctx;
    const int64_t R = 3, C = 5, S = 6, SPAN = (R - 1) * S + C;
    const int32_t A = PANMAX_ISA_AUTO;
    const size_t es = g_d->size;
    void *x = talloc(g_d, SPAN), *y = talloc(g_d, SPAN), *dy = talloc(g_d, SPAN);
    void *big = talloc(g_d, 4 * SPAN);
    for (int64_t i = 0; i < SPAN; i++) {
        tset(g_d, x, i, tu_range(-1, 1));
        tset(g_d, dy, i, tu_range(-1, 1));
    }
    const int64_t huge_stride = INT64_MAX / 2, byte_overflow_stride = INT64_MAX / 4; /* 2 rows: > 2^63 bytes */

    /* softmax and log_softmax */
    for (int which = 0; which < 2; which++) {
        int32_t (*fn)(const void *, int64_t, void *, int64_t, int64_t, int64_t, int32_t) =
            which ? api_log_softmax : api_softmax;
        outs_clear();
        outs_watch(y, (size_t)SPAN * es);
        EXPECT_ST(fn(NULL, S, y, S, R, C, A), PANMAX_ERR_NULL);
        EXPECT_ST(fn(x, S, NULL, S, R, C, A), PANMAX_ERR_NULL);
        EXPECT_ST(fn(x, S, y, S, -1, C, A), PANMAX_ERR_SIZE);
        EXPECT_ST(fn(x, S, y, S, R, 0, A), PANMAX_ERR_SIZE);
        EXPECT_ST(fn(x, S, y, S, R, -3, A), PANMAX_ERR_SIZE);
        EXPECT_ST(fn(x, C - 1, y, S, R, C, A), PANMAX_ERR_STRIDE);
        EXPECT_ST(fn(x, S, y, C - 1, R, C, A), PANMAX_ERR_STRIDE);
        EXPECT_ST(fn(x, 0, y, S, R, C, A), PANMAX_ERR_STRIDE);
        EXPECT_ST(fn(x, huge_stride, y, S, R, C, A), PANMAX_ERR_SIZE);
        EXPECT_ST(fn(x, S, y, byte_overflow_stride, 2, C, A), PANMAX_ERR_SIZE);
        EXPECT_ST(fn(x, S, y, S, INT64_MAX, C, A), PANMAX_ERR_SIZE);
        EXPECT_ST(fn(MIS(x), S, y, S, R, C, A), PANMAX_ERR_ALIGNMENT);
        EXPECT_ST(fn(x, S, MIS(y), S, R, C, A), PANMAX_ERR_ALIGNMENT);
        EXPECT_ST(fn(x, S, y, S, R, C, 7), PANMAX_ERR_ISA);
        EXPECT_ST(fn(x, S, y, S, R, C, -2), PANMAX_ERR_ISA);
        for (int32_t isa = 0; isa <= TEST_ISA_LAST; isa++) {
            if (!panmax_isa_supported(isa)) {
                EXPECT_ST(fn(x, S, y, S, R, C, isa), PANMAX_ERR_ISA);
            }
        }
        /* overlap: shifted output, and the same pointer with another stride */
        outs_clear();
        outs_watch(big, (size_t)(4 * SPAN) * es);
        EXPECT_ST(fn(big, S, (char *)big + es, S, R, C, A), PANMAX_ERR_OVERLAP);
        EXPECT_ST(fn((char *)big + 2 * S * es, S, big, S, R, C, A), PANMAX_ERR_OVERLAP);
        EXPECT_ST(fn(big, S, big, S + 1, R, C, A), PANMAX_ERR_OVERLAP);
        EXPECT_ST(fn(big, S, big, S, 0, C, A), PANMAX_OK); /* rows 0: nothing to do */
        EXPECT_ST(fn(x, S, y, S, 0, C, A), PANMAX_OK);
        /* adjacent but disjoint is fine */
        memset(big, 0, (size_t)(4 * SPAN) * es);
        outs_clear();
        CHECK_EQ_INT(fn(big, S, (char *)big + (size_t)SPAN * es, S, R, C, A), PANMAX_OK);
    }

    /* logsumexp */
    outs_clear();
    outs_watch(y, (size_t)SPAN * es);
    EXPECT_ST(api_logsumexp(NULL, S, y, R, C, A), PANMAX_ERR_NULL);
    EXPECT_ST(api_logsumexp(x, S, NULL, R, C, A), PANMAX_ERR_NULL);
    EXPECT_ST(api_logsumexp(x, S, y, -1, C, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_logsumexp(x, S, y, R, 0, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_logsumexp(x, C - 1, y, R, C, A), PANMAX_ERR_STRIDE);
    EXPECT_ST(api_logsumexp(x, huge_stride, y, R, C, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_logsumexp(x, S, MIS(y), R, C, A), PANMAX_ERR_ALIGNMENT);
    EXPECT_ST(api_logsumexp(x, S, y, R, C, 6), PANMAX_ERR_ISA);
    outs_clear();
    outs_watch(big, (size_t)(4 * SPAN) * es);
    EXPECT_ST(api_logsumexp(big, S, (char *)big + (size_t)(SPAN - 1) * es, R, C, A), PANMAX_ERR_OVERLAP);
    EXPECT_ST(api_logsumexp(big, S, big, R, C, A), PANMAX_ERR_OVERLAP);

    /* softmax_ex */
    uint8_t *mask = galloc((size_t)SPAN);
    memset(mask, 1, (size_t)SPAN);
    outs_clear();
    outs_watch(y, (size_t)SPAN * es);
    EXPECT_ST(api_softmax_ex(NULL, S, y, S, R, C, 1, NULL, 0, NULL, 0, 0, A), PANMAX_ERR_NULL);
    EXPECT_ST(api_softmax_ex(x, S, NULL, S, R, C, 1, NULL, 0, NULL, 0, 0, A), PANMAX_ERR_NULL);
    EXPECT_ST(api_softmax_ex(x, S, y, S, -1, C, 1, NULL, 0, NULL, 0, 0, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, 0, 1, NULL, 0, NULL, 0, 0, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, 1, mask, C - 1, NULL, 0, 0, A), PANMAX_ERR_STRIDE);
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, 1, NULL, 0, dy, 1, 0, A), PANMAX_ERR_STRIDE);
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, 1, NULL, 0, dy, huge_stride, 0, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, 1, mask, huge_stride, NULL, 0, 0, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, 1, NULL, 0, MIS(dy), S, 0, A), PANMAX_ERR_ALIGNMENT);
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, 1, NULL, 0, y, S, 0, A), PANMAX_ERR_OVERLAP);
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, 1, (const uint8_t *)y + 3, S, NULL, 0, 0, A), PANMAX_ERR_OVERLAP);
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, 1, NULL, 0, (char *)y + es, 0, 0, A), PANMAX_ERR_OVERLAP);
    static const long double bad_temps[] = {0.0L, -1.0L, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad_temps / sizeof bad_temps[0]; i++) {
        EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, bad_temps[i], NULL, 0, NULL, 0, 0, A), PANMAX_ERR_ARGUMENT);
    }
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, g_d->tmin / 2, NULL, 0, NULL, 0, 0, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, 1, NULL, 0, NULL, 0, PANMAX_FLAG_FROM_LOGITS, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, 1, NULL, 0, NULL, 0, 8, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, 1, NULL, 0, NULL, 0, -1, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_softmax_ex(x, S, y, S, R, C, 1, NULL, 0, NULL, 0, 0, 9), PANMAX_ERR_ISA);
    outs_clear();
    /* the smallest normal temperature and broadcast strides are accepted */
    CHECK_EQ_INT(api_softmax_ex(x, S, y, S, R, C, g_d->tmin, mask, 0, dy, 0, PANMAX_FLAG_LOG, A), PANMAX_OK);
    /* a mask or bias stride is ignored when the pointer is NULL */
    CHECK_EQ_INT(api_softmax_ex(x, S, y, S, R, C, 1, NULL, -5, NULL, -7, 0, A), PANMAX_OK);

    /* backward family */
    for (int which = 0; which < 3; which++) {
        int32_t (*fn)(const void *, int64_t, const void *, int64_t, void *, int64_t, int64_t, int64_t, int32_t) =
            which == 0 ? api_backward : which == 1 ? api_log_backward : api_log_jvp;
        outs_clear();
        outs_watch(y, (size_t)SPAN * es);
        EXPECT_ST(fn(NULL, S, dy, S, y, S, R, C, A), PANMAX_ERR_NULL);
        EXPECT_ST(fn(x, S, NULL, S, y, S, R, C, A), PANMAX_ERR_NULL);
        EXPECT_ST(fn(x, S, dy, S, NULL, S, R, C, A), PANMAX_ERR_NULL);
        EXPECT_ST(fn(x, S, dy, S, y, S, -2, C, A), PANMAX_ERR_SIZE);
        EXPECT_ST(fn(x, S, dy, S, y, S, R, 0, A), PANMAX_ERR_SIZE);
        EXPECT_ST(fn(x, C - 1, dy, S, y, S, R, C, A), PANMAX_ERR_STRIDE);
        EXPECT_ST(fn(x, S, dy, C - 1, y, S, R, C, A), PANMAX_ERR_STRIDE);
        EXPECT_ST(fn(x, S, dy, S, y, C - 1, R, C, A), PANMAX_ERR_STRIDE);
        EXPECT_ST(fn(x, S, dy, huge_stride, y, S, R, C, A), PANMAX_ERR_SIZE);
        EXPECT_ST(fn(x, S, MIS(dy), S, y, S, R, C, A), PANMAX_ERR_ALIGNMENT);
        EXPECT_ST(fn(x, S, dy, S, MIS(y), S, R, C, A), PANMAX_ERR_ALIGNMENT);
        EXPECT_ST(fn(x, S, dy, S, y, S, R, C, -7), PANMAX_ERR_ISA);
        outs_clear();
        outs_watch(big, (size_t)(4 * SPAN) * es);
        EXPECT_ST(fn(big, S, dy, S, (char *)big + es, S, R, C, A), PANMAX_ERR_OVERLAP);
        EXPECT_ST(fn(x, S, big, S, (char *)big + 2 * es, S, R, C, A), PANMAX_ERR_OVERLAP);
        EXPECT_ST(fn(x, S, big, S, big, S + 1, R, C, A), PANMAX_ERR_OVERLAP);
    }

    /* jacobian */
    void *jac = talloc(g_d, R * C * C);
    outs_clear();
    outs_watch(jac, (size_t)(R * C * C) * es);
    EXPECT_ST(api_jacobian(NULL, S, jac, R, C, 0, A), PANMAX_ERR_NULL);
    EXPECT_ST(api_jacobian(x, S, NULL, R, C, 0, A), PANMAX_ERR_NULL);
    EXPECT_ST(api_jacobian(x, S, jac, -1, C, 0, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_jacobian(x, S, jac, R, 0, 0, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_jacobian(x, C - 1, jac, R, C, 0, A), PANMAX_ERR_STRIDE);
    EXPECT_ST(api_jacobian(x, (int64_t)1 << 32, jac, 1, (int64_t)1 << 32, 0, A), PANMAX_ERR_SIZE); /* cols^2 */
    EXPECT_ST(api_jacobian(x, (int64_t)1 << 21, jac, (int64_t)1 << 22, (int64_t)1 << 21, 0, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_jacobian(MIS(x), S, jac, R, C, 0, A), PANMAX_ERR_ALIGNMENT);
    EXPECT_ST(api_jacobian(x, S, MIS(jac), R, C, 0, A), PANMAX_ERR_ALIGNMENT);
    EXPECT_ST(api_jacobian(x, S, jac, R, C, PANMAX_FLAG_EXACT, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_jacobian(x, S, jac, R, C, 16, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_jacobian(x, S, jac, R, C, 0, 5), PANMAX_ERR_ISA);
    EXPECT_ST(api_jacobian((char *)jac + es, S, jac, R, C, 0, A), PANMAX_ERR_OVERLAP);

    /* jacobian_matmul: p (C), V (C x K), out (C x K) */
    const int64_t K = 4, VS = 5;
    void *v = talloc(g_d, (C - 1) * VS + K), *out = talloc(g_d, (C - 1) * VS + K);
    for (int64_t i = 0; i < (C - 1) * VS + K; i++) {
        tset(g_d, v, i, tu_range(-1, 1));
    }
    outs_clear();
    outs_watch(out, (size_t)((C - 1) * VS + K) * es);
    EXPECT_ST(api_jmm(NULL, C, v, VS, out, VS, K, 0, A), PANMAX_ERR_NULL);
    EXPECT_ST(api_jmm(x, C, NULL, VS, out, VS, K, 0, A), PANMAX_ERR_NULL);
    EXPECT_ST(api_jmm(x, C, v, VS, NULL, VS, K, 0, A), PANMAX_ERR_NULL);
    EXPECT_ST(api_jmm(x, 0, v, VS, out, VS, K, 0, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_jmm(x, C, v, VS, out, VS, 0, 0, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_jmm(x, C, v, K - 1, out, VS, K, 0, A), PANMAX_ERR_STRIDE);
    EXPECT_ST(api_jmm(x, C, v, VS, out, K - 1, K, 0, A), PANMAX_ERR_STRIDE);
    EXPECT_ST(api_jmm(x, C, v, huge_stride, out, VS, K, 0, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_jmm(MIS(x), C, v, VS, out, VS, K, 0, A), PANMAX_ERR_ALIGNMENT);
    EXPECT_ST(api_jmm(x, C, v, VS, MIS(out), VS, K, 0, A), PANMAX_ERR_ALIGNMENT);
    EXPECT_ST(api_jmm(x, C, v, VS, out, VS, K, PANMAX_FLAG_FROM_LOGITS, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_jmm(x, C, v, VS, out, VS, K, PANMAX_FLAG_EXACT, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_jmm(x, C, v, VS, out, VS, K, 0, 4), PANMAX_ERR_ISA);
    EXPECT_ST(api_jmm(out, C, v, VS, out, VS, K, 0, A), PANMAX_ERR_OVERLAP);
    EXPECT_ST(api_jmm(x, C, out, VS, out, VS, K, 0, A), PANMAX_ERR_OVERLAP);

    /* cross-entropy: labels in range 0..C-1, ignore -100 */
    int64_t *labels = galloc(sizeof(int64_t) * (size_t)R);
    labels[0] = 1;
    labels[1] = -100;
    labels[2] = C - 1;
    void *loss = talloc(g_d, R);
    outs_clear();
    outs_watch(y, (size_t)SPAN * es);
    outs_watch(loss, (size_t)R * es);
    const int32_t NONE = PANMAX_REDUCTION_NONE;
    EXPECT_ST(api_ce(NULL, S, labels, NULL, 0, y, S, loss, R, C, -100, 0, NONE, A), PANMAX_ERR_NULL);
    EXPECT_ST(api_ce(x, S, NULL, NULL, 0, y, S, loss, R, C, -100, 0, NONE, A), PANMAX_ERR_NULL);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, NULL, R, C, -100, 0, NONE, A), PANMAX_ERR_NULL);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, loss, -1, C, -100, 0, NONE, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, loss, R, 0, -100, 0, NONE, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_ce(x, C - 1, labels, NULL, 0, y, S, loss, R, C, -100, 0, NONE, A), PANMAX_ERR_STRIDE);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, C - 1, loss, R, C, -100, 0, NONE, A), PANMAX_ERR_STRIDE);
    EXPECT_ST(api_ce(x, S, NULL, dy, C - 1, y, S, loss, R, C, -100, 0, NONE, A), PANMAX_ERR_STRIDE);
    EXPECT_ST(api_ce(x, huge_stride, labels, NULL, 0, y, S, loss, R, C, -100, 0, NONE, A), PANMAX_ERR_SIZE);
    EXPECT_ST(api_ce(x, S, MIS(labels), NULL, 0, y, S, loss, R, C, -100, 0, NONE, A), PANMAX_ERR_ALIGNMENT);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, MIS(loss), R, C, -100, 0, NONE, A), PANMAX_ERR_ALIGNMENT);
    EXPECT_ST(api_ce(x, S, NULL, MIS(dy), S, y, S, loss, R, C, -100, 0, NONE, A), PANMAX_ERR_ALIGNMENT);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, y, R, C, -100, 0, NONE, A), PANMAX_ERR_OVERLAP);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, (char *)x + es, R, C, -100, 0, NONE, A), PANMAX_ERR_OVERLAP);
    EXPECT_ST(api_ce(x, S, NULL, y, S, y, S, loss, R, C, -100, 0, NONE, A), PANMAX_ERR_OVERLAP);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, (void *)labels, S, loss, 1, C, -100, 0, NONE, A), PANMAX_ERR_OVERLAP);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, loss, S, loss, R, C, -100, 0, NONE, A), PANMAX_ERR_OVERLAP);
    EXPECT_ST(api_ce(x, S, labels, dy, S, y, S, loss, R, C, -100, 0, NONE, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, loss, R, C, -100, 0, 3, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, loss, R, C, -100, 0, -1, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, loss, R, C, -100, -0.1L, NONE, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, loss, R, C, -100, 1.5L, NONE, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, loss, R, C, -100, NAN, NONE, A), PANMAX_ERR_ARGUMENT);
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, loss, R, C, -100, 0, NONE, 11), PANMAX_ERR_ISA);
    /* bad labels: the last row's label is checked before anything is written */
    labels[2] = C;
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, loss, R, C, -100, 0, NONE, A), PANMAX_ERR_ARGUMENT);
    labels[2] = -1;
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, loss, R, C, -100, 0, NONE, A), PANMAX_ERR_ARGUMENT);
    labels[2] = INT64_MIN;
    EXPECT_ST(api_ce(x, S, labels, NULL, 0, y, S, loss, R, C, -100, 0, PANMAX_REDUCTION_MEAN, A), PANMAX_ERR_ARGUMENT);
    labels[2] = -100; /* == ignore_index: fine */
    outs_clear();
    CHECK_EQ_INT(api_ce(x, S, labels, NULL, 0, y, S, loss, R, C, -100, 0, NONE, A), PANMAX_OK);
    CHECK(tget(g_d, loss, 1) == 0 && tget(g_d, loss, 2) == 0, "ignored rows must have loss 0");
    for (int64_t j = 0; j < C; j++) {
        CHECK(tget(g_d, y, S + j) == 0, "ignored row gradient must be 0");
    }
    /* all rows ignored: MEAN is NaN, SUM is 0 */
    labels[0] = -100;
    CHECK_EQ_INT(api_ce(x, S, labels, NULL, 0, NULL, 0, loss, R, C, -100, 0, PANMAX_REDUCTION_MEAN, A), PANMAX_OK);
    CHECK(isnan(tget(g_d, loss, 0)), "MEAN over no rows must be NaN");
    CHECK_EQ_INT(api_ce(x, S, labels, NULL, 0, NULL, 0, loss, R, C, -100, 0, PANMAX_REDUCTION_SUM, A), PANMAX_OK);
    CHECK(tget(g_d, loss, 0) == 0, "SUM over no rows must be 0");
    /* rows == 0 */
    CHECK_EQ_INT(api_ce(x, S, labels, NULL, 0, NULL, 0, loss, 0, C, -100, 0, PANMAX_REDUCTION_MEAN, A), PANMAX_OK);
    CHECK(isnan(tget(g_d, loss, 0)), "MEAN over 0 rows must be NaN");

    gfree(labels);
    gfree(loss);
    gfree(v);
    gfree(out);
    gfree(jac);
    gfree(mask);
    gfree(x);
    gfree(y);
    gfree(dy);
    gfree(big);
    outs_clear();
}

/* ---- ISA selection ------------------------------------------------------------------------------- */

static int32_t best_isa(void)
{
    return panmax_isa_supported(PANMAX_ISA_AVX512) ? PANMAX_ISA_AVX512
         : panmax_isa_supported(PANMAX_ISA_AVX2)   ? PANMAX_ISA_AVX2
         : panmax_isa_supported(PM_ISA_NEON)       ? PM_ISA_NEON
                                                   : PANMAX_ISA_SCALAR;
}

/* Runs in a child started with PANMAX_ISA set; returns the number of failures. */
static int env_child(const char *mode)
{
    tu_context = mode;
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8];
    memset(y, TU_POISON, sizeof y);
    if (strcmp(mode, "invalid") == 0) {
        /* unknown or unsupported PANMAX_ISA: every AUTO call fails clearly */
        CHECK_EQ_INT(panmax_active_isa(), PANMAX_ERR_ISA);
        CHECK_EQ_INT(panmax_softmax_f32(x, 8, y, 8, 1, 8, PANMAX_ISA_AUTO), PANMAX_ERR_ISA);
        CHECK_EQ_INT(panmax_log_softmax_f32(x, 8, y, 8, 1, 8, PANMAX_ISA_AUTO), PANMAX_ERR_ISA);
        CHECK(tu_is_poison(y, sizeof y), "a failed call wrote");
        /* an explicit ISA is independent of the variable */
        CHECK_EQ_INT(panmax_softmax_f32(x, 8, y, 8, 1, 8, PANMAX_ISA_SCALAR), PANMAX_OK);
        /* set_isa(unsupported) changes nothing; set_isa(AUTO) clears the error */
        CHECK_EQ_INT(panmax_set_isa(42), PANMAX_ERR_ISA);
        CHECK_EQ_INT(panmax_active_isa(), PANMAX_ERR_ISA);
        CHECK_EQ_INT(panmax_set_isa(PANMAX_ISA_AUTO), PANMAX_OK);
        CHECK_EQ_INT(panmax_active_isa(), best_isa());
        CHECK_EQ_INT(panmax_softmax_f32(x, 8, y, 8, 1, 8, PANMAX_ISA_AUTO), PANMAX_OK);
    } else if (strcmp(mode, "invalid-then-scalar") == 0) {
        CHECK_EQ_INT(panmax_set_isa(PANMAX_ISA_SCALAR), PANMAX_OK);
        CHECK_EQ_INT(panmax_active_isa(), PANMAX_ISA_SCALAR);
        CHECK_EQ_INT(panmax_softmax_f32(x, 8, y, 8, 1, 8, PANMAX_ISA_AUTO), PANMAX_OK);
    } else {
        /* mode is an ISA name the CPU supports: AUTO resolves to it */
        int32_t want = PANMAX_ERR_ISA;
        for (int32_t isa = PANMAX_ISA_SCALAR; isa <= TEST_ISA_LAST; isa++) {
            if (strcmp(mode, panmax_isa_name(isa)) == 0) {
                want = isa;
            }
        }
        CHECK_EQ_INT(panmax_active_isa(), want);
        CHECK_EQ_INT(panmax_softmax_f32(x, 8, y, 8, 1, 8, PANMAX_ISA_AUTO), PANMAX_OK);
        CHECK_EQ_INT(panmax_set_isa(PANMAX_ISA_AUTO), PANMAX_OK);
        CHECK_EQ_INT(panmax_active_isa(), best_isa());
    }
    return tu_failures != 0;
}

static void spawn_env_child(const char *argv0, const char *env_value, const char *mode)
{
    char ctx[96];
    snprintf(ctx, sizeof ctx, "PANMAX_ISA=%s", env_value);
    tu_context = ctx;
    fflush(stdout);
    fflush(stderr);
    /* Under an emulator (a cross build's ctest runs this program in qemu-aarch64) the child is
     * started through it: the host kernel cannot execute the target binary itself. */
    const char *emu = getenv("PANMAX_TEST_EMULATOR");
    pid_t pid = fork();
    if (pid == 0) {
        setenv("PANMAX_ISA", env_value, 1);
        if (emu != NULL && emu[0] != '\0') {
            execl(emu, emu, argv0, "--env-child", mode, (char *)NULL);
        } else {
            execl(argv0, argv0, "--env-child", mode, (char *)NULL);
        }
        _exit(127);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork/wait failed");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child (mode %s) failed with status %d", mode, status);
}

static void test_dispatch(const char *argv0)
{
    tu_context = "dispatch";
    CHECK_EQ_INT(panmax_isa_supported(PANMAX_ISA_SCALAR), 1);
    CHECK_EQ_INT(panmax_isa_supported(PANMAX_ISA_AUTO), 0);
    CHECK_EQ_INT(panmax_isa_supported(TEST_ISA_LAST + 1), 0);
    CHECK_EQ_INT(panmax_isa_supported(INT32_MIN), 0);
    /* NEON exactly on aarch64 (always: it is the baseline there), never the x86 ISAs there */
    CHECK_EQ_INT(panmax_isa_supported(PM_ISA_NEON), TEST_EXPECT_NEON);
#if defined(__aarch64__)
    CHECK_EQ_INT(panmax_isa_supported(PANMAX_ISA_AVX2), 0);
    CHECK_EQ_INT(panmax_isa_supported(PANMAX_ISA_AVX512), 0);
#endif
    CHECK(strcmp(panmax_isa_name(PANMAX_ISA_SCALAR), "scalar") == 0, "name");
    CHECK(strcmp(panmax_isa_name(PANMAX_ISA_AVX2), "avx2") == 0, "name");
    CHECK(strcmp(panmax_isa_name(PANMAX_ISA_AVX512), "avx512") == 0, "name");
    CHECK(strcmp(panmax_isa_name(PM_ISA_NEON), "neon") == 0, "name");
    CHECK(panmax_isa_name(TEST_ISA_LAST + 1) == NULL && panmax_isa_name(-2) == NULL,
          "unknown ISA names must be NULL");
    CHECK_EQ_INT(panmax_active_isa(), best_isa());
    for (int32_t isa = PANMAX_ISA_SCALAR; isa <= TEST_ISA_LAST; isa++) {
        if (panmax_isa_supported(isa)) {
            CHECK_EQ_INT(panmax_set_isa(isa), PANMAX_OK);
            CHECK_EQ_INT(panmax_active_isa(), isa);
        } else {
            int32_t before = panmax_active_isa();
            CHECK_EQ_INT(panmax_set_isa(isa), PANMAX_ERR_ISA);
            CHECK_EQ_INT(panmax_active_isa(), before);
        }
    }
    CHECK_EQ_INT(panmax_set_isa(17), PANMAX_ERR_ISA);
    CHECK_EQ_INT(panmax_set_isa(PANMAX_ISA_AUTO), PANMAX_OK);
    CHECK_EQ_INT(panmax_active_isa(), best_isa());

    /* AUTO gives the same bits as the best ISA named explicitly */
    g_d = &TU_F32;
    float x[301], y1[301], y2[301];
    for (int i = 0; i < 301; i++) {
        x[i] = (float)tu_range(-20, 20);
    }
    CHECK_EQ_INT(panmax_softmax_f32(x, 301, y1, 301, 1, 301, PANMAX_ISA_AUTO), PANMAX_OK);
    CHECK_EQ_INT(panmax_softmax_f32(x, 301, y2, 301, 1, 301, best_isa()), PANMAX_OK);
    CHECK(memcmp(y1, y2, sizeof y1) == 0, "AUTO differs from the best ISA");

    /* PANMAX_ISA is read once, at the first call: test it in child processes */
    spawn_env_child(argv0, "scalar", "scalar");
    spawn_env_child(argv0, "SCALAR", "scalar");
    spawn_env_child(argv0, "bogus", "invalid");
    spawn_env_child(argv0, "bogus", "invalid-then-scalar");
    for (int32_t isa = PANMAX_ISA_AVX2; isa <= TEST_ISA_LAST; isa++) {
        const char *name = panmax_isa_name(isa);
        spawn_env_child(argv0, name, panmax_isa_supported(isa) ? name : "invalid");
    }
    if (TEST_EXPECT_NEON) {
        spawn_env_child(argv0, "NEON", "neon");
    }
}

/* ---- library information -------------------------------------------------------------------------- */

static void test_info(void)
{
    tu_context = "info";
    CHECK_EQ_INT(panmax_version(), PANMAX_VERSION_MAJOR * 10000 + PANMAX_VERSION_MINOR * 100 + PANMAX_VERSION_PATCH);
    CHECK_EQ_INT(panmax_abi_version(), PANMAX_ABI_VERSION);
    for (int32_t s = -8; s <= 0; s++) {
        const char *m = panmax_status_string(s);
        CHECK(m != NULL && strcmp(m, "unknown status") != 0, "status %d has no text", s);
    }
    CHECK(strcmp(panmax_status_string(-9), "unknown status") == 0, "status -9");
    CHECK(strcmp(panmax_status_string(1), "unknown status") == 0, "status 1");
    CHECK(strcmp(panmax_status_string(INT32_MIN), "unknown status") == 0, "status INT32_MIN");
    const char *f = panmax_cpu_features();
    CHECK(f != NULL, "cpu features");
#if defined(__x86_64__)
    CHECK(f && strstr(f, "sse2") != NULL, "x86-64 always has sse2: '%s'", f ? f : "(null)");
#endif
#if defined(__aarch64__) && defined(__linux__)
    CHECK(f && strstr(f, "asimd") != NULL, "aarch64 Linux always has asimd: '%s'", f ? f : "(null)");
#endif
    const char *b = panmax_blas_info();
    CHECK(b != NULL && strlen(b) > 0, "blas info");
    CHECK(b == panmax_blas_info(), "blas info must be built once");
}

/* ---- driver -------------------------------------------------------------------------------------------- */

static const char *skip_reason(int32_t isa)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
#endif
    switch (isa) {
    case PANMAX_ISA_AVX2:
#if !defined(PANMAX_HAVE_AVX2)
        return "not compiled into this build (no kernels/avx2.c, PANMAX_DISABLE_SIMD, or no compiler support)";
#elif defined(__x86_64__) && defined(__GNUC__)
        if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
            return "this CPU lacks AVX2/FMA";
        }
#endif
        return "the OS does not enable the YMM state (XCR0)";
    case PANMAX_ISA_AVX512:
#if !defined(PANMAX_HAVE_AVX512)
        return "not compiled into this build (no kernels/avx512.c, PANMAX_DISABLE_SIMD, or no compiler support)";
#elif defined(__x86_64__) && defined(__GNUC__)
        if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512dq")) {
            return "this CPU lacks AVX-512F/DQ";
        }
#endif
        return "the OS does not enable the ZMM/opmask state (XCR0)";
    case PM_ISA_NEON:
#if !defined(__aarch64__)
        return "not an aarch64 build (NEON is the aarch64 ISA)";
#else
        return "not compiled into this build (no kernels/neon.c or PANMAX_DISABLE_SIMD)";
#endif
    default:
        return "?";
    }
}

static double seconds_since(struct timespec t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
}

static void run_isa(int32_t isa)
{
    static const int64_t fwd_extra[] = {127, 128, 129, 255, 256, 257, 1000, 1001, 4095, 4096, 4097,
                                        32000, 32767, 32768, 32769, 65535, 65536, 65537, 100000,
                                        /* around the blocked softmax (rows > 8 MiB, blocks of 16 KiB) */
                                        1048575, 1048577, 2097153};
    static const int64_t mid[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000,
                                  1001, 4097, 32000};
    g_isa = isa;
    const tu_dtype *types[] = {&TU_F32, &TU_F64};
    for (int ti = 0; ti < 2; ti++) {
        g_d = types[ti];
        long before = tu_failures;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        /* forward: every length 1..64 with every family, then the long ones */
        for (int64_t n = 1; n <= 64; n++) {
            for (int fam = 0; fam < FAM_COUNT; fam++) {
                test_forward_case(n, fam);
            }
        }
        for (size_t i = 0; i < sizeof fwd_extra / sizeof fwd_extra[0]; i++) {
            int64_t n = fwd_extra[i];
            if (g_memcheck && n > 5000 && n != 100000 && n != 2097153) {
                continue;
            }
            if (g_quick && n > 5000 && n != 32769 && n != 100000) {
                continue;
            }
            if (n <= 5000) {
                for (int fam = 0; fam < FAM_COUNT; fam++) {
                    test_forward_case(n, fam);
                }
            } else if (n < 1000000) {
                for (int c = 0; c < (g_quick ? 1 : 3); c++) {
                    test_forward_case(n, pick_family(n));
                }
            } else if (n < 2000000) {
                test_forward_case(n, FAM_TEN);
            } else {
                /* the blocked softmax, including its special rows (in place too) */
                static const int fams[] = {FAM_WIDE, FAM_PINF, FAM_NAN, FAM_NEGINF};
                for (int c = 0; c < 4; c++) {
                    test_forward_case(n, fams[c]);
                }
            }
        }
        for (size_t i = 0; i < sizeof mid / sizeof mid[0]; i++) {
            if (g_quick && mid[i] > 5000) {
                continue;
            }
            for (int c = 0; c < 8; c++) {
                test_softmax_ex_case(mid[i]);
            }
        }
        if (!g_quick) {
            test_softmax_ex_case(100000);
            test_softmax_ex_case(100000);
        }
        for (size_t i = 0; i < sizeof mid / sizeof mid[0]; i++) {
            for (int which = 0; which < 3; which++) {
                test_backward_case(mid[i], which);
            }
        }
        for (int64_t n = 1; n <= 9; n++) {
            test_jacobian_case(n, 0);
            test_jacobian_case(n, PANMAX_FLAG_LOG);
        }
        static const int64_t jn[] = {16, 17, 31, 64, 100};
        for (size_t i = 0; i < sizeof jn / sizeof jn[0]; i++) {
            test_jacobian_case(jn[i], 0);
            test_jacobian_case(jn[i], PANMAX_FLAG_LOG);
        }
        static const int64_t mn[] = {1, 2, 3, 7, 16, 33, 100}, mk[] = {1, 2, 5, 16, 33};
        for (size_t i = 0; i < sizeof mn / sizeof mn[0]; i++) {
            for (size_t j = 0; j < sizeof mk / sizeof mk[0]; j++) {
                test_jmm_case(mn[i], mk[j], 0);
                test_jmm_case(mn[i], mk[j], PANMAX_FLAG_LOG);
            }
        }
        test_jmm_huge_stride();
        static const int64_t cn[] = {1, 2, 3, 5, 10, 33, 100, 1000, 4097, 32000};
        for (size_t i = 0; i < sizeof cn / sizeof cn[0]; i++) {
            if (g_quick && cn[i] > 5000) {
                continue;
            }
            for (int soft = 0; soft < 2; soft++) {
                for (int32_t red = 0; red < 3; red++) {
                    for (int gm = 0; gm < 3; gm++) {
                        test_ce_case(cn[i], soft, red, gm);
                    }
                }
            }
        }
        printf("  %-6s %s: %s (%.1f s)\n", panmax_isa_name(isa), g_d->name,
               tu_failures == before ? "ok" : "FAILED", seconds_since(t0));
        fflush(stdout);
    }
    test_finite_differences();
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--env-child") == 0) {
        return env_child(argv[2]);
    }
    /* PANMAX_ISA is read at the library's first call; the ISA under test is always passed
     * explicitly, and test_dispatch() checks the variable in child processes. */
    unsetenv("PANMAX_ISA");
    tu_seed_init("test_api");
    g_memcheck = getenv("PANMAX_TEST_MEMCHECK") != NULL && *getenv("PANMAX_TEST_MEMCHECK") != '0';
    if (g_memcheck) {
        printf("PANMAX_TEST_MEMCHECK: value comparisons with the long double reference are off\n");
    }
    g_quick = getenv("PANMAX_TEST_QUICK") != NULL && *getenv("PANMAX_TEST_QUICK") != '0';
    if (g_quick) {
        printf("PANMAX_TEST_QUICK: the shorter size lists (see g_quick)\n");
    }
    g_only_isa = getenv("PANMAX_TEST_ISA_ONLY");
    if (g_only_isa != NULL && g_only_isa[0] == '\0') {
        g_only_isa = NULL;
    }
    printf("panmax %d (ABI %d); cpu: %s\nblas: %s\n", panmax_version(), panmax_abi_version(),
           panmax_cpu_features(), panmax_blas_info());

    test_info();
    test_dispatch(argv[0]);
    g_d = &TU_F32;
    test_errors();
    g_d = &TU_F64;
    test_errors();

    int ran = 0;
#if defined(PANMAX_TEST_REQUIRE_ISA)
    /* The AVX-512 emulation build (test_api_avx512emu): that ISA must be there, and it is the only
     * one run (test_api covers the others against the real library). */
    if (!panmax_isa_supported(PANMAX_TEST_REQUIRE_ISA)) {
        printf("FAIL: this build must provide ISA %s\n", panmax_isa_name(PANMAX_TEST_REQUIRE_ISA));
        return 1;
    }
#endif
    for (int32_t isa = PANMAX_ISA_SCALAR; isa <= TEST_ISA_LAST; isa++) {
#if defined(PANMAX_TEST_REQUIRE_ISA)
        if (isa != PANMAX_TEST_REQUIRE_ISA) {
            continue;
        }
#endif
        if (g_only_isa != NULL && strcmp(g_only_isa, panmax_isa_name(isa)) != 0) {
            printf("ISA %-6s: SKIPPED: PANMAX_TEST_ISA_ONLY=%s\n", panmax_isa_name(isa), g_only_isa);
            continue;
        }
        if (!panmax_isa_supported(isa)) {
            printf("ISA %-6s: SKIPPED: %s\n", panmax_isa_name(isa), skip_reason(isa));
            continue;
        }
        printf("ISA %-6s: running\n", panmax_isa_name(isa));
        fflush(stdout);
        run_isa(isa);
        ran++;
    }
    CHECK(g_only_isa == NULL || ran == 1, "PANMAX_TEST_ISA_ONLY=%s: no such ISA in this build or on this CPU",
          g_only_isa ? g_only_isa : "");

    if (!g_memcheck) { /* the long double statistics are meaningless under valgrind */
        printf("\nlargest errors seen (units of eps: 2^-23 for f32, 2^-52 for f64; see the bounds at the top):\n");
        printf("  %-36s %9s %9s %7s %9s\n", "op / type / isa", "max raw", "max", "bound", "checked");
        for (int i = 0; i < g_nstats; i++) {
            printf("  %-36s %9.3Lf %9.3Lf %7.2Lf %9ld\n", g_stats[i].key, g_stats[i].max_raw, g_stats[i].max_units,
                   g_stats[i].bound, g_stats[i].count);
        }
        if (getenv("PANMAX_TEST_VERBOSE")) {
            for (int i = 0; i < g_nstats; i++) {
                printf("  worst %s: %s\n", g_stats[i].key, g_stats[i].worst);
            }
        }
        printf("  (raw: relative error in eps before the conditioning/accumulation allowances; max: the\n"
               "   quantity held to the bound, see the top of test_api.c)\n");
    }
    printf("\n%d ISA(s) tested, %ld checks, %ld failures\n", ran, tu_checks, tu_failures);
    return tu_failures ? 1 : 0;
}
