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

static int64_t IK_FN(count_nan)(const IK_T *z, int64_t n)
{
    int64_t count = 0;
    for (int64_t j = 0; j < n; j++) {
        count += z[j] != z[j];
    }
    return count;
}

/* The bucket of t in [t0, 0] (mass() and collect() must agree): min(nb - 1, (int)(-t * inv_w)),
 * computed on a clamped copy so that t < t0 (even -inf) converts without overflow. */
#define IK_BUCKET(t, t0, inv_w, nb)                                                            \
    ((int32_t)(-((t) >= (t0) ? (t) : (IK_T)0) * (inv_w)) < (nb)                                \
         ? (int32_t)(-((t) >= (t0) ? (t) : (IK_T)0) * (inv_w))                                 \
         : (nb) - 1)

/* q of one block, and its sum; `len` is the constant IK_BLK for every block but the last, so
 * that after inlining the loop has a fixed trip count (no epilogue per block). */
static inline uint64_t IK_FN(mass_block)(const IK_T *zb, int64_t len, IK_T m, IK_T s, double offset,
                                         IK_T *t, uint64_t *q)
{
    const uint64_t zero = pm_quant_bits(0.0, offset);
    uint64_t bs = 0;
    for (int64_t l = 0; l < len; l++) {
        const IK_T tl = (zb[l] - m) * s;
        const uint64_t ql = pm_quant_bits((double)IK_DEXP(tl), offset) - zero;
        t[l] = tl;
        q[l] = ql;
        bs += ql;
    }
    return bs;
}

/* The sum alone: raw bits added up, the offsets taken off once (exact modulo 2^64). */
static inline uint64_t IK_FN(mass_block_sum)(const IK_T *zb, int64_t len, IK_T m, IK_T s,
                                             double offset)
{
    uint64_t bs = 0;
    for (int64_t l = 0; l < len; l++) {
        bs += pm_quant_bits((double)IK_DEXP((zb[l] - m) * s), offset);
    }
    return bs - (uint64_t)len * pm_quant_bits(0.0, offset);
}

static inline void IK_FN(hist_block)(const IK_T *t, const uint64_t *q, int64_t len, IK_T t0,
                                     IK_T inv_w, int32_t nb, uint64_t *hist)
{
    int32_t b[IK_BLK];
    int32_t hits = 0;
    for (int64_t l = 0; l < len; l++) {
        hits += t[l] >= t0;
        b[l] = IK_BUCKET(t[l], t0, inv_w, nb);
    }
    if (hits) {
        /* four interleaved histograms, so runs of one bucket do not chain through memory */
        for (int64_t l = 0; l < len; l++) {
            if (t[l] >= t0) {
                hist[(l & 3) * nb + b[l]] += q[l];
            }
        }
    }
}

static uint64_t IK_FN(mass)(const IK_T *z, int64_t n, IK_T m, IK_T s, double offset, IK_T t0,
                            IK_T inv_w, int32_t nb, uint64_t *hist, uint64_t *bsum)
{
    uint64_t total = 0;
    IK_T t[IK_BLK];
    uint64_t q[IK_BLK];
    for (int64_t j0 = 0, blk = 0; j0 < n; j0 += IK_BLK, blk++) {
        const int64_t len = n - j0 < IK_BLK ? n - j0 : IK_BLK;
        uint64_t bs;
        if (hist) {
            bs = len == IK_BLK ? IK_FN(mass_block)(z + j0, IK_BLK, m, s, offset, t, q)
                               : IK_FN(mass_block)(z + j0, len, m, s, offset, t, q);
            IK_FN(hist_block)(t, q, len, t0, inv_w, nb, hist);
        } else {
            bs = len == IK_BLK ? IK_FN(mass_block_sum)(z + j0, IK_BLK, m, s, offset)
                               : IK_FN(mass_block_sum)(z + j0, len, m, s, offset);
        }
        total += bs;
        if (bsum) {
            bsum[blk] = bs;
        }
    }
    if (hist) {
        for (int32_t i = 0; i < nb; i++) {
            hist[i] += hist[nb + i] + hist[2 * nb + i] + hist[3 * nb + i];
        }
    }
    return total;
}

static int64_t IK_FN(collect)(const IK_T *z, int64_t n, IK_T m, IK_T s, double offset, IK_T t0,
                              IK_T inv_w, int32_t nb, int32_t bmax, pm_ent *out)
{
    int64_t count = 0;
    IK_T t[IK_BLK];
    uint64_t q[IK_BLK];
    int32_t keep[IK_BLK];
    const int any_bucket = bmax < 0 || bmax >= nb - 1;
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
        if (any_bucket) {
            for (int64_t l = 0; l < len; l++) {
                keep[l] = t[l] >= t0;
            }
        } else {
            for (int64_t l = 0; l < len; l++) {
                keep[l] = t[l] >= t0 && IK_BUCKET(t[l], t0, inv_w, nb) <= bmax;
            }
        }
        for (int64_t l = 0; l < len; l++) {
            q[l] = pm_quant((double)IK_DEXP(t[l]), offset);
        }
        for (int64_t l = 0; l < len; l++) {
            if (keep[l]) {
                out[count].z = (double)zb[l];
                out[count].idx = j0 + l;
                out[count].q = q[l];
                count++;
            }
        }
    }
    return count;
}

static int64_t IK_FN(walk)(const IK_T *z, int64_t n, IK_T m, IK_T s, double offset,
                           const uint64_t *bsum, uint64_t target, uint64_t *q_at)
{
    uint64_t run = 0;
    uint64_t q[IK_BLK];
    for (int64_t j0 = 0, blk = 0; j0 < n; j0 += IK_BLK, blk++) {
        const int64_t len = n - j0 < IK_BLK ? n - j0 : IK_BLK;
        if (bsum && run + bsum[blk] <= target) {
            run += bsum[blk]; /* the block sums of mass(): skip without recomputing */
            continue;
        }
        const IK_T *zb = z + j0;
        for (int64_t l = 0; l < len; l++) {
            q[l] = pm_quant((double)IK_DEXP((zb[l] - m) * s), offset);
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

/* Offsets (in [0, n), ascending) of the entries with z > thr (strict) or z >= thr, into out;
 * returns how many. One vectorised compare per block of 64 into flag bytes, then only the set
 * bytes are visited (8 at a time), so the cost follows the hits, not n. */
static int64_t IK_FN(above)(const IK_T *z, int64_t n, IK_T thr, int strict, int32_t *out)
{
    int64_t count = 0;
    unsigned char flag[IK_BLK];
    for (int64_t j0 = 0; j0 < n; j0 += IK_BLK) {
        const int64_t len = n - j0 < IK_BLK ? n - j0 : IK_BLK;
        const IK_T *zb = z + j0;
        if (strict) {
            for (int64_t l = 0; l < len; l++) {
                flag[l] = zb[l] > thr;
            }
        } else {
            for (int64_t l = 0; l < len; l++) {
                flag[l] = zb[l] >= thr;
            }
        }
        for (int64_t l = len; l < IK_BLK; l++) {
            flag[l] = 0;
        }
        for (int64_t w = 0; w < IK_BLK; w += 8) {
            uint64_t word;
            memcpy(&word, flag + w, sizeof word);
            while (word) {
                int bit = __builtin_ctzll(word);
                out[count++] = (int32_t)(j0 + w + bit / 8);
                word &= word - 1;
            }
        }
    }
    return count;
}

#undef IK_CAT_
#undef IK_CAT
#undef IK_FN
#undef IK_DEXP
#undef IK_BLK
#undef IK_BUCKET
