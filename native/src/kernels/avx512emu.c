/* Test-only: kernels/avx512.c built against SIMDe's portable AVX-512 (see CMakeLists.txt,
 * libpanmax_avx512emu.so). Not part of libpanmax.so. */
#define PANMAX_AVX512_EMULATED 1
#include "avx512.c"
