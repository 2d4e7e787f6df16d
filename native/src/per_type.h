/*
 * Includes the file named by PM_GENERIC once per element type, with PM_T (the type), PM_S (its
 * suffix: names the kernel table member and the functions), PM_T_MIN and PM_T_MAX (its smallest
 * positive normal and its largest finite value) and PM_PRESCALE / PM_PRESCALE_INV (2^-P and 2^P,
 * the power of two rows_generic.h scales a row by when x - max overflows: P = 64 for float, 512
 * for double) defined around each inclusion. Used by api.c (api_generic.h) and rows.c
 * (rows_generic.h); the naming macros those files use are in rows.h. No include guard on purpose.
 */
#ifndef PM_GENERIC
#error "define PM_GENERIC (the file to include per type) before including per_type.h"
#endif

#define PM_T float
#define PM_S f32
#define PM_T_MIN FLT_MIN
#define PM_T_MAX FLT_MAX
#define PM_PRESCALE 0x1p-64f
#define PM_PRESCALE_INV 0x1p64f
#include PM_GENERIC
#undef PM_T
#undef PM_S
#undef PM_T_MIN
#undef PM_T_MAX
#undef PM_PRESCALE
#undef PM_PRESCALE_INV

#define PM_T double
#define PM_S f64
#define PM_T_MIN DBL_MIN
#define PM_T_MAX DBL_MAX
#define PM_PRESCALE 0x1p-512
#define PM_PRESCALE_INV 0x1p512
#include PM_GENERIC
#undef PM_T
#undef PM_S
#undef PM_T_MIN
#undef PM_T_MAX
#undef PM_PRESCALE
#undef PM_PRESCALE_INV

#undef PM_GENERIC
