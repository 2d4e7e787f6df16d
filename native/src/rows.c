/*
 * The row drivers (rows_generic.h, once per element type) and the BLAS they call. The entry
 * points in api.c have checked every argument before any of this runs (see rows.h).
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "panmax.h"
#include "rows.h"

/* ---- BLAS ----------------------------------------------------------------------------------- */

void pm_blas_describe(char *buf, int64_t size)
{
#if defined(PANMAX_HAVE_OPENBLAS_CONFIG)
    /* openblas_get_config() already starts with "OpenBLAS <version>". */
    const char *cfg = openblas_get_config();
    snprintf(buf, (size_t)size, "%s (core: %s, threads: %d)", cfg ? cfg : "OpenBLAS",
             openblas_get_corename(), openblas_get_num_threads());
#else
    snprintf(buf, (size_t)size, "CBLAS (not OpenBLAS: no openblas_get_config)");
#endif
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

/* ---- the typed drivers ------------------------------------------------------------------------ */

#define PM_GENERIC "rows_generic.h"
#include "per_type.h"
