/*
 * Test-only (libpanmax_avx512emu.so): the AVX-512 intrinsics kernels/avx512.c uses that SIMDe
 * 0.7.4 (Debian bookworm's libsimde-dev) does not provide, written lane by lane from the Intel
 * intrinsics guide's pseudo-code over SIMDe's types. Masked-off lanes are neither read nor written.
 */
#ifndef PANMAX_AVX512_SIMDE_SHIM_H
#define PANMAX_AVX512_SIMDE_SHIM_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define PM_SHIM static inline

PM_SHIM simde__m512 pm_shim_mask_loadu_ps(simde__m512 src, simde__mmask16 k, const float *p)
{
    simde__m512_private r = simde__m512_to_private(src);
    for (int i = 0; i < 16; i++) {
        if ((k >> i) & 1) {
            memcpy(&r.f32[i], p + i, sizeof(float));
        }
    }
    return simde__m512_from_private(r);
}

PM_SHIM simde__m512 pm_shim_maskz_loadu_ps(simde__mmask16 k, const float *p)
{
    return pm_shim_mask_loadu_ps(simde_mm512_setzero_ps(), k, p);
}

PM_SHIM void pm_shim_mask_storeu_ps(float *p, simde__mmask16 k, simde__m512 v)
{
    simde__m512_private a = simde__m512_to_private(v);
    for (int i = 0; i < 16; i++) {
        if ((k >> i) & 1) {
            memcpy(p + i, &a.f32[i], sizeof(float));
        }
    }
}

PM_SHIM simde__m512d pm_shim_mask_loadu_pd(simde__m512d src, simde__mmask8 k, const double *p)
{
    simde__m512d_private r = simde__m512d_to_private(src);
    for (int i = 0; i < 8; i++) {
        if ((k >> i) & 1) {
            memcpy(&r.f64[i], p + i, sizeof(double));
        }
    }
    return simde__m512d_from_private(r);
}

PM_SHIM simde__m512d pm_shim_maskz_loadu_pd(simde__mmask8 k, const double *p)
{
    return pm_shim_mask_loadu_pd(simde_mm512_setzero_pd(), k, p);
}

PM_SHIM void pm_shim_mask_storeu_pd(double *p, simde__mmask8 k, simde__m512d v)
{
    simde__m512d_private a = simde__m512d_to_private(v);
    for (int i = 0; i < 8; i++) {
        if ((k >> i) & 1) {
            memcpy(p + i, &a.f64[i], sizeof(double));
        }
    }
}

/* VCVTPS2DQ under the default rounding mode (round to nearest even). */
PM_SHIM simde__m512i pm_shim_cvtps_epi32(simde__m512 v)
{
    simde__m512_private a = simde__m512_to_private(v);
    simde__m512i_private r;
    for (int i = 0; i < 16; i++) {
        r.i32[i] = (int32_t)nearbyintf(a.f32[i]);
    }
    return simde__m512i_from_private(r);
}

/* VCVTPS2PD ymm -> zmm (exact). */
PM_SHIM simde__m512d pm_shim_cvtps_pd(simde__m256 v)
{
    simde__m256_private a = simde__m256_to_private(v);
    simde__m512d_private r;
    for (int i = 0; i < 8; i++) {
        r.f64[i] = (double)a.f32[i];
    }
    return simde__m512d_from_private(r);
}

/* VGATHERQPD with all lanes on. */
PM_SHIM simde__m512d pm_shim_i64gather_pd(simde__m512i idx, const double *base, int scale)
{
    simde__m512i_private ix = simde__m512i_to_private(idx);
    simde__m512d_private r;
    for (int i = 0; i < 8; i++) {
        memcpy(&r.f64[i], (const char *)base + ix.i64[i] * scale, sizeof(double));
    }
    return simde__m512d_from_private(r);
}

/* The reduce_* "sequences": GCC's order (halves folded pairwise), with VMAXPS's NaN rule
 * (second operand when unordered) at each step. */
PM_SHIM float pm_shim_reduce_max_ps(simde__m512 v)
{
    simde__m512_private a = simde__m512_to_private(v);
    float t[16];
    for (int i = 0; i < 16; i++) {
        t[i] = a.f32[i];
    }
    for (int w = 8; w >= 1; w /= 2) {
        for (int i = 0; i < w; i++) {
            t[i] = t[i] > t[i + w] ? t[i] : t[i + w];
        }
    }
    return t[0];
}

PM_SHIM double pm_shim_reduce_max_pd(simde__m512d v)
{
    simde__m512d_private a = simde__m512d_to_private(v);
    double t[8];
    for (int i = 0; i < 8; i++) {
        t[i] = a.f64[i];
    }
    for (int w = 4; w >= 1; w /= 2) {
        for (int i = 0; i < w; i++) {
            t[i] = t[i] > t[i + w] ? t[i] : t[i + w];
        }
    }
    return t[0];
}

PM_SHIM double pm_shim_reduce_add_pd(simde__m512d v)
{
    simde__m512d_private a = simde__m512d_to_private(v);
    double t[8];
    for (int i = 0; i < 8; i++) {
        t[i] = a.f64[i];
    }
    for (int w = 4; w >= 1; w /= 2) {
        for (int i = 0; i < w; i++) {
            t[i] = t[i] + t[i + w];
        }
    }
    return t[0];
}

#define _mm512_mask_loadu_ps pm_shim_mask_loadu_ps
#define _mm512_maskz_loadu_ps pm_shim_maskz_loadu_ps
#define _mm512_mask_storeu_ps pm_shim_mask_storeu_ps
#define _mm512_mask_loadu_pd pm_shim_mask_loadu_pd
#define _mm512_maskz_loadu_pd pm_shim_maskz_loadu_pd
#define _mm512_mask_storeu_pd pm_shim_mask_storeu_pd
#define _mm512_cvtps_epi32 pm_shim_cvtps_epi32
#define _mm512_cvtps_pd pm_shim_cvtps_pd
#define _mm512_i64gather_pd pm_shim_i64gather_pd
#define _mm512_reduce_max_ps pm_shim_reduce_max_ps
#define _mm512_reduce_max_pd pm_shim_reduce_max_pd
#define _mm512_reduce_add_pd pm_shim_reduce_add_pd

#endif
