package org.panmax.internal;

/**
 * The one place where an inference implementation is chosen for a {@link Kernels} backend: the native ones get the
 * C library at their ISA, every other one the pure-Java reference (which does not depend on the Java kernel classes).
 * (To be folded into {@link Backends} when the backend list becomes one.)
 */
public final class InferenceBackends {
    private InferenceBackends() {}

    /** The inference implementation that goes with this backend. */
    public static Inference of(Kernels k) {
        if (k instanceof SplitKernels s) {
            return of(s.inner());
        }
        if (k instanceof NativeKernels n) {
            return new NativeInference(n.isa(), n.name());
        }
        return new JavaInference(k.name());
    }
}
