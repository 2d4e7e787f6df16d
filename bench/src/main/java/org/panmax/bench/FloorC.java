package org.panmax.bench;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The "floor-c2pass" contender of {@link SoftmaxBenchmark}: bench/native/floor.c, a minimal two-pass AVX2+FMA
 * softmax (max; exp stored and summed; scale), called through critical downcalls over the benchmark's segments
 * (heap segments of the float[]/double[] with memory=heap, as the "raw-critical" contender). It says what the same
 * call boundary costs with the simplest competent kernel behind it.
 *
 * <p>bench/pom.xml compiles floor.c into the jar (floor/linux-x86_64/libpanmax_floor.so) on x86-64 only; it is
 * extracted to a temporary file (deleted once loaded) and looked up with {@code SymbolLookup.libraryLookup}.
 * Where the library is absent (another platform) or the CPU or OS lacks AVX2/FMA ({@code floor_cpu_ok}, CPUID and
 * XCR0, compiled without AVX), {@link #SOFTMAX_F32} and {@link #SOFTMAX_F64} are null and {@link #UNAVAILABLE}
 * says why; the benchmark then refuses the contender with that message instead of crashing on an illegal
 * instruction, and the suites in the CLI leave it out on CPUs without AVX2.
 */
final class FloorC {
    private FloorC() {}

    static final String RESOURCE = "/floor/linux-x86_64/libpanmax_floor.so";

    /** (const float *x, float *y, int64_t rows, int64_t cols), critical; null when {@link #UNAVAILABLE} is set. */
    static final MethodHandle SOFTMAX_F32;
    /** (const double *x, double *y, int64_t rows, int64_t cols), critical; null when {@link #UNAVAILABLE} is set. */
    static final MethodHandle SOFTMAX_F64;
    /** Why the floor cannot run here, or null. */
    static final String UNAVAILABLE;

    static {
        MethodHandle f32 = null;
        MethodHandle f64 = null;
        String why = null;
        try {
            SymbolLookup lib = load();
            FunctionDescriptor d = FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG);
            f32 = Linker.nativeLinker().downcallHandle(lib.findOrThrow("floor_softmax_f32"), d, Linker.Option.critical(true));
            f64 = Linker.nativeLinker().downcallHandle(lib.findOrThrow("floor_softmax_f64"), d, Linker.Option.critical(true));
        } catch (Unavailable e) {
            why = e.getMessage();
        } catch (IOException e) {
            why = "floor-c2pass: could not extract " + RESOURCE + ": " + e;
        }
        SOFTMAX_F32 = f32;
        SOFTMAX_F64 = f64;
        UNAVAILABLE = why;
    }

    /** Why the floor cannot run here. */
    private static final class Unavailable extends Exception {
        Unavailable(String why) {
            super(why, null, false, false);
        }
    }

    /** Extracts and loads the library, and asks it whether this CPU and OS run AVX2 and FMA. */
    private static SymbolLookup load() throws IOException, Unavailable {
        String os = System.getProperty("os.name");
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new Unavailable("floor-c2pass is an x86-64 Linux AVX2 kernel; this is " + os + " " + arch);
        }
        SymbolLookup lib;
        try (InputStream in = FloorC.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new Unavailable("floor-c2pass: " + RESOURCE + " is not in benchmarks.jar (bench/pom.xml builds it"
                        + " with cc on x86-64)");
            }
            Path tmp = Files.createTempFile("panmax-floor", ".so");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                lib = SymbolLookup.libraryLookup(tmp, Arena.global());
            } catch (IllegalArgumentException e) {
                throw new Unavailable("floor-c2pass: cannot load " + tmp + " (" + e.getMessage() + "); is "
                        + tmp.getParent() + " mounted noexec? -Djava.io.tmpdir picks another directory");
            } finally {
                Files.deleteIfExists(tmp); // mapped once loaded: the file is no longer needed
            }
        }
        MethodHandle ok = Linker.nativeLinker().downcallHandle(lib.findOrThrow("floor_cpu_ok"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
        int yes;
        try {
            yes = (int) ok.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("floor_cpu_ok failed", t);
        }
        if (yes == 0) {
            throw new Unavailable("floor-c2pass needs AVX2 and FMA (with the OS saving YMM state); this CPU or OS lacks them");
        }
        return lib;
    }

    /** Throws with {@link #UNAVAILABLE}'s reason when the floor cannot run here. */
    static void require() {
        if (UNAVAILABLE != null) {
            throw new UnsupportedOperationException(UNAVAILABLE);
        }
    }
}
