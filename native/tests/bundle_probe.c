/*
 * bundle_probe DIR/libpanmax.so ISA_NAME: loads a jar's native folder the way NativeLoader does
 * (dlopen of libpanmax.so from a directory holding only what the jar carries; its RUNPATH $ORIGIN
 * finds the bundled OpenBLAS), then checks that the active ISA is ISA_NAME and that softmax and the
 * BLAS-backed jacobian_matmul give the right numbers. Run by native/tests/aarch64.sh under
 * qemu-aarch64, since no aarch64 JVM is at hand to load the folder through Java.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LOOKUP(handle, name, type) ((type)dlsym(handle, name))

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s DIR/libpanmax.so ISA_NAME\n", argv[0]);
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "bundle_probe: FAIL: dlopen(%s): %s\n", argv[1], dlerror());
        return 1;
    }
    int32_t (*active)(void) = LOOKUP(h, "panmax_active_isa", int32_t (*)(void));
    const char *(*isa_name)(int32_t) = LOOKUP(h, "panmax_isa_name", const char *(*)(int32_t));
    const char *(*blas)(void) = LOOKUP(h, "panmax_blas_info", const char *(*)(void));
    int32_t (*softmax)(const float *, int64_t, float *, int64_t, int64_t, int64_t, int32_t) =
        LOOKUP(h, "panmax_softmax_f32", int32_t (*)(const float *, int64_t, float *, int64_t, int64_t, int64_t, int32_t));
    int32_t (*jmm)(const double *, int64_t, const double *, int64_t, double *, int64_t, int64_t, int32_t, int32_t) =
        LOOKUP(h, "panmax_jacobian_matmul_f64",
               int32_t (*)(const double *, int64_t, const double *, int64_t, double *, int64_t, int64_t, int32_t, int32_t));
    if (!active || !isa_name || !blas || !softmax || !jmm) {
        fprintf(stderr, "bundle_probe: FAIL: a panmax_* symbol is missing\n");
        return 1;
    }
    const char *isa = isa_name(active());
    int failures = 0;
    if (isa == NULL || strcmp(isa, argv[2]) != 0) {
        fprintf(stderr, "bundle_probe: FAIL: active ISA %s, expected %s\n", isa ? isa : "(none)", argv[2]);
        failures++;
    }
    float x[5] = {1, 2, 3, 4, 5}, y[5];
    int32_t st = softmax(x, 5, y, 5, 1, 5, -1);
    double sum = 0;
    for (int i = 0; i < 5; i++) {
        sum += y[i];
    }
    /* softmax(1..5)[4] = 1 / (1 + e^-1 + e^-2 + e^-3 + e^-4) = 0.63640865 */
    if (st != 0 || fabs(sum - 1) > 1e-6 || fabs(y[4] - 0.63640865) > 1e-6) {
        fprintf(stderr, "bundle_probe: FAIL: softmax status %d, sum %.9g, y[4] %.9g\n", st, sum, y[4]);
        failures++;
    }
    /* jacobian_matmul (OpenBLAS gemv/ger): p = (0.25, 0.75), v = I: (J v)_ij = p_i (d_ij - p_j) */
    double p[2] = {0.25, 0.75}, v[4] = {1, 0, 0, 1}, out[4];
    st = jmm(p, 2, v, 2, out, 2, 2, 0, -1);
    if (st != 0 || fabs(out[0] - 0.1875) > 1e-15 || fabs(out[1] + 0.1875) > 1e-15) {
        fprintf(stderr, "bundle_probe: FAIL: jacobian_matmul status %d, out %.17g %.17g\n", st, out[0], out[1]);
        failures++;
    }
    printf("bundle_probe: %s: active ISA %s; %s: %s\n", argv[1], isa ? isa : "(none)", blas(),
           failures ? "FAILED" : "ok");
    return failures != 0;
}
