/*
 * Small helpers shared by the ctest programs: a seeded RNG, buffers that end exactly at an
 * unmapped guard page, failure counting, and a float/double "dtype" view so one test body
 * covers both element types.
 *
 * Seed: PANMAX_TEST_SEED=<u64> reproduces a run; otherwise the time is used. Every program
 * prints its seed first.
 */
#ifndef PANMAX_TESTUTIL_H
#define PANMAX_TESTUTIL_H

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1 /* mmap's MAP_ANONYMOUS under -std=c11 */
#endif

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- failures ------------------------------------------------------------------------------ */

static long tu_failures = 0;
static long tu_checks = 0;
static const char *tu_context = ""; /* what is being tested, printed with each failure */

/* At most this many failures are printed per CHECK site (all are counted). */
#define TU_MAX_PRINTED_PER_SITE 5
#define TU_MAX_SITES 8192
static unsigned short tu_site_failures[TU_MAX_SITES];

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        tu_checks++;                                                                           \
        if (!(cond)) {                                                                         \
            tu_failures++;                                                                     \
            unsigned short *site_ = &tu_site_failures[__LINE__ % TU_MAX_SITES];                \
            if (*site_ < TU_MAX_PRINTED_PER_SITE) {                                            \
                fprintf(stderr, "FAIL %s:%d [%s] %s: ", __FILE__, __LINE__, tu_context, #cond); \
                fprintf(stderr, __VA_ARGS__);                                                  \
                fputc('\n', stderr);                                                           \
            }                                                                                  \
            if (*site_ < 65535) {                                                              \
                (*site_)++;                                                                    \
            }                                                                                  \
        }                                                                                      \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                     \
    CHECK((long long)(a) == (long long)(b), "%s = %lld, expected %lld", #a, (long long)(a),     \
          (long long)(b))

static inline void *xmalloc(size_t bytes)
{
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    return p;
}

/* ---- RNG (splitmix64) ------------------------------------------------------------------------ */

static uint64_t tu_rng_state;

static inline uint64_t tu_next(void)
{
    uint64_t z = (tu_rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static inline double tu_unif(void)
{
    return (double)(tu_next() >> 11) * 0x1.0p-53;
}

/* uniform in [a, b) */
static inline double tu_range(double a, double b)
{
    return a + (b - a) * tu_unif();
}

static inline int64_t tu_below(int64_t n)
{
    return (int64_t)(tu_next() % (uint64_t)n);
}

static inline uint64_t tu_seed_init(const char *prog)
{
    const char *env = getenv("PANMAX_TEST_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0)
                                : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    tu_rng_state = seed;
    printf("%s: seed %" PRIu64 " (reproduce with PANMAX_TEST_SEED=%" PRIu64 ")\n", prog, seed,
           seed);
    return seed;
}

/* ---- guard-page buffers ------------------------------------------------------------------------ */

/* A buffer of `bytes` whose last byte is followed directly by a PROT_NONE page, so any read or
 * write past the end faults. Its start is aligned to 8 bytes when bytes is a multiple of 8 (the
 * page end is). */
typedef struct tu_map {
    void *user;
    void *base;
    size_t len;
    struct tu_map *next;
} tu_map;

static tu_map *tu_maps = NULL;

static inline void *galloc(size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = (bytes + page - 1) / page;
    size_t len = (pages + 1) * page;
    unsigned char *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    if (mprotect(base + pages * page, page, PROT_NONE) != 0) {
        perror("mprotect");
        exit(2);
    }
    tu_map *m = malloc(sizeof *m);
    if (!m) {
        exit(2);
    }
    m->user = base + pages * page - bytes;
    m->base = base;
    m->len = len;
    m->next = tu_maps;
    tu_maps = m;
    return m->user;
}

static inline void gfree(void *p)
{
    for (tu_map **pp = &tu_maps; *pp; pp = &(*pp)->next) {
        if ((*pp)->user == p) {
            tu_map *m = *pp;
            *pp = m->next;
            munmap(m->base, m->len);
            free(m);
            return;
        }
    }
    fprintf(stderr, "gfree: unknown pointer %p\n", p);
    exit(2);
}

/* ---- element types ------------------------------------------------------------------------------ */

typedef struct tu_dtype {
    int f64;
    size_t size;
    const char *name;
    long double eps;  /* unit roundoff * 2: FLT_EPSILON / DBL_EPSILON */
    long double tmin; /* smallest normal */
    long double tmax;
} tu_dtype;

static const tu_dtype TU_F32 = {0, sizeof(float), "f32", FLT_EPSILON, FLT_MIN, FLT_MAX};
static const tu_dtype TU_F64 = {1, sizeof(double), "f64", DBL_EPSILON, DBL_MIN, DBL_MAX};

static inline long double tget(const tu_dtype *d, const void *b, int64_t i)
{
    return d->f64 ? (long double)((const double *)b)[i] : (long double)((const float *)b)[i];
}

static inline void tset(const tu_dtype *d, void *b, int64_t i, long double v)
{
    if (d->f64) {
        ((double *)b)[i] = (double)v;
    } else {
        ((float *)b)[i] = (float)v;
    }
}

/* The value as the element type rounds it. */
static inline long double tround(const tu_dtype *d, long double v)
{
    return d->f64 ? (long double)(double)v : (long double)(float)v;
}

/* A guard buffer of count elements, every byte set to the poison pattern. */
#define TU_POISON 0xA5
static inline void *talloc(const tu_dtype *d, int64_t count)
{
    void *p = galloc((size_t)count * d->size);
    memset(p, TU_POISON, (size_t)count * d->size);
    return p;
}

static inline int tu_is_poison(const void *p, size_t bytes)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < bytes; i++) {
        if (c[i] != TU_POISON) {
            return 0;
        }
    }
    return 1;
}

/* Same value, treating NaN == NaN and distinguishing nothing else (for bitwise comparisons use
 * memcmp). */
static inline int tu_same(long double a, long double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

#endif /* PANMAX_TESTUTIL_H */
