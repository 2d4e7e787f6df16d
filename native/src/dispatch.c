/*
 * The one place where a kernel set is chosen.
 *
 * Once per process (pthread_once) this file
 *   1. on x86-64, asks the CPU (CPUID) which instruction sets it has and the OS (XGETBV, register
 *      XCR0) whether it saves the wide registers on a context switch: AVX needs XMM+YMM state,
 *      AVX-512 also the opmask and both halves of the ZMM state. A CPUID bit without the OS
 *      support is not support (the first wide instruction would fault). On aarch64, NEON
 *      (Advanced SIMD) is part of the baseline and always present; the hardware capabilities
 *      (getauxval) are only read for panmax_cpu_features();
 *   2. fills one table per ISA: every slot with the scalar kernel, then the AVX2 slots, then the
 *      AVX-512 slots (x86-64), or the NEON slots (aarch64), each only where the kernel file is
 *      compiled in (PANMAX_HAVE_*) and the CPU/OS support it, so a slot an ISA does not
 *      implement falls back to the next lower ISA (scalar for NEON);
 *   3. reads the PANMAX_ISA environment variable (scalar|avx2|avx512|neon, or auto/empty) once.
 *
 * The ISA that PANMAX_ISA_AUTO resolves to is one atomic int: the best supported ISA, or the
 * one PANMAX_ISA / panmax_set_isa() chose, or PANMAX_ERR_ISA when PANMAX_ISA named an unknown
 * or unsupported ISA; then every call with PANMAX_ISA_AUTO fails with PANMAX_ERR_ISA (that is
 * how a bad override "fails clearly") until panmax_set_isa() is given a valid value. An explicit
 * ISA passed to a call ignores all of this.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "panmax.h"

#define PANMAX_API __attribute__((visibility("default")))

#if defined(__x86_64__) || defined(__i386__)
#define PM_X86 1
#include <cpuid.h>
#else
#define PM_X86 0
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#define PM_ARM64_HWCAP_ASIMD (1ul << 1) /* <asm/hwcap.h> bit numbers, stable Linux ABI */
#define PM_ARM64_HWCAP_ASIMDHP (1ul << 10)
#define PM_ARM64_HWCAP_ASIMDDP (1ul << 20)
#define PM_ARM64_HWCAP_SVE (1ul << 22)
#endif

enum { PM_ISA_COUNT = PANMAX_ISA_NEON + 1 };

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pm_isa_table g_tables[PM_ISA_COUNT];
static int g_supported[PM_ISA_COUNT]; /* written once under g_once, read-only after */
static int32_t g_best = PANMAX_ISA_SCALAR;
static atomic_int g_auto; /* what PANMAX_ISA_AUTO resolves to, or PANMAX_ERR_ISA */
static atomic_int g_ready; /* 1 once pm_init has returned (released after everything it wrote) */
static char g_features[160];

/* ---- CPU detection ----------------------------------------------------------------------- */

typedef struct pm_cpu {
    int sse2, osxsave, avx, fma, avx2, avx512f, avx512dq;
    int os_ymm; /* XCR0 bits 1-2: XMM and YMM state */
    int os_zmm; /* XCR0 bits 5-7: opmask, ZMM_Hi256, Hi16_ZMM */
    int asimd, asimdhp, asimddp, sve; /* aarch64 HWCAP, reported only */
} pm_cpu;

#if PM_X86
static uint64_t pm_xgetbv0(void)
{
    uint32_t lo, hi;
    /* XGETBV with ECX = 0 reads XCR0; only valid when CPUID says OSXSAVE. */
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

static pm_cpu pm_detect_cpu(void)
{
    pm_cpu c;
    memset(&c, 0, sizeof c);
#if PM_X86
    unsigned a, b, cx, d;
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf >= 1 && __get_cpuid(1, &a, &b, &cx, &d)) {
        c.sse2 = (d >> 26) & 1;
        c.fma = (cx >> 12) & 1;
        c.osxsave = (cx >> 27) & 1;
        c.avx = (cx >> 28) & 1;
    }
    if (max_leaf >= 7 && __get_cpuid_count(7, 0, &a, &b, &cx, &d)) {
        c.avx2 = (b >> 5) & 1;
        c.avx512f = (b >> 16) & 1;
        c.avx512dq = (b >> 17) & 1;
    }
    if (c.osxsave) {
        uint64_t xcr0 = pm_xgetbv0();
        c.os_ymm = (xcr0 & 0x6) == 0x6;
        c.os_zmm = c.os_ymm && (xcr0 & 0xe0) == 0xe0;
    }
#endif
#if defined(PM_ARM64_HWCAP_ASIMD)
    unsigned long hw = getauxval(AT_HWCAP);
    c.asimd = (hw & PM_ARM64_HWCAP_ASIMD) != 0;
    c.asimdhp = (hw & PM_ARM64_HWCAP_ASIMDHP) != 0;
    c.asimddp = (hw & PM_ARM64_HWCAP_ASIMDDP) != 0;
    c.sve = (hw & PM_ARM64_HWCAP_SVE) != 0;
#endif
    return c;
}

static void pm_describe(const pm_cpu *c)
{
    static const char *const names[] = {"sse2", "osxsave", "avx", "fma", "avx2", "avx512f",
                                        "avx512dq", "os-ymm", "os-zmm", "asimd", "asimdhp",
                                        "asimddp", "sve"};
    const int have[] = {c->sse2, c->osxsave, c->avx, c->fma, c->avx2, c->avx512f,
                        c->avx512dq, c->os_ymm, c->os_zmm, c->asimd, c->asimdhp,
                        c->asimddp, c->sve};
    size_t len = 0;
    g_features[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!have[i]) {
            continue;
        }
        int w = snprintf(g_features + len, sizeof g_features - len, "%s%s", len ? " " : "",
                         names[i]);
        if (w < 0 || (size_t)w >= sizeof g_features - len) {
            break;
        }
        len += (size_t)w;
    }
}

/* ---- PANMAX_ISA ---------------------------------------------------------------------------- */

static int pm_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (x != *b) {
            return 0;
        }
    }
    return *a == *b;
}

/* The ISA the environment asks for: PANMAX_ISA_AUTO when unset/empty/"auto", else the value,
 * or PANMAX_ERR_ISA for a name we do not know. */
static int32_t pm_env_isa(void)
{
    const char *v = getenv("PANMAX_ISA");
    if (v == NULL || v[0] == '\0' || pm_ieq(v, "auto")) {
        return PANMAX_ISA_AUTO;
    }
    if (pm_ieq(v, "scalar")) {
        return PANMAX_ISA_SCALAR;
    }
    if (pm_ieq(v, "avx2")) {
        return PANMAX_ISA_AVX2;
    }
    if (pm_ieq(v, "avx512")) {
        return PANMAX_ISA_AVX512;
    }
    if (pm_ieq(v, "neon")) {
        return PANMAX_ISA_NEON;
    }
    return PANMAX_ERR_ISA;
}

/* ---- init ---------------------------------------------------------------------------------- */

static void pm_init(void)
{
    pm_cpu c = pm_detect_cpu();
    pm_describe(&c);

    int avx2 = c.avx && c.avx2 && c.fma && c.os_ymm;
    int avx512 = avx2 && c.avx512f && c.avx512dq && c.os_zmm;
#if !defined(PANMAX_HAVE_AVX2)
    avx2 = 0;
#endif
#if !defined(PANMAX_HAVE_AVX512)
    avx512 = 0;
#endif
#if defined(PANMAX_AVX512_EMULATED)
    /* Test-only build (libpanmax_avx512emu.so): the AVX-512 kernels are SIMDe code that runs on
     * AVX2, so "AVX-512" is available wherever AVX2 is. */
    avx512 = avx2;
#endif
    (void)avx2; /* unused when the kernel files are not compiled in */
    (void)avx512;
#if defined(PANMAX_HAVE_NEON) && defined(__aarch64__)
    const int neon = 1; /* the aarch64 baseline: no check, as x86-64 needs none for SSE2 */
#else
    const int neon = 0;
#endif

    for (int i = 0; i < PM_ISA_COUNT; i++) {
        pm_fill_table__scalar(&g_tables[i]);
    }
    g_supported[PANMAX_ISA_SCALAR] = 1;
#if defined(PANMAX_HAVE_AVX2)
    if (avx2) {
        pm_fill_table__avx2(&g_tables[PANMAX_ISA_AVX2]);
        pm_fill_table__avx2(&g_tables[PANMAX_ISA_AVX512]);
        g_supported[PANMAX_ISA_AVX2] = 1;
    }
#endif
#if defined(PANMAX_HAVE_AVX512)
    if (avx512) {
        pm_fill_table__avx512(&g_tables[PANMAX_ISA_AVX512]);
        g_supported[PANMAX_ISA_AVX512] = 1;
    }
#endif
#if defined(PANMAX_HAVE_NEON) && defined(__aarch64__)
    if (neon) {
        pm_fill_table__neon(&g_tables[PANMAX_ISA_NEON]);
        g_supported[PANMAX_ISA_NEON] = 1;
    }
#endif
    g_tables[PANMAX_ISA_SCALAR].name = "scalar";
    g_tables[PANMAX_ISA_AVX2].name = "avx2";
    g_tables[PANMAX_ISA_AVX512].name = "avx512";
    g_tables[PANMAX_ISA_NEON].name = "neon";

    g_best = g_supported[PANMAX_ISA_AVX512] ? PANMAX_ISA_AVX512
           : g_supported[PANMAX_ISA_AVX2]   ? PANMAX_ISA_AVX2
           : neon                           ? PANMAX_ISA_NEON
                                            : PANMAX_ISA_SCALAR;
    int32_t env = pm_env_isa();
    int32_t start;
    if (env == PANMAX_ISA_AUTO) {
        start = g_best;
    } else if (env >= 0 && env < PM_ISA_COUNT && g_supported[env]) {
        start = env;
    } else {
        start = PANMAX_ERR_ISA;
    }
    atomic_store(&g_auto, start);
    atomic_store_explicit(&g_ready, 1, memory_order_release);
}

/* pthread_once is a call through the PLT on every entry point (~2 ns at n = 16, where a call costs ~50);
 * once the tables are written, an acquire load of g_ready is enough to see them. */
static inline void pm_ensure_init(void)
{
    if (!atomic_load_explicit(&g_ready, memory_order_acquire)) {
        pthread_once(&g_once, pm_init);
    }
}

/* ---- public -------------------------------------------------------------------------------- */

PANMAX_API const char *panmax_isa_name(int32_t isa)
{
    switch (isa) {
    case PANMAX_ISA_AUTO:
        return "auto";
    case PANMAX_ISA_SCALAR:
        return "scalar";
    case PANMAX_ISA_AVX2:
        return "avx2";
    case PANMAX_ISA_AVX512:
        return "avx512";
    case PANMAX_ISA_NEON:
        return "neon";
    default:
        return NULL;
    }
}

PANMAX_API int32_t panmax_isa_supported(int32_t isa)
{
    if (isa < 0 || isa >= PM_ISA_COUNT) {
        return 0;
    }
    pm_ensure_init();
    return g_supported[isa];
}

PANMAX_API int32_t panmax_active_isa(void)
{
    pm_ensure_init();
    return atomic_load(&g_auto);
}

PANMAX_API int32_t panmax_set_isa(int32_t isa)
{
    pm_ensure_init();
    if (isa == PANMAX_ISA_AUTO) {
        atomic_store(&g_auto, g_best);
        return PANMAX_OK;
    }
    if (isa < 0 || isa >= PM_ISA_COUNT || !g_supported[isa]) {
        return PANMAX_ERR_ISA;
    }
    atomic_store(&g_auto, isa);
    return PANMAX_OK;
}

PANMAX_API const char *panmax_cpu_features(void)
{
    pm_ensure_init();
    return g_features;
}

/* ---- internal ------------------------------------------------------------------------------ */

const pm_isa_table *pm_table_for(int32_t isa)
{
    if (isa == PANMAX_ISA_AUTO) {
        pm_ensure_init();
        isa = atomic_load(&g_auto);
    }
    if (isa < 0 || isa >= PM_ISA_COUNT) {
        return NULL;
    }
    pm_ensure_init();
    return g_supported[isa] ? &g_tables[isa] : NULL;
}
