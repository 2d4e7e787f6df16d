/*
 * Fuzz target for the public C API: the bytes choose an entry point and every argument. The
 * C API must validate its own arguments (a caller that bypasses the Java facade gets an error
 * code, not a crash), so the target checks, for every call:
 *   - no crash, no sanitizer report (built with ASan + UBSan), no access to the guard pages
 *     around every buffer;
 *   - the status is 0 or one of the documented codes;
 *   - when the status is an error, no output byte changed.
 * Sizes come in two kinds: small ones (the buffers below are large enough for any small shape, so
 * a call the API accepts is a call whose regions are inside its buffers), and invalid ones
 * (negative, zero, or huge enough to overflow) that the API must reject before touching memory.
 *
 * libFuzzer: clang -fsanitize=fuzzer,address,undefined (CMake option PANMAX_FUZZ). Without clang,
 * native/tests/test_fuzz_replay.c replays the committed corpus and random inputs with gcc.
 */
#define _DEFAULT_SOURCE 1 /* mmap flags, sysconf */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "panmax.h"

#define PMF_ELEMS 8192            /* elements per buffer (doubles: 64 KiB) */
#define PMF_JAC_ELEMS (8 * 64 * 64) /* rows <= 8, cols <= 64 */

typedef struct {
    const uint8_t *p;
    size_t n;
} pmf_in;

static uint64_t pmf_u64(pmf_in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | (in->n ? (in->n--, *in->p++) : 0);
    }
    return v;
}

static uint8_t pmf_u8(pmf_in *in)
{
    return in->n ? (in->n--, *in->p++) : 0;
}

/* A size: mostly small and valid, sometimes one of the invalid classes. */
static int64_t pmf_size(pmf_in *in, int64_t small_max)
{
    uint8_t kind = pmf_u8(in);
    switch (kind % 16) {
    case 0: return -(int64_t)(pmf_u8(in) + 1);
    case 1: return 0;
    case 2: return INT64_MAX - (int64_t)pmf_u8(in);
    case 3: return (int64_t)1 << (40 + pmf_u8(in) % 23);
    default: return (int64_t)(pmf_u64(in) % (uint64_t)(small_max + 1));
    }
}

/* A guarded buffer: PROT_NONE pages right before and right after. */
typedef struct {
    uint8_t *base;
    size_t len, map;
} pmf_buf;

static pmf_buf pmf_alloc(size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t body = (bytes + page - 1) / page * page;
    pmf_buf b = {0, body, body + 2 * page};
    uint8_t *m = mmap(NULL, b.map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        abort();
    }
    mprotect(m, page, PROT_NONE);
    mprotect(m + page + body, page, PROT_NONE);
    b.base = m + page;
    return b;
}

static pmf_buf g_in1, g_in2, g_out, g_out2, g_jac, g_lab, g_mask;
static uint8_t *g_snapshot;

static void pmf_init(void)
{
    if (g_in1.base) {
        return;
    }
    g_in1 = pmf_alloc(PMF_ELEMS * 8);
    g_in2 = pmf_alloc(PMF_ELEMS * 8);
    g_out = pmf_alloc(PMF_ELEMS * 8);
    g_out2 = pmf_alloc(PMF_ELEMS * 8);
    g_jac = pmf_alloc(PMF_JAC_ELEMS * 8);
    g_lab = pmf_alloc(64 * 8);
    g_mask = pmf_alloc(PMF_ELEMS);
    g_snapshot = malloc(PMF_JAC_ELEMS * 8 + 3 * PMF_ELEMS * 8);
    if (!g_snapshot) {
        abort();
    }
}

/* A pointer into a buffer: NULL, the start, or the start plus a small (maybe misaligned) offset. */
static void *pmf_ptr(pmf_in *in, pmf_buf *b)
{
    uint8_t k = pmf_u8(in);
    if (k % 11 == 0) {
        return NULL;
    }
    if (k % 7 == 0) {
        return b->base + 1 + k % 3; /* misaligned */
    }
    return b->base + 8 * (size_t)(k % 4);
}

static int pmf_status_known(int32_t st)
{
    return st <= 0 && st >= PANMAX_ERR_NO_MEMORY;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pmf_init();
    pmf_in in = {data, size};
    uint8_t op = pmf_u8(&in);
    int f64 = op & 1;
    /* Inputs: finite random-ish values from the data; outputs: a fixed pattern. */
    for (size_t i = 0; i < PMF_ELEMS; i++) {
        uint8_t v = (uint8_t)(i < size ? data[i] : i);
        if (f64) {
            ((double *)g_in1.base)[i] = (double)(v % 64) - 32.0;
            ((double *)g_in2.base)[i] = (double)(v % 7) / 7.0;
        } else {
            ((float *)g_in1.base)[i] = (float)(v % 64) - 32.0f;
            ((float *)g_in2.base)[i] = (float)(v % 7) / 7.0f;
        }
        g_mask.base[i] = v & 1;
    }
    int64_t rows = pmf_size(&in, 8);
    int64_t cols = pmf_size(&in, 64);
    int64_t s1 = pmf_size(&in, 80);
    int64_t s2 = pmf_size(&in, 80);
    int64_t s3 = pmf_size(&in, 80);
    /* A size the API must accept but that exceeds the buffers would be the fuzzer's own bug (the
     * API cannot know how much memory a pointer has): keep "large but not overflowing" values out.
     * Values from 2^62 up overflow the byte-size arithmetic (x 4 or 8 bytes) and must be rejected. */
    const int64_t big = (int64_t)1 << 62;
    if (rows > 8 && rows < big) {
        rows %= 9;
    }
    if (cols > 64 && cols < big) {
        cols %= 65;
    }
    int64_t *strides[] = {&s1, &s2, &s3};
    for (int k = 0; k < 3; k++) {
        if (*strides[k] > 80 && *strides[k] < big) {
            *strides[k] = cols;
        }
    }
    int32_t isa = (int32_t)(pmf_u8(&in) % 5) - 1; /* AUTO, scalar, avx2, avx512, neon (bad off aarch64) */
    int32_t flags = (int32_t)(pmf_u8(&in) % 9);
    for (int64_t r = 0; r < 64; r++) {
        ((int64_t *)g_lab.base)[r] = (int64_t)(pmf_u8(&in) % 80) - 8;
    }
    void *x = pmf_ptr(&in, &g_in1);
    void *a2 = pmf_ptr(&in, &g_in2);
    void *y = (pmf_u8(&in) % 5 == 0) ? x : pmf_ptr(&in, &g_out); /* sometimes in place */
    void *loss = pmf_ptr(&in, &g_out2);
    uint8_t which = pmf_u8(&in);

    memset(g_out.base, 0xA5, g_out.len);
    memset(g_out2.base, 0xA5, g_out2.len);
    memset(g_jac.base, 0xA5, g_jac.len);
    memcpy(g_snapshot, g_out.base, PMF_ELEMS * 8);
    memcpy(g_snapshot + PMF_ELEMS * 8, g_out2.base, PMF_ELEMS * 8);
    memcpy(g_snapshot + 2 * PMF_ELEMS * 8, g_in1.base, PMF_ELEMS * 8);
    memcpy(g_snapshot + 3 * PMF_ELEMS * 8, g_jac.base, PMF_JAC_ELEMS * 8);

    int32_t st;
    switch ((op >> 1) % 10) {
    case 0:
        st = f64 ? panmax_softmax_f64(x, s1, y, s2, rows, cols, isa)
                 : panmax_softmax_f32(x, s1, y, s2, rows, cols, isa);
        break;
    case 1:
        st = f64 ? panmax_log_softmax_f64(x, s1, y, s2, rows, cols, isa)
                 : panmax_log_softmax_f32(x, s1, y, s2, rows, cols, isa);
        break;
    case 2:
        st = f64 ? panmax_logsumexp_f64(x, s1, loss, rows, cols, isa)
                 : panmax_logsumexp_f32(x, s1, loss, rows, cols, isa);
        break;
    case 3: {
        double t = (which % 4 == 0) ? 0.0 : (which % 4 == 1 ? -1.0 : 0.5 + which / 64.0);
        void *mask = (which & 16) ? g_mask.base : NULL;
        void *bias = (which & 32) ? a2 : NULL;
        /* The mask has 1-byte elements: a stride from the "overflows at 4 or 8 bytes" classes
         * (2^62, INT64_MAX - k) may span a valid, huge region at 1 byte (rows = 2, cols <= k),
         * which the API must accept and which lies outside the buffer: keep such strides out,
         * keep the ones that overflow at 1 byte too. */
        int64_t ms = s3 % 2 ? 0 : s3, span;
        if (ms > 80 && rows > 1 && !__builtin_mul_overflow(rows - 1, ms, &span) &&
            !__builtin_add_overflow(span, cols > 0 ? cols : 0, &span)) {
            ms = cols;
        }
        st = f64 ? panmax_softmax_ex_f64(x, s1, y, s2, rows, cols, t, mask, ms, bias, s3, flags, isa)
                 : panmax_softmax_ex_f32(x, s1, y, s2, rows, cols, (float)t, mask, ms, bias, s3, flags, isa);
        break;
    }
    case 4:
        st = f64 ? panmax_softmax_backward_f64(x, s1, a2, s2, y, s3, rows, cols, isa)
                 : panmax_softmax_backward_f32(x, s1, a2, s2, y, s3, rows, cols, isa);
        break;
    case 5:
        st = f64 ? panmax_log_softmax_backward_f64(x, s1, a2, s2, y, s3, rows, cols, isa)
                 : panmax_log_softmax_backward_f32(x, s1, a2, s2, y, s3, rows, cols, isa);
        break;
    case 6:
        st = f64 ? panmax_log_softmax_jvp_f64(x, s1, a2, s2, y, s3, rows, cols, isa)
                 : panmax_log_softmax_jvp_f32(x, s1, a2, s2, y, s3, rows, cols, isa);
        break;
    case 7: {
        void *jac = (which % 9 == 0) ? NULL : g_jac.base;
        st = f64 ? panmax_jacobian_f64(x, s1, jac, rows, cols, flags, isa)
                 : panmax_jacobian_f32(x, s1, jac, rows, cols, flags, isa);
        break;
    }
    case 8:
        st = f64 ? panmax_jacobian_matmul_f64(a2, cols, x, s1, y, s2, rows, flags, isa)
                 : panmax_jacobian_matmul_f32(a2, cols, x, s1, y, s2, rows, flags, isa);
        break;
    default: {
        int64_t *labels = (which & 1) ? (int64_t *)g_lab.base : NULL;
        void *target = (which & 2) ? a2 : NULL;
        void *grad = (which & 4) ? ((which & 8) ? x : y) : NULL;
        int64_t ignore = (which & 64) ? -8 : -100;
        double smooth = (which & 128) ? 0.1 : (which % 3 == 0 ? -0.5 : 0.0);
        int32_t red = (int32_t)(which % 4);
        st = f64 ? panmax_cross_entropy_f64(x, s1, labels, target, s2, grad, s3, loss, rows, cols, ignore,
                                            smooth, red, isa)
                 : panmax_cross_entropy_f32(x, s1, labels, target, s2, grad, s3, loss, rows, cols, ignore,
                                            (float)smooth, red, isa);
        break;
    }
    }
    if (!pmf_status_known(st)) {
        abort();
    }
    if (st != PANMAX_OK) {
        if (memcmp(g_snapshot, g_out.base, PMF_ELEMS * 8) != 0 ||
            memcmp(g_snapshot + PMF_ELEMS * 8, g_out2.base, PMF_ELEMS * 8) != 0 ||
            memcmp(g_snapshot + 2 * PMF_ELEMS * 8, g_in1.base, PMF_ELEMS * 8) != 0 ||
            memcmp(g_snapshot + 3 * PMF_ELEMS * 8, g_jac.base, PMF_JAC_ELEMS * 8) != 0) {
            abort(); /* a rejected call wrote */
        }
    }
    return 0;
}
