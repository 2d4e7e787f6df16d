/*
 * The floor contender of SoftmaxBenchmark ("floor-c2pass"): the minimal softmax a C programmer would write with
 * AVX2+FMA intrinsics, called from Java through a critical downcall. Not part of libpanmax: it is built by
 * bench/pom.xml into bench/target/classes/floor/linux-x86_64/libpanmax_floor.so (one `cc -O2 -mavx2 -mfma -shared
 * -fPIC` command) and carried inside benchmarks.jar; FloorC.java extracts and loads it.
 *
 * Per row, the classic "two-pass with store" structure:
 *   pass 1  m = max(x)
 *   pass 2  y = exp(x - m) stored, s = sum(y)
 *   then    y *= 1 / s  (the scale pass)
 * 8 floats (4 doubles) a step with one accumulator per pass, masked loads and stores for the tail. The exp is a
 * plain Cephes-style one: n = round(t / ln 2) with the 1.5 * 2^23 (2^52) rounding trick, r = t - n ln 2 with ln 2
 * split in two (Cody-Waite, FMA), a polynomial in r, and 2^n built in the exponent bits. t = x - m <= 0, so only
 * the lower end is clamped (to the smallest normal power of two, where the true value is below 1.2e-38 or
 * 2.3e-308 anyway); no other special-value handling: the inputs must be finite.
 *   float:  Cephes expf's degree-5 polynomial for (e^r - 1 - r) / r^2, ~1 ulp.
 *   double: a degree-5 polynomial cannot reach double precision on |r| <= ln2/2 (r^6/6! is 2.5e-6 there), so
 *           the double kernel uses the Taylor polynomial of degree 11 (truncation below 6.4e-15 relative), still
 *           without a table.
 * The float sum is kept in float lanes within blocks of 4096 elements and added into a double per block, so
 * the rounding of s stays far under the benchmark's check (1e-5) at any n; the double kernel sums in double.
 */
#include <immintrin.h>
#include <stdint.h>

/* 1 when the CPU and the OS (XCR0: YMM state saved) allow AVX2 and FMA. Compiled without AVX so that it can run
 * on any x86-64 CPU (the rest of the file may use AVX instructions anywhere). libgcc's __builtin_cpu_supports
 * checks OSXSAVE and XCR0 before it reports an AVX feature. */
__attribute__((target("no-avx"))) int floor_cpu_ok(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* Lane masks for a tail of k < 8 floats (k < 4 doubles): lanes 0..k-1 set. */
static inline __m256i tail_mask32(int64_t k) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int) k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __m256i tail_mask64(int64_t k) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(k), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* e^t for finite t <= 0. */
static inline __m256 exp_ps(__m256 t) {
    const __m256 shifter = _mm256_set1_ps(12582912.0f); /* 1.5 * 2^23: adding it rounds to an integer */
    t = _mm256_max_ps(t, _mm256_set1_ps(-87.33654475f)); /* ln(2^-126) */
    __m256 k = _mm256_fmadd_ps(t, _mm256_set1_ps(1.44269504089f), shifter);
    __m256 n = _mm256_sub_ps(k, shifter);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), t);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* k's low bits hold n; (n + 127) << 23 is 2^n (n >= -126 after the clamp) */
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_castps_si256(k), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline __m256d exp_pd(__m256d t) {
    const __m256d shifter = _mm256_set1_pd(6755399441055744.0); /* 1.5 * 2^52 */
    t = _mm256_max_pd(t, _mm256_set1_pd(-708.3964185322641)); /* ln(2^-1022) */
    __m256d k = _mm256_fmadd_pd(t, _mm256_set1_pd(1.4426950408889634), shifter);
    __m256d n = _mm256_sub_pd(k, shifter);
    __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(6.93147180369123816490e-01), t);
    r = _mm256_fnmadd_pd(n, _mm256_set1_pd(1.90821492927058770002e-10), r);
    /* Taylor: sum r^i / i!, i = 0..11, Horner from 1/11! */
    __m256d p = _mm256_set1_pd(1.0 / 39916800.0);
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 3628800.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 362880.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 40320.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 5040.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 720.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 120.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 24.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 6.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(0.5));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
    /* k's low bits hold n; (n + 1023) << 52 is 2^n (n >= -1022 after the clamp) */
    __m256i e = _mm256_slli_epi64(_mm256_add_epi64(_mm256_castpd_si256(k), _mm256_set1_epi64x(1023)), 52);
    return _mm256_mul_pd(p, _mm256_castsi256_pd(e));
}

static inline float hmax_ps(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static inline double hsum_ps_d(__m256 v) {
    __m256d d = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(d), _mm256_extractf128_pd(d, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

static inline double hmax_pd(__m256d v) {
    __m128d m = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_max_sd(m, _mm_unpackhi_pd(m, m)));
}

static inline double hsum_pd(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

enum { BLOCK = 4096 }; /* floats summed in float lanes before the double total */

static void row_f32(const float *x, float *y, int64_t n) {
    int64_t v = n & ~(int64_t) 7;
    __m256i tm = tail_mask32(n - v);
    __m256 mx = _mm256_set1_ps(-__builtin_inff());
    for (int64_t i = 0; i < v; i += 8) {
        mx = _mm256_max_ps(mx, _mm256_loadu_ps(x + i));
    }
    if (v < n) {
        mx = _mm256_max_ps(mx, _mm256_blendv_ps(mx, _mm256_maskload_ps(x + v, tm), _mm256_castsi256_ps(tm)));
    }
    __m256 m = _mm256_set1_ps(hmax_ps(mx));
    double s = 0;
    for (int64_t b = 0; b < v; b += BLOCK) {
        int64_t end = b + BLOCK < v ? b + BLOCK : v;
        __m256 acc = _mm256_setzero_ps();
        for (int64_t i = b; i < end; i += 8) {
            __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
            _mm256_storeu_ps(y + i, e);
            acc = _mm256_add_ps(acc, e);
        }
        s += hsum_ps_d(acc);
    }
    if (v < n) {
        __m256 e = _mm256_and_ps(exp_ps(_mm256_sub_ps(_mm256_maskload_ps(x + v, tm), m)), _mm256_castsi256_ps(tm));
        _mm256_maskstore_ps(y + v, tm, e);
        s += hsum_ps_d(e);
    }
    __m256 inv = _mm256_set1_ps((float) (1.0 / s));
    for (int64_t i = 0; i < v; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
    }
    if (v < n) {
        _mm256_maskstore_ps(y + v, tm, _mm256_mul_ps(_mm256_maskload_ps(y + v, tm), inv));
    }
}

static void row_f64(const double *x, double *y, int64_t n) {
    int64_t v = n & ~(int64_t) 3;
    __m256i tm = tail_mask64(n - v);
    __m256d mx = _mm256_set1_pd(-__builtin_inf());
    for (int64_t i = 0; i < v; i += 4) {
        mx = _mm256_max_pd(mx, _mm256_loadu_pd(x + i));
    }
    if (v < n) {
        mx = _mm256_max_pd(mx, _mm256_blendv_pd(mx, _mm256_maskload_pd(x + v, tm), _mm256_castsi256_pd(tm)));
    }
    __m256d m = _mm256_set1_pd(hmax_pd(mx));
    __m256d acc = _mm256_setzero_pd();
    for (int64_t i = 0; i < v; i += 4) {
        __m256d e = exp_pd(_mm256_sub_pd(_mm256_loadu_pd(x + i), m));
        _mm256_storeu_pd(y + i, e);
        acc = _mm256_add_pd(acc, e);
    }
    if (v < n) {
        __m256d e = _mm256_and_pd(exp_pd(_mm256_sub_pd(_mm256_maskload_pd(x + v, tm), m)), _mm256_castsi256_pd(tm));
        _mm256_maskstore_pd(y + v, tm, e);
        acc = _mm256_add_pd(acc, e);
    }
    __m256d inv = _mm256_set1_pd(1.0 / hsum_pd(acc));
    for (int64_t i = 0; i < v; i += 4) {
        _mm256_storeu_pd(y + i, _mm256_mul_pd(_mm256_loadu_pd(y + i), inv));
    }
    if (v < n) {
        _mm256_maskstore_pd(y + v, tm, _mm256_mul_pd(_mm256_maskload_pd(y + v, tm), inv));
    }
}

/* rows x cols, contiguous (row stride = cols); x and y must not overlap unless equal. Nothing is checked: the
 * benchmark passes valid arguments and verifies the output once in @Setup. */
void floor_softmax_f32(const float *x, float *y, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        row_f32(x + r * cols, y + r * cols, cols);
    }
}

void floor_softmax_f64(const double *x, double *y, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        row_f64(x + r * cols, y + r * cols, cols);
    }
}
