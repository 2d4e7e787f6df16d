/*
 * Public entry points of panmax.h (all except the ISA functions, which live in dispatch.c).
 *
 * Every entry point first checks ALL of its arguments, in this order, and returns the first
 * failure without writing anything:
 *   1. PANMAX_ERR_NULL       required pointers;
 *   2. PANMAX_ERR_SIZE       rows < 0, cols < 1 (n, k < 1 for jacobian_matmul);
 *   3. PANMAX_ERR_STRIDE     a stride below cols (0 only where broadcast is documented);
 *   4. PANMAX_ERR_SIZE       the bytes an argument spans, ((rows-1)*stride + cols) * size or
 *                            rows*cols*cols * size, overflow int64_t (or the address space);
 *   5. PANMAX_ERR_ALIGNMENT  a pointer not aligned to its element type;
 *   6. PANMAX_ERR_OVERLAP    an output overlapping an input or another output, except the
 *                            documented in-place use (same pointer and same stride);
 *   7. PANMAX_ERR_ARGUMENT   flags, temperature, reduction, label smoothing, labels/target;
 *   8. PANMAX_ERR_ISA        the ISA (PANMAX_ISA_AUTO fails when PANMAX_ISA was invalid);
 *   9. PANMAX_ERR_ARGUMENT   every label in range (read before anything is written).
 * Then a per-row driver runs, built only from the kernels of the chosen table, so every ISA
 * follows the same special-value logic (ops_generic.h).
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "kernels.h"
#include "panmax.h"

#define PANMAX_API __attribute__((visibility("default")))

/* ---- library information ------------------------------------------------------------------ */

PANMAX_API int32_t panmax_version(void)
{
    return PANMAX_VERSION_MAJOR * 10000 + PANMAX_VERSION_MINOR * 100 + PANMAX_VERSION_PATCH;
}

PANMAX_API int32_t panmax_abi_version(void)
{
    return PANMAX_ABI_VERSION;
}

PANMAX_API const char *panmax_status_string(int32_t status)
{
    switch (status) {
    case PANMAX_OK:
        return "ok";
    case PANMAX_ERR_NULL:
        return "a required pointer is NULL";
    case PANMAX_ERR_SIZE:
        return "invalid size: rows < 0, cols < 1, or a byte size overflows int64_t";
    case PANMAX_ERR_STRIDE:
        return "invalid stride: a row stride is below cols (or not 0 where 0 is allowed)";
    case PANMAX_ERR_OVERLAP:
        return "an output overlaps an input other than the documented in-place use";
    case PANMAX_ERR_ISA:
        return "ISA unknown, or not supported by this CPU or build (check PANMAX_ISA)";
    case PANMAX_ERR_ARGUMENT:
        return "an argument is out of its domain (temperature, flags, label, reduction)";
    case PANMAX_ERR_ALIGNMENT:
        return "a pointer is not aligned to its element type";
    case PANMAX_ERR_NO_MEMORY:
        return "an internal allocation failed";
    default:
        return "unknown status";
    }
}

static pthread_once_t g_blas_once = PTHREAD_ONCE_INIT;
static char g_blas_info[512];

static void pm_blas_info_init(void)
{
#if defined(PANMAX_HAVE_OPENBLAS_CONFIG)
    /* openblas_get_config() already starts with "OpenBLAS <version>". */
    const char *cfg = openblas_get_config();
    snprintf(g_blas_info, sizeof g_blas_info, "%s (core: %s, threads: %d)",
             cfg ? cfg : "OpenBLAS", openblas_get_corename(), openblas_get_num_threads());
#else
    snprintf(g_blas_info, sizeof g_blas_info, "CBLAS (not OpenBLAS: no openblas_get_config)");
#endif
}

PANMAX_API const char *panmax_blas_info(void)
{
    pthread_once(&g_blas_once, pm_blas_info_init);
    return g_blas_info;
}

/* ---- argument checking helpers ------------------------------------------------------------- */

/* A memory region an argument spans, in bytes; bytes == 0 for an empty one. */
typedef struct pm_region {
    uintptr_t begin;
    int64_t bytes;
} pm_region;

/* Bytes spanned by `rows` rows of `cols` elements at `stride`: ((rows-1)*stride + cols)*esize.
 * PANMAX_ERR_SIZE when that (or the end address) overflows. */
static int32_t pm_span(const void *p, int64_t rows, int64_t cols, int64_t stride, int64_t esize,
                       pm_region *out)
{
    out->begin = (uintptr_t)p;
    out->bytes = 0;
    if (rows == 0) {
        return PANMAX_OK;
    }
    int64_t elems;
    if (__builtin_mul_overflow(rows - 1, stride, &elems) ||
        __builtin_add_overflow(elems, cols, &elems) ||
        __builtin_mul_overflow(elems, esize, &out->bytes)) {
        return PANMAX_ERR_SIZE;
    }
    if ((uint64_t)out->bytes > (uint64_t)(UINTPTR_MAX - out->begin)) {
        return PANMAX_ERR_SIZE;
    }
    return PANMAX_OK;
}

/* `count` contiguous elements. */
static int32_t pm_span_n(const void *p, int64_t count, int64_t esize, pm_region *out)
{
    return pm_span(p, count > 0 ? 1 : 0, count, count, esize, out);
}

static int pm_overlap(pm_region a, pm_region b)
{
    if (a.bytes == 0 || b.bytes == 0) {
        return 0;
    }
    return a.begin < b.begin + (uint64_t)b.bytes && b.begin < a.begin + (uint64_t)a.bytes;
}

/* Output `o` against input `i`: fine when apart, or when in-place use is allowed and both are
 * the same pointer with the same stride. */
static int pm_bad_overlap(pm_region o, int64_t o_stride, pm_region i, int64_t i_stride,
                          int inplace_ok)
{
    if (!pm_overlap(o, i)) {
        return 0;
    }
    return !(inplace_ok && o.begin == i.begin && o_stride == i_stride);
}

static int pm_misaligned(const void *p, size_t align)
{
    return ((uintptr_t)p & (align - 1)) != 0;
}

static int32_t pm_check_isa(int32_t isa, const pm_isa_table **t)
{
    *t = pm_table_for(isa);
    return *t ? PANMAX_OK : PANMAX_ERR_ISA;
}

/* ---- driver tuning --------------------------------------------------------------------------- */

/*
 * Softmax rows longer than this many bytes use the blocked form (pm_softmax_blocked: one pass
 * that stores exp per L1-sized block relative to the block's own max, one pass that rescales
 * each block), shorter rows the three-pass form (max; exp + store + sum; scale).
 *
 * Measured on the build machine (2-core AMD EPYC VM, AVX2, 32 KiB L1d, 512 KiB L2 per core,
 * 32 MiB L3), f32, batches covering 96 MiB so the data comes from memory, ns per element:
 *     row floats      3-pass   2-pass recomputing exp   blocked, exp stored
 *     4 Ki            0.65     0.88                     0.65
 *     64 Ki           0.61     0.83                     0.67
 *     256 Ki          0.63     0.83                     0.67
 *     1 Mi            0.70     0.86                     0.70
 *     2 Mi            0.74     0.87                     0.71
 *     4 Mi            0.82     0.93                     0.78
 *     8 Mi            0.85     0.94                     0.80
 * Recomputing exp in the second pass (online max/sum, then exp and scale) never paid off here:
 * the second exp costs more than the memory pass it saves. Storing exp per block wins from
 * about 8 MiB rows (2 Mi floats, 1 Mi doubles). log-softmax and logsumexp gained nothing
 * measurable from blocking (they never store exp), so they always use the plain passes.
 */
#define PM_BLOCKED_MIN_BYTES ((int64_t)8 * 1024 * 1024)
/* Block of the blocked form: stays in L1 between its max and its exp pass. */
#define PM_BLOCK_BYTES ((int64_t)16 * 1024)
#define PM_STACK_BLOCKS 2048 /* blocks whose bookkeeping fits on the stack (32 MiB rows) */

/* Row classification after the max. */
enum pm_row_kind {
    PM_ROW_FINITE = 0, /* finite max: the ordinary path (NaN elsewhere still poisons the sum) */
    PM_ROW_NAN = 1,    /* NaN somewhere: every output NaN */
    PM_ROW_EMPTY = 2,  /* all -inf: softmax 0, log-softmax and logsumexp -inf */
    PM_ROW_PINF = 3    /* k >= 1 entries +inf and no NaN: mass 1/k on them */
};

/* ---- the typed drivers and entry points ------------------------------------------------------- */

#define PM_T float
#define PM_S f32
#define PM_T_MIN FLT_MIN
#include "ops_generic.h"
#undef PM_T
#undef PM_S
#undef PM_T_MIN

#define PM_T double
#define PM_S f64
#define PM_T_MIN DBL_MIN
#include "ops_generic.h"
#undef PM_T
#undef PM_S
#undef PM_T_MIN
