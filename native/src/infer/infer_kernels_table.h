/*
 * Instantiates infer_kernels.h for float and double and defines the table pm_infer_kernels__<IK_V>.
 * Included by infer_kernels_base.c and infer_kernels_avx2.c after they define IK_V and IK_NAME.
 */
#include <math.h>

#include "infer_internal.h"

#define IK_T float
#define IK_S f32
#include "infer_kernels.h"
#undef IK_T
#undef IK_S

#define IK_T double
#define IK_S f64
#include "infer_kernels.h"
#undef IK_T
#undef IK_S

#define IK_TCAT_(a, b) a##b
#define IK_TCAT(a, b) IK_TCAT_(a, b)
#define IK_K(name, s) IK_TCAT(IK_TCAT(IK_TCAT(pm_ik_, name), IK_TCAT(_, s)), IK_TCAT(__, IK_V))

const pm_infer_kernels IK_TCAT(pm_infer_kernels__, IK_V) = {
    .name = IK_NAME,
    .maxnan_f32 = IK_K(maxnan, f32),
    .maxnan_f64 = IK_K(maxnan, f64),
    .mass_f32 = IK_K(mass, f32),
    .mass_f64 = IK_K(mass, f64),
    .collect_f32 = IK_K(collect, f32),
    .collect_f64 = IK_K(collect, f64),
    .walk_f32 = IK_K(walk, f32),
    .walk_f64 = IK_K(walk, f64),
    .walk_kept_f32 = IK_K(walk_kept, f32),
    .walk_kept_f64 = IK_K(walk_kept, f64),
    .block_max_f32 = IK_K(block_max, f32),
    .block_max_f64 = IK_K(block_max, f64),
    .above_f32 = IK_K(above, f32),
    .above_f64 = IK_K(above, f64),
};
