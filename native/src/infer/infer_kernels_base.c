/* The inference loop kernels for the baseline ISA (x86-64: SSE2), used for PANMAX_ISA_SCALAR. */
#define IK_V base
#define IK_NAME "base"
#include "infer_kernels_table.h"
