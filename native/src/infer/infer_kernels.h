/*
 * The loop kernels of the inference operations for one element type, as portable C written so
 * that gcc vectorises it: fixed-size blocks, integer reductions (exact, so the vectoriser may
 * reorder them), float work without reductions. Included by infer_kernels_base.c (baseline flags)
 * and infer_kernels_avx2.c (-mavx2 -mfma) with
 *   IK_T  float or double,   IK_S  f32 or f64,   IK_V  the variant suffix (base, avx2).
 * Both variants compute the same bits: the same IEEE operations per element, no contraction.
 * No include guard on purpose.
 */
#ifndef IK_T
#error "infer_kernels.h is included by infer_kernels_*.c only"
#endif

#define IK_CAT_(a, b) a##b
#define IK_CAT(a, b) IK_CAT_(a, b)
#define IK_FN(name) IK_CAT(IK_CAT(IK_CAT(pm_ik_, name), IK_CAT(_, IK_S)), IK_CAT(__, IK_V))
#define IK_DEXP IK_CAT(pm_dexp_, IK_S)
#define IK_BLK PM_INFER_BLOCK

static int IK_FN(maxnan)(const IK_T *z, int64_t n, IK_T *m_out)
{
    /* 16 lanes of max and of "is NaN"; a NaN never wins the comparison, so m is the max of the
     * others. */
    IK_T mx[16];
    int32_t bad[16];
    for (int u = 0; u < 16; u++) {
        mx[u] = -(IK_T)INFINITY;
        bad[u] = 0;
    }
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        for (int u = 0; u < 16; u++) {
            IK_T v = z[j + u];
            mx[u] = v > mx[u] ? v : mx[u];
            bad[u] |= v != v;
        }
    }
    IK_T m = -(IK_T)INFINITY;
    int nan = 0;
    for (int u = 0; u < 16; u++) {
        m = mx[u] > m ? mx[u] : m;
        nan |= bad[u];
    }
    for (; j < n; j++) {
        IK_T v = z[j];
        m = v > m ? v : m;
        nan |= v != v;
    }
    *m_out = m;
    return nan;
}

static uint64_t IK_FN(mass)(const IK_T *z, int64_t n, IK_T m, IK_T s, double scale, IK_T t0,
                            IK_T inv_w, int32_t nb, uint64_t *hist)
{
    uint64_t total = 0;
    IK_T t[IK_BLK];
    uint64_t q[IK_BLK];
    for (int64_t j0 = 0; j0 < n; j0 += IK_BLK) {
        const int64_t len = n - j0 < IK_BLK ? n - j0 : IK_BLK;
        const IK_T *zb = z + j0;
        for (int64_t l = 0; l < len; l++) {
            t[l] = (zb[l] - m) * s;
        }
        for (int64_t l = 0; l < len; l++) {
            q[l] = pm_quant((double)IK_DEXP(t[l]), scale);
        }
        uint64_t bs = 0;
        for (int64_t l = 0; l < len; l++) {
            bs += q[l];
        }
        total += bs;
        if (hist) {
            int32_t hits = 0;
            for (int64_t l = 0; l < len; l++) {
                hits += t[l] >= t0;
            }
            if (hits) {
                for (int64_t l = 0; l < len; l++) {
                    if (t[l] >= t0) {
                        int32_t b = (int32_t)(-t[l] * inv_w);
                        hist[b < nb ? b : nb - 1] += q[l];
                    }
                }
            }
        }
    }
    return total;
}

static int64_t IK_FN(collect)(const IK_T *z, int64_t n, IK_T m, IK_T s, double scale, IK_T t0,
                              IK_T inv_w, int32_t nb, int32_t bmax, pm_ent *out)
{
    int64_t count = 0;
    IK_T t[IK_BLK];
    for (int64_t j0 = 0; j0 < n; j0 += IK_BLK) {
        const int64_t len = n - j0 < IK_BLK ? n - j0 : IK_BLK;
        const IK_T *zb = z + j0;
        int32_t hits = 0;
        for (int64_t l = 0; l < len; l++) {
            t[l] = (zb[l] - m) * s;
            hits += t[l] >= t0;
        }
        if (!hits) {
            continue;
        }
        for (int64_t l = 0; l < len; l++) {
            /* the bucket as mass() computes it (clamped to nb - 1) */
            if (t[l] >= t0 && (bmax < 0 || bmax >= nb - 1 || (int32_t)(-t[l] * inv_w) <= bmax)) {
                out[count].z = (double)zb[l];
                out[count].idx = j0 + l;
                out[count].q = pm_quant((double)IK_DEXP(t[l]), scale);
                count++;
            }
        }
    }
    return count;
}

static int64_t IK_FN(walk)(const IK_T *z, int64_t n, IK_T m, IK_T s, double scale, uint64_t target,
                           uint64_t *q_at)
{
    uint64_t run = 0;
    uint64_t q[IK_BLK];
    for (int64_t j0 = 0; j0 < n; j0 += IK_BLK) {
        const int64_t len = n - j0 < IK_BLK ? n - j0 : IK_BLK;
        const IK_T *zb = z + j0;
        for (int64_t l = 0; l < len; l++) {
            q[l] = pm_quant((double)IK_DEXP((zb[l] - m) * s), scale);
        }
        uint64_t bs = 0;
        for (int64_t l = 0; l < len; l++) {
            bs += q[l];
        }
        if (run + bs <= target) {
            run += bs;
            continue;
        }
        for (int64_t l = 0; l < len; l++) {
            run += q[l];
            if (run > target) {
                *q_at = q[l];
                return j0 + l;
            }
        }
    }
    *q_at = 0;
    return -1; /* target >= sum: the caller's bug */
}

static int64_t IK_FN(count_above)(const IK_T *z, int64_t n, IK_T thr, int strict)
{
    int64_t count = 0;
    if (strict) {
        for (int64_t j = 0; j < n; j++) {
            count += z[j] > thr;
        }
    } else {
        for (int64_t j = 0; j < n; j++) {
            count += z[j] >= thr;
        }
    }
    return count;
}

#undef IK_CAT_
#undef IK_CAT
#undef IK_FN
#undef IK_DEXP
#undef IK_BLK
