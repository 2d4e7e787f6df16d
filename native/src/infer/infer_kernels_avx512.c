/* The inference loop kernels compiled with the AVX-512 flags (CMakeLists.txt), used for the AVX-512
 * ISA. Same source as the baseline copy, hence the same results bit for bit; only reached after
 * dispatch.c has seen AVX-512F/DQ on this CPU (never in the emulation library). */
#define IK_V avx512
#define IK_NAME "avx512"
#include "infer_kernels_table.h"
