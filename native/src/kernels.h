/*
 * Internal kernel table: the contract between the drivers (ops.c) and the per-ISA kernel files
 * (kernels/scalar.c, kernels/avx2.c, kernels/avx512.c, kernels/neon.c). Not installed, not seen by
 * jextract.
 *
 * Kernels work on ONE contiguous row of n >= 1 elements and trust their caller (assert only):
 *   - they never read or write outside [ptr, ptr + n) (tails use masked loads/stores);
 *   - an output may be the same pointer as an input (elementwise in-place), never partially
 *     overlapping;
 *   - sums are accumulated in double (or in float pairs flushed to double every few vectors),
 *     so a float row of any length keeps its sum within ~1 ulp;
 *   - exp(t) is only ever evaluated for t <= 0 or t = NaN (t = (x - m) * s with m = row max):
 *     it must return NaN for NaN, +0 for t = -inf and for t below the float/double
 *     underflow threshold (flush of subnormal results to 0 is allowed), 1 for t = 0, and be
 *     within ~1 ulp relative elsewhere. Clamping must not swallow NaN.
 *
 * Naming: pm_<family>_<dtype>__<isa> (double underscore separates what from how).
 */
#ifndef PANMAX_KERNELS_H
#define PANMAX_KERNELS_H

#include <stdint.h>

#define PM_DECLARE_KERNELS(T, S)                                                              \
    /* max over the row; NaN entries may be ignored or returned (the driver copes). */          \
    typedef T (*pm_rmax_##S##_fn)(const T *x, int64_t n);                                      \
    /* y = exp((x - m) * s); returns sum(y) accumulated in double. y may equal x. */            \
    typedef double (*pm_expsum_store_##S##_fn)(const T *x, T *y, int64_t n, T m, T s);          \
    /* expsum_store that also prefetches the n elements after x (the blocked form's next block, \
     * fetched while this one is compute-bound). Optional: NULL where an ISA has none. */      \
    typedef double (*pm_expsum_store_ahead_##S##_fn)(const T *x, T *y, int64_t n, T m, T s);    \
    /* y = softmax(x * s) for n <= 16 in registers, results identical to the general path's;    \
     * returns 0, writing nothing, when the row is not finite (the caller then takes the general \
     * path). y may equal x. Optional: NULL where an ISA has none. */                           \
    typedef int (*pm_softmax_small_##S##_fn)(const T *x, T *y, int64_t n, T s);                 \
    /* returns sum(exp((x - m) * s)) without storing. */                                       \
    typedef double (*pm_expsum_##S##_fn)(const T *x, int64_t n, T m, T s);                      \
    /* y = exp((x - m) * s) * c. y may equal x. */                                             \
    typedef void (*pm_expscale_##S##_fn)(const T *x, T *y, int64_t n, T m, T s, T c);           \
    /* y = x * c. y may equal x. */                                                            \
    typedef void (*pm_scale_##S##_fn)(const T *x, T *y, int64_t n, T c);                        \
    /* y = (x - m) * s - c  (log-softmax output). y may equal x. */                            \
    typedef void (*pm_shiftscale_##S##_fn)(const T *x, T *y, int64_t n, T m, T s, T c);         \
    /* returns sum(x) in double. */                                                            \
    typedef double (*pm_sum_##S##_fn)(const T *x, int64_t n);                                   \
    /* returns sum(a * b) in double. */                                                        \
    typedef double (*pm_dot_##S##_fn)(const T *a, const T *b, int64_t n);                       \
    /* returns sum(exp(a) * b) in double (log-softmax JVP). */                                 \
    typedef double (*pm_dotexp_##S##_fn)(const T *a, const T *b, int64_t n);                    \
    /* dx = p * (dy - c)  (softmax VJP). dx may equal p or dy. */                              \
    typedef void (*pm_submul_##S##_fn)(const T *p, const T *dy, T *dx, int64_t n, T c);         \
    /* dx = dy - exp(a) * c  (log-softmax VJP / JVP). dx may equal a or dy. */                 \
    typedef void (*pm_subexp_##S##_fn)(const T *a, const T *dy, T *dx, int64_t n, T c);         \
    /* out = e * a - t * b - c  (cross-entropy gradient with soft targets). out may equal e. */ \
    typedef void (*pm_axpbyc_##S##_fn)(const T *e, const T *t, T *out, int64_t n, T a, T b, T c); \
    /* EXACT mode, part 1: sum(exp((x - m) * s)) where x - m is carried as an unevaluated     \
     * pair (TwoSum) so its rounding does not reach exp. */                                    \
    typedef double (*pm_expsum_exact_##S##_fn)(const T *x, int64_t n, T m, T s);                \
    /* EXACT mode, part 2: y = exp((x - m) * s - lse) with x - m and lse = log(sum) carried in \
     * extra precision, so each output is rounded once. lse is given as a double. */          \
    typedef void (*pm_exp_exact_##S##_fn)(const T *x, T *y, int64_t n, T m, T s, double lse);   \
                                                                                               \
    typedef struct pm_kernels_##S {                                                            \
        pm_rmax_##S##_fn rmax;                                                                  \
        pm_expsum_store_##S##_fn expsum_store;                                                  \
        pm_expsum_store_ahead_##S##_fn expsum_store_ahead;                                      \
        pm_softmax_small_##S##_fn softmax_small;                                                \
        pm_expsum_##S##_fn expsum;                                                              \
        pm_expscale_##S##_fn expscale;                                                          \
        pm_scale_##S##_fn scale;                                                                \
        pm_shiftscale_##S##_fn shiftscale;                                                      \
        pm_sum_##S##_fn sum;                                                                    \
        pm_dot_##S##_fn dot;                                                                    \
        pm_dotexp_##S##_fn dotexp;                                                              \
        pm_submul_##S##_fn submul;                                                              \
        pm_subexp_##S##_fn subexp;                                                              \
        pm_axpbyc_##S##_fn axpbyc;                                                              \
        pm_expsum_exact_##S##_fn expsum_exact;                                                  \
        pm_exp_exact_##S##_fn exp_exact;                                                        \
    } pm_kernels_##S;

PM_DECLARE_KERNELS(float, f32)
PM_DECLARE_KERNELS(double, f64)

/* One table per ISA; a slot an ISA does not implement keeps the scalar kernel. */
typedef struct pm_isa_table {
    const char *name;
    pm_kernels_f32 f32;
    pm_kernels_f64 f64;
} pm_isa_table;

/* Filled by each kernel file (kernels/<isa>.c). The AVX files are compiled with their ISA
 * flags only; the fill functions must execute no wide instruction themselves. */
void pm_fill_table__scalar(pm_isa_table *t);
void pm_fill_table__avx2(pm_isa_table *t);   /* defined only when PANMAX_HAVE_AVX2 */
void pm_fill_table__avx512(pm_isa_table *t); /* defined only when PANMAX_HAVE_AVX512 */
void pm_fill_table__neon(pm_isa_table *t);   /* defined only when PANMAX_HAVE_NEON (aarch64) */

/* The aarch64 ISA's number: PANMAX_ISA_NEON = 3 of panmax.h once the header and bindings/ gain it
 * (one regeneration, on its own); until then the C side names it here. */
#define PM_ISA_NEON 3

/* dispatch.c: the table for an ISA (after panmax_isa_supported(isa) said yes), or NULL. */
const pm_isa_table *pm_table_for(int32_t isa);

#endif /* PANMAX_KERNELS_H */
