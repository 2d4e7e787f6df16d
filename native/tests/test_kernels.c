/*
 * test_kernels: every slot of every ISA's kernel table (f32 and f64), called directly, against
 * the same slot of the scalar table, for n = 1 .. 3 x the widest vector (48 floats) and odd
 * lengths beyond (past the 64-element unrolled loops), with inputs in the domain each slot
 * documents in kernels.h. The scalar slots are themselves checked against a long double
 * reference, so a wrong scalar kernel cannot hide behind an equally wrong SIMD one.
 *
 * How each slot is held (the contract in kernels.h decides which):
 *   - bit for bit: rmax (a max is exact), scale, shiftscale, submul (the same IEEE operations in
 *     the same order), sum and dot of inputs whose sum is exact in double (any order gives the
 *     same bits), expsum_store_ahead against the same ISA's expsum_store (it only prefetches),
 *     softmax_small against the same ISA's general path (rmax, expsum_store, scale);
 *   - within a stated tolerance: everything through exp (the SIMD exps are polynomial
 *     approximations, ~1-2 ulp, against libm), sums of arbitrary terms (order), subexp and
 *     axpbyc (an ISA may fuse the multiply-add). The tolerances are the constants below.
 * Special values where the contract fixes them: exp(-inf) = +0, exp(0) = 1, NaN stays NaN.
 *
 * Structure checks: the table has exactly the slots listed here (a slot added to kernels.h and
 * not to this test fails the build), every slot is non-NULL except the ones kernels.h documents
 * as optional, and the CMake test kernel_slots_used checks that the drivers call every slot.
 *
 * Buffers end at a PROT_NONE page (testutil.h) and outputs carry poisoned guard elements in
 * front, so a read or write outside [ptr, ptr + n) is caught. In-place use (y == x) must give
 * the out-of-place bits. Linked against the library objects (internal symbols); the
 * test_kernels_avx512emu variant runs the AVX-512 table under SIMDe on CPUs without AVX-512.
 */
#include "testutil.h"

#include <stddef.h>

#include "kernels.h"
#include "panmax.h"

/* ---- tolerances, in units of the element type's epsilon (2^-23, 2^-52) ------------------------ */

/* exp: the AVX2 rr2-p5 float exp is ~1.5 ulp, the table exps ~1 ulp, libm ~0.5 ulp. */
#define EXP_ULPS 3.0L
/* EXACT exps: each output rounded about once (the float kernels carry x - m and lse in pairs). */
#define EXACT_ULPS 2.0L
/* A sum of n terms in double, relative to sum |term|: n roundings of 2^-53 at worst. Float rows
 * may also add pairs of float vectors before widening (kernels.h): 2 float roundings. */
#define SUM_FLOAT_PAIR_ULPS 2.0L
/* subexp, axpbyc: an ISA may round the product before the sum or fuse both. */
#define FMA_ULPS 2.0L

/* ---- the slots ------------------------------------------------------------------------------- */

typedef struct slot_info {
    const char *name;
    size_t offset; /* in pm_kernels_f32 and pm_kernels_f64 (same order, both) */
    int optional;  /* kernels.h: "Optional: NULL where an ISA has none" */
} slot_info;

#define SLOT(name, optional) {#name, offsetof(pm_kernels_f32, name), optional}
static const slot_info SLOTS[] = {
    SLOT(rmax, 0),         SLOT(expsum_store, 0), SLOT(expsum_store_ahead, 1),
    SLOT(softmax_small, 1), SLOT(expsum, 0),      SLOT(scale, 0),
    SLOT(shiftscale, 0),   SLOT(sum, 0),          SLOT(dot, 0),
    SLOT(dotexp, 0),       SLOT(submul, 0),       SLOT(subexp, 0),
    SLOT(axpbyc, 0),       SLOT(dot3, 0),         SLOT(waxpbyc, 0),
    SLOT(expsum_exact, 0), SLOT(exp_exact, 0),
};
#define NSLOTS ((int)(sizeof SLOTS / sizeof SLOTS[0]))
/* A slot added to kernels.h without a test here fails to compile. */
_Static_assert(sizeof(pm_kernels_f32) == sizeof SLOTS / sizeof SLOTS[0] * sizeof(void (*)(void)),
               "pm_kernels_f32 has a slot that test_kernels.c does not list");
_Static_assert(sizeof(pm_kernels_f64) == sizeof(pm_kernels_f32), "f32 and f64 tables differ");

/* ---- per-ISA state --------------------------------------------------------------------------- */

static const pm_isa_table *g_t;  /* ISA under test */
static const pm_isa_table *g_sc; /* scalar */
static const tu_dtype *g_d;
#define F64 (g_d->f64)
static const char *g_isa_name = "";
static char g_ctx[160];

/* Largest error seen per (slot, type, isa), in units of the slot's tolerance (<= 1 passes). */
typedef struct stat {
    char key[48];
    long double worst;
} stat;
static stat g_stats[128];
static int g_nstats;

static void note(const char *slot, long double units)
{
    char key[48];
    snprintf(key, sizeof key, "%-18s %s %-6s", slot, g_d->name, g_isa_name);
    for (int i = 0; i < g_nstats; i++) {
        if (strcmp(g_stats[i].key, key) == 0) {
            if (units > g_stats[i].worst) {
                g_stats[i].worst = units;
            }
            return;
        }
    }
    if (g_nstats < (int)(sizeof g_stats / sizeof g_stats[0])) {
        snprintf(g_stats[g_nstats].key, sizeof g_stats[0].key, "%s", key);
        g_stats[g_nstats++].worst = units;
    }
}

/* ---- buffers ----------------------------------------------------------------------------------- */

/* GUARD poisoned elements in front of every output; the guard page is right after it. */
#define GUARD 4

typedef struct outbuf {
    unsigned char *base; /* GUARD + n elements */
    void *p;             /* base + GUARD elements */
    int64_t n;
} outbuf;

static outbuf out_new(int64_t n)
{
    outbuf o;
    o.n = n;
    o.base = talloc(g_d, n + GUARD);
    o.p = o.base + GUARD * g_d->size;
    return o;
}

static void out_poison(outbuf *o)
{
    memset(o->base, TU_POISON, (size_t)(o->n + GUARD) * g_d->size);
}

static void out_check_guard(const outbuf *o, const char *slot)
{
    CHECK(tu_is_poison(o->base, GUARD * g_d->size), "%s wrote before its output", slot);
}

static void *in_new(int64_t n)
{
    return talloc(g_d, n);
}

static long double at(const void *b, int64_t i)
{
    return tget(g_d, b, i);
}

/* ---- comparisons --------------------------------------------------------------------------------- */

/* Two returned sums are the same value (NaN matches NaN). */
static int same_sum(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static int bits_equal(const void *a, const void *b, int64_t n)
{
    return memcmp(a, b, (size_t)n * g_d->size) == 0;
}

/* |got - want| <= ulps * eps * |want| + abs_allow; NaN matches only NaN, infinities only
 * themselves. Returns the error in units of the allowance (0 when exact). */
static long double rel_units(long double got, long double want, long double ulps, long double abs_allow)
{
    if (isnan(want) || isnan(got)) {
        return isnan(want) && isnan(got) ? 0 : INFINITY;
    }
    if (isinf(want) || isinf(got)) {
        return got == want ? 0 : INFINITY;
    }
    long double err = fabsl(got - want);
    if (err == 0) {
        return 0;
    }
    long double allow = ulps * g_d->eps * fabsl(want) + abs_allow;
    return allow > 0 ? err / allow : INFINITY;
}

/* The allowance below the smallest normal: gradual underflow (kernels.h), so the result is the
 * subnormal value rounded once to the subnormal grid; a flush to 0 fails. */
static long double exp_abs_allow(long double want)
{
    return fabsl(want) < g_d->tmin ? (F64 ? DBL_TRUE_MIN : FLT_TRUE_MIN) : 0;
}

static void check_units(const char *slot, long double units, int64_t n, int64_t j, long double got,
                        long double want)
{
    note(slot, units);
    CHECK(units <= 1, "%s n=%lld j=%lld: got %.17Lg want %.17Lg (%.3Lg x tolerance)", slot,
          (long long)n, (long long)j, got, want, units);
}

/* ---- inputs ---------------------------------------------------------------------------------------- */

enum fill {
    FILL_WIDE,  /* t = x - m spread over [-L, 0], L past the underflow threshold; a few -inf */
    FILL_NAN,   /* FILL_WIDE plus one NaN */
    FILL_UNIT,  /* uniform [-1, 1] */
    FILL_EXACT, /* multiples of 2^-10 below 2^10 in magnitude: any double sum of them is exact */
    FILL_COUNT
};

/* The most negative t worth testing: a bit below the smallest subnormal result. */
static long double t_low(void)
{
    return F64 ? -760.0L : -110.0L;
}

static void fill(void *x, int64_t n, int kind, long double base)
{
    for (int64_t j = 0; j < n; j++) {
        long double v;
        switch (kind) {
        case FILL_WIDE:
        case FILL_NAN:
            v = tu_below(12) == 0 ? -INFINITY : base + tu_range((double)t_low(), 0);
            break;
        case FILL_UNIT:
            v = tu_range(-1, 1);
            break;
        default:
            v = (long double)((int64_t)tu_below(1 << 21) - (1 << 20)) / 1024.0L;
            break;
        }
        tset(g_d, x, j, v);
    }
    if (kind == FILL_NAN) {
        tset(g_d, x, tu_below(n), NAN);
    }
    if (kind == FILL_WIDE && n > 2) {
        tset(g_d, x, tu_below(n), base); /* t = 0 somewhere */
    }
}

/* max of the non-NaN entries (-inf for none) */
static long double ref_max(const void *x, int64_t n)
{
    long double m = -INFINITY;
    for (int64_t j = 0; j < n; j++) {
        long double v = at(x, j);
        if (v > m) {
            m = v;
        }
    }
    return m;
}

static int has_nan(const void *x, int64_t n)
{
    for (int64_t j = 0; j < n; j++) {
        if (isnan(at(x, j))) {
            return 1;
        }
    }
    return 0;
}

/* t = (x - m) * s rounded in the element type, as every kernel forms it. */
static long double t_of(long double x, long double m, long double s)
{
    return F64 ? (long double)(((double)x - (double)m) * (double)s)
               : (long double)(((float)x - (float)m) * (float)s);
}

/* ---- typed calls --------------------------------------------------------------------------------- */

static int slot_present(const pm_isa_table *t, const slot_info *si)
{
    const unsigned char *tbl = F64 ? (const unsigned char *)&t->f64 : (const unsigned char *)&t->f32;
    void (*fp)(void);
    memcpy(&fp, tbl + si->offset, sizeof fp);
    return fp != NULL;
}

#define CALL(t, slot, ...) (F64 ? (t)->f64.slot(__VA_ARGS__) : (t)->f32.slot(__VA_ARGS__))
/* The same, for the arguments that take the element type (m, s, c): cast per type. */
#define T_(v) (F64 ? (double)(v) : (float)(v))

static long double k_rmax(const pm_isa_table *t, const void *x, int64_t n)
{
    return F64 ? (long double)t->f64.rmax(x, n) : (long double)t->f32.rmax(x, n);
}

static double k_expsum_store(const pm_isa_table *t, int ahead, const void *x, void *y, int64_t n,
                             long double m, long double s)
{
    if (F64) {
        return (ahead ? t->f64.expsum_store_ahead : t->f64.expsum_store)(x, y, n, (double)m, (double)s);
    }
    return (ahead ? t->f32.expsum_store_ahead : t->f32.expsum_store)(x, y, n, (float)m, (float)s);
}

static double k_expsum(const pm_isa_table *t, const void *x, int64_t n, long double m, long double s)
{
    return F64 ? t->f64.expsum(x, n, (double)m, (double)s) : t->f32.expsum(x, n, (float)m, (float)s);
}

static double k_expsum_exact(const pm_isa_table *t, const void *x, int64_t n, long double m, long double s)
{
    return F64 ? t->f64.expsum_exact(x, n, (double)m, (double)s) : t->f32.expsum_exact(x, n, (float)m, (float)s);
}

static void k_exp_exact(const pm_isa_table *t, const void *x, void *y, int64_t n, long double m, long double s,
                        double lse)
{
    if (F64) {
        t->f64.exp_exact(x, y, n, (double)m, (double)s, lse);
    } else {
        t->f32.exp_exact(x, y, n, (float)m, (float)s, lse);
    }
}

static int k_softmax_small(const pm_isa_table *t, const void *x, void *y, int64_t n, long double s)
{
    return F64 ? t->f64.softmax_small(x, y, n, (double)s) : t->f32.softmax_small(x, y, n, (float)s);
}

static void k_scale(const pm_isa_table *t, const void *x, void *y, int64_t n, long double c)
{
    if (F64) {
        t->f64.scale(x, y, n, (double)c);
    } else {
        t->f32.scale(x, y, n, (float)c);
    }
}

static void k_shiftscale(const pm_isa_table *t, const void *x, void *y, int64_t n, long double m, long double s,
                         long double c)
{
    if (F64) {
        t->f64.shiftscale(x, y, n, (double)m, (double)s, (double)c);
    } else {
        t->f32.shiftscale(x, y, n, (float)m, (float)s, (float)c);
    }
}

static double k_sum(const pm_isa_table *t, const void *x, int64_t n)
{
    return F64 ? t->f64.sum(x, n) : t->f32.sum(x, n);
}

static double k_dot(const pm_isa_table *t, const void *a, const void *b, int64_t n)
{
    return F64 ? t->f64.dot(a, b, n) : t->f32.dot(a, b, n);
}

static double k_dotexp(const pm_isa_table *t, const void *a, const void *b, int64_t n)
{
    return F64 ? t->f64.dotexp(a, b, n) : t->f32.dotexp(a, b, n);
}

static void k_submul(const pm_isa_table *t, const void *p, const void *dy, void *dx, int64_t n, long double c)
{
    if (F64) {
        t->f64.submul(p, dy, dx, n, (double)c);
    } else {
        t->f32.submul(p, dy, dx, n, (float)c);
    }
}

static void k_subexp(const pm_isa_table *t, const void *a, const void *dy, void *dx, int64_t n, long double c)
{
    if (F64) {
        t->f64.subexp(a, dy, dx, n, (double)c);
    } else {
        t->f32.subexp(a, dy, dx, n, (float)c);
    }
}

static void k_axpbyc(const pm_isa_table *t, const void *e, const void *tt, void *out, int64_t n, long double a,
                     long double b, long double c)
{
    if (F64) {
        t->f64.axpbyc(e, tt, out, n, (double)a, (double)b, (double)c);
    } else {
        t->f32.axpbyc(e, tt, out, n, (float)a, (float)b, (float)c);
    }
}

static double k_dot3(const pm_isa_table *t, const void *a, const void *b, const void *c, int64_t n)
{
    return F64 ? t->f64.dot3(a, b, c, n) : t->f32.dot3(a, b, c, n);
}

static void k_waxpbyc(const pm_isa_table *t, const void *e, const void *w, const void *tt, void *out, int64_t n,
                      long double a, long double b, long double c)
{
    if (F64) {
        t->f64.waxpbyc(e, w, tt, out, n, (double)a, (double)b, (double)c);
    } else {
        t->f32.waxpbyc(e, w, tt, out, n, (float)a, (float)b, (float)c);
    }
}

/* ---- the slot tests ----------------------------------------------------------------------------- */

/* The tolerance of a sum of n terms whose magnitudes add up to mag, on top of the terms' own. */
static long double sum_allow(int64_t n, long double mag)
{
    long double rel = (long double)n * 0x1p-53L;
    if (!F64) {
        rel += SUM_FLOAT_PAIR_ULPS * g_d->eps;
    }
    return rel * mag;
}

static void test_rmax(int64_t n)
{
    void *x = in_new(n);
    for (int kind = 0; kind < FILL_COUNT; kind++) {
        fill(x, n, kind, tu_range(-50, 50));
        if (tu_below(4) == 0) {
            tset(g_d, x, tu_below(n), INFINITY);
        }
        long double got = k_rmax(g_t, x, n), want = ref_max(x, n);
        if (has_nan(x, n)) {
            /* NaN entries may be ignored or returned */
            CHECK(isnan(got) || got == want, "rmax n=%lld with NaN: got %Lg, max of the rest %Lg", (long long)n,
                  got, want);
            continue;
        }
        CHECK(got == want && got == k_rmax(g_sc, x, n), "rmax n=%lld: got %Lg want %Lg", (long long)n, got, want);
    }
    gfree(x);
}

/* expsum_store (ahead = 0) or expsum_store_ahead (1), and expsum, which must sum the same terms. */
static void test_expsum_store(int64_t n, int ahead)
{
    const char *slot = ahead ? "expsum_store_ahead" : "expsum_store";
    void *x = in_new(n), *xi = in_new(n);
    outbuf y = out_new(n), ys = out_new(n), yo = out_new(n);
    static const long double scales[] = {1.0L, 0.375L, 2.5L};
    for (int kind = 0; kind < FILL_COUNT; kind++) {
        if (kind == FILL_EXACT) {
            continue;
        }
        const long double base = tu_range(-30, 30);
        fill(x, n, kind, base);
        const long double m = ref_max(x, n);
        if (!isfinite(m)) {
            continue; /* the drivers never call exp kernels on such rows */
        }
        for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++) {
            const long double s = scales[si];
            out_poison(&y);
            out_poison(&ys);
            double sum = k_expsum_store(g_t, ahead, x, y.p, n, m, s);
            double sum_sc = k_expsum_store(g_sc, 0, x, ys.p, n, m, s);
            out_check_guard(&y, slot);
            long double mag = 0, want_sum = 0;
            for (int64_t j = 0; j < n; j++) {
                long double tj = t_of(at(x, j), m, s);
                long double ref = expl(tj), got = at(y.p, j), sc = at(ys.p, j);
                /* the scalar slot against long double, this ISA against the scalar slot */
                check_units("expsum_store scalar", rel_units(sc, ref, EXP_ULPS / 2, exp_abs_allow(ref)), n, j, sc,
                            ref);
                check_units(slot, rel_units(got, sc, EXP_ULPS, exp_abs_allow(sc)), n, j, got, sc);
                if (tj == -INFINITY) {
                    CHECK(got == 0 && !signbit(got), "%s: exp(-inf) = %Lg, not +0", slot, got);
                }
                if (tj == 0) {
                    CHECK(got == 1, "%s: exp(0) = %Lg, not 1", slot, got);
                }
                mag += fabsl(got);
                want_sum += got;
            }
            /* the sum returned is the sum of what was stored */
            check_units(slot, rel_units(sum, want_sum, 0, sum_allow(n, mag)), n, -1, sum, want_sum);
            check_units(slot, rel_units(sum, sum_sc, EXP_ULPS, sum_allow(n, mag) + n * exp_abs_allow(0)), n, -1,
                        sum, sum_sc);
            if (ahead) {
                /* the same kernel plus prefetches: the same bits */
                out_poison(&yo);
                double sum_plain = k_expsum_store(g_t, 0, x, yo.p, n, m, s);
                CHECK(same_sum(sum, sum_plain) && bits_equal(y.p, yo.p, n), "expsum_store_ahead n=%lld differs from expsum_store",
                      (long long)n);
                continue;
            }
            /* in place: the same bits */
            memcpy(xi, x, (size_t)n * g_d->size);
            double sum_in = k_expsum_store(g_t, 0, xi, xi, n, m, s);
            CHECK(same_sum(sum_in, sum) && bits_equal(xi, y.p, n), "expsum_store n=%lld in place differs", (long long)n);
            /* expsum: the same terms, not stored */
            double es = k_expsum(g_t, x, n, m, s);
            check_units("expsum", rel_units(es, want_sum, 0, sum_allow(n, mag)), n, -1, es, want_sum);
            double es_sc = k_expsum(g_sc, x, n, m, s);
            check_units("expsum", rel_units(es, es_sc, EXP_ULPS, sum_allow(n, mag) + n * exp_abs_allow(0)), n, -1,
                        es, es_sc);
            if (kind == FILL_NAN) {
                CHECK(isnan(sum) && isnan(es), "a NaN entry must make the exp sums NaN (got %g, %g)", sum, es);
            }
        }
    }
    gfree(x);
    gfree(xi);
    gfree(y.base);
    gfree(ys.base);
    gfree(yo.base);
}

/* softmax_small (n <= 16): the same bits as this ISA's general path; 0 and nothing written for
 * rows that are not finite or whose max is so large that x - max may overflow. */
static void test_softmax_small(int64_t n)
{
    if (n > 16) {
        return;
    }
    void *x = in_new(n), *xi = in_new(n);
    outbuf y = out_new(n), yg = out_new(n);
    for (int kind = 0; kind < FILL_COUNT + 4; kind++) {
        const long double s = kind & 1 ? 1.0L : 0.625L;
        if (kind < FILL_COUNT) {
            fill(x, n, kind, tu_range(-30, 30));
        } else if (kind == FILL_COUNT + 3) {
            /* a max near T_MAX: x - max may overflow, the general path must take it */
            fill(x, n, FILL_UNIT, 0);
            tset(g_d, x, tu_below(n), g_d->tmax * 0.75L);
        } else {
            /* +inf, all -inf, NaN rows: not finite */
            fill(x, n, FILL_UNIT, 0);
            long double v = kind == FILL_COUNT ? INFINITY : kind == FILL_COUNT + 1 ? -INFINITY : NAN;
            if (kind == FILL_COUNT + 1) {
                for (int64_t j = 0; j < n; j++) {
                    tset(g_d, x, j, v);
                }
            } else {
                tset(g_d, x, tu_below(n), v);
            }
        }
        out_poison(&y);
        int ok = k_softmax_small(g_t, x, y.p, n, s);
        out_check_guard(&y, "softmax_small");
        long double m = k_rmax(g_t, x, n);
        /* -T_MAX - m in the element type: infinite when x - m may overflow */
        int shift_safe = F64 ? isfinite(-DBL_MAX - (double)m) : isfinite(-FLT_MAX - (float)m);
        int finite_row = isfinite(m) && !has_nan(x, n) && shift_safe;
        if (!finite_row) {
            CHECK(!ok, "softmax_small n=%lld accepted a row that is not finite", (long long)n);
        }
        if (!ok) {
            CHECK(tu_is_poison(y.p, (size_t)n * g_d->size), "softmax_small n=%lld returned 0 but wrote", (long long)n);
            CHECK(!finite_row, "softmax_small n=%lld refused a finite row", (long long)n);
            continue;
        }
        out_poison(&yg);
        double sum = k_expsum_store(g_t, 0, x, yg.p, n, m, s);
        k_scale(g_t, yg.p, yg.p, n, T_(1.0 / sum));
        CHECK(bits_equal(y.p, yg.p, n), "softmax_small n=%lld differs from rmax + expsum_store + scale", (long long)n);
        memcpy(xi, x, (size_t)n * g_d->size);
        CHECK(k_softmax_small(g_t, xi, xi, n, s) && bits_equal(xi, y.p, n), "softmax_small n=%lld in place differs",
              (long long)n);
    }
    gfree(x);
    gfree(xi);
    gfree(y.base);
    gfree(yg.base);
}

/* scale, shiftscale, submul: the same IEEE operations as the scalar kernel, so the same bits. */
static void test_elementwise(int64_t n)
{
    void *a = in_new(n), *b = in_new(n), *ai = in_new(n), *bi = in_new(n);
    outbuf y = out_new(n), ys = out_new(n);
    for (int kind = 0; kind < FILL_COUNT; kind++) {
        fill(a, n, kind, tu_range(-10, 10));
        fill(b, n, FILL_UNIT, 0);
        const long double c = tu_range(-3, 3), m = tu_range(-3, 3), s = tu_range(0.1, 4);
        /* scale */
        out_poison(&y);
        k_scale(g_t, a, y.p, n, c);
        k_scale(g_sc, a, ys.p, n, c);
        out_check_guard(&y, "scale");
        CHECK(bits_equal(y.p, ys.p, n), "scale n=%lld differs from scalar", (long long)n);
        memcpy(ai, a, (size_t)n * g_d->size);
        k_scale(g_t, ai, ai, n, c);
        CHECK(bits_equal(ai, y.p, n), "scale n=%lld in place differs", (long long)n);
        note("scale", 0);
        /* shiftscale */
        out_poison(&y);
        k_shiftscale(g_t, a, y.p, n, m, s, c);
        k_shiftscale(g_sc, a, ys.p, n, m, s, c);
        out_check_guard(&y, "shiftscale");
        CHECK(bits_equal(y.p, ys.p, n), "shiftscale n=%lld differs from scalar", (long long)n);
        memcpy(ai, a, (size_t)n * g_d->size);
        k_shiftscale(g_t, ai, ai, n, m, s, c);
        CHECK(bits_equal(ai, y.p, n), "shiftscale n=%lld in place differs", (long long)n);
        note("shiftscale", 0);
        /* submul: dx = p * (dy - c), dx may be p or dy */
        out_poison(&y);
        k_submul(g_t, a, b, y.p, n, c);
        k_submul(g_sc, a, b, ys.p, n, c);
        out_check_guard(&y, "submul");
        CHECK(bits_equal(y.p, ys.p, n), "submul n=%lld differs from scalar", (long long)n);
        memcpy(ai, a, (size_t)n * g_d->size);
        memcpy(bi, b, (size_t)n * g_d->size);
        k_submul(g_t, ai, b, ai, n, c);
        k_submul(g_t, a, bi, bi, n, c);
        CHECK(bits_equal(ai, y.p, n) && bits_equal(bi, y.p, n), "submul n=%lld in place differs", (long long)n);
        for (int64_t j = 0; j < n; j++) {
            long double want = at(a, j) * (at(b, j) - (long double)T_(c));
            check_units("submul scalar", rel_units(at(ys.p, j), want, 2, g_d->tmin), n, j, at(ys.p, j), want);
        }
        note("submul", 0);
    }
    gfree(a);
    gfree(b);
    gfree(ai);
    gfree(bi);
    gfree(y.base);
    gfree(ys.base);
}

/* sum and dot: bit for bit on exactly summable inputs, within the accumulation error otherwise. */
static void test_sums(int64_t n)
{
    void *a = in_new(n), *b = in_new(n);
    for (int kind = 0; kind < FILL_COUNT; kind++) {
        if (kind == FILL_WIDE || kind == FILL_NAN) {
            fill(a, n, FILL_UNIT, 0);
            for (int64_t j = 0; j < n; j++) {
                tset(g_d, a, j, at(a, j) * powl(2, (long double)tu_below(40) - 20));
            }
            if (kind == FILL_NAN) {
                tset(g_d, a, tu_below(n), NAN);
            }
        } else {
            fill(a, n, kind, 0);
        }
        fill(b, n, kind == FILL_EXACT ? FILL_EXACT : FILL_UNIT, 0);
        double s = k_sum(g_t, a, n), s_sc = k_sum(g_sc, a, n);
        double d = k_dot(g_t, a, b, n), d_sc = k_dot(g_sc, a, b, n);
        long double ref_s = 0, mag_s = 0, ref_d = 0, mag_d = 0;
        for (int64_t j = 0; j < n; j++) {
            ref_s += at(a, j);
            mag_s += fabsl(at(a, j));
            ref_d += at(a, j) * at(b, j);
            mag_d += fabsl(at(a, j) * at(b, j));
        }
        if (kind == FILL_EXACT) {
            CHECK(s == s_sc && s == ref_s, "sum n=%lld of exact values: %.17g, scalar %.17g, exact %.17Lg", (long long)n,
                  s, s_sc, ref_s);
            CHECK(d == d_sc && d == ref_d, "dot n=%lld of exact values: %.17g, scalar %.17g, exact %.17Lg", (long long)n,
                  d, d_sc, ref_d);
            note("sum", 0);
            note("dot", 0);
            continue;
        }
        /* the terms are exact in double (float * float too), so only the additions round */
        long double as = n * 0x1p-53L * mag_s, ad = n * 0x1p-53L * mag_d;
        check_units("sum", rel_units(s, ref_s, 0, as), n, -1, s, ref_s);
        check_units("sum scalar", rel_units(s_sc, ref_s, 0, as), n, -1, s_sc, ref_s);
        /* f64 products round once more each (2^-53 relative); float products are exact */
        const long double prod = F64 ? 0x1p-53L * mag_d : 0;
        check_units("dot", rel_units(d, ref_d, 0, ad + prod), n, -1, d, ref_d);
        check_units("dot scalar", rel_units(d_sc, ref_d, 0, ad + prod), n, -1, d_sc, ref_d);
    }
    gfree(a);
    gfree(b);
}

/* dotexp, subexp (a = log-probabilities, a <= 0) and axpbyc. */
static void test_exp_products(int64_t n)
{
    void *a = in_new(n), *b = in_new(n), *ai = in_new(n), *bi = in_new(n);
    outbuf y = out_new(n), ys = out_new(n);
    for (int kind = 0; kind < FILL_COUNT; kind++) {
        if (kind == FILL_EXACT) {
            continue;
        }
        fill(a, n, kind, 0); /* log-probabilities: a <= 0, some -inf, maybe a NaN */
        for (int64_t j = 0; j < n; j++) {
            tset(g_d, a, j, -fabsl(at(a, j)));
        }
        fill(b, n, FILL_UNIT, 0);
        const long double c = tu_range(-2, 2);
        /* dotexp */
        double d = k_dotexp(g_t, a, b, n), d_sc = k_dotexp(g_sc, a, b, n);
        long double ref = 0, mag = 0;
        for (int64_t j = 0; j < n; j++) {
            long double e = expl(at(a, j));
            ref += e * at(b, j);
            mag += fabsl(e * at(b, j));
        }
        long double allow = EXP_ULPS * g_d->eps * mag + sum_allow(n, mag) + n * g_d->tmin;
        check_units("dotexp", rel_units(d, d_sc, 0, allow), n, -1, d, d_sc);
        check_units("dotexp scalar", rel_units(d_sc, ref, 0, allow), n, -1, d_sc, ref);
        /* subexp: dx = dy - exp(a) * c; dx may be a or dy */
        out_poison(&y);
        k_subexp(g_t, a, b, y.p, n, c);
        k_subexp(g_sc, a, b, ys.p, n, c);
        out_check_guard(&y, "subexp");
        for (int64_t j = 0; j < n; j++) {
            long double e = expl(at(a, j)), dy = at(b, j);
            long double want = dy - e * (long double)T_(c);
            long double allow_j = (EXP_ULPS + FMA_ULPS) * g_d->eps * (fabsl(e * c) + fabsl(dy)) + g_d->tmin;
            check_units("subexp", rel_units(at(y.p, j), at(ys.p, j), 0, allow_j), n, j, at(y.p, j), at(ys.p, j));
            check_units("subexp scalar", rel_units(at(ys.p, j), want, 0, allow_j), n, j, at(ys.p, j), want);
        }
        memcpy(ai, a, (size_t)n * g_d->size);
        memcpy(bi, b, (size_t)n * g_d->size);
        k_subexp(g_t, ai, b, ai, n, c);
        k_subexp(g_t, a, bi, bi, n, c);
        CHECK(bits_equal(ai, y.p, n) && bits_equal(bi, y.p, n), "subexp n=%lld in place differs", (long long)n);
        /* axpbyc: out = e * a - t * b - c; out may be e */
        const long double ka = tu_range(-2, 2), kb = tu_range(-2, 2);
        fill(a, n, FILL_UNIT, 0);
        out_poison(&y);
        k_axpbyc(g_t, a, b, y.p, n, ka, kb, c);
        k_axpbyc(g_sc, a, b, ys.p, n, ka, kb, c);
        out_check_guard(&y, "axpbyc");
        for (int64_t j = 0; j < n; j++) {
            long double p1 = at(a, j) * (long double)T_(ka), p2 = at(b, j) * (long double)T_(kb);
            long double want = p1 - p2 - (long double)T_(c);
            long double allow_j = FMA_ULPS * g_d->eps * (fabsl(p1) + fabsl(p2) + fabsl(c)) + g_d->tmin;
            check_units("axpbyc", rel_units(at(y.p, j), at(ys.p, j), 0, allow_j), n, j, at(y.p, j), at(ys.p, j));
            check_units("axpbyc scalar", rel_units(at(ys.p, j), want, 0, allow_j), n, j, at(ys.p, j), want);
        }
        memcpy(ai, a, (size_t)n * g_d->size);
        k_axpbyc(g_t, ai, b, ai, n, ka, kb, c);
        CHECK(bits_equal(ai, y.p, n), "axpbyc n=%lld in place differs", (long long)n);
    }
    gfree(a);
    gfree(b);
    gfree(ai);
    gfree(bi);
    gfree(y.base);
    gfree(ys.base);
}

/* dot3 and waxpbyc (weighted cross-entropy): w >= 0 class weights, t targets, z logits. */
static void test_weighted(int64_t n)
{
    void *w = in_new(n), *t = in_new(n), *z = in_new(n), *ei = in_new(n);
    outbuf y = out_new(n), ys = out_new(n);
    for (int kind = 0; kind < FILL_COUNT; kind++) {
        fill(w, n, kind == FILL_EXACT ? FILL_EXACT : FILL_UNIT, 0);
        fill(t, n, kind == FILL_EXACT ? FILL_EXACT : FILL_UNIT, 0);
        for (int64_t j = 0; j < n; j++) {
            tset(g_d, w, j, fabsl(at(w, j)));
            tset(g_d, t, j, fabsl(at(t, j)));
        }
        /* exact: (2^-10 multiples below 2^10)^2 times small integers, sums exact in double */
        if (kind == FILL_EXACT) {
            for (int64_t j = 0; j < n; j++) {
                tset(g_d, z, j, (long double)((int64_t)tu_below(64) - 32));
            }
        } else {
            fill(z, n, kind == FILL_NAN ? FILL_NAN : FILL_UNIT, 0);
        }
        double d = k_dot3(g_t, w, t, z, n), d_sc = k_dot3(g_sc, w, t, z, n);
        long double ref = 0, mag = 0;
        for (int64_t j = 0; j < n; j++) {
            ref += at(w, j) * at(t, j) * at(z, j);
            mag += fabsl(at(w, j) * at(t, j) * at(z, j));
        }
        if (kind == FILL_EXACT && !F64) {
            /* float products of these are exact in double, and so are their sums */
            CHECK(d == d_sc && d == ref, "dot3 n=%lld of exact values: %.17g, scalar %.17g, exact %.17Lg",
                  (long long)n, d, d_sc, ref);
            note("dot3", 0);
        } else {
            long double allow = (2 + n) * 0x1p-53L * mag; /* two products and n sums, in double */
            check_units("dot3", rel_units(d, d_sc, 0, 2 * allow), n, -1, d, d_sc);
            check_units("dot3 scalar", rel_units(d_sc, ref, 0, allow), n, -1, d_sc, ref);
        }
        /* waxpbyc: out = e * a - w * (t * b + c); out may be e */
        const long double a = tu_range(-2, 2), b = tu_range(0, 2), c = tu_range(0, 1);
        out_poison(&y);
        k_waxpbyc(g_t, z, w, t, y.p, n, a, b, c);
        k_waxpbyc(g_sc, z, w, t, ys.p, n, a, b, c);
        out_check_guard(&y, "waxpbyc");
        for (int64_t j = 0; j < n; j++) {
            long double p1 = at(z, j) * (long double)T_(a), q = at(t, j) * (long double)T_(b) + (long double)T_(c);
            long double want = p1 - at(w, j) * q;
            long double allow_j = (FMA_ULPS + 1) * g_d->eps * (fabsl(p1) + fabsl(at(w, j) * q)) + g_d->tmin;
            check_units("waxpbyc", rel_units(at(y.p, j), at(ys.p, j), 0, allow_j), n, j, at(y.p, j), at(ys.p, j));
            check_units("waxpbyc scalar", rel_units(at(ys.p, j), want, 0, allow_j), n, j, at(ys.p, j), want);
        }
        memcpy(ei, z, (size_t)n * g_d->size);
        k_waxpbyc(g_t, ei, w, t, ei, n, a, b, c);
        CHECK(bits_equal(ei, y.p, n), "waxpbyc n=%lld in place differs", (long long)n);
    }
    gfree(w);
    gfree(t);
    gfree(z);
    gfree(ei);
    gfree(y.base);
    gfree(ys.base);
}

/* expsum_exact and exp_exact: the EXACT pair; t = (x - m) * s carried without rounding x - m. */
static void test_exact(int64_t n)
{
    void *x = in_new(n);
    outbuf y = out_new(n), ys = out_new(n);
    static const long double scales[] = {1.0L, 0.375L, 2.5L};
    for (int kind = 0; kind < FILL_COUNT; kind++) {
        if (kind == FILL_EXACT) {
            continue;
        }
        /* entries of both signs: x - m rounds in the element type, which EXACT must not see */
        fill(x, n, kind, tu_range(-60, 60));
        const long double m = ref_max(x, n);
        if (!isfinite(m)) {
            continue;
        }
        for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++) {
            const long double s = (long double)T_(scales[si]);
            double sum = k_expsum_exact(g_t, x, n, m, s), sum_sc = k_expsum_exact(g_sc, x, n, m, s);
            long double ref = 0;
            for (int64_t j = 0; j < n; j++) {
                ref += expl((at(x, j) - m) * s); /* x - m exact in long double */
            }
            long double allow = EXACT_ULPS * g_d->eps * ref + sum_allow(n, ref) + n * g_d->tmin;
            check_units("expsum_exact", rel_units(sum, sum_sc, 0, allow), n, -1, sum, sum_sc);
            check_units("expsum_exact scalar", rel_units(sum_sc, ref, 0, allow), n, -1, sum_sc, ref);
            if (kind == FILL_NAN) {
                CHECK(isnan(sum), "expsum_exact with a NaN entry: %g", sum);
                continue;
            }
            const double lse = log(sum_sc);
            out_poison(&y);
            k_exp_exact(g_t, x, y.p, n, m, s, lse);
            k_exp_exact(g_sc, x, ys.p, n, m, s, lse);
            out_check_guard(&y, "exp_exact");
            for (int64_t j = 0; j < n; j++) {
                long double want = expl((at(x, j) - m) * s - (long double)lse);
                check_units("exp_exact", rel_units(at(y.p, j), at(ys.p, j), EXACT_ULPS, exp_abs_allow(want)), n, j,
                            at(y.p, j), at(ys.p, j));
                check_units("exp_exact scalar", rel_units(at(ys.p, j), want, EXACT_ULPS, exp_abs_allow(want)), n, j,
                            at(ys.p, j), want);
            }
        }
    }
    gfree(x);
    gfree(y.base);
    gfree(ys.base);
}

/* ---- driver ------------------------------------------------------------------------------------- */

/* Returns 0 when a slot that must be there is NULL (the slot tests would call it). */
static int check_structure(void)
{
    int ok = 1;
    for (int i = 0; i < NSLOTS; i++) {
        CHECK(SLOTS[i].offset == (size_t)i * sizeof(void (*)(void)), "slot %s is not at position %d of the table",
              SLOTS[i].name, i);
        if (!SLOTS[i].optional) {
            CHECK(slot_present(g_t, &SLOTS[i]), "%s %s: slot %s is NULL (only optional slots may be)", g_isa_name,
                  g_d->name, SLOTS[i].name);
            ok &= slot_present(g_t, &SLOTS[i]);
        }
    }
    return ok;
}

static void run_type(void)
{
    snprintf(g_ctx, sizeof g_ctx, "%s %s table", g_isa_name, g_d->name);
    tu_context = g_ctx;
    if (!check_structure()) {
        return;
    }
    const int has_ahead = slot_present(g_t, &SLOTS[2]), has_small = slot_present(g_t, &SLOTS[3]);
    static const int64_t beyond[] = {63, 64, 65, 95, 96, 97, 127, 128, 129, 191, 193, 255, 256, 257, 1001, 4099};
    const int64_t nb = (int64_t)(sizeof beyond / sizeof beyond[0]);
    for (int64_t i = 0; i < 48 + nb; i++) {
        const int64_t n = i < 48 ? i + 1 : beyond[i - 48];
        snprintf(g_ctx, sizeof g_ctx, "%s %s n=%lld", g_isa_name, g_d->name, (long long)n);
        tu_context = g_ctx;
        test_rmax(n);
        test_expsum_store(n, 0);
        if (has_ahead) {
            test_expsum_store(n, 1);
        }
        if (has_small) {
            test_softmax_small(n);
        }
        test_elementwise(n);
        test_sums(n);
        test_exp_products(n);
        test_weighted(n);
        test_exact(n);
    }
}

int main(void)
{
    tu_seed_init("test_kernels");
    unsetenv("PANMAX_ISA");
    g_sc = pm_table_for(PANMAX_ISA_SCALAR);
    CHECK(g_sc != NULL, "no scalar table");
    int ran = 0;
    for (int32_t isa = PANMAX_ISA_SCALAR; isa <= PANMAX_ISA_NEON; isa++) {
#if defined(PANMAX_TEST_REQUIRE_ISA)
        if (isa != PANMAX_TEST_REQUIRE_ISA) {
            continue; /* the emulation build tests only the emulated ISA */
        }
        CHECK(panmax_isa_supported(isa), "this build must provide ISA %s", panmax_isa_name(isa));
#endif
        if (!panmax_isa_supported(isa)) {
            printf("ISA %-6s: not supported here, skipped\n", panmax_isa_name(isa));
            continue;
        }
        g_t = pm_table_for(isa);
        g_isa_name = panmax_isa_name(isa);
        const tu_dtype *types[] = {&TU_F32, &TU_F64};
        for (int ti = 0; ti < 2; ti++) {
            g_d = types[ti];
            long before = tu_failures;
            run_type();
            printf("ISA %-6s %s: %s\n", g_isa_name, g_d->name, tu_failures == before ? "ok" : "FAILED");
        }
        ran++;
    }
    printf("\nlargest error per slot, in units of its tolerance (<= 1 passes; 0: bit for bit):\n");
    for (int i = 0; i < g_nstats; i++) {
        printf("  %s %8.3Lf\n", g_stats[i].key, g_stats[i].worst);
    }
    printf("\n%d ISA(s), %ld checks, %ld failures\n", ran, tu_checks, tu_failures);
    return tu_failures || ran == 0 ? 1 : 0;
}
