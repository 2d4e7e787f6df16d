/*
 * Internal declarations of the inference operations (top-k, argmax, sampling, classifier heads):
 * the deterministic arithmetic every implementation shares, the per-thread scratch, and the small
 * table of portable loop kernels compiled once per ISA (infer_kernels.h). Not installed, not seen
 * by jextract.
 *
 * Determinism. A sampled token must be the same on every ISA and on the pure-Java backend
 * (org.panmax.internal.JavaInference, which repeats every function below operation for operation).
 * Every value a sampling decision depends on is therefore computed here with IEEE +, -, *, / and
 * exact bit manipulation only, never with libm or the ISA kernels of kernels.h (whose exp differs by
 * an ulp between ISAs):
 *   - t = (z - m) * s in the element type (s = 1/T rounded to it), then w = pm_dexp(t) below;
 *   - weights are quantised to integers q = round(w * 2^S) and every mass is an exact sum of q in
 *     64 bits, so the order in which a vectorised loop, a histogram or a thread adds them up does
 *     not matter (S is chosen from the row length so that no sum can overflow);
 *   - the uniform draw is Philox4x32-10 (Salmon et al., SC'11), keyed by the seed, counting steps.
 * The build keeps -ffp-contract=off (-std=c11), so no multiply-add is fused behind our back; the
 * same source compiled with AVX2 flags gives the same bits as the baseline build.
 */
#ifndef PANMAX_INFER_INTERNAL_H
#define PANMAX_INFER_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- deterministic exp for t <= 0 ----------------------------------------------------------------
 *
 * exp(t) = 2^n * e^r with n = round(t / ln 2) (the 1.5 * 2^23 / 2^52 shifter rounds to nearest) and
 * r = t - n ln2 in two parts (Cody & Waite; fdlibm's ln2 split), |r| <= ln2 / 2; e^r by its Taylor
 * polynomial in Horner form, degree 6 (float: truncation <= 0.3466^7 / 7! = 1.2e-7 relative) or 13
 * (double: 4e-18). 2^n is built in the exponent field from the shifter's low bits. t is clamped
 * below at -87 (float; so n >= -126 and 2^n stays normal) or -708 (double): every t below, -inf
 * included, gives pm_dexp(clamp) ~ 1.6e-38 (float) or 3.3e-308 (double), whose quantised weight is
 * 0, so such a token is never drawn (no select in the loop: it vectorises). Relative error
 * against exp for t above the clamp: below 4e-7 (float) and 1e-15 (double); pm_dexp(0) == 1
 * exactly. Callers never pass NaN (rows containing NaN are handled before).
 */
#define PM_DEXPF_MIN (-87.0f)
#define PM_DEXP_MIN (-708.0)

static inline float pm_dexp_f32(float t)
{
    const float tc = t < PM_DEXPF_MIN ? PM_DEXPF_MIN : t;
    const float shifter = 0x1.8p23f;
    const float nf = tc * 0x1.715476p+0f + shifter; /* round(t * log2(e)) + shifter */
    const float n = nf - shifter;
    float r = tc - n * 0x1.62e4p-1f; /* exact product: ln2_hi has 16 significant bits */
    r = r - n * 0x1.7f7d1cp-20f;
    float p = 0x1.6c16c2p-10f;
    p = p * r + 0x1.111112p-7f;
    p = p * r + 0x1.555556p-5f;
    p = p * r + 0x1.555556p-3f;
    p = p * r + 0x1.0p-1f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    uint32_t bits;
    memcpy(&bits, &nf, sizeof bits);
    bits = (bits << 23) + (127u << 23); /* the shifter's low bits hold n; << 23 puts it in the exponent */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline double pm_dexp_f64(double t)
{
    const double tc = t < PM_DEXP_MIN ? PM_DEXP_MIN : t;
    const double shifter = 0x1.8p52;
    const double nf = tc * 0x1.71547652b82fep+0 + shifter;
    const double n = nf - shifter;
    double r = tc - n * 0x1.62e42feep-1; /* exact: ln2_hi has 32 significant bits */
    r = r - n * 0x1.a39ef35793c76p-33;
    double p = 0x1.6124613a86d09p-33;
    p = p * r + 0x1.1eed8eff8d898p-29;
    p = p * r + 0x1.ae64567f544e4p-26;
    p = p * r + 0x1.27e4fb7789f5cp-22;
    p = p * r + 0x1.71de3a556c734p-19;
    p = p * r + 0x1.a01a01a01a01ap-16;
    p = p * r + 0x1.a01a01a01a01ap-13;
    p = p * r + 0x1.6c16c16c16c17p-10;
    p = p * r + 0x1.1111111111111p-7;
    p = p * r + 0x1.5555555555555p-5;
    p = p * r + 0x1.5555555555555p-3;
    p = p * r + 0x1.0p-1;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t bits;
    memcpy(&bits, &nf, sizeof bits);
    bits = (bits << 52) + (UINT64_C(1023) << 52);
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* ---- quantised weights -----------------------------------------------------------------------------
 *
 * q = round-to-nearest-even(w * 2^S) for w in [0, 1]: adding C = 2^(52-S) to w gives a double whose
 * ulp is 2^-S (w + C < 2^(53-S)), so bits(w + C) - bits(C) is that integer; it is the same
 * rounding as w * 2^S + 2^52 (scaling by a power of two is exact). S = min(52, 62 - floor(log2(n)))
 * for a row of n, so that n * 2^S < 2^63: no sum of a row's q overflows a signed 64-bit integer
 * (Java's long). A token whose weight relative to the best one is below 2^-(S+1) gets q = 0 and is
 * never drawn (S = 45 at n = 256 000: below 1.4e-14).
 */
static inline int pm_quant_shift(int64_t n)
{
    int log2n = 63 - __builtin_clzll((unsigned long long)n);
    int s = 62 - log2n;
    return s > 52 ? 52 : s;
}

/* C = 2^(52-S), the offset of pm_quant. */
static inline double pm_quant_offset(int64_t n)
{
    return ldexp(1.0, 52 - pm_quant_shift(n));
}

/* bits(w + C): sums of these, less count * bits(C), are sums of q (exact modulo 2^64). */
static inline uint64_t pm_quant_bits(double w, double offset)
{
    double d = w + offset;
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

static inline uint64_t pm_quant(double w, double offset)
{
    return pm_quant_bits(w, offset) - pm_quant_bits(0.0, offset);
}

/* ---- Philox4x32-10 -------------------------------------------------------------------------------
 *
 * The 64-bit draw of (seed, step): key = (seed lo, seed hi), counter = (step lo, step hi, 0, 0);
 * result words x0 | x1 << 32. Known answers: Random123's kat_vectors (tested in test_infer.c).
 */
static inline void pm_philox4x32_10(uint32_t ctr[4], uint32_t k0, uint32_t k1)
{
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * ctr[0];
        uint64_t p1 = (uint64_t)0xCD9E8D57u * ctr[2];
        uint32_t c0 = (uint32_t)(p1 >> 32) ^ ctr[1] ^ k0;
        uint32_t c2 = (uint32_t)(p0 >> 32) ^ ctr[3] ^ k1;
        ctr[0] = c0;
        ctr[1] = (uint32_t)p1;
        ctr[2] = c2;
        ctr[3] = (uint32_t)p0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

static inline uint64_t pm_draw64(uint64_t seed, uint64_t step)
{
    uint32_t c[4] = {(uint32_t)step, (uint32_t)(step >> 32), 0, 0};
    pm_philox4x32_10(c, (uint32_t)seed, (uint32_t)(seed >> 32));
    return (uint64_t)c[0] | ((uint64_t)c[1] << 32);
}

/* A caller's uniform u in [0, 1) as the 64-bit draw: 2 * floor(u * 2^63). */
static inline uint64_t pm_draw_from_uniform(double u)
{
    return (uint64_t)(int64_t)(u * 0x1p63) << 1;
}

/* floor(r * M / 2^64): the position of the draw r in a mass M < 2^63. */
static inline uint64_t pm_scale_draw(uint64_t r, uint64_t mass)
{
    return (uint64_t)(((unsigned __int128)r * mass) >> 64);
}

/* ---- candidates ---------------------------------------------------------------------------------
 *
 * Rank order of a row: larger z first, ties to the lower index. z is stored as double for both
 * element types (a float converts exactly), q is the quantised weight (0 where unused).
 */
typedef struct pm_ent {
    double z;
    int64_t idx;
    uint64_t q;
} pm_ent;

static inline int pm_ent_before(const pm_ent *a, const pm_ent *b)
{
    return a->z > b->z || (a->z == b->z && a->idx < b->idx);
}

/* infer_select.c */
void pm_sort_rank(pm_ent *a, int64_t n);  /* rank order */
void pm_sort_index(pm_ent *a, int64_t n); /* index order */
/* Reorders a[0, n) so that its `count` best (rank order) come first, in no particular order. */
void pm_select_count(pm_ent *a, int64_t n, int64_t count);
/* The rank-order boundary of a mass: returns the position (after reordering a) of the element b
 * such that the mass of the elements ranked before b is < need <= that mass plus q_b; a[0, pos)
 * then holds exactly the elements ranked before b. need must be in [1, sum of q]. */
int64_t pm_select_mass(pm_ent *a, int64_t n, uint64_t need);

/* ---- per-thread scratch -------------------------------------------------------------------------
 *
 * One buffer per calling thread, grown on demand and kept until the thread exits (pthread key
 * destructor) or calls panmax_release_scratch(): a steady stream of calls allocates nothing. NULL
 * when it cannot be allocated. The buffer is 64-byte aligned; its contents are garbage. */
void *pm_scratch(size_t bytes);

/* ---- loop kernels compiled per ISA ------------------------------------------------------------ */

/* The largest value below x (x > -inf). */
static inline float pm_nextdown_f32(float x)
{
    return nextafterf(x, -INFINITY);
}

static inline double pm_nextdown_f64(double x)
{
    return nextafter(x, -INFINITY);
}

#define PM_INFER_BLOCK 64
/* Super-blocks of 4 blocks: maxnan()'s optional maxima and collect()'s list have one entry each. */
#define PM_SUPER (4 * PM_INFER_BLOCK)
#define PM_SUPER_COUNT(n) (((n) + PM_SUPER - 1) / PM_SUPER)

typedef struct pm_infer_kernels {
    const char *name;
    /* The row's max into *m (exact: every ISA's rmax); returns nonzero if the row has a NaN.
     * sbmax (optional): the max of each super-block of PM_SUPER entries, PM_SUPER_COUNT(n). */
    int (*maxnan_f32)(const float *z, int64_t n, float *m, float *sbmax);
    int (*maxnan_f64)(const double *z, int64_t n, double *m, double *sbmax);
    /* Returns sum(q) over the row, q = quant(dexp((z - m) * s)). With hist != NULL (4 * nb entries,
     * zeroed), also adds q to hist[b] for each entry with t = (z - m) * s >= t0 (t0 finite),
     * b = min(nb - 1, (int)(-t * inv_w)); with bsum != NULL, writes each block's sum there. */
    uint64_t (*mass_f32)(const float *z, int64_t n, float m, float s, double offset, float t0,
                         float inv_w, int32_t nb, uint64_t *hist, uint64_t *bsum);
    uint64_t (*mass_f64)(const double *z, int64_t n, double m, double s, double offset, double t0,
                         double inv_w, int32_t nb, uint64_t *hist, uint64_t *bsum);
    /* Appends to out (index order) every entry with t >= t0 and bucket <= bmax (the bucket of
     * mass(); bmax < 0: any bucket, and then t0 may be -inf) and bucket >= bmin, with its q;
     * returns how many.
     * t0 <= 0. sbmax: maxnan's super-block maxima, or NULL. sb: scratch, PM_SUPER_COUNT(n).
     * tail_q (optional, bmax < 0): an upper bound on sum(q) over the entries not appended
     * (INFINITY without sbmax). */
    int64_t (*collect_f32)(const float *z, int64_t n, float m, float s, double offset, float t0,
                           float inv_w, int32_t nb, int32_t bmin, int32_t bmax, const float *sbmax,
                           int64_t *sb, pm_ent *out, double *tail_q);
    int64_t (*collect_f64)(const double *z, int64_t n, double m, double s, double offset, double t0,
                           double inv_w, int32_t nb, int32_t bmin, int32_t bmax, const double *sbmax,
                           int64_t *sb, pm_ent *out, double *tail_q);
    /* The first index at which the running sum of q (index order) exceeds target; *q_at gets its
     * q. target must be below the row's sum(q). bsum (optional): mass()'s block sums, to skip. */
    int64_t (*walk_f32)(const float *z, int64_t n, float m, float s, double offset,
                        const uint64_t *bsum, uint64_t target, uint64_t *q_at);
    int64_t (*walk_f64)(const double *z, int64_t n, double m, double s, double offset,
                        const uint64_t *bsum, uint64_t target, uint64_t *q_at);
    /* walk over the entries ranked at or before (bz, bidx) only, the others as q = 0. */
    int64_t (*walk_kept_f32)(const float *z, int64_t n, float m, float s, double offset, float bz,
                             int64_t bidx, uint64_t target, uint64_t *q_at);
    int64_t (*walk_kept_f64)(const double *z, int64_t n, double m, double s, double offset,
                             double bz, int64_t bidx, uint64_t target, uint64_t *q_at);
    /* Offsets of the entries of z[0, n) with z > thr (strict) or z >= thr, ascending, into out
     * (room for n); returns how many. */
    /* out[i] = {max of z[i * bs, (i + 1) * bs), i, 0} for a row without NaN, bs a multiple of
     * PM_INFER_BLOCK; returns the number of blocks. */
    int64_t (*block_max_f32)(const float *z, int64_t n, int64_t bs, pm_ent *out);
    int64_t (*block_max_f64)(const double *z, int64_t n, int64_t bs, pm_ent *out);
    int64_t (*above_f32)(const float *z, int64_t n, float thr, int strict, int32_t *out);
    int64_t (*above_f64)(const double *z, int64_t n, double thr, int strict, int32_t *out);
} pm_infer_kernels;

extern const pm_infer_kernels pm_infer_kernels__base;
#if defined(PANMAX_INFER_AVX2)
extern const pm_infer_kernels pm_infer_kernels__avx2;
#endif
#if defined(PANMAX_INFER_AVX512)
extern const pm_infer_kernels pm_infer_kernels__avx512;
#endif

#endif /* PANMAX_INFER_INTERNAL_H */
