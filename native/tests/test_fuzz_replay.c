/*
 * Runs the fuzz target without libFuzzer (any C compiler, so CI needs no clang): every file of the
 * committed corpus (native/fuzz/corpus), then seeded random inputs for a bounded time
 * (PANMAX_FUZZ_SECONDS, default 10). Built with the sanitizers when PANMAX_SANITIZE=ON.
 * A failure is replayed with PANMAX_FUZZ_SEED (printed first); PANMAX_FUZZ_LAST=file keeps the
 * input in flight in that file, to be added to the corpus once the bug is fixed.
 */
#define _DEFAULT_SOURCE 1 /* clock_gettime, dirent */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../fuzz/fuzz_api.c"

#ifndef PANMAX_FUZZ_CORPUS
#define PANMAX_FUZZ_CORPUS "native/fuzz/corpus"
#endif

static double pmf_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void)
{
    long files = 0, randoms = 0;
    DIR *d = opendir(PANMAX_FUZZ_CORPUS);
    if (d) {
        struct dirent *e;
        static uint8_t buf[1 << 16];
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') {
                continue;
            }
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", PANMAX_FUZZ_CORPUS, e->d_name);
            FILE *f = fopen(path, "rb");
            if (!f) {
                continue;
            }
            size_t n = fread(buf, 1, sizeof buf, f);
            fclose(f);
            LLVMFuzzerTestOneInput(buf, n);
            files++;
        }
        closedir(d);
    }
    const char *secs = getenv("PANMAX_FUZZ_SECONDS");
    double budget = secs ? atof(secs) : 10.0;
    const char *seed = getenv("PANMAX_FUZZ_SEED"); /* replays a run: the seed it printed */
    uint64_t s = seed && *seed ? strtoull(seed, NULL, 10) : 0x9E3779B97F4A7C15ull ^ (uint64_t)time(NULL);
    printf("fuzz replay: seed %llu (PANMAX_FUZZ_SEED=%llu replays)\n", (unsigned long long)s, (unsigned long long)s);
    fflush(stdout); /* a crash must not swallow the seed */
    const char *last = getenv("PANMAX_FUZZ_LAST");
    double t0 = pmf_now();
    uint8_t in[256];
    while (pmf_now() - t0 < budget) {
        size_t n = 16 + (size_t)(s % 200);
        for (size_t i = 0; i < n; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            in[i] = (uint8_t)s;
        }
        if (last) { /* PANMAX_FUZZ_LAST=file: each input is written there first, so a crash leaves it */
            FILE *f = fopen(last, "wb");
            if (f) {
                fwrite(in, 1, n, f);
                fclose(f);
            }
        }
        LLVMFuzzerTestOneInput(in, n);
        randoms++;
    }
    printf("fuzz replay: %ld corpus files, %ld random inputs, 0 failed\n", files, randoms);
    return 0;
}
