/*
 * test_infer: argmax, top-k, sampling and classifier heads (the inference section of panmax.h),
 * on every ISA this CPU and build support, for float and double:
 *  - the deterministic primitives: Philox4x32-10 against Random123's known answers, pm_dexp
 *    against expl, the quantiser;
 *  - the loop kernels: every ISA variant gives the baseline's bits (the determinism rule);
 *  - top-k and argmax against a full sort (ties, -inf, +inf, NaN rows, k = 1, k = n), values
 *    against a long double softmax;
 *  - sampling: every draw of random (row, options, seed, step) equal to a brute-force reference
 *    of the documented rule (full sort, plain loops), for 10 row families and random penalties,
 *    bias, bans and filters; scores against q / M and a long double softmax; chi-square of seeded
 *    draws at a fixed significance with fixed seeds; bad input rejected with nothing written;
 *  - heads against a long double product and softmax (B, d, K not multiples of any width, 1s,
 *    chunk boundaries, transposed W), top-k equal to the reference's for exact (integer) inputs,
 *    the top-k-only call equal to the full one, splits at row blocks bit-identical.
 * Inputs are random (seed printed; PANMAX_TEST_SEED=<n> reproduces); the statistics use fixed
 * seeds so their verdict cannot change between runs.
 */
#include "testutil.h"

#include "infer/infer_internal.h"
#include "panmax.h"

static double gauss(void)
{
    double u = tu_unif(), v = tu_unif();
    return sqrt(-2 * log(1 - u)) * cos(6.283185307179586 * v);
}

#define RT float
#define RS f32
#define RD TU_F32
#include "infer_ref.h"
#include "test_infer_body.h"
#undef RT
#undef RS
#undef RD

#define RT double
#define RS f64
#define RD TU_F64
#include "infer_ref.h"
#include "test_infer_body.h"
#undef RT
#undef RS
#undef RD

static void test_primitives(void)
{
    tu_context = "philox";
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e,
         0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb,
         0x5001e420, 0x24126ea1},
    };
    for (int i = 0; i < 3; i++) {
        uint32_t c[4] = {kat[i][0], kat[i][1], kat[i][2], kat[i][3]};
        pm_philox4x32_10(c, kat[i][4], kat[i][5]);
        for (int w = 0; w < 4; w++) {
            CHECK(c[w] == kat[i][6 + w], "vector %d word %d: %08x, want %08x", i, w, c[w], kat[i][6 + w]);
        }
    }
    tu_context = "dexp";
    CHECK(pm_dexp_f32(0) == 1.0f && pm_dexp_f64(0) == 1.0, "dexp(0) != 1");
    CHECK(pm_quant(pm_dexp_f32(-INFINITY), 1.0) == 0 && pm_quant(pm_dexp_f64(-INFINITY), 1.0) == 0,
          "dexp(-inf) must quantise to 0");
    long double e32 = 0, e64 = 0;
    for (int i = 0; i < 2000000; i++) {
        double t = i < 1000 ? -i * 1e-4 : -tu_range(0, 87);
        float tf = (float)t;
        long double ref = expl((long double)tf);
        long double err = fabsl(pm_dexp_f32(tf) - ref) / ref;
        e32 = err > e32 ? err : e32;
        long double ref64 = expl((long double)t);
        long double err64 = fabsl(pm_dexp_f64(t) - ref64) / ref64;
        e64 = err64 > e64 ? err64 : e64;
    }
    for (double t = -708; t < -700; t += 0.01) {
        long double ref64 = expl((long double)t);
        long double err64 = fabsl(pm_dexp_f64(t) - ref64) / ref64;
        e64 = err64 > e64 ? err64 : e64;
    }
    printf("  dexp max relative error: f32 %.3Lg (bound 4e-7), f64 %.3Lg (bound 1e-15)\n", e32, e64);
    CHECK(e32 <= 4e-7L && e64 <= 1e-15L, "dexp error %Lg / %Lg", e32, e64);
    tu_context = "quant";
    for (int64_t n = 1; n < (INT64_C(1) << 40); n = n * 3 + 1) {
        int S = pm_quant_shift(n);
        double offset = pm_quant_offset(n);
        CHECK(pm_quant(1.0, offset) == (UINT64_C(1) << S) && pm_quant(0.0, offset) == 0 &&
                  pm_quant(0.5, offset) == (UINT64_C(1) << (S - 1)),
              "quant at n %lld", (long long)n);
        /* the same rounding as w * 2^S + 2^52 */
        for (int i = 0; i < 1000; i++) {
            double w = tu_unif();
            double d = w * ldexp(1, S) + 0x1p52;
            uint64_t bits;
            memcpy(&bits, &d, 8);
            CHECK(pm_quant(w, offset) == bits - UINT64_C(0x4330000000000000), "quant form at w %a", w);
        }
        CHECK((long double)n * (long double)(UINT64_C(1) << S) < 0x1p63L, "n 2^S overflows at n %lld", (long long)n);
    }
    CHECK(pm_draw_from_uniform(0.0) == 0 && pm_draw_from_uniform(0.5) == (UINT64_C(1) << 63), "uniform draw");
}

int main(void)
{
    tu_seed_init("test_infer");
    (void)tget; /* testutil.h helpers this program does not need */
    (void)tset;
    (void)tround;
    (void)test_kernel_variants_f32; /* unused where no ISA copy of the loop kernels is built (aarch64) */
    (void)test_kernel_variants_f64;
    unsetenv("PANMAX_ISA");
    test_primitives();
#if defined(PANMAX_INFER_AVX2)
    if (panmax_isa_supported(PANMAX_ISA_AVX2)) {
        tu_context = "kernel variants";
        test_kernel_variants_f32(&pm_infer_kernels__base, &pm_infer_kernels__avx2);
        test_kernel_variants_f64(&pm_infer_kernels__base, &pm_infer_kernels__avx2);
        printf("  loop kernels: avx2 variant bit-identical to base\n");
    }
#endif
#if defined(PANMAX_INFER_AVX512)
    if (panmax_isa_supported(PANMAX_ISA_AVX512)) {
        tu_context = "kernel variants";
        test_kernel_variants_f32(&pm_infer_kernels__base, &pm_infer_kernels__avx512);
        test_kernel_variants_f64(&pm_infer_kernels__base, &pm_infer_kernels__avx512);
        printf("  loop kernels: avx512 variant bit-identical to base\n");
    } else {
        printf("  loop kernels: no AVX-512 on this CPU, avx512 variant not run\n");
    }
#endif
    long draws = 0;
    /* every ISA value dispatch.c knows (x86: scalar, avx2, avx512; aarch64: scalar, neon) */
    for (int32_t isa = PANMAX_ISA_SCALAR; isa < 8; isa++) {
        if (!panmax_isa_supported(isa)) {
            if (panmax_isa_name(isa) != NULL) {
                printf("  ISA %s: not on this CPU/build, skipped\n", panmax_isa_name(isa));
            }
            continue;
        }
        printf("  ISA %s\n", panmax_isa_name(isa));
        tu_context = "topk f32";
        test_topk_f32(isa);
        tu_context = "topk f64";
        test_topk_f64(isa);
        tu_context = "sample f32";
        test_sample_exact_f32(isa, &draws);
        tu_context = "sample f64";
        test_sample_exact_f64(isa, &draws);
        tu_context = "sample stats f32";
        test_sample_stats_f32(isa);
        tu_context = "sample stats f64";
        test_sample_stats_f64(isa);
        tu_context = "sample errors f32";
        test_sample_errors_f32(isa);
        tu_context = "sample errors f64";
        test_sample_errors_f64(isa);
        tu_context = "head f32";
        test_head_f32(isa);
        tu_context = "head f64";
        test_head_f64(isa);
    }
    tu_context = "threads";
    CHECK_EQ_INT(panmax_set_blas_threads(0), PANMAX_ERR_ARGUMENT);
    int32_t before = panmax_blas_threads();
    CHECK_EQ_INT(panmax_set_blas_threads(1), PANMAX_OK);
    CHECK_EQ_INT(panmax_blas_threads(), 1);
    panmax_set_blas_threads(before);
    panmax_release_scratch();
    printf("test_infer: %ld sampled tokens equal to the reference; %ld checks, %ld failures\n", draws, tu_checks,
           tu_failures);
    return tu_failures ? 1 : 0;
}
