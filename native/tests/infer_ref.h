/*
 * Brute-force references of the inference operations for one element type, included by
 * test_infer.c with RT (float, double), RS (f32, f64). The sampling reference is the rule of
 * panmax.h written the plain way: every logit ranked by a full sort, every mass summed in index
 * or rank order. It shares only the deterministic primitives (pm_dexp, pm_quant, Philox) with the
 * library, which test_infer.c checks on their own.
 */
#ifndef RT
#error "included by test_infer.c"
#endif

#define R_CAT_(a, b) a##b
#define R_CAT(a, b) R_CAT_(a, b)
#define RF(name) R_CAT(R_CAT(name, _), RS)
#define R_DEXP R_CAT(pm_dexp_, RS)
#define R_INF ((RT)INFINITY)

static const RT *RF(rank_z);
static int RF(rank_cmp)(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    RT za = RF(rank_z)[a], zb = RF(rank_z)[b];
    if (za != zb) {
        return za > zb ? -1 : 1;
    }
    return a < b ? -1 : a > b;
}

/* All indices of z[0, n) in rank order (no NaN in z). */
static int64_t *RF(rank_all)(const RT *z, int64_t n)
{
    int64_t *o = xmalloc((size_t)n * sizeof *o);
    for (int64_t j = 0; j < n; j++) {
        o[j] = j;
    }
    RF(rank_z) = z;
    qsort(o, (size_t)n, sizeof *o, RF(rank_cmp));
    return o;
}

typedef struct RF(ref_result) {
    int64_t token;
    uint64_t qc, mass;     /* the chosen token's q and the kept mass */
    unsigned char *kept;   /* n flags (caller frees) */
    uint64_t *q;           /* n quantised weights (caller frees) */
    RT *z;                 /* effective logits after the +inf rule (caller frees) */
    RT m, s;
} RF(ref_result);

static RF(ref_result) RF(ref_sample)(const RT *x, int64_t n, const panmax_sample_config *c,
                                     const int64_t *h, int64_t hlen, const RT *b,
                                     const uint8_t *mk, uint64_t r64)
{
    RF(ref_result) res = {PANMAX_NO_TOKEN, 0, 0, NULL, NULL, NULL, 0, 0};
    RT *z = xmalloc((size_t)n * sizeof *z);
    for (int64_t j = 0; j < n; j++) {
        z[j] = mk && !mk[j] ? -R_INF : b ? x[j] + b[j] : x[j];
    }
    for (int64_t i = 0; i < hlen; i++) {
        int64_t id = h[i];
        if (id < 0) {
            continue;
        }
        int first = 1;
        int64_t count = 0;
        for (int64_t k = 0; k < hlen; k++) {
            first &= !(k < i && h[k] == id);
            count += h[k] == id;
        }
        if (!first || (mk && !mk[id])) {
            continue;
        }
        RT v = x[id];
        RT rep = (RT)c->repetition_penalty;
        v = v > 0 ? v / rep : v * rep;
        v = v - (RT)((double)count * c->frequency_penalty + c->presence_penalty);
        if (b) {
            v = v + b[id];
        }
        z[id] = v;
    }
    RT m = -R_INF;
    int nan = 0;
    for (int64_t j = 0; j < n; j++) {
        nan |= isnan(z[j]);
        if (z[j] > m) {
            m = z[j];
        }
    }
    res.z = z;
    if (nan || m == -R_INF) {
        return res;
    }
    if (m == R_INF) {
        for (int64_t j = 0; j < n; j++) {
            z[j] = z[j] == R_INF ? (RT)0 : -R_INF;
        }
        m = 0;
    }
    res.m = m;
    res.kept = xmalloc((size_t)n);
    res.q = xmalloc((size_t)n * sizeof *res.q);
    if (c->temperature == 0) {
        for (int64_t j = 0; j < n; j++) {
            if (z[j] == m) {
                res.token = j;
                break;
            }
        }
        res.qc = res.mass = 1;
        res.s = 1;
        memset(res.kept, 0, (size_t)n);
        res.kept[res.token] = 1;
        return res;
    }
    const RT s = (RT)(1.0 / c->temperature);
    res.s = s;
    const double offset = pm_quant_offset(n);
    for (int64_t j = 0; j < n; j++) {
        res.q[j] = pm_quant((double)R_DEXP((z[j] - m) * s), offset);
    }
    int64_t *order = RF(rank_all)(z, n);
    int64_t nk = c->top_k > 0 && c->top_k < n ? c->top_k : n;
    int64_t L = nk;
    if (c->top_p < 1) {
        uint64_t total = 0;
        for (int64_t i = 0; i < nk; i++) {
            total += res.q[order[i]];
        }
        double want = ceil(c->top_p * (double)total);
        uint64_t need = !(want < (double)total) ? total : (uint64_t)want;
        need = need < 1 ? 1 : need;
        uint64_t run = 0;
        for (L = 0; L < nk;) {
            run += res.q[order[L++]];
            if (run >= need) {
                break;
            }
        }
    }
    memset(res.kept, 0, (size_t)n);
    for (int64_t i = 0; i < L; i++) {
        int64_t j = order[i];
        res.kept[j] = c->min_p == 0 || (double)R_DEXP((z[j] - m) * s) >= c->min_p;
    }
    free(order);
    uint64_t mass = 0;
    for (int64_t j = 0; j < n; j++) {
        mass += res.kept[j] ? res.q[j] : 0;
    }
    const uint64_t target = (uint64_t)(((unsigned __int128)r64 * mass) >> 64);
    uint64_t run = 0;
    for (int64_t j = 0; j < n; j++) {
        run += res.kept[j] ? res.q[j] : 0;
        if (run > target) {
            res.token = j;
            res.qc = res.q[j];
            break;
        }
    }
    res.mass = mass;
    return res;
}

/* The same prepared row, another draw. */
static void RF(ref_redraw)(RF(ref_result) *r, int64_t n, uint64_t r64)
{
    if (r->token < 0 || r->kept == NULL || r->s == 0 || r->mass == 1) {
        return; /* no token, or greedy: the draw does not matter */
    }
    const uint64_t target = (uint64_t)(((unsigned __int128)r64 * r->mass) >> 64);
    uint64_t run = 0;
    for (int64_t j = 0; j < n; j++) {
        run += r->kept[j] ? r->q[j] : 0;
        if (run > target) {
            r->token = j;
            r->qc = r->q[j];
            return;
        }
    }
}

static void RF(ref_free)(RF(ref_result) *r)
{
    free(r->kept);
    free(r->q);
    free(r->z);
}

#undef R_CAT_
#undef R_CAT
#undef RF
#undef R_DEXP
#undef R_INF
