/*
 * Constants shared by the SIMD exp implementations (kernels/avx2.c, kernels/avx512.c). The EXACT
 * float exp is the same operations on both ISAs (bit-identical results). avx512.c's default float
 * exp and its double exp look 2^(j/16) up in registers (the 16-entry tables below: fewer FMA-port
 * operations, and no gather), so their results differ from avx2.c's by an ulp here and there.
 * The derivations are in avx2.c.
 */
#ifndef PANMAX_EXP_CONSTANTS_H
#define PANMAX_EXP_CONSTANTS_H

/* float: Cody-Waite ln2 split, smallest normal result, Cephes expf polynomial (EXACT mode), and
 * the magic-bias reduction with XNNPACK's rr2-p5 coefficients (default mode). */
#define PM_F32_LOG2E 0x1.715476p+0f
#define PM_F32_LN2_HI 0.693359375f      /* 0x1.63p-1: 9 significant bits, k * LN2_HI exact */
#define PM_F32_LN2_LO -2.12194440e-4f  /* ln2 - LN2_HI (Cephes C2) */
#define PM_F32_MIN_T -0x1.5d589ep+6f   /* -87.33654: exp of it is FLT_MIN */
/* Gradual underflow: for SUB_T <= t < MIN_T exp(t) is subnormal. There the kernels scale by
 * 2^(k + SUB_BIAS) (a normal number) and then by 2^-SUB_BIAS, so the result is rounded once, into
 * the subnormal range. Below SUB_T (and at -inf) the result rounds to +0: exp(-104) < 2^-150,
 * half the smallest subnormal. */
#define PM_F32_SUB_T -104.0f
#define PM_F32_SUB_BIAS 64
#define PM_F32_SUB_UNSCALE 0x1p-64f
/* Cephes expf.c coefficients of P, highest degree first. */
#define PM_F32_P0 1.9875691500E-4f
#define PM_F32_P1 1.3981999507E-3f
#define PM_F32_P2 8.3334519073E-3f
#define PM_F32_P3 4.1665795894E-2f
#define PM_F32_P4 1.6666665459E-1f
#define PM_F32_P5 5.0000001201E-1f
#define PM_F32_MAGIC_BIAS 0x1.8000FEp23f /* 0x1.8p23 + 127 */
#define PM_F32_C5 0x1.0F9F9Cp-7f
#define PM_F32_C4 0x1.573A1Ap-5f
#define PM_F32_C3 0x1.555A80p-3f
#define PM_F32_C2 0x1.FFFDC6p-2f
#define PM_F32_C1 0x1.FFFFF6p-1f

/* float, 16-entry table variant: k = round(t * 16 / ln2), r = t - k ln2/16 (|r| <= ln2/32),
 * exp(t) = 2^(k >> 4) * T[k & 15] * (1 + r + r^2/2 + r^3/6): truncation r^4/24 < 0.08 ulp.
 * LN2_16_HI has 12 significant bits, so k * LN2_16_HI is exact for |k| < 2^12 (here |k| <= 2016). */
#define PM_F32_16_LOG2E 0x1.715476p+4f    /* 16 / ln2 */
#define PM_F32_ROUND 0x1.8p23f             /* adding it rounds |v| < 2^22 to an integer */
#define PM_F32_LN2_16_HI 0x1.62ep-5f
#define PM_F32_LN2_16_LO 0x1.0bfbe8p-19f
/* bits of 2^(j/16), j = 0..15, correctly rounded */
static const int pm_exp2_table16_f32[16] __attribute__((aligned(64))) = {
    0x3f800000, 0x3f85aac3, 0x3f8b95c2, 0x3f91c3d3, 0x3f9837f0, 0x3f9ef532, 0x3fa5fed7, 0x3fad583f,
    0x3fb504f3, 0x3fbd08a4, 0x3fc5672a, 0x3fce248c, 0x3fd744fd, 0x3fe0ccdf, 0x3feac0c7, 0x3ff5257d,
};

/* double: ln2 split (32 significant bits in the high part), smallest normal result, the
 * round-to-integer constant, and the 64-entry table 2^(j/64) (correctly rounded). */
#define PM_F64_LN2_HI 0x1.62e42fee00000p-1 /* 32 significant bits: k * LN2_HI exact for |k| < 2^21 */
#define PM_F64_LN2_LO 0x1.a39ef35793c76p-33
#define PM_F64_MIN_T -0x1.6232bdd7abcd2p+9 /* -708.3964: exp of it is DBL_MIN */
/* As for float: exp(-746) < 2^-1075, half the smallest subnormal double. */
#define PM_F64_SUB_T -746.0
#define PM_F64_SUB_BIAS 512
#define PM_F64_SUB_UNSCALE 0x1p-512
#define PM_F64_ROUND 0x1.8p52             /* adding it rounds a |v| < 2^51 to an integer */
#define PM_F64_INV_LN2_64 0x1.71547652b82fep+6 /* 64 / ln2 */

static const double pm_exp2_table64[64] __attribute__((aligned(64))) = {
    0x1.0000000000000p+0, 0x1.02c9a3e778061p+0, 0x1.059b0d3158574p+0, 0x1.0874518759bc8p+0,
    0x1.0b5586cf9890fp+0, 0x1.0e3ec32d3d1a2p+0, 0x1.11301d0125b51p+0, 0x1.1429aaea92de0p+0,
    0x1.172b83c7d517bp+0, 0x1.1a35beb6fcb75p+0, 0x1.1d4873168b9aap+0, 0x1.2063b88628cd6p+0,
    0x1.2387a6e756238p+0, 0x1.26b4565e27cddp+0, 0x1.29e9df51fdee1p+0, 0x1.2d285a6e4030bp+0,
    0x1.306fe0a31b715p+0, 0x1.33c08b26416ffp+0, 0x1.371a7373aa9cbp+0, 0x1.3a7db34e59ff7p+0,
    0x1.3dea64c123422p+0, 0x1.4160a21f72e2ap+0, 0x1.44e086061892dp+0, 0x1.486a2b5c13cd0p+0,
    0x1.4bfdad5362a27p+0, 0x1.4f9b2769d2ca7p+0, 0x1.5342b569d4f82p+0, 0x1.56f4736b527dap+0,
    0x1.5ab07dd485429p+0, 0x1.5e76f15ad2148p+0, 0x1.6247eb03a5585p+0, 0x1.6623882552225p+0,
    0x1.6a09e667f3bcdp+0, 0x1.6dfb23c651a2fp+0, 0x1.71f75e8ec5f74p+0, 0x1.75feb564267c9p+0,
    0x1.7a11473eb0187p+0, 0x1.7e2f336cf4e62p+0, 0x1.82589994cce13p+0, 0x1.868d99b4492edp+0,
    0x1.8ace5422aa0dbp+0, 0x1.8f1ae99157736p+0, 0x1.93737b0cdc5e5p+0, 0x1.97d829fde4e50p+0,
    0x1.9c49182a3f090p+0, 0x1.a0c667b5de565p+0, 0x1.a5503b23e255dp+0, 0x1.a9e6b5579fdbfp+0,
    0x1.ae89f995ad3adp+0, 0x1.b33a2b84f15fbp+0, 0x1.b7f76f2fb5e47p+0, 0x1.bcc1e904bc1d2p+0,
    0x1.c199bdd85529cp+0, 0x1.c67f12e57d14bp+0, 0x1.cb720dcef9069p+0, 0x1.d072d4a07897cp+0,
    0x1.d5818dcfba487p+0, 0x1.da9e603db3285p+0, 0x1.dfc97337b9b5fp+0, 0x1.e502ee78b3ff6p+0,
    0x1.ea4afa2a490dap+0, 0x1.efa1bee615a27p+0, 0x1.f50765b6e4540p+0, 0x1.fa7c1819e90d8p+0};

/* 2^(j/16) = pm_exp2_table64[4 j], for the AVX-512 double exp's in-register lookup (vpermi2pd). */
static const double pm_exp2_table16[16] __attribute__((aligned(64))) = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0,
};
#define PM_F64_INV_LN2_16 0x1.71547652b82fep+4 /* 16 / ln2 */

#endif /* PANMAX_EXP_CONSTANTS_H */
