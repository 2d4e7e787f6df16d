/* The inference loop kernels compiled with -mavx2 -mfma (CMakeLists.txt), used for the AVX2 and
 * AVX-512 ISAs. Same source as the baseline copy, hence the same results bit for bit; only reached
 * after dispatch.c has seen AVX2 on this CPU. */
#define IK_V avx2
#define IK_NAME "avx2"
#include "infer_kernels_table.h"
