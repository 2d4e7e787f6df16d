package org.panmax.internal;

/**
 * Guards the Vector API backend: {@code jdk.incubator.vector} is an incubator module that is only present
 * when the JVM was started with {@code --add-modules jdk.incubator.vector} (or the module path resolves
 * it). {@link VectorRowKernels} is touched only after {@link #available()} said yes, so its classes never
 * load without the module.
 */
public final class JavaVectorSupport {
    private JavaVectorSupport() {}

    /** True if the Vector API module is in the boot layer. */
    public static boolean available() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** Why the Vector API backend is absent, or null if present. */
    public static String unavailableReason() {
        return available() ? null : "module jdk.incubator.vector is not in the boot layer (start the JVM with "
                + "--add-modules jdk.incubator.vector)";
    }

    /** The Vector API backend, "java-vector" (float exp by the polynomial: the faster variant on this JDK). */
    public static Kernels create() {
        return new JavaKernels("java-vector", new VectorRowKernels(VectorRowKernels.Exp.POLYNOMIAL));
    }

    /**
     * "java-vector-libexp": the same backend with float exp by the JDK's {@code VectorOperators.EXP}. A benchmark
     * variant only, not in {@link Backends}: the bench module builds it with this factory.
     */
    public static Kernels createLibraryExp() {
        return new JavaKernels("java-vector-libexp", new VectorRowKernels(VectorRowKernels.Exp.LIBRARY));
    }
}
