/*
 * Internal: what the entry points (api.c, api_generic.h) and the row drivers (rows.c,
 * rows_generic.h) share. Not installed, not seen by jextract.
 *
 * api.c checks every argument and chooses the kernel table; it computes nothing. The drivers
 * compute, built only from the kernels of that table, so every ISA follows the same
 * special-value logic. Drivers trust their arguments (they were checked), with one exception:
 * a value that lives in caller memory and is used as an index (a class label) is read once per
 * use and bounds-checked there, because the caller may change it between the check and the use.
 */
#ifndef PANMAX_ROWS_H
#define PANMAX_ROWS_H

#include <stdint.h>

#include "kernels.h"

#define PANMAX_API __attribute__((visibility("default")))

/* ---- per-type naming, for the *_generic.h files --------------------------------------------
 * Those files are included once per element type with PM_T (float, double), PM_S (f32, f64)
 * and PM_T_MIN (FLT_MIN, DBL_MIN) defined; these macros expand at their use, so one definition
 * serves both inclusions. */
#define PM_CAT_(a, b) a##b
#define PM_CAT(a, b) PM_CAT_(a, b)
/* pm_xxx_f32 (internal) and panmax_xxx_f32 (public). */
#define PM_FN(name) PM_CAT(PM_CAT(name, _), PM_S)
#define PM_PUB(name) PM_CAT(PM_CAT(panmax_, name), PM_CAT(_, PM_S))
#define PM_KT PM_CAT(pm_kernels_, PM_S)
#define PM_ES ((int64_t)sizeof(PM_T))
#define PM_INF ((PM_T)INFINITY)
#define PM_NAN ((PM_T)NAN)

/* ---- the drivers (rows_generic.h), one set per element type -------------------------------- */

#define PM_DECLARE_ROWS(T, S)                                                                    \
    /* y = softmax(z / temperature) (log-softmax with log_out) per row, z = x masked and biased \
     * as panmax_softmax_ex_* documents; mask and bias may be NULL. */                          \
    void pm_softmax_rows_##S(const pm_kernels_##S *kt, const T *x, int64_t x_stride, T *y,      \
                             int64_t y_stride, int64_t rows, int64_t cols, T temperature,       \
                             const uint8_t *mask, int64_t mask_stride, const T *bias,           \
                             int64_t bias_stride, int log_out, int exact);                      \
    void pm_logsumexp_rows_##S(const pm_kernels_##S *kt, const T *x, int64_t x_stride, T *out,  \
                               int64_t rows, int64_t cols);                                     \
    /* which: PM_BWD_SOFTMAX, PM_BWD_LOG_SOFTMAX, PM_JVP_LOG_SOFTMAX. */                       \
    void pm_backward_rows_##S(const pm_kernels_##S *kt, int which, const T *a, int64_t a_stride, \
                              const T *b, int64_t b_stride, T *out, int64_t out_stride,         \
                              int64_t rows, int64_t cols);                                      \
    void pm_jacobian_rows_##S(const pm_kernels_##S *kt, const T *x, int64_t x_stride, T *jac,   \
                              int64_t rows, int64_t cols, int log_jac, int from_logits);        \
    /* PANMAX_OK or PANMAX_ERR_NO_MEMORY (nothing written then). */                            \
    int32_t pm_jacobian_matmul_##S(const pm_kernels_##S *kt, const T *p, int64_t n, const T *v, \
                                   int64_t v_stride, T *out, int64_t out_stride, int64_t k,     \
                                   int log_jac);                                                \
    /* weight: NULL or cols class weights; denom: the MEAN denominator the entry point computed \
     * while checking the labels (counted rows, their weight sum, or rows for soft targets). */  \
    void pm_cross_entropy_rows_##S(const pm_kernels_##S *kt, const T *logits, int64_t x_stride, \
                                   const int64_t *labels, const T *target,                      \
                                   int64_t target_stride, const T *weight, T *grad,             \
                                   int64_t grad_stride, T *loss, int64_t rows, int64_t cols,    \
                                   int64_t ignore_index, T label_smoothing, int32_t reduction,  \
                                   double denom);

enum pm_backward_kind {
    PM_BWD_SOFTMAX = 0,     /* dx = p * (dy - <p, dy>) */
    PM_BWD_LOG_SOFTMAX = 1, /* dx = dy - exp(logp) * sum(dy) */
    PM_JVP_LOG_SOFTMAX = 2  /* out = v - <exp(logp), v> */
};

PM_DECLARE_ROWS(float, f32)
PM_DECLARE_ROWS(double, f64)

/* A label read from caller memory, once: the volatile load keeps the compiler from reading it
 * again, so the value checked is the value used (another thread may change the array). */
static inline int64_t pm_load_label(const int64_t *p)
{
    return *(const volatile int64_t *)p;
}

/* rows.c: the text of panmax_blas_info() (rows.c is the only file that sees cblas.h). */
void pm_blas_describe(char *buf, int64_t size);

#endif /* PANMAX_ROWS_H */
