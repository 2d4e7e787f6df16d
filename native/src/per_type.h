/*
 * Includes the file named by PM_GENERIC once per element type, with PM_T (the type), PM_S (its
 * suffix: names the kernel table member and the functions) and PM_T_MIN (its smallest positive
 * normal) defined around each inclusion. Used by api.c (api_generic.h) and rows.c
 * (rows_generic.h); the naming macros those files use are in rows.h. No include guard on purpose.
 */
#ifndef PM_GENERIC
#error "define PM_GENERIC (the file to include per type) before including per_type.h"
#endif

#define PM_T float
#define PM_S f32
#define PM_T_MIN FLT_MIN
#include PM_GENERIC
#undef PM_T
#undef PM_S
#undef PM_T_MIN

#define PM_T double
#define PM_S f64
#define PM_T_MIN DBL_MIN
#include PM_GENERIC
#undef PM_T
#undef PM_S
#undef PM_T_MIN

#undef PM_GENERIC
