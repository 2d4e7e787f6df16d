/*
 * test_kernels: properties of the kernel tables (kernels.h) that the public API cannot show, on
 * every ISA this build and CPU support:
 *
 *  - the exp inside the kernels, in ulps against the long double reference (expl), per region:
 *    normal results, results below the smallest normal, results that must be +0, and the special
 *    values (exp(0) = 1 exactly, exp(-inf) = +0, NaN stays NaN). The default exp is reached through
 *    expsum_store (m = 0, s = 1: y = exp(x)), the EXACT one through exp_exact (lse = 0). Results
 *    below the smallest normal must be gradual (within the bound) on the ISAs that return them,
 *    scalar and neon; avx2 and avx512 may still flush them to +0 (kernels.h);
 *  - an element's exp does not depend on the other elements of its vector (NEON sends a vector with
 *    one out-of-range lane down a wide path: the other lanes must keep their bits);
 *  - expsum_store_ahead gives the bits of expsum_store (it only adds prefetches);
 *  - softmax_small gives the bits of the general path (rmax, expsum_store, scale by 1 / sum), and
 *    returns 0 having written nothing for a row that is not finite.
 * Buffers end at a PROT_NONE page, so a kernel reading or writing past its row faults here.
 *
 * The largest error per (exp, type, ISA, region) is printed next to its bound.
 * PANMAX_TEST_QUICK=1 samples fewer points (emulated runs, see test_api.c).
 */
/* testutil.h's helpers are plain static functions; this program does not use all of them. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "testutil.h"

#include "kernels.h"
#include "panmax.h"

/*
 * Bounds in ulps of the reference (for a result below the smallest normal, the ulp is the subnormal
 * spacing 2^-149 / 2^-1074):
 *   default float exp: XNNPACK's rr2-p5 polynomial (~1.5 ulp over the reduced range) plus the
 *     reduction's and the product's roundings: 2.5 (avx2 measured up to 1.96, around x = -35.51);
 *   EXACT float exp: the Cephes polynomial (< 1 ulp) rounded at 1 + (...), then the product: 1.5
 *     (measured up to 1.01);
 *   default double exp: table 2^(j/64) (0.5 ulp) + degree-5 polynomial + final rounding: 1.5;
 *   EXACT double exp: scalar is libm's exp on hi then (1 + lo), neon carries the table's lo part,
 *     both round once: 1 (measured ~0.5).
 * Gradual underflow rounds a normal intermediate once more to the subnormal grid: +1 ulp there.
 */
#define EXP_F32_BOUND 2.5L
#define EXP_F32_EXACT_BOUND 1.5L
#define EXP_F64_BOUND 1.5L
#define EXP_F64_EXACT_BOUND 1.0L
#define SUBNORMAL_EXTRA 1.0L

static int g_quick = 0;

static const pm_isa_table *table(int32_t isa)
{
    return pm_table_for(isa);
}

/* Gradual underflow of exp is promised by these ISAs; the others may flush (kernels.h). */
static int returns_subnormals(int32_t isa)
{
    return isa == PANMAX_ISA_SCALAR || isa == PM_ISA_NEON;
}

static long double ulp_of(long double r, int f64)
{
    const int mant = f64 ? 52 : 23, emin = f64 ? -1022 : -126;
    int e = emin + 1;
    if (r != 0) {
        (void)frexpl(fabsl(r), &e); /* r = f 2^e, f in [0.5, 1) */
    }
    int ex = e - 1 < emin ? emin : e - 1;
    return ldexpl(1.0L, ex - mant);
}

/* ---- exp accuracy ------------------------------------------------------------------------------ */

enum region { R_NORMAL, R_SUBNORMAL, R_ZERO, R_COUNT };
static const char *const region_name[R_COUNT] = {"normal", "subnormal", "zero"};

typedef struct exp_stat {
    long double max_ulps[R_COUNT];
    long double worst_x[R_COUNT]; /* the argument of max_ulps */
    long count[R_COUNT];
} exp_stat;

/* y = exp(x) through the table's kernel: default (expsum_store, m = 0, s = 1) or EXACT (exp_exact,
 * lse = 0). */
static void kernel_exp(const pm_isa_table *t, int f64, int exact, const void *x, void *y, int64_t n)
{
    if (f64) {
        if (exact) {
            t->f64.exp_exact(x, y, n, 0.0, 1.0, 0.0);
        } else {
            (void)t->f64.expsum_store(x, y, n, 0.0, 1.0);
        }
    } else {
        if (exact) {
            t->f32.exp_exact(x, y, n, 0.0f, 1.0f, 0.0);
        } else {
            (void)t->f32.expsum_store(x, y, n, 0.0f, 1.0f);
        }
    }
}

static void test_exp(int32_t isa, int f64, int exact)
{
    const tu_dtype *d = f64 ? &TU_F64 : &TU_F32;
    const pm_isa_table *t = table(isa);
    char ctx[96];
    snprintf(ctx, sizeof ctx, "exp%s %s %s", exact ? " exact" : "", d->name, panmax_isa_name(isa));
    tu_context = ctx;
    const long double bound = f64 ? (exact ? EXP_F64_EXACT_BOUND : EXP_F64_BOUND)
                                  : (exact ? EXP_F32_EXACT_BOUND : EXP_F32_BOUND);
    /* ln(smallest normal), ln(half the smallest subnormal): the region edges */
    const long double lo_normal = logl(d->tmin);
    const long double lo_sub = logl(d->tmin * (f64 ? 0x1p-52L : 0x1p-23L) / 2);
    const int64_t n = 1000;
    const int batches = g_quick ? 20 : 200;
    void *x = talloc(d, n), *y = talloc(d, n);
    exp_stat st;
    memset(&st, 0, sizeof st);
    for (int b = 0; b < batches; b++) {
        for (int64_t i = 0; i < n; i++) {
            long double v;
            switch ((b + i) % 8) {
            case 0: case 1: case 2: case 3: v = tu_range((double)lo_normal, 0); break;
            case 4: v = -tu_range(0, 1) * tu_range(0, 1) * 2; break;           /* near 0 */
            case 5: v = tu_range((double)lo_sub, (double)lo_normal); break;     /* subnormal results */
            case 6: v = tu_range((double)lo_normal - 2, (double)lo_normal + 2); break; /* the edge */
            default: v = tu_range((double)lo_sub * 2, (double)lo_sub); break;  /* +0 */
            }
            tset(d, x, i, v);
        }
        kernel_exp(t, f64, exact, x, y, n);
        for (int64_t i = 0; i < n; i++) {
            long double xi = tget(d, x, i), yi = tget(d, y, i);
            long double ref = expl(xi);
            long double ulps = fabsl(yi - ref) / ulp_of(ref, f64);
            enum region r = ref >= d->tmin ? R_NORMAL : xi >= lo_sub ? R_SUBNORMAL : R_ZERO;
            if (r == R_ZERO) {
                /* below half the smallest subnormal: +0 (or the smallest subnormal right at the edge) */
                CHECK(yi == 0 ? !signbit(yi) : ulps <= bound, "exp(%.21Lg) = %.10Lg, expected +0", xi, yi);
            } else if (r == R_SUBNORMAL && !(returns_subnormals(isa) || yi != 0)) {
                CHECK(yi == 0 && !signbit(yi), "exp(%.21Lg) = %.10Lg: neither flushed nor gradual", xi, yi);
                continue; /* a flush, allowed on this ISA */
            } else {
                long double b2 = r == R_SUBNORMAL ? bound + SUBNORMAL_EXTRA : bound;
                CHECK(ulps <= b2, "exp(%.21Lg) = %.21Lg, reference %.21Lg: %.3Lf ulp > %.2Lf", xi, yi, ref, ulps, b2);
            }
            if (ulps > st.max_ulps[r]) {
                st.max_ulps[r] = ulps;
                st.worst_x[r] = xi;
            }
            st.count[r]++;
        }
    }
    /* special values, in every lane position and tail length */
    static const long double specials[] = {0.0L, -0.0L, -INFINITY, NAN, -1e30L};
    for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
        for (int64_t m = 1; m <= 9; m++) {
            for (int64_t i = 0; i < m; i++) {
                tset(d, x, n - m + i, i % 3 == 1 ? -1.5L : specials[k]);
            }
            kernel_exp(t, f64, exact, (char *)x + (size_t)(n - m) * d->size, (char *)y + (size_t)(n - m) * d->size, m);
            for (int64_t i = 0; i < m; i++) {
                long double yi = tget(d, y, n - m + i);
                if (i % 3 == 1) {
                    CHECK(fabsl(yi - expl(-1.5L)) <= bound * ulp_of(expl(-1.5L), f64), "exp(-1.5) = %.21Lg", yi);
                } else if (isnan(specials[k])) {
                    CHECK(isnan(yi), "exp(NaN) = %Lg", yi);
                } else if (specials[k] == 0) {
                    CHECK(yi == 1, "exp(%Lg) = %.21Lg, expected 1 exactly", specials[k], yi);
                } else {
                    CHECK(yi == 0 && !signbit(yi), "exp(%Lg) = %Lg, expected +0", specials[k], yi);
                }
            }
        }
    }
    printf("  exp %-5s %s %-6s", exact ? "exact" : "", d->name, panmax_isa_name(isa));
    for (int r = 0; r < R_COUNT; r++) {
        printf("  %s %.3Lf (%ld)", region_name[r], st.max_ulps[r], st.count[r]);
    }
    printf("   bound %.2Lf ulp%s\n", bound, returns_subnormals(isa) ? "" : " (subnormal results may be flushed)");
    if (getenv("PANMAX_TEST_VERBOSE")) {
        printf("    worst at x = %.9Lg (normal), %.9Lg (subnormal)\n", st.worst_x[R_NORMAL], st.worst_x[R_SUBNORMAL]);
    }
    CHECK(st.count[R_NORMAL] > 0 && st.count[R_ZERO] > 0, "no points checked");
    CHECK(!returns_subnormals(isa) || st.count[R_SUBNORMAL] > 0, "no gradual-underflow point checked");
    gfree(x);
    gfree(y);
}

/* ---- lane independence -------------------------------------------------------------------------- */

static void test_lanes(int32_t isa, int f64)
{
    const tu_dtype *d = f64 ? &TU_F64 : &TU_F32;
    const pm_isa_table *t = table(isa);
    char ctx[96];
    snprintf(ctx, sizeof ctx, "lanes %s %s", d->name, panmax_isa_name(isa));
    tu_context = ctx;
    enum { N = 37 };
    void *x = talloc(d, N), *y = talloc(d, N), *one = talloc(d, 1), *e1 = talloc(d, 1);
    long double alone[N];
    for (int trial = 0; trial < 20; trial++) {
        for (int64_t i = 0; i < N; i++) {
            tset(d, x, i, tu_range(f64 ? -700 : -85, 0));
            tset(d, one, 0, tget(d, x, i));
            kernel_exp(t, f64, trial & 1, one, e1, 1);
            alone[i] = tget(d, e1, 0);
        }
        /* every fifth element from trial % 5 on out of the normal range: far below it, -inf, a
         * subnormal result, or at the edge of +0 */
        static const long double out32[] = {-1000.0L, -INFINITY, -90.0L, -103.5L};
        static const long double out64[] = {-1e4L, -INFINITY, -720.0L, -745.0L};
        for (int64_t i = trial % 5; i < N; i += 5) {
            tset(d, x, i, (f64 ? out64 : out32)[(trial + i) % 4]);
        }
        kernel_exp(t, f64, trial & 1, x, y, N);
        for (int64_t i = 0; i < N; i++) {
            if ((i - trial % 5) % 5 == 0 && i >= trial % 5) {
                continue;
            }
            CHECK(tget(d, y, i) == alone[i], "element %" PRId64 ": %.21Lg next to out-of-range lanes, %.21Lg alone", i,
                  tget(d, y, i), alone[i]);
        }
    }
    gfree(x);
    gfree(y);
    gfree(one);
    gfree(e1);
}

/* ---- expsum_store_ahead ------------------------------------------------------------------------- */

static void test_ahead(int32_t isa, int f64)
{
    const tu_dtype *d = f64 ? &TU_F64 : &TU_F32;
    const pm_isa_table *t = table(isa);
    if (f64 ? t->f64.expsum_store_ahead == NULL : t->f32.expsum_store_ahead == NULL) {
        printf("  expsum_store_ahead %s %-6s: none (the driver uses expsum_store)\n", d->name, panmax_isa_name(isa));
        return;
    }
    char ctx[96];
    snprintf(ctx, sizeof ctx, "expsum_store_ahead %s %s", d->name, panmax_isa_name(isa));
    tu_context = ctx;
    static const int64_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 1000, 4099};
    long cases = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const int64_t n = sizes[k];
        void *x = talloc(d, n), *y1 = talloc(d, n), *y2 = talloc(d, n);
        for (int64_t i = 0; i < n; i++) {
            tset(d, x, i, i % 11 == 3 ? -INFINITY : tu_range(-30, 30));
        }
        for (int scaled = 0; scaled < 2; scaled++) {
            double s1, s2;
            if (f64) {
                double m = t->f64.rmax(x, n), s = scaled ? 1 / 0.7 : 1.0;
                s1 = t->f64.expsum_store(x, y1, n, m, s);
                s2 = t->f64.expsum_store_ahead(x, y2, n, m, s); /* prefetches past x + n: must not fault */
            } else {
                float m = t->f32.rmax(x, n), s = scaled ? 1 / 0.7f : 1.0f;
                s1 = t->f32.expsum_store(x, y1, n, m, s);
                s2 = t->f32.expsum_store_ahead(x, y2, n, m, s);
            }
            CHECK(memcmp(&s1, &s2, sizeof s1) == 0, "n %" PRId64 ": sum %.17g vs %.17g", n, s1, s2);
            CHECK(memcmp(y1, y2, (size_t)n * d->size) == 0, "n %" PRId64 ": outputs differ", n);
            cases++;
        }
        gfree(x);
        gfree(y1);
        gfree(y2);
    }
    printf("  expsum_store_ahead %s %-6s: the bits of expsum_store (%ld cases)\n", d->name, panmax_isa_name(isa), cases);
}

/* ---- softmax_small --------------------------------------------------------------------------------- */

static void test_small(int32_t isa, int f64)
{
    const tu_dtype *d = f64 ? &TU_F64 : &TU_F32;
    const pm_isa_table *t = table(isa);
    if (f64 ? t->f64.softmax_small == NULL : t->f32.softmax_small == NULL) {
        printf("  softmax_small %s %-6s: none (the driver takes the general path)\n", d->name, panmax_isa_name(isa));
        return;
    }
    char ctx[96];
    snprintf(ctx, sizeof ctx, "softmax_small %s %s", d->name, panmax_isa_name(isa));
    tu_context = ctx;
    long done = 0, declined = 0;
    for (int64_t n = 1; n <= 16; n++) {
        void *x = talloc(d, n), *y = talloc(d, n), *g = talloc(d, n);
        for (int fam = 0; fam < 7; fam++) {
            for (int scaled = 0; scaled < 2; scaled++) {
                for (int64_t i = 0; i < n; i++) {
                    long double v = tu_range(-20, 20);
                    if (fam == 1) {
                        v += f64 ? 700 : 85; /* large offset */
                    } else if (fam == 2 && i % 3 == 1) {
                        v = -INFINITY;
                    } else if (fam == 3) {
                        v = -INFINITY; /* empty row: declined */
                    } else if (fam == 4 && i == n / 2) {
                        v = NAN; /* declined */
                    } else if (fam == 5 && i == n - 1) {
                        v = INFINITY; /* declined */
                    } else if (fam == 6) {
                        v = i % 2 ? -200.0L : 0.0L; /* exp far below the normal range */
                    }
                    tset(d, x, i, v);
                }
                memset(y, TU_POISON, (size_t)n * d->size);
                int ok;
                if (f64) {
                    double s = scaled ? 1 / 0.7 : 1.0;
                    ok = t->f64.softmax_small(x, y, n, s);
                    double m = t->f64.rmax(x, n);
                    if (ok) {
                        double sum = t->f64.expsum_store(x, g, n, m, s);
                        t->f64.scale(g, g, n, 1.0 / sum);
                    }
                } else {
                    float s = scaled ? 1 / 0.7f : 1.0f;
                    ok = t->f32.softmax_small(x, y, n, s);
                    float m = t->f32.rmax(x, n);
                    if (ok) {
                        double sum = t->f32.expsum_store(x, g, n, m, s);
                        t->f32.scale(g, g, n, (float)(1.0 / sum));
                    }
                }
                const int finite_row = fam != 3 && fam != 4 && fam != 5;
                CHECK(ok == finite_row, "n %" PRId64 " family %d: returned %d", n, fam, ok);
                if (ok) {
                    CHECK(memcmp(y, g, (size_t)n * d->size) == 0, "n %" PRId64 " family %d: not the general path's bits",
                          n, fam);
                    done++;
                } else {
                    CHECK(tu_is_poison(y, (size_t)n * d->size), "n %" PRId64 " family %d: declined but wrote", n, fam);
                    declined++;
                }
            }
        }
        gfree(x);
        gfree(y);
        gfree(g);
    }
    printf("  softmax_small %s %-6s: the general path's bits (%ld rows), %ld non-finite rows declined\n", d->name,
           panmax_isa_name(isa), done, declined);
}

int main(void)
{
    unsetenv("PANMAX_ISA");
    tu_seed_init("test_kernels");
    g_quick = getenv("PANMAX_TEST_QUICK") != NULL && *getenv("PANMAX_TEST_QUICK") != '0';
    int ran = 0;
    for (int32_t isa = PANMAX_ISA_SCALAR; isa <= PM_ISA_NEON; isa++) {
        if (!panmax_isa_supported(isa) || table(isa) == NULL) {
            printf("ISA %-6s: SKIPPED (not in this build or not on this CPU)\n", panmax_isa_name(isa));
            continue;
        }
        printf("ISA %-6s:\n", panmax_isa_name(isa));
        for (int f64 = 0; f64 < 2; f64++) {
            test_exp(isa, f64, 0);
            test_exp(isa, f64, 1);
            test_lanes(isa, f64);
            test_ahead(isa, f64);
            test_small(isa, f64);
        }
        fflush(stdout);
        ran++;
    }
    CHECK(ran >= 1, "no ISA tested");
    printf("\n%d ISA(s) tested, %ld checks, %ld failures\n", ran, tu_checks, tu_failures);
    return tu_failures ? 1 : 0;
}
