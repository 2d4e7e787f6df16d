/*
 * The row drivers for one element type, included by rows.c once per type (per_type.h) with
 * PM_T, PM_S and PM_T_MIN defined (naming macros: rows.h). No include guard on purpose.
 *
 * Each driver runs a whole call whose arguments api_generic.h has checked, one row at a time,
 * built only from the kernels of the table it is given.
 */
#ifndef PM_T
#error "rows_generic.h is included by rows.c only"
#endif

/* ---- special rows ------------------------------------------------------------------------- */

static void PM_FN(pm_fill)(PM_T *y, int64_t n, PM_T v)
{
    for (int64_t j = 0; j < n; j++) {
        y[j] = v;
    }
}

/* Classifies a row from its max m (which may or may not have skipped NaN entries). For
 * PM_ROW_PINF, *k is the number of +inf entries. */
static enum pm_row_kind PM_FN(pm_classify)(const PM_T *x, int64_t n, PM_T m, int64_t *k)
{
    *k = 0;
    if (isnan(m)) {
        return PM_ROW_NAN;
    }
    if (m == -PM_INF) {
        for (int64_t j = 0; j < n; j++) {
            if (isnan(x[j])) {
                return PM_ROW_NAN;
            }
        }
        return PM_ROW_EMPTY;
    }
    if (m == PM_INF) {
        int64_t count = 0;
        for (int64_t j = 0; j < n; j++) {
            if (isnan(x[j])) {
                return PM_ROW_NAN;
            }
            count += x[j] == PM_INF;
        }
        *k = count;
        return PM_ROW_PINF;
    }
    return PM_ROW_FINITE;
}

/* Writes the output of a non-finite row. log: log-softmax values, else probabilities.
 * y may equal x (each x[j] is read before y[j] is written). */
static void PM_FN(pm_special_row)(enum pm_row_kind kind, const PM_T *x, PM_T *y, int64_t n,
                                  int64_t k, int log_out)
{
    switch (kind) {
    case PM_ROW_NAN:
        PM_FN(pm_fill)(y, n, PM_NAN);
        break;
    case PM_ROW_EMPTY:
        PM_FN(pm_fill)(y, n, log_out ? -PM_INF : (PM_T)0);
        break;
    case PM_ROW_PINF: {
        PM_T on = log_out ? (PM_T)(-log((double)k)) : (PM_T)(1.0 / (double)k);
        PM_T off = log_out ? -PM_INF : (PM_T)0;
        for (int64_t j = 0; j < n; j++) {
            y[j] = x[j] == PM_INF ? on : off;
        }
        break;
    }
    case PM_ROW_FINITE:
        break;
    }
}

static int PM_FN(pm_has_nan)(const PM_T *x, int64_t n)
{
    for (int64_t j = 0; j < n; j++) {
        if (isnan(x[j])) {
            return 1;
        }
    }
    return 0;
}

/* ---- forward row drivers ---------------------------------------------------------------------- */

/*
 * Temperature overflow. t = (x - m) * s (s = 1/T) is formed in the element type, and with x and m
 * finite, x - m overflows to -inf when m - x > T_MAX, although (x - m) / T is an ordinary number
 * for a large enough temperature ({FLT_MAX, -FLT_MAX} at T = FLT_MAX is [0.881, 0.119]). Only a row
 * whose max m makes -T_MAX - m overflow (m >= ~T_MAX * 2^-24) can hold such an entry, and only
 * s < 1 makes it matter: with T <= 1 the true t is below -T_MAX as well, and exp(-inf) = 0,
 * log-softmax -inf, is its correctly rounded value. For a row that has one, this writes
 * z = x * 2^-P into y, and the caller runs on y with m * 2^-P and s_pre = 2^P / T: z - m 2^-P never
 * overflows; where x - m does not overflow it is exactly (x - m) * 2^-P (for such rows an x small
 * enough to scale inexactly is absorbed by m anyway), and s_pre is exactly 2^P * s wherever 1/T is
 * normal, so those entries keep their bits. s_pre is a division, so it stays accurate where 1/T
 * would be subnormal (float T > 2^126). Returns 1 when it wrote y.
 */
static int PM_FN(pm_prescale_row)(const PM_T *x, PM_T *y, int64_t n, PM_T m, PM_T s)
{
    if (!(s < (PM_T)1) || !isinf(-PM_T_MAX - m)) {
        return 0;
    }
    int over = 0;
    for (int64_t j = 0; j < n; j++) {
        over |= x[j] > -PM_INF && x[j] - m == -PM_INF;
    }
    if (!over) {
        return 0;
    }
    for (int64_t j = 0; j < n; j++) {
        y[j] = x[j] * PM_PRESCALE;
    }
    return 1;
}

/* (b - m) * s in double, for the blocked form's block factors: for double b - m can overflow as
 * x - m does (pm_prescale_row); then the prescaled difference, times s_pre. */
static double PM_FN(pm_block_shift)(PM_T b, PM_T m, PM_T s, PM_T s_pre)
{
    double d = (double)b - (double)m;
    if (isinf(d) && s < (PM_T)1) {
        return ((double)b * (double)PM_PRESCALE - (double)m * (double)PM_PRESCALE) * (double)s_pre;
    }
    return d * (double)s;
}

/*
 * Blocked softmax for rows far larger than L2 (see PM_BLOCKED_MIN_BYTES): one pass over x that,
 * per L1-sized block, takes the block max b_i and stores e = exp((x - b_i) * s) into y while
 * summing it (the second read of the block hits L1), then one pass over y that scales block i
 * by exp((b_i - M) * s) / S, with M = max b_i and S = sum_i sum_i * exp((b_i - M) * s) in double.
 * That is 1 read of x + 2 reads and 2 writes of y from memory, against 2 + 2 + 2 for the
 * three-pass form, and every exp is computed once. The exp of a block is compute-bound while the
 * max of the next one waits on memory; the expsum_store_ahead kernel (where an ISA has one)
 * prefetches the next block as it computes, which took f32 n = 4 Mi from ~3.0 to ~2.4 ms here
 * (the max pass went from 26 % to 6 % of the profile). Returns 0 (nothing written) when the
 * per-block bookkeeping cannot be allocated; the caller then runs the three-pass form.
 */
static int PM_FN(pm_softmax_blocked)(const PM_KT *kt, const PM_T *x, PM_T *y, int64_t n, PM_T s,
                                     PM_T s_pre)
{
    const int64_t block = PM_BLOCK_BYTES / PM_ES;
    const int64_t nblocks = (n + block - 1) / block;
    /* The bookkeeping lives on the stack up to PM_STACK_BLOCKS blocks (rows up to 32 MiB, 32 KiB
     * of stack at most), so the hot path does not allocate; only larger rows call malloc. */
    PM_T bmax_stack[PM_STACK_BLOCKS];
    double bsum_stack[PM_STACK_BLOCKS];
    const int on_stack = nblocks <= PM_STACK_BLOCKS;
    PM_T *bmax = on_stack ? bmax_stack : malloc((size_t)nblocks * sizeof(PM_T));
    double *bsum = on_stack ? bsum_stack : malloc((size_t)nblocks * sizeof(double));
    if (bmax == NULL || bsum == NULL) {
        if (!on_stack) {
            free(bmax);
            free(bsum);
        }
        return 0;
    }
    PM_T m = -PM_INF;
    int64_t k = 0;
    enum pm_row_kind kind = PM_ROW_FINITE;
    for (int64_t b = 0; b < nblocks && kind == PM_ROW_FINITE; b++) {
        const int64_t off = b * block, len = n - off < block ? n - off : block;
        PM_T bm = kt->rmax(x + off, len);
        bmax[b] = bm;
        bsum[b] = 0.0;
        if (isnan(bm)) {
            kind = PM_ROW_NAN;
        } else if (bm == PM_INF) {
            kind = PM_FN(pm_classify)(x, n, PM_INF, &k); /* before y is touched: y may be x */
        } else if (bm == -PM_INF) {
            /* exp(-inf - -inf) would be NaN: the block contributes 0, unless a NaN hides. */
            if (PM_FN(pm_has_nan)(x + off, len)) {
                kind = PM_ROW_NAN;
            }
        } else {
            /* The exp of a block is compute-bound and leaves memory idle: the _ahead kernel
             * fetches the next block meanwhile, so its max pass reads from cache. */
            const PM_T *xb = x + off;
            PM_T bms = bm, sb = s;
            if (PM_FN(pm_prescale_row)(xb, y + off, len, bm, s)) {
                xb = y + off;
                bms = bm * PM_PRESCALE;
                sb = s_pre;
            }
            bsum[b] = kt->expsum_store_ahead && b + 1 < nblocks
                          ? kt->expsum_store_ahead(xb, y + off, len, bms, sb)
                          : kt->expsum_store(xb, y + off, len, bms, sb);
            m = bm > m ? bm : m;
        }
    }
    double sum = 0.0;
    if (kind == PM_ROW_FINITE) {
        if (m == -PM_INF) {
            kind = PM_ROW_EMPTY;
        } else {
            for (int64_t b = 0; b < nblocks; b++) {
                if (bmax[b] != -PM_INF) {
                    sum += bsum[b] * exp(PM_FN(pm_block_shift)(bmax[b], m, s, s_pre));
                }
            }
            if (isnan(sum)) {
                kind = PM_ROW_NAN;
            }
        }
    }
    if (kind == PM_ROW_FINITE) {
        for (int64_t b = 0; b < nblocks; b++) {
            const int64_t off = b * block, len = n - off < block ? n - off : block;
            if (bmax[b] == -PM_INF) {
                PM_FN(pm_fill)(y + off, len, (PM_T)0);
            } else {
                PM_T c = (PM_T)(exp(PM_FN(pm_block_shift)(bmax[b], m, s, s_pre)) / sum);
                kt->scale(y + off, y + off, len, c);
            }
        }
    } else if (kind == PM_ROW_PINF) {
        /* pm_classify ran before any block at or after the +inf one was stored, but earlier
         * blocks may already hold exp values: in place, x is gone there. Rebuild from the
         * count: the +inf entries cannot have been overwritten, since a stored block has a
         * finite max. */
        PM_T on = (PM_T)(1.0 / (double)k);
        for (int64_t j = 0; j < n; j++) {
            y[j] = x[j] == PM_INF ? on : (PM_T)0;
        }
    } else {
        PM_FN(pm_special_row)(kind, x, y, n, 0, 0);
    }
    if (!on_stack) {
        free(bmax);
        free(bsum);
    }
    return 1;
}

/* Max and sum of exp((x - m) * s) for the log-softmax/logsumexp forward (no store). Where x - m
 * overflows (pm_prescale_row), *x, the max and *s are replaced by the prescaled row in y, its max
 * and s_pre; y may be NULL when s >= 1. */
static enum pm_row_kind PM_FN(pm_max_sum)(const PM_KT *kt, const PM_T **x, PM_T *y, int64_t n,
                                          PM_T *s, PM_T s_pre, int exact, PM_T *m_out,
                                          double *sum_out, int64_t *k)
{
    PM_T m = kt->rmax(*x, n);
    enum pm_row_kind kind = PM_FN(pm_classify)(*x, n, m, k);
    if (kind != PM_ROW_FINITE) {
        return kind;
    }
    if (y && PM_FN(pm_prescale_row)(*x, y, n, m, *s)) {
        *x = y;
        m *= PM_PRESCALE;
        *s = s_pre;
    }
    double sum = exact ? kt->expsum_exact(*x, n, m, *s) : kt->expsum(*x, n, m, *s);
    if (isnan(sum)) {
        return PM_ROW_NAN;
    }
    *m_out = m;
    *sum_out = sum;
    return PM_ROW_FINITE;
}

/* y = softmax(x * s) for one row (the shift by the max makes this softmax(z / T)); s_pre =
 * 2^P / T for the rows where x - m overflows (pm_prescale_row). */
static void PM_FN(pm_softmax_row)(const PM_KT *kt, const PM_T *x, PM_T *y, int64_t n, PM_T s,
                                  PM_T s_pre, int exact)
{
    PM_T m;
    double sum;
    int64_t k;
    enum pm_row_kind kind;
    if (exact) {
        const PM_T *src = x;
        kind = PM_FN(pm_max_sum)(kt, &src, y, n, &s, s_pre, 1, &m, &sum, &k);
        if (kind == PM_ROW_FINITE) {
            kt->exp_exact(src, y, n, m, s, log(sum));
            return;
        }
    } else {
        if (n <= 16 && kt->softmax_small && kt->softmax_small(x, y, n, s)) {
            return; /* short rows in registers, one call instead of three */
        }
        if (n * PM_ES > PM_BLOCKED_MIN_BYTES && PM_FN(pm_softmax_blocked)(kt, x, y, n, s, s_pre)) {
            return;
        }
        /* Three passes: max, exp+store+sum, scale. */
        m = kt->rmax(x, n);
        kind = PM_FN(pm_classify)(x, n, m, &k);
        if (kind == PM_ROW_FINITE) {
            const PM_T *src = x;
            if (PM_FN(pm_prescale_row)(x, y, n, m, s)) {
                src = y;
                m *= PM_PRESCALE;
                s = s_pre;
            }
            sum = kt->expsum_store(src, y, n, m, s);
            if (isnan(sum)) {
                PM_FN(pm_fill)(y, n, PM_NAN);
            } else {
                kt->scale(y, y, n, (PM_T)(1.0 / sum));
            }
            return;
        }
    }
    PM_FN(pm_special_row)(kind, x, y, n, k, 0);
}

/* y = log_softmax(x * s) = (x - m) * s - log(sum). */
static void PM_FN(pm_log_softmax_row)(const PM_KT *kt, const PM_T *x, PM_T *y, int64_t n,
                                      PM_T s, PM_T s_pre, int exact)
{
    PM_T m;
    double sum;
    int64_t k;
    const PM_T *src = x;
    enum pm_row_kind kind = PM_FN(pm_max_sum)(kt, &src, y, n, &s, s_pre, exact, &m, &sum, &k);
    if (kind == PM_ROW_FINITE) {
        kt->shiftscale(src, y, n, m, s, (PM_T)log(sum));
        return;
    }
    PM_FN(pm_special_row)(kind, x, y, n, k, 1);
}

static PM_T PM_FN(pm_logsumexp_row)(const PM_KT *kt, const PM_T *x, int64_t n)
{
    PM_T m;
    double sum;
    int64_t k;
    PM_T s = 1; /* s >= 1: no prescaled row, no y needed */
    switch (PM_FN(pm_max_sum)(kt, &x, NULL, n, &s, PM_PRESCALE_INV, 0, &m, &sum, &k)) {
    case PM_ROW_FINITE:
        return (PM_T)((double)m + log(sum));
    case PM_ROW_NAN:
        return PM_NAN;
    case PM_ROW_EMPTY:
        return -PM_INF;
    case PM_ROW_PINF:
        return PM_INF;
    }
    return PM_NAN;
}

/* ---- forward, whole calls ---------------------------------------------------------------------- */

void PM_FN(pm_softmax_rows)(const PM_KT *kt, const PM_T *x, int64_t x_stride, PM_T *y,
                            int64_t y_stride, int64_t rows, int64_t cols, PM_T temperature,
                            const uint8_t *mask, int64_t mask_stride, const PM_T *bias,
                            int64_t bias_stride, int log_out, int exact)
{
    const PM_T s = (PM_T)1 / temperature;
    const PM_T s_pre = PM_PRESCALE_INV / temperature; /* for the rows where x - m overflows */
    for (int64_t r = 0; r < rows; r++) {
        const PM_T *xr = x + r * x_stride;
        PM_T *yr = y + r * y_stride;
        const PM_T *src = xr;
        if (mask || bias) {
            /* z goes into y first (x is read at j before y[j] is written, so y == x works),
             * then the driver runs in place on y. */
            const uint8_t *mr = mask ? mask + r * mask_stride : NULL;
            const PM_T *br = bias ? bias + r * bias_stride : NULL;
            if (mr && br) {
                for (int64_t j = 0; j < cols; j++) {
                    yr[j] = mr[j] ? xr[j] + br[j] : -PM_INF;
                }
            } else if (mr) {
                for (int64_t j = 0; j < cols; j++) {
                    yr[j] = mr[j] ? xr[j] : -PM_INF;
                }
            } else {
                for (int64_t j = 0; j < cols; j++) {
                    yr[j] = xr[j] + br[j];
                }
            }
            src = yr;
        }
        if (log_out) {
            PM_FN(pm_log_softmax_row)(kt, src, yr, cols, s, s_pre, exact);
        } else {
            PM_FN(pm_softmax_row)(kt, src, yr, cols, s, s_pre, exact);
        }
    }
}

void PM_FN(pm_logsumexp_rows)(const PM_KT *kt, const PM_T *x, int64_t x_stride, PM_T *out,
                              int64_t rows, int64_t cols)
{
    for (int64_t r = 0; r < rows; r++) {
        out[r] = PM_FN(pm_logsumexp_row)(kt, x + r * x_stride, cols);
    }
}

/* ---- backward ----------------------------------------------------------------------------------- */

void PM_FN(pm_backward_rows)(const PM_KT *kt, int which, const PM_T *a, int64_t a_stride,
                             const PM_T *b, int64_t b_stride, PM_T *out, int64_t out_stride,
                             int64_t rows, int64_t cols)
{
    for (int64_t r = 0; r < rows; r++) {
        const PM_T *ar = a + r * a_stride, *br = b + r * b_stride;
        PM_T *o = out + r * out_stride;
        switch (which) {
        case PM_BWD_SOFTMAX: /* a = p, b = dy */
            kt->submul(ar, br, o, cols, (PM_T)kt->dot(ar, br, cols));
            break;
        case PM_BWD_LOG_SOFTMAX: /* a = logp, b = dy */
            kt->subexp(ar, br, o, cols, (PM_T)kt->sum(br, cols));
            break;
        default: /* PM_JVP_LOG_SOFTMAX, a = logp, b = v */
            /* J = I - 1 p^T: every output of the row is shifted by the same <p, v>. */
            kt->shiftscale(br, o, cols, (PM_T)0, (PM_T)1, (PM_T)kt->dotexp(ar, br, cols));
            break;
        }
    }
}

/* ---- Jacobians -------------------------------------------------------------------------------- */

void PM_FN(pm_jacobian_rows)(const PM_KT *kt, const PM_T *x, int64_t x_stride, PM_T *jac,
                             int64_t rows, int64_t cols, int log_jac, int from_logits)
{
    const int64_t n = cols;
    for (int64_t r = 0; r < rows; r++) {
        PM_T *J = jac + r * n * n;
        const PM_T *p = x + r * x_stride;
        if (from_logits) {
            /* p = softmax(logits) lives in the last row of the block until that row is
             * overwritten last, in place. */
            PM_T *last = J + (n - 1) * n;
            PM_FN(pm_softmax_row)(kt, p, last, n, (PM_T)1, PM_PRESCALE_INV, 0);
            p = last;
        }
        for (int64_t i = 0; i < n; i++) {
            PM_T *Ji = J + i * n;
            PM_T pi = p[i]; /* read before row n-1 (== p when from_logits) is overwritten */
            if (log_jac) {
                kt->scale(p, Ji, n, (PM_T)-1); /* -p_j */
                Ji[i] = (PM_T)1 - pi;
            } else {
                kt->scale(p, Ji, n, -pi); /* -p_i p_j: bitwise symmetric */
                Ji[i] = pi * ((PM_T)1 - pi);
            }
        }
    }
}

/* OpenBLAS with the LP64 interface takes int dimensions; larger ones take the kernel path. */
#define PM_BLAS(name) PM_CAT(PM_CAT(cblas_, PM_CAT(PM_BLAS_PREFIX_, PM_S)), name)
#define PM_BLAS_PREFIX_f32 s
#define PM_BLAS_PREFIX_f64 d

int32_t PM_FN(pm_jacobian_matmul)(const PM_KT *kt, const PM_T *p, int64_t n, const PM_T *v,
                                  int64_t v_stride, PM_T *out, int64_t out_stride, int64_t k,
                                  int log_jac)
{
    const int blas_ok = n <= INT_MAX && k <= INT_MAX && v_stride <= INT_MAX && out_stride <= INT_MAX;
    /* w = V^T p (k values), plus n ones for the log-softmax rank-1 update. */
    size_t words = (size_t)k + (log_jac ? (size_t)n : 0);
    if ((uint64_t)k > SIZE_MAX / sizeof(PM_T) - (uint64_t)n) {
        return PANMAX_ERR_NO_MEMORY;
    }
    PM_T *w = malloc(words * sizeof(PM_T));
    if (w == NULL) {
        return PANMAX_ERR_NO_MEMORY;
    }
    if (blas_ok) {
        PM_BLAS(gemv)(CblasRowMajor, CblasTrans, (int)n, (int)k, (PM_T)1, v, (int)v_stride, p, 1,
                      (PM_T)0, w, 1);
    } else {
        /* w = sum_i p_i V_i, with the table's axpbyc: w * 1 - V_i * (-p_i) - 0. */
        kt->scale(v, w, k, p[0]);
        for (int64_t i = 1; i < n; i++) {
            kt->axpbyc(w, v + i * v_stride, w, k, (PM_T)1, -p[i], (PM_T)0);
        }
    }
    const PM_T *x = p; /* the left vector of the rank-1 update */
    if (log_jac) {
        PM_FN(pm_fill)(w + k, n, (PM_T)1);
        x = w + k;
    }
    /* out = diag(p) V (softmax) or V (log-softmax), then out -= x w^T. */
    for (int64_t i = 0; i < n; i++) {
        kt->scale(v + i * v_stride, out + i * out_stride, k, log_jac ? (PM_T)1 : p[i]);
    }
    if (blas_ok) {
        PM_BLAS(ger)(CblasRowMajor, (int)n, (int)k, (PM_T)-1, x, 1, w, 1, out, (int)out_stride);
    } else {
        for (int64_t i = 0; i < n; i++) {
            PM_T *oi = out + i * out_stride;
            kt->axpbyc(oi, w, oi, k, (PM_T)1, x[i], (PM_T)0);
        }
    }
    free(w);
    return PANMAX_OK;
}

#undef PM_BLAS
#undef PM_BLAS_PREFIX_f32
#undef PM_BLAS_PREFIX_f64

/* ---- cross-entropy ----------------------------------------------------------------------------- */

/* sum(t * z) over the entries with t != 0, so that 0 * (-inf) counts 0. */
static double PM_FN(pm_dot_skip0)(const PM_KT *kt, const PM_T *t, const PM_T *z, int64_t n)
{
    double d = kt->dot(t, z, n);
    if (!isnan(d)) {
        return d;
    }
    double acc = 0.0;
    for (int64_t j = 0; j < n; j++) {
        if (t[j] != 0) {
            acc += (double)t[j] * (double)z[j];
        }
    }
    return acc;
}

/* sum(w * t * z) over the entries with w * t != 0, likewise. */
static double PM_FN(pm_dot3_skip0)(const PM_KT *kt, const PM_T *w, const PM_T *t, const PM_T *z,
                                   int64_t n)
{
    double d = kt->dot3(w, t, z, n);
    if (!isnan(d)) {
        return d;
    }
    double acc = 0.0;
    for (int64_t j = 0; j < n; j++) {
        if ((double)w[j] * (double)t[j] != 0) {
            acc += (double)w[j] * (double)t[j] * (double)z[j];
        }
    }
    return acc;
}

/* The loss of a row with k >= 1 logits at +inf and no NaN (panmax.h): the limit as those grow
 * together, sum over the +inf entries of u_j log(k), plus u_j * inf for every other entry with
 * u_j != 0 (+inf for a positive target; a NaN target stays NaN). u_j = w_j (keep g_j + spread),
 * g the one-hot of y or the soft target row tr, w = 1 without weights. */
static double PM_FN(pm_pinf_loss)(const PM_T *z, int64_t n, int64_t k, int64_t y, const PM_T *tr,
                                  const PM_T *w, double keep, double spread)
{
    double on = 0.0, off = 0.0;
    for (int64_t j = 0; j < n; j++) {
        double given = tr ? (double)tr[j] : (double)(j == y);
        double u = (w ? (double)w[j] : 1.0) * (keep * given + spread);
        if (z[j] == PM_INF) {
            on += u;
        } else if (u != 0) {
            off += u * INFINITY;
        }
    }
    return on * log((double)k) + off;
}

/*
 * Per row, with u the effective targets (panmax.h: t' = keep * one-hot or target + spread, times
 * the class weights when there are any) and lse = logsumexp(z):
 *   loss = sum(u) * lse - sum(u * z),  grad = (softmax(z) * sum(u) - u) * gscale,
 * sum(u) and sum(u * z) taken first (grad may be the logits), then e = exp(z - max) goes into grad
 * and one more kernel call turns it into the gradient. Without weights this is the code that
 * panmax_cross_entropy_* always ran, operation for operation.
 */
void PM_FN(pm_cross_entropy_rows)(const PM_KT *kt, const PM_T *logits, int64_t x_stride,
                                  const int64_t *labels, const PM_T *target, int64_t target_stride,
                                  const PM_T *weight, PM_T *grad, int64_t grad_stride, PM_T *loss,
                                  int64_t rows, int64_t cols, int64_t ignore_index,
                                  PM_T label_smoothing, int32_t reduction, double denom)
{
    const int64_t n = cols;
    const double ls = (double)label_smoothing;
    const double keep = 1.0 - ls;       /* weight of the given target */
    const double spread = ls / (double)n; /* what smoothing adds to every class */
    /* MEAN divides every gradient by the count of counted rows (or their weight sum). A zero
     * weight sum over counted rows is PyTorch's 0/0: NaN. */
    const double gscale = reduction != PANMAX_REDUCTION_MEAN ? 1.0
                        : denom > 0                          ? 1.0 / denom
                        : weight                             ? NAN
                                                             : 1.0;
    const double wsum = weight && ls > 0 ? kt->sum(weight, n) : 0.0; /* sum of all class weights */
    double total = 0.0;

    for (int64_t r = 0; r < rows; r++) {
        const PM_T *z = logits + r * x_stride;
        PM_T *g = grad ? grad + r * grad_stride : NULL;
        const PM_T *tr = target ? target + r * target_stride : NULL;
        /* The label is read once; the entry point checked an earlier read, so a value out of
         * range here was changed by another thread since: that row is NaN, nothing indexed. */
        const int64_t y = labels ? pm_load_label(labels + r) : -1;
        if (labels && y == ignore_index) {
            if (g) {
                PM_FN(pm_fill)(g, n, (PM_T)0);
            }
            if (reduction == PANMAX_REDUCTION_NONE) {
                loss[r] = 0;
            }
            continue;
        }
        if (labels && (y < 0 || y >= n)) {
            if (g) {
                PM_FN(pm_fill)(g, n, PM_NAN);
            }
            if (reduction == PANMAX_REDUCTION_NONE) {
                loss[r] = PM_NAN;
            } else {
                total += NAN;
            }
            continue;
        }

        /* Everything read from z happens before g (possibly == z) is written. */
        const double wy = weight && labels ? (double)weight[y] : 1.0;
        double t_sum, tz_sum; /* sum(u), sum(u * z) */
        if (!weight) {
            double sz = ls > 0 ? kt->sum(z, n) : 0.0;
            double given_tz, given_t;
            if (labels) {
                given_t = 1.0;
                given_tz = keep != 0 ? (double)z[y] : 0.0;
            } else {
                given_t = kt->sum(tr, n);
                given_tz = keep != 0 ? PM_FN(pm_dot_skip0)(kt, tr, z, n) : 0.0;
            }
            t_sum = keep * given_t + ls;
            tz_sum = (keep != 0 ? keep * given_tz : 0.0) + (ls > 0 ? spread * sz : 0.0);
        } else {
            double wz = ls > 0 ? PM_FN(pm_dot_skip0)(kt, weight, z, n) : 0.0;
            double given_tz, given_t;
            if (labels) {
                given_t = wy;
                given_tz = keep * wy != 0 ? wy * (double)z[y] : 0.0;
            } else {
                given_t = kt->dot(weight, tr, n);
                given_tz = keep != 0 ? PM_FN(pm_dot3_skip0)(kt, weight, tr, z, n) : 0.0;
            }
            t_sum = keep * given_t + spread * wsum;
            tz_sum = (keep != 0 ? keep * given_tz : 0.0) + (ls > 0 ? spread * wz : 0.0);
        }

        PM_T m = kt->rmax(z, n);
        int64_t kinf;
        enum pm_row_kind kind = PM_FN(pm_classify)(z, n, m, &kinf);
        double sum = 1.0, row_loss;
        if (kind == PM_ROW_FINITE) {
            sum = g ? kt->expsum_store(z, g, n, m, (PM_T)1) : kt->expsum(z, n, m, (PM_T)1);
            if (isnan(sum)) {
                kind = PM_ROW_NAN;
            }
        }
        switch (kind) {
        case PM_ROW_FINITE:
            row_loss = t_sum * ((double)m + log(sum)) - tz_sum;
            break;
        case PM_ROW_EMPTY:
            row_loss = t_sum * -INFINITY - tz_sum; /* NaN unless the target weights nothing */
            if (g) {
                PM_FN(pm_fill)(g, n, (PM_T)0);
            }
            break;
        case PM_ROW_PINF:
            row_loss = PM_FN(pm_pinf_loss)(z, n, kinf, y, tr, weight, keep, spread);
            if (g) {
                PM_FN(pm_special_row)(kind, z, g, n, kinf, 0);
            }
            break;
        case PM_ROW_NAN:
        default:
            row_loss = NAN;
            if (g) {
                PM_FN(pm_fill)(g, n, PM_NAN);
            }
            break;
        }

        if (g && kind != PM_ROW_NAN) {
            /* g holds e with softmax = e / sum; make it (p * sum(u) - u) * gscale. */
            if (!weight && labels) {
                kt->shiftscale(g, g, n, (PM_T)0, (PM_T)(gscale / sum), (PM_T)(gscale * spread));
                g[y] -= (PM_T)(gscale * keep);
            } else if (!weight) {
                kt->axpbyc(g, tr, g, n, (PM_T)(gscale * t_sum / sum), (PM_T)(gscale * keep),
                           (PM_T)(gscale * spread));
            } else if (labels) {
                kt->axpbyc(g, weight, g, n, (PM_T)(gscale * t_sum / sum), (PM_T)(gscale * spread),
                           (PM_T)0);
                g[y] -= (PM_T)(gscale * keep * wy);
            } else {
                kt->waxpbyc(g, weight, tr, g, n, (PM_T)(gscale * t_sum / sum), (PM_T)(gscale * keep),
                            (PM_T)(gscale * spread));
            }
        }
        if (reduction == PANMAX_REDUCTION_NONE) {
            loss[r] = (PM_T)row_loss;
        } else {
            total += row_loss;
        }
    }
    if (reduction == PANMAX_REDUCTION_SUM) {
        loss[0] = (PM_T)total;
    } else if (reduction == PANMAX_REDUCTION_MEAN) {
        loss[0] = denom > 0 ? (PM_T)(total / denom) : PM_NAN;
    }
}
