/*
 * test_label_race: cross-entropy must read each class label once where it uses it. A second
 * thread flips labels between valid values, ignore_index and values out of range (2^40, -2^40,
 * cols, -1) while this thread calls panmax_cross_entropy_ex_* in a loop, on every ISA, f32 and
 * f64, with and without class weights, with the gradient out of place and in place.
 *
 * The logits and the gradient each fill exactly one page with PROT_NONE pages right before and
 * after it, so a label used as an index after it changed (the bug: checked, then read again to
 * index z[y] and g[y]) faults instead of silently writing past grad. Every call must return
 * PANMAX_OK or PANMAX_ERR_ARGUMENT (the check saw a bad label), and an accepted call's flipping
 * rows must hold what one of the values they could have read gives: the loss of a valid label,
 * 0 (ignored) or NaN (out of range at its use, panmax.h).
 */
#include "testutil.h"

#include <pthread.h>

#include "panmax.h"

enum { ROWS = 64, ITERATIONS = 20000 };

#define IGNORE (-100)

static int64_t *g_labels;
static int g_stop;          /* written by the main thread, read by the flipper (atomics) */
static int64_t g_cols;

/* The flipper: rows 0 and ROWS - 1 (read last by the check, so the longest window until its use)
 * cycle through valid labels, ignore_index and values out of range. */
static void *flipper(void *arg)
{
    (void)arg;
    const int64_t values[] = {1, (int64_t)1 << 40, 2, -((int64_t)1 << 40), IGNORE, g_cols, 0, -1, g_cols - 1};
    const int nv = (int)(sizeof values / sizeof values[0]);
    for (unsigned i = 0; !__atomic_load_n(&g_stop, __ATOMIC_RELAXED); i++) {
        __atomic_store_n(&g_labels[ROWS - 1], values[i % (unsigned)nv], __ATOMIC_RELAXED);
        __atomic_store_n(&g_labels[0], values[(i / 3) % (unsigned)nv], __ATOMIC_RELAXED);
    }
    return NULL;
}

/* One page of memory between two PROT_NONE pages. */
static unsigned char *fenced_page(size_t page)
{
    unsigned char *base = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mprotect(base, page, PROT_NONE) || mprotect(base + 2 * page, page, PROT_NONE)) {
        perror("mmap/mprotect");
        exit(2);
    }
    return base + page;
}

/* The loss of row r for label y, computed by the library itself on an unshared copy. */
static int32_t row_loss(int f64, int32_t isa, const void *logits, int64_t r, int64_t y, const void *weight,
                        double *out)
{
    int64_t label = y;
    if (f64) {
        double l;
        int32_t st = panmax_cross_entropy_ex_f64((const double *)logits + r * g_cols, g_cols, &label, NULL, 0,
                                                 weight, NULL, 0, &l, 1, g_cols, IGNORE, 0.0, PANMAX_REDUCTION_NONE,
                                                 isa);
        *out = l;
        return st;
    }
    float l;
    int32_t st = panmax_cross_entropy_ex_f32((const float *)logits + r * g_cols, g_cols, &label, NULL, 0, weight,
                                             NULL, 0, &l, 1, g_cols, IGNORE, 0.0f, PANMAX_REDUCTION_NONE, isa);
    *out = l;
    return st;
}

static int same_value(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void run(int32_t isa, int f64, int weighted, int inplace, long *accepted, long *rejected, long *raced)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t es = f64 ? sizeof(double) : sizeof(float);
    g_cols = (int64_t)(page / es / ROWS); /* the logits and the gradient fill their page exactly */
    unsigned char *zpage = fenced_page(page), *gpage = inplace ? zpage : fenced_page(page);
    unsigned char *zcopy = malloc(page);
    void *weight = malloc((size_t)g_cols * es);
    void *loss = malloc(ROWS * es);
    g_labels = galloc(ROWS * sizeof(int64_t));
    if (!zcopy || !weight || !loss) {
        exit(2);
    }
    for (int64_t j = 0; j < ROWS * g_cols; j++) {
        double v = tu_range(-4, 4);
        if (f64) {
            ((double *)zcopy)[j] = v;
        } else {
            ((float *)zcopy)[j] = (float)v;
        }
    }
    for (int64_t j = 0; j < g_cols; j++) {
        if (f64) {
            ((double *)weight)[j] = 0.5 + (double)j;
        } else {
            ((float *)weight)[j] = 0.5f + (float)j;
        }
    }
    const void *w = weighted ? weight : NULL;
    /* the losses the two flipping rows may show besides 0 (ignored) and NaN: one per valid label */
    const int64_t flipping[2] = {0, ROWS - 1};
    double *valid = malloc(2 * (size_t)g_cols * sizeof(double));
    if (!valid) {
        exit(2);
    }
    for (int f = 0; f < 2; f++) {
        for (int64_t y = 0; y < g_cols; y++) {
            CHECK_EQ_INT(row_loss(f64, isa, zcopy, flipping[f], y, w, &valid[f * g_cols + y]), PANMAX_OK);
        }
    }
    for (int64_t r = 0; r < ROWS; r++) {
        g_labels[r] = tu_below(g_cols);
    }
    __atomic_store_n(&g_stop, 0, __ATOMIC_RELAXED);
    pthread_t th;
    if (pthread_create(&th, NULL, flipper, NULL) != 0) {
        perror("pthread_create");
        exit(2);
    }
    for (int it = 0; it < ITERATIONS; it++) {
        memcpy(zpage, zcopy, page); /* in place, the previous call overwrote the logits */
        const int32_t reduction = it % 3;
        int32_t st = f64 ? panmax_cross_entropy_ex_f64((double *)zpage, g_cols, g_labels, NULL, 0, w,
                                                       (double *)gpage, g_cols, loss, ROWS, g_cols, IGNORE, 0.0,
                                                       reduction, isa)
                         : panmax_cross_entropy_ex_f32((float *)zpage, g_cols, g_labels, NULL, 0, w,
                                                       (float *)gpage, g_cols, loss, ROWS, g_cols, IGNORE, 0.0f,
                                                       reduction, isa);
        CHECK(st == PANMAX_OK || st == PANMAX_ERR_ARGUMENT, "status %d (%s)", st, panmax_status_string(st));
        if (st != PANMAX_OK) {
            (*rejected)++;
            continue;
        }
        (*accepted)++;
        if (reduction != PANMAX_REDUCTION_NONE) {
            continue;
        }
        /* a flipping row shows the loss of some value it could have read: a valid label, 0 for
         * ignore_index, NaN for a value out of range at its use */
        for (int f = 0; f < 2; f++) {
            const int64_t r = flipping[f];
            double got = f64 ? ((double *)loss)[r] : ((float *)loss)[r];
            *raced += isnan(got); /* a label out of range at its use: the race was hit */
            int ok = isnan(got) || got == 0;
            for (int64_t y = 0; !ok && y < g_cols; y++) {
                ok = same_value(got, valid[f * g_cols + y]);
            }
            CHECK(ok, "row %lld: loss %g is none of the values its label could have given", (long long)r, got);
        }
    }
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    pthread_join(th, NULL);
    gfree(g_labels);
    munmap(zpage - page, 3 * page);
    if (!inplace) {
        munmap(gpage - page, 3 * page);
    }
    free(zcopy);
    free(weight);
    free(loss);
    free(valid);
}

int main(void)
{
    unsetenv("PANMAX_ISA");
    tu_seed_init("test_label_race");
    for (int32_t isa = PANMAX_ISA_SCALAR; isa <= PANMAX_ISA_AVX512; isa++) {
        if (!panmax_isa_supported(isa)) {
            continue;
        }
        for (int c = 0; c < 8; c++) {
            const int f64 = c & 1, weighted = (c >> 1) & 1, inplace = c >> 2;
            char ctx[96];
            snprintf(ctx, sizeof ctx, "%s %s weighted=%d inplace=%d", panmax_isa_name(isa), f64 ? "f64" : "f32",
                     weighted, inplace);
            tu_context = ctx;
            long accepted = 0, rejected = 0, raced = 0;
            run(isa, f64, weighted, inplace, &accepted, &rejected, &raced);
            printf("  %-34s %6ld calls accepted (%5ld rows NaN: label changed after the check), %6ld rejected\n",
                   ctx, accepted, raced, rejected);
        }
    }
    printf("%ld checks, %ld failures\n", tu_checks, tu_failures);
    return tu_failures ? 1 : 0;
}
