/*
 * The inference drivers and entry points for one element type, included by infer.c once per type
 * with PM_T (float, double), PM_S (f32, f64) and PM_T_MIN (FLT_MIN, DBL_MIN). No include guard.
 */
#ifndef PM_T
#error "infer_generic.h is included by infer.c only"
#endif

#define PM_CAT_(a, b) a##b
#define PM_CAT(a, b) PM_CAT_(a, b)
#define PM_FN(name) PM_CAT(PM_CAT(name, _), PM_S)
#define PM_PUB(name) PM_CAT(PM_CAT(panmax_, name), PM_CAT(_, PM_S))
#define PM_KT PM_CAT(pm_kernels_, PM_S)
#define PM_IK(ik, name) ((ik)->PM_CAT(PM_CAT(name, _), PM_S))
#define PM_DEXP PM_CAT(pm_dexp_, PM_S)
#define PM_ES ((int64_t)sizeof(PM_T))
#define PM_INF ((PM_T)INFINITY)
#define PM_NAN ((PM_T)NAN)
#define PM_BLAS(name) PM_CAT(PM_CAT(cblas_, PM_CAT(PM_IBLAS_, PM_S)), name)
#define PM_IBLAS_f32 s
#define PM_IBLAS_f64 d

/* m = the row's max; returns 1 (m unspecified) if the row has a NaN. One pass of the loop
 * kernels (a max is exact, so every ISA agrees). */
static int PM_FN(pm_maxnan)(const pm_infer_kernels *ik, const PM_T *z, int64_t n, PM_T *m)
{
    return PM_IK(ik, maxnan)(z, n, m, NULL) != 0;
}

/* ---- top-k accumulator ------------------------------------------------------------------------
 * Keeps the k best entries (rank order) of everything pushed, in at most cap >= k + 1 entries:
 * entries are appended while they can still make the cut (z > thr, the worst value of the last
 * compaction: a later entry equal to thr has a higher index than the k kept, so it cannot beat
 * them), and when the buffer is full a quickselect keeps the k best and raises thr. */
typedef struct PM_FN(pm_topk_acc) {
    pm_ent *ent;
    int64_t count, cap, k;
    int have_thr;
    PM_T thr;
} PM_FN(pm_topk_acc);

static void PM_FN(pm_acc_compact)(PM_FN(pm_topk_acc) *a)
{
    pm_select_count(a->ent, a->count, a->k);
    if (a->count > a->k) {
        a->count = a->k;
    }
    PM_T thr = (PM_T)a->ent[0].z;
    for (int64_t i = 1; i < a->count; i++) {
        thr = (PM_T)a->ent[i].z < thr ? (PM_T)a->ent[i].z : thr;
    }
    a->thr = thr;
    a->have_thr = 1;
}

static void PM_FN(pm_acc_append)(PM_FN(pm_topk_acc) *a, PM_T v, int64_t idx)
{
    if (a->count == a->cap) {
        PM_FN(pm_acc_compact)(a);
        if (!(v > a->thr)) {
            return;
        }
    }
    a->ent[a->count].z = (double)v;
    a->ent[a->count].idx = idx;
    a->ent[a->count].q = 0;
    a->count++;
}

/* Pushes z[0, len) (indices base..); sbmax: the super-block maxima of z (maxnan), or NULL. */
static void PM_FN(pm_acc_push)(const pm_infer_kernels *ik, PM_FN(pm_topk_acc) *a, const PM_T *z,
                               int64_t len, int64_t base, const PM_T *sbmax)
{
    int32_t hit[PM_SUPER];
    for (int64_t j0 = 0; j0 < len; j0 += PM_SUPER) {
        const int64_t n = len - j0 < PM_SUPER ? len - j0 : PM_SUPER;
        const PM_T *zb = z + j0;
        if (!a->have_thr) {
            for (int64_t l = 0; l < n; l++) {
                PM_FN(pm_acc_append)(a, zb[l], base + j0 + l);
            }
            continue;
        }
        if (sbmax && !(sbmax[j0 / PM_SUPER] > a->thr)) {
            continue; /* nothing in this super-block can make the cut */
        }
        /* only the entries above the threshold of the last compaction (it rises with each) */
        const int64_t h = PM_IK(ik, above)(zb, n, a->thr, 1, hit);
        for (int64_t i = 0; i < h; i++) {
            const PM_T v = zb[hit[i]];
            if (v > a->thr) {
                PM_FN(pm_acc_append)(a, v, base + j0 + hit[i]);
            }
        }
    }
}

/* Leaves the k best (or all, if fewer were pushed) in rank order in ent[0, count). */
static void PM_FN(pm_acc_finish)(PM_FN(pm_topk_acc) *a)
{
    if (a->count > a->k) {
        pm_select_count(a->ent, a->count, a->k);
        a->count = a->k;
    }
    pm_sort_rank(a->ent, a->count);
}

/* Entries a top-k accumulator over a row of n needs. */
static int64_t PM_FN(pm_topk_cap)(int64_t k, int64_t n, int64_t slack)
{
    int64_t extra = k > slack ? k : slack;
    int64_t cap = k + extra;
    return cap < n ? cap : n;
}

/* Seeds an empty accumulator's threshold from block maxima of z[0, n) (part of the row or all of
 * it): the k best of them are k distinct entries, so no entry below the k-th best block max can be
 * in the top k of the row. Blocks as small as the buffer allows (the tighter the bound), and at
 * least 2k of them: groups of maxnan's super-blocks when the caller has their maxima, else a pass
 * of block_max. The accumulator then takes only entries >= it. */
static void PM_FN(pm_acc_seed)(const pm_infer_kernels *ik, PM_FN(pm_topk_acc) *a, const PM_T *z,
                               int64_t n, const PM_T *sbmax)
{
    if (a->have_thr || a->count > 0) {
        return;
    }
    pm_ent *ent = a->ent;
    const int64_t k = a->k;
    int64_t bs = sbmax ? PM_SUPER : PM_INFER_BLOCK;
    while ((n + bs - 1) / bs > a->cap) {
        bs *= 2;
    }
    const int64_t nbk = (n + bs - 1) / bs;
    if (nbk < 2 * k) {
        return;
    }
    if (sbmax) {
        const int64_t g = bs / PM_SUPER, nsb = PM_SUPER_COUNT(n);
        for (int64_t b = 0; b < nbk; b++) {
            PM_T v = sbmax[b * g];
            for (int64_t i = b * g + 1; i < (b + 1) * g && i < nsb; i++) {
                v = sbmax[i] > v ? sbmax[i] : v;
            }
            ent[b].z = (double)v;
            ent[b].idx = b;
            ent[b].q = 0;
        }
    } else {
        PM_IK(ik, block_max)(z, n, bs, ent);
    }
    pm_select_count(ent, nbk, k);
    double thr0 = ent[0].z;
    for (int64_t i = 1; i < k; i++) {
        thr0 = ent[i].z < thr0 ? ent[i].z : thr0;
    }
    if (thr0 > -INFINITY) {
        a->thr = PM_CAT(pm_nextdown_, PM_S)((PM_T)thr0); /* pushed: z > thr, so z >= thr0 */
        a->have_thr = 1;
    }
}

/* The k best entries of one row, rank order, into ent[0, min(k, n)). ent holds cap entries;
 * sbmax: the row's super-block maxima (maxnan), or NULL. */
static int64_t PM_FN(pm_topk_row)(const pm_infer_kernels *ik, const PM_T *z, int64_t n, int64_t k,
                                  pm_ent *ent, int64_t cap, const PM_T *sbmax)
{
    PM_FN(pm_topk_acc) a = {ent, 0, cap, k, 0, 0};
    PM_FN(pm_acc_seed)(ik, &a, z, n, sbmax);
    PM_FN(pm_acc_push)(ik, &a, z, n, 0, sbmax);
    PM_FN(pm_acc_finish)(&a);
    return a.count;
}

/* ---- argmax --------------------------------------------------------------------------------- */

static int64_t PM_FN(pm_argmax_row)(const pm_infer_kernels *ik, const PM_T *x, int64_t n)
{
    PM_T m;
    if (PM_FN(pm_maxnan)(ik, x, n, &m)) {
        return PANMAX_NO_TOKEN;
    }
    for (int64_t j = 0; j < n; j++) {
        if (x[j] == m) {
            return j;
        }
    }
    return PANMAX_NO_TOKEN; /* unreachable: m is one of the entries */
}

PANMAX_API int32_t PM_PUB(argmax)(const PM_T *x, int64_t x_stride, int64_t rows, int64_t cols,
                                  int64_t *out, int32_t isa)
{
    if (x == NULL || out == NULL) {
        return PANMAX_ERR_NULL;
    }
    if (rows < 0 || cols < 1) {
        return PANMAX_ERR_SIZE;
    }
    if (x_stride < cols) {
        return PANMAX_ERR_STRIDE;
    }
    pm_iregion rx, ro;
    if (pm_ispan(x, rows, cols, x_stride, PM_ES, &rx) || pm_ispan(out, 1, rows, rows, 8, &ro)) {
        return PANMAX_ERR_SIZE;
    }
    if (pm_imisaligned(x, sizeof(PM_T)) || pm_imisaligned(out, 8)) {
        return PANMAX_ERR_ALIGNMENT;
    }
    if (pm_ioverlap(ro, rx)) {
        return PANMAX_ERR_OVERLAP;
    }
    const pm_isa_table *t;
    const pm_infer_kernels *ik;
    int32_t st = pm_infer_isa(isa, &t, &ik);
    if (st) {
        return st;
    }
    for (int64_t r = 0; r < rows; r++) {
        out[r] = PM_FN(pm_argmax_row)(ik, x + r * x_stride, cols);
    }
    return PANMAX_OK;
}

/* ---- top-k ------------------------------------------------------------------------------------ */

/* log(sum(exp(x - m))) of a finite-max row, with the ISA's expsum (a value, not a decision). */
static double PM_FN(pm_log_sum)(const PM_KT *kt, const PM_T *x, int64_t n, PM_T m, PM_T s)
{
    return log(kt->expsum(x, n, m, s));
}

PANMAX_API int32_t PM_PUB(topk)(const PM_T *x, int64_t x_stride, int64_t rows, int64_t cols,
                                int64_t k, int64_t *indices, int64_t indices_stride, PM_T *values,
                                int64_t values_stride, int32_t values_kind, int32_t isa)
{
    if (x == NULL || indices == NULL) {
        return PANMAX_ERR_NULL;
    }
    if (rows < 0 || cols < 1 || k < 1) {
        return PANMAX_ERR_SIZE;
    }
    if (x_stride < cols || indices_stride < k || (values && values_stride < k)) {
        return PANMAX_ERR_STRIDE;
    }
    pm_iregion rx, ri, rv;
    if (pm_ispan(x, rows, cols, x_stride, PM_ES, &rx) ||
        pm_ispan(indices, rows, k, indices_stride, 8, &ri) ||
        pm_ispan(values, rows, k, values_stride, PM_ES, &rv)) {
        return PANMAX_ERR_SIZE;
    }
    if (pm_imisaligned(x, sizeof(PM_T)) || pm_imisaligned(indices, 8) ||
        (values && pm_imisaligned(values, sizeof(PM_T)))) {
        return PANMAX_ERR_ALIGNMENT;
    }
    const pm_iregion outs[2] = {ri, rv};
    if (pm_any_overlap(outs, 2, &rx, 1)) {
        return PANMAX_ERR_OVERLAP;
    }
    if (k > cols || values_kind < PANMAX_TOPK_LOGITS || values_kind > PANMAX_TOPK_LOG_PROBABILITIES) {
        return PANMAX_ERR_ARGUMENT;
    }
    const pm_isa_table *t;
    const pm_infer_kernels *ik;
    int32_t st = pm_infer_isa(isa, &t, &ik);
    if (st) {
        return st;
    }
    const int64_t cap = PM_FN(pm_topk_cap)(k, cols, 1024) + 256;
    pm_carve c = {0, 0};
    size_t at_ent = pm_carve_take(&c, cap, sizeof(pm_ent));
    size_t at_sbm = pm_carve_take(&c, PM_SUPER_COUNT(cols), sizeof(PM_T));
    char *base = c.overflow ? NULL : pm_scratch(c.off);
    if (base == NULL) {
        return PANMAX_ERR_NO_MEMORY;
    }
    pm_ent *ent = (pm_ent *)(base + at_ent);
    PM_T *sbm = (PM_T *)(base + at_sbm);
    const PM_KT *kt = &t->PM_S;
    for (int64_t r = 0; r < rows; r++) {
        const PM_T *xr = x + r * x_stride;
        int64_t *ir = indices + r * indices_stride;
        PM_T *vr = values ? values + r * values_stride : NULL;
        PM_T m;
        if (PM_IK(ik, maxnan)(xr, cols, &m, sbm)) {
            for (int64_t i = 0; i < k; i++) {
                ir[i] = PANMAX_NO_TOKEN;
                if (vr) {
                    vr[i] = PM_NAN;
                }
            }
            continue;
        }
        int64_t got = PM_FN(pm_topk_row)(ik, xr, cols, k, ent, cap, sbm);
        for (int64_t i = 0; i < got; i++) {
            ir[i] = ent[i].idx;
        }
        if (!vr) {
            continue;
        }
        if (values_kind == PANMAX_TOPK_LOGITS) {
            for (int64_t i = 0; i < got; i++) {
                vr[i] = (PM_T)ent[i].z;
            }
            continue;
        }
        const int log_out = values_kind == PANMAX_TOPK_LOG_PROBABILITIES;
        if (m == -PM_INF || m == PM_INF) {
            /* empty row: every probability 0; +inf entries share the mass (softmax's rule) */
            int64_t kinf = 0;
            for (int64_t j = 0; m == PM_INF && j < cols; j++) {
                kinf += xr[j] == PM_INF;
            }
            for (int64_t i = 0; i < got; i++) {
                int on = m == PM_INF && ent[i].z == INFINITY;
                double p = on ? 1.0 / (double)kinf : 0.0;
                vr[i] = (PM_T)(log_out ? (on ? -log((double)kinf) : -INFINITY) : p);
            }
            continue;
        }
        const double lse = PM_FN(pm_log_sum)(kt, xr, cols, m, (PM_T)1);
        for (int64_t i = 0; i < got; i++) {
            double lp = (ent[i].z - (double)m) - lse;
            vr[i] = (PM_T)(log_out ? lp : exp(lp));
        }
    }
    return PANMAX_OK;
}

/* ---- sampling ---------------------------------------------------------------------------------- */

typedef struct PM_FN(pm_sampler) {
    const pm_infer_kernels *ik;
    const PM_KT *kt;
    const panmax_sample_config *cfg;
    int64_t n;
    double offset; /* pm_quant_offset(n) */
    PM_T *zbuf;   /* n */
    pm_ent *ent;  /* n + 256 */
    pm_ent *sub;  /* n */
    uint64_t *hist; /* 4 * PM_TOPP_BUCKETS */
    uint64_t *bsum; /* one per PM_INFER_BLOCK logits */
    int64_t *sblk;  /* collect()'s scratch */
    PM_T *sbmax;    /* the row's super-block maxima (maxnan) */
    int64_t *hsort;
} PM_FN(pm_sampler);

/* z = penalised logits + bias, -inf where banned, into sp->zbuf. Returns 0 when nothing changes
 * x (then the caller reads x itself). */
static int PM_FN(pm_effective)(const PM_FN(pm_sampler) *sp, const PM_T *x, const int64_t *hrow,
                               int64_t hlen, const PM_T *brow, const uint8_t *mrow)
{
    const panmax_sample_config *c = sp->cfg;
    const int64_t n = sp->n;
    const int penalties = hrow && hlen > 0 &&
        (c->repetition_penalty != 1 || c->presence_penalty != 0 || c->frequency_penalty != 0);
    if (!penalties && !brow && !mrow) {
        return 0;
    }
    PM_T *z = sp->zbuf;
    if (mrow && brow) {
        for (int64_t j = 0; j < n; j++) {
            z[j] = mrow[j] ? x[j] + brow[j] : -PM_INF;
        }
    } else if (mrow) {
        for (int64_t j = 0; j < n; j++) {
            z[j] = mrow[j] ? x[j] : -PM_INF;
        }
    } else if (brow) {
        for (int64_t j = 0; j < n; j++) {
            z[j] = x[j] + brow[j];
        }
    } else {
        memcpy(z, x, (size_t)n * sizeof(PM_T));
    }
    if (!penalties) {
        return 1;
    }
    /* Count each previous id once per occurrence: sort a copy, then walk the runs. */
    int64_t h = 0;
    for (int64_t i = 0; i < hlen; i++) {
        if (hrow[i] >= 0) {
            sp->hsort[h++] = hrow[i];
        }
    }
    for (int64_t i = 1; i < h; i++) { /* insertion sort: histories are short and mostly ordered */
        int64_t v = sp->hsort[i], j = i - 1;
        while (j >= 0 && sp->hsort[j] > v) {
            sp->hsort[j + 1] = sp->hsort[j];
            j--;
        }
        sp->hsort[j + 1] = v;
    }
    const PM_T rep = (PM_T)c->repetition_penalty;
    for (int64_t i = 0; i < h;) {
        const int64_t id = sp->hsort[i];
        int64_t count = 0;
        while (i < h && sp->hsort[i] == id) {
            count++;
            i++;
        }
        if (mrow && !mrow[id]) {
            continue; /* banned stays -inf */
        }
        /* repetition (CTRL, Keskar et al. 2019, as llama.cpp and HF apply it), then
         * frequency and presence (OpenAI): the order and the arithmetic are part of the rule */
        PM_T v = x[id];
        v = v > 0 ? v / rep : v * rep;
        v = v - (PM_T)((double)count * c->frequency_penalty + c->presence_penalty);
        if (brow) {
            v = v + brow[id];
        }
        z[id] = v;
    }
    return 1;
}

static void PM_FN(pm_no_token)(int64_t *token, PM_T *sc, int64_t top_n, int64_t *ti, PM_T *tl)
{
    *token = PANMAX_NO_TOKEN;
    if (sc) {
        for (int i = 0; i < PANMAX_SCORE_COUNT; i++) {
            sc[i] = PM_NAN;
        }
    }
    for (int64_t i = 0; i < top_n; i++) {
        ti[i] = PANMAX_NO_TOKEN;
        if (tl) {
            tl[i] = PM_NAN;
        }
    }
}

/* ceil(p * mass), at most mass. */
static uint64_t PM_FN(pm_topp_need)(double p, uint64_t mass)
{
    double want = ceil(p * (double)mass);
    if (!(want < (double)mass)) {
        return mass;
    }
    uint64_t need = (uint64_t)want;
    return need < 1 ? 1 : need;
}

/* The top-p boundary among the candidates ent[0, count) (a rank prefix of the row, q exact, summing
 * to cand) for every exact total in [lo, hi]: returns 1 with *bound when p's mass for lo and for hi
 * fall on the same candidate (the boundary only moves forward as the total grows), 0 if they do
 * not or hi's lies beyond the candidates. Ranks a copy (sp->sub). */
static int PM_FN(pm_topp_try)(const PM_FN(pm_sampler) *sp, int64_t count, uint64_t cand, uint64_t lo,
                              uint64_t hi, pm_ent *bound)
{
    const uint64_t need_lo = PM_FN(pm_topp_need)(sp->cfg->top_p, lo);
    const uint64_t need_hi = PM_FN(pm_topp_need)(sp->cfg->top_p, hi);
    if (count == 0 || need_hi > cand) {
        return 0;
    }
    memcpy(sp->sub, sp->ent, (size_t)count * sizeof(pm_ent));
    const int64_t pos = pm_select_mass(sp->sub, count, need_lo);
    uint64_t before = 0;
    for (int64_t i = 0; i < pos; i++) {
        before += sp->sub[i].q;
    }
    if (need_hi <= before + sp->sub[pos].q) {
        *bound = sp->sub[pos];
        return 1;
    }
    return 0;
}

/* Draws from the kept entries (index order): the first whose running q sum exceeds the draw's
 * position in their total. kept(e) is e ranked at or before *bound (when bound) and, with min-p,
 * w >= min_p. Returns the index, *qc its q, *mass the kept total. */
static int64_t PM_FN(pm_draw_list)(const PM_FN(pm_sampler) *sp, const pm_ent *e, int64_t count,
                                   const pm_ent *bound, PM_T m, PM_T s, uint64_t r64, uint64_t *qc,
                                   uint64_t *mass)
{
    const double min_p = sp->cfg->min_p;
    uint64_t total = 0;
    /* Pass 1: the kept mass (entries failing a filter get q = 0 in place of being removed). */
    pm_ent *w = (pm_ent *)e; /* the caller's list, ours to modify */
    for (int64_t i = 0; i < count; i++) {
        int keep = bound == NULL || !pm_ent_before(bound, &w[i]);
        if (keep && min_p > 0) {
            PM_T t = ((PM_T)w[i].z - m) * s;
            keep = (double)PM_DEXP(t) >= min_p;
        }
        if (!keep) {
            w[i].q = 0;
        }
        total += w[i].q;
    }
    const uint64_t target = pm_scale_draw(r64, total);
    uint64_t run = 0;
    for (int64_t i = 0; i < count; i++) {
        run += w[i].q;
        if (run > target) {
            *qc = w[i].q;
            *mass = total;
            return w[i].idx;
        }
    }
    *qc = 0;
    *mass = total;
    return PANMAX_NO_TOKEN; /* unreachable: the best entry is always kept with q = 2^S */
}

static void PM_FN(pm_sample_row)(const PM_FN(pm_sampler) *sp, const PM_T *x, const int64_t *hrow,
                                 int64_t hlen, const PM_T *brow, const uint8_t *mrow, uint64_t r64,
                                 int64_t *token, PM_T *sc, int64_t *ti, PM_T *tl)
{
    const panmax_sample_config *c = sp->cfg;
    const pm_infer_kernels *ik = sp->ik;
    const int64_t n = sp->n;
    const int64_t top_n = c->top_logprobs;
    const PM_T *z = PM_FN(pm_effective)(sp, x, hrow, hlen, brow, mrow) ? sp->zbuf : x;
    PM_T m;
    const PM_T *sbm = sp->sbmax; /* the maxima of z's super-blocks, while z is this row */
    if (PM_IK(ik, maxnan)(z, n, &m, sp->sbmax) || m == -PM_INF) {
        PM_FN(pm_no_token)(token, sc, top_n, ti, tl);
        return;
    }
    if (m == PM_INF) {
        /* +inf entries share the mass equally (softmax's rule): as logits 0 against -inf */
        PM_T *zb = sp->zbuf;
        for (int64_t j = 0; j < n; j++) {
            zb[j] = z[j] == PM_INF ? (PM_T)0 : -PM_INF;
        }
        z = zb;
        m = 0;
        sbm = NULL;
    }
    const int greedy = c->temperature == 0;
    const PM_T s = greedy ? (PM_T)1 : (PM_T)(1.0 / c->temperature);
    int64_t chosen = PANMAX_NO_TOKEN;
    uint64_t qc = 1, mass = 1;
    if (greedy) {
        chosen = 0;
        while (z[chosen] != m) {
            chosen++;
        }
    } else {
        const int64_t nk = c->top_k > 0 && c->top_k < n ? c->top_k : n;
        const int top_p = c->top_p < 1;
        const int min_p = c->min_p > 0;
        if (nk < n) {
            /* top-k by selection; then top-p over its renormalised mass, in rank order */
            int64_t got = PM_FN(pm_topk_row)(ik, z, n, nk, sp->ent, PM_FN(pm_topk_cap)(nk, n, 256),
                                             sbm);
            uint64_t total = 0;
            for (int64_t i = 0; i < got; i++) {
                PM_T t = ((PM_T)sp->ent[i].z - m) * s;
                sp->ent[i].q = pm_quant((double)PM_DEXP(t), sp->offset);
                total += sp->ent[i].q;
            }
            int64_t keep = got;
            if (top_p) {
                const uint64_t need = PM_FN(pm_topp_need)(c->top_p, total);
                uint64_t run = 0;
                for (keep = 0; keep < got;) {
                    run += sp->ent[keep++].q;
                    if (run >= need) {
                        break;
                    }
                }
            }
            pm_sort_index(sp->ent, keep);
            chosen = PM_FN(pm_draw_list)(sp, sp->ent, keep, NULL, m, s, r64, &qc, &mass);
        } else if (top_p) {
            /* top-p over the whole row: the exact total, a histogram of mass over t in [t0, 0]
             * finds the bucket where the running mass crosses p, and only that bucket is ranked.
             * Tokens with t < t0 = log((1 - p) / 4n) together weigh less than (1 - p) / 4 of the
             * best token alone, so none can be inside the top-p set (unless p is so close to 1
             * that quantisation could matter: then every token is a candidate). */
            const double onep = 1.0 - c->top_p;
            const int all = onep * ldexp(1.0, pm_quant_shift(n)) < 4.0 * ((double)n + 4096.0);
            const PM_T t0 = all ? -PM_INF : (PM_T)log(onep / (4.0 * (double)n));
            const int32_t nb = PM_TOPP_BUCKETS;
            const PM_T inv_w = all ? (PM_T)0 : (PM_T)((double)nb / -(double)t0);
            int64_t count;
            pm_ent bound;
            int found = 0;
            /* A dense row (most super-blocks reach t0: a flat or hot distribution, most tokens
             * candidates) goes to the histogram path at once, which never lists the candidates. */
            int dense = 0;
            if (!all && sbm && !min_p && n >= 4 * PM_SUPER) {
                const PM_T zg = (PM_T)((double)m + (double)t0 / (double)s); /* ~ t = t0 */
                const int64_t nsb = PM_SUPER_COUNT(n);
                int64_t hits = 0;
                for (int64_t i = 0; i < nsb; i++) {
                    hits += sbm[i] >= zg;
                }
                dense = 2 * hits > nsb;
            }
            if (!all && !dense) {
                /* Fast path. The tokens with t >= t0 (a rank prefix, exact q each, summing to cand)
                 * and a bound on the exact total sum(q) in [lo, hi] decide the boundary when p's
                 * mass for lo and for hi fall on the same candidate (pm_topp_try). First bound:
                 * lo = cand, hi = cand + collect's bound on the mass left out (from the super-block
                 * maxima: tight when the row is peaked, the common case). Else the ISA's expsum (a
                 * value: kernels.h's exp is within ~1 ulp, its sums in double) narrows it:
                 * PM_TOPP_DELTA covers the kernels' error, dexp's (4e-7), and the rounding of t,
                 * whose weighted mean |t| is below log(n) + 2, many times over; n / 2 + 1 covers
                 * the rounding of each q. Else the exact path below decides. */
                double tail_q = INFINITY;
                count = PM_IK(ik, collect)(z, n, m, s, sp->offset, t0, (PM_T)0, 0, 0, -1, sbm, sp->sblk,
                                           sp->ent, &tail_q);
                uint64_t cand = 0;
                for (int64_t i = 0; i < count; i++) {
                    cand += sp->ent[i].q;
                }
                const double two_s = ldexp(1.0, pm_quant_shift(n));
                const double cap_hi = two_s * (double)n; /* n tokens of at most 2^S each */
                double hi = ((double)cand + tail_q) * (1 + 0x1p-50) + 2; /* cand's rounding */
                hi = hi < cap_hi ? hi : cap_hi;
                found = PM_FN(pm_topp_try)(sp, count, cand, cand, (uint64_t)hi, &bound);
                if (!found) {
                    const double za = sp->kt->expsum(z, n, m, s);
                    double lo2 = two_s * za * (1 - PM_TOPP_DELTA) - 0.5 * (double)n - 1;
                    double hi2 = two_s * za * (1 + PM_TOPP_DELTA) + 0.5 * (double)n + 1;
                    const uint64_t lo = lo2 > (double)cand ? (uint64_t)lo2 : cand;
                    hi2 = hi2 < hi ? hi2 : hi;
                    if (isfinite(za) && (double)lo <= hi2) {
                        found = PM_FN(pm_topp_try)(sp, count, cand, lo, (uint64_t)hi2, &bound);
                    }
                }
            }
            if (!all && !found) {
                memset(sp->hist, 0, 4 * (size_t)nb * sizeof(uint64_t));
                const uint64_t total =
                    PM_IK(ik, mass)(z, n, m, s, sp->offset, t0, inv_w, nb, sp->hist, NULL);
                const uint64_t need = PM_FN(pm_topp_need)(c->top_p, total);
                uint64_t above = 0;
                int32_t bstar = -1;
                for (int32_t b = 0; b < nb; b++) {
                    if (above + sp->hist[b] >= need) {
                        bstar = b;
                        break;
                    }
                    above += sp->hist[b];
                }
                if (bstar >= 0 && !min_p) {
                    /* Only bucket b* is listed and ranked; the draw walks the row for the tokens
                     * ranked at or before the boundary, whose mass is above + the rank prefix. */
                    count = PM_IK(ik, collect)(z, n, m, s, sp->offset, t0, inv_w, nb, bstar, bstar,
                                               sbm, sp->sblk, sp->ent, NULL);
                    const int64_t pos = pm_select_mass(sp->ent, count, need - above);
                    uint64_t kept = above + sp->ent[pos].q;
                    for (int64_t i = 0; i < pos; i++) {
                        kept += sp->ent[i].q;
                    }
                    mass = kept;
                    chosen = PM_IK(ik, walk_kept)(z, n, m, s, sp->offset, (PM_T)sp->ent[pos].z,
                                                  sp->ent[pos].idx, pm_scale_draw(r64, kept), &qc);
                    found = 2;
                } else if (bstar >= 0) {
                    count = PM_IK(ik, collect)(z, n, m, s, sp->offset, t0, inv_w, nb, 0, bstar,
                                               sbm, sp->sblk, sp->ent, NULL);
                    int64_t ns = 0;
                    for (int64_t i = 0; i < count; i++) {
                        /* bucket >= bstar: computed as in mass() (t >= t0 holds for every entry) */
                        PM_T t = ((PM_T)sp->ent[i].z - m) * s;
                        if ((int32_t)(-t * inv_w) >= bstar) {
                            sp->sub[ns++] = sp->ent[i];
                        }
                    }
                    bound = sp->sub[pm_select_mass(sp->sub, ns, need - above)];
                    found = 1;
                }
            }
            if (!found) {
                count = PM_IK(ik, collect)(z, n, m, s, sp->offset, -PM_INF, (PM_T)0, 0, 0, -1,
                                           sbm, sp->sblk, sp->ent, NULL);
                uint64_t total = 0;
                for (int64_t i = 0; i < count; i++) {
                    total += sp->ent[i].q;
                }
                memcpy(sp->sub, sp->ent, (size_t)count * sizeof(pm_ent));
                bound = sp->sub[pm_select_mass(sp->sub, count, PM_FN(pm_topp_need)(c->top_p, total))];
            }
            if (found != 2) {
                chosen = PM_FN(pm_draw_list)(sp, sp->ent, count, &bound, m, s, r64, &qc, &mass);
            }
        } else if (min_p) {
            /* min-p alone: candidates by a threshold 1e-3 below log(min_p) (dexp is within 4e-7
             * of exp), the exact rule w >= min_p in the draw */
            const PM_T tm = (PM_T)(log(c->min_p) - 1e-3);
            int64_t count = PM_IK(ik, collect)(z, n, m, s, sp->offset, tm, (PM_T)0, 0, 0, -1, sbm, sp->sblk,
                                               sp->ent, NULL);
            chosen = PM_FN(pm_draw_list)(sp, sp->ent, count, NULL, m, s, r64, &qc, &mass);
        } else {
            /* no filter: the exact total with its block sums, then a walk in index order that
             * recomputes only the block the draw lands in */
            mass = PM_IK(ik, mass)(z, n, m, s, sp->offset, (PM_T)0, (PM_T)0, 0, NULL, sp->bsum);
            chosen = PM_IK(ik, walk)(z, n, m, s, sp->offset, sp->bsum, pm_scale_draw(r64, mass), &qc);
        }
    }
    *token = chosen;
    if (!sc && top_n == 0) {
        return;
    }
    /* Scores: values, so the ISA's expsum is fine here. Raw = before top-k/top-p/min-p, at the
     * temperature (1 for greedy). */
    const double lz = PM_FN(pm_log_sum)(sp->kt, z, n, m, s);
    if (sc) {
        const double raw_lp = ((double)z[chosen] - (double)m) * (double)s - lz;
        sc[PANMAX_SCORE_PROB] = (PM_T)((double)qc / (double)mass);
        sc[PANMAX_SCORE_LOGPROB] = (PM_T)log((double)qc / (double)mass);
        sc[PANMAX_SCORE_RAW_PROB] = (PM_T)exp(raw_lp);
        sc[PANMAX_SCORE_RAW_LOGPROB] = (PM_T)raw_lp;
    }
    if (top_n > 0) {
        int64_t got = PM_FN(pm_topk_row)(ik, z, n, top_n, sp->ent,
                                           PM_FN(pm_topk_cap)(top_n, n, 256), sbm);
        for (int64_t i = 0; i < got; i++) {
            ti[i] = sp->ent[i].idx;
            if (tl) {
                tl[i] = (PM_T)((sp->ent[i].z - (double)m) * (double)s - lz);
            }
        }
    }
}

PANMAX_API int32_t PM_PUB(sample)(const PM_T *logits, int64_t logits_stride, int64_t rows,
                                  int64_t cols, const panmax_sample_config *config,
                                  const int64_t *history, int64_t history_stride,
                                  int64_t history_len, const PM_T *bias, int64_t bias_stride,
                                  const uint8_t *mask, int64_t mask_stride, const int64_t *seeds,
                                  const int64_t *steps, const double *uniforms, int64_t *tokens,
                                  PM_T *scores, int64_t scores_stride, int64_t *top_indices,
                                  int64_t top_indices_stride, PM_T *top_logprobs,
                                  int64_t top_logprobs_stride, int32_t isa)
{
    if (logits == NULL || config == NULL || tokens == NULL ||
        (config->top_logprobs > 0 && top_indices == NULL)) {
        return PANMAX_ERR_NULL;
    }
    const int64_t top_n = config->top_logprobs > 0 ? config->top_logprobs : 0;
    const int64_t hlen = history ? history_len : 0;
    if (rows < 0 || cols < 1 || hlen < 0) {
        return PANMAX_ERR_SIZE;
    }
    if (logits_stride < cols || (hlen > 0 && history_stride != 0 && history_stride < hlen) ||
        (bias && bias_stride != 0 && bias_stride < cols) ||
        (mask && mask_stride != 0 && mask_stride < cols) ||
        (scores && scores_stride < PANMAX_SCORE_COUNT) ||
        (top_n > 0 && (top_indices_stride < top_n || (top_logprobs && top_logprobs_stride < top_n)))) {
        return PANMAX_ERR_STRIDE;
    }
    pm_iregion rx, rh, rb, rm, rs1, rs2, ru, rc, rt, rsc, rti, rtl;
    if (pm_ispan(logits, rows, cols, logits_stride, PM_ES, &rx) ||
        pm_ispan(history, rows, hlen, history_stride, 8, &rh) ||
        pm_ispan(bias, rows, cols, bias_stride, PM_ES, &rb) ||
        pm_ispan(mask, rows, cols, mask_stride, 1, &rm) ||
        pm_ispan(seeds, 1, rows, rows, 8, &rs1) || pm_ispan(steps, 1, rows, rows, 8, &rs2) ||
        pm_ispan(uniforms, 1, rows, rows, 8, &ru) ||
        pm_ispan(config, 1, 1, 1, (int64_t)sizeof *config, &rc) ||
        pm_ispan(tokens, 1, rows, rows, 8, &rt) ||
        pm_ispan(scores, rows, PANMAX_SCORE_COUNT, scores_stride, PM_ES, &rsc) ||
        pm_ispan(top_n > 0 ? top_indices : NULL, rows, top_n, top_indices_stride, 8, &rti) ||
        pm_ispan(top_n > 0 ? top_logprobs : NULL, rows, top_n, top_logprobs_stride, PM_ES, &rtl)) {
        return PANMAX_ERR_SIZE;
    }
    if (pm_imisaligned(logits, sizeof(PM_T)) || pm_imisaligned(config, 8) ||
        pm_imisaligned(tokens, 8) || (history && pm_imisaligned(history, 8)) ||
        (bias && pm_imisaligned(bias, sizeof(PM_T))) || (seeds && pm_imisaligned(seeds, 8)) ||
        (steps && pm_imisaligned(steps, 8)) || (uniforms && pm_imisaligned(uniforms, 8)) ||
        (scores && pm_imisaligned(scores, sizeof(PM_T))) ||
        (top_indices && pm_imisaligned(top_indices, 8)) ||
        (top_logprobs && pm_imisaligned(top_logprobs, sizeof(PM_T)))) {
        return PANMAX_ERR_ALIGNMENT;
    }
    const pm_iregion outs[4] = {rt, rsc, rti, rtl};
    const pm_iregion ins[8] = {rx, rh, rb, rm, rs1, rs2, ru, rc};
    if (pm_any_overlap(outs, 4, ins, 8)) {
        return PANMAX_ERR_OVERLAP;
    }
    if (!pm_config_ok(config, cols, PM_T_MIN) || (uniforms && (seeds || steps))) {
        return PANMAX_ERR_ARGUMENT;
    }
    const pm_isa_table *t;
    const pm_infer_kernels *ik;
    int32_t st = pm_infer_isa(isa, &t, &ik);
    if (st) {
        return st;
    }
    /* Data rules, all read before anything is written: ids in range (-1 pads), no row with every
     * token banned, uniforms in [0, 1). */
    for (int64_t r = 0; r < rows; r++) {
        const int64_t *hr = history ? history + r * history_stride : NULL;
        for (int64_t i = 0; i < hlen; i++) {
            if (hr[i] < -1 || hr[i] >= cols) {
                return PANMAX_ERR_ARGUMENT;
            }
        }
        if (mask) {
            const uint8_t *mr = mask + r * mask_stride;
            int64_t j = 0;
            while (j < cols && mr[j] == 0) {
                j++;
            }
            if (j == cols) {
                return PANMAX_ERR_ARGUMENT;
            }
        }
        if (uniforms && !(uniforms[r] >= 0 && uniforms[r] < 1)) {
            return PANMAX_ERR_ARGUMENT;
        }
        if (hr == NULL && mask == NULL && uniforms == NULL) {
            break;
        }
    }
    pm_carve cv = {0, 0};
    const size_t at_z = pm_carve_take(&cv, cols, sizeof(PM_T));
    const size_t at_ent = pm_carve_take(&cv, cols + 256, sizeof(pm_ent));
    const size_t at_sub = pm_carve_take(&cv, cols, sizeof(pm_ent));
    const size_t at_hist = pm_carve_take(&cv, 4 * PM_TOPP_BUCKETS, sizeof(uint64_t));
    const size_t at_bsum = pm_carve_take(&cv, cols / PM_INFER_BLOCK + 1, sizeof(uint64_t));
    const size_t at_hs = pm_carve_take(&cv, hlen, sizeof(int64_t));
    const size_t at_sb = pm_carve_take(&cv, PM_SUPER_COUNT(cols), sizeof(int64_t));
    const size_t at_sbm = pm_carve_take(&cv, PM_SUPER_COUNT(cols), sizeof(PM_T));
    char *base = cv.overflow ? NULL : pm_scratch(cv.off);
    if (base == NULL) {
        return PANMAX_ERR_NO_MEMORY;
    }
    PM_FN(pm_sampler) sp = {
        .ik = ik,
        .kt = &t->PM_S,
        .cfg = config,
        .n = cols,
        .offset = pm_quant_offset(cols),
        .zbuf = (PM_T *)(base + at_z),
        .ent = (pm_ent *)(base + at_ent),
        .sub = (pm_ent *)(base + at_sub),
        .hist = (uint64_t *)(base + at_hist),
        .bsum = (uint64_t *)(base + at_bsum),
        .hsort = (int64_t *)(base + at_hs),
        .sblk = (int64_t *)(base + at_sb),
        .sbmax = (PM_T *)(base + at_sbm),
    };
    for (int64_t r = 0; r < rows; r++) {
        uint64_t r64 = uniforms ? pm_draw_from_uniform(uniforms[r])
                                : pm_draw64(seeds ? (uint64_t)seeds[r] : config->seed,
                                            steps ? (uint64_t)steps[r] : config->step);
        PM_FN(pm_sample_row)(&sp, logits + r * logits_stride,
                             history ? history + r * history_stride : NULL, hlen,
                             bias ? bias + r * bias_stride : NULL,
                             mask ? mask + r * mask_stride : NULL, r64, tokens + r,
                             scores ? scores + r * scores_stride : NULL,
                             top_n > 0 ? top_indices + r * top_indices_stride : NULL,
                             top_n > 0 && top_logprobs ? top_logprobs + r * top_logprobs_stride : NULL);
    }
    return PANMAX_OK;
}

/* ---- classifier heads ------------------------------------------------------------------------- */

/* z[0, len) = rows r0.. of x times the classes [c0, c0 + len) of w, into z with row stride ldz. */
static void PM_FN(pm_head_gemm)(const PM_T *x, int64_t x_stride, int64_t nrows, int64_t dim,
                                const PM_T *w, int64_t w_stride, int transposed, int64_t c0,
                                int64_t len, PM_T *z, int64_t ldz)
{
    if (nrows == 1) {
        if (transposed) {
            PM_BLAS(gemv)(CblasRowMajor, CblasTrans, (int)dim, (int)len, (PM_T)1, w + c0,
                          (int)w_stride, x, 1, (PM_T)0, z, 1);
        } else {
            PM_BLAS(gemv)(CblasRowMajor, CblasNoTrans, (int)len, (int)dim, (PM_T)1,
                          w + c0 * w_stride, (int)w_stride, x, 1, (PM_T)0, z, 1);
        }
        return;
    }
    if (transposed) {
        PM_BLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nrows, (int)len, (int)dim,
                      (PM_T)1, x, (int)x_stride, w + c0, (int)w_stride, (PM_T)0, z, (int)ldz);
    } else {
        PM_BLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nrows, (int)len, (int)dim,
                      (PM_T)1, x, (int)x_stride, w + c0 * w_stride, (int)w_stride, (PM_T)0, z,
                      (int)ldz);
    }
}

/* Row state of the online softmax over chunks: M the running max of z, S = sum exp((z - M) s). */
typedef struct PM_FN(pm_head_row) {
    PM_T M;
    double S;
    int special; /* NaN or +inf seen: the row is redone whole at the end */
} PM_FN(pm_head_row);

PANMAX_API int32_t PM_PUB(head)(const PM_T *x, int64_t x_stride, int64_t rows, int64_t dim,
                                const PM_T *w, int64_t w_stride, int64_t classes, const PM_T *bias,
                                PM_T temperature, int32_t flags, PM_T *logits,
                                int64_t logits_stride, PM_T *probs, int64_t probs_stride,
                                int64_t k, int64_t *top_indices, int64_t top_indices_stride,
                                PM_T *top_values, int64_t top_values_stride, int32_t isa)
{
    const int transposed = (flags & PANMAX_HEAD_W_TRANSPOSED) != 0;
    const int log_out = (flags & PANMAX_FLAG_LOG) != 0;
    if (x == NULL || w == NULL || (logits == NULL && probs == NULL && top_indices == NULL) ||
        (top_values && !top_indices)) {
        return PANMAX_ERR_NULL;
    }
    if (rows < 0 || dim < 1 || classes < 1 || (top_indices && k < 1) || dim > INT_MAX ||
        classes > INT_MAX || rows > INT_MAX) {
        return PANMAX_ERR_SIZE;
    }
    const int64_t kk = top_indices ? k : 0;
    if (x_stride < dim || w_stride < (transposed ? classes : dim) || x_stride > INT_MAX ||
        w_stride > INT_MAX || (logits && (logits_stride < classes || logits_stride > INT_MAX)) ||
        (probs && (probs_stride < classes || probs_stride > INT_MAX)) ||
        (top_indices && top_indices_stride < kk) || (top_values && top_values_stride < kk)) {
        return PANMAX_ERR_STRIDE;
    }
    pm_iregion rx, rw, rb, rl, rp, rti, rtv;
    if (pm_ispan(x, rows, dim, x_stride, PM_ES, &rx) ||
        pm_ispan(w, transposed ? dim : classes, transposed ? classes : dim, w_stride, PM_ES, &rw) ||
        pm_ispan(bias, 1, classes, classes, PM_ES, &rb) ||
        pm_ispan(logits, rows, classes, logits_stride, PM_ES, &rl) ||
        pm_ispan(probs, rows, classes, probs_stride, PM_ES, &rp) ||
        pm_ispan(top_indices, rows, kk, top_indices_stride, 8, &rti) ||
        pm_ispan(top_values, rows, kk, top_values_stride, PM_ES, &rtv)) {
        return PANMAX_ERR_SIZE;
    }
    if (pm_imisaligned(x, sizeof(PM_T)) || pm_imisaligned(w, sizeof(PM_T)) ||
        (bias && pm_imisaligned(bias, sizeof(PM_T))) ||
        (logits && pm_imisaligned(logits, sizeof(PM_T))) ||
        (probs && pm_imisaligned(probs, sizeof(PM_T))) ||
        (top_indices && pm_imisaligned(top_indices, 8)) ||
        (top_values && pm_imisaligned(top_values, sizeof(PM_T)))) {
        return PANMAX_ERR_ALIGNMENT;
    }
    const pm_iregion outs[4] = {rl, rp, rti, rtv};
    const pm_iregion ins[3] = {rx, rw, rb};
    if (pm_any_overlap(outs, 4, ins, 3)) {
        return PANMAX_ERR_OVERLAP;
    }
    if ((flags & ~(PANMAX_FLAG_LOG | PANMAX_HEAD_W_TRANSPOSED)) != 0 || !isfinite(temperature) ||
        !(temperature >= PM_T_MIN) || kk > classes) {
        return PANMAX_ERR_ARGUMENT;
    }
    const pm_isa_table *t;
    const pm_infer_kernels *ik;
    int32_t st = pm_infer_isa(isa, &t, &ik);
    if (st) {
        return st;
    }
    if (rows == 0) {
        return PANMAX_OK;
    }
    const PM_KT *kt = &t->PM_S;
    const int64_t rb_rows = rows < PM_HEAD_ROWS ? rows : PM_HEAD_ROWS;
    const int64_t chunk = classes < PM_HEAD_CHUNK ? classes : PM_HEAD_CHUNK;
    const int64_t nchunks = (classes + chunk - 1) / chunk;
    const int64_t cap = kk > 0 ? PM_FN(pm_topk_cap)(kk, classes, 256) : 0;
    pm_carve cv = {0, 0};
    const size_t at_z = pm_carve_take(&cv, logits || probs ? 0 : rb_rows * chunk, sizeof(PM_T));
    const size_t at_row = pm_carve_take(&cv, rb_rows, sizeof(PM_FN(pm_head_row)));
    const size_t at_cm = pm_carve_take(&cv, rb_rows * nchunks, sizeof(PM_T));
    const size_t at_ent = pm_carve_take(&cv, rb_rows * cap, sizeof(pm_ent));
    const size_t at_acc = pm_carve_take(&cv, kk > 0 ? rb_rows : 0, sizeof(PM_FN(pm_topk_acc)));
    const size_t at_full = pm_carve_take(&cv, classes, sizeof(PM_T));
    const size_t at_fent = pm_carve_take(&cv, kk > 0 ? PM_FN(pm_topk_cap)(kk, classes, 1024) + 256 : 0,
                                         sizeof(pm_ent));
    char *base = cv.overflow ? NULL : pm_scratch(cv.off);
    if (base == NULL) {
        return PANMAX_ERR_NO_MEMORY;
    }
    PM_T *zs = (PM_T *)(base + at_z);
    PM_FN(pm_head_row) *st_rows = (PM_FN(pm_head_row) *)(base + at_row);
    PM_T *cmax = (PM_T *)(base + at_cm);
    pm_ent *ents = (pm_ent *)(base + at_ent);
    PM_FN(pm_topk_acc) *accs = (PM_FN(pm_topk_acc) *)(base + at_acc);
    PM_T *full = (PM_T *)(base + at_full);
    pm_ent *fent = (pm_ent *)(base + at_fent);
    const PM_T s = (PM_T)1 / temperature;

    for (int64_t r0 = 0; r0 < rows; r0 += PM_HEAD_ROWS) {
        const int64_t nr = rows - r0 < PM_HEAD_ROWS ? rows - r0 : PM_HEAD_ROWS;
        for (int64_t i = 0; i < nr; i++) {
            st_rows[i].M = -PM_INF;
            st_rows[i].S = 0;
            st_rows[i].special = 0;
            if (kk > 0) {
                PM_FN(pm_topk_acc) a0 = {ents + i * cap, 0, cap, kk, 0, 0};
                accs[i] = a0;
            }
        }
        for (int64_t ci = 0; ci < nchunks; ci++) {
            const int64_t c0 = ci * chunk, len = classes - c0 < chunk ? classes - c0 : chunk;
            PM_T *zc;
            int64_t ldz;
            if (logits) {
                zc = logits + r0 * logits_stride + c0;
                ldz = logits_stride;
            } else if (probs) {
                zc = probs + r0 * probs_stride + c0;
                ldz = probs_stride;
            } else {
                zc = zs;
                ldz = chunk;
            }
            PM_FN(pm_head_gemm)(x + r0 * x_stride, x_stride, nr, dim, w, w_stride, transposed, c0,
                                len, zc, ldz);
            for (int64_t i = 0; i < nr; i++) {
                PM_T *zr = zc + i * ldz;
                PM_FN(pm_head_row) *hr = &st_rows[i];
                if (bias) {
                    for (int64_t j = 0; j < len; j++) {
                        zr[j] += bias[c0 + j];
                    }
                }
                PM_T mc;
                if (hr->special || PM_FN(pm_maxnan)(ik, zr, len, &mc) || mc == PM_INF) {
                    hr->special = 1;
                    continue;
                }
                cmax[i * nchunks + ci] = mc;
                if (kk > 0) {
                    PM_FN(pm_acc_seed)(ik, &accs[i], zr, len, NULL);
                    PM_FN(pm_acc_push)(ik, &accs[i], zr, len, c0, NULL);
                }
                if (mc == -PM_INF) {
                    continue; /* nothing to add; probabilities 0 there at the end */
                }
                PM_T *pr = probs ? probs + (r0 + i) * probs_stride + c0 : NULL;
                double e;
                if (pr && !log_out) {
                    e = kt->expsum_store(zr, pr, len, mc, s); /* pr may be zr (no logits output) */
                } else {
                    e = kt->expsum(zr, len, mc, s);
                }
                if (mc > hr->M) {
                    hr->S = hr->S * exp(((double)hr->M - (double)mc) * (double)s) + e;
                    hr->M = mc;
                } else {
                    hr->S += e * exp(((double)mc - (double)hr->M) * (double)s);
                }
            }
        }
        /* Finish each row: one rescale pass over the stored exp (softmax), or one shift pass from
         * the logits (log-softmax); the top-k from its candidates; special rows redone whole. */
        for (int64_t i = 0; i < nr; i++) {
            const int64_t r = r0 + i;
            PM_FN(pm_head_row) *hr = &st_rows[i];
            PM_T *pr = probs ? probs + r * probs_stride : NULL;
            int64_t *tir = kk > 0 ? top_indices + r * top_indices_stride : NULL;
            PM_T *tvr = top_values ? top_values + r * top_values_stride : NULL;
            if (hr->special || hr->M == -PM_INF) {
                /* NaN, +inf or no finite logit: recompute the row and apply softmax's rules */
                PM_T *zr = full;
                if (logits) {
                    zr = logits + r * logits_stride;
                } else {
                    PM_FN(pm_head_gemm)(x + r * x_stride, x_stride, 1, dim, w, w_stride, transposed,
                                        0, classes, full, classes);
                    if (bias) {
                        for (int64_t j = 0; j < classes; j++) {
                            full[j] += bias[j];
                        }
                    }
                }
                if (pr) {
                    PM_PUB(softmax_ex)(zr, classes, pr, classes, 1, classes, temperature, NULL, 0,
                                       NULL, 0, log_out ? PANMAX_FLAG_LOG : 0, isa);
                }
                if (kk > 0) {
                    PM_T m;
                    int nan = PM_FN(pm_maxnan)(ik, zr, classes, &m);
                    int64_t got = nan ? 0 : PM_FN(pm_topk_row)(ik, zr, classes, kk, fent,
                                                               PM_FN(pm_topk_cap)(kk, classes, 1024) + 256,
                                                               NULL);
                    int64_t kinf = 0;
                    for (int64_t j = 0; !nan && m == PM_INF && j < classes; j++) {
                        kinf += zr[j] == PM_INF;
                    }
                    for (int64_t q = 0; q < kk; q++) {
                        tir[q] = q < got ? fent[q].idx : PANMAX_NO_TOKEN;
                        if (tvr) {
                            int on = m == PM_INF && q < got && fent[q].z == INFINITY;
                            tvr[q] = nan ? PM_NAN
                                   : log_out ? (on ? (PM_T)-log((double)kinf) : -PM_INF)
                                             : (on ? (PM_T)(1.0 / (double)kinf) : (PM_T)0);
                        }
                    }
                }
                continue;
            }
            const double logS = log(hr->S);
            if (pr) {
                for (int64_t ci = 0; ci < nchunks; ci++) {
                    const int64_t c0 = ci * chunk, len = classes - c0 < chunk ? classes - c0 : chunk;
                    const PM_T mc = cmax[i * nchunks + ci];
                    if (log_out) {
                        const PM_T *src = logits ? logits + r * logits_stride + c0 : pr + c0;
                        kt->shiftscale(src, pr + c0, len, hr->M, s, (PM_T)logS);
                    } else if (mc == -PM_INF) {
                        for (int64_t j = 0; j < len; j++) {
                            pr[c0 + j] = 0;
                        }
                    } else {
                        const PM_T f = (PM_T)(exp(((double)mc - (double)hr->M) * (double)s) / hr->S);
                        kt->scale(pr + c0, pr + c0, len, f);
                    }
                }
            }
            if (kk > 0) {
                PM_FN(pm_topk_acc) *a = &accs[i];
                PM_FN(pm_acc_finish)(a);
                for (int64_t q = 0; q < kk; q++) {
                    tir[q] = a->ent[q].idx;
                    if (tvr) {
                        double lp = (a->ent[q].z - (double)hr->M) * (double)s - logS;
                        tvr[q] = (PM_T)(log_out ? lp : exp(lp));
                    }
                }
            }
        }
    }
    return PANMAX_OK;
}

#undef PM_CAT_
#undef PM_CAT
#undef PM_FN
#undef PM_PUB
#undef PM_KT
#undef PM_IK
#undef PM_DEXP
#undef PM_ES
#undef PM_INF
#undef PM_NAN
#undef PM_BLAS
#undef PM_IBLAS_f32
#undef PM_IBLAS_f64
