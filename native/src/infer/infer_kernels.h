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

#define IK_SUPER (4 * IK_BLK)

/* max(mx[0, IK_BLK)) by a tree of vertical maxima (no float reduction for gcc to refuse). */
static inline IK_T IK_FN(lanes_max)(IK_T *mx)
{
    for (int64_t w = IK_BLK / 2; w >= 1; w /= 2) {
        for (int64_t l = 0; l < w; l++) {
            mx[l] = mx[l + w] > mx[l] ? mx[l + w] : mx[l];
        }
    }
    return mx[0];
}

/* Folds nblk full blocks of zb into the 64 lanes mx (max) and nan (NaN seen): gcc turns each
 * lane line into a vector max / compare. */
static inline void IK_FN(max_lanes)(const IK_T *zb, int64_t nblk, IK_T *mx, int32_t *nan)
{
    for (int64_t g = 0; g < nblk * IK_BLK; g += IK_BLK) {
        for (int64_t l = 0; l < IK_BLK; l++) {
            mx[l] = zb[g + l] > mx[l] ? zb[g + l] : mx[l];
            nan[l] |= zb[g + l] != zb[g + l];
        }
    }
}

/* The row's max into *m, and whether it has a NaN, in one pass: 64 independent lanes per block,
 * then the lanes, then the tail. A max is exact, so the value is every ISA's rmax (up to the sign
 * of a zero max, which changes no t). With sbmax, also the max of each super-block of IK_SUPER
 * entries (the last may be shorter): sbmax[i] for i < ceil(n / IK_SUPER), NaN entries left out
 * (the caller stops at the flag). */
static int IK_FN(maxnan)(const IK_T *z, int64_t n, IK_T *m, IK_T *sbmax)
{
    IK_T mx[IK_BLK];
    int32_t nan[IK_BLK];
    for (int64_t l = 0; l < IK_BLK; l++) {
        mx[l] = -(IK_T)INFINITY;
        nan[l] = 0;
    }
    int64_t j0 = 0, i = 0;
    IK_T best = -(IK_T)INFINITY;
    if (sbmax) {
        for (; j0 + IK_SUPER <= n; j0 += IK_SUPER, i++) {
            IK_T sm[IK_BLK];
            for (int64_t l = 0; l < IK_BLK; l++) {
                sm[l] = -(IK_T)INFINITY;
            }
            IK_FN(max_lanes)(z + j0, IK_SUPER / IK_BLK, sm, nan);
            sbmax[i] = IK_FN(lanes_max)(sm);
            best = sbmax[i] > best ? sbmax[i] : best;
        }
    } else {
        IK_FN(max_lanes)(z, n / IK_BLK, mx, nan);
        j0 = n / IK_BLK * IK_BLK;
    }
    IK_T tail = -(IK_T)INFINITY;
    int32_t any = 0;
    for (int64_t j = j0; j < n; j++) {
        tail = z[j] > tail ? z[j] : tail;
        any |= z[j] != z[j];
    }
    if (sbmax && j0 < n) {
        sbmax[i] = tail;
    }
    const IK_T lm = IK_FN(lanes_max)(mx);
    best = lm > best ? lm : best;
    best = tail > best ? tail : best;
    for (int64_t l = 0; l < IK_BLK; l++) {
        any |= nan[l];
    }
    *m = best;
    return any;
}

/* The bucket of t in [t0, 0] (mass() and collect() must agree): min(nb - 1, (int)(-t * inv_w)),
 * computed on a clamped copy so that t < t0 (even -inf) converts without overflow. */
#define IK_BUCKET(t, t0, inv_w, nb)                                                            \
    ((int32_t)(-((t) >= (t0) ? (t) : (IK_T)0) * (inv_w)) < (nb)                                \
         ? (int32_t)(-((t) >= (t0) ? (t) : (IK_T)0) * (inv_w))                                 \
         : (nb) - 1)

/* Sortable integer key of a non-NaN value (both zeros -> 0), and back. */
static inline int64_t IK_FN(key)(IK_T v)
{
    if (sizeof(IK_T) == 4) {
        int32_t b;
        memcpy(&b, &v, 4);
        return b >= 0 ? (int64_t)b : -(int64_t)(b & 0x7fffffff);
    }
    int64_t b;
    memcpy(&b, &v, 8);
    return b >= 0 ? b : -(b & INT64_MAX);
}

static inline IK_T IK_FN(unkey)(int64_t k)
{
    IK_T v;
    if (sizeof(IK_T) == 4) {
        uint32_t b = k >= 0 ? (uint32_t)k : (uint32_t)(-k) | 0x80000000u;
        memcpy(&v, &b, 4);
    } else {
        uint64_t b = k >= 0 ? (uint64_t)k : (uint64_t)(-k) | 0x8000000000000000u;
        memcpy(&v, &b, 8);
    }
    return v;
}

/* The predicates on z that the candidate filters need, each false below and true from some z on
 * (t = (z - m) * s is non-decreasing in z, each rounding is, and so is -t * inv_w's negation):
 *   kind 0: t >= t0;
 *   kind 1: bucket <= b  ((-t) * inv_w < b + 1: (int) truncates, so (int)x <= b iff x < b + 1);
 *   kind 2: bucket < b   ((-t) * inv_w < b). */
static inline int IK_FN(zpred)(IK_T z, IK_T m, IK_T s, IK_T t0, IK_T inv_w, int32_t b, int kind)
{
    const IK_T t = (z - m) * s;
    if (kind == 0) {
        return t >= t0;
    }
    return (-t) * inv_w < (IK_T)(kind == 1 ? b + 1 : b);
}

/* The smallest z at which zpred holds, by bisection over the keys between -inf and m (where it
 * holds for every caller: t(m) = 0), starting from a bracket around the guess g when g is finite.
 * -inf when it holds everywhere. */
static IK_T IK_FN(zsplit)(IK_T m, IK_T s, IK_T t0, IK_T inv_w, int32_t b, int kind, IK_T g)
{
    if (IK_FN(zpred)(-(IK_T)INFINITY, m, s, t0, inv_w, b, kind)) {
        return -(IK_T)INFINITY;
    }
    int64_t hi = IK_FN(key)(m), lo = IK_FN(key)(-(IK_T)INFINITY); /* pred(hi), !pred(lo) */
    if (g == g && g < m && g > -(IK_T)INFINITY) {
        const int64_t kg = IK_FN(key)(g);
        const int64_t a = kg - 64 > lo ? kg - 64 : lo, c = kg + 64 < hi ? kg + 64 : hi;
        if (!IK_FN(zpred)(IK_FN(unkey)(a), m, s, t0, inv_w, b, kind)) {
            lo = a;
        }
        if (IK_FN(zpred)(IK_FN(unkey)(c), m, s, t0, inv_w, b, kind)) {
            hi = c;
        }
    }
    /* hi - lo can exceed INT64_MAX for double keys: the difference is taken unsigned */
    while ((uint64_t)hi - (uint64_t)lo > 1) {
        const int64_t mid = (int64_t)((uint64_t)lo + ((uint64_t)hi - (uint64_t)lo) / 2);
        if (IK_FN(zpred)(IK_FN(unkey)(mid), m, s, t0, inv_w, b, kind)) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    return IK_FN(unkey)(hi);
}

/* {z : t >= t0} = {z >= zthr} (t0 <= 0); -inf when t0 is -inf. */
static IK_T IK_FN(zthr)(IK_T m, IK_T s, IK_T t0)
{
    if (!(t0 > -(IK_T)INFINITY)) {
        return -(IK_T)INFINITY;
    }
    return IK_FN(zsplit)(m, s, t0, (IK_T)0, 0, 0, (IK_T)((double)m + (double)t0 / (double)s));
}

/* How many of zb[0, len) are >= thr (strict: > thr). */
static inline int32_t IK_FN(count_ge)(const IK_T *zb, int64_t len, IK_T thr, int strict)
{
    int32_t hits = 0;
    if (strict) {
        for (int64_t l = 0; l < len; l++) {
            hits += zb[l] > thr;
        }
    } else {
        for (int64_t l = 0; l < len; l++) {
            hits += zb[l] >= thr;
        }
    }
    return hits;
}

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
    if (hits == len && len == IK_BLK) { /* a dense block: no branch, the four copies unrolled */
        uint64_t *h1 = hist + nb, *h2 = hist + 2 * nb, *h3 = hist + 3 * nb;
        for (int64_t l = 0; l < IK_BLK; l += 4) {
            hist[b[l]] += q[l];
            h1[b[l + 1]] += q[l + 1];
            h2[b[l + 2]] += q[l + 2];
            h3[b[l + 3]] += q[l + 3];
        }
    } else if (hits) {
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

/* The starts of the super-blocks of IK_SUPER entries of z[0, n) that hold an entry >= thr (> thr
 * when strict), into sb; returns how many. Branch-free: a vectorised count per super-block, then
 * the start is written and the list advanced only when the count is not 0. */
static int64_t IK_FN(super_hits)(const IK_T *z, int64_t n, IK_T thr, int strict, int64_t *sb)
{
    int64_t ns = 0, j0 = 0;
    for (; j0 + IK_SUPER <= n; j0 += IK_SUPER) {
        sb[ns] = j0;
        ns += IK_FN(count_ge)(z + j0, IK_SUPER, thr, strict) != 0;
    }
    if (j0 < n) {
        sb[ns] = j0;
        ns += IK_FN(count_ge)(z + j0, n - j0, thr, strict) != 0;
    }
    return ns;
}

/* Offsets in [0, len) of the entries of zb[0, len <= IK_SUPER) that are >= thr (> thr when
 * strict) and <= top, ascending, into out; returns how many. A compare per entry into flag bytes, then only
 * the set bytes are visited (8 at a time), so the cost follows the hits. */
static inline int64_t IK_FN(flag_hits)(const IK_T *zb, int64_t len, IK_T thr, int strict,
                                       IK_T top, int32_t *out)
{
    unsigned char flag[IK_SUPER];
    if (top < (IK_T)INFINITY) { /* and <= top */
        for (int64_t l = 0; l < len; l++) {
            flag[l] = (strict ? zb[l] > thr : zb[l] >= thr) & (zb[l] <= top);
        }
        for (int64_t l = len; l < IK_SUPER; l++) {
            flag[l] = 0;
        }
    } else if (len == IK_SUPER) { /* a fixed trip count: no epilogue */
        for (int64_t l = 0; l < IK_SUPER; l++) {
            flag[l] = strict ? zb[l] > thr : zb[l] >= thr;
        }
    } else {
        for (int64_t l = 0; l < len; l++) {
            flag[l] = strict ? zb[l] > thr : zb[l] >= thr;
        }
        for (int64_t l = len; l < IK_SUPER; l++) {
            flag[l] = 0;
        }
    }
    int64_t count = 0;
    for (int64_t w = 0; w < IK_SUPER; w += 8) {
        uint64_t word;
        memcpy(&word, flag + w, sizeof word);
        while (word) {
            out[count++] = (int32_t)(w + __builtin_ctzll(word) / 8);
            word &= word - 1;
        }
    }
    return count;
}

/* An upper bound on dexp(t') for every t' <= t (t <= 0, not NaN): 2^ceil(t log2(e) + 1e-6), at
 * most twice exp(t), above it by more than dexp's error (4e-7 relative) and the rounding of the
 * product; dexp's clamp (PM_DEXPF_MIN, PM_DEXP_MIN) is the floor. Built from the exponent bits. */
static inline double IK_FN(wbound)(IK_T t)
{
    const double lo = sizeof(IK_T) == 4 ? (double)PM_DEXPF_MIN : PM_DEXP_MIN;
    const double tc = (double)t > lo ? (double)t : lo;
    const int64_t k = (int64_t)ceil(tc * 1.4426950408889634 + 1e-6); /* in [-1021, 1] */
    const uint64_t bits = (uint64_t)(k + 1023) << 52;
    double w;
    memcpy(&w, &bits, sizeof w);
    return w;
}

/* Entries with t >= t0 and bmin <= bucket <= bmax (any bucket when bmax < 0, or bmin <= 0 and
 * bmax >= nb - 1), index order, into out. The bucket range is also turned into a z range.
 * t = (z - m) * s is non-decreasing in z, so the candidates are z >= zthr: the super-blocks that
 * hold one are listed first (from maxnan's super-block maxima sbmax when given, else by a pass
 * that costs what a max costs, without a branch per block),
 * then only those are flagged and their flagged entries kept on t itself. q is computed for the
 * whole super-block, vectorised, when many of its entries are kept, else per kept entry (the same
 * operations, the same bits). sb needs PM_SUPER_COUNT(n) entries. With tail_q (bmax < 0 and sbmax
 * given; else INFINITY), an upper bound on the sum of q over the entries left out: per super-block,
 * how many were left out times wbound of the largest of them. */
static int64_t IK_FN(collect)(const IK_T *z, int64_t n, IK_T m, IK_T s, double offset, IK_T t0,
                              IK_T inv_w, int32_t nb, int32_t bmin, int32_t bmax, const IK_T *sbmax,
                              int64_t *sb, pm_ent *out, double *tail_q)
{
    int64_t count = 0;
    uint64_t q[IK_SUPER];
    int32_t hit[IK_SUPER];
    const int any_bucket = bmax < 0 || (bmax >= nb - 1 && bmin <= 0);
    IK_T zt = IK_FN(zthr)(m, s, t0), top = (IK_T)INFINITY;
    if (!any_bucket) { /* the bucket range as a z range too, so only its entries are flagged */
        if (bmax < nb - 1) {
            const IK_T zb = IK_FN(zsplit)(m, s, t0, inv_w, bmax, 1, zt);
            zt = zb > zt ? zb : zt;
        }
        if (bmin > 0) {
            top = IK_FN(zsplit)(m, s, t0, inv_w, bmin, 2, zt);
            top = top > -(IK_T)INFINITY ? IK_CAT(pm_nextdown_, IK_S)(top) : -(IK_T)INFINITY;
        }
    }
    int64_t ns = 0;
    double tail = 0; /* a bound on sum(w) over the entries left out, and how many there are */
    int64_t tail_n = 0;
    if (sbmax) { /* maxnan's super-block maxima: the list without a pass */
        for (int64_t i = 0, j0 = 0; j0 < n; i++, j0 += IK_SUPER) {
            sb[ns] = j0;
            ns += sbmax[i] >= zt;
            if (tail_q && sbmax[i] < zt) {
                const int64_t len = n - j0 < IK_SUPER ? n - j0 : IK_SUPER;
                tail += (double)len * IK_FN(wbound)((sbmax[i] - m) * s);
                tail_n += len;
            }
        }
    } else {
        ns = IK_FN(super_hits)(z, n, zt, 0, sb);
    }
    for (int64_t si = 0; si < ns; si++) {
        const int64_t j0 = sb[si];
        const int64_t len = n - j0 < IK_SUPER ? n - j0 : IK_SUPER;
        const IK_T *zb = z + j0;
        const int64_t h = IK_FN(flag_hits)(zb, len, zt, 0, top, hit);
        const int64_t first = count;
        if (tail_q && sbmax && any_bucket && h < len) { /* the largest entry left out of this super-block */
            IK_T mx[IK_BLK];
            for (int64_t l = 0; l < IK_BLK; l++) {
                mx[l] = -(IK_T)INFINITY;
            }
            int64_t g = 0;
            for (; g + IK_BLK <= len; g += IK_BLK) { /* fixed trip counts: vectorised */
                for (int64_t l = 0; l < IK_BLK; l++) {
                    const IK_T v = zb[g + l] < zt ? zb[g + l] : -(IK_T)INFINITY;
                    mx[l] = v > mx[l] ? v : mx[l];
                }
            }
            for (int64_t l = 0; g + l < len; l++) {
                const IK_T v = zb[g + l] < zt ? zb[g + l] : -(IK_T)INFINITY;
                mx[l] = v > mx[l] ? v : mx[l];
            }
            tail += (double)(len - h) * IK_FN(wbound)((IK_FN(lanes_max)(mx) - m) * s);
            tail_n += len - h;
        }
        for (int64_t i = 0; i < h; i++) {
            const int32_t l = hit[i];
            const IK_T t = (zb[l] - m) * s;
            const int32_t bk = any_bucket ? 0 : IK_BUCKET(t, t0, inv_w, nb);
            if (t >= t0 && (any_bucket || (bk <= bmax && bk >= bmin))) {
                out[count].z = (double)zb[l];
                out[count].idx = j0 + l;
                count++;
            }
        }
        if (count - first > IK_SUPER / 8) {
            for (int64_t l = 0; l < len; l++) {
                q[l] = pm_quant((double)IK_DEXP((zb[l] - m) * s), offset);
            }
            for (int64_t i = first; i < count; i++) {
                out[i].q = q[out[i].idx - j0];
            }
        } else {
            for (int64_t i = first; i < count; i++) {
                out[i].q = pm_quant((double)IK_DEXP(((IK_T)out[i].z - m) * s), offset);
            }
        }
    }
    if (tail_q) { /* q <= w * 2^S + 1/2 each; the sum itself rounded up */
        *tail_q = sbmax && any_bucket ? (tail * (0x1p52 / offset) + 0.5 * (double)tail_n) * (1 + 0x1p-30) + 1
                        : INFINITY;
    }
    return count;
}

/* In a block whose q take the running sum run past target: the offset where it does, *q_at its q. */
static inline int64_t IK_FN(cross)(const uint64_t *q, int64_t len, uint64_t run, uint64_t target,
                                   uint64_t *q_at)
{
    int64_t l = 0;
    while (l < len - 1 && run + q[l] <= target) {
        run += q[l++];
    }
    *q_at = q[l];
    return l;
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
        return j0 + IK_FN(cross)(q, len, run, target, q_at);
    }
    *q_at = 0;
    return -1; /* target >= sum: the caller's bug */
}

/* walk() over the entries ranked at or before (bz, bidx) only (z > bz, or z == bz and index <=
 * bidx; the others count as q = 0): the first index at which their running q sum exceeds target,
 * *q_at its q. Block by block, q computed vectorised with the others masked to 0. */
static int64_t IK_FN(walk_kept)(const IK_T *z, int64_t n, IK_T m, IK_T s, double offset, IK_T bz,
                                int64_t bidx, uint64_t target, uint64_t *q_at)
{
    uint64_t run = 0;
    uint64_t q[IK_BLK];
    for (int64_t j0 = 0; j0 < n; j0 += IK_BLK) {
        const int64_t len = n - j0 < IK_BLK ? n - j0 : IK_BLK;
        const IK_T *zb = z + j0;
        uint64_t bs = 0;
        for (int64_t l = 0; l < len; l++) {
            const uint64_t keep = zb[l] > bz || (zb[l] == bz && j0 + l <= bidx);
            q[l] = pm_quant((double)IK_DEXP((zb[l] - m) * s), offset) & (0 - keep);
            bs += q[l];
        }
        if (run + bs <= target) {
            run += bs;
            continue;
        }
        return j0 + IK_FN(cross)(q, len, run, target, q_at);
    }
    *q_at = 0;
    return -1; /* target >= the kept sum: the caller's bug */
}

/* The max of each block of bs entries (bs a multiple of IK_BLK; the last block may be shorter)
 * into out[i].z, with out[i].idx = i; returns the number of blocks. A row without NaN: 64 lanes
 * of vertical max per block, then a tree over the lanes (vertical too). */
static int64_t IK_FN(block_max)(const IK_T *z, int64_t n, int64_t bs, pm_ent *out)
{
    int64_t nbk = 0;
    for (int64_t j0 = 0; j0 < n; j0 += bs, nbk++) {
        const int64_t len = n - j0 < bs ? n - j0 : bs;
        const IK_T *zb = z + j0;
        IK_T mx[IK_BLK];
        int64_t g = 0;
        for (int64_t l = 0; l < IK_BLK; l++) {
            mx[l] = -(IK_T)INFINITY;
        }
        for (; g + IK_BLK <= len; g += IK_BLK) {
            for (int64_t l = 0; l < IK_BLK; l++) {
                mx[l] = zb[g + l] > mx[l] ? zb[g + l] : mx[l];
            }
        }
        for (int64_t l = 0; g + l < len; l++) {
            mx[l] = zb[g + l] > mx[l] ? zb[g + l] : mx[l];
        }
        for (int64_t w = IK_BLK / 2; w >= 1; w /= 2) {
            for (int64_t l = 0; l < w; l++) {
                mx[l] = mx[l + w] > mx[l] ? mx[l + w] : mx[l];
            }
        }
        out[nbk].z = (double)mx[0];
        out[nbk].idx = nbk;
        out[nbk].q = 0;
    }
    return nbk;
}

/* Offsets (in [0, n), ascending) of the entries with z > thr (strict) or z >= thr, into out;
 * returns how many. Super-blocks without a hit cost one vectorised count; the others are flagged
 * (flag_hits), so the cost follows the hits, not n. */
static int64_t IK_FN(above)(const IK_T *z, int64_t n, IK_T thr, int strict, int32_t *out)
{
    int64_t count = 0;
    for (int64_t j0 = 0; j0 < n; j0 += IK_SUPER) {
        const int64_t len = n - j0 < IK_SUPER ? n - j0 : IK_SUPER;
        if (IK_FN(count_ge)(z + j0, len, thr, strict) == 0) {
            continue;
        }
        const int64_t h = IK_FN(flag_hits)(z + j0, len, thr, strict, (IK_T)INFINITY, out + count);
        for (int64_t i = 0; i < h; i++) {
            out[count + i] += (int32_t)j0;
        }
        count += h;
    }
    return count;
}

#undef IK_CAT_
#undef IK_CAT
#undef IK_FN
#undef IK_DEXP
#undef IK_BLK
#undef IK_BUCKET
#undef IK_SUPER
