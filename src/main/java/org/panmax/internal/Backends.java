package org.panmax.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The backends present in this JVM, best first. Decided once, on first use (holder idiom): the
 * native library is loaded (one instance per ISA the CPU has), then the pure-Java backends ("java-vector"
 * when the Vector API module is present, "java-scalar"). The benchmark variant "java-vector-libexp" is not
 * listed: {@link #byName} builds it when asked for by name ({@link JavaVectorSupport#createLibraryExp()}).
 */
public final class Backends {
    private Backends() {}

    private static final class Holder {
        static final List<Kernels> ALL = discover();
    }

    private static List<Kernels> discover() {
        List<Kernels> all = new ArrayList<>();
        all.addAll(NativeBackends.kernels());
        if (JavaVectorSupport.available()) {
            all.add(JavaVectorSupport.create());
        }
        all.add(JavaKernels.scalar());
        return List.copyOf(all);
    }

    /** Every usable backend, best first. */
    public static List<Kernels> available() {
        return Holder.ALL;
    }

    /** The backend used by default: the first of {@link #available()}. */
    public static Kernels best() {
        return Holder.ALL.get(0);
    }

    /** The benchmark variant's name: built on request by {@link #byName}, never listed or chosen by default. */
    static final String LIBRARY_EXP = "java-vector-libexp";

    /** The one instance of the benchmark variant, made on first request. */
    private static final class LibraryExp {
        static final Kernels K = JavaVectorSupport.createLibraryExp();
    }

    /**
     * The backend with this name, if present; also {@code "java-vector-libexp"} (the Vector API backend with the
     * JDK's float exp, a benchmark variant) when the Vector API is, although {@link #available()} does not list it.
     */
    public static Optional<Kernels> byName(String name) {
        for (Kernels k : Holder.ALL) {
            if (k.name().equals(name)) {
                return Optional.of(k);
            }
        }
        if (LIBRARY_EXP.equals(name) && JavaVectorSupport.available()) {
            return Optional.of(LibraryExp.K);
        }
        return Optional.empty();
    }
}
