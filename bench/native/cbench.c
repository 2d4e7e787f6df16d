/*
 * cbench: the C-side cross-check of the JMH numbers, for machines where only the native library
 * is worth timing without a JVM (the AVX-512 and 16-core device runs in bench/REPORT-device.md).
 * Not a substitute for JMH: it times the kernels as a C caller sees them (no facade, no downcall).
 *
 *   cc -O2 -o cbench bench/native/cbench.c -Inative/include -Ltarget/native/lib -lpanmax -lpthread \
 *      -Wl,-rpath,'$ORIGIN/../target/native/lib'
 *   ./cbench [max_threads]
 *
 * Part 1, one thread: median ns per call over 15 timed repetitions (each long enough to span
 * >= 2 ms) of float32 softmax at n = 16, 1024, 4194304, the 256 x 1000 batch, EXACT at n = 1024
 * and float64 at n = 1024, for every ISA this CPU runs. Inputs are fresh uniform(-8, 8) logits.
 * Part 2, threads: T = 1, 2, 4, ... threads each softmax their own 256 x 1000 batch (L2-resident,
 * compute-bound) or their own 4 Mi row (memory-bound) for 0.5 s; aggregate elements per ns.
 */
#define _GNU_SOURCE
#include <panmax.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float uniform(void) { /* xorshift64*, [-8, 8) */
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return (float)((double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 16.0 - 8.0);
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum kind { F32, F32_EXACT, F64 };

static int call(enum kind k, void *x, void *y, int64_t rows, int64_t cols, int32_t isa) {
    switch (k) {
    case F32: return panmax_softmax_f32(x, cols, y, cols, rows, cols, isa);
    case F32_EXACT:
        return panmax_softmax_ex_f32(x, cols, y, cols, rows, cols, 1.0f, NULL, 0, NULL, 0, PANMAX_FLAG_EXACT, isa);
    default: return panmax_softmax_f64(x, cols, y, cols, rows, cols, isa);
    }
}

static double time_call(enum kind k, int64_t rows, int64_t cols, int32_t isa) {
    size_t es = k == F64 ? 8 : 4, len = (size_t)(rows * cols);
    void *x = aligned_alloc(64, (len * es + 63) / 64 * 64), *y = aligned_alloc(64, (len * es + 63) / 64 * 64);
    for (size_t i = 0; i < len; i++) {
        if (k == F64) ((double *)x)[i] = uniform(); else ((float *)x)[i] = uniform();
    }
    long reps = 1;
    for (;;) { /* calibrate: one timed repetition spans >= 2 ms */
        double t0 = now_ns();
        for (long i = 0; i < reps; i++) call(k, x, y, rows, cols, isa);
        if (now_ns() - t0 >= 2e6) break;
        reps *= 2;
    }
    double t[15];
    for (int r = 0; r < 15; r++) {
        double t0 = now_ns();
        for (long i = 0; i < reps; i++) {
            if (call(k, x, y, rows, cols, isa) != PANMAX_OK) { fprintf(stderr, "call failed\n"); exit(1); }
        }
        t[r] = (now_ns() - t0) / (double)reps;
    }
    qsort(t, 15, sizeof t[0], cmp);
    free(x); free(y);
    return t[7];
}

struct job { int64_t rows, cols; int32_t isa; double seconds; double elements; pthread_barrier_t *go; };

static void *worker(void *p) {
    struct job *j = p;
    size_t len = (size_t)(j->rows * j->cols);
    float *x = aligned_alloc(64, len * 4), *y = aligned_alloc(64, len * 4);
    for (size_t i = 0; i < len; i++) x[i] = (float)((i * 2654435761u) % 1600) / 100.0f - 8.0f;
    panmax_softmax_f32(x, j->cols, y, j->cols, j->rows, j->cols, j->isa); /* touch */
    pthread_barrier_wait(j->go);
    double t0 = now_ns(), t;
    long calls = 0;
    do {
        panmax_softmax_f32(x, j->cols, y, j->cols, j->rows, j->cols, j->isa);
        calls++;
        t = now_ns();
    } while (t - t0 < j->seconds * 1e9);
    j->elements = (double)calls * (double)len / (t - t0); /* elements per ns, this thread */
    free(x); free(y);
    return NULL;
}

static double threaded(int threads, int64_t rows, int64_t cols, int32_t isa) {
    pthread_t tid[256];
    struct job jobs[256];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct job){rows, cols, isa, 0.5, 0, &go};
        pthread_create(&tid[i], NULL, worker, &jobs[i]);
    }
    double sum = 0;
    for (int i = 0; i < threads; i++) { pthread_join(tid[i], NULL); sum += jobs[i].elements; }
    pthread_barrier_destroy(&go);
    return sum;
}

int main(int argc, char **argv) {
    int max_threads = argc > 1 ? atoi(argv[1]) : 16;
    if (max_threads < 1 || max_threads > 256) max_threads = 16;
    printf("panmax %d, BLAS: %s\n", panmax_version(), panmax_blas_info());
    printf("\n## One thread: median ns per call (15 repetitions)\n\n");
    printf("| case | scalar | avx2 | avx512 | avx512 / avx2 |\n|---|---:|---:|---:|---:|\n");
    struct { const char *name; enum kind k; int64_t rows, cols; } cases[] = {
        {"f32 softmax n=16", F32, 1, 16},       {"f32 softmax n=1024", F32, 1, 1024},
        {"f32 softmax 256x1000", F32, 256, 1000}, {"f32 softmax n=4194304", F32, 1, 4194304},
        {"f32 EXACT n=1024", F32_EXACT, 1, 1024}, {"f64 softmax n=1024", F64, 1, 1024},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double ns[3] = {0, 0, 0};
        printf("| %s |", cases[c].name);
        for (int32_t isa = 0; isa <= 2; isa++) {
            if (!panmax_isa_supported(isa)) { printf(" n/a |"); continue; }
            ns[isa] = time_call(cases[c].k, cases[c].rows, cases[c].cols, isa);
            printf(" %.1f |", ns[isa]);
        }
        if (ns[1] > 0 && ns[2] > 0) printf(" %.2f |\n", ns[2] / ns[1]); else printf(" |\n");
        fflush(stdout);
    }
    int32_t best = panmax_active_isa();
    printf("\n## Threads: aggregate float32 elements per ns, ISA %s, each thread its own buffers, 0.5 s\n\n",
           panmax_isa_name(best));
    printf("| threads | 256x1000 (1 MB/thread) | speedup | n=4194304 (32 MB/thread) | speedup |\n|---:|---:|---:|---:|---:|\n");
    double base_b = 0, base_l = 0;
    for (int t = 1; t <= max_threads; t *= 2) {
        double b = threaded(t, 256, 1000, best), l = threaded(t, 1, 4194304, best);
        if (t == 1) { base_b = b; base_l = l; }
        printf("| %d | %.2f | %.1f | %.2f | %.1f |\n", t, b, b / base_b, l, l / base_l);
        fflush(stdout);
    }
    return 0;
}
