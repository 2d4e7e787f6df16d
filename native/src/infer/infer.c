/*
 * Public entry points of the inference section of panmax.h: argmax, top-k, token sampling,
 * classifier heads, and the BLAS thread setting. Argument checks follow ops.c's order (null,
 * size, stride, spans, alignment, overlap, argument values, ISA, then data-dependent values such
 * as token ids and masks, all read before anything is written), then a typed driver runs
 * (infer_generic.h, included once per element type).
 *
 * What decides a sampled token is computed by the deterministic functions of infer_internal.h
 * and the loop kernels of infer_kernels.h (the same bits on every ISA); the ISA kernels of
 * kernels.h serve only the scores and the heads' softmax, which are values, not decisions.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "infer_internal.h"
#include "kernels.h"
#include "panmax.h"

#define PANMAX_API __attribute__((visibility("default")))

/* ---- per-thread scratch --------------------------------------------------------------------- */

typedef struct pm_scratch_block {
    size_t cap;
    void *data; /* 64-byte aligned */
} pm_scratch_block;

static pthread_key_t g_scratch_key;
static pthread_once_t g_scratch_once = PTHREAD_ONCE_INIT;
static int g_scratch_key_ok;

static void pm_scratch_destroy(void *p)
{
    pm_scratch_block *b = p;
    if (b) {
        free(b->data);
        free(b);
    }
}

static void pm_scratch_init(void)
{
    g_scratch_key_ok = pthread_key_create(&g_scratch_key, pm_scratch_destroy) == 0;
}

void *pm_scratch(size_t bytes)
{
    pthread_once(&g_scratch_once, pm_scratch_init);
    if (!g_scratch_key_ok) {
        return NULL;
    }
    pm_scratch_block *b = pthread_getspecific(g_scratch_key);
    if (b == NULL) {
        b = calloc(1, sizeof *b);
        if (b == NULL || pthread_setspecific(g_scratch_key, b) != 0) {
            free(b);
            return NULL;
        }
    }
    if (b->cap < bytes) {
        /* grow by half again, so a slowly growing row length reallocates O(log) times */
        size_t want = bytes + bytes / 2;
        if (want < bytes) {
            want = bytes;
        }
        want = (want + 63) & ~(size_t)63;
        void *p = want < bytes ? NULL : aligned_alloc(64, want); /* want is a multiple of 64 */
        if (p == NULL) {
            return NULL;
        }
        free(b->data);
        b->data = p;
        b->cap = want;
    }
    return b->data;
}

PANMAX_API void panmax_release_scratch(void)
{
    pthread_once(&g_scratch_once, pm_scratch_init);
    if (!g_scratch_key_ok) {
        return;
    }
    pm_scratch_block *b = pthread_getspecific(g_scratch_key);
    if (b) {
        pthread_setspecific(g_scratch_key, NULL);
        pm_scratch_destroy(b);
    }
}

/* Carves consecutive 64-byte-aligned pieces out of one scratch size computation. */
typedef struct pm_carve {
    size_t off;
    int overflow;
} pm_carve;

static size_t pm_carve_take(pm_carve *c, int64_t count, size_t esize)
{
    size_t at = c->off;
    if (count < 0 || (uint64_t)count > SIZE_MAX / esize) {
        c->overflow = 1;
        return at;
    }
    size_t bytes = ((size_t)count * esize + 63) & ~(size_t)63;
    if (bytes < (size_t)count * esize || c->off + bytes < c->off) {
        c->overflow = 1;
        return at;
    }
    c->off += bytes;
    return at;
}

/* ---- BLAS threads ---------------------------------------------------------------------------- */

PANMAX_API int32_t panmax_set_blas_threads(int32_t threads)
{
    if (threads < 1) {
        return PANMAX_ERR_ARGUMENT;
    }
#if defined(PANMAX_HAVE_OPENBLAS_CONFIG)
    openblas_set_num_threads(threads);
#endif
    return PANMAX_OK;
}

PANMAX_API int32_t panmax_blas_threads(void)
{
#if defined(PANMAX_HAVE_OPENBLAS_CONFIG)
    return openblas_get_num_threads();
#else
    return 1;
#endif
}

/* ---- argument helpers (as in ops.c, whose helpers are static there) --------------------------- */

typedef struct pm_iregion {
    uintptr_t begin;
    int64_t bytes;
} pm_iregion;

/* Bytes spanned by rows x cols at stride (0 = one row repeated). PANMAX_ERR_SIZE on overflow. */
static int32_t pm_ispan(const void *p, int64_t rows, int64_t cols, int64_t stride, int64_t esize,
                        pm_iregion *out)
{
    out->begin = (uintptr_t)p;
    out->bytes = 0;
    if (p == NULL || rows == 0 || cols == 0) {
        return PANMAX_OK;
    }
    int64_t elems;
    if (__builtin_mul_overflow(stride == 0 ? 0 : rows - 1, stride, &elems) ||
        __builtin_add_overflow(elems, cols, &elems) ||
        __builtin_mul_overflow(elems, esize, &out->bytes)) {
        return PANMAX_ERR_SIZE;
    }
    if ((uint64_t)out->bytes > (uint64_t)(UINTPTR_MAX - out->begin)) {
        return PANMAX_ERR_SIZE;
    }
    return PANMAX_OK;
}

static int pm_ioverlap(pm_iregion a, pm_iregion b)
{
    if (a.bytes == 0 || b.bytes == 0) {
        return 0;
    }
    return a.begin < b.begin + (uint64_t)b.bytes && b.begin < a.begin + (uint64_t)a.bytes;
}

static int pm_imisaligned(const void *p, size_t align)
{
    return ((uintptr_t)p & (align - 1)) != 0;
}

/* Any of the outputs meets any input or another output. */
static int pm_any_overlap(const pm_iregion *outs, int nouts, const pm_iregion *ins, int nins)
{
    for (int i = 0; i < nouts; i++) {
        for (int j = 0; j < nins; j++) {
            if (pm_ioverlap(outs[i], ins[j])) {
                return 1;
            }
        }
        for (int j = i + 1; j < nouts; j++) {
            if (pm_ioverlap(outs[i], outs[j])) {
                return 1;
            }
        }
    }
    return 0;
}

/* The loop kernels for an ISA the dispatch table accepted. */
static const pm_infer_kernels *pm_infer_for(int32_t isa)
{
#if defined(PANMAX_INFER_AVX512)
    if (isa == PANMAX_ISA_AVX512) {
        return &pm_infer_kernels__avx512;
    }
#endif
#if defined(PANMAX_INFER_AVX2)
    if (isa == PANMAX_ISA_AVX2 || isa == PANMAX_ISA_AVX512) {
        return &pm_infer_kernels__avx2;
    }
#endif
    (void)isa;
    return &pm_infer_kernels__base;
}

/* Resolves PANMAX_ISA_AUTO and returns both tables, or PANMAX_ERR_ISA. */
static int32_t pm_infer_isa(int32_t isa, const pm_isa_table **t, const pm_infer_kernels **ik)
{
    int32_t eff = isa == PANMAX_ISA_AUTO ? panmax_active_isa() : isa;
    *t = eff >= 0 ? pm_table_for(eff) : NULL;
    if (*t == NULL) {
        return PANMAX_ERR_ISA;
    }
    *ik = pm_infer_for(eff);
    return PANMAX_OK;
}

/* The sampling configuration's rules (the Java facade checks the same in SampleOptions). */
static int pm_config_ok(const panmax_sample_config *c, int64_t cols, double t_min)
{
    const double T = c->temperature;
    if (!(T == 0 || (T >= t_min && T <= DBL_MAX))) {
        return 0;
    }
    if (c->top_k < 0 || !(c->top_p > 0 && c->top_p <= 1) || !(c->min_p >= 0 && c->min_p <= 1)) {
        return 0;
    }
    if (!(c->repetition_penalty > 0 && c->repetition_penalty <= DBL_MAX) ||
        !(c->presence_penalty >= 0 && c->presence_penalty <= DBL_MAX) ||
        !(c->frequency_penalty >= 0 && c->frequency_penalty <= DBL_MAX)) {
        return 0;
    }
    return c->top_logprobs >= 0 && c->top_logprobs <= cols;
}

/* ---- drivers ------------------------------------------------------------------------------------ */

#define PM_HEAD_ROWS 64      /* rows per gemm call; Executor splits align to it (bit-identical) */
#define PM_HEAD_CHUNK 1024   /* classes per chunk: 64 rows x 1024 floats = 256 KiB, L2-resident */
#define PM_TOPP_BUCKETS 1024 /* first-level histogram of top-p over t in [t0, 0] */
#define PM_TOPP_DELTA 0x1p-14 /* relative bound on |ISA expsum - exact mass| (see the top-p path) */

PANMAX_API int32_t panmax_head_row_block(void)
{
    return PM_HEAD_ROWS;
}

#define PM_T float
#define PM_S f32
#define PM_T_MIN FLT_MIN
#include "infer_generic.h"
#undef PM_T
#undef PM_S
#undef PM_T_MIN

#define PM_T double
#define PM_S f64
#define PM_T_MIN DBL_MIN
#include "infer_generic.h"
#undef PM_T
#undef PM_S
#undef PM_T_MIN
