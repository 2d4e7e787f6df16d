package org.panmax.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * OpenBLAS's thread count inside the JVM: one thread unless asked otherwise, so that a service's own thread pools
 * are not oversubscribed and no worker threads start that nobody asked for.
 *
 * <p>OpenBLAS starts its worker threads when it loads (one per core), reading {@code OPENBLAS_NUM_THREADS} then. So the
 * loader sets that variable in the process environment for the duration of the load and restores it after, and
 * then also calls {@code panmax_set_blas_threads} (for an OpenBLAS that was loaded earlier by someone else). The
 * count is {@code -Dpanmax.blas.threads=N}; without it, a user's own {@code OPENBLAS_NUM_THREADS} is left alone, and
 * otherwise it is 1. {@link org.panmax.Panmax#setBlasThreads(int)} changes it later. (setenv is not synchronised with
 * native code that calls getenv on another thread at the same moment; the window is the library load.)
 */
final class BlasThreads {
    private BlasThreads() {}

    static final String VARIABLE = "OPENBLAS_NUM_THREADS";

    /** The thread count panmax asks for, or 0 to leave OpenBLAS to the user's environment. */
    static int wanted() {
        String p = System.getProperty("panmax.blas.threads");
        if (p != null && !p.isBlank()) {
            try {
                int n = Integer.parseInt(p.trim());
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new UnsatisfiedLinkError("-Dpanmax.blas.threads=" + p + " is not a thread count >= 1");
        }
        return System.getenv(VARIABLE) != null ? 0 : 1;
    }

    /** Loads libpanmax (and with it OpenBLAS) with the wanted thread count; returns where it came from. */
    static String load() {
        int n = wanted();
        if (n == 0) {
            return NativeLoader.load();
        }
        String before = System.getenv(VARIABLE);
        boolean set = setenv(VARIABLE, Integer.toString(n));
        String origin;
        try {
            origin = NativeLoader.load();
        } finally {
            if (set) {
                if (before == null) {
                    unsetenv(VARIABLE);
                } else {
                    setenv(VARIABLE, before);
                }
            }
        }
        try {
            org.panmax.bindings.panmax_h.panmax_set_blas_threads(n);
        } catch (Throwable ignored) {
            // an older library without the function: the environment variable did the work
        }
        return origin;
    }

    private static boolean setenv(String name, String value) {
        try (Arena a = Arena.ofConfined()) {
            MethodHandle h = libc("setenv", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            return h != null && (int) h.invokeExact(a.allocateFrom(name), a.allocateFrom(value), 1) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    private static void unsetenv(String name) {
        try (Arena a = Arena.ofConfined()) {
            MethodHandle h = libc("unsetenv", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            if (h != null) {
                int ignored = (int) h.invokeExact(a.allocateFrom(name));
            }
        } catch (Throwable ignored) {
            // the variable stays; harmless
        }
    }

    private static MethodHandle libc(String name, FunctionDescriptor d) {
        Linker l = Linker.nativeLinker();
        MemorySegment f = l.defaultLookup().find(name).orElse(null);
        return f == null ? null : l.downcallHandle(f, d);
    }
}
