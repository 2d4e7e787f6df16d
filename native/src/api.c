/*
 * Public entry points of panmax.h (all except the ISA functions, which live in dispatch.c).
 *
 * Every entry point first checks ALL of its arguments, in this order, and returns the first
 * failure without writing anything:
 *   1. PANMAX_ERR_NULL       required pointers (cross-entropy with rows == 0 requires only loss[0]);
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
 * Then the driver of rows_generic.h runs the call with the chosen kernel table. The checks and
 * the entry points for one element type are in api_generic.h.
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels.h"
#include "panmax.h"
#include "rows.h"

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
    pm_blas_describe(g_blas_info, (int64_t)sizeof g_blas_info);
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

/* ---- the typed entry points ------------------------------------------------------------------- */

#define PM_GENERIC "api_generic.h"
#include "per_type.h"
